"""New videos into a fitted study (``themescope corpus more.csv --into STUDY``).

A tiny two-group study is fitted on four themes of the generator; then one video of a
story it never saw (all its airtime on a fifth theme) and one of the stories it knows
are added. The fitted videos keep their themes frame for frame; the added ones get
themes, shares and a novel share; bad ``--into`` targets are refused in one line.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from test_corpus import TINY_VIDEO, _cli
from test_model_support import tiny_config
from themescope._version import __version__
from themescope.corpus.assign import ADDED_FRAMES, ADDED_LATENTS
from themescope.corpus.config import StudyConfig
from themescope.corpus.study import Study
from themescope.errors import ConfigError, RunDirectoryError
from themescope.media.config import IngestConfig
from themescope.model.config import MULTILINGUAL
from themescope.rundir import RunDirectory
from themescope.study_documents import read_study_themes, read_study_videos
from themescope.synthetic import SyntheticGroup, generate_corpus
from themescope.themes.config import ThemesConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FIT_MIX = (0.25, 0.25, 0.25, 0.25, 0.0)
UNSEEN_MIX = (0.0, 0.0, 0.0, 0.0, 1.0)


def tiny_study() -> Study:
    """The tiny model, trained long enough that an unseen story lies apart from the fit.

    A categorical covariate, ``slot``, is estimated over every video: two added videos
    holding both of its values are no covariate "with a level per video".
    """
    return Study(
        study=StudyConfig(covariates="slot"),
        ingest=IngestConfig(ocr="off"),
        train=tiny_config(word_vectors=MULTILINGUAL, epochs=30),
        themes=ThemesConfig(k_range=(2, 4), n_bootstrap=0),
        n_bootstrap=200,
        n_permutations=200,
        workers=1,
    )


def _more_csv(source: Path, out: Path, prefix: str) -> Path:
    """A manifest of ``source``'s videos, copied to file names that start with ``prefix``."""
    with open(source / "corpus.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows):
        row["slot"] = ("morning", "evening")[i % 2]
        for column in ("video", "subtitles"):
            path = (source / row[column]).resolve()
            renamed = path.with_name(prefix + path.name)
            shutil.copy(path, renamed)
            row[column] = str(renamed)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


@pytest.fixture(scope="module")
def added(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("into")
    groups = (SyntheticGroup("A", "en", FIT_MIX), SyntheticGroup("B", "en", FIT_MIX))
    fit = generate_corpus(
        root / "fit",
        groups=groups,
        n_per_group=2,
        duration_s=24.0,
        seed=3,
        **TINY_VIDEO,  # type: ignore[arg-type]
    )
    more = generate_corpus(
        root / "more",
        groups=(SyntheticGroup("A", "en", UNSEEN_MIX), SyntheticGroup("B", "en", FIT_MIX)),
        n_per_group=1,
        duration_s=24.0,
        seed=11,
        **TINY_VIDEO,  # type: ignore[arg-type]
    )
    study = root / "study"
    fit_csv = _more_csv(fit.manifest_path.parent, root / "fit.csv", prefix="fit_")
    tiny_study().run(fit_csv, out=study)
    before = pq.read_table(study / "frames.parquet")
    latents = np.load(study / "latents.npy")
    more_csv = _more_csv(more.manifest_path.parent, root / "more.csv", prefix="added_")
    result = tiny_study().add(more_csv, into=study)
    return {
        "study": study,
        "fit": fit,
        "fit_csv": fit_csv,
        "more": more,
        "more_csv": more_csv,
        "before": before,
        "latents": latents,
        "result": result,
    }


def test_added_videos_get_themes_and_shares_and_the_fitted_ones_keep_theirs(
    added: dict[str, object],
) -> None:
    study = added["study"]
    assert isinstance(study, Path)
    after = pq.read_table(study / "frames.parquet")
    before = added["before"]
    # the fit's frames, latents and themes are unchanged frame for frame
    assert after.column("theme").to_pylist() == before.column("theme").to_pylist()  # type: ignore[attr-defined]
    assert np.array_equal(np.load(study / "latents.npy"), added["latents"])  # type: ignore[arg-type]

    videos = read_study_videos(study / "videos.json").videos
    new_ids = {"a__added_news_01", "b__added_news_01"}
    assert {v.id for v in videos if v.added is not None} == new_ids
    assert all(v.status == "done" for v in videos)
    manifest = RunDirectory(study, study=True).read_manifest()
    assert set(manifest.record("assign").added) == new_ids  # type: ignore[union-attr]

    frames = pq.read_table(study / ADDED_FRAMES).to_pydict()
    k = read_study_themes(study / "themes.json").k
    assert set(frames["video"]) == new_ids
    assert frames["frame_id"][0] == before.num_rows  # type: ignore[attr-defined]
    assert all(-1 <= t < k for t in frames["theme"])

    document = read_study_themes(study / "themes.json")
    assert [g.n_videos for g in document.groups] == [3, 3]
    for group in ("A", "B"):
        assert sum(t.group_shares[group].share for t in document.themes) == pytest.approx(1, 1e-3)
    timelines = {t.id: t for t in document.videos}
    assert set(timelines) >= new_ids
    for video in new_ids:
        assert sum(timelines[video].shares) == pytest.approx(1, abs=1e-3)
        assert timelines[video].novel_share is not None
    assert all(timelines[v.id].novel_share is None for v in videos if v.added is None)
    assert document.novelty is not None and document.novelty.n_added_videos == 2
    result = added["result"]
    assert set(result.novel_shares) == new_ids  # type: ignore[attr-defined]


def test_a_video_of_an_unseen_story_is_flagged_novel(added: dict[str, object]) -> None:
    study = added["study"]
    assert isinstance(study, Path)
    shares = {t.id: t.novel_share for t in read_study_themes(study / "themes.json").videos}
    unseen, seen = shares["a__added_news_01"], shares["b__added_news_01"]
    assert unseen is not None and seen is not None
    # 1 % of the fit's frames lie beyond the threshold; an unseen story's far more
    assert unseen >= 0.25 and seen <= 0.1
    frames = pq.read_table(study / ADDED_FRAMES).to_pydict()
    distance = {
        video: float(
            np.median(
                [d for v, d in zip(frames["video"], frames["distance"], strict=True) if v == video]
            )
        )
        for video in ("a__added_news_01", "b__added_news_01")
    }
    assert distance["a__added_news_01"] > 1.5 * distance["b__added_news_01"]


def test_a_plain_rerun_of_the_fit_keeps_the_added_videos(added: dict[str, object]) -> None:
    study = added["study"]
    result = tiny_study().run(added["fit_csv"], out=study)  # type: ignore[arg-type]
    assert set(result.stages.values()) == {"skipped"}
    assert result.stages["assign"] == "skipped"
    videos = read_study_videos(study / "videos.json").videos  # type: ignore[operator]
    assert sum(v.added is not None for v in videos) == 2


def test_bad_into_targets_are_refused_in_one_line(
    added: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = added["study"]
    assert isinstance(study, Path)
    more_csv = added["more_csv"]
    # ids already in the study
    with pytest.raises(ConfigError) as clash:
        tiny_study().add(more_csv, into=study)  # type: ignore[arg-type]
    assert str(clash.value) == (
        f"{more_csv}: row 2: a__added_news_01, row 3: b__added_news_01 already in {study} "
        "(videos/<id>/); give the new files other names or another group"
    )
    fresh = _more_csv(added["more"].manifest_path.parent, tmp_path / "m.csv", prefix="fresh_")  # type: ignore[attr-defined]
    # a single video's run
    run = study / "videos" / "a__fit_news_01"
    with pytest.raises(RunDirectoryError) as single:
        tiny_study().add(fresh, into=run)
    assert str(single.value) == (
        f"{run} is a single video's run directory, not a study; --into takes a folder made "
        "by `themescope corpus`"
    )
    # another version, another model
    other = tmp_path / "other"
    shutil.copytree(study, other, ignore=shutil.ignore_patterns("videos"))
    manifest = json.loads((other / "manifest.json").read_text(encoding="utf-8"))
    manifest["version"] = "9.9.9"
    (other / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(RunDirectoryError) as version:
        tiny_study().add(fresh, into=other)
    assert str(version.value) == (
        f"{other} was made by themescope 9.9.9, this is {__version__}: its model and themes "
        "are not this version's; add the videos with --refit (a new fit of every video) or "
        "with themescope 9.9.9"
    )
    manifest["version"] = __version__
    (other / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    config = json.loads((other / "model" / "config.json").read_text(encoding="utf-8"))
    config["config"]["latent_dim"] += 1
    (other / "model" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(RunDirectoryError) as model:
        tiny_study().add(fresh, into=other)
    assert str(model.value) == (
        f"{other / 'model'} holds another model than the one {other} was fitted with (its "
        "config.json differs from the manifest's train settings); refit with --refit"
    )
    # --into with --out, from the command line: one line, exit 2
    status, err = _cli(capsys, "corpus", str(fresh), "--into", str(study), "--out", str(other))
    assert status == 2
    assert err.strip().splitlines() == [
        "themescope: error: --into adds videos to a fitted study and --out fits one: "
        "give one of them"
    ]


def test_refit_fits_the_old_and_the_new_videos_together(
    added: dict[str, object], tmp_path: Path
) -> None:
    study = tmp_path / "refit"
    shutil.copytree(added["study"], study)  # type: ignore[arg-type]
    fresh = _more_csv(added["more"].manifest_path.parent, tmp_path / "m.csv", prefix="refit_")  # type: ignore[attr-defined]
    result = tiny_study().add(fresh, into=study, refit=True)
    assert result.stages["ingest"] == "ran" and "assign" not in result.stages
    videos = read_study_videos(study / "videos.json").videos
    assert len(videos) == 8 and all(v.added is None for v in videos)
    assert set(pq.read_table(study / "frames.parquet").column("video").to_pylist()) == {
        v.id for v in videos
    }
    assert not (study / ADDED_FRAMES).exists()
    assert read_study_themes(study / "themes.json").novelty is None
    assert "assign" not in RunDirectory(study, study=True).read_manifest().stages


def test_videos_added_under_a_codebook_take_the_themes_it_merged_them_into(
    added: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "coded"
    shutil.copytree(added["study"], study)  # type: ignore[arg-type]
    assert _cli(capsys, "codebook", str(study))[0] == 0
    codebook = study / "codebook.toml"
    # The clustering's theme 1 merges into theme 0: the researcher reads them as one.
    text = codebook.read_text("utf-8").replace("# merge_into = 0", "merge_into = 0", 2)
    codebook.write_text(text.replace("merge_into = 0", "# merge_into = 0", 1), "utf-8")
    assert _cli(capsys, "codebook", str(study), "--apply")[0] == 0
    # A merged theme keeps its target's id: the ids are the automatic ones that remain.
    ids = {theme.id for theme in read_study_themes(study / "themes.json").themes}
    fresh = _more_csv(added["more"].manifest_path.parent, tmp_path / "m.csv", prefix="coded_")  # type: ignore[attr-defined]
    tiny_study().add(fresh, into=study)
    added_themes = set(pq.read_table(study / ADDED_FRAMES).column("theme").to_pylist())
    assert 1 not in ids and added_themes <= ids | {-1}
    assert {theme.id for theme in read_study_themes(study / "themes.json").themes} == ids


def test_added_videos_are_centred_on_the_fits_language_means_without_embedding_them_again(
    added: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch
    import wordfreq

    from themescope.corpus.assign import _encode
    from themescope.model.artifacts import load_model

    study = added["study"]
    assert isinstance(study, Path)
    _, vocabulary = load_model(study / "model", torch.device("cpu"))
    assert vocabulary is not None and set(vocabulary.language_means) == {"en"}
    assert vocabulary.language_means["en"].shape == (vocabulary.dim,)

    def no_reference_words(*args: object, **kwargs: object) -> list[str]:
        raise AssertionError("the fit's language means were embedded again")

    monkeypatch.setattr(wordfreq, "top_n_list", no_reference_words)
    frames = pq.read_table(study / ADDED_FRAMES)
    latents = _encode(RunDirectory(study, study=True), frames, "cpu")
    np.testing.assert_allclose(latents, np.load(study / ADDED_LATENTS), atol=1e-5)
