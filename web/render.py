"""Turn answers into safe display text: Markdown for the chat, HTML for the source cards.

Everything that comes from a user or a document is escaped here; nothing else in the UI
builds markup from such text.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Sequence
from urllib.parse import quote

from rag.models import Answer, Citation, DocumentInfo, Filters

_MARKDOWN_SPECIALS = frozenset(string.punctuation)
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")
_ELLIPSIS = re.compile(r"\s*(…|\.\.\.)\s*$")
REFUSAL_HEADLINE = "Det framgår inte av dokumenten."


def markdown_text(text: str) -> str:
    """Plain text made inert for Markdown: every ASCII punctuation mark backslash-escaped.

    `<script>` becomes `\\<script\\>`, which Markdown renders as the text "<script>".
    """
    return "".join(f"\\{ch}" if ch in _MARKDOWN_SPECIALS else ch for ch in text)


def location(citation: Citation) -> str:
    """Where a passage is: 'avsnitt 1.2.3 Rubrik · s. 12' (or line span without pages)."""
    parts = []
    if citation.section or citation.heading:
        label = " ".join(part for part in (citation.section, citation.heading) if part)
        parts.append(f"avsnitt {label}")
    if citation.page is not None:
        parts.append(f"s. {citation.page}{', OCR' if citation.ocr else ''}")
    elif citation.paragraph is not None:
        parts.append(f"stycke {citation.paragraph}")
    elif citation.lines:
        parts.append(f"rad {citation.lines}")
    return " · ".join(parts)


def chat_message(answer: Answer) -> str:
    """The assistant's chat bubble: the answer, any notice, then a compact source list."""
    lines = [markdown_text(answer.answer)]
    if answer.notice:
        lines.append(f"*{markdown_text(answer.notice)}*")
    sources = answer.nearest if answer.refused else answer.citations
    if sources:
        heading = "Närmaste avsnitt" if answer.refused else "Källor"
        lines.append(f"{heading}:")
        lines.extend(f"{markdown_text(f'[{c.n}] {c.title}')}"
                     f"{markdown_text(' – ' + location(c)) if location(c) else ''}"
                     for c in sources)
    return "\n\n".join(lines)


FLAG_NOTE = "(ger order till läsaren – används aldrig som svar)"


def highlight(text: str, quote: str, flagged: Sequence[str] = ()) -> str:
    """`text` as HTML with the quoted sentences wrapped in <mark> (whitespace-insensitive),
    and each `flagged` sentence (one that gives orders to its reader) set apart with a note,
    so that context shown around a quote is never read as part of the answer."""
    spans = [(start, end, "mark") for start, end in _find_spans(text, quote)]
    for sentence in flagged:
        found = _locate(text, sentence, 0)
        if found and not any(found[0] < end and start < found[1] for start, end, _ in spans):
            spans.append((*found, "flag"))
    if not spans:
        return html.escape(text)
    out: list[str] = []
    position = 0
    for start, end, kind in sorted(spans):
        out.append(html.escape(text[position:start]))
        piece = html.escape(text[start:end])
        out.append(f"<mark>{piece}</mark>" if kind == "mark" else
                   f'<span class="sd-flagged-inline">{piece}</span> '
                   f'<em class="sd-flag-note">{FLAG_NOTE}</em>')
        position = end
    out.append(html.escape(text[position:]))
    return "".join(out)


def _find_spans(text: str, quote: str) -> list[tuple[int, int]]:
    quote = _ELLIPSIS.sub("", quote).strip()
    if not quote:
        return []
    whole = _locate(text, quote, 0)
    if whole:
        return [whole]
    spans: list[tuple[int, int]] = []
    position = 0
    for piece in _SENTENCE_END.split(quote):
        found = _locate(text, piece, position) if len(piece) >= 12 else None
        if found:
            spans.append(found)
            position = found[1]
    return spans


def _locate(text: str, piece: str, start: int) -> tuple[int, int] | None:
    words = piece.split()
    if not words:
        return None
    match = re.compile(r"\s+".join(re.escape(word) for word in words)).search(text, start)
    return match.span() if match else None


def sources_html(answer: Answer, passages: dict[str, str],
                 flagged: dict[str, list[str]] | None = None) -> str:
    """Numbered source cards; each expands to its passage with the quote highlighted.

    `passages` maps chunk id to the chunk's full text (missing ids show the quote alone);
    `flagged` maps chunk id to its sentences that give orders to the reader (`Chunk.
    instructions`), shown set apart in the passage.
    """
    flagged = flagged or {}
    if answer.refused:
        banner = (f'<div class="sd-refusal" role="status"><strong>{REFUSAL_HEADLINE}</strong>'
                  " Styrdok svarar bara med det som står i dokumenten. Här är de avsnitt som "
                  "ligger närmast frågan:</div>")
        cards = [_card(c, passages.get(c.chunk_id), nearest=True,
                       flagged=flagged.get(c.chunk_id, ())) for c in answer.nearest]
        if not cards:
            cards = ['<p class="sd-empty">Inga dokument matchade frågan.</p>']
        return f'<section class="sd-sources" aria-label="Närmaste avsnitt">{banner}' \
               f'{"".join(cards)}</section>'
    if not answer.citations:
        return ""
    cards = [_card(c, passages.get(c.chunk_id), nearest=False,
                   flagged=flagged.get(c.chunk_id, ())) for c in answer.citations]
    return ('<section class="sd-sources" aria-label="Källor"><h3 class="sd-heading">Källor</h3>'
            f'{"".join(cards)}</section>')


