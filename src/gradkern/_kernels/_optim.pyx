# cython: language_level=3, cdivision=True
"""Fused optimizer updates: one in-place pass over params, grad and state.

Three layers (see STYLE.md):

1. per-element update rules: the loop bodies in ``gk_optim.h`` (C, compiled
   for AVX2 and baseline x86-64 with GCC's ``target_clones``, chosen at load
   time; IEEE operations only, so both give identical results), one
   ``_*_block`` per rule here documenting the formula;
2. array loops over raw pointers (``*_loop``), float32 or float64 (fused type),
   optionally split over OpenMP threads above a size threshold;
3. entry points (``*_step``) taking a :class:`ParamGroup` (which caches the raw
   pointers of params and state buffers) and the grads, checked cheaply here in
   one pass; on any mismatch they return the index of the offending array and
   write NOTHING, so the Python layer (``gradkern.optim``) can raise a precise
   error. Hyperparameters are trusted (validated in Python).

Elementwise arithmetic follows torch.optim's single-tensor code paths
operation by operation, in the parameter's precision, with scalar factors
(bias corrections, step sizes) computed in double and rounded once.
"""
cimport numpy as cnp
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from cpython.ref cimport PyObject
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport sqrt, fabs, pow, INFINITY
from libc.stdlib cimport malloc, free
from libc.string cimport memset

from gradkern._kernels._openmp cimport gk_threads_for
from gradkern._kernels._typedefs cimport intp_t

cnp.import_array()

cdef enum:
    # elements per thread below which a loop stays serial
    MIN_PER_THREAD = 1 << 16
    # total elements below which the GIL is kept (releasing it costs ~0.1 us)
    NOGIL_MIN = 1 << 14


# ---------------------------------------------------------------------------
# 1. Per-element math: each rule's element loop body is written in C in
#    gk_optim.h (so the loop can be compiled for AVX2 and baseline x86-64 and
#    chosen at load time); each ``_*_block`` below documents its rule.
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# 2. Array loops (trust their input). Scalars arrive as double and are rounded
#    to the array precision once, as torch does with Python-float scalars.
#    Each rule has a serial ``_*_block`` over [lo, hi); flags that only choose
#    between values are selects (the loop still vectorizes), flags that add a
#    store are passed as constants so each variant compiles to its own loop.
#    With nt > 1 threads the range is split into nt static chunks.
# ---------------------------------------------------------------------------

cdef inline int _nt(int n_threads, intp_t n) noexcept nogil:
    return gk_threads_for(n_threads, n, MIN_PER_THREAD)


cdef inline intp_t _lo(intp_t n, int nt, int t) noexcept nogil:
    cdef intp_t ch = (n + nt - 1) // nt
    return min(n, t * ch)


cdef inline intp_t _hi(intp_t n, int nt, int t) noexcept nogil:
    cdef intp_t ch = (n + nt - 1) // nt
    return min(n, (t + 1) * ch)


cdef extern from "gk_optim.h" nogil:
    # the element loops (the rules below, written in C for load-time ISA dispatch)
    int GK_CLONES_ON
    void gk_adam_range_f64(double *p, const double *g, double *m, double *v, double *vmax,
                           intp_t lo, intp_t hi, double sgn, int cw, int dw, double wd,
                           double decay, double w1, int small, double b2, double c2,
                           int amsgrad, double bc2s, double eps, double neg_step)
    void gk_adam_range_f32(float *p, const float *g, float *m, float *v, float *vmax,
                           intp_t lo, intp_t hi, float sgn, int cw, int dw, float wd,
                           float decay, float w1, int small, float b2, float c2,
                           int amsgrad, float bc2s, float eps, float neg_step)

    void gk_sgd_range_f64(double *p, const double *g, double *buf, intp_t lo, intp_t hi,
                          double sgn, int has_wd, double wd, int has_mom, int first,
                          double mom, double omd, int nesterov, double neg_lr)
    void gk_sgd_range_f32(float *p, const float *g, float *buf, intp_t lo, intp_t hi,
                          float sgn, int has_wd, float wd, int has_mom, int first,
                          float mom, float omd, int nesterov, float neg_lr)
    void gk_rmsprop_range_f64(double *p, const double *g, double *sq, double *buf,
                              double *gavg, intp_t lo, intp_t hi, double sgn, int has_wd,
                              double wd, double alpha, double oma, int small, int centered,
                              double eps, int has_mom, double mom, double neg_lr)
    void gk_rmsprop_range_f32(float *p, const float *g, float *sq, float *buf,
                              float *gavg, intp_t lo, intp_t hi, float sgn, int has_wd,
                              float wd, float alpha, float oma, int small, int centered,
                              float eps, int has_mom, float mom, float neg_lr)
    void gk_adagrad_range_f64(double *p, const double *g, double *ssum, intp_t lo,
                              intp_t hi, double sgn, int has_wd, double wd, double eps,
                              double neg_clr)
    void gk_adagrad_range_f32(float *p, const float *g, float *ssum, intp_t lo,
                              intp_t hi, float sgn, int has_wd, float wd, float eps,
                              float neg_clr)
    void gk_adamax_range_f64(double *p, const double *g, double *m, double *u, intp_t lo,
                             intp_t hi, double sgn, int has_wd, double wd, double w1,
                             int small, double b2, double eps, double neg_clr)
    void gk_adamax_range_f32(float *p, const float *g, float *m, float *u, intp_t lo,
                             intp_t hi, float sgn, int has_wd, float wd, float w1,
                             int small, float b2, float eps, float neg_clr)
    void gk_nadam_range_f64(double *p, const double *g, double *m, double *v, intp_t lo,
                            intp_t hi, double sgn, int cw, int dw, double wd, double decay,
                            double w1, int small, double b2, double c2, double bc2,
                            double eps, double cg, double cm)
    void gk_nadam_range_f32(float *p, const float *g, float *m, float *v, intp_t lo,
                            intp_t hi, float sgn, int cw, int dw, float wd, float decay,
                            float w1, int small, float b2, float c2, float bc2,
                            float eps, float cg, float cm)
    void gk_radam_range_f64(double *p, const double *g, double *m, double *v, intp_t lo,
                            intp_t hi, double sgn, int cw, int dw, double wd, double decay,
                            double w1, int small, double b2, double c2, double bc1,
                            double flr, int rectify, double bc2s, double eps, double rect)
    void gk_radam_range_f32(float *p, const float *g, float *m, float *v, intp_t lo,
                            intp_t hi, float sgn, int cw, int dw, float wd, float decay,
                            float w1, int small, float b2, float c2, float bc1,
                            float flr, int rectify, float bc2s, float eps, float rect)
    void gk_lion_range_f64(double *p, const double *g, double *m, intp_t lo, intp_t hi,
                           double sgn, double b1, double omb1, double b2, double omb2,
                           double wd, double flr)
    void gk_lion_range_f32(float *p, const float *g, float *m, intp_t lo, intp_t hi,
                           float sgn, float b1, float omb1, float b2, float omb2,
                           float wd, float flr)


