"""Chat clients: one small interface to a chat model, served over HTTP or run locally.

:class:`~themescope.themes.llm.LLMTagger` asks a chat model for a theme's tags
through a :class:`ChatClient`:

- :class:`HttpChatClient` speaks the OpenAI chat-completions protocol, which
  Ollama, the llama.cpp server, vLLM and others serve (standard library only);
- :class:`TransformersChatClient` runs a local transformers causal LM from a
  folder (``local_files_only``), with its chat template when it has one.

A failed request raises :class:`ChatError`; ``fatal`` says whether later requests
would fail the same way (a wrong URL, a model the server does not have), so that
the tagger stops asking.

Example:
    >>> client = HttpChatClient("http://127.0.0.1:11434", "llama3.1:8b")  # doctest: +SKIP
    >>> client.chat([{"role": "user", "content": "Say hi"}], max_reply_tokens=8)  # doctest: +SKIP
    'Hi!'
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import socket
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from themescope._offline import load_local_model
from themescope.components import Component
from themescope.errors import BackendError
from themescope.media.language import count_cjk

logger = logging.getLogger("themescope")

Message = dict[str, str]

SERVER_CHECK_TIMEOUT_S = 5.0
"""How long the check before any work waits for an LLM server to answer at all."""
DEFAULT_HTTP_CONTEXT_TOKENS = 4096
"""Context size assumed for an HTTP model (servers do not report it portably)."""

DEFAULT_LOCAL_CONTEXT_CAP = 4096
"""Longest context used for a local model unless asked: CPU prompts beyond it are slow."""


class ChatError(Exception):
    """A chat request failed; ``fatal`` means later requests will fail the same way."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


