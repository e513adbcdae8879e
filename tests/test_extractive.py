"""The extractive tagger, the phrase tokenizing and the evidence of phrases."""

from __future__ import annotations

import numpy as np
import pytest

from themescope.media.language import phrase_language
from themescope.themes.base import Phrase, ThemeMaterial, ThemePhrases
from themescope.themes.candidates import extract, keep_recurring, nested_counts
from themescope.themes.evidence import attach_evidence
from themescope.themes.extractive import ExtractiveTagger
from themescope.themes.facets import facets, theme_label
from themescope.themes.people import find_names
from themescope.themes.text import contains_phrase

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def material(theme_id, texts, captions=None, lang="en", first=0):
    n = len(texts)
    return ThemeMaterial(theme_id, list(range(first, first + n)), texts, captions or [""] * n, lang)


VACCINE = [
    "The nurse gives the first dose of the vaccine at the clinic.",
    "People wait in line at the pharmacy for a booster shot.",
    "A nurse prepares the syringe with the vaccine dose.",
    "Appointments for the booster are open at every pharmacy.",
    "The clinic reports that the vaccine supply is steady.",
    "Doctors say the booster dose protects older patients.",
]
POLITICS = [
    "The senator spoke in congress about the relief bill.",
    "Lawmakers in the committee voted on the bill today.",
    "The senator and the governor debated the budget.",
    "Congress passed the relief bill after a long debate.",
    "The committee chairman criticised the governor.",
    "Lawmakers expect another vote on the budget next week.",
]


def candidates(text, lang="en", names=()):
    return {
        " ".join(k) if lang == "en" else "".join(k)
        for k in extract([text], lang, set(names)).counts
    }


def test_english_candidates_skip_stop_words_and_clauses():
    phrases = candidates("Uh, the new vaccine is safe, and the booster dose works.")
    assert "new vaccine" in phrases and "booster dose" in phrases
    assert all(word not in {"the", "is", "and", "uh"} for p in phrases for word in p.split())
    assert "vaccine safe" not in phrases  # never across a removed stop word
    assert "safe booster" not in phrases  # never across a comma
    assert "bill" in candidates("The bill passed")  # a content word in sklearn's list
    assert "department of health" in candidates("The department of health said so.")
    assert "line today" not in candidates("The line today is long.")  # no NP ends in "today"
    assert "digital rural" not in candidates("Digital rural development grows.")  # nor "rural"


def test_phrases_split_over_frames_are_found_whole(embedder):
    # the window alignment gives each frame a piece of a cue
    texts = ["People want booster", "shots now.", "Booster", "shots are free."]
    result = ExtractiveTagger(embedder, seed=0).tag(
        [material(0, texts), material(1, POLITICS, first=10)]
    )
    assert result[0].phrases[0].text == "booster shots"


def test_a_recurring_unit_beats_its_parts():
    counts = extract(
        ["Booster shots now. Booster shots later. A booster, then booster shots."], "en", set()
    ).counts
    scores = nested_counts(counts)
    assert scores[("booster", "shot")] > scores[("booster",)] > 0
    assert scores[("shot",)] == 0  # said only inside "booster shots"


def test_readings_channels_and_adverbs_are_no_english_candidates():
    phrases = candidates("Wind SSW 27-37 km. CTV. Global News. Currently Toronto flurries.")
    assert not {"ssw 27-37 km", "ssw 27-37", "ctv", "global news", "currently toronto"} & phrases
    assert {"wind ssw", "toronto"} <= phrases
    assert "global warming" in candidates("Global warming is here.")
    assert "honoured" not in candidates("He will be honoured for his work.")
    opening = candidates("Mm-hmm, good evening, dear viewers. Today's programme: flood relief.")
    assert not {"mm-hmm", "good evening", "dear viewers", "today's", "today"} & opening
    assert "flood relief" in opening


def test_chinese_candidates_are_jieba_words_and_compounds():
    phrases = candidates("我们今天接种了新冠疫苗，老年人也很安全。", "zh")
    assert "疫苗" in phrases and "新冠疫苗" in phrases and "老年人" in phrases
    assert not any(p in {"，", "。", "的", "了", "我们"} for p in phrases)
    assert phrase_language(["新冠疫苗", "接种"], "und") == "zh"
    assert phrase_language(["a vaccine"], "und") == "und"


