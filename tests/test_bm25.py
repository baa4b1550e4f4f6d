"""The segmented BM25 index: bm25s's scores, and a change that costs only what it changes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import bm25s
import numpy as np
import pytest
from helpers import shared_embedder

from rag.models import Chunk, DocumentMeta
from rag.settings import Settings
from rag.store.bm25 import LexicalIndex
from rag.store.store import Store, index_text
from rag.text.lexical import analyze

PASSAGES = [
    "Läkarinsatsen för BMM beräknas till 3 timmar per vecka för 100 inskrivna gravida.",
    "Hembesök ska erbjudas inom två dygn efter utskrivning från sjukhus.",
    "Vite utgår om avtalet bryts; vitet är 50 000 kronor per månad.",
    "",
    "Distriktssköterska ska finnas på vårdcentralen alla vardagar, läkare minst 3 dagar.",
    "Ungdomsmottagningen har öppet för unga 13–25 år; läkare finns en dag per vecka.",
]
TERMS = [analyze(text) for text in PASSAGES]
QUERIES = [["läk"], ["vite", "avtal"], ["hembesök", "dygn", "läk"], ["läk", "läk"], ["okänt"]]


def bm25s_scores(terms: list[list[str]], query: list[str]) -> np.ndarray:
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index([chunk_terms or [""] for chunk_terms in terms], show_progress=False)
    known = [term for term in query if term in reference.vocab_dict]
    if not known:
        return np.zeros(len(terms), dtype=np.float32)
    return np.asarray(reference.get_scores(known), dtype=np.float32)


@pytest.mark.parametrize("query", QUERIES)
def test_scores_are_bm25s_scores(query: list[str]) -> None:
    index = LexicalIndex.build(TERMS)
    np.testing.assert_allclose(index.scores(query), bm25s_scores(TERMS, query), rtol=1e-6)


def test_a_change_scores_as_a_rebuild_of_the_changed_corpus_and_merges_the_same() -> None:
    index = LexicalIndex.build(TERMS)
    added = [analyze("Vite för läkarbemanning: 20 000 kronor."), analyze("Nytt stycke")]
    changed = index.changed([1, 4], added)  # positions 1 and 4 replaced by two new chunks
    remaining = [terms for position, terms in enumerate(TERMS) if position not in (1, 4)]
    expected = [*remaining, *added]
    assert changed.size == len(expected) and len(changed.segments) == 2
    for query in [*QUERIES, ["stycke"], ["hembesök"]]:
        np.testing.assert_allclose(changed.scores(query), bm25s_scores(expected, query),
                                   rtol=1e-6)
        np.testing.assert_allclose(changed.merged().scores(query), changed.scores(query))
    assert changed.document_frequency("hembesök") == 0  # its only chunk was replaced
    for term in {term for terms in expected for term in terms}:
        assert changed.document_frequency(term) == sum(term in terms for terms in expected)
    assert index.scores(["hembesök"]).argmax() == 1  # the old index is untouched


def test_dead_rows_and_small_segments_ask_for_a_merge() -> None:
    index = LexicalIndex.build(TERMS)
    assert not index.needs_merge()
    assert index.changed([0, 1], [analyze("ett"), analyze("två")]).needs_merge()  # 2/8 dead


def chunks_of(document: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(chunk_id=hashlib.sha256(f"{document}:{text}".encode()).hexdigest()[:16],
                  document=document, title=f"Dokument {document}", region="Region Test",
                  doc_type="avtal", text=text, content_hash=hashlib.sha256(text.encode())
                  .hexdigest()) for text in texts]


def write(store: Store, document: str, texts: list[str]) -> None:
    chunks = chunks_of(document, texts)
    vectors, _ = store.embed_chunks(chunks)
    meta = DocumentMeta(document=document, title=f"Dokument {document}", region="Region Test",
                        doc_type="avtal")
    store.write_document(meta, f"{document}.txt", document, chunks, vectors)


@pytest.mark.slow
def test_the_next_snapshot_reads_only_the_changed_document(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    store = Store(Settings(data_dir=tmp_path), shared_embedder())
    for number, passage in enumerate(PASSAGES[:3]):
        write(store, f"doc-{number}", [passage, f"{passage} Bilaga {number}."])
    before = store.snapshot()
    full_reads: list[int] = []
    read_snapshot = store.catalog.read_snapshot
    monkeypatch.setattr(store.catalog, "read_snapshot",
                        lambda consume: full_reads.append(1) or read_snapshot(consume))
    write(store, "doc-1", ["Hembesök inom ett dygn efter utskrivning."])
    store.remove_document("doc-2")
    after = store.snapshot()
    assert full_reads == [] and after.generation == before.generation + 2
    assert {chunk.document for chunk in after.chunks} == {"doc-0", "doc-1"}
    fresh = store._next_snapshot(None)  # what a new process reads
    assert [chunk.chunk_id for chunk in after.chunks] != [] and \
        sorted(chunk.chunk_id for chunk in after.chunks) == \
        sorted(chunk.chunk_id for chunk in fresh.chunks)
    query = analyze("hembesök dygn utskrivning")
    by_id = {chunk.chunk_id: score for chunk, score in
             zip(after.chunks, after.lexical.scores(query), strict=True)}
    for chunk, score in zip(fresh.chunks, fresh.lexical.scores(query), strict=True):
        assert by_id[chunk.chunk_id] == pytest.approx(score, rel=1e-6)
    assert after.document_frequency.get("hembesök") == 1
    assert index_text(after.chunks[after.position[chunk.chunk_id]]) == index_text(chunk)


@pytest.mark.parametrize("query", QUERIES)
def test_top_is_what_a_stable_sort_of_every_score_gives(query: list[str]) -> None:
    index = LexicalIndex.build(TERMS * 40)  # many exact ties
    scores = index.scores(query)
    expected = [(int(i), float(scores[i])) for i in np.argsort(-scores, kind="stable")[:10]
                if scores[i] > 0]
    assert index.top(query, 10) == expected
