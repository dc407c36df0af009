"""Which sentences name a broad question's topic (assistant/topics.py)."""

from __future__ import annotations

from assistant.topics import _holds


def test_a_compound_that_starts_with_the_topic_word_names_it() -> None:
    terms = {"onderwijs"}
    assert _holds(terms, "AI werd opgenomen in het onderwijscurriculum.", "nl", "nl", {}) == 1.0
    # A shared beginning alone is not the word: "onderste" is not "onderwijs".
    assert _holds(terms, "Acht landen vallen in de onderste groep.", "nl", "nl", {}) == 0.0


def test_a_sentence_in_another_language_names_the_topic_by_its_counterpart() -> None:
    links = {"onderwijs": {"es": "educ"}}
    sentence = "La IA afecta a la educación y la salud."
    assert _holds({"onderwijs"}, sentence, "es", "nl", links) == 1.0
    assert _holds({"onderwijs"}, sentence, "es", "nl", {}) == 0.0


def test_the_share_counts_each_topic_word_once() -> None:
    terms = {"invest", "talent"}
    assert _holds(terms, "Investment in talent and investment in data.", "en", "en", {}) == 1.0
    assert _holds(terms, "Investment lags behind.", "en", "en", {}) == 0.5
