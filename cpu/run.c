/*
 * run.c - the run loop, exits and faults, code and syscall hooks.
 *
 * Before each instruction the loop checks, in this order: the code
 * generation (a change drops the decode cache), `until`, the instruction
 * count, the fetch (a TLB hit on the instruction's page proves it allowed
 * and unhooked; otherwise mmu_fetch runs for real), then - only when
 * c->attn is set - cpu_stop and the code hooks. RIP is stored before the
 * handler runs so that hooks called from inside it see the instruction.
 */
#include "exec.h"
#include "alloc.h"

/* ------------------------------------------------------------ lazy flags */

uint64_t flags_get(const cpu_t *c)
{
    return (uint64_t)get_cf(c) | (uint64_t)get_pf(c) << 2 | (uint64_t)get_af(c) << 4
           | (uint64_t)get_zf(c) << 6 | (uint64_t)get_sf(c) << 7 | (uint64_t)get_of(c) << 11;
}

/* a result of 0 or 0x100 gives ZF; the invert bits give SF and PF */
void flags_set(cpu_t *c, uint64_t v)
{
    uint64_t cf = v & 1, pf = (v >> 2) & 1, af = (v >> 4) & 1, zf = (v >> 6) & 1, sf = (v >> 7) & 1,
             of = (v >> 11) & 1;
    c->lf_res = zf ? 0 : 0x100;
    c->lf_aux = cf << 63 | (cf ^ of) << 62 | af << LF_AF | sf << LF_SFD | (pf ^ 1) << LF_PFD;
}

/* ---------------------------------------------------------- exits, faults */

dinsn *exec_exit(cpu_t *c, uint64_t rip, cpu_exit why)
{
    c->regs[CPU_RIP] = rip;
    c->exit_req = (unsigned)why + 1;
    return NULL;
}

/* may the access kind of err touch page-or-byte a? */
static bool byte_ok(mmu_t *m, mmu_err err, uint64_t a, const mmu_region *rs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a < rs[i].start || a >= rs[i].end)
            continue;
        unsigned need = err == MMU_ERR_READ_PROT ? MMU_PROT_READ : err == MMU_ERR_WRITE_PROT ? MMU_PROT_WRITE
                                                                                              : MMU_PROT_EXEC;
        bool unmapped = err == MMU_ERR_READ_UNMAPPED || err == MMU_ERR_WRITE_UNMAPPED
                        || err == MMU_ERR_FETCH_UNMAPPED;
        return unmapped || ((rs[i].perms & need) && !(need == MMU_PROT_EXEC && rs[i].mmio));
    }
    (void)m;
    return false;
}

/* The first byte of [addr, addr+size) the failed access may not touch:
 * the MMU reports only the kind, so look at the map (a rare path). */
static uint64_t first_bad(mmu_t *m, mmu_err err, uint64_t addr, unsigned size)
{
    size_t n = mmu_regions(m, NULL, 0);
    mmu_region *rs = n ? sm_malloc(n * sizeof *rs) : NULL;
    if (n && !rs)
        return addr;
    n = mmu_regions(m, rs, n);
    uint64_t bad = addr;
    for (uint64_t a = addr, left = size ? size : 1;;) {
        if (!byte_ok(m, err, a, rs, n)) {
            bad = a;
            break;
        }
        uint64_t step = MMU_PAGE_SIZE - (a & (MMU_PAGE_SIZE - 1));
        if (step >= left || a + step < a)
            break;
        a += step, left -= step;
    }
    sm_free(rs);
    return bad;
}

static void record_fault(cpu_t *c, uint64_t rip, mmu_err err, uint64_t addr, unsigned size)
{
    c->fault = (cpu_fault){ err, first_bad(c->mmu, err, addr, size), size, rip };
    exec_exit(c, rip, CPU_EXIT_MEM_FAULT);
}

