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
        /* 4 rows at a time: 4 independent accumulator chains (same sums in the
           same order as GK_DOT, so the result is bitwise the same) */
        for (; t + 4 <= nb; t += 4)
            GK_DOT_4ROWS(xp + t, w, d, b, zb + t);
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
#undef GK_CAT
#undef GK_CAT_
