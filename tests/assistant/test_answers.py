"""End to end on the real corpus PDFs, a real Chroma store and the bundled model."""

from __future__ import annotations

import re

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
    # Said once, after the quotes, not on every quoted line.
    assert answer.answer.count("Geciteerd in het Spaans") == 1
    assert "een lokaal model zou ze vertalen" in answer.answer.splitlines()[-1]
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


@pytest.mark.parametrize(
    ("question", "language", "points"),
    [
        ("Welke aanbevelingen doet het rapport?", "nl", ["8.1", "8.2", "8.3", "8.4"]),
        ("¿Qué recomienda el informe a los gobiernos?", "es", ["8.1", "8.2", "8.3", "8.4"]),
        ("What does the report recommend?", "en", ["8.1", "8.2", "8.3", "8.4"]),
    ],
)
def test_a_broad_question_gets_the_points_of_its_section_in_order(
    corpus_assistant: Assistant, question: str, language: str, points: list[str]
) -> None:
    answer = corpus_assistant.ask(question)
    assert answer.found and answer.language == language
    first_line, *lines = answer.answer.splitlines()
    assert first_line.startswith(text(language, "section_points", section="", document="")[:8])
    quoted = [line for line in lines if line.startswith("- ")]
    # Each subsection's lead, in the order of the document, each cited; between them
    # what else the subsection says.
    assert [line[2:].split()[0] for line in quoted if line[2].isdigit()] == points
    assert len(quoted) > len(points)
    assert all(line.rstrip().endswith("]") for line in quoted)
    # One report is quoted; the same section of the others is cited, not repeated.
    markers = {int(n) for line in quoted for n in re.findall(r"\[(\d+)\]", line)}
    assert len({c.file for c in answer.citations if c.n in markers}) == 1


def test_a_broad_question_on_the_second_corpus(heat_assistant: Assistant) -> None:
    answer = heat_assistant.ask("Wat beveelt het rapport aan?")
    assert answer.found and answer.language == "nl"
    quoted = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    assert len(quoted) >= 3
    assert {c.section for c in answer.citations} and all(
        "aanbevel" in c.section.lower() or "recomend" in c.section.lower()
        or "recommend" in c.section.lower() for c in answer.citations
    )


