"""Broad questions: recognised by the languages' own question words, and their topic."""

from __future__ import annotations

import pytest

from assistant.sections import _kind_match, is_broad, topic


@pytest.mark.parametrize(
    "question",
    [
        "Welke aanbevelingen doet het rapport?",
        "Wat zijn de kernpunten van het rapport?",
        "Waar gaat hoofdstuk 5 over?",
        "Vertel me over de verkenners",
        "Wat stelt het rapport voor over talent?",
        "¿Qué recomienda el informe a los gobiernos?",
        "¿Qué propone el informe?",
        "¿Qué plantea el informe sobre el talento?",
        "¿Cuáles son las ideas principales?",
        "What does the report recommend?",
        "What are the key takeaways?",
        "What does the report suggest about investment?",
        "Give an overview of the method",
        "How is the index score computed?",
    ],
)
def test_broad_questions_are_recognised_in_three_languages(question: str) -> None:
    assert is_broad(question)


@pytest.mark.parametrize(
    "question",
    [
        "Which country tops the index?",
        "¿Cuánto talento en IA emigra de la región?",
        "Welke score had Chili in 2025?",
        "When was the index presented?",
    ],
)
def test_questions_for_one_fact_are_not_broad(question: str) -> None:
    assert not is_broad(question)


def test_the_topic_is_what_is_left_without_the_question_words() -> None:
    assert topic("Waar gaat hoofdstuk 5 over?").split() == ["hoofdstuk", "5", "over?"]
    assert "investment" in topic("What does the report suggest about investment?")
    assert "propone" not in topic("¿Qué propone el informe sobre el talento?")


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("¿Qué propone el informe?", "8. Recomendaciones"),
        ("What does the report suggest?", "8. Recommendations"),
        ("What are the key takeaways?", "3. Main findings"),
        ("Wat zijn de kernpunten?", "3. Belangrijkste bevindingen"),
        ("Geef een overzicht van het rapport", "1. Samenvatting"),
    ],
)
def test_a_broad_question_asks_for_a_kind_of_section(question: str, title: str) -> None:
    assert _kind_match(question, title)
