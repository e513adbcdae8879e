"""One contract per component kind, run against every backend the registry holds.

As PySceneDetect runs one test module over all its video backends: whatever the
backend, a frame source yields increasing times and closes; a transcript format
gives sorted, non-empty cues; an OCR reader one result per frame; an embedder unit
rows of one width; a tagger one result per theme; a captioner one caption per image;
a translator one translation per text; a cluster backend k groups; an executor every
item's outcome once; and every swappable component reports its parameters, so that stage
fingerprints can tell two configurations apart.

The cases are the registered names (``registry.names(kind)``): a new backend is tested
as soon as it registers. Where the registered factory needs what a test cannot have
(a server, a downloaded model), a stand-in is given by name below, and a registered
name without one fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from themescope import registry
from themescope.components import Component, identity
from themescope.media.transcripts import read_transcript
from themescope.synthetic import SyntheticVideo
from themescope.themes.base import (
    Captioner,
    Phrase,
    PhraseEmbedder,
    Tagger,
    ThemeMaterial,
    ThemePhrases,
)
from themescope.themes.chat import ChatClient, Message
from themescope.themes.config import ThemesConfig
from themescope.themes.extractive import ExtractiveTagger
from themescope.themes.llm import LLMTagger
from themescope.themes.translate import Translator


def _built(kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Build a registered component, or skip where it cannot run here (and say why)."""
    availability = registry.available(kind, name)
    if not availability.ok:
        pytest.skip(f"{kind} {name}: {availability.reason}")
    return registry.get(kind, name).factory(*args, **kwargs)


# -- frame sources ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", registry.names("frame source"))
def test_frame_source_contract(backend: str, synthetic_video_en: SyntheticVideo) -> None:
    source = _built("frame source", backend, synthetic_video_en.video_path, every_s=2.0, height=72)
    with source:
        frames = list(source)
        info = source.info
    times = [frame.time_s for frame in frames]
    assert len(frames) >= info.duration_s // 2 and times == sorted(times)
    assert all(frame.image.shape[0] == 72 and frame.image.dtype == np.uint8 for frame in frames)
    assert all(abs(f.time_s - f.requested_s) < 0.5 for f in frames)


# -- transcript readers -----------------------------------------------------------------------

TRANSCRIPTS = {  # by format: the file's suffix and its text
    "srt": ".srt",
    "vtt": ".vtt",
    "ass": ".ass",
    "youtube-json": ".json",
    "youtube-csv": ".csv",
    "plain-text": ".txt",
}
SAMPLES = {
    "srt": "1\n00:00:01,000 --> 00:00:03,000\nThe vaccine trial\n\n"
    "2\n00:00:04,000 --> 00:00:06,000\nstarts in <i>March</i>\n",
    "vtt": "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nThe vaccine trial\n\n"
    "00:00:04.000 --> 00:00:06.000\nstarts in March\n",
    "ass": "[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    "Dialogue: 0,0:00:01.00,0:00:03.00,Default,,0,0,0,,The vaccine trial\n"
    "Dialogue: 0,0:00:04.00,0:00:06.00,Default,,0,0,0,,starts in {\\i1}March{\\i0}\n",
    "json": json.dumps(
        [
            {"text": "The vaccine trial", "start": 1.0, "duration": 2.0},
            {"text": "starts in March", "start": 4.0, "duration": 2.0},
        ]
    ),
    "csv": "text,start,duration\nThe vaccine trial,1.0,2.0\nstarts in March,4.0,2.0\n",
    "txt": "The vaccine trial\nstarts in March\n",
}


@pytest.mark.parametrize("fmt", registry.names("transcript format"))
def test_transcript_format_contract(fmt: str, tmp_path: Path) -> None:
    suffix = TRANSCRIPTS[fmt]
    path = tmp_path / f"news{suffix}"
    path.write_text(SAMPLES[suffix.removeprefix(".")], encoding="utf-8")
    transcript = read_transcript(path, duration_s=10.0)
    assert transcript.source == fmt
    cues = transcript.cues
    assert [cue.text for cue in cues] == ["The vaccine trial", "starts in March"]
    assert all(0 <= cue.start_s < cue.end_s <= 10.0 for cue in cues)
    assert [cue.start_s for cue in cues] == sorted(cue.start_s for cue in cues)
    assert transcript.encoding is not None and not transcript.n_skipped


# -- embedders --------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", registry.names("embedder"))
def test_embedder_contract(backend: str) -> None:
    tested: PhraseEmbedder = _built("embedder", backend, device="cpu", load=True)
    phrases = ["vaccine trial", "storm warning", "疫苗接种"]
    vectors = tested.embed(phrases)
    assert vectors.shape[0] == len(phrases) and vectors.ndim == 2
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(vectors, tested.embed(phrases))
    _assert_component(tested)


# -- taggers ----------------------------------------------------------------------------------


class _ListClient(ChatClient):
    """A chat model that always answers with the same JSON list of tags."""

    backend = "llm-test"
    model = "list"

    def context_tokens(self) -> int:
        return 4096

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(str(m)) for m in messages) // 4

    def chat(self, messages: Sequence[Message], max_reply_tokens: int) -> str:
        return json.dumps(["vaccine trial", "hospital ward", "nurse shortage", "booster shot"])


