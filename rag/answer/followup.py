"""Follow-up questions: "Och för BVC?" after "Hur mycket läkartid ska BMM ha?".

A follow-up is elliptical: it starts like a continuation ("och", "men", "what about") or is a
few words with no question of its own. It is rewritten from the previous question by
replacing the word the follow-up's new word stands in for: a word of the same kind (an
abbreviation for an abbreviation, a region for a region, a year for a year, a month for a
month, a number for a number), else the previous word nearest in the e5 space. A follow-up
with nothing to go on (no history) is asked back, not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from rag.answer.constraints import MONTHS, REGIONS, YEAR
from rag.text.fold import fold
from rag.text.lexical import ABBREVIATIONS, STOP_WORDS, analyze

CONTINUATION = re.compile(
    r"^\s*(och|men|samt|än|an|också|även|and|but|also|what about|how about|same for|"
    r"the same for|samma sak|samma|detsamma|likadant|gäller det|galler det|hur är det med|"
    r"hur ar det med)\b", re.IGNORECASE)
QUESTION_START = re.compile(
    r"^\s*(hur|vad|vilk\w*|när|nar|var|vem|vems|varför|varfor|kan|får|far|ska|skall|måste|"
    r"maste|finns|gäller|galler|är|ar|how|what|which|when|where|who|why|is|are|do|does|can|"
    r"must|should|may)\b", re.IGNORECASE)
WORD = re.compile(r"[0-9]+|[^\W\d_][\w-]*", re.UNICODE)
# Prepositions and pointers that frame the new word ("för BVC", "i Halland", "for BVC").
FRAMING = frozenset("för for på pa i om vid hos inom till med about at in on of the det den "
                    "dem då da sedan then också ocksa även aven too also sak".split())
MAX_FOLLOW_UP_WORDS = 6
MAX_HISTORY = 10


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str = ""


@dataclass(frozen=True)
class Resolution:
    """`question` to answer, or `clarify` when the follow-up cannot be understood."""

    question: str
    rewritten: bool = False
    clarify: bool = False


WordVectors = Callable[[str], np.ndarray]


def is_follow_up(question: str) -> bool:
    words = WORD.findall(question)
    return bool(CONTINUATION.match(question)) and len(words) <= MAX_FOLLOW_UP_WORDS + 2


def new_words(question: str) -> list[str]:
    """The follow-up's own content words, continuation and framing words removed."""
    rest = CONTINUATION.sub("", question, count=1)
    return [word for word in WORD.findall(rest)
            if word.lower() not in FRAMING and word.lower() not in STOP_WORDS]


def resolve(question: str, history: Sequence[Turn] | None,
            vectors: WordVectors | None = None) -> Resolution:
    """The question to answer for `question` asked after `history` (oldest first)."""
    if not is_follow_up(question):
        return Resolution(question)
    previous = _effective_previous(history or (), vectors)
    added = new_words(question)
    if previous is None or not added:
        return Resolution(question, clarify=True)
    rewritten = previous
    for word in added:
        rewritten = _replace_one(rewritten, word, vectors, _framing_before(question, word))
    if rewritten == previous:
        return Resolution(question, clarify=True)
    return Resolution(rewritten, rewritten=True)


def _effective_previous(history: Sequence[Turn], vectors: WordVectors | None) -> str | None:
    """The last full question of the conversation, earlier follow-ups resolved in order."""
    current: str | None = None
    for turn in list(history)[-MAX_HISTORY:]:
        text = turn.question.strip()
        if not text:
            continue
        if is_follow_up(text):
            if current is None:
                continue
            resolved = resolve(text, [Turn(current)], vectors)
            if resolved.rewritten:
                current = resolved.question
        else:
            current = text
    return current


def _typed_abbreviation(word: str) -> bool:
    """A short all-lower-case word that may be an abbreviation typed without capitals."""
    return word.isalpha() and word.islower() and 2 <= len(word) <= 4


def _spelled_abbreviation(word: str) -> bool:
    """A word that spells out a known abbreviation ("barnhälsovården" for BVC)."""
    stem = analyze(word)[:1]
    return bool(stem) and stem[0] in _spelled_stems()


@cache
def _spelled_stems() -> frozenset[str]:
    """The stems of the one-word spellings of the known abbreviations (computed once)."""
    return frozenset(analyze(form)[0] for forms in ABBREVIATIONS.values() for form in forms
                     if " " not in form and analyze(form))


def _kind(word: str) -> str:
    folded = fold(word)
    if YEAR.fullmatch(word):
        return "year"
    if word.isdigit():
        return "number"
    if any(folded.startswith(key) for keys in REGIONS.values() for key in keys if " " not in key):
        return "region"
    if any(folded in names for names in MONTHS.values()):
        return "month"
    if word.isupper() and 2 <= len(word) <= 6 and word.isalpha():
        return "abbreviation"
    return "word"


def _framing_before(question: str, word: str) -> str:
    """The framing word the follow-up puts before `word` ("i" of "Och i Halland?"), or ""."""
    words = WORD.findall(question)
    position = words.index(word) if word in words else 0
    before = words[position - 1].lower() if position else ""
    return before if before in FRAMING else ""


def _replace_one(question: str, word: str, vectors: WordVectors | None,
                 framing: str = "") -> str:
    tokens = [(match.start(), match.end(), match.group(0)) for match in WORD.finditer(question)]
    content = [(start, end, token) for start, end, token in tokens
               if token.lower() not in STOP_WORDS and token.lower() not in FRAMING
               and not QUESTION_START.fullmatch(token)]
    if not content:
        return question
    kind = _kind(word)
    if kind == "word" and (_typed_abbreviation(word) or _spelled_abbreviation(word)) and \
            any(_kind(item[2]) == "abbreviation" for item in content):
        # "och for bvc?" typed in lower case, or "Och för barnhälsovården?" spelled out,
        # after "… BMM …": the unit for the unit.
        kind = "abbreviation"
    same_kind = [item for item in content if _kind(item[2]) == kind] if kind != "word" else []
    if not same_kind and kind in ("region", "year", "month"):
        # A new constraint the previous question did not have: added, not swapped for a
        # topic word ("Och i Halland?" after "Hur mycket läkartid ska BMM ha?").
        stem = question.rstrip().rstrip("?").rstrip()
        return f"{stem} {framing or ('i' if kind != 'year' else '')} {word}?".replace("  ", " ")
    if same_kind:
        target = same_kind[-1]
    elif vectors is not None:
        new = vectors(word)
        target = max(content, key=lambda item: float(np.dot(new, vectors(item[2]))))
    else:
        return question
    start, end, _ = target
    return question[:start] + word + question[end:]
