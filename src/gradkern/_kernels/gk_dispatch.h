/* Load-time instruction-set dispatch for gradkern's hot C loops (one definition
 * for every kernel module).
 *
 * A function marked GK_CLONES is compiled twice on x86-64 Linux with GCC >= 8,
 * for AVX2 and for baseline x86-64, and the dynamic loader picks the variant
 * the CPU supports (GCC `target_clones`, an ifunc), so one wheel runs on any
 * x86-64 and uses AVX2 where it exists. No variant enables FMA, so IEEE
 * operations give bit-identical results in both (the objectives' one-pass loop
 * adds an AVX-512 + FMA variant of its own, chosen at run time and agreeing to
 * rounding: _objectives_simd.h). Elsewhere (other compilers
 * or platforms, unoptimized GRADKERN_DEBUG builds, or -DGK_NO_CLONES) it
 * expands to nothing and the baseline loop is the only one.
 *
 * Helpers that take or return vector types must be always_inline into their
 * cloned caller (GK_VINLINE): an out-of-line copy is compiled for the
 * baseline ISA and passing 32-byte vectors to it breaks the calling convention.
 */
#ifndef GK_DISPATCH_H
#define GK_DISPATCH_H

#if defined(__GNUC__) && !defined(__clang__) && (__GNUC__ >= 8) && defined(__x86_64__) && \
    defined(__linux__) && defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__) &&           \
    !defined(GK_NO_CLONES)
#define GK_CLONES __attribute__((target_clones("avx2", "default")))
#define GK_CLONES_ON 1
#else
#define GK_CLONES
#define GK_CLONES_ON 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define GK_VINLINE static inline __attribute__((always_inline))
#else
#define GK_VINLINE static inline
#endif

/* 1 when this CPU runs the AVX2 variants (0 when there are none). */
static int gk_dispatch_avx2(void)
{
#if GK_CLONES_ON
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? 1 : 0;
#else
    return 0;
#endif
}

#endif /* GK_DISPATCH_H */
