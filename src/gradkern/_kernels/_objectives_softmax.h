/* Template body of _objectives_simd.h, included once per X dtype with GK_XT (the
 * element type), GK_SFX (the name suffix) and GK_IS_F32 defined. No include guard.
 *
 * gk_softmax_rows_c_{f64,f32}: softmax cross-entropy over dense rows with unit
 * column stride (C order, any row stride); gk_softmax_rows_csr_{f64,f32}: over
 * CSR rows. Rows go 4 at a time, a small matrix product each way: the class
 * scores of the 4 rows (classes in vector lanes, padded; each W row loaded once
 * for the 4), their losses, then the gradient G[j, :] += sum_r x_r[j] dz_r, read
 * and written once per 4 rows. Up to 16 classes the scores stay in registers;
 * above, they go through a buffer, 16 classes at a time. CSR rows take the same
 * path, their scores and gradient over each row's nonzeros. The per-row loop
 * before it (_softmax_rows in _objectives.pyx, still used for strided columns
 * and very large scratch) read and wrote all of G for every row. */

#define GK_CAT_(a, b) a##_##b
#define GK_CAT(a, b) GK_CAT_(a, b)
#define GK_SM_ROWS GK_CAT(gk_softmax_rowset, GK_SFX)
#define GK_SM_SCORES GK_CAT(gk_softmax_scores, GK_SFX)
#define GK_SM_GRAD GK_CAT(gk_softmax_grad, GK_SFX)
#define GK_SM_BLOCK GK_CAT(gk_softmax_block, GK_SFX)
#define GK_SM_BLOCKG GK_CAT(gk_softmax_blockg, GK_SFX)
#define GK_SM_LOOP GK_CAT(gk_softmax_loop, GK_SFX)

#if GK_HAVE_VEC
#ifndef GK_SM_HELPERS
#define GK_SM_HELPERS
/* class indices of vector v's lanes; the score of padding classes */
#define GK_SM_IDX(v) (GK_SPLAT(4.0 * (double)(v)) + (gk_v4d){0.0, 1.0, 2.0, 3.0})
#define GK_SM_LOW (-1.79769313486231570e308)
#define GK_SM_NONE 1e300    /* no class */
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
/* Scores of classes 4v..4v+3, those past the K classes set to GK_SM_LOW. */
GK_VINLINE gk_v4d gk_sm_pad(gk_v4d z, gk_intp v, gk_intp K)
{
    return 4 * v + 3 < K ? z
                         : gk_v_sel(GK_SM_IDX(v) < GK_SPLAT((double)K), z, GK_SPLAT(GK_SM_LOW));
}
/* For the scores z of classes 4v..4v+3 of a row with max Mr and label Lr
   (splats): exp(z - max), returned; in *tv the least class whose score is the
   max (per lane, GK_SM_NONE elsewhere), in *lv the label's score (per lane,
   +0 elsewhere). */
GK_VINLINE gk_v4d gk_sm_exp_top_label(gk_v4d z, gk_intp v, gk_v4d Mr, gk_v4d Lr, gk_v4d *tv,
                                      gk_v4d *lv)
{
    const gk_v4d idx = GK_SM_IDX(v);
    *tv = gk_sm_min(gk_v_sel(z == Mr, idx, GK_SPLAT(GK_SM_NONE)), *tv);
    *lv += gk_v_sel(idx == Lr, z, GK_SPLAT(0.0));
    return gk_v_exp_neg(z - Mr);
}
/* acc + the exps e of classes 4v..4v+3 but the top class Tr's */
GK_VINLINE gk_v4d gk_sm_rest(gk_v4d e, gk_intp v, gk_v4d Tr, gk_v4d acc)
{
    return acc + gk_v_sel(GK_SM_IDX(v) == Tr, GK_SPLAT(0.0), e);
}
/* From the 4 rows' rest R4, label score ZL4, max M4 and weights S4: their
   weighted losses added to *L4, s / (1 + rest) to *SI4 and s (p_M - 1) for a top
   class that is the label to *NEG4. */
