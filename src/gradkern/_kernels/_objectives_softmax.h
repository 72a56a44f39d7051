/* Template body of _objectives_simd.h, included once per X dtype with GK_XT (the
 * element type), GK_SFX (the name suffix) and GK_IS_F32 defined. No include guard.
 *
 * gk_softmax_rows_c_{f64,f32}: softmax cross-entropy over dense rows with unit
 * column stride (C order, any row stride), for up to GK_SM_MAXK classes. Rows go
 * 4 at a time, a small matrix product each way: the class scores of the 4 rows
 * (classes in vector lanes, padded to a multiple of 4; each W row loaded once for
 * the 4), their losses, then the gradient G[j, :] += sum_r x_r[j] dz_r read and
 * written once per 4 rows. The per-row loop it replaces (_softmax_rows in
 * _objectives.pyx, still used for CSR, strided columns and more classes) read and
 * wrote G once per row and class scores one row at a time. */

#define GK_CAT_(a, b) a##_##b
#define GK_CAT(a, b) GK_CAT_(a, b)
#define GK_SM_BLOCK GK_CAT(gk_softmax_block, GK_SFX)
#define GK_SM_LOOP GK_CAT(gk_softmax_loop, GK_SFX)

#if GK_HAVE_VEC
#ifndef GK_SM_HELPERS
#define GK_SM_HELPERS
/* class indices of vector v's lanes; the score of padding classes */
#define GK_SM_IDX(v) ((gk_v4d){4.0 * (v), 4.0 * (v) + 1, 4.0 * (v) + 2, 4.0 * (v) + 3})
#define GK_SM_LOW (-1.79769313486231570e308)
/* Lane r of the result: the max (min) of a_r's 4 lanes, paired as gk_v_hsum4. */
GK_VINLINE gk_v4d gk_sm_max(gk_v4d a, gk_v4d b)
{
    return gk_v_sel(a > b, a, b);
}
GK_VINLINE gk_v4d gk_sm_min(gk_v4d a, gk_v4d b)
{
    return gk_v_sel(a < b, a, b);
}
GK_VINLINE gk_v4d gk_sm_hmax4(gk_v4d a0, gk_v4d a1, gk_v4d a2, gk_v4d a3)
{
    gk_v4d h01 = gk_sm_max(GK_SHUF2(a0, a1, 0, 4, 2, 6), GK_SHUF2(a0, a1, 1, 5, 3, 7));
    gk_v4d h23 = gk_sm_max(GK_SHUF2(a2, a3, 0, 4, 2, 6), GK_SHUF2(a2, a3, 1, 5, 3, 7));
    return gk_sm_max(GK_SHUF2(h01, h23, 0, 1, 4, 5), GK_SHUF2(h01, h23, 2, 3, 6, 7));
}
GK_VINLINE gk_v4d gk_sm_hmin4(gk_v4d a0, gk_v4d a1, gk_v4d a2, gk_v4d a3)
{
    gk_v4d h01 = gk_sm_min(GK_SHUF2(a0, a1, 0, 4, 2, 6), GK_SHUF2(a0, a1, 1, 5, 3, 7));
    gk_v4d h23 = gk_sm_min(GK_SHUF2(a2, a3, 0, 4, 2, 6), GK_SHUF2(a2, a3, 1, 5, 3, 7));
    return gk_sm_min(GK_SHUF2(h01, h23, 0, 1, 4, 5), GK_SHUF2(h01, h23, 2, 3, 6, 7));
}
/* log1p(e) for 0 <= e < 2^52: gk_v_log1p_01 itself for e <= 1; above, with
   1 + e = 2^k f (1 <= f < 2, both exact from the bits), k ln 2 +
   gk_v_log1p_01(f - 1) (f - 1 exact). */