# --- SGD -------------------------------------------------------------------

cdef inline void _sgd_block(floating *p, const floating *g, floating *buf, intp_t lo,
                            intp_t hi, floating sgn, bint has_wd, floating wd,
                            bint has_mom, bint first, floating mom, floating omd,
                            bint nesterov, floating neg_lr) noexcept nogil:
    """Per element (torch's single-tensor SGD)::

        g = -g if maximize;  g = g + wd * p
        with momentum: buf = g (first step) or buf * momentum + (1 - dampening) * g;
                       g = g + momentum * buf (nesterov) or buf
        p = p + (-lr) * g
    """
    if floating is double:
        gk_sgd_range_f64(p, g, buf, lo, hi, sgn, has_wd, wd, has_mom, first, mom, omd,
                         nesterov, neg_lr)
    else:
        gk_sgd_range_f32(p, g, buf, lo, hi, sgn, has_wd, wd, has_mom, first, mom, omd,
                         nesterov, neg_lr)


cdef void sgd_loop(floating *p, const floating *g, floating *buf, intp_t n,
                   double lr, double momentum, double dampening, double weight_decay,
                   bint nesterov, bint maximize, bint first, int n_threads) noexcept nogil:
    """SGD; ``first``: the momentum buffer is initialised to the grad (torch's
    first step with momentum)."""
    cdef int t, nt = _nt(n_threads, n)
    cdef floating wd = <floating>weight_decay, mom = <floating>momentum
    cdef floating omd = <floating>(1.0 - dampening), neg_lr = <floating>(-lr)
    cdef floating sgn = -1 if maximize else 1
    cdef bint has_wd = weight_decay != 0
    if momentum != 0:
        if nt <= 1:
            _sgd_block(p, g, buf, 0, n, sgn, has_wd, wd, True, first, mom, omd, nesterov,
                       neg_lr)
        else:
            for t in prange(nt, schedule='static', num_threads=nt):
                _sgd_block(p, g, buf, _lo(n, nt, t), _hi(n, nt, t), sgn, has_wd, wd, True,
                           first, mom, omd, nesterov, neg_lr)
    else:
        if nt <= 1:
            _sgd_block(p, g, buf, 0, n, sgn, has_wd, wd, False, first, mom, omd, nesterov,
                       neg_lr)
        else:
            for t in prange(nt, schedule='static', num_threads=nt):
                _sgd_block(p, g, buf, _lo(n, nt, t), _hi(n, nt, t), sgn, has_wd, wd, False,
                           first, mom, omd, nesterov, neg_lr)


# --- Adam / AdamW ------------------------------------------------------------

cdef inline void _adam_block(floating *p, const floating *g, floating *m, floating *v,
                             floating *vmax, intp_t lo, intp_t hi, floating sgn,
                             bint coupled_wd, bint decoupled_wd, floating wd,
                             floating decay, floating w1, bint small, floating b2,
                             floating c2, bint amsgrad, floating bc2s, floating eps,
                             floating neg_step) noexcept nogil:
    """Per element (torch's single-tensor Adam, in this order)::

        g = -g if maximize;  p = p * decay (AdamW);  g = g + wd * p (Adam)
        m = lerp(m, g, 1 - beta1);  v = v * beta2 + (1 - beta2) * g * g
        vmax = maximum(vmax, v) and use it as v (amsgrad)
        p = p + (-lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)

    The loop itself is in gk_optim.h (compiled for AVX2 and baseline x86-64)."""
    if floating is double:
        gk_adam_range_f64(p, g, m, v, vmax, lo, hi, sgn, coupled_wd, decoupled_wd, wd, decay,
                          w1, small, b2, c2, amsgrad, bc2s, eps, neg_step)
    else:
        gk_adam_range_f32(p, g, m, v, vmax, lo, hi, sgn, coupled_wd, decoupled_wd, wd, decay,
                          w1, small, b2, c2, amsgrad, bc2s, eps, neg_step)