def test_chinese_compounds_kept_and_fillers_dropped():
    phrases = candidates("接种加强针的话，是不是会出现不良反应？另外，加快建设产业集群。", "zh")
    assert {"加强针", "不良反应", "产业集群"} <= phrases
    assert not phrases & {"的话", "是不是", "另外", "出现", "加快建设"}


def test_chinese_phrases_are_whole_units():
    text = (
        "我们要做好老年人疫苗接种工作。新冠肺炎病死率相对来说比较高。"
        "湖北省武汉市汉阳区龙阳街社区卫生服务中心的医生说，主持人劳春燕报道。"
        "社区卫生服务中心主任崔钢国家卫健委专家表示，要确保群众安全。"
        "新建西宁至成都铁路，建设迈出重大步伐，各具特色。"
    )
    names = set(find_names([text], "zh"))
    phrases = candidates(text, "zh", names)
    # Cut from a longer unit, an adverbial set phrase, a name with its role.
    cut = {"做好老年人", "做好老年人疫苗", "病死率相对来说", "相对来说", "龙阳街社区卫生"}
    cut |= {"主持人劳春燕", "崔钢国家", "确保群众", "西宁至", "建设迈出", "各具特色"}
    assert not phrases & cut
    whole = {"疫苗接种", "老年人疫苗接种", "新冠肺炎病死率", "社区卫生服务中心", "国家卫健委"}
    assert whole | {"迈出重大步伐", "卫健委"} <= phrases
    assert "加强针" in candidates("接种加强针", "zh")  # jieba tags 针 a preposition there
    assert "八号" not in candidates("当地时间八号，美国总统表示", "zh")  # a date, tagged a noun
    assert not any(p.endswith("暨") for p in candidates("中国人民抗日战争暨世界反法西斯战争", "zh"))
    # A verb's object goes on after 之 or an enumeration comma.
    assert not {"感知生态", "把握数字化"} & candidates("感知生态之变，要把握数字化、网络化", "zh")


def test_a_subject_and_its_predicate_is_no_phrase():
    phrases = candidates("农业增效益、农村增活力，农民增收入。农村增活力。", "zh")
    assert "农村增活力" not in phrases
    assert {"农村", "活力"} <= phrases
    assert "老年人疫苗接种" in candidates("老年人疫苗接种。老年人疫苗接种。", "zh")


def test_a_verb_used_as_a_noun_qualifies_the_noun_after_it():
    text = "七里河区民兵应急连组成突击队。七里河区民兵应急连党员赶来救援。"
    phrases = candidates(text, "zh")
    assert "七里河区民兵应急" not in phrases
    assert "民兵应急连" in phrases


def test_a_name_jieba_guesses_is_no_phrase():
    # 朱桓 is speech recognition's 朱鹮 (crested ibis): a surname and a character jieba
    # lacks, tagged a name; 安吉 (a county) is a name in its dictionary and stays.
    phrases = candidates("稻农们在稻田里为朱桓留下觅食空间。浙江安吉开始。", "zh")
    assert "朱桓" not in phrases
    assert {"安吉", "稻田"} <= phrases


def test_a_pause_ends_a_chinese_phrase():
    assert "绿水青山金山银山" not in candidates("今年是绿水青山 金山银山理念提出", "zh")


FILLER_EN = [
    "The new booster shots are good, far better, and they help.",
    "Indoor masking is new again, and booster shots help a lot, so far so good.",
    "Good news: indoor masking and booster shots help, doctors say, the new rules far from over.",
    "New booster shots help; good indoor masking helps too.",
]


def test_common_words_never_rank_however_frequent(embedder):
    results = ExtractiveTagger(embedder, seed=0).tag(
        [material(0, FILLER_EN), material(1, POLITICS, first=10)]
    )
    texts = [p.text for p in results[0].phrases]
    assert texts[:2] == ["booster shots", "indoor masking"] or texts[:2] == [
        "indoor masking",
        "booster shots",
    ]
    assert not {"new", "good", "far", "help", "news"} & {w for t in texts for w in t.split()}


