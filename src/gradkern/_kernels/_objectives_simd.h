/* SIMD-friendly building blocks of gradkern's objective kernels (_objectives.pyx).
 *
 * - gk_exp_neg / gk_log1p_01: exp(x) for x <= 0 and log1p(e) for 0 <= e <= 1,
 *   written branch-free (range reduction + polynomial, bit tricks for 2^k) so the
 *   compiler vectorizes loops over them; accurate to a few ulp.
 * - gk_loss_block: per-sample loss and d loss / d z for a block of margins,
 *   a loop the compiler vectorizes (libm's exp/log1p are scalar calls).
 * - gk_v_loss4: the losses of 4 samples in vector lanes (logistic, squared, Huber).
 * - gk_lin_rows_c_{f64,f32}: the fused row loops over dense C-ordered X
 *   (_objectives_rows.h). For small d (<= 16, float32 <= 32), one pass over
 *   groups of 4 rows: their margins, their 4 losses in vector lanes and their
 *   gradient, accumulated in registers, while the rows are in L1. Otherwise
 *   blocks of 64 rows: margins, the loss stage (gk_loss_block), then the
 *   gradient pass. Both prefetch ahead over large contiguous ranges.
 * - gk_lin_cols_{f64,f32}: the fused loop over dense F-ordered X, blocks of rows
 *   read column by column (_objectives_cols.h).
 * - gk_softmax_rows_{c,csr}_{f64,f32}: softmax cross-entropy over dense rows (unit
 *   column stride) or CSR rows, 4 rows at a time (_objectives_softmax.h).
 *
 * On x86-64 Linux with GCC the hot functions are built twice (target_clones:
 * AVX2 and baseline x86-64) and the loader picks the one the CPU supports, so
 * the wheel still runs on any x86-64. The AVX2 clone uses no FMA, and every sum
 * has a fixed order (4 interleaved partial sums), so both clones give bitwise
 * identical results. The one-pass loop for small d also has a third variant,
 * for AVX-512F/VL with FMA (so does the softmax loop), picked at run time where
 * the CPU has it (gk_set_fast, on by default from Python unless GRADKERN_NO_FMA
 * is set): the same operations in the same order, except that multiply-adds are
 * fused and the 8 logistic losses of two groups share one 8-lane call, so it
 * agrees with the other two to rounding, not bitwise.
 */
#ifndef GK_OBJECTIVES_SIMD_H
#define GK_OBJECTIVES_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stddef.h>

#include "gk_dispatch.h"  /* GK_CLONES (AVX2 + baseline variants, chosen at load time), GK_VINLINE */

#if defined(__GNUC__) || defined(__clang__)
#define GK_RESTRICT __restrict__
#else
#define GK_RESTRICT
#endif

#define GK_LOSS_SQUARED 0
#define GK_LOSS_LOGISTIC 1
#define GK_LOSS_HUBER 2
#define GK_BLOCK 64
#define GK_CB 256           /* rows per block at most of the F-order loop (_objectives_cols.h) */
#ifndef GK_COLS_ONE_MAXD
#define GK_COLS_ONE_MAXD 16 /* d <= this: the F-order loop's one-pass form (fast variant) */
#endif
#define GK_SMALL_D 32       /* d <= this: the unrolled blocked C-order row loop (float64 X) */
#define GK_FUSED_V 8        /* d <= 4 * this: the one-pass loop (float32 X; float64: d <= 16) */

typedef ptrdiff_t gk_intp;

#if defined(__GNUC__) && !defined(__clang__)
#define GK_NO_UNSWITCH __attribute__((optimize("no-unswitch-loops")))
#else
#define GK_NO_UNSWITCH
#endif

