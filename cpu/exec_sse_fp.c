/*
 * exec_sse_fp.c - SSE/SSE2 floating point: arithmetic, sqrt, rcp/rsqrt,
 * min/max, compares, comis/ucomis, conversions, ldmxcsr/stmxcsr. Decoders
 * and handlers; the float semantics themselves are fpu_sse.c's.
 *
 * A handler gathers its operands into an sse_io (the memory source first,
 * so a fault changes nothing), calls fpu_sse with the operation the decoder
 * put in d->variant, and writes the result back only when fpu_sse reports
 * no unmasked exception (#XM: CPU_EXIT_EXCEPTION at the instruction, the
 * destination untouched). Legacy-SSE 16-byte memory operands must be
 * aligned (#GP otherwise); scalar and 8-byte ones need not be.
 */
#include "decode.h"
#include "fpu.h"

/* the arg of a DECODERS entry (SSE_ARG): the operation, its memory size */
#define ARG_OP(arg) ((arg) & 0xff)
#define ARG_MSIZE(arg) ((arg) >> 8)

static dinsn *raise_xm(cpu_t *c, dinsn *d)
{
    return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);
}

/* the memory source into y's low part (y is zeroed first by the caller);
 * size is a constant in every handler, so this folds to one load */
static inline mmu_err load_src(cpu_t *c, uint64_t a, unsigned size, uint64_t y[2])
{
    if (size == 16)
        return mmu_load(c->mmu, a, y, 16); /* little-endian host: bytes are the lanes */
    return ld(c, a, size * 8, &y[0]);
}

/* a handler's memory source: #GP when a 16-byte operand is misaligned */
#define SRC_MEM(size, y)                                                                       \
    do {                                                                                       \
        uint64_t a_ = ea(c, d);                                                                \
        if ((size) == 16 && (a_ & 15))                                                         \
            return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);                                  \
        mmu_err e_ = load_src(c, a_, (size), (y));                                             \
        if (UNLIKELY(e_))                                                                      \
            return exec_fault(c, d, e_, a_, (size));                                           \
    } while (0)

#define IO_X(r) { .x = { c->xmm[r][0], c->xmm[r][1] } }

/* ------------------------------------------------ xmm = xmm op xmm/mem */

static inline dinsn *xx_done(cpu_t *c, dinsn *d, sse_io *io)
{
    if (UNLIKELY(!fpu_sse(d->variant, &c->mxcsr, &c->host_mxcsr, io)))
        return raise_xm(c, d);
    c->xmm[d->reg0][0] = io->x[0], c->xmm[d->reg0][1] = io->x[1];
    return d->next;
}

static dinsn *xx_r(cpu_t *c, dinsn *d)
{
    sse_io io = IO_X(d->reg0);
    io.y[0] = c->xmm[d->reg1][0], io.y[1] = c->xmm[d->reg1][1];
    return xx_done(c, d, &io);
}

#define XX_M(size)                                                                             \
    static dinsn *xx_m##size(cpu_t *c, dinsn *d)                                               \
    {                                                                                          \
        sse_io io = IO_X(d->reg0);                                                             \
        SRC_MEM(size, io.y);                                                                   \
        return xx_done(c, d, &io);                                                             \
    }
XX_M(4)
XX_M(8)
XX_M(16)

/* ------------------------------------------- xmm = cvtsi2s?(r/m32/64) */

#define XI(bits)                                                                               \
    static dinsn *xi_r##bits(cpu_t *c, dinsn *d)                                               \
    {                                                                                          \
        sse_io io = IO_X(d->reg0);                                                             \
        io.i = get_reg(c, d->reg1, 0, bits);                                                   \
        return xx_done(c, d, &io);                                                             \
    }                                                                                          \
    static dinsn *xi_m##bits(cpu_t *c, dinsn *d)                                               \
    {                                                                                          \
        sse_io io = IO_X(d->reg0);                                                             \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, v);                                                                      \
        io.i = v;                                                                              \
        return xx_done(c, d, &io);                                                             \
    }
XI(32)
XI(64)

/* ------------------------------------ r32/64 = cvt(t)s?2si(xmm/mem) */

#define IX(bits)                                                                               \
    static inline dinsn *ix_done##bits(cpu_t *c, dinsn *d, sse_io *io)                         \
    {                                                                                          \
        if (UNLIKELY(!fpu_sse(d->variant, &c->mxcsr, &c->host_mxcsr, io)))                                     \
            return raise_xm(c, d);                                                             \
        put_reg(c, d->reg0, 0, bits, io->i);                                                   \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *ix_r##bits(cpu_t *c, dinsn *d)                                               \
    {                                                                                          \
        sse_io io = { .y = { c->xmm[d->reg1][0], c->xmm[d->reg1][1] } };                       \
        return ix_done##bits(c, d, &io);                                                       \
    }                                                                                          \
    static dinsn *ix_m4_##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        sse_io io = { 0 };                                                                     \
        SRC_MEM(4, io.y);                                                                      \
        return ix_done##bits(c, d, &io);                                                       \
    }                                                                                          \
    static dinsn *ix_m8_##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        sse_io io = { 0 };                                                                     \
        SRC_MEM(8, io.y);                                                                      \
        return ix_done##bits(c, d, &io);                                                       \
    }
IX(32)
IX(64)

/* ------------------------------------------------ (u)comis -> RFLAGS */

