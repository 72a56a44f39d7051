"""C objectives (scipy.LowLevelCallable): ctypes functions compiled here, numba cfuncs."""
import ctypes
import os
import shutil
import subprocess
import sysconfig

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import LowLevelCallable
from scipy.optimize import rosen, rosen_der

import gradkern
from gradkern.numdiff import approx_derivative

C_SOURCE = r"""
#include <math.h>
#include <signal.h>
double rosen(int n, double *x, void *ud) {
    double s = 0.0;
    for (int i = 0; i < n - 1; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
    }
    return s;
}
/* sum(scale * x**2) with scale read from user_data */
double scaled_sq(int n, const double *x, void *ud) {
    double c = *(double *)ud, s = 0.0;
    for (int i = 0; i < n; i++) s += c * x[i] * x[i];
    return s;
}
/* writes into x: must not disturb other evaluations */
double scribbler(int n, double *x, void *ud) {
    double s = 0.0;
    for (int i = 0; i < n; i++) { s += x[i] * x[i]; x[i] = 1e300; }
    return s;
}
/* sum(x**2) + sign of x[0], then writes -0.0 into x[0] and a NaN into x[n - 1]: a
   restore that compared values (0.0 == -0.0, NaN != NaN aside) would leave the next
   call a different x */
double sign_writer(int n, double *x, void *ud) {
    double s = copysign(1.0, x[0]);
    for (int i = 0; i < n; i++) s += x[i] * x[i];
    x[0] = -0.0;
    if (n > 2) x[n - 1] = NAN;
    return s;
}
static long calls = 0;
/* raises SIGINT (as Ctrl-C would) on its 100th call */
double interrupting(int n, double *x, void *ud) {
    if (__atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST) == 100) raise(SIGINT);
    return x[0];
}
long n_calls(void) { return calls; }
int wrong(int n, double *x) { return 0; }
"""


@pytest.fixture(scope="module")
def clib(tmp_path_factory):
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()[0]
    if shutil.which(cc) is None:
        pytest.skip("no C compiler")
    d = tmp_path_factory.mktemp("llc")
    src, lib = d / "objectives.c", d / "libobjectives.so"
    src.write_text(C_SOURCE)
    r = subprocess.run([cc, "-O2", "-shared", "-fPIC", str(src), "-o", str(lib)],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"C compiler failed: {r.stderr[:200]}")
    lib = ctypes.CDLL(str(lib))
    dp = ctypes.POINTER(ctypes.c_double)
    for name in ["rosen", "scaled_sq", "scribbler", "sign_writer", "interrupting"]:
        fn = getattr(lib, name)
        fn.restype = ctypes.c_double
        fn.argtypes = [ctypes.c_int, dp, ctypes.c_void_p]
    lib.n_calls.restype = ctypes.c_long
    lib.wrong.restype = ctypes.c_int
    lib.wrong.argtypes = [ctypes.c_int, dp]
    return lib


def c_rosen(lib, x):
    x = np.ascontiguousarray(x, dtype=float)
    return lib.rosen(x.size, x.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), None)


@pytest.mark.parametrize("method", ["2-point", "3-point", "richardson"])
@pytest.mark.parametrize("workers", [None, 1, 2])
def test_llc_matches_python_path(clib, method, workers):
    llc = LowLevelCallable(clib.rosen)
    x = np.linspace(-1.2, 2.0, 300)
    J, info = approx_derivative(llc, x, method=method, workers=workers, full_output=True)
    # the same C function through the Python-callable path: identical arithmetic
    ref, rinfo = approx_derivative(lambda v: c_rosen(clib, v), x, method=method,
                                   full_output=True)
    assert_array_equal(J, ref)
    assert info["nfev"] == rinfo["nfev"]
    assert_allclose(J, rosen_der(x), rtol=1e-5, atol=1e-3)


def test_llc_bounds_sparsity_and_helpers(clib):
    llc = LowLevelCallable(clib.rosen)
    x = np.linspace(0.0, 1.0, 8)
    py = lambda v: c_rosen(clib, v)   # noqa: E731
    for kw in [dict(method="2-point", bounds=(0, 1)), dict(method="3-point", bounds=(0, 1)),
               dict(method="2-point", rel_step=1e-6), dict(method="2-point", abs_step=1e-7),
               dict(method="2-point", f0=c_rosen(clib, x))]:
        assert_array_equal(approx_derivative(llc, x, **kw), approx_derivative(py, x, **kw))
    S = np.ones((1, 8))
    assert_allclose(approx_derivative(llc, x, sparsity=S).toarray(),
                    approx_derivative(py, x, sparsity=S).toarray())
    assert_allclose(gradkern.gradient(llc, x, method="richardson"), rosen_der(x), rtol=1e-9)
    assert_allclose(gradkern.approx_fprime(x, llc), gradkern.approx_fprime(x, py))
    x32 = x.astype(np.float32)
    assert_allclose(approx_derivative(llc, x32), rosen_der(x32.astype(float)), rtol=1e-8)


