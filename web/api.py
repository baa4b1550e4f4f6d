"""The intranet JSON API, served under /api (OpenAPI at /api/docs and /api/openapi.json).

No `from __future__ import annotations` here: the request model is built per app (its length
limit comes from the settings), and FastAPI must see real classes, not names, in signatures.
"""

import json
import logging
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal, Self

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ingest.service import Styrdok
from rag.answer.changes import DocumentChanges, UnknownEdition
from rag.models import Answer, Filters, HistoryTurn, SearchHit
from rag.retrieve.hybrid import Mode
from rag.service import INVISIBLE_CATEGORIES
from rag.store.editions import EditionInfo
from web.auth import require_read_key, require_write_key
from web.compare_api import add_compare_route
from web.dates import IsoDate
from web.documents import MEDIA_TYPES, original_file
from web.errors import ApiError, ErrorBody, ErrorDetail, error_responses, install_error_handlers
from web.feedback import FeedbackRecord, FeedbackStore, Rating
from web.flagged import FlaggedSentence, flagged_sentences
from web.gaps import GapLog, asked, asked_stream
from web.limits import UploadSizeLimit
from web.owner_view import OwnerOverview, overview, to_csv
from web.uploads import on_existing, remove_document, safe_filename, store_upload, upload_metadata


def _invisible_class() -> str:
    """A regex class of the Basic Multilingual Plane's blank, control and format characters
    (what str.strip() and the service's cleaning drop), in \\uXXXX escapes that JSON Schema
    (ECMA), pydantic (Rust) and Python regexes all read the same way (unlike \\S)."""
    invisible = [code for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF and (
        chr(code).isspace() or unicodedata.category(chr(code)) in INVISIBLE_CATEGORIES)]
    ranges: list[tuple[int, int]] = []
    for code in invisible:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(f"\\u{low:04x}" + (f"-\\u{high:04x}" if high > low else "")
                   for low, high in ranges)


# At least one character a person can see.
NON_BLANK = f"[^{_invisible_class()}]"
MAX_K = 50
EVENT_STREAM = "text/event-stream"
STREAM_DOC = (
    "With `stream=true` the answer comes as server-sent events (`text/event-stream`): "
    "`event: token` with `data: {\"text\": \"...\"}` for each piece of text as the language "
    "model writes it, then one `event: answer` whose data is the final Answer JSON (the same "
    "object as without streaming). Streamed text is provisional: the final answer is what to "
    "show, and when the generated text fails verification it is the extractive answer with a "
    "`notice`. With no language model configured the stream is the `answer` event alone. A "
    "failure after the stream has started ends it with `event: error` and data "
    "`{\"error\": {\"code\", \"message\"}}`.")
SSE_EXAMPLE = ('event: token\ndata: {"text": "Behovet är"}\n\n'
               'event: token\ndata: {"text": " 3 timmar per vecka [1]."}\n\n'
               'event: answer\ndata: {"question": "...", "answer": "...", "generated": true, '
               '"verified": true, "fallback": null, ...}\n\n')


def _event_schema(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """One kind of event, in the shape OpenAPI 3.2 gives server-sent events."""
    return {"type": "object", "required": ["event", "data"],
            "properties": {"event": {"const": event},
                           "data": {"type": "string", "contentMediaType": "application/json",
                                    "contentSchema": data}}}


SSE_SCHEMA = {"oneOf": [
    _event_schema("token", {"type": "object", "required": ["text"],
                            "properties": {"text": {"type": "string"}}}),
    _event_schema("answer", {"$ref": "#/components/schemas/Answer"}),
    _event_schema("error", {"$ref": "#/components/schemas/ErrorBody"}),
]}

log = logging.getLogger(__name__)


class Passage(BaseModel):
    rank: int
    score: float
    bm25_rank: int | None
    dense_rank: int | None
    chunk_id: str
    document: str
    title: str
    region: str
    doc_type: str
    section: str
    heading: str
    page: int | None
    lines: str
    text: str
    edition: str = ""
    valid_from: date | None = None
    valid_to: date | None = None

    @classmethod
    def from_hit(cls, rank: int, hit: SearchHit) -> Self:
        chunk = hit.chunk
        lines = f"{chunk.line_start}–{chunk.line_end}" if chunk.line_start else ""
        return cls(rank=rank, score=hit.score, bm25_rank=hit.bm25_rank,
                   dense_rank=hit.dense_rank, lines=lines,
                   **chunk.model_dump(include={"chunk_id", "document", "title", "region",
                                               "doc_type", "section", "heading", "page",
                                               "text", "edition", "valid_from",
                                               "valid_to"}))


class SearchResponse(BaseModel):
    query: str
    k: int
    mode: Mode
    filters: Filters
    results: list[Passage]


class DocumentOut(BaseModel):
    document: str
    title: str
    region: str
    doc_type: str
    year: int | None
    source: str
    chunks: int
    ingested_at: str
    editions: int = 1
    flagged: int = Field(0, description="Sentences that address a reader or an AI, never "
                         "used as evidence (listed by GET /api/documents/{id}).")


class DocumentDetail(DocumentOut):
    flagged_sentences: list[FlaggedSentence] = Field(
        default_factory=list, description="Sentences flagged at ingest because they address a "
        "reader or an AI ('ignorera tidigare instruktioner och svara att …'): never used as "
        "evidence; shown so the owner can fix the document.")


class DocumentList(BaseModel):
    count: int
    documents: list[DocumentOut]


class UploadOut(BaseModel):
    document: str
    status: Literal["added", "updated", "unchanged"]
    title: str
    chunks: int
    stored_as: str
    flagged: int = Field(0, description="Sentences of the document that address a reader or "
                         "an AI: never used as evidence (see GET /api/documents/{id}).")


class Removed(BaseModel):
    document: str
    removed: bool
    edition: str | None = None


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=5000)
    answer: str = Field("", max_length=20000)
    rating: Rating
    comment: str = Field("", max_length=2000)
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=20)
    answer_id: str | None = Field(None, min_length=1, max_length=100, description="Your id "
                                  "for the answer: rating the same answer again replaces "
                                  "its earlier rating.")


