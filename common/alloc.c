/*
 * alloc.c - the library's allocator, with a failure injector for tests
 * (SQLite-style: fail the Nth allocation from now on).
 *
 * Compiled into each library (softmmu::mmu and softmmu::cpu have a hidden
 * copy each; the static test library has one, so injection reaches both).
 */
#include "alloc.h"

#include <stdlib.h>

static long fail_countdown = -1; /* < 0: never fail */

void sm_alloc_fail_after(long n)
{
    fail_countdown = n;
}

bool sm_alloc_injected_failure(void)
{
    if (fail_countdown < 0)
        return false;
    return fail_countdown-- == 0;
}

void *sm_malloc(size_t n)
{
    return sm_alloc_injected_failure() ? NULL : malloc(n);
}

void *sm_calloc(size_t n, size_t size)
{
    return sm_alloc_injected_failure() ? NULL : calloc(n, size);
}

void *sm_realloc(void *p, size_t n)
{
    return sm_alloc_injected_failure() ? NULL : realloc(p, n);
}

void sm_free(void *p)
{
    free(p);
}

void *sm_grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first)
{
    if (n < *cap)
        return arr;
    size_t c = *cap ? *cap * 2 : first;
    void *p = sm_realloc(arr, c * elem);
    if (p)
        *cap = c;
    return p;
}
