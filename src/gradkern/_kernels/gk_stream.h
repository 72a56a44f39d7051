/* The memory-bandwidth floor: one streaming in-place pass.
 *
 * p[0:na] are arrays of n elements; the first nw are read and written back,
 * the rest only read. Each written element becomes x + scale * (sum over all
 * arrays at that index). With scale = 0 the values stay the same, but the
 * compiler cannot drop the traffic (scale is a run-time value).
 *
 * With nw = 0 (a read-only pass) nothing is written, so the pass instead folds
 * the bit patterns of everything it reads into an XOR checksum that it returns
 * (an integer XOR vectorises, where a floating-point sum would be a serial
 * dependency chain); the caller hands it to Python, so the compiler cannot drop
 * the reads. The write passes return 0.
 *
 * Like the optimizer and objective loops it is compiled for AVX2 and baseline
 * x86-64 (gk_dispatch.h), so the floor is as wide as the kernels measured
 * against it.
 *
 * One loop per (na, nw) pair, so the per-element loops over arrays have
 * compile-time trip counts: they unroll and the element loop vectorises.
 */
#ifndef GK_STREAM_H
#define GK_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "gk_dispatch.h"  /* AVX2 + baseline variants chosen at load time, as the kernels */

/* Integer views of the float arrays for the read-only checksum. */
#if defined(__GNUC__) || defined(__clang__)
typedef uint64_t __attribute__((__may_alias__)) gk_bits_gk_f64;
typedef uint32_t __attribute__((__may_alias__)) gk_bits_gk_f32;
#else
typedef uint64_t gk_bits_gk_f64;
typedef uint32_t gk_bits_gk_f32;
#endif

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
        if ((NW) == 0) {                                            \
            const gk_bits_##T *b[NA];                               \
            for (int k = 0; k < (NA); k++) b[k] = (const gk_bits_##T *)q[k]; \
            GK_BITS_##T acc = 0;                                    \
            for (ptrdiff_t i = start; i < stop; i++)                \
                for (int k = 0; k < (NA); k++) acc ^= b[k][i];      \
            check = acc;                                            \
        } else {                                                    \
            GK_IVDEP                                                \
            for (ptrdiff_t i = start; i < stop; i++) {              \
                T s = 0;                                            \
                for (int k = 0; k < (NA); k++) s += q[k][i];        \
                for (int k = 0; k < (NW); k++) q[k][i] = q[k][i] + scale * s; \
            }                                                       \
        }                                                           \
    } while (0)

#define GK_BITS_gk_f64 uint64_t
#define GK_BITS_gk_f32 uint32_t
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

/* Elements [start, stop) of the pass; na in 1..8, 0 <= nw <= na (checked by the caller).
 * Returns the read-only checksum (0 for a pass that writes). */
typedef double gk_f64;
typedef float gk_f32;

GK_CLONES static uint64_t gk_stream_range_f64(double **p, int na, int nw, ptrdiff_t start,
                                    ptrdiff_t stop, double scale)
{
    uint64_t check = 0;
    switch (na * 16 + nw) { GK_CASES(gk_f64) default: break; }
    return check;
}

GK_CLONES static uint64_t gk_stream_range_f32(float **p, int na, int nw, ptrdiff_t start,
                                    ptrdiff_t stop, float scale)
{
    uint64_t check = 0;
    switch (na * 16 + nw) { GK_CASES(gk_f32) default: break; }
    return check;
}

#endif /* GK_STREAM_H */
