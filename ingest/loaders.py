"""Turn supported files (PDF, Markdown, plain text, HTML, Word) into plain text pages.

The parsing libraries are imported inside the functions that use them, so importing this
module stays cheap for code that only needs the data classes or the list of suffixes.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import IngestError
from ingest.limits import Limits, shown_number

if TYPE_CHECKING:
    from bs4 import PageElement, Tag
    from pypdf import PdfReader

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".pdf", ".md", ".markdown", ".txt", ".html", ".htm", ".docx"}
)


@dataclass(frozen=True)
class Page:
    number: int  # 1-based
    text: str


@dataclass(frozen=True)
class LoadedDocument:
    path: Path
    title: str
    format: str  # "pdf" | "markdown" | "text" | "html" | "docx"
    pages: list[Page]
    content_hash: str  # sha256 hex of the file bytes


# What a format loader hands back: the title it found (None if none) and the page texts.
_Parsed = tuple[str | None, list[str]]
_Parser = Callable[[Path, bytes, "_TextBudget"], _Parsed]

_MIB = 1024 * 1024
_MAX_DETAIL = 120
_BINARY_SNIFF_BYTES = 4096
# Below this much output nothing is a threat, whatever the ratio: a 2 KB file may well hold
# 500 KB of text or drawing commands, and the ratio limit is not meant to refuse it.
_EXPANSION_FLOOR = _MIB

# Cc covers NUL and the other C0/C1 controls; tab and newline carry layout and stay.
# The control characters (Unicode category Cc: C0, DEL and C1) but newline and tab.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_WHITESPACE_RUN = re.compile(r"\s+")
_BLANK_LINE_RUNS = re.compile(r"\n{3,}")


def load_document(
    path: Path, max_bytes: int | None = None, limits: Limits | None = None
) -> LoadedDocument:
    """Read one file and return its text, title and hash; raise IngestError if it is unusable.

    `limits` bounds pages, extracted characters and expansion while reading; its time and memory
    limits need a process to enforce them (`ingest.limits.load_limited`) and are ignored here.
    """
    path = Path(path)
    _check_is_file(path)
    suffix = path.suffix.lower()
    handler = _HANDLERS.get(suffix)
    if handler is None:
        shown = suffix or "(no extension)"
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        # "(no extension)" is English, so a missing suffix gets a code of its own.
        code, params = (
            ("unsupported_type", {"suffix": suffix, "supported": supported})
            if suffix
            else ("no_suffix", {"supported": supported})
        )
        raise IngestError(
            path,
            f"unsupported file type '{shown}' (supported: {supported})",
            code=code,
            params=params,
        )
    fmt, parse = handler
    data = _read_bytes(path, max_bytes)
    # Checked up front so every format reports an empty file the same way.
    if not data:
        raise IngestError(path, "the file is empty", code="empty_file")
    title, texts = parse(path, data, _TextBudget(path, limits or Limits(), len(data)))
    pages = [Page(number=i, text=text) for i, text in enumerate(texts, start=1)]
    return LoadedDocument(
        path=path,
        title=_clean_title(title) or path.stem,
        format=fmt,
        pages=pages,
        content_hash=hashlib.sha256(data).hexdigest(),
    )


# --- reading -------------------------------------------------------------------------------


def _check_is_file(path: Path) -> None:
    # Done before the suffix check: a folder or a typo should not be reported as a file type.
    try:
        if path.is_dir():
            raise IngestError(path, "is a directory, not a file", code="is_directory")
        if not path.exists():
            raise IngestError(path, "file not found", code="not_found")
    except OSError as err:
        detail = str(err.strerror or err)
        raise IngestError(
            path, f"cannot access the file ({detail})", code="no_access", params={"detail": detail}
        ) from None


def _read_bytes(path: Path, max_bytes: int | None) -> bytes:
    try:
        size = path.stat().st_size
        # Refuse before reading, so an oversized file is never pulled into memory.
        if max_bytes is not None and size > max_bytes:
            raise _too_large(path, size, max_bytes)
        data = path.read_bytes()
    except FileNotFoundError:
        raise IngestError(path, "file not found", code="not_found") from None
    except PermissionError:
        raise IngestError(
            path, "permission denied, the file cannot be read", code="permission_denied"
        ) from None
    except OSError as err:
        detail = str(err.strerror or err)
        raise IngestError(
            path, f"cannot read the file ({detail})", code="read_error", params={"detail": detail}
        ) from None
    # The file may have grown between stat() and read().
    if max_bytes is not None and len(data) > max_bytes:
        raise _too_large(path, len(data), max_bytes)
    return data


def _too_large(path: Path, size: int, limit: int) -> IngestError:
    # The params are always in MB (the unit of the max_file_mb setting), rounded like the text.
    return IngestError(
        path,
        f"file is {_format_size(size)}, larger than the {_format_size(limit)} limit",
        code="too_large",
        params={"size_mb": round(size / _MIB, 1), "limit_mb": round(limit / _MIB, 1)},
    )


def _format_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    if n < _MIB:
        return f"{n / 1024:.1f} KB"
    return f"{n / _MIB:.1f} MB"


def _short_detail(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    detail = lines[0] if lines else type(err).__name__
    if len(detail) > _MAX_DETAIL:
        detail = detail[: _MAX_DETAIL - 1] + "…"
    return detail


def _unreadable(
    path: Path, err: BaseException, what: str, code: str, page: int | None = None
) -> IngestError:
    """`what (detail)` for a parser's exception, the detail being its first line."""
    detail = _short_detail(err)
    if page is None:
        return IngestError(path, f"{what} ({detail})", code=code, params={"detail": detail})
    # The page number is a param of its own: "page" is a word to translate.
    return IngestError(
        path, f"{what} (page {page}: {detail})", code=code, params={"page": page, "detail": detail}
    )


