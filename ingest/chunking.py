"""Cut a loaded document into chunks that know their page, section and span.

Chunks never cross a page (each cites one page) or a section (each has one
section path), and no chunk's text is longer than the chunk size, whatever the
document holds. Prose is packed sentence by sentence up to the size; a
sentence longer than that is cut at a clause or word boundary, or, with no
space at all, at a character boundary. A table is kept whole in one chunk with
its caption when it fits; a bigger one is split by rows, each part repeating
the table's header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.loaders import Page
from ingest.structure import (
    Outline,
    paragraph_starts,
    repeated_lines,
    split_blocks,
    table_header_size,
    typical_line_width,
)

SECTION_SEPARATOR = " > "
# No sentence is longer than this unless asked for: the default chunk size. The
# answerer, the highlighter and the summaries work on sentences, so this bounds
# their work per passage too.
MAX_SENTENCE_CHARS = 900
# A sentence ends at its full stop, question or exclamation mark, with the closing
# quotes and brackets after it ('… laten komen?" "Onze samenleving …' is two).
_SENTENCE = re.compile(
    r"\S.*?(?:[.!?…][\"”’'»)\]]*(?=\s+[\"“‘'«(¿¡]?[A-ZÁÉÍÓÚÑÜ0-9])|$)", re.S)
# Where a long sentence may be cut, best first: after a clause (a full stop,
# comma, semicolon, colon or dash followed by a space; CJK and Arabic
# punctuation), else at the last space. Matched from the back of a window.
_LAST_CLAUSE = re.compile(r".*(?:[.!?…,;:)\]»”–—](?=\s)|[。！？，、；：؟،؛۔](?=.))", re.S)
_LAST_SPACE = re.compile(r".*\s", re.S)
# A cut between a character and what combines with it (accents, joiners,
# variation selectors) would split one visible character in two.
_JOINING = {"\u200c", "\u200d", "\u034f", "\u2060"}
_MAX_JOIN_STEPS = 32


@dataclass(frozen=True)
class Chunk:
    text: str  # whitespace-normalised passage (table rows keep their line breaks)
    page: int
    section: str  # deepest heading, e.g. "4.1 Pioneers"
    section_path: str  # "4. The three tiers > 4.1 Pioneers"
    chunk_index: int
    char_start: int  # span in the extracted text of `page`
    char_end: int
    kind: str  # "text" or "table"
    # Where paragraphs and list items begin in `text` (character offsets), for summaries
    # that give a section's points. Empty for tables.
    paragraphs: tuple[int, ...] = ()


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def sentence_spans(
    text: str, offset: int = 0, max_chars: int = MAX_SENTENCE_CHARS
) -> list[tuple[int, int]]:
    """Sentence boundaries in `text`, shifted by `offset`.

    No span is longer than `max_chars`: a longer sentence (or a text without
    punctuation) is cut at a clause or word boundary, or at a character
    boundary when it has no spaces. Time is linear in the length of the text.
    """
    limit = max(1, max_chars)
    spans = []
    for m in _SENTENCE.finditer(text):
        start = m.start()
        end = m.end()
        while end > start and text[end - 1].isspace():
            end -= 1
        if end <= start:
            continue
        if end - start <= limit:
            spans.append((offset + start, offset + end))
        else:
            spans.extend((offset + a, offset + b) for a, b in split_span(text, start, end, limit))
    return spans


def split_span(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """`text[start:end]` (no space at either edge) cut into pieces of at most `limit`.

    A piece ends after a clause when one ends in the second half of the window,
    else at the last space in the window, else at a character boundary. Pieces
    have no space at their edges; the spaces between them belong to none.
    """
    limit = max(1, limit)
    pieces: list[tuple[int, int]] = []
    while end - start > limit:
        stop = start + limit  # the piece is text[start:cut] with cut <= stop < end
        cut = _cut(text, start, stop)
        piece_end = cut
        while piece_end > start + 1 and text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((start, piece_end))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def _cut(text: str, start: int, stop: int) -> int:
    """Where the piece that starts at `start` ends, at most at `stop` (text[stop] exists)."""
    # endpos stop + 1: a clause mark at stop - 1 may see the space at stop.
    clause = _LAST_CLAUSE.match(text, start + max(1, (stop - start) // 2), stop + 1)
    if clause is not None and clause.end() <= stop:
        return clause.end()
    space = _LAST_SPACE.match(text, start + 1, stop + 1)
    if space is not None:
        return space.end() - 1
    # No space: a character boundary, stepping back over marks that belong to the
    # character before them (and the character after a zero-width joiner).
    for back in range(min(_MAX_JOIN_STEPS, stop - start - 1) + 1):
        cut = stop - back
        if not (_joins_previous(text[cut]) or text[cut - 1] == "\u200d"):
            return cut
    return stop


def _joins_previous(ch: str) -> bool:
    return (
        ch in _JOINING
        or unicodedata.category(ch) in ("Mn", "Mc", "Me")
        or "\U0001f3fb" <= ch <= "\U0001f3ff"  # skin tone modifiers
    )


def chunk_document(
    pages: Sequence[Page], chunk_size: int = 900, overlap_sentences: int = 1
) -> list[Chunk]:
    size = max(1, chunk_size)
    skip = repeated_lines([p.text for p in pages])
    width = typical_line_width([p.text for p in pages])
    paragraphs: set[int] = set()  # page offsets where paragraphs begin, on the current page
    outline = Outline()
    path: list[tuple[int, str]] = []
    chunks: list[Chunk] = []

    # A sentence cut by a page break: its start is carried to the chunk that
    # finishes it, so the chunk does not begin with a subjectless fragment.
    carry = ""

    def emit(page: Page, start: int, end: int, kind: str, prefix: str = "") -> None:
        raw = page.text[start:end]
        if kind == "table":
            text = "\n".join(normalise_space(ln) for ln in raw.split("\n") if ln.strip())
            if prefix and text:
                text = f"{prefix}\n{text}"
        else:
            text = normalise_space(f"{prefix} {raw}")
        if not text:
            return
        starts: list[int] = []
        if kind == "text":
            for p in sorted(q for q in paragraphs if start <= q < end):
                before = normalise_space(f"{prefix} {page.text[start:p]}")
                starts.append(len(before) + 1 if before else 0)
        chunks.append(
            Chunk(
                text=text,
                page=page.number,
                section=path[-1][1] if path else "",
                section_path=SECTION_SEPARATOR.join(title for _, title in path),
                chunk_index=len(chunks),
                char_start=start,
                char_end=end,
                kind=kind,
                paragraphs=tuple(starts),
            )
        )

    headings: list[tuple[Page, int, int]] = []
    for page in pages:
        prose: list[tuple[int, int]] = []  # sentence spans of the current section on this page
        paragraphs.clear()

        def flush(page: Page = page, prose: list[tuple[int, int]] = prose) -> None:
            nonlocal carry
            if not prose:
                return
            first = page.text[prose[0][0] : prose[0][1]]
            prefix = normalise_space(carry) if carry and first[:1].islower() else ""
            carry = ""
            # The carried start counts against the first chunk's size; when it
            # cannot go with even the first sentence, the chunk goes without it.
            if prefix and len(prefix) + 1 + prose[0][1] - prose[0][0] > size:
                prefix = ""
            first_size = size - len(prefix) - 1 if prefix else size
            for i, (start, end) in enumerate(
                _pack(prose, size, overlap_sentences, first_size)
            ):
                emit(page, start, end, "text", prefix if i == 0 else "")
            last = page.text[prose[-1][0] : prose[-1][1]]
            if not re.search(r"[.!?…:;\"”)]$", last):
                carry = last
            prose.clear()

        for block in split_blocks(page.text, skip, outline):
            if block.kind == "heading":
                flush()
                carry = ""
                headings.append((page, block.start, block.end))
                while path and path[-1][0] >= block.level:
                    path.pop()
                path.append((block.level, block.title))
            elif block.kind == "table":
                flush()
                for start, end, header in table_parts(page.text, block.start, block.end, size):
                    emit(page, start, end, "table", header)
            else:
                prose.extend(sentence_spans(block.text, block.start, size))
                paragraphs.update(paragraph_starts(page.text, block.start, block.end, width))
        flush()
    if not chunks and headings:
        # Nothing but headings (an outline, a table of contents): they are the text.
        path.clear()
        for page in pages:
            lines = [
                span
                for p, a, b in headings
                if p is page
                for span in sentence_spans(page.text[a:b], a, size)
            ]
            for start, end in _pack(lines, size, overlap_sentences):
                emit(page, start, end, "text")
    return chunks


def _pack(
    sentences: Sequence[tuple[int, int]], size: int, overlap: int, first_size: int | None = None
) -> list[tuple[int, int]]:
    """Group consecutive sentences into spans of at most `size` characters
    (`first_size` for the first group). Every sentence must fit in `size`."""
    groups: list[list[tuple[int, int]]] = []
    limits: list[int] = []
    limit = size if first_size is None else first_size
    current: list[tuple[int, int]] = []
    for sent in sentences:
        if current and sent[1] - current[0][0] > limit:
            groups.append(current)
            limits.append(limit)
            limit = size
            current = current[-overlap:] if overlap > 0 else []
            # An overlap that alone fills the chunk would repeat forever.
            if current and sent[1] - current[0][0] > size:
                current = []
        current.append(sent)
    if current:
        # A short tail reads better joined to its neighbour than on its own,
        # when the two fit in one chunk.
        if (
            groups
            and current[-1][1] - current[0][0] < size // 4
            and current[-1][1] - groups[-1][0][0] <= limits[-1]
        ):
            tail = [s for s in current if s not in groups[-1]]
            groups[-1].extend(tail)
        else:
            groups.append(current)
    return [(g[0][0], g[-1][1]) for g in groups]


def table_parts(text: str, start: int, end: int, size: int) -> list[tuple[int, int, str]]:
    """The table at `text[start:end]` as (start, end, header) parts of at most `size`
    characters once rows are whitespace-normalised and the header is put before them.

    A table that fits is one part. A bigger one is split between rows; every part
    after the first repeats the header (caption, column names, the `| --- |` rule),
    which the first holds already. A header longer than half the size is not
    repeated, and a row longer than a part can hold is cut like a long sentence.
    """
    lines: list[tuple[int, int]] = []
    pos = start
    for raw in text[start:end].split("\n"):
        if raw.strip():
            a = pos + len(raw) - len(raw.lstrip())
            lines.append((a, pos + len(raw.rstrip())))
        pos += len(raw) + 1
    if not lines:
        return []
    norm = [len(normalise_space(text[a:b])) for a, b in lines]
    if sum(norm) + len(norm) - 1 <= size:
        return [(start, end, "")]
    n_header = table_header_size([text[a:b] for a, b in lines])
    header = "\n".join(normalise_space(text[a:b]) for a, b in lines[:n_header])
    if not header or len(header) > size // 2:
        n_header, header = 0, ""
    budget = size - len(header) - 1 if header else size
    # Units: whole rows, or the pieces of a row too long for a part.
    units: list[tuple[int, int, int]] = []  # start, end, normalised length
    for (a, b), n in zip(lines[n_header:], norm[n_header:], strict=True):
        if n <= budget:
            units.append((a, b, n))
        else:
            for pa, pb in split_span(text, a, b, budget):
                units.append((pa, pb, len(normalise_space(text[pa:pb]))))
    if not units:
        return [(lines[0][0], lines[-1][1], "")]
    parts: list[tuple[int, int, str]] = []
    first, used = 0, units[0][2]
    for i in range(1, len(units) + 1):
        if i < len(units) and used + 1 + units[i][2] <= budget:
            used += 1 + units[i][2]
            continue
        part_start = lines[0][0] if not parts else units[first][0]
        parts.append((part_start, units[i - 1][1], header if parts else ""))
        if i < len(units):
            first, used = i, units[i][2]
    return parts
