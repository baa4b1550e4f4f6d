"""Evidence by meaning: when the question's words are not the documents' words.

Lexical coverage refuses "deadline för nulägesrapporten?" although the passage says "senast
15 oktober 2019 skicka in … Nulägesbeskrivning": staff wording, synonyms and English share
few words with the text. So before a low-coverage refusal, each sentence of the top passages
is compared with the question in the multilingual e5 space (the sentence embedded as an e5
passage with its heading, a list item with its lead-in). The sentence nearest in meaning is
the candidate answer, and a small logistic model fitted on the dev split
(`python -m evals.fit_meaning`, coefficients in `meaning.json`) decides whether it answers
the question or the refusal stands. Without a fitted file nothing is rescued.
"""

from __future__ import annotations

import json
import math
from collections.abc import Container
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.models import SearchHit
from rag.store.sentence_vectors import SentenceVectors, embedded_sentences

COEFFICIENTS = Path(__file__).with_name("meaning.json")
FEATURES = ("cosine", "margin", "lexical", "best_lexical", "rank", "unknown", "unknown_gain",
            "english")
PASSAGES = 3  # the sentences of this many top passages are compared


@dataclass(frozen=True)
class MeaningModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept
        for name, mean, scale, coef in zip(self.features, self.mean, self.scale, self.coef,
                                           strict=True):
            z += coef * (values[name] - mean) / (scale or 1.0)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict[str, object]:
        return {"features": list(self.features), "mean": list(self.mean),
                "scale": list(self.scale), "coef": list(self.coef),
                "intercept": self.intercept, "threshold": self.threshold}


@lru_cache(maxsize=4)
def load_model(path: Path = COEFFICIENTS) -> MeaningModel | None:
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return MeaningModel(tuple(raw["features"]), tuple(raw["mean"]), tuple(raw["scale"]),
                        tuple(raw["coef"]), float(raw["intercept"]), float(raw["threshold"]))


@dataclass(frozen=True)
class Nearest:
    """The sentence of the top passages nearest the question in meaning."""

    hit_index: int
    position: int
    text: str
    embedded: str  # what was embedded for it (with heading or lead-in)
    cosine: float
    margin: float  # over the nearest sentence of any other passage


class SentenceMeaning:
    """The question against the sentences of the top passages, and the fitted decision."""

    def __init__(self, vectors: SentenceVectors, model: MeaningModel | None = None) -> None:
        self.vectors = vectors
        self.model = model if model is not None else load_model()

    def nearest(self, question: str, hits: list[SearchHit],
                usable: Container[tuple[int, int]]) -> Nearest | None:
        """`usable`: the (hit, sentence position) pairs that may be evidence at all; only
        those of the top PASSAGES hits are compared."""
        top = [hit.chunk for hit in hits[:PASSAGES]]
        keys = [(hit_index, position, sentence)
                for hit_index, chunk in enumerate(top)
                for position, sentence in enumerate(chunk.sentences())
                if (hit_index, position) in usable]
        if not keys:
            return None
        per_passage = self.vectors.similarities(top, self.vectors.query(question))
        cosines = np.array([per_passage[hit][position] for hit, position, _ in keys],
                           dtype=np.float32)
        best = int(np.argmax(cosines))
        others = [float(c) for key, c in zip(keys, cosines, strict=True)
                  if key[0] != keys[best][0]]
        margin = float(cosines[best]) - max(others, default=float(cosines[best]) - 0.05)
        hit_index, position, text = keys[best]
        return Nearest(hit_index, position, text, embedded_sentences(top[hit_index])[position],
                       float(cosines[best]), margin)

    def cosine(self, question: str, embedded: str) -> float:
        """The question's similarity to one embedded sentence."""
        return float(self.vectors.of([embedded])[0] @ self.vectors.query(question))

    def answers(self, values: dict[str, float]) -> bool:
        """Whether the nearest sentence, with these features, answers the question."""
        return self.model is not None and self.model.probability(values) >= self.model.threshold
