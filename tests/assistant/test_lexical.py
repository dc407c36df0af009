"""Lexical analysis and BM25: stemming, stop words, numbers, weighted expansions."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from assistant.lexical import (
    STOP_WORDS,
    BM25Index,
    LexicalDoc,
    TermShares,
    analyse,
    analysed_counts,
    analysed_words,
    term_counts,
)


def test_numbers_keep_their_decimals_in_either_notation() -> None:
    assert "1.12" in analyse("solo el 1,12 % de la inversión", "es")
    assert "1.12" in analyse("only 1.12% of investment", "en")
    assert "70.56" in analyse("Chili (70,56)", "nl")


def test_stop_words_dropped_and_stems_shared() -> None:
    terms = analyse("Welke landen hebben de strategieën van de regio geëvalueerd?", "nl")
    assert "welk" not in terms and "de" not in terms
    assert "strategieen" in terms and "evalueer" in terms
    assert analyse("recomendaciones", "es") == analyse("recomendación", "es")


def test_each_term_comes_with_the_word_it_was_read_from() -> None:
    pairs = analysed_words("Las inversiones en Brasil, 1,12 %", "es")
    assert ("inversion", "inversiones") in pairs
    assert ("1.12", "1,12") in pairs
    assert [t for t, _ in pairs] == analyse("Las inversiones en Brasil, 1,12 %", "es")


def test_no_word_of_a_sample_document_is_a_stop_word() -> None:
    # Stop words are function words and the words every question about a document
    # uses; nothing about a subject.
    for words in STOP_WORDS.values():
        assert not words & {"ilia", "index", "indice", "countries", "landen", "paises"}


def test_expansions_add_weighted_terms_to_the_query() -> None:
    index = BM25Index(
        [
            LexicalDoc("a", "Las recomendaciones para los gobiernos.", "es"),
            LexicalDoc("b", "De kopgroep bestaat uit drie landen.", "nl"),
        ]
    )
    assert index.search("aanbevelingen", "nl", 3) == []
    found = index.search("aanbevelingen", "nl", 3, expansions={"recomend": 0.5})
    assert [cid for cid, _ in found] == ["a"]
    full = index.search("recomendaciones", "es", 3)
    assert found[0][1] == pytest.approx(0.5 * full[0][1])


def test_bm25_ranks_exact_terms_and_respects_the_filter() -> None:
    index = BM25Index(
        [
            LexicalDoc("a", "La región recibe solo el 1,12 % de la inversión mundial en IA.", "es"),
            LexicalDoc("b", "Chile, Brasil y Uruguay forman el grupo de pioneros.", "es"),
            LexicalDoc("c", "De kopgroep bestaat uit Chili, Brazilië en Uruguay.", "nl"),
        ]
    )
    assert index.search("inversión 1.12 %", "es", 3)[0][0] == "a"
    hits = [cid for cid, _ in index.search("¿Qué países son pioneros?", "es", 3)]
    assert hits[0] == "b"
    only_nl = index.search("Uruguay", "en", 3, allowed=lambda cid: cid == "c")
    assert [cid for cid, _ in only_nl] == ["c"]
    assert index.search("quantum", "en", 3) == []


def test_term_weights_let_the_telling_word_outweigh_the_subject() -> None:
    index = BM25Index([
        LexicalDoc("subject", "Heat, heat and more heat: heat everywhere.", "en"),
        LexicalDoc("asked", "Drought reached a record share of the land area.", "en"),
        LexicalDoc("x", "Heat waves and drought.", "en"),
        LexicalDoc("y", "Heat in cities.", "en"),
        LexicalDoc("z", "Drought and harvests.", "en"),
    ])
    query = "What does the heat report say about drought?"
    plain = [cid for cid, _ in index.search(query, "en", 5)]
    weighted = [cid for cid, _ in index.search(query, "en", 5, term_weights={"heat": 0.2})]
    assert plain.index("subject") < plain.index("asked")
    # Weighed down, the subject word no longer lifts the passage that only repeats it
    # above the one about the asked word; no passage is lost.
    assert weighted.index("asked") < weighted.index("subject")
    assert set(weighted) == set(plain)


def test_folding_matches_the_shared_fold() -> None:
    from assistant.lexical import _fold
    from assistant.textnorm import fold

    text = "Brazilië, Perú, ÆØÅ ǅ ﬁ ² Ⅻ Ελληνικά Ğ İstanbul ẞ naïve 𝔸𝔹 x\u0301\u0327 plain"
    assert _fold(text) == fold(text)
    assert _fold("Plain ASCII, 1.12 %") == fold("Plain ASCII, 1.12 %")


# Incremental updates: words shared across chunks and languages, so that
# document frequencies and lengths move with every add and remove.
_WORDS = {
    "es": "inversión Brasil Chile estrategia datos talento gobernanza pioneros 1,12 70,56 "
          "universidades investigación infraestructura".split(),
    "nl": "investeringen Brazilië Chili strategie gegevens talent bestuur kopgroep 1,12 "
          "universiteiten onderzoek degradatiegevaar".split(),
    "en": "investment Brazil Chile strategy data talent governance pioneers 1.12 70.56 "
          "universities research infrastructure".split(),
}
_QUERIES = [
    ("investment in Brazil", "en"),
    ("estrategia de datos", "es"),
    ("kopgroep en talent 1,12", "nl"),
    ("research universities infrastructure 70.56", "en"),
    ("quantum", "en"),
]


def _docs(rng: random.Random, group: str, n: int) -> list[LexicalDoc]:
    out = []
    for i in range(n):
        language = rng.choice(sorted(_WORDS))
        words = rng.choices(_WORDS[language], k=rng.randint(1, 12))
        out.append(LexicalDoc(f"{group}:{i}", " ".join(words), language))
    return out


def _scores(index: BM25Index) -> list[dict[str, float]]:
    return [dict(index.search(query, language, 0)) for query, language in _QUERIES]


def _assert_same_scores(index: BM25Index, live: dict[str, list[LexicalDoc]]) -> None:
    fresh = BM25Index([doc for docs in live.values() for doc in docs])
    assert len(index) == len(fresh)
    assert index.groups() == set(live)
    for got, want in zip(_scores(index), _scores(fresh), strict=True):
        assert got.keys() == want.keys()
        for cid, score in want.items():
            assert abs(got[cid] - score) < 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_incremental_updates_score_like_an_index_built_from_scratch(seed: int) -> None:
    rng = random.Random(seed)
    first = _docs(rng, "", 10)
    index = BM25Index(first)
    live: dict[str, list[LexicalDoc]] = {"": first}
    for step in range(40):
        if live and rng.random() < 0.4:
            group = rng.choice(sorted(live))
            index.remove(group)
            del live[group]
        else:
            # Sometimes a group already there: its chunks are replaced.
            group = rng.choice([*live, f"g{step}"]) if live else f"g{step}"
            docs = _docs(rng, f"{group}.{step}", rng.randint(0, 8))
            index.add(group, docs)
            live[group] = docs
        _assert_same_scores(index, live)


def test_removing_an_absent_group_changes_nothing() -> None:
    rng = random.Random(1)
    docs = _docs(rng, "a", 6)
    index = BM25Index([])
    index.add("a", docs)
    before = _scores(index)
    index.remove("missing")
    assert index.groups() == {"a"} and len(index) == 6
    assert _scores(index) == before


def test_adding_a_group_again_replaces_its_chunks() -> None:
    index = BM25Index([LexicalDoc("keep", "Chile y Brasil", "es")])
    index.add("doc", [LexicalDoc("v1", "Las inversiones en Brasil", "es")])
    index.add("doc", [LexicalDoc("v2", "Investments in data centres", "en")])
    assert index.groups() == {"", "doc"} and len(index) == 2
    assert index.search("inversiones", "es", 5) == []
    assert [cid for cid, _ in index.search("investments", "en", 5)] == ["v2"]
    assert [cid for cid, _ in index.search("Brasil", "es", 5)] == ["keep"]
    _assert_same_scores(
        index,
        {"": [LexicalDoc("keep", "Chile y Brasil", "es")],
         "doc": [LexicalDoc("v2", "Investments in data centres", "en")]},
    )


def test_an_empty_index_finds_nothing() -> None:
    index = BM25Index([])
    assert len(index) == 0 and index.groups() == set()
    assert index.search("investment", "en", 5) == []
    index.add("a", [LexicalDoc("a:0", "investment in Brazil", "en")])
    index.remove("a")
    assert len(index) == 0 and index.groups() == set()
    assert index.search("investment", "en", 5) == []


def test_the_filter_is_applied_down_the_whole_ranking() -> None:
    rng = random.Random(2)
    index = BM25Index([])
    groups = {f"g{i}": _docs(rng, f"g{i}", 20) for i in range(10)}
    for group, docs in groups.items():
        index.add(group, docs)
    index.remove("g3")
    # Rare enough that the best matches are almost all turned down.
    allowed = {"g7:4", "g9:19", "g0:0", "g3:1"}
    for query, language in _QUERIES:
        ranking = index.search(query, language, 0)
        want = [hit for hit in ranking if hit[0] in allowed][:2]
        assert index.search(query, language, 2, allowed=lambda cid: cid in allowed) == want


def test_equal_scores_rank_in_the_order_chunks_were_added() -> None:
    texts = ["Brazil", "investment in Brazil", "Brazil, Chile and research data"]
    index = BM25Index([LexicalDoc("other", "Chile", "en")])
    for g in range(4):
        index.add(f"g{g}", [LexicalDoc(f"g{g}:{i}", texts[i % 3], "en") for i in range(40)])
    index.remove("g1")
    # Shorter texts first (BM25 length norm), then the order of adding.
    want = [f"g{g}:{i}" for _, g, i in sorted((i % 3, g, i) for g in (0, 2, 3) for i in range(40))]
    assert [cid for cid, _ in index.search("Brazil", "en", 0)] == want
    odd = [cid for cid in want if cid.endswith(("1", "3", "5", "7", "9"))]
    found = index.search("Brazil", "en", 30, allowed=lambda cid: cid in odd)
    assert [cid for cid, _ in found] == odd[:30]


def test_compaction_keeps_the_results() -> None:
    rng = random.Random(3)
    live = {f"g{i}": _docs(rng, f"g{i}", 10) for i in range(6)}
    index = BM25Index([])
    for group, docs in live.items():
        index.add(group, docs)
    for group in ("g0", "g2", "g4", "g5"):
        index.remove(group)
        del live[group]
        _assert_same_scores(index, live)
    # Two thirds of the rows were dead: they are gone, and the rest renumbered.
    assert index._rows == len(index) == 20
    live["g6"] = _docs(rng, "g6", 5)
    index.add("g6", live["g6"])
    _assert_same_scores(index, live)


def test_searches_run_while_groups_change() -> None:
    rng = random.Random(4)
    batches = [_docs(rng, f"b{i}", 15) for i in range(30)]
    index = BM25Index(batches[0])
    problems: list[BaseException] = []

    def search() -> None:
        try:
            for _ in range(200):
                for query, language in _QUERIES:
                    for cid, score in index.search(query, language, 5):
                        assert score > 0 and ":" in cid
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            problems.append(err)

    live = {"": batches[0]}
    threads = [threading.Thread(target=search) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i, docs in enumerate(batches[1:], 1):
        index.add(f"b{i % 4}", docs)
        live[f"b{i % 4}"] = docs
        if i % 5 == 0:
            index.remove(f"b{(i + 1) % 4}")
            live.pop(f"b{(i + 1) % 4}", None)
    for thread in threads:
        thread.join()
    assert not problems
    _assert_same_scores(index, live)


@pytest.mark.parametrize("language", ["nl", "es", "en"])
def test_counted_analysis_counts_what_the_ordered_one_lists(language: str) -> None:
    text = ("De AI-strategie van 2025: 1,12 % van de investeringen; la estrategia, the "
            "strategy's strategies. " * 3 + "a " * 500 + "ünïcödé-wörds x9 12.500")
    pairs = analysed_counts(text, language)
    assert pairs == Counter(analysed_words(text, language))
    assert term_counts(pairs) == Counter(analyse(text, language))


def test_term_shares_count_the_chunks_of_each_language_that_hold_a_term() -> None:
    shares = TermShares()
    shares.add("a", [("en", ["heat", "health"]), ("en", ["heat", "heat"]), ("es", ["calor"])])
    shares.add("b", [("en", ["heat", "finance"]), ("en", ["coal"])])
    assert shares.share("heat", "en") == 3 / 4  # a chunk counts once, however often
    assert shares.share("finance", "en") == 1 / 4
    assert shares.share("calor", "es") == 1.0
    assert shares.share("heat", "es") == 0.0  # counted within its own language
    shares.add("b", [("en", ["coal"])])  # a group added again replaces its chunks
    assert shares.share("heat", "en") == 2 / 3
    shares.remove("a")
    assert shares.share("heat", "en") == 0.0 and shares.share("coal", "en") == 1.0
    assert shares.share("calor", "es") == 0.0 and shares.share("x", "nl") == 0.0