def isa_dispatch():
    """True when the C loops in gk_optim.h were built with load-time ISA dispatch."""
    return bool(GK_CLONES_ON)


cdef void adam_loop(floating *p, const floating *g, floating *m, floating *v,
                    floating *vmax, intp_t n, double lr, double beta1, double beta2,
                    double eps, double weight_decay, bint decoupled, bint amsgrad,
                    bint maximize, double step, int n_threads) noexcept nogil:
    """Adam / AdamW (``decoupled``) at step number ``step`` (>= 1); ``vmax`` is
    only touched with ``amsgrad``."""
    cdef int t, nt = _nt(n_threads, n)
    cdef double bc1 = 1.0 - pow(beta1, step), bc2 = 1.0 - pow(beta2, step)
    cdef floating neg_step = <floating>(-(lr / bc1)), bc2s = <floating>(bc2 ** 0.5)
    cdef floating w1 = <floating>(1.0 - beta1), b2 = <floating>beta2
    cdef floating c2 = <floating>(1.0 - beta2), fe = <floating>eps
    cdef floating wd = <floating>weight_decay, decay = <floating>(1.0 - lr * weight_decay)
    cdef floating sgn = -1 if maximize else 1
    cdef bint small = fabs(w1) < 0.5
    cdef bint has_wd = weight_decay != 0
    cdef bint cw = has_wd and not decoupled, dw = has_wd and decoupled
    if amsgrad:
        if nt <= 1:
            _adam_block(p, g, m, v, vmax, 0, n, sgn, cw, dw, wd, decay, w1, small, b2, c2,
                        True, bc2s, fe, neg_step)
        else:
            for t in prange(nt, schedule='static', num_threads=nt):
                _adam_block(p, g, m, v, vmax, _lo(n, nt, t), _hi(n, nt, t), sgn, cw, dw, wd,
                            decay, w1, small, b2, c2, True, bc2s, fe, neg_step)
    else:
        if nt <= 1:
            _adam_block(p, g, m, v, vmax, 0, n, sgn, cw, dw, wd, decay, w1, small, b2, c2,
                        False, bc2s, fe, neg_step)
        else:
            for t in prange(nt, schedule='static', num_threads=nt):
                _adam_block(p, g, m, v, vmax, _lo(n, nt, t), _hi(n, nt, t), sgn, cw, dw, wd,
                            decay, w1, small, b2, c2, False, bc2s, fe, neg_step)


# --- RMSprop -------------------------------------------------------------------

cdef inline void _rmsprop_block(floating *p, const floating *g, floating *sq,
                                floating *buf, floating *gavg, intp_t lo, intp_t hi,
                                floating sgn, bint has_wd, floating wd, floating alpha,
                                floating oma, bint small, bint centered, floating eps,
                                bint has_mom, floating mom, floating neg_lr) noexcept nogil:
    """Per element (torch's single-tensor RMSprop)::

        g = -g if maximize;  g = g + wd * p
        sq = sq * alpha + (1 - alpha) * g * g
        centered: gavg = lerp(gavg, g, 1 - alpha); a = sqrt(sq + (-1) * gavg * gavg)
        else a = sqrt(sq);  a = a + eps
        momentum: buf = buf * momentum + g / a; p = p + (-lr) * buf
        else p = p + (-lr) * g / a
    """
    if floating is double:
        gk_rmsprop_range_f64(p, g, sq, buf, gavg, lo, hi, sgn, has_wd, wd, alpha, oma,
                             small, centered, eps, has_mom, mom, neg_lr)
    else:
        gk_rmsprop_range_f32(p, g, sq, buf, gavg, lo, hi, sgn, has_wd, wd, alpha, oma,
                             small, centered, eps, has_mom, mom, neg_lr)


cdef inline void _rmsprop_run(floating *p, const floating *g, floating *sq, floating *buf,
                              floating *gavg, intp_t n, int nt, floating sgn, bint has_wd,
                              floating wd, floating alpha, floating oma, bint small,
                              bint centered, floating eps, bint has_mom, floating mom,
                              floating neg_lr) noexcept nogil:
    cdef int t
    if nt <= 1:
        _rmsprop_block(p, g, sq, buf, gavg, 0, n, sgn, has_wd, wd, alpha, oma, small,
                       centered, eps, has_mom, mom, neg_lr)
    else:
        for t in prange(nt, schedule='static', num_threads=nt):
            _rmsprop_block(p, g, sq, buf, gavg, _lo(n, nt, t), _hi(n, nt, t), sgn, has_wd,
                           wd, alpha, oma, small, centered, eps, has_mom, mom, neg_lr)


