"""20 HTTP clients query a real server while owners upload new versions of a document over
the API: no errors, and no response mixes the old and the new version."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from test_concurrency import DOC_ID, QUESTIONS, version_text, versions_in
from web_fixtures import API_KEY, make_service, running_server

pytestmark = pytest.mark.slow

CLIENTS = 20


def test_uploads_while_twenty_http_clients_query(tmp_path: Path) -> None:
    service = make_service(tmp_path / "data")
    first = tmp_path / f"{DOC_ID}.txt"
    first.write_text(version_text(7), encoding="utf-8")
    assert service.ingest([first]).added == [DOC_ID]
    stop = threading.Event()
    failures: list[str] = []
    mixed: list[set[str]] = []
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    uploading = threading.Event()

    with running_server(service) as base:
        def client(number: int) -> None:
            rounds = 0
            with httpx.Client(base_url=f"{base}/api", timeout=120) as http:
                while not stop.is_set() or rounds < 2:
                    question = QUESTIONS[(number + rounds) % len(QUESTIONS)]
                    if (number + rounds) % 2:
                        response = http.get("/search", params={"q": question, "k": 10})
                        texts = [passage["text"] for passage in response.json()["results"]
                                 if passage["document"] == DOC_ID] \
                            if response.status_code == 200 else []
                    else:
                        response = http.post("/ask", json={"question": question})
                        texts = [citation["quote"] for citation in
                                 response.json()["citations"] + response.json()["nearest"]
                                 if citation["document"] == DOC_ID] \
                            if response.status_code == 200 else []
                    versions = versions_in(texts)
                    with lock:
                        if response.status_code != 200:
                            failures.append(f"{response.status_code} {response.text[:200]}")
                        seen.update(versions)
                        seen["during an upload"] += uploading.is_set()
                        if len(versions) > 1:
                            mixed.append(versions)
                    rounds += 1

        threads = [threading.Thread(target=client, args=(n,), daemon=True)
                   for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        uploads = []
        with httpx.Client(base_url=f"{base}/api", timeout=300) as owner:
            for hours in (9, 7, 9):
                time.sleep(1.0)
                uploading.set()
                uploads.append(owner.post(
                    "/documents", headers={"Authorization": f"Bearer {API_KEY}"},
                    data={"replace": "true"},
                    files={"file": (f"{DOC_ID}.txt", version_text(hours).encode(),
                                    "text/plain")}))
                uploading.clear()
        stop.set()
        for thread in threads:
            thread.join(timeout=300)

    assert [response.status_code for response in uploads] == [201, 201, 201], \
        [response.text[:200] for response in uploads]
    assert not failures, failures[:3]
    assert not any(thread.is_alive() for thread in threads)
    assert not mixed, f"{len(mixed)} responses mixed versions: {mixed[:3]}"
    assert seen["A"] > 0 and seen["B"] > 0
    assert seen["during an upload"] >= CLIENTS  # the queries really overlapped the uploads
    final = service.search("Hur många timmar jourlinjen per vecka?", k=10)
    assert versions_in([hit.chunk.text for hit in final if hit.chunk.document == DOC_ID]) == {"B"}
