"""A local GGUF model, in-process through llama-cpp-python, as a LangChain chat model.

langchain-community has a llama.cpp wrapper, but it pulls in a large package
for one class and re-loads the weights for every instance. Here a model file
is loaded once per process and shared; a lock serialises its use, because a
llama.cpp context holds the state of one generation at a time.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.generation import _LOCAL_LLM_HINT, GeneratorUnavailableError
from assistant.generation.bundled import resolve_model_file
from assistant.settings import Settings

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)

# Sampling options a caller may override per call (`model.invoke(..., max_tokens=20)`).
# Anything else LangChain passes along (tracing hints) must not reach llama.cpp.
_CALL_OPTIONS = ("temperature", "max_tokens", "top_p", "top_k", "repeat_penalty", "seed")


@dataclass(frozen=True)
class LoadedModel:
    llama: Llama
    # Held for a whole generation, streaming included.
    lock: threading.Lock


# (path, n_ctx, n_threads) -> model. The context size and thread count are
# fixed at load time, so a different value needs its own instance.
_LOADED: dict[tuple[str, int, int | None], LoadedModel] = {}
_LOADING = threading.Lock()


def default_threads() -> int:
    """llama.cpp's own default for generation: half the logical cores (about the physical ones).

    Prompt reading gets the same count. llama.cpp would use every logical core
    there, and its threads wait for each other at every step, so one core that
    is busy elsewhere stalls them all: on a 2-vCPU VM a 1k-token prompt took
    2-3x longer on 2 threads than on 1, and a short one up to 20x.
    """
    return max((os.cpu_count() or 2) // 2, 1)


def load_llama(path: Path, n_ctx: int, n_threads: int | None) -> LoadedModel:
    """The shared llama.cpp model for these load parameters, loaded on first use."""
    key = (str(path), n_ctx, n_threads)
    with _LOADING:
        loaded = _LOADED.get(key)
        if loaded is not None:
            return loaded
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise GeneratorUnavailableError(
                f"the llamacpp generator needs llama-cpp-python ({exc}): {_LOCAL_LLM_HINT}"
            ) from exc
        try:
            # chat_format=None: use the chat template stored in the GGUF file.
            llama = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads or default_threads(),
                chat_format=None,
                verbose=False,
            )
        except Exception as exc:
            raise GeneratorUnavailableError(
                f"generator 'llamacpp': llama.cpp cannot load '{path}' ({exc}). The file "
                "may be damaged, need more memory than is free, or use a GGUF version newer "
                "than this llama-cpp-python (upgrade it)"
            ) from exc
        if "tokenizer.chat_template" not in llama.metadata:
            # A base model without a template continues the text instead of answering.
            log.warning(
                "'%s' has no chat template; use an instruct/chat model for answers", path.name
            )
        loaded = LoadedModel(llama, threading.Lock())
        _LOADED[key] = loaded
        return loaded


@atexit.register
def close_models() -> None:
    """Free every loaded model (also run at exit).

    Left to the garbage collector at interpreter shutdown, `Llama.__del__` runs
    after llama_cpp's module globals are gone and prints a traceback. A model
    still generating in a daemon thread is left alone rather than freed under it.
    """
    with _LOADING:
        for key, loaded in list(_LOADED.items()):
            if loaded.lock.acquire(timeout=1.0):
                try:
                    loaded.llama.close()
                finally:
                    loaded.lock.release()
                del _LOADED[key]


def make_llamacpp_model(settings: Settings) -> LlamaCppChatModel:
    """The configured local model, loaded (or taken from the per-process cache)."""
    path = resolve_model_file(settings)
    model = LlamaCppChatModel(
        model_path=str(path),
        n_ctx=settings.llm_context,
        n_threads=settings.llm_threads or None,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
    )
    model.load()
    return model


def to_llama_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as the role/content dicts of llama.cpp's chat API."""
    converted = []
    for message in messages:
        if isinstance(message, SystemMessage):
            role = "system"
        elif isinstance(message, HumanMessage):
            role = "user"
        elif isinstance(message, AIMessage):
            role = "assistant"
        elif isinstance(message, ChatMessage):
            role = message.role
        else:
            raise ValueError(
                f"the llamacpp generator cannot send a {type(message).__name__} "
                "(only system, human, AI and chat messages)"
            )
        # `.text` joins the text blocks when the content is a list of blocks.
        converted.append({"role": role, "content": message.text})
    return converted


def _usage(usage: dict[str, Any] | None) -> UsageMetadata | None:
    if not usage:
        return None
    return UsageMetadata(
        input_tokens=usage.get("prompt_tokens", 0),
        output_tokens=usage.get("completion_tokens", 0),
        total_tokens=usage.get("total_tokens", 0),
    )


class LlamaCppChatModel(BaseChatModel):
    """A GGUF chat model run in-process by llama.cpp, with token streaming."""

    model_path: str
    n_ctx: int = 4096
    n_threads: int | None = None  # None: llama.cpp's default (half the logical cores)
    temperature: float = 0.1
    max_tokens: int = 512

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "n_ctx": self.n_ctx,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def load(self) -> LoadedModel:
        return load_llama(Path(self.model_path), self.n_ctx, self.n_threads)

    def _params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        params.update({k: kwargs[k] for k in _CALL_OPTIONS if k in kwargs})
        if stop:
            params["stop"] = stop
        return params

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        loaded = self.load()
        with loaded.lock:
            completion = loaded.llama.create_chat_completion(
                messages=to_llama_messages(messages), **self._params(stop, kwargs)
            )
        choice = completion["choices"][0]
        message = AIMessage(
            content=choice["message"].get("content") or "",
            response_metadata={
                "finish_reason": choice.get("finish_reason"),
                "model_name": Path(self.model_path).name,
            },
            usage_metadata=_usage(completion.get("usage")),
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        loaded = self.load()
        # The lock is held until the stream ends or its consumer drops it (closing
        # the generator runs the `finally`), so no other generation interleaves.
        with loaded.lock:
            parts = loaded.llama.create_chat_completion(
                messages=to_llama_messages(messages), stream=True, **self._params(stop, kwargs)
            )
            try:
                for part in parts:
                    choice = part["choices"][0]
                    text = choice["delta"].get("content") or ""
                    if text:
                        chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                        if run_manager is not None:
                            run_manager.on_llm_new_token(text, chunk=chunk)
                        yield chunk
                    if choice.get("finish_reason"):
                        yield ChatGenerationChunk(
                            message=AIMessageChunk(
                                content="",
                                response_metadata={
                                    "finish_reason": choice["finish_reason"],
                                    "model_name": Path(self.model_path).name,
                                },
                                chunk_position="last",
                            )
                        )
            finally:
                parts.close()
