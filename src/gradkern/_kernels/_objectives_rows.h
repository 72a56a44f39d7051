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
#if GK_HAVE_VEC && !GK_IS_F32
#define GK_SMALL GK_CAT(gk_lin_rows_small, GK_SFX)
/* gk_lin_rows_c for float64 X with 16 < d <= GK_SMALL_D (below, GK_FUSED does
   better), inlined with a constant d (see the switch below) so every loop over
   features is unrolled: blocks of GK_BLOCK rows, the margins of 4 rows at a
   time (bitwise the sums of GK_DOT_4ROWS / GK_DOT), the loss stage, then the
   gradient, kept in registers for the whole call (the same sums, in the same
   order, as the loop over g of the general path: only where they are kept
   differs). Measured against GK_FUSED at d = 32: faster for least squares
   (one pass holds 16 vector registers of weights and gradient), on par for
   logistic. */
GK_VINLINE void GK_SMALL(
    const GK_XT *X, gk_intp rs, const gk_intp d, const double *y, const double *sw,
    const double *w, int fit_intercept, int kind, double delta,
    const gk_intp *rows, gk_intp start, gk_intp step, gk_intp k0, gk_intp k1,
    double *g, double *res)
{
    double zb[GK_BLOCK], yb[GK_BLOCK], sb[GK_BLOCK], ab[GK_BLOCK];
    const GK_XT *xp[GK_BLOCK];
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
        gk_prefetch_next(&pf, X, sizeof(GK_XT), rs, d, rows, start, step, k0, k1, kb, nb);
        for (t = 0; t + 4 <= nb; t += 4) {
            const double *const *x = xp + t;
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
            zb[t] = gk_dot4_double(xp[t], w, d) + b;
        L += gk_loss_block(kind, nb, zb, yb, sb, delta, ab);
        for (t = 0; t < nb; t++)
            S += sb[t];
        if (g) {
            for (t = 0; t + 4 <= nb; t += 4) {
                const double *x0 = xp[t], *x1 = xp[t + 1], *x2 = xp[t + 2], *x3 = xp[t + 3];
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
                const double *x0 = xp[t];
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

#if GK_HAVE_VEC
#define GK_FUSED GK_CAT(gk_lin_rows_fused, GK_SFX)
#define GK_MARGINS GK_CAT(gk_lin_margins4, GK_SFX)
#define GK_GRAD4 GK_CAT(gk_lin_grad4, GK_SFX)
#define GK_PAIR GK_CAT(gk_lin_pair, GK_SFX)
#define GK_MULTI GK_CAT(gk_lin_multi, GK_SFX)
#define GK_MARGINS8 GK_CAT(gk_lin_margins8, GK_SFX)
#define GK_GRAD8 GK_CAT(gk_lin_grad8, GK_SFX)
#define GK_PAD GK_CAT(gk_lin_pad_rows, GK_SFX)
#define GK_LOADX GK_CAT(gk_vload, GK_XT)
/* Column vector c of a row x padded to 4 * nv features: the lanes past d are
   masked to +0 (they hold the next row, or padding). */
#define GK_XV(x, c) (dr && (c) == nv - 1 ? gk_v_and(GK_LOADX((x) + 4 * (c)), mk) \
                                          : GK_LOADX((x) + 4 * (c)))

/* Margins (without the intercept) of 4 rows x0..x3, each readable as nv whole
   vectors: lane r of the result is row r's. xc (or NULL): where to keep the
   rows' vectors, row r's at xc[r * nv : (r + 1) * nv]. */
GK_VINLINE gk_v4d GK_MARGINS(const GK_XT *x0, const GK_XT *x1, const GK_XT *x2,
                             const GK_XT *x3, const gk_intp d, const gk_v4d *wv, gk_v4d *xc)
{
    const gk_intp nv = (d + 3) / 4, dr = d % 4;
    const gk_v4i mk = (gk_v4i){0, 1, 2, 3} < GK_SPLATI(dr);
    gk_v4d a0 = GK_SPLAT(0.0), a1 = a0, a2 = a0, a3 = a0;
    gk_intp c;
    for (c = 0; c < nv; c++) {
        const gk_v4d v0 = GK_XV(x0, c), v1 = GK_XV(x1, c), v2 = GK_XV(x2, c), v3 = GK_XV(x3, c);
        if (xc) {    /* keep the (converted, masked) vectors for GK_GRAD4 */
            xc[c] = v0;
            xc[nv + c] = v1;
            xc[2 * nv + c] = v2;
            xc[3 * nv + c] = v3;
        }
        if (c == 0) {
            a0 = v0 * wv[0];
            a1 = v1 * wv[0];
            a2 = v2 * wv[0];
            a3 = v3 * wv[0];
        } else {
            a0 += v0 * wv[c];
            a1 += v1 * wv[c];
            a2 += v2 * wv[c];
            a3 += v3 * wv[c];
        }
    }
    return gk_v_hsum4(a0, a1, a2, a3);
}

/* gv[0:nv] += sum_r dz[r] x_r over the 4 rows (lanes past d: masked); with xc,
   from the vectors GK_MARGINS kept there (4 rows of nv) instead of from x. */
GK_VINLINE void GK_GRAD4(const GK_XT *x0, const GK_XT *x1, const GK_XT *x2, const GK_XT *x3,
                         const gk_intp d, gk_v4d dz, gk_v4d *gv, const gk_v4d *xc)
{
    const gk_intp nv = (d + 3) / 4, dr = d % 4;
    const gk_v4i mk = (gk_v4i){0, 1, 2, 3} < GK_SPLATI(dr);
    const gk_v4d d0 = GK_BCAST(dz, 0), d1 = GK_BCAST(dz, 1);
    const gk_v4d d2 = GK_BCAST(dz, 2), d3 = GK_BCAST(dz, 3);
    gk_intp c;
    if (xc) {    /* the vectors GK_MARGINS kept: the same values */
        for (c = 0; c < nv; c++)
            gv[c] += (d0 * xc[c] + d1 * xc[nv + c]) + (d2 * xc[2 * nv + c] + d3 * xc[3 * nv + c]);
        return;
    }
    /* read the rows again from L1 (folded into the multiplies) rather than let
       the compiler keep the first reads in spilled registers: the empty asm
       makes the pointers opaque */
    __asm__("" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3));
    for (c = 0; c < nv; c++)
        gv[c] += (d0 * GK_XV(x0, c) + d1 * GK_XV(x1, c)) +
                 (d2 * GK_XV(x2, c) + d3 * GK_XV(x3, c));
}

/* The fast variant's margins and gradient: a row read as ceil(d / 8) 8-lane
   vectors (one AVX-512 register each; fewer conversions from float32 and fewer
   multiply-adds than 4-lane ones), lanes past d masked to +0 for the margins.
   Lane r of the margins: the 8 lanes of row r's partial sums, halves added,
   then reduced as gk_v_hsum4 does. */
#define GK_LOADX8 GK_CAT(gk_vload8, GK_XT)
#define GK_XV8(x, c) (dr8 && (c) == nv8 - 1 ? gk_v_and8(GK_LOADX8((x) + 8 * (c)), mk8) \
                                            : GK_LOADX8((x) + 8 * (c)))
GK_VINLINE gk_v4d GK_MARGINS8(const GK_XT *x0, const GK_XT *x1, const GK_XT *x2,
                              const GK_XT *x3, const gk_intp d, const gk_v8d *wv8)
{
    const gk_intp nv8 = (d + 7) / 8, dr8 = d % 8;
    const gk_v8i mk8 = (gk_v8i){0, 1, 2, 3, 4, 5, 6, 7} < GK_SPLATI8(dr8);
    gk_v8d a0, a1, a2, a3;
    gk_intp c;
    a0 = GK_XV8(x0, 0) * wv8[0];
    a1 = GK_XV8(x1, 0) * wv8[0];
    a2 = GK_XV8(x2, 0) * wv8[0];
    a3 = GK_XV8(x3, 0) * wv8[0];
    for (c = 1; c < nv8; c++) {
        a0 += GK_XV8(x0, c) * wv8[c];
        a1 += GK_XV8(x1, c) * wv8[c];
        a2 += GK_XV8(x2, c) * wv8[c];
        a3 += GK_XV8(x3, c) * wv8[c];
    }
    return gk_v_hsum4(GK_LO4(a0) + GK_HI4(a0), GK_LO4(a1) + GK_HI4(a1),
                      GK_LO4(a2) + GK_HI4(a2), GK_LO4(a3) + GK_HI4(a3));
}

/* gv8[0:nv8] += sum_r dz[r] x_r over the 4 rows. The lanes past d are not
   masked: they hold garbage that is never stored (only g[0:d] is). */
GK_VINLINE void GK_GRAD8(const GK_XT *x0, const GK_XT *x1, const GK_XT *x2, const GK_XT *x3,
                         const gk_intp d, gk_v4d dz, gk_v8d *gv8)
{
    const gk_intp nv8 = (d + 7) / 8;
    const gk_v8d d0 = GK_SPLAT8(dz[0]), d1 = GK_SPLAT8(dz[1]);
    const gk_v8d d2 = GK_SPLAT8(dz[2]), d3 = GK_SPLAT8(dz[3]);
    gk_intp c;
    __asm__("" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3));   /* as in GK_GRAD4 */
    for (c = 0; c < nv8; c++)
        gv8[c] += (d0 * GK_LOADX8(x0 + 8 * c) + d1 * GK_LOADX8(x1 + 8 * c)) +
                  (d2 * GK_LOADX8(x2 + 8 * c) + d3 * GK_LOADX8(x3 + 8 * c));
}
#undef GK_XV8

