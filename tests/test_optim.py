"""gradkern.optim: every optimizer and option against a plain numpy reference
written here (and against torch.optim in tests/test_optim_torch.py).

The references follow torch.optim's single-tensor code paths operation by
operation, in the array's precision, with scalar factors computed in double
and rounded once (numpy 2 keeps ``float32_array * python_float`` in float32).
"""
import pickle

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import gradkern
from gradkern import optim

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-6, np.float64: 1e-13}


# ---------------------------------------------------------------------------
# plain numpy references (one step of one array; state is a dict of arrays)
# ---------------------------------------------------------------------------

def _lerp(a, b, w):
    """torch.lerp with a scalar weight (its two branches)."""
    w = a.dtype.type(w)
    if abs(w) < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (a.dtype.type(1) - w)


def ref_sgd(p, g, st_, s, lr, momentum, dampening, weight_decay, nesterov, maximize):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        if "momentum_buffer" not in st_:
            st_["momentum_buffer"] = g.copy()
        else:
            st_["momentum_buffer"] = st_["momentum_buffer"] * momentum + (1 - dampening) * g
        buf = st_["momentum_buffer"]
        g = g + momentum * buf if nesterov else buf
    p[...] = p + (-lr) * g


def _adam(p, g, st_, s, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled):
    b1, b2 = betas
    g = -g if maximize else g
    if weight_decay:
        if decoupled:
            p[...] = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    m = st_.setdefault("exp_avg", np.zeros_like(p))
    v = st_.setdefault("exp_avg_sq", np.zeros_like(p))
    m[...] = _lerp(m, g, 1 - b1)
    v[...] = v * b2 + (1 - b2) * g * g
    bc1, bc2 = 1 - b1 ** s, 1 - b2 ** s
    if amsgrad:
        vm = st_.setdefault("max_exp_avg_sq", np.zeros_like(p))
        vm[...] = np.maximum(vm, v)
        v = vm
    denom = np.sqrt(v) / bc2 ** 0.5 + eps
    p[...] = p + (-(lr / bc1)) * m / denom


def ref_adam(p, g, st_, s, **hp):
    _adam(p, g, st_, s, decoupled=False, **hp)


def ref_adamw(p, g, st_, s, **hp):
    _adam(p, g, st_, s, decoupled=True, **hp)


def ref_rmsprop(p, g, st_, s, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    sq = st_.setdefault("square_avg", np.zeros_like(p))
    sq[...] = sq * alpha + (1 - alpha) * g * g
    if centered:
        ga = st_.setdefault("grad_avg", np.zeros_like(p))
        ga[...] = _lerp(ga, g, 1 - alpha)
        avg = np.sqrt(sq + (-1) * ga * ga)
    else:
        avg = np.sqrt(sq)
    avg = avg + eps
    if momentum > 0:
        buf = st_.setdefault("momentum_buffer", np.zeros_like(p))
        buf[...] = buf * momentum + 1 * g / avg
        p[...] = p + (-lr) * buf
    else:
        p[...] = p + (-lr) * g / avg


def ref_adagrad(p, g, st_, s, lr, lr_decay, weight_decay, initial_accumulator_value, eps,
                maximize):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    acc = st_.setdefault("sum", np.full_like(p, initial_accumulator_value))
    acc[...] = acc + 1 * g * g
    clr = lr / (1 + (s - 1) * lr_decay)
    p[...] = p + (-clr) * g / (np.sqrt(acc) + eps)


def ref_adamax(p, g, st_, s, lr, betas, eps, weight_decay, maximize):
    b1, b2 = betas
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    m = st_.setdefault("exp_avg", np.zeros_like(p))
    u = st_.setdefault("exp_inf", np.zeros_like(p))
    m[...] = _lerp(m, g, 1 - b1)
    u[...] = np.maximum(u * b2, np.abs(g) + eps)
    p[...] = p + (-(lr / (1 - b1 ** s))) * m / u


def ref_nadam(p, g, st_, s, lr, betas, eps, weight_decay, momentum_decay,
              decoupled_weight_decay, maximize):
    b1, b2 = betas
    g = -g if maximize else g
    if weight_decay:
        if decoupled_weight_decay:
            p[...] = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    mu = b1 * (1.0 - 0.5 * 0.96 ** (s * momentum_decay))
    mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((s + 1) * momentum_decay))
    mp = st_.get("mu_product", 1.0) * mu
    st_["mu_product"] = mp
    m = st_.setdefault("exp_avg", np.zeros_like(p))
    v = st_.setdefault("exp_avg_sq", np.zeros_like(p))
    m[...] = _lerp(m, g, 1 - b1)
    v[...] = v * b2 + (1 - b2) * g * g
    denom = np.sqrt(v / (1 - b2 ** s)) + eps
    q = p + (-lr * (1.0 - mu) / (1.0 - mp)) * g / denom
    p[...] = q + ((-lr * mu_next) / (1.0 - mp * mu_next)) * m / denom


