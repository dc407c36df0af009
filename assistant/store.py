"""The Chroma-backed chunk store, with a manifest that makes each document swap atomic.

Chroma has no multi-record transactions, so atomicity comes from indirection:

* chunks are written under their document id (the file's content hash);
* a manifest collection holds one record per source file, pointing at the
  document id that is live for it;
* queries only see chunks whose document id the manifest names.

Replacing a file therefore writes the new chunks first (invisible), flips the
manifest record in one upsert (the commit point), then deletes the old chunks.
A crash before the flip leaves the old version live; the leftovers are listed
in a pending record and removed by `recover()` on the next run.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.settings import Settings

CHUNKS = "chunks"
MANIFEST = "manifest"
# Manifest records carry no meaningful vector, but Chroma requires one.
_PLACEHOLDER_VECTOR = [1.0]
_PENDING_PREFIX = "pending:"
_SOURCE_PREFIX = "source:"


class EmbedderMismatchError(RuntimeError):
    """The index was built with another embedder; its vectors are not comparable."""


@dataclass(frozen=True)
class DocumentRecord:
    """One live document, as listed by `assistant documents`."""

    doc_id: str
    source: str
    file_name: str
    title: str
    language: str
    format: str
    pages: int
    chunks: int
    indexed_at: str

    @property
    def key(self) -> str:
        return source_key(self.source)


@dataclass(frozen=True)
class StoredChunk:
    """A chunk ready to write: text, vector and flat metadata."""

    chunk_id: str
    text: str
    embedding: list[float]
    metadata: dict[str, Any]


@dataclass(frozen=True)
class SearchHit:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    score: float  # cosine similarity, higher is closer
    # Similarity calibrated against other passages in the same language (see retrieval).
    relevance: float = 0.0
    embedding: Any = field(default=None, compare=False, repr=False)


def _where(live: list[str], where: dict[str, Any] | None) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = [{"doc_id": {"$in": live}}]
    if where:
        clauses.extend({key: value} for key, value in where.items())
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def source_key(source: str) -> str:
    return _SOURCE_PREFIX + hashlib.sha1(source.encode("utf-8")).hexdigest()


def open_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(
        path=str(settings.chroma_dir),
        settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True),
    )


class ChunkStore:
    """Chunks and the manifest of live documents in one Chroma database."""

    def __init__(self, client: Any, embedder_id: str) -> None:
        self._client = client
        self.embedder_id = embedder_id
        # Writers in one process take turns; readers never block.
        self._write_lock = threading.Lock()
        self._chunks = client.get_or_create_collection(
            CHUNKS,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": embedder_id},
        )
        self._manifest = client.get_or_create_collection(MANIFEST, embedding_function=None)
        built_with = (self._chunks.metadata or {}).get("embedder")
        if built_with != embedder_id:
            raise EmbedderMismatchError(
                f"the index was built with embedder '{built_with}', but the settings select "
                f"'{embedder_id}'. Vectors of different models cannot be compared. Either "
                f"select '{built_with}' again (ASSISTANT_EMBEDDER / --embedder), or rebuild "
                "the index with the new embedder: `assistant ingest --rebuild PATH...` "
                "(or use another --data-dir)."
            )

    @classmethod
    def open(cls, settings: Settings, embedder_id: str) -> ChunkStore:
        return cls(open_client(settings), embedder_id)

    @classmethod
    def rebuild(cls, settings: Settings, embedder_id: str) -> ChunkStore:
        """Drop every chunk and document, then open an empty store for `embedder_id`."""
        client = open_client(settings)
        for name in (CHUNKS, MANIFEST):
            if name in {c.name for c in client.list_collections()}:
                client.delete_collection(name)
        return cls(client, embedder_id)

    # -- reading ---------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        got = self._manifest.get(include=["metadatas"])
        records = [
            DocumentRecord(**meta)
            for rid, meta in zip(got["ids"], got["metadatas"], strict=True)
            if rid.startswith(_SOURCE_PREFIX)
        ]
        return sorted(records, key=lambda r: (r.title.lower(), r.source))

    def live_languages(self) -> list[str]:
        return sorted({r.language for r in self.documents()})

    def live_doc_ids(self) -> list[str]:
        return sorted({r.doc_id for r in self.documents()})

    def find_by_doc_id(self, doc_id: str) -> DocumentRecord | None:
        for record in self.documents():
            if record.doc_id == doc_id:
                return record
        return None

    def find_by_source(self, source: str) -> DocumentRecord | None:
        got = self._manifest.get(ids=[source_key(source)], include=["metadatas"])
        return DocumentRecord(**got["metadatas"][0]) if got["ids"] else None

    def chunk_count(self, doc_id: str | None = None) -> int:
        if doc_id is None:
            return self._chunks.count()
        return len(self._chunks.get(where={"doc_id": doc_id}, include=[])["ids"])

    def search(
        self, embedding: Sequence[float], k: int, where: dict[str, Any] | None = None
    ) -> list[SearchHit]:
        """Nearest chunks among live documents only, with their vectors."""
        live = self.live_doc_ids()
        if not live or k <= 0:
            return []
        res = self._chunks.query(
            query_embeddings=[list(embedding)],
            n_results=k,
            where=_where(live, where),
            include=["documents", "metadatas", "distances", "embeddings"],
        )
        return [
            SearchHit(cid, text, meta, 1.0 - dist, 1.0 - dist, vec)
            for cid, text, meta, dist, vec in zip(
                res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0],
                res["embeddings"][0], strict=True,
            )
        ]

    def live_chunks(self) -> list[SearchHit]:
        """Every chunk of the live documents (text and metadata, no vectors), score 0."""
        live = self.live_doc_ids()
        if not live:
            return []
        got = self._chunks.get(where=_where(live, None), include=["documents", "metadatas"])
        return [
            SearchHit(cid, text, meta, 0.0)
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def embeddings(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        if not chunk_ids:
            return {}
        got = self._chunks.get(ids=list(chunk_ids), include=["embeddings"])
        return {cid: list(vec) for cid, vec in zip(got["ids"], got["embeddings"], strict=True)}

    # -- writing ---------------------------------------------------------------

    def replace_document(self, record: DocumentRecord, chunks: Sequence[StoredChunk]) -> None:
        """Make `record` with `chunks` the live version of its source, atomically."""
        with self._write_lock:
            previous = self.find_by_source(record.source)
            replaced = previous.doc_id if previous and previous.doc_id != record.doc_id else ""
            pending_id = _PENDING_PREFIX + record.doc_id
            self._manifest.upsert(
                ids=[pending_id],
                embeddings=[_PLACEHOLDER_VECTOR],
                metadatas=[{"doc_id": record.doc_id, "replaces": replaced}],
            )
            live = self.find_by_doc_id(record.doc_id) is not None
            if not live:
                # Leftovers of an interrupted write of this content: start afresh.
                self._chunks.delete(where={"doc_id": record.doc_id})
            batch = max(1, min(self._client.get_max_batch_size(), 1000))
            for start in range(0, len(chunks), batch):
                part = chunks[start : start + batch]
                # Upsert, not add: re-indexing content that is live overwrites its chunks
                # in place, so readers never see the document without chunks.
                self._chunks.upsert(
                    ids=[c.chunk_id for c in part],
                    documents=[c.text for c in part],
                    embeddings=[c.embedding for c in part],
                    metadatas=[c.metadata for c in part],
                )
            if live:
                # A re-index that made fewer chunks: drop the ones past the new end.
                keep = {c.chunk_id for c in chunks}
                got = self._chunks.get(where={"doc_id": record.doc_id}, include=[])
                extra = [cid for cid in got["ids"] if cid not in keep]
                if extra:
                    self._chunks.delete(ids=extra)
            # The commit point: one upsert makes the new version live.
            self._manifest.upsert(
                ids=[record.key],
                embeddings=[_PLACEHOLDER_VECTOR],
                metadatas=[asdict(record)],
            )
            if replaced and self.find_by_doc_id(replaced) is None:
                self._chunks.delete(where={"doc_id": replaced})
            self._manifest.delete(ids=[pending_id])

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document and all its chunks. Returns False if it was not live."""
        with self._write_lock:
            records = [r for r in self.documents() if r.doc_id == doc_id]
            if not records:
                return False
            self._manifest.delete(ids=[r.key for r in records])
            self._chunks.delete(where={"doc_id": doc_id})
            return True

    def recover(self) -> int:
        """Remove chunks left by an interrupted write. Returns how many were removed."""
        with self._write_lock:
            got = self._manifest.get(include=["metadatas"])
            pending = [
                (rid, meta)
                for rid, meta in zip(got["ids"], got["metadatas"], strict=True)
                if rid.startswith(_PENDING_PREFIX)
            ]
            if not pending:
                return 0
            live = set(self.live_doc_ids())
            removed = 0
            for rid, meta in pending:
                for doc_id in (meta.get("doc_id", ""), meta.get("replaces", "")):
                    if doc_id and doc_id not in live:
                        removed += self.chunk_count(doc_id)
                        self._chunks.delete(where={"doc_id": doc_id})
                self._manifest.delete(ids=[rid])
            return removed
