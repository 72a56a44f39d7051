"""Fused value-and-gradient objectives against idiomatic numpy (BLAS) twins.

Groups (one kernel at one size/dtype): Logistic and LeastSquares at 1e3 x 10,
1e6 x 32 and 5e5 x 64 (float32 and float64), SoftmaxCrossEntropy with 10 classes (and 100 at
2e4 x 64), sparse logistic on a 1e6 x 1e4 CSR matrix (0.1% dense) and sparse
softmax (10 classes, 1e5 x 1e4) against scipy.sparse + numpy, and minibatches (64
and 1024 rows by index of a 1e5 x 10 X) against gathering them.
The big cases run only in full mode (``sizes()``). Dense cases also time
gradkern on an F-ordered copy of X (``gradkern_F``) and, at 1e3 x 10, without
the column-major copy the objective keeps of small C-ordered X
(``gradkern_rows``).

numpy's matrix products use every core (multithreaded BLAS), so ``gradkern`` runs
with ``n_threads=-1`` (every core) and ``gradkern_1thread`` shows the one-thread
kernel in the same group.

Floor: one read of X's bytes. Dense: ``bench_floor`` with ``n_write=0`` on every
core (a streaming read returning an XOR checksum, so it cannot be skipped); the
``gradkern`` case also times itself alternately with that read of X itself
(``interleave_floor``: ``floor (interleaved)`` in the report). CSR:
data and column indices as the kernel reads them, a wrapping integer sum over
the same bytes (``np.add.reduce`` on an integer view, one thread), since
``bench_floor`` times same-dtype arrays of one length.
"""
import functools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit

from harness import bench_case, bench_floor, interleave_floor, sizes

from gradkern import effective_n_threads
from gradkern._kernels import _objectives as _kernels
from gradkern._kernels._bandwidth import stream_pass as _stream_kernel
from gradkern.objectives import LeastSquares, Logistic, SoftmaxCrossEntropy

DENSE = sizes([(10**3, 10), (10**6, 32), (5 * 10**5, 64)], quick=[(10**3, 10)])
# (rows, features, classes)
SOFTMAX = sizes([(10**3, 10, 10), (10**5, 32, 10), (2 * 10**4, 64, 100)],
                quick=[(10**3, 10, 10)])
SPARSE = sizes([(10**6, 10**4)], quick=[])
# numpy's matrix products run on every core (multithreaded BLAS), so "gradkern" runs on
# every core too (n_threads=-1); "gradkern_1thread" shows the one-thread kernel beside it.
NT = effective_n_threads(-1)
IMPLS = ["gradkern", "gradkern_1thread", "numpy", "floor"]
# Where the AVX-512 + FMA variant of the one-pass loop (small d) is in use,
# "gradkern_nofma" times the same call with it switched off for that case only
# (the AVX2 loop, bitwise equal to the baseline one), side by side in one run.
DENSE_IMPLS = IMPLS + (["gradkern_nofma"] if _kernels.fma_in_use() else [])
# "gradkern_F": the same call on an F-ordered X (the column loop, _objectives_cols.h);
# "gradkern_rows": on small C-ordered X, without the column-major copy the objective
# makes there (the row loops), where it makes one
DENSE_IMPLS += ["gradkern_F", "gradkern_rows"]


# ------------------------------------------------------------------ data

