# cython: language_level=3, cdivision=True
"""Finite-difference kernels: evaluate an objective at many perturbed copies of x0.

Three kinds of objective share one design -- a list of *points*, each x0 with one or
two coordinates moved (``ci/di`` and optionally ``cj/dj``), or explicit rows:

* a Python callable (``eval_points_py`` / ``eval_rows_py``): each call gets a FRESH
  ndarray (a function that keeps a reference never sees it change), the result is
  read back without numpy Python-level work when it is a float; exceptions raised by
  the function propagate with their traceback; Ctrl-C is honoured between calls;
* a C function ``double f(int n, double *x, void *user_data)`` taken from a
  ``scipy.LowLevelCallable`` (``eval_points_llc`` / ``eval_rows_llc``): GIL released,
  points split across OpenMP threads, each thread on its own scratch copy of x0;
  signals are checked between blocks of points;
* vectorized callables are handled in Python (one call per chunk of points).

The derivative formulas themselves are assembled by the Python layer
(``gradkern/numdiff.py``); kernels trust their inputs.
"""
cimport numpy as cnp
from cpython.ref cimport PyObject
from cpython.float cimport PyFloat_Check, PyFloat_AS_DOUBLE
from cpython.complex cimport PyComplex_Check
from cpython.exc cimport PyErr_CheckSignals
from cpython.pycapsule cimport (PyCapsule_GetPointer, PyCapsule_GetName, PyCapsule_GetContext,
                               PyCapsule_CheckExact, PyCapsule_New)
from cython.parallel cimport prange
from libc.stdlib cimport malloc, free
from libc.string cimport memcmp, memcpy, memset

import numpy as np

from gradkern._kernels._openmp cimport gk_threads_for, gk_get_thread_num
from gradkern._kernels._typedefs cimport intp_t

cnp.import_array()

cdef extern from "Python.h":
    double PyComplex_ImagAsDouble(object op) except? -1.0

cdef enum:
    LLC_BLOCK = 4096      # points per GIL-free block between two signal checks


# ---------------------------------------------------------------------------
# Python callables
# ---------------------------------------------------------------------------

cdef inline object _call(object fun, object x, tuple args, dict kwargs):
    if kwargs:
        return fun(x, *args, **kwargs)
    if args:
        return fun(x, *args)
    return fun(x)


cdef int _store_result(object res, double *row, intp_t m, bint imag) except -1:
    """Write the function value ``res`` (m values, or their imaginary parts) to row."""
    cdef cnp.ndarray a
    if m == 1:
        if not imag and PyFloat_Check(res):
            row[0] = PyFloat_AS_DOUBLE(res)
            return 0
        if imag and PyComplex_Check(res):
            row[0] = PyComplex_ImagAsDouble(res)
            return 0
    a = np.asarray(res)
    if a.ndim > 1:
        raise RuntimeError("`fun` return value has more than 1 dimension.")
    if a.size != m:
        raise ValueError(f"`fun` returned {a.size} values where {m} were expected "
                         f"(the size of fun(x0)).")
    if imag:
        a = np.ascontiguousarray(a.imag if a.dtype.kind == "c" else np.zeros(a.size),
                                 dtype=np.float64).ravel()
    else:
        if a.dtype.kind not in "biuf":
            if a.dtype.kind == "c":
                raise TypeError("`fun` returned complex values; use method='cs' only "
                                "for real functions of complex-analytic form")
            raise TypeError(f"`fun` must return real numbers, got dtype {a.dtype}")
        a = np.ascontiguousarray(a, dtype=np.float64).ravel()
    memcpy(row, cnp.PyArray_DATA(a), m * sizeof(double))
    return 0


