"""The interfaces of the interpretation components and the data they exchange.

A theme is described in three swappable steps, each one small class with one
method and a default: a :class:`Captioner` turns frames into captions, a
:class:`Tagger` turns a theme's captions and transcript into phrases, and a
:class:`PhraseEmbedder` turns phrases into vectors (to merge near-duplicates,
rank, and compare themes). Every backend of one kind returns the same types.
PhraseEmbedder is defined in :mod:`themescope.embedding`, below the model, which
embeds words with it, and imported from here with the other two.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image

from themescope.components import Component
from themescope.documents import CaptionerBackend, TaggerBackend
from themescope.embedding import PhraseEmbedder as PhraseEmbedder


@dataclass
class Evidence:
    """What in a theme's own material supports a phrase.

    Attributes:
        frame_ids: Frames whose text, caption or on-screen text supports the phrase.
        quotes: Transcript lines that support it (verbatim, shortest first).
        captions: Frame captions that support it.
        support: Support score in [0, 1] (share of the theme's frames, lexical or semantic).
        on_screen: Lines shown on screen that contain it (headlines, captions burned in).
    """

    frame_ids: list[int] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    support: float = 0.0
    on_screen: list[str] = field(default_factory=list)


@dataclass
class Phrase:
    """One phrase that describes a theme.

    Attributes:
        text: The phrase as shown to the user.
        score: Ranking score from the tagger (higher is better; comparable within a run).
        supported: False when nothing in the theme's own material backs it up.
        evidence: The supporting frames, quotes and captions.
    """

    text: str
    score: float
    supported: bool = True
    evidence: Evidence = field(default_factory=Evidence)


@dataclass
class ThemeMaterial:
    """Everything a tagger may read about one theme.

    Attributes:
        theme_id: The theme's id (0..k-1).
        frame_ids: Its frames, in time order.
        texts: The aligned transcript text of each frame (may be empty strings).
        captions: The caption of each frame ("" when no captioner ran).
        lang: Language of the run's text ("en", "zh" or "und").
        on_screen: Headlines and captions shown on screen in the theme's frames
            (boilerplate such as logos and clocks left out), each with the number
            of frames that show it; candidates for phrases and for the label.
        screen_texts: The on-screen text of each frame (lines joined by newlines; ""
            when none, or when on-screen text was not read): evidence.
        strap_texts: The on-screen lines in the lower third of each frame, where
            broadcasts show name straps (joined by newlines); None where the lines'
            places are unknown (then ``screen_texts`` are read for straps).
    """

    theme_id: int
    frame_ids: list[int]
    texts: list[str]
    captions: list[str]
    lang: str
    on_screen: list[tuple[str, int]] = field(default_factory=list)
    screen_texts: list[str] = field(default_factory=list)
    strap_texts: list[str] | None = None


@dataclass
class ThemePhrases:
    """A tagger's phrases for one theme, with how they were produced.

    Attributes:
        phrases: Ranked phrases, best first (evidence is attached by the themes stage).
        backend: The backend that produced them ("extractive", "llm-http", "llm-local").
        model: Model name or path, when a model produced them.
        prompt: The prompt sent, for LLM backends.
        fallback_reason: Why a fallback backend produced them instead, if it did.
        people: People named in the theme (presenters, reporters, experts), most
            mentioned first; recorded apart so that they are not its subject.
        roles: The role of people in ``people``, by name, where a name strap or an
            introduction gives one ("主持人", "CBS reporter").
        label: A short title for the theme (set by :func:`~themescope.themes.facets.facets`).
    """

    phrases: list[Phrase]
    backend: str
    model: str | None = None
    prompt: str | None = None
    fallback_reason: str | None = None
    people: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    label: str | None = None


class Captioner(Component, ABC):
    """Turns frames into one caption each."""

    name: str = "captioner"

    def backend(self) -> CaptionerBackend:
        """Return what themes.json records of this captioner (its model, where it has one)."""
        return CaptionerBackend(name=self.name)

    @abstractmethod
    def caption(self, images: Sequence[Image.Image]) -> list[str]:
        """Return one caption per image, in order."""


class Tagger(Component, ABC):
    """Turns each theme's material into ranked phrases."""

    name: str = "tagger"

    def backend(self) -> TaggerBackend:
        """Return what themes.json records of this tagger (its model, where it has one)."""
        return TaggerBackend(name=self.name)

    @abstractmethod
    def tag(self, themes: Sequence[ThemeMaterial], n_phrases: int = 10) -> list[ThemePhrases]:
        """Return the phrases of every theme, in the order of ``themes``.

        All themes are passed at once because what describes a theme best is
        what sets it apart from the others.
        """
