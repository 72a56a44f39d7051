# cython: language_level=3, cdivision=True
"""Fused value-and-gradient kernels for gradkern.objectives.

Three layers (see STYLE.md):
1. per-sample math (``loss_dloss``, ``softmax_loss_dloss``, ...): ``_objectives.pxd``;
2. row loops over dense C-order X, dense F-order X (row blocks read column by
   column) and CSR X, reading each row once and accumulating its gradient
   contribution while it is in cache (below, ``_lin_*``, ``_softmax_*``,
   ``_hessp_*``). The hot loops for dense rows are C in ``_objectives_simd.h``
   (+ ``_objectives_rows.h``, ``_objectives_vmath.h``): dense C-order linear
   models in one pass over groups of 4 rows for small d (their margins, their
   losses in vector lanes with branch-free exp/log1p, their gradient in
   registers), in 64-row blocks otherwise; softmax cross-entropy over CSR rows
   and dense rows with unit column stride 4 rows at a time
   (``_objectives_softmax.h``: scores, losses with the classes in vector lanes,
   gradient), row by row otherwise (the scores/gradient of a row and its
   per-sample stage). On x86-64 Linux/GCC they are built for AVX2 and baseline
   x86-64 (``target_clones``) with no FMA and fixed summation orders, so that
   both clones give the same bits (checked by the slow ISA tests); the one-pass
   loop and the 4-row softmax loop also have an AVX-512 + FMA variant, used
   where the CPU has it (``set_fma``), whose results agree with those to
   rounding, and that variant has a software-pipelined loop of its own for
   contiguous rows with 16 < d <= 256 (``gk_lin_pipe8`` in
   ``_objectives_rows.h``); contiguous rows of dense F-ordered X go through a
   loop over blocks of rows read column by column (``_objectives_cols.h``,
   built the same ways; its fast variant makes one pass for d <= 16);
3. the Python layer ``gradkern/objectives.py`` validates everything first:
   these kernels trust their inputs.

Rows are processed in ``nt`` contiguous chunks (one per thread, static), each
thread accumulating into its own gradient buffer; the buffers are then summed
in thread order, so a result is deterministic for a fixed thread count.
X may be float32 or float64; every sum is accumulated in float64, and w, the
gradient and the loss are float64.
"""
import os

cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport exp, log, fabs, NAN
from libc.stdlib cimport malloc, free
from libc.string cimport memset
from cpython.slice cimport PySlice_Check, PySlice_GetIndicesEx

from gradkern._kernels._openmp cimport gk_threads_for
from gradkern._kernels._typedefs cimport float32_t, float64_t, intp_t, floating_in

cnp.import_array()


def set_fma(bint on):
    """Use (``on``) or not the fast variant of the one-pass loop over dense
    C-ordered X (float64 ``d <= 16``, float32 ``d <= 32``), its pipelined loop
    over contiguous rows (``16 < d <= 256``), the F-order loop and the 4-row
    softmax loop:
    AVX-512 with fused multiply-adds. It is used only where the
    build has it and the CPU supports it; returns whether it is now in use. On by
    default, unless the environment variable GRADKERN_NO_FMA is set (to anything
    but "0") at import. Its results agree with the AVX2 and baseline loops to
    rounding; those two give the same bits on every x86-64 CPU."""
    return bool(gk_set_fast(on))


def fma_built():
    """Whether this build has the fast (AVX-512 + FMA) variant."""
    return bool(GK_HAVE_FAST)


def fma_in_use():
    """Whether the fast (AVX-512 + FMA) variant is in use now."""
    return bool(gk_use_fast)


set_fma(os.environ.get("GRADKERN_NO_FMA", "") in ("", "0"))