cdef void rmsprop_loop(floating *p, const floating *g, floating *sq, floating *buf,
                       floating *gavg, intp_t n, double lr, double alpha, double eps,
                       double weight_decay, double momentum, bint centered,
                       bint maximize, int n_threads) noexcept nogil:
    """RMSprop; ``buf`` is only touched with momentum > 0, ``gavg`` only when
    ``centered``."""
    cdef int nt = _nt(n_threads, n)
    cdef floating fa = <floating>alpha, oma = <floating>(1.0 - alpha), fe = <floating>eps
    cdef floating wd = <floating>weight_decay, mom = <floating>momentum
    cdef floating neg_lr = <floating>(-lr)
    cdef floating sgn = -1 if maximize else 1
    cdef bint small = fabs(oma) < 0.5
    cdef bint has_wd = weight_decay != 0
    if centered:
        if momentum > 0:
            _rmsprop_run(p, g, sq, buf, gavg, n, nt, sgn, has_wd, wd, fa, oma, small, True,
                         fe, True, mom, neg_lr)
        else:
            _rmsprop_run(p, g, sq, buf, gavg, n, nt, sgn, has_wd, wd, fa, oma, small, True,
                         fe, False, mom, neg_lr)
    else:
        if momentum > 0:
            _rmsprop_run(p, g, sq, buf, gavg, n, nt, sgn, has_wd, wd, fa, oma, small, False,
                         fe, True, mom, neg_lr)
        else:
            _rmsprop_run(p, g, sq, buf, gavg, n, nt, sgn, has_wd, wd, fa, oma, small, False,
                         fe, False, mom, neg_lr)


# --- Adagrad -------------------------------------------------------------------

cdef inline void _adagrad_block(floating *p, const floating *g, floating *ssum, intp_t lo,
                                intp_t hi, floating sgn, bint has_wd, floating wd,
                                floating eps, floating neg_clr) noexcept nogil:
    """Per element (torch's single-tensor Adagrad)::

        g = -g if maximize;  g = g + wd * p;  sum = sum + g * g
        p = p + (-lr / (1 + (step - 1) * lr_decay)) * g / (sqrt(sum) + eps)
    """
    if floating is double:
        gk_adagrad_range_f64(p, g, ssum, lo, hi, sgn, has_wd, wd, eps, neg_clr)
    else:
        gk_adagrad_range_f32(p, g, ssum, lo, hi, sgn, has_wd, wd, eps, neg_clr)


cdef void adagrad_loop(floating *p, const floating *g, floating *ssum, intp_t n,
                       double lr, double lr_decay, double weight_decay, double eps,
                       bint maximize, double step, int n_threads) noexcept nogil:
    cdef int t, nt = _nt(n_threads, n)
    cdef floating neg_clr = <floating>(-(lr / (1 + (step - 1) * lr_decay)))
    cdef floating wd = <floating>weight_decay, fe = <floating>eps
    cdef floating sgn = -1 if maximize else 1
    cdef bint has_wd = weight_decay != 0
    if nt <= 1:
        _adagrad_block(p, g, ssum, 0, n, sgn, has_wd, wd, fe, neg_clr)
    else:
        for t in prange(nt, schedule='static', num_threads=nt):
            _adagrad_block(p, g, ssum, _lo(n, nt, t), _hi(n, nt, t), sgn, has_wd, wd, fe,
                           neg_clr)


# --- Adamax --------------------------------------------------------------------

cdef inline void _adamax_block(floating *p, const floating *g, floating *m, floating *u,
                               intp_t lo, intp_t hi, floating sgn, bint has_wd,
                               floating wd, floating w1, bint small, floating b2,
                               floating eps, floating neg_clr) noexcept nogil:
    """Per element (torch's single-tensor Adamax)::

        g = -g if maximize;  g = g + wd * p;  m = lerp(m, g, 1 - beta1)
        u = maximum(u * beta2, |g| + eps)   (NaN propagates)
        p = p + (-lr / (1 - beta1**step)) * m / u
    """
    if floating is double:
        gk_adamax_range_f64(p, g, m, u, lo, hi, sgn, has_wd, wd, w1, small, b2, eps, neg_clr)
    else:
        gk_adamax_range_f32(p, g, m, u, lo, hi, sgn, has_wd, wd, w1, small, b2, eps, neg_clr)


cdef void adamax_loop(floating *p, const floating *g, floating *m, floating *u, intp_t n,
                      double lr, double beta1, double beta2, double eps,
                      double weight_decay, bint maximize, double step,
                      int n_threads) noexcept nogil:
    cdef int t, nt = _nt(n_threads, n)
    cdef floating neg_clr = <floating>(-(lr / (1.0 - pow(beta1, step))))
    cdef floating w1 = <floating>(1.0 - beta1), b2 = <floating>beta2, fe = <floating>eps
    cdef floating wd = <floating>weight_decay
    cdef floating sgn = -1 if maximize else 1
    cdef bint small = fabs(w1) < 0.5
    cdef bint has_wd = weight_decay != 0
    if nt <= 1:
        _adamax_block(p, g, m, u, 0, n, sgn, has_wd, wd, w1, small, b2, fe, neg_clr)
    else:
        for t in prange(nt, schedule='static', num_threads=nt):
            _adamax_block(p, g, m, u, _lo(n, nt, t), _hi(n, nt, t), sgn, has_wd, wd, w1,
                          small, b2, fe, neg_clr)


# --- NAdam ---------------------------------------------------------------------

cdef inline void _nadam_block(floating *p, const floating *g, floating *m, floating *v,
                              intp_t lo, intp_t hi, floating sgn, bint coupled_wd,
                              bint decoupled_wd, floating wd, floating decay, floating w1,
                              bint small, floating b2, floating c2, floating bc2,
                              floating eps, floating cg, floating cm) noexcept nogil:
    """Per element (torch's single-tensor NAdam)::

        g = -g if maximize;  p = p * (1 - lr * wd) (decoupled) or g = g + wd * p
        m = lerp(m, g, 1 - beta1);  v = v * beta2 + (1 - beta2) * g * g
        denom = sqrt(v / bc2) + eps
        p = p + coef_grad * g / denom;  p = p + coef_avg * m / denom
    """
    if floating is double:
        gk_nadam_range_f64(p, g, m, v, lo, hi, sgn, coupled_wd, decoupled_wd, wd, decay, w1,
                           small, b2, c2, bc2, eps, cg, cm)
    else:
        gk_nadam_range_f32(p, g, m, v, lo, hi, sgn, coupled_wd, decoupled_wd, wd, decay, w1,
                           small, b2, c2, bc2, eps, cg, cm)