def test_chinese_fillers_never_rank(embedder):
    a = ["老年人接种加强针的话，是不是会出现不良反应？", "另外，加强针出现不良反应的话怎么办？"] * 2
    b = ["国会今天讨论了新的法案，是不是？", "另外，参议员的话，反对这个法案。"] * 2
    results = ExtractiveTagger(embedder, seed=0).tag(
        [material(0, a, lang="zh"), material(1, b, lang="zh", first=10)]
    )
    texts = [p.text for r in results for p in r.phrases]
    assert "加强针" in texts and "不良反应" in texts
    assert not set(texts) & {"的话", "是不是", "另外", "出现"}


def test_names_go_to_people_not_phrases(embedder):
    vaccine = [
        *VACCINE,
        "I'm Dana Kessler. Dr. Ashish Jha says the booster works.",
        "CBS's Jan Crawford reports from the clinic, Dr. Jha said.",
    ]
    results = ExtractiveTagger(embedder, seed=0).tag(
        [material(0, vaccine), material(1, POLITICS, first=20)]
    )
    assert set(results[0].people) == {"dana kessler", "ashish jha", "jan crawford"}
    words = {w for p in results[0].phrases for w in p.text.split()}
    assert not words & {"dana", "kessler", "ashish", "jha", "jan", "crawford"}
    assert results[1].people == []


def test_an_introduction_cut_between_two_themes_still_names_the_person(embedder):
    # Broadcast captions run on over frame boundaries: "... HIS" ends a frame of one theme
    # and "NAME IS RANDY LENNOX." opens the next frame, which belongs to another theme.
    social = [
        "OUR PRESIDENT OF BROADCASTING AND CONTENT FOR BELL MEDIA, HIS",
        "THE JUNO AWARDS GALA IS THIS WEEK. THE JUNO AWARDS GALA HONOURS MUSIC.",
    ]
    sports = [
        "NAME IS RANDY LENNOX. HE IS A LEGEND IN THE MUSIC INDUSTRY.",
        "LENNOX WILL BE HONOURED. THE HOCKEY PLAYER SCORED GOALS FOR THE MAPLE LEAFS.",
    ]
    themes = [
        ThemeMaterial(0, [0, 2], social, ["", ""], "en"),
        ThemeMaterial(1, [1, 3], sports, ["", ""], "en"),
    ]
    results = ExtractiveTagger(embedder, seed=0).tag(themes)
    assert results[1].people == ["randy lennox"]
    words = {w for r in results for p in r.phrases for w in p.text.split()}
    assert not words & {"randy", "lennox"}


def test_people_in_upper_case_captions_and_chinese():
    assert set(find_names(["DR. DANA SMITH SAYS SO. I'M GLAD. I'M GLENN HEALY."], "en")) == {
        "dana smith",
        "glenn healy",
    }
    # in mixed case a capitalised name with a rare surname counts; places do not
    assert set(find_names(["Today Dana Bash met voters in New York and Los Angeles."], "en")) == {
        "dana bash"
    }
    names = find_names(["国家卫健委专家王华庆介绍，习近平总书记强调。绿水青山就是金山银山。"], "zh")
    assert set(names) == {"王华庆", "习近平"}


def test_facets_common_phrases_and_distinct_tops(embedder):
    shared = "老年人接种新冠疫苗。"
    themes = [
        material(0, [shared, "加强针很安全。", "接种加强针。", shared], lang="zh"),
        material(1, [shared, "不良反应很少。", "出现不良反应。", shared], lang="zh", first=10),
        material(2, [shared, "接种点排起长队。", "社区接种点。", shared], lang="zh", first=20),
    ]
    result = facets(ExtractiveTagger(embedder, seed=0).tag(themes, 5), 5, themes)
    common = [p.text for p in result.common]
    assert "老年人" in common or any("老年人" in c for c in common)
    tops = [t.phrases[0].text for t in result.themes]
    assert len(set(tops)) == 3 and not set(tops) & set(common)
    assert all(len(t.phrases) <= 5 for t in result.themes)
    assert [t.label for t in result.themes] == tops


def test_everyday_words_every_theme_repeats_are_not_what_the_video_is_about(embedder):
    # The demo video said "week", "year" and "today" in every theme, 20 times each in its
    # 1000 words: keyness 1.3-1.8, enough to rank, and they were shown as "What the whole
    # video is about". Its subject, said as often, stands out from general language more.
    themes = [
        material(t, [f"Covid {text} this week, year after year, today." for text in texts])
        for t, texts in enumerate((VACCINE[:3], POLITICS[:3], VACCINE[3:]))
    ]
    result = facets(ExtractiveTagger(embedder, seed=0, n_spare=3).tag(themes, 3), 3, themes)
    assert [p.text for p in result.common] == ["covid"]


