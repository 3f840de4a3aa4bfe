/*
 * search.c - mmu_search / mmu_search_pattern with Qiling's semantics: each
 * region is its own haystack (or, with MMU_SEARCH_CROSS, each run of
 * touching non-MMIO regions), matches are non-overlapping and ascending.
 *
 * Host memory is scanned in place: a haystack is cut into runs of pages
 * that follow each other in host memory (a whole region, unless a snapshot
 * moved a page), memmem runs over each run, and only the len-1 bytes on
 * either side of a run boundary are copied, into a small stitch buffer.
 */
#define _GNU_SOURCE /* memmem */
#include "search_int.h"

typedef unsigned __int128 u128; /* guest positions up to 2^64 inclusive */

/* what is looked for: a literal needle or a compiled pattern */
typedef struct matcher {
    size_t             len;
    const uint8_t     *needle; /* literal, or NULL */
    const mmu_pattern *pat;    /* pattern, or NULL */
} matcher;

typedef struct hunt {
    mmu_t         *m;
    const matcher *mt;
    uint64_t      *out;
    size_t         max_out, count;
    uint8_t       *stitch; /* 2 * (len - 1) bytes */
    u128           pos;    /* no match may start below: non-overlap, or already examined */
} hunt;

#define STITCH_STACK 512 /* needles up to 257 bytes need no allocation */

static size_t find(const matcher *mt, const uint8_t *hay, size_t n, size_t from)
{
    if (mt->pat)
        return pattern_find(mt->pat, hay, n, from);
    if (from > n || n - from < mt->len)
        return SRCH_NONE;
    const uint8_t *p = memmem(hay + from, n - from, mt->needle, mt->len);
    return p ? (size_t)(p - hay) : SRCH_NONE;
}

static void record(hunt *h, uint64_t addr)
{
    if (h->count < h->max_out)
        h->out[h->count] = addr;
    h->count++;
    h->pos = (u128)addr + h->mt->len;
}

/* host address of a byte of a mapped RAM page */
static uint8_t *host_of(mmu_t *m, uint64_t addr)
{
    return PTE_HOST(map_pte(m, addr >> MMU_PAGE_BITS)) + (addr & PAGE_MASK);
}

/* last byte (<= z) of the run of host-contiguous pages starting at a */
static uint64_t run_last(mmu_t *m, uint64_t a, uint64_t z, const uint8_t *host)
{
    uint64_t last = a | PAGE_MASK;
    while (last < z && host_of(m, last + 1) == host + (last + 1 - a))
        last += MMU_PAGE_SIZE;
    return last < z ? last : z;
}

/* matches lying wholly in the run [a, last] at host */
static void scan_run(hunt *h, const uint8_t *host, uint64_t a, uint64_t last)
{
    if (h->pos > last)
        return;
    size_t n = (size_t)(last - a) + 1, off;
    size_t from = h->pos > a ? (size_t)(h->pos - a) : 0;
    while ((off = find(h->mt, host, n, from)) != SRCH_NONE) {
        record(h, a + off);
        from = off + h->mt->len;
    }
}

static void copy_out(mmu_t *m, uint64_t a, uint8_t *dst, size_t n)
{
    while (n) {
        size_t k = MMU_PAGE_SIZE - (a & PAGE_MASK);
        k = k < n ? k : n;
        memcpy(dst, host_of(m, a), k);
        a += k, dst += k, n -= k;
    }
}

/* matches starting before the run boundary b and ending at or after it */
static void stitch(hunt *h, uint64_t b, uint64_t z)
{
    size_t k = h->mt->len - 1, off;
    u128 ws = b >= k ? b - k : 0;
    ws = h->pos > ws ? h->pos : ws;
    if (k == 0 || ws >= b)
        return;
    uint64_t we = z - b >= k - 1 ? b + (k - 1) : z; /* inclusive */
    size_t n = (size_t)(we - ws) + 1, from = 0;
    copy_out(h->m, (uint64_t)ws, h->stitch, n);
    while ((off = find(h->mt, h->stitch, n, from)) != SRCH_NONE && ws + off < b) {
        record(h, (uint64_t)ws + off);
        from = off + h->mt->len;
    }
}

/* one haystack: [a, z], every page mapped and not MMIO */
static void search_range(hunt *h, uint64_t a, uint64_t z)
{
    h->pos = a;
    for (uint64_t s = a;;) {
        uint8_t *host = host_of(h->m, s);
        uint64_t last = run_last(h->m, s, z, host);
        scan_run(h, host, s, last);
        if (last == z)
            return;
        stitch(h, last + 1, z);
        if (h->pos < (u128)last + 1)
            h->pos = (u128)last + 1;
        s = last + 1;
    }
}

/* with MMU_SEARCH_CROSS: the last region of the touching run from r */
static region *extend(const region_index *ri, region *r, uint64_t hi)
{
    region *n;
    while (r->last < hi && (n = region_next(ri, r)) && n->start == r->last + 1 && n->kind != RGN_MMIO)
        r = n;
    return r;
}

static void search_all(hunt *h, uint64_t lo, uint64_t hi, bool cross)
{
    const region_index *ri = &h->m->ri;
    for (region *r = region_ceil(ri, lo); r && r->start <= hi; r = region_next(ri, r)) {
        if (r->kind == RGN_MMIO) /* reading a device has side effects */
            continue;
        uint64_t a = r->start > lo ? r->start : lo;
        if (cross)
            r = extend(ri, r, hi);
        uint64_t z = r->last < hi ? r->last : hi;
        if (z - a >= h->mt->len - 1)
            search_range(h, a, z);
    }
}

static mmu_err run(mmu_t *m, const matcher *mt, uint64_t begin, uint64_t end, unsigned flags, uint64_t *out,
                   size_t max_out, size_t *out_count)
{
    if (!m || !out_count || mt->len == 0 || (flags & ~(unsigned)MMU_SEARCH_CROSS) || (!out && max_out)
        || (end && begin >= end))
        return MMU_ERR_ARG;
    const region *top = region_last(&m->ri);
    uint64_t hi = end ? end - 1 : top ? top->last : 0;
    hunt h = { m, mt, out, max_out, 0, NULL, 0 };
    uint8_t stack[STITCH_STACK];
    if (top && begin <= hi) {
        if (mt->len - 1 > SIZE_MAX / 2)
            return MMU_ERR_NOMEM;
        h.stitch = 2 * (mt->len - 1) <= sizeof stack ? stack : sm_malloc(2 * (mt->len - 1));
        if (!h.stitch)
            return MMU_ERR_NOMEM;
        search_all(&h, begin, hi, flags & MMU_SEARCH_CROSS);
        if (h.stitch != stack)
            sm_free(h.stitch);
    }
    *out_count = h.count;
    return MMU_OK;
}

mmu_err mmu_search(mmu_t *m, const void *needle, size_t len, uint64_t begin, uint64_t end, unsigned flags,
                   uint64_t *out, size_t max_out, size_t *out_count)
{
    if (!needle)
        return MMU_ERR_ARG;
    matcher mt = { len, needle, NULL };
    return run(m, &mt, begin, end, flags, out, max_out, out_count);
}

mmu_err mmu_search_pattern(mmu_t *m, const mmu_pattern *p, uint64_t begin, uint64_t end, unsigned flags,
                           uint64_t *out, size_t max_out, size_t *out_count)
{
    if (!p)
        return MMU_ERR_ARG;
    matcher mt = { pattern_len(p), NULL, p };
    return run(m, &mt, begin, end, flags, out, max_out, out_count);
}
