"""The themes stage on hand-built run directories with known groups."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from sklearn.metrics import adjusted_rand_score

from test_model_support import make_run as make_ingested_run
from test_model_support import tiny_config
from themescope import registry
from themescope.documents import read_themes
from themescope.errors import ConfigError, StageNotDoneError, ThemescopeError
from themescope.manifest import IngestRecord, ThemesRecord, VideoFacts
from themescope.model.config import TrainConfig
from themescope.rundir import RunDirectory, StageResult
from themescope.synthetic import text_frames_table
from themescope.themes.base import Captioner, Phrase, Tagger, ThemeMaterial, ThemePhrases
from themescope.themes.describe import lower_third_texts, representative_frames
from themescope.themes.stage import ThemesConfig, build_themes

VOCAB = [
    ["nurse", "vaccine", "syringe", "clinic", "dose", "appointment", "pharmacy", "booster"],
    ["senator", "congress", "legislation", "vote", "debate", "capitol", "lawmakers", "committee"],
    ["storm", "rain", "forecast", "flood", "hurricane", "wind", "meteorologist", "evacuation"],
    ["football", "stadium", "coach", "touchdown", "team", "quarterback", "playoffs", "fans"],
]
SHARED = ["today", "people", "news", "report", "city", "morning"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _labels(result: StageResult) -> np.ndarray:
    return pq.read_table(result.run / "frames.parquet", columns=["theme"])["theme"].to_numpy()


def _themes_json(result: StageResult) -> dict:
    return json.loads((result.run / "themes.json").read_text(encoding="utf-8"))


def make_run(
    path: Path,
    *,
    n_themes: int = 4,
    block: int = 6,
    n_blocks: int = 20,
    dim: int = 16,
    seed: int = 0,
    empty_text_theme: int | None = None,
    images: bool = False,
) -> np.ndarray:
    """Write a run with ingest and train done; return the true group of each frame."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(n_blocks) % n_themes, block)
    n = len(truth)
    centers = rng.normal(scale=4.0, size=(n_themes, dim))
    latents = (centers[truth] + rng.normal(size=(n, dim))).astype(np.float32)
    texts = []
    for t in truth:
        if t == empty_text_theme:
            texts.append("")
            continue
        words = list(rng.choice(VOCAB[t % len(VOCAB)], 4, replace=False)) + list(
            rng.choice(SHARED, 2)
        )
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + ".")
    times = np.arange(n) * 2.0 + 0.04
    run = RunDirectory(path)
    with run.stage("ingest", stage_fingerprint="ing", config={}) as st:
        table = text_frames_table(np.arange(n) * 2.0, times, texts)
        pq.write_table(table, st.path("frames.parquet"))
        if images:
            colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)]
            for i, t in enumerate(truth):
                Image.new("RGB", (32, 18), colours[t % 4]).save(st.path(f"frames/{i:06d}.jpg"))
        st.record = IngestRecord(
            n_frames=n,
            every_s=2.0,
            lang="en",
            video=VideoFacts(duration_s=n * 2.0),
        )
    with run.stage("train", stage_fingerprint="tr", config={}) as st:
        np.save(st.path("latents.npy"), latents)
    return truth


