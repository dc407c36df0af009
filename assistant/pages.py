"""Render one PDF page as an image with passages marked, for the sources panel.

Passages come from pypdf's text (the ingest extractor); the page is drawn and searched with
pdfium, whose text layer differs in whitespace, line breaks, hyphenation and ligatures. Both
sides are therefore reduced to bare letters, digits and punctuation before matching, with a
map from each reduced character back to its pdfium character, whose box is then known.
"""

from __future__ import annotations

import base64
import ctypes
import functools
import io
import math
import threading
import unicodedata
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageDraw

# pdfium keeps global state and its documents are not safe to share between threads; the web
# server answers from several threads at once.
_PDFIUM_LOCK = threading.Lock()

_MARK_FILL = (255, 221, 0, 90)
_STRONG_FILL = (255, 140, 0, 110)
_STRONG_LINE = (230, 81, 0, 255)

# Needles shorter than this (in reduced characters) are too ambiguous to mark: "2." or "Yes."
# would be found on any page.
_MIN_NEEDLE = 8
# Matching falls back to pieces of at most this many reduced characters; shorter pieces would
# start to match phrases the document repeats.
_PIECE = 60
_MIN_PIECE = 20
# A part found by the fallback is marked when it spans this share of the passage (a sentence
# that differs only in its figures spans less) and is at least a piece long...
_MIN_COVERAGE = 0.8
# ... or when it sits at a page break: the passage's start ending a line at the page's end, or
# its end starting a line at the page's start, give or take this many reduced characters for a
# running header or footer...
_PAGE_MARGIN = 80
# ... and is at least this long.
_MIN_AT_BREAK = 16

# A text page has little more than grey levels and the mark colours: a palette PNG keeps it
# sharp at about a third of the size of a full-colour PNG. Pages with photos have many more
# colours, and those survive JPEG far better than a palette.
_PALETTE_MAX_COLOURS = 1024
_JPEG_QUALITY = 80

_QUOTES = str.maketrans({"‘": "'", "’": "'", "ʼ": "'", "′": "'", "“": '"', "”": '"', "„": '"'})


