"""Concurrency: 20 readers query while a document is replaced, and other processes write.

Version A of the document says "7 timmar" in every section and version B "9 timmar"; a
reader must never get a result set that mixes the two.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from helpers import shared_embedder

from ingest.manifest import metadata_for
from ingest.pipeline import parse_document
from ingest.service import Styrdok
from rag.models import SearchHit
from rag.settings import Settings

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
READERS = 20
DOC_ID = "testland_jourlakare"
TOPICS = ["jourlinjen", "hembesök", "äldreboenden", "telefonrådgivning", "läkemedelsgenomgångar",
          "vaccinationer", "intygsskrivning", "provtagning", "barnhälsovården", "diabetesvården",
          "ungdomsmottagningen", "rehabiliteringen"]
QUESTIONS = ["Hur många timmar jourlinjen per vecka?", "läkarinsats hembesök timmar",
             "Hur många timmar ska läkaren avsätta för vaccinationer?",
             "timmar per vecka provtagning", "Vad gäller för diabetesvården?"]


def version_text(hours: int) -> str:
    sections = [f"{number}. {topic.capitalize()}\n\nLäkarinsatsen för {topic} ska vara "
                f"{hours} timmar per vecka för varje vårdcentral. Verksamhetschefen ansvarar "
                f"för att {topic} bemannas enligt avtalet och följs upp varje månad."
                for number, topic in enumerate(TOPICS, start=1)]
    return "Jourläkare och läkarinsatser\n\n" + "\n\n".join(sections) + "\n"


def versions_in(texts: list[str]) -> set[str]:
    return {version for text in texts for version, marker in (("A", "7 timmar"),
                                                               ("B", "9 timmar"))
            if marker in text}


def test_readers_see_a_document_wholly_old_or_wholly_new(tmp_path: Path) -> None:
    service = Styrdok(Settings(data_dir=tmp_path / "data"), shared_embedder())
    path = tmp_path / "docs" / f"{DOC_ID}.txt"
    path.parent.mkdir()
    path.write_text(version_text(7), encoding="utf-8")
    assert service.ingest([path]).added == [DOC_ID]

    stop = threading.Event()
    errors: list[BaseException] = []
    seen: Counter[str] = Counter()
    writing = threading.Event()
    mixed: list[set[str]] = []
    lock = threading.Lock()

    def record(texts: list[str]) -> None:
        versions = versions_in(texts)
        with lock:
            seen.update(versions)
            seen["during a write"] += writing.is_set()
            if len(versions) > 1:
                mixed.append(versions)

    def mine(hits: list[SearchHit]) -> list[str]:
        return [hit.chunk.text for hit in hits if hit.chunk.document == DOC_ID]

    def reader(number: int) -> None:
        rounds = 0
        try:
            while not stop.is_set() or rounds < 2:
                question = QUESTIONS[(number + rounds) % len(QUESTIONS)]
                match (number + rounds) % 3:
                    case 0:
                        record(mine(service.search(question, k=10)))
                    case 1:
                        record(mine(service.search(question, k=10, mode="bm25")))
                    case _:
                        answer = service.ask(question)
                        record([citation.quote for citation in answer.citations
                                + answer.nearest if citation.document == DOC_ID])
                rounds += 1
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(READERS)]
    for thread in threads:
        thread.start()
    reports = []
    for hours in (9, 7, 9):  # the second swap back to 7 comes from the embedding cache
        time.sleep(0.5)
        path.write_text(version_text(hours), encoding="utf-8")
        writing.set()
        reports.append(service.ingest([path]))
        writing.clear()
    stop.set()
    for thread in threads:
        thread.join(timeout=300)

    assert not errors, errors[:3]
    assert not any(thread.is_alive() for thread in threads)
    assert all(report.updated == [DOC_ID] and report.ok for report in reports)
    assert reports[1].embedded == 0  # version A's chunks were served from the cache
    assert not mixed, f"{len(mixed)} result sets mixed versions: {mixed[:3]}"
    assert seen["A"] > 0 and seen["B"] > 0
    # The readers really overlapped the writes. How many reads land inside the three short
    # writes depends on the machine (19–21 on a quiet one, against READERS = 20 asked before,
    # which made the test fail by timing); any at all shows the race was run.
    assert seen["during a write"] > 0
    final = service.search("Hur många timmar jourlinjen per vecka?", k=10)
    assert versions_in(mine(final)) == {"B"}
    assert service.store.vectors.ids() == service.store.catalog.chunk_ids()


CHILD_INGEST = textwrap.dedent("""
    import sys
    from pathlib import Path
    from ingest.service import Styrdok
    from rag.settings import Settings

    report = Styrdok(Settings(data_dir=Path(sys.argv[1]))).ingest([Path(sys.argv[2])])
    assert report.ok, report.failed
