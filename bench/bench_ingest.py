"""Ingest throughput and pipeline overhead, on the sample corpus and on the scale corpus.

    .venv/bin/python bench/bench_ingest.py [--corpus sample|scale|both] [--scale-docs N]
                                           [--embed-only-docs N] [--profile] [--json OUT]

For each corpus, with the default settings:

1. *Whole ingest*: the calls `assistant ingest` makes (embedder, `ChunkStore.open`,
   `Indexer.ingest`) into a new, empty data folder: pages/s and chunks/s. The
   embedder is wrapped so that the time spent inside it is known too, and the
   pipeline's steps (PDF loading, chunking, language detection, store writes)
   are timed the same way.
2. *Re-ingest* of the unchanged corpus into the same folder: the speed-up.
3. *Embed only*: the same chunk texts (`embedding_text` over `chunk_document`),
   embedded by a new embedder in the pipeline's batches of `EMBED_BATCH` per
   file, nothing else. Overhead = (whole - embed only) / embed only, both over
   the same files (the whole ingest's time for them is read from per-file marks).
4. *Pipeline without embedding*, over every file of the corpus: the whole
   ingest again into another new folder with a stub embedder that returns a
   fixed pseudo-random unit vector per text at once, then a re-ingest of it.
   What is left is the pipeline's own cost. With `--profile`, the stub ingest
   is profiled with cProfile (the PDF reader process is not: its time shows as
   the `load_limited` step).

The scale corpus (`bench/make_scale_corpus.py`, 60 reports, ~2,150 pages,
~10,400 chunks) takes about 15 minutes to embed on two cores with the
default embedder, and hours on a busy machine. So steps 1-3 run on the first
`--scale-docs` reports (default 12, ~430 pages; they alternate nl/es/en) and
step 4 on all 60; the output also gives the estimate for a whole ingest of
all 60: their chunks at the embed-only rate plus the stub run's time. Step 1's
index is kept in `bench/.cache/scale-index/` for `bench/bench_retrieval.py`.

Figures depend on the machine and on whatever else runs on it: the load
average is printed with every figure.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchlib import (
    CACHE_DIR,
    RESULTS_DIR,
    StepTimer,
    describe_embedder,
    load_average,
    load_note,
    machine,
    table,
    write_results,
)

SCALE_INDEX = CACHE_DIR / "scale-index"
SCALE_DOCS = 12
SCALE_EMBED_ONLY_DOCS = 6
STUB_DIM = 384  # the default embedder's dimension, so the store does the same work


class TimedEmbeddings:
    """Wraps an embedder; counts the time spent inside `embed_documents`."""

    def __init__(self, inner: Any, timer: StepTimer) -> None:
        self._inner = inner
        self.identity = inner.identity
        self.embed_documents = timer.wrap("embed", inner.embed_documents)
        self.embed_query = inner.embed_query


class StubEmbeddings:
    """A pseudo-random unit vector per text, at once: the pipeline then costs only itself.

    Seeded by the text, so a chunk gets the same vector in every run.
    """

    def __init__(self, identity: str) -> None:
        self.identity = identity

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        out = []
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())
            v = np.random.default_rng(seed).standard_normal(STUB_DIM)
            out.append((v / np.linalg.norm(v)).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:  # pragma: no cover - unused here
        return self.embed_documents([text])[0]


@contextmanager
def timed_pipeline(timer: StepTimer) -> Iterator[None]:
    """Time the pipeline's steps by wrapping the names `ingest.pipeline` calls."""
    import ingest.pipeline as pipeline
    from assistant.store import ChunkStore

    # The pipeline may read files in-process (`load_document`) or in a reader process
    # (`load_limited`): time whichever it calls.
    names = ["load_limited", "load_document", "chunk_document", "detect_language"]
    originals = {name: getattr(pipeline, name) for name in names if hasattr(pipeline, name)}
    store_methods = {
        "replace_document": ChunkStore.replace_document,
        "find_by_doc_id": ChunkStore.find_by_doc_id,
        "recover": ChunkStore.recover,
        "documents": ChunkStore.documents,
    }
    try:
        for name, fn in originals.items():
            setattr(pipeline, name, timer.wrap(name, fn))
        for name, fn in store_methods.items():
            setattr(ChunkStore, name, timer.wrap(f"store.{name}", fn))
        yield
    finally:
        for name, fn in originals.items():
            setattr(pipeline, name, fn)
        for name, fn in store_methods.items():
            setattr(ChunkStore, name, fn)


