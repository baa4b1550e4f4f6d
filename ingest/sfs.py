"""Swedish statutes (SFS) as se-lex publishes them: Markdown in nested `<section>` elements.

The front matter names the statute (beteckning, rubrik, dates, amendments); each paragraph is
a `<section id="kap7.3a">` (7 kap. 3 a §). A reworded paragraph appears twice: the old wording
with `selex:status="upphord" selex:upphor_datum=…` and the new one with
`selex:status="ikraft" selex:ikraft_datum=…`; a paragraph without attributes takes them from
the nearest enclosing section that has them, else it is simply in force. Chunks are
paragraphs (a long one split by stycke), each carrying its validity.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from ingest.chunking import pack_sentences
from ingest.readers import ReadError
from rag.models import Chunk, DocumentMeta
from rag.text.sentences import ITEM_PREFIX

_SECTION_OPEN = re.compile(r"^<section\b([^>]*)>\s*(</section>)?\s*$")
_SECTION_CLOSE = re.compile(r"^</section>\s*$")
_ATTRIBUTE = re.compile(r'([\w:]+)="([^"]*)"')
_PARAGRAPH_ID = re.compile(r"^(?:kap(?P<chapter>\d+[a-z]?)\.)?(?P<paragraph>\d+[a-z]?)$")
_CHAPTER_ID = re.compile(r"^kap(?P<chapter>\d+[a-z]?)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_NUMBERED = re.compile(r"^\d{1,2}[.)]\s+\S")
_AMENDMENT_NOTE = re.compile(r"\b(?:Lag|Förordning|Kungörelse)\s*\((\d{4}:\d+)\)\.?\s*$")
_RENUMBER_NOTE = re.compile(r"^/[^/]*/\s*")
# "/Ny beteckning 8 kap. 9 § U:2026-01-01/ 10 §": from that day this paragraph is 8 kap. 9 §.
_NEW_NUMBER = re.compile(r"/Ny beteckning\s+(?:(?P<chapter>\d+(?:\s?[a-z])?)\s+kap\.\s+)?"
                         r"(?P<paragraph>\d+(?:\s?[a-z])?)\s*§")
_KIND_INITIALS = {"lag": "L", "förordning": "F", "balk": "B"}
# The abbreviations Swedish lawyers and Socialstyrelsen use where the rubrik is one word, so
# no initials rule can produce them (see README, "Statutes").
KNOWN_SHORT_NAMES = {"2010:659": "PSL", "2010:1369": "PSF", "2017:30": "HSL"}
SFS_SNIFF_BYTES = 4096


@dataclass(frozen=True)
class Amendment:
    beteckning: str
    rubrik: str
    in_force: date | None
    notes: str


@dataclass(frozen=True)
class StatuteHeader:
    beteckning: str
    rubrik: str
    in_force: date | None
    published: date | None
    amendments: tuple[Amendment, ...]

    @property
    def short_name(self) -> str:
        return short_name(self.rubrik, self.beteckning)

    @property
    def kind(self) -> str:
        last = self.rubrik.split()[-1].lower() if self.rubrik.split() else ""
        return "förordning" if last.endswith("förordning") else "lag"

    @property
    def consolidated_through(self) -> str:
        """The latest amendment in force ('' for an unamended statute)."""
        dated = [a for a in self.amendments if a.in_force is not None]
        return max(dated, key=lambda a: (a.in_force, a.beteckning)).beteckning if dated else ""


@dataclass
class Paragraph:
    chapter: str
    number: str
    heading: str
    status: str
    valid_from: date | None
    valid_to: date | None
    line_start: int
    line_end: int = 0
    stycken: list[str] = field(default_factory=list)
    renumbered_to: str = ""  # its number after valid_to ("8 kap. 9 §"), when renumbered

    @property
    def section(self) -> str:
        return _section(self.chapter, self.number)

    @property
    def amended_by(self) -> str:
        match = _AMENDMENT_NOTE.search(self.stycken[-1]) if self.stycken else None
        return match.group(1) if match else ""


def is_sfs_markdown(path: Path) -> bool:
    """Markdown whose front matter has a `beteckning` (an SFS number): a statute."""
    if path.suffix.lower() != ".md" or not path.is_file():
        return False
    with path.open("rb") as handle:
        head = handle.read(SFS_SNIFF_BYTES).decode("utf-8", errors="replace")
    if not head.startswith("---"):
        return False
    front = head[3:].split("\n---", 1)[0]
    return re.search(r"^beteckning:\s*\"?\d{4}:\d+", front, re.MULTILINE) is not None


def short_name(rubrik: str, beteckning: str) -> str:
    """'HSL' for 'Hälso- och sjukvårdslag': initials of the words and of the statute kind
    the last word ends in; a one-word rubrik takes the fixed table, else 'Rubrik (SFS)'."""
    if beteckning in KNOWN_SHORT_NAMES:
        return KNOWN_SHORT_NAMES[beteckning]
    words = [word for word in re.split(r"[\s]+", rubrik) if word and word.lower() not in
             {"och", "om", "i", "för", "med", "av", "till"}]
    last = words[-1].lower() if words else ""
    kind = next((kind for kind in _KIND_INITIALS if last.endswith(kind) and last != kind), None)
    if kind and 2 <= len(words) <= 3 and not rubrik.lower().startswith(("lag ", "förordning ")):
        return "".join(word[0].upper() for word in words) + _KIND_INITIALS[kind]
    return f"{rubrik} ({beteckning})"


def read_header(text: str) -> StatuteHeader:
    if not text.startswith("---"):
        raise ReadError("SFS Markdown without front matter")
    front, separator, _ = text[3:].partition("\n---")
    if not separator:
        raise ReadError("SFS Markdown: front matter is not closed with '---'")
    raw = _load_front_matter(front)
    listed = raw.get("andringsforfattningar")
    amendments = tuple(
        Amendment(beteckning=str(item.get("beteckning", "")), rubrik=str(item.get("rubrik", "")),
                  in_force=_date(item.get("ikraft_datum")), notes=str(item.get("anteckningar", "")))
        for item in (listed if isinstance(listed, list) else []) if isinstance(item, dict))
    return StatuteHeader(beteckning=str(raw.get("beteckning", "")),
                         rubrik=str(raw.get("rubrik", "")), in_force=_date(raw.get("ikraft_datum")),
                         published=_date(raw.get("publicerad_datum")), amendments=amendments)


def _load_front_matter(front: str) -> dict[str, object]:
    """YAML, tolerating the exporter's `forarbeten: - "…"` (a list started on the key's line),
    which is not YAML; that key is not needed here and is dropped when it breaks parsing."""
    for candidate in (front, re.sub(r"^forarbeten:.*?(?=^\S)", "", front,
                                    flags=re.MULTILINE | re.DOTALL)):
        try:
            loaded = yaml.safe_load(candidate)
        except yaml.YAMLError:
            continue
        if isinstance(loaded, dict):
            return loaded
    raise ReadError("SFS Markdown: unreadable front matter (YAML)")


def _date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def read_paragraphs(text: str) -> list[Paragraph]:
    """Every paragraph version in document order, with inherited status and dates."""
    stack: list[dict[str, str]] = []
    headings: dict[int, str] = {}  # depth -> heading text of the open section at that depth
    paragraphs: list[Paragraph] = []
    current: Paragraph | None = None
    stycke: list[str] = []

    def flush_stycke() -> None:
        if current is not None and stycke:
            current.stycken.append(" ".join(stycke))
        stycke.clear()

    for lineno, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if opened := _SECTION_OPEN.match(stripped):
            if opened.group(2):
                continue  # an empty section (<section …></section>) holds nothing
            flush_stycke()
            attributes = dict(_ATTRIBUTE.findall(opened.group(1)))
            stack.append(attributes)
            current = _start_paragraph(attributes, stack, headings, lineno) or current
            if current is not None and current.line_start == lineno:
                paragraphs.append(current)
            continue
        if _SECTION_CLOSE.match(stripped):
            flush_stycke()
            if stack:
                closed = stack.pop()
                headings.pop(len(stack) + 1, None)
                if current is not None and _is_paragraph(closed):
                    current.line_end = lineno
                    current = None
            continue
        if heading := _HEADING.match(stripped):
            flush_stycke()
            if current is None and stack:
                headings[len(stack)] = _plain(heading.group(2))
            elif current is not None and (renumbered := _NEW_NUMBER.search(heading.group(2))):
                current.renumbered_to = _section((renumbered["chapter"] or "").replace(" ", ""),
                                                 renumbered["paragraph"].replace(" ", ""))
            continue
        if current is None:
            continue
        if not stripped:
            flush_stycke()
        elif _NUMBERED.match(stripped) and current.stycken:
            flush_stycke()
            current.stycken.append(ITEM_PREFIX + _plain(stripped))
        else:
            stycke.append(_plain(stripped))
    return [paragraph for paragraph in paragraphs if paragraph.stycken]


def _is_paragraph(attributes: dict[str, str]) -> bool:
    return _PARAGRAPH_ID.match(attributes.get("id", "")) is not None


def _start_paragraph(attributes: dict[str, str], stack: list[dict[str, str]],
                     headings: dict[int, str], lineno: int) -> Paragraph | None:
    match = _PARAGRAPH_ID.match(attributes.get("id", ""))
    if match is None:
        return None
    status, valid_from, valid_to = _validity(stack)
    heading = next((headings[depth] for depth in sorted(headings, reverse=True)
                    if depth < len(stack)), "")
    return Paragraph(chapter=match.group("chapter") or "", number=match.group("paragraph"),
                     heading=heading, status=status, valid_from=valid_from, valid_to=valid_to,
                     line_start=lineno)


def _validity(stack: list[dict[str, str]]) -> tuple[str, date | None, date | None]:
    """Status and dates from the innermost section that has a single clear status.

    A chapter marked `"upphord ikraft"` (renamed on a date, both wordings merged) says nothing
    about the paragraphs inside it, so it is passed over.
    """
    for attributes in reversed(stack):
        status = attributes.get("selex:status", "")
        if status in {"ikraft", "upphord", "upphavd"}:
            valid_to = _date(attributes.get("selex:upphor_datum"))
            if status == "upphavd" and valid_to is None:
                valid_to = date.min  # repealed, date not given: never in force here
            return status, _date(attributes.get("selex:ikraft_datum")), valid_to
    return "", None, None


def _plain(text: str) -> str:
    """Markdown to the law's own text: links keep their text, lose their address."""
    text = _LINK.sub(r"\1", text)
    text = _RENUMBER_NOTE.sub("", text)  # "/Ny beteckning 2 kap. 11 § U:2026-01-01/ 4 §"
    return re.sub(r"\s+", " ", text.replace("**", "").replace("\\", "")).strip()


