"""Fuzzing the loaders and the chunker with hypothesis.

Each case is a real file: a seed (the fixtures, a corpus PDF, small hand-made PDFs and HTML)
truncated, mutated (bit flips, bytes inserted or deleted, chunks duplicated), or random bytes
behind the right header. The real loader reads it, in this process, under the default limits
and a time bound. It may only return a sound document (which then chunks soundly) or raise an
IngestError that names the file and has a message; anything else is a bug.

The runs are derandomized, so every run tries the same cases. The regression tests at the end
keep inputs the fuzzing found (they are fast and not marked slow).
"""

from __future__ import annotations

import copy
import io
import signal
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import Settings
from ingest.chunking import Chunk, chunk_document, normalise_space
from ingest.errors import IngestError
from ingest.limits import Limits
from ingest.loaders import LoadedDocument, Page, load_document
from ingest.structure import line_signature, repeated_lines
from tests.conftest import CORPUS_PDFS, FIXTURES
from tests.ingest.test_limits import FONT, nested_html, raw_pdf

REPO = Path(__file__).resolve().parents[2]
LIMITS = replace(Limits.from_settings(Settings()), max_seconds=None, max_memory_mb=None)
# Per case: a file that takes longer than this is a hang, whatever the loader would say.
CASE_SECONDS = 10.0
FILE_ERRORS = set(yaml.safe_load((REPO / "prompts" / "en.yaml").read_text("utf-8"))["file_errors"])


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- seeds ---------------------------------------------------------------------------------


def _content(text: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)


TO_UNICODE = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Fuzz def 1 begincodespacerange <00> <FF> endcodespacerange
3 beginbfchar <41> <00C9> <42> <0133> <43> <00200041> endbfchar
1 beginbfrange <44> <46> <0064> endbfrange endcmap CMapName currentdict /CMap defineresource pop
end end"""


def tiny_pdf() -> bytes:
    """Two pages, nothing compressed: mutations land on operators, strings, a ToUnicode map,
    the UTF-16 title and the xref rather than on compressed data."""
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
        b"/Resources << /Font << /F1 5 0 R /F2 8 0 R >> >> >>"
    )
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >>",
            page % 4,
            _content(b"BT /F1 12 Tf 72 720 Td (1. Introduction) Tj 0 -20 Td "
                     b"(The caf\\351 opened in 2024. It serves tea.) Tj ET"),
            FONT,
            page % 7,
            _content(b"BT /F1 12 Tf 72 720 Td [(Table) -250 (1.)] TJ 0 -14 Td "
                     b"<48656c6c6f20776f726c64> Tj T* (next line) ' /F2 12 Tf (ABCDEF) Tj ET"),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /ToUnicode 9 0 R >>",
            _content(TO_UNICODE),
            b"<< /Title <FEFF004B00720061006E0074> /Author (A. Writer) >>",
        ],
        trailer=b"/Info 10 0 R ",
    )


RICH_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Ver&shy;slag</title>
<style>p{}</style></head><body><svg><title>drawing</title></svg><h1>Kop één</h1>
<p>Eerste alinea.<br>Tweede regel &amp; meer.</p><!-- weg -->
<ul><li>een<ul><li>twee</li></ul></li><li>drie</li></ul><ol><li>vier</li></ol>
<table><caption>Tabel 1.</caption><tr><th>a</th><th>b|c</th></tr>
<tr><td colspan="2">d<table><tr><td>binnen</td></tr></table></td></tr></table>
<pre>  code
  blok</pre><h2>Deel 2</h2><div><section><p>Slot.</p></section></div></body></html>
""".encode()

PDF_SEEDS = [tiny_pdf(), *(FIXTURES / n for n in ("good.pdf", "blank-page.pdf"))]
PDF_SEEDS = [s if isinstance(s, bytes) else s.read_bytes() for s in PDF_SEEDS]
ENCRYPTED_SEED = (FIXTURES / "empty-password.pdf").read_bytes()
CORPUS_SEED = (CORPUS_PDFS[0].parent / "ilia-2025-nl.pdf").read_bytes()
DOCX_SEED = (FIXTURES / "sample.docx").read_bytes()
HTML_SEEDS = [(FIXTURES / "sample.html").read_bytes(), RICH_HTML]
TEXT_SEEDS = [(FIXTURES / n).read_bytes() for n in ("sample.md", "sample.txt")]


