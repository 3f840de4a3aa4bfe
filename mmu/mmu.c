/*
 * mmu.c - lifetime, configuration, errors, stats.
 */
#include "mmu_int.h"

static const char *const err_text[] = {
    [MMU_OK] = "success (MMU_OK)",
    [MMU_ERR_NOMEM] = "out of host memory (MMU_ERR_NOMEM)",
    [MMU_ERR_ARG] = "invalid argument (MMU_ERR_ARG)",
    [MMU_ERR_MAPPED] = "range already mapped (MMU_ERR_MAPPED)",
    [MMU_ERR_UNMAPPED] = "range not mapped (MMU_ERR_UNMAPPED)",
    [MMU_ERR_NOSPACE] = "no free range fits (MMU_ERR_NOSPACE)",
    [MMU_ERR_RANGE] = "address outside the address space (MMU_ERR_RANGE)",
    [MMU_ERR_READ_UNMAPPED] = "read from unmapped memory (MMU_ERR_READ_UNMAPPED)",
    [MMU_ERR_WRITE_UNMAPPED] = "write to unmapped memory (MMU_ERR_WRITE_UNMAPPED)",
    [MMU_ERR_FETCH_UNMAPPED] = "fetch from unmapped memory (MMU_ERR_FETCH_UNMAPPED)",
    [MMU_ERR_READ_PROT] = "read from non-readable page (MMU_ERR_READ_PROT)",
    [MMU_ERR_WRITE_PROT] = "write to protected page (MMU_ERR_WRITE_PROT)",
    [MMU_ERR_FETCH_PROT] = "fetch from non-executable page (MMU_ERR_FETCH_PROT)",
    [MMU_ERR_NOTFOUND] = "not found (MMU_ERR_NOTFOUND)",
    [MMU_ERR_CORRUPT] = "corrupt snapshot data (MMU_ERR_CORRUPT)",
    [MMU_ERR_CANCELLED] = "access cancelled by a hook or device (MMU_ERR_CANCELLED)",
};

const char *mmu_strerror(mmu_err err)
{
    if ((unsigned)err < sizeof err_text / sizeof *err_text && err_text[err])
        return err_text[err];
    return "unknown error (mmu_err out of range)";
}

static bool tlb_size_ok(unsigned n)
{
    return n >= 1 && n <= 65536 && !(n & (n - 1));
}

static mmu_err config_check(const mmu_config *c)
{
    if (c->addr_bits != 32 && c->addr_bits != 48 && c->addr_bits != 64)
        return MMU_ERR_ARG;
    if (c->ptr_size != 1 && c->ptr_size != 2 && c->ptr_size != 4 && c->ptr_size != 8)
        return MMU_ERR_ARG;
    if ((c->tlb_entries && !tlb_size_ok(c->tlb_entries)) || !tlb_size_ok(c->tlb_min) || !tlb_size_ok(c->tlb_max)
        || c->tlb_min > c->tlb_max)
        return MMU_ERR_ARG;
    return MMU_OK;
}

mmu_err mmu_open(const mmu_config *cfg, mmu_t **out)
{
    if (!out)
        return MMU_ERR_ARG;
    mmu_config c = cfg ? *cfg : (mmu_config){ 0 };
    if (!c.addr_bits)
        c.addr_bits = 64;
    if (!c.ptr_size)
        c.ptr_size = 8;
    if (!c.tlb_min)
        c.tlb_min = c.tlb_max && c.tlb_max < TLB_DEFAULT_MIN ? c.tlb_max : TLB_DEFAULT_MIN;
    if (!c.tlb_max)
        c.tlb_max = c.tlb_min > TLB_DEFAULT_MAX ? c.tlb_min : TLB_DEFAULT_MAX;
    mmu_err err = config_check(&c);
    if (err)
        return err;
    if (c.tlb_entries) /* fixed */
        c.tlb_min = c.tlb_max = c.tlb_entries;
#ifdef MMU_HARD_TLB
    c.tlb_entries = c.tlb_min = c.tlb_max = 1; /* stress build: every other page is a miss; bad configs still fail above */
#endif
    mmu_t *m = sm_calloc(1, sizeof *m);
    if (!m)
        return MMU_ERR_NOMEM;
    m->cfg = c;
    m->space_last = c.addr_bits == 64 ? UINT64_MAX : ((uint64_t)1 << c.addr_bits) - 1;
    m->fast.big_endian = c.big_endian;
    m->tlb_dynamic = !c.tlb_entries;
    if (tlb_alloc(m, c.tlb_min) != MMU_OK || pt_init(&m->pt) != MMU_OK) {
        sm_free(m->fast.tlb);
        sm_free(m->tlb_fills);
        sm_free(m);
        return MMU_ERR_NOMEM;
    }
    *out = m;
    return MMU_OK;
}

void mmu_close(mmu_t *m)
{
    if (!m)
        return;
    snap_detach_all(m);
    mmu_unmap_all(m);
    region_index_free(&m->ri);
    label_unref(m->last_label);
    pt_free(&m->pt);
    hooklist_free(&m->hooks);
    sm_free(m->fast.tlb);
    sm_free(m->tlb_fills);
    sm_free(m);
}

uint64_t mmu_pagesize(const mmu_t *m)
{
    (void)m;
    return MMU_PAGE_SIZE;
}

void mmu_get_config(const mmu_t *m, mmu_config *out)
{
    if (m && out)
        *out = m->cfg;
}

uint64_t mmu_max_addr(const mmu_t *m)
{
    return m ? m->space_last : 0;
}

uint64_t mmu_code_generation(const mmu_t *m)
{
    return m ? m->fast.code_gen : 0;
}




/* ----------------------------------------------------------- statistics */

void mmu_get_stats(const mmu_t *m, mmu_stats *out)
{
    if (!m || !out)
        return;
    size_t meta = sizeof *m + tlb_entries(m) * (sizeof(mmu_tlb_entry_) + sizeof *m->tlb_fills) + pt_meta_bytes(&m->pt)
                  + m->hooks.cap * sizeof(hook_entry) + region_meta_bytes(&m->ri);
    *out = (mmu_stats){
        .tlb_hits = m->fast.tlb_hits, /* out-of-line hits; inline ones with MMU_COUNT_INLINE_HITS */
#define X(n) .n = m->n,
        MMU_STATS(X)
#undef X
        .regions = m->ri.count,
        .tlb_entries = tlb_entries(m),
        .pages_mapped = m->pages_mapped,
        .meta_bytes = meta,
    };
}
