"""``python -m gradkern bench``: run the pytest-benchmark suite in ``bench/`` and
print medians with ratios (each peer vs gradkern, gradkern vs the bandwidth floor)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from gradkern._report import format_table


def find_bench_dir(path=None):
    """The benchmark folder: ``path``, ``$GRADKERN_BENCH_DIR``, ``./bench``, or the
    ``bench/`` folder of the source checkout this package was installed from."""
    here = os.path.dirname(os.path.abspath(__file__))
    if path:  # an explicit folder is used or refused, never silently replaced
        candidates = [path]
    else:
        candidates = [os.environ.get("GRADKERN_BENCH_DIR"), os.path.join(os.getcwd(), "bench"),
                      os.path.join(os.path.dirname(here), "bench")]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, "harness.py")):
            return os.path.abspath(c)
    raise FileNotFoundError(
        "cannot find gradkern's bench/ folder (it lives in the source repository): run from the "
        "repository root, or pass --dir PATH or set GRADKERN_BENCH_DIR")


def run_suite(bench_dir, json_path, quick=False, select=None, extra_args=()):
    """Run pytest-benchmark over ``bench_dir`` saving results to ``json_path``.
    Returns pytest's exit code."""
    # -P: do not put the current folder on sys.path, so the installed gradkern is the one
    # measured even when run from the source tree.
    cmd = [sys.executable, "-P", "-m", "pytest", bench_dir, "-q", "-p", "no:cacheprovider",
           f"--benchmark-json={json_path}", "--benchmark-columns=median,iqr,rounds",
           "--benchmark-sort=name"]
    env = dict(os.environ)
    if quick:
        env["GRADKERN_BENCH_QUICK"] = "1"
        cmd += ["--benchmark-max-time=0.1", "--benchmark-min-rounds=5", "--benchmark-warmup=off"]
    else:
        cmd += ["--benchmark-max-time=0.5", "--benchmark-min-rounds=7"]
    if select:
        cmd += ["-k", select]
    cmd += list(extra_args)
    return subprocess.call(cmd, env=env)


def summarize(data):
    """Rows ``[group, impl, median_us, ratio, note]`` from pytest-benchmark JSON.

    ``ratio`` is peer median / gradkern median for peers (how many times faster gradkern
    is), floor median / gradkern median for the bandwidth floor (the fraction of the
    floor's speed gradkern reaches), and 1 for gradkern itself. Where gradkern's case
    also timed itself alternately with the floor (``extra_info["interleaved"]``, see
    ``bench/harness.py``), a ``floor (interleaved)`` row gives that floor's median and
    the same fraction from those alternating rounds.
    """
    groups, inter = {}, {}
    for b in data.get("benchmarks", []):
        info = b.get("extra_info") or {}
        impl = info.get("impl", b["name"])
        group = b.get("group") or b["name"]
        groups.setdefault(group, {})[impl] = b["stats"]["median"]
        if impl == "gradkern" and info.get("interleaved"):
            inter[group] = info["interleaved"]
    rows = []
    for group in sorted(groups):
        impls = groups[group]
        gk = impls.get("gradkern")
        order = sorted(impls, key=lambda k: (k != "gradkern", k == "floor", k))
        if group in inter:
            impls["floor (interleaved)"] = inter[group]["floor"]
            order.append("floor (interleaved)")
        for impl in order:
            med = impls[impl]
            if gk is None or impl == "gradkern":
                ratio, note = (1.0, "") if impl == "gradkern" else (float("nan"), "")
            elif impl == "floor (interleaved)":
                ratio = med / inter[group]["gradkern"]
                note = f"the same, from {inter[group]['rounds']} alternating rounds of each"
            elif impl == "floor":
                ratio, note = med / gk, "gradkern speed / floor speed"
            else:
                ratio, note = med / gk, f"gradkern is {med / gk:.2f}x faster" if med >= gk \
                    else f"gradkern is {gk / med:.2f}x slower"
            rows.append([group, impl, med * 1e6, ratio, note])
    return rows


