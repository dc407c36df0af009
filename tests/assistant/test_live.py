"""The live view: read once, kept until a writer changes the live set, loaded by difference."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant import Settings
from assistant.live import LiveView
from assistant.store import ChunkStore
from tests.assistant.test_store import chunks, record
from tests.conftest import ROOT


class Counting:
    """Counts the store reads the view makes."""

    def __init__(self, store: ChunkStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.manifest_reads = 0
        self.loaded: list[str] = []
        documents, chunks_of = store.documents, store.chunks_of

        def counted_documents():  # noqa: ANN202
            self.manifest_reads += 1
            return documents()

        def counted_chunks_of(doc_ids, **kwargs):  # noqa: ANN001, ANN003, ANN202
            self.loaded.extend(doc_ids)
            return chunks_of(doc_ids, **kwargs)

        monkeypatch.setattr(store, "documents", counted_documents)
        monkeypatch.setattr(store, "chunks_of", counted_chunks_of)


def test_every_change_to_the_live_set_changes_the_generation(settings: Settings) -> None:
    store = ChunkStore.open(settings, "m")
    assert store.generation() is None  # a new index: nothing written yet
    seen = []
    store.replace_document(record("a", "/r/a.pdf"), chunks("a"))
    seen.append(store.generation())
    store.replace_document(record("b", "/r/a.pdf"), chunks("b"))  # a new version of a.pdf
    seen.append(store.generation())
    store.delete_document("b")
    seen.append(store.generation())
    assert None not in seen and len(set(seen)) == 3
    unchanged = store.generation()
    assert not store.delete_document("b")
    store.recover()
    assert store.generation() == unchanged


def test_the_view_reads_again_only_after_a_change_and_only_what_changed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ChunkStore.open(settings, "m")
    store.replace_document(record("a", "/r/a.pdf"), chunks("a"))
    store.replace_document(record("b", "/r/b.pdf", 3), chunks("b", 3))
    count = Counting(store, monkeypatch)
    view = LiveView(store)
    first = view.current()
    assert first.doc_ids == ["a", "b"] and len(first) == 5
    assert (count.manifest_reads, sorted(count.loaded)) == (1, ["a", "b"])
    for _ in range(3):
        assert view.current() is first
    assert count.manifest_reads == 1

    # Another store (another process) replaces b: the view loads the new version only.
    ChunkStore.open(settings, "m").replace_document(record("c", "/r/b.pdf", 2), chunks("c", 2))
    second = view.current()
    assert second.doc_ids == ["a", "c"] and len(second) == 4
    assert "b:0" not in second.chunks and second.chunks["c:1"].text == "text c 1"
    assert (count.manifest_reads, count.loaded[2:]) == (2, ["c"])
    store.delete_document("a")
    assert view.current().doc_ids == ["c"] and count.loaded[3:] == []


def test_a_document_read_while_it_changes_is_left_out_until_the_next_read(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ChunkStore.open(settings, "m")
    store.replace_document(record("a", "/r/a.pdf"), chunks("a"))
    store.replace_document(record("b", "/r/b.pdf"), chunks("b"))
    chunks_of = store.chunks_of

    def torn(doc_ids, **kwargs):  # noqa: ANN001, ANN003, ANN202 - b half deleted meanwhile
        got = chunks_of(doc_ids, **kwargs)
        if "b" in got:
            got["b"] = got["b"][:1]
        return got

    monkeypatch.setattr(store, "chunks_of", torn)
    view = LiveView(store)
    snapshot = view.current()
    assert snapshot.doc_ids == ["a"] and snapshot.generation is None
    monkeypatch.setattr(store, "chunks_of", chunks_of)
    assert view.current().doc_ids == ["a", "b"] and view.current().generation is not None


def test_an_index_without_a_generation_is_read_on_every_question(settings: Settings) -> None:
    store = ChunkStore.open(settings, "m")
    store.replace_document(record("a", "/r/a.pdf"), chunks("a"))
    store._manifest.delete(ids=["generation"])  # noqa: SLF001 - as written before the marker
    view = LiveView(store)
    assert view.current().doc_ids == ["a"] and view.current().generation is None
    store._manifest.delete(ids=[record("a", "/r/a.pdf").key])  # noqa: SLF001
    assert view.current().doc_ids == []
    store.recover()  # the next ingest adds the marker
    assert store.generation() is not None


def test_the_document_list_is_read_again_only_after_a_change(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ChunkStore.open(settings, "m")
    store.replace_document(record("a", "/r/a.pdf"), chunks("a"))
    count = Counting(store, monkeypatch)
    assert [r.doc_id for r in store.listed_documents()] == ["a"]
    assert [r.doc_id for r in store.listed_documents()] == ["a"]
    assert count.manifest_reads == 1
    ChunkStore.open(settings, "m").replace_document(record("b", "/r/b.pdf"), chunks("b"))
    assert [r.doc_id for r in store.listed_documents()] == ["a", "b"]
    assert count.manifest_reads == 2


_OTHER_PROCESS = """
import sys
from assistant import Settings
from assistant.store import ChunkStore
from tests.assistant.test_store import chunks, record
store = ChunkStore.open(Settings.load({"data_dir": sys.argv[1]}, environ={}), "m")
store.replace_document(record(sys.argv[2], f"/r/{sys.argv[2]}.pdf", 3), chunks(sys.argv[2], 3))
"""


def test_the_view_reads_the_vectors_another_process_wrote(settings: Settings) -> None:
    # An embedded Chroma client does not see vectors that another process adds later;
    # the store opens the index again when the live set changed without it.
    store = ChunkStore.open(settings, "m")
    store.replace_document(record("a", "/r/a.pdf"), chunks("a"))
    view = LiveView(store)
    assert view.current().doc_ids == ["a"]
    for doc in ("b", "c"):
        subprocess.run([sys.executable, "-c", _OTHER_PROCESS, str(settings.data_dir), doc],
                       check=True, cwd=ROOT, timeout=300)
        snapshot = view.current()
        assert doc in snapshot.doc_ids
        assert snapshot.vector(f"{doc}:2") is not None
        # This process goes on writing, and reads what it wrote.
        store.replace_document(record(f"{doc}2", f"/r/{doc}2.pdf"), chunks(f"{doc}2"))
        assert f"{doc}2" in view.current().doc_ids
    assert view.current().doc_ids == ["a", "b", "b2", "c", "c2"]
    assert store.search([1.0, 2.1, 0.5], 3)[0].chunk_id.endswith(":2")
