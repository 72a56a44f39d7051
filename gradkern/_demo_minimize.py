"""Demo of gradkern.minimize: train a logistic regression with minibatch Adam, and
minimize Rosenbrock with every kind of ``jac``, beside numpy + scipy.

``python -m gradkern demo`` calls :func:`demo`; :func:`plot_convergence` draws
loss against iteration for ``python -m gradkern bench --plot``.
"""
import time

import numpy as np
import scipy.optimize as so

from gradkern._report import format_table

LOGISTIC_L2 = 1e-3
# minibatch Adam settings of the demo and the benchmark (bench/test_minimize.py)
ADAM_MINIBATCH = dict(lr=0.05, batch_size=2048, epochs=3, lr_schedule="linear", seed=0)
# the same on the quick (2e4 x 20) problem: smaller batches give it as many steps
ADAM_MINIBATCH_QUICK = dict(lr=0.05, batch_size=512, epochs=4, lr_schedule="linear", seed=0)


def adam_minibatch_options(quick):
    """Minibatch Adam options of the demo and the benchmark for the full or quick size."""
    return dict(ADAM_MINIBATCH_QUICK if quick else ADAM_MINIBATCH)


def logistic_data(n, d, seed=0, dtype=np.float32):
    """Generated binary classification data: X ~ N(0, 1), y ~ Bernoulli(sigmoid(X w*))."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    w_true = rng.standard_normal(d) / np.sqrt(d) * 3.0
    p = 1.0 / (1.0 + np.exp(-(X.astype(np.float64) @ w_true)))
    y = (rng.random(n) < p).astype(dtype)
    return X, y


def numpy_logistic(X, y, l2):
    """``w -> (loss, grad)`` of the L2-regularized mean log-loss in plain numpy
    (float32 BLAS on float32 X): what a scipy user would write."""
    n = X.shape[0]
    Xt = X.T

    def fg(w):
        z = X @ w.astype(X.dtype)
        loss = np.logaddexp(0.0, z).astype(np.float64).sum() - float(y @ z)
        r = (1.0 / (1.0 + np.exp(-z)) - y) / n
        g = (Xt @ r).astype(np.float64) + l2 * w
        return loss / n + 0.5 * l2 * float(w @ w), g
    return fg


def _timed(fn, repeat=3):
    """(result, best wall time in seconds) over ``repeat`` runs."""
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def _rosen(x):
    # no float(): complex-step differentiation ('cs') needs the imaginary part
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _rosen_grad(x):
    g = np.zeros_like(x)
    d = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * d - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * d
    return g


def demo(quick=False):
    """Run both problems end to end and print the comparison tables.

    Parameters
    ----------
    quick : bool
        Smaller data (2e4 x 20 instead of 1e5 x 50) and one timing run.

    Returns
    -------
    dict
        ``{'logistic': rows, 'rosenbrock': rows}``: the printed table rows.

    Examples
    --------
    >>> from gradkern._demo_minimize import demo
    >>> tables = demo(quick=True)  # doctest: +SKIP
    """
    import gradkern
    from gradkern import objectives

    repeat = 1 if quick else 3
    n, d = (20000, 20) if quick else (100000, 50)
    X, y = logistic_data(n, d)
    obj = objectives.Logistic(X, y, l2=LOGISTIC_L2)
    w0 = np.zeros(d)
    mb = adam_minibatch_options(quick)
    fg_np = numpy_logistic(X, y, LOGISTIC_L2)
    runs = [
        ("gradkern.minimize adam, minibatch", "gradkern Logistic",
         lambda: gradkern.minimize(obj, w0, method="adam", options=mb)),
        ("scipy L-BFGS-B", "numpy", lambda: so.minimize(fg_np, w0, jac=True, method="L-BFGS-B")),
        ("scipy L-BFGS-B", "gradkern Logistic",
         lambda: so.minimize(obj, w0, jac=True, method="L-BFGS-B")),
        ("scipy + gradkern.scipy_method('adam')", "gradkern Logistic",
         lambda: so.minimize(obj, w0, jac=True, method=gradkern.scipy_method("adam"),
                             options=mb)),
    ]
    results = [(label, grad, *_timed(fn, repeat)) for label, grad, fn in runs]
    f_ref = obj.value(results[1][2].x)
    rows = []
    for label, grad, res, t in results:
        f = obj.value(res.x)
        acc = float(np.mean((X @ res.x.astype(X.dtype) > 0) == (y > 0.5)))
        rows.append([label, grad, t * 1e3, f, (f - f_ref) / f_ref, acc, int(res.nit),
                     int(res.nfev)])
    print(f"Logistic regression, {n} x {d} float32, l2={LOGISTIC_L2} "
          f"(minibatch Adam: {mb})")
    print(format_table(["solver", "loss/grad", "time [ms]", "loss", "rel. gap to L-BFGS-B",
                        "accuracy", "nit", "nfev"], rows))

    # Rosenbrock (n=2, x0=(-1.2, 1)) with every kind of jac
    x0 = np.array([-1.2, 1.0])
    opts = dict(lr=0.02, maxiter=20000, gtol=1e-6)
    rosen_obj = objectives.Rosenbrock(2)
    ros = [
        ("gradkern adam", "objectives.Rosenbrock",
         lambda: gradkern.minimize(rosen_obj, x0, method="adam", options=opts)),
        ("gradkern adam", "numpy grad",
         lambda: gradkern.minimize(_rosen, x0, method="adam", jac=_rosen_grad, options=opts)),
    ]
    for jac in ("2-point", "3-point", "cs", "richardson"):
        ros.append(("gradkern adam", jac,
                    lambda jac=jac: gradkern.minimize(_rosen, x0, method="adam", jac=jac,
                                                      options=opts)))
    ros.append(("gradkern gd", "numpy grad",
                lambda: gradkern.minimize(_rosen, x0, method="gd", jac=_rosen_grad,
                                          options=dict(maxiter=50000, gtol=1e-6))))
    for jac in (_rosen_grad, "2-point", "3-point"):
        ros.append(("scipy BFGS", "numpy grad" if callable(jac) else jac,
                    lambda jac=jac: so.minimize(_rosen, x0, method="BFGS", jac=jac,
                                                options=dict(gtol=1e-6))))
    rows2 = []
    for label, grad, fn in ros:
        res, t = _timed(fn, 1)  # thousands of iterations each: one run is a stable time
        rows2.append([label, grad, t * 1e3, float(res.fun),
                      float(np.abs(res.x - 1.0).max()), int(res.nit), int(res.nfev),
                      int(res.status)])
    print("\nRosenbrock n=2 from (-1.2, 1), gtol=1e-6 (adam lr=0.02)")
    print(format_table(["solver", "jac", "time [ms]", "final f", "max|x - x*|", "nit", "nfev",
                        "status"], rows2))
    return {"logistic": rows, "rosenbrock": rows2}


def convergence_curves(quick=False):
    """Loss against iteration, recorded through ``callback``, for the methods of
    :func:`gradkern.minimize` and scipy's BFGS / L-BFGS-B on two problems.

    Returns
    -------
    dict
        ``{problem: {solver: array of f values}}``.
    """
    import gradkern
    from gradkern import objectives

    out = {}
    x0 = np.array([-1.2, 1.0])

    def record(into):
        def cb(intermediate_result):
            into.append(intermediate_result.fun)
        return cb

    curves = {}
    for name, method, opts in [("gd", "gd", dict(maxiter=5000)),
                               ("adam lr=0.02", "adam", dict(lr=0.02, maxiter=5000)),
                               ("rmsprop lr=0.002", "rmsprop", dict(lr=0.002, maxiter=5000)),
                               ("nadam lr=0.02", "nadam", dict(lr=0.02, maxiter=5000))]:
        fs = [_rosen(x0)]
        gradkern.minimize(_rosen, x0, method=method, jac=_rosen_grad, callback=record(fs),
                          options=dict(gtol=1e-8, **opts))
        curves["gradkern " + name] = np.array(fs)
    for method in ("BFGS", "L-BFGS-B"):
        fs = [_rosen(x0)]
        so.minimize(_rosen, x0, jac=_rosen_grad, method=method, callback=record(fs),
                    options=dict(gtol=1e-8))
        curves["scipy " + method] = np.array(fs)
    out["Rosenbrock n=2"] = curves

    n, d = (20000, 20) if quick else (100000, 50)
    X, y = logistic_data(n, d)
    obj = objectives.Logistic(X, y, l2=LOGISTIC_L2)
    w0 = np.zeros(d)
    curves = {}
    mb = adam_minibatch_options(quick)
    for name, method, opts in [("adam minibatch", "adam", mb),
                               ("sgd minibatch", "sgd", dict(mb, lr=0.1,
                                                             momentum=0.9))]:
        fs = [obj.value(w0)]
        gradkern.minimize(obj, w0, method=method,
                          callback=lambda xk, fs=fs: fs.append(obj.value(xk)), options=opts)
        curves[f"gradkern {name} (full loss)"] = np.array(fs)
    fs = [obj.value(w0)]
    so.minimize(obj, w0, jac=True, method="L-BFGS-B", callback=record(fs))
    curves["scipy L-BFGS-B"] = np.array(fs)
    out[f"Logistic {n}x{d} float32"] = curves
    return out


def plot_convergence(path, quick=False):
    """Save a PNG of :func:`convergence_curves` (needs matplotlib).

    Parameters
    ----------
    path : str
        Output file.
    quick : bool
        Smaller logistic problem.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = convergence_curves(quick)
    fig, axes = plt.subplots(1, len(data), figsize=(6 * len(data), 4.5))
    for ax, (problem, curves) in zip(np.atleast_1d(axes), data.items()):
        f_min = min(c.min() for c in curves.values())
        for label, fs in curves.items():
            gap = fs - f_min if problem.startswith("Logistic") else fs
            ax.semilogy(np.arange(len(fs)), np.maximum(gap, 1e-16), label=label)
        ax.set_title(problem)
        ax.set_xlabel("iteration")
        ax.set_ylabel("f - f_min" if problem.startswith("Logistic") else "f")
        ax.set_xscale("symlog", linthresh=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
