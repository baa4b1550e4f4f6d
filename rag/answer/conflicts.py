"""Two passages stating different numbers for the same requirement.

When a close runner-up from another passage says nearly the same thing as the best sentence
(most of its content words are the same) but with other numbers, the answer shows both with
their sources and says they differ, instead of silently picking one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.models import SearchHit

if TYPE_CHECKING:
    from rag.answer.extractive import ScoredSentence

NUMBER = re.compile(r"\d+(?:[ ,.]\d+)*")
# Share of content words two sentences must share to be about the same requirement.
SAME_REQUIREMENT = 0.6
CLOSE_SCORE = 0.8


def numbers(text: str) -> frozenset[str]:
    return frozenset(re.sub(r"[ ,.]", "", token) for token in NUMBER.findall(text))


def _words(terms: frozenset[str]) -> frozenset[str]:
    return frozenset(term for term in terms if not term[:1].isdigit())


def find_conflict(best: ScoredSentence, candidates: list[ScoredSentence],
                  hits: list[SearchHit]) -> ScoredSentence | None:
    """A close sentence from another passage stating other numbers for the same rule."""
    own_numbers = numbers(best.text)
    if not own_numbers:
        return None
    own_words = _words(best.terms)
    for other in candidates:
        if other is best or other.score < CLOSE_SCORE * best.score:
            continue
        if hits[other.hit_index].chunk.chunk_id == hits[best.hit_index].chunk.chunk_id:
            continue
        other_numbers = numbers(other.text)
        if not other_numbers or other_numbers == own_numbers:
            continue
        other_words = _words(other.terms)
        union = own_words | other_words
        if union and len(own_words & other_words) / len(union) >= SAME_REQUIREMENT:
            return other
    return None