cdef void nadam_loop(floating *p, const floating *g, floating *m, floating *v, intp_t n,
                     double lr, double beta1, double beta2, double eps,
                     double weight_decay, bint decoupled, bint maximize, double step,
                     double coef_grad, double coef_avg, int n_threads) noexcept nogil:
    """NAdam. With ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))``
    and ``P_t = mu_1 * ... * mu_t`` (kept by the caller, in double):
    ``coef_grad = -lr * (1 - mu_t) / (1 - P_t)`` and
    ``coef_avg = (-lr * mu_{t+1}) / (1 - P_t * mu_{t+1})`` (see ParamGroup.step)."""
    cdef int t, nt = _nt(n_threads, n)
    cdef floating bc2 = <floating>(1.0 - pow(beta2, step))
    cdef floating w1 = <floating>(1.0 - beta1), b2 = <floating>beta2
    cdef floating c2 = <floating>(1.0 - beta2), fe = <floating>eps
    cdef floating wd = <floating>weight_decay, decay = <floating>(1.0 - lr * weight_decay)
    cdef floating cg = <floating>coef_grad, cm = <floating>coef_avg
    cdef floating sgn = -1 if maximize else 1
    cdef bint small = fabs(w1) < 0.5
    cdef bint has_wd = weight_decay != 0
    cdef bint cw = has_wd and not decoupled, dw = has_wd and decoupled
    if nt <= 1:
        _nadam_block(p, g, m, v, 0, n, sgn, cw, dw, wd, decay, w1, small, b2, c2, bc2, fe,
                     cg, cm)
    else:
        for t in prange(nt, schedule='static', num_threads=nt):
            _nadam_block(p, g, m, v, _lo(n, nt, t), _hi(n, nt, t), sgn, cw, dw, wd, decay,
                         w1, small, b2, c2, bc2, fe, cg, cm)


# --- RAdam ---------------------------------------------------------------------

cdef inline void _radam_block(floating *p, const floating *g, floating *m, floating *v,
                              intp_t lo, intp_t hi, floating sgn, bint coupled_wd,
                              bint decoupled_wd, floating wd, floating decay, floating w1,
                              bint small, floating b2, floating c2, floating bc1,
                              floating flr, bint rectify, floating bc2s, floating eps,
                              floating rect) noexcept nogil:
    """Per element (torch's single-tensor RAdam)::

        g = -g if maximize;  p = p * (1 - lr * wd) (decoupled) or g = g + wd * p
        m = lerp(m, g, 1 - beta1);  v = v * beta2 + (1 - beta2) * g * g
        upd = m / bc1 * lr
        rectified (rho_t > 5): upd = upd * ((1 / (sqrt(v) + eps)) * sqrt(bc2)) * rect
        p = p - upd
    """
    if floating is double:
        gk_radam_range_f64(p, g, m, v, lo, hi, sgn, coupled_wd, decoupled_wd, wd, decay, w1,
                           small, b2, c2, bc1, flr, rectify, bc2s, eps, rect)
    else:
        gk_radam_range_f32(p, g, m, v, lo, hi, sgn, coupled_wd, decoupled_wd, wd, decay, w1,
                           small, b2, c2, bc1, flr, rectify, bc2s, eps, rect)


cdef void radam_loop(floating *p, const floating *g, floating *m, floating *v, intp_t n,
                     double lr, double beta1, double beta2, double eps,
                     double weight_decay, bint decoupled, bint maximize, double step,
                     int n_threads) noexcept nogil:
    cdef int t, nt = _nt(n_threads, n)
    cdef double bc1 = 1.0 - pow(beta1, step), bc2 = 1.0 - pow(beta2, step)
    cdef double rho_inf = 2 / (1 - beta2) - 1
    cdef double rho_t = rho_inf - 2 * step * pow(beta2, step) / bc2
    cdef bint rectify = rho_t > 5.0
    cdef double rect = 0.0
    if rectify:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    cdef floating fbc1 = <floating>bc1, flr = <floating>lr, bc2s = <floating>(bc2 ** 0.5)
    cdef floating frect = <floating>rect
    cdef floating w1 = <floating>(1.0 - beta1), b2 = <floating>beta2
    cdef floating c2 = <floating>(1.0 - beta2), fe = <floating>eps
    cdef floating wd = <floating>weight_decay, decay = <floating>(1.0 - lr * weight_decay)
    cdef floating sgn = -1 if maximize else 1
    cdef bint small = fabs(w1) < 0.5
    cdef bint has_wd = weight_decay != 0
    cdef bint cw = has_wd and not decoupled, dw = has_wd and decoupled
    if nt <= 1:
        _radam_block(p, g, m, v, 0, n, sgn, cw, dw, wd, decay, w1, small, b2, c2, fbc1, flr,
                     rectify, bc2s, fe, frect)
    else:
        for t in prange(nt, schedule='static', num_threads=nt):
            _radam_block(p, g, m, v, _lo(n, nt, t), _hi(n, nt, t), sgn, cw, dw, wd, decay,
                         w1, small, b2, c2, fbc1, flr, rectify, bc2s, fe, frect)


