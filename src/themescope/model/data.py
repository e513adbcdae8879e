"""Load a run's frames into in-memory tensors for training, and stream them for encoding.

A video's frames are few (a few hundred at 120×200), so they are decoded once into
one float tensor and batches are slices of it, with no per-batch decoding. A corpus
of many videos is not: training then takes a seeded sample of at most
``max_train_frames`` frames (:func:`training_sample`), and every frame is encoded in
batches decoded from disk (:func:`stream_batches`), so memory holds the sample and
the latents, never every image of the study.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from themescope.errors import RunDirectoryError
from themescope.model.config import TrainConfig
from themescope.model.text import PAD_ID, TokenEmbeddings, TokenizedText, tokenize_frames
from themescope.rundir import RunDirectory

logger = logging.getLogger("themescope")

REQUIRED_COLUMNS = ("frame_id", "time_s", "image", "text", "lang")


@dataclass
class FrameData:
    """A run's frames as tensors.

    Attributes:
        frame_ids: int64 array (n_frames,): the loaded frames' ids, a sorted subset of
            0..n_total-1 when training takes a sample.
        time_s: float64 array (n_frames,).
        texts: The aligned text of each frame ("" when none).
        images: float32 tensor (n_frames, 3, H, W) in [0, 1]; None when unused.
        token_ids: int64 tensor (n_frames, max_len), right-padded with ``<PAD>``.
        lengths: int64 tensor (n_frames,), tokens per frame (0: no text).
        text: The tokenization of EVERY frame of the run with its vocabulary; None when
            text is unused.
        n_total: Frames in the run (``n_frames`` when all are loaded).
        image_paths: Every frame's image, relative to ``root``.
        root: The run directory.
        blank: bool array (n_frames,), true for a black or blank frame (ingest's
            ``blank`` column; all false for a run ingested before it was written).
    """

    frame_ids: np.ndarray
    time_s: np.ndarray
    texts: list[str]
    images: torch.Tensor | None
    token_ids: torch.Tensor
    lengths: torch.Tensor
    text: TokenizedText | None
    n_total: int
    image_paths: list[str]
    root: Path
    blank: np.ndarray | None = None

    @property
    def sampled(self) -> bool:
        """Whether training sees a sample of the frames rather than all of them."""
        return self.n_frames < self.n_total

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return len(self.frame_ids)

    @property
    def learn_ids(self) -> np.ndarray:
        """The frames training learns from: every frame but the black or blank ones.

        Black frames look alike whatever the programme; learning them spends the
        model on nothing the themes use (they are in no theme). With fewer than two
        other frames, all frames are learned.
        """
        ids = np.arange(self.n_frames)
        if self.blank is None or int((~self.blank).sum()) < 2:
            return ids
        return ids[~self.blank]

    @property
    def n_with_text(self) -> int:
        """Frames with at least one token."""
        return int((self.lengths > 0).sum())


def read_frame_table(run: RunDirectory) -> dict[str, list]:
    """Read ``frames.parquet`` sorted by ``frame_id`` and check its columns (``blank`` if any).

    Raises:
        RunDirectoryError: The file is missing, unreadable, lacks a column, or its frame ids
            are not 0..n-1.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = run / "frames.parquet"
    if not path.is_file():
        raise RunDirectoryError(f"{path} is missing; rerun `themescope ingest` with --force")
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise RunDirectoryError(f"{path} is unreadable ({exc}); rerun `themescope ingest`") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise RunDirectoryError(f"{path} lacks column(s) {', '.join(missing)}")
    names = [*REQUIRED_COLUMNS, *(["blank"] if "blank" in table.column_names else [])]
    columns = {name: table.column(name).to_pylist() for name in names}
    order = np.argsort(np.asarray(columns["frame_id"], dtype=np.int64), kind="stable")
    columns = {name: [values[i] for i in order] for name, values in columns.items()}
    if columns["frame_id"] != list(range(len(order))):
        raise RunDirectoryError(f"{path} has frame ids that are not 0..{len(order) - 1}")
    return columns


