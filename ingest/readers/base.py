"""What every reader returns: numbered source lines, plus what it could and could not read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

LineRole = Literal["", "row"]

PAGE_COUNTER = re.compile(
    r"^\s*(?:sida\s+)?(\d{1,4})\s*(?:\(\s*\d{1,4}\s*\)|av\s+\d{1,4}|/\s*\d{1,4})\s*$",
    re.IGNORECASE)


class ReadError(Exception):
    """A file that cannot be ingested; the message is one line a person can act on."""


@dataclass(frozen=True)
class SourceLine:
    text: str
    lineno: int  # 1-based line number in the extracted text
    page: int | None
    offset: int  # character offset of the line in the extracted text
    # What a reader that sees layout or styles knows about the line (defaults: plain text).
    heading_level: int = 0  # > 0: a heading by its font or style (1 = top level)
    role: LineRole = ""  # "row": one table row, already a self-contained passage
    ocr: bool = False  # the page was read by OCR
    paragraph: int | None = None  # Word: the paragraph's number within its section (stycke)
    laid_out: bool = False  # the reader removed page furniture and marked paragraph gaps


@dataclass(frozen=True)
class Line:
    """A line as a reader produces it, before numbering."""

    text: str
    page: int | None = None
    heading_level: int = 0
    role: LineRole = ""
    ocr: bool = False
    paragraph: int | None = None
    laid_out: bool = False


BLANK = Line("")


@dataclass
class ReadResult:
    lines: list[SourceLine]
    ocr_pages: list[int] = field(default_factory=list)
    skipped_pages: list[int] = field(default_factory=list)  # no text and no OCR available
    notes: list[str] = field(default_factory=list)  # one line each, for the ingest report


@dataclass
class Extracted:
    """A reader's output: lines in reading order and what happened to the pages."""

    lines: list[Line]
    ocr_pages: list[int] = field(default_factory=list)
    skipped_pages: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
