"""Shared by the ISA tests (test_optim_isa.py, test_objectives_isa.py): build a second
copy of one kernel module with GK_NO_CLONES (the baseline x86-64 loops only), under
another module name, and run a check script beside the installed module.

Slow (a 20 s to 2 min build), so opt-in: GRADKERN_SLOW_TESTS=1. Needs the source
checkout (the .pyx and .h files are not shipped in wheels).
"""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

KERNELS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "src", "gradkern", "_kernels")

SETUP = '''
import gradkern, numpy
from setuptools import setup, Extension
from Cython.Build import cythonize
setup(name={module!r}, ext_modules=cythonize(
    [Extension({module!r}, [{module!r} + ".pyx"],
               include_dirs=[numpy.get_include(), {kernels!r}],
               define_macros=[("GK_NO_CLONES", "1")],
               extra_compile_args=["-O3", "-fno-math-errno"])],
    include_path=[gradkern.get_include()], quiet=True,
    compiler_directives={{"boundscheck": False, "wraparound": False, "cdivision": True}}))
'''


def slow_build_marks(header):
    """pytest marks: skip unless GRADKERN_SLOW_TESTS=1 and the source checkout (with
    the kernel header ``header``) is here."""
    return [
        pytest.mark.skipif(os.environ.get("GRADKERN_SLOW_TESTS") != "1",
                           reason="slow build; set GRADKERN_SLOW_TESTS=1"),
        pytest.mark.skipif(not os.path.isfile(os.path.join(KERNELS, header)),
                           reason="needs the source checkout"),
    ]


def build_baseline_and_check(tmp_path, kernel, module, check):
    """Build ``_kernels/<kernel>.pyx`` as module ``module`` (baseline loops only) in
    ``tmp_path``, then run the Python source ``check`` there; assert it printed "ok"."""
    shutil.copy(os.path.join(KERNELS, kernel + ".pyx"), tmp_path / (module + ".pyx"))
    shutil.copy(os.path.join(KERNELS, kernel + ".pxd"), tmp_path / (module + ".pxd"))
    (tmp_path / "setup.py").write_text(SETUP.format(module=module, kernels=KERNELS))
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=1200)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(check)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.strip() == "ok"
