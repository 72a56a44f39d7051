"""``python -m gradkern demo`` section for :mod:`gradkern.optim`.

1. One Adam step on a large parameter vector: gradkern's fused pass against the
   fastest plain-numpy step (in-place ufuncs with ``out=``), same result.
2. A real problem end to end: logistic regression trained with every
   gradkern optimizer (full-batch numpy gradients), against scipy's L-BFGS-B
   optimum of the same loss.
"""
import time

import numpy as np

from gradkern._report import format_table


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


class _NumpyAdam:
    """torch.optim.Adam's update in numpy, in place, one scratch array."""

    def __init__(self, p, lr, betas=(0.9, 0.999), eps=1e-8):
        self.p, self.lr, self.betas, self.eps, self.t = p, lr, betas, eps, 0
        self.m, self.v, self.tmp = np.zeros_like(p), np.zeros_like(p), np.empty_like(p)

    def step(self, g):
        (b1, b2), m, v, tmp = self.betas, self.m, self.v, self.tmp
        self.t += 1
        bc1, bc2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        np.subtract(g, m, out=tmp)
        tmp *= 1 - b1
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp /= bc2 ** 0.5
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= -self.lr / bc1
        self.p += tmp


def demo_step(quick=False):
    from gradkern.optim import Adam

    n = 10**5 if quick else 10**6
    steps = 10 if quick else 20
    rng = np.random.default_rng(0)
    rows = []
    for dtype in (np.float32, np.float64):
        p0 = rng.standard_normal(n).astype(dtype)
        grads = [rng.standard_normal(n).astype(dtype) for _ in range(steps)]
        pg, pn = p0.copy(), p0.copy()
        gk, ref = Adam(pg, lr=1e-2), _NumpyAdam(pn, lr=1e-2)
        it_gk, it_np = iter(grads), iter(grads)
        t_gk = _median_time(lambda: gk.step(next(it_gk)), steps)
        t_np = _median_time(lambda: ref.step(next(it_np)), steps)
        err = float(np.max(np.abs(pg - pn)) / np.max(np.abs(p0)))
        name = np.dtype(dtype).name
        rows.append([f"numpy Adam (out=, {name})", t_np * 1e3, 1.0, "reference"])
        rows.append([f"gradkern Adam ({name})", t_gk * 1e3, t_np / t_gk, f"{err:.1e}"])
    print(f"One Adam step, n={n:.0e} parameters ({steps} steps, median)")
    print(format_table(["implementation", "median [ms]", "speedup vs numpy",
                        "max |diff| / max |p|"], rows))


def _logistic_problem(n_samples, n_features, rng):
    X = rng.standard_normal((n_samples, n_features))
    w_true = rng.standard_normal(n_features)
    y = (X @ w_true + 0.5 * rng.standard_normal(n_samples) > 0).astype(float)
    l2 = 1e-2

    def loss_grad(w):
        z = X @ w
        loss = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * (w @ w)
        s = 0.5 * (1.0 + np.tanh(0.5 * z))          # sigmoid, overflow-free
        grad = X.T @ (s - y) / n_samples + l2 * w
        return loss, grad
    return loss_grad


def demo_training(quick=False):
    from scipy.optimize import minimize

    from gradkern import optim

    rng = np.random.default_rng(1)
    loss_grad = _logistic_problem(2000 if quick else 3000, 50, rng)
    n_steps = 300 if quick else 600
    w0 = np.zeros(50)

    t0 = time.perf_counter()
    res = minimize(loss_grad, w0, jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15})
    t_lbfgs = time.perf_counter() - t0
    f_star = float(res.fun)
    rows = [["scipy L-BFGS-B", res.nit, t_lbfgs * 1e3, f"{f_star:.8f}", "0 (reference)"]]
    configs = [("SGD", dict(lr=0.5, momentum=0.9)), ("Adam", dict(lr=0.05)),
               ("AdamW", dict(lr=0.05, weight_decay=0.0)), ("RMSprop", dict(lr=0.01)),
               ("Adagrad", dict(lr=0.5)), ("Adamax", dict(lr=0.05)),
               ("NAdam", dict(lr=0.05)), ("RAdam", dict(lr=0.05)), ("Lion", dict(lr=0.002))]
    for name, hp in configs:
        w = w0.copy()
        opt = getattr(optim, name)(w, **hp)
        t0 = time.perf_counter()
        for _ in range(n_steps):
            _, g = loss_grad(w)
            opt.step(g)
        elapsed = time.perf_counter() - t0
        f = float(loss_grad(w)[0])
        rows.append([f"gradkern.optim.{name}", n_steps, elapsed * 1e3, f"{f:.8f}",
                     f"{f - f_star:.1e}"])
    w = w0.copy()
    ref = _NumpyAdam(w, lr=0.05)
    t0 = time.perf_counter()
    for _ in range(n_steps):
        ref.step(loss_grad(w)[1])
    elapsed = time.perf_counter() - t0
    f = float(loss_grad(w)[0])
    rows.insert(3, ["numpy Adam (out=)", n_steps, elapsed * 1e3, f"{f:.8f}", f"{f - f_star:.1e}"])
    print("Logistic regression (50 features), full-batch gradients: final loss vs L-BFGS-B")
    print(format_table(["optimizer", "iterations", "time [ms]", "final loss",
                        "loss - optimum"], rows))


def demo(quick=False):
    """Run the optim demo and print its tables (a few seconds; less with ``quick``).

    Examples
    --------
    >>> from gradkern._demo_optim import demo
    >>> demo(quick=True)  # doctest: +SKIP
    """
    demo_step(quick)
    print()
    demo_training(quick)


if __name__ == "__main__":  # pragma: no cover
    demo()
