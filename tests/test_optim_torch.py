"""gradkern.optim against torch.optim (the oracle; skipped when torch is absent).

100 steps, random hyperparameters, options and shapes, a list of arrays per
optimizer; tolerances 1e-6 (float32) and 1e-13 (float64), relative.
"""
import contextlib

import numpy as np
import pytest

from gradkern import optim

from test_optim import DTYPES, assert_close, random_hyper, random_problem

torch = pytest.importorskip("torch")

TORCH_NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam"]


@contextlib.contextmanager
def default_dtype(dt):
    old = torch.get_default_dtype()
    torch.set_default_dtype(dt)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def torch_kwargs(name, hp):
    kw = dict(hp)
    if "betas" in kw:
        kw["betas"] = tuple(kw["betas"])
    kw["foreach"] = False       # the single-tensor path: the reference order of operations
    return kw


def run_both(name, hp, params, grads, change_lr_at=None):
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    opt = getattr(optim, name)(params, **hp)
    topt = getattr(torch.optim, name)(tparams, **torch_kwargs(name, hp))
    for s, gs in enumerate(grads):
        if s == change_lr_at:
            opt.lr = hp["lr"] / 3
            topt.param_groups[0]["lr"] = hp["lr"] / 3
        opt.step(gs)
        for tp, g in zip(tparams, gs):
            tp.grad = torch.from_numpy(g.copy())
        topt.step()
    return opt, topt, [tp.detach().numpy() for tp in tparams]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", TORCH_NAMES)
def test_matches_torch_100_steps(name, dtype, seed):
    rng = np.random.default_rng([seed, TORCH_NAMES.index(name), 7])
    hp = random_hyper(name, rng)
    params, grads = random_problem(rng, dtype, steps=100)
    # torch keeps NAdam's running mu_product in a tensor of the default dtype
    # (float32 unless changed); gradkern keeps it in double, as torch does when
    # the default dtype is float64.
    ctx = default_dtype(torch.float64) if name == "NAdam" else contextlib.nullcontext()
    with ctx:
        opt, topt, tp = run_both(name, hp, params, grads, change_lr_at=50 if seed == 1 else None)
    for k, (p, t) in enumerate(zip(params, tp)):
        assert t.dtype == p.dtype
        assert_close(p, t, dtype, f"{name} {hp} params[{k}]")
    # the state buffers agree with torch's, under torch's names
    sd = opt.state_dict()
    for k, tpar in enumerate(topt.param_groups[0]["params"]):
        for key, val in topt.state[tpar].items():
            if key == "step":
                assert float(val) == sd["step"]
            elif key == "mu_product":
                assert float(val) == pytest.approx(sd["mu_product"], rel=1e-13)
            else:
                assert_close(sd[f"{key}.{k}"], val.numpy(), dtype, f"{name} {key}.{k}")


@pytest.mark.parametrize("name", TORCH_NAMES)
def test_nan_inf_propagate_as_torch(name):
    rng = np.random.default_rng(20)
    hp = random_hyper(name, rng)
    params, grads = random_problem(rng, np.float64, n_arrays=1, steps=4)
    shape = params[0].shape
    for s, gs in enumerate(grads):
        flat = gs[0].reshape(-1)
        flat[0] = np.nan
        if flat.size > 1:
            flat[-1] = np.inf if s % 2 else -np.inf
    ctx = default_dtype(torch.float64) if name == "NAdam" else contextlib.nullcontext()
    with ctx:
        _, _, tp = run_both(name, hp, params, grads)
    p, t = params[0], tp[0]
    assert p.shape == shape
    np.testing.assert_array_equal(np.isnan(p), np.isnan(t))
    np.testing.assert_array_equal(np.isinf(p), np.isinf(t))
    fin = np.isfinite(t)
    assert_close(p[fin], t[fin], np.float64)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm_matches_torch(dtype, norm_type):
    rng = np.random.default_rng(21)
    grads = [rng.standard_normal(s).astype(dtype) for s in [(50,), (3, 4), (7,)]]
    tens = [torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
            for g in grads]
    for t, g in zip(tens, grads):
        t.grad = torch.from_numpy(g.copy())
    want = float(torch.nn.utils.clip_grad_norm_(tens, 0.7, norm_type=norm_type,
                                                foreach=False))
    total = optim.clip_grad_norm(grads, 0.7, norm_type=norm_type)
    # torch accumulates the norm in the grads' dtype, gradkern in double
    assert total == pytest.approx(want, rel=1e-5 if dtype == np.float32 else 1e-13)
    for g, t in zip(grads, tens):
        assert_close(g, t.grad.numpy(), dtype)
