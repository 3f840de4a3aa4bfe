/*
 * digest.c - mmu_digest: XXH3-64 over the map and the mapped pages holding a
 * non-zero byte (with their page numbers), so equal states hash equal and a
 * huge untouched region costs what its few touched pages do.
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

/* a page is hashed with its number, and only when it holds a non-zero byte:
 * a page never touched (all zeros, no entry) costs nothing */
static void hash_page(XXH3_state_t *st, uint64_t vpn, const uint8_t *p)
{
    static const uint8_t zero[MMU_PAGE_SIZE];
    if (memcmp(p, zero, MMU_PAGE_SIZE) == 0)
        return;
    XXH3_64bits_update(st, &vpn, sizeof vpn);
    XXH3_64bits_update(st, p, MMU_PAGE_SIZE);
}

static uint64_t hash_entry(void *st, uint64_t vpn, uint64_t pte)
{
    hash_page(st, vpn, PTE_HOST(pte));
    return pte;
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
        uint64_t vpn = r->start >> MMU_PAGE_BITS, n = region_pages(r);
        if (r->kind == RGN_RAM) /* pages without an entry hold zeros */
            pt_visit(&m->pt, vpn, n, hash_entry, &st);
        else if (r->kind == RGN_PTR) /* the caller's buffer: every page */
            for (uint64_t i = 0; i < n; i++)
                hash_page(&st, vpn + i, r->host + (i << MMU_PAGE_BITS));
    }
    return XXH3_64bits_digest(&st);
}
