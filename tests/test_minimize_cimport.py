"""The driver's C-level helpers (gradkern/_kernels/_minimize.pxd) can be cimported by
other Cython code: a tiny extension is compiled against the installed package."""
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
from gradkern._kernels._minimize cimport (gk_inf_norm, gk_project_box, gk_bb_step,
                                          gk_proj_grad_inf_norm)

def run(double[::1] x, double[::1] g, double[::1] lb, double[::1] ub,
        double[::1] x2, double[::1] g2):
    cdef intp_t n = x.shape[0]
    cdef double a, b, c
    with nogil:
        a = gk_inf_norm(&g[0], n)
        b = gk_proj_grad_inf_norm(&x[0], &g[0], &lb[0], &ub[0], n)
        c = gk_bb_step(&x2[0], &x[0], &g2[0], &g[0], n)
        gk_project_box(&x[0], &lb[0], &ub[0], n)
    return a, b, c
'''

SETUP = '''
import gradkern, numpy
from setuptools import setup, Extension
from Cython.Build import cythonize
setup(name="gk_minimize_example", ext_modules=cythonize(
    [Extension("gk_minimize_example", ["gk_minimize_example.pyx"],
               include_dirs=[numpy.get_include()])],
    include_path=[gradkern.get_include()], quiet=True))
'''


def test_minimize_pxd_is_installed():
    kdir = os.path.join(gradkern.get_include(), "gradkern", "_kernels")
    assert os.path.isfile(os.path.join(kdir, "_minimize.pxd"))


def test_cimport_minimize_helpers(tmp_path):
    (tmp_path / "gk_minimize_example.pyx").write_text(EXAMPLE)
    (tmp_path / "setup.py").write_text(SETUP)
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    check = textwrap.dedent('''
        import numpy as np, gk_minimize_example as m
        x = np.array([0.5, 2.0, -3.0]); g = np.array([1.0, -4.0, 0.5])
        lb = np.array([0.0, -np.inf, -1.0]); ub = np.array([1.0, 1.0, np.inf])
        x2 = x - 0.1 * g; g2 = g - 0.2 * g
        a, b, c = m.run(x.copy(), g, lb, ub, x2, g2)
        s, y = x2 - x, g2 - g
        assert a == 4.0, a
        assert b == np.abs(np.clip(x - g, lb, ub) - x).max(), b
        assert np.isclose(c, (s @ s) / (s @ y)), c
        xp = x.copy(); m.run(xp, g, lb, ub, x2, g2)
        assert np.array_equal(xp, np.clip(x, lb, ub)), xp
    ''')
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
