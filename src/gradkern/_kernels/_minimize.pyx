# cython: language_level=3, cdivision=True
"""Per-iteration helpers of the optimizer driver (``gradkern.minimize``).

Each ``def`` entry takes ndarrays and trusts them (1-D, float64, C-contiguous,
equal lengths): ``gradkern/minimize.py`` checks them once before its loop.
A single entry call costs ~0.1 us, against ~1-2 us for the equivalent numpy
expression (``np.abs(g).max()``, ``np.clip(x, lb, ub, out=x)``) on small arrays,
which is what keeps the driver's overhead per iteration at a few microseconds.
"""
cimport numpy as cnp
from libc.math cimport fabs, isfinite, isnan, NAN

from gradkern._kernels._typedefs cimport float64_t, intp_t

cnp.import_array()


cdef float64_t gk_inf_norm(const float64_t *g, intp_t n) noexcept nogil:
    cdef intp_t i
    cdef float64_t a, m = 0.0
    for i in range(n):
        a = fabs(g[i])
        if a > m:
            m = a
        elif isnan(a):
            return NAN
    return m


cdef inline float64_t _clip(float64_t v, float64_t lo, float64_t hi) noexcept nogil:
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v


cdef float64_t gk_proj_grad_inf_norm(const float64_t *x, const float64_t *g,
                                     const float64_t *lb, const float64_t *ub,
                                     intp_t n) noexcept nogil:
    cdef intp_t i
    cdef float64_t a, m = 0.0
    for i in range(n):
        if isnan(g[i]) or isnan(x[i]):
            return NAN
        a = fabs(_clip(x[i] - g[i], lb[i], ub[i]) - x[i])
        if a > m:
            m = a
    return m


cdef void gk_project_box(float64_t *x, const float64_t *lb, const float64_t *ub,
                         intp_t n) noexcept nogil:
    cdef intp_t i
    for i in range(n):
        x[i] = _clip(x[i], lb[i], ub[i])


cdef float64_t gk_max_abs_diff(const float64_t *a, const float64_t *b, intp_t n) noexcept nogil:
    cdef intp_t i
    cdef float64_t d, m = 0.0
    for i in range(n):
        d = fabs(a[i] - b[i])
        if d > m:
            m = d
        elif isnan(d):
            return NAN
    return m


cdef float64_t gk_gd_trial(float64_t *x_out, const float64_t *x, const float64_t *g,
                           float64_t t, const float64_t *lb, const float64_t *ub,
                           bint bounded, intp_t n) noexcept nogil:
    cdef intp_t i
    cdef float64_t v, s = 0.0
    for i in range(n):
        v = x[i] - t * g[i]
        if bounded:
            v = _clip(v, lb[i], ub[i])
        x_out[i] = v
        s += g[i] * (v - x[i])
    return s


cdef float64_t gk_bb_step(const float64_t *x_new, const float64_t *x,
                          const float64_t *g_new, const float64_t *g, intp_t n) noexcept nogil:
    cdef intp_t i
    cdef float64_t s, ss = 0.0, sy = 0.0
    for i in range(n):
        s = x_new[i] - x[i]
        ss += s * s
        sy += s * (g_new[i] - g[i])
    if sy > 0.0 and isfinite(ss):
        return ss / sy
    return -1.0


# ---- Python entries (trust their arguments; see module docstring) ----------

cdef inline float64_t *_p(cnp.ndarray a) noexcept:
    return <float64_t *>cnp.PyArray_DATA(a)


def inf_norm(cnp.ndarray g):
    """max |g| (NaN if g holds a NaN)."""
    return gk_inf_norm(_p(g), cnp.PyArray_DIM(g, 0))


def proj_grad_inf_norm(cnp.ndarray x, cnp.ndarray g, cnp.ndarray lb, cnp.ndarray ub):
    """max |clip(x - g, lb, ub) - x| (NaN if x or g holds a NaN)."""
    return gk_proj_grad_inf_norm(_p(x), _p(g), _p(lb), _p(ub), cnp.PyArray_DIM(x, 0))


def project_box(cnp.ndarray x, cnp.ndarray lb, cnp.ndarray ub):
    """Clip ``x`` to [lb, ub] in place."""
    gk_project_box(_p(x), _p(lb), _p(ub), cnp.PyArray_DIM(x, 0))


def max_abs_diff(cnp.ndarray a, cnp.ndarray b):
    """max |a - b|."""
    return gk_max_abs_diff(_p(a), _p(b), cnp.PyArray_DIM(a, 0))


def gd_trial(cnp.ndarray x_out, cnp.ndarray x, cnp.ndarray g, double t,
             cnp.ndarray lb, cnp.ndarray ub, bint bounded):
    """x_out = clip(x - t g, lb, ub) (clip only when ``bounded``); returns g . (x_out - x)."""
    return gk_gd_trial(_p(x_out), _p(x), _p(g), t, _p(lb), _p(ub), bounded,
                       cnp.PyArray_DIM(x, 0))


def check_track(cnp.ndarray x, cnp.ndarray g, double f, cnp.ndarray best_x,
                cnp.ndarray best_g, cnp.ndarray best_f, object lb, object ub):
    """One call per iteration of the driver: returns the (projected, when ``lb``
    is not None) gradient infinity norm, NaN/inf if ``g`` is not finite; when
    ``f`` and the norm are finite and ``f < best_f[0]``, copies ``x`` and ``g``
    to ``best_x``/``best_g`` and sets ``best_f[0] = f``."""
    cdef intp_t i, n = cnp.PyArray_DIM(x, 0)
    cdef float64_t gn
    cdef float64_t *bf = _p(best_f)
    cdef float64_t *px = _p(x)
    cdef float64_t *pg = _p(g)
    cdef float64_t *bx = _p(best_x)
    cdef float64_t *bg = _p(best_g)
    if lb is None:
        gn = gk_inf_norm(pg, n)
    else:
        gn = gk_proj_grad_inf_norm(px, pg, _p(<cnp.ndarray>lb), _p(<cnp.ndarray>ub), n)
    if f < bf[0] and isfinite(f) and isfinite(gn):
        for i in range(n):
            bx[i] = px[i]
            bg[i] = pg[i]
        bf[0] = f
    return gn


def as_grad(object g, intp_t n):
    """``g`` itself when it is a 1-D C-contiguous float64 ndarray of length ``n``
    (checked at C speed), else a converted copy; ``None`` when the shape is wrong
    (the caller raises with the right names)."""
    cdef cnp.ndarray a
    if (cnp.PyArray_CheckExact(g) and cnp.PyArray_TYPE(<cnp.ndarray>g) == cnp.NPY_DOUBLE
            and cnp.PyArray_NDIM(<cnp.ndarray>g) == 1
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>g)):
        a = <cnp.ndarray>g
    else:
        import numpy as np
        try:
            a = np.ascontiguousarray(g, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        if a.ndim != 1:
            a = a.reshape(-1) if a.size == n else None
            if a is None:
                return None
    if cnp.PyArray_DIM(a, 0) != n:
        return None
    return a


def bb_step(cnp.ndarray x_new, cnp.ndarray x, cnp.ndarray g_new, cnp.ndarray g):
    """Barzilai-Borwein step s.s / s.y (s = x_new - x, y = g_new - g), or -1.0
    when the curvature s.y is not positive."""
    return gk_bb_step(_p(x_new), _p(x), _p(g_new), _p(g), cnp.PyArray_DIM(x, 0))
