"""Read a file into numbered source lines (with page numbers where the format has pages).

`READERS` maps a file suffix to its reader; a new format is one more entry (the longest
matching suffix wins, so ".sfs.md" can sit beside ".md").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ingest.readers.base import (
    PAGE_COUNTER,
    Extracted,
    Line,
    ReadError,
    ReadResult,
    SourceLine,
)
from ingest.readers.docx import read_docx
from ingest.readers.pdf import read_pdf
from ingest.readers.text import read_text

Reader = Callable[[Path], Extracted]

READERS: dict[str, Reader] = {
    ".pdf": read_pdf,
    ".txt": read_text,
    ".md": read_text,
    ".docx": read_docx,
}
SUPPORTED_SUFFIXES = tuple(READERS)
_PAGE_COUNTER = PAGE_COUNTER  # the name clean.py has always imported

__all__ = ["PAGE_COUNTER", "READERS", "SUPPORTED_SUFFIXES", "Line", "ReadError", "ReadResult",
           "SourceLine", "read_document", "read_lines", "reader_for"]


def reader_for(path: Path) -> Reader | None:
    name = path.name.lower()
    matches = [suffix for suffix in READERS if name.endswith(suffix)]
    return READERS[max(matches, key=len)] if matches else None


def read_document(path: Path) -> ReadResult:
    """Read a document; raises ReadError with a clear reason."""
    reader = reader_for(path)
    if reader is None:
        raise ReadError(f"unsupported file type '{path.suffix.lower() or path.name}' "
                        f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if not path.is_file():
        raise ReadError("not a file")
    if path.stat().st_size == 0:
        raise ReadError("empty file (0 bytes)")
    extracted = reader(path)
    lines = _number_lines(extracted.lines)
    if not any(line.text.strip() for line in lines):
        notes = "; ".join(extracted.notes)
        raise ReadError(f"no text found ({notes})" if notes else "no text found")
    return ReadResult(lines, extracted.ocr_pages, extracted.skipped_pages, extracted.notes)


def read_lines(path: Path) -> list[SourceLine]:
    """Return the lines of a document; raises ReadError with a clear reason."""
    return read_document(path).lines


def _number_lines(raw: list[Line]) -> list[SourceLine]:
    lines: list[SourceLine] = []
    offset = 0
    for lineno, line in enumerate(raw, start=1):
        lines.append(SourceLine(line.text, lineno, line.page, offset, line.heading_level,
                                line.role, line.ocr, line.paragraph, line.laid_out))
        offset += len(line.text) + 1
    return _pages_from_counters(lines)


def _pages_from_counters(lines: list[SourceLine]) -> list[SourceLine]:
    """In text extracted from a PDF, a footer like '17 (20)' ends page 17: number what follows.

    Text before the first counter is paged only when that counter is page 1; otherwise it
    may span several pages and stays unpaged (cited by line span instead).
    """
    if any(line.page is not None for line in lines) or any(line.laid_out for line in lines):
        return lines
    counters = {index: int(match.group(1)) for index, line in enumerate(lines)
                if (match := PAGE_COUNTER.match(line.text))}
    if len(counters) < 2:
        return lines
    first_index = min(counters)
    page: int | None = 1 if counters[first_index] == 1 else None
    numbered: list[SourceLine] = []
    for index, line in enumerate(lines):
        numbered.append(SourceLine(line.text, line.lineno, page, line.offset))
        if index in counters:
            page = counters[index] + 1
    return numbered