GK_VINLINE void gk_sm_finish4(gk_v4d R4, gk_v4d ZL4, gk_v4d M4, gk_v4d S4, gk_v4d *L4,
                              gk_v4d *SI4, gk_v4d *NEG4)
{
    const gk_v4d INV4 = GK_SPLAT(1.0) / (GK_SPLAT(1.0) + R4);
    *L4 += S4 * (gk_sm_log1p(R4) + (M4 - ZL4));    /* ZL4: one lane of each is not +0 */
    *SI4 = S4 * INV4;
    *NEG4 = -(S4 * (R4 * INV4));
}
/* s d loss / d z for classes 4v..4v+3 of a row (exps e, top class Tr, label Lr,
   s / (1 + rest) SIr, weight Sr, NEGr: splats): s p_c, with p_M = 1 / (1 + rest)
   (exp(0) = 1), and s (p - 1) in the label's lane. */
GK_VINLINE gk_v4d gk_sm_dz(gk_v4d e, gk_intp v, gk_v4d Tr, gk_v4d Lr, gk_v4d SIr, gk_v4d Sr,
                           gk_v4d NEGr)
{
    const gk_v4d idx = GK_SM_IDX(v);
    const gk_v4d p = gk_v_sel(idx == Tr, SIr, e * SIr);
    const gk_v4d pl = gk_v_sel(Lr == Tr, NEGr, p - Sr);
    return gk_v_sel(idx == Lr, pl, p);
}
#endif

/* The 4 rows of a block: dense, x[r] row r (unit column stride); CSR, row r's
   nonzeros data[q0[r]:q1[r]] in columns ind[q0[r]:q1[r]] (a missing row: none). */
typedef struct {
    const GK_XT *x[4];
    const GK_XT *data;
    const gk_intp *ind;
    gk_intp q0[4], q1[4];
} GK_SM_ROWS;

/* Class scores of the 4 rows for cw vectors of classes (cw and csr constants
   wherever this is inlined): a[r][v] = sum_j x_r[j] W[j, 4v:4v+4], W with row
   stride KP, one add chain per lane over j (dense: j in order, each W row
   loaded once for the 4 rows; CSR: the row's nonzeros in order). */
GK_VINLINE void GK_SM_SCORES(const int cw, const int csr, const GK_SM_ROWS *R,
                             const gk_intp d, const double *W, const gk_intp KP,
                             gk_v4d a[4][4])
{
    gk_intp j, q;
    int r, v;
    for (r = 0; r < 4; r++)
        for (v = 0; v < cw; v++)
            a[r][v] = GK_SPLAT(0.0);
    if (csr) {
        for (r = 0; r < 4; r++)
            for (q = R->q0[r]; q < R->q1[r]; q++) {
                const gk_v4d xq = GK_SPLAT((double)R->data[q]);
                const double *wr = W + R->ind[q] * KP;
                for (v = 0; v < cw; v++)
                    a[r][v] += xq * gk_vload_double(wr + 4 * v);
            }
        return;
    }
    for (j = 0; j < d; j++) {
        const gk_v4d x0 = GK_SPLAT((double)R->x[0][j]), x1 = GK_SPLAT((double)R->x[1][j]);
        const gk_v4d x2 = GK_SPLAT((double)R->x[2][j]), x3 = GK_SPLAT((double)R->x[3][j]);
        for (v = 0; v < cw; v++) {
            const gk_v4d wv = gk_vload_double(W + j * KP + 4 * v);
            a[0][v] += x0 * wv;
            a[1][v] += x1 * wv;
            a[2][v] += x2 * wv;
            a[3][v] += x3 * wv;
        }
    }
}

/* G[j, 4v:4v+4] += sum_r x_r[j] dz[r][v] for v < cw (cw and csr constants
   wherever this is inlined), G with row stride KP: dense,
   (x0 dz0 + x1 dz1) + (x2 dz2 + x3 dz3) for every j; CSR, the rows' nonzeros one
   after the other. */
GK_VINLINE void GK_SM_GRAD(const int cw, const int csr, const GK_SM_ROWS *R,
                           const gk_intp d, gk_v4d dz[4][4], double *G, const gk_intp KP)
{
    gk_intp j, q;
    int r, v;
    if (csr) {
        for (r = 0; r < 4; r++)
            for (q = R->q0[r]; q < R->q1[r]; q++) {
                const gk_v4d xq = GK_SPLAT((double)R->data[q]);
                double *gr = G + R->ind[q] * KP;
                for (v = 0; v < cw; v++) {
                    gk_v4d gv = gk_vload_double(gr + 4 * v);
                    gv += xq * dz[r][v];
                    memcpy(gr + 4 * v, &gv, sizeof gv);
                }
            }
        return;
    }
    for (j = 0; j < d; j++) {
        const gk_v4d x0 = GK_SPLAT((double)R->x[0][j]), x1 = GK_SPLAT((double)R->x[1][j]);
        const gk_v4d x2 = GK_SPLAT((double)R->x[2][j]), x3 = GK_SPLAT((double)R->x[3][j]);
        for (v = 0; v < cw; v++) {
            gk_v4d gv = gk_vload_double(G + j * KP + 4 * v);
            gv += (x0 * dz[0][v] + x1 * dz[1][v]) + (x2 * dz[2][v] + x3 * dz[3][v]);
            memcpy(G + j * KP + 4 * v, &gv, sizeof gv);
        }
    }
}

