"""Finite-difference gradients of Rosenbrock: gradkern vs scipy (and numdifftools).

One group per (objective kind, n):

* ``python``: a plain numpy Rosenbrock (``scipy.optimize.rosen``), '2-point';
  peers ``scipy.optimize._numdiff.approx_derivative`` and ``scipy.optimize.approx_fprime``;
  floor: the n + 1 bare calls of ``rosen`` (no implementation can take less);
* ``vectorized``: the same function written for ``X`` of shape (n, k), ``vectorized=True``;
  peers: scipy with the plain numpy function (scipy has no vectorized mode);
* ``C``: a C Rosenbrock compiled here and passed as a ``scipy.LowLevelCallable`` (ctypes);
  peers: scipy with the numpy function, and the *floor*: a hand-written C loop doing the
  same forward differences over the same C objective (called through a pointer);
  ``C const``: the same with the ``const double *`` signature (no full restore of x);
* ``richardson``: gradkern's extrapolated central differences vs numdifftools' Gradient
  (when installed) and scipy's '3-point';
* ``overhead``: '2-point' on a function returning 0.0 at once, so the time is the
  machinery's own (floor: the bare calls).
"""
import ctypes
import os
import shutil
import subprocess
import sysconfig
import tempfile

import numpy as np
import pytest
from scipy import LowLevelCallable
from scipy.optimize import approx_fprime as sp_approx_fprime
from scipy.optimize import rosen
from scipy.optimize._numdiff import approx_derivative as sp_approx_derivative

from harness import QUICK, bench_case, sizes

from gradkern import approx_derivative

SIZES = sizes([10, 100, 1000, 10000], quick=[10, 100])
RICHARDSON_SIZES = sizes([10, 100, 1000], quick=[10, 100])
NUMDIFFTOOLS_MAX_N = 100       # numdifftools takes seconds beyond this

C_SOURCE = r"""
double rosen(int n, double *x, void *user_data) {
    double s = 0.0;
    for (int i = 0; i < n - 1; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    return s;
}
typedef double (*objective)(int, double *, void *);
/* The compiled floor: scipy's default 2-point differences in one C loop, one scratch
   copy of x, the objective called through a pointer as gradkern calls it. */
void fd_floor(objective f, int n, const double *x0, double *x, double *g) {
    for (int i = 0; i < n; i++) x[i] = x0[i];
    double f0 = f(n, x, 0);
    for (int i = 0; i < n; i++) {
        double ax = x0[i] < 0 ? -x0[i] : x0[i];
        double h = 1.4901161193847656e-08 * (ax > 1.0 ? ax : 1.0);
        if (x0[i] < 0) h = -h;
        double xi = x0[i] + h;
        x[i] = xi;
        g[i] = (f(n, x, 0) - f0) / (xi - x0[i]);
        x[i] = x0[i];
    }
}
"""


def rosen_vectorized(X):
    """Rosenbrock of each column of X (n, k)."""
    return np.sum(100.0 * (X[1:] - X[:-1] ** 2) ** 2 + (1.0 - X[:-1]) ** 2, axis=0)


@pytest.fixture(scope="module")
def clib():
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip("no C compiler")
    d = tempfile.mkdtemp(prefix="gk_bench_numdiff_")
    src, lib = os.path.join(d, "rosen.c"), os.path.join(d, "librosen.so")
    with open(src, "w") as fh:
        fh.write(C_SOURCE)
    r = subprocess.run([cc, "-O3", "-shared", "-fPIC", src, "-o", lib],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"C compiler failed: {r.stderr[:200]}")
    lib = ctypes.CDLL(lib)
    dp = ctypes.POINTER(ctypes.c_double)
    lib.rosen.restype = ctypes.c_double
    lib.rosen.argtypes = [ctypes.c_int, dp, ctypes.c_void_p]
    lib.fd_floor.restype = None
    lib.fd_floor.argtypes = [ctypes.c_void_p, ctypes.c_int] + [ctypes.c_void_p] * 3
    yield lib
    shutil.rmtree(d, ignore_errors=True)


def point(n):
    return np.linspace(-1.2, 1.2, n)


def bare_calls(fun, x, count):
    """``count`` calls of ``fun`` on fresh copies of ``x``: what any finite-difference
    routine given a Python callable must spend at least."""
    for _ in range(count):
        fun(x.copy())


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["gradkern", "scipy", "scipy_fprime", "floor"])
def test_rosen_2point_python(benchmark, impl, n):
    """The floor here is the n + 1 calls of ``rosen`` themselves (on fresh copies of x):
    how close to it each implementation gets is its overhead, and floor / scipy is
    the most any implementation could gain over scipy."""
    python_2point(benchmark, f"numdiff rosen 2-point python n={n}", impl, rosen, point(n))