/* exp(x) for x <= 0; flushed to 0 below -708 (where exp(x) < 3.4e-308). */
GK_VINLINE double gk_exp_neg(double x)
{
    const double shifter = 6755399441055744.0;          /* 1.5 * 2^52 */
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 6.93147180369123816490e-01;   /* fdlibm split of ln 2 */
    const double ln2_lo = 1.90821492927058770002e-10;
    double xc = x < -708.0 ? -708.0 : x;
    double kd = xc * log2e + shifter;                   /* round(x / ln 2) in the low bits */
    uint64_t kbits, sbits;
    double scale, r, p;
    memcpy(&kbits, &kd, sizeof kd);
    kd -= shifter;
    r = (xc - kd * ln2_hi) - kd * ln2_lo;               /* |r| <= ln2 / 2 */
    /* Taylor series of exp(r) to degree 13 (truncation < 2e-17 relative), in
       Estrin's scheme: a dependency chain of depth 6 instead of Horner's 28 */
    {
        double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
        double q0 = (1.0 + r) + r2 * (0.5 + r * (1.0 / 6.0));
        double q1 = (1.0 / 24.0 + r * (1.0 / 120.0)) + r2 * (1.0 / 720.0 + r * (1.0 / 5040.0));
        double q2 = (1.0 / 40320.0 + r * (1.0 / 362880.0)) +
                    r2 * (1.0 / 3628800.0 + r * (1.0 / 39916800.0));
        double q3 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
        p = (q0 + r4 * q1) + r8 * (q2 + r4 * q3);
    }
    sbits = (kbits + 1023u) << 52;                      /* 2^k, k in [-1022, 0] */
    memcpy(&scale, &sbits, sizeof scale);
    p = p * scale;
    return x < -708.0 ? 0.0 : p;
}

/* log1p(e) for 0 <= e <= 1, via 2 atanh(s) with s = e / (2 + e), or
   ln 2 + 2 atanh((e - 1) / (e + 3)) above sqrt(2) - 1: |s| <= 0.1716. */
GK_VINLINE double gk_log1p_01(double e)
{
    const double ln2 = 0.69314718055994530942;
    int hi = e > 0.41421356237309503;
    /* every operand computed unconditionally, then selected: if-convertible */
    double em1 = e - 1.0, ep3 = e + 3.0, ep2 = e + 2.0;
    double num = hi ? em1 : e, den = hi ? ep3 : ep2;
    double s = num / den;
    double s2 = s * s, p;
    {   /* sum_k s2^k / (2k + 3), k <= 8, in Estrin's scheme */
        double t2 = s2 * s2, t4 = t2 * t2, t8 = t4 * t4;
        double f0 = (1.0 / 3.0 + s2 * (1.0 / 5.0)) + t2 * (1.0 / 7.0 + s2 * (1.0 / 9.0));
        double f1 = (1.0 / 11.0 + s2 * (1.0 / 13.0)) + t2 * (1.0 / 15.0 + s2 * (1.0 / 17.0));
        p = (f0 + t4 * f1) + t8 * (1.0 / 19.0);
    }
    p = (p * s2) * s;
    double add = hi ? ln2 : 0.0;
    return add + (2.0 * s + 2.0 * p);
}


#if defined(__GNUC__) || defined(__clang__)
#define GK_HAVE_VEC 1
/* Four lanes with GCC/Clang vector extensions: explicit SIMD whatever the
   auto-vectorizer decides (2 SSE2 registers in the baseline clone, one AVX2
   register in the AVX2 clone). Same operations in the same order as the
   scalar gk_exp_neg / gk_log1p_01, so lanes and scalar tails agree bitwise. */
typedef double gk_v4d __attribute__((vector_size(32), aligned(8)));
typedef long long gk_v4i __attribute__((vector_size(32), aligned(8)));
#define GK_SPLAT(c) ((gk_v4d){(c), (c), (c), (c)})
#define GK_SPLATI(c) ((gk_v4i){(c), (c), (c), (c)})
/* Eight lanes: the losses of two groups of 4 rows at once (one AVX-512 register
   in the fast variant; two AVX2 or four SSE2 registers, lane for lane the same
   operations as two 4-lane calls, in the other clones). */
typedef double gk_v8d __attribute__((vector_size(64), aligned(8)));
typedef long long gk_v8i __attribute__((vector_size(64), aligned(8)));
#define GK_SPLAT8(c) ((gk_v8d){(c), (c), (c), (c), (c), (c), (c), (c)})
#define GK_SPLATI8(c) ((gk_v8i){(c), (c), (c), (c), (c), (c), (c), (c)})

#else
#define GK_HAVE_VEC 0
#endif

/* logistic loss (times s) and s * (sigmoid(z) - y) of one sample: the scalar
   twin of the vector lanes below */
