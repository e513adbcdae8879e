"""LLM tagger: ten tags per theme from a chat model, with a safe fallback.

The paper sends each cluster's BLIP captions and transcript to a LLaMA model
that produces tags. :class:`LLMTagger` does the same through a chat client
(:mod:`themescope.themes.chat`): a server speaking the OpenAI chat-completions
protocol (Ollama, the llama.cpp server, vLLM) or a local transformers model.

The prompt carries an evenly spread sample of the theme's captions and
transcript lines, trimmed to fit the model's context, and asks for a JSON
array of exactly ten short tags, optionally in a chosen language (English tags
make two videos in different languages comparable). Replies are parsed
tolerantly (a JSON array anywhere, code fences, an object holding a list,
numbered or bulleted lines); an unreadable reply gets one re-ask. A refusal,
an unreadable re-ask, or a request that fails after bounded retries makes the
theme fall back to the extractive tagger, and ``fallback_reason`` says why.

Example:
    >>> from themescope.themes.extractive import ExtractiveTagger  # doctest: +SKIP
    >>> tagger = load_llm_tagger(  # doctest: +SKIP
    ...     url="http://127.0.0.1:11434", model="llama3.1:8b", language="en",
    ...     fallback=ExtractiveTagger())
    >>> tagger.tag(materials)[0].phrases[0].text  # doctest: +SKIP
    'vaccination site'

"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from themescope import registry
from themescope._offline import resolve_local_model
from themescope.documents import TaggerBackend
from themescope.errors import BackendError, ConfigError
from themescope.media.language import contains_cjk
from themescope.themes.base import Phrase, Tagger, ThemeMaterial, ThemePhrases
from themescope.themes.chat import (
    DEFAULT_HTTP_CONTEXT_TOKENS,
    ChatClient,
    ChatError,
    HttpChatClient,
    Message,
    TransformersChatClient,
    shorten,
)

if TYPE_CHECKING:
    from themescope.embedding import PhraseEmbedder
    from themescope.themes.config import ThemesConfig

logger = logging.getLogger("themescope")

MAX_TAG_CHARS = 48
"""A tag longer than this is a sentence, not a tag; it is dropped."""

LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Chinese (simplified)",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "ja": "Japanese",
    "ko": "Korean",
    "ru": "Russian",
    "ar": "Arabic",
    "pt": "Portuguese",
}

_REFUSAL = re.compile(
    r"\b(i\s+(?:can\s*not|can't|cannot|won't|will\s+not|am\s+(?:not\s+able|unable)|'m\s+"
    r"(?:not\s+able|unable))\s+(?:help|assist|provide|comply|do\s+that|generate|create)|"
    r"as\s+an\s+ai\b|i\s+(?:must|have\s+to)\s+decline|against\s+my\s+guidelines|"
    r"(?:抱歉|对不起|很遗憾).{0,12}(?:无法|不能)|我(?:无法|不能)(?:提供|帮助|协助|完成))",
    re.IGNORECASE,
)
_CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_LIST_LINE = re.compile(r"^\s*(?:\d{1,2}[.):、]|[-*•·]|#)\s*(.+?)\s*$")


class LLMTagger(Tagger):
    """Tags each theme with a chat model; falls back to another tagger per theme.

    Args:
        client: The chat client (:class:`HttpChatClient` or :class:`TransformersChatClient`).
        fallback: Tagger used for the themes the model fails on (the extractive
            tagger). Without one, a failure raises :class:`BackendError`.
        language: Language code of the tags (``"en"`` for cross-language
            comparison); None asks for the language of the transcript.
        max_reply_tokens: Tokens reserved for the reply.
        max_line_chars: Longest caption or transcript line put in the prompt.

    Example:
        >>> tagger = LLMTagger(HttpChatClient("http://127.0.0.1:8080", "llama3"),  # doctest: +SKIP
        ...                    fallback=ExtractiveTagger(), language="en")
        >>> result = tagger.tag(materials)[0]  # doctest: +SKIP
        >>> result.backend, result.fallback_reason  # doctest: +SKIP
        ('llm-http', None)

    """

    name = "llm"

    def __init__(
        self,
        client: ChatClient,
        *,
        fallback: Tagger | None,
        language: str | None = None,
        max_reply_tokens: int = 200,
        max_line_chars: int = 200,
    ) -> None:
        self.client = client
        self.fallback = fallback
        self.language = language
        self.max_reply_tokens = max_reply_tokens
        self.max_line_chars = max_line_chars

    def backend(self) -> TaggerBackend:
        """Return what themes.json records: the client's backend, the model, the language."""
        return TaggerBackend(
            name=self.name,
            backend=self.client.backend,
            model=self.client.model,
            language=self.language,
        )

    def tag(self, themes: Sequence[ThemeMaterial], n_phrases: int = 10) -> list[ThemePhrases]:
        """Return each theme's tags, best first; failed themes come from the fallback."""
        if n_phrases < 1:
            raise ConfigError(f"n_phrases must be >= 1; got {n_phrases}")
        results: list[ThemePhrases | None] = []
        failures: dict[int, tuple[str, str | None]] = {}
        dead_reason: str | None = None
        for index, material in enumerate(themes):
            prompt_text: str | None = None
            try:
                if dead_reason is not None:
                    raise ChatError(dead_reason, fatal=True)
                if not any(line.strip() for line in [*material.texts, *material.captions]):
                    # Asked about nothing, a model invents tags; leave it to the fallback.
                    raise ChatError("the theme has no captions or transcript text to tag")
                messages = self.build_messages(material, n_phrases)
                prompt_text = _messages_text(messages)
                tags = self._ask(messages, n_phrases)
            except ChatError as exc:
                reason = str(exc)
                if exc.fatal:
                    dead_reason = reason
                logger.warning(
                    "LLM tagging of theme %d failed (%s); using the fallback tagger",
                    material.theme_id,
                    reason,
                )
                failures[index] = (reason, prompt_text)
                results.append(None)
                continue
            results.append(
                ThemePhrases(
                    phrases=_ranked(tags),
                    backend=self.client.backend,
                    model=self.client.model,
                    prompt=prompt_text,
                )
            )
        if failures:
            self._fill_from_fallback(themes, n_phrases, results, failures)
        return [result for result in results if result is not None]

    def _fill_from_fallback(
        self,
        themes: Sequence[ThemeMaterial],
        n_phrases: int,
        results: list[ThemePhrases | None],
        failures: dict[int, tuple[str, str | None]],
    ) -> None:
        if self.fallback is None:
            index, (reason, _) = next(iter(failures.items()))
            raise BackendError(
                f"LLM tagging failed for theme {themes[index].theme_id} ({reason}) "
                "and no fallback tagger is set"
            )
        # The fallback sees all themes: its ranking depends on what sets a theme apart.
        backup = self.fallback.tag(themes, n_phrases)
        for index, (reason, prompt_text) in failures.items():
            chosen = backup[index]
            results[index] = ThemePhrases(
                phrases=chosen.phrases,
                backend=chosen.backend,
                model=chosen.model,
                prompt=prompt_text,
                fallback_reason=f"{self.client.backend} ({self.client.model}): {reason}",
            )

    def _ask(self, messages: list[Message], n_phrases: int) -> list[str]:
        reply = self.client.chat(messages, self.max_reply_tokens)
        tags, problem = self._read_reply(reply, n_phrases)
        if tags is not None:
            return tags
        reask = _reask_text(n_phrases)
        if problem:
            reask += f" Write every tag in {problem}."
        retry = [
            *messages,
            {"role": "assistant", "content": shorten(reply, 400)},
            {"role": "user", "content": reask},
        ]
        if self.client.count_tokens(retry) + self.max_reply_tokens > self.client.context_tokens():
            # No room to echo the reply: repeat the request with the reminder appended.
            reminder = f"{messages[-1]['content']}\n\n{reask}"
            retry = [*messages[:-1], {"role": "user", "content": reminder}]
        second = self.client.chat(retry, self.max_reply_tokens)
        tags, problem = self._read_reply(second, n_phrases)
        if tags is not None:
            return tags
        if problem is not None:
            raise ChatError(
                f'the tags were not in {problem}, even after one re-ask: "{shorten(second, 80)}"'
            )
        raise ChatError(
            "the reply could not be read as a list of tags, even after one re-ask: "
            f'"{shorten(second, 80)}"'
        )

    def _read_reply(self, reply: str, n_phrases: int) -> tuple[list[str] | None, str | None]:
        """Return the reply's tags when they can be used, else None and what is wrong.

        What is wrong is the wanted language's name when the tags are in another script,
        None when the reply cannot be read as tags at all.

        Raises:
            ChatError: The model refused.

        """
        tags = parse_tags(reply, n_phrases)
        problem = self._wrong_language(tags)
        if problem is None and tags is not None:
            return tags, None
        if is_refusal(reply):
            raise ChatError(f'the model refused: "{shorten(reply, 80)}"')
        return None, problem

    def _wrong_language(self, tags: list[str] | None) -> str | None:
        """Return the wanted language's name when the tags are in another script, else None."""
        if tags is None or not self.language:
            return None
        n_cjk = sum(1 for tag in tags if contains_cjk(tag))
        wants_cjk = self.language in _CJK_LANGUAGES
        if (wants_cjk and n_cjk * 2 < len(tags)) or (
            not wants_cjk and self.language in LANGUAGE_NAMES and n_cjk * 2 > len(tags)
        ):
            return LANGUAGE_NAMES.get(self.language, self.language)
        return None

    def build_messages(self, material: ThemeMaterial, n_phrases: int = 10) -> list[Message]:
        """Return the chat messages for one theme, with the largest sample that fits.

        Raises:
            ChatError: Even the instructions without any sample do not fit the context.

        """
        captions = _unique_lines(material.captions, self.max_line_chars)
        texts = _unique_lines(material.texts, self.max_line_chars)
        # Room for the reply and for one re-ask (the reply is echoed back with a reminder).
        budget = self.client.context_tokens() - 2 * self.max_reply_tokens - 48

        def build(n_lines: int) -> list[Message]:
            return self._messages(
                material, n_phrases, _spread(captions, n_lines), _spread(texts, n_lines)
            )

        empty = build(0)
        n_empty = self.client.count_tokens(empty)
        if n_empty > budget:
            raise ChatError(
                f"the instructions alone take {n_empty} tokens; the model's "
                f"{self.client.context_tokens()}-token context leaves {budget} for the prompt"
            )
        most = max(len(captions), len(texts))
        if self.client.count_tokens(build(most)) <= budget:
            return build(most)
        low, high = 0, most  # the largest n_lines whose prompt fits lies in [low, high)
        while high - low > 1:
            middle = (low + high) // 2
            if self.client.count_tokens(build(middle)) <= budget:
                low = middle
            else:
                high = middle
        logger.debug(
            "theme %d: prompt sample trimmed to %d of %d lines to fit %d tokens",
            material.theme_id,
            low,
            most,
            budget,
        )
        return build(low)

    def _messages(
        self,
        material: ThemeMaterial,
        n_phrases: int,
        captions: list[str],
        texts: list[str],
    ) -> list[Message]:
        if self.language:
            language = LANGUAGE_NAMES.get(self.language, self.language)
            in_language = f"Write every tag in {language}, whatever the language of the material."
        else:
            in_language = "Write the tags in the language of the transcript."
        system = (
            "You label the themes of a video for a media researcher. "
            "You answer only with a JSON array of strings."
        )
        parts = [
            f"Here is a sample from one theme of a video ({len(material.frame_ids)} frames). "
            f"Give exactly {n_phrases} short tags (one to three words each) naming what this "
            "theme shows and talks about: topics, people, places, actions, setting. "
            f"{in_language} Reply with only a JSON array of {n_phrases} strings, "
            'like ["tag one", "tag two"].'
        ]
        if captions:
            parts.append("Frame captions:\n" + "\n".join(f"- {line}" for line in captions))
        if texts:
            parts.append("Transcript lines:\n" + "\n".join(f"- {line}" for line in texts))
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": "\n\n".join(parts)},
        ]


