"""The owners' overview as escaped HTML: counts per week, per document and per topic, and
one card per refused question or down-voted answer."""

from __future__ import annotations

import html
from typing import Any

from web.owner_view import KIND_LABEL, Group, OwnerItem, OwnerOverview


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def when(timestamp: str) -> str:
    return timestamp.replace("T", " ")[:16]


def _table(caption: str, headers: list[str], rows: list[list[str]]) -> str:
    """A table (cells escaped here) that becomes one card per row on a phone."""
    head = "".join(f'<th scope="col">{_e(name)}</th>' for name in headers)
    body = "".join("<tr>" + "".join(
        f'<td data-label="{_e(label)}">{_e(cell)}</td>'
        for label, cell in zip(headers, row, strict=True)) + "</tr>" for row in rows)
    return (f'<div class="sd-table-wrap"><table class="sd-owner-table sd-stack"><caption>'
            f"{_e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            "</table></div>")


def _group_table(caption: str, groups: list[Group], first: str) -> str:
    if not groups:
        return ""
    return _table(caption, [first, "Totalt", "Avböjda", "Nedröstade", "Senast"],
                  [[g.name, str(g.count), str(g.refused), str(g.down), when(g.latest)]
                   for g in groups[:15]])


def overview_html(view: OwnerOverview) -> str:
    if not view.items:
        return ('<p class="sd-empty">Inga avböjda frågor eller nedröstade svar under '
                "lagringstiden.</p>")
    parts = [
        _table("Per vecka, senaste först", ["Vecka", "Avböjda", "Nedröstade"],
               [[week, str(refused), str(down)] for week, refused, down in view.by_week[:12]]),
        _group_table("Per dokument (det som låg närmast eller citerades)", view.by_document,
                     "Dokument"),
        _group_table("Per ämne (liknande frågor)", view.by_topic, "Ämne (vanligaste frågan)"),
    ]
    return f'<div class="sd-owner-overview">{"".join(parts)}</div>'


def item_html(item: OwnerItem | dict[str, Any]) -> str:
    """One card: what was asked, when, with which filters, what came closest."""
    item = item if isinstance(item, OwnerItem) else OwnerItem.model_validate(item)
    filters = " · ".join(str(value) for value in item.filters.values())
    sections: dict[str, list[str]] = {}
    for passage in item.passages[:3]:
        found = sections.setdefault(str(passage.get("title", "")), [])
        if passage.get("section") and str(passage["section"]) not in found:
            found.append(str(passage["section"]))
    places = "; ".join(f"{title} ({', '.join(found)})" if found else title
                       for title, found in sections.items() if title)
    label = "Närmast" if item.kind == "refused" else "Citerade"
    lines = [f'<p class="sd-item-head"><span class="sd-kind sd-kind-{item.kind}">'
             f"{_e(KIND_LABEL[item.kind])}</span> <span class=\"sd-meta\">"
             f"{_e(when(item.created_at))}</span></p>",
             f'<p class="sd-item-question">{_e(item.question)}</p>']
    if item.comment:
        lines.append(f'<p class="sd-item-comment">Kommentar: {_e(item.comment)}</p>')
    if filters:
        lines.append(f'<p class="sd-meta">Avgränsat till: {_e(filters)}</p>')
    if places:
        lines.append(f'<p class="sd-meta">{label}: {_e(places)}</p>')
    if item.topic_name and item.topic_name != item.question:
        lines.append(f'<p class="sd-meta">Ämne: {_e(item.topic_name)}</p>')
    return f'<div class="sd-item" data-key="{_e(item.key)}">{"".join(lines)}</div>'
