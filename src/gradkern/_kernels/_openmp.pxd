# The one OpenMP shim of gradkern: include this instead of omp.h so that every
# kernel also builds without OpenMP (then everything runs on one thread).
#
#     from gradkern._kernels._openmp cimport gk_get_thread_num, GK_OPENMP
cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define GK_OPENMP 1
    static inline int gk_get_thread_num(void) { return omp_get_thread_num(); }
    static inline int gk_get_max_threads(void) { return omp_get_max_threads(); }
    static inline int gk_get_num_procs(void) { return omp_get_num_procs(); }
    #else
    #define GK_OPENMP 0
    static inline int gk_get_thread_num(void) { return 0; }
    static inline int gk_get_max_threads(void) { return 1; }
    static inline int gk_get_num_procs(void) { return 1; }
    #endif
    """
    bint GK_OPENMP
    int gk_get_thread_num() noexcept nogil
    int gk_get_max_threads() noexcept nogil
    int gk_get_num_procs() noexcept nogil


cdef inline int gk_threads_for(int n_threads, Py_ssize_t n_items, Py_ssize_t min_items_per_thread) noexcept nogil:
    """Threads to use for ``n_items`` of work: ``n_threads`` (already validated by
    ``effective_n_threads``), reduced so each thread gets at least
    ``min_items_per_thread`` items; 1 without OpenMP."""
    cdef Py_ssize_t useful
    if not GK_OPENMP or n_threads <= 1:
        return 1
    useful = n_items // min_items_per_thread if min_items_per_thread > 0 else n_items
    if useful < 1:
        return 1
    if useful < n_threads:
        return <int>useful
    return n_threads