@functools.lru_cache(maxsize=2)
def dense_data(n, d, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(dtype)
    w = rng.standard_normal(d) / np.sqrt(d)
    y = (rng.random(n) < expit(X @ w.astype(dtype))).astype(np.float64)
    return X, y, 0.5 * w


@functools.lru_cache(maxsize=1)
def sparse_data(n, d):
    """CSR with 0.1% of d per row: column j*(d/k) + random offset, so each row's
    indices are distinct and sorted (canonical CSR, no copy at construction)."""
    rng = np.random.default_rng(1)
    k = max(1, d // 1000)
    band = d // k
    cols = (np.arange(k) * band)[None, :] + rng.integers(0, band, size=(n, k))
    X = sp.csr_matrix((rng.standard_normal(n * k), cols.ravel().astype(np.int32),
                       np.arange(0, n * k + 1, k, dtype=np.int32)), shape=(n, d))
    w = rng.standard_normal(d)
    y = (rng.random(n) < 0.5).astype(np.float64)
    return X, y, w


def read_floor(*arrays):
    """One streaming read of every byte of ``arrays`` (the bandwidth floor)."""
    views = [a.reshape(-1).view(np.int64 if a.nbytes % 8 == 0 else np.int32)
             for a in arrays]
    return [np.add.reduce(v) for v in views]


def run_floor(benchmark, group, *arrays):
    benchmark.extra_info["bytes"] = int(sum(a.nbytes for a in arrays))
    return bench_case(benchmark, group, "floor", read_floor, *arrays)


# ------------------------------------------------------------------ numpy twins

def np_logistic(X, y, w):
    z = X @ w
    f = np.mean(np.logaddexp(0.0, z) - y * z)
    g = X.T @ (expit(z) - y) / X.shape[0]
    return f, g


def np_least_squares(X, y, w):
    r = X @ w - y
    return 0.5 * (r @ r) / X.shape[0], X.T @ r / X.shape[0]


def np_softmax(X, y, W):
    """Also for CSR X: its products with dense arrays are scipy.sparse's."""
    n = X.shape[0]
    Z = X @ W
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    s = P.sum(axis=1)
    rows = np.arange(n)
    f = np.mean(np.log(s) - Z[rows, y])
    P /= s[:, None]
    P[rows, y] -= 1.0
    return f, (X.T @ P / n).ravel()


# ------------------------------------------------------------------ dense

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("nd", DENSE, ids=lambda nd: f"{nd[0]:.0e}x{nd[1]}")
@pytest.mark.parametrize("impl", DENSE_IMPLS)
@pytest.mark.parametrize("name", ["logistic", "least_squares"])
def test_dense_value_and_grad(benchmark, name, impl, nd, dtype):
    n, d = nd
    X, y, w = dense_data(n, d, dtype)
    group = f"objectives {name} value_and_grad {n:.0e}x{d} {dtype}"
    if impl == "floor":
        return bench_floor(benchmark, group, X.size, X.dtype, 1, 0, n_threads=NT)
    if impl.startswith("gradkern"):
        nt = 1 if impl == "gradkern_1thread" else NT
        Xk = np.asfortranarray(X) if impl == "gradkern_F" else X
        obj = (Logistic if name == "logistic" else LeastSquares)(Xk, y, n_threads=nt)
        if impl == "gradkern_rows":
            if obj._kernel_cols is obj._kernel:
                pytest.skip("no column-major copy at this size: the same as gradkern")
            obj._kernel_cols = obj._kernel   # every call through the row loops
        out = np.empty(d)
        fma = _kernels.fma_in_use()
        _kernels.set_fma(fma and impl != "gradkern_nofma")
        try:
            f, g = bench_case(benchmark, group, impl, obj.value_and_grad, w, out=out)
            if impl == "gradkern":
                # the call and one read of X itself (the floor kernel), alternately
                flat = X.reshape(-1)
                interleave_floor(benchmark, lambda: obj.value_and_grad(w, out=out),
                                 lambda: _stream_kernel([flat], 0, 0.0, NT))
        finally:
            _kernels.set_fma(fma)
    else:
        # idiomatic numpy keeps float32 data in float32 (no upcast copy of X)
        fn = np_logistic if name == "logistic" else np_least_squares
        f, g = bench_case(benchmark, group, impl, fn, X, y.astype(dtype), w.astype(dtype))
    ref = (np_logistic if name == "logistic" else np_least_squares)(
        X.astype(np.float64), y, w)
    tol = 1e-10 if dtype == "float64" else 1e-4
    assert abs(f - ref[0]) <= tol * max(1.0, abs(ref[0]))
    np.testing.assert_allclose(g, ref[1], rtol=tol, atol=tol * np.max(np.abs(ref[1])))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ndk", SOFTMAX, ids=lambda ndk: f"{ndk[0]:.0e}x{ndk[1]}-K{ndk[2]}")
@pytest.mark.parametrize("impl", IMPLS)
def test_softmax_value_and_grad(benchmark, impl, ndk, dtype):
    n, d, K = ndk
    X, _, _ = dense_data(n, d, dtype)
    rng = np.random.default_rng(2)
    y = rng.integers(0, K, n)
    w = rng.standard_normal(d * K) / np.sqrt(d)
    group = f"objectives softmax{K} value_and_grad {n:.0e}x{d} {dtype}"
    if impl == "floor":
        return bench_floor(benchmark, group, X.size, X.dtype, 1, 0, n_threads=NT)
    if impl.startswith("gradkern"):
        nt = 1 if impl == "gradkern_1thread" else NT
        obj = SoftmaxCrossEntropy(X, y, n_classes=K, n_threads=nt)
        f, g = bench_case(benchmark, group, impl, obj.value_and_grad, w, out=np.empty(d * K))
    else:
        f, g = bench_case(benchmark, group, impl, np_softmax, X, y,
                          w.reshape(d, K).astype(dtype))
    ref = np_softmax(X.astype(np.float64), y, w.reshape(d, K))
    tol = 1e-10 if dtype == "float64" else 1e-4
    assert abs(f - ref[0]) <= tol * max(1.0, abs(ref[0]))
    np.testing.assert_allclose(g, ref[1], rtol=tol, atol=tol * np.max(np.abs(ref[1])))


# ------------------------------------------------------------------ sparse

@pytest.mark.parametrize("nd", SPARSE, ids=lambda nd: f"{nd[0]:.0e}x{nd[1]:.0e}")
@pytest.mark.parametrize("impl", ["gradkern", "gradkern_1thread", "scipy", "floor"])
def test_sparse_logistic_value_and_grad(benchmark, impl, nd):
    n, d = nd
    X, y, w = sparse_data(n, d)
    group = f"objectives logistic value_and_grad CSR {n:.0e}x{d:.0e} 0.1% float64"
    if impl == "floor":
        # the kernel reads data and (intp) column indices once
        return run_floor(benchmark, group, X.data, X.indices.astype(np.intp))
    if impl.startswith("gradkern"):
        obj = Logistic(X, y, n_threads=1 if impl == "gradkern_1thread" else NT)
        f, g = bench_case(benchmark, group, impl, obj.value_and_grad, w, out=np.empty(d))
    else:
        f, g = bench_case(benchmark, group, impl, np_logistic, X, y, w)
    ref = np_logistic(X, y, w)
    assert abs(f - ref[0]) <= 1e-10 * max(1.0, abs(ref[0]))
    np.testing.assert_allclose(g, ref[1], rtol=1e-10, atol=1e-10 * np.max(np.abs(ref[1])))


SPARSE_SOFTMAX = sizes([(10**5, 10**4)], quick=[])


@pytest.mark.parametrize("nd", SPARSE_SOFTMAX, ids=lambda nd: f"{nd[0]:.0e}x{nd[1]:.0e}")
@pytest.mark.parametrize("impl", ["gradkern", "gradkern_1thread", "scipy"])
def test_sparse_softmax_value_and_grad(benchmark, impl, nd):
    """Softmax cross-entropy, 10 classes, on CSR X (0.1% dense: 10 nonzeros per row)
    against scipy.sparse products and numpy's softmax."""
    n, d = nd
    K = 10
    X, _, _ = sparse_data(n, d)
    y = np.random.default_rng(2).integers(0, K, n)
    w = np.random.default_rng(3).standard_normal(d * K)
    group = f"objectives softmax{K} value_and_grad CSR {n:.0e}x{d:.0e} 0.1% float64"
    if impl.startswith("gradkern"):
        obj = SoftmaxCrossEntropy(X, y, n_classes=K,
                                  n_threads=1 if impl == "gradkern_1thread" else NT)
        f, g = bench_case(benchmark, group, impl, obj.value_and_grad, w, out=np.empty(d * K))
    else:
        f, g = bench_case(benchmark, group, impl, np_softmax, X, y, w.reshape(d, K))
    ref = np_softmax(X, y, w.reshape(d, K))
    assert abs(f - ref[0]) <= 1e-10 * max(1.0, abs(ref[0]))
    np.testing.assert_allclose(g, ref[1], rtol=1e-10, atol=1e-10 * np.max(np.abs(ref[1])))


# ------------------------------------------------------------------ minibatches

MINIBATCH = sizes([64, 1024], quick=[64])


@pytest.mark.parametrize("b", MINIBATCH)
@pytest.mark.parametrize("impl", ["gradkern", "numpy"])
@pytest.mark.parametrize("name", ["logistic", "least_squares"])
def test_minibatch_value_and_grad(benchmark, name, impl, b):
    """One stochastic-gradient step's objective: ``b`` random rows (an intp index
    array, sorted) of a 1e5 x 10 float64 X. gradkern reads the rows in place
    (``rows=idx``); numpy's twin gathers them (``X[idx]``) and runs the BLAS form.
    One thread each (a minibatch is below gradkern's threading threshold)."""
    n, d = 10**5, 10
    X, y, w = dense_data(n, d, "float64")
    idx = np.sort(np.random.default_rng(4).choice(n, b, replace=False)).astype(np.intp)
    group = f"objectives {name} minibatch {b} rows of {n:.0e}x{d} float64"
    fn = np_logistic if name == "logistic" else np_least_squares
    if impl == "gradkern":
        obj = (Logistic if name == "logistic" else LeastSquares)(X, y)
        f, g = bench_case(benchmark, group, impl, obj.value_and_grad, w, out=np.empty(d),
                          rows=idx)
    else:
        f, g = bench_case(benchmark, group, impl, lambda: fn(X[idx], y[idx], w))
    ref = fn(X[idx], y[idx], w)
    assert abs(f - ref[0]) <= 1e-10 * max(1.0, abs(ref[0]))
    np.testing.assert_allclose(g, ref[1], rtol=1e-10, atol=1e-10 * np.max(np.abs(ref[1])))
