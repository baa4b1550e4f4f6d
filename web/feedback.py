"""Thumbs up/down from staff, kept in SQLite under the data dir for the document owners."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

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


class FeedbackRecord(BaseModel):
    id: int
    created_at: str
    question: str
    answer: str
    rating: Rating
    comment: str
    citations: list[dict[str, Any]]
    channel: str


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # A connection per call: feedback is rare, and this is safe from any thread.
        with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            yield db

    def add(self, *, question: str, answer: str, rating: Rating, comment: str = "",
            citations: list[dict[str, Any]] | None = None, channel: str = "api") -> int:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO feedback (created_at, question, answer, rating, comment, citations,"
                " channel) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (now, question, answer, rating, comment.strip(),
                 json.dumps(citations or [], ensure_ascii=False), channel))
            return int(cursor.lastrowid or 0)

    def recent(self, limit: int = 50) -> list[FeedbackRecord]:
        with self._db() as db:
            rows = db.execute(
                "SELECT id, created_at, question, answer, rating, comment, citations, channel "
                "FROM feedback ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        keys = ("id", "created_at", "question", "answer", "rating", "comment", "citations",
                "channel")
        return [FeedbackRecord(**{**dict(zip(keys, row, strict=True)),
                                  "citations": json.loads(row[6])}) for row in rows]

    def count(self) -> int:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])
