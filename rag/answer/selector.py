"""Which sentence leads the answer: lexical and meaning evidence, weighed by a fitted model.

`_score_sentences` ranks the candidate sentences by weighted word coverage, the passage's rank
and whether the sentence has the kind of text asked for. Staff wording and English share few
words with the answer, so the sentence covering most words is often the neighbour of the one
that answers. The selector puts the sentences in a new order by a linear score over their
lexical features, their e5 similarity to the question and the retrieval score of their
passage. Its weights are a pairwise logistic regression fitted on the dev split (`python -m
evals.fit_selector`, in `selector.json`): for each dev question, each sentence holding an
expected fact is compared with each one that does not. Only the order changes; the lexical
scores stay, so the rules that add runners-up and lists to the answer read what they read
before. Without a fitted file the lexical order stands.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from rag.models import SearchHit

if TYPE_CHECKING:
    from rag.answer.extractive import ScoredSentence
    from rag.store.sentence_vectors import SentenceVectors

WEIGHTS = Path(__file__).with_name("selector.json")
# The lexical best leads unless the fitted score of another sentence beats its own by this
# much. Out of fold on dev (`python -m evals.fit_selector`), a fact led in 0.717 / 0.720 /
# 0.720 / 0.715 / 0.709 of the questions at 0 / 0.02 / 0.05 / 0.1 / 0.5; and a difference of
# a few hundredths is what the e5 engines' rounding moves (one legacy case flipped between
# the native and the ONNX engine at 0.01).
LEXICAL_HEAD_START = 0.05
FEATURES = ("score", "cosine", "coverage", "coverage_gap", "own_coverage", "kind_ok",
            "retrieval_share", "rank_weight", "log_length", "cosine_gap", "cosine_rank_weight")


@dataclass(frozen=True)
class SelectorModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]

    def value(self, row: Sequence[float]) -> float:
        return sum(coef * (x - mean) / (scale or 1.0)
                   for x, mean, scale, coef in zip(row, self.mean, self.scale, self.coef,
                                                   strict=True))

    def to_json(self) -> dict[str, object]:
        return {"features": list(self.features), "mean": list(self.mean),
                "scale": list(self.scale), "coef": list(self.coef)}


@lru_cache(maxsize=4)
def load_selector(path: Path = WEIGHTS) -> SelectorModel | None:
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    if tuple(raw["features"]) != FEATURES:
        return None  # fitted for other features: refit rather than misread
    return SelectorModel(tuple(raw["features"]), tuple(raw["mean"]), tuple(raw["scale"]),
                         tuple(raw["coef"]))


def sentence_features(sentences: Sequence[ScoredSentence], hits: list[SearchHit],
                      cosines: Sequence[Sequence[float]]) -> list[list[float]]:
    """One row of FEATURES per sentence; `cosines[hit][position]` is its e5 similarity."""
    best_coverage = max((s.coverage for s in sentences), default=0.0)
    top_retrieval = max((hit.score for hit in hits), default=0.0) or 1.0
    near = [float(cosines[s.hit_index][s.position]) for s in sentences]
    nearest = max(near, default=0.0)
    by_cosine = sorted(range(len(near)), key=lambda i: -near[i])
    cosine_rank = {index: rank for rank, index in enumerate(by_cosine)}
    rows = []
    for index, sentence in enumerate(sentences):
        hit = hits[sentence.hit_index]
        rows.append([sentence.score, near[index],
                     sentence.coverage, sentence.coverage - best_coverage,
                     sentence.own_coverage, float(sentence.kind_ok),
                     hit.score / top_retrieval, 1.0 / (1.0 + sentence.hit_index),
                     math.log(1.0 + len(sentence.text)), near[index] - nearest,
                     1.0 / (1.0 + cosine_rank[index])])
    return rows


def ordering_values(model: SelectorModel, rows: Sequence[Sequence[float]]) -> list[float]:
    """The fitted score of each sentence (one row of FEATURES each, the lexical best first)
    as the order reads it: the lexical best with its head start."""
    values = [model.value(row) for row in rows]
    if values:
        values[0] += LEXICAL_HEAD_START
    return values


class SentenceSelector:
    """Orders the scored sentences by the fitted score (best first; the lexical best, first
    as given, with a head start of LEXICAL_HEAD_START)."""

    def __init__(self, vectors: SentenceVectors, model: SelectorModel | None = None) -> None:
        self.vectors = vectors
        self.model = model if model is not None else load_selector()

    def features(self, question: str, hits: list[SearchHit],
                 sentences: Sequence[ScoredSentence]) -> list[list[float]]:
        used = sorted({s.hit_index for s in sentences})
        per_passage = self.vectors.similarities([hits[i].chunk for i in used],
                                                self.vectors.query(question))
        cosines: list[Sequence[float]] = [()] * len(hits)
        for index, values in zip(used, per_passage, strict=True):
            cosines[index] = [float(v) for v in values]
        return sentence_features(sentences, hits, cosines)

    def order(self, question: str, hits: list[SearchHit],
              sentences: list[ScoredSentence]) -> list[ScoredSentence]:
        if self.model is None or len(sentences) < 2:
            return sentences
        values = ordering_values(self.model, self.features(question, hits, sentences))
        ranked = sorted(range(len(sentences)), key=lambda i: -values[i])
        return [sentences[i] for i in ranked]
