"""Can retrieval run on the store's own indexes at 100k-1M chunks? Dense and lexical, measured.

    .venv/bin/python bench/bench_store_indexes.py [--sizes 100000 1000000]
                                                 [--ef 100] [--json OUT]

Today each app process holds every live chunk's vector and the whole BM25 index in
memory (`assistant.live`, `assistant.lexical`). This script measures the two leads
for a library too large for that, without touching the app:

* *Dense*: Chroma's own HNSW index, one collection per language (no `where`
  filter: in Chroma the filter runs in SQLite before the vector search), queried
  with an over-fetch so that chunks of superseded document versions can be
  dropped afterwards. Recall at 10-100 against exact search over the same
  vectors, per-query latency (p50/p95), build time, the index's size on disk.
* *Lexical*: SQLite FTS5 with `bm25()`, one table per language, over the chunks'
  analysed terms (the same stems, stop words and accent folding as
  `assistant.lexical`), queried with the question's terms ORed: latency p50/p95
  of the top 30, and the index's size on disk.

Vectors and texts come from the real pool of `bench_retrieval.py` (the sample
corpus and about 2,000 scale-corpus chunks, embedded by the real embedder), and
synthetic variants of them: each vector is a pool vector plus Gaussian noise at
the cosine measured between real chunks and their embedded variants; each text is
its pool chunk's text. Questions: `corpus/questions.yaml`, embedded as queries.
Indexes are cached in `bench/.cache/store-indexes-<size>/` and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from bench_retrieval import load_pool, load_questions
from benchlib import (
    CACHE_DIR,
    RESULTS_DIR,
    load_average,
    load_note,
    machine,
    percentile,
    write_results,
)

BATCH = 5000
OVERFETCH = (10, 30, 60, 100)
LEXICAL_TOP = 30
COMMON_SHARE = 0.05
BUILD_VERSION = 1


def _rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024**2


def synthesize(pool_vectors: np.ndarray, size: int, sigma: float, seed: int = 7,
               ) -> tuple[np.ndarray, np.ndarray]:
    """`size` unit vectors, each a pool vector (row i % pool) plus noise; and the pool
    row each comes from."""
    rng = np.random.default_rng(seed)
    rows = np.arange(size) % len(pool_vectors)
    out = np.empty((size, pool_vectors.shape[1]), dtype=np.float32)
    for start in range(0, size, 100_000):
        part = rows[start:start + 100_000]
        block = pool_vectors[part] + rng.normal(0, sigma, (len(part), pool_vectors.shape[1]))
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:start + len(part)] = block
    return out, rows


def noise_sigma(target_cosine: float, dim: int) -> float:
    # For a unit vector plus N(0, s^2) noise in `dim` dimensions, cos ≈ 1/sqrt(1 + dim s^2).
    return float(np.sqrt((1 / target_cosine**2 - 1) / dim))


def build_dense(folder: Path, vectors: np.ndarray, languages: Sequence[str],
                graph: dict[str, int]) -> dict[str, Any]:
    import chromadb

    client = chromadb.PersistentClient(path=str(folder / "chroma"))
    started = time.perf_counter()
    by_language: dict[str, list[int]] = {}
    for i, lang in enumerate(languages):
        by_language.setdefault(lang, []).append(i)
    for lang, rows in by_language.items():
        collection = client.get_or_create_collection(
            f"chunks_{lang}", embedding_function=None,
            configuration={"hnsw": {"space": "cosine", **graph}},
        )
        for start in range(0, len(rows), BATCH):
            part = rows[start:start + BATCH]
            collection.add(
                ids=[f"c{i}" for i in part],
                embeddings=vectors[part],
                metadatas=[{"doc": f"d{i // 100}@1"} for i in part],
            )
            if start % (BATCH * 20) == 0:
                print(f"    dense {lang}: {start + len(part)}/{len(rows)} "
                      f"({time.perf_counter() - started:.0f} s, {load_note()})", file=sys.stderr)
    return {"build_seconds": time.perf_counter() - started,
            "per_language": {k: len(v) for k, v in by_language.items()}}


def build_lexical(folder: Path, pool_terms: Sequence[str], rows: np.ndarray,
                  languages: Sequence[str]) -> dict[str, Any]:
    started = time.perf_counter()
    db = sqlite3.connect(folder / "lexical.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    for lang in sorted(set(languages)):
        # Terms are analysed already (stems, folded): FTS5 only splits on spaces.
        db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS terms_{lang} USING fts5("
                   "terms, tokenize=\"unicode61 remove_diacritics 0 tokenchars '-'\")")
    for start in range(0, len(rows), 50_000):
        with db:
            for lang in sorted(set(languages)):
                db.executemany(
                    f"INSERT INTO terms_{lang}(rowid, terms) VALUES (?, ?)",
                    ((i, pool_terms[rows[i]]) for i in range(start, min(start + 50_000, len(rows)))
                     if languages[i] == lang),
                )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"build_seconds": time.perf_counter() - started}


def measure_dense(folder: Path, vectors: np.ndarray, pool_rows: np.ndarray,
                  languages: Sequence[str], queries: np.ndarray, ef: int) -> dict[str, Any]:
    """Latency and recall of the per-language HNSW indexes at search breadth `ef`.

    Recall counts a returned chunk as right when exact search ranks it among the
    best k, ties included. At 1M each pool chunk has hundreds of near-copies whose
    order is noise, so source recall also counts the pool chunks (the content) that
    exact search's best k are copies of and the returned k include."""
    import chromadb

    client = chromadb.PersistentClient(path=str(folder / "chroma"))
    langs = sorted(set(languages))
    lang_arr = np.asarray(languages)
    exact_rows = {lang: np.flatnonzero(lang_arr == lang) for lang in langs}
    out: dict[str, Any] = {"ef_search": ef}
    collections = {lang: client.get_collection(f"chunks_{lang}") for lang in langs}
    # Set before the first query: the index is loaded with it (a loaded index keeps
    # the breadth it was loaded with).
    for lang in langs:
        collections[lang].modify(configuration={"hnsw": {"ef_search": ef}})
    opened = time.perf_counter()
    for lang in langs:
        collections[lang].query(query_embeddings=queries[:1], n_results=1, include=[])
    out["first_query_seconds"] = time.perf_counter() - opened
    out["rss_mb_with_vectors_for_exact_search"] = _rss_now_mb()
    for fetch in OVERFETCH:
        times: list[float] = []
        recall: list[float] = []
        source_recall: list[float] = []
        best_found: list[float] = []
        gaps: list[float] = []
        for q in queries:
            for lang in langs:
                t = time.perf_counter()
                got = collections[lang].query(query_embeddings=[q], n_results=fetch,
                                              include=["distances"])
                times.append((time.perf_counter() - t) * 1000)
                ids = np.asarray([int(x[1:]) for x in got["ids"][0]])
                rows = exact_rows[lang]
                sims = vectors[rows] @ q
                kth = np.partition(-sims, fetch - 1)[fetch - 1] * -1
                returned = vectors[ids] @ q if len(ids) else np.zeros(0)
                recall.append(float(np.sum(returned >= kth - 1e-6)) / fetch)
                # Whether a miss matters: the best chunk found at all, and how much
                # less similar the returned k-th is than the exact k-th (a near-copy
                # that ties misses little; a different passage misses much).
                best_found.append(float(len(returned) > 0 and returned.max() >= sims.max() - 1e-6))
                gaps.append(float(kth - (np.sort(returned)[::-1][fetch - 1]
                                         if len(returned) >= fetch else 0.0)))
                # The same content: the pool chunks the exact best k are variants of.
                exact_sources = set(pool_rows[rows[np.argsort(-sims)[:fetch]]].tolist())
                found_sources = set(pool_rows[ids].tolist()) if len(ids) else set()
                source_recall.append(len(exact_sources & found_sources) / len(exact_sources))
        out[f"k{fetch}"] = {
            "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95),
            "recall": statistics.fmean(recall),
            "source_recall": statistics.fmean(source_recall), "queries": len(times),
            "best_found": statistics.fmean(best_found),
            "kth_similarity_gap": {"mean": statistics.fmean(gaps),
                                   "p95": percentile(gaps, 95)},
        }
        print(f"    dense ef={ef} k={fetch}: {out[f'k{fetch}']}", file=sys.stderr)
    return out


