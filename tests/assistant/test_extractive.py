"""Plumbing of the extractive answerer that needs no model."""

from __future__ import annotations

import pytest

from assistant.extractive import (
    _calibrated_best,
    _Candidate,
    _mentions,
    _part_of_word,
    _run_phrase,
    _topic_held,
    _with_reasons,
    also_cited,
    answer_types,
    has_answer_type,
    question_entities,
    title_runs,
)
from assistant.store import SearchHit


def _hit(n: int, language: str) -> tuple[int, SearchHit]:
    return n, SearchHit(f"doc:{n}", "text", {"language": language}, 0.9)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "[3], in het Spaans [2], Engels [4]"),
        ("es", "[3], en español [2], inglés [4]"),
        ("en", "[3], in Spanish [2], English [4]"),
    ],
)
def test_other_passages_are_named_by_language_after_those_in_the_quoted_one(
    language: str, expected: str
) -> None:
    # The quoted passage is Dutch: another Dutch passage is cited by its number only.
    cited = [_hit(2, "es"), _hit(3, "nl"), _hit(4, "en")]
    assert also_cited(language, cited, "nl") == expected


def test_other_languages_alone_are_introduced_once() -> None:
    assert also_cited("en", [_hit(2, "es"), _hit(5, "es")], "en") == "in Spanish [2][5]"


def test_a_topic_is_held_when_one_passage_holds_all_its_words() -> None:
    passages = [{"start", "up", "capit"}, {"cloud", "start"}]
    assert _topic_held({"start", "up"}, passages, ["en", "en"], {})
    # Each word in a different passage is not enough.
    assert not _topic_held({"up", "cloud"}, passages, ["en", "en"], {})
    # A word's counterpart in the passage's language counts.
    assert _topic_held({"nube"}, passages, ["en", "en"], {"nube": {"en": "cloud"}})
    assert not _topic_held(set(), passages, ["en", "en"], {})


def test_a_number_written_in_words_is_a_number_in_its_own_language() -> None:
    assert has_answer_type("the average is roughly six times lower", "number", "en")
    assert has_answer_type("het gemiddelde ligt zes keer lager", "number", "nl")
    assert has_answer_type("el promedio es unas seis veces menor", "number", "es")
    assert has_answer_type("scored 70.56", "number", "en")
    # "once" is eleven in Spanish, not in English; "een" is also an article.
    assert not has_answer_type("it happened once", "number", "en")
    assert not has_answer_type("een land in de regio", "number", "nl")


def test_a_long_capitalised_word_matches_its_inflected_forms() -> None:
    (europees,) = question_entities("Via welk Europees samenwerkingsverband loopt het?")
    assert _mentions("met steun van de europese unie", europees)
    assert _mentions("backing from the european union", europees)
    assert not _mentions("de regio ontvangt weinig", europees)
    # Short names and acronyms match as written.
    assert question_entities("Who leads CENIA today?") == [("cenia",)]
    (quito,) = question_entities("Where is Quito?")
    assert _mentions("in quito", quito) and not _mentions("in quitos", quito)


def test_a_run_of_capitalised_words_is_a_title_not_a_set_of_names() -> None:
    question = "How much did the World Bank pledge to the Loss and Damage Fund?"
    assert title_runs(question) == [["World", "Bank"], ["Damage", "Fund"]]
    # Its words are not names each passage must hold as written ("Loss" stands alone).
    assert question_entities(question) == [("loss",)]
    runs = title_runs("What does the Dutch Sea Level Monitor 2022 conclude?")
    # A country or language name (CLDR) stays a name; the number stays a number.
    assert runs == [["Sea", "Level", "Monitor"]]
    assert question_entities("What does the Dutch Sea Level Monitor 2022 conclude?") == [
        ("2022",)]
    assert title_runs("What did Costa Rica score in 2025?") == []


def test_a_title_may_hold_short_lowercase_words_but_not_and() -> None:
    question = "¿Qué recomienda la «Declaración de Bruselas» a los gobiernos?"
    assert title_runs(question) == [["Declaración", "Bruselas"]]
    assert question_entities(question) == []
    assert title_runs("Who launched the World Day of Remembrance?") == [
        ["World", "Day", "Remembrance"]]
    # "and" joins two names, each of which a passage must hold.
    assert question_entities("Did Flagstaff and Phoenix test meat?") == [
        ("flagstaff", "flagsta*"), ("phoenix", "phoen*")]
    assert _run_phrase("¿Cuánto gastó el Ministerio de Sanidad?", ["Ministerio", "Sanidad"]) == (
        "ministerio de sanidad")


