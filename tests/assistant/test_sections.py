"""Broad questions: recognised by the languages' own question words, and their topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.sections import MAX_POINT_CHARS, _kind_match, _paragraph_points, is_broad, topic
from assistant.store import SearchHit


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
        "Hoe meet het rapport de gevolgen voor de gezondheid?",
        "¿Cómo mide el informe la exposición al calor?",
        "How does the report measure heat exposure?",
        "Welke risico's noemt het rapport?",
        "Welke maatregelen stelt het rapport voor?",
        "Wat concludeert het rapport?",
        "Leg de drie groepen uit",
        "¿Qué desafíos identifica el informe?",
        "Explica los tres niveles",
        "Which challenges does the report mention?",
        "Explain the three tiers",
        # Which actions: a list.
        "¿Qué medidas ha puesto en marcha el ministerio?",
        "Welke stappen wil de stad zetten?",
        "What measures did the vice president announce?",
        "¿Cuáles fueron las principales medidas del plan?",
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
        "Wat is de regionale gemiddelde score?",
        "¿Qué país ve su puntuación caer?",
        "Leg je tas neer",
        # A text verb with "as" asks what the text calls something: one fact.
        "Which professor does the broadcaster describe as the world authority on it?",
        "Welke stad noemt het artikel als voorbeeld?",
    ],
)
def test_questions_for_one_fact_are_not_broad(question: str) -> None:
    assert not is_broad(question)


def test_the_topic_is_what_is_left_without_the_question_words() -> None:
    assert topic("Waar gaat hoofdstuk 5 over?").split() == ["hoofdstuk", "5", "over?"]
    assert "investment" in topic("What does the report suggest about investment?")
    assert "propone" not in topic("¿Qué propone el informe sobre el talento?")
    # "Which X does the report name?": the question word and the verb are the frame.
    assert topic("Welke risico's noemt het rapport?").split() == ["risico's", "het", "rapport?"]
    assert topic("Leg de drie groepen uit").split() == ["de", "drie", "groepen"]


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("¿Qué propone el informe?", "8. Recomendaciones"),
        ("What does the report suggest?", "8. Recommendations"),
        ("What are the key takeaways?", "3. Main findings"),
        ("Wat zijn de kernpunten?", "3. Belangrijkste bevindingen"),
        ("Geef een overzicht van het rapport", "1. Samenvatting"),
        ("Hoe meet het rapport de gevolgen?", "2. Methode en indicatoren"),
        ("How does the report measure exposure?", "2. Method and indicators"),
        # A title that asks what is to be done holds recommendations.
        ("What does the article recommend?", "¿Qué puede hacerse para reducir el impacto?"),
        ("¿Qué recomienda el artículo?", "What can be done about it?"),
        ("Wat raadt het artikel aan?", "Wat moet er nu gebeuren?"),
        # A question for actions asks for the section that lists them.
        ("Welke stappen wil Amsterdam zetten?", "Stappenplan"),
        ("¿Qué medidas ha tomado el ministerio?", "Medidas del ministerio para prevenir"),
        ("Which policies does it back?", "Policy options"),
    ],
)
def test_a_broad_question_asks_for_a_kind_of_section(question: str, title: str) -> None:
    assert _kind_match(question, title)


def test_a_title_that_asks_a_question_is_not_thereby_a_recommendation() -> None:
    assert not _kind_match("What does the article recommend?", "What can water markets do?")
    assert not _kind_match("What does the article recommend?", "2. Methods")


def _passage(index: int, text: str, paragraphs: str) -> SearchHit:
    return SearchHit(f"d:{index:05d}", text, {
        "doc_id": "d", "chunk_index": index, "section_path": "2. Method",
        "paragraphs": paragraphs, "kind": "text", "language": "en"}, 0.9)


def test_the_sentence_that_introduces_a_list_stays_with_its_paragraph_across_passages() -> None:
    lead = ("The collaboration was set up in 2016 to follow how a warming climate affects "
            "human health, year after year, with the same indicators.")
    second = "More than 300 researchers take part."
    intro = "The report tracks 56 indicators, grouped into five domains:"
    items = " • Health hazards and exposures. • Adaptation and planning for health."
    first = _passage(0, f"{lead} {second}", "0")
    # The next passage repeats the previous one's last sentence (passages overlap); its
    # paragraphs start at the list items.
    text = f"{second} {intro}{items}"
    starts = [text.index("•"), text.index("•", text.index("•") + 1)]
    following = _passage(1, text, ",".join(map(str, starts)))
    # A third passage that repeats the introduction adds it to nothing.
    third_text = f"{intro}{items}"
    third = _passage(2, third_text, str(third_text.index("•")))
    points = _paragraph_points([first, following, third])
    assert points is not None
    assert points[0].text.startswith(lead[:40]) and points[0].text.endswith(f"… {intro}")
    assert len(points[0].text) <= MAX_POINT_CHARS
    assert sum(intro in p.text for p in points) == 1
    assert [p.text for p in points[1:3]] == ["Health hazards and exposures.",
                                           "Adaptation and planning for health."]


def test_a_paragraph_that_ends_by_introducing_a_list_keeps_that_sentence() -> None:
    text = ("Indicators are reported one by one and compared with a baseline, never added "
            "into a single score. Each has a baseline. "
            "Three kinds of baseline are used: • The 1990s average. • The years 1961 to 1990.")
    passage = _passage(0, text, ",".join(map(str, [0, text.index("•"),
                                                   text.index("•", text.index("•") + 1)])))
    points = _paragraph_points([passage])
    assert points is not None
    assert points[0].text == (
        "Indicators are reported one by one and compared with a baseline, never added into "
        "a single score. … Three kinds of baseline are used:")


def test_a_byline_or_a_list_of_names_is_not_a_point() -> None:
    from assistant.sections import is_prose

    assert not is_prose("Eva Belmonte & Miguel Ángel Gavilanes (Civio), 2017-02-09")
    assert is_prose("Vaccines have helped to eradicate some diseases.")
    assert is_prose("Chile (70,56), Brazil (67,39) and Uruguay (62,32) lead the index.")
    # Too short to judge.
    assert is_prose("Heat kills.")


def test_a_labelled_web_address_is_not_a_point() -> None:
    from assistant.sections import is_prose

    assert not is_prose("Source: https://example.org/reports/vaccines/successes/")
    assert not is_prose("See www.example.org/data")
    # A sentence that gives its source's address is still a sentence.
    assert is_prose("The full table is published at https://example.org/table by the board.")


_MONITOR = """# Harbour Water Monitor 2021: summary and introduction

