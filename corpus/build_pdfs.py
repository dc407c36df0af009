"""Build the sample corpus PDFs from the Markdown reports in ``corpus/src``.

Each ``corpus/src/<stem>.md`` becomes ``corpus/<stem>.pdf`` (A4, DejaVu Sans).
Another corpus folder can be built by naming it: ``<dir>/src/<stem>.md``
becomes ``<dir>/<stem>.pdf``.
The Markdown subset understood here is deliberately small:

- ``# Title`` on the first line, followed by one subtitle line of the form
  ``Kind · Author · Date`` (the middle part becomes the PDF author);
- ``##`` and ``###`` headings, printed without the ``#`` marks;
- pipe tables, each preceded by a one-line caption paragraph;
- bullet lines starting with ``- `` and plain paragraphs.

The report language is taken from the last ``-``-separated part of the file
stem (``ilia-2025-nl`` -> ``nl``). Output is deterministic: the creation date
is fixed, so rebuilding produces the same bytes.

Usage: ``python corpus/build_pdfs.py [DIR] [--footer LABEL]``

Without ``DIR`` the ILIA reports in ``corpus/src`` are built with the footer
``ILIA 2025``. With ``DIR`` the footer label is ``LABEL`` when given, otherwise
the part of each report's title before its first colon.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

CORPUS_DIR = Path(__file__).resolve().parent
SRC_DIR = CORPUS_DIR / "src"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FONT = "DejaVu"
CREATION_DATE = datetime(2025, 11, 17, tzinfo=UTC)
FOOTER_LABEL = "ILIA 2025"

BODY_SIZE = 10.5
BODY_LINE = 5.4
TABLE_SIZE = 9.5
TABLE_LINE = 6.2
HEADING_SIZES = {1: 17.0, 2: 13.5, 3: 11.5}
MARGIN = 20.0
NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)?")


@dataclass
class Block:
    """One unit of the parsed Markdown document."""

    kind: str  # "heading", "paragraph", "bullet", "table"
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""


@dataclass
class Document:
    """A parsed report: title, subtitle line and body blocks."""

    title: str
    subtitle: str
    blocks: list[Block]


def _split_row(line: str) -> list[str]:
    """Split a Markdown pipe-table row into stripped cell texts."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _is_separator(line: str) -> bool:
    """Return True for a table separator row such as ``|---|---|``."""
    cells = _split_row(line)
    return all(cell and set(cell) <= set("-: ") for cell in cells)


def parse_markdown(text: str) -> Document:
    """Parse the small Markdown subset used by the corpus reports."""
    lines = text.splitlines()
    title = ""
    subtitle = ""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("paragraph", " ".join(paragraph)))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
            continue
        if stripped.startswith("#"):
            flush()
            marks = len(stripped) - len(stripped.lstrip("#"))
            heading = stripped[marks:].strip()
            if marks == 1 and not title:
                title = heading
            else:
                blocks.append(Block("heading", heading, level=marks))
            i += 1
            continue
        if stripped.startswith("|"):
            flush()
            table_lines: list[str] = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                table_lines.append(lines[i])
                i += 1
            rows = [_split_row(row) for row in table_lines if not _is_separator(row)]
            caption = ""
            if blocks and blocks[-1].kind == "paragraph":
                caption = blocks.pop().text
            blocks.append(Block("table", rows=rows, caption=caption))
            continue
        if stripped.startswith("- "):
            flush()
            blocks.append(Block("bullet", stripped[2:].strip()))
            i += 1
            continue
        if title and not subtitle and not blocks and not paragraph:
            subtitle = stripped
            i += 1
            continue
        paragraph.append(stripped)
        i += 1
    flush()
    if not title:
        raise ValueError("the report has no '# Title' line")
    return Document(title=title, subtitle=subtitle, blocks=blocks)


class ReportPDF(FPDF):
    """FPDF with the corpus footer (``<label> · <page>``) on every page."""

    footer_label = FOOTER_LABEL

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, size=8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"{self.footer_label} · {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)


def check_fonts() -> None:
    """Exit with a clear message when the DejaVu fonts are not installed."""
    missing = [str(path) for path in (FONT_REGULAR, FONT_BOLD) if not path.is_file()]
    if missing:
        sys.exit(
            "DejaVu Sans fonts not found: "
            + ", ".join(missing)
            + ". Install the Debian package 'fonts-dejavu-core' "
            "(apt-get install fonts-dejavu-core)."
        )


def space_left(pdf: FPDF) -> float:
    """Vertical space (mm) left above the automatic page-break line."""
    return pdf.page_break_trigger - pdf.get_y()


