"""gradkern: Cython kernels for gradients and gradient descent.

Finite-difference gradients, analytic value-and-gradient objectives and fused
optimizer updates, with numpy arrays in and out.
"""
import os as _os

from gradkern._version import __version__
from gradkern._config import show_config
from gradkern._kernels._platform import effective_n_threads, openmp_enabled


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


__all__ = ["__version__", "show_config", "get_include", "effective_n_threads", "openmp_enabled"]

# --- minimize ---
from gradkern._minimize import minimize, scipy_method, available_methods as minimize_methods  # noqa: E402
__all__ += ["minimize", "scipy_method", "minimize_methods"]
