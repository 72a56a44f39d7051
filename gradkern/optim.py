"""Fused descent updates: drop-in optimizers for numpy arrays.

Each ``step`` is one in-place pass over params, grads and state in C (without
the GIL for large arrays), following ``torch.optim`` 2.x update formulas and
order of operations; a list of arrays is updated in one C call.

Examples
--------
>>> import numpy as np
>>> from gradkern.optim import Adam
>>> w = np.zeros(3)
>>> opt = Adam(w, lr=0.1)
>>> for _ in range(200):
...     opt.step(2 * (w - np.array([1.0, -2.0, 3.0])))   # grad of |w - t|^2
>>> np.round(w, 2)
array([ 1., -2.,  3.])
"""
import numbers
from collections.abc import Mapping

import numpy as np

from gradkern._kernels import _optim as _k
from gradkern._validation import check_writable_float, effective_n_threads

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam",
           "RAdam", "Lion", "clip_grad_norm"]


# ---------------------------------------------------------------------------
# hyperparameter checks (torch.optim's rules and messages)
# ---------------------------------------------------------------------------

def _real(name, value):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return float(value)


def _nonneg(label):
    def check(name, value):
        value = _real(name, value)
        if not 0.0 <= value:
            raise ValueError(f"Invalid {label}: {value}")
        return value
    return check


def _flag(name, value):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return bool(value)


def _betas(name, value):
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair of floats (beta1, beta2), got {value!r}")
    b = tuple(_real(f"{name}[{i}]", v) for i, v in enumerate(value))
    for i, v in enumerate(b):
        if not 0.0 <= v < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {v}")
    return b


def _any_real(name, value):
    return _real(name, value)


_CHECKS = {
    "lr": _nonneg("learning rate"),
    "eps": _nonneg("epsilon value"),
    "weight_decay": _nonneg("weight_decay value"),
    "momentum": _nonneg("momentum value"),
    "dampening": _any_real,
    "alpha": _nonneg("alpha value"),
    "lr_decay": _nonneg("lr_decay value"),
    "initial_accumulator_value": _nonneg("initial_accumulator_value value"),
    "momentum_decay": _nonneg("momentum_decay value"),
    "betas": _betas,
    "nesterov": _flag,
    "maximize": _flag,
    "amsgrad": _flag,
    "centered": _flag,
    "decoupled_weight_decay": _flag,
}


def _as_int(name, value):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return int(value)


def _check_params(params):
    if isinstance(params, np.ndarray):
        arrays = [params]
    elif isinstance(params, (list, tuple)):
        arrays = list(params)
    else:
        raise TypeError("params must be a numpy.ndarray or a list of numpy.ndarray, "
                        f"got {type(params).__name__}")
    if not arrays:
        raise ValueError("params must hold at least one array (optimizer got an empty "
                         "parameter list)")
    for k, p in enumerate(arrays):
        check_writable_float(p, f"params[{k}]")
    # no two params may overlap in memory (an update would be applied twice)
    spans = sorted((p.__array_interface__["data"][0], p.nbytes, k)
                   for k, p in enumerate(arrays) if p.nbytes)
    for (a0, an, ka), (b0, _, kb) in zip(spans, spans[1:]):
        if b0 < a0 + an:
            j, k = sorted((ka, kb))
            raise ValueError(f"params[{j}] and params[{k}] overlap in memory; each "
                             "parameter must be a separate array")
    return arrays


# ---------------------------------------------------------------------------
# base class
# ---------------------------------------------------------------------------

