import os

import pytest

import gradkern
from gradkern._kernels import _platform


def test_effective_n_threads_rules():
    if not gradkern.openmp_enabled():
        assert gradkern.effective_n_threads(4) == 1
        assert gradkern.effective_n_threads(-1) == 1
        return
    assert gradkern.effective_n_threads(1) == 1
    assert gradkern.effective_n_threads(3) == 3
    assert gradkern.effective_n_threads(-1) == _platform.max_threads()
    assert gradkern.effective_n_threads(-1000) == 1


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (1.5, TypeError), ("2", TypeError),
                                      (True, TypeError), (None, TypeError)])
def test_effective_n_threads_rejects(bad, exc):
    with pytest.raises(exc, match="n_threads"):
        gradkern.effective_n_threads(bad)


def test_openmp_matches_build_env():
    """CI states which build it made; the compiled module must agree."""
    expect = os.environ.get("GRADKERN_EXPECT_OPENMP")
    if expect is None:
        pytest.skip("GRADKERN_EXPECT_OPENMP not set (set by .ci/run)")
    assert gradkern.openmp_enabled() is (expect == "1")


def test_simd_level_is_named():
    assert _platform.simd_level() in {"AVX512F", "AVX2+FMA", "AVX2", "AVX", "SSE4.2", "SSE2",
                                      "NEON", "none"}


def test_show_config_lists_kernels(capsys):
    gradkern.show_config()
    out = capsys.readouterr().out
    assert f"gradkern {gradkern.__version__}" in out
    assert "OpenMP" in out and "SIMD level" in out
    assert "_bandwidth" in out and "_platform" in out
    omp = "enabled" if gradkern.openmp_enabled() else "disabled"
    assert f"OpenMP       : {omp}" in out


def test_build_info_recorded():
    from gradkern._config import build_info
    info = build_info()
    assert info["openmp"] is gradkern.openmp_enabled()
    if not info["debug"]:
        assert "-O3" in info["compile_args"] and "-fno-math-errno" in info["compile_args"]
    assert "-ffast-math" not in info["compile_args"]


def test_runtime_dispatch_is_consistent_with_the_kernels():
    from gradkern._kernels import _optim, _platform
    mode = _platform.runtime_dispatch()
    assert mode in ("avx2", "baseline", "off")
    # one definition (gk_dispatch.h) decides for every kernel module
    assert (mode != "off") == _optim.isa_dispatch()
    assert gradkern._config.config()["dispatch"] == mode
