/*
 * compiler.h - compiler helpers shared by the library's modules (mmu/, cpu/).
 * Private: never installed.
 */
#ifndef SOFTMMU_COMPILER_H
#define SOFTMMU_COMPILER_H

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))
#define MUST_CHECK __attribute__((warn_unused_result))

#endif