class Optimizer:
    """Base class of the fused optimizers (not used directly).

    Subclasses declare ``_rule`` (the kernel's update rule), ``_hyper``
    (hyperparameter names, in signature order), ``_slots`` (the kernel's state
    buffers, in kernel order) and which of them are created on demand
    (``_optional``). Hyperparameters are plain attributes, validated on
    assignment and pushed to the kernel's ParamGroup (which also keeps the step
    counter), so they can change between steps and ``step`` is one C call.
    """
    _hyper = ()
    _slots = ()
    _optional = {}          # slot -> predicate(self): is the buffer in use?
    _fill = {}              # slot -> attribute holding its initial value (else 0)

    def __init__(self, params, n_threads=1, **hyper):
        object.__setattr__(self, "_ready", False)
        object.__setattr__(self, "_group", None)
        self._params = _check_params(params)
        self.n_threads = n_threads
        for name in self._hyper:
            setattr(self, name, hyper[name])
        self._check_combination()
        self._buffers = {}
        self._sync_buffers()
        object.__setattr__(self, "_ready", True)

    # -- attributes -------------------------------------------------------
    def __setattr__(self, name, value):
        if name in self._hyper:
            value = _CHECKS[name](name, value)
            old = self.__dict__.get(name)
            object.__setattr__(self, name, value)
            if self._ready:
                try:
                    self._check_combination()
                except Exception:
                    object.__setattr__(self, name, old)   # a failed set changes nothing
                    raise
                self._sync_buffers()
        elif name == "n_threads":
            nt = int(effective_n_threads(value))
            object.__setattr__(self, "n_threads", value)
            object.__setattr__(self, "_nt", nt)
            if self._group is not None:
                self._group.n_threads = nt
        else:
            object.__setattr__(self, name, value)

    @property
    def params(self):
        """The list of parameter arrays updated in place."""
        return list(self._params)

    @property
    def step_count(self):
        """Number of steps taken so far."""
        return self._group.nstep

    # the counters live in the kernel's ParamGroup (advanced there by each step)
    @property
    def _step(self):
        return self._group.nstep

    @_step.setter
    def _step(self, value):
        self._group.nstep = value

    def _kernel_hyper(self):
        """Keyword arguments of ParamGroup.set_hyper for the current hyperparameters."""
        kw = {"decoupled": self._decoupled} if hasattr(self, "_decoupled") else {}
        for name in self._hyper:
            value = getattr(self, name)
            if name == "betas":
                kw["beta1"], kw["beta2"] = value
            elif name == "decoupled_weight_decay":
                kw["decoupled"] = value
            elif name != "initial_accumulator_value":
                kw[name] = value
        return kw

    def step(self, grads):
        """One update of every param from ``grads`` (one array per param, or one
        array when there is one param), in place, in one C call.

        Parameters
        ----------
        grads : ndarray or list of ndarray
            Same dtype and shape as the matching param. A failed call (bad
            ``grads``) raises and changes nothing.
        """
        bad = self._group.step(grads)
        if bad >= 0:
            # the fast check refused something: raise the precise error, or retry
            # once with contiguous copies of non-contiguous grads
            bad = self._group.step(self._grads_or_raise(grads, bad))
            if bad >= 0:
                raise RuntimeError(f"params[{bad}] was modified (resized or replaced) "
                                   "after the optimizer was created")

    def _check_combination(self):
        pass

    def _active_slots(self):
        return [s for s in self._slots
                if s not in self._optional or self._optional[s](self)]

    def _sync_buffers(self):
        """Create missing buffers in use, refresh the kernel's pointer cache and
        push the hyperparameters to it."""
        for slot in self._active_slots():
            if slot not in self._buffers:
                fill = getattr(self, self._fill[slot]) if slot in self._fill else 0.0
                self._buffers[slot] = [np.full_like(p, fill) for p in self._params]
        states = [[self._buffers[s][k] if s in self._buffers else None for s in self._slots]
                  for k in range(len(self._params))]
        if self._group is None:
            group = _k.ParamGroup(self._params, states, len(self._slots))
            group.n_threads = self._nt
            object.__setattr__(self, "_group", group)
        else:
            self._group.set_states(states)
        self._group.set_hyper(self._rule, **self._kernel_hyper())

    # -- grads ------------------------------------------------------------
    def _grads_or_raise(self, grads, bad):
        """Full check of ``grads`` after the fast one failed at index ``bad``:
        raise the precise error, or return contiguous grads the kernel accepts."""
        n = len(self._params)
        if isinstance(grads, np.ndarray):
            if n != 1:
                raise ValueError(f"grads must be a list of {n} arrays (one per param), "
                                 "got a single array")
            arrays = [grads]
        elif isinstance(grads, (list, tuple)):
            arrays = list(grads)
            if len(arrays) != n:
                raise ValueError(f"grads must hold {n} arrays (one per param), "
                                 f"got {len(arrays)}")
        else:
            raise TypeError("grads must be a numpy.ndarray or a list of numpy.ndarray, "
                            f"got {type(grads).__name__}")
        out = []
        for k, (g, p) in enumerate(zip(arrays, self._params)):
            if not isinstance(g, np.ndarray):
                raise TypeError(f"grads[{k}] must be a numpy.ndarray, got {type(g).__name__}")
            if g.dtype != p.dtype:
                raise TypeError(f"grads[{k}] must have the dtype of params[{k}] ({p.dtype}), "
                                f"got {g.dtype}")
            if g.shape != p.shape:
                raise ValueError(f"grads[{k}] must have the shape of params[{k}] {p.shape}, "
                                 f"got {g.shape}")
            if not p.flags.writeable:
                raise ValueError(f"params[{k}] has become read-only; a writeable array "
                                 "is needed")
            out.append(np.ascontiguousarray(g))
        if bad < n and out[bad] is arrays[bad]:
            # the fast check refused something this one accepts: never loop
            raise RuntimeError(f"params[{bad}] was modified (resized) after the optimizer "
                               "was created")
        return out

    # -- state ------------------------------------------------------------
    def state_dict(self):
        """Every buffer, the step count and the hyperparameters, as plain numpy
        arrays (copies) and Python numbers, under flat keys (``"exp_avg.0"``,
        ...) so that ``np.savez(f, **opt.state_dict())`` works.

        Returns
        -------
        dict
        """
        state = {"optimizer": type(self).__name__, "step": self._step}
        for name in self._hyper:
            state[name] = getattr(self, name)
        state.update(self._extra_state())
        for slot, arrays in self._buffers.items():
            if self._slot_saved(slot):
                for k, a in enumerate(arrays):
                    state[f"{slot}.{k}"] = a.copy()
        return state

    def load_state_dict(self, state):
        """Restore a :meth:`state_dict` (also one read back with ``np.load`` or
        pickle): buffers, step count and hyperparameters. Everything is checked
        before anything changes.

        Parameters
        ----------
        state : mapping
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"state must be a mapping (as returned by state_dict()), "
                            f"got {type(state).__name__}")
        kind = state.get("optimizer", type(self).__name__)
        if isinstance(kind, np.ndarray):
            kind = kind[()]
        if str(kind) != type(self).__name__:
            raise ValueError(f"state is for optimizer {kind!s}, not {type(self).__name__}")
        if "step" not in state:
            raise ValueError("state is missing 'step'")
        step = _as_int("state['step']", state["step"])
        hyper = {name: _CHECKS[name](f"state[{name!r}]", state[name])
                 for name in self._hyper if name in state}
        extra = self._check_extra_state(state, step)
        # validate buffers against the params
        new = {}
        for slot in self._slots:
            arrays = []
            for k, p in enumerate(self._params):
                key = f"{slot}.{k}"
                if key not in state:
                    break
                a = np.asarray(state[key])
                if a.dtype != p.dtype:
                    raise TypeError(f"state[{key!r}] must have the dtype of params[{k}] "
                                    f"({p.dtype}), got {a.dtype}")
                if a.shape != p.shape:
                    raise ValueError(f"state[{key!r}] must have the shape of params[{k}] "
                                     f"{p.shape}, got {a.shape}")
                arrays.append(a)
            if arrays and len(arrays) != len(self._params):
                raise ValueError(f"state is missing {slot!r}.{len(arrays)}: it must hold "
                                 f"one {slot!r} per param ({len(self._params)})")
            if f"{slot}.{len(self._params)}" in state:
                raise ValueError(f"state holds more {slot!r} buffers than there are params "
                                 f"({len(self._params)})")
            if arrays:
                new[slot] = arrays
            elif step > 0 and slot not in self._optional:
                raise ValueError(f"state is missing {slot!r}.0 (needed after step 0)")
        saved = {name: getattr(self, name) for name in self._hyper}
        try:
            for name, value in hyper.items():
                object.__setattr__(self, name, value)
            self._check_combination()
        except Exception:
            for name, value in saved.items():
                object.__setattr__(self, name, value)
            raise
        # commit (nothing below can fail on valid input)
        for slot in self._slots:
            if slot in new:
                if slot not in self._buffers:
                    self._buffers[slot] = [np.empty_like(p) for p in self._params]
                for dst, src in zip(self._buffers[slot], new[slot]):
                    np.copyto(dst, src)
            elif slot in self._buffers:
                if slot in self._fill:
                    fill = getattr(self, self._fill[slot])
                    for dst in self._buffers[slot]:
                        dst.fill(fill)
                else:
                    del self._buffers[slot]
        self._step = step
        self._load_extra_state(extra, new)
        self._sync_buffers()

    def _slot_saved(self, slot):
        return True

    def _extra_state(self):
        return {}

    def _check_extra_state(self, state, step):
        return None

    def _load_extra_state(self, extra, new):
        pass

    def __repr__(self):
        hp = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._hyper)
        return f"{type(self).__name__}({len(self._params)} arrays, {hp}, step={self._step})"


# ---------------------------------------------------------------------------
# the optimizers
# ---------------------------------------------------------------------------

class SGD(Optimizer):
    """Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    Parameters
    ----------
    params : ndarray or list of ndarray
        C-contiguous writeable float32/float64 arrays, updated in place.
    lr : float, default 1e-3
    momentum : float, default 0
    dampening : float, default 0
    weight_decay : float, default 0
        L2 penalty added to the gradient.
    nesterov : bool, default False
        Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    maximize : bool, default False
    n_threads : int, default 1
        OpenMP threads for large arrays (see ``gradkern.effective_n_threads``).

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.optim import SGD
    >>> w = np.array([1.0, -1.0])
    >>> opt = SGD(w, lr=0.1, momentum=0.9)
    >>> opt.step(np.array([1.0, 1.0]))
    >>> w
    array([ 0.9, -1.1])
    """
    _rule = _k.RULE_SGD
    _hyper = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    _slots = ("momentum_buffer",)
    _optional = {"momentum_buffer": lambda self: self.momentum != 0}

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False, n_threads=1):
        super().__init__(params, n_threads, lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)

    def _check_combination(self):
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _slot_saved(self, slot):
        return self._group.buf_ready

    def _load_extra_state(self, extra, new):
        self._group.buf_ready = "momentum_buffer" in new



class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (L2 ``weight_decay`` added to the gradient).

    Parameters
    ----------
    params : ndarray or list of ndarray
        C-contiguous writeable float32/float64 arrays, updated in place.
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
    amsgrad : bool, default False
        Use the running maximum of the second moment (its buffer starts at 0
        when the option is switched on later).
    maximize : bool, default False
    n_threads : int, default 1

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.optim import Adam
    >>> w = np.ones(2, dtype=np.float32)
    >>> opt = Adam(w, lr=0.1)
    >>> opt.step(np.array([0.5, -2.0], dtype=np.float32))
    >>> np.round(w, 4)
    array([0.9, 1.1], dtype=float32)
    >>> sorted(k for k in opt.state_dict() if "." in k)
    ['exp_avg.0', 'exp_avg_sq.0']
    """
    _rule = _k.RULE_ADAM
    _hyper = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
    _slots = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _optional = {"max_exp_avg_sq": lambda self: self.amsgrad}
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False, n_threads=1):
        super().__init__(params, n_threads, lr=lr, betas=betas, eps=eps,
                         weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)



