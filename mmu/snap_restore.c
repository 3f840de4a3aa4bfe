/*
 * snap_restore.c - mmu_snapshot_restore: make the MMU exactly as at save.
 *
 * Restoring a snapshot attached to the same MMU is incremental. Each saved
 * region whose range is still covered by live regions of the same kind over
 * contiguous host memory (the usual case: the very same region, or pieces
 * of it split by protect/set_label) is "reused": cut out and merged back in
 * place, its perms and label put back; only the pages dirty since the save
 * are copied back. Every other saved region is built anew, and live memory
 * outside the reused regions is unmapped. Cost: O(regions + dirty pages +
 * pages stored for the regions built anew): a region built anew gets fresh
 * zeroed memory and only the pages the snapshot holds data for.
 *
 * Any other restore (a snapshot read from a file, detached by mmu_close, or
 * attached to another MMU) rebuilds every region. A detached snapshot then
 * attaches to the MMU, so its next restore is incremental.
 *
 * All-or-nothing: everything that can fail (new regions with their memory
 * filled, page-table leaves, split nodes) is prepared first; the commit
 * cannot fail. Telling other attached snapshots what will change may happen
 * before a failure: that only saves pages they would save anyway.
 */
#include "snap_int.h"

#include <assert.h>
#include <stddef.h>

typedef struct plan {
    mmu_t        *m;
    mmu_snapshot *s;
    bool          incr;     /* s is attached to m: repair only what changed */
    bool          attach;   /* s is detached: attach it to m at the end */
    bool         *reuse;    /* per record: rebuilt from the live regions */
    region      **made;     /* per record not reused: its new region */
    region       *spares;   /* nodes for splits, chained by ->link */
    size_t        n_inserts; /* index inserts the commit makes (reserved) */
    uint64_t     *filled;   /* pages of made regions given data: their leaves are pinned */
    size_t        n_filled, cap_filled;
    bool          reshaped; /* the map changed: flush the whole TLB */
} plan;

static uint64_t n_pages(const region *r)
{
    return ((r->last - r->start) >> MMU_PAGE_BITS) + 1;
}

/* ------------------------------------------------------- deciding reuse */

static bool same_kind(const region *r, const snap_rec *rc)
{
    if (r->kind != rc->kind)
        return false;
    if (r->kind != RGN_MMIO)
        return true;
    const mmio_dev *d = r->dev;
    return d->rd == rc->dev.rd && d->wr == rc->dev.wr && d->user == rc->dev.user && d->base == rc->dev.base;
}

/* Can rc be rebuilt from the live regions over its range? They must cover
 * it without a hole, be of its kind and (RAM, PTR) lie contiguously in host
 * memory; RAM must also be the one host allocation it was at save (no page
 * unmapped since), as ram_free must not span two allocations.
 * Adds to *splits the cuts needed at its two ends. */
static bool reusable(const mmu_t *m, const snap_rec *rc, size_t *splits)
{
    if (rc->kind == RGN_RAM && rc->unmapped)
        return false; /* merging distinct host allocations would free them wrongly */
    region *r = region_find(&m->ri, rc->start);
    if (!r || !same_kind(r, rc))
        return false;
    uint8_t *host = region_host(r) ? r->host + (rc->start - r->start) : NULL;
    if (rc->kind == RGN_PTR && host != rc->host)
        return false; /* not the caller's buffer saved */
    size_t cuts = r->start < rc->start;
    while (r->last < rc->last) {
        region *next = region_next(&m->ri, r);
        if (!next || next->start != r->last + 1 || !same_kind(next, rc))
            return false;
        if (host && next->host != host + (next->start - rc->start))
            return false;
        r = next;
    }
    *splits += cuts + (r->last > rc->last);
    return true;
}

static mmu_err plan_reuse(plan *p)
{
    size_t splits = 0;
    for (size_t i = 0; p->incr && i < p->s->n_recs; i++)
        p->reuse[i] = reusable(p->m, &p->s->recs[i], &splits);
    for (size_t i = 0; i < splits; i++) {
        region *r = sm_malloc(sizeof *r);
        if (!r)
            return MMU_ERR_NOMEM;
        r->link = p->spares;
        p->spares = r;
    }
    p->n_inserts += splits;
    return MMU_OK;
}

/* End of the piece of [a, last] starting at a that reused records cover
 * wholly (*covered) or not at all. *i is a cursor over the records. */
static uint64_t segment(const plan *p, size_t *i, uint64_t a, uint64_t last, bool *covered)
{
    const snap_rec *rc = p->s->recs;
    size_t n = p->s->n_recs;
    while (*i < n && (!p->reuse[*i] || rc[*i].last < a))
        (*i)++;
    *covered = *i < n && rc[*i].start <= a;
    uint64_t end = *covered ? rc[*i].last : *i < n && rc[*i].start <= last ? rc[*i].start - 1 : last;
    return end < last ? end : last;
}

