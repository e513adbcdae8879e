"""LLM tagger: a real chat-completions server in a thread, and a tiny random local causal LM."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from themescope.errors import BackendError, ConfigError, ModelLoadError
from themescope.themes.base import Phrase, Tagger, ThemeMaterial, ThemePhrases
from themescope.themes.chat import HttpChatClient, TransformersChatClient
from themescope.themes.llm import LLMTagger, is_refusal, load_llm_tagger, parse_tags

GOOD_TAGS = [
    "vaccine clinic",
    "nurse",
    "syringe",
    "elderly patients",
    "queue",
    "health workers",
    "masks",
    "appointment",
    "side effects",
    "second dose",
]


@dataclass
class ChatServer:
    """Answers chat completions following a script of behaviours, one per request."""

    script: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    slow_s: float = 1.0
    url: str = ""

    def next_action(self) -> str:
        return self.script.pop(0) if self.script else "ok"


def _completion(content: str) -> bytes:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }
    return json.dumps(body).encode("utf-8")


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    state = ChatServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            request = json.loads(self.rfile.read(length))
            request["_path"] = self.path
            state.requests.append(request)
            action = state.next_action()
            status, content = 200, None
            if action == "ok":
                content = json.dumps(GOOD_TAGS)
            elif action == "fenced":
                content = "Here are the tags:\n```json\n" + json.dumps(GOOD_TAGS[:5]) + "\n```"
            elif action == "slow":
                time.sleep(state.slow_s)
                content = json.dumps(GOOD_TAGS)
            elif action == "500":
                status = 500
            elif action == "malformed":
                content = '{"tags": "vaccine clinic and nurse"'  # not JSON, no list, no lines
            elif action == "refuse":
                content = "I'm sorry, but I can't help with that."
            elif action == "chinese":
                content = json.dumps(["疫苗", "护士", "诊所", "注射"], ensure_ascii=False)
            elif action == "html":
                status, content = 200, None
            elif action == "404":
                status = 404
            body = _completion(content) if content is not None else b'{"error": "boom"}'
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout) before the slow answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class RecordingTagger(Tagger):
    """A fallback that records which themes it was asked about."""

    name = "extractive"

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def tag(self, themes: Sequence[ThemeMaterial], n_phrases: int = 10) -> list[ThemePhrases]:
        self.calls.append([theme.theme_id for theme in themes])
        return [
            ThemePhrases(
                phrases=[Phrase(f"fallback {theme.theme_id} {i}", 1.0 - i / 10) for i in range(3)],
                backend="extractive",
            )
            for theme in themes
        ]


def _materials(n_themes: int = 2, n_lines: int = 6) -> list[ThemeMaterial]:
    return [
        ThemeMaterial(
            theme_id=theme,
            frame_ids=list(range(n_lines)),
            texts=[f"line {i} of theme {theme} about vaccines" for i in range(n_lines)],
            captions=[f"a nurse holding a syringe number {i}" for i in range(n_lines)],
            lang="en",
        )
        for theme in range(n_themes)
    ]


def _http_tagger(server: ChatServer, fallback: Tagger, **client_kwargs: Any) -> LLMTagger:
    options = {"timeout_s": 5.0, "max_retries": 2, "backoff_s": 0.01, **client_kwargs}
    client = HttpChatClient(server.url, "test-model", **options)
    return LLMTagger(client, fallback=fallback, language="en")


def test_http_normal_answer_records_backend_model_prompt(chat_server: ChatServer) -> None:
    fallback = RecordingTagger()
    results = _http_tagger(chat_server, fallback).tag(_materials(2))
    assert fallback.calls == []
    assert [r.backend for r in results] == ["llm-http", "llm-http"]
    assert all(r.model == "test-model" and r.fallback_reason is None for r in results)
    assert [p.text for p in results[0].phrases] == GOOD_TAGS
    assert [p.score for p in results[0].phrases][:3] == [1.0, 0.9, 0.8]
    # The second theme got the same answer, returned as given: the themes stage
    # settles every tagger's tops together (facets, tested in test_themes_stage).
    assert [p.text for p in results[1].phrases] == GOOD_TAGS
    assert len(chat_server.requests) == 2
    request = chat_server.requests[0]
    assert request["_path"] == "/v1/chat/completions"
    assert request["model"] == "test-model"
    user = request["messages"][-1]["content"]
    assert "line 0 of theme 0 about vaccines" in user
    assert "a nurse holding a syringe number 5" in user
    assert "Write every tag in English" in user
    assert "exactly 10 short tags" in user
    assert results[0].prompt is not None and user in results[0].prompt


def test_http_500_then_success_is_retried(chat_server: ChatServer) -> None:
    chat_server.script = ["500", "500", "ok"]
    fallback = RecordingTagger()
    results = _http_tagger(chat_server, fallback).tag(_materials(1))
    assert len(chat_server.requests) == 3
    assert results[0].backend == "llm-http"
    assert results[0].fallback_reason is None
    assert fallback.calls == []


def test_http_slow_answer_times_out_retries_then_falls_back(chat_server: ChatServer) -> None:
    chat_server.script = ["slow", "slow", "ok"]
    chat_server.slow_s = 1.0
    fallback = RecordingTagger()
    tagger = _http_tagger(chat_server, fallback, timeout_s=0.3, max_retries=1)
    materials = _materials(2)
    results = tagger.tag(materials)
    endpoint = f"{chat_server.url}/v1/chat/completions"
    assert results[0].backend == "extractive"
    assert results[0].fallback_reason == (
        f"llm-http (test-model): {endpoint} failed after 2 attempts (timed out after 0.3 s)"
    )
    assert results[0].phrases[0].text == "fallback 0 0"
    assert results[0].prompt is not None and "line 0 of theme 0" in results[0].prompt
    # A timeout is not fatal: the next theme is asked and answered.
    assert results[1].backend == "llm-http"
    assert results[1].fallback_reason is None
    # The fallback saw all themes (its ranking is relative) and was called once.
    assert fallback.calls == [[0, 1]]


def test_http_malformed_then_good_after_reask(chat_server: ChatServer) -> None:
    chat_server.script = ["malformed", "fenced"]
    results = _http_tagger(chat_server, RecordingTagger()).tag(_materials(1))
    assert len(chat_server.requests) == 2
    reask = chat_server.requests[1]["messages"]
    assert reask[-2] == {"role": "assistant", "content": '{"tags": "vaccine clinic and nurse"'}
    assert "could not be read as a list of tags" in reask[-1]["content"]
    assert results[0].backend == "llm-http"
    assert [p.text for p in results[0].phrases] == GOOD_TAGS[:5]


def test_http_malformed_twice_falls_back(chat_server: ChatServer) -> None:
    chat_server.script = ["malformed", "malformed"]
    results = _http_tagger(chat_server, RecordingTagger()).tag(_materials(1))
    assert results[0].backend == "extractive"
    assert results[0].fallback_reason == (
        "llm-http (test-model): the reply could not be read as a list of tags, even after one "
        're-ask: "{"tags": "vaccine clinic and nurse""'
    )


def test_http_refusal_falls_back_without_reask(chat_server: ChatServer) -> None:
    chat_server.script = ["refuse"]
    results = _http_tagger(chat_server, RecordingTagger()).tag(_materials(1))
    assert len(chat_server.requests) == 1
    assert results[0].backend == "extractive"
    assert results[0].fallback_reason == (
        "llm-http (test-model): the model refused: \"I'm sorry, but I can't help with that.\""
    )


def test_http_tags_in_the_wrong_language_are_reasked(chat_server: ChatServer) -> None:
    chat_server.script = ["chinese", "ok", "chinese", "chinese"]
    results = _http_tagger(chat_server, RecordingTagger()).tag(_materials(2))
    assert len(chat_server.requests) == 4
    assert "Write every tag in English." in chat_server.requests[1]["messages"][-1]["content"]
    assert results[0].backend == "llm-http"
    assert [p.text for p in results[0].phrases] == GOOD_TAGS
    assert results[1].backend == "extractive"
    assert results[1].fallback_reason == (
        "llm-http (test-model): the tags were not in English, even after one re-ask: "
        '"["疫苗", "护士", "诊所", "注射"]"'
    )


def test_theme_without_text_is_not_sent(chat_server: ChatServer) -> None:
    materials = _materials(2)
    materials[1] = ThemeMaterial(1, [7, 8], ["", " "], ["", ""], "en")
    results = _http_tagger(chat_server, RecordingTagger()).tag(materials)
    assert len(chat_server.requests) == 1
    assert results[0].backend == "llm-http"
    assert results[1].fallback_reason == (
        "llm-http (test-model): the theme has no captions or transcript text to tag"
    )
    assert results[1].prompt is None


def test_http_client_error_is_not_retried_and_stops_asking(chat_server: ChatServer) -> None:
    chat_server.script = ["404"]
    fallback = RecordingTagger()
    results = _http_tagger(chat_server, fallback).tag(_materials(3))
    # 404 (e.g. unknown model) will not improve: one request, every theme falls back.
    assert len(chat_server.requests) == 1
    assert [r.backend for r in results] == ["extractive"] * 3
    endpoint = f"{chat_server.url}/v1/chat/completions"
    assert all(
        r.fallback_reason
        == f'llm-http (test-model): {endpoint} answered HTTP 404: {{"error": "boom"}}'
        for r in results
    )
    assert fallback.calls == [[0, 1, 2]]


def test_non_chat_answer_stops_asking(chat_server: ChatServer) -> None:
    chat_server.script = ["html"]
    results = _http_tagger(chat_server, RecordingTagger()).tag(_materials(2))
    assert len(chat_server.requests) == 1
    endpoint = f"{chat_server.url}/v1/chat/completions"
    assert [r.fallback_reason for r in results] == [
        f"llm-http (test-model): {endpoint} did not answer in the chat-completions format: "
        '{"error": "boom"}'
    ] * 2


def test_unreachable_server_falls_back_and_without_fallback_raises() -> None:
    client = HttpChatClient("http://127.0.0.1:9", "m", timeout_s=1, max_retries=1, backoff_s=0.01)
    results = LLMTagger(client, fallback=RecordingTagger()).tag(_materials(2))
    assert [r.backend for r in results] == ["extractive", "extractive"]
    assert results[0].fallback_reason is not None
    assert "failed after 2 attempts (connection error:" in results[0].fallback_reason
    with pytest.raises(BackendError, match="no fallback tagger is set"):
        LLMTagger(client, fallback=None).tag(_materials(1))


def test_prompt_is_trimmed_to_the_context(chat_server: ChatServer) -> None:
    tagger = _http_tagger(chat_server, RecordingTagger(), context_tokens=900)
    material = _materials(1, n_lines=300)[0]
    messages = tagger.build_messages(material)
    n_tokens = tagger.client.count_tokens(messages)
    assert n_tokens <= 900 - 2 * tagger.max_reply_tokens - 48
    user = messages[-1]["content"]
    n_lines = user.count("\n- ")
    assert 4 <= n_lines < 600
    # The sample is spread over the whole theme, not just its start.
    indices = [int(m) for m in re.findall(r"- line (\d+) of theme", user)]
    assert indices == sorted(indices) and indices[0] < 30 and indices[-1] > 270
    assert tagger.client.count_tokens(tagger.build_messages(_materials(1, 4)[0])) < n_tokens


def test_parse_tags_tolerates_common_reply_shapes() -> None:
    assert parse_tags('["a b", "c", "d"]') == ["a b", "c", "d"]
    assert parse_tags('Sure: {"tags": ["x", "y", "z"]} hope it helps') == ["x", "y", "z"]
    assert parse_tags("1. Vaccine clinic\n2. **Nurse**\n3) Syringe\n") == [
        "Vaccine clinic",
        "Nurse",
        "Syringe",
    ]
    assert parse_tags("- masks\n* queue\n• doctors") == ["masks", "queue", "doctors"]
    assert parse_tags("Tags: 疫苗, 护士, 医院, 疫苗") == ["疫苗", "护士", "医院"]
    assert parse_tags(json.dumps([f"t{i}" for i in range(15)]), 10) == [f"t{i}" for i in range(10)]
    thinking = '<think>Maybe ["x", "y", "z"]? I cannot help thinking...</think>\n["a", "b", "c"]'
    assert parse_tags(thinking) == ["a", "b", "c"]
    assert not is_refusal(thinking)
    assert parse_tags("I cannot do that.") is None
    assert is_refusal("I'm sorry, but I can't help with that.")
    assert is_refusal("抱歉，我无法完成这个请求。")
    assert not is_refusal('["news anchor", "vaccine", "clinic"]')
    assert parse_tags('["only one"]') is None


def test_a_server_that_does_not_answer_is_refused_before_any_work() -> None:
    # Nothing listens on port 9: every theme fell back after 4 tries and the run ended 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"  # bound, not listening: refused
        with pytest.raises(BackendError) as info:
            load_llm_tagger(url=url, model="m", language=None, fallback=RecordingTagger())
    assert str(info.value) == (
        f"--llm-url {url}: no server answers (GET {url}/v1/models: Connection refused); "
        "start the server, or check the address and port"
    )


def test_load_llm_tagger_validates(tmp_path: Path, chat_server: ChatServer) -> None:
    fallback = RecordingTagger()
    tagger = load_llm_tagger(url=chat_server.url, model="m", language="en", fallback=fallback)
    assert isinstance(tagger.client, HttpChatClient)
    assert tagger.client.endpoint == f"{chat_server.url}/v1/chat/completions"
    full = HttpChatClient("http://h/v1/chat/completions", "m")
    assert full.endpoint == "http://h/v1/chat/completions"
    with pytest.raises(ConfigError, match="--tagger llm needs --llm-model"):
        load_llm_tagger(url=None, model="", language=None, fallback=fallback)
    with pytest.raises(ConfigError, match="LLM context_tokens must be >= 256; got 100"):
        load_llm_tagger(
            url="http://h", model="m", language=None, fallback=fallback, context_tokens=100
        )
    sized = load_llm_tagger(
        url=chat_server.url, model="m", language=None, fallback=fallback, context_tokens=8192
    )
    assert sized.client.context_tokens() == 8192
    with pytest.raises(ConfigError, match="--llm-url must start with http:// or https://"):
        load_llm_tagger(url="localhost:8080", model="m", language=None, fallback=fallback)
    missing = tmp_path / "no-model"
    with pytest.raises(ModelLoadError, match=f"local LLM path {missing} does not exist"):
        load_llm_tagger(url=None, model=str(missing), language=None, fallback=fallback)


# --- the local transformers path, with a tiny random GPT-2 -------------------------------------

VOCAB_TEXT = """
here is a sample from one theme of video frames give exactly short tags to three words
each naming what this shows and talks about topics people places actions setting write
every tag in english whatever the language material reply with only json array strings
like line nurse holding syringe number vaccines system user assistant you label themes for
media researcher answer
"""
VOCAB_WORDS = VOCAB_TEXT.split()


def _build_tiny_lm(folder: Path, n_positions: int, chat_template: str | None) -> None:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "[PAD]": 1, "[EOS]": 2}
    for word in VOCAB_WORDS:
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(vocab),
        n_positions=n_positions,
        n_embd=32,
        n_layer=1,
        n_head=2,
        bos_token_id=2,
        eos_token_id=2,
        pad_token_id=1,
    )
    model = GPT2LMHeadModel(config)
    # A random model ending its reply at once would make the test trivial; forbid EOS.
    with torch.no_grad():
        model.lm_head.weight[2].zero_()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.mark.parametrize("chat_template", [None, TEMPLATE], ids=["plain", "chat-template"])
def test_local_lm_runs_within_context_and_falls_back(
    tmp_path: Path, chat_template: str | None
) -> None:
    folder = tmp_path / "tiny-gpt2"
    _build_tiny_lm(folder, n_positions=320, chat_template=chat_template)
    fallback = RecordingTagger()
    tagger = load_llm_tagger(url=None, model=str(folder), language="en", fallback=fallback)
    assert isinstance(tagger.client, TransformersChatClient)
    tagger.max_reply_tokens = 16
    client = tagger.client
    assert client.context_tokens() == 320  # read from the config's n_positions
    messages = tagger.build_messages(_materials(1, n_lines=200)[0])
    rendered = client.render(messages)
    assert rendered.startswith("<|system|>") == (chat_template is not None)
    assert client.count_tokens(messages) <= 320 - 2 * 16 - 48
    results = tagger.tag(_materials(2, n_lines=200))
    # Random weights produce word salad: parsing fails twice and the fallback answers.
    assert [r.backend for r in results] == ["extractive", "extractive"]
    reason = results[0].fallback_reason
    assert reason is not None
    assert reason.startswith(
        f"llm-local ({folder}): the reply could not be read as a list of tags, even after one "
        "re-ask"
    )
    assert results[0].prompt is not None and "line" in results[0].prompt
    assert fallback.calls == [[0, 1]]


def test_local_lm_too_small_context_falls_back(tmp_path: Path) -> None:
    folder = tmp_path / "tiny-gpt2-short"
    _build_tiny_lm(folder, n_positions=64, chat_template=None)
    tagger = load_llm_tagger(url=None, model=str(folder), language=None, fallback=RecordingTagger())
    tagger.max_reply_tokens = 8
    results = tagger.tag(_materials(1))
    reason = results[0].fallback_reason
    assert reason is not None
    assert reason.startswith(f"llm-local ({folder}): the instructions alone take ")
    assert reason.endswith("the model's 64-token context leaves 0 for the prompt")
    assert results[0].prompt is None