City water board, with contributions from the port authority, 14 March 2022.

## Summary of the Harbour Water Monitor

Since 2012 the water board has kept the Harbour Water Monitor. Its aim is to record
the state of the water in the old harbour and how it changes from year to year.

The monitor finds that the water has warmed by 0.8 degrees since 1995. The warming
has sped up over the last ten years.

Oxygen levels fell below the legal floor on 23 days in 2021, most of them in August.

## Introduction

This report describes how the harbour water is sampled at four fixed points and
how the samples are tested in the laboratory.

## Versions of this report

Version 1.0 was final on 14 March 2022. Version 1.1 corrected one figure.
"""

_MEALS = """# School meals in the northern districts

## Findings

Two in five primary schools in the northern districts now serve a hot lunch every
day. Schools that cook on site throw away less food than schools that buy in meals.

## Costs

A hot lunch costs the district 3.10 euros per pupil per day, of which parents pay
one third. Kitchens built since 2015 use less energy than older ones.

## Recommendations

The districts should share one supplier contract and train kitchen staff together.
"""


@pytest.mark.slow
def test_a_section_titled_with_what_is_asked_answers_rather_than_its_whole_document(
    tmp_path: Path,
) -> None:
    # The document's title ("… summary and introduction") holds the question's words
    # too; the question still asks for the summary section, not every section's lead.
    answer = _ask(tmp_path, {"harbour-monitor.md": _MONITOR, "school-meals.md": _MEALS},
                  "What are the main messages of the summary of the Harbour Water Monitor 2021?")
    head, *points = answer.splitlines()
    assert "Summary of the Harbour Water Monitor" in head
    assert any("0.8 degrees" in p for p in points)
    assert not any("laboratory" in p or "Version 1.1" in p for p in points), answer


_FERRY = """# New ferry line for the old harbour