def ref_radam(p, g, st_, s, lr, betas, eps, weight_decay, decoupled_weight_decay, maximize):
    b1, b2 = betas
    g = -g if maximize else g
    if weight_decay:
        if decoupled_weight_decay:
            p[...] = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    m = st_.setdefault("exp_avg", np.zeros_like(p))
    v = st_.setdefault("exp_avg_sq", np.zeros_like(p))
    m[...] = _lerp(m, g, 1 - b1)
    v[...] = v * b2 + (1 - b2) * g * g
    bc1, bc2 = 1 - b1 ** s, 1 - b2 ** s
    upd = m / bc1 * lr
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * s * b2 ** s / bc2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        upd = upd * ((1 / (np.sqrt(v) + eps)) * bc2 ** 0.5) * rect
    p[...] = p - upd


def ref_lion(p, g, st_, s, lr, betas, weight_decay, maximize):
    """The Lion paper's Algorithm 2 (decoupled weight decay on the old params)."""
    b1, b2 = betas
    g = -g if maximize else g
    m = st_.setdefault("exp_avg", np.zeros_like(p))
    c = b1 * m + (1 - b1) * g
    p[...] = p - lr * (np.sign(c) + weight_decay * p)
    m[...] = b2 * m + (1 - b2) * g


REFS = {"SGD": ref_sgd, "Adam": ref_adam, "AdamW": ref_adamw, "RMSprop": ref_rmsprop,
        "Adagrad": ref_adagrad, "Adamax": ref_adamax, "NAdam": ref_nadam,
        "RAdam": ref_radam, "Lion": ref_lion}


def random_hyper(name, rng):
    """Random hyperparameters (and options) valid for optimizer ``name``."""
    u = lambda lo, hi: float(rng.uniform(lo, hi))  # noqa: E731
    flag = lambda: bool(rng.integers(2))  # noqa: E731
    wd = 0.0 if rng.random() < 0.3 else u(0, 0.1)
    betas = (u(0.0, 0.95), u(0.5, 0.999))
    if name == "SGD":
        mom = 0.0 if rng.random() < 0.25 else u(0.1, 0.95)
        nest = mom > 0 and flag()
        return dict(lr=u(1e-3, 0.05), momentum=mom, dampening=0.0 if nest else u(0, 0.5),
                    weight_decay=wd, nesterov=nest, maximize=flag())
    if name in ("Adam", "AdamW"):
        return dict(lr=u(1e-3, 0.05), betas=betas, eps=u(1e-8, 1e-3), weight_decay=wd,
                    amsgrad=flag(), maximize=flag())
    if name == "RMSprop":
        return dict(lr=u(1e-3, 0.02), alpha=u(0.2, 0.99), eps=u(1e-8, 1e-3),
                    weight_decay=wd, momentum=0.0 if flag() else u(0.1, 0.9),
                    centered=flag(), maximize=flag())
    if name == "Adagrad":
        return dict(lr=u(1e-3, 0.1), lr_decay=u(0, 0.1), weight_decay=wd,
                    initial_accumulator_value=u(0, 0.5), eps=u(1e-10, 1e-4),
                    maximize=flag())
    if name == "Adamax":
        return dict(lr=u(1e-3, 0.05), betas=betas, eps=u(1e-8, 1e-3), weight_decay=wd,
                    maximize=flag())
    if name == "NAdam":
        return dict(lr=u(1e-3, 0.05), betas=betas, eps=u(1e-8, 1e-3), weight_decay=wd,
                    momentum_decay=u(0, 0.01), decoupled_weight_decay=flag(),
                    maximize=flag())
    if name == "RAdam":
        return dict(lr=u(1e-3, 0.05), betas=betas, eps=u(1e-8, 1e-3), weight_decay=wd,
                    decoupled_weight_decay=flag(), maximize=flag())
    if name == "Lion":
        return dict(lr=u(1e-4, 0.01), betas=(u(0.5, 0.95), u(0.9, 0.999)),
                    weight_decay=wd, maximize=flag())
    raise AssertionError(name)