class AdamW(Adam):
    """AdamW (decoupled weight decay), as ``torch.optim.AdamW``: same parameters
    as :class:`Adam` but ``weight_decay`` defaults to 1e-2 and shrinks the
    params by ``1 - lr * weight_decay`` before the Adam step.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.optim import AdamW
    >>> w = np.ones(2)
    >>> AdamW(w, lr=0.1).step(np.zeros(2))
    >>> w
    array([0.999, 0.999])
    """
    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False, n_threads=1):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, n_threads=n_threads)


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``.

    Parameters
    ----------
    params : ndarray or list of ndarray
    lr : float, default 1e-2
    alpha : float, default 0.99
        Smoothing constant of the squared-gradient average.
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum : float, default 0
    centered : bool, default False
        Normalise by the estimated variance of the gradient.
    maximize : bool, default False
    n_threads : int, default 1

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.optim import RMSprop
    >>> w = np.zeros(2)
    >>> RMSprop(w, lr=0.01).step(np.array([1.0, -1.0]))
    >>> np.round(w, 4)
    array([-0.1,  0.1])
    """
    _rule = _k.RULE_RMSPROP
    _hyper = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize")
    _slots = ("square_avg", "momentum_buffer", "grad_avg")
    _optional = {"momentum_buffer": lambda self: self.momentum > 0,
                 "grad_avg": lambda self: self.centered}

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False, maximize=False, n_threads=1):
        super().__init__(params, n_threads, lr=lr, alpha=alpha, eps=eps,
                         weight_decay=weight_decay, momentum=momentum, centered=centered,
                         maximize=maximize)



class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad`` (dense gradients).

    Parameters
    ----------
    params : ndarray or list of ndarray
    lr : float, default 1e-2
    lr_decay : float, default 0
        Step size ``lr / (1 + (step - 1) * lr_decay)``.
    weight_decay : float, default 0
    initial_accumulator_value : float, default 0
        Initial value of the sum of squared gradients.
    eps : float, default 1e-10
    maximize : bool, default False
    n_threads : int, default 1

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.optim import Adagrad
    >>> w = np.zeros(2)
    >>> Adagrad(w, lr=0.5).step(np.array([2.0, -4.0]))
    >>> w
    array([-0.5,  0.5])
    """
    _rule = _k.RULE_ADAGRAD
    _hyper = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps",
              "maximize")
    _slots = ("sum",)
    _fill = {"sum": "initial_accumulator_value"}

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, maximize=False, n_threads=1):
        super().__init__(params, n_threads, lr=lr, lr_decay=lr_decay,
                         weight_decay=weight_decay,
                         initial_accumulator_value=initial_accumulator_value, eps=eps,
                         maximize=maximize)



