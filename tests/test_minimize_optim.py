"""gradkern.minimize over the real gradkern.optim optimizers, the finite-difference
jac modes (gradkern.approx_derivative) and gradkern.objectives (full batch and
minibatch), through gradkern.minimize and scipy.optimize.minimize."""
import math
import warnings

import numpy as np
import pytest
import scipy.optimize as so

import gradkern
from gradkern import objectives, optim
from gradkern._minimize import minimize, scipy_method

from _mgh import BY_NAME

ENTRIES = ["gradkern", "scipy"]
OPTIM_METHODS = [m for m in gradkern.minimize_methods() if m != "gd"]
# a learning rate per method that solves the quadratic below in a few hundred steps
LR = {"sgd": 0.01, "lion": 0.003, "adagrad": 0.5, "rmsprop": 0.01}


def quad_f(x):
    return float(np.sum((np.arange(1, x.size + 1) * (x - 1.0)) ** 2))


def quad_g(x):
    return 2.0 * np.arange(1, x.size + 1.0) ** 2 * (x - 1.0)


class Counted:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *a):
        self.calls += 1
        return self.fn(*a)


def run(entry, fun, x0, method, **kw):
    if entry == "gradkern":
        return minimize(fun, x0, method=method, **kw)
    return so.minimize(fun, x0, method=scipy_method(method), **kw)


# ---------------------------------------------------------------- every gradkern.optim class

def test_registry_is_every_optim_class():
    expected = {n.lower() for n in optim.__all__ if isinstance(getattr(optim, n), type)
                and issubclass(getattr(optim, n), optim.Optimizer) and n != "Optimizer"}
    assert set(OPTIM_METHODS) == expected
    assert gradkern.minimize_methods()[0] == "gd"


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("method", OPTIM_METHODS)
def test_each_method_is_its_optim_class_step_by_step(entry, method):
    """The driver's iterate after k steps is exactly k calls of cls.step(grad(x))."""
    lr = LR.get(method, 0.05)
    x0 = np.array([3.0, -2.0, 0.5, 4.0])
    f, g = Counted(quad_f), Counted(quad_g)
    res = run(entry, f, x0, method, jac=g, options=dict(lr=lr, maxiter=37, gtol=0.0))
    cls = getattr(optim, {m.lower(): m for m in optim.__all__}[method])
    x = x0.copy()
    opt = cls(x, lr=lr)
    for _ in range(37):
        opt.step(quad_g(x))
    assert res.status == 1 and not res.success and res.nit == 37
    assert "Maximum number of iterations" in res.message
    assert (res.nfev, res.njev) == (f.calls, g.calls) == (38, 38)
    # not converged yet: the returned point is the best one evaluated
    assert res.fun <= quad_f(x) and res.fun == quad_f(res.x)
    # the last iterate equals the manual loop (monotone problems: the best is the last)
    if res.fun == quad_f(x):
        np.testing.assert_array_equal(res.x, x)


@pytest.mark.parametrize("method", OPTIM_METHODS)
def test_each_method_converges_on_a_quadratic(method):
    extra = {"weight_decay": 0.0} if method == "adamw" else {}
    if method == "lion":  # sign updates of size lr: decay lr to settle
        extra = dict(lr_schedule="cosine")
    res = minimize(quad_f, np.zeros(4), method=method, jac=quad_g,
                   options=dict(lr=LR.get(method, 0.05), maxiter=5000, gtol=1e-5, **extra))
    assert res.success and res.status == 0, res.message
    np.testing.assert_allclose(res.x, 1.0, atol=1e-5)
    assert np.max(np.abs(res.jac)) <= 1e-5 and res.nfev == res.njev == res.nit + 1