cdef extern from "_objectives_simd.h":
    # Fused row loops over dense C-ordered X with a vectorized logistic stage
    # (see the header): same contract as _lin_dense_rows with unit column stride.
    void gk_lin_rows_c_f64(const float64_t *X, const char *X_end, intp_t rs, intp_t d,
                           const float64_t *y, const float64_t *sw, const float64_t *w,
                           int fit_intercept, int kind, double delta, const intp_t *rows,
                           intp_t start, intp_t step, intp_t k0, intp_t k1, float64_t *g,
                           float64_t *res) noexcept nogil
    # the same over the contiguous rows r0:r1 of dense F-ordered X (column
    # stride cs), read in blocks of rows column by column (_objectives_cols.h);
    # returns 0 (and does nothing) in builds without vector extensions
    int gk_lin_cols_f64(const float64_t *X, intp_t cs, intp_t d, const float64_t *y,
                         const float64_t *sw, const float64_t *w, int fit_intercept,
                         int kind, double delta, intp_t r0, intp_t r1, float64_t *g,
                         float64_t *res) noexcept nogil
    int gk_lin_cols_f32(const float32_t *X, intp_t cs, intp_t d, const float64_t *y,
                         const float64_t *sw, const float64_t *w, int fit_intercept,
                         int kind, double delta, intp_t r0, intp_t r1, float64_t *g,
                         float64_t *res) noexcept nogil
    # the same over CSR X (data, intp indices/indptr)
    void gk_lin_rows_csr_f64(const float64_t *data, const intp_t *indices,
                             const intp_t *indptr, intp_t d, const float64_t *y,
                             const float64_t *sw, const float64_t *w, int fit_intercept,
                             int kind, double delta, const intp_t *rows, intp_t start,
                             intp_t step, intp_t k0, intp_t k1, float64_t *g,
                             float64_t *res) noexcept nogil
    void gk_lin_rows_csr_f32(const float32_t *data, const intp_t *indices,
                             const intp_t *indptr, intp_t d, const float64_t *y,
                             const float64_t *sw, const float64_t *w, int fit_intercept,
                             int kind, double delta, const intp_t *rows, intp_t start,
                             intp_t step, intp_t k0, intp_t k1, float64_t *g,
                             float64_t *res) noexcept nogil
    enum: GK_BLOCK
    # softmax cross-entropy over rows k0:k1 of dense X with unit column stride,
    # 4 rows at a time (_objectives_softmax.h): adds sum s_i loss_i, sum s_i to
    # res[0:2] and the raw gradient to g (unless NULL); buf: (2 d + 4) KP doubles,
    # KP = gk_softmax_kp(K) (the classes padded). Built with vector extensions
    # (GK_HAVE_VEC); without, they return 0 and do nothing.
    enum: GK_HAVE_VEC
    intp_t gk_softmax_kp(intp_t K) noexcept nogil
    # the same over CSR X (data, intp indices/indptr)
    int gk_softmax_rows_csr_f64(const float64_t *data, const intp_t *indices,
                                const intp_t *indptr, intp_t d, const intp_t *labels,
                                const float64_t *sw, const float64_t *W, intp_t K,
                                const intp_t *rows, intp_t start, intp_t step, intp_t k0,
                                intp_t k1, float64_t *g, float64_t *res,
                                float64_t *buf) noexcept nogil
    int gk_softmax_rows_csr_f32(const float32_t *data, const intp_t *indices,
                                const intp_t *indptr, intp_t d, const intp_t *labels,
                                const float64_t *sw, const float64_t *W, intp_t K,
                                const intp_t *rows, intp_t start, intp_t step, intp_t k0,
                                intp_t k1, float64_t *g, float64_t *res,
                                float64_t *buf) noexcept nogil
    int gk_softmax_rows_c_f64(const float64_t *X, intp_t rs, intp_t d,
                              const intp_t *labels, const float64_t *sw,
                              const float64_t *W, intp_t K, const intp_t *rows,
                              intp_t start, intp_t step, intp_t k0, intp_t k1,
                              float64_t *g, float64_t *res, float64_t *buf) noexcept nogil
    int gk_softmax_rows_c_f32(const float32_t *X, intp_t rs, intp_t d,
                              const intp_t *labels, const float64_t *sw,
                              const float64_t *W, intp_t K, const intp_t *rows,
                              intp_t start, intp_t step, intp_t k0, intp_t k1,
                              float64_t *g, float64_t *res, float64_t *buf) noexcept nogil
    enum: GK_HAVE_FAST
    # use the fast (AVX-512 + FMA) variant of the one-pass loop where the CPU has
    # it; returns whether it is in use
    int gk_set_fast(int on) noexcept nogil
    int gk_use_fast
    # sum_t s_t loss_t of n <= GK_BLOCK samples (margins z, targets y, weights s);
    # dz[t] = s_t d loss_t / d z_t (OUT)
    double gk_loss_block(int kind, intp_t n, const float64_t *z, const float64_t *y,
                         const float64_t *s, double delta, float64_t *dz) noexcept nogil
    # softmax cross-entropy of one sample (contract of softmax_loss_dloss)
    double gk_softmax_dloss(const float64_t *z, intp_t label, intp_t K,
                            float64_t *dz) noexcept nogil
    # y[0:n] += a * x[0:n], x and y disjoint (restrict: vectorizes)
    void gk_axpy_nr(intp_t n, double a, const float64_t *x, float64_t *y) noexcept nogil
    # class scores z[0:K] = x @ W of one dense row (column stride cs), W (d, K) C order
    void gk_scores_double(const float64_t *x, intp_t cs, intp_t d, const float64_t *W,
                          intp_t K, float64_t *z) noexcept nogil
    void gk_scores_float(const float32_t *x, intp_t cs, intp_t d, const float64_t *W,
                         intp_t K, float64_t *z) noexcept nogil
    # G[j, 0:K] += (s x[j cs]) dz[0:K] for j < d
    void gk_scores_grad_double(const float64_t *x, intp_t cs, intp_t d, double s,
                               const float64_t *dz, intp_t K, float64_t *G) noexcept nogil
    void gk_scores_grad_float(const float32_t *x, intp_t cs, intp_t d, double s,
                              const float64_t *dz, intp_t K, float64_t *G) noexcept nogil
    void gk_lin_rows_c_f32(const float32_t *X, const char *X_end, intp_t rs, intp_t d,
                           const float64_t *y, const float64_t *sw, const float64_t *w,
                           int fit_intercept, int kind, double delta, const intp_t *rows,
                           intp_t start, intp_t step, intp_t k0, intp_t k1, float64_t *g,
                           float64_t *res) noexcept nogil

cdef enum:
    LAYOUT_C = 0
    LAYOUT_F = 1
    LAYOUT_CSR = 2
    OP_LINEAR = 0     # one output per sample: least squares, logistic, Huber
    OP_SOFTMAX = 1    # K outputs per sample: softmax cross-entropy
    OP_HESSP = 2      # Hessian-vector product of OP_LINEAR
    BLK = 256         # rows per block for F-ordered X
    MIN_WORK_PER_THREAD = 1 << 16   # multiply-adds a thread should get at least
    SM_MAX_SCRATCH = 1 << 23  # doubles of the 4-row softmax loop's scratch per thread
                              # (64 MB: W of ~350,000 features x 10 classes)
    SM_MIN_ENTRIES = 8        # ... and entries of X per feature it needs (_softmax_plan)

