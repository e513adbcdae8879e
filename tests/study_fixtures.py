"""A hand-built study directory for the study report tests.

The study follows the layout of :mod:`themescope.corpus.study` (manifest with stage
records, videos.json, frames.parquet with images under the study, themes.json) without
running the corpus pipeline: the documents are built from their msgspec classes, so
the page is tested against the schema itself. Groups differ by design: group US spends
most of its time on theme 0, group CN on theme 1; group TW has a single video (no
interval); one CN video failed to ingest. Texts carry Chinese and markup payloads.
Videos are dated (one a day per group): the themes' shares over time and the effect of
an ``outlet_type`` covariate are in themes.json, and a phrase US and CN both say (each in
its language), unless the spec asks for a document of the first version, which had none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from report_fixtures import SCRIPT_PAYLOAD
from themescope.documents import (
    BackendsRecord,
    CaptionerBackend,
    EmbedderBackend,
    EvidenceRecord,
    KRow,
    KSelectionRecord,
    PhraseMatching,
    PhraseRecord,
    ProjectionRecord,
    TaggerBackend,
    TaggerRecord,
)
from themescope.manifest import IngestRecord, Manifest, ThemesRecord, TrainRecord
from themescope.rundir import RunDirectory
from themescope.study_documents import (
    STUDY_SCHEMA_VERSION,
    STUDY_THEMES_SCHEMA_VERSION,
    CovariateRecord,
    EffectRecord,
    EffectsRecord,
    GroupPhraseRecord,
    GroupRecord,
    GroupTestRecord,
    NoveltyRecord,
    OverTimeRecord,
    SaidByBothRecord,
    ShareRecord,
    StudyThemeRecord,
    StudyThemesDocument,
    StudyVideoRecord,
    StudyVideosDocument,
    TimeShareRecord,
    VideoTimelineRecord,
    write_study,
)

EVERY_S = 2.0
CHINESE_LABEL = "经济增长"
CHINESE_GLOSS = "economic growth"
GROUP_PHRASE_ZH = "人民币汇率"
GROUP_PHRASE_ZH_GLOSS = "RMB exchange rate"
SAID_BY_BOTH = ("booster shot", "加强针", "booster shot")
"""A phrase US says and CN says in Chinese (with its gloss): said by both, in every theme."""
FAILED_VIDEO = "cn-lost"
FAILED_ERROR = "cannot decode /data/cn-lost.mp4: moov atom not found"
VIDEO_WARNING = "us-1: 3 subtitle lines were skipped (no timing)"
THEMES_WARNING = "group 'TW' has one video: its shares have no interval"
TRAIN_WARNING = "training stopped early at epoch 12"
ADDED_AT = "2026-11-30T09:15:00+00:00"
NOVEL_THRESHOLD = 1.234
P_VALUE = 0.002
THEME_P_VALUES = (0.004, 0.012, 0.61)

GROUP_MIX = {"US": (0.6, 0.3, 0.1), "CN": (0.1, 0.6, 0.3), "TW": (0.3, 0.3, 0.4)}
"""Each group's share of themes 0, 1, 2 in the small study (frames are laid out in blocks)."""
THEME_COLOURS = ((200, 40, 40), (40, 160, 60), (40, 60, 200))


@dataclass
class StudySpec:
    """The shape of a hand-built study."""

    groups: dict[str, int] = field(default_factory=lambda: {"US": 3, "CN": 3, "TW": 1})
    n_frames: int = 20
    k: int = 3
    image_pool: int | None = None
    """None: one JPEG per frame; n: frames share n images per theme (big studies)."""
    churn: bool = False
    """Themes change every frame (the most spans a timeline can have)."""
    first_version: bool = False
    """Write themes.json as its first version did: no shares over time, no effects."""
    added: dict[str, float] = field(default_factory=dict)
    """Videos added to the fitted study (``--into``), by id, with their novel share."""


def _themes_of(group: str, n_frames: int, k: int, churn: bool, offset: int) -> list[int]:
    if churn:
        return [(i + offset) % k for i in range(n_frames)]
    mix = GROUP_MIX.get(group, (1 / k,) * k)
    counts = [round(share * n_frames) for share in mix[:k]]
    counts[0] += n_frames - sum(counts)
    return [theme for theme, n in enumerate(counts) for _ in range(n)]


