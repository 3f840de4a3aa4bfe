/*
 * hooks.c - memory hooks: registration, and dispatch to the callbacks whose
 * range overlaps an access. Callbacks may add or delete hooks (even
 * themselves) while a dispatch runs: deleted hooks are only marked dead
 * then, and compacted when the outermost dispatch ends.
 */
#include "mmu_int.h"

static bool overlaps(const hook *h, uint64_t addr, uint64_t last)
{
    return h->begin > h->end || (h->begin <= last && addr <= h->end);
}

bool hooks_cover_page(const mmu_t *m, mmu_access k, uint64_t page)
{
    if (!m->n_access_hooks[k])
        return false;
    for (size_t i = 0; i < m->n_hooks; i++) {
        const hook *h = &m->hooks[i];
        if (!h->dead && (h->types & (1u << k)) && overlaps(h, page, page + PAGE_MASK))
            return true;
    }
    return false;
}

static void compact_hooks(mmu_t *m)
{
    size_t j = 0;
    for (size_t i = 0; i < m->n_hooks; i++)
        if (!m->hooks[i].dead)
            m->hooks[j++] = m->hooks[i];
    m->n_hooks = j;
    m->hooks_dirty = false;
}

/* Runs the live hooks for ev->type whose range overlaps [lo, hi]. With
 * stop_on_true, stops at the first hook that returns true and reports it. */
bool hooks_run(mmu_t *m, const mmu_mem_event *ev, uint64_t lo, uint64_t hi, bool stop_on_true)
{
    size_t n = m->n_hooks; /* hooks added by a callback wait for the next event */
    bool handled = false;
    m->hook_depth++;
    for (size_t i = 0; i < n && !handled; i++) {
        hook h = m->hooks[i]; /* the array may move under the callback */
        if (h.dead || !(h.types & ev->type) || !overlaps(&h, lo, hi))
            continue;
        if (h.fn(m, ev, h.user) && stop_on_true)
            handled = true;
    }
    if (--m->hook_depth == 0 && m->hooks_dirty)
        compact_hooks(m);
    return handled;
}

mmu_err mmu_hook_add(mmu_t *m, unsigned types, mmu_mem_hook_fn fn, void *user, uint64_t begin, uint64_t end,
                     mmu_hook_id *out_id)
{
    if (!m || !fn || types == 0 || (types & ~(unsigned)(MMU_HOOK_MEM_INVALID | 7)))
        return MMU_ERR_ARG;
    hook *grown = sm_grow(m->hooks, &m->cap_hooks, m->n_hooks, sizeof *grown, 8);
    if (!grown)
        return MMU_ERR_NOMEM;
    m->hooks = grown;
    hook *h = &m->hooks[m->n_hooks++];
    *h = (hook){ m->next_hook_id++, types, fn, user, begin, end, false };
    for (unsigned k = 0; k < 3; k++)
        m->n_access_hooks[k] += (types >> k) & 1;
    if (types & 7)
        tlb_flush_all(m); /* hooked pages must leave the fast path */
    if (out_id)
        *out_id = h->id;
    return MMU_OK;
}

mmu_err mmu_hook_del(mmu_t *m, mmu_hook_id id)
{
    if (!m)
        return MMU_ERR_ARG;
    for (size_t i = 0; i < m->n_hooks; i++) {
        hook *h = &m->hooks[i];
        if (h->id != id || h->dead)
            continue;
        h->dead = true;
        for (unsigned k = 0; k < 3; k++)
            m->n_access_hooks[k] -= (h->types >> k) & 1;
        if (m->hook_depth)
            m->hooks_dirty = true;
        else
            compact_hooks(m);
        return MMU_OK;
    }
    return MMU_ERR_NOTFOUND;
}