def _section(chapter: str, number: str) -> str:
    """'8', '3a' -> '8 kap. 3 a §'."""
    return f"{_spaced(chapter) + ' kap. ' if chapter else ''}{_spaced(number)} §"


def _spaced(number: str) -> str:
    """'3a' -> '3 a' as Swedish statutes write it."""
    return re.sub(r"(\d)([a-z])$", r"\1 \2", number)


def read_statute(path: Path, meta: DocumentMeta, max_chars: int) -> list[Chunk]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ReadError("SFS Markdown is not UTF-8") from error
    header = read_header(text)
    chunks: list[Chunk] = []
    for paragraph in read_paragraphs(text):
        if paragraph.valid_to == date.min:
            continue  # a repealed paragraph's "Har upphävts genom lag (…)" is no rule
        for part in _parts(paragraph.stycken, max_chars):
            chunks.append(_chunk(meta, header, paragraph, part, len(chunks)))
    if not chunks:
        raise ReadError("SFS Markdown without paragraphs (<section id=\"kapN.M\">)")
    return chunks


def _parts(stycken: list[str], max_chars: int) -> list[str]:
    """The paragraph whole, or runs of stycken (a lead-in stays with its items) up to the max;
    a single stycke over the max is split by sentences."""
    pieces: list[str] = []
    for stycke in stycken:
        if len(stycke) <= max_chars:
            pieces.append(stycke)
            continue
        pieces.extend(pack_sentences(stycke, max_chars))
    parts: list[str] = []
    for piece in pieces:
        if parts and len(parts[-1]) + 1 + len(piece) <= max_chars:
            parts[-1] = f"{parts[-1]}\n{piece}"
        else:
            parts.append(piece)
    return parts


