"""Fit the sentence selector on the dev split: `python -m evals.fit_selector`.

Only dev cases with facts are read (the legacy cases and v2, split by fact). Each question is
asked with the lexical order kept, and the candidate sentences the selector is given (once the
refusal checks have passed) are recorded with their features. A sentence is a positive when
it holds an expected fact and its passage is the expected source. Each positive of a question
is paired with each of its negatives; a logistic regression without intercept on the feature
differences (each question weighing the same however many pairs it has) gives the weights.
Reports, out of fold over folds grouped by fact, how often the first sentence holds a fact in
the lexical and in the fitted order. Writes rag/answer/selector.json.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from evals.cases import V2_CASES_DIR, Case, load_cases, matches
from evals.metrics import passage_matches, strip_markers
from evals.split import select
from rag.answer.extractive import ScoredSentence
from rag.answer.selector import (
    FEATURES,
    WEIGHTS,
    SelectorModel,
    SentenceSelector,
    ordering_values,
)
from rag.chain import build_chain
from rag.models import SearchHit
from rag.settings import Settings

SKIPPED_GROUPS = frozenset({"follow-up", "as-of", "compare"})
C = 0.1  # chosen on dev out of fold: 0.03 / 0.1 / 0.3 put a fact first in 0.701 / 0.703 / 0.700
FOLDS = 5


@dataclass
class Question:
    case: Case
    features: np.ndarray
    labels: np.ndarray


class RecordingSelector(SentenceSelector):
    """Keeps the lexical order, and records the first sentences it is given per question."""

    recorded: tuple[list[list[float]], list[ScoredSentence], list[SearchHit]] | None = None

    def order(self, question: str, hits: list[SearchHit],
              sentences: list[ScoredSentence]) -> list[ScoredSentence]:
        if self.recorded is None and sentences:
            self.recorded = (self.features(question, hits, sentences), sentences, hits)
        return sentences


def dev_cases() -> list[Case]:
    cases = [*load_cases(), *load_cases(V2_CASES_DIR)]
    return [case for case in select(cases, "dev")
            if case.answerable and case.group_name not in SKIPPED_GROUPS]


def holds_fact(sentence: ScoredSentence, hit: SearchHit, case: Case) -> bool:
    text = strip_markers(sentence.text)
    return passage_matches(hit.chunk, case) and any(matches(fact, text)
                                                    for fact in case.expect.facts)


def questions(cases: list[Case], settings: Settings) -> list[Question]:
    from ingest.service import Styrdok

    service = Styrdok(settings)
    recorder = RecordingSelector(service.store.sentence_vectors)
    service.chain = build_chain(service.retriever, settings, service.model, selector=recorder)
    indexed = {chunk.document for chunk in service.store.snapshot().chunks}
    found: list[Question] = []
    for case in cases:
        if case.document and case.document not in indexed:
            continue
        recorder.recorded = None
        service.ask(case.question)
        if recorder.recorded is None:
            continue
        rows, sentences, hits = recorder.recorded
        labels = np.array([holds_fact(s, hits[s.hit_index], case) for s in sentences])
        found.append(Question(case, np.asarray(rows, dtype=float), labels))
    return found


def pairs(items: list[Question], mean: np.ndarray,
          scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, weights = [], [], []
    for item in items:
        z = (item.features - mean) / scale
        positive, negative = z[item.labels], z[~item.labels]
        if not len(positive) or not len(negative):
            continue
        difference = (positive[:, None, :] - negative[None, :, :]).reshape(-1, z.shape[1])
        weight = 1.0 / len(difference)
        xs += [difference, -difference]
        ys += [np.ones(len(difference)), np.zeros(len(difference))]
        weights += [np.full(len(difference), weight)] * 2
    return np.vstack(xs), np.concatenate(ys), np.concatenate(weights)


def fit(items: list[Question]) -> SelectorModel:
    stacked = np.vstack([item.features for item in items])
    mean, scale = stacked.mean(axis=0), stacked.std(axis=0)
    scale[scale == 0] = 1.0
    x, y, weight = pairs(items, mean, scale)
    model = LogisticRegression(C=C, fit_intercept=False).fit(x, y, sample_weight=weight)
    return SelectorModel(FEATURES, tuple(float(v) for v in mean),
                         tuple(float(v) for v in scale), tuple(float(v) for v in model.coef_[0]))


def first_holds(item: Question, model: SelectorModel | None) -> bool:
    if model is None:  # the lexical order, as recorded
        return bool(item.labels[0])
    return bool(item.labels[int(np.argmax(ordering_values(model, item.features.tolist())))])


def out_of_fold(items: list[Question]) -> dict[str, tuple[int, int, int]]:
    """Per group: (questions, first sentence holds a fact lexically, and when fitted)."""
    groups = [item.case.fact for item in items]
    counts: dict[str, list[int]] = {}
    for train, held in GroupKFold(n_splits=FOLDS).split(items, groups=groups):
        model = fit([items[i] for i in train])
        for i in held:
            for name in ("all", items[i].case.group_name):
                count = counts.setdefault(name, [0, 0, 0])
                count[0] += 1
                count[1] += first_holds(items[i], None)
                count[2] += first_holds(items[i], model)
    return {name: (a, b, c) for name, (a, b, c) in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    items = questions(dev_cases(), Settings())
    reachable = [item for item in items if item.labels.any()]
    print(f"{len(items)} dev questions with facts; a candidate sentence holds one in "
          f"{len(reachable)}")
    print("first sentence holds a fact, out of fold (grouped by fact): lexical -> fitted")
    for name, (total, lexical, fitted) in sorted(out_of_fold(reachable).items()):
        print(f"  {name:18s} {total:4d}  {lexical / total:.3f} -> {fitted / total:.3f}")
    model = fit(reachable)
    for name, coef in zip(FEATURES, model.coef, strict=True):
        print(f"  {name:16s} {coef:+.3f}")
    args.out.write_text(json.dumps(model.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
