"""Headings, tables and running footers recovered from extracted text."""

from __future__ import annotations

from ingest.chunking import chunk_document
from ingest.loaders import Page
from ingest.structure import Outline, heading_of, repeated_lines, split_blocks

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
