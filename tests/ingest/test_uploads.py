from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from ingest.loaders import SUPPORTED_SUFFIXES, load_document
from ingest.uploads import (
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    UploadRejected,
    display_name,
    safe_file_name,
    stage_upload,
)
from tests.conftest import FIXTURES

MB = 1024 * 1024


# --- safe_file_name ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        pytest.param("report.pdf", "report.pdf", id="plain"),
        pytest.param("../../etc/passwd", "passwd", id="posix-traversal"),
        pytest.param("..\\..\\x.pdf", "x.pdf", id="windows-traversal"),
        pytest.param("/abs/path/to/a.md", "a.md", id="absolute"),
        pytest.param("C:\\Users\\ana\\Informe 2024.PDF", "Informe 2024.pdf", id="windows-path"),
        pytest.param("a/b\\c/..\\d.txt", "d.txt", id="mixed-separators"),
        pytest.param("résumé ñandú über.docx", "résumé ñandú über.docx", id="unicode-letters"),
        pytest.param("Cafe\u0301.md", "Café.md", id="nfc"),
        pytest.param("Отчёт 日本語.pdf", "Отчёт 日本語.pdf", id="other-scripts"),
        pytest.param("a<b>c:d|e?f*g\"h'.html", "a_b_c_d_e_f_g_h_.html", id="punctuation"),
        pytest.param("x$(rm -rf ~);`id`.txt", "x_(rm -rf _)__id_.txt", id="shell"),
        pytest.param("My Report (final) v2_1-b.md", "My Report (final) v2_1-b.md", id="allowed"),
        pytest.param("  lots \t of\n  space  .txt", "lots of space.txt", id="whitespace"),
        pytest.param("a\x00b\x07c\u202eexe.pdf", "abcexe.pdf", id="controls"),
        pytest.param(".hidden.pdf", "hidden.pdf", id="hidden"),
        pytest.param("...pdf", "pdf", id="only-dots-before"),
        pytest.param(". .. . notes.md", "notes.md", id="leading-dots-and-spaces"),
        pytest.param("report.PDF", "report.pdf", id="suffix-lower-cased"),
        pytest.param("Report.Final.PDF", "Report.Final.pdf", id="only-last-suffix"),
        pytest.param("notes.", "notes", id="trailing-dot"),
        pytest.param("📄.pdf", "_.pdf", id="emoji"),
    ],
)
def test_safe_file_name(name: str, safe: str) -> None:
    assert safe_file_name(name) == safe


@pytest.mark.parametrize(
    "name", ["", " ", ".", "..", "...", "/", "\\", "../", "..\\..\\", "a/..", " . . ", "\x00\x01"]
)
def test_unusable_names_are_rejected(name: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        safe_file_name(name)

    assert caught.value.code == "bad_name"
    assert caught.value.params == {}


def test_safe_names_never_escape_or_hide() -> None:
    nasty = ["../x.pdf", "..\\x.pdf", "./.././.x.md", "a/../../b.txt", "....//....//c.pdf"]
    for name in nasty:
        safe = safe_file_name(name)
        assert "/" not in safe and "\\" not in safe, name
        assert not safe.startswith("."), name
        assert safe not in (".", ".."), name


def test_long_names_are_cut_but_keep_their_suffix() -> None:
    safe = safe_file_name("x" * 300 + ".PDF")

    assert len(safe) == MAX_NAME_CHARS
    assert safe == "x" * (MAX_NAME_CHARS - 4) + ".pdf"


def test_long_names_in_multibyte_scripts_fit_the_file_system() -> None:
    # 120 CJK characters are 360 bytes: more than a file name may have on most systems.
    safe = safe_file_name("報告書" * 60 + ".docx")

    assert safe.endswith(".docx")
    assert len(safe.encode("utf-8")) <= MAX_NAME_BYTES
    assert len(safe) <= MAX_NAME_CHARS


def test_cut_does_not_leave_a_space_or_dot_before_the_suffix() -> None:
    name = "a" * (MAX_NAME_CHARS - 6) + " b" * 20 + ".md"

    safe = safe_file_name(name)

    assert safe.endswith(".md") and not safe.endswith(" .md")
    assert len(safe) <= MAX_NAME_CHARS


def test_a_long_tail_after_a_dot_is_not_a_suffix() -> None:
    safe = safe_file_name("minutes. " + "word " * 40)

    assert safe.startswith("minutes. word")
    assert len(safe) <= MAX_NAME_CHARS


def test_display_name_is_the_users_base_name_without_controls() -> None:
    assert display_name("C:\\docs\\Año\x00 2024\u202e.pdf") == "Año 2024.pdf"
    assert display_name("../../etc/passwd") == "passwd"


def test_upload_rejected_message_attributes_and_pickling() -> None:
    err = UploadRejected("big.pdf", "too_large", "the file is 61.2 MB", size_mb=61.2, limit_mb=50.0)

    assert str(err) == "big.pdf: the file is 61.2 MB"
    assert (err.file_name, err.code, err.reason) == ("big.pdf", "too_large", "the file is 61.2 MB")
    assert err.params == {"size_mb": 61.2, "limit_mb": 50.0}
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.file_name, copy.code, copy.reason, copy.params, str(copy)) == (
        err.file_name,
        err.code,
        err.reason,
        err.params,
        str(err),
    )


