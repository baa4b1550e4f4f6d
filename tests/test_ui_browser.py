"""The staff UI in a real browser: Debian's chromium driven by Playwright over loopback.

Needs /usr/bin/chromium (`make chromium`; `make test` installs it).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import ANSWER_TIMEOUT_MS, ask, chromium, open_page
from playwright.sync_api import Browser, Locator, Page, expect
from web_fixtures import API_KEY, ARTIFACTS, REPO, make_service, running_server

from ingest.manifest import load_manifest
from ingest.service import Styrdok

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VARMLAND = "varmland_forfragningsunderlag-vardval-vardcentral-del2"
BMM_QUESTION = "Hur mycket läkartid ska finnas på BMM?"
QUESTIONS = [BMM_QUESTION, "Vilka åldrar omfattas av gynekologisk cellprovtagning?",
             "Vad kostar parkeringen vid länssjukhuset på helger?"]


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
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, ui: tuple[str, Styrdok]) -> Iterator[Page]:
    page = open_page(browser, ui[0])
    yield page
    page.context.close()


def feedback_rows(service: Styrdok, question: str) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(service.settings.feedback_path) as db:
        return db.execute("SELECT rating, comment, citations, channel FROM feedback "
                          "WHERE question = ? ORDER BY id", (question,)).fetchall()


def section_card(answer: Locator, section: str) -> Locator:
    """An answer's source card for one section (Gradio's sanitiser drops data-* attributes
    in chat messages, so the card is found by its visible location line)."""
    return answer.locator("details.sd-card").filter(has_text=f"avsnitt {section} ").first


def newest_answer_is_in_view(page: Page) -> bool:
    """The start of the newest answer is inside both the chat's scroll box and the window."""
    return bool(page.evaluate("""() => {
      const rows = document.querySelectorAll('#sd-chat .bot-row');
      const last = rows[rows.length - 1].getBoundingClientRect();
      const box = document.querySelector('#sd-chat .bubble-wrap').getBoundingClientRect();
      return last.top >= box.top - 1 && last.top < box.bottom - 20 &&
             last.top >= 0 && last.top < window.innerHeight - 20;
    }"""))


