"""The one retrieval face: the hybrid searcher as a LangChain retriever.

The chain, the service and any LangChain user call this. `k`, `filters` and `mode` can be
set on the retriever or per call (`retriever.invoke(q, k=1, filters=Filters(...))`); each
Document carries the citation fields, `source` (the document id) and the ranks, and
`hit_from_document` turns it back into the `SearchHit` the answerer works on.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from rag.models import Chunk, Filters, SearchHit
from rag.retrieve.hybrid import HybridSearcher, Mode

_HIT_FIELDS = ("score", "bm25_rank", "dense_rank", "dense_similarity")


class StyrdokRetriever(BaseRetriever):
    """Hybrid BM25 + dense retrieval over the Styrdok store."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    k: int = 5
    filters: Filters = Filters()
    mode: Mode = "hybrid"

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None,
                                filters: Filters | dict[str, Any] | None = None,
                                mode: Mode | None = None) -> list[Document]:
        chosen = (Filters.model_validate(filters) if isinstance(filters, dict)
                  else filters or self.filters)
        hits = self.searcher.search(query, k or self.k, chosen, mode or self.mode)
        return [document_from_hit(hit) for hit in hits]


def document_from_hit(hit: SearchHit) -> Document:
    chunk = hit.chunk.model_dump(exclude={"text"})
    return Document(page_content=hit.chunk.text, id=hit.chunk.chunk_id,
                    metadata={**chunk, "source": hit.chunk.document,
                              **{name: getattr(hit, name) for name in _HIT_FIELDS}})


def hit_from_document(document: Document) -> SearchHit:
    metadata = dict(document.metadata)
    scores = {name: metadata.pop(name, None) for name in _HIT_FIELDS}
    metadata.pop("source", None)
    return SearchHit(chunk=Chunk(text=document.page_content, **metadata), **scores)