def test_recovers_known_themes(tmp_path, embedder):
    truth = make_run(tmp_path / "run")
    result = build_themes(tmp_path / "run", ThemesConfig(seed=0), embedder=embedder)
    data = json.loads((tmp_path / "run" / "themes.json").read_text(encoding="utf-8"))
    assert data == _themes_json(result)
    # The typed reader accepts what the stage wrote and loses no value.
    assert json.loads(msgspec.json.encode(read_themes(tmp_path / "run" / "themes.json"))) == data
    assert data["schema_version"] == 1
    assert data["k"] == 4
    assert data["k_selection"]["method"] == "auto"
    assert data["k_selection"]["chosen"] == 4
    assert [row["k"] for row in data["k_selection"]["table"]] == [2, 3, 4, 5, 6]
    assert "k=4" in data["k_selection"]["reason"]
    labels = pq.read_table(tmp_path / "run" / "frames.parquet").column("theme").to_numpy()
    assert adjusted_rand_score(truth, labels) >= 0.8
    assert len(data["projection"]["points"]) == len(truth)
    assert sum(t["share"] for t in data["themes"]) == pytest.approx(1.0, abs=1e-3)
    assert data["backends"]["embedder"]["name"] == "multilingual-e5-small"
    assert data["backends"]["tagger"]["name"] == "extractive"
    tops = set()
    for theme in data["themes"]:
        frames = theme["frames"]
        true_group = np.bincount(truth[frames]).argmax()
        assert len(theme["phrases"]) == 10 or theme["phrases_note"]
        for phrase in theme["phrases"][:3]:
            words = phrase["text"].split()
            assert all(w in VOCAB[true_group] for w in words), (phrase["text"], true_group)
            assert phrase["supported"]
            assert set(phrase["evidence"]["frame_ids"]) <= set(frames)
            assert phrase["evidence"]["support"] > 0
        top = theme["phrases"][0]["text"]
        tops.add(top)
        assert theme["label"] == top[:1].upper() + top[1:]  # no on-screen headline: the top
        assert theme["people"] == []
        # frames of a theme come in blocks of 6 consecutive frames (12 s each)
        assert all(end - start == pytest.approx(12.0, abs=0.05) for start, end in theme["spans"])
        reps = theme["representative_frames"]
        assert 1 <= len(reps) <= 6 and set(reps) <= set(frames)
    assert len(tops) == 4
    record = RunDirectory(tmp_path / "run").record("themes")
    assert record.k == 4 and record.k_method == "auto" and record.k_reason


def test_rerun_is_skipped_until_forced_or_changed(tmp_path, embedder):
    make_run(tmp_path / "run", n_blocks=8)
    first = build_themes(tmp_path / "run", ThemesConfig(seed=0, n_bootstrap=2), embedder=embedder)
    assert not first.skipped
    again = build_themes(tmp_path / "run", ThemesConfig(seed=0, n_bootstrap=2), embedder=embedder)
    assert again.skipped and _themes_json(again) == _themes_json(first)
    assert np.array_equal(_labels(again), _labels(first))
    forced = build_themes(
        tmp_path / "run", ThemesConfig(seed=0, n_bootstrap=2), embedder=embedder, force=True
    )
    assert not forced.skipped
    user = build_themes(tmp_path / "run", ThemesConfig(k=2, n_bootstrap=2), embedder=embedder)
    assert not user.skipped and user.record.k == 2
    assert _themes_json(user)["k_selection"]["method"] == "user"


def test_user_k_and_determinism(tmp_path, embedder):
    make_run(tmp_path / "a", seed=3, n_blocks=12)
    make_run(tmp_path / "b", seed=3, n_blocks=12)
    config = ThemesConfig(k=3, seed=7, n_bootstrap=3)
    a = build_themes(tmp_path / "a", config, embedder=embedder)
    b = build_themes(tmp_path / "b", config, embedder=embedder)
    assert a.record.k == 3 and _themes_json(a)["k_selection"]["method"] == "user"
    assert _themes_json(a) == _themes_json(b)
    assert np.array_equal(_labels(a), _labels(b))


def test_fewer_frames_than_k(tmp_path, embedder):
    make_run(tmp_path / "run", n_themes=2, block=1, n_blocks=3)
    result = build_themes(tmp_path / "run", ThemesConfig(k=5), embedder=embedder)
    assert result.record.k == 3
    assert _themes_json(result)["k_selection"]["method"] == "lowered"
    assert any("k=5" in w for w in _themes_json(result)["warnings"])
    assert _themes_json(result)["projection"]["method"] == "trivial"
    record = RunDirectory(tmp_path / "run").record("themes")
    assert record.warnings == _themes_json(result)["warnings"]


