"""Lexical analysis and BM25: stemming, stop words, cross-lingual concepts, numbers."""

from __future__ import annotations

from assistant.lexical import BM25Index, LexicalDoc, analyse


def test_names_and_domain_words_meet_across_languages() -> None:
    nl = set(analyse("Investeringen in Brazilië en de Dominicaanse Republiek?", "nl"))
    es = set(analyse("Las inversiones en Brasil y la República Dominicana", "es"))
    en = set(analyse("Investments in Brazil and the Dominican Republic", "en"))
    shared = {"~investment", "~brazil", "~dominican_republic"}
    assert shared <= nl and shared <= es and shared <= en


def test_numbers_keep_their_decimals_in_either_notation() -> None:
    assert "1.12" in analyse("solo el 1,12 % de la inversión", "es")
    assert "1.12" in analyse("only 1.12% of investment", "en")
    assert "70.56" in analyse("Chili (70,56)", "nl")


def test_stop_words_dropped_and_stems_shared() -> None:
    terms = analyse("Welke landen hebben de strategieën van de regio geëvalueerd?", "nl")
    assert "welk" not in terms and "de" not in terms
    assert "~strategy" in terms
    assert analyse("recomendaciones", "es") == analyse("recomendación", "es")


def test_dutch_compounds_are_split_on_known_concepts() -> None:
    terms = analyse("degradatiegevaar", "nl")
    assert "~risk" in terms and "~decline" in terms


def test_term_map_can_be_switched_off() -> None:
    assert "~brazil" not in analyse("Brazilië", "nl", concepts=False)


def test_bm25_ranks_exact_terms_and_respects_the_filter() -> None:
    index = BM25Index(
        [
            LexicalDoc("a", "La región recibe solo el 1,12 % de la inversión mundial en IA.", "es"),
            LexicalDoc("b", "Chile, Brasil y Uruguay forman el grupo de pioneros.", "es"),
            LexicalDoc("c", "De kopgroep bestaat uit Chili, Brazilië en Uruguay.", "nl"),
        ]
    )
    assert index.search("investment 1.12 %", "en", 3)[0][0] == "a"
    hits = [cid for cid, _ in index.search("Which countries are the pioneers?", "en", 3)]
    assert set(hits[:2]) == {"b", "c"}
    only_nl = index.search("pioneers", "en", 3, allowed=lambda cid: cid == "c")
    assert [cid for cid, _ in only_nl] == ["c"]
    assert index.search("quantum", "en", 3) == []