# --- Lion ----------------------------------------------------------------------

cdef inline void _lion_block(floating *p, const floating *g, floating *m, intp_t lo,
                             intp_t hi, floating sgn, floating b1, floating omb1,
                             floating b2, floating omb2, floating wd,
                             floating flr) noexcept nogil:
    """Per element (Lion paper, Algorithm 2)::

        g = -g if maximize;  c = beta1 * m + (1 - beta1) * g
        p = p - lr * (sign(c) + wd * p);  m = beta2 * m + (1 - beta2) * g
    """
    if floating is double:
        gk_lion_range_f64(p, g, m, lo, hi, sgn, b1, omb1, b2, omb2, wd, flr)
    else:
        gk_lion_range_f32(p, g, m, lo, hi, sgn, b1, omb1, b2, omb2, wd, flr)


cdef void lion_loop(floating *p, const floating *g, floating *m, intp_t n, double lr,
                    double beta1, double beta2, double weight_decay, bint maximize,
                    int n_threads) noexcept nogil:
    """Lion (Chen et al. 2023, Algorithm 2): c = b1*m + (1-b1)*g;
    p = p - lr*(sign(c) + wd*p); m = b2*m + (1-b2)*g."""
    cdef int t, nt = _nt(n_threads, n)
    cdef floating b1 = <floating>beta1, omb1 = <floating>(1.0 - beta1)
    cdef floating b2 = <floating>beta2, omb2 = <floating>(1.0 - beta2)
    cdef floating wd = <floating>weight_decay, flr = <floating>lr
    cdef floating sgn = -1 if maximize else 1
    if nt <= 1:
        _lion_block(p, g, m, 0, n, sgn, b1, omb1, b2, omb2, wd, flr)
    else:
        for t in prange(nt, schedule='static', num_threads=nt):
            _lion_block(p, g, m, _lo(n, nt, t), _hi(n, nt, t), sgn, b1, omb1, b2, omb2, wd,
                        flr)


cdef double sum_pow_loop(const floating *x, intp_t n, double norm_type,
                         int n_threads) noexcept nogil:
    """sum |x|**norm_type in double (max |x| for norm_type = inf); NaN propagates."""
    cdef intp_t i
    cdef double s = 0.0, a
    cdef int nt = _nt(n_threads, n)
    if norm_type == INFINITY:
        for i in range(n):
            a = fabs(<double>x[i])
            if a != a or a > s:
                s = a
                if s != s:
                    break
        return s
    if norm_type == 2.0:
        if nt <= 1:
            for i in range(n):
                a = <double>x[i]
                s += a * a
        else:
            for i in prange(n, schedule='static', num_threads=nt):
                a = <double>x[i]
                s += a * a
        return s
    if norm_type == 1.0:
        for i in range(n):
            s += fabs(<double>x[i])
        return s
    for i in range(n):
        s += pow(fabs(<double>x[i]), norm_type)
    return s


cdef void scale_loop(floating *x, intp_t n, double factor, int n_threads) noexcept nogil:
    cdef intp_t i
    cdef int nt = _nt(n_threads, n)
    cdef floating f = <floating>factor
    if nt <= 1:
        for i in range(n):
            x[i] = x[i] * f
    else:
        for i in prange(n, schedule='static', num_threads=nt):
            x[i] = x[i] * f


# ---------------------------------------------------------------------------
# 3. Entry points
# ---------------------------------------------------------------------------

cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b) noexcept:
    cdef int d, nd = cnp.PyArray_NDIM(a)
    if cnp.PyArray_NDIM(b) != nd:
        return False
    for d in range(nd):
        if cnp.PyArray_DIM(a, d) != cnp.PyArray_DIM(b, d):
            return False
    return True