@pytest.mark.parametrize("n_frames", [1, 2, 3])
def test_tiny_runs_get_one_theme(tmp_path, embedder, n_frames):
    make_run(tmp_path / "run", n_themes=2, block=1, n_blocks=n_frames)
    result = build_themes(tmp_path / "run", ThemesConfig(), embedder=embedder)
    assert result.record.k == 1
    assert _themes_json(result)["themes"][0]["frames"] == list(range(n_frames))
    assert _themes_json(result)["themes"][0]["share"] == pytest.approx(1.0)
    assert _themes_json(result)["warnings"]


def test_zero_frames_is_a_clear_error(tmp_path, embedder):
    make_run(tmp_path / "run", block=1, n_blocks=0)
    with pytest.raises(ThemescopeError, match="0 frames"):
        build_themes(tmp_path / "run", ThemesConfig(), embedder=embedder)


def test_requires_train(tmp_path, embedder):
    run = RunDirectory(tmp_path / "run")
    with run.stage("ingest", stage_fingerprint="x", config={}) as st:
        st.path("frames.parquet").write_bytes(b"")
    with pytest.raises(StageNotDoneError, match="themescope train"):
        build_themes(run, ThemesConfig(), embedder=embedder)


def test_theme_without_text_is_noted(tmp_path, embedder):
    make_run(tmp_path / "run", n_blocks=8, empty_text_theme=2)
    result = build_themes(tmp_path / "run", ThemesConfig(k=4, n_bootstrap=0), embedder=embedder)
    empty = [t for t in _themes_json(result)["themes"] if not t["phrases"]]
    assert len(empty) == 1
    assert "no transcript text" in empty[0]["phrases_note"]
    assert empty[0]["label"] == f"theme {empty[0]['id']}"
    assert any("no transcript text" in w for w in _themes_json(result)["warnings"])


class ColourCaptioner(Captioner):
    """Names the dominant colour of a frame: a real (if simple) image-to-text function."""

    name = "colour"

    def caption(self, images):
        names = ["red", "green", "blue"]
        return [
            f"a {names[int(np.argmax(np.asarray(im).reshape(-1, 3).mean(0)))]} screen"
            for im in images
        ]


def test_captions_are_saved_and_used(tmp_path, embedder):
    truth = make_run(tmp_path / "run", n_themes=3, n_blocks=9, images=True, empty_text_theme=1)
    result = build_themes(
        tmp_path / "run",
        ThemesConfig(k=3, n_bootstrap=0),
        captioner=CountingCaptioner(),
        embedder=embedder,
    )
    table = pq.read_table(tmp_path / "run" / "frames.parquet")
    captions = table.column("caption").to_pylist()
    assert captions[0] == "a red screen" and captions[6] == "a green screen"
    assert _themes_json(result)["backends"]["captioner"]["name"] == "colour"
    green = next(t for t in _themes_json(result)["themes"] if truth[t["frames"][0]] == 1)
    assert green["phrases"] and green["phrases"][0]["text"] in {"green", "green screen"}
    assert green["phrases"][0]["evidence"]["captions"] == ["a green screen"]
    # another k reuses the captions instead of captioning again
    counting = CountingCaptioner()
    again = build_themes(
        tmp_path / "run", ThemesConfig(k=2, n_bootstrap=0), captioner=counting, embedder=embedder
    )
    assert counting.n_images == 0 and again.record.k == 2
    assert (
        pq.read_table(tmp_path / "run" / "frames.parquet").column("caption").to_pylist() == captions
    )
    # another captioner class with the same name is another captioner: it captions again
    other = CountingColourCaptioner()
    build_themes(
        tmp_path / "run", ThemesConfig(k=3, n_bootstrap=0), captioner=other, embedder=embedder
    )
    assert other.n_images == len(captions)
    # without a captioner the caption column goes away (it would be stale)
    build_themes(tmp_path / "run", ThemesConfig(k=2, n_bootstrap=0), embedder=embedder)
    assert "caption" not in pq.read_table(tmp_path / "run" / "frames.parquet").column_names


