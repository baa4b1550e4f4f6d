"""The log of refused questions: what staff asked that the documents could not answer.

Every question the API or the UI refuses is recorded here (question, time, filters, the
nearest passages; never who asked). The CLI and the evals call the service directly and are
not logged: an owner's own trial questions and the eval suite would drown staff's gaps.
`asked` / `asked_stream` are the one path the server faces ask through.

Rows live in the same SQLite file as the ratings (`feedback.sqlite3`) and are deleted after
`feedback_retention_days`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from ingest.service import Styrdok
from rag.models import Answer, Filters
from web.retained import RetainedTable, now_iso

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS refused (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    question TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'sv',
    filters TEXT NOT NULL DEFAULT '{}',
    nearest TEXT NOT NULL DEFAULT '[]',
    channel TEXT NOT NULL DEFAULT 'api',
    vector BLOB
);
CREATE INDEX IF NOT EXISTS refused_created ON refused (created_at);
"""
_COLUMNS = ("id", "created_at", "question", "language", "filters", "nearest", "channel")
# What of a nearest passage is kept: enough to name and show it, not the whole chunk.
_NEAREST_KEYS = ("n", "document", "title", "region", "section", "heading", "page", "lines",
                 "quote", "chunk_id", "score")


class RefusedQuestion(BaseModel):
    id: int
    created_at: str
    question: str
    language: str
    filters: dict[str, Any] = Field(default_factory=dict)
    nearest: list[dict[str, Any]] = Field(default_factory=list)
    channel: str

    @property
    def documents(self) -> list[str]:
        return list(dict.fromkeys(str(p["document"]) for p in self.nearest
                                  if p.get("document")))


def filters_dict(filters: Filters | None) -> dict[str, str]:
    """The filters that were on, as a small JSON-able dict ({} when none)."""
    if filters is None:
        return {}
    return {key: value for key, value in filters.model_dump(mode="json").items() if value}


class GapLog(RetainedTable):
    TABLE = "refused"
    SCHEMA = _SCHEMA

    def record(self, answer: Answer, filters: Filters | None, channel: str) -> int | None:
        """Log `answer` if it is a refusal; returns the row id (None when not refused).

        A question asked back (`clarify`: a follow-up with nothing to read it from) is no
        gap in the documents and is not logged."""
        if not answer.refused or answer.clarify:
            return None
        nearest = [{key: value for key, value in c.model_dump(mode="json").items()
                    if key in _NEAREST_KEYS} for c in answer.nearest]
        with self._db() as db:
            self._purge(db)
            cursor = db.execute(
                "INSERT INTO refused (created_at, question, language, filters, nearest, channel)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (now_iso(), answer.question, answer.language,
                 json.dumps(filters_dict(filters), ensure_ascii=False),
                 json.dumps(nearest, ensure_ascii=False), channel))
            return int(cursor.lastrowid or 0)

    def recent(self, limit: int = 200) -> list[RefusedQuestion]:
        """Newest first."""
        with self._db() as db:
            self._purge(db)
            rows = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM refused "
                              "ORDER BY created_at DESC, id DESC LIMIT ?", (limit,)).fetchall()
        return [_refused(row) for row in rows]

    def get(self, row_id: int) -> RefusedQuestion | None:
        with self._db() as db:
            row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM refused WHERE id = ?",
                             (row_id,)).fetchone()
        return _refused(row) if row else None

    def vectors(self, ids: list[int]) -> dict[int, np.ndarray[Any, np.dtype[np.float32]]]:
        """Stored question embeddings (those computed so far)."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._db() as db:
            rows = db.execute(f"SELECT id, vector FROM refused WHERE vector IS NOT NULL AND "
                              f"id IN ({marks})", ids).fetchall()
        return {int(row_id): np.frombuffer(blob, dtype=np.float32) for row_id, blob in rows}

    def store_vector(self, row_id: int, vector: np.ndarray[Any, np.dtype[np.float32]]) -> None:
        with self._db() as db:
            db.execute("UPDATE refused SET vector = ? WHERE id = ?",
                       (np.asarray(vector, dtype=np.float32).tobytes(), row_id))


def _refused(row: tuple[Any, ...]) -> RefusedQuestion:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["filters"] = json.loads(values["filters"] or "{}")
    values["nearest"] = json.loads(values["nearest"] or "[]")
    return RefusedQuestion(**values)


def _record_safely(gaps: GapLog, answer: Answer, filters: Filters | None, channel: str) -> None:
    # The log serves the owners; a full disk (or any fault) there must never cost staff
    # their answer.
    try:
        gaps.record(answer, filters, channel)
    except Exception:
        log.exception("could not log a refused question")


def asked(service: Styrdok, gaps: GapLog, question: str, filters: Filters | None,
          channel: str, **options: Any) -> Answer:
    """`service.ask`, with a refusal logged for the owners; `options` go to the service
    unchanged (e.g. a conversation's `history`)."""
    answer = service.ask(question, filters, **options)
    _record_safely(gaps, answer, filters, channel)
    return answer


def asked_stream(service: Styrdok, gaps: GapLog, question: str, filters: Filters | None,
                 channel: str, **options: Any) -> Iterator[str | Answer]:
    """`service.ask_stream`, with the final answer logged when it is a refusal; `options` go
    to the service unchanged.

    Like the service, raises ValueError for a bad question before anything is yielded.
    """
    items = service.ask_stream(question, filters, **options)

    def logged() -> Iterator[str | Answer]:
        for item in items:
            if isinstance(item, Answer):
                _record_safely(gaps, item, filters, channel)
            yield item

    return logged()