def random_problem(rng, dtype, n_arrays=None, steps=100):
    n_arrays = int(rng.integers(1, 4)) if n_arrays is None else n_arrays
    shapes = [tuple(int(d) for d in rng.integers(1, 6, size=rng.integers(1, 3)))
              for _ in range(n_arrays)]
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    return params, grads


def assert_close(actual, desired, dtype, what=""):
    rtol = RTOL[np.dtype(dtype).type]
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol, err_msg=what)


NAMES = list(REFS)


# ---------------------------------------------------------------------------
# against the numpy reference
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_matches_numpy_reference(name, dtype, seed):
    rng = np.random.default_rng([seed, NAMES.index(name), np.dtype(dtype).itemsize])
    hp = random_hyper(name, rng)
    params, grads = random_problem(rng, dtype)
    ref_p = [p.copy() for p in params]
    ref_state = [{} for _ in params]
    opt = getattr(optim, name)(params, **hp)
    for s, gs in enumerate(grads, start=1):
        opt.step(gs)
        for p, g, st_ in zip(ref_p, gs, ref_state):
            REFS[name](p, g, st_, s, **hp)
    assert opt.step_count == len(grads)
    for k, (p, r) in enumerate(zip(params, ref_p)):
        assert p.dtype == dtype
        assert_close(p, r, dtype, f"{name} {hp} params[{k}]")
    # every state buffer matches too
    sd = opt.state_dict()
    for k, st_ in enumerate(ref_state):
        for key, val in st_.items():
            if key == "mu_product":
                assert sd["mu_product"] == pytest.approx(val, rel=1e-15)
            else:
                assert_close(sd[f"{key}.{k}"], val, dtype, f"{name} {key}.{k}")


@pytest.mark.parametrize("name", NAMES)
def test_single_array_and_inplace(name):
    rng = np.random.default_rng(1)
    p = rng.standard_normal((4, 3))
    g = rng.standard_normal((4, 3))
    hp = random_hyper(name, rng)
    ref = p.copy()
    addr = p.__array_interface__["data"][0]
    opt = getattr(optim, name)(p, **hp)
    opt.step(g)
    REFS[name](ref, g, {}, 1, **hp)
    assert p.__array_interface__["data"][0] == addr
    assert np.shares_memory(opt.params[0], p)
    assert not np.array_equal(p, rng.standard_normal((4, 3)))
    assert_close(p, ref, np.float64)


