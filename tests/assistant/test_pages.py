"""Page images for the sources panel: real corpus PDFs, passages taken with pypdf (as ingest
does) and found again in pdfium's text layer."""

from __future__ import annotations

import base64
import io
import os
import shutil
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader

from assistant.pages import (
    PageImage,
    PageImageError,
    cached_render_page,
    data_uri,
    render_page,
)

ROOT = Path(__file__).resolve().parents[2]
PDF = ROOT / "corpus" / "ilia-2025-en.pdf"
PAGE = 3


@pytest.fixture(scope="module")
def page_texts() -> list[str]:
    return [page.extract_text() for page in PdfReader(PDF).pages]


@pytest.fixture(scope="module")
def passage(page_texts: list[str]) -> str:
    """A paragraph of page 3 as pypdf gives it, line breaks included."""
    text = page_texts[PAGE - 1]
    start = text.index("The second finding")
    end = text.index("per\ncapita.", start) + len("per\ncapita.")
    return text[start:end]


@pytest.fixture(scope="module")
def unmarked() -> PageImage:
    return render_page(PDF, PAGE)


def pixels(image: PageImage) -> np.ndarray:
    with Image.open(io.BytesIO(image.data)) as picture:
        return np.asarray(picture.convert("RGB"), dtype=np.int16)


def changed(a: PageImage, b: PageImage) -> np.ndarray:
    """Mask of the pixels that visibly differ between two renders of the same page.

    The palette of a marked page is chosen anew, which moves some unmarked grey levels of the
    text's edges a little (measured: at most 2 of 255 at 800 px, 10 at 400 px); marks change a
    channel by 45 or more.
    """
    return np.abs(pixels(a) - pixels(b)).max(axis=2) > 24


def pixel_row_of(phrase: str, page: int, width: int = 800) -> int:
    """Where pdfium's own search puts a phrase, as an image row: an independent check."""
    document = pdfium.PdfDocument(str(PDF))
    try:
        pdf_page = document[page - 1]
        textpage = pdf_page.get_textpage()
        index, _count = textpage.search(phrase).get_next()
        _, bottom, _, top = textpage.get_charbox(index)
        return round((pdf_page.get_height() - (bottom + top) / 2) * width / pdf_page.get_width())
    finally:
        document.close()


def test_plain_render_decodes_at_the_requested_width(unmarked: PageImage) -> None:
    with Image.open(io.BytesIO(unmarked.data)) as picture:
        assert picture.format == "PNG" and unmarked.mime == "image/png"
        assert picture.size == (800, unmarked.height) == (unmarked.width, unmarked.height)
    assert unmarked.height == 1132  # A4: 800 * 841.89 / 595.28, rounded up
    assert unmarked.marked == 0
    assert len(unmarked.data) <= 150_000

    small = render_page(PDF, PAGE, width=333)
    assert (small.width, small.height) == (333, 471)


def test_passage_from_pypdf_is_shaded_where_it_stands(passage: str, unmarked: PageImage) -> None:
    assert "\n" in passage  # pypdf's line breaks, which pdfium's text does not share

    marked = render_page(PDF, PAGE, marks=[passage])

    assert marked.marked == 1
    assert (marked.width, marked.height) == (unmarked.width, unmarked.height)
    mask = changed(unmarked, marked)
    assert mask.sum() > 20_000  # five lines of highlighter at 800 px
    rows = np.flatnonzero(mask.any(axis=1))
    assert rows[0] <= pixel_row_of("The second finding", PAGE) <= rows[-1]
    assert rows[0] <= pixel_row_of("capita.", PAGE) <= rows[-1]
    assert rows[-1] - rows[0] < 150  # the paragraph, not the page
    # Translucent yellow: the white background turns yellow, so blue drops most.
    red, green, blue = (pixels(marked)[mask].mean(axis=0)).tolist()
    assert red > green > blue


def test_unmarked_renders_are_identical_and_unfound_marks_change_nothing(
    page_texts: list[str], unmarked: PageImage
) -> None:
    assert render_page(PDF, PAGE).data == unmarked.data

    elsewhere = page_texts[4].split(". ")[3]  # a sentence of page 5
    assert len(elsewhere) > 40
    image = render_page(PDF, PAGE, strong=[elsewhere])
    assert image.marked == 0
    assert image.data == unmarked.data
    assert render_page(PDF, 5, strong=[elsewhere]).marked == 1