def import_parsers() -> None:
    """Import every parsing library now (a reader process does, before its first file)."""
    import bs4.element  # noqa: F401
    import docx.table  # noqa: F401
    import pypdf.errors  # noqa: F401


# --- limits --------------------------------------------------------------------------------


class _TextBudget:
    """The characters read from one file so far, checked against the limits as they grow."""

    def __init__(self, path: Path, limits: Limits, file_size: int) -> None:
        self.path = path
        self.limits = limits
        self.file_size = max(file_size, 1)
        self.used = 0
        ratio = limits.max_decompression_ratio
        # The most output one file may expand to: a ratio of its size, never below the floor.
        self.expansion_cap: int | None = (
            None if ratio is None else max(_EXPANSION_FLOOR, int(ratio * self.file_size))
        )
        # Kept once raised: a parser that swallows the error (pypdf does, inside form
        # XObjects) hits it again on its next piece of text, and the caller checks at the end.
        self.exceeded: IngestError | None = None

    def add(self, n: int) -> None:
        self.check(n)
        self.used += n

    def check(self, n: int) -> None:
        """Raise if `n` more characters would pass a limit, without counting them."""
        if self.exceeded is None:
            total = self.used + n
            max_chars = self.limits.max_chars
            if max_chars is not None and total > max_chars:
                self.too_much_text()
            elif self.expansion_cap is not None and total > self.expansion_cap:
                self.expanded(total)
        self.raise_if_exceeded()

    def raise_if_exceeded(self) -> None:
        if self.exceeded is not None:
            raise self.exceeded

    def too_much_text(self) -> IngestError:
        limit = self.limits.max_chars or 0
        self.exceeded = IngestError(
            self.path,
            f"the file holds more than {limit:,} characters of text, the limit "
            "(set ASSISTANT_MAX_CHARS to raise it)",
            code="too_much_text",
            params={"limit": limit},
        )
        return self.exceeded

    def expanded(self, output: int) -> IngestError:
        """The error for a file that unpacks to `output` bytes or characters, or more."""
        ratio = output // self.file_size
        limit = shown_number(self.limits.max_decompression_ratio or 0)
        self.exceeded = IngestError(
            self.path,
            f"the file expands to more than {ratio} times its own size when read, above the "
            f"limit of {limit} (a decompression bomb?); set ASSISTANT_MAX_DECOMPRESSION_RATIO "
            "to raise it",
            code="decompression_bomb",
            params={"ratio": ratio, "limit": limit},
        )
        return self.exceeded


