/*
 * snapshot.c - mmu_snapshot_save / mmu_snapshot_free, attaching snapshots to
 * an MMU and detaching them when it closes. See snap_int.h for the model;
 * restore lives in snap_restore.c, the file format in snap_file.c.
 *
 * mmu_map_ptr memory is copied at save time, as mmu.h documents: the caller
 * may change its buffer behind the MMU's back, so it cannot be tracked.
 * Restore writes the copy back into the buffer while that same buffer is
 * still mapped over the same range; otherwise it recreates the range as
 * ordinary RAM (the buffer may have been freed since it was unmapped).
 *
 * Threads: a snapshot attached to an MMU is changed by that MMU's writes, so
 * it follows the MMU's rule (one thread at a time). Snapshots of one closed
 * MMU share its RAM and labels through plain refcounts: use them from one
 * thread at a time too.
 */
#include "snap_int.h"

uint64_t snap_rec_pages(const snap_rec *rc)
{
    return ((rc->last - rc->start) >> MMU_PAGE_BITS) + 1;
}

void snap_free_recs(mmu_snapshot *s)
{
    for (size_t i = 0; i < s->n_recs; i++) {
        label_unref(s->recs[i].label);
        sm_free(s->recs[i].data);
    }
    sm_free(s->recs);
    s->recs = NULL;
    s->n_recs = 0;
}

/* ------------------------------------------------------------ attachment */

mmu_err snap_state_reserve(mmu_t *m)
{
    mmu_snapstate *st = m->snap;
    if (!st) {
        st = sm_calloc(1, sizeof *st);
        snap_arena *a = st ? sm_calloc(1, sizeof *a) : NULL;
        if (!a) {
            sm_free(st);
            return MMU_ERR_NOMEM;
        }
        st->arena = a;
        m->snap = st; /* with nothing attached it only clears PTE_TRACK lazily */
    }
    mmu_snapshot **l = sm_grow(st->list, &st->cap, st->n, sizeof *l, 4);
    if (!l)
        return MMU_ERR_NOMEM;
    st->list = l;
    return MMU_OK;
}

bool snap_attached(const mmu_t *m)
{
    return m->snap && m->snap->n;
}

void snap_attach(mmu_t *m, mmu_snapshot *s)
{
    m->snap->list[m->snap->n++] = s;
    s->mmu = m;
}

/* forgets which pages changed: only meaningful while attached */
static void clear_dirty(mmu_snapshot *s)
{
    for (size_t i = 0; i < s->n_dirty; i++)
        snap_lookup(s, s->dirty[i])->dirty = false;
    s->n_dirty = 0;
}

static void detach(mmu_snapshot *s)
{
    mmu_snapstate *st = s->mmu->snap;
    for (size_t i = 0; i < st->n; i++) {
        if (st->list[i] == s) {
            st->list[i] = st->list[--st->n];
            break;
        }
    }
    s->mmu = NULL; /* PTE_TRACK bits it leaves are cleared lazily */
    clear_dirty(s);
}

/* ----------------------------------------------------------------- arena */

void snap_arena_unref(snap_arena *a)
{
    if (!a || --a->refs)
        return;
    while (a->list) {
        region *r = a->list;
        a->list = r->link;
        ram_free(r->host, r->last - r->start + 1);
        sm_free(r);
    }
    sm_free(a);
}

/* does a RAM record of an attached snapshot overlap r? */
static bool needed(const mmu_snapstate *st, const region *r)
{
    for (size_t i = 0; i < st->n; i++) {
        const mmu_snapshot *s = st->list[i];
        for (size_t k = snap_rec_ceil(s, r->start); k < s->n_recs && s->recs[k].start <= r->last; k++)
            if (s->recs[k].kind == RGN_RAM)
                return true;
    }
    return false;
}

/* moves the closing MMU's RAM that snapshots still read into the arena */
static void take_ram(mmu_t *m, snap_arena *a)
{
    region *r = region_first(&m->ri);
    while (r) {
        region *next = region_next(&m->ri, r);
        if (r->kind == RGN_RAM && needed(m->snap, r)) {
            region_remove(&m->ri, r);
            map_clear_pages(m, r->start >> MMU_PAGE_BITS, ((r->last - r->start) >> MMU_PAGE_BITS) + 1);
            label_unref(r->label); /* the arena keeps memory, not labels */
            r->link = a->list;
            a->list = r;
        }
        r = next;
    }
}

/* Clean pages stay where they are: the snapshots take over the host memory
 * holding them, so closing needs no allocation and copies nothing. */
void snap_detach_all(mmu_t *m)
{
    mmu_snapstate *st = m->snap;
    if (!st)
        return;
    snap_arena *a = st->arena;
    take_ram(m, a);
    for (size_t i = 0; i < st->n; i++) {
        mmu_snapshot *s = st->list[i];
        s->mmu = NULL;
        clear_dirty(s);
        if (a->list) {
            s->arena = a;
            a->refs++;
        }
    }
    if (!a->refs)
        sm_free(a);
    sm_free(st->list);
    sm_free(st);
    m->snap = NULL;
}

/* ------------------------------------------------------------------ save */