def test_facets_promotes_the_weaker_clashing_top():
    lists = [
        [Phrase("vaccine", 0.9), Phrase("nurse", 0.5)],
        [Phrase("vaccine", 0.4), Phrase("senator", 0.3)],
        [Phrase("storm", 0.8), Phrase("rain", 0.2)],
    ]
    results = [ThemePhrases(phrases=p, backend="test") for p in lists]
    out = facets(results, n_phrases=2)
    assert out.common == []
    assert [t.phrases[0].text for t in out.themes] == ["vaccine", "senator", "storm"]
    assert [p.text for p in results[1].phrases] == ["vaccine", "senator"]  # input unchanged


def test_label_prefers_a_matching_on_screen_headline():
    phrases = [Phrase("booster shots", 1.0), Phrase("omicron", 0.8)]
    screen = [("CBS NEWS", 40), ("SUMMER COVID SURGE", 5), ("BOOSTER SHOTS FOR ALL?", 3)]
    assert theme_label(phrases, screen) == "BOOSTER SHOTS FOR ALL?"
    assert theme_label(phrases, [("CBS NEWS", 40)]) == "Booster shots"
    assert theme_label([], []) is None


def test_on_screen_text_gives_candidates(embedder):
    themes = [
        ThemeMaterial(0, [0, 1], ["", ""], ["", ""], "en", on_screen=[("OMICRON SUBVARIANT", 2)]),
        material(1, POLITICS, first=5),
    ]
    result = ExtractiveTagger(embedder, seed=0).tag(themes)
    assert result[0].phrases[0].text == "omicron subvariant"
    assert result[0].label == "OMICRON SUBVARIANT"


def test_phrase_matching_is_token_level_for_english():
    assert contains_phrase("Vaccines arrived today.", "vaccine", "en")
    assert contains_phrase("The FIRST DOSE was given", "first dose", "en")
    assert not contains_phrase("She was vaccinated", "vaccine", "en")
    assert not contains_phrase("a scar on his arm", "car", "en")
    assert contains_phrase("新冠疫苗接种点", "疫苗", "zh")


def test_top_phrases_come_from_the_right_theme(embedder):
    results = ExtractiveTagger(embedder, seed=0).tag(
        [material(0, VACCINE), material(1, POLITICS, first=6)]
    )
    vaccine_words = {
        "nurse",
        "vaccine",
        "dose",
        "clinic",
        "pharmacy",
        "booster",
        "syringe",
        "shot",
        "appointments",
    }
    politics_words = {
        "senator",
        "congress",
        "bill",
        "lawmakers",
        "committee",
        "governor",
        "relief",
        "budget",
        "debate",
        "debated",
    }
    for result, own, other in (
        (results[0], vaccine_words, politics_words),
        (results[1], politics_words, vaccine_words),
    ):
        assert result.backend == "extractive"
        assert len(result.phrases) >= 10  # n_phrases plus spares for facets()
        texts = [p.text for p in result.phrases]
        assert set(texts[0].split()) <= own
        assert sum(1 for t in texts[:5] if set(t.split()) & own) >= 4
        assert not any(set(t.split()) & other for t in texts)
        scores = [p.score for p in result.phrases]
        assert max(scores) <= 1.0 and min(scores) > 0


def test_near_duplicates_are_merged(embedder):
    texts = [
        "covid vaccine covid vaccine",
        "covid vaccine here",
        "vaccines for covid",
        "the covid vaccine",
    ]
    result = ExtractiveTagger(embedder, seed=0).tag(
        [material(0, texts), material(1, ["storm and rain"], first=4)]
    )
    phrases = [p.text for p in result[0].phrases]
    # "covid", "vaccine" and "covid vaccine" contain one another: one survives
    assert sum(1 for p in phrases if p in {"covid", "vaccine", "covid vaccine", "vaccines"}) == 1
    assert len(phrases) == len(set(phrases))


def test_scarce_text_gives_fewer_phrases_and_no_text_none(embedder):
    results = ExtractiveTagger(embedder, seed=0).tag(
        [
            material(0, ["Storm warning."]),
            material(1, ["", ""], first=1),
            material(2, VACCINE, first=3),
        ]
    )
    assert 0 < len(results[0].phrases) < 10
    assert results[1].phrases == []
    assert len(results[2].phrases) >= 10


