/*
 * exec_ctl.c - control transfer, the stack, flag instructions and the
 * instructions that leave the run loop (syscall, hlt, int3, invalid).
 *
 * Direct branches return d->taken / d->next, which start as stubs and are
 * patched to the decoded target by the run loop. Indirect branches keep the
 * last target in d->taken as a one-entry prediction (exec_jump).
 */
#include "exec.h"

/* ------------------------------------------------------------- branches */

#define JCC_DEF(cc)                                                                            \
    static dinsn *jcc##cc(cpu_t *c, dinsn *d)                                                  \
    {                                                                                          \
        return cond(c, cc) ? d->taken : d->next;                                               \
    }
JCC_DEF(0) JCC_DEF(1) JCC_DEF(2) JCC_DEF(3) JCC_DEF(4) JCC_DEF(5) JCC_DEF(6) JCC_DEF(7)
JCC_DEF(8) JCC_DEF(9) JCC_DEF(10) JCC_DEF(11) JCC_DEF(12) JCC_DEF(13) JCC_DEF(14) JCC_DEF(15)

const exec_fn exec_jcc[16] = {
    jcc0, jcc1, jcc2, jcc3, jcc4, jcc5, jcc6, jcc7, jcc8, jcc9, jcc10, jcc11, jcc12, jcc13, jcc14, jcc15,
};

dinsn *exec_jmp(cpu_t *c, dinsn *d)
{
    (void)c;
    return d->taken;
}

dinsn *exec_jmp_r(cpu_t *c, dinsn *d)
{
    return exec_jump(c, d, c->regs[d->reg0]);
}

dinsn *exec_jmp_m(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    LOAD(a, 64, t);
    return exec_jump(c, d, t);
}

/* x = 1: jecxz (0x67 prefix) */
dinsn *exec_jrcxz(cpu_t *c, dinsn *d)
{
    uint64_t cx = d->variant ? (uint32_t)c->regs[CPU_RCX] : c->regs[CPU_RCX];
    return cx == 0 ? d->taken : d->next;
}

/* variant: 0 loop, 1 loope, 2 loopne; addr32 counts in ECX */
dinsn *exec_loop(cpu_t *c, dinsn *d)
{
    uint64_t cx = c->regs[CPU_RCX] - 1;
    if (d->addr32) {
        cx = (uint32_t)cx;
        c->regs[CPU_RCX] = (c->regs[CPU_RCX] & ~0xffffffffull) | cx;
    } else {
        c->regs[CPU_RCX] = cx;
    }
    bool go = cx != 0 && (d->variant == 0 || (d->variant == 1 ? get_zf(c) : !get_zf(c)));
    return go ? d->taken : d->next;
}

static inline mmu_err push64(cpu_t *c, uint64_t v)
{
    uint64_t sp = c->regs[CPU_RSP] - 8;
    mmu_err e = mmu_store_u64(c->mmu, sp, v);
    if (LIKELY(!e))
        c->regs[CPU_RSP] = sp;
    return e;
}

#define PUSH(v)                                                                                \
    do {                                                                                       \
        mmu_err e_ = push64(c, (v));                                                           \
        if (UNLIKELY(e_))                                                                      \
            return exec_fault(c, d, e_, c->regs[CPU_RSP] - 8, 8);                              \
    } while (0)

dinsn *exec_call(cpu_t *c, dinsn *d)
{
    PUSH(d->addr + d->len);
    return d->taken;
}

dinsn *exec_call_r(cpu_t *c, dinsn *d)
{
    uint64_t t = c->regs[d->reg0];
    PUSH(d->addr + d->len);
    return exec_jump(c, d, t);
}

dinsn *exec_call_m(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    LOAD(a, 64, t);
    PUSH(d->addr + d->len);
    return exec_jump(c, d, t);
}

/* imm: bytes to release after the return address */
dinsn *exec_ret(cpu_t *c, dinsn *d)
{
    uint64_t sp = c->regs[CPU_RSP];
    LOAD(sp, 64, t);
    c->regs[CPU_RSP] = sp + 8 + d->imm;
    return exec_jump(c, d, t);
}

dinsn *exec_leave(cpu_t *c, dinsn *d)
{
    uint64_t bp = c->regs[CPU_RBP];
    LOAD(bp, 64, v);
    c->regs[CPU_RSP] = bp + 8;
    c->regs[CPU_RBP] = v;
    return d->next;
}

/* ------------------------------------------------------------- push/pop */

/* size 8, or 2 with the 0x66 prefix */
static inline dinsn *push_sized(cpu_t *c, dinsn *d, uint64_t v)
{
    uint64_t sp = c->regs[CPU_RSP] - d->size;
    STORE(sp, d->size * 8u, v);
    c->regs[CPU_RSP] = sp;
    return d->next;
}

dinsn *exec_push_r(cpu_t *c, dinsn *d)
{
    return push_sized(c, d, c->regs[d->reg0]);
}

dinsn *exec_push_i(cpu_t *c, dinsn *d)
{
    return push_sized(c, d, d->imm);
}

dinsn *exec_push_m(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    LOAD(a, d->size * 8u, v);
    return push_sized(c, d, v);
}

