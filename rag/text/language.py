"""Tell a Swedish question from an English one (the only two languages Styrdok answers in)."""

from __future__ import annotations

from typing import Literal

from rag.text.lexical import words

Language = Literal["sv", "en"]

_SWEDISH = frozenset("""
och är hur vad ska skall för vilka vilken som det att på med av inom många mycket när vem finns
får kan gäller enligt till om vid har ha måste eller inte de den en ett vårdcentral vårdcentralen
""".split())
_ENGLISH = frozenset("""
the what how is are which who when does do many much of for within should must according to by
in on a an there any have has can be with at per and or
""".split())


def detect_language(text: str) -> Language:
    tokens = words(text)
    swedish_bonus = 2 if any(ch in text.lower() for ch in "åäö") else 0
    swedish = sum(token in _SWEDISH for token in tokens) + swedish_bonus
    english = sum(token in _ENGLISH for token in tokens)
    return "en" if english > swedish else "sv"
