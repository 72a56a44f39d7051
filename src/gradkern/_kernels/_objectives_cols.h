/* Template body of _objectives_simd.h, included once per X dtype with
 * GK_XT (float or double) and GK_SFX (f32 or f64) defined. No include guard.
 *
 * gk_lin_cols_{f64,f32}: fused value-and-gradient over the contiguous rows
 * r0:r1 of dense F-ordered X (unit row stride, column stride cs, d columns).
 * Same contract as gk_lin_rows_c: w has d entries (+ the intercept w[d] when
 * fit_intercept); accumulates sum s_i dloss_i x_i into g[0:d(+1)] (skipped
 * when g is NULL), sum s_i loss_i into res[0] and sum s_i into res[1]; sw NULL
 * means unit weights.
 *
 * Blocks of up to GK_CB rows, each column piece of a block contiguous
 * (_objectives_cols_body.h): the margins of the block, 8 vectors of rows at a
 * time in registers, summed over the columns in order (z = ((b + w0 x0) + w1
 * x1) + ...: every row the same operations, so a row's margin does not depend
 * on its place in the block); the loss stage (gk_loss_block; in the fast
 * variant 8-lane gk_v_loss8 calls, the last rows gk_loss_block); then the
 * gradient, each column's dot product with the block's d loss / d z in two
 * vector accumulators (4 columns side by side, 8 independent chains), reduced
 * in a fixed order. Both passes read the block while it is in cache. Vertical
 * operations only: no shuffles except one reduction per column and block.
 *
 * Built like the row loops: GK_CLONES (AVX2 and baseline, 4-lane vectors, no
 * FMA, bitwise the same) and, where the CPU has it and gk_use_fast is set, an
 * AVX-512 + FMA variant with 8-lane vectors (agrees to rounding). For d <=
 * GK_COLS_ONE_MAXD the fast variant makes one pass instead, a copy per d: 8
 * rows at a time, each column's vector loaded once, the gradient in d vector
 * registers. On 1,000 rows in cache (bench/c/objectives_cols.c, float64) it
 * ran 1.05-1.7x faster than the blocked form for least squares (d = 2-16) and
 * 1.25-1.8x for logistic (measured before the blocked form's losses moved to
 * 8-lane vectors); in the AVX2 variant the same form was 1.1-1.35x slower
 * than the blocked one (it has half the vector registers), so there is none. */
#define GK_CAT_(a, b) a##_##b
#define GK_CAT(a, b) GK_CAT_(a, b)
#if GK_HAVE_VEC
#define GK_COLS_FAST GK_CAT(gk_lin_cols_fast, GK_SFX)
/* d <= GK_COLS_ONE_MAXD: the one-pass loop, a copy per d */
#define GK_ONE_CASES GK_ONE_CASE(1) GK_ONE_CASE(2) GK_ONE_CASE(3) GK_ONE_CASE(4) \
    GK_ONE_CASE(5) GK_ONE_CASE(6) GK_ONE_CASE(7) GK_ONE_CASE(8) GK_ONE_CASE(9)         \
    GK_ONE_CASE(10) GK_ONE_CASE(11) GK_ONE_CASE(12) GK_ONE_CASE(13) GK_ONE_CASE(14)    \
    GK_ONE_CASE(15) GK_ONE_CASE(16)

/* the AVX2 / baseline body: 4-lane vectors */
#define GK_CBODY GK_CAT(gk_lin_cols_body4, GK_SFX)
#define GK_CV gk_v4d
#define GK_CL 4
#define GK_CSPLAT GK_SPLAT
#define GK_CLOADD gk_vload_double
#define GK_CLOAD GK_CAT(gk_vload, GK_XT)
#define GK_CHSUM gk_v_hsum4s
#include "_objectives_cols_body.h"

#if GK_HAVE_FAST
/* the AVX-512 + FMA body: 8-lane vectors */
#define GK_CBODY GK_CAT(gk_lin_cols_body8, GK_SFX)
#define GK_CV gk_v8d
#define GK_CL 8
#define GK_CSPLAT GK_SPLAT8
#define GK_CLOADD gk_vload8_double
#define GK_CLOAD GK_CAT(gk_vload8, GK_XT)
#define GK_CHSUM gk_v_hsum8
#define GK_CONE GK_CAT(gk_lin_cols_one8, GK_SFX)
#define GK_CLOSS gk_v_loss8
#include "_objectives_cols_body.h"

GK_FAST GK_NO_UNSWITCH static void GK_COLS_FAST(
    const GK_XT *X, gk_intp cs, gk_intp d, const double *y, const double *sw, const double *w,
    int fit_intercept, int kind, double delta, gk_intp r0, gk_intp r1, double *g, double *res)
{
    if (d <= GK_COLS_ONE_MAXD)
        switch (d) {
#define GK_ONE_K(D, K) GK_CAT(gk_lin_cols_one8, GK_SFX)(D, X, cs, y, sw, w, fit_intercept, \
            K, delta, r0, r1, g, res)
/* least squares in a copy of its own (the loss a constant: 8-20% faster, the
   other losses' code no longer in the loop); the logistic loss as a constant
   ran 20% slower at d = 10 (float64), so the others share a copy */
#define GK_ONE_CASE(D) case D:                                                    \
            if (kind == GK_LOSS_SQUARED)                                          \
                GK_ONE_K(D, GK_LOSS_SQUARED);                                     \
            else                                                                  \
                GK_ONE_K(D, kind);                                                \
            return;
        GK_ONE_CASES
#undef GK_ONE_CASE
#undef GK_ONE_K
        default: break;
        }
    GK_CAT(gk_lin_cols_body8, GK_SFX)(X, cs, d, y, sw, w, fit_intercept, kind, delta, r0, r1,
                                       g, res);
}
#endif
#endif

/* Returns 1 when done; 0 (nothing done) in builds without vector extensions,
   where the caller uses its own loop. */
GK_CLONES GK_NO_UNSWITCH
static int GK_CAT(gk_lin_cols, GK_SFX)(
    const GK_XT *X, gk_intp cs, gk_intp d, const double *y, const double *sw, const double *w,
    int fit_intercept, int kind, double delta, gk_intp r0, gk_intp r1, double *g, double *res)
{
#if GK_HAVE_VEC
#if GK_HAVE_FAST
    if (gk_use_fast) {
        GK_COLS_FAST(X, cs, d, y, sw, w, fit_intercept, kind, delta, r0, r1, g, res);
        return 1;
    }
#endif
    GK_CAT(gk_lin_cols_body4, GK_SFX)(X, cs, d, y, sw, w, fit_intercept, kind, delta, r0, r1,
                                       g, res);
    return 1;
#else
    (void)X; (void)cs; (void)d; (void)y; (void)sw; (void)w; (void)fit_intercept; (void)kind;
    (void)delta; (void)r0; (void)r1; (void)g; (void)res;
    return 0;
#endif
}

#undef GK_COLS_FAST
#undef GK_ONE_CASES
#undef GK_CAT
#undef GK_CAT_
