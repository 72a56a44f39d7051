"""gradkern.minimize / gradkern.scipy_method: driver semantics, through both entry points."""
import math
import warnings

import numpy as np
import pytest
import scipy.optimize as so

import gradkern
import gradkern._minimize as gm_module
from gradkern._minimize import minimize, scipy_method

from _mgh import BY_NAME, PROBLEMS


def quad_f(x):
    return float(np.sum((np.arange(1, x.size + 1) * (x - 1.0)) ** 2))


def quad_g(x):
    w = np.arange(1, x.size + 1.0) ** 2
    return 2.0 * w * (x - 1.0)


def quad_fg(x):
    return quad_f(x), quad_g(x)


class Counted:
    """Wraps a function and counts its calls."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *a):
        self.calls += 1
        return self.fn(*a)


def run(entry, fun, x0, method="gd", **kw):
    """Run through gradkern.minimize or scipy.optimize.minimize(method=scipy_method(...))."""
    if entry == "gradkern":
        return minimize(fun, x0, method=method, **kw)
    return so.minimize(fun, x0, method=scipy_method(method), **kw)


ENTRIES = ["gradkern", "scipy"]


# ---------------------------------------------------------------- the problem set

def test_mgh_gradients_are_right():
    for p in PROBLEMS:
        x = p.x0 + 0.1 * np.arange(1, p.n + 1) / p.n
        # the residuals' Jacobian against central differences (f itself reaches 1e12
        # on the badly scaled problems: differencing f there loses every digit)
        J = p._J(x)
        fd = so._numdiff.approx_derivative(p._r, x, method="3-point")
        assert np.allclose(J, fd, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(J).max())), p.name
        g = p.grad(x)
        assert np.allclose(g, 2 * J.T @ p._r(x))
        f, g2 = p.fg(x)
        assert f == p.f(x) and np.array_equal(g, g2)


# Projected gradient descent with Armijo backtracking on the Moré-Garbow-Hillstrom set:
# (problem, options, target f*, absolute tolerance on f - f*, relative tolerance).
# Problems badly scaled by construction (Powell's, Brown's) are out of reach of plain
# gradient descent (condition ~1e10) and of Adam within these budgets: not asserted here.
# Adam on the problem set: test_minimize_optim.py.
GD_CASES = [
    ("rosenbrock", dict(maxiter=20000), 0.0, 1e-10, 0),
    # MGH document a local minimum 48.98425 where most descent methods stop from the
    # standard x0; 'gd' with Barzilai-Borwein trial steps jumps past it to the global 0
    ("freudenstein_roth", dict(maxiter=10000), 0.0, 1e-12, 0),
    ("beale", dict(maxiter=3000), 0.0, 1e-12, 0),
    ("jennrich_sampson", dict(maxiter=3000, lr=1e-5), 124.362182, 1e-4, 0),  # |g(x0)| ~ 1e5
    ("helical_valley", dict(maxiter=6000), 0.0, 1e-12, 0),
    ("bard", dict(maxiter=20000), 8.21487730657e-3, 0, 1e-6),
    ("gaussian", dict(maxiter=2000), 1.12793276961e-8, 0, 1e-5),
    ("box3d", dict(maxiter=20000), 0.0, 1e-12, 0),
    ("powell_singular", dict(maxiter=20000), 0.0, 1e-8, 0),
    ("wood", dict(maxiter=20000), 0.0, 1e-12, 0),
    ("kowalik_osborne", dict(maxiter=20000), 3.07505603849e-4, 0, 1e-5),
    ("brown_dennis", dict(maxiter=3000), 85822.2016263, 0, 1e-8),
    ("penalty1", dict(maxiter=20000), 2.24997849e-5, 0, 1e-5),
    ("variably_dimensioned", dict(maxiter=500), 0.0, 1e-14, 0),
    ("trigonometric", dict(maxiter=3000), 0.0, 1e-12, 0),
    ("discrete_boundary", dict(maxiter=5000), 0.0, 1e-12, 0),
    ("broyden_tridiagonal", dict(maxiter=500), 0.0, 1e-14, 0),
    ("linear_full_rank", dict(maxiter=100), 5.0, 1e-12, 0),
]


@pytest.mark.parametrize("name,opts,fstar,atol,rtol", GD_CASES, ids=[c[0] for c in GD_CASES])
def test_gd_converges_on_mgh(name, opts, fstar, atol, rtol):
    p = BY_NAME[name]
    f_calls, g_calls = Counted(p.f), Counted(p.grad)
    res = minimize(f_calls, p.x0, method="gd", jac=g_calls, options=dict(gtol=1e-9, **opts))
    assert res.fun - fstar <= atol + rtol * fstar, (name, res.fun, res.message)
    assert res.fun >= fstar - 1e-6 * max(1.0, fstar)  # the documented minimum is a floor
    assert res.fun == p.f(res.x) and np.allclose(res.jac, p.grad(res.x))
    assert (res.nfev, res.njev) == (f_calls.calls, g_calls.calls)
    assert res.status in (0, 1, 2) and res.success == (res.status == 0)
    if p.xstar is not None and fstar == 0.0 and name not in ("powell_singular", "box3d"):
        assert np.allclose(res.x, p.xstar, atol=1e-3)


def test_gd_through_scipy_matches_gradkern_and_scipy_bfgs():
    p = BY_NAME["wood"]
    ours = so.minimize(p.f, p.x0, jac=p.grad, method=scipy_method("gd"),
                       options=dict(maxiter=20000, gtol=1e-8))
    direct = minimize(p.f, p.x0, jac=p.grad, method="gd", options=dict(maxiter=20000, gtol=1e-8))
    bfgs = so.minimize(p.f, p.x0, jac=p.grad, method="BFGS", options=dict(gtol=1e-8))
    assert isinstance(ours, so.OptimizeResult)
    for k in ("x", "fun", "jac", "nit", "nfev", "njev", "status", "message", "success"):
        assert np.all(ours[k] == direct[k]), k
    assert ours.success and np.allclose(ours.x, bfgs.x, atol=1e-6)


# ---------------------------------------------------------------- jac forms and counts

@pytest.mark.parametrize("entry", ENTRIES)
def test_jac_true_one_call_per_iteration(entry):
    fg = Counted(quad_fg)
    res = run(entry, fg, np.zeros(5), jac=True, options=dict(maxiter=500))
    assert res.success and np.allclose(res.x, 1.0, atol=1e-6)
    assert res.nfev == res.njev == fg.calls
    split = run(entry, quad_f, np.zeros(5), jac=quad_g, options=dict(maxiter=500))
    assert np.array_equal(split.x, res.x) and split.nit == res.nit


def test_result_fields_and_types():
    res = minimize(quad_f, [0, 0, 0], method="gd", jac=quad_g)
    assert set("x fun jac nit nfev njev success status message".split()) <= set(res)
    assert res.x.dtype == np.float64 and res.x.shape == (3,) and res.jac.shape == (3,)
    assert isinstance(res.fun, float) and isinstance(res.nit, int)
    assert res.status == 0 and res.message == "Optimization terminated successfully."
    assert np.abs(res.jac).max() <= 1e-5


def test_maxiter_status_and_message():
    p = BY_NAME["rosenbrock"]
    res = minimize(p.f, p.x0, method="gd", jac=p.grad, options=dict(maxiter=7))
    assert res.nit == 7 and res.status == 1 and not res.success
    assert res.message == "Maximum number of iterations has been exceeded."
    res0 = minimize(p.f, p.x0, method="gd", jac=p.grad, options=dict(maxiter=0))
    assert res0.nit == 0 and np.array_equal(res0.x, p.x0) and res0.nfev == 1


def test_tol_sets_gtol_both_entries():
    p = BY_NAME["wood"]
    kw = dict(method="gd", jac=p.grad, options=dict(maxiter=20000))
    loose = minimize(p.f, p.x0, tol=1e-2, **kw)
    tight = minimize(p.f, p.x0, tol=1e-8, **kw)
    assert np.abs(loose.jac).max() <= 1e-2 and np.abs(tight.jac).max() <= 1e-8
    assert loose.success and tight.success and loose.nit < tight.nit
    via = so.minimize(p.f, p.x0, jac=p.grad, method=scipy_method("gd"), tol=1e-2,
                      options=dict(maxiter=20000))
    assert via.nit == loose.nit


def test_ftol_and_xtol_stop():
    p = BY_NAME["rosenbrock"]
    r_f = minimize(p.f, p.x0, method="gd", jac=p.grad, options=dict(ftol=1e-6, gtol=0))
    assert r_f.status == 0 and "ftol" in r_f.message and r_f.nit < 20000
    r_x = minimize(quad_f, np.zeros(3), method="gd", jac=quad_g, options=dict(xtol=1e-8, gtol=0))
    assert r_x.status == 0 and "xtol" in r_x.message and np.allclose(r_x.x, 1.0, atol=1e-7)


def test_disp_prints(capsys):
    minimize(quad_f, np.zeros(2), method="gd", jac=quad_g, options=dict(disp=True))
    out = capsys.readouterr().out
    assert "Optimization terminated successfully." in out and "Iterations:" in out


# ---------------------------------------------------------------- bounds

BOUND_FORMS = [
    [(None, 0.5), (-1.0, None), (2.0, 3.0)],
    so.Bounds([-np.inf, -1.0, 2.0], [0.5, np.inf, 3.0]),
]


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("bounds", BOUND_FORMS, ids=["pairs", "Bounds"])
def test_bounds_projection(entry, bounds):
    seen = []

    def f(x):
        seen.append(x.copy())
        return quad_f(x)

    res = run(entry, f, np.array([5.0, -5.0, 0.0]), jac=quad_g, bounds=bounds)
    assert res.success
    assert np.allclose(res.x, [0.5, 1.0, 2.0], atol=1e-7)
    seen = np.array(seen)
    assert (seen[:, 0] <= 0.5).all() and (seen[:, 1] >= -1).all()
    assert ((seen[:, 2] >= 2) & (seen[:, 2] <= 3)).all()
    lb = so.minimize(quad_f, np.array([5.0, -5.0, 0.0]), jac=quad_g, method="L-BFGS-B",
                     bounds=bounds)
    assert np.allclose(res.x, lb.x, atol=1e-6)


def test_bounds_scalar_Bounds_and_all_infinite():
    res = minimize(quad_f, np.zeros(3), method="gd", jac=quad_g, bounds=so.Bounds(-0.5, 0.25))
    assert np.allclose(res.x, 0.25)
    free = minimize(quad_f, np.zeros(3), method="gd", jac=quad_g, bounds=[(None, None)] * 3)
    assert np.allclose(free.x, 1.0, atol=1e-6)


@pytest.mark.parametrize("bounds,exc,match", [
    ([(0, 1)], ValueError, "one \\(min, max\\) pair per variable"),
    ([(0, 1), (2, 1)], ValueError, "lower bound 2.0 > upper bound 1.0"),
    ([(0, 1), (0, "a")], TypeError, "bounds\\[1\\]"),
    ([(0, 1), 3], ValueError, "bounds\\[1\\] must be a \\(min, max\\) pair"),
    (so.Bounds([0, 0, 0], [1, 1, 1]), ValueError, "length 2"),
    (5, TypeError, "bounds must be None"),
    ([(0, np.nan), (0, 1)], ValueError, "NaN"),
])
def test_bad_bounds(bounds, exc, match):
    with pytest.raises(exc, match=match):
        minimize(quad_f, np.zeros(2), method="gd", jac=quad_g, bounds=bounds)


# ---------------------------------------------------------------- callbacks

@pytest.mark.parametrize("entry", ENTRIES)
def test_callback_both_forms(entry):
    xs, results = [], []

    def cb_x(xk):
        xs.append(xk)

    def cb_res(intermediate_result):
        results.append(intermediate_result)

    r1 = run(entry, quad_f, np.zeros(3), jac=quad_g, callback=cb_x)
    r2 = run(entry, quad_f, np.zeros(3), jac=quad_g, callback=cb_res)
    assert len(xs) == r1.nit == len(results) == r2.nit > 0
    assert np.array_equal(xs[-1], r1.x)
    assert results[-1].fun == r2.fun and np.array_equal(results[-1].x, r2.x)
    assert all(isinstance(r, so.OptimizeResult) for r in results)
    assert [r.nit for r in results] == list(range(1, r2.nit + 1))
    xs[0][:] = 123.0  # callers get copies
    assert not np.any(r1.x == 123.0)


@pytest.mark.parametrize("entry", ENTRIES)
def test_callback_stopiteration(entry):
    p = BY_NAME["rosenbrock"]
    fs = []

    def cb(intermediate_result):
        fs.append(intermediate_result.fun)
        if len(fs) == 5:
            raise StopIteration

    res = run(entry, p.f, p.x0, jac=p.grad, callback=cb)
    assert res.status == 99 and not res.success
    assert res.message == "`callback` raised `StopIteration`."
    assert res.nit == 5 and res.fun == min(fs) and res.fun == p.f(res.x)


# ---------------------------------------------------------------- non-finite values

@pytest.mark.parametrize("entry", ENTRIES)
def test_nonfinite_gradient_stops_with_last_finite_point(entry):
    def f(x):
        return quad_f(x)

    def g(x):
        if x[0] > 0.5:
            return np.array([np.nan, 0.0])
        return quad_g(x)

    res = run(entry, f, np.zeros(2), jac=g)
    assert res.status == 3 and not res.success and "NaN result encountered" in res.message
    assert np.all(np.isfinite(res.x)) and res.x[0] <= 0.5
    assert res.fun == f(res.x) and np.array_equal(res.jac, g(res.x))


def test_nonfinite_at_x0():
    res = minimize(lambda x: np.inf, np.ones(2), method="gd", jac=lambda x: np.ones(2))
    assert res.status == 3 and res.nit == 0 and np.array_equal(res.x, np.ones(2))


def test_gd_backtracks_past_infinite_values():
    # f is +inf beyond x > 2: trial steps there are rejected, not fatal
    def f(x):
        return np.inf if x[0] > 2 else float((x[0] - 1.9) ** 2)

    res = minimize(f, [0.0], method="gd", jac=lambda x: 2 * (x - 1.9), options=dict(lr=100.0))
    assert res.success and abs(res.x[0] - 1.9) < 1e-5  # gtol 1e-5 = 2 |x - 1.9|


def test_gd_line_search_failure_status():
    # the gradient is wrong (points uphill): no step decreases f
    res = minimize(quad_f, np.zeros(2), method="gd", jac=lambda x: -quad_g(x))
    assert res.status == 2 and res.message.startswith("Desired error not necessarily")
    assert res.nit == 0 and np.array_equal(res.x, np.zeros(2))


# ---------------------------------------------------------------- options and errors

@pytest.mark.parametrize("entry", ENTRIES)
def test_unknown_options_warn_like_scipy(entry):
    with pytest.warns(so.OptimizeWarning, match="Unknown solver options: bogus, other"):
        res = run(entry, quad_f, np.zeros(2), jac=quad_g, options=dict(bogus=1, other=2))
    assert res.success
    # scipy's own methods do the same
    with pytest.warns(so.OptimizeWarning, match="Unknown solver options: bogus"):
        so.minimize(quad_f, np.zeros(2), jac=quad_g, method="BFGS", options=dict(bogus=1))


def test_unknown_option_warning_points_at_caller():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        minimize(quad_f, np.zeros(2), method="gd", jac=quad_g, options=dict(bogus=1))
        so.minimize(quad_f, np.zeros(2), jac=quad_g, method=scipy_method("gd"),
                    options=dict(bogus=1))
    assert [w.filename for w in rec] == [__file__, __file__]


def test_scipy_method_defaults_and_override():
    meth = scipy_method("gd", maxiter=3)
    assert so.minimize(quad_f, np.zeros(2), jac=quad_g, method=meth).nit == 3
    assert so.minimize(quad_f, np.zeros(2), jac=quad_g, method=meth,
                       options=dict(maxiter=5)).nit == 5
    assert meth.__name__ == "gradkern_gd"


def test_scipy_method_warns_for_hess_and_constraints():
    with pytest.warns(RuntimeWarning, match="Hessian"):
        so.minimize(quad_f, np.zeros(2), jac=quad_g, hess=lambda x: np.eye(2),
                    method=scipy_method("gd"))
    with pytest.warns(RuntimeWarning, match="constraints"):
        so.minimize(quad_f, np.zeros(2), jac=quad_g, method=scipy_method("gd"),
                    constraints=[{"type": "eq", "fun": lambda x: x[0]}])


@pytest.mark.parametrize("kw,exc,match", [
    (dict(method="nope"), ValueError, "method must be one of"),
    (dict(method=3), TypeError, "method must be a str"),
    (dict(jac="4-point"), ValueError, "jac must be callable"),
    (dict(options=dict(maxiter=-1)), ValueError, "maxiter"),
    (dict(options=dict(maxiter=1.5)), TypeError, "maxiter"),
    (dict(options=dict(gtol=-1.0)), ValueError, "gtol"),
    (dict(options=dict(gtol="a")), TypeError, "gtol"),
    (dict(options=dict(lr=0.0)), ValueError, "lr > 0"),
    (dict(options=dict(shrink=1.5)), ValueError, "shrink"),
    (dict(options=dict(batch_size=10)), ValueError, "gradkern.objectives"),
    (dict(options=[1]), TypeError, "options must be a dict"),
    (dict(callback=3), TypeError, "callback must be callable"),
])
def test_bad_arguments(kw, exc, match):
    kw = dict(dict(method="gd", jac=quad_g), **kw)
    with pytest.raises(exc, match=match):
        minimize(quad_f, np.zeros(2), **kw)


@pytest.mark.parametrize("x0,exc,match", [
    (np.zeros((2, 2)), ValueError, "x0 must be 1-dimensional"),
    (["a", "b"], TypeError, "x0"),
    ([0.0, np.nan], ValueError, "x0 must contain only finite"),
    (np.zeros(0), ValueError, "x0 must have at least one element"),
])
def test_bad_x0(x0, exc, match):
    with pytest.raises(exc, match=match):
        minimize(quad_f, x0, method="gd", jac=quad_g)


def test_bad_fun_outputs():
    with pytest.raises(ValueError, match="gradient must be an array of shape \\(2,\\)"):
        minimize(quad_f, np.zeros(2), method="gd", jac=lambda x: np.ones(3))
    with pytest.raises(ValueError, match="fun must return a scalar"):
        minimize(lambda x: np.ones(2), np.zeros(2), method="gd", jac=quad_g)
    with pytest.raises(ValueError, match="jac=True, fun must return a pair"):
        minimize(quad_f, np.zeros(2), method="gd", jac=True)
    with pytest.raises(TypeError, match="fun must be callable"):
        minimize(3, np.zeros(2), method="gd", jac=quad_g)


def test_x0_dtypes_and_scalar_and_args():
    for x0 in (np.zeros(3, np.float32), np.zeros(3, np.int64), [0, 0, 0]):
        res = minimize(quad_f, x0, method="gd", jac=quad_g)
        assert res.x.dtype == np.float64 and np.allclose(res.x, 1.0, atol=1e-6)
    x0 = np.zeros(3)
    minimize(quad_f, x0, method="gd", jac=quad_g)
    assert np.array_equal(x0, np.zeros(3))  # x0 untouched
    res = minimize(lambda x, a, b: float(np.sum((x - a) ** 2)) + b, 0.0, args=(2.0, 1.0),
                   method="gd", jac=lambda x, a, b: 2 * (x - a))
    assert res.x.shape == (1,) and abs(res.x[0] - 2) < 1e-7 and abs(res.fun - 1) < 1e-12


def test_gradient_returned_as_list_or_float32():
    res = minimize(quad_f, np.zeros(2), method="gd", jac=lambda x: list(quad_g(x)))
    assert res.success and res.jac.dtype == np.float64
    res = minimize(quad_f, np.zeros(2), method="gd",
                   jac=lambda x: quad_g(x).astype(np.float32), options=dict(gtol=1e-4))
    assert res.success


def test_available_methods():
    names = gradkern.minimize_methods()
    assert names[0] == "gd" and len(set(names)) == len(names)