def test_captions_provide_text(embedder):
    captions = ["a man in a hospital bed", "a nurse next to a hospital bed", "a hospital corridor"]
    results = ExtractiveTagger(embedder, seed=0).tag(
        [material(0, ["", "", ""], captions), material(1, POLITICS, first=3)]
    )
    assert results[0].phrases and "hospital" in results[0].phrases[0].text


def test_chinese_theme(embedder):
    zh_a = material(
        0,
        ["新冠疫苗接种点排起了长队。", "护士为老年人接种新冠疫苗。", "疫苗接种很安全。"],
        lang="zh",
    )
    zh_b = material(
        1,
        ["国会今天讨论了新的法案。", "参议员反对这个法案。", "法案将在下周投票。"],
        lang="zh",
        first=3,
    )
    results = ExtractiveTagger(embedder, seed=0).tag([zh_a, zh_b])
    assert "疫苗" in results[0].phrases[0].text or "接种" in results[0].phrases[0].text
    assert "法案" in results[1].phrases[0].text
    assert all("法案" not in p.text for p in results[0].phrases)


def test_deterministic(embedder):
    themes = [material(0, VACCINE), material(1, POLITICS, first=6)]
    a = ExtractiveTagger(embedder, seed=3).tag(themes)
    b = ExtractiveTagger(embedder, seed=3).tag(themes)
    assert [[(p.text, p.score) for p in r.phrases] for r in a] == [
        [(p.text, p.score) for p in r.phrases] for r in b
    ]


def test_evidence_lexical_semantic_and_unsupported(embedder):
    theme = material(3, VACCINE, captions=["a nurse with a syringe", "", "", "", "", ""], first=10)
    phrases = [
        Phrase("booster", 0.9),
        Phrase("syringe", 0.8),
        Phrase("moon landing", 0.7),
        Phrase("vaccination", 0.6),
    ]
    out = attach_evidence(phrases, theme, embedder)
    booster, syringe, moon, vaccination = out
    assert booster.supported and booster.evidence.frame_ids == [11, 13, 15]
    assert booster.evidence.support == pytest.approx(0.5)
    assert booster.evidence.quotes[0] in VACCINE
    assert syringe.evidence.frame_ids == [10, 12] and syringe.evidence.captions == [
        "a nurse with a syringe"
    ]
    assert moon.supported is False and moon.evidence.frame_ids == [] and moon.evidence.support == 0
    # no literal "vaccination", but sentences about vaccines are semantically close: weaker support
    if vaccination.supported:
        assert 0 < vaccination.evidence.support <= 0.5
    # inputs are not modified
    assert phrases[0].evidence.frame_ids == []


def test_semantic_support_counts_half(embedder):
    theme = material(
        0, ["Hospitals are running out of intensive care beds.", "The weather is sunny."]
    )
    lexical_free = attach_evidence(
        [Phrase("hospital beds shortage", 1.0)], theme, embedder, semantic_threshold=0.5
    )[0]
    assert lexical_free.supported and lexical_free.evidence.frame_ids == [0]
    assert lexical_free.evidence.support == pytest.approx(0.25)
    without_embedder = attach_evidence([Phrase("hospital beds shortage", 1.0)], theme)[0]
    assert without_embedder.supported is False


def test_evidence_for_chinese_is_substring(embedder):
    theme = material(0, ["新冠疫苗接种点排起了长队。", "国会讨论法案。"], lang="zh")
    out = attach_evidence([Phrase("疫苗", 1.0)], theme)[0]
    assert out.evidence.frame_ids == [0] and out.evidence.support == pytest.approx(0.5)


def test_many_frames_are_fast_enough(embedder):
    rng = np.random.default_rng(0)
    words = np.array(
        ["vaccine", "nurse", "clinic", "dose", "booster", "pharmacy", "syringe", "line"]
    )
    texts = [" ".join(rng.choice(words, 6)) for _ in range(3000)]
    themes = [material(0, texts[:1500]), material(1, texts[1500:], first=1500)]
    results = ExtractiveTagger(embedder, seed=0).tag(themes)
    assert all(r.phrases for r in results)