# --- text clean-up -------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """NFC, Unix newlines, no trailing spaces, no control characters, no blank edges."""
    if _SURROGATE.search(text):
        # A PDF can map its character codes to UTF-16 halves one at a time, and pypdf then
        # yields surrogates: text that cannot be written as UTF-8, so not stored or embedded.
        # Halves that make a pair become their character; lone halves are dropped.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # One regular expression instead of a look at each character: 6 MB in 0.05 s, not 5 s.
    text = _CONTROLS.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _clean_title(title: str | None) -> str:
    if not title:
        return ""
    title = normalize_text(title)
    return _WHITESPACE_RUN.sub(" ", title).strip()


def _join_blocks(blocks: list[str]) -> str:
    """Blocks separated by a blank line, except list items, which stay one per line."""
    parts: list[str] = []
    previous_is_item = False
    for block in blocks:
        is_item = block.lstrip().startswith("- ")
        if parts:
            parts.append("\n" if is_item and previous_is_item else "\n\n")
        parts.append(block)
        previous_is_item = is_item
    return _BLANK_LINE_RUNS.sub("\n\n", "".join(parts))


def _pipe_row(cells: Iterable[str]) -> str:
    # A literal '|' inside a cell would split it into two columns downstream.
    escaped = [_WHITESPACE_RUN.sub(" ", c).strip().replace("|", "\\|") for c in cells]
    return "| " + " | ".join(escaped) + " |"


def _pipe_table(rows: list[list[str]], budget: _TextBudget) -> list[str]:
    """Rows as a Markdown pipe table, the first row taken as the header."""
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return []
    width = max(len(row) for row in rows)
    # Padding makes a table rows x width cells, each at least "|  " wide: one wide row over
    # many short ones would turn a small file into a huge text, so that is counted first.
    budget.check((len(rows) + 1) * (3 * width + 2))
    # Ragged rows (colspan, missing cells) are padded so every line has the same columns.
    padded = [row + [""] * (width - len(row)) for row in rows]
    # The delimiter row makes this the same shape as tables written by hand in .md files.
    lines = [_pipe_row(padded[0]), "| " + " | ".join(["---"] * width) + " |"]
    lines.extend(_pipe_row(row) for row in padded[1:])
    return lines


# --- PDF -----------------------------------------------------------------------------------


# The output caps pypdf puts on decoding one stream (75 MB each by default).
_PDF_OUTPUT_LIMITS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "brotli_maximum_output_length",
    "jbig2_maximum_output_length",
    "array_based_stream_maximum_output_length",
)
# pypdf raises LimitReachedError for all its safety limits; these words mark the ones about
# decoding stream data, which are the ones tightened to the ratio limit here.
_PDF_DECODE_LIMIT_WORDS = ("decompress", "decoding work", "output bytes")


def _parse_pdf(path: Path, data: bytes, budget: _TextBudget) -> _Parsed:
    from pypdf import apply_configuration, get_configuration

    # pypdf tolerates junk before the header, but a file without one is some other format, and
    # saying so beats pypdf's "stream has ended unexpectedly".
    if b"%PDF-" not in data[:1024]:
        raise IngestError(
            path, "not a readable PDF (no PDF header: it is another kind of file)", code="not_pdf"
        )
    caps: dict[str, int] = {}
    if budget.expansion_cap is not None:
        # One stream may not unpack to more than the whole file may expand to.
        current = get_configuration()
        caps = {
            name: min(getattr(current, name), budget.expansion_cap) for name in _PDF_OUTPUT_LIMITS
        }
    with apply_configuration(**caps):
        return _read_pdf(path, data, budget)


def _pdf_decode_limit(err: Exception, budget: _TextBudget) -> IngestError | None:
    if budget.expansion_cap is None or not any(w in str(err) for w in _PDF_DECODE_LIMIT_WORDS):
        return None
    return budget.expanded(budget.expansion_cap)


