"""The command line: python -m gradkern {info,demo,bench}."""
import json
import os
import subprocess
import sys

import pytest

import gradkern

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, timeout=600):
    # -P: the installed package, not the source folder, even when cwd is the checkout.
    return subprocess.run([sys.executable, "-P", "-m", "gradkern", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_info():
    r = run("info")
    assert r.returncode == 0, r.stderr
    assert f"gradkern {gradkern.__version__}" in r.stdout
    assert ("OpenMP       : enabled" in r.stdout) is gradkern.openmp_enabled()
    assert "_bandwidth" in r.stdout


def test_demo_quick_runs_real_problems():
    r = run("demo", "--quick")
    assert r.returncode == 0, r.stderr
    assert "Memory-bandwidth floor" in r.stdout
    assert "GB/s" in r.stdout


@pytest.mark.skipif(not os.path.isdir(os.path.join(REPO, "bench")), reason="needs the source checkout")
def test_bench_quick_json_and_table(tmp_path):
    pytest.importorskip("pytest_benchmark")
    out = tmp_path / "b.json"
    r = run("bench", "--quick", "-k", "bandwidth and 1000-", "--json", str(out))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    data = json.loads(out.read_text())
    impls = {b["extra_info"]["impl"] for b in data["benchmarks"]}
    assert impls == {"gradkern", "numpy", "floor"}
    assert "median [us]" in r.stdout and "bandwidth r2w1 n=1e+03 float64" in r.stdout


def test_bench_summary_ratios():
    from gradkern._bench import summarize
    data = {"benchmarks": [
        {"name": "a", "group": "g", "extra_info": {"impl": "gradkern"}, "stats": {"median": 1e-6}},
        {"name": "b", "group": "g", "extra_info": {"impl": "numpy"}, "stats": {"median": 4e-6}},
        {"name": "c", "group": "g", "extra_info": {"impl": "floor"}, "stats": {"median": 0.5e-6}},
    ]}
    rows = summarize(data)
    assert [r[1] for r in rows] == ["gradkern", "numpy", "floor"]
    assert rows[1][3] == pytest.approx(4.0) and "4.00x faster" in rows[1][4]
    assert rows[2][3] == pytest.approx(0.5)


def test_bench_summary_interleaved_floor():
    # gradkern's case timed alternately with the floor: its own row, whose ratio comes
    # from those rounds (0.6 / 0.8), not from the group's separate floor case (0.5 / 1)
    from gradkern._bench import summarize, widen
    inter = {"gradkern": 0.8e-6, "floor": 0.6e-6, "rounds": 21}
    data = {"benchmarks": [
        {"name": "a", "group": "g", "extra_info": {"impl": "gradkern", "interleaved": inter},
         "stats": {"median": 1e-6}},
        {"name": "c", "group": "g", "extra_info": {"impl": "floor"}, "stats": {"median": 0.5e-6}},
        {"name": "d", "group": "h", "extra_info": {"impl": "gradkern", "interleaved": inter},
         "stats": {"median": 1e-6}},
    ]}
    rows = summarize(data)
    assert [r[:2] for r in rows] == [["g", "gradkern"], ["g", "floor"], ["g", "floor (interleaved)"],
                                     ["h", "gradkern"], ["h", "floor (interleaved)"]]
    assert rows[1][3] == pytest.approx(0.5)
    assert rows[2][2] == pytest.approx(0.6) and rows[2][3] == pytest.approx(0.75)
    assert "21 alternating rounds" in rows[2][4]
    assert [r[3] for r in widen(rows)] == ["0.50 (interleaved 0.75)", "interleaved 0.75"]


def test_bench_load_wide_markdown(tmp_path):
    # Re-summarize a saved run: one row per group, filtered, as Markdown.
    data = {"machine_info": {"cpu": {"brand_raw": "cpu", "count": 2}, "python_version": "3"},
            "benchmarks": [
                {"name": n, "group": g, "extra_info": {"impl": i}, "stats": {"median": m}}
                for n, g, i, m in [("a", "optim x", "gradkern", 2e-6), ("b", "optim x", "numpy", 6e-6),
                                   ("c", "optim x", "floor", 1e-6), ("d", "other", "gradkern", 1e-6)]]}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data))
    r = run("bench", "--load", str(path), "--wide", "--markdown", "--grep", "optim")
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("| optim") or ln.startswith("| other")]
    assert lines == ["| optim x | 2.000 | numpy 6 us (3.00x) | 0.50 |"]


def test_bench_missing_dir_is_a_clear_error(tmp_path):
    r = subprocess.run([sys.executable, "-P", "-m", "gradkern", "bench", "--dir", str(tmp_path / "nope")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "GRADKERN_BENCH_DIR": ""})
    assert r.returncode == 2 and "bench/ folder" in r.stderr


def test_bench_plot_writes_the_convergence_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from gradkern._bench import plot_minimize_convergence
    path = plot_minimize_convergence(str(tmp_path / "bench.png"), quick=True)
    assert path.endswith("bench-convergence.png")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
