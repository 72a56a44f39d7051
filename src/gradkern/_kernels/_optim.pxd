# Fused optimizer updates (gradkern.optim's kernels), for other Cython code:
#
#     from gradkern._kernels._optim cimport adam_loop
#
# Each *_loop updates n elements IN PLACE: p (params, IN/OUT), g (grads, IN) and
# the state buffers (IN/OUT), float32 or float64 (all the same), C-contiguous,
# trusted (no checks). Scalars are doubles; the loop rounds them to the array
# precision once. ``step`` is the 1-based number of the step being taken.
# ``n_threads`` >= 1 (OpenMP; serial below 65,536 elements per thread).
from cython cimport floating
cimport numpy as cnp
from gradkern._kernels._typedefs cimport intp_t

cdef void sgd_loop(floating *p, const floating *g, floating *buf, intp_t n,
                   double lr, double momentum, double dampening, double weight_decay,
                   bint nesterov, bint maximize, bint first, int n_threads) noexcept nogil
cdef void adam_loop(floating *p, const floating *g, floating *m, floating *v,
                    floating *vmax, intp_t n, double lr, double beta1, double beta2,
                    double eps, double weight_decay, bint decoupled, bint amsgrad,
                    bint maximize, double step, int n_threads) noexcept nogil
cdef void rmsprop_loop(floating *p, const floating *g, floating *sq, floating *buf,
                       floating *gavg, intp_t n, double lr, double alpha, double eps,
                       double weight_decay, double momentum, bint centered,
                       bint maximize, int n_threads) noexcept nogil
cdef void adagrad_loop(floating *p, const floating *g, floating *ssum, intp_t n,
                       double lr, double lr_decay, double weight_decay, double eps,
                       bint maximize, double step, int n_threads) noexcept nogil
cdef void adamax_loop(floating *p, const floating *g, floating *m, floating *u, intp_t n,
                      double lr, double beta1, double beta2, double eps,
                      double weight_decay, bint maximize, double step,
                      int n_threads) noexcept nogil
cdef void nadam_loop(floating *p, const floating *g, floating *m, floating *v, intp_t n,
                     double lr, double beta1, double beta2, double eps,
                     double weight_decay, bint decoupled, bint maximize, double step,
                     double coef_grad, double coef_avg, int n_threads) noexcept nogil
cdef void radam_loop(floating *p, const floating *g, floating *m, floating *v, intp_t n,
                     double lr, double beta1, double beta2, double eps,
                     double weight_decay, bint decoupled, bint maximize, double step,
                     int n_threads) noexcept nogil
cdef void lion_loop(floating *p, const floating *g, floating *m, intp_t n, double lr,
                    double beta1, double beta2, double weight_decay, bint maximize,
                    int n_threads) noexcept nogil
cdef double sum_pow_loop(const floating *x, intp_t n, double norm_type,
                         int n_threads) noexcept nogil
cdef void scale_loop(floating *x, intp_t n, double factor, int n_threads) noexcept nogil


ctypedef enum Rule:
    SGD, ADAM, RMSPROP, ADAGRAD, ADAMAX, NADAM, RADAM, LION

cdef struct Hyper:
    double lr, beta1, beta2, eps, weight_decay, momentum, dampening, alpha, lr_decay
    double momentum_decay, step, coef_grad, coef_avg
    bint nesterov, maximize, first, decoupled, amsgrad, centered


cdef class ParamGroup:
    cdef readonly list params
    cdef readonly list states
    cdef readonly Py_ssize_t n_arrays
    cdef readonly int n_state
    cdef readonly intp_t total
    cdef void **ptr          # n_arrays * (2 + n_state): p, g, state...
    cdef intp_t *size
    cdef char *is64
    cdef Rule rule
    cdef Hyper h
    cdef public long long nstep        # steps taken
    cdef public double mu_product      # NAdam's running product of mu_t
    cdef public bint buf_ready         # SGD's momentum buffers hold a value
    cdef public int n_threads
    cdef Py_ssize_t bind(self, object grads) except -2
    cdef bint _ok(self, cnp.ndarray g, cnp.ndarray p, Py_ssize_t k) noexcept
