/*
 * alloc.h - the library's allocator. Every allocation of mmu/ and cpu/ goes
 * through these, so tests can make the Nth one fail (SQLite-style) and walk
 * every failure point of an operation.
 */
#ifndef SOFTMMU_ALLOC_H
#define SOFTMMU_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"

void *sm_malloc(size_t n);
void *sm_calloc(size_t n, size_t size);
void *sm_realloc(void *p, size_t n);
void  sm_free(void *p);
/* Room for element n of a growing array of *cap elements: when full, doubles
 * it (first: the first capacity). Returns the array, maybe moved, or NULL
 * on failure with arr and *cap unchanged. */
void *sm_grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first) MUST_CHECK;

/* true when the injector fails this allocation: for allocators that do not
 * go through malloc (guest RAM) */
bool sm_alloc_injected_failure(void);

/* Tests only: makes the allocation n calls from now fail (0 = the next one),
 * and only that one; n < 0 disables the injector. Covers guest RAM too. */
void sm_alloc_fail_after(long n);

#endif