def test_a_theme_of_long_texts_embeds_a_bounded_sample_for_its_centroid(embedder):
    class Counting:
        name = "counting"
        dim = embedder.dim

        def __init__(self):
            self.texts = []

        def embed(self, phrases):
            self.texts.extend(phrases)
            return embedder.embed(phrases)

    # every frame under one huge cue: the themes stage hands each frame up to 2,000 characters
    long_texts = [f"{' '.join(VACCINE)} {' '.join(POLITICS)} frame {i}" for i in range(40)]
    counting = Counting()
    tagger = ExtractiveTagger(counting, seed=0, max_centroid_chars=2_000)
    (result,) = tagger.tag([material(0, long_texts)])
    assert result.phrases
    centroid_texts = [t for t in counting.texts if t in long_texts]
    assert centroid_texts and sum(map(len, centroid_texts)) <= 2_000


def _supported(text, support, score=1.0):
    p = Phrase(text, score)
    p.evidence.support = support
    return p


def test_facets_settles_clashing_tops_by_support():
    lists = [
        [_supported("vaccine", 0.2, 0.9), _supported("nurse", 0.1)],
        [_supported("vaccine", 0.9, 0.1), _supported("clinic", 0.5)],
        [_supported("storm", 0.5)],
    ]
    out = facets([ThemePhrases(phrases=p, backend="test") for p in lists], n_phrases=2)
    assert out.unresolved == []
    # support outweighs the tagger's score: the theme whose frames say it keeps it
    assert [[p.text for p in t.phrases] for t in out.themes] == [
        ["nurse", "vaccine"],
        ["vaccine", "clinic"],
        ["storm"],
    ]
    single = [[_supported("storm", 0.5)], [_supported("storm", 0.1)], [_supported("rain", 0.5)]]
    out = facets([ThemePhrases(phrases=p, backend="test") for p in single])
    assert out.unresolved == [
        "themes 0 and 1 both lead with 'storm': theme 1 has no other phrase that no theme "
        "leads with"
    ]


def test_facets_ties_keep_the_earlier_theme():
    lists = [
        [Phrase("Vaccine", 1.0), Phrase("syringe", 0.9)],
        [Phrase("vaccine", 1.0), Phrase("nurse", 0.9), Phrase("clinic", 0.8)],
        [Phrase("nurse", 1.0), Phrase("storm", 0.9)],
    ]
    out = facets([ThemePhrases(phrases=p, backend="test") for p in lists])
    assert out.common == [] and out.unresolved == []
    # the later theme gives way, and takes no phrase another theme leads with
    assert [[p.text for p in t.phrases] for t in out.themes] == [
        ["Vaccine", "syringe"],
        ["clinic", "vaccine", "nurse"],
        ["nurse", "storm"],
    ]


def test_a_phrase_unsupported_somewhere_is_not_common():
    # a careless LLM gives every theme the same tags; evidence found "moon landing" nowhere
    def tags(moon_supported):
        return [Phrase("election", 1.0), Phrase("moon landing", 0.5, supported=moon_supported)]

    results = [ThemePhrases(phrases=tags(s), backend="test") for s in (True, False, True)]
    out = facets(results)
    assert [p.text for p in out.common] == ["election"]
    assert [[p.text for p in t.phrases] for t in out.themes] == [["moon landing"]] * 3


ELDERLY_ZH = [
    "老年人接种新冠疫苗可以降低重症风险。",
    "社区卫生服务中心为老年人接种疫苗。",
    "有基础性疾病的老年人更要接种疫苗。",
    "主持人劳春燕介绍老年人接种的情况。",
]


def test_a_name_strap_in_the_lower_third_gives_a_person_with_a_role_not_a_phrase(embedder):
    strap = "陈霞\n湖北省武汉市汉阳区龙阳街社区卫生服务中心"
    screens = ["", strap, strap, ""]
    theme = ThemeMaterial(
        0,
        [0, 1, 2, 3],
        ELDERLY_ZH,
        [""] * 4,
        "zh",
        on_screen=[("陈霞", 2), ("湖北省武汉市汉阳区龙阳街社区卫生服务中心", 2)],
        screen_texts=screens,
        strap_texts=screens,
    )
    other = material(1, ["天气预报说明天有雨。", "台风带来大风和降雨。"], lang="zh", first=10)
    result = ExtractiveTagger(embedder, seed=0).tag([theme, other])[0]
    assert set(result.people) == {"陈霞", "劳春燕"}
    assert result.roles == {"陈霞": "湖北省武汉市汉阳区龙阳街社区卫生服务中心", "劳春燕": "主持人"}
    assert not any("陈霞" in p.text or "劳春燕" in p.text for p in result.phrases)
    # neither the strap's name nor its role is the theme's title
    assert result.label not in {"陈霞", "湖北省武汉市汉阳区龙阳街社区卫生服务中心"}
    label = facets([result], 10, [theme]).themes[0].label
    assert label not in {"陈霞", "湖北省武汉市汉阳区龙阳街社区卫生服务中心"}


