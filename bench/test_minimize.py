"""gradkern.minimize: driver overhead, convergence on the MGH set, minibatch logistic target.

Run: python -m pytest bench/test_minimize.py --benchmark-columns=median,iqr,rounds -q
Each test also records (extra_info) the numbers derived from its median: driver
overhead per iteration, nit/nfev/final f; the last tests print summary tables.
"""
import os
import sys
import time

import numpy as np
import pytest
import scipy.optimize as so

from harness import QUICK, bench_case, sizes

import gradkern
from gradkern._report import format_table

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from _mgh import BY_NAME  # noqa: E402

_OVERHEAD_ROWS = []
_NOOP_ROWS = []
_CONVERGENCE_ROWS = []
_LOGISTIC_ROWS = []


def _median(benchmark):
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # --benchmark-disable
        return float("nan")
    return stats.stats.median


def _per_call(fn, x, reps=2000):
    """Seconds per call of fn(x): the best of 5 timings of ``reps`` calls."""
    best = np.inf
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(reps):
            fn(x)
        best = min(best, time.perf_counter() - t)
    return best / reps


# ------------------------------------------------------------------ driver overhead

def rosen_f(x):
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosen_g(x):
    g = np.zeros_like(x)
    d = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * d - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * d
    return g


OVERHEAD_N = sizes([10, 100], quick=[10])
OVERHEAD_IMPLS = ["gradkern", "gradkern-sgd", "gradkern-gd", "scipy-BFGS", "scipy-L-BFGS-B",
                  "scipy+gradkern-adam"]


def _overhead_run(impl, x0):
    if impl == "gradkern":  # adam: one fused step per iteration
        return lambda: gradkern.minimize(rosen_f, x0, method="adam", jac=rosen_g,
                                         options=dict(lr=1e-3, maxiter=2000, gtol=0.0))
    if impl == "gradkern-sgd":
        return lambda: gradkern.minimize(rosen_f, x0, method="sgd", jac=rosen_g,
                                         options=dict(lr=1e-4, maxiter=2000, gtol=0.0))
    if impl == "gradkern-gd":
        return lambda: gradkern.minimize(rosen_f, x0, method="gd", jac=rosen_g,
                                         options=dict(maxiter=2000, gtol=0.0))
    if impl == "scipy+gradkern-adam":
        meth = gradkern.scipy_method("adam", lr=1e-3, maxiter=2000, gtol=0.0)
        return lambda: so.minimize(rosen_f, x0, jac=rosen_g, method=meth)
    method = impl.split("-", 1)[1]
    return lambda: so.minimize(rosen_f, x0, jac=rosen_g, method=method,
                               options=dict(gtol=1e-12, maxiter=2000))


