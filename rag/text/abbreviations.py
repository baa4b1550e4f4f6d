"""Abbreviations a corpus defines itself: "bastjänstgöring (BT)", "SIP (samordnad individuell
plan)".

Staff write "BT" where a statute writes "bastjänstgöring", and a document usually says once
which is which. The pairs are found with the Schwartz-Hearst algorithm (Schwartz & Hearst,
PSB 2003): the short form is in parentheses after its long form (or the other way round),
and the long form is the shortest run of the words before it in which the short form's
letters occur in order, the first at the start of a word. Swedish compounds need nothing
more: "barnmorskemottagning (BMM)" matches b, m, m inside one word. A short form that is a
common Swedish word ("JO" is also "jo") is not taken: a question typed in lower case could
not tell the two apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from wordfreq import zipf_frequency

from rag.text.lexical import STOP_WORDS

SHORT = r"[A-ZÅÄÖ][A-ZÅÄÖ0-9]{1,5}"
# Led by a literal "(", so the scan is a fast search for that character.
PARENTHESES = re.compile(r"\(([^()]{2,120})\)")
IS_SHORT = re.compile(SHORT)
SHORT_BEFORE = re.compile(rf"\b({SHORT})\s+$")
IS_LONG = re.compile(r"[^\W\d_][\w\s-]{3,}")
# The words before "(BT)" are read back to the clause's start, and no further than this.
LOOK_BACK_CHARS = 300
CLAUSE_BREAK = re.compile(r"[.,;:!?()\[\]\"”]")
# A lower-cased short form this common in Swedish is a word ("jo", "st"), not only an
# abbreviation. (wordfreq counts acronyms as words: "bt" and "sip" are near 3.5 in English.)
COMMON_ZIPF = 4.0


def find_definitions(text: str) -> dict[str, set[str]]:
    """Short form (lower case) -> the long forms (lower case) `text` defines it as."""
    found: dict[str, set[str]] = {}
    for match in PARENTHESES.finditer(text):
        inside = match.group(1)
        if IS_SHORT.fullmatch(inside):  # "bastjänstgöring (BT)"
            before = CLAUSE_BREAK.split(text[max(0, match.start() - LOOK_BACK_CHARS):
                                             match.start()])
            _add(found, inside, long_form(inside, before[-1].split()[-_window(inside):]))
            continue
        short = SHORT_BEFORE.search(text, max(0, match.start() - 12), match.start())
        words = inside.split()
        if short and IS_LONG.fullmatch(inside) and len(words) <= _window(short.group(1)):
            long = long_form(short.group(1), words)  # "SIP (samordnad individuell plan)"
            # Inside the parentheses the whole text is the long form, or it is not one.
            _add(found, short.group(1), long if long == " ".join(words).lower() else None)
    return found


def long_form(short: str, words: list[str]) -> str | None:
    """The shortest tail of `words` that holds the letters of `short` in order, its first
    letter at a word's start (Schwartz-Hearst), lower-cased; None when there is none."""
    text = " ".join(words).lower()
    letters = [letter for letter in short.lower() if letter.isalnum()]
    position = len(text) - 1
    for index in range(len(letters) - 1, -1, -1):
        letter = letters[index]
        while position >= 0 and (text[position] != letter or (
                index == 0 and position > 0 and text[position - 1].isalnum())):
            position -= 1
        if position < 0:
            return None
        position -= 1
    start = text.rfind(" ", 0, position + 1) + 1
    long = text[start:].strip(" -")
    return long if len(long) > len(short) + 1 else None


def merged(own: Mapping[str, tuple[str, ...]],
           defined: Iterable[Mapping[str, Iterable[str]]]) -> dict[str, tuple[str, ...]]:
    """`own` (the list kept by hand) with every definition added; its own forms come first."""
    collected: dict[str, set[str]] = {}
    for definitions in defined:  # one per document: 5 000 at 1 000x, most of them alike
        for short, forms in definitions.items():
            collected.setdefault(short, set()).update(forms)
    result = {short: tuple(forms) for short, forms in own.items()}
    for short, forms in collected.items():
        result[short] = tuple(dict.fromkeys([*own.get(short, ()), *sorted(forms)]))
    return result


def _window(short: str) -> int:
    """At most this many words make a long form (Schwartz-Hearst's bound)."""
    return min(len(short) + 5, 2 * len(short))


def _add(found: dict[str, set[str]], short: str, long: str | None) -> None:
    lowered = short.lower()
    if long is None or _is_a_word(lowered):
        return
    found.setdefault(lowered, set()).add(long)


@lru_cache(maxsize=10_000)
def _is_a_word(lowered: str) -> bool:
    return lowered in STOP_WORDS or zipf_frequency(lowered, "sv") >= COMMON_ZIPF
