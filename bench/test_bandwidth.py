"""The memory-bandwidth floor itself, beside numpy's fastest equivalent pass."""
import numpy as np
import pytest

from harness import bench_case, bench_floor, sizes

from gradkern.bandwidth import stream_pass

SIZES = sizes([10**3, 10**5, 10**6, 10**7], quick=[10**3, 10**5])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("impl", ["gradkern", "numpy", "floor"])
def test_stream_read2_write1(benchmark, impl, n, dtype):
    """2 arrays read, 1 written: the public stream_pass (with its argument checks),
    numpy's a += b, and the raw floor kernel."""
    group = f"bandwidth r2w1 n={n:.0e} {dtype}"
    if impl == "floor":
        return bench_floor(benchmark, group, n, dtype, 2, 1)
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(n).astype(dtype) for _ in range(2))
    if impl == "gradkern":
        bench_case(benchmark, group, impl, stream_pass, [a, b], 1)
    else:
        bench_case(benchmark, group, impl, np.add, a, b, out=a)
