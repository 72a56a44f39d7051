"""Property-based tests of the finite differences (hypothesis)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose
from scipy.optimize._numdiff import approx_derivative as sp_approx_derivative

from gradkern import approx_derivative
from gradkern.numdiff import rosen_lowlevel


def smooth(x):
    """A scalar function with every kind of term (products couple the coordinates)."""
    return np.sum(np.sin(x) * np.exp(0.1 * x)) + 0.5 * np.sum(x * x) + x[0] * x[-1]


def smooth_grad(x):
    g = np.cos(x) * np.exp(0.1 * x) + 0.1 * np.sin(x) * np.exp(0.1 * x) + x
    g[0] += x[-1]
    g[-1] += x[0]
    return g


def points(max_n=8, lo=-20.0, hi=20.0):
    return st.integers(1, max_n).flatmap(lambda n: arrays(
        np.float64, n, elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False)))


@settings(max_examples=25, deadline=None)
@given(x0=points(), method=st.sampled_from(["2-point", "3-point"]), data=st.data())
def test_same_as_scipy_with_and_without_bounds(x0, method, data):
    n = x0.size
    room_lo = data.draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 1e-9, 1e-4, 1.0, np.inf])))
    room_hi = data.draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 1e-9, 1e-4, 1.0, np.inf])))
    bounds = (x0 - room_lo, x0 + room_hi)
    seen = []

    def f(x):
        seen.append(x.copy())
        return smooth(x)

    with np.errstate(invalid="ignore", divide="ignore"):   # lb == ub: 0/0 as scipy
        ours, info = approx_derivative(f, x0, method=method, bounds=bounds, full_output=True)
        ref, rinfo = sp_approx_derivative(smooth, x0, method=method, bounds=bounds,
                                          full_output=True)
    assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    assert info["nfev"] == rinfo["nfev"] == len(seen)
    seen = np.array(seen)
    assert np.all(seen >= bounds[0]) and np.all(seen <= bounds[1])


@settings(max_examples=25, deadline=None)
@given(x0=points(lo=-5.0, hi=5.0), method=st.sampled_from(["cs", "richardson"]))
def test_accurate_methods_meet_their_error_claims(x0, method):
    J, info = approx_derivative(smooth, x0, method=method, full_output=True)
    true = smooth_grad(x0)
    err = np.abs(J - true)
    scale = max(1.0, np.max(np.abs(true)))
    if method == "cs":
        assert np.max(err) <= 1e-13 * scale
    else:
        assert np.max(err) <= 1e-9 * scale
        assert np.all(err <= info["error_estimate"])


@settings(max_examples=20, deadline=None)
@given(x0=points(max_n=12, lo=-2.0, hi=2.0),
       method=st.sampled_from(["2-point", "3-point", "richardson"]),
       kind=st.sampled_from(["vectorized", "workers", "C"]))
def test_every_objective_kind_agrees(x0, method, kind):
    from scipy.optimize import rosen
    if x0.size < 2:
        x0 = np.append(x0, 0.5)
    ref, rinfo = approx_derivative(rosen, x0, method=method, full_output=True)
    if kind == "vectorized":
        J, info = approx_derivative(rosen, x0, method=method, vectorized=True,
                                    full_output=True)    # scipy's rosen takes (n, k)
    elif kind == "workers":
        J, info = approx_derivative(rosen, x0, method=method, workers=map, full_output=True)
        assert_allclose(J, ref, rtol=0, atol=0)
    else:
        J, info = approx_derivative(rosen_lowlevel(), x0, method=method, workers=1,
                                    full_output=True)
    # other summation orders differ by ulp(f) / h
    tol = 1e-5 if method == "2-point" else 1e-8
    assert np.max(np.abs(J - ref)) <= tol * max(1.0, np.max(np.abs(ref)))
    assert info["nfev"] == rinfo["nfev"]


@settings(max_examples=20, deadline=None)
@given(x0=points(), bad=st.sampled_from([np.nan, np.inf, -np.inf]), data=st.data())
def test_non_finite_x0_is_rejected_before_any_call(x0, bad, data):
    i = data.draw(st.integers(0, x0.size - 1))
    x0 = x0.copy()
    x0[i] = bad
    calls = []
    for method in ["2-point", "3-point", "cs", "richardson"]:
        with pytest.raises(ValueError, match="x0"):
            approx_derivative(lambda x: calls.append(1) or smooth(x), x0, method=method)
    assert not calls
