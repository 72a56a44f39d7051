# Marks src/gradkern as a Cython package at build time (the installed package ships
# gradkern/__init__.pxd from the Python package directory).