/* pop rsp ends with the loaded value: the increment comes first */
dinsn *exec_pop_r(cpu_t *c, dinsn *d)
{
    uint64_t sp = c->regs[CPU_RSP];
    LOAD(sp, d->size * 8u, v);
    c->regs[CPU_RSP] = sp + d->size;
    put_reg(c, d->reg0, 0, d->size * 8u, v);
    return d->next;
}

/* the destination address is computed with RSP already incremented */
dinsn *exec_pop_m(cpu_t *c, dinsn *d)
{
    uint64_t sp = c->regs[CPU_RSP];
    LOAD(sp, d->size * 8u, v);
    c->regs[CPU_RSP] = sp + d->size;
    uint64_t a = ea(c, d);
    mmu_err e = st(c, a, d->size * 8u, v);
    if (UNLIKELY(e)) {
        c->regs[CPU_RSP] = sp;
        return exec_fault(c, d, e, a, d->size);
    }
    return d->next;
}

#define FL_POPF_MASK (FL_ARITH | FL_DF | 0x100u /* TF */ | 0x4000u /* NT */ | 0x40000u /* AC */ | 0x200000u /* ID */)

dinsn *exec_pushf(cpu_t *c, dinsn *d)
{
    return push_sized(c, d, cpu_reg_read(c, CPU_RFLAGS));
}

dinsn *exec_popf(cpu_t *c, dinsn *d)
{
    uint64_t sp = c->regs[CPU_RSP];
    LOAD(sp, d->size * 8u, v);
    c->regs[CPU_RSP] = sp + d->size;
    uint64_t old = cpu_reg_read(c, CPU_RFLAGS), mask = FL_POPF_MASK & MASK(d->size * 8u);
    cpu_reg_write(c, CPU_RFLAGS, (old & ~mask) | (v & mask));
    return d->next;
}

/* -------------------------------------------------------- sign extension */

/* cbw / cwde / cdqe: the accumulator from its lower half */
dinsn *exec_acc_sext(cpu_t *c, dinsn *d)
{
    unsigned bits = d->size * 8u;
    put_reg(c, CPU_RAX, 0, bits, SX(c->regs[CPU_RAX], bits / 2));
    return d->next;
}

/* cwd / cdq / cqo: DX, EDX or RDX from the sign of the accumulator */
dinsn *exec_cdq(cpu_t *c, dinsn *d)
{
    unsigned bits = d->size * 8u;
    put_reg(c, CPU_RDX, 0, bits, MSB(c->regs[CPU_RAX], bits) ? ~0ull : 0);
    return d->next;
}

/* ------------------------------------------------------------------ flags */

/* variant: 0 clc, 1 stc, 2 cmc, 3 cld, 4 std */
dinsn *exec_flagop(cpu_t *c, dinsn *d)
{
    switch (d->variant) {
    case 0: set_cf(c, 0); break;
    case 1: set_cf(c, 1); break;
    case 2: set_cf(c, !get_cf(c)); break;
    case 3: c->regs[CPU_RFLAGS] &= ~(uint64_t)FL_DF; break;
    default: c->regs[CPU_RFLAGS] |= FL_DF; break;
    }
    return d->next;
}

#define FL_LAHF (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF)

dinsn *exec_lahf(cpu_t *c, dinsn *d)
{
    put_reg(c, CPU_RAX, 8, 8, (flags_get(c) & FL_LAHF) | FL_FIXED);
    return d->next;
}

dinsn *exec_sahf(cpu_t *c, dinsn *d)
{
    uint64_t ah = (c->regs[CPU_RAX] >> 8) & 0xff;
    flags_set(c, (flags_get(c) & ~(uint64_t)FL_LAHF) | (ah & FL_LAHF));
    return d->next;
}

/* ---------------------------------------------------------- leaving the loop */

dinsn *exec_nop(cpu_t *c, dinsn *d)
{
    (void)c;
    return d->next;
}

dinsn *exec_invalid(cpu_t *c, dinsn *d)
{
    return exec_exit(c, d->addr, CPU_EXIT_INSN_INVALID);
}

dinsn *exec_hlt(cpu_t *c, dinsn *d)
{
    return exec_exit(c, d->addr + d->len, CPU_EXIT_HLT);
}

dinsn *exec_int3(cpu_t *c, dinsn *d)
{
    return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);
}

/* RCX = next RIP, R11 = RFLAGS, then the hooks; they may move RIP, so the
 * loop resolves it afresh. Unhandled: an exception at the syscall, with
 * RCX and R11 as they were. */
dinsn *exec_syscall(cpu_t *c, dinsn *d)
{
    uint64_t next = d->addr + d->len, rcx = c->regs[CPU_RCX], r11 = c->regs[CPU_R11];
    c->regs[CPU_RCX] = next;
    c->regs[CPU_R11] = cpu_reg_read(c, CPU_RFLAGS);
    c->regs[CPU_RIP] = next;
    if (!hook_run_syscall(c)) {
        c->regs[CPU_RCX] = rcx, c->regs[CPU_R11] = r11;
        return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);
    }
    c->link = NULL;
    return NULL;
}