def _read_pdf(path: Path, data: bytes, budget: _TextBudget) -> _Parsed:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(data))
        # The constructor already tries the empty password but keeps quiet about the outcome;
        # asking again is how to learn whether the pages can be read.
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise IngestError(path, "the PDF is encrypted with a password", code="encrypted")
        page_count = len(reader.pages)
    except (IngestError, MemoryError):
        # MemoryError goes up to the reader process, which reports the memory limit.
        raise
    except LimitReachedError as err:
        raise _pdf_decode_limit(err, budget) or _unreadable(
            path, err, "not a readable PDF", "unreadable_pdf"
        ) from None
    except DependencyError as err:
        # pypdf needs an extra package for AES encryption; without it the file is unreadable.
        raise _unreadable(path, err, "the PDF cannot be decrypted", "cannot_decrypt") from None
    except Exception as err:
        # pypdf raises many exception types on damaged files; none may escape as a traceback.
        raise _unreadable(path, err, "not a readable PDF", "unreadable_pdf") from None
    if page_count == 0:
        raise IngestError(path, "the PDF has no pages", code="no_pages")
    max_pages = budget.limits.max_pages
    # Counting pages reads only the page tree, so this comes before any text is extracted.
    if max_pages is not None and page_count > max_pages:
        raise IngestError(
            path,
            f"the PDF has {page_count} pages, more than the limit of {max_pages} "
            "(set ASSISTANT_MAX_PAGES to raise it)",
            code="too_many_pages",
            params={"pages": page_count, "limit": max_pages},
        )

    def count(text: str, *_: object) -> None:
        # Called for every piece of text as pypdf finds it: a page that repeats a form a
        # thousand times is stopped at the limit, not after it has been built in memory.
        budget.add(len(text))

    texts: list[str] = []
    for index in range(page_count):
        before = budget.used
        try:
            raw = reader.pages[index].extract_text(visitor_text=count) or ""
            budget.raise_if_exceeded()
            # The pieces should add up to the page; if pypdf added text it did not report,
            # that counts too.
            budget.add(max(0, len(raw) - (budget.used - before)))
        except (IngestError, MemoryError):
            raise
        except LimitReachedError as err:
            raise _pdf_decode_limit(err, budget) or _unreadable(
                path, err, "not a readable PDF", "unreadable_pdf_page", page=index + 1
            ) from None
        except Exception as err:
            raise _unreadable(
                path, err, "not a readable PDF", "unreadable_pdf_page", page=index + 1
            ) from None
        texts.append(normalize_text(raw))
    if not any(text.strip() for text in texts):
        # Not the generic no_text: the UI can tell the user what to do (OCR the PDF).
        raise IngestError(
            path,
            "no extractable text: the PDF looks scanned or image-only (OCR it first)",
            code="no_text_pdf",
        )
    return _pdf_title(reader), texts


def _pdf_title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        title = metadata.title if metadata is not None else None
    except Exception:
        # A broken Info dictionary only costs us the title, not the document.
        return None
    return str(title) if title else None


# --- Markdown and plain text ---------------------------------------------------------------


