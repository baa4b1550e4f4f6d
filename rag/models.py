"""Typed objects that cross module boundaries; `Answer` is the public JSON contract."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from rag.text.sentences import split_sentences


class DocumentMeta(BaseModel):
    """What we know about a document before reading it (from the manifest or its name)."""

    document: str = Field(description="Stable id: the file name without extension.")
    title: str
    title_en: str = Field("", description="The document's English title, where it has one: "
                          "a statute's official translation ('Patient Safety Act').")
    region: str = ""
    doc_type: str = ""
    year: int | None = None
    source: str = ""
    edition: str = Field("", description="Edition label; '' for a document's only edition.")
    valid_from: date | None = Field(None, description="Giltig från (inclusive).")
    valid_to: date | None = Field(None, description="Giltig till (exclusive: the day it ceased).")
    supersedes: str = Field("", description="Manifest: the file stem of the edition this one "
                            "replaces (it then belongs to that document).")


class Chunk(BaseModel):
    """One retrievable passage with everything needed to cite it."""

    chunk_id: str
    document: str
    title: str
    region: str = ""
    doc_type: str = ""
    section: str = Field("", description="Section number, e.g. 1.2.3 (empty if none).")
    heading: str = Field("", description="Section heading text.")
    page: int | None = None
    line_start: int = 0
    line_end: int = 0
    char_start: int = 0
    char_end: int = 0
    text: str
    content_hash: str
    page_spans: list[tuple[int, int]] = Field(
        default_factory=list, description="(offset in text, page) where each page begins.")
    ocr_pages: list[int] = Field(default_factory=list, description="Pages read by OCR.")
    paragraph_spans: list[tuple[int, int]] = Field(
        default_factory=list, description="(offset in text, paragraph) in Word documents.")
    passage: Literal["text", "table-row"] = "text"
    instructions: list[str] = Field(
        default_factory=list, description="Sentences addressing a reader or an AI "
        "('ignorera tidigare instruktioner'): flagged for the owner, never used as evidence.")
    short_title: str = Field("", description="Short name for citations, e.g. HSL.")
    title_en: str = Field("", description="English title, e.g. Patient Safety Act.")
    edition: str = ""
    status: str = Field("", description="SFS paragraph status: ikraft, upphord, upphavd.")
    valid_from: date | None = None
    valid_to: date | None = Field(None, description="Exclusive: the day it ceased.")
    amended_by: str = Field("", description="SFS number of the act that gave this wording.")
    renumbered_to: str = Field("", description="A statute paragraph renumbered on valid_to: "
                               "its number from then on (SFS 'Ny beteckning'), e.g. '8 kap. 9 §'.")

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to)

    @property
    def section_label(self) -> str:
        return " ".join(part for part in (self.section, self.heading) if part)

    def page_at(self, offset: int) -> int | None:
        """The page the character at `offset` of the text is on."""
        return span_at(self.page_spans, offset, self.page)

    def paragraph_at(self, offset: int) -> int | None:
        return span_at(self.paragraph_spans, offset, None)

    def sentences(self) -> list[str]:
        """The text's sentences; a table row is one, since its cells mean something only
        together."""
        return [self.text] if self.passage == "table-row" else split_sentences(self.text)


def span_at(spans: list[tuple[int, int]], offset: int, default: int | None) -> int | None:
    """The value of the last (start, value) span starting at or before `offset`."""
    found = default
    for start, value in spans:
        if start > offset:
            break
        found = value
    return found


class Filters(BaseModel):
    region: str | None = None
    doc_type: str | None = None
    document: str | None = None
    as_of: date | None = Field(None, description="Answer as of this date (default: today).")

    def matches(self, chunk: Chunk) -> bool:
        return (
            (not self.region or chunk.region == self.region)
            and (not self.doc_type or chunk.doc_type == self.doc_type)
            and (not self.document or chunk.document == self.document)
        )

    @property
    def is_empty(self) -> bool:
        return not (self.region or self.doc_type or self.document)


class SearchHit(BaseModel):
    """A ranked passage; ranks are 1-based and None when a retriever did not return it."""

    chunk: Chunk
    score: float
    bm25_rank: int | None = None
    dense_rank: int | None = None
    dense_similarity: float | None = None


class Citation(BaseModel):
    n: int
    document: str
    title: str
    region: str
    section: str
    heading: str = ""
    page: int | None
    lines: str = ""
    quote: str
    chunk_id: str
    score: float
    ocr: bool = Field(False, description="The quoted page was read by OCR.")
    paragraph: int | None = Field(None, description="Paragraph (stycke) in a Word document.")
    reference: str = Field("", description="How a lawyer cites it, e.g. 'HSL 7 kap. 3 §'.")
    edition: str = ""
    valid_from: date | None = None
    valid_to: date | None = None
    validity: str = Field("", description="E.g. 'gäller från 2026-01-01', "
                          "'upphörde 2026-01-01'.")
    current: bool = Field(True, description="In force on the answer's as-of date.")


NOT_STATED = "Anges inte i regionens dokument"


class CompareRow(BaseModel):
    """One region's cell of a comparison: its own cited answer, or "not stated"."""

    region: str
    stated: bool
    requirement: str = Field("", description="The rule in a few words, verbatim from the "
                             "quote (a number with its unit, or a short rule); empty if none.")
    answer: str = Field(description="The region's verbatim answer with [n] markers, or "
                        f"\"{NOT_STATED}\".")
    quote: str = Field("", description="The first cited passage's quoted sentences.")
    citations: list[Citation] = Field(default_factory=list)
    nearest: list[Citation] = Field(default_factory=list,
                                    description="The region's closest passages when not stated.")
    notice: str | None = None


