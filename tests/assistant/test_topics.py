"""Which sentences name a broad question's topic (assistant/topics.py)."""

from __future__ import annotations

from assistant.topics import CONTINUATION, _holds, _named_sentences


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


def test_the_sentence_after_one_that_names_the_topic_counts_as_going_on_about_it() -> None:
    passage = (
        "Deaths from air pollution fell by 6.9% between 2016 and 2021. "
        "The report attributes 59% of that decline to less coal burning. "
        "Clean electricity grew in the same period. "
        "Deaths from air pollution are counted by the report every year."
    )
    found = _named_sentences(passage, {"pollut"}, "en", "en", {})
    # Named, going on about it, unrelated, named again.
    assert [share for _, _, share, _ in found] == [1.0, CONTINUATION, 0.0, 1.0]
    assert [follows for *_, follows in found] == ["", found[0][1], "", ""]


def test_a_byline_that_names_the_topic_is_not_a_sentence_about_it() -> None:
    passage = (
        "Vaccines Desk & Health Desk (Example Press), 2017-02-09 Vaccines Report. "
        "Vaccines have cut measles deaths by four fifths since 2000."
    )
    found = _named_sentences(passage, {"vaccin"}, "en", "en", {})
    assert [sentence for _, sentence, share, _ in found if share] == [
        "Vaccines have cut measles deaths by four fifths since 2000."
    ]