def test_strong_sentence_counts_with_the_passage_and_is_drawn_darker(
    passage: str, unmarked: PageImage
) -> None:
    sentence = passage[: passage.index(". ") + 1]  # "The second finding ... other way."
    light = render_page(PDF, PAGE, marks=[passage])
    both = render_page(PDF, PAGE, marks=[passage], strong=[sentence])
    assert both.marked == 2

    strong_only = changed(light, both)
    assert 0 < strong_only.sum() < changed(unmarked, both).sum()
    # Where the strong mark lies over the light one, the page got darker (orange over yellow).
    assert pixels(both)[strong_only].sum() < pixels(light)[strong_only].sum()


def test_differences_between_extractors_do_not_stop_the_match(passage: str) -> None:
    variants = [
        " ".join(passage.split()),  # one line
        passage.replace("investment", "invest-\nment"),  # hyphenated at a line break
        passage.replace("fi", "\ufb01"),  # ligature
        unicodedata.normalize("NFD", passage.upper()),
        passage[:200] + passage[203:],  # three characters lost in the middle
    ]
    for variant in variants:
        assert render_page(PDF, PAGE, marks=[variant], width=200).marked == 1, variant[:60]
    # A bare string is one passage, not a sequence of one-letter passages.
    assert render_page(PDF, PAGE, marks=passage, width=200).marked == 1


def test_passage_over_a_page_break_is_marked_on_both_pages(page_texts: list[str]) -> None:
    # The last body lines of page 2 (its last line is the running footer) and the first of 3.
    end_of_2 = page_texts[1].split("\n")[-3:-1]
    start_of_3 = page_texts[2].split("\n")[:2]
    passage = "\n".join(end_of_2 + start_of_3)

    plain = {page: render_page(PDF, page, width=400) for page in (2, 3, 4)}
    marked = {page: render_page(PDF, page, marks=[passage], width=400) for page in (2, 3, 4)}

    assert [marked[page].marked for page in (2, 3, 4)] == [1, 1, 0]
    bottom_rows = np.flatnonzero(changed(plain[2], marked[2]).any(axis=1))
    top_rows = np.flatnonzero(changed(plain[3], marked[3]).any(axis=1))
    height = plain[2].height
    assert bottom_rows[0] > height * 0.75  # the end of page 2
    assert top_rows[-1] < height * 0.25  # the start of page 3
    assert not changed(plain[4], marked[4]).any()


@pytest.mark.parametrize("page", [0, 9, -1])
def test_page_out_of_range(page: int) -> None:
    with pytest.raises(PageImageError, match=r"ilia-2025-en\.pdf: page -?\d+ is out of range"):
        render_page(PDF, page)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.pdf"
    with pytest.raises(PageImageError, match=r"gone\.pdf: file not found"):
        render_page(missing, 1)
    with pytest.raises(PageImageError, match=r"gone\.pdf"):
        cached_render_page(missing, 1)


@pytest.mark.parametrize(
    "content",
    [b"just some notes, not a PDF\n", b"", PDF.read_bytes()[:600]],
    ids=["text", "empty", "truncated"],
)
def test_not_a_pdf(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.pdf"
    path.write_bytes(content)
    with pytest.raises(PageImageError, match=r"notes\.pdf: not a readable PDF"):
        render_page(path, 1)


def test_data_uri_holds_the_image(unmarked: PageImage) -> None:
    uri = data_uri(unmarked)
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri[len(prefix) :]) == unmarked.data


def test_cache_serves_repeats_and_notices_a_changed_file(tmp_path: Path, passage: str) -> None:
    path = tmp_path / "copy.pdf"
    shutil.copyfile(PDF, path)
    first = cached_render_page(path, PAGE, [passage], width=300)
    assert cached_render_page(path, PAGE, (passage,), width=300) is first
    assert cached_render_page(path, PAGE, [passage], width=301) is not first

    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = cached_render_page(path, PAGE, [passage], width=300)
    assert again is not first and again == first


def test_concurrent_renders_agree(passage: str) -> None:
    expected = render_page(PDF, PAGE, marks=[passage], width=300)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda _: render_page(PDF, PAGE, marks=[passage], width=300), range(8))
        )
    assert all(result == expected for result in results)
