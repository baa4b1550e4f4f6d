"""The intranet API over real HTTP: a uvicorn server on loopback over a real index."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import httpx
import pytest
from fastapi import FastAPI
from fpdf import FPDF
from web_fixtures import (
    API_KEY,
    SMALL_DOC_ID,
    SMALL_DOC_QUESTION,
    UNANSWERABLE_QUESTION,
    ingest_small_doc,
    make_service,
    running_server,
    serving,
)

from ingest.service import Styrdok
from rag.models import Answer
from web.errors import install_error_handlers
from web.uploads import upload_document_id

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {API_KEY}"}
WRONG = {"Authorization": "Bearer not-the-key"}
MAX_UPLOAD_MB = 1
MAX_QUESTION = 300
UPLOAD_TEXT = ("# Rutin för hembesök\n\n## Reseersättning\n\nReseersättning vid hembesök betalas "
               "med 42 kronor per mil till personalen.\n\n## Bil\n\nTjänstebil ska bokas i "
               "förväg via receptionen.\n")
UPLOAD_QUESTION = "Hur mycket reseersättning betalas vid hembesök?"


class Api:
    def __init__(self, base: str, service: Styrdok) -> None:
        self.base = base
        self.service = service
        self.http = httpx.Client(base_url=f"{base}/api", timeout=120)

    def documents(self) -> set[str]:
        return {doc.document for doc in self.service.documents()}

    def uploads(self) -> list[Path]:
        folder = self.service.settings.data_dir / "uploads"
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []

    def feedback_rows(self) -> list[tuple[Any, ...]]:
        path = self.service.settings.feedback_path
        with sqlite3.connect(path) as db:
            return db.execute("SELECT question, answer, rating, comment, citations, channel "
                              "FROM feedback ORDER BY id").fetchall()

    def upload(self, name: str, content: bytes, headers: dict[str, str] | None = AUTH,
               **form: str) -> httpx.Response:
        return self.http.post("/documents", headers=headers, data=form,
                              files={"file": (name, content, "application/octet-stream")})


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("api")
    service = make_service(root / "data", max_upload_mb=MAX_UPLOAD_MB,
                           max_question_chars=MAX_QUESTION)
    ingest_small_doc(service, root / "docs")
    with running_server(service) as base:
        api = Api(base, service)
        with api.http:
            yield api


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    if code:
        assert body["error"]["code"] == code, body


# --- reading -------------------------------------------------------------------------------

def test_health_reports_the_index(api: Api) -> None:
    body = api.http.get("/health").json()
    assert body["status"] == "ok"
    assert body["documents"] == 1
    assert body["chunks"] == sum(doc.chunks for doc in api.service.documents()) > 0


def test_ask_returns_the_answer_contract_with_citations(api: Api) -> None:
    response = api.http.post("/ask", json={"question": SMALL_DOC_QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(Answer.model_fields)
    answer = Answer.model_validate(body)
    assert not answer.refused
    assert "3 timmar per vecka" in answer.answer
    first = answer.citations[0]
    assert (first.n, first.document, first.section) == (1, SMALL_DOC_ID, "1.2.3")
    assert first.title == "Vårdval vårdcentral – testdokument"
    assert first.region == "Region Testland"
    assert "3 timmar" in first.quote and first.lines
    assert "[1]" in answer.answer


def test_ask_refuses_with_nearest_passages(api: Api) -> None:
    body = api.http.post("/ask", json={"question": UNANSWERABLE_QUESTION}).json()
    assert body["refused"] is True
    assert body["answer"].startswith("Det framgår inte av dokumenten")
    assert body["citations"] == []
    assert body["nearest"] and body["nearest"][0]["document"] == SMALL_DOC_ID


def test_ask_filters_limit_the_sources(api: Api) -> None:
    inside = api.http.post("/ask", json={"question": SMALL_DOC_QUESTION,
                                         "filters": {"region": "Region Testland"}}).json()
    outside = api.http.post("/ask", json={"question": SMALL_DOC_QUESTION,
                                          "filters": {"region": "Region Annanstans"}}).json()
    assert not inside["refused"] and inside["citations"][0]["section"] == "1.2.3"
    assert outside["refused"] and outside["nearest"] == []


def test_search_ranks_passages_with_metadata_and_scores(api: Api) -> None:
    response = api.http.get("/search", params={"q": "läkarinsats barnmorskemottagning", "k": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["k"] == 2 and body["mode"] == "hybrid"
    results = body["results"]
    assert 1 <= len(results) <= 2
    assert [r["rank"] for r in results] == list(range(1, len(results) + 1))
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    top = results[0]
    assert top["section"] == "1.2.3" and top["document"] == SMALL_DOC_ID
    assert top["region"] == "Region Testland" and top["doc_type"] == "förfrågningsunderlag"
    assert "3 timmar" in top["text"] and top["chunk_id"]


def test_search_filters_by_region_and_type(api: Api) -> None:
    hits = api.http.get("/search", params={"q": "hembesök", "type": "förfrågningsunderlag",
                                           "region": "Region Testland"}).json()["results"]
    none = api.http.get("/search", params={"q": "hembesök", "type": "tillsyn"}).json()["results"]
    assert hits and all(hit["doc_type"] == "förfrågningsunderlag" for hit in hits)
    assert none == []


def test_documents_lists_what_is_indexed_without_server_paths(api: Api) -> None:
    body = api.http.get("/documents").json()
    assert body["count"] == len(body["documents"]) == 1
    doc = body["documents"][0]
    assert doc["document"] == SMALL_DOC_ID and doc["chunks"] > 0 and doc["ingested_at"]
    assert doc["region"] == "Region Testland" and doc["doc_type"] == "förfrågningsunderlag"
    assert "path" not in doc and str(api.service.settings.data_dir) not in str(body)


# --- limits and errors ---------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"q": "BMM", "k": 0}, {"q": "BMM", "k": 51}, {"q": "BMM", "k": "tio"}, {}, {"q": ""},
    {"q": "   "}, {"q": "x" * (MAX_QUESTION + 1)}, {"q": "BMM", "mode": "magic"},
])
def test_search_rejects_bad_parameters(api: Api, params: dict[str, Any]) -> None:
    assert_error(api.http.get("/search", params=params), 422, "invalid_request")


@pytest.mark.parametrize("body", [
    {}, {"question": ""}, {"question": "   "}, {"question": "\x1c\u3000\n\t"},
    {"question": "x" * (MAX_QUESTION + 1)},
    {"question": 42}, {"question": "BMM?", "filters": {"region": ["a"]}},
    {"question": "BMM?", "unexpected": True}, ["BMM?"],
])
def test_ask_rejects_bad_bodies(api: Api, body: Any) -> None:
    assert_error(api.http.post("/ask", json=body), 422, "invalid_request")


def test_malformed_json_is_a_clean_422(api: Api) -> None:
    response = api.http.post("/ask", content=b'{"question": "BMM', headers={
        "content-type": "application/json"})
    assert_error(response, 422, "invalid_request")


def test_unknown_routes_and_methods_answer_in_json(api: Api) -> None:
    assert_error(api.http.get("/nothing-here"), 404, "not_found")
    assert_error(api.http.put("/documents"), 405, "method_not_allowed")


@pytest.mark.parametrize("path", ["/documents/finns-inte", "/documents/a%0Ab",
                                  "/documents/..%2F..%2Fcatalog.sqlite3"])
def test_delete_unknown_document_is_404(api: Api, path: str) -> None:
    assert_error(api.http.delete(path, headers=AUTH), 404, "not_found")
    assert api.documents() == {SMALL_DOC_ID}


def test_unexpected_errors_are_500_without_details() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/ok")
    def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret connection string postgres://user:pw@db")

    with serving(app, health_path="/ok") as base:
        response = httpx.get(f"{base}/boom")
    assert_error(response, 500, "internal_error")
    assert "secret" not in response.text and "RuntimeError" not in response.text


# --- auth ----------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [None, WRONG, {"Authorization": f"Basic {API_KEY}"}])
def test_writes_without_a_valid_key_are_401_and_change_nothing(
        api: Api, headers: dict[str, str] | None) -> None:
    documents, uploads, feedback = api.documents(), api.uploads(), api.feedback_rows()
    attempts = [
        api.upload("ny-rutin.txt", UPLOAD_TEXT.encode(), headers=headers),
        api.http.delete(f"/documents/{SMALL_DOC_ID}", headers=headers),
        api.http.post("/feedback", headers=headers,
                      json={"question": "q", "answer": "a", "rating": "up"}),
    ]
    for response in attempts:
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
    assert api.documents() == documents
    assert api.uploads() == uploads
    assert api.feedback_rows() == feedback


def test_reads_need_a_key_when_configured(tmp_path: Path) -> None:
    service = make_service(tmp_path / "data", require_key_for_reads=True)
    with running_server(service) as base, httpx.Client(base_url=f"{base}/api") as http:
        assert_error(http.get("/search", params={"q": "BMM"}), 401, "unauthorized")
        assert_error(http.post("/ask", json={"question": "BMM?"}, headers=WRONG), 401)
        assert_error(http.get("/documents"), 401)
        assert http.get("/search", params={"q": "BMM"}, headers=AUTH).status_code == 200
        assert http.get("/documents", headers=AUTH).json()["count"] == 0
        assert http.get("/health").status_code == 200


def test_without_configured_keys_writes_are_refused_not_open(tmp_path: Path) -> None:
    service = make_service(tmp_path / "data", api_keys=[])
    with running_server(service) as base, httpx.Client(base_url=f"{base}/api") as http:
        for headers in (None, AUTH, WRONG):
            response = http.post("/documents", headers=headers,
                                 files={"file": ("a.txt", b"1.1 Rubrik\n\nText.", "text/plain")})
            assert_error(response, 403, "writes_disabled")
            assert_error(http.post("/feedback", headers=headers,
                                   json={"question": "q", "rating": "up"}), 403)
        assert http.get("/documents").json()["count"] == 0
        assert not (tmp_path / "data" / "uploads").exists()


# --- uploads -------------------------------------------------------------------------------

def test_upload_ask_delete_round_trip(api: Api) -> None:
    response = api.upload("Rutin hembesök.md", UPLOAD_TEXT.encode(), title="Rutin för hembesök",
                          region="Region Testland", doc_type="rutin")
    assert response.status_code == 201, response.text
    uploaded = response.json()
    assert uploaded["status"] == "added" and uploaded["chunks"] > 0
    doc_id = uploaded["document"]
    assert doc_id == "rutin-hembesok"
    listed = {d["document"]: d for d in api.http.get("/documents").json()["documents"]}
    assert listed[doc_id]["title"] == "Rutin för hembesök"
    assert listed[doc_id]["doc_type"] == "rutin"

    answer = api.http.post("/ask", json={"question": UPLOAD_QUESTION}).json()
    assert not answer["refused"] and "42 kronor per mil" in answer["answer"]
    assert answer["citations"][0]["document"] == doc_id
    stored = api.service.settings.data_dir / "uploads" / "rutin-hembesok.md"
    assert stored.read_text(encoding="utf-8") == UPLOAD_TEXT

    assert api.http.delete(f"/documents/{doc_id}", headers=AUTH).json() == {
        "document": doc_id, "removed": True, "edition": None}
    assert doc_id not in api.documents() and not stored.exists()
    after = api.http.post("/ask", json={"question": UPLOAD_QUESTION}).json()
    assert all(c["document"] != doc_id for c in after["citations"] + after["nearest"])
    assert_error(api.http.delete(f"/documents/{doc_id}", headers=AUTH), 404)


def _pdf_bytes() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 6, "3.1 Läkemedelsgenomgång\n\nVårdcentralen ska erbjuda en fördjupad "
                   "läkemedelsgenomgång till patienter över 75 år med fler än fem läkemedel.")
    return bytes(pdf.output())


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("3.2 Läkemedelsgenomgång", level=1)
    document.add_paragraph("Vårdcentralen ska erbjuda en fördjupad läkemedelsgenomgång till "
                           "patienter över 75 år med fler än fem läkemedel.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "make"), [
    ("Läkemedel.pdf", _pdf_bytes), ("Läkemedel.docx", _docx_bytes),
    ("Läkemedel.txt", lambda: "3.3 Läkemedelsgenomgång\n\nFördjupad läkemedelsgenomgång för "
     "patienter över 75 år med fler än fem läkemedel.".encode("cp1252")),
])
def test_each_supported_format_is_ingested_and_searchable(api: Api, name: str, make: Any) -> None:
    response = api.upload(name, make())
    assert response.status_code == 201, response.text
    doc_id = response.json()["document"]
    assert doc_id == "lakemedel"
    hits = api.http.get("/search", params={"q": "läkemedelsgenomgång 75 år", "k": 3,
                                           "document": doc_id}).json()["results"]
    assert hits and "75 år" in hits[0]["text"]
    assert api.http.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 200
    assert api.uploads() == []


@pytest.mark.parametrize(("name", "content", "status", "code", "reason"), [
    ("rutin.exe", b"MZ\x90\x00", 415, "unsupported_media_type", "not accepted"),
    ("rutin.html", b"<p>hej</p>", 415, "unsupported_media_type", "not accepted"),
    ("utan-filandelse", b"text", 415, "unsupported_media_type", "not accepted"),
    ("tom.txt", b"", 400, "empty_file", "empty"),
    ("trasig.pdf", b"%PDF-1.4 this is not really a pdf", 400, "unreadable_document", "PDF"),
    ("binar.txt", bytes(range(256)) * 8, 400, "unreadable_document", "binary"),
    ("bara-blanka.md", b"   \n\n  \n", 400, "unreadable_document", "no text"),
    ("stor.txt", b"a" * (MAX_UPLOAD_MB * 1024 * 1024 + 10), 413, "payload_too_large", "MB"),
    ("jattestor.txt", b"a" * (3 * MAX_UPLOAD_MB * 1024 * 1024), 413, "payload_too_large", "MB"),
])
def test_bad_uploads_are_refused_and_leave_nothing_behind(
        api: Api, name: str, content: bytes, status: int, code: str, reason: str) -> None:
    documents = api.documents()
    response = api.upload(name, content)
    assert_error(response, status, code)
    assert reason in response.json()["error"]["message"]
    assert api.documents() == documents
    assert api.uploads() == []


def test_a_failed_reupload_keeps_the_previous_version(api: Api) -> None:
    assert api.upload("rutin-x.txt", b"1.1 Rutin\n\nDen gamla versionen.").status_code == 201
    stored = api.service.settings.data_dir / "uploads" / "rutin-x.txt"
    assert_error(api.upload("rutin-x.txt", bytes(range(256)) * 8, replace="true"), 400)
    assert stored.read_bytes() == b"1.1 Rutin\n\nDen gamla versionen."
    assert "rutin-x" in api.documents()
    assert api.http.delete("/documents/rutin-x", headers=AUTH).status_code == 200


@pytest.mark.parametrize(("name", "doc_id"), [
    ("../../../etc/passwd.txt", "passwd"),
    ("..\\..\\windows\\rutin.txt", "rutin"),
    ("/absolut/sökväg/Vård och omsorg.txt", "vard-och-omsorg"),
    ("Fo\u0308rlossning\u202e\u200b.txt", "forlossning"),  # NFD ö, RTL override, zero width
    ("....txt", upload_document_id("....txt")),  # nothing of the name left: a hashed id
    ("rutin;rm -rf $HOME.txt", "rutin-rm--rf-home"),
    ("<script>alert(1)</script>.md", "script"),
])
def test_upload_file_names_are_made_safe(api: Api, name: str, doc_id: str) -> None:
    response = api.upload(name, "1.1 Rubrik\n\nEn mening om säker filhantering.".encode())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["document"] == doc_id
    uploads = (api.service.settings.data_dir / "uploads").resolve()
    stored = [path.resolve() for path in api.uploads()]
    assert stored == [uploads / body["stored_as"]]
    assert body["stored_as"] == f"{doc_id}{Path(name).suffix}"
    assert api.http.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 200
    assert api.uploads() == []


# --- feedback ------------------------------------------------------------------------------

def test_feedback_is_stored_for_the_document_owners(api: Api) -> None:
    before = len(api.feedback_rows())
    citation = {"n": 1, "document": SMALL_DOC_ID, "section": "1.2.3"}
    response = api.http.post("/feedback", headers=AUTH, json={
        "question": SMALL_DOC_QUESTION, "answer": "3 timmar per vecka [1]", "rating": "down",
        "comment": "Saknar <b>BVC</b>", "citations": [citation]})
    assert response.status_code == 201 and response.json()["id"] > 0
    rows = api.feedback_rows()
    assert len(rows) == before + 1
    question, answer, rating, comment, citations, channel = rows[-1]
    assert (question, rating, comment, channel) == (SMALL_DOC_QUESTION, "down",
                                                    "Saknar <b>BVC</b>", "api")
    assert answer == "3 timmar per vecka [1]" and '"section": "1.2.3"' in citations


@pytest.mark.parametrize("body", [
    {"question": "q", "rating": "meh"}, {"rating": "up"}, {"question": "", "rating": "up"},
    {"question": "q", "rating": "up", "comment": "x" * 2001},
])
def test_invalid_feedback_is_422(api: Api, body: dict[str, Any]) -> None:
    before = len(api.feedback_rows())
    assert_error(api.http.post("/feedback", headers=AUTH, json=body), 422)
    assert len(api.feedback_rows()) == before


# --- documentation -------------------------------------------------------------------------

def test_openapi_documents_every_endpoint_and_the_bearer_scheme(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    assert {"/ask", "/search", "/documents", "/documents/{document}", "/feedback",
            "/health"} <= set(spec["paths"])
    assert spec["servers"] == [{"url": "/api"}]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    assert "413" in spec["paths"]["/documents"]["post"]["responses"]
    docs = api.http.get("/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text
    bare = httpx.get(f"{api.base}/api")
    assert bare.status_code == 307 and bare.headers["location"] == "/api/docs"