def eval_points_py(object fun, tuple args, dict kwargs, cnp.ndarray x0,
                   const intp_t[::1] ci, const double[::1] di,
                   const intp_t[::1] cj, const double[::1] dj,
                   double[:, ::1] out, bint imag):
    """Evaluate ``fun`` at ``k = len(ci)`` perturbed copies of ``x0``.

    x0 : 1-D C-contiguous float32, float64 or complex128 (for the complex step).
    Point p: ``x[ci[p]] = x0[ci[p]] + di[p]`` (real part; the imaginary part gets
    ``di[p]`` when ``x0`` is complex), then ``x[cj[p]] += dj[p]`` if ``cj`` is not
    None and ``cj[p] >= 0``. ``out[p, :]`` (OUT) receives the value(s), or their
    imaginary parts when ``imag``.
    """
    cdef intp_t k = ci.shape[0], m = out.shape[1], p, i
    cdef int typenum = cnp.PyArray_TYPE(x0)
    cdef bint two = cj is not None
    cdef cnp.ndarray x
    cdef double *xd
    cdef float *xf
    cdef const double *x0d = <const double *>cnp.PyArray_DATA(x0)
    cdef const float *x0f = <const float *>cnp.PyArray_DATA(x0)
    cdef object res
    cdef cnp.npy_intp dims[1]
    cdef size_t nbytes = cnp.PyArray_NBYTES(x0)
    if cnp.PyArray_NDIM(x0) != 1 or not cnp.PyArray_IS_C_CONTIGUOUS(x0) or typenum not in (
            cnp.NPY_DOUBLE, cnp.NPY_FLOAT, cnp.NPY_CDOUBLE):
        raise ValueError("x0 must be a contiguous 1-D float32, float64 or complex128 array")
    dims[0] = cnp.PyArray_DIM(x0, 0)
    for p in range(k):
        # a fresh array per call (cheaper than PyArray_NewCopy's generic copy)
        x = <cnp.ndarray>cnp.PyArray_EMPTY(1, dims, typenum, 0)
        memcpy(cnp.PyArray_DATA(x), cnp.PyArray_DATA(x0), nbytes)
        i = ci[p]
        if typenum == cnp.NPY_DOUBLE:
            xd = <double *>cnp.PyArray_DATA(x)
            if i >= 0:
                xd[i] = x0d[i] + di[p]
            if two and cj[p] >= 0:
                xd[cj[p]] = xd[cj[p]] + dj[p]
        elif typenum == cnp.NPY_FLOAT:
            xf = <float *>cnp.PyArray_DATA(x)
            if i >= 0:
                xf[i] = <float>(<double>x0f[i] + di[p])
            if two and cj[p] >= 0:
                xf[cj[p]] = <float>(<double>xf[cj[p]] + dj[p])
        else:  # complex128: the complex step moves the imaginary part
            xd = <double *>cnp.PyArray_DATA(x)
            if i >= 0:
                xd[2 * i + 1] = x0d[2 * i + 1] + di[p]
            if two and cj[p] >= 0:
                xd[2 * cj[p] + 1] = xd[2 * cj[p] + 1] + dj[p]
        res = _call(fun, x, args, kwargs)
        _store_result(res, &out[p, 0], m, imag)
        if PyErr_CheckSignals() != 0:
            raise KeyboardInterrupt  # pragma: no cover - the handler normally raises
    return k


def eval_rows_py(object fun, tuple args, dict kwargs, cnp.ndarray X,
                 double[:, ::1] out, bint imag):
    """Evaluate ``fun`` at each row of the 2-D C-contiguous array ``X`` (a fresh
    copy of the row per call); values (or imaginary parts) to ``out`` (OUT)."""
    cdef intp_t k, m = out.shape[1], p
    cdef cnp.ndarray x
    cdef object res
    cdef cnp.npy_intp dims[1]
    cdef int typenum = cnp.PyArray_TYPE(X)
    cdef size_t row_bytes
    cdef char *data = <char *>cnp.PyArray_DATA(X)
    if X.ndim != 2 or not cnp.PyArray_IS_C_CONTIGUOUS(X):
        raise ValueError("X must be a C-contiguous 2-D array")
    k = X.shape[0]
    dims[0] = X.shape[1]
    row_bytes = X.shape[1] * cnp.PyArray_ITEMSIZE(X)
    for p in range(k):
        x = <cnp.ndarray>cnp.PyArray_EMPTY(1, dims, typenum, 0)
        memcpy(cnp.PyArray_DATA(x), data + p * row_bytes, row_bytes)
        res = _call(fun, x, args, kwargs)
        _store_result(res, &out[p, 0], m, imag)
        if PyErr_CheckSignals() != 0:
            raise KeyboardInterrupt  # pragma: no cover
    return k


# ---------------------------------------------------------------------------
# C objectives (scipy.LowLevelCallable)
# ---------------------------------------------------------------------------