def measure_lexical(folder: Path, questions: Sequence[str], languages: Sequence[str],
                    ) -> dict[str, Any]:
    """FTS5 `bm25()` top 30 per language: with all of the question's terms, and without
    those that more than `COMMON_SHARE` of the language's chunks hold (the subject of
    the library, which matches most rows and must score them all)."""
    from assistant.language import detect_language
    from assistant.lexical import analyse

    db = sqlite3.connect(folder / "lexical.sqlite")
    langs = sorted(set(languages))
    rows = {lang: languages.count(lang) for lang in langs}
    for lang in langs:
        db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS vocab_{lang} "
                   f"USING fts5vocab(terms_{lang}, 'row')")
    out: dict[str, Any] = {}
    for variant in ("all terms", "rare terms"):
        times: list[float] = []
        matched: list[int] = []
        for question in questions:
            for lang in langs:
                # The question's terms in each language it is searched in; a real query
                # also adds their counterparts in the other languages (`assistant.bridge`).
                terms = sorted(set(analyse(question, detect_language(question))))
                t = time.perf_counter()
                if variant == "rare terms" and terms:
                    marks = ",".join("?" * len(terms))
                    df = dict(db.execute(
                        f"SELECT term, doc FROM vocab_{lang} WHERE term IN ({marks})", terms,
                    ).fetchall())
                    terms = [x for x in terms if df.get(x, 0) <= COMMON_SHARE * rows[lang]]
                if not terms:
                    continue
                match = " OR ".join(f'"{x}"' for x in terms)
                got = db.execute(
                    f"SELECT rowid, bm25(terms_{lang}) FROM terms_{lang} WHERE terms_{lang} "
                    f"MATCH ? ORDER BY bm25(terms_{lang}) LIMIT {LEXICAL_TOP}", (match,),
                ).fetchall()
                times.append((time.perf_counter() - t) * 1000)
                matched.append(len(got))
        out[variant] = {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95),
                        "queries": len(times),
                        "mean_hits": statistics.fmean(matched) if matched else 0}
        print(f"    lexical, {variant}: {out[variant]}", file=sys.stderr)
    return out


