"""Other Cython code can cimport gradkern.optim's kernels from the shipped
_optim.pxd (fused float32/float64 loops over raw pointers)."""
import os

import pytest

import gradkern
from _cython_example import build_and_run

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

def test_optim_pxd_is_installed():
    kdir = os.path.join(gradkern.get_include(), "gradkern", "_kernels")
    assert os.path.isfile(os.path.join(kdir, "_optim.pxd"))


def test_cimport_optim_kernels(tmp_path):
    check = '''
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
    '''
    assert build_and_run(tmp_path, "gk_optim_example", EXAMPLE, check).strip() == "ok"