def test_hyperparameters_reach_the_optimizer_and_are_validated():
    a = minimize(quad_f, np.zeros(3), method="sgd", jac=quad_g,
                 options=dict(lr=0.01, momentum=0.9, nesterov=True, maxiter=20, gtol=0))
    b = minimize(quad_f, np.zeros(3), method="sgd", jac=quad_g,
                 options=dict(lr=0.01, maxiter=20, gtol=0))
    assert not np.array_equal(a.x, b.x)
    with pytest.raises(ValueError):
        minimize(quad_f, np.zeros(3), method="adam", jac=quad_g, options=dict(lr=-1.0))
    with pytest.raises(ValueError, match="maximize"):
        minimize(quad_f, np.zeros(3), method="sgd", jac=quad_g, options=dict(maximize=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(so.OptimizeWarning, match="Unknown solver options: momentum"):
            minimize(quad_f, np.zeros(3), method="adam", jac=quad_g, options=dict(momentum=0.9))


# Adam on Moré-Garbow-Hillstrom problems with per-problem learning rates:
# (problem, lr, maxiter, f*, absolute tolerance on f - f*, relative tolerance).
ADAM_CASES = [
    ("rosenbrock", 0.02, 6000, 0.0, 1e-12, 0),
    ("freudenstein_roth", 0.05, 3000, 48.98425367924, 1e-6, 0),  # MGH's local minimum
    ("beale", 0.01, 5000, 0.0, 1e-12, 0),
    ("jennrich_sampson", 1e-3, 8000, 124.362182, 1e-4, 0),
    ("gaussian", 0.01, 2000, 1.12793276961e-8, 0, 1e-5),
    ("kowalik_osborne", 0.01, 2000, 3.07505603849e-4, 0, 1e-5),
    ("brown_dennis", 0.5, 3000, 85822.2016263, 0, 1e-8),
    ("trigonometric", 0.01, 2000, 0.0, 1e-12, 0),
    ("discrete_boundary", 0.01, 4000, 0.0, 1e-12, 0),
    ("broyden_tridiagonal", 0.01, 2000, 0.0, 1e-14, 0),
    ("linear_full_rank", 0.05, 2000, 5.0, 1e-10, 0),
]


@pytest.mark.parametrize("name,lr,maxiter,fstar,atol,rtol", ADAM_CASES,
                         ids=[c[0] for c in ADAM_CASES])
def test_adam_converges_on_mgh(name, lr, maxiter, fstar, atol, rtol):
    p = BY_NAME[name]
    res = minimize(p.f, p.x0, method="adam", jac=p.grad,
                   options=dict(lr=lr, maxiter=maxiter, gtol=1e-8))
    assert res.fun - fstar <= atol + rtol * fstar, (name, res.fun, res.message)
    assert res.fun >= fstar - 1e-6 * max(1.0, fstar)
    assert res.fun == p.f(res.x) and res.nfev == res.njev


@pytest.mark.parametrize("entry", ENTRIES)
def test_optim_methods_with_bounds_callback_and_nonfinite(entry):
    # the unconstrained minimum (1, ..., 1) is outside the box: the answer is on the bounds
    bounds = [(-1.0, 0.5), (None, 0.25), (2.0, 3.0)]
    res = run(entry, quad_f, np.zeros(3), "adam", jac=quad_g, bounds=bounds,
              options=dict(lr=0.05, maxiter=3000, gtol=1e-6))
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [0.5, 0.25, 2.0], atol=1e-12)
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result.fun)
        if intermediate_result.nit == 5:
            raise StopIteration

    res = run(entry, quad_f, np.zeros(3), "rmsprop", jac=quad_g, callback=cb,
              options=dict(lr=0.01))
    assert res.status == 99 and not res.success and res.nit == 5 and len(seen) == 5
    assert res.message == "`callback` raised `StopIteration`."
    assert res.fun == min(seen + [quad_f(np.zeros(3))]) == quad_f(res.x)

    def f_nan(x):  # finite until x[0] passes 0.5
        return quad_f(x) if x[0] < 0.5 else math.nan
    res = run(entry, f_nan, np.zeros(3), "sgd", jac=quad_g, options=dict(lr=0.01))
    assert res.status == 3 and not res.success and "NaN" in res.message
    assert np.isfinite(res.fun) and res.x[0] < 0.5 and res.fun == quad_f(res.x)