def test_a_name_shown_above_the_lower_third_is_no_strap(embedder):
    # the same lines as a headline at the top of the frame: no strap there
    theme = ThemeMaterial(
        0,
        [0, 1],
        ELDERLY_ZH[:2],
        ["", ""],
        "zh",
        on_screen=[("陈霞", 2)],
        screen_texts=["陈霞\n社区卫生服务中心"] * 2,
        strap_texts=["", ""],
    )
    other = material(1, ["天气预报说明天有雨。", "台风带来大风和降雨。"], lang="zh", first=10)
    assert ExtractiveTagger(embedder, seed=0).tag([theme, other])[0].people == []


def test_a_name_strap_or_a_sentence_is_no_label():
    phrases = [Phrase("社区卫生服务中心", 1.0), Phrase("疫苗接种", 0.8)]
    strap = [("陈霞 湖北省武汉市汉阳区龙阳街社区卫生服务中心", 9)]
    assert theme_label(phrases, strap, "zh") == "社区卫生服务中心"
    headline = "社区卫生服务中心 疫苗接种"
    assert theme_label(phrases, [(headline, 2)], "zh") == headline
    english = [Phrase("booster shots", 1.0)]
    strap_en = [("DR. DANA SMITH BOOSTER SHOTS EXPERT", 9)]
    assert theme_label(english, strap_en, people={"dana smith"}) == "Booster shots"
    assert theme_label(english, strap_en) == "DR. DANA SMITH BOOSTER SHOTS EXPERT"
    sentence = [("THE STATE SAYS BOOSTER SHOTS ARE NOW OPEN TO EVERY ADULT", 9)]
    assert theme_label(english, sentence) == "Booster shots"


def test_a_phrase_label_is_written_as_the_screen_or_the_transcript_writes_it():
    phrases = [Phrase("north bay", 1.0)]
    # A line too long for a title still writes the name.
    screen = [("Flurries tonight over North Bay, Sudbury and the rest of the north", 2)]
    assert theme_label(phrases, screen, spoken=["SNOW IN NORTH BAY TONIGHT"]) == "North Bay"
    spoken = ["North bay winds.", "Winds over North Bay and North Bay again."]
    assert theme_label(phrases, spoken=spoken) == "North Bay"
    # Upper-case captions say nothing about case: the first letter alone is capitalised.
    assert theme_label(phrases, spoken=["SNOW IN NORTH BAY TONIGHT"]) == "North bay"


def test_a_phrase_label_is_a_phrase_said_in_the_theme():
    phrases = [Phrase("virus immunity cases", 1.0), Phrase("bamboo forest", 0.5)]
    spoken = ["The bamboo forest of Anji."]
    assert theme_label(phrases, spoken=spoken) == "Bamboo forest"
    assert theme_label(phrases, spoken=["Nothing of either."]) == "Virus immunity cases"
    # Frames hold pieces of a cue: a Chinese phrase across two pieces is still said.
    zh = [Phrase("美丽中国建设", 1.0), Phrase("重大步伐", 0.5)]
    pieces = ["变化，美丽中国", "建设迈出重大步伐。"]
    assert theme_label(zh, lang="zh", spoken=pieces) == "美丽中国建设"


def test_facets_keeps_the_run_s_people_out_of_every_label():
    results = [
        ThemePhrases([Phrase("booster shots", 1.0)], "test", people=["dana smith"]),
        ThemePhrases([Phrase("storm", 1.0)], "test"),
    ]
    screens = [
        ThemeMaterial(0, [0], [""], [""], "en", on_screen=[("BOOSTER SHOTS", 1)]),
        ThemeMaterial(1, [1], [""], [""], "en", on_screen=[("DANA SMITH ON THE STORM", 4)]),
    ]
    out = facets(results, n_phrases=5, materials=screens)
    assert [t.label for t in out.themes] == ["BOOSTER SHOTS", "Storm"]


