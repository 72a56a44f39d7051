/* The cost of one OpenMP parallel region on two threads (libgomp, threads kept warm
 * by running 100,000 regions in a row), five times:
 *
 *   gcc -O2 -fopenmp bench/c/omp_region.c -o /tmp/omp_region && /tmp/omp_region
 *
 * The objectives' row loops split rows over threads only when each thread gets enough
 * work for this to be small (MIN_WORK_PER_THREAD in _objectives.pyx). */
#include <omp.h>
#include <stdio.h>
#include "timing.h"

int main(void)
{
    enum { N = 100000 };
    volatile double s[2] = {0.0, 0.0};
    int rep, i;
    for (rep = 0; rep < 5; rep++) {
        double t = now_ns();
        for (i = 0; i < N; i++) {
#pragma omp parallel num_threads(2)
            { s[omp_get_thread_num() & 1] += 1.0; }
        }
        printf("%.1f ns per parallel region\n", (now_ns() - t) / N);
    }
    return 0;
}
