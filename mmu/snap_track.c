/*
 * snap_track.c - the per-snapshot page table (vpn -> saved copy) and the
 * write tracking the core calls into: before a tracked page is written or
 * unmapped, every attached snapshot still holding it clean gets the old
 * contents (one copy shared by all) and marks the page dirty.
 */
#include "snap_int.h"

page_copy snap_zero;

bool snap_page_is_zero(const uint8_t *p)
{
    return memcmp(p, snap_zero.data, MMU_PAGE_SIZE) == 0;
}

page_copy *snap_copy_of(const uint8_t *src)
{
    if (snap_page_is_zero(src))
        return &snap_zero; /* untouched memory costs nothing to save */
    page_copy *pc = sm_malloc(sizeof *pc);
    if (!pc)
        return NULL;
    pc->refs = 0;
    memcpy(pc->data, src, MMU_PAGE_SIZE);
    return pc;
}

void snap_copy_unref(page_copy *pc)
{
    if (pc && pc != &snap_zero && --pc->refs == 0)
        sm_free(pc);
}

/* ------------------------------------------------------------ page table */

static size_t slot_of(uint64_t vpn, size_t cap)
{
    uint64_t h = vpn * 0x9e3779b97f4a7c15ull; /* neighbours are the common case */
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

snap_ent *snap_lookup(const mmu_snapshot *s, uint64_t vpn)
{
    if (!s->tab_cap)
        return NULL;
    for (size_t i = slot_of(vpn, s->tab_cap);; i = (i + 1) & (s->tab_cap - 1)) {
        snap_ent *e = &s->tab[i];
        if (!e->copy)
            return NULL;
        if (e->vpn == vpn)
            return e;
    }
}

static mmu_err grow_tab(mmu_snapshot *s)
{
    size_t cap = s->tab_cap ? s->tab_cap * 2 : 16;
    snap_ent *tab = sm_calloc(cap, sizeof *tab);
    if (!tab)
        return MMU_ERR_NOMEM;
    for (size_t i = 0; i < s->tab_cap; i++) {
        snap_ent *e = &s->tab[i];
        if (!e->copy)
            continue;
        size_t j = slot_of(e->vpn, cap);
        while (tab[j].copy)
            j = (j + 1) & (cap - 1);
        tab[j] = *e;
    }
    sm_free(s->tab);
    s->tab = tab;
    s->tab_cap = cap;
    return MMU_OK;
}

mmu_err snap_reserve(mmu_snapshot *s)
{
    if ((s->tab_used + 1) * 4 > s->tab_cap * 3 && grow_tab(s)) /* load <= 3/4 */
        return MMU_ERR_NOMEM;
    uint64_t *d = sm_grow(s->dirty, &s->cap_dirty, s->n_dirty, sizeof *d, 16);
    if (!d)
        return MMU_ERR_NOMEM;
    s->dirty = d;
    return MMU_OK;
}

void snap_put(mmu_snapshot *s, uint64_t vpn, page_copy *pc, bool dirty)
{
    snap_ent *e = snap_lookup(s, vpn);
    if (!e) {
        size_t i = slot_of(vpn, s->tab_cap);
        while (s->tab[i].copy)
            i = (i + 1) & (s->tab_cap - 1);
        e = &s->tab[i];
        *e = (snap_ent){ vpn, pc, false };
        s->tab_used++;
        if (pc != &snap_zero)
            pc->refs++;
    }
    if (dirty && !e->dirty) {
        e->dirty = true;
        s->dirty[s->n_dirty++] = vpn;
    }
}

size_t snap_rec_ceil(const mmu_snapshot *s, uint64_t addr)
{
    size_t lo = 0, hi = s->n_recs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->recs[mid].last < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const snap_rec *snap_rec_at(const mmu_snapshot *s, uint64_t addr)
{
    size_t i = snap_rec_ceil(s, addr);
    return i < s->n_recs && s->recs[i].start <= addr ? &s->recs[i] : NULL;
}

const uint8_t *snap_page_src(const mmu_snapshot *s, const snap_rec *rc, uint64_t vpn)
{
    uint64_t off = (vpn << MMU_PAGE_BITS) - rc->start;
    if (rc->kind == RGN_PTR)
        return rc->data + off;
    const snap_ent *e = snap_lookup(s, vpn);
    if (e)
        return e->copy == &snap_zero ? NULL : e->copy->data;
    return rc->host && snap_inplace_has(s, vpn) ? rc->host + off : NULL; /* clean: still in place */
}

size_t snap_inplace_ceil(const mmu_snapshot *s, uint64_t vpn)
{
    size_t lo = 0, hi = s->n_inplace;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->inplace[mid] < vpn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool snap_inplace_has(const mmu_snapshot *s, uint64_t vpn)
{
    size_t i = snap_inplace_ceil(s, vpn);
    return i < s->n_inplace && s->inplace[i] == vpn;
}

/* ---------------------------------------------------------- write tracking */

/* what s needs before vpn changes: 0 nothing, 1 a dirty mark, 2 also a copy */
static int wants(const mmu_snapshot *s, uint64_t vpn)
{
    const snap_ent *e = snap_lookup(s, vpn);
    if (e)
        return !e->dirty;
    const snap_rec *rc = snap_rec_at(s, vpn << MMU_PAGE_BITS);
    return rc && rc->kind == RGN_RAM ? 2 : 0;
}

/* reserves room in every snapshot that wants vpn; tells whether one needs a copy */
static mmu_err reserve_all(mmu_snapstate *st, uint64_t vpn, const mmu_snapshot *skip, bool *need)
{
    *need = false;
    for (size_t i = 0; i < st->n; i++) {
        int w = st->list[i] == skip ? 0 : wants(st->list[i], vpn);
        if (w && snap_reserve(st->list[i]))
            return MMU_ERR_NOMEM;
        *need |= w == 2;
    }
    return MMU_OK;
}

mmu_err snap_note_page(mmu_t *m, uint64_t vpn, const mmu_snapshot *skip)
{
    uint64_t *pte = pt_find(&m->pt, vpn);
    if (!pte || !(*pte & PTE_TRACK))
        return MMU_OK; /* every attached snapshot has it dirty already */
    mmu_snapstate *st = m->snap;
    bool need;
    if (!st) {
        *pte &= ~(uint64_t)PTE_TRACK;
        return MMU_OK;
    }
    if (reserve_all(st, vpn, skip, &need))
        return MMU_ERR_NOMEM;
    page_copy *pc = need ? snap_copy_of(PTE_HOST(*pte)) : NULL;
    if (need && !pc)
        return MMU_ERR_NOMEM;
    for (size_t i = 0; i < st->n; i++)
        if (st->list[i] != skip && wants(st->list[i], vpn))
            snap_put(st->list[i], vpn, pc, true);
    /* the fast path may take over once nobody needs to see the write */
    if (!skip || !wants(skip, vpn))
        *pte &= ~(uint64_t)PTE_TRACK;
    return MMU_OK;
}

/* records over [first, last] can no longer be rebuilt in place */
static void mark_unmapped(const mmu_snapstate *st, uint64_t first, uint64_t last, const mmu_snapshot *skip)
{
    for (size_t i = 0; i < st->n; i++) {
        mmu_snapshot *s = st->list[i];
        for (size_t k = snap_rec_ceil(s, first); s != skip && k < s->n_recs && s->recs[k].start <= last; k++)
            s->recs[k].unmapped = true;
    }
}

typedef struct note_ctx {
    mmu_t              *m;
    const mmu_snapshot *skip;
    mmu_err             err;
} note_ctx;

static uint64_t note_entry(void *ctx, uint64_t vpn, uint64_t pte)
{
    note_ctx *c = ctx;
    if (c->err || !(pte & PTE_TRACK))
        return pte;
    uint64_t *e = pt_find(&c->m->pt, vpn);
    c->err = snap_note_page(c->m, vpn, c->skip);
    return *e; /* it may have lost PTE_TRACK */
}

mmu_err snap_note_range(mmu_t *m, uint64_t first, uint64_t last, const mmu_snapshot *skip)
{
    if (!m->snap || !m->snap->n)
        return MMU_OK;
    mark_unmapped(m->snap, first, last, skip);
    /* only pages with an entry can have changed (or be non-zero) */
    note_ctx c = { m, skip, MMU_OK };
    for (region *r = region_ceil(&m->ri, first); r && r->start <= last && !c.err; r = region_next(&m->ri, r)) {
        if (r->kind != RGN_RAM)
            continue; /* PTR and MMIO pages are never tracked */
        uint64_t a = r->start > first ? r->start : first, b = r->last < last ? r->last : last;
        pt_visit(&m->pt, a >> MMU_PAGE_BITS, ((b - a) >> MMU_PAGE_BITS) + 1, note_entry, &c);
    }
    return c.err;
}

/* ---------------------------------------------------------- core hooks */

mmu_err snap_before_write(mmu_t *m, uint64_t vpn, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        mmu_err err = snap_note_page(m, vpn + i, NULL);
        if (err)
            return err; /* pages done so far stay saved: harmless */
    }
    return MMU_OK;
}

mmu_err snap_before_unmap(mmu_t *m, uint64_t vpn, uint64_t n)
{
    return snap_note_range(m, vpn << MMU_PAGE_BITS, ((vpn + n - 1) << MMU_PAGE_BITS) | PAGE_MASK, NULL);
}
