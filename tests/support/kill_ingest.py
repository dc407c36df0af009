"""Crash an ingest for real, and check what a crash may leave behind.

Run as a script, this ingests files the way `assistant ingest` does (same settings,
embedder, `ChunkStore` and `Indexer`), but traps one moment of the write and
SIGKILLs its own process there: no exception handler, `finally` or atexit hook runs,
exactly as when the machine loses power or the OOM killer strikes.

    python -m tests.support.kill_ingest --data-dir DIR --kill-at flip PATH...

Every trap event is printed ("event <name> <n>") before the trap decides, so the
parent sees how far the write got, and can also SIGKILL from outside at a moment
of its choosing.

Events, in the order one document's write produces them:

* ``embed``: a batch of chunks embedded (before any store write of the document);
* ``pending``: the pending record written, no chunk yet;
* ``chunks``: one batch of chunks upserted (``--store-batch`` makes batches small);
* ``flip``: the manifest record upserted, the commit point; old chunks still there;
* ``cleanup``: old chunks deleted, the pending record about to be removed.

Imported, it offers `check_consistent`: the invariants the store promises after any
crash (before recovery) and after the next ingest (after recovery).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from assistant.store import (
    CHUNKS,
    MANIFEST,
    ChunkStore,
    DocumentRecord,
    SearchHit,
    open_client,
    source_key,
)

EVENTS = ("embed", "pending", "chunks", "flip", "cleanup")
PENDING_PREFIX = "pending:"
GENERATION_ID = "generation"


class Trap:
    """Counts write events and SIGKILLs this process at the chosen one."""

    def __init__(self, kill_at: str, nth: int) -> None:
        self.kill_at = kill_at
        self.nth = nth
        self.counts: Counter[str] = Counter()

    def hit(self, event: str) -> None:
        self.counts[event] += 1
        print(f"event {event} {self.counts[event]}", flush=True)
        if event == self.kill_at and self.counts[event] == self.nth:
            os.kill(os.getpid(), signal.SIGKILL)

    def install(self, store: ChunkStore, embedder: Any, store_batch: int) -> None:
        """Wrap the store's Chroma collections and the embedder of this process only."""
        chunks = store._chunks  # noqa: SLF001 - the trap sits under the store, on purpose
        manifest = store._manifest  # noqa: SLF001
        client = store._client  # noqa: SLF001
        chunk_upsert = chunks.upsert
        manifest_upsert = manifest.upsert
        manifest_delete = manifest.delete
        embed_documents = embedder.embed_documents

        def upsert_chunks(**kwargs: Any) -> None:
            chunk_upsert(**kwargs)
            self.hit("chunks")

        def upsert_manifest(**kwargs: Any) -> None:
            manifest_upsert(**kwargs)
            first = kwargs["ids"][0]
            if first == GENERATION_ID:
                return  # tells readers to look again; right after the flip, not a step of its own
            self.hit("pending" if first.startswith(PENDING_PREFIX) else "flip")

        def delete_manifest(*args: Any, **kwargs: Any) -> None:
            ids = kwargs.get("ids") or (args[0] if args else [])
            if ids and ids[0].startswith(PENDING_PREFIX):
                # Before the delete: the old chunks are gone, the pending record is not.
                self.hit("cleanup")
            manifest_delete(*args, **kwargs)

        def embed(texts: list[str]) -> list[list[float]]:
            vectors = embed_documents(texts)
            self.hit("embed")
            return vectors

        chunks.upsert = upsert_chunks
        manifest.upsert = upsert_manifest
        manifest.delete = delete_manifest
        embedder.embed_documents = embed
        if store_batch:
            # The store writes chunks in batches of the client's maximum: make it small,
            # so a document takes several upserts and a kill can fall between them.
            max_batch: Callable[[], int] = lambda: store_batch  # noqa: E731
            client.get_max_batch_size = max_batch


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.embeddings import make_embedder
    from ingest import pipeline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--kill-at", choices=[*EVENTS, "never"], default="never")
    parser.add_argument("--nth", type=int, default=1, help="kill at this occurrence")
    parser.add_argument("--store-batch", type=int, default=0, help="chunks per upsert")
    parser.add_argument("--embed-batch", type=int, default=0, help="chunks per embed call")
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)

    # environ={} as in the tests: the parent checks and re-ingests with the same settings.
    settings = Settings.load({"data_dir": args.data_dir}, environ={})
    embedder = make_embedder(settings)
    store = ChunkStore.open(settings, embedder.identity)
    Trap(args.kill_at, args.nth).install(store, embedder, args.store_batch)
    if args.embed_batch:
        pipeline.EMBED_BATCH = args.embed_batch
    report = pipeline.Indexer(settings, store, embedder).ingest(args.paths)
    for outcome in report.outcomes:
        print(outcome.describe(), flush=True)
    print(report.summary(), flush=True)
    return 0 if report.ok else 1