def load_llm_tagger(
    *,
    url: str | None,
    model: str,
    language: str | None,
    fallback: Tagger,
    timeout_s: float = 60,
    max_retries: int = 3,
    context_tokens: int | None = None,
) -> LLMTagger:
    """Build the tagger named by ``--tagger llm``.

    Args:
        url: Server URL (``--llm-url``): use the HTTP client; None: run ``model`` locally.
        model: Model name on the server, or a local folder / cached id for transformers.
        language: Tag language code (``"en"``), or None for the transcript's language.
        fallback: Tagger for the themes the model fails on.
        timeout_s: Seconds per HTTP request.
        max_retries: HTTP retries after the first attempt.
        context_tokens: The model's context size; by default 4096 for HTTP and the
            model config's (capped at 4096) for a local model.

    Raises:
        ConfigError: No model given, or a bad timeout/retry count.
        BackendError: No server answers at ``url``.
        ModelLoadError: The local model folder does not exist.

    Example:
        >>> tagger = load_llm_tagger(url=None, model="models/qwen", language="en",  # doctest: +SKIP
        ...                          fallback=ExtractiveTagger())

    """
    if not model:
        raise ConfigError(
            "--tagger llm needs --llm-model: a model name on the --llm-url server, "
            "or a local folder with a transformers causal LM"
        )
    if timeout_s <= 0:
        raise ConfigError(f"LLM timeout must be > 0 s; got {timeout_s}")
    if max_retries < 0:
        raise ConfigError(f"LLM max_retries must be >= 0; got {max_retries}")
    if context_tokens is not None and context_tokens < 256:
        raise ConfigError(f"LLM context_tokens must be >= 256; got {context_tokens}")
    client: ChatClient
    if url:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"--llm-url must start with http:// or https://; got {url!r}")
        client = HttpChatClient(
            url,
            model,
            timeout_s=timeout_s,
            max_retries=max_retries,
            context_tokens=context_tokens or DEFAULT_HTTP_CONTEXT_TOKENS,
        )
        client.check_answers()
    else:
        resolve_local_model(model, what="local LLM")
        client = TransformersChatClient(model, context_tokens=context_tokens)
    return LLMTagger(client, fallback=fallback, language=language)