GK_VINLINE double gk_logistic_one(double zt, double yt, double st, double *dzt)
{
    double nz, e, small, lp, hv, sg, nsmall;
    uint64_t zbits;
    int pos;
    memcpy(&zbits, &zt, sizeof zt);
    pos = (zbits >> 63) == 0;                           /* z >= +0 */
    zbits |= (uint64_t)1 << 63;
    memcpy(&nz, &zbits, sizeof nz);                     /* -|z| */
    e = gk_exp_neg(nz);
    small = e / (1.0 + e);                              /* min(p, 1 - p) */
    lp = gk_log1p_01(e);
    nsmall = -small;
    hv = pos ? 1.0 : 0.0;
    sg = pos ? nsmall : small;
    *dzt = st * ((hv - yt) + sg);                       /* sigmoid(z) - y */
    return st * ((hv * zt - yt * zt) + lp);             /* max(z, 0) - y z + log1p(e) */
}

#if GK_HAVE_VEC
/* The vector math in 4 lanes (gk_v_sel, gk_v_exp_neg, gk_v_log1p_01, gk_v_loss4)
   and in 8 (the same names with 8 for 4 or appended): _objectives_vmath.h. */
#define GK_VD gk_v4d
#define GK_VI gk_v4i
#define GK_VS GK_SPLAT
#define GK_VSI GK_SPLATI
#define GK_VN(name) name
#define GK_VLOSS gk_v_loss4
#include "_objectives_vmath.h"
#define GK_VD gk_v8d
#define GK_VI gk_v8i
#define GK_VS GK_SPLAT8
#define GK_VSI GK_SPLATI8
#define GK_VN(name) name##8
#define GK_VLOSS gk_v_loss8
#include "_objectives_vmath.h"
#endif

/* Losses of n <= GK_BLOCK samples: margins z, targets y, weights s (IN);
   dz[t] = s_t * d loss / d z (OUT). Returns sum_t s_t loss_t (4 interleaved
   partial sums: a fixed order). The element loops carry no reduction, so they
   vectorize. */
GK_CLONES
static double gk_loss_block(int kind, gk_intp n, const double *GK_RESTRICT z,
                            const double *GK_RESTRICT y, const double *GK_RESTRICT s,
                            double delta, double *GK_RESTRICT dz)
{
    double lb[GK_BLOCK + 3];
    double L0 = 0.0, L1 = 0.0, L2 = 0.0, L3 = 0.0;
    gk_intp t;
    if (kind == GK_LOSS_LOGISTIC) {
        t = 0;
#if GK_HAVE_VEC
        for (; t + 4 <= n; t += 4) {
            gk_v4d zt, yt, st, loss, d;
            memcpy(&zt, z + t, sizeof zt);
            memcpy(&yt, y + t, sizeof yt);
            memcpy(&st, s + t, sizeof st);
            loss = gk_v_loss4(GK_LOSS_LOGISTIC, zt, yt, st, GK_SPLAT(delta), &d);
            memcpy(lb + t, &loss, sizeof loss);
            memcpy(dz + t, &d, sizeof d);
        }
#endif
        for (; t < n; t++)
            lb[t] = gk_logistic_one(z[t], y[t], s[t], dz + t);
    } else if (kind == GK_LOSS_HUBER) {
        for (t = 0; t < n; t++) {
            double r = z[t] - y[t], a = fabs(r);
            double m = a <= delta ? a : delta;          /* |r| clipped at delta */
            double loss = m * (a - 0.5 * m);            /* 0.5 r^2 or delta (|r| - delta / 2) */
            double d = copysign(m, r);
            lb[t] = s[t] * loss;
            dz[t] = s[t] * d;
        }
    } else {
        for (t = 0; t < n; t++) {
            double r = z[t] - y[t];
            lb[t] = s[t] * (0.5 * r * r);
            dz[t] = s[t] * r;
        }
    }
    lb[n] = lb[n + 1] = lb[n + 2] = 0.0;
    for (t = 0; t < n; t += 4) {
        L0 += lb[t];
        L1 += lb[t + 1];
        L2 += lb[t + 2];
        L3 += lb[t + 3];
    }
    return (L0 + L1) + (L2 + L3);
}

/* Softmax cross-entropy of one sample: scores z[0:K] (IN), class label;
   dz[0:K] = softmax(z) - onehot(label) (OUT); returns logsumexp(z) - z[label].
   With M the (first) top class, exp(z[M] - max) = 1 exactly and the rest
   r = sum_{c != M} exp(z[c] - max) is kept apart: the sum is 1 + r, the loss
   log1p(r) + max - z[label], and for label == M, p - 1 = -r / (1 + r). A sure
   class thus keeps full relative precision in loss and gradient. exp runs 4
   lanes at a time (the scalar tail does the same operations). */
