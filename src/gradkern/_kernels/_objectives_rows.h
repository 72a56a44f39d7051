/* Template body of _objectives_simd.h, included once per X dtype with
 * GK_XT (float or double) and GK_SFX (f32 or f64) defined. No include guard. */
#define GK_CAT_(a, b) a##_##b
#define GK_CAT(a, b) GK_CAT_(a, b)
#define GK_DOT GK_CAT(gk_dot4, GK_XT)
#define GK_DOT_4ROWS GK_CAT(gk_dot4rows, GK_XT)

/* Fused value-and-gradient over rows k0:k1 of a minibatch of dense C-ordered X
 * (row stride rs, unit column stride, d columns). Row k of the minibatch is
 * rows[k] (rows != NULL) or start + k * step. w has d entries (+ the intercept
 * w[d] when fit_intercept). Accumulates sum s_i dloss_i x_i into g[0:d(+1)]
 * (OUT; skipped when g is NULL), sum s_i loss_i into res[0] and sum s_i into
 * res[1]. sw NULL means unit weights. */
#if GK_HAVE_VEC
#define GK_SMALL GK_CAT(gk_lin_rows_small, GK_SFX)
/* gk_lin_rows_c for d <= GK_SMALL_D (GK_SMALL_D_F32 for float32 X), inlined
   with a constant d (see the switch below) so every loop over features is
   unrolled: the margins of 4 rows at a time (bitwise the sums of GK_DOT_4ROWS /
   GK_DOT), and the gradient kept in registers for the whole call (the same
   sums, in the same order, as the loop over g of the general path: only where
   they are kept differs). */
GK_VINLINE void GK_SMALL(
    const GK_XT *X, gk_intp rs, const gk_intp d, const double *y, const double *sw,
    const double *w, int fit_intercept, int kind, double delta,
    const gk_intp *rows, gk_intp start, gk_intp step, gk_intp k0, gk_intp k1,
    double *g, double *res)
{
    double zb[GK_BLOCK], yb[GK_BLOCK], sb[GK_BLOCK], ab[GK_BLOCK];
    const GK_XT *xp[GK_BLOCK];
    const double *xq[GK_BLOCK];
#if GK_IS_F32
    double xd[GK_BLOCK * GK_SMALL_D_F32];
#endif
    const gk_intp d4 = d - d % 4, nv = d4 / 4;
    gk_v4d wv[GK_SMALL_D / 4], gv[GK_SMALL_D / 4];
    double gt[4], gb = 0.0;
    double b = fit_intercept ? w[d] : 0.0, L = 0.0, S = 0.0;
    gk_intp kb, t, nb, j, c;
    gk_prefetch pf;
    for (c = 0; c < nv; c++) {
        wv[c] = gk_vload_double(w + 4 * c);
        gv[c] = g ? gk_vload_double(g + 4 * c) : GK_SPLAT(0.0);
    }
    for (j = d4; j < d; j++)
        gt[j - d4] = g ? g[j] : 0.0;
    for (kb = k0; kb < k1; kb += nb) {
        nb = k1 - kb < GK_BLOCK ? k1 - kb : GK_BLOCK;
        if (rows) {
            for (t = 0; t < nb; t++) {
                gk_intp i = rows[kb + t];
                xp[t] = X + i * rs;
                yb[t] = y[i];
                sb[t] = sw ? sw[i] : 1.0;
            }
        } else {
            /* running index and pointer: GCC would otherwise vectorize this loop
               with emulated 64-bit multiplies */
            gk_intp i = start + kb * step, xs = step * rs;
            const GK_XT *xr = X + i * rs;
            for (t = 0; t < nb; t++, i += step, xr += xs) {
                xp[t] = xr;
                yb[t] = y[i];
                sb[t] = sw ? sw[i] : 1.0;
            }
        }
#if GK_IS_F32
        /* float32 rows converted to double once per block, read twice below */
        for (t = 0; t < nb; t++) {
            double *o = xd + t * d;
            for (j = 0; j < d; j++)
                o[j] = (double)xp[t][j];
            xq[t] = o;
        }
#else
        for (t = 0; t < nb; t++)
            xq[t] = xp[t];
#endif
        gk_prefetch_next(&pf, X, sizeof(GK_XT), rs, d, rows, start, step, k0, k1, kb, nb);
        for (t = 0; t + 4 <= nb; t += 4) {
            const double *const *x = xq + t;
            double *z = zb + t;
            gk_v4d a0 = GK_SPLAT(0.0), a1 = a0, a2 = a0, a3 = a0;
            gk_prefetch_4rows(&pf, t);
            for (c = 0; c < nv; c++) {
                a0 += gk_vload_double(x[0] + 4 * c) * wv[c];
                a1 += gk_vload_double(x[1] + 4 * c) * wv[c];
                a2 += gk_vload_double(x[2] + 4 * c) * wv[c];
                a3 += gk_vload_double(x[3] + 4 * c) * wv[c];
            }
            GK_DOT_REDUCE(a0, 0)
            GK_DOT_REDUCE(a1, 1)
            GK_DOT_REDUCE(a2, 2)
            GK_DOT_REDUCE(a3, 3)
        }
        for (; t < nb; t++)
            zb[t] = gk_dot4_double(xq[t], w, d) + b;
        L += gk_loss_block(kind, nb, zb, yb, sb, delta, ab);
        for (t = 0; t < nb; t++)
            S += sb[t];
        if (g) {
            for (t = 0; t + 4 <= nb; t += 4) {
                const double *x0 = xq[t], *x1 = xq[t + 1], *x2 = xq[t + 2], *x3 = xq[t + 3];
                double a0 = ab[t], a1 = ab[t + 1], a2 = ab[t + 2], a3 = ab[t + 3];
                gk_v4d v0 = GK_SPLAT(a0), v1 = GK_SPLAT(a1), v2 = GK_SPLAT(a2), v3 = GK_SPLAT(a3);
                for (c = 0; c < nv; c++)
                    gv[c] += (v0 * gk_vload_double(x0 + 4 * c) + v1 * gk_vload_double(x1 + 4 * c)) +
                             (v2 * gk_vload_double(x2 + 4 * c) + v3 * gk_vload_double(x3 + 4 * c));
                for (j = d4; j < d; j++)
                    gt[j - d4] += (a0 * (double)x0[j] + a1 * (double)x1[j]) +
                                  (a2 * (double)x2[j] + a3 * (double)x3[j]);
            }
            for (; t < nb; t++) {
                const double *x0 = xq[t];
                double a0 = ab[t];
                gk_v4d v0 = GK_SPLAT(a0);
                for (c = 0; c < nv; c++)
                    gv[c] += v0 * gk_vload_double(x0 + 4 * c);
                for (j = d4; j < d; j++)
                    gt[j - d4] += a0 * (double)x0[j];
            }
            if (fit_intercept) {
                double a0 = 0.0;
                for (t = 0; t < nb; t++)
                    a0 += ab[t];
                gb += a0;
            }
        }
    }
    if (g) {
        for (c = 0; c < nv; c++)
            memcpy(g + 4 * c, &gv[c], sizeof gv[c]);
        for (j = d4; j < d; j++)
            g[j] = gt[j - d4];
        if (fit_intercept)
            g[d] += gb;
    }
    res[0] += L;
    res[1] += S;
}
#endif