def test_a_headline_is_a_label_only_through_phrases_said_in_the_theme():
    phrases = [Phrase("unavoidable contact", 1.0), Phrase("official", 0.5)]
    graphic = [("OFFICIAL", 3)]
    # Not said: the graphic's word is a phrase through the screen alone.
    spoken = ["THE LEAGUE WOULD SAY THIS IS UNAVOIDABLE CONTACT"]
    assert theme_label(phrases, graphic, spoken=spoken) == "Unavoidable contact"
    assert theme_label(phrases, graphic, spoken=["AN OFFICIAL SAID SO"]) == "OFFICIAL"
    assert theme_label(phrases, graphic) == "OFFICIAL"  # image-only: the screen is all there is


def test_a_clock_read_onto_a_word_is_no_phrase():
    # OCR reads the "LIVE 12:17" bug as one token; the time after the word is a reading
    assert candidates("LIVE12:17") == {"live"}
    assert "covid19" in candidates("covid19 cases rise")  # digits in a word are its own


def test_the_station_naming_itself_is_no_chinese_phrase():
    assert candidates("新闻联播推出系列报道。新闻联播推出系列报道。", lang="zh") == set()
    assert candidates("新闻联播关注乡村振兴。", lang="zh") == {"乡村振兴", "乡村", "振兴"}


def test_a_word_english_does_not_know_is_quoted_in_its_setting_not_cut_out():
    caption = "HE WILL BE PRESENTED WITH THE WALT GREALIS SPECIAL ACHIEVEMENT AWARD AT A HUGE GALA."
    found = extract([caption], "en", set())
    keep_recurring([found], min_count=2)
    scores = nested_counts(found.counts)
    best = max(scores, key=lambda k: scores[k])
    assert found.surface(best) == "grealis special achievement award"
    assert scores[("greali",)] == 0  # the name's part alone is a cut word
    assert ("huge", "gala") not in found.counts  # a known word's phrase said once is no unit


def test_a_chinese_label_names_something_rather_than_a_lone_verb():
    phrases = [Phrase("不负", 1.0), Phrase("稻田", 0.8), Phrase("生态环境保护", 0.7)]
    assert theme_label(phrases, [], "zh") == "稻田"  # 不负 "to live up to" names nothing
    assert theme_label([Phrase("不负", 1.0)], [], "zh") == "不负"  # better than no label


def test_an_english_phrase_is_not_cut_where_its_noun_phrase_goes_on():
    phrases = candidates(
        "The important directives of general secretary Xi Jinping.", names=["xi jinping"]
    )
    assert "directives of general" not in phrases  # "general" is the title's first word
    assert "important directive" in phrases and "general secretary" in phrases  # plurals fold
    long = extract(["The walt grealis special achievement award happening."], "en", set())
    assert ("walt", "greali", "special", "achievement") not in long.counts  # "award" goes on
    assert ("greali", "special", "achievement", "award") in long.counts  # a verb follows


def test_a_possessive_ends_no_english_phrase():
    found = extract(["China's rural revitalization is China's goal."], "en", set())
    assert ("china",) not in found.counts  # "china's" owns what follows; it is no topic alone
    assert found.surface(("china", "rural", "revitalization")) == "china's rural revitalization"


def test_an_adjective_said_once_is_quoted_with_the_noun_the_run_repeats():
    caption = (
        "WAS THERE CONTACT TO THE HEAD? THE LEAGUE WOULD SAY THIS IS UNAVOIDABLE CONTACT. "
        "A TALLER PLAYER ON A SMALLER PLAYER."
    )
    found = extract([caption], "en", set())
    keep_recurring([found], min_count=2)
    scores = nested_counts(found.counts)
    assert scores[("unavoidable", "contact")] > 0 and scores[("unavoidable",)] == 0
    assert scores[("taller", "player")] > 0 and scores[("smaller", "player")] > 0
    assert ("league",) in found.counts  # "would" is no noun the run repeats
    verb = extract(["THE AWARD HAPPENING AT JUNO. SOMETHING HAPPENING NOW."], "en", set())
    keep_recurring([verb], min_count=2)
    assert ("award", "happening") not in verb.counts  # "happening" recurs, but as a verb
