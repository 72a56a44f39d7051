"""Build script for gradkern's Cython kernels.

Every ``src/gradkern/_kernels/<name>.pyx`` becomes the extension module
``gradkern._kernels.<name>``; the directory tree under ``src/`` mirrors the
dotted module names so that ``cimport gradkern._kernels.<name>`` resolves the
same way at build time (include path ``src/``) and in the installed package
(the ``.pxd`` files are shipped next to the compiled modules).

Environment variables
---------------------
GRADKERN_NO_OPENMP=1  build without OpenMP even when the compiler supports it.
GRADKERN_NATIVE=1     add ``-march=native`` (the result only runs on this CPU).
GRADKERN_DEBUG=1      ``-O0 -g`` and Cython bounds/wraparound checks, for sanitizers.
"""
import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_DIR = os.path.join("src", "gradkern", "_kernels")


def env_flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


NO_OPENMP = env_flag("GRADKERN_NO_OPENMP")
NATIVE = env_flag("GRADKERN_NATIVE")
DEBUG = env_flag("GRADKERN_DEBUG")

OPENMP_PROBE = textwrap.dedent(
    """
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d\\n", n);
        return n > 0 ? 0 : 1;
    }
    """
)


def openmp_flags(compiler):
    """Return (compile_args, link_args) enabling OpenMP, or None when unusable.

    The probe compiles, links and runs a tiny OpenMP program with the very
    compiler setuptools will use, as scikit-learn's build does.
    """
    if NO_OPENMP:
        return None
    if sys.platform == "win32":
        candidates = [(["/openmp"], [])]
    elif sys.platform == "darwin":
        candidates = [(["-Xpreprocessor", "-fopenmp"], ["-lomp"]), (["-fopenmp"], ["-fopenmp"])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"])]
    for cflags, ldflags in candidates:
        tmp = tempfile.mkdtemp(prefix="gradkern-omp-")
        try:
            src = os.path.join(tmp, "probe.c")
            with open(src, "w") as f:
                f.write(OPENMP_PROBE)
            objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
            exe = os.path.join(tmp, "probe")
            compiler.link_executable(objs, exe, extra_postargs=ldflags)
            subprocess.run([exe], check=True, capture_output=True, timeout=60)
            return cflags, ldflags
        except Exception:  # any failure means: build without OpenMP
            continue
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return None


def base_compile_args():
    if sys.platform == "win32":
        return ["/Od", "/Zi"] if DEBUG else ["/O2"]
    args = ["-O0", "-g"] if DEBUG else ["-O3", "-fno-math-errno"]
    if NATIVE:
        args.append("-march=native")
    return args


class BuildExt(build_ext):
    """Probe OpenMP with the real compiler, add flags, record the build facts."""

    def build_extensions(self):
        omp = openmp_flags(self.compiler)
        cflags = base_compile_args() + (omp[0] if omp else [])
        ldflags = list(omp[1]) if omp else []
        self.force_if_flags_changed(cflags + ["|"] + ldflags)
        for ext in self.extensions:
            ext.extra_compile_args = cflags + list(ext.extra_compile_args or [])
            ext.extra_link_args = ldflags + list(ext.extra_link_args or [])
        self.write_build_info(cflags, ldflags, omp is not None)
        super().build_extensions()

    def force_if_flags_changed(self, flags):
        """setuptools skips extensions whose .so is newer than their sources, even when
        the flags changed (say GRADKERN_NO_OPENMP=1 after an OpenMP build): compare a
        stamp of the flags and rebuild everything when it differs."""
        stamp = os.path.join(self.build_temp, "gradkern-flags.txt")
        text = " ".join(flags)
        old = open(stamp).read() if os.path.exists(stamp) else None
        if old != text:
            self.force = True
            os.makedirs(self.build_temp, exist_ok=True)
            with open(stamp, "w") as f:
                f.write(text)

    def write_build_info(self, cflags, ldflags, openmp):
        cc = getattr(self.compiler, "compiler_so", None) or [self.compiler.compiler_type]
        version = ""
        try:
            out = subprocess.run([cc[0], "--version"], capture_output=True, text=True, timeout=30)
            version = out.stdout.splitlines()[0] if out.stdout else ""
        except Exception:
            pass
        info = {
            "compiler": cc[0],
            "compiler_version": version,
            "compile_args": cflags,
            "link_args": ldflags,
            "openmp": openmp,
            "native": NATIVE,
            "debug": DEBUG,
            "cython_version": __import__("Cython").__version__,
            "numpy_build_version": np.__version__,
            "python": sysconfig.get_python_version(),
        }
        text = (
            "# Generated by setup.py at build time: do not edit, do not commit.\n"
            f"BUILD_INFO = {info!r}\n"
        )
        targets = [os.path.join(HERE, KERNEL_DIR, "_build_info.py")]
        if not self.inplace:
            targets.append(os.path.join(self.build_lib, "gradkern", "_kernels", "_build_info.py"))
        for target in targets:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as f:
                f.write(text)


def extensions():
    macros = [("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")]
    exts = []
    # C helper headers: a change to any of them rebuilds the kernels (setuptools only
    # compares the .c file otherwise, which Cython does not rewrite for a header edit).
    headers = sorted(glob.glob(os.path.join(KERNEL_DIR, "*.h")))
    for pyx in sorted(glob.glob(os.path.join(KERNEL_DIR, "*.pyx"))):
        name = os.path.splitext(os.path.basename(pyx))[0]
        exts.append(
            Extension(
                f"gradkern._kernels.{name}",
                [pyx],
                include_dirs=[np.get_include(), KERNEL_DIR],
                define_macros=macros,
                depends=headers,
            )
        )
    # Safety checks are off in release builds and on in GRADKERN_DEBUG builds; they
    # are set here rather than in module headers, where they could not be flipped
    # (a header directive overrides these).
    directives = {
        "language_level": "3",
        "embedsignature": True,
        "boundscheck": DEBUG,
        "wraparound": DEBUG,
        "initializedcheck": DEBUG,
        "cdivision": True,
    }
    return cythonize(
        exts,
        include_path=["src"],
        compiler_directives=directives,
        build_dir=os.path.join("build", "cython"),
        nthreads=int(os.environ.get("GRADKERN_CYTHONIZE_JOBS", "0")) or None,
    )


setup(
    packages=["gradkern", "gradkern._kernels"],
    package_dir={"gradkern": "gradkern", "gradkern._kernels": KERNEL_DIR},
    # Only what package_data names goes into the wheel: the .pxd interface, not the
    # .pyx/.h sources (those are in the sdist through MANIFEST.in).
    include_package_data=False,
    package_data={
        "gradkern": ["*.pxd"],
        "gradkern._kernels": ["*.pxd"],
    },
    ext_modules=extensions(),
    cmdclass={"build_ext": BuildExt},
    zip_safe=False,
)