def chunk_texts(settings: Any, files: Sequence[Path]) -> list[list[str]]:
    """Per file, the exact texts the pipeline embeds."""
    from ingest.chunking import chunk_document
    from ingest.loaders import load_document
    from ingest.pipeline import embedding_text

    out = []
    for path in files:
        doc = load_document(path, max_bytes=settings.max_file_bytes)
        chunks = chunk_document(doc.pages, settings.chunk_size, settings.chunk_overlap_sentences)
        out.append([embedding_text(c) for c in chunks])
    return out


def embed_only(settings: Any, texts: list[list[str]]) -> float:
    """Seconds to embed `texts` in the pipeline's batches."""
    from assistant.embeddings import make_embedder
    from ingest.pipeline import EMBED_BATCH

    embedder = make_embedder(settings)
    started = time.perf_counter()
    for file_texts in texts:
        for start in range(0, len(file_texts), EMBED_BATCH):
            embedder.embed_documents(file_texts[start : start + EMBED_BATCH])
    return time.perf_counter() - started


def ingest(settings: Any, files: Sequence[Path], embedder: Any,
           progress: bool = False) -> tuple[Any, float, list[float]]:
    """What `run_ingest` does, with a given embedder.

    Returns (report, seconds, marks): marks[i] is the time since the start at
    which file i began, and marks[-1] the end, so the first N files took marks[N].
    """
    from assistant.store import ChunkStore
    from ingest.pipeline import Indexer

    marks: list[float] = []

    def on_file(i: int, n: int, name: str) -> None:
        marks.append(time.perf_counter() - started)
        if progress and name:
            print(f"    [{i + 1}/{n}] {name}  ({load_note()})", file=sys.stderr, flush=True)

    started = time.perf_counter()
    store = ChunkStore.open(settings, embedder.identity)
    report = Indexer(settings, store, embedder).ingest(list(files), on_file=on_file)
    return report, time.perf_counter() - started, marks


def top_functions(profile: cProfile.Profile, limit: int = 25) -> list[dict[str, Any]]:
    stats = pstats.Stats(profile)
    rows = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
        rows.append({"function": f"{Path(filename).name}:{line}:{name}", "calls": calls,
                     "tottime_s": round(tottime, 3), "cumtime_s": round(cumtime, 3)})
    rows.sort(key=lambda r: r["cumtime_s"], reverse=True)
    return rows[:limit]


def _steps(timer: StepTimer) -> dict[str, dict[str, float]]:
    return {k: {"seconds": v, "calls": timer.calls[k]} for k, v in timer.seconds.items()}


