"""The local model behind `generator = "auto"`: made ready in the background.

The app answers with quotes at once. Meanwhile this gets the model ready: it
joins the bundled model file (seconds), builds llama.cpp when the runtime is
missing (pip compiles it once, about 9 minutes on 2 cores, and keeps the wheel
in its cache, so the next start is instant), and loads the model. Then the
assistant answers with it. Every step shows in `status()`; a failure leaves
the quotes in charge and says why.
"""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.generation import GeneratorUnavailableError
from assistant.generation.bundled import BUNDLED, QWEN_1_5B, resolve_model_file
from assistant.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)

# The runtime pip builds when it is missing; the same pin as the local-llm extra.
LLAMA_CPP_REQUIREMENT = "llama-cpp-python==0.3.36"
BUILD_MINUTES = 9  # measured on 2 cores; shown while the build runs


@dataclass(frozen=True)
class LocalStatus:
    # "off" | "waiting" | "joining" | "building" | "loading" | "ready" | "failed"
    state: str
    detail: str = ""  # the model's name when ready, the reason when failed


def runtime_available() -> bool:
    importlib.invalidate_caches()
    try:
        importlib.import_module("llama_cpp")
    except ImportError:
        return False
    return True


def build_log_path(settings: Settings) -> Path:
    return settings.data_dir / "logs" / "llama-cpp-build.log"


def build_runtime(settings: Settings) -> None:
    """pip-install llama-cpp-python into this Python (a compile, once per machine).

    GGML_NATIVE=ON: the wheel is built on, cached on and used by this machine only,
    so it may use every instruction its CPU has.
    """
    log_path = build_log_path(settings)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("CMAKE_ARGS", "-DGGML_NATIVE=ON")
    command = [sys.executable, "-m", "pip", "install", "--quiet", LLAMA_CPP_REQUIREMENT]
    with log_path.open("wb") as out:
        result = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                check=False)
    if result.returncode != 0 or not runtime_available():
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        raise GeneratorUnavailableError(
            f"building llama.cpp failed (pip exited with {result.returncode}; it needs cmake "
            f"and a C++ compiler); log: {log_path}" + (f": {' / '.join(tail)}" if tail else "")
        )


class LocalModel:
    """Gets the configured local model ready once, in a background thread, and hands it out."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._status = LocalStatus("waiting" if settings.generator == "auto" else "off")
        self._model: BaseChatModel | None = None
        self._lock = threading.Lock()
        self._started = False

    def status(self) -> LocalStatus:
        return self._status

    def chat_model(self) -> BaseChatModel | None:
        """The model once it is ready, else None (the caller quotes instead)."""
        return self._model

    def start(self) -> threading.Thread | None:
        """Begin getting ready in a daemon thread (once); returns it, or None if already begun."""
        with self._lock:
            if self._started or self.settings.generator != "auto":
                return None
            self._started = True
        thread = threading.Thread(target=self.prepare, name="local-model", daemon=True)
        thread.start()
        return thread

    def prepare(self, build: bool | None = None) -> LocalStatus:
        """Join, build and load, reporting each step; never raises."""
        build = self.settings.llm_build if build is None else build
        started = time.monotonic()
        try:
            self._set("joining", self._model_name())
            resolve_model_file(self.settings)
            if not runtime_available():
                if not build:
                    raise GeneratorUnavailableError(
                        "llama-cpp-python is not installed: pip install -e '.[local-llm]' "
                        f"(a compile of about {BUILD_MINUTES} minutes)"
                    )
                self._set("building", str(BUILD_MINUTES))
                build_runtime(self.settings)
            self._set("loading", self._model_name())
            from assistant.generation.models import make_llamacpp_model

            self._model = make_llamacpp_model(self.settings)
        except GeneratorUnavailableError as err:
            self._set("failed", str(err))
            log.warning("local model not available: %s", err)
            return self._status
        except Exception as err:  # noqa: BLE001 - the app keeps quoting, with the reason shown
            self._set("failed", f"{type(err).__name__}: {err}")
            log.exception("getting the local model ready failed")
            return self._status
        self._set("ready", self._model_name())
        log.info("local model %s ready after %.0f s", self._model_name(),
                 time.monotonic() - started)
        return self._status

    def fail(self, reason: str) -> None:
        """The model broke while answering: stop using it, and say why."""
        self._model = None
        self._set("failed", reason)

    def _model_name(self) -> str:
        spec = self.settings.llm_model_path.strip()
        if not spec or spec == BUNDLED:
            return QWEN_1_5B.name
        return Path(spec.split("/")[-1]).name

    def _set(self, state: str, detail: str = "") -> None:
        self._status = LocalStatus(state, detail)
