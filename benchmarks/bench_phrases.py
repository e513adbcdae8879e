"""Benchmark of theme phrases on real transcripts: before and after, side by side.

Run from the repository root (needs ``../shared/data``, see its README)::

    python benchmarks/bench_phrases.py                   # both inputs
    python benchmarks/bench_phrases.py --input zh --segments 4 --minutes 12
    python benchmarks/bench_phrases.py --input names     # people's names, main and this checkout

Each transcript is cut into contiguous segments that stand in for themes (one
cue = one frame); the tagger sees them as a run's themes. Inputs:

zh
    A Xinwen Lianbo evening news transcript (Chinese speech recognition), the
    first ``--minutes`` of it cut into ``--segments`` equal segments.
en
    The verbatim closed captions (upper case) of the 11 Canadian broadcast clips,
    grouped by programme (weather, sports, talk show): three segments.

For every segment it prints the top five phrases of

- ``c-TF-IDF``: BERTopic's default representation, plain c-TF-IDF of unigrams
  (stop words removed), which is what the issue measured as "today";
- ``main``: the extractive tagger of the main checkout (``--main-src``), run in a
  subprocess, when that checkout is there;
- ``new``: this checkout's tagger followed by ``facets`` (label, people, common).

and the run-level common phrases, with the taggers' times and the machine load.

``--input cuts`` (also part of ``all``) measures cut Chinese phrases: every multi-word
candidate (:func:`~themescope.themes.candidates.extract`, kept when it recurs) of the
zh segments, from the main checkout and from this one, is looked up in the clauses of
the transcript, and an occurrence is *cut* when

- ``word``: its start or end falls inside a word of jieba's default cut of the clause
  (``jieba.lcut``, default dictionary);
- ``grammar``: it starts or ends in a function word or adverb (jieba flags u c d ad p
  f m q r t y, or a set phrase ending in a particle or adverb such as 相对来说);
- ``object``: it starts with a verb and the clause's next word is a noun or adjective
  (做好老年人 of 做好老年人疫苗接种);
- ``person``: it holds a name jieba tags as a person's (nr, nrfg, nrt) beside a role
  (主持人劳春燕, 李强总理).

A phrase is cut when most of its occurrences are. The table gives the share of cut
phrases per reason and examples.

``--input names`` (also part of ``all``) measures people's names instead: the names
:func:`~themescope.themes.people.find_names` finds in the CAIS captions (each clip one
passage) and in the English translations of two Xinwen Lianbo episodes (each one
run; the 20250811 "English" file is in Polish and is left out), from the main
checkout and from this one, checked against the people named in them
(:data:`PEOPLE`, read by hand): names found, people missed, and false names.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from themescope.embedding import load_embedder
from themescope.media.language import dictionary_flag, jieba_tagged, jieba_words, join_texts
from themescope.media.transcripts import read_transcript
from themescope.themes.base import ThemeMaterial
from themescope.themes.extractive import ExtractiveTagger
from themescope.themes.facets import facets
from themescope.themes.people import find_names
from themescope.themes.text import (
    BOUNDARY,
    STOP_WORDS_EN,
    STOP_WORDS_ZH,
    is_chinese,
    normalize,
    tokenize,
)

DATA = Path(__file__).resolve().parents[1].parent.parent / "shared" / "data"
PROGRAMMES = ("weather", "sports", "social")

_MAIN_SCRIPT = """
import json, sys
from themescope.themes.base import ThemeMaterial
from themescope.embedding import load_embedder
from themescope.themes.extractive import ExtractiveTagger
themes = [ThemeMaterial(**t) for t in json.load(sys.stdin)]
out = ExtractiveTagger(load_embedder(None), seed=0).tag(themes, n_phrases=5)
print(json.dumps([[p.text for p in r.phrases[:5]] for r in out], ensure_ascii=False))
"""


PEOPLE = {
    "cais": {"randy lennox", "denise andreacchi", "paul", "ken", "glenn", "walt grealis"},
    "20250809": {
        "xi jinping", "li qiang", "zhang guoqing", "putin", "trump", "zelenskyy",
        "viktor orbán", "lula", "bolsonaro", "gavin newsom", "abbas", "nabil abu rudeineh",
        "ushakov", "ngozi okonjo-iweala", "dianji diexina", "dengzeng dexi", "zuo quan",
        "li tianyou", "antónio guterres", "ahmed aboul gheit",
    },
    "20250810": {"xi jinping", "zhang zhemin", "kara sin"},
}  # fmt: skip
"""The people named in each input, read by hand (CAIS: all of them; Xinwen: every person
either checkout found, so "missed" there counts only those)."""

_NAMES_SCRIPT = """
import json, sys
from themescope.themes.people import find_names
runs = json.load(sys.stdin)
print(json.dumps({k: sorted(find_names(v, "en")) for k, v in runs.items()}, ensure_ascii=False))
"""


_CANDIDATES_SCRIPT = """
import json, sys
from themescope.themes.base import ThemeMaterial
from themescope.themes.candidates import extract, keep_recurring, theme_passages
themes = [ThemeMaterial(**t) for t in json.load(sys.stdin)]
out = [extract(theme_passages(m), m.lang, set()) for m in themes]
keep_recurring(out, 2)
print(json.dumps(sorted({c.surface(k) for c in out for k in c.counts if len(k) > 1}),
                 ensure_ascii=False))
