"""A study's group phrases: what another group says in its own language is no difference."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

import numpy as np

from themescope.corpus.themes import (
    N_GROUP_PHRASES,
    MatchedPhrases,
    _across_languages,
    match_group_phrases,
)
from themescope.themes.base import PhraseEmbedder
from themescope.themes.gloss import make_glosser
from themescope.themes.phrase_match import SAME_MEANING_SIMILARITY


def _listed(*texts: str) -> list[tuple[str, float, int]]:
    """Phrases a group says more than the others (z from 1.645), best first, each 5 times."""
    return [(text, 3.0 - 0.1 * i, 5) for i, text in enumerate(texts)]


def test_translations_are_said_by_both_and_the_distinct_phrases_kept(
    embedder: PhraseEmbedder,
) -> None:
    glosser = make_glosser("en")
    assert glosser is not None
    candidates = [
        {
            "A": _listed("immunity", "symptoms", "nurses", "stock market"),
            "B": _listed("免疫", "症状", "护理", "山火"),  # immunity, symptom, nursing, wildfire
        },
        {"A": _listed("election", "budget"), "B": _listed("选举", "外交官")},  # -, diplomat
    ]
    matched = match_group_phrases(candidates, [("A", "B")], embedder, glosser.gloss)

    assert matched.matched
    assert matched.says_more[0] == {"A": [("stock market", 2.7, 5)], "B": [("山火", 2.7, 5)]}
    both = [
        (pair.groups, pair.phrases[0][0], pair.phrases[1][0]) for pair in matched.said_by_both[0]
    ]
    assert sorted(both) == [
        (("A", "B"), "immunity", "免疫"),
        (("A", "B"), "nurses", "护理"),
        (("A", "B"), "symptoms", "症状"),
    ]
    assert all(pair.similarity >= SAME_MEANING_SIMILARITY for pair in matched.said_by_both[0])
    assert [(p.phrases[0][0], p.phrases[1][0]) for p in matched.said_by_both[1]] == [
        ("election", "选举")
    ]
    assert matched.says_more[1] == {"A": [("budget", 2.9, 5)], "B": [("外交官", 2.9, 5)]}


def test_what_the_other_group_says_without_saying_it_more_is_no_difference_either(
    embedder: PhraseEmbedder,
) -> None:
    """B says 免疫 three times, not more than A says anything: A's immunity is no difference."""
    glosser = make_glosser("en")
    assert glosser is not None
    own = ["stock market", "interest rates", "inflation", "exports", "budget", "profit"]
    own += ["investors", "unemployment", "bank"]
    candidates = [{"A": _listed("immunity", *own), "B": [("山火", 2.0, 5), ("免疫", 1.0, 3)]}]
    matched = match_group_phrases(candidates, [("A", "B")], embedder, glosser.gloss)

    # the list fills up from A's other phrases; 免疫 was never one B says more
    assert [text for text, _, _ in matched.says_more[0]["A"]] == own[:N_GROUP_PHRASES]
    assert matched.says_more[0]["B"] == [("山火", 2.0, 5)]
    assert [p.phrases for p in matched.said_by_both[0]] == [
        (("immunity", 3.0, 5), ("免疫", 1.0, 3))
    ]


class _EnglishOnly(PhraseEmbedder):
    """An embedder whose name says it knows one language; it must never be asked."""

    name = "all-MiniLM-L6-v2"

    def embed(self, phrases: Sequence[str]) -> np.ndarray:
        raise AssertionError("a monolingual embedder must not match phrases across languages")


def _match(langs: dict[str, list[str]]) -> tuple[MatchedPhrases, list[str]]:
    warnings: list[str] = []
    candidates = [{"A": [*_listed("immunity"), ("week", 1.0, 4)], "B": _listed("免疫")}]
    describer = SimpleNamespace(embedder=_EnglishOnly(), glosser=None)
    writer = SimpleNamespace(warn=warnings.append)
    return _across_languages(candidates, langs, describer, writer), warnings  # type: ignore[arg-type]


def test_a_monolingual_embedder_matches_nothing_and_the_study_says_so() -> None:
    matched, warnings = _match({"A": ["en"], "B": ["zh"]})

    assert not matched.matched and matched.said_by_both == [[]]
    # each group's list is what it says more, as before matching
    assert matched.says_more == [{"A": [("immunity", 3.0, 5)], "B": [("免疫", 3.0, 5)]}]
    assert warnings == [
        "the groups speak different languages but their phrases are not matched across them: "
        "all-MiniLM-L6-v2 is treated as monolingual: its name does not contain any of "
        "multilingual, labse, distiluse; a group's phrases may be the others' in translation"
    ]


def test_groups_of_one_language_are_left_to_the_log_odds() -> None:
    matched, warnings = _match({"A": ["en"], "B": ["en"]})

    assert not matched.matched and warnings == []
    assert matched.says_more == [{"A": [("immunity", 3.0, 5)], "B": [("免疫", 3.0, 5)]}]
