"""The Gradio UI for care-centre staff, in Swedish: ask, read the sources, rate the answer.

Layout only; what the buttons do is in `web.ui_actions`. All text that comes from a user or a
document passes through `web.render` before it is shown.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import gradio as gr
from fastapi import FastAPI

from ingest.service import Styrdok
from web.compare_ui import COMPARE_CSS, compare_toggle, export_buttons, exports
from web.feedback import FeedbackStore
from web.ui_actions import ALL, TABLE_HEADERS, Actions
from web.ui_guard import blocked_paths, harden
from web.versions_ui import as_of_picker, changes_view, document_choices, edition_fields

PRIVATE: Literal["private"] = "private"
EXAMPLES = [
    "Hur mycket läkartid ska finnas på BMM?",
    "Hur snabbt ska en patient få medicinsk bedömning enligt vårdgarantin?",
    "Hur stort vite kan regionen som högst ta ut per brist?",
    "Vilka fyra delar består patientkontraktet av?",
]

UI_CSS = """
.gradio-container { max-width: 960px !important; margin: 0 auto; }
.sd-sources { display: flex; flex-direction: column; gap: .5rem; margin-top: .25rem; }
.sd-heading { font-size: 1rem; margin: 0; }
.sd-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: .5rem .75rem; background: var(--background-fill-secondary); }
.sd-card summary { cursor: pointer; display: flex; flex-wrap: wrap; gap: .15rem .5rem;
  align-items: baseline; list-style-position: outside; }
.sd-n { font-weight: 700; }
.sd-title { font-weight: 600; overflow-wrap: anywhere; }
.sd-meta { color: var(--body-text-color-subdued); font-size: .9em; overflow-wrap: anywhere; }
.sd-hint { font-size: .85em; text-decoration: underline; }
.sd-card[open] .sd-hint { display: none; }
.sd-passage { white-space: pre-wrap; overflow-wrap: anywhere; margin-top: .5rem;
  line-height: 1.5; font-size: .95em; }