def render_heading(pdf: FPDF, block: Block) -> None:
    """Render a section heading, keeping it together with a few body lines."""
    size = HEADING_SIZES.get(block.level, BODY_SIZE)
    line = size * 0.55
    gap_before = 5.0 if block.level == 2 else 3.0
    if space_left(pdf) < gap_before + line + 4 * BODY_LINE:
        pdf.add_page()
    elif pdf.get_y() > pdf.t_margin + 1:
        pdf.ln(gap_before)
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(0, line, block.text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def render_paragraph(pdf: FPDF, text: str) -> None:
    """Render a left-aligned body paragraph."""
    pdf.set_font(FONT, size=BODY_SIZE)
    pdf.multi_cell(0, BODY_LINE, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2.2)


def render_bullet(pdf: FPDF, text: str) -> None:
    """Render one bullet item with a hanging indent."""
    pdf.set_font(FONT, size=BODY_SIZE)
    indent = 6.0
    if space_left(pdf) < 2 * BODY_LINE:
        pdf.add_page()
    y = pdf.get_y()
    pdf.set_x(pdf.l_margin + 1.5)
    pdf.cell(indent - 1.5, BODY_LINE, "•")
    pdf.set_xy(pdf.l_margin + indent, y)
    pdf.multi_cell(0, BODY_LINE, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.0)


def column_layout(pdf: FPDF, rows: list[list[str]]) -> tuple[list[float], list[str]]:
    """Column widths (proportional to content) and alignments (numbers to the right)."""
    n_cols = len(rows[0])
    widths: list[float] = []
    aligns: list[str] = []
    for col in range(n_cols):
        cells = [row[col] if col < len(row) else "" for row in rows]
        pdf.set_font(FONT, "B", TABLE_SIZE)
        natural = pdf.get_string_width(cells[0])
        pdf.set_font(FONT, size=TABLE_SIZE)
        natural = max([natural] + [pdf.get_string_width(cell) for cell in cells[1:]])
        widths.append(natural + 6)
        body = [cell for cell in cells[1:] if cell not in ("", "–", "-")]
        if body and all(NUMBER.fullmatch(cell) for cell in body):
            aligns.append("RIGHT" if any(c in ",." for cell in body for c in cell) else "CENTER")
        else:
            aligns.append("LEFT")
    return widths, aligns


def draw_table(pdf: FPDF, block: Block) -> None:
    """Draw the caption and the table (header row bold) at the current position."""
    if block.caption:
        pdf.set_font(FONT, "B", BODY_SIZE)
        pdf.multi_cell(0, BODY_LINE, block.caption, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    widths, aligns = column_layout(pdf, block.rows)
    pdf.set_font(FONT, size=TABLE_SIZE)
    heading_style = FontFace(emphasis="BOLD", fill_color=(225, 230, 238))
    with pdf.table(
        col_widths=widths,
        text_align=aligns,
        line_height=TABLE_LINE,
        headings_style=heading_style,
        first_row_as_headings=True,
        width=pdf.epw,
    ) as table:
        for row in block.rows:
            table.row(row)
    pdf.ln(3)


def render_table(pdf: FPDF, block: Block) -> None:
    """Render a table with its caption, moving both to a new page if they would split."""
    with pdf.offset_rendering() as dummy:
        draw_table(dummy, block)
    if dummy.page_break_triggered:
        pdf.add_page()
    draw_table(pdf, block)


def build_pdf(source: Path, target: Path, footer_label: str = FOOTER_LABEL) -> int:
    """Convert one Markdown report into a PDF; return its page count.

    ``footer_label`` may be ``""`` to use the title part before its first colon.
    """
    doc = parse_markdown(source.read_text(encoding="utf-8"))
    language = source.stem.rsplit("-", 1)[-1]
    parts = [part.strip() for part in doc.subtitle.split("·")]
    author = parts[1] if len(parts) >= 3 else parts[0]

    pdf = ReportPDF(format="A4", unit="mm")
    pdf.footer_label = footer_label or doc.title.split(":", 1)[0].strip()
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_font(FONT, "", str(FONT_REGULAR))
    pdf.add_font(FONT, "B", str(FONT_BOLD))
    pdf.set_title(doc.title)
    pdf.set_author(author)
    pdf.set_subject(doc.subtitle)
    pdf.set_lang(language)
    pdf.set_producer("fpdf2")
    pdf.set_creation_date(CREATION_DATE)
    pdf.add_page()

    pdf.set_font(FONT, "B", HEADING_SIZES[1])
    pdf.multi_cell(0, HEADING_SIZES[1] * 0.5, doc.title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if doc.subtitle:
        pdf.set_font(FONT, size=BODY_SIZE)
        pdf.set_text_color(70, 70, 70)
        pdf.multi_cell(0, BODY_LINE, doc.subtitle, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(3)

    for block in doc.blocks:
        if block.kind == "heading":
            render_heading(pdf, block)
        elif block.kind == "table":
            render_table(pdf, block)
        elif block.kind == "bullet":
            render_bullet(pdf, block.text)
        else:
            render_paragraph(pdf, block.text)

    pdf.output(str(target))
    return pdf.pages_count


def main(argv: list[str] | None = None) -> int:
    """Build every ``<dir>/src/*.md`` into ``<dir>/<stem>.pdf`` (default dir: ``corpus``)."""
    parser = argparse.ArgumentParser(description="Build the sample corpus PDFs.")
    parser.add_argument("dir", nargs="?", type=Path, help="corpus folder holding src/*.md")
    parser.add_argument("--footer", default=None, help="footer label (default: see module doc)")
    args = parser.parse_args(argv)
    out_dir = args.dir.resolve() if args.dir else CORPUS_DIR
    if args.footer is not None:
        footer = args.footer
    else:
        footer = FOOTER_LABEL if out_dir == CORPUS_DIR else ""
    check_fonts()
    src_dir = out_dir / "src"
    sources = sorted(src_dir.glob("*.md"))
    if not sources:
        print(f"no Markdown sources found in {src_dir}", file=sys.stderr)
        return 1
    for source in sources:
        target = out_dir / f"{source.stem}.pdf"
        pages = build_pdf(source, target, footer)
        try:
            shown = target.relative_to(CORPUS_DIR.parent)
        except ValueError:
            shown = target
        print(f"{shown}: {pages} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
