"""Eval reports: Markdown, a self-contained HTML page, JSON, JUnit XML and a console table.

Person-facing text is Swedish (document owners read these); metric names are kept as in
evals/README.md. Every piece of text from cases, answers or documents is escaped.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

from evals.cases import normalize
from evals.metrics import MODES, CaseResult, Limits
from evals.runner import EvalRun, group_name

# (Summary field, label, format): rates as 0.000, counts as integers, latencies in ms.
METRICS = [
    ("hit_at_1", "hit@1", "rate"), ("hit_at_5", "hit@5", "rate"), ("mrr", "MRR", "rate"),
    ("fact_accuracy", "fact accuracy", "rate"),
    ("facts_any_length", "fakta i svaret (oavsett längd)", "rate"),
    ("citation_accuracy", "citation accuracy", "rate"),
    ("refusal_accuracy", "refusal accuracy", "rate"),
    ("false_refusal_rate", "false-refusal rate", "rate"),
    ("unsupported_numbers", "unsupported numbers", "count"),
    ("latency_p50_ms", "latency p50 (ms)", "ms"), ("latency_p95_ms", "latency p95 (ms)", "ms"),
    ("pass_rate", "godkända fall", "rate"),
    ("generated_verified_rate", "LLM: genererat svar visat (av besvarade)", "rate"),
    ("verification_pass_rate", "LLM: genererade svar som klarade verifieringen", "rate"),
    ("fallback_rate", "LLM: extraktivt reservsvar (av besvarade)", "rate"),
]
MODE_LABELS = {"hybrid": "hybrid (BM25 + dense)", "bm25": "BM25", "dense": "dense (e5)"}


def fmt(value: float | int | None, kind: str = "rate") -> str:
    if value is None:
        return "–"
    if kind == "rate":
        return f"{value:.3f}"
    if kind == "ms":
        return f"{value:.0f}"
    return str(int(value))


def metric_rows(run: EvalRun) -> list[list[str]]:
    """Metric, Styrdok, threshold, status[, baseline] for each metric that has a value."""
    rows: list[list[str]] = []
    values = run.summary.model_dump()
    base = run.baseline.summary.model_dump() if run.baseline else None
    for key, label, kind in METRICS:
        if values[key] is None and (base is None or base[key] is None):
            continue
        limit, status = "", ""
        if run.gate == "v2":
            pass  # the split gate's limits are shown beside its split, not for all cases
        elif key in run.thresholds.minimum:
            limit = f"≥ {fmt(run.thresholds.minimum[key], kind)}"
        elif key in run.thresholds.maximum:
            limit = f"≤ {fmt(run.thresholds.maximum[key], kind)}"
        if limit:
            failed = any(failure.startswith(f"{key} ") for failure in run.threshold_failures)
            status = "UNDERKÄND" if failed else ("ok" if values[key] is not None else "")
        row = [label, fmt(values[key], kind), limit, status]
        if base is not None:
            row.append(fmt(base[key], kind))
        rows.append(row)
    return rows


def metric_header(run: EvalRun) -> list[str]:
    header = ["Mått", "Styrdok", "Tröskel", "Status"]
    return [*header, "Baslinje"] if run.baseline else header


def retrieval_rows(run: EvalRun) -> list[list[str]]:
    rows = [[MODE_LABELS.get(mode, mode), fmt(scores.hit_at_1), fmt(scores.hit_at_5),
             fmt(scores.mrr)] for mode, scores in run.summary.retrieval.items()]
    if run.baseline:
        base = run.baseline.summary
        rows.append(["baslinje (LangChain + MiniLM)", fmt(base.hit_at_1), fmt(base.hit_at_5),
                     fmt(base.mrr)])
    return rows


RETRIEVAL_HEADER = ["Sökning", "hit@1", "hit@5", "MRR"]
SPLIT_METRICS = ["fact_accuracy", "citation_accuracy", "refusal_accuracy", "false_refusal_rate",
                 "unsupported_numbers", "hit_at_5", "pass_rate", "latency_p50_ms",
                 "latency_p95_ms"]
GROUP_METRICS = [("fact_accuracy", "fact acc."), ("citation_accuracy", "citation acc."),
                 ("refusal_accuracy", "refusal acc."), ("false_refusal_rate", "false refusals"),
                 ("pass_rate", "godkända")]


def _label(key: str) -> tuple[str, str]:
    return next((label, kind) for k, label, kind in METRICS if k == key)


def _gate_cell(run: EvalRun, scope: str, limits: Limits | None) -> list[str]:
    """'fact acc. ≥ 0.800 · ok' for the limits of one gate scope, '' without any."""
    if limits is None:
        return [""]
    cells = []
    for bound, sign in ((limits.minimum, "≥"), (limits.maximum, "≤")):
        for key, value in bound.items():
            label, kind = _label(key)
            failed = any(f.startswith(f"{scope}: {key} ") for f in run.threshold_failures)
            cells.append(f"{label} {sign} {fmt(value, kind)} · "
                         f"{'UNDERKÄND' if failed else 'ok'}")
    return ["; ".join(cells)]


def split_header(run: EvalRun) -> list[str]:
    gate = run.thresholds.v2 if run.gate == "v2" else None
    limit = [f"Grind ({gate.split})"] if gate else []
    return ["Mått", *(f"{split} ({run.splits[split].cases} fall)" for split in run.splits),
            *limit]


def split_rows(run: EvalRun) -> list[list[str]]:
    """dev and test side by side, with the v2 gate's limit and status for its split."""
    gate = run.thresholds.v2 if run.gate == "v2" else None
    rows: list[list[str]] = []
    for key in SPLIT_METRICS:
        label, kind = _label(key)
        row = [label, *(fmt(summary.model_dump()[key], kind) for summary in run.splits.values())]
        if gate:
            limits = Limits.model_validate(
                {"min": {k: v for k, v in gate.minimum.items() if k == key},
                 "max": {k: v for k, v in gate.maximum.items() if k == key}})
            gated = key in gate.minimum or key in gate.maximum
            row += _gate_cell(run, gate.split, limits if gated else None)
        rows.append(row)
    return rows


