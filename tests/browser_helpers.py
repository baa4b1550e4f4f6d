"""Helpers the browser test modules share: Debian's chromium, axe-core, asking in the UI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from web_fixtures import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = REPO / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"
ANSWER_TIMEOUT_MS = 60_000
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Browser, base: str, *, width: int = 1100, height: int = 1300,
              scheme: str = "light", locale: str = "sv-SE") -> Page:
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme=scheme,  # type: ignore[arg-type]
                                  locale=locale, is_mobile=width < 500, has_touch=width < 500)
    page = context.new_page()
    page.goto(f"{base}/?__theme={scheme}")
    expect(page.locator("#sd-question textarea")).to_be_editable(timeout=30_000)
    return page


def ask(page: Page, question: str) -> None:
    """Ask and wait until the answer (one more assistant message) is in."""
    answers = page.locator("#sd-chat .bot-row")
    before = answers.count()
    page.locator("#sd-question textarea").fill(question)
    page.locator("#sd-ask").click()
    expect(answers).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
    expect(answers.last.locator(".sd-answer-extra")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)


def fill_owner_key(page: Page, elem_id: str, key: str) -> None:
    page.locator(f"#{elem_id} input").fill(key)


def axe_serious(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make axe`")
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
          const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
          return result.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' +
                                                       n.failureSummary)}));
        }""", WCAG_AA)
    return violations
