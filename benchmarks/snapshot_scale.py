"""What a change costs the reading side at N x the corpus, without ingesting N x the corpus.

    python -m benchmarks.snapshot_scale [--scale 1000] [--queries 119]   # `make bench-snapshot`

The corpus's chunks (as the store holds them) are copied N times under other document ids,
in memory, and put in a Snapshot exactly as a worker builds it from the catalog (one BM25
segment); then a one-document change moves it forward as `Store.snapshot` does after an
ingest (`Snapshot.changed`: the document's old rows dead, its new chunks a small segment),
and the eval questions are scored by BM25 and answered from the BM25 hits (the answering
step of `ask`, without the dense half, which is Chroma's). Prints the CPU, the build time,
the first read of the abbreviations the documents define (which a full read's first question
pays), the cost of the change (its abbreviations carried forward), BM25 search and answer
percentiles, and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from benchmarks.bench import CHANGED_DOCUMENT, eval_questions
from engine.selection import cpu_name
from evals.metrics import percentile
from ingest.manifest import load_manifest, metadata_for
from ingest.pipeline import parse_document
from rag.answer.extractive import build_answer
from rag.models import Chunk, SearchHit
from rag.settings import Settings
from rag.store.store import Snapshot, index_text
from rag.text.language import detect_language
from rag.text.lexical import analyze, analyze_query


def copies(chunks: list[Chunk], scale: int) -> list[Chunk]:
    return [chunk.model_copy(update={"chunk_id": f"{chunk.chunk_id}-{copy}",
                                     "document": f"{chunk.document}__kopia-{copy:04d}"})
            if copy else chunk for copy in range(scale) for chunk in chunks]


def measure(scale: int, queries: int) -> None:
    settings = Settings()
    manifest = load_manifest(settings.corpus_dir)
    corpus = [chunk for path in sorted(settings.corpus_dir.glob("*.txt"))
              for chunk in parse_document(path, metadata_for(path, manifest),
                                          settings.chunk_max_chars)]
    terms = [analyze(index_text(chunk)) for chunk in corpus]
    chunks = copies(corpus, scale)
    started = time.perf_counter()
    snapshot = Snapshot.build(1, chunks, terms * scale)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    snapshot.abbreviations()  # what the first question of a full read pays
    definitions_s = time.perf_counter() - started
    changed = [chunk.model_copy(update={"text": chunk.text + " Tillägg.",
                                        "chunk_id": chunk.chunk_id + "-ny"})
               for chunk in corpus if chunk.document == CHANGED_DOCUMENT]
    change_ms = []
    for generation in range(2, 5):  # three successive one-document changes
        started = time.perf_counter()
        snapshot = snapshot.changed(generation, {CHANGED_DOCUMENT}, changed,
                                    [analyze(index_text(chunk)) for chunk in changed])
        snapshot.abbreviations()  # carried forward: only the changed document is read
        change_ms.append((time.perf_counter() - started) * 1000)
    merge_started = time.perf_counter()
    snapshot.lexical.merged()
    merge_s = time.perf_counter() - merge_started
    search_ms, answer_ms = [], []
    for question in eval_questions(queries):
        language = detect_language(question)
        started = time.perf_counter()
        top = snapshot.lexical.top(analyze_query(question, language,
                                                 snapshot.abbreviations()), 30)
        hits = [SearchHit(chunk=snapshot.chunks[index], score=score) for index, score in top]
        assert all(snapshot.position[hit.chunk.chunk_id] == index
                   for hit, (index, _) in zip(hits, top, strict=True))
        search_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        build_answer(question, language, hits, snapshot, min_evidence=settings.min_evidence,
                     max_chars=settings.answer_max_chars, citations_k=settings.citations_k)
        answer_ms.append((time.perf_counter() - started) * 1000)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"CPU: {cpu_name()}")
    print(f"{scale}x in memory: {len(snapshot.chunks)} chunks, "
          f"{len(snapshot.lexical.segments)} BM25 segments after the changes\n")
    print("| chunks | build (full read's BM25) | abbreviations read (first question) | "
          "one-document change | merge (background) | BM25 search p50 / p95 | "
          "answer from hits p50 / p95 | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {len(snapshot.chunks)} | {build_s:.1f} s | {definitions_s:.1f} s | "
          f"{max(change_ms):.0f} ms (worst of {len(change_ms)}) | {merge_s:.1f} s | "
          f"{percentile(search_ms, 50)} / {percentile(search_ms, 95)} ms | "
          f"{percentile(answer_ms, 50)} / {percentile(answer_ms, 95)} ms | {rss:.0f} MB |")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.snapshot_scale",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=119)
    options = parser.parse_args(argv)
    measure(options.scale, options.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

