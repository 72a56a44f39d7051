"""One optimizer step: gradkern.optim vs idiomatic numpy (``out=``, no temporaries
beyond one scratch array), torch.optim (``fused=True`` where torch has a fused
CPU kernel: SGD, Adam, AdamW, Adagrad; its default single-tensor path otherwise)
and the bandwidth floor for the same byte traffic.

Everything runs on one thread (torch.set_num_threads(1), gradkern n_threads=1)
so that the ratios compare kernels, not thread counts.
"""
import numpy as np
import pytest

from harness import bench_case, bench_floor, sizes

from gradkern import optim

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is optional
    torch = None

TORCH_FUSED = {"SGD", "Adam", "AdamW", "Adagrad"}

# rule -> (hyperparameters, (arrays read, arrays written)) for the floor:
# Adam reads p, g, m, v and writes p, m, v.
CASES = {
    "SGD": (dict(lr=1e-3, momentum=0.9), (3, 2)),
    "Adam": (dict(lr=1e-3), (4, 3)),
    "AdamW": (dict(lr=1e-3, weight_decay=1e-2), (4, 3)),
    "RMSprop": (dict(lr=1e-2), (3, 2)),
    "Adagrad": (dict(lr=1e-2), (3, 2)),
    "Adamax": (dict(lr=2e-3), (4, 3)),
    "NAdam": (dict(lr=2e-3), (4, 3)),
    "RAdam": (dict(lr=1e-3), (4, 3)),
    "Lion": (dict(lr=1e-4, betas=(0.9, 0.99)), (3, 2)),
}


# ---------------------------------------------------------------------------
# idiomatic numpy: in-place ufuncs with out= and one scratch array
# ---------------------------------------------------------------------------

class NumpyOpt:
    """The fastest plain-numpy step we could write for each rule (default options)."""

    def __init__(self, name, params, hp):
        self.name, self.params, self.hp, self.t = name, params, hp, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.tmp = [np.empty_like(p) for p in params]
        self.tmp2 = [np.empty_like(p) for p in params] if name == "NAdam" else None
        self.mu_product = 1.0

    def step(self, grads):
        self.t += 1
        for k, (p, g) in enumerate(zip(self.params, grads)):
            self._k = k
            getattr(self, "_" + self.name.lower())(p, g, self.m[k], self.v[k], self.tmp[k])

    def _sgd(self, p, g, m, v, tmp):
        lr, mom = self.hp["lr"], self.hp["momentum"]
        m *= mom
        m += g
        np.multiply(m, -lr, out=tmp)
        p += tmp

    def _adam(self, p, g, m, v, tmp, wd=0.0):
        lr, (b1, b2), eps = self.hp["lr"], (0.9, 0.999), 1e-8
        if wd:
            p *= 1 - lr * wd
        bc1, bc2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        np.subtract(g, m, out=tmp)                # m += (1 - b1) * (g - m)
        tmp *= 1 - b1
        m += tmp
        np.multiply(g, g, out=tmp)                # v = b2 * v + (1 - b2) * g * g
        tmp *= 1 - b2
        v *= b2
        v += tmp
        np.sqrt(v, out=tmp)                       # p -= lr / bc1 * m / (sqrt(v / bc2) + eps)
        tmp *= 1 / bc2 ** 0.5
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= -lr / bc1
        p += tmp

    def _adamw(self, p, g, m, v, tmp):
        self._adam(p, g, m, v, tmp, wd=self.hp["weight_decay"])

    def _rmsprop(self, p, g, m, v, tmp):
        lr, alpha, eps = self.hp["lr"], 0.99, 1e-8
        np.multiply(g, g, out=tmp)
        tmp *= 1 - alpha
        v *= alpha
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += eps
        np.divide(g, tmp, out=tmp)
        tmp *= -lr
        p += tmp

    def _adagrad(self, p, g, m, v, tmp):
        lr, eps = self.hp["lr"], 1e-10
        np.multiply(g, g, out=tmp)
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += eps
        np.divide(g, tmp, out=tmp)
        tmp *= -lr
        p += tmp

    def _adamax(self, p, g, m, v, tmp):
        lr, (b1, b2), eps = self.hp["lr"], (0.9, 0.999), 1e-8
        np.subtract(g, m, out=tmp)
        tmp *= 1 - b1
        m += tmp
        np.abs(g, out=tmp)
        tmp += eps
        v *= b2
        np.maximum(v, tmp, out=v)
        np.divide(m, v, out=tmp)
        tmp *= -lr / (1 - b1 ** self.t)
        p += tmp

    def _nadam(self, p, g, m, v, tmp):
        lr, (b1, b2), eps, md = self.hp["lr"], (0.9, 0.999), 1e-8, 4e-3
        t = self.t
        mu = b1 * (1 - 0.5 * 0.96 ** (t * md))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * md))
        mp = self.mu_product * mu
        if self._k == len(self.params) - 1:
            self.mu_product = mp
        np.subtract(g, m, out=tmp)
        tmp *= 1 - b1
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v *= b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= 1 / (1 - b2 ** t) ** 0.5
        tmp += eps                                 # tmp = denom
        cg = -lr * (1 - mu) / (1 - mp)
        cm = -lr * mu_next / (1 - mp * mu_next)
        tmp2 = self.tmp2[self._k]
        np.divide(g, tmp, out=tmp2)                # p += cg * g / denom + cm * m / denom
        tmp2 *= cg
        p += tmp2
        np.divide(m, tmp, out=tmp2)
        tmp2 *= cm
        p += tmp2

    def _radam(self, p, g, m, v, tmp):
        lr, (b1, b2), eps = self.hp["lr"], (0.9, 0.999), 1e-8
        t = self.t
        np.subtract(g, m, out=tmp)
        tmp *= 1 - b1
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v *= b2
        v += tmp
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / bc2
        if rho_t > 5:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= -lr / bc1 * rect * bc2 ** 0.5
        else:
            np.multiply(m, -lr / bc1, out=tmp)
        p += tmp

    def _lion(self, p, g, m, v, tmp):
        lr, (b1, b2) = self.hp["lr"], self.hp["betas"]
        np.subtract(g, m, out=tmp)                 # c = m + (1 - b1) * (g - m)
        tmp *= 1 - b1
        tmp += m
        np.sign(tmp, out=tmp)
        tmp *= -lr
        p += tmp
        np.subtract(g, m, out=tmp)                 # m += (1 - b2) * (g - m)
        tmp *= 1 - b2
        m += tmp


