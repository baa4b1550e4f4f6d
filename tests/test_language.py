"""Telling a Swedish question from an English one, by wordfreq votes."""

from __future__ import annotations

import pytest

from rag.text.language import detect_language


@pytest.mark.parametrize(("question", "language"), [
    ("Hur mycket läkartid ska BMM ha?", "sv"),
    ("lakartid bmm", "sv"),
    ("maxbelopp for listningsvitet per patient?", "sv"),  # "for", "per", "patient": English too
    ("vad ar sip", "sv"),
    ("vc oppettider", "sv"),
    ("BMM", "sv"),
    ("Och för BVC?", "sv"),
    ("How many doctor hours per week are required for BVC?", "en"),
    ("What is SIP?", "en"),
    ("opening hours vc", "en"),
    ("What about BVC?", "en"),
])
def test_swedish_as_staff_type_it_and_english(question: str, language: str) -> None:
    assert detect_language(question) == language
