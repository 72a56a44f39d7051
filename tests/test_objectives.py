"""gradkern.objectives: gradients vs finite differences and plain numpy references,
layouts (C, F, CSR), dtypes, threads, minibatches, hessp, bad input."""
import numpy as np
import pytest
import scipy.optimize as so
import scipy.sparse as sp
from hypothesis import given, strategies as st

import gradkern
from gradkern import objectives as O

RTOL = 1e-12


# ----------------------------------------------------------------- helpers

def fd_grad(f, w, h=1e-3):
    """High-accuracy central differences: Richardson extrapolation of the 3-point
    difference at h and h/2 (a 5-point, 4th-order stencil), per coordinate."""
    w = np.asarray(w, dtype=np.float64)
    g = np.empty_like(w)
    for j in range(w.size):
        def d(step):
            e = np.zeros_like(w)
            e[j] = step
            return (f(w + e) - f(w - e)) / (2 * step)
        g[j] = (4 * d(h / 2) - d(h)) / 3
    return g


def close(a, b, rtol=RTOL):
    """Relative agreement measured against the size of the whole vector."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.max(np.abs(b)), 1e-300)
    return np.max(np.abs(a - b)) <= rtol * scale


def ref_linear(kind, X, y, w, sw=None, l2=0.0, fit_intercept=False, delta=1.0):
    """Plain numpy value and gradient of the linear-model objectives."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n, d = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, dtype=np.float64)
    b = w[d] if fit_intercept else 0.0
    z = X @ w[:d] + b
    if kind == "squared":
        r = z - y
        loss, dz = 0.5 * r ** 2, r
    elif kind == "huber":
        r = z - y
        quad = np.abs(r) <= delta
        loss = np.where(quad, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta))
        dz = np.where(quad, r, delta * np.sign(r))
    else:
        loss = np.logaddexp(0.0, z) - y * z
        dz = np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) /
                      (1.0 + np.exp(-np.abs(z)))) - y
    S = s.sum()
    f = (s * loss).sum() / S + 0.5 * l2 * (w[:d] @ w[:d])
    g = np.zeros_like(w)
    g[:d] = X.T @ (s * dz) / S + l2 * w[:d]
    if fit_intercept:
        g[d] = (s * dz).sum() / S
    return f, g


def ref_softmax(X, y, w, K, sw=None, l2=0.0):
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n, d = X.shape
    s = np.ones(n) if sw is None else np.asarray(sw, dtype=np.float64)
    W = w.reshape(d, K)
    Z = X @ W
    m = Z.max(axis=1, keepdims=True)
    E = np.exp(Z - m)
    ssum = E.sum(axis=1)
    rows = np.arange(n)
    # exp(Z - m) / sum, not exp(Z - lse): lse = m + log(sum) is rounded to the
    # ulp of m, an absolute error that p - 1 for a sure class would amplify. For
    # the same reason p - 1 = -(sum of the other classes' exps) / sum, and a
    # label at the max has loss log1p(sum of the others' exps)
    others = E.copy()
    others[rows, y] = 0.0
    others = others.sum(axis=1)
    top = Z[rows, y] == m[:, 0]
    loss = np.where(top, np.log1p(others), m[:, 0] + np.log(ssum) - Z[rows, y])
    P = E / ssum[:, None]
    P[rows, y] = -others / ssum
    S = s.sum()
    f = (s * loss).sum() / S + 0.5 * l2 * (w @ w)
    g = (X.T @ (s[:, None] * P)).ravel() / S + l2 * w
    return f, g


def make_data(n=40, d=5, seed=0, kind="squared", K=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    if kind == "logistic":
        y = (rng.random(n) < 0.5).astype(np.float64)
    elif kind == "softmax":
        y = rng.integers(0, K, n)
    else:
        y = rng.standard_normal(n) * 2
    sw = rng.random(n) + 0.5
    return X, y, sw


def with_layout(X, layout):
    if layout == "C":
        return np.ascontiguousarray(X)
    if layout == "F":
        return np.asfortranarray(X)
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.7] = 0  # some real sparsity
    return sp.csr_matrix(Xs)


