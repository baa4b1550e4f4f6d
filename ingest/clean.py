"""Turn extracted lines into clean blocks: headings, paragraphs and list items.

Extraction artefacts handled here: sentences broken over lines (often with blank lines in
between), hyphenation at line ends, bullet glyphs, and repeated page headers/footers.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from ingest.hyphenation import SOFT_HYPHEN, Lexicon, join_hyphenated
from ingest.readers import PAGE_COUNTER, SourceLine

BlockKind = Literal["heading", "para", "item", "row"]

BULLET = re.compile(r"^\s*(?:[•\u2022\uf0b7\uf0a7\uf0d8\u25aa\u25cf\u25e6\u2023\u2043\u2219*▪◦‣]|"
                    r"o(?=\s)|[-–](?=\s))\s*")
NUMBERED_ITEM = re.compile(r"^\s*(\d{1,2})[.)]\s+(\S.*)$")
NUMBERED_HEADING = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2}){0,4})(\.?)\s+([A-ZÅÄÖÉÜ].*)$")
URL_ONLY = re.compile(r"^(?:https?://|www\.)\S+$")
LONE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")
MARKDOWN_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
TERMINAL = (".", "!", "?", ":", ";", "”", '"')
MAX_HEADING_CHARS = 110


@dataclass
class Block:
    kind: BlockKind
    text: str
    page: int | None
    line_start: int
    line_end: int
    char_start: int
    char_end: int
    section: str = ""
    heading: str = ""
    lead_in: bool = field(default=False)  # a paragraph ending in ':' that introduces a list
    # Where the text's pages begin: (offset in `text`, page), first at 0 when paged.
    page_marks: list[tuple[int, int]] = field(default_factory=list)
    ocr_pages: set[int] = field(default_factory=set)
    paragraph: int | None = None  # Word's paragraph number within the section (stycke)


def clean_blocks(lines: list[SourceLine]) -> list[Block]:
    """Clean lines and assemble blocks, each tagged with its section number and heading.

    Lines from a reader that saw the layout (`laid_out`) need no guessing about page
    furniture and paragraph breaks; where it marked headings, only those are headings.
    """
    laid_out = any(line.laid_out for line in lines)
    styled_headings = any(line.heading_level for line in lines)
    if not laid_out:
        lines = _drop_page_furniture(lines)
    numbering = _NumberingStyle.detect(lines)
    lexicon = Lexicon(line.text for line in lines)
    blocks: list[Block] = []
    blank_run = 0
    section, heading = "", ""
    for line in lines:
        text = _tidy(line.text)
        if not text:
            blank_run += 1
            continue
        previous = blocks[-1] if blocks else None
        if URL_ONLY.match(text):
            continue  # footnote URLs land mid-sentence in extracted text
        if line.role == "row":
            blocks.append(_block("row", text, line, section, heading))
            blank_run = 0
            continue
        if styled_headings:
            found = _styled_heading(text) if line.heading_level else None
        elif _continues_list(previous, text) or _mid_sentence(previous, blank_run):
            found = None
        else:
            found = _heading(text, numbering)
        if found is not None:
            number, title = found
            if number:
                section, heading = number, title
                numbering.accept(number)
            else:
                heading = title if not section else f"{_top_heading(blocks, section)} › {title}"
            blocks.append(_block("heading", title, line, section, heading))
        elif previous is not None and previous.kind == "heading" and blank_run == 0 \
                and not styled_headings and _continues_heading(previous, text):
            previous.text = f"{previous.text} {text}"
            previous.heading = previous.text if previous.section else previous.heading
            heading = previous.heading
            _extend(previous, line)
        elif bullet := BULLET.match(text):
            if len(text) == bullet.end():
                continue  # a bullet glyph with nothing after it
            blocks.append(_block("item", text[bullet.end():], line, section, heading))
        elif (item := NUMBERED_ITEM.match(text)) and not _is_number_only(text):
            blocks.append(_block("item", f"{item.group(1)}. {item.group(2)}", line, section,
                                 heading))
        elif not laid_out and _implicit_item(previous, text, blank_run):
            blocks.append(_block("item", text, line, section, heading))
        elif previous is not None and previous.kind not in ("heading", "row") and (
                _continues_laid_out(previous, line, blank_run) if laid_out
                else _continues(previous, text, blank_run)):
            _append(previous, text, line, lexicon)
        else:
            blocks.append(_block("para", text, line, section, heading))
        blank_run = 0
    for block in blocks:
        block.text = _tidy(block.text)
        block.lead_in = block.kind == "para" and block.text.endswith((":", ";"))
    return [block for block in blocks if block.text]


def _block(kind: BlockKind, text: str, line: SourceLine, section: str, heading: str) -> Block:
    return Block(kind, text, line.page, line.lineno, line.lineno, line.offset,
                 line.offset + len(line.text), section, heading,
                 page_marks=[(0, line.page)] if line.page is not None else [],
                 ocr_pages={line.page} if line.ocr and line.page is not None else set(),
                 paragraph=line.paragraph)


def _append(block: Block, text: str, line: SourceLine, lexicon: Lexicon) -> None:
    """Join a continuation line onto the block, remembering where a new page begins."""
    block.text = _join(block.text, text, lexicon)
    if line.page is not None and (not block.page_marks or block.page_marks[-1][1] != line.page):
        block.page_marks.append((max(0, len(block.text) - len(text)), line.page))
    if line.ocr and line.page is not None:
        block.ocr_pages.add(line.page)
    _extend(block, line)


def _extend(block: Block, line: SourceLine) -> None:
    block.line_end = line.lineno
    block.char_end = line.offset + len(line.text)


def _top_heading(blocks: list[Block], section: str) -> str:
    for block in reversed(blocks):
        if block.kind == "heading" and block.section == section and " › " not in block.heading:
            return block.heading
    return section


def _implicit_item(previous: Block | None, text: str, blank_run: int) -> bool:
    """Short lines after "… består av fyra delar;" are list items whose bullets the PDF
    extraction lost."""
    if previous is None or len(text) > 45 or text.endswith(TERMINAL) or \
            _open_parenthesis(previous.text):
        return False
    after_lead_in = previous.kind == "para" and previous.text.rstrip().endswith((":", ";"))
    after_short_item = previous.kind == "item" and len(previous.text) <= 45 and blank_run >= 1
    return after_lead_in or after_short_item


def _open_parenthesis(text: str) -> bool:
    """"• Alt 1: N.N. (ekonomichefen eller" is unfinished: the next line closes it."""
    return text.count("(") > text.count(")")


def _continues_laid_out(previous: Block, line: SourceLine, blank_run: int) -> bool:
    """With the layout known a gap is a paragraph break; a page break is not, so there the
    text decides (a sentence running on to the next page)."""
    if blank_run:
        return False
    last_page = previous.page_marks[-1][1] if previous.page_marks else previous.page
    if line.page == last_page:
        return True
    return _continues(previous, _tidy(line.text), 0)


def _continues(previous: Block, text: str, blank_run: int) -> bool:
    """Does `text` continue the sentence (or paragraph) of the previous block?"""
    if blank_run > 2:
        return False
    tail = previous.text.rstrip()
    # "… om inget prov gjorts vid⏎64 år.": a number carries a sentence on, too.
    starts_lower = text[:1].islower() or text[:1] in "(,)–-" or (
        text[:1].isdigit() and not tail.endswith(TERMINAL))
    if tail.endswith("-") or previous.kind == "item":
        # List items wrap onto lowercase lines; a capitalised line starts something new.
        return starts_lower and blank_run <= 1
    if not tail.endswith(TERMINAL):
        # A line that stops mid-sentence: the next line carries on, blank lines or not.
        return starts_lower or blank_run == 0 or len(tail.split("\n")[-1]) > 50
    # A sentence ended at the line end: same paragraph only when no blank line separates.
    return blank_run == 0 and previous.kind == "para" and not previous.text.endswith(":")


def _join(left: str, right: str, lexicon: Lexicon) -> str:
    left = left.rstrip()
    if left.endswith(("-", SOFT_HYPHEN)) and not left.endswith((" -", " " + SOFT_HYPHEN)) \
            and (right[:1].islower() or right[:1].isdigit()):
        return join_hyphenated(left, right, lexicon)
    return f"{left} {right}"


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return text.strip()


def _is_number_only(text: str) -> bool:
    return bool(re.fullmatch(r"[\d\s.,%()/–-]+", text))


def _continues_heading(heading: Block, text: str) -> bool:
    return (text[:1].islower() and len(text) < 60 and not heading.text.endswith(TERMINAL)
            and len(heading.text) + len(text) <= MAX_HEADING_CHARS)


def _continues_list(previous: Block | None, text: str) -> bool:
    """'4. Stärk …' right after item '3. …' is the next list item, not section 4."""
    item = NUMBERED_ITEM.match(text)
    return bool(item and previous is not None and previous.kind == "item"
                and previous.text.startswith(f"{int(item.group(1)) - 1}. "))


def _mid_sentence(previous: Block | None, blank_run: int) -> bool:
    return (previous is not None and previous.kind != "heading" and blank_run == 0
            and not previous.text.rstrip().endswith(TERMINAL))


def _styled_heading(text: str) -> tuple[str, str]:
    """A heading the reader knows by its font or style: its number, if any, and its text."""
    if numbered := NUMBERED_HEADING.match(text):
        number, _dot, title = numbered.groups()
        if all(int(part) <= 30 for part in number.split(".")):
            return number.removesuffix(".0"), title.strip()
    if markdown := MARKDOWN_HEADING.match(text):
        return "", markdown.group(2).strip()
    return "", text.rstrip(":").strip()


def _heading(text: str, numbering: _NumberingStyle) -> tuple[str, str] | None:
    """Return (section number, heading text) if the line is a heading."""
    if markdown := MARKDOWN_HEADING.match(text):
        return "", markdown.group(2).strip()
    if len(text) > MAX_HEADING_CHARS:
        return None
    if numbered := NUMBERED_HEADING.match(text):
        number, dot, title = numbered.groups()
        title = title.strip()
        if title.endswith((",", ";")) or not re.search(r"[a-zåäö]{2}", title, re.IGNORECASE):
            return None
        if numbering.allows(number, bool(dot)):
            return number.removesuffix(".0") if number.endswith(".0") else number, title
        return None
    if _is_caps_heading(text):
        return "", text.rstrip(":").strip()
    return None


def _is_caps_heading(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 4 or len(text) > 80 or text.endswith((".", ",")) or text.startswith("("):
        return False
    if len(letters) < 0.6 * len(text.replace(" ", "")):
        return False
    upper = sum(1 for ch in letters if ch.isupper())
    return upper / len(letters) > 0.85 and len(text.split()) <= 10


class _NumberingStyle:
    """Decides which numbered lines are section headings rather than list items.

    Dotted numbers (1.2.3) are headings when they follow the previous section plausibly.
    Single numbers ("2. Bakgrund") are headings only in documents without "N.0" top
    levels, and only as the next top-level number; otherwise they are list items.
    """

    def __init__(self, has_zero_tops: bool) -> None:
        self.has_zero_tops = has_zero_tops
        self.top = 0

    @classmethod
    def detect(cls, lines: list[SourceLine]) -> _NumberingStyle:
        zero_tops = sum(1 for line in lines
                        if re.match(r"^\s*\d{1,2}\.0\s+[A-ZÅÄÖ]", line.text))
        return cls(zero_tops >= 2)

    def allows(self, number: str, trailing_dot: bool) -> bool:
        parts = [int(part) for part in number.split(".")]
        if any(part > 30 for part in parts):
            return False
        if len(parts) == 1:
            if not trailing_dot or self.has_zero_tops:
                return False
            return parts[0] == self.top + 1 or (self.top == 0 and parts[0] <= 2)
        # Web versions of documents drop headings, so top levels may jump (3.x -> 9.x),
        # but they never go back.
        return self.top <= parts[0] <= self.top + 10 or self.top == 0

    def accept(self, number: str) -> None:
        self.top = int(number.split(".")[0])


def _drop_page_furniture(lines: list[SourceLine]) -> list[SourceLine]:
    """Remove page counters ('17 (20)') and the running header/footer lines beside them,
    plus lines repeated at the top or bottom of most pages of a paged document."""
    furniture: set[str] = set()
    counter_indexes = {i for i, line in enumerate(lines) if PAGE_COUNTER.match(line.text)}
    for index in counter_indexes:
        for near in range(max(0, index - 3), min(len(lines), index + 4)):
            candidate = lines[near].text.strip()
            if near != index and candidate and _looks_like_running_header(candidate):
                furniture.add(_furniture_key(candidate))
    furniture |= _repeated_page_edges(lines)
    kept: list[SourceLine] = []
    for index, line in enumerate(lines):
        stripped = line.text.strip()
        is_furniture = bool(stripped) and _furniture_key(stripped) in furniture
        if index in counter_indexes or LONE_NUMBER.match(stripped) or is_furniture:
            kept.append(SourceLine("", line.lineno, line.page, line.offset))
        else:
            kept.append(line)
    return kept


def _looks_like_running_header(text: str) -> bool:
    return len(text) <= 80 and not text.endswith((".", ":", ",")) and (
        bool(re.search(r"[A-ZÅÄÖ]{4,}", text)) or " – " in text or " - " in text)


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", text.strip().lower()))


def _repeated_page_edges(lines: list[SourceLine]) -> set[str]:
    pages: dict[int, list[str]] = {}
    for line in lines:
        if line.page is not None and line.text.strip():
            pages.setdefault(line.page, []).append(line.text.strip())
    if len(pages) < 3:
        return set()
    edges: Counter[str] = Counter()
    for page_lines in pages.values():
        candidates = {_furniture_key(text) for text in page_lines[:2] + page_lines[-2:]}
        edges.update(candidates)
    threshold = max(3, int(len(pages) * 0.5))
    return {key for key, count in edges.items() if count >= threshold and len(key) <= 100}