def test_lion_formula_by_hand():
    """Lion paper Algorithm 2 on numbers worked out by hand."""
    p = np.array([1.0, -2.0, 0.5])
    m = np.array([0.0, 0.0, 0.0])
    opt = optim.Lion(p, lr=0.1, betas=(0.9, 0.99), weight_decay=0.5)
    opt.step(np.array([2.0, -1.0, 0.0]))
    # c = 0.1*g -> sign = [1, -1, 0]; p -= 0.1*(sign + 0.5*p)
    np.testing.assert_allclose(p, [1 - 0.1 * (1 + 0.5), -2 - 0.1 * (-1 - 1.0), 0.5 - 0.1 * 0.25])
    np.testing.assert_allclose(opt.state_dict()["exp_avg.0"], 0.01 * np.array([2.0, -1, 0]))
    del m


# ---------------------------------------------------------------------------
# threads, big arrays, a list in one call
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_threads_give_identical_results(name, dtype):
    rng = np.random.default_rng(2)
    n = 300_000            # above the per-thread threshold for 2 threads
    hp = random_hyper(name, rng)
    p1 = rng.standard_normal(n).astype(dtype)
    p2 = p1.copy()
    small = [rng.standard_normal(3).astype(dtype)]
    o1 = getattr(optim, name)([p1, small[0].copy()], **hp)
    o2 = getattr(optim, name)([p2, small[0].copy()], n_threads=2, **hp)
    for _ in range(3):
        g = rng.standard_normal(n).astype(dtype)
        gs = rng.standard_normal(3).astype(dtype)
        o1.step([g, gs])
        o2.step([g, gs])
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(o1.params[1], o2.params[1])


def test_many_arrays_mixed_dtypes_one_call():
    rng = np.random.default_rng(3)
    params = [rng.standard_normal(5).astype(np.float32 if k % 2 else np.float64)
              for k in range(50)]
    ref = [p.copy() for p in params]
    states = [{} for _ in params]
    opt = optim.Adam(params, lr=0.01)
    for s in range(1, 6):
        grads = [rng.standard_normal(5).astype(p.dtype) for p in params]
        opt.step(tuple(grads))
        for p, g, st_ in zip(ref, grads, states):
            ref_adam(p, g, st_, s, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                     amsgrad=False, maximize=False)
    for p, r in zip(params, ref):
        assert_close(p, r, p.dtype.type)


# ---------------------------------------------------------------------------
# state_dict / load_state_dict
# ---------------------------------------------------------------------------

def _run(opt, grads):
    for g in grads:
        opt.step(g)


@pytest.mark.parametrize("via", ["dict", "savez", "pickle"])
@pytest.mark.parametrize("name", NAMES)
def test_state_round_trip_bit_identical(name, via, tmp_path):
    rng = np.random.default_rng(4)
    hp = random_hyper(name, rng)
    if name == "SGD":
        hp.update(momentum=0.9, nesterov=False, dampening=0.1)
    if name in ("Adam", "AdamW"):
        hp["amsgrad"] = True
    if name == "RMSprop":
        hp.update(momentum=0.5, centered=True)
    params, grads = random_problem(rng, np.float32, n_arrays=2, steps=20)
    twin = [p.copy() for p in params]
    a = getattr(optim, name)(params, **hp)
    _run(a, grads[:10])
    sd = a.state_dict()
    if via == "savez":
        np.savez(tmp_path / "s.npz", **sd)
        with np.load(tmp_path / "s.npz") as f:
            sd = {k: f[k] for k in f.files}
    elif via == "pickle":
        sd = pickle.loads(pickle.dumps(sd))
    # the twin jumps to the saved point: params copied, state loaded
    for t, p in zip(twin, params):
        t[...] = p
    b = getattr(optim, name)(twin, **random_hyper(name, np.random.default_rng(99))
                             if name != "SGD" else {})
    b.load_state_dict(sd)
    assert b.step_count == 10
    _run(a, grads[10:])
    _run(b, grads[10:])
    for p, t in zip(params, twin):
        np.testing.assert_array_equal(p, t)
    # the saved arrays are copies, not views of live state
    for k, v in a.state_dict().items():
        if isinstance(v, np.ndarray):
            assert not any(np.shares_memory(v, buf) for buf in params)


