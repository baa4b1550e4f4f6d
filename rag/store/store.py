"""The store: catalog (truth) + Chroma vectors + BM25, kept in step.

Write order makes every crash point safe: vectors for new chunks go in first (their ids are
content hashes, so re-adding is harmless), then the catalog swaps the document's chunks in
one transaction, then the replaced vectors are deleted. Readers only trust chunk ids that are
in their catalog snapshot, so stray vectors left by a crash are invisible and are collected
on the next write.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rag.models import Chunk, DocumentInfo, DocumentMeta, Filters
from rag.settings import Settings
from rag.store.bm25 import LexicalIndex
from rag.store.catalog import Catalog
from rag.store.embeddings import Embedder
from rag.store.vectors import VectorStore
from rag.text.lexical import MAX_TYPO_CHARS, analyze, name_terms, within_one_edit

REINDEX_BATCH = 500
EMBED_CACHE_BATCHES = 4  # embedder batches per cached batch while ingesting one document


def index_text(chunk: Chunk) -> str:
    """What BM25 and the embedder see: the passage with its title and section for context."""
    title = f"{chunk.title} ({chunk.short_title})" if chunk.short_title else chunk.title
    return f"{title}. {chunk.section_label}.\n{chunk.text}"


@dataclass
class Snapshot:
    generation: int
    chunks: list[Chunk]
    lexical: LexicalIndex
    terms: list[frozenset[str]] = field(default_factory=list)
    position: dict[str, int] = field(default_factory=dict)
    document_frequency: Counter[str] = field(default_factory=Counter)
    names: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.position = {chunk.chunk_id: index for index, chunk in enumerate(self.chunks)}
        for chunk_terms in self.terms:
            self.document_frequency.update(chunk_terms)

    def documents_named_by(self, query_terms: frozenset[str]) -> set[str]:
        """Documents whose title or region uses a query term that few documents' names use."""
        names = self._document_names()
        limit = max(1, len(names) // 3)
        named: set[str] = set()
        for term in query_terms:
            owners = {doc for doc, terms in names.items() if term in terms}
            if 0 < len(owners) <= limit:
                named |= owners
        return named

    def _document_names(self) -> dict[str, frozenset[str]]:
        if not self.names:
            for chunk in self.chunks:
                if chunk.document not in self.names:
                    self.names[chunk.document] = name_terms(f"{chunk.title} {chunk.region}")
        return self.names

    def near_spellings(self, term: str) -> list[tuple[str, ...]]:
        """Indexed terms one typo away from `term` (for "läkartd", "ungdomsmotagning")."""
        if not 5 <= len(term) <= MAX_TYPO_CHARS:
            return []
        return [(candidate,) for candidate in self.document_frequency
                if candidate[:1] == term[:1] and within_one_edit(term, candidate)]

    def idf(self, term: str) -> float:
        """BM25-style idf; a term no chunk contains gets the highest idf."""
        total = max(len(self.chunks), 1)
        frequency = self.document_frequency.get(term, 0)
        return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))

    def mask(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty:
            return None
        return np.array([filters.matches(chunk) for chunk in self.chunks], dtype=np.float32)


class Store:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.catalog = Catalog(settings.catalog_path)
        self.catalog.bind_embedder(embedder.name, embedder.dim)
        # Read before opening the vectors: a write landing in between is then reloaded.
        self._vectors_generation = self.catalog.generation()
        self.vectors = VectorStore(settings, embedder)
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.vectors.close()

    # --- reading -----------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current generation's chunks and BM25 index (reloaded after any change)."""
        generation = self.catalog.generation()
        current = self._snapshot
        if current is not None and current.generation == generation:
            return current
        with self._lock:
            self._reload_vectors_if_stale(generation)
            if self._snapshot is None or self._snapshot.generation != generation:
                generation, chunks, terms = self.catalog.snapshot()
                lexical = LexicalIndex.load_or_build(self.settings.data_dir / "bm25",
                                                     generation, terms)
                self._snapshot = Snapshot(generation, chunks, lexical,
                                          [frozenset(chunk_terms) for chunk_terms in terms])
            return self._snapshot

    def _reload_vectors_if_stale(self, generation: int) -> None:
        """Embedded Chroma: load the vectors another process wrote (caller holds the lock)."""
        if self.vectors.embedded and self._vectors_generation != generation:
            self.vectors.reopen()
            self._vectors_generation = generation

    def documents(self) -> list[DocumentInfo]:
        return self.catalog.documents()

    # --- writing -----------------------------------------------------------------------

    def embed_chunks(self, chunks: list[Chunk]) -> tuple[np.ndarray, int]:
        """Vectors for chunks, reusing cached ones; returns (vectors, number newly embedded)."""
        texts = [index_text(chunk) for chunk in chunks]
        hashes = [hashlib.sha256(text.encode()).hexdigest() for text in texts]
        cached = self.catalog.cached_vectors(self.embedder.name, hashes)
        missing = [i for i, text_hash in enumerate(hashes) if text_hash not in cached]
        # Cached batch by batch, so a process killed mid-document keeps what it embedded.
        batch = max(1, self.settings.embed_batch_size) * EMBED_CACHE_BATCHES
        for start in range(0, len(missing), batch):
            part = missing[start:start + batch]
            fresh = self.embedder.embed_passages([texts[i] for i in part])
            new = {hashes[i]: fresh[row] for row, i in enumerate(part)}
            self.catalog.cache_vectors(self.embedder.name, new)
            cached.update(new)
        vectors = np.vstack([cached[text_hash] for text_hash in hashes]) if chunks else \
            np.zeros((0, self.embedder.dim), dtype=np.float32)
        return vectors, len(missing)

    def write_document(self, meta: DocumentMeta, path: str, file_hash: str,
                       chunks: list[Chunk], vectors: np.ndarray) -> None:
        old_ids = set(self.catalog.document_chunk_ids(meta.document, meta.edition))
        self.vectors.upsert(chunks, vectors)
        terms = [analyze(index_text(chunk)) for chunk in chunks]
        self._note_own_write(self.catalog.replace_document(meta, path, file_hash, chunks, terms))
        stale = sorted(old_ids - {chunk.chunk_id for chunk in chunks})
        if stale:
            self.vectors.delete(stale)

    def remove_document(self, document: str, edition: str | None = None) -> bool:
        """Remove a document, or only one of its editions (an explicit act: a new edition
        never removes the old one)."""
        ids = self.catalog.document_chunk_ids(document, edition)
        generation = self.catalog.remove_document(document, edition)
        if generation is not None:
            self._note_own_write(generation)
        if ids:
            self.vectors.delete(ids)
        return generation is not None

    def _note_own_write(self, generation: int) -> None:
        """Our own write is already in our vectors; any other generation in between was
        another process's, and the next snapshot reloads the vectors."""
        with self._lock:
            if generation == self._vectors_generation + 1:
                self._vectors_generation = generation

    def reindex(self, on_batch: Callable[[int], None] | None = None) -> tuple[int, int]:
        """Rewrite every catalog chunk's vector into Chroma (after a restore, or onto a new
        Chroma server); vectors come from the embedding cache, so the model runs only for
        text it has never seen. Returns (chunks written, newly embedded)."""
        _, chunks, _ = self.catalog.snapshot()
        embedded = 0
        for start in range(0, len(chunks), REINDEX_BATCH):
            batch = chunks[start:start + REINDEX_BATCH]
            vectors, fresh = self.embed_chunks(batch)
            self.vectors.upsert(batch, vectors)
            embedded += fresh
            if on_batch:
                on_batch(len(batch))
        return len(chunks), embedded

    def collect_garbage(self) -> int:
        """Delete vectors whose chunks are not in the catalog (left by an interrupted write),
        once they are older than the grace period another worker's write may still need."""
        with self._lock:
            self._reload_vectors_if_stale(self.catalog.generation())
        referenced = self.catalog.chunk_ids()
        if self.vectors.count() <= len(referenced):
            return 0  # every referenced chunk has its vector (they are written first): no strays
        orphans = self.vectors.orphans(referenced, time.time() - self.settings.orphan_grace_s)
        if orphans:
            self.vectors.delete(orphans)
        return len(orphans)
