"""What changed in a statute on a date or in a year, paragraph by paragraph, with the
amending SFS number; and "Vad ändrades i HSL 2026?" answered from it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from rag.answer.diff import RequirementChange, SectionChange, diff_chunks, diff_sentences
from rag.answer.extractive import preview
from rag.answer.validity import reference
from rag.models import Answer, Chunk, Citation, Filters
from rag.retrieve.as_of import AsOf
from rag.store.catalog import Catalog
from rag.store.store import Snapshot
from rag.text.language import Language
from rag.text.lexical import name_terms
from rag.text.sentences import split_sentences

_CHANGE_QUESTION = re.compile(
    r"\b(vad|vilka|vilken|vilket|what|which)\b.{0,60}?\b(ändrades|ändrats|ändrat|"
    r"ändring\w*|förändrades|upphävdes|changed|changes|amended)\b",
    re.IGNORECASE)
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b(?!:)")


ParagraphKind = Literal["ny", "ändrad", "upphörd", "ny beteckning"]


class ParagraphChange(BaseModel):
    kind: ParagraphKind
    section: str
    reference: str
    heading: str = ""
    changed_on: date
    amended_by: str = ""
    old: str = ""
    new: str = ""
    changes: list[RequirementChange] = Field(default_factory=list)
    chunk_id: str = Field("", description="The new wording's chunk (the old one's if ceased).")
    previous_section: str = Field("", description="For 'ny beteckning': its number before.")


def statute_changes(chunks: Iterable[Chunk], start: date, end: date) -> list[ParagraphChange]:
    """Paragraphs whose wording began or ended on a day in [start, end], in law order.

    A renumbered paragraph (SFS "Ny beteckning") is one change under its new number ("ny
    beteckning", with the old number), not an "ändrad" at each number: the number it left
    may get a new paragraph ("ny"), and the one it took may have lost its own ("upphörd")."""
    statute = [chunk for chunk in chunks if chunk.short_title]
    by_section: dict[str, list[Chunk]] = {}
    for chunk in statute:
        by_section.setdefault(chunk.section, []).append(chunk)
    arrived = {(chunk.renumbered_to, chunk.valid_to) for chunk in statute if chunk.renumbered_to}
    found: list[ParagraphChange] = []
    for section, versions in by_section.items():
        days = sorted({day for chunk in versions for day in (chunk.valid_from, chunk.valid_to)
                       if day is not None and start <= day <= end})
        for day in days:
            moved = [c for c in versions if c.valid_to == day and c.renumbered_to]
            if moved:
                found.append(_renumbered(moved, by_section.get(moved[0].renumbered_to, []), day))
            new = [] if (section, day) in arrived else [
                c for c in versions if c.valid_from == day]
            old = [c for c in versions if c.valid_to == day and not c.renumbered_to]
            if not new and not old:
                continue
            kind: ParagraphKind = "ändrad" if new and old else "ny" if new else "upphörd"
            first = (new or old)[0]
            found.append(_change(kind, section, reference(first), first, day, old, new))
    return sorted(found, key=lambda change: (change.changed_on, _law_order(change.section)))


def _renumbered(moved: list[Chunk], there: list[Chunk], day: date) -> ParagraphChange:
    target = moved[0].renumbered_to
    new = [chunk for chunk in there if chunk.valid_from == day]
    first = (new or moved)[0]
    short = moved[0].short_title
    cited = f"{short} {target} (tidigare {moved[0].section})".strip()
    change = _change("ny beteckning", target, cited, first, day, moved, new)
    change.previous_section = moved[0].section
    return change


def _change(kind: ParagraphKind, section: str, cited: str, first: Chunk, day: date,
            old: list[Chunk], new: list[Chunk]) -> ParagraphChange:
    old_text = "\n".join(c.text for c in old)
    new_text = "\n".join(c.text for c in new)
    return ParagraphChange(
        kind=kind, section=section, reference=cited, heading=first.heading, changed_on=day,
        amended_by=first.amended_by, old=old_text, new=new_text,
        changes=diff_sentences(split_sentences(old_text), split_sentences(new_text)),
        chunk_id=first.chunk_id)


def _law_order(section: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(number), letter) for number, letter in
                 re.findall(r"(\d+)\s*([a-z]?)", section))


def is_changes_question(question: str) -> bool:
    return _CHANGE_QUESTION.search(question) is not None


def changes_answer(question: str, language: Language, snapshot: Snapshot, as_of: AsOf,
                   citations_k: int, *, inputs_filters: Filters | None = None) -> Answer | None:
    """The answer to "Vad ändrades i HSL 2026?": None unless the question asks what changed
    in a statute that the question names (by short name or title words)."""
    if not is_changes_question(question):
        return None
    document = _named_statute(question, snapshot, inputs_filters)
    if document is None:
        return None
    year = _YEAR.search(question)
    if year:
        start, end = date(int(year.group(1)), 1, 1), date(int(year.group(1)), 12, 31)
    else:
        start = end = as_of.day
    chunks = [chunk for chunk in snapshot.chunks if chunk.document == document]
    changes = statute_changes(chunks, start, end)
    name = chunks[0].short_title or chunks[0].title
    period = f"{start.year}" if year else start.isoformat()
    if not changes:
        text = (f"Inga paragrafer i {name} ändrades {period} enligt den inlästa texten."
                if language == "sv" else f"No paragraphs of {name} changed in {period}.")
        return Answer(question=question, answer=text, refused=False, language=language)
    position = {chunk.chunk_id: chunk for chunk in chunks}
    lines = [f"Ändringar i {name} {period}:" if language == "sv" else
             f"Changes in {name} in {period}:"]
    citations: list[Citation] = []
    for number, change in enumerate(changes, start=1):
        act = f", SFS {change.amended_by}" if change.amended_by else ""
        lines.append(f"• {change.reference} ({change.kind} {change.changed_on.isoformat()}"
                     f"{act}) [{number}]")
        chunk = position[change.chunk_id]
        citations.append(Citation(
            n=number, document=chunk.document, title=chunk.title, region=chunk.region,
            section=chunk.section, heading=chunk.heading, page=chunk.page,
            lines=f"{chunk.line_start}–{chunk.line_end}" if chunk.line_start else "",
            quote=preview(chunk), chunk_id=chunk.chunk_id, score=1.0))
    return Answer(question=question, answer="\n".join(lines), refused=False, language=language,
                  citations=citations)


def _named_statute(question: str, snapshot: Snapshot, filters: Filters | None) -> str | None:
    statutes = {chunk.document: chunk.short_title for chunk in snapshot.chunks
                if chunk.short_title}
    if filters is not None and filters.document in statutes:
        return filters.document
    words = set(re.findall(r"\w+", question))
    by_short = [doc for doc, short in statutes.items() if short in words]
    if len(by_short) == 1:
        return by_short[0]
    named = snapshot.documents_named_by(name_terms(question)) & set(statutes)
    return next(iter(named)) if len(named) == 1 else None


class DocumentChanges(BaseModel):
    document: str
    from_edition: str | None = None
    to_edition: str | None = None
    sections: list[SectionChange] = Field(default_factory=list,
                                          description="Between two editions.")
    paragraphs: list[ParagraphChange] = Field(default_factory=list,
                                              description="A statute's dated wordings.")


class UnknownEdition(LookupError):
    """The document or edition is not in the catalog (the message says which)."""


def document_changes(catalog: Catalog, document: str, from_edition: str | None = None,
                     to_edition: str | None = None, on: date | None = None) -> DocumentChanges:
    """Between two editions (default: the latest and the one before) and, for a statute, the
    paragraphs that changed on `on` (default: every dated change)."""
    editions = catalog.editions(document)
    if not editions:
        raise UnknownEdition(f"no document with id '{document}'")
    labels = [edition.edition for edition in editions]
    for label in (from_edition, to_edition):
        if label is not None and label not in labels:
            raise UnknownEdition(f"'{document}' has no edition '{label}' (editions: "
                                 f"{', '.join(repr(name) for name in labels)})")
    result = DocumentChanges(document=document)
    if from_edition is not None or to_edition is not None or len(editions) > 1:
        before = from_edition if from_edition is not None else (
            labels[-2] if len(labels) > 1 else labels[-1])
        after = to_edition if to_edition is not None else labels[-1]
        diff = diff_chunks(document, before, after, catalog.edition_chunks(document, before),
                           catalog.edition_chunks(document, after))
        result.from_edition, result.to_edition, result.sections = before, after, diff.sections
    latest = catalog.edition_chunks(document, labels[-1])
    if any(chunk.short_title for chunk in latest):
        start, end = (on, on) if on else (date.min, date.max)
        result.paragraphs = statute_changes(latest, start, end)
    return result
