"""Analytic objectives with fused value-and-gradient kernels.

Each class is built once from data and then offers

- ``obj.value(w, rows=None)``
- ``obj.grad(w, out=None, rows=None)``
- ``obj.value_and_grad(w, out=None, rows=None)``: value and gradient in one
  pass over the data,
- ``obj(w)``: ``(value, grad)`` (a new gradient array each call), so that
  ``scipy.optimize.minimize(obj, w0, jac=True)`` works,
- ``obj.hessp(w, p, rows=None)`` for :class:`Quadratic`, :class:`LeastSquares`,
  :class:`Logistic` and :class:`Rosenbrock` (Newton-CG, trust-ncg, trust-krylov).

Conventions for the data-fitting objectives (LeastSquares, Logistic,
SoftmaxCrossEntropy, Huber):

- the loss is the **sample-weighted mean** plus an l2 penalty::

      f(w) = sum_i s_i * loss_i(w) / sum_i s_i + 0.5 * l2 * ||w||^2

  with ``s_i = 1`` when ``sample_weight`` is None; the intercept (Logistic
  with ``fit_intercept=True``) is not penalized;
- ``X`` is a dense 2-D array (C or F order; other strides are copied to C
  order once) or a ``scipy.sparse`` matrix (stored as CSR; other formats are
  converted once); float32 and float64 ``X`` are used as they are, other real
  dtypes are converted to float64. Sums are always accumulated in float64;
  ``w``, the gradient and the value are float64 (a float32 ``w`` is converted);
- ``X`` must be finite: this is checked once, at construction. The objects keep
  a reference to ``X`` (no copy when it already has a kernel layout): do not
  modify it afterwards. Small C-ordered ``X`` (at most 1 MiB, 2 to 16
  features) is also copied once to column-major order (float32 widened to
  float64, exactly), which the kernels read faster there; calls on all rows
  or a contiguous slice use the copy;
- ``rows=`` selects a minibatch without copying ``X``: a slice, an integer
  index array (repeats allowed, negative indices count from the end) or a
  boolean mask of length ``n_samples``; the loss is then the weighted mean
  over those rows;
- ``n_threads`` (constructor): OpenMP threads over rows, each with its own
  gradient accumulator summed in thread order, so results are deterministic
  for a fixed thread count (they may differ in the last bits between thread
  counts). ``-1`` means all cores (see ``gradkern.effective_n_threads``).
"""
import numbers

import numpy as np

from gradkern._kernels import _objectives as _k
from gradkern._validation import (
    as_float_array, check_positive_int, check_writable_float, effective_n_threads,
    float_dtype_of,
)

__all__ = ["Objective", "Quadratic", "LeastSquares", "Logistic", "SoftmaxCrossEntropy",
           "Huber", "Rosenbrock"]

_OP_LINEAR = 0
_OP_SOFTMAX = 1
_F64 = np.dtype(np.float64)


def _is_sparse(x):
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy is a dependency
        return False
    return sp.issparse(x)


