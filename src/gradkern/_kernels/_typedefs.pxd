# Shared C types for all gradkern kernels (one place, as scikit-learn's _typedefs.pxd).
#
#     from gradkern._kernels._typedefs cimport float64_t, intp_t, floating_in
cimport numpy as cnp

ctypedef double float64_t
ctypedef float float32_t
ctypedef cnp.npy_intp intp_t
ctypedef cnp.npy_int32 int32_t
ctypedef cnp.npy_int64 int64_t

# Input data (float32 or float64) and, separately, the output/accumulator
# precision, so that float32 data can accumulate in float64.
ctypedef fused floating_in:
    float32_t
    float64_t

ctypedef fused floating_out:
    float32_t
    float64_t
