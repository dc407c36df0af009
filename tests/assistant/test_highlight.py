"""The supporting sentence of each citation, for quoted and for written answers."""

from __future__ import annotations

from assistant.answer import Citation
from assistant.highlight import claims, mark_spans, supporting_sentences

PASSAGE_NL = (
    "Chili, Brazilië en Uruguay vormen de kopgroep van de index. "
    "Zij halen meer dan 60 punten. "
    "Panama en Venezuela werkten nog aan een nationale strategie."
)


def _citation(n: int, text: str, language: str = "nl") -> Citation:
    return Citation(n, "ILIA 2025", "ilia.pdf", 3, "3. Bevindingen", text, "d1", language)


def test_a_quoted_answer_highlights_the_quoted_sentence() -> None:
    answer = (
        "According to the indexed documents:\n"
        "- Zij halen meer dan 60 punten. [1] (quoted in Dutch)"
    )
    got = supporting_sentences(answer, [_citation(1, PASSAGE_NL)], "en")
    assert got == {1: ["Zij halen meer dan 60 punten."]}


def test_a_written_answer_in_another_language_highlights_by_shared_terms() -> None:
    answer = "Panamá y Venezuela aún preparaban una estrategia nacional [1]."
    got = supporting_sentences(answer, [_citation(1, PASSAGE_NL)], "es")
    assert got[1] == ["Panama en Venezuela werkten nog aan een nationale strategie."]


def test_a_claim_without_shared_terms_highlights_nothing() -> None:
    answer = "The weather was pleasant in the spring [1]."
    assert supporting_sentences(answer, [_citation(1, PASSAGE_NL)], "en") == {1: []}


def test_each_sentence_of_prose_keeps_its_own_markers() -> None:
    assert claims("Chile leads [1]. Brazil follows [2].") == [
        ("Chile leads.", [1]),
        ("Brazil follows.", [2]),
    ]


def test_mark_spans_are_sorted_and_merged() -> None:
    text = "One two. Three four. Five six."
    assert mark_spans(text, ["Five six.", "One two.", "two. Three"]) == [(0, 14), (21, 30)]
    assert mark_spans(text, ["absent"]) == []
