"""An in-memory view of the live documents: their chunks and vectors, kept up to date cheaply.

Every question needs the live documents, the text, metadata and vector of
the chunks it weighs, and the best passages of each language. Chroma answers
the last with a query filtered to the live documents and one language, which
costs 20–150 ms at 10k–50k chunks (the filter runs in SQLite before the vector
search), and reading the manifest costs 4–20 ms. So the live chunks are read
once and kept, with their vectors in one matrix per language: an exact search
of 10k vectors is a matrix-vector product of well under a millisecond.

Writers change a generation marker in the manifest after every change to the
live set (`ChunkStore`), and a question first reads that one record (~0.5 ms).
When it changed, only the documents that came or went are loaded or dropped.
Order makes this safe without locks across processes: a writer changes the
manifest first and the marker after; the view reads the marker first and the
manifest after. A view can therefore hold a newer manifest than its marker says
(it reloads next time), never an older one.

The cost is memory: each process holds the live chunks' text and vectors
(about 1.5 KB of vector and 1 KB of text per chunk with multilingual-e5-small).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from assistant.store import ChunkStore, DocumentRecord, SearchHit

# Documents are loaded in batches of about this many chunks (one Chroma read each).
LOAD_BATCH_CHUNKS = 5000


def version_key(record: DocumentRecord) -> str:
    """Names one indexed version of a document: its content and when it was indexed
    (re-indexing the same content with other chunk settings gives other chunks)."""
    return f"{record.doc_id}@{record.indexed_at}"


@dataclass(frozen=True)
class LanguageVectors:
    """The unit vectors of one language's live chunks, one row per chunk id."""

    ids: tuple[str, ...]
    matrix: np.ndarray  # (len(ids), dim), float32

    def nearest(self, query: np.ndarray, n: int) -> list[tuple[str, float, np.ndarray]]:
        """(chunk id, cosine similarity, vector) of the `n` nearest rows, best first."""
        if not self.ids or n <= 0:
            return []
        # einsum, not `@`: a BLAS product this size starts OpenBLAS's threads, which then
        # spin for a while and slow the next question's embedding 2-10x on two cores.
        sims = np.einsum("ij,j->i", self.matrix, query)
        top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
        # Ties by row: the same index answers the same way in every process.
        top = top[np.lexsort((top, -sims[top]))]
        return [(self.ids[i], float(sims[i]), self.matrix[i]) for i in top]


@dataclass(frozen=True)
class LiveSnapshot:
    """The live documents and all their chunks (text, metadata and vectors)."""

    records: tuple[DocumentRecord, ...]
    chunks: dict[str, SearchHit]  # without vectors: see `vector` and `languages_vectors`
    # version key -> chunk ids of that document, in document order
    versions: dict[str, tuple[str, ...]]
    # None when some document could not be read whole: the next question reloads.
    generation: str | None
    language_vectors: dict[str, LanguageVectors] = field(default_factory=dict)
    _rows: dict[str, tuple[str, int]] = field(default_factory=dict, repr=False)

    @property
    def doc_ids(self) -> list[str]:
        return sorted({r.doc_id for r in self.records})

    @property
    def languages(self) -> list[str]:
        return sorted({r.language for r in self.records})

    def __len__(self) -> int:
        return len(self.chunks)

    def document_chunks(self, doc_id: str) -> list[SearchHit]:
        """One live document's chunks in document order, from memory (none when the
        document is not live)."""
        for record in self.records:
            if record.doc_id == doc_id:
                return [self.chunks[c] for c in self.versions.get(version_key(record), ())
                        if c in self.chunks]
        return []

    def vector(self, chunk_id: str) -> np.ndarray | None:
        found = self._rows.get(chunk_id)
        if found is None:
            return None
        language, row = found
        return self.language_vectors[language].matrix[row]


