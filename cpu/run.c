/*
 * run.c - the run loop and its exits (faults, exceptions, stops).
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
#include "fpu.h"

/* ---------------------------------------------------------- exits, faults */

dinsn *exec_exit(cpu_t *c, uint64_t rip, cpu_exit why)
{
    c->regs[CPU_RIP] = rip;
    c->exit_req = (unsigned)why + 1;
    return NULL;
}

/* may the access kind of err touch page-or-byte a? */
static bool byte_ok(mmu_err err, uint64_t a, const mmu_region *rs, size_t n)
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
        if (!byte_ok(err, a, rs, n)) {
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
    if (UNLIKELY(err == MMU_ERR_NOMEM)) { /* a snapshot's copy or a page-table leaf: the host's failure */
        c->run_err = err;
        return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);
    }
    record_fault(c, d->addr, err, addr, size);
    return NULL;
}

void exec_fetch_fault(cpu_t *c, uint64_t addr, unsigned size, mmu_err err)
{
    if (UNLIKELY(err == MMU_ERR_NOMEM)) { /* a page-table leaf for the page: the host's failure */
        c->run_err = err;
        exec_exit(c, addr, CPU_EXIT_EXCEPTION);
        return;
    }
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

/* an instruction that ended the run without completing (fault, #DE, #GP,
 * int3, invalid, unhandled syscall) */
static bool incomplete(unsigned exit_req)
{
    cpu_exit why = (cpu_exit)(exit_req - 1);
    return why == CPU_EXIT_MEM_FAULT || why == CPU_EXIT_INSN_INVALID || why == CPU_EXIT_EXCEPTION;
}

/* the run loop's state between instructions */
typedef struct loop {
    dinsn   *d;      /* the next instruction; NULL: resolve c->regs[RIP] */
    dinsn   *fresh;  /* just fetched (decoded or re-fetched): no TLB check */
    bool     hooked; /* code hooks already ran for d */
    uint64_t until;
    uint64_t left;   /* instruction budget */
    cpu_exit why;    /* set when a step says STOP */
    mmu_err  err;    /* MMU_ERR_NOMEM from decoding */
} loop;

enum step { GO, AGAIN, STOP }; /* run d / check again / leave the loop */

static enum step stop(loop *l, cpu_exit why)
{
    l->why = why;
    return STOP;
}

/* leaves before d runs: RIP points at it */
static enum step stop_at(cpu_t *c, loop *l, cpu_exit why)
{
    c->regs[CPU_RIP] = l->d->addr;
    return stop(l, why);
}

/* the code generation changed: every decoded instruction may be stale */
static void drop_code(cpu_t *c, loop *l)
{
    if (l->d)
        c->regs[CPU_RIP] = l->d->addr;
    l->d = l->fresh = NULL;
    c->link = NULL;
    c->gen = mmu_code_generation_fast(c->mmu);
    dc_flush(&c->dc);
}

/* finds (or decodes) the instruction at RIP and patches the edge that led
 * here, so the next time the predecessor runs straight into it */
static enum step resolve_rip(cpu_t *c, loop *l)
{
    uint64_t rip = c->regs[CPU_RIP];
    if (rip == l->until)
        return stop(l, CPU_EXIT_UNTIL);
    if (!l->left)
        return stop(l, CPU_EXIT_COUNT);
    if (c->attn & ATTN_STOP)
        return stop(l, CPU_EXIT_STOPPED);
    l->d = lookup(c, rip, &l->fresh, &l->err);
    if (!l->d)
        return stop(l, l->err ? CPU_EXIT_EXCEPTION : (cpu_exit)(c->exit_req - 1));
    if (c->link)
        *c->link = l->d;
    c->link = NULL;
    return AGAIN; /* the fetch may have fired hooks that changed code */
}

/* d's page missed the fetch TLB: a stub to resolve, or a fetch to redo
 * through mmu_fetch (permissions, fetch hooks, faults) */
static enum step check_fetch(cpu_t *c, loop *l)
{
    if (c->attn & ATTN_STOP)
        return stop_at(c, l, CPU_EXIT_STOPPED);
    if (!l->d->len) { /* a stub: decode its target, patch the edge */
        c->regs[CPU_RIP] = l->d->addr;
        c->link = l->d->link;
        l->d = NULL;
        return AGAIN;
    }
    if (!refetch(c, l->d))
        return stop(l, CPU_EXIT_MEM_FAULT);
    l->fresh = l->d;
    return mmu_code_generation_fast(c->mmu) != c->gen ? AGAIN : GO;
}

/* cpu_stop and the code hooks; a hook may move RIP or change code */
static enum step attend(cpu_t *c, loop *l)
{
    if (c->attn & ATTN_STOP)
        return stop_at(c, l, CPU_EXIT_STOPPED);
    if (l->hooked)
        return GO;
    const dinsn *d = l->d;
    c->regs[CPU_RIP] = d->addr;
    fpu_host_release(&c->host_mxcsr); /* hooks see the host's own MXCSR */
    if (LIKELY(c->solo.fn != NULL)) {
        if (hooklist_covers(&c->solo, d->addr, d->addr))
            ((cpu_code_hook_fn)c->solo.fn)(c, d->addr, d->len, c->solo.user);
    } else {
        hook_run_code(c, d);
    }
    l->hooked = true;
    if (c->attn & ATTN_STOP)
        return stop(l, CPU_EXIT_STOPPED);
    if (c->regs[CPU_RIP] != d->addr) { /* a hook moved RIP */
        l->d = NULL;
        l->hooked = false;
        return AGAIN;
    }
    return mmu_code_generation_fast(c->mmu) != c->gen ? AGAIN : GO;
}

/* Everything to check before running l->d, in order: the code generation,
 * RIP resolution, `until`, the budget, the fetch, cpu_stop and the code
 * hooks. Called only when the loop's one-line test says one of them needs
 * a look. */
static NOINLINE enum step before_insn(cpu_t *c, loop *l)
{
    if (mmu_code_generation_fast(c->mmu) != c->gen)
        drop_code(c, l);
    if (!l->d)
        return resolve_rip(c, l);
    if (l->d->addr == l->until)
        return stop_at(c, l, CPU_EXIT_UNTIL);
    if (!l->left)
        return stop_at(c, l, CPU_EXIT_COUNT);
    if (mmu_fetch_tag(c->mmu, l->d->addr) != l->d->page && l->d != l->fresh) {
        enum step s = check_fetch(c, l);
        if (s != GO)
            return s;
    }
    return c->attn ? attend(c, l) : GO;
}

/* check, fetch, dispatch: the common instruction costs one combined test,
 * the handler call, and the budget */
static cpu_exit run_loop(cpu_t *c, uint64_t until, uint64_t *left_io, mmu_err *err)
{
    loop l = { .until = until, .left = *left_io };
    for (;;) {
        dinsn *d = l.d;
        if (UNLIKELY(!d || mmu_code_generation_fast(c->mmu) != c->gen || d->addr == until || !l.left
                     || mmu_fetch_tag(c->mmu, d->addr) != d->page || c->attn)) {
            enum step s = before_insn(c, &l);
            if (s == STOP)
                break;
            if (s == AGAIN)
                continue;
            d = l.d;
        }
        c->regs[CPU_RIP] = d->addr;
        dinsn *n = d->fn(c, d);
        l.left--;
        l.hooked = false;
        l.fresh = NULL;
        if (UNLIKELY(!n) && c->exit_req) {
            l.left += incomplete(c->exit_req); /* it does not count as executed */
            l.why = (cpu_exit)(c->exit_req - 1);
            break;
        }
        l.d = n;
    }
    *left_io = l.left;
    *err = l.err ? l.err : c->run_err;
    return l.why;
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
    c->run_err = MMU_OK;
    c->host_mxcsr = FPU_HOST_UNKNOWN; /* read at the first SSE float instruction */
    mmu_err err = MMU_OK;
    uint64_t budget = count ? count : UINT64_MAX, left = budget;
    cpu_exit why = run_loop(c, until, &left, &err);
    fpu_host_release(&c->host_mxcsr);
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
