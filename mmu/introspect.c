/*
 * introspect.c - read-only views of the translation structures: one
 * translation explained step by step, the page table's leaves, the TLB's
 * entries and the hooks. Nothing here changes the MMU, its statistics or
 * the page table's walk cache.
 */
#include "mmu_int.h"

static unsigned tlb_kinds(const mmu_t *m, const mmu_tlb_entry_ *e, uint64_t page)
{
    unsigned kinds = 0;
    for (mmu_access k = MMU_ACCESS_READ; k <= MMU_ACCESS_FETCH; k++)
        kinds |= (unsigned)(tlb_tag(m, e, k) == page) << k;
    return kinds;
}

static bool any_hook_covers(const mmu_t *m, uint64_t page)
{
    for (unsigned k = 0; k < 3; k++)
        if (hooks_cover_page(m, k, page))
            return true;
    return false;
}

/* MMU_PAGE_* of a page, from its region r (NULL: unmapped) and entry pte (0: none) */
static unsigned page_state(const mmu_t *m, const region *r, uint64_t pte, uint64_t page)
{
    unsigned s = 0;
    if (r)
        s |= MMU_PAGE_MAPPED | (r->kind == RGN_MMIO ? MMU_PAGE_MMIO : 0);
    if (pte & PTE_VALID) {
        s |= MMU_PAGE_PRESENT;
        s |= pte & PTE_CODE ? MMU_PAGE_CODE : 0;
        s |= pte & PTE_TRACK ? MMU_PAGE_TRACKED : 0;
    }
    if (r && r->kind == RGN_RAM && snap_attached(m) && !(s & MMU_PAGE_TRACKED))
        s |= MMU_PAGE_DIRTY;
    if (r && any_hook_covers(m, page))
        s |= MMU_PAGE_HOOKED;
    return s;
}

static bool fast_allowed(const mmu_t *m, mmu_access k, unsigned perms, unsigned state, uint64_t page)
{
    if (!(state & MMU_PAGE_MAPPED) || (state & MMU_PAGE_MMIO) || !(perms & (1u << k))
        || hooks_cover_page(m, k, page))
        return false;
    if (k == MMU_ACCESS_WRITE)
        return !(state & (MMU_PAGE_CODE | MMU_PAGE_TRACKED));
    if (k == MMU_ACCESS_FETCH)
        return state & MMU_PAGE_CODE;
    return true;
}

mmu_err mmu_explain(const mmu_t *m, uint64_t addr, mmu_access access, mmu_translation *out)
{
    if (!m || !out || (unsigned)access > MMU_ACCESS_FETCH)
        return MMU_ERR_ARG;
    uint64_t page = addr & ~PAGE_MASK, vpn = addr >> MMU_PAGE_BITS;
    mmu_translation t = { .addr = addr, .access = access };

    const mmu_tlb_entry_ *e = MMU_TLB_ENTRY_(&m->fast, addr);
    t.tlb_entries = tlb_entries(m);
    t.tlb_slot = vpn & (tlb_entries(m) - 1);
    t.tlb_page = tlb_page_of(m, e);
    t.tlb_kinds = t.tlb_page == TLB_INVALID ? 0 : tlb_kinds(m, e, t.tlb_page);
    t.tlb_hit = t.tlb_page == page && (t.tlb_kinds >> access & 1);

    t.pt_top = addr >> MMU_PT_TOP_SHIFT;
    t.pt_index = (unsigned)(vpn & (LEAF_ENTRIES - 1));
    const pt_leaf *l = pt_leaf_peek(&m->pt, vpn >> LEAF_BITS);
    t.pt_leaf = l != NULL;
    uint64_t pte = l ? l->pte[t.pt_index] : 0;

    const region *r = addr <= m->space_last ? region_find(&m->ri, addr) : NULL;
    t.page = page_state(m, r, pte, page);
    if (r) {
        t.perms = r->perms;
        t.region_start = r->start;
        t.region_end = r->last + 1;
        t.label = r->label->s;
        if (r->kind != RGN_MMIO)
            t.host = r->host + (addr - r->start);
    }
    t.fast_path = fast_allowed(m, access, t.perms, t.page, page);

    if (!r)
        t.err = MMU_ERR_READ_UNMAPPED + access;
    else if (!(r->perms & (1u << access)) || (r->kind == RGN_MMIO && !mmio_dev_can(r->dev, access)))
        t.err = MMU_ERR_READ_PROT + access;
    *out = t;
    return MMU_OK;
}

/* ------------------------------------------------------------ page table */

static int cmp_leaf(const void *a, const void *b)
{
    uint64_t x = (*(const pt_leaf *const *)a)->key, y = (*(const pt_leaf *const *)b)->key;
    return (x > y) - (x < y);
}

mmu_err mmu_pt_walk(const mmu_t *m, mmu_pt_leaf_fn fn, void *user)
{
    if (!m || !fn)
        return MMU_ERR_ARG;
    size_t n = 0;
    const pt_leaf **v = sm_malloc((m->pt.n_leaves ? m->pt.n_leaves : 1) * sizeof *v);
    if (!v)
        return MMU_ERR_NOMEM;
    for (size_t i = 0; i < m->pt.cap; i++)
        if (m->pt.slot[i])
            v[n++] = m->pt.slot[i];
    qsort(v, n, sizeof *v, cmp_leaf);
    mmu_pt_leaf *out = sm_malloc(sizeof *out);
    if (!out) {
        sm_free(v);
        return MMU_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const pt_leaf *l = v[i];
        out->top = l->key;
        out->base = l->key << MMU_PT_TOP_SHIFT;
        out->present = 0;
        const region *r = NULL;
        for (unsigned j = 0; j < LEAF_ENTRIES; j++) {
            uint64_t page = out->base + ((uint64_t)j << MMU_PAGE_BITS);
            if (!r || r->last < page) /* one lookup per region met, not per page */
                r = region_find(&m->ri, page);
            const region *in = r && r->start <= page ? r : NULL;
            out->page[j] = (uint8_t)page_state(m, in, l->pte[j], page);
            out->perms[j] = (uint8_t)(in ? in->perms : 0);
            out->present += (out->page[j] & MMU_PAGE_PRESENT) != 0;
        }
        if (!fn(user, out))
            break;
    }
    sm_free(out);
    sm_free(v);
    return MMU_OK;
}

/* ------------------------------------------------------------------ TLB */

size_t mmu_tlb_dump(const mmu_t *m, mmu_tlb_slot *out, size_t max, uint64_t *out_entries)
{
    if (!m)
        return 0;
    size_t n = 0;
    for (uint64_t i = 0; i < tlb_entries(m); i++) {
        const mmu_tlb_entry_ *e = &m->fast.tlb[i];
        uint64_t page = tlb_page_of(m, e);
        if (page == TLB_INVALID)
            continue;
        if (out && n < max)
            out[n] = (mmu_tlb_slot){ i, page, tlb_kinds(m, e, page), m->tlb_fills[i] };
        n++;
    }
    if (out_entries)
        *out_entries = tlb_entries(m);
    return n;
}

/* ---------------------------------------------------------------- hooks */

size_t mmu_hooks(const mmu_t *m, mmu_hook_info *out, size_t max)
{
    if (!m)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < m->hooks.n; i++) {
        const hook_entry *h = &m->hooks.v[i];
        if (h->dead)
            continue;
        if (out && n < max) {
            out[n] = (mmu_hook_info){ .id = h->id, .types = h->types, .begin = h->begin, .end = h->end, .user = h->user };
            out[n].fn = (mmu_mem_hook_fn)h->fn; /* registered as that type */
        }
        n++;
    }
    return n;
}
