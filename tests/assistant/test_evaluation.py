"""The evaluation on the sample corpus, with the quality bars CI holds it to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.evaluation import BARS, evaluate, load_questions, write_reports
from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow


def test_question_set_covers_every_language_pair() -> None:
    questions = load_questions(CORPUS / "questions.yaml")
    assert len(questions) >= 60
    for lang in ("nl", "es", "en"):
        assert sum(q.language == lang for q in questions) >= 20
    assert sum(not q.answerable for q in questions) >= 10
    pairs = {
        (q.language, s.document.rsplit("-", 1)[-1][:2])
        for q in questions if q.answerable for s in q.sources
    }
    assert len(pairs) == 9
    for q in questions:
        assert q.answerable == bool(q.sources) == bool(q.key_facts), q.id


def test_sample_corpus_meets_the_quality_bars(corpus_assistant: Assistant) -> None:
    report = evaluate(corpus_assistant, load_questions(CORPUS / "questions.yaml"))
    md, js = write_reports(report, ROOT / "test-artifacts" / "evaluation")
    assert json.loads(js.read_text())["hit_at_5"] == report.hit_at_5
    assert "hit@5" in md.read_text()
    print("\n" + report.to_markdown())
    assert report.failed_bars() == [], report.to_markdown()
    assert report.hit_at_5 >= BARS["hit_at_5"]


def test_eval_command_writes_reports(tmp_path: Path, corpus_settings) -> None:  # noqa: ANN001
    from assistant.cli import main

    small = tmp_path / "q.yaml"
    small.write_text(
        "version: 1\nquestions:\n"
        "  - id: t-1\n    language: en\n    kind: keyword\n"
        "    question: \"Brazil ILIA 2024 score\"\n    answerable: true\n"
        "    sources:\n      - {document: ilia-2025-es.pdf, page: 4, section: \"4.1 Pioneros\"}\n"
        "    key_facts: [\"69,30\"]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(["eval", str(small), "--json", "--out", str(out),
                 "--data-dir", str(corpus_settings.data_dir)])
    assert code == 0
    data = json.loads((out / "evaluation.json").read_text())
    assert data["questions"] == 1 and data["hit_at_5"] == 1.0
    assert (out / "evaluation.md").exists()
