"""Other Cython code can cimport gradkern's shipped .pxd files (as numpy.random allows).

A tiny extension is compiled in a temporary folder against the *installed*
package's .pxd files, then imported and run.
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
from gradkern._kernels._typedefs cimport float64_t, intp_t
from gradkern._kernels._openmp cimport gk_threads_for, GK_OPENMP
from gradkern._kernels._bandwidth cimport stream_pass_f64

def add_scaled_sum(double[::1] a, double[::1] b, double scale):
    """a += scale * (a + b) through gradkern's C-level bandwidth kernel."""
    cdef double *ptrs[2]
    ptrs[0] = &a[0]
    ptrs[1] = &b[0]
    with nogil:
        stream_pass_f64(ptrs, 2, 1, <intp_t>a.shape[0], scale, 1)

def threads_for(int n_threads, Py_ssize_t n):
    return gk_threads_for(n_threads, n, 1000), bool(GK_OPENMP)
'''

SETUP = '''
import gradkern, numpy
from setuptools import setup, Extension
from Cython.Build import cythonize
setup(name="gk_cimport_example", ext_modules=cythonize(
    [Extension("gk_cimport_example", ["gk_cimport_example.pyx"],
               include_dirs=[numpy.get_include()])],
    include_path=[gradkern.get_include()], quiet=True))
'''


def test_pxd_files_are_installed_next_to_the_modules():
    kdir = os.path.join(gradkern.get_include(), "gradkern", "_kernels")
    for name in ["__init__.pxd", "_typedefs.pxd", "_openmp.pxd", "_bandwidth.pxd"]:
        assert os.path.isfile(os.path.join(kdir, name)), name
    assert os.path.isfile(os.path.join(gradkern.get_include(), "gradkern", "__init__.pxd"))


def test_cimport_public_pxd(tmp_path):
    (tmp_path / "gk_cimport_example.pyx").write_text(EXAMPLE)
    (tmp_path / "setup.py").write_text(SETUP)
    # cwd is the temporary folder, so the installed gradkern (not a source checkout) is used.
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    check = textwrap.dedent('''
        import numpy as np, gk_cimport_example as m
        a = np.ones(5); b = np.arange(5.0)
        m.add_scaled_sum(a, b, 2.0)
        assert np.allclose(a, 1 + 2 * (1 + np.arange(5.0))), a
        print(m.threads_for(2, 10**6))
    ''')
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    threads, omp = eval(run.stdout.strip())
    # The example itself is compiled without -fopenmp: the shim's fallback must take over.
    assert omp is False
    assert threads == 1
