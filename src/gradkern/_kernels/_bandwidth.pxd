from gradkern._kernels._typedefs cimport intp_t

# The memory-bandwidth floor: one in-place pass with a chosen byte traffic.
# ptrs[0:n_arrays] are arrays of n elements; the first n_write are read and
# written back, the rest only read. Each written element becomes
# x + scale * (sum of all arrays at that index); scale = 0 leaves values intact
# while the compiler cannot skip the traffic. A read-only pass (n_write = 0)
# returns the XOR of the bits it read (use it, e.g. return it to Python, so the
# compiler keeps the reads); a pass that writes returns 0.
from libc.stdint cimport uint64_t

cdef uint64_t stream_pass_f64(double **ptrs, int n_arrays, int n_write, intp_t n,
                              double scale, int n_threads) noexcept nogil
cdef uint64_t stream_pass_f32(float **ptrs, int n_arrays, int n_write, intp_t n,
                              float scale, int n_threads) noexcept nogil
