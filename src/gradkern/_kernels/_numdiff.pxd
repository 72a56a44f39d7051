# Finite-difference kernels (gradkern._kernels._numdiff).
#
#     from gradkern._kernels._numdiff cimport gk_llc_fn, eval_points_c
from gradkern._kernels._typedefs cimport intp_t

# A C objective as taken by scipy.LowLevelCallable: double f(int n, double *x, void *user_data)
ctypedef double (*gk_llc_fn)(int n, double *x, void *user_data) noexcept nogil

# Evaluate f at k perturbed copies of x0 (n,):  point p is x0 with
#   x[ci[p]] = x0[ci[p]] + di[p]   (ci[p] >= 0)   then   x[cj[p]] += dj[p]   (cj != NULL, cj[p] >= 0)
# IN: x0, ci, di, cj, dj; OUT: out (k,). Points are split across n_threads OpenMP threads,
# each working on its own copy of x0 in scratch (n_threads * n doubles, caller-allocated).
# restore_all: copy all of x0 back after each call (f may write into x), else only the
# moved coordinates.
cdef void eval_points_c(gk_llc_fn f, void *user_data, const double *x0, intp_t n,
                        const intp_t *ci, const double *di, const intp_t *cj, const double *dj,
                        intp_t k, double *out, double *scratch, int n_threads,
                        bint restore_all) noexcept nogil

# Evaluate f at the k rows of X (k, n), each copied into a per-thread scratch row first.
cdef void eval_rows_c(gk_llc_fn f, void *user_data, const double *X, intp_t n, intp_t k,
                      double *out, double *scratch, int n_threads) noexcept nogil

# The extended Rosenbrock function as a gk_llc_fn (user_data unused).
cdef double rosen_c(int n, double *x, void *user_data) noexcept nogil

# Curtis-Powell-Reid greedy column grouping (as scipy's group_dense / group_sparse).
# OUT: groups (n,), values 0..n_groups-1; returns n_groups.
cdef intp_t group_dense_c(intp_t m, intp_t n, const int *A, intp_t *groups, char *union_) noexcept nogil
cdef intp_t group_sparse_c(intp_t m, intp_t n, const intp_t *indices, const intp_t *indptr,
                           intp_t *groups, char *union_) noexcept nogil
