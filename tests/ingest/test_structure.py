"""Headings, tables and running footers recovered from extracted text."""

from __future__ import annotations

from ingest.chunking import chunk_document
from ingest.loaders import Page
from ingest.structure import (
    Outline,
    heading_of,
    paragraph_starts,
    repeated_lines,
    split_blocks,
    typical_line_width,
)

PAGE = """4. Los tres niveles
El ILIA clasifica a los países en tres niveles. Los pioneros superan los 60 puntos.
Tabla 1. Puntuaciones del ILIA 2025 por país
Puesto País Puntaje Nivel
1 Chile 70,56 Pionero
2 Brasil 67,39 Pionero
19 Venezuela 24,65 Explorador
4.1 Pioneros
Chile, Brasil y Uruguay forman el grupo de pioneros.
ILIA 2025 · 3"""


def test_heading_shapes() -> None:
    assert heading_of("4. Los tres niveles").title == "4. Los tres niveles"
    assert heading_of("4.1 Pioneros").level == 2
    assert heading_of("## Summary").level == 2
    for not_heading in ["1 Chile 70,56 Pionero", "3. The region grew fast.", "2025 was a year"]:
        assert heading_of(not_heading) is None


def test_numbered_list_inside_a_section_is_not_a_heading() -> None:
    outline = Outline()
    page = "8. Recommendations\n1. Invest in research centres\nMore text."
    blocks = split_blocks(page, outline=outline)
    assert [b.kind for b in blocks] == ["heading", "text"]


def test_table_is_one_block_with_its_caption() -> None:
    blocks = split_blocks(PAGE)
    kinds = [b.kind for b in blocks]
    assert kinds[:3] == ["heading", "text", "table"]
    table = blocks[2]
    assert table.text.startswith("Tabla 1.") and table.text.rstrip().endswith("Explorador")
    assert PAGE[table.start : table.end] == table.text


def test_running_footer_is_dropped() -> None:
    pages = [f"Body text number {i} here.\nILIA 2025 · {i}" for i in range(1, 6)]
    skip = repeated_lines(pages)
    assert skip
    assert all("ILIA" not in b.text for b in split_blocks(pages[2], skip))


def test_chunks_know_their_section_path_and_keep_tables_whole() -> None:
    chunks = chunk_document([Page(1, PAGE), Page(2, "continúa el texto del grupo de pioneros.")])
    table = [c for c in chunks if c.kind == "table"]
    assert len(table) == 1
    assert table[0].text.count("\n") == 4 and table[0].section == "4. Los tres niveles"
    last = chunks[-1]
    assert last.page == 2 and last.section_path == "4. Los tres niveles > 4.1 Pioneros"
    for c in chunks:
        assert 0 <= c.char_start < c.char_end


WRAPPED = """Governance covers three areas and it is the one that governments can influence
most directly, which is why it deserves attention.
Coordination is a weakness. Programmes overlap and data stays locked in separate
systems, so that nobody is accountable for the whole.
The sub-indicators are grouped into three dimensions, each with a fixed weight:
• Enabling factors, weighted at 40%, covering digital infrastructure, data and human
talent.
• Governance, weighted at 25%.
A paragraph that follows the list and runs on to a second line before it ends, with
a full stop."""


def test_paragraphs_begin_after_a_short_line_that_ends_a_sentence_and_at_bullets() -> None:
    width = typical_line_width([WRAPPED])
    starts = paragraph_starts(WRAPPED, 0, len(WRAPPED), width)
    assert [WRAPPED[s:].split()[0] for s in starts] == [
        "Governance", "Coordination", "The", "•", "•", "A"]
    # A block that starts in lower case continues the sentence of the page before.
    tail = WRAPPED.index("systems,")
    assert WRAPPED[tail:].split()[0] not in [
        WRAPPED[s:].split()[0] for s in paragraph_starts(WRAPPED, tail, len(WRAPPED), width)]


def test_chunks_record_where_their_paragraphs_begin() -> None:
    page = Page(number=1, text="# Report\n\n## 1. Scope\n\n" + WRAPPED)
    chunks = [c for c in chunk_document([page], chunk_size=400) if c.kind == "text"]
    leads = [c.text[a:].split()[0] for c in chunks for a in c.paragraphs]
    assert {"Governance", "Coordination", "The", "•", "A"} <= set(leads)
    assert "Programmes" not in leads and "systems," not in leads
