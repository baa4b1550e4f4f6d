"""Sentences of a passage, as the chunker and the answerer both see them."""

from __future__ import annotations

import re

ITEM_PREFIX = "• "
# Split after . ! ? when the next sentence starts; common Swedish abbreviations are protected.
_ABBREVIATIONS = ("t.ex", "bl.a", "m.m", "d.v.s", "dvs", "s", "kl", "ca", "nr", "resp", "jfr",
                  "m.fl", "fl", "inkl", "exkl", "enl", "st", "e.g", "i.e", "etc", "tel")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"”(]?[A-ZÅÄÖÉ0-9•])")
# "2 kap. 4 §" is one reference; "2 kap. Anmälan av vårdskador" is a heading, then a sentence.
_CHAPTER_END = re.compile(r"\d+ kap\.$")


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage; list items (lines starting with a bullet) stand alone."""
    sentences: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith(ITEM_PREFIX):
            sentences.append(line)
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            before = line[start:match.start()]
            last_word = before.rsplit(" ", 1)[-1].rstrip(".").lower()
            if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
                continue
            if _CHAPTER_END.search(before) and line[match.end():][:1].isdigit():
                continue
            sentences.append(line[start:match.start()].strip())
            start = match.end()
        sentences.append(line[start:].strip())
    return [sentence for sentence in sentences if sentence]