LAYOUTS = {"C": LAYOUT_C, "F": LAYOUT_F, "CSR": LAYOUT_CSR}
LOSSES = {"squared": LOSS_SQUARED, "logistic": LOSS_LOGISTIC, "huber": LOSS_HUBER}


# ---------------------------------------------------------------- layer 1 (rest)

cdef float64_t softmax_loss_dloss(const float64_t *z, intp_t label, intp_t K,
                                  float64_t *dz) noexcept nogil:
    # max-shifted (log-sum-exp) form; exp of z - max <= 0 in SIMD lanes
    return gk_softmax_dloss(z, label, K, dz)


cdef float64_t rosenbrock_value_grad(const float64_t *x, intp_t n, float64_t *g) noexcept nogil:
    cdef intp_t i
    cdef float64_t f = 0.0, t, u
    if g != NULL:
        g[0] = 0.0
    for i in range(n - 1):
        t = x[i + 1] - x[i] * x[i]
        u = 1.0 - x[i]
        f += 100.0 * t * t + u * u
        if g != NULL:
            g[i] += -400.0 * x[i] * t - 2.0 * u
            g[i + 1] = 200.0 * t
    return f


# ---------------------------------------------------------------- layer 2: row loops

cdef struct Ctx:
    const void *X            # dense X (row stride rs, column stride cs) or CSR data
    const char *X_end        # dense C order: one past X's last byte (rows read in
                             # whole vectors must end before it)
    bint f32                 # X holds float32
    int layout
    intp_t rs, cs, d         # strides in elements; d features
    const intp_t *indices    # CSR
    const intp_t *indptr
    const float64_t *y       # targets (OP_LINEAR / OP_HESSP)
    const intp_t *labels     # classes (OP_SOFTMAX)
    const float64_t *sw      # sample weights or NULL (all ones)
    bint fit_intercept
    int kind
    float64_t delta
    intp_t K                 # classes (OP_SOFTMAX)
    intp_t G                 # length of w and of the gradient
    # per call
    const float64_t *w
    const float64_t *p       # direction (OP_HESSP)
    const intp_t *rows       # minibatch row indices or NULL: rows start + k * step
    intp_t start, step, n_sub
    bint sm_blocked          # OP_SOFTMAX: this call's rows go 4 at a time (_softmax_plan)


cdef inline intp_t _row(const Ctx *c, intp_t k) noexcept nogil:
    if c.rows != NULL:
        return c.rows[k]
    return c.start + k * c.step


cdef inline float64_t _dot_c(const floating_in *x, const float64_t *w, intp_t d) noexcept nogil:
    # four independent partial sums: no serial add chain, and SIMD-friendly
    cdef float64_t s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    cdef intp_t j, d4 = d - d % 4
    for j in range(0, d4, 4):
        s0 += x[j] * w[j]
        s1 += x[j + 1] * w[j + 1]
        s2 += x[j + 2] * w[j + 2]
        s3 += x[j + 3] * w[j + 3]
    for j in range(d4, d):
        s0 += x[j] * w[j]
    return (s0 + s1) + (s2 + s3)


cdef inline float64_t _dot_s(const floating_in *x, intp_t cs, const float64_t *w,
                             intp_t d) noexcept nogil:
    cdef float64_t s0 = 0.0, s1 = 0.0
    cdef intp_t j, d2 = d - d % 2
    for j in range(0, d2, 2):
        s0 += x[j * cs] * w[j]
        s1 += x[(j + 1) * cs] * w[j + 1]
    if d2 < d:
        s0 += x[d2 * cs] * w[d2]
    return s0 + s1


cdef inline void _axpy_c(float64_t a, const floating_in *x, float64_t *g, intp_t d) noexcept nogil:
    cdef intp_t j
    for j in range(d):
        g[j] += a * x[j]


cdef inline void _axpy_s(float64_t a, const floating_in *x, intp_t cs, float64_t *g,
                         intp_t d) noexcept nogil:
    cdef intp_t j
    for j in range(d):
        g[j] += a * x[j * cs]


cdef void _lin_dense_rows(const Ctx *c, const floating_in *X, intp_t k0, intp_t k1,
                          float64_t *g, float64_t *res) noexcept nogil:
    """Dense X read row by row (C order: contiguous rows)."""
    cdef intp_t k, i, d = c.d, rs = c.rs, cs = c.cs
    cdef const floating_in *x
    cdef float64_t z, dz, s, a, L = 0.0, S = 0.0
    cdef float64_t b = c.w[d] if c.fit_intercept else 0.0
    for k in range(k0, k1):
        i = _row(c, k)
        x = X + i * rs
        if cs == 1:
            z = _dot_c(x, c.w, d) + b
        else:
            z = _dot_s(x, cs, c.w, d) + b
        s = c.sw[i] if c.sw != NULL else 1.0
        L += s * loss_dloss(c.kind, z, c.y[i], c.delta, &dz)
        S += s
        if g != NULL:
            a = s * dz
            if cs == 1:
                _axpy_c(a, x, g, d)
            else:
                _axpy_s(a, x, cs, g, d)
            if c.fit_intercept:
                g[d] += a
    res[0] += L
    res[1] += S


