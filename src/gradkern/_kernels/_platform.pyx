# cython: language_level=3, cdivision=True
"""Facts about how the kernels were compiled: OpenMP, threads, SIMD level."""
import numbers

from gradkern._kernels._openmp cimport GK_OPENMP, gk_get_max_threads, gk_get_num_procs

cdef extern from *:
    """
    #if defined(__AVX512F__)
    #define GK_SIMD_LEVEL "AVX512F"
    #elif defined(__AVX2__) && defined(__FMA__)
    #define GK_SIMD_LEVEL "AVX2+FMA"
    #elif defined(__AVX2__)
    #define GK_SIMD_LEVEL "AVX2"
    #elif defined(__AVX__)
    #define GK_SIMD_LEVEL "AVX"
    #elif defined(__SSE4_2__)
    #define GK_SIMD_LEVEL "SSE4.2"
    #elif defined(__SSE2__) || defined(_M_X64)
    #define GK_SIMD_LEVEL "SSE2"
    #elif defined(__ARM_NEON) || defined(__aarch64__)
    #define GK_SIMD_LEVEL "NEON"
    #else
    #define GK_SIMD_LEVEL "none"
    #endif
    """
    const char *GK_SIMD_LEVEL


def openmp_enabled():
    """True when the kernels were compiled with OpenMP."""
    return bool(GK_OPENMP)


def max_threads():
    """``omp_get_max_threads()`` (honours ``OMP_NUM_THREADS``); 1 without OpenMP."""
    return gk_get_max_threads()


def num_procs():
    """Processors OpenMP sees; 1 without OpenMP."""
    return gk_get_num_procs()


def simd_level():
    """The widest SIMD instruction set the compiler was allowed to target."""
    return GK_SIMD_LEVEL.decode("ascii")


cdef extern from "gk_dispatch.h":
    int GK_CLONES_ON
    int gk_dispatch_avx2()


def runtime_dispatch():
    """Which variant of the load-time dispatched loops (gk_dispatch.h) runs here:
    ``"avx2"``, ``"baseline"`` (built with variants, CPU without AVX2), or ``"off"``
    (built without variants: other compiler/platform, debug build, GK_NO_CLONES)."""
    if not GK_CLONES_ON:
        return "off"
    return "avx2" if gk_dispatch_avx2() else "baseline"


def effective_n_threads(n_threads, name="n_threads"):
    """Validate a user's ``n_threads`` and return the number of threads to use.

    ``n_threads >= 1`` is used as given; ``-1`` means all threads OpenMP offers
    (``max_threads()``), ``-2`` all but one, and so on (never fewer than 1).
    Without OpenMP the answer is always 1.

    Raises
    ------
    TypeError
        ``n_threads`` is not an integer.
    ValueError
        ``n_threads`` is 0.
    """
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(n_threads).__name__}")
    n = int(n_threads)
    if n == 0:
        raise ValueError(f"{name} must be a positive int, or negative to count from the "
                         f"number of available threads; got 0")
    if not GK_OPENMP:
        return 1
    if n < 0:
        n = max(1, gk_get_max_threads() + 1 + n)
    return n
