/* Time gradkern's dense C-ordered row loop (gk_lin_rows_c_*) in C, without Python:
 * ns per row and GB/s of X, median of 31 timed repetitions.
 *
 *   gcc -O3 -fno-math-errno -Isrc/gradkern/_kernels bench/c/objectives_rows.c -o /tmp/rows
 *   /tmp/rows KIND D F32 FMA N     e.g. /tmp/rows 1 32 0 1 1000000
 *
 * KIND 0 squared, 1 logistic, 2 Huber; D features; F32 1 for float32 X; FMA 1 to use
 * the AVX-512 + FMA variant of the one-pass loop where the CPU has it; N rows (below
 * 1e5 rows, each repetition runs 2e6 / N calls on data in cache). To compare variants
 * of the loops, copy the headers to a folder, edit them there, and pass that folder
 * with -I (this file must not sit beside the headers: #include "..." looks there
 * first). Compiling takes ~2 min (every table of the module is built). */
#include "_objectives_simd.h"
#include <stdio.h>
#include <stdlib.h>
#include "timing.h"

int main(int argc, char **argv)
{
    enum { REPS = 31 };
    int kind, d, f32, fma, iters, rep, it, j;
    gk_intp n, i;
    double *X, *y, w[64], g[64], res[2], ts[REPS];
    float *Xf;
    if (argc != 6) {
        fprintf(stderr, "usage: %s KIND D F32 FMA N\n", argv[0]);
        return 2;
    }
    kind = atoi(argv[1]);
    d = atoi(argv[2]);
    f32 = atoi(argv[3]);
    fma = atoi(argv[4]);
    n = atol(argv[5]);
    if (kind < 0 || kind > 2 || d < 1 || d > 63 || n < 1) {
        fprintf(stderr, "KIND in 0..2, D in 1..63, N >= 1\n");
        return 2;
    }
    X = malloc((size_t)(n * d) * sizeof *X);
    Xf = malloc((size_t)(n * d) * sizeof *Xf);
    y = malloc((size_t)n * sizeof *y);
    if (!X || !Xf || !y)
        return 1;
    srand(1);
    for (i = 0; i < n * d; i++) {
        X[i] = 2.0 * (rand() / (double)RAND_MAX - 0.5);
        Xf[i] = (float)X[i];
    }
    for (i = 0; i < n; i++)
        y[i] = rand() % 2;
    for (j = 0; j < 64; j++)
        w[j] = 0.1 * (j % 7 - 3);
    printf("FMA variant in use: %d\n", gk_set_fast(fma));
    iters = n > 100000 ? 1 : (int)(2000000 / n);
    for (rep = 0; rep < REPS; rep++) {
        double t = now_ns();
        for (it = 0; it < iters; it++) {
            for (j = 0; j < 64; j++)
                g[j] = 0.0;
            res[0] = res[1] = 0.0;
            if (f32)
                gk_lin_rows_c_f32(Xf, (const char *)(Xf + n * d), d, d, y, NULL, w, 0, kind,
                                  1.0, NULL, 0, 1, 0, n, g, res);
            else
                gk_lin_rows_c_f64(X, (const char *)(X + n * d), d, d, y, NULL, w, 0, kind,
                                  1.0, NULL, 0, 1, 0, n, g, res);
        }
        ts[rep] = (now_ns() - t) / iters / n;
    }
    qsort(ts, REPS, sizeof ts[0], cmp);
    printf("kind %d d %d f32 %d n %ld: median %.3f ns/row = %.2f GB/s of X (min %.3f); "
           "loss sum %.17g g[0] %.17g\n", kind, d, f32, (long)n, ts[REPS / 2],
           d * (f32 ? 4.0 : 8.0) / ts[REPS / 2], ts[0], res[0], g[0]);
    free(X);
    free(Xf);
    free(y);
    return 0;
}
