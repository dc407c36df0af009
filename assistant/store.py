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

import errno
import hashlib
import os
import socket
import threading
import time
import uuid
import weakref
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.live import LiveSnapshot, LiveView
from assistant.settings import Settings

CHUNKS = "chunks"
MANIFEST = "manifest"
# Manifest records carry no meaningful vector, but Chroma requires one.
_PLACEHOLDER_VECTOR = [1.0]
_PENDING_PREFIX = "pending:"
LIVE_CHUNKS_PAGE = 5000
_SOURCE_PREFIX = "source:"
# Changed by every write that changes the live set; readers keep what they loaded
# until it changes (see `assistant.live`).
_GENERATION_ID = "generation"
# A pending record names its writer, so that `recover()` in another store (the web app's
# upload next to an `assistant ingest`) leaves a write that is still running alone.
# A writer that cannot be checked (another host on a shared server) counts as dead once
# its record is this old: one document's writes take seconds to minutes, not hours.
_STALE_PENDING_S = 3600.0
_IN_FLIGHT: Counter[str] = Counter()  # pending ids being written by this process
_IN_FLIGHT_LOCK = threading.Lock()


class EmbedderMismatchError(RuntimeError):
    """The index was built with another embedder; its vectors are not comparable."""


class LowSpaceError(OSError):
    """Too little free space in the index folder to begin a write."""

    def __init__(self, free: int) -> None:
        super().__init__(
            errno.ENOSPC,
            f"{free // 1024} kB free, and writing to the index needs at least "
            f"{MIN_FREE_BYTES // 2**20} MB",
        )
        self.free = free


class ChromaServerUnavailableError(ValueError):
    """The Chroma server the settings name cannot be used (not running, wrong address).

    A ValueError because, seen from the command line, it is a settings problem: the
    CLI prints those as one line instead of a traceback.
    """


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
    # How its text was read and cut (`ingest.pipeline.chunking_identity`); empty for a
    # document indexed before this was recorded.
    chunking: str = ""

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
    chunk_id: str  # see `chunk_id`
    text: str
    metadata: dict[str, Any]
    score: float  # cosine similarity, higher is closer
    # Similarity calibrated against other passages in the same language (see retrieval).
    relevance: float = 0.0
    embedding: Any = field(default=None, compare=False, repr=False)


def chunk_id(doc_id: str, index: int) -> str:
    """A chunk's id: its document and its place in it."""
    return f"{doc_id}:{index:05d}"


def _where(live: list[str], where: dict[str, Any] | None) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = [{"doc_id": {"$in": live}}]
    if where:
        clauses.extend({key: value} for key, value in where.items())
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _records(got: Mapping[str, Any]) -> list[DocumentRecord]:
    """The document records of a manifest read (pending records and the marker left out)."""
    return [
        DocumentRecord(**meta)
        for rid, meta in zip(got["ids"], got["metadatas"], strict=True)
        if rid.startswith(_SOURCE_PREFIX)
    ]


def source_key(source: str) -> str:
    return _SOURCE_PREFIX + hashlib.sha1(source.encode("utf-8")).hexdigest()


def _chroma_settings(**server: Any) -> Any:
    from chromadb.config import Settings as ChromaSettings

    # A fresh object for every client: HttpClient writes its host and port into the
    # one it is given and then refuses to reuse it for another address.
    return ChromaSettings(anonymized_telemetry=False, allow_reset=True, **server)


def open_client(settings: Settings) -> Any:
    """The Chroma client the settings select: a local folder, or a shared server."""

    if settings.chroma_mode == "embedded":
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return _persistent_client(settings.chroma_dir)
    if settings.chroma_mode == "server":
        return _open_server_client(settings)
    raise ValueError(
        f"unknown chroma_mode '{settings.chroma_mode}': use 'embedded' (an index folder in "
        "data_dir) or 'server' (a Chroma server at chroma_host:chroma_port)"
    )


