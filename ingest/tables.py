"""A table row as a self-contained passage: every cell with its column header.

"Område: Ungdomsmottagning (UMM) · Krav: Läkarinsats · Tid: 10 timmar per 3 500 ungdomar"
can be retrieved, quoted and cited alone, so a number never travels to another row.
"""

from __future__ import annotations

import re

from ingest.hyphenation import join_broken_lines

CELL_SEPARATOR = " · "


def clean_cell(text: str | None) -> str:
    """A cell's text on one line: line breaks joined (hyphenation undone), spaces squeezed."""
    lines = [line.strip() for line in (text or "").replace("\r", "\n").split("\n")]
    return re.sub(r"\s+", " ", join_broken_lines([line for line in lines if line])).strip()


def row_text(header: list[str], cells: list[str]) -> str:
    parts = []
    for index, cell in enumerate(cells):
        if not cell:
            continue
        name = header[index] if index < len(header) else ""
        parts.append(f"{name}: {cell}" if name and name != cell else cell)
    return CELL_SEPARATOR.join(parts)


def row_passages(rows: list[list[str | None]]) -> list[str]:
    """One passage per data row; the first row is the header (merged cells repeat in python-
    docx, so repeated neighbours are collapsed)."""
    cleaned = [_dedupe_merged([clean_cell(cell) for cell in row]) for row in rows]
    cleaned = [row for row in cleaned if any(row)]
    if not cleaned:
        return []
    if len(cleaned) == 1:
        return [CELL_SEPARATOR.join(cell for cell in cleaned[0] if cell)]
    header, *body = cleaned
    return [text for row in body if (text := row_text(header, row))]


def _dedupe_merged(cells: list[str]) -> list[str]:
    out: list[str] = []
    for index, cell in enumerate(cells):
        out.append("" if index and cell and cell == cells[index - 1] else cell)
    return out
