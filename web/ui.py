"""The Gradio UI, in Swedish: staff ask and read the sources; owners manage documents, see
where the documents fail staff, and run their own test cases.

Layout only; what the buttons do is in `web.ui_actions`. All text that comes from a user or a
document passes through `web.render` (or `web.owner_html`) before it is shown.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

import gradio as gr
from fastapi import FastAPI

from ingest.service import Styrdok
from web.compare_ui import COMPARE_CSS, compare_toggle, export_buttons, exports
from web.feedback import FeedbackStore
from web.gaps import GapLog
from web.owner_html import item_html
from web.page import SWEDISH, SWEDISH_LABELS_JS, browser_secret, swedish_page
from web.styles import UI_CSS
from web.ui_actions import ALL, FILTER_LABEL, Actions, empty_conversation, filter_panel_label
from web.ui_guard import blocked_paths, harden
from web.versions_ui import as_of_picker, changes_view, document_choices, edition_fields

PRIVATE: Literal["private"] = "private"
EXAMPLES = [
    "Hur mycket läkartid ska finnas på BMM?",
    "Hur snabbt ska en patient få medicinsk bedömning enligt vårdgarantin?",
    "Hur stort vite kan regionen som högst ta ut per brist?",
    "Vilka fyra delar består patientkontraktet av?",
]
CONVERSATION_KEY = "styrdok-samtal-v1"
# After an answer: bring the start of the newest answer into view (the chat's own autoscroll
# would show its end, below the source cards).
SCROLL_TO_NEWEST = """() => {
  const rows = document.querySelectorAll('#sd-chat .message-row');
  const last = rows[rows.length - 1];
  if (last) { last.scrollIntoView({block: 'start', behavior: 'instant'}); }
}"""
MAX_ITEMS_SHOWN = 30


def build_ui(service: Styrdok, feedback: FeedbackStore | None = None,
             gaps: GapLog | None = None) -> gr.Blocks:
    settings = service.settings
    feedback = feedback or FeedbackStore(settings.feedback_path,
                                         settings.feedback_retention_days)
    gaps = gaps or GapLog(settings.feedback_path, settings.feedback_retention_days)
    actions = Actions(service, feedback, gaps)
    demo = gr.Blocks(title="Styrdok – fråga styrdokumenten", analytics_enabled=False,
                     delete_cache=(600, 900))  # keyless uploads live <= ~25 min
    with demo:
        conversation = gr.BrowserState(empty_conversation(), storage_key=CONVERSATION_KEY,
                                       secret=browser_secret(settings.data_dir))
        gr.Markdown(_intro(service), elem_id="sd-intro")
        with gr.Tabs():
            with gr.Tab("Fråga", id="fraga"):
                ask = _ask_tab(actions, conversation)
            with gr.Tab("Dokument", id="dokument"):
                docs = _documents_tab(actions)
                changes_document = changes_view(service)
            with gr.Tab("Återkoppling", id="aterkoppling"):
                feedback_key, case_editor_target = _feedback_tab(actions)
            with gr.Tab("Utvärdering", id="utvardering"):
                eval_key, case_editor, eval_documents = _eval_tab(actions)
        # One owner key for the three owner tabs: typing it in one fills the others.
        keys = [docs["key"], feedback_key, eval_key]
        for source in keys:
            source.input(lambda value: (value, value), [source],
                         [other for other in keys if other is not source],
                         api_visibility=PRIVATE, queue=False)
        case_editor_target.change(lambda text: text, [case_editor_target], [case_editor],
                                  api_visibility=PRIVATE, queue=False)
        refreshed = [ask["region"], ask["doc_type"], docs["table"], docs["remove_choice"],
                     eval_documents]
        demo.load(actions.refresh, outputs=refreshed, api_visibility=PRIVATE)
        demo.load(actions.restore, [conversation], ask["restored"], api_visibility=PRIVATE)
        demo.load(partial(document_choices, service), outputs=[changes_document],
                  api_visibility=PRIVATE)
        for event in docs["changed"]:
            event.then(actions.refresh, outputs=refreshed, api_visibility=PRIVATE)
    # The JSON API under /api is the machine interface; the UI's events are not a second one.
    demo.queue(default_concurrency_limit=4, api_open=False, max_size=64)  # bounded backlog
    return demo


def _intro(service: Styrdok) -> str:
    lead = "# Styrdok\nFråga om regionernas styrdokument för vårdcentraler. "
    if service.settings.llm_provider == "none":
        return lead + "Svaret är ordagranna meningar ur dokumenten, med källa."
    return lead + ("Svaret skrivs av en språkmodell utifrån dokumenten och kontrolleras mot de "
                   "citerade källorna; klarar det inte kontrollen visas ordagranna meningar ur "
                   "dokumenten i stället.")


def _ask_tab(actions: Actions, conversation: gr.BrowserState) -> dict[str, Any]:
    chat = gr.Chatbot(label="Samtal", height=None, min_height=160, max_height="65vh",
                      elem_id="sd-chat", latex_delimiters=[], feedback_options=None,
                      buttons=["copy"], autoscroll=False,
                      placeholder="Svaren visas här, var och ett med sina numrerade källor.")
    with gr.Group(visible=False, elem_id="sd-feedback") as feedback_box:
        gr.Markdown("Betygsätt det senaste svaret:", elem_classes=["sd-rate-lead"])
        with gr.Row():
            thumbs_up = gr.Button("👍 Bra svar", size="sm", elem_id="sd-thumbs-up")
            thumbs_down = gr.Button("👎 Fel eller oklart", size="sm", elem_id="sd-thumbs-down")
        comment = gr.Textbox(label="Kommentar till dokumentägarna (valfritt)", lines=1,
                             max_lines=3, max_length=2000, elem_id="sd-comment")
    # A comparison's table (compare mode) and its downloads; an answer's sources are in its
    # chat message.
    sources = gr.HTML(elem_id="sd-sources")
    downloads = export_buttons()
    feedback_status = gr.HTML(elem_id="sd-feedback-status")
    question, compare, ask_button = _question_row()
    # Further question options (e.g. "Jämför regioner", a date) go in this row.
    with gr.Row(elem_id="sd-question-options"), \
            gr.Accordion(FILTER_LABEL, open=False, elem_id="sd-filters") as filter_panel, \
            gr.Row():
        region = gr.Dropdown(label="Region", choices=[("Alla regioner", ALL)], value=ALL,
                             min_width=200, elem_id="sd-region")
        doc_type = gr.Dropdown(label="Dokumenttyp", choices=[("Alla typer", ALL)],
                               value=ALL, min_width=200, elem_id="sd-doc-type")
        as_of = as_of_picker()
    all_regions = gr.Button("Sök i alla regioner och typer", size="sm", visible=False,
                            elem_id="sd-all-regions")
    gr.Examples(examples=[[text] for text in EXAMPLES], inputs=[question],
                label="Exempel på frågor")
    clear = gr.Button("Rensa samtalet", size="sm", elem_id="sd-clear")

    ask_outputs = [chat, conversation, question, comment, feedback_status, feedback_box,
                   thumbs_up, thumbs_down, all_regions, sources]
    inputs = [question, conversation, region, doc_type, compare, as_of]
    for trigger in (ask_button.click, question.submit):
        trigger(actions.ask, inputs, ask_outputs, concurrency_limit=4,
                api_visibility=PRIVATE).then(None, js=SCROLL_TO_NEWEST).then(
            comparison_exports, [conversation], [*downloads], api_visibility=PRIVATE)
    for control in (region, doc_type, as_of):
        control.change(lambda r, t, d: gr.Accordion(label=filter_panel_label(r, t, d)),
                       [region, doc_type, as_of], [filter_panel], api_visibility=PRIVATE,
                       queue=False)
    # One click: drop the filters and ask the newest question again, everywhere.
    all_regions.click(lambda: (ALL, ALL, False), outputs=[region, doc_type, compare],
                      api_visibility=PRIVATE, queue=False).then(
        actions.last_question, [conversation], [question], api_visibility=PRIVATE).then(
        actions.ask, inputs, ask_outputs, api_visibility=PRIVATE).then(
        None, js=SCROLL_TO_NEWEST)
    rate_outputs = [feedback_status, comment, conversation, thumbs_up, thumbs_down]
    thumbs_up.click(partial(actions.rate, "up"), [conversation, comment], rate_outputs,
                    api_visibility=PRIVATE)
    thumbs_down.click(partial(actions.rate, "down"), [conversation, comment], rate_outputs,
                      api_visibility=PRIVATE)
    clear.click(lambda: ([], empty_conversation(), gr.Group(visible=False), "",
                         gr.Button(visible=False), ""),
                outputs=[chat, conversation, feedback_box, feedback_status, all_regions,
                         sources],
                api_visibility=PRIVATE)
    restored = [chat, feedback_box, thumbs_up, thumbs_down, all_regions]
    return {"region": region, "doc_type": doc_type, "restored": restored}


def _question_row() -> tuple[gr.Textbox, gr.Checkbox, gr.Button]:
    with gr.Row(equal_height=True, elem_id="sd-question-row"):
        question = gr.Textbox(label="Din fråga", placeholder="Skriv din fråga här", lines=1,
                              max_lines=4, scale=5, min_width=200, elem_id="sd-question",
                              autofocus=True)
        compare = compare_toggle()
        ask = gr.Button("Fråga", variant="primary", scale=1, min_width=80, elem_id="sd-ask")
    return question, compare, ask


def comparison_exports(conversation: dict[str, Any] | None) -> tuple[Any, Any]:
    """The comparison downloads for the newest answer (hidden unless it is a comparison)."""
    last = (conversation or {}).get("last") or {}
    return exports(last.get("comparison_answer"))


def _owner_key(elem_id: str) -> gr.Textbox:
    return gr.Textbox(label="Ägarnyckel", type="password", elem_id=elem_id, max_lines=1,
                      min_width=200)


def _documents_tab(actions: Actions) -> dict[str, Any]:
    table = gr.HTML(elem_id="sd-documents")
    gr.Markdown("## För dokumentägare\nUppladdning och borttagning kräver en ägarnyckel "
                "(API-nyckel).")
    key = _owner_key("sd-owner-key")
    with gr.Accordion("Ladda upp dokument", open=False):
        upload = gr.File(label="Fil (PDF, DOCX, TXT eller MD)", type="filepath",
                         file_types=[".pdf", ".docx", ".txt", ".md"], elem_id="sd-upload")
        with gr.Row():
            title = gr.Textbox(label="Titel (valfritt)", max_length=300, min_width=200,
                               elem_id="sd-upload-title")
            region = gr.Textbox(label="Region (valfritt)", max_length=200, min_width=200,
                                elem_id="sd-upload-region")
            doc_type = gr.Textbox(label="Dokumenttyp (valfritt)", max_length=200,
                                  min_width=200, elem_id="sd-upload-type")
        replace = gr.Checkbox(label="Ersätt befintligt dokument med samma namn", value=False,
                              elem_id="sd-upload-replace")
        edition, valid_from = edition_fields()
        upload_button = gr.Button("Ladda upp och läs in", variant="primary")
    with gr.Accordion("Ta bort dokument", open=False):
        remove_choice = gr.Dropdown(label="Dokument", choices=[], elem_id="sd-remove-choice")
        remove_button = gr.Button("Ta bort …", variant="stop", elem_id="sd-remove")
        with gr.Group(visible=False, elem_id="sd-remove-confirm") as confirm_box:
            confirm_text = gr.Markdown()
            with gr.Row():
                yes = gr.Button("Ja, ta bort", variant="stop", elem_id="sd-remove-yes")
                no = gr.Button("Avbryt", elem_id="sd-remove-no")
    status = gr.HTML(elem_id="sd-documents-status")
    uploaded = upload_button.click(actions.upload, [upload, key, title, region, doc_type,
                                                    replace, edition, valid_from],
                                   [status, upload, title, region, doc_type],
                                   api_visibility=PRIVATE)
    remove_button.click(actions.ask_remove, [remove_choice], [status, confirm_box, confirm_text],
                        api_visibility=PRIVATE)
    removed = yes.click(actions.remove, [remove_choice, key], [status, confirm_box],
                        api_visibility=PRIVATE)
    no.click(lambda: gr.Group(visible=False), outputs=[confirm_box], api_visibility=PRIVATE,
             queue=False)
    return {"table": table, "remove_choice": remove_choice, "key": key,
            "changed": [uploaded, removed]}


def _feedback_tab(actions: Actions) -> tuple[gr.Textbox, gr.Textbox]:
    gr.Markdown("## Återkoppling från personalen\nFrågor som dokumenten inte kunde besvara och "
                "svar som personalen röstade ned, senaste först. Ingen uppgift om vem som "
                "frågade sparas. Kräver ägarnyckel.")
    key = _owner_key("sd-feedback-key")
    show = gr.Button("Visa återkoppling", variant="primary", elem_id="sd-feedback-show")
    status = gr.HTML(elem_id="sd-feedback-load-status")
    overview = gr.HTML(elem_id="sd-feedback-overview")
    csv = gr.DownloadButton("Ladda ner som CSV", visible=False, elem_id="sd-feedback-csv")
    items = gr.State([])
    with gr.Group(visible=False, elem_id="sd-draft-box") as draft_box:
        gr.Markdown("### Utkast till testfall\nKontrollera och ändra vid behov, bekräfta sedan "
                    "så hamnar det i dokumentägarnas testfall (Utvärdering).")
        draft = gr.Textbox(label="Testfall (YAML)", lines=10, max_lines=24,
                           elem_id="sd-draft", elem_classes=["sd-yaml"])
        draft_item = gr.Textbox(visible=False)
        confirm = gr.Button("Bekräfta testfallet", variant="primary",
                            elem_id="sd-confirm-case")
    case_status = gr.HTML(elem_id="sd-case-status")
    cases_after = gr.Textbox(visible=False)

    @gr.render(inputs=[items])  # type: ignore[untyped-decorator]
    def _items(rows: list[dict[str, Any]]) -> None:
        for row in rows[:MAX_ITEMS_SHOWN]:
            with gr.Row(elem_classes=["sd-item-row"]):
                gr.HTML(item_html(row), min_width=300)
                make = gr.Button("Gör till testfall", size="sm", min_width=140, scale=0,
                                 elem_id=f"sd-make-case-{row['key']}",
                                 elem_classes=["sd-make-case"])
            make.click(partial(actions.make_case, row["key"]), [key],
                       [case_status, draft, draft_box, draft_item], api_visibility=PRIVATE)

    show.click(actions.load_feedback, [key], [status, overview, items, csv],
               api_visibility=PRIVATE)
    confirm.click(actions.confirm_case, [draft, draft_item, key],
                  [case_status, draft_box, cases_after], api_visibility=PRIVATE)
    return key, cases_after


def _eval_tab(actions: Actions) -> tuple[gr.Textbox, gr.Textbox, gr.Dropdown]:
    gr.Markdown("## Utvärdering av dina dokument\nKör testfallen för de dokument du ansvarar "
                "för: dina egna testfall och förrådets fall om dokumenten. Kräver ägarnyckel.")
    key = _owner_key("sd-eval-key")
    documents = gr.Dropdown(label="Dina dokument", choices=[], multiselect=True,
                            elem_id="sd-eval-documents")
    include = gr.Checkbox(value=True, label="Ta också med förrådets testfall för dokumenten",
                          elem_id="sd-eval-include")
    run = gr.Button("Kör mina testfall", variant="primary", elem_id="sd-run-eval")
    status = gr.HTML(elem_id="sd-eval-status")
    report = gr.Markdown(actions.latest_report, elem_id="sd-eval-report")
    with gr.Accordion("Dina testfall", open=False, elem_id="sd-cases"):
        gr.Markdown("Samma format som `evals/cases/*.yaml` (se `evals/README.md`). Sparas i "
                    "datakatalogen som `owner_cases.yaml`.")
        editor = gr.Textbox(actions.cases_text, label="Testfall (YAML)", lines=12,
                            max_lines=40, elem_id="sd-cases-editor", elem_classes=["sd-yaml"])
        save = gr.Button("Spara testfallen", elem_id="sd-cases-save")
        upload = gr.File(label="Eller lägg till fall från en YAML-fil", type="filepath",
                         file_types=[".yaml", ".yml"], elem_id="sd-cases-upload")
        cases_status = gr.HTML(elem_id="sd-cases-status")
    run.click(actions.run_eval, [key, documents, include], [status, report],
              concurrency_limit=1, api_visibility=PRIVATE)
    save.click(actions.save_cases, [editor, key], [cases_status, editor],
               api_visibility=PRIVATE)
    upload.upload(actions.upload_cases, [upload, key], [cases_status, editor, upload],
                  api_visibility=PRIVATE)
    return key, editor, documents


def mount_ui(app: FastAPI, service: Styrdok, feedback: FeedbackStore,
             gaps: GapLog | None = None) -> FastAPI:
    """Mount the UI at / of `app` (after every other route, since it matches everything)."""
    settings = service.settings
    blocks = build_ui(service, feedback, gaps)
    mounted: FastAPI = gr.mount_gradio_app(
        app, blocks, path="/", server_name=settings.host,
        server_port=settings.port, footer_links=[], run_history=False,
        max_file_size=f"{settings.max_upload_mb}mb", show_error=False, ssr_mode=False,
        allowed_paths=[], blocked_paths=blocked_paths(settings),
        mcp_server=False, css=UI_CSS + COMPARE_CSS, i18n=SWEDISH, js=SWEDISH_LABELS_JS)
    harden(blocks, settings)  # event inputs: only files clients uploaded (web.ui_guard)
    return swedish_page(mounted)
