"""Run the cases through the same chain the CLI, API and UI use, and apply the gate."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field
from tqdm import tqdm

from evals.baseline import BaselineRun, run_baseline
from evals.cases import (
    DEFAULT_CASES_DIR,
    GROUPS,
    V2_CASES_DIR,
    Case,
    CaseFileError,
    load_cases,
)
from evals.metrics import (
    MODES,
    CaseResult,
    Summary,
    Thresholds,
    check_split_gate,
    check_thresholds,
    first_rank,
    group_members,
    load_thresholds,
    passage_matches,
    score_case,
    summarize,
)
from evals.split import SPLITS, SplitChoice, select
from rag.settings import Settings

if TYPE_CHECKING:
    from ingest.service import Styrdok

DEFAULT_REPORT_DIR = Path("reports/eval")
SEARCH_K = 10
UNANSWERABLE_GROUP = "(frågor utan svar i dokumenten)"
CASE_SETS = {"legacy": DEFAULT_CASES_DIR, "v2": V2_CASES_DIR}
GateName = Literal["legacy", "v2"]


class EvalRun(BaseModel):
    created: str
    embedder: str
    llm_provider: str
    llm_model: str | None = None
    seconds: float
    summary: Summary
    documents: dict[str, Summary] = Field(default_factory=dict)
    results: list[CaseResult]
    case_set: str = Field(default="", description="'legacy', 'v2' or the case path.")
    split: SplitChoice = "all"
    splits: dict[str, Summary] = Field(default_factory=dict,
                                       description="Summary per split ('dev', 'test').")
    groups: dict[str, dict[str, Summary]] = Field(
        default_factory=dict, description="Split ('dev', 'test', 'all') -> group -> summary; "
        "gate unions such as 'no-diacritics+typo' included.")
    gate: GateName = "legacy"
    thresholds: Thresholds = Field(default_factory=Thresholds)
    threshold_failures: list[str] = Field(default_factory=list)
    baseline: BaselineRun | None = None

    @property
    def gate_passed(self) -> bool:
        return not self.threshold_failures


def group_name(result: CaseResult) -> str:
    return result.document if result.answerable and result.document else UNANSWERABLE_GROUP


def group_scopes(thresholds: Thresholds | None = None) -> list[str]:
    """Every group, then the unions the split gate judges ('no-diacritics+typo')."""
    unions = [scope for scope in (thresholds.v2.groups if thresholds and thresholds.v2 else {})
              if len(group_members(scope)) > 1]
    return [*GROUPS, *unions]


def split_summaries(results: list[CaseResult], *, llm_mode: bool = False,
                    scopes: list[str] | None = None,
                    ) -> tuple[dict[str, Summary], dict[str, dict[str, Summary]]]:
    """Summaries per split and per split x group (only scopes that have cases)."""
    splits: dict[str, Summary] = {
        split: summarize([r for r in results if r.split == split], llm_mode=llm_mode)
              for split in SPLITS if any(r.split == split for r in results)}
    groups: dict[str, dict[str, Summary]] = {}
    for split in [*splits, "all"]:
        chosen = [r for r in results if split == "all" or r.split == split]
        per_scope: dict[str, Summary] = {}
        for scope in scopes or list(GROUPS):
            members = group_members(scope)
            scoped = [r for r in chosen if r.group in members]
            if scoped:
                per_scope[scope] = summarize(scoped, llm_mode=llm_mode)
        groups[split] = per_scope
    return splits, groups


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
    splits, by_group = split_summaries(results, llm_mode=llm_mode, scopes=group_scopes(
        _thresholds_or_none()))
    return EvalRun(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        embedder=service.store.embedder.name, llm_provider=settings.llm_provider,
        llm_model=settings.llm_model if llm_mode else None,
        seconds=round(time.perf_counter() - started, 2),
        summary=summarize(results, llm_mode=llm_mode),
        documents={name: summarize(group, llm_mode=llm_mode)
                   for name, group in sorted(groups.items())},
        splits=splits, groups=by_group, results=results)


def _thresholds_or_none() -> Thresholds | None:
    try:
        return load_thresholds()
    except ValueError:
        return None


def apply_gate(run: EvalRun, thresholds: Thresholds, gate: GateName = "legacy") -> EvalRun:
    """The legacy gate judges all cases run; the v2 gate only the split it names (test)."""
    run.thresholds = thresholds
    run.gate = gate
    if gate == "legacy":
        run.threshold_failures = check_thresholds(run.summary, thresholds)
    elif thresholds.v2 is None:
        run.threshold_failures = ["evals/thresholds.yaml has no 'v2' gate"]
    else:
        run.threshold_failures = check_split_gate(run.results, thresholds.v2)
    return run


def resolve_cases(spec: str | Path | None) -> tuple[Path, str]:
    """A case path and its set's name: 'legacy' (default), 'v2', or a file/folder path."""
    if spec is None or str(spec) in CASE_SETS:
        name = str(spec or "legacy")
        return CASE_SETS[name], name
    path = Path(spec)
    resolved = path.resolve()
    inside_v2 = resolved == V2_CASES_DIR.resolve() or V2_CASES_DIR.resolve() in resolved.parents
    return path, "v2" if inside_v2 else str(path)


def gate_for(case_set: str) -> GateName:
    return "v2" if case_set == "v2" else "legacy"


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


def cli_main(settings: Settings, cases_path: str | Path | None = None,
             report_dir: Path | None = None, baseline: bool = False,
             split: SplitChoice = "all") -> int:
    """`styrdok eval`: 0 when the gate passes, 1 below a threshold, 2 for bad input.

    `cases_path` is 'legacy' (evals/cases/*.yaml, the default), 'v2' (evals/cases/v2/) or a
    path; cases under evals/cases/v2 are judged by the v2 gate, everything else by the legacy
    gate. `split` picks dev, test or all cases (by fact); the v2 gate reads its own split.
    """
    from evals.report import summary_table, write_reports
    from ingest.service import Styrdok

    try:
        path, case_set = resolve_cases(cases_path)
        cases = select(load_cases(path), split)
        thresholds = load_thresholds()
        if not cases:
            raise CaseFileError(f"{path}: no cases in split '{split}'")
    except (CaseFileError, ValueError, OSError) as error:
        print(f"Fel i utvärderingsfallen: {error}", file=sys.stderr)
        return 2
    service = Styrdok(settings)
    ensure_corpus(service, cases)
    run = run_eval(service, cases)
    run.case_set, run.split = case_set, split
    gate = gate_for(case_set)
    run = apply_gate(run, thresholds, gate)
    if gate == "v2" and thresholds.v2 and split == "dev":
        print(f"Obs: v2-grinden läser {thresholds.v2.split}-delen; med --split dev körs den "
              "inte (slutkod 0).", file=sys.stderr)
        run.threshold_failures = []
    if baseline:
        run.baseline = run_baseline(cases, settings.corpus_dir)
    paths = write_reports(run, report_dir or DEFAULT_REPORT_DIR)
    print(summary_table(run))
    print(f"Rapporter: {', '.join(str(path) for path in paths)}")
    if run.threshold_failures:
        print("UNDER TRÖSKEL: " + "; ".join(run.threshold_failures), file=sys.stderr)
        return 1
    return 0
