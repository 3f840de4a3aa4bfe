/*
 * exec_xmm.h - what the SSE handler files share: an XMM value seen as
 * lanes, register and 16-byte memory access, and the handler generators
 * of the packed operations.
 *
 * c->xmm[r] holds two host quadwords, [0] the low one. Handlers copy a
 * register into an xv union, work on its lanes and copy it back: the
 * compiler keeps all of it in vector registers.
 */
#ifndef SOFTMMU_EXEC_XMM_H
#define SOFTMMU_EXEC_XMM_H

#include "exec.h"

#include <string.h>

/* lane i of xv is lane i of the guest register only on a little-endian
 * host, which is all this interpreter runs on (x86-64, arm64) */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the SSE handlers assume a little-endian host"
#endif

typedef union xv {
    uint64_t q[2];
    int64_t  sq[2];
    uint32_t d[4];
    int32_t  sd[4];
    uint16_t w[8];
    int16_t  sw[8];
    uint8_t  b[16];
    int8_t   sb[16];
} xv;

static inline xv xget(const cpu_t *c, unsigned r)
{
    xv v;
    memcpy(&v, c->xmm[r], 16);
    return v;
}

static inline void xput(cpu_t *c, unsigned r, xv v)
{
    memcpy(c->xmm[r], &v, 16);
}

/* The 16-byte memory operand at `at` into xv var. Legacy-SSE packed
 * operands must be 16-byte aligned (#GP, an exception at the instruction)
 * except in the unaligned moves; the check comes before the access. */
#define XLOAD(at, aligned, var)                                                                \
    xv var;                                                                                    \
    do {                                                                                       \
        if ((aligned) && ((at) & 15))                                                          \
            return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);                                  \
        mmu_err e_ = mmu_load(c->mmu, (at), var.b, 16);                                        \
        if (UNLIKELY(e_))                                                                      \
            return exec_fault(c, d, e_, (at), 16);                                             \
    } while (0)

#define XSTORE(at, aligned, val)                                                               \
    do {                                                                                       \
        xv v_ = (val);                                                                         \
        if ((aligned) && ((at) & 15))                                                          \
            return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);                                  \
        mmu_err e_ = mmu_store(c->mmu, (at), v_.b, 16);                                        \
        if (UNLIKELY(e_))                                                                      \
            return exec_fault(c, d, e_, (at), 16);                                             \
    } while (0)

/* Handlers of `static inline void op_NAME(xv *a, const xv *b, unsigned imm)`,
 * which computes a = a OP b (imm: the immediate byte, if any): NAME_x
 * (xmm, xmm), NAME_m (xmm, m128, aligned or not) and NAME_i (xmm, imm8:
 * b is the immediate as a quadword, for the shifts). */
#define XOP_X(name)                                                                            \
    static dinsn *name##_x(cpu_t *c, dinsn *d)                                                 \
    {                                                                                          \
        xv a = xget(c, d->reg0), b = xget(c, d->reg1);                                         \
        op_##name(&a, &b, (unsigned)d->imm);                                                   \
        xput(c, d->reg0, a);                                                                   \
        return d->next;                                                                        \
    }

#define XOP_M(name, aligned)                                                                   \
    static dinsn *name##_m(cpu_t *c, dinsn *d)                                                 \
    {                                                                                          \
        uint64_t at = ea(c, d);                                                                \
        XLOAD(at, aligned, b);                                                                 \
        xv a = xget(c, d->reg0);                                                               \
        op_##name(&a, &b, (unsigned)d->imm);                                                   \
        xput(c, d->reg0, a);                                                                   \
        return d->next;                                                                        \
    }

#define XOP_I(name)                                                                            \
    static dinsn *name##_i(cpu_t *c, dinsn *d)                                                 \
    {                                                                                          \
        xv a = xget(c, d->reg0), b = { .q = { d->imm, 0 } };                                   \
        op_##name(&a, &b, 0);                                                                  \
        xput(c, d->reg0, a);                                                                   \
        return d->next;                                                                        \
    }

#endif
