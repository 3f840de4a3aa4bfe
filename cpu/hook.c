/*
 * hook.c - the CPU's code and syscall hooks, on the registry the MMU's
 * memory hooks use (common/hooklist.h): callbacks may add or delete hooks,
 * themselves included, while they run.
 */
#include "cpu_int.h"

/* a single code hook is called straight from the run loop */
static void find_solo(cpu_t *c)
{
    c->solo.fn = NULL;
    if (c->n_code_hooks != 1)
        return;
    for (size_t i = 0; i < c->hooks.n; i++)
        if (!c->hooks.v[i].dead && c->hooks.v[i].types == CHOOK_CODE)
            c->solo = c->hooks.v[i];
}

/* hooks added by a callback wait for the next instruction */
void hook_run_code(cpu_t *c, const dinsn *d)
{
    size_t n = c->hooks.n;
    hooklist_enter(&c->hooks);
    for (size_t i = 0; i < n && !(c->attn & ATTN_STOP); i++) {
        hook_entry h = c->hooks.v[i]; /* the array may move under the callback */
        if (!h.dead && h.types == CHOOK_CODE && hooklist_covers(&h, d->addr, d->addr))
            ((cpu_code_hook_fn)h.fn)(c, d->addr, d->len, h.user);
    }
    hooklist_leave(&c->hooks);
}

bool hook_run_syscall(cpu_t *c)
{
    size_t n = c->hooks.n;
    bool handled = false;
    hooklist_enter(&c->hooks);
    for (size_t i = 0; i < n && !handled; i++) {
        hook_entry h = c->hooks.v[i];
        if (!h.dead && h.types == CHOOK_SYSCALL)
            handled = ((cpu_syscall_hook_fn)h.fn)(c, h.user);
    }
    hooklist_leave(&c->hooks);
    return handled;
}

static mmu_err hook_add(cpu_t *c, hook_entry e, mmu_hook_id *out_id)
{
    mmu_err err = hooklist_add(&c->hooks, e, out_id);
    if (err)
        return err;
    if (e.types == CHOOK_CODE && c->n_code_hooks++ == 0)
        c->attn |= ATTN_CODE_HOOKS;
    find_solo(c);
    return MMU_OK;
}

mmu_err cpu_hook_code(cpu_t *c, cpu_code_hook_fn fn, void *user, uint64_t begin, uint64_t end,
                      mmu_hook_id *out_id)
{
    if (!c || !fn)
        return MMU_ERR_ARG;
    hook_entry e = { .types = CHOOK_CODE, .fn = (hook_fn_any)fn, .user = user, .begin = begin, .end = end };
    return hook_add(c, e, out_id);
}

mmu_err cpu_hook_syscall(cpu_t *c, cpu_syscall_hook_fn fn, void *user, mmu_hook_id *out_id)
{
    if (!c || !fn)
        return MMU_ERR_ARG;
    hook_entry e = { .types = CHOOK_SYSCALL, .fn = (hook_fn_any)fn, .user = user, .begin = 1, .end = 0 };
    return hook_add(c, e, out_id);
}

mmu_err cpu_hook_del(cpu_t *c, mmu_hook_id id)
{
    if (!c)
        return MMU_ERR_ARG;
    hook_entry gone;
    mmu_err err = hooklist_del(&c->hooks, id, &gone);
    if (err)
        return err;
    if (gone.types == CHOOK_CODE && --c->n_code_hooks == 0)
        c->attn &= ~(unsigned)ATTN_CODE_HOOKS;
    find_solo(c);
    return MMU_OK;
}
