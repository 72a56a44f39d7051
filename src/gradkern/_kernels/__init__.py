"""Compiled kernels of gradkern (built from ``src/gradkern/_kernels``).

Kernels trust their inputs: call them through the public API in ``gradkern``,
which validates arguments first.
"""