# Chroma sets up the shared state of an index folder unguarded: two threads opening the
# same folder at once can get a half-started client (KeyError or missing attributes).
_CLIENT_LOCK = threading.Lock()


def _persistent_client(path: Path) -> Any:
    import chromadb

    with _CLIENT_LOCK:
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def _open_server_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.errors import NotFoundError

    # Both forms Chroma's token auth accepts: a proxy or `chroma run` configured for
    # bearer tokens reads the first, Chroma Cloud the second.
    token = settings.chroma_token
    headers = {"Authorization": f"Bearer {token}", "X-Chroma-Token": token} if token else None

    def connect() -> Any:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl,
            headers=headers, settings=_chroma_settings(), tenant=settings.chroma_tenant,
            database=settings.chroma_database,
        )

    try:
        return connect()
    except NotFoundError:
        pass  # the database does not exist yet
    except ValueError as err:
        # chromadb reports an unreachable server (and HTTP errors from a proxy in front
        # of it) as a bare ValueError that names neither the address nor a remedy.
        raise ChromaServerUnavailableError(_unavailable_message(settings, err)) from err
    # Like the embedded index folder, a named database is made on first use.
    _create_database(settings, headers)
    return connect()


def _unavailable_message(settings: Settings, err: Exception) -> str:
    scheme = "https" if settings.chroma_ssl else "http"
    address = f"{scheme}://{settings.chroma_host}:{settings.chroma_port}"
    reason = _first_message(err)
    if _never_answered(err):
        return (
            f"cannot reach the Chroma server at {address} ({reason}). Start one with "
            f"`chroma run --path DIR --host {settings.chroma_host} --port "
            f"{settings.chroma_port}` (DIR keeps the index), point ASSISTANT_CHROMA_HOST / "
            "ASSISTANT_CHROMA_PORT (--chroma-host / --chroma-port) at a running server, or "
            "use a local index with ASSISTANT_CHROMA_MODE=embedded."
        )
    # Something answered, but not as Chroma does. Chroma itself checks no token, so a
    # 401 or 403 comes from a proxy in front of it.
    return (
        f"the server at {address} answered with an error ({reason}). Check that it is a "
        "Chroma server, and ASSISTANT_CHROMA_TOKEN (a proxy in front of Chroma may require "
        "it) and ASSISTANT_CHROMA_SSL."
    )


def _chain(err: BaseException) -> list[BaseException]:
    """The error and the ones it was raised from or while handling, oldest last."""
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _first_message(err: BaseException) -> str:
    # chromadb's own error is often empty (e.g. for a proxy's bare 401); the one it
    # was raised while handling usually says more.
    chain = _chain(err)
    for e in chain:
        if text := " ".join(str(e).split()):
            return text
    return type(chain[-1]).__name__


def _never_answered(err: BaseException) -> bool:
    """Whether the error chain holds a transport failure (no HTTP answer at all).

    chromadb replaces those with a bare ValueError but raises it while handling the
    original, which stays reachable as the exception context.
    """
    import httpx

    return any(isinstance(e, httpx.TransportError) for e in _chain(err))


def _create_database(settings: Settings, headers: dict[str, str] | None) -> None:
    import chromadb
    from chromadb.errors import ChromaError

    admin = chromadb.AdminClient(_chroma_settings(
        chroma_api_impl="chromadb.api.fastapi.FastAPI",
        chroma_server_host=settings.chroma_host,
        chroma_server_http_port=settings.chroma_port,
        chroma_server_ssl_enabled=settings.chroma_ssl,
        chroma_server_headers=headers,
    ))
    try:
        admin.create_database(settings.chroma_database, tenant=settings.chroma_tenant)
    except ChromaError as err:
        # Another app process may have created it a moment ago; that is fine.
        if "already exists" not in str(err):
            raise ValueError(
                f"the Chroma server has no database '{settings.chroma_database}' in tenant "
                f"'{settings.chroma_tenant}' and could not create it: {err}"
            ) from err