/* Two groups of 4 rows (x[0:8], readable whole; targets y0, y1, weights s0,
   s1): the margins of the 8 rows, then their losses, then their gradients, so
   that independent work sits side by side for the out-of-order core. The same
   operations, in the same order, as the groups one after the other. */
GK_VINLINE void GK_PAIR(const GK_XT *const *x, gk_v4d y0, gk_v4d y1, gk_v4d s0, gk_v4d s1,
                        const gk_intp d, const int kind, const gk_v4d *wv, gk_v4d bv,
                        gk_v4d dv, int with_g, gk_v4d *gv, gk_v4d *Lv, gk_v4d *Sv,
                        gk_v4d *Bv, const int fast, const int wide, const gk_v8d *wv8,
                        gk_v8d *gv8)
{
    gk_v4d z0, z1, dz0, dz1;
    /* the logistic loss of float32 X in the fast variant: GK_MARGINS keeps the
       rows' converted vectors in xcb for GK_GRAD4 (stores and loads, where
       converting again kept the two vector ports busy). Measured with bench/c
       on 1,000 rows: 7% faster at d = 10, 15% at d = 5; least squares 4-6%
       slower (d = 10, 16), so not there. Same values, same bits. */
    gk_v4d xcb[8 * GK_FUSED_V];
    gk_v4d *const xc = fast && GK_IS_F32 && kind == GK_LOSS_LOGISTIC ? xcb : NULL;
    const gk_intp nv = (d + 3) / 4;
    if (wide) {
        z0 = GK_MARGINS8(x[0], x[1], x[2], x[3], d, wv8) + bv;
        z1 = GK_MARGINS8(x[4], x[5], x[6], x[7], d, wv8) + bv;
    } else {
        z0 = GK_MARGINS(x[0], x[1], x[2], x[3], d, wv, xc) + bv;
        z1 = GK_MARGINS(x[4], x[5], x[6], x[7], d, wv, xc ? xc + 4 * nv : NULL) + bv;
    }
    if (fast && kind == GK_LOSS_LOGISTIC) {
        /* the 8 logistic losses in one 8-lane (AVX-512) call, lanes 0-3 the
           first group's */
        gk_v8d dz8, l8 = gk_v_loss8(kind, GK_CONCAT8(z0, z1), GK_CONCAT8(y0, y1),
                                    GK_CONCAT8(s0, s1), GK_SPLAT8(dv[0]), &dz8);
        *Lv += GK_LO4(l8);
        *Sv += s0;
        *Lv += GK_HI4(l8);
        *Sv += s1;
        dz0 = GK_LO4(dz8);
        dz1 = GK_HI4(dz8);
    } else {
        *Lv += gk_v_loss4(kind, z0, y0, s0, dv, &dz0);
        *Sv += s0;
        *Lv += gk_v_loss4(kind, z1, y1, s1, dv, &dz1);
        *Sv += s1;
    }
    if (with_g) {
        if (wide)
            GK_GRAD8(x[0], x[1], x[2], x[3], d, dz0, gv8);
        else
            GK_GRAD4(x[0], x[1], x[2], x[3], d, dz0, gv, xc);
        *Bv += dz0;
        if (wide)
            GK_GRAD8(x[4], x[5], x[6], x[7], d, dz1, gv8);
        else
            GK_GRAD4(x[4], x[5], x[6], x[7], d, dz1, gv, xc ? xc + 4 * nv : NULL);
        *Bv += dz1;
    }
}

/* ng = 4 or 8 groups of 4 rows (x[0:4 ng]; targets yp[0:4 ng], weights
   sp[0:4 ng]) for the logistic loss in the fast variant: the margins of all the
   rows, their losses in ng / 2 independent 8-lane calls, then the gradients.
   One call's chain of exp, divisions and log1p is long enough to fill the
   out-of-order scheduler on its own: side by side, 2 calls ran the loss stage
   1.5x faster than one at a time, and 4 calls 2x. Every accumulator sees the
   same operations in the same order as ng / 2 GK_PAIR calls, so the results are
   bitwise theirs. ng is a constant wherever this is inlined. */