def _check_real(value, name, *, minimum=None, strict=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        op = ">" if strict else ">="
        raise ValueError(f"{name} must be {op} {minimum}, got {value}")
    return value


def _prepare_X(X):
    """(array for the kernel, layout, indices, indptr, n_samples, n_features)."""
    if _is_sparse(X):
        X = X.tocsr()
        if X.ndim != 2:
            raise ValueError(f"X must be 2-dimensional, got shape {X.shape}")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X must hold real numbers, got dtype {X.dtype}")
        dt = float_dtype_of(X.data, "X")
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        data = np.ascontiguousarray(X.data, dtype=dt)
        if not np.all(np.isfinite(data)):
            raise ValueError("X must contain only finite values (no NaN or inf)")
        indices = np.ascontiguousarray(X.indices, dtype=np.intp)
        indptr = np.ascontiguousarray(X.indptr, dtype=np.intp)
        return data, "CSR", indices, indptr, X.shape[0], X.shape[1]
    if isinstance(X, np.ndarray) and X.dtype.kind not in "biuf":
        raise TypeError(f"X must be an array of real numbers, got dtype {X.dtype}")
    arr = as_float_array(X, "X", ndim=2, contiguous=False)
    if arr.flags.c_contiguous:
        layout = "C"
    elif arr.flags.f_contiguous:
        layout = "F"
    else:
        arr = np.ascontiguousarray(arr)
        layout = "C"
    if arr.size and not np.isfinite(arr).all():
        raise ValueError("X must contain only finite values (no NaN or inf)")
    return arr, layout, None, None, arr.shape[0], arr.shape[1]


# C-ordered X of at most this many bytes and _COPY_MIN_D..._COPY_MAX_D features
# is also kept as a column-major copy for calls on all rows or a contiguous
# slice: the F-order loop (_objectives_cols.h) runs 1.1-2.4x faster on data in
# cache at these d than the row loops (bench/c/objectives_cols.c, 1,000 rows).
# The copy is float64 for float32 X too (the widening is exact; results agree
# with the float32 copy's to rounding): one thread, value_and_grad on float32 X,
# least squares at 1,000 x 10 took 1.33 us against 1.47 from a float32 copy,
# 0.95-1.13x as fast at d = 2, 4, 8, 10, 12, 16 with 1,000 and 10,000 rows,
# logistic 0.98-1.13x.
_COPY_MIN_D, _COPY_MAX_D, _COPY_MAX_BYTES = 2, 16, 1 << 20


def _column_copy(X):
    """A float64 column-major copy of X, each column starting on a 64-byte
    boundary (aligned vector loads; the column stride is padded)."""
    n, d = X.shape
    it = 8
    cs = -(-n * it // 64) * 64 // it
    buf = np.empty(cs * d + 64 // it, dtype=np.float64)
    off = (-buf.ctypes.data % 64) // it
    Xc = buf[off:off + cs * d].reshape(d, cs).T[:n]
    Xc[...] = X
    return Xc


def _prepare_sample_weight(sample_weight, n):
    if sample_weight is None:
        return None
    sw = as_float_array(sample_weight, "sample_weight", dtype=np.float64, ndim=1)
    if sw.shape[0] != n:
        raise ValueError(f"sample_weight must have length n_samples={n}, got {sw.shape[0]}")
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight must contain only finite values (no NaN or inf)")
    if np.any(sw < 0):
        raise ValueError("sample_weight must be non-negative")
    if n and not sw.sum() > 0:
        raise ValueError("sample_weight must have a positive sum")
    return sw


class Objective:
    """Base class: a function of one float64 vector ``w`` with its gradient.

    Subclasses implement ``_value_grad(w, out, rows)`` (``out`` None: value
    only) and set ``n_params``.
    """

    #: length of ``w``
    n_params = 0

    # -- argument handling ------------------------------------------------------
    def _check_w(self, w, name="w"):
        if type(w) is np.ndarray and w.dtype == _F64 and w.ndim == 1 \
                and w.flags.c_contiguous:
            arr = w  # fast path: nothing to convert
        else:
            if isinstance(w, np.ndarray) and w.dtype.kind not in "biuf":
                raise TypeError(f"{name} must be an array of real numbers, got dtype {w.dtype}")
            arr = as_float_array(w, name, dtype=np.float64, ndim=1)
        if arr.shape[0] != self.n_params:
            raise ValueError(f"{name} must have length {self.n_params}, got {arr.shape[0]}")
        return arr

    def _check_out(self, out):
        if out is None:
            return np.empty(self.n_params)
        return check_writable_float(out, "out", dtype=np.float64, shape=(self.n_params,))

    # -- public API -------------------------------------------------------------
    def value(self, w, rows=None):
        """The objective at ``w`` (float).

        Parameters
        ----------
        w : array_like of shape (n_params,)
        rows : slice, int array or bool mask, optional
            Minibatch (data-fitting objectives only): use only these samples.
        """
        return self._value_grad(self._check_w(w), None, rows)

    def grad(self, w, out=None, rows=None):
        """The gradient at ``w``, written to ``out`` when given (float64,
        C-contiguous, length ``n_params``) and returned."""
        out = self._check_out(out)
        self._value_grad(self._check_w(w), out, rows)
        return out

    def value_and_grad(self, w, out=None, rows=None):
        """``(value, gradient)`` at ``w`` from one pass over the data; the
        gradient is written to ``out`` when given."""
        out = self._check_out(out)
        f = self._value_grad(self._check_w(w), out, rows)
        return f, out

    def __call__(self, w):
        """``(value, gradient)`` with a fresh gradient array, for
        ``scipy.optimize.minimize(obj, w0, jac=True)``."""
        return self.value_and_grad(w)

    def __repr__(self):
        return f"{type(self).__name__}(n_params={self.n_params})"


class _LinearModel(Objective):
    """Shared machinery of the objectives built on X (see the module docstring)."""

    _op = _OP_LINEAR
    _kind = "squared"

    def _setup(self, X, y, *, l2, sample_weight, fit_intercept, n_threads, delta=1.0,
               n_classes=1):
        data, layout, indices, indptr, n, d = _prepare_X(X)
        self.n_samples, self.n_features = n, d
        self.l2 = _check_real(l2, "l2", minimum=0.0)
        self.fit_intercept = bool(fit_intercept)
        self.n_threads = effective_n_threads(n_threads)
        yk = self._prepare_y(y, n)
        sw = _prepare_sample_weight(sample_weight, n)
        self.sample_weight = sw
        self.layout = layout
        self.dtype = data.dtype
        self.X = data if layout != "CSR" else (data, indices, indptr)
        self._kernel = _k.LinearProblem(self._op, data, layout, indices, indptr, yk, sw, d,
                                        n_classes, self.fit_intercept, self._kind, delta)
        # all rows and contiguous slices: from a column-major copy of small
        # C-ordered X with few features (see _column_copy)
        self._kernel_cols = self._kernel
        if self._op == _OP_LINEAR and layout == "C" and n >= 8 and \
                _COPY_MIN_D <= d <= _COPY_MAX_D and data.nbytes <= _COPY_MAX_BYTES:
            self._kernel_cols = _k.LinearProblem(self._op, _column_copy(data), "F", None, None,
                                                 yk, sw, d, n_classes, self.fit_intercept,
                                                 self._kind, delta)

    def _prepare_y(self, y, n):
        if isinstance(y, np.ndarray) and y.dtype.kind not in "biuf":
            raise TypeError(f"y must be an array of real numbers, got dtype {y.dtype}")
        yk = as_float_array(y, "y", dtype=np.float64, ndim=1)
        if yk.shape[0] != n:
            raise ValueError(f"y must have length n_samples={n} (rows of X), got {yk.shape[0]}")
        if not np.all(np.isfinite(yk)):
            raise ValueError("y must contain only finite values (no NaN or inf)")
        return yk

    def _rows(self, rows):
        """(index array or None, start, step, count) for the kernel."""
        n = self.n_samples
        if rows is None:
            return None, 0, 1, n
        if isinstance(rows, slice):
            start, stop, step = rows.indices(n)
            return None, start, step, len(range(start, stop, step))
        idx = np.asarray(rows)
        if idx.dtype == np.bool_:
            if idx.shape != (n,):
                raise ValueError(f"rows as a boolean mask must have shape ({n},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        elif idx.dtype.kind not in "iu":
            raise TypeError(f"rows must be a slice, an integer array or a boolean mask, "
                            f"got dtype {idx.dtype}")
        if idx.ndim != 1:
            raise ValueError(f"rows must be 1-dimensional, got shape {idx.shape}")
        idx = np.asarray(idx, dtype=np.intp)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise ValueError(f"rows must be indices in [-{n}, {n}), got values in "
                             f"[{idx.min()}, {idx.max()}]")
        if idx.size and idx.min() < 0:
            idx = np.where(idx < 0, idx + n, idx)
        return np.ascontiguousarray(idx), 0, 1, idx.shape[0]

    # value, grad and value_and_grad: a fast path for the plain calls (float64
    # C-contiguous w and out of the right length; all rows, a slice, or an intp
    # index array in range, as a stochastic optimizer's minibatches). The kernel
    # checks exactly that, else returns None and the general path validates (and
    # raises).
    def _kernel_for(self, rows):
        """The column-major copy's kernel for all rows and contiguous slices."""
        if rows is None or (type(rows) is slice and rows.step in (None, 1)):
            return self._kernel_cols
        return self._kernel

    def _fast(self, w, out, rows, with_grad):
        r = self._kernel_for(rows).value_grad_fast(w, out, rows, self.l2, self.n_threads,
                                                   with_grad)
        if r is not None and not r[1] > 0:
            raise ValueError("the selected rows have zero total sample_weight")
        return r

    def value(self, w, rows=None):
        r = self._fast(w, None, rows, False)
        return r[0] if r is not None else Objective.value(self, w, rows)

    def grad(self, w, out=None, rows=None):
        r = self._fast(w, out, rows, True)
        return r[2] if r is not None else Objective.grad(self, w, out, rows)

    def value_and_grad(self, w, out=None, rows=None):
        # _fast and _kernel_for inlined: this is the hot call (~25 ns a frame)
        k = self._kernel_cols if rows is None else self._kernel_for(rows)
        r = k.value_grad_fast(w, out, rows, self.l2, self.n_threads, True)
        if r is None:
            return Objective.value_and_grad(self, w, out, rows)
        if not r[1] > 0:
            raise ValueError("the selected rows have zero total sample_weight")
        return r[0], r[2]

    value.__doc__ = Objective.value.__doc__
    grad.__doc__ = Objective.grad.__doc__
    value_and_grad.__doc__ = Objective.value_and_grad.__doc__

    def _value_grad(self, w, out, rows):
        idx, start, step, count = self._rows(rows)
        if count == 0:
            raise ValueError("rows selects no samples")
        f, s = self._kernel_for(rows).value_grad(w, out, idx, start, step, count, self.l2,
                                       self.n_threads)
        if not s > 0:
            raise ValueError("the selected rows have zero total sample_weight")
        return f

    def _hessp(self, w, p, rows=None):
        """Hessian of the objective at ``w`` times the vector ``p`` (a new array),
        in one pass over the data, for ``scipy.optimize.minimize(...,
        hessp=obj.hessp)`` (Newton-CG, trust-ncg, trust-krylov). ``rows``: as in
        :meth:`value`."""
        w = self._check_w(w)
        p = self._check_w(p, "p")
        idx, start, step, count = self._rows(rows)
        if count == 0:
            raise ValueError("rows selects no samples")
        out = np.empty(self.n_params)
        s = self._kernel.hessp(w, p, out, idx, start, step, count, self.l2, self.n_threads)
        if not s > 0:
            raise ValueError("the selected rows have zero total sample_weight")
        return out


_DATA_PARAMS = """X : ndarray of shape (n_samples, n_features) or scipy.sparse matrix
        Dense (C or F order) or CSR data; float32 or float64 are kept, other
        real dtypes become float64. Must be finite.
    y : array_like of shape (n_samples,)"""

_COMMON_PARAMS = """l2 : float, default 0
        Coefficient of the penalty ``0.5 * l2 * ||w||^2``.
    sample_weight : array_like of shape (n_samples,), optional
        Non-negative weights ``s_i`` of the weighted mean (default all 1).
    n_threads : int, default 1
        OpenMP threads over rows (-1: all)."""


class LeastSquares(_LinearModel):
    __doc__ = f"""Least squares: ``f(w) = sum_i s_i 0.5 (x_i . w - y_i)^2 / sum_i s_i + 0.5 l2 ||w||^2``.

    Parameters
    ----------
    {_DATA_PARAMS}
        Targets.
    {_COMMON_PARAMS}

    Attributes
    ----------
    n_params : int
        ``n_features``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.objectives import LeastSquares
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> obj = LeastSquares(X, np.array([1.0, 2.0, 2.0]))
    >>> f, g = obj.value_and_grad(np.zeros(2))
    >>> float(f), g
    (1.5, array([-1., -2.]))
    >>> obj.hessp(np.zeros(2), np.array([1.0, 0.0]))   # X' X p / n
    array([0.66666667, 0.33333333])
    """

    _kind = "squared"
    hessp = _LinearModel._hessp

    def __init__(self, X, y, l2=0.0, sample_weight=None, *, n_threads=1):
        self._setup(X, y, l2=l2, sample_weight=sample_weight, fit_intercept=False,
                    n_threads=n_threads)
        self.n_params = self.n_features


class Huber(_LinearModel):
    __doc__ = f"""Huber regression on residuals ``r_i = x_i . w - y_i``.

    ``loss_i = 0.5 r_i^2`` if ``|r_i| <= delta`` else ``delta (|r_i| - delta / 2)``;
    ``f(w) = sum_i s_i loss_i / sum_i s_i + 0.5 l2 ||w||^2``. (No ``hessp``:
    the second derivative jumps at ``|r| = delta``.)

    Parameters
    ----------
    {_DATA_PARAMS}
        Targets.
    delta : float, default 1.0
        Threshold (> 0) between the quadratic and the linear zone.
    {_COMMON_PARAMS}

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.objectives import Huber
    >>> obj = Huber(np.array([[1.0], [1.0]]), np.array([0.5, 3.0]), delta=1.0)
    >>> f, g = obj(np.array([0.0]))
    >>> float(f), g                  # (0.125 + 2.5) / 2 ; (-0.5 - 1) / 2
    (1.3125, array([-0.75]))
    """

    _kind = "huber"

    def __init__(self, X, y, delta=1.0, l2=0.0, sample_weight=None, *, n_threads=1):
        self.delta = _check_real(delta, "delta", minimum=0.0, strict=True)
        self._setup(X, y, l2=l2, sample_weight=sample_weight, fit_intercept=False,
                    n_threads=n_threads, delta=self.delta)
        self.n_params = self.n_features


class Logistic(_LinearModel):
    __doc__ = f"""Binary logistic regression (log loss), labels ``y`` in {{0, 1}}.

    With margin ``z_i = x_i . w (+ b)``:
    ``loss_i = log(1 + exp(z_i)) - y_i z_i``, computed as
    ``max(z, 0) + log1p(exp(-|z|)) - y z`` so that no margin overflows;
    ``f(w) = sum_i s_i loss_i / sum_i s_i + 0.5 l2 ||w[:n_features]||^2``.

    Parameters
    ----------
    {_DATA_PARAMS}
        Labels, each 0 or 1.
    {_COMMON_PARAMS}
    fit_intercept : bool, default False
        Add an intercept ``b``: then ``w`` has ``n_features + 1`` entries,
        the intercept **last**; it is not penalized.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.objectives import Logistic
    >>> X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -1.0]])
    >>> obj = Logistic(X, [1, 0, 1], fit_intercept=True)
    >>> obj.n_params
    3
    >>> f, g = obj.value_and_grad(np.zeros(3))
    >>> round(float(f), 6)                  # log(2)
    0.693147
    >>> g
    array([-0.33333333, -0.08333333, -0.16666667])
    >>> from scipy.optimize import minimize
    >>> res = minimize(Logistic(X, [1, 0, 1], l2=0.1), np.zeros(2), jac=True)
    >>> bool(res.success)
    True
    """

    _kind = "logistic"
    hessp = _LinearModel._hessp

    def __init__(self, X, y, l2=0.0, sample_weight=None, fit_intercept=False, *, n_threads=1):
        self._setup(X, y, l2=l2, sample_weight=sample_weight, fit_intercept=fit_intercept,
                    n_threads=n_threads)
        self.n_params = self.n_features + (1 if self.fit_intercept else 0)

    def _prepare_y(self, y, n):
        yk = super()._prepare_y(y, n)
        bad = (yk != 0) & (yk != 1)
        if np.any(bad):
            raise ValueError(f"y must hold labels 0 or 1, got {yk[bad][0]!r} "
                             f"(and {int(bad.sum())} bad labels in all)")
        return yk


class SoftmaxCrossEntropy(_LinearModel):
    __doc__ = f"""Multinomial logistic regression (softmax cross-entropy).

    ``w`` has ``n_features * n_classes`` entries: ``W = w.reshape(n_features,
    n_classes)`` (C order), class scores ``z_i = x_i @ W``,
    ``loss_i = logsumexp(z_i) - z_i[y_i]`` (computed stably),
    ``f(w) = sum_i s_i loss_i / sum_i s_i + 0.5 l2 ||w||^2``. No intercept:
    append a column of ones to ``X`` for one. The gradient has the same layout.

    Parameters
    ----------
    {_DATA_PARAMS}
        Class labels, integers in ``[0, n_classes)``.
    n_classes : int
        Number of classes (>= 2).
    {_COMMON_PARAMS}

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.objectives import SoftmaxCrossEntropy
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> obj = SoftmaxCrossEntropy(X, [0, 2], n_classes=3)
    >>> f, g = obj(np.zeros(6))
    >>> round(float(f), 6)                  # log(3)
    1.098612
    >>> g.reshape(2, 3)
    array([[-0.33333333,  0.16666667,  0.16666667],
           [ 0.16666667,  0.16666667, -0.33333333]])
    """

    _op = _OP_SOFTMAX

    def __init__(self, X, y, n_classes, l2=0.0, sample_weight=None, *, n_threads=1):
        self.n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        self._setup(X, y, l2=l2, sample_weight=sample_weight, fit_intercept=False,
                    n_threads=n_threads, n_classes=self.n_classes)
        self.n_params = self.n_features * self.n_classes

    def _prepare_y(self, y, n):
        yf = super()._prepare_y(y, n)
        bad = (yf != np.floor(yf)) | (yf < 0) | (yf >= self.n_classes)
        if np.any(bad):
            raise ValueError(f"y must hold integer labels in [0, n_classes={self.n_classes}), "
                             f"got {yf[bad][0]!r} (and {int(bad.sum())} bad labels in all)")
        return yf.astype(np.intp)


class Quadratic(Objective):
    """Quadratic form ``f(w) = 0.5 w' A w - b' w``; gradient ``A w - b``, Hessian ``A``.

    ``A`` must be symmetric (checked at construction, up to rounding). The
    product ``A w`` is one BLAS matrix-vector call (numpy ``@``, or scipy.sparse
    for a sparse ``A``): it already reads ``A`` once, which is all a fused kernel
    could do, so there is no gradkern kernel here. ``A`` and ``b`` are stored as
    float64.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix of shape (n, n)
        Symmetric matrix.
    b : array_like of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.objectives import Quadratic
    >>> obj = Quadratic(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 4.0]))
    >>> obj(np.zeros(2))
    (0.0, array([-2., -4.]))
    >>> from scipy.optimize import minimize
    >>> minimize(obj, np.zeros(2), jac=True, hessp=obj.hessp, method="Newton-CG").x
    array([1., 1.])
    """

    def __init__(self, A, b):
        if getattr(A, "ndim", 2) == 2 and hasattr(A, "shape") and A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be square, got shape {A.shape}")
        if _is_sparse(A):
            if A.dtype.kind not in "biuf":
                raise TypeError(f"A must hold real numbers, got dtype {A.dtype}")
            A = A.tocsr().astype(np.float64)
            if not np.all(np.isfinite(A.data)):
                raise ValueError("A must contain only finite values (no NaN or inf)")
            asym = abs(A - A.T).max() if A.nnz else 0.0
            scale = abs(A).max() if A.nnz else 0.0
        else:
            if isinstance(A, np.ndarray) and A.dtype.kind not in "biuf":
                raise TypeError(f"A must be an array of real numbers, got dtype {A.dtype}")
            A = as_float_array(A, "A", dtype=np.float64, ndim=2, allow_nonfinite=False)
            asym = np.abs(A - A.T).max() if A.size else 0.0
            scale = np.abs(A).max() if A.size else 0.0
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be square, got shape {A.shape}")
        if asym > 1e-12 * max(scale, 1e-300):
            raise ValueError(f"A must be symmetric (max |A - A.T| = {asym:.3g})")
        b = as_float_array(b, "b", dtype=np.float64, ndim=1, allow_nonfinite=False)
        if b.shape[0] != A.shape[0]:
            raise ValueError(f"b must have length {A.shape[0]} (rows of A), got {b.shape[0]}")
        self.A, self.b = A, b
        self.n_params = A.shape[0]

    def _value_grad(self, w, out, rows):
        if rows is not None:
            raise ValueError("rows= is only for objectives built on data samples")
        Aw = self.A @ w
        f = float(0.5 * (w @ Aw) - self.b @ w)
        if out is not None:
            np.subtract(Aw, self.b, out=out)
        return f

    def hessp(self, w, p):
        """``A p`` (a new array); ``w`` is checked but not used."""
        self._check_w(w)
        return np.asarray(self.A @ self._check_w(p, "p"), dtype=np.float64)


class Rosenbrock(Objective):
    """Extended (chained) Rosenbrock function of ``n >= 2`` variables.

    ``f(x) = sum_{i=0}^{n-2} 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2`` (the form of
    ``scipy.optimize.rosen``); minimum 0 at ``x = ones(n)``. Value, gradient and
    Hessian-vector product are single loops in a kernel.

    Parameters
    ----------
    n : int
        Number of variables (>= 2).

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.objectives import Rosenbrock
    >>> obj = Rosenbrock(3)
    >>> obj(np.ones(3))
    (0.0, array([0., 0., 0.]))
    >>> float(obj.value(np.zeros(3)))
    2.0
    >>> obj.grad(np.zeros(3))
    array([-2., -2.,  0.])
    """

    def __init__(self, n):
        self.n_params = check_positive_int(n, "n", minimum=2)

    def _value_grad(self, w, out, rows):
        if rows is not None:
            raise ValueError("rows= is only for objectives built on data samples")
        return _k.rosenbrock(w, out)

    def hessp(self, w, p):
        """Hessian at ``w`` times ``p`` (a new array)."""
        w = self._check_w(w)
        p = self._check_w(p, "p")
        out = np.empty(self.n_params)
        _k.rosenbrock_hessp(w, p, out)
        return out
