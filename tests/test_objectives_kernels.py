"""gradkern.objectives, kernel internals: the row loops for C-ordered X (the one-pass
loop over groups of 4 rows for small d, whose rows are read as whole vectors, and
the blocked loop with vector exp/log1p lanes and scalar tails), the SIMD softmax
stage, and the demo."""
import ctypes
import mmap
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import gradkern
from gradkern import objectives as O
from gradkern._kernels import _objectives as K

from test_objectives import close, ref_linear, ref_softmax

FMA_AT_IMPORT = K.fma_in_use()   # as the session set it (GRADKERN_NO_FMA)
OPENMP = gradkern.openmp_enabled()
HAVE_FMA = K.set_fma(True)   # this build and CPU have the fast (AVX-512 + FMA) variant
K.set_fma(FMA_AT_IMPORT)


@pytest.fixture(params=["fma", "no_fma"])
def variant(request):
    """Each one-pass loop variant in turn: the fast one (AVX-512 + FMA), where this
    CPU has it, and the one whose bits are the same on every x86-64."""
    if request.param == "fma" and not HAVE_FMA:
        pytest.skip("no AVX-512 + FMA variant in this build or on this CPU")
    K.set_fma(request.param == "fma")
    yield request.param
    K.set_fma(FMA_AT_IMPORT)


def per_sample_logistic(z, y):
    """Loss and d loss/dz of single samples, in plain numpy."""
    e = np.exp(-np.abs(z))
    # max(z, 0) - y z + log1p(exp(-|z|)): keeps the tiny loss of a right class at
    # a huge margin (logaddexp(0, z) - y z rounds it to 0)
    loss = (np.maximum(z, 0.0) - y * z) + np.log1p(e)
    small = e / (1.0 + e)                  # min(p, 1 - p), p = sigmoid(z)
    return loss, np.where(z >= 0, (1.0 - y) - small, small - y)


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_logistic_per_sample_accuracy_over_margins(y):
    """Each margin alone (one row per minibatch): vector lanes and scalar tail both
    agree with numpy to a few ulp, from -1000 to 1000 (exp underflow at -708)."""
    z = np.concatenate([np.linspace(-1000, 1000, 401), [-0.0, 0.0, 1e-300, -709.5, 708.0],
                        np.geomspace(1e-12, 40, 60), -np.geomspace(1e-12, 40, 60)])
    X = z[:, None].copy()
    obj = O.Logistic(X, np.full(z.size, y))
    ref_l, ref_g = per_sample_logistic(z, y)
    # the whole batch: lanes of 4 and a scalar tail
    f, g = obj.value_and_grad(np.array([1.0]))
    assert abs(f - ref_l.mean()) <= 1e-13 * max(1.0, abs(ref_l.mean()))
    assert close(g, [(ref_g * z).mean()], 1e-13)
    # one sample at a time, in groups of 4 rows (the vector lanes) and alone (the tail)
    for i in range(0, z.size - 4, 37):
        for rows in (slice(i, i + 4), [i]):
            zi = z[rows]
            f = obj.value([1.0], rows=rows)
            li = ref_l[rows].mean()
            assert abs(f - li) <= 4e-16 * abs(li) + 1e-300, (zi, f, li)
            gi = obj.grad([1.0], rows=rows)
            gref = (ref_g[rows] * zi).mean()
            assert abs(gi[0] - gref) <= 4e-16 * abs(gref) + 1e-300, (zi, gi, gref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [1, 3, 4, 7, 10, 16, 17, 32, 33])