def test_state_dict_is_plain():
    opt = optim.NAdam([np.zeros(3), np.zeros(2, np.float32)])
    opt.step([np.ones(3), np.ones(2, np.float32)])
    sd = opt.state_dict()
    assert sd["step"] == 1
    for k, v in sd.items():
        assert isinstance(v, (np.ndarray, int, float, bool, str, tuple)), (k, type(v))
    assert sd["exp_avg.1"].dtype == np.float32


@pytest.mark.parametrize("name", NAMES)
def test_load_before_first_step(name):
    """A state saved before any step loads and continues like a fresh optimizer."""
    rng = np.random.default_rng(5)
    hp = random_hyper(name, rng)
    params, grads = random_problem(rng, np.float64, n_arrays=2, steps=5)
    twin = [p.copy() for p in params]
    a = getattr(optim, name)(params, **hp)
    sd = a.state_dict()
    b = getattr(optim, name)(twin, **hp)
    b.load_state_dict(sd)
    _run(a, grads)
    _run(b, grads)
    for p, t in zip(params, twin):
        np.testing.assert_array_equal(p, t)


def test_load_state_dict_validates_before_changing():
    rng = np.random.default_rng(6)
    p = rng.standard_normal(4)
    opt = optim.Adam(p, lr=0.01)
    opt.step(rng.standard_normal(4))
    before = opt.state_dict()
    bad = dict(before)
    bad["exp_avg.0"] = np.zeros(5)
    with pytest.raises(ValueError, match=r"exp_avg\.0"):
        opt.load_state_dict(bad)
    bad = dict(before)
    bad["exp_avg_sq.0"] = np.zeros(4, np.float32)
    with pytest.raises(TypeError, match=r"exp_avg_sq\.0"):
        opt.load_state_dict(bad)
    bad = dict(before, lr=-1.0)
    with pytest.raises(ValueError, match="learning rate"):
        opt.load_state_dict(bad)
    bad = dict(before, optimizer="SGD")
    with pytest.raises(ValueError, match="SGD"):
        opt.load_state_dict(bad)
    bad = dict(before)
    del bad["step"]
    with pytest.raises(ValueError, match="step"):
        opt.load_state_dict(bad)
    with pytest.raises(TypeError, match="state"):
        opt.load_state_dict([1, 2])
    after = opt.state_dict()
    assert after.keys() == before.keys()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])


# ---------------------------------------------------------------------------
# hyperparameters
# ---------------------------------------------------------------------------

def test_hyperparameters_change_between_steps():
    rng = np.random.default_rng(7)
    p = rng.standard_normal(6)
    ref = p.copy()
    st_ = {}
    opt = optim.Adam(p, lr=0.1)
    hp = dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
              maximize=False)
    for s in range(1, 11):
        lr = 0.1 / s
        opt.lr = lr
        hp["lr"] = lr
        if s == 5:
            opt.weight_decay = 0.01
            hp["weight_decay"] = 0.01
        g = rng.standard_normal(6)
        opt.step(g)
        ref_adam(ref, g, st_, s, **hp)
    assert_close(p, ref, np.float64)


def test_switching_options_on_later_creates_buffers():
    p = np.ones(3)
    opt = optim.SGD(p, lr=0.1)
    opt.step(np.ones(3))
    opt.momentum = 0.9
    opt.step(np.ones(3))          # first momentum step: buffer = grad
    np.testing.assert_allclose(p, 1 - 0.1 - 0.1)
    opt2 = optim.Adam(np.ones(3))
    opt2.step(np.ones(3))
    opt2.amsgrad = True
    opt2.step(np.ones(3))
    assert "max_exp_avg_sq.0" in opt2.state_dict()


