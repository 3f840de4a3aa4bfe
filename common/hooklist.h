/*
 * hooklist.h - the registry behind the MMU's memory hooks and the CPU's code
 * and syscall hooks: add, delete, and dispatch that tolerates callbacks
 * adding or deleting hooks (themselves included) while it runs.
 *
 * Dispatch protocol: hooklist_enter, then visit entries 0 .. n-1 with n read
 * before the first callback (hooks added meanwhile wait for the next event),
 * copying each entry before calling it (the array may move when a callback
 * adds a hook) and skipping dead ones; then hooklist_leave. A delete during
 * a dispatch only marks the entry dead; the outermost leave compacts.
 */
#ifndef SOFTMMU_HOOKLIST_H
#define SOFTMMU_HOOKLIST_H

#include <softmmu/mmu.h>

#include "compiler.h"

typedef void (*hook_fn_any)(void); /* cast back to the registered type to call */

typedef struct hook_entry {
    mmu_hook_id id;
    unsigned    types; /* what the hook is for: bits defined by the owner */
    hook_fn_any fn;
    void       *user;
    uint64_t    begin, end; /* inclusive; begin > end = everywhere */
    bool        dead;
} hook_entry;

typedef struct hooklist {
    hook_entry *v;
    size_t      n, cap;
    unsigned    depth;   /* > 0 while a dispatch runs */
    bool        dirty;   /* dead entries to compact */
    mmu_hook_id next_id; /* ids are never reused within a list */
} hooklist;

/* Appends e with a fresh id (into *out_id when non-NULL). MMU_ERR_NOMEM
 * leaves the list unchanged. */
mmu_err hooklist_add(hooklist *l, hook_entry e, mmu_hook_id *out_id) MUST_CHECK;
/* Removes the live hook id, copying it to *removed first. MMU_ERR_NOTFOUND
 * when no live hook has that id. */
mmu_err hooklist_del(hooklist *l, mmu_hook_id id, hook_entry *removed) MUST_CHECK;
void    hooklist_free(hooklist *l);

static inline void hooklist_enter(hooklist *l)
{
    l->depth++;
}

void hooklist_compact(hooklist *l);

static inline void hooklist_leave(hooklist *l)
{
    if (--l->depth == 0 && l->dirty)
        hooklist_compact(l);
}

/* Does the hook's range overlap [lo, hi]? */
static inline bool hooklist_covers(const hook_entry *h, uint64_t lo, uint64_t hi)
{
    return h->begin > h->end || (h->begin <= hi && lo <= h->end);
}

#endif
