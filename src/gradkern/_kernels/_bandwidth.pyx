# cython: language_level=3, cdivision=True
"""Memory-bandwidth floor: a single streaming in-place pass over given arrays.

Benchmarks compare a kernel against this pass with the same byte traffic
(e.g. Adam reads p, g, m, v and writes p, m, v: 4 arrays, 3 written).
"""
cimport numpy as cnp
from cython.parallel cimport prange

from gradkern._kernels._openmp cimport gk_threads_for
from gradkern._kernels._typedefs cimport intp_t

cnp.import_array()

cdef enum:
    BLOCK = 512        # elements per block: the accumulator stays in L1
    MAX_ARRAYS = 8


cdef inline void _block_f64(double **ptrs, int n_arrays, int n_write, intp_t start,
                            intp_t stop, double scale) noexcept nogil:
    cdef double acc[BLOCK]
    cdef intp_t i, m = stop - start
    cdef int k
    cdef double *p
    for i in range(m):
        acc[i] = 0.0
    for k in range(n_arrays):
        p = ptrs[k] + start
        for i in range(m):
            acc[i] += p[i]
    for k in range(n_write):
        p = ptrs[k] + start
        for i in range(m):
            p[i] = p[i] + scale * acc[i]


cdef inline void _block_f32(float **ptrs, int n_arrays, int n_write, intp_t start,
                            intp_t stop, float scale) noexcept nogil:
    cdef float acc[BLOCK]
    cdef intp_t i, m = stop - start
    cdef int k
    cdef float *p
    for i in range(m):
        acc[i] = 0.0
    for k in range(n_arrays):
        p = ptrs[k] + start
        for i in range(m):
            acc[i] += p[i]
    for k in range(n_write):
        p = ptrs[k] + start
        for i in range(m):
            p[i] = p[i] + scale * acc[i]


cdef void stream_pass_f64(double **ptrs, int n_arrays, int n_write, intp_t n,
                          double scale, int n_threads) noexcept nogil:
    cdef intp_t b, n_blocks = (n + BLOCK - 1) // BLOCK
    cdef int nt = gk_threads_for(n_threads, n, 1 << 15)
    if nt <= 1:
        for b in range(n_blocks):
            _block_f64(ptrs, n_arrays, n_write, b * BLOCK, min(n, (b + 1) * BLOCK), scale)
    else:
        for b in prange(n_blocks, schedule='static', num_threads=nt):
            _block_f64(ptrs, n_arrays, n_write, b * BLOCK, min(n, (b + 1) * BLOCK), scale)


cdef void stream_pass_f32(float **ptrs, int n_arrays, int n_write, intp_t n,
                          float scale, int n_threads) noexcept nogil:
    cdef intp_t b, n_blocks = (n + BLOCK - 1) // BLOCK
    cdef int nt = gk_threads_for(n_threads, n, 1 << 15)
    if nt <= 1:
        for b in range(n_blocks):
            _block_f32(ptrs, n_arrays, n_write, b * BLOCK, min(n, (b + 1) * BLOCK), scale)
    else:
        for b in prange(n_blocks, schedule='static', num_threads=nt):
            _block_f32(ptrs, n_arrays, n_write, b * BLOCK, min(n, (b + 1) * BLOCK), scale)


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
