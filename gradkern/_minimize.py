"""A drop-in optimizer driver: ``gradkern.minimize`` and ``gradkern.scipy_method``.

The driver runs the fused updates of :mod:`gradkern.optim` (Adam, SGD, ...)
and a projected gradient descent (``'gd'``: Barzilai-Borwein trial steps,
Armijo backtracking) with scipy's conventions: the same
``fun``/``jac``/``bounds``/``callback`` arguments, an
:class:`scipy.optimize.OptimizeResult`, scipy's status messages, and a callable
method that ``scipy.optimize.minimize(method=...)`` accepts.

Per iteration the driver does one gradient evaluation, one optimizer step in
place on a float64 copy of ``x0``, an optional projection onto the bounds and
its stopping tests; the reductions and projections are small Cython kernels
(``gradkern._kernels._minimize``) so the loop costs a few microseconds on top
of ``fun`` and ``jac``.
"""
import inspect
import math
import numbers
import warnings

import numpy as np
from scipy.optimize import Bounds, OptimizeResult, OptimizeWarning

from gradkern._kernels import _minimize as _k
from gradkern._validation import as_float_array, check_positive_int

__all__ = ["minimize", "scipy_method", "available_methods"]

FD_METHODS = ("2-point", "3-point", "cs", "richardson")

# Options every method takes, with their defaults.
_DRIVER_DEFAULTS = {"maxiter": 1000, "gtol": 1e-5, "ftol": 0.0, "xtol": 0.0, "disp": False}
# Extra options of the minibatch mode (fun is a gradkern.objectives instance).
_MINIBATCH_OPTIONS = ("batch_size", "shuffle", "seed", "epochs")
# Learning-rate schedules of the gradkern.optim methods (option 'lr_schedule').
_SCHEDULES = ("constant", "linear", "cosine")
# Options of 'gd' (projected gradient descent with Armijo backtracking).
_GD_DEFAULTS = {"lr": 1.0, "c1": 1e-4, "shrink": 0.5, "grow": 2.0, "max_backtracks": 60}
# Finite-difference options (used when jac is a string or None).
_FD_OPTIONS = ("finite_diff_rel_step", "finite_diff_method")

_MSG = {
    "success": "Optimization terminated successfully.",
    "ftol": "Optimization terminated successfully: relative reduction of f <= ftol.",
    "xtol": "Optimization terminated successfully: step size <= xtol.",
    "maxiter": "Maximum number of iterations has been exceeded.",
    "pr_loss": "Desired error not necessarily achieved due to precision loss.",
    "callback": "`callback` raised `StopIteration`.",
    "steps": "Completed the requested number of minibatch steps.",
}
_STATUS_MAXITER, _STATUS_PR_LOSS, _STATUS_NAN, _STATUS_CALLBACK = 1, 2, 3, 99


# --------------------------------------------------------------------------- methods

def _optimizer_classes():
    """``{lower-case name: class}`` for every optimizer of :mod:`gradkern.optim`."""
    try:
        from gradkern import optim
    except ImportError:  # pragma: no cover - the optim kernels are not built
        return {}
    names = getattr(optim, "__all__", None) or [n for n in dir(optim) if not n.startswith("_")]
    base = getattr(optim, "Optimizer", None)
    out = {}
    for name in names:
        cls = getattr(optim, name, None)
        if isinstance(cls, type) and cls is not base and callable(getattr(cls, "step", None)):
            out[name.lower()] = cls
    return out


def available_methods():
    """Names accepted as ``method`` by :func:`minimize` and :func:`scipy_method`.

    Returns
    -------
    list of str
        ``'gd'`` followed by every :mod:`gradkern.optim` optimizer in lower case.

    Examples
    --------
    >>> import gradkern
    >>> gradkern.minimize_methods()[:3]
    ['gd', 'adagrad', 'adam']
    """
    return ["gd"] + sorted(_optimizer_classes())


def _resolve_method(method):
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    name = method.lower()
    if name == "gd":
        return name, None
    classes = _optimizer_classes()
    if name not in classes:
        raise ValueError(f"method must be one of {['gd'] + sorted(classes)}, got {method!r}")
    return name, classes[name]


