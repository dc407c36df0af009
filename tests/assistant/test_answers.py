"""End to end on the real corpus PDFs, a real Chroma store and the bundled model."""

from __future__ import annotations

import pytest

from assistant import Assistant, InvalidQuestionError
from assistant.messages import text

pytestmark = pytest.mark.slow


def cited_files(answer) -> set[str]:  # noqa: ANN001 - CitedAnswer
    return {c.file for c in answer.citations}


def test_dutch_question_answered_only_by_spanish_report_cites_it(
    corpus_assistant: Assistant,
) -> None:
    # Panama and Venezuela preparing a strategy is only in the Spanish report.
    answer = corpus_assistant.ask(
        "Welke landen bereidden in 2025 nog een nationale AI-strategie voor?"
    )
    assert answer.found
    assert answer.language == "nl"
    assert answer.answer.startswith(text("nl", "according_to"))
    assert "ilia-2025-es.pdf" in cited_files(answer)
    assert "(geciteerd in het Spaans)" in answer.answer
    # The Spanish passage that names the two countries is among those retrieved.
    _, hits = corpus_assistant.retrieve(
        "Welke landen bereidden in 2025 nog een nationale AI-strategie voor?"
    )
    assert any(
        "Venezuela" in h.text and h.metadata["file_name"] == "ilia-2025-es.pdf" for h in hits
    )
    # ...and its sentence is quoted, not only the reports' introductions.
    assert "Venezuela" in answer.answer


def test_dutch_question_gets_the_spanish_only_figure(corpus_assistant: Assistant) -> None:
    # The 2024 scores are only in the Spanish report's second table.
    answer = corpus_assistant.ask("Welke score had Chili in ILIA 2024?")
    assert answer.language == "nl"
    assert "ilia-2025-es.pdf" in cited_files(answer)
    assert "73,07" in answer.answer


def test_english_question_answered_only_by_dutch_report_cites_it(
    corpus_assistant: Assistant,
) -> None:
    answer = corpus_assistant.ask("Which countries made the fastest progress on enabling factors?")
    assert answer.found
    assert answer.language == "en"
    assert "ilia-2025-nl.pdf" in cited_files(answer)
    for country in ("Ecuador", "Guatemala"):
        assert country in answer.answer


def test_spanish_question_answered_only_by_english_report(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("¿Cuántos países abarcaba la edición de 2023 del índice?")
    assert answer.language == "es"
    assert "ilia-2025-en.pdf" in cited_files(answer)
    assert "12" in answer.answer


def test_every_marker_points_at_a_citation_with_its_passage(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("What was Chile's score in ILIA 2024?")
    assert answer.citations
    numbers = {c.n for c in answer.citations}
    assert numbers == set(range(1, len(numbers) + 1))
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer
        assert c.document and c.file and c.page >= 1 and c.section and c.text
    assert "73,07" in answer.answer


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Wat zegt het rapport over de ontwikkeling van kwantumcomputers in Afrika?", "nl"),
        ("¿Qué puntuación obtuvo España en el ILIA 2025?", "es"),
        ("What score did Nicaragua get in ILIA 2025?", "en"),
    ],
)
def test_unanswerable_question_is_not_found_in_its_language(
    corpus_assistant: Assistant, question: str, language: str
) -> None:
    answer = corpus_assistant.ask(question)
    assert not answer.found
    assert answer.citations == []
    assert answer.language == language
    assert answer.answer == text(language, "not_found")


def test_explicit_language_sets_the_framing(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("Welke landen vormen de kopgroep?", language="es")
    assert answer.language == "es"
    assert answer.answer.startswith(text("es", "according_to"))


@pytest.mark.parametrize("question", ["", "   ", "\x00\x07"])
def test_empty_question_is_refused_clearly(corpus_assistant: Assistant, question: str) -> None:
    with pytest.raises(InvalidQuestionError, match="question"):
        corpus_assistant.ask(question)


def test_overlong_question_is_refused_clearly(corpus_assistant: Assistant) -> None:
    with pytest.raises(InvalidQuestionError, match="too long"):
        corpus_assistant.ask("ILIA " * 3000)
