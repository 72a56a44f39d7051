"""Compile a tiny Cython extension in a temporary folder against the *installed*
gradkern's .pxd files, then run Python code that imports it (used by the cimport
tests of each kernel module)."""
import subprocess
import sys
import textwrap

SETUP = '''
import gradkern, numpy
from setuptools import setup, Extension
from Cython.Build import cythonize
setup(name="{name}", ext_modules=cythonize(
    [Extension("{name}", ["{name}.pyx"], include_dirs=[numpy.get_include()])],
    include_path=[gradkern.get_include()], quiet=True))
'''


def build_and_run(tmp_path, name, pyx_source, check_source):
    """Build module ``name`` from ``pyx_source`` in ``tmp_path`` and run ``check_source``
    there (cwd is the temporary folder, so the installed gradkern is the one used).
    Returns the check's stdout; a failed build or check fails the calling test."""
    (tmp_path / f"{name}.pyx").write_text(textwrap.dedent(pyx_source))
    (tmp_path / "setup.py").write_text(SETUP.format(name=name))
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(check_source)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout
