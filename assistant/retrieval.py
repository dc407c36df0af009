"""Find the passages for a question, fairly across document languages.

Multilingual embedders score a passage in the question's own language higher
than an equally relevant passage in another language (with multilingual-e5
the gap is often larger than the gap between relevant and unrelated). So each
language is searched on its own, and a passage's relevance is its similarity
minus the median similarity of the best passages in its language: what
stands out within its language ranks first, whichever language that is.
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from assistant.store import ChunkStore, SearchHit

# Passages per language used to estimate that language's baseline similarity.
CALIBRATION_POOL = 20


@dataclass(frozen=True)
class RetrievalFilter:
    language: str | None = None
    doc_id: str | None = None
    section: str | None = None

    def where(self) -> dict[str, Any]:
        return {
            key: value
            for key, value in (
                ("language", self.language), ("doc_id", self.doc_id), ("section", self.section)
            )
            if value
        }


class DenseRetriever:
    """Nearest passages by embedding similarity, calibrated per language."""

    def __init__(self, store: ChunkStore, embedder: Embeddings) -> None:
        self.store = store
        self.embedder = embedder

    def retrieve(
        self, question: str, k: int, filters: RetrievalFilter | None = None
    ) -> tuple[list[float], list[SearchHit]]:
        vector = self.embedder.embed_query(question)
        where = filters.where() if filters else {}
        languages = [where["language"]] if "language" in where else self.store.live_languages()
        pooled: list[SearchHit] = []
        for language in languages:
            hits = self.store.search(vector, CALIBRATION_POOL, {**where, "language": language})
            if not hits:
                continue
            baseline = statistics.median(h.score for h in hits)
            pooled.extend(dataclasses.replace(h, relevance=h.score - baseline) for h in hits)
        pooled.sort(key=lambda h: h.relevance, reverse=True)
        return vector, pooled[:k]
