"""Finite-difference derivatives: drop-ins for scipy's, with the loops in C.

``approx_derivative``, ``approx_fprime`` and ``check_grad`` take the same arguments
and return the same shapes and types as scipy 1.17's
(``scipy.optimize._numdiff.approx_derivative``, ``scipy.optimize.approx_fprime``,
``scipy.optimize.check_grad``). The objective may be

* a Python callable ``fun(x, *args, **kwargs)``: a C loop hands it a fresh array per
  evaluation (keeping a reference to ``x`` is safe) and reads the value back;
* a vectorized callable (``vectorized=True``): ``fun(X)`` with ``X`` of shape
  ``(n, k)``, ``k`` points as columns, called on chunks of points;
* a ``scipy.LowLevelCallable`` with C signature ``double (int n, double *x, void *user_data)``:
  the whole loop runs in C without the GIL, points split across OpenMP threads.

Differences from scipy (all in the direction of accuracy or clarity):

* ``method='cs'`` uses a tiny default step (``EPS * max(1, |x|)``): nothing is
  subtracted, so the step only has to be small; scipy uses ``sqrt(EPS) * max(1, |x|)``.
* ``method='richardson'``: the central difference extrapolated with the one-sided
  3-point one (points ``x0 + {-h, h, 2h}``, 3 evaluations per variable, error
  ``O(h**3)``), one-sided 4-point formulas near bounds, step
  ``EPS**(1/4) * max(1, sqrt(log1p(|x|)))`` that stays valid at large ``|x|``; its
  ``full_output`` dict also holds ``error_estimate``.
* With float32 ``x0`` the quotient uses the step actually taken in float32.
* Bad input raises before ``fun`` is called: NaN/inf in ``x0``, ``x0`` outside
  bounds, inconsistent bounds (``ValueError``); non-real ``x0`` (``TypeError``).
"""
import numbers

import numpy as np
from numpy.linalg import norm
from scipy import LowLevelCallable
from scipy.sparse import csc_array, csr_array, csr_matrix, find, issparse, isspmatrix
from scipy.sparse.linalg import LinearOperator

from gradkern._kernels import _numdiff as _k
from gradkern._validation import effective_n_threads
from gradkern._workers import DaskMap, MapWrapper

__all__ = ["approx_derivative", "approx_fprime", "check_grad", "gradient", "jacobian",
           "hessian", "group_columns", "DaskMap", "LLC_SIGNATURES", "rosen_lowlevel"]

METHODS = ("2-point", "3-point", "cs", "richardson")
#: C signatures accepted from a ``scipy.LowLevelCallable``.
LLC_SIGNATURES = ("double (int, double *, void *)", "double (int, const double *, void *)")
_EPSILON = np.sqrt(np.finfo(float).eps)
#: Bytes of points per call of a vectorized function: bounds the memory used, and 2 MB
#: keeps the temporaries of numpy code in cache (8 MB was 4x slower at n=1000).
VECTORIZED_CHUNK_BYTES = 1 << 21
#: With workers=None a C objective uses all threads, each taking at least this many points.
LLC_AUTO_POINTS_PER_THREAD = 256
#: ... and at least this much work (points * n): waking OpenMP threads costs a scheduler
#: time slice on a busy machine, where 2 threads at n=1000 ran 10x slower than 1.
LLC_AUTO_WORK_PER_THREAD = 4_000_000


