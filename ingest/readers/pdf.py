"""PDF by its layout (pdfplumber): headings by font size and weight, paragraphs by vertical
gaps, running headers and footers by repetition at the page edges, tables as one passage per
row, and pages without a text layer read by OCR (ingest/ocr.py)."""

from __future__ import annotations

import itertools
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.hyphenation import join_broken_lines
from ingest.ocr import OCR_DPI, OcrUnavailable, is_heading, ocr_lines
from ingest.readers.base import PAGE_COUNTER, Extracted, Line, ReadError
from ingest.tables import clean_cell, row_text

EDGE_BAND = 0.12  # top and bottom share of the page where running headers/footers live
EDGE_LINES = 2  # lines nearest each edge that may be furniture
HEADING_SIZE_RATIO = 1.12
MAX_HEADING_CHARS = 110
# A page is read by OCR when an image covers most of it and its text layer holds no more
# than a running header and footer would (a scan with a stamped page number).
SCAN_IMAGE_SHARE = 0.5
SCAN_MAX_TEXT_CHARS = 200
_BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)


@dataclass
class _VisualLine:
    text: str
    top: float
    bottom: float
    size: float
    bold: bool
    page: int
    ocr: bool = False
    heading: bool = False  # OCR: decided by line height on its page
    furniture: bool = False
    ocr_paragraph: tuple[int, int] | None = None  # OCR: Tesseract's (block, paragraph)


@dataclass
class _Row:
    header: list[str]
    cells: list[str]
    page: int

    def text(self) -> str:
        return row_text(self.header, self.cells)


@dataclass
class _Table:
    top: float
    bottom: float
    header: list[str]
    rows: list[_Row]


@dataclass
class _Page:
    number: int
    height: float
    lines: list[_VisualLine] = field(default_factory=list)
    tables: list[_Table] = field(default_factory=list)


def read_pdf(path: Path) -> Extracted:
    _preflight(path)
    import pdfplumber

    extracted = Extracted([])
    try:
        with pdfplumber.open(path) as pdf:
            pages = [_read_page(page, number, extracted)
                     for number, page in enumerate(pdf.pages, start=1)]
    except ReadError:
        raise
    except Exception as error:  # pdfminer raises many types on a damaged file
        raise ReadError(f"corrupt or unreadable PDF ({type(error).__name__})") from error
    if not pages:
        raise ReadError("corrupt or unreadable PDF (no pages)")
    if extracted.skipped_pages and len(extracted.skipped_pages) == len(pages):
        raise ReadError("PDF has no text layer (scanned image?) and OCR is not available: "
                        + "; ".join(extracted.notes))
    _mark_furniture(pages)
    extracted.lines = _lines(pages)
    return extracted


