"""Warm latency of compare mode: a comparison across every region of the index, timed per run,
beside a single `ask` measured in the same process (the baseline the ratio is taken to).

The index is ./corpus plus, when it has fewer than `--regions` regions, copies of the Värmland
document filed under made-up regions (real text, so retrieval and answering cost what they do
for a real region). Questions are the compare cases' (evals/compare), asked across all regions.

    python -m benchmarks.compare_speed [--regions 5] [--runs 40] [--work /tmp/styrdok-compare]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from benchmarks.bench import machine
from evals.compare import load_compare_cases
from evals.metrics import percentile
from ingest.service import Styrdok
from rag.models import DocumentMeta, Filters
from rag.settings import Settings

CORPUS = Path("corpus")
FILLER_SOURCE = CORPUS / "varmland_forfragningsunderlag-vardval-vardcentral-del2.txt"


def build_index(work: Path, regions: int) -> Styrdok:
    if work.exists():
        shutil.rmtree(work)
    service = Styrdok(Settings(data_dir=work / "data"))
    report = service.ingest([CORPUS])
    assert report.ok, report.failed
    filler = 0
    while len(service.regions()) < regions:
        filler += 1
        path = work / f"bench-region-{filler}.txt"
        path.write_text(FILLER_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
        meta = DocumentMeta(document=path.stem, title=f"Förfrågningsunderlag, kopia {filler}",
                            region=f"Region Bänk {filler}", doc_type="förfrågningsunderlag")
        assert service.ingest([path], metadata=meta).ok
    return service


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--regions", type=int, default=5)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--work", type=Path, default=Path("/tmp/styrdok-compare-bench"))
    args = parser.parse_args(argv)
    service = build_index(args.work, args.regions)
    regions = [region.name for region in service.regions()]
    questions = [case.question for case in load_compare_cases()]
    asked = [questions[i % len(questions)] for i in range(args.runs)]
    for question in questions[:3]:  # warm: snapshot, BM25, vectors, caches
        service.compare(question)
    compare_ms = [timed(lambda q=question: service.compare(q)) for question in asked]
    ask_ms = [timed(lambda q=question: service.ask(q, Filters(region=regions[0])))
              for question in asked]
    compare_p50, compare_p95 = percentile(compare_ms, 50), percentile(compare_ms, 95)
    ask_p50 = percentile(ask_ms, 50)
    print(f"Machine: {machine()}")
    print(f"Index: {len(service.documents())} documents, {len(regions)} regions "
          f"({', '.join(regions)}); {args.runs} runs, warm\n")
    print("| what | runs | p50 ms | p95 ms | max ms | p50 / single ask p50 |")
    print("|---|---|---|---|---|---|")
    print(f"| single `ask` (one region) | {len(ask_ms)} | {ask_p50} | {percentile(ask_ms, 95)} "
          f"| {max(ask_ms):.1f} | 1.0 |")
    ratio = (compare_p50 or 0) / (ask_p50 or 1)
    print(f"| `compare`, {len(regions)} regions | {len(compare_ms)} | {compare_p50} | "
          f"{compare_p95} | {max(compare_ms):.1f} | {ratio:.1f} |")
    return 0 if (compare_p95 or 0) <= 1000 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