def _rss_now_mb() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process().memory_info().rss / 1024**2


def run_size(size: int, pool: Sequence[Any], pool_vectors: np.ndarray, sigma: float,
             queries: np.ndarray, questions: Sequence[str], ef: int, graph: dict[str, int],
             ) -> dict[str, Any]:
    from assistant.lexical import analyse

    # Chroma's defaults (16 neighbours, breadth 100 while building) keep the old name.
    suffix = "".join(f"-{k}{v}" for k, v in sorted(graph.items()))
    folder = CACHE_DIR / f"store-indexes-{size}{suffix}"
    params = {"size": size, "version": BUILD_VERSION, "pool": len(pool), "sigma": sigma,
              **graph}
    marker = folder / "built.json"
    vectors, rows = synthesize(pool_vectors, size, sigma)
    languages = [pool[r].language for r in rows]
    result: dict[str, Any] = {"chunks": size, "load_before": load_average()}
    if not (marker.is_file() and json.loads(marker.read_text())["params"] == params):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        print(f"  building {size} chunks ({load_note()})", file=sys.stderr)
        pool_terms = [" ".join(analyse(c.text, c.language)) for c in pool]
        built = {"dense": build_dense(folder, vectors, languages, graph),
                 "lexical": build_lexical(folder, pool_terms, rows, languages)}
        marker.write_text(json.dumps({"params": params, "built": built}))
    result["built"] = json.loads(marker.read_text())["built"]
    result["disk_mb"] = {"chroma": _folder_mb(folder / "chroma"),
                         "lexical": (folder / "lexical.sqlite").stat().st_size / 1024**2}
    result["dense"] = measure_dense(folder, vectors, rows, languages, queries, ef)
    result["lexical"] = measure_lexical(folder, questions, languages)
    result["load_after"] = load_average()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    # One breadth per run: an index loaded in a process keeps the breadth it was loaded
    # with, so another is measured in another run (results are kept per size and ef).
    parser.add_argument("--ef", type=int, default=100)
    parser.add_argument("--max-neighbors", type=int, default=None,
                        help="HNSW graph degree (Chroma's default: 16)")
    parser.add_argument("--ef-construction", type=int, default=None,
                        help="HNSW breadth while building (Chroma's default: 100)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from assistant.embeddings import make_embedder
    from assistant.settings import Settings

    pool, pool_vectors, meta = load_pool(2000, rebuild=False)
    sigma = noise_sigma(meta["calibration"]["mean_cosine"], pool_vectors.shape[1])
    questions = load_questions()
    embedder = make_embedder(Settings.load())
    queries = np.asarray([embedder.embed_query(q) for q in questions], dtype=np.float32)
    out_path = args.json or RESULTS_DIR / "store_indexes.json"
    results: dict[str, Any] = (json.loads(out_path.read_text(encoding="utf-8"))
                               if out_path.is_file() else {"runs": {}})
    results.update({"machine": machine(), "pool": len(pool), "noise_sigma": sigma,
                    "questions": len(questions), "threads": os.cpu_count()})
    graph = {k: v for k, v in (("max_neighbors", args.max_neighbors),
                               ("ef_construction", args.ef_construction)) if v is not None}
    label = "".join(f"/{k}{v}" for k, v in sorted(graph.items()))
    for size in args.sizes:
        results["runs"][f"{size}{label}/ef{args.ef}"] = run_size(
            size, pool, pool_vectors, sigma, queries, questions, args.ef, graph)
        results["peak_rss_mb"] = _rss_peak_mb()
        write_results("store_indexes", results, args.json)
    print(json.dumps(results["runs"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
