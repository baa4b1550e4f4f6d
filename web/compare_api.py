"""POST /api/compare: one question per region, as JSON, CSV or a Markdown table.

No `from __future__ import annotations` (as in web.api): FastAPI must see real classes.
"""

from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Query
from fastapi.params import Depends
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ingest.service import Styrdok
from rag.answer.compare_table import to_csv, to_markdown
from rag.models import Comparison
from web.errors import ApiError, error_responses

Format = Literal["json", "csv", "md"]
MAX_REGIONS = 50
MEDIA = {"csv": "text/csv; charset=utf-8", "md": "text/markdown; charset=utf-8"}
COMPARE_DOC = (
    "The question answered once per region, each from that region's documents alone and "
    "under the same evidence and refusal rules as /ask: a cell is the region's cited verbatim "
    "answer or \"Anges inte i regionens dokument\" with its nearest passage. `regions` "
    "limits the rows (names as in the documents' metadata; \"jamtland\" finds \"Region "
    "Jämtland Härjedalen\"); without it the regions the question names are compared, else "
    "all. `?format=csv|md` (or `Accept: text/csv` / `text/markdown`) returns the table.")


def chosen_format(format_query: Format | None, accept: str | None) -> Format:
    if format_query is not None:
        return format_query
    accepted = (accept or "").lower()
    if "text/csv" in accepted:
        return "csv"
    if "text/markdown" in accepted:
        return "md"
    return "json"


def add_compare_route(api: FastAPI, service: Styrdok, question_field: Any,
                      read: list[Depends], read_errors: tuple[int, ...]) -> None:
    class CompareRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")

        question: str = question_field
        regions: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
            None, max_length=MAX_REGIONS, description="Only these regions, in this order.")

    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "The comparison (JSON), or its table as CSV or Markdown.",
              "content": {"text/csv": {"schema": {"type": "string"}},
                          "text/markdown": {"schema": {"type": "string"}}}},
        **error_responses(400, *read_errors, 422)}

    @api.post("/compare", response_model=Comparison, dependencies=read, tags=["questions"],
              description=COMPARE_DOC, responses=responses)
    def compare(
        request: CompareRequest,
        format: Annotated[Format | None, Query(description="json (default), csv or md.")]
        = None,
        accept: Annotated[str | None, Header()] = None,
    ) -> Comparison | Response:
        try:
            comparison = service.compare(request.question, request.regions)
        except ValueError as error:
            raise ApiError(422, "invalid_request", str(error)) from error
        kind = chosen_format(format, accept)
        if kind == "json":
            return comparison
        body = to_csv(comparison) if kind == "csv" else to_markdown(comparison)
        return PlainTextResponse(body, media_type=MEDIA[kind], headers={
            "Content-Disposition": f'attachment; filename="jamforelse.{kind}"'})
