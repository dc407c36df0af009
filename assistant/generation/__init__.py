"""Answer generators behind LangChain's chat-model interface, chosen by `Settings.generator`.

"extractive" needs no model and is also the fallback when a generator fails.
The others load their client libraries only when chosen, so the default
configuration never imports llama.cpp or an HTTP client for a model server.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from assistant.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

GENERATORS = ("extractive", "auto", "llamacpp", "ollama", "openai")
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
# The OpenAI-compatible servers people run locally accept any model name; this
# one only shows up in their logs.
DEFAULT_OPENAI_MODEL = "local-model"
# The whole reachability probe, DNS included, stays under the 3 s callers can
# afford before falling back to the extractive answer.
PROBE_TIMEOUT_S = 2.5

_LOCAL_LLM_HINT = (
    "install the optional extra: pip install -e '.[local-llm]' (it compiles llama.cpp: "
    "needs cmake and a C++ compiler, and takes several minutes)"
)


class GeneratorUnavailableError(RuntimeError):
    """The configured generator cannot answer; the message names it and says how to fix it."""


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """Build the configured chat model, or None for the extractive answerer.

    Configuration mistakes (no model file, no base URL, missing optional
    package) raise `GeneratorUnavailableError` here, before any question is
    asked. For "llamacpp" the model is also loaded here (once per process), so
    a broken GGUF file fails now rather than in the middle of an answer.
    Servers are not contacted: use `check_reachable` for that.
    """
    name = _generator_name(settings)
    if name == "extractive":
        return None
    if name in ("llamacpp", "auto"):
        from assistant.generation.models import make_llamacpp_model

        return make_llamacpp_model(settings)
    if name == "ollama":
        return _make_ollama(settings)
    return _make_openai(settings)


def check_reachable(settings: Settings) -> None:
    """Fail within `PROBE_TIMEOUT_S` when the configured model server cannot answer.

    A no-op for generators that run in-process. Without this probe an absent
    server shows up only after the client's own timeout and retries.
    """
    name = _generator_name(settings)
    if name == "ollama":
        _probe_ollama(settings)
    elif name == "openai":
        _probe_openai(settings)


def _generator_name(settings: Settings) -> str:
    name = settings.generator.strip().lower()
    if name not in GENERATORS:
        raise ValueError(
            f"unknown generator {settings.generator!r}: use one of {', '.join(GENERATORS)}"
        )
    return name


def _base_url(settings: Settings, default: str = "") -> str:
    url = (settings.llm_base_url.strip() or default).rstrip("/")
    if url and not url.startswith(("http://", "https://")):
        raise GeneratorUnavailableError(
            f"generator '{settings.generator}': base URL {url!r} must start with http:// or "
            "https://; check ASSISTANT_LLM_BASE_URL"
        )
    return url


def _make_ollama(settings: Settings) -> BaseChatModel:
    model = settings.llm_model.strip()
    if not model:
        raise GeneratorUnavailableError(
            "the ollama generator needs a model name: set ASSISTANT_LLM_MODEL "
            "(e.g. qwen2.5:3b) and fetch it with `ollama pull qwen2.5:3b`"
        )
    base_url = _base_url(settings, DEFAULT_OLLAMA_URL)
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise GeneratorUnavailableError(
            f"the ollama generator needs langchain-ollama ({exc}): pip install -e ."
        ) from exc
    return ChatOllama(
        model=model,
        base_url=base_url,
        temperature=settings.llm_temperature,
        num_predict=settings.llm_max_tokens,
        num_ctx=settings.llm_context,
        # Without a timeout the HTTP client waits forever on a stuck server.
        client_kwargs={"timeout": settings.llm_timeout},
    )


def _make_openai(settings: Settings) -> BaseChatModel:
    base_url = _base_url(settings)
    if not base_url:
        raise GeneratorUnavailableError(
            "the openai generator needs the server's address: set ASSISTANT_LLM_BASE_URL "
            "(e.g. http://127.0.0.1:8000/v1 for vLLM or llama.cpp server, "
            "http://127.0.0.1:1234/v1 for LM Studio, https://api.openai.com/v1 for OpenAI)"
        )
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise GeneratorUnavailableError(
            f"the openai generator needs langchain-openai ({exc}): pip install -e ."
        ) from exc
    extra: dict[str, Any] = {}
    if "api.openai.com" not in base_url:
        # ChatOpenAI sends the limit only as `max_completion_tokens`; servers that
        # predate that name (llama-cpp-python's server among them) ignore it and
        # generate until the context is full. They all read `max_tokens`.
        extra["extra_body"] = {"max_tokens": settings.llm_max_tokens}
    return ChatOpenAI(
        model=settings.llm_model.strip() or DEFAULT_OPENAI_MODEL,
        base_url=base_url,
        api_key=settings.llm_api_key or "not-needed",
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        timeout=settings.llm_timeout,
        # One retry covers a dropped connection; more only delays the fallback.
        max_retries=1,
        **extra,
    )


def _probe_ollama(settings: Settings) -> None:
    base_url = _base_url(settings, DEFAULT_OLLAMA_URL)
    model = settings.llm_model.strip()
    how_to_start = f"start Ollama: ollama serve; ollama pull {model or 'MODEL'}"
    status, body = _get(f"{base_url}/api/tags", {}, "ollama", base_url, how_to_start)
    if status >= 400:
        raise GeneratorUnavailableError(
            f"generator 'ollama': the server at {base_url} answered HTTP {status} to "
            "/api/tags: is "
            "ASSISTANT_LLM_BASE_URL the Ollama address (http://HOST:11434, without /v1)?"
        )
    if not model:
        return
    try:
        pulled = {m.get("name", "") for m in json.loads(body).get("models", [])}
    except (ValueError, AttributeError):
        return  # not the listing we know; let the chat request tell what is wrong
    # Ollama lists "qwen2.5:3b" and "llama3.2:latest"; users write "llama3.2".
    if model not in pulled and f"{model}:latest" not in pulled:
        available = ", ".join(sorted(pulled)) or "none"
        raise GeneratorUnavailableError(
            f"generator 'ollama': model '{model}' is not on the server at {base_url}: run "
            f"`ollama pull {model}` (models there: {available})"
        )


def _probe_openai(settings: Settings) -> None:
    base_url = _base_url(settings)
    if not base_url:
        _make_openai(settings)  # raises the "set ASSISTANT_LLM_BASE_URL" error
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    how_to_start = (
        "start the server (e.g. python -m llama_cpp.server --model FILE.gguf, "
        "vllm serve MODEL, or LM Studio's server) or check ASSISTANT_LLM_BASE_URL"
    )
    status, _ = _get(f"{base_url}/models", headers, "openai", base_url, how_to_start)
    if status in (401, 403):
        raise GeneratorUnavailableError(
            f"generator 'openai': the server at {base_url} refused the API key "
            f"(HTTP {status}): check ASSISTANT_LLM_API_KEY"
        )
    if status == 404:
        raise GeneratorUnavailableError(
            f"generator 'openai': no OpenAI-compatible API at {base_url} ({base_url}/models: "
            "HTTP 404): "
            "check ASSISTANT_LLM_BASE_URL; it usually ends in /v1"
        )
    if status >= 400:
        raise GeneratorUnavailableError(
            f"generator 'openai': the server at {base_url} is not ready (HTTP {status} "
            "on /models); retry when it has loaded its model"
        )


def _get(
    url: str, headers: dict[str, str], generator: str, base_url: str, how_to_start: str
) -> tuple[int, bytes]:
    """(status, body) of a GET, or `GeneratorUnavailableError` when no answer comes in time."""
    outcome = _fetch(url, headers)
    if isinstance(outcome, str):
        raise GeneratorUnavailableError(
            f"generator '{generator}': the server at {base_url} is not reachable ({outcome}); "
            f"{how_to_start}"
        )
    return outcome


def reachable(url: str) -> str:
    """"" when `url` answers (any HTTP status) within `PROBE_TIMEOUT_S`, else why not."""
    outcome = _fetch(url, {})
    return outcome if isinstance(outcome, str) else ""


def _fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes] | str:
    """(status, body) of a GET, or the reason there was no answer in time.

    urllib's timeout covers each socket operation but not name resolution, so
    the request runs in a daemon thread that is abandoned at the deadline.
    """
    outcome: dict[str, Any] = {}

    def fetch() -> None:
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as response:
                outcome["answer"] = (response.status, response.read(1_000_000))
        except urllib.error.HTTPError as exc:  # an answer, only not a 2xx one
            outcome["answer"] = (exc.code, b"")
        except Exception as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=fetch, name="generator-probe", daemon=True)
    worker.start()
    worker.join(PROBE_TIMEOUT_S)
    if "answer" in outcome:
        return outcome["answer"]
    if "error" in outcome:
        return _describe(outcome["error"])
    return f"no answer within {PROBE_TIMEOUT_S:g} s"


def _describe(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused: nothing listens there"
    if isinstance(reason, socket.gaierror):
        return "unknown host name"
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer within {PROBE_TIMEOUT_S:g} s"
    return str(reason) or type(reason).__name__
