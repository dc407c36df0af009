"""Document management for the web UI: upload, list, delete, re-index.

Uploads go through the same `Indexer` as `assistant ingest`, after `ingest.uploads`
has checked the type, the size and the name, and copied the file into the data
folder (pages of cited PDFs are rendered from that copy).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from assistant.core import Assistant
from assistant.messages import language_name, ui_text
from assistant.store import DocumentRecord
from ingest.pipeline import FileOutcome, Indexer
from ingest.uploads import UploadRejected, safe_file_name, stage_upload

Progress = Callable[[int, int, str], None]
TABLE_KEYS = ("col_title", "col_file", "col_language", "col_pages", "col_chunks", "col_date")


def outcome_dict(outcome: FileOutcome, shown_name: str | None = None) -> dict[str, Any]:
    return {
        "file": shown_name or outcome.path.name,
        "status": outcome.status,
        "code": outcome.code,
        "reason": outcome.reason,
        "params": dict(outcome.params),
        "doc_id": outcome.doc_id,
        "title": outcome.title,
        "language": outcome.language,
        "pages": outcome.pages,
        "chunks": outcome.chunks,
    }


def failed_dict(
    file: str,
    code: str,
    reason: str,
    params: Mapping[str, Any] | None = None,
    *,
    doc_id: str = "",
    title: str = "",
    language: str = "",
) -> dict[str, Any]:
    """A failure that never reached the indexer, in the same shape as `outcome_dict`."""
    return {
        "file": file,
        "status": "failed",
        "code": code,
        "reason": reason,
        "params": dict(params or {}),
        "doc_id": doc_id,
        "title": title,
        "language": language,
        "pages": 0,
        "chunks": 0,
    }


def _indexer(assistant: Assistant) -> Indexer:
    return Indexer(assistant.settings, assistant.store, assistant.embedder)


def upload(
    assistant: Assistant, paths: Sequence[Path], progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Check, copy and index uploaded files, each on its own; one outcome per file.

    A file that fails leaves the upload folder as it was: its copy is removed, and
    an earlier upload of the same name (still the live version) is put back.
    """
    settings = assistant.settings
    results: list[dict[str, Any]] = []
    indexer = _indexer(assistant)
    assistant.store.recover()
    for done, path in enumerate(paths):
        if progress:
            progress(done, len(paths), path.name)
        results.append(_upload_one(indexer, path, settings.upload_dir, settings.max_file_bytes))
    if any(r.get("status") == "indexed" for r in results):
        # The search structures take in the new passages now, as part of the upload,
        # rather than during the next question (seconds for a large file).
        assistant.warm_up()
    if progress:
        progress(len(paths), len(paths), "")
    return results


def _upload_one(indexer: Indexer, path: Path, upload_dir: Path, max_bytes: int) -> dict[str, Any]:
    try:
        name = safe_file_name(path.name)
        previous = upload_dir / name
        backup = upload_dir / f".{name}.previous"
        had_previous = previous.is_file()
        if had_previous:
            os.replace(previous, backup)
        try:
            target = stage_upload(path, path.name, upload_dir, max_bytes)
        except UploadRejected:
            if had_previous:
                os.replace(backup, previous)
            raise
    except UploadRejected as err:
        return failed_dict(err.file_name, err.code, err.reason, err.params)
    outcome = indexer.ingest_file(target)
    if outcome.status == "failed":
        if had_previous:
            os.replace(backup, target)
        else:
            target.unlink(missing_ok=True)
    elif had_previous:
        backup.unlink(missing_ok=True)
    return outcome_dict(outcome)


def _find(assistant: Assistant, doc_id: str) -> DocumentRecord | None:
    doc_id = doc_id.strip()
    if not doc_id:
        return None
    found = [r for r in assistant.documents() if r.doc_id.startswith(doc_id)]
    return found[0] if len(found) == 1 else None


def delete(assistant: Assistant, doc_id: str) -> dict[str, Any]:
    """Remove a document and every chunk of it."""
    record = _find(assistant, doc_id)
    if record is None:
        return {"deleted": False, "doc_id": doc_id, "title": doc_id, "chunks": 0}
    removed = assistant.store.chunk_count(record.doc_id)
    deleted = assistant.delete_document(record.doc_id)
    return {"deleted": deleted, "doc_id": record.doc_id, "title": record.title,
            "chunks": removed, "remaining_chunks": assistant.store.chunk_count(record.doc_id)}


def reindex(assistant: Assistant, doc_id: str) -> dict[str, Any]:
    """Index a document again from its file (e.g. after the file or the settings changed)."""
    record = _find(assistant, doc_id)
    if record is None:
        return failed_dict(doc_id, "not_found", "not indexed")
    source = Path(record.source)
    if not source.is_file():
        return failed_dict(record.file_name, "source_missing", f"the file is no longer at {source}",
                           doc_id=record.doc_id, title=record.title, language=record.language)
    return outcome_dict(_indexer(assistant).ingest_file(source, force=True), record.file_name)


def document_list(assistant: Assistant) -> list[dict[str, Any]]:
    return [
        {"doc_id": r.doc_id, "title": r.title, "file": r.file_name, "language": r.language,
         "format": r.format, "pages": r.pages, "chunks": r.chunks, "indexed_at": r.indexed_at}
        for r in assistant.documents()
    ]


def table_headers(lang: str) -> list[str]:
    return [ui_text(lang, key) for key in TABLE_KEYS]


def documents_table(assistant: Assistant, lang: str) -> dict[str, Any]:
    """The documents table's value: headers in `lang`, one row per document."""
    rows = [
        [r.title, r.file_name, language_name(lang, r.language), r.pages, r.chunks,
         r.indexed_at.replace("T", " ")[:16]]
        for r in assistant.documents()
    ]
    return {"headers": table_headers(lang), "data": rows}


def document_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """(label, doc id) for the document pickers."""
    return [(f"{r.title} ({r.file_name})", r.doc_id) for r in assistant.documents()]


def summary_label(assistant: Assistant, doc_id: str, section: str, lang: str) -> str:
    record = _find(assistant, doc_id)
    title = record.title if record else doc_id
    part = section.split(" > ")[-1] if section else ui_text(lang, "summary_whole")
    return f"{part} — {title}"
