"""What changed, for people: plain text for the CLI, escaped HTML for the Dokument tab."""

from __future__ import annotations

import html

from rag.answer.changes import DocumentChanges, ParagraphChange
from rag.answer.diff import RequirementChange, SectionChange

_SECTION_KIND = {"added": "nytt avsnitt", "removed": "borttaget avsnitt",
                 "changed": "ändrat", "renumbered": "omnumrerat"}
_REQUIREMENT_KIND = {"added": "+", "removed": "−", "changed": "~"}


def changes_text(changes: DocumentChanges) -> str:
    lines: list[str] = []
    if changes.from_edition is not None:
        lines.append(f"{changes.document}: utgåva {changes.from_edition or '(första)'} → "
                     f"{changes.to_edition or '(första)'}")
        lines.extend(_section_text(section) for section in changes.sections)
        if not changes.sections:
            lines.append("  Inga ändringar.")
    if changes.paragraphs:
        lines.append(f"{changes.document}: paragrafer med ny eller upphörd lydelse")
        lines.extend(_paragraph_text(change) for change in changes.paragraphs)
    return "\n".join(lines) or f"{changes.document}: en utgåva, inga daterade ändringar."


def _section_text(section: SectionChange) -> str:
    head = f"  [{_SECTION_KIND[section.kind]}] {section.label}"
    return "\n".join([head, *(f"    {_requirement_text(change)}"
                               for change in section.changes)])


def _requirement_text(change: RequirementChange) -> str:
    if change.kind == "changed":
        words = "; ".join(f"”{word.old}” → ”{word.new}”" for word in change.words)
        return f"~ {change.marked}" + (f"  ({words})" if words else "")
    return f"{_REQUIREMENT_KIND[change.kind]} {change.new or change.old}"


def _paragraph_text(change: ParagraphChange) -> str:
    act = f", SFS {change.amended_by}" if change.amended_by else ""
    head = f"  {change.changed_on.isoformat()} {change.reference} ({change.kind}{act})"
    return "\n".join([head, *(f"    {_requirement_text(item)}" for item in change.changes)])


def changes_html(changes: DocumentChanges) -> str:
    """The changes as a list of sections; removed words struck through, new ones marked."""
    parts: list[str] = ['<div class="sd-changes">']
    if changes.from_edition is not None:
        parts.append(f"<h4>{html.escape(changes.document)}: utgåva "
                     f"{html.escape(changes.from_edition or '(första)')} → "
                     f"{html.escape(changes.to_edition or '(första)')}</h4>")
        if not changes.sections:
            parts.append("<p>Inga ändringar.</p>")
        for section in changes.sections:
            parts.append(f'<details open class="sd-change sd-{section.kind}"><summary>'
                         f"<strong>{html.escape(_SECTION_KIND[section.kind])}</strong> "
                         f"{html.escape(section.label)}</summary><ul>"
                         + "".join(_requirement_html(c) for c in section.changes)
                         + "</ul></details>")
    for change in changes.paragraphs:
        act = f", SFS {change.amended_by}" if change.amended_by else ""
        parts.append(f'<details class="sd-change"><summary>{change.changed_on.isoformat()} '
                     f"<strong>{html.escape(change.reference)}</strong> "
                     f"({html.escape(change.kind + act)})</summary><ul>"
                     + "".join(_requirement_html(c) for c in change.changes) + "</ul></details>")
    if len(parts) == 1:
        parts.append("<p>En utgåva, inga daterade ändringar.</p>")
    return "".join([*parts, "</div>"])


def _requirement_html(change: RequirementChange) -> str:
    if change.kind == "added":
        return f'<li class="sd-added"><ins>{html.escape(change.new)}</ins></li>'
    if change.kind == "removed":
        return f'<li class="sd-removed"><del>{html.escape(change.old)}</del></li>'
    return f'<li class="sd-changed">{_marked_html(change.marked)}</li>'


def _marked_html(marked: str) -> str:
    """'[-3-]{+4+} timmar' as HTML: <del>3</del><ins>4</ins> timmar (text escaped)."""
    out = html.escape(marked)
    out = out.replace("[-", "<del>").replace("-]", "</del>")
    return out.replace("{+", "<ins>").replace("+}", "</ins>")