def _llm(config: ThemesConfig, embedder: PhraseEmbedder) -> LLMTagger:
    return load_llm_tagger(
        url=config.llm_url,
        model=config.llm_model or "",
        language=config.tag_language,
        # The themes the model fails on are tagged as without it.
        fallback=registry.get("tagger", "extractive").factory(config, embedder),
    )


registry.register(
    "tagger",
    "llm",
    _llm,
    help="A language model names the phrases: a server (--llm-url) or a local folder.",
)


def is_refusal(reply: str) -> bool:
    """Whether ``reply`` declines the task ("I can't help with that")."""
    return bool(_REFUSAL.search(_THINK.sub("", reply)[:400]))


def parse_tags(reply: str, n_phrases: int = 10) -> list[str] | None:
    r"""Read tags from a model reply, tolerantly; None when nothing usable is found.

    Accepted, in this order: a JSON array of strings (anywhere, also inside a code
    fence), a JSON object holding such an array, numbered or bulleted lines, and
    one comma-separated line. Tags are cleaned, de-duplicated and cut to
    ``n_phrases``; fewer than ``min(3, n_phrases)`` usable tags count as a failure.

    Example:
        >>> parse_tags('Sure! ```json\n["vaccine", "nurse", "clinic"]\n```')
        ['vaccine', 'nurse', 'clinic']

    """
    # Reasoning models think aloud first; lists in their notes are not the answer.
    reply = _THINK.sub("", reply)
    candidates: list[list[str]] = []
    fenced = _FENCE.findall(reply)
    for chunk in [*fenced, reply]:
        found = _json_list(chunk)
        if found is not None:
            candidates.append(found)
            break
    if not candidates:
        candidates.append(_listed_lines(reply))
    tags = _clean_tags(candidates[0])[:n_phrases]
    return tags if len(tags) >= min(3, n_phrases) else None