OUTLET_SENTENCE = (
    "Videos from outlet_type=state give theme 'markets theme 0' 12 points (5–19) more "
    "airtime than outlet_type=commercial"
)
"""The sentence the report says for the one significant covariate effect of the study."""
GROUP_SENTENCE = (
    f"Videos from group=CN give theme '{CHINESE_LABEL}' 30 points (22–38) more airtime "
    "than group=US"
)


SENTENCES = {(0, "outlet_type=state"): OUTLET_SENTENCE, (1, "group=CN"): GROUP_SENTENCE}
"""The sentence the stage writes for each significant effect of the study."""


def _video_date(v: int) -> str:
    return f"2020-01-{10 + v:02d}"


def _over_time(timelines: list[VideoTimelineRecord], k: int) -> OverTimeRecord:
    """Each video is its group's only one on its day; US's shares get a band all the same."""
    points = []
    for timeline in timelines:
        v = int(timeline.id.rsplit("-", 1)[1])
        for theme in range(k):
            share = timeline.shares[theme]
            banded = timeline.group == "US"
            points.append(
                TimeShareRecord(
                    group=timeline.group,
                    start=_video_date(v),
                    theme=theme,
                    share=share,
                    low=max(share - 0.05, 0.0) if banded else None,
                    high=min(share + 0.05, 1.0) if banded else None,
                    n_videos=1,
                )
            )
    n_days = max(int(t.id.rsplit("-", 1)[1]) for t in timelines)
    return OverTimeRecord(
        column="date",
        unit="day",
        bins=[_video_date(v) for v in range(1, n_days + 1)],
        shares=points,
    )


def _effects(spec: StudySpec) -> EffectsRecord:
    groups = list(spec.groups)
    terms = [("group", g, groups[0]) for g in groups[1:]] + [("outlet_type", "state", "commercial")]
    significant = {(0, "outlet_type=state"): (0.12, 0.05, 0.19), (1, "group=CN"): (0.3, 0.22, 0.38)}
    effects = []
    for theme in range(spec.k):
        for covariate, level, reference in terms:
            term = f"{covariate}={level}"
            estimate, low, high = significant.get((theme, term), (0.01, -0.04, 0.06))
            effects.append(
                EffectRecord(
                    theme=theme,
                    term=term,
                    covariate=covariate,
                    level=level,
                    reference=reference,
                    estimate=estimate,
                    low=low,
                    high=high,
                    significant=(theme, term) in significant,
                    sentence=SENTENCES.get((theme, term)),
                )
            )
    return EffectsRecord(
        model="For each theme, an ordinary least squares regression of each video's share of "
        "its airtime in the theme on the group and outlet_type.",
        covariates=[
            CovariateRecord(name="outlet_type", kind="categorical", levels=["commercial", "state"])
        ],
        n_videos=sum(spec.groups.values()),
        n_bootstrap=1000,
        confidence_level=0.95,
        effects=effects,
    )