def test_lr_schedule():
    x0 = np.array([3.0, -1.0])
    seen = []

    def sched(t):
        seen.append(t)
        return 0.1 / (1 + t)
    a = minimize(quad_f, x0, method="sgd", jac=quad_g,
                 options=dict(lr=0.1, maxiter=6, gtol=0, lr_schedule=sched))
    x = x0.copy()
    opt = optim.SGD(x, lr=0.1)
    for t in range(6):
        opt.lr = 0.1 / (1 + t)
        opt.step(quad_g(x))
    assert seen == list(range(6))
    np.testing.assert_array_equal(a.x, x)
    lin = minimize(quad_f, x0, method="sgd", jac=quad_g,
                   options=dict(lr=0.1, maxiter=4, gtol=0, lr_schedule="linear"))
    x = x0.copy()
    opt = optim.SGD(x, lr=0.1)
    for t in range(4):
        opt.lr = 0.1 * (1 - t / 4)
        opt.step(quad_g(x))
    np.testing.assert_array_equal(lin.x, x)
    with pytest.raises(ValueError, match="lr_schedule"):
        minimize(quad_f, x0, method="sgd", jac=quad_g, options=dict(lr_schedule="step"))
    with pytest.raises(ValueError, match="lr_schedule"):
        minimize(quad_f, x0, method="sgd", jac=quad_g,
                 options=dict(lr_schedule=lambda t: math.nan))
    with pytest.raises(ValueError, match="lr_schedule"):
        minimize(quad_f, x0, method="gd", jac=quad_g, options=dict(lr_schedule="linear"))


# ---------------------------------------------------------------- finite-difference jac

FD_PROBLEMS = ["beale", "helical_valley", "gaussian", "trigonometric", "discrete_boundary",
               "broyden_tridiagonal", "variably_dimensioned", "brown_dennis"]


@pytest.mark.parametrize("name", FD_PROBLEMS)
def test_3point_matches_analytic_jac(name):
    p = BY_NAME[name]
    opts = dict(maxiter=5000, gtol=1e-8)
    exact = minimize(p.f, p.x0, method="gd", jac=p.grad, options=opts)
    f = Counted(p.f)
    fd = minimize(f, p.x0, method="gd", jac="3-point", options=opts)
    assert fd.nfev == f.calls and fd.njev >= fd.nit
    # a 3-point gradient costs 2n calls beyond f itself
    assert fd.nfev >= fd.njev * (2 * p.n + 1)
    scale = max(1.0, abs(exact.fun))
    assert abs(fd.fun - exact.fun) <= 1e-8 * scale, (fd.fun, exact.fun)
    if p.fstar == 0.0:
        assert fd.fun <= 1e-10 and exact.fun <= 1e-10
    else:
        np.testing.assert_allclose(fd.x, exact.x, rtol=1e-4, atol=1e-4)


def cs_f(x):  # complex-step safe: no float(), no abs()
    return np.sum((np.arange(1, x.size + 1) * (x - 1.0)) ** 2) + x[0] ** 4


def cs_g(x):
    g = 2.0 * np.arange(1, x.size + 1.0) ** 2 * (x - 1.0)
    g[0] += 4 * x[0] ** 3
    return g


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("jac", ["2-point", "3-point", "cs", "richardson", None])
def test_every_fd_mode_through_both_entries(entry, jac):
    x0 = np.array([2.0, -1.0, 0.0])
    exact = minimize(cs_f, x0, method="gd", jac=cs_g, options=dict(gtol=1e-7))
    f = Counted(cs_f)
    if entry == "gradkern":
        res = minimize(f, x0, method="gd", jac=jac, options=dict(gtol=1e-7))
    else:  # scipy hands custom methods jac=None for every string: an option selects it
        opts = dict(gtol=1e-7) if jac is None else dict(gtol=1e-7, finite_diff_method=jac)
        res = so.minimize(f, x0, method=scipy_method("gd"), jac=jac, options=opts)
        if jac is not None:  # or the method's default
            res2 = so.minimize(cs_f, x0, method=scipy_method("gd", jac=jac), jac=jac,
                               options=dict(gtol=1e-7))
            np.testing.assert_array_equal(res2.x, res.x)
    assert res.success, res.message
    assert res.nfev == f.calls
    tol = 1e-5 if jac in ("2-point", None) else 1e-8
    np.testing.assert_allclose(res.x, exact.x, atol=tol)
    per_grad = {"2-point": 3, None: 3, "3-point": 6, "cs": 3}.get(jac)
    if per_grad is not None:  # f at every iterate + n or 2n calls per gradient
        assert res.nfev >= res.njev * (per_grad + 1)


def test_fd_default_matches_scipy_2point_and_adam_with_fd():
    x0 = np.array([2.0, -1.0, 0.0])
    a = minimize(cs_f, x0, method="adam", jac=None, options=dict(lr=0.05, maxiter=50, gtol=0))
    b = minimize(cs_f, x0, method="adam", jac="2-point", options=dict(lr=0.05, maxiter=50, gtol=0))
    np.testing.assert_array_equal(a.x, b.x)
    # the gradient in the result is scipy's 2-point estimate at that point
    ref = so._numdiff.approx_derivative(cs_f, b.x, method="2-point")
    np.testing.assert_allclose(b.jac, ref, rtol=1e-6, atol=1e-6)
    assert b.nfev == 51 * 4 and b.njev == 51


