"""Hybrid retrieval on the real corpus: filters, exact terms, diversity, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, InvalidQuestionError, Settings
from assistant.retrieval import RetrievalFilter
from tests.conftest import make_indexer

pytestmark = pytest.mark.slow


def files(hits) -> list[str]:  # noqa: ANN001
    return [h.metadata["file_name"] for h in hits]


def test_source_language_filter(corpus_assistant: Assistant) -> None:
    _, hits = corpus_assistant.retrieve(
        "Which countries lead the index?", 5, RetrievalFilter(language="es")
    )
    assert hits and set(files(hits)) == {"ilia-2025-es.pdf"}


def test_document_filter_takes_an_id_prefix(corpus_assistant: Assistant) -> None:
    doc = next(d for d in corpus_assistant.documents() if d.file_name == "ilia-2025-nl.pdf")
    _, hits = corpus_assistant.retrieve("investment", 5, RetrievalFilter(document=doc.doc_id[:10]))
    assert hits and set(files(hits)) == {"ilia-2025-nl.pdf"}


def test_section_filter_matches_number_or_name(corpus_assistant: Assistant) -> None:
    for section in ("4.1", "Pioneros"):
        _, hits = corpus_assistant.retrieve("países", 5, RetrievalFilter(section=section))
        assert hits
        assert all(section.lower() in h.metadata["section_path"].lower() for h in hits)


def test_exact_number_finds_its_passage(corpus_assistant: Assistant) -> None:
    _, hits = corpus_assistant.retrieve("1,12 %", 3)
    assert any("1,12" in h.text or "1.12" in h.text for h in hits)


def test_mmr_keeps_near_duplicates_out(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    base = (
        "# Nota\n\n## 1. Inversión\n\nLa región recibe el 1,12 % de la inversión mundial en IA. "
        "Ningún país supera el promedio mundial de inversión."
    )
    for i in range(4):
        (folder / f"copy-{i}.md").write_text(base + f" Copia número {i}.\n", encoding="utf-8")
    (folder / "other.md").write_text(
        "# Otra\n\n## 1. Talento\n\nEl talento en IA escasea y la inversión en formación "
        "es baja en toda la región.\n",
        encoding="utf-8",
    )
    settings = Settings.load({"data_dir": tmp_path / "data"}, environ={})
    make_indexer(settings).ingest([folder])

    def near_duplicates(lam: float) -> int:
        assistant = Assistant(settings.replace(mmr_lambda=lam))
        _, hits = assistant.retrieve("inversión mundial en IA", 3)
        vecs = np.asarray([h.embedding for h in hits])
        sims = vecs @ vecs.T
        return int((sims[np.triu_indices(len(hits), 1)] > 0.98).sum())

    # Ranked by relevance alone, the copies fill the top three (three similar pairs);
    # with diversity the other document takes a place.
    assert near_duplicates(1.0) == 3
    assert near_duplicates(0.5) < 3


@pytest.mark.parametrize(
    "question",
    ["ILIA " * 2000, "Welke\x00 landen\x07 vormen de\x1b kopgroep?"],
)
def test_long_or_control_character_questions_never_crash(
    corpus_assistant: Assistant, question: str
) -> None:
    try:
        answer = corpus_assistant.ask(question)
    except InvalidQuestionError as err:
        assert "too long" in str(err)
    else:
        assert answer.language == "nl" and answer.found


def test_question_in_unsupported_language_gets_an_english_answer(
    corpus_assistant: Assistant,
) -> None:
    answer = corpus_assistant.ask("Welche Länder führen den Index an?")
    assert answer.language == "en"


def test_in_memory_search_finds_what_chroma_finds(corpus_assistant: Assistant) -> None:
    # The dense search runs over the live vectors held in memory; Chroma's own filtered
    # query over the same index must name the same passages, with the same similarities.
    live = corpus_assistant.store.live()
    assert len(live) == corpus_assistant.store.chunk_count() > 100
    for question in ("Welke landen vormen de kopgroep?", "inversión en IA", "AI talent"):
        vector = corpus_assistant.embedder.embed_query(question)
        query = np.asarray(vector, dtype=np.float32) / np.linalg.norm(vector)
        for language in ("nl", "es", "en"):
            ours = live.language_vectors[language].nearest(query, 20)
            chroma = corpus_assistant.store.search(vector, 20, {"language": language})
            assert [cid for cid, _, _ in ours] == [h.chunk_id for h in chroma]
            assert np.allclose([s for _, s, _ in ours], [h.score for h in chroma], atol=1e-4)
