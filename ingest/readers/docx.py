"""Word (DOCX): headings from heading styles, section numbers from Word's own list numbering,
tables in their place (one passage per row), and paragraph numbers (stycke) for citations."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.readers.base import BLANK, Extracted, Line, ReadError
from ingest.tables import row_passages

_HEADING_STYLE = re.compile(r"^(?:heading|rubrik|überschrift|titre)\s*(\d)$", re.IGNORECASE)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TYPED_NUMBER = re.compile(r"^\d{1,2}(?:\.\d{1,2}){0,4}\.?\s")


def read_docx(path: Path) -> Extracted:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as error:
        raise ReadError(f"corrupt or unreadable DOCX ({type(error).__name__})") from error
    numbering = _Numbering(document)
    lines: list[Line] = []
    paragraph = 0  # body paragraphs since the last heading: "stycke N" in a citation
    for content in document.iter_inner_content():
        if isinstance(content, Paragraph):
            text = content.text.strip()
            if not text:
                continue
            level = _heading_level(content)
            label = numbering.label(content, level)
            if level:
                number = label.rstrip(".") if label and not _TYPED_NUMBER.match(text) else ""
                lines += [Line(f"{number} {text}".strip(), heading_level=level, laid_out=True),
                          BLANK]
                paragraph = 0
                continue
            paragraph += 1
            if label == "•":
                text = f"• {text}"
            elif label:
                text = f"{label.rstrip('.)')}. {text}"
            lines += [Line(text, paragraph=paragraph, laid_out=True), BLANK]
        elif isinstance(content, Table):
            rows = [[cell.text for cell in row.cells] for row in content.rows]
            passages = row_passages(rows)
            if passages:
                paragraph += 1
                for passage in passages:
                    lines += [Line(passage, role="row", paragraph=paragraph, laid_out=True),
                              BLANK]
    return Extracted(lines)


def _heading_level(paragraph: Any) -> int:
    """1-based heading level from the paragraph's style chain or its own outline level."""
    style = paragraph.style
    while style is not None:
        if match := _HEADING_STYLE.match(style.name or ""):
            return int(match.group(1))
        if (level := _outline_level(style.element)) is not None:
            return level
        style = style.base_style
    return _outline_level(paragraph._p) or 0


def _outline_level(element: Any) -> int | None:
    """w:outlineLvl 0–8 is a heading level 1–9; 9 means body text."""
    outline = _child(element, "pPr", "outlineLvl")
    if outline is None:
        return None
    value = int(outline.get(f"{_W}val", "9"))
    return value + 1 if value < 9 else 0


def _child(element: Any, *names: str) -> Any:
    for name in names:
        if element is None:
            return None
        element = element.find(f"{_W}{name}")
    return element


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."


@dataclass
class _Numbering:
    """Word's automatic numbering, counted the way Word counts it (per abstract list)."""

    document: Any
    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)  # abstract id -> ilvl
    abstract_of: dict[str, str] = field(default_factory=dict)  # numId -> abstract id
    counters: dict[str, dict[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            root = self.document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        for abstract in root.findall(f"{_W}abstractNum"):
            levels: dict[int, _Level] = {}
            for lvl in abstract.findall(f"{_W}lvl"):
                start, fmt, text = (_child(lvl, name) for name in ("start", "numFmt", "lvlText"))
                levels[int(lvl.get(f"{_W}ilvl", "0"))] = _Level(
                    int(start.get(f"{_W}val", "1")) if start is not None else 1,
                    fmt.get(f"{_W}val", "decimal") if fmt is not None else "decimal",
                    text.get(f"{_W}val", "") if text is not None else "")
            self.levels[abstract.get(f"{_W}abstractNumId", "")] = levels
        for num in root.findall(f"{_W}num"):
            abstract_id = _child(num, "abstractNumId")
            if abstract_id is not None:
                self.abstract_of[num.get(f"{_W}numId", "")] = abstract_id.get(f"{_W}val", "")

    def label(self, paragraph: Any, heading_level: int) -> str:
        """The number Word shows before the paragraph ('1.2.3', '•', 'a)'), or ''."""
        num_id, ilvl = self._num_pr(paragraph, heading_level)
        abstract = self.abstract_of.get(num_id or "")
        if abstract is None or abstract not in self.levels:
            return ""
        levels = self.levels[abstract]
        level = levels.get(ilvl, _Level())
        if level.fmt == "bullet":
            return "•"
        if level.fmt == "none":
            return ""
        counters = self.counters.setdefault(abstract, {})
        counters[ilvl] = counters.get(ilvl, level.start - 1) + 1
        for deeper in [key for key in counters if key > ilvl]:
            del counters[deeper]

        def value(match: re.Match[str]) -> str:
            index = int(match.group(1)) - 1
            spec = levels.get(index, _Level())
            return _format(counters.get(index, spec.start), spec.fmt)

        return re.sub(r"%(\d)", value, level.text).strip()

    @staticmethod
    def _num_pr(paragraph: Any, heading_level: int) -> tuple[str | None, int]:
        sources = [paragraph._p]
        style = paragraph.style
        while style is not None:
            sources.append(style.element)
            style = style.base_style
        num_id: str | None = None
        ilvl: int | None = None
        for element in sources:
            pr = _child(element, "pPr", "numPr")
            if pr is None:
                continue
            found_id, found_lvl = _child(pr, "numId"), _child(pr, "ilvl")
            if num_id is None and found_id is not None:
                num_id = found_id.get(f"{_W}val")
            if ilvl is None and found_lvl is not None:
                ilvl = int(found_lvl.get(f"{_W}val", "0"))
        if num_id in (None, "0"):
            return None, 0
        return num_id, ilvl if ilvl is not None else max(heading_level - 1, 0)


def _format(number: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (number - 1) % 26)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(number)
        return roman.upper() if fmt == "upperRoman" else roman
    return str(number)


def _roman(number: int) -> str:
    out = ""
    for value, symbol in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"),
                          (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"),
                          (4, "iv"), (1, "i")):
        while number >= value:
            out += symbol
            number -= value
    return out
