"""Answer quality on corpus/questions.yaml through the real pipeline.

Prints, for the default settings: how often an answer cites an expected
document, how often it cites the expected page, key-fact recall in the
answer text, "not found" accuracy on the unanswerable questions, and how
often the answer is in the question's language. Figures only, no asserts.

    .venv/bin/python bench/eval_answers.py [--data-dir DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Settings  # noqa: E402
from assistant.cli import run_ingest  # noqa: E402
from assistant.terms import fold  # noqa: E402


def normalise(text: str) -> str:
    return re.sub(r"(?<=\d),(?=\d)", ".", fold(text))


def fact_found(answer: str, fact: str | list[str]) -> bool:
    alternatives = fact if isinstance(fact, list) else [fact]
    return any(normalise(a) in normalise(answer) for a in alternatives)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--questions", type=Path, default=ROOT / "corpus" / "questions.yaml")
    parser.add_argument("--verbose", action="store_true", help="list the misses")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load({"data_dir": args.data_dir or Path(tmp)})
        report = run_ingest(settings, sorted((ROOT / "corpus").glob("*.pdf")), False, False)
        if not report.ok:
            print(report.summary(), file=sys.stderr)
            return 1
        assistant = Assistant(settings)
        questions = yaml.safe_load(args.questions.read_text(encoding="utf-8"))["questions"]
        answerable = [q for q in questions if q["answerable"]]
        unanswerable = [q for q in questions if not q["answerable"]]
        cited_doc = cited_page = recall = said_not_found = in_language = 0.0
        for q in questions:
            answer = assistant.ask(q["question"])
            in_language += answer.language == q["language"]
            if not q["answerable"]:
                said_not_found += not answer.found
                if answer.found and args.verbose:
                    print(f"answered, should not: {q['id']} {q['question']}")
                continue
            docs = {s["document"] for s in q["sources"]}
            pages = {(s["document"], s["page"]) for s in q["sources"]}
            cited_doc += any(c.file in docs for c in answer.citations)
            cited_page += any((c.file, c.page) in pages for c in answer.citations)
            found = [fact_found(answer.answer, f) for f in q["key_facts"]]
            recall += sum(found) / len(found)
            if args.verbose and not all(found):
                print(f"missing facts: {q['id']} {q['question']}")
    n = len(answerable)
    print("| Measure | Value |\n|---|---|")
    print(f"| Questions | {len(questions)} ({n} answerable, {len(unanswerable)} not) |")
    print(f"| Cites an expected document | {cited_doc / n:.2f} |")
    print(f"| Cites an expected page | {cited_page / n:.2f} |")
    print(f"| Key-fact recall in the answer | {recall / n:.2f} |")
    print(f"| Unanswerable: said not found | {said_not_found / len(unanswerable):.2f} |")
    print(f"| Answer in the question's language | {in_language / len(questions):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
