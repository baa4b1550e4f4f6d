"""An owner's eval run: only the cases about their documents, reported in plain Swedish
("rätt svar", "rätt källa", "riktigt avböjda"), failures first and short, stored in the data
dir (never the server's working directory)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from evals.cases import Case, load_cases
from evals.metrics import CaseResult
from evals.runner import EvalRun, run_eval
from ingest.service import Styrdok

REPORTS_DIR = "owner_reports"
LATEST = "senaste.md"
ANSWER_CHARS = 220


def in_scope(cases: list[Case], documents: set[str]) -> list[Case]:
    """The cases about one of `documents` (refuse cases name no document, so none)."""
    return [case for case in cases if case.document in documents]


def owner_cases_for(own: list[Case], documents: set[str], include_repository: bool
                    ) -> list[Case]:
    """The owners' cases about `documents` plus all their refuse cases, and optionally the
    repository's cases about `documents` (its refuse cases are about the whole corpus, not
    one owner's documents, so they are left out)."""
    chosen = [case for case in own if not case.answerable or case.document in documents]
    if include_repository:
        known = {case.id for case in chosen}
        chosen += [case for case in in_scope(load_cases(), documents) if case.id not in known]
    return chosen


def run_owner_eval(service: Styrdok, cases: list[Case]) -> tuple[EvalRun, Path]:
    """Run `cases` and store the report; returns the run and the report's path."""
    run = run_eval(service, cases, progress=False)
    folder = service.settings.data_dir / REPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    text = owner_report(run)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = folder / f"{stamp}.md"
    for target in (path, folder / LATEST):
        temporary = target.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
    return run, path


def latest_owner_report(data_dir: Path) -> str:
    path = data_dir / REPORTS_DIR / LATEST
    return path.read_text(encoding="utf-8") if path.is_file() else \
        "*Ingen körning ännu. Välj dokument och tryck på Kör mina testfall.*"


def _share(good: int, total: int) -> str:
    return f"{good} av {total}" if total else "–"


def _md(text: str) -> str:
    """Plain text made safe in Markdown (no markup, no HTML, one line)."""
    text = " ".join(text.split())
    return "".join(f"\\{ch}" if ch in "\\`*_{}[]()<>#+-.!|~" else ch for ch in text)


def owner_report(run: EvalRun) -> str:
    results = run.results
    answerable = [r for r in results if r.answerable]
    refuse = [r for r in results if not r.answerable]
    right_answer = sum(bool(r.facts_ok) for r in answerable)
    right_source = sum(bool(r.citation_ok) for r in answerable)
    right_refusals = sum(r.answer.refused for r in refuse)
    wrong_refusals = sum(r.answer.refused for r in answerable)
    failed = [r for r in results if not r.passed]
    when = run.created.replace("T", " ")[:16]
    lines = [f"### {len(results) - len(failed)} av {len(results)} testfall godkända",
             f"Körd {when} UTC.", "",
             "| | Resultat |", "|---|---|",
             "| Rätt svar (frågor med svar i dokumenten) | "
             f"{_share(right_answer, len(answerable))} |",
             f"| Rätt källa | {_share(right_source, len(answerable))} |",
             f"| Riktigt avböjda (frågor utan svar) | {_share(right_refusals, len(refuse))} |",
             f"| Felaktigt avböjda | {_share(wrong_refusals, len(answerable))} |", ""]
    if failed:
        lines += [f"#### Att åtgärda ({len(failed)})", ""]
        lines += [_failure(result) for result in failed]
        lines.append("")
    else:
        lines += ["Alla testfall gick igenom.", ""]
    passed = [r for r in results if r.passed]
    if passed:
        shown = ", ".join(_md(r.id) for r in passed[:30])
        more = f" och {len(passed) - 30} till" if len(passed) > 30 else ""
        lines += [f"#### Godkända ({len(passed)})", "", shown + more, ""]
    return "\n".join(lines)


def _failure(result: CaseResult) -> str:
    answer = " ".join(result.answer.answer.split())
    if len(answer) > ANSWER_CHARS:
        answer = answer[:ANSWER_CHARS].rsplit(" ", 1)[0] + " …"
    where = f" (dokument {_md(result.document)})" if result.document else ""
    return (f"- **{_md(result.question)}**{where}: {_md('; '.join(result.failures))}. "
            f"Svarade: “{_md(answer)}”")
