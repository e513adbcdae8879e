"""Evidence for phrases: which of a theme's frames, quotes and captions back each one.

Used for every tagger, so an LLM's tags are checked the same way as extracted
phrases. A frame supports a phrase when its transcript text, caption or on-screen
text (a headline, a burned-in caption) contains the phrase (whole tokens,
case-insensitive, plurals folded, for English; a substring for Chinese);
``support`` is the share of the theme's frames that do.
When nothing contains the phrase literally, frames whose text or caption is
semantically close to it (cosine >= :data:`SEMANTIC_THRESHOLD` with the phrase
embedder) count as weaker support: their share is halved. A phrase with neither
is kept but marked ``supported=False``.

Example:
    >>> material = ThemeMaterial(0, [0, 1], ["Vaccines arrive today", "rain"], ["", ""], "en")
    >>> out = attach_evidence([Phrase("vaccine", 1.0)], material)
    >>> out[0].evidence.frame_ids, out[0].evidence.support
    ([0], 0.5)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from themescope.media.language import phrase_language
from themescope.themes.base import Evidence, Phrase, PhraseEmbedder, ThemeMaterial
from themescope.themes.text import match_key, phrase_key

SEMANTIC_THRESHOLD = 0.6
"""Cosine from which a text counts as semantic support for a phrase.

