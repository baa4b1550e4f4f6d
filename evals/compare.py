"""Compare cases (`evals/compare/*.yaml`): one question, an expected cell per region.

A cell expects either the facts its cited sentence must contain (and the document it must
cite) or `not-stated`. Scoring is per cell: a stated cell is right when the row is stated,
every fact matches its answer and it cites the expected document; a not-stated cell is right
when the row says "Anges inte". Any row citing another region's document counts against the
gate on its own. The split is by fact (the BRIEF's rule), so dev and test never share a rule.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evals.cases import compile_pattern, matches
from evals.metrics import percentile
from evals.split import Split, split_of
from rag.models import CompareRow, Comparison

if TYPE_CHECKING:
    from ingest.service import Styrdok

DEFAULT_COMPARE_DIR = Path(__file__).parent / "compare"
NOT_STATED_CELL = "not-stated"
# The gate (issue 14): read on the test split.
MIN_CELL_ACCURACY = 0.90
MIN_NOT_STATED_ACCURACY = 0.90
MAX_WRONG_REGION_CELLS = 0


class StatedCell(BaseModel):
    model_config = ConfigDict(extra="forbid")

    facts: list[str] = Field(min_length=1)
    document: str | None = None

    @field_validator("facts")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        for fact in value:
            compile_pattern(fact)
        return value


class CompareCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    fact: str = Field(min_length=1)
    group: Literal["compare"] = "compare"
    question: str = Field(min_length=1)
    language: Literal["sv", "en"] = "sv"
    regions: list[str] | None = Field(None, description="Rows asked for explicitly; "
                                      "without it the question routes itself.")
    cells: dict[str, StatedCell | Literal["not-stated"]] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)

    @property
    def split(self) -> Split:
        return split_of(self.fact)


class CellResult(BaseModel):
    case: str
    fact: str
    split: Split
    region: str
    expected: Literal["stated", "not-stated"]
    got: Literal["stated", "not-stated", "missing"]
    correct: bool
    wrong_region: bool
    cited: str = ""
    requirement: str = ""
    reason: str = ""


class CompareSummary(BaseModel):
    cases: int
    cells: int
    cell_accuracy: float | None
    stated_cells: int
    stated_accuracy: float | None
    not_stated_cells: int
    not_stated_accuracy: float | None
    wrong_region_cells: int
    missing_rows: int


class CompareRun(BaseModel):
    created: str
    seconds: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    splits: dict[str, CompareSummary]
    cells: list[CellResult]
    failures: list[str] = Field(default_factory=list)


class CompareCaseError(Exception):
    """A compare case file that cannot be used (the message names file, case and field)."""


def load_compare_cases(path: Path = DEFAULT_COMPARE_DIR) -> list[CompareCase]:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    cases: list[CompareCase] = []
    seen: set[str] = set()
    for file in files:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or []
        if not isinstance(raw, list):
            raise CompareCaseError(f"{file}: expected a list of cases")
        for index, entry in enumerate(raw, start=1):
            try:
                case = CompareCase.model_validate(entry)
            except ValidationError as error:
                problem = error.errors()[0]
                where = ".".join(str(part) for part in problem["loc"])
                raise CompareCaseError(f"{file}: case #{index}: field '{where}': "
                                       f"{problem['msg']}") from error
            if case.id in seen:
                raise CompareCaseError(f"{file}: case '{case.id}': duplicate id")
            seen.add(case.id)
            cases.append(case)
    if not cases:
        raise CompareCaseError(f"{path}: no compare cases found")
    return cases


def score_cells(case: CompareCase, comparison: Comparison) -> list[CellResult]:
    rows = {row.region: row for row in comparison.rows}
    return [_score_cell(case, region, expected, rows.get(region))
            for region, expected in case.cells.items()]


def _score_cell(case: CompareCase, region: str, expected: StatedCell | str,
                row: CompareRow | None) -> CellResult:
    wanted: Literal["stated", "not-stated"] = "not-stated" if isinstance(expected, str) \
        else "stated"
    base = {"case": case.id, "fact": case.fact, "split": case.split, "region": region,
            "expected": wanted}
    if row is None:
        return CellResult(**base, got="missing", correct=False, wrong_region=False,
                          reason="no row for this region")
    cited = [*row.citations, *row.nearest]
    wrong_region = any(citation.region != region for citation in cited)
    got: Literal["stated", "not-stated"] = "stated" if row.stated else "not-stated"
    document = row.citations[0].document if row.citations else ""
    reason = ""
    if isinstance(expected, StatedCell):
        text = f"{row.answer}\n{row.quote}"
        missing = [fact for fact in expected.facts if not matches(fact, text)]
        if not row.stated:
            reason = "said not stated"
        elif missing:
            reason = f"missing {missing}"
        elif expected.document and document != expected.document:
            reason = f"cited {document}"
        correct = not reason
    else:
        correct = not row.stated
        reason = "" if correct else "stated something the region does not say"
    if wrong_region:
        correct = False
        reason = "cites another region's document"
    return CellResult(**base, got=got, correct=correct, wrong_region=wrong_region,
                      cited=document, requirement=row.requirement, reason=reason)


def summarize(cells: list[CellResult]) -> CompareSummary:
    stated = [cell for cell in cells if cell.expected == "stated"]
    not_stated = [cell for cell in cells if cell.expected == "not-stated"]
    return CompareSummary(
        cases=len({cell.case for cell in cells}), cells=len(cells),
        cell_accuracy=_share(cells), stated_cells=len(stated), stated_accuracy=_share(stated),
        not_stated_cells=len(not_stated), not_stated_accuracy=_share(not_stated),
        wrong_region_cells=sum(cell.wrong_region for cell in cells),
        missing_rows=sum(cell.got == "missing" for cell in cells))


def _share(cells: list[CellResult]) -> float | None:
    return round(sum(cell.correct for cell in cells) / len(cells), 3) if cells else None


def gate_failures(test: CompareSummary) -> list[str]:
    failures = []
    if test.cell_accuracy is None or test.cell_accuracy < MIN_CELL_ACCURACY:
        failures.append(f"cell accuracy {test.cell_accuracy} < {MIN_CELL_ACCURACY}")
    if test.not_stated_accuracy is not None and \
            test.not_stated_accuracy < MIN_NOT_STATED_ACCURACY:
        failures.append(f"not-stated accuracy {test.not_stated_accuracy} < "
                        f"{MIN_NOT_STATED_ACCURACY}")
    if test.wrong_region_cells > MAX_WRONG_REGION_CELLS:
        failures.append(f"{test.wrong_region_cells} cells cite another region's document")
    return failures


def run_compare_eval(service: Styrdok, cases: list[CompareCase]) -> CompareRun:
    from datetime import UTC, datetime

    started = time.perf_counter()
    cells: list[CellResult] = []
    latencies: list[float] = []
    for case in cases:
        asked = time.perf_counter()
        comparison = service.compare(case.question, case.regions)
        latencies.append((time.perf_counter() - asked) * 1000)
        cells.extend(score_cells(case, comparison))
    splits = {name: summarize([cell for cell in cells if cell.split == name])
              for name in ("dev", "test")}
    splits["all"] = summarize(cells)
    return CompareRun(created=datetime.now(UTC).isoformat(timespec="seconds"),
                      seconds=round(time.perf_counter() - started, 2),
                      latency_p50_ms=percentile(latencies, 50),
                      latency_p95_ms=percentile(latencies, 95), splits=splits, cells=cells,
                      failures=gate_failures(splits["test"]))


def report_markdown(run: CompareRun) -> str:
    """The report section: the three gate figures per split, then every wrong cell."""
    def figure(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f}"

    lines = ["## Jämförelser mellan regioner (compare)", "",
             "| | dev | test | gräns (test) |", "|---|---|---|---|"]
    dev, test = run.splits["dev"], run.splits["test"]
    lines += [
        f"| fall / celler | {dev.cases} / {dev.cells} | {test.cases} / {test.cells} | |",
        f"| cellträffsäkerhet | {figure(dev.cell_accuracy)} | {figure(test.cell_accuracy)} "
        f"| ≥ {MIN_CELL_ACCURACY:.2f} |",
        f"| angivna celler rätt | {figure(dev.stated_accuracy)} | "
        f"{figure(test.stated_accuracy)} | |",
        f"| \"anges inte\" rätt | {figure(dev.not_stated_accuracy)} | "
        f"{figure(test.not_stated_accuracy)} | ≥ {MIN_NOT_STATED_ACCURACY:.2f} |",
        f"| celler som citerar fel region | {dev.wrong_region_cells} | "
        f"{test.wrong_region_cells} | = {MAX_WRONG_REGION_CELLS} |",
        f"| saknade rader | {dev.missing_rows} | {test.missing_rows} | |",
        "", f"Svarstid per jämförelse: p50 {run.latency_p50_ms} ms, p95 {run.latency_p95_ms} ms "
        f"({run.seconds} s totalt).", ""]
    wrong = [cell for cell in run.cells if not cell.correct]
    if wrong:
        lines += ["| fall | split | region | väntat | fick | varför |", "|---|---|---|---|---|---|"]
        lines += [f"| {c.case} | {c.split} | {c.region} | {c.expected} | {c.got} | "
                  f"{c.reason.replace('|', '/')} |" for c in wrong]
    lines.append("")
    lines.append("**Godkänd**" if not run.failures else
                 "**Under gränsen:** " + "; ".join(run.failures))
    return "\n".join(lines) + "\n"


def write_compare_report(run: CompareRun, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    markdown = folder / "compare.md"
    data = folder / "compare.json"
    markdown.write_text(report_markdown(run), encoding="utf-8")
    data.write_text(json.dumps(run.model_dump(), ensure_ascii=False, indent=2),
                    encoding="utf-8")
    return [markdown, data]


def compare_cli_main(service: Styrdok, cases_path: Path | None, report_dir: Path) -> int:
    """`styrdok eval --compare`: 0 when the test split passes, 1 below, 2 for bad cases."""
    try:
        cases = load_compare_cases(cases_path or DEFAULT_COMPARE_DIR)
    except (CompareCaseError, OSError, yaml.YAMLError) as error:
        print(f"Fel i jämförelsefallen: {error}", file=sys.stderr)
        return 2
    run = run_compare_eval(service, cases)
    paths = write_compare_report(run, report_dir)
    print(report_markdown(run))
    print(f"Rapporter: {', '.join(str(path) for path in paths)}")
    return 1 if run.failures else 0