By a staff reporter, 3 May 2024

The city will run an electric ferry across the old harbour from June, carrying up to
1,200 passengers a day between the station and the new housing on the north quay.

## Route

The ferry calls at three piers. A crossing takes seven minutes, and boats leave every
quarter of an hour from six in the morning until midnight.

## Costs

The two boats cost 9 million euros, of which the national transport fund pays half.
A ticket costs the same as a bus ride.

## Reactions

Residents of the north quay welcome the line. The rowing club fears for its training
water and asks for a speed limit near its boathouse.
"""


@pytest.mark.slow
def test_a_whole_articles_points_start_with_its_opening_paragraph(tmp_path: Path) -> None:
    # A news article states what it reports before its first heading; the date line
    # under the title is no point.
    answer = _ask(tmp_path, {"harbour-ferry.md": _FERRY, "school-meals.md": _MEALS},
                  "What are the main points of the article about the new ferry line for the "
                  "old harbour?")
    _, *points = answer.splitlines()
    assert "1,200 passengers" in points[0], answer
    assert not any("staff reporter" in p for p in points), answer
    assert any("9 million euros" in p for p in points), answer


_BAKERY = """# Village bakeries close one after another

By our regional desk, 12 March 2025

Eleven village bakeries in the province shut their doors last year, twice as many as
the year before, and the bakers' guild expects more to follow.

## Ovens

Most of the bakeries in the province still bake in gas ovens that were installed decades
ago, when energy was cheap and nobody counted what an oven burnt overnight.

Their owners say the main cause of the closures is the price of gas, which tripled in
two winters and now eats a third of a small bakery's turnover.

## Staff

Young bakers rarely want to start work at four in the morning, six days a week, for a wage
below what a supermarket pays its shelf stackers.

The guild counts forty vacancies for trained bakers across the province.

## Shops

Supermarkets on the edge of the larger villages sell bread at half the price of a craft
loaf, and most families now buy it with the rest of their shopping.

Villagers say they miss the bakery as a meeting place more than the bread itself.

## Rents

Rents for shops on village squares rose by a tenth in five years, as owners let them to
holiday firms and estate agents instead.

Some landlords let empty shops stand rather than lower the rent.

## Help

The province offers a grant of 15,000 euros for a bakery that switches to an electric
oven.

Only three bakeries applied for the grant last year.

## Outlook

The guild wants a reduced energy tariff for small food producers, such as the one that
farms with greenhouses already have.

Without it, it expects another ten closures before the end of the year.
"""


@pytest.mark.slow
def test_a_whole_articles_points_are_what_it_says_about_the_question(tmp_path: Path) -> None:
    # A news article's subheadings are catchwords, and its leads often set a scene: the
    # cause asked about stands in the second paragraph of a subsection. It is a point,
    # although the article has too many subsections for each to give more than its lead.
    answer = _ask(tmp_path, {"bakeries.md": _BAKERY, "school-meals.md": _MEALS},
                  "What does the article about the village bakeries say about the causes "
                  "of the closures?")
    head, *points = answer.splitlines()
    assert "Village bakeries close" in head, answer
    assert any("price of gas" in p for p in points), answer
    assert not any("regional desk" in p for p in points), answer


def _ask(tmp_path: Path, documents: dict[str, str], question: str) -> str:
    """The answer text to `question` over the given Markdown documents, freshly indexed."""
    from assistant import Assistant, Settings
    from tests.conftest import make_indexer

    settings = Settings.load({"data_dir": tmp_path / "data"}, environ={})
    sources = []
    for name, body in documents.items():
        sources.append(tmp_path / name)
        sources[-1].write_text(body, encoding="utf-8")
    assert make_indexer(settings).ingest(sources).ok
    return Assistant(settings).ask(question).answer