@pytest.mark.parametrize("jac", ["2-point", "3-point", "richardson"])
def test_fd_steps_respect_bounds(jac):
    lb, ub = np.array([0.0, -1.0]), np.array([0.5, 0.2])

    def f(x):
        assert np.all(x >= lb) and np.all(x <= ub), f"evaluated outside the box: {x}"
        return float(np.sum((x - 1.0) ** 2))

    for bounds in (so.Bounds(lb, ub), list(zip(lb, ub))):
        res = minimize(f, [0.0, 0.2], method="gd", jac=jac, bounds=bounds,
                       options=dict(maxiter=200))
        np.testing.assert_allclose(res.x, [0.5, 0.2], atol=1e-9)
    res = so.minimize(f, [0.0, 0.2], method=scipy_method("adam", jac=jac), bounds=so.Bounds(lb, ub),
                      options=dict(lr=0.05, maxiter=300))
    np.testing.assert_allclose(res.x, [0.5, 0.2], atol=1e-9)


# ---------------------------------------------------------------- gradkern.objectives

def logistic_problem(n, d, dtype=np.float64, seed=0):
    from gradkern._demo_minimize import logistic_data
    X, y = logistic_data(n, d, seed=seed, dtype=dtype)
    return X, y, objectives.Logistic(X, y, l2=1e-3)


@pytest.mark.parametrize("entry", ENTRIES)
def test_objective_full_batch(entry):
    X, y, obj = logistic_problem(2000, 5)
    w0 = np.zeros(5)
    ref = so.minimize(obj, w0, jac=True, method="L-BFGS-B", options=dict(gtol=1e-10, ftol=0))
    kw = dict(jac=True) if entry == "scipy" else {}  # scipy wraps obj in MemoizeJac
    res = run(entry, obj, w0, "gd", options=dict(gtol=1e-8, maxiter=2000), **kw)
    assert res.success and res.nfev >= res.njev
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
    res = run(entry, obj, w0, "adam", options=dict(lr=0.05, gtol=1e-7, maxiter=5000), **kw)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, ref.x, atol=1e-5)
    assert res.nfev == res.njev == res.nit + 1
    f, g = obj.value_and_grad(res.x)
    assert res.fun == f and np.array_equal(res.jac, g)


def test_objective_rejects_args_and_fd_jac():
    X, y, obj = logistic_problem(100, 3)
    with pytest.raises(ValueError, match="args"):
        minimize(obj, np.zeros(3), args=(1,))
    with pytest.raises(ValueError, match="jac"):
        minimize(obj, np.zeros(3), jac="3-point")
    with pytest.raises(ValueError, match="objectives"):
        minimize(quad_f, np.zeros(3), jac=quad_g, options=dict(batch_size=10))
    with pytest.raises(ValueError, match="epochs"):
        minimize(obj, np.zeros(3), options=dict(batch_size=10, epochs=1, maxiter=5))
    with pytest.raises(ValueError, match="batch_size"):
        minimize(obj, np.zeros(3), options=dict(batch_size=0))


@pytest.mark.parametrize("entry", ENTRIES)
def test_minibatch_steps_are_fresh_shuffled_batches(entry):
    """Each step is obj.value_and_grad on the next slice of a per-epoch permutation."""
    n, d, bs = 1000, 4, 300
    X, y, obj = logistic_problem(n, d)
    w0 = np.zeros(d)
    kw = dict(jac=True) if entry == "scipy" else {}
    res = run(entry, obj, w0, "adam", options=dict(lr=0.1, batch_size=bs, epochs=3, seed=7),
              **kw)
    assert res.nit == 3 * 4  # ceil(1000 / 300) = 4 steps per epoch, the last one smaller
    assert res.nfev == res.njev == res.nit + 1  # + the full-data f and g at the end
    assert res.status == 0 and res.success and "minibatch" in res.message
    rng = np.random.default_rng(7)
    perm = np.arange(n, dtype=np.intp)
    w = w0.copy()
    opt = optim.Adam(w, lr=0.1)
    for _ in range(3):
        rng.shuffle(perm)
        for start in range(0, n, bs):
            _, g = obj.value_and_grad(w, rows=perm[start:start + bs])
            opt.step(g)
    np.testing.assert_array_equal(res.x, w)
    f, g = obj.value_and_grad(w)
    assert res.fun == f and np.array_equal(res.jac, g)
    again = run(entry, obj, w0, "adam", options=dict(lr=0.1, batch_size=bs, epochs=3, seed=7),
                **kw)
    np.testing.assert_array_equal(again.x, res.x)
    other = minimize(obj, w0, method="adam", options=dict(lr=0.1, batch_size=bs, epochs=3,
                                                          seed=8))
    assert not np.array_equal(other.x, res.x)


