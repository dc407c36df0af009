"""Per-file limits (pages, characters, expansion, time, memory), provoked with real files."""

from __future__ import annotations

import io
import os
import signal
import struct
import threading
import tracemalloc
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import Settings
from ingest import limits as limits_module
from ingest import pipeline
from ingest.errors import IngestError
from ingest.limits import Limits, load_limited
from ingest.loaders import load_document
from ingest.pipeline import Indexer
from tests.conftest import CORPUS_PDFS, FIXTURES

GOOD_PDF = FIXTURES / "good.pdf"
# The limits of a default Settings, without the ones only a reader process can enforce.
DEFAULT = replace(Limits.from_settings(Settings()), max_seconds=None, max_memory_mb=None)
# Generous enough that only the file under test can run into it.
RELAXED_SECONDS = 60.0
MIB = 1024 * 1024


# --- files ---------------------------------------------------------------------------------


def make_pdf(path: Path, pages: int, line: str = "Page {n} of a report about roads.") -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 6, line.format(n=n))
    pdf.output(str(path))
    return path


def raw_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF of these objects (1 0 obj is the catalog), with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def flate_stream(content: bytes, extra: bytes = b"") -> bytes:
    packed = zlib.compress(content, 9)
    return (
        b"<< /Length %d /Filter /FlateDecode %s>>\nstream\n" % (len(packed), extra)
        + packed
        + b"\nendstream"
    )


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def one_page_pdf(content: bytes, xobjects: bytes = b"", extra: list[bytes] | None = None) -> bytes:
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> %s>> >>" % xobjects
    )
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page,
            flate_stream(content),
            FONT,
            *(extra or []),
        ]
    )