/* The losses of 4 rows, in gk_softmax_dloss's form: the top class M apart, the
   sum is 1 + rest with rest = sum_{c != M} exp(z_c - max), the loss
   log1p(rest) + max - z_label, and p_M - 1 = -rest / (1 + rest) when M is the
   label. The classes are in vector lanes; each row's max, top class, rest and
   label score are reduced into lane r of one vector (M4, T4, R4, ZL4;
   gk_v_hsum4's pairing), so the division and the log1p run once for the 4 rows.
   Padding classes score GK_SM_LOW: exp gives 0 there.

   Two forms: GK_SM_BLOCK keeps the rows' scores in registers (up to 4 vectors
   of classes); GK_SM_BLOCKG (more classes) keeps them in a buffer. */
GK_VINLINE void GK_SM_BLOCK(const int nk, const int csr, const GK_SM_ROWS *R,
                            const gk_intp d, const double *Wp, const gk_intp K,
                            const gk_intp *lab, const double *s, double *Gp, int with_g,
                            gk_v4d *L4)
{
    const gk_intp KP = 4 * nk;
    gk_v4d a[4][4], dz[4][4], e[4][4], mv[4], tv[4], rv[4], lv[4];
    gk_v4d M4, T4, SI4, NEG4;
    const gk_v4d S4 = gk_vload_double(s);
    const gk_v4d LAB4 = {(double)lab[0], (double)lab[1], (double)lab[2], (double)lab[3]};
    int r, v;
    GK_SM_SCORES(nk, csr, R, d, Wp, KP, a);
    for (r = 0; r < 4; r++) {
        for (v = 0; v < nk; v++)
            a[r][v] = gk_sm_pad(a[r][v], v, K);
        mv[r] = a[r][0];
        for (v = 1; v < nk; v++)
            mv[r] = gk_sm_max(a[r][v], mv[r]);
    }
    M4 = gk_sm_hmax4(mv[0], mv[1], mv[2], mv[3]);
    for (r = 0; r < 4; r++) {
        const gk_v4d Mr = GK_BCAST(M4, r), Lr = GK_BCAST(LAB4, r);
        tv[r] = GK_SPLAT(GK_SM_NONE);
        lv[r] = GK_SPLAT(0.0);
        for (v = 0; v < nk; v++)
            e[r][v] = gk_sm_exp_top_label(a[r][v], v, Mr, Lr, &tv[r], &lv[r]);
    }
    T4 = gk_sm_hmin4(tv[0], tv[1], tv[2], tv[3]);
    for (r = 0; r < 4; r++) {
        const gk_v4d Tr = GK_BCAST(T4, r);
        rv[r] = gk_sm_rest(e[r][0], 0, Tr, GK_SPLAT(0.0));
        for (v = 1; v < nk; v++)
            rv[r] = gk_sm_rest(e[r][v], v, Tr, rv[r]);
    }
    gk_sm_finish4(gk_v_hsum4(rv[0], rv[1], rv[2], rv[3]), gk_v_hsum4(lv[0], lv[1], lv[2], lv[3]),
                  M4, S4, L4, &SI4, &NEG4);
    if (!with_g)
        return;
    for (r = 0; r < 4; r++)
        for (v = 0; v < nk; v++)
            dz[r][v] = gk_sm_dz(e[r][v], v, GK_BCAST(T4, r), GK_BCAST(LAB4, r),
                                GK_BCAST(SI4, r), GK_BCAST(S4, r), GK_BCAST(NEG4, r));
    GK_SM_GRAD(nk, csr, R, d, dz, Gp, KP);
}

