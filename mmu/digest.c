/*
 * digest.c - mmu_digest: XXH3-64 over the map and every mapped RAM byte.
 */
#include "mmu_int.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

static void hash_region(XXH3_state_t *st, const region *r)
{
    struct {
        uint64_t start, last;
        uint32_t perms, mmio, label_len, zero; /* named: padding would be hashed uninitialised */
    } rec = { r->start, r->last, r->perms, r->kind == RGN_MMIO, r->label->len, 0 };
    XXH3_64bits_update(st, &rec, sizeof rec);
    XXH3_64bits_update(st, r->label->s, r->label->len);
}

uint64_t mmu_digest(mmu_t *m)
{
    if (!m)
        return 0;
    XXH3_state_t st;
    XXH3_INITSTATE(&st);
    XXH3_64bits_reset(&st);
    for (region *r = region_first(&m->ri); r; r = region_next(&m->ri, r)) {
        hash_region(&st, r);
        if (r->kind == RGN_MMIO)
            continue;
        /* page by page through the page table: pages may move (snapshots) */
        for (uint64_t a = r->start;; a += MMU_PAGE_SIZE) {
            XXH3_64bits_update(&st, PTE_HOST(*pt_find(&m->pt, a >> MMU_PAGE_BITS)), MMU_PAGE_SIZE);
            if (a + PAGE_MASK == r->last)
                break;
        }
    }
    return XXH3_64bits_digest(&st);
}
