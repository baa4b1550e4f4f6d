"""The store: catalog (truth) + Chroma vectors + BM25, kept in step.

Write order makes every crash point safe: vectors for new chunks go in first (their ids are
content hashes, so re-adding is harmless), then the catalog swaps the document's chunks in
one transaction, then the replaced vectors are deleted. Readers only trust chunk ids that are
in their catalog snapshot, so stray vectors left by a crash are invisible and are collected
on the next write.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from rag.models import Chunk, DocumentInfo, DocumentMeta, Filters
from rag.retrieve.statute_refs import Statute, statutes
from rag.settings import Settings
from rag.store.bm25 import LexicalIndex, Segment, SegmentBuilder, TermCounts
from rag.store.catalog import Catalog
from rag.store.embeddings import Embedder
from rag.store.sentence_vectors import SentenceVectors
from rag.store.validity import Bounds, changed_bounds, validity_bounds
from rag.store.vectors import VectorStore
from rag.text.abbreviations import find_definitions, merged
from rag.text.fold import fold
from rag.text.instructions import addresses_reader
from rag.text.lexical import (
    ABBREVIATIONS,
    COGNATE_PREFIX,
    MAX_TYPO_CHARS,
    analyze,
    cognate_prefixes,
    name_terms,
    within_one_edit,
)
from rag.text.sentences import split_sentences

REINDEX_BATCH = 500
MAX_LEFT_ENDING = 3  # "-et", "-det": definite endings Snowball keeps on some words
MIN_SHORTER_FORM = 6
MIN_SHORT_TYPO_CHARS = 3
EMBED_CACHE_BATCHES = 4  # embedder batches per cached batch while ingesting one document


def document_ranges(chunks: list[Chunk]) -> dict[str, tuple[int, int]]:
    """Each document's [start, end) in a chunk list that keeps a document's chunks together."""
    ranges: dict[str, tuple[int, int]] = {}
    for position, chunk in enumerate(chunks):
        start = ranges.get(chunk.document, (position, position))[0]
        ranges[chunk.document] = (start, position + 1)
    return ranges


def index_text(chunk: Chunk) -> str:
    """What BM25 and the embedder see: the passage with its title and section for context."""
    title = f"{chunk.title} ({chunk.short_title})" if chunk.short_title else chunk.title
    return f"{title}. {chunk.section_label}.\n{chunk.text}"


class ChunkPositions(Mapping[str, int]):
    """chunk id -> position in the snapshot, answered by the lexical index's segments (which
    know their chunks' ids), so a change does not rebuild a dict of every chunk."""

    def __init__(self, lexical: LexicalIndex) -> None:
        self._lexical = lexical

    def __getitem__(self, chunk_id: str) -> int:
        position = self._lexical.position_of(chunk_id)
        if position is None:
            raise KeyError(chunk_id)
        return position

    def __contains__(self, chunk_id: object) -> bool:
        return isinstance(chunk_id, str) and self._lexical.position_of(chunk_id) is not None

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for segment in reversed(self._lexical.segments):
            for chunk_id in segment.ids:
                if chunk_id not in seen and chunk_id in self:
                    seen.add(chunk_id)
                    yield chunk_id

    def __len__(self) -> int:
        return self._lexical.size


