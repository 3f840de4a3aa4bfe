/*
 * tlb.c - the software TLB behind the inline fast path of mmu.h: filling an
 * entry after a miss, and flushing. An entry holds one tag per access kind,
 * each the page address when that access may take the fast path, so a hit
 * needs no permission test (the hit itself is inline in mmu.h).
 */
#include "mmu_int.h"

/* Caches page (whose entry is pte) for each access kind that may skip the
 * slow path: RAM only, the kind's permission, no access hook on the page;
 * writes also need the page not to hold decoded code (the write must bump
 * the code generation) nor be tracked by a snapshot (it must copy first);
 * fetches need the page marked as code (the slow path marks it). */
void tlb_fill(mmu_t *m, uint64_t page, uint64_t pte)
{
    mmu_tlb_entry_ *e = MMU_TLB_ENTRY_(&m->fast, page);
    m->tlb_fills[(page >> MMU_PAGE_BITS) & m->fast.tlb_mask]++;
    bool ram = !(pte & PTE_MMIO);
    e->tag_read = ram && (pte & MMU_PROT_READ) && !hooks_cover_page(m, MMU_ACCESS_READ, page) ? page : TLB_INVALID;
    e->tag_write = ram && (pte & MMU_PROT_WRITE) && !(pte & (PTE_CODE | PTE_TRACK))
                           && !hooks_cover_page(m, MMU_ACCESS_WRITE, page)
                       ? page
                       : TLB_INVALID;
    e->tag_fetch = ram && (pte & MMU_PROT_EXEC) && (pte & PTE_CODE) && !hooks_cover_page(m, MMU_ACCESS_FETCH, page)
                       ? page
                       : TLB_INVALID;
    e->addend = (uintptr_t)PTE_HOST(pte) - (uintptr_t)page;
}

/* one-page TLB hit for the bulk entry points */
uint8_t *tlb_hit(mmu_t *m, mmu_access k, uint64_t addr, size_t size)
{
    if (size == 0 || size > MMU_PAGE_SIZE - (addr & PAGE_MASK)) /* no overflow for a huge size */
        return NULL;
    mmu_tlb_entry_ *e = MMU_TLB_ENTRY_(&m->fast, addr);
    uint64_t tag = k == MMU_ACCESS_READ ? e->tag_read : k == MMU_ACCESS_WRITE ? e->tag_write : e->tag_fetch;
    if (tag != (addr & ~PAGE_MASK))
        return NULL;
    m->fast.tlb_hits++;
    return (uint8_t *)(uintptr_t)(addr + e->addend);
}


static void tlb_clear(mmu_tlb_entry_ *e)
{
    e->tag_read = e->tag_write = e->tag_fetch = TLB_INVALID;
    e->addend = 0;
}

void tlb_flush_all(mmu_t *m)
{
    for (uint64_t i = 0; i <= m->fast.tlb_mask; i++)
        tlb_clear(&m->fast.tlb[i]);
    m->tlb_flushes++;
}

/* the entry caching a page, if any, holds its page address in some tag */
static bool holds(const mmu_tlb_entry_ *e, uint64_t page)
{
    return e->tag_read == page || e->tag_write == page || e->tag_fetch == page;
}

void tlb_flush_range(mmu_t *m, uint64_t vpn, uint64_t n)
{
    if (n > m->fast.tlb_mask + 1) { /* more pages than entries: cheaper to clear them all */
        tlb_flush_all(m);
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t page = (vpn + i) << MMU_PAGE_BITS;
        mmu_tlb_entry_ *e = MMU_TLB_ENTRY_(&m->fast, page);
        if (holds(e, page))
            tlb_clear(e);
    }
}