GK_VINLINE void GK_MULTI(const int ng, const GK_XT *const *x, const double *yp,
                         const double *sp, const gk_intp d, const int wide, const gk_v4d *wv,
                         const gk_v8d *wv8, gk_v4d bv, int with_g, gk_v4d *gv, gk_v8d *gv8,
                         gk_v4d *Lv, gk_v4d *Sv, gk_v4d *Bv)
{
    /* named variables, not arrays: arrays of vectors indexed in loops were kept
       on the stack for float32 (no gain there) */
    gk_v4d z0, z1, z2, z3, z4 = bv, z5 = bv, z6 = bv, z7 = bv;
    gk_v8d l0, l1, l2 = GK_SPLAT8(0.0), l3 = l2, d0, d1, d2 = l2, d3 = l2;
    /* float32: the converted row vectors of group q kept at xcb + 4 nv q (as in
       GK_PAIR) */
    gk_v4d xcb[32 * GK_FUSED_V];
    const gk_intp nv = (d + 3) / 4;
#define GK_MXC(q) (GK_IS_F32 ? xcb + 4 * nv * (q) : NULL)
#define GK_MZ(q) (wide ? GK_MARGINS8(x[4 * (q)], x[4 * (q) + 1], x[4 * (q) + 2], x[4 * (q) + 3], d, wv8) \
                   : GK_MARGINS(x[4 * (q)], x[4 * (q) + 1], x[4 * (q) + 2], x[4 * (q) + 3], d, wv, \
                                GK_MXC(q))) + bv
#define GK_ML(za, zb, q, dz)                                                      \
    gk_v_loss8(GK_LOSS_LOGISTIC, GK_CONCAT8(za, zb),                              \
               GK_CONCAT8(gk_vload_double(yp + 8 * (q)), gk_vload_double(yp + 8 * (q) + 4)), \
               GK_CONCAT8(gk_vload_double(sp + 8 * (q)), gk_vload_double(sp + 8 * (q) + 4)), \
               GK_SPLAT8(0.0), dz)
#define GK_MS(l, q)                                                               \
    *Lv += GK_LO4(l);                                                             \
    *Sv += gk_vload_double(sp + 8 * (q));                                         \
    *Lv += GK_HI4(l);                                                             \
    *Sv += gk_vload_double(sp + 8 * (q) + 4);
#define GK_MG(q, dz)                                                              \
    if (wide)                                                                     \
        GK_GRAD8(x[4 * (q)], x[4 * (q) + 1], x[4 * (q) + 2], x[4 * (q) + 3], d, dz, gv8); \
    else                                                                          \
        GK_GRAD4(x[4 * (q)], x[4 * (q) + 1], x[4 * (q) + 2], x[4 * (q) + 3], d, dz, gv, GK_MXC(q)); \
    *Bv += dz;
    z0 = GK_MZ(0);
    z1 = GK_MZ(1);
    z2 = GK_MZ(2);
    z3 = GK_MZ(3);
    if (ng == 8) {
        z4 = GK_MZ(4);
        z5 = GK_MZ(5);
        z6 = GK_MZ(6);
        z7 = GK_MZ(7);
    }
    l0 = GK_ML(z0, z1, 0, &d0);
    l1 = GK_ML(z2, z3, 1, &d1);
    if (ng == 8) {
        l2 = GK_ML(z4, z5, 2, &d2);
        l3 = GK_ML(z6, z7, 3, &d3);
    }
    GK_MS(l0, 0)
    GK_MS(l1, 1)
    if (ng == 8) {
        GK_MS(l2, 2)
        GK_MS(l3, 3)
    }
    if (with_g) {
        GK_MG(0, GK_LO4(d0))
        GK_MG(1, GK_HI4(d0))
        GK_MG(2, GK_LO4(d1))
        GK_MG(3, GK_HI4(d1))
        if (ng == 8) {
            GK_MG(4, GK_LO4(d2))
            GK_MG(5, GK_HI4(d2))
            GK_MG(6, GK_LO4(d3))
            GK_MG(7, GK_HI4(d3))
        }
    }
#undef GK_MZ
#undef GK_MXC
#undef GK_ML
#undef GK_MS
#undef GK_MG
}

/* The rare path of GK_FUSED, out of line (one copy, not one per d): rows
   x[0:m] copied into xb (nr rows of `width` elements, zero-padded, missing rows
   all zeros), and x[0:nr] pointed there. */
static void GK_PAD(const GK_XT **x, gk_intp m, gk_intp nr, gk_intp d, gk_intp width, GK_XT *xb)
{
    gk_intp r, j;
    for (r = 0; r < nr; r++) {
        for (j = 0; j < width; j++)
            xb[r * width + j] = r < m && j < d ? x[r][j] : (GK_XT)0;
        x[r] = xb + r * width;
    }
}

/* gk_lin_rows_c for small d (float64 d <= 16, float32 d <= 4 * GK_FUSED_V),
   inlined into one function per constant d and loss kind (gk_fused_tab, below)
   so every loop over features is unrolled. One pass over the rows in groups of
   4, two groups per iteration (GK_PAIR): their margins (GK_MARGINS: 4 vector
   partial sums per row, reduced together by gk_v_hsum4: lane l of row r sums
   x[4c + l] w[4c + l] over c, then (s0 + s1) + (s2 + s3)), the 4 losses in
   vector lanes (gk_v_loss4), and the gradient (GK_GRAD4), accumulated in
   registers for the whole call, while the rows are still in L1. A row is read
   as ceil(d / 4) whole vectors whose lanes past d are masked; a set of rows
   with one whose last vector would read past the end of X (X_end), or with
   missing rows (the last partial set: zeros of weight 0), is first copied into
   a zero-padded buffer (GK_PAD): every row gives bitwise the same margin
   wherever it lands. Loss, weight and intercept sums go to 4 vector lanes (a
   fixed order). nmax (a constant: 8 or 32) is the most rows per iteration:
   with 32 (the fast variant's logistic loss, see GK_FUSED_DEFLG), iterations
   of 32 rows (GK_MULTI with 8 groups), then one of 16 (4 groups) or 8 (GK_PAIR)
   for the last rows; sets of 8 rows are the same as with nmax = 8. The fast
   variant's logistic loss reads rows of float32 d > 16 as 8-lane vectors
   instead (GK_MARGINS8 / GK_GRAD8, `wide` below). */
/* rows k0:k1 (n rows of rowb bytes) stream from memory: a contiguous range too
   large for the cache (the loops prefetch there) */
