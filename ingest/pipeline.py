"""Files in, live documents out: load, chunk, embed and swap in, one file at a time."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from langchain_core.embeddings import Embeddings

from assistant.language import detect_language
from assistant.settings import Settings
from assistant.store import ChunkStore, DocumentRecord, StoredChunk, chunk_id, storage_problem
from ingest.chunking import Chunk, chunk_document
from ingest.errors import IngestError, Params
from ingest.limits import Limits, load_limited
from ingest.loaders import SUPPORTED_SUFFIXES, LoadedDocument

Status = Literal["indexed", "unchanged", "skipped", "failed"]

# Raised whenever reading or cutting the same file gives other chunks than before (a
# new sentence-end rule, a loader fix): a document indexed by an earlier version is
# read and cut again on its next ingest, as one indexed with another chunk size is.
TEXT_PIPELINE_VERSION = 2


def chunking_identity(settings: Settings) -> str:
    """What decides a document's chunks besides its bytes."""
    return f"{TEXT_PIPELINE_VERSION}:{settings.chunk_size}:{settings.chunk_overlap_sentences}"


ProgressCallback = Callable[[int, int, str], None]
EMBED_BATCH = 16


@dataclass(frozen=True)
class FileOutcome:
    path: Path
    status: Status
    reason: str = ""
    doc_id: str = ""
    title: str = ""
    language: str = ""
    pages: int = 0
    chunks: int = 0
    # Why a file failed or was skipped, machine-readable (see IngestError): the UI shows
    # `file_errors[code].format(**params)` from prompts/<lang>.yaml instead of the English reason.
    code: str = ""
    # hash=False: a dict cannot be hashed, and the outcome stays usable in sets and as a key.
    params: Params = field(default_factory=dict, hash=False)

    def describe(self) -> str:
        if self.status == "indexed":
            return (
                f"{self.path.name}: indexed ({self.pages} pages, {self.chunks} chunks, "
                f"{self.language})"
            )
        if self.status == "unchanged":
            return f"{self.path.name}: unchanged, nothing to embed"
        return f"{self.path.name}: {self.status}: {self.reason}"


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def _count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def files(self) -> int:
        return len(self.outcomes)

    @property
    def pages(self) -> int:
        return sum(o.pages for o in self.outcomes if o.status == "indexed")

    @property
    def chunks(self) -> int:
        return sum(o.chunks for o in self.outcomes if o.status == "indexed")

    @property
    def indexed(self) -> int:
        return self._count("indexed")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def summary(self) -> str:
        return (
            f"{self.files} files: {self.indexed} indexed, {self.unchanged} unchanged, "
            f"{self.skipped} skipped, {self.failed} failed; {self.pages} pages, "
            f"{self.chunks} chunks embedded in {self.seconds:.1f} s"
        )