@pytest.mark.parametrize("name", ["LeastSquares", "Huber", "Logistic"])
def test_c_order_blocks_match_reference(name, d, dtype, variant):
    """n = 203: pairs of 4-row groups and a partial last group (one-pass loop:
    d <= 16, and d <= 32 for float32), three 64-row blocks and a tail (blocked
    loop: float64 17 <= d <= 32, and d = 33), with intercept/weights; C order,
    F order and CSR agree to rounding."""
    rng = np.random.default_rng(d)
    n = 203
    X = (rng.standard_normal((n, d)) * 3).astype(dtype)
    y = (rng.random(n) < 0.5).astype(float) if name == "Logistic" else rng.standard_normal(n)
    sw = rng.random(n) + 0.1
    fi = name == "Logistic"
    w = rng.standard_normal(d + fi) * 2
    kind = {"LeastSquares": "squared", "Huber": "huber", "Logistic": "logistic"}[name]
    kw = dict(sample_weight=sw, l2=0.3)
    if name == "Logistic":
        kw["fit_intercept"] = True
    if name == "Huber":
        kw["delta"] = 0.9
    X[rng.random((n, d)) < 0.3] = 0   # CSR rows of varying length (some empty)
    objs = [getattr(O, name)(np.ascontiguousarray(X), y, **kw),
            getattr(O, name)(np.asfortranarray(X), y, **kw),
            getattr(O, name)(sp.csr_matrix(X), y, **kw)]
    f_ref, g_ref = ref_linear(kind, X, y, w, sw, 0.3, fi, 0.9)
    fs = []
    for obj in objs:
        f, g = obj.value_and_grad(w)
        assert abs(f - f_ref) <= 1e-12 * abs(f_ref) and close(g, g_ref)
        fs.append((f, g.copy()))
    for other in fs[1:]:
        assert abs(fs[0][0] - other[0]) <= 1e-13 * abs(f_ref) and close(fs[0][1], other[1], 1e-13)
    # minibatches through the blocked loops: strided and reversed slices, index arrays
    for obj in (objs[0], objs[2]):
        for rows in (slice(5, 200, 3), slice(None, None, -1), slice(190, 3, -7),
                     rng.integers(0, n, 150)):
            idx = np.arange(n)[rows]
            f_ref, g_ref = ref_linear(kind, X[idx], y[idx], w, sw[idx], 0.3, fi, 0.9)
            f, g = obj.value_and_grad(w, rows=rows)
            assert abs(f - f_ref) <= 1e-12 * abs(f_ref) and close(g, g_ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["LeastSquares", "Huber", "Logistic"])
def test_f_order_loop_matches_reference(name, dtype, variant):
    """The F-order loop (_objectives_cols.h) over contiguous rows: d = 2-9 and
    up to 70 (groups of 4 columns and single ones; blocks of 64-256 rows by d),
    row counts with tails of 0-7 rows, 8-vector chunks and single vectors,
    slices starting mid-column, with weights and intercept, 1 and 2 threads;
    index arrays and strided slices take the general loop. Against numpy to
    1e-12."""
    rng = np.random.default_rng(7)
    kind = {"LeastSquares": "squared", "Huber": "huber", "Logistic": "logistic"}[name]
    for d, n in ((1, 300), (2, 1), (2, 9), (3, 64), (4, 71), (5, 517), (7, 130), (9, 263),
                 (10, 1000), (13, 1031), (40, 333), (70, 200)):
        X = (rng.standard_normal((n, d)) * 3).astype(dtype)
        y = (rng.random(n) < 0.5).astype(float) if kind == "logistic" else rng.standard_normal(n)
        for sw, fi in ((None, False), (rng.random(n) + 0.1, True)):
            kw = dict(sample_weight=sw, l2=0.3, n_threads=1)
            if name == "Logistic":
                kw["fit_intercept"] = fi
            else:
                fi = False
            if name == "Huber":
                kw["delta"] = 0.9
            w = rng.standard_normal(d + fi)
            for nt in (1, 2):
                kw["n_threads"] = nt
                obj = getattr(O, name)(np.asfortranarray(X), y, **kw)
                assert obj.layout == ("F" if min(n, d) > 1 else "C")
                for rows in (None, slice(3, n), slice(1, max(n - 2, 2)), slice(5, 5 + 72),
                             slice(0, n, 2), rng.integers(0, n, 50)):
                    idx = np.arange(n)[rows if rows is not None else slice(None)]
                    if idx.size == 0:
                        continue
                    s = None if sw is None else sw[idx]
                    f_ref, g_ref = ref_linear(kind, X[idx], y[idx], w, s, 0.3, fi, 0.9)
                    f, g = obj.value_and_grad(w, rows=rows)
                    assert abs(f - f_ref) <= 1e-12 * abs(f_ref), (d, n, rows, nt)
                    assert close(g, g_ref), (d, n, rows, nt)
                    assert obj.value(w, rows=rows) == f


