"""The Chroma store: embedder identity, atomic swaps, deletion, recovery."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant import Settings
from assistant.store import ChunkStore, DocumentRecord, EmbedderMismatchError, StoredChunk


def record(doc_id: str, source: str = "/r/a.pdf", chunks: int = 2) -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc_id, source=source, file_name=source.rsplit("/", 1)[-1], title="T",
        language="en", format="pdf", pages=1, chunks=chunks, indexed_at="2025-10-20T00:00:00",
    )


def chunks(doc_id: str, n: int = 2, vec: float = 1.0) -> list[StoredChunk]:
    return [
        StoredChunk(
            f"{doc_id}:{i}", f"text {doc_id} {i}", [vec, float(i) + 0.1, 0.5],
            {"doc_id": doc_id, "language": "en", "page": 1, "section": "1. A", "chunk_index": i},
        )
        for i in range(n)
    ]


def test_other_embedder_is_refused_with_how_to_reindex(settings: Settings) -> None:
    ChunkStore.open(settings, "model-a")
    with pytest.raises(EmbedderMismatchError) as err:
        ChunkStore.open(settings, "model-b")
    message = str(err.value)
    assert "model-a" in message and "model-b" in message and "--rebuild" in message
    assert ChunkStore.rebuild(settings, "model-b").embedder_id == "model-b"


def test_replace_swaps_versions_and_delete_removes_everything(settings: Settings) -> None:
    store = ChunkStore.open(settings, "m")
    store.replace_document(record("v1"), chunks("v1"))
    assert [d.doc_id for d in store.documents()] == ["v1"]
    store.replace_document(record("v2", chunks=3), chunks("v2", 3))
    assert [d.doc_id for d in store.documents()] == ["v2"]
    assert store.chunk_count("v1") == 0 and store.chunk_count("v2") == 3
    hits = store.search([1.0, 0.1, 0.5], 10)
    assert {h.metadata["doc_id"] for h in hits} == {"v2"}
    assert store.delete_document("v2")
    assert store.documents() == [] and store.chunk_count() == 0
    assert not store.delete_document("v2")


def test_unlisted_chunks_are_invisible_and_recovered(settings: Settings) -> None:
    store = ChunkStore.open(settings, "m")
    store.replace_document(record("live"), chunks("live"))
    # Simulate a crash between writing chunks and the manifest flip.
    store._manifest.upsert(  # noqa: SLF001
        ids=["pending:ghost"], embeddings=[[1.0]], metadatas=[{"doc_id": "ghost", "replaces": ""}]
    )
    store._chunks.add(  # noqa: SLF001
        ids=[c.chunk_id for c in chunks("ghost")],
        documents=[c.text for c in chunks("ghost")],
        embeddings=[c.embedding for c in chunks("ghost")],
        metadatas=[c.metadata for c in chunks("ghost")],
    )
    assert {h.metadata["doc_id"] for h in store.search([1.0, 0.1, 0.5], 10)} == {"live"}
    assert store.recover() == 2
    assert store.chunk_count() == 2 and store.chunk_count("ghost") == 0


def test_search_filters_by_metadata(settings: Settings) -> None:
    store = ChunkStore.open(settings, "m")
    store.replace_document(record("a", "/r/a.pdf"), chunks("a"))
    store.replace_document(record("b", "/r/b.pdf"), chunks("b"))
    hits = store.search([1.0, 0.1, 0.5], 10, {"doc_id": "b"})
    assert hits and {h.metadata["doc_id"] for h in hits} == {"b"}


def test_chunks_are_read_in_pages(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.store as store_module

    # Pages of 7 over 3 documents of 8 chunks: reads that end mid-page and on a boundary.
    monkeypatch.setattr(store_module, "LIVE_CHUNKS_PAGE", 7)
    store = ChunkStore.open(settings, "m")
    for i, doc_id in enumerate(("d1", "d2", "d3")):
        store.replace_document(record(doc_id, f"/r/{doc_id}.pdf", 8), chunks(doc_id, 8, i + 1.0))
    got = store.chunks_of(["d1", "d2", "d3"])
    ids = [h.chunk_id for hits in got.values() for h in hits]
    assert len(ids) == 24 and len(set(ids)) == 24
    assert {d: len(h) for d, h in got.items()} == {"d1": 8, "d2": 8, "d3": 8}
    store.replace_document(record("d4", "/r/d4.pdf", 4), chunks("d4", 4))
    got = store.chunks_of(["d1", "d2", "d3", "d4"])
    assert sum(len(h) for h in got.values()) == 28  # 28 = 4 pages of 7
    assert [h.chunk_id for h in store.document_chunks("d2")] == [f"d2:{i}" for i in range(8)]
    assert len(store.live_chunks()) == 28


def test_writes_are_refused_up_front_when_the_disk_is_nearly_full(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.store as store_module
    from assistant.store import LowSpaceError, storage_problem

    store = ChunkStore.open(settings, "m")
    store.replace_document(record("a", "/r/a.pdf"), chunks("a"))
    before = (store.documents(), store.chunk_count(), store.generation())
    # More than any disk has free: every write must stop before it begins.
    monkeypatch.setattr(store_module, "MIN_FREE_BYTES", 2**62)
    with pytest.raises(LowSpaceError) as err:
        store.replace_document(record("b", "/r/b.pdf"), chunks("b"))
    with pytest.raises(LowSpaceError):
        store.delete_document("a")
    assert (store.documents(), store.chunk_count(), store.generation()) == before
    assert store._manifest.count() == 2  # noqa: SLF001 - no pending record was written
    message = storage_problem(err.value, settings)
    assert message and "is full" in message and "kB free" in message
    assert str(settings.data_dir) in message


def test_threads_opening_a_new_index_at_once_all_get_it(tmp_path: Path) -> None:
    # The web app's watcher and its first page open the store at the same moment.
    for attempt in range(5):
        settings = Settings.load({"data_dir": tmp_path / f"data{attempt}"}, environ={})
        barrier = threading.Barrier(6)
        opened: list[ChunkStore] = []
        errors: list[BaseException] = []

        def open_it(settings: Settings, barrier: threading.Barrier, opened: list[ChunkStore],
                    errors: list[BaseException]) -> None:
            barrier.wait()
            try:
                opened.append(ChunkStore.open(settings, "m"))
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)

        threads = [threading.Thread(target=open_it, args=(settings, barrier, opened, errors))
                   for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        assert len(opened) == 6 and all(s.generation() is None for s in opened)
