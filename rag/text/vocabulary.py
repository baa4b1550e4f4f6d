"""The documents' own spelling of a question: å/ä/ö restored, one-letter typos corrected.

Staff type "lakartid bmm", "sjukskoterska", "ungdomsmotagning". The vocabulary is built from
the passages of one snapshot, so it applies to any corpus. A question word the documents do
not use as typed is mapped to their spelling: first by folding ("lakartid" -> "läkartid", the
most frequent spelling of the folded form wins), then by its marks in general Swedish when the
marked form is common and far more common (wordfreq: "sprak" -> "språk", "pa" -> "på"), then
by one edit against the documents' words ("ungdomsmotagning" -> "ungdomsmottagning"; a
symmetric-delete index, so the cost is linear in the word's length), then as a compound of two
of their words with only the marks restored ("lakartimmar" -> "läkartimmar"). Staff words the
documents do not use become theirs ("doktorn" -> "läkaren", "doktorstid" -> "läkartid";
rag/text/staff_words.py). A word common in general Swedish is what the writer meant even
when the documents lack it, so it is not "corrected" into one of theirs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise, product

from wordfreq import zipf_frequency

from rag.text.fold import fold
from rag.text.lexical import within_one_edit
from rag.text.staff_words import STAFF_HEADS, STAFF_WORDS

WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_RESTORED = 2  # "pa" -> "på"; "ar" -> "är", the likelier of "år" and "är"
# Shorter words are not corrected: one edit turns "vård" into any of its neighbours.
MIN_CORRECTABLE = 5
# Corrections look at this many letters at most (a 2 000-letter "word" is not a typo).
MAX_CORRECTABLE = 40
COMMON_ZIPF = 3.5  # a word this common in general Swedish is meant as typed
LINKING = ("", "s", "e", "a", "u", "o")
LIKELIER_BY = 1.0  # Zipf points (10x as frequent)
MARKED_ZIPF = 3.0  # a restored general-Swedish word must be this common
MARKABLE = {"a": ("a", "å", "ä"), "o": ("o", "ö")}
MAX_MARK_SLOTS = 5  # 3^5 spellings at most
MIN_PART = 3
# A spelling this many times as frequent in the documents as the one typed is what was meant
# when the neighbours do not say otherwise ("far" 6 times, "får" hundreds).
CONTEXT_COMMONER = 10
# Words spelt several ways by their marks alone are mostly short ("år", "är", "får", "så");
# only their neighbours are counted, which keeps the pair counts small on a large corpus
# (a longer one, "vantetider" beside "väntetider", is decided by frequency alone).
MAX_CONTEXT_WORD = 6


@dataclass
class Vocabulary:
    counts: Counter[str] = field(default_factory=Counter)
    by_fold: dict[str, str] = field(default_factory=dict)
    deletes: dict[str, set[str]] = field(default_factory=dict)
    # Every spelling of a folded form, most frequent first ("ar": "är", "år"), and each
    # word with the folded word before it ("tre år": ("tre", "år")) and after it.
    spellings: dict[str, list[str]] = field(default_factory=dict)
    after_word: Counter[tuple[str, str]] = field(default_factory=Counter)
    before_word: Counter[tuple[str, str]] = field(default_factory=Counter)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        vocabulary = cls()
        for text in set(texts):  # a repeated passage adds nothing
            found = [word.lower() for word in WORD.findall(text)]
            vocabulary.counts.update(found)
            vocabulary.after_word.update((fold(left), right) for left, right in pairwise(found)
                                         if len(right) <= MAX_CONTEXT_WORD)
            vocabulary.before_word.update((left, fold(right)) for left, right in pairwise(found)
                                          if len(left) <= MAX_CONTEXT_WORD)
        for word, _count in vocabulary.counts.most_common():
            vocabulary.by_fold.setdefault(fold(word), word)
            vocabulary.spellings.setdefault(fold(word), []).append(word)
        for folded in vocabulary.by_fold:
            if MIN_CORRECTABLE - 1 <= len(folded) <= MAX_CORRECTABLE:
                for variant in _deletions(folded):
                    vocabulary.deletes.setdefault(variant, set()).add(folded)
        return vocabulary

    def spelling(self, word: str, typos: bool = True) -> str:
        """The documents' spelling of a lower-case word (the word itself when none fits)."""
        if word in self.counts or not word.isalpha():
            return word
        staff = self._staff_word(word)
        if staff:
            return staff
        if len(word) < MIN_RESTORED:
            return word
        folded = fold(word)
        if folded in self.by_fold:
            # Marks are restored, never taken away: "läkartid" stays when a document has
            # only "Lakartid" (a title typed without them).
            return _likelier(word, self.by_fold[folded]) if word == folded else word
        if word == folded and len(word) <= MAX_CORRECTABLE:
            marked = _with_marks(word)  # general Swedish: "sprak" -> "språk", "aka" -> "åka"
            if marked != word:
                return marked
        if not typos or not MIN_CORRECTABLE <= len(folded) <= MAX_CORRECTABLE:
            return self._compound(word, folded) or word
        if zipf_frequency(word, "sv") >= COMMON_ZIPF:
            return word
        return self._one_edit(folded) or self._compound(word, folded) or word

    def in_context(self, word: str, before: str | None, after: str | None) -> str | None:
        """The documents' spelling of a word typed without marks that they spell several ways
        ("ar": "år" or "är"; "far": "far" or "får"), chosen by its neighbours: "tre ar" is
        "tre år" where the documents write "tre år" and never "tre är". A spelling typed as
        it stands in the documents keeps it unless another is far more frequent there and in
        general Swedish and the neighbours do not speak for it ("far vi" is "får vi", "barn
        som far illa" stays). None when the neighbours do not decide."""
        folded = fold(word)
        candidates = self.spellings.get(folded, [])
        if word != folded or len(candidates) + (word not in candidates) < 2:
            return None
        if word not in candidates:
            candidates = [*candidates, word]

        def support(candidate: str) -> int:
            return (self.after_word[(fold(before), candidate)] if before else 0) + \
                (self.before_word[(candidate, fold(after))] if after else 0)

        supported = sorted(candidates, key=lambda candidate: -support(candidate))
        if support(supported[0]) > support(supported[1]):
            return supported[0]
        if word in self.counts and support(word) == 0:
            commoner = candidates[0]
            if commoner != word and self.counts[commoner] >= CONTEXT_COMMONER * \
                    self.counts[word] and zipf_frequency(commoner, "sv") > \
                    zipf_frequency(word, "sv"):
                return commoner
        return None

    def _staff_word(self, word: str) -> str | None:
        """The documents' word for a staff word ("doktorn" -> "läkaren") or for a compound
        that starts with one ("doktorstid" -> "läkartid", in their spelling if they use it)."""
        if word in STAFF_WORDS:
            return STAFF_WORDS[word]
        for head, form in STAFF_HEADS.items():
            rest = word[len(head):]
            if word.startswith(head) and len(rest) >= MIN_PART:
                return self.by_fold.get(fold(form + rest), form + rest)
        return None

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

    def _compound(self, word: str, folded: str) -> str | None:
        """Two of the documents' words, with a linking letter between, whose marks the writer
        left out: "lakartimmar" -> "läkar" + "timmar". A head may be a word's compound form
        ("läkar" of "läkare"). None when the word already has its marks or no split fits."""
        if word != folded:
            return None
        best: tuple[int, str] | None = None
        for cut in range(MIN_PART + 1, len(folded) - MIN_PART + 1):
            found = self._head(folded[:cut])
            if found is None:
                continue
            head, head_word = found
            rest = folded[cut:]
            for link in LINKING:
                tail = self.by_fold.get(rest[len(link):]) if rest.startswith(link) else None
                if tail is None or len(tail) < MIN_PART:
                    continue
                score = min(self.counts[head_word], self.counts[tail])
                if best is None or score > best[0]:
                    best = (score, head + link + tail)
        return best[1] if best and fold(best[1]) == folded and best[1] != word else None

    def _head(self, folded_head: str) -> tuple[str, str] | None:
        """The head in the documents' spelling, and the word it comes from."""
        if folded_head in self.by_fold:
            word = self.by_fold[folded_head]
            return word, word
        for ending in ("e", "a"):  # "läkar" is the compound form of "läkare"
            whole = self.by_fold.get(folded_head + ending)
            if whole:
                return whole[:-1], whole
        return None


