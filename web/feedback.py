"""Thumbs up/down from staff, kept in SQLite under the data dir for the document owners.

One row per answer: an answer carries an id (the UI makes one per answer), and rating it
again updates that row instead of adding one. Rows older than the retention period are
deleted on every write and read. No user identity is stored.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Literal

from pydantic import BaseModel, Field

from web.retained import RetainedTable, now_iso

Rating = Literal["up", "down"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',
    channel TEXT NOT NULL DEFAULT 'api'
);
"""
# Columns added after the first release (an existing file is migrated in place).
_ADDED_COLUMNS = {"answer_id": "TEXT", "filters": "TEXT NOT NULL DEFAULT '{}'"}
_ANSWER_INDEX = ("CREATE UNIQUE INDEX IF NOT EXISTS feedback_answer ON feedback (answer_id) "
                 "WHERE answer_id IS NOT NULL")
_COLUMNS = ("id", "created_at", "question", "answer", "rating", "comment", "citations",
            "channel", "answer_id", "filters")


class FeedbackRecord(BaseModel):
    id: int
    created_at: str
    question: str
    answer: str
    rating: Rating
    comment: str
    citations: list[dict[str, Any]]
    channel: str
    answer_id: str | None = None
    filters: dict[str, Any] = Field(default_factory=dict)

    @property
    def documents(self) -> list[str]:
        """The documents the rated answer cited, in citation order, without repeats."""
        return list(dict.fromkeys(str(c["document"]) for c in self.citations
                                  if c.get("document")))


class FeedbackStore(RetainedTable):
    TABLE = "feedback"
    SCHEMA = _SCHEMA

    def _upgrade(self, db: sqlite3.Connection) -> None:
        present = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
        for column, kind in _ADDED_COLUMNS.items():
            if column not in present:
                db.execute(f"ALTER TABLE feedback ADD COLUMN {column} {kind}")
        db.execute(_ANSWER_INDEX)

    def add(self, *, question: str, answer: str, rating: Rating, comment: str = "",
            citations: list[dict[str, Any]] | None = None, channel: str = "api",
            answer_id: str | None = None, filters: dict[str, Any] | None = None) -> int:
        """Store a rating; with `answer_id`, a second rating of that answer replaces the
        first (rating, comment and time), so one answer is always one row."""
        values = (now_iso(), question, answer, rating, comment.strip(),
                  json.dumps(citations or [], ensure_ascii=False), channel, answer_id or None,
                  json.dumps(filters or {}, ensure_ascii=False))
        with self._db() as db:
            self._purge(db)
            cursor = db.execute(
                "INSERT INTO feedback (created_at, question, answer, rating, comment, citations,"
                " channel, answer_id, filters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (answer_id) WHERE answer_id IS NOT NULL DO UPDATE SET "
                "created_at = excluded.created_at, rating = excluded.rating, "
                "comment = excluded.comment RETURNING id", values)
            return int(cursor.fetchone()[0])

    def recent(self, limit: int = 50, rating: Rating | None = None) -> list[FeedbackRecord]:
        """Newest first (by the time of the latest rating)."""
        where, args = ("WHERE rating = ?", [rating]) if rating else ("", [])
        with self._db() as db:
            self._purge(db)
            rows = db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM feedback {where} "
                "ORDER BY created_at DESC, id DESC LIMIT ?", (*args, limit)).fetchall()
        return [_record(row) for row in rows]

    def get(self, row_id: int) -> FeedbackRecord | None:
        with self._db() as db:
            row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM feedback WHERE id = ?",
                             (row_id,)).fetchone()
        return _record(row) if row else None

    def count(self) -> int:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])


def _record(row: tuple[Any, ...]) -> FeedbackRecord:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["citations"] = json.loads(values["citations"] or "[]")
    values["filters"] = json.loads(values["filters"] or "{}")
    return FeedbackRecord(**values)
