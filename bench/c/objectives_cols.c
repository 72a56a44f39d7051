/* Time gradkern's F-order loop (gk_lin_cols_*) in C, without Python, beside the
 * C-order row loop (gk_lin_rows_c_*) on the same values: ns per row, median of
 * 31 timed repetitions.
 *
 *   gcc -O3 -fno-math-errno -Isrc/gradkern/_kernels bench/c/objectives_cols.c -o /tmp/cols
 *   /tmp/cols KIND D F32 FMA N     e.g. /tmp/cols 0 10 0 1 1000
 *
 * KIND 0 squared, 1 logistic, 2 Huber; D features (1..64); F32 1 for float32 X; FMA 1
 * to use the AVX-512 + FMA variant where the CPU has it; N rows (below 1e5 rows, each
 * repetition runs 2e6 / N calls on data in cache). The F-ordered copy is laid out as
 * the objectives' column-major copy of small X is (gradkern/objectives.py,
 * _column_copy): each column on a 64-byte boundary. Compile with
 * -DGK_COLS_ONE_MAXD=0 to time the blocked form of the F-order loop for every d (the
 * fast variant's one-pass form is used for d <= 16). Compiling takes ~2 min. */
#include "_objectives_simd.h"
#include <stdio.h>
#include <stdlib.h>
#include "timing.h"

int main(int argc, char **argv)
{
    enum { REPS = 31 };
    int kind, d, f32, fma, iters, rep, it, j, cols;
    gk_intp n, i, cs;
    double *X, *Xc, *y, w[65], g[65], res[2], ts[2][REPS];
    float *Xf, *Xfc;
    if (argc != 6) {
        fprintf(stderr, "usage: %s KIND D F32 FMA N\n", argv[0]);
        return 2;
    }
    kind = atoi(argv[1]);
    d = atoi(argv[2]);
    f32 = atoi(argv[3]);
    fma = atoi(argv[4]);
    n = atol(argv[5]);
    if (kind < 0 || kind > 2 || d < 1 || d > 64 || n < 1) {
        fprintf(stderr, "KIND in 0..2, D in 1..64, N >= 1\n");
        return 2;
    }
    cs = (n + 15) / 16 * 16;   /* column stride: 64 bytes for float32 and float64 */
    X = malloc((size_t)(n * d) * sizeof *X);
    Xf = malloc((size_t)(n * d) * sizeof *Xf);
    Xc = aligned_alloc(64, (size_t)(cs * d) * sizeof *Xc);
    Xfc = aligned_alloc(64, (size_t)(cs * d) * sizeof *Xfc);
    y = malloc((size_t)n * sizeof *y);
    if (!X || !Xf || !Xc || !Xfc || !y)
        return 1;
    srand(1);
    for (i = 0; i < n * d; i++) {
        X[i] = 2.0 * (rand() / (double)RAND_MAX - 0.5);
        Xf[i] = (float)X[i];
        Xc[(i % d) * cs + i / d] = X[i];
        Xfc[(i % d) * cs + i / d] = Xf[i];
    }
    for (i = 0; i < n; i++)
        y[i] = rand() % 2;
    for (j = 0; j < 65; j++)
        w[j] = 0.1 * (j % 7 - 3);
    printf("FMA variant in use: %d\n", gk_set_fast(fma));
    iters = n > 100000 ? 1 : (int)(2000000 / n);
    for (rep = 0; rep < REPS; rep++) {
        for (cols = 0; cols < 2; cols++) {
            double t = now_ns();
            for (it = 0; it < iters; it++) {
                for (j = 0; j < 65; j++)
                    g[j] = 0.0;
                res[0] = res[1] = 0.0;
                if (cols && f32)
                    gk_lin_cols_f32(Xfc, cs, d, y, NULL, w, 0, kind, 1.0, 0, n, g, res);
                else if (cols)
                    gk_lin_cols_f64(Xc, cs, d, y, NULL, w, 0, kind, 1.0, 0, n, g, res);
                else if (f32)
                    gk_lin_rows_c_f32(Xf, (const char *)(Xf + n * d), d, d, y, NULL, w, 0,
                                      kind, 1.0, NULL, 0, 1, 0, n, g, res);
                else
                    gk_lin_rows_c_f64(X, (const char *)(X + n * d), d, d, y, NULL, w, 0, kind,
                                      1.0, NULL, 0, 1, 0, n, g, res);
            }
            ts[cols][rep] = (now_ns() - t) / iters / n;
        }
    }
    qsort(ts[0], REPS, sizeof ts[0][0], cmp);
    qsort(ts[1], REPS, sizeof ts[1][0], cmp);
    printf("kind %d d %d f32 %d n %ld: F order (columns) median %.3f ns/row, C order (rows) "
           "%.3f ns/row; last loss sum %.17g g[0] %.17g\n", kind, d, f32, (long)n,
           ts[1][REPS / 2], ts[0][REPS / 2], res[0], g[0]);
    free(X);
    free(Xf);
    free(Xc);
    free(Xfc);
    free(y);
    return 0;
}