#define GK_STREAMS(n, rowb) (!rows && step == 1 && (n) * (rowb) >= GK_PF_MIN_BYTES)
GK_VINLINE void GK_FUSED(
    const GK_XT *X, const char *X_end, gk_intp rs, const gk_intp d, const double *y,
    const double *sw, const double *w, int fit_intercept, const int kind, double delta,
    const gk_intp *rows, gk_intp start, gk_intp step, gk_intp k0, gk_intp k1,
    double *g, double *res, const int fast, const gk_intp nmax)
{
    const gk_intp nv = (d + 3) / 4;
    GK_XT xb[32][4 * GK_FUSED_V];    /* zero-padded copies of rows (GK_PAD) */
    double tmp[4 * GK_FUSED_V], yt[32], st[32];
    static const double ones[32] = {
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0};
    gk_v4d wv[GK_FUSED_V], gv[GK_FUSED_V];
    gk_v8d wv8[GK_FUSED_V / 2], gv8[GK_FUSED_V / 2];
    gk_v4d Lv = GK_SPLAT(0.0), Sv = Lv, Bv = Lv;
    const gk_v4d bv = GK_SPLAT(fit_intercept ? w[d] : 0.0), dv = GK_SPLAT(delta);
    /* the fast variant's logistic loss reads rows as nv8 vectors of 8 lanes
       (GK_MARGINS8) for d > 16 (float32) where that reads no more lanes than
       4-lane vectors do (d % 8 = 0 or > 4). Measured with bench/c on 1,000
       rows: 15-25% faster at d = 24, 30 and 32 (10% streaming 1e6 rows at
       d = 32, before such ranges went to GK_PIPE). Not elsewhere: least squares 3-10% slower at d = 30 and 32; at
       d = 16 on par; at d = 6 and 8 (one vector per row, whose 8-lane sum costs
       more) 25-40% slower; at d = 10 (two 8-lane vectors for 12 lanes) 12-45%
       slower. */
    const gk_intp nv8 = (d + 7) / 8;
    const int wide = fast && kind == GK_LOSS_LOGISTIC && d > 16 && 8 * nv8 == 4 * nv;
    const gk_intp width = wide ? 8 * nv8 : 4 * nv;
    const gk_intp rowb = d * (gk_intp)sizeof(GK_XT), vb = width * (gk_intp)sizeof(GK_XT);
    const int with_g = g != NULL, contiguous = !rows && step == 1;
    /* prefetch only over contiguous ranges too large for the cache */
    const gk_intp pf_end = GK_STREAMS(k1 - k0, rowb) ? k1 - 64 - nmax : k0;
    gk_intp k = k0, nr, c, r, j;
    for (j = 0; j < width; j++)
        tmp[j] = j < d ? w[j] : 0.0;
    for (c = 0; c < nv && !wide; c++)
        wv[c] = gk_vload_double(tmp + 4 * c);
    for (c = 0; c < nv8 && wide; c++)
        wv8[c] = gk_vload8_double(tmp + 8 * c);
    for (j = 0; j < width; j++)
        tmp[j] = g && j < d ? g[j] : 0.0;
    for (c = 0; c < nv && !wide; c++)
        gv[c] = gk_vload_double(tmp + 4 * c);
    for (c = 0; c < nv8 && wide; c++)
        gv8[c] = gk_vload8_double(tmp + 8 * c);
    for (; k < k1; k += nr) {
        /* nr rows (2, 4 or 8 groups of 4) at a time */
        const GK_XT *x[32];
        const double *yp = yt, *sp = st;
        const gk_intp left = k1 - k;
        const GK_XT *x0 = contiguous ? X + (start + k) * rs : X;    /* row k */
        gk_intp m;    /* rows of this iteration, the others padding */
        nr = nmax == 8 || left <= 8 ? 8 : left <= 16 ? 16 : 32;
        m = left < nr ? left : nr;
        if (contiguous && m == nr && (uintptr_t)(x0 + (nr - 1) * rs) + vb <= (uintptr_t)X_end) {
            /* pointers, targets and weights straight from the arrays; prefetch
               64 rows ahead when the range is too large for the cache */
            if (k < pf_end) {
                const char *p = (const char *)(x0 + 64 * rs);
                const gk_intp pb = nr * rs * (gk_intp)sizeof(GK_XT);    /* bytes of nr rows */
                for (j = 0; j < pb; j += 64)
                    __builtin_prefetch(p + j, 0, 3);
            }
            for (r = 0; r < nr; r++)
                x[r] = x0 + r * rs;
            yp = y + start + k;
            sp = sw ? sw + start + k : ones;
        } else {
            /* index arrays, strided slices, the end of X, a last partial pair:
               rows gathered, and copied with zero padding if any cannot be read
               whole (missing rows: zeros with weight 0) */
            int whole = m == nr;
            for (r = 0; r < m; r++) {
                gk_intp i = rows ? rows[k + r] : start + (k + r) * step;
                x[r] = X + i * rs;
                yt[r] = y[i];
                st[r] = sw ? sw[i] : 1.0;
                whole &= (uintptr_t)x[r] + vb <= (uintptr_t)X_end;
            }
            if (!whole) {
                GK_PAD(x, m, nr, d, width, &xb[0][0]);
                for (r = m; r < nr; r++)
                    yt[r] = st[r] = 0.0;
            }
        }
        if (nr == 32)
            GK_MULTI(8, x, yp, sp, d, wide, wv, wv8, bv, with_g, gv, gv8, &Lv, &Sv, &Bv);
        else if (nr == 16)
            GK_MULTI(4, x, yp, sp, d, wide, wv, wv8, bv, with_g, gv, gv8, &Lv, &Sv, &Bv);
        else
            GK_PAIR(x, gk_vload_double(yp), gk_vload_double(yp + 4), gk_vload_double(sp),
                    gk_vload_double(sp + 4), d, kind, wv, bv, dv, with_g, gv, &Lv, &Sv, &Bv,
                    fast, wide, wv8, gv8);
    }
    if (g) {
        if (wide) {
            for (c = 0; c < nv8; c++)
                memcpy(tmp + 8 * c, &gv8[c], sizeof gv8[c]);
        } else {
            for (c = 0; c < nv; c++)
                memcpy(tmp + 4 * c, &gv[c], sizeof gv[c]);
        }
        for (j = 0; j < d; j++)
            g[j] = tmp[j];
        if (fit_intercept)
            g[d] += (Bv[0] + Bv[1]) + (Bv[2] + Bv[3]);
    }
    res[0] += (Lv[0] + Lv[1]) + (Lv[2] + Lv[3]);
    res[1] += (Sv[0] + Sv[1]) + (Sv[2] + Sv[3]);
}
#undef GK_XV
#undef GK_LOADX

/* One function per (d, loss kind): small functions compile much faster than
   one function with every case inlined, and each is cloned per ISA. No loop
   unswitching there: copies of the loop per loop-invariant branch (gradient or
   not, weights or not, contiguous or not) made these 1.5x larger and slower to
   compile, for no measured speed. */
#define GK_FUSED_ARGS                                                             \
    const GK_XT *X, const char *X_end, gk_intp rs, const double *y, const double *sw, \
    const double *w, int fit_intercept, double delta, const gk_intp *rows,        \
    gk_intp start, gk_intp step, gk_intp k0, gk_intp k1, double *g, double *res
typedef void (*GK_CAT(gk_fused_fn, GK_SFX))(GK_FUSED_ARGS);
/* one function per d and loss kind: ATTR the variant's attributes (GK_CLONES, or
   GK_FAST for the AVX-512 + FMA variant, FAST = 1) */
