"""Cut a loaded document into chunks that know their page, section and span.

Chunks never cross a page (each cites one page) or a section (each has one
section path). Prose is packed sentence by sentence up to a size; a table is
kept whole in one chunk, with its caption.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.loaders import Page
from ingest.structure import Outline, repeated_lines, split_blocks

SECTION_SEPARATOR = " > "
_SENTENCE = re.compile(r"\S.*?(?:[.!?…](?=\s+[\"“(¿¡]?[A-ZÁÉÍÓÚÑÜ0-9])|$)", re.S)


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


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence boundaries in `text`, shifted by `offset`."""
    spans = []
    for m in _SENTENCE.finditer(text):
        piece = m.group(0).rstrip()
        if piece:
            spans.append((offset + m.start(), offset + m.start() + len(piece)))
    return spans


def chunk_document(
    pages: Sequence[Page], chunk_size: int = 900, overlap_sentences: int = 1
) -> list[Chunk]:
    skip = repeated_lines([p.text for p in pages])
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
        else:
            text = normalise_space(f"{prefix} {raw}")
        if not text:
            return
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
            )
        )

    for page in pages:
        prose: list[tuple[int, int]] = []  # sentence spans of the current section on this page

        def flush(page: Page = page, prose: list[tuple[int, int]] = prose) -> None:
            nonlocal carry
            if not prose:
                return
            first = page.text[prose[0][0] : prose[0][1]]
            prefix = carry if carry and first[:1].islower() else ""
            carry = ""
            for i, (start, end) in enumerate(
                _pack(prose, page.text, chunk_size, overlap_sentences)
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
                while path and path[-1][0] >= block.level:
                    path.pop()
                path.append((block.level, block.title))
            elif block.kind == "table":
                flush()
                emit(page, block.start, block.end, "table")
            else:
                prose.extend(sentence_spans(block.text, block.start))
        flush()
    return chunks


def _pack(
    sentences: Sequence[tuple[int, int]], text: str, size: int, overlap: int
) -> list[tuple[int, int]]:
    """Group consecutive sentences into spans of at most `size` characters."""
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    for sent in sentences:
        if current and sent[1] - current[0][0] > size:
            groups.append(current)
            current = current[-overlap:] if overlap > 0 else []
            # An overlap that alone fills the chunk would repeat forever.
            if current and sent[1] - current[0][0] > size:
                current = []
        current.append(sent)
    if current:
        # A short tail reads better joined to its neighbour than on its own.
        if groups and current[-1][1] - current[0][0] < size // 4:
            tail = [s for s in current if s not in groups[-1]]
            groups[-1].extend(tail)
        else:
            groups.append(current)
    return [(g[0][0], g[-1][1]) for g in groups]
