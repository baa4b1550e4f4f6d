"""The UI's "Jämför regioner" mode: the toggle beside the question box, the comparison table
and its CSV / Markdown downloads. Kept apart from web.ui so the layout can change freely.

Every text from a document or a user is escaped here before it becomes markup.
"""

from __future__ import annotations

import html
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from rag.answer.compare_table import row_cells, to_csv, to_markdown
from rag.models import Answer, Comparison

COMPARE_LABEL = "Jämför regioner"
COMPARE_CSS = """
.sd-compare { overflow-x: auto; max-width: 100%; }
.sd-compare-table { border-collapse: collapse; width: 100%; font-size: .95em; }
.sd-compare-table { table-layout: fixed; }
.sd-compare-table th, .sd-compare-table td { border: 1px solid var(--border-color-primary);
  padding: .4rem .5rem; vertical-align: top; text-align: left; overflow-wrap: break-word;
  hyphens: auto; }
.sd-compare-table th:nth-child(1) { width: 16%; } .sd-compare-table th:nth-child(2) { width: 20%; }
.sd-compare-table th:nth-child(3) { width: 38%; } .sd-compare-table th:nth-child(4) { width: 26%; }
.sd-compare-table th { background: var(--background-fill-secondary); }
.sd-compare-table tr[data-stated="false"] td { color: var(--body-text-color-subdued); }
.sd-requirement { font-weight: 600; }
@media (max-width: 640px) { .sd-compare-table { font-size: .8em; table-layout: auto; }
  .sd-compare-table td { overflow-wrap: anywhere; } }
"""


def compare_toggle() -> gr.Checkbox:
    """The choice beside the question box: answer once per region instead of once."""
    return gr.Checkbox(label=COMPARE_LABEL, value=False, scale=1, min_width=120,
                       elem_id="sd-compare", info="En rad per region, med källa")


def export_buttons() -> tuple[gr.DownloadButton, gr.DownloadButton]:
    with gr.Row():
        csv_button = gr.DownloadButton("Ladda ner tabellen (CSV)", visible=False, size="sm",
                                       elem_id="sd-compare-csv")
        md_button = gr.DownloadButton("Ladda ner tabellen (Markdown)", visible=False,
                                      size="sm", elem_id="sd-compare-md")
    return csv_button, md_button


def exports(last_answer: dict[str, Any] | None) -> tuple[Any, Any]:
    """The download buttons for the answer just shown: visible with files for a comparison,
    hidden otherwise."""
    comparison = Answer.model_validate(last_answer).comparison if last_answer else None
    if comparison is None:
        return gr.DownloadButton(visible=False, value=None), \
            gr.DownloadButton(visible=False, value=None)
    folder = Path(tempfile.mkdtemp(prefix="styrdok-jamforelse-"))
    csv_path = folder / "jamforelse.csv"
    md_path = folder / "jamforelse.md"
    # A BOM so spreadsheet programs read the CSV's å, ä and ö right.
    csv_path.write_text("\ufeff" + to_csv(comparison), encoding="utf-8")
    md_path.write_text(to_markdown(comparison), encoding="utf-8")
    return gr.DownloadButton(visible=True, value=str(csv_path)), \
        gr.DownloadButton(visible=True, value=str(md_path))


def comparison_html(comparison: Comparison) -> str:
    """The table: one row per region; a cell not stated shows its nearest passage's place."""
    rows = []
    for row in comparison.rows:
        region, requirement, quote, source = row_cells(row)
        rows.append(
            f'<tr data-region="{html.escape(region, quote=True)}" '
            f'data-stated="{"true" if row.stated else "false"}">'
            f"<td>{html.escape(region)}</td>"
            f'<td class="sd-requirement">{html.escape(requirement)}</td>'
            f"<td>{html.escape(quote)}</td><td>{html.escape(source)}</td></tr>")
    notice = f'<p class="sd-notice">{html.escape(comparison.notice)}</p>' \
        if comparison.notice else ""
    return ('<section class="sd-compare" aria-label="Jämförelse mellan regioner">'
            f'<h3 class="sd-heading">Jämförelse: {html.escape(comparison.asked)}</h3>'
            '<table class="sd-compare-table"><thead><tr><th>Region</th><th>Krav</th>'
            "<th>Citat</th><th>Källa</th></tr></thead>"
            f'<tbody>{"".join(rows)}</tbody></table>{notice}</section>')
