"""Shared helpers for the web tests: real uvicorn servers on free loopback ports.

One embedder is loaded per test session and shared by every service the web tests build.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from helpers import free_port, shared_embedder
from pydantic import SecretStr

from app import create_app
from ingest.service import Styrdok
from rag.models import DocumentMeta
from rag.settings import Settings

API_KEY = "test-owner-key-0123456789"
REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"

SMALL_DOC_ID = "testland_vardval-bmm"
SMALL_DOC_META = DocumentMeta(document=SMALL_DOC_ID, title="Vårdval vårdcentral – testdokument",
                              region="Region Testland", doc_type="förfrågningsunderlag",
                              year=2024, source="skrivet för testerna")
SMALL_DOC = """Vårdval vårdcentral – testdokument

1.2.3 Barnmorskemottagning (BMM)

Vårdcentralen ansvarar för läkarinsatser på barnmorskemottagningen. Behovet av läkarinsats
beräknas till 3 timmar per vecka för 100 inskrivna gravida kvinnor.

1.2.4 Ungdomsmottagning (UMM)

Ungdomsmottagningen ska vara öppen för ungdomar mellan 13 och 25 år. Mottagningen ska ha
öppet minst två eftermiddagar i veckan.

1.2.5 Hembesök

Vårdcentralen ska erbjuda hembesök till patienter som inte kan ta sig till mottagningen.
"""
# Answered from SMALL_DOC by the extractive answerer (section 1.2.3).
SMALL_DOC_QUESTION = "Hur många timmar läkarinsats per vecka krävs för BMM?"
UNANSWERABLE_QUESTION = "Vad kostar parkeringen vid länssjukhuset på helger?"


def make_service(data_dir: Path, **overrides: Any) -> Styrdok:
    """A real service over its own data dir (overrides go to Settings)."""
    overrides.setdefault("api_keys", [SecretStr(API_KEY)])
    # These tests run many clients from one loopback address on purpose; the per-address
    # rate limit has its own test (test_security.py).
    overrides.setdefault("rate_limit_per_s", 0)
    return Styrdok(Settings(data_dir=data_dir, **overrides), embedder=shared_embedder())


def ingest_small_doc(service: Styrdok, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SMALL_DOC_ID}.txt"
    path.write_text(SMALL_DOC, encoding="utf-8")
    report = service.ingest([path], metadata=SMALL_DOC_META)
    assert report.ok and report.added == [SMALL_DOC_ID], report
    return path


@contextmanager
def serving(app: Any, health_path: str = "/api/health") -> Iterator[str]:
    """Serve an ASGI app with uvicorn on loopback in a thread; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if not thread.is_alive():
            raise RuntimeError("the server thread died while starting")
        try:
            if httpx.get(f"{base}{health_path}", timeout=2).status_code < 500:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server did not answer {health_path} within 60 s")
        time.sleep(0.1)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def running_server(service: Styrdok) -> Iterator[str]:
    """The whole Styrdok app (API + UI) over `service`; yields the base URL."""
    with serving(create_app(service=service)) as base:
        yield base
