"""The question side of Styrdok as one object; `ingest.service.Styrdok` adds ingest."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterator

from langchain_core.language_models import BaseChatModel
from tqdm import tqdm

from prompts import load_prompt
from rag.answer.followup import Resolution, Turn, resolve
from rag.chain import build_chain, build_draft_chain, run, run_stream
from rag.generate.llm import chat_model
from rag.models import Answer, DocumentInfo, Filters, HistoryTurn, SearchHit
from rag.retrieve.hybrid import HybridSearcher, Mode
from rag.settings import Settings
from rag.store.embeddings import Embedder, build_embedder
from rag.store.store import Store

log = logging.getLogger(__name__)


class Assistant:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 model: BaseChatModel | None = None) -> None:
        """`model`: a ready chat model instead of the one the settings describe (it is used
        only when `settings.llm_provider` is not "none")."""
        self.settings = settings or Settings()
        self.store = Store(self.settings, embedder or build_embedder(self.settings))
        self.searcher = HybridSearcher(self.store, self.settings)
        self.model = model or _configured_model(self.settings)
        self.chain = build_chain(self.searcher, self.settings, self.model)
        self._draft_chain = build_draft_chain(self.searcher, self.settings)
        self._write_lock = threading.Lock()  # one ingest/remove at a time per process

    def ask(self, question: str, filters: Filters | None = None,
            history: list[HistoryTurn] | None = None) -> Answer:
        """The final answer: generated and verified with a model configured, else extractive.

        `history`: the conversation's earlier turns, oldest first. A follow-up ("Och för
        BVC?") is answered as the previous question with the constraint it names replaced;
        one that cannot be understood is asked back.
        """
        question = self._checked(question)
        resolution = self.resolve(question, history)
        if resolution.clarify:
            return self._clarify(question)
        answer = run(self.chain, resolution.question, filters or Filters())
        return self._as_asked(answer, question, resolution)

    def resolve(self, question: str, history: list[HistoryTurn] | None) -> Resolution:
        turns = [Turn(turn.question, turn.answer) for turn in history or []]
        return resolve(question, turns, self.searcher.query_vector)

    def _clarify(self, question: str) -> Answer:
        from rag.text.language import detect_language

        language = detect_language(question)
        return Answer(question=question, answer=load_prompt(f"clarify_{language}"),
                      refused=True, language=language)

    @staticmethod
    def _as_asked(answer: Answer, question: str, resolution: Resolution) -> Answer:
        if resolution.rewritten:
            answer.interpreted_as = resolution.question
            answer.question = question
        return answer

    def ask_stream(self, question: str, filters: Filters | None = None,
                   history: list[HistoryTurn] | None = None) -> Iterator[str | Answer]:
        """The answer's text as the model writes it, then the final `Answer` (always last).

        Streamed text is provisional: the final `Answer` is what to show, and it may be the
        extractive answer with a notice. With no model configured only the `Answer` comes.
        Raises ValueError for an empty or too long question before anything is yielded.
        """
        question = self._checked(question)
        resolution = self.resolve(question, history)
        if resolution.clarify:
            return iter([self._clarify(question)])
        stream = run_stream(self._draft_chain, self.settings, self.model, resolution.question,
                            filters or Filters())
        return (self._as_asked(item, question, resolution) if isinstance(item, Answer)
                else item for item in stream)

    def _checked(self, question: str) -> str:
        question = without_control_characters(question).strip()
        if not question:
            raise ValueError("empty question")
        if len(question) > self.settings.max_question_chars:
            raise ValueError(f"question longer than {self.settings.max_question_chars} "
                             "characters")
        return question

    def search(self, query: str, k: int = 10, filters: Filters | None = None,
               mode: Mode = "hybrid") -> list[SearchHit]:
        return self.searcher.search(query, k, filters, mode)

    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def flagged_sentences(self) -> dict[str, list[tuple[str, str]]]:
        """Per document, (section, sentence) of every sentence that addresses a reader or an
        AI: shown to the owner, never used as evidence."""
        flagged: dict[str, list[tuple[str, str]]] = {}
        for chunk in self.store.snapshot().chunks:
            for sentence in chunk.instructions:
                flagged.setdefault(chunk.document, []).append((chunk.section_label, sentence))
        return flagged

    def reindex(self, progress: bool = False) -> tuple[int, int]:
        """Vectors for every catalog chunk, from the embedding cache where it has them, then
        the unreferenced ones collected: (chunks written, newly embedded)."""
        with self._write_lock:
            bar = tqdm(total=len(self.store.catalog.chunk_ids()), desc="Reindex", unit="avsnitt",
                       disable=not progress, leave=False)
            with bar:
                written = self.store.reindex(bar.update)
            self.store.collect_garbage()
            return written

    def remove(self, document: str) -> bool:
        with self._write_lock:
            return self.store.remove_document(document)


_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Unicode categories dropped from questions: control (Cc) and format (Cf) characters.
INVISIBLE_CATEGORIES = ("Cc", "Cf")


def without_control_characters(text: str) -> str:
    """Drop terminal escapes, control and format characters (bidi overrides, zero-width
    spaces) that a pasted question may carry; line breaks and tabs become spaces."""
    text = _ANSI_ESCAPE.sub("", text)
    return "".join(" " if char in "\n\r\t" else char for char in text
                   if char in "\n\r\t" or unicodedata.category(char) not in INVISIBLE_CATEGORIES)


def _configured_model(settings: Settings) -> BaseChatModel | None:
    """The chat model, built once; None when none is configured or the settings are unusable.

    Unusable settings are logged here, and every question is then answered extractively with
    a notice (`rag.generate.llm` reports them as "misconfigured"): a bad setting never stops the
    service.
    """
    if settings.llm_provider == "none":
        return None
    try:
        return chat_model(settings)
    except Exception as error:  # LLMConfigError, a missing client package, a bad URL, ...
        log.warning("language model %s not usable, answers stay extractive: %s",
                    settings.llm_provider, error)
        return None