def build(name, X, y, sw=None, l2=0.0, fit_intercept=False, K=3, n_threads=1, delta=0.8):
    if name == "LeastSquares":
        return O.LeastSquares(X, y, l2=l2, sample_weight=sw, n_threads=n_threads)
    if name == "Huber":
        return O.Huber(X, y, delta=delta, l2=l2, sample_weight=sw, n_threads=n_threads)
    if name == "Logistic":
        return O.Logistic(X, y, l2=l2, sample_weight=sw, fit_intercept=fit_intercept,
                          n_threads=n_threads)
    return O.SoftmaxCrossEntropy(X, y, K, l2=l2, sample_weight=sw, n_threads=n_threads)


KIND = {"LeastSquares": "squared", "Huber": "huber", "Logistic": "logistic",
        "SoftmaxCrossEntropy": "softmax"}


def reference(name, X, y, w, sw=None, l2=0.0, fit_intercept=False, K=3, delta=0.8):
    if name == "SoftmaxCrossEntropy":
        return ref_softmax(X, y, w, K, sw, l2)
    return ref_linear(KIND[name], X, y, w, sw, l2, fit_intercept, delta)


NAMES = ["LeastSquares", "Huber", "Logistic", "SoftmaxCrossEntropy"]


def n_params(name, d, K=3, fit_intercept=False):
    if name == "SoftmaxCrossEntropy":
        return d * K
    return d + (1 if fit_intercept else 0)


# ----------------------------------------------------------------- correctness grid