def group_header(run: EvalRun) -> list[str]:
    gate = run.thresholds.v2 if run.gate == "v2" else None
    return ["Grupp", *(f"{split}: {label}" for split in run.splits
                       for label in ("fall", *(name for _, name in GROUP_METRICS))),
            *([f"Grind ({gate.split})"] if gate else [])]


def group_rows(run: EvalRun) -> list[list[str]]:
    """One row per group (and gate union), dev and test side by side, with the gate."""
    gate = run.thresholds.v2 if run.gate == "v2" else None
    scopes = list(dict.fromkeys(scope for split in run.splits
                                for scope in run.groups.get(split, {})))
    rows: list[list[str]] = []
    for scope in scopes:
        row = [scope]
        for split in run.splits:
            summary = run.groups.get(split, {}).get(scope)
            row.append(str(summary.cases) if summary else "0")
            row += [fmt(summary.model_dump()[key] if summary else None)
                    for key, _ in GROUP_METRICS]
        if gate:
            row += _gate_cell(run, f"{gate.split}/{scope}", gate.groups.get(scope))
        rows.append(row)
    return rows
DOCUMENT_HEADER = ["Dokument", "Fall", "Godkända", "hit@5", "fact accuracy", "citation acc.",
                   "refusal acc."]


def document_rows(run: EvalRun) -> list[list[str]]:
    return [[name, str(s.cases), str(s.passed), fmt(s.hit_at_5), fmt(s.fact_accuracy),
             fmt(s.citation_accuracy), fmt(s.refusal_accuracy)]
            for name, s in run.documents.items()]


def rank_text(result: CaseResult) -> str:
    """Where retrieval put the expected passage, e.g. 'plats 3 (BM25: 1, dense: ej topp 10)'."""
    if not result.answerable:
        return "–"

    def place(rank: int | None) -> str:
        return f"plats {rank}" if rank else "ej bland topp 10"

    others = [f"{mode}: {place(result.ranks.get(mode))}".replace("plats ", "")
              for mode in MODES if mode != "hybrid" and mode in result.ranks]
    return place(result.rank) + (f" ({', '.join(others)})" if others else "")


def cited(result: CaseResult) -> list[str]:
    """The cited passages; for a refusal the nearest passages it offered instead."""
    answer = result.answer
    label = "närmast " if answer.refused else ""
    return [f"{label}[{c.n}] {c.document} {' '.join(p for p in (c.section, c.heading) if p)}: "
            f"{normalize(c.quote)}" for c in (answer.nearest if answer.refused else
                                               answer.citations)]


def grouped(run: EvalRun) -> dict[str, list[CaseResult]]:
    groups: dict[str, list[CaseResult]] = {name: [] for name in run.documents}
    for result in run.results:
        groups.setdefault(group_name(result), []).append(result)
    return groups