def python_2point(benchmark, group, impl, fun, x):
    """'2-point' gradient of the Python callable ``fun`` at ``x`` by ``impl``."""
    if impl == "floor":
        bench_case(benchmark, group, impl, bare_calls, fun, x, x.size + 1)
    elif impl == "gradkern":
        bench_case(benchmark, group, impl, approx_derivative, fun, x, method="2-point")
    elif impl == "scipy":
        bench_case(benchmark, group, impl, sp_approx_derivative, fun, x, method="2-point")
    else:
        bench_case(benchmark, group, impl, sp_approx_fprime, x, fun)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["gradkern", "scipy"])
def test_rosen_2point_vectorized(benchmark, impl, n):
    group = f"numdiff rosen 2-point vectorized n={n}"
    x = point(n)
    if impl == "gradkern":
        bench_case(benchmark, group, impl, approx_derivative, rosen_vectorized, x,
                   method="2-point", vectorized=True)
    else:
        bench_case(benchmark, group, impl, sp_approx_derivative, rosen, x, method="2-point")


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["gradkern", "scipy", "floor"])
def test_rosen_2point_c(benchmark, clib, impl, n):
    group = f"numdiff rosen 2-point C n={n}"
    x = point(n)
    if impl == "gradkern":
        llc = LowLevelCallable(clib.rosen)
        bench_case(benchmark, group, impl, approx_derivative, llc, x, method="2-point")
    elif impl == "scipy":
        bench_case(benchmark, group, impl, sp_approx_derivative, rosen, x, method="2-point")
    else:
        scratch, g = np.empty(n), np.empty(n)
        fptr = ctypes.cast(clib.rosen, ctypes.c_void_p).value
        bench_case(benchmark, group, impl, clib.fd_floor, fptr, n, x.ctypes.data,
                   scratch.ctypes.data, g.ctypes.data)
        ref = approx_derivative(LowLevelCallable(clib.rosen), x, method="2-point")
        assert np.allclose(g, ref, rtol=1e-12, atol=0)   # the floor does the same work


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["gradkern", "floor"])
def test_rosen_2point_c_const(benchmark, clib, impl, n):
    """As test_rosen_2point_c with the signature declared ``double (int, const double *,
    void *)``: gradkern then restores only the moved coordinate after each call instead
    of the whole scratch copy of x (the floor never restores more)."""
    group = f"numdiff rosen 2-point C const n={n}"
    x = point(n)
    if impl == "gradkern":
        llc = LowLevelCallable(clib.rosen, signature="double (int, const double *, void *)")
        bench_case(benchmark, group, impl, approx_derivative, llc, x, method="2-point")
    else:
        scratch, g = np.empty(n), np.empty(n)
        fptr = ctypes.cast(clib.rosen, ctypes.c_void_p).value
        bench_case(benchmark, group, impl, clib.fd_floor, fptr, n, x.ctypes.data,
                   scratch.ctypes.data, g.ctypes.data)


@pytest.mark.parametrize("n", RICHARDSON_SIZES)
@pytest.mark.parametrize("impl", ["gradkern", "numdifftools", "scipy_3point"])
def test_rosen_richardson(benchmark, impl, n):
    group = f"numdiff rosen richardson n={n}"
    x = point(n)
    if impl == "gradkern":
        bench_case(benchmark, group, impl, approx_derivative, rosen, x, method="richardson")
    elif impl == "numdifftools":
        nd = pytest.importorskip("numdifftools")
        if n > NUMDIFFTOOLS_MAX_N or (QUICK and n > 10):
            pytest.skip("numdifftools is too slow at this size")
        bench_case(benchmark, group, impl, nd.Gradient(rosen), x)
    else:
        bench_case(benchmark, group, impl, sp_approx_derivative, rosen, x, method="3-point")


def zero(x):
    return 0.0


@pytest.mark.parametrize("n", sizes([10, 100, 1000], quick=[10, 100]))
@pytest.mark.parametrize("impl", ["gradkern", "scipy", "floor"])
def test_overhead_python(benchmark, impl, n):
    """The cost of the finite-difference machinery alone: '2-point' on a function that
    returns 0.0 at once; the floor is its n + 1 bare calls on fresh copies of x."""
    python_2point(benchmark, f"numdiff overhead 2-point python fun=0 n={n}", impl, zero,
                  point(n))
