import numpy as np
import pytest
from hypothesis import given, strategies as st

from gradkern.bandwidth import stream_bytes, stream_pass


def reference(arrays, n_write, scale):
    total = np.sum([a.astype(np.float64) for a in arrays], axis=0)
    return [a + scale * total if k < n_write else a.copy() for k, a in enumerate(arrays)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("n_arrays,n_write", [(1, 0), (1, 1), (2, 1), (4, 3), (8, 8), (8, 0)])
def test_stream_pass_matches_numpy(dtype, n_threads, n_arrays, n_write):
    rng = np.random.default_rng(n_arrays * 10 + n_write)
    n = 100_003  # not a multiple of any block or vector width; large enough for 2 threads
    arrays = [rng.standard_normal(n).astype(dtype) for _ in range(n_arrays)]
    expect = reference(arrays, n_write, 0.25)
    nbytes = stream_pass(arrays, n_write, scale=0.25, n_threads=n_threads)
    assert nbytes == n * np.dtype(dtype).itemsize * (n_arrays + n_write)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, want in zip(arrays, expect):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_scale_zero_leaves_values():
    a = np.linspace(-1, 1, 1001)
    b = np.full(1001, np.nan)  # even NaN in a read-only array: a += 0*nan would be NaN
    a0 = a.copy()
    stream_pass([a], 1)
    np.testing.assert_array_equal(a, a0)
    stream_pass([b], 0)  # read only, nothing written
    assert np.isnan(b).all()


@given(n=st.integers(0, 3000), n_arrays=st.integers(1, 8), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_stream_pass_property(n, n_arrays, data, dtype):
    n_write = data.draw(st.integers(0, n_arrays))
    rng = np.random.default_rng(n)
    arrays = [rng.uniform(-1, 1, n).astype(dtype) for _ in range(n_arrays)]
    expect = reference(arrays, n_write, 0.5)
    stream_pass(arrays, n_write, scale=0.5)
    for got, want in zip(arrays, expect):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_stream_bytes():
    assert stream_bytes(10, np.float32, 4, 3) == 280


@pytest.mark.parametrize("arrays, n_write, exc, match", [
    ([], 0, TypeError, "non-empty list"),
    ("abc", 0, TypeError, "non-empty list"),
    ([np.zeros(3)] * 9, 0, ValueError, "at most 8"),
    ([np.zeros(3)], 2, ValueError, "n_write"),
    ([np.zeros(3), [1.0, 2.0, 3.0]], 1, TypeError, r"arrays\[1\] must be a numpy.ndarray"),
    ([np.zeros(3), np.zeros(3, np.float32)], 1, TypeError, r"arrays\[1\] must have dtype"),
    ([np.zeros(3, np.int64)], 1, TypeError, r"arrays\[0\] must have dtype"),
    ([np.zeros(3), np.zeros(4)], 1, ValueError, r"arrays\[1\].*shape"),
    ([np.zeros((2, 2))], 1, ValueError, "1-dimensional"),
    ([np.zeros(6)[::2]], 1, ValueError, "C-contiguous"),
])
def test_stream_pass_rejects(arrays, n_write, exc, match):
    with pytest.raises(exc, match=match):
        stream_pass(arrays, n_write)


def test_stream_pass_rejects_readonly_written_array():
    a = np.zeros(5)
    a.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        stream_pass([a], 1)
    assert stream_pass([a], 0) == 40  # reading a read-only array is fine