cdef inline void _restore_all(double *x, const double *x0, intp_t n) noexcept nogil:
    """After a call through a non-const ``double *x`` (the function may have written
    anywhere in x; the moved coordinates are already restored): make x equal to x0
    again. A read-only bitwise comparison first (so -0.0 for 0.0 or another NaN payload
    counts as a change), and the copy only when something changed: most functions
    never write, and the copy's stores would slow the next call's loads of x."""
    if memcmp(x, x0, n * sizeof(double)) != 0:
        memcpy(x, x0, n * sizeof(double))


cdef void eval_points_c(gk_llc_fn f, void *user_data, const double *x0, intp_t n,
                        const intp_t *ci, const double *di, const intp_t *cj, const double *dj,
                        intp_t k, double *out, double *scratch, int n_threads,
                        bint restore_all) noexcept nogil:
    cdef intp_t p, i, j
    cdef int t, nt = gk_threads_for(n_threads, k, 1)
    cdef double *x
    for t in range(nt):
        memcpy(scratch + t * n, x0, n * sizeof(double))
    for p in prange(k, schedule='static', num_threads=nt, nogil=True):
        x = scratch + gk_get_thread_num() * n
        i = ci[p]
        j = -1
        if i >= 0:
            x[i] = x0[i] + di[p]
        if cj != NULL:
            j = cj[p]
            if j >= 0:
                x[j] = x[j] + dj[p]
        out[p] = f(<int>n, x, user_data)
        if i >= 0:
            x[i] = x0[i]
        if j >= 0:
            x[j] = x0[j]
        if restore_all:
            _restore_all(x, x0, n)


cdef void eval_rows_c(gk_llc_fn f, void *user_data, const double *X, intp_t n, intp_t k,
                      double *out, double *scratch, int n_threads) noexcept nogil:
    cdef intp_t p
    cdef int nt = gk_threads_for(n_threads, k, 1)
    cdef double *x
    for p in prange(k, schedule='static', num_threads=nt, nogil=True):
        x = scratch + gk_get_thread_num() * n
        memcpy(x, X + p * n, n * sizeof(double))
        out[p] = f(<int>n, x, user_data)


cdef int _llc_unpack(object capsule, gk_llc_fn *f, void **user_data) except -1:
    """Function pointer and user data of the raw capsule ``LowLevelCallable[0]``
    (the Python layer has checked its signature). Returns 1 when the signature
    takes ``double *x`` (the function may write into x: callers restore all of it
    after each call), 0 for ``const double *x``."""
    cdef const char *name
    if not PyCapsule_CheckExact(capsule):
        raise TypeError("expected the raw capsule of a scipy.LowLevelCallable")
    name = PyCapsule_GetName(capsule)
    f[0] = <gk_llc_fn>PyCapsule_GetPointer(capsule, name)
    user_data[0] = PyCapsule_GetContext(capsule)
    if name == NULL:
        return 1
    return 0 if b"const" in <bytes>name else 1


def eval_points_llc(object capsule, const double[::1] x0,
                    const intp_t[::1] ci, const double[::1] di,
                    const intp_t[::1] cj, const double[::1] dj,
                    double[::1] out, int n_threads):
    """``eval_points_py`` for a C objective: out[p] (OUT) = f(n, point p, user_data),
    GIL released, points split across ``n_threads`` threads."""
    cdef gk_llc_fn f
    cdef void *ud
    cdef intp_t n = x0.shape[0], k = ci.shape[0], start, stop
    cdef const intp_t *cjp = NULL
    cdef const double *djp = NULL
    cdef double *scratch
    cdef int nt = max(1, n_threads)
    cdef bint restore_all = _llc_unpack(capsule, &f, &ud)
    if cj is not None:
        cjp = &cj[0]
        djp = &dj[0]
    if k == 0:
        return 0
    scratch = <double *>malloc(nt * max(n, 1) * sizeof(double))
    if scratch == NULL:
        raise MemoryError("no memory for the per-thread copies of x0")
    try:
        start = 0
        while start < k:
            stop = min(k, start + LLC_BLOCK)
            with nogil:
                eval_points_c(f, ud, &x0[0], n, &ci[start], &di[start],
                              cjp + start if cjp != NULL else NULL,
                              djp + start if djp != NULL else NULL,
                              stop - start, &out[start], scratch, nt, restore_all)
            start = stop
            if PyErr_CheckSignals() != 0:
                raise KeyboardInterrupt  # pragma: no cover
    finally:
        free(scratch)
    return k