class CountingCaptioner(ColourCaptioner):
    name = "colour"

    def __init__(self):
        self.n_images = 0

    def caption(self, images):
        self.n_images += len(images)
        return super().caption(images)


class CountingColourCaptioner(CountingCaptioner):
    """Captions like ColourCaptioner, under the same name, but is another class."""


class FixedTagger(Tagger):
    """Returns the same phrases for every theme (as a careless LLM might)."""

    name = "fixed"

    def tag(self, themes: list[ThemeMaterial], n_phrases: int = 10) -> list[ThemePhrases]:
        return [
            ThemePhrases(
                [
                    Phrase(t, 1.0 - i / 10)
                    for i, t in enumerate(["vaccine", "moon landing", "storm", "coach"])
                ],
                "fixed",
            )
            for _ in themes
        ]


def test_any_tagger_gets_evidence_and_distinct_tops(tmp_path, embedder):
    make_run(tmp_path / "run", n_blocks=8)
    result = build_themes(
        tmp_path / "run", ThemesConfig(k=4, n_bootstrap=0), tagger=FixedTagger(), embedder=embedder
    )
    themes = _themes_json(result)["themes"]
    tops = [t["phrases"][0]["text"] for t in themes]
    assert sorted(tops) == ["coach", "moon landing", "storm", "vaccine"]
    # the theme that keeps "vaccine" is the one whose frames talk about vaccines
    vaccine_theme = next(t for t in themes if t["phrases"][0]["text"] == "vaccine")
    assert vaccine_theme["phrases"][0]["supported"]
    assert vaccine_theme["phrases"][0]["evidence"]["support"] > 0.3
    for theme in themes:
        moon = next(p for p in theme["phrases"] if p["text"] == "moon landing")
        assert moon["supported"] is False and moon["evidence"]["support"] == 0


def test_representatives_are_typical_and_spread():
    times = np.array([0.0, 2.0, 4.0, 6.0, 8.0])
    features = np.array([[0.0], [0.1], [0.2], [5.0], [0.05]])
    reps = representative_frames([0, 1, 2, 4], features, np.array([0.0]), times, min_gap_s=5.0)
    assert reps == [0, 4]


def test_stability_of_clear_themes_and_of_too_many(tmp_path, embedder):
    make_run(tmp_path / "run", n_blocks=12)
    clear = build_themes(tmp_path / "run", ThemesConfig(seed=0, stability=5), embedder=embedder)
    data = _themes_json(clear)
    assert data["k"] == 4
    assert data["stability"]["n_refits"] == 5 and data["stability"]["seeds"] == [1, 2, 3, 4, 5]
    assert data["stability"]["mean_ari"] >= 0.95 and data["stability"]["unstable"] == []
    for theme in data["themes"]:
        assert theme["stability"]["recurrence"] >= 0.8 and not theme["stability"]["unstable"]
    assert not any("refits" in w for w in data["warnings"])

    # Four themes cut into eight: how a theme is cut depends on the seed. (Unsmoothed:
    # smoothing gives neighbouring frames alike latents, and stretches of a theme hold.)
    forced = build_themes(
        tmp_path / "run",
        ThemesConfig(k=8, seed=0, stability=5, smooth_frames=0),
        embedder=embedder,
    )
    document = read_themes(forced.run / "themes.json")
    assert document.stability is not None and document.stability.unstable
    unstable = document.stability.unstable[0]
    theme = document.themes[unstable]
    assert theme.stability is not None and theme.stability.unstable
    came_back = round(theme.stability.recurrence * 5)
    assert (
        f"theme {unstable} came back in {came_back} of 5 refits with other seeds "
        "(unstable: below 50%); read it as a tentative theme"
    ) in document.warnings
    assert [t.id for t in document.themes if t.stability and t.stability.unstable] == (
        document.stability.unstable
    )