"""

_GRAMMAR_FLAGS = frozenset("ucdpfmqrty")
_ROLES = frozenset(
    """
    记者 主持人 专家 教授 主任 书记 总书记 主席 总理 副总理 部长 局长 市长 省长 总统 发言人
    同志 先生 女士 医生 院士 代表 委员
    """.split()  # noqa: SIM905 - a word list reads best as words
)


def _grammar(word: str, flag: str) -> bool:
    if flag[0] in _GRAMMAR_FLAGS or flag == "ad":
        return True
    # A set phrase closed by a particle or adverb: 相对来说.
    return flag in ("l", "i") and (dictionary_flag(word[-2:]) or "x")[0] in "ud"


def cut_reasons(phrase: str, clause: str) -> list[set[str]]:
    """The reasons each occurrence of ``phrase`` in ``clause`` is cut (see the docstring)."""
    out: list[set[str]] = []
    edges, position = {0}, 0
    for word in jieba_words(clause):
        position += len(word)
        edges.add(position)
    spans, position = [], 0
    for word, flag in jieba_tagged(clause):
        spans.append((position, position + len(word), word, flag))
        position += len(word)
    start = clause.find(phrase)
    while start >= 0:
        end, reasons = start + len(phrase), set()
        if start not in edges or end not in edges:
            reasons.add("word")
        inside = [s for s in spans if s[0] < end and s[1] > start]
        if inside and (_grammar(*inside[0][2:]) or _grammar(*inside[-1][2:])):
            reasons.add("grammar")
        after = [s for s in spans if s[0] >= end][:1]
        if inside and inside[0][3] == "v" and after and after[0][3][0] in "nab":
            reasons.add("object")
        names = [i for i, s in enumerate(inside) if s[3] in ("nr", "nrfg", "nrt")]
        if any(
            inside[j][2] in _ROLES for i in names for j in (i - 1, i + 1) if 0 <= j < len(inside)
        ):
            reasons.add("person")
        out.append(reasons)
        start = clause.find(phrase, start + 1)
    return out


def cut_table(phrases: list[str], clauses: list[str]) -> tuple[Counter[str], dict[str, list[str]]]:
    """Count the phrases cut for each reason (most occurrences cut), with examples."""
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for phrase in phrases:
        key = normalize(phrase).replace(" ", "")
        found = [r for clause in clauses if key in clause for r in cut_reasons(key, clause)]
        if not found:
            continue
        counts["found"] += 1
        cut = False
        for reason in ("word", "grammar", "object", "person"):
            if sum(reason in r for r in found) * 2 > len(found):
                counts[reason] += 1
                examples.setdefault(reason, []).append(phrase)
                cut = True
        counts["cut"] += cut
    return counts, examples


def show_cuts(themes: list[ThemeMaterial], main_src: Path) -> None:
    """Print the share of cut Chinese phrases, main checkout beside this one."""
    payload = json.dumps([_material_dict(m) for m in themes], ensure_ascii=False)
    clauses = sorted(
        {
            c.replace(" ", "")
            for m in themes
            for t in m.texts
            for c in BOUNDARY.split(normalize(t))
            if c.strip()
        }
    )
    print("\n## Cut Chinese phrases (multi-word candidates that recur)")
    print(f"\n{'checkout':<10}{'phrases':>8}{'cut':>14}{'word':>7}{'grammar':>9}", end="")
    print(f"{'object':>8}{'person':>8}")
    listed = {}
    for checkout, src in (("main", main_src), ("new", Path(__file__).parents[1] / "src")):
        if not (src / "themescope").is_dir():
            continue
        done = subprocess.run(
            [sys.executable, "-c", _CANDIDATES_SCRIPT],
            input=payload,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(src)},
            check=True,
        )
        counts, examples = cut_table(json.loads(done.stdout.strip().splitlines()[-1]), clauses)
        n = counts["found"]
        share = f"{counts['cut']} ({counts['cut'] / max(n, 1):.1%})"
        row = f"{checkout:<10}{n:>8}{share:>14}{counts['word']:>7}{counts['grammar']:>9}"
        print(f"{row}{counts['object']:>8}{counts['person']:>8}")
        listed[checkout] = examples
    for checkout, examples in listed.items():
        for reason, phrases in examples.items():
            print(f"\n{checkout} {reason}: {' · '.join(phrases[:15])}")


def name_runs(data: Path) -> dict[str, list[str]]:
    """The passages of each input of the names table (see the module docstring)."""
    runs: dict[str, list[str]] = {"cais": []}
    for vtt in sorted((data / "cais-tv-en").glob("*_0.vtt")):
        runs["cais"].append(join_texts(c.text for c in read_transcript(vtt, duration_s=None).cues))
    for date in ("20250809", "20250810"):
        srt = data / "xinwen-lianbo-zh-en" / f"{date}.en.srt"
        runs[date] = [join_texts(c.text for c in read_transcript(srt, duration_s=None).cues)]
    return runs


def show_names(data: Path, main_src: Path) -> None:
    """Print names found, people missed and false names, main checkout beside this one."""
    runs = name_runs(data)
    found = {"new": {k: sorted(find_names(v, "en")) for k, v in runs.items()}}
    if (main_src / "themescope").is_dir():
        done = subprocess.run(
            [sys.executable, "-c", _NAMES_SCRIPT],
            input=json.dumps(runs, ensure_ascii=False),
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(main_src)},
            check=True,
        )
        found["main"] = json.loads(done.stdout.strip().splitlines()[-1])
    print("\n## People's names (find_names)")
    print(f"\n{'input':<10}{'checkout':<10}{'people':>7}{'found':>7}{'missed':>8}{'false':>7}")
    for key, people in PEOPLE.items():
        for checkout in ("main", "new"):
            if checkout not in found:
                continue
            names = set(found[checkout][key])
            right, wrong = names & people, names - people
            row = f"{key:<10}{checkout:<10}{len(people):>7}{len(right):>7}"
            print(f"{row}{len(people - right):>8}{len(wrong):>7}")
    for key, people in PEOPLE.items():
        for checkout in ("main", "new"):
            if checkout in found:
                names = set(found[checkout][key])
                print(f"\n{key} {checkout} false: {', '.join(sorted(names - people)) or '-'}")
                print(f"{key} {checkout} missed: {', '.join(sorted(people - names)) or '-'}")


def zh_segments(data: Path, date: str, minutes: float, n: int) -> list[ThemeMaterial]:
    """The first ``minutes`` of one Xinwen Lianbo transcript, cut into ``n`` segments."""
    cues = read_transcript(data / "xinwen-lianbo-zh-en" / f"{date}.zh.srt", duration_s=None).cues
    cues = [c for c in cues if c.start_s < minutes * 60]
    return _materials([[c.text for c in part] for part in _split(cues, n)], "zh")


def en_segments(data: Path) -> list[ThemeMaterial]:
    """The CAIS clips' verbatim captions, one segment per programme type."""
    parts: list[list[str]] = []
    for programme in PROGRAMMES:
        texts: list[str] = []
        for vtt in sorted((data / "cais-tv-en").glob(f"*_{programme}_0.vtt")):
            texts.extend(c.text for c in read_transcript(vtt, duration_s=None).cues)
        parts.append(texts)
    return _materials(parts, "en")


