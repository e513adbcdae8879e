"""The study's themes stage: one clustering of every frame, groups side by side.

Clusters the latents of every video's frames in one space (time is no feature:
frames come from different videos), describes each theme as a single run does
(label, phrases with evidence, people, on-screen text, glosses) with material
drawn from every video in it, then measures the groups (:mod:`themescope.corpus.stats`,
:mod:`themescope.corpus.effects`):
each group's share of each theme with a bootstrap interval over videos, a
permutation test over videos of whether the groups' theme distributions differ,
and the phrases each group says in a theme more than the others. With a ``date``
column in the corpus manifest, each group's share of each theme per time bin; with
covariates, their effects on a video's share of each theme (``STUDY/effects.csv``).
Writes ``STUDY/themes.json`` (:class:`~themescope.study_documents.StudyThemesDocument`) and
the ``theme`` column of ``STUDY/frames.parquet``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from themescope.components import identity
from themescope.corpus import stats
from themescope.corpus.metadata import by_metadata, write_effects
from themescope.documents import PhraseMatching
from themescope.embedding import embedder_info
from themescope.errors import RunDirectoryError, ThemescopeError
from themescope.manifest import ThemesRecord
from themescope.rundir import Kind, RunDirectory, Stage, StageWriter
from themescope.study_documents import (
    STUDY_THEMES_SCHEMA_VERSION,
    GroupPhraseRecord,
    GroupRecord,
    GroupTestRecord,
    SaidByBothRecord,
    ShareRecord,
    StudyThemeRecord,
    StudyThemesDocument,
    VideoTimelineRecord,
    write_study,
)
from themescope.themes import timeline
from themescope.themes.base import Captioner, PhraseEmbedder, Tagger, ThemeMaterial
from themescope.themes.candidates import theme_passages
from themescope.themes.config import ThemesConfig
from themescope.themes.describe import (
    add_glosses,
    blank_frames,
    caption_frames,
    cluster_run,
    describe_themes,
    on_screen_lines,
    phrase_record,
    read_inputs,
    representative_frames,
    theme_description,
    theme_materials,
)
from themescope.themes.gloss import Glosser
from themescope.themes.phrase_match import (
    PHRASE_MATCHING,
    SAME_MEANING_SIMILARITY,
    EmbeddedPhrases,
    PhraseGroup,
    _is_multilingual,
    embed_phrases,
    phrase_similarity,
)
from themescope.themes.stage import ThemesStage, backends_record

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger("themescope")

STUDY_COLUMNS = ("video", "group", "seconds")

N_GROUP_PHRASES = 8
SAID_PHRASES = 64
"""Phrases of each group and theme matched across languages: the group says each at least
twice, and more than the others (by z) or not. Across languages z ranks by count, so these
are what the group says most; the first N_GROUP_PHRASES with z from stats.MIN_Z that no
other group says in its own language are what it says more."""

Listed = tuple[str, float, int]
"""A group phrase: its text, its z-score and how often the group says it."""


class StudyThemesStage(Stage):
    """Cluster a study's frames into themes and compare its groups.

    Args:
        config: Clustering and description settings (the study's default k range is wider).
        captioner: A captioner instance instead of the one ``config`` names.
        tagger: A tagger instance instead of the one ``config`` names.
        embedder: A phrase embedder instance instead of the one ``config`` names.
        n_bootstrap: Resamples of videos for each share's interval.
        n_permutations: Permutations of the videos' groups for the difference test.
        level: Confidence level of the intervals.
        covariates: Metadata columns whose effects on the videos' theme shares are
            estimated (checked against the corpus by :class:`~themescope.corpus.Study`).
    """

    name = "themes"
    needs = ("train",)
    record = ThemesRecord
    files = ("themes.json", "effects.csv")
    columns = ("theme", "caption")
    config_section = "themes"
    command = "corpus"
    kinds: ClassVar[tuple[Kind, ...]] = ("study",)
    one_video_per_group: ClassVar[bool] = False
    """A comparison's groups are one run each: no interval or test over a group's videos."""

    def __init__(
        self,
        config: ThemesConfig,
        *,
        captioner: Captioner | None = None,
        tagger: Tagger | None = None,
        embedder: PhraseEmbedder | None = None,
        n_bootstrap: int = 1000,
        n_permutations: int = 1000,
        level: float = 0.95,
        covariates: tuple[str, ...] = (),
    ) -> None:
        # The single-run stage resolves, checks and fingerprints the same components.
        self.describer = ThemesStage(config, captioner=captioner, tagger=tagger, embedder=embedder)
        self.config = config
        self.n_bootstrap = n_bootstrap
        self.n_permutations = n_permutations
        self.level = level
        self.covariates = covariates

    def check(self) -> None:
        """Resolve and check the components."""
        self.describer.check()

    def settings(self) -> dict[str, Any]:
        """The themes settings and the statistics'."""
        return {**self.describer.settings(), "statistics": self._statistics()}

    def fingerprint_parts(self) -> Any:
        """The components' identities and the statistics' settings."""
        return {"describe": self.describer.fingerprint_parts(), "statistics": self._statistics()}

    def cluster_features(
        self, latents: np.ndarray, table: pa.Table, blank: np.ndarray
    ) -> np.ndarray:
        """What is clustered, one row per frame: a study clusters the CRVAE latents."""
        return latents

    def _statistics(self) -> dict[str, Any]:
        return {
            "n_bootstrap": self.n_bootstrap,
            "n_permutations": self.n_permutations,
            "level": self.level,
            "covariates": list(self.covariates),
        }

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Cluster, describe, measure the groups; write themes.json and the theme column."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        describer = self.describer
        assert describer.tagger is not None and describer.embedder is not None  # by check()
        if describer.embedder.fallback_reason:
            writer.warn(describer.embedder.fallback_reason)
        config = self.config
        started = time.perf_counter()
        table, latents = read_inputs(run)
        missing = [c for c in STUDY_COLUMNS if c not in table.column_names]
        if missing:
            raise RunDirectoryError(
                f"{run / 'frames.parquet'} lacks column(s) {', '.join(missing)}: it is not a "
                "study's; rerun `themescope corpus`"
            )
        videos = [str(v) for v in table.column("video").to_pylist()]
        groups = [str(g) for g in table.column("group").to_pylist()]
        seconds = np.asarray(table.column("seconds").to_numpy(zero_copy_only=False), float)
        times_s = np.asarray(table.column("time_s").to_numpy(zero_copy_only=False), float)
        texts = [t or "" for t in table.column("text").to_pylist()]
        langs = [lang or "und" for lang in table.column("lang").to_pylist()]
        ocr_texts = [t or "" for t in table.column("ocr_text").to_pylist()]
        video_group = dict(zip(videos, groups, strict=True))
        # Black and blank frames get theme -1 and are left out of the shares, as in a
        # single run.
        blank = blank_frames(table)
        content = np.flatnonzero(~blank)
        if len(content) == 0:
            raise ThemescopeError(
                f"all {len(blank)} frames of the study are black or blank: nothing to cluster"
            )
        if blank.any():
            writer.warn(
                f"{int(blank.sum())} of {len(blank)} frames are black or blank: they belong to "
                "no theme and the groups' shares are of the rest of their airtime"
            )

        def features(latents: np.ndarray) -> np.ndarray:
            return timeline.smooth_within(
                self.cluster_features(latents, table, blank),
                videos,
                config.smooth_frames,
                include=~blank,
            )

        clustering = cluster_run(run, latents, features, None, config, writer, content)
        labels = clustering.labels
        k = int(labels.max()) + 1
        captions = caption_frames(run, table, describer.captioner)
        members = [np.flatnonzero(labels == t) for t in range(k)]
        materials = theme_materials(
            run,
            table,
            members,
            texts,
            captions,
            ocr_texts,
            lambda rows: _majority([langs[i] for i in rows]),
        )
        described, common = describe_themes(
            materials, describer.tagger, describer.embedder, config.n_phrases, writer
        )

        compare = not self.one_video_per_group
        measured = measure_groups(
            videos,
            labels,
            seconds,
            video_group,
            k,
            writer,
            config.seed,
            self._statistics(),
            compare,
        )
        on = content
        on_videos = [videos[i] for i in on]
        candidates = [
            _group_phrases(rows, groups, texts, captions, ocr_texts, langs) for rows in members
        ]
        group_langs = {g.name: g.langs for g in _groups(videos, groups, seconds, langs)}
        matched = _across_languages(candidates, group_langs, describer, writer)
        # Frames of different videos are never "close in time": representative frames spread.
        video_index = {v: i for i, v in enumerate(dict.fromkeys(videos))}
        apart_s = np.array([video_index[v] for v in videos], float) * 1e9 + times_s
        step = float(np.median(seconds)) if len(seconds) else 1.0
        total = float(seconds[on].sum())
        themes = []
        for t, (material, result, rows) in enumerate(
            zip(materials, described, members, strict=True)
        ):
            themes.append(
                StudyThemeRecord(
                    **theme_description(t, material, result, config.n_phrases, writer),
                    **airtime(rows, videos, seconds, total),
                    frames=material.frame_ids,
                    n_frames=len(rows),
                    spans=[],
                    representative_frames=representative_frames(
                        material.frame_ids,
                        clustering.features,
                        clustering.centers[t],
                        apart_s,
                        2 * step,
                    ),
                    group_shares=measured.share_records(t),
                    group_phrases={
                        group: [_group_phrase_record(found) for found in listed]
                        for group, listed in matched.says_more[t].items()
                    },
                    said_by_both=[
                        SaidByBothRecord(
                            phrases={
                                pair.groups[0]: _group_phrase_record(pair.phrases[0]),
                                pair.groups[1]: _group_phrase_record(pair.phrases[1]),
                            },
                            similarity=round(pair.similarity, 4),
                        )
                        for pair in matched.said_by_both[t]
                    ],
                    group_p_value=measured.p_value(t),
                    stability=clustering.theme_stability(t),
                )
            )
        over_time, effects = by_metadata(
            run,
            on_videos,
            labels[on],
            seconds[on],
            video_group,
            {theme.id: theme.label for theme in themes},
            writer,
            seed=config.seed,
            n_bootstrap=self.n_bootstrap,
            level=self.level,
            covariate_names=self.covariates,
        )
        document = StudyThemesDocument(
            schema_version=STUDY_THEMES_SCHEMA_VERSION,
            k=k,
            k_selection=clustering.selection.to_record(),
            backends=backends_record(
                describer.captioner,
                describer.tagger,
                describer.embedder,
                clustering.selection.backend,
                describer.glosser,
            ),
            projection=clustering.projection.to_record(),
            themes=themes,
            common=[phrase_record(p) for p in common],
            stability=None if clustering.stability is None else clustering.stability.to_record(),
            warnings=[],
            groups=_groups(videos, groups, seconds, langs),
            group_test=measured.test_record(),
            confidence_level=self.level,
            n_bootstrap=self.n_bootstrap,
            videos=_timelines(videos, groups, labels, times_s, seconds, k),
            over_time=over_time,
            effects=effects,
            phrase_matching=None
            if not matched.matched
            else PhraseMatching(
                method=PHRASE_MATCHING,
                same_meaning_from=SAME_MEANING_SIMILARITY,
                glosses=describer.glosser is not None,
            ),
        )
        if describer.glosser is not None:
            _add_study_glosses(document, describer.glosser)
        document.warnings = list(writer.warnings)
        write_study(writer.path("themes.json"), document)
        if effects is not None:
            write_effects(writer.path("effects.csv"), effects, themes)
        keep = [c for c in table.column_names if c not in ("theme", "caption")]
        out = table.select(keep).append_column("theme", pa.array(labels, type=pa.int64()))
        if describer.captioner is not None:
            out = out.append_column("caption", pa.array(captions, type=pa.string()))
        pq.write_table(out, writer.path("frames.parquet"))
        writer.record = ThemesRecord(
            k=k,
            k_method=clustering.selection.method,
            k_reason=clustering.selection.reason,
            k_range=list(clustering.selection.k_range),
            backends=document.backends,
            projection=clustering.projection.method,
            n_frames=len(labels),
            n_unsupported_phrases=sum(
                1 for theme in themes for p in theme.phrases if not p.supported
            ),
            timings={"total_s": round(time.perf_counter() - started, 3)},
            captioner_identity=identity(describer.captioner),
        )


@dataclass(frozen=True)
class GroupStatistics:
    """The groups' shares of each theme and the test of whether they differ, as records."""

    shares: stats.GroupShares
    test: stats.GroupTest | None

    def share_records(self, theme: int) -> dict[str, ShareRecord]:
        """Each group's share of ``theme`` (0..k-1) with its interval, rounded."""
        return {
            group: ShareRecord(
                share=round(interval.share, 4),
                low=None if interval.low is None else round(interval.low, 4),
                high=None if interval.high is None else round(interval.high, 4),
            )
            for group, intervals in self.shares.shares.items()
            for interval in [intervals[theme]]
        }

    def p_value(self, theme: int) -> float | None:
        """The test's adjusted p-value of ``theme`` (None without a test)."""
        return (
            None if self.test is None else round(float(self.test.theme_p_values_adjusted[theme]), 4)
        )

    def test_record(self) -> GroupTestRecord | None:
        """The test as themes.json holds it."""
        test = self.test
        return (
            None
            if test is None
            else GroupTestRecord(
                method=test.method,
                statistic=round(float(test.statistic), 6),
                p_value=round(float(test.p_value), 4),
                n_permutations=test.n_permutations,
                correction=test.correction,
            )
        )


def measure_groups(
    videos: list[str],
    labels: np.ndarray,
    seconds: np.ndarray,
    video_group: dict[str, str],
    k: int,
    writer: StageWriter,
    seed: int,
    statistics: Mapping[str, Any],
    compare: bool = True,
) -> GroupStatistics:
    """The groups' shares and their difference test, from the frames' labels (-1: no theme's).

    The themes stage, a codebook's themes (:mod:`themescope.corpus.codebook`) and a study
    with videos added (:mod:`themescope.corpus.assign`) all measure the groups here, with
    the statistics' settings the themes stage records (``n_bootstrap``, ``level``,
    ``n_permutations``). ``compare`` False (a comparison's groups are one run each): no
    test, no warnings.
    """
    on = np.flatnonzero(labels >= 0)
    videos, labels, seconds = [videos[i] for i in on], labels[on], seconds[on]
    shares = stats.group_shares(
        videos,
        labels,
        seconds,
        video_group,
        k,
        n_bootstrap=int(statistics["n_bootstrap"]),
        level=float(statistics["level"]),
        seed=seed,
    )
    if not compare:
        return GroupStatistics(shares, None)
    for message in shares.warnings:
        writer.warn(message)
    n_permutations = int(statistics["n_permutations"])
    test = _difference_test(videos, labels, seconds, video_group, k, seed, n_permutations, writer)
    return GroupStatistics(shares, test)


def airtime(
    rows: np.ndarray, videos: list[str], seconds: np.ndarray, total: float
) -> dict[str, Any]:
    """A theme's share of the themed airtime ``total``, its seconds and videos, by its frames."""
    theme_seconds = float(seconds[rows].sum())
    return {
        "share": round(theme_seconds / total, 4) if total else 0.0,
        "seconds": round(theme_seconds, 3),
        "n_videos": len({videos[i] for i in rows}),
    }


def group_phrase_glosses(document: StudyThemesDocument) -> dict[str, str | None]:
    """The glosses of the group phrases ``document`` holds, by text (glossing is slow)."""
    return {
        phrase.text: phrase.gloss
        for theme in document.themes
        for phrases in theme.group_phrases.values()
        for phrase in phrases
    }


def _difference_test(
    videos: list[str],
    labels: np.ndarray,
    seconds: np.ndarray,
    video_group: dict[str, str],
    k: int,
    seed: int,
    n_permutations: int,
    writer: StageWriter,
) -> stats.GroupTest | None:
    if len(set(video_group.values())) < 2:
        writer.warn("the study has one group: there is nothing to compare groups with")
        return None
    try:
        test = stats.group_difference_test(
            videos, labels, seconds, video_group, k, n_permutations=n_permutations, seed=seed
        )
    except stats.TooFewGroupsError as exc:
        writer.warn(str(exc))
        return None
    for message in test.warnings:
        writer.warn(message)
    return test


def _majority(values: list[str]) -> str:
    return Counter(values).most_common(1)[0][0] if values else "und"


def _group_phrases(
    rows: np.ndarray,
    groups: list[str],
    texts: list[str],
    captions: list[str],
    ocr_texts: list[str],
    langs: list[str],
) -> dict[str, list[tuple[str, float, int]]]:
    """The phrases each group says in one theme, highest z against the others first.

    Those with z below :data:`~themescope.corpus.stats.MIN_Z` are no difference; they
    are kept to be matched with what another group says more, in its own language.
    """
    passages: dict[str, list[str]] = {}
    lang_by_group: dict[str, str] = {}
    for group in dict.fromkeys(groups[i] for i in rows):
        mine = [int(i) for i in rows if groups[i] == group]
        material = ThemeMaterial(
            theme_id=-1,
            frame_ids=mine,
            texts=[texts[i] for i in mine],
            captions=[captions[i] for i in mine],
            lang=_majority([langs[i] for i in mine]),
            on_screen=on_screen_lines([ocr_texts[i] for i in mine]),
        )
        # Consecutive frames repeat a cue: passages count each sentence once.
        passages[group] = theme_passages(material)
        lang_by_group[group] = material.lang
    return stats.group_phrases(passages, lang_by_group, n=SAID_PHRASES, min_z=-np.inf)


def _says_more(listed: list[Listed], dropped: set[int]) -> list[Listed]:
    """What a group says more than the others: its distinctive phrases not said by others."""
    return [p for i, p in enumerate(listed) if p[1] >= stats.MIN_Z and i not in dropped][
        :N_GROUP_PHRASES
    ]


def group_phrase_records(
    found: dict[str, list[Listed]],
    said_by_both: Sequence[SaidByBothRecord],
    glosses: Mapping[str, str | None] | None = None,
) -> dict[str, list[GroupPhraseRecord]]:
    """What each group says more than the others, for themes not described anew.

    A codebook's merged theme and a study with videos added keep the phrases the fit
    found said by both groups (each in its own language) out, as the themes stage
    does; matching anew would load the phrase embedder.
    """
    shared = {(group, p.text) for pair in said_by_both for group, p in pair.phrases.items()}
    known = glosses or {}
    return {
        group: [
            GroupPhraseRecord(
                text=text, z=round(float(z), 3), count=int(count), gloss=known.get(text)
            )
            for text, z, count in _says_more(
                listed, {i for i, (text, _, _) in enumerate(listed) if (group, text) in shared}
            )
        ]
        for group, listed in found.items()
    }


def _group_phrase_record(found: Listed) -> GroupPhraseRecord:
    text, z, count = found
    return GroupPhraseRecord(text=text, z=round(float(z), 3), count=int(count))


@dataclass(frozen=True)
class SaidByBoth:
    """A phrase of each of two groups, in different languages, that say the same thing."""

    groups: tuple[str, str]
    phrases: tuple[Listed, Listed]
    similarity: float


@dataclass
class MatchedPhrases:
    """Every theme's group phrases once what two languages both say is taken out.

    Attributes:
        says_more: Per theme, per group, up to N_GROUP_PHRASES phrases it says more
            than the others, highest z first.
        said_by_both: Per theme, the pairs taken out, most alike first.
        matched: Whether phrases were matched across languages at all.
    """

    says_more: list[dict[str, list[Listed]]]
    said_by_both: list[list[SaidByBoth]]
    matched: bool


def _across_languages(
    candidates: list[dict[str, list[Listed]]],
    group_langs: dict[str, list[str]],
    describer: ThemesStage,
    writer: StageWriter,
) -> MatchedPhrases:
    """Take out of each theme's group phrases those another group says in its own language.

    Two groups' candidates count as saying the same where
    :func:`~themescope.themes.phrase_match.phrase_similarity` reaches
    :data:`~themescope.themes.phrase_match.SAME_MEANING_SIMILARITY`, the rule
    ``themescope compare`` uses. Groups of one language are left as they are: the
    log-odds already weigh the same words' counts against each other.
    """
    keep = [{g: _says_more(listed, set()) for g, listed in theme.items()} for theme in candidates]
    untouched = MatchedPhrases(says_more=keep, said_by_both=[[] for _ in candidates], matched=False)
    names = list(group_langs)
    pairs = [
        (a, b)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if not (group_langs[a] and group_langs[a] == group_langs[b])
    ]
    if not pairs:
        return untouched
    embedder = describer.embedder
    assert embedder is not None  # by check()
    info = embedder_info(embedder)
    multilingual, reason = _is_multilingual(str(info["name"]), info["path"], False)
    if not multilingual:
        writer.warn(
            "the groups speak different languages but their phrases are not matched across "
            f"them: {reason}; a group's phrases may be the others' in translation"
        )
        return untouched
    glosser = describer.glosser
    return match_group_phrases(
        candidates, pairs, embedder, glosser.gloss if glosser is not None else lambda _: None
    )


def match_group_phrases(
    candidates: list[dict[str, list[Listed]]],
    pairs: list[tuple[str, str]],
    embedder: PhraseEmbedder,
    gloss: Callable[[str], str | None],
) -> MatchedPhrases:
    """Match the group phrases of each pair of groups, theme by theme, by meaning.

    Each group's phrases (of every theme, with their English glosses) are embedded
    and centred on their own mean, as a run's are in a comparison: that takes out
    the direction that sets the group's language apart. In each theme, a phrase one
    group says more than the others (z from :data:`~themescope.corpus.stats.MIN_Z`)
    at least :data:`~themescope.themes.phrase_match.SAME_MEANING_SIMILARITY` like
    one the other group says (more or not) is said by both: it is paired with the
    other group's phrase most like it, and leaves the group's list.

    Args:
        candidates: Per theme, per group, the phrases it says, highest z first.
        pairs: The pairs of groups to match (groups of different languages).
        embedder: The phrase embedder (multilingual).
        gloss: A phrase's English gloss (None for English or unknown words).

    Returns:
        The phrases each group says more (up to N_GROUP_PHRASES) and the pairs taken out.
    """
    spaces: dict[str, list[EmbeddedPhrases | None]] = {}
    for group in dict.fromkeys(g for pair in pairs for g in pair):
        themes: list[PhraseGroup | None] = []
        for theme in candidates:
            listed = theme.get(group, [])
            texts = [text for text, _, _ in listed]
            themes.append(
                (texts, np.array([z for _, z, _ in listed]), [gloss(t) for t in texts])
                if listed
                else None
            )
        spaces[group] = embed_phrases(themes, embedder)
    says_more, said_by_both = [], []
    for t, theme in enumerate(candidates):
        dropped: dict[str, set[int]] = {group: set() for group in theme}
        found: dict[tuple[str, int, str, int], float] = {}
        for a, b in pairs:
            mine, other = spaces[a][t], spaces[b][t]
            if mine is None or other is None:
                continue
            similarity = phrase_similarity(mine, other)
            same = similarity >= SAME_MEANING_SIMILARITY
            # Each distinctive phrase said by the other side too is in a pair with its closest.
            for i in map(int, np.flatnonzero(same.any(axis=1) & (mine.scores >= stats.MIN_Z))):
                j = int(similarity[i].argmax())
                found[(a, i, b, j)] = float(similarity[i, j])
            for j in map(int, np.flatnonzero(same.any(axis=0) & (other.scores >= stats.MIN_Z))):
                i = int(similarity[:, j].argmax())
                found[(a, i, b, j)] = float(similarity[i, j])
        for a, i, b, j in found:
            dropped[a].add(i)
            dropped[b].add(j)
        says_more.append(
            {group: _says_more(listed, dropped[group]) for group, listed in theme.items()}
        )
        said_by_both.append(
            [
                SaidByBoth(groups=(a, b), phrases=(theme[a][i], theme[b][j]), similarity=value)
                for (a, i, b, j), value in sorted(found.items(), key=lambda item: -item[1])
            ][:N_GROUP_PHRASES]
        )
    return MatchedPhrases(says_more=says_more, said_by_both=said_by_both, matched=True)


def _groups(
    videos: list[str], groups: list[str], seconds: np.ndarray, langs: list[str]
) -> list[GroupRecord]:
    records = []
    for group, rows in timeline.rows_by_key(groups).items():
        records.append(
            GroupRecord(
                name=group,
                n_videos=len({videos[i] for i in rows}),
                seconds=round(float(seconds[rows].sum()), 3),
                langs=sorted({langs[i] for i in rows if langs[i] != "und"}),
            )
        )
    return records


def _timelines(
    videos: list[str],
    groups: list[str],
    labels: np.ndarray,
    times_s: np.ndarray,
    seconds: np.ndarray,
    k: int,
) -> list[VideoTimelineRecord]:
    records = []
    for video, rows in timeline.rows_by_key(videos).items():
        themed = rows[labels[rows] >= 0]
        total = float(seconds[themed].sum())
        per_theme = np.bincount(labels[themed], weights=seconds[themed], minlength=k)
        records.append(
            VideoTimelineRecord(
                id=video,
                group=groups[int(rows[0])],
                seconds=round(float(seconds[rows].sum()), 3),
                shares=[round(float(x / total), 4) if total else 0.0 for x in per_theme],
                spans=[
                    (round(span.start_s, 3), round(span.end_s, 3), span.label)
                    for span in timeline.spans(labels[rows], times_s[rows], seconds[rows])
                ],
            )
        )
    return records


def _add_study_glosses(document: StudyThemesDocument, glosser: Glosser) -> None:
    add_glosses(document, glosser)
    for theme in document.themes:
        listed = [p for phrases in theme.group_phrases.values() for p in phrases]
        for phrase in [*listed, *(p for pair in theme.said_by_both for p in pair.phrases.values())]:
            phrase.gloss = glosser.gloss(phrase.text)
