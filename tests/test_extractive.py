"""The extractive tagger, the phrase tokenizing and the evidence of phrases."""

from __future__ import annotations

import numpy as np
import pytest

from themescope.media.language import phrase_language
from themescope.themes.base import Phrase, ThemeMaterial
from themescope.themes.embedders import load_embedder
from themescope.themes.evidence import attach_evidence
from themescope.themes.extractive import ExtractiveTagger
from themescope.themes.text import candidate_phrases, contains_phrase, distinct_top_phrases


@pytest.fixture(scope="module")
def embedder():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)  # the test machine is shared; one thread is faster there
    yield load_embedder(None)
    torch.set_num_threads(before)


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


def test_english_candidates_skip_stop_words_and_clauses():
    phrases = candidate_phrases("Uh, the new vaccine is safe, and the booster dose works.", "en")
    assert "new vaccine" in phrases and "booster dose" in phrases
    assert all(word not in {"the", "is", "and", "uh"} for p in phrases for word in p.split())
    assert "vaccine safe" not in phrases  # never across a removed stop word
    assert "safe booster" not in phrases  # never across a comma
    assert "bill" in candidate_phrases("The bill passed", "en")  # a content word in sklearn's list


def test_chinese_candidates_are_jieba_words_and_phrases():
    phrases = candidate_phrases("我们今天接种了新冠疫苗，老年人也很安全。", "zh")
    assert "疫苗" in phrases and "新冠疫苗" in phrases and "老年人" in phrases
    assert not any(p in {"，", "。", "的", "了", "我们"} for p in phrases)
    assert phrase_language(["新冠疫苗", "接种"], "und") == "zh"
    assert phrase_language(["a vaccine"], "und") == "und"


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
    }
    for result, own, other in (
        (results[0], vaccine_words, politics_words),
        (results[1], politics_words, vaccine_words),
    ):
        assert result.backend == "extractive"
        assert len(result.phrases) == 10
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
    assert len(results[2].phrases) == 10


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


def test_distinct_top_phrases_moves_the_less_specific():
    def phrase(text, support):
        p = Phrase(text, 1.0)
        p.evidence.support = support
        return p

    lists = [
        [phrase("vaccine", 0.2), phrase("nurse", 0.1)],
        [phrase("vaccine", 0.9), phrase("clinic", 0.5)],
    ]
    assert distinct_top_phrases(lists) == []
    assert [p.text for p in lists[0]] == ["nurse", "vaccine"]
    assert [p.text for p in lists[1]] == ["vaccine", "clinic"]
    single = [[phrase("storm", 0.5)], [phrase("storm", 0.1)]]
    assert "no other phrase" in distinct_top_phrases(single)[0]


def test_distinct_top_phrases_without_evidence_keeps_the_earlier_theme():
    lists = [
        [Phrase("Vaccine", 1.0), Phrase("nurse", 0.9)],
        [Phrase("vaccine", 1.0), Phrase("nurse", 0.9), Phrase("clinic", 0.8)],
        [Phrase("nurse", 1.0), Phrase("storm", 0.9)],
    ]
    assert distinct_top_phrases(lists) == []
    # the later theme gives way, and takes no phrase another theme leads with
    assert [[p.text for p in phrases] for phrases in lists] == [
        ["Vaccine", "nurse"],
        ["clinic", "vaccine", "nurse"],
        ["nurse", "storm"],
    ]
