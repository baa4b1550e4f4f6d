"""A table of the owners' log (feedback, refused questions) in the shared SQLite file, with
rows older than the retention period purged: the open, schema and purge both logs share."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

_clock_lock = threading.Lock()
_last_stamp = datetime.min.replace(tzinfo=UTC)


def now_iso() -> str:
    """The current time, strictly later than the last stamp this process gave out.

    The owners' list is ordered by time across two tables, so two rows written within the
    clock's resolution must still keep the order they were written in."""
    global _last_stamp
    with _clock_lock:
        stamp = max(datetime.now(UTC), _last_stamp + timedelta(microseconds=1))
        _last_stamp = stamp
    return stamp.isoformat(timespec="microseconds")


def cutoff_iso(retention_days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=retention_days)).isoformat(timespec="seconds")


class RetainedTable:
    """One table with a `created_at` column; subclasses name it and give its schema."""

    TABLE: ClassVar[str]
    SCHEMA: ClassVar[str]

    def __init__(self, path: Path, retention_days: int = 180) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.retention_days = retention_days
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(self.SCHEMA)
            self._upgrade(db)

    def _upgrade(self, db: sqlite3.Connection) -> None:
        """Bring a table made by an older version up to the schema (default: nothing)."""

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        # A connection per call: these logs are written rarely, and this is safe from any
        # thread.
        with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
            yield db

    def _purge(self, db: sqlite3.Connection) -> None:
        db.execute(f"DELETE FROM {self.TABLE} WHERE created_at < ?",
                   (cutoff_iso(self.retention_days),))