def _decode_text(data: bytes) -> str | None:
    """Decode text files from Notepad-era Windows as well as UTF-8; None if it looks binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    # A stray NUL is dropped later like any control character; many of them mean a binary
    # file (or BOM-less UTF-16) that would decode into garbage.
    head = data[:_BINARY_SNIFF_BYTES]
    if head.count(0) > len(head) // 10:
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    # latin-1 maps every byte, so this is the fallback that cannot fail.
    return data.decode("latin-1")


def _parse_plain(path: Path, data: bytes, budget: _TextBudget) -> str:
    decoded = _decode_text(data)
    if decoded is None:
        raise IngestError(path, "not a text file (it contains binary data)", code="binary_file")
    budget.add(len(decoded))
    text = normalize_text(decoded)
    if not text.strip():
        # Only whitespace: to the user that is an empty file, so the same code.
        raise IngestError(path, "the file is empty", code="empty_file")
    return text


def _parse_text(path: Path, data: bytes, budget: _TextBudget) -> _Parsed:
    return None, [_parse_plain(path, data, budget)]


_MD_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_MD_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _parse_markdown(path: Path, data: bytes, budget: _TextBudget) -> _Parsed:
    text = _parse_plain(path, data, budget)
    return _markdown_title(text), [text]


def _markdown_title(text: str) -> str | None:
    fence: str | None = None
    for line in text.split("\n"):
        # A '# comment' inside a fenced shell snippet is not a heading.
        fence_match = _MD_FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker
            elif fence == marker:
                fence = None
            continue
        if fence is None:
            heading = _MD_H1.match(line)
            if heading:
                return heading.group(1)
    return None


# --- HTML ----------------------------------------------------------------------------------

_HTML_DROP = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object")
_HTML_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_HTML_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "header",
        "hr",
        "html",
        "legend",
        "main",
        "nav",
        "p",
        "section",
        "summary",
    ]
)


class _HtmlText:
    """Walks a parsed HTML tree and writes Markdown-like blocks (headings, lists, tables)."""

    def __init__(self, budget: _TextBudget) -> None:
        self.blocks: list[str] = []
        self._budget = budget
        # Inline text of the block being built; each inner list is one line (split by <br>).
        self._lines: list[list[str]] = [[]]
        self._list_depth = 0
        # The "- " marker waits here until the list item's first text is flushed.
        self._pending_prefix = ""

    def walk(self, root: Tag) -> None:
        from bs4 import NavigableString, Tag
        from bs4.element import PreformattedString

        # A stack instead of recursion: tags nested a few thousand deep (any parser accepts
        # them) would otherwise end in RecursionError. It holds the children still to visit
        # of each open tag, and what to do once a tag's children are done.
        stack: list[Iterator[PageElement] | Callable[[], None]] = [iter(root.children)]
        while stack:
            top = stack.pop()
            if callable(top):
                top()
                continue
            child = next(top, None)
            if child is None:
                continue
            stack.append(top)
            if isinstance(child, PreformattedString):
                continue  # comments, doctype, CDATA, processing instructions
            if isinstance(child, NavigableString):
                self._lines[-1].append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name == "br":
                self._lines.append([])
            elif name in _HTML_HEADINGS:
                self.flush()
                heading = _inline_text(child)
                if heading:
                    self._add("#" * _HTML_HEADINGS[name] + " " + heading)
            elif name in ("ul", "ol", "menu"):
                self.flush()
                self._list_depth += 1
                stack.append(self._end_list)
                stack.append(iter(child.children))
            elif name == "li":
                self.flush()
                self._pending_prefix = "  " * max(self._list_depth - 1, 0) + "- "
                stack.append(self._end_item)
                stack.append(iter(child.children))
            elif name == "table":
                self.flush()
                self._add("\n".join(_pipe_table(_html_table_rows(child), self._budget)))
            elif name == "pre":
                self.flush()
                self._add(child.get_text())
            elif name in _HTML_BLOCKS:
                self.flush()
                stack.append(self.flush)
                stack.append(iter(child.children))
            else:
                stack.append(iter(child.children))

    def _end_list(self) -> None:
        self._list_depth -= 1

    def _end_item(self) -> None:
        self.flush()
        self._pending_prefix = ""

    def _add(self, block: str) -> None:
        self._budget.add(len(block))
        self.blocks.append(block)

    def flush(self) -> None:
        lines = [_WHITESPACE_RUN.sub(" ", "".join(parts)).strip() for parts in self._lines]
        self._lines = [[]]
        text = "\n".join(lines).strip("\n")
        if text:
            self._add(self._pending_prefix + text)
            self._pending_prefix = ""


def _inline_text(tag: Tag) -> str:
    return _WHITESPACE_RUN.sub(" ", tag.get_text(" ")).strip()


def _html_table_rows(table: Tag) -> list[list[str]]:
    rows: list[list[str]] = []
    for tr in table.find_all("tr"):
        # Rows of a nested table belong to that table's cell text, not to this table.
        if tr.find_parent("table") is not table:
            continue
        rows.append([_inline_text(cell) for cell in tr.find_all(["td", "th"], recursive=False)])
    return rows


def _parse_html(path: Path, data: bytes, budget: _TextBudget) -> _Parsed:
    from bs4 import BeautifulSoup, Comment

    try:
        # Bytes, not str: BeautifulSoup then honours <meta charset> and byte order marks.
        soup = BeautifulSoup(data, "html.parser")
    except MemoryError:
        raise
    except Exception as err:
        raise _unreadable(path, err, "not a readable HTML file", "unreadable_html") from None

    # An inline <svg> may carry its own <title>; that one names a drawing, not the page.
    # Only <title> tags are asked for their parents: asking every tag costs depth x tags.
    title_tag = next((t for t in soup.find_all("title") if t.find_parent("svg") is None), None)
    title = title_tag.get_text(" ") if title_tag is not None else None
    for tag in soup.find_all(_HTML_DROP):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    if not title:
        h1 = soup.find("h1")
        title = h1.get_text(" ") if h1 is not None else None

    writer = _HtmlText(budget)
    writer.walk(soup)
    writer.flush()
    text = normalize_text(_join_blocks(writer.blocks))
    if not text.strip():
        raise IngestError(path, "no text found in the HTML", code="no_text_html")
    return title, [text]


# --- Word ----------------------------------------------------------------------------------

_DOCX_HEADING = re.compile(r"^heading\s+([1-9])$", re.IGNORECASE)


_ZIP_READ = 64 * 1024


def _unpacked_zip(data: bytes, budget: _TextBudget) -> bytes:
    """The zip's members, read within the expansion limit, as a zip that is safe to open.

    The sizes a zip declares are checked first, then the real ones while reading. zipfile
    never returns more than a member declares, but one unbounded read() of a member that lies
    about its size still inflates all of it in memory first; python-docx reads that way, so it
    is given this copy (stored, not compressed) instead of the original.
    """
    cap = budget.expansion_cap
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        declared = sum(info.file_size for info in members)
        if cap is not None and declared > cap:
            raise budget.expanded(declared)
        # By name, later entries winning, as zipfile itself resolves a name given twice.
        contents: dict[str, bytes] = {}
        total = 0
        for info in members:
            parts: list[bytes] = []
            with archive.open(info) as member:
                while chunk := member.read(_ZIP_READ):
                    total += len(chunk)
                    if cap is not None and total > cap:
                        raise budget.expanded(total)
                    parts.append(chunk)
            contents[info.filename] = b"".join(parts)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for name, content in contents.items():
            copy.writestr(name, content)
    return out.getvalue()


def _parse_docx(path: Path, data: bytes, budget: _TextBudget) -> _Parsed:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(_unpacked_zip(data, budget)))
        blocks: list[str] = []
        title: str | None = None
        first_h1: str | None = None
        # Body order matters: a table sits under the heading that precedes it.
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                rows: list[list[str]] = []
                cells = 0
                for row in item.rows:
                    # A cell spanning n grid columns comes back n times: a few bytes of XML
                    # can ask for millions, so spans are counted before python-docx makes them.
                    cells += sum(tc.grid_span for tc in row._tr.tc_lst)
                    budget.check(3 * cells)
                    rows.append([cell.text for cell in row.cells])
                table_lines = _pipe_table(rows, budget)
                if table_lines:
                    blocks.append("\n".join(table_lines))
                    budget.add(len(blocks[-1]))
                continue
            text = item.text.strip()
            if not text:
                continue
            style = item.style.name if item.style is not None else ""
            heading = _DOCX_HEADING.match(style or "")
            if (style or "").lower() == "title":
                title = title or text
                blocks.append(text)
            elif heading:
                level = int(heading.group(1))
                if level == 1 and first_h1 is None:
                    first_h1 = text
                blocks.append("#" * level + " " + text)
            elif (style or "").lower().startswith("list"):
                blocks.append("- " + text)
            else:
                blocks.append(text)
            budget.add(len(blocks[-1]))
    except (IngestError, MemoryError):
        raise
    except Exception as err:
        # Bad zip, missing parts, not a Word package, malformed XML: all mean the same to users.
        raise _unreadable(path, err, "not a readable Word document", "unreadable_docx") from None

    text = normalize_text(_join_blocks(blocks))
    if not text.strip():
        raise IngestError(path, "the file is empty", code="empty_file")
    return title or first_h1, [text]


_HANDLERS: dict[str, tuple[str, _Parser]] = {
    ".pdf": ("pdf", _parse_pdf),
    ".md": ("markdown", _parse_markdown),
    ".markdown": ("markdown", _parse_markdown),
    ".txt": ("text", _parse_text),
    ".html": ("html", _parse_html),
    ".htm": ("html", _parse_html),
    ".docx": ("docx", _parse_docx),
}
