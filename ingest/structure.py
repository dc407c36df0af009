"""Recover document structure from extracted text: headings, tables and prose.

PDF text extraction loses fonts, so headings are recognised by shape:
Markdown `#` headings (Markdown, HTML and Word are converted to them by the
loaders) and numbered headings such as `4. Findings` or `4.1 Pioneers`.
Tables are recognised by a caption (`Table 3.`, `Tabla 3.`, `Tabel 3.`) or
by a Markdown pipe layout, and by rows that carry numbers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

BlockKind = Literal["heading", "text", "table"]

_MD_HEADING = re.compile(r"^(#{1,6})\s+(\S.*)$")
# "4. Findings" (a single number needs its dot, so table rows such as
# "1 Chile 70.56" are not headings) or "4.1 Pioneers" / "4.1. Pioneers". Each
# number but the last ends in its dot, so a run of digits is read one way only
# (an ambiguous pattern took exponential time on "1.1111...").
_NUMBERED_HEADING = re.compile(r"^(\d{1,2}\.(?:\d{1,2}\.)*(?:\d{1,2}\.?)?)\s+(\S.*)$")
# A line longer than this is prose, whatever its shape: a heading becomes the
# section of every chunk under it, and is embedded with each of them.
MAX_HEADING_CHARS = 200
_PIPE_RULE = re.compile(r"^\|?[\s:|-]*-[\s:|-]*$")
_CAPTION = re.compile(r"^(table|tabla|tabel|tabela|cuadro|figure|figura|figuur)\s+\d+\s*[.:]", re.I)
_DECIMAL_OR_INT = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)?\s*%?(?![\w])")
_SENTENCE_END = re.compile(r"[.!?…:;]\s*$")
# A paragraph ends with its sentence: a colon introduces a list, a semicolon runs on.
_PARAGRAPH_END = re.compile(r"[.!?…:][\"')”’]*$")
_ITEM_START = re.compile(r"^(?:[•▪◦●‣*–-]|\d{1,2}[.)])\s+\S")
# PDF text keeps the layout's line breaks but not its paragraph gaps. The last line of a
# paragraph is the one that ends a sentence well short of the full line width.
PARAGRAPH_END_SHARE = 0.8
_WIDTH_PERCENTILE = 0.8
_MIN_WIDTH_LINE = 20


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    start: int  # character span in the page text
    end: int
    text: str
    level: int = 0  # heading depth, 1 = top
    title: str = ""  # heading text without markup


class _Line(NamedTuple):
    start: int
    end: int  # excluding the newline
    text: str
    stripped: str


def _lines(text: str) -> Iterator[_Line]:
    pos = 0
    for raw in text.split("\n"):
        yield _Line(pos, pos + len(raw), raw, raw.strip())
        pos += len(raw) + 1


def line_signature(line: str) -> str:
    """A line with digits masked, so running footers like 'Report · 3' compare equal."""
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def repeated_lines(pages: Sequence[str], min_pages: int = 3) -> frozenset[str]:
    """Signatures of header/footer lines: the first or last lines repeated on most pages."""
    if len(pages) < min_pages:
        return frozenset()
    counts: Counter[str] = Counter()
    for page in pages:
        lines = [ln.strip() for ln in page.split("\n") if ln.strip()]
        edge = set(lines[:2] + lines[-2:])
        counts.update({line_signature(ln) for ln in edge})
    threshold = max(min_pages, (len(pages) + 1) // 2)
    return frozenset(sig for sig, n in counts.items() if n >= threshold)


@dataclass(frozen=True)
class Heading:
    level: int
    title: str
    number: tuple[int, ...] = ()  # empty for unnumbered (Markdown) headings


class Outline:
    """Keeps numbered headings in order across pages.

    A numbered list inside a section ("1. Invest in ...") has the shape of a
    heading; it is recognised by numbering that goes backwards.
    """

    def __init__(self) -> None:
        self.last: tuple[int, ...] = ()

    def accept(self, heading: Heading) -> bool:
        if not heading.number:
            return True
        if heading.number > self.last:
            self.last = heading.number
            return True
        return False


def heading_of(line: str) -> Heading | None:
    """The heading this line is, if it has a heading's shape."""
    stripped = line.strip()
    if len(stripped) > MAX_HEADING_CHARS:
        return None
    md = _MD_HEADING.match(stripped)
    if md:
        # Closing hashes ("## Title ##") are markup, unless they are all there is.
        title = md.group(2).rstrip()
        return Heading(len(md.group(1)), title.rstrip("#").rstrip() or title[0])
    num = _NUMBERED_HEADING.match(stripped)
    if not num:
        return None
    number, rest = num.group(1), num.group(2)
    words = rest.split()
    if (
        len(stripped) > 90
        or len(words) > 12
        or not rest[0].isupper()
        or _SENTENCE_END.search(rest)
        or any(_DECIMAL_OR_INT.fullmatch(w) for w in words)
    ):
        return None
    parts = tuple(int(p) for p in number.split(".") if p)
    label = number.rstrip(".") if len(parts) > 1 else number
    return Heading(len(parts), f"{label} {rest}".strip(), parts)