GK_CLONES
static double gk_softmax_dloss(const double *GK_RESTRICT z, gk_intp label, gk_intp K,
                               double *GK_RESTRICT dz)
{
    double m = z[0], rest = 0.0, inv;
    gk_intp c = 0, top = 0;
    for (c = 1; c < K; c++) {      /* selects, not branches: random scores */
        int gt = z[c] > m;
        top = gt ? c : top;
        m = gt ? z[c] : m;
    }
    c = 0;
#if GK_HAVE_VEC
    for (; c + 4 <= K; c += 4) {
        gk_v4d v;
        memcpy(&v, z + c, sizeof v);
        v = gk_v_exp_neg(v - GK_SPLAT(m));
        memcpy(dz + c, &v, sizeof v);
    }
#endif
    for (; c < K; c++)
        dz[c] = gk_exp_neg(z[c] - m);
    for (c = 0; c < K; c++)
        rest += c != top ? dz[c] : 0.0;
    inv = 1.0 / (1.0 + rest);
    for (c = 0; c < K; c++)
        dz[c] *= inv;
    dz[label] = label == top ? -rest * inv : dz[label] - 1.0;
    return log1p(rest) + (m - z[label]);
}

/* y[0:n] += a * x[0:n] with x and y not overlapping (so it vectorizes). */
GK_VINLINE void gk_axpy_nr(gk_intp n, double a, const double *GK_RESTRICT x,
                              double *GK_RESTRICT y)
{
    gk_intp j;
    for (j = 0; j < n; j++)
        y[j] += a * x[j];
}

/* x . w with 4 interleaved partial sums (fixed order, no serial add chain). */
#define GK_DOT4(XT)                                                              \
    GK_VINLINE double gk_dot4_##XT(const XT *GK_RESTRICT x,                    \
                                      const double *GK_RESTRICT w, gk_intp d)     \
    {                                                                            \
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;                           \
        gk_intp j, d4 = d - d % 4;                                               \
        for (j = 0; j < d4; j += 4) {                                            \
            s0 += (double)x[j] * w[j];                                           \
            s1 += (double)x[j + 1] * w[j + 1];                                   \
            s2 += (double)x[j + 2] * w[j + 2];                                   \
            s3 += (double)x[j + 3] * w[j + 3];                                   \
        }                                                                        \
        for (j = d4; j < d; j++)                                                 \
            s0 += (double)x[j] * w[j];                                           \
        return (s0 + s1) + (s2 + s3);                                            \
    }
GK_DOT4(double)
GK_DOT4(float)

#if GK_HAVE_VEC

GK_VINLINE gk_v4d gk_vload_double(const double *p)
{
    gk_v4d v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* 4 floats widened to doubles. Written element-wise: GCC turns this into one
   vcvtps2pd from memory in the AVX2 clone, where __builtin_convertvector of a
   loaded 4-float vector became two half conversions through the stack. */
GK_VINLINE gk_v4d gk_vload_float(const float *p)
{
    return (gk_v4d){p[0], p[1], p[2], p[3]};
}

/* 8 doubles, and 8 floats widened to doubles (one vcvtps2pd in the fast
   variant): the loads of the fast variant's 8-lane feature vectors. */
GK_VINLINE gk_v8d gk_vload8_double(const double *p)
{
    gk_v8d v;
    memcpy(&v, p, sizeof v);
    return v;
}

GK_VINLINE gk_v8d gk_vload8_float(const float *p)
{
    return (gk_v8d){p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]};
}

GK_VINLINE gk_v8d gk_v_and8(gk_v8d a, gk_v8i m)
{
    return (gk_v8d)((gk_v8i)a & m);
}

/* Lane permutations: GK_SHUF2 picks lanes of a (0-3) and b (4-7), GK_BCAST
   broadcasts lane i of a. */