def eval_rows_llc(object capsule, const double[:, ::1] X, double[::1] out, int n_threads):
    """``eval_rows_py`` for a C objective (GIL released, rows across threads)."""
    cdef gk_llc_fn f
    cdef void *ud
    cdef intp_t n = X.shape[1], k = X.shape[0], start, stop
    cdef double *scratch
    cdef int nt = max(1, n_threads)
    _llc_unpack(capsule, &f, &ud)
    if k == 0:
        return 0
    scratch = <double *>malloc(nt * max(n, 1) * sizeof(double))
    if scratch == NULL:
        raise MemoryError("no memory for the per-thread copies of x")
    try:
        start = 0
        while start < k:
            stop = min(k, start + LLC_BLOCK)
            with nogil:
                eval_rows_c(f, ud, &X[start, 0], n, stop - start, &out[start], scratch, nt)
            start = stop
            if PyErr_CheckSignals() != 0:
                raise KeyboardInterrupt  # pragma: no cover
    finally:
        free(scratch)
    return k


cdef inline double _forward_one(gk_llc_fn f, void *ud, const double *x0, intp_t n,
                                const double *hp, double fz, double rstep, intp_t i,
                                double *x, bint restore_all) noexcept nogil:
    """(f(x0 + h_i e_i) - f0) / dx_i on the scratch copy x (equal to x0 on entry and exit)."""
    cdef double hi, ax, xi, val
    if hp != NULL:
        hi = hp[i]
    else:
        ax = x0[i] if x0[i] >= 0 else -x0[i]
        hi = rstep * (ax if ax > 1.0 else 1.0)
        if x0[i] < 0:
            hi = -hi
    xi = x0[i] + hi
    x[i] = xi
    val = (f(<int>n, x, ud) - fz) / (xi - x0[i])
    x[i] = x0[i]
    if restore_all:
        _restore_all(x, x0, n)
    return val


def gradient_2point_llc(object capsule, const double[::1] x0, object h, object f0,
                        double[::1] out, int n_threads, intp_t min_per_thread):
    """Forward differences of a C objective in one GIL-free pass (the dense,
    unbounded 2-point case): out[i] (OUT) = (f(x0 + h_i e_i) - f0) / dx_i with
    dx_i = (x0_i + h_i) - x0_i, the step actually taken.

    ``h`` None: scipy's default step ``sqrt(EPS) * sign(x0) * max(1, |x0|)``,
    computed here. ``f0`` None: evaluated here. Returns f0.
    Raises ValueError if x0 holds NaN or inf (checked before any evaluation).
    """
    cdef gk_llc_fn f
    cdef void *ud
    cdef intp_t n = x0.shape[0], i, start, stop
    cdef double *scratch
    cdef double fz
    cdef const double *hp = NULL
    cdef double[::1] hv
    cdef double rstep = 1.4901161193847656e-08   # sqrt(float64 eps)
    cdef int nt = gk_threads_for(max(1, n_threads), n, max(1, min_per_thread))
    cdef bint restore_all = _llc_unpack(capsule, &f, &ud)
    for i in range(n):
        if not (x0[i] - x0[i] == 0.0):
            raise ValueError("`x0` must contain only finite values (no NaN or inf).")
    if h is not None:
        hv = h
        hp = &hv[0] if n else NULL
    scratch = <double *>malloc(nt * max(n, 1) * sizeof(double))
    if scratch == NULL:
        raise MemoryError("no memory for the per-thread copies of x0")
    try:
        for i in range(nt):
            if n:
                memcpy(scratch + i * n, &x0[0], n * sizeof(double))
        if f0 is None:
            with nogil:
                fz = f(<int>n, scratch, ud)
            if n:
                memcpy(scratch, &x0[0], n * sizeof(double))
        else:
            fz = f0
        start = 0
        while start < n:
            stop = min(n, start + LLC_BLOCK)
            with nogil:
                if nt == 1:     # no parallel region for one thread (saves ~0.3 us per call)
                    for i in range(start, stop):
                        out[i] = _forward_one(f, ud, &x0[0], n, hp, fz, rstep, i, scratch,
                                              restore_all)
                else:
                    for i in prange(start, stop, schedule='static', num_threads=nt):
                        out[i] = _forward_one(f, ud, &x0[0], n, hp, fz, rstep, i,
                                              scratch + gk_get_thread_num() * n, restore_all)
            start = stop
            if PyErr_CheckSignals() != 0:
                raise KeyboardInterrupt  # pragma: no cover
    finally:
        free(scratch)
    return fz


