"""Vectors on a real Chroma server (`chroma run` on a loopback port), as for a whole region:
ingest, search and remove through it, and several workers sharing one server and data dir."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import chromadb
import httpx
import pytest
from helpers import free_port, shared_embedder

from ingest.service import Styrdok
from rag.settings import Settings
from rag.store.vectors import close_client

# chromadb 1.5's HTTP client leaves pooled connections to the server unclosed (also after a
# server restart drops them); the collector then finds their sockets. Here, and only here,
# those warnings are ignored, and every test ends with a collection so that they are found
# inside this module: a socket leaked anywhere else still fails its own test.
pytestmark = [pytest.mark.server, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
              pytest.mark.filterwarnings("ignore:Exception ignored in. <socket.socket:"
                                         "pytest.PytestUnraisableExceptionWarning")]


@pytest.fixture(autouse=True)
def collect_leaked_client_sockets() -> Iterator[None]:
    yield
    gc.collect()

REPO = Path(__file__).resolve().parents[1]
CHROMA = Path(sys.executable).parent / "chroma"
DOCS = {
    "testland_bmm": "Barnmorskemottagning\n\n1. Läkarinsats\n\nBehovet av läkarinsats på "
                    "barnmorskemottagningen beräknas till 3 timmar per vecka för 100 "
                    "inskrivna gravida kvinnor.\n",
    "testland_umm": "Ungdomsmottagning\n\n1. Åldrar\n\nUngdomsmottagningen tar emot "
                    "ungdomar mellan 13 och 25 år och har öppet två eftermiddagar i veckan.\n",
    "testland_jour": "Jour\n\n1. Jourlinjen\n\nJourläkaren på jourlinjen ska nås inom "
                     "15 minuter dygnet runt, även under helger och storhelger.\n",
}


@dataclass
class ChromaServer:
    url: str
    path: Path
    process: subprocess.Popen[bytes]


def start_chroma(path: Path, port: int) -> ChromaServer:
    with (path.parent / "chroma-server.log").open("ab") as log:
        process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port",
             str(port)], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chroma run exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return ChromaServer(url, path, process)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("chroma server did not answer its heartbeat within 60 s")


def stop_chroma(server: ChromaServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    server = start_chroma(tmp_path / "chroma-server", free_port())
    yield server
    stop_chroma(server)


def write_docs(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = folder / f"{name}.txt"
        path.write_text(DOCS[name], encoding="utf-8")
        paths.append(path)
    return paths


def server_ids(server: ChromaServer) -> set[str]:
    """Vector ids as the server itself reports them, through a separate client."""
    port = int(server.url.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port)
    try:
        return set(client.get_collection("styrdok").get(include=[])["ids"])
    finally:
        close_client(client)


def test_ingest_search_remove_through_a_chroma_server(tmp_path: Path,
                                                      chroma_server: ChromaServer) -> None:
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_server.url)
    service = Styrdok(settings, shared_embedder())
    report = service.ingest(write_docs(tmp_path / "docs", list(DOCS)))
    assert report.ok and sorted(report.added) == sorted(DOCS)
    assert not settings.chroma_dir.exists()  # nothing went to an embedded store
    assert server_ids(chroma_server) == service.store.catalog.chunk_ids()

    for mode in ("dense", "hybrid"):
        hits = service.search("Hur snabbt ska jourläkaren nås?", k=3, mode=mode)
        assert hits[0].chunk.document == "testland_jour"
    answer = service.ask("Hur många timmar läkarinsats per vecka på barnmorskemottagningen?")
    assert not answer.refused and "3 timmar per vecka" in answer.answer

    assert service.remove("testland_jour")
    assert not any(chunk_id.startswith("testland_jour:") for chunk_id in server_ids(chroma_server))
    assert server_ids(chroma_server) == service.store.catalog.chunk_ids()
    hits = service.search("Hur snabbt ska jourläkaren nås?", k=5, mode="dense")
    assert all(hit.chunk.document != "testland_jour" for hit in hits)

    # The server restarts (an upgrade, a failover): vectors persist, the service carries on.
    stop_chroma(chroma_server)
    restarted = start_chroma(chroma_server.path, int(chroma_server.url.rsplit(":", 1)[1]))
    chroma_server.process = restarted.process
    hits = service.search("Vilka åldrar tar ungdomsmottagningen emot?", k=3, mode="dense")
    assert hits[0].chunk.document == "testland_umm"
    service.close()


WORKER_INGEST = textwrap.dedent("""
    import sys
    from pathlib import Path
    from ingest.service import Styrdok
    from rag.settings import Settings

    settings = Settings(data_dir=Path(sys.argv[1]), chroma_url=sys.argv[2])
    report = Styrdok(settings).ingest([Path(sys.argv[3])])
    assert report.ok, report.failed
""")


def test_workers_share_one_server_and_data_dir(tmp_path: Path,
                                               chroma_server: ChromaServer) -> None:
    """A running worker sees, in both BM25 and dense search, a document another worker
    process ingested: the catalog generation makes it reload BM25, vectors are on the
    server."""
    data = tmp_path / "data"
    worker = Styrdok(Settings(data_dir=data, chroma_url=chroma_server.url), shared_embedder())
    bmm, jour = write_docs(tmp_path / "docs", ["testland_bmm", "testland_jour"])
    assert worker.ingest([bmm]).ok
    assert worker.search("läkarinsats barnmorskemottagningen", k=3)

    done = subprocess.run([sys.executable, "-c", WORKER_INGEST, str(data), chroma_server.url,
                           str(jour)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]

    for mode in ("bm25", "dense"):
        hits = worker.search("Hur snabbt ska jourläkaren nås?", k=3, mode=mode)
        assert hits and hits[0].chunk.document == "testland_jour", mode
    assert {doc.document for doc in worker.documents()} == {"testland_bmm", "testland_jour"}
    worker.close()