def run_corpus(name: str, files: list[Path], all_files: list[Path], data_dir: Path,
               embed_only_files: int | None, profile: bool, progress: bool) -> dict[str, Any]:
    """Steps 1-3 on `files`, step 4 on `all_files` (see the module docstring)."""
    from assistant.embeddings import make_embedder
    from assistant.settings import Settings

    settings = Settings.load({"data_dir": data_dir})
    result: dict[str, Any] = {"corpus": name, "files": len(files), "all_files": len(all_files)}

    print(f"[{name}] whole ingest of {len(files)} files ({load_note()})", file=sys.stderr)
    timer = StepTimer()
    load_before = load_average()
    with timed_pipeline(timer):
        embedder = TimedEmbeddings(make_embedder(settings), timer)
        report, seconds, marks = ingest(settings, files, embedder, progress)
    if report.failed:
        for outcome in report.outcomes:
            if outcome.status == "failed":
                print(outcome.describe(), file=sys.stderr)
        raise SystemExit(f"[{name}] {report.failed} files failed")
    embed_in_run = timer.seconds["embed"]
    result["embedder"] = describe_embedder(embedder._inner, settings)
    result["whole"] = {
        "seconds": seconds, "pages": report.pages, "chunks": report.chunks,
        "pages_per_s": report.pages / seconds, "chunks_per_s": report.chunks / seconds,
        "embed_seconds_in_run": embed_in_run,
        "overhead_vs_in_run_embed": (seconds - embed_in_run) / embed_in_run,
        "file_marks": marks,
        "steps": _steps(timer), "load_before": load_before, "load_after": load_average(),
    }

    print(f"[{name}] re-ingest, unchanged ({load_note()})", file=sys.stderr)
    timer = StepTimer()
    with timed_pipeline(timer):
        report, again, _ = ingest(settings, files, make_embedder(settings))
    result["reingest"] = {
        "seconds": again, "unchanged": report.unchanged, "files": report.files,
        "speedup": seconds / again, "steps": _steps(timer), "load_after": load_average(),
    }

    if embed_only_files != 0:
        subset = files[:embed_only_files] if embed_only_files else files
        print(f"[{name}] embed only, {len(subset)} files ({load_note()})", file=sys.stderr)
        texts = chunk_texts(settings, subset)
        n_texts = sum(len(t) for t in texts)
        load_before = load_average()
        embed_seconds = embed_only(settings, texts)
        # The whole ingest of the same files: up to the mark where the next file began.
        whole_subset = marks[len(subset)]
        result["embed_only"] = {
            "files": len(subset), "seconds": embed_seconds, "chunks": n_texts,
            "chunks_per_s": n_texts / embed_seconds, "whole_seconds_same_files": whole_subset,
            "load_before": load_before, "load_after": load_average(),
        }
        result["overhead"] = (whole_subset - embed_seconds) / embed_seconds

    print(f"[{name}] pipeline with a stub embedder, {len(all_files)} files ({load_note()})",
          file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-stub-") as tmp:
        stub_settings = settings.replace(data_dir=Path(tmp))
        stub = StubEmbeddings(embedder.identity)
        timer = StepTimer()
        profiler = cProfile.Profile() if profile else None
        with timed_pipeline(timer):
            if profiler is not None:
                profiler.enable()
            report, stub_seconds, _ = ingest(stub_settings, all_files, stub, progress)
            if profiler is not None:
                profiler.disable()
        stub_steps = _steps(timer)
        timer = StepTimer()
        with timed_pipeline(timer):
            again_report, stub_again, _ = ingest(stub_settings, all_files, stub)
    result["pipeline_without_embedding"] = {
        "files": len(all_files), "pages": report.pages, "chunks": report.chunks,
        "seconds": stub_seconds, "profiled": profile,
        "pages_per_s": report.pages / stub_seconds, "steps": stub_steps,
        "reingest_seconds": stub_again, "reingest_unchanged": again_report.unchanged,
        "reingest_steps": _steps(timer), "load_after": load_average(),
    }
    if "embed_only" in result:
        # All files at the measured embedding rate, plus the pipeline's own time.
        rate = result["embed_only"]["chunks_per_s"]
        estimate = report.chunks / rate + stub_seconds
        result["estimate_all_files"] = {
            "whole_seconds": estimate, "overhead": stub_seconds / (report.chunks / rate),
            "reingest_speedup": estimate / stub_again,
        }
    if profiler is not None:
        result["pipeline_without_embedding"]["top_functions"] = top_functions(profiler)
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(30)
        print(buffer.getvalue(), file=sys.stderr)
    return result


def report_tables(results: dict[str, Any]) -> str:
    rows = []
    for key in ("sample", "scale"):
        r = results.get(key)
        if not r:
            continue
        w, again = r["whole"], r["reingest"]
        e = r.get("embed_only")
        rows.append((
            f"{key}, {r['files']} files", f"{w['pages']} / {w['chunks']}",
            f"{w['seconds']:.1f} s", f"{w['pages_per_s']:.2f}", f"{w['chunks_per_s']:.2f}",
            f"{e['seconds']:.1f} s ({e['files']} files, {e['chunks_per_s']:.2f} chunks/s)"
            if e else "n/a",
            f"{r['overhead'] * 100:.1f} %" if "overhead" in r else "n/a",
            f"{w['overhead_vs_in_run_embed'] * 100:.1f} %",
            f"{again['seconds']:.2f} s ({again['speedup']:.0f}×)",
            f"{w['load_before'][0]:.1f} → {w['load_after'][0]:.1f}",
        ))
    out = [table(["Corpus", "Pages / chunks", "Whole ingest", "Pages/s", "Chunks/s",
                  "Embed only", "Overhead vs embed only (same files)",
                  "Overhead vs embed time in the run", "Re-ingest (speed-up)",
                  "Load (1 min) before → after"], rows)]
    rows = []
    for key in ("sample", "scale"):
        r = results.get(key)
        if not r:
            continue
        p = r["pipeline_without_embedding"]
        est = r.get("estimate_all_files")
        rows.append((
            f"{key}, {p['files']} files", f"{p['pages']} / {p['chunks']}",
            f"{p['seconds']:.1f} s ({p['pages_per_s']:.1f} pages/s"
            f"{', under cProfile' if p['profiled'] else ''})",
            f"{p['reingest_seconds']:.2f} s",
            f"{est['whole_seconds'] / 60:.1f} min" if est else "n/a",
            f"{est['overhead'] * 100:.1f} %" if est else "n/a",
            f"{est['reingest_speedup']:.0f}×" if est else "n/a",
        ))
    out.append("\nPipeline without embedding (stub embedder), every file; the estimate adds "
               "the chunks at the embed-only rate\n")
    out.append(table(["Corpus", "Pages / chunks", "Stub ingest", "Stub re-ingest",
                      "Estimated whole ingest", "Estimated overhead",
                      "Estimated re-ingest speed-up"], rows))
    for key in ("sample", "scale"):
        r = results.get(key)
        if not r:
            continue
        steps = []
        phases = [("whole", r["whole"]["steps"]), ("re-ingest", r["reingest"]["steps"]),
                  ("stub ingest", r["pipeline_without_embedding"]["steps"]),
                  ("stub re-ingest", r["pipeline_without_embedding"]["reingest_steps"])]
        for phase, by_step in phases:
            for step, v in sorted(by_step.items(), key=lambda kv: -kv[1]["seconds"]):
                steps.append((phase, step, v["calls"], f"{v['seconds']:.2f} s"))
        out.append(f"\n{key}: time per step (nested: store.documents runs inside "
                   "find_by_doc_id, replace_document and recover)\n")
        out.append(table(["Phase", "Step", "Calls", "Seconds"], steps))
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=["sample", "scale", "both"], default="both")
    parser.add_argument("--scale-docs", type=int, default=SCALE_DOCS, metavar="N",
                        help=f"embed the first N reports of the scale corpus (default "
                        f"{SCALE_DOCS}; they alternate nl/es/en); the stub run takes all")
    parser.add_argument("--embed-only-docs", type=int, default=None, metavar="N",
                        help="embed-only pass over the first N files of each corpus "
                        "(default: all of the sample corpus, the first 6 of the scale corpus; "
                        "0 skips it)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the run with the stub embedder")
    parser.add_argument("--progress", action="store_true", help="one line per file on stderr")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "ingest.json", metavar="OUT",
                        help="merge the figures into this JSON file "
                        "(default bench/results/ingest.json)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from make_scale_corpus import corpus_files, ensure_corpus

    from assistant.settings import Settings

    results: dict[str, Any] = {}
    if args.json.is_file():
        # Merge: a run of one corpus keeps the other corpus's figures.
        results = json.loads(args.json.read_text(encoding="utf-8"))
    if args.corpus in ("sample", "both"):
        files = sorted(Settings.load().corpus_dir.glob("*.pdf"))
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            results["sample"] = run_corpus("sample", files, files, Path(tmp),
                                           args.embed_only_docs, args.profile, args.progress)
    if args.corpus in ("scale", "both"):
        manifest = ensure_corpus()
        all_files = corpus_files()
        files = all_files[: args.scale_docs]
        # The index is kept for bench_retrieval.py, but always built afresh here.
        shutil.rmtree(SCALE_INDEX, ignore_errors=True)
        # Embedding the whole scale corpus twice would double a long run; a mixed
        # subset of reports gives the same ratio.
        subset = SCALE_EMBED_ONLY_DOCS if args.embed_only_docs is None else args.embed_only_docs
        scale = run_corpus("scale", files, all_files, SCALE_INDEX, subset, args.profile,
                           args.progress)
        scale["corpus_params"] = manifest["params"]
        scale["subset"] = args.scale_docs
        (SCALE_INDEX / "built.json").write_text(
            json.dumps({"files": [f.name for f in files], "chunks": scale["whole"]["chunks"]}),
            encoding="utf-8",
        )
        results["scale"] = scale
    results["machine"] = machine()
    print(report_tables(results))
    write_results("ingest", results, args.json)
    print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