#define GK_FUSED_DEF1(D, KIND, KN, ATTR, FAST)                                    \
    ATTR GK_NO_UNSWITCH static void GK_CAT(GK_CAT(KN, GK_SFX), D)(GK_FUSED_ARGS)  \
    {                                                                             \
        GK_FUSED(X, X_end, rs, D, y, sw, w, fit_intercept, KIND, delta, rows, start, \
                 step, k0, k1, g, res, FAST, 8);                                  \
    }
#define GK_FUSED_DEF3(D, ATTR, FAST, SQ, LG, HU)                                  \
    GK_FUSED_DEF1(D, GK_LOSS_SQUARED, SQ, ATTR, FAST)                             \
    GK_FUSED_DEF1(D, GK_LOSS_LOGISTIC, LG, ATTR, FAST)                            \
    GK_FUSED_DEF1(D, GK_LOSS_HUBER, HU, ATTR, FAST)
/* The logistic loss in the fast variant: data in cache goes to a function of
   its own (its own registers and stack: the pair loop's code stays as it was)
   that runs 32 rows per iteration (GK_MULTI). Measured with bench/c on 1,000
   rows (Intel Xeon, AVX-512): 20-30% faster for float64 at d = 10 and 16, 20%
   for float32 at d = 10 and 32. Streaming ranges keep 8 rows per iteration:
   larger ones made that loop 15-30% slower. Either way the bits are those of
   the pair loop. Least squares with 32-row iterations was 25-50% slower (d = 10,
   16, float32 32), so it keeps 8. */
#define GK_NMULTI 32
#define GK_FUSED_DEFLG(D, KN, ATTR)                                               \
    ATTR GK_NO_UNSWITCH __attribute__((noinline)) static void                     \
    GK_CAT(GK_CAT(GK_CAT(KN, m), GK_SFX), D)(GK_FUSED_ARGS)                       \
    {                                                                             \
        GK_FUSED(X, X_end, rs, D, y, sw, w, fit_intercept, GK_LOSS_LOGISTIC, delta, \
                 rows, start, step, k0, k1, g, res, 1, GK_NMULTI);                \
    }                                                                             \
    ATTR GK_NO_UNSWITCH static void GK_CAT(GK_CAT(KN, GK_SFX), D)(GK_FUSED_ARGS)  \
    {                                                                             \
        if (!GK_STREAMS(k1 - k0, D * (gk_intp)sizeof(GK_XT))) {                  \
            GK_CAT(GK_CAT(GK_CAT(KN, m), GK_SFX), D)(X, X_end, rs, y, sw, w,      \
                fit_intercept, delta, rows, start, step, k0, k1, g, res);         \
            return;                                                               \
        }                                                                         \
        GK_FUSED(X, X_end, rs, D, y, sw, w, fit_intercept, GK_LOSS_LOGISTIC, delta, \
                 rows, start, step, k0, k1, g, res, 1, 8);                        \
    }
#define GK_FUSEDF_DEF3(D, ATTR, SQ, LG, HU)                                       \
    GK_FUSED_DEF1(D, GK_LOSS_SQUARED, SQ, ATTR, 1)                                \
    GK_FUSED_DEFLG(D, LG, ATTR)                                                   \
    GK_FUSED_DEF1(D, GK_LOSS_HUBER, HU, ATTR, 1)
#define GK_FUSED_NAME(KN, D) GK_CAT(GK_CAT(KN, GK_SFX), D),
/* [kind][d - 1]: the kinds in the order of their GK_LOSS_* values */
#define GK_FUSED_TAB(TAB, SQ, LG, HU)                                             \
    static const GK_CAT(gk_fused_fn, GK_SFX) GK_CAT(TAB, GK_SFX)[3][GK_FUSED_MAXD] = { \
        {GK_DLIST(GK_FUSED_NAME, SQ)},                                            \
        {GK_DLIST(GK_FUSED_NAME, LG)},                                            \
        {GK_DLIST(GK_FUSED_NAME, HU)},                                            \
    };
#define GK_D16(M, A) M(A, 1) M(A, 2) M(A, 3) M(A, 4) M(A, 5) M(A, 6) M(A, 7) M(A, 8) \
    M(A, 9) M(A, 10) M(A, 11) M(A, 12) M(A, 13) M(A, 14) M(A, 15) M(A, 16)
#define GK_D32(M, A) GK_D16(M, A) M(A, 17) M(A, 18) M(A, 19) M(A, 20) M(A, 21) M(A, 22) \
    M(A, 23) M(A, 24) M(A, 25) M(A, 26) M(A, 27) M(A, 28) M(A, 29) M(A, 30) M(A, 31) M(A, 32)
#if GK_IS_F32
#define GK_FUSED_MAXD 32
#define GK_DLIST GK_D32
#else
#define GK_FUSED_MAXD 16
#define GK_DLIST GK_D16
#endif
#if GK_LOSS_SQUARED != 0 || GK_LOSS_LOGISTIC != 1 || GK_LOSS_HUBER != 2
#error "gk_fused_tab assumes GK_LOSS_SQUARED, _LOGISTIC, _HUBER = 0, 1, 2"
#endif
#define GK_FUSED_DEF_(A, D) GK_FUSED_DEF3(D, GK_CLONES, 0, gk_fused_sq, gk_fused_lg, gk_fused_hu)
GK_DLIST(GK_FUSED_DEF_, 0)
GK_FUSED_TAB(gk_fused_tab, gk_fused_sq, gk_fused_lg, gk_fused_hu)
#if GK_HAVE_FAST
#define GK_FUSEDF_DEF_(A, D) GK_FUSEDF_DEF3(D, GK_FAST, gk_fusedf_sq, gk_fusedf_lg, gk_fusedf_hu)
GK_DLIST(GK_FUSEDF_DEF_, 0)
GK_FUSED_TAB(gk_fusedf_tab, gk_fusedf_sq, gk_fusedf_lg, gk_fusedf_hu)
#undef GK_FUSEDF_DEF_
#endif
#undef GK_FUSED_DEF_
#undef GK_FUSED_DEF3
#undef GK_FUSEDF_DEF3
#undef GK_FUSED_DEFLG
#undef GK_FUSED_DEF1
#undef GK_NMULTI
#undef GK_STREAMS
#undef GK_FUSED_TAB
#undef GK_FUSED_NAME
#undef GK_DLIST
#undef GK_D16
#undef GK_D32
#undef GK_FUSED_ARGS
#endif

#if GK_HAVE_FAST
#define GK_PIPE GK_CAT(gk_lin_pipe8, GK_SFX)
#define GK_PIPE_MAXV 32  /* vectors of 8 lanes per row: d <= 256 */
/* Software prefetch where the range streams from memory, in groups of 8 rows
   ahead: float32, 2 groups (16 rows) into L1; float64 into L2 only, by
   vectors per row: 8 groups (64 rows) for d <= 24 and 40 < d <= 48, 4 groups
   (32 rows) for 24 < d <= 32, 2 groups (16 rows) for 32 < d <= 40 and
   48 < d <= 64; float64 above d = 64, none (see GK_PIPE). */