def test_a_word_of_a_name_may_end_a_compound() -> None:
    assert _part_of_word("monitor", "de zeespiegelmonitor van 2022")
    assert _part_of_word("monitor", "monitoring data")
    assert not _part_of_word("bank", "the embankments held")


def test_question_words_say_a_number_or_a_year_is_asked() -> None:
    assert answer_types("What is the exact number of sub-indicators?") == ["number"]
    assert answer_types("Welk aantal landen doet mee?") == ["number"]
    assert answer_types("¿Desde qué año crece la brecha?") == ["date"]
    # "when", "where" and "who" ask only where the question starts with them.
    assert answer_types("Who compiles the index?") == ["person"]
    assert answer_types("¿A quién pidió ayuda el ministerio?") == ["person"]
    assert answer_types("How many people who live there moved?") == ["number"]
    assert answer_types("When was the index presented?") == ["date"]
    assert answer_types("Since when has the gap grown?") == ["date"]
    assert answer_types("Waar gaan de specialisten heen?") == ["place"]
    assert answer_types("What rise was assumed when designing the lock?") == []
    assert answer_types("Welk station is niet gebruikt, en waarom niet?") == ["reason"]
    assert answer_types("¿Por qué faltan vacunas?") == ["reason"]


def test_a_why_question_quotes_a_statement_with_the_reason_that_follows_it() -> None:
    sentences = [
        "Five of the six stations were used.",
        "The sixth is not reliable enough, because the ground there is sinking.",
        "Trends range from 2.3 to 3.3 mm a year.",
    ]
    joined = _with_reasons(sentences, "en")
    assert joined[0] == f"{sentences[0]} {sentences[1]}"
    # A sentence that gives no reason, followed by none, stays as it is.
    assert joined[1:] == sentences[1:]
    spanish = ["Faltan dosis en las clínicas.", "Se debe a los impagos de las provincias."]
    assert _with_reasons(spanish, "es")[0] == " ".join(spanish)
    # A statement that gives its own reason needs no more.
    dutch = ["Delfzijl is weggelaten omdat de bodem daalt.", "Dat komt door gaswinning."]
    assert _with_reasons(dutch, "nl") == dutch


def test_a_sentence_in_a_language_with_a_lower_baseline_is_raised_to_the_questions() -> None:
    import numpy as np

    def candidate(language: str, score: float, relevance: float) -> _Candidate:
        return _Candidate(SearchHit(f"{language}:1", "text", {"language": language}, score,
                                    relevance=relevance), 0, "A sentence here.")

    # Spanish passages sit at 0.82, Dutch ones at 0.79: a Dutch sentence at 0.83 counts
    # as 0.86 for a Spanish question; a Spanish one is not moved.
    candidates = [candidate("nl", 0.87, 0.08), candidate("es", 0.83, 0.01)]
    best = _calibrated_best(np.array([0.83, 0.80]), candidates, "es")
    assert best == pytest.approx(0.86)
    # Never lowered, and unchanged without a passage in the question's language.
    assert _calibrated_best(np.array([0.80, 0.83]), candidates, "nl") == pytest.approx(0.83)
    assert _calibrated_best(np.array([0.83, 0.80]), candidates, "en") == pytest.approx(0.83)


