/* The optimizers' element loops in C, so that it can be built for more than one
 * instruction set and picked at load time (GCC `target_clones` on x86-64 Linux:
 * an AVX2 variant and the baseline x86-64 one). Cython cannot attach that
 * attribute to its own functions; this is the only reason the loop lives here.
 *
 * The arithmetic is the per-element rule documented in _optim.pyx, operation by
 * operation as torch.optim's single-tensor code paths: every operation is IEEE
 * (add, mul, div, sqrt; no FMA is enabled in any variant), so each variant
 * gives bit-identical results; only the vector width differs.
 *
 * Arrays may alias each other (e.g. a grad that is its param): no `restrict`.
 * Define GK_NO_CLONES to build the baseline variant only (see gk_dispatch.h).
 */
#ifndef GK_OPTIM_H
#define GK_OPTIM_H

#include <math.h>
#include <stddef.h>

#include "gk_dispatch.h"  /* GK_CLONES: AVX2 + baseline variants chosen at load time */

/* One loop per store pattern (amsgrad adds a store); value-only flags are selects. */
#define GK_ADAM_BODY(T, SQRT, AMS)                                               \
    for (ptrdiff_t i = lo; i < hi; i++) {                                        \
        T gi = g[i] * sgn;                                                       \
        T pp = p[i];                                                             \
        pp = dw ? pp * decay : pp;                                               \
        gi = cw ? gi + wd * pp : gi;                                             \
        T mi = m[i];                                                             \
        T mm = small ? mi + w1 * (gi - mi) : gi - (gi - mi) * (1 - w1);          \
        T vv = v[i] * b2 + c2 * gi * gi;                                         \
        m[i] = mm;                                                               \
        v[i] = vv;                                                               \
        if (AMS) {                                                               \
            T vm = vmax[i];                                                      \
            vv = (vm != vm) | (vm > vv) ? vm : vv;  /* torch.maximum: NaN wins */ \
            vmax[i] = vv;                                                        \
        }                                                                        \
        T denom = SQRT(vv) / bc2s + eps;                                         \
        p[i] = pp + neg_step * mm / denom;                                       \
    }

#define GK_DEFINE_ADAM(NAME, T, SQRT)                                            \
GK_CLONES static void NAME(T *p, const T *g, T *m, T *v, T *vmax,                \
                           ptrdiff_t lo, ptrdiff_t hi, T sgn, int cw, int dw,    \
                           T wd, T decay, T w1, int small, T b2, T c2,           \
                           int amsgrad, T bc2s, T eps, T neg_step)               \
{                                                                                \
    if (amsgrad) {                                                               \
        GK_ADAM_BODY(T, SQRT, 1)                                                 \
    } else {                                                                     \
        GK_ADAM_BODY(T, SQRT, 0)                                                 \
    }                                                                            \
}

GK_DEFINE_ADAM(gk_adam_range_f64, double, sqrt)
GK_DEFINE_ADAM(gk_adam_range_f32, float, sqrtf)

/* ---- the other rules: same scheme (see each *_block in _optim.pyx) ---------- */

#define GK_LERP(a, b, w, small) ((small) ? (a) + (w) * ((b) - (a)) : (b) - ((b) - (a)) * (1 - (w)))
#define GK_NANMAX(a, b) ((((a) != (a)) | ((a) > (b))) ? (a) : (b))

#define GK_SGD_BODY(T, MOM)                                                      \
    for (ptrdiff_t i = lo; i < hi; i++) {                                        \
        T gi = g[i] * sgn;                                                       \
        gi = has_wd ? gi + wd * p[i] : gi;                                       \
        if (MOM) {                                                               \
            T b = first ? gi : buf[i] * mom + omd * gi;                          \
            buf[i] = b;                                                          \
            gi = nesterov ? gi + mom * b : b;                                    \
        }                                                                        \
        p[i] = p[i] + neg_lr * gi;                                               \
    }

#define GK_DEFINE_SGD(NAME, T)                                                   \
GK_CLONES static void NAME(T *p, const T *g, T *buf, ptrdiff_t lo, ptrdiff_t hi, \
                           T sgn, int has_wd, T wd, int has_mom, int first,     \
                           T mom, T omd, int nesterov, T neg_lr)                 \
{                                                                                \
    if (has_mom) { GK_SGD_BODY(T, 1) } else { GK_SGD_BODY(T, 0) }               \
}