#if GK_IS_F32
#define GK_PIPE_PF_AHEAD(nv8) 2
#define GK_PIPE_PF_LOC 3
#else
#define GK_PIPE_PF_AHEAD(nv8) ((nv8) <= 3 || (nv8) == 6 ? 8 : (nv8) == 4 ? 4 : 2)
#define GK_PIPE_PF_LOC 2
#endif
#define GK_PIPE_ARGS                                                              \
    const GK_XT *X, const char *X_end, gk_intp rs, gk_intp d, const double *y,    \
    const double *sw, const double *w, int fit_intercept, double delta,           \
    gk_intp start, gk_intp k0, gk_intp k1, double *g, double *res
/* The fast variant for 16 < d <= 256 (nv8 = 3 to 32 vectors of 8 lanes per
   row, float32 widened to float64; the lanes past d masked to +0 for the
   margins, never stored for the gradient) over the contiguous rows k0:k1 (row
   k at start + k): whole groups of 8 rows, software-pipelined. Iteration q
   computes the margins of group q, the losses of group q - 1 (one 8-lane
   gk_v_loss8 call, whose inputs are then ready: the chain of exp, divisions
   and log1p does not wait for memory) and the gradient of group q - 2 (its
   rows 2-32 KB back, in L1), so that the loss chain never sits between a
   group's loads and its gradient. Margins: each row's 8-lane partial sums,
   the 8 rows reduced together (gk_v_hsum8x8). Where the range streams from
   memory it prefetches: float32 16 rows ahead into L1; float64 16-64 rows
   ahead by d (GK_PIPE_PF_AHEAD) into L2 only (prefetcht1); float64 above
   d = 64 not at all. Streaming float64 (d <= 64) runs a second copy (roll =
   1, its own functions in gk_pipe_tab[1]) whose margin loop takes one row per
   iteration instead of all 8 unrolled: the same sums in the same order, so
   bitwise the same results.
   Chosen on X in 2 MB pages, as numpy gives arrays of 4 MB and more (madvise;
   an earlier tuning on 4 KB pages had found no consistent difference),
   bench/c/objectives_stream.c, two threads, 1e6 x 32 float64 logistic: 16 rows
   into L1 1.6-1.8x the time of a plain read of X, none 1.5-1.6x, 32-96 rows
   into L2 1.35-1.5x; d = 24 and 64 8% faster than 16 rows into L1, d = 128
   and 256 without prefetch 20-25% faster than with (into L1 or L2); least
   squares at d = 32 on par, at d = 64 ~5% slower (within the noise).
   float32 into L2: on par at d = 32, ~12% slower at d = 64; without
   prefetch 1.3x slower at d = 32, ~5% at d = 64. Those were Intel Xeon
   (Sapphire Rapids class) numbers. On an AMD EPYC (Zen 4, 1 MB L2 a core;
   its memory bandwidth moves between ~36 and ~70 GB/s from one few-second
   window to the next), logistic float64, 256 MB of X, two threads, the
   loop's time over a plain read of X timed alternately with it, at the
   high / low bandwidth level (bench/c/objectives_stream.c and the same
   functions called from Python on numpy arrays; stop 19): the one-row margin
   loop at the distances above, against the unrolled one 64 rows ahead (the
   code before): d = 24 (64 rows ahead) 1.22 / 1.12
   against 1.40 / 1.15; d = 32 (32 rows ahead) 1.35-1.43 / 1.15 against
   1.55-1.65 / 1.20; d = 40 (16 rows) 1.55-1.61 / 1.16 against 1.79-1.82 /
   1.27; d = 64 (16 rows) 1.59-1.74 / 1.20-1.26 against 2.4-2.6 / 1.53-1.55;
   least squares d = 32 1.47-1.50 / 1.12-1.15 against 1.67-1.75 / 1.21-1.25,
   d = 64 1.82-2.1 / 1.29-1.39 against 2.24-2.41 / 1.52-1.57; d = 48 and 56
   unchanged in the direct comparison (~1.45 at the low level; at d = 48 no
   distance from 8 to 64 rows did better with either loop; at d = 56 one
   sweep gave 1.30-1.36 for 16 rows ahead, not seen again). The unrolled loop with the new distances was
   no faster than with the old ones, and the one-row loop with the old ones
   (8 groups) lost most of the gain at d = 40 and 64; unrolling by 2 or 4
   timed like 1. In cache (2 MB, two threads) the one-row loop was 0-13%
   slower, hence the second copy (both loops in one function, picked by a
   flag, lost most of the streaming gain: register allocation). Why the one
   row per iteration streams better was not pinned down (no performance
   counters in that VM). float32 kept its unrolled loop (the one-row loop
   timed alike at d = 32 and up to 8% slower at d = 64).
   In float64 the prefetch locality is read from a variable gcc cannot see
   (an empty asm) and tested for each prefetch (stop 20): the prefetch loop
   gains an address computation, a compare and a not-taken branch per
   prefetch (the rest of the code reads the same, registers assigned
   differently), yet the whole loop streams faster on that AMD EPYC (medians,
   same functions called from Python, 256 MB of X, two threads, high / low
   level, constant -> tested): logistic float64 d = 32 1.43 / 1.15 -> 1.22 /
   1.08, d = 40 1.55 / 1.14 -> 1.40 / 1.11, d = 48 2.33 / 1.46 -> 1.47 /
   1.17, d = 56 2.22 / 1.39 -> 1.55 / 1.17, d = 64 1.61 / 1.22 -> 1.31 /
   1.15; least squares d = 32 1.46 / 1.12 -> 1.15 / 1.10, d = 64 1.79 / 1.25
   -> 1.42 / 1.16; d = 24 mixed at the high level (in 61-70 samples:
   least squares 1.33 -> 1.31, logistic 1.34 -> 1.40, and 16, 32 or 96 rows
   ahead instead of 64 did not recover it: 1.86, 1.41, 1.47), alike at the
   low; float32 keeps the constant (tested, logistic d = 32 and 64 timed
   alike, least squares d = 64 16% slower). Found by taking the stop-18 harness's run-time knobs out
   one at a time; a never-taken branch of another form, moving the address
   into a register, a run-time distance, or 2-6 nops per prefetch did not do
   the same. Why, not found. Against the
   loops it replaces (float64: the blocked loop for d <= 32, the general one
   above; float32 d > 32: the general one), both timed in one process, two
   threads: on 1,000-4,000 rows in cache 1.35-2x faster up to d = 100,
   1.1-1.3x at d = 128 and 256; streaming 1e6 x 32 float64, least squares
   9.5 ms against 12.1 and logistic 12.7 against 14.4 (a plain read of X:
   7.5 ms); 5e5 x 64 float64, 10.6 against 16.5 and 11.6 against 17.5;
   float32 at d = 48 and 64, 1.5-1.9x faster streaming and in cache; float64
   d = 100 1.2-1.3x, d = 128 and 256 on par. Lagging the loss by two groups
   instead of one (a throwaway C test) made no difference. The logistic loss
   still streams slower than least squares although it costs only ~1.5 ns
   more per row in cache. Returns the rows done: the whole groups whose rows
   can be read as nv8 whole vectors (the caller runs the rest). Same sums in
   the same order for a given (k0, k1), so deterministic; rounds differently
   from the other loops. */