def _torch_opt(name, params, hp, grads):
    tparams = [torch.from_numpy(p) for p in params]
    for tp, g in zip(tparams, grads):
        tp.grad = torch.from_numpy(g)
    kw = dict(hp)
    if name in TORCH_FUSED:
        kw["fused"] = True
    return getattr(torch.optim, name)(tparams, **kw)


def _setup(name, n, dtype, n_arrays=1):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(n).astype(dtype) for _ in range(n_arrays)]
    grads = [rng.standard_normal(n).astype(dtype) * np.asarray(1e-3, dtype)
             for _ in range(n_arrays)]
    return params, grads


def _run(benchmark, group, impl, name, hp, params, grads, rw):
    if impl == "floor":
        n = sum(p.size for p in params)
        return bench_floor(benchmark, group, n, params[0].dtype, *rw)
    if impl == "gradkern":
        opt = getattr(optim, name)(params if len(params) > 1 else params[0], **hp)
        g = grads if len(grads) > 1 else grads[0]
        return bench_case(benchmark, group, impl, opt.step, g)
    if impl == "numpy":
        opt = NumpyOpt(name, params, hp)
        return bench_case(benchmark, group, impl, opt.step, grads)
    if torch is None:
        pytest.skip("torch is not installed")
    if not hasattr(torch.optim, name):
        pytest.skip(f"torch.optim has no {name}")
    opt = _torch_opt(name, params, hp, grads)
    with torch.no_grad():
        return bench_case(benchmark, group, impl, opt.step)


IMPLS = ["gradkern", "numpy", "torch", "floor"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", sizes([10**3, 10**5, 10**6, 10**7], quick=[10**3]))
@pytest.mark.parametrize("impl", IMPLS)
def test_adam_step(benchmark, impl, n, dtype):
    """The issue's targets: Adam at every size, float32 and float64."""
    hp, rw = CASES["Adam"]
    params, grads = _setup("Adam", n, dtype)
    _run(benchmark, f"optim Adam n={n:.0e} {dtype}", impl, "Adam", hp, params, grads, rw)


OTHERS = [name for name in CASES if name != "Adam"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", sizes([10**3, 10**5, 10**6], quick=[10**3]))
@pytest.mark.parametrize("name", OTHERS)
@pytest.mark.parametrize("impl", IMPLS)
def test_other_steps(benchmark, impl, name, n, dtype):
    """Every other rule, small (call overhead) to large (memory traffic); n=1e7 is
    measured for Adam only, to keep the suite within its time budget."""
    hp, rw = CASES[name]
    params, grads = _setup(name, n, dtype)
    _run(benchmark, f"optim {name} n={n:.0e} {dtype}", impl, name, hp, params, grads, rw)


@pytest.mark.parametrize("dtype", ["float32"])
@pytest.mark.parametrize("impl", IMPLS)
def test_adam_1000_arrays(benchmark, impl, dtype):
    """A 1e6-parameter model split into 1,000 arrays of 1,000: one call for the list."""
    n_arrays, n = (1000, 1000) if not _quick() else (100, 1000)
    hp, rw = CASES["Adam"]
    params, grads = _setup("Adam", n, dtype, n_arrays=n_arrays)
    _run(benchmark, f"optim Adam {n_arrays}x{n} arrays {dtype}", impl, "Adam", hp, params,
         grads, rw)


def _quick():
    import harness
    return harness.QUICK