class Adamax(Optimizer):
    """Adamax (infinity-norm Adam), as ``torch.optim.Adamax``.

    Parameters
    ----------
    params : ndarray or list of ndarray
    lr : float, default 2e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
    maximize : bool, default False
    n_threads : int, default 1

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.optim import Adamax
    >>> w = np.zeros(2)
    >>> Adamax(w, lr=0.1).step(np.array([1.0, -1.0]))
    >>> np.round(w, 6)
    array([-0.1,  0.1])
    """
    _rule = _k.RULE_ADAMAX
    _hyper = ("lr", "betas", "eps", "weight_decay", "maximize")
    _slots = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 maximize=False, n_threads=1):
        super().__init__(params, n_threads, lr=lr, betas=betas, eps=eps,
                         weight_decay=weight_decay, maximize=maximize)



class NAdam(Optimizer):
    """NAdam (Nesterov Adam), as ``torch.optim.NAdam``.

    Parameters
    ----------
    params : ndarray or list of ndarray
    lr : float, default 2e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum_decay : float, default 4e-3
    decoupled_weight_decay : bool, default False
        AdamW-style weight decay.
    maximize : bool, default False
    n_threads : int, default 1

    The running product of the momentum coefficients is kept in double and
    saved as ``state_dict()["mu_product"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.optim import NAdam
    >>> w = np.zeros(2)
    >>> opt = NAdam(w, lr=0.1)
    >>> opt.step(np.array([1.0, -1.0]))
    >>> np.round(w, 4)
    array([-0.1056,  0.1056])
    """
    _rule = _k.RULE_NADAM
    _hyper = ("lr", "betas", "eps", "weight_decay", "momentum_decay",
              "decoupled_weight_decay", "maximize")
    _slots = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False,
                 n_threads=1):
        super().__init__(params, n_threads, lr=lr, betas=betas, eps=eps,
                         weight_decay=weight_decay, momentum_decay=momentum_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)

    def _extra_state(self):
        return {"mu_product": self._group.mu_product}

    def _check_extra_state(self, state, step):
        if "mu_product" not in state:
            if step > 0:
                raise ValueError("state is missing 'mu_product' (needed after step 0)")
            return 1.0
        return _real("state['mu_product']", state["mu_product"])

    def _load_extra_state(self, extra, new):
        self._group.mu_product = extra



