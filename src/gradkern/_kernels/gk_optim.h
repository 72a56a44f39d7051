/* Adam/AdamW's element loop in C, so that it can be built for more than one
 * instruction set and picked at load time (GCC `target_clones` on x86-64 Linux:
 * an AVX2 variant and the baseline x86-64 one). Cython cannot attach that
 * attribute to its own functions; this is the only reason the loop lives here.
 *
 * The arithmetic is the per-element rule documented in _optim.pyx, operation by
 * operation as torch.optim's single-tensor Adam: every operation is IEEE
 * (add, mul, div, sqrt; no FMA is enabled in any variant), so each variant
 * gives bit-identical results; only the vector width differs.
 *
 * Arrays may alias each other (e.g. a grad that is its param): no `restrict`.
 * Define GK_NO_CLONES to build the baseline variant only.
 */
#ifndef GK_OPTIM_H
#define GK_OPTIM_H

#include <math.h>
#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__) && !defined(GK_NO_CLONES) && (__GNUC__ >= 8)
#define GK_CLONES __attribute__((target_clones("avx2", "default")))
#define GK_CLONES_ON 1
#else
#define GK_CLONES
#define GK_CLONES_ON 0
#endif

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

#endif /* GK_OPTIM_H */