# ---------------------------------------------------------------------------------------
# The invariants.


@dataclass(frozen=True)
class IndexState:
    """What the index holds, as read with a fresh client."""

    records: list[DocumentRecord]
    pending: list[str]  # ids of pending records
    total_chunks: int  # every chunk in the collection, live or not
    orphans: dict[str, int]  # doc id -> chunks of documents no record names

    def record_for(self, file_name: str) -> DocumentRecord | None:
        found = [r for r in self.records if r.file_name == file_name]
        return found[0] if found else None


def check_consistent(settings: Settings, recovered: bool = True) -> IndexState:
    """Assert what readers may rely on at any time; with `recovered`, also a clean index.

    Always (even right after a crash, before recovery):
    * every live document has exactly its `record.chunks` chunks, indexes 0..n-1;
    * search and the lexical side (`live_chunks`) return chunks of live documents only,
      even when asked with the vector of a leftover chunk;
    * manifest records sit under the key of their source.

    After recovery, in addition: no pending record, no chunk of a document that is not
    live, and the collection's raw count equals the sum of `record.chunks`.

    Opens its own client and closes it, so it reads what is on disk, not what some
    client of this process has cached.
    """
    client = open_client(settings)
    try:
        names = {c.name for c in client.list_collections()}
        if CHUNKS not in names or MANIFEST not in names:
            # A crash before the store was first created leaves nothing to check.
            assert not names - {CHUNKS, MANIFEST}, names
            return IndexState([], [], 0, {})
        raw = client.get_collection(CHUNKS)
        embedder_id = (raw.metadata or {}).get("embedder")
        assert embedder_id, f"the chunk collection lost its embedder: {raw.metadata}"
        store = ChunkStore(client, embedder_id)
        return _check(store, raw, client.get_collection(MANIFEST), recovered)
    finally:
        client.close()


def _check(store: ChunkStore, raw: Any, manifest: Any, recovered: bool) -> IndexState:
    records = store.documents()
    live = {r.doc_id for r in records}
    everything = raw.get(include=["metadatas", "embeddings"])
    doc_of = {cid: meta["doc_id"] for cid, meta in zip(everything["ids"],
                                                        everything["metadatas"], strict=True)}
    vector_of = dict(zip(everything["ids"], everything["embeddings"], strict=True))
    assert raw.count() == len(doc_of)

    for record in records:
        ids = sorted(cid for cid, doc in doc_of.items() if doc == record.doc_id)
        expected = [f"{record.doc_id}:{i:05d}" for i in range(record.chunks)]
        assert ids == expected, (
            f"{record.file_name}: the manifest says {record.chunks} chunks, the store holds "
            f"{len(ids)} ({sorted(set(ids) ^ set(expected))[:5]} differ)"
        )
    for cid, doc in doc_of.items():
        assert cid.startswith(doc + ":"), f"chunk {cid} carries doc_id {doc}"

    got = manifest.get(include=["metadatas"])
    pending = sorted(rid for rid in got["ids"] if rid.startswith(PENDING_PREFIX))
    for rid, meta in zip(got["ids"], got["metadatas"], strict=True):
        if not rid.startswith(PENDING_PREFIX) and rid != GENERATION_ID:
            assert rid == source_key(meta["source"]), f"record {rid} is not under its source"
    assert len({r.source for r in records}) == len(records)

    orphans: dict[str, int] = {}
    for doc in doc_of.values():
        if doc not in live:
            orphans[doc] = orphans.get(doc, 0) + 1

    lexical = store.live_chunks()
    assert {h.metadata["doc_id"] for h in lexical} <= live
    assert len(lexical) == sum(r.chunks for r in records)
    # Ask with the vectors most likely to surface a leftover: the leftovers' own.
    probes = [cid for cid, doc in doc_of.items() if doc not in live][:20]
    probes += [cid for cid, doc in doc_of.items() if doc in live][:5]
    for cid in probes:
        hits: list[SearchHit] = store.search(vector_of[cid], 10)
        assert {h.metadata["doc_id"] for h in hits} <= live, f"search surfaced a dead chunk ({cid})"

    if recovered:
        assert not pending, f"pending records left: {pending}"
        assert not orphans, f"chunks of documents that are not live: {orphans}"
        assert raw.count() == sum(r.chunks for r in records)
    return IndexState(records, pending, len(doc_of), orphans)


if __name__ == "__main__":
    sys.exit(main())