def test_a_broad_question_gets_the_lead_of_each_paragraph(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("How is the index score computed?", language="en")
    points = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    # The method section's paragraphs open with the scale and the number of sub-indicators,
    # and its list gives the three weights: each is a point of its own.
    assert any("0 to 100" in p and "sub-indicators" in p for p in points)
    for weight in ("40%", "35%", "25%"):
        assert sum(weight in p for p in points) == 1, (weight, points)


def test_a_sentence_that_introduces_a_list_is_quoted_with_it(
    corpus_assistant: Assistant,
) -> None:
    # In the Dutch report the sentence that announces the three weighted dimensions ends
    # one passage with a colon; the list of weights opens the next.
    answer = corpus_assistant.ask("What weights do the three ILIA dimensions carry?")
    assert answer.found
    # One quote: the announcing sentence, then the weights it announces.
    assert any(
        all(weight in line.split(":", 1)[-1] for weight in ("40", "35", "25"))
        for line in answer.answer.splitlines() if ":" in line
    ), answer.answer


def test_one_fact_in_three_reports_is_quoted_once(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("How many sub-indicators does the index combine?")
    assert answer.found
    quoted = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    # No two quoted lines are the same statement in two languages.
    folded = [" ".join(sorted(set(line.lower().split()))) for line in quoted]
    assert len(folded) == len(set(folded))
    numbers = [line for line in quoted if "100" in line or "102" in line]
    assert numbers, answer.answer


def test_a_broad_question_about_a_subsection_gets_that_subsection(
    corpus_assistant: Assistant,
) -> None:
    # No passage sits close to "what does it say about X", but a subsection is titled X:
    # its points answer, not the whole section around it, nor "not found".
    answer = corpus_assistant.ask("What does the report say about the explorers?")
    assert answer.found, answer.answer
    assert all(c.section.startswith("4.3 ") for c in answer.citations), answer.citations
    points = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    assert len(points) >= 3
    # Points overlap in no sentence: a lead quoted with its next sentence does not
    # come back as the point that sentence starts.
    sentences = [s for p in points for s in re.split(r"(?<=\.)\s+", p[2:].split(" [")[0])]
    assert len(sentences) == len(set(sentences)), points


def test_a_broad_question_finds_its_section_by_title_beyond_the_retrieved_passages(
    heat_assistant: Assistant,
) -> None:
    question = "¿Qué dice el informe sobre la financiación de los combustibles fósiles?"
    # Retrieval ranks the summary's and the findings' sentences on fossil fuels first:
    # none of the passages it returns is in the section titled with the topic ...
    _, hits = heat_assistant.retrieve(question)
    assert not any(str(h.metadata["section"]).startswith("8.") for h in hits)
    # ... yet that section, in a document they come from, is what answers.
    answer = heat_assistant.ask(question)
    assert answer.found and answer.language == "es"
    assert answer.answer.splitlines()[0].count("8. Finanzas") == 1, answer.answer
    quoted = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    assert len(quoted) >= 3
    assert "1,4 billones" in answer.answer


def test_a_broad_question_on_a_topic_no_section_is_titled_with_quotes_its_mentions(
    corpus_assistant: Assistant,
) -> None:
    # Education comes up in the findings, the talent section and the recommendations;
    # no section is about it. "AI" names what every report is about, not the topic: the
    # recommendations' subsection titled "AI voor inclusieve ontwikkeling" is not it.
    answer = corpus_assistant.ask("Wat zegt het rapport over AI in het onderwijs?")
    assert answer.found and answer.language == "nl"
    quoted = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    assert len(quoted) >= 3, answer.answer
    assert all(re.search(r"onderwijs|educaci|educat", line, re.I) for line in quoted), quoted
    assert "onderwijscurriculum" in answer.answer
    assert len({c.section for c in answer.citations}) >= 2


def test_a_short_broad_question_is_answered_when_a_passage_holds_its_topic(
    corpus_assistant: Assistant,
) -> None:
    # A question this short sits far from every passage (below `min_relevance`); that
    # a retrieved passage names its whole topic is what lets it through.
    question = "What does the report say about Mexico?"
    cleaned, language = corpus_assistant.clean_question(question)
    vector, hits = corpus_assistant.retrieve(cleaned, 10)
    hits = hits[: corpus_assistant.settings.top_k]
    evidence = corpus_assistant._extractive().evidence(cleaned, language, vector, hits)  # noqa: SLF001
    assert evidence is not None and evidence.topic_held and not evidence.titled
    answer = corpus_assistant.ask(question)
    assert answer.found, answer.answer
    quoted = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    # The lines quoted in the question's language come first.
    assert re.search(r"Mexico \(47\.03\)|economic size", quoted[0] + quoted[1]), quoted
    assert any("economic size" in line for line in quoted), quoted


def test_a_broad_question_on_an_absent_topic_is_not_found(corpus_assistant: Assistant) -> None:
    assert not corpus_assistant.ask("What does the report say about copper prices?").found


def test_same_fact_tells_a_translation_from_a_neighbouring_sentence(
    corpus_assistant: Assistant,
) -> None:
    import numpy as np

    from assistant.extractive import SAME_FACT, SAME_FIGURES, same_fact

    pairs = {
        # One fact in two languages.
        ("The region's share of global investment in AI is only 1.12%.",
         "La participación de la región en la inversión mundial en IA es de solo 1,12 %."): True,
        # One fact twice in one language.
        ("Training more people is only half of the task.",
         "Training more people is only half the task."): True,
        # Two sentences of one paragraph: close in meaning, different facts.
        ("Este dato es alentador, pero debe leerse con cautela. Usar servicios "
         "desarrollados en otros lugares no equivale a generar capacidades locales.",
         "Buena parte del valor que producen estas herramientas queda en manos de las "
         "empresas que las diseñan y las alojan, y muy pocas de ellas tienen su sede en "
         "la región."): False,
    }
    for (a, b), same in pairs.items():
        va, vb = np.asarray(corpus_assistant.embedder.embed_documents([a, b]))
        # Each pair is as close in meaning as one fact's wordings are.
        assert float(va @ vb) >= SAME_FIGURES, (a, b)
        assert same_fact(va, vb, a, b) is same, (a, b, float(va @ vb))
    a, b = list(pairs)[-1]
    va, vb = np.asarray(corpus_assistant.embedder.embed_documents([a, b]))
    assert float(va @ vb) >= SAME_FACT