# --- stage_upload: checks ------------------------------------------------------------------


def temp_upload(tmp_path: Path, content: bytes, name: str = "tmpabc123") -> Path:
    """A file as the web framework leaves it: random name, no suffix, outside upload_dir."""
    folder = tmp_path / "incoming"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def test_unsupported_type(tmp_path: Path) -> None:
    source = temp_upload(tmp_path, b"a,b\n1,2\n")
    uploads = tmp_path / "uploads"

    with pytest.raises(UploadRejected) as caught:
        stage_upload(source, "data.CSV", uploads, 10 * MB)

    err = caught.value
    assert err.code == "unsupported_type"
    assert err.file_name == "data.CSV"
    assert err.params == {"suffix": ".csv", "supported": ", ".join(sorted(SUPPORTED_SUFFIXES))}
    assert str(err).startswith("data.CSV: unsupported file type '.csv' (supported: .docx, ")
    assert not uploads.exists() or not any(uploads.iterdir())


def test_type_is_checked_before_size(tmp_path: Path) -> None:
    source = temp_upload(tmp_path, b"")

    with pytest.raises(UploadRejected) as caught:
        stage_upload(source, "movie.exe", tmp_path / "uploads", 10)

    assert caught.value.code == "unsupported_type"


def test_name_without_suffix(tmp_path: Path) -> None:
    source = temp_upload(tmp_path, b"text")

    with pytest.raises(UploadRejected) as caught:
        stage_upload(source, "README", tmp_path / "uploads", 10 * MB)

    assert caught.value.code == "no_suffix"
    assert caught.value.params == {"supported": ", ".join(sorted(SUPPORTED_SUFFIXES))}


def test_hidden_file_trick_does_not_pass_as_a_type(tmp_path: Path) -> None:
    # ".pdf" is a hidden file with no suffix; once the dot is stripped, "pdf" has no type.
    source = temp_upload(tmp_path, b"%PDF-1.4")

    with pytest.raises(UploadRejected) as caught:
        stage_upload(source, ".pdf", tmp_path / "uploads", 10 * MB)

    assert caught.value.code == "no_suffix"


def test_empty_file(tmp_path: Path) -> None:
    source = temp_upload(tmp_path, b"")
    uploads = tmp_path / "uploads"

    with pytest.raises(UploadRejected) as caught:
        stage_upload(source, "notes.md", uploads, 10 * MB)

    assert (caught.value.code, caught.value.params) == ("empty_file", {})
    assert not uploads.exists() or not any(uploads.iterdir())


def test_too_large(tmp_path: Path) -> None:
    source = tmp_path / "incoming"
    with source.open("wb") as handle:
        handle.truncate(int(61.2 * MB))  # sparse: no 61 MB written to the test disk
    uploads = tmp_path / "uploads"

    with pytest.raises(UploadRejected) as caught:
        stage_upload(source, "big.pdf", uploads, 50 * MB)

    err = caught.value
    assert err.code == "too_large"
    assert err.params == {"size_mb": 61.2, "limit_mb": 50.0}
    assert str(err) == "big.pdf: the file is 61.2 MB; the limit is 50.0 MB"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_size_limit_is_inclusive(tmp_path: Path) -> None:
    source = temp_upload(tmp_path, b"0123456789")

    staged = stage_upload(source, "ten.txt", tmp_path / "uploads", 10)

    assert staged.read_bytes() == b"0123456789"
    with pytest.raises(UploadRejected, match="too_large|limit") as caught:
        stage_upload(source, "ten.txt", tmp_path / "uploads", 9)
    assert caught.value.code == "too_large"


