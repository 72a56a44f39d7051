/* Body of the F-order loop (_objectives_cols.h), included once per variant with
 * GK_CBODY (its name), GK_CV (vector type), GK_CL (its lanes), GK_CSPLAT,
 * GK_CLOADD (load GK_CL doubles), GK_CLOAD (load GK_CL elements of X as
 * doubles) and GK_CHSUM (sum of the lanes, a fixed order) defined, and for the
 * one-pass form GK_CONE (its name) and GK_CLOSS (the vector loss); undefines
 * them. No include guard. */
GK_VINLINE void GK_CBODY(const GK_XT *X, gk_intp cs, gk_intp d, const double *y,
                         const double *sw, const double *w, int fit_intercept, int kind,
                         double delta, gk_intp r0, gk_intp r1, double *g, double *res)
{
    double zb[GK_CB], ab[GK_CB], ones[GK_BLOCK];
    const double b = fit_intercept ? w[d] : 0.0;
    double L = 0.0, S = 0.0, gb = 0.0;
    /* rows per block: its d column pieces within ~32 KB (L1) where that
       leaves at least 64 rows */
    gk_intp B = (gk_intp)(32768 / sizeof(GK_XT)) / (d > 0 ? d : 1);
    gk_intp i0, nb, nv, t, j, k;
    B = B < 64 ? 64 : B > GK_CB ? GK_CB : B - B % 8;
    for (t = 0; t < GK_BLOCK; t++)
        ones[t] = 1.0;
    for (i0 = r0; i0 < r1; i0 += nb) {
        const GK_XT *xb = X + i0;
        nb = r1 - i0 < B ? r1 - i0 : B;
        nv = nb / GK_CL;
        /* margins: 8 vectors of rows at a time over all the columns, in
           registers (16 for float32 X in 8 lanes: 512 bytes of each column
           in a row, as for float64; with 256, 64 columns streamed 1.3x
           slower than in float64); then single vectors; then single rows */
        k = 0;
        if (GK_CL == 8 && sizeof(GK_XT) == 4)
            for (; k + 16 <= nv; k += 16) {
                GK_CV z[16];
                const GK_XT *c = xb + GK_CL * k;
                int q;
                for (q = 0; q < 16; q++)
                    z[q] = GK_CSPLAT(b);
                for (j = 0; j < d; j++, c += cs) {
                    const GK_CV v = GK_CSPLAT(w[j]);
#pragma GCC unroll 16
                    for (q = 0; q < 16; q++)
                        z[q] += v * GK_CLOAD(c + GK_CL * q);
                }
                for (q = 0; q < 16; q++)
                    memcpy(zb + GK_CL * (k + q), &z[q], sizeof z[q]);
            }
        for (; k + 8 <= nv; k += 8) {
            GK_CV z0 = GK_CSPLAT(b), z1 = z0, z2 = z0, z3 = z0, z4 = z0, z5 = z0;
            GK_CV z6 = z0, z7 = z0;
            const GK_XT *c = xb + GK_CL * k;
            for (j = 0; j < d; j++, c += cs) {
                const GK_CV v = GK_CSPLAT(w[j]);
                z0 += v * GK_CLOAD(c);
                z1 += v * GK_CLOAD(c + GK_CL);
                z2 += v * GK_CLOAD(c + 2 * GK_CL);
                z3 += v * GK_CLOAD(c + 3 * GK_CL);
                z4 += v * GK_CLOAD(c + 4 * GK_CL);
                z5 += v * GK_CLOAD(c + 5 * GK_CL);
                z6 += v * GK_CLOAD(c + 6 * GK_CL);
                z7 += v * GK_CLOAD(c + 7 * GK_CL);
            }
            memcpy(zb + GK_CL * k, &z0, sizeof z0);
            memcpy(zb + GK_CL * (k + 1), &z1, sizeof z1);
            memcpy(zb + GK_CL * (k + 2), &z2, sizeof z2);
            memcpy(zb + GK_CL * (k + 3), &z3, sizeof z3);
            memcpy(zb + GK_CL * (k + 4), &z4, sizeof z4);
            memcpy(zb + GK_CL * (k + 5), &z5, sizeof z5);
            memcpy(zb + GK_CL * (k + 6), &z6, sizeof z6);
            memcpy(zb + GK_CL * (k + 7), &z7, sizeof z7);
        }
        for (; k < nv; k++) {
            GK_CV z0 = GK_CSPLAT(b);
            const GK_XT *c = xb + GK_CL * k;
            for (j = 0; j < d; j++, c += cs)
                z0 += GK_CSPLAT(w[j]) * GK_CLOAD(c);
            memcpy(zb + GK_CL * k, &z0, sizeof z0);
        }
        for (t = GK_CL * nv; t < nb; t++) {
            double z0 = b;
            const GK_XT *c = xb + t;
            for (j = 0; j < d; j++, c += cs)
                z0 += w[j] * (double)*c;
            zb[t] = z0;
        }
        /* losses: in the fast variant the vector lanes of GK_CLOSS (the same
           operations as gk_loss_block's), then the last rows */
        t = 0;
#ifdef GK_CLOSS
        {
            GK_CV Lv = GK_CSPLAT(0.0), dz;
            const GK_CV dv = GK_CSPLAT(delta), one = GK_CSPLAT(1.0);
            for (; t + GK_CL <= nb; t += GK_CL) {
                Lv += GK_CLOSS(kind, GK_CLOADD(zb + t), GK_CLOADD(y + i0 + t),
                               sw ? GK_CLOADD(sw + i0 + t) : one, dv, &dz);
                memcpy(ab + t, &dz, sizeof dz);
            }
            L += GK_CHSUM(Lv);
        }
#endif
        for (; t < nb; t += GK_BLOCK) {
            const gk_intp m = nb - t < GK_BLOCK ? nb - t : GK_BLOCK;
            L += gk_loss_block(kind, m, zb + t, y + i0 + t, sw ? sw + i0 + t : ones, delta,
                               ab + t);
        }
        if (sw)
            for (t = 0; t < nb; t++)
                S += sw[i0 + t];
        else
            S += (double)nb;
        if (!g)
            continue;
        /* gradient: 4 columns at a time, two accumulators each */
        for (j = 0; j + 4 <= d; j += 4) {
            const GK_XT *c0 = xb + j * cs, *c1 = c0 + cs, *c2 = c1 + cs, *c3 = c2 + cs;
            GK_CV p0 = GK_CSPLAT(0.0), q0 = p0, p1 = p0, q1 = p0, p2 = p0, q2 = p0;
            GK_CV p3 = p0, q3 = p0;
            double s0, s1, s2, s3;
            for (k = 0; k + 2 <= nv; k += 2) {
                const gk_intp o = GK_CL * k, o1 = o + GK_CL;
                const GK_CV a0 = GK_CLOADD(ab + o), a1 = GK_CLOADD(ab + o1);
                p0 += a0 * GK_CLOAD(c0 + o);
                q0 += a1 * GK_CLOAD(c0 + o1);
                p1 += a0 * GK_CLOAD(c1 + o);
                q1 += a1 * GK_CLOAD(c1 + o1);
                p2 += a0 * GK_CLOAD(c2 + o);
                q2 += a1 * GK_CLOAD(c2 + o1);
                p3 += a0 * GK_CLOAD(c3 + o);
                q3 += a1 * GK_CLOAD(c3 + o1);
            }
            if (k < nv) {
                const gk_intp o = GK_CL * k;
                const GK_CV a0 = GK_CLOADD(ab + o);
                p0 += a0 * GK_CLOAD(c0 + o);
                p1 += a0 * GK_CLOAD(c1 + o);
                p2 += a0 * GK_CLOAD(c2 + o);
                p3 += a0 * GK_CLOAD(c3 + o);
            }
            s0 = GK_CHSUM(p0 + q0);
            s1 = GK_CHSUM(p1 + q1);
            s2 = GK_CHSUM(p2 + q2);
            s3 = GK_CHSUM(p3 + q3);
            for (t = GK_CL * nv; t < nb; t++) {
                s0 += ab[t] * (double)c0[t];
                s1 += ab[t] * (double)c1[t];
                s2 += ab[t] * (double)c2[t];
                s3 += ab[t] * (double)c3[t];
            }
            g[j] += s0;
            g[j + 1] += s1;
            g[j + 2] += s2;
            g[j + 3] += s3;
        }
        for (; j < d; j++) {
            const GK_XT *c0 = xb + j * cs;
            GK_CV p0 = GK_CSPLAT(0.0), q0 = p0;
            double s0;
            for (k = 0; k + 2 <= nv; k += 2) {
                p0 += GK_CLOADD(ab + GK_CL * k) * GK_CLOAD(c0 + GK_CL * k);
                q0 += GK_CLOADD(ab + GK_CL * (k + 1)) * GK_CLOAD(c0 + GK_CL * (k + 1));
            }
            if (k < nv)
                p0 += GK_CLOADD(ab + GK_CL * k) * GK_CLOAD(c0 + GK_CL * k);
            s0 = GK_CHSUM(p0 + q0);
            for (t = GK_CL * nv; t < nb; t++)
                s0 += ab[t] * (double)c0[t];
            g[j] += s0;
        }
        if (fit_intercept)
            for (t = 0; t < nb; t++)
                gb += ab[t];
    }
    if (g && fit_intercept)
        g[d] += gb;
    res[0] += L;
    res[1] += S;
}

