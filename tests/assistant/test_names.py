"""CLDR names: one country or language whatever language names it."""

from __future__ import annotations

from assistant.extractive import question_entities
from assistant.language import detect_language
from assistant.names import derived_name, derived_stems, find_names, mentions_place, spellings
from assistant.textnorm import fold, fold_with_offsets


def test_a_country_has_one_key_in_dutch_spanish_and_english() -> None:
    keys = {name.key for text in ("Brazilië", "Brasil", "Brazil")
            for _, name in find_names(fold(text))}
    assert keys == {"territory:BR"}
    assert {"brazilie", "brasil", "brazil"} <= set(spellings("territory:BR"))


def test_multi_word_names_win_over_their_parts() -> None:
    found = find_names(fold("De Dominicaanse Republiek en de Verenigde Staten"))
    assert [spelling for spelling, _ in found] == ["dominicaanse republiek", "verenigde staten"]


def test_regions_are_places_but_not_answers_to_which_country() -> None:
    found = find_names(fold("América Latina y el Caribe"))
    assert found and all(name.region for _, name in found)
    assert not mentions_place(fold("Latin America and the Caribbean generate 14% of traffic."))
    assert mentions_place(fold("Chile, Brazil and Uruguay lead."))


def test_question_entities_match_any_spelling_of_a_country() -> None:
    entities = question_entities("Welke score had Chili in 2025?")
    assert any("chile" in e and "chili" in e for e in entities)
    assert ("2025",) in entities


def test_a_region_in_the_question_is_not_a_constraint() -> None:
    assert question_entities("What does the report say about Latin America?") == []


def test_names_do_not_decide_the_language_of_a_short_question() -> None:
    assert detect_language("Colombia overtakes Argentina") == "en"
    assert detect_language("Score Chili 2024") == "nl"


def test_folding_keeps_offsets_into_the_original() -> None:
    folded, offsets = fold_with_offsets("Perú y Panamá")
    start = folded.index("panama")
    assert "Perú y Panamá"[offsets[start] : offsets[start + 5] + 1] == "Panamá"


def test_an_adjective_of_a_country_or_language_is_found_by_its_stems() -> None:
    # "Duitse ziekenhuizen": German hospitals. The passage says "Duitsland" or
    # "Germany"; nothing requires it to write "Duitse".
    name = derived_name("duitse")
    assert name is not None and name.key == "language:de"
    stems = derived_stems(name)
    assert {"duits", "duitsland", "german", "germany", "alemania"} <= set(stems)
    # The adjective of a language also names the documents written in it ("@de").
    assert question_entities("Welk deel van de Duitse ziekenhuizen heeft een eigen lab?") == [
        (*(f"{s}*" for s in stems), "@de")
    ]
    # Short words and ordinary words are not names with an ending.
    assert derived_name("data") is None
    assert derived_name("hoogleraar") is None
