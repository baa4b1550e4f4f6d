"""Crash safety: ingest killed with SIGKILL (from outside, and at the worst points inside a
document's write) leaves a store that opens, still answers for every ingested document,
and converges on a re-run with no duplicate or orphaned chunks."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
from chromadb.api.shared_system_client import SharedSystemClient
from helpers import shared_embedder

from ingest.service import Styrdok
from rag.settings import Settings

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
UNITS = ["Alingsås", "Borås", "Falun", "Gävle", "Hudiksvall", "Jönköping"]
TOPICS = ["avvikelser", "besöksstatistik", "läkemedelsgenomgångar", "vaccinationer",
          "hembesök", "kvalitetsregister", "patientenkäter", "journalgranskning"]
DOCS = len(UNITS)

# Runs the real pipeline in a child process; "die-before:<method>:<n>" makes the child
# SIGKILL itself on the n-th call of Catalog.replace_document (vectors written, catalog not
# swapped) or VectorStore.delete (catalog swapped, replaced vectors not yet deleted).
CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from ingest import pipeline
    from rag.store.catalog import Catalog
    from ingest.service import Styrdok
    from rag.settings import Settings
    from rag.store.vectors import VectorStore

    data, docs, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode.startswith("die-before:"):
        _, method, nth = mode.split(":")
        owner = {"replace_document": Catalog, "delete": VectorStore}[method]
        original = getattr(owner, method)
        calls = []
        def dying(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == int(nth):
                os.kill(os.getpid(), signal.SIGKILL)
            return original(self, *args, **kwargs)
        setattr(owner, method, dying)
    service = Styrdok(Settings(data_dir=Path(data)))
    report = pipeline.ingest(service.store, [Path(docs)], on_document=lambda doc: print(
        "done", doc, file=sys.stderr, flush=True))
    print(report.model_dump_json())
""")