cdef class ParamGroup:
    """Params and their state buffers with cached raw pointers (kernel side).

    ``params`` is a list of C-contiguous writeable float32/float64 ndarrays;
    ``states`` a list of the same length of lists of ``n_state`` arrays, each
    of its param's dtype and shape, or None for a buffer the rule does not use
    (the param's own pointer is cached then, and never written). Trusted: the
    Python layer validates. The arrays are kept alive by this object.
    """
    def __cinit__(self, list params, list states, int n_state):
        cdef Py_ssize_t k
        cdef int j, w = 2 + n_state
        cdef cnp.ndarray a
        self.nstep = 0
        self.mu_product = 1.0
        self.buf_ready = False
        self.n_threads = 1
        self.rule = SGD
        memset(&self.h, 0, sizeof(Hyper))
        self.params = list(params)
        self.states = [list(s) for s in states]
        self.n_arrays = len(params)
        self.n_state = n_state
        self.total = 0
        n = max(self.n_arrays, 1)
        self.ptr = <void **>malloc(n * w * sizeof(void *))
        self.size = <intp_t *>malloc(n * sizeof(intp_t))
        self.is64 = <char *>malloc(n * sizeof(char))
        if self.ptr == NULL or self.size == NULL or self.is64 == NULL:
            raise MemoryError()
        for k in range(self.n_arrays):
            a = self.params[k]
            self.ptr[k * w] = cnp.PyArray_DATA(a)
            self.ptr[k * w + 1] = NULL
            self.size[k] = cnp.PyArray_SIZE(a)
            self.is64[k] = cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT64
            self.total += self.size[k]
            for j in range(n_state):
                s = self.states[k][j]
                self.ptr[k * w + 2 + j] = cnp.PyArray_DATA(<cnp.ndarray>(a if s is None else s))

    def __dealloc__(self):
        free(self.ptr)
        free(self.size)
        free(self.is64)

    def set_states(self, list states):
        """Cache new state buffers (same layout as in the constructor)."""
        cdef Py_ssize_t k
        cdef int j, w = 2 + self.n_state
        states = [list(s) for s in states]
        for k in range(self.n_arrays):
            a = self.params[k]
            for j in range(self.n_state):
                s = states[k][j]
                self.ptr[k * w + 2 + j] = cnp.PyArray_DATA(<cnp.ndarray>(a if s is None else s))
        self.states = states

    def set_hyper(self, int rule, *, double lr=0.0, double beta1=0.0, double beta2=0.0,
                  double eps=0.0, double weight_decay=0.0, double momentum=0.0,
                  double dampening=0.0, double alpha=0.0, double lr_decay=0.0,
                  double momentum_decay=0.0, bint nesterov=False, bint maximize=False,
                  bint decoupled=False, bint amsgrad=False, bint centered=False):
        """Set the rule (``RULE_*``) and its hyperparameters (trusted: validated in
        Python) used by :meth:`step` from now on."""
        if rule < SGD or rule > LION:
            raise ValueError(f"unknown rule {rule}")
        self.rule = <Rule>rule
        self.h.lr = lr; self.h.beta1 = beta1; self.h.beta2 = beta2; self.h.eps = eps
        self.h.weight_decay = weight_decay; self.h.momentum = momentum
        self.h.dampening = dampening; self.h.alpha = alpha; self.h.lr_decay = lr_decay
        self.h.momentum_decay = momentum_decay; self.h.nesterov = nesterov
        self.h.maximize = maximize; self.h.decoupled = decoupled; self.h.amsgrad = amsgrad
        self.h.centered = centered

    def step(self, grads):
        """One update of every param from ``grads`` (an ndarray, or a list/tuple of
        one ndarray per param). Returns -1 after updating everything and advancing
        the counters (``nstep``; NAdam's ``mu_product``; SGD's ``buf_ready``), or
        the index of the first grad that does not match its param (dtype, shape,
        C-contiguity; or a param that became read-only), writing NOTHING;
        ``len(params)`` when ``grads`` itself has the wrong type or length."""
        cdef double s = <double>(self.nstep + 1), mp = self.mu_product, mu, mu_next
        cdef Py_ssize_t bad
        self.h.step = s
        if self.rule == NADAM:
            mu = _nadam_mu(self.h.beta1, self.h.momentum_decay, s)
            mu_next = _nadam_mu(self.h.beta1, self.h.momentum_decay, s + 1)
            mp = mp * mu
            self.h.coef_grad = -self.h.lr * (1.0 - mu) / (1.0 - mp)
            self.h.coef_avg = (-self.h.lr * mu_next) / (1.0 - mp * mu_next)
        elif self.rule == SGD:
            self.h.first = not self.buf_ready
        bad = _step(self.rule, self, grads, &self.h, self.n_threads)
        if bad >= 0:
            return bad
        self.nstep += 1
        if self.rule == NADAM:
            self.mu_product = mp
        elif self.rule == SGD and self.h.momentum != 0:
            self.buf_ready = True
        return -1

    cdef Py_ssize_t bind(self, object grads) except -2:
        """Cache the grads' pointers. -1 when every grad matches its param
        (ndarray, same dtype and shape, C-contiguous) and every param is still
        writeable; else the index of the first offender (nothing cached then
        matters: the caller writes nothing). ``len(params)`` means ``grads``
        itself has the wrong type or length."""
        cdef Py_ssize_t k, n = self.n_arrays
        cdef int w = 2 + self.n_state
        cdef cnp.ndarray a, p
        cdef PyObject *item
        cdef bint is_list
        if cnp.PyArray_Check(grads):
            if n != 1:
                return n
            a = <cnp.ndarray>grads
            p = <cnp.ndarray>PyList_GET_ITEM(self.params, 0)
            if not self._ok(a, p, 0):
                return 0
            self.ptr[1] = cnp.PyArray_DATA(a)
            return -1
        is_list = type(grads) is list
        if not is_list and type(grads) is not tuple:
            return n
        if (PyList_GET_SIZE(grads) if is_list else PyTuple_GET_SIZE(grads)) != n:
            return n
        for k in range(n):
            item = PyList_GET_ITEM(grads, k) if is_list else PyTuple_GET_ITEM(grads, k)
            if not cnp.PyArray_Check(<object>item):
                return k
            a = <cnp.ndarray>item
            p = <cnp.ndarray>PyList_GET_ITEM(self.params, k)
            if not self._ok(a, p, k):
                return k
            self.ptr[k * w + 1] = cnp.PyArray_DATA(a)
        return -1

    cdef bint _ok(self, cnp.ndarray g, cnp.ndarray p, Py_ssize_t k) noexcept:
        return (cnp.PyArray_TYPE(g) == cnp.PyArray_TYPE(p)
                and cnp.PyArray_IS_C_CONTIGUOUS(g)
                and cnp.PyArray_ISWRITEABLE(p)
                and cnp.PyArray_DATA(p) == self.ptr[k * (2 + self.n_state)]
                and _same_shape(g, p))