def _image(pixels_rng: np.random.Generator, theme: int, path: Path) -> None:
    colour = np.array(THEME_COLOURS[theme % 3], dtype=np.float64)
    pixels = np.clip(colour + pixels_rng.normal(0, 30, (90, 160, 3)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).resize((320, 180)).save(path, quality=85)


def build_study(root: Path, spec: StudySpec | None = None, *, name: str = "study") -> Path:
    """Write a study directory under ``root/name`` (see the module docstring) and return it."""
    spec = spec or StudySpec()
    study = root / name
    study.mkdir(parents=True)
    rng = np.random.default_rng(5)
    rows: dict[str, list] = {
        key: []
        for key in ("frame_id", "video", "group", "time_s", "seconds", "image", "text", "ocr_text")
    }
    labels: list[int] = []
    video_records: list[StudyVideoRecord] = []
    timelines: list[VideoTimelineRecord] = []
    pool: dict[tuple[int, int], str] = {}
    row_number = 0
    for group, n_videos in spec.groups.items():
        for v in range(1, n_videos + 1):
            row_number += 1
            video = f"{group.lower()}-{v}"
            themes = _themes_of(group, spec.n_frames, spec.k, spec.churn, v)
            for i, theme in enumerate(themes):
                if spec.image_pool is None:
                    image = f"videos/{video}/frames/{i:06d}.jpg"
                    _image(rng, theme, study / image)
                else:
                    key = (theme, i % spec.image_pool)
                    if key not in pool:
                        pool[key] = f"pool/{theme}-{key[1]}.jpg"
                        _image(rng, theme, study / pool[key])
                    image = pool[key]
                rows["frame_id"].append(len(labels))
                rows["video"].append(video)
                rows["group"].append(group)
                rows["time_s"].append(i * EVERY_S)
                rows["seconds"].append(EVERY_S)
                rows["image"].append(image)
                words = "人民币汇率 上涨" if group == "CN" else f"the markets rally {i}"
                rows["text"].append(f"{words} {SCRIPT_PAYLOAD}" if i == 0 else words)
                rows["ocr_text"].append(f"{group} NEWS\nheadline {theme}" if i % 2 else "")
                labels.append(theme)
            spans: list[tuple[float, float, int]] = []
            for i, theme in enumerate(themes):
                if spans and spans[-1][2] == theme:
                    spans[-1] = (spans[-1][0], (i + 1) * EVERY_S, theme)
                else:
                    spans.append((i * EVERY_S, (i + 1) * EVERY_S, theme))
            seconds = spec.n_frames * EVERY_S
            timelines.append(
                VideoTimelineRecord(
                    id=video,
                    group=group,
                    seconds=seconds,
                    shares=[themes.count(t) / len(themes) for t in range(spec.k)],
                    spans=spans,
                    novel_share=spec.added.get(video),
                )
            )
            video_records.append(
                StudyVideoRecord(
                    id=video,
                    group=group,
                    video=f"/data/{video}.mp4",
                    subtitles=f"/data/{video}.srt",
                    lang="zh" if group == "CN" else "en",
                    metadata={
                        "date": _video_date(v),
                        "programme": f"{group} evening news",
                        "outlet_type": "state" if v % 2 else "commercial",
                    },
                    row=row_number,
                    status="done",
                    n_frames=spec.n_frames,
                    duration_s=seconds,
                    warnings=[VIDEO_WARNING] if video == "us-1" else [],
                    added=ADDED_AT if video in spec.added else None,
                )
            )
    if "CN" in spec.groups:
        video_records.append(
            StudyVideoRecord(
                id=FAILED_VIDEO,
                group="CN",
                video=f"/data/{FAILED_VIDEO}.mp4",
                metadata={"date": "2020-01-19"},
                row=row_number + 1,
                status="failed",
                error=FAILED_ERROR,
            )
        )
    rows["theme"] = labels
    pq.write_table(pa.table(rows), study / "frames.parquet")

    n_frames = len(labels)
    groups_of = np.array(rows["group"])
    videos_of = np.array(rows["video"])
    label_array = np.array(labels)
    themes = []
    for t in range(spec.k):
        members = np.flatnonzero(label_array == t)
        chinese = t == 1
        label = CHINESE_LABEL if chinese else f"markets theme {t}"
        group_shares = {}
        for group, n_videos in spec.groups.items():
            in_group = groups_of == group
            share = float((label_array[in_group] == t).mean())
            group_shares[group] = ShareRecord(
                share=round(share, 4),
                low=None if n_videos == 1 else round(max(share - 0.05, 0.0), 4),
                high=None if n_videos == 1 else round(min(share + 0.07, 1.0), 4),
            )
        themes.append(
            StudyThemeRecord(
                id=t,
                label=label,
                label_gloss=CHINESE_GLOSS if chinese else None,
                frames=members.tolist(),
                n_frames=len(members),
                share=round(len(members) / n_frames, 4),
                seconds=len(members) * EVERY_S,
                spans=[],
                representative_frames=members[:: max(len(members) // 4, 1)][:6].tolist(),
                phrases=[
                    PhraseRecord(
                        text=text,
                        gloss=gloss,
                        score=1.0 - 0.1 * j,
                        supported=True,
                        evidence=EvidenceRecord(
                            frame_ids=members[:2].tolist(), quotes=[], captions=[], support=0.5
                        ),
                    )
                    for j, (text, gloss) in enumerate(
                        [(CHINESE_LABEL, CHINESE_GLOSS), ("market rally", None)]
                        if chinese
                        else [("market rally", None), (f"topic {t}", None)]
                    )
                ],
                people=["王华庆"] if chinese else ["dana kessler"],
                tagger=TaggerRecord(backend="extractive"),
                group_shares=group_shares,
                group_phrases={
                    "US": [GroupPhraseRecord(text="stock market", z=3.1, count=12)],
                    "CN": [
                        GroupPhraseRecord(
                            text=GROUP_PHRASE_ZH, z=4.2, count=9, gloss=GROUP_PHRASE_ZH_GLOSS
                        )
                    ],
                    "TW": [GroupPhraseRecord(text=SCRIPT_PAYLOAD, z=2.0, count=2)],
                },
                said_by_both=[]
                if spec.first_version
                else [
                    SaidByBothRecord(
                        phrases={
                            "US": GroupPhraseRecord(text=SAID_BY_BOTH[0], z=2.6, count=7),
                            "CN": GroupPhraseRecord(
                                text=SAID_BY_BOTH[1], z=2.9, count=8, gloss=SAID_BY_BOTH[2]
                            ),
                        },
                        similarity=0.81,
                    )
                ],
                group_p_value=THEME_P_VALUES[t % len(THEME_P_VALUES)],
                n_videos=len({videos_of[i] for i in members}),
            )
        )
    document = StudyThemesDocument(
        schema_version=1 if spec.first_version else STUDY_THEMES_SCHEMA_VERSION,
        k=spec.k,
        k_selection=KSelectionRecord(
            method="auto",
            range=(2, 4),
            chosen=spec.k,
            reason=f"k={spec.k} has the highest combined score (0.71).",
            table=[
                KRow(k=k, silhouette=0.5 + 0.1 * (k == spec.k), score=0.6, sizes=[10] * k)
                for k in (2, 3, 4)
            ],
        ),
        backends=BackendsRecord(
            captioner=CaptionerBackend(name="none"),
            tagger=TaggerBackend(name="extractive"),
            embedder=EmbedderBackend(name="multilingual-minilm"),
            cluster="sklearn",
        ),
        projection=ProjectionRecord(method="trivial", perplexity=None, n_fitted=0, points=[]),
        themes=themes,
        warnings=[THEMES_WARNING],
        groups=[
            GroupRecord(
                name=group,
                n_videos=n_videos,
                seconds=n_videos * spec.n_frames * EVERY_S,
                langs=["zh"] if group == "CN" else ["en"],
            )
            for group, n_videos in spec.groups.items()
        ],
        group_test=GroupTestRecord(
            method="permutation test over videos (1000 random permutations of the group "
            "labels, group sizes kept)",
            statistic=0.1234,
            p_value=P_VALUE,
            n_permutations=1000,
            correction="Holm",
        ),
        confidence_level=0.95,
        n_bootstrap=1000,
        videos=timelines,
        over_time=None if spec.first_version else _over_time(timelines, spec.k),
        effects=None if spec.first_version else _effects(spec),
        novelty=NoveltyRecord(
            threshold=NOVEL_THRESHOLD,
            percentile=99.0,
            n_added_videos=len(spec.added),
            n_added_frames=len(spec.added) * spec.n_frames,
            n_novel_frames=sum(round(share * spec.n_frames) for share in spec.added.values()),
        )
        if spec.added
        else None,
        phrase_matching=None
        if spec.first_version
        else PhraseMatching(
            method="cosine of centred embeddings", same_meaning_from=0.3, glosses=True
        ),
    )
    write_study(study / "themes.json", document)
    write_study(
        study / "videos.json",
        StudyVideosDocument(
            schema_version=STUDY_SCHEMA_VERSION, source="/data/corpus.csv", videos=video_records
        ),
    )
    RunDirectory(study).write_manifest(
        Manifest(
            config={
                "ingest": {"every_s": EVERY_S, "executor": "local"},
                "train": {"preset": "fast", "word_vectors": "multilingual"},
                "themes": {"k_range": [2, 4], "n_bootstrap": 1000},
            },
            stages=dict(
                ingest=IngestRecord(
                    fingerprint="ingest-fp",
                    warnings=[
                        f"video {FAILED_VIDEO} (row {row_number + 1}) failed: {FAILED_ERROR}"
                    ],
                    n_frames=n_frames,
                    every_s=EVERY_S,
                    lang="mul",
                    text_source="corpus",
                ),
                train=TrainRecord(
                    fingerprint="train-fp",
                    warnings=[TRAIN_WARNING],
                    epochs=12,
                    preset="fast",
                    n_frames=n_frames,
                    n_frames_trained=n_frames * 3 // 4,
                    latent_dim=32,
                    n_params=250_000,
                    psnr_db=22.1,
                ),
                themes=ThemesRecord(fingerprint="themes-fp", warnings=[THEMES_WARNING], k=spec.k),
            ),
        )
    )
    return study