GK_VINLINE gk_intp GK_PIPE(GK_PIPE_ARGS, const int kind, const gk_intp nv8,
                           const int roll)
{
    const GK_XT *x0 = X + (start + k0) * rs;
    const gk_intp gs = 8 * rs, rowb = d * (gk_intp)sizeof(GK_XT);
    const gk_v8i mk = (gk_v8i){0, 1, 2, 3, 4, 5, 6, 7} < GK_SPLATI8(d - 8 * (nv8 - 1));
    const gk_v8d zero = GK_SPLAT8(0.0), one = GK_SPLAT8(1.0), dv = GK_SPLAT8(delta);
    const gk_v8d bv = GK_SPLAT8(fit_intercept ? w[d] : 0.0);
    gk_v8d wv[GK_PIPE_MAXV], gv[GK_PIPE_MAXV], Lv = zero, Sv = zero, Bv = zero, zp = zero, dzp = zero;
    double tmp[8 * GK_PIPE_MAXV];
    gk_intp m = (k1 - k0) / 8, q, c, r, j;
    int streams, pf_loc = GK_PIPE_PF_LOC;
    /* float64: the prefetch locality as a value gcc cannot see, tested for
       each prefetch below; with the constant compiled in, the loop streamed
       up to 1.6x slower on Zen 4 (see above). float32 keeps the constant. */
    if (!GK_IS_F32)
        __asm__("" : "+r"(pf_loc));
    while (m > 0 && (uintptr_t)(x0 + (8 * m - 1) * rs + 8 * nv8) > (uintptr_t)X_end)
        m--;
    if (m == 0)
        return 0;
    streams = 8 * m * rowb >= GK_PF_MIN_BYTES && (GK_IS_F32 || nv8 <= 8);
    for (j = 0; j < 8 * nv8; j++)
        tmp[j] = j < d ? w[j] : 0.0;
    for (c = 0; c < nv8; c++)
        wv[c] = gk_vload8_double(tmp + 8 * c);
    for (j = 0; j < 8 * nv8; j++)
        tmp[j] = g && j < d ? g[j] : 0.0;
    for (c = 0; c < nv8; c++)
        gv[c] = gk_vload8_double(tmp + 8 * c);
    for (q = 0; q < m + 2; q++) {
        gk_v8d z = zero, dz = zero;
        if (q < m) {
            const GK_XT *x = x0 + q * gs;
            gk_v8d a[8];
            if (streams && q + GK_PIPE_PF_AHEAD(nv8) < m) {
                const char *p = (const char *)(x + GK_PIPE_PF_AHEAD(nv8) * gs);
                for (r = 0; r < 8; r++)
                    for (j = 0; j < rowb; j += 64) {
                        const char *pa = p + r * rs * (gk_intp)sizeof(GK_XT) + j;
                        if (pf_loc == 2)
                            __builtin_prefetch(pa, 0, 2);
                        else if (pf_loc == 3)
                            __builtin_prefetch(pa, 0, 3);
                        else
                            __builtin_prefetch(pa, 0, 1);
                    }
            }
#define GK_PIPE_MARGIN                                                            \
    {                                                                             \
        const GK_XT *xr = x + r * rs;                                             \
        a[r] = GK_LOADX8(xr) * wv[0];                                             \
        for (c = 1; c < nv8 - 1; c++)                                             \
            a[r] += GK_LOADX8(xr + 8 * c) * wv[c];                                \
        a[r] += gk_v_and8(GK_LOADX8(xr + 8 * (nv8 - 1)), mk) * wv[nv8 - 1];       \
    }
            if (roll) {
                /* one row per iteration (a constant: one of the two loops is
                   compiled into each function) */
#pragma GCC unroll 1
                for (r = 0; r < 8; r++)
                    GK_PIPE_MARGIN
            } else {
                for (r = 0; r < 8; r++)
                    GK_PIPE_MARGIN
            }
#undef GK_PIPE_MARGIN
            z = gk_v_hsum8x8(a) + bv;
        }
        if (q >= 1 && q <= m) {
            const gk_intp kk = start + k0 + 8 * (q - 1);
            const gk_v8d sv = sw ? gk_vload8_double(sw + kk) : one;
            Lv += gk_v_loss8(kind, zp, gk_vload8_double(y + kk), sv, dv, &dz);
            Sv += sv;
        }
        if (q >= 2 && g) {
            const GK_XT *x = x0 + (q - 2) * gs;
            for (r = 0; r < 8; r++) {
                const gk_v8d a = GK_SPLAT8(dzp[r]);
                for (c = 0; c < nv8; c++)
                    gv[c] += a * GK_LOADX8(x + r * rs + 8 * c);
            }
            Bv += dzp;
        }
        zp = z;
        dzp = dz;
    }
    if (g) {
        for (c = 0; c < nv8; c++)
            memcpy(tmp + 8 * c, &gv[c], sizeof gv[c]);
        for (j = 0; j < d; j++)
            g[j] = tmp[j];
        if (fit_intercept)
            g[d] += ((Bv[0] + Bv[1]) + (Bv[2] + Bv[3])) + ((Bv[4] + Bv[5]) + (Bv[6] + Bv[7]));
    }
    res[0] += ((Lv[0] + Lv[1]) + (Lv[2] + Lv[3])) + ((Lv[4] + Lv[5]) + (Lv[6] + Lv[7]));
    res[1] += ((Sv[0] + Sv[1]) + (Sv[2] + Sv[3])) + ((Sv[4] + Sv[5]) + (Sv[6] + Sv[7]));
    return 8 * m;
}
/* one function per (nv8, loss kind), so both are constants inside; above
   d = 64 one per loss kind, nv8 a run-time value (the loops over a row's
   vectors not unrolled; weights and gradient partly on the stack) */
typedef gk_intp (*GK_CAT(gk_pipe_fn, GK_SFX))(GK_PIPE_ARGS);
#define GK_PIPE_DEF(NAME, KIND, NV, ROLL)                                         \
    GK_FAST GK_NO_UNSWITCH static gk_intp NAME(GK_PIPE_ARGS)                      \
    {                                                                             \
        return GK_PIPE(X, X_end, rs, d, y, sw, w, fit_intercept, delta, start, k0, k1, g, \
                       res, KIND, NV, ROLL);                                      \
    }
#define GK_PIPE_NAME(KN, NV) GK_CAT(GK_CAT(KN, GK_SFX), NV)
#define GK_PIPE_DEF3(NV, ROLL, SQ, LG, HU)                                        \
    GK_PIPE_DEF(GK_PIPE_NAME(SQ, NV), GK_LOSS_SQUARED, NV, ROLL)                  \
    GK_PIPE_DEF(GK_PIPE_NAME(LG, NV), GK_LOSS_LOGISTIC, NV, ROLL)                 \
    GK_PIPE_DEF(GK_PIPE_NAME(HU, NV), GK_LOSS_HUBER, NV, ROLL)