def _split(items: list, n: int) -> list[list]:
    size = math.ceil(len(items) / n)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _materials(parts: list[list[str]], lang: str) -> list[ThemeMaterial]:
    out, first = [], 0
    for t, texts in enumerate(parts):
        ids = list(range(first, first + len(texts)))
        out.append(ThemeMaterial(t, ids, texts, [""] * len(texts), lang))
        first += len(texts) + 1  # a gap: segments are not one passage
    return out


def baseline(themes: list[ThemeMaterial]) -> list[list[str]]:
    """BERTopic's default: c-TF-IDF of single words, stop words removed."""
    counts = []
    for m in themes:
        stop = STOP_WORDS_ZH if is_chinese(m.lang) else STOP_WORDS_EN
        words = [w for text in m.texts for w in tokenize(text, m.lang)]
        counts.append(Counter(w for w in words if w not in stop and len(w) > 1))
    average = sum(sum(c.values()) for c in counts) / len(counts)
    overall: Counter[str] = Counter()
    for c in counts:
        overall.update(c)
    out = []
    for c in counts:
        total = sum(c.values())
        score = {w: n / total * math.log(1 + average / overall[w]) for w, n in c.items()}
        out.append(sorted(score, key=lambda w: (-score[w], w))[:5])
    return out


def main_tagger(themes: list[ThemeMaterial], src: Path) -> tuple[list[list[str]] | None, float]:
    """The main checkout's extractive tagger, in a subprocess (None when it is not there)."""
    if not (src / "themescope").is_dir():
        return None, 0.0
    payload = json.dumps([_material_dict(m) for m in themes], ensure_ascii=False)
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MAIN_SCRIPT],
        input=payload,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def _material_dict(m: ThemeMaterial) -> dict[str, object]:
    return {
        "theme_id": m.theme_id,
        "frame_ids": m.frame_ids,
        "texts": m.texts,
        "captions": m.captions,
        "lang": m.lang,
    }


