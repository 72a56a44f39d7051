"""Conventions shared by every benchmark in bench/ (imported as ``harness``).

Every case belongs to a *group* (one kernel at one size/dtype) and names its
*impl*: ``"gradkern"`` for ours, and the peers ``"numpy"``, ``"scipy"``,
``"torch"``, ``"numdifftools"``, ... measured in the same run. A group may also
hold a ``"floor"`` case: the memory-bandwidth floor for the same byte traffic.
``python -m gradkern bench`` turns the saved JSON into a table of medians,
peer/gradkern ratios and the fraction of the floor gradkern reaches.
"""
import os
import time

import numpy as np

from gradkern._kernels._bandwidth import stream_pass as _stream_kernel

QUICK = os.environ.get("GRADKERN_BENCH_QUICK", "") == "1"


def sizes(full, quick=None):
    """The sizes to run: ``full`` normally, ``quick`` (default: the smallest of
    ``full``) under ``python -m gradkern bench --quick``."""
    if QUICK:
        return list(quick) if quick is not None else [min(full)]
    return list(full)


def bench_case(benchmark, group, impl, fn, *args, **kwargs):
    """Time ``fn(*args, **kwargs)`` as implementation ``impl`` inside ``group``."""
    benchmark.group = group
    benchmark.extra_info["impl"] = impl
    return benchmark(fn, *args, **kwargs)


def bench_floor(benchmark, group, n, dtype, n_read, n_write, n_threads=1):
    """Time the bandwidth floor for ``group``: one in-place pass over ``n_read``
    arrays of ``n`` elements of ``dtype``, ``n_write`` of them written back."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(n).astype(dtype) for _ in range(n_read)]
    benchmark.extra_info["bytes"] = int(n) * np.dtype(dtype).itemsize * (n_read + n_write)
    # The raw kernel (no argument checks), so small sizes time the pass, not Python.
    return bench_case(benchmark, group, "floor", _stream_kernel, arrays, n_write, 0.0,
                      int(n_threads))


def interleave_floor(benchmark, fn, floor_fn, rounds=21):
    """Time ``fn()`` and the floor pass ``floor_fn()`` alternately, ``rounds`` times
    each, after the benchmark of ``fn``, and keep both medians in the case's
    ``extra_info["interleaved"]`` (seconds).

    The group's ``floor`` case runs at another time than gradkern's (up to a
    minute apart), and this VM's memory bandwidth moves between two levels for
    minutes at a time (the floor's read of 256 MB took 4.2 ms in one group of a
    run and 7.6 ms in another, on an AMD EPYC):
    alternating the two, each round of one beside a round of the other, gives a
    ratio that the machine's state moves much less. ``gradkern bench`` shows it
    beside the group's floor ratio as ``floor (interleaved)``.
    """
    ts = [[], []]
    for _ in range(int(rounds)):
        for k, f in enumerate((fn, floor_fn)):
            t = time.perf_counter()
            f()
            ts[k].append(time.perf_counter() - t)
    benchmark.extra_info["interleaved"] = {
        "gradkern": float(np.median(ts[0])), "floor": float(np.median(ts[1])),
        "rounds": int(rounds)}
