/*
 * map.c - map, unmap, protect, set_label, free-space search and the
 * is_available / is_mapped queries. Every call validates first, allocates
 * what it may need, and only then mutates.
 */
#include "mmu_int.h"

mmu_err map_range_check(const mmu_t *m, uint64_t addr, uint64_t size)
{
    if (!m || size == 0 || ((addr | size) & PAGE_MASK))
        return MMU_ERR_ARG;
    if (size - 1 > UINT64_MAX - addr) /* wraps past 2^64 */
        return MMU_ERR_ARG;
    if (addr + (size - 1) > m->space_last)
        return MMU_ERR_RANGE;
    return MMU_OK;
}


/* the entry a fill gives page i of r: a snapshot attached must see its first write */
static uint64_t page_pte(const mmu_t *m, const region *r, uint64_t i)
{
    uint64_t flags = PTE_VALID | r->perms;
    if (r->kind == RGN_MMIO)
        return flags | PTE_MMIO;
    if (r->kind == RGN_RAM && snap_attached(m))
        flags |= PTE_TRACK;
    return (uint64_t)(uintptr_t)(r->host + (i << MMU_PAGE_BITS)) | flags;
}

uint64_t map_pte(mmu_t *m, uint64_t vpn)
{
    uint64_t *e = pt_find(&m->pt, vpn);
    if (e && (*e & PTE_VALID))
        return *e;
    uint64_t addr = vpn << MMU_PAGE_BITS;
    const region *r = addr <= m->space_last ? region_find(&m->ri, addr) : NULL;
    return r ? page_pte(m, r, (addr - r->start) >> MMU_PAGE_BITS) : 0;
}

uint64_t *map_fill_page(mmu_t *m, uint64_t vpn)
{
    uint64_t *e = pt_find(&m->pt, vpn);
    if (e && (*e & PTE_VALID))
        return e;
    uint64_t pte = map_pte(m, vpn);
    return pte ? pt_install(&m->pt, vpn, pte) : NULL;
}

mmu_err map_fill(mmu_t *m, uint64_t vpn, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (!map_fill_page(m, vpn + i))
            return MMU_ERR_NOMEM; /* the entries made stay: they change nothing */
    return MMU_OK;
}

mmu_err map_insert(mmu_t *m, region *r)
{
    region_insert(&m->ri, r); /* entries fill on demand (map_fill_page) */
    m->pages_mapped += region_pages(r);
    return MMU_OK; /* the TLB never caches unmapped pages: nothing to flush */
}

/* The label for text: the one made last if it says the same (a million
 * maps with one label cost one label), else a new one, remembered. */
static struct label *label_shared(mmu_t *m, const char *text, const char *dflt)
{
    const char *s = text && *text ? text : dflt;
    struct label *l = m->last_label;
    if (l && strcmp(l->s, s) == 0)
        return label_ref(l);
    if (!(l = label_new(s, dflt)))
        return NULL;
    label_unref(m->last_label);
    m->last_label = label_ref(l);
    return l;
}

/* validate, build the region, map it: shared by map, map_ptr, map_mmio */
static mmu_err map_common(mmu_t *m, uint64_t addr, uint64_t size, unsigned perms, unsigned kind, void *host,
                          mmio_dev *dev, const char *text, const char *dflt)
{
    mmu_err err = map_range_check(m, addr, size);
    if (err)
        return err;
    if (perms > MMU_PROT_ALL)
        return MMU_ERR_ARG;
    if (!mmu_is_available(m, addr, size))
        return MMU_ERR_MAPPED;
    struct label *l = label_shared(m, text, dflt);
    region *r = l ? region_new(addr, addr + (size - 1), perms, kind, l) : NULL;
    if (!r) {
        label_unref(l);
        return MMU_ERR_NOMEM;
    }
    if (kind == RGN_MMIO)
        r->dev = dev;
    else
        r->host = host;
    if (kind == RGN_RAM && !(r->host = ram_alloc(size))) {
        err = MMU_ERR_NOMEM;
    } else {
        err = region_reserve(&m->ri, 1) ? map_insert(m, r) : MMU_ERR_NOMEM;
    }
    if (err) {
        if (kind == RGN_MMIO)
            r->dev = NULL; /* the caller still owns dev */
        region_destroy(r, true);
    }
    return err;
}

mmu_err mmu_map(mmu_t *m, uint64_t addr, uint64_t size, unsigned perms, const char *label)
{
    return map_common(m, addr, size, perms, RGN_RAM, NULL, NULL, label, "[mapped]");
}

mmu_err mmu_map_ptr(mmu_t *m, uint64_t addr, uint64_t size, unsigned perms, void *host, const char *label)
{
    if (!host || ((uintptr_t)host & PAGE_MASK))
        return MMU_ERR_ARG;
    return map_common(m, addr, size, perms, RGN_PTR, host, NULL, label, "[mapped]");
}

