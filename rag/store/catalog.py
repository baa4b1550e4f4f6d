"""The catalog: SQLite source of truth for documents, chunks, BM25 terms and cached embeddings.

A document's chunks are swapped in one transaction and every change bumps a generation
number, so readers (and other worker processes) see a document wholly old or wholly new
and know when to reload.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from rag.models import Chunk, DocumentInfo, DocumentMeta

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    document TEXT PRIMARY KEY, title TEXT, region TEXT, doc_type TEXT, year INTEGER,
    source TEXT, path TEXT, file_hash TEXT, ingested_at TEXT, chunks INTEGER);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, document TEXT NOT NULL, ord INTEGER NOT NULL,
    data TEXT NOT NULL, terms TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document, ord);
CREATE TABLE IF NOT EXISTS embedding_cache (
    text_hash TEXT NOT NULL, embedder TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (text_hash, embedder));
"""


class EmbedderMismatch(Exception):
    pass


class CatalogDetached(Exception):
    """The catalog's WAL file was deleted or replaced while this process had it open: its
    SQLite locks are gone (something in this process opened and closed the database file),
    so a write now could be lost. Writes are refused until the server restarts."""


HIGHWATER_SUFFIX = ".highwater"  # beside the catalog: the highest generation this dir served


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


class Catalog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._db().executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # creates the WAL
            self._local.db = db
            self._local.wal = _file_id(self.wal_path)
        return db

    @property
    def wal_path(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    def check_attached(self) -> None:
        """Raise CatalogDetached if the WAL this thread's connection writes to is gone."""
        opened = getattr(self._local, "wal", None)
        if opened is not None and _file_id(self.wal_path) != opened:
            raise CatalogDetached(
                f"the catalog's WAL ({self.wal_path}) was deleted or replaced while the "
                "server had it open, so its writes could be lost: writes are refused; "
                "restart the server")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        self.check_attached()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        self.check_attached()  # a commit into a deleted WAL is not a write that happened

    # --- integrity -----------------------------------------------------------------------

    @property
    def highwater_path(self) -> Path:
        return self.path.with_name(self.path.name + HIGHWATER_SUFFIX)

    def quick_check(self) -> list[str]:
        return [str(row[0]) for row in self._db().execute("PRAGMA quick_check")]

    def highwater(self) -> int:
        """The highest generation recorded beside the catalog (0 when none is)."""
        try:
            return int(json.loads(self.highwater_path.read_text(encoding="utf-8"))["generation"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return 0

    def record_highwater(self, generation: int) -> None:
        """Raise the recorded generation (racing writers can only leave it lower, never a
        false alarm: the check is `catalog < recorded`)."""
        if generation <= self.highwater():
            return
        temporary = self.highwater_path.with_name(f"{self.highwater_path.name}.{os.getpid()}")
        temporary.write_text(json.dumps({"generation": generation}), encoding="utf-8")
        os.replace(temporary, self.highwater_path)

    # --- embedder identity -------------------------------------------------------------

    def bind_embedder(self, name: str, dim: int) -> None:
        """Record the embedder on first use; refuse a different one later."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key='embedder'").fetchone()
            identity = json.dumps({"name": name, "dim": dim})
            if row is None:
                db.execute("INSERT INTO meta VALUES ('embedder', ?)", (identity,))
            elif json.loads(row[0]) != {"name": name, "dim": dim}:
                built = json.loads(row[0])
                raise EmbedderMismatch(
                    f"the index in {self.path.parent} was built with {built['name']} "
                    f"({built['dim']} dims), not {name}: use another STYRDOK_DATA_DIR or "
                    "delete it and ingest again")

    # --- reads ---------------------------------------------------------------------------

    def generation(self) -> int:
        row = self._db().execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else 0

    def file_hash(self, document: str) -> str | None:
        row = self._db().execute("SELECT file_hash FROM documents WHERE document=?",
                                 (document,)).fetchone()
        return str(row[0]) if row else None

    def documents(self) -> list[DocumentInfo]:
        rows = self._db().execute(
            "SELECT document, title, region, doc_type, year, source, path, chunks, ingested_at, "
            "file_hash FROM documents ORDER BY region, title").fetchall()
        keys = ("document", "title", "region", "doc_type", "year", "source", "path", "chunks",
                "ingested_at", "file_hash")
        return [DocumentInfo(**dict(zip(keys, row, strict=True))) for row in rows]

    def snapshot(self) -> tuple[int, list[Chunk], list[list[str]]]:
        """All chunks and their BM25 terms at one generation (read in one transaction)."""
        db = self._db()
        db.execute("BEGIN")
        try:
            generation = self.generation()
            rows = db.execute("SELECT data, terms FROM chunks ORDER BY document, ord").fetchall()
        finally:
            db.execute("COMMIT")
        chunks = [Chunk.model_validate_json(data) for data, _ in rows]
        return generation, chunks, [json.loads(terms) for _, terms in rows]

    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self._db().execute("SELECT chunk_id FROM chunks")}

    def document_chunk_ids(self, document: str) -> list[str]:
        rows = self._db().execute("SELECT chunk_id FROM chunks WHERE document=?", (document,))
        return [row[0] for row in rows]

    # --- writes --------------------------------------------------------------------------

    def replace_document(self, meta: DocumentMeta, path: str, file_hash: str,
                         chunks: list[Chunk], terms: list[list[str]]) -> int:
        """Swap the document's chunks in; returns the new generation."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._tx() as db:
            db.execute("DELETE FROM chunks WHERE document=?", (meta.document,))
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
                [(chunk.chunk_id, chunk.document, order, chunk.model_dump_json(),
                  json.dumps(chunk_terms, ensure_ascii=False))
                 for order, (chunk, chunk_terms) in enumerate(zip(chunks, terms, strict=True))])
            db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (meta.document, meta.title, meta.region, meta.doc_type, meta.year, meta.source,
                 path, file_hash, now, len(chunks)))
            generation = self._bump(db)
        self.record_highwater(generation)
        return generation

    def remove_document(self, document: str) -> int | None:
        """Delete the document; returns the new generation, or None if it was not there."""
        with self._tx() as db:
            removed = db.execute("DELETE FROM documents WHERE document=?", (document,)).rowcount
            db.execute("DELETE FROM chunks WHERE document=?", (document,))
            generation = self._bump(db) if removed else None
        if generation is not None:
            self.record_highwater(generation)
        return generation

    @staticmethod
    def _bump(db: sqlite3.Connection) -> int:
        row = db.execute("INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) "
                         "DO UPDATE SET value = CAST(value AS INTEGER) + 1 "
                         "RETURNING value").fetchone()
        return int(row[0])

    # --- embedding cache ---------------------------------------------------------------

    def cached_vectors(self, embedder: str, text_hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        db = self._db()
        for start in range(0, len(text_hashes), 500):
            batch = text_hashes[start:start + 500]
            marks = ",".join("?" * len(batch))
            for text_hash, blob in db.execute(
                    f"SELECT text_hash, vector FROM embedding_cache WHERE embedder=? "
                    f"AND text_hash IN ({marks})", (embedder, *batch)):
                found[text_hash] = np.frombuffer(blob, dtype=np.float32)
        return found

    def cache_vectors(self, embedder: str, vectors: dict[str, np.ndarray]) -> None:
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO embedding_cache VALUES (?, ?, ?)",
                           [(text_hash, embedder, vector.astype(np.float32).tobytes())
                            for text_hash, vector in vectors.items()])
