"""`GET /api/documents/{id}/file` over real HTTP: the original bytes with the right type,
the read key when one is required, and nothing outside what the catalog names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_readers import two_page_pdf
from web_fixtures import API_KEY, SMALL_DOC_ID, ingest_small_doc, make_service, running_server

from rag.models import DocumentMeta

pytestmark = pytest.mark.slow

PDF_ID = "region-test_krav"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    folder = tmp_path_factory.mktemp("file-endpoint")
    service = make_service(folder / "data")
    text_path = ingest_small_doc(service, folder / "docs")
    pdf = two_page_pdf(folder / "docs" / f"{PDF_ID}.pdf")
    report = service.ingest([pdf], metadata=DocumentMeta(document=PDF_ID, title="Krav"))
    assert report.ok, report.failed
    (folder / "docs" / "secret.txt").write_text("inte i katalogen", encoding="utf-8")
    with running_server(service) as base, httpx.Client(base_url=f"{base}/api",
                                                       timeout=30) as http:
        yield http, text_path


def test_a_pdf_is_served_inline_as_pdf(served: tuple[httpx.Client, Path]) -> None:
    http, text_path = served
    response = http.get(f"/documents/{PDF_ID}/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.content == (text_path.parent / f"{PDF_ID}.pdf").read_bytes()


def test_a_text_document_is_served_as_utf8_text(served: tuple[httpx.Client, Path]) -> None:
    http, text_path = served
    response = http.get(f"/documents/{SMALL_DOC_ID}/file")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == text_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("document", [
    "okänt-dokument", "..%2Fsecret", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "secret",
])
def test_unknown_ids_and_paths_are_not_found(served: tuple[httpx.Client, Path],
                                             document: str) -> None:
    http, _ = served
    response = http.get(f"/documents/{document}/file")
    assert response.status_code == 404
    assert "inte i katalogen" not in response.text and "root:" not in response.text


def test_a_removed_original_is_not_found(served: tuple[httpx.Client, Path],
                                         tmp_path: Path) -> None:
    http, text_path = served
    moved = tmp_path / "moved.txt"
    text_path.rename(moved)
    try:
        response = http.get(f"/documents/{SMALL_DOC_ID}/file")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    finally:
        moved.rename(text_path)


def test_reads_need_a_key_when_configured(tmp_path: Path) -> None:
    service = make_service(tmp_path / "data", require_key_for_reads=True)
    ingest_small_doc(service, tmp_path / "docs")
    with running_server(service) as base:
        url = f"{base}/api/documents/{SMALL_DOC_ID}/file"
        assert httpx.get(url, timeout=30).status_code == 401
        keyed = httpx.get(url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30)
        assert keyed.status_code == 200 and "Barnmorskemottagning" in keyed.text
