"""The UI's "Jämför regioner" in a real browser (Debian's chromium via Playwright): the table,
each row cited from its own region, and the CSV / Markdown downloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser_helpers import ANSWER_TIMEOUT_MS, chromium
from compare_fixtures import OTHER_DOC_ID, OTHER_REGION, VARMLAND_DOC_ID, corpus_and_other_region
from playwright.sync_api import Browser, Page, expect
from web_fixtures import ARTIFACTS, running_server

from rag.models import NOT_STATED

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "Hur mycket läkartid ska avsättas för boende på SÄBO?"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    service = corpus_and_other_region(tmp_path_factory.mktemp("compare-ui") / "data")
    with running_server(service) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 1300}, locale="sv-SE",
                                  accept_downloads=True)
    page = context.new_page()
    page.goto(base_url + "/")
    expect(page.locator("#sd-question textarea")).to_be_editable(timeout=30_000)
    yield page
    context.close()


def test_compare_toggle_shows_a_cited_row_per_region_and_downloads(page: Page, base_url: str,
                                                                   tmp_path: Path) -> None:
    page.locator("#sd-compare input[type=checkbox]").check()
    page.locator("#sd-question textarea").fill(QUESTION)
    page.locator("#sd-ask").click()
    table = page.locator("#sd-sources table.sd-compare-table")
    expect(table).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    varmland = table.locator('tr[data-region="Region Värmland"]')
    expect(varmland).to_have_attribute("data-stated", "true")
    expect(varmland).to_contain_text("minst 1 timme för 10 boende per vecka")
    expect(varmland).to_contain_text(VARMLAND_DOC_ID)
    other = table.locator(f'tr[data-region="{OTHER_REGION}"]')
    expect(other).to_contain_text("minst 2 timmar för 10 boende per vecka")
    expect(other).to_contain_text(OTHER_DOC_ID)
    jamtland = table.locator('tr[data-region="Region Jämtland Härjedalen"]')
    expect(jamtland).to_have_attribute("data-stated", "false")
    expect(jamtland).to_contain_text(NOT_STATED)
    documents = httpx.get(f"{base_url}/api/documents", timeout=60).json()["documents"]
    expect(table.locator("tbody tr")).to_have_count(len({doc["region"] for doc in documents}))

    download_csv = page.locator("#sd-compare-csv")
    expect(download_csv).to_be_visible()
    with page.expect_download() as info:
        download_csv.click()
    saved = tmp_path / "jamforelse.csv"
    info.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert {row["region"] for row in rows} >= {"Region Värmland", OTHER_REGION}
    assert next(row for row in rows if row["region"] == OTHER_REGION)["dokument"] == OTHER_DOC_ID
    with page.expect_download() as info:
        page.locator("#sd-compare-md").click()
    markdown = tmp_path / "jamforelse.md"
    info.value.save_as(markdown)
    assert "| Region Värmland | minst 1 timme för 10 boende per vecka |" in \
        markdown.read_text(encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-compare.png"), full_page=True)


def test_a_question_naming_regions_is_compared_without_the_toggle(page: Page) -> None:
    page.locator("#sd-question textarea").fill(
        "Hur skiljer sig läkartiden på BMM mellan Värmland och Exempelmark?")
    page.locator("#sd-ask").click()
    table = page.locator("#sd-sources table.sd-compare-table")
    expect(table.locator("tbody tr")).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
    expect(table).to_contain_text("3 timmar per vecka för 100")
    expect(table).to_contain_text("5 timmar per vecka för 100")
    expect(page.locator("#sd-chat")).to_contain_text("Region Exempelmark:")
    # An ordinary question afterwards hides the downloads again.
    page.locator("#sd-question textarea").fill("Hur mycket läkartid ska finnas på BMM?")
    page.locator("#sd-ask").click()
    expect(page.locator("#sd-chat .bot-row").last.locator("details.sd-card").first).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#sd-compare-csv")).to_be_hidden()


def test_markup_in_a_document_quote_stays_text_in_the_table(page: Page) -> None:
    page.locator("#sd-compare input[type=checkbox]").check()
    page.locator("#sd-question textarea").fill("<img src=x onerror=window.__x=1> läkartid BMM")
    page.locator("#sd-ask").click()
    expect(page.locator("#sd-sources table.sd-compare-table")).to_be_visible(
        timeout=ANSWER_TIMEOUT_MS)
    assert page.evaluate("window.__x") is None
    assert page.locator("#sd-sources img").count() == 0


def test_the_table_fits_a_narrow_screen(browser: Browser, base_url: str) -> None:
    # 390 px is the phone width the UI is built for (issue 12); Gradio's own page padding
    # leaves no room for its content below about 374 px.
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        page.goto(base_url + "/")
        expect(page.locator("#sd-question textarea")).to_be_editable(timeout=30_000)
        page.locator("#sd-compare input[type=checkbox]").check()
        page.locator("#sd-question textarea").fill(QUESTION)
        page.locator("#sd-ask").click()
        expect(page.locator("#sd-sources table.sd-compare-table")).to_be_visible(
            timeout=ANSWER_TIMEOUT_MS)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page is {width}px wide on a 390px screen"
    finally:
        context.close()