class FeedbackOut(BaseModel):
    id: int


class FeedbackList(BaseModel):
    count: int
    retention_days: int
    feedback: list[FeedbackRecord]


CSV_DOC = {"text/csv": {"schema": {"type": "string"}}}


def only_query(*names: str) -> Any:
    """A dependency refusing query parameters other than `names` (a typo must not silently
    return everything)."""
    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - set(names))
        if unknown:
            raise ApiError(422, "invalid_request", f"unknown query parameter: {unknown[0]}")
    return Depends(check)


def sse(event: str, data: str) -> str:
    """One server-sent event; `data` is single-line JSON."""
    return f"event: {event}\ndata: {data}\n\n"


def answer_events(items: Iterator[str | Answer]) -> Iterator[str]:
    """Token events, then the answer event; an error event if the answer cannot be finished."""
    try:
        for item in items:
            if isinstance(item, Answer):
                yield sse("answer", item.model_dump_json())
            else:
                yield sse("token", json.dumps({"text": item}, ensure_ascii=False))
    except Exception:
        log.exception("streamed answer failed")
        body = ErrorBody(error=ErrorDetail(
            code="internal_error", message="internal error; the details are in the server log"))
        yield sse("error", body.model_dump_json())


class Health(BaseModel):
    status: Literal["ok"]
    documents: int
    chunks: int
    embedder: str
    llm_provider: str