#if defined(__clang__)
#define GK_SHUF2(a, b, i0, i1, i2, i3) __builtin_shufflevector(a, b, i0, i1, i2, i3)
#else
#define GK_SHUF2(a, b, i0, i1, i2, i3) __builtin_shuffle(a, b, (gk_v4i){i0, i1, i2, i3})
#endif
#define GK_BCAST(a, i) GK_SHUF2(a, a, i, i, i, i)
/* Two 4-lane vectors as one of 8 lanes, and back. */
#if defined(__clang__) || __GNUC__ >= 12
#define GK_CONCAT8(a, b) __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7)
#define GK_LO4(v) __builtin_shufflevector(v, v, 0, 1, 2, 3)
#define GK_HI4(v) __builtin_shufflevector(v, v, 4, 5, 6, 7)
#else
GK_VINLINE gk_v8d gk_concat8(gk_v4d a, gk_v4d b)
{
    return (gk_v8d){a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]};
}
#define GK_CONCAT8(a, b) gk_concat8(a, b)
#define GK_LO4(v) ((gk_v4d){(v)[0], (v)[1], (v)[2], (v)[3]})
#define GK_HI4(v) ((gk_v4d){(v)[4], (v)[5], (v)[6], (v)[7]})
#endif

/* Lane r of the result: (a_r[0] + a_r[1]) + (a_r[2] + a_r[3]), the dot products
   of 4 rows from their partial-sum vectors (two pairwise adds, two permutes). */
GK_VINLINE gk_v4d gk_v_hsum4(gk_v4d a0, gk_v4d a1, gk_v4d a2, gk_v4d a3)
{
    gk_v4d h01 = GK_SHUF2(a0, a1, 0, 4, 2, 6) + GK_SHUF2(a0, a1, 1, 5, 3, 7);
    gk_v4d h23 = GK_SHUF2(a2, a3, 0, 4, 2, 6) + GK_SHUF2(a2, a3, 1, 5, 3, 7);
    return GK_SHUF2(h01, h23, 0, 1, 4, 5) + GK_SHUF2(h01, h23, 2, 3, 6, 7);
}

/* Lane r of the result: the sum of the 8 lanes of a[r] (pairs, then pairs of
   pairs, then the two halves): the dot products of 8 rows from their 8-lane
   partial sums, in 7 adds and 14 two-register permutes. */
#if defined(__clang__) || __GNUC__ >= 12
#define GK_SHUF8(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
    __builtin_shufflevector(a, b, i0, i1, i2, i3, i4, i5, i6, i7)
#else
#define GK_SHUF8(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
    __builtin_shuffle(a, b, (gk_v8i){i0, i1, i2, i3, i4, i5, i6, i7})
#endif
GK_VINLINE gk_v8d gk_v_hsum8x8(const gk_v8d *a)
{
#define GK_H1(x, y) (GK_SHUF8(x, y, 0, 8, 2, 10, 4, 12, 6, 14) + GK_SHUF8(x, y, 1, 9, 3, 11, 5, 13, 7, 15))
#define GK_H2(x, y) (GK_SHUF8(x, y, 0, 1, 8, 9, 4, 5, 12, 13) + GK_SHUF8(x, y, 2, 3, 10, 11, 6, 7, 14, 15))
    const gk_v8d u0 = GK_H2(GK_H1(a[0], a[1]), GK_H1(a[2], a[3]));
    const gk_v8d u1 = GK_H2(GK_H1(a[4], a[5]), GK_H1(a[6], a[7]));
#undef GK_H1
#undef GK_H2
    return GK_SHUF8(u0, u1, 0, 1, 2, 3, 8, 9, 10, 11) + GK_SHUF8(u0, u1, 4, 5, 6, 7, 12, 13, 14, 15);
}

/* The sums of a's 4 and 8 lanes, in a fixed order (the same in every variant). */
GK_VINLINE double gk_v_hsum4s(gk_v4d a)
{
    return (a[0] + a[2]) + (a[1] + a[3]);
}

