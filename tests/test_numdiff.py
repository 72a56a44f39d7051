"""gradkern.numdiff against scipy 1.17's own results, known gradients and itself."""
import pickle
import traceback
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import approx_fprime as sp_approx_fprime
from scipy.optimize import check_grad as sp_check_grad
from scipy.optimize import rosen, rosen_der, rosen_hess
from scipy.optimize._numdiff import approx_derivative as sp_approx_derivative
from scipy.optimize._numdiff import group_columns as sp_group_columns
from scipy.sparse import csr_array, csr_matrix, random_array

import gradkern
from gradkern import numdiff
from gradkern.numdiff import approx_derivative, group_columns


# ----------------------------------------------------------------------------
# test functions (module level: picklable for process pools)
# ----------------------------------------------------------------------------

def f_scalar(x):
    return np.sum(np.sin(x) * np.exp(0.3 * x)) + x[0] ** 3


def g_scalar(x):
    g = np.cos(x) * np.exp(0.3 * x) + 0.3 * np.sin(x) * np.exp(0.3 * x)
    g[0] += 3 * x[0] ** 2
    return g


def f_vector(x, a=1.0, *, b=2.0):
    return np.array([a * x[0] * np.sin(x[-1]), np.sum(x ** 2) * b, np.prod(np.cos(x))])


def f_args(x, c0, c1):
    return c0 * x[0] ** 2 + c1 * np.sum(x[1:] ** 2)


def f_broad(x):
    """A function whose Jacobian has a banded structure (for sparsity)."""
    out = x ** 2
    out[1:] += x[:-1] * 3
    out[:-1] += np.sin(x[1:])
    return out


def expsum(x):
    return np.sum(np.exp(x))


def sinsum(x):
    return np.sum(np.sin(x))


SCIPY_FUNCS = [
    (f_scalar, (), {}),
    (f_vector, (1.5,), {"b": 0.5}),
    (f_args, (2.0, 3.0), {}),
    (rosen, (), {}),
]


# ----------------------------------------------------------------------------
# scipy's behaviour reproduced
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["2-point", "3-point"])
@pytest.mark.parametrize("fun,args,kwargs", SCIPY_FUNCS)
@pytest.mark.parametrize("bounded", [False, True])
def test_matches_scipy_float64(fun, args, kwargs, method, bounded):
    rng = np.random.default_rng(1)
    x0 = rng.uniform(-1, 1, 6)
    bounds = (-np.inf, np.inf)
    if bounded:
        # some coordinates sit on or near a bound -> one-sided schemes
        lb = x0 - np.array([0.0, 1e-9, 1.0, 5e-6, 0.0, 2.0])
        ub = x0 + np.array([1.0, 0.0, 1e-9, 3.0, 1e-3, 1e-7])
        bounds = (lb, ub)
    ours, info = approx_derivative(fun, x0, method=method, bounds=bounds, args=args,
                                   kwargs=kwargs, full_output=True)
    ref, rinfo = sp_approx_derivative(fun, x0, method=method, bounds=bounds, args=args,
                                      kwargs=kwargs, full_output=True)
    assert ours.shape == ref.shape
    assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    assert info["nfev"] == rinfo["nfev"]


@pytest.mark.parametrize("method", ["2-point", "3-point"])
@pytest.mark.parametrize("rel_step,abs_step", [(None, None), (1e-5, None), (None, 1e-4),
                                               (np.array([1e-6, 0.0, 1e-3]), None),
                                               (None, 1e-300)])
def test_step_rules_match_scipy(method, rel_step, abs_step):
    x0 = np.array([0.0, 25.0, -7.0])
    ours = approx_derivative(f_scalar, x0, method=method, rel_step=rel_step, abs_step=abs_step)
    ref = sp_approx_derivative(f_scalar, x0, method=method, rel_step=rel_step,
                               abs_step=abs_step)
    assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


