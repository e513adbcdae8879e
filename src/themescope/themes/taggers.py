"""The extractive tagger's registration, apart from its class so that the CLI starts fast.

``themescope.themes.extractive`` loads scikit-learn (most of a second); the CLI lists the
registered taggers in its help, so registering beside the class would slow every command.
A tagger whose module is light registers beside its class, as the LLM tagger does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from themescope import registry

if TYPE_CHECKING:
    from themescope.themes.base import PhraseEmbedder, Tagger
    from themescope.themes.config import ThemesConfig


def _extractive(config: ThemesConfig, embedder: PhraseEmbedder) -> Tagger:
    from themescope.themes.extractive import ExtractiveTagger

    return ExtractiveTagger(embedder, seed=config.seed)


registry.register(
    "tagger",
    "extractive",
    _extractive,
    help="Phrases from the theme's own words, ranked against the other themes'.",
)
