"""The store: SQLite catalog (truth), Chroma vectors, BM25, the embedder."""