class RAdam(Optimizer):
    """RAdam (rectified Adam), as ``torch.optim.RAdam``.

    Parameters
    ----------
    params : ndarray or list of ndarray
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
    decoupled_weight_decay : bool, default False
    maximize : bool, default False
    n_threads : int, default 1

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.optim import RAdam
    >>> w = np.zeros(2)
    >>> RAdam(w, lr=0.1).step(np.array([1.0, -1.0]))   # un-rectified first steps
    >>> w
    array([-0.1,  0.1])
    """
    _rule = _k.RULE_RADAM
    _hyper = ("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize")
    _slots = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, maximize=False, n_threads=1):
        super().__init__(params, n_threads, lr=lr, betas=betas, eps=eps,
                         weight_decay=weight_decay,
                         decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)



class Lion(Optimizer):
    """Lion (evolved sign momentum), as in the Lion paper (Chen et al. 2023,
    Algorithm 2) and optax::

        c = beta1 * m + (1 - beta1) * g
        p = p - lr * (sign(c) + weight_decay * p)     # decoupled weight decay
        m = beta2 * m + (1 - beta2) * g

    The weight decay uses the paper's form (applied with the same ``lr`` as
    the sign update, on the params before the update); optax's
    ``add_decayed_weights`` then ``scale(-lr)`` is the same formula.

    Parameters
    ----------
    params : ndarray or list of ndarray
    lr : float, default 1e-4
    betas : (float, float), default (0.9, 0.99)
    weight_decay : float, default 0
    maximize : bool, default False
    n_threads : int, default 1

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.optim import Lion
    >>> w = np.zeros(3)
    >>> Lion(w, lr=0.1).step(np.array([2.0, -0.5, 0.0]))
    >>> w
    array([-0.1,  0.1,  0. ])
    """
    _rule = _k.RULE_LION
    _hyper = ("lr", "betas", "weight_decay", "maximize")
    _slots = ("exp_avg",)

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0,
                 maximize=False, n_threads=1):
        super().__init__(params, n_threads, lr=lr, betas=betas,
                         weight_decay=weight_decay, maximize=maximize)