def _hyperparameter_names(cls):
    """Keyword parameters of ``cls(params, ...)``, or None if not introspectable."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return None
    names = []
    for i, (pname, p) in enumerate(sig.parameters.items()):
        if p.kind is p.VAR_KEYWORD:
            return None
        if i == 0 or p.kind is p.VAR_POSITIONAL:
            continue  # params
        names.append(pname)
    return names


# --------------------------------------------------------------------------- checks

def _nonneg_float(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"options[{name!r}] must be a real number, got {type(value).__name__}")
    value = float(value)
    if not value >= 0.0:
        raise ValueError(f"options[{name!r}] must be >= 0, got {value}")
    return value


def _parse_bounds(bounds, n):
    """``None`` or ``(lb, ub)`` float64 arrays of length n (+-inf where unbounded)."""
    if bounds is None:
        return None
    if isinstance(bounds, Bounds):
        try:
            lb = np.broadcast_to(np.asarray(bounds.lb, dtype=np.float64), (n,))
            ub = np.broadcast_to(np.asarray(bounds.ub, dtype=np.float64), (n,))
        except ValueError:
            raise ValueError(f"bounds: Bounds.lb and Bounds.ub must be scalars or of "
                             f"length {n} (the length of x0)") from None
    else:
        try:
            pairs = list(bounds)
        except TypeError:
            raise TypeError("bounds must be None, a scipy.optimize.Bounds or a sequence of "
                            f"(min, max) pairs, got {type(bounds).__name__}") from None
        if len(pairs) != n:
            raise ValueError(f"bounds must have one (min, max) pair per variable: "
                             f"got {len(pairs)} pairs for {n} variables")
        lb = np.empty(n)
        ub = np.empty(n)
        for i, pair in enumerate(pairs):
            try:
                lo, hi = pair
            except (TypeError, ValueError):
                raise ValueError(f"bounds[{i}] must be a (min, max) pair, got {pair!r}") from None
            try:
                lb[i] = -np.inf if lo is None else float(lo)
                ub[i] = np.inf if hi is None else float(hi)
            except (TypeError, ValueError):
                raise TypeError(f"bounds[{i}] must hold real numbers or None, "
                                f"got {pair!r}") from None
    lb = np.ascontiguousarray(lb, dtype=np.float64).copy()
    ub = np.ascontiguousarray(ub, dtype=np.float64).copy()
    if np.isnan(lb).any() or np.isnan(ub).any():
        raise ValueError("bounds must not contain NaN")
    if (lb > ub).any():
        i = int(np.argmax(lb > ub))
        raise ValueError(f"bounds: lower bound {lb[i]} > upper bound {ub[i]} for variable {i}")
    if np.isneginf(lb).all() and np.isposinf(ub).all():
        return None
    return lb, ub


def _is_objective(fun):
    """Duck-typed gradkern.objectives instance: value, grad and value_and_grad."""
    return all(callable(getattr(fun, a, None)) for a in ("value", "grad", "value_and_grad"))


def _n_samples(obj):
    for attr in ("n_samples", "n_samples_"):
        n = getattr(obj, attr, None)
        if n is not None:
            return int(n)
    X = getattr(obj, "X", None)
    if X is not None and getattr(X, "shape", None):
        return int(X.shape[0])
    raise ValueError("minibatch options (batch_size, shuffle, seed, epochs) need an objective "
                     "built on data samples (with n_samples), got " + type(obj).__name__)


def _callback_form(callback):
    """'result' (callback(intermediate_result=...)), 'x' (callback(xk)) or None."""
    if callback is None:
        return None
    if not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    try:
        params = set(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        return "x"
    return "result" if params == {"intermediate_result"} else "x"


def _scalar(f):
    """``float(f)`` for the value returned by ``fun`` (a scalar or a 1-element array)."""
    try:
        return float(f)
    except TypeError:
        arr = np.asarray(f)
        if arr.size != 1:
            raise ValueError("fun must return a scalar, got an array of shape "
                             f"{arr.shape}") from None
        return float(arr.reshape(()))


# --------------------------------------------------------------------------- evaluators

class _Evaluator:
    """f and g of one problem, counting every call to ``fun`` and every gradient."""

    def __init__(self, fun, jac, args, fd_method, rel_step, bounds, n):
        self.nfev = 0
        self.njev = 0
        self.n = n
        self.args = args
        self.fun = fun
        self.jac = jac
        self.objective = None
        self._last_g = None
        if jac is True:
            self.fg, self.f, self.g = self._fg_joint, self._f_joint, self._g_joint
        elif callable(jac):
            self.fg, self.f, self.g = self._fg_split, self._f_plain, self._g_split
        else:
            self.fd_method = fd_method
            self.rel_step = rel_step
            self.fd_bounds = (-np.inf, np.inf) if bounds is None else bounds
            self.fg, self.f, self.g = self._fg_fd, self._f_plain, self._g_fd

    @classmethod
    def for_objective(cls, obj, n):
        self = cls.__new__(cls)
        self.nfev = 0
        self.njev = 0
        self.n = n
        self.objective = obj
        self.fun, self.jac, self.args = obj, None, ()
        # the fused value_and_grad reads the data once, like value alone: 'gd' trial
        # points get their gradient with their value (counted in njev), and the
        # accepted one needs no second pass
        self._last_g = None
        self.fg, self.f, self.g = self._fg_obj, self._f_obj_joint, self._g_joint
        return self

    def _grad(self, g):
        a = _k.as_grad(g, self.n)
        if a is None:
            raise ValueError(f"the gradient must be an array of shape ({self.n},) like x0, "
                             f"got {np.shape(g)}")
        return a

    # jac=True: fun returns (f, g)
    def _fg_joint(self, x):
        self.nfev += 1
        self.njev += 1
        f, g = _joint_call(self.fun, x, self.args)
        return _scalar(f), self._grad(g)

    def _f_joint(self, x):
        f, self._last_g = self._fg_joint(x)
        return f

    def _g_joint(self, x, f):
        return self._last_g  # from the call that gave f at this same x

    # jac callable
    def _f_plain(self, x):
        self.nfev += 1
        return _scalar(self.fun(x, *self.args))

    def _g_split(self, x, f):
        self.njev += 1
        return self._grad(self.jac(x, *self.args))

    def _fg_split(self, x):
        self.nfev += 1
        self.njev += 1
        return _scalar(self.fun(x, *self.args)), self._grad(self.jac(x, *self.args))

    # finite differences
    def _counted(self, x, *args):
        self.nfev += 1
        return self.fun(x, *args)

    def _g_fd(self, x, f):
        from gradkern import approx_derivative
        self.njev += 1
        if not math.isfinite(f):
            return np.full(self.n, np.nan)
        g = approx_derivative(self._counted, x, method=self.fd_method, rel_step=self.rel_step,
                              f0=f, bounds=self.fd_bounds, args=self.args)
        return self._grad(g)

    def _fg_fd(self, x):
        f = self._f_plain(x)
        return f, self._g_fd(x, f)

    # gradkern.objectives instance
    def _fg_obj(self, x, rows=None):
        self.nfev += 1
        self.njev += 1
        if rows is None:
            f, g = self.objective.value_and_grad(x)
        else:
            f, g = self.objective.value_and_grad(x, rows=rows)
        return _scalar(f), self._grad(g)

    def _f_obj_joint(self, x):
        f, self._last_g = self._fg_obj(x)
        return f


# --------------------------------------------------------------------------- driver

def minimize(fun, x0, args=(), method="adam", jac=None, bounds=None, callback=None,
             tol=None, options=None):
    """Minimize a scalar function with a gradkern optimizer, the scipy way.

    Parameters
    ----------
    fun : callable or gradkern.objectives instance
        ``fun(x, *args) -> float``; with ``jac=True``, ``fun(x, *args) -> (f, g)``.
        An object with ``value``, ``grad`` and ``value_and_grad`` methods (a
        :mod:`gradkern.objectives` instance) is used through its fused
        ``value_and_grad``, and enables minibatch training (see ``options``).
    x0 : array_like, shape (n,)
        Initial guess (real numbers; the driver works on a float64 copy).
    args : tuple, optional
        Extra arguments passed to ``fun`` and ``jac``.
    method : str, optional
        ``'gd'`` (projected gradient descent, Barzilai-Borwein trial steps
        and Armijo backtracking) or any :mod:`gradkern.optim` class name in
        lower case (``'adam'``, ``'sgd'``, ...; see :func:`available_methods`). Default ``'adam'``.
    jac : callable, True, {'2-point', '3-point', 'cs', 'richardson'} or None
        Gradient: ``jac(x, *args) -> array of shape (n,)``; ``True`` when ``fun``
        returns ``(f, g)``; a finite-difference scheme of
        :func:`gradkern.approx_derivative` (steps respect ``bounds``); ``None``
        means ``'2-point'`` as in scipy.
    bounds : None, scipy.optimize.Bounds or sequence of (min, max) pairs
        Box constraints (``None`` for an unbounded side). ``x0`` and every
        iterate are projected onto the box.
    callback : callable, optional
        Called after every iteration as ``callback(intermediate_result)`` when
        its only parameter is named ``intermediate_result`` (an
        ``OptimizeResult`` with ``x``, ``fun``, ``jac``, ``nit``), else as
        ``callback(xk)``. Raising ``StopIteration`` ends the run (status 99)
        with the best point so far.
    tol : float, optional
        Default for ``options['gtol']``.
    options : dict, optional
        ``maxiter`` (default 1000), ``gtol`` (stop when the infinity norm of the
        (projected) gradient is <= gtol; default 1e-5), ``ftol`` (stop when
        ``|f_prev - f| <= ftol * max(|f_prev|, |f|, 1)``; default 0, off),
        ``xtol`` (stop when ``max|x_prev - x| <= xtol * (1 + max|x|)``;
        default 0, off), ``disp`` (print a summary), ``finite_diff_rel_step``
        (relative step of the finite differences), ``finite_diff_method``
        (the scheme used when ``jac`` is None); the optimizer's
        hyperparameters (e.g. ``lr``, ``betas`` for Adam) and ``lr_schedule``
        (``'constant'``, default; ``'linear'``: ``lr * (1 - t / maxiter)`` at
        step ``t = 0, 1, ...``; ``'cosine'``: ``lr * (1 + cos(pi t / maxiter)) / 2``;
        or a callable ``t -> lr``), or for ``'gd'``:
        ``lr`` (first trial step of the first iteration, 1.0; later ones are
        Barzilai-Borwein steps ``s.s / s.y``, kept within a factor 1000 of
        the previous step), ``c1`` (Armijo constant, 1e-4), ``shrink`` (0.5),
        ``grow`` (2.0: next first trial step when ``s.y <= 0``),
        ``max_backtracks`` (60). When ``fun`` is a
        :mod:`gradkern.objectives` instance also ``batch_size``, ``shuffle``
        (default True), ``seed`` and ``epochs`` (sets ``maxiter`` to
        ``epochs * ceil(n_samples / batch_size)``): each iteration then uses a
        fresh minibatch, ``gtol``/``ftol`` default to 0 (off) and apply to the
        minibatch values, the callback's ``intermediate_result`` holds the new
        ``x`` with the minibatch ``fun``/``jac`` that produced the step (no
        extra pass over the data), a run of ``maxiter`` steps ends with status
        0, and ``fun``/``jac`` of the result are the full-data values at the
        final ``x``. Unknown options give an
        ``OptimizeWarning``, as scipy's own methods do.

    Returns
    -------
    res : scipy.optimize.OptimizeResult
        ``x, fun, jac, nit, nfev, njev, success, status, message``. ``status``:
        0 success, 1 ``maxiter`` reached, 2 line search failed (``'gd'``),
        3 non-finite ``f`` or gradient (the last point where both were finite
        is returned), 99 ``callback`` raised ``StopIteration``. On status 0 the
        point that met the test is returned; otherwise the evaluated point with
        the lowest ``f`` (full-batch), or the last finite iterate (minibatch).
        ``nfev`` counts every call of ``fun`` (finite-difference calls
        included; one per minibatch), ``njev`` every gradient.

    See Also
    --------
    scipy_method : the same optimizers as a ``method`` of ``scipy.optimize.minimize``.

    Examples
    --------
    >>> import numpy as np, gradkern
    >>> def f(x):
    ...     return (x[0] - 1.0) ** 2 + 10.0 * (x[1] + 2.0) ** 2
    >>> def g(x):
    ...     return np.array([2.0 * (x[0] - 1.0), 20.0 * (x[1] + 2.0)])
    >>> res = gradkern.minimize(f, [0.0, 0.0], method='gd', jac=g, tol=1e-9)
    >>> res.success, np.round(res.x, 6)
    (True, array([ 1., -2.]))
    >>> res = gradkern.minimize(f, [0.0, 0.0], method='adam', jac='3-point',
    ...                         options={'lr': 0.1, 'maxiter': 2000})
    >>> res.success, np.round(res.x, 4), res.nfev == res.njev * 5
    (True, array([ 1., -2.]), True)

    Minibatch training of a gradkern objective:

    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 3))
    >>> y = (X @ [1.0, -2.0, 0.5] > 0).astype(float)
    >>> obj = gradkern.objectives.Logistic(X, y, l2=1e-2)
    >>> res = gradkern.minimize(obj, np.zeros(3), method='adam',
    ...                         options={'lr': 0.1, 'batch_size': 100, 'epochs': 20,
    ...                                  'lr_schedule': 'linear', 'seed': 0})
    >>> res.nit, res.nfev
    (200, 201)
    >>> res = gradkern.minimize(f, [0.0, 0.0], method='gd', jac=g, bounds=[(None, 0.5), (-1, 1)])
    >>> np.round(res.x, 6)
    array([ 0.5, -1. ])
    """
    opts = {} if options is None else options
    if not isinstance(opts, dict):
        raise TypeError(f"options must be a dict or None, got {type(opts).__name__}")
    opts = dict(opts)
    if tol is not None:
        opts.setdefault("gtol", tol)
    return _minimize(fun, x0, args, method, jac, bounds, callback, opts, stacklevel=3)


def scipy_method(method, **defaults):
    """A gradkern method as a callable ``method`` for ``scipy.optimize.minimize``.

    Parameters
    ----------
    method : str
        As for :func:`minimize`: ``'gd'`` or a :mod:`gradkern.optim` class
        name in lower case.
    **defaults
        Default options (overridden by ``options=`` of the scipy call). The
        default ``jac`` selects the finite-difference scheme
        (``'2-point'``, default, ``'3-point'``, ``'cs'``, ``'richardson'``)
        used when no gradient is given: scipy hands custom methods
        ``jac=None`` for every string. Inside ``options=`` use
        ``finite_diff_method`` instead (scipy passes ``jac=`` itself, so an
        option of that name cannot reach the method).

    Returns
    -------
    callable
        ``f(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None,
        constraints=(), callback=None, **options) -> OptimizeResult``.
        ``jac=True`` is detected through scipy's wrapper so ``(f, g)`` comes
        from one call; ``tol`` arrives as an option and sets ``gtol``; unknown
        options give an ``OptimizeWarning``; ``hess``, ``hessp`` and
        constraints are not used (``RuntimeWarning``, as scipy).

    Examples
    --------
    >>> import numpy as np, scipy.optimize, gradkern
    >>> res = scipy.optimize.minimize(lambda x: np.sum((x - 3.0) ** 2), np.zeros(3),
    ...                               jac=lambda x: 2.0 * (x - 3.0),
    ...                               method=gradkern.scipy_method('gd'))
    >>> res.success, np.round(res.x, 6)
    (True, array([3., 3., 3.]))
    """
    name, _ = _resolve_method(method)
    defaults = dict(defaults)

    def gradkern_method(fun, x0, args=(), jac=None, hess=None, hessp=None, bounds=None,
                        constraints=(), callback=None, **options):
        opts = dict(defaults)
        opts.update(options)
        fd = opts.pop("jac", None)  # from scipy_method(..., jac='3-point') defaults
        if fd is not None and fd not in FD_METHODS:
            raise ValueError(f"scipy_method: the option jac must be one of {list(FD_METHODS)}, "
                             f"got {fd!r}")
        tol = opts.pop("tol", None)
        if tol is not None:
            opts.setdefault("gtol", tol)
        inner = getattr(fun, "fun", None)
        if callable(jac) and getattr(jac, "__self__", None) is fun and callable(inner) \
                and hasattr(fun, "derivative"):
            fun, jac = inner, True  # scipy's MemoizeJac for jac=True: one call gives (f, g)
        elif jac is None:
            jac = fd
        if hess is not None:
            warnings.warn(f"Method {name} does not use Hessian information (hess).",
                          RuntimeWarning, stacklevel=3)
        if hessp is not None:
            warnings.warn(f"Method {name} does not use Hessian-vector product "
                          "information (hessp).", RuntimeWarning, stacklevel=3)
        if constraints is not None and np.any(constraints):
            warnings.warn(f"Method {name} cannot handle constraints.",
                          RuntimeWarning, stacklevel=3)
        return _minimize(fun, x0, args, name, jac, bounds, callback, opts, stacklevel=4)

    gradkern_method.__name__ = gradkern_method.__qualname__ = f"gradkern_{name}"
    gradkern_method.__doc__ = f"gradkern method {name!r} for scipy.optimize.minimize."
    return gradkern_method


def _minimize(fun, x0, args, method, jac, bounds, callback, opts, stacklevel):
    name, cls = _resolve_method(method)
    if not isinstance(args, tuple):
        args = (args,)
    x = as_float_array(np.atleast_1d(x0), "x0", dtype=np.float64, ndim=1, copy=True,
                       allow_nonfinite=False)
    n = x.shape[0]
    if n == 0:
        raise ValueError("x0 must have at least one element")
    box = _parse_bounds(bounds, n)
    if box is not None:
        _k.project_box(x, box[0], box[1])
    cb_form = _callback_form(callback)

    # ---- options: driver, minibatch, finite differences, method hyperparameters
    opts = dict(opts)
    user_set = {k for k in _DRIVER_DEFAULTS if k in opts}
    driver = {k: opts.pop(k, d) for k, d in _DRIVER_DEFAULTS.items()}
    maxiter = check_positive_int(driver["maxiter"], "options['maxiter']", minimum=0)
    gtol = _nonneg_float(driver["gtol"], "gtol")
    ftol = _nonneg_float(driver["ftol"], "ftol")
    xtol = _nonneg_float(driver["xtol"], "xtol")
    disp = bool(driver["disp"])
    mb = {k: opts.pop(k) for k in _MINIBATCH_OPTIONS if k in opts}
    schedule = opts.pop("lr_schedule", None)
    if schedule is not None and not callable(schedule) and schedule not in _SCHEDULES:
        raise ValueError(f"options['lr_schedule'] must be None, a callable or one of "
                         f"{list(_SCHEDULES)}, got {schedule!r}")
    rel_step = opts.pop("finite_diff_rel_step", None)
    fd_option = opts.pop("finite_diff_method", None)
    if fd_option is not None and fd_option not in FD_METHODS:
        raise ValueError(f"options['finite_diff_method'] must be one of {list(FD_METHODS)}, "
                         f"got {fd_option!r}")

    objective = _is_objective(fun)
    if objective:
        if args:
            raise ValueError("args must be empty when fun is a gradkern.objectives instance")
        if jac is not None and jac is not True:
            raise ValueError("jac must be None or True when fun is a gradkern.objectives "
                             "instance (its analytic gradient is used)")
    elif mb:
        raise ValueError(f"options {sorted(mb)} need fun to be a gradkern.objectives instance")
    elif not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")
    fd_method = None
    if not objective and jac is not True and not callable(jac):
        if jac is None or jac is False:
            fd_method = "2-point" if fd_option is None else fd_option
        elif isinstance(jac, str) and jac in FD_METHODS:
            fd_method = jac
        else:
            raise ValueError(f"jac must be callable, True, None or one of {list(FD_METHODS)}, "
                             f"got {jac!r}")

    if name == "gd":
        hyper = {k: opts.pop(k, d) for k, d in _GD_DEFAULTS.items()}
        lr = _nonneg_float(hyper["lr"], "lr")
        c1 = _nonneg_float(hyper["c1"], "c1")
        shrink = _nonneg_float(hyper["shrink"], "shrink")
        grow = _nonneg_float(hyper["grow"], "grow")
        if lr <= 0 or not 0 < shrink < 1 or grow < 1 or c1 >= 1:
            raise ValueError("'gd' options need lr > 0, 0 < shrink < 1, grow >= 1 and "
                             f"c1 < 1; got lr={lr}, shrink={shrink}, grow={grow}, c1={c1}")
        max_bt = check_positive_int(hyper["max_backtracks"], "options['max_backtracks']")
        if mb:
            raise ValueError("minibatch options are for the gradkern.optim methods, not 'gd'")
        if schedule is not None:
            raise ValueError("options['lr_schedule'] is for the gradkern.optim methods; 'gd' "
                             "chooses its steps by backtracking")
    else:
        known = _hyperparameter_names(cls)
        if known is None:
            hyper, opts = opts, {}
        else:
            hyper = {k: opts.pop(k) for k in known if k in opts}
        if hyper.get("maximize", False):
            raise ValueError("options['maximize'] must be False: the driver minimizes (and "
                             "its stopping tests assume descent); minimize -fun instead")
    if opts:
        warnings.warn("Unknown solver options: " + ", ".join(map(str, opts)),
                      OptimizeWarning, stacklevel=stacklevel)

    if objective:
        ev = _Evaluator.for_objective(fun, n)
    else:
        ev = _Evaluator(fun, jac, args, fd_method, rel_step, box, n)

    if name == "gd":
        res = _run_gd(ev, x, box, callback, cb_form, maxiter, gtol, ftol, xtol,
                      lr, c1, shrink, grow, max_bt)
    else:
        opt = cls(x, **hyper)
        if schedule is not None and not hasattr(opt, "lr"):  # pragma: no cover
            raise ValueError(f"options['lr_schedule']: method {name!r} has no lr")
        if mb:
            res = _run_minibatch(ev, fun, x, opt, box, callback, cb_form, mb, driver,
                                 user_set, maxiter, xtol, schedule)
        else:
            res = _run_optimizer(ev, x, opt, box, callback, cb_form, maxiter, gtol, ftol, xtol,
                                 _make_schedule(schedule, opt, maxiter))
    res["nfev"] = ev.nfev
    res["njev"] = ev.njev
    res["success"] = res["status"] == 0
    result = OptimizeResult(**res)
    if disp:
        _print_summary(result, name)
    return result


def _print_summary(res, name):
    head = res.message if res.status in (0, 99) else "Warning: " + res.message
    print(f"{head}\n         Method: {name}\n         Current function value: {res.fun:f}\n"
          f"         Iterations: {res.nit}\n         Function evaluations: {res.nfev}\n"
          f"         Gradient evaluations: {res.njev}")


def _call_callback(callback, form, x, f, g, nit):
    """Call the user's callback; True when it raised StopIteration."""
    try:
        if form == "result":
            callback(intermediate_result=OptimizeResult(x=x.copy(), fun=f, jac=g.copy(), nit=nit))
        else:
            callback(np.copy(x))
    except StopIteration:
        return True
    return False