GK_VINLINE double gk_v_hsum8(gk_v8d a)
{
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

GK_VINLINE gk_v4d gk_v_and(gk_v4d a, gk_v4i m)
{
    return (gk_v4d)((gk_v4i)a & m);
}

/* z[r] = x_r . w + b for the 4 rows x[0:4]: lane l of row r's accumulator holds
   the partial sum s_l of gk_dot4 (the tail goes to s0), then (s0 + s1) + (s2 + s3):
   bitwise what gk_dot4 gives, with 4 independent add chains instead of one. */
#define GK_DOT_REDUCE(a, r)                                                      \
    {                                                                            \
        double s0 = (a)[0];                                                      \
        for (j = d4; j < d; j++)                                                 \
            s0 += (double)x[r][j] * w[j];                                        \
        z[r] = ((s0 + (a)[1]) + ((a)[2] + (a)[3])) + b;                          \
    }
#define GK_DOT4ROWS(XT)                                                          \
    GK_VINLINE void gk_dot4rows_##XT(const XT *const *x, const double *w,      \
                                        gk_intp d, double b, double *z)          \
    {                                                                            \
        gk_v4d a0 = GK_SPLAT(0.0), a1 = a0, a2 = a0, a3 = a0, wv;                \
        gk_intp j, d4 = d - d % 4;                                               \
        for (j = 0; j < d4; j += 4) {                                            \
            wv = gk_vload_double(w + j);                                         \
            a0 += gk_vload_##XT(x[0] + j) * wv;                                  \
            a1 += gk_vload_##XT(x[1] + j) * wv;                                  \
            a2 += gk_vload_##XT(x[2] + j) * wv;                                  \
            a3 += gk_vload_##XT(x[3] + j) * wv;                                  \
        }                                                                        \
        GK_DOT_REDUCE(a0, 0)                                                     \
        GK_DOT_REDUCE(a1, 1)                                                     \
        GK_DOT_REDUCE(a2, 2)                                                     \
        GK_DOT_REDUCE(a3, 3)                                                     \
    }
GK_DOT4ROWS(double)
GK_DOT4ROWS(float)
#endif

/* Class scores of one dense row: z[0:K] = sum_j x[j * cs] * W[j, 0:K] (W C-ordered,
   d x K). Classes go 4 at a time into vector accumulators kept in registers (two
   per group, even and odd j, summed at the end), so the sum over j is not a
   chain of loads and stores through z. */
#if GK_HAVE_VEC
#define GK_SCORES(XT)                                                            \
    GK_CLONES static void gk_scores_##XT(const XT *x, gk_intp cs, gk_intp d,         \
                                      const double *W, gk_intp K, double *z)      \
    {                                                                            \
        gk_intp c = 0, j;                                                        \
        for (; c + 4 <= K; c += 4) {                                             \
            gk_v4d a0 = GK_SPLAT(0.0), a1 = a0;                                  \
            for (j = 0; j + 2 <= d; j += 2) {                                    \
                a0 += GK_SPLAT((double)x[j * cs]) * gk_vload_double(W + j * K + c); \
                a1 += GK_SPLAT((double)x[(j + 1) * cs]) *                         \
                      gk_vload_double(W + (j + 1) * K + c);                      \
            }                                                                    \
            if (j < d)                                                           \
                a0 += GK_SPLAT((double)x[j * cs]) * gk_vload_double(W + j * K + c); \
            a0 += a1;                                                            \
            memcpy(z + c, &a0, sizeof a0);                                       \
        }                                                                        \
        for (; c < K; c++) {                                                     \
            double s0 = 0.0, s1 = 0.0;                                           \
            for (j = 0; j + 2 <= d; j += 2) {                                    \
                s0 += (double)x[j * cs] * W[j * K + c];                          \
                s1 += (double)x[(j + 1) * cs] * W[(j + 1) * K + c];              \
            }                                                                    \
            if (j < d)                                                           \
                s0 += (double)x[j * cs] * W[j * K + c];                          \
            z[c] = s0 + s1;                                                      \
        }                                                                        \
    }
#else
#define GK_SCORES(XT)                                                            \
    GK_CLONES static void gk_scores_##XT(const XT *x, gk_intp cs, gk_intp d,         \
                                      const double *W, gk_intp K, double *z)      \
    {                                                                            \
        gk_intp c, j;                                                            \
        for (c = 0; c < K; c++)                                                  \
            z[c] = 0.0;                                                          \
        for (j = 0; j < d; j++)                                                  \
            gk_axpy_nr(K, (double)x[j * cs], W + j * K, z);                      \
    }
#endif
GK_SCORES(double)
GK_SCORES(float)

/* Gradient of one dense row: G[j, 0:K] += (s x[j * cs]) * dz[0:K] for all j. */
#define GK_SCORES_GRAD(XT)                                                       \
    GK_CLONES static void gk_scores_grad_##XT(const XT *x, gk_intp cs, gk_intp d, \
                                              double s, const double *dz,        \
                                              gk_intp K, double *G)              \
    {                                                                            \
        gk_intp j;                                                               \
        for (j = 0; j < d; j++)                                                  \
            gk_axpy_nr(K, s * (double)x[j * cs], dz, G + j * K);                 \
    }
GK_SCORES_GRAD(double)
GK_SCORES_GRAD(float)