/* ------------------------------------------------ telling other snapshots */

static mmu_err note_doomed(const plan *p, const mmu_snapshot *skip)
{
    size_t i = 0;
    for (region *r = region_first(&p->m->ri); r; r = region_next(&p->m->ri, r)) {
        for (uint64_t a = r->start;;) {
            bool covered;
            uint64_t end = segment(p, &i, a, r->last, &covered);
            if (!covered && snap_note_range(p->m, a, end, skip))
                return MMU_ERR_NOMEM;
            if (end == r->last)
                break;
            a = end + 1;
        }
    }
    return MMU_OK;
}

/* other snapshots of m save what restore is about to unmap or overwrite */
static mmu_err notify(const plan *p)
{
    mmu_snapstate *st = p->m->snap;
    if (!st || st->n == (size_t)p->incr)
        return MMU_OK; /* nobody else to tell */
    const mmu_snapshot *skip = p->incr ? p->s : NULL;
    if (note_doomed(p, skip))
        return MMU_ERR_NOMEM;
    for (size_t k = 0; p->incr && k < p->s->n_dirty; k++)
        if (snap_note_page(p->m, p->s->dirty[k], skip))
            return MMU_ERR_NOMEM;
    return MMU_OK;
}

/* ----------------------------------------------------- building regions */

static mmu_err alloc_ram(region *r, const snap_rec *rc)
{
    r->host = ram_alloc(rc->last - rc->start + 1);
    return r->host ? MMU_OK : MMU_ERR_NOMEM; /* new memory reads as zeros */
}

/* Copies a save-time page into its made region unless it is zeros. The page
 * will need an entry (a RAM page holding data has one, see map_pte): its
 * leaf is pinned now so that making the entry at commit cannot fail. */
static mmu_err fill_page(plan *p, region *r, uint64_t vpn, const uint8_t *src)
{
    if (!src || snap_page_is_zero(src))
        return MMU_OK;
    uint64_t *v = sm_grow(p->filled, &p->cap_filled, p->n_filled, sizeof *v, 64);
    if (!v)
        return MMU_ERR_NOMEM;
    p->filled = v;
    if (pt_pin(&p->m->pt, vpn))
        return MMU_ERR_NOMEM;
    p->filled[p->n_filled++] = vpn;
    memcpy(r->host + ((vpn << MMU_PAGE_BITS) - r->start), src, MMU_PAGE_SIZE);
    return MMU_OK;
}

/* index of the made RAM record holding vpn, or SIZE_MAX */
static size_t made_ram(const plan *p, uint64_t vpn)
{
    const mmu_snapshot *s = p->s;
    size_t i = snap_rec_ceil(s, vpn << MMU_PAGE_BITS);
    if (i == s->n_recs || s->recs[i].start > vpn << MMU_PAGE_BITS || p->reuse[i] || s->recs[i].kind != RGN_RAM)
        return SIZE_MAX;
    return i;
}

/* Fills the made RAM regions with the only pages that may hold data: the
 * table's copies and the pages listed in place (snap_int.h). O(pages
 * stored), whatever the regions' sizes. */
static mmu_err fill_made(plan *p)
{
    const mmu_snapshot *s = p->s;
    bool made_ram_recs = false;
    for (size_t i = 0; i < s->n_recs; i++) {
        const snap_rec *rc = &s->recs[i];
        if (p->reuse[i] || rc->kind != RGN_RAM)
            continue;
        made_ram_recs = true;
        uint64_t last = rc->last >> MMU_PAGE_BITS;
        for (size_t k = snap_inplace_ceil(s, rc->start >> MMU_PAGE_BITS); k < s->n_inplace && s->inplace[k] <= last; k++) {
            uint64_t vpn = s->inplace[k];
            if (!snap_lookup(s, vpn) && fill_page(p, p->made[i], vpn, snap_page_src(s, rc, vpn)))
                return MMU_ERR_NOMEM;
        }
    }
    for (size_t i = 0; i < s->n_recs; i++) { /* map_ptr memory, copied at save, comes back as RAM */
        const snap_rec *rc = &s->recs[i];
        for (uint64_t a = rc->start; !p->reuse[i] && rc->kind == RGN_PTR; a += MMU_PAGE_SIZE) {
            if (fill_page(p, p->made[i], a >> MMU_PAGE_BITS, rc->data + (a - rc->start)))
                return MMU_ERR_NOMEM;
            if (a + PAGE_MASK == rc->last)
                break;
        }
    }
    for (size_t k = 0; made_ram_recs && k < s->tab_cap; k++) {
        const snap_ent *e = &s->tab[k];
        size_t i = e->copy ? made_ram(p, e->vpn) : SIZE_MAX;
        if (i != SIZE_MAX && fill_page(p, p->made[i], e->vpn, e->copy == &snap_zero ? NULL : e->copy->data))
            return MMU_ERR_NOMEM;
    }
    return MMU_OK;
}