def _gnorm(x, g, box):
    if box is None:
        return _k.inf_norm(g)
    return _k.proj_grad_inf_norm(x, g, box[0], box[1])


def _nonfinite_message(f, nit):
    return (f"NaN result encountered: non-finite function value or gradient (f={f}) after "
            f"{nit} iterations; returning the last point where both were finite.")


def _joint_call(fun, x, args):
    """``fun(x, *args)`` that must return a pair (f, g)."""
    out = fun(x, *args)
    try:
        f, g = out
    except (TypeError, ValueError):
        raise ValueError("with jac=True, fun must return a pair (f, g), got "
                         f"{type(out).__name__}") from None
    return f, g


def _make_schedule(spec, opt, n_steps):
    """``t -> learning rate of step t`` (t = 0, 1, ..., n_steps - 1), or None."""
    if spec is None or spec == "constant":
        return None
    lr0 = float(opt.lr)
    if spec == "linear":
        return lambda t: lr0 * (1.0 - t / n_steps)
    if spec == "cosine":
        return lambda t: lr0 * 0.5 * (1.0 + math.cos(math.pi * t / n_steps))

    def user(t):
        lr = spec(t)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr >= 0 \
                or not math.isfinite(lr):
            raise ValueError(f"options['lr_schedule']({t}) must return a finite real number "
                             f">= 0, got {lr!r}")
        return float(lr)
    return user


