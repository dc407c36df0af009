"""The evaluation on the sample corpus, with the quality bars CI holds it to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation import (
    FLOORS,
    Question,
    answer_sentences,
    evaluate_all,
    facts_found,
    load_questions,
    write_reports,
)
from tests.conftest import CORPUS, HEAT_CORPUS, ROOT

pytestmark = pytest.mark.slow


QUESTION_SETS = {
    "ilia-2025": CORPUS / "questions.yaml",
    "heat-health-2024": HEAT_CORPUS / "questions.yaml",
}


@pytest.mark.parametrize("name", sorted(QUESTION_SETS))
def test_question_set_covers_every_language_pair(name: str) -> None:
    questions = load_questions(QUESTION_SETS[name])
    assert len(questions) >= 60
    for lang in ("nl", "es", "en"):
        assert sum(q.language == lang for q in questions) >= 20
    assert sum(not q.answerable for q in questions) >= 10
    assert sum(q.kind == "broad" for q in questions) >= 15
    pairs = {
        (q.language, s.document.rsplit("-", 1)[-1][:2])
        for q in questions if q.answerable for s in q.sources
    }
    assert len(pairs) == 9
    for q in questions:
        assert q.answerable == bool(q.sources) == bool(q.key_facts), q.id
        assert q.split in {"dev", "test"}, q.id
    # Half the questions are held out: the thresholds are fitted on the others.
    test = sum(q.split == "test" for q in questions)
    assert abs(2 * test - len(questions)) <= len(questions) // 10


@pytest.mark.parametrize("name", sorted(QUESTION_SETS))
def test_sample_corpus_meets_the_quality_bars_on_its_test_split(
    name: str, request: pytest.FixtureRequest
) -> None:
    assistant = request.getfixturevalue(
        "corpus_assistant" if name == "ilia-2025" else "heat_assistant"
    )
    questions = load_questions(QUESTION_SETS[name])
    dev, test = evaluate_all(assistant, questions, ["dev", "test"])
    for report in (dev, test):
        md, js = write_reports(report, ROOT / "test-artifacts" / "evaluation" / name / report.split)
        assert json.loads(js.read_text())["hit_at_5"] == report.hit_at_5
        assert "hit@5" in md.read_text()
        print(f"\n{name}, {report.split}:\n" + report.to_markdown())
    # The bars (BARS) are the aim and `assistant eval --check` holds a run to them;
    # CI holds each corpus's held-out questions to the level reached so far.
    print(f"{name}, test: bars missed: {test.failed_bars() or 'none'}")
    assert test.failed_bars(FLOORS) == [], test.to_markdown()
    assert test.hit_at_5 >= FLOORS["hit_at_5"]


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


def test_eval_takes_a_folder_of_documents_with_its_questions(tmp_path: Path) -> None:
    """Any folder: its documents are indexed into a fresh index, its questions asked."""
    from assistant.cli import main

    (tmp_path / "visserij-nl.md").write_text(
        "# Visserij in de Noordzee\n\n## 1. Vangsten\n\n"
        "In 2023 landden Nederlandse kotters 41.000 ton schol aan. "
        "De vangst van tong daalde tot 3.100 ton.\n", encoding="utf-8")
    (tmp_path / "pesca-es.md").write_text(
        "# La pesca en el Cantábrico\n\n## 1. Capturas\n\n"
        "La flota de bajura desembarcó 12.500 toneladas de bonito del norte en 2023.\n",
        encoding="utf-8")
    (tmp_path / "questions.yaml").write_text(
        "version: 1\nquestions:\n"
        "  - {id: q1, language: en, split: dev, kind: number, answerable: true,\n"
        "     question: \"How much plaice did Dutch cutters land in 2023?\",\n"
        "     sources: [{document: visserij-nl.md, page: 1, section: \"1. Vangsten\"}],\n"
        "     key_facts: [\"41.000\"]}\n"
        "  - {id: q2, language: nl, split: test, kind: number, answerable: true,\n"
        "     question: \"Hoeveel ton bonito werd er in 2023 aangeland?\",\n"
        "     sources: [{document: pesca-es.md, page: 1, section: \"1. Capturas\"}],\n"
        "     key_facts: [\"12.500\"]}\n",
        encoding="utf-8")
    out = tmp_path / "out"
    assert main(["eval", str(tmp_path), "--json", "--out", str(out)]) == 0
    dev = json.loads((out / "dev" / "evaluation.json").read_text())
    test = json.loads((out / "test" / "evaluation.json").read_text())
    assert dev["questions"] == 1 and test["questions"] == 1
    assert dev["hit_at_5"] == 1.0 and test["hit_at_5"] == 1.0


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        ("Unos 227.000 millones de dólares, un 23 % más.", 2),  # as the key facts spell them
        ("Tot ongeveer 227 miljard dollar, een stijging van 23%.", 2),
        ("To about 227 billion dollars, up 23 per cent.", 2),
        ("De verliezen stegen tot 227.000 miljoen dollar.", 1),
        ("227.000 dollar, 23 landen", 0),  # another value; 23 is not 23 %
        ("In 2023 the losses rose to 2.27 billion.", 0),
    ],
)
def test_a_figure_counts_in_any_language_s_spelling_of_its_value(answer: str, found: int) -> None:
    q = Question("x", "nl", "?", True, [], [["227.000 millones"], ["23 %"]])
    assert facts_found(answer, q) == found


def test_words_and_plain_numbers_still_match_as_written() -> None:
    q = Question("x", "en", "?", True, [], [["six times", "zes keer"], ["102"], ["73,07"]])
    assert facts_found("zes keer zoveel, 102 subindicatoren, score 73.07", q) == 3
    assert facts_found("sixty times, 101, score 73.7", q) == 0


def test_the_sentences_of_an_answer_are_its_lines_or_its_sentences() -> None:
    quoted = ("Volgens de documenten:\n- Chile encabeza el índice con 73,07 puntos. [1] (ook "
              "Engels [2])\n- Chili | 73,07 [1]\n(Geciteerd in het Spaans.)")
    assert answer_sentences(quoted) == ["Chile encabeza el índice con 73,07 puntos."]
    written = "Chili staat bovenaan [1]. Brazilië en Uruguay volgen [2]! Ja."
    assert answer_sentences(written) == ["Chili staat bovenaan.", "Brazilië en Uruguay volgen!"]