#define GK_PIPE_DEF36(ROLL, SQ, LG, HU)                                           \
    GK_PIPE_DEF3(3, ROLL, SQ, LG, HU) GK_PIPE_DEF3(4, ROLL, SQ, LG, HU)           \
    GK_PIPE_DEF3(5, ROLL, SQ, LG, HU) GK_PIPE_DEF3(6, ROLL, SQ, LG, HU)           \
    GK_PIPE_DEF3(7, ROLL, SQ, LG, HU) GK_PIPE_DEF3(8, ROLL, SQ, LG, HU)
GK_PIPE_DEF36(0, gk_pipe_sq, gk_pipe_lg, gk_pipe_hu)
GK_PIPE_DEF(GK_PIPE_NAME(gk_pipe_sq, g), GK_LOSS_SQUARED, (d + 7) / 8, 0)
GK_PIPE_DEF(GK_PIPE_NAME(gk_pipe_lg, g), GK_LOSS_LOGISTIC, (d + 7) / 8, 0)
GK_PIPE_DEF(GK_PIPE_NAME(gk_pipe_hu, g), GK_LOSS_HUBER, (d + 7) / 8, 0)
#define GK_PIPE_ROW(KN, KG)                                                       \
    {GK_PIPE_NAME(KN, 3), GK_PIPE_NAME(KN, 4), GK_PIPE_NAME(KN, 5), GK_PIPE_NAME(KN, 6), \
     GK_PIPE_NAME(KN, 7), GK_PIPE_NAME(KN, 8), GK_PIPE_NAME(KG, g)}
#if GK_IS_F32
#define GK_PIPE_ROLLED(KR, KN) GK_PIPE_ROW(KN, KN)
#else
/* streaming float64 (d <= 64): the margins one row per iteration, a second
   function per (nv8, loss kind) */
GK_PIPE_DEF36(1, gk_pipe_sqr, gk_pipe_lgr, gk_pipe_hur)
#define GK_PIPE_ROLLED(KR, KN) GK_PIPE_ROW(KR, KN)
#endif
/* [streaming][kind][nv8 <= 8 ? nv8 - 3 : 6] */
static const GK_CAT(gk_pipe_fn, GK_SFX) GK_CAT(gk_pipe_tab, GK_SFX)[2][3][7] = {
    {GK_PIPE_ROW(gk_pipe_sq, gk_pipe_sq), GK_PIPE_ROW(gk_pipe_lg, gk_pipe_lg),
     GK_PIPE_ROW(gk_pipe_hu, gk_pipe_hu)},
    {GK_PIPE_ROLLED(gk_pipe_sqr, gk_pipe_sq), GK_PIPE_ROLLED(gk_pipe_lgr, gk_pipe_lg),
     GK_PIPE_ROLLED(gk_pipe_hur, gk_pipe_hu)}};
#undef GK_PIPE_ROLLED
#undef GK_PIPE_DEF36
#undef GK_PIPE_ROW
#undef GK_PIPE_DEF3
#undef GK_PIPE_NAME
#undef GK_PIPE_DEF
#undef GK_PIPE_ARGS
#undef GK_PIPE
#undef GK_PIPE_MAXV
#undef GK_PIPE_PF_AHEAD
#undef GK_PIPE_PF_LOC
#endif

GK_CLONES
static void GK_CAT(gk_lin_rows_c, GK_SFX)(
    const GK_XT *X, const char *X_end, gk_intp rs, gk_intp d, const double *y, const double *sw,
    const double *w, int fit_intercept, int kind, double delta,
    const gk_intp *rows, gk_intp start, gk_intp step, gk_intp k0, gk_intp k1,
    double *g, double *res)
{
    double zb[GK_BLOCK], yb[GK_BLOCK], sb[GK_BLOCK], ab[GK_BLOCK];
    const GK_XT *xp[GK_BLOCK];
    double b = fit_intercept ? w[d] : 0.0, L = 0.0, S = 0.0;
    gk_intp kb, t, nb, j;
#if GK_HAVE_FAST
    if (gk_use_fast && d > 16 && d <= 256 && kind >= 0 && kind <= 2 && !rows && step == 1 &&
        (d > GK_FUSED_MAXD || (k1 - k0) * d * (gk_intp)sizeof(GK_XT) >= GK_PF_MIN_BYTES)) {
        /* contiguous rows, 16 < d <= 256 (GK_PIPE_MAXV vectors): the pipelined
           loop, the rest (the last rows) below. For float32 with d <= 32 only where the range streams:
           on 3.2e7 / d rows (128 MB) it ran 1.2-1.25x faster than the
           one-pass loop at d = 24 and 32, while in cache (1.28e5 / d rows,
           512 KB) that loop's 32-row logistic iterations were ~5% faster and
           least squares ~5% slower (timed in one process, two threads). */
        k0 += GK_CAT(gk_pipe_tab, GK_SFX)[(k1 - k0) * d * (gk_intp)sizeof(GK_XT) >=
                                          GK_PF_MIN_BYTES][kind][d <= 64 ? (d + 7) / 8 - 3 : 6](
            X, X_end, rs, d, y, sw, w, fit_intercept, delta, start, k0, k1, g, res);
        if (k0 >= k1)
            return;
    }
#endif
#if GK_HAVE_FAST
    if (gk_use_fast && d >= 1 && d <= GK_FUSED_MAXD && kind >= 0 && kind <= 2) {
        /* the fast variant (AVX-512VL + FMA) of the one-pass loop */
        GK_CAT(gk_fusedf_tab, GK_SFX)[kind][d - 1](X, X_end, rs, y, sw, w, fit_intercept,
                                                   delta, rows, start, step, k0, k1, g, res);
        return;
    }
#endif
#if GK_HAVE_VEC
    gk_prefetch pf;
    if (d >= 1 && d <= GK_FUSED_MAXD && kind >= 0 && kind <= 2) {
        /* small d: the one-pass loop, a function per d and loss kind */
        GK_CAT(gk_fused_tab, GK_SFX)[kind][d - 1](X, X_end, rs, y, sw, w, fit_intercept,
                                                  delta, rows, start, step, k0, k1, g, res);
        return;
    }
    switch (d) {   /* float64, 16 < d <= 32: the blocked loop, a copy per d, unrolled */
#define GK_SMALL_CASE(D) \
    case D: GK_SMALL(X, rs, D, y, sw, w, fit_intercept, kind, delta, rows, start, step, \
                     k0, k1, g, res); return;
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
#undef GK_FUSED
#undef GK_FUSED_MAXD
#undef GK_MARGINS
#undef GK_GRAD4
#undef GK_PAIR
#undef GK_MULTI
#undef GK_MARGINS8
#undef GK_GRAD8
#undef GK_LOADX8
#undef GK_PAD
#undef GK_CAT
#undef GK_CAT_
