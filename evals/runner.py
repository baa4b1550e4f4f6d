"""Run the cases through the same chain the CLI, API and UI use, and apply the gate."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from tqdm import tqdm

from evals.baseline import BaselineRun, run_baseline
from evals.cases import Case, CaseFileError, load_cases
from evals.metrics import (
    MODES,
    CaseResult,
    Summary,
    Thresholds,
    check_thresholds,
    first_rank,
    load_thresholds,
    passage_matches,
    score_case,
    summarize,
)
from rag.settings import Settings

if TYPE_CHECKING:
    from ingest.service import Styrdok

DEFAULT_REPORT_DIR = Path("reports/eval")
SEARCH_K = 10
UNANSWERABLE_GROUP = "(frågor utan svar i dokumenten)"


class EvalRun(BaseModel):
    created: str
    embedder: str
    llm_provider: str
    llm_model: str | None = None
    seconds: float
    summary: Summary
    documents: dict[str, Summary] = Field(default_factory=dict)
    results: list[CaseResult]
    thresholds: Thresholds = Field(default_factory=Thresholds)
    threshold_failures: list[str] = Field(default_factory=list)
    baseline: BaselineRun | None = None

    @property
    def gate_passed(self) -> bool:
        return not self.threshold_failures


def group_name(result: CaseResult) -> str:
    return result.document if result.answerable and result.document else UNANSWERABLE_GROUP


def run_eval(service: Styrdok, cases: list[Case], *, progress: bool = True) -> EvalRun:
    """Ask every case, score it, and summarise overall and per document."""
    started = time.perf_counter()
    snapshot = service.store.snapshot()
    texts = {chunk.chunk_id: chunk.text for chunk in snapshot.chunks}
    results: list[CaseResult] = []
    for case in tqdm(cases, desc="Utvärdering", unit="fall", disable=not progress):
        ranks: dict[str, int | None] = {}
        expected: str | None = None
        if case.answerable:
            for mode in MODES:
                hits = service.search(case.question, k=SEARCH_K, mode=mode, as_of=case.as_of)
                ranks[mode] = first_rank((hit.chunk for hit in hits), case)
            expected = next((chunk.text for chunk in snapshot.chunks
                             if passage_matches(chunk, case)), None)
        asked = time.perf_counter()
        answer = service.ask(case.question, as_of=case.as_of)
        latency_ms = (time.perf_counter() - asked) * 1000
        results.append(score_case(case, answer, rank=ranks.get("hybrid"), ranks=ranks,
                                  chunk_text=texts.get, latency_ms=latency_ms,
                                  expected_passage=expected))
    settings = service.settings
    llm_mode = settings.llm_provider != "none"
    groups: dict[str, list[CaseResult]] = {}
    for result in results:
        groups.setdefault(group_name(result), []).append(result)
    return EvalRun(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        embedder=service.store.embedder.name, llm_provider=settings.llm_provider,
        llm_model=settings.llm_model if llm_mode else None,
        seconds=round(time.perf_counter() - started, 2),
        summary=summarize(results, llm_mode=llm_mode),
        documents={name: summarize(group, llm_mode=llm_mode)
                   for name, group in sorted(groups.items())},
        results=results)


def apply_gate(run: EvalRun, thresholds: Thresholds) -> EvalRun:
    run.thresholds = thresholds
    run.threshold_failures = check_thresholds(run.summary, thresholds)
    return run


def ensure_corpus(service: Styrdok, cases: list[Case]) -> None:
    """Ingest the corpus folder when documents the cases need are missing from the index."""
    indexed = {info.document for info in service.documents()}
    needed = {case.document for case in cases if case.document}
    corpus = service.settings.corpus_dir
    if needed - indexed and corpus.is_dir():
        print(f"Indexerar {corpus} (saknas i indexet: {', '.join(sorted(needed - indexed))})",
              file=sys.stderr)
        report = service.ingest([corpus], progress=True)
        for failure in report.failed:
            print(f"  kunde inte läsa {failure.path}: {failure.reason}", file=sys.stderr)


def cli_main(settings: Settings, cases_path: Path | None = None,
             report_dir: Path | None = None, baseline: bool = False) -> int:
    """`styrdok eval`: 0 when the gate passes, 1 below a threshold, 2 for bad input."""
    from evals.report import summary_table, write_reports
    from ingest.service import Styrdok

    try:
        cases = load_cases(cases_path) if cases_path else load_cases()
        thresholds = load_thresholds()
    except (CaseFileError, ValueError, OSError) as error:
        print(f"Fel i utvärderingsfallen: {error}", file=sys.stderr)
        return 2
    service = Styrdok(settings)
    ensure_corpus(service, cases)
    run = apply_gate(run_eval(service, cases), thresholds)
    if baseline:
        run.baseline = run_baseline(cases, settings.corpus_dir)
    paths = write_reports(run, report_dir or DEFAULT_REPORT_DIR)
    print(summary_table(run))
    print(f"Rapporter: {', '.join(str(path) for path in paths)}")
    if run.threshold_failures:
        print("UNDER TRÖSKEL: " + "; ".join(run.threshold_failures), file=sys.stderr)
        return 1
    return 0
