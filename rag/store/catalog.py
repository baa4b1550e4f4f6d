"""The catalog: SQLite source of truth for documents, chunks, BM25 terms and cached embeddings.

A document's chunks are swapped in one transaction and every change bumps a generation
number, so readers (and other worker processes) see a document wholly old or wholly new
and know when to reload.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
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
CREATE TABLE IF NOT EXISTS changes (generation INTEGER PRIMARY KEY, document TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS embedding_cache (
    text_hash TEXT NOT NULL, embedder TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (text_hash, embedder));
"""


class EmbedderMismatch(Exception):
    pass


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
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

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

    def read_snapshot(self, consume: Callable[[list[Chunk], list[list[str]]], None],
                      batch: int = 5000) -> int:
        """`snapshot` in batches of rows handed to `consume` (memory stays one batch of
        parsed rows, not the whole catalog twice); returns the generation read."""
        db = self._db()
        db.execute("BEGIN")
        try:
            generation = self.generation()
            cursor = db.execute("SELECT data, terms FROM chunks ORDER BY document, ord")
            while rows := cursor.fetchmany(batch):
                consume([Chunk.model_validate_json(data) for data, _ in rows],
                         [json.loads(terms) for _, terms in rows])
        finally:
            db.execute("COMMIT")
        return generation

    def changes_since(self, generation: int) -> tuple[int, set[str], list[Chunk],
                                                     list[list[str]]] | None:
        """What changed after `generation`: (current generation, documents changed, their
        chunks now, their terms), read in one transaction; None when the change log does
        not cover every generation since (an older catalog: reload all)."""
        db = self._db()
        db.execute("BEGIN")
        try:
            current = self.generation()
            documents = {row[0] for row in db.execute(
                "SELECT document FROM changes WHERE generation > ?", (generation,))}
            logged = db.execute("SELECT COUNT(*) FROM changes WHERE generation > ?",
                                (generation,)).fetchone()[0]
            if logged != current - generation:
                return None
            rows: list[tuple[str, str]] = []
            for document in sorted(documents):
                rows += db.execute("SELECT data, terms FROM chunks WHERE document=? "
                                   "ORDER BY ord", (document,)).fetchall()
        finally:
            db.execute("COMMIT")
        return (current, documents, [Chunk.model_validate_json(data) for data, _ in rows],
                [json.loads(terms) for _, terms in rows])

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
            return self._log_change(db, self._bump(db), meta.document)

    def remove_document(self, document: str) -> int | None:
        """Delete the document; returns the new generation, or None if it was not there."""
        with self._tx() as db:
            removed = db.execute("DELETE FROM documents WHERE document=?", (document,)).rowcount
            db.execute("DELETE FROM chunks WHERE document=?", (document,))
            return self._log_change(db, self._bump(db), document) if removed else None

    @staticmethod
    def _bump(db: sqlite3.Connection) -> int:
        row = db.execute("INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) "
                         "DO UPDATE SET value = CAST(value AS INTEGER) + 1 "
                         "RETURNING value").fetchone()
        return int(row[0])

    @staticmethod
    def _log_change(db: sqlite3.Connection, generation: int, document: str) -> int:
        """Which document a generation changed, so readers reload only that document."""
        db.execute("INSERT OR REPLACE INTO changes VALUES (?, ?)", (generation, document))
        return generation

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