class Comparison(BaseModel):
    question: str
    asked: str = Field(description="The question each region was asked (region names and "
                       "comparison words removed).")
    regions: list[str]
    rows: list[CompareRow]
    notice: str | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)


class Answer(BaseModel):
    question: str
    answer: str
    refused: bool
    language: Literal["sv", "en"] = "sv"
    citations: list[Citation] = Field(default_factory=list)
    nearest: list[Citation] = Field(default_factory=list,
                                    description="Closest passages when the answer is refused.")
    generated: bool = False
    verified: bool = True
    fallback: Literal["extractive"] | None = None
    notice: str | None = None
    as_of: date | None = Field(None, description="The date the answer applies to.")
    timings_ms: dict[str, float] = Field(default_factory=dict)
    comparison: Comparison | None = Field(
        None, description="Set when the question asked for several regions: one cited row "
        "per region (see POST /api/compare).")
    interpreted_as: str | None = Field(
        None, description="A follow-up question as it was answered, rewritten from the "
        "conversation ('Och för BVC?' -> 'Hur mycket läkartid ska BVC ha?').")
    clarify: bool = Field(
        False, description="True when the answer is a question back: a follow-up ('Och för "
        "BVC?') with no topic of its own and nothing earlier in the conversation to read it "
        "from. `refused` is then true too, but nothing was looked up.")


class HistoryTurn(BaseModel):
    """An earlier question of the conversation and the answer it got."""

    question: str = Field(max_length=2000)
    answer: str = Field("", max_length=20000)


class DocumentInfo(BaseModel):
    document: str
    title: str
    region: str
    doc_type: str
    year: int | None
    source: str
    path: str
    chunks: int
    ingested_at: str
    file_hash: str
    editions: int = 1


class IngestFailure(BaseModel):
    path: str
    reason: str


class IngestReport(BaseModel):
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    failed: list[IngestFailure] = Field(default_factory=list)
    chunks_written: int = 0
    embedded: int = 0
    seconds: float = 0.0
    ocr_pages: dict[str, list[int]] = Field(default_factory=dict,
                                            description="Pages read by OCR, per document.")
    skipped_pages: dict[str, list[int]] = Field(
        default_factory=dict, description="Pages without text that could not be read.")
    notes: list[str] = Field(default_factory=list, description="What the readers reported.")

    @property
    def ok(self) -> bool:
        return not self.failed