@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("layout", ["C", "F", "CSR"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_value_grad_matches_numpy_reference(name, dtype, layout, n_threads):
    X, y, sw = make_data(n=60, d=5, kind=KIND[name], dtype=dtype)
    Xl = with_layout(X, layout)
    fi = name == "Logistic"
    obj = build(name, Xl, y, sw=sw, l2=0.3, fit_intercept=fi, n_threads=n_threads)
    w = np.random.default_rng(1).standard_normal(obj.n_params)
    # the reference sees exactly the stored values (float32 widened exactly)
    f_ref, g_ref = reference(name, Xl, y, w, sw=sw, l2=0.3, fit_intercept=fi)
    f, g = obj.value_and_grad(w)
    assert obj.n_params == n_params(name, 5, fit_intercept=fi)
    assert g.dtype == np.float64 and g.shape == (obj.n_params,)
    assert abs(f - f_ref) <= RTOL * abs(f_ref)
    assert close(g, g_ref)
    assert obj.value(w) == f
    np.testing.assert_array_equal(obj.grad(w), g)
    f2, g2 = obj(w)
    assert f2 == f and np.array_equal(g2, g)


@pytest.mark.parametrize("name", NAMES)
def test_grad_matches_finite_differences(name):
    X, y, sw = make_data(n=30, d=4, kind=KIND[name], seed=3)
    obj = build(name, X, y, sw=sw, l2=0.1, fit_intercept=name == "Logistic")
    w = np.random.default_rng(4).standard_normal(obj.n_params) * 0.5
    g_fd = fd_grad(obj.value, w)
    # Huber is only C^1: keep residuals away from +-delta for the FD check
    assert close(obj.grad(w), g_fd, rtol=1e-8)


def test_huber_branches_both_used():
    X, y, _ = make_data(n=50, d=3, seed=5)
    obj = O.Huber(X, y * 3, delta=0.5)
    w = np.zeros(3)
    r = X @ w - y * 3
    assert np.any(np.abs(r) <= 0.5) and np.any(np.abs(r) > 0.5)
    f, g = obj.value_and_grad(w)
    f_ref, g_ref = ref_linear("huber", X, y * 3, w, delta=0.5)
    assert abs(f - f_ref) <= RTOL * abs(f_ref) and close(g, g_ref)


@pytest.mark.parametrize("name", NAMES)
def test_layouts_agree(name):
    X, y, sw = make_data(n=300, d=7, kind=KIND[name], seed=7)
    Xs = with_layout(X, "CSR")
    dense = Xs.toarray()
    w = np.random.default_rng(2).standard_normal(n_params(name, 7))
    res = [build(name, Xl, y, sw=sw).value_and_grad(w)
           for Xl in (np.ascontiguousarray(dense), np.asfortranarray(dense), Xs)]
    for f, g in res[1:]:
        assert abs(f - res[0][0]) <= 1e-13 * abs(res[0][0])
        assert close(g, res[0][1], rtol=1e-13)


def test_non_contiguous_X_is_accepted():
    X, y, _ = make_data(n=50, d=8, seed=8)
    Xv = X[::2, ::2]
    obj = O.LeastSquares(Xv, y[::2])
    w = np.ones(4)
    f_ref, g_ref = ref_linear("squared", np.ascontiguousarray(Xv), y[::2], w)
    f, g = obj.value_and_grad(w)
    assert abs(f - f_ref) <= RTOL * f_ref and close(g, g_ref)


@pytest.mark.parametrize("layout", ["C", "F", "CSR"])
@pytest.mark.parametrize("name", NAMES)
def test_threads_agree_and_are_deterministic(name, layout):
    # enough rows that two threads are really used (>= 2 chunks of work)
    X, y, sw = make_data(n=50000, d=6, kind=KIND[name], seed=9)
    Xl = with_layout(X, layout)
    w = np.random.default_rng(3).standard_normal(n_params(name, 6)) * 0.3
    f1, g1 = build(name, Xl, y, sw=sw, n_threads=1).value_and_grad(w)
    o2 = build(name, Xl, y, sw=sw, n_threads=2)
    if gradkern.openmp_enabled():
        assert o2._kernel.threads_used(50000, 2) == 2
    f2, g2 = o2.value_and_grad(w)
    f3, g3 = o2.value_and_grad(w)
    assert abs(f1 - f2) <= 1e-13 * abs(f1) and close(g1, g2, rtol=1e-13)
    assert f2 == f3 and np.array_equal(g2, g3)


@pytest.mark.parametrize("name", NAMES)
def test_out_written_in_place(name):
    X, y, _ = make_data(n=20, d=3, kind=KIND[name])
    obj = build(name, X, y)
    w = np.full(obj.n_params, 0.2)
    out = np.full(obj.n_params, np.nan)
    f, g = obj.value_and_grad(w, out=out)
    assert g is out and np.shares_memory(g, out)
    g2 = obj.grad(w, out=np.empty(obj.n_params))
    np.testing.assert_array_equal(out, g2)
    out2 = np.empty(obj.n_params)
    assert obj.grad(w, out=out2) is out2
    # __call__ returns a fresh array each time (scipy keeps the previous one)
    assert not np.shares_memory(obj(w)[1], obj(w)[1])


@pytest.mark.parametrize("name", NAMES)
def test_out_is_checked(name):
    X, y, _ = make_data(n=20, d=3, kind=KIND[name])
    obj = build(name, X, y)
    w = np.zeros(obj.n_params)
    with pytest.raises(ValueError, match="out"):
        obj.grad(w, out=np.empty(obj.n_params + 1))
    with pytest.raises(TypeError, match="out"):
        obj.grad(w, out=np.empty(obj.n_params, dtype=np.float32))
    ro = np.empty(obj.n_params)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        obj.value_and_grad(w, out=ro)


def test_float32_w_and_int_X_are_converted():
    X, y, _ = make_data(n=20, d=3)
    Xi = np.round(X * 3).astype(np.int32)
    obj = O.LeastSquares(Xi, y)
    assert obj.dtype == np.float64
    w32 = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    f, g = obj.value_and_grad(w32)
    f_ref, g_ref = ref_linear("squared", Xi.astype(float), y, w32.astype(float))
    assert abs(f - f_ref) <= RTOL * f_ref and close(g, g_ref)
    assert O.LeastSquares(X.astype(np.float32), y).dtype == np.float32


# ----------------------------------------------------------------- minibatches

@pytest.mark.parametrize("layout", ["C", "F", "CSR"])
@pytest.mark.parametrize("name", NAMES)
def test_rows_minibatch_equals_subset(name, layout):
    X, y, sw = make_data(n=80, d=4, kind=KIND[name], seed=11)
    Xl = with_layout(X, layout)
    obj = build(name, Xl, y, sw=sw, l2=0.2)
    w = np.random.default_rng(5).standard_normal(obj.n_params)
    idx = np.array([3, 70, 5, 5, 41, -1])
    for rows, sel in [(slice(10, 60, 3), np.arange(10, 60, 3)), (idx, idx % 80),
                      (slice(None, None, -2), np.arange(79, -1, -2)),
                      (np.arange(80) % 3 == 0, np.flatnonzero(np.arange(80) % 3 == 0))]:
        f, g = obj.value_and_grad(w, rows=rows)
        f_ref, g_ref = reference(name, Xl[sel], y[sel], w, sw=sw[sel], l2=0.2)
        assert abs(f - f_ref) <= RTOL * abs(f_ref)
        assert close(g, g_ref)
        assert obj.value(w, rows=rows) == f


def test_rows_errors():
    X, y, _ = make_data(n=10, d=2)
    obj = O.LeastSquares(X, y)
    w = np.zeros(2)
    with pytest.raises(ValueError, match="rows"):
        obj.value(w, rows=np.array([0, 10]))
    with pytest.raises(ValueError, match="rows"):
        obj.value(w, rows=slice(5, 5))
    with pytest.raises(TypeError, match="rows"):
        obj.value(w, rows=np.array([0.5]))
    with pytest.raises(ValueError, match="rows"):
        obj.value(w, rows=np.ones(3, dtype=bool))
    zero = O.LeastSquares(X, y, sample_weight=np.r_[np.zeros(5), np.ones(5)])
    with pytest.raises(ValueError, match="sample_weight"):
        zero.value(w, rows=slice(0, 5))
    # value_and_grad's fast path (intp arrays in range, slices) declines the same
    # bad minibatches, and the general path raises
    for bad in (np.array([0, 10], dtype=np.intp), np.array([-11], dtype=np.intp),
                np.array([], dtype=np.intp), slice(5, 5)):
        with pytest.raises(ValueError, match="rows"):
            obj.value_and_grad(w, rows=bad)
    with pytest.raises(ValueError, match="slice step"):
        obj.value_and_grad(w, rows=slice(0, 5, 0))
    with pytest.raises(ValueError, match="sample_weight"):
        zero.value_and_grad(w, rows=np.arange(5))


@pytest.mark.parametrize("name", NAMES)
def test_rows_fast_path_gives_the_general_paths_bits(name):
    """The fast path of value, grad and value_and_grad (w, out, and rows as an intp
    index array in range or a slice, checked in one C call) against the general
    path (rows as a list, an int32 array, a strided intp array, a bool mask; w as a
    list): the same kernel, the same bits."""
    X, y, sw = make_data(n=90, d=5, kind=KIND[name], seed=13)
    obj = build(name, X, y, sw=sw, l2=0.1)
    w = np.random.default_rng(6).standard_normal(obj.n_params)
    idx = np.array([89, 0, 4, 4, 33, 60, 7], dtype=np.intp)
    out = np.empty(obj.n_params)
    f, g = obj.value_and_grad(w, out=out, rows=idx)
    assert g is out
    for general in (idx.tolist(), idx.astype(np.int32), np.repeat(idx, 2)[::2]):
        f2, g2 = obj.value_and_grad(w, rows=general)
        assert f2 == f and np.array_equal(g2, g)
        # value and grad: fast path (idx) and general path alike
        assert obj.value(w, rows=idx) == f == obj.value(w, rows=general)
        assert np.array_equal(obj.grad(w, rows=idx), g)
        assert np.array_equal(obj.grad(w, rows=general), g)
    assert obj.grad(w, out=out, rows=idx) is out
    # all rows: fast path (w float64) and general (w a list)
    assert obj.value(w) == obj.value(w.tolist())
    assert np.array_equal(obj.grad(w), obj.grad(w.tolist()))
    mask = np.zeros(90, dtype=bool)
    mask[10:50:4] = True
    f, g = obj.value_and_grad(w, rows=slice(10, 50, 4))
    f2, g2 = obj.value_and_grad(w, rows=mask)
    assert f2 == f and np.array_equal(g2, g)
    f_ref, g_ref = reference(name, X[10:50:4], y[10:50:4], w, sw=sw[10:50:4], l2=0.1)
    assert abs(f - f_ref) <= RTOL * abs(f_ref) and close(g, g_ref)


# ----------------------------------------------------------------- numerics, oracles

def test_logistic_stable_at_huge_margins():
    X = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    obj = O.Logistic(X, y)
    for m in (1000.0, -1000.0, 745.0, 30.0):
        w = np.array([m])
        with np.errstate(all="raise"):
            f, g = obj.value_and_grad(w)
        f_ref, g_ref = ref_linear("logistic", X, y, w)
        assert np.isfinite(f) and np.all(np.isfinite(g))
        assert abs(f - f_ref) <= RTOL * abs(f_ref) and close(g, g_ref)
    # the right class with a huge margin costs (almost) nothing
    assert O.Logistic(np.array([[1.0]]), [1]).value([1000.0]) == 0.0
    # ... even where ||w||^2 overflows: without l2 no penalty is formed (0 * inf)
    huge = O.Logistic(np.array([[1.0], [-1.0]]), [1, 0])
    for fn in (huge.value, lambda w: huge.value_and_grad(w)[0],
               lambda w: huge.value(w, rows=[0, 1])):    # fast and general paths
        assert fn(np.array([1e200])) == 0.0
    assert np.array_equal(huge.grad(np.array([1e200])), [0.0])
    assert O.Logistic(np.array([[1.0]]), [0]).value([1000.0]) == 1000.0


def test_softmax_stable_at_huge_scores():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    obj = O.SoftmaxCrossEntropy(X, [0, 1], 3)
    w = np.array([1000.0, -1000.0, 0.0, 0.0, 1000.0, 999.0])
    f, g = obj.value_and_grad(w)
    f_ref, g_ref = ref_softmax(X, np.array([0, 1]), w, 3)
    assert np.isfinite(f) and np.all(np.isfinite(g))
    assert abs(f - f_ref) <= RTOL * abs(f_ref) and close(g, g_ref)


def test_log_loss_agrees_with_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    X, y, sw = make_data(n=200, d=6, kind="logistic", seed=12)
    w = np.random.default_rng(6).standard_normal(7) * 0.5
    z = X @ w[:6] + w[6]
    p = 1 / (1 + np.exp(-z))
    f = O.Logistic(X, y, sample_weight=sw, fit_intercept=True).value(w)
    assert abs(f - metrics.log_loss(y, p, sample_weight=sw)) <= 1e-12 * f
    ys = np.random.default_rng(7).integers(0, 4, 200)
    ws = np.random.default_rng(8).standard_normal(24) * 0.5
    Z = X @ ws.reshape(6, 4)
    P = np.exp(Z - Z.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    f = O.SoftmaxCrossEntropy(X, ys, 4, sample_weight=sw).value(ws)
    assert abs(f - metrics.log_loss(ys, P, sample_weight=sw, labels=range(4))) <= 1e-12 * f


def test_rosenbrock_matches_scipy():
    rng = np.random.default_rng(13)
    for n in (2, 3, 10):
        obj = O.Rosenbrock(n)
        x = rng.standard_normal(n)
        p = rng.standard_normal(n)
        f, g = obj.value_and_grad(x)
        assert abs(f - so.rosen(x)) <= RTOL * abs(f)
        assert close(g, so.rosen_der(x))
        assert close(obj.hessp(x, p), so.rosen_hess_prod(x, p))
        assert close(g, fd_grad(obj.value, x), rtol=1e-8)


def test_quadratic():
    rng = np.random.default_rng(14)
    M = rng.standard_normal((6, 6))
    A = M @ M.T + np.eye(6)
    b = rng.standard_normal(6)
    w = rng.standard_normal(6)
    for obj in (O.Quadratic(A, b), O.Quadratic(sp.csr_matrix(A), b)):
        f, g = obj.value_and_grad(w)
        assert abs(f - (0.5 * w @ A @ w - b @ w)) <= RTOL * abs(f)
        assert close(g, A @ w - b)
        assert close(obj.hessp(w, b), A @ b)
        assert close(g, fd_grad(obj.value, w), rtol=1e-8)
        res = so.minimize(obj, np.zeros(6), jac=True, hessp=obj.hessp, method="Newton-CG")
        assert close(res.x, np.linalg.solve(A, b), rtol=1e-6)


@pytest.mark.parametrize("layout", ["C", "F", "CSR"])
@pytest.mark.parametrize("name", ["LeastSquares", "Logistic"])
def test_hessp_matches_fd_of_grad(name, layout):
    X, y, sw = make_data(n=50, d=4, kind=KIND[name], seed=15)
    fi = name == "Logistic"
    obj = build(name, with_layout(X, layout), y, sw=sw, l2=0.3, fit_intercept=fi)
    rng = np.random.default_rng(16)
    w = rng.standard_normal(obj.n_params) * 0.5
    p = rng.standard_normal(obj.n_params)
    h = 1e-3
    d1 = (obj.grad(w + h * p) - obj.grad(w - h * p)) / (2 * h)
    d2 = (obj.grad(w + h / 2 * p) - obj.grad(w - h / 2 * p)) / h
    assert close(obj.hessp(w, p), (4 * d2 - d1) / 3, rtol=1e-8)
    # and minibatch hessp equals hessp of the subset
    sub = build(name, with_layout(X, layout)[:25], y[:25], sw=sw[:25], l2=0.3, fit_intercept=fi)
    assert close(obj.hessp(w, p, rows=slice(0, 25)), sub.hessp(w, p))


@pytest.mark.parametrize("method", ["Newton-CG", "trust-ncg", "trust-krylov"])
@pytest.mark.parametrize("name", ["LeastSquares", "Logistic"])
def test_scipy_second_order_methods(name, method):
    X, y, sw = make_data(n=200, d=5, kind=KIND[name], seed=17)
    obj = build(name, X, y, sw=sw, l2=0.05, fit_intercept=name == "Logistic")
    w0 = np.zeros(obj.n_params)
    ref = so.minimize(obj, w0, jac=True, method="L-BFGS-B", options={"gtol": 1e-12})
    res = so.minimize(obj, w0, jac=True, hessp=obj.hessp, method=method,
                      options={"gtol": 1e-10} if method != "Newton-CG" else {"xtol": 1e-12})
    assert np.linalg.norm(obj.grad(res.x)) < 1e-7
    assert close(res.x, ref.x, rtol=1e-5)


def test_softmax_minimize_and_hessp_absent():
    X, y, _ = make_data(n=120, d=3, kind="softmax", seed=18)
    obj = O.SoftmaxCrossEntropy(X, y, 3, l2=0.1)
    res = so.minimize(obj, np.zeros(9), jac=True, method="L-BFGS-B")
    assert res.success and np.linalg.norm(obj.grad(res.x)) < 1e-4
    assert not hasattr(obj, "hessp") and not hasattr(O.Huber(X, y), "hessp")


@given(n=st.integers(1, 30), d=st.integers(1, 9), f32=st.booleans(),
       layout=st.sampled_from(["C", "F", "CSR"]), name=st.sampled_from(NAMES),
       seed=st.integers(0, 2**31), scale=st.sampled_from([1e-3, 1.0, 50.0]))
def test_property_random_shapes(n, d, f32, layout, name, seed, scale):
    X, y, sw = make_data(n=n, d=d, kind=KIND[name], seed=seed,
                         dtype=np.float32 if f32 else np.float64)
    Xl = with_layout(X * scale, layout)
    fi = name == "Logistic" and seed % 2 == 0
    obj = build(name, Xl, y, sw=sw, l2=0.01, fit_intercept=fi)
    w = np.random.default_rng(seed + 1).standard_normal(obj.n_params)
    f, g = obj.value_and_grad(w)
    f_ref, g_ref = reference(name, Xl, y, w, sw=sw, l2=0.01, fit_intercept=fi)
    assert abs(f - f_ref) <= 1e-11 * max(abs(f_ref), 1e-300)
    assert close(g, g_ref, rtol=1e-11)


# ----------------------------------------------------------------- bad input

@pytest.mark.parametrize("name", NAMES)
def test_bad_input_messages(name):
    X, y, sw = make_data(n=10, d=3, kind=KIND[name])
    with pytest.raises(ValueError, match="y must have length"):
        build(name, X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        build(name, X, y, sw=sw[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        build(name, X, y, sw=-sw)
    Xn = X.copy()
    Xn[2, 1] = np.nan
    for bad in (Xn, np.asfortranarray(Xn), sp.csr_matrix(Xn)):
        with pytest.raises(ValueError, match="X must contain only finite"):
            build(name, bad, y)
    with pytest.raises(TypeError, match="X"):
        build(name, X.astype(str), y)
    with pytest.raises(TypeError, match="X"):
        build(name, X.astype(object), y)
    with pytest.raises(TypeError, match="y"):
        build(name, X, np.array(["a"] * 10))
    with pytest.raises(ValueError, match="X must be 2-dimensional"):
        build(name, X[:, 0], y)
    with pytest.raises(TypeError, match="l2"):
        build(name, X, y, l2="big")
    with pytest.raises(ValueError, match="l2"):
        build(name, X, y, l2=-1.0)
    obj = build(name, X, y)
    with pytest.raises(ValueError, match="w must have length"):
        obj.value_and_grad(np.zeros(obj.n_params + 1))
    with pytest.raises(ValueError, match="w must be 1-dimensional"):
        obj.value(np.zeros((1, obj.n_params)))
    with pytest.raises(TypeError, match="w"):
        obj.value(np.array(["x"] * obj.n_params))


def test_bad_labels():
    X, y, _ = make_data(n=10, d=3, kind="logistic")
    with pytest.raises(ValueError, match="y must hold labels 0 or 1"):
        O.Logistic(X, np.r_[y[:-1], 2.0])
    with pytest.raises(ValueError, match="y must hold labels 0 or 1"):
        O.Logistic(X, np.r_[y[:-1], -1])
    with pytest.raises(ValueError, match=r"y must hold integer labels in \[0, n_classes=3\)"):
        O.SoftmaxCrossEntropy(X, np.r_[np.zeros(9), 3], 3)
    with pytest.raises(ValueError, match=r"y must hold integer labels"):
        O.SoftmaxCrossEntropy(X, np.r_[np.zeros(9), 0.5], 3)
    with pytest.raises(ValueError, match=r"y must hold integer labels"):
        O.SoftmaxCrossEntropy(X, np.r_[np.zeros(9), -1], 3)
    with pytest.raises(ValueError, match="n_classes"):
        O.SoftmaxCrossEntropy(X, np.zeros(10), 1)
    with pytest.raises(TypeError, match="n_classes"):
        O.SoftmaxCrossEntropy(X, np.zeros(10), 2.5)
    with pytest.raises(ValueError, match="delta"):
        O.Huber(X, y, delta=0.0)


def test_bad_quadratic_and_rosenbrock():
    with pytest.raises(ValueError, match="symmetric"):
        O.Quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]), np.zeros(2))
    with pytest.raises(ValueError, match="square"):
        O.Quadratic(np.ones((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="b must have length"):
        O.Quadratic(np.eye(2), np.zeros(3))
    with pytest.raises(ValueError, match="A must contain only finite"):
        O.Quadratic(np.array([[np.nan, 0], [0, 1.0]]), np.zeros(2))
    with pytest.raises(ValueError, match="n must be >= 2"):
        O.Rosenbrock(1)
    with pytest.raises(TypeError, match="n must be an int"):
        O.Rosenbrock(2.0)
    with pytest.raises(ValueError, match="w must have length 3"):
        O.Rosenbrock(3).grad(np.zeros(2))
    with pytest.raises(ValueError, match="rows"):
        O.Rosenbrock(3).value(np.zeros(3), rows=slice(0, 1))


def test_concurrent_calls_on_one_objective_keep_their_rows():
    """The kernel runs without the GIL: two Python threads evaluating one objective
    on different minibatches at the same time each get their own rows' result
    (each call works on its own copy of the objective's call state)."""
    import threading
    rng = np.random.default_rng(21)
    n, d = 4000, 10
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    obj = O.LeastSquares(X, y)
    w = rng.standard_normal(d)
    # small batches, many calls: many windows where one thread's kernel runs
    # while the other sets up its call
    batches = [slice(0, 200), np.arange(n - 300, n, dtype=np.intp)]
    expected = [obj.value_and_grad(w, rows=b) for b in batches]
    bad = []

    def work(i):
        for _ in range(20000):
            f, g = obj.value_and_grad(w, rows=batches[i])
            if f != expected[i][0] or not np.array_equal(g, expected[i][1]):
                bad.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


def test_small_c_ordered_X_gets_an_aligned_column_copy():
    """Small C-ordered X with 2-16 features is also kept column-major (columns on
    64-byte boundaries; float64, float32 widened) for calls on all rows and
    contiguous slices; results agree with the row loops (index arrays) and numpy
    to rounding."""
    rng = np.random.default_rng(11)
    for dt in (np.float32, np.float64):
        for n, d in ((8, 2), (9, 3), (1000, 10), (1001, 16), (77, 5)):
            X = rng.standard_normal((n, d)).astype(dt)
            Xc = O._column_copy(X)
            assert np.array_equal(Xc, X) and Xc.dtype == np.float64 and Xc.strides[0] == 8
            assert Xc.ctypes.data % 64 == 0 and Xc.strides[1] % 64 == 0
            y = rng.standard_normal(n)
            w = rng.standard_normal(d)
            obj = O.LeastSquares(X, y, l2=0.1)
            assert obj._kernel_cols is not obj._kernel and obj.X is X
            f_ref, g_ref = ref_linear("squared", X, y, w, None, 0.1)
            f, g = obj.value_and_grad(w)
            assert abs(f - f_ref) <= 1e-12 * abs(f_ref) and close(g, g_ref)
            f2, g2 = obj.value_and_grad(w, rows=np.arange(n))   # the row loops
            assert abs(f - f2) <= 1e-13 * abs(f) and close(g, g2, 1e-13)
            f3, g3 = obj.value_and_grad(w, rows=slice(1, n - 1))
            f4, g4 = obj.value_and_grad(w, rows=np.arange(1, n - 1))
            assert abs(f3 - f4) <= 1e-13 * abs(f3) and close(g3, g4, 1e-13)
    # no copy: one feature, more than 16, fewer than 8 rows, more than 1 MiB, F order,
    # CSR, softmax
    for X in (np.ones((100, 1)), np.ones((100, 17)), np.ones((7, 4)),
              np.ones((2 ** 20 // 64 + 1, 8)), np.asfortranarray(np.ones((100, 4))),
              sp.csr_matrix(np.ones((100, 4)))):
        obj = O.LeastSquares(X, np.zeros(X.shape[0]))
        assert obj._kernel_cols is obj._kernel
    obj = O.SoftmaxCrossEntropy(np.ones((100, 4)), np.zeros(100, dtype=int), 3)
    assert getattr(obj, "_kernel_cols", obj._kernel) is obj._kernel