GK_VINLINE gk_v4d gk_sm_log1p(gk_v4d e)
{
    const gk_v4i big = e > GK_SPLAT(1.0);
    const gk_v4d u = GK_SPLAT(1.0) + e;
    const gk_v4i ub = (gk_v4i)u;
    const gk_v4i kb = (ub >> 52) - GK_SPLATI(1023);    /* u > 0: no sign bit */
    const gk_v4d f = (gk_v4d)((ub & GK_SPLATI(0x000fffffffffffffLL)) |
                              GK_SPLATI(0x3ff0000000000000LL));
    /* k as a double: 2^52 + k from the bits, minus 2^52 (0 <= k < 2^52) */
    const gk_v4d kd = (gk_v4d)(kb | GK_SPLATI(0x4330000000000000LL)) -
                      GK_SPLAT(4503599627370496.0);
    const gk_v4d arg = gk_v_sel(big, f - GK_SPLAT(1.0), e);
    const gk_v4d k = gk_v_sel(big, kd, GK_SPLAT(0.0));
    return k * GK_SPLAT(0.69314718055994530942) + gk_v_log1p_01(arg);
}
#endif

/* The 4 rows x[0:4] (labels lab[0:4], weights s[0:4]; a missing row is a copy of
   row 0 with weight 0), nk vectors of classes (a constant wherever this is
   inlined): sum_r s_r loss_r added to the lanes of *L4, the gradient (with_g)
   to Gp (d rows of 4 nk). */
GK_VINLINE void GK_SM_BLOCK(const int nk, const GK_XT *const *x, const gk_intp d,
                            const double *Wp, const gk_intp K, const gk_intp *lab,
                            const double *s, double *Gp, int with_g, gk_v4d *L4)
{
    const gk_intp KP = 4 * nk;
    gk_v4d a[4][4], dz[4][4];
    gk_intp j;
    int r, v;
    for (r = 0; r < 4; r++)
        for (v = 0; v < nk; v++)
            a[r][v] = GK_SPLAT(0.0);
    /* scores: a[r][v] = sum_j x_r[j] W[j, 4v:4v+4] (one add chain per lane, j in
       order) */
    for (j = 0; j < d; j++) {
        gk_v4d wv[4];
        const gk_v4d x0 = GK_SPLAT((double)x[0][j]), x1 = GK_SPLAT((double)x[1][j]);
        const gk_v4d x2 = GK_SPLAT((double)x[2][j]), x3 = GK_SPLAT((double)x[3][j]);
        for (v = 0; v < nk; v++) {
            wv[v] = gk_vload_double(Wp + j * KP + 4 * v);
            a[0][v] += x0 * wv[v];
            a[1][v] += x1 * wv[v];
            a[2][v] += x2 * wv[v];
            a[3][v] += x3 * wv[v];
        }
    }
    /* losses: gk_softmax_dloss's form (the top class M apart: the sum is 1 + rest
       with rest = sum_{c != M} exp(z_c - max), loss log1p(rest) + max - z_label,
       and p_M - 1 = -rest / (1 + rest) when M is the label), classes in vector
       lanes; then each row's max, top class, rest and label score reduced into
       lane r of one vector (gk_v_hsum4's pairing), so the division and log1p run
       once for the 4 rows. Padded classes score -DBL_MAX: exp gives 0 there. */
    {
        gk_v4d z[4][4], e[4][4], mv[4], tv[4], rv[4], lv[4];
        gk_v4d M4, T4, R4, ZL4, INV4, SI4, NEG4;
        const gk_v4d S4 = gk_vload_double(s);
        const gk_v4d LAB4 = {(double)lab[0], (double)lab[1], (double)lab[2], (double)lab[3]};
        for (r = 0; r < 4; r++) {
            for (v = 0; v < nk; v++) {
                const gk_v4d idx = GK_SM_IDX(v);
                z[r][v] = 4 * v + 3 < K ? a[r][v]
                          : gk_v_sel(idx < GK_SPLAT((double)K), a[r][v], GK_SPLAT(GK_SM_LOW));
            }
            mv[r] = z[r][0];
            for (v = 1; v < nk; v++)
                mv[r] = gk_v_sel(z[r][v] > mv[r], z[r][v], mv[r]);
        }
        M4 = gk_sm_hmax4(mv[0], mv[1], mv[2], mv[3]);
        for (r = 0; r < 4; r++) {
            const gk_v4d Mr = GK_BCAST(M4, r), Lr = GK_BCAST(LAB4, r);
            tv[r] = GK_SPLAT(64.0);
            lv[r] = GK_SPLAT(0.0);
            for (v = 0; v < nk; v++) {
                const gk_v4d idx = GK_SM_IDX(v);
                const gk_v4d t = gk_v_sel(z[r][v] == Mr, idx, GK_SPLAT(64.0));
                tv[r] = gk_v_sel(t < tv[r], t, tv[r]);
                lv[r] += gk_v_sel(idx == Lr, z[r][v], GK_SPLAT(0.0));
                e[r][v] = gk_v_exp_neg(z[r][v] - Mr);
            }
        }
        T4 = gk_sm_hmin4(tv[0], tv[1], tv[2], tv[3]);
        for (r = 0; r < 4; r++) {
            const gk_v4d Tr = GK_BCAST(T4, r);
            rv[r] = gk_v_sel(GK_SM_IDX(0) == Tr, GK_SPLAT(0.0), e[r][0]);
            for (v = 1; v < nk; v++)
                rv[r] += gk_v_sel(GK_SM_IDX(v) == Tr, GK_SPLAT(0.0), e[r][v]);
        }
        R4 = gk_v_hsum4(rv[0], rv[1], rv[2], rv[3]);
        ZL4 = gk_v_hsum4(lv[0], lv[1], lv[2], lv[3]);    /* one lane of each is not +0 */
        INV4 = GK_SPLAT(1.0) / (GK_SPLAT(1.0) + R4);
        *L4 += S4 * (gk_sm_log1p(R4) + (M4 - ZL4));
        SI4 = S4 * INV4;
        NEG4 = -(S4 * (R4 * INV4));
        if (!with_g)
            return;
        for (r = 0; r < 4; r++) {
            const gk_v4d Tr = GK_BCAST(T4, r), Lr = GK_BCAST(LAB4, r), SIr = GK_BCAST(SI4, r);
            const gk_v4d Sr = GK_BCAST(S4, r), NEGr = GK_BCAST(NEG4, r);
            for (v = 0; v < nk; v++) {
                const gk_v4d idx = GK_SM_IDX(v);
                /* s p_c (p_M = 1 / (1 + rest): exp(0) = 1); the label's lane
                   s (p - 1) */
                const gk_v4d p = gk_v_sel(idx == Tr, SIr, e[r][v] * SIr);
                const gk_v4d pl = gk_v_sel(Lr == Tr, NEGr, p - Sr);
                dz[r][v] = gk_v_sel(idx == Lr, pl, p);
            }
        }
    }
    /* gradient: G[j, 4v:4v+4] += (x0 dz0 + x1 dz1) + (x2 dz2 + x3 dz3) */
    for (j = 0; j < d; j++) {
        const gk_v4d x0 = GK_SPLAT((double)x[0][j]), x1 = GK_SPLAT((double)x[1][j]);
        const gk_v4d x2 = GK_SPLAT((double)x[2][j]), x3 = GK_SPLAT((double)x[3][j]);
        for (v = 0; v < nk; v++) {
            gk_v4d gv = gk_vload_double(Gp + j * KP + 4 * v);
            gv += (x0 * dz[0][v] + x1 * dz[1][v]) + (x2 * dz[2][v] + x3 * dz[3][v]);
            memcpy(Gp + j * KP + 4 * v, &gv, sizeof gv);
        }
    }
}