class PageImageError(Exception):
    """A page that cannot be rendered; the message names the file and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        # Only the file name, as in ingest errors: users know which folder they picked.
        super().__init__(f"{path.name}: {reason}")

    def __reduce__(self) -> tuple[type[PageImageError], tuple[Path, str]]:
        # The default pickling would call __init__ with the formatted message only.
        return (type(self), (self.path, self.reason))


@dataclass(frozen=True)
class PageImage:
    data: bytes
    mime: str  # "image/png" or "image/jpeg"
    width: int
    height: int
    marked: int  # requested marks and strong marks found on the page and drawn


def data_uri(image: PageImage) -> str:
    return f"data:{image.mime};base64,{base64.b64encode(image.data).decode('ascii')}"


def render_page(
    path: Path,
    page: int,
    marks: Sequence[str] = (),
    strong: Sequence[str] = (),
    width: int = 800,
) -> PageImage:
    """Page `page` (1-based) of the PDF at `path`, `width` pixels wide.

    `marks` (e.g. retrieved chunks) are shaded lightly, `strong` (e.g. the supporting sentences)
    more strongly. A passage that only partly lies on this page has that part marked.
    """
    path, marks, strong = _normalise(path, marks, strong)
    if width < 1:
        raise ValueError(f"width must be positive, not {width}")
    if not path.is_file():
        raise PageImageError(path, "file not found")
    with _PDFIUM_LOCK:
        picture, mark_rects, strong_rects = _render_locked(path, page, marks, strong, width)
    found = sum(1 for rects in (*mark_rects, *strong_rects) if rects)
    if found:
        picture = _draw_marks(picture, mark_rects, strong_rects)
    data, mime = _encode(picture)
    return PageImage(data, mime, picture.width, picture.height, found)


def cached_render_page(
    path: Path,
    page: int,
    marks: Sequence[str] = (),
    strong: Sequence[str] = (),
    width: int = 800,
) -> PageImage:
    """`render_page`, remembered for the last 64 requests; a changed file is rendered anew."""
    path, marks, strong = _normalise(path, marks, strong)
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        raise PageImageError(path, "file not found") from None
    return _cached_render(str(path), mtime_ns, page, marks, strong, width)


@functools.lru_cache(maxsize=64)
def _cached_render(
    path: str,
    mtime_ns: int,  # only part of the key: an edited file must not be served from the cache
    page: int,
    marks: tuple[str, ...],
    strong: tuple[str, ...],
    width: int,
) -> PageImage:
    return render_page(Path(path), page, marks, strong, width)


def _normalise(
    path: Path | str, marks: Sequence[str], strong: Sequence[str]
) -> tuple[Path, tuple[str, ...], tuple[str, ...]]:
    """Both entry points' arguments as a Path and tuples of passages (the cache needs hashables).

    A bare string is a Sequence[str] too; split into characters it would mark nothing.
    """
    mark_tuple, strong_tuple = ((p,) if isinstance(p, str) else tuple(p) for p in (marks, strong))
    return Path(path), mark_tuple, strong_tuple


# --- pdfium -------------------------------------------------------------------------------

Rect = tuple[int, int, int, int]  # left, top, right, bottom in image pixels


def _render_locked(
    path: Path, page: int, marks: Sequence[str], strong: Sequence[str], width: int
) -> tuple[Image.Image, list[list[Rect]], list[list[Rect]]]:
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as err:
        if getattr(err, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise PageImageError(path, "the PDF is encrypted with a password") from None
        raise PageImageError(path, f"not a readable PDF ({err})") from None
    try:
        count = len(document)
        if not 1 <= page <= count:
            raise PageImageError(path, f"page {page} is out of range (the PDF has {count} page(s))")
        try:
            pdf_page = document[page - 1]
        except pdfium.PdfiumError as err:
            raise PageImageError(path, f"page {page} is unreadable ({err})") from None
        try:
            return _render_page_locked(path, pdf_page, page, marks, strong, width)
        finally:
            pdf_page.close()
    finally:
        document.close()


def _render_page_locked(
    path: Path,
    pdf_page: pdfium.PdfPage,
    page: int,
    marks: Sequence[str],
    strong: Sequence[str],
    width: int,
) -> tuple[Image.Image, list[list[Rect]], list[list[Rect]]]:
    page_width = pdf_page.get_width()
    if page_width <= 0:
        raise PageImageError(path, f"page {page} has no size")
    # pdfium rounds the bitmap size up, and width / page_width * page_width can land a hair
    # above `width` in floating point, which would give one pixel too many.
    scale = width / page_width
    while math.ceil(page_width * scale) > width:
        scale = math.nextafter(scale, 0.0)
    try:
        bitmap = pdf_page.render(scale=scale)
    except Exception as err:
        raise PageImageError(path, f"page {page} could not be drawn ({err})") from None
    try:
        # to_pil shares the bitmap's buffer, which closing the bitmap frees.
        picture = bitmap.to_pil().convert("RGB")
        mark_rects: list[list[Rect]] = []
        strong_rects: list[list[Rect]] = []
        if marks or strong:
            textpage = pdf_page.get_textpage()
            try:
                text = _PageText(textpage)
                for passages, out in ((marks, mark_rects), (strong, strong_rects)):
                    for passage in passages:
                        lines = text.line_boxes(passage)
                        out.append([_to_pixels(pdf_page, picture.size, box) for box in lines])
            finally:
                textpage.close()
        return picture, mark_rects, strong_rects
    finally:
        bitmap.close()


def _to_pixels(
    pdf_page: pdfium.PdfPage, size: tuple[int, int], box: tuple[float, float, float, float]
) -> Rect:
    left, bottom, right, top = box
    # pdfium's own transform, with the arguments render() passed (whole page, no extra
    # rotation), takes care of the page's /Rotate and of a media box that is not at 0,0.
    # Corners rather than an assumed axis flip: a rotated page swaps the axes.
    x1, y1 = _page_to_device(pdf_page, size, left, bottom)
    x2, y2 = _page_to_device(pdf_page, size, right, top)
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def _page_to_device(
    pdf_page: pdfium.PdfPage, size: tuple[int, int], x: float, y: float
) -> tuple[int, int]:
    # The raw call rather than PdfBitmap.get_posconv(), which pypdfium2 4.30 lacks.
    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(pdf_page, 0, 0, *size, 0, x, y, device_x, device_y)
    return device_x.value, device_y.value


class _PageText:
    """The page's characters reduced for matching, with their pdfium indices."""

    def __init__(self, textpage: pdfium.PdfTextPage) -> None:
        self.textpage = textpage
        # Per index rather than get_text_range(): its text need not align with the indices.
        codes = [pdfium_c.FPDFText_GetUnicode(textpage, i) for i in range(textpage.count_chars())]
        self.lines: list[list[tuple[int, str]]] = [[]]  # (pdfium index, reduced character)
        for index, code in enumerate(codes):
            if code in (0x0A, 0x0D):
                if self.lines[-1]:
                    self.lines.append([])
                continue
            for reduced in _reduce(chr(code)) if 0 < code < 0x110000 else "":
                self.lines[-1].append((index, reduced))
        self.lines = [line for line in self.lines if line]
        self._orders: list[_TextOrder] = [_TextOrder(self.lines)]

    def line_boxes(self, passage: str) -> list[tuple[float, float, float, float]]:
        """Boxes in PDF units, one per text line, over the passage's part on this page."""
        needle = _reduce(passage)
        for order in self._text_orders():
            span = _locate(order.reduced, needle, order.line_starts)
            if span is not None:
                break
        else:
            return []
        boxes = []
        previous = -1
        for index in order.origin[span[0] : span[1]]:
            # A ligature reduces to several characters of one pdfium character.
            if index == previous:
                continue
            previous = index
            left, bottom, right, top = self.textpage.get_charbox(index, loose=True)
            if right > left and top > bottom:
                boxes.append((left, bottom, right, top))
        return _merge_lines(boxes)

    def _text_orders(self) -> Iterator[_TextOrder]:
        yield self._orders[0]
        if len(self._orders) == 1:
            # pdfium lists the lines of a page turned by /Rotate 90 bottom to top. Lines sorted
            # top to bottom on the unturned page are the second guess; only the second, as
            # it would interleave the columns of a page that has several.
            def top_left(line: list[tuple[int, str]]) -> tuple[float, float]:
                left, _, _, top = self.textpage.get_charbox(line[0][0], loose=True)
                return (-top, left)

            self._orders.append(_TextOrder(sorted(self.lines, key=top_left)))
        yield self._orders[1]


