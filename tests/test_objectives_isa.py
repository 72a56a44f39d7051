"""The AVX2 and baseline x86-64 variants of the objectives' row loops
(_objectives_simd.h, _objectives_rows.h) give bit-identical results (IEEE
operations in a fixed order, no FMA): a second copy of the _objectives kernels is
built with GK_NO_CLONES (baseline only) and run beside the installed module, for
every d of the one-pass loop, the blocked loop and the general one, every loss,
with and without intercept and weights, over all rows, an index array (with the
last row of X, which goes through the zero-padded copy) and a reversed slice.

Slow (a ~2-3 min build), so opt-in: set GRADKERN_SLOW_TESTS=1. Needs the source
checkout (the .pyx and .h files are not shipped in wheels).
"""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import gradkern

KERNELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "src", "gradkern", "_kernels")

pytestmark = [
    pytest.mark.skipif(os.environ.get("GRADKERN_SLOW_TESTS") != "1",
                       reason="slow build; set GRADKERN_SLOW_TESTS=1"),
    pytest.mark.skipif(not os.path.isfile(os.path.join(KERNELS, "_objectives_rows.h")),
                       reason="needs the source checkout"),
]

SETUP = '''
import gradkern, numpy
from setuptools import setup, Extension
from Cython.Build import cythonize
setup(name="gk_objectives_base", ext_modules=cythonize(
    [Extension("gk_objectives_base", ["gk_objectives_base.pyx"],
               include_dirs=[numpy.get_include(), {kernels!r}],
               define_macros=[("GK_NO_CLONES", "1")],
               extra_compile_args=["-O3", "-fno-math-errno"])],
    include_path=[gradkern.get_include()], quiet=True,
    compiler_directives={{"boundscheck": False, "wraparound": False, "cdivision": True}}))
'''

CHECK = '''
import numpy as np
import gk_objectives_base as base
from gradkern._kernels import _objectives as installed
from gradkern.objectives import _OP_LINEAR
rng = np.random.default_rng(0)
n = 203
for dt in (np.float64, np.float32):
    for d in range(1, 35):
        for kind in ("squared", "logistic", "huber"):
            for fi in (False, True):
                X = (rng.standard_normal((n, d)) * 3).astype(dt)
                if kind == "logistic":
                    y = (rng.random(n) < 0.5).astype(float)
                else:
                    y = rng.standard_normal(n)
                sw = rng.random(n) + 0.1 if fi else None
                w = rng.standard_normal(d + fi)
                idx = np.array([5, n - 1, 7, 7, 100, 3, n - 1, 9, 11, 0, 1], dtype=np.intp)
                rev = range(190, 3, -7)
                for rows, start, step, count in ((None, 0, 1, n), (idx, 0, 1, idx.size),
                                                 (None, rev.start, rev.step, len(rev))):
                    out = []
                    for mod in (base, installed):
                        k = mod.LinearProblem(_OP_LINEAR, X, "C", None, None, y, sw, d, 1, fi,
                                              kind, 0.9)
                        g = np.empty(d + fi)
                        f, s = k.value_grad(w, g, rows, start, step, count, 0.1, 1)
                        out.append((f, g))
                    (f0, g0), (f1, g1) = out
                    assert f0 == f1 and np.array_equal(g0, g1), (dt, d, kind, fi, count)
print("ok")
'''


def test_isa_variants_bit_identical(tmp_path):
    shutil.copy(os.path.join(KERNELS, "_objectives.pyx"), tmp_path / "gk_objectives_base.pyx")
    shutil.copy(os.path.join(KERNELS, "_objectives.pxd"), tmp_path / "gk_objectives_base.pxd")
    (tmp_path / "setup.py").write_text(SETUP.format(kernels=KERNELS))
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=1200)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(CHECK)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.strip() == "ok"
    assert gradkern.objectives.Logistic  # the installed module was the other side
