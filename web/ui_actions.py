"""What the UI's buttons do. Plain methods over the service, returning display values."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.service import Styrdok
from rag.answer.compare import comparison_answer
from rag.models import Answer, Filters
from rag.service import without_control_characters
from rag.text.language import detect_language
from web.auth import check_write_key
from web.compare_ui import comparison_html
from web.errors import ApiError
from web.feedback import FeedbackStore, Rating
from web.render import chat_message, markdown_text, notice_html, sources_html
from web.ui_guard import is_client_upload
from web.uploads import on_existing, remove_document, safe_filename, store_upload, upload_metadata
from web.versions_ui import parse_as_of

log = logging.getLogger(__name__)
ALL = "__alla__"
REPORT_FILE = Path("reports/eval/report.md")  # where evals.runner writes it
Message = dict[str, Any]
TABLE_HEADERS = ["Titel", "Region", "Typ", "Delar", "Inläst", "Id"]
STREAMING_NOTE = "Svaret skrivs och kontrolleras sedan mot källorna …"


def _choice(value: str | None) -> str | None:
    return None if not value or value == ALL else value


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


class Actions:
    def __init__(self, service: Styrdok, feedback: FeedbackStore) -> None:
        self.service = service
        self.feedback = feedback

    # --- asking ------------------------------------------------------------------------

    def ask(self, question: str, history: list[Message] | None, region: str | None,
            doc_type: str | None, compare: bool = False,
            as_of: Any = None) -> Iterator[tuple[Any, ...]]:
        """Outputs as the answer grows: streamed model text first (when a model is
        configured), then the final answer with its source cards (with `compare`, or when
        the question asks for several regions, the per-region table)."""
        history = list(history or [])
        question = without_control_characters(question or "").strip()
        limit = self.service.settings.max_question_chars
        if not question:
            yield self._not_asked(history, "Skriv en fråga först.", question)
            return
        if len(question) > limit:
            yield self._not_asked(history, f"Frågan är för lång (högst {limit} tecken).",
                                  question)
            return
        asked = [*history, {"role": "user", "content": markdown_text(question)}]
        filters = Filters(region=_choice(region), doc_type=_choice(doc_type),
                          as_of=parse_as_of(as_of))
        answer: Answer | None = None
        streamed = ""
        try:
            items = [comparison_answer(self.service.compare(question),
                                       detect_language(question))] if compare else \
                self.service.ask_stream(question, filters)
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
            yield self._not_asked(history, "Något gick fel. Försök igen om en stund.",
                                  question)
            return
        history = [*asked, {"role": "assistant", "content": chat_message(answer)}]
        shown = comparison_html(answer.comparison) if answer.comparison else \
            sources_html(answer, self._passages(answer))
        yield (history, shown, answer.model_dump(),
               "", "", "", gr.Group(visible=True))

    @staticmethod
    def _streaming(asked: list[Message], text: str) -> tuple[Any, ...]:
        """Outputs while the model writes: its text so far, marked as not yet checked."""
        message = f"{markdown_text(text)} ▌\n\n*{STREAMING_NOTE}*"
        return ([*asked, {"role": "assistant", "content": message}], "", None, "", "", "",
                gr.Group(visible=False))

    @staticmethod
    def _not_asked(history: list[Message], message: str, question: str) -> tuple[Any, ...]:
        """Outputs when no answer was produced: a message, the question kept for editing."""
        return (history, notice_html(message, "error"), None, question, "", "",
                gr.Group(visible=False))

    def _passages(self, answer: Answer) -> dict[str, str]:
        snapshot = self.service.store.snapshot()
        found: dict[str, str] = {}
        for citation in [*answer.citations, *answer.nearest]:
            index = snapshot.position.get(citation.chunk_id)
            if index is not None:
                found[citation.chunk_id] = snapshot.chunks[index].text
        return found

    def rate(self, rating: Rating, last_answer: dict[str, Any] | None,
             comment: str | None) -> tuple[str, str]:
        if not last_answer:
            return notice_html("Ställ en fråga först, betygsätt sedan svaret.", "error"), \
                comment or ""
        answer = Answer.model_validate(last_answer)
        sources = answer.nearest if answer.refused else answer.citations
        self.feedback.add(question=answer.question, answer=answer.answer, rating=rating,
                          comment=(comment or "")[:2000], channel="ui",
                          citations=[source.model_dump(mode="json") for source in sources])
        return notice_html("Tack! Din återkoppling är sparad för dokumentägarna.", "ok"), ""

    # --- documents ---------------------------------------------------------------------

    def refresh(self) -> tuple[Any, ...]:
        docs = self.service.documents()
        regions = sorted({doc.region for doc in docs if doc.region})
        types = sorted({doc.doc_type for doc in docs if doc.doc_type})
        rows = [[doc.title, doc.region, doc.doc_type, doc.chunks,
                 doc.ingested_at.replace("T", " ")[:16], doc.document] for doc in docs]
        return (
            gr.Dropdown(choices=[("Alla regioner", ALL), *((r, r) for r in regions)]),
            gr.Dropdown(choices=[("Alla typer", ALL), *((t, t) for t in types)]),
            gr.Dataframe(value=rows or None, headers=TABLE_HEADERS),
            gr.Dropdown(choices=[(f"{doc.title} ({doc.document})", doc.document)
                                 for doc in docs], value=None),
        )

    def upload(self, path: str | None, key: str | None, title: str | None,
               region: str | None, doc_type: str | None, replace: bool = False,
               edition: str | None = None, valid_from: Any = None) -> tuple[str, Any]:
        settings = self.service.settings
        if not path:
            return notice_html("Välj en fil först.", "error"), gr.File()
        try:
            check_write_key(settings, key)
            # Only a file a client uploaded to Gradio's folder, never a path someone named.
            if not is_client_upload(path):
                return notice_html("Filen kunde inte läsas in: ladda upp den igen.",
                                   "error"), gr.File()
            name = safe_filename(Path(path).name)
            meta = upload_metadata(name, title=title or "", region=region or "",
                                   doc_type=doc_type or "", edition=edition or "",
                                   valid_from=parse_as_of(valid_from))
            with open(path, "rb") as data:
                result = store_upload(self.service, Path(path).name, data, meta,
                                      on_existing=on_existing(replace, meta))
        except ApiError as error:
            return notice_html(_owner_error(error, settings.max_upload_mb), "error"), gr.File()
        verb = {"added": "Inläst", "updated": "Uppdaterat", "unchanged": "Oförändrat"}
        return notice_html(f"{verb[result.status]}: {result.title} ({result.chunks} delar).",
                           "ok"), None

    def remove(self, document: str | None, key: str | None) -> str:
        if not document:
            return notice_html("Välj ett dokument att ta bort.", "error")
        try:
            check_write_key(self.service.settings, key)
        except ApiError as error:
            return notice_html(_owner_error(error, self.service.settings.max_upload_mb),
                               "error")
        if not remove_document(self.service, document):
            return notice_html("Dokumentet finns inte längre.", "error")
        return notice_html(f"Borttaget: {document}.", "ok")

    # --- evaluation --------------------------------------------------------------------

    def latest_report(self) -> str:
        if REPORT_FILE.is_file():
            return REPORT_FILE.read_text(encoding="utf-8")
        return "*Ingen utvärderingsrapport ännu.*"

    def run_eval(self, key: str | None) -> tuple[str, str]:
        """Run the eval suite over the current index (owners only: it takes minutes of CPU)."""
        try:
            check_write_key(self.service.settings, key)
        except ApiError as error:
            return notice_html(_owner_error(error, self.service.settings.max_upload_mb),
                               "error"), self.latest_report()
        try:
            from evals import report, runner
            from evals.cases import load_cases
            from evals.metrics import load_thresholds
        except ImportError:
            return notice_html("Utvärderingssviten finns inte i den här installationen.",
                               "error"), self.latest_report()
        try:
            cases = load_cases()
            run = runner.apply_gate(runner.run_eval(self.service, cases, progress=False),
                                    load_thresholds())
            report.write_reports(run, REPORT_FILE.parent)
        except Exception:
            log.exception("eval failed")
            return notice_html("Utvärderingen kunde inte köras (se serverloggen).",
                               "error"), self.latest_report()
        indexed = {doc.document for doc in self.service.documents()}
        missing = sorted({case.document for case in cases if case.document} - indexed)
        verdict = "godkänd" if run.gate_passed else "under tröskel: " + \
            "; ".join(run.threshold_failures)
        note = f" Obs: testfallens dokument saknas i indexet: {', '.join(missing)}." \
            if missing else ""
        return notice_html(f"Utvärderingen är klar ({verdict}).{note}",
                           "ok" if run.gate_passed else "error"), self.latest_report()
