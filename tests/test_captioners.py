"""BLIP captioner: a tiny random BLIP saved to disk and loaded the way users load one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from themescope.errors import ConfigError, ModelLoadError
from themescope.themes.base import Captioner
from themescope.themes.captioners import BlipCaptioner, load_captioner


def _images(n_images: int) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    sizes = [(48, 64), (36, 64), (64, 64)]
    return [
        Image.fromarray(rng.integers(0, 255, (*sizes[i % 3], 3), dtype=np.uint8))
        for i in range(n_images)
    ]


def _longest_run(caption: str) -> int:
    words = caption.split()
    longest = run = 0
    previous = None
    for word in words:
        run = run + 1 if word == previous else 1
        previous = word
        longest = max(longest, run)
    return longest


def test_blip_loads_from_folder_and_captions_every_image(blip_dir: Path) -> None:
    captioner = load_captioner("blip", str(blip_dir), device="cpu")
    assert isinstance(captioner, BlipCaptioner)
    assert isinstance(captioner, Captioner)
    assert captioner.model_ is None  # nothing is loaded before first use
    images = _images(5)
    captioner.batch_size = 2  # three batches, the last one short
    captions = captioner.caption(images)
    assert len(captions) == len(images)
    assert all(isinstance(caption, str) and caption for caption in captions)
    assert all("[" not in caption for caption in captions)  # special tokens are stripped
    assert captioner.caption([]) == []


def test_blip_safeguards_stop_stutter(blip_dir: Path) -> None:
    images = _images(2)
    raw = BlipCaptioner(
        blip_dir, device="cpu", repetition_penalty=1.0, no_repeat_ngram_size=0, max_new_tokens=8
    )
    stuttering = raw.caption(images)
    # The tiny model is built to stutter; this shows the next assertion can fail.
    assert all(_longest_run(caption) >= 3 for caption in stuttering), stuttering
    guarded = BlipCaptioner(blip_dir, device="cpu", max_new_tokens=8)
    captions = guarded.caption(images)
    assert len(captions) == 2
    assert all(_longest_run(caption) < 3 for caption in captions), captions
    assert guarded.generation_kwargs()["repetition_penalty"] == 1.5
    assert guarded.generation_kwargs()["no_repeat_ngram_size"] == 2


def test_load_captioner_none_and_bad_inputs(tmp_path: Path) -> None:
    assert load_captioner("none", None) is None
    with pytest.raises(ConfigError, match="--captioner blip needs a model"):
        load_captioner("blip", None)
    with pytest.raises(ConfigError, match="unknown captioner 'clip'; choose one of: none, blip"):
        load_captioner("clip", None)
    # The folder is checked when the captioner is built (before any stage runs): a
    # --captioner-model that is not a model was refused only after ingest and training.
    missing = tmp_path / "no-such-blip"
    with pytest.raises(ModelLoadError) as info:
        load_captioner("blip", str(missing))
    assert str(info.value) == f"BLIP captioning model path {missing} does not exist"
    with pytest.raises(
        ModelLoadError, match=f"BLIP captioning model path {missing} does not exist"
    ):
        BlipCaptioner(missing).caption(_images(1))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match=f"folder {empty} has no config.json"):
        BlipCaptioner(empty).load()


def test_a_blip_folder_with_damaged_weights_is_refused_when_built(
    blip_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "blip"
    shutil.copytree(blip_dir, folder)
    weights = folder / "model.safetensors"
    size = weights.stat().st_size
    with open(weights, "r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(ModelLoadError) as info:
        load_captioner("blip", str(folder))
    assert str(info.value) == (
        f"BLIP captioning model weights {weights} are damaged: its header describes {size} "
        f"bytes, the file has {size // 2} (truncated?)"
    )


def test_uncached_hub_id_is_not_downloaded() -> None:
    captioner = BlipCaptioner("themescope-test/not-a-cached-model")
    with pytest.raises(
        ModelLoadError, match="neither a local folder nor in the local Hugging Face"
    ):
        captioner.load()


def test_blip_loads_from_the_local_hugging_face_cache(blip_dir: Path, tmp_path: Path) -> None:
    # The cache layout huggingface_hub writes: models--ORG--NAME/{refs/main, snapshots/COMMIT/}.
    repo = tmp_path / "hub" / "models--tiny-org--tiny-blip"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(blip_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    script = (
        "from PIL import Image\n"
        "from themescope.themes.captioners import load_captioner\n"
        "captioner = load_captioner('blip', 'tiny-org/tiny-blip', device='cpu')\n"
        "print(len(captioner.caption([Image.new('RGB', (40, 30), (200, 10, 10))])))\n"
    )
    # huggingface_hub reads its cache folder once, at import: use a fresh interpreter.
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1] / "src"), *sys.path])
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "1"


def test_a_blip_folder_that_transformers_cannot_load_is_one_line(
    blip_dir: Path, tmp_path: Path
) -> None:
    # The cheap checks read only config.json and the weights; the processor's own file is
    # read by transformers, whose multi-line error is cut to its first line.
    folder = tmp_path / "blip"
    shutil.copytree(blip_dir, folder)
    (folder / "processor_config.json").write_text("{", encoding="utf-8")
    with pytest.raises(ModelLoadError) as info:
        BlipCaptioner(folder, device="cpu").load()
    assert str(info.value) == (
        f"cannot load a BLIP captioning model from {folder}: It looks like the config file "
        f"at '{folder / 'processor_config.json'}' is not a valid JSON file."
    )