class ChatClient(Component, ABC):
    """Sends chat messages to a model and returns the reply text.

    Attributes:
        backend: ``"llm-http"`` or ``"llm-local"``, recorded in themes.json.
        model: Model name (HTTP) or path (local).

    """

    backend: str = "llm"
    model: str = ""

    @abstractmethod
    def context_tokens(self) -> int:
        """Return the number of tokens the model reads (prompt plus reply)."""

    @abstractmethod
    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Return the (estimated) number of prompt tokens of ``messages``."""

    @abstractmethod
    def chat(self, messages: Sequence[Message], max_reply_tokens: int) -> str:
        """Return the model's reply to ``messages``.

        Raises:
            ChatError: The request failed after the client's own retries.

        """


class HttpChatClient(ChatClient):
    """An OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp server, vLLM...).

    Args:
        url: Server root (``http://127.0.0.1:11434``), its ``/v1`` root, or the
            full ``.../chat/completions`` URL.
        model: Model name the server knows.
        timeout_s: Seconds to wait for one answer.
        max_retries: Retries after the first attempt on timeouts, connection
            errors, HTTP 429 and 5xx.
        backoff_s: Wait before the first retry; doubled for each further one.
        context_tokens: Context size assumed for the model.
        chars_per_token: Characters per token for non-CJK text, to estimate prompt
            size (CJK characters count as one token each).
        api_key: Sent as a bearer token when given.
        temperature: Sampling temperature requested.

    Example:
        >>> client = HttpChatClient("http://127.0.0.1:8080", "qwen2.5")  # doctest: +SKIP
        >>> client.chat([{"role": "user", "content": "Hi"}], 8)  # doctest: +SKIP
        'Hi!'

    """

    backend = "llm-http"

    def __init__(
        self,
        url: str,
        model: str,
        *,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        context_tokens: int = DEFAULT_HTTP_CONTEXT_TOKENS,
        chars_per_token: float = 3.5,
        api_key: str | None = None,
        temperature: float = 0.2,
    ) -> None:
        self.url = url
        self.model = model
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self._context_tokens = context_tokens
        self.chars_per_token = chars_per_token
        self.api_key = api_key
        self.temperature = temperature

    @property
    def endpoint(self) -> str:
        """The chat-completions URL requests go to."""
        url = self.url.rstrip("/")
        if url.endswith("/chat/completions"):
            return url
        if url.endswith("/v1"):
            return f"{url}/chat/completions"
        return f"{url}/v1/chat/completions"

    def context_tokens(self) -> int:
        """Return the context size assumed for the model."""
        return self._context_tokens

    def check_answers(self, timeout_s: float = SERVER_CHECK_TIMEOUT_S) -> None:
        """Refuse a URL no server answers at, with one short request (any HTTP status will do).

        Without it, every theme fell back after its retries and the run ended with exit 0.

        Raises:
            BackendError: Nothing answers within ``timeout_s`` (refused, unknown host...).
        """
        models = self.endpoint.removesuffix("/chat/completions") + "/models"
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            with urllib.request.urlopen(
                urllib.request.Request(models, headers=headers), timeout=timeout_s
            ):
                return
        except urllib.error.HTTPError:
            return  # a server answered; whether it serves the model shows in the first request
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            if isinstance(reason, TimeoutError | socket.timeout):
                reason = f"no answer in {timeout_s:g} s"
            elif isinstance(reason, OSError) and reason.strerror:
                reason = reason.strerror
            raise BackendError(
                f"--llm-url {self.url}: no server answers (GET {models}: {reason}); start "
                "the server, or check the address and port"
            ) from exc

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments (``context_tokens`` is kept privately)."""
        return {
            "url": self.url,
            "model": self.model,
            "timeout_s": self.timeout_s,
            "max_retries": self.max_retries,
            "backoff_s": self.backoff_s,
            "context_tokens": self._context_tokens,
            "chars_per_token": self.chars_per_token,
            "api_key": self.api_key,
            "temperature": self.temperature,
        }

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Estimate prompt tokens: CJK characters one each, other text by ``chars_per_token``."""
        total = 0
        for message in messages:
            text = message["content"]
            n_cjk = count_cjk(text)
            total += 4 + n_cjk + math.ceil((len(text) - n_cjk) / self.chars_per_token)
        return total

    def chat(self, messages: Sequence[Message], max_reply_tokens: int) -> str:
        """POST the messages; retry with exponential backoff on transient failures."""
        body = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_reply_tokens,
            "temperature": self.temperature,
            "stream": False,
        }
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        n_attempts = self.max_retries + 1
        last_error = ""
        fatal = False
        for attempt in range(n_attempts):
            if attempt:
                delay_s = self.backoff_s * 2 ** (attempt - 1)
                logger.info(
                    "LLM request failed (%s); retry %d/%d in %.1f s",
                    last_error,
                    attempt,
                    self.max_retries,
                    delay_s,
                )
                time.sleep(delay_s)
            request = urllib.request.Request(self.endpoint, data=data, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    payload = response.read()
            except urllib.error.HTTPError as exc:
                detail = shorten(exc.read().decode("utf-8", "replace"))
                last_error = f"HTTP {exc.code}" + (f": {detail}" if detail else "")
                if exc.code == 429 or exc.code >= 500:
                    fatal = False
                    continue
                # Other 4xx (unknown model, bad request) will not get better by retrying.
                raise ChatError(f"{self.endpoint} answered {last_error}", fatal=True) from exc
            except TimeoutError:
                last_error = f"timed out after {self.timeout_s:g} s"
                fatal = False
                continue
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError | socket.timeout):
                    last_error = f"timed out after {self.timeout_s:g} s"
                    fatal = False
                else:
                    last_error = f"connection error: {exc.reason}"
                    fatal = True
                continue
            except (ConnectionError, http.client.HTTPException) as exc:
                last_error = f"connection error: {exc}"
                fatal = True
                continue
            return _reply_content(payload, self.endpoint)
        raise ChatError(
            f"{self.endpoint} failed after {n_attempts} attempts ({last_error})", fatal=fatal
        )


class TransformersChatClient(ChatClient):
    """A local transformers causal LM, loaded from a folder on first use.

    Args:
        model_path: Folder saved with ``save_pretrained`` (model and tokenizer),
            or a model id already in the local Hugging Face cache.
        device: One of :data:`themescope.devices.DEVICES`; ``"auto"`` takes CUDA, then
            MPS, else the CPU.
        context_tokens: Context size to use; by default the model config's
            (``max_position_embeddings``, ``n_positions``...), capped at
            :data:`DEFAULT_LOCAL_CONTEXT_CAP`.

    Example:
        >>> client = TransformersChatClient("models/Qwen2.5-1.5B-Instruct")  # doctest: +SKIP
        >>> client.context_tokens()  # doctest: +SKIP
        4096

    """

    backend = "llm-local"

    def __init__(
        self, model_path: str | Path, *, device: str = "auto", context_tokens: int | None = None
    ) -> None:
        self.model = str(model_path)
        self.device = device
        self.requested_context_tokens = context_tokens
        self.model_: Any = None
        self.tokenizer_: Any = None
        self.context_tokens_: int | None = None

    def load(self) -> TransformersChatClient:
        """Load the tokenizer and model (once); return self.

        Raises:
            ModelLoadError: The folder is missing or not a causal LM.

        """
        if self.model_ is not None:
            return self
        self.tokenizer_, self.model_ = load_local_model(
            self.model,
            device=self.device,
            what="local LLM",
            kind="a causal language model",
            name="local LLM",
            classes=("AutoTokenizer", "AutoModelForCausalLM"),
        )
        configured = _config_context(self.model_.config) or DEFAULT_LOCAL_CONTEXT_CAP
        self.context_tokens_ = self.requested_context_tokens or min(
            configured, DEFAULT_LOCAL_CONTEXT_CAP
        )
        return self

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments (the model folder is kept as ``model``)."""
        return {
            "model_path": self.model,
            "device": self.device,
            "context_tokens": self.requested_context_tokens,
        }

    def context_tokens(self) -> int:
        """Return the context used: the config's, capped, unless given."""
        self.load()
        assert self.context_tokens_ is not None
        return self.context_tokens_

    def render(self, messages: Sequence[Message]) -> str:
        """Return the prompt text: the chat template when the tokenizer has one, else plain."""
        self.load()
        if getattr(self.tokenizer_, "chat_template", None):
            rendered = self.tokenizer_.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True
            )
            return str(rendered)
        lines = [f"{message['role'].capitalize()}: {message['content']}" for message in messages]
        return "\n\n".join([*lines, "Assistant:"])

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Return the exact number of prompt tokens."""
        return len(self._encode(self.render(messages)))

    def _encode(self, text: str) -> list[int]:
        # A chat template already holds the special tokens it needs.
        add_special = not getattr(self.tokenizer_, "chat_template", None)
        ids = self.tokenizer_(text, add_special_tokens=add_special)["input_ids"]
        return list(ids)

    def chat(self, messages: Sequence[Message], max_reply_tokens: int) -> str:
        """Generate greedily; the prompt and reply together stay within the context."""
        self.load()
        import torch

        ids = self._encode(self.render(messages))
        room = self.context_tokens() - len(ids)
        if room < 8:
            raise ChatError(
                f"the prompt takes {len(ids)} tokens of the model's {self.context_tokens()}-token "
                "context, leaving no room for a reply"
            )
        input_ids = torch.tensor([ids], device=self.model_.device)
        pad_id = self.tokenizer_.pad_token_id
        if pad_id is None:
            pad_id = self.tokenizer_.eos_token_id
        try:
            with torch.inference_mode():
                output = self.model_.generate(
                    input_ids=input_ids,
                    attention_mask=torch.ones_like(input_ids),
                    max_new_tokens=min(max_reply_tokens, room),
                    do_sample=False,
                    pad_token_id=pad_id,
                )
        except (RuntimeError, ValueError, IndexError) as exc:
            raise ChatError(f"local generation failed: {exc}", fatal=True) from exc
        new_tokens = output[0, len(ids) :].tolist()
        return str(self.tokenizer_.decode(new_tokens, skip_special_tokens=True))


def _reply_content(payload: bytes, endpoint: str) -> str:
    try:
        data = json.loads(payload.decode("utf-8"))
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        text = shorten(payload.decode("utf-8", "replace"))
        # A server that answers something else (wrong URL, another API) will keep doing so.
        raise ChatError(
            f"{endpoint} did not answer in the chat-completions format: {text}", fatal=True
        ) from exc
    return content if isinstance(content, str) else ""


def _config_context(config: Any) -> int | None:
    for source in (config, getattr(config, "text_config", None)):
        if source is None:
            continue
        for name in (
            "max_position_embeddings",
            "n_positions",
            "max_sequence_length",
            "seq_length",
            "n_ctx",
        ):
            value = getattr(source, name, None)
            if isinstance(value, int) and value > 0:
                return value
    return None


def shorten(text: str, limit: int = 120) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis, for a message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
