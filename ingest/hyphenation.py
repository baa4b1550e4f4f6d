"""Undo line-end hyphenation with a lexicon: "vård-⏎centralen" → "vårdcentralen", while
"AT-⏎läkare" and "hälso-⏎och sjukvård" keep their hyphens."""

from __future__ import annotations

import re
from functools import lru_cache

KEEP_HYPHEN_BEFORE = ("och ", "eller ", "samt ", "till ", "respektive ", "som ")
SOFT_HYPHEN = "\u00ad"
_WORD = re.compile(r"[\wåäöÅÄÖéÉüÜ]+")


@lru_cache(maxsize=20000)
def _known(word: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "sv") > 0.0


def join_hyphenated(left: str, right: str) -> str:
    """Join `left` ending in a hyphen with the next line `right`."""
    left = left.rstrip().removesuffix(SOFT_HYPHEN)
    if not left.endswith("-"):
        left = f"{left}-"
    stem_match = re.search(r"([\wåäöÅÄÖ]*)-$", left)
    stem = stem_match.group(1) if stem_match else ""
    if right.startswith(KEEP_HYPHEN_BEFORE) or not stem:
        return f"{left} {right}"  # "hälso- och sjukvård" keeps hyphen and space
    head_match = _WORD.match(right)
    head = head_match.group(0) if head_match else ""
    if not head or not right[:1].islower() or _is_abbreviation(stem):
        return left + right  # "AT-läkare", "BMM-⏎Verksamhet", "2019-⏎2020"
    if not _known((stem + head).lower()) and _known(stem.lower()) and _known(head.lower()):
        return left + right  # two words the lexicon knows whose join it does not: "at-läkare"
    return left[:-1] + right  # "vård-⏎centralen": a word automatic hyphenation broke


def _is_abbreviation(stem: str) -> bool:
    letters = [ch for ch in stem if ch.isalpha()]
    no_vowel = bool(letters) and not any(ch.lower() in "aeiouyåäöéü" for ch in letters)
    return len(stem) <= 1 or no_vowel or any(ch.isdigit() for ch in stem) or (
        len(letters) >= 2 and sum(ch.isupper() for ch in letters) >= 2)


def join_broken_lines(lines: list[str]) -> str:
    """Lines of one paragraph or cell as one string."""
    text = ""
    for line in lines:
        if not text:
            text = line
        elif text.endswith(("-", SOFT_HYPHEN)) and not text.endswith(" -"):
            text = join_hyphenated(text, line)
        else:
            text = f"{text} {line}"
    return text