def test_llc_user_data_and_const_signature(clib):
    c = ctypes.c_double(3.0)
    llc = LowLevelCallable(clib.scaled_sq, ctypes.cast(ctypes.pointer(c), ctypes.c_void_p),
                           signature="double (int, const double *, void *)")
    x = np.array([1.0, -2.0, 0.5])
    assert_allclose(approx_derivative(llc, x, method="richardson"), 6 * x, rtol=1e-11)


def test_llc_function_writing_into_x_is_harmless(clib):
    llc = LowLevelCallable(clib.scribbler)
    x = np.linspace(-1, 1, 50)
    x_before = x.copy()
    for method in ["2-point", "3-point"]:
        for workers in [1, 2]:
            J = approx_derivative(llc, x, method=method, workers=workers)
            assert np.all(np.isfinite(J)) and not np.allclose(J, 0)
    assert_array_equal(x, x_before)


@pytest.mark.parametrize("method", ["2-point", "3-point", "richardson"])
@pytest.mark.parametrize("workers", [1, 2])
def test_llc_partial_writes_into_x_are_undone(clib, method, workers):
    """A function that writes only some entries of x (here -0.0 over +0.0, whose sign it
    reads, and a NaN) must not change what later evaluations see."""
    llc = LowLevelCallable(clib.sign_writer)
    x = np.array([0.0, 0.5, -1.0, 2.0, 0.25])
    J = approx_derivative(llc, x, method=method, workers=workers)
    # d/dx0 of copysign(1, x0) is 0 away from x0 = 0; at 0 the one-sided steps see the
    # jump, so compare the other coordinates, whose steps leave x0 at +0.0
    assert_allclose(J[1:], 2 * x[1:], rtol=1e-6, atol=1e-6)


def test_llc_wrong_signature_lists_accepted(clib):
    llc = LowLevelCallable(clib.wrong)
    with pytest.raises(ValueError, match=r"accepted signatures: 'double \(int, double \*, void \*\)'"):
        approx_derivative(llc, np.ones(3))
    with pytest.raises(ValueError, match="accepted signatures"):
        approx_derivative(llc, np.ones(3), method="richardson")


def test_llc_invalid_combinations(clib):
    llc = LowLevelCallable(clib.rosen)
    with pytest.raises(ValueError, match="cs"):
        approx_derivative(llc, np.ones(3), method="cs")
    with pytest.raises(ValueError, match="vectorized"):
        approx_derivative(llc, np.ones(3), vectorized=True)
    with pytest.raises(ValueError, match="args"):
        approx_derivative(llc, np.ones(3), args=(1,))
    with pytest.raises(ValueError, match="workers"):
        approx_derivative(llc, np.ones(3), workers=map)
    with pytest.raises(ValueError, match="finite"):
        approx_derivative(llc, np.array([1.0, np.nan]), method="2-point")


def test_llc_ctrl_c_interrupts_the_loop(clib):
    llc = LowLevelCallable(clib.interrupting)
    n = 20000       # several blocks of points: the signal is seen between blocks
    start = clib.n_calls()
    with pytest.raises(KeyboardInterrupt):
        approx_derivative(llc, np.ones(n), method="3-point", workers=1)
    done = clib.n_calls() - start
    assert 100 <= done < 2 * n


def test_numba_cfunc():
    numba = pytest.importorskip("numba")
    from numba import carray, cfunc, types

    sig = types.double(types.intc, types.CPointer(types.double), types.voidptr)

    @cfunc(sig)
    def nb_rosen(n, xp, ud):
        x = carray(xp, (n,))
        s = 0.0
        for i in range(n - 1):
            a = x[i + 1] - x[i] * x[i]
            s += 100.0 * a * a + (1.0 - x[i]) ** 2
        return s

    llc = LowLevelCallable(nb_rosen.ctypes)
    x = np.linspace(-1, 2, 64)
    J, info = approx_derivative(llc, x, method="richardson", full_output=True)
    err = np.abs(J - rosen_der(x))
    # round-off grows with |f| (~1e4 here), not with each component: normwise error
    assert err.max() / np.abs(rosen_der(x)).max() <= 1e-10
    assert np.all(err <= info["error_estimate"])
    assert_allclose(approx_derivative(llc, x, method="2-point"),
                    approx_derivative(rosen, x, method="2-point"), rtol=1e-5, atol=1e-3)
    del numba


def test_builtin_rosen_lowlevel_matches_numpy_rosen():
    from gradkern.numdiff import rosen_lowlevel
    llc = rosen_lowlevel()
    assert llc.signature == "double (int, double *, void *)"
    x = np.linspace(-1.5, 2, 40)
    assert_allclose(numdiff_call(llc, x), rosen(x), rtol=1e-14)
    for workers in [1, 2]:
        J = approx_derivative(llc, x, method="richardson", workers=workers)
        assert np.max(np.abs(J - rosen_der(x))) / np.max(np.abs(rosen_der(x))) <= 1e-10
        J2 = approx_derivative(llc, x, method="2-point", workers=workers)
        assert np.max(np.abs(J2 - rosen_der(x))) / np.max(np.abs(rosen_der(x))) <= 1e-6


def numdiff_call(llc, x):
    from gradkern._kernels._numdiff import call_llc
    return call_llc(tuple.__getitem__(llc, 0), np.ascontiguousarray(x, dtype=float))
