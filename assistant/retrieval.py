"""Find the passages for a question: dense and lexical search, fused, diversified.

* Dense: multilingual embedders score a passage in the question's own language
  higher than an equally relevant passage in another language (with
  multilingual-e5 the gap is often larger than the gap between relevant and
  unrelated). So each language is searched on its own, and a passage's
  relevance is its similarity minus the median similarity of the best
  passages in its language: what stands out within its language ranks first.
* Lexical: BM25 over stemmed terms, with names and domain words mapped to
  shared concepts across languages (`assistant.lexical`). It catches exact
  names and numbers that embeddings blur.
* Reciprocal-rank fusion of the two lists, then maximal marginal relevance so
  that near-identical passages do not fill the answer.
"""

from __future__ import annotations

import dataclasses
import statistics
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.lexical import BM25Index, LexicalDoc
from assistant.settings import Settings
from assistant.store import ChunkStore, SearchHit

# Passages per language used to estimate that language's baseline similarity,
# and the depth of each list before fusion.
CALIBRATION_POOL = 20
LEXICAL_POOL = 30
RRF_K = 60


@dataclass(frozen=True)
class RetrievalFilter:
    """Restrict retrieval to a source language, a document (id or id prefix) or a section.

    The section matches case-insensitively anywhere in the section path, so
    "4.1", "Pioneros" and "governance" all work.
    """

    language: str | None = None
    document: str | None = None
    section: str | None = None

    def accepts(self, meta: dict[str, Any]) -> bool:
        if self.language and meta.get("language") != self.language:
            return False
        if self.document and not str(meta.get("doc_id", "")).startswith(self.document):
            return False
        if self.section:
            path = f"{meta.get('section_path', '')} {meta.get('section', '')}".lower()
            if self.section.lower() not in path:
                return False
        return True


