"""BM25 over the catalog's analyzed terms, in segments, so that a change costs what it changes.

Scores are bm25s's Lucene variant (k1 1.2, b 0.75, idf log(1 + (N - df + 0.5)/(df + 0.5)),
float32 per posting, an empty chunk counting as one empty term), but computed at query time
from term frequencies, so the corpus statistics are always the live ones:

- a segment holds the term frequencies of some chunks (CSC, one column a term) and their
  lengths; segments are shared, never changed;
- an index is a list of segments with a live mask each. Its chunk positions run through
  the segments' live rows in order, which is the order of the snapshot's chunk list;
- a change marks the replaced chunks' rows dead and adds the new chunks as a small segment
  (folded into the previous small one), so a one-document change at 260 000 chunks builds
  a few hundred rows; when dead rows or small segments pile up, `merged()` writes one
  segment again (the store runs it in the background).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

K1, B = 1.2, 0.75
SMALL_SEGMENT = 0.05  # a segment below this share of all rows takes in the next change
MERGE_DEAD_SHARE = 0.2
MERGE_SEGMENTS = 6
CACHED_POSTINGS = 8_000_000  # scored postings kept per index (≈ 100 MB): common terms recur


@dataclass(frozen=True)
class Segment:
    vocabulary: dict[str, int]
    frequencies: sp.csc_matrix  # [rows, terms] term counts, float32
    lengths: npt.NDArray[np.float32]  # terms per row (an empty chunk counts 1)
    ids: dict[str, int] = field(default_factory=dict)  # chunk id -> row, when known

    @property
    def rows(self) -> int:
        return int(self.lengths.shape[0])

    @classmethod
    def build(cls, terms: Iterable[list[str]], ids: Iterable[str] = ()) -> Segment:
        builder = SegmentBuilder()
        builder.add(terms, ids)
        return builder.finish()

    @classmethod
    def concatenate(cls, parts: list[tuple[Segment, npt.NDArray[np.bool_]]]) -> Segment:
        """The live rows of several segments, in order, as one segment."""
        vocabulary: dict[str, int] = {}
        blocks, lengths = [], []
        ids: dict[str, int] = {}
        offset = 0
        for segment, live in parts:
            new_row = np.cumsum(live) - 1 + offset
            ids.update((chunk_id, int(new_row[row])) for chunk_id, row in segment.ids.items()
                       if live[row])
            offset += int(live.sum())
            names = sorted(segment.vocabulary, key=segment.vocabulary.__getitem__)
            mapping = np.asarray([vocabulary.setdefault(name, len(vocabulary))
                                  for name in names], dtype=np.int32)
            rows = segment.frequencies.tocsr()[np.flatnonzero(live)]
            blocks.append((rows, mapping))
            lengths.append(segment.lengths[live])
        width = max(len(vocabulary), 1)
        remapped = [sp.csr_matrix((rows.data, mapping[rows.indices], rows.indptr),
                                  shape=(rows.shape[0], width)) for rows, mapping in blocks]
        matrix = sp.vstack(remapped, format="csc") if remapped else sp.csc_matrix((0, width))
        return cls(vocabulary, matrix.astype(np.float32),
                   np.concatenate(lengths) if lengths else np.zeros(0, np.float32), ids)


class SegmentBuilder:
    """A segment built from batches of chunks' terms; holds only term ids, not the strings
    (260 000 chunks' term lists as strings would be gigabytes)."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self._columns: list[npt.NDArray[np.int32]] = []
        self._lengths: list[int] = []
        self._ids: dict[str, int] = {}

    def add(self, terms: Iterable[list[str]], ids: Iterable[str] = ()) -> None:
        """Rows for chunks' `terms`; `ids` (the chunks' ids, in the same order) lets the
        index answer where a chunk is."""
        first = len(self._lengths)
        self._ids.update((chunk_id, first + row) for row, chunk_id in enumerate(ids))
        vocabulary = self.vocabulary
        for chunk_terms in terms:
            # An empty term list is "" (as bm25s indexes it): length 1, never queried.
            term_ids = [vocabulary.setdefault(term, len(vocabulary))
                        for term in chunk_terms or [""]]
            self._columns.append(np.asarray(term_ids, dtype=np.int32))
            self._lengths.append(len(term_ids))

    def finish(self) -> Segment:
        lengths = np.asarray(self._lengths, dtype=np.int64)
        pointers = np.concatenate([[0], np.cumsum(lengths)])
        columns = np.concatenate(self._columns) if self._columns else np.zeros(0, np.int32)
        counts = sp.csr_matrix((np.ones(len(columns), dtype=np.float32), columns, pointers),
                               shape=(len(lengths), max(len(self.vocabulary), 1)))
        counts.sum_duplicates()
        return Segment(self.vocabulary, counts.tocsc(), lengths.astype(np.float32), self._ids)


@dataclass
class LexicalIndex:
    segments: list[Segment]
    live: list[npt.NDArray[np.bool_]]
    size: int = 0
    _offsets: list[int] = field(default_factory=list)
    _positions: list[npt.NDArray[np.int64]] = field(default_factory=list)
    _frequency: dict[str, int] = field(default_factory=dict)
    _average_length: float = 1.0
    _vocabulary: frozenset[str] | None = None
    _norms: list[npt.NDArray[np.float64]] = field(default_factory=list)
    _dead: list[bool] = field(default_factory=list)
    _scored: dict[str, tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]] = \
        field(default_factory=dict)
    _scored_size: int = 0

    def __post_init__(self) -> None:
        self._offsets, self._positions, offset = [], [], 0
        total_length = 0.0
        for segment, live in zip(self.segments, self.live, strict=True):
            positions = np.full(segment.rows, -1, dtype=np.int64)
            count = int(live.sum())
            positions[live] = np.arange(offset, offset + count)
            self._offsets.append(offset)
            self._positions.append(positions)
            total_length += float(segment.lengths[live].sum(dtype=np.float64))
            offset += count
        self.size = offset
        self._average_length = total_length / offset if offset else 1.0
        # Lucene's length normalisation per row, for these live statistics.
        self._norms = [K1 * ((1 - B) + B * segment.lengths.astype(np.float64)
                             / self._average_length) for segment in self.segments]
        self._dead = [not bool(live.all()) for live in self.live]

    @classmethod
    def build(cls, terms: Iterable[list[str]]) -> LexicalIndex:
        return cls.of(Segment.build(terms))

    @classmethod
    def of(cls, segment: Segment) -> LexicalIndex:
        return cls([segment], [np.ones(segment.rows, dtype=bool)])

    # --- changes ---------------------------------------------------------------------------

    def changed(self, removed: Iterable[int], added: list[list[str]],
                added_ids: Iterable[str] = ()) -> LexicalIndex:
        """This index without the chunks at positions `removed` and with `added` appended
        (positions then follow the order of the live rows, as the snapshot's list does)."""
        live = [mask.copy() for mask in self.live]
        gone = np.fromiter(removed, dtype=np.int64)
        if gone.size:
            starts = np.asarray(self._offsets)
            owners = np.searchsorted(starts, gone, side="right") - 1
            for index in np.unique(owners):
                rows = np.flatnonzero(self.live[index])
                live[index][rows[gone[owners == index] - starts[index]]] = False
        segments = list(self.segments)
        if added:
            total = sum(segment.rows for segment in segments) + len(added)
            fresh = Segment.build(added, added_ids)
            if segments and segments[-1].rows < SMALL_SEGMENT * total and len(segments) > 1:
                fresh = Segment.concatenate([(segments.pop(), live.pop()),
                                             (fresh, np.ones(fresh.rows, dtype=bool))])
            segments.append(fresh)
            live.append(np.ones(fresh.rows, dtype=bool))
        return LexicalIndex(segments, live)

    def needs_merge(self) -> bool:
        rows = sum(segment.rows for segment in self.segments)
        return len(self.segments) > MERGE_SEGMENTS or \
            (rows > 0 and (rows - self.size) / rows > MERGE_DEAD_SHARE)

    def merged(self) -> LexicalIndex:
        """The same live chunks, in the same positions, in one segment."""
        segment = Segment.concatenate(list(zip(self.segments, self.live, strict=True)))
        return LexicalIndex([segment], [np.ones(segment.rows, dtype=bool)])

    # --- reading ---------------------------------------------------------------------------

    def position_of(self, chunk_id: str) -> int | None:
        """Where a live chunk is (the newest segment first: a chunk id that was replaced
        and added again is dead in the older one)."""
        for segment, positions in zip(reversed(self.segments), reversed(self._positions),
                                      strict=True):
            row = segment.ids.get(chunk_id)
            if row is not None and positions[row] >= 0:
                return int(positions[row])
        return None

    def top(self, query_terms: list[str], depth: int,
            mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The `depth` best positions with a positive score, best first, ties by position
        (what a stable argsort of all scores gives, without sorting them all)."""
        scores = self.scores(query_terms, mask)
        if scores.size > 4 * depth:
            threshold = np.partition(scores, scores.size - depth)[scores.size - depth]
            candidates = np.flatnonzero(scores >= max(threshold, np.float32(1e-30)))
        else:
            candidates = np.flatnonzero(scores > 0)
        order = candidates[np.lexsort((candidates, -scores[candidates]))][:depth]
        return [(int(index), float(scores[index])) for index in order if scores[index] > 0]

    def document_frequency(self, term: str) -> int:
        """Live chunks that contain `term`."""
        found = self._frequency.get(term)
        if found is None:
            found = 0
            for segment, live in zip(self.segments, self.live, strict=True):
                column = segment.vocabulary.get(term)
                if column is not None:
                    matrix = segment.frequencies
                    rows = matrix.indices[matrix.indptr[column]:matrix.indptr[column + 1]]
                    found += int(live[rows].sum())
            self._frequency[term] = found
        return found

    def vocabulary(self) -> frozenset[str]:
        """Every term of any segment (a term only dead chunks had may still be listed)."""
        if self._vocabulary is None:
            terms: set[str] = set()
            for segment in self.segments:
                terms.update(segment.vocabulary)
            terms.discard("")
            self._vocabulary = frozenset(terms)
        return self._vocabulary

    def scores(self, query_terms: list[str], mask: np.ndarray | None = None) -> np.ndarray:
        scores = np.zeros(self.size, dtype=np.float32)
        for term in query_terms:
            positions, values = self._term_scores(term)
            scores[positions] += values
        return scores * mask if mask is not None else scores

    def _term_scores(self, term: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Every live chunk's score for one term (positions, float32 scores), cached."""
        cached = self._scored.get(term)
        if cached is not None:
            return cached
        frequency = self.document_frequency(term) if term else 0
        where_parts: list[npt.NDArray[np.int64]] = []
        value_parts: list[npt.NDArray[np.float32]] = []
        if frequency:
            idf = np.float32(math.log(1 + (self.size - frequency + 0.5) / (frequency + 0.5)))
            for segment, positions, norms, dead in zip(self.segments, self._positions,
                                                       self._norms, self._dead, strict=True):
                column = segment.vocabulary.get(term)
                if column is None:
                    continue
                matrix = segment.frequencies
                span = slice(matrix.indptr[column], matrix.indptr[column + 1])
                rows, tf = matrix.indices[span], matrix.data[span].astype(np.float64)
                where = positions[rows]
                if dead:
                    kept = where >= 0
                    rows, tf, where = rows[kept], tf[kept], where[kept]
                # float64 terms, float32 postings: bm25s's arithmetic, so its rankings
                where_parts.append(where)
                value_parts.append(
                    (np.float64(idf) * (tf / (norms[rows] + tf))).astype(np.float32))
        result = (np.concatenate(where_parts) if where_parts else np.zeros(0, np.int64),
                  np.concatenate(value_parts) if value_parts else np.zeros(0, np.float32))
        if self._scored_size + result[0].size <= CACHED_POSTINGS:
            self._scored[term] = result
            self._scored_size += result[0].size
        return result


class TermCounts(Mapping[str, int]):
    """The index's document frequencies as a read-only mapping (what answering reads)."""

    def __init__(self, index: LexicalIndex) -> None:
        self._index = index

    def __getitem__(self, term: str) -> int:
        frequency = self._index.document_frequency(term)
        if not frequency:
            raise KeyError(term)
        return frequency

    def get(self, term: str, default: int | None = 0) -> int | None:  # type: ignore[override]
        return self._index.document_frequency(term) or default

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self._index.document_frequency(term) > 0

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.vocabulary())

    def __len__(self) -> int:
        return len(self._index.vocabulary())