def write_docs(folder: Path, hours: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, unit in enumerate(UNITS):
        sections = [f"{number}. {topic.capitalize()}\n\nVårdcentralen i {unit} ska redovisa "
                    f"{topic} till regionen varje kvartal. Arbetet beräknas ta {hours} timmar "
                    f"per månad för enhet {unit}. Verksamhetschefen ansvarar för att "
                    f"redovisningen av {topic} är fullständig och att avvikelser rapporteras."
                    for number, topic in enumerate(TOPICS, start=1)]
        text = f"Riktlinje för uppföljning – {unit}\n\n" + "\n\n".join(sections) + "\n"
        (folder / f"testland_uppfoljning-{index}.txt").write_text(text, encoding="utf-8")


def run_child(data: Path, docs: Path, mode: str = "normal",
              kill_after_done: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run the child; with kill_after_done, SIGKILL it from here once that many documents
    are reported written."""
    # No grace period: here nobody else is writing, so strays are collected on the re-run.
    env = {**os.environ, "STYRDOK_ORPHAN_GRACE_S": "0"}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(data), str(docs), mode],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    stderr: list[str] = []

    def watch() -> None:
        assert child.stderr is not None
        for line in child.stderr:
            stderr.append(line)
            done = sum(entry.startswith("done ") for entry in stderr)
            if kill_after_done is not None and done >= kill_after_done:
                child.send_signal(signal.SIGKILL)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        child.wait(timeout=600)
    finally:
        child.kill()
    watcher.join(timeout=10)
    assert child.stdout is not None and child.stderr is not None
    with child.stdout, child.stderr:
        out = child.stdout.read()
    return subprocess.CompletedProcess(child.args, child.returncode, out, "".join(stderr))


def open_service(data: Path) -> Styrdok:
    """A service as a freshly started process sees the store. Chroma caches one embedded
    system per path and per process; a new Store here would reuse the HNSW of an earlier
    one, which predates the child's writes, so the cache is dropped first."""
    SharedSystemClient.clear_system_cache()
    return Styrdok(Settings(data_dir=data), shared_embedder())


def assert_consistent(service: Styrdok, documents: int | None = None) -> None:
    """Every catalog chunk has its vector, no document has duplicate chunks, and the counts
    in documents() match the chunks. (Stray vectors are allowed: readers ignore them.)"""
    catalog_ids = service.store.catalog.chunk_ids()
    assert catalog_ids <= service.store.vectors.ids()
    chunks = service.store.snapshot().chunks
    assert len(chunks) == len(catalog_ids)
    per_document = Counter((chunk.document, chunk.text) for chunk in chunks)
    assert max(per_document.values(), default=1) == 1, "duplicate chunk text in a document"
    infos = service.documents()
    assert {info.document: info.chunks for info in infos} == dict(
        Counter(chunk.document for chunk in chunks))
    if documents is not None:
        assert len(infos) == documents


def assert_answers(service: Styrdok, hours: int | dict[int, int]) -> None:
    """Each ingested document is found by its unit and topic, dense and hybrid alike, and
    shows the hours of the version the catalog holds."""
    ingested = {info.document for info in service.documents()}
    for index, unit in enumerate(UNITS):
        document = f"testland_uppfoljning-{index}"
        if document not in ingested:
            continue
        expected = hours if isinstance(hours, int) else hours[index]
        for mode in ("hybrid", "dense"):
            hits = service.search(f"Hur ofta ska {unit} redovisa vaccinationer?", k=5,
                                  mode=mode)
            mine = [hit for hit in hits if hit.chunk.document == document]
            assert mine, f"{document} not found by {mode} search"
            assert all(f"ta {expected} timmar" in hit.chunk.text for hit in mine)


def assert_clean(service: Styrdok) -> None:
    """After a completed run: vectors and catalog hold exactly the same chunks."""
    assert service.store.vectors.ids() == service.store.catalog.chunk_ids()
    assert service.store.vectors.count() == len(service.store.catalog.chunk_ids())


def test_sigkill_from_outside_mid_ingest(tmp_path: Path) -> None:
    docs, data = tmp_path / "docs", tmp_path / "data"
    write_docs(docs, hours=7)
    killed = run_child(data, docs, kill_after_done=2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    service = open_service(data)
    survived = len(service.documents())
    assert 2 <= survived < DOCS
    assert_consistent(service, documents=survived)
    assert_answers(service, hours=7)

    rerun = run_child(data, docs)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    service = open_service(data)
    assert_consistent(service, documents=DOCS)
    assert_clean(service)
    assert_answers(service, hours=7)


def test_sigkill_between_vectors_and_catalog(tmp_path: Path) -> None:
    """The worst point for a new document: its vectors are in Chroma, the catalog swap never
    happened. The stray vectors stay invisible and are collected by the next run."""
    docs, data = tmp_path / "docs", tmp_path / "data"
    write_docs(docs, hours=7)
    killed = run_child(data, docs, mode="die-before:replace_document:3")
    assert killed.returncode == -signal.SIGKILL

    service = open_service(data)
    assert len(service.documents()) == 2
    strays = service.store.vectors.ids() - service.store.catalog.chunk_ids()
    assert strays and all(chunk_id.startswith("testland_uppfoljning-2:") for chunk_id in strays)
    assert_consistent(service, documents=2)
    assert_answers(service, hours=7)
    for hit in service.search("Falun vaccinationer", k=10, mode="dense"):
        assert hit.chunk.document != "testland_uppfoljning-2"  # stray vectors are unseen

    assert run_child(data, docs).returncode == 0
    service = open_service(data)
    assert_consistent(service, documents=DOCS)
    assert_clean(service)


def test_sigkill_while_replacing_a_document(tmp_path: Path) -> None:
    """Version 9 replaces version 7. Die right after the first document's catalog swap
    (its old vectors not yet deleted), then right before the second one's swap: each document
    is wholly old or wholly new, never both, and the re-run finishes the update."""
    docs, data = tmp_path / "docs", tmp_path / "data"
    write_docs(docs, hours=7)
    assert run_child(data, docs).returncode == 0
    write_docs(docs, hours=9)

    assert run_child(data, docs, mode="die-before:delete:1").returncode == -signal.SIGKILL
    service = open_service(data)
    assert_consistent(service, documents=DOCS)
    assert_answers(service, hours={0: 9, **{index: 7 for index in range(1, DOCS)}})

    assert run_child(data, docs, mode="die-before:replace_document:2").returncode == \
        -signal.SIGKILL
    service = open_service(data)
    assert_consistent(service, documents=DOCS)
    assert_answers(service, hours={0: 9, 1: 9, **{index: 7 for index in range(2, DOCS)}})

    assert run_child(data, docs).returncode == 0
    service = open_service(data)
    assert_consistent(service, documents=DOCS)
    assert_clean(service)
    assert_answers(service, hours=9)


def test_restore_from_a_catalog_backup_with_reindex(tmp_path: Path) -> None:
    """The backup is the catalog alone (sqlite3 .backup, taken while serving); a new data
    dir restored from it gets its vectors back from the embedding cache, without the model."""
    docs, data = tmp_path / "docs", tmp_path / "data"
    write_docs(docs, hours=7)
    assert run_child(data, docs).returncode == 0
    backup = tmp_path / "backup.sqlite3"
    with closing(sqlite3.connect(data / "catalog.sqlite3")) as live, \
            closing(sqlite3.connect(backup)) as copy:
        live.backup(copy)

    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(backup, restored / "catalog.sqlite3")
    service = open_service(restored)
    assert service.store.vectors.count() == 0
    assert not service.search("Falun vaccinationer", k=5, mode="dense")
    written, embedded = service.reindex()
    assert (written, embedded) == (len(service.store.catalog.chunk_ids()), 0)
    assert_consistent(service, documents=DOCS)
    assert_clean(service)
    assert_answers(service, hours=7)
    hits = service.search("Falun vaccinationer", k=3, mode="dense")
    assert hits and hits[0].chunk.document.startswith("testland_uppfoljning-")
