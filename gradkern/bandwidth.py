"""The memory-bandwidth floor that benchmarks compare kernels against."""
import numpy as np

from gradkern._kernels import _bandwidth
from gradkern._validation import FLOAT_DTYPES, effective_n_threads

__all__ = ["stream_pass", "stream_bytes"]

MAX_ARRAYS = 8


def stream_pass(arrays, n_write, *, scale=0.0, n_threads=1):
    """One streaming in-place pass over ``arrays``: the memory-traffic floor.

    Reads every array once and writes the first ``n_write`` back, element by
    element: ``a[i] += scale * sum(arrays)[i]`` for the written ones. With the
    default ``scale=0`` the values do not change, but the traffic is real, so
    timing this pass gives the fastest any one-pass kernel with the same bytes
    moved can be (e.g. Adam: 4 arrays read, 3 written).

    Parameters
    ----------
    arrays : list of ndarray
        1 to 8 one-dimensional C-contiguous arrays, all float32 or all float64,
        of one length.
    n_write : int
        How many of the leading arrays are written (0 <= n_write <= len(arrays)).
    scale : float
        Multiplier of the sum added to written arrays.
    n_threads : int
        OpenMP threads (see ``gradkern.effective_n_threads``).

    Returns
    -------
    nbytes : int
        Bytes moved (read plus written).

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.bandwidth import stream_pass
    >>> a, b = np.ones(4), np.arange(4.0)
    >>> stream_pass([a, b], n_write=1, scale=1.0)
    96
    >>> a
    array([2., 3., 4., 5.])
    """
    if not isinstance(arrays, (list, tuple)) or not arrays:
        raise TypeError("arrays must be a non-empty list of numpy arrays")
    if len(arrays) > MAX_ARRAYS:
        raise ValueError(f"arrays may hold at most {MAX_ARRAYS} arrays, got {len(arrays)}")
    arrays = list(arrays)
    n_write = int(n_write)
    if not 0 <= n_write <= len(arrays):
        raise ValueError(f"n_write must be between 0 and len(arrays)={len(arrays)}, got {n_write}")
    first = arrays[0]
    for k, a in enumerate(arrays):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"arrays[{k}] must be a numpy.ndarray, got {type(a).__name__}")
        if a.dtype != first.dtype or a.dtype not in FLOAT_DTYPES:
            raise TypeError(f"arrays[{k}] must have dtype float32 or float64 like arrays[0], "
                            f"got {a.dtype}")
        if a.ndim != 1 or a.shape != first.shape:
            raise ValueError(f"arrays[{k}] must be 1-dimensional with the shape of arrays[0] "
                             f"{first.shape}, got {a.shape}")
        if not a.flags.c_contiguous:
            raise ValueError(f"arrays[{k}] must be C-contiguous")
        if k < n_write and not a.flags.writeable:
            raise ValueError(f"arrays[{k}] is read-only but is among the n_write written arrays")
    nt = effective_n_threads(n_threads)
    if first.size:
        _bandwidth.stream_pass(arrays, n_write, float(scale), nt)
    return stream_bytes(first.size, first.dtype, len(arrays), n_write)


def stream_bytes(n, dtype, n_read, n_write):
    """Bytes moved by a pass that reads ``n_read`` and writes ``n_write`` arrays of n.

    Examples
    --------
    >>> stream_bytes(1000, "float32", 4, 3)   # Adam on 1,000 float32 parameters
    28000
    """
    return int(n) * np.dtype(dtype).itemsize * (int(n_read) + int(n_write))
