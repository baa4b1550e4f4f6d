"""The corpus's own vocabulary: restoring å/ä/ö, correcting typos, learning abbreviations.

Built once per snapshot from the passages. A query word the documents do not use as typed is
mapped to the documents' own spelling: first by folding ("lakartid" -> "läkartid"), then by
one edit against the corpus words ("ungdomsmotagning" -> "ungdomsmottagning", a symmetric-
delete index, so the cost is linear in the word's length), then as a compound of corpus words
("lakartimmar" -> "läkar" + "timmar"). Abbreviations are learned from the documents' own
definitions, "barnmorskemottagning (BMM)" and "BMM (barnmorskemottagning)".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from wordfreq import zipf_frequency

from rag.text.fold import fold

WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Words shorter than this are not corrected: one edit turns "vård" into "vård"s neighbours.
MIN_CORRECTABLE = 5
# Corrections look at this many letters at most (a 2 000-letter "word" is not a typo).
MAX_CORRECTABLE = 40
# A word this common in general Swedish is what the user meant, even if the documents lack it.
COMMON_ZIPF = 3.5
LINKING = ("", "s", "e", "a", "u", "o")
MIN_PART = 3
# "lång form (FÖRK)" and "FÖRK (lång form)"; the long form is at most five words.
_DEFINED_AFTER = re.compile(
    r"((?:[^\W\d_][\w-]*\s+){0,4}[^\W\d_][\w-]*)\s*\(([A-ZÅÄÖ]{2,6})\)")
_DEFINED_BEFORE = re.compile(r"\b([A-ZÅÄÖ]{2,6})\s*\(((?:[^\W\d_][\w-]*\s*){1,5})\)")


@dataclass(frozen=True)
class Normalized:
    """A query word in the documents' spelling; `how` says what was done to it."""

    word: str
    how: str  # "as-typed", "restored" (marks), "typo", "compound", "unknown"
    parts: tuple[str, ...] = ()


@dataclass
class Vocabulary:
    counts: Counter[str] = field(default_factory=Counter)
    by_fold: dict[str, str] = field(default_factory=dict)
    deletes: dict[str, set[str]] = field(default_factory=dict)
    abbreviations: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        vocabulary = cls()
        seen: set[int] = set()
        for text in texts:
            key = hash(text)
            if key in seen:  # repeated passages add nothing new
                continue
            seen.add(key)
            vocabulary.counts.update(word.lower() for word in WORD.findall(text))
            vocabulary._learn_abbreviations(text)
        for word, _count in vocabulary.counts.most_common():
            folded = fold(word)
            vocabulary.by_fold.setdefault(folded, word)  # the most frequent spelling wins
        for folded in vocabulary.by_fold:
            if MIN_CORRECTABLE - 1 <= len(folded) <= MAX_CORRECTABLE:
                for variant in _deletions(folded):
                    vocabulary.deletes.setdefault(variant, set()).add(folded)
        return vocabulary

    def _learn_abbreviations(self, text: str) -> None:
        for match in _DEFINED_AFTER.finditer(text):
            long_form = _fitting_span(match.group(1).split(), match.group(2))
            if long_form:
                self._add_abbreviation(match.group(2), long_form)
        for match in _DEFINED_BEFORE.finditer(text):
            long_words = match.group(2).split()
            if _spells(" ".join(long_words), match.group(1)):
                self._add_abbreviation(match.group(1), " ".join(long_words))

    def _add_abbreviation(self, abbreviation: str, long_form: str) -> None:
        key = abbreviation.lower()
        forms = self.abbreviations.get(key, ())
        if long_form.lower() not in forms:
            self.abbreviations[key] = (*forms, long_form.lower())

    def normalize(self, word: str) -> Normalized:
        """The documents' spelling of a query word (lower-case input)."""
        if word in self.counts or not word.isalpha():
            return Normalized(word, "as-typed")
        folded = fold(word)
        if folded in self.by_fold:
            return Normalized(self.by_fold[folded], "restored")
        if len(folded) < MIN_CORRECTABLE or len(folded) > MAX_CORRECTABLE:
            return Normalized(word, "unknown")
        if zipf_frequency(word, "sv") >= COMMON_ZIPF:
            return Normalized(word, "unknown")  # a real word the documents do not use
        corrected = self._one_edit(folded)
        if corrected:
            return Normalized(corrected, "typo")
        parts = self._compound(folded)
        if parts:
            return Normalized(word, "compound", parts)
        return Normalized(word, "unknown")

    def _one_edit(self, folded: str) -> str | None:
        candidates: set[str] = set(self.deletes.get(folded, ()))
        for variant in _deletions(folded):
            if variant in self.by_fold:
                candidates.add(variant)
            candidates |= self.deletes.get(variant, set())
        matches = [candidate for candidate in candidates
                   if candidate != folded and within_one_edit(folded, candidate)]
        if not matches:
            return None
        best = max(matches, key=lambda candidate: (self.counts[self.by_fold[candidate]],
                                                   candidate))
        return self.by_fold[best]

    def _compound(self, folded: str) -> tuple[str, ...] | None:
        """Two corpus words (with a linking letter between): "lakartimmar" -> läkar+timmar.
        Heads may be a corpus word's compound form ("läkar" of "läkare")."""
        best: tuple[int, tuple[str, ...]] | None = None
        for cut in range(MIN_PART + 1, len(folded) - MIN_PART + 1):
            head = self._corpus_head(folded[:cut])
            if head is None:
                continue
            rest = folded[cut:]
            for link in LINKING:
                if not rest.startswith(link):
                    continue
                tail = rest[len(link):]
                if len(tail) >= MIN_PART and tail in self.by_fold:
                    score = min(self.counts[head], self.counts[self.by_fold[tail]])
                    if best is None or score > best[0]:
                        best = (score, (head, self.by_fold[tail]))
        return best[1] if best else None

    def _corpus_head(self, folded_head: str) -> str | None:
        if folded_head in self.by_fold:
            return self.by_fold[folded_head]
        for ending in ("e", "a"):  # "läkar" is the compound form of "läkare"
            word = self.by_fold.get(folded_head + ending)
            if word:
                return word[:-1]
        return None


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (a letter dropped, added, changed or swapped)."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    if len(a) > len(b):
        a, b = b, a
    for i in range(len(a)):
        if a[i] != b[i]:
            if len(a) == len(b):
                return a[i + 1:] == b[i + 1:] or (
                    a[i + 1:i + 2] == b[i:i + 1] and a[i:i + 1] == b[i + 1:i + 2]
                    and a[i + 2:] == b[i + 2:])
            return a[i:] == b[i + 1:]
    return True


def _spells(long_form: str, abbreviation: str) -> bool:
    """The abbreviation's letters occur in order in the long form, the first letter first
    ("barnmorskemottagning" spells BMM, "samordnad individuell plan" spells SIP)."""
    text = fold(long_form)
    letters = fold(abbreviation)
    if not text or text[0] != letters[0]:
        return False
    position = 0
    for letter in letters:
        position = text.find(letter, position)
        if position < 0:
            return False
        position += 1
    return True


def _fitting_span(words: list[str], abbreviation: str) -> str | None:
    """The shortest run of words ending before "(FÖRK)" that spells the abbreviation; a
    one-word compound ("Barnhälsovård (BVC)") counts when it starts with the first letter."""
    for size in range(1, len(words) + 1):
        span = " ".join(words[-size:])
        if _spells(span, abbreviation):
            return span
    last = words[-1] if words else ""
    if len(last) >= 8 and fold(last)[:1] == fold(abbreviation)[:1]:
        return last
    return None