def _json_list(text: str) -> list[str] | None:
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        found = _strings_in(value)
        if found:
            return found
    return None


def _strings_in(value: Any) -> list[str] | None:
    if isinstance(value, list):
        strings = [item for item in value if isinstance(item, str)]
        if strings and len(strings) >= len(value) / 2:
            return strings
        # A list of objects like [{"tag": "vaccine"}, ...].
        inner = [
            next((v for v in item.values() if isinstance(v, str)), None)
            for item in value
            if isinstance(item, dict)
        ]
        named = [item for item in inner if item]
        return named or None
    if isinstance(value, dict):
        for item in value.values():
            found = _strings_in(item)
            if found:
                return found
    return None


def _listed_lines(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()]
    listed = [m.group(1) for line in lines if (m := _LIST_LINE.match(line))]
    if len(listed) >= 2:
        return listed
    for line in lines:
        body = line.split(":", 1)[1] if re.match(r"^\s*\w+\s*:", line) else line
        parts = [part for part in re.split(r"[,，、;；]", body) if part.strip()]
        if len(parts) >= 3:
            return parts
    return []


def _clean_tags(raw: Sequence[str]) -> list[str]:
    tags: list[str] = []
    seen: set[str] = set()
    for item in raw:
        tag = " ".join(str(item).split())
        tag = tag.strip(" \"'`*#.,;:!?。，、；：！？「」“”‘’()[]{}")
        tag = re.sub(r"\*\*(.+?)\*\*", r"\1", tag)
        if not tag or len(tag) > MAX_TAG_CHARS or len(tag.split()) > 6:
            continue
        key = tag.casefold()
        if key in seen:
            continue
        seen.add(key)
        tags.append(tag)
    return tags


