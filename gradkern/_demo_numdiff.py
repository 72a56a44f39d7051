"""Demo of gradkern's finite differences (``python -m gradkern demo``): the gradient of
Rosenbrock by each objective kind beside scipy (and numdifftools when installed), then
the accuracy of every method on four functions with known gradients."""
import time

import numpy as np

from gradkern._report import format_table

__all__ = ["demo", "accuracy_cases", "accuracy_rows", "timing_rows", "max_rel_error"]


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def max_rel_error(J, true):
    """Normwise relative error ``max|J - true| / max|true|``."""
    J, true = np.asarray(J, dtype=float), np.asarray(true, dtype=float)
    return float(np.max(np.abs(J - true)) / np.max(np.abs(true)))


class _Counted:
    """``f`` that counts its evaluations (the number of points it was called at)."""

    def __init__(self, f):
        self.f = f
        self.n = 0

    def __call__(self, x, *args):
        self.n += 1
        return self.f(x, *args)


def _rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2, axis=0)


def _rosen_der(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def accuracy_cases(n=60):
    """``{name: (f, grad, x)}``: Rosenbrock, exp-sum over [-10, 10], a quadratic with
    curvatures 1e-4..1e4, and sum(sin(x)) at x ~ 1e5..1e7. All accept complex ``x``."""
    rng = np.random.default_rng(0)
    d = np.logspace(-4, 4, n)
    return {
        "Rosenbrock": (_rosen, _rosen_der, rng.uniform(-2, 2, n)),
        "exp-sum on [-10, 10]": (lambda x: np.sum(np.exp(x)), np.exp, np.linspace(-10, 10, n)),
        "quadratic, scales 1e-4..1e4": (lambda x: 0.5 * np.sum(d * x * x), lambda x: d * x,
                                        rng.uniform(-1, 1, n)),
        "sum(sin(x)), x ~ 1e5..1e7": (lambda x: np.sum(np.sin(x)), np.cos,
                                      np.logspace(5, 7, n)),
    }


def accuracy_rows(n=60, with_numdifftools=True):
    """Rows ``[function, implementation, max relative error, evaluations]``."""
    from scipy.optimize._numdiff import approx_derivative as sp_approx_derivative

    from gradkern.numdiff import approx_derivative

    try:
        import numdifftools as nd
    except ImportError:
        nd = None
    rows = []
    for name, (f, g, x) in accuracy_cases(n).items():
        true = g(x)
        impls = []
        for method in ["2-point", "3-point", "cs"]:
            impls.append((f"scipy {method}", lambda c, m=method: sp_approx_derivative(
                c, x, method=m)))
        for method in ["2-point", "3-point", "cs", "richardson"]:
            impls.append((f"gradkern {method}", lambda c, m=method: approx_derivative(
                c, x, method=m)))
        if nd is not None and with_numdifftools:
            impls.append(("numdifftools Gradient", lambda c: nd.Gradient(c)(x)))
        for label, run in impls:
            c = _Counted(f)
            J = run(c)
            rows.append([name, label, max_rel_error(J, true), c.n])
    return rows


def timing_rows(n=100, quick=False):
    """Rows ``[implementation, median ms, speedup vs scipy 2-point, max rel error,
    evaluations]`` for the gradient of Rosenbrock at ``n`` points."""
    from scipy import optimize
    from scipy.optimize._numdiff import approx_derivative as sp_approx_derivative

    from gradkern.numdiff import approx_derivative, rosen_lowlevel

    x = np.linspace(-1.2, 1.2, n)
    true = optimize.rosen_der(x)
    llc = rosen_lowlevel()
    rep = 3 if quick else 9
    cases = [
        ("scipy approx_derivative 2-point", lambda: sp_approx_derivative(
            optimize.rosen, x, method="2-point", full_output=True), rep),
        ("scipy approx_fprime", lambda: (optimize.approx_fprime(x, optimize.rosen),
                                         {"nfev": n + 1}), rep),
        ("gradkern 2-point, Python callable", lambda: approx_derivative(
            optimize.rosen, x, method="2-point", full_output=True), rep),
        ("gradkern 2-point, vectorized", lambda: approx_derivative(
            _rosen, x, method="2-point", vectorized=True, full_output=True), 3 * rep),
        ("gradkern 2-point, C (LowLevelCallable)", lambda: approx_derivative(
            llc, x, method="2-point", full_output=True), 10 * rep),
        ("scipy approx_derivative 3-point", lambda: sp_approx_derivative(
            optimize.rosen, x, method="3-point", full_output=True), rep),
        ("gradkern richardson, Python callable", lambda: approx_derivative(
            optimize.rosen, x, method="richardson", full_output=True), rep),
        ("gradkern richardson, vectorized", lambda: approx_derivative(
            _rosen, x, method="richardson", vectorized=True, full_output=True), 3 * rep),
        ("gradkern richardson, C (LowLevelCallable)", lambda: approx_derivative(
            llc, x, method="richardson", full_output=True), 10 * rep),
    ]
    try:
        import numdifftools as nd
    except ImportError:
        nd = None
    if nd is not None and not quick:
        def ndt():
            c = _Counted(optimize.rosen)
            return nd.Gradient(c)(x), {"nfev": c.n}
        cases.append(("numdifftools Gradient", ndt, 1))
    rows = []
    t_ref = None
    for label, fn, r in cases:
        J, info = fn()
        t = _median_time(fn, r)
        if t_ref is None:
            t_ref = t
        rows.append([label, t * 1e3, t_ref / t, max_rel_error(J, true), info["nfev"]])
    return rows


def demo(quick=False):
    """Print the timing table (Rosenbrock gradient, n=100) and the accuracy table.

    Examples
    --------
    >>> from gradkern._demo_numdiff import demo
    >>> demo(quick=True)        # doctest: +ELLIPSIS
    Finite-difference gradient of Rosenbrock, n=100 ...
    """
    n = 100
    print(f"Finite-difference gradient of Rosenbrock, n={n} (x = linspace(-1.2, 1.2)), "
          "medians on this machine:")
    print(format_table(["implementation", "median [ms]", "speedup vs scipy 2-point",
                        "max rel error", "evaluations"], timing_rows(n, quick)))
    print()
    print("Accuracy: max |J - exact| / max |exact| (n=60 points each)")
    rows = accuracy_rows(20 if quick else 60, with_numdifftools=not quick)
    print(format_table(["function", "implementation", "max rel error", "evaluations"], rows))
