"""The question side of Styrdok as one object; `ingest.service.Styrdok` adds ingest."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from datetime import date

import numpy as np
from langchain_core.language_models import BaseChatModel
from tqdm import tqdm

from prompts import load_prompt
from rag.answer.changes import DocumentChanges, document_changes
from rag.answer.compare import (
    Region,
    asked_question,
    comparison_answer,
    comparison_request,
    corpus_regions,
    named_regions,
    resolve_regions,
)
from rag.answer.compare import compare as compare_regions
from rag.answer.extractive import EvidenceScorer
from rag.answer.followup import Resolution, Turn, resolve
from rag.chain import build_chain, build_draft_chain, run, run_stream
from rag.generate.llm import chat_model
from rag.models import (
    Answer,
    Chunk,
    Comparison,
    DocumentInfo,
    Filters,
    HistoryTurn,
    SearchHit,
)
from rag.retrieve.hybrid import HybridSearcher, Mode
from rag.retrieve.retriever import StyrdokRetriever, hit_from_document
from rag.settings import Settings
from rag.store.editions import EditionInfo
from rag.store.embeddings import Embedder, build_embedder
from rag.store.store import Snapshot, Store
from rag.text.language import detect_language
from rag.text.lexical import analyze
from rag.text.references import swedish_paragraph_references
from rag.text.vocabulary import Vocabulary, respell

log = logging.getLogger(__name__)


class Assistant:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 model: BaseChatModel | None = None) -> None:
        """`model`: a ready chat model instead of the one the settings describe (it is used
        only when `settings.llm_provider` is not "none")."""
        self.settings = settings or Settings()
        self.store = Store(self.settings, embedder or build_embedder(self.settings))
        self.retriever = StyrdokRetriever(searcher=HybridSearcher(self.store, self.settings))
        self.model = model or _configured_model(self.settings)
        self.chain = build_chain(self.retriever, self.settings, self.model)
        self._draft_chain = build_draft_chain(self.retriever, self.settings)
        self._write_lock = threading.Lock()  # one ingest/remove at a time per process
        self._regions: tuple[int, list[Region]] | None = None
        self._vocabulary: tuple[int, Vocabulary] | None = None
        self._vocabulary_building = -1

    def ask(self, question: str, filters: Filters | None = None,
            as_of: date | None = None,
            history: list[HistoryTurn] | None = None) -> Answer:
        """The final answer: generated and verified with a model configured, else extractive.

        `as_of`: answer as of that date (default: the filter's, one the question names, or
        today). A question asking for several regions ("mellan Värmland och Jämtland", "i
        alla regioner") is answered per region; the table is in `Answer.comparison`.

        `history`: the conversation's earlier turns, oldest first. A follow-up ("Och för
        BVC?") is answered as the previous question with the constraint it names replaced;
        one that cannot be understood is asked back."""
        question = self._checked(question)
        resolution = self.resolve(question, history)
        if resolution.clarify:
            return self._clarify(question)
        asked = resolution.question
        dated = _dated(filters, as_of)
        routed = self._routed(asked, dated)
        if routed is not None:
            return self._as_asked(routed, question, resolution)
        return self._as_asked(run(self.chain, asked, dated), question, resolution)

    def compare(self, question: str, regions: list[str] | None = None,
                as_of: date | None = None) -> Comparison:
        """The question answered from each region's documents alone: `regions` as given
        (typed names are matched to the corpus's), else those the question names, else all;
        each row as of `as_of` (default: a date the question names, or today).
        Raises ValueError for a bad question or a region the documents do not have."""
        question = self.respell(self._checked(question))
        known = self.regions()
        request = comparison_request(question, known)
        asked = request.asked if request else asked_question(
            question, named_regions(question, known)[1])
        if not asked:
            raise ValueError("the question names regions but not what to compare")
        if regions:
            chosen = resolve_regions(regions, known)
        else:
            chosen = request.regions if request else [region.name for region in known]
        return compare_regions(self._answer_one, question, asked, chosen,
                               self._coverage(asked), request.notice if request else None,
                               _dated(None, as_of))

    def regions(self) -> list[Region]:
        """The corpus's regions (from its documents' metadata), computed once a generation."""
        snapshot = self.store.snapshot()
        cached = self._regions
        if cached is None or cached[0] != snapshot.generation:
            cached = (snapshot.generation, corpus_regions(snapshot.document_heads()))
            self._regions = cached
        return cached[1]

    def _coverage(self, question: str) -> Callable[[str], float]:
        """How much of the question a text covers, by the answer step's own measure."""
        scorer = EvidenceScorer(question, detect_language(question), self.store.snapshot())
        return lambda text: scorer.coverage(frozenset(analyze(text)))

    def _answer_one(self, question: str, filters: Filters) -> Answer:
        return run(self.chain, question, filters)

    def _routed(self, question: str, filters: Filters | None) -> Answer | None:
        if filters is not None and not filters.is_empty:
            return None
        request = comparison_request(question, self.regions())
        if request is None:
            return None
        comparison = compare_regions(self._answer_one, question, request.asked,
                                     request.regions, self._coverage(request.asked),
                                     request.notice, filters)
        answer = comparison_answer(comparison, detect_language(question))
        if answer.refused and request.each_region:
            # "ska respektive region senast skicka in …" is one rule for every region, not a
            # comparison: when no region's own documents answer it, it is asked as asked.
            # (One that names regions or asks how they differ stays their table.)
            as_asked = self._answer_one(question, filters or Filters())
            if not as_asked.refused:
                return as_asked
        return answer

    def resolve(self, question: str, history: list[HistoryTurn] | None) -> Resolution:
        """The question to answer: a follow-up completed from the history, and every word in
        the documents' spelling ("lakartid" -> "läkartid"); `rewritten` when either moved."""
        turns = [Turn(turn.question, turn.answer) for turn in history or []]
        resolution = resolve(question, turns, self._text_vector)
        if resolution.clarify:
            return resolution
        respelled = self.respell(resolution.question)
        if respelled == resolution.question:
            return resolution
        return Resolution(respelled, rewritten=True)

    def respell(self, text: str) -> str:
        """`text` in the documents' spelling (marks restored, one-letter typos corrected), an
        English paragraph reference as Swedish law writes it ("Chapter 2, Section 14")."""
        language = detect_language(text)
        if language == "en":
            text = swedish_paragraph_references(text)
        return respell(text, self._current_vocabulary(), language)

    def _current_vocabulary(self) -> Vocabulary:
        """The documents' vocabulary. After a change the previous one serves until the new
        one is built off the query path (a 1000x corpus takes most of a second)."""
        snapshot = self.store.snapshot()
        cached = self._vocabulary
        if cached is None:
            cached = (snapshot.generation, _vocabulary_of(snapshot))
            self._vocabulary = cached
        elif cached[0] != snapshot.generation and self._vocabulary_building != \
                snapshot.generation:
            self._vocabulary_building = snapshot.generation

            def build() -> None:
                self._vocabulary = (snapshot.generation, _vocabulary_of(snapshot))

            threading.Thread(target=build, name="vocabulary", daemon=True).start()
        return cached[1]

    def _text_vector(self, text: str) -> np.ndarray:
        return np.asarray(self.store.embedder.embed_query(text), dtype=np.float32)

    def _clarify(self, question: str) -> Answer:
        language = detect_language(question)
        return Answer(question=question, answer=load_prompt(f"clarify_{language}"),
                      refused=True, language=language, clarify=True)

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
        asked = resolution.question
        routed = self._routed(asked, filters)
        if routed is not None:
            return iter([self._as_asked(routed, question, resolution)])
        stream = run_stream(self._draft_chain, self.settings, self.model, asked,
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
               mode: Mode = "hybrid", as_of: date | None = None) -> list[SearchHit]:
        documents = self.retriever.invoke(self.respell(query), k=k, filters=_dated(filters, as_of),
                                          mode=mode)
        return [hit_from_document(document) for document in documents]

    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def flagged_sentences(self, document: str | None = None
                          ) -> dict[str, list[tuple[Chunk, str]]]:
        """Per document (only `document` when given), (chunk, sentence) of every sentence
        that addresses a reader or an AI, in text order: shown to the owner, never used as
        evidence."""
        snapshot = self.store.snapshot()
        if document is None:
            chunks = snapshot.chunks
        else:
            start, end = snapshot.ranges.get(document, (0, 0))
            chunks = snapshot.chunks[start:end]
        flagged: dict[str, list[tuple[Chunk, str]]] = {}
        for chunk in chunks:
            for sentence in chunk.instructions:
                flagged.setdefault(chunk.document, []).append((chunk, sentence))
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

    def close(self) -> None:
        """Release the vector store's client (its connections to a Chroma server)."""
        self.store.close()

    def editions(self, document: str | None = None) -> list[EditionInfo]:
        return self.store.catalog.editions(document)

    def changes(self, document: str, from_edition: str | None = None,
                to_edition: str | None = None, on: date | None = None) -> DocumentChanges:
        """What changed (raises UnknownEdition for an unknown document or edition)."""
        return document_changes(self.store.catalog, document, from_edition, to_edition, on)

    def remove(self, document: str, edition: str | None = None) -> bool:
        with self._write_lock:
            return self.store.remove_document(document, edition)


def _vocabulary_of(snapshot: Snapshot) -> Vocabulary:
    return Vocabulary.from_texts(chunk.text for chunk in snapshot.chunks)


def _dated(filters: Filters | None, as_of: date | None) -> Filters:
    filters = filters or Filters()
    return filters.model_copy(update={"as_of": as_of}) if as_of else filters


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
