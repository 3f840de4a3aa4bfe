/*
 * exec_sse_mov.c - SSE/SSE2 data movement: 128-bit moves (aligned and
 * not), movd/movq, movss/movsd, the half-register moves (movlps movhps
 * movlpd movhpd movhlps movlhps), sign masks (movmskps movmskpd pmovmskb),
 * pinsrw/pextrw, the non-temporal stores (movntdq movntps movntpd movnti,
 * plain stores here) and maskmovdqu; with SOFTMMU_SSSE3, SSE3's movddup
 * and lddqu (a movdqu).
 *
 * Memory goes through mmu_load / mmu_store (the guest path: permissions,
 * hooks, faults). As elsewhere a faulting instruction changes nothing:
 * loads first, one store, registers last. A misaligned 16-byte operand of
 * an aligned form is #GP on hardware: an exception at the instruction.
 */
#include "decode.h"
#include "exec_xmm.h"

/* ------------------------------------------------------ 128-bit moves */

static dinsn *xmov_rr(cpu_t *c, dinsn *d)
{
    xput(c, d->reg0, xget(c, d->reg1));
    return d->next;
}

#define XMOV_DEF(al)                                                                           \
    static dinsn *xmov_rm##al(cpu_t *c, dinsn *d)                                              \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        XLOAD(a, al, v);                                                                       \
        xput(c, d->reg0, v);                                                                   \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *xmov_mr##al(cpu_t *c, dinsn *d)                                              \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        XSTORE(a, al, xget(c, d->reg0));                                                       \
        return d->next;                                                                        \
    }

XMOV_DEF(0)
XMOV_DEF(1)

/* movaps/movapd/movdqa (arg 1), movups/movupd/movdqu/lddqu (arg 0) */
exec_fn dec_xmov(view *v, dinsn *d, unsigned aligned)
{
    static const exec_fn RM[2] = { xmov_rm0, xmov_rm1 }, MR[2] = { xmov_mr0, xmov_mr1 };
    if (v->n != 2)
        return NULL;
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    if (xmm_at(v, 0) && xmm_at(v, 1))
        return xmov_rr;
    if (xmm_at(v, 0) && mem_at(v, 1, 16))
        return RM[aligned];
    d->reg0 = v->op[1].slot;
    return mem_at(v, 0, 16) && xmm_at(v, 1) ? MR[aligned] : NULL;
}

/* ------------------------------------------------------ movd / movq */