@dataclass
class Snapshot:
    """One generation's chunks and BM25 index. The chunks are in the index's position order,
    each document's chunks next to each other (`ranges`), so a change is list slicing."""

    generation: int
    chunks: list[Chunk]
    lexical: LexicalIndex
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    names: dict[str, frozenset[str]] = field(default_factory=dict)
    # Per document, the abbreviations it defines ("bastjänstgöring (BT)"); every document
    # has an entry once they are read.
    definitions: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    _columns: dict[str, np.ndarray] = field(default_factory=dict)
    _bounds: Bounds | None = None
    _by_prefix: dict[str, list[str]] | None = None
    _name_owners: dict[str, set[str]] | None = None
    _abbreviations: dict[str, tuple[str, ...]] | None = None
    _statutes: list[Statute] | None = None

    def __post_init__(self) -> None:
        if not self.ranges:
            self.ranges = document_ranges(self.chunks)
        self.position = ChunkPositions(self.lexical)
        self.document_frequency = TermCounts(self.lexical)

    def document_heads(self) -> list[Chunk]:
        """The first chunk of each document: what is the same for all its chunks (region,
        type, title) read once per document, not per chunk."""
        return [self.chunks[start] for start, _ in self.ranges.values()]

    @classmethod
    def build(cls, generation: int, chunks: list[Chunk], terms: list[list[str]]) -> Snapshot:
        segment = Segment.build(terms, (chunk.chunk_id for chunk in chunks))
        return cls(generation, chunks, LexicalIndex.of(segment))

    def changed(self, generation: int, documents: set[str], chunks: list[Chunk],
                terms: list[list[str]]) -> Snapshot:
        """The next generation from this one: `documents` now have `chunks` (none if
        removed). Costs the changed chunks and a pass over the documents, not a reload."""
        gone = sorted(self.ranges[document] for document in documents
                      if document in self.ranges)
        pieces, previous, ranges = [], 0, {}
        starts = [start for start, _ in gone]
        removed_before = np.cumsum([0] + [end - start for start, end in gone])
        for start, end in gone:
            pieces.append(self.chunks[previous:start])
            previous = end
        pieces.append(self.chunks[previous:])
        for document, (start, end) in self.ranges.items():
            if document not in documents:
                shift = int(removed_before[bisect.bisect_right(starts, start)])
                ranges[document] = (start - shift, end - shift)
        kept = list(itertools.chain.from_iterable(pieces))
        for document, (start, end) in document_ranges(chunks).items():
            ranges[document] = (start + len(kept), end + len(kept))
        removed = itertools.chain.from_iterable(range(start, end) for start, end in gone)
        lexical = self.lexical.changed(removed, terms, (chunk.chunk_id for chunk in chunks))
        names = {document: terms_ for document, terms_ in self.names.items()
                 if document not in documents} if self.names else {}
        definitions = {document: defined for document, defined in self.definitions.items()
                       if document not in documents}
        bounds = None if self._bounds is None else changed_bounds(self._bounds, gone, chunks)
        snapshot = Snapshot(generation, kept + chunks, lexical, ranges, names, definitions,
                            _bounds=bounds)
        if names:
            snapshot._add_names(chunks)
        if definitions:
            snapshot._add_definitions(chunks)
        return snapshot

    def with_lexical(self, lexical: LexicalIndex) -> Snapshot:
        """The same chunks with an equivalent index (a merged one: same positions)."""
        return Snapshot(self.generation, self.chunks, lexical, self.ranges, self.names,
                        self.definitions, self._columns, self._bounds)

    def validity_bounds(self) -> Bounds:
        """Every chunk's valid_from / valid_to as day ordinals (rag/store/validity.py), built
        on the first dated search and carried forward by `changed`."""
        if self._bounds is None:
            self._bounds = validity_bounds(self.chunks)
        return self._bounds

    def documents_named_by(self, query_terms: frozenset[str]) -> set[str]:
        """Documents whose title or region uses a query term that few documents' names use."""
        return set(self.naming_terms(query_terms))

    def naming_terms(self, query_terms: frozenset[str]) -> dict[str, frozenset[str]]:
        """Per document the query names (a term of its title, region or short name that at
        most a third of the documents' names use), the terms naming it."""
        owners_of = self._owners()
        limit = max(1, len(self._document_names()) // 3)
        naming: dict[str, set[str]] = {}
        for term in query_terms:
            owners = owners_of.get(term, set())
            if 0 < len(owners) <= limit:
                for document in owners:
                    naming.setdefault(document, set()).add(term)
        return {document: frozenset(terms) for document, terms in naming.items()}

    def _owners(self) -> dict[str, set[str]]:
        """Name term -> the documents whose names use it (at 1 000x: 5 000 documents, so a
        question's naming terms are looked up, not tested against every document)."""
        if self._name_owners is None:
            owners: dict[str, set[str]] = {}
            for document, terms in self._document_names().items():
                for term in terms:
                    owners.setdefault(term, set()).add(document)
            self._name_owners = owners
        return self._name_owners

    def _document_names(self) -> dict[str, frozenset[str]]:
        if not self.names:
            self._add_names(self.chunks)
        return self.names

    def _add_names(self, chunks: list[Chunk]) -> None:
        self._name_owners = None
        for chunk in chunks:
            if chunk.document not in self.names:
                self.names[chunk.document] = name_terms(
                    f"{chunk.title} {chunk.region} {chunk.short_title}")

    def statutes(self) -> list[Statute]:
        """The statutes among the documents (those with a short name), found once."""
        if self._statutes is None:
            self._statutes = statutes(self.document_heads())
        return self._statutes

    def title(self, document: str) -> str:
        return self.chunks[self.ranges[document][0]].title

    def abbreviations(self) -> dict[str, tuple[str, ...]]:
        """The staff abbreviations kept by hand, with those the documents define added (read
        on first use, then carried forward by `changed` for the documents not changed)."""
        if self._abbreviations is None:
            if not self.definitions:
                self._add_definitions(self.chunks)
            self._abbreviations = merged(ABBREVIATIONS, self.definitions.values())
        return self._abbreviations

    def _add_definitions(self, chunks: list[Chunk]) -> None:
        self._abbreviations = None
        for chunk in chunks:
            defined = self.definitions.setdefault(chunk.document, {})
            for short, forms in find_definitions(chunk.text).items():
                defined.setdefault(short, set()).update(forms)

    def near_spellings(self, term: str) -> list[tuple[str, ...]]:
        """Indexed terms one typo away from `term` (for "läkartd", "ungdomsmotagning")."""
        if MIN_SHORT_TYPO_CHARS <= len(term) < 5:
            # A short word: only a swap or a dropped letter ("dga" for "dag", "delr" for
            # "del(ar)"); any one edit of three letters finds too many words.
            swapped = {term[:i] + term[i + 1] + term[i] + term[i + 2:]
                       for i in range(len(term) - 1)}
            dropped = {term[:i] + term[i + 1:] for i in range(1, len(term))}
            return [(candidate,) for candidate in sorted(swapped | dropped)
                    if candidate != term and len(candidate) >= MIN_SHORT_TYPO_CHARS
                    and candidate in self.document_frequency]
        if not 5 <= len(term) <= MAX_TYPO_CHARS:
            return []
        return [(candidate,) for candidate in self.document_frequency
                if candidate[:1] == term[:1] and within_one_edit(term, candidate)
                and candidate in self.document_frequency]

    def shorter_forms(self, term: str) -> list[tuple[str, ...]]:
        """Indexed terms `term` is with an ending the stemmer left on ("högkostnadsskyddet"
        for the heading's "högkostnadsskydd", stemmed "högkostnadsskyd")."""
        return [(term[:-cut],) for cut in range(1, MAX_LEFT_ENDING + 1)
                if len(term) - cut >= MIN_SHORTER_FORM and term[:-cut] in self.document_frequency]

    def cognates(self, word: str) -> list[tuple[str, ...]]:
        """Indexed terms an English word is a cognate of ("psychologist" -> "psykolog")."""
        prefixes = cognate_prefixes(word)
        if not prefixes:
            return []
        if self._by_prefix is None:  # one scan of the vocabulary per generation
            by_prefix: dict[str, list[str]] = {}
            for term in self.document_frequency:
                by_prefix.setdefault(fold(term)[:COGNATE_PREFIX], []).append(term)
            self._by_prefix = by_prefix
        return [(term,) for prefix in sorted(prefixes) for term in self._by_prefix.get(prefix, [])]

    def idf(self, term: str) -> float:
        """BM25-style idf; a term no chunk contains gets the highest idf."""
        total = max(len(self.chunks), 1)
        frequency = self.lexical.document_frequency(term)
        return math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))

    def mask(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty:
            return None
        mask = np.ones(len(self.chunks), dtype=bool)
        for name, wanted in (("region", filters.region), ("doc_type", filters.doc_type),
                             ("document", filters.document)):
            if wanted:
                mask &= self._column(name) == wanted
        return mask.astype(np.float32)

    def _column(self, name: str) -> np.ndarray:
        """One metadata field of every chunk, as an array (built on the first filter)."""
        if name not in self._columns:
            self._columns[name] = np.array([getattr(chunk, name) for chunk in self.chunks],
                                           dtype=object)
        return self._columns[name]


def flag_instructions(chunks: list[Chunk]) -> None:
    """Note the sentences that address a reader or an AI, for the owner (never evidence)."""
    for chunk in chunks:
        chunk.instructions = [sentence for sentence in split_sentences(chunk.text)
                              if addresses_reader(sentence)]


class Store:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.catalog = Catalog(settings.catalog_path)
        self.catalog.bind_embedder(embedder.name, embedder.dim)
        # Read before opening the vectors: a write landing in between is then reloaded.
        self._vectors_generation = self.catalog.generation()
        self.vectors = VectorStore(settings, embedder)
        self.sentence_vectors = SentenceVectors(embedder, self.catalog)
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
                self._snapshot = self._next_snapshot(self._snapshot)
                if self._snapshot.lexical.needs_merge():
                    self._merge_in_background(self._snapshot)
            return self._snapshot

    def _next_snapshot(self, current: Snapshot | None) -> Snapshot:
        """The catalog's generation now: from `current` plus the documents changed since,
        when the catalog's change log covers them; else read in full."""
        if current is not None:
            delta = self.catalog.changes_since(current.generation)
            if delta is not None:
                return current.changed(*delta)
        chunks: list[Chunk] = []
        segment = SegmentBuilder()

        def take(batch: list[Chunk], terms: list[list[str]]) -> None:
            chunks.extend(batch)
            segment.add(terms, (chunk.chunk_id for chunk in batch))

        generation = self.catalog.read_snapshot(take)
        return Snapshot(generation, chunks, LexicalIndex.of(segment.finish()))

    def _merge_in_background(self, snapshot: Snapshot) -> None:
        """Write the index's segments into one, off the query path; the snapshot is swapped
        for its merged twin only if it is still the current one."""
        def merge() -> None:
            merged = snapshot.with_lexical(snapshot.lexical.merged())
            with self._lock:
                if self._snapshot is snapshot:
                    self._snapshot = merged

        threading.Thread(target=merge, name="bm25-merge", daemon=True).start()

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
        flag_instructions(chunks)
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