def test_stability_is_deterministic_and_can_be_off(tmp_path, embedder):
    make_run(tmp_path / "a", seed=3, n_blocks=8)
    make_run(tmp_path / "b", seed=3, n_blocks=8)
    config = ThemesConfig(k=6, seed=7, stability=4, n_bootstrap=2)
    a = _themes_json(build_themes(tmp_path / "a", config, embedder=embedder))
    b = _themes_json(build_themes(tmp_path / "b", config, embedder=embedder))
    assert a["stability"] == b["stability"] and a["stability"]["seeds"] == [8, 9, 10, 11]
    assert [t["stability"] for t in a["themes"]] == [t["stability"] for t in b["themes"]]
    off = build_themes(tmp_path / "a", config.replace(stability=None), embedder=embedder)
    data = _themes_json(off)
    assert data["stability"] is None and all(t["stability"] is None for t in data["themes"])


def test_stability_can_retrain_the_model_with_each_seed(tmp_path, embedder, monkeypatch):
    from themescope.model import train as train_module

    run = make_ingested_run(tmp_path / "run", n_frames=24)
    train_module.train(run, tiny_config())
    trained = np.load(run / "latents.npy")
    retrained: list[tuple[int, TrainConfig, np.ndarray]] = []
    retrain = train_module.retrain_latents

    def spy(run, config, *, seed, device="auto"):
        latents = retrain(run, config, seed=seed, device=device)
        retrained.append((seed, config, latents))
        return latents

    monkeypatch.setattr(train_module, "retrain_latents", spy)
    config = ThemesConfig(k=3, seed=0, stability=2, n_bootstrap=0, stability_refit_model=True)
    document = read_themes(build_themes(run, config, embedder=embedder).run / "themes.json")

    assert document.stability is not None and document.stability.refit == "model"
    # one training per refit, with its seed and the run's own training settings ...
    assert [seed for seed, _, _ in retrained] == document.stability.seeds == [1, 2]
    assert all(used.to_dict() == tiny_config().to_dict() for _, used, _ in retrained)
    # ... each a model of its own: every frame encoded again, to other latents
    (_, _, first), (_, _, second) = retrained
    assert first.shape == second.shape == trained.shape
    assert not np.allclose(first, trained) and not np.allclose(first, second)
    for theme in document.themes:
        assert theme.stability is not None and 0 <= theme.stability.recurrence <= 1
    assert -1 <= document.stability.min_ari <= document.stability.mean_ari <= 1
    # the run's model and latents are the train stage's still
    assert np.array_equal(np.load(run / "latents.npy"), trained)

    # only the clustering again: the setting is in the themes stage's fingerprint
    result = build_themes(run, config.replace(stability_refit_model=False), embedder=embedder)
    assert result.status == "ran" and len(retrained) == 2
    clustering_only = read_themes(run / "themes.json").stability
    assert clustering_only is not None and clustering_only.refit == "clustering"


def test_config_round_trip_and_validation():
    config = ThemesConfig(k_range=(2, 6), seed=3, tagger="llm", llm_model="m")
    assert ThemesConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ConfigError, match="unknown themes option"):
        ThemesConfig.from_dict({"kk": 3})
    with pytest.raises(
        ConfigError, match=r"--k-range \(themes.k_range\) must satisfy 1 <= low <= high"
    ):
        ThemesConfig(k_range=(5, 3))
    assert ThemesConfig(k_range="2-4").k_range == ThemesConfig(k_range=[2, 4]).k_range == (2, 4)
    with pytest.raises(
        ConfigError, match=r"give --k or --k-range, not both \(--k 3, --k-range 2-4"
    ):
        ThemesConfig(k=3, k_range="2-4")
    with pytest.raises(ConfigError, match="captioner"):
        ThemesConfig(captioner="clip")