/* writes to an XMM register zero the bits above the moved ones */
#define XMOVQ_DEF(bits)                                                                        \
    static dinsn *xq_from_gpr##bits(cpu_t *c, dinsn *d)                                        \
    {                                                                                          \
        c->xmm[d->reg0][0] = c->regs[d->reg1] & MASK(bits), c->xmm[d->reg0][1] = 0;            \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *xq_to_gpr##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        put_reg(c, d->reg0, 0, bits, c->xmm[d->reg1][0]);                                      \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *xq_load##bits(cpu_t *c, dinsn *d)                                            \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, v);                                                                      \
        c->xmm[d->reg0][0] = v, c->xmm[d->reg0][1] = 0;                                        \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *xq_store##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        STORE(a, bits, c->xmm[d->reg0][0] & MASK(bits));                                       \
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

/* movd (arg 4) / movq (arg 8) between XMM and a GPR, memory or XMM */
exec_fn dec_xmovq(view *v, dinsn *d, unsigned size)
{
    if (v->n != 2)
        return NULL;
    const opnd *a = &v->op[0], *b = &v->op[1];
    bool q = size == 8;
    d->reg0 = a->slot, d->reg1 = b->slot;
    if (xmm_at(v, 0) && b->kind == OP_REG && b->size == size && !b->shift)
        return q ? xq_from_gpr64 : xq_from_gpr32;
    if (a->kind == OP_REG && a->size == size && !a->shift && xmm_at(v, 1))
        return q ? xq_to_gpr64 : xq_to_gpr32;
    if (xmm_at(v, 0) && mem_at(v, 1, size))
        return q ? xq_load64 : xq_load32;
    if (q && xmm_at(v, 0) && xmm_at(v, 1))
        return xq_xmm;
    d->reg0 = b->slot;
    return mem_at(v, 0, size) && xmm_at(v, 1) ? (q ? xq_store64 : xq_store32) : NULL;
}

/* ------------------------------------------------------ movss / movsd */

/* register to register merges the low lane; a load zeroes the rest */
static dinsn *movss_rr(cpu_t *c, dinsn *d)
{
    uint64_t *x = c->xmm[d->reg0];
    x[0] = (x[0] & ~0xffffffffull) | (c->xmm[d->reg1][0] & 0xffffffffull);
    return d->next;
}

static dinsn *movsd_rr(cpu_t *c, dinsn *d)
{
    c->xmm[d->reg0][0] = c->xmm[d->reg1][0];
    return d->next;
}

/* movss 4 / movsd 8: xmm, xmm; xmm, m; m, xmm. The loads and stores are
 * movd/movq's. */
exec_fn dec_movs(view *v, dinsn *d, unsigned size)
{
    if (v->n != 2)
        return NULL;
    bool q = size == 8;
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    if (xmm_at(v, 0) && xmm_at(v, 1))
        return q ? movsd_rr : movss_rr;
    if (xmm_at(v, 0) && mem_at(v, 1, size))
        return q ? xq_load64 : xq_load32;
    d->reg0 = v->op[1].slot;
    return mem_at(v, 0, size) && xmm_at(v, 1) ? (q ? xq_store64 : xq_store32) : NULL;
}

/* --------------------------------------------- movlps movhps movhlps ... */

/* d->variant: the quadword (0 low, 1 high) moved */
static dinsn *movhl_load(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    LOAD(a, 64, v);
    c->xmm[d->reg0][d->variant] = v;
    return d->next;
}

static dinsn *movhl_store(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    STORE(a, 64, c->xmm[d->reg0][d->variant]);
    return d->next;
}

/* movlps/movlpd (arg 0), movhps/movhpd (arg 1): memory forms only (the
 * register forms of the opcodes are movhlps/movlhps) */
exec_fn dec_movhl(view *v, dinsn *d, unsigned high)
{
    if (v->n != 2)
        return NULL;
    d->variant = (uint8_t)high;
    d->reg0 = v->op[0].slot;
    if (xmm_at(v, 0) && mem_at(v, 1, 8))
        return movhl_load;
    d->reg0 = v->op[1].slot;
    return mem_at(v, 0, 8) && xmm_at(v, 1) ? movhl_store : NULL;
}

/* movhlps: low quadword from the source's high one; movlhps: the reverse */
static dinsn *movhlps(cpu_t *c, dinsn *d)
{
    c->xmm[d->reg0][0] = c->xmm[d->reg1][1];
    return d->next;
}

static dinsn *movlhps(cpu_t *c, dinsn *d)
{
    c->xmm[d->reg0][1] = c->xmm[d->reg1][0];
    return d->next;
}

exec_fn dec_movhlps(view *v, dinsn *d, unsigned high)
{
    if (v->n != 2 || !xmm_at(v, 0) || !xmm_at(v, 1))
        return NULL;
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    return high ? movlhps : movhlps;
}

/* ------------------------------------------------------------ sign masks */

/* the sign bit of each lane into a GPR, zero-extended to 64 bits */
static dinsn *movmskpd(cpu_t *c, dinsn *d)
{
    const uint64_t *x = c->xmm[d->reg1];
    c->regs[d->reg0] = (x[0] >> 63) | (x[1] >> 63) << 1;
    return d->next;
}

static dinsn *movmskps(cpu_t *c, dinsn *d)
{
    xv x = xget(c, d->reg1);
    unsigned m = 0;
    for (unsigned i = 0; i < 4; i++)
        m |= (x.d[i] >> 31) << i;
    c->regs[d->reg0] = m;
    return d->next;
}

static dinsn *pmovmskb(cpu_t *c, dinsn *d)
{
    xv x = xget(c, d->reg1);
    unsigned m = 0;
    for (unsigned i = 0; i < 16; i++)
        m |= (unsigned)(x.b[i] >> 7) << i;
    c->regs[d->reg0] = m;
    return d->next;
}

/* r32/r64, xmm; arg: lanes (2 movmskpd, 4 movmskps, 16 pmovmskb) */
exec_fn dec_movmsk(view *v, dinsn *d, unsigned lanes)
{
    if (v->n != 2 || v->op[0].kind != OP_REG || v->op[0].size < 4 || !xmm_at(v, 1))
        return NULL;
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    return lanes == 2 ? movmskpd : lanes == 4 ? movmskps : pmovmskb;
}

/* ------------------------------------------------------- pinsrw / pextrw */

/* d->imm: the word lane (imm8 mod 8) */
static dinsn *pinsrw_r(cpu_t *c, dinsn *d)
{
    xv x = xget(c, d->reg0);
    x.w[d->imm] = (uint16_t)c->regs[d->reg1];
    xput(c, d->reg0, x);
    return d->next;
}

static dinsn *pinsrw_m(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    LOAD(a, 16, v);
    xv x = xget(c, d->reg0);
    x.w[d->imm] = (uint16_t)v;
    xput(c, d->reg0, x);
    return d->next;
}

/* xmm, r32/m16, imm8 */
exec_fn dec_pinsrw(view *v, dinsn *d, unsigned arg)
{
    (void)arg;
    if (v->n != 3 || !xmm_at(v, 0) || v->op[2].kind != OP_IMM)
        return NULL;
    d->imm = v->op[2].imm & 7;
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    if (v->op[1].kind == OP_REG && !v->op[1].shift)
        return pinsrw_r;
    return mem_at(v, 1, 2) ? pinsrw_m : NULL;
}

static dinsn *pextrw(cpu_t *c, dinsn *d)
{
    xv x = xget(c, d->reg1);
    c->regs[d->reg0] = x.w[d->imm];
    return d->next;
}

/* r32/r64, xmm, imm8 (the SSE4.1 memory form is another instruction) */
exec_fn dec_pextrw(view *v, dinsn *d, unsigned arg)
{
    (void)arg;
    if (v->n != 3 || v->op[0].kind != OP_REG || v->op[0].size < 4 || !xmm_at(v, 1) || v->op[2].kind != OP_IMM)
        return NULL;
    d->imm = v->op[2].imm & 7;
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    return pextrw;
}

/* ----------------------------------------------------- non-temporal stores */

static dinsn *movnti32(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    STORE(a, 32, c->regs[d->reg0]);
    return d->next;
}

static dinsn *movnti64(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    STORE(a, 64, c->regs[d->reg0]);
    return d->next;
}

/* movntdq/movntps/movntpd m128, xmm (aligned; arg 0) or movnti m32/m64, r
 * (arg 1); the cache hint means nothing here */
exec_fn dec_movnt(view *v, dinsn *d, unsigned gpr)
{
    if (v->n != 2 || v->op[0].kind != OP_MEM)
        return NULL;
    d->reg0 = v->op[1].slot;
    if (!gpr)
        return mem_at(v, 0, 16) && xmm_at(v, 1) ? xmov_mr1 : NULL;
    if (v->op[1].kind != OP_REG || v->op[1].size != v->op[0].size)
        return NULL;
    return v->op[0].size == 8 ? movnti64 : v->op[0].size == 4 ? movnti32 : NULL;
}

/* --------------------------------------------------------------- maskmovdqu */

/* The bytes of reg0 whose mask byte (reg1) has its top bit set go to
 * [RDI] (EDI with 0x67), in ascending order. XXX: a fault part-way leaves
 * the bytes before it written; the SDM allows a masked store to behave as
 * byte stores, and compilers do not emit this instruction. */
static dinsn *maskmovdqu(cpu_t *c, dinsn *d)
{
    xv x = xget(c, d->reg0), m = xget(c, d->reg1);
    uint64_t base = d->addr32 ? (uint32_t)c->regs[CPU_RDI] : c->regs[CPU_RDI];
    base += c->regs[d->seg];
    for (unsigned i = 0; i < 16; i++) {
        if (!(m.b[i] & 0x80))
            continue;
        STORE(base + i, 8, x.b[i]);
    }
    return d->next;
}

exec_fn dec_maskmov(view *v, dinsn *d, unsigned arg)
{
    (void)arg;
    if (v->n != 2 || !xmm_at(v, 0) || !xmm_at(v, 1))
        return NULL;
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    d->addr32 = v->x->addr_size == 4;
    d->seg = v->x->prefix[1] == 0x64 ? CPU_FS_BASE : v->x->prefix[1] == 0x65 ? CPU_GS_BASE : SLOT_ZERO;
    return maskmovdqu;
}

/* ------------------------------------------------------------------ movddup */

/* the low quadword of xmm/m64 into both halves */
static dinsn *movddup_r(cpu_t *c, dinsn *d)
{
    uint64_t v = c->xmm[d->reg1][0];
    c->xmm[d->reg0][0] = v, c->xmm[d->reg0][1] = v;
    return d->next;
}

static dinsn *movddup_m(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    LOAD(a, 64, v);
    c->xmm[d->reg0][0] = v, c->xmm[d->reg0][1] = v;
    return d->next;
}

exec_fn dec_movddup(view *v, dinsn *d, unsigned arg)
{
    (void)arg;
    if (v->n != 2 || !xmm_at(v, 0))
        return NULL;
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    return xmm_at(v, 1) ? movddup_r : mem_at(v, 1, 8) ? movddup_m : NULL;
}
