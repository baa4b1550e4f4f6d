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
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from rag.models import Chunk, DocumentInfo, DocumentMeta
from rag.store.editions import EditionInfo, narrowed, with_effective_validity

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
CREATE TABLE IF NOT EXISTS editions (
    document TEXT NOT NULL, edition TEXT NOT NULL, title TEXT, path TEXT, file_hash TEXT,
    ingested_at TEXT, chunks INTEGER, valid_from TEXT, valid_to TEXT,
    PRIMARY KEY (document, edition));
"""
# Catalogs written before editions existed: chunks gain an edition column ('' = the only
# edition) and every document gets its one edition row.
_MIGRATIONS = (
    ("chunks", "edition", "ALTER TABLE chunks ADD COLUMN edition TEXT NOT NULL DEFAULT ''"),
)
_EDITION_COLUMNS = ("document", "edition", "title", "path", "file_hash", "ingested_at",
                    "chunks", "valid_from", "valid_to")


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
        self._migrate()

    def _migrate(self) -> None:
        with self._tx() as db:
            for table, column, statement in _MIGRATIONS:
                columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                if column not in columns:
                    db.execute(statement)
            db.execute("CREATE INDEX IF NOT EXISTS chunks_by_edition "
                       "ON chunks(document, edition, ord)")
            db.execute(
                "INSERT INTO editions (document, edition, title, path, file_hash, ingested_at, "
                "chunks) SELECT document, '', title, path, file_hash, ingested_at, chunks "
                "FROM documents WHERE document NOT IN (SELECT document FROM editions)")

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

    def file_hash(self, document: str, edition: str = "") -> str | None:
        row = self._db().execute("SELECT file_hash FROM editions WHERE document=? AND edition=?",
                                 (document, edition)).fetchone()
        return str(row[0]) if row else None

    def editions(self, document: str | None = None) -> list[EditionInfo]:
        """Editions with their effective validity, per document oldest first."""
        query = f"SELECT {', '.join(_EDITION_COLUMNS)} FROM editions"
        rows = self._db().execute(query + (" WHERE document=?" if document else ""),
                                  (document,) if document else ()).fetchall()
        return _effective(rows)

    def documents(self) -> list[DocumentInfo]:
        rows = self._db().execute(
            "SELECT document, title, region, doc_type, year, source, path, chunks, ingested_at, "
            "file_hash FROM documents ORDER BY region, title").fetchall()
        keys = ("document", "title", "region", "doc_type", "year", "source", "path", "chunks",
                "ingested_at", "file_hash")
        counts = Counter(edition.document for edition in self.editions())
        return [DocumentInfo(**dict(zip(keys, row, strict=True)),
                             editions=max(1, counts.get(row[0], 1))) for row in rows]

    def snapshot(self) -> tuple[int, list[Chunk], list[list[str]]]:
        """All chunks and their BM25 terms at one generation (read in one transaction)."""
        db = self._db()
        db.execute("BEGIN")
        try:
            generation = self.generation()
            rows = db.execute("SELECT data, terms FROM chunks "
                              "ORDER BY document, edition, ord").fetchall()
            editions = {(edition.document, edition.edition): edition
                        for edition in self.editions()}
        finally:
            db.execute("COMMIT")
        chunks = []
        for data, _ in rows:
            chunk = Chunk.model_validate_json(data)
            chunks.append(narrowed(chunk, editions.get((chunk.document, chunk.edition))))
        return generation, chunks, [json.loads(terms) for _, terms in rows]

    def read_snapshot(self, consume: Callable[[list[Chunk], list[list[str]]], None],
                      batch: int = 5000) -> int:
        """`snapshot` in batches of rows handed to `consume` (memory stays one batch of
        parsed rows, not the whole catalog twice); returns the generation read."""
        db = self._db()
        db.execute("BEGIN")
        try:
            generation = self.generation()
            editions = {(edition.document, edition.edition): edition
                        for edition in self.editions()}
            cursor = db.execute("SELECT data, terms FROM chunks ORDER BY document, edition, ord")
            while rows := cursor.fetchmany(batch):
                chunks = [Chunk.model_validate_json(data) for data, _ in rows]
                consume([narrowed(chunk, editions.get((chunk.document, chunk.edition)))
                         for chunk in chunks], [json.loads(terms) for _, terms in rows])
        finally:
            db.execute("COMMIT")
        return generation

    def changes_since(self, generation: int) -> tuple[int, set[str], list[Chunk],
                                                     list[list[str]]] | None:
        """What changed after `generation`: (current generation, documents changed, their
        chunks now (all editions), their terms), read in one transaction; None when the
        change log does not cover every generation since (an older catalog: reload all)."""
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
            editions = {}
            for document in sorted(documents):
                rows += db.execute("SELECT data, terms FROM chunks WHERE document=? "
                                   "ORDER BY edition, ord", (document,)).fetchall()
                editions.update({(edition.document, edition.edition): edition
                                 for edition in self.editions(document)})
        finally:
            db.execute("COMMIT")
        chunks = [Chunk.model_validate_json(data) for data, _ in rows]
        return (current, documents,
                [narrowed(chunk, editions.get((chunk.document, chunk.edition)))
                 for chunk in chunks], [json.loads(terms) for _, terms in rows])

    def edition_chunks(self, document: str, edition: str) -> list[Chunk]:
        rows = self._db().execute("SELECT data FROM chunks WHERE document=? AND edition=? "
                                  "ORDER BY ord", (document, edition)).fetchall()
        return [Chunk.model_validate_json(data) for (data,) in rows]

    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self._db().execute("SELECT chunk_id FROM chunks")}

    def document_chunk_ids(self, document: str, edition: str | None = None) -> list[str]:
        """The chunk ids of one edition, or of all of the document's editions."""
        if edition is None:
            rows = self._db().execute("SELECT chunk_id FROM chunks WHERE document=?",
                                      (document,))
        else:
            rows = self._db().execute("SELECT chunk_id FROM chunks WHERE document=? AND "
                                      "edition=?", (document, edition))
        return [row[0] for row in rows]

    # --- writes --------------------------------------------------------------------------

    def replace_document(self, meta: DocumentMeta, path: str, file_hash: str,
                         chunks: list[Chunk], terms: list[list[str]]) -> int:
        """Swap one edition's chunks in (other editions stay); returns the new generation."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._tx() as db:
            db.execute("DELETE FROM chunks WHERE document=? AND edition=?",
                       (meta.document, meta.edition))
            db.executemany(
                "INSERT INTO chunks (chunk_id, document, ord, data, terms, edition) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(chunk.chunk_id, chunk.document, order, chunk.model_dump_json(),
                  json.dumps(chunk_terms, ensure_ascii=False), meta.edition)
                 for order, (chunk, chunk_terms) in enumerate(zip(chunks, terms, strict=True))])
            db.execute(
                f"INSERT OR REPLACE INTO editions ({', '.join(_EDITION_COLUMNS)}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (meta.document, meta.edition, meta.title, path, file_hash, now, len(chunks),
                 _iso(meta.valid_from), _iso(meta.valid_to)))
            self._write_document_row(db, meta.document, meta)
            generation = self._bump(db, meta.document)
        self.record_highwater(generation)
        return generation

    def remove_document(self, document: str, edition: str | None = None) -> int | None:
        """Delete the document (or one edition of it); returns the new generation, or None
        if it was not there."""
        with self._tx() as db:
            if edition is None:
                removed = db.execute("DELETE FROM documents WHERE document=?",
                                     (document,)).rowcount
                db.execute("DELETE FROM chunks WHERE document=?", (document,))
                db.execute("DELETE FROM editions WHERE document=?", (document,))
                generation = self._bump(db, document) if removed else None
            else:
                removed = db.execute("DELETE FROM editions WHERE document=? AND edition=?",
                                     (document, edition)).rowcount
                generation = None
                if removed:
                    db.execute("DELETE FROM chunks WHERE document=? AND edition=?",
                               (document, edition))
                    self._write_document_row(db, document, None)
                    generation = self._bump(db, document)
        if generation is not None:
            self.record_highwater(generation)
        return generation

    @staticmethod
    def _write_document_row(db: sqlite3.Connection, document: str,
                            meta: DocumentMeta | None) -> None:
        """The document row describes its latest edition and counts all editions' chunks."""
        rows = db.execute(f"SELECT {', '.join(_EDITION_COLUMNS)} FROM editions "
                          "WHERE document=?", (document,)).fetchall()
        if not rows:
            db.execute("DELETE FROM documents WHERE document=?", (document,))
            return
        latest = _effective(rows)[-1]
        total = sum(edition.chunks for edition in _effective(rows))
        if meta is None:
            db.execute("UPDATE documents SET path=?, file_hash=?, chunks=?, ingested_at=? "
                       "WHERE document=?", (latest.path, latest.file_hash, total,
                                            latest.ingested_at, document))
            return
        db.execute(
            "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (document, meta.title, meta.region, meta.doc_type, meta.year, meta.source,
             latest.path, latest.file_hash, latest.ingested_at, total))

    @staticmethod
    def _bump(db: sqlite3.Connection, document: str) -> int:
        """The next generation, logged with the document it changed (readers then reload
        only that document)."""
        row = db.execute("INSERT INTO meta VALUES ('generation', '1') ON CONFLICT(key) "
                         "DO UPDATE SET value = CAST(value AS INTEGER) + 1 "
                         "RETURNING value").fetchone()
        db.execute("INSERT OR REPLACE INTO changes VALUES (?, ?)", (int(row[0]), document))
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


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _effective(rows: list[tuple[object, ...]]) -> list[EditionInfo]:
    editions: dict[str, list[EditionInfo]] = {}
    for row in rows:
        values = dict(zip(_EDITION_COLUMNS, row, strict=True))
        declared_to = values.pop("valid_to")
        valid_from = values.pop("valid_from")
        info = EditionInfo.model_validate({
            **values, "chunks": values["chunks"] or 0, "path": values["path"] or "",
            "title": values["title"] or "", "file_hash": values["file_hash"] or "",
            "ingested_at": values["ingested_at"] or "",
            "valid_from": valid_from, "declared_valid_to": declared_to})
        editions.setdefault(info.document, []).append(info)
    return [edition for document in sorted(editions)
            for edition in with_effective_validity(editions[document])]
