/*
 * exec_sse.c - the SSE integer subset that C libraries use to move and
 * clear 16 bytes at a time: pxor/por/pand, movaps/movapd/movdqa (aligned),
 * movups/movupd/movdqu, and movd/movq between XMM, GPRs and memory.
 *
 * XMM registers are two host quadwords, [0] the low one; memory is read and
 * written as little-endian bytes through mmu_load / mmu_store (the guest
 * path: permissions, hooks, faults). As elsewhere a faulting instruction
 * changes nothing: loads first, one store, registers last. A misaligned
 * 16-byte operand of an aligned form is #GP on hardware: an exception at
 * the instruction.
 */
#include "exec.h"

static inline uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* the 16-byte memory operand into var[2]; #GP first when misaligned */
#define XLOAD(at, aligned, var)                                              \
    uint64_t var[2];                                                           \
    do {                                                                       \
        uint8_t b_[16];                                                        \
        if ((aligned) && ((at) & 15))                                        \
            return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);                  \
        mmu_err e_ = mmu_load(c->mmu, (at), b_, 16);                         \
        if (UNLIKELY(e_))                                                      \
            return exec_fault(c, d, e_, (at), 16);                           \
        var[0] = le64(b_), var[1] = le64(b_ + 8);                              \
    } while (0)

#define XSTORE(at, aligned, val)                                             \
    do {                                                                       \
        uint8_t b_[16];                                                        \
        if ((aligned) && ((at) & 15))                                        \
            return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);                  \
        put_le64(b_, (val)[0]), put_le64(b_ + 8, (val)[1]);                    \
        mmu_err e_ = mmu_store(c->mmu, (at), b_, 16);                        \
        if (UNLIKELY(e_))                                                      \
            return exec_fault(c, d, e_, (at), 16);                           \
    } while (0)

/* ------------------------------------------------------ pxor / por / pand */

/* legacy-SSE packed memory operands must be 16-byte aligned */
#define XLOGIC_DEF(name, OP)                                                                   \
    static dinsn *name##_r(cpu_t *c, dinsn *d)                                                 \
    {                                                                                          \
        uint64_t *x = c->xmm[d->reg0], *y = c->xmm[d->reg1];                                       \
        x[0] = x[0] OP y[0], x[1] = x[1] OP y[1];                                              \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_m(cpu_t *c, dinsn *d)                                                 \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        XLOAD(a, true, v);                                                                     \
        uint64_t *x = c->xmm[d->reg0];                                                           \
        x[0] = x[0] OP v[0], x[1] = x[1] OP v[1];                                              \
        return d->next;                                                                        \
    }

XLOGIC_DEF(pxor, ^)
XLOGIC_DEF(por, |)
XLOGIC_DEF(pand, &)

const exec_fn exec_xlogic[XL_N][2] = { { pxor_r, pxor_m }, { por_r, por_m }, { pand_r, pand_m } };

/* ------------------------------------------------------ 128-bit moves */

static dinsn *xmov_rr(cpu_t *c, dinsn *d)
{
    c->xmm[d->reg0][0] = c->xmm[d->reg1][0];
    c->xmm[d->reg0][1] = c->xmm[d->reg1][1];
    return d->next;
}

#define XMOV_DEF(al)                                                                           \
    static dinsn *xmov_rm##al(cpu_t *c, dinsn *d)                                              \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        XLOAD(a, al, v);                                                                       \
        c->xmm[d->reg0][0] = v[0], c->xmm[d->reg0][1] = v[1];                                      \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *xmov_mr##al(cpu_t *c, dinsn *d)                                              \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        XSTORE(a, al, c->xmm[d->reg0]);                                                          \
        return d->next;                                                                        \
    }

XMOV_DEF(0)
XMOV_DEF(1)

const exec_fn exec_xmov[XM_N][2] = {
    [XM_RR] = { xmov_rr, xmov_rr }, [XM_RM] = { xmov_rm0, xmov_rm1 }, [XM_MR] = { xmov_mr0, xmov_mr1 },
};

/* ------------------------------------------------------ movd / movq */

/* writes to an XMM register zero the bits above the moved ones */
#define XMOVQ_DEF(bits)                                                                        \
    static dinsn *xq_from_gpr##bits(cpu_t *c, dinsn *d)                                        \
    {                                                                                          \
        c->xmm[d->reg0][0] = c->regs[d->reg1] & MASK(bits), c->xmm[d->reg0][1] = 0;                  \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *xq_to_gpr##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        put_reg(c, d->reg0, 0, bits, c->xmm[d->reg1][0]);                                          \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *xq_load##bits(cpu_t *c, dinsn *d)                                            \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, v);                                                                      \
        c->xmm[d->reg0][0] = v, c->xmm[d->reg0][1] = 0;                                            \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *xq_store##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        STORE(a, bits, c->xmm[d->reg0][0] & MASK(bits));                                         \
        return d->next;                                                                        \
    }

XMOVQ_DEF(32)
XMOVQ_DEF(64)

/* movq xmm, xmm: the low quadword, the high one zeroed */
static dinsn *xq_xmm(cpu_t *c, dinsn *d)
{
    c->xmm[d->reg0][0] = c->xmm[d->reg1][0], c->xmm[d->reg0][1] = 0;
    return d->next;
}

const exec_fn exec_xmovq[XQ_N][2] = {
    [XQ_FROM_GPR] = { xq_from_gpr32, xq_from_gpr64 }, [XQ_TO_GPR] = { xq_to_gpr32, xq_to_gpr64 },
    [XQ_LOAD] = { xq_load32, xq_load64 },             [XQ_STORE] = { xq_store32, xq_store64 },
    [XQ_XMM] = { NULL, xq_xmm },
};
