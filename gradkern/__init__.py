"""gradkern: Cython kernels for gradients and gradient descent.

Finite-difference gradients, analytic value-and-gradient objectives and fused
optimizer updates, with numpy arrays in and out.
"""
import os as _os

try:
    import gradkern._kernels._platform  # noqa: F401
except ImportError as _exc:  # pragma: no cover - depends on how Python was started
    raise ImportError(
        f"gradkern's compiled kernels cannot be imported ({_exc}). If you are in the "
        "source folder, Python picked up the uncompiled sources from the current folder: "
        "run from another folder, use the `gradkern` command instead of `python -m "
        "gradkern`, start Python with -P, or install in development mode with "
        "`pip install -e .`.") from None

from gradkern._version import __version__
from gradkern._config import show_config
from gradkern._kernels._platform import effective_n_threads, openmp_enabled

__all__ = ["__version__", "show_config", "get_include", "effective_n_threads", "openmp_enabled"]


def get_include():
    """Directory to add to Cython's include path to ``cimport gradkern._kernels.*``.

    Examples
    --------
    >>> import os, gradkern
    >>> os.path.exists(os.path.join(gradkern.get_include(), "gradkern", "_kernels", "_openmp.pxd"))
    True
    """
    import gradkern._kernels as k
    return _os.path.dirname(_os.path.dirname(_os.path.dirname(_os.path.abspath(k.__file__))))


# Each concern adds its public names below, in a block of its own.

# --- numdiff ---
from gradkern.numdiff import (approx_derivative, approx_fprime, check_grad, gradient,
                              jacobian, hessian)
__all__ += ["approx_derivative", "approx_fprime", "check_grad", "gradient", "jacobian", "hessian"]

# --- optim ---
from gradkern import optim
__all__ += ["optim"]

# --- objectives ---
from gradkern import objectives
__all__ += ["objectives"]

# --- minimize ---
from gradkern._minimize import minimize, scipy_method, available_methods as minimize_methods
__all__ += ["minimize", "scipy_method", "minimize_methods"]
