"""Fit the meaning-evidence model on the dev split: `python -m evals.fit_meaning`.

Only dev cases are read (the legacy cases and v2, split by fact). Each question is asked with
a meaning step that accepts every candidate and records its features; a row is a question
that lexical evidence alone would refuse. Its label is 1 when the answer built from the
sentence nearest in meaning has every expected fact, else 0 (an unanswerable question, a
near-miss, or the wrong sentence). A class-balanced logistic regression is fitted, and its
threshold is chosen on 5-fold out-of-fold probabilities so that a wrong answer costs
WRONG_COST right ones ("a wrong number is worse than no answer"). Writes
rag/answer/meaning.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold

from evals.cases import V2_CASES_DIR, Case, load_cases
from evals.metrics import missing_facts
from evals.split import select
from rag.answer.meaning import COEFFICIENTS, FEATURES, MeaningModel, SentenceMeaning
from rag.chain import build_chain
from rag.settings import Settings

SKIPPED_GROUPS = frozenset({"follow-up", "as-of", "compare"})
WRONG_COST = 3.0
C = 1.0
REPEATS = 20


class RecordingMeaning(SentenceMeaning):
    """Accepts every candidate, and keeps the features of the first one asked about."""

    recorded: dict[str, float] | None = None

    def answers(self, values: dict[str, float]) -> bool:
        if self.recorded is None:
            self.recorded = dict(values)
        return True


def dev_cases() -> list[Case]:
    cases = [*load_cases(), *load_cases(V2_CASES_DIR)]
    return [case for case in select(cases, "dev") if case.group_name not in SKIPPED_GROUPS]


def rows(cases: list[Case], settings: Settings) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from ingest.service import Styrdok

    service = Styrdok(settings)
    recorder = RecordingMeaning(service.store.sentence_vectors, model=None)
    service.chain = build_chain(service.retriever, settings, service.model, meaning=recorder)
    indexed = {chunk.document for chunk in service.store.snapshot().chunks}
    features: list[list[float]] = []
    labels: list[float] = []
    ids: list[str] = []
    for case in cases:
        if case.document and case.document not in indexed:
            continue
        recorder.recorded = None
        answer = service.ask(case.question)
        if recorder.recorded is None:
            continue  # decided by lexical evidence or a fixed check
        right = case.answerable and not answer.refused and not missing_facts(
            answer.answer, case.expect.facts)
        features.append([recorder.recorded[name] for name in FEATURES])
        labels.append(1.0 if right else 0.0)
        ids.append(case.id)
    return np.asarray(features), np.asarray(labels), ids


def best_threshold(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The threshold with the highest utility (right answers minus WRONG_COST × wrong ones)."""
    best = (1.01, 0.0)
    for threshold in sorted(set(np.round(probabilities, 4))):
        accepted = probabilities >= threshold
        utility = float(labels[accepted].sum() - WRONG_COST * (1 - labels[accepted]).sum())
        if utility > best[1]:
            best = (float(threshold), utility)
    return best


def fit(x: np.ndarray, y: np.ndarray) -> MeaningModel:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    # Few rows: the out-of-fold probabilities are averaged over repeated splits, so the
    # threshold does not hang on how one split fell.
    out_of_fold = np.zeros(len(y))
    for train, held in RepeatedStratifiedKFold(n_splits=5, n_repeats=REPEATS,
                                               random_state=0).split(z, y):
        fold_model = LogisticRegression(C=C, class_weight="balanced").fit(z[train], y[train])
        out_of_fold[held] += fold_model.predict_proba(z[held])[:, 1] / REPEATS
    threshold, _utility = best_threshold(out_of_fold, y)
    model = LogisticRegression(C=C, class_weight="balanced").fit(z, y)
    return MeaningModel(FEATURES, tuple(float(v) for v in mean), tuple(float(v) for v in scale),
                        tuple(float(v) for v in model.coef_[0]), float(model.intercept_[0]),
                        threshold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=COEFFICIENTS)
    args = parser.parse_args()
    x, y, ids = rows(dev_cases(), Settings())
    model = fit(x, y)
    probabilities = np.array([model.probability(dict(zip(FEATURES, row, strict=True)))
                              for row in x])
    accepted = probabilities >= model.threshold
    print(f"{len(y)} dev questions lexical evidence refuses; {int(y.sum())} of them the "
          f"nearest sentence answers")
    print(f"threshold {model.threshold:.3f} (out-of-fold): in-sample {int(y[accepted].sum())} "
          f"right and {int((1 - y[accepted]).sum())} wrong answers accepted")
    for name, coef in zip(FEATURES, model.coef, strict=True):
        print(f"  {name:14s} {coef:+.3f}")
    args.out.write_text(json.dumps(model.to_json(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(ids)} rows)")


if __name__ == "__main__":
    main()