def _run_optimizer(ev, x, opt, box, callback, cb_form, maxiter, gtol, ftol, xtol, sched=None):
    """Full-batch loop: evaluate, test, opt.step(g) in place, project, repeat.

    The common gradient sources are called inline (no per-call wrapper) and the
    per-iteration tests and best-point bookkeeping are one Cython call: this is
    the loop whose overhead the benchmark measures.
    """
    n = x.shape[0]
    args = getattr(ev, "args", ())
    if ev.objective is not None:
        mode, fun, jac = 3, ev.objective.value_and_grad, None
    elif ev.jac is True:
        mode, fun, jac = 2, ev.fun, None
    elif callable(ev.jac):
        mode, fun, jac = 1, ev.fun, ev.jac
    else:
        mode, fun, jac = 0, ev.fg, None  # finite differences: the evaluator counts
    step = opt.step
    as_grad = _k.as_grad
    check_track = _k.check_track
    project_box = _k.project_box
    isfinite = math.isfinite
    lb, ub = box if box is not None else (None, None)
    best_x, best_g, best_f = np.empty(n), np.empty(n), np.array([np.inf])
    x_prev = x.copy() if xtol > 0 else None
    nit = nev = 0
    f_prev = 0.0
    status, message = _STATUS_MAXITER, _MSG["maxiter"]
    while True:
        if mode == 1:
            f = fun(x, *args)
            g = jac(x, *args)
        elif mode == 2:
            f, g = _joint_call(fun, x, args)
        elif mode == 3:
            f, g = fun(x)
        else:
            f, g = fun(x)
        nev += 1
        try:
            f = float(f)
        except TypeError:
            f = _scalar(f)
        gg = as_grad(g, n)
        g = gg if gg is not None else ev._grad(g)  # _grad raises the precise error
        gn = check_track(x, g, f, best_x, best_g, best_f, lb, ub)
        if not (isfinite(f) and isfinite(gn)):
            if nit == 0:
                status, message = _STATUS_NAN, _nonfinite_message(f, 0)
                best_x, best_f, best_g = x, np.array([f]), g
                break
            status, message = _STATUS_NAN, _nonfinite_message(f, nit)
            break
        if nit:
            if cb_form is not None and _call_callback(callback, cb_form, x, f, g, nit):
                status, message = _STATUS_CALLBACK, _MSG["callback"]
                break
            if ftol > 0 and abs(f_prev - f) <= ftol * max(abs(f_prev), abs(f), 1.0):
                status, message = 0, _MSG["ftol"]
                break
            if x_prev is not None and \
                    _k.max_abs_diff(x, x_prev) <= xtol * (1.0 + _k.inf_norm(x)):
                status, message = 0, _MSG["xtol"]
                break
        if gn <= gtol:
            status, message = 0, _MSG["success"]
            break
        if nit >= maxiter:
            break
        if x_prev is not None:
            np.copyto(x_prev, x)
        f_prev = f
        if sched is not None:
            opt.lr = sched(nit)
        step(g)
        if lb is not None:
            project_box(x, lb, ub)
        nit += 1
    if mode:
        ev.nfev += nev
        ev.njev += nev
    if status == 0:
        return dict(x=x, fun=f, jac=g, nit=nit, status=0, message=message)
    return dict(x=best_x, fun=float(best_f[0]), jac=best_g, nit=nit, status=status,
                message=message)


