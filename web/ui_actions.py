"""What the UI's buttons do. Plain methods over the service, returning display values.

The conversation lives in the browser (`gr.BrowserState`), never on the server:
`{"messages": [chat messages], "turns": [{"question", "answer"}], "last": {...} | None}`.
`turns` is the history a follow-up question is understood from (see `answer_stream`).
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from pydantic import ValidationError

from evals.cases import CaseFileError
from ingest.service import Styrdok
from rag.answer.compare import comparison_answer
from rag.models import Answer, Filters, HistoryTurn
from rag.service import without_control_characters
from rag.text.language import detect_language
from web import owner_view
from web.auth import check_write_key
from web.compare_ui import comparison_html
from web.errors import ApiError
from web.feedback import FeedbackStore, Rating
from web.flagged import flagged_html, flagged_sentences
from web.gaps import GapLog, asked_stream
from web.owner_cases import CLI_ERROR_PREFIX, OwnerCases, draft_yaml
from web.owner_html import overview_html
from web.owner_report import latest_owner_report, owner_cases_for, run_owner_eval
from web.render import (
    answer_bubble,
    chat_message,
    documents_table,
    filters_label,
    markdown_text,
    notice_html,
)
from web.ui_guard import is_client_upload
from web.uploads import on_existing, remove_document, safe_filename, store_upload, upload_metadata
from web.versions_ui import parse_as_of

log = logging.getLogger(__name__)
ALL = "__alla__"
Message = dict[str, Any]
Conversation = dict[str, Any]
STREAMING_NOTE = "Svaret skrivs och kontrolleras sedan mot källorna …"
FILTER_LABEL = "Avgränsa till region eller dokumenttyp"
MAX_TURNS = 20  # what the browser keeps, and what a follow-up can lean on
RATING_TEXT = {"up": "👍 Bra svar", "down": "👎 Fel eller oklart"}


def empty_conversation() -> Conversation:
    return {"messages": [], "turns": [], "last": None}


def _choice(value: str | None) -> str | None:
    return None if not value or value == ALL else value


def chosen_filters(region: str | None, doc_type: str | None, as_of: Any = None) -> Filters:
    return Filters(region=_choice(region), doc_type=_choice(doc_type),
                   as_of=parse_as_of(as_of))


def filter_panel_label(region: str | None, doc_type: str | None, as_of: Any = None) -> str:
    """The filter accordion's title: says what is on even when the panel is closed."""
    try:
        filters = chosen_filters(region, doc_type, as_of)
    except ValueError:  # a half-typed date
        filters = chosen_filters(region, doc_type)
    active = filters_label(filters)
    return f"{FILTER_LABEL} (på: {active})" if active else FILTER_LABEL


def answer_stream(service: Styrdok, gaps: GapLog, question: str, filters: Filters,
                  history: list[dict[str, str]]) -> Iterator[str | Answer]:
    """The one call from the chat to the service: the answer (streamed), with a refusal
    logged for the owners. `history` holds the conversation's earlier {question, answer}
    turns, oldest first: "Och för BVC?" after the BMM question is answered as "Hur mycket
    läkartid ska BVC ha?", and a follow-up with nothing before it is asked back."""
    return asked_stream(service, gaps, question, filters, channel="ui",
                        history=history_turns(history))


def history_turns(stored: list[Any]) -> list[HistoryTurn]:
    """The browser's stored turns as the service's history; a turn that does not fit the
    model (an old or edited storage) is left out rather than failing the question."""
    turns: list[HistoryTurn] = []
    for turn in stored[-MAX_TURNS:]:
        try:
            turns.append(HistoryTurn.model_validate(turn))
        except ValidationError:
            continue
    return turns


def _owner_error(error: ApiError, max_mb: int) -> str:
    match error.status:
        case 401:
            return "Fel eller saknad ägarnyckel."
        case 403:
            return "Ändringar är avstängda: ingen API-nyckel är konfigurerad på servern."
        case 413:
            return f"Filen är större än {max_mb} MB."
        case 415:
            return "Filtypen stöds inte. Ladda upp PDF, DOCX, TXT eller MD."
        case 409 if error.code == "document_exists":
            return ("Det finns redan ett dokument med samma namn. Kryssa i "
                    "”Ersätt befintligt dokument” för att ersätta det.")
        case 409:
            return ("Filen skulle ersätta ett dokument som kom från en annan fil. "
                    "Byt namn på filen.")
        case 429:
            return "För många uppladdningar. Försök igen senare."
        case _:
            return f"Filen kunde inte läsas in: {error.message}"


