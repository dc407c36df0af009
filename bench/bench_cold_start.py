"""Cold start: from launching the app to the first answer, and its peak memory.

    .venv/bin/python bench/bench_cold_start.py [--runs 3] [--json OUT]

On an index of the sample corpus (built once into `bench/.cache/cold-start-index/`):

* *Web*: `assistant serve` as a subprocess (default settings: embedded Chroma,
  the default embedder, a free port); the clock starts just before the process
  is launched and stops when `gradio_client` has the first answer of `/ask`.
  On the way: when the server first answers HTTP, and when the client is
  connected. Peak RSS of the server process and all its children together,
  sampled every 20 ms.
* *CLI*: `assistant ask QUESTION` from process start to the answer printed, and
  to the process exit; peak RSS likewise.
* *Breakdown*: one fresh process that does the server's work step by step and
  times each (imports of gradio and chromadb, opening the store, loading the
  embedder, the first retrieval which builds the lexical index, the first
  answer, building the UI). Imports shared by two steps count in the first.

Each is run `--runs` times; the first run may read files the later ones find in
the page cache, so each run is reported, with the median.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import (
    CACHE_DIR,
    MB,
    RESULTS_DIR,
    load_average,
    load_note,
    machine,
    table,
    write_results,
)

INDEX_DIR = CACHE_DIR / "cold-start-index"
QUESTION = "¿Qué países lideran el ILIA 2025?"
BIN = Path(sys.executable).parent
SAMPLE_SECONDS = 0.02
READY_TIMEOUT = 180.0

BREAKDOWN = r"""
import json, sys, time
marks = {}
t = time.perf_counter()
def mark(name):
    global t
    now = time.perf_counter()
    marks[name] = (now - t) * 1000
    t = now
import gradio
mark("import gradio")
import chromadb
mark("import chromadb")
import app
from assistant.core import Assistant
from assistant.settings import Settings
mark("import app and assistant")
assistant = Assistant(Settings.load({"data_dir": sys.argv[1]}))
mark("Assistant()")
assistant.store.documents()
mark("open the Chroma store")
assistant.embedder.embed_query("warm-up")
mark("load the embedder (first query vector)")
assistant.retrieve(sys.argv[2])
mark("first retrieval (builds the lexical index)")
answer = assistant.ask(sys.argv[2])
mark("first ask (answer)")
demo = app.build_app(assistant)
mark("build the UI (gr.Blocks)")
print(json.dumps({"marks": marks, "found": answer.found}))
"""


class PeakRss:
    """Peak of the summed RSS of a process and its children, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        import psutil

        self._process = psutil.Process(pid)
        self.peak = 0
        self.peak_children = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self._process, *self._process.children(recursive=True)]
                total = 0
                for p in procs:
                    # A child may end between listing and reading.
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
                self.peak = max(self.peak, total)
                self.peak_children = max(self.peak_children, len(procs) - 1)
            except psutil.Error:
                return  # the process has ended
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def prepare_index() -> Path:
    """An index of the sample corpus, built once and reused."""
    from assistant.cli import run_ingest
    from assistant.settings import Settings

    settings = Settings.load({"data_dir": INDEX_DIR})
    pdfs = sorted(settings.corpus_dir.glob("*.pdf"))
    report = run_ingest(settings, pdfs, rebuild=False, progress=False)
    if report.failed or report.unchanged + report.indexed != len(pdfs):
        raise SystemExit(f"could not index the sample corpus: {report.summary()}")
    return INDEX_DIR


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    # No update check or telemetry: this machine may be offline, and a timeout would
    # be measured as start-up time.
    env.update(GRADIO_ANALYTICS_ENABLED="False", ANONYMIZED_TELEMETRY="False")
    return env


def serve_once(index: Path) -> dict[str, Any]:
    # A file, not a pipe, for the server's log: nobody reads it while the server runs,
    # and a full pipe would stall the server.
    with tempfile.TemporaryFile() as log:
        return _serve(index, log)


