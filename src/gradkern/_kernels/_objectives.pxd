# Fused value-and-gradient kernels of gradkern.objectives (C-level interface).
#
#     from gradkern._kernels._objectives cimport logistic_loss_dloss, LOSS_LOGISTIC
#
# Layer 1: per-sample math on the linear predictor z (and target y). Each returns
# the sample's loss and writes d loss / d z to dz (OUT). Numerically stable for
# any finite z (no overflow at |z| = 1000). loss_dloss / loss_hess dispatch on
# one of the LOSS_* kinds.
# Layer 2 (row loops over dense C-order, dense F-order and CSR X) lives in the
# .pyx and in _objectives_simd.h / _objectives_rows.h (blocked, vectorized loops
# for C-order and CSR rows, the softmax stage), reached from Python through the
# def entries of the .pyx; it is not part of this C interface because its
# argument lists may still change.
from libc.math cimport exp, fabs, log1p

from gradkern._kernels._typedefs cimport float64_t, intp_t

cdef enum:
    LOSS_SQUARED = 0    # 0.5 * (z - y)**2
    LOSS_LOGISTIC = 1   # log(1 + exp(z)) - y * z, y in {0, 1}
    LOSS_HUBER = 2      # 0.5 r**2 if |r| <= delta else delta * (|r| - delta / 2), r = z - y

cdef inline float64_t squared_loss_dloss(float64_t z, float64_t y, float64_t *dz) noexcept nogil:
    cdef float64_t r = z - y
    dz[0] = r
    return 0.5 * r * r


cdef inline float64_t logistic_loss_dloss(float64_t z, float64_t y, float64_t *dz) noexcept nogil:
    # loss = max(z, 0) + log1p(exp(-|z|)) - y z ; dz = sigmoid(z) - y, written with
    # the smaller of sigmoid(z), 1 - sigmoid(z) so that p - y keeps its precision.
    cdef float64_t e = exp(-fabs(z))
    cdef float64_t small = e / (1.0 + e)          # min(p, 1 - p)
    if z >= 0:
        dz[0] = (1.0 - y) - small
        return z * (1.0 - y) + log1p(e)
    dz[0] = small - y
    return log1p(e) - y * z


cdef inline float64_t huber_loss_dloss(float64_t z, float64_t y, float64_t delta,
                                       float64_t *dz) noexcept nogil:
    cdef float64_t r = z - y
    if fabs(r) <= delta:
        dz[0] = r
        return 0.5 * r * r
    dz[0] = delta if r > 0 else -delta
    return delta * (fabs(r) - 0.5 * delta)


cdef inline float64_t logistic_hess(float64_t z) noexcept nogil:
    # d^2 loss / d z^2 = p (1 - p) = e / (1 + e)^2 with e = exp(-|z|)
    cdef float64_t e = exp(-fabs(z))
    return e / ((1.0 + e) * (1.0 + e))


cdef inline float64_t loss_dloss(int kind, float64_t z, float64_t y, float64_t delta,
                                 float64_t *dz) noexcept nogil:
    if kind == LOSS_LOGISTIC:
        return logistic_loss_dloss(z, y, dz)
    if kind == LOSS_HUBER:
        return huber_loss_dloss(z, y, delta, dz)
    return squared_loss_dloss(z, y, dz)


cdef inline float64_t loss_hess(int kind, float64_t z, float64_t y, float64_t delta) noexcept nogil:
    # second derivative in z (Huber: the generalized one, 0 outside the quadratic zone)
    if kind == LOSS_LOGISTIC:
        return logistic_hess(z)
    if kind == LOSS_HUBER:
        return 1.0 if fabs(z - y) <= delta else 0.0
    return 1.0

# Softmax cross-entropy of one sample: z[0:K] (IN) are the class scores, label
# the true class; writes softmax(z) - onehot(label) to dz[0:K] (OUT) and returns
# logsumexp(z) - z[label].
cdef float64_t softmax_loss_dloss(const float64_t *z, intp_t label, intp_t K,
                                  float64_t *dz) noexcept nogil
# Extended (chained) Rosenbrock: value of x[0:n] (IN), gradient to g[0:n] (OUT,
# skipped when g is NULL).
cdef float64_t rosenbrock_value_grad(const float64_t *x, intp_t n, float64_t *g) noexcept nogil
