"""The AVX2 and baseline x86-64 variants of the objectives' row loops
(_objectives_simd.h, _objectives_rows.h, _objectives_cols.h,
_objectives_softmax.h) give bit-identical results (IEEE operations in a fixed
order, no FMA; the fast AVX-512 + FMA variant, which rounds differently, is
switched off here and compared to rounding in test_objectives_kernels.py): a second copy of the _objectives kernels is
built with GK_NO_CLONES (baseline only) and run beside the installed module, for
every d of the one-pass loop, the blocked loop and the general one, every loss,
with and without intercept and weights, over all rows, an index array (with the
last row of X, which goes through the zero-padded copy), a reversed slice and a
contiguous one, in C order and F order (the column loop); and
softmax cross-entropy's 4-row loop, dense and CSR, scores in registers (1 to 4
vectors of classes) and through its buffer (more).

Slow (a ~1-2 min build), so opt-in: set GRADKERN_SLOW_TESTS=1. Needs the source
checkout (the .pyx and .h files are not shipped in wheels). See _baseline_build.py.
"""
import gradkern
from _baseline_build import build_baseline_and_check, slow_build_marks

pytestmark = slow_build_marks("_objectives_rows.h")

CHECK = '''
import numpy as np
import scipy.sparse as sp
import gk_objectives_base as base
from gradkern._kernels import _objectives as installed
from gradkern.objectives import _OP_LINEAR, _OP_SOFTMAX
installed.set_fma(False)   # the AVX2 clone (the fast FMA variant rounds differently)
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
                for data, layout in ((X, "C"), (np.asfortranarray(X), "F")):
                    for rows, start, step, count in ((None, 0, 1, n), (idx, 0, 1, idx.size),
                                                     (None, rev.start, rev.step, len(rev)),
                                                     (None, 3, 1, n - 4)):
                        out = []
                        for mod in (base, installed):
                            k = mod.LinearProblem(_OP_LINEAR, data, layout, None, None, y, sw,
                                                  d, 1, fi, kind, 0.9)
                            g = np.empty(d + fi)
                            f, s = k.value_grad(w, g, rows, start, step, count, 0.1, 1)
                            out.append((f, g))
                        (f0, g0), (f1, g1) = out
                        assert f0 == f1 and np.array_equal(g0, g1), (dt, d, kind, fi, layout,
                                                                     count)
# softmax cross-entropy: the 4-row loop (_objectives_softmax.h) for every class
# vector count and more (the buffered form), dense and CSR, tails of 0-3 rows, index
# arrays and slices
for dt in (np.float64, np.float32):
    for d in (1, 6, 13):
        for nc in (2, 4, 7, 10, 16, 17, 37):
            X = (rng.standard_normal((n, d)) * 3).astype(dt)
            labels = rng.integers(0, nc, n).astype(np.intp)
            for sw in (None, rng.random(n) + 0.1):
                w = rng.standard_normal(d * nc)
                idx = np.array([5, n - 1, 7, 7, 100, 3, n - 1, 9, 11, 0, 1], dtype=np.intp)
                rev = range(190, 3, -7)
                Xs = sp.csr_matrix(np.where(rng.random(X.shape) < 0.5, X, 0).astype(dt))
                csr = (Xs.data, "CSR", Xs.indices.astype(np.intp), Xs.indptr.astype(np.intp))
                for data, layout, ind, ptr in ((X, "C", None, None), csr):
                    for rows, start, step, count in ((None, 0, 1, n), (idx, 0, 1, idx.size),
                                                     (None, rev.start, rev.step, len(rev))):
                        out = []
                        for mod in (base, installed):
                            k = mod.LinearProblem(_OP_SOFTMAX, data, layout, ind, ptr, labels,
                                                  sw, d, nc, False, "squared", 1.0)
                            g = np.empty(d * nc)
                            f, s = k.value_grad(w, g, rows, start, step, count, 0.1, 1)
                            out.append((f, g))
                        (f0, g0), (f1, g1) = out
                        assert f0 == f1 and np.array_equal(g0, g1), (dt, d, nc, layout, count)
print("ok")
'''


def test_isa_variants_bit_identical(tmp_path):
    build_baseline_and_check(tmp_path, "_objectives", "gk_objectives_base", CHECK)
    assert gradkern.objectives.Logistic  # the installed module was the other side
