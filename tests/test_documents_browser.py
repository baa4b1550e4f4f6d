"""The cited page one click away, in a real browser (Debian's chromium via Playwright): the
source card links to the original PDF, served by `GET /api/documents/{id}/file`, opened at
the cited page (`#page=N`), and that page of the served file holds the quote."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_helpers import chromium
from document_fixtures import table_body, write_pdf
from playwright.sync_api import Browser, expect
from web_fixtures import ARTIFACTS, make_service, running_server

from ingest.service import Styrdok
from rag.models import DocumentMeta

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCUMENT = "testland_lakarinsatser"
QUESTION = "Inom hur lång tid ska ett akut läkarbesök i hemmet ske?"  # a row on page 2
ANSWER_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("documents-browser")
    pdf = write_pdf(table_body(), folder / f"{DOCUMENT}.pdf")
    service: Styrdok = make_service(folder / "data")
    meta = DocumentMeta(document=DOCUMENT, title="Läkarinsatser per område",
                        region="Region Testland", doc_type="förfrågningsunderlag")
    report = service.ingest([pdf], metadata=meta)
    assert report.ok, report.failed
    with running_server(service) as base:
        yield base, pdf


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def test_the_source_card_opens_the_original_pdf_at_the_cited_page(
        browser: Browser, app: tuple[str, Path], tmp_path: Path) -> None:
    base, original = app
    context = browser.new_context(viewport={"width": 1100, "height": 1300}, locale="sv-SE",
                                  accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(base + "/")
        expect(page.locator("#sd-question textarea")).to_be_editable(timeout=30_000)
        page.locator("#sd-question textarea").fill(QUESTION)
        page.locator("#sd-ask").click()
        expect(page.locator("#sd-chat")).to_contain_text("inom 4 timmar",
                                                         timeout=ANSWER_TIMEOUT_MS)
        # Each answer carries its own source cards in its chat message.
        card = page.locator("#sd-chat .bot-row").last.locator("details.sd-card").first
        expect(card).to_contain_text("s. 2")
        card.locator("summary").click()
        link = card.locator("a.sd-original")
        expect(link).to_be_visible()
        expect(link).to_have_attribute("href", f"/api/documents/{DOCUMENT}/file#page=2")

        with context.expect_page() as opened, context.expect_event(
                "response", lambda response: "/file" in response.url) as loaded:
            link.click()
        viewer = opened.value
        viewer.wait_for_load_state()
        assert viewer.url == f"{base}/api/documents/{DOCUMENT}/file#page=2"
        response = loaded.value
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith("inline")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-original-link.png"), full_page=True)
    finally:
        context.close()

    # What the browser opened is the original PDF, and its page 2 holds the quoted row.
    served = httpx.get(f"{base}/api/documents/{DOCUMENT}/file", timeout=30)
    assert served.headers["content-type"] == "application/pdf"
    assert served.content == original.read_bytes()
    copy = tmp_path / "served.pdf"
    copy.write_bytes(served.content)
    page_two = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(copy), "-"],
                              capture_output=True, text=True, check=True).stdout
    assert re.search(r"Akut läkarbesök i hemmet", page_two)
