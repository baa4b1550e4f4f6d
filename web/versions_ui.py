"""The UI's parts for versions, kept apart from the layout so it can change freely: the
"as of" date picker on the Fråga tab and the "what changed" view on the Dokument tab."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import gradio as gr

from ingest.service import Styrdok
from rag.answer.changes import UnknownEdition
from web.changes import changes_html
from web.render import notice_html

PRIVATE: Literal["private"] = "private"


def as_of_picker() -> gr.DateTime:
    """'Svar per datum': empty means today (or a date the question names)."""
    return gr.DateTime(label="Svar per datum (tomt = i dag)", include_time=False, type="string",
                       value=None, elem_id="sd-as-of", min_width=200)


def parse_as_of(value: str | float | datetime | None) -> date | None:
    """The picker's value as a date; None when empty or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value).date()
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def edition_fields() -> tuple[gr.Textbox, gr.DateTime]:
    """Upload form: which edition this is and from when it applies (both optional; a changed
    upload of a document already here becomes a new edition from today)."""
    with gr.Row():
        edition = gr.Textbox(label="Utgåva (valfritt)", max_length=100, min_width=160,
                             elem_id="sd-upload-edition")
        valid_from = gr.DateTime(label="Giltig från (valfritt)", include_time=False,
                                 type="string", value=None, elem_id="sd-upload-valid-from",
                                 min_width=160)
    return edition, valid_from


def changes_view(service: Styrdok) -> gr.Dropdown:
    """'Vad ändrades?': pick a document (and optionally two editions), see the changes."""
    with gr.Accordion("Vad ändrades? (jämför utgåvor)", open=False):
        document = gr.Dropdown(label="Dokument", choices=[], elem_id="sd-changes-document")
        with gr.Row():
            older = gr.Textbox(label="Från utgåva (tomt = näst senaste)", max_length=100,
                               min_width=160)
            newer = gr.Textbox(label="Till utgåva (tomt = senaste)", max_length=100,
                               min_width=160)
        show = gr.Button("Visa ändringar", elem_id="sd-changes-show")
        result = gr.HTML(elem_id="sd-changes")
    show.click(lambda doc, a, b: show_changes(service, doc, a, b), [document, older, newer],
               [result], api_visibility=PRIVATE)
    return document


def show_changes(service: Styrdok, document: str | None, older: str | None,
                 newer: str | None) -> str:
    if not document:
        return notice_html("Välj ett dokument först.", "error")
    try:
        changes = service.changes(document, older.strip() if older and older.strip() else None,
                                  newer.strip() if newer and newer.strip() else None)
    except UnknownEdition as error:
        return notice_html(f"Finns inte: {error}", "error")
    return changes_html(changes)


def document_choices(service: Styrdok) -> gr.Dropdown:
    return gr.Dropdown(choices=[(f"{doc.title} ({doc.document})", doc.document)
                                for doc in service.documents()], value=None)
