"""Hostile questions: a 2 000-character question of any shape answers or refuses in < 1 s,
and four of them at once do not slow a normal question past 1 s.

Runs the real service over ./corpus (ingested once into --data, reused on later runs) and
prints a table. Times are wall-clock seconds on this machine's CPU (named in the output);
the normal question alone is the baseline the other rows are compared with.

    python -m benchmarks.hostile_questions [--data /tmp/styrdok-bench-hostile] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import threading
import time
from pathlib import Path

from ingest.service import Styrdok
from rag.settings import Settings

NORMAL = "Hur mycket läkartid ska finnas på BMM?"
LIMIT_S = 1.0


def hostile_questions(length: int = 2000) -> dict[str, str]:
    rng = random.Random(10)
    vocabulary = ("läkartid vårdcentral barnmorskemottagning ungdomsmottagning hembesök vite "
                  "patientkontrakt vårdgaranti bedömning timmar vecka region").split()
    random_words = " ".join(rng.choice(vocabulary) + rng.choice(["", "x", "s", "ar"])
                            for _ in range(400))[:length]
    junk = " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyzåäö")
                            for _ in range(rng.randint(3, 14))) for _ in range(300))[:length]
    return {
        '2000 × "å"': "å" * length,
        '"a" × 2000': "a" * length,
        '"1 " × 1000': "1 " * (length // 2),
        "random corpus words": random_words,
        "random letter words": junk,
        '"läkartd " × 250': ("läkartd " * 250)[:length],
        "2000 × emoji": "💉" * length,
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def timed_ask(service: Styrdok, question: str) -> tuple[float, str]:
    started = time.perf_counter()
    answer = service.ask(question)
    return time.perf_counter() - started, "refused" if answer.refused else "answered"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/styrdok-bench-hostile"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    service = Styrdok(Settings(data_dir=args.data))
    report = service.ingest([Path("corpus")])
    assert report.ok, report.failed
    timed_ask(service, NORMAL)  # warm: model, snapshot, caches

    baseline = statistics.median(timed_ask(service, NORMAL)[0] for _ in range(args.repeat))
    print(f"CPU: {cpu_name()} ({len(__import__('os').sched_getaffinity(0))} cores)")
    print(f"Baseline: normal question alone, median of {args.repeat}: {baseline:.3f} s\n")
    print(f"| question ({len(NORMAL)}–2000 chars) | worst of {args.repeat} (s) | × baseline "
          f"| outcome | < {LIMIT_S:.0f} s |")
    print("|---|---:|---:|---|---|")
    worst_all = 0.0
    for name, question in hostile_questions().items():
        # Cold first (caches empty for this shape), then repeats; the worst is reported.
        runs = [timed_ask(service, question) for _ in range(args.repeat)]
        worst = max(seconds for seconds, _ in runs)
        worst_all = max(worst_all, worst)
        print(f"| {name} | {worst:.3f} | {worst / baseline:.1f} | {runs[0][1]} | "
              f"{'yes' if worst < LIMIT_S else 'NO'} |")

    # Four hostile questions at once (fresh shapes, so nothing is cached), a normal one beside.
    shapes = list(hostile_questions(1999).values())[:4]
    threads = [threading.Thread(target=timed_ask, args=(service, question))
               for question in shapes]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    normal_under_load, outcome = timed_ask(service, NORMAL)
    for thread in threads:
        thread.join()
    print(f"| normal question while 4 hostile run | {normal_under_load:.3f} | "
          f"{normal_under_load / baseline:.1f} | {outcome} | "
          f"{'yes' if normal_under_load < LIMIT_S else 'NO'} |")


if __name__ == "__main__":
    main()