def collect_files(paths: Iterable[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Expand folders recursively. Returns (files to ingest, outcomes decided already).

    A file named explicitly is always attempted, so an unsupported type fails
    with a reason; inside a folder, files of other types are skipped.
    """
    files: list[Path] = []
    decided: list[FileOutcome] = []
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                if child.suffix.lower() in SUPPORTED_SUFFIXES:
                    files.append(child)
                else:
                    decided.append(_unsupported(child, supported))
        elif path.exists():
            files.append(path)
        else:
            decided.append(FileOutcome(path, "failed", "no such file or folder", code="not_found"))
    return files, decided


def _unsupported(path: Path, supported: str) -> FileOutcome:
    reason = f"unsupported file type '{path.suffix}'"
    if not path.suffix:
        # Same codes as the loader uses for a file named explicitly.
        return FileOutcome(
            path, "skipped", reason, code="no_suffix", params={"supported": supported}
        )
    return FileOutcome(
        path,
        "skipped",
        reason,
        code="unsupported_type",
        params={"suffix": path.suffix, "supported": supported},
    )


def embedding_text(chunk: Chunk) -> str:
    """What the embedder sees: the section title situates short passages."""
    return f"{chunk.section}: {chunk.text}" if chunk.section else chunk.text


class Indexer:
    """Ingests files into a `ChunkStore`, each file atomically and independently."""

    def __init__(self, settings: Settings, store: ChunkStore, embedder: Embeddings) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder

    def ingest(
        self,
        paths: Sequence[Path],
        progress: bool = False,
        on_file: ProgressCallback | None = None,
        force: bool = False,
    ) -> IngestReport:
        """Ingest files and folders; with `force`, unchanged files are embedded again too."""
        started = time.perf_counter()
        self.store.recover()
        files, decided = collect_files(paths)
        report = IngestReport(list(decided))
        bar = _progress_bar(len(files), progress)
        for i, path in enumerate(files):
            if on_file:
                on_file(i, len(files), path.name)
            if bar is not None:
                bar.set_description(path.name[:40])
            report.outcomes.append(self.ingest_file(path, show_chunks=progress, force=force))
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        if on_file:
            on_file(len(files), len(files), "")
        report.seconds = time.perf_counter() - started
        return report

    def ingest_file(
        self, path: Path, show_chunks: bool = False, force: bool = False
    ) -> FileOutcome:
        """Ingest one file. `force` re-embeds it even if its content is already indexed,
        e.g. after a change of chunking, or to repair a document (the "re-index" button)."""
        existing = None if force else self._indexed_copy(path)
        if existing is not None:
            return _unchanged(path, existing)
        try:
            # In a reader process that is killed if the file takes too long (see ingest.limits).
            doc = load_limited(
                path, self.settings.max_file_bytes, Limits.from_settings(self.settings)
            )
        except IngestError as err:
            return FileOutcome(path, "failed", err.reason, code=err.code, params=dict(err.params))
        source = str(path.resolve())
        # Again after reading: the file may have changed since it was hashed.
        existing = None if force else self._indexed(doc.content_hash)
        if existing is not None:
            return _unchanged(path, existing)
        chunks = chunk_document(doc.pages, self.settings.chunk_size,
                                self.settings.chunk_overlap_sentences)
        if not chunks:
            return FileOutcome(path, "failed", "no text to index", code="no_text")
        language = detect_language(language_sample(doc))
        try:
            # Before the embedding, which takes far longer than the write it prepares.
            self.store.check_room()
            vectors = self._embed([embedding_text(c) for c in chunks], path.name, show_chunks)
            record = _record(doc, source, language, len(chunks), chunking_identity(self.settings))
            self.store.replace_document(record, _stored(doc, record, chunks, vectors))
        except Exception as err:  # noqa: BLE001 - any failure must leave the old state and go on
            # A full or read-only data folder is named as such: Chroma's own words for it
            # ("Failed to apply logs to the metadata segment") do not tell the user what to do.
            detail = storage_problem(err, self.settings) or str(err)
            return FileOutcome(
                path,
                "failed",
                f"could not be indexed: {detail}",
                code="index_failed",
                params={"detail": detail},
            )
        return FileOutcome(
            path, "indexed", doc_id=doc.content_hash, title=doc.title, language=language,
            pages=len(doc.pages), chunks=len(chunks),
        )

    def _indexed(self, doc_id: str) -> DocumentRecord | None:
        """The live document with this content, if its chunks are what this version and
        these settings would make."""
        record = self.store.find_by_doc_id(doc_id)
        if record is None or record.chunking != chunking_identity(self.settings):
            return None
        return record

    def _indexed_copy(self, path: Path) -> DocumentRecord | None:
        """The live document with this file's exact content, found by hashing the bytes
        before parsing them: re-ingesting an unchanged corpus then parses nothing."""
        try:
            if not path.is_file() or path.stat().st_size > self.settings.max_file_bytes:
                return None  # the loader reports why
            with path.open("rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
        except OSError:
            return None
        return self._indexed(digest)

    def _embed(self, texts: list[str], name: str, show: bool) -> list[list[float]]:
        """One vector per text; a text that occurs more than once is embedded once
        (repeated boilerplate, or a file that says the same thing thousands of times)."""
        unique = list(dict.fromkeys(texts))
        bar = _progress_bar(len(unique), show and len(unique) > 2 * EMBED_BATCH, unit="chunk",
                            desc=f"  {name[:30]}", leave=False)
        vectors: list[list[float]] = []
        for start in range(0, len(unique), EMBED_BATCH):
            batch = unique[start : start + EMBED_BATCH]
            vectors.extend(self.embedder.embed_documents(batch))
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        if len(unique) == len(texts):
            return vectors
        by_text = dict(zip(unique, vectors, strict=True))
        return [by_text[t] for t in texts]


# The document language is read from its beginning: enough text for the detector
# (which looks at 4,000 characters), never the whole of a large file.
LANGUAGE_SAMPLE_CHARS = 8000


def language_sample(doc: LoadedDocument) -> str:
    """The first pages' text, at most LANGUAGE_SAMPLE_CHARS of it."""
    parts: list[str] = []
    size = 0
    for page in doc.pages[:3]:
        parts.append(page.text[: LANGUAGE_SAMPLE_CHARS - size])
        size += len(parts[-1]) + 1
        if size >= LANGUAGE_SAMPLE_CHARS:
            break
    return " ".join(parts)


def _unchanged(path: Path, existing: DocumentRecord) -> FileOutcome:
    return FileOutcome(
        path, "unchanged", doc_id=existing.doc_id, title=existing.title,
        language=existing.language, pages=existing.pages, chunks=existing.chunks,
    )


def _record(
    doc: LoadedDocument, source: str, language: str, n_chunks: int, chunking: str
) -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc.content_hash,
        source=source,
        file_name=doc.path.name,
        title=doc.title,
        language=language,
        format=doc.format,
        pages=len(doc.pages),
        chunks=n_chunks,
        indexed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        chunking=chunking,
    )


def _stored(
    doc: LoadedDocument, record: DocumentRecord, chunks: Sequence[Chunk],
    vectors: Sequence[list[float]],
) -> list[StoredChunk]:
    return [
        StoredChunk(
            chunk_id=chunk_id(record.doc_id, c.chunk_index),
            text=c.text,
            embedding=list(v),
            metadata={
                "doc_id": record.doc_id,
                "title": record.title,
                "file_name": record.file_name,
                "language": record.language,
                "page": c.page,
                "section": c.section,
                "section_path": c.section_path,
                "chunk_index": c.chunk_index,
                "char_start": c.char_start,
                "char_end": c.char_end,
                "kind": c.kind,
                "paragraphs": ",".join(map(str, c.paragraphs)),
            },
        )
        for c, v in zip(chunks, vectors, strict=True)
    ]


def _progress_bar(total: int, enabled: bool, unit: str = "file", desc: str = "",
                  leave: bool = True) -> Any:
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc, leave=leave, dynamic_ncols=True)