def _members(zipped: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


DOCX_MEMBERS = _members(DOCX_SEED)


def rezip(document_xml: bytes) -> bytes:
    """The sample .docx with word/document.xml replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in DOCX_MEMBERS.items():
            archive.writestr(name, document_xml if name == "word/document.xml" else content)
    return out.getvalue()


# --- strategies ----------------------------------------------------------------------------


# Inserted whole, these reach deeper than random bytes: numbers at the edges of what parsers
# expect, references (to the page tree itself, to objects that do not exist), delimiters.
PDF_TOKENS = [b" 0 R", b" 2 0 R", b"/Kids [2 0 R]", b"/Parent 3 0 R", b"/Count 999999999",
              b"/Length -1", b"/Length 99999999", b" -2147483648 ", b" 1e308 ", b"<<", b">>",
              b"[", b"]", b"(", b")", b"endobj", b"stream\n", b"endstream", b"/Filter /FlateDecode",
              b"/Filter /LZWDecode", b"/Encrypt 9 0 R", b" Tj", b" TJ", b" Do", b" BT", b" ET",
              b"/ToUnicode 4 0 R", b"xref\n0 1\n", b"trailer", b"startxref\n0\n",
              # UTF-16 edge values, for the ToUnicode map and the title.
              b"<D800>", b"<DFFF>", b"<0000>", b"<FFFE>", b"<FEFFD800>", b"<00>"]
ZIP_TOKENS = [b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"\xff\xff\xff\xff", b"\x00\x00"]


@st.composite
def mutated(
    draw: st.DrawFn, seed: bytes, keep: int = 0, tokens: tuple[bytes, ...] = ()
) -> bytes:
    """The seed after one to eight edits of the kinds that break parsers.

    The first `keep` bytes (a format's header) are left alone: breaking them only tests the
    one check that looks at the header, and truncated and random cases do that already.
    """
    data = bytearray(seed)
    kinds = ["flip", "insert", "delete", "duplicate", "byte"] + (["token"] if tokens else [])
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(kinds))
        at = draw(st.integers(min(keep, len(data)), len(data)))
        if kind == "token":
            data[at:at] = draw(st.sampled_from(tokens))
        elif kind == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte" and at < len(data):
            # Bytes that mean something to one of the formats, more often than chance would.
            data[at] = draw(st.sampled_from(b"\x00\xff<>/()[]{}%\\\n\r 0789ABFRTjPK\x80\xc3"))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 256))]
        elif kind == "duplicate":
            size = draw(st.integers(1, 512))
            to = draw(st.integers(0, len(data)))
            data[to:to] = data[at : at + size]
    return bytes(data)


def truncated(seed: bytes) -> st.SearchStrategy[bytes]:
    return st.integers(0, len(seed)).map(lambda n: seed[:n])


def variants(
    seeds: list[bytes], header: bytes = b"", tokens: tuple[bytes, ...] = ()
) -> st.SearchStrategy[bytes]:
    """Truncated, mutated and random files around these seeds."""
    seed = st.sampled_from(seeds)
    return st.one_of(
        seed.flatmap(truncated),
        seed.flatmap(lambda s: mutated(s, keep=len(header), tokens=tokens)),
        st.binary(max_size=2048).map(lambda tail: header + tail),
    )


@st.composite
def docx_xml(draw: st.DrawFn) -> bytes:
    """word/document.xml of the sample, still well-formed, with elements copied, dropped or
    given other attributes: what reaches python-docx and the table code, not the XML parser."""
    from lxml import etree

    root = etree.fromstring(DOCX_MEMBERS["word/document.xml"])
    for _ in range(draw(st.integers(1, 6))):
        elements = list(root.iter())[1:]
        if not elements:
            break
        element = draw(st.sampled_from(elements))
        kind = draw(st.sampled_from(["copy", "drop", "attribute", "text", "nest"]))
        parent = element.getparent()
        if kind == "copy" and parent is not None:
            for _ in range(draw(st.integers(1, 3))):
                parent.insert(parent.index(element), copy.deepcopy(element))
        elif kind == "drop" and parent is not None:
            parent.remove(element)
        elif kind == "attribute":
            name = draw(st.sampled_from([f"{{{W}}}val", f"{{{W}}}w", "other"]))
            element.set(name, draw(st.sampled_from(ATTRIBUTE_VALUES)))
        elif kind == "text":
            element.text = draw(st.text(max_size=20).map(_xml_safe))
        elif kind == "nest":
            # Any element may turn up where another is expected: a table inside a run, etc.
            tag = draw(st.sampled_from(["tbl", "tr", "tc", "p", "r", "t", "gridSpan", "vMerge"]))
            element.append(etree.Element(f"{{{W}}}{tag}"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
ATTRIBUTE_VALUES = ["0", "1", "-1", "2", "999999", "continue", "restart", "Heading1", "Title",
                    "ListParagraph", "", "x", "1e9"]


def _xml_safe(text: str) -> str:
    # XML 1.0 cannot carry most control characters at all; lxml refuses to write them.
    keep = ("Cc", "Cs")
    return "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch) not in keep)


_TAGS = ["<div>", "</div>", "<p>", "</p>", "<table>", "</table>", "<tr>", "</tr>", "<td>",
         "</td>", "<th colspan=3>", "<ul>", "</ul>", "<ol>", "<li>", "</li>", "<br>", "<pre>",
         "</pre>", "<h1>", "</h1>", "<h3>", "<title>", "</title>", "<svg>", "</svg>",
         "<script>", "</script>", "<!--", "-->", "<![CDATA[", "]]>", "<?xml ?>", "&amp;",
         "&#0;", "&#x110000;", "&nbsp;", "|", "- ", "# ", "\n", " ", "text", "Één.", "\x00"]

tag_soup = st.lists(
    st.one_of(st.sampled_from(_TAGS), st.text(max_size=8)), max_size=60
).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))

text_bytes = st.tuples(
    st.text(max_size=400), st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "cp1252"])
).map(lambda pair: pair[0].encode(pair[1], "replace"))


# --- the check every case goes through -----------------------------------------------------


class Hang(BaseException):
    """Not an Exception, so no handler in the loaders can turn it into an IngestError."""


@contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def is_clean(text: str) -> bool:
    """No control characters but newline and tab, and nothing UTF-8 cannot encode."""
    if any(ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        return False
    text.encode("utf-8")
    return True


def check_chunks(pages: list[Page], chunks: list[Chunk], size: int | None = None) -> None:
    """Chunks are sound: numbered in order, each a span of its page, and with a `size`,
    none longer than that."""
    by_number = {page.number: page for page in pages}
    for index, chunk in enumerate(chunks):
        assert chunk.chunk_index == index
        assert chunk.kind in ("text", "table")
        assert chunk.page in by_number, chunk
        page_text = by_number[chunk.page].text
        assert 0 <= chunk.char_start < chunk.char_end <= len(page_text), chunk
        assert chunk.text and chunk.text == chunk.text.strip(), chunk
        if size is not None:
            assert len(chunk.text) <= size, (len(chunk.text), size, chunk)
        raw = page_text[chunk.char_start : chunk.char_end]
        if chunk.kind == "table":
            # The rows; a part of a split table after the first repeats the header first.
            lines = [normalise_space(line) for line in raw.split("\n") if line.strip()]
            assert chunk.text.endswith("\n".join(lines)), chunk
        else:
            # The passage itself, after the start of a sentence carried over a page break.
            assert chunk.text.endswith(normalise_space(raw)), chunk


def check_file(folder: Path, suffix: str, data: bytes) -> None:
    path = folder / f"case{suffix}"
    path.write_bytes(data)
    try:
        with time_bound(CASE_SECONDS):
            doc = load_document(path, limits=LIMITS)
    except IngestError as err:
        assert err.code in FILE_ERRORS, err.code
        assert err.reason
        assert str(err).startswith(f"{path.name}: "), str(err)
        assert all(isinstance(v, str | int | float) for v in err.params.values())
        return
    assert isinstance(doc, LoadedDocument)
    assert doc.pages, "a document without pages must be an error"
    assert [p.number for p in doc.pages] == list(range(1, len(doc.pages) + 1))
    for page in doc.pages:
        assert isinstance(page.text, str) and is_clean(page.text), repr(page.text[:200])
    assert doc.title and is_clean(doc.title), repr(doc.title)
    assert any(page.text.strip() for page in doc.pages)
    with time_bound(CASE_SECONDS):
        check_chunks(doc.pages, chunk_document(doc.pages, 900, 1), 900)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --- the fuzz tests: 4,200 files and 800 chunker cases, about a minute or two on two cores ----


@pytest.mark.slow
@fuzz_settings(1500)
@given(data=variants(PDF_SEEDS, header=b"%PDF-1.", tokens=tuple(PDF_TOKENS)))
def test_fuzzed_pdfs_load_or_fail_cleanly(folder: Path, data: bytes) -> None:
    check_file(folder, ".pdf", data)


@pytest.mark.slow
@fuzz_settings(300)
@given(
    data=st.one_of(
        truncated(CORPUS_SEED),
        mutated(CORPUS_SEED, keep=8, tokens=tuple(PDF_TOKENS)),
        mutated(ENCRYPTED_SEED, keep=8, tokens=tuple(PDF_TOKENS)),
    )
)
def test_fuzzed_larger_and_encrypted_pdfs_load_or_fail_cleanly(folder: Path, data: bytes) -> None:
    check_file(folder, ".pdf", data)


def mapped_pdf(targets: list[int], title: bytes) -> bytes:
    """The tiny PDF with its ToUnicode map sending A, B, ... to these UTF-16 code units, and
    this title (UTF-16 with a byte order mark, as PDFs write non-Latin titles)."""
    pairs = b" ".join(b"<%02X> <%04X>" % (0x41 + i, t) for i, t in enumerate(targets))
    cmap = TO_UNICODE.replace(
        b"3 beginbfchar <41> <00C9> <42> <0133> <43> <00200041> endbfchar",
        b"%d beginbfchar %s endbfchar" % (len(targets), pairs),
    )
    assert cmap != TO_UNICODE
    return tiny_pdf().replace(
        b"<< /Length %d >>\nstream\n%s" % (len(TO_UNICODE), TO_UNICODE),
        b"<< /Length %d >>\nstream\n%s" % (len(cmap), cmap),
    ).replace(b"<FEFF004B00720061006E0074>", b"<FEFF%s>" % title.hex().upper().encode())


@pytest.mark.slow
@fuzz_settings(200)
@given(
    targets=st.lists(
        # Any code unit, with the ranges that trouble decoders drawn more often than chance.
        st.one_of(
            st.integers(0, 0xFFFF), st.integers(0xD800, 0xDFFF), st.integers(0, 0x9F)
        ),
        min_size=1,
        max_size=6,
    ),
    title=st.binary(max_size=12),
)
def test_fuzzed_pdf_text_mappings_load_or_fail_cleanly(
    folder: Path, targets: list[int], title: bytes
) -> None:
    # Any code unit at all, lone surrogates and controls included: what the text becomes
    # must still be clean text. (The cross-reference offsets go stale; pypdf repairs them.)
    check_file(folder, ".pdf", mapped_pdf(targets, title))


@pytest.mark.slow
@fuzz_settings(800)
@given(
    data=st.one_of(
        variants([DOCX_SEED], header=b"PK\x03\x04", tokens=tuple(ZIP_TOKENS)),
        # The zip intact, the XML inside broken: reaches lxml.
        mutated(DOCX_MEMBERS["word/document.xml"]).map(rezip),
        # The XML well-formed but odd: reaches python-docx and the table code.
        docx_xml().map(rezip),
    )
)
def test_fuzzed_docx_load_or_fail_cleanly(folder: Path, data: bytes) -> None:
    check_file(folder, ".docx", data)


@pytest.mark.slow
@fuzz_settings(800)
@given(data=st.one_of(variants(HTML_SEEDS), tag_soup))
def test_fuzzed_html_loads_or_fails_cleanly(folder: Path, data: bytes) -> None:
    check_file(folder, ".html", data)


@pytest.mark.slow
@fuzz_settings(600)
@given(
    suffix=st.sampled_from([".md", ".txt"]),
    data=st.one_of(variants(TEXT_SEEDS, header=b"\xef\xbb\xbf"), text_bytes),
)
def test_fuzzed_text_and_markdown_load_or_fail_cleanly(
    folder: Path, suffix: str, data: bytes
) -> None:
    check_file(folder, suffix, data)


# --- the chunker ---------------------------------------------------------------------------

# Pieces that steer the text into headings, tables, captions, lists and sentence breaks.
_PIECES = ["\n", "\n\n", ". ", "? ", "… ", "# ", "## ", "1. ", "4.1 ", "| a | 1 |", "Table 3. ",
           "Tabla 2: ", "12,5 %", " 2024 ", "- ", "¿", "Él", "ijs", "\t", "  ", "A", "z"]

page_text = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=30)), max_size=80).map(
    "".join
)


def _pages(texts: list[str]) -> list[Page]:
    return [Page(number=n, text=text) for n, text in enumerate(texts, start=1)]


@pytest.mark.slow
@fuzz_settings(500)
@given(
    texts=st.lists(st.one_of(page_text, st.text()), min_size=1, max_size=5),
    size=st.integers(1, 400),
    overlap=st.integers(0, 3),
)
def test_chunker_takes_any_text(texts: list[str], size: int, overlap: int) -> None:
    pages = _pages(texts)
    with time_bound(CASE_SECONDS):
        chunks = chunk_document(pages, size, overlap)
    check_chunks(pages, chunks, size)


sentence = st.builds(
    lambda first, rest, end: first + rest + end,
    st.sampled_from("ABCDEÉÑ"),
    st.text(alphabet="abcdefghij ,éñü", max_size=30),
    st.sampled_from([".", "!", "?"]),
)


@pytest.mark.slow
@fuzz_settings(300)
@given(
    pages=st.lists(st.lists(sentence, min_size=1, max_size=40), min_size=1, max_size=4),
    size=st.integers(140, 600),
    overlap=st.integers(0, 2),
)
def test_chunker_keeps_to_the_size_when_sentences_are_short(
    pages: list[list[str]], size: int, overlap: int
) -> None:
    # Sentences of at most 32 characters, under a quarter of the size: none is cut.
    texts = [" ".join(sentences) for sentences in pages]
    chunks = chunk_document(_pages(texts), size, overlap)

    check_chunks(_pages(texts), chunks, size)
    assert all(c.char_end - c.char_start <= size for c in chunks)
    # Every word is in a chunk of its page, except on a page the chunker takes for a running
    # header or footer (each page here is one line, so the same text on most pages).
    covered = {(c.page, w) for c in chunks for w in c.text.split()}
    skip = repeated_lines(texts)
    for number, text in enumerate(texts, start=1):
        if line_signature(text) not in skip:
            assert all((number, w) in covered for w in text.split()), (number, text)


# --- regressions: inputs the fuzzing found ---------------------------------------------------


def test_pdf_text_mapped_to_utf16_halves_is_clean(tmp_path: Path) -> None:
    # Found by test_fuzzed_pdf_text_mappings_load_or_fail_cleanly: "A" mapped to the lone
    # surrogate U+D800 came out as such, text that cannot be encoded, stored or embedded.
    path = tmp_path / "halves.pdf"
    path.write_bytes(mapped_pdf([0xD800], b""))
    assert load_document(path).pages[1].text == "Table 1.\nHello worldnext lineBCdef"
    check_file(tmp_path, ".pdf", path.read_bytes())

    # Two codes whose halves make a pair give the character they spell.
    path.write_bytes(mapped_pdf([0xD83D, 0xDE00], "Ω".encode("utf-16-be")))
    doc = load_document(path)
    assert doc.pages[1].text == "Table 1.\nHello worldnext line😀Cdef"
    assert doc.title == "Ω"


def test_deeply_nested_html_is_read(tmp_path: Path) -> None:
    # Found while choosing a slow input for the time limit: the HTML walker recursed once per
    # level and raised RecursionError (not an IngestError) past about 1,000 levels.
    path = nested_html(tmp_path / "deep.html", depth=5000)

    assert load_document(path).pages[0].text == "deep text"
    check_file(tmp_path, ".html", path.read_bytes())
