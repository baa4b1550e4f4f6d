"""What changed between two editions: sections aligned by number and heading (not by line),
requirements (sentences) aligned within a section, changed words and numbers marked.

Alignment, in order: the same number and heading; the same heading found once on each side
(a renumbered section); the same number; then the most similar text (a renamed heading). A
section left over on one side was added or removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from difflib import SequenceMatcher
from typing import Literal

from pydantic import BaseModel, Field

from rag.models import Chunk
from rag.text.sentences import split_sentences

SIMILAR_SECTION = 0.55
SIMILAR_SENTENCE = 0.5
_TOKEN = re.compile(r"\d+(?:[ ,.]\d+)*|\w+|[^\w\s]")


class WordChange(BaseModel):
    old: str
    new: str


class RequirementChange(BaseModel):
    kind: Literal["added", "removed", "changed"]
    old: str = ""
    new: str = ""
    marked: str = Field("", description="The new text with [-old-]{+new+} marks.")
    words: list[WordChange] = Field(default_factory=list)


class SectionChange(BaseModel):
    kind: Literal["added", "removed", "changed", "renumbered"]
    old_section: str = ""
    new_section: str = ""
    heading: str = ""
    changes: list[RequirementChange] = Field(default_factory=list)

    @property
    def label(self) -> str:
        if self.kind == "renumbered":
            return f"{self.old_section} → {self.new_section} {self.heading}".strip()
        return f"{self.new_section or self.old_section} {self.heading}".strip()


class EditionDiff(BaseModel):
    document: str
    from_edition: str
    to_edition: str
    sections: list[SectionChange] = Field(default_factory=list)


class _Section(BaseModel):
    number: str
    heading: str
    sentences: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def sections_of(chunks: Iterable[Chunk]) -> list[_Section]:
    """A document's sections in order, each with its sentences (chunks of one section joined)."""
    found: dict[tuple[str, str], _Section] = {}
    for chunk in chunks:
        key = (chunk.section, chunk.heading)
        section = found.setdefault(key, _Section(number=chunk.section, heading=chunk.heading,
                                                 sentences=[]))
        section.sentences.extend(split_sentences(chunk.text))
    return list(found.values())


def diff_chunks(document: str, from_edition: str, to_edition: str, old: Iterable[Chunk],
                new: Iterable[Chunk]) -> EditionDiff:
    pairs, removed, added = align_sections(sections_of(old), sections_of(new))
    changes: list[SectionChange] = []
    for before, after in pairs:
        requirements = diff_sentences(before.sentences, after.sentences)
        renumbered = before.number != after.number
        if requirements or renumbered:
            changes.append(SectionChange(
                kind="renumbered" if renumbered else "changed", old_section=before.number,
                new_section=after.number, heading=after.heading, changes=requirements))
    changes.extend(SectionChange(kind="removed", old_section=section.number,
                                 heading=section.heading,
                                 changes=[RequirementChange(kind="removed", old=sentence)
                                          for sentence in section.sentences])
                   for section in removed)
    changes.extend(SectionChange(kind="added", new_section=section.number,
                                 heading=section.heading,
                                 changes=[RequirementChange(kind="added", new=sentence)
                                          for sentence in section.sentences])
                   for section in added)
    return EditionDiff(document=document, from_edition=from_edition, to_edition=to_edition,
                       sections=changes)


def align_sections(old: list[_Section], new: list[_Section]
                   ) -> tuple[list[tuple[_Section, _Section]], list[_Section], list[_Section]]:
    pairs: list[tuple[_Section, _Section]] = []
    left, right = list(old), list(new)

    def take(match: Callable[[_Section], _Section | None]) -> None:
        for before in list(left):
            after = match(before)
            if after is not None:
                pairs.append((before, after))
                left.remove(before)
                right.remove(after)

    def same_place(before: _Section) -> _Section | None:
        return next((a for a in right if (a.number, a.heading) == (before.number,
                                                                 before.heading)), None)

    def same_heading(before: _Section) -> _Section | None:
        heading = _norm(before.heading)
        if not heading or sum(_norm(o.heading) == heading for o in left) != 1:
            return None
        found = [a for a in right if _norm(a.heading) == heading]
        return found[0] if len(found) == 1 else None

    def same_number(before: _Section) -> _Section | None:
        found = [a for a in right if before.number and a.number == before.number]
        return found[0] if len(found) == 1 else None

    def most_similar(before: _Section) -> _Section | None:
        return max((a for a in right if _similarity(a.text, before.text) >= SIMILAR_SECTION),
                   key=lambda a: _similarity(a.text, before.text), default=None)

    for match in (same_place, same_heading, same_number, most_similar):
        take(match)
    order = {id(section): index for index, section in enumerate(new)}
    pairs.sort(key=lambda pair: order[id(pair[1])])
    return pairs, left, right


def diff_sentences(old: list[str], new: list[str]) -> list[RequirementChange]:
    """Requirements added, removed or reworded between two sentence lists."""
    matcher = SequenceMatcher(a=[_norm(s) for s in old], b=[_norm(s) for s in new],
                              autojunk=False)
    changes: list[RequirementChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        before, after = list(old[i1:i2]), list(new[j1:j2])
        for sentence in list(before):
            best = max(after, key=lambda candidate: _similarity(sentence, candidate),
                       default=None)
            if best is not None and _similarity(sentence, best) >= SIMILAR_SENTENCE:
                changes.append(word_change(sentence, best))
                before.remove(sentence)
                after.remove(best)
        changes.extend(RequirementChange(kind="removed", old=s) for s in before)
        changes.extend(RequirementChange(kind="added", new=s) for s in after)
    return changes


def word_change(old: str, new: str) -> RequirementChange:
    """The reworded requirement with its changed words and numbers ('3 timmar' → '4 timmar');
    `marked` is the new text as written, with [-removed-]{+inserted+} where it changed."""
    old_spans = [match.span() for match in _TOKEN.finditer(old)]
    new_spans = [match.span() for match in _TOKEN.finditer(new)]
    a = [old[start:end] for start, end in old_spans]
    b = [new[start:end] for start, end in new_spans]
    marked: list[str] = []
    words: list[WordChange] = []
    cursor = 0
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            marked.append(new[cursor:new_spans[j2 - 1][1]])
            cursor = new_spans[j2 - 1][1]
            continue
        removed = old[old_spans[i1][0]:old_spans[i2 - 1][1]] if i2 > i1 else ""
        start = new_spans[j1][0] if j1 < len(new_spans) else len(new)
        marked.append(new[cursor:start])
        inserted = new[start:new_spans[j2 - 1][1]] if j2 > j1 else ""
        cursor = new_spans[j2 - 1][1] if j2 > j1 else start
        # Show a changed number with its unit, so "3" -> "4" reads "3 timmar" -> "4 timmar".
        context = b[j2] if j2 < len(b) and i2 < len(a) and a[i2] == b[j2] else ""
        glue = "" if not context or not context[0].isalnum() else " "
        words.append(WordChange(old=f"{removed}{glue}{context}".strip(),
                                new=f"{inserted}{glue}{context}".strip()))
        marked.append(f"[-{removed}-]" * bool(removed) + f"{{+{inserted}+}}" * bool(inserted))
    marked.append(new[cursor:])
    return RequirementChange(kind="changed", old=old, new=new, marked="".join(marked),
                             words=words)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _similarity(a: str, b: str) -> float:
    return SequenceMatcher(a=_norm(a).split(), b=_norm(b).split(), autojunk=False).ratio()