class _TextOrder:
    """The reduced text of the page's lines in one order, mapped back to pdfium indices."""

    def __init__(self, lines: list[list[tuple[int, str]]]) -> None:
        self.origin: list[int] = []  # pdfium index of each reduced character
        self.line_starts: set[int] = set()  # reduced positions where a line starts
        reduced: list[str] = []
        for line in lines:
            self.line_starts.add(len(self.origin))
            for index, character in line:
                self.origin.append(index)
                reduced.append(character)
        self.line_starts.add(len(self.origin))
        self.reduced = "".join(reduced)


def _reduce(text: str) -> str:
    """Text without what the two extractors disagree on: spacing, hyphens, case, ligatures."""
    out = []
    for ch in unicodedata.normalize("NFKD", text.translate(_QUOTES)).casefold():
        category = unicodedata.category(ch)
        # Marks: accents may come precomposed from one extractor and combining from the other.
        # Pd: hyphenation differs, and a dash is no help in finding a passage.
        if ch.isspace() or category[0] in "CZ" or category in ("Mn", "Pd"):
            continue
        out.append(ch)
    return "".join(out)


def _locate(
    haystack: str, needle: str, line_starts: Collection[int] = ()
) -> tuple[int, int] | None:
    """Span of `needle`, or of its part on this page, in `haystack` (both reduced).

    `line_starts` are the positions in `haystack` where a text line starts; a part of the
    passage accepted at a page break must end or start a line.
    """
    if len(needle) < _MIN_NEEDLE:
        return None
    start = haystack.find(needle)
    if start >= 0:
        return start, start + len(needle)
    # Not all there: the passage runs over a page break, or an extractor dropped or changed a
    # few characters. A part found is only trusted if it is most of the passage or lies at the
    # page break; documents repeat phrases, so a bit of the passage found mid-page is
    # usually the same words in another place.
    best: tuple[int, int] | None = None
    for found in (_piece_match(haystack, needle), *_edge_matches(haystack, needle)):
        if found is None:
            continue
        (needle_start, needle_end), (start, end) = found
        length = needle_end - needle_start
        at_break = (
            needle_start == 0 and end in line_starts and len(haystack) - end <= _PAGE_MARGIN
        ) or (needle_end == len(needle) and start in line_starts and start <= _PAGE_MARGIN)
        accepted = (length >= _MIN_PIECE and length / len(needle) >= _MIN_COVERAGE) or (
            at_break and length >= _MIN_AT_BREAK
        )
        if accepted and (best is None or end - start > best[1] - best[0]):
            best = (start, end)
    return best


Match = tuple[tuple[int, int], tuple[int, int]]  # span in the needle, span in the haystack


