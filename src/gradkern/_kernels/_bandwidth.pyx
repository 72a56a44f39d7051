# cython: language_level=3, cdivision=True
"""Memory-bandwidth floor: a single streaming in-place pass over given arrays.

Benchmarks compare a kernel against this pass with the same byte traffic
(e.g. Adam reads p, g, m, v and writes p, m, v: 4 arrays, 3 written).
"""
cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport prange

from gradkern._kernels._openmp cimport gk_threads_for
from gradkern._kernels._typedefs cimport intp_t

cnp.import_array()

cdef extern from "gk_stream.h":
    void gk_stream_range_f64(double **p, int na, int nw, Py_ssize_t start, Py_ssize_t stop,
                             double scale) noexcept nogil
    void gk_stream_range_f32(float **p, int na, int nw, Py_ssize_t start, Py_ssize_t stop,
                             float scale) noexcept nogil

cdef enum:
    MAX_ARRAYS = 8
    MIN_PER_THREAD = 1 << 15      # below this many elements a second thread does not pay


cdef inline void _range(floating **ptrs, int n_arrays, int n_write, intp_t start, intp_t stop,
                        floating scale) noexcept nogil:
    if floating is double:
        gk_stream_range_f64(ptrs, n_arrays, n_write, start, stop, scale)
    else:
        gk_stream_range_f32(ptrs, n_arrays, n_write, start, stop, scale)


cdef inline void _pass(floating **ptrs, int n_arrays, int n_write, intp_t n, floating scale,
                       int n_threads) noexcept nogil:
    cdef int t, nt = gk_threads_for(n_threads, n, MIN_PER_THREAD)
    cdef intp_t chunk
    if nt <= 1:
        _range(ptrs, n_arrays, n_write, 0, n, scale)
        return
    chunk = (n + nt - 1) // nt
    for t in prange(nt, schedule='static', num_threads=nt):
        _range(ptrs, n_arrays, n_write, t * chunk, min(n, (t + 1) * chunk), scale)


cdef void stream_pass_f64(double **ptrs, int n_arrays, int n_write, intp_t n,
                          double scale, int n_threads) noexcept nogil:
    _pass(ptrs, n_arrays, n_write, n, scale, n_threads)


cdef void stream_pass_f32(float **ptrs, int n_arrays, int n_write, intp_t n,
                          float scale, int n_threads) noexcept nogil:
    _pass(ptrs, n_arrays, n_write, n, scale, n_threads)


def stream_pass(list arrays, int n_write, double scale, int n_threads):
    """Kernel entry (trusts its input): ``arrays`` are 1-D C-contiguous arrays of one
    dtype (float32 or float64) and one length, at most 8; the first ``n_write``
    are writable. Validation lives in ``gradkern.bandwidth.stream_pass``."""
    cdef double *p64[MAX_ARRAYS]
    cdef float *p32[MAX_ARRAYS]
    cdef int k, n_arrays = len(arrays)
    cdef cnp.ndarray a = arrays[0]
    cdef intp_t n = a.shape[0]
    cdef bint is64 = a.dtype.itemsize == 8
    for k in range(n_arrays):
        a = arrays[k]
        if is64:
            p64[k] = <double *>cnp.PyArray_DATA(a)
        else:
            p32[k] = <float *>cnp.PyArray_DATA(a)
    with nogil:
        if is64:
            stream_pass_f64(p64, n_arrays, n_write, n, scale, n_threads)
        else:
            stream_pass_f32(p32, n_arrays, n_write, n, <float>scale, n_threads)