cdef void _lin_dense_f(const Ctx *c, const floating_in *X, intp_t k0, intp_t k1,
                       float64_t *g, float64_t *res) noexcept nogil:
    """F-ordered X: blocks of BLK rows, read column by column (each column piece is
    contiguous), twice while the block is in cache: margins, then gradient."""
    cdef intp_t kb, t, nb, j, d = c.d, cs = c.cs
    cdef intp_t ib[BLK]
    cdef float64_t zb[BLK]
    cdef float64_t ab[BLK]
    cdef float64_t yb[BLK]
    cdef float64_t sb[BLK]
    cdef intp_t m
    cdef const floating_in *col
    cdef float64_t wj, acc, L = 0.0, S = 0.0
    cdef float64_t b = c.w[d] if c.fit_intercept else 0.0
    cdef bint contiguous
    kb = k0
    while kb < k1:
        nb = min(<intp_t>BLK, k1 - kb)
        kb += nb
        for t in range(nb):
            ib[t] = _row(c, kb - nb + t)
            zb[t] = b
        contiguous = ib[nb - 1] - ib[0] == nb - 1 and c.rows == NULL
        for j in range(d):
            col = X + j * cs
            wj = c.w[j]
            if contiguous:
                col = col + ib[0]
                for t in range(nb):
                    zb[t] += col[t] * wj
            else:
                for t in range(nb):
                    zb[t] += col[ib[t]] * wj
        for t in range(nb):
            yb[t] = c.y[ib[t]]
            sb[t] = c.sw[ib[t]] if c.sw != NULL else 1.0
            S += sb[t]
        t = 0
        while t < nb:    # the vectorized loss stage, GK_BLOCK samples at a time
            m = min(<intp_t>GK_BLOCK, nb - t)
            L += gk_loss_block(c.kind, m, zb + t, yb + t, sb + t, c.delta, ab + t)
            t += m
        if g != NULL:
            for j in range(d):
                col = X + j * cs
                acc = 0.0
                if contiguous:
                    col = col + ib[0]
                    for t in range(nb):
                        acc += ab[t] * col[t]
                else:
                    for t in range(nb):
                        acc += ab[t] * col[ib[t]]
                g[j] += acc
            if c.fit_intercept:
                acc = 0.0
                for t in range(nb):
                    acc += ab[t]
                g[d] += acc
    res[0] += L
    res[1] += S


cdef void _softmax_rows(const Ctx *c, const floating_in *X, intp_t k0, intp_t k1,
                        float64_t *g, float64_t *res, float64_t *z) noexcept nogil:
    """Softmax cross-entropy; W = w.reshape(d, K) (C order). Dense (any strides) or
    CSR. z: scratch of 2 K doubles."""
    cdef intp_t k, i, j, q, q0, q1, cc, K = c.K, d = c.d
    cdef float64_t *dz = z + K
    cdef float64_t s, L = 0.0, S = 0.0
    cdef const floating_in *x
    for k in range(k0, k1):
        i = _row(c, k)
        if c.layout == LAYOUT_CSR:
            for cc in range(K):
                z[cc] = 0.0
            q0 = c.indptr[i]
            q1 = c.indptr[i + 1]
            for q in range(q0, q1):
                gk_axpy_nr(K, X[q], c.w + c.indices[q] * K, z)
        else:
            x = X + i * c.rs
            if floating_in is float32_t:
                gk_scores_float(x, c.cs, d, c.w, K, z)
            else:
                gk_scores_double(x, c.cs, d, c.w, K, z)
        s = c.sw[i] if c.sw != NULL else 1.0
        L += s * softmax_loss_dloss(z, c.labels[i], K, dz)
        S += s
        if g != NULL:
            if c.layout == LAYOUT_CSR:
                for q in range(q0, q1):
                    gk_axpy_nr(K, s * X[q], dz, g + c.indices[q] * K)
            elif floating_in is float32_t:
                gk_scores_grad_float(x, c.cs, d, s, dz, K, g)
            else:
                gk_scores_grad_double(x, c.cs, d, s, dz, K, g)
    res[0] += L
    res[1] += S


cdef void _hessp_rows(const Ctx *c, const floating_in *X, intp_t k0, intp_t k1,
                      float64_t *g, float64_t *res) noexcept nogil:
    """sum_i s_i h_i (x_i . p) x_i with h_i the loss curvature at x_i . w (+ intercept)."""
    cdef intp_t k, i, q, q0, q1, d = c.d, cs = c.cs
    cdef const floating_in *x
    cdef float64_t z, zp, s, a, S = 0.0
    cdef float64_t b = c.w[d] if c.fit_intercept else 0.0
    cdef float64_t pb = c.p[d] if c.fit_intercept else 0.0
    for k in range(k0, k1):
        i = _row(c, k)
        s = c.sw[i] if c.sw != NULL else 1.0
        S += s
        if c.layout == LAYOUT_CSR:
            q0 = c.indptr[i]
            q1 = c.indptr[i + 1]
            z = b
            zp = pb
            for q in range(q0, q1):
                z += X[q] * c.w[c.indices[q]]
                zp += X[q] * c.p[c.indices[q]]
            a = s * loss_hess(c.kind, z, c.y[i], c.delta) * zp
            for q in range(q0, q1):
                g[c.indices[q]] += a * X[q]
        else:
            x = X + i * c.rs
            if cs == 1:
                z = _dot_c(x, c.w, d) + b
                zp = _dot_c(x, c.p, d) + pb
            else:
                z = _dot_s(x, cs, c.w, d) + b
                zp = _dot_s(x, cs, c.p, d) + pb
            a = s * loss_hess(c.kind, z, c.y[i], c.delta) * zp
            if cs == 1:
                _axpy_c(a, x, g, d)
            else:
                _axpy_s(a, x, cs, g, d)
        if c.fit_intercept:
            g[d] += a
    res[1] += S