def _piece_match(haystack: str, needle: str) -> Match | None:
    """The passage's pieces found on the page in their order, widened while the texts agree."""
    size = min(_PIECE, max(_MIN_PIECE, len(needle) // 3))
    if len(needle) < size:
        return None
    offsets = list(range(0, len(needle) - size + 1, size))
    if offsets[-1] != len(needle) - size:
        offsets.append(len(needle) - size)
    hits: list[tuple[int, int]] = []  # (position - offset, offset)
    for offset in offsets:
        piece = needle[offset : offset + size]
        position = haystack.find(piece)
        while position >= 0:
            hits.append((position - offset, offset))
            position = haystack.find(piece, position + 1)
    if not hits:
        return None
    # Pieces of one occurrence of the passage lie on one diagonal (haystack position minus
    # needle offset), shifted a little by characters one extractor has and the other lacks;
    # pieces found elsewhere lie off it. The diagonal with most pieces is the passage.
    hits.sort()
    groups: list[list[tuple[int, int]]] = [[hits[0]]]
    for hit in hits[1:]:
        if hit[0] - groups[-1][-1][0] <= size:
            groups[-1].append(hit)
        else:
            groups.append([hit])
    group = max(groups, key=lambda g: len({offset for _, offset in g}))
    first = min(group, key=lambda hit: hit[1])
    last = max(group, key=lambda hit: hit[1])
    needle_start, start = first[1], first[0] + first[1]
    while needle_start > 0 and start > 0 and needle[needle_start - 1] == haystack[start - 1]:
        needle_start, start = needle_start - 1, start - 1
    needle_end, end = last[1] + size, last[0] + last[1] + size
    while needle_end < len(needle) and end < len(haystack) and needle[needle_end] == haystack[end]:
        needle_end, end = needle_end + 1, end + 1
    return (needle_start, needle_end), (start, end)


def _edge_matches(haystack: str, needle: str) -> list[Match]:
    """The needle's longest prefix on the page (its last place) and longest suffix (first)."""
    found: list[Match] = []
    for from_start in (True, False):
        # Present parts are nested (a shorter prefix of a present prefix is present too), so
        # the longest can be found by bisection.
        low, high = 0, len(needle) - 1
        while low < high:
            middle = (low + high + 1) // 2
            part = needle[:middle] if from_start else needle[-middle:]
            if part in haystack:
                low = middle
            else:
                high = middle - 1
        if low == 0:
            continue
        # The places a page break would put them: a passage's start ends a page, its end
        # starts the next.
        if from_start:
            start = haystack.rfind(needle[:low])
            found.append(((0, low), (start, start + low)))
        else:
            start = haystack.find(needle[-low:])
            found.append(((len(needle) - low, len(needle)), (start, start + low)))
    return found


def _merge_lines(
    boxes: list[tuple[float, float, float, float]],
) -> list[tuple[float, float, float, float]]:
    """One rectangle per text line, so the marking reads like a highlighter pen."""
    lines: list[list[float]] = []
    previous_left = 0.0
    for left, bottom, right, top in boxes:
        centre = (bottom + top) / 2
        if lines:
            line = lines[-1]
            # Same line: the centre falls inside the line so far, and the text did not jump
            # far back to the left, as it does to the next column at the same height (a step
            # back of a letter or two is right-to-left script).
            jumped_back = left < previous_left - 3 * (line[3] - line[1])
            if line[1] <= centre <= line[3] and not jumped_back:
                line[0], line[1] = min(line[0], left), min(line[1], bottom)
                line[2], line[3] = max(line[2], right), max(line[3], top)
                previous_left = left
                continue
        lines.append([left, bottom, right, top])
        previous_left = left
    return [(a, b, c, d) for a, b, c, d in lines]


# --- drawing and encoding -----------------------------------------------------------------


def _draw_marks(
    picture: Image.Image, mark_rects: list[list[Rect]], strong_rects: list[list[Rect]]
) -> Image.Image:
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    # Shapes replace pixels on the overlay rather than blending, so overlapping passages do
    # not darken, and a strong mark drawn later replaces the light one beneath it.
    for rects in mark_rects:
        for left, top, right, bottom in rects:
            draw.rectangle((left - 1, top, right + 1, bottom), fill=_MARK_FILL)
    underline = max(2, picture.width // 400)
    for rects in strong_rects:
        for left, top, right, bottom in rects:
            draw.rectangle((left - 1, top, right + 1, bottom), fill=_STRONG_FILL)
            draw.rectangle((left - 1, bottom, right + 1, bottom + underline - 1), fill=_STRONG_LINE)
    return Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB")


def _encode(picture: Image.Image) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if picture.getcolors(_PALETTE_MAX_COLOURS) is not None:
        # Median cut keeps the white background white (fast octree turns it light grey);
        # optimize=True would more than double the time for about 1% fewer bytes.
        palette = picture.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        palette.save(buffer, "PNG")
        return buffer.getvalue(), "image/png"
    picture.save(buffer, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    return buffer.getvalue(), "image/jpeg"