class _EmbeddedIndex:
    """What the stores of one embedded index in this process share.

    Chroma's embedded client keeps its vector segment in memory and does not see what
    another process adds later: reading the new chunks' vectors then fails ("Error
    finding id"), while the manifest, in SQLite, already lists them. So when the live set
    changed and this process did not change it (`assistant ingest` next to the web app),
    the index is opened again. Writes from a client opened earlier are not lost (Chroma
    logs them to SQLite); only its reads are stale.
    """

    def __init__(self, path: Path, generation: str | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.stores: weakref.WeakSet[ChunkStore] = weakref.WeakSet()
        # The live set as this process's client last saw it (opened, or wrote it itself).
        self.seen = generation

    def reopen(self, store: ChunkStore, generation: str | None) -> None:
        """Open the index again, unless that happened since `generation` was read (None:
        in any case)."""
        from chromadb.api.shared_system_client import SharedSystemClient

        with self.lock:
            if generation is not None and generation == self.seen:
                return
            # Read before opening: the client opened after holds at least this live set.
            current = store.generation() if generation is None else generation
            # Not stopped: a question that is reading through it right now finishes.
            key = str(self.path)
            SharedSystemClient._identifier_to_system.pop(key, None)  # noqa: SLF001
            SharedSystemClient._identifier_to_refcount.pop(key, None)  # noqa: SLF001
            client = _persistent_client(self.path)
            for other in list(self.stores):
                other._bind(client)  # noqa: SLF001
            self.seen = current


_EMBEDDED: dict[Path, _EmbeddedIndex] = {}
_EMBEDDED_LOCK = threading.Lock()


class ChunkStore:
    """Chunks and the manifest of live documents in one Chroma database."""

    def __init__(self, client: Any, embedder_id: str, data_dir: Path | None = None) -> None:
        self.embedder_id = embedder_id
        # The folder of an embedded index: writes check its free space first.
        self.data_dir = data_dir
        # Writers in one process take turns; readers never block.
        self._write_lock = threading.Lock()
        self._bind(client)
        self._embedded: _EmbeddedIndex | None = None
        if data_dir is not None:
            with _EMBEDDED_LOCK:
                shared = _EMBEDDED.get(data_dir)
                if shared is None:
                    shared = _EMBEDDED[data_dir] = _EmbeddedIndex(data_dir, self.generation())
                shared.stores.add(self)
            self._embedded = shared
        self._view: LiveView | None = None
        self._listed: tuple[str | None, list[DocumentRecord]] = (None, [])
        built_with = (self._chunks.metadata or {}).get("embedder")
        if built_with != embedder_id:
            raise EmbedderMismatchError(
                f"the index was built with embedder '{built_with}', but the settings select "
                f"'{embedder_id}'. Vectors of different models cannot be compared. Either "
                f"select '{built_with}' again (ASSISTANT_EMBEDDER / --embedder), or rebuild "
                "the index with the new embedder: `assistant ingest --rebuild PATH...` "
                "(or use another --data-dir)."
            )

    def _bind(self, client: Any) -> None:
        self._client = client
        self._chunks = client.get_or_create_collection(
            CHUNKS,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": self.embedder_id},
        )
        self._manifest = client.get_or_create_collection(MANIFEST, embedding_function=None)

    def follow(self, generation: str | None) -> None:
        """Before reading the live set at `generation`: see what other processes wrote."""
        shared = self._embedded
        if shared is not None and generation is not None and generation != shared.seen:
            shared.reopen(self, generation)

    @classmethod
    def open(cls, settings: Settings, embedder_id: str) -> ChunkStore:
        return cls(open_client(settings), embedder_id, _local_folder(settings))

    @classmethod
    def rebuild(cls, settings: Settings, embedder_id: str) -> ChunkStore:
        """Drop every chunk and document, then open an empty store for `embedder_id`."""
        client = open_client(settings)
        for name in (CHUNKS, MANIFEST):
            if name in {c.name for c in client.list_collections()}:
                client.delete_collection(name)
        return cls(client, embedder_id, _local_folder(settings))

    # -- reading ---------------------------------------------------------------

    def documents(self) -> list[DocumentRecord]:
        records = _records(self._manifest.get(include=["metadatas"]))
        return sorted(records, key=lambda r: (r.title.lower(), r.source))

    def generation(self) -> str | None:
        """The marker writers change with the live set; None in an index that has none yet."""
        got = self._manifest.get(ids=[_GENERATION_ID], include=["metadatas"])
        return str(got["metadatas"][0].get("value")) if got["ids"] else None

    def listed_documents(self) -> list[DocumentRecord]:
        """`documents()`, read again only after the generation marker changed (the web UI
        lists documents several times per click; one marker read costs ~0.5 ms)."""
        generation = self.generation()  # before the manifest: see `assistant.live`
        cached_generation, cached = self._listed
        if generation is not None and generation == cached_generation:
            return list(cached)
        records = self.documents()
        self._listed = (generation, records)
        return list(records)

    def live(self) -> LiveSnapshot:
        """The live documents and their chunks, read again only after a change."""
        if self._view is None:
            self._view = LiveView(self)
        return self._view.current()

    def live_languages(self) -> list[str]:
        return sorted({r.language for r in self.documents()})

    def live_doc_ids(self) -> list[str]:
        return sorted({r.doc_id for r in self.documents()})

    def find_by_doc_id(self, doc_id: str) -> DocumentRecord | None:
        records = _records(self._manifest.get(where={"doc_id": doc_id}, include=["metadatas"]))
        return min(records, key=lambda r: r.source) if records else None

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
        """Nearest chunks among live documents only, with their vectors. Slow on a large
        index (the filter runs before the vector search): questions use `assistant.live`."""
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

    def chunks_of(
        self, doc_ids: Sequence[str], vectors: bool = False
    ) -> dict[str, list[SearchHit]]:
        """The chunks of these documents (text and metadata; with `vectors`, their vectors
        too), by document id."""
        out: dict[str, list[SearchHit]] = {d: [] for d in doc_ids}
        if not doc_ids:
            return out
        where = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}
        include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
        read = 0
        # In pages: one get() of every chunk fails past ~32,000 chunks (SQLite's limit on
        # the variables of one statement).
        while True:
            try:
                got = self._chunks.get(where=where, include=include, limit=LIVE_CHUNKS_PAGE,
                                       offset=read)
            except Exception as err:
                if self._embedded is None or "finding id" not in str(err):
                    raise
                # Vectors another process wrote that this client has not seen: see
                # `_EmbeddedIndex`. Opened again, the index has them.
                self._embedded.reopen(self, None)
                got = self._chunks.get(where=where, include=include, limit=LIVE_CHUNKS_PAGE,
                                       offset=read)
            read += len(got["ids"])
            embeddings = got["embeddings"] if vectors else [None] * len(got["ids"])
            for cid, text, meta, vec in zip(got["ids"], got["documents"], got["metadatas"],
                                            embeddings, strict=True):
                out.setdefault(str(meta.get("doc_id", "")), []).append(
                    SearchHit(cid, text, meta, 0.0, embedding=vec)
                )
            if len(got["ids"]) < LIVE_CHUNKS_PAGE:
                return out

    def document_chunks(self, doc_id: str) -> list[SearchHit]:
        """One document's chunks in document order (text and metadata, no vectors)."""
        hits = self.chunks_of([doc_id])[doc_id]
        return sorted(hits, key=lambda h: int(h.metadata.get("chunk_index", 0)))

    def next_chunk(self, hit: SearchHit) -> SearchHit | None:
        """The passage that follows `hit` in its document, if there is one."""
        doc_id, index = hit.metadata.get("doc_id"), hit.metadata.get("chunk_index")
        if not doc_id or index is None:
            return None
        got = self._chunks.get(ids=[chunk_id(str(doc_id), int(index) + 1)],
                               include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return SearchHit(got["ids"][0], got["documents"][0], dict(got["metadatas"][0]), 0.0)

    def live_chunks(self) -> list[SearchHit]:
        """Every chunk of the live documents (text and metadata, no vectors), score 0."""
        return list(self.live().chunks.values())

    def embeddings(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        if not chunk_ids:
            return {}
        got = self._chunks.get(ids=list(chunk_ids), include=["embeddings"])
        return {cid: list(vec) for cid, vec in zip(got["ids"], got["embeddings"], strict=True)}

    # -- writing ---------------------------------------------------------------

    def replace_document(self, record: DocumentRecord, chunks: Sequence[StoredChunk]) -> None:
        """Make `record` with `chunks` the live version of its source, atomically."""
        with self._write_lock, _in_flight(_PENDING_PREFIX + record.doc_id):
            self.check_room()
            previous = self.find_by_source(record.source)
            replaced = previous.doc_id if previous and previous.doc_id != record.doc_id else ""
            pending_id = _PENDING_PREFIX + record.doc_id
            self._manifest.upsert(
                ids=[pending_id],
                embeddings=[_PLACEHOLDER_VECTOR],
                metadatas=[{"doc_id": record.doc_id, "replaces": replaced, **_writer()}],
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
            self._bump_generation()
            if replaced and self.find_by_doc_id(replaced) is None:
                self._chunks.delete(where={"doc_id": replaced})
            self._manifest.delete(ids=[pending_id])

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document and all its chunks. Returns False if it was not live."""
        with self._write_lock:
            records = [r for r in self.documents() if r.doc_id == doc_id]
            if not records:
                return False
            self.check_room()
            self._manifest.delete(ids=[r.key for r in records])
            self._bump_generation()
            self._chunks.delete(where={"doc_id": doc_id})
            return True

    def check_room(self) -> None:
        """Raise OSError(ENOSPC) when the index folder has too little space to write in.

        Chroma 1.5 does not always fail a write that runs out of space: in about one
        run in four of our full-disk tests it hung for good inside the write. So a
        write is not begun with less than `MIN_FREE_BYTES` free.
        """
        if self.data_dir is None:
            return
        fs = _file_system(self.data_dir)
        if fs is None:
            return
        free = fs.f_bavail * fs.f_frsize
        if free < MIN_FREE_BYTES:
            raise LowSpaceError(free)

    def _bump_generation(self) -> None:
        # After the manifest change, never before: see `assistant.live`.
        before = self.generation() if self._embedded is not None else None
        value = uuid.uuid4().hex
        self._manifest.upsert(
            ids=[_GENERATION_ID],
            embeddings=[_PLACEHOLDER_VECTOR],
            metadatas=[{"value": value}],
        )
        if self._embedded is not None and before == self._embedded.seen:
            # No other process wrote since this one's client last caught up: it holds the
            # new live set. (Had one written in the instant between, the read of its chunks
            # fails and `chunks_of` catches up then.)
            self._embedded.seen = value

    def recover(self) -> int:
        """Remove chunks left by an interrupted write. Returns how many were removed."""
        with self._write_lock:
            got = self._manifest.get(include=["metadatas"])
            pending = [
                (rid, meta)
                for rid, meta in zip(got["ids"], got["metadatas"], strict=True)
                if rid.startswith(_PENDING_PREFIX)
            ]
            # An index from before the marker has none (readers then read the manifest on
            # every question). A writer killed between its flip and the marker leaves readers
            # in other processes on the old version: a dead write changes the marker too.
            stale_marker = _GENERATION_ID not in got["ids"]
            if pending or stale_marker:
                self.check_room()
            live = set(self.live_doc_ids()) if pending else set()
            removed = 0
            for rid, meta in pending:
                if _writer_alive(rid, meta):
                    continue  # not leftovers: another store is writing them right now
                stale_marker = True
                for doc_id in (meta.get("doc_id", ""), meta.get("replaces", "")):
                    if doc_id and doc_id not in live:
                        removed += self.chunk_count(doc_id)
                        self._chunks.delete(where={"doc_id": doc_id})
                self._manifest.delete(ids=[rid])
            if stale_marker:
                self._bump_generation()
            return removed


@contextmanager
def _in_flight(pending_id: str) -> Iterator[None]:
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT[pending_id] += 1
    try:
        yield
    finally:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT[pending_id] -= 1


def _writer() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}


def _writer_alive(pending_id: str, meta: Mapping[str, Any]) -> bool:
    """Whether the write a pending record announces may still be running."""
    if "pid" not in meta or time.time() - float(meta.get("started", 0.0)) > _STALE_PENDING_S:
        return False
    if meta.get("host") != socket.gethostname():
        return True
    pid = int(meta["pid"])
    if pid == os.getpid():
        # This process: a store of its own may be writing (or a killed process had our pid).
        with _IN_FLIGHT_LOCK:
            return _IN_FLIGHT[pending_id] > 0
    if os.name != "posix":
        return True  # no harmless liveness probe (os.kill(pid, 0) would signal on Windows)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, under another user
    return True


# Chroma reports some out-of-space failures only as e.g. "Failed to apply logs to the
# metadata segment"; with less free space than this, such a failure is put down to it.
_NEARLY_FULL_BYTES = 16 * 1024 * 1024
# Below this, writes are refused before they begin (see `ChunkStore.check_room`).
MIN_FREE_BYTES = _NEARLY_FULL_BYTES
_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_REMEDY = "or choose another folder with --data-dir (ASSISTANT_DATA_DIR)"


def storage_problem(err: BaseException, settings: Settings) -> str | None:
    """What is wrong with the data folder's storage, in one line, when `err` comes from it
    (full, read-only, not writable); None for any other error."""
    if settings.chroma_mode != "embedded":
        return None  # the server's disk: its own error says more than we could
    data_dir = settings.data_dir
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and all(current is not e for e in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    words = " ".join(str(e) for e in chain).lower()
    errnos = {e.errno for e in chain if isinstance(e, OSError)}
    folder = f"the data folder {data_dir}"
    fs = _file_system(data_dir)
    read_only = fs is not None and bool(fs.f_flag & os.ST_RDONLY)
    free = fs.f_bavail * fs.f_frsize if fs is not None else None
    full = f"{folder} is full (no space left on device): free some space and run it again, "
    low = next((e for e in chain if isinstance(e, LowSpaceError)), None)
    if low is not None:
        return f"{folder} is full ({low.strerror}): free some space and run it again, {_REMEDY}"
    if errnos & _FULL_ERRNOS or "database or disk is full" in words or "no space left" in words:
        return full + _REMEDY
    if errno.EROFS in errnos or (read_only and ("readonly" in words or "read-only" in words)):
        return (f"{folder} is on a read-only file system; the index needs to write there, "
                f"even to answer questions: make it writable, {_REMEDY}")
    if errnos & {errno.EACCES, errno.EPERM} or "readonly database" in words:
        return f"no permission to write in {folder}: fix its permissions, {_REMEDY}"
    from_store = any(isinstance(e, OSError) or type(e).__module__.startswith("chromadb")
                     for e in chain)
    if from_store and read_only:
        return f"{folder} is on a read-only file system: make it writable, {_REMEDY}"
    if from_store and free is not None and free < _NEARLY_FULL_BYTES:
        return f"{folder} is full ({free // 1024} kB free): free some space and run it again, " \
               + _REMEDY
    return None


def _local_folder(settings: Settings) -> Path | None:
    return settings.chroma_dir if settings.chroma_mode == "embedded" else None


def _file_system(path: Path) -> os.statvfs_result | None:
    if not hasattr(os, "statvfs"):
        return None  # Windows: only what the error itself says
    for candidate in (path, *path.parents):
        if candidate.exists():
            try:
                return os.statvfs(candidate)
            except OSError:
                return None
    return None