def test_three_questions_then_the_newest_answer_is_in_view_and_a_reload_keeps_it_all(
        page: Page) -> None:
    for question in QUESTIONS:
        ask(page, question)
    answers = page.locator("#sd-chat .bot-row")
    expect(answers).to_have_count(3)
    assert newest_answer_is_in_view(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-three-questions.png"), full_page=True)
    expect(answers.last.locator(".sd-refusal")).to_contain_text("Det framgår inte av dokumenten")
    # Each answer keeps its own source cards: the first one's still opens on its quote.
    first_card = section_card(answers.first, "1.2.3")
    first_card.locator("summary").click()
    expect(first_card.locator(".sd-passage mark").first).to_contain_text("3 timmar per vecka")

    page.reload()
    expect(page.locator("#sd-question textarea")).to_be_editable(timeout=30_000)
    answers = page.locator("#sd-chat .bot-row")
    expect(answers).to_have_count(3, timeout=10_000)
    for question in QUESTIONS:
        expect(page.locator("#sd-chat .user-row").filter(has_text=question)).to_have_count(1)
    card = answers.nth(1).locator("details.sd-card").first
    card.locator("summary").click()
    expect(card.locator(".sd-passage mark").first).to_contain_text("23 och 64")
    page.locator("#sd-clear").click()
    expect(answers).to_have_count(0)


def test_bmm_answer_with_source_card_and_one_changeable_rating(
        page: Page, ui: tuple[str, Styrdok]) -> None:
    ask(page, BMM_QUESTION)
    answer = page.locator("#sd-chat .bot-row").last
    expect(answer).to_contain_text("3 timmar per vecka")
    expect(answer).to_contain_text("Sökt i alla regioner")
    card = section_card(answer, "1.2.3")
    expect(card).to_contain_text("Förfrågningsunderlag Vårdval vårdcentral")
    expect(card).to_contain_text("Region Värmland")
    passage = card.locator(".sd-passage")
    expect(passage).to_be_hidden()
    card.locator("summary").click()
    expect(passage).to_be_visible()
    mark = passage.locator("mark").first
    expect(mark).to_contain_text("3 timmar per vecka för 100")
    assert len(passage.inner_text()) > len(mark.inner_text()) + 100

    before = len(feedback_rows(ui[1], BMM_QUESTION))
    page.locator("#sd-comment textarea").fill("Tydligt och rätt")
    page.locator("#sd-thumbs-up").click()
    expect(page.locator("#sd-feedback-status")).to_contain_text("Tack")
    expect(page.locator("#sd-thumbs-up")).to_contain_text("✓")
    page.locator("#sd-thumbs-down").click()
    expect(page.locator("#sd-thumbs-down")).to_contain_text("✓")
    expect(page.locator("#sd-thumbs-up")).not_to_contain_text("✓")
    page.locator("#sd-thumbs-down").click()
    expect(page.locator("#sd-feedback-status")).to_contain_text("👎")
    rows = feedback_rows(ui[1], BMM_QUESTION)
    assert len(rows) == before + 1, rows  # three clicks, one answer, one row
    rating, comment, citations, channel = rows[-1]
    assert (rating, comment, channel) == ("down", "Tydligt och rätt", "ui")
    assert json.loads(citations)[0]["section"] == "1.2.3"

    # The chosen rating is still shown after a reload.
    page.reload()
    expect(page.locator("#sd-thumbs-down")).to_contain_text("✓", timeout=10_000)


def test_an_active_filter_shows_and_one_click_searches_everywhere(page: Page) -> None:
    panel = page.locator("#sd-filters")
    panel.get_by_text("Avgränsa till region eller dokumenttyp").click()
    page.locator("#sd-region input").click()
    page.get_by_role("option", name="Region Värmland").click()
    page.locator("#sd-filters").get_by_text("Avgränsa till region").click()  # close it again
    expect(panel).to_contain_text("på: Region Värmland")
    ask(page, BMM_QUESTION)
    expect(page.locator("#sd-chat .bot-row").last).to_contain_text(
        "Avgränsat till: Region Värmland")
    page.locator("#sd-all-regions").click()
    answers = page.locator("#sd-chat .bot-row")
    expect(answers).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
    expect(answers.last).to_contain_text("Sökt i alla regioner", timeout=ANSWER_TIMEOUT_MS)
    expect(panel).not_to_contain_text("på: Region Värmland")


def test_markup_in_a_question_is_shown_as_text(page: Page) -> None:
    attack = ('<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> '
              "**BMM** [länk](javascript:alert(1)) läkartid")
    ask(page, attack)
    chat = page.locator("#sd-chat")
    expect(chat).to_contain_text("<script>window.__xss = 1</script>")
    expect(chat).to_contain_text("**BMM** [länk](javascript:alert(1))")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#sd-chat img[src='x'], #sd-chat a[href^='javascript']").count() == 0


def test_the_page_is_swedish(page: Page, browser: Browser, ui: tuple[str, Styrdok]) -> None:
    assert page.evaluate("document.documentElement.lang") == "sv"
    # Gradio's own strings follow the page, not an English browser.
    english = open_page(browser, ui[0], locale="en-US")
    try:
        ask(english, BMM_QUESTION)
        expect(english.locator('#sd-chat button[aria-label="Kopiera meddelandet"]').first
               ).to_be_attached()
        assert english.locator('[aria-label="Copy message"], [title="Copy message"]').count() == 0
        labels = english.evaluate("[...document.querySelectorAll('[aria-label]')]"
                                  ".map(e => e.getAttribute('aria-label'))")
        assert "Samtal" in labels and f"Din fråga: {BMM_QUESTION}" in labels
        assert not [label for label in labels if "message" in label or "chatbot" in label]
    finally:
        english.context.close()


def test_narrow_screen_has_no_sideways_scrolling(browser: Browser,
                                                 ui: tuple[str, Styrdok]) -> None:
    page = open_page(browser, ui[0], width=390, height=844)
    try:
        ask(page, BMM_QUESTION)
        card = section_card(page.locator("#sd-chat .bot-row").last, "1.2.3")
        card.locator("summary").click()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page is {width}px wide on a 390px screen"
        box = card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.get_by_role("tab", name="Dokument").click()
        expect(page.locator("#sd-documents")).to_contain_text("Region Värmland")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the Dokument tab is {width}px wide on a 390px screen"
        for label in ("Region", "Typ", "Utgåva", "Delar"):
            expect(page.locator(f'#sd-documents td[data-label="{label}"]').first).to_be_visible()
    finally:
        page.context.close()


def test_owner_uploads_and_removes_a_document(page: Page, ui: tuple[str, Styrdok],
                                              tmp_path: Path) -> None:
    service = ui[1]
    page.get_by_role("tab", name="Dokument").click()
    table = page.locator("#sd-documents")
    expect(table).to_contain_text("Förfrågningsunderlag Vårdval vårdcentral")
    for header in ("Region", "Typ", "Utgåva", "Delar"):
        expect(table.locator("th", has_text=header)).to_be_visible()
    expect(table).to_contain_text("förfrågningsunderlag")

    upload = tmp_path / "Rutin för hembesök.txt"
    upload.write_text("2.1 Reseersättning\n\nReseersättning vid hembesök betalas med 42 kronor "
                      "per mil.\n", encoding="utf-8")
    page.get_by_text("Ladda upp dokument").click()
    page.locator("#sd-upload input[type=file]").set_input_files(str(upload))
    page.locator("#sd-upload-region textarea, #sd-upload-region input").first.fill("Region Test")
    status = page.locator("#sd-documents-status")
    page.locator("#sd-owner-key input").fill("fel-nyckel")
    page.get_by_role("button", name="Ladda upp och läs in").click()
    expect(status).to_contain_text("Fel eller saknad ägarnyckel")
    assert "rutin-for-hembesok" not in {doc.document for doc in service.documents()}
    region = page.locator("#sd-upload-region textarea, #sd-upload-region input").first
    expect(region).to_have_value("Region Test")  # kept after a refusal

    page.locator("#sd-owner-key input").fill(API_KEY)
    page.get_by_role("button", name="Ladda upp och läs in").click()
    expect(status).to_contain_text("Inläst: Rutin för hembesök", timeout=ANSWER_TIMEOUT_MS)
    expect(table).to_contain_text("Rutin för hembesök")
    expect(region).to_have_value("")  # the form is cleared after an upload
    assert "rutin-for-hembesok" in {doc.document for doc in service.documents()}

    page.get_by_text("Ta bort dokument").click()
    chooser = page.locator("#sd-remove-choice input")
    chooser.click()
    chooser.fill("Rutin för hembesök")
    page.get_by_role("option", name="Rutin för hembesök (rutin-for-hembesok)").click()
    page.locator("#sd-remove").click()
    confirm = page.get_by_text("Det går inte att ångra")
    expect(confirm).to_be_visible()
    expect(page.locator("#sd-remove-confirm").first).to_contain_text("Rutin för hembesök")
    page.locator("#sd-remove-no").click()
    expect(confirm).to_be_hidden()
    assert "rutin-for-hembesok" in {doc.document for doc in service.documents()}
    page.locator("#sd-remove").click()
    page.locator("#sd-remove-yes").click()
    expect(status).to_contain_text("Borttaget: rutin-for-hembesok")
    expect(table).not_to_contain_text("Rutin för hembesök")
    assert "rutin-for-hembesok" not in {doc.document for doc in service.documents()}
