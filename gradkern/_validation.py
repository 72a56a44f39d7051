"""Argument checks shared by every public function (kernels trust their inputs).

Errors name the argument and say what was expected: ``TypeError`` for a wrong
type or dtype kind, ``ValueError`` for a wrong value or shape.
"""
import numbers

import numpy as np

from gradkern._kernels._platform import effective_n_threads  # noqa: F401  (re-exported)

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def float_dtype_of(arr, name):
    """The kernel dtype for ``arr``: float32/float64 kept, other real numbers -> float64.

    Raises ``TypeError`` for complex, bool-free object/str data.
    """
    dt = np.asarray(arr).dtype if not hasattr(arr, "dtype") else np.dtype(arr.dtype)
    if dt in FLOAT_DTYPES:
        return dt
    if dt.kind in "biuf":
        return np.dtype(np.float64)
    raise TypeError(f"{name} must be an array of real numbers, got dtype {dt}")


def as_float_array(x, name, *, dtype=None, ndim=None, contiguous=True, copy=False,
                   allow_nonfinite=True):
    """Convert ``x`` to a float32/float64 ndarray for a kernel.

    Parameters
    ----------
    x : array_like
    name : str
        Argument name used in error messages.
    dtype : dtype, optional
        Force this dtype (float32 or float64); default: keep float32/float64,
        convert other real dtypes to float64.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    contiguous : bool
        Return a C-contiguous array (copying if needed).
    copy : bool
        Always return a new array.
    allow_nonfinite : bool
        If False, raise ``ValueError`` when ``x`` holds NaN or inf.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # e.g. ragged nested lists
        raise TypeError(f"{name} must be array_like of real numbers: {exc}") from None
    target = np.dtype(dtype) if dtype is not None else float_dtype_of(arr, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, numbers.Integral) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must be {want}-dimensional, got shape {arr.shape}")
    order = "C" if contiguous else "K"
    arr = np.array(arr, dtype=target, order=order, copy=True) if copy else \
        np.asarray(arr, dtype=target, order=order)
    if not allow_nonfinite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def check_writable_float(arr, name, *, dtype=None, shape=None):
    """Check that ``arr`` can be written in place by a kernel: an ndarray of
    float32/float64, C-contiguous, writeable, optionally of a given dtype/shape."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(arr).__name__}")
    if arr.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {arr.dtype}")
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)}, got {arr.dtype}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not arr.flags.writeable:
        raise ValueError(f"{name} is read-only; a writeable array is needed")
    return arr


def check_positive_int(value, name, *, minimum=1):
    """Return ``int(value)``; ``TypeError`` if not an integer, ``ValueError`` if < minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)