def _serve(index: Path, log: Any) -> dict[str, Any]:
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    load = load_average()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "assistant"), "serve", "--data-dir", str(index), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=_env(),
    )
    rss = PeakRss(proc.pid)
    try:
        while True:
            if proc.poll() is not None:
                log.seek(0)
                err = log.read().decode(errors="replace")
                raise SystemExit(f"assistant serve exited with {proc.returncode}:\n{err}")
            if time.perf_counter() - started > READY_TIMEOUT:
                raise SystemExit("assistant serve did not answer HTTP in time")
            try:
                with urllib.request.urlopen(url, timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        http_ready = time.perf_counter() - started
        client = Client(url, verbose=False)
        connected = time.perf_counter() - started
        answer = client.predict(QUESTION, "auto", [], api_name="/ask")
        first_answer = time.perf_counter() - started
        t = time.perf_counter()
        client.predict(QUESTION, "auto", [], api_name="/ask")
        second = time.perf_counter() - t
    finally:
        rss.stop()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {
        "http_ready_s": http_ready, "client_connected_s": connected,
        "first_answer_s": first_answer, "second_answer_s": second,
        "found": bool(answer.get("found")), "peak_rss_mb": rss.peak / MB,
        "children": rss.peak_children, "load": load,
    }


def cli_once(index: Path) -> dict[str, Any]:
    load = load_average()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "assistant"), "ask", QUESTION, "--data-dir", str(index)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
    )
    rss = PeakRss(proc.pid)
    assert proc.stdout is not None
    first_line = proc.stdout.readline()
    printed = time.perf_counter() - started
    rest, err = proc.communicate()
    exited = time.perf_counter() - started
    rss.stop()
    if proc.returncode:
        raise SystemExit(f"assistant ask exited with {proc.returncode}:\n{err.decode()}")
    text = (first_line + rest).decode(errors="replace")
    return {"answer_printed_s": printed, "exited_s": exited, "peak_rss_mb": rss.peak / MB,
            "found": "[1]" in text, "load": load}


def breakdown(index: Path) -> dict[str, Any]:
    load = load_average()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", BREAKDOWN, str(index), QUESTION],
                          capture_output=True, text=True, env=_env(), check=True)
    total = time.perf_counter() - started
    result = json.loads(done.stdout.strip().splitlines()[-1])
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=_env())
    result["python_startup_ms"] = (time.perf_counter() - started) * 1000
    result["total_s"] = total
    result["load"] = load
    return result


def _median(runs: Sequence[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(results: dict[str, Any]) -> str:
    web, cli = results["serve"], results["cli"]
    rows = []
    for i, r in enumerate(web, 1):
        rows.append((f"serve, run {i}", f"{r['http_ready_s']:.1f} s",
                     f"{r['client_connected_s']:.1f} s", f"{r['first_answer_s']:.1f} s",
                     f"{r['second_answer_s'] * 1000:.0f} ms", f"{r['peak_rss_mb']:.0f} MB",
                     f"{r['load'][0]:.1f}"))
    for i, r in enumerate(cli, 1):
        rows.append((f"ask CLI, run {i}", "", "", f"{r['answer_printed_s']:.1f} s "
                     f"(exit {r['exited_s']:.1f} s)", "", f"{r['peak_rss_mb']:.0f} MB",
                     f"{r['load'][0]:.1f}"))
    out = [table(["Run", "HTTP answers", "Client connected", "First answer",
                  "Second answer", "Peak RSS", "Load (1 min)"], rows)]
    out.append(
        f"\nMedian: serve → first answer {_median(web, 'first_answer_s'):.1f} s, peak RSS "
        f"{_median(web, 'peak_rss_mb'):.0f} MB; ask CLI → answer printed "
        f"{_median(cli, 'answer_printed_s'):.1f} s, peak RSS {_median(cli, 'peak_rss_mb'):.0f} MB"
    )
    b = results["breakdown"]
    rows = [("python start-up (`python -c pass`)", f"{b['python_startup_ms']:.0f}")]
    rows += [(name, f"{ms:.0f}") for name, ms in b["marks"].items()]
    out.append(f"\nBreakdown (one fresh process, {b['total_s']:.1f} s in all, "
               f"load {b['load'][0]:.1f}):\n")
    out.append(table(["Step", "ms"], rows))
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "cold_start.json",
                        metavar="OUT")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"preparing the index ({load_note()})", file=sys.stderr)
    index = prepare_index()
    from assistant.settings import Settings

    results: dict[str, Any] = {"question": QUESTION, "runs": args.runs, "serve": [], "cli": [],
                               "embed_engine": getattr(Settings.load(), "embed_engine", None)}
    for i in range(args.runs):
        print(f"run {i + 1}/{args.runs} ({load_note()})", file=sys.stderr)
        results["serve"].append(serve_once(index))
        results["cli"].append(cli_once(index))
    results["breakdown"] = breakdown(index)
    results["median"] = {
        "serve_first_answer_s": _median(results["serve"], "first_answer_s"),
        "serve_peak_rss_mb": _median(results["serve"], "peak_rss_mb"),
        "cli_answer_printed_s": _median(results["cli"], "answer_printed_s"),
        "cli_peak_rss_mb": _median(results["cli"], "peak_rss_mb"),
    }
    results["machine"] = machine()
    print(report(results))
    write_results("cold_start", results, args.json)
    print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