#ifdef GK_CONE
/* One pass for few columns (D <= GK_COLS_ONE_MAXD, a constant wherever this is
   inlined): GK_CL rows at a time, each column's vector loaded once (D
   registers), the margins (the block loop's sums, in its order), their losses
   in vector lanes (the same operations as gk_loss_block's), and the gradient
   accumulated in D vector registers; reduced at the end. The last rows (fewer
   than GK_CL) go through GK_CBODY. */
GK_VINLINE void GK_CONE(const gk_intp D, const GK_XT *X, gk_intp cs, const double *y,
                        const double *sw, const double *w, int fit_intercept, int kind,
                        double delta, gk_intp r0, gk_intp r1, double *g, double *res)
{
    GK_CV ga[GK_COLS_ONE_MAXD], Lv = GK_CSPLAT(0.0), Sv = Lv, Bv = Lv;
    const GK_CV bv = GK_CSPLAT(fit_intercept ? w[D] : 0.0), dv = GK_CSPLAT(delta);
    const GK_CV one = GK_CSPLAT(1.0);
    gk_intp i, j;
    for (j = 0; j < D; j++)
        ga[j] = GK_CSPLAT(0.0);
    for (i = r0; i + GK_CL <= r1; i += GK_CL) {
        const GK_XT *c = X + i;
        GK_CV x[GK_COLS_ONE_MAXD], z = bv, dz, st = sw ? GK_CLOADD(sw + i) : one;
#pragma GCC unroll 16
        for (j = 0; j < D; j++) {
            x[j] = GK_CLOAD(c + j * cs);
            z += GK_CSPLAT(w[j]) * x[j];
        }
        Lv += GK_CLOSS(kind, z, GK_CLOADD(y + i), st, dv, &dz);
        Sv += st;
        Bv += dz;
#pragma GCC unroll 16
        for (j = 0; j < D; j++)
            ga[j] += dz * x[j];
    }
    if (g) {
        for (j = 0; j < D; j++)
            g[j] += GK_CHSUM(ga[j]);
        if (fit_intercept)
            g[D] += GK_CHSUM(Bv);
    }
    res[0] += GK_CHSUM(Lv);
    res[1] += GK_CHSUM(Sv);
    if (i < r1)
        GK_CBODY(X, cs, D, y, sw, w, fit_intercept, kind, delta, i, r1, g, res);
}
#endif

#undef GK_CBODY
#undef GK_CV
#undef GK_CL
#undef GK_CSPLAT
#undef GK_CLOADD
#undef GK_CLOAD
#undef GK_CHSUM
#undef GK_CONE
#undef GK_CLOSS
