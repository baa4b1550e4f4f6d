"""The staff UI in a real browser: Debian's chromium driven by Playwright over loopback.

Needs /usr/bin/chromium (`apt-get install -y chromium`; `make test` installs it).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from web_fixtures import API_KEY, ARTIFACTS, REPO, make_service, running_server

from ingest.manifest import load_manifest
from ingest.service import Styrdok

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VARMLAND = "varmland_forfragningsunderlag-vardval-vardcentral-del2"
BMM_QUESTION = "Hur mycket läkartid ska finnas på BMM?"
ANSWER_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Styrdok]]:
    """The whole app over an index holding the real Värmland document (about 15–60 s)."""
    service = make_service(tmp_path_factory.mktemp("ui") / "data")
    corpus = REPO / "corpus"
    report = service.ingest([corpus / f"{VARMLAND}.txt"], metadata=load_manifest(corpus)[VARMLAND])
    assert report.ok, report.failed
    with running_server(service) as base:
        yield base, service


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `apt-get update && apt-get install -y chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, ui: tuple[str, Styrdok]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 1300}, locale="sv-SE")
    page = context.new_page()
    page.goto(ui[0] + "/")
    expect(page.locator("#sd-question textarea")).to_be_editable(timeout=30_000)
    yield page
    context.close()


def ask(page: Page, question: str) -> None:
    page.locator("#sd-question textarea").fill(question)
    page.locator("#sd-ask").click()


def feedback_rows(service: Styrdok, question: str) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(service.settings.feedback_path) as db:
        return db.execute("SELECT rating, comment, citations, channel FROM feedback "
                          "WHERE question = ? ORDER BY id", (question,)).fetchall()


def test_bmm_answer_with_source_card_and_stored_thumbs_up(
        page: Page, ui: tuple[str, Styrdok]) -> None:
    ask(page, BMM_QUESTION)
    chat = page.locator("#sd-chat")
    expect(chat).to_contain_text("3 timmar per vecka", timeout=ANSWER_TIMEOUT_MS)
    expect(chat).to_contain_text("[1]")

    card = page.locator('#sd-sources details.sd-card[data-section="1.2.3"]').first
    expect(card).to_contain_text("1.2.3")
    expect(card).to_contain_text("Förfrågningsunderlag Vårdval vårdcentral")
    expect(card).to_contain_text("Region Värmland")
    passage = card.locator(".sd-passage")
    expect(passage).to_be_hidden()
    card.locator("summary").click()
    expect(card).to_have_attribute("open", "")
    expect(passage).to_be_visible()
    mark = passage.locator("mark").first
    expect(mark).to_be_visible()
    expect(mark).to_contain_text("3 timmar per vecka för 100")
    # The quote sits inside its surrounding text, not alone.
    assert len(passage.inner_text()) > len(mark.inner_text()) + 100

    page.locator("#sd-comment textarea").fill("Tydligt och rätt")
    page.locator("#sd-thumbs-up").click()
    expect(page.locator("#sd-feedback-status")).to_contain_text("Tack")
    rows = feedback_rows(ui[1], BMM_QUESTION)
    assert len(rows) == 1
    rating, comment, citations, channel = rows[0]
    assert (rating, comment, channel) == ("up", "Tydligt och rätt", "ui")
    assert json.loads(citations)[0]["section"] == "1.2.3"

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-bmm.png"), full_page=True)


def test_refusal_is_clear_and_shows_nearest_passages(page: Page) -> None:
    ask(page, "Vad kostar parkeringen vid länssjukhuset på helger?")
    refusal = page.locator("#sd-sources .sd-refusal")
    expect(refusal).to_contain_text("Det framgår inte av dokumenten",
                                     timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#sd-sources details.sd-card")).not_to_have_count(0)
    expect(page.locator("#sd-chat")).to_contain_text("Närmaste avsnitt")


def test_markup_in_a_question_is_shown_as_text(page: Page) -> None:
    attack = ('<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> '
              "**BMM** [länk](javascript:alert(1)) läkartid")
    ask(page, attack)
    chat = page.locator("#sd-chat")
    expect(chat).to_contain_text("<script>window.__xss = 1</script>", timeout=ANSWER_TIMEOUT_MS)
    expect(chat).to_contain_text("**BMM** [länk](javascript:alert(1))")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#sd-chat img[src='x'], #sd-chat a[href^='javascript']").count() == 0


def test_narrow_screen_has_no_sideways_scrolling(browser: Browser,
                                                 ui: tuple[str, Styrdok]) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        page.goto(ui[0] + "/")
        expect(page.locator("#sd-question textarea")).to_be_editable(timeout=30_000)
        ask(page, BMM_QUESTION)
        card = page.locator('#sd-sources details.sd-card[data-section="1.2.3"]').first
        expect(card).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        card.locator("summary").click()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"page is {width}px wide on a 360px screen"
        box = card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    finally:
        context.close()


def test_owner_uploads_and_removes_a_document(page: Page, ui: tuple[str, Styrdok],
                                              tmp_path: Path) -> None:
    service = ui[1]
    page.get_by_role("tab", name="Dokument").click()
    table = page.locator("#sd-documents")
    expect(table).to_contain_text("Förfrågningsunderlag Vårdval vårdcentral")
    expect(table).to_contain_text("Region Värmland")

    upload = tmp_path / "Rutin för hembesök.txt"
    upload.write_text("2.1 Reseersättning\n\nReseersättning vid hembesök betalas med 42 kronor "
                      "per mil.\n", encoding="utf-8")
    page.get_by_text("Ladda upp dokument").click()
    page.locator("#sd-upload input[type=file]").set_input_files(str(upload))
    status = page.locator("#sd-documents-status")
    page.locator("#sd-owner-key input").fill("fel-nyckel")
    page.get_by_role("button", name="Ladda upp och läs in").click()
    expect(status).to_contain_text("Fel eller saknad ägarnyckel")
    assert "rutin-for-hembesok" not in {doc.document for doc in service.documents()}

    # The chosen file stays after a refusal: the owner fixes the key and tries again.
    page.locator("#sd-owner-key input").fill(API_KEY)
    page.get_by_role("button", name="Ladda upp och läs in").click()
    expect(status).to_contain_text("Inläst: Rutin för hembesök", timeout=ANSWER_TIMEOUT_MS)
    expect(table).to_contain_text("Rutin för hembesök")
    assert "rutin-for-hembesok" in {doc.document for doc in service.documents()}

    page.get_by_text("Ta bort dokument").click()
    chooser = page.locator("#sd-remove-choice input")
    chooser.click()
    chooser.fill("Rutin för hembesök")
    page.get_by_role("option", name="Rutin för hembesök (rutin-for-hembesok)").click()
    page.get_by_role("button", name="Ta bort", exact=True).click()
    expect(status).to_contain_text("Borttaget: rutin-for-hembesok")
    expect(table).not_to_contain_text("Rutin för hembesök")
    assert "rutin-for-hembesok" not in {doc.document for doc in service.documents()}


def test_evaluation_tab_shows_a_report_and_needs_the_owner_key(page: Page) -> None:
    page.get_by_role("tab", name="Utvärdering").click()
    report = page.locator("#sd-eval-report")
    expect(report).to_be_visible()
    expect(report).to_contain_text("utvärdering", ignore_case=True)
    page.get_by_role("button", name="Kör utvärdering").click()
    expect(page.get_by_text("Fel eller saknad ägarnyckel")).to_be_visible()