cdef bint _softmax_plan(const Ctx *c) noexcept nogil:
    """Whether this call's softmax rows go 4 at a time through
    gk_softmax_rows_{c,csr}_*: built (GK_HAVE_VEC); CSR or unit column stride; per-thread scratch
    (padded copies of W and of the gradient) at most SM_MAX_SCRATCH doubles; and
    at least SM_MIN_ENTRIES entries of X per feature in the rows (dense: n_sub d;
    CSR: their nonzeros), since those copies cost O(d K) per call (a 64-row
    minibatch of sparse X with 1e4 features spent ~10x its work there). Else row
    by row (_softmax_rows), whose scratch is 2 K doubles."""
    cdef intp_t k, i, nnz = 0
    if not GK_HAVE_VEC or not (c.layout == LAYOUT_CSR or c.cs == 1) or \
            (2 * c.d + 4) * gk_softmax_kp(c.K) > SM_MAX_SCRATCH:
        return False
    if c.layout != LAYOUT_CSR:
        return c.n_sub >= SM_MIN_ENTRIES
    if c.rows == NULL and c.step == 1:
        nnz = c.indptr[c.start + c.n_sub] - c.indptr[c.start]
    else:
        for k in range(c.n_sub):
            i = _row(c, k)
            nnz += c.indptr[i + 1] - c.indptr[i]
    return nnz >= SM_MIN_ENTRIES * c.d


cdef inline intp_t _softmax_scratch(const Ctx *c) noexcept nogil:
    """Doubles of scratch one thread's softmax rows take: scores and their
    gradient (2 K, _softmax_rows), then for gk_softmax_rows_{c,csr}_* padded
    copies of W and of the gradient and the scores of 4 rows ((2 d + 4) KP)."""
    return 2 * c.K + ((2 * c.d + 4) * gk_softmax_kp(c.K) if c.sm_blocked else 0)


cdef int _softmax_blocked_rows(const Ctx *c, intp_t k0, intp_t k1, float64_t *g,
                               float64_t *res, float64_t *buf) noexcept nogil:
    """Rows k0:k1 through gk_softmax_rows_{csr,c}_* (layout and dtype); returns
    what they return (0: not built, nothing done)."""
    if c.layout == LAYOUT_CSR:
        if c.f32:
            return gk_softmax_rows_csr_f32(<const float32_t *>c.X, c.indices, c.indptr, c.d,
                                           c.labels, c.sw, c.w, c.K, c.rows, c.start,
                                           c.step, k0, k1, g, res, buf)
        return gk_softmax_rows_csr_f64(<const float64_t *>c.X, c.indices, c.indptr, c.d,
                                       c.labels, c.sw, c.w, c.K, c.rows, c.start, c.step,
                                       k0, k1, g, res, buf)
    if c.f32:
        return gk_softmax_rows_c_f32(<const float32_t *>c.X, c.rs, c.d, c.labels, c.sw, c.w,
                                     c.K, c.rows, c.start, c.step, k0, k1, g, res, buf)
    return gk_softmax_rows_c_f64(<const float64_t *>c.X, c.rs, c.d, c.labels, c.sw, c.w,
                                 c.K, c.rows, c.start, c.step, k0, k1, g, res, buf)


cdef void _chunk(const Ctx *c, int op, intp_t k0, intp_t k1, float64_t *g, float64_t *res,
                 float64_t *scratch) noexcept nogil:
    """Rows k0:k1 of the minibatch: dispatch on operation, layout and dtype."""
    cdef int done
    if op == OP_SOFTMAX:
        # CSR, and dense rows with unit column stride: 4 rows at a time in C
        # where _softmax_plan chose it; else the loop above
        if c.sm_blocked and _softmax_blocked_rows(c, k0, k1, g, res, scratch + 2 * c.K):
            return
        if c.f32:
            _softmax_rows(c, <const float32_t *>c.X, k0, k1, g, res, scratch)
        else:
            _softmax_rows(c, <const float64_t *>c.X, k0, k1, g, res, scratch)
    elif op == OP_HESSP:
        if c.f32:
            _hessp_rows(c, <const float32_t *>c.X, k0, k1, g, res)
        else:
            _hessp_rows(c, <const float64_t *>c.X, k0, k1, g, res)
    elif c.layout == LAYOUT_CSR:
        if c.f32:
            gk_lin_rows_csr_f32(<const float32_t *>c.X, c.indices, c.indptr, c.d, c.y, c.sw,
                                c.w, c.fit_intercept, c.kind, c.delta, c.rows, c.start,
                                c.step, k0, k1, g, res)
        else:
            gk_lin_rows_csr_f64(<const float64_t *>c.X, c.indices, c.indptr, c.d, c.y, c.sw,
                                c.w, c.fit_intercept, c.kind, c.delta, c.rows, c.start,
                                c.step, k0, k1, g, res)
    elif c.layout == LAYOUT_F:
        # contiguous rows: the C loop over blocks of rows (_objectives_cols.h)
        if c.rows == NULL and c.step == 1:
            if c.f32:
                done = gk_lin_cols_f32(<const float32_t *>c.X, c.cs, c.d, c.y, c.sw, c.w,
                                       c.fit_intercept, c.kind, c.delta, c.start + k0,
                                       c.start + k1, g, res)
            else:
                done = gk_lin_cols_f64(<const float64_t *>c.X, c.cs, c.d, c.y, c.sw, c.w,
                                       c.fit_intercept, c.kind, c.delta, c.start + k0,
                                       c.start + k1, g, res)
            if done:
                return
        if c.f32:
            _lin_dense_f(c, <const float32_t *>c.X, k0, k1, g, res)
        else:
            _lin_dense_f(c, <const float64_t *>c.X, k0, k1, g, res)
    elif c.cs == 1:
        # C order (_objectives_rows.h): for small d one pass over groups of 4
        # rows (margins, losses in vector lanes, gradient in registers); else
        # blocks of rows: margins, a vectorized loss stage, then the gradient
        # while the block is still in L1
        if c.f32:
            gk_lin_rows_c_f32(<const float32_t *>c.X, c.X_end, c.rs, c.d, c.y, c.sw, c.w,
                              c.fit_intercept, c.kind, c.delta, c.rows, c.start, c.step,
                              k0, k1, g, res)
        else:
            gk_lin_rows_c_f64(<const float64_t *>c.X, c.X_end, c.rs, c.d, c.y, c.sw, c.w,
                              c.fit_intercept, c.kind, c.delta, c.rows, c.start, c.step,
                              k0, k1, g, res)
    else:
        if c.f32:
            _lin_dense_rows(c, <const float32_t *>c.X, k0, k1, g, res)
        else:
            _lin_dense_rows(c, <const float64_t *>c.X, k0, k1, g, res)