cdef void _run(Rule rule, void **ptr, intp_t *size, char *is64, Py_ssize_t n_arrays,
               int w, const Hyper *h, int nt) noexcept nogil:
    cdef Py_ssize_t k
    cdef void **q
    for k in range(n_arrays):
        q = ptr + k * w
        if is64[k]:
            _run_one(rule, <double **>q, size[k], h, nt)
        else:
            _run_one(rule, <float **>q, size[k], h, nt)


cdef inline void _run_one(Rule rule, floating **q, intp_t n, const Hyper *h,
                          int nt) noexcept nogil:
    if rule == ADAM:
        adam_loop(q[0], q[1], q[2], q[3], q[4], n, h.lr, h.beta1, h.beta2, h.eps,
                  h.weight_decay, h.decoupled, h.amsgrad, h.maximize, h.step, nt)
    elif rule == SGD:
        sgd_loop(q[0], q[1], q[2], n, h.lr, h.momentum, h.dampening, h.weight_decay,
                 h.nesterov, h.maximize, h.first, nt)
    elif rule == RMSPROP:
        rmsprop_loop(q[0], q[1], q[2], q[3], q[4], n, h.lr, h.alpha, h.eps,
                     h.weight_decay, h.momentum, h.centered, h.maximize, nt)
    elif rule == ADAGRAD:
        adagrad_loop(q[0], q[1], q[2], n, h.lr, h.lr_decay, h.weight_decay, h.eps,
                     h.maximize, h.step, nt)
    elif rule == ADAMAX:
        adamax_loop(q[0], q[1], q[2], q[3], n, h.lr, h.beta1, h.beta2, h.eps,
                    h.weight_decay, h.maximize, h.step, nt)
    elif rule == NADAM:
        nadam_loop(q[0], q[1], q[2], q[3], n, h.lr, h.beta1, h.beta2, h.eps,
                   h.weight_decay, h.decoupled, h.maximize, h.step, h.coef_grad,
                   h.coef_avg, nt)
    elif rule == RADAM:
        radam_loop(q[0], q[1], q[2], q[3], n, h.lr, h.beta1, h.beta2, h.eps,
                   h.weight_decay, h.decoupled, h.maximize, h.step, nt)
    elif rule == LION:
        lion_loop(q[0], q[1], q[2], n, h.lr, h.beta1, h.beta2, h.weight_decay,
                  h.maximize, nt)


cdef Py_ssize_t _step(Rule rule, ParamGroup grp, object grads, Hyper *h,
                      int n_threads) except -2:
    cdef Py_ssize_t bad = grp.bind(grads)
    if bad >= 0:
        return bad
    if grp.total >= NOGIL_MIN:
        with nogil:
            _run(rule, grp.ptr, grp.size, grp.is64, grp.n_arrays, 2 + grp.n_state, h,
                 n_threads)
    else:
        _run(rule, grp.ptr, grp.size, grp.is64, grp.n_arrays, 2 + grp.n_state, h,
             n_threads)
    return -1


# Rule numbers for ParamGroup.set_hyper (the Python layer names its rule).
RULE_SGD, RULE_ADAM, RULE_RMSPROP, RULE_ADAGRAD = SGD, ADAM, RMSPROP, ADAGRAD
RULE_ADAMAX, RULE_NADAM, RULE_RADAM, RULE_LION = ADAMAX, NADAM, RADAM, LION


cdef inline double _nadam_mu(double beta1, double momentum_decay, double step) noexcept nogil:
    """NAdam's momentum coefficient mu_t, in torch's order of operations."""
    return beta1 * (1.0 - 0.5 * pow(0.96, step * momentum_decay))


def clip_grad_norm(list grads, double max_norm, double norm_type, int n_threads,
                   bint error_if_nonfinite=False):
    """Trusted entry: ``grads`` are C-contiguous writeable float32/float64 arrays.
    Total ``norm_type``-norm over all of them (accumulated in double), then every
    grad times ``min(max_norm / (total + 1e-6), 1)`` (NaN when total is NaN, as
    torch's clamp). Returns the total norm. With ``error_if_nonfinite`` a NaN or
    inf total is returned without scaling anything (the caller raises)."""
    cdef Py_ssize_t k, n = len(grads)
    cdef cnp.ndarray a
    cdef double acc = 0.0, part, total, coef
    for k in range(n):
        a = grads[k]
        if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT64:
            part = sum_pow_loop(<double *>cnp.PyArray_DATA(a), cnp.PyArray_SIZE(a),
                                norm_type, n_threads)
        else:
            part = sum_pow_loop(<float *>cnp.PyArray_DATA(a), cnp.PyArray_SIZE(a),
                                norm_type, n_threads)
        if norm_type == INFINITY:
            if part != part or part > acc:
                acc = part
        else:
            acc += part
    if norm_type == INFINITY:
        total = acc
    elif norm_type == 1.0:
        total = acc
    elif norm_type == 2.0:
        total = sqrt(acc)
    else:
        total = pow(acc, 1.0 / norm_type)
    if error_if_nonfinite and (total != total or total == INFINITY):
        return total
    coef = max_norm / (total + 1e-6)
    if coef != coef or coef < 1.0:
        for k in range(n):
            a = grads[k]
            if cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT64:
                scale_loop(<double *>cnp.PyArray_DATA(a), cnp.PyArray_SIZE(a), coef,
                           n_threads)
            else:
                scale_loop(<float *>cnp.PyArray_DATA(a), cnp.PyArray_SIZE(a), coef,
                           n_threads)
    return total
