"""Which date a question is answered as of: the one given, one the question names, or today.

"Vad gällde 2025?" is answered as of 2025-12-31 (the last wording that applied that year),
"före 2026" as of 2025-12-31, "1 mars 2025" or "2025-03-01" as of that day. A year alone
with no word of time around it ("Uppföljning 2020") names a document, not a date, and is
left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from rag.models import Chunk
from rag.store.validity import OPEN_END, Bounds, validity_bounds

Source = Literal["given", "question", "today"]
_MONTHS = {name: number for number, names in enumerate((
    ("januari", "january", "jan"), ("februari", "february", "feb"), ("mars", "march", "mar"),
    ("april", "apr"), ("maj", "may"), ("juni", "june", "jun"), ("juli", "july", "jul"),
    ("augusti", "august", "aug"), ("september", "sep", "sept"), ("oktober", "october", "okt",
                                                                 "oct"),
    ("november", "nov"), ("december", "dec")), start=1) for name in names}
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_ISO_DATE = re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b")
_NAMED_DATE = re.compile(r"\b(?P<day>[0-3]?\d)\s+(?P<month>[a-zåäö]+)\.?\s+" + _YEAR + r"\b",
                         re.IGNORECASE)
_BEFORE_YEAR = re.compile(r"\b(?:före|innan|till|before|until|prior to)\s+(?:år\s+)?" + _YEAR
                          + r"\b", re.IGNORECASE)
# A year after a word of time or validity, within two words ("gällde år 2025", "i 2024").
_YEAR_IN = re.compile(
    r"\b(?:gällde|gäller|gällt|gällande|gälla|i kraft|under|i|år|året|per|from|in|during|"
    r"valid|applied|as of|efter|after|sedan|since)\b(?:\s+\w+){0,2}?\s+" + _YEAR + r"\b(?!:)",
    re.IGNORECASE)

# A year that ends a question asking what applied, however far from the verb: "Vad gällde
# enligt HSL 6 kap. 1 § 2025?" (a paragraph reference is not words to \w+).
_YEAR_AT_END = re.compile(r"\b(?:gällde|gällt|applied)\b.*\s" + _YEAR + r"\s*[?.!]*\s*$",
                          re.IGNORECASE)


@dataclass(frozen=True)
class AsOf:
    day: date
    source: Source
    phrase: str = ""  # the words of the question that named the date


def resolve(question: str, given: date | None, today: date) -> AsOf:
    if given is not None:
        return AsOf(given, "given")
    named = date_in_question(question, today)
    return named or AsOf(today, "today")


def date_in_question(question: str, today: date) -> AsOf | None:
    if match := _ISO_DATE.search(question):
        day = _safe_date(int(match["year"]), int(match["month"]), int(match["day"]))
        if day:
            return AsOf(day, "question", match.group(0))
    for match in _NAMED_DATE.finditer(question):
        month = _MONTHS.get(match["month"].lower())
        day = _safe_date(int(match["year"]), month, int(match["day"])) if month else None
        if day:
            return AsOf(day, "question", match.group(0))
    if match := _BEFORE_YEAR.search(question):
        return AsOf(date(int(match["year"]) - 1, 12, 31), "question", match.group(0))
    for pattern in (_YEAR_IN, _YEAR_AT_END):
        if match := pattern.search(question):
            return AsOf(_day_in_year(int(match["year"]), today), "question", match.group(0))
    return None


def _day_in_year(year: int, today: date) -> date:
    """A past year: its last day; this year: today; a future year: its first day."""
    if year < today.year:
        return date(year, 12, 31)
    if year == today.year:
        return today
    return date(year, 1, 1)


def _safe_date(year: int, month: int | None, day: int) -> date | None:
    try:
        return date(year, month, day) if month else None
    except ValueError:
        return None


def validity_mask(chunks: list[Chunk], day: date,
                  versions: Literal["as_of", "superseded"] = "as_of",
                  bounds: Bounds | None = None) -> np.ndarray | None:
    """1 for chunks in force on `day` (or, for "superseded", ceased by then); None when every
    chunk is in force (nothing to mask). `bounds`: the chunks' validity_bounds, if known
    (a snapshot keeps them); else computed here, once per chunk list."""
    starts, ends = bounds if bounds is not None else _cached_bounds(chunks)
    when = day.toordinal()
    if versions == "as_of":
        flags = (starts <= when) & (when < ends)
        if bool(flags.all()):
            return None
    else:
        flags = (ends != OPEN_END) & (ends <= when)
    return flags.astype(np.float32)


_bounds_cache: list[tuple[list[Chunk], int, Bounds]] = []


def _cached_bounds(chunks: list[Chunk]) -> Bounds:
    """validity_bounds of a chunk list, kept for the last two lists (a snapshot's list is
    never changed in place; a new generation is a new list)."""
    for cached, size, bounds in _bounds_cache:
        if cached is chunks and size == len(chunks):
            return bounds
    bounds = validity_bounds(chunks)
    _bounds_cache.insert(0, (chunks, len(chunks), bounds))
    del _bounds_cache[2:]
    return bounds
