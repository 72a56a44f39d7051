/* Time gradkern's dense loops on X streaming from memory, in C without Python, with
 * OpenMP threads each taking a contiguous half (or share) of the rows, as the
 * objectives do: a plain read of X (the floor), the F-order loop (gk_lin_cols_*) on an
 * F-ordered copy, and the C-order row loop (gk_lin_rows_c_*). Median ms of 15
 * repetitions, the three cases interleaved in each.
 *
 *   gcc -O3 -fno-math-errno -fopenmp -Isrc/gradkern/_kernels \
 *       bench/c/objectives_stream.c -o /tmp/stream
 *   /tmp/stream KIND D N THREADS F32     e.g. /tmp/stream 1 32 1000000 2 0
 *
 * KIND 0 squared, 1 logistic, 2 Huber; D features (1..256); N rows; F32 1 for float32
 * X. The AVX-512 + FMA variant is used where the CPU has it. X sits 16 bytes past a
 * 2 MB boundary in memory advised for 2 MB pages (MADV_HUGEPAGE), as numpy lays out
 * arrays of 4 MB and more on Linux: with 4 KB pages the loops and the read time
 * differently. The floor here is an XOR of X's 64-bit words, like gradkern's
 * bandwidth kernel (gk_stream.h). To compare variants of the loops, copy the headers
 * to a folder, edit them there, and pass that folder with -I (this file must not sit
 * beside the headers). Compiling takes ~1-3 min. Check a finding against the package
 * too (`gradkern bench`, or the package's functions timed from Python): gcc compiles
 * the same loop differently here and in the package's build (stop 19: this file's copy
 * of the pipelined loop, its margins not unrolled, ran 1.2-1.25x the floor at d = 32
 * while the package's, unrolled, ran 1.6-1.9x on the same data; the streaming copy now
 * fixes the unrolling with a pragma). */
#include "_objectives_simd.h"
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "timing.h"

#define HUGE_PAGE ((size_t)1 << 21)

/* nbytes (+ slack) on a 2 MB boundary, advised for 2 MB pages */
static char *alloc_huge(size_t nbytes)
{
    size_t size = (nbytes + 64 + HUGE_PAGE) & ~(HUGE_PAGE - 1);
    char *p = aligned_alloc(HUGE_PAGE, size);
    if (p)
        madvise(p, size, MADV_HUGEPAGE);
    return p;
}

__attribute__((target("avx2"))) static uint64_t read_words(const uint64_t *u, gk_intp a,
                                                            gk_intp b)
{
    uint64_t acc = 0;
    gk_intp i;
    for (i = a; i < b; i++)
        acc ^= u[i];
    return acc;
}

int main(int argc, char **argv)
{
    enum { REPS = 15, CASES = 3 };
    static const char *names[CASES] = {"floor (read X)", "F-order loop", "C-order row loop"};
    int kind, d, nt, f32, rep, c, j;
    gk_intp n, i, nwords;
    size_t xsize;
    char *raw, *rawF;
    double *y, w[257], ts[CASES][REPS];
    void *X, *XF;
    volatile uint64_t sink = 0;
    if (argc != 6) {
        fprintf(stderr, "usage: %s KIND D N THREADS F32\n", argv[0]);
        return 2;
    }
    kind = atoi(argv[1]);
    d = atoi(argv[2]);
    n = atol(argv[3]);
    nt = atoi(argv[4]);
    f32 = atoi(argv[5]);
    if (kind < 0 || kind > 2 || d < 1 || d > 256 || n < 16 || nt < 1) {
        fprintf(stderr, "KIND in 0..2, D in 1..256, N >= 16, THREADS >= 1\n");
        return 2;
    }
    xsize = (size_t)(n * d) * (f32 ? sizeof(float) : sizeof(double));
    nwords = (gk_intp)(xsize / 8);
    raw = alloc_huge(xsize + 16);
    rawF = alloc_huge(xsize);
    y = malloc((size_t)n * sizeof *y);
    if (!raw || !rawF || !y)
        return 1;
    X = raw + 16;
    XF = rawF;
    srand(1);
    for (i = 0; i < n; i++)
        for (j = 0; j < d; j++) {
            double v = 2.0 * (rand() / (double)RAND_MAX - 0.5);
            if (f32) {
                ((float *)X)[i * d + j] = (float)v;
                ((float *)XF)[j * n + i] = (float)v;
            } else {
                ((double *)X)[i * d + j] = v;
                ((double *)XF)[j * n + i] = v;
            }
        }
    for (i = 0; i < n; i++)
        y[i] = rand() % 2;
    for (j = 0; j <= 256; j++)
        w[j] = 0.1 * (j % 7 - 3);
    printf("FMA variant in use: %d, %d threads\n", gk_set_fast(1), nt);
    omp_set_num_threads(nt);
    for (rep = 0; rep < REPS; rep++)
        for (c = 0; c < CASES; c++) {
            double g[257] = {0}, res[2] = {0}, t = now_ns();
#pragma omp parallel
            {
                int tid = omp_get_thread_num();
                gk_intp k0 = n * tid / nt, k1 = n * (tid + 1) / nt;
                double gl[257] = {0}, rl[2] = {0};
                if (c == 0) {
                    sink ^= read_words((const uint64_t *)X, nwords * tid / nt,
                                       nwords * (tid + 1) / nt);
                } else if (c == 1) {
                    if (f32)
                        gk_lin_cols_f32(XF, n, d, y, NULL, w, 0, kind, 1.0, k0, k1, gl, rl);
                    else
                        gk_lin_cols_f64(XF, n, d, y, NULL, w, 0, kind, 1.0, k0, k1, gl, rl);
                } else if (f32) {
                    gk_lin_rows_c_f32(X, (const char *)X + xsize, d, d, y, NULL, w, 0, kind,
                                      1.0, NULL, 0, 1, k0, k1, gl, rl);
                } else {
                    gk_lin_rows_c_f64(X, (const char *)X + xsize, d, d, y, NULL, w, 0, kind,
                                      1.0, NULL, 0, 1, k0, k1, gl, rl);
                }
#pragma omp critical
                {
                    int jj;
                    for (jj = 0; jj < d; jj++)
                        g[jj] += gl[jj];
                    res[0] += rl[0];
                }
            }
            ts[c][rep] = (now_ns() - t) / 1e6;
            if (rep == 0 && c > 0)
                printf("%-17s loss sum %.12g g[0] %.12g\n", names[c], res[0], g[0]);
        }
    for (c = 0; c < CASES; c++) {
        qsort(ts[c], REPS, sizeof ts[c][0], cmp);
        printf("%-17s median %7.3f ms (min %.3f) = %.2fx the floor\n", names[c],
               ts[c][REPS / 2], ts[c][0], ts[c][REPS / 2] / ts[0][REPS / 2]);
    }
    free(raw);
    free(rawF);
    free(y);
    return 0;
}