/* the filled pages get their entries, tracked (extra PTE_TRACK is harmless) */
static void enter_filled(plan *p)
{
    for (size_t k = 0; k < p->n_filled; k++) {
        uint64_t *e = pt_install(&p->m->pt, p->filled[k], map_pte(p->m, p->filled[k]) | PTE_TRACK);
        assert(e); /* the leaf is pinned */
        (void)e;
        pt_unpin(&p->m->pt, p->filled[k]);
    }
    p->n_filled = 0;
}

static mmu_err make(const plan *p, const snap_rec *rc, region **out)
{
    bool mmio = rc->kind == RGN_MMIO;
    /* labels are shared only within one MMU (refcounts are not atomic) */
    struct label *l = p->incr ? label_ref(rc->label) : label_new(rc->label->s, "[mapped]");
    region *r = l ? region_new(rc->start, rc->last, rc->perms, mmio ? RGN_MMIO : RGN_RAM, l) : NULL;
    if (!r) {
        label_unref(l);
        return MMU_ERR_NOMEM;
    }
    mmu_err err = MMU_OK;
    if (mmio && !(r->dev = sm_malloc(sizeof *r->dev)))
        err = MMU_ERR_NOMEM;
    else if (mmio)
        *r->dev = (mmio_dev){ 1, rc->dev.rd, rc->dev.wr, rc->dev.user, rc->dev.base };
    else
        err = alloc_ram(r, rc);
    if (err)
        region_destroy(r, true);
    else
        *out = r;
    return err;
}

static mmu_err make_all(plan *p)
{
    for (size_t i = 0; i < p->s->n_recs; i++) {
        if (p->reuse[i])
            continue;
        if (make(p, &p->s->recs[i], &p->made[i]))
            return MMU_ERR_NOMEM;
        p->n_inserts++;
    }
    return region_reserve(&p->m->ri, p->n_inserts) ? MMU_OK : MMU_ERR_NOMEM;
}

/* ---------------------------------------------------------------- commit */

/* makes addr a region boundary with the next spare node */
static void split_at(plan *p, uint64_t addr)
{
    region *node = p->spares, *next = node ? node->link : NULL;
    if (node && region_split(p->m, addr, node)) {
        p->spares = next;
        p->reshaped = true;
    }
}

static void carve_reused(plan *p)
{
    for (size_t i = 0; i < p->s->n_recs; i++) {
        if (!p->reuse[i])
            continue;
        split_at(p, p->s->recs[i].start);
        if (p->s->recs[i].last != UINT64_MAX)
            split_at(p, p->s->recs[i].last + 1);
    }
}

/* after carving, each live region lies wholly inside a reused record or
 * wholly outside them all; the latter go */
static void drop_doomed(plan *p)
{
    size_t i = 0;
    region *r = region_first(&p->m->ri);
    while (r) {
        region *next = region_next(&p->m->ri, r);
        bool covered;
        segment(p, &i, r->start, r->last, &covered);
        if (!covered) {
            region_remove(&p->m->ri, r);
            map_clear_pages(p->m, r->start >> MMU_PAGE_BITS, n_pages(r));
            region_destroy(r, true);
            p->reshaped = true;
        }
        r = next;
    }
}

static void set_pte_perms(plan *p, region *r, unsigned perms)
{
    if (r->perms == perms)
        return;
    map_set_perms(p->m, r, perms);
    p->reshaped = true;
}

static bool same_label(const struct label *a, const struct label *b)
{
    return a == b || (a->len == b->len && memcmp(a->s, b->s, a->len) == 0);
}

/* the pieces over rc become one region with rc's perms and label */
static void merge(plan *p, snap_rec *rc)
{
    region_index *ri = &p->m->ri;
    region *first = region_find(ri, rc->start), *r;
    while ((r = region_next(ri, first)) && r->start <= rc->last) {
        set_pte_perms(p, r, rc->perms);
        region_remove(ri, r);
        region_destroy(r, false); /* its memory is first's now */
    }
    set_pte_perms(p, first, rc->perms);
    if (first->last != rc->last)
        region_resize(ri, first, rc->last);
    first->perms = rc->perms;
    if (!same_label(first->label, rc->label))
        region_set_label(ri, first, rc->label);
    if (rc->kind == RGN_RAM)
        rc->host = first->host; /* a rebuilt region may sit in new memory */
    else if (rc->kind == RGN_PTR)
        memcpy(rc->host, rc->data, (size_t)(rc->last - rc->start + 1));
}