def test_f0_given_and_left_right_derivatives():
    # scipy's docstring example: left and right derivative at a kink
    def g(x):
        return x ** 2 if x >= 1 else x

    for bounds in [(-np.inf, 1.0), (1.0, np.inf)]:
        assert_allclose(approx_derivative(g, 1.0, method="2-point", bounds=bounds),
                        sp_approx_derivative(g, 1.0, method="2-point", bounds=bounds))
    x0 = np.array([0.3, -0.2])
    J, info = approx_derivative(f_scalar, x0, f0=f_scalar(x0), full_output=True)
    assert info["nfev"] == 4
    assert_allclose(J, sp_approx_derivative(f_scalar, x0, f0=f_scalar(x0)), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float16])
def test_dtypes(dtype):
    x0 = np.array([1, 2, -3]).astype(dtype)
    J = approx_derivative(f_scalar, x0, method="3-point")
    assert J.dtype == np.float64
    tol = 2e-3 if dtype in (np.float32, np.float16) else 1e-8
    assert_allclose(J, g_scalar(x0.astype(np.float64)), rtol=tol, atol=tol)
    if dtype is np.float32:
        seen = []
        approx_derivative(lambda x: seen.append(x.dtype) or float(np.sum(x)), x0)
        assert set(seen) == {np.dtype(np.float32)}   # fun sees x0's dtype, as in scipy


def test_shapes_like_scipy():
    assert approx_derivative(f_scalar, 0.5).shape == (1,)
    assert approx_derivative(lambda x: np.array([x[0], 2 * x[0]]), 0.5).shape == (2, 1)
    assert approx_derivative(f_vector, np.ones(4)).shape == (3, 4)
    J = approx_derivative(f_vector, np.ones(4))
    assert_allclose(J, sp_approx_derivative(f_vector, np.ones(4)), rtol=1e-12)


def test_complex_step_is_exact():
    x0 = np.linspace(-2, 3, 7)
    J = approx_derivative(f_scalar, x0, method="cs")
    assert_allclose(J, g_scalar(x0), rtol=2e-15, atol=1e-15)
    Jv = approx_derivative(f_vector, x0, method="cs")
    assert_allclose(Jv, sp_approx_derivative(f_vector, x0, method="cs"), rtol=1e-7)
    # large |x|: scipy's sqrt(eps)*|x| complex step loses digits, ours does not
    x = np.logspace(5, 7, 20)
    err = np.max(np.abs(approx_derivative(sinsum, x, method="cs") - np.cos(x)))
    assert err < 1e-14


