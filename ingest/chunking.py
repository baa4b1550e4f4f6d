"""Structure-aware chunking: chunks never straddle sections, lists stay with their lead-in."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ingest.clean import Block
from rag.models import Chunk, DocumentMeta
from rag.text.sentences import ITEM_PREFIX, split_sentences


@dataclass
class _Unit:
    blocks: list[Block]
    text: str


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
    return _Unit(blocks, _list_text(lead.text if lead else "", items))


def _list_text(lead_text: str, items: list[Block]) -> str:
    lines = ([lead_text] if lead_text else []) + [ITEM_PREFIX + item.text for item in items]
    return "\n".join(lines)


def _paragraph_units(block: Block, max_chars: int) -> list[_Unit]:
    if len(block.text) <= max_chars:
        return [_Unit([block], block.text)]
    units: list[_Unit] = []
    current = ""
    for sentence in split_sentences(block.text):
        if current and len(current) + 1 + len(sentence) > max_chars:
            units.append(_Unit([block], current))
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        units.append(_Unit([block], current))
    return units


def _pack(units: list[_Unit], max_chars: int) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    size = 0
    for unit in units:
        if groups and size + 1 + len(unit.text) <= max_chars:
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
    content_hash = hashlib.sha256(
        f"{first.section}\x1f{first.heading}\x1f{text}".encode()).hexdigest()
    return Chunk(
        chunk_id=f"{meta.document}{'@' + meta.edition if meta.edition else ''}:{index:04d}:"
                 f"{content_hash[:10]}",
        edition=meta.edition,
        document=meta.document,
        title=meta.title,
        region=meta.region,
        doc_type=meta.doc_type,
        section=first.section,
        heading=first.heading,
        page=first.page,
        line_start=min(block.line_start for block in blocks),
        line_end=max(block.line_end for block in blocks),
        char_start=min(block.char_start for block in blocks),
        char_end=max(block.char_end for block in blocks),
        text=text,
        content_hash=content_hash,
    )
