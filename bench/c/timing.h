/* Timing helpers shared by the C harnesses in bench/c (each includes this file by a
 * path relative to itself, so no -I is needed for it). */
#ifndef GK_BENCH_TIMING_H
#define GK_BENCH_TIMING_H

#include <time.h>

/* monotonic clock in nanoseconds */
static inline double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* qsort comparison of doubles, ascending (medians of timed repetitions) */
static inline int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif /* GK_BENCH_TIMING_H */