def _is_row(line: str) -> bool:
    s = line.strip()
    if not s:
        return False
    if s.startswith("|"):
        return True
    # A number first: most prose lines have none. split(None, 12): a very long line is not
    # read word by word only to be refused.
    return (
        bool(_DECIMAL_OR_INT.search(s))
        and len(s.split(None, 12)) <= 12
        and not _SENTENCE_END.search(s)
    )


def _is_header_row(line: str) -> bool:
    s = line.strip()
    return bool(s) and len(s.split(None, 10)) <= 10 and not _SENTENCE_END.search(s)


def table_header_size(lines: Sequence[str]) -> int:
    """How many of a table's first lines are its header: the caption, the column
    names, and a Markdown table's `| --- |` rule."""
    n = 0
    if lines and _CAPTION.match(lines[0].strip()):
        n = 1
        if n < len(lines) and not lines[n].strip().startswith("|"):
            header_row = _is_header_row(lines[n]) and not _is_row(lines[n])
            return n + 1 if header_row else n
    if n < len(lines) and lines[n].strip().startswith("|"):
        n += 1
        if n < len(lines) and _PIPE_RULE.match(lines[n].strip()):
            n += 1
    return n


def split_blocks(
    page_text: str, skip: frozenset[str] = frozenset(), outline: Outline | None = None
) -> list[Block]:
    """Cut one page into heading, table and prose blocks, with spans into `page_text`.

    Pass the same `outline` for every page of a document.
    """
    outline = outline or Outline()
    blocks: list[Block] = []
    lines = list(_lines(page_text))
    if skip:
        lines = [ln for ln in lines if line_signature(ln.text) not in skip]
    prose: list[_Line] = []

    def flush_prose() -> None:
        if prose:
            start, end = prose[0].start, prose[-1].end
            blocks.append(Block("text", start, end, page_text[start:end]))
            prose.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.stripped
        if not s:
            flush_prose()
            i += 1
            continue
        # Only a line that starts with "#" or a digit can be a heading.
        heading = heading_of(s) if s[0] == "#" or s[0].isdigit() else None
        if heading and outline.accept(heading):
            flush_prose()
            blocks.append(Block("heading", line.start, line.end, s, heading.level, heading.title))
            i += 1
            continue
        table_end = _table_end(lines, i)
        if table_end > i:
            flush_prose()
            start, end = line.start, lines[table_end - 1].end
            blocks.append(Block("table", start, end, page_text[start:end]))
            i = table_end
            continue
        prose.append(line)
        i += 1
    flush_prose()
    return blocks


def typical_line_width(pages: Sequence[str]) -> int:
    """The width of a full line of prose in a document, in characters (0 if unknown)."""
    lengths = sorted(
        len(line.strip()) for page in pages for line in page.split("\n")
        if len(line.strip()) >= _MIN_WIDTH_LINE
    )
    return lengths[int(_WIDTH_PERCENTILE * (len(lengths) - 1))] if lengths else 0


def paragraph_starts(text: str, start: int, end: int, width: int) -> list[int]:
    """Offsets in `text` where a paragraph or a list item begins, within the prose block
    `text[start:end]`. A block begins a paragraph unless it continues a sentence (it starts
    in lower case, after a page break); inside it, a line begins one after a blank line,
    after a short line that ends a sentence, or when it starts with a bullet."""
    starts: list[int] = []
    new = True
    for line in _lines(text[start:end]):
        s = line.stripped
        if not s:
            new = True
            continue
        first = start + line.start + len(line.text) - len(line.text.lstrip())
        if (new and not (first == start and s[0].islower())) or _ITEM_START.match(s):
            starts.append(first)
        new = bool(_PARAGRAPH_END.search(s)) and (
            width == 0 or len(s) < PARAGRAPH_END_SHARE * width
        )
    return starts


def _table_end(lines: Sequence[_Line], i: int) -> int:
    """Index after the table that starts at line i, or i if none starts there."""
    s = lines[i].stripped
    j = i
    if _CAPTION.match(s):
        j = i + 1
        if j < len(lines) and _is_header_row(lines[j].text) and not _is_row(lines[j].text):
            j += 1
        while j < len(lines) and _is_row(lines[j].text) and not heading_of(lines[j].text):
            j += 1
        return j if j > i + 1 else i
    if s.startswith("|"):
        while j < len(lines) and lines[j].stripped.startswith("|"):
            j += 1
        return j if j - i >= 2 else i
    # An uncaptioned run of at least three numeric rows is a table too.
    while j < len(lines) and _is_row(lines[j].text) and not heading_of(lines[j].text):
        j += 1
    return j if j - i >= 3 else i