cdef void _run(const Ctx *c, int op, int nt, float64_t *g, float64_t *acc, float64_t *res,
               float64_t *scratch) noexcept nogil:
    """All rows on nt threads. g (OUT, length G, may be NULL) receives the raw
    sum; acc holds nt * G doubles when nt > 1; res (2 * nt) receives per-thread
    (sum s_i loss_i, sum s_i); scratch holds nt * _softmax_scratch(c) doubles for
    OP_SOFTMAX."""
    cdef intp_t G = c.G, n = c.n_sub, j
    cdef int t
    memset(res, 0, 2 * nt * sizeof(float64_t))
    if g != NULL:
        memset(g, 0, G * sizeof(float64_t))
    if nt <= 1:
        _chunk(c, op, 0, n, g, res, scratch)
        return
    if g != NULL:
        memset(acc, 0, nt * G * sizeof(float64_t))
    for t in prange(nt, schedule='static', num_threads=nt):
        _chunk(c, op, (t * n) // nt, ((t + 1) * n) // nt,
               acc + t * G if g != NULL else NULL, res + 2 * t,
               scratch + t * _softmax_scratch(c) if scratch != NULL else NULL)
    for t in range(1, nt):
        res[0] += res[2 * t]
        res[1] += res[2 * t + 1]
    if g != NULL:
        for t in range(nt):
            for j in range(G):
                g[j] += acc[t * G + j]


cdef void _mean_plus_l2(float64_t *g, intp_t G, float64_t S, double l2, const float64_t *v,
                        intp_t n_pen) noexcept nogil:
    """g[j] = g[j] / S + l2 v[j] (j < n_pen; the l2 term only when l2 > 0, so no
    0 * inf): a raw sum made the weighted mean plus the penalty's derivative."""
    cdef intp_t j
    if l2 != 0.0:
        for j in range(G):
            g[j] = g[j] / S + (l2 * v[j] if j < n_pen else 0.0)
    else:
        for j in range(G):
            g[j] = g[j] / S