#define GK_RMSPROP_BODY(T, SQRT, CENTERED, MOM)                                  \
    for (ptrdiff_t i = lo; i < hi; i++) {                                        \
        T gi = g[i] * sgn;                                                       \
        gi = has_wd ? gi + wd * p[i] : gi;                                       \
        T s = sq[i] * alpha + oma * gi * gi;                                     \
        sq[i] = s;                                                               \
        T a;                                                                     \
        if (CENTERED) {                                                          \
            T ga = gavg[i];                                                      \
            ga = GK_LERP(ga, gi, oma, small);                                    \
            gavg[i] = ga;                                                        \
            a = SQRT(s + (T)(-1) * ga * ga);                                     \
        } else {                                                                 \
            a = SQRT(s);                                                         \
        }                                                                        \
        a = a + eps;                                                             \
        if (MOM) {                                                               \
            T b = buf[i] * mom + gi / a;                                         \
            buf[i] = b;                                                          \
            p[i] = p[i] + neg_lr * b;                                            \
        } else {                                                                 \
            p[i] = p[i] + neg_lr * gi / a;                                       \
        }                                                                        \
    }

#define GK_DEFINE_RMSPROP(NAME, T, SQRT)                                         \
GK_CLONES static void NAME(T *p, const T *g, T *sq, T *buf, T *gavg,            \
                           ptrdiff_t lo, ptrdiff_t hi, T sgn, int has_wd, T wd,  \
                           T alpha, T oma, int small, int centered, T eps,       \
                           int has_mom, T mom, T neg_lr)                         \
{                                                                                \
    if (centered) {                                                              \
        if (has_mom) { GK_RMSPROP_BODY(T, SQRT, 1, 1) }                          \
        else { GK_RMSPROP_BODY(T, SQRT, 1, 0) }                                  \
    } else {                                                                     \
        if (has_mom) { GK_RMSPROP_BODY(T, SQRT, 0, 1) }                          \
        else { GK_RMSPROP_BODY(T, SQRT, 0, 0) }                                  \
    }                                                                            \
}

#define GK_DEFINE_ADAGRAD(NAME, T, SQRT)                                         \
GK_CLONES static void NAME(T *p, const T *g, T *ssum, ptrdiff_t lo, ptrdiff_t hi,\
                           T sgn, int has_wd, T wd, T eps, T neg_clr)            \
{                                                                                \
    for (ptrdiff_t i = lo; i < hi; i++) {                                        \
        T gi = g[i] * sgn;                                                       \
        gi = has_wd ? gi + wd * p[i] : gi;                                       \
        T s = ssum[i] + gi * gi;                                                 \
        ssum[i] = s;                                                             \
        p[i] = p[i] + neg_clr * gi / (SQRT(s) + eps);                            \
    }                                                                            \
}

#define GK_DEFINE_ADAMAX(NAME, T, ABS)                                           \
GK_CLONES static void NAME(T *p, const T *g, T *m, T *u, ptrdiff_t lo,           \
                           ptrdiff_t hi, T sgn, int has_wd, T wd, T w1,          \
                           int small, T b2, T eps, T neg_clr)                    \
{                                                                                \
    for (ptrdiff_t i = lo; i < hi; i++) {                                        \
        T gi = g[i] * sgn;                                                       \
        gi = has_wd ? gi + wd * p[i] : gi;                                       \
        T mi = m[i];                                                             \
        T mm = GK_LERP(mi, gi, w1, small);                                       \
        m[i] = mm;                                                               \
        T ub = u[i] * b2, ag = ABS(gi) + eps;                                    \
        T uu = GK_NANMAX(ub, ag);                                                \
        u[i] = uu;                                                               \
        p[i] = p[i] + neg_clr * mm / uu;                                         \
    }                                                                            \
}

