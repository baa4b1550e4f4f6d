"""Answer or refuse: a logistic regression over a handful of evidence features.

The coefficients are data (`answerability.json`), fitted on the dev split of the eval cases
by `python -m evals.fit_answerability`; nothing here is a hand threshold except the fallback
used when no fitted file exists.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

COEFFICIENTS = Path(__file__).with_name("answerability.json")
FEATURES = ("lexical", "dense", "dense_max", "unknown", "unknown_word", "missing", "unmet",
            "kind_ok", "rank", "english", "unknown_delta")


@dataclass(frozen=True)
class AnswerabilityModel:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float = 0.5

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept
        for name, mean, scale, coef in zip(self.features, self.mean, self.scale, self.coef,
                                           strict=True):
            z += coef * (values.get(name, 0.0) - mean) / (scale or 1.0)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def answerable(self, values: dict[str, float]) -> bool:
        return self.probability(values) >= self.threshold

    def to_json(self) -> dict[str, object]:
        return {"features": list(self.features), "mean": list(self.mean),
                "scale": list(self.scale), "coef": list(self.coef),
                "intercept": self.intercept, "threshold": self.threshold}


# Used only until a fitted file exists: lexical coverage alone, at the old 0.35 evidence level.
FALLBACK = AnswerabilityModel(FEATURES, (0.35,) + (0.0,) * (len(FEATURES) - 1),
                              (0.05,) + (1.0,) * (len(FEATURES) - 1),
                              (1.0,) + (0.0,) * (len(FEATURES) - 1), 0.0)


@lru_cache(maxsize=4)
def load_model(path: Path = COEFFICIENTS) -> AnswerabilityModel:
    if not path.is_file():
        return FALLBACK
    raw = json.loads(path.read_text(encoding="utf-8"))
    return AnswerabilityModel(tuple(raw["features"]), tuple(raw["mean"]), tuple(raw["scale"]),
                              tuple(raw["coef"]), float(raw["intercept"]),
                              float(raw.get("threshold", 0.5)))