dinsn *exec_fault(cpu_t *c, const dinsn *d, mmu_err err, uint64_t addr, unsigned size)
{
    record_fault(c, d->addr, err, addr, size);
    return NULL;
}

void exec_fetch_fault(cpu_t *c, uint64_t addr, unsigned size, mmu_err err)
{
    record_fault(c, addr, err, addr, size);
}

/* never reached while TLB tags are page addresses or all-ones: a stub
 * resolves in the run loop. Should one run anyway, it resolves from here. */
dinsn *exec_stub(cpu_t *c, dinsn *d)
{
    c->regs[CPU_RIP] = d->addr;
    c->link = d->link;
    return NULL;
}

dinsn *exec_jump(cpu_t *c, dinsn *d, uint64_t target)
{
    dinsn *t = d->taken;
    if (LIKELY(t && t->addr == target))
        return t;
    c->regs[CPU_RIP] = target;
    c->link = &d->taken;
    return NULL;
}

/* ------------------------------------------------------------------ hooks */

static bool in_range(const chook *h, uint64_t addr)
{
    return h->begin > h->end || (h->begin <= addr && addr <= h->end);
}

static void compact_hooks(cpu_t *c)
{
    size_t j = 0;
    for (size_t i = 0; i < c->n_hooks; i++)
        if (!c->hooks[i].dead)
            c->hooks[j++] = c->hooks[i];
    c->n_hooks = j;
    c->hooks_dirty = false;
}

static void hooks_leave(cpu_t *c)
{
    if (--c->hook_depth == 0 && c->hooks_dirty)
        compact_hooks(c);
}

/* a single code hook is called straight from the run loop */
static void find_solo(cpu_t *c)
{
    c->solo.fn.code = NULL;
    if (c->n_code_hooks != 1)
        return;
    for (size_t i = 0; i < c->n_hooks; i++)
        if (!c->hooks[i].dead && c->hooks[i].kind == CHOOK_CODE)
            c->solo = c->hooks[i];
}

/* hooks added by a callback wait for the next instruction; the array may
 * move under a callback, so entries are re-read by index */
static NOINLINE void run_code_hooks(cpu_t *c, const dinsn *d)
{
    size_t n = c->n_hooks;
    c->hook_depth++;
    for (size_t i = 0; i < n && !(c->attn & ATTN_STOP); i++) {
        chook *h = &c->hooks[i];
        if (!h->dead && h->kind == CHOOK_CODE && in_range(h, d->addr))
            h->fn.code(c, d->addr, d->len, h->user);
    }
    hooks_leave(c);
}

bool exec_syscall_hooks(cpu_t *c)
{
    size_t n = c->n_hooks;
    bool handled = false;
    c->hook_depth++;
    for (size_t i = 0; i < n && !handled; i++) {
        chook h = c->hooks[i];
        if (!h.dead && h.kind == CHOOK_SYSCALL)
            handled = h.fn.sys(c, h.user);
    }
    hooks_leave(c);
    return handled;
}

static mmu_err hook_add(cpu_t *c, chook h, mmu_hook_id *out_id)
{
    if (c->n_hooks == c->cap_hooks) {
        size_t cap = c->cap_hooks ? c->cap_hooks * 2 : 4;
        chook *nh = sm_realloc(c->hooks, cap * sizeof *nh);
        if (!nh)
            return MMU_ERR_NOMEM;
        c->hooks = nh;
        c->cap_hooks = cap;
    }
    h.id = ++c->next_hook_id;
    c->hooks[c->n_hooks++] = h;
    if (h.kind == CHOOK_CODE && c->n_code_hooks++ == 0)
        c->attn |= ATTN_CODE_HOOKS;
    find_solo(c);
    if (out_id)
        *out_id = h.id;
    return MMU_OK;
}

mmu_err cpu_hook_code(cpu_t *c, cpu_code_hook_fn fn, void *user, uint64_t begin, uint64_t end,
                      mmu_hook_id *out_id)
{
    if (!c || !fn)
        return MMU_ERR_ARG;
    return hook_add(c, (chook){ .kind = CHOOK_CODE, .fn.code = fn, .user = user, .begin = begin, .end = end },
                    out_id);
}

