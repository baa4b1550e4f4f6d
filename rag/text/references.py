"""English statute references in the form Swedish law writes them.

An English question cites "Chapter 2, Section 14 of the Patient Safety Act" where Swedish
writes "2 kap. 14 §". Written the Swedish way, the paragraph is found by its number, and a
paragraph the statute does not have is a near-miss, whichever language asked.
"""

from __future__ import annotations

import re

_SECTION = r"(?:sections?|sec\.?|§)\s*(\d+(?:\s?[a-z]\b)?)"
_CHAPTER = r"(?:chapter|ch\.)\s*(\d+)"
_CHAPTER_THEN_SECTION = re.compile(rf"\b{_CHAPTER}\s*,?\s*{_SECTION}", re.IGNORECASE)
_SECTION_OF_CHAPTER = re.compile(rf"\b{_SECTION}\s*(?:,|of|in)\s*{_CHAPTER}\b", re.IGNORECASE)
# "2 kap. 14 § of the Patient Safety Act": the statute follows the paragraph, as in Swedish.
_OF_THE_STATUTE = re.compile(r"§\s+(?:of|in|under)\s+(?:the\s+)?", re.IGNORECASE)


def swedish_paragraph_references(text: str) -> str:
    """ "Chapter 2, Section 14 of PSL" and "Section 14 of Chapter 2 of PSL" -> "2 kap. 14 §
    PSL"."""
    text = _CHAPTER_THEN_SECTION.sub(lambda m: f"{m.group(1)} kap. {m.group(2)} §", text)
    text = _SECTION_OF_CHAPTER.sub(lambda m: f"{m.group(2)} kap. {m.group(1)} §", text)
    return _OF_THE_STATUTE.sub("§ ", text)
