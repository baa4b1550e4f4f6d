"""Each chunk's validity as day-ordinal arrays, so "in force on day D" is one vector
comparison over a snapshot instead of a Python test of every chunk (at 260 000 chunks the
test took 375 of a 450 ms search, and building these arrays ≈ 280 ms once per generation;
`Snapshot.changed` carries them forward by slicing, as it does the chunk list)."""

from __future__ import annotations

import numpy as np

from rag.models import Chunk

OPEN_END = np.iinfo(np.int64).max  # no valid_to: in force from valid_from on
OPEN_START = -1  # no valid_from

Bounds = tuple[np.ndarray, np.ndarray]


def validity_bounds(chunks: list[Chunk]) -> Bounds:
    """(valid_from, valid_to) of every chunk as day ordinals, open ends as sentinels."""
    froms = [chunk.valid_from for chunk in chunks]
    tos = [chunk.valid_to for chunk in chunks]
    starts = np.fromiter((value.toordinal() if value else OPEN_START for value in froms),
                         dtype=np.int64, count=len(froms))
    ends = np.fromiter((value.toordinal() if value else OPEN_END for value in tos),
                       dtype=np.int64, count=len(tos))
    return starts, ends


def changed_bounds(bounds: Bounds, gone: list[tuple[int, int]], added: list[Chunk]) -> Bounds:
    """The bounds after removing the [start, end) ranges `gone` (sorted) and appending
    `added`: the same slicing `Snapshot.changed` does to the chunk list."""
    fresh = validity_bounds(added)
    result = []
    for column, tail in zip(bounds, fresh, strict=True):
        pieces, previous = [], 0
        for start, end in gone:
            pieces.append(column[previous:start])
            previous = end
        pieces.extend([column[previous:], tail])
        result.append(np.concatenate(pieces))
    return result[0], result[1]