static void insert(plan *p, size_t i)
{
    region *r = p->made[i];
    p->made[i] = NULL;
    mmu_err err = map_insert(p->m, r);
    assert(err == MMU_OK); /* inserting into the index cannot fail */
    (void)err;
    if ((p->incr || p->attach) && p->s->recs[i].kind == RGN_RAM)
        p->s->recs[i].host = r->host; /* its filled pages are clean for s again */
    p->reshaped = true;
}

#define BATCH 16

/* copies the pages written since save back; they are tracked again. In
 * batches: look every page up and prefetch both ends first, so the cache
 * misses of the batch overlap instead of queueing behind each memcpy */
static void put_batch(plan *p, const uint64_t *vpn, size_t n)
{
    snap_ent *e[BATCH];
    uint64_t *pte[BATCH];
    for (size_t k = 0; k < n; k++) {
        e[k] = snap_lookup(p->s, vpn[k]);
        pte[k] = pt_find(&p->m->pt, vpn[k]);
        if (!pte[k] || !(*pte[k] & PTE_VALID))
            pte[k] = NULL; /* zeros in a region built anew: already as saved */
        for (unsigned off = 0; pte[k] && off < MMU_PAGE_SIZE; off += 512) {
            __builtin_prefetch(e[k]->copy->data + off, 0);
            __builtin_prefetch(PTE_HOST(*pte[k]) + off, 1);
        }
    }
    for (size_t k = 0; k < n; k++) {
        e[k]->dirty = false;
        if (!pte[k])
            continue;
        memcpy(PTE_HOST(*pte[k]), e[k]->copy->data, MMU_PAGE_SIZE);
        *pte[k] |= PTE_TRACK;
        tlb_flush_range(p->m, vpn[k], 1);
    }
}

static void put_dirty(plan *p)
{
    mmu_snapshot *s = p->s;
    for (size_t k = 0; k < s->n_dirty; k += BATCH)
        put_batch(p, s->dirty + k, s->n_dirty - k < BATCH ? s->n_dirty - k : BATCH);
    s->n_dirty = 0;
}

static void commit(plan *p)
{
    carve_reused(p);
    drop_doomed(p);
    for (size_t i = 0; i < p->s->n_recs; i++) {
        if (p->reuse[i])
            merge(p, &p->s->recs[i]);
        else
            insert(p, i);
    }
    enter_filled(p);
    if (p->incr)
        put_dirty(p);
    for (size_t i = 0; (p->incr || p->attach) && i < p->s->n_recs; i++)
        p->s->recs[i].unmapped = false;
    if (p->attach) {
        snap_attach(p->m, p->s);
        snap_arena_unref(p->s->arena); /* its clean pages live in m now */
        p->s->arena = NULL;
    }
    access_code_changed(p->m);
    if (p->reshaped)
        tlb_flush_all(p->m);
}

/* --------------------------------------------------------------- driver */

static void plan_free(plan *p)
{
    for (size_t i = 0; p->made && i < p->s->n_recs; i++) {
        if (p->made[i])
            region_destroy(p->made[i], true);
    }
    while (p->spares) {
        region *r = p->spares;
        p->spares = r->link;
        sm_free(r);
    }
    for (size_t k = 0; k < p->n_filled; k++)
        pt_unpin(&p->m->pt, p->filled[k]);
    sm_free(p->filled);
    sm_free(p->reuse);
    sm_free(p->made);
}

static bool fits(const mmu_t *m, const mmu_snapshot *s)
{
    return !s->n_recs || s->recs[s->n_recs - 1].last <= m->space_last;
}

mmu_err mmu_snapshot_restore(mmu_t *m, const mmu_snapshot *cs)
{
    if (!m || !cs || !fits(m, cs))
        return MMU_ERR_ARG;
    mmu_snapshot *s = (mmu_snapshot *)(uintptr_t)cs; /* its tracking state changes */
    plan p = { .m = m, .s = s, .incr = s->mmu == m, .attach = !s->mmu };
    size_t n = s->n_recs ? s->n_recs : 1;
    mmu_err err = MMU_ERR_NOMEM;
    if ((p.reuse = sm_calloc(n, sizeof *p.reuse)) && (p.made = sm_calloc(n, sizeof *p.made)))
        err = plan_reuse(&p);
    if (!err)
        err = notify(&p);
    if (!err)
        err = make_all(&p);
    if (!err)
        err = fill_made(&p);
    if (!err && p.attach)
        err = snap_state_reserve(m);
    if (!err)
        commit(&p);
    plan_free(&p);
    region_trim(&m->ri); /* the spares for a big rebuild can be many */
    return err;
}