def test_minibatch_without_shuffle_and_full_batch_size():
    n, d = 500, 3
    X, y, obj = logistic_problem(n, d)
    w0 = np.zeros(d)
    res = minimize(obj, w0, method="sgd", options=dict(lr=0.5, batch_size=200, shuffle=False,
                                                       maxiter=7))
    w = w0.copy()
    opt = optim.SGD(w, lr=0.5)
    starts = [0, 200, 400] * 3
    for s in starts[:7]:
        opt.step(obj.grad(w, rows=slice(s, s + 200)))
    assert res.nit == 7
    np.testing.assert_allclose(res.x, w, rtol=1e-13, atol=1e-15)
    # one batch of every sample, no shuffle: plain full-batch steps
    mb = minimize(obj, w0, method="adam", options=dict(lr=0.1, batch_size=n, shuffle=False,
                                                       maxiter=25))
    fb = minimize(obj, w0, method="adam", options=dict(lr=0.1, maxiter=25, gtol=0))
    np.testing.assert_allclose(mb.x, fb.x, rtol=1e-12, atol=1e-14)


def test_minibatch_callback_bounds_and_unknown_options():
    X, y, obj = logistic_problem(600, 3)
    xs = []

    def cb(xk):
        xs.append(xk)
        if len(xs) == 4:
            raise StopIteration
    res = minimize(obj, np.zeros(3), method="adam", bounds=[(-0.1, 0.1)] * 3, callback=cb,
                   options=dict(lr=0.2, batch_size=100, seed=0, epochs=5))
    assert res.status == 99 and res.nit == 4 and len(xs) == 4
    assert np.all(np.abs(np.array(xs)) <= 0.1)
    with pytest.warns(so.OptimizeWarning, match="Unknown solver options: bogus"):
        minimize(obj, np.zeros(3), method="adam", options=dict(batch_size=100, maxiter=2,
                                                                bogus=1))