static mmu_err capture(const region *r, snap_rec *rc)
{
    *rc = (snap_rec){ .start = r->start, .last = r->last, .perms = r->perms, .kind = r->kind, .host = region_host(r) };
    if (r->kind == RGN_MMIO)
        rc->dev = (mmio_dev){ 0, r->dev->rd, r->dev->wr, r->dev->user, r->dev->base };
    if (r->kind == RGN_PTR) {
        uint64_t size = r->last - r->start + 1;
        if (size > SIZE_MAX || !(rc->data = sm_malloc((size_t)size)))
            return MMU_ERR_NOMEM;
        memcpy(rc->data, r->host, (size_t)size);
    }
    rc->label = label_ref(r->label);
    return MMU_OK;
}

static mmu_err capture_all(mmu_t *m, mmu_snapshot *s)
{
    s->recs = sm_calloc(m->ri.count ? m->ri.count : 1, sizeof *s->recs);
    if (!s->recs)
        return MMU_ERR_NOMEM;
    for (region *r = region_first(&m->ri); r; r = region_next(&m->ri, r)) {
        mmu_err err = capture(r, &s->recs[s->n_recs]);
        if (err)
            return err;
        s->n_recs++;
    }
    return MMU_OK;
}

/* The RAM pages with an entry are the only ones that may hold data (map_pte):
 * they are listed in s->inplace and get PTE_TRACK; the others, zeros, get it
 * when their entry is made (map.c page_pte). */
static uint64_t count_entry(void *n, uint64_t vpn, uint64_t pte)
{
    (void)vpn;
    (*(size_t *)n)++;
    return pte;
}

static uint64_t track_entry(void *ctx, uint64_t vpn, uint64_t pte)
{
    mmu_snapshot *s = ctx;
    s->inplace[s->n_inplace++] = vpn;
    return pte | PTE_TRACK;
}

static void visit_ram(mmu_t *m, const mmu_snapshot *s, pt_visit_fn fn, void *ctx)
{
    for (size_t i = 0; i < s->n_recs; i++) {
        const snap_rec *rc = &s->recs[i];
        if (rc->kind == RGN_RAM)
            pt_visit(&m->pt, rc->start >> MMU_PAGE_BITS, snap_rec_pages(rc), fn, ctx);
    }
}

static mmu_err reserve_inplace(mmu_t *m, mmu_snapshot *s)
{
    size_t n = 0;
    visit_ram(m, s, count_entry, &n);
    s->inplace = sm_malloc((n ? n : 1) * sizeof *s->inplace);
    return s->inplace ? MMU_OK : MMU_ERR_NOMEM;
}

mmu_err mmu_snapshot_save(mmu_t *m, mmu_snapshot **out)
{
    if (!m || !out)
        return MMU_ERR_ARG;
    mmu_snapshot *s = sm_calloc(1, sizeof *s);
    if (!s)
        return MMU_ERR_NOMEM;
    mmu_err err = capture_all(m, s);
    if (!err)
        err = reserve_inplace(m, s);
    if (!err)
        err = snap_state_reserve(m);
    if (err) {
        snap_free_recs(s);
        sm_free(s->inplace);
        sm_free(s);
        return err;
    }
    snap_attach(m, s);
    visit_ram(m, s, track_entry, s); /* pt_visit goes in address order: sorted */
    tlb_flush_all(m); /* drop the write tags of the pages now tracked */
    *out = s;
    return MMU_OK;
}

void mmu_snapshot_free(mmu_snapshot *s)
{
    if (!s)
        return;
    if (s->mmu)
        detach(s);
    for (size_t i = 0; i < s->tab_cap; i++)
        snap_copy_unref(s->tab[i].copy);
    sm_free(s->tab);
    sm_free(s->dirty);
    sm_free(s->inplace);
    snap_free_recs(s);
    snap_arena_unref(s->arena);
    sm_free(s);
}

/* ------------------------------------------------------------------ info */

mmu_err mmu_snapshot_info(const mmu_snapshot *s, mmu_snapshot_summary *out)
{
    if (!s || !out)
        return MMU_ERR_ARG;
    mmu_snapshot_summary r = { .regions = s->n_recs };
    r.bytes = sizeof *s + s->n_recs * sizeof *s->recs + s->tab_cap * sizeof *s->tab + s->cap_dirty * sizeof *s->dirty
              + s->n_inplace * sizeof *s->inplace;
    for (size_t i = 0; i < s->n_recs; i++) {
        const snap_rec *rc = &s->recs[i];
        uint64_t size = rc->last - rc->start + 1; /* 0: the whole 64-bit space */
        r.span = !size || size > UINT64_MAX - r.span ? UINT64_MAX : r.span + size;
        if (rc->kind == RGN_PTR) {
            r.pages_copied += snap_rec_pages(rc);
            r.bytes += size;
        }
    }
    for (size_t i = 0; i < s->tab_cap; i++) {
        if (s->tab[i].copy && s->tab[i].copy != &snap_zero) {
            r.pages_copied++;
            r.bytes += sizeof(page_copy);
        }
    }
    for (size_t i = 0; i < s->n_inplace; i++)
        r.pages_in_place += !snap_lookup(s, s->inplace[i]);
    *out = r;
    return MMU_OK;
}
