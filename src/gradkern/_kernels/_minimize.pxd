from gradkern._kernels._typedefs cimport float64_t, intp_t

# Small per-iteration reductions and projections of the optimizer driver
# (gradkern.minimize). All arrays have n float64 elements; lb/ub hold -inf/+inf
# where a coordinate is unbounded. NaN propagates through every reduction.

# max_i |g_i| (NaN if any g_i is NaN).
cdef float64_t gk_inf_norm(const float64_t *g, intp_t n) noexcept nogil
# max_i |clip(x_i - g_i, lb_i, ub_i) - x_i|: the projected-gradient norm of L-BFGS-B.
cdef float64_t gk_proj_grad_inf_norm(const float64_t *x, const float64_t *g,
                                     const float64_t *lb, const float64_t *ub,
                                     intp_t n) noexcept nogil
# x_i <- clip(x_i, lb_i, ub_i) in place (NaN stays NaN).
cdef void gk_project_box(float64_t *x, const float64_t *lb, const float64_t *ub,
                         intp_t n) noexcept nogil
# max_i |a_i - b_i|.
cdef float64_t gk_max_abs_diff(const float64_t *a, const float64_t *b, intp_t n) noexcept nogil
# x_out <- x - t * g, then projected onto [lb, ub] when bounded; returns g . (x_out - x).
cdef float64_t gk_gd_trial(float64_t *x_out, const float64_t *x, const float64_t *g,
                           float64_t t, const float64_t *lb, const float64_t *ub,
                           bint bounded, intp_t n) noexcept nogil
# Barzilai-Borwein step s.s / s.y with s = x_new - x, y = g_new - g; -1.0 when s.y <= 0.
cdef float64_t gk_bb_step(const float64_t *x_new, const float64_t *x,
                          const float64_t *g_new, const float64_t *g, intp_t n) noexcept nogil