GK_CLONES
static void GK_CAT(gk_lin_rows_c, GK_SFX)(
    const GK_XT *X, gk_intp rs, gk_intp d, const double *y, const double *sw,
    const double *w, int fit_intercept, int kind, double delta,
    const gk_intp *rows, gk_intp start, gk_intp step, gk_intp k0, gk_intp k1,
    double *g, double *res)
{
    double zb[GK_BLOCK], yb[GK_BLOCK], sb[GK_BLOCK], ab[GK_BLOCK];
    const GK_XT *xp[GK_BLOCK];
    double b = fit_intercept ? w[d] : 0.0, L = 0.0, S = 0.0;
    gk_intp kb, t, nb, j;
#if GK_HAVE_VEC
    gk_prefetch pf;
    switch (d) {   /* small d: a copy of the loop per d, unrolled */
#define GK_SMALL_CASE(D) \
    case D: GK_SMALL(X, rs, D, y, sw, w, fit_intercept, kind, delta, rows, start, step, \
                     k0, k1, g, res); return;
    GK_SMALL_CASE(1) GK_SMALL_CASE(2) GK_SMALL_CASE(3) GK_SMALL_CASE(4)
    GK_SMALL_CASE(5) GK_SMALL_CASE(6) GK_SMALL_CASE(7) GK_SMALL_CASE(8)
    GK_SMALL_CASE(9) GK_SMALL_CASE(10) GK_SMALL_CASE(11) GK_SMALL_CASE(12)
    GK_SMALL_CASE(13) GK_SMALL_CASE(14) GK_SMALL_CASE(15) GK_SMALL_CASE(16)
#if !GK_IS_F32
    GK_SMALL_CASE(17) GK_SMALL_CASE(18) GK_SMALL_CASE(19) GK_SMALL_CASE(20)
    GK_SMALL_CASE(21) GK_SMALL_CASE(22) GK_SMALL_CASE(23) GK_SMALL_CASE(24)
    GK_SMALL_CASE(25) GK_SMALL_CASE(26) GK_SMALL_CASE(27) GK_SMALL_CASE(28)
    GK_SMALL_CASE(29) GK_SMALL_CASE(30) GK_SMALL_CASE(31) GK_SMALL_CASE(32)
#endif
#undef GK_SMALL_CASE
    default: break;
    }
#endif
    for (kb = k0; kb < k1; kb += nb) {
        nb = k1 - kb < GK_BLOCK ? k1 - kb : GK_BLOCK;
        for (t = 0; t < nb; t++) {
            gk_intp i = rows ? rows[kb + t] : start + (kb + t) * step;
            xp[t] = X + i * rs;
            yb[t] = y[i];
            sb[t] = sw ? sw[i] : 1.0;
        }
        t = 0;
#if GK_HAVE_VEC
        gk_prefetch_next(&pf, X, sizeof(GK_XT), rs, d, rows, start, step, k0, k1, kb, nb);
        /* 4 rows at a time: 4 independent accumulator chains (same sums in the
           same order as GK_DOT, so the result is bitwise the same) */
        for (; t + 4 <= nb; t += 4) {
            gk_prefetch_4rows(&pf, t);
            GK_DOT_4ROWS(xp + t, w, d, b, zb + t);
        }
#endif
        for (; t < nb; t++)
            zb[t] = GK_DOT(xp[t], w, d) + b;
        L += gk_loss_block(kind, nb, zb, yb, sb, delta, ab);
        for (t = 0; t < nb; t++)
            S += sb[t];
        if (g) {
            /* 4 rows per pass over g: a quarter of the load/store traffic on g
               and of the store-to-load chains between consecutive rows */
            for (t = 0; t + 4 <= nb; t += 4) {
                const GK_XT *GK_RESTRICT x0 = xp[t], *GK_RESTRICT x1 = xp[t + 1];
                const GK_XT *GK_RESTRICT x2 = xp[t + 2], *GK_RESTRICT x3 = xp[t + 3];
                double *GK_RESTRICT gg = g;
                double a0 = ab[t], a1 = ab[t + 1], a2 = ab[t + 2], a3 = ab[t + 3];
                for (j = 0; j < d; j++)
                    gg[j] += (a0 * (double)x0[j] + a1 * (double)x1[j]) +
                             (a2 * (double)x2[j] + a3 * (double)x3[j]);
            }
            for (; t < nb; t++) {
                const GK_XT *GK_RESTRICT x = xp[t];
                double *GK_RESTRICT gg = g;
                double a = ab[t];
                for (j = 0; j < d; j++)
                    gg[j] += a * (double)x[j];
            }
            if (fit_intercept) {
                double a0 = 0.0;
                for (t = 0; t < nb; t++)
                    a0 += ab[t];
                g[d] += a0;
            }
        }
    }
    res[0] += L;
    res[1] += S;
}

