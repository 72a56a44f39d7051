"""The AVX2 and baseline x86-64 variants of gk_optim.h's loops give bit-identical
results (IEEE operations only, no FMA): a second copy of the _optim kernels is
built with GK_NO_CLONES (baseline only) and run beside the installed module.

Slow (~20 s build), so opt-in: set GRADKERN_SLOW_TESTS=1. Needs the source
checkout (gk_optim.h is not shipped in wheels).
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
    pytest.mark.skipif(not os.path.isfile(os.path.join(KERNELS, "gk_optim.h")),
                       reason="needs the source checkout"),
]

SETUP = '''
import gradkern, numpy
from setuptools import setup, Extension
from Cython.Build import cythonize
setup(name="gk_optim_base", ext_modules=cythonize(
    [Extension("gk_optim_base", ["gk_optim_base.pyx"],
               include_dirs=[numpy.get_include(), {kernels!r}],
               define_macros=[("GK_NO_CLONES", "1")],
               extra_compile_args=["-O3", "-fno-math-errno"])],
    include_path=[gradkern.get_include()], quiet=True))
'''

CHECK = '''
import sys
import numpy as np
import gk_optim_base as base
sys.path.insert(0, {tests!r})
from gradkern import optim
from test_optim import NAMES, random_hyper, random_problem
assert not base.isa_dispatch()
for name in NAMES:
    for dt in (np.float32, np.float64):
        for seed in range(3):
            rng = np.random.default_rng(seed)
            hp = random_hyper(name, rng)
            params, grads = random_problem(rng, dt, n_arrays=2, steps=30)
            params = [np.resize(p, 1000 + p.size).astype(dt) for p in params]
            grads = [[np.resize(g, p.size).astype(dt) for g, p in zip(gs, params)]
                     for gs in grads]
            twin = [p.copy() for p in params]
            opt = getattr(optim, name)(params, **hp)
            ref = getattr(optim, name)(twin, **hp)          # buffers for the twin
            grp = base.ParamGroup(twin, ref._group.states, len(ref._slots))
            grp.set_hyper(ref._rule, **ref._kernel_hyper())
            for gs in grads:
                opt.step(gs)
                assert grp.step(gs) == -1
            for a, b in zip(params, twin):
                assert np.array_equal(a, b, equal_nan=True), (name, dt, seed)
print("ok")
'''


def test_isa_variants_bit_identical(tmp_path):
    shutil.copy(os.path.join(KERNELS, "_optim.pyx"), tmp_path / "gk_optim_base.pyx")
    shutil.copy(os.path.join(KERNELS, "_optim.pxd"), tmp_path / "gk_optim_base.pxd")
    (tmp_path / "setup.py").write_text(SETUP.format(kernels=KERNELS))
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    tests = os.path.dirname(os.path.abspath(__file__))
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(CHECK.format(tests=tests))],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.strip() == "ok"
    assert gradkern.optim.Adam  # the installed module was the other side