@pytest.mark.parametrize("cls, kwargs, match", [
    (optim.SGD, dict(lr=-0.1), "learning rate"),
    (optim.SGD, dict(momentum=-0.1), "momentum"),
    (optim.SGD, dict(weight_decay=-1.0), "weight_decay"),
    (optim.SGD, dict(nesterov=True), "Nesterov"),
    (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov"),
    (optim.Adam, dict(betas=(1.0, 0.9)), "beta parameter at index 0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), "beta parameter at index 1"),
    (optim.Adam, dict(eps=-1e-8), "epsilon"),
    (optim.AdamW, dict(lr=-1.0), "learning rate"),
    (optim.RMSprop, dict(alpha=-0.5), "alpha"),
    (optim.RMSprop, dict(momentum=-0.5), "momentum"),
    (optim.Adagrad, dict(lr_decay=-0.5), "lr_decay"),
    (optim.Adagrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (optim.Adamax, dict(betas=(0.9, 1.5)), "beta parameter"),
    (optim.NAdam, dict(momentum_decay=-1.0), "momentum_decay"),
    (optim.RAdam, dict(eps=-1.0), "epsilon"),
    (optim.Lion, dict(betas=(0.9, 1.0)), "beta parameter"),
    (optim.Lion, dict(lr=-1e-3), "learning rate"),
])
def test_hyperparameter_validation(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(np.zeros(3), **kwargs)


def test_hyperparameter_types_and_setter_validation():
    opt = optim.Adam(np.zeros(3))
    with pytest.raises(TypeError, match="lr"):
        opt.lr = "0.1"
    with pytest.raises(ValueError, match="learning rate"):
        opt.lr = -1
    with pytest.raises(TypeError, match="betas"):
        opt.betas = 0.9
    with pytest.raises(TypeError, match="amsgrad"):
        opt.amsgrad = 1
    assert opt.lr == 1e-3
    sgd = optim.SGD(np.zeros(3), momentum=0.9, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        sgd.momentum = 0.0
    assert sgd.momentum == 0.9          # a failed set changes nothing
    with pytest.raises(ValueError):
        optim.Adam(np.zeros(3), n_threads=0)


def test_defaults_match_api():
    import inspect
    expect = {
        "SGD": dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                    maximize=False),
        "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                     amsgrad=False, maximize=False),
        "AdamW": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                      amsgrad=False, maximize=False),
        "RMSprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                        centered=False, maximize=False),
        "Adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                        initial_accumulator_value=0.0, eps=1e-10, maximize=False),
        "Adamax": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                       maximize=False),
        "NAdam": dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                      momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False),
        "RAdam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                      decoupled_weight_decay=False, maximize=False),
        "Lion": dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False),
    }
    for name, defaults in expect.items():
        sig = inspect.signature(getattr(optim, name))
        got = {k: v.default for k, v in sig.parameters.items()
               if k not in ("params", "n_threads")}
        assert got == defaults, name
    assert gradkern.optim is optim


# ---------------------------------------------------------------------------
# bad input: clear errors, nothing written
# ---------------------------------------------------------------------------

def _snapshot(opt):
    return [p.copy() for p in opt.params], opt.state_dict()


def _assert_unchanged(opt, snap):
    params, sd = snap
    for p, q in zip(opt.params, params):
        np.testing.assert_array_equal(p, q)
    now = opt.state_dict()
    assert now.keys() == sd.keys()
    for k in sd:
        np.testing.assert_array_equal(now[k], sd[k])


