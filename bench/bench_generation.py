"""Answers by the local model (translated or written): time to first token and to the full answer.

    .venv/bin/python bench/bench_generation.py [--model bundled|PATH.gguf] [--threads N]
                                               [--style translate|write] [--questions N]
                                               [--data-dir DIR] [--json OUT]

On an index of the three sample reports (built in a temporary folder unless `--data-dir`
names one that holds them), the assistant answers sample questions in Dutch, Spanish and
English with generator "auto" and the given model, through `Assistant.stream`, as the
web chat does. Per question: seconds to the first streamed piece and to the checked
answer (retrieval, prompt and citation check included), the prompt's size in tokens, and
whether the text is in the question's language (the language detector on the text).
In the "translate" style (the bundled model's default) the first piece is the answer's
header, shown at once; the first token is then the model's first piece after it.
Medians and 95th percentiles go to stdout and bench/results/generation.json.

The first question also pays for loading the model; it is timed apart ("load").
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import load_note, percentile, table, write_results

from assistant import Assistant, Settings
from assistant.answer import CitedAnswer
from assistant.evaluation import _text_language  # noqa: PLC2701 - the eval's own check
from tests.conftest import CORPUS_PDFS, make_indexer

QUESTIONS = [
    ("Welke landen vormen de kopgroep in de ILIA 2025?", "nl"),
    ("Welke score had Chili in 2025 en hoe verhoudt zich dat tot 2024?", "nl"),
    ("Wat zegt het rapport over AI in het onderwijs?", "nl"),
    ("¿Qué recomienda el informe a los gobiernos?", "es"),
    ("¿Cuánto talento en IA emigra de la región?", "es"),
    ("¿Qué puntuación obtuvo México en el ILIA 2024?", "es"),
    ("How is the index score computed?", "en"),
    ("Which countries made the fastest progress on enabling factors?", "en"),
    ("What does the report recommend?", "en"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--threads", type=int, default=0, help="0: half the logical cores")
    parser.add_argument("--style", choices=["translate", "write"], default="translate")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--answer-seconds", type=float, default=None,
                        help="translate style: stop the model this many seconds after the "
                        "question (default: the setting's, 0: no limit)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-generation-") as temp:
        data_dir = args.data_dir or Path(temp)
        settings = Settings.load({"data_dir": data_dir}, environ={}).replace(
            generator="auto", llm_model_path=args.model, llm_threads=args.threads,
            llm_temperature=0.0, llm_style=args.style,
            **({} if args.answer_seconds is None else {"llm_answer_seconds": args.answer_seconds}),
        )
        if args.data_dir is None:
            print("indexing the sample corpus ...", file=sys.stderr)
            make_indexer(settings).ingest(CORPUS_PDFS)
        assistant = Assistant(settings)
        assistant.warm_up()
        started = time.perf_counter()
        status = assistant.local.prepare(build=False)
        load_s = time.perf_counter() - started
        if status.state != "ready":
            print(f"the model is not ready: {status.detail}", file=sys.stderr)
            return 1
        rows = [run(assistant, q, lang, args.style) for q, lang in QUESTIONS[: args.questions]]

    first = [r["first_s"] for r in rows if r["first_s"] is not None]
    token = [r["first_token_s"] for r in rows if r["first_token_s"] is not None]
    total = [r["total_s"] for r in rows]
    summary = {
        "model": status.detail,
        "style": args.style,
        "threads": args.threads or "default",
        "load_s": round(load_s, 2),
        "first_piece_p50_s": round(percentile(first, 50), 2) if first else None,
        "first_token_p50_s": round(percentile(token, 50), 2) if token else None,
        "first_token_p95_s": round(percentile(token, 95), 2) if token else None,
        "answer_p50_s": round(percentile(total, 50), 2),
        "answer_p95_s": round(percentile(total, 95), 2),
        "written_by_model": sum(r["generator"] != "extractive" for r in rows),
        "in_question_language": sum(r["language_ok"] for r in rows),
        "questions": len(rows),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "load": load_note(),
    }
    print(table(["question", "lang", "first piece s", "first token s", "answer s", "by",
                 "in its language"],
                [[r["question"], r["language"], r["first_s"], r["first_token_s"], r["total_s"],
                  r["generator"], r["language_ok"]] for r in rows]))
    print()
    print(table(list(summary), [list(summary.values())]))
    write_results("generation", {"summary": summary, "questions": rows}, args.json)
    return 0


def run(assistant: Assistant, question: str, language: str, style: str) -> dict[str, Any]:
    started = time.perf_counter()
    pieces: list[float] = []  # when each non-empty piece came
    answer: CitedAnswer | None = None
    for event in assistant.stream(question):
        if isinstance(event, str):
            if event.strip():
                pieces.append(time.perf_counter() - started)
        else:
            answer = event
    first = pieces[0] if pieces else None
    # Translating, the first piece is the header the answerer sends before the model starts.
    token = pieces[1] if style == "translate" and len(pieces) > 1 else (
        None if style == "translate" else first)
    total = time.perf_counter() - started
    assert answer is not None
    return {
        "question": question,
        "language": language,
        "first_s": round(first, 2) if first is not None else None,
        "first_token_s": round(token, 2) if token is not None else None,
        "total_s": round(total, 2),
        "generator": answer.generator,
        "language_ok": _text_language(answer.answer, language) == language,
        "citations": len(answer.citations),
        "answer": answer.answer,
    }


if __name__ == "__main__":
    sys.exit(main())
