"""Typed objects that cross module boundaries; `Answer` is the public JSON contract."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DocumentMeta(BaseModel):
    """What we know about a document before reading it (from the manifest or its name)."""

    document: str = Field(description="Stable id: the file name without extension.")
    title: str
    region: str = ""
    doc_type: str = ""
    year: int | None = None
    source: str = ""


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
    instructions: list[str] = Field(
        default_factory=list, description="Sentences addressing a reader or an AI "
        "('ignorera tidigare instruktioner'): flagged for the owner, never used as evidence.")

    @property
    def section_label(self) -> str:
        return " ".join(part for part in (self.section, self.heading) if part)


class Filters(BaseModel):
    region: str | None = None
    doc_type: str | None = None
    document: str | None = None

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
    timings_ms: dict[str, float] = Field(default_factory=dict)
    interpreted_as: str | None = Field(
        None, description="A follow-up question as it was answered, rewritten from the "
        "conversation ('Och för BVC?' -> 'Hur mycket läkartid ska BVC ha?').")


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

    @property
    def ok(self) -> bool:
        return not self.failed