def call_llc(object capsule, const double[::1] x):
    """f(n, copy of x, user_data) for a single point."""
    cdef gk_llc_fn f
    cdef void *ud
    cdef intp_t n = x.shape[0]
    cdef double val
    cdef double *buf
    _llc_unpack(capsule, &f, &ud)
    buf = <double *>malloc(max(n, 1) * sizeof(double))
    if buf == NULL:
        raise MemoryError()
    if n:
        memcpy(buf, &x[0], n * sizeof(double))
    with nogil:
        val = f(<int>n, buf, ud)
    free(buf)
    return val


# ---------------------------------------------------------------------------
# A built-in C objective (demos, benchmarks, tests of the C path)
# ---------------------------------------------------------------------------

cdef double rosen_c(int n, double *x, void *user_data) noexcept nogil:
    cdef int i
    cdef double s = 0.0, a, b
    for i in range(n - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        s = s + 100.0 * a * a + b * b
    return s


def rosen_capsule():
    """A PyCapsule of the extended Rosenbrock function in C, signature
    ``double (int, double *, void *)`` (wrap it in ``scipy.LowLevelCallable``)."""
    return PyCapsule_New(<void *>rosen_c, b"double (int, double *, void *)", NULL)


# ---------------------------------------------------------------------------
# Column grouping for sparse Jacobians (Curtis, Powell & Reid 1974)
# ---------------------------------------------------------------------------

cdef intp_t group_dense_c(intp_t m, intp_t n, const int *A, intp_t *groups, char *union_) noexcept nogil:
    cdef intp_t i, j, r, current = 0
    cdef bint all_grouped, clash
    for i in range(n):
        groups[i] = -1
    for i in range(n):
        if groups[i] >= 0:
            continue
        groups[i] = current
        all_grouped = True
        for r in range(m):
            union_[r] = A[r * n + i] != 0
        for j in range(i + 1, n):
            if groups[j] >= 0:
                continue
            all_grouped = False
            clash = False
            for r in range(m):
                if union_[r] and A[r * n + j] != 0:
                    clash = True
                    break
            if not clash:
                for r in range(m):
                    if A[r * n + j] != 0:
                        union_[r] = 1
                groups[j] = current
        current += 1
        if all_grouped:
            break
    return current


cdef intp_t group_sparse_c(intp_t m, intp_t n, const intp_t *indices, const intp_t *indptr,
                           intp_t *groups, char *union_) noexcept nogil:
    cdef intp_t i, j, q, current = 0
    cdef bint all_grouped, clash
    for i in range(n):
        groups[i] = -1
    for i in range(n):
        if groups[i] >= 0:
            continue
        groups[i] = current
        all_grouped = True
        memset(union_, 0, m)
        for q in range(indptr[i], indptr[i + 1]):
            union_[indices[q]] = 1
        for j in range(i + 1, n):
            if groups[j] >= 0:
                continue
            all_grouped = False
            clash = False
            for q in range(indptr[j], indptr[j + 1]):
                if union_[indices[q]]:
                    clash = True
                    break
            if not clash:
                for q in range(indptr[j], indptr[j + 1]):
                    union_[indices[q]] = 1
                groups[j] = current
        current += 1
        if all_grouped:
            break
    return current


def group_dense(const int[:, ::1] A):
    """Groups (n,) of the columns of the 0/1 int32 matrix ``A`` (m, n), in column order."""
    cdef intp_t m = A.shape[0], n = A.shape[1]
    cdef cnp.ndarray[intp_t, ndim=1] groups = np.empty(n, dtype=np.intp)
    cdef cnp.ndarray[char, ndim=1] union_ = np.zeros(max(m, 1), dtype=np.int8)
    if n:
        with nogil:
            group_dense_c(m, n, &A[0, 0] if m else NULL, &groups[0], &union_[0])
    return groups


def group_sparse(intp_t m, intp_t n, const intp_t[::1] indices, const intp_t[::1] indptr):
    """Groups (n,) of the columns of a CSC structure (indices, indptr), in column order."""
    cdef cnp.ndarray[intp_t, ndim=1] groups = np.empty(n, dtype=np.intp)
    cdef cnp.ndarray[char, ndim=1] union_ = np.zeros(max(m, 1), dtype=np.int8)
    cdef const intp_t *ind = &indices[0] if indices.shape[0] else NULL
    if n:
        with nogil:
            group_sparse_c(m, n, ind, &indptr[0], &groups[0], &union_[0])
    return groups
