/* The memory-bandwidth floor: one streaming in-place pass.
 *
 * p[0:na] are arrays of n elements; the first nw are read and written back,
 * the rest only read. Each written element becomes x + scale * (sum over all
 * arrays at that index). With scale = 0 the values stay the same, but the
 * compiler cannot drop the traffic (scale is a run-time value).
 *
 * One loop per (na, nw) pair, so the per-element loops over arrays have
 * compile-time trip counts: they unroll and the element loop vectorises.
 */
#ifndef GK_STREAM_H
#define GK_STREAM_H

#include <stddef.h>

#if defined(__clang__)
#define GK_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define GK_IVDEP _Pragma("GCC ivdep")
#else
#define GK_IVDEP
#endif

#define GK_STREAM_LOOP(T, NA, NW)                                   \
    do {                                                            \
        T *q[NA];                                                   \
        for (int k = 0; k < (NA); k++) q[k] = p[k];                 \
        GK_IVDEP                                                    \
        for (ptrdiff_t i = start; i < stop; i++) {                  \
            T s = 0;                                                \
            for (int k = 0; k < (NA); k++) s += q[k][i];            \
            for (int k = 0; k < (NW); k++) q[k][i] = q[k][i] + scale * s; \
        }                                                           \
    } while (0)

#define GK_CASE(T, A, W) case (A) * 16 + (W): GK_STREAM_LOOP(T, A, W); break;
#define GK_CASES(T)                                                                        \
    GK_CASE(T, 1, 0) GK_CASE(T, 1, 1)                                                      \
    GK_CASE(T, 2, 0) GK_CASE(T, 2, 1) GK_CASE(T, 2, 2)                                     \
    GK_CASE(T, 3, 0) GK_CASE(T, 3, 1) GK_CASE(T, 3, 2) GK_CASE(T, 3, 3)                    \
    GK_CASE(T, 4, 0) GK_CASE(T, 4, 1) GK_CASE(T, 4, 2) GK_CASE(T, 4, 3) GK_CASE(T, 4, 4)   \
    GK_CASE(T, 5, 0) GK_CASE(T, 5, 1) GK_CASE(T, 5, 2) GK_CASE(T, 5, 3) GK_CASE(T, 5, 4)   \
    GK_CASE(T, 5, 5)                                                                       \
    GK_CASE(T, 6, 0) GK_CASE(T, 6, 1) GK_CASE(T, 6, 2) GK_CASE(T, 6, 3) GK_CASE(T, 6, 4)   \
    GK_CASE(T, 6, 5) GK_CASE(T, 6, 6)                                                      \
    GK_CASE(T, 7, 0) GK_CASE(T, 7, 1) GK_CASE(T, 7, 2) GK_CASE(T, 7, 3) GK_CASE(T, 7, 4)   \
    GK_CASE(T, 7, 5) GK_CASE(T, 7, 6) GK_CASE(T, 7, 7)                                     \
    GK_CASE(T, 8, 0) GK_CASE(T, 8, 1) GK_CASE(T, 8, 2) GK_CASE(T, 8, 3) GK_CASE(T, 8, 4)   \
    GK_CASE(T, 8, 5) GK_CASE(T, 8, 6) GK_CASE(T, 8, 7) GK_CASE(T, 8, 8)

/* Elements [start, stop) of the pass; na in 1..8, 0 <= nw <= na (checked by the caller). */
static void gk_stream_range_f64(double **p, int na, int nw, ptrdiff_t start, ptrdiff_t stop,
                                double scale)
{
    switch (na * 16 + nw) { GK_CASES(double) default: break; }
}

static void gk_stream_range_f32(float **p, int na, int nw, ptrdiff_t start, ptrdiff_t stop,
                                float scale)
{
    switch (na * 16 + nw) { GK_CASES(float) default: break; }
}

#endif /* GK_STREAM_H */
