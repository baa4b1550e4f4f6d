"""Versions in the staff UI, in a real browser (Debian chromium + Playwright): the source card
names the edition and its validity, the "Svar per datum" picker answers as of a date, and the
Dokument tab shows what changed between the editions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_helpers import ANSWER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, ask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from test_versions import TODAY, VARMLAND, write_corpus
from web_fixtures import make_service, running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
QUESTION = "Hur mycket läkartid ska BMM ha?"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("versions-ui")
    service = make_service(root / "data", today=TODAY)
    assert service.ingest([write_corpus(root / "corpus")]).ok
    with running_server(service) as url:
        yield url


@pytest.fixture
def page(base: str) -> Iterator[Page]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `apt-get update && apt-get install -y chromium`")
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                      args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1300}, locale="sv-SE")
        page.goto(base + "/")
        expect(page.locator("#sd-question textarea")).to_be_editable(timeout=30_000)
        yield page
        browser.close()


def test_answers_name_the_edition_and_follow_the_date_picker(page: Page) -> None:
    ask(page, QUESTION)
    expect(page.locator("#sd-chat")).to_contain_text("4 timmar per vecka",
                                                     timeout=ANSWER_TIMEOUT_MS)
    card = page.locator("#sd-chat .bot-row").last.locator("details.sd-card").first
    expect(card.locator(".sd-validity")).to_have_text("utgåva 2026 · gäller från 2026-01-01")

    page.get_by_text("Avgränsa till region eller dokumenttyp").click()
    picker = page.locator("#sd-as-of input").first
    picker.fill("2025-06-01")
    picker.press("Tab")
    ask(page, QUESTION)
    expect(page.locator("#sd-chat")).to_contain_text("3 timmar per vecka",
                                                     timeout=ANSWER_TIMEOUT_MS)
    newest_card = page.locator("#sd-chat .bot-row").last.locator("details.sd-card").first
    expect(newest_card.locator(".sd-validity")).to_have_text(
        "utgåva 2025 · gäller från 2025-01-01, upphör 2026-01-01")


def test_the_documents_tab_shows_what_changed(page: Page) -> None:
    page.get_by_role("tab", name="Dokument").click()
    page.get_by_text("Vad ändrades? (jämför utgåvor)").click()
    chooser = page.locator("#sd-changes-document input")
    chooser.click()
    chooser.fill("Förfrågningsunderlag")
    page.get_by_role("option", name=f"Förfrågningsunderlag Vårdval vårdcentral, del 2 ({VARMLAND})"
                     ).click()
    page.get_by_role("button", name="Visa ändringar").click()
    changes = page.locator("#sd-changes")
    expect(changes).to_contain_text("utgåva 2025 → 2026", timeout=ANSWER_TIMEOUT_MS)
    expect(changes.locator("del", has_text="3").first).to_be_visible()
    expect(changes.locator("ins", has_text="4").first).to_be_visible()
    expect(changes).to_contain_text("omnumrerat")
    expect(changes).to_contain_text("1.7 → 1.8 Fortbildning")