def show(name: str, themes: list[ThemeMaterial], main_src: Path, embedder: object) -> None:
    """Print one input's table."""
    before = baseline(themes)
    old, old_s = main_tagger(themes, main_src)
    tagger = ExtractiveTagger(embedder, seed=0)  # type: ignore[arg-type]
    started = time.perf_counter()
    result = facets(tagger.tag(themes, n_phrases=5), n_phrases=5, materials=themes)
    new_s = time.perf_counter() - started
    n_cues = sum(len(m.texts) for m in themes)
    print(f"\n## {name}: {len(themes)} segments, {n_cues} cues")
    for t, theme in enumerate(result.themes):
        print(f"\nsegment {t} ({len(themes[t].texts)} cues)")
        print(f"  c-TF-IDF : {' · '.join(before[t])}")
        if old is not None:
            print(f"  main     : {' · '.join(old[t])}")
        print(f"  new      : [{theme.label}] {' · '.join(p.text for p in theme.phrases)}")
        print(f"  people   : {', '.join(theme.people[:6]) or '-'}")
    print(f"\ncommon: {' · '.join(p.text for p in result.common) or '-'}")
    for message in result.unresolved:
        print(f"unresolved: {message}")
    load = os.getloadavg()
    timing = f"tagger time: new {new_s:.2f} s (in process, embedder loaded)"
    if old is not None:
        timing += f"; main {old_s:.2f} s (subprocess, including start-up and model load)"
    print(f"{timing}; load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main() -> None:
    """Parse arguments and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--input", choices=("zh", "en", "names", "cuts", "both", "all"), default="both"
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--date", default="20250809", help="Xinwen Lianbo episode")
    parser.add_argument(
        "--minutes", type=float, default=30.0, help="of the episode, from its start"
    )
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--main-src", type=Path, default=Path("/work/main/src"))
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"bench_phrases: {args.data} is missing (the shared real material)")
    if args.input in ("names", "all"):
        show_names(args.data, args.main_src)
    if args.input in ("cuts", "all"):
        show_cuts(zh_segments(args.data, args.date, args.minutes, args.segments), args.main_src)
    if args.input in ("names", "cuts"):
        return
    embedder = load_embedder(None)
    if args.input in ("zh", "both", "all"):
        themes = zh_segments(args.data, args.date, args.minutes, args.segments)
        show(
            f"Xinwen Lianbo {args.date}, first {args.minutes:g} min",
            themes,
            args.main_src,
            embedder,
        )
    if args.input in ("en", "both", "all"):
        show(
            "CAIS broadcast captions (upper case)", en_segments(args.data), args.main_src, embedder
        )


if __name__ == "__main__":
    main()