def inflating_pdf(path: Path) -> Path:
    """About 100 KB on disk; its one content stream inflates to 100 MB (of spaces)."""
    path.write_bytes(one_page_pdf(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET\n" + b" " * 100 * MIB))
    return path


def repeated_form_pdf(path: Path) -> Path:
    """Under 1 KB: a page that draws one form of 2,000 characters 4,000 times (8M characters)."""
    form = flate_stream(
        b"BT /F1 1 Tf 0 0 Td (" + b"A" * 2000 + b") Tj ET",
        b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /Font << /F1 5 0 R >> >> ",
    )
    path.write_bytes(one_page_pdf(b"/X1 Do\n" * 4000, b"/XObject << /X1 6 0 R >> ", [form]))
    return path


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


def zip_bomb(megabytes: int) -> bytes:
    """A .docx-shaped zip: word/document.xml is `megabytes` MB of zeros, deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open("word/document.xml", "w") as member:
            block = bytes(MIB)
            for _ in range(megabytes):
                member.write(block)
    return out.getvalue()


def lying_zip(bomb: bytes, declared: int) -> bytes:
    """The bomb with its central directory claiming word/document.xml is `declared` bytes."""
    data = bytearray(bomb)
    entry = data.rfind(b"PK\x01\x02")  # the central directory entry of the last member
    assert data[entry + 46 : entry + 46 + 17] == b"word/document.xml"
    struct.pack_into("<I", data, entry + 24, declared)  # "uncompressed size"
    return bytes(data)


def nested_html(path: Path, depth: int) -> Path:
    """Valid, if silly, HTML whose parse takes seconds: `depth` nested <div> tags."""
    path.write_text("<div>" * depth + "deep text" + "</div>" * depth, encoding="utf-8")
    return path


def padded_table_html(path: Path, width: int, rows: int) -> Path:
    """One row `width` cells wide over `rows` one-cell rows: padding makes width x rows cells."""
    wide = "<tr>" + "<td>x</td>" * width + "</tr>"
    path.write_text("<table>" + wide + "<tr><td>y</td></tr>" * rows + "</table>", "utf-8")
    return path


def caught(path: Path, max_bytes: int | None = None, limits: Limits = DEFAULT) -> IngestError:
    with pytest.raises(IngestError) as error:
        load_document(path, max_bytes, limits)
    assert str(error.value).startswith(f"{path.name}: ")
    return error.value


def caught_limited(path: Path, limits: Limits) -> IngestError:
    with pytest.raises(IngestError) as error:
        load_limited(path, None, limits)
    assert str(error.value).startswith(f"{path.name}: ")
    return error.value


def refused_with_peak(path: Path, limits: Limits = DEFAULT) -> tuple[IngestError, int]:
    """The error loading `path` raises, and the most memory Python held meanwhile."""
    tracemalloc.start()
    try:
        error = caught(path, limits=limits)
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def bomb_bytes() -> bytes:
    return zip_bomb(200)


def readers() -> set[int]:
    """The live reader processes this process started (Linux: from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        # "pid (name) state ppid ...": the name may hold spaces, so split after it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and b"reader_main" in cmdline:
            found.add(int(entry.name))
    return found


# --- pages ---------------------------------------------------------------------------------


def test_pdf_over_the_page_limit_is_refused_before_any_text_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PageObject

    path = make_pdf(tmp_path / "long.pdf", pages=12)
    extracted: list[int] = []

    def spy(self: PageObject, *args: object, **kwargs: object) -> str:
        extracted.append(1)
        return ""

    monkeypatch.setattr(PageObject, "extract_text", spy)
    error = caught(path, limits=replace(DEFAULT, max_pages=10))

    assert (error.code, error.params) == ("too_many_pages", {"pages": 12, "limit": 10})
    assert "ASSISTANT_MAX_PAGES" in error.reason
    assert extracted == []


def test_pdf_at_the_page_limit_loads(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "long.pdf", pages=12)

    doc = load_document(path, limits=replace(DEFAULT, max_pages=12))

    assert [p.number for p in doc.pages] == list(range(1, 13))
    assert "Page 12 of a report" in doc.pages[11].text


# --- characters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", "a" * 1000),
        ("notes.md", "# T\n\n" + "b" * 995),
        ("page.html", "<p>" + "c" * 1000 + "</p>"),
    ],
)
def test_text_over_the_character_limit_is_refused(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    error = caught(path, limits=replace(DEFAULT, max_chars=999))

    assert (error.code, error.params) == ("too_much_text", {"limit": 999})
    assert "ASSISTANT_MAX_CHARS" in error.reason
    assert load_document(path, limits=replace(DEFAULT, max_chars=1000)).pages


def test_pdf_extraction_stops_at_the_character_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PageObject

    path = make_pdf(tmp_path / "long.pdf", pages=12, line="Page {n}. " + "word " * 80)
    original = PageObject.extract_text
    pages_read: list[int] = []

    def counting(self: PageObject, *args: object, **kwargs: object) -> str:
        pages_read.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", counting)
    error = caught(path, limits=replace(DEFAULT, max_chars=500))

    assert error.code == "too_much_text"
    # About 400 characters a page: the second page passes the limit, the third is never read.
    assert len(pages_read) == 2


def test_html_table_padding_cannot_blow_up(tmp_path: Path) -> None:
    # 100 KB of HTML that padding would turn into 25 million cells: counted before it is built.
    path = padded_table_html(tmp_path / "table.html", width=5000, rows=5000)

    assert caught(path).code == "too_much_text"


def test_docx_cell_spanning_millions_of_columns_is_refused(tmp_path: Path) -> None:
    import docx
    from docx.oxml.ns import qn

    document = docx.Document()
    table = document.add_table(rows=2, cols=1)
    table.cell(0, 0).text = "wide"
    table.cell(1, 0).text = "narrow"
    span = table.cell(0, 0)._tc.get_or_add_tcPr().makeelement(qn("w:gridSpan"))
    span.set(qn("w:val"), "100000000")
    table.cell(0, 0)._tc.get_or_add_tcPr().append(span)
    path = tmp_path / "span.docx"
    document.save(str(path))

    assert caught(path).code == "too_much_text"


# --- expansion -----------------------------------------------------------------------------


def test_docx_zip_bomb_is_refused_without_inflating_it(tmp_path: Path, bomb_bytes: bytes) -> None:
    path = tmp_path / "bomb.docx"
    path.write_bytes(bomb_bytes)
    assert len(bomb_bytes) < MIB  # 200 MB of zeros in a small file

    error, peak = refused_with_peak(path)

    assert error.code == "decompression_bomb"
    assert error.params["limit"] == 200
    assert int(error.params["ratio"]) > 200
    assert "ASSISTANT_MAX_DECOMPRESSION_RATIO" in error.reason
    assert peak < 20 * MIB


def test_docx_whose_zip_lies_about_sizes_is_never_inflated(
    tmp_path: Path, bomb_bytes: bytes
) -> None:
    # The directory says 1,000 bytes; the data inflates to 200 MB. zipfile stops at 1,000
    # but one read() of the member would inflate all of it first (over 400 MB at peak).
    path = tmp_path / "liar.docx"
    path.write_bytes(lying_zip(bomb_bytes, declared=1000))

    error, peak = refused_with_peak(path)

    assert error.code == "unreadable_docx"
    assert "CRC" in str(error.params["detail"])
    assert peak < 20 * MIB


def test_docx_bomb_passes_when_the_ratio_limit_allows_it(tmp_path: Path) -> None:
    # 2 MB of zeros in about 2 KB: refused at the default ratio, read (and found not to be
    # Word XML) when the limit is raised, so the refusal is the limit's doing.
    path = tmp_path / "small-bomb.docx"
    path.write_bytes(zip_bomb(2))

    assert caught(path).code == "decompression_bomb"
    raised = replace(DEFAULT, max_decompression_ratio=10_000.0)
    assert caught(path, limits=raised).code == "unreadable_docx"


def test_pdf_stream_that_inflates_hugely_is_refused(tmp_path: Path) -> None:
    path = inflating_pdf(tmp_path / "inflating.pdf")

    error, peak = refused_with_peak(path)

    assert error.code == "decompression_bomb"
    assert error.params["limit"] == 200
    assert int(error.params["ratio"]) >= 200
    # pypdf's own cap (75 MB a stream) peaks near 140 MB here; the ratio's cap is 20 MB.
    assert peak < 80 * MIB


def test_pdf_repeating_a_form_is_stopped_while_extracting(tmp_path: Path) -> None:
    # Without limits this file yields 8 million characters (about 30 s of pypdf's time).
    path = repeated_form_pdf(tmp_path / "forms.pdf")
    assert path.stat().st_size < 1024

    error, peak = refused_with_peak(path)

    assert error.code == "decompression_bomb"
    assert peak < 10 * MIB  # the whole text would take over 17 MB
    only_chars = replace(DEFAULT, max_decompression_ratio=None, max_chars=100_000)
    assert caught(path, limits=only_chars).code == "too_much_text"


def test_real_documents_pass_the_default_limits() -> None:
    for path in [*CORPUS_PDFS, GOOD_PDF, *(FIXTURES / n for n in ("sample.docx", "sample.html"))]:
        assert load_document(path, limits=DEFAULT) == load_document(path)


# --- time, memory and crashes: the reader process --------------------------------------------


def test_slow_file_is_stopped_and_the_reader_replaced(tmp_path: Path) -> None:
    slow = nested_html(tmp_path / "slow.html", depth=100_000)  # seconds of parsing
    relaxed = replace(DEFAULT, max_seconds=RELAXED_SECONDS)
    load_limited(GOOD_PDF, None, relaxed)  # a reader is running and warm
    before = readers()

    error = caught_limited(slow, replace(DEFAULT, max_seconds=0.2))

    assert (error.code, error.params) == ("too_slow", {"seconds": 0.2})
    assert "ASSISTANT_MAX_SECONDS_PER_FILE" in error.reason
    assert len(before - readers()) == 1  # the stuck reader is gone
    assert load_limited(GOOD_PDF, None, relaxed) == load_document(GOOD_PDF)


def test_reader_reports_errors_and_documents_like_the_loader(tmp_path: Path) -> None:
    relaxed = replace(DEFAULT, max_seconds=RELAXED_SECONDS)
    path = make_pdf(tmp_path / "long.pdf", pages=3)

    error = caught_limited(path, replace(relaxed, max_pages=2))
    same = caught(path, limits=replace(DEFAULT, max_pages=2))

    assert (error.code, error.params, str(error)) == (same.code, same.params, str(same))
    for name in ("sample.docx", "sample.md"):
        assert load_limited(FIXTURES / name, None, relaxed) == load_document(FIXTURES / name)


def big_file(path: Path, megabytes: int = 128) -> Path:
    """A file read into memory in one piece; sparse, so it costs no disk or time to make.

    One allocation that big is a fresh mapping, which the memory limit counts, whatever
    memory the reader already holds and could reuse.
    """
    with path.open("wb") as file:
        file.truncate(megabytes * MIB)
    return path


def test_file_needing_too_much_memory_is_stopped(tmp_path: Path) -> None:
    path = big_file(tmp_path / "big.txt")
    relaxed = replace(DEFAULT, max_seconds=RELAXED_SECONDS)

    error = caught_limited(path, replace(relaxed, max_memory_mb=16))

    assert (error.code, error.params) == ("too_much_memory", {"limit_mb": 16})
    # With room for it, the file is read (all zeros: not text) by the replacement reader.
    assert caught_limited(path, replace(relaxed, max_memory_mb=1024)).code == "binary_file"


def test_reader_that_dies_is_reported_and_replaced(tmp_path: Path) -> None:
    slow = nested_html(tmp_path / "slow.html", depth=100_000)
    relaxed = replace(DEFAULT, max_seconds=RELAXED_SECONDS)
    load_limited(GOOD_PDF, None, relaxed)

    def kill_readers() -> None:
        for pid in readers():
            os.kill(pid, signal.SIGKILL)

    timer = threading.Timer(0.5, kill_readers)
    timer.start()
    try:
        error = caught_limited(slow, relaxed)
    finally:
        timer.join()

    assert error.code == "parser_crashed"
    assert error.params == {"detail": "killed by SIGKILL"}
    assert load_limited(GOOD_PDF, None, relaxed) == load_document(GOOD_PDF)


def test_without_a_time_limit_files_are_read_in_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_reader(*args: object) -> None:
        raise AssertionError("a reader process was used")

    monkeypatch.setattr(limits_module._POOL, "load", no_reader)
    limits = Limits.from_settings(Settings.load({"max_seconds_per_file": 0}, environ={}))

    assert limits.max_seconds is None
    assert load_limited(GOOD_PDF, None, limits) == load_document(GOOD_PDF)


# --- settings and the pipeline -------------------------------------------------------------


def test_limits_come_from_the_settings_and_zero_turns_one_off() -> None:
    environ = {
        "ASSISTANT_MAX_PAGES": "7",
        "ASSISTANT_MAX_CHARS": "0",
        "ASSISTANT_MAX_DECOMPRESSION_RATIO": "50.5",
        "ASSISTANT_MAX_SECONDS_PER_FILE": "2.5",
    }

    limits = Limits.from_settings(Settings.load(environ=environ))

    assert (limits.max_pages, limits.max_chars) == (7, None)
    assert (limits.max_decompression_ratio, limits.max_seconds) == (50.5, 2.5)
    assert limits.max_memory_mb == limits_module.DEFAULT_MEMORY_MB


class _Store:
    """Just enough of ChunkStore: nothing indexed yet, writes kept in a list."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def recover(self) -> int:
        return 0

    def find_by_doc_id(self, doc_id: str) -> None:
        return None

    def check_room(self) -> None:
        pass

    def replace_document(self, record: object, chunks: list[object]) -> None:
        self.written.append(record.file_name)  # type: ignore[attr-defined]


class _Embedder:
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]


def test_indexer_applies_the_limits_and_goes_on_with_the_next_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "detect_language", lambda text: "en")
    slow = nested_html(tmp_path / "slow.html", depth=100_000)
    long = make_pdf(tmp_path / "long.pdf", pages=4)
    settings = Settings.load(
        {"data_dir": tmp_path / "data", "max_seconds_per_file": 1.0, "max_pages": 3}, environ={}
    )
    store = _Store()
    indexer = Indexer(settings, store, _Embedder())  # type: ignore[arg-type]

    report = indexer.ingest([slow, long, FIXTURES / "sample.txt"])

    outcomes = {o.path.name: o for o in report.outcomes}
    assert (outcomes["slow.html"].code, outcomes["slow.html"].params) == (
        "too_slow",
        {"seconds": 1},
    )
    assert (outcomes["long.pdf"].code, outcomes["long.pdf"].params) == (
        "too_many_pages",
        {"pages": 4, "limit": 3},
    )
    assert outcomes["sample.txt"].status == "indexed"
    assert store.written == ["sample.txt"]


# --- every limit error, for the messages test in test_loaders.py ---------------------------


def limit_errors(tmp_path: Path) -> list[tuple[str, dict]]:
    """(code, params) of each limit error, provoked for real."""
    found: list[IngestError] = []
    relaxed = replace(DEFAULT, max_seconds=RELAXED_SECONDS)
    folder = tmp_path / "limits"
    folder.mkdir()

    def expect(code: str, path: Path, limits: Limits, limited: bool = False) -> None:
        error = caught_limited(path, limits) if limited else caught(path, limits=limits)
        assert error.code == code
        found.append(error)

    expect("too_many_pages", GOOD_PDF, replace(DEFAULT, max_pages=1))
    expect("too_much_text", FIXTURES / "sample.txt", replace(DEFAULT, max_chars=10))
    bomb = folder / "bomb.docx"
    bomb.write_bytes(zip_bomb(2))
    expect("decompression_bomb", bomb, DEFAULT)
    slow = nested_html(folder / "slow.html", depth=100_000)
    expect("too_slow", slow, replace(DEFAULT, max_seconds=0.2), limited=True)
    big = big_file(folder / "big.txt")
    expect("too_much_memory", big, replace(relaxed, max_memory_mb=16), limited=True)
    load_limited(GOOD_PDF, None, relaxed)
    timer = threading.Timer(0.5, lambda: [os.kill(pid, signal.SIGKILL) for pid in readers()])
    timer.start()
    try:
        expect("parser_crashed", slow, relaxed, limited=True)
    finally:
        timer.join()
    return [(error.code, error.params) for error in found]