def _llc_auto_points_per_thread(n):
    """Points each thread must get before workers=None uses another thread."""
    return max(LLC_AUTO_POINTS_PER_THREAD, -(-LLC_AUTO_WORK_PER_THREAD // max(1, n)))
_TASKS_PER_WORKER = 4
_DEFAULT_TASKS = 16


# ---------------------------------------------------------------------------
# Evaluating points
# ---------------------------------------------------------------------------

def _capsule(llc):
    """The raw capsule (function pointer, signature, user data) of a LowLevelCallable."""
    return tuple.__getitem__(llc, 0)


def _as_index(a):
    return np.ascontiguousarray(a, dtype=np.intp)


def _as_f64(a):
    return np.ascontiguousarray(a, dtype=np.float64)


class _Objective:
    """How to evaluate ``fun`` at lists of points. Picklable (sent to workers).

    kind: 'py' (Python callable), 'vec' (vectorized callable), 'llc' (C function).
    ``base`` is x0 in the dtype handed to ``fun`` (complex128 for the complex step).
    """

    def __init__(self, kind, fun, args, kwargs, base, m, imag, n_threads=1, auto_threads=False):
        self.auto_threads = auto_threads
        self.kind = kind
        self.fun = fun
        self.args = tuple(args)
        self.kwargs = dict(kwargs) if kwargs else None
        self.base = base
        self.m = m
        self.imag = imag
        self.n_threads = n_threads

    # -- one point (f0, linear operators) -------------------------------------
    def one(self, x):
        """f(x) as a 1-D float array (scipy's ``_Fun_Wrapper``): ``x`` is copied."""
        if self.kind == "llc":
            return np.array([_k.call_llc(_capsule(self.fun), _as_f64(x))])
        if self.kind == "vec":
            res = np.asarray(self.fun(np.array(x)[:, None], *self.args, **(self.kwargs or {})))
            if res.ndim <= 1:
                return res.reshape(-1)
            if res.ndim == 2 and res.shape[1] == 1:
                return res[:, 0]
            raise ValueError("with vectorized=True, fun(X) for X of shape (n, 1) must return "
                             f"shape (1,) or (m, 1); got shape {res.shape}")
        f = np.atleast_1d(self.fun(np.array(x), *self.args, **(self.kwargs or {})))
        if f.ndim > 1:
            raise RuntimeError("`fun` return value has more than 1 dimension.")
        return f

    # -- many points ------------------------------------------------------------
    def threads_for(self, k):
        if self.auto_threads:
            return max(1, min(self.n_threads,
                              k // _llc_auto_points_per_thread(self.base.shape[0])))
        return self.n_threads

    def points(self, ci, di, cj=None, dj=None):
        """Values (k, m) at x0 moved by di along ci (and dj along cj)."""
        ci, di = _as_index(ci), _as_f64(di)
        if cj is not None:
            cj, dj = _as_index(cj), _as_f64(dj)
        k = ci.shape[0]
        out = np.empty((k, self.m))
        if k == 0:
            return out
        if self.kind == "py":
            _k.eval_points_py(self.fun, self.args, self.kwargs, self.base, ci, di, cj, dj,
                              out, self.imag)
        elif self.kind == "llc":
            _k.eval_points_llc(_capsule(self.fun), self.base, ci, di, cj, dj, out.reshape(-1),
                               self.threads_for(k))
        else:
            n = self.base.shape[0]
            chunk = max(1, VECTORIZED_CHUNK_BYTES // max(1, n * self.base.itemsize))
            for s in range(0, k, chunk):
                e = min(k, s + chunk)
                X = self._vec_points(ci[s:e], di[s:e],
                                     None if cj is None else cj[s:e],
                                     None if cj is None else dj[s:e])
                out[s:e] = self._vec_call(X)
        return out

    def rows(self, X):
        """Values (k, m) at the rows of X (k, n)."""
        X = np.ascontiguousarray(X, dtype=self.base.dtype)
        k = X.shape[0]
        out = np.empty((k, self.m))
        if k == 0:
            return out
        if self.kind == "py":
            _k.eval_rows_py(self.fun, self.args, self.kwargs, X, out, self.imag)
        elif self.kind == "llc":
            _k.eval_rows_llc(_capsule(self.fun), X, out.reshape(-1), self.threads_for(k))
        else:
            n = X.shape[1]
            chunk = max(1, VECTORIZED_CHUNK_BYTES // max(1, n * X.itemsize))
            for s in range(0, k, chunk):
                out[s:min(k, s + chunk)] = self._vec_call(np.array(X[s:s + chunk].T))
        return out

    def __call__(self, item):
        """Task for a map-like: ('p', ci, di, cj, dj) or ('r', X) -> values."""
        if item[0] == "p":
            return self.points(*item[1:])
        return self.rows(item[1])

    # -- vectorized helpers -----------------------------------------------------
    def _vec_points(self, ci, di, cj, dj):
        base = self.base
        k = ci.shape[0]
        X = np.empty((base.shape[0], k), dtype=base.dtype)
        X[...] = base[:, None]
        cols = np.arange(k)
        part = X.imag if base.dtype.kind == "c" else X
        b = base.imag if base.dtype.kind == "c" else base
        ok = ci >= 0
        part[ci[ok], cols[ok]] = b[ci[ok]] + di[ok]
        if cj is not None:
            ok = cj >= 0
            part[cj[ok], cols[ok]] = part[cj[ok], cols[ok]] + dj[ok]
        return X

    def _vec_result(self, res, k):
        m = self.m
        if res.ndim == 1 and m == 1 and res.shape[0] == k:
            res = res[None, :]
        if res.ndim != 2 or res.shape != (m, k):
            raise ValueError(f"with vectorized=True, fun(X) for X of shape (n, {k}) must "
                             f"return shape ({k},) for a scalar function or (m, {k}) for m "
                             f"values (m={m} here); got shape {res.shape}")
        return res

    def _vec_call(self, X):
        res = np.asarray(self.fun(X, *self.args, **(self.kwargs or {})))
        res = self._vec_result(res, X.shape[1])
        if self.imag:
            res = res.imag if res.dtype.kind == "c" else np.zeros(res.shape)
        elif res.dtype.kind not in "biuf":
            raise TypeError(f"`fun` must return real numbers, got dtype {res.dtype}")
        return res.T


class _Evaluator:
    """Serial or parallel (chunks of points per task) evaluation; counts nfev."""

    def __init__(self, obj, mapper=None, n_tasks=None):
        self.obj = obj
        self.mapper = mapper
        self.n_tasks = n_tasks
        self.nfev = 0

    def _chunks(self, k):
        t = max(1, min(k, self.n_tasks or _DEFAULT_TASKS))
        edges = np.linspace(0, k, t + 1).round().astype(np.intp)
        return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]

    def points(self, ci, di, cj=None, dj=None):
        ci, di = _as_index(ci), _as_f64(di)
        if cj is not None:
            cj, dj = _as_index(cj), _as_f64(dj)
        k = ci.shape[0]
        self.nfev += k
        if self.mapper is None or k < 2:
            return self.obj.points(ci, di, cj, dj)
        items = [("p", ci[a:b], di[a:b], None if cj is None else cj[a:b],
                  None if cj is None else dj[a:b]) for a, b in self._chunks(k)]
        return self._gather(items, k)

    def rows(self, X):
        k = X.shape[0]
        self.nfev += k
        if self.mapper is None or k < 2:
            return self.obj.rows(X)
        items = [("r", X[a:b]) for a, b in self._chunks(k)]
        return self._gather(items, k)

    def _gather(self, items, k):
        res = list(self.mapper(self.obj, items))
        out = np.concatenate([np.asarray(r, dtype=np.float64).reshape(-1, self.obj.m)
                              for r in res], axis=0)
        if out.shape[0] != k:
            raise RuntimeError(f"workers returned {out.shape[0]} results for {k} tasks' points")
        return out


# ---------------------------------------------------------------------------
# Steps and bounds (scipy's rules)
# ---------------------------------------------------------------------------

_EPS_CACHE = {}


def _eps_for_method(x0_dtype, f0_dtype, method):
    """Relative step from the machine epsilon of the smaller of x0's / f0's float types."""
    key = (x0_dtype, f0_dtype, method)
    r = _EPS_CACHE.get(key)
    if r is None:
        r = _EPS_CACHE[key] = _eps_for_method_uncached(x0_dtype, f0_dtype, method)
    return r


def _eps_for_method_uncached(x0_dtype, f0_dtype, method):
    eps = np.finfo(x0_dtype).eps
    if np.issubdtype(f0_dtype, np.inexact) and np.dtype(f0_dtype).itemsize < np.dtype(x0_dtype).itemsize:
        eps = np.finfo(f0_dtype).eps
    eps = float(eps)
    if method == "2-point":
        return eps ** 0.5
    if method == "3-point":
        return eps ** (1 / 3)
    if method == "cs":
        return eps
    return eps ** 0.25  # richardson


def _scale(x0, method):
    ax = np.abs(x0.astype(np.float64))
    if method == "richardson":
        # grows slowly: at |x| ~ 1e7 a step ~ |x| * EPS**(1/4) would make the O(h**3)
        # error of the extrapolation large while sin(x)-like functions stay O(1)
        return np.maximum(1.0, np.sqrt(np.log1p(ax)))
    return np.maximum(1.0, ax)


def _sign(x0):
    return (x0 >= 0).astype(float) * 2 - 1


def _absolute_step(rel_step, abs_step, x0, f0, method):
    rstep = _eps_for_method(x0.dtype, f0.dtype, method)
    default = rstep * _scale(x0, method)
    default = np.where(x0 >= 0, default, -default)     # scipy's sign: +1 at 0 and -0.0
    if abs_step is None and rel_step is None:
        return default
    sign = _sign(x0)
    if abs_step is not None:
        h = np.broadcast_to(np.asarray(abs_step, dtype=float), x0.shape).astype(float)
    elif rel_step is None:
        return default
    else:
        h = np.asarray(rel_step, dtype=float) * sign * np.abs(x0)
        h = np.broadcast_to(h, x0.shape).astype(float)
    dx = (x0 + h) - x0
    return np.where(dx == 0, default, h)


_NEG_INF, _POS_INF = np.float64(-np.inf), np.float64(np.inf)


def _prepare_bounds(bounds, x0):
    """(lb, ub, bounded): float arrays of x0's shape, checked for consistency."""
    try:
        lb, ub = bounds
    except (TypeError, ValueError):
        raise ValueError("bounds must be a pair (lb, ub) of scalars or arrays of the "
                         "shape of x0") from None
    if (type(lb) in (float, int, np.float64) and type(ub) in (float, int, np.float64)
            and lb == -np.inf and ub == np.inf):        # the default: no bounds
        return _NEG_INF, _POS_INF, False      # scalars: broadcast wherever they are used
    lb = np.asarray(lb, dtype=float)
    ub = np.asarray(ub, dtype=float)
    if lb.ndim == 0:
        lb = np.full(x0.shape, lb)
    if ub.ndim == 0:
        ub = np.full(x0.shape, ub)
    if lb.shape != x0.shape or ub.shape != x0.shape:
        raise ValueError("Inconsistent shapes between bounds and `x0`.")
    if np.isnan(lb).any() or np.isnan(ub).any():
        raise ValueError("bounds must not contain NaN")
    bad = lb > ub
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"Inconsistent bounds: lower bound {lb[i]} > upper bound {ub[i]} "
                         f"at index {i}.")
    bounded = bool(np.isfinite(lb).any() or np.isfinite(ub).any())
    return lb, ub, bounded


def _adjust_scheme_to_bounds(x0, h, num_steps, scheme, lb, ub, bounded=True):
    """Steps that keep every point within bounds (scipy's rule): one-sided
    schemes flip direction or shrink; central schemes become one-sided."""
    if scheme == "1-sided":
        one_sided = np.ones(h.shape, dtype=bool)
    else:
        h = np.abs(h)
        one_sided = np.zeros(h.shape, dtype=bool)
    if not bounded or not (np.isfinite(lb).any() or np.isfinite(ub).any()):
        return h, one_sided
    total = h * num_steps
    adj = h.copy()
    below = x0 - lb
    above = ub - x0
    if scheme == "1-sided":
        xt = x0 + total
        violated = (xt < lb) | (xt > ub)
        fits = np.abs(total) <= np.maximum(below, above)
        adj[violated & fits] *= -1
        fwd = (above >= below) & ~fits
        adj[fwd] = above[fwd] / num_steps
        bwd = (above < below) & ~fits
        adj[bwd] = -below[bwd] / num_steps
    else:
        central = (below >= total) & (above >= total)
        fwd = (above >= below) & ~central
        adj[fwd] = np.minimum(h[fwd], 0.5 * above[fwd] / num_steps)
        one_sided[fwd] = True
        bwd = (above < below) & ~central
        adj[bwd] = -np.minimum(h[bwd], 0.5 * below[bwd] / num_steps)
        one_sided[bwd] = True
        min_dist = np.minimum(above, below) / num_steps
        back_central = ~central & (np.abs(adj) <= min_dist)
        adj[back_central] = min_dist[back_central]
        one_sided[back_central] = False
    return adj, one_sided


def _moved(x0, d):
    """x0 + d as the kernels store it (in x0's dtype), back in float64."""
    return (x0 + d).astype(x0.dtype).astype(np.float64)


# ---------------------------------------------------------------------------
# Column grouping
# ---------------------------------------------------------------------------

def group_columns(A, order=0):
    """Group columns of a 2-D sparsity structure for sparse finite differencing.

    Same as ``scipy.optimize._numdiff.group_columns`` (greedy Curtis-Powell-Reid
    grouping; two columns share a group if no row has non-zeros in both), with
    the grouping loop in Cython.

    Parameters
    ----------
    A : array_like or sparse array, shape (m, n)
        Structure of the Jacobian: zero means "identically zero".
    order : int, array_like of shape (n,) or None
        Order in which columns are visited; an int or None seeds a random
        permutation (default 0: repeatable).

    Returns
    -------
    groups : ndarray of int, shape (n,)
        Group index of each column, ``0 .. n_groups - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.numdiff import group_columns
    >>> group_columns(np.eye(4), order=np.arange(4))
    array([0, 0, 0, 0])
    """
    if issparse(A):
        A = csc_array(A)
    else:
        A = np.atleast_2d(A)
        A = (A != 0).astype(np.int32)
    if A.ndim != 2:
        raise ValueError("`A` must be 2-dimensional.")
    m, n = A.shape
    if order is None or np.isscalar(order):
        order = np.random.RandomState(order).permutation(n)
    else:
        order = np.asarray(order)
        if order.shape != (n,):
            raise ValueError("`order` has incorrect shape.")
    A = A[:, order]
    if issparse(A):
        A = csc_array(A)
        A.sort_indices()
        groups = _k.group_sparse(m, n, _as_index(A.indices), _as_index(A.indptr))
    else:
        groups = _k.group_dense(np.ascontiguousarray(A, dtype=np.int32))
    out = np.empty_like(groups)
    out[order] = groups
    return out


# ---------------------------------------------------------------------------
# Dense differences
# ---------------------------------------------------------------------------

def _dense(ev, x0, f0, h, one_sided, method):
    n = x0.size
    idx = np.arange(n)
    x0d = x0.astype(np.float64)
    info = {}
    if method == "2-point":
        F = ev.points(idx, h)
        dx = _moved(x0, h) - x0d
        JT = (F - f0) / dx[:, None]
    elif method == "3-point":
        d1 = np.where(one_sided, h, -h)
        d2 = np.where(one_sided, 2 * h, h)
        F = ev.points(np.repeat(idx, 2), np.stack([d1, d2], axis=1).ravel())
        F1, F2 = F[0::2], F[1::2]
        x1, x2 = _moved(x0, d1), _moved(x0, d2)
        os_ = one_sided[:, None]
        df = np.where(os_, -3.0 * f0 + 4 * F1 - F2, F2 - F1)
        dx = np.where(one_sided, x2 - x0d, x2 - x1)
        JT = df / dx[:, None]
    elif method == "cs":
        F = ev.points(idx, h)
        JT = F / h[:, None]
    else:
        JT, err = _richardson(ev, x0, f0, h, one_sided)
        info["error_estimate"] = err
    return JT, info


def _richardson_steps(x0, h, lb, ub):
    """Signed steps ``s`` and a one-sided mask. Interior: the points x0 - s, x0 + s,
    x0 + 2s fit in the bounds (s = +|h| or -|h|, whichever side has room for 2|h|);
    else one-sided x0 + s, 2s, 3s toward the side with more room, |s| <= room / 3."""
    h = np.abs(h)
    below, above = x0 - lb, ub - x0
    up = (below >= h) & (above >= 2 * h)
    down = ~up & (above >= h) & (below >= 2 * h)
    central = up | down
    s = np.where(above >= below, np.minimum(h, above / 3), -np.minimum(h, below / 3))
    s = np.where(up, h, np.where(down, -h, s))
    return s, ~central


def _richardson(ev, x0, f0, h, one_sided):
    """Richardson extrapolation from 3 evaluations per coordinate (plus f0).

    Interior, points x0 + {-s, s, 2s}: the central difference
    Dc = (f(s) - f(-s)) / 2s and the one-sided 3-point Df = (-3 f0 + 4 f(s) - f(2s)) / 2s
    have leading errors s**2/6 and -s**2/3 times the third derivative, so
    (2 Dc + Df) / 3 cancels them (error O(s**3)); |Dc - Df| / 3 estimates the error
    left in Dc, an upper bound for the extrapolated value's. Near a bound, points
    x0 + {s, 2s, 3s}: the one-sided 4-point formula (O(s**3)), estimated against the
    one-sided 3-point one.
    """
    n = x0.size
    x0d = x0.astype(np.float64)
    dt = x0.dtype
    # the step actually representable next to x0, so that the offsets are (nearly) exact
    h1 = ((x0 + h).astype(dt).astype(np.float64) - x0d)
    h1 = np.where(h1 == 0, h, h1)
    c = ~one_sided
    o = one_sided
    d = np.empty((n, 3))
    d[c] = h1[c][:, None] * np.array([-1.0, 1.0, 2.0])
    d[o] = h1[o][:, None] * np.array([1.0, 2.0, 3.0])
    F = ev.points(np.repeat(np.arange(n), 3), d.ravel()).reshape(n, 3, -1)
    eps = np.finfo(dt).eps if dt == np.float32 else np.finfo(np.float64).eps
    JT = np.empty((n, F.shape[2]))
    err = np.empty_like(JT)
    fmax = np.maximum(np.abs(F).max(axis=1), np.abs(f0)[None, :])
    f00 = f0[None, :]
    if c.any():
        Fc, sc = F[c], h1[c][:, None]
        Dc = (Fc[:, 1] - Fc[:, 0]) / (2 * sc)
        Df = (-3 * f00 + 4 * Fc[:, 1] - Fc[:, 2]) / (2 * sc)
        JT[c] = (2 * Dc + Df) / 3.0
        err[c] = np.abs(Dc - Df) / 3.0 + 4 * eps * fmax[c] / np.abs(sc)
    if o.any():
        Fo, so = F[o], h1[o][:, None]
        R4 = (-11 * f00 + 18 * Fo[:, 0] - 9 * Fo[:, 1] + 2 * Fo[:, 2]) / (6 * so)
        R3 = (-3 * f00 + 4 * Fo[:, 0] - Fo[:, 1]) / (2 * so)
        JT[o] = R4
        err[o] = np.abs(R4 - R3) + 8 * eps * fmax[o] / np.abs(so)
    return JT, err


# ---------------------------------------------------------------------------
# Sparse differences and linear operators
# ---------------------------------------------------------------------------

def _sparse(ev, x0, f0, h, one_sided, structure, groups, method):
    m, n = f0.size, x0.size
    x0d = x0.astype(np.float64)
    n_groups = int(np.max(groups)) + 1 if n else 0
    E = np.equal.outer(np.arange(n_groups), groups)        # (n_groups, n) masks
    base = ev.obj.base
    if method == "2-point":
        X = np.where(E, (x0 + h).astype(x0.dtype), x0)
        F = ev.rows(X)
    elif method == "3-point":
        X1 = np.where(E, np.where(one_sided, x0 + h, x0 - h).astype(x0.dtype), x0)
        X2 = np.where(E, np.where(one_sided, x0 + 2 * h, x0 + h).astype(x0.dtype), x0)
        X = np.empty((2 * n_groups, n), dtype=x0.dtype)
        X[0::2], X[1::2] = X1, X2
        F = ev.rows(X)
    else:  # cs
        X = np.where(E, base + 1j * h, base)
        F = ev.rows(X)
    rows, cols, vals = [], [], []
    for g in range(n_groups):
        e = E[g]
        gc, = np.nonzero(e)
        i, j, _ = find(structure[:, gc])
        j = gc[j]
        if method == "2-point":
            dx = X[g].astype(np.float64) - x0d
            df = F[g] - f0
        elif method == "3-point":
            x1, x2 = X[2 * g].astype(np.float64), X[2 * g + 1].astype(np.float64)
            dx = np.where(one_sided, x2 - x0d, x2 - x1)
            f1, f2 = F[2 * g], F[2 * g + 1]
            df = np.empty(m)
            mask = one_sided[j]
            r = i[mask]
            df[r] = -3 * f0[r] + 4 * f1[r] - f2[r]
            r = i[~mask]
            df[r] = f2[r] - f1[r]
        else:
            df = F[g]
            dx = h * e
        rows.append(i)
        cols.append(j)
        vals.append(df[i] / dx[j])
    rows = np.hstack(rows) if rows else np.zeros(0, dtype=np.intp)
    cols = np.hstack(cols) if cols else np.zeros(0, dtype=np.intp)
    vals = np.hstack(vals) if vals else np.zeros(0)
    cls = csr_matrix if isspmatrix(structure) else csr_array
    return cls((vals, (rows, cols)), shape=(m, n))


def _linear_operator(obj, x0, f0, h, method):
    m, n = f0.size, x0.size

    def matvec(p):
        p = np.asarray(p).ravel()
        if np.array_equal(p, np.zeros_like(p)):
            return np.zeros(m)
        if method == "2-point":
            dx = h / norm(p)
            return (obj.one(x0 + dx * p) - f0) / dx
        if method == "3-point":
            dx = 2 * h / norm(p)
            return (obj.one(x0 + (dx / 2) * p) - obj.one(x0 - (dx / 2) * p)) / dx
        dx = h / norm(p)
        return np.imag(obj.one(x0 + dx * p * 1.j)) / dx

    return LinearOperator((m, n), matvec)


# ---------------------------------------------------------------------------
# The public functions
# ---------------------------------------------------------------------------

def _check_llc(fun):
    sig = fun.signature
    if sig not in LLC_SIGNATURES:
        raise ValueError(f"LowLevelCallable has signature {sig!r}; accepted signatures: "
                         + ", ".join(repr(s) for s in LLC_SIGNATURES))


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _prepare_x0(x0):
    arr = np.asarray(x0)
    dt = arr.dtype
    if dt.kind not in "biuf":
        raise TypeError(f"`x0` must be real numbers, got dtype {arr.dtype}")
    if dt not in _FLOAT_DTYPES:
        dt = np.float64
    x = np.array(arr, dtype=dt, copy=True, ndmin=1, order="C")
    if x.ndim > 1:
        raise ValueError("`x0` must have at most 1 dimension.")
    if not np.isfinite(x).all():
        raise ValueError("`x0` must contain only finite values (no NaN or inf).")
    return x


def _approx(fun, x0, method="3-point", rel_step=None, abs_step=None, f0=None,
            bounds=(-np.inf, np.inf), sparsity=None, as_linear_operator=False,
            args=(), kwargs=None, workers=None, vectorized=False, require_scalar=False):
    if method not in METHODS:
        raise ValueError(f"Unknown method '{method}'. ")
    x0 = _prepare_x0(x0)
    lb, ub, bounded = _prepare_bounds(bounds, x0)
    if as_linear_operator and bounded:
        raise ValueError("Bounds not supported when `as_linear_operator` is True.")
    if bounded and ((x0 < lb) | (x0 > ub)).any():
        raise ValueError("`x0` violates bound constraints.")
    if kwargs is None:
        kwargs = {}
    args = tuple(args)
    if method == "richardson" and (sparsity is not None or as_linear_operator):
        raise ValueError("method='richardson' supports dense Jacobians only "
                         "(sparsity=None, as_linear_operator=False)")
    cs = method == "cs"

    # ---- the kind of objective ----
    mapper_arg = workers
    n_threads = 1
    if isinstance(fun, LowLevelCallable):
        _check_llc(fun)
        if cs:
            raise ValueError("method='cs' needs complex arithmetic; a LowLevelCallable "
                             "takes real doubles only")
        if vectorized:
            raise ValueError("vectorized=True does not apply to a LowLevelCallable")
        if args or kwargs:
            raise ValueError("args/kwargs cannot be passed to a LowLevelCallable; use its "
                             "user_data")
        if workers is not None and callable(workers):
            raise ValueError("a LowLevelCallable runs in OpenMP threads: workers must be "
                             "None or an int (the number of threads)")
        n_threads = effective_n_threads(-1 if workers is None else int(workers), "workers")
        mapper_arg = None
        kind = "llc"
        x0 = x0.astype(np.float64)
    elif callable(fun):
        kind = "vec" if vectorized else "py"
    else:
        raise TypeError(f"`fun` must be callable or a scipy.LowLevelCallable, got "
                        f"{type(fun).__name__}")

    base = x0.astype(np.complex128) if cs else x0
    obj = _Objective(kind, fun, args, kwargs, base, 1, cs, n_threads,
                     auto_threads=kind == "llc" and workers is None)

    nfev = 0
    if f0 is None:
        f0 = obj.one(x0)
        nfev = 1
    else:
        f0 = np.atleast_1d(f0)
        if f0.ndim > 1:
            raise ValueError("`f0` passed has more than 1 dimension.")
    if require_scalar and f0.size != 1:
        raise ValueError(f"`fun` must return a scalar for a gradient, got {f0.size} values "
                         "(use gradkern.jacobian for vector functions)")
    obj.m = f0.size
    f0d = f0.astype(np.float64) if f0.dtype.kind != "c" else f0.real.astype(np.float64)
    info = {"nfev": None}

    if as_linear_operator:
        if rel_step is None:
            rel_step = _eps_for_method(x0.dtype, f0.dtype, method)
        J = _linear_operator(obj, x0, f0d, rel_step, method)
        return J, info, f0.size

    h = _absolute_step(rel_step, abs_step, x0, f0, method)
    if method == "2-point":
        h, one_sided = _adjust_scheme_to_bounds(x0, h, 1, "1-sided", lb, ub, bounded)
    elif method == "3-point":
        h, one_sided = _adjust_scheme_to_bounds(x0, h, 1, "2-sided", lb, ub, bounded)
    elif method == "richardson":
        h, one_sided = _richardson_steps(x0.astype(np.float64), h, lb, ub)
    else:
        one_sided = np.zeros(x0.shape, dtype=bool)

    # fast path: C objective, forward differences, one GIL-free pass
    if (kind == "llc" and method == "2-point" and sparsity is None):
        g = np.empty(x0.size)
        _k.gradient_2point_llc(_capsule(fun), x0, _as_f64(h), float(f0d[0]), g, n_threads,
                               _llc_auto_points_per_thread(x0.size) if workers is None else 1)
        info["nfev"] = nfev + x0.size
        return g, info, 1

    with MapWrapper(mapper_arg) as mapper:
        if mapper.pool is None and mapper_arg in (None, 1):
            ev = _Evaluator(obj)
        else:
            nw = mapper.n_workers
            ev = _Evaluator(obj, mapper, nw * _TASKS_PER_WORKER if nw else _DEFAULT_TASKS)
        if sparsity is None:
            JT, extra = _dense(ev, x0, f0d, h, one_sided, method)
            info.update(extra)
            m = f0.size
            if m == 1:
                J = np.ravel(JT)
                if "error_estimate" in info:
                    info["error_estimate"] = np.ravel(info["error_estimate"])
            else:
                J = JT.T
                if "error_estimate" in info:
                    info["error_estimate"] = info["error_estimate"].T
        else:
            if not issparse(sparsity) and len(sparsity) == 2:
                structure, groups = sparsity
            else:
                structure = sparsity
                groups = group_columns(sparsity)
            if issparse(structure):
                structure = structure.tocsc()
            else:
                structure = np.atleast_2d(structure)
            groups = np.atleast_1d(groups)
            if structure.shape != (f0.size, x0.size):
                raise ValueError(f"sparsity structure must have shape (m, n) = "
                                 f"{(f0.size, x0.size)}, got {structure.shape}")
            if groups.shape != (x0.size,):
                raise ValueError(f"sparsity groups must have shape ({x0.size},), got "
                                 f"{groups.shape}")
            J = _sparse(ev, x0, f0d, h, one_sided, structure, groups, method)
    info["nfev"] = nfev + ev.nfev
    return J, info, f0.size


_NO_BOUNDS = (-np.inf, np.inf)
_LLC_ALL_THREADS = effective_n_threads(-1)


def approx_derivative(fun, x0, method='3-point', rel_step=None, abs_step=None, f0=None,
                      bounds=_NO_BOUNDS, sparsity=None, as_linear_operator=False,
                      args=(), kwargs=None, full_output=False, workers=None, *,
                      vectorized=False):
    """Finite-difference Jacobian (or gradient) of ``fun`` at ``x0``.

    A drop-in for ``scipy.optimize._numdiff.approx_derivative`` (scipy 1.17):
    same parameters, defaults, step rules, bounds handling, return shapes and
    errors. The evaluation loop runs in C.

    Parameters
    ----------
    fun : callable or scipy.LowLevelCallable
        ``fun(x, *args, **kwargs)`` with ``x`` an ndarray of shape (n,) (a fresh
        array per call), returning a scalar or a 1-D array of shape (m,). Or a
        ``LowLevelCallable`` with C signature ``double (int n, double *x, void *user_data)``
        (ctypes, cffi, numba ``cfunc``, Cython capsule): then the loop runs in C
        without the GIL, on OpenMP threads.
    x0 : array_like of shape (n,) or float
        Point of differentiation. float32 stays float32, other reals become float64.
    method : {'3-point', '2-point', 'cs', 'richardson'}
        Forward (or backward near bounds) differences, central (one-sided
        second-order near bounds), complex step (``fun`` must be complex-analytic),
        or Richardson-extrapolated central differences (accuracy ``O(h**3)``,
        3 evaluations per variable, error estimate in ``full_output``).
    rel_step : None or array_like
        Relative step: ``h = rel_step * sign(x0) * abs(x0)``; default
        ``EPS**(1/2)`` ('2-point'), ``EPS**(1/3)`` ('3-point'), ``EPS`` ('cs')
        times ``sign(x0) * max(1, abs(x0))``; 'richardson' uses
        ``EPS**(1/4) * max(1, sqrt(log1p(abs(x0))))``.
    abs_step : array_like, optional
        Absolute step (sign ignored for central schemes); a step too small to
        change ``x0`` falls back to the default relative step.
    f0 : None or array_like
        ``fun(x0)`` if already known (saves one evaluation).
    bounds : 2-tuple of array_like
        Lower and upper bounds (scalars or shape (n,)); points never leave them.
    sparsity : {None, array_like, sparse array, 2-tuple}
        Jacobian structure, or ``(structure, groups)``; the result is then a
        ``csr_array`` (``csr_matrix`` if the structure is one).
    as_linear_operator : bool
        Return a ``scipy.sparse.linalg.LinearOperator`` computing ``J @ p``.
    args, kwargs : tuple and dict
        Extra arguments: ``fun(x, *args, **kwargs)``.
    full_output : bool
        Also return a dict with ``nfev`` (and ``error_estimate`` for 'richardson').
    workers : int or map-like callable, optional
        A process pool size (``-1``: all cores) or ``workers(func, iterable)``
        such as ``multiprocessing.Pool.map`` or ``gradkern.numdiff.DaskMap(client)``;
        each task evaluates a chunk of points; results and ``nfev`` are identical
        to the serial run. For a ``LowLevelCallable`` an int is the number of
        OpenMP threads (default: all).
    vectorized : bool, keyword-only
        ``fun(X)`` takes ``X`` of shape (n, k) (k points as columns) and returns
        shape (k,) or (m, k); points are sent in chunks of bounded memory.

    Returns
    -------
    J : ndarray, csr_array or LinearOperator
        Shape (n,) when ``fun`` is scalar (dense case), else (m, n).
    info : dict
        Only with ``full_output=True``: ``{'nfev': ...}``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern import approx_derivative
    >>> def f(x, c1, c2):
    ...     return np.array([x[0] * np.sin(c1 * x[1]), x[0] * np.cos(c2 * x[1])])
    >>> approx_derivative(f, np.array([1.0, 0.0]), args=(1, 2))
    array([[0., 1.],
           [1., 0.]])
    >>> g, info = approx_derivative(lambda x: np.sum(np.sin(x)), np.zeros(3),
    ...                             method='richardson', full_output=True)
    >>> np.allclose(g, 1.0, rtol=1e-12, atol=0), info['nfev']
    (True, 10)
    """
    if (type(fun) is LowLevelCallable and method == '2-point' and rel_step is None
            and abs_step is None and bounds is _NO_BOUNDS and sparsity is None
            and not as_linear_operator and not args and not kwargs and not vectorized
            and type(x0) is np.ndarray and x0.dtype == np.float64 and x0.ndim == 1
            and (workers is None or isinstance(workers, numbers.Integral))
            and fun.signature in LLC_SIGNATURES):
        # fast path: scipy's default 2-point steps computed in C, one GIL-free pass
        J = np.empty(x0.shape[0])
        nt = _LLC_ALL_THREADS if workers is None else effective_n_threads(workers, "workers")
        _k.gradient_2point_llc(_capsule(fun), np.ascontiguousarray(x0), None,
                               None if f0 is None else float(np.atleast_1d(f0)[0]), J, nt,
                               _llc_auto_points_per_thread(x0.size) if workers is None else 1)
        if full_output:
            return J, {"nfev": J.shape[0] + (f0 is None)}
        return J
    J, info, _ = _approx(fun, x0, method, rel_step, abs_step, f0, bounds, sparsity,
                         as_linear_operator, args, kwargs, workers, vectorized)
    if full_output:
        return J, info
    return J


def approx_fprime(xk, f, epsilon=_EPSILON, *args):
    """Forward-difference gradient (or Jacobian) of ``f`` at ``xk``, as scipy's.

    Parameters
    ----------
    xk : array_like
        Point at which to differentiate.
    f : callable or scipy.LowLevelCallable
        ``f(xk, *args)``, returning a scalar or a 1-D array.
    epsilon : float or array_like
        Absolute step(s); default ``sqrt(finfo(float).eps)``.
    *args
        Extra arguments of ``f``.

    Returns
    -------
    jac : ndarray
        Shape (n,) for scalar ``f``, else (m, n).

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern import approx_fprime
    >>> approx_fprime(np.ones(2), lambda x, c0, c1: c0 * x[0]**2 + c1 * x[1]**2, 1e-8, 1, 200)
    array([  1.99999876, 400.00000142])
    """
    xk = np.asarray(xk, float)
    f0 = None if isinstance(f, LowLevelCallable) else f(xk, *args)
    return approx_derivative(f, xk, method='2-point', abs_step=epsilon, args=args, f0=f0)


def check_grad(func, grad, x0, *args, epsilon=_EPSILON, direction='all', rng=None):
    """2-norm of ``grad(x0) - approx_fprime(x0, func)``, as scipy's ``check_grad``.

    Parameters
    ----------
    func, grad : callable
        ``func(x, *args)`` and its gradient ``grad(x, *args)``.
    x0 : ndarray
        Point of the check.
    *args
        Extra arguments of ``func`` and ``grad``.
    epsilon : float
        Forward-difference step (default ``sqrt(finfo(float).eps)``).
    direction : {'all', 'random'}
        Compare all partial derivatives, or only along one random direction.
    rng : numpy.random.Generator, int or None
        Random source for ``direction='random'``.

    Returns
    -------
    err : float

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern import check_grad
    >>> f = lambda x: x[0]**2 - 0.5 * x[1]**3
    >>> g = lambda x: [2 * x[0], -1.5 * x[1]**2]
    >>> bool(check_grad(f, g, [1.5, -1.5]) < 1e-6)
    True
    """
    x0 = np.asarray(x0)
    if direction == 'random':
        _grad = np.asanyarray(grad(x0, *args))
        if _grad.ndim > 1:
            raise ValueError("'random' can only be used with scalar valued func")
        if rng is None or rng is np.random:
            gen = np.random.mtrand._rand
        elif isinstance(rng, (np.random.Generator, np.random.RandomState)):
            gen = rng
        else:
            gen = np.random.default_rng(rng)
        v = gen.standard_normal(size=x0.shape)
        analytical = np.dot(_grad, v)
        fd = approx_fprime(np.zeros((1,)), _Directional(func, x0, v), epsilon, *args)
    elif direction == 'all':
        analytical = grad(x0, *args)
        fd = approx_fprime(x0, func, epsilon, *args)
    else:
        raise ValueError(f"{direction} is not a valid string for ``direction`` argument")
    return np.sqrt(np.sum(np.abs((analytical - fd) ** 2)))


def rosen_lowlevel():
    """The extended Rosenbrock function (as ``scipy.optimize.rosen``) compiled in C,
    as a ``scipy.LowLevelCallable`` with signature ``double (int, double *, void *)``.

    A ready-made C objective to try the GIL-free path; user code builds its own from
    ctypes, cffi, numba ``cfunc`` or a Cython capsule the same way.

    Returns
    -------
    llc : scipy.LowLevelCallable

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import rosen_der
    >>> from gradkern import approx_derivative
    >>> from gradkern.numdiff import rosen_lowlevel
    >>> x = np.array([0.5, -1.0, 2.0])
    >>> g = approx_derivative(rosen_lowlevel(), x, method='richardson')
    >>> bool(np.allclose(g, rosen_der(x), rtol=1e-10))
    True
    """
    return LowLevelCallable(_k.rosen_capsule())


class _Directional:
    def __init__(self, func, x0, v):
        self.func, self.x0, self.v = func, x0, v

    def __call__(self, w, *args):
        return self.func(self.x0 + w * self.v, *args)


def _bounds_or_default(bounds):
    return (-np.inf, np.inf) if bounds is None else bounds


def gradient(fun, x, *, method='3-point', step=None, args=(), bounds=None, workers=None,
             vectorized=False):
    """Gradient of a scalar function by finite differences.

    Parameters
    ----------
    fun : callable or scipy.LowLevelCallable
        ``fun(x, *args)`` returning a scalar.
    x : array_like, shape (n,)
    method : {'3-point', '2-point', 'cs', 'richardson'}
    step : float or array_like, optional
        Absolute step; default: the method's relative step rule.
    args : tuple
    bounds : (lb, ub), optional
    workers : int or map-like, optional
    vectorized : bool

    Returns
    -------
    g : ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np, gradkern
    >>> g = gradkern.gradient(lambda x: np.sum(x**2), [1.0, 2.0], method='richardson')
    >>> np.allclose(g, [2.0, 4.0], rtol=1e-12)
    True
    """
    J, _, _ = _approx(fun, x, method, None, step, None, _bounds_or_default(bounds), None,
                      False, args, None, workers, vectorized, require_scalar=True)
    return np.ravel(J)


def jacobian(fun, x, *, method='3-point', step=None, args=(), bounds=None, workers=None,
             vectorized=False):
    """Jacobian of ``fun`` by finite differences, always of shape (m, n).

    Parameters are those of :func:`gradient`; ``fun`` may return a vector.

    Examples
    --------
    >>> import numpy as np, gradkern
    >>> gradkern.jacobian(lambda x: np.array([x[0] * x[1], x[1]]), [2.0, 3.0],
    ...                   method='richardson').round(10)
    array([[3., 2.],
           [0., 1.]])
    """
    J, _, _ = _approx(fun, x, method, None, step, None, _bounds_or_default(bounds), None,
                      False, args, None, workers, vectorized)
    return np.atleast_2d(J)


def hessian(fun, x, *, grad=None, method='3-point', step=None, args=()):
    """Hessian of a scalar function, symmetric, shape (n, n).

    From a gradient callable ``grad`` (its Jacobian, symmetrized), or from
    function values alone: central second differences (``method='3-point'``,
    ``2n**2 + 1`` evaluations, step ``EPS**(1/4) * max(1, |x|)``) or forward ones
    (``'2-point'``, ``n(n+3)/2 + 1`` evaluations, step ``EPS**(1/3) * max(1, |x|)``).

    Parameters
    ----------
    fun : callable
        ``fun(x, *args)`` returning a scalar (unused when ``grad`` is given).
    x : array_like, shape (n,)
    grad : callable, optional
        ``grad(x, *args)`` returning shape (n,).
    method : str
        With ``grad``: any method of :func:`approx_derivative`; without it,
        '3-point' or '2-point'.
    step : float or array_like, optional
        Absolute step.
    args : tuple

    Returns
    -------
    H : ndarray, shape (n, n)

    Examples
    --------
    >>> import numpy as np, gradkern
    >>> f = lambda x: x[0]**2 * x[1] + x[1]**3
    >>> gradkern.hessian(f, [1.0, 2.0]).round(5)
    array([[ 4.,  2.],
           [ 2., 12.]])
    """
    if grad is not None:
        J = jacobian(grad, x, method=method, step=step, args=args)
        if J.shape[0] != J.shape[1]:
            raise ValueError(f"grad must return shape (n,) = ({J.shape[1]},), got "
                             f"{J.shape[0]} values")
        return 0.5 * (J + J.T)
    if method not in ("3-point", "2-point"):
        raise ValueError(f"hessian from function values supports method '3-point' or "
                         f"'2-point', got {method!r} (pass grad= for other methods)")
    if not callable(fun):
        raise TypeError("`fun` must be callable")
    x0 = _prepare_x0(x)
    if not isinstance(args, tuple):
        args = (args,)
    obj = _Objective("py", fun, args, None, x0, 1, False)
    f0 = obj.one(x0)
    if f0.size != 1:
        raise ValueError(f"`fun` must return a scalar for a Hessian, got {f0.size} values")
    f0 = float(f0[0])
    n = x0.size
    eps = float(np.finfo(x0.dtype).eps)
    if step is None:
        p = 0.25 if method == "3-point" else 1 / 3
        h = eps ** p * _sign(x0) * np.maximum(1.0, np.abs(x0.astype(np.float64)))
    else:
        h = np.broadcast_to(np.asarray(step, dtype=float), x0.shape).astype(float)
    x0d = x0.astype(np.float64)
    h = _moved(x0, h) - x0d            # steps actually taken
    if np.any(h == 0):
        raise ValueError("step too small: x + step == x for some coordinate")
    iu, ju = np.triu_indices(n, 1)
    H = np.empty((n, n))
    idx = np.arange(n)
    if method == "3-point":
        Fd = obj.points(np.repeat(idx, 2), np.stack([h, -h], 1).ravel()).reshape(n, 2)
        H[idx, idx] = (Fd[:, 0] - 2 * f0 + Fd[:, 1]) / (h * h)
        if iu.size:
            sg = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=float)
            ci = np.repeat(iu, 4)
            cj = np.repeat(ju, 4)
            di = (h[iu][:, None] * sg[:, 0]).ravel()
            dj = (h[ju][:, None] * sg[:, 1]).ravel()
            F = obj.points(ci, di, cj, dj).reshape(-1, 4)
            v = (F[:, 0] - F[:, 1] - F[:, 2] + F[:, 3]) / (4 * h[iu] * h[ju])
            H[iu, ju] = v
            H[ju, iu] = v
    else:
        Fi = obj.points(idx, h).ravel()
        Fii = obj.points(idx, 2 * h).ravel()
        H[idx, idx] = (Fii - 2 * Fi + f0) / (h * h)
        if iu.size:
            Fij = obj.points(iu, h[iu], ju, h[ju]).ravel()
            v = (Fij - Fi[iu] - Fi[ju] + f0) / (h[iu] * h[ju])
            H[iu, ju] = v
            H[ju, iu] = v
    return H
