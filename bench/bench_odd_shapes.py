"""Odd shapes of documents: chunks made, ingest time, and the question latency after each.

    .venv/bin/python bench/bench_odd_shapes.py [--shapes a,b] [--real same_word,...]
                                               [--questions 5] [--json OUT]

The shapes are those of tests/ingest/test_odd_shapes.py at full size (one 5 MB line without
punctuation, a long run without spaces, a million short lines, only digits, only
punctuation, a 2,000-row table, headings only, mixed scripts, zero-width characters), plus
`same_word`: the word "a" three million times without a full stop (6 MB).

Per shape, on a copy of an index that holds one corpus report (embedded for real):

* *Ingest*. For the shapes named in `--real` (default: `same_word`), the whole ingest with
  the real embedder. For the others, the pipeline (read, chunk, write) runs with vectors
  that cost nothing, and the embedding time is added at the rate measured on up to 64 of
  the shape's distinct chunk texts with the real embedder (identical texts are embedded
  once, as in the pipeline). Embedding every shape for real takes hours on two cores.
* *Taken in*. In a running assistant, warm as after the app's start: loading the new chunks
  into the live view, the lexical index and the word bridge, which an upload does before it
  reports done, and the app's watcher after an `assistant ingest` in another process.
* *Questions*. The real embedder, the real answerer, the sources panel's highlighting. The
  next question after that, then `--questions` questions from the whole index and as many from the
  shape's document alone (so that its passages are the ones read): median and maximum.
  With vectors that cost nothing, the dense ranking of the shape's chunks is arbitrary;
  what a question costs is not, as it reads a few passages of at most a chunk each.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchlib import RESULTS_DIR, load_average, load_note, table, write_results

from assistant import Assistant, Settings
from assistant.embeddings import make_embedder
from assistant.highlight import supporting_sentences
from assistant.retrieval import RetrievalFilter
from assistant.store import ChunkStore
from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.pipeline import Indexer, embedding_text
from tests.conftest import CORPUS_PDFS
from tests.ingest.test_odd_shapes import (
    NORMAL_QUESTIONS,
    SHAPES,
    FreeVectors,
    Shape,
    same_word,
    write_shape,
)

ALL = [*SHAPES, Shape("same_word", ".txt", same_word, 6_000_000, "What is the secret number?")]
RATE_SAMPLE = 64


def embed_rate(embedder: Any, texts: Sequence[str]) -> float:
    """Chunks per second of the real embedder over up to RATE_SAMPLE distinct texts."""
    sample = list(dict.fromkeys(texts))
    step = max(1, len(sample) // RATE_SAMPLE)
    sample = sample[::step][:RATE_SAMPLE]
    started = time.perf_counter()
    for first in range(0, len(sample), 16):
        embedder.embed_documents(sample[first : first + 16])
    return len(sample) / (time.perf_counter() - started)


def ask(assistant: Assistant, question: str, document: str | None = None) -> float:
    started = time.perf_counter()
    answer = assistant.ask(question, filters=RetrievalFilter(document=document))
    supporting_sentences(answer.answer, answer.citations, answer.language)
    return time.perf_counter() - started


def run_shape(shape: Shape, base: Path, work: Path, real: bool, n_questions: int,
              embedder: Any) -> dict[str, Any]:
    data = work / shape.name
    shutil.copytree(base, data)
    path = write_shape(work, shape)
    settings = Settings.load({"data_dir": data}, environ={})
    pages = load_document(path).pages
    texts = [embedding_text(c) for c in chunk_document(
        pages, settings.chunk_size, settings.chunk_overlap_sentences)]
    unique = len(set(texts))
    vectors = embedder if real else FreeVectors(embedder.identity, len(embedder.embed_query("x")))
    # The running app: warm, as after its start.
    assistant = Assistant(settings, embedder=embedder)
    assistant.warm_up()
    indexer = Indexer(settings, assistant.store, vectors)
    load_before = load_average()[0]
    started = time.perf_counter()
    report = indexer.ingest([path])
    pipeline_seconds = time.perf_counter() - started
    # What an upload does before it reports done (or the app's watcher, after an
    # `assistant ingest` in another process): the new chunks into the search structures.
    started = time.perf_counter()
    assistant.warm_up()
    take_in_seconds = time.perf_counter() - started
    outcome = report.outcomes[0]
    row: dict[str, Any] = {
        "shape": shape.name, "bytes": path.stat().st_size, "status": outcome.status,
        "reason": outcome.reason, "chunks": outcome.chunks, "distinct_chunk_texts": unique,
        "embedded_for_real": real, "take_in_seconds": take_in_seconds,
    }
    if real:
        row["ingest_seconds"] = pipeline_seconds
    else:
        rate = embed_rate(embedder, texts)
        row.update(pipeline_seconds=pipeline_seconds, embed_rate_chunks_per_s=rate,
                   ingest_seconds=pipeline_seconds + unique / rate)
    row["first_question_s"] = ask(assistant, shape.question)
    questions = ([shape.question, "What is the secret number?", *NORMAL_QUESTIONS] * 3)
    questions = questions[:n_questions]
    whole = [ask(assistant, q) for q in questions]
    alone = [ask(assistant, q, outcome.doc_id) for q in questions]
    row.update(
        question_median_s=statistics.median(whole), question_max_s=max(whole),
        from_document_median_s=statistics.median(alone), from_document_max_s=max(alone),
        load=(load_before, load_average()[0]),
    )
    path.unlink()
    shutil.rmtree(data)
    return row


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", default=",".join(s.name for s in ALL))
    parser.add_argument("--real", default="same_word",
                        help="shapes ingested with the real embedder (comma-separated)")
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "odd_shapes.json")
    args = parser.parse_args(argv)
    chosen = [s for s in ALL if s.name in args.shapes.split(",")]
    real = set(args.real.split(","))
    print(load_note(), file=sys.stderr)

    settings = Settings.load({}, environ={})
    embedder = make_embedder(settings)
    with tempfile.TemporaryDirectory(prefix="odd-shapes-") as tmp:
        work = Path(tmp)
        base = work / "base"
        base_settings = Settings.load({"data_dir": base}, environ={})
        Indexer(base_settings, ChunkStore.open(base_settings, embedder.identity),
                embedder).ingest([CORPUS_PDFS[0]])
        warm = Assistant(base_settings, embedder=embedder)
        normal = [ask(warm, q) for q in [NORMAL_QUESTIONS[0], *NORMAL_QUESTIONS]][1:]
        print(f"normal questions on the corpus report: median {statistics.median(normal):.2f} s",
              file=sys.stderr)
        rows = []
        for shape in chosen:
            row = run_shape(shape, base, work, shape.name in real, args.questions, embedder)
            print(row, file=sys.stderr)
            rows.append(row)

    headers = ["Shape", "Size", "Chunks (distinct)", "Ingest", "Taken in", "Next question",
               "Questions p50 / max", "From the document p50 / max", "Load"]
    lines = [
        [
            r["shape"], f"{r['bytes'] / 1e6:.1f} MB",
            f"{r['chunks']:,} ({r['distinct_chunk_texts']:,})" if r["status"] == "indexed"
            else r["status"],
            f"{r['ingest_seconds']:.0f} s" + ("" if r["embedded_for_real"] else " (est.)"),
            f"{r['take_in_seconds']:.1f} s",
            f"{r['first_question_s']:.2f} s",
            f"{r['question_median_s']:.2f} / {r['question_max_s']:.2f} s",
            f"{r['from_document_median_s']:.2f} / {r['from_document_max_s']:.2f} s",
            f"{r['load'][0]:.1f}",
        ]
        for r in rows
    ]
    print(table(headers, lines))
    write_results("odd_shapes", {
        "normal_question_median_s": statistics.median(normal), "normal_questions_s": normal,
        "shapes": rows,
    }, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