/* F(cw, ...) with cw = 1..4 a constant in each case */
#define GK_SM_BY_CW(cw, F, ...)                                                   \
    switch (cw) {                                                                 \
    case 1: F(1, __VA_ARGS__); break;                                             \
    case 2: F(2, __VA_ARGS__); break;                                             \
    case 3: F(3, __VA_ARGS__); break;                                             \
    default: F(4, __VA_ARGS__); break;                                            \
    }

/* The same for any number of classes (KP of them with the padding): scores 16
   classes at a time into zb (4 rows of KP), the loss stage over zb (exps and
   then the gradient's dz in place), the gradient 16 classes at a time. */
GK_VINLINE void GK_SM_BLOCKG(const int csr, const GK_SM_ROWS *R, const gk_intp d,
                             const double *Wp, const gk_intp K, const gk_intp KP,
                             const gk_intp *lab, const double *s, double *Gp, int with_g,
                             gk_v4d *L4, double *zb)
{
    const gk_intp nk = KP / 4;
    gk_v4d a[4][4], mv[4], tv[4], rv[4], lv[4];
    gk_v4d M4, T4, SI4, NEG4;
    const gk_v4d S4 = gk_vload_double(s);
    const gk_v4d LAB4 = {(double)lab[0], (double)lab[1], (double)lab[2], (double)lab[3]};
    gk_intp c, v;
    int r, u;
    for (c = 0; c < nk; c += 4) {
        const int cw = nk - c < 4 ? (int)(nk - c) : 4;
        GK_SM_BY_CW(cw, GK_SM_SCORES, csr, R, d, Wp + 4 * c, KP, a);
        for (r = 0; r < 4; r++)
            for (u = 0; u < cw; u++) {
                const gk_v4d z = gk_sm_pad(a[r][u], c + u, K);
                memcpy(zb + r * KP + 4 * (c + u), &z, sizeof z);
            }
    }
    for (r = 0; r < 4; r++) {
        mv[r] = gk_vload_double(zb + r * KP);
        for (v = 1; v < nk; v++)
            mv[r] = gk_sm_max(gk_vload_double(zb + r * KP + 4 * v), mv[r]);
    }
    M4 = gk_sm_hmax4(mv[0], mv[1], mv[2], mv[3]);
    for (r = 0; r < 4; r++) {
        const gk_v4d Mr = GK_BCAST(M4, r), Lr = GK_BCAST(LAB4, r);
        tv[r] = GK_SPLAT(GK_SM_NONE);
        lv[r] = GK_SPLAT(0.0);
        for (v = 0; v < nk; v++) {
            const gk_v4d e = gk_sm_exp_top_label(gk_vload_double(zb + r * KP + 4 * v), v, Mr,
                                                 Lr, &tv[r], &lv[r]);
            memcpy(zb + r * KP + 4 * v, &e, sizeof e);
        }
    }
    T4 = gk_sm_hmin4(tv[0], tv[1], tv[2], tv[3]);
    for (r = 0; r < 4; r++) {
        const gk_v4d Tr = GK_BCAST(T4, r);
        rv[r] = gk_sm_rest(gk_vload_double(zb + r * KP), 0, Tr, GK_SPLAT(0.0));
        for (v = 1; v < nk; v++)
            rv[r] = gk_sm_rest(gk_vload_double(zb + r * KP + 4 * v), v, Tr, rv[r]);
    }
    gk_sm_finish4(gk_v_hsum4(rv[0], rv[1], rv[2], rv[3]), gk_v_hsum4(lv[0], lv[1], lv[2], lv[3]),
                  M4, S4, L4, &SI4, &NEG4);
    if (!with_g)
        return;
    for (c = 0; c < nk; c += 4) {
        const int cw = nk - c < 4 ? (int)(nk - c) : 4;
        for (r = 0; r < 4; r++)
            for (u = 0; u < cw; u++)
                a[r][u] = gk_sm_dz(gk_vload_double(zb + r * KP + 4 * (c + u)), c + u,
                                   GK_BCAST(T4, r), GK_BCAST(LAB4, r), GK_BCAST(SI4, r),
                                   GK_BCAST(S4, r), GK_BCAST(NEG4, r));
        GK_SM_BY_CW(cw, GK_SM_GRAD, csr, R, d, a, Gp + 4 * c, KP);
    }
}