#if GK_HAVE_VEC
/* Software prefetch for the dense C-order row loops. While one block of rows is
   computed (margins, then the loss stage and the gradient pass, which read only
   L1), the next block of a contiguous minibatch is prefetched, so memory keeps
   streaming. Measured with the two builds loaded in one process and timed in
   alternation (logistic, float64): ~10% faster on two threads and ~20% on one at
   1e6 x 32, ~30% at 2e5 x 100; one block ahead beat two and four. Only for row
   ranges too large to stay in cache (GK_PF_MIN_BYTES per thread), where the extra
   instructions would otherwise cost a few percent. */
#define GK_PF_MIN_BYTES ((gk_intp)1 << 21)

typedef struct {
    const char *base;   /* first byte of the next block's first row */
    gk_intp n;          /* rows of the next block to prefetch (0: none) */
    gk_intp stride;     /* bytes between consecutive minibatch rows */
    gk_intp rowb;       /* bytes of one row */
} gk_prefetch;

/* Set pf up for the block after rows [kb, kb + nb) of the minibatch k0:k1 (row k
   at X + (start + k * step) * rs, elements of esize bytes; contiguous minibatches
   only: rows == NULL). */
GK_VINLINE void gk_prefetch_next(gk_prefetch *pf, const void *X, size_t esize,
                                 gk_intp rs, gk_intp d, const gk_intp *rows,
                                 gk_intp start, gk_intp step, gk_intp k0, gk_intp k1,
                                 gk_intp kb, gk_intp nb)
{
    gk_intp next = kb + nb;
    pf->n = 0;
    if (rows || next >= k1)
        return;
    pf->stride = step * rs * (gk_intp)esize;
    pf->rowb = d * (gk_intp)esize;
    if ((k1 - k0) * pf->rowb < GK_PF_MIN_BYTES)
        return;
    pf->n = k1 - next < GK_BLOCK ? k1 - next : GK_BLOCK;
    pf->base = (const char *)X + (start + next * step) * rs * (gk_intp)esize;
}

/* Prefetch rows t .. t + 3 of the next block (those that exist). */
GK_VINLINE void gk_prefetch_4rows(const gk_prefetch *pf, gk_intp t)
{
    gk_intp c, o, end = t + 4 < pf->n ? t + 4 : pf->n;
    for (c = t; c < end; c++)
        for (o = 0; o < pf->rowb; o += 64)
            __builtin_prefetch(pf->base + c * pf->stride + o, 0, 3);
}
#endif /* GK_HAVE_VEC */

/* The fast variant of the one-pass loop (float64 d <= 16, float32 d <= 32; and
   the pipelined loop of 16 < d <= 256 over contiguous rows, GK_PIPE):
   built where the clones are, for AVX-512F/VL with FMA (32 vector registers;
   the 8 losses of two groups in one register; multiply-adds fused), and used
   when the CPU has it and gk_use_fast is set (gk_set_fast). Its results match
   the other variants to rounding, not bitwise. */
#if GK_CLONES_ON && GK_HAVE_VEC
#define GK_HAVE_FAST 1
#define GK_FAST __attribute__((target("avx512f,avx512vl,fma")))
#else
#define GK_HAVE_FAST 0
#endif
static int gk_use_fast = 0;

/* Use the fast variant (on != 0) where the CPU has it; returns whether it is
   now in use. */
static int gk_set_fast(int on)
{
#if GK_HAVE_FAST
    __builtin_cpu_init();
    gk_use_fast = on && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                  __builtin_cpu_supports("fma");
#else
    (void)on;
    gk_use_fast = 0;
#endif
    return gk_use_fast;
}

/* The classes of the 4-row softmax loop (_objectives_softmax.h), padded to KP, a
   multiple of the vector width: its scratch is (2 d + 4) KP doubles. */
static gk_intp gk_softmax_kp(gk_intp K)
{
    return 4 * ((K + 3) / 4);
}

#define GK_XT double
#define GK_SFX f64
#define GK_IS_F32 0
#include "_objectives_rows.h"
#include "_objectives_cols.h"
#include "_objectives_softmax.h"
#undef GK_IS_F32
#undef GK_XT
#undef GK_SFX
#define GK_XT float
#define GK_SFX f32
#define GK_IS_F32 1
#include "_objectives_rows.h"
#include "_objectives_cols.h"
#include "_objectives_softmax.h"
#undef GK_IS_F32
#undef GK_XT
#undef GK_SFX

#endif