def load_images(
    root: Path, relative_paths: Sequence[str], height: int, width: int, n_threads: int = 2
) -> torch.Tensor:
    """Decode and resize frames to a float32 tensor (n, 3, height, width) in [0, 1].

    Raises:
        RunDirectoryError: A frame file is missing or not a readable image.
    """
    from PIL import Image, UnidentifiedImageError

    def load(relative: str) -> np.ndarray:
        path = root / relative
        try:
            with Image.open(path) as image:
                # JPEG draft mode decodes at a reduced scale directly: much faster than
                # decoding the full frame and then shrinking it.
                image.draft("RGB", (width, height))
                rgb = image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
                return np.asarray(rgb, dtype=np.uint8)
        except FileNotFoundError:
            raise RunDirectoryError(
                f"frame image {path} is missing; rerun `themescope ingest` with --force"
            ) from None
        except (OSError, UnidentifiedImageError) as exc:
            raise RunDirectoryError(f"frame image {path} is unreadable ({exc})") from exc

    with ThreadPoolExecutor(max_workers=max(1, n_threads)) as pool:
        arrays = list(pool.map(load, relative_paths))
    stacked = np.stack(arrays) if arrays else np.zeros((0, height, width, 3), np.uint8)
    # Channels-last is the decoded layout and what training on a CPU wants: no second copy.
    images = torch.from_numpy(stacked).permute(0, 3, 1, 2).float().div_(255.0)
    return images.contiguous(memory_format=torch.channels_last)


def pad_token_ids(token_ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into (n, max_len) with ``<PAD>``; return it with the lengths."""
    lengths = torch.tensor([len(ids) for ids in token_ids], dtype=torch.int64)
    width = max(1, int(lengths.max()) if len(lengths) else 1)
    padded = torch.full((len(token_ids), width), PAD_ID, dtype=torch.int64)
    for i, ids in enumerate(token_ids):
        if ids:
            padded[i, : len(ids)] = torch.tensor(ids, dtype=torch.int64)
    return padded, lengths


def training_sample(n_frames: int, max_frames: int, seed: int) -> np.ndarray:
    """Return the sorted frame indices training uses: all, or a seeded sample of ``max_frames``."""
    if n_frames <= max_frames:
        return np.arange(n_frames)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_frames, size=max_frames, replace=False))


def load_frame_data(
    run: RunDirectory,
    config: TrainConfig,
    embeddings: TokenEmbeddings | None,
    *,
    n_threads: int = 2,
) -> FrameData:
    """Load what training needs from ``run``: the sample's images, every frame's tokens.

    Args:
        run: A run directory whose ingest stage is done.
        config: Gives the image size, token limit, ablation and ``max_train_frames``.
        embeddings: Token embedding source; None when the ablation uses no text.
        n_threads: Threads for JPEG decoding.
    """
    columns = read_frame_table(run)
    n_total = len(columns["frame_id"])
    rows = training_sample(n_total, config.max_train_frames, config.seed)
    blank = columns.get("blank", [False] * n_total)
    texts = [t or "" for t in columns["text"]]
    images = None
    if config.uses_images:
        images = load_images(
            run.path,
            [columns["image"][i] for i in rows],
            config.image_height,
            config.image_width,
            n_threads,
        )
    text = None
    if config.uses_text and embeddings is not None:
        # The vocabulary comes from every frame, so frames outside the sample encode too.
        langs = [lang or "en" for lang in columns["lang"]]
        text = tokenize_frames(texts, langs, embeddings, config.max_tokens)
        token_ids, lengths = pad_token_ids([text.token_ids[i] for i in rows])
    else:
        token_ids, lengths = pad_token_ids([[] for _ in rows])
    return FrameData(
        frame_ids=np.asarray(columns["frame_id"], dtype=np.int64)[rows],
        time_s=np.asarray(columns["time_s"], dtype=np.float64)[rows],
        texts=[texts[i] for i in rows],
        images=images,
        token_ids=token_ids,
        lengths=lengths,
        text=text,
        n_total=n_total,
        image_paths=list(columns["image"]),
        root=run.path,
        blank=np.asarray([bool(blank[i]) for i in rows]),
    )


Batch = tuple[torch.Tensor | None, torch.Tensor, torch.Tensor]


def stream_batches(
    data: FrameData, config: TrainConfig, *, batch_frames: int = 256, n_threads: int = 2
) -> Iterator[Batch]:
    """Yield every frame of the run in order as (images, token ids, lengths), decoded per batch.

    Images are None when the ablation uses none; tokens are all-padding when it uses no text.
    """
    for start in range(0, data.n_total, batch_frames):
        rows = range(start, min(start + batch_frames, data.n_total))
        images = None
        if config.uses_images:
            images = load_images(
                data.root,
                [data.image_paths[i] for i in rows],
                config.image_height,
                config.image_width,
                n_threads,
            )
        if data.text is not None:
            token_ids, lengths = pad_token_ids([data.text.token_ids[i] for i in rows])
        else:
            token_ids, lengths = pad_token_ids([[] for _ in rows])
        yield images, token_ids, lengths
