"""Load a run's frames into in-memory tensors for training.

The whole data set is small (a few hundred frames at 120×200), so it is decoded
once into one float tensor; batches are slices of it, with no per-batch decoding.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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
        frame_ids: int64 array (n_frames,), 0..n-1 in time order.
        time_s: float64 array (n_frames,).
        texts: The aligned text of each frame ("" when none).
        images: float32 tensor (n_frames, 3, H, W) in [0, 1]; None when unused.
        token_ids: int64 tensor (n_frames, max_len), right-padded with ``<PAD>``.
        lengths: int64 tensor (n_frames,), tokens per frame (0: no text).
        text: The tokenization with its vocabulary; None when text is unused.
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
    blank: np.ndarray | None = None

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
    return torch.from_numpy(stacked).permute(0, 3, 1, 2).float().div_(255.0).contiguous()


def pad_token_ids(token_ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id lists into (n, max_len) with ``<PAD>``; return it with the lengths."""
    lengths = torch.tensor([len(ids) for ids in token_ids], dtype=torch.int64)
    width = max(1, int(lengths.max()) if len(lengths) else 1)
    padded = torch.full((len(token_ids), width), PAD_ID, dtype=torch.int64)
    for i, ids in enumerate(token_ids):
        if ids:
            padded[i, : len(ids)] = torch.tensor(ids, dtype=torch.int64)
    return padded, lengths


def load_frame_data(
    run: RunDirectory,
    config: TrainConfig,
    embeddings: TokenEmbeddings | None,
    *,
    n_threads: int = 2,
) -> FrameData:
    """Load everything training needs from ``run``.

    Args:
        run: A run directory whose ingest stage is done.
        config: Gives the image size, token limit and ablation.
        embeddings: Token embedding source; None when the ablation uses no text.
        n_threads: Threads for JPEG decoding.
    """
    columns = read_frame_table(run)
    texts = [t or "" for t in columns["text"]]
    images = None
    if config.uses_images:
        images = load_images(
            run.path, columns["image"], config.image_height, config.image_width, n_threads
        )
    text = None
    if config.uses_text and embeddings is not None:
        langs = [lang or "en" for lang in columns["lang"]]
        text = tokenize_frames(texts, langs, embeddings, config.max_tokens)
        token_ids, lengths = pad_token_ids(text.token_ids)
    else:
        token_ids, lengths = pad_token_ids([[] for _ in texts])
    return FrameData(
        frame_ids=np.asarray(columns["frame_id"], dtype=np.int64),
        time_s=np.asarray(columns["time_s"], dtype=np.float64),
        texts=texts,
        images=images,
        token_ids=token_ids,
        lengths=lengths,
        text=text,
        blank=np.asarray([bool(b) for b in columns.get("blank", [False] * len(texts))]),
    )