TAGGERS: dict[str, Callable[[PhraseEmbedder], Tagger]] = {
    # The registered factory needs a server or a local model.
    "llm": lambda embedder: LLMTagger(
        _ListClient(), fallback=ExtractiveTagger(embedder, seed=0), language="en"
    ),
}


def _materials() -> list[ThemeMaterial]:
    lines = {
        0: "the vaccine trial enrolled nurses; the vaccine trial results came in",
        1: "a storm warning for the coast; the storm warning was lifted at night",
    }
    return [
        ThemeMaterial(
            theme_id=theme,
            frame_ids=list(range(theme * 6, theme * 6 + 6)),
            texts=[lines[theme]] * 6,
            captions=[""] * 6,
            lang="en",
        )
        for theme in lines
    ]


@pytest.mark.parametrize("backend", registry.names("tagger"))
def test_tagger_contract(backend: str, embedder: PhraseEmbedder) -> None:
    stand_in = TAGGERS.get(backend)
    tagger = (
        stand_in(embedder)
        if stand_in is not None
        else _built("tagger", backend, ThemesConfig(tagger=backend), embedder)
    )
    materials = _materials()
    results = tagger.tag(materials, n_phrases=5)
    assert len(results) == len(materials)
    for result in results:
        assert isinstance(result, ThemePhrases) and result.backend
        assert result.phrases and all(isinstance(p, Phrase) for p in result.phrases)
        assert all(p.text.strip() and np.isfinite(p.score) for p in result.phrases)
    _assert_component(tagger)


# -- captioners -------------------------------------------------------------------------------


CAPTIONER_MODELS: dict[str, str] = {"blip": "blip_dir"}
"""The fixture that makes each captioner's model (a tiny random one: nothing is downloaded)."""


@pytest.mark.parametrize("backend", registry.names("captioner"))
def test_captioner_contract(backend: str, request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue(CAPTIONER_MODELS[backend])
    captioner: Captioner = _built("captioner", backend, str(folder), device="cpu")
    images = [Image.new("RGB", (64, 48), colour) for colour in ("red", "green", "blue")]
    captions = captioner.caption(images)
    assert len(captions) == len(images) and all(isinstance(c, str) for c in captions)
    _assert_component(captioner)


# -- translators ------------------------------------------------------------------------------


TRANSLATOR_MODELS: dict[str, str] = {"seq2seq": "marian_dir"}
"""The fixture that makes each translator's model (a tiny random one: nothing is downloaded)."""


@pytest.mark.parametrize("backend", registry.names("translator"))
def test_translator_contract(backend: str, request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue(TRANSLATOR_MODELS[backend])
    translator: Translator = _built("translator", backend, str(folder), device="cpu")
    texts = ["加强针", "老年人", "加强针"]
    translations = translator.translate(texts)
    assert len(translations) == len(texts) and all(isinstance(t, str) for t in translations)
    assert translations[0] == translations[2] and translator.translate([]) == []
    _assert_component(translator)


# -- OCR readers ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", registry.names("ocr reader"))
def test_ocr_reader_contract(backend: str) -> None:
    reader = _built("ocr reader", backend).load()
    blank = np.full((72, 128, 3), 255, dtype=np.uint8)
    found = reader.read([blank, blank], [0.0, 2.0])
    assert [frame.time_s for frame in found.frames] == [0.0, 2.0]
    assert all(frame.text == "" for frame in found.frames)
    _assert_component(reader)


# -- cluster backends -------------------------------------------------------------------------


@pytest.mark.parametrize("backend", registry.names("cluster backend"))
def test_cluster_backend_contract(backend: str) -> None:
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(c, 0.1, size=(10, 3)) for c in (0.0, 5.0, 10.0)])
    fit = _built("cluster backend", backend, points, 3, seed=0, n_init=2, max_iter=50)
    assert fit.backend == backend and fit.centers.shape == (3, 3)
    assert sorted(np.bincount(fit.labels, minlength=3)) == [10, 10, 10]


# -- executors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [
        # Ray starts a local instance: seconds.
        pytest.param(name, marks=pytest.mark.slow) if name != "local" else name
        for name in registry.names("executor")
    ],
)
def test_executor_contract(backend: str) -> None:
    with _built("executor", backend, workers=2, address=None) as executor:
        outcomes = dict(executor.map(abs, [-1, -2, -3]))
    assert outcomes == {0: 1, 1: 2, 2: 3}


# -- every component --------------------------------------------------------------------------


def _assert_component(component: Component) -> None:
    """Parameters are listed, serialisable, and tell two configurations apart."""
    params = component.get_params()
    described = identity(component)
    assert described is not None and described["params"].keys() == params.keys()
    json.dumps(described)
    assert identity(component) == described
    changed = {k: v for k, v in params.items() if isinstance(v, int | float) and v is not True}
    if changed:
        name, value = next(iter(changed.items()))
        other = type(component)(**{**params, name: value + 1})
        assert identity(other) != described, name