mmu_err cpu_hook_syscall(cpu_t *c, cpu_syscall_hook_fn fn, void *user, mmu_hook_id *out_id)
{
    if (!c || !fn)
        return MMU_ERR_ARG;
    return hook_add(c, (chook){ .kind = CHOOK_SYSCALL, .fn.sys = fn, .user = user, .begin = 1, .end = 0 },
                    out_id);
}

mmu_err cpu_hook_del(cpu_t *c, mmu_hook_id id)
{
    if (!c)
        return MMU_ERR_ARG;
    for (size_t i = 0; i < c->n_hooks; i++) {
        chook *h = &c->hooks[i];
        if (h->id != id || h->dead)
            continue;
        h->dead = true;
        if (h->kind == CHOOK_CODE && --c->n_code_hooks == 0)
            c->attn &= ~(unsigned)ATTN_CODE_HOOKS;
        find_solo(c);
        if (c->hook_depth)
            c->hooks_dirty = true;
        else
            compact_hooks(c);
        return MMU_OK;
    }
    return MMU_ERR_NOTFOUND;
}

/* ---------------------------------------------------------------- the loop */

/* the decoded instruction at rip; *fresh when just decoded (its fetch has
 * happened). NULL: fetch fault (exit recorded) or NOMEM (c->exit_req 0). */
static dinsn *lookup(cpu_t *c, uint64_t rip, dinsn **fresh, mmu_err *err)
{
    dinsn *d = dc_find(&c->dc, rip);
    *err = MMU_OK;
    if (d)
        return d;
    if (dc_too_big(&c->dc)) {
        dc_flush(&c->dc);
        c->link = NULL; /* it pointed into the dropped arena */
    }
    d = dec_block(c, rip, err);
    *fresh = d;
    return d;
}

/* the fetch of a cached instruction whose page missed the fetch TLB */
static bool refetch(cpu_t *c, const dinsn *d)
{
    uint8_t buf[16];
    mmu_err err = mmu_fetch(c->mmu, d->addr, buf, d->len);
    if (err)
        exec_fetch_fault(c, d->addr, d->len, err);
    return !err;
}

/* every exit hands the instruction budget left back through *left_io */
#define LEAVE(why)                                                                             \
    do {                                                                                       \
        *left_io = left;                                                                       \
        return (why);                                                                          \
    } while (0)

#define EXIT(why)                                                                              \
    do {                                                                                       \
        c->regs[CPU_RIP] = d->addr;                                                            \
        LEAVE(why);                                                                            \
    } while (0)

/* an instruction that ended the run without completing (fault, #DE, #GP,
 * int3, invalid, unhandled syscall) */
static bool incomplete(unsigned exit_req)
{
    cpu_exit why = (cpu_exit)(exit_req - 1);
    return why == CPU_EXIT_MEM_FAULT || why == CPU_EXIT_INSN_INVALID || why == CPU_EXIT_EXCEPTION;
}