def validity_label(citation: Citation) -> str:
    """'HSL 7 kap. 3 § · utgåva 2026 · gäller från 2026-01-01' for the source card."""
    parts = [citation.reference, f"utgåva {citation.edition}" if citation.edition else "",
             citation.validity]
    return " · ".join(part for part in parts if part)


def _card(citation: Citation, passage: str | None, *, nearest: bool,
          flagged: Sequence[str] = ()) -> str:
    meta = " · ".join(part for part in (citation.region, location(citation)) if part)
    validity = validity_label(citation)
    state = "" if citation.current else " sd-superseded"
    # Line breaks as <br>: the card also lives inside a chat bubble's Markdown, where a
    # blank line would end the HTML block.
    body = highlight(passage, citation.quote, flagged).replace("\n", "<br>") if passage else \
        f"<mark>{html.escape(citation.quote)}</mark>"
    hint = "Visa avsnittet" if nearest else "Visa citatet i sitt sammanhang"
    return (
        f'<details class="sd-card" data-n="{citation.n}" '
        f'data-section="{html.escape(citation.section, quote=True)}" '
        f'data-document="{html.escape(citation.document, quote=True)}">'
        f'<summary><span class="sd-n">[{citation.n}]</span> '
        f'<span class="sd-title">{html.escape(citation.title)}</span>'
        f'<span class="sd-meta">{html.escape(meta)}</span>'
        + (f'<span class="sd-validity{state}">{html.escape(validity)}</span>' if validity
           else "") +
        f'<span class="sd-hint">{hint}</span></summary>'
        f'<div class="sd-passage">{body}{original_link(citation)}</div></details>')


def original_link(citation: Citation) -> str:
    """A link to the document's original file, a PDF opened at the cited page."""
    href = f"/api/documents/{quote(citation.document, safe='')}/file"
    label = "Öppna originalet"
    if citation.page is not None:
        href += f"#page={citation.page}"
        label += f" på s. {citation.page}"
    return (f'<a class="sd-original" href="{html.escape(href, quote=True)}" target="_blank" '
            f'rel="noopener">{label}</a>')


def notice_html(text: str, kind: str = "info") -> str:
    """A one-line status message (escaped)."""
    kind = kind if kind in {"info", "ok", "error"} else "info"
    return f'<p class="sd-notice sd-{kind}" role="status">{html.escape(text)}</p>' if text else ""


def filters_label(filters: Filters) -> str:
    """What an answer was limited to, in words ('' when nothing was)."""
    parts = [part for part in (filters.region, filters.doc_type, filters.document) if part]
    return " · ".join(parts)


def answer_bubble(answer: Answer, passages: dict[str, str], filters: Filters,
                  flagged: dict[str, list[str]] | None = None) -> str:
    """One assistant chat message: the answer, any notice, what it was limited to, and its
    own openable source cards. One HTML block without blank lines inside, so Markdown
    leaves it whole; every text from a user or a document is escaped."""
    parts: list[str] = []
    if answer.clarify:  # a question back: nothing was looked up, so no sources to show
        return (f"{markdown_text(answer.answer)}\n\n"
                '<div class="sd-answer-extra"><p class="sd-scope sd-clarify">Styrdok har inte '
                "sökt i dokumenten: frågan säger inte vad den gäller, och det finns ingen "
                "tidigare fråga i samtalet att utgå från.</p></div>")
    if answer.interpreted_as:
        parts.append(f'<p class="sd-interpreted">Tolkat som: '
                     f"<em>{html.escape(answer.interpreted_as)}</em></p>")
    if not answer.refused:
        parts.append(markdown_text(answer.answer))
    if answer.notice:
        parts.append(f"*{markdown_text(answer.notice)}*")
    scope = filters_label(filters)
    scope_html = (f'<p class="sd-scope sd-scope-on">Avgränsat till: '
                  f"<strong>{html.escape(scope)}</strong></p>" if scope else
                  '<p class="sd-scope">Sökt i alla regioner och dokumenttyper.</p>')
    cards = sources_html(answer, passages, flagged).replace("\n", " ")
    if answer.refused and answer.language == "en":
        cards = cards.replace(f"<strong>{REFUSAL_HEADLINE}</strong>",
                              f"<strong>{html.escape(answer.answer)}</strong>", 1)
    parts.append(f'<div class="sd-answer-extra">{scope_html}{cards}</div>')
    return "\n\n".join(parts)


def documents_table(docs: list[DocumentInfo]) -> str:
    """The document list as a table that becomes one card per document on a phone."""
    if not docs:
        return '<p class="sd-empty">Inga dokument är inlästa ännu.</p>'
    headers = ["Titel", "Region", "Typ", "Utgåva", "Delar", "Inläst", "Id"]
    head = "".join(f'<th scope="col">{name}</th>' for name in headers)
    rows = []
    for doc in docs:
        edition = str(getattr(doc, "edition", "") or "")
        cells = [doc.title, doc.region, doc.doc_type, edition, str(doc.chunks),
                 doc.ingested_at.replace("T", " ")[:16], doc.document]
        rows.append("<tr>" + "".join(
            f'<td data-label="{label}">{html.escape(value) or "–"}</td>'
            for label, value in zip(headers, cells, strict=True)) + "</tr>")
    return ('<div class="sd-table-wrap"><table class="sd-doc-table sd-stack">'
            "<caption>Inlästa dokument</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
