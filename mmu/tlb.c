/*
 * tlb.c - the software TLB behind the inline fast path of mmu.h: filling an
 * entry after a miss, and flushing. An entry holds one tag per access kind,
 * each the page address when that access may take the fast path, so a hit
 * needs no permission test (the hit itself is inline in mmu.h).
 */
#include "mmu_int.h"

uint64_t tlb_tag(const mmu_t *m, const mmu_tlb_entry_ *e, mmu_access k)
{
    uint64_t t = k == MMU_ACCESS_READ ? e->tag_read : k == MMU_ACCESS_WRITE ? e->tag_write : e->tag_fetch;
    return m->cfg.big_endian && k != MMU_ACCESS_FETCH && t != TLB_INVALID ? t & ~(uint64_t)TLB_BE_MARK : t;
}

uint64_t tlb_page_of(const mmu_t *m, const mmu_tlb_entry_ *e)
{
    for (mmu_access k = MMU_ACCESS_READ; k <= MMU_ACCESS_FETCH; k++) {
        uint64_t t = tlb_tag(m, e, k);
        if (!(t & PAGE_MASK))
            return t;
    }
    return TLB_INVALID;
}

static void tlb_clear(mmu_tlb_entry_ *e)
{
    e->tag_read = e->tag_write = e->tag_fetch = TLB_INVALID;
    e->addend = 0;
}

mmu_err tlb_alloc(mmu_t *m, uint64_t n)
{
    mmu_tlb_entry_ *t = sm_malloc(n * sizeof *t);
    uint32_t *fills = sm_calloc(n, sizeof *fills);
    if (!t || !fills) {
        sm_free(t);
        sm_free(fills);
        return MMU_ERR_NOMEM;
    }
    for (uint64_t i = 0; i < n; i++)
        tlb_clear(&t[i]);
    sm_free(m->fast.tlb);
    sm_free(m->tlb_fills);
    m->fast.tlb = t;
    m->tlb_fills = fills;
    m->fast.tlb_index = (n - 1) * sizeof(mmu_tlb_entry_);
    m->tlb_window = m->tlb_evictions = 0;
    return MMU_OK;
}

/* a dynamic TLB that keeps evicting pages it will need again doubles */
static void consider_growing(mmu_t *m)
{
    uint64_t n = tlb_entries(m);
    if (m->tlb_window < n)
        return;
    bool thrashing = m->tlb_evictions * 2 > m->tlb_window;
    m->tlb_window = m->tlb_evictions = 0;
    if (thrashing && n < m->cfg.tlb_max && tlb_alloc(m, n * 2) == MMU_OK)
        m->tlb_resizes++;
}

/* Caches page (whose entry is pte) for each access kind that may skip the
 * slow path: RAM only, the kind's permission, no access hook on the page;
 * writes also need the page not to hold decoded code (the write must bump
 * the code generation) nor be tracked by a snapshot (it must copy first);
 * fetches need the page marked as code (the slow path marks it). */
void tlb_fill(mmu_t *m, uint64_t page, uint64_t pte)
{
    if (m->tlb_dynamic)
        consider_growing(m);
    mmu_tlb_entry_ *e = MMU_TLB_ENTRY_(&m->fast, page);
    uint64_t slot = (page >> MMU_PAGE_BITS) & (tlb_entries(m) - 1);
    uint64_t old = tlb_page_of(m, e);
    m->tlb_evictions += old != TLB_INVALID && old != page;
    m->tlb_window++;
    m->tlb_fills[slot]++;
    bool ram = !(pte & PTE_MMIO);
    uint64_t be = m->cfg.big_endian ? TLB_BE_MARK : 0;
    e->tag_read = ram && (pte & MMU_PROT_READ) && !hooks_cover_page(m, MMU_ACCESS_READ, page) ? page | be : TLB_INVALID;
    e->tag_write = ram && (pte & MMU_PROT_WRITE) && !(pte & (PTE_CODE | PTE_TRACK))
                           && !hooks_cover_page(m, MMU_ACCESS_WRITE, page)
                       ? page | be
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
    if (tlb_tag(m, MMU_TLB_ENTRY_(&m->fast, addr), k) != (addr & ~PAGE_MASK))
        return NULL;
    m->fast.tlb_hits++;
    return (uint8_t *)(uintptr_t)(addr + MMU_TLB_ENTRY_(&m->fast, addr)->addend);
}

/* the entry caching a page, if any, holds its page address in some tag */
static bool holds(const mmu_t *m, const mmu_tlb_entry_ *e, uint64_t page)
{
    return tlb_tag(m, e, MMU_ACCESS_READ) == page || tlb_tag(m, e, MMU_ACCESS_WRITE) == page
           || e->tag_fetch == page;
}

/* a dynamic TLB found mostly empty at a full flush halves */
void tlb_flush_all(mmu_t *m)
{
    uint64_t n = tlb_entries(m), used = 0;
    for (uint64_t i = 0; i < n; i++) {
        mmu_tlb_entry_ *e = &m->fast.tlb[i];
        used += tlb_page_of(m, e) != TLB_INVALID;
        tlb_clear(e);
    }
    m->tlb_flushes++;
    if (m->tlb_dynamic && n > m->cfg.tlb_min && used * 8 < n && tlb_alloc(m, n / 2) == MMU_OK)
        m->tlb_resizes++;
}

void tlb_flush_range(mmu_t *m, uint64_t vpn, uint64_t n)
{
    if (n > tlb_entries(m)) { /* more pages than entries: cheaper to clear them all */
        tlb_flush_all(m);
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t page = (vpn + i) << MMU_PAGE_BITS;
        mmu_tlb_entry_ *e = MMU_TLB_ENTRY_(&m->fast, page);
        if (holds(m, e, page))
            tlb_clear(e);
    }
}