@pytest.mark.parametrize("n", OVERHEAD_N)
@pytest.mark.parametrize("impl", OVERHEAD_IMPLS)
def test_driver_overhead(benchmark, impl, n):
    """Whole runs on the extended Rosenbrock function; per-iteration overhead =
    (median run time - nfev * t(fun) - njev * t(jac)) / nit."""
    x0 = np.tile([-1.2, 1.0], n // 2)
    tf, tg = _per_call(rosen_f, x0), _per_call(rosen_g, x0)
    res = bench_case(benchmark, f"minimize overhead rosenbrock n={n}", impl,
                     _overhead_run(impl, x0))
    med = _median(benchmark)
    overhead = (med - res.nfev * tf - res.njev * tg) / max(res.nit, 1)
    benchmark.extra_info.update(nit=int(res.nit), nfev=int(res.nfev), njev=int(res.njev),
                                fun_us=tf * 1e6, jac_us=tg * 1e6,
                                overhead_per_iter_us=overhead * 1e6)
    _OVERHEAD_ROWS.append([n, impl, int(res.nit), int(res.nfev), int(res.njev), med * 1e3,
                           (tf + tg) * 1e6, overhead * 1e6])


# The driver alone: fun returns a constant (f, g) pair (jac=True), so the optimizer
# steps forever and a run of 2000 iterations times the driver's own work per
# iteration (one ~0.1 us Python call included, subtracted below). This is the
# number the <= 3 us target is about; the Rosenbrock group above subtracts a
# separately timed fun+jac, which is noisier on a loaded machine.
NOOP_IMPLS = ["gradkern", "gradkern-sgd", "gradkern-bounds", "scipy+gradkern-adam"]


def _noop_run(impl, x0):
    g0 = np.full(x0.shape[0], 1e-3)
    fg = lambda x: (1.0, g0)  # noqa: E731
    opts = dict(lr=1e-6, maxiter=2000, gtol=0.0)
    if impl == "gradkern":
        return fg, lambda: gradkern.minimize(fg, x0, method="adam", jac=True, options=opts)
    if impl == "gradkern-sgd":
        return fg, lambda: gradkern.minimize(fg, x0, method="sgd", jac=True, options=opts)
    if impl == "gradkern-bounds":
        bounds = [(-10.0, 10.0)] * x0.shape[0]
        return fg, lambda: gradkern.minimize(fg, x0, method="adam", jac=True, bounds=bounds,
                                             options=opts)
    meth = gradkern.scipy_method("adam", **opts)
    return fg, lambda: so.minimize(fg, x0, jac=True, method=meth)


@pytest.mark.parametrize("n", OVERHEAD_N)
@pytest.mark.parametrize("impl", NOOP_IMPLS)
def test_driver_overhead_noop(benchmark, impl, n):
    x0 = np.zeros(n)
    fg, run = _noop_run(impl, x0)
    t_call = _per_call(fg, x0)
    res = bench_case(benchmark, f"minimize driver only (constant f, g) n={n}", impl, run)
    med = _median(benchmark)
    overhead = (med - res.nfev * t_call) / max(res.nit, 1)
    benchmark.extra_info.update(nit=int(res.nit), nfev=int(res.nfev),
                                overhead_per_iter_us=overhead * 1e6)
    _NOOP_ROWS.append([n, impl, int(res.nit), int(res.nfev), med * 1e3, t_call * 1e6,
                       overhead * 1e6])


# ------------------------------------------------------------------ convergence table

# per-problem Adam learning rates (first-order methods need them); gd needs none
ADAM_LR = {"rosenbrock": 0.02, "freudenstein_roth": 0.05, "powell_badly_scaled": 0.01,
           "brown_badly_scaled": 1e4, "jennrich_sampson": 1e-3, "box3d": 0.05,
           "brown_dennis": 0.5, "linear_full_rank": 0.05}
# the problems where first-order methods finish within the budget (each case runs >= 5
# rounds: the whole file must stay within ~3 minutes); tests/test_minimize*.py cover the rest
CONV_PROBLEMS = (["rosenbrock", "beale", "helical_valley"] if QUICK else
                 ["rosenbrock", "freudenstein_roth", "beale", "jennrich_sampson",
                  "helical_valley", "bard", "gaussian", "wood", "kowalik_osborne",
                  "brown_dennis", "variably_dimensioned",
                  "trigonometric", "discrete_boundary", "broyden_tridiagonal",
                  "linear_full_rank"])
CONV_MAXITER = 5000
CONV_IMPLS = ["gradkern", "gradkern-adam", "scipy-BFGS", "scipy-L-BFGS-B"]


def _conv_run(impl, p):
    if impl == "gradkern":  # 'gd'
        lr = 1e-5 if p.name == "jennrich_sampson" else 1.0
        return lambda: gradkern.minimize(p.f, p.x0, method="gd", jac=p.grad,
                                         options=dict(lr=lr, maxiter=CONV_MAXITER, gtol=1e-8))
    if impl == "gradkern-adam":
        lr = ADAM_LR.get(p.name, 0.01)
        return lambda: gradkern.minimize(p.f, p.x0, method="adam", jac=p.grad,
                                         options=dict(lr=lr, maxiter=CONV_MAXITER, gtol=1e-8))
    method = impl.split("-", 1)[1]
    return lambda: so.minimize(p.f, p.x0, jac=p.grad, method=method,
                               options=dict(gtol=1e-8, maxiter=CONV_MAXITER))


@pytest.mark.parametrize("name", CONV_PROBLEMS)
@pytest.mark.parametrize("impl", CONV_IMPLS)
def test_convergence(benchmark, impl, name):
    p = BY_NAME[name]
    benchmark.extra_info["fstar"] = p.fstar
    res = bench_case(benchmark, f"minimize mgh {name}", impl, _conv_run(impl, p))
    benchmark.extra_info.update(nit=int(res.nit), nfev=int(res.nfev), fun=float(res.fun),
                                status=int(res.status))
    _CONVERGENCE_ROWS.append([name, impl, int(res.nit), int(res.nfev), float(res.fun),
                              p.fstar, int(res.status), _median(benchmark) * 1e3])


# ------------------------------------------------------------------ minibatch Adam target

# the demo's data, loss and settings: the numbers printed by the demo and measured here agree
from gradkern._demo_minimize import (  # noqa: E402
    LOGISTIC_L2, adam_minibatch_options, logistic_data, numpy_logistic,
)
ADAM_MB = adam_minibatch_options(QUICK)


@pytest.mark.parametrize("impl", ["gradkern", "scipy", "scipy+gradkern-objective"])
def test_logistic_minibatch_adam(benchmark, impl):
    n, d = (20000, 20) if QUICK else (100000, 50)
    X, y = logistic_data(n, d)
    from gradkern import objectives
    obj = objectives.Logistic(X, y, l2=LOGISTIC_L2)
    w0 = np.zeros(d)
    if impl == "gradkern":
        run = lambda: gradkern.minimize(obj, w0, method="adam", options=ADAM_MB)  # noqa: E731
    elif impl == "scipy":
        fg = numpy_logistic(X, y, LOGISTIC_L2)
        run = lambda: so.minimize(fg, w0, jac=True, method="L-BFGS-B")  # noqa: E731
    else:
        run = lambda: so.minimize(obj, w0, jac=True, method="L-BFGS-B")  # noqa: E731
    res = bench_case(benchmark, f"minimize logistic {n}x{d} float32", impl, run)
    ref = so.minimize(numpy_logistic(X, y, LOGISTIC_L2), w0, jac=True, method="L-BFGS-B")
    f_ref = obj.value(ref.x)
    f = obj.value(res.x)
    gap = (f - f_ref) / f_ref
    benchmark.extra_info.update(loss=f, lbfgsb_loss=f_ref, rel_gap=gap, nit=int(res.nit))
    _LOGISTIC_ROWS.append([impl, _median(benchmark) * 1e3, f, gap, int(res.nit)])


# ------------------------------------------------------------------ summaries

def test_zz_print_tables(capsys):
    with capsys.disabled():
        if _OVERHEAD_ROWS:
            print("\n\nDriver overhead per iteration (extended Rosenbrock, numpy fun/jac):")
            print(format_table(["n", "impl", "nit", "nfev", "njev", "run [ms]",
                                "fun+jac [us]", "overhead/iter [us]"], _OVERHEAD_ROWS,
                               markdown=True))
        if _NOOP_ROWS:
            print("\nDriver overhead per iteration, fun = constant (f, g) with jac=True "
                  "(the driver's own work: step, checks, best-point tracking):")
            print(format_table(["n", "impl", "nit", "nfev", "run [ms]", "fun call [us]",
                                "overhead/iter [us]"], _NOOP_ROWS, markdown=True))
        if _CONVERGENCE_ROWS:
            print("\nConvergence on the Moré-Garbow-Hillstrom set "
                  f"(gtol=1e-8, maxiter={CONV_MAXITER}; status 0 = converged):")
            print(format_table(["problem", "impl", "nit", "nfev", "final f", "f*", "status",
                                "time [ms]"], _CONVERGENCE_ROWS, markdown=True))
        if _LOGISTIC_ROWS:
            print("\nLogistic regression, minibatch Adam vs L-BFGS-B "
                  f"(Adam options {ADAM_MB}):")
            print(format_table(["impl", "time [ms]", "loss", "rel. gap to L-BFGS-B", "nit"],
                               _LOGISTIC_ROWS, markdown=True))