def headline(run: EvalRun) -> str:
    s = run.summary
    gate = "godkänd" if run.gate_passed else f"UNDERKÄND ({len(run.threshold_failures)} mått)"
    if run.gate == "v2" and run.thresholds.v2 and run.thresholds.v2.split not in run.splits:
        gate = "ej bedömd (dess del kördes inte)"
    llm = f"{run.llm_provider} {run.llm_model or ''}".strip()
    which = f"{run.gate}-grinden" + (f" ({run.thresholds.v2.split}-delen)"
                                     if run.gate == "v2" and run.thresholds.v2 else "")
    cases = f" · fall: {run.case_set}, del: {run.split}" if run.case_set else ""
    return (f"{s.passed} av {s.cases} fall godkända · {which} {gate}{cases} · embedder "
            f"{run.embedder} · LLM {llm} · {run.seconds:.0f} s · {run.created}")


# --- Markdown --------------------------------------------------------------------------------

def md_cell(text: str) -> str:
    return html.escape(normalize(text)).replace("|", "\\|")


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(md_cell(cell) for cell in header) + " |",
             "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def markdown(run: EvalRun) -> str:
    out = ["# Styrdok – utvärdering", "", md_cell(headline(run)), "", "## Sammanfattning", ""]
    out += md_table(metric_header(run), metric_rows(run))
    out += ["### Sökning sida vid sida (besvarbara fall)", ""]
    out += md_table(RETRIEVAL_HEADER, retrieval_rows(run))
    if run.splits:
        out += ["### Dev och test sida vid sida", "", *md_table(split_header(run),
                                                               split_rows(run))]
        out += ["### Per grupp (dev och test)", "", *md_table(group_header(run),
                                                             group_rows(run))]
    if run.threshold_failures:
        out += ["**Under tröskel:** " + md_cell("; ".join(run.threshold_failures)), ""]
    out += ["### Per dokument", "", *md_table(DOCUMENT_HEADER, document_rows(run))]
    for name, results in grouped(run).items():
        out += [f"## {md_cell(name)}", ""]
        out += md_table(["", "Fall", "Fråga", "Svar", "Citerade stycken", "Rank"], [
            ["✓" if r.passed else "✗", r.id, r.question, r.answer.answer, " ‖ ".join(cited(r)),
             rank_text(r)] for r in results])
        for result in (r for r in results if not r.passed):
            out += [f"**✗ {md_cell(result.id)}** – " + md_cell("; ".join(result.failures)), ""]
            if result.answerable:
                out += [f"Förväntat stycke (hybridsökningen: {md_cell(rank_text(result))}):", "",
                        "> " + md_cell(result.expected_passage or "(hittades inte i indexet)"),
                        ""]
    return "\n".join(out)


# --- HTML ------------------------------------------------------------------------------------

CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:1200px;padding:0 1rem;
color:#1d1d1f}table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}
th,td{border:1px solid #ccd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f6}.pass{color:#16642b;font-weight:600}.fail{color:#a4161a;font-weight:600}
tr.fail-row{background:#fff4f4}details{margin:.2rem 0}summary{cursor:pointer}
blockquote{margin:.3rem 0;padding:.3rem .6rem;border-left:3px solid #889;background:#f6f7f9;
white-space:pre-wrap}.meta{color:#555}.answer{white-space:pre-wrap}
"""


STATUS_CLASS = {"ok": ' class="pass"', "UNDERKÄND": ' class="fail"'}


def h(text: str) -> str:
    return html.escape(text, quote=True)


def html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td{STATUS_CLASS.get(cell, '')}>{h(cell)}</td>"
                                    for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_case_row(result: CaseResult) -> str:
    status = '<span class="pass">✓</span>' if result.passed else '<span class="fail">✗</span>'
    passages = "".join(f"<blockquote>{h(text)}</blockquote>" for text in cited(result))
    detail = ""
    if not result.passed:
        detail = f'<p class="fail">{h("; ".join(result.failures))}</p>'
        if result.answerable:
            detail += (f"<details open><summary>Förväntat stycke – hybridsökningen: "
                       f"{h(rank_text(result))}</summary><blockquote>"
                       f"{h(result.expected_passage or '(hittades inte i indexet)')}"
                       "</blockquote></details>")
    row_class = "" if result.passed else ' class="fail-row"'
    return (f"<tr{row_class}><td>{status}</td><td><code>{h(result.id)}</code></td>"
            f'<td>{h(result.question)}</td><td><div class="answer">{h(result.answer.answer)}</div>'
            f"{detail}</td>"
            f"<td>{passages or '–'}</td><td>{h(rank_text(result))}</td></tr>")


def html_page(run: EvalRun) -> str:
    parts = [f'<p class="meta">{h(headline(run))}</p>', "<h2>Sammanfattning</h2>",
             html_table(metric_header(run), metric_rows(run)),
             "<h3>Sökning sida vid sida (besvarbara fall)</h3>",
             html_table(RETRIEVAL_HEADER, retrieval_rows(run))]
    if run.splits:
        parts += ["<h3>Dev och test sida vid sida</h3>",
                  html_table(split_header(run), split_rows(run)),
                  "<h3>Per grupp (dev och test)</h3>",
                  html_table(group_header(run), group_rows(run))]
    if run.threshold_failures:
        parts.append(f'<p class="fail">Under tröskel: {h("; ".join(run.threshold_failures))}'
                     "</p>")
    parts += ["<h3>Per dokument</h3>", html_table(DOCUMENT_HEADER, document_rows(run))]
    for name, results in grouped(run).items():
        head = "".join(f"<th>{h(cell)}</th>" for cell in
                       ["", "Fall", "Fråga", "Svar", "Citerade stycken", "Rank"])
        rows = "".join(html_case_row(result) for result in results)
        parts += [f"<h2>{h(name)}</h2>",
                  f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"]
    return ('<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>Styrdok – utvärdering</title><style>{CSS}</style></head><body>"
            "<h1>Styrdok – utvärdering</h1>" + "\n".join(parts) + "</body></html>\n")


# --- JUnit -----------------------------------------------------------------------------------

def junit(run: EvalRun) -> str:
    root = ET.Element("testsuites", name="styrdok-eval")
    suite = ET.SubElement(root, "testsuite", name="styrdok-eval", tests=str(len(run.results)),
                          failures=str(sum(not r.passed for r in run.results)), errors="0",
                          time=f"{run.seconds:.2f}", timestamp=run.created)
    properties = ET.SubElement(suite, "properties")
    for key, value in run.summary.model_dump(exclude={"retrieval"}).items():
        if value is not None:
            ET.SubElement(properties, "property", name=key, value=str(value))
    for result in run.results:
        case = ET.SubElement(suite, "testcase", name=result.id,
                             classname=f"evals.{group_name(result)}",
                             time=f"{result.latency_ms / 1000:.3f}")
        if not result.passed:
            failure = ET.SubElement(case, "failure", message="; ".join(result.failures),
                                    type="EvalFailure")
            failure.text = (f"Fråga: {result.question}\nSvar: {result.answer.answer}\n"
                            f"Rank: {rank_text(result)}\n"
                            f"Förväntat stycke: {result.expected_passage or '–'}")
    gate = ET.SubElement(root, "testsuite", name="styrdok-eval-gate", tests="1",
                         failures=str(int(not run.gate_passed)), errors="0")
    gate_case = ET.SubElement(gate, "testcase", name="thresholds", classname="evals.gate")
    if not run.gate_passed:
        ET.SubElement(gate_case, "failure", message="; ".join(run.threshold_failures),
                      type="ThresholdFailure")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# --- console and files -----------------------------------------------------------------------

def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def summary_table(run: EvalRun) -> str:
    failed = [f"  ✗ {r.id}: {'; '.join(r.failures)}" for r in run.results if not r.passed]
    return "\n\n".join(part for part in [
        headline(run), text_table(metric_header(run), metric_rows(run)),
        text_table(RETRIEVAL_HEADER, retrieval_rows(run)),
        text_table(split_header(run), split_rows(run)) if run.splits else "",
        text_table(group_header(run), group_rows(run)) if run.splits else "",
        "Underkända fall:\n" + "\n".join(failed) if failed else ""] if part)


def write_reports(run: EvalRun, report_dir: Path) -> list[Path]:
    """report.md, report.html, report.json and junit.xml in report_dir (created if needed)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    files = {"report.md": markdown(run), "report.html": html_page(run),
             "report.json": run.model_dump_json(indent=2, by_alias=True) + "\n",
             "junit.xml": junit(run)}
    paths: list[Path] = []
    for name, text in files.items():
        path = report_dir / name
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
        paths.append(path)
    return paths

