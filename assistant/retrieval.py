"""Find the passages for a question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from assistant.store import ChunkStore, SearchHit


@dataclass(frozen=True)
class RetrievalFilter:
    language: str | None = None
    doc_id: str | None = None
    section: str | None = None

    def where(self) -> dict[str, Any] | None:
        clauses = {
            key: value
            for key, value in (
                ("language", self.language), ("doc_id", self.doc_id), ("section", self.section)
            )
            if value
        }
        return clauses or None


class DenseRetriever:
    """Nearest passages by embedding similarity, over live documents only."""

    def __init__(self, store: ChunkStore, embedder: Embeddings) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(
        self, question: str, k: int, filters: RetrievalFilter | None = None
    ) -> tuple[list[float], list[SearchHit]]:
        vector = self.embedder.embed_query(question)
        where = filters.where() if filters else None
        return vector, self.store.search(vector, k, where)
