"""Editions of a document and when each applies.

An edition's own `valid_to` may be unset: it then ends when the next edition (by `giltig
från`) begins, so uploading a new edition supersedes the old one without rewriting it, and
removing the new one makes the old one current again. A chunk's validity is its edition's,
narrowed by its own (a statute paragraph's wording has dates of its own).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from rag.models import Chunk


class EditionInfo(BaseModel):
    document: str
    edition: str = Field(description="Label; '' for a document's first, unlabelled edition.")
    title: str
    path: str
    file_hash: str
    chunks: int
    ingested_at: str
    valid_from: date | None = None
    valid_to: date | None = Field(None, description="Effective giltig till (exclusive).")
    declared_valid_to: date | None = Field(None, description="As given, before supersession.")
    superseded_by: str | None = None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to)

    @property
    def display_name(self) -> str:
        return self.edition or "första utgåvan"


def _order_key(edition: EditionInfo) -> tuple[date, str]:
    return edition.valid_from or date.min, edition.ingested_at


def with_effective_validity(editions: list[EditionInfo]) -> list[EditionInfo]:
    """One document's editions, oldest first, each ending where the next begins."""
    ordered = sorted(editions, key=_order_key)
    # A later edition without a giltig från starts the day it was ingested.
    starts = [edition.valid_from or (_ingest_day(edition) if index else None)
              for index, edition in enumerate(ordered)]
    result: list[EditionInfo] = []
    for index, edition in enumerate(ordered):
        valid_to = edition.declared_valid_to
        superseded_by = None
        if index + 1 < len(ordered):
            start = starts[index + 1]
            superseded_by = ordered[index + 1].edition
            valid_to = min(valid_to, start) if valid_to and start else start
        result.append(edition.model_copy(update={"valid_from": starts[index],
                                                 "valid_to": valid_to,
                                                 "superseded_by": superseded_by}))
    return result


def _ingest_day(edition: EditionInfo) -> date:
    try:
        return date.fromisoformat(edition.ingested_at[:10])
    except ValueError:
        return date.min


def narrowed(chunk: Chunk, edition: EditionInfo | None) -> Chunk:
    """The chunk with its edition's validity applied (the later start, the earlier end)."""
    if edition is None or (edition.valid_from is None and edition.valid_to is None):
        return chunk
    starts = [day for day in (chunk.valid_from, edition.valid_from) if day is not None]
    ends = [day for day in (chunk.valid_to, edition.valid_to) if day is not None]
    return chunk.model_copy(update={"valid_from": max(starts) if starts else None,
                                    "valid_to": min(ends) if ends else None})


def validity_text(valid_from: date | None, valid_to: date | None, as_of: date) -> str:
    """How a citation states when its text applies, in Swedish."""
    if valid_to is not None and valid_to <= as_of:
        since = f"gällde från {valid_from.isoformat()}, " if valid_from else ""
        return f"{since}upphörde {valid_to.isoformat()}"
    if valid_from is not None and valid_from > as_of:
        return f"gäller från {valid_from.isoformat()} (ännu inte i kraft)"
    parts = []
    if valid_from is not None:
        parts.append(f"gäller från {valid_from.isoformat()}")
    if valid_to is not None:
        parts.append(f"upphör {valid_to.isoformat()}")
    return ", ".join(parts) or "gäller tills vidare"
