"""Character-offset → page marks: where in a text each of its pages begins."""

from __future__ import annotations

from rag.models import span_at

Marks = list[tuple[int, int]]  # (character offset, page), offsets ascending


def slice_marks(marks: Marks, start: int, end: int, at: int) -> Marks:
    """The marks of text[start:end], moved so that `start` lands on `at`."""
    if not marks:
        return []
    first = span_at(marks, start, None)
    out: Marks = [(at, first if first is not None else marks[0][1])]
    out += [(at + offset - start, page) for offset, page in marks if start < offset < end]
    return out


def merge_marks(marks: Marks) -> Marks:
    """Sorted, with a mark dropped when it repeats the value before it."""
    merged: Marks = []
    for offset, value in sorted(marks):
        if merged and merged[-1][1] == value:
            continue
        if merged and merged[-1][0] == offset:
            merged[-1] = (offset, value)
            continue
        merged.append((offset, value))
    return merged