/* Rows k0:k1 of the minibatch (row i = rows[k], or start + k step) in blocks of 4,
   nk a constant wherever this is inlined. */
GK_VINLINE void GK_SM_LOOP(const int nk, const GK_XT *X, gk_intp rs, gk_intp d,
                           const gk_intp *labels, const double *sw, const double *Wp,
                           gk_intp K, const gk_intp *rows, gk_intp start, gk_intp step,
                           gk_intp k0, gk_intp k1, double *Gp, int with_g, double *res)
{
    gk_v4d L4 = GK_SPLAT(0.0);
    double S = 0.0;
    gk_intp k;
    for (k = k0; k < k1; k += 4) {
        const GK_XT *x[4];
        gk_intp lab[4];
        double s[4];
        int r;
        for (r = 0; r < 4; r++) {
            if (k + r < k1) {
                const gk_intp i = rows ? rows[k + r] : start + (k + r) * step;
                x[r] = X + i * rs;
                lab[r] = labels[i];
                s[r] = sw ? sw[i] : 1.0;
                S += s[r];
            } else {
                x[r] = x[0];
                lab[r] = 0;
                s[r] = 0.0;
            }
        }
        GK_SM_BLOCK(nk, x, d, Wp, K, lab, s, Gp, with_g, &L4);
    }
    res[0] += (L4[0] + L4[1]) + (L4[2] + L4[3]);
    res[1] += S;
}
#endif /* GK_HAVE_VEC */