def _with_indexes(
    records: tuple[DocumentRecord, ...],
    chunks: dict[str, SearchHit],
    versions: dict[str, tuple[str, ...]],
    vectors: dict[str, np.ndarray],
    generation: str | None,
) -> LiveSnapshot:
    """The snapshot with one vector matrix per chunk language, from each version's vectors
    (`vectors`, row for row with `versions`). Rebuilt per change: tens of milliseconds at
    50k chunks, against a question's search of about one."""
    ids: dict[str, list[str]] = defaultdict(list)
    blocks: dict[str, list[np.ndarray]] = defaultdict(list)
    for key in sorted(versions):
        languages = np.asarray([str(chunks[c].metadata.get("language", "")) for c in versions[key]])
        for language in sorted(set(languages.tolist())):
            mask = languages == language
            ids[language].extend(c for c, m in zip(versions[key], mask, strict=True) if m)
            blocks[language].append(vectors[key][mask])
    language_vectors = {
        lang: LanguageVectors(tuple(ids[lang]), np.concatenate(blocks[lang]))
        for lang in ids
    }
    rows = {cid: (lang, i) for lang, lv in language_vectors.items() for i, cid in enumerate(lv.ids)}
    return LiveSnapshot(records, chunks, versions, generation, language_vectors, rows)


EMPTY = LiveSnapshot((), {}, {}, None)


class LiveView:
    """The current `LiveSnapshot` of one store; safe to share between threads."""

    def __init__(self, store: ChunkStore) -> None:
        self.store = store
        self._snapshot = EMPTY
        self._lock = threading.Lock()

    def current(self) -> LiveSnapshot:
        generation = self.store.generation()
        snapshot = self._snapshot
        if generation is not None and snapshot.generation == generation:
            return snapshot
        with self._lock:
            if self._snapshot.generation == generation and generation is not None:
                return self._snapshot
            self._snapshot = self._refresh(self._snapshot, generation)
            return self._snapshot

    def _refresh(self, old: LiveSnapshot, generation: str | None) -> LiveSnapshot:
        self.store.follow(generation)
        records = tuple(self.store.documents())
        wanted: dict[str, DocumentRecord] = {}
        for record in records:
            # The same content listed twice (possible through the Python API) is one version.
            wanted.setdefault(version_key(record), record)
        versions = {key: ids for key, ids in old.versions.items() if key in wanted}
        # Taken back out of the old matrices: the snapshot keeps each vector once.
        vectors = {key: _matrix([old.vector(c) for c in ids])  # type: ignore[misc]
                   for key, ids in versions.items()}
        chunks = {cid: old.chunks[cid] for ids in versions.values() for cid in ids}
        complete = True
        missing = [r for key, r in wanted.items() if key not in versions]
        for batch in _batches(missing):
            loaded = self.store.chunks_of([r.doc_id for r in batch], vectors=True)
            for record in batch:
                hits = sorted(loaded.get(record.doc_id, []),
                              key=lambda h: int(h.metadata.get("chunk_index", 0)))
                if len(hits) != record.chunks:
                    # Being replaced or deleted while read: leave it out this time.
                    complete = False
                    continue
                key = version_key(record)
                versions[key] = tuple(h.chunk_id for h in hits)
                vectors[key] = _unit_rows([h.embedding for h in hits])
                chunks.update((h.chunk_id, dataclasses.replace(h, embedding=None)) for h in hits)
        live_keys = set(versions)
        return _with_indexes(
            tuple(r for r in records if version_key(r) in live_keys),
            chunks, versions, vectors, generation if complete else None,
        )


def _matrix(rows: Sequence[Sequence[float]]) -> np.ndarray:
    if not len(rows):
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(rows, dtype=np.float32)


def _unit_rows(rows: Sequence[Sequence[float]]) -> np.ndarray:
    matrix = _matrix(rows)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def _batches(records: Sequence[DocumentRecord]) -> list[list[DocumentRecord]]:
    out: list[list[DocumentRecord]] = []
    size = 0
    for record in records:
        if not out or size + record.chunks > LOAD_BATCH_CHUNKS:
            out.append([])
            size = 0
        out[-1].append(record)
        size += record.chunks
    return out