/* The same over CSR X (data, indices, indptr; canonical: no duplicate column in
   a row): margins of a block of rows, the vectorized loss stage, then the sparse
   gradient updates of the block. */
GK_CLONES
static void GK_CAT(gk_lin_rows_csr, GK_SFX)(
    const GK_XT *data, const gk_intp *indices, const gk_intp *indptr, gk_intp d,
    const double *y, const double *sw, const double *w, int fit_intercept, int kind,
    double delta, const gk_intp *rows, gk_intp start, gk_intp step, gk_intp k0,
    gk_intp k1, double *g, double *res)
{
    double zb[GK_BLOCK], yb[GK_BLOCK], sb[GK_BLOCK], ab[GK_BLOCK];
    gk_intp ib[GK_BLOCK];
    double b = fit_intercept ? w[d] : 0.0, L = 0.0, S = 0.0;
    gk_intp kb, t, nb, q;
    for (kb = k0; kb < k1; kb += nb) {
        nb = k1 - kb < GK_BLOCK ? k1 - kb : GK_BLOCK;
        for (t = 0; t < nb; t++) {
            gk_intp i = rows ? rows[kb + t] : start + (kb + t) * step;
            gk_intp q1 = indptr[i + 1];
            double z = b;
            for (q = indptr[i]; q < q1; q++)
                z += (double)data[q] * w[indices[q]];
            ib[t] = i;
            zb[t] = z;
            yb[t] = y[i];
            sb[t] = sw ? sw[i] : 1.0;
        }
        L += gk_loss_block(kind, nb, zb, yb, sb, delta, ab);
        for (t = 0; t < nb; t++)
            S += sb[t];
        if (g) {
            for (t = 0; t < nb; t++) {
                gk_intp i = ib[t], q1 = indptr[i + 1];
                double a = ab[t];
                for (q = indptr[i]; q < q1; q++)
                    g[indices[q]] += a * (double)data[q];
            }
            if (fit_intercept) {
                double a0 = 0.0;
                for (t = 0; t < nb; t++)
                    a0 += ab[t];
                g[d] += a0;
            }
        }
    }
    res[0] += L;
    res[1] += S;
}

#undef GK_DOT
#undef GK_DOT_4ROWS
#undef GK_SMALL
#undef GK_CAT
#undef GK_CAT_