#if GK_HAVE_VEC
/* The loop for the call's nk, one function per variant: GK_CLONES (AVX2 and
   baseline, bitwise the same) and, where built, GK_FAST (AVX-512 + FMA: the
   same operations, multiply-adds fused, so equal to rounding). */
#define GK_SM_ARGS                                                                \
    const GK_XT *X, gk_intp rs, gk_intp d, const gk_intp *labels, const double *sw, \
    const double *Wp, gk_intp K, const gk_intp *rows, gk_intp start, gk_intp step, \
    gk_intp k0, gk_intp k1, double *Gp, int with_g, double *res
#define GK_SM_PASS(NK) \
    GK_SM_LOOP(NK, X, rs, d, labels, sw, Wp, K, rows, start, step, k0, k1, Gp, with_g, res)
#define GK_SM_DEF(NAME, ATTR)                                                     \
    ATTR GK_NO_UNSWITCH static void NAME(GK_SM_ARGS)                             \
    {                                                                             \
        switch ((K + 3) / 4) {                                                    \
        case 1: GK_SM_PASS(1); break;                                             \
        case 2: GK_SM_PASS(2); break;                                             \
        case 3: GK_SM_PASS(3); break;                                             \
        default: GK_SM_PASS(4); break;                                            \
        }                                                                         \
    }
GK_SM_DEF(GK_CAT(gk_softmax_all, GK_SFX), GK_CLONES)
#if GK_HAVE_FAST
GK_SM_DEF(GK_CAT(gk_softmax_allf, GK_SFX), GK_FAST)
#endif
#undef GK_SM_DEF
#undef GK_SM_PASS
#undef GK_SM_ARGS
#endif /* GK_HAVE_VEC */

/* Softmax cross-entropy over rows k0:k1 of a minibatch of dense X with unit column
   stride (row stride rs elements), W = w.reshape(d, K) (C order): adds
   sum_i s_i loss_i to res[0], sum_i s_i to res[1] and, unless g is NULL, the raw
   gradient sum_i s_i dloss_i / dW to g (d * K). buf: 2 d 4 ceil(K / 4) doubles of
   scratch. Returns 0 (nothing done) where it does not apply: more than
   GK_SM_MAXK classes, or no vector extensions. */
static int GK_CAT(gk_softmax_rows_c, GK_SFX)(
    const GK_XT *X, gk_intp rs, gk_intp d, const gk_intp *labels, const double *sw,
    const double *W, gk_intp K, const gk_intp *rows, gk_intp start, gk_intp step,
    gk_intp k0, gk_intp k1, double *g, double *res, double *buf)
{
#if GK_HAVE_VEC
    const gk_intp KP = 4 * ((K + 3) / 4);
    double *Wp = buf, *Gp = buf + d * KP;
    gk_intp j, c;
    if (K > GK_SM_MAXK || K < 1)
        return 0;
    for (j = 0; j < d; j++)
        for (c = 0; c < KP; c++) {
            Wp[j * KP + c] = c < K ? W[j * K + c] : 0.0;
            Gp[j * KP + c] = 0.0;
        }
#if GK_HAVE_FAST
    if (gk_use_fast)
        GK_CAT(gk_softmax_allf, GK_SFX)(X, rs, d, labels, sw, Wp, K, rows, start, step, k0,
                                        k1, Gp, g != NULL, res);
    else
#endif
        GK_CAT(gk_softmax_all, GK_SFX)(X, rs, d, labels, sw, Wp, K, rows, start, step, k0,
                                       k1, Gp, g != NULL, res);
    if (g)
        for (j = 0; j < d; j++)
            for (c = 0; c < K; c++)
                g[j * K + c] += Gp[j * KP + c];
    return 1;
#else
    (void)X; (void)rs; (void)d; (void)labels; (void)sw; (void)W; (void)K; (void)rows;
    (void)start; (void)step; (void)k0; (void)k1; (void)g; (void)res; (void)buf;
    return 0;
#endif
}

#undef GK_SM_BLOCK
#undef GK_SM_LOOP
#undef GK_CAT
#undef GK_CAT_
