/*
 * hooklist.c - the hook registry shared by the MMU and the CPU.
 */
#include "hooklist.h"

#include "alloc.h"

mmu_err hooklist_add(hooklist *l, hook_entry e, mmu_hook_id *out_id)
{
    hook_entry *grown = sm_grow(l->v, &l->cap, l->n, sizeof *grown, 8);
    if (!grown)
        return MMU_ERR_NOMEM;
    l->v = grown;
    e.id = ++l->next_id;
    e.dead = false;
    l->v[l->n++] = e;
    if (out_id)
        *out_id = e.id;
    return MMU_OK;
}

void hooklist_compact(hooklist *l)
{
    size_t j = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!l->v[i].dead)
            l->v[j++] = l->v[i];
    l->n = j;
    l->dirty = false;
}

mmu_err hooklist_del(hooklist *l, mmu_hook_id id, hook_entry *removed)
{
    for (size_t i = 0; i < l->n; i++) {
        hook_entry *h = &l->v[i];
        if (h->id != id || h->dead)
            continue;
        h->dead = true;
        *removed = *h;
        if (l->depth)
            l->dirty = true; /* a dispatch is walking the array */
        else
            hooklist_compact(l);
        return MMU_OK;
    }
    return MMU_ERR_NOTFOUND;
}

void hooklist_free(hooklist *l)
{
    sm_free(l->v);
    *l = (hooklist){ 0 };
}