cdef class LinearProblem:
    """Data of one objective (kernel side; trusts its input).

    ``op`` is OP_LINEAR (``kind`` a LOSS_* constant) or OP_SOFTMAX. ``X`` is a
    2-D float32/float64 array whose strides are whole elements (layout "C"/"F"),
    or CSR ``data`` with intp ``indices``/``indptr`` (layout "CSR"). ``y``:
    float64 targets (OP_LINEAR) or intp labels (OP_SOFTMAX); ``sw``: float64
    weights or None. ``n_pen``: the leading entries of w that the l2 term
    penalizes (all but the intercept).
    """
    cdef Ctx c
    cdef int op
    cdef intp_t n_pen
    cdef intp_t work_per_row
    cdef intp_t n_rows       # rows of X
    cdef object keep

    def __init__(self, int op, cnp.ndarray X, str layout, object indices, object indptr,
                 cnp.ndarray y, object sw, intp_t d, intp_t K, bint fit_intercept,
                 str kind, double delta):
        self.keep = (X, indices, indptr, y, sw)
        self.op = op
        memset(&self.c, 0, sizeof(Ctx))
        self.c.X = cnp.PyArray_DATA(X)
        self.c.f32 = X.dtype.itemsize == 4
        self.c.layout = LAYOUTS[layout]
        if self.c.layout == LAYOUT_CSR:
            self.c.indices = <const intp_t *>cnp.PyArray_DATA(indices)
            self.c.indptr = <const intp_t *>cnp.PyArray_DATA(indptr)
        else:
            self.c.rs = X.strides[0] // X.itemsize
            self.c.cs = X.strides[1] // X.itemsize
            self.c.X_end = <const char *>self.c.X
            if X.shape[0] > 0 and X.shape[1] > 0 and self.c.rs > 0 and self.c.cs > 0:
                self.c.X_end += ((X.shape[0] - 1) * self.c.rs + (X.shape[1] - 1) * self.c.cs
                                 + 1) * X.itemsize
        if op == OP_SOFTMAX:
            self.c.labels = <const intp_t *>cnp.PyArray_DATA(y)
        else:
            self.c.y = <const float64_t *>cnp.PyArray_DATA(y)
        self.c.sw = NULL if sw is None else <const float64_t *>cnp.PyArray_DATA(sw)
        self.c.d = d
        self.c.K = K if op == OP_SOFTMAX else 1
        self.c.fit_intercept = fit_intercept
        self.c.kind = LOSSES[kind]
        self.c.delta = delta
        self.c.G = d * K if op == OP_SOFTMAX else d + (1 if fit_intercept else 0)
        self.n_pen = d * K if op == OP_SOFTMAX else d
        if self.c.layout == LAYOUT_CSR:
            n_rows = indptr.shape[0] - 1
            self.n_rows = n_rows
            self.work_per_row = (1 + self.c.indptr[n_rows] // max(n_rows, 1)) * self.c.K
        else:
            self.n_rows = X.shape[0]
            self.work_per_row = (d + 1) * self.c.K

    cdef int _set_rows(self, object rows, intp_t start, intp_t step, intp_t n_sub) except -1:
        self.c.rows = NULL if rows is None else \
            <const intp_t *>cnp.PyArray_DATA(<cnp.ndarray>rows)
        self.c.start = start
        self.c.step = step
        self.c.n_sub = n_sub
        return 0

    cdef int _threads(self, int n_threads):
        # enough rows per thread that the thread start-up cost is small
        return gk_threads_for(n_threads, self.c.n_sub,
                              max(<intp_t>1, MIN_WORK_PER_THREAD // self.work_per_row))

    def threads_used(self, intp_t n_sub, int n_threads):
        """How many threads a call on ``n_sub`` rows with ``n_threads`` runs on."""
        self.c.n_sub = n_sub
        return self._threads(n_threads)

    def softmax_blocked(self, object rows, intp_t start, intp_t step, intp_t n_sub):
        """Whether a softmax call on these rows (as for value_grad) runs 4 rows at
        a time (_softmax_plan) rather than row by row."""
        self._set_rows(rows, start, step, n_sub)
        return bool(_softmax_plan(&self.c))

    def value_grad(self, cnp.ndarray w, object out, object rows, intp_t start, intp_t step,
                   intp_t n_sub, double l2, int n_threads):
        """Loss (weighted mean + 0.5 l2 ||w_pen||^2) and, when ``out`` is an array,
        its gradient written to ``out`` (float64, C-contiguous, length G).
        Returns ``(loss, weight_sum)``; loss is NaN when weight_sum == 0."""
        cdef float64_t *g = NULL
        cdef float64_t L, S
        self._set_rows(rows, start, step, n_sub)
        if out is not None:
            g = <float64_t *>cnp.PyArray_DATA(<cnp.ndarray>out)
        self._value_grad(<const float64_t *>cnp.PyArray_DATA(w), g, l2, n_threads, &L, &S)
        return L, S

    def value_grad_fast(self, object w, object out, object rows, double l2, int n_threads,
                        bint with_grad=True):
        """Fast path of ``value_and_grad`` for the plain cases only: ``w`` an exact
        float64 ndarray of length G, C-contiguous and aligned; ``out`` None (a new
        array is returned; none with ``with_grad`` False, the loss only) or such
        an array, also writeable; ``rows`` None (all rows), a slice, or an exact
        intp ndarray, 1-d and C-contiguous, whose values all lie in [0, n_rows)
        (checked here, in one C loop); and at least one row. Returns ``(loss,
        weight_sum, out)``, or None for any other argument (the caller then
        validates and takes the general path, which also raises the errors)."""
        cdef cnp.ndarray wa, oa, ra
        cdef cnp.npy_intp G = self.c.G
        cdef Py_ssize_t start = 0, stop = 0, step = 1, count = self.n_rows
        cdef const intp_t *ip = NULL
        cdef intp_t k, n = self.n_rows
        cdef bint bad = False
        cdef float64_t L, S
        if not cnp.PyArray_CheckExact(w):
            return None
        wa = <cnp.ndarray>w
        if cnp.PyArray_TYPE(wa) != cnp.NPY_DOUBLE or cnp.PyArray_NDIM(wa) != 1 or \
                cnp.PyArray_DIMS(wa)[0] != G or not cnp.PyArray_ISCARRAY_RO(wa):
            return None
        if out is None:
            oa = None
        elif cnp.PyArray_CheckExact(out):
            oa = <cnp.ndarray>out
            if cnp.PyArray_TYPE(oa) != cnp.NPY_DOUBLE or cnp.PyArray_NDIM(oa) != 1 or \
                    cnp.PyArray_DIMS(oa)[0] != G or not cnp.PyArray_ISCARRAY(oa):
                return None
        else:
            return None
        if rows is None:
            ra = None
        elif PySlice_Check(rows):
            ra = None
            PySlice_GetIndicesEx(rows, n, &start, &stop, &step, &count)
        elif cnp.PyArray_CheckExact(rows):
            ra = <cnp.ndarray>rows
            if cnp.PyArray_TYPE(ra) != cnp.NPY_INTP or cnp.PyArray_NDIM(ra) != 1 or \
                    not cnp.PyArray_ISCARRAY_RO(ra):
                return None
            count = cnp.PyArray_DIMS(ra)[0]
            ip = <const intp_t *>cnp.PyArray_DATA(ra)
            for k in range(count):    # one pass, no branch (negatives wrap to huge)
                bad |= <size_t>ip[k] >= <size_t>n
            if bad:
                return None
        else:
            return None
        if count == 0:
            return None
        if oa is None and with_grad:
            oa = cnp.PyArray_EMPTY(1, &G, cnp.NPY_DOUBLE, 0)
        self._set_rows(ra, start, step, count)
        self._value_grad(<const float64_t *>cnp.PyArray_DATA(wa),
                         <float64_t *>cnp.PyArray_DATA(oa) if with_grad else NULL, l2,
                         n_threads, &L, &S)
        return L, S, oa

    cdef int _value_grad(self, const float64_t *wp, float64_t *g, double l2, int n_threads,
                         float64_t *L_out, float64_t *S_out) except -1:
        """The rows set by _set_rows: loss to L_out (NaN when the weight sum is 0),
        weight sum to S_out, gradient to g (length G) unless NULL."""
        cdef int op = self.op
        cdef int nt
        cdef intp_t j, G = self.c.G, n_pen = self.n_pen
        cdef float64_t *acc = NULL
        cdef float64_t *scratch = NULL
        cdef float64_t *res
        cdef float64_t L, S, pen = 0.0
        cdef float64_t res1[2]
        cdef Ctx ctx
        self.c.w = wp
        if op == OP_SOFTMAX:
            self.c.sm_blocked = _softmax_plan(&self.c)
        nt = self._threads(n_threads)
        res = res1
        if nt > 1 or op == OP_SOFTMAX:
            res = <float64_t *>malloc(2 * nt * sizeof(float64_t))
            if op == OP_SOFTMAX:
                scratch = <float64_t *>malloc(nt * _softmax_scratch(&self.c) *
                                              sizeof(float64_t))
            if nt > 1 and g != NULL:
                acc = <float64_t *>malloc(nt * G * sizeof(float64_t))
            if res == NULL or (op == OP_SOFTMAX and scratch == NULL) or \
                    (nt > 1 and g != NULL and acc == NULL):
                free(res)
                free(scratch)
                free(acc)
                raise MemoryError("gradkern.objectives: cannot allocate thread buffers")
        # the kernel runs without the GIL on its own copy of the call state, so
        # another Python thread setting up a call on this object cannot change it
        ctx = self.c
        with nogil:
            _run(&ctx, op, nt, g, acc, res, scratch)
            L = res[0]
            S = res[1]
            if res != res1:
                free(res)
            free(acc)
            free(scratch)
            # the penalty only with l2 > 0: passes over w fewer (they were most of
            # a small minibatch's time with many parameters), and no 0 * inf
            if S > 0:
                L = L / S
                if l2 != 0.0:
                    for j in range(n_pen):
                        pen += wp[j] * wp[j]
                    L += 0.5 * l2 * pen
                if g != NULL:
                    _mean_plus_l2(g, G, S, l2, wp, n_pen)
            else:
                L = NAN
        L_out[0] = L
        S_out[0] = S
        return 0

    def hessp(self, cnp.ndarray w, cnp.ndarray p, cnp.ndarray out, object rows, intp_t start,
              intp_t step, intp_t n_sub, double l2, int n_threads):
        """Hessian of the loss at ``w`` times ``p``, written to ``out``; returns the
        weight sum (0: nothing written but zeros)."""
        cdef int nt
        cdef intp_t j, G = self.c.G, n_pen = self.n_pen
        cdef float64_t *g = <float64_t *>cnp.PyArray_DATA(out)
        cdef const float64_t *pp = <const float64_t *>cnp.PyArray_DATA(p)
        cdef float64_t *acc = NULL
        cdef float64_t *res
        cdef float64_t S
        cdef float64_t res1[2]
        cdef Ctx ctx
        self._set_rows(rows, start, step, n_sub)
        self.c.w = <const float64_t *>cnp.PyArray_DATA(w)
        self.c.p = pp
        nt = self._threads(n_threads)
        res = res1
        if nt > 1:
            res = <float64_t *>malloc(2 * nt * sizeof(float64_t))
            acc = <float64_t *>malloc(nt * G * sizeof(float64_t))
            if res == NULL or acc == NULL:
                free(res)
                free(acc)
                raise MemoryError("gradkern.objectives: cannot allocate thread buffers")
        ctx = self.c    # as in _value_grad
        with nogil:
            _run(&ctx, OP_HESSP, nt, g, acc, res, NULL)
            S = res[1]
            if res != res1:
                free(res)
            free(acc)
            if S > 0:
                _mean_plus_l2(g, G, S, l2, pp, n_pen)
        return S


def rosenbrock(cnp.ndarray x, object out):
    """Chained Rosenbrock value of float64 C-contiguous ``x`` (n >= 2); gradient to
    ``out`` when it is an array."""
    cdef const float64_t *xp = <const float64_t *>cnp.PyArray_DATA(x)
    cdef float64_t *g = NULL
    cdef intp_t n = x.shape[0]
    cdef float64_t f
    if out is not None:
        g = <float64_t *>cnp.PyArray_DATA(<cnp.ndarray>out)
    with nogil:
        f = rosenbrock_value_grad(xp, n, g)
    return f


def rosenbrock_hessp(cnp.ndarray x, cnp.ndarray p, cnp.ndarray out):
    """Chained Rosenbrock Hessian at ``x`` times ``p`` into ``out`` (all float64, n >= 2)."""
    cdef const float64_t *xp = <const float64_t *>cnp.PyArray_DATA(x)
    cdef const float64_t *pp = <const float64_t *>cnp.PyArray_DATA(p)
    cdef float64_t *o = <float64_t *>cnp.PyArray_DATA(out)
    cdef intp_t i, n = x.shape[0]
    with nogil:
        for i in range(n):
            o[i] = 0.0
        for i in range(n - 1):
            # term 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2
            o[i] += (1200.0 * xp[i] * xp[i] - 400.0 * xp[i + 1] + 2.0) * pp[i] \
                - 400.0 * xp[i] * pp[i + 1]
            o[i + 1] += 200.0 * pp[i + 1] - 400.0 * xp[i] * pp[i]
    return None