.sd-passage mark { background: #fde68a; color: #111827; padding: 0 .1em; border-radius: 2px; }
.sd-refusal { border-left: 4px solid #b45309; background: #fffbeb; color: #1f2937;
  padding: .5rem .75rem; border-radius: 4px; }
.sd-notice { margin: .25rem 0; }
.sd-validity { font-size: .85em; color: #166534; }
.sd-validity.sd-superseded { color: #b45309; font-weight: 600; }
.sd-changes del { background: #fee2e2; } .sd-changes ins { background: #dcfce7; }
.sd-ok { color: #166534; } .sd-error { color: #b91c1c; }
@media (max-width: 640px) {
  .gradio-container { padding: 0 .4rem !important; }
  .sd-card { padding: .4rem .5rem; }
}
"""


def build_ui(service: Styrdok, feedback: FeedbackStore | None = None) -> gr.Blocks:
    actions = Actions(service, feedback or FeedbackStore(service.settings.feedback_path))
    demo = gr.Blocks(title="Styrdok – fråga styrdokumenten", analytics_enabled=False,
                     delete_cache=(600, 900))  # keyless uploads live <= ~25 min
    with demo:
        gr.Markdown(_intro(service))
        with gr.Tabs():
            with gr.Tab("Fråga", id="fraga"):
                ask_filters = _ask_tab(actions)
            with gr.Tab("Dokument", id="dokument"):
                table, remove_choice = _documents_tab(actions, ask_filters)
                changes_document = changes_view(service)
            with gr.Tab("Utvärdering", id="utvardering"):
                _eval_tab(actions)
        demo.load(actions.refresh, outputs=[*ask_filters, table, remove_choice],
                  api_visibility=PRIVATE)
        demo.load(partial(document_choices, service), outputs=[changes_document],
                  api_visibility=PRIVATE)
    # The JSON API under /api is the machine interface; the UI's events are not a second one.
    demo.queue(default_concurrency_limit=4, api_open=False, max_size=64)  # bounded backlog
    return demo


def _intro(service: Styrdok) -> str:
    lead = "## Styrdok\nFråga om regionernas styrdokument för vårdcentraler. "
    if service.settings.llm_provider == "none":
        return lead + "Svaret är ordagranna meningar ur dokumenten, med källa."
    return lead + ("Svaret skrivs av en språkmodell utifrån dokumenten och kontrolleras mot de "
                   "citerade källorna; klarar det inte kontrollen visas ordagranna meningar ur "
                   "dokumenten i stället.")


def _ask_tab(actions: Actions) -> list[gr.Dropdown]:
    with gr.Row(equal_height=True):
        question = gr.Textbox(label="Din fråga", placeholder="Skriv din fråga här", lines=1,
                              max_lines=4, scale=5, min_width=200, elem_id="sd-question",
                              autofocus=True)
        compare = compare_toggle()
        ask = gr.Button("Fråga", variant="primary", scale=1, min_width=80, elem_id="sd-ask")
    gr.Examples(examples=[[text] for text in EXAMPLES], inputs=[question],
                label="Exempel på frågor")
    with gr.Accordion("Avgränsa till region eller dokumenttyp", open=False), gr.Row():
        region = gr.Dropdown(label="Region", choices=[("Alla regioner", ALL)], value=ALL,
                             min_width=200, elem_id="sd-region")
        doc_type = gr.Dropdown(label="Dokumenttyp", choices=[("Alla typer", ALL)],
                               value=ALL, min_width=200, elem_id="sd-doc-type")
        as_of = as_of_picker()
    chat = gr.Chatbot(label="Svar", height=None, min_height=120, max_height=560,
                      elem_id="sd-chat", latex_delimiters=[], feedback_options=None,
                      buttons=["copy"], placeholder="Svaret visas här, med numrerade källor.")
    sources = gr.HTML(elem_id="sd-sources")
    downloads = export_buttons()
    last_answer = gr.State(None)
    with gr.Group(visible=False, elem_id="sd-feedback") as feedback_box:
        comment = gr.Textbox(label="Kommentar till dokumentägarna (valfritt)", lines=1,
                             max_lines=3, max_length=2000, elem_id="sd-comment")
        with gr.Row():
            thumbs_up = gr.Button("👍 Bra svar", size="sm", elem_id="sd-thumbs-up")
            thumbs_down = gr.Button("👎 Fel eller oklart", size="sm", elem_id="sd-thumbs-down")
    feedback_status = gr.HTML(elem_id="sd-feedback-status")

    inputs = [question, chat, region, doc_type, compare, as_of]
    outputs = [chat, sources, last_answer, question, comment, feedback_status, feedback_box]
    for asked in (ask.click, question.submit):
        asked(actions.ask, inputs, outputs, concurrency_limit=4,
              api_visibility=PRIVATE).then(exports, [last_answer], [*downloads],
                                           api_visibility=PRIVATE)
    thumbs_up.click(partial(actions.rate, "up"), [last_answer, comment],
                    [feedback_status, comment], api_visibility=PRIVATE)
    thumbs_down.click(partial(actions.rate, "down"), [last_answer, comment],
                      [feedback_status, comment], api_visibility=PRIVATE)
    return [region, doc_type]


def _documents_tab(actions: Actions,
                   ask_filters: list[gr.Dropdown]) -> tuple[gr.Dataframe, gr.Dropdown]:
    table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, wrap=True,
                         label="Inlästa dokument", elem_id="sd-documents")
    gr.Markdown("### För dokumentägare\nUppladdning och borttagning kräver en ägarnyckel "
                "(API-nyckel).")
    key = gr.Textbox(label="Ägarnyckel", type="password", elem_id="sd-owner-key")
    with gr.Accordion("Ladda upp dokument", open=False):
        upload = gr.File(label="Fil (PDF, DOCX, TXT eller MD)", type="filepath",
                         file_types=[".pdf", ".docx", ".txt", ".md"], elem_id="sd-upload")
        with gr.Row():
            title = gr.Textbox(label="Titel (valfritt)", max_length=300, min_width=200)
            region = gr.Textbox(label="Region (valfritt)", max_length=200, min_width=200)
            doc_type = gr.Textbox(label="Dokumenttyp (valfritt)", max_length=200,
                                  min_width=200)
        replace = gr.Checkbox(label="Ersätt befintligt dokument med samma namn", value=False,
                              elem_id="sd-upload-replace")
        edition, valid_from = edition_fields()
        upload_button = gr.Button("Ladda upp och läs in", variant="primary")
    with gr.Accordion("Ta bort dokument", open=False):
        remove_choice = gr.Dropdown(label="Dokument", choices=[], elem_id="sd-remove-choice")
        remove_button = gr.Button("Ta bort", variant="stop")
    status = gr.HTML(elem_id="sd-documents-status")
    refreshed = [*ask_filters, table, remove_choice]
    upload_button.click(actions.upload, [upload, key, title, region, doc_type, replace,
                                         edition, valid_from], [status, upload],
                        api_visibility=PRIVATE).then(actions.refresh, outputs=refreshed,
                                                     api_visibility=PRIVATE)
    remove_button.click(actions.remove, [remove_choice, key], [status],
                        api_visibility=PRIVATE).then(actions.refresh, outputs=refreshed,
                                                     api_visibility=PRIVATE)
    return table, remove_choice


def _eval_tab(actions: Actions) -> None:
    gr.Markdown("Kör testfallen i `evals/cases` mot dokumenten i indexet och visa den senaste "
                "rapporten. En körning tar flera minuter och kräver ägarnyckel.")
    with gr.Row(equal_height=True):
        key = gr.Textbox(label="Ägarnyckel", type="password", scale=3, min_width=200)
        run = gr.Button("Kör utvärdering", variant="primary", scale=1, min_width=120,
                        elem_id="sd-run-eval")
    status = gr.HTML()
    report = gr.Markdown(actions.latest_report, elem_id="sd-eval-report")
    run.click(actions.run_eval, [key], [status, report], concurrency_limit=1,
              api_visibility=PRIVATE)


def mount_ui(app: FastAPI, service: Styrdok, feedback: FeedbackStore) -> FastAPI:
    """Mount the UI at / of `app` (after every other route, since it matches everything)."""
    settings = service.settings
    blocks = build_ui(service, feedback)
    mounted: FastAPI = gr.mount_gradio_app(
        app, blocks, path="/", server_name=settings.host,
        server_port=settings.port, footer_links=[], run_history=False,
        max_file_size=f"{settings.max_upload_mb}mb", show_error=False, ssr_mode=False,
        allowed_paths=[], blocked_paths=blocked_paths(settings),
        mcp_server=False, css=UI_CSS + COMPARE_CSS,
        js="() => { document.documentElement.lang = 'sv'; }")
    harden(blocks, settings)  # event inputs: only files clients uploaded (web.ui_guard)
    return mounted
