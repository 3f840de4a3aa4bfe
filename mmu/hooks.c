/*
 * hooks.c - memory hooks: registration, and dispatch to the callbacks whose
 * range overlaps an access. The registry (common/hooklist.h) lets callbacks
 * add or delete hooks, themselves included, while a dispatch runs.
 */
#include "mmu_int.h"

bool hooks_cover_page(const mmu_t *m, mmu_access k, uint64_t page)
{
    if (!m->n_access_hooks[k])
        return false;
    for (size_t i = 0; i < m->hooks.n; i++) {
        const hook_entry *h = &m->hooks.v[i];
        if (!h->dead && (h->types & (1u << k)) && hooklist_covers(h, page, page + PAGE_MASK))
            return true;
    }
    return false;
}

bool hooks_run(mmu_t *m, const mmu_mem_event *ev, uint64_t lo, uint64_t hi, bool stop_on_true)
{
    size_t n = m->hooks.n; /* hooks added by a callback wait for the next event */
    bool handled = false;
    hooklist_enter(&m->hooks);
    for (size_t i = 0; i < n && !handled; i++) {
        hook_entry h = m->hooks.v[i]; /* the array may move under the callback */
        if (h.dead || !(h.types & ev->type) || !hooklist_covers(&h, lo, hi))
            continue;
        if (((mmu_mem_hook_fn)h.fn)(m, ev, h.user) && stop_on_true)
            handled = true;
    }
    hooklist_leave(&m->hooks);
    return handled;
}

/* access hooks per kind: a kind with none keeps the quick miss path */
static void count_access_hooks(mmu_t *m, unsigned types, int delta)
{
    for (unsigned k = 0; k < 3; k++)
        m->n_access_hooks[k] += (unsigned)(delta * (int)((types >> k) & 1));
}

mmu_err mmu_hook_add(mmu_t *m, unsigned types, mmu_mem_hook_fn fn, void *user, uint64_t begin, uint64_t end,
                     mmu_hook_id *out_id)
{
    if (!m || !fn || types == 0 || (types & ~(unsigned)(MMU_HOOK_MEM_INVALID | 7)))
        return MMU_ERR_ARG;
    hook_entry e = { .types = types, .fn = (hook_fn_any)fn, .user = user, .begin = begin, .end = end };
    mmu_err err = hooklist_add(&m->hooks, e, out_id);
    if (err)
        return err;
    count_access_hooks(m, types, 1);
    if (types & 7)
        tlb_flush_all(m); /* hooked pages must leave the fast path */
    return MMU_OK;
}

mmu_err mmu_hook_del(mmu_t *m, mmu_hook_id id)
{
    if (!m)
        return MMU_ERR_ARG;
    hook_entry gone;
    mmu_err err = hooklist_del(&m->hooks, id, &gone);
    if (!err)
        count_access_hooks(m, gone.types, -1);
    return err;
}
