"""Undo line-end hyphenation with a lexicon: "vård-⏎centralen" → "vårdcentralen", while
"AT-⏎läkare" and "hälso-⏎och sjukvård" keep their hyphens.

The lexicon is the document's own words (as they stand unbroken elsewhere in it) and
wordfreq's Swedish word list; what neither knows is decided by the shape of the first part
(an abbreviation keeps its hyphen).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

KEEP_HYPHEN_BEFORE = ("och ", "eller ", "samt ", "till ", "respektive ", "som ")
SOFT_HYPHEN = "\u00ad"
_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_VOWELS = frozenset("aeiouyåäöéü")


@lru_cache(maxsize=50000)
def _in_wordfreq(word: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "sv") > 0.0


class Lexicon:
    """Words of one document, unbroken, plus wordfreq's Swedish list."""

    def __init__(self, lines: Iterable[str] = ()) -> None:
        self.words: set[str] = set()
        for line in lines:
            tokens = _TOKEN.findall(line.lower())
            if tokens and line.rstrip().endswith(("-", SOFT_HYPHEN)):
                tokens = tokens[:-1]  # the broken word at the line end is not evidence
            if tokens and line[:1].islower():
                tokens = tokens[1:]  # nor the rest of a word broken on the line before
            self.words.update(tokens)

    def knows(self, word: str) -> bool:
        return word in self.words or _in_wordfreq(word)


_DEFAULT = Lexicon()


def join_hyphenated(left: str, right: str, lexicon: Lexicon = _DEFAULT) -> str:
    """Join `left`, ending in a hyphen at a line end, with the next line `right`."""
    left = left.rstrip().removesuffix(SOFT_HYPHEN)
    if not left.endswith("-"):
        left = f"{left}-"
    if left[-2:-1] in (".", "/"):
        return left[:-1] + right  # a web address broken after a dot: "www.-⏎fou.nu"
    stem_match = re.search(r"([^\W_]*)-$", left)
    stem = stem_match.group(1) if stem_match else ""
    if right.startswith(KEEP_HYPHEN_BEFORE) or not stem:
        return f"{left} {right}"  # "hälso- och sjukvård" keeps hyphen and space
    head_match = _WORD.match(right)
    head = head_match.group(0) if head_match else ""
    if not head or not right[:1].islower():
        return left + right  # "BMM-⏎Verksamhet", "2019-⏎2020"
    joined, hyphenated = (stem + head).lower(), f"{stem}-{head}".lower()
    if hyphenated in lexicon.words and joined not in lexicon.words:
        return left + right  # the document writes it with a hyphen elsewhere
    if lexicon.knows(joined):
        return left[:-1] + right  # "vård-⏎centralen"
    if _is_abbreviation(stem):
        return left + right  # "AT-⏎läkare", "e-⏎tjänst", "sms-⏎påminnelse"
    return left[:-1] + right  # a compound that automatic hyphenation broke


def _is_abbreviation(stem: str) -> bool:
    letters = [ch for ch in stem if ch.isalpha()]
    no_vowel = bool(letters) and not any(ch.lower() in _VOWELS for ch in letters)
    return len(stem) <= 1 or no_vowel or any(ch.isdigit() for ch in stem) or (
        len(letters) >= 2 and sum(ch.isupper() for ch in letters) >= 2)


def join_broken_lines(lines: list[str], lexicon: Lexicon = _DEFAULT) -> str:
    """Lines of one paragraph or cell as one string."""
    text = ""
    for line in lines:
        if not text:
            text = line
        elif text.endswith(("-", SOFT_HYPHEN)) and not text.endswith((" -", " " + SOFT_HYPHEN)):
            text = join_hyphenated(text, line, lexicon)
        else:
            text = f"{text} {line}"
    return text