def test_sparsity_matches_scipy():
    n = 12
    x0 = np.linspace(0.1, 1.2, n)
    A = np.zeros((n, n), dtype=int)
    for i in range(n):
        A[i, max(0, i - 1):i + 2] = 1
    for method in ["2-point", "3-point", "cs"]:
        for sparsity, cls in [(A, csr_array), (csr_matrix(A), csr_matrix),
                              ((A, group_columns(A)), csr_array)]:
            ours, info = approx_derivative(f_broad, x0, method=method, sparsity=sparsity,
                                           full_output=True)
            ref, rinfo = sp_approx_derivative(f_broad, x0, method=method, sparsity=sparsity,
                                              full_output=True)
            assert type(ours) is cls
            assert_allclose(ours.toarray(), ref.toarray(), rtol=1e-7, atol=1e-9)
            assert info["nfev"] == rinfo["nfev"]
    bounds = (x0 - 1e-9, x0 + 1.0)
    ours = approx_derivative(f_broad, x0, sparsity=A, bounds=bounds)
    ref = sp_approx_derivative(f_broad, x0, sparsity=A, bounds=bounds)
    assert_allclose(ours.toarray(), ref.toarray(), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_columns_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    A = (rng.random((30, 25)) < 0.1).astype(float)
    assert_array_equal(group_columns(A), sp_group_columns(A))
    assert_array_equal(group_columns(A, order=seed + 3), sp_group_columns(A, order=seed + 3))
    S = random_array((40, 35), density=0.08, rng=seed, format="csr")
    assert_array_equal(group_columns(S), sp_group_columns(S))
    order = rng.permutation(35)
    assert_array_equal(group_columns(S, order), sp_group_columns(S, order))


def test_linear_operator_like_scipy():
    x0 = np.linspace(0.1, 1.0, 5)
    p = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    for method in ["2-point", "3-point", "cs"]:
        ours = approx_derivative(f_broad, x0, method=method, as_linear_operator=True)
        ref = sp_approx_derivative(f_broad, x0, method=method, as_linear_operator=True)
        assert ours.shape == ref.shape == (5, 5)
        assert_allclose(ours.matvec(p), ref.matvec(p), rtol=1e-5, atol=1e-6)
        assert_allclose(ours.matvec(np.zeros(5)), np.zeros(5))
    with pytest.raises(ValueError, match="Bounds not supported"):
        approx_derivative(f_broad, x0, as_linear_operator=True, bounds=(0, 2))


def test_approx_fprime_and_check_grad_like_scipy():
    x = np.array([1.0, 1.0])
    assert_allclose(gradkern.approx_fprime(x, f_args, 1e-8, 1, 200),
                    sp_approx_fprime(x, f_args, 1e-8, 1, 200), rtol=1e-14)
    assert_allclose(gradkern.approx_fprime(x, f_vector), sp_approx_fprime(x, f_vector))
    x0 = np.array([0.3, -1.2, 2.0])
    assert gradkern.check_grad(f_scalar, g_scalar, x0) == sp_check_grad(f_scalar, g_scalar, x0)
    ours = gradkern.check_grad(f_scalar, g_scalar, x0, direction="random",
                               rng=np.random.default_rng(5))
    ref = sp_check_grad(f_scalar, g_scalar, x0, direction="random",
                        rng=np.random.default_rng(5))
    assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
    wrong = gradkern.check_grad(f_scalar, lambda x: g_scalar(x) + 1, x0)
    assert wrong > 1.0
    with pytest.raises(ValueError, match="not a valid string"):
        gradkern.check_grad(f_scalar, g_scalar, x0, direction="up")
    with pytest.raises(ValueError, match="'random' can only be used"):
        gradkern.check_grad(f_vector, lambda x: np.ones((3, 3)), x0, direction="random")


# ----------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------

def test_errors():
    x0 = np.ones(3)
    with pytest.raises(ValueError, match="Unknown method"):
        approx_derivative(f_scalar, x0, method="4-point")
    with pytest.raises(ValueError, match="at most 1 dimension"):
        approx_derivative(f_scalar, np.ones((2, 2)))
    with pytest.raises(ValueError, match="Inconsistent shapes"):
        approx_derivative(f_scalar, x0, bounds=(np.zeros(2), 5))
    with pytest.raises(ValueError, match="violates bound"):
        approx_derivative(f_scalar, x0, bounds=(2, 5))
    with pytest.raises(ValueError, match="Inconsistent bounds.*index 1"):
        approx_derivative(f_scalar, x0, bounds=([0, 3, 0], [2, 2, 2]))
    with pytest.raises(ValueError, match="finite"):
        approx_derivative(f_scalar, [1.0, np.nan])
    with pytest.raises(ValueError, match="finite"):
        approx_derivative(f_scalar, [1.0, np.inf])
    with pytest.raises(TypeError, match="x0"):
        approx_derivative(f_scalar, np.ones(2) + 1j)
    with pytest.raises(TypeError, match="callable"):
        approx_derivative("f", x0)
    with pytest.raises(RuntimeError, match="more than 1 dimension"):
        approx_derivative(lambda x: np.ones((2, 2)), x0)
    calls = []

    def changing(x):
        calls.append(1)
        return 1.0 if len(calls) == 1 else np.ones(2)

    with pytest.raises(ValueError, match="returned 2 values where 1 were expected"):
        approx_derivative(changing, x0)
    with pytest.raises(ValueError, match="more than 1 dimension"):
        approx_derivative(f_scalar, x0, f0=np.ones((1, 1)))
    with pytest.raises(ValueError, match="scalar"):
        gradkern.gradient(f_vector, x0)
    with pytest.raises(ValueError, match="richardson"):
        approx_derivative(f_broad, x0, method="richardson", as_linear_operator=True)


def test_exception_from_fun_keeps_traceback():
    def boom(x):
        if x[1] != 1.0:
            raise ZeroDivisionError("inside the user's function")
        return 0.0

    for kw in [{}, {"method": "2-point"}, {"vectorized": False, "method": "richardson"}]:
        with pytest.raises(ZeroDivisionError, match="inside the user's function") as ei:
            approx_derivative(boom, np.ones(3), **kw)
        names = [fr.name for fr in traceback.extract_tb(ei.value.__traceback__)]
        assert "boom" in names


def test_fun_never_sees_its_x_change():
    kept = []

    def keeper(x):
        kept.append((x, x.copy()))
        return np.sum(x ** 2)

    x0 = np.array([1.0, -2.0, 3.0])
    x0_before = x0.copy()
    for method in ["2-point", "3-point", "richardson", "cs"]:
        kept.clear()
        approx_derivative(keeper, x0, method=method)
        ids = {id(a) for a, _ in kept}
        assert len(ids) == len(kept)                   # a fresh array every call
        for a, snapshot in kept:
            assert_array_equal(a, snapshot)            # never modified afterwards
    assert_array_equal(x0, x0_before)


def test_interrupt_from_inside_fun_stops_the_loop():
    calls = []

    def interrupted(x):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return 0.0

    with pytest.raises(KeyboardInterrupt):
        approx_derivative(interrupted, np.ones(1000))
    assert len(calls) == 5


# ----------------------------------------------------------------------------
# accuracy on known gradients, richardson
# ----------------------------------------------------------------------------

def _accuracy_cases(n=60):
    rng = np.random.default_rng(0)
    d = np.logspace(-4, 4, n)
    return {
        "rosenbrock": (rosen, rosen_der, rng.uniform(-2, 2, n)),
        "expsum": (expsum, np.exp, np.linspace(-10, 10, n)),
        "quadratic": (lambda x: 0.5 * np.sum(d * x * x), lambda x: d * x, rng.uniform(-1, 1, n)),
        "sine_large_x": (sinsum, np.cos, np.logspace(5, 7, n)),
    }


@pytest.mark.parametrize("case", ["rosenbrock", "expsum", "quadratic", "sine_large_x"])
def test_richardson_accuracy_and_cost(case):
    f, g, x = _accuracy_cases()[case]
    J, info = approx_derivative(f, x, method="richardson", full_output=True)
    true = g(x)
    err = np.abs(J - true)
    assert np.max(err) / np.max(np.abs(true)) <= 1e-10
    assert info["nfev"] == 3 * x.size + 1
    assert np.all(err <= info["error_estimate"])      # the estimate bounds the error
    try:
        import numdifftools as nd
    except ImportError:
        nd = None
    if nd is not None:      # at most 1/10 of numdifftools' evaluations beyond f(x0)
        count = []
        nd.Gradient(lambda x: count.append(1) or f(x))(x)
        assert info["nfev"] - 1 <= (len(count) - 1) / 10
    if case == "sine_large_x":                         # scipy's 3-point: no correct digit
        ref = sp_approx_derivative(f, x, method="3-point")
        assert np.max(np.abs(ref - true)) > 0.1


def test_richardson_stencil_flips_to_the_side_with_room():
    h = np.finfo(float).eps ** 0.25
    x0 = np.array([1 - 1.5 * h, 1.5 * h, 0.5, 1 - 0.5 * h])
    seen = []
    J, info = approx_derivative(lambda x: seen.append(x.copy()) or expsum(x), x0,
                                method="richardson", bounds=(0, 1), full_output=True)
    seen = np.array(seen)
    assert seen.min() >= 0 and seen.max() <= 1
    assert np.max(np.abs(J - np.exp(x0))) / np.exp(1) <= 1e-10
    assert np.all(np.abs(J - np.exp(x0)) <= info["error_estimate"])
    # coordinate 0 uses x0 + {h, -h, -2h}: it moves below x0 twice, above once
    moved = seen[1:, 0] - x0[0]
    assert np.sum(moved < 0) == 2 and np.sum(moved > 0) == 1


def test_richardson_near_bounds_one_sided():
    x0 = np.array([0.0, 1.0, 0.5])
    J, info = approx_derivative(expsum, x0, method="richardson", bounds=(0, 1),
                                full_output=True)
    assert_allclose(J, np.exp(x0), rtol=1e-9)
    assert np.all(np.abs(J - np.exp(x0)) <= info["error_estimate"])
    seen = []
    approx_derivative(lambda x: seen.append(x.copy()) or expsum(x), x0,
                      method="richardson", bounds=(0, 1))
    seen = np.array(seen)
    assert seen.min() >= 0 and seen.max() <= 1


def test_gradient_jacobian_hessian():
    x = np.array([0.5, -1.0, 2.0, 0.1])
    assert_allclose(gradkern.gradient(rosen, x, method="richardson"), rosen_der(x), rtol=1e-10)
    assert_allclose(gradkern.gradient(rosen, x, step=1e-6), rosen_der(x), rtol=1e-6)
    J = gradkern.jacobian(f_scalar, x)
    assert J.shape == (1, 4)
    assert gradkern.jacobian(f_vector, x, method="cs").shape == (3, 4)
    for method in ["3-point", "2-point"]:
        H = gradkern.hessian(rosen, x, method=method)
        assert_array_equal(H, H.T)
        tol = 1e-5 if method == "3-point" else 1e-3
        assert_allclose(H, rosen_hess(x), rtol=tol, atol=tol * 100)
    Hg = gradkern.hessian(None, x, grad=rosen_der, method="richardson")
    assert_array_equal(Hg, Hg.T)
    assert_allclose(Hg, rosen_hess(x), rtol=1e-9, atol=1e-8)
    with pytest.raises(ValueError, match="'3-point' or '2-point'"):
        gradkern.hessian(rosen, x, method="cs")


# ----------------------------------------------------------------------------
# vectorized and workers: the same answers
# ----------------------------------------------------------------------------

def rosen_cols(X):
    return rosen(X)          # scipy's rosen accepts (n, k)


@pytest.mark.parametrize("method", ["2-point", "3-point", "cs", "richardson"])
def test_vectorized_same_answers(method, monkeypatch):
    x = np.linspace(-1, 2, 30)
    ref, rinfo = approx_derivative(rosen, x, method=method, full_output=True)
    monkeypatch.setattr(numdiff, "VECTORIZED_CHUNK_BYTES", 8 * 30 * 7)   # chunks of 7 points
    calls = []

    def counted(X):
        calls.append(X.shape)
        assert X.shape[0] == 30
        return rosen_cols(X)

    J, info = approx_derivative(counted, x, method=method, vectorized=True, full_output=True)
    # rosen sums in another order on (n, k): forward differences see ulp(f) / h
    assert_allclose(J, ref, rtol=1e-6, atol=1e-3 if method == "2-point" else 1e-6)
    assert info["nfev"] == rinfo["nfev"]
    assert max(s[1] for s in calls) <= 7 and len(calls) > 1
    # vector-valued vectorized function
    Jv = approx_derivative(lambda X: np.stack([X[0] * X[1], np.sum(X ** 2, axis=0)]),
                           x[:4], method=method, vectorized=True)
    assert_allclose(Jv, approx_derivative(lambda x: np.array([x[0] * x[1], np.sum(x ** 2)]),
                                          x[:4], method=method), rtol=1e-6, atol=1e-8)


def test_vectorized_bad_shape():
    with pytest.raises(ValueError, match="vectorized=True"):
        approx_derivative(lambda X: np.ones((3, 3, 3)), np.ones(3), vectorized=True)


class CountingMap:
    """A map-like that records how many tasks it was given."""

    def __init__(self):
        self.tasks = 0

    def __call__(self, func, iterable):
        items = list(iterable)
        self.tasks += len(items)
        return [func(i) for i in items]


@pytest.mark.parametrize("method", ["2-point", "3-point", "cs", "richardson"])
def test_map_like_workers_identical(method):
    x = np.linspace(-1, 2, 50)
    ref, rinfo = approx_derivative(f_scalar, x, method=method, full_output=True)
    cm = CountingMap()
    J, info = approx_derivative(f_scalar, x, method=method, workers=cm, full_output=True)
    assert_array_equal(J, ref)
    assert info["nfev"] == rinfo["nfev"]
    assert 1 < cm.tasks < 50                     # chunks: many points per task
    with ThreadPoolExecutor(2) as ex:
        J2 = approx_derivative(f_vector, x, method=method, workers=ex.map)
    assert_array_equal(J2, approx_derivative(f_vector, x, method=method))
    Jv = approx_derivative(rosen_cols, x, method=method, vectorized=True, workers=cm)
    assert_array_equal(Jv, approx_derivative(rosen_cols, x, method=method, vectorized=True))


def test_process_pool_workers_identical():
    x = np.linspace(-1, 2, 40)
    ref, rinfo = approx_derivative(f_scalar, x, full_output=True)
    J, info = approx_derivative(f_scalar, x, workers=2, full_output=True)
    assert_array_equal(J, ref)
    assert info["nfev"] == rinfo["nfev"]
    sp = sp_approx_derivative(f_scalar, x, workers=map, full_output=True)
    assert info["nfev"] == sp[1]["nfev"]


def test_workers_errors():
    with pytest.raises(RuntimeError, match="Number of workers"):
        approx_derivative(f_scalar, np.ones(3), workers=0)

    def bad_map(func):
        return []

    with pytest.raises(TypeError, match="map-like callable"):
        approx_derivative(f_scalar, np.ones(3), workers=bad_map)


def test_objective_pickles():
    obj = numdiff._Objective("py", f_scalar, (), None, np.ones(3), 1, False)
    back = pickle.loads(pickle.dumps(obj))
    assert_array_equal(back(("p", np.array([0]), np.array([0.5]), None, None)),
                       obj(("p", np.array([0]), np.array([0.5]), None, None)))


def test_dask_local_cluster():
    distributed = pytest.importorskip("distributed")
    from gradkern.numdiff import DaskMap
    x = np.linspace(-1, 2, 20)
    ref, rinfo = approx_derivative(f_scalar, x, method="richardson", full_output=True)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        J, info = approx_derivative(f_scalar, x, method="richardson", workers=DaskMap(client),
                                    full_output=True)
    assert_array_equal(J, ref)
    assert info["nfev"] == rinfo["nfev"]


def test_demo_runs_and_reports_accuracy(capsys):
    from gradkern._demo_numdiff import accuracy_rows, demo
    demo(quick=True)
    out = capsys.readouterr().out
    assert "gradkern 2-point, C (LowLevelCallable)" in out and "richardson" in out
    rows = accuracy_rows(12, with_numdifftools=False)
    rich = [r for r in rows if r[1] == "gradkern richardson"]
    assert len(rich) == 4 and all(r[2] <= 1e-10 and r[3] == 3 * 12 + 1 for r in rich)