# ---------------------------------------------------------------------------
# gradient clipping
# ---------------------------------------------------------------------------

def clip_grad_norm(grads, max_norm, norm_type=2.0, error_if_nonfinite=False, n_threads=1):
    """Scale ``grads`` in place so that their global norm is at most ``max_norm``,
    as ``torch.nn.utils.clip_grad_norm_``, in one fused pass per array.

    The total norm is the ``norm_type``-norm of all elements of all arrays
    (accumulated in double); every grad is multiplied by
    ``min(max_norm / (total + 1e-6), 1)``. A NaN/inf total makes the grads
    NaN (torch's behaviour) unless ``error_if_nonfinite`` is set.

    Parameters
    ----------
    grads : ndarray or list of ndarray
        C-contiguous writeable float32/float64 arrays.
    max_norm : float
        Non-negative bound on the total norm.
    norm_type : float, default 2.0
        Order of the norm: any positive number or ``inf``.
    error_if_nonfinite : bool, default False
        Raise ``ValueError`` (touching nothing) when the total norm is NaN or inf.
    n_threads : int, default 1

    Returns
    -------
    total_norm : float
        The norm before clipping.

    Examples
    --------
    >>> import numpy as np
    >>> from gradkern.optim import clip_grad_norm
    >>> g = [np.array([3.0]), np.array([4.0])]
    >>> clip_grad_norm(g, 1.0)
    5.0
    >>> np.round(np.concatenate(g), 6)
    array([0.6, 0.8])
    """
    if isinstance(grads, np.ndarray):
        arrays = [grads]
    elif isinstance(grads, (list, tuple)):
        arrays = list(grads)
    else:
        raise TypeError("grads must be a numpy.ndarray or a list of numpy.ndarray, "
                        f"got {type(grads).__name__}")
    for k, g in enumerate(arrays):
        check_writable_float(g, f"grads[{k}]")
    max_norm = _real("max_norm", max_norm)
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm}")
    norm_type = _real("norm_type", norm_type)
    if not norm_type > 0:
        raise ValueError(f"norm_type must be > 0 (or inf), got {norm_type}")
    error_if_nonfinite = _flag("error_if_nonfinite", error_if_nonfinite)
    nt = effective_n_threads(n_threads)
    total = _k.clip_grad_norm(arrays, max_norm, norm_type, nt, error_if_nonfinite)
    if error_if_nonfinite and not np.isfinite(total):
        raise ValueError(f"The total norm of order {norm_type} of grads is non-finite "
                         f"({total}), so it cannot be clipped")
    return total