def test_c_order_result_independent_of_block_position(variant):
    """The same row gives bitwise the same margin whether it lands in a 4-row group
    or in a scalar leftover: one row repeated 67 times has value = its own value."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(13)
    X = np.tile(x, (67, 1))
    obj = O.Logistic(X, np.ones(67))
    w = rng.standard_normal(13)
    f_all = obj.value(w)
    f_one = obj.value(w, rows=[66])
    assert abs(f_all - f_one) <= 1e-15 * abs(f_one)


def _array_before_guard_page(n, d, dtype):
    """A C-ordered (n, d) array whose last byte is the last byte of a mapped page,
    followed by a page that cannot be read: reading past the end of X crashes."""
    libc = ctypes.CDLL(None, use_errno=True)
    itemsize = np.dtype(dtype).itemsize
    nbytes = n * d * itemsize
    page = mmap.PAGESIZE
    npages = -(-nbytes // page) + 1
    buf = mmap.mmap(-1, npages * page, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    base = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    guard = base + (npages - 1) * page
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    assert libc.mprotect(guard, page, 0) == 0, ctypes.get_errno()   # PROT_NONE
    offset = (npages - 1) * page - nbytes
    X = np.frombuffer(buf, dtype=dtype, count=n * d, offset=offset).reshape(n, d)
    return X, buf


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mprotect guard page")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [1, 3, 5, 10, 13, 30])
def test_rows_read_as_whole_vectors_stop_at_the_end_of_X(d, dtype, variant):
    """The one-pass loop reads each row as whole 4-lane vectors, past the row's
    last feature; rows whose read would pass the end of X (here the last bytes
    before an unreadable page) go through a zero-padded copy. Every way of
    reaching the last rows: all rows, a slice, an index array, a reversed slice."""
    n = 37
    X, buf = _array_before_guard_page(n, d, dtype)
    rng = np.random.default_rng(d)
    X[...] = rng.standard_normal((n, d))
    Xc = np.array(X, dtype=np.float64)
    y = rng.standard_normal(n)
    w = rng.standard_normal(d)
    obj = O.LeastSquares(X, y)
    assert obj.X is X or np.shares_memory(obj.X, X)   # no copy: the kernel reads X itself
    for rows in (None, slice(29, None), np.array([n - 1, 0, n - 1, 5, n - 2, n - 1, 3, 2, 1]),
                 slice(None, None, -1)):
        idx = np.arange(n) if rows is None else np.arange(n)[rows]
        f, g = obj.value_and_grad(w, rows=rows)
        f_ref, g_ref = ref_linear("squared", Xc[idx], y[idx], w)
        tol = 1e-12 if dtype == np.float64 else 1e-6
        assert abs(f - f_ref) <= tol * abs(f_ref) and close(g, g_ref, tol)
    del obj, X
    buf.close()


@pytest.mark.parametrize("loop", ["rows", "columns"])
def test_small_d_margin_independent_of_group_position(variant, loop):
    """One row repeated: in pairs of 4-row groups (contiguous or gathered), a
    single group, or a zero-padded group (partial, or at the end of X), its
    margin is bitwise the same (masked lanes add +0 products); so it is in the
    F-order loop over the column-major copy (vector lanes, blocks, single rows).
    Row counts are powers of 2, so the mean of the equal losses is exact."""
    rng = np.random.default_rng(4)
    for d in (3, 10, 16):
        x = rng.standard_normal(d)
        X = np.tile(x, (23, 1))
        obj = O.LeastSquares(X, np.zeros(23))
        assert obj._kernel_cols is not obj._kernel   # the column-major copy is made
        if loop == "rows":
            obj._kernel_cols = obj._kernel   # the C-order row loops for every call
        w = rng.standard_normal(d)
        if loop == "rows":
            f_one = obj.value(w, rows=[22])
            selections = (slice(0, 8), slice(0, 4), [22, 22], slice(3, 19), slice(5, 6),
                          np.full(8, 5), np.full(4, 22), slice(2, 18, 2))
        else:   # contiguous slices only (the others take the row loops)
            f_one = obj.value(w, rows=slice(22, 23))
            selections = (slice(0, 8), slice(0, 4), slice(3, 19), slice(5, 6), slice(7, 23),
                          slice(15, 23), slice(0, 16))
        for rows in selections:
            assert obj.value(w, rows=rows) == f_one, rows


@pytest.mark.skipif(not HAVE_FMA, reason="no AVX-512 + FMA variant in this build or on this CPU")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fma_variant_agrees_with_the_reproducible_one(dtype):
    """The fast variant (fused multiply-adds, losses of 8 rows in one register)
    gives what the AVX2/baseline loop gives, to rounding, for every d it covers
    and beyond, every loss, with and without intercept and weights, over all
    rows, an index array and a reversed slice; and it is deterministic."""
    rng = np.random.default_rng(5)
    n = 203
    try:
        for d in list(range(1, 35)) + [40, 47, 48, 57, 63, 64, 65, 72, 100, 256, 257]:
            for kind in ("squared", "logistic", "huber"):
                for fi in (False, True):
                    X = (rng.standard_normal((n, d)) * 3).astype(dtype)
                    y = (rng.random(n) < 0.5).astype(float) if kind == "logistic" \
                        else rng.standard_normal(n)
                    sw = rng.random(n) + 0.1 if fi else None
                    w = rng.standard_normal(d + fi)
                    k = K.LinearProblem(O._OP_LINEAR, X, "C", None, None, y, sw, d, 1, fi, kind, 0.9)
                    idx = np.array([5, n - 1, 7, 7, 100, 3, n - 1, 9, 11, 0, 1], dtype=np.intp)
                    rev = range(190, 3, -7)
                    for rows, start, step, count in ((None, 0, 1, n), (idx, 0, 1, idx.size),
                                                     (None, rev.start, rev.step, len(rev))):
                        out = []
                        for on in (True, False, True):
                            K.set_fma(on)
                            g = np.empty(d + fi)
                            f, s = k.value_grad(w, g, rows, start, step, count, 0.1, 1)
                            out.append((f, g))
                        (f1, g1), (f0, g0), (f2, g2) = out
                        case = (d, kind, fi, count)
                        assert f1 == f2 and np.array_equal(g1, g2), case
                        assert abs(f1 - f0) <= 1e-14 * abs(f0), case
                        assert close(g1, g0, 1e-13), case
    finally:
        K.set_fma(FMA_AT_IMPORT)


@pytest.mark.skipif(not HAVE_FMA, reason="no AVX-512 + FMA variant in this build or on this CPU")
@pytest.mark.parametrize("dtype,d", [(np.float32, 10), (np.float64, 10), (np.float64, 16)])
def test_fma_logistic_in_cache_loop_gives_the_streaming_loops_bits(dtype, d):
    """The fast variant's logistic loss runs 32 rows per iteration on data in cache
    and 8 on a contiguous range too large for it (GK_PF_MIN_BYTES, 2 MiB per
    thread): the same rows give bitwise the same value and gradient either way,
    for last iterations of 8, 16 and 32 rows (with missing rows padded). (float32
    with 16 < d <= 32 streams through the pipelined loop instead: tested below.)"""
    rng = np.random.default_rng(11)
    n0 = (3 << 20) // (d * np.dtype(dtype).itemsize) // 32 * 32   # 3 MiB of X
    try:
        K.set_fma(True)
        for r in (0, 3, 8, 12, 16, 25, 31):
            n = n0 + r
            X = (rng.standard_normal((n, d)) * 2).astype(dtype)
            y = (rng.random(n) < 0.5).astype(float)
            sw = rng.random(n) + 0.1
            w = rng.standard_normal(d + 1) * 0.5
            k = K.LinearProblem(O._OP_LINEAR, X, "C", None, None, y, sw, d, 1, True,
                                "logistic", 0.9)
            g_stream, g_cache = np.empty(d + 1), np.empty(d + 1)
            # all rows, contiguous: streams (8 rows per iteration)
            f_stream, _ = k.value_grad(w, g_stream, None, 0, 1, n, 0.0, 1)
            # the same rows as an index array: in-cache loop (32 rows per iteration)
            f_cache, _ = k.value_grad(w, g_cache, np.arange(n, dtype=np.intp), 0, 1, n, 0.0, 1)
            assert f_stream == f_cache, r
            assert np.array_equal(g_stream, g_cache), r
            # and both agree with the reproducible loop to rounding
            K.set_fma(False)
            g0 = np.empty(d + 1)
            f0, _ = k.value_grad(w, g0, None, 0, 1, n, 0.0, 1)
            K.set_fma(True)
            assert abs(f_cache - f0) <= 1e-13 * abs(f0), r
            assert close(g_cache, g0, 1e-12), r
    finally:
        K.set_fma(FMA_AT_IMPORT)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mprotect guard page")
@pytest.mark.parametrize("dtype,d", [(np.float64, 17), (np.float64, 20), (np.float64, 24),
                                     (np.float64, 25), (np.float64, 31), (np.float64, 32),
                                     (np.float64, 47), (np.float64, 64), (np.float64, 65),
                                     (np.float64, 100), (np.float64, 256), (np.float32, 33),
                                     (np.float32, 41), (np.float32, 64), (np.float32, 129)])
@pytest.mark.parametrize("n", [7, 8, 9, 16, 40, 41])
def test_pipelined_rows_stop_at_the_end_of_X(n, d, dtype, variant):
    """16 < d <= 256 over contiguous rows (float32: d > 32 in cache): the fast
    variant's pipelined loop reads rows as whole 8-lane vectors, 8 rows at a
    time; a group whose last row's read would pass the end of X (an unreadable
    page right after it) goes to the other loops instead, and so does a last
    partial group. All rows, slices starting and ending inside X, for each
    loss."""
    X, buf = _array_before_guard_page(n, d, dtype)
    rng = np.random.default_rng(n * 100 + d)
    X[...] = rng.standard_normal((n, d))
    y = (rng.random(n) < 0.5).astype(float)
    w = rng.standard_normal(d) * 0.5
    for name, kind in (("LeastSquares", "squared"), ("Logistic", "logistic"),
                       ("Huber", "huber")):
        obj = getattr(O, name)(X, y)
        for rows in (None, slice(1, None), slice(0, n - 1), slice(n - 8, None)):
            idx = np.arange(n) if rows is None else np.arange(n)[rows]
            if idx.size == 0:
                continue
            f, g = obj.value_and_grad(w, rows=rows)
            f_ref, g_ref = ref_linear(kind, np.array(X[idx], dtype=np.float64), y[idx], w)
            assert abs(f - f_ref) <= 1e-12 * abs(f_ref) and close(g, g_ref), (name, rows)
        del obj
    del X
    buf.close()


@pytest.mark.skipif(not HAVE_FMA, reason="no AVX-512 + FMA variant in this build or on this CPU")
@pytest.mark.parametrize("dtype,d", [(np.float64, 20), (np.float64, 25), (np.float64, 32),
                                     (np.float64, 40), (np.float64, 48), (np.float64, 50),
                                     (np.float64, 57), (np.float64, 64), (np.float64, 100),
                                     (np.float64, 256), (np.float32, 24), (np.float32, 32),
                                     (np.float32, 50), (np.float32, 129)])
def test_fma_pipelined_streaming_loop_agrees_with_the_reproducible_one(dtype, d):
    """16 < d <= 256 over a contiguous range too large for the cache
    (> GK_PF_MIN_BYTES per thread, so the loop prefetches; float64 with d <= 64
    runs the streaming copy of each function, one row of margins per iteration:
    d = 20 to 64 reach each vector count 3 to 8): the pipelined loop of the fast
    variant agrees with the reproducible loops to rounding, for each loss, with
    weights and intercept, 1 and 2 threads; deterministic for a fixed thread
    count."""
    rng = np.random.default_rng(d)
    n = (6 << 20) // (np.dtype(dtype).itemsize * d) + 5   # 6 MiB: 3 MiB per thread on two
    X = rng.standard_normal((n, d)).astype(dtype)
    sw = rng.random(n) + 0.1
    try:
        for name, kind in (("LeastSquares", "squared"), ("Logistic", "logistic"),
                           ("Huber", "huber")):
            y = (rng.random(n) < 0.5).astype(float) if kind == "logistic" \
                else rng.standard_normal(n)
            fi = kind == "logistic"
            kw = dict(sample_weight=sw, fit_intercept=True) if fi else dict(sample_weight=sw)
            w = rng.standard_normal(d + fi) * 0.3
            for nt in (1, 2) if OPENMP else (1,):
                obj = getattr(O, name)(X, y, n_threads=nt, **kw)
                K.set_fma(False)
                f0, g0 = obj.value_and_grad(w)
                K.set_fma(True)
                f1, g1 = obj.value_and_grad(w)
                f2, g2 = obj.value_and_grad(w)
                assert f1 == f2 and np.array_equal(g1, g2), (name, nt)
                assert abs(f1 - f0) <= 1e-13 * abs(f0), (name, nt)
                assert close(g1, g0, 1e-12), (name, nt)
    finally:
        K.set_fma(FMA_AT_IMPORT)


@pytest.mark.parametrize("K", [2, 3, 4, 5, 9])
def test_softmax_vector_stage_all_class_counts(K):
    """K below, at and above the 4-lane width; scores spread to +-1000."""
    rng = np.random.default_rng(K)
    n, d = 70, 6
    X = rng.standard_normal((n, d))
    y = rng.integers(0, K, n)
    for scale in (0.5, 300.0):
        w = rng.standard_normal(d * K) * scale
        obj = O.SoftmaxCrossEntropy(X, y, K, l2=0.1)
        with np.errstate(all="raise"):
            f, g = obj.value_and_grad(w)
        f_ref, g_ref = ref_softmax(X, y, w, K, None, 0.1)
        assert np.isfinite(f) and abs(f - f_ref) <= 1e-12 * abs(f_ref)
        assert close(g, g_ref)


def test_demo_runs_and_fits_agree(capsys):
    from gradkern._demo_objectives import demo
    rows = demo(quick=True)
    out = capsys.readouterr().out
    assert "gradkern Logistic" in out and "numpy" in out
    losses = [r[4] for r in rows]
    assert max(losses) - min(losses) <= 1e-8 * abs(losses[0])


def test_softmax_sure_class_keeps_precision():
    """p - 1 for a class that is almost sure: computed from exp(z - max) / sum,
    so it keeps full relative precision (exp(z - logsumexp) would not)."""
    obj = O.SoftmaxCrossEntropy(np.array([[1.0]]), [1], 3)
    a, b = np.exp(-46.0), np.exp(-18.0)
    g = obj.grad(np.array([-46.0, 0.0, -18.0]))
    expected = np.array([a, -(a + b), b]) / (1.0 + a + b)
    np.testing.assert_allclose(g, expected, rtol=1e-14)
    assert abs(obj.value(np.array([-46.0, 0.0, -18.0])) - np.log1p(a + b)) <= 1e-15 * b


@pytest.mark.parametrize("K", [2, 3, 4, 5, 8, 10, 12, 13, 16, 17, 20, 33, 64, 101])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_blocked_rows_every_class_count_and_tail(K, dtype):
    """The 4-rows-at-a-time softmax loop (C order; scores in registers for K <= 16,
    through a buffer 16 classes at a time above) against numpy: tails of 0-3 rows,
    sample weights, minibatch index arrays (repeats, X's last row) and strided
    slices, float32 data, F-ordered X (the row-by-row loop) agreeing with it, and
    CSR X. Fewer than 8 rows (CSR: nonzeros per feature) go row by row."""
    rng = np.random.default_rng(K)
    d = 7
    for n in (1, 5, 8, 9, 10, 11, 33):
        X = (rng.standard_normal((n, d)) * 2).astype(dtype)
        y = rng.integers(0, K, n)
        y[0] = K - 1
        sw = rng.random(n) + 0.1
        w = rng.standard_normal(d * K)
        obj = O.SoftmaxCrossEntropy(X, y, K, sample_weight=sw)
        assert obj._kernel.softmax_blocked(None, 0, 1, n) == (n >= 8)
        f, g = obj.value_and_grad(w)
        f_ref, g_ref = ref_softmax(X, y, w, K, sw)
        assert abs(f - f_ref) <= 1e-12 * abs(f_ref), (n, K)
        assert close(g, g_ref), (n, K)
        assert obj.value(w) == f
        f_f, g_f = O.SoftmaxCrossEntropy(np.asfortranarray(X), y, K,
                                         sample_weight=sw).value_and_grad(w)
        assert abs(f_f - f) <= 1e-13 * abs(f) and close(g_f, g, 1e-13), (n, K)
        # CSR: every entry stored (explicit zeros too), so >= 8 nonzeros per
        # feature from 8 rows on: the same 4-row loop over nonzeros
        Xs = sp.csr_matrix(X)
        Xs.data[rng.random(Xs.data.size) < 0.3] = 0.0
        Xs = sp.csr_matrix((Xs.data, Xs.indices, Xs.indptr), shape=X.shape)
        obj_s = O.SoftmaxCrossEntropy(Xs, y, K, sample_weight=sw)
        assert obj_s._kernel.softmax_blocked(None, 0, 1, n) == (Xs.nnz >= 8 * d)
        f_s, g_s = obj_s.value_and_grad(w)
        f_ref, g_ref = ref_softmax(Xs, y, w, K, sw)
        assert abs(f_s - f_ref) <= 1e-12 * abs(f_ref) and close(g_s, g_ref), (n, K)
        for rows in (np.array([n - 1, 0, n - 1, n // 2, 0], dtype=np.intp),
                     np.r_[[n - 1, 0, n - 1, n // 2, 0], np.arange(n)[::-1]].astype(np.intp),
                     slice(n - 1, None, -2)):
            for o, Xo in ((obj, X), (obj_s, Xs)):
                f_b, g_b = o.value_and_grad(w, rows=rows)
                f_ref, g_ref = ref_softmax(Xo[rows], y[rows], w, K, sw[rows])
                assert abs(f_b - f_ref) <= 1e-12 * abs(f_ref), (n, K, rows)
                assert close(g_b, g_ref), (n, K, rows)


def test_softmax_blocked_rows_fma_variant_agrees_to_rounding():
    """The AVX-512 + FMA variant of the 4-row softmax loop (where the CPU has it)
    against the reproducible one, and two threads against one."""
    rng = np.random.default_rng(5)
    n, d = 3001, 9
    X = rng.standard_normal((n, d))
    for nc in (10, 23):     # scores in registers, through the buffer
        y = rng.integers(0, nc, n)
        w = rng.standard_normal(d * nc)
        out = {}
        try:
            for fma in (False, True):
                K.set_fma(fma)
                for nt in (1, 2):
                    obj = O.SoftmaxCrossEntropy(X, y, nc, n_threads=nt)
                    # two threads where the build has OpenMP
                    assert obj._kernel.threads_used(n, nt) == (nt if OPENMP else 1)
                    out[fma, nt] = obj.value_and_grad(w)
        finally:
            K.set_fma(FMA_AT_IMPORT)
        f0, g0 = out[False, 1]
        for key, (f, g) in out.items():
            assert abs(f - f0) <= 1e-13 * abs(f0), (nc, key)
            assert close(g, g0, 1e-13), (nc, key)
        f_ref, g_ref = ref_softmax(X, y, w, nc)
        assert abs(f0 - f_ref) <= 1e-12 * abs(f_ref) and close(g0, g_ref)


def test_softmax_with_many_features_takes_the_row_loop():
    """Above SM_MAX_SCRATCH doubles of per-thread scratch ((2 d + 4) padded
    classes: 400,000 features x 10 classes) softmax goes row by row, whose scratch
    is 2 K doubles; the result is the same."""
    rng = np.random.default_rng(8)
    n, d, nc = 8, 400_000, 10
    X = rng.standard_normal((n, d))
    y = rng.integers(0, nc, n)
    w = rng.standard_normal(d * nc) * 0.002
    obj = O.SoftmaxCrossEntropy(X, y, nc)
    assert not obj._kernel.softmax_blocked(None, 0, 1, n)
    assert O.SoftmaxCrossEntropy(X[:, :1000], y, nc)._kernel.softmax_blocked(None, 0, 1, n)
    f, g = obj.value_and_grad(w)
    f_ref, g_ref = ref_softmax(X, y, w, nc)
    assert abs(f - f_ref) <= 1e-12 * abs(f_ref) and close(g, g_ref)