/* Rows k0:k1 of the minibatch (row i = rows[k], or start + k step) in blocks of 4,
   dense (csr = 0: row i at X + i rs) or CSR (csr = 1: data X, column indices
   ind, row pointers indptr): nk (a constant wherever this is inlined) vectors of
   classes in registers, or, nk = 0, KP classes through zb. */
GK_VINLINE void GK_SM_LOOP(const int nk, const int csr, const GK_XT *X, gk_intp rs,
                           const gk_intp *ind, const gk_intp *indptr, gk_intp d,
                           const gk_intp *labels, const double *sw, const double *Wp,
                           gk_intp K, gk_intp KP, const gk_intp *rows, gk_intp start,
                           gk_intp step, gk_intp k0, gk_intp k1, double *Gp, int with_g,
                           double *res, double *zb)
{
    gk_v4d L4 = GK_SPLAT(0.0);
    double S = 0.0;
    gk_intp k;
    GK_SM_ROWS R;
    R.data = X;
    R.ind = ind;
    for (k = k0; k < k1; k += 4) {
        gk_intp lab[4];
        double s[4];
        int r;
        for (r = 0; r < 4; r++) {
            if (k + r < k1) {
                const gk_intp i = rows ? rows[k + r] : start + (k + r) * step;
                if (csr) {
                    R.q0[r] = indptr[i];
                    R.q1[r] = indptr[i + 1];
                } else {
                    R.x[r] = X + i * rs;
                }
                lab[r] = labels[i];
                s[r] = sw ? sw[i] : 1.0;
                S += s[r];
            } else {    /* no nonzeros; dense, row 0's again, with weight 0 */
                R.x[r] = R.x[0];
                R.q0[r] = R.q1[r] = 0;
                lab[r] = 0;
                s[r] = 0.0;
            }
        }
        if (nk)
            GK_SM_BLOCK(nk, csr, &R, d, Wp, K, lab, s, Gp, with_g, &L4);
        else
            GK_SM_BLOCKG(csr, &R, d, Wp, K, KP, lab, s, Gp, with_g, &L4, zb);
    }
    res[0] += (L4[0] + L4[1]) + (L4[2] + L4[3]);
    res[1] += S;
}

/* The loop for the call's class count and layout, one function per variant:
   GK_CLONES (AVX2 and baseline, bitwise the same) and, where built, GK_FAST
   (AVX-512 + FMA: the same operations, multiply-adds fused, so equal to
   rounding). */
#define GK_SM_ARGS                                                                \
    const GK_XT *X, gk_intp rs, const gk_intp *ind, const gk_intp *indptr, gk_intp d, \
    const gk_intp *labels, const double *sw, const double *Wp, gk_intp K, gk_intp KP, \
    const gk_intp *rows, gk_intp start, gk_intp step, gk_intp k0, gk_intp k1,     \
    double *Gp, int with_g, double *res, double *zb
#define GK_SM_PASS(NK, CSR)                                                       \
    GK_SM_LOOP(NK, CSR, X, rs, ind, indptr, d, labels, sw, Wp, K, KP, rows, start, step, \
               k0, k1, Gp, with_g, res, zb)
#define GK_SM_DEF(NAME, ATTR, CSR)                                                \
    ATTR GK_NO_UNSWITCH static void NAME(GK_SM_ARGS)                             \
    {                                                                             \
        switch (K <= 16 ? KP / 4 : 0) {                                           \
        case 1: GK_SM_PASS(1, CSR); break;                                        \
        case 2: GK_SM_PASS(2, CSR); break;                                        \
        case 3: GK_SM_PASS(3, CSR); break;                                        \
        case 4: GK_SM_PASS(4, CSR); break;                                        \
        default: GK_SM_PASS(0, CSR); break;                                       \
        }                                                                         \
    }
typedef void (*GK_CAT(gk_softmax_fn, GK_SFX))(GK_SM_ARGS);
GK_SM_DEF(GK_CAT(gk_softmax_dense, GK_SFX), GK_CLONES, 0)
GK_SM_DEF(GK_CAT(gk_softmax_csr, GK_SFX), GK_CLONES, 1)
#if GK_HAVE_FAST
GK_SM_DEF(GK_CAT(gk_softmax_densef, GK_SFX), GK_FAST, 0)
GK_SM_DEF(GK_CAT(gk_softmax_csrf, GK_SFX), GK_FAST, 1)
#endif
#undef GK_SM_DEF
#undef GK_SM_PASS