#define GK_DEFINE_NADAM(NAME, T, SQRT)                                           \
GK_CLONES static void NAME(T *p, const T *g, T *m, T *v, ptrdiff_t lo,           \
                           ptrdiff_t hi, T sgn, int cw, int dw, T wd, T decay,   \
                           T w1, int small, T b2, T c2, T bc2, T eps, T cg, T cm)\
{                                                                                \
    for (ptrdiff_t i = lo; i < hi; i++) {                                        \
        T gi = g[i] * sgn;                                                       \
        T pp = p[i];                                                             \
        pp = dw ? pp * decay : pp;                                               \
        gi = cw ? gi + wd * pp : gi;                                             \
        T mi = m[i];                                                             \
        T mm = GK_LERP(mi, gi, w1, small);                                       \
        T vv = v[i] * b2 + c2 * gi * gi;                                         \
        m[i] = mm;                                                               \
        v[i] = vv;                                                               \
        T denom = SQRT(vv / bc2) + eps;                                          \
        pp = pp + cg * gi / denom;                                               \
        p[i] = pp + cm * mm / denom;                                             \
    }                                                                            \
}

#define GK_DEFINE_RADAM(NAME, T, SQRT)                                           \
GK_CLONES static void NAME(T *p, const T *g, T *m, T *v, ptrdiff_t lo,           \
                           ptrdiff_t hi, T sgn, int cw, int dw, T wd, T decay,   \
                           T w1, int small, T b2, T c2, T bc1, T flr,            \
                           int rectify, T bc2s, T eps, T rect)                   \
{                                                                                \
    for (ptrdiff_t i = lo; i < hi; i++) {                                        \
        T gi = g[i] * sgn;                                                       \
        T pp = p[i];                                                             \
        pp = dw ? pp * decay : pp;                                               \
        gi = cw ? gi + wd * pp : gi;                                             \
        T mi = m[i];                                                             \
        T mm = GK_LERP(mi, gi, w1, small);                                       \
        T vv = v[i] * b2 + c2 * gi * gi;                                         \
        m[i] = mm;                                                               \
        v[i] = vv;                                                               \
        T upd = mm / bc1 * flr;                                                  \
        /* torch: scalar / tensor is tensor.reciprocal() * scalar */             \
        upd = rectify ? upd * ((1 / (SQRT(vv) + eps)) * bc2s) * rect : upd;      \
        p[i] = pp - upd;                                                         \
    }                                                                            \
}

#define GK_DEFINE_LION(NAME, T)                                                  \
GK_CLONES static void NAME(T *p, const T *g, T *m, ptrdiff_t lo, ptrdiff_t hi,   \
                           T sgn, T b1, T omb1, T b2, T omb2, T wd, T flr)       \
{                                                                                \
    for (ptrdiff_t i = lo; i < hi; i++) {                                        \
        T gi = g[i] * sgn;                                                       \
        T mm = m[i];                                                             \
        T pp = p[i];                                                             \
        T c = b1 * mm + omb1 * gi;                                               \
        T u = c > 0 ? (T)1 : (c < 0 ? (T)(-1) : c);  /* sign; 0, -0, NaN kept */ \
        p[i] = pp - flr * (u + wd * pp);                                         \
        m[i] = b2 * mm + omb2 * gi;                                              \
    }                                                                            \
}

GK_DEFINE_SGD(gk_sgd_range_f64, double)
GK_DEFINE_SGD(gk_sgd_range_f32, float)
GK_DEFINE_RMSPROP(gk_rmsprop_range_f64, double, sqrt)
GK_DEFINE_RMSPROP(gk_rmsprop_range_f32, float, sqrtf)
GK_DEFINE_ADAGRAD(gk_adagrad_range_f64, double, sqrt)
GK_DEFINE_ADAGRAD(gk_adagrad_range_f32, float, sqrtf)
GK_DEFINE_ADAMAX(gk_adamax_range_f64, double, fabs)
GK_DEFINE_ADAMAX(gk_adamax_range_f32, float, fabsf)
GK_DEFINE_NADAM(gk_nadam_range_f64, double, sqrt)
GK_DEFINE_NADAM(gk_nadam_range_f32, float, sqrtf)
GK_DEFINE_RADAM(gk_radam_range_f64, double, sqrt)
GK_DEFINE_RADAM(gk_radam_range_f32, float, sqrtf)
GK_DEFINE_LION(gk_lion_range_f64, double)
GK_DEFINE_LION(gk_lion_range_f32, float)

#endif /* GK_OPTIM_H */
