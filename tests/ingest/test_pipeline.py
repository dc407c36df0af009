"""Ingest against a real Chroma store and the bundled embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant import Settings
from assistant.embeddings import make_embedder
from assistant.store import ChunkStore
from ingest import pipeline
from ingest.pipeline import Indexer
from tests.conftest import CORPUS_PDFS, FIXTURES

pytestmark = pytest.mark.slow


class CountingEmbedder:
    """Wraps the real embedder to count what gets embedded, or fail on demand."""

    def __init__(self, inner, fail_after: int | None = None) -> None:  # noqa: ANN001
        self.inner = inner
        self.identity = inner.identity
        self.embedded = 0
        self.fail_after = fail_after

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.fail_after is not None and self.embedded + len(texts) > self.fail_after:
            raise RuntimeError("embedding service went away")
        self.embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def indexer(settings: Settings, fail_after: int | None = None) -> tuple[Indexer, CountingEmbedder]:
    real = make_embedder(settings)
    counting = CountingEmbedder(real, fail_after)
    store = ChunkStore.open(settings, real.identity)
    return Indexer(settings, store, counting), counting


def test_reingest_of_unchanged_files_embeds_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, emb = indexer(settings)
    report = first.ingest([CORPUS_PDFS[0]])
    assert report.indexed == 1 and emb.embedded == report.chunks > 0
    again, emb2 = indexer(settings)

    def not_parsed(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        raise AssertionError(f"{path} was parsed although its bytes are indexed")

    # Known bytes are recognised by their hash before any parsing.
    monkeypatch.setattr(pipeline, "load_limited", not_parsed)
    report2 = again.ingest([CORPUS_PDFS[0]])
    assert report2.unchanged == 1 and report2.indexed == 0
    assert emb2.embedded == 0
    assert again.store.chunk_count() == report.chunks


def test_chunk_metadata_is_complete(settings: Settings) -> None:
    idx, _ = indexer(settings)
    idx.ingest([CORPUS_PDFS[0]])
    got = idx.store._chunks.get(include=["metadatas", "documents"])  # noqa: SLF001
    pdf_text = {}
    from ingest.loaders import load_document

    doc = load_document(CORPUS_PDFS[0])
    pdf_text = {p.number: p.text for p in doc.pages}
    for meta, text in zip(got["metadatas"], got["documents"], strict=True):
        assert meta["doc_id"] == doc.content_hash
        assert meta["title"] == doc.title
        assert meta["file_name"] == CORPUS_PDFS[0].name
        assert meta["language"] in {"nl", "es", "en"}
        assert 1 <= meta["page"] <= len(doc.pages)
        assert isinstance(meta["chunk_index"], int)
        span = pdf_text[meta["page"]][meta["char_start"] : meta["char_end"]]
        # The span locates the passage on its page (a sentence cut by a page
        # break carries its start from the previous page).
        assert " ".join(span.split())[-40:] == " ".join(text.split())[-40:]
        # Paragraph starts point into the passage, at the start of a word.
        starts = [int(x) for x in meta["paragraphs"].split(",") if x]
        assert all(0 <= a < len(text) and (a == 0 or text[a - 1] == " ") for a in starts)
        assert meta["kind"] == "text" or not starts
    assert sum(bool(m["paragraphs"]) for m in got["metadatas"]) > len(got["metadatas"]) // 2
    sections = {m["section"] for m in got["metadatas"]}
    assert any(s.startswith("4.1 ") for s in sections)


def test_changed_file_replaces_its_old_chunks(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    shutil.copy(FIXTURES / "good.pdf", target)
    idx, _ = indexer(settings)
    idx.ingest([target])
    old = idx.store.documents()[0]
    shutil.copy(CORPUS_PDFS[0], target)
    report = idx.ingest([target])
    assert report.indexed == 1
    docs = idx.store.documents()
    assert len(docs) == 1 and docs[0].doc_id != old.doc_id
    assert idx.store.chunk_count(old.doc_id) == 0
    assert idx.store.chunk_count() == docs[0].chunks


def test_failure_midway_leaves_previous_version(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    shutil.copy(FIXTURES / "good.pdf", target)
    idx, _ = indexer(settings)
    idx.ingest([target])
    before = idx.store.documents()
    shutil.copy(CORPUS_PDFS[1], target)
    failing, _ = indexer(settings, fail_after=20)
    report = failing.ingest([target])
    assert report.failed == 1
    assert "embedding service went away" in report.outcomes[0].reason
    assert failing.store.documents() == before
    assert failing.store.chunk_count() == before[0].chunks


def test_store_write_failure_after_partial_add_is_cleaned_up(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    idx, _ = indexer(settings)
    store = idx.store
    original_upsert = store._chunks.upsert  # noqa: SLF001
    calls = {"n": 0}

    def write_then_crash(**kwargs):  # noqa: ANN003, ANN202
        original_upsert(**kwargs)
        calls["n"] += 1
        raise OSError("disk full")

    monkeypatch.setattr(store._chunks, "upsert", write_then_crash)  # noqa: SLF001
    report = idx.ingest([CORPUS_PDFS[0]])
    assert report.failed == 1 and "disk full" in report.outcomes[0].reason
    assert store.documents() == []
    monkeypatch.undo()
    # Nothing is visible, and the next run removes the leftovers.
    assert store.search(idx.embedder.embed_query("ILIA"), 5) == []
    assert store.recover() > 0
    assert store.chunk_count() == 0


BAD_FILES = {
    "corrupt.pdf": "not a readable PDF",
    "notapdf.pdf": "not a readable PDF",
    "encrypted.pdf": "encrypted",
    "empty.pdf": "empty",
    "image-only.pdf": "no extractable text",
    "zero-pages.pdf": "no pages",
    "unknown.xyz": "unsupported file type",
    "corrupt.docx": "not a readable Word document",
}


def test_bad_files_are_reported_and_the_good_ones_still_indexed(settings: Settings) -> None:
    idx, _ = indexer(settings)
    paths = [FIXTURES / name for name in BAD_FILES] + [FIXTURES / "good.pdf"]
    report = idx.ingest(paths)
    by_name = {o.path.name: o for o in report.outcomes}
    for name, reason in BAD_FILES.items():
        outcome = by_name[name]
        assert outcome.status == "failed", name
        assert reason in outcome.reason, (name, outcome.reason)
        assert outcome.describe().startswith(f"{name}: failed: ")
    assert by_name["good.pdf"].status == "indexed"
    assert not report.ok and report.failed == len(BAD_FILES)
    # No half-indexed documents: only the good file is live, with all its chunks.
    docs = idx.store.documents()
    assert [d.file_name for d in docs] == ["good.pdf"]
    assert idx.store.chunk_count() == docs[0].chunks


def test_folder_walk_skips_unsupported_types(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(FIXTURES / "sample.md", folder / "sub" / "notes.md")
    (folder / "data.csv").write_text("a,b\n1,2\n")
    idx, _ = indexer(settings)
    report = idx.ingest([folder])
    statuses = {o.path.name: o.status for o in report.outcomes}
    assert statuses == {"notes.md": "indexed", "data.csv": "skipped"}
    assert report.ok
    assert "1 indexed" in report.summary() and "1 skipped" in report.summary()


BAD_FILE_CODES = {
    "corrupt.pdf": ("unreadable_pdf", {"detail": "Stream has ended unexpectedly"}),
    "notapdf.pdf": ("not_pdf", {}),
    "encrypted.pdf": ("encrypted", {}),
    "empty.pdf": ("empty_file", {}),
    "image-only.pdf": ("no_text_pdf", {}),
    "zero-pages.pdf": ("no_pages", {}),
    "unknown.xyz": (
        "unsupported_type",
        {"suffix": ".xyz", "supported": ".docx, .htm, .html, .markdown, .md, .pdf, .txt"},
    ),
    "corrupt.docx": ("unreadable_docx", {"detail": "File is not a zip file"}),
}


def test_failed_outcomes_carry_the_loader_code_and_params(settings: Settings) -> None:
    idx, _ = indexer(settings)
    report = idx.ingest([FIXTURES / name for name in BAD_FILE_CODES] + [FIXTURES / "good.pdf"])
    by_name = {o.path.name: o for o in report.outcomes}
    for name, (code, params) in BAD_FILE_CODES.items():
        assert (by_name[name].code, by_name[name].params) == (code, params), name
    assert (by_name["good.pdf"].code, by_name["good.pdf"].params) == ("", {})


def test_skipped_and_missing_outcomes_carry_codes(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n1,2\n")
    (folder / "Makefile").write_text("all:\n")
    idx, _ = indexer(settings)
    report = idx.ingest([folder, tmp_path / "missing"])
    by_name = {o.path.name: o for o in report.outcomes}
    supported = ".docx, .htm, .html, .markdown, .md, .pdf, .txt"
    assert by_name["data.csv"].status == "skipped"
    assert by_name["data.csv"].code == "unsupported_type"
    assert by_name["data.csv"].params == {"suffix": ".csv", "supported": supported}
    assert by_name["data.csv"].reason == "unsupported file type '.csv'"
    assert (by_name["Makefile"].code, by_name["Makefile"].params) == (
        "no_suffix",
        {"supported": supported},
    )
    assert by_name["missing"].status == "failed"
    assert (by_name["missing"].code, by_name["missing"].reason) == (
        "not_found",
        "no such file or folder",
    )


def test_store_failure_outcome_is_index_failed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    idx, _ = indexer(settings)

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(idx.store, "replace_document", full_disk)
    outcome = idx.ingest_file(FIXTURES / "good.pdf")
    assert outcome.status == "failed"
    assert outcome.code == "index_failed"
    # A full disk is named as the data folder's problem, with what to do about it.
    detail = outcome.params["detail"]
    assert detail.startswith(f"the data folder {settings.data_dir} is full (no space left")
    assert outcome.reason == f"could not be indexed: {detail}"


def test_force_reindexes_unchanged_files(settings: Settings, tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    shutil.copy(FIXTURES / "good.pdf", target)
    idx, emb = indexer(settings)
    first = idx.ingest([target])
    assert first.indexed == 1
    before = idx.store.documents()
    chunk_ids = sorted(idx.store._chunks.get(include=[])["ids"])  # noqa: SLF001

    again, emb2 = indexer(settings)
    assert again.ingest([target]).unchanged == 1 and emb2.embedded == 0
    forced = again.ingest([target], force=True)

    assert forced.indexed == 1 and forced.unchanged == 0
    assert emb2.embedded == first.chunks > 0
    after = again.store.documents()
    assert [(d.doc_id, d.source, d.chunks) for d in after] == [
        (d.doc_id, d.source, d.chunks) for d in before
    ]
    # The same chunks, rewritten in place: no duplicates, none lost.
    assert sorted(again.store._chunks.get(include=[])["ids"]) == chunk_ids  # noqa: SLF001
    assert again.store.chunk_count() == before[0].chunks
    hits = again.store.search(again.embedder.embed_query("instalación"), 3)
    assert hits and all(h.metadata["doc_id"] == before[0].doc_id for h in hits)


def test_force_on_a_single_file(settings: Settings) -> None:
    idx, emb = indexer(settings)
    assert idx.ingest_file(FIXTURES / "good.pdf").status == "indexed"
    assert idx.ingest_file(FIXTURES / "good.pdf").status == "unchanged"
    embedded = emb.embedded

    outcome = idx.ingest_file(FIXTURES / "good.pdf", force=True)

    assert outcome.status == "indexed" and outcome.chunks > 0
    assert emb.embedded == 2 * embedded
    assert len(idx.store.documents()) == 1
    assert idx.store.chunk_count() == outcome.chunks


def test_a_document_cut_by_an_earlier_version_or_other_chunk_size_is_cut_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    idx, emb = indexer(settings)
    first = idx.ingest([FIXTURES / "good.pdf"])
    assert first.indexed == 1
    assert idx.store.documents()[0].chunking == pipeline.chunking_identity(settings)
    embedded = emb.embedded

    # A later version reads or cuts text differently: the same bytes are indexed again,
    # in place of the old chunks, and after that they are unchanged.
    monkeypatch.setattr(pipeline, "TEXT_PIPELINE_VERSION", pipeline.TEXT_PIPELINE_VERSION + 1)
    again, emb2 = indexer(settings)
    second = again.ingest([FIXTURES / "good.pdf"])
    assert second.indexed == 1 and emb2.embedded == embedded
    assert len(again.store.documents()) == 1
    assert again.store.chunk_count() == second.chunks
    assert again.ingest([FIXTURES / "good.pdf"]).unchanged == 1

    # So is a document cut with another chunk size.
    smaller = settings.replace(chunk_size=settings.chunk_size // 2)
    third, _ = indexer(smaller)
    cut = third.ingest([FIXTURES / "good.pdf"])
    assert cut.indexed == 1 and len(third.store.documents()) == 1
    assert third.store.chunk_count() == cut.chunks


def test_a_document_indexed_before_its_chunking_was_recorded_is_cut_again(
    settings: Settings,
) -> None:
    idx, _ = indexer(settings)
    assert idx.ingest([FIXTURES / "good.pdf"]).indexed == 1
    record = idx.store.documents()[0]
    chunks = idx.store.document_chunks(record.doc_id)
    assert chunks
    # The record as an older version wrote it: no "chunking" key at all (None deletes
    # a metadata key in Chroma).
    idx.store._manifest.update(ids=[record.key], metadatas=[{"chunking": None}])  # noqa: SLF001
    got = idx.store._manifest.get(ids=[record.key], include=["metadatas"])  # noqa: SLF001
    assert "chunking" not in got["metadatas"][0]
    assert idx.store.documents()[0].chunking == ""
    assert idx.ingest([FIXTURES / "good.pdf"]).indexed == 1
    assert idx.store.documents()[0].chunking == pipeline.chunking_identity(settings)
