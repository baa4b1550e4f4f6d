"""Retrieval: hybrid BM25 + dense search and its LangChain retriever."""