/* The entry points' common part: W padded into buf, the loop of the layout and
   variant in use, the gradient copied back. */
static void GK_CAT(gk_softmax_run, GK_SFX)(const int csr, const GK_XT *X, gk_intp rs,
    const gk_intp *ind, const gk_intp *indptr, gk_intp d, const gk_intp *labels,
    const double *sw, const double *W, gk_intp K, const gk_intp *rows, gk_intp start,
    gk_intp step, gk_intp k0, gk_intp k1, double *g, double *res, double *buf)
{
    const gk_intp KP = gk_softmax_kp(K);
    double *Wp = buf, *Gp = buf + d * KP, *zb = buf + 2 * d * KP;
    GK_CAT(gk_softmax_fn, GK_SFX) fn = csr ? GK_CAT(gk_softmax_csr, GK_SFX)
                                           : GK_CAT(gk_softmax_dense, GK_SFX);
    gk_intp j, c;
    for (j = 0; j < d; j++)
        for (c = 0; c < KP; c++) {
            Wp[j * KP + c] = c < K ? W[j * K + c] : 0.0;
            Gp[j * KP + c] = 0.0;
        }
#if GK_HAVE_FAST
    if (gk_use_fast)
        fn = csr ? GK_CAT(gk_softmax_csrf, GK_SFX) : GK_CAT(gk_softmax_densef, GK_SFX);
#endif
    fn(X, rs, ind, indptr, d, labels, sw, Wp, K, KP, rows, start, step, k0, k1, Gp,
       g != NULL, res, zb);
    if (g)
        for (j = 0; j < d; j++)
            for (c = 0; c < K; c++)
                g[j * K + c] += Gp[j * KP + c];
}
#undef GK_SM_ARGS
#endif /* GK_HAVE_VEC */

/* Softmax cross-entropy over rows k0:k1 of a minibatch, W = w.reshape(d, K) (C
   order): adds sum_i s_i loss_i to res[0], sum_i s_i to res[1] and, unless g is
   NULL, the raw gradient sum_i s_i dloss_i / dW to g (d * K). Dense X with unit
   column stride (row stride rs elements), or CSR X (data, intp indices and
   indptr). buf: (2 d + 4) KP doubles of scratch, KP = gk_softmax_kp(K). Return 0
   (nothing done) without vector extensions. */
static int GK_CAT(gk_softmax_rows_c, GK_SFX)(
    const GK_XT *X, gk_intp rs, gk_intp d, const gk_intp *labels, const double *sw,
    const double *W, gk_intp K, const gk_intp *rows, gk_intp start, gk_intp step,
    gk_intp k0, gk_intp k1, double *g, double *res, double *buf)
{
#if GK_HAVE_VEC
    GK_CAT(gk_softmax_run, GK_SFX)(0, X, rs, NULL, NULL, d, labels, sw, W, K, rows, start,
                                   step, k0, k1, g, res, buf);
    return 1;
#else
    (void)X; (void)rs; (void)d; (void)labels; (void)sw; (void)W; (void)K; (void)rows;
    (void)start; (void)step; (void)k0; (void)k1; (void)g; (void)res; (void)buf;
    return 0;
#endif
}

static int GK_CAT(gk_softmax_rows_csr, GK_SFX)(
    const GK_XT *data, const gk_intp *indices, const gk_intp *indptr, gk_intp d,
    const gk_intp *labels, const double *sw, const double *W, gk_intp K,
    const gk_intp *rows, gk_intp start, gk_intp step, gk_intp k0, gk_intp k1, double *g,
    double *res, double *buf)
{
#if GK_HAVE_VEC
    GK_CAT(gk_softmax_run, GK_SFX)(1, data, 0, indices, indptr, d, labels, sw, W, K, rows,
                                   start, step, k0, k1, g, res, buf);
    return 1;
#else
    (void)data; (void)indices; (void)indptr; (void)d; (void)labels; (void)sw; (void)W;
    (void)K; (void)rows; (void)start; (void)step; (void)k0; (void)k1; (void)g; (void)res;
    (void)buf;
    return 0;
#endif
}

#undef GK_SM_ROWS
#undef GK_SM_SCORES
#undef GK_SM_GRAD
#undef GK_SM_BLOCK
#undef GK_SM_BLOCKG
#undef GK_SM_BY_CW
#undef GK_SM_LOOP
#undef GK_CAT
#undef GK_CAT_
