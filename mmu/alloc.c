/*
 * alloc.c - the library's allocator, with a failure injector for tests
 * (SQLite-style: fail the Nth allocation from now on).
 */
#include "mmu_int.h"
#include "alloc_test.h"

static long fail_countdown = -1; /* < 0: never fail */

void mmu_alloc_fail_after(long n)
{
    fail_countdown = n;
}

static bool should_fail(void)
{
    if (fail_countdown < 0)
        return false;
    return fail_countdown-- == 0;
}

void *mmu_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n);
}

void *mmu_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n, size);
}

void *mmu_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}

void mmu_free(void *p)
{
    free(p);
}

#include <sys/mman.h>

void *host_pages_alloc(uint64_t size)
{
    if (should_fail() || size > SIZE_MAX)
        return NULL;
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void host_pages_free(void *p, uint64_t size)
{
    if (p && size)
        munmap(p, (size_t)size);
}
