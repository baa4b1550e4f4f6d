"""Telling a Swedish question from an English one, by wordfreq votes."""

from __future__ import annotations

import pytest

from rag.text.language import detect_language


@pytest.mark.parametrize("question", [
    "Hur mycket läkartid ska BMM ha?",
    "lakartid bmm",
    "maxbelopp for listningsvitet per patient?",  # "for", "per", "patient" are English too
    "vad ar sip",
    "vc oppettider",
    "BMM",
    "Och för BVC?",
])
def test_swedish_as_staff_type_it(question: str) -> None:
    assert detect_language(question) == "sv"


@pytest.mark.parametrize("question", [
    "How many doctor hours per week are required for BVC?",
    "What is SIP?",
    "opening hours vc",
    "What about BVC?",
])
def test_english(question: str) -> None:
    assert detect_language(question) == "en"
