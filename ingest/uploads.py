"""Accept files uploaded through the web UI: a safe name, the checks, an atomic copy.

The browser sends a name chosen by the user (or by anyone who can reach the form), so the
name is never used as a path: only a cleaned base name is kept, and the copy is written
inside the upload folder under that name. One name, one file: uploading a file with the
same name again replaces it, and indexing it then replaces the earlier version of that
document (the store keys documents by their resolved path).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath

from ingest.errors import Params
from ingest.loaders import SUPPORTED_SUFFIXES

MAX_NAME_CHARS = 120
# Most file systems allow 255 bytes per name; 120 characters of CJK text or emoji would
# already be 360-480 bytes in UTF-8, so the byte length is capped as well.
MAX_NAME_BYTES = 240
# A longer "suffix" is part of the name (e.g. "notes.from the meeting with ..."), not a type.
_MAX_SUFFIX_CHARS = 16
_COPY_CHUNK = 1024 * 1024
_MIB = 1024 * 1024

_SEPARATORS = re.compile(r"[\\/]")
_WHITESPACE_RUN = re.compile(r"\s+")
_ALLOWED_PUNCTUATION = frozenset(" .-_()")


class UploadRejected(Exception):
    """An upload that is not accepted; nothing has been written to the upload folder.

    `code` and `params` are for the message in the user's language
    (`prompts/<lang>.yaml`, `file_errors[code].format(**params)`); `reason` is the English text.
    Codes: unsupported_type (suffix, supported), no_suffix (supported), too_large (size_mb,
    limit_mb), bad_name, empty_file, not_found.
    """

    def __init__(self, file_name: str, code: str, reason: str, **params: str | int | float) -> None:
        self.file_name = file_name
        self.code = code
        self.reason = reason
        self.params: Params = dict(params)
        super().__init__(f"{file_name}: {reason}" if file_name else reason)

    def __reduce__(self) -> tuple[type[UploadRejected], tuple[str, str, str], dict[str, Params]]:
        # params are keyword arguments; they travel as state (BaseException.__setstate__).
        return (type(self), (self.file_name, self.code, self.reason), {"params": self.params})


def _base_name(name: str) -> str:
    # Both separators, whatever the server's OS: a Windows browser may send "C:\\x\\a.pdf",
    # and "..\\..\\a.pdf" must not become a path on a server that would honour backslashes.
    return _SEPARATORS.split(name)[-1]


def _without_controls(text: str) -> str:
    # Cc: NUL, newlines and other controls; Cf: invisible format characters such as the
    # right-to-left override that makes "invoice\u202efdp.exe" display as "invoiceexe.pdf".
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def display_name(original_name: str) -> str:
    """The name to show the user in messages: their own base name, minus control characters."""
    shown = _without_controls(unicodedata.normalize("NFC", _base_name(original_name))).strip()
    # "folder/" has no base name; show what was sent rather than nothing.
    return shown or _without_controls(original_name).strip()


def _allowed(ch: str) -> bool:
    # Letters of any script (with their combining marks, e.g. Devanagari vowel signs) and
    # decimal digits; everything else could mean something to a shell, a URL or a file system.
    category = unicodedata.category(ch)
    return category[0] in ("L", "M") or category == "Nd" or ch in _ALLOWED_PUNCTUATION


def _split_suffix(name: str) -> tuple[str, str]:
    suffix = PurePosixPath(name).suffix
    if len(suffix) > _MAX_SUFFIX_CHARS or " " in suffix:
        # Not a file type but a dot inside the name: "v1. final", "notes. from the meeting".
        return name, ""
    return name[: len(name) - len(suffix)], suffix.lower()


def _fits(stem: str, suffix: str) -> bool:
    name = stem + suffix
    return len(name) <= MAX_NAME_CHARS and len(name.encode("utf-8")) <= MAX_NAME_BYTES


def safe_file_name(name: str) -> str:
    """A name that is safe to create inside the upload folder, derived from the user's name.

    Raises UploadRejected("bad_name") if nothing usable is left (e.g. "..", "/", "...").
    """
    cleaned = unicodedata.normalize("NFC", _base_name(name))
    # Tabs and newlines become spaces (then collapse); other invisible characters go.
    cleaned = "".join(" " if ch.isspace() else ch for ch in cleaned)
    cleaned = _without_controls(cleaned)
    cleaned = "".join(ch if _allowed(ch) else "_" for ch in cleaned)
    cleaned = _WHITESPACE_RUN.sub(" ", cleaned).strip()
    # No hidden files, and never "." or "..". Trailing dots go too: Windows drops them, so
    # "a.pdf." would be a different name there than here.
    cleaned = cleaned.lstrip(". ").rstrip(". ")
    if not cleaned:
        raise UploadRejected(display_name(name), "bad_name", "the file name cannot be used")

    stem, suffix = _split_suffix(cleaned)
    # "report .pdf" -> "report.pdf": a space before the suffix is a typo, not part of a name.
    stem = stem.rstrip(" ")
    if not _fits(stem, suffix):
        # Cut the stem, never the suffix: the suffix decides how the file is read.
        keep = MAX_NAME_CHARS - len(suffix)
        stem = stem[:keep]
        while stem and not _fits(stem, suffix):
            stem = stem[:-1]
        # The cut may leave a space or dot before the suffix ("report .pdf", "a..pdf").
        stem = stem.rstrip(". ")
    if not stem:
        raise UploadRejected(display_name(name), "bad_name", "the file name cannot be used")
    return stem + suffix


def stage_upload(temp_path: Path, original_name: str, upload_dir: Path, max_bytes: int) -> Path:
    """Check an uploaded file and copy it to `upload_dir` under its safe name; return that path.

    Checks, in order: the name (bad_name), the type (unsupported_type / no_suffix), that the
    temporary file exists (not_found), and its size (empty_file, too_large). A file of the same
    name in `upload_dir` is replaced atomically: readers see the old or the new file, never
    half of one. Raises UploadRejected; on rejection nothing is left in `upload_dir`.
    """
    temp_path = Path(temp_path)
    shown = display_name(original_name)
    safe_name = safe_file_name(original_name)

    suffix = PurePosixPath(safe_name).suffix
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    if not suffix:
        raise UploadRejected(
            shown,
            "no_suffix",
            f"the file has no extension (supported: {supported})",
            supported=supported,
        )
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadRejected(
            shown,
            "unsupported_type",
            f"unsupported file type '{suffix}' (supported: {supported})",
            suffix=suffix,
            supported=supported,
        )

    try:
        size = temp_path.stat().st_size if temp_path.is_file() else None
    except OSError:
        size = None
    if size is None:
        raise UploadRejected(shown, "not_found", "the uploaded file was not found")
    _check_size(shown, size, max_bytes)

    upload_dir.mkdir(parents=True, exist_ok=True)
    root = upload_dir.resolve()
    target = root / safe_name
    # safe_file_name leaves no separator and no "..", so this holds by construction; checked
    # anyway (not with assert, which python -O removes), and on the resolved path, so a
    # symlink planted under that name cannot redirect the write either.
    if target.parent != root or target.resolve().parent != root:
        raise UploadRejected(shown, "bad_name", "the file name cannot be used")

    _copy_atomically(temp_path, target, shown, max_bytes)
    return target


def _check_size(shown: str, size: int, max_bytes: int) -> None:
    if size == 0:
        raise UploadRejected(shown, "empty_file", "the file is empty")
    if size > max_bytes:
        size_mb, limit_mb = round(size / _MIB, 1), round(max_bytes / _MIB, 1)
        raise UploadRejected(
            shown,
            "too_large",
            f"the file is {size_mb} MB; the limit is {limit_mb} MB",
            size_mb=size_mb,
            limit_mb=limit_mb,
        )


def _copy_atomically(source: Path, target: Path, shown: str, max_bytes: int) -> None:
    try:
        handle = source.open("rb")
    except FileNotFoundError:
        raise UploadRejected(shown, "not_found", "the uploaded file was not found") from None
    # The temporary name starts with a dot: a folder ingest skips hidden files, so a copy in
    # progress (or one left by a crash) is never indexed. Same folder, so os.replace is a
    # rename within one file system, which is atomic.
    with handle:
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                written = 0
                while block := handle.read(_COPY_CHUNK):
                    written += len(block)
                    # The size was checked with stat(), but the file may have grown since;
                    # stop at the limit rather than fill the disk.
                    if written > max_bytes:
                        size = max(written, os.fstat(handle.fileno()).st_size)
                        _check_size(shown, size, max_bytes)
                    out.write(block)
                # ... or been emptied.
                _check_size(shown, written, max_bytes)
                out.flush()
                # On disk before the rename, so a crash cannot leave an empty file under the name.
                os.fsync(out.fileno())
            os.replace(temp_name, target)
        except BaseException:
            # Whatever went wrong (a rejection, a full disk, an interrupt), no partial file stays.
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