def _cli(argv):
    from themescope._cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code


def test_cli_themes(tmp_path, capsys):
    make_run(tmp_path / "run", n_blocks=8)
    assert _cli(["themes", str(tmp_path / "run"), "--k", "4", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "k=4 themes (user)" in out and "themes.json" in out
    data = json.loads((tmp_path / "run" / "themes.json").read_text(encoding="utf-8"))
    assert data["k"] == 4 and len(data["themes"]) == 4
    assert _cli(["themes", str(tmp_path / "run"), "--k", "4", "--seed", "1"]) == 0
    assert "already up to date" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--k-range", "5-3"], "--k-range (themes.k_range) must satisfy 1 <= low <= high"),
        (["--k-range", "three"], "--k-range (themes.k_range) must look like 3-5 (low-high)"),
        (["--k", "3", "--k-range", "2-4"], "give --k or --k-range, not both"),
        (["--embedder", "whaleloops/phrase-bert"], "never downloads"),
        (["--tagger", "gpt"], "--tagger (themes.tagger) must be one of extractive, llm"),
        (
            ["--stability", "0"],
            "themescope: error: --stability (themes.stability) must be an int in [1, 1000] "
            "(refits with other seeds); --no-stability switches stability off. Got 0 instead.\n",
        ),
        (
            ["--stability", "3", "--no-stability"],
            "themescope: error: give --stability or --no-stability, not both (--stability 3)\n",
        ),
        (
            ["--no-stability", "--stability-model"],
            "themescope: error: --stability-model retrains the model for each stability refit: "
            "give --stability N, not --no-stability (themes.stability = none)\n",
        ),
    ],
)
def test_cli_themes_bad_input(tmp_path, capsys, args, message):
    make_run(tmp_path / "run", n_blocks=2)
    assert _cli(["themes", str(tmp_path / "run"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("themescope: error:") and message in err


@pytest.fixture
def toy_tagger():
    """A tagger registered from this file, as a plugin would: no edit to themescope."""
    registry.register("tagger", "toy", lambda config, embedder: FixedTagger(), help="Fixed.")
    yield
    registry.unregister("tagger", "toy")


def test_a_tagger_registered_outside_themescope_is_chosen_by_name(tmp_path, capsys, toy_tagger):
    make_run(tmp_path / "run", n_blocks=2)
    assert ThemesConfig.from_dict({"tagger": "toy"}).tagger == "toy"
    assert _cli(["themes", str(tmp_path / "run"), "--k", "2", "--tagger", "toy"]) == 0
    document = read_themes(tmp_path / "run" / "themes.json")
    assert document.backends.tagger.name == "fixed"
    assert document.themes[0].phrases[0].text == "vaccine"
    manifest = RunDirectory(tmp_path / "run").read_manifest()
    record = manifest.record("themes", ThemesRecord)
    assert record is not None
    assert record.backends == document.backends
    registry.unregister("tagger", "toy")
    capsys.readouterr()
    assert _cli(["themes", str(tmp_path / "run"), "--tagger", "toy"]) == 2
    assert capsys.readouterr().err == (
        "themescope: error: --tagger (themes.tagger) must be one of extractive, llm. "
        "Got 'toy' instead.\n"
    )


def test_cli_themes_needs_train(tmp_path, capsys):
    assert _cli(["themes", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


class OnScreenRecorder(FixedTagger):
    """Keeps the on-screen text each theme's material carried."""

    def tag(self, themes: list[ThemeMaterial], n_phrases: int = 10) -> list[ThemePhrases]:
        self.on_screen = {m.theme_id: (m.frame_ids, m.on_screen) for m in themes}
        return super().tag(themes, n_phrases)


def _add_on_screen_text(path: Path) -> list[str]:
    """Give a run's frames.parquet the OCR columns ingest writes; return the texts."""
    from themescope.media.ocr import ocr_schema_fields

    table = pq.read_table(path / "frames.parquet")
    # Two lines in frame order; frames without on-screen text have "".
    texts = [f"HEADLINE {i // 6}\nBREAKING" if i % 6 else "" for i in range(table.num_rows)]
    box = [8.0, 140.0, 120.0, 160.0]
    lines = [
        [{"text": line, "box": box, "confidence": 0.9} for line in t.split("\n") if line]
        for t in texts
    ]
    text_field, lines_field = ocr_schema_fields()
    table = table.append_column(text_field, pa.array(texts, text_field.type))
    table = table.append_column(lines_field, pa.array(lines, lines_field.type))
    pq.write_table(table, path / "frames.parquet")
    return texts


def test_runs_with_and_without_on_screen_text_go_through_themes_report_compare(tmp_path, embedder):
    from themescope.corpus.compare import compare_runs
    from themescope.model.config import MULTILINGUAL
    from themescope.report.render import render_report

    # Run "old" was ingested before OCR existed (no ocr_* columns); run "new" has them.
    runs = {"old": tmp_path / "old", "new": tmp_path / "new"}
    for seed, (name, path) in enumerate(runs.items()):
        make_run(path, n_themes=3, n_blocks=6, images=True, seed=seed)
        texts = _add_on_screen_text(path) if name == "new" else None
        tagger = OnScreenRecorder()
        build_themes(path, ThemesConfig(k=3, n_bootstrap=0), tagger=tagger, embedder=embedder)
        table = pq.read_table(path / "frames.parquet")
        # The themes stage rewrites frames.parquet: ingest's columns, OCR ones included, stay.
        assert ("ocr_text" in table.column_names) is (texts is not None)
        for frame_ids, on_screen in tagger.on_screen.values():
            if texts is None:
                assert on_screen == []
                continue
            shown = [texts[i] for i in frame_ids if texts[i]]
            # Each line with the number of the theme's frames showing it, most shown first.
            assert on_screen[0] == ("BREAKING", len(shown))
            assert sum(n for line, n in on_screen[1:]) == len(shown)
            assert {line for line, _ in on_screen[1:]} == {s.split("\n")[0] for s in shown}
        if texts is not None:
            assert table.column("ocr_text").to_pylist() == texts
        assert render_report(path).status == "ran"
    # Built alike, the two runs record the same ingest: make "new" a run of its own.
    manifest = json.loads((runs["new"] / "manifest.json").read_text("utf-8"))
    manifest["stages"]["ingest"]["fingerprint"] = "ingested with on-screen text"
    (runs["new"] / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    tiny = {"train": tiny_config(word_vectors=MULTILINGUAL), "themes": ThemesConfig(k=2)}
    result = compare_runs(list(runs.values()), tmp_path / "compare", device="cpu", **tiny)
    assert {run.name for run in result.document.runs} == {"old", "new"}
    assert all(set(theme.shares) == {"old", "new"} for theme in result.document.themes)


def test_name_straps_are_read_from_the_lower_third_of_each_frame(tmp_path):
    Image.new("RGB", (160, 90)).save(tmp_path / "f0.jpg")

    def line(text, y0, y1):
        return {"text": text, "box": [10.0, y0, 150.0, y1], "confidence": 0.9}

    table = pa.table(
        {
            "image": ["f0.jpg", "f0.jpg"],
            "ocr_lines": [
                [line("新闻联播", 5, 15), line("陈霞", 62, 70), line("社区卫生服务中心", 72, 80)],
                [],
            ],
        }
    )
    run = RunDirectory(tmp_path)
    assert lower_third_texts(run, table) == ["陈霞\n社区卫生服务中心", ""]
    # runs read before lines had places, or whose pictures are gone: places unknown
    assert lower_third_texts(run, table.drop_columns(["ocr_lines"])) is None
    (tmp_path / "f0.jpg").unlink()
    assert lower_third_texts(run, table) is None
