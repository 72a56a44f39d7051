"""``gradkern.show_config()``: how the kernels were built and what they can use."""
import pkgutil
import platform
import sys

import numpy as np

import gradkern._kernels as _kernels_pkg
from gradkern._kernels import _objectives, _platform
from gradkern._version import __version__


def build_info():
    """Facts recorded by setup.py when the kernels were compiled (a dict)."""
    try:
        from gradkern._kernels._build_info import BUILD_INFO
    except ImportError:  # pragma: no cover - only for a broken build
        BUILD_INFO = {}
    return dict(BUILD_INFO)


def kernel_modules():
    """Names of the compiled kernel modules in ``gradkern._kernels``."""
    return sorted(m.name for m in pkgutil.iter_modules(_kernels_pkg.__path__)
                  if not m.ispkg and m.name != "_build_info"
                  and not m.name.endswith("__init__"))


def config():
    """Everything ``show_config`` prints, as a dict."""
    info = build_info()
    return {
        "gradkern": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": f"{platform.machine()} {platform.system()}",
        "compiler": info.get("compiler", "?"),
        "compiler_version": info.get("compiler_version", "?"),
        "compile_args": " ".join(info.get("compile_args", [])),
        "link_args": " ".join(info.get("link_args", [])),
        "cython": info.get("cython_version", "?"),
        "openmp": _platform.openmp_enabled(),
        "max_threads": _platform.max_threads(),
        "num_procs": _platform.num_procs(),
        "simd": _platform.simd_level(),
        "dispatch": _platform.runtime_dispatch(),
        "objectives_fma": _objectives.fma_in_use(),
        "debug_build": info.get("debug", False),
        "kernels": kernel_modules(),
    }


def show_config():
    """Print gradkern's version, compiler and flags, OpenMP, SIMD level and kernels.

    Examples
    --------
    >>> import gradkern
    >>> gradkern.show_config()  # doctest: +ELLIPSIS
    gradkern ...
    """
    c = config()
    print(f"gradkern {c['gradkern']} (python {c['python']}, numpy {c['numpy']}, {c['machine']})")
    print(f"  compiler     : {c['compiler']} -- {c['compiler_version']}")
    print(f"  compile args : {c['compile_args']}")
    print(f"  link args    : {c['link_args']}")
    print(f"  cython       : {c['cython']}")
    omp = "enabled" if c["openmp"] else "disabled"
    print(f"  OpenMP       : {omp} (max threads {c['max_threads']}, procs {c['num_procs']})")
    print(f"  SIMD level   : {c['simd']} (baseline of every kernel)")
    dispatch = {"avx2": "AVX2 variants in use", "baseline": "baseline variants (no AVX2 here)",
                "off": "off (baseline loops only)"}[c["dispatch"]]
    print(f"  dispatch     : {dispatch} -- optimizer, objective and bandwidth-floor loops chosen at load time")
    fma = ("in use (GRADKERN_NO_FMA=1 at import turns it off)" if c["objectives_fma"]
           else "not in use" if _objectives.fma_built() else "not built")
    print(f"  objectives   : AVX-512 + FMA variant of the dense loops {fma}")
    print(f"  debug build  : {c['debug_build']}")
    print(f"  kernels      : {', '.join(c['kernels'])}")
