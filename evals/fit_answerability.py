"""Fit the answer/refuse model on the dev split: `python -m evals.fit_answerability`.

Reads only dev cases (legacy and v2, split by fact), runs each question through retrieval and
the evidence step, and fits a class-balanced, L2-regularised logistic regression (Newton's
method in numpy) on the features the answerer decides with. Cases the fixed checks already
decide (a region not in the documents, an unmet constraint) are left out, as are cases about
documents that are not indexed. Writes rag/answer/answerability.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from evals.cases import V2_CASES_DIR, Case, load_cases
from evals.split import select
from rag.answer.answerability import COEFFICIENTS, FEATURES, AnswerabilityModel
from rag.answer.extractive import assess
from rag.settings import Settings
from rag.text.language import detect_language

SKIPPED_GROUPS = frozenset({"follow-up", "as-of", "compare"})
L2 = 1.0
# "A wrong number is worse than no answer", but refusing what the documents say is a failure
# too: the threshold is set so that at most this share of answerable dev questions is refused.
FALSE_REFUSAL_BUDGET = 0.05


def dev_cases() -> list[Case]:
    cases = [*load_cases(), *load_cases(V2_CASES_DIR)]
    return [case for case in select(cases, "dev") if case.group_name not in SKIPPED_GROUPS]


def case_features(cases: list[Case], settings: Settings) -> tuple[np.ndarray, np.ndarray,
                                                                  list[str]]:
    from ingest.service import Styrdok

    service = Styrdok(settings)
    snapshot = service.store.snapshot()
    indexed = {chunk.document for chunk in snapshot.chunks}
    years = {info.document: info.year for info in service.documents()}
    sentence_index = service.store.sentence_index(snapshot)
    rows: list[list[float]] = []
    labels: list[float] = []
    ids: list[str] = []
    for case in cases:
        if case.document and case.document not in indexed:
            continue
        hits = service.search(case.question, k=10)
        assessment = assess(case.question, detect_language(case.question), hits, snapshot,
                            query_vector=service.retriever.searcher.query_vector(service.retriever.searcher.dense_text(case.question)),
                            sentence_index=sentence_index, document_years=years,
                            embed=service.retriever.searcher.query_vector)
        if assessment.unknown_region is not None or assessment.best is None or \
                assessment.best.unmet:
            continue
        rows.append([assessment.features[name] for name in FEATURES])
        labels.append(1.0 if case.answerable else 0.0)
        ids.append(case.id)
    return np.asarray(rows), np.asarray(labels), ids


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2) -> AnswerabilityModel:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    design = np.hstack([np.ones((len(z), 1)), z])
    positives = max(y.sum(), 1.0)
    negatives = max(len(y) - y.sum(), 1.0)
    weights = np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * negatives))
    beta = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (weights * (p - y)) + penalty @ beta
        hessian = (design * (weights * p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return AnswerabilityModel(FEATURES, tuple(float(v) for v in mean),
                              tuple(float(v) for v in scale),
                              tuple(float(v) for v in beta[1:]), float(beta[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=COEFFICIENTS)
    args = parser.parse_args()
    x, y, ids = case_features(dev_cases(), Settings())
    model = fit(x, y)
    scores = np.array([model.probability(dict(zip(FEATURES, row, strict=True))) for row in x])
    threshold = float(np.quantile(scores[y == 1], FALSE_REFUSAL_BUDGET))
    model = AnswerabilityModel(model.features, model.mean, model.scale, model.coef,
                               model.intercept, min(0.5, threshold))
    predicted = np.array([model.answerable(dict(zip(FEATURES, row, strict=True))) for row in x])
    answerable = y == 1
    print(f"dev cases fitted: {len(y)} ({int(answerable.sum())} answerable)")
    print(f"false refusals on dev: {float((~predicted[answerable]).mean()):.3f}")
    if (~answerable).any():
        print(f"refusals of unanswerable on dev: {float((~predicted[~answerable]).mean()):.3f}")
    for name, coef in zip(FEATURES, model.coef, strict=True):
        print(f"  {name:10s} {coef:+.3f}")
    wrong = [case_id for case_id, p, t in zip(ids, predicted, answerable, strict=True) if p != t]
    print("misclassified on dev:", ", ".join(wrong))
    args.out.write_text(json.dumps(model.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
