# gradkern ships its kernel declarations for other Cython code:
#     from gradkern._kernels._openmp cimport gk_threads_for
#     from gradkern._kernels._bandwidth cimport stream_pass_f64
# Compile with include_path=[gradkern.get_include()].