/* ZF, PF, CF from the compare; OF, SF, AF cleared */
static inline dinsn *fl_done(cpu_t *c, dinsn *d, sse_io *io)
{
    if (UNLIKELY(!fpu_sse(d->variant, &c->mxcsr, &c->host_mxcsr, io)))
        return raise_xm(c, d);
    flags_set(c, io->i);
    return d->next;
}

static dinsn *fl_r(cpu_t *c, dinsn *d)
{
    sse_io io = IO_X(d->reg0);
    io.y[0] = c->xmm[d->reg1][0], io.y[1] = c->xmm[d->reg1][1];
    return fl_done(c, d, &io);
}

#define FL_M(size)                                                                             \
    static dinsn *fl_m##size(cpu_t *c, dinsn *d)                                               \
    {                                                                                          \
        sse_io io = IO_X(d->reg0);                                                             \
        SRC_MEM(size, io.y);                                                                   \
        return fl_done(c, d, &io);                                                             \
    }
FL_M(4)
FL_M(8)

/* ---------------------------------------------------- ldmxcsr / stmxcsr */

/* a reserved bit set is #GP, MXCSR unchanged */
static dinsn *ldmxcsr_m(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    LOAD(a, 32, v);
    if (!fpu_mxcsr_ok((uint32_t)v))
        return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);
    c->mxcsr = (uint32_t)v;
    return d->next;
}

static dinsn *stmxcsr_m(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    STORE(a, 32, c->mxcsr);
    return d->next;
}

/* ------------------------------------------------------------ decoders */

/* The memory operand's size comes from the decoder table, not from
 * Capstone: Capstone 4 says xmmword for the m32/m64 of comiss/comisd. */
static bool is_mem(const view *v, unsigned i)
{
    return v->op[i].kind == OP_MEM;
}

/* the memory operand's size for each table index 0..4: 4, 8, 16 */
static unsigned msize_idx(unsigned msize)
{
    return msize == 4 ? 0 : msize == 8 ? 1 : 2;
}

/* xmm, xmm/mem; cmpps & co with an imm8 (Capstone's generic cmp ids, for
 * predicates it does not spell) add its low three bits, as hardware does */
exec_fn dec_sse_fp(view *v, dinsn *d, unsigned arg)
{
    static const exec_fn MEM[] = { xx_m4, xx_m8, xx_m16 };
    unsigned op = ARG_OP(arg), msize = ARG_MSIZE(arg);
    if (v->n == 3 && v->op[2].kind == OP_IMM && op >= FOP_CMPPS)
        op += v->op[2].imm & 7, v->n = 2;
    if (v->n != 2 || !xmm_at(v, 0))
        return NULL;
    d->variant = (uint8_t)op;
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    if (xmm_at(v, 1))
        return xx_r;
    return is_mem(v, 1) ? MEM[msize_idx(msize)] : NULL;
}

/* cvtsi2ss/sd xmm, r/m32/64: arg is the 32-bit operation, +1 the 64-bit */
exec_fn dec_sse_cvtsi(view *v, dinsn *d, unsigned arg)
{
    const opnd *s = &v->op[1];
    if (v->n != 2 || !xmm_at(v, 0) || (s->size != 4 && s->size != 8))
        return NULL;
    bool q = s->size == 8;
    d->variant = (uint8_t)(ARG_OP(arg) + q);
    d->reg0 = v->op[0].slot, d->reg1 = s->slot;
    if (s->kind == OP_REG && !s->shift)
        return q ? xi_r64 : xi_r32;
    return s->kind == OP_MEM ? (q ? xi_m64 : xi_m32) : NULL;
}

/* cvt(t)ss2si / cvt(t)sd2si r32/64, xmm/m32|m64 */
exec_fn dec_sse_cvt2si(view *v, dinsn *d, unsigned arg)
{
    static const exec_fn TAB[2][3] = { { ix_r32, ix_m4_32, ix_m8_32 }, { ix_r64, ix_m4_64, ix_m8_64 } };
    const opnd *r = &v->op[0];
    unsigned msize = ARG_MSIZE(arg);
    if (v->n != 2 || r->kind != OP_REG || r->shift || (r->size != 4 && r->size != 8))
        return NULL;
    bool q = r->size == 8;
    d->variant = (uint8_t)(ARG_OP(arg) + q);
    d->reg0 = r->slot, d->reg1 = v->op[1].slot;
    if (xmm_at(v, 1))
        return TAB[q][0];
    return is_mem(v, 1) ? TAB[q][1 + (msize == 8)] : NULL;
}

/* comiss comisd ucomiss ucomisd xmm, xmm/m32|m64 */
exec_fn dec_sse_comis(view *v, dinsn *d, unsigned arg)
{
    unsigned msize = ARG_MSIZE(arg);
    if (v->n != 2 || !xmm_at(v, 0))
        return NULL;
    d->variant = (uint8_t)ARG_OP(arg);
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    if (xmm_at(v, 1))
        return fl_r;
    return is_mem(v, 1) ? (msize == 4 ? fl_m4 : fl_m8) : NULL;
}

/* ldmxcsr (arg 0) / stmxcsr (arg 1) m32 */
exec_fn dec_sse_mxcsr(view *v, dinsn *d, unsigned store)
{
    (void)d;
    if (v->n != 1 || !mem_at(v, 0, 4))
        return NULL;
    return store ? stmxcsr_m : ldmxcsr_m;
}