def _run_gd(ev, x, box, callback, cb_form, maxiter, gtol, ftol, xtol, lr, c1, shrink, grow,
            max_bt):
    """Projected gradient descent; step t backtracked until Armijo's condition
    f(x_t) <= f(x) + c1 * g.(x_t - x) holds, with x_t = P(x - t g). The first
    trial step is the Barzilai-Borwein step of the last accepted move (monotone
    line search: f decreases at every iteration)."""
    isfinite = math.isfinite
    bb_step = _k.bb_step
    bounded = box is not None
    lb, ub = box if bounded else (x, x)  # unused when not bounded
    f, g = ev.fg(x)
    gn = _gnorm(x, g, box)
    if not (isfinite(f) and isfinite(gn)):
        return dict(x=x, fun=f, jac=g, nit=0, status=_STATUS_NAN,
                    message=_nonfinite_message(f, 0))
    x_new = np.empty_like(x)
    t = lr
    nit = 0
    status, message = _STATUS_MAXITER, _MSG["maxiter"]
    while True:
        if gn <= gtol:
            status, message = 0, _MSG["success"]
            break
        if nit >= maxiter:
            break
        accepted = False
        for _ in range(max_bt):
            slope = _k.gd_trial(x_new, x, g, t, lb, ub, bounded)
            if not slope < 0.0:  # no descent left along the projected arc
                break
            f_new = ev.f(x_new)
            if isfinite(f_new) and f_new <= f + c1 * slope and f_new < f:
                accepted = True
                break
            t *= shrink
        if not accepted:
            status, message = _STATUS_PR_LOSS, _MSG["pr_loss"]
            break
        g_new = ev.g(x_new, f_new)
        gn_new = _gnorm(x_new, g_new, box)
        nit += 1
        if not isfinite(gn_new):
            # x (the previous iterate) is the last point with a finite f and g
            return dict(x=x, fun=f, jac=g, nit=nit, status=_STATUS_NAN,
                        message=_nonfinite_message(f_new, nit))
        # next first trial step: Barzilai-Borwein s.s / s.y when the curvature is
        # positive, else grow the accepted step
        t_bb = bb_step(x_new, x, g_new, g)
        t = min(max(t_bb, 1e-3 * t), 1e3 * t) if t_bb > 0.0 else t * grow
        x, x_new = x_new, x
        f_prev, f, g, gn = f, f_new, g_new, gn_new
        if cb_form is not None and _call_callback(callback, cb_form, x, f, g, nit):
            status, message = _STATUS_CALLBACK, _MSG["callback"]
            break
        if ftol > 0 and abs(f_prev - f) <= ftol * max(abs(f_prev), abs(f), 1.0):
            status, message = 0, _MSG["ftol"]
            break
        if xtol > 0 and _k.max_abs_diff(x, x_new) <= xtol * (1.0 + _k.inf_norm(x)):
            status, message = 0, _MSG["xtol"]
            break
    # f decreases monotonically: the current point is the best one
    return dict(x=x, fun=f, jac=g, nit=nit, status=status, message=message)