class HybridRetriever:
    """Dense + BM25 retrieval over live documents, configured by `Settings`."""

    def __init__(self, store: ChunkStore, embedder: Embeddings, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._lexical: tuple[tuple[str, ...], BM25Index, dict[str, SearchHit]] | None = None
        self._lock = threading.Lock()

    def _lexical_index(self) -> tuple[BM25Index, dict[str, SearchHit]]:
        """The BM25 index of the live documents, rebuilt when they change."""
        live = tuple(self.store.live_doc_ids())
        with self._lock:
            if self._lexical is None or self._lexical[0] != live:
                chunks = {hit.chunk_id: hit for hit in self.store.live_chunks()}
                index = BM25Index(
                    (
                        LexicalDoc(cid, _lexical_text(h), str(h.metadata.get("language", "en")))
                        for cid, h in chunks.items()
                    ),
                    concepts=self.settings.term_map,
                )
                self._lexical = (live, index, chunks)
            return self._lexical[1], self._lexical[2]

    def retrieve(
        self,
        question: str,
        k: int,
        question_language: str,
        filters: RetrievalFilter | None = None,
    ) -> tuple[list[float], list[SearchHit]]:
        mode = self.settings.retrieval
        if mode not in {"hybrid", "dense", "lexical"}:
            raise ValueError(f"unknown retrieval mode {mode!r}: use hybrid, dense or lexical")
        vector = self.embedder.embed_query(question)
        filters = filters or RetrievalFilter()
        dense, baselines = self._dense(vector, filters)
        lexical: list[SearchHit] = []
        if mode != "dense":
            lexical = self._lexical_hits(question, question_language, filters)
        if mode == "dense":
            fused = [(h, 1.0 / (RRF_K + r)) for r, h in enumerate(dense, 1)]
        elif mode == "lexical":
            fused = [(h, 1.0 / (RRF_K + r)) for r, h in enumerate(lexical, 1)]
        else:
            fused = _rrf(
                [(dense, self.settings.dense_weight), (lexical, self.settings.lexical_weight)]
            )
        candidates = self._complete(fused[: max(3 * k, 15)], vector, baselines)
        return vector, _mmr(candidates, k, self.settings.mmr_lambda)

    def _dense(
        self, vector: list[float], filters: RetrievalFilter
    ) -> tuple[list[SearchHit], dict[str, float]]:
        where: dict[str, Any] = {}
        if filters.language:
            where["language"] = filters.language
        languages = [filters.language] if filters.language else self.store.live_languages()
        pooled: list[SearchHit] = []
        baselines: dict[str, float] = {}
        for language in languages:
            hits = self.store.search(vector, CALIBRATION_POOL, {**where, "language": language})
            if not hits:
                continue
            baselines[language] = statistics.median(h.score for h in hits)
            pooled.extend(
                dataclasses.replace(h, relevance=h.score - baselines[language])
                for h in hits
                if filters.accepts(h.metadata)
            )
        pooled.sort(key=lambda h: h.relevance, reverse=True)
        return pooled, baselines

    def _lexical_hits(
        self, question: str, language: str, filters: RetrievalFilter
    ) -> list[SearchHit]:
        index, chunks = self._lexical_index()
        found = index.search(
            question,
            language,
            LEXICAL_POOL,
            allowed=lambda cid: filters.accepts(chunks[cid].metadata),
        )
        return [chunks[cid] for cid, _ in found]

    def _complete(
        self,
        fused: Sequence[tuple[SearchHit, float]],
        vector: Sequence[float],
        baselines: dict[str, float],
    ) -> list[tuple[SearchHit, float]]:
        """Give lexical-only hits their vector, similarity and calibrated relevance."""
        missing = [h.chunk_id for h, _ in fused if h.embedding is None]
        vectors = self.store.embeddings(missing)
        query = np.asarray(vector)
        out = []
        for hit, score in fused:
            if hit.embedding is None:
                emb = vectors.get(hit.chunk_id)
                if emb is None:
                    # Its document was replaced after the lexical index was built: the
                    # chunk is gone, and the new version's chunks are found next time.
                    continue
                sim = float(np.asarray(emb) @ query)
                base = baselines.get(str(hit.metadata.get("language")), 0.0)
                hit = dataclasses.replace(hit, embedding=emb, score=sim, relevance=sim - base)
            out.append((hit, score))
        return out


def _lexical_text(hit: SearchHit) -> str:
    section = str(hit.metadata.get("section", ""))
    return f"{section}\n{hit.text}" if section else hit.text


def _rrf(lists: Sequence[tuple[Sequence[SearchHit], float]]) -> list[tuple[SearchHit, float]]:
    """Reciprocal-rank fusion: sum of weight / (60 + rank) over the lists a hit is in."""
    scores: dict[str, float] = {}
    first: dict[str, SearchHit] = {}
    for hits, weight in lists:
        for rank, hit in enumerate(hits, 1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + weight / (RRF_K + rank)
            # Prefer the dense copy: it carries the vector and calibrated relevance.
            if hit.chunk_id not in first or first[hit.chunk_id].embedding is None:
                first[hit.chunk_id] = hit
    ranked = sorted(scores, key=lambda cid: scores[cid], reverse=True)
    return [(first[cid], scores[cid]) for cid in ranked]


def _mmr(candidates: Sequence[tuple[SearchHit, float]], k: int, lam: float) -> list[SearchHit]:
    """Greedy maximal marginal relevance over fused scores and passage vectors."""
    if not candidates:
        return []
    top = max(score for _, score in candidates) or 1.0
    relevance = [score / top for _, score in candidates]
    vectors = np.asarray([h.embedding for h, _ in candidates], dtype=float)
    chosen: list[int] = []
    remaining = list(range(len(candidates)))
    while remaining and len(chosen) < k:
        if chosen:
            redundancy = (vectors[remaining] @ vectors[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(remaining))
        gains = [
            lam * relevance[i] - (1 - lam) * r for i, r in zip(remaining, redundancy, strict=True)
        ]
        best = remaining[int(np.argmax(gains))]
        chosen.append(best)
        remaining.remove(best)
    return [candidates[i][0] for i in chosen]
