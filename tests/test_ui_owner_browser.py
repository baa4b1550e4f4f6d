"""The owners' side in a real browser: a refused staff question shows up in Återkoppling and
becomes a confirmed eval case; owners run their own documents' cases; axe-core finds no
serious or critical WCAG 2.1 AA violation on any tab, at desktop and phone size, light and
dark. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import yaml
from browser_helpers import ANSWER_TIMEOUT_MS, ask, axe_serious, chromium, fill_owner_key, open_page
from playwright.sync_api import Browser, Locator, Page, expect
from web_fixtures import API_KEY, ARTIFACTS, REPO, make_service, running_server

from evals.cases import load_case_file
from ingest.manifest import load_manifest
from ingest.service import Styrdok

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VARMLAND = "varmland_forfragningsunderlag-vardval-vardcentral-del2"
REFUSED = "Vad kostar parkeringen vid länssjukhuset på helger?"
REFUSED_BY_API = "Hur mycket kostar det att parkera vid sjukhuset en lördag?"
BMM_QUESTION = "Hur mycket läkartid ska finnas på BMM?"
TABS = ["Fråga", "Dokument", "Återkoppling", "Utvärdering"]
SIZES = [(1366, 900), (390, 844)]
# The README's picture of the owners' path is a copy of this (docs/owner-refused-to-case.png).
OWNER_PATH_SCREENSHOT = ARTIFACTS / "owner-refused-to-case.png"


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Styrdok]]:
    service = make_service(tmp_path_factory.mktemp("owner-ui") / "data")
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
    page = open_page(browser, ui[0], width=1366, height=900)
    yield page
    page.context.close()


def item_row(page: Page, question: str) -> Locator:
    return page.locator(".sd-item-row").filter(
        has=page.locator(".sd-item-question", has_text=question))


def show_feedback(page: Page) -> None:
    page.get_by_role("tab", name="Återkoppling").click()
    fill_owner_key(page, "sd-feedback-key", API_KEY)
    page.locator("#sd-feedback-show").click()
    expect(page.locator("#sd-feedback-load-status")).to_contain_text("att titta på",
                                                                     timeout=ANSWER_TIMEOUT_MS)


def test_a_refused_question_becomes_a_confirmed_test_case(page: Page,
                                                          ui: tuple[str, Styrdok]) -> None:
    base, service = ui
    ask(page, REFUSED)
    expect(page.locator("#sd-chat .bot-row").last.locator(".sd-refusal")).to_be_visible()
    # The API logs its refusals too; the answer there is unchanged JSON.
    answer = httpx.post(f"{base}/api/ask", json={"question": REFUSED_BY_API}, timeout=60).json()
    assert answer["refused"] is True

    page.get_by_role("tab", name="Återkoppling").click()
    page.locator("#sd-feedback-show").click()
    expect(page.locator("#sd-feedback-load-status")).to_contain_text("ägarnyckel")
    show_feedback(page)
    item = item_row(page, REFUSED)
    expect(item).to_contain_text("Avböjd fråga")
    expect(item).to_contain_text("Närmast: Förfrågningsunderlag Vårdval vårdcentral")
    expect(page.locator("#sd-feedback-overview")).to_contain_text(VARMLAND)
    expect(item_row(page, REFUSED_BY_API)).to_have_count(1)
    # Two phrasings of one question: one topic, named on both cards.
    expect(item).to_contain_text(f"Ämne: {REFUSED_BY_API}")
    expect(page.locator("#sd-feedback-csv").first).to_be_visible()

    item.get_by_role("button", name="Gör till testfall").click()
    draft = page.locator("#sd-draft textarea")
    expect(draft).to_have_value(re.compile("kind: refuse"), timeout=10_000)
    expect(draft).to_have_value(re.compile(re.escape(REFUSED)))
    assert service.settings.data_dir.joinpath("owner_case_drafts.yaml").is_file()
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 1250})
    page.locator("#sd-feedback-load-status").first.evaluate(
        "e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(OWNER_PATH_SCREENSHOT))
    page.locator("#sd-confirm-case").click()
    expect(page.locator("#sd-case-status")).to_contain_text("Sparat i dokumentägarnas testfall")

    owner_file = service.settings.owner_cases_path
    cases = load_case_file(owner_file)  # the CLI's loader accepts what the UI wrote
    assert [(case.question, case.kind) for case in cases] == [(REFUSED, "refuse")]
    drafts = yaml.safe_load(service.settings.data_dir.joinpath(
        "owner_case_drafts.yaml").read_text(encoding="utf-8"))
    assert not drafts
    page.get_by_role("tab", name="Utvärdering").click()
    page.get_by_text("Dina testfall").click()
    expect(page.locator("#sd-cases-editor textarea")).to_have_value(
        re.compile(re.escape(REFUSED)))
    page.screenshot(path=str(ARTIFACTS / "ui-owner-case-confirmed.png"), full_page=True)


def test_owners_edit_cases_with_the_cli_messages_and_run_their_documents(
        page: Page, ui: tuple[str, Styrdok]) -> None:
    service = ui[1]
    page.get_by_role("tab", name="Utvärdering").click()
    fill_owner_key(page, "sd-eval-key", API_KEY)
    page.get_by_text("Dina testfall").click()
    editor = page.locator("#sd-cases-editor textarea")
    # The page's load event fills the editor with the saved cases (an earlier test saved
    # one); on a busy machine it can land after a quick fill and replace it, so fill until
    # the text stays.
    invalid = ("- id: agare-bmm\n  question: Hur mycket läkartid ska BMM ha?\n"
               "  kind: number\n  expect:\n    facts: ['3 timmar']\n")
    for _ in range(5):
        editor.fill(invalid)
        editor.blur()  # the textbox sends its value on change; save only after it has
        page.wait_for_timeout(1000)
        if editor.input_value() == invalid:
            break
    page.locator("#sd-cases-save").click()
    status = page.locator("#sd-cases-status")
    # A save goes through Gradio's queue: on a busy machine it can take seconds.
    expect(status).to_contain_text("Fel i utvärderingsfallen: owner_cases.yaml: case "
                                   "'agare-bmm': field 'expect.source'", timeout=30_000)
    editor.fill("- id: agare-bmm\n  question: Hur mycket läkartid ska BMM ha?\n"
                "  kind: number\n  expect:\n    facts: ['3 timmar']\n    source:\n"
                f"      document: {VARMLAND}\n      contains: 3 timmar per vecka\n"
                "- id: agare-parkering\n  question: Vad kostar parkeringen?\n  kind: refuse\n"
                "  expect: {}\n")
    page.locator("#sd-cases-save").click()
    expect(status).to_contain_text("Sparat: 2 testfall", timeout=30_000)

    page.locator("#sd-eval-documents input").click()
    page.get_by_role("option", name="Förfrågningsunderlag Vårdval vårdcentral").first.click()
    page.locator("#sd-eval-include input").uncheck()
    page.locator("#sd-run-eval").click()
    report = page.locator("#sd-eval-report")
    expect(page.locator("#sd-eval-status")).to_contain_text("Klar: 2 testfall",
                                                            timeout=ANSWER_TIMEOUT_MS)
    for words in ("Rätt svar", "Rätt källa", "Riktigt avböjda"):
        expect(report).to_contain_text(words)
    expect(report).not_to_contain_text("MRR")
    stored = list((service.settings.data_dir / "owner_reports").glob("*.md"))
    assert stored, "the report is stored in the data dir"
    assert not (REPO / "reports" / "owner").exists()


def test_owner_api_needs_the_key_and_groups_the_log(ui: tuple[str, Styrdok]) -> None:
    base = ui[0]
    question = "Hur högt är högkostnadsskyddet för öppenvård?"
    answer = httpx.post(f"{base}/api/ask", json={"question": question}, timeout=60).json()
    assert answer["refused"], answer
    assert httpx.get(f"{base}/api/gaps", timeout=30).status_code == 401
    assert httpx.get(f"{base}/api/feedback", timeout=30).status_code == 401
    auth = {"Authorization": f"Bearer {API_KEY}"}
    gaps = httpx.get(f"{base}/api/gaps", headers=auth, timeout=60).json()
    questions = [item["question"] for item in gaps["items"]]
    assert question in questions
    assert gaps["items"] == sorted(gaps["items"], key=lambda i: i["created_at"], reverse=True)
    assert gaps["by_document"][0]["name"] == VARMLAND and gaps["by_week"]
    csv = httpx.get(f"{base}/api/gaps", params={"format": "csv"}, headers=auth, timeout=60)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("tid,typ,fråga")
    rated = httpx.post(f"{base}/api/feedback", headers=auth, timeout=30, json={
        "question": "q", "answer": "a", "rating": "up", "answer_id": "svar-1"}).json()
    again = httpx.post(f"{base}/api/feedback", headers=auth, timeout=30, json={
        "question": "q", "answer": "a", "rating": "down", "answer_id": "svar-1"}).json()
    assert rated["id"] == again["id"]
    listed = httpx.get(f"{base}/api/feedback", headers=auth, timeout=30).json()
    assert [row["rating"] for row in listed["feedback"] if row["answer_id"] == "svar-1"] == \
        ["down"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_axe_finds_no_serious_violations_on_any_tab(browser: Browser, ui: tuple[str, Styrdok],
                                                     scheme: str, size: tuple[int, int]) -> None:
    width, height = size
    page = open_page(browser, ui[0], width=width, height=height, scheme=scheme)
    try:
        if scheme == "dark":
            assert page.evaluate("document.body.classList.contains('dark')")
        ask(page, REFUSED)
        ask(page, BMM_QUESTION)
        found: dict[str, list[object]] = {}
        for tab in TABS:
            page.get_by_role("tab", name=tab).click()
            if tab == "Återkoppling":
                show_feedback(page)
            if tab == "Utvärdering":
                page.get_by_text("Dina testfall").click()
            # Let Gradio's status overlays and transitions settle: axe measures colours as
            # painted, and a half-faded element reads as low contrast.
            page.wait_for_timeout(800)
            found[tab] = axe_serious(page)
            page.screenshot(path=str(ARTIFACTS / f"axe-{tab}-{width}-{scheme}.png"),
                            full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert found == {tab: [] for tab in TABS}
    finally:
        page.context.close()