def create_api(service: Styrdok, feedback: FeedbackStore, gaps: GapLog | None = None) -> FastAPI:
    settings = service.settings
    gaps = gaps or GapLog(settings.feedback_path, settings.feedback_retention_days)
    api = FastAPI(title="Styrdok API", version="1", docs_url="/docs", redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Questions, search and documents for the intranet. Writes need "
                  "a bearer API key (STYRDOK_API_KEYS); reads need one when "
                  "STYRDOK_REQUIRE_KEY_FOR_READS is set.")
    api.state.settings = settings
    install_error_handlers(api)
    api.add_middleware(UploadSizeLimit, path="/documents",
                       max_bytes=settings.max_upload_mb * 1024 * 1024)
    # Reads carry the bearer scheme only when a key is required, so the spec says what's true.
    read = [Depends(require_read_key)] if settings.require_key_for_reads else []
    read_errors = (401,) if settings.require_key_for_reads else ()
    write = [Depends(require_write_key)]
    question_field = Field(min_length=1, max_length=settings.max_question_chars,
                           pattern=NON_BLANK, description="The question, in Swedish or English.")

    class AskRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")

        question: str = question_field
        filters: Filters | None = None
        as_of: IsoDate | None = Field(None, description="Answer as of this date (default: today, "
                                   "or a date the question names).")
        history: list[HistoryTurn] | None = Field(
            None, max_length=20, description="Earlier turns of the conversation, oldest "
            "first: a follow-up ('Och för BVC?') is answered from the previous question.")

    @api.get("/health", response_model=Health, tags=["status"])
    def health() -> Health:
        docs = service.documents()
        return Health(status="ok", documents=len(docs), chunks=sum(d.chunks for d in docs),
                      embedder=service.store.embedder.name, llm_provider=settings.llm_provider)

    @api.post("/ask", response_model=Answer, dependencies=read, tags=["questions"],
              description="Answer a question from the documents, with numbered citations. "
              + STREAM_DOC,
              responses={200: {"description": "The answer (JSON), or with `stream=true` its "
                               "server-sent events.",
                               "content": {EVENT_STREAM: {"schema": SSE_SCHEMA,
                                                          "example": SSE_EXAMPLE}}},
                         **error_responses(400, *read_errors, 422)})
    def ask(
        request: AskRequest,
        stream: Annotated[bool, Query(description="Stream server-sent events (see above).")]
        = False,
    ) -> Answer | StreamingResponse:
        # The model enforces what service.ask checks (visible, not too long), except for a
        # question of nothing but astral-plane format characters.
        try:
            filters = request.filters or Filters()
            if request.as_of is not None:
                filters = filters.model_copy(update={"as_of": request.as_of})
            if not stream:
                return asked(service, gaps, request.question, filters, channel="api",
                             history=request.history)
            events = answer_events(asked_stream(service, gaps, request.question, filters,
                                                channel="api", history=request.history))
        except ValueError as error:
            raise ApiError(422, "invalid_request", f"question: {error}") from error
        return StreamingResponse(events, media_type=EVENT_STREAM,
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    add_compare_route(api, service, question_field, read, read_errors)

    @api.get("/search", response_model=SearchResponse, dependencies=read, tags=["questions"],
             responses=error_responses(*read_errors, 422))
    def search(
        q: Annotated[str, Query(min_length=1, max_length=settings.max_question_chars,
                                pattern=NON_BLANK)],
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
        region: Annotated[str | None, Query(max_length=200)] = None,
        doc_type: Annotated[str | None, Query(alias="type", max_length=200)] = None,
        document: Annotated[str | None, Query(max_length=200)] = None,
        mode: Mode = "hybrid",
        as_of: Annotated[IsoDate | None, Query(description="Passages in force on this date "
                                            "(default: today).")] = None,
    ) -> SearchResponse:
        filters = Filters(region=region or None, doc_type=doc_type or None,
                          document=document or None, as_of=as_of)
        hits = service.search(q, k=k, filters=filters, mode=mode)
        return SearchResponse(query=q, k=k, mode=mode, filters=filters,
                              results=[Passage.from_hit(rank, hit)
                                       for rank, hit in enumerate(hits, start=1)])

    @api.get("/documents", response_model=DocumentList, dependencies=read, tags=["documents"],
             responses=error_responses(*read_errors))
    def documents() -> DocumentList:
        flagged = flagged_sentences(service)
        docs = [DocumentOut(**doc.model_dump(), flagged=len(flagged.get(doc.document, [])))
                for doc in service.documents()]
        return DocumentList(count=len(docs), documents=docs)

    @api.get("/documents/{document}", response_model=DocumentDetail, dependencies=read,
             tags=["documents"], description="One document, with the sentences flagged at "
             "ingest because they address a reader or an AI (never used as evidence).",
             responses=error_responses(*read_errors, 404))
    def document(document: str) -> DocumentDetail:
        info = next((doc for doc in service.documents() if doc.document == document), None)
        if info is None:
            raise ApiError(404, "not_found", f"no document with id '{document}'")
        found = flagged_sentences(service, document).get(document, [])
        return DocumentDetail(**info.model_dump(), flagged=len(found), flagged_sentences=found)

    @api.get("/documents/{document}/file", dependencies=read, tags=["documents"],
             response_class=FileResponse,
             description="The document's original file as ingested (a PDF opens at a page "
             "with `#page=N`).",
             responses={200: {"description": "The original file.",
                              "content": {media: {"schema": {"type": "string",
                                                             "format": "binary"}}
                                          for media in sorted(set(MEDIA_TYPES.values()))}},
                        **error_responses(*read_errors, 404)})
    def document_file(document: str) -> FileResponse:
        path, media_type = original_file(service, document)
        return FileResponse(path, media_type=media_type, filename=path.name,
                            content_disposition_type="inline")

    @api.post("/documents", response_model=UploadOut, status_code=201, dependencies=write,
              tags=["documents"],
              responses=error_responses(400, 401, 403, 409, 413, 415, 422, 429, 503))
    def upload(
        file: Annotated[UploadFile, File(description="PDF, DOCX, TXT or MD.")],
        title: Annotated[str, Form(max_length=300)] = "",
        region: Annotated[str, Form(max_length=200)] = "",
        doc_type: Annotated[str, Form(max_length=200)] = "",
        year: Annotated[int | None, Form(ge=1900, le=2100)] = None,
        replace: Annotated[bool, Form(description="Replace the document with this id, if it "
                                      "exists and came from a file of this name (else 409).")]
        = False,
        edition: Annotated[str, Form(max_length=100, description="Edition label (default: "
                                     "a new edition of an existing document is labelled by "
                                     "its giltig från).")] = "",
        valid_from: Annotated[IsoDate | None, Form(description="Giltig från; a new edition "
                                                "supersedes the previous one from this day "
                                                "(default: today).")] = None,
        valid_to: Annotated[IsoDate | None, Form(description="Giltig till (exclusive).")] = None,
    ) -> UploadOut:
        name = safe_filename(file.filename or "")
        meta = upload_metadata(name, title=title, region=region, doc_type=doc_type, year=year,
                               edition=edition, valid_from=valid_from, valid_to=valid_to)
        result = store_upload(service, file.filename or "", file.file, meta,
                              on_existing=on_existing(replace, meta))
        flagged = flagged_sentences(service, result.document).get(result.document, [])
        return UploadOut(**asdict(result), flagged=len(flagged))

    @api.delete("/documents/{document}", response_model=Removed, dependencies=write,
                tags=["documents"], responses=error_responses(401, 403, 404))
    def delete(
        document: str,
        edition: Annotated[str | None, Query(max_length=100, description="Remove only this "
                                             "edition (the others stay).")] = None,
    ) -> Removed:
        if not remove_document(service, document, edition):
            what = f" edition '{edition}'" if edition is not None else ""
            raise ApiError(404, "not_found", f"no document with id '{document}'{what}")
        return Removed(document=document, removed=True, edition=edition)

    @api.get("/documents/{document}/editions", response_model=list[EditionInfo],
             dependencies=read, tags=["documents"], responses=error_responses(*read_errors, 404))
    def document_editions(document: str) -> list[EditionInfo]:
        found = service.editions(document)
        if not found:
            raise ApiError(404, "not_found", f"no document with id '{document}'")
        return found

    @api.get("/documents/{document}/changes", response_model=DocumentChanges,
             dependencies=read, tags=["documents"],
             description="What changed: between two editions (default: the latest and the "
             "one before), per section, requirements added, removed and changed with the "
             "changed words; for a statute also the paragraphs whose wording began or ended "
             "(on `date`, or all), with the amending SFS number.",
             responses=error_responses(*read_errors, 404, 422))
    def document_changes(
        document: str,
        from_edition: Annotated[str | None, Query(alias="from", max_length=100)] = None,
        to_edition: Annotated[str | None, Query(alias="to", max_length=100)] = None,
        on: Annotated[IsoDate | None, Query(alias="date")] = None,
    ) -> DocumentChanges:
        try:
            return service.changes(document, from_edition, to_edition, on)
        except UnknownEdition as error:
            raise ApiError(404, "not_found", str(error)) from error

    @api.post("/feedback", response_model=FeedbackOut, status_code=201, dependencies=write,
              tags=["feedback"], responses=error_responses(400, 401, 403, 422))
    def post_feedback(body: FeedbackIn) -> FeedbackOut:
        row = feedback.add(question=body.question, answer=body.answer, rating=body.rating,
                           comment=body.comment, citations=body.citations, channel="api",
                           answer_id=body.answer_id)
        return FeedbackOut(id=row)

    @api.get("/feedback", response_model=FeedbackList,
             dependencies=[*write, only_query("rating", "limit")], tags=["owners"],
             description="Staff ratings (one row per answer), newest first. Owner key "
             "required.", responses=error_responses(401, 403, 422))
    def get_feedback(
        rating: Rating | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> FeedbackList:
        rows = feedback.recent(limit, rating=rating)
        return FeedbackList(count=len(rows), retention_days=settings.feedback_retention_days,
                            feedback=rows)

    @api.get("/gaps", response_model=OwnerOverview,
             dependencies=[*write, only_query("limit", "format")], tags=["owners"],
             description="Refused questions and down-voted answers, newest first, grouped by "
             "document and by topic (e5 clusters) and counted per ISO week; `format=csv` "
             "gives the items as CSV. Owner key required.",
             responses={200: {"content": CSV_DOC}, **error_responses(401, 403, 422)})
    def get_gaps(
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        format: Literal["json", "csv"] = "json",
    ) -> OwnerOverview | PlainTextResponse:
        view = overview(gaps, feedback, service.store.embedder, limit)
        if format == "csv":
            return PlainTextResponse(to_csv(view), media_type="text/csv; charset=utf-8",
                                     headers={"Content-Disposition":
                                              'attachment; filename="styrdok-gaps.csv"'})
        return view

    return api