def _chunk(meta: DocumentMeta, header: StatuteHeader, paragraph: Paragraph, text: str,
           index: int) -> Chunk:
    content_hash = hashlib.sha256(
        f"{paragraph.section}\x1f{paragraph.valid_from}\x1f{paragraph.valid_to}\x1f{text}"
        .encode()).hexdigest()
    edition = meta.edition
    return Chunk(
        chunk_id=f"{meta.document}{'@' + edition if edition else ''}:{index:04d}:"
                 f"{content_hash[:10]}",
        document=meta.document, title=meta.title, region=meta.region, doc_type=meta.doc_type,
        section=paragraph.section, heading=paragraph.heading, line_start=paragraph.line_start,
        line_end=paragraph.line_end or paragraph.line_start, text=text,
        content_hash=content_hash, short_title=header.short_name, title_en=meta.title_en,
        edition=edition,
        status=paragraph.status, valid_from=paragraph.valid_from, valid_to=paragraph.valid_to,
        amended_by=amending_act(header, paragraph),
        renumbered_to=paragraph.renumbered_to if paragraph.renumbered_to != paragraph.section
        else "")


def amending_act(header: StatuteHeader, paragraph: Paragraph) -> str:
    """The SFS number of the act behind a dated wording: the front matter's amendment in force
    on that day (the one whose notes name the chapter, when several are), else the note
    "Lag (2025:1399)." that ends the paragraph."""
    day = paragraph.valid_from or (paragraph.valid_to if paragraph.valid_to != date.min
                                   else None)
    candidates = [a for a in header.amendments if day is not None and a.in_force == day]
    if len(candidates) > 1 and paragraph.chapter:
        named = [a for a in candidates if f"{_spaced(paragraph.chapter)} kap" in a.notes]
        candidates = named or candidates
    if len(candidates) == 1:
        return candidates[0].beteckning
    return paragraph.amended_by
