/*
 * ram.c - guest RAM: anonymous, lazily committed host pages.
 *
 * Small mappings come from slabs: big anonymous reservations carved into
 * page runs, with a bitmap of used pages. A map then costs no mmap and an
 * unmap one madvise, and the kernel sees one VMA per slab whatever the
 * guest does: per-mapping mmaps made map+unmap cost ~3 us of syscalls, and
 * unmapping every other page of a large region split VMAs until munmap
 * failed at vm.max_map_count (65530) and silently leaked the memory.
 * Large mappings get their own mmap. Freed pages go back with
 * MADV_DONTNEED, so they read as zeros when reused. The slabs are shared by
 * every MMU of the process, behind a mutex.
 */
#include "mmu_int.h"

#include <pthread.h>
#include <sys/mman.h>

#define SLAB_PAGES 16384u /* 64 MiB of address space, committed lazily */
#define SLAB_WORDS (SLAB_PAGES / 64)
#define SMALL_MAX_PAGES 256u /* larger mappings get their own mmap */

typedef struct slab {
    uint8_t *base;
    uint32_t n_free;
    uint32_t hint; /* next-fit start */
    uint64_t used[SLAB_WORDS];
} slab;

static struct {
    pthread_mutex_t lock;
    slab          **v; /* sorted by base */
    size_t          n, cap;
} hp = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *os_map(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* returns pages to the OS; past vm.max_map_count munmap can fail (it would
 * split a VMA): then at least drop the memory */
static void os_unmap(void *p, size_t size)
{
    if (munmap(p, size) != 0)
        madvise(p, size, MADV_DONTNEED);
}

/* first index >= i whose bit equals want, or SLAB_PAGES */
static uint32_t next_bit(const slab *s, uint32_t i, bool want)
{
    while (i < SLAB_PAGES) {
        uint64_t w = want ? s->used[i / 64] : ~s->used[i / 64];
        w &= ~(uint64_t)0 << (i % 64);
        if (w)
            return (i & ~63u) + (uint32_t)__builtin_ctzll(w);
        i = (i & ~63u) + 64;
    }
    return SLAB_PAGES;
}

static bool find_run(const slab *s, uint32_t from, uint32_t to, uint32_t n, uint32_t *out)
{
    for (uint32_t i = next_bit(s, from, false); i + n <= to; i = next_bit(s, i, false)) {
        uint32_t j = next_bit(s, i, true);
        if (j - i >= n) {
            *out = i;
            return true;
        }
        i = j;
        if (i >= to)
            break;
    }
    return false;
}

static void set_bits(slab *s, uint32_t i, uint32_t n, bool on)
{
    for (uint32_t k = i; k < i + n; k++) {
        uint64_t b = (uint64_t)1 << (k % 64);
        s->used[k / 64] = on ? s->used[k / 64] | b : s->used[k / 64] & ~b;
    }
    s->n_free = on ? s->n_free - n : s->n_free + n;
}

static void *slab_take(slab *s, uint32_t n)
{
    uint32_t i;
    if (s->n_free < n)
        return NULL;
    if (!find_run(s, s->hint, SLAB_PAGES, n, &i) && !find_run(s, 0, SLAB_PAGES, n, &i))
        return NULL;
    set_bits(s, i, n, true);
    s->hint = i + n;
    return s->base + (size_t)i * MMU_PAGE_SIZE;
}

static slab *slab_new(void)
{
    if (hp.n == hp.cap) {
        size_t cap = hp.cap ? hp.cap * 2 : 8;
        slab **v = realloc(hp.v, cap * sizeof *v);
        if (!v)
            return NULL;
        hp.v = v, hp.cap = cap;
    }
    slab *s = calloc(1, sizeof *s);
    if (!s || !(s->base = os_map((size_t)SLAB_PAGES * MMU_PAGE_SIZE))) {
        free(s);
        return NULL;
    }
    madvise(s->base, (size_t)SLAB_PAGES * MMU_PAGE_SIZE, MADV_NOHUGEPAGE); /* one touched page must not commit 2 MiB */
    s->n_free = SLAB_PAGES;
    size_t at = hp.n;
    while (at > 0 && hp.v[at - 1]->base > s->base)
        at--;
    memmove(hp.v + at + 1, hp.v + at, (hp.n - at) * sizeof *hp.v);
    hp.v[at] = s;
    hp.n++;
    return s;
}

/* the slab holding p, or NULL (p came from os_map) */
static size_t slab_index(const uint8_t *p)
{
    size_t lo = 0, hi = hp.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((uintptr_t)hp.v[mid]->base + (size_t)SLAB_PAGES * MMU_PAGE_SIZE <= (uintptr_t)p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < hp.n && (uintptr_t)hp.v[lo]->base <= (uintptr_t)p ? lo : SIZE_MAX;
}

static void *small_alloc(uint32_t n)
{
    /* newest slabs first: they are the likeliest to have room */
    for (size_t k = 0, tried = 0; k < hp.n && tried < 8; k++) {
        slab *s = hp.v[hp.n - 1 - k];
        if (s->n_free < n)
            continue;
        tried++;
        void *p = slab_take(s, n);
        if (p)
            return p;
    }
    slab *s = slab_new();
    return s ? slab_take(s, n) : NULL;
}

/* an empty slab is returned to the OS unless it is the only one left */
static void small_free(size_t idx, uint8_t *p, uint32_t n)
{
    slab *s = hp.v[idx];
    uint32_t i = (uint32_t)((p - s->base) / MMU_PAGE_SIZE);
    madvise(p, (size_t)n * MMU_PAGE_SIZE, MADV_DONTNEED);
    set_bits(s, i, n, false);
    if (s->n_free < SLAB_PAGES || hp.n == 1)
        return;
    os_unmap(s->base, (size_t)SLAB_PAGES * MMU_PAGE_SIZE);
    free(s);
    memmove(hp.v + idx, hp.v + idx + 1, (hp.n - idx - 1) * sizeof *hp.v);
    hp.n--;
}

void *ram_alloc(uint64_t size)
{
    if (sm_alloc_injected_failure() || size == 0 || size > SIZE_MAX - MMU_PAGE_SIZE)
        return NULL;
    uint64_t n = (size + MMU_PAGE_SIZE - 1) / MMU_PAGE_SIZE;
    if (n > SMALL_MAX_PAGES)
        return os_map((size_t)size);
    pthread_mutex_lock(&hp.lock);
    void *p = small_alloc((uint32_t)n);
    pthread_mutex_unlock(&hp.lock);
    return p;
}

/* p may be any page-aligned part of an earlier allocation */
void ram_free(void *p, uint64_t size)
{
    if (!p || !size)
        return;
    pthread_mutex_lock(&hp.lock);
    size_t idx = slab_index(p);
    if (idx != SIZE_MAX)
        small_free(idx, p, (uint32_t)((size + MMU_PAGE_SIZE - 1) / MMU_PAGE_SIZE));
    pthread_mutex_unlock(&hp.lock);
    if (idx == SIZE_MAX)
        os_unmap(p, (size_t)size);
}
