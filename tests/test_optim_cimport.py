"""Other Cython code can cimport gradkern.optim's kernels from the shipped
_optim.pxd (fused float32/float64 loops over raw pointers)."""
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
from gradkern._kernels._optim cimport adam_loop, lion_loop

def adam(double[::1] p, double[::1] g, double[::1] m, double[::1] v, double lr, double step):
    with nogil:
        adam_loop(&p[0], &g[0], &m[0], &v[0], <double *>0, p.shape[0], lr, 0.9, 0.999,
                  1e-8, 0.0, False, False, False, step, 1)

def lion32(float[::1] p, float[::1] g, float[::1] m, double lr):
    with nogil:
        lion_loop(&p[0], &g[0], &m[0], p.shape[0], lr, 0.9, 0.99, 0.0, False, 1)
'''

SETUP = '''
import gradkern, numpy
from setuptools import setup, Extension
from Cython.Build import cythonize
setup(name="gk_optim_example", ext_modules=cythonize(
    [Extension("gk_optim_example", ["gk_optim_example.pyx"],
               include_dirs=[numpy.get_include()])],
    include_path=[gradkern.get_include()], quiet=True))
'''


def test_optim_pxd_is_installed():
    kdir = os.path.join(gradkern.get_include(), "gradkern", "_kernels")
    assert os.path.isfile(os.path.join(kdir, "_optim.pxd"))


def test_cimport_optim_kernels(tmp_path):
    (tmp_path / "gk_optim_example.pyx").write_text(EXAMPLE)
    (tmp_path / "setup.py").write_text(SETUP)
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    check = textwrap.dedent('''
        import numpy as np, gk_optim_example as m
        from gradkern.optim import Adam, Lion
        p, q = np.ones(4), np.ones(4)
        g = np.array([0.5, -1.0, 2.0, 0.0])
        mm, v = np.zeros(4), np.zeros(4)
        m.adam(p, g, mm, v, 0.1, 1.0)
        Adam(q, lr=0.1).step(g)
        assert np.array_equal(p, q), (p, q)
        p = np.ones(3, np.float32)
        m.lion32(p, np.array([1, -1, 0], np.float32), np.zeros(3, np.float32), 0.1)
        q = np.ones(3, np.float32)
        Lion(q, lr=0.1).step(np.array([1, -1, 0], np.float32))
        assert np.array_equal(p, q), (p, q)
        print("ok")
    ''')
    run = subprocess.run([sys.executable, "-c", check], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "ok"
