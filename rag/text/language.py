"""Tell a Swedish question from an English one (the only two languages Styrdok answers in).

Each word votes by how much more common it is in general Swedish than in general English
(wordfreq's Zipf scale, capped so one word cannot decide alone); a word neither language
knows votes Swedish when it splits into Swedish words ("listningsvitet"), and å/ä/ö vote
Swedish. Short rare words are abbreviations and do not vote, and a question is English only
when the votes clearly say so. So "maxbelopp for listningsvitet per patient?" is Swedish
although "for", "per" and "patient" are English words too.
"""

from __future__ import annotations

from typing import Literal

from wordfreq import zipf_frequency

from rag.text.lexical import split_compound, words

Language = Literal["sv", "en"]

MAX_VOTE = 3.0  # Zipf points: one word is at most this sure
COMPOUND_VOTE = 2.0
MARKS_VOTE = 3.0
# A short rare word is an abbreviation ("bmm", "vc", "sip"): its frequencies say nothing.
SHORT = 3
KNOWN_ZIPF = 4.0
# Staff write Swedish; a question is English only when its words clearly say so.
ENGLISH_BELOW = -1.0


def detect_language(text: str) -> Language:
    score = MARKS_VOTE if any(ch in text.lower() for ch in "åäö") else 0.0
    for token in words(text):
        if not token.isalpha():
            continue
        swedish, english = zipf_frequency(token, "sv"), zipf_frequency(token, "en")
        if len(token) <= SHORT and max(swedish, english) < KNOWN_ZIPF:
            continue
        if swedish == english == 0.0 and len(split_compound(token)) > 1:
            swedish = COMPOUND_VOTE
        score += max(-MAX_VOTE, min(MAX_VOTE, swedish - english))
    return "en" if score < ENGLISH_BELOW else "sv"