def _preflight(path: Path) -> None:
    """Encryption and gross damage, reported the way a person can act on them."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                reader.decrypt("")  # owner-password-only PDFs open with an empty user password
                _ = reader.pages[0].extract_text()
            except Exception as error:
                raise ReadError("encrypted PDF: remove the password and upload again") from error
        if len(reader.pages) == 0:
            raise ReadError("corrupt or unreadable PDF (no pages)")
    except ReadError:
        raise
    except FileNotDecryptedError as error:
        raise ReadError("encrypted PDF: remove the password and upload again") from error
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AssertionError) as error:
        raise ReadError(f"corrupt or unreadable PDF ({type(error).__name__})") from error


def _read_page(page: Any, number: int, extracted: Extracted) -> _Page:
    result = _Page(number, float(page.height))
    visible = [char for char in page.chars if char["text"].strip()]
    if (not visible and page.images) or (len(visible) <= SCAN_MAX_TEXT_CHARS
                                         and _image_share(page) >= SCAN_IMAGE_SHARE):
        _ocr_page(page, result, extracted)
        return result
    boxes = []
    for table in page.find_tables():
        rows = [[clean_cell(cell) for cell in row] for row in table.extract()]
        rows = [row for row in rows if any(row)]
        if len(rows) < 2 or max(len(row) for row in rows) < 2:
            continue  # a framed paragraph or box, not a table: read as text
        boxes.append(table.bbox)
        result.tables.append(_Table(table.bbox[1], table.bbox[3], rows[0],
                                    [_Row(rows[0], row, number) for row in rows[1:]]))
    text_page = page.filter(lambda obj: obj.get("object_type") != "char"
                            or not any(_inside(obj, box) for box in boxes))
    for line in text_page.extract_text_lines(return_chars=True, strip=True):
        chars = [char for char in line["chars"] if char["text"].strip()]
        text = _normalise(line["text"])
        if not chars or not text:
            continue
        sizes = Counter(round(float(char["size"]), 1) for char in chars)
        bold = sum(1 for char in chars if _BOLD.search(char.get("fontname", "")))
        result.lines.append(_VisualLine(text, float(line["top"]), float(line["bottom"]),
                                        sizes.most_common(1)[0][0], bold == len(chars), number))
    return result


def _ocr_page(page: Any, result: _Page, extracted: Extracted) -> None:
    try:
        image = page.to_image(resolution=OCR_DPI).original
        found = ocr_lines(image)
    except OcrUnavailable as error:
        extracted.skipped_pages.append(result.number)
        extracted.notes.append(f"s. {result.number}: no text layer, not read ({error})")
        return
    extracted.ocr_pages.append(result.number)
    if not found:
        extracted.notes.append(f"s. {result.number}: read by OCR, no text found")
        return
    scale = 72.0 / OCR_DPI
    body = statistics.median(line.height for line in found)
    for line in found:
        text = _normalise(line.text)
        if text:
            top = line.top * scale
            result.lines.append(_VisualLine(
                text, top, top + line.height * scale, line.height * scale, False,
                result.number, ocr=True, heading=is_heading(line, body),
                ocr_paragraph=line.paragraph))


def _image_share(page: Any) -> float:
    area = float(page.width) * float(page.height) or 1.0
    covered = 0.0
    for image in page.images:
        width = min(float(image["x1"]), float(page.width)) - max(float(image["x0"]), 0.0)
        height = min(float(image["bottom"]), float(page.height)) - max(float(image["top"]), 0.0)
        covered += max(width, 0.0) * max(height, 0.0)
    return min(covered / area, 1.0)


def _inside(obj: dict[str, Any], box: tuple[float, float, float, float]) -> bool:
    x = (float(obj["x0"]) + float(obj["x1"])) / 2
    y = (float(obj["top"]) + float(obj["bottom"])) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _normalise(text: str) -> str:
    text = text.replace("\u00ad", "-") if text.endswith("\u00ad") else text
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


def furniture_key(text: str) -> str:
    """Digits, dashes and spacing aside (page numbers change; OCR reads '–' as '-')."""
    text = re.sub(r"[\u2010-\u2015-]", "-", text.strip().lower())
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", text))


def _mark_furniture(pages: list[_Page]) -> None:
    """Running headers and footers: lines at a page edge whose text (digits aside) recurs at
    the edges of many pages; page counters ('Sida 3 (20)') at an edge on any page."""
    edge_keys: Counter[str] = Counter()
    candidates: list[tuple[_VisualLine, str]] = []
    for page in pages:
        for line in _edge_lines(page):
            key = furniture_key(line.text)
            candidates.append((line, key))
        edge_keys.update({furniture_key(line.text) for line in _edge_lines(page)})
    threshold = max(2, (len(pages) + 1) // 2)
    for line, key in candidates:
        if edge_keys[key] >= threshold or PAGE_COUNTER.match(line.text):
            line.furniture = True


def _edge_lines(page: _Page) -> list[_VisualLine]:
    ordered = sorted(page.lines, key=lambda line: line.top)
    top = [line for line in ordered[:EDGE_LINES] if line.bottom <= page.height * EDGE_BAND]
    bottom = [line for line in ordered[-EDGE_LINES:]
              if line.top >= page.height * (1 - EDGE_BAND)]
    return top + [line for line in bottom if line not in top]


@dataclass
class _Style:
    body_size: float
    line_gap: float
    heading_sizes: list[float]

    @classmethod
    def of(cls, pages: list[_Page]) -> _Style:
        body = [line for page in pages for line in page.lines
                if not line.furniture and not line.ocr]
        weights: Counter[float] = Counter()
        for line in body:
            weights[line.size] += len(line.text)
        body_size = weights.most_common(1)[0][0] if weights else 10.0
        gaps = [b.top - a.bottom for page in pages for a, b in _pairs(page)
                if not a.ocr and a.size == body_size == b.size and b.top > a.bottom - 1]
        line_gap = statistics.median(gaps) if gaps else body_size * 0.2
        sizes = sorted({line.size for line in body
                        if line.size >= body_size * HEADING_SIZE_RATIO}, reverse=True)
        return cls(body_size, line_gap, sizes)

    def heading_level(self, line: _VisualLine) -> int:
        if len(line.text) > MAX_HEADING_CHARS or line.furniture:
            return 0
        if line.ocr:
            return 1 if line.heading else 0
        if line.size in self.heading_sizes:
            return self.heading_sizes.index(line.size) + 1
        if line.bold and line.size >= self.body_size * 0.98 and not line.text.endswith("."):
            return len(self.heading_sizes) + 1
        return 0

    def paragraph_break(self, above: _VisualLine, below: _VisualLine) -> bool:
        if above.ocr or below.ocr:
            return above.ocr_paragraph != below.ocr_paragraph
        gap = below.top - above.bottom
        return gap > self.line_gap + 0.35 * self.body_size


def _pairs(page: _Page) -> list[tuple[_VisualLine, _VisualLine]]:
    lines = sorted((line for line in page.lines if not line.furniture), key=lambda line: line.top)
    return list(itertools.pairwise(lines))


def _lines(pages: list[_Page]) -> list[Line]:
    style = _Style.of(pages)
    _join_table_continuations(pages)
    out: list[Line] = []
    for page in pages:
        blank = Line("", page.number, laid_out=True)
        items: list[tuple[float, _VisualLine | _Table]] = [
            (line.top, line) for line in page.lines if not line.furniture]
        items += [(table.top, table) for table in page.tables]
        items.sort(key=lambda item: item[0])
        previous: _VisualLine | None = None
        previous_level = 0
        for _top, item in items:
            if isinstance(item, _Table):
                out.append(blank)
                for row in item.rows:
                    out += [Line(row.text(), row.page, role="row", laid_out=True), blank]
                previous, previous_level = None, 0
                continue
            level = style.heading_level(item)
            if level and previous is not None and previous_level == level and \
                    not style.paragraph_break(previous, item) and out and out[-1].text:
                # A heading wrapped onto a second line: one heading.
                last = out[-1]
                out[-1] = Line(f"{last.text} {item.text}", last.page, level, ocr=last.ocr,
                               laid_out=True)
                previous = item
                continue
            if previous is not None and (level or previous_level
                                         or style.paragraph_break(previous, item)):
                out.append(blank)
            out.append(Line(item.text, page.number, level, ocr=item.ocr, laid_out=True))
            previous, previous_level = item, level
        if previous_level:
            out.append(blank)
    return out


def _join_table_continuations(pages: list[_Page]) -> None:
    """A table that runs over a page break: the repeated header row is dropped, a headerless
    continuation takes the previous page's header, and a row split by the break is one row."""
    for before, after in itertools.pairwise(pages):
        if not before.tables or not after.tables:
            continue
        last, first = before.tables[-1], after.tables[0]
        body_below = any(line.top > last.bottom and not line.furniture for line in before.lines)
        body_above = any(line.bottom < first.top and not line.furniture for line in after.lines)
        if body_below or body_above or len(first.header) != len(last.header):
            continue
        if first.header != last.header:
            # No repeated header: the "header" is the first continued row.
            first.rows.insert(0, _Row(last.header, first.header, after.number))
        for row in first.rows:
            row.header = last.header
        first.header = last.header
        if first.rows and last.rows and not first.rows[0].cells[0]:
            split = first.rows.pop(0)
            last.rows[-1].cells = [join_broken_lines([part for part in pair if part])
                                   for pair in zip(last.rows[-1].cells, split.cells,
                                                   strict=False)]
