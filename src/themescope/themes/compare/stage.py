"""Write a joint comparison's compare.json: the compare stage.

:class:`CompareStage` runs in a comparison's folder (:mod:`themescope.corpus.compare`)
after the study's themes stage has clustered the frames of every run together. Per
joint theme it writes each run's share of its airtime, what each run says in it
(described as a study describes a theme, among that run's frames alone, and glossed),
the pairs of phrases two runs say alike across languages (:func:`phrase_similarity`
from :data:`SAME_MEANING_SIMILARITY`) and what only one run says.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np

from themescope._version import __version__
from themescope.compare_document import (
    COMPARE_SCHEMA_VERSION,
    JointCompareDocument,
    JointPhrase,
    JointRun,
    JointTheme,
    SaidByBoth,
    write_compare,
)
from themescope.documents import PhraseMatching
from themescope.manifest import CompareRecord
from themescope.rundir import COMPARE_NAME, STUDY_VIDEOS_NAME, RunDirectory, Stage, StageWriter
from themescope.study_documents import read_study_themes, read_study_videos
from themescope.themes.base import ThemeMaterial
from themescope.themes.compare.config import CompareConfig
from themescope.themes.describe import describe_themes, lower_third_texts, on_screen_lines
from themescope.themes.gloss import Gloss
from themescope.themes.phrase_match import (
    PHRASE_MATCHING,
    SAME_MEANING_SIMILARITY,
    EmbeddedPhrases,
    embed_phrases,
    phrase_similarity,
)
from themescope.themes.stage import ThemesStage, gloss_translator

logger = logging.getLogger("themescope")

N_SIDE_PHRASES = 8
N_PAIRS = 6


class CompareStage(Stage):
    """Write compare.json from the joint themes: shares, each run's phrases, what both say.

    Args:
        describer: The themes stage whose tagger, embedder and glosser describe each run's
            part of a theme (the comparison's themes stage holds it).
        config: The comparison's settings.
    """

    name = "compare"
    needs = ("themes",)
    record = CompareRecord
    files = (COMPARE_NAME,)
    config_section = "compare"
    command = "compare"
    kinds = ("comparison",)

    def __init__(self, describer: ThemesStage, config: CompareConfig | None = None) -> None:
        self.describer = describer
        self.config = config or CompareConfig()

    def settings(self) -> dict[str, Any]:
        """The comparison's settings."""
        return self.config.to_dict()

    def fingerprint_parts(self) -> Any:
        """The settings and the components that describe each run's part of a theme."""
        return {
            "config": self.config.fingerprinted(),
            "describe": self.describer.fingerprint_parts(),
        }

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Describe each run's part of every theme, match phrases, write compare.json."""
        document = _compare(run, self, writer)
        write_compare(writer.path(COMPARE_NAME), document)
        n_shared = sum(theme.shared for theme in document.themes)
        writer.record = CompareRecord(
            n_runs=len(document.runs), k=len(document.themes), n_shared=n_shared
        )
        logger.info(
            "%d runs in %d joint themes: %d shared → %s",
            len(document.runs),
            len(document.themes),
            n_shared,
            run / COMPARE_NAME,
        )


def _compare(run: RunDirectory, stage: CompareStage, writer: StageWriter) -> JointCompareDocument:
    import pyarrow.parquet as pq

    describer = stage.describer
    assert describer.tagger is not None and describer.embedder is not None  # by check()
    study = read_study_themes(run / "themes.json")
    videos = read_study_videos(run / STUDY_VIDEOS_NAME).videos
    names = [video.id for video in videos]
    table = pq.read_table(run / "frames.parquet").sort_by("frame_id")
    video = [str(v) for v in table.column("video").to_pylist()]
    theme = np.asarray(table.column("theme").to_numpy(zero_copy_only=False), dtype=np.int64)
    seconds = np.asarray(table.column("seconds").to_numpy(zero_copy_only=False), float)
    texts = [t or "" for t in table.column("text").to_pylist()]
    ocr = [t or "" for t in table.column("ocr_text").to_pylist()]
    straps = lower_third_texts(run, table)
    k = len(study.themes)

    # What each run says in each theme, described as a study describes a theme, among
    # that run's themes alone: its phrases rank against its other themes, not the other run.
    said: dict[str, list[list[str]]] = {}
    for name, video_record in zip(names, videos, strict=True):
        rows = [
            np.flatnonzero((theme == t) & np.array([v == name for v in video])) for t in range(k)
        ]
        present = [t for t in range(k) if len(rows[t])]
        materials = [
            ThemeMaterial(
                theme_id=t,
                frame_ids=[int(i) for i in rows[t]],
                texts=[texts[i] for i in rows[t]],
                captions=[""] * len(rows[t]),
                lang=video_record.lang or "und",
                on_screen=on_screen_lines([ocr[i] for i in rows[t]]),
                screen_texts=[ocr[i] for i in rows[t]],
                strap_texts=None if straps is None else [straps[i] for i in rows[t]],
            )
            for t in present
        ]
        described = (
            describe_themes(
                materials, describer.tagger, describer.embedder, N_SIDE_PHRASES, writer
            )[0]
            if materials
            else []
        )
        said[name] = [[] for _ in range(k)]
        for t, result in zip(present, described, strict=True):
            said[name][t] = [p.text.strip() for p in result.phrases if p.text.strip()]

    glosser = describer.glosser

    looked_up: dict[str, Gloss | None] = {}
    if glosser is not None:
        # in one batch: the senses embedded, or the phrases translated, in one call
        texts = list(dict.fromkeys(p for sides in said.values() for ps in sides for p in ps))
        looked_up.update(zip(texts, glosser.lookup_many(texts), strict=True))

    def joint(text: str) -> JointPhrase:
        if text not in looked_up:
            looked_up[text] = None if glosser is None else glosser.lookup(text)
        found = looked_up[text]
        if found is None:
            return JointPhrase(text=text)
        return JointPhrase(text=text, gloss=found.text, gloss_word_by_word=found.word_by_word)

    def gloss(text: str) -> str | None:
        return joint(text).gloss

    spaces = {
        name: embed_phrases(
            [(p, np.ones(len(p)), [gloss(x) for x in p]) if p else None for p in said[name]],
            describer.embedder,
        )
        for name in names
    }
    themes = []
    for record in study.themes:
        t = record.id
        shares = {name: round(record.group_shares[name].share, 4) for name in names}
        themes.append(
            JointTheme(
                id=t,
                label=record.label,
                label_gloss=record.label_gloss,
                label_gloss_word_by_word=record.label_gloss_word_by_word,
                shares=shares,
                shared=all(share >= stage.config.min_share for share in shares.values()),
                n_frames=record.n_frames,
                representative_images=[
                    str(table.column("image")[f].as_py()) for f in record.representative_frames
                ],
                phrases={name: [joint(x) for x in said[name][t]] for name in names},
                said_by_both=_said_by_both(t, names, spaces, joint),
                only={name: _only(t, name, names, spaces, joint) for name in names},
            )
        )
        themes[-1] = shared_label(themes[-1])
    total = {name: float(seconds[[v == name for v in video]].sum()) for name in names}
    return JointCompareDocument(
        schema_version=COMPARE_SCHEMA_VERSION,
        tool="themescope",
        version=__version__,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        runs=[
            JointRun(
                name=v.id,
                path=v.video,
                lang=v.lang or "und",
                ingest_fingerprint=v.metadata.get("ingest_fingerprint", ""),
                n_frames=v.n_frames,
                seconds=round(total[v.id], 3),
            )
            for v in videos
        ],
        min_share=stage.config.min_share,
        themes=themes,
        phrase_matching=PhraseMatching(
            method=PHRASE_MATCHING,
            same_meaning_from=SAME_MEANING_SIMILARITY,
            glosses=glosser is not None,
        ),
        gloss_language=None if glosser is None else glosser.target,
        gloss_translator=gloss_translator(glosser),
        warnings=list(study.warnings),
    )


def _said_by_both(
    theme: int,
    names: list[str],
    spaces: dict[str, list[EmbeddedPhrases | None]],
    joint: Callable[[str], JointPhrase],
) -> list[SaidByBoth]:
    """Pairs of phrases two runs say in ``theme`` that mean the same, closest first."""
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            mine, other = spaces[a][theme], spaces[b][theme]
            if mine is None or other is None:
                continue
            similarity = phrase_similarity(mine, other)
            used_a: set[int] = set()
            used_b: set[int] = set()
            # Each phrase in one pair at most, the closest pairs first.
            for flat in np.argsort(-similarity, axis=None):
                x, y = np.unravel_index(flat, similarity.shape)
                value = float(similarity[x, y])
                if value < SAME_MEANING_SIMILARITY:
                    break
                if x in used_a or y in used_b:
                    continue
                used_a.add(int(x))
                used_b.add(int(y))
                pairs.append(
                    SaidByBoth(
                        phrases={
                            a: joint(mine.texts[x]),
                            b: joint(other.texts[y]),
                        },
                        similarity=round(value, 4),
                    )
                )
    pairs.sort(key=lambda pair: -pair.similarity)
    return pairs[:N_PAIRS]


def _only(
    theme: int,
    name: str,
    names: list[str],
    spaces: dict[str, list[EmbeddedPhrases | None]],
    joint: Callable[[str], JointPhrase],
) -> list[JointPhrase]:
    """The run's phrases of ``theme`` that no other run says anything like, in any theme."""
    mine = spaces[name][theme]
    if mine is None:
        return []
    closest = np.full(len(mine.texts), -np.inf)
    for other in names:
        if other == name:
            continue
        for phrases in spaces[other]:
            if phrases is not None:
                closest = np.maximum(closest, phrase_similarity(mine, phrases).max(axis=1))
    return [
        joint(text) for i, text in enumerate(mine.texts) if closest[i] < SAME_MEANING_SIMILARITY
    ]


def shared_label(theme: JointTheme) -> JointTheme:
    """A shared theme labelled by what every run says, not by one run's word.

    The joint theme's label is its best phrase or headline over all its frames, often one
    run's: a shared theme labelled 安吉 (Anji) read as if both reports spoke of Anji when
    only one did. Unless every run says the label, the label becomes the best pair that
    both say, else each run's best phrase, joined by " · " (the gloss of those glossed).
    """
    sides = [phrases for phrases in theme.phrases.values() if phrases]
    if not theme.shared or len(sides) < 2:
        return theme
    label = theme.label.casefold()
    if all(any(label in p.text.casefold() for p in phrases) for phrases in sides):
        return theme
    chosen = (
        list(theme.said_by_both[0].phrases.values())
        if theme.said_by_both
        else [phrases[0] for phrases in sides]
    )
    glosses = [p.gloss for p in chosen if p.gloss]
    return msgspec.structs.replace(
        theme,
        label=" · ".join(p.text for p in chosen),
        label_gloss=" · ".join(glosses) or None,
        label_gloss_word_by_word=any(p.gloss_word_by_word for p in chosen),
    )