mmu_err mmu_map_mmio(mmu_t *m, uint64_t addr, uint64_t size, mmu_mmio_read_fn rd, mmu_mmio_write_fn wr,
                     void *user, const char *label)
{
    mmio_dev *dev = sm_calloc(1, sizeof *dev);
    if (!dev)
        return MMU_ERR_NOMEM;
    *dev = (mmio_dev){ .refs = 1, .rd = rd, .wr = wr, .user = user, .base = addr };
    unsigned perms = (rd ? MMU_PROT_READ : 0) | (wr ? MMU_PROT_WRITE : 0);
    mmu_err err = map_common(m, addr, size, perms, RGN_MMIO, NULL, dev, label, "[mmio]");
    if (err)
        sm_free(dev);
    return err;
}


/* does a region straddle addr (so that a split is needed there)? */
static bool straddled(const mmu_t *m, uint64_t addr)
{
    region *r = region_find(&m->ri, addr);
    return r && r->start != addr;
}

/* Splits so that [a, last] starts and ends on region boundaries. Allocates
 * only the nodes the splits need, all before the first split. */
static mmu_err carve(mmu_t *m, uint64_t a, uint64_t last)
{
    bool cut[2] = { straddled(m, a), last != UINT64_MAX && straddled(m, last + 1) };
    region *spare[2] = { NULL, NULL };
    if (!region_reserve(&m->ri, (size_t)cut[0] + cut[1]))
        return MMU_ERR_NOMEM;
    for (int i = 0; i < 2; i++) {
        if (cut[i] && !(spare[i] = sm_malloc(sizeof(region)))) {
            sm_free(spare[0]);
            return MMU_ERR_NOMEM;
        }
    }
    if (cut[0])
        region_split(m, a, spare[0]);
    if (cut[1])
        region_split(m, last + 1, spare[1]);
    return MMU_OK;
}

static uint64_t clear_entry(void *code, uint64_t vpn, uint64_t pte)
{
    (void)vpn;
    *(bool *)code |= (pte & PTE_CODE) != 0;
    return 0;
}

void map_clear_pages(mmu_t *m, uint64_t vpn, uint64_t n)
{
    bool code = false;
    pt_visit(&m->pt, vpn, n, clear_entry, &code);
    if (code)
        access_code_changed(m);
    tlb_flush_range(m, vpn, n);
    m->pages_mapped -= n;
}

/* removes the whole regions lying in [a, last] */
static void drop_regions(mmu_t *m, uint64_t a, uint64_t last)
{
    region *r = region_ceil(&m->ri, a);
    while (r && r->start <= last) {
        region *next = region_next(&m->ri, r);
        region_remove(&m->ri, r);
        map_clear_pages(m, r->start >> MMU_PAGE_BITS, region_pages(r));
        region_destroy(r, true);
        r = next;
    }
}

mmu_err mmu_unmap(mmu_t *m, uint64_t addr, uint64_t size)
{
    mmu_err err = map_range_check(m, addr, size);
    if (err)
        return err;
    if (!mmu_is_mapped(m, addr, size))
        return MMU_ERR_UNMAPPED;
    uint64_t last = addr + (size - 1);
    if (m->snap && (err = snap_before_unmap(m, addr >> MMU_PAGE_BITS, size >> MMU_PAGE_BITS)))
        return err;
    if ((err = carve(m, addr, last)))
        return err;
    drop_regions(m, addr, last);
    return MMU_OK;
}

void mmu_unmap_all(mmu_t *m)
{
    region *r;
    if (!m || !(r = region_first(&m->ri)))
        return;
    /* Saving the pages the snapshots still need may run out of memory; the
     * snapshots then detach as they do when the MMU closes, taking over the
     * RAM that holds their clean pages (no allocation): they stay exact and
     * restorable, and their next restore is a full rebuild. */
    if (m->snap && snap_before_unmap(m, 0, (m->space_last >> MMU_PAGE_BITS) + 1))
        snap_detach_all(m);
    drop_regions(m, 0, UINT64_MAX);
}

/* widens [addr, addr+size) to pages; checks as protect/set_label need */
static mmu_err widen_check(const mmu_t *m, uint64_t addr, uint64_t size, uint64_t *a, uint64_t *last)
{
    if (!m || size == 0 || size - 1 > UINT64_MAX - addr)
        return MMU_ERR_ARG;
    *a = addr & ~PAGE_MASK;
    *last = (addr + (size - 1)) | PAGE_MASK;
    if (*last > m->space_last)
        return MMU_ERR_RANGE;
    if (!mmu_is_mapped(m, *a, *last - *a + 1))
        return MMU_ERR_UNMAPPED;
    return MMU_OK;
}

typedef struct perms_change {
    unsigned perms;
    bool     code_lost; /* a page read as code stopped being executable */
} perms_change;

