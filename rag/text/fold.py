"""Diacritic folding: "läkartid", "lakartid" and "LÄKARTID" meet on "lakartid".

Staff often type without å/ä/ö (phones, foreign keyboards). Both the index and the query
fold, so matching never depends on whether the marks were typed.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower-case text with combining marks removed (å, ä -> a; ö -> o; é -> e)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def has_marks(text: str) -> bool:
    return fold(text) != text.lower()
