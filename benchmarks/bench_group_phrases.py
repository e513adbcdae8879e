"""Benchmark of a study's group phrases across languages: translations before and after matching.

The generator's two-group corpus speaks the same topics in two languages (group A
English, group B Chinese, every topic's words translated one to one), so a group
phrase whose words the other group says too, in its own language, is language and
not framing. Each group's subtitles are cut by the generator's true theme (no model:
only the group-phrase step is measured), and for every theme:

- before: each group's top phrases by weighted log-odds against the other group
  (``stats.group_phrases``, as the study listed them);
- after: the phrases each group says (more or not) matched by meaning across the
  languages (``match_group_phrases``, the rule ``themescope compare`` uses): a top
  phrase the other group says too leaves the list and is kept as "said by both".

The generator draws both languages' words of a topic alike, so no group frames a
topic differently: a phrase counts as a translation when every topic word in it has
its translation said at least twice by the other group in that theme. Printed per theme and group:
how many top phrases are translations before and after, and how many "said by
both" pairs are true translations of each other (the same topic words).

Usage::

    python benchmarks/bench_group_phrases.py [--out bench-out] [--per-group 6] [--minutes 4]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path


def corpus(out: Path, per_group: int, minutes: float) -> Path:
    """Generate the two-group corpus once (tiny pictures: only the subtitles are read)."""
    from themescope.synthetic import generate_corpus

    folder = out / f"group-phrases-{per_group}x{minutes:g}min"
    manifest = folder / "corpus.csv"
    if not manifest.is_file():
        generate_corpus(
            folder,
            n_per_group=per_group,
            duration_s=60.0 * minutes,
            width=160,
            height=90,
            fps=5,
            preset="ultrafast",
        )
    return manifest


def passages(manifest: Path) -> tuple[dict[int, dict[str, list[str]]], dict[str, str]]:
    """Per true theme, per group, the subtitle cues spoken during it; each group's language."""
    from themescope.corpus.spec import read_corpus
    from themescope.media.transcripts.files import read_transcript
    from themescope.synthetic import read_truth

    by_theme: dict[int, dict[str, list[str]]] = {}
    langs: dict[str, str] = {}
    for video in read_corpus(manifest).videos:
        assert video.subtitles is not None
        truth = read_truth(video.video.with_suffix(".truth.csv"))
        langs[video.group] = video.lang or "und"
        for cue in read_transcript(video.subtitles, duration_s=float(len(truth))).cues:
            theme = int(truth[min(int((cue.start_s + cue.end_s) / 2), len(truth) - 1)])
            by_theme.setdefault(theme, {}).setdefault(video.group, []).append(cue.text)
    return by_theme, langs


ENGLISH_COMPOUNDS = ("press conference", "interest rates", "united nations")
"""Two English words the generator's lists translate as one Chinese word (记者会, 利率, 联合国)."""


def items(words: str) -> list[str]:
    """A theme's English word list as translation items, its compounds kept whole."""
    for compound in ENGLISH_COMPOUNDS:
        words = words.replace(compound, compound.replace(" ", "_"))
    return [item.replace("_", " ") for item in words.split()]


def topic_words(phrase: str, vocabulary: dict[str, int]) -> list[int]:
    """The topic words of a phrase, as their index in the generator's word lists."""
    if re.search(r"[\u4e00-\u9fff]", phrase):
        found, rest = [], phrase.replace(" ", "")
        while rest:  # the longest dictionary word at each place
            word = next((rest[:n] for n in range(len(rest), 0, -1) if rest[:n] in vocabulary), "")
            if word:
                found.append(vocabulary[word])
            rest = rest[len(word) or 1 :]
        return found
    return [vocabulary[w] for w in phrase.lower().split() if w in vocabulary]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--per-group", type=int, default=6)
    parser.add_argument("--minutes", type=float, default=4.0)
    args = parser.parse_args()

    from themescope.corpus import stats
    from themescope.corpus.themes import N_GROUP_PHRASES, SAID_PHRASES, match_group_phrases
    from themescope.synthetic import _THEME_NAMES, _WORDS_EN, _WORDS_ZH
    from themescope.themes.embedders import load_embedder
    from themescope.themes.gloss import make_glosser

    by_theme, langs = passages(corpus(args.out, args.per_group, args.minutes))
    groups = sorted(langs)
    embedder, glosser = load_embedder(None), make_glosser("en")
    assert glosser is not None
    word_lists = {"en": [items(w) for w in _WORDS_EN], "zh": [w.split() for w in _WORDS_ZH]}
    vocabulary = {
        word: i
        for lists in word_lists.values()
        for theme_items in lists
        for i, item in enumerate(theme_items)
        for word in item.split()
    }

    themes = sorted(by_theme)
    texts = [by_theme[t] for t in themes]
    started = time.perf_counter()
    before = [stats.group_phrases(t, langs, n=N_GROUP_PHRASES) for t in texts]
    candidates = [stats.group_phrases(t, langs, n=SAID_PHRASES, min_z=-float("inf")) for t in texts]
    listed_s = time.perf_counter() - started
    started = time.perf_counter()
    after = match_group_phrases(candidates, [(groups[0], groups[1])], embedder, glosser.gloss)
    matched_s = time.perf_counter() - started

    def translated(phrase: str, group: str, theme: int, t: int) -> bool:
        """Whether the other group says every topic word of the phrase, in its language."""
        other = next(g for g in groups if g != group)
        said = " ".join(texts[t].get(other, [])).lower()
        words = topic_words(phrase, vocabulary)
        theirs = word_lists["zh" if langs[other].startswith("zh") else "en"][theme]
        # a word the other language's list has no item for (改革) has no translation
        return bool(words) and all(i < len(theirs) and said.count(theirs[i]) >= 2 for i in words)

    print(f"{len(themes)} true themes, groups {', '.join(f'{g} ({langs[g]})' for g in groups)}")
    print(
        f"{'theme':<10}{'group':>6}{'top':>5}{'transl. before':>16}{'after':>7}{'pairs':>7}"
        f"{'true pairs':>12}"
    )
    totals = [0, 0, 0, 0, 0]
    for t, theme in enumerate(themes):
        pairs = after.said_by_both[t]
        true_pairs = sum(
            1
            for p in pairs
            if set(topic_words(p.phrases[0][0], vocabulary))
            == set(topic_words(p.phrases[1][0], vocabulary))
            != set()
        )
        for group in groups:
            old = [text for text, _, _ in before[t].get(group, [])]
            new = [text for text, _, _ in after.says_more[t].get(group, [])]
            n_old = sum(translated(p, group, theme, t) for p in old)
            n_new = sum(translated(p, group, theme, t) for p in new)
            first = group == groups[0]
            print(
                f"{_THEME_NAMES[theme]:<10}{group:>6}{len(old):>5}{n_old:>16}{n_new:>7}"
                f"{len(pairs) if first else '':>7}{true_pairs if first else '':>12}"
            )
            totals[0] += len(old)
            totals[1] += n_old
            totals[2] += n_new
            totals[3] += len(pairs) if first else 0
            totals[4] += true_pairs if first else 0
        for p in pairs[:4]:
            print(f"{'':<16}both say: {p.phrases[0][0]} ↔ {p.phrases[1][0]} ({p.similarity:.2f})")
    print(
        f"\nall themes: {totals[1]} of {totals[0]} top phrases were translations of the other "
        f"group's before, {totals[2]} after; {totals[4]} of {totals[3]} 'said by both' pairs are "
        f"true translations; listing {listed_s:.1f} s, matching {matched_s:.1f} s"
    )


if __name__ == "__main__":
    main()
