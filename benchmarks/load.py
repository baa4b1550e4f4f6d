"""Load test: 50 concurrent clients for 30 s against /api/search, then /api/ask, on loopback.

    .venv/bin/python benchmarks/load.py                    # own server over a cached index
    .venv/bin/python benchmarks/load.py --url http://127.0.0.1:7860   # a running server

Without --url it starts `app.serve()` in a subprocess over --data-dir (default: a cache dir
under /tmp that is ingested from corpus/ once and reused). Every client loops until the
phase deadline; a request still in flight then finishes (bounded by --timeout). Prints one
row per endpoint: requests, errors, throughput and latency percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from evals.metrics import percentile

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(tempfile.gettempdir()) / "styrdok-load-data"
FALLBACK_QUESTIONS = ["Hur mycket läkartid ska finnas på BMM?",
                      "Hur stort vite kan regionen som högst ta ut per brist?",
                      "Vad innebär vårdgarantin i primärvården?"]


@dataclass
class Phase:
    endpoint: str
    clients: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def row(self) -> dict[str, object]:
        done = sorted(self.latencies_ms)
        total = len(done) + sum(self.errors.values())

        def pct(q: float) -> float:
            return percentile(done, q) or 0.0

        return {"endpoint": self.endpoint, "clients": self.clients,
                "seconds": round(self.seconds, 1), "requests": total,
                "errors": sum(self.errors.values()),
                "req_per_s": round(total / self.seconds, 1) if self.seconds else 0.0,
                "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
                "max_ms": round(done[-1], 1) if done else 0.0,
                "mean_ms": round(statistics.fmean(done), 1) if done else 0.0,
                "error_kinds": dict(self.errors)}


def questions() -> list[str]:
    try:
        from evals.cases import load_cases
        found = [case.question for case in load_cases()]
    except Exception:  # the eval cases are optional here
        found = []
    return found or FALLBACK_QUESTIONS


async def client(http: httpx.AsyncClient, phase: Phase, endpoint: str, texts: list[str],
                 start: int, deadline: float) -> None:
    index = start
    while time.monotonic() < deadline:
        text = texts[index % len(texts)]
        index += 1
        began = time.perf_counter()
        try:
            if endpoint == "/api/search":
                response = await http.get(endpoint, params={"q": text, "k": 10})
            else:
                response = await http.post(endpoint, json={"question": text})
        except httpx.HTTPError as error:
            phase.errors[type(error).__name__] += 1
            continue
        if response.status_code == 200:
            phase.latencies_ms.append((time.perf_counter() - began) * 1000)
        else:
            phase.errors[f"HTTP {response.status_code}"] += 1


async def run_phase(base: str, endpoint: str, clients: int, seconds: float,
                    timeout: float, texts: list[str]) -> Phase:
    phase = Phase(endpoint, clients)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as http:
        for text in texts[:3]:  # warm-up, not measured
            await (http.get(endpoint, params={"q": text}) if endpoint == "/api/search"
                   else http.post(endpoint, json={"question": text}))
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(client(http, phase, endpoint, texts, i * 7, deadline)
                               for i in range(clients)))
        phase.seconds = time.monotonic() - started
    return phase


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STYRDOK_DATA_DIR": str(data_dir), "STYRDOK_PORT": str(port),
           "STYRDOK_HOST": "127.0.0.1"}
    prepare = ("from ingest.service import Styrdok; from rag.settings import Settings; "
               "r = Styrdok(Settings()).ingest([Settings().corpus_dir]); "
               "print('index:', len(r.added) + len(r.updated), 'ingested,', "
               "len(r.unchanged), 'unchanged,', len(r.failed), 'failed', flush=True)")
    subprocess.run([sys.executable, "-c", prepare], cwd=REPO, env=env, check=True)
    return subprocess.Popen([sys.executable, "-c", "import app; app.serve()"], cwd=REPO,
                            env=env)


def wait_for(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"no answer from {base}/api/health within {seconds:.0f} s")


def table(rows: list[dict[str, object]]) -> str:
    keys = ["endpoint", "clients", "seconds", "requests", "errors", "req_per_s", "p50_ms",
            "p95_ms", "p99_ms", "max_ms"]
    cells = [keys] + [[str(row[key]) for key in keys] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(keys))]
    lines = [" | ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
             for line in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="base URL of a running server (default: start one)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--port", type=int, default=7861)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--endpoints", nargs="+", default=["/api/search", "/api/ask"])
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()

    server = None
    base = args.url.rstrip("/") if args.url else f"http://127.0.0.1:{args.port}"
    if not args.url:
        server = start_server(args.data_dir, args.port)
    try:
        wait_for(base)
        health = httpx.get(f"{base}/api/health").json()
        print(f"server {base}: {health['documents']} documents, {health['chunks']} chunks, "
              f"{os.cpu_count()} cores", flush=True)
        texts = questions()
        rows = []
        for endpoint in args.endpoints:
            phase = asyncio.run(run_phase(base, endpoint, args.clients, args.seconds,
                                          args.timeout, texts))
            rows.append(phase.row())
        print(table(rows))
        for row in rows:
            if row["errors"]:
                print(f"errors on {row['endpoint']}: {row['error_kinds']}")
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return 1 if any(row["errors"] for row in rows) else 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