With all-MiniLM-L6-v2, a phrase and a sentence that paraphrases it score about
0.6–0.8, while sentences on the same broad topic score 0.3–0.5.
"""

SEMANTIC_WEIGHT = 0.5
"""Semantic-only support counts for this fraction of lexical support."""

MAX_QUOTES = 5
"""Quotes and captions kept per phrase (shortest first: easiest to read)."""

MAX_QUOTE_CHARS = 300
"""Longest quote or caption kept, in characters; a longer one becomes an excerpt
around the phrase, with an ellipsis where it was cut. A frame's text is a few
subtitle lines (about 100 characters every 2 s), but one huge cue would otherwise
be copied whole into ``themes.json`` and the report for every phrase it backs."""

# An excerpt's ends move back to a space when there is one this close, so that no
# word is cut in half (text without spaces, such as Chinese, is cut anywhere).
_WORD_SLACK_CHARS = 20

MAX_SEMANTIC_TEXTS = 400
"""At most this many distinct texts of a theme are embedded for semantic support."""


def attach_evidence(
    phrases: Sequence[Phrase],
    material: ThemeMaterial,
    embedder: PhraseEmbedder | None = None,
    *,
    semantic_threshold: float = SEMANTIC_THRESHOLD,
) -> list[Phrase]:
    """Return copies of ``phrases`` with evidence from ``material`` attached.

    Args:
        phrases: Any tagger's phrases for this theme.
        material: The theme's frames, texts and captions.
        embedder: Enables semantic support for phrases with no literal match.
        semantic_threshold: Cosine from which a text counts as semantic support.
    """
    n_frames = len(material.frame_ids)
    lang = phrase_language(list(material.texts) + list(material.captions), material.lang)
    text_keys = [match_key(t, lang) if t else "" for t in material.texts]
    caption_keys = [match_key(c, lang) if c else "" for c in material.captions]
    screens = list(material.screen_texts) or [""] * n_frames
    screen_lines = [[line for line in s.split("\n") if line.strip()] for s in screens]
    screen_keys = [[match_key(line, lang) for line in lines] for lines in screen_lines]
    semantic = _SemanticIndex(material, embedder) if embedder is not None else None
    out: list[Phrase] = []
    for phrase in phrases:
        key = phrase_key(phrase.text, lang)
        frames: list[int] = []
        quotes: list[str] = []
        captions: list[str] = []
        on_screen: list[str] = []
        if key.strip():
            for i in range(n_frames):
                in_text = bool(text_keys[i]) and key in text_keys[i]
                in_caption = bool(caption_keys[i]) and key in caption_keys[i]
                shown = [
                    line
                    for line, line_key in zip(screen_lines[i], screen_keys[i], strict=True)
                    if key in line_key
                ]
                if in_text:
                    quotes.append(material.texts[i])
                if in_caption:
                    captions.append(material.captions[i])
                on_screen.extend(shown)
                if in_text or in_caption or shown:
                    frames.append(material.frame_ids[i])
        support = len(frames) / n_frames if n_frames else 0.0
        if not frames and semantic is not None:
            frames, quotes, captions = semantic.match(phrase.text, semantic_threshold)
            support = SEMANTIC_WEIGHT * len(frames) / n_frames if n_frames else 0.0
        evidence = Evidence(
            frame_ids=frames,
            quotes=_shortest_unique(quotes, phrase.text),
            captions=_shortest_unique(captions, phrase.text),
            support=round(support, 4),
            on_screen=_shortest_unique(on_screen, phrase.text),
        )
        out.append(dataclasses.replace(phrase, evidence=evidence, supported=bool(frames)))
    return out


def _shortest_unique(texts: list[str], phrase: str) -> list[str]:
    excerpts = (excerpt(t.strip(), phrase) for t in texts if t.strip())
    return sorted(dict.fromkeys(excerpts), key=len)[:MAX_QUOTES]


def excerpt(text: str, phrase: str, max_chars: int = MAX_QUOTE_CHARS) -> str:
    """Return ``text`` cut to at most ``max_chars`` characters around ``phrase``.

    The window is centred on the first case-insensitive occurrence of the phrase
    (or, failing that, of its longest word), else it is the start of the text;
    ``…`` marks each end that was cut.

    Example:
        >>> excerpt("the new vaccine arrives today", "vaccine", max_chars=20)
        '…new vaccine…'

    """
    if len(text) <= max_chars:
        return text
    budget = max_chars - 2  # room for an ellipsis at each end
    at, length = _locate(text, phrase)
    start = 0 if at < 0 else min(max(0, at + length // 2 - budget // 2), len(text) - budget)
    end = start + budget
    if start > 0:
        space = text.find(" ", start, start + _WORD_SLACK_CHARS)
        if 0 <= space < at:
            start = space + 1
    if end < len(text):
        space = text.rfind(" ", max(start, end - _WORD_SLACK_CHARS), end)
        if space >= max(at + length, start + 1):
            end = space
    head = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    return f"{head}{text[start:end].strip()}{tail}"


def _locate(text: str, phrase: str) -> tuple[int, int]:
    """Index and length of the phrase (else its longest word) in ``text``; (-1, 0) if absent."""
    folded = text.casefold()
    for needle in (phrase.strip(), max(phrase.split(), key=len, default="")):
        if needle:
            at = folded.find(needle.casefold())
            if at >= 0:
                return at, len(needle)
    return -1, 0


class _SemanticIndex:
    """The distinct texts and captions of one theme, embedded once for all its phrases."""

    def __init__(self, material: ThemeMaterial, embedder: PhraseEmbedder) -> None:
        self.material = material
        self.embedder = embedder
        docs: dict[str, list[tuple[int, str]]] = {}
        for i, (text, caption) in enumerate(zip(material.texts, material.captions, strict=True)):
            for kind, doc in (("text", text), ("caption", caption)):
                if doc.strip():
                    docs.setdefault(doc.strip(), []).append((i, kind))
        items = list(docs.items())
        if len(items) > MAX_SEMANTIC_TEXTS:
            # Deterministic thinning: every stride-th text, in time order.
            stride = len(items) / MAX_SEMANTIC_TEXTS
            items = [items[int(j * stride)] for j in range(MAX_SEMANTIC_TEXTS)]
        self.docs = items
        self._vectors: np.ndarray | None = None

    def match(self, phrase: str, threshold: float) -> tuple[list[int], list[str], list[str]]:
        if not self.docs:
            return [], [], []
        if self._vectors is None:
            self._vectors = self.embedder.embed([doc for doc, _ in self.docs])
        sims = self._vectors @ self.embedder.embed([phrase])[0]
        frames: set[int] = set()
        quotes: list[tuple[float, str]] = []
        captions: list[tuple[float, str]] = []
        for (doc, places), sim in zip(self.docs, sims, strict=True):
            if sim < threshold:
                continue
            for i, _ in places:
                frames.add(self.material.frame_ids[i])
            kinds = {kind for _, kind in places}
            if "text" in kinds:
                quotes.append((float(sim), doc))
            if "caption" in kinds:
                captions.append((float(sim), doc))
        # Best semantic matches first, so the shortest-first cut keeps relevant ones.
        quotes.sort(reverse=True)
        captions.sort(reverse=True)
        return (
            sorted(frames),
            [q for _, q in quotes[: MAX_QUOTES * 2]],
            [c for _, c in captions[: MAX_QUOTES * 2]],
        )
