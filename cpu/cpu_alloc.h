/*
 * cpu_alloc.h - the library allocator (mmu/alloc.c) for cpu/.
 *
 * Linked statically (the library the tests use) the CPU allocates through
 * mmu_malloc & co., so failure injection reaches it too. When softmmu::cpu
 * and softmmu::mmu are separate shared libraries those symbols are hidden;
 * the weak references are then NULL and plain malloc is used.
 */
#ifndef SOFTMMU_CPU_ALLOC_H
#define SOFTMMU_CPU_ALLOC_H

#include "mmu_int.h" /* for the allocator declarations only */

#pragma weak mmu_malloc
#pragma weak mmu_calloc
#pragma weak mmu_realloc
#pragma weak mmu_free

static inline void *cpu_malloc(size_t n)
{
    return mmu_malloc ? mmu_malloc(n) : malloc(n);
}

static inline void *cpu_calloc(size_t n, size_t size)
{
    return mmu_calloc ? mmu_calloc(n, size) : calloc(n, size);
}

static inline void *cpu_realloc(void *p, size_t n)
{
    return mmu_realloc ? mmu_realloc(p, n) : realloc(p, n);
}

static inline void cpu_free(void *p)
{
    if (mmu_free)
        mmu_free(p);
    else
        free(p);
}

#endif
