"""Find the passages for a question: dense and lexical search, fused, diversified.

* Dense: multilingual embedders score a passage in the question's own language
  higher than an equally relevant passage in another language (with
  multilingual-e5 the gap is often larger than the gap between relevant and
  unrelated). So each language is searched on its own, and a passage's
  relevance is its similarity minus the median similarity of the best
  passages in its language: what stands out within its language ranks first.
  The search is exact, over the live chunks' vectors held in memory
  (`assistant.live`), one matrix per language.
* Lexical: BM25 over stemmed terms (`assistant.lexical`). It catches exact
  names and numbers that embeddings blur. A question's words are joined by
  their counterparts in the other languages of the index, learnt from the
  indexed documents (`assistant.bridge`).
* Reciprocal-rank fusion of the two lists, then maximal marginal relevance so
  that near-identical passages do not fill the answer.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.bridge import TermBridge
from assistant.lexical import (
    SUBJECT_SHARE,
    BM25Index,
    LexicalDoc,
    TermShares,
    analyse,
    analysed_counts,
    term_counts,
)
from assistant.live import LiveSnapshot
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
    "4.1", "Resultados" and "methods" all work.
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
        self._lexical = BM25Index(())
        self._lexical_lock = threading.Lock()
        self.term_shares = TermShares()
        identity = re.sub(r"[^\w.-]+", "_", str(getattr(embedder, "identity", "embedder")))
        self.bridge = TermBridge(
            embedder, settings.bridge_min_score,
            Path(settings.data_dir) / "term-vectors" / f"{identity}.npz",
        )

    def _lexical_index(self, live: LiveSnapshot) -> BM25Index:
        """The BM25 index, brought up to the live documents: only the documents that
        came or went since the last question are analysed or dropped."""
        with self._lexical_lock:
            have = self._lexical.groups()
            for key in have - live.versions.keys():
                self._lexical.remove(key)
                self.bridge.remove(key)
                self.term_shares.remove(key)
            # Sorted: equal BM25 scores rank in the order chunks were added, and set order
            # would differ from one process to the next.
            for key in sorted(live.versions.keys() - have):
                docs = [
                    LexicalDoc(cid, _lexical_text(live.chunks[cid]),
                               str(live.chunks[cid].metadata.get("language", "en")))
                    for cid in live.versions[key]
                ]
                # Analysed once for both: on a long document analysis is most of the cost.
                counted = [analysed_counts(d.text, d.language) for d in docs]
                terms = [term_counts(c) for c in counted]
                self._lexical.add_counted(key, [d.chunk_id for d in docs], terms)
                self.term_shares.add(key, [(d.language, t) for d, t in zip(docs, terms,
                                                                          strict=True)])
                self.bridge.add_counted(key, [(d.language, c) for d, c in zip(docs, counted,
                                                                               strict=True)])
            return self._lexical

    def term_links(self, question: str, language: str) -> dict[str, dict[str, str]]:
        """The question's terms linked to their counterparts in the other languages of
        the live documents (see `assistant.bridge`)."""
        self._lexical_index(self.store.live())
        return self.bridge.links(question, language)

    def current_term_shares(self) -> TermShares:
        """The share of each term's chunks per language (see `TermShares`), brought up to
        the live documents."""
        self._lexical_index(self.store.live())
        return self.term_shares

    def warm_up(self) -> None:
        """Load the live documents and build the lexical index now rather than at the
        first question (the web app does this while it starts)."""
        live = self.store.live()
        if self.settings.retrieval != "dense":
            self._lexical_index(live)
            self.bridge.prepare()

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
        live = self.store.live()
        query = np.asarray(vector, dtype=np.float32)
        query /= float(np.linalg.norm(query)) or 1.0
        dense, baselines = self._dense(query, filters, live)
        lexical: list[SearchHit] = []
        if mode != "dense":
            lexical = self._lexical_hits(question, question_language, filters, live)
        if mode == "dense":
            fused = [(h, 1.0 / (RRF_K + r)) for r, h in enumerate(dense, 1)]
        elif mode == "lexical":
            fused = [(h, 1.0 / (RRF_K + r)) for r, h in enumerate(lexical, 1)]
        else:
            fused = _rrf(
                [(dense, self.settings.dense_weight), (lexical, self.settings.lexical_weight)]
            )
        candidates = self._complete(fused[: max(3 * k, 15)], query, baselines, live)
        return vector, _mmr(candidates, k, self.settings.mmr_lambda)

    def _dense(
        self, query: np.ndarray, filters: RetrievalFilter, live: LiveSnapshot
    ) -> tuple[list[SearchHit], dict[str, float]]:
        """The best `CALIBRATION_POOL` live passages of each language, by relevance
        (`query`: the question's unit vector)."""
        languages = [filters.language] if filters.language else live.languages
        pooled: list[SearchHit] = []
        baselines: dict[str, float] = {}
        for language in languages:
            rows = live.language_vectors.get(language)
            found = rows.nearest(query, CALIBRATION_POOL) if rows else []
            if not found:
                continue
            baselines[language] = statistics.median(sim for _, sim, _ in found)
            pooled.extend(
                dataclasses.replace(live.chunks[cid], score=sim,
                                    relevance=sim - baselines[language], embedding=vec)
                for cid, sim, vec in found
                if filters.accepts(live.chunks[cid].metadata)
            )
        pooled.sort(key=lambda h: h.relevance, reverse=True)
        return pooled, baselines

    def _lexical_hits(
        self, question: str, language: str, filters: RetrievalFilter, live: LiveSnapshot
    ) -> list[SearchHit]:
        index = self._lexical_index(live)
        found = index.search(
            question,
            language,
            LEXICAL_POOL,
            allowed=lambda cid: cid in live.chunks and filters.accepts(live.chunks[cid].metadata),
            expansions=self.bridge.expansions(question, language, self.settings.bridge_weight),
            term_weights=self._subject_weights(question, language),
        )
        return [live.chunks[cid] for cid, _ in found]

    def _subject_weights(self, question: str, language: str) -> dict[str, float]:
        """The question's terms that most chunks of its language hold ("heat" asked of
        a report on heat) count for less: they find every passage, and outweigh
        the one word that tells the passages apart."""
        weight = self.settings.subject_weight
        return {t: weight for t in analyse(question, language)
                if self.term_shares.share(t, language) >= SUBJECT_SHARE}

    def _complete(
        self,
        fused: Sequence[tuple[SearchHit, float]],
        query: np.ndarray,
        baselines: dict[str, float],
        live: LiveSnapshot,
    ) -> list[tuple[SearchHit, float]]:
        """Give lexical-only hits their vector, similarity and calibrated relevance."""
        out = []
        for hit, score in fused:
            if hit.embedding is None:
                emb = live.vector(hit.chunk_id)
                if emb is None:
                    continue
                sim = float(emb @ query)
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
