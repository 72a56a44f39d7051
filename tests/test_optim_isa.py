"""The AVX2 and baseline x86-64 variants of gk_optim.h's loops give bit-identical
results (IEEE operations only, no FMA): a second copy of the _optim kernels is
built with GK_NO_CLONES (baseline only) and run beside the installed module.

Slow (~20 s build), so opt-in: set GRADKERN_SLOW_TESTS=1. Needs the source
checkout (gk_optim.h is not shipped in wheels). See _baseline_build.py.
"""
import os

import gradkern
from _baseline_build import build_baseline_and_check, slow_build_marks

pytestmark = slow_build_marks("gk_optim.h")

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
    tests = os.path.dirname(os.path.abspath(__file__))
    build_baseline_and_check(tmp_path, "_optim", "gk_optim_base", CHECK.format(tests=tests))
    assert gradkern.optim.Adam  # the installed module was the other side