def _run_minibatch(ev, obj, x, opt, box, callback, cb_form, mb, driver, user_set, maxiter, xtol,
                   schedule=None):
    """One fresh minibatch per step; full-data f and g at the end."""
    n_samples = _n_samples(obj)
    batch_size = check_positive_int(mb.get("batch_size", n_samples), "options['batch_size']")
    batch_size = min(batch_size, n_samples)
    shuffle = bool(mb.get("shuffle", True))
    rng = np.random.default_rng(mb.get("seed"))
    steps_per_epoch = -(-n_samples // batch_size)
    if "epochs" in mb:
        if "maxiter" in user_set:
            raise ValueError("give options['epochs'] or options['maxiter'], not both")
        epochs = check_positive_int(mb["epochs"], "options['epochs']", minimum=0)
        maxiter = epochs * steps_per_epoch
    sched = _make_schedule(schedule, opt, maxiter)
    # gtol/ftol on noisy minibatch values only when asked for
    gtol = _nonneg_float(driver["gtol"], "gtol") if "gtol" in user_set else 0.0
    ftol = _nonneg_float(driver["ftol"], "ftol") if "ftol" in user_set else 0.0
    isfinite = math.isfinite
    lb, ub = box if box is not None else (None, None)
    perm = np.arange(n_samples, dtype=np.intp)
    last_x = x.copy()  # the last iterate where f and g were finite
    pos = n_samples  # start a new epoch at the first step
    nit = 0
    status, message = 0, _MSG["steps"]
    f_prev = None
    nonfinite = None
    while nit < maxiter:
        if pos >= n_samples:
            if shuffle:
                rng.shuffle(perm)
            pos = 0
        # a contiguous slice when not shuffling: the objective reads X rows in place
        rows = perm[pos:pos + batch_size] if shuffle else slice(pos, pos + batch_size)
        pos += batch_size
        f, g = ev.fg(x, rows)
        gn = _k.inf_norm(g)
        if not (isfinite(f) and isfinite(gn)):
            nonfinite = f
            break
        if gn <= gtol or (ftol > 0 and f_prev is not None
                          and abs(f_prev - f) <= ftol * max(abs(f_prev), abs(f), 1.0)):
            status, message = 0, _MSG["success"] if gn <= gtol else _MSG["ftol"]
            break
        f_prev = f
        np.copyto(last_x, x)
        if sched is not None:
            opt.lr = sched(nit)
        opt.step(g)
        if lb is not None:
            _k.project_box(x, lb, ub)
        nit += 1
        if cb_form is not None and _call_callback(callback, cb_form, x, f, g, nit):
            status, message = _STATUS_CALLBACK, _MSG["callback"]
            break
        if xtol > 0 and _k.max_abs_diff(x, last_x) <= xtol * (1.0 + _k.inf_norm(x)):
            status, message = 0, _MSG["xtol"]
            break
    if nonfinite is None:
        f, g = ev.fg(x)
        if isfinite(f) and isfinite(_k.inf_norm(g)):
            return dict(x=x, fun=f, jac=g, nit=nit, status=status, message=message)
        nonfinite = f
    if nit == 0:  # x0 itself
        return dict(x=x, fun=nonfinite, jac=g, nit=0, status=_STATUS_NAN,
                    message=_nonfinite_message(nonfinite, 0))
    f, g = ev.fg(last_x)
    return dict(x=last_x, fun=f, jac=g, nit=nit, status=_STATUS_NAN,
                message=_nonfinite_message(nonfinite, nit))
