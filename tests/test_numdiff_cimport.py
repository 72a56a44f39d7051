"""Cython code can cimport the finite-difference kernels (``_numdiff.pxd``), and a C
objective exported from Cython as a capsule works as a ``scipy.LowLevelCallable``.

A tiny extension is compiled in a temporary folder against the installed .pxd files.
"""
import os
import subprocess
import sys
import textwrap

import pytest

import gradkern

pytest.importorskip("Cython")
pytest.importorskip("setuptools")

EXAMPLE = '''
# cython: language_level=3
from cpython.pycapsule cimport PyCapsule_New
from gradkern._kernels._typedefs cimport intp_t
from gradkern._kernels._numdiff cimport gk_llc_fn, eval_points_c, rosen_c, group_dense_c

cdef double sq_scaled(int n, double *x, void *user_data) noexcept nogil:
    cdef double c = (<double *>user_data)[0], s = 0.0
    cdef int i
    for i in range(n):
        s += c * x[i] * x[i]
    return s

cdef double SCALE = 2.5

def sq_capsule():
    """sum(2.5 * x**2) as a capsule named by its C signature, user data attached."""
    return PyCapsule_New(<void *>sq_scaled, b"double (int, double *, void *)", NULL)

def scale_address():
    return <size_t>&SCALE

def forward_gradient(double[::1] x0, double h):
    """Forward differences of the C Rosenbrock through gradkern's point evaluator."""
    cdef intp_t n = x0.shape[0], i
    cdef intp_t[::1] ci = __import__("numpy").arange(n)
    cdef double[::1] di = __import__("numpy").full(n, h)
    cdef double[::1] out = __import__("numpy").empty(n)
    cdef double[::1] scratch = __import__("numpy").empty(n)
    with nogil:
        eval_points_c(rosen_c, NULL, &x0[0], n, &ci[0], &di[0], NULL, NULL, n, &out[0],
                      &scratch[0], 1, True)
    return out

def groups_of(int[:, ::1] A):
    cdef intp_t[::1] g = __import__("numpy").empty(A.shape[1], dtype=__import__("numpy").intp)
    cdef char[::1] u = __import__("numpy").zeros(A.shape[0], dtype=__import__("numpy").int8)
    n_groups = group_dense_c(A.shape[0], A.shape[1], &A[0, 0], &g[0], &u[0])
    return n_groups, __import__("numpy").asarray(g)
'''

SETUP = '''
import gradkern, numpy
from setuptools import setup, Extension
from Cython.Build import cythonize
setup(name="gk_numdiff_example", ext_modules=cythonize(
    [Extension("gk_numdiff_example", ["gk_numdiff_example.pyx"],
               include_dirs=[numpy.get_include()])],
    include_path=[gradkern.get_include()], quiet=True))
'''

CHECK = '''
import ctypes
import numpy as np
from scipy import LowLevelCallable
from scipy.optimize import rosen, rosen_der
import gk_numdiff_example as m
from gradkern import approx_derivative

x = np.linspace(-1, 2, 9)
h = 1e-7
F = m.forward_gradient(x, h)
assert np.allclose((F - rosen(x)) / h, rosen_der(x), rtol=1e-4, atol=1e-3), F

ud = ctypes.c_void_p(m.scale_address())
llc = LowLevelCallable(m.sq_capsule(), ud)
J = approx_derivative(llc, x, method="richardson")
assert np.allclose(J, 5.0 * x, rtol=1e-10, atol=1e-12), J

A = np.array([[1, 0, 0, 1], [0, 1, 0, 0], [1, 1, 1, 0]], dtype=np.int32)
n_groups, g = m.groups_of(A)
assert n_groups == 3 and list(g) == [0, 1, 2, 1], (n_groups, g)
print("ok")
'''


def test_numdiff_pxd_is_installed():
    kdir = os.path.join(gradkern.get_include(), "gradkern", "_kernels")
    assert os.path.isfile(os.path.join(kdir, "_numdiff.pxd"))


def test_cimport_numdiff_kernels_and_cython_capsule(tmp_path):
    (tmp_path / "gk_numdiff_example.pyx").write_text(EXAMPLE)
    (tmp_path / "setup.py").write_text(SETUP)
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(CHECK)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "ok"
