"""Hybrid fusion and the nearest-sentence step, over the real corpus and the real e5 model."""

from __future__ import annotations

import pytest

from ingest.service import Styrdok
from rag.models import SearchHit
from rag.retrieve.hybrid import DENSE_SHARE, LACKS_ASKED_KIND, fuse, min_max, prefer_asked_kind
from rag.text.answer_types import CASE_NUMBER, MONEY

pytestmark = pytest.mark.slow


def test_min_max_spans_zero_to_one_and_a_lone_entry_scores_one() -> None:
    assert min_max([(4, 2.0), (7, 6.0), (1, 4.0)]) == [(4, 0.0), (7, 1.0), (1, 0.5)]
    assert min_max([(3, 0.2)]) == [(3, 1.0)]
    assert min_max([]) == []


def test_fusion_keeps_score_gaps_that_ranks_throw_away(corpus_service: Styrdok) -> None:
    snapshot = corpus_service.store.snapshot()
    # Passage 0 is far ahead in BM25 and a close second in dense; passage 1 is a close
    # first in dense and far behind in BM25. Ranks alone would tie them.
    bm25 = [(0, 30.0), (2, 10.0), (1, 9.0)]
    dense = [(1, 0.90), (0, 0.89), (2, 0.80)]
    hits = fuse(snapshot, bm25, dense)
    assert [hit.chunk.chunk_id for hit in hits][:2] == [snapshot.chunks[0].chunk_id,
                                                         snapshot.chunks[1].chunk_id]
    top = hits[0]
    assert top.score == pytest.approx((1 - DENSE_SHARE) * 1.0 + DENSE_SHARE * 0.9, abs=1e-6)
    assert (top.bm25_rank, top.dense_rank) == (1, 2)
    # One ranker alone keeps its own order.
    alone = fuse(snapshot, [], dense)
    assert [hit.chunk.chunk_id for hit in alone] == [snapshot.chunks[i].chunk_id
                                                     for i in (1, 0, 2)]


def test_the_passage_whose_sentence_answers_comes_first(corpus_service: Styrdok) -> None:
    question = ("Sedan när har Region Halland månatligen överfört data enligt modellen för "
                "utvecklad uppföljning av primärvård?")
    hits = corpus_service.search(question, k=5)
    assert "månatligen" in hits[0].chunk.text and "december 2018" in hits[0].chunk.text
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True)
    # The BM25-only and dense-only modes are the rankers' own lists, without the step.
    bm25 = corpus_service.search(question, k=5, mode="bm25")
    assert [hit.bm25_rank for hit in bm25] == [1, 2, 3, 4, 5]
    dense = corpus_service.search(question, k=5, mode="dense")
    assert [hit.dense_rank for hit in dense] == [1, 2, 3, 4, 5]


def test_a_passage_with_the_kind_asked_for_leads_one_without_it(corpus_service: Styrdok) -> None:
    chunks = corpus_service.store.snapshot().chunks
    amount = next(chunk for chunk in chunks if MONEY.search(chunk.text))
    none = next(chunk for chunk in chunks if not any(ch.isdigit() for ch in chunk.text))
    hits = [SearchHit(chunk=none, score=1.0), SearchHit(chunk=amount, score=0.8)]
    priced = prefer_asked_kind(hits, "Vad kostar ett besök?")
    assert [hit.chunk.chunk_id for hit in priced] == [amount.chunk_id, none.chunk_id]
    assert priced[1].score == pytest.approx(LACKS_ASKED_KIND)
    # A question that asks for no kind of text keeps the rankers' order and scores.
    assert prefer_asked_kind(hits, "Vad ska vårdcentralen samverka om?") == hits


def test_the_passage_giving_the_length_asked_for_comes_first(corpus_service: Styrdok) -> None:
    # Without the preference, a passage naming bastjänstgöring without its length led.
    hits = corpus_service.search("Hur lång ska bastjänstgöringen vara?", k=3)
    assert "under minst sex månader" in hits[0].chunk.text


@pytest.mark.parametrize(("text", "is_case_number"), [
    ("3.51-27270/2024", True), ("Dnr 2019/0123", True), ("kl 08:00-17:00", False),
    ("Datum 2019-09-24", False), ("barn 0-6 år", False), ("10-12 timmar", False)])
def test_a_case_number_is_not_a_clock_time_a_date_or_a_range(text: str,
                                                             is_case_number: bool) -> None:
    assert bool(CASE_NUMBER.search(text)) is is_case_number