@pytest.mark.parametrize("name", NAMES)
def test_bad_grads_leave_everything_untouched(name):
    rng = np.random.default_rng(8)
    params = [rng.standard_normal(4), rng.standard_normal((2, 3))]
    opt = getattr(optim, name)(params, **random_hyper(name, rng))
    opt.step([rng.standard_normal(4), rng.standard_normal((2, 3))])
    snap = _snapshot(opt)
    good0 = rng.standard_normal(4)
    cases = [
        ([good0, rng.standard_normal((3, 2))], ValueError, r"grads\[1\].*shape"),
        ([good0, rng.standard_normal(6)], ValueError, r"grads\[1\].*shape"),
        ([good0, rng.standard_normal((2, 3)).astype(np.float32)], TypeError,
         r"grads\[1\].*dtype"),
        ([good0, np.ones((2, 3), dtype=np.int64)], TypeError, r"grads\[1\].*dtype"),
        ([good0], ValueError, "grads must hold 2 arrays"),
        ([good0, good0, good0], ValueError, "grads must hold 2 arrays"),
        (good0, ValueError, "grads must be a list of 2"),
        ([good0, [[1.0] * 3] * 2], TypeError, r"grads\[1\] must be a numpy.ndarray"),
        ("grads", TypeError, "grads must be"),
    ]
    for grads, exc, match in cases:
        with pytest.raises(exc, match=match):
            opt.step(grads)
        _assert_unchanged(opt, snap)
    assert opt.step_count == 1


def test_non_contiguous_grads_are_accepted():
    rng = np.random.default_rng(9)
    p, q = np.zeros(4), np.zeros(4)
    g = rng.standard_normal(8)[::2]
    optim.Adam(p, lr=0.1).step(g)
    optim.Adam(q, lr=0.1).step(np.ascontiguousarray(g))
    np.testing.assert_array_equal(p, q)


def test_bad_params():
    with pytest.raises(ValueError, match="C-contiguous"):
        optim.Adam(np.zeros(8)[::2])
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        optim.SGD(ro)
    with pytest.raises(TypeError, match="float32 or float64"):
        optim.Adam(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match=r"params\[1\]"):
        optim.Adam([np.zeros(3), [1.0, 2.0]])
    with pytest.raises(TypeError, match="params"):
        optim.Adam("abc")
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    a = np.zeros(10)
    with pytest.raises(ValueError, match="overlap"):
        optim.Adam([a[:6], a[4:]])


def test_non_contiguous_grads_in_a_list():
    rng = np.random.default_rng(13)
    params = [np.zeros(3), np.zeros((2, 2))]
    twin = [p.copy() for p in params]
    grads = [rng.standard_normal(6)[::2], rng.standard_normal((2, 4))[:, ::2]]
    optim.RMSprop(params, lr=0.1).step(grads)
    optim.RMSprop(twin, lr=0.1).step([np.ascontiguousarray(g) for g in grads])
    for p, t in zip(params, twin):
        np.testing.assert_array_equal(p, t)


def test_params_made_read_only_later():
    p = np.zeros(3)
    opt = optim.Adam(p)
    p.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\[0\].*read-only"):
        opt.step(np.ones(3))
    assert opt.step_count == 0


def test_empty_arrays_are_a_no_op():
    e = np.zeros(0, np.float32)
    x = np.ones(3, np.float32)
    opt = optim.Adam([e, x], lr=0.1)
    opt.step([np.zeros(0, np.float32), np.ones(3, np.float32)])
    assert e.size == 0 and opt.step_count == 1
    np.testing.assert_allclose(x, 0.9)
    opt2 = optim.SGD(np.zeros((0, 3)), momentum=0.9)
    opt2.step(np.zeros((0, 3)))
    assert opt2.state_dict()["momentum_buffer.0"].shape == (0, 3)
    assert optim.clip_grad_norm([np.zeros(0)], 1.0) == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_nan_and_inf_propagate_like_reference(name):
    rng = np.random.default_rng(10)
    hp = random_hyper(name, rng)
    p = rng.standard_normal(6)
    ref = p.copy()
    st_ = {}
    opt = getattr(optim, name)(p, **hp)
    for s in range(1, 4):
        g = rng.standard_normal(6)
        g[1] = np.nan
        g[3] = np.inf if s == 2 else -np.inf
        opt.step(g)
        with np.errstate(all="ignore"):
            REFS[name](ref, g, st_, s, **hp)
    assert np.isnan(p[1])
    np.testing.assert_array_equal(np.isnan(p), np.isnan(ref))
    fin = np.isfinite(ref)
    assert_close(p[fin], ref[fin], np.float64)