static cpu_exit run_loop(cpu_t *c, uint64_t until, uint64_t *left_io, mmu_err *err)
{
    uint64_t left = *left_io;
    dinsn *d = NULL;     /* the next instruction; NULL: resolve c->regs[RIP] */
    dinsn *fresh = NULL; /* just fetched (decoded or re-fetched): no TLB check */
    bool hooked = false; /* code hooks already ran for d */
    for (;;) {
        if (UNLIKELY(mmu_code_generation_fast(c->mmu) != c->gen)) {
            if (d)
                c->regs[CPU_RIP] = d->addr;
            d = fresh = NULL;
            c->link = NULL;
            c->gen = mmu_code_generation_fast(c->mmu);
            dc_flush(&c->dc);
        }
        if (UNLIKELY(!d)) { /* resolve RIP */
            uint64_t rip = c->regs[CPU_RIP];
            if (rip == until)
                LEAVE(CPU_EXIT_UNTIL);
            if (!left)
                LEAVE(CPU_EXIT_COUNT);
            if (c->attn & ATTN_STOP)
                LEAVE(CPU_EXIT_STOPPED);
            d = lookup(c, rip, &fresh, err);
            if (!d)
                LEAVE(*err ? CPU_EXIT_EXCEPTION : (cpu_exit)(c->exit_req - 1));
            if (c->link)
                *c->link = d;
            c->link = NULL;
            continue; /* the fetch may have fired hooks that changed code */
        }
        if (UNLIKELY(d->addr == until))
            EXIT(CPU_EXIT_UNTIL);
        if (UNLIKELY(!left))
            EXIT(CPU_EXIT_COUNT);
        if (UNLIKELY(mmu_fetch_tag(c->mmu, d->addr) != d->page) && d != fresh) {
            if (c->attn & ATTN_STOP)
                EXIT(CPU_EXIT_STOPPED);
            if (!d->len) { /* a stub: decode its target, patch the edge */
                c->regs[CPU_RIP] = d->addr;
                c->link = d->link;
                d = NULL;
                continue;
            }
            if (!refetch(c, d))
                LEAVE(CPU_EXIT_MEM_FAULT);
            fresh = d;
            if (mmu_code_generation_fast(c->mmu) != c->gen)
                continue;
        }
        if (UNLIKELY(c->attn)) {
            if (c->attn & ATTN_STOP)
                EXIT(CPU_EXIT_STOPPED);
            if (!hooked) {
                c->regs[CPU_RIP] = d->addr;
                if (LIKELY(c->solo.fn.code != NULL)) {
                    if (in_range(&c->solo, d->addr))
                        c->solo.fn.code(c, d->addr, d->len, c->solo.user);
                } else {
                    run_code_hooks(c, d);
                }
                hooked = true;
                if (c->attn & ATTN_STOP)
                    LEAVE(CPU_EXIT_STOPPED);
                if (c->regs[CPU_RIP] != d->addr) { /* a hook moved RIP */
                    d = NULL;
                    hooked = false;
                    continue;
                }
                if (mmu_code_generation_fast(c->mmu) != c->gen)
                    continue;
            }
        }
        c->regs[CPU_RIP] = d->addr;
        dinsn *n = d->fn(c, d);
        left--;
        hooked = false;
        fresh = NULL;
        if (UNLIKELY(!n) && c->exit_req) {
            left += incomplete(c->exit_req); /* it does not count as executed */
            LEAVE((cpu_exit)(c->exit_req - 1));
        }
        d = n;
    }
}

mmu_err cpu_run(cpu_t *c, uint64_t begin, uint64_t until, uint64_t count, cpu_exit *out_exit)
{
    if (!c || c->running)
        return MMU_ERR_ARG;
    c->running = true;
    c->regs[CPU_RIP] = begin;
    c->attn &= ~(unsigned)ATTN_STOP;
    c->exit_req = 0;
    c->link = NULL;
    c->fault = (cpu_fault){ 0 };
    mmu_err err = MMU_OK;
    uint64_t budget = count ? count : UINT64_MAX, left = budget;
    cpu_exit why = run_loop(c, until, &left, &err);
    c->insns += budget - left;
    c->running = false;
    c->attn &= ~(unsigned)ATTN_STOP;
    if (err)
        return err;
    if (out_exit)
        *out_exit = why;
    return MMU_OK;
}

void cpu_stop(cpu_t *c)
{
    if (c && c->running)
        c->attn |= ATTN_STOP;
}

uint64_t cpu_insn_count(const cpu_t *c)
{
    return c ? c->insns : 0;
}

void cpu_last_fault(const cpu_t *c, cpu_fault *out)
{
    if (c && out)
        *out = c->fault;
}
