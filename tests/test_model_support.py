"""Builders of small ingested run directories for the model tests (no tests here).

They write what `themescope ingest` writes (JPEG frames, frames.parquet, cues.parquet and
the manifest record) through RunDirectory.stage, so the train stage reads a real run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw

from themescope.manifest import IngestRecord
from themescope.model.config import TrainConfig
from themescope.rundir import RunDirectory, fingerprint

SCENE_TEXTS = [
    "the vaccine rollout began in new york hospitals today",
    "officials said more doses will arrive next week",
    "elderly residents waited in line outside the clinic",
    "the stock market rose after the announcement",
]


def frame_image(index: int, n_frames: int, width: int, height: int, seed: int = 0) -> Image.Image:
    """A news-like frame: a scene background that changes every few frames, a box, a banner."""
    rng = np.random.default_rng(seed + index)
    scene = (index * 4) // max(1, n_frames)
    palette = [(40, 60, 120), (150, 40, 40), (30, 120, 60), (200, 180, 60)]
    image = Image.new("RGB", (width, height), palette[scene % len(palette)])
    draw = ImageDraw.Draw(image)
    x = int(width * (0.2 + 0.5 * ((index % 5) / 5)))
    draw.rectangle([x, height // 4, x + width // 5, height // 2], fill=(230, 230, 230))
    draw.rectangle([0, int(height * 0.8), width, height], fill=(20, 20, 20))
    noise = rng.integers(0, 12, size=(height, width, 3), dtype=np.uint8)
    return Image.fromarray(np.clip(np.asarray(image) + noise, 0, 255).astype(np.uint8))


def make_run(
    path: Path,
    n_frames: int = 12,
    texts: Sequence[str] | None = None,
    *,
    width: int = 64,
    height: int = 36,
    lang: str = "en",
    every_s: float = 2.0,
) -> RunDirectory:
    """Write an ingested run of ``n_frames`` frames; ``texts`` defaults to scene sentences."""
    if texts is None:
        texts = [SCENE_TEXTS[(i * 4) // max(1, n_frames) % 4] for i in range(n_frames)]
    assert len(texts) == n_frames
    run = RunDirectory(path)
    config = {"every_s": every_s, "n_frames": n_frames}
    with run.stage(
        "ingest", stage_fingerprint=fingerprint(config, list(texts)), config=config
    ) as st:
        images = []
        for i in range(n_frames):
            relative = f"frames/{i:06d}.jpg"
            frame_image(i, n_frames, width, height).save(st.path(relative), quality=95)
            images.append(relative)
        times = [i * every_s for i in range(n_frames)]
        frames = pa.table(
            {
                "frame_id": pa.array(range(n_frames), pa.int64()),
                "requested_s": pa.array(times, pa.float64()),
                "time_s": pa.array(times, pa.float64()),
                "image": pa.array(images, pa.string()),
                "text": pa.array(list(texts), pa.string()),
                "text_raw": pa.array(list(texts), pa.string()),
                "cue_ids": pa.array([[i] if t else [] for i, t in enumerate(texts)]),
                "lang": pa.array([lang] * n_frames, pa.string()),
            }
        )
        pq.write_table(frames, st.path("frames.parquet"))
        cues = pa.table(
            {
                "cue_id": pa.array(range(n_frames), pa.int64()),
                "start_s": pa.array(times, pa.float64()),
                "end_s": pa.array([t + every_s for t in times], pa.float64()),
                "text": pa.array(list(texts), pa.string()),
                "text_raw": pa.array(list(texts), pa.string()),
            }
        )
        pq.write_table(cues, st.path("cues.parquet"))
        coverage = sum(1 for t in texts if t) / n_frames if n_frames else 0.0
        st.record = IngestRecord(
            n_frames=n_frames,
            every_s=every_s,
            lang=lang,
            text_source="test",
            n_cues=n_frames,
            text_coverage=coverage,
        )
    return run


def tiny_config(**changes: object) -> TrainConfig:
    """A configuration small enough to train in well under a second per epoch."""
    tiny = TrainConfig.preset("fast").replace(
        image_height=24,
        image_width=40,
        conv_channels=[4, 8, 8],
        rnn_hidden=8,
        dense_units=16,
        latent_dim=6,
        max_tokens=8,
        batch_size=4,
        epochs=4,
        min_steps=0,
        early_stopping=False,
        kl_warmup_epochs=2,
        checkpoint_every=2,
        n_threads=1,
        seed=7,
    )
    return tiny.replace(**changes)
