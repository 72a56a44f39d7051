"""``python -m gradkern demo``: run real problems end to end with the kernels built so
far and print how they compare with numpy/scipy on this machine."""
import importlib
import time

import numpy as np

from gradkern._report import format_table


def median_time(fn, repeat=7):
    """Median wall time of ``fn()`` over ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def demo_bandwidth(quick=False):
    """The memory-bandwidth floor: one fused pass vs numpy's passes with temporaries."""
    from gradkern.bandwidth import stream_pass
    from gradkern._kernels._platform import max_threads

    n = 10**6 if quick else 10**7
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    a0 = a.copy()
    tmp = np.empty_like(a)

    def numpy_pass():
        np.add(a, b, out=tmp)
        np.multiply(tmp, 0.0, out=tmp)
        np.add(a, tmp, out=a)

    nbytes = 3 * a.nbytes
    rows = []
    t_np = median_time(numpy_pass)
    rows.append(["numpy (3 passes, out=)", t_np * 1e3, nbytes / t_np / 1e9, 1.0])
    for nt in sorted({1, max_threads()}):
        t = median_time(lambda: stream_pass([a, b], 1, n_threads=nt))
        rows.append([f"gradkern stream_pass, {nt} thread(s)", t * 1e3, nbytes / t / 1e9, t_np / t])
    assert np.array_equal(a, a0), "the floor pass must leave values unchanged with scale=0"
    print(f"Memory-bandwidth floor: a += 0*(a+b), n={n:.0e} float64 ({nbytes / 1e6:.0f} MB moved)")
    print(format_table(["implementation", "median [ms]", "GB/s", "speedup vs numpy"], rows))


# Each concern's demo lives in ``gradkern/_demo_<concern>.py`` as ``demo(quick=False)``;
# they run in this order after the bandwidth floor (a concern not built yet is skipped).
CONCERNS = ["numdiff", "objectives", "optim", "minimize"]


def sections():
    """The demo functions to run: the bandwidth floor, then each concern's ``demo``."""
    found = [demo_bandwidth]
    for name in CONCERNS:
        try:
            mod = importlib.import_module(f"gradkern._demo_{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"gradkern._demo_{name}":
                raise  # the demo exists but something it needs is missing: a real error
            continue
        found.append(mod.demo)
    return found


def main(quick=False):
    import gradkern
    print(f"gradkern {gradkern.__version__} demo ({'quick' if quick else 'full'})\n")
    for section in sections():
        t0 = time.perf_counter()
        section(quick=quick)
        name = f"{section.__module__.rsplit('.', 1)[-1]}.{section.__name__}"
        print(f"[{name} done in {time.perf_counter() - t0:.1f} s]\n")
    return 0
