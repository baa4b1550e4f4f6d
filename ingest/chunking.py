"""Structure-aware chunking: chunks never straddle sections, lists stay with their lead-in,
a table row is a passage of its own; every chunk keeps where its pages begin."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ingest.clean import Block
from ingest.pages import Marks, merge_marks, slice_marks
from ingest.tables import CELL_SEPARATOR
from rag.models import Chunk, DocumentMeta
from rag.text.sentences import ITEM_PREFIX, split_sentences


@dataclass
class _Unit:
    blocks: list[Block]
    text: str
    pages: Marks = field(default_factory=list)  # (offset in text, page)
    paragraphs: Marks = field(default_factory=list)  # (offset in text, Word paragraph)
    row: bool = False


def chunk_blocks(blocks: list[Block], meta: DocumentMeta, max_chars: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section_blocks in _by_section(blocks):
        for group in _pack(_units(section_blocks, max_chars), max_chars):
            chunks.append(_make_chunk(group, meta, len(chunks)))
    return chunks


def _by_section(blocks: list[Block]) -> list[list[Block]]:
    sections: list[list[Block]] = []
    current_key: tuple[str, str] | None = None
    for block in blocks:
        key = (block.section, block.heading)
        if block.kind == "heading" or key != current_key:
            sections.append([])
            current_key = key
        if block.kind != "heading":
            sections[-1].append(block)
    return [section for section in sections if section]


def _units(blocks: list[Block], max_chars: int) -> list[_Unit]:
    """Paragraphs stand alone; a lead-in and its list items form one unit."""
    units: list[_Unit] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if block.kind == "row":
            units.extend(_row_units(block, max_chars))
            index += 1
            continue
        if block.kind == "item" or block.lead_in:
            lead = block if block.lead_in else None
            items: list[Block] = []
            index += 1 if lead else 0
            while index < len(blocks) and blocks[index].kind == "item":
                items.append(blocks[index])
                index += 1
            units.extend(_list_units(lead, items, max_chars))
            continue
        units.extend(_paragraph_units(block, max_chars))
        index += 1
    return units


def _list_units(lead: Block | None, items: list[Block], max_chars: int) -> list[_Unit]:
    lead_text = lead.text if lead else ""
    units: list[_Unit] = []
    current: list[Block] = []
    for item in items:
        candidate = [*current, item]
        if current and len(_list_text(lead_text, candidate)) > max_chars:
            units.append(_list_unit(lead, current))
            current = [item]
        else:
            current = candidate
    if current or lead:
        units.append(_list_unit(lead, current))
    return units


def _list_unit(lead: Block | None, items: list[Block]) -> _Unit:
    blocks = ([lead] if lead else []) + items
    unit = _Unit(blocks, _list_text(lead.text if lead else "", items))
    offset = 0
    for block in blocks:
        start = offset + (0 if block is lead else len(ITEM_PREFIX))
        _take(unit, block, 0, len(block.text), start)
        offset = start + len(block.text) + 1
    return unit


def _list_text(lead_text: str, items: list[Block]) -> str:
    lines = ([lead_text] if lead_text else []) + [ITEM_PREFIX + item.text for item in items]
    return "\n".join(lines)


def _take(unit: _Unit, block: Block, start: int, end: int, at: int) -> None:
    """Record the page and paragraph marks of block.text[start:end], placed at `at`."""
    unit.pages += slice_marks(block.page_marks, start, end, at)
    if block.paragraph is not None:
        unit.paragraphs.append((at, block.paragraph))


def _paragraph_units(block: Block, max_chars: int) -> list[_Unit]:
    if len(block.text) <= max_chars:
        unit = _Unit([block], block.text)
        _take(unit, block, 0, len(block.text), 0)
        return [unit]
    return _located_units(block, pack_sentences(block.text, max_chars))


def pack_sentences(text: str, max_chars: int) -> list[str]:
    """The text's sentences in runs of at most `max_chars` (a longer sentence stands alone)."""
    parts: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        if current and len(current) + 1 + len(sentence) > max_chars:
            parts.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        parts.append(current)
    return parts


def _located_units(block: Block, parts: list[str]) -> list[_Unit]:
    units: list[_Unit] = []
    cursor = 0
    for part in parts:
        found = block.text.find(part[:40], cursor)
        start = found if found >= 0 else cursor
        unit = _Unit([block], part)
        _take(unit, block, start, start + len(part), 0)
        units.append(unit)
        cursor = start + len(part)
    return units


def _row_units(block: Block, max_chars: int) -> list[_Unit]:
    """A row is one passage; a row over the maximum is cut between cells, each part led by
    the row's first cell so it still says which row it is."""
    if len(block.text) <= max_chars:
        unit = _Unit([block], block.text, row=True)
        _take(unit, block, 0, len(block.text), 0)
        return [unit]
    first, *cells = block.text.split(CELL_SEPARATOR)
    parts: list[str] = []
    current = first
    for cell in cells:
        if current != first and len(current) + len(CELL_SEPARATOR) + len(cell) > max_chars:
            parts.append(current)
            current = first
        current = f"{current}{CELL_SEPARATOR}{cell}"
    parts.append(current)
    units = []
    for part in parts:
        pieces = [part[i:i + max_chars] for i in range(0, len(part), max_chars)]
        for piece in pieces:
            unit = _Unit([block], piece, row=True)
            _take(unit, block, 0, len(block.text), 0)
            units.append(unit)
    return units


def _pack(units: list[_Unit], max_chars: int) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    size = 0
    for unit in units:
        fits = groups and size + 1 + len(unit.text) <= max_chars
        if fits and not unit.row and not groups[-1][-1].row:
            groups[-1].append(unit)
            size += 1 + len(unit.text)
        else:
            groups.append([unit])
            size = len(unit.text)
    return groups


def _make_chunk(group: list[_Unit], meta: DocumentMeta, index: int) -> Chunk:
    blocks = [block for unit in group for block in unit.blocks]
    first = blocks[0]
    text = "\n".join(unit.text for unit in group)
    pages: Marks = []
    paragraphs: Marks = []
    offset = 0
    for unit in group:
        pages += [(offset + at, page) for at, page in unit.pages]
        paragraphs += [(offset + at, number) for at, number in unit.paragraphs]
        offset += len(unit.text) + 1
    page_spans = merge_marks(pages)
    content_hash = hashlib.sha256(
        f"{first.section}\x1f{first.heading}\x1f{text}".encode()).hexdigest()
    return Chunk(
        chunk_id=f"{meta.document}{'@' + meta.edition if meta.edition else ''}:{index:04d}:"
                 f"{content_hash[:10]}",
        edition=meta.edition,
        document=meta.document,
        title=meta.title,
        title_en=meta.title_en,
        region=meta.region,
        doc_type=meta.doc_type,
        section=first.section,
        heading=first.heading,
        page=page_spans[0][1] if page_spans else first.page,
        line_start=min(block.line_start for block in blocks),
        line_end=max(block.line_end for block in blocks),
        char_start=min(block.char_start for block in blocks),
        char_end=max(block.char_end for block in blocks),
        text=text,
        content_hash=content_hash,
        page_spans=page_spans,
        ocr_pages=sorted({page for block in blocks for page in block.ocr_pages
                          if any(page == span_page for _, span_page in page_spans)}),
        paragraph_spans=merge_marks(paragraphs),
        passage="table-row" if all(unit.row for unit in group) else "text",
    )