def _rating_buttons(rating: str | None) -> tuple[Any, Any]:
    """The two rating buttons, the chosen one highlighted and marked."""
    return tuple(gr.Button(value=("✓ " if rating == kind else "") + RATING_TEXT[kind],
                           variant="primary" if rating == kind else "secondary")
                 for kind in ("up", "down"))  # type: ignore[return-value]


class Actions:
    def __init__(self, service: Styrdok, feedback: FeedbackStore,
                 gaps: GapLog | None = None) -> None:
        settings = service.settings
        self.service = service
        self.feedback = feedback
        self.gaps = gaps or GapLog(settings.feedback_path, settings.feedback_retention_days)
        self.owner_cases = OwnerCases(service.settings.data_dir)

    def _key_error(self, key: str | None) -> str | None:
        try:
            check_write_key(self.service.settings, key)
        except ApiError as error:
            return _owner_error(error, self.service.settings.max_upload_mb)
        return None

    # --- asking ------------------------------------------------------------------------

    def restore(self, conversation: Conversation | None) -> tuple[Any, ...]:
        """After a (re)load: the stored conversation back in the chat, with its rating."""
        conversation = conversation or empty_conversation()
        last = conversation.get("last")
        rating = last.get("rating") if last else None
        return (conversation.get("messages", []), gr.Group(visible=bool(last)),
                *_rating_buttons(rating), self._all_regions_button(last))

    @staticmethod
    def _all_regions_button(last: dict[str, Any] | None) -> Any:
        return gr.Button(visible=bool(last and last.get("filters")))

    def ask(self, question: str, conversation: Conversation | None, region: str | None,
            doc_type: str | None, compare: bool = False,
            as_of: Any = None) -> Iterator[tuple[Any, ...]]:
        """Outputs as the answer grows: streamed model text first (when a model is
        configured), then the final answer with its own source cards (with `compare`, or
        when the question asks for several regions, the per-region table).

        Outputs: chat, conversation, question box, comment, status, rating group, 👍, 👎,
        "sök i alla regioner"."""
        conversation = conversation or empty_conversation()
        messages: list[Message] = list(conversation.get("messages", []))
        question = without_control_characters(question or "").strip()
        limit = self.service.settings.max_question_chars
        if not question:
            yield self._not_asked(messages, "Skriv en fråga först.", question)
            return
        if len(question) > limit:
            yield self._not_asked(messages, f"Frågan är för lång (högst {limit} tecken).",
                                  question)
            return
        asked = [*messages, {"role": "user", "content": markdown_text(question)}]
        filters = chosen_filters(region, doc_type, as_of)
        answer: Answer | None = None
        streamed = ""
        try:
            items = [comparison_answer(self.service.compare(question),
                                       detect_language(question))] if compare else \
                answer_stream(self.service, self.gaps, question, filters,
                              list(conversation.get("turns", [])))
            for item in items:
                if isinstance(item, Answer):
                    answer = item
                else:
                    streamed += item
                    yield self._streaming(asked, streamed)
            if answer is None:
                raise RuntimeError("the answer stream ended without an answer")
        except Exception:
            log.exception("ask failed")
            yield self._not_asked(messages, "Något gick fel. Försök igen om en stund.",
                                  question)
            return
        # A comparison's table is wide: it goes below the chat (#sd-sources), the chat gets
        # its summary; any other answer carries its own source cards in its message.
        table = comparison_html(answer.comparison) if answer.comparison else ""
        bubble = chat_message(answer) if answer.comparison else \
            answer_bubble(answer, self._passages(answer), filters, self._flagged(answer))
        sources = answer.nearest if answer.refused else answer.citations
        # A follow-up is kept as the question it was answered as, so that the turns (and
        # "Sök i alla regioner") read on their own.
        understood = answer.interpreted_as or answer.question
        last = {"answer_id": uuid.uuid4().hex, "question": answer.question,
                "interpreted_as": answer.interpreted_as,
                "answer": answer.answer, "refused": answer.refused, "rating": None,
                "fallback": answer.fallback, "notice": answer.notice,
                "filters": filters.model_dump(mode="json", exclude_none=True),
                "sources": [source.model_dump(mode="json") for source in sources],
                "comparison_answer": answer.model_dump(mode="json") if answer.comparison
                else None}
        turns = [*conversation.get("turns", []),
                 {"question": understood, "answer": answer.answer}][-MAX_TURNS:]
        new_messages = [*asked, {"role": "assistant", "content": bubble}][-2 * MAX_TURNS:]
        stored = {"messages": new_messages, "turns": turns, "last": last}
        yield (new_messages, stored, "", "", "", gr.Group(visible=True), *_rating_buttons(None),
               self._all_regions_button(last), table)

    @staticmethod
    def _streaming(asked: list[Message], text: str) -> tuple[Any, ...]:
        """Outputs while the model writes: its text so far, marked as not yet checked."""
        message = f"{markdown_text(text)} ▌\n\n*{STREAMING_NOTE}*"
        return ([*asked, {"role": "assistant", "content": message}], gr.skip(), "", gr.skip(),
                "", gr.Group(visible=False), gr.skip(), gr.skip(), gr.skip(), "")

    @staticmethod
    def _not_asked(messages: list[Message], message: str, question: str) -> tuple[Any, ...]:
        """Outputs when no answer was produced: a message, the question kept for editing."""
        return (messages, gr.skip(), question, gr.skip(), notice_html(message, "error"),
                gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip())

    def _passages(self, answer: Answer) -> dict[str, str]:
        snapshot = self.service.store.snapshot()
        found: dict[str, str] = {}
        for citation in [*answer.citations, *answer.nearest]:
            index = snapshot.position.get(citation.chunk_id)
            if index is not None:
                found[citation.chunk_id] = snapshot.chunks[index].text
        return found

    def _flagged(self, answer: Answer) -> dict[str, list[str]]:
        """The shown passages' sentences that give orders to the reader (never evidence)."""
        snapshot = self.service.store.snapshot()
        found: dict[str, list[str]] = {}
        for citation in [*answer.citations, *answer.nearest]:
            index = snapshot.position.get(citation.chunk_id)
            if index is not None and snapshot.chunks[index].instructions:
                found[citation.chunk_id] = list(snapshot.chunks[index].instructions)
        return found

    @staticmethod
    def last_question(conversation: Conversation | None) -> str:
        last = (conversation or {}).get("last")
        return str(last.get("interpreted_as") or last["question"]) if last else ""

    def rate(self, rating: Rating, conversation: Conversation | None,
             comment: str | None) -> tuple[Any, ...]:
        """Rate the newest answer; rating it again changes the same row.

        Outputs: status, comment, conversation, 👍, 👎."""
        conversation = conversation or empty_conversation()
        last = conversation.get("last")
        if not last:
            return (notice_html("Ställ en fråga först, betygsätt sedan svaret.", "error"),
                    comment or "", gr.skip(), gr.skip(), gr.skip())
        text = (comment or "")[:2000]
        self.feedback.add(question=last["question"], answer=last["answer"], rating=rating,
                          comment=text or last.get("comment", ""), channel="ui",
                          citations=last.get("sources", []), answer_id=last["answer_id"],
                          filters=last.get("filters", {}))
        last = {**last, "rating": rating, "comment": text or last.get("comment", "")}
        stored = {**conversation, "last": last}
        chosen = "👍 Bra svar" if rating == "up" else "👎 Fel eller oklart"
        return (notice_html(f"Tack! Ditt betyg ({chosen}) är sparat för dokumentägarna; "
                            "du kan ändra det.", "ok"), "", stored, *_rating_buttons(rating))

    # --- documents ---------------------------------------------------------------------

    def refresh(self) -> tuple[Any, ...]:
        docs = self.service.documents()
        regions = sorted({doc.region for doc in docs if doc.region})
        types = sorted({doc.doc_type for doc in docs if doc.doc_type})
        choices = [(f"{doc.title} ({doc.document})", doc.document) for doc in docs]
        return (
            gr.Dropdown(choices=[("Alla regioner", ALL), *((r, r) for r in regions)]),
            gr.Dropdown(choices=[("Alla typer", ALL), *((t, t) for t in types)]),
            documents_table(docs) + flagged_html(flagged_sentences(self.service),
                                                 {doc.document: doc.title for doc in docs}),
            gr.Dropdown(choices=choices, value=None),
            gr.Dropdown(choices=[(doc.title, doc.document) for doc in docs]),
        )

    def upload(self, path: str | None, key: str | None, title: str | None,
               region: str | None, doc_type: str | None, replace: bool = False,
               edition: str | None = None, valid_from: Any = None) -> tuple[Any, ...]:
        """Outputs: status, file, title, region, type (the form is cleared on success and
        kept on failure, so the owner can fix the key and try again)."""
        settings = self.service.settings
        keep = (gr.skip(), gr.skip(), gr.skip(), gr.skip())
        if not path:
            return notice_html("Välj en fil först.", "error"), *keep
        try:
            check_write_key(settings, key)
            # Only a file a client uploaded to Gradio's folder, never a path someone named.
            if not is_client_upload(path):
                return notice_html("Filen kunde inte läsas in: ladda upp den igen.",
                                   "error"), None, gr.skip(), gr.skip(), gr.skip()
            name = safe_filename(Path(path).name)
            meta = upload_metadata(name, title=title or "", region=region or "",
                                   doc_type=doc_type or "", edition=edition or "",
                                   valid_from=parse_as_of(valid_from))
            with open(path, "rb") as data:
                result = store_upload(self.service, Path(path).name, data, meta,
                                      on_existing=on_existing(replace, meta))
        except ApiError as error:
            return notice_html(_owner_error(error, settings.max_upload_mb), "error"), *keep
        verb = {"added": "Inläst", "updated": "Uppdaterat", "unchanged": "Oförändrat"}
        flagged = len(flagged_sentences(self.service, result.document).get(result.document, []))
        warning = (f" {flagged} mening{'ar' if flagged > 1 else ''} i dokumentet ger order till "
                   "läsaren eller till en AI och används aldrig som svar; se listan under "
                   "dokumenten." if flagged else "")
        return (notice_html(f"{verb[result.status]}: {result.title} ({result.chunks} delar)."
                            + warning, "ok"), None, "", "", "")

    def ask_remove(self, document: str | None) -> tuple[Any, ...]:
        """First step of removal: name what will go and ask. Outputs: status, confirm group,
        confirm text."""
        if not document:
            return notice_html("Välj ett dokument att ta bort.", "error"), \
                gr.Group(visible=False), ""
        info = next((d for d in self.service.documents() if d.document == document), None)
        if info is None:
            return notice_html("Dokumentet finns inte längre.", "error"), \
                gr.Group(visible=False), ""
        text = (f"Ta bort **{markdown_text(info.title)}** ({info.chunks} delar)? Personalen "
                "kan då inte längre få svar ur det. Det går inte att ångra.")
        return "", gr.Group(visible=True), text

    def remove(self, document: str | None, key: str | None) -> tuple[str, Any]:
        """Second step: remove. Outputs: status, confirm group."""
        hidden = gr.Group(visible=False)
        if not document:
            return notice_html("Välj ett dokument att ta bort.", "error"), hidden
        if error := self._key_error(key):
            return notice_html(error, "error"), gr.skip()
        if not remove_document(self.service, document):
            return notice_html("Dokumentet finns inte längre.", "error"), hidden
        return notice_html(f"Borttaget: {document}.", "ok"), hidden

    # --- owners' feedback ----------------------------------------------------------------

    def load_feedback(self, key: str | None) -> tuple[Any, ...]:
        """Outputs: status, summary HTML, items (state), CSV download."""
        if error := self._key_error(key):
            return notice_html(error, "error"), "", [], gr.DownloadButton(visible=False)
        view = owner_view.overview(self.gaps, self.feedback, self.service.store.embedder)
        csv_path = Path(tempfile.mkdtemp(prefix="styrdok-")) / "styrdok-aterkoppling.csv"
        csv_path.write_text(owner_view.to_csv(view), encoding="utf-8-sig")
        count = len(view.items)
        status = f"{count} frågor att titta på." if count else "Inget att visa ännu."
        return (notice_html(status, "ok"), overview_html(view),
                [item.model_dump() for item in view.items],
                gr.DownloadButton(value=str(csv_path), visible=bool(count)))

    def make_case(self, item_key: str, key: str | None) -> tuple[Any, ...]:
        """'Gör till testfall': a draft case for the item. Outputs: status, draft editor,
        draft group, draft's item key."""
        if error := self._key_error(key):
            return notice_html(error, "error"), gr.skip(), gr.skip(), gr.skip()
        item = owner_view.find(self.gaps, self.feedback, item_key)
        if item is None:
            return notice_html("Frågan finns inte längre i loggen.", "error"), gr.skip(), \
                gr.skip(), gr.skip()
        draft = self.owner_cases.make_draft(item)
        what = ("Dokumenten saknar svar, så testfallet kräver att Styrdok avböjer."
                if item.kind == "refused" else
                "Skriv in en fras ur dokumentet som svaret ska innehålla (under facts).")
        return (notice_html(f"Utkast skapat. {what} Kontrollera och bekräfta.", "ok"),
                draft_yaml(draft), gr.Group(visible=True), item_key)

    def confirm_case(self, yaml_text: str, item_key: str | None,
                     key: str | None) -> tuple[Any, ...]:
        """Outputs: status, draft group, owner case editor."""
        if error := self._key_error(key):
            return notice_html(error, "error"), gr.skip(), gr.skip()
        if "SKRIV EN FRAS" in (yaml_text or ""):
            return notice_html("Fyll i facts: en fras ur dokumentet som svaret ska "
                               "innehålla.", "error"), gr.skip(), gr.skip()
        try:
            added = self.owner_cases.confirm(yaml_text or "", item_key or None)
        except CaseFileError as error:
            return notice_html(CLI_ERROR_PREFIX + str(error), "error"), gr.skip(), gr.skip()
        names = ", ".join(case.id for case in added)
        return (notice_html(f"Sparat i dokumentägarnas testfall: {names}.", "ok"),
                gr.Group(visible=False), self.owner_cases.cases_text())

    # --- owners' evaluation ----------------------------------------------------------------

    def cases_text(self) -> str:
        return self.owner_cases.cases_text()

    def save_cases(self, yaml_text: str, key: str | None) -> tuple[str, Any]:
        if error := self._key_error(key):
            return notice_html(error, "error"), gr.skip()
        try:
            cases = self.owner_cases.save_all(yaml_text or "")
        except CaseFileError as error:
            return notice_html(CLI_ERROR_PREFIX + str(error), "error"), gr.skip()
        return notice_html(f"Sparat: {len(cases)} testfall.", "ok"), \
            self.owner_cases.cases_text()

    def upload_cases(self, path: str | None, key: str | None) -> tuple[str, Any, Any]:
        """Add the cases of an uploaded YAML file. Outputs: status, editor, file."""
        if not path:
            return notice_html("Välj en YAML-fil först.", "error"), gr.skip(), gr.skip()
        if error := self._key_error(key):
            return notice_html(error, "error"), gr.skip(), gr.skip()
        try:
            text = Path(path).read_text(encoding="utf-8")
            added = self.owner_cases.confirm(text)
        except UnicodeDecodeError:
            return notice_html("Filen är inte UTF-8-text.", "error"), gr.skip(), None
        except CaseFileError as error:
            return notice_html(CLI_ERROR_PREFIX + str(error), "error"), gr.skip(), None
        return (notice_html(f"Tillagda: {len(added)} testfall.", "ok"),
                self.owner_cases.cases_text(), None)

    def latest_report(self) -> str:
        return latest_owner_report(self.service.settings.data_dir)

    def run_eval(self, key: str | None, documents: list[str] | None,
                 include_repository: bool) -> tuple[str, str]:
        """Run the cases about the chosen documents (owners only: it takes CPU)."""
        if error := self._key_error(key):
            return notice_html(error, "error"), self.latest_report()
        try:
            own = self.owner_cases.cases()
        except CaseFileError as error:
            return notice_html(CLI_ERROR_PREFIX + str(error), "error"), self.latest_report()
        chosen = set(documents or [])
        cases = owner_cases_for(own, chosen, include_repository)
        if not cases:
            return notice_html("Inga testfall för de valda dokumenten. Välj dokument eller "
                               "lägg till egna testfall.", "error"), self.latest_report()
        try:
            run, _path = run_owner_eval(self.service, cases)
        except Exception:
            log.exception("owner eval failed")
            return notice_html("Utvärderingen kunde inte köras (se serverloggen).",
                               "error"), self.latest_report()
        failed = sum(not result.passed for result in run.results)
        verdict = "alla godkända" if not failed else f"{failed} att åtgärda"
        return notice_html(f"Klar: {len(run.results)} testfall, {verdict}.",
                           "ok" if not failed else "error"), self.latest_report()