""")


def ingest_in_other_process(data: Path, path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", CHILD_INGEST, str(data), str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def service_with_one_document(tmp_path: Path) -> Styrdok:
    service = Styrdok(Settings(data_dir=tmp_path / "data"), shared_embedder())
    first = tmp_path / "docs" / "testland_forsta.txt"
    first.parent.mkdir()
    first.write_text("Första dokumentet\n\n1. Städning\n\nLokalerna städas varje dag.\n")
    assert service.ingest([first]).ok
    return service


@pytest.fixture
def running_service(tmp_path: Path) -> tuple[Styrdok, Path]:
    """A service that has answered queries (so it holds its indexes in memory) before another
    process (a CLI `styrdok ingest`, another API worker) writes to the same data dir."""
    service = service_with_one_document(tmp_path)
    data = service.settings.data_dir
    assert service.search("städas", k=3)
    second = tmp_path / "docs" / f"{DOC_ID}.txt"
    second.write_text(version_text(7), encoding="utf-8")
    ingest_in_other_process(data, second)
    return service, second


def test_other_process_ingest_reaches_bm25_of_a_running_service(
        running_service: tuple[Styrdok, Path]) -> None:
    service, _ = running_service
    assert DOC_ID in {doc.document for doc in service.documents()}
    hits = service.search("jourlinjen läkarinsatsen", k=5, mode="bm25")
    assert hits and hits[0].chunk.document == DOC_ID


def test_other_process_ingest_reaches_dense_search_of_a_running_service(
        running_service: tuple[Styrdok, Path]) -> None:
    """Embedded Chroma keeps its HNSW in process memory; the store reloads it when another
    process has changed the catalog."""
    service, _ = running_service
    hits = service.search("Hur många timmar läkarinsats för jourlinjen?", k=5, mode="dense")
    assert any(hit.chunk.document == DOC_ID for hit in hits)


def test_readers_keep_working_while_the_vectors_are_reloaded(tmp_path: Path) -> None:
    """Readers querying while another process's write makes this one reload its vectors get
    no errors, and see the new document afterwards."""
    service = service_with_one_document(tmp_path)
    data = service.settings.data_dir
    errors: list[BaseException] = []
    stop = threading.Event()
    queries = Counter[str]()

    def reader() -> None:
        while not stop.is_set():
            try:
                service.search("Hur många timmar jourlinjen?", k=5, mode="dense")
                queries["done"] += 1
            except BaseException as error:  # any error is the failure
                errors.append(error)

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    second = tmp_path / "docs" / f"{DOC_ID}.txt"
    second.write_text(version_text(7), encoding="utf-8")
    ingest_in_other_process(data, second)
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[:3]
    assert queries["done"] > 8
    hits = service.search("Hur många timmar jourlinjen?", k=5, mode="dense")
    assert hits and hits[0].chunk.document == DOC_ID


def test_young_stray_vectors_survive_another_workers_cleanup(tmp_path: Path) -> None:
    """Vectors a worker has written but not yet committed to the catalog look like strays to
    every other worker; they are collected only after the grace period."""
    data = tmp_path / "data"
    path = tmp_path / f"{DOC_ID}.txt"
    path.write_text(version_text(7), encoding="utf-8")
    writer = Styrdok(Settings(data_dir=data), shared_embedder())
    meta = metadata_for(path, {})
    chunks = parse_document(path, meta, writer.settings.chunk_max_chars)
    vectors, _ = writer.store.embed_chunks(chunks)
    writer.store.vectors.upsert(chunks, vectors)  # the write is in flight: no catalog swap yet
    in_flight = {chunk.chunk_id for chunk in chunks}

    other = Styrdok(Settings(data_dir=data, orphan_grace_s=600), shared_embedder())
    assert other.store.collect_garbage() == 0
    assert in_flight <= writer.store.vectors.ids()

    writer.store.write_document(meta, str(path), "hash", chunks, vectors)  # the write lands
    assert writer.search("jourlinjen timmar", k=3, mode="dense")[0].chunk.document == DOC_ID


def test_old_stray_vectors_are_collected(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = tmp_path / f"{DOC_ID}.txt"
    path.write_text(version_text(7), encoding="utf-8")
    service = Styrdok(Settings(data_dir=data, orphan_grace_s=0), shared_embedder())
    chunks = parse_document(path, metadata_for(path, {}), service.settings.chunk_max_chars)
    vectors, _ = service.store.embed_chunks(chunks)
    service.store.vectors.upsert(chunks, vectors)  # left by a crashed write
    time.sleep(1.1)  # written_at has one-second resolution
    assert service.store.collect_garbage() == len(chunks)
    assert service.store.vectors.count() == 0
