"""Demo of gradkern.objectives: fit an l2-regularized logistic regression with
scipy.optimize.minimize, once with gradkern's fused value-and-gradient kernel and
once with the idiomatic numpy/scipy objective, and compare time and accuracy."""
import time

import numpy as np

from gradkern._report import format_table


def _median_time(fn, repeat=7):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _numpy_logistic(X, y, l2):
    """The usual numpy objective: two BLAS passes over X plus temporaries."""
    from scipy.special import expit
    n, d = X.shape

    def fun(w):
        z = X @ w[:d] + w[d]
        f = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * (w[:d] @ w[:d])
        r = (expit(z) - y) / n
        g = np.empty(d + 1)
        g[:d] = X.T @ r + l2 * w[:d]
        g[d] = r.sum()
        return f, g
    return fun


def demo(quick=False):
    """Fit logistic regression on synthetic data with L-BFGS-B (scipy) using
    gradkern.objectives.Logistic vs a numpy objective; print a comparison table.

    Returns the table rows (for tests)."""
    from scipy.optimize import minimize

    from gradkern.objectives import Logistic

    n, d, l2 = (20_000, 32, 1e-3) if quick else (200_000, 32, 1e-3)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d) / np.sqrt(d) * 3.0
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ w_true + 0.5)))).astype(np.float64)

    ours = Logistic(X, y, l2=l2, fit_intercept=True)
    theirs = _numpy_logistic(X, y, l2)
    w0 = np.zeros(d + 1)
    wt = np.append(w_true, 0.5)

    rows, fits = [], {}
    for name, fun in [("numpy + scipy.special", theirs), ("gradkern Logistic", ours)]:
        t_call = _median_time(lambda: fun(wt))
        t0 = time.perf_counter()
        res = minimize(fun, w0, jac=True, method="L-BFGS-B",
                       options={"maxiter": 500, "gtol": 1e-10})
        t_fit = time.perf_counter() - t0
        fits[name] = res
        rows.append([name, t_call * 1e3, t_fit, res.nit, res.fun])
    # Newton-CG with the fused Hessian-vector product (no numpy twin needed)
    t0 = time.perf_counter()
    res_ncg = minimize(ours, w0, jac=True, hessp=ours.hessp, method="Newton-CG",
                       options={"xtol": 1e-10})
    rows.append(["gradkern Logistic, Newton-CG + hessp", float("nan"),
                 time.perf_counter() - t0, res_ncg.nit, res_ncg.fun])

    f_np, g_np = theirs(wt)
    f_gk, g_gk = ours(wt)
    err_g = float(np.max(np.abs(g_gk - g_np)) / np.max(np.abs(g_np)))
    w_np = fits["numpy + scipy.special"].x
    dw = float(np.max(np.abs(fits["gradkern Logistic"].x - w_np)))
    dw_ncg = float(np.max(np.abs(res_ncg.x - w_np)))
    t_np = rows[0][1]
    for r in rows:
        r.append(t_np / r[1] if r[1] == r[1] else float("nan"))

    print(f"Logistic regression, X {n} x {d} float64, l2={l2}, intercept "
          f"(scipy.optimize.minimize, jac=True)")
    print(format_table(["objective", "value_and_grad [ms]", "fit [s]", "iterations",
                        "final loss", "speedup per call"], rows))
    print(f"gradient at the true weights: max relative difference gradkern vs numpy "
          f"{err_g:.1e} (loss {abs(f_gk - f_np):.1e} apart)")
    print(f"fitted weights: max |w_gradkern - w_numpy| = {dw:.1e} (L-BFGS-B), "
          f"{dw_ncg:.1e} (Newton-CG)")
    return rows


if __name__ == "__main__":  # pragma: no cover
    demo(quick=True)