def test_missing_temp_file(tmp_path: Path) -> None:
    with pytest.raises(UploadRejected) as caught:
        stage_upload(tmp_path / "gone", "report.pdf", tmp_path / "uploads", 10 * MB)

    assert (caught.value.code, caught.value.file_name) == ("not_found", "report.pdf")


def test_bad_name_is_rejected_first(tmp_path: Path) -> None:
    with pytest.raises(UploadRejected) as caught:
        stage_upload(tmp_path / "gone", "../..", tmp_path / "uploads", 10 * MB)

    assert caught.value.code == "bad_name"


# --- stage_upload: copying -----------------------------------------------------------------


def test_staging_copies_under_the_safe_name(tmp_path: Path) -> None:
    data = (FIXTURES / "good.pdf").read_bytes()
    source = temp_upload(tmp_path, data)
    uploads = tmp_path / "data" / "uploads"  # created on first use

    staged = stage_upload(source, "C:\\Users\\ana\\Guía de instalación.PDF", uploads, 10 * MB)

    assert staged == uploads.resolve() / "Guía de instalación.pdf"
    assert staged.read_bytes() == data
    assert source.read_bytes() == data  # a copy: the framework cleans up its own temp file
    # Nothing else left behind (no temporary .part files).
    assert sorted(p.name for p in uploads.iterdir()) == ["Guía de instalación.pdf"]
    assert load_document(staged).title == "Guía de instalación del sistema"


def test_same_name_replaces_the_earlier_upload(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    first = stage_upload(temp_upload(tmp_path, b"version one"), "notes.txt", uploads, MB)
    second = stage_upload(temp_upload(tmp_path, b"version two"), "sub/notes.txt", uploads, MB)

    assert first == second
    assert second.read_text() == "version two"
    assert [p.name for p in uploads.iterdir()] == ["notes.txt"]


def test_rejected_upload_keeps_the_earlier_version(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    staged = stage_upload(temp_upload(tmp_path, b"version one"), "notes.txt", uploads, MB)

    with pytest.raises(UploadRejected):
        stage_upload(temp_upload(tmp_path, b""), "notes.txt", uploads, MB)

    assert staged.read_text() == "version one"
    assert [p.name for p in uploads.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    "name", ["../../escape.txt", "..\\..\\escape.txt", "/tmp/escape.txt", "....//escape.txt"]
)
def test_staging_stays_inside_upload_dir(tmp_path: Path, name: str) -> None:
    uploads = tmp_path / "a" / "b" / "uploads"

    staged = stage_upload(temp_upload(tmp_path, b"x"), name, uploads, MB)

    assert staged.parent == uploads.resolve()
    assert staged.name == "escape.txt"
    assert not (tmp_path / "a" / "escape.txt").exists()
    assert not (tmp_path / "escape.txt").exists()


def test_symlink_in_upload_dir_is_not_followed(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    (uploads / "notes.txt").symlink_to(outside)

    with pytest.raises(UploadRejected) as caught:
        stage_upload(temp_upload(tmp_path, b"attack"), "notes.txt", uploads, MB)

    assert caught.value.code == "bad_name"
    assert outside.read_text() == "precious"


def test_failed_copy_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = tmp_path / "uploads"
    source = temp_upload(tmp_path, b"some text")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)

    with pytest.raises(OSError, match="No space left"):
        stage_upload(source, "notes.txt", uploads, MB)

    assert list(uploads.iterdir()) == []


def test_file_that_grows_after_the_check_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    uploads = tmp_path / "uploads"
    source = temp_upload(tmp_path, b"small")
    real_mkstemp = tempfile.mkstemp

    def grow_then_mkstemp(**kwargs: str | Path) -> tuple[int, str]:
        # The size checks are done; the file grows before it is copied.
        source.write_bytes(b"x" * 100)
        return real_mkstemp(**kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("ingest.uploads.tempfile.mkstemp", grow_then_mkstemp)

    with pytest.raises(UploadRejected) as caught:
        stage_upload(source, "notes.txt", uploads, 10)

    assert caught.value.code == "too_large"
    assert caught.value.params["size_mb"] == 0.0  # 100 bytes, in MB
    assert list(uploads.iterdir()) == []