def widen(rows):
    """One row per group from :func:`summarize` rows: ``[group, gradkern_us, peers,
    floor]``, where ``peers`` reads ``"numpy 9.09 us (8.41x)"`` (peer time and how many
    times faster gradkern is; below 1: slower) and ``floor`` is gradkern's speed as a
    fraction of the bandwidth floor's (empty when the group has none), followed by
    the fraction from alternating rounds where there is one.

    Examples
    --------
    >>> widen([["g", "gradkern", 1.0, 1.0, ""], ["g", "numpy", 8.0, 8.0, ""],
    ...        ["g", "floor", 0.9, 0.9, ""], ["g", "floor (interleaved)", 0.8, 0.75, ""]])
    [['g', 1.0, 'numpy 8 us (8.00x)', '0.90 (interleaved 0.75)']]
    """
    out, index = [], {}
    for group, impl, med, ratio, _ in rows:
        if group not in index:
            index[group] = len(out)
            out.append([group, float("nan"), [], [None, None]])
        row = out[index[group]]
        if impl == "gradkern":
            row[1] = med
        elif impl == "floor":
            row[3][0] = f"{ratio:.2f}"
        elif impl == "floor (interleaved)":
            row[3][1] = f"interleaved {ratio:.2f}"
        else:
            row[2].append(f"{impl} {med:.3g} us ({ratio:.2f}x)")
    for row in out:
        row[2] = ", ".join(row[2])
        plain, alt = row[3]
        row[3] = f"{plain} ({alt})" if plain and alt else (plain or alt or "")
    return out


def print_report(data, markdown=False, wide=False, grep=None):
    """Print the summary table of a pytest-benchmark JSON ``data`` (groups containing
    ``grep`` only, when given)."""
    rows = summarize(data)
    if grep:
        rows = [r for r in rows if grep in r[0]]
    machine = data.get("machine_info", {})
    print()
    print(f"machine: {machine.get('cpu', {}).get('brand_raw', '?')}, "
          f"{machine.get('cpu', {}).get('count', '?')} cores; python {machine.get('python_version', '?')}")
    if wide:
        print(format_table(["group", "gradkern [us]", "peers: median (gradkern speedup)",
                            "gradkern / floor speed"], widen(rows), markdown=markdown))
    else:
        print(format_table(["group", "impl", "median [us]", "ratio", "note"], rows,
                           markdown=markdown))
    return rows


def plot(rows, path):
    """Bar chart of peer/gradkern ratios (log scale) to a PNG; needs matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install matplotlib") from None
    pairs = [(f"{g} | {i}", r) for g, i, _, r, _ in rows if i != "gradkern" and r == r]
    fig, ax = plt.subplots(figsize=(10, 0.28 * len(pairs) + 1.5))
    labels = [p[0] for p in pairs]
    vals = [p[1] for p in pairs]
    ax.barh(range(len(vals)), vals, color=["tab:gray" if "floor" in l else "tab:blue" for l in labels])
    ax.set_yticks(range(len(vals)), labels, fontsize=7)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("median time of peer / median time of gradkern (>1: gradkern faster)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_minimize_convergence(plot_path, quick=False):
    """Next to the ratio chart ``plot_path``, save the convergence plot (loss vs
    iteration of gradkern's minimize methods beside scipy) as ``<stem>-convergence.png``."""
    from gradkern._demo_minimize import plot_convergence
    stem, ext = os.path.splitext(plot_path)
    path = f"{stem}-convergence{ext or '.png'}"
    plot_convergence(path, quick=quick)
    print(f"saved {path}")
    return path


def main(quick=False, json_path=None, plot_path=None, select=None, bench_dir=None,
         markdown=False, extra_args=(), wide=False, load=None, grep=None):
    if load:  # summarize a saved run instead of running the suite
        with open(load) as f:
            rows = print_report(json.load(f), markdown=markdown, wide=wide, grep=grep)
        if plot_path:
            plot(rows, plot_path)
            print(f"saved {plot_path}")
        return 0
    bench_dir = find_bench_dir(bench_dir)
    tmpdir = tempfile.mkdtemp(prefix="gradkern-bench-")
    try:
        out = os.path.join(tmpdir, "bench.json")
        code = run_suite(bench_dir, out, quick=quick, select=select, extra_args=extra_args)
        if not os.path.exists(out):
            print(f"benchmark run failed (pytest exit code {code}); no results", file=sys.stderr)
            return code or 1
        with open(out) as f:
            data = json.load(f)
        rows = print_report(data, markdown=markdown, wide=wide, grep=grep)
        if json_path:
            shutil.copyfile(out, json_path)
            print(f"\nsaved {json_path}")
        if plot_path:
            plot(rows, plot_path)
            print(f"saved {plot_path}")
            plot_minimize_convergence(plot_path, quick)
        return code
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