# ---------------------------------------------------------------------------
# clip_grad_norm
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, np.inf])
@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_norm(dtype, norm_type):
    rng = np.random.default_rng(11)
    grads = [rng.standard_normal(s).astype(dtype) for s in [(5,), (3, 4), (7,)]]
    flat = np.concatenate([g.ravel().astype(np.float64) for g in grads])
    want = np.linalg.norm(flat, ord=norm_type)
    keep = [g.copy() for g in grads]
    total = optim.clip_grad_norm(grads, 0.5, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(want, rel=1e-12)
    coef = 0.5 / (want + 1e-6)
    for g, k in zip(grads, keep):
        assert_close(g, (k * dtype(coef)).astype(dtype), dtype)
    # below the bound: untouched
    keep = [g.copy() for g in grads]
    optim.clip_grad_norm(grads, 100.0, norm_type=norm_type)
    for g, k in zip(grads, keep):
        np.testing.assert_array_equal(g, k)


def test_clip_grad_norm_threads_and_errors():
    rng = np.random.default_rng(12)
    g1 = rng.standard_normal(300_000)
    g2 = g1.copy()
    t1 = optim.clip_grad_norm(g1, 1.0)
    t2 = optim.clip_grad_norm(g2, 1.0, n_threads=2)
    assert t1 == pytest.approx(t2, rel=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-12)
    bad = np.array([1.0, np.nan])
    with pytest.raises(ValueError, match="non-finite"):
        optim.clip_grad_norm(bad, 1.0, error_if_nonfinite=True)
    assert np.isnan(bad[1]) and bad[0] == 1.0
    assert np.isnan(optim.clip_grad_norm(bad, 1.0))
    assert np.isnan(bad).all()
    with pytest.raises(ValueError, match="max_norm"):
        optim.clip_grad_norm(np.ones(2), -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        optim.clip_grad_norm(np.ones(2), 1.0, norm_type=0)
    with pytest.raises(TypeError, match=r"grads\[0\]"):
        optim.clip_grad_norm([np.ones(2, dtype=int)], 1.0)
    with pytest.raises(TypeError, match="grads"):
        optim.clip_grad_norm(3.0, 1.0)


# ---------------------------------------------------------------------------
# property-based
# ---------------------------------------------------------------------------

shapes = st.lists(st.integers(0, 5), min_size=1, max_size=3).map(tuple)


@settings(max_examples=25)
@given(name=st.sampled_from(NAMES), dtype=st.sampled_from(DTYPES),
       shape_list=st.lists(shapes, min_size=1, max_size=3), seed=st.integers(0, 2**31),
       steps=st.integers(1, 6), scale=st.sampled_from([1e-3, 1.0, 1e3]))
def test_property_matches_reference(name, dtype, shape_list, seed, steps, scale):
    rng = np.random.default_rng(seed)
    hp = random_hyper(name, rng)
    params = [(rng.standard_normal(s) * scale).astype(dtype) for s in shape_list]
    ref = [p.copy() for p in params]
    states = [{} for _ in params]
    opt = getattr(optim, name)(params, **hp)
    for s in range(1, steps + 1):
        gs = [(rng.standard_normal(p.shape) * scale).astype(dtype) for p in params]
        opt.step(gs)
        for p, g, st_ in zip(ref, gs, states):
            REFS[name](p, g, st_, s, **hp)
    for p, r in zip(params, ref):
        assert p.dtype == dtype and p.shape == r.shape
        assert_close(p, r, dtype)


def test_demo_runs(capsys):
    from gradkern._demo_optim import demo
    demo(quick=True)
    out = capsys.readouterr().out
    assert "gradkern Adam (float32)" in out and "scipy L-BFGS-B" in out
    assert "gradkern.optim.Lion" in out
