# gradkern._kernels: C-level declarations that other Cython code may cimport.