def _ranked(tags: Sequence[str]) -> list[Phrase]:
    """Scores by rank: 1.0 for the first tag down to 1/n for the last."""
    n_tags = len(tags)
    return [Phrase(text=tag, score=round(1.0 - rank / n_tags, 4)) for rank, tag in enumerate(tags)]


def _unique_lines(lines: Sequence[str], max_chars: int) -> list[str]:
    """Non-empty lines without repeats (neighbouring frames share a cue), in time order."""
    seen: set[str] = set()
    unique: list[str] = []
    for line in lines:
        text = " ".join(line.split())
        if not text or text in seen:
            continue
        seen.add(text)
        unique.append(text if len(text) <= max_chars else text[: max_chars - 1] + "…")
    return unique


def _spread(lines: Sequence[str], n_lines: int) -> list[str]:
    """``n_lines`` lines evenly spread over the theme's time (all when there are fewer)."""
    if n_lines >= len(lines):
        return list(lines)
    if n_lines <= 0:
        return []
    step = len(lines) / n_lines
    return [lines[int(i * step + step / 2)] for i in range(n_lines)]


def _messages_text(messages: Sequence[Message]) -> str:
    return "\n\n".join(f"[{message['role']}]\n{message['content']}" for message in messages)


def _reask_text(n_phrases: int) -> str:
    return (
        f"That could not be read as a list of tags. Reply with only a JSON array of exactly "
        f'{n_phrases} short strings, like ["tag one", "tag two"], and nothing else.'
    )
