"""A comparison as a table people can read: Markdown, CSV, and the plain rows behind both."""

from __future__ import annotations

import csv
import io

from rag.models import NOT_STATED, Citation, CompareRow, Comparison

COLUMNS = ("Region", "Krav", "Citat", "Källa")
CSV_COLUMNS = ("region", "anges", "krav", "citat", "dokument", "titel", "avsnitt", "sida",
               "rader", "närmaste avsnitt", "närmaste text")
NEAREST_PREVIEW = 160


def place(citation: Citation) -> str:
    """'avsnitt 1.2.3 Rubrik, s. 12' (or the line span when the document has no pages)."""
    parts = []
    section = " ".join(part for part in (citation.section, citation.heading) if part)
    if section:
        parts.append(f"avsnitt {section}")
    if citation.page is not None:
        parts.append(f"s. {citation.page}")
    elif citation.lines:
        parts.append(f"rad {citation.lines}")
    return ", ".join(parts)


def source_label(citation: Citation) -> str:
    where = place(citation)
    return f"{citation.title} ({citation.document})" + (f", {where}" if where else "")


def row_cells(row: CompareRow) -> tuple[str, str, str, str]:
    """Region, requirement, quote, source; a "not stated" row names its nearest passage."""
    if not row.stated:
        nearest = row.nearest[0] if row.nearest else None
        if nearest is None:
            return row.region, NOT_STATED, "", ""
        return (row.region, NOT_STATED, f"Närmast: {_shortened(nearest.quote)}",
                f"Närmast: {source_label(nearest)}")
    return row.region, row.requirement or "–", _one_line(row.quote), source_label(
        row.citations[0])


def to_markdown(comparison: Comparison) -> str:
    lines = [f"**{_md(comparison.question)}**", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in comparison.rows:
        region, requirement, quote, source = row_cells(row)
        quote_cell = f"”{_md(quote)}”" if quote and row.stated else _md(quote)
        requirement_cell = f"*{_md(requirement)}*" if not row.stated else _md(requirement)
        lines.append(f"| {_md(region)} | {requirement_cell} | {quote_cell} | {_md(source)} |")
    if comparison.notice:
        lines += ["", _md(comparison.notice)]
    return "\n".join(lines) + "\n"


def to_csv(comparison: Comparison) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in comparison.rows:
        first = row.citations[0] if row.stated else None
        nearest = row.nearest[0] if row.nearest and not row.stated else None
        writer.writerow([_cell(value) for value in (
            row.region, "ja" if row.stated else "nej",
            row.requirement if row.stated else NOT_STATED,
            _one_line(row.quote), first.document if first else "", first.title if first else "",
            " ".join(p for p in (first.section, first.heading) if p) if first else "",
            "" if first is None or first.page is None else first.page,
            first.lines if first else "", source_label(nearest) if nearest else "",
            _one_line(nearest.quote) if nearest else "",
        )])
    return buffer.getvalue()


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ would start a formula."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _shortened(text: str) -> str:
    text = _one_line(text).removesuffix(" …")
    return text if len(text) <= NEAREST_PREVIEW else \
        text[:NEAREST_PREVIEW].rsplit(" ", 1)[0] + " …"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell (pipes and markup characters escaped)."""
    escaped = "".join(f"\\{char}" if char in "\\|*_[]<>`#" else char for char in text)
    return _one_line(escaped)
