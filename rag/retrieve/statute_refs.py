"""How a question refers to the statutes in the index.

Three ways, told apart by how they are written:
- by name, the way staff write: "enligt PSL", "i patientsäkerhetslagen", "under the Patient
  Safety Act" (its English title, from the manifest): the statute is named;
- asking for a paragraph by number: "Vad säger PSF 8 kap. 7 §?", "8 kap. 7 § PSF":
  that paragraph is asked for (when little else is asked, see LOOKUP_MAX_TERMS);
- in passing, the way the law cites another law: "i det register som förs enligt 2 kap. 4 §
  patientsäkerhetslagen (2010:659)", "enligt patientsäkerhetslagen (2010:659)". The question
  is about a rule that refers to that law (often it quotes one), so the cited law is not named
  by it: its passages must not be pulled above the rule that cites it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.models import Chunk
from rag.text.fold import fold
from rag.text.lexical import content_terms

# At most this many content words besides the paragraph reference make a question one that
# asks for the paragraph ("Vad säger PSF 8 kap. 7 § om direktåtkomst?": säger, direktåtkomst).
LOOKUP_MAX_TERMS = 3
_SFS_NUMBER = r"\(\s*(?:19|20)\d\d:\d+\s*\)"
_PARAGRAPH = (r"(?:(?P<chapter>\d+)\s?(?P<chapter_letter>[a-z])?\s+kap\.?\s+)?"
              r"(?P<paragraph>\d+)\s?(?P<paragraph_letter>[a-z])?\s*§§?")
_PARAGRAPH_BEFORE = re.compile(_PARAGRAPH + r"\s*$")
_PARAGRAPH_AFTER = re.compile(r"^\s*" + _PARAGRAPH)
_SFS_AFTER = re.compile(r"^\s*" + _SFS_NUMBER)
_ANY_SFS_NUMBER = re.compile(_SFS_NUMBER)
_ANY_PARAGRAPH = re.compile(_PARAGRAPH)
# An English title's last word names the kind of statute; English writers use these for one
# another ("the Patient Safety Law").
ENGLISH_KINDS = (("act", "law"), ("ordinance", "regulation", "decree"), ("code",))


@dataclass(frozen=True)
class Statute:
    document: str
    short_name: str
    name: re.Pattern[str]  # the short name or the rubrik, in any inflection, on folded text


@dataclass(frozen=True)
class StatuteMentions:
    naming_text: str  # the question without the statutes it only cites in passing
    paragraphs: frozenset[tuple[str, str]]  # (document, "8 kap. 7 §") asked for by number


def statutes(chunks: list[Chunk]) -> list[Statute]:
    """The statutes among the chunks' documents (those with a short name)."""
    found: dict[str, Statute] = {}
    for chunk in chunks:
        if chunk.short_title and chunk.document not in found:
            found[chunk.document] = Statute(
                chunk.document, chunk.short_title,
                _name_pattern(chunk.title, chunk.short_title, chunk.title_en))
    return list(found.values())


def _name_pattern(title: str, short_name: str, title_en: str = "") -> re.Pattern[str]:
    """'Hälso- och sjukvårdslag (2017:30)' -> hälso-och-sjukvårdslagen, hälso och
    sjukvårdslagens, halso- och sjukvardslag …; the short name as a word; and the English
    title ("Patient Safety Act", "patient safety law")."""
    rubrik = _ANY_SFS_NUMBER.sub("", fold(title)).split()
    parts = [re.escape(word.rstrip("-")) + ("-?" if word.endswith("-") else "")
             for word in rubrik]
    spelled = r"[\s-]*".join(parts) + r"\w*" if parts else ""
    alternatives = [re.escape(fold(short_name))] if " " not in short_name else []
    if spelled:
        alternatives.append(spelled)
    if english := english_title_pattern(title_en):
        alternatives.append(english)
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


def english_title_pattern(title_en: str) -> str:
    """"Patient Safety Act" -> "patient safety act", "patient-safety law's" …, on folded
    text."""
    words = fold(title_en).split()
    if not words:
        return ""
    *subject, kind = words
    kinds = next((names for names in ENGLISH_KINDS if kind in names), (kind,))
    return "".join(re.escape(word) + r"[\s-]+" for word in subject) + \
        "(?:" + "|".join(map(re.escape, kinds)) + ")(?:'s)?"


def mentions(question: str, known: list[Statute]) -> StatuteMentions:
    folded = fold(question)  # same length as the question for Swedish text
    if len(folded) != len(question) or not known:
        return StatuteMentions(question, frozenset())
    passing: list[tuple[int, int]] = []  # spans of citations in passing
    references: list[tuple[int, int, str, str]] = []  # (start, end, document, section)
    for statute in known:
        for match in statute.name.finditer(folded):
            start, end = match.span()
            is_short = match.group(0) == fold(statute.short_name)
            before = _PARAGRAPH_BEFORE.search(folded[:start])
            after = _PARAGRAPH_AFTER.match(folded[end:])
            sfs = _SFS_AFTER.match(folded[end:])
            if sfs:
                end += sfs.end()
            if before:
                references.append((before.start(), end, statute.document, _section(before)))
            elif after:
                references.append((start, end + after.end(), statute.document,
                                   _section(after)))
            if sfs or (before and not is_short):
                passing.append((before.start() if before else start, end))
    rest = _without(question, [(start, end) for start, end, _, _ in references] + passing)
    if references and len(content_terms(rest)) <= LOOKUP_MAX_TERMS:
        return StatuteMentions(question, frozenset((doc, section)
                                                   for _, _, doc, section in references))
    return StatuteMentions(_without(question, passing), frozenset())


def _section(match: re.Match[str]) -> str:
    paragraph = match["paragraph"] + (f" {match['paragraph_letter']}"
                                      if match["paragraph_letter"] else "")
    if not match["chapter"]:
        return f"{paragraph} §"
    chapter = match["chapter"] + (f" {match['chapter_letter']}"
                                  if match["chapter_letter"] else "")
    return f"{chapter} kap. {paragraph} §"


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    kept: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if start >= position:
            kept.append(text[position:start])
            position = end
        else:
            position = max(position, end)
    kept.append(text[position:])
    return re.sub(r"\s+", " ", " ".join(kept)).strip()


def asked_as_source(cited: StatuteMentions, known: list[Statute]) -> list[Statute]:
    """The statutes a question asks as its source ("enligt HSL", "vad säger
    patientsäkerhetslagen om …"): those its naming text names, not those it cites in passing."""
    folded = fold(cited.naming_text)
    return [statute for statute in known if statute.name.search(folded)]


def cites_a_paragraph(question: str) -> bool:
    """Whether the question names a paragraph by number ("17 kap. 5 §")."""
    return _ANY_PARAGRAPH.search(fold(question)) is not None