def respell(text: str, vocabulary: Vocabulary, language: str = "sv") -> str:
    """`text` with each word in the documents' spelling. An English question only gets marks
    restored, and not on English words: one edit away from a Swedish word, or with its marks
    left out, an English word is still English."""

    matches = list(WORD.finditer(text))
    typed_words = [match.group(0).lower() for match in matches]
    index_at = {match.start(): index for index, match in enumerate(matches)}

    def replace(match: re.Match[str]) -> str:
        typed = match.group(0)
        index = index_at[match.start()]
        if language == "en" and zipf_frequency(typed.lower(), "en") >= COMMON_ZIPF:
            return typed  # "for" is English here, not "för" without its marks
        before = typed_words[index - 1] if index > 0 else None
        after = typed_words[index + 1] if index + 1 < len(typed_words) else None
        spelled = (language != "en" and vocabulary.in_context(typed.lower(), before, after)) \
            or vocabulary.spelling(typed.lower(), typos=language != "en")
        if spelled == typed.lower():
            return typed
        if typed.isupper() and len(typed) > 1:
            return spelled.upper()
        return spelled[:1].upper() + spelled[1:] if typed[:1].isupper() else spelled

    return WORD.sub(replace, text)


def _likelier(typed: str, marked: str) -> str:
    """The marked spelling unless the word as typed is itself common Swedish and not much
    rarer ("bara" is not "bära"; "for" is "för", "nar" is "när")."""
    typed_zipf = zipf_frequency(typed, "sv")
    if typed_zipf >= COMMON_ZIPF and typed_zipf >= zipf_frequency(marked, "sv") - LIKELIER_BY:
        return typed
    return marked


def _with_marks(word: str) -> str:
    """The most common Swedish word that is `word` with å/ä/ö put back, when it is common and
    much more common than the word as typed; else the word."""
    slots = [index for index, char in enumerate(word) if char in MARKABLE]
    if not slots or len(slots) > MAX_MARK_SLOTS:
        return word
    best, best_zipf = word, zipf_frequency(word, "sv") + LIKELIER_BY
    for choice in product(*(MARKABLE[word[index]] for index in slots)):
        letters = list(word)
        for index, char in zip(slots, choice, strict=True):
            letters[index] = char
        candidate = "".join(letters)
        if candidate != word:
            candidate_zipf = zipf_frequency(candidate, "sv")
            if candidate_zipf >= MARKED_ZIPF and candidate_zipf > best_zipf:
                best, best_zipf = candidate, candidate_zipf
    return best


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}