def _sklearn_or_lbfgsb(X, y, l2):
    """Reference weights: scikit-learn's LogisticRegression when installed (same loss:
    C = 1 / (n l2), no intercept), else scipy L-BFGS-B on the numpy loss."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        from gradkern._demo_minimize import numpy_logistic
        return so.minimize(numpy_logistic(X, y, l2), np.zeros(X.shape[1]), jac=True,
                           method="L-BFGS-B").x
    clf = LogisticRegression(C=1.0 / (X.shape[0] * l2), fit_intercept=False, tol=1e-8,
                             max_iter=1000)
    return clf.fit(X.astype(np.float64), y).coef_.ravel()


def test_minibatch_adam_fits_logistic_like_lbfgsb():
    """2e4 x 20 float32: minibatch Adam (linear lr decay) reaches the reference loss
    within 1e-3 relative and the same training accuracy."""
    X, y, obj = logistic_problem(20000, 20, dtype=np.float32)
    w_ref = _sklearn_or_lbfgsb(X, y, 1e-3)
    f_ref = obj.value(w_ref)
    res = minimize(obj, np.zeros(20), method="adam",
                   options=dict(lr=0.05, batch_size=512, epochs=4, lr_schedule="linear", seed=0))
    assert res.nit == 4 * 40
    gap = (res.fun - f_ref) / f_ref
    assert -1e-6 < gap <= 1e-3, gap  # the reference is the minimum: Adam cannot beat it
    acc = np.mean((X @ res.x > 0) == (y > 0.5))
    acc_ref = np.mean((X @ w_ref > 0) == (y > 0.5))
    assert abs(acc - acc_ref) <= 2e-3, (acc, acc_ref)
    # and far from the start: the test can fail
    assert obj.value(np.zeros(20)) - f_ref > 0.1


# ---------------------------------------------------------------- properties

from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

_finite = st.floats(-5.0, 5.0, allow_nan=False)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), n=st.integers(1, 6), entry=st.sampled_from(ENTRIES),
       bounds_form=st.sampled_from(["pairs", "Bounds"]))
def test_separable_quadratic_in_a_box_is_the_clipped_minimum(data, n, entry, bounds_form):
    """f = sum w_i (x_i - c_i)^2 in a box: the minimizer is clip(c, lb, ub); every
    iterate a callback sees is inside the box."""
    c = data.draw(hnp.arrays(np.float64, n, elements=_finite))
    w = data.draw(hnp.arrays(np.float64, n, elements=st.floats(0.1, 10.0)))
    lo = data.draw(hnp.arrays(np.float64, n, elements=_finite))
    width = data.draw(hnp.arrays(np.float64, n, elements=st.floats(0.0, 4.0)))
    open_lo = data.draw(hnp.arrays(np.bool_, n))
    hi = lo + width
    x0 = data.draw(hnp.arrays(np.float64, n, elements=_finite))
    lb = np.where(open_lo, -np.inf, lo)
    if bounds_form == "pairs":
        bounds = [(None if ol else a, b) for ol, a, b in zip(open_lo, lo, hi)]
    else:
        bounds = so.Bounds(lb, hi)
    inside = []

    def cb(xk):
        inside.append(bool(np.all(xk >= lb) and np.all(xk <= hi)))

    res = run(entry, lambda x: float(np.sum(w * (x - c) ** 2)), x0, "gd",
              jac=lambda x: 2 * w * (x - c), bounds=bounds, callback=cb,
              options=dict(gtol=1e-10, maxiter=5000))
    # 0: converged; 2: f stopped decreasing in floating point before |pg| <= 1e-10
    # (f ~ 1e-2 and a step worth ~1e-19: scipy's BFGS says "precision loss" there too)
    assert res.status in (0, 2), res.message
    xstar = np.clip(c, lb, hi)
    fstar = float(np.sum(w * (xstar - c) ** 2))
    # a backtracking test on f resolves w * dx^2 down to ~eps * f: dx ~ sqrt(eps f / w)
    atol = 1e-9 + 8 * np.sqrt(n * np.finfo(float).eps * (1 + fstar) / w.min())
    np.testing.assert_allclose(res.x, xstar, rtol=0, atol=atol)
    # the same resolution in f: w dx^2 <= 16 eps (1 + f*) per variable
    assert res.fun - fstar <= 16 * n * np.finfo(float).eps * (1 + fstar)
    assert all(inside) and len(inside) == res.nit
    assert np.all(res.x >= lb) and np.all(res.x <= hi)


@settings(max_examples=20, deadline=None)
@given(method=st.sampled_from(OPTIM_METHODS), n_bad=st.integers(1, 30),
       bad=st.sampled_from([math.nan, math.inf, -math.inf]), where=st.sampled_from(["f", "g"]))
def test_nonfinite_stops_with_the_last_finite_point(method, n_bad, bad, where):
    """Whenever f or g turns non-finite, status 3 and the best finite point so far."""
    calls = []

    def fg(x):
        calls.append(x.copy())
        f, g = quad_f(x), quad_g(x)
        if len(calls) > n_bad:
            if where == "f":
                f = bad
            else:
                g = g.copy()
                g[-1] = bad
        return f, g

    res = minimize(fg, np.zeros(3), method=method, jac=True,
                   options=dict(lr=1e-3, maxiter=100, gtol=0))
    assert res.status == 3 and not res.success and "NaN" in res.message
    assert res.nfev == res.njev == len(calls) == n_bad + 1 and res.nit == n_bad
    finite_fs = [quad_f(x) for x in calls[:n_bad]]
    assert res.fun == min(finite_fs) and np.all(np.isfinite(res.jac))
    assert any(np.array_equal(res.x, x) for x in calls[:n_bad])


def test_n_threads_hyperparameter_gives_the_same_iterates():
    x0 = np.linspace(-1, 1, 3000)
    f = lambda x: float(np.sum(x ** 2))  # noqa: E731
    g = lambda x: 2 * x  # noqa: E731
    a = minimize(f, x0, method="adam", jac=g, options=dict(lr=0.01, maxiter=30, n_threads=1))
    b = minimize(f, x0, method="adam", jac=g, options=dict(lr=0.01, maxiter=30, n_threads=2))
    np.testing.assert_array_equal(a.x, b.x)