static uint64_t set_entry_perms(void *ctx, uint64_t vpn, uint64_t pte)
{
    perms_change *c = ctx;
    (void)vpn;
    c->code_lost |= (pte & PTE_CODE) && !(c->perms & MMU_PROT_EXEC);
    return (pte & ~(uint64_t)PTE_PROT) | c->perms;
}

void map_set_perms(mmu_t *m, region *r, unsigned perms)
{
    uint64_t vpn = r->start >> MMU_PAGE_BITS, n = region_pages(r);
    perms_change c = { perms, false };
    r->perms = perms;
    pt_visit(&m->pt, vpn, n, set_entry_perms, &c);
    if (c.code_lost)
        access_code_changed(m);
    tlb_flush_range(m, vpn, n);
}

mmu_err mmu_protect(mmu_t *m, uint64_t addr, uint64_t size, unsigned perms)
{
    uint64_t a, last;
    if (perms > MMU_PROT_ALL) /* a bad argument is ARG whatever the map holds */
        return MMU_ERR_ARG;
    mmu_err err = widen_check(m, addr, size, &a, &last);
    if (err)
        return err;
    if ((err = carve(m, a, last)))
        return err;
    for (region *r = region_find(&m->ri, a); r && r->start <= last; r = region_next(&m->ri, r))
        map_set_perms(m, r, perms);
    return MMU_OK;
}

mmu_err mmu_set_label(mmu_t *m, uint64_t addr, uint64_t size, const char *text)
{
    uint64_t a, last;
    mmu_err err = widen_check(m, addr, size, &a, &last);
    if (err)
        return err;
    struct label *l = label_new(text, "[mapped]");
    if (!l)
        return MMU_ERR_NOMEM;
    if ((err = carve(m, a, last))) {
        label_unref(l);
        return err;
    }
    for (region *r = region_find(&m->ri, a); r && r->start <= last; r = region_next(&m->ri, r)) {
        region_set_label(&m->ri, r, l);
    }
    label_unref(l);
    return MMU_OK;
}

/* ------------------------------------------------------------- queries */

bool mmu_is_available(const mmu_t *m, uint64_t addr, uint64_t size)
{
    if (!m || size == 0)
        return false;
    uint64_t last = size - 1 > UINT64_MAX - addr ? UINT64_MAX : addr + (size - 1);
    region *r = region_ceil(&m->ri, addr);
    return !r || r->start > last;
}

bool mmu_is_mapped(const mmu_t *m, uint64_t addr, uint64_t size)
{
    if (!m || size == 0 || size - 1 > UINT64_MAX - addr)
        return false;
    uint64_t last = addr + (size - 1);
    region *r = region_find(&m->ri, addr);
    while (r && r->last < last) {
        region *next = region_next(&m->ri, r);
        if (!next || next->start != r->last + 1)
            return false;
        r = next;
    }
    return r != NULL;
}

mmu_err mmu_find_free_space(const mmu_t *m, uint64_t size, uint64_t min_addr, uint64_t max_addr, uint64_t align,
                            uint64_t *out_addr)
{
    if (!m || !out_addr || size == 0)
        return MMU_ERR_ARG;
    if (align == 0)
        align = MMU_PAGE_SIZE;
    if (align & (align - 1))
        return MMU_ERR_ARG;
    unsigned __int128 space_end = (unsigned __int128)m->space_last + 1;
    unsigned __int128 hi = max_addr ? max_addr : space_end;
    if (hi > space_end || min_addr >= hi || hi - min_addr < size)
        return MMU_ERR_ARG;
    uint64_t a;
    if (!region_first_fit(&m->ri, size, min_addr, hi, align, space_end, &a))
        return MMU_ERR_NOSPACE;
    *out_addr = a;
    return MMU_OK;
}

mmu_err mmu_map_anywhere(mmu_t *m, uint64_t size, uint64_t min_addr, uint64_t max_addr, uint64_t align,
                         unsigned perms, const char *label, uint64_t *out_addr)
{
    if (!m || !out_addr || size == 0 || size > UINT64_MAX - PAGE_MASK || perms > MMU_PROT_ALL)
        return MMU_ERR_ARG;
    if (align != 0 && align < MMU_PAGE_SIZE)
        return MMU_ERR_ARG;
    size = (size + PAGE_MASK) & ~PAGE_MASK;
    uint64_t a;
    mmu_err err = mmu_find_free_space(m, size, min_addr, max_addr, align, &a);
    if (!err)
        err = mmu_map(m, a, size, perms, label);
    if (!err)
        *out_addr = a;
    return err;
}

size_t mmu_regions(const mmu_t *m, mmu_region *out, size_t max)
{
    if (!m)
        return 0;
    size_t i = 0;
    for (const region *r = out && max ? region_first(&m->ri) : NULL; r && i < max; r = region_next(&m->ri, r))
        out[i++] = (mmu_region){ r->start, r->last + 1, r->perms, r->label->s, r->kind == RGN_MMIO };
    return m->ri.count;
}
