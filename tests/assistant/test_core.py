"""The Python API's upkeep: a running assistant takes in what other processes index."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from assistant import Assistant, Settings
from tests.conftest import FIXTURES, ROOT, make_indexer
from tests.test_cli import probe, run_cli

# Far above the fraction of a second each step takes: only a hang reaches it.
CAP_SECONDS = 300.0


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + CAP_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"still waiting: {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_running_assistant_loads_what_another_process_indexes_before_it_is_asked(
    settings: Settings,
) -> None:
    assert make_indexer(settings).ingest([FIXTURES / "sample.md"]).ok
    assistant = Assistant(settings)
    watcher = assistant.watch(0.1)
    try:
        loaded = assistant.retriever.bridge.groups
        wait_until(lambda: len(loaded()) == 1, "the warm-up at start")

        # `assistant ingest` in its own process: no question is asked here meanwhile.
        added = run_cli("ingest", "--quiet", str(FIXTURES / "sample.txt"),
                        data_dir=settings.data_dir)
        assert probe(added)["code"] == 0, added.stderr
        wait_until(lambda: len(loaded()) == 2, "the document indexed by the other process")

        other = next(d for d in assistant.documents() if d.file_name == "sample.txt")
        removed = run_cli("delete", other.doc_id, data_dir=settings.data_dir)
        assert probe(removed)["code"] == 0, removed.stderr
        wait_until(lambda: len(loaded()) == 1, "the document deleted by the other process")
    finally:
        watcher.stop(timeout=CAP_SECONDS)
    assert not watcher.thread.is_alive()


def test_without_an_interval_the_assistant_warms_up_once(settings: Settings) -> None:
    calls: list[int] = []
    assistant = Assistant(settings)
    assistant.warm_up = lambda: calls.append(1)  # type: ignore[method-assign]
    assistant.keep_current(0, threading.Event())
    assert calls == [1]


def test_the_watcher_is_stopped_before_the_process_exits(settings: Settings) -> None:
    # The watcher's thread calls into the store's native client. Left running at exit,
    # it can be inside such a call while the interpreter frees the client (a crash on
    # the way out). An exit handler registered before `watch` runs after its own one.
    assert make_indexer(settings).ingest([FIXTURES / "sample.md"]).ok
    script = f"""
import atexit, sys
from assistant import Assistant, Settings
watchers = []
atexit.register(lambda: print("alive at exit:", watchers[0].thread.is_alive()))
assistant = Assistant(Settings.load({{"data_dir": {str(settings.data_dir)!r}}}, environ={{}}))
watchers.append(assistant.watch(0.01))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=CAP_SECONDS, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "alive at exit: False" in done.stdout