class _FlatEmbedder:
    """Every text at the same unit vector: the test is about which passages join."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0, 0.0]


def test_a_year_only_the_rest_of_the_section_holds_brings_its_passage_along() -> None:
    import numpy as np

    from assistant.extractive import ExtractiveAnswerer

    def chunk(i: int, section: str, body: str) -> SearchHit:
        return SearchHit(f"d:{i}", body, {"doc_id": "d", "section_path": section,
                                          "language": "es"}, 0.0)

    section = [
        chunk(0, "Balance", "Algunos aspectos de la evolución en el decenio 2009-2019:"),
        chunk(1, "Balance", "- Las causas más frecuentes fueron las distracciones."),
        chunk(2, "Otra", "En 2019 fallecieron 417 motoristas."),
    ]
    answerer = ExtractiveAnswerer(
        _FlatEmbedder(), 0.0, 4,  # type: ignore[arg-type]
        section_chunks=lambda doc_id: section if doc_id == "d" else [],
    )
    retrieved = [SearchHit("d:1", section[1].text, section[1].metadata, 0.9, relevance=0.1)]
    joined = answerer._holding([("2009",)], retrieved, [1.0, 0.0])
    assert joined is not None and [h.chunk_id for h in joined] == ["d:0"]
    # Scored as retrieval scores it: its similarity, less the language's baseline.
    assert joined[0].score == pytest.approx(1.0) and joined[0].relevance == pytest.approx(0.2)
    # With the index's stored vector at hand (section title and text embedded together,
    # as retrieval scored it), that vector scores the passage; nothing is embedded.
    stored = ExtractiveAnswerer(
        _FlatEmbedder(), 0.0, 4,  # type: ignore[arg-type]
        section_chunks=lambda doc_id: section if doc_id == "d" else [],
        chunk_vector=lambda chunk_id: np.array([0.6, 0.8]) if chunk_id == "d:0" else None,
    )
    joined = stored._holding([("2009",)], retrieved, [1.0, 0.0])
    assert joined is not None and joined[0].score == pytest.approx(0.6)
    # A figure that only another section holds, or none, does not count.
    assert answerer._holding([("417",)], retrieved, [1.0, 0.0]) is None
    assert answerer._holding([("2030",)], retrieved, [1.0, 0.0]) is None


@pytest.mark.parametrize(
    ("language", "question", "figures_elsewhere", "count"),
    [
        # No sentence with a figure shares a distinctive word of the question.
        ("en", "How many malaria cases were reported in Europe?",
         ["A record of more than five million dengue infections was counted in 2023.",
          "Malaria transmission now reaches highland areas of Europe that were too cool."],
         "Europe reported 312 malaria cases last year."),
        # Figures about the fleet share the question's words ("actualmente",
        # "argentina"), but none counts what is asked: ships.
        ("es", "¿Cuántos buques integran actualmente la flota pesquera argentina?",
         ["La flota argentina captura actualmente 800 mil toneladas al año.",
          "Solo dos pesquerías argentinas están certificadas desde 2022."],
         "La flota pesquera cuenta con 560 buques."),
    ],
)
def test_a_count_is_not_found_where_no_figure_stands_with_what_is_asked(
    language: str, question: str, figures_elsewhere: list[str], count: str
) -> None:
    from assistant.extractive import ExtractiveAnswerer

    def hit(i: int, body: str) -> SearchHit:
        return SearchHit(f"d:{i}", body, {"doc_id": "d", "language": language}, 0.9,
                         relevance=0.1)

    answerer = ExtractiveAnswerer(_FlatEmbedder(), 0.0, 4)  # type: ignore[arg-type]
    elsewhere = [hit(i, body) for i, body in enumerate(figures_elsewhere)]
    assert answerer.evidence(question, language, [1.0, 0.0], elsewhere) is None
    with_count = [*elsewhere, hit(len(elsewhere), count)]
    assert answerer.evidence(question, language, [1.0, 0.0], with_count) is not None


@pytest.mark.parametrize(
    ("question", "language", "counted"),
    [
        ("¿Cuántos buques integran la flota?", "es", {"buqu"}),
        ("Hoeveel elektrische bussen rijden er?", "nl", {"elektrisch", "bus"}),
        ("How many countries does the index cover?", "en", {"countri"}),
        # A repeat, a share or money is no thing counted.
        ("Hoeveel keer zo groot is het?", "nl", set()),
        ("How many times larger is it?", "en", set()),
        ("¿Cuánto costó el programa?", "es", set()),
    ],
)
def test_a_how_many_question_says_what_it_counts(
    question: str, language: str, counted: set[str]
) -> None:
    from assistant.extractive import _counted_terms

    assert _counted_terms(question, language) == counted


def test_a_name_in_a_documents_byline_names_the_source_not_a_passage_constraint() -> None:
    from assistant.extractive import ExtractiveAnswerer

    def chunk(i: int, section: str, body: str) -> SearchHit:
        return SearchHit(f"d:{i}", body, {"doc_id": "d", "language": "en", "section_path": section,
                                          "title": "Farm antibiotics"}, 0.9, relevance=0.1)

    document = [
        chunk(0, "", "By Ann Lee, WIRED, 2018. Antibiotics are fed to animals."),
        chunk(1, "Study", "Every two weeks they bought meat in Flagstaff. It held E. coli."),
    ]
    answerer = ExtractiveAnswerer(
        _FlatEmbedder(), 0.0, 4,  # type: ignore[arg-type]
        section_chunks=lambda doc_id: document if doc_id == "d" else [],
    )
    found = answerer.evidence("What did the Flagstaff study in WIRED find?", "en",
                              [1.0, 0.0], [document[1]])
    assert found is not None
    # A year in the byline dates the piece: it does not answer "in 2018?".
    assert answerer.evidence("What was bought in Flagstaff in 2018?", "en",
                             [1.0, 0.0], [document[1]]) is None
    # Without the byline the publisher's name is missing, and nothing answers.
    bare = ExtractiveAnswerer(_FlatEmbedder(), 0.0, 4)  # type: ignore[arg-type]
    assert bare.evidence("What did the Flagstaff study in WIRED find?", "en",
                         [1.0, 0.0], [document[1]]) is None


def test_a_title_the_passages_write_as_the_question_does_must_meet_its_year() -> None:
    from assistant.extractive import ExtractiveAnswerer

    def hit(i: int, body: str) -> SearchHit:
        return SearchHit(f"d:{i}", body, {"doc_id": "d", "language": "es"}, 0.9, relevance=0.1)

    answerer = ExtractiveAnswerer(_FlatEmbedder(), 0.0, 4)  # type: ignore[arg-type]
    question = "¿Qué campaña lanzó el Ministerio de Sanidad en 2019?"
    apart = [hit(0, "El Ministerio de Sanidad lanzó varias campañas sobre antibióticos."),
             hit(1, "En 2019 el consumo bajó un poco en los hospitales.")]
    assert answerer.evidence(question, "es", [1.0, 0.0], apart) is None
    together = [hit(2, "En 2019 el Ministerio de Sanidad lanzó una campaña sobre antibióticos.")]
    assert answerer.evidence(question, "es", [1.0, 0.0], [*apart, *together]) is not None


def test_the_adjective_of_a_documents_language_names_that_document() -> None:
    from assistant.extractive import ExtractiveAnswerer

    def hit(doc: str, language: str, body: str) -> SearchHit:
        return SearchHit(f"{doc}:1", body, {"doc_id": doc, "language": language,
                                            "section_path": "S"}, 0.9, relevance=0.1)

    passages = [hit("nl", "nl", "Het kabinet wil in 2030 nul verkeersdoden."),
                hit("es", "es", "La estrategia fija objetivos para 2030 y ocho indicadores.")]
    answerer = ExtractiveAnswerer(
        _FlatEmbedder(), 0.0, 4,  # type: ignore[arg-type]
        section_chunks=lambda doc_id: [h for h in passages if h.metadata["doc_id"] == doc_id],
    )
    # "Spaanse" stands in no passage, but one document is written in Spanish: the
    # question is about that document, and only its passages answer.
    found = answerer.evidence("Welke doelen stelt de Spaanse strategie voor 2030?", "nl",
                              [1.0, 0.0], passages)
    assert found is not None and [h.chunk_id for h in found.hits] == ["es:1"]
    assert answerer.evidence("Welke doelen stelt de Duitse strategie voor 2030?", "nl",
                             [1.0, 0.0], passages) is None


def _first_answer(question: str, language: str, first: str, second: str,
                  title: str = "") -> str:
    """The one-fact answer from two passages: `first` ranked above `second`."""
    from assistant.extractive import ExtractiveAnswerer

    meta = {"doc_id": "d", "language": language, "title": title}
    passages = [SearchHit("d:0", first, meta, 0.9, relevance=0.16),
                SearchHit("d:1", second, meta, 0.9, relevance=0.1)]
    answerer = ExtractiveAnswerer(_FlatEmbedder(), 0.0, 1)  # type: ignore[arg-type]
    evidence = answerer.evidence(question, language, [1.0, 0.0], passages)
    assert evidence is not None
    return answerer.respond(evidence).answer


def test_the_sentence_with_the_year_asked_about_comes_first() -> None:
    # The passage retrieval ranked first lacks the year; the year outweighs the rank.
    assert "678" in _first_answer(
        "Hoeveel mensen kwamen in 2018 om in het verkeer?", "nl",
        "In Flevoland kwamen 10 mensen om in het verkeer.",
        "In 2018 kwamen 678 mensen om in het verkeer.")


def test_a_name_glossed_in_parentheses_is_held_in_either_wording() -> None:
    from assistant.extractive import _glossed, _titles_held

    question = "¿Qué departamento de Ciudad del Cabo (Cape Town) hizo el plan?"
    assert _glossed(question, ["Ciudad", "Cabo"]) == [["Cape", "Town"]]
    assert _glossed(question, ["Cape", "Town"]) == [["Ciudad", "Cabo"]]
    assert _glossed("¿Quién presidía el Noordzee-overleg (el diálogo del Mar del Norte)?",
                    ["Mar", "Norte"]) == [["Noordzee-overleg"]]
    passages = ["cape town's disaster risk management department drew up the plan."]
    terms = [{"cape", "town", "disast", "risk", "manag", "depart", "plan"}]
    assert _titles_held(question, "es", passages, terms, ["en"], {})
    # Without the gloss, the Spanish name alone is held by no passage.
    assert not _titles_held("¿Qué departamento de Ciudad del Cabo hizo el plan?", "es",
                            passages, terms, ["en"], {})


def test_a_quotation_is_quoted_with_the_sentence_that_names_its_speaker() -> None:
    from assistant.extractive import _with_speakers

    sentences = [
        "Toch is de situatie bijzonder, zegt droogtecoördinator Lonneke Schilte.",
        '"Het is heel uitzonderlijk dat de beek de hele winter droog stond."',
        "De provincie telt elf beken.",
        '"Geen citaat van iemand die hier genoemd wordt."',
    ]
    out = _with_speakers(sentences)
    assert out[1].startswith("Toch is de situatie") and out[1].endswith('droog stond."')
    # A short sentence that names someone introduces the quotation after it, too.
    short = _with_speakers(["Tot verdriet van voorzitter Wallage.", '"Wij betreuren het."'])
    assert short[1] == 'Tot verdriet van voorzitter Wallage. "Wij betreuren het."'
    # A quotation after a sentence that names no speaker stays as it is.
    assert out[3] == sentences[3]
    assert out[0] == sentences[0] and out[2] == sentences[2]


def test_a_sentence_names_someone_with_a_capitalised_word_inside_it() -> None:
    from assistant.extractive import names_someone

    assert names_someone("Tot verdriet van voorzitter Wallage.")
    assert names_someone("The index was compiled by CENIA with partners.")
    # A capitalised word that starts a sentence or a quotation names no one, nor does a
    # country's name.
    assert not names_someone('Oxygen fell. "Levels are low," the report adds.')
    assert not names_someone("In Chile the score rose.")


def test_the_year_a_documents_title_holds_marks_no_sentence() -> None:
    # "2018" dates the report: the sentence that repeats it is not thereby the answer.
    assert "Three regions" in _first_answer(
        "Which regions had no speed cameras in 2018?", "en",
        "Three regions still had no speed cameras on their main roads.",
        "In 2018 the index counted speed cameras in all regions.",
        title="Road Safety Index 2018")


def test_a_count_question_over_one_passage_is_answered_from_its_figure() -> None:
    # With one passage, every word it holds is common to all passages: no word of the
    # question is distinctive, and the count test has nothing to go on.
    answer = _first_answer(
        "What score does Chile get in the index?", "en",
        "Chile leads the index with 70.56 points.",
        "Chile leads the index with 70.56 points.")
    assert "70.56" in answer


def test_a_sentence_led_by_he_or_she_is_quoted_with_the_sentence_naming_them() -> None:
    from assistant.extractive import _with_referents

    named = '"De panelen liggen vlak op het water", legt Arnoud van Druten uit.'
    out = _with_referents([named, "Hij is directeur van Floating Solar."], "nl")
    assert out[1] == f"{named} Hij is directeur van Floating Solar."
    # "El" is an article, "Él" the pronoun.
    article = ["Lo dijo la ministra Diana Morant.", "El estudio se presentó en marzo."]
    assert _with_referents(article, "es") == article
    pronoun = _with_referents(["Lo dijo la ministra Diana Morant.", "Ella lo presentó."], "es")
    assert pronoun[1] == "Lo dijo la ministra Diana Morant. Ella lo presentó."
    # A sentence before that names no one is no referent.
    plain = ["The weather was dry.", "He said nothing."]
    assert _with_referents(plain, "en") == plain


def test_names_meet_in_one_passage_or_in_two_that_follow_each_other() -> None:
    from assistant.extractive import _meet

    def hit(index: int, section: str = "S") -> SearchHit:
        return SearchHit(f"d:{index}", "", {"doc_id": "d", "section_path": section,
                                            "chunk_index": index}, 0.9)

    asked = [("andijk",), ("nederland", "netherlands")]
    andijk, country = "bij andijk komen zonnepanelen", "het grootste zonnepark van nederland"
    assert _meet(asked, [hit(3), hit(4)], [andijk, country])
    assert _meet(asked, [hit(3)], [f"{andijk}, {country}"])
    # Passages further apart, or in another section, say different things.
    assert not _meet(asked, [hit(3), hit(5)], [andijk, country])
    assert not _meet(asked, [hit(3), hit(4, "T")], [andijk, country])


def test_a_dutch_language_adjective_names_the_language() -> None:
    from assistant.names import derived_name

    spanish = derived_name("spaanstalige")
    assert spanish is not None and spanish.key == "language:es"
    english = derived_name("engelstalig")
    assert english is not None and english.key == "language:en"


def test_a_year_dates_the_report_in_a_question_for_a_person_and_picks_a_figure_elsewhere() -> None:
    from assistant.extractive import ExtractiveAnswerer

    passages = [SearchHit("d:0", "In a new report, Dr Maggie Atkinson warned that exclusions "
                          "are too high.", {"doc_id": "d", "language": "en",
                                            "section_path": "S"}, 0.9, relevance=0.1)]
    answerer = ExtractiveAnswerer(_FlatEmbedder(), 0.0, 4)  # type: ignore[arg-type]
    # The text does not date the report: the year is no test of who warned.
    assert answerer.evidence("Who warned in a 2013 report that exclusions are too high?", "en",
                             [1.0, 0.0], passages) is not None
    # For a figure it is: the passages hold no exclusions of 2013.
    assert answerer.evidence("How many pupils were excluded in 2013?", "en",
                             [1.0, 0.0], passages) is None


def test_a_language_adjective_meets_a_passage_written_in_that_language() -> None:
    from assistant.extractive import _meet

    def hit(language: str) -> SearchHit:
        return SearchHit("d:1", "", {"doc_id": "d", "section_path": "S", "chunk_index": 1,
                                     "language": language}, 0.9)

    asked = [("spaans*", "spanish*", "@es"), ("madrid",)]
    passage = ["en madrid se consume energia importada"]
    assert _meet(asked, [hit("es")], passage)
    assert not _meet(asked, [hit("nl")], passage)


def test_an_acronym_is_found_where_a_passage_spells_it_out() -> None:
    from assistant.extractive import _acronym, _spelled_out

    text = ("Recently, the Institute for Transportation & Development Policy released a "
            "report. The World Health Organization agreed.")
    assert _spelled_out("ITDP", [text]) == ["institute for transportation & development policy"]
    assert _spelled_out("WHO", [text]) == ["world health organization"]
    assert _spelled_out("OECD", [text]) == []
    question = "What does the ITDP report recommend?"
    assert _acronym(question, ("itdp",)) == "ITDP"
    assert _acronym(question, ("report",)) == ""


def test_a_name_given_as_the_source_picks_the_document_whose_head_holds_it() -> None:
    from assistant.extractive import ExtractiveAnswerer, _attributed

    assert _attributed("¿Qué recomienda el informe, citado por TriTAG?", ("tritag",))
    assert _attributed("Hoeveel vacatures zijn er volgens de PO-Raad?", ("po-raad",))
    assert not _attributed("How many buses does TriTAG count?", ("tritag",))

    def chunk(doc: str, i: int, body: str) -> SearchHit:
        return SearchHit(f"{doc}:{i}", body, {"doc_id": doc, "language": "en",
                                              "section_path": "S", "chunk_index": i,
                                              "title": "Cycling"}, 0.9, relevance=0.1)

    blog = [chunk("blog", 0, "TriTAG is a transit group in Waterloo."),
            chunk("blog", 1, "The Institute for Cycling Policy Research names bike lanes."),
            chunk("blog", 2, "Waterloo should build protected bike lanes and bike sharing.")]
    other = [chunk("news", 0, "TriTAG also spoke. The ICPR praised Torreon's bike lanes.")]
    documents = {"blog": blog, "news": other}
    answerer = ExtractiveAnswerer(
        _FlatEmbedder(), 0.0, 4,  # type: ignore[arg-type]
        section_chunks=lambda doc_id: documents.get(doc_id, []),
    )
    question = "What does the ICPR report, cited by TriTAG, recommend for Waterloo?"
    found = answerer.evidence(question, "en", [1.0, 0.0], [other[0], blog[2]])
    assert found is not None
    # The source's document answers: the passage that spells out the acronym joins it,
    # and the other document, where TriTAG only speaks, is left out.
    assert {h.metadata["doc_id"] for h in found.hits} == {"blog"}
    assert any("Institute for Cycling Policy Research" in h.text for h in found.hits)


@pytest.mark.parametrize(
    ("question", "money"),
    [
        ("Hoeveel geld heeft het land begroot voor zijn strategie?", True),
        ("¿Cuánto costó la construcción del puente?", True),
        ("How much did the new line cost?", True),
        ("Hoeveel euro subsidie krijgt een autobezitter?", True),
        ("How many buses does the city run?", False),
        ("How much of their time could staff save?", False),
    ],
)
def test_a_question_for_an_amount_of_money_is_told_from_one_for_a_figure(
    question: str, money: bool
) -> None:
    assert ("money" in answer_types(question)) is money


def test_an_amount_of_money_is_a_figure_with_a_currency_sign_or_name() -> None:
    from assistant.extractive import _states_money
    from assistant.textnorm import fold

    for sentence in ["Harris announced $1.5 billion in grants.",
                     "El proyecto recibió 25 millones de dólares.",
                     "De aanleg kost 3 miljard euro.", "It cost £40m."]:
        assert _states_money(fold(sentence)), sentence
    for sentence in ["De regio levert 6,6 % van het bbp.", "In 2019 won 3 teams.",
                     "Hubo 25 nuevos casos.", "Dollars are widely used."]:
        assert not _states_money(fold(sentence)), sentence


def test_a_question_for_money_is_not_found_where_no_sentence_gives_an_amount() -> None:
    from assistant.extractive import ExtractiveAnswerer

    def passage(body: str) -> SearchHit:
        return SearchHit("d:0", body, {"doc_id": "d", "language": "en", "section_path": "S",
                                       "chunk_index": 0}, 0.9, relevance=0.1)

    answerer = ExtractiveAnswerer(_FlatEmbedder(), 0.0, 4)  # type: ignore[arg-type]
    question = "How much did the bridge cost?"
    shares = passage("The bridge carries 12 % of the city's traffic. It opened in 2019.")
    assert answerer.evidence(question, "en", [1.0, 0.0], [shares]) is None
    paid = passage("The bridge carries 12 % of the traffic. It cost 40 million euros.")
    assert answerer.evidence(question, "en", [1.0, 0.0], [paid]) is not None


def test_a_headline_with_a_figure_is_quoted_like_a_sentence() -> None:
    from assistant.extractive import ExtractiveAnswerer

    def passage(section: str, body: str) -> SearchHit:
        return SearchHit("d:1", body, {"doc_id": "d", "language": "es", "section": section,
                                       "section_path": section, "chunk_index": 1},
                         0.9, relevance=0.1)

    answerer = ExtractiveAnswerer(_FlatEmbedder(), 0.0, 4)  # type: ignore[arg-type]
    headline = "En la última década 6.5 millones de jóvenes desertaron de bachillerato"
    found = answerer.evidence("¿Cuántos jóvenes desertaron?", "es", [1.0, 0.0],
                              [passage(headline, "La reforma se publicó en febrero.")])
    assert found is not None
    assert headline in [c.sentence for c in found.candidates]
    # A numbered section title is a title, not a headline.
    numbered = "4.2 Trabajo, ingresos y vida cotidiana de las personas"
    found = answerer.evidence("¿Cuántos jóvenes desertaron?", "es", [1.0, 0.0],
                              [passage(numbered, "Unos 6 millones de jóvenes desertaron.")])
    assert found is not None
    assert all("Trabajo" not in c.sentence for c in found.candidates)


def test_a_section_titled_with_the_asked_word_adds_the_places_it_names() -> None:
    from assistant.extractive import ExtractiveAnswerer

    def chunk(i: int, section: str, body: str) -> SearchHit:
        return SearchHit(f"d:{i}", body, {"doc_id": "d", "language": "en",
                                          "section_path": section}, 0.9, relevance=0.1)

    defining = chunk(0, "4. The groups", "The countries of the leading group score above 60. "
                                         "The others trail far behind them.")
    document = [
        defining,
        chunk(1, "4. The groups > 4.1 Leading group", "The leading group is made up of "
              "Norway, Iceland and Peru. All three land more fish than the rest together."),
        chunk(2, "4. The groups > 4.2 Trailing group", "Chile and Ecuador trail."),
    ]
    answerer = ExtractiveAnswerer(
        _FlatEmbedder(), 0.0, 4,  # type: ignore[arg-type]
        section_chunks=lambda doc_id: document if doc_id == "d" else [],
    )
    others = [SearchHit(f"e:{i}", body, {"doc_id": "e", "language": "en", "section_path": "1"},
                        0.9, relevance=0.1)
              for i, body in enumerate(["Fish prices rose in the spring.",
                                        "Quotas are set each December."])]
    # Retrieval found the passage that defines the group, which names no country; the
    # section titled "Leading group" does, and its sentence with places joins.
    found = answerer.evidence("Which countries form the leading group?", "en",
                              [1.0, 0.0], [defining, *others])
    assert found is not None
    sentences = [c.sentence for c in found.candidates]
    assert any("Norway, Iceland and Peru" in s for s in sentences), sentences
    assert not any("Chile" in s or "land more fish" in s for s in sentences), sentences
    # Where a sentence about the group already names places, nothing is added.
    named = chunk(3, "4. The groups", "The leading group (Norway, Iceland, Peru) scores "
                                      "above 60.")
    found = answerer.evidence("Which countries form the leading group?", "en",
                              [1.0, 0.0], [named, *others])
    assert found is not None
    assert not any(c.hit.chunk_id == "d:1" for c in found.candidates)


def test_a_sentence_with_the_asked_names_and_kind_of_answer_passes_the_gates() -> None:
    from types import SimpleNamespace

    from assistant.extractive import _typed_named, passes_gates

    def candidate(body: str) -> _Candidate:
        return _Candidate(SearchHit("d:0", body, {"doc_id": "d", "language": "es"}, 0.85), 0,
                          body)

    question = "Welk deel van de vangst in Argentinië is gecertificeerd?"
    names = question_entities(question)
    wanted = answer_types(question)
    share = candidate("En Argentina, menos del 10 % del volumen total está certificado.")
    assert _typed_named([share], names, wanted)
    # The name without a figure, or a figure without the name, is not enough.
    assert not _typed_named([candidate("Argentina certifica sus pesquerías.")], names, wanted)
    assert not _typed_named([candidate("Chile certifica el 40 % de su pesca.")], names, wanted)
    # Nor a question that names nothing, or asks for no figure, year or place.
    assert not _typed_named([share], [], wanted)
    assert not _typed_named([share], names, [])

    # A Spanish sentence sits under the gates for a Dutch question, and shares few
    # of its words; such a sentence lets the best passage's relevance decide.
    measures = SimpleNamespace(titled=False, topic_held=False, top_score=0.85,
                               sentence_similarity=0.83, coverage=0.43, typed_named=True)
    assert passes_gates(measures, 0.825, 0.84, 0.5)
    assert not passes_gates(SimpleNamespace(**{**vars(measures), "top_score": 0.80}),
                            0.825, 0.84, 0.5)
    assert not passes_gates(SimpleNamespace(**{**vars(measures), "typed_named": False}),
                            0.825, 0.84, 0.5)
