/*
 * exec.h - inline helpers for the instruction handlers: sized register
 * access, effective addresses, guest memory, lazy flags, conditions.
 *
 * Handlers are generated per operand size with the size as a constant, so
 * the switches below fold away.
 */
#ifndef SOFTMMU_EXEC_H
#define SOFTMMU_EXEC_H

#include "cpu_int.h"

#define MASK(bits) (~0ull >> (64 - (bits)))
#define SX(v, bits) ((uint64_t)((int64_t)((uint64_t)(v) << (64 - (bits))) >> (64 - (bits))))
#define MSB(v, bits) ((unsigned)((v) >> ((bits) - 1)) & 1u)

/* ---------------------------------------------------------------- registers */

static inline uint64_t get_reg(const cpu_t *c, unsigned r, unsigned s, unsigned bits)
{
    uint64_t v = c->regs[r];
    return bits == 8 ? (v >> s) & 0xff : v & MASK(bits);
}

/* 32-bit writes zero-extend, 8- and 16-bit writes merge */
static inline void put_reg(cpu_t *c, unsigned r, unsigned s, unsigned bits, uint64_t v)
{
    uint64_t *p = &c->regs[r];
    switch (bits) {
    case 8:
        *p = (*p & ~(0xffull << s)) | ((v & 0xff) << s);
        break;
    case 16:
        *p = (*p & ~0xffffull) | (v & 0xffff);
        break;
    case 32:
        *p = (uint32_t)v;
        break;
    default:
        *p = v;
    }
}

/* --------------------------------------------------------- memory operands */

/* base + index*scale + disp, then the FS/GS base (absent parts are slot 0) */
static inline uint64_t ea_noseg(const cpu_t *c, const dinsn *d)
{
    uint64_t a = c->regs[d->base] + (c->regs[d->index] << d->scale) + (uint64_t)d->disp;
    return UNLIKELY(d->addr32) ? (uint32_t)a : a;
}

static inline uint64_t ea(const cpu_t *c, const dinsn *d)
{
    return ea_noseg(c, d) + c->regs[d->seg];
}

static inline mmu_err ld(cpu_t *c, uint64_t a, unsigned bits, uint64_t *out)
{
    mmu_err e;
    switch (bits) {
    case 8: {
        uint8_t v = 0;
        e = mmu_load_u8(c->mmu, a, &v);
        *out = v;
        return e;
    }
    case 16: {
        uint16_t v = 0;
        e = mmu_load_u16(c->mmu, a, &v);
        *out = v;
        return e;
    }
    case 32: {
        uint32_t v = 0;
        e = mmu_load_u32(c->mmu, a, &v);
        *out = v;
        return e;
    }
    default: {
        uint64_t v = 0;
        e = mmu_load_u64(c->mmu, a, &v);
        *out = v;
        return e;
    }
    }
}

static inline mmu_err st(cpu_t *c, uint64_t a, unsigned bits, uint64_t v)
{
    switch (bits) {
    case 8:
        return mmu_store_u8(c->mmu, a, (uint8_t)v);
    case 16:
        return mmu_store_u16(c->mmu, a, (uint16_t)v);
    case 32:
        return mmu_store_u32(c->mmu, a, (uint32_t)v);
    default:
        return mmu_store_u64(c->mmu, a, v);
    }
}

/* load / store into a local, leaving the handler on a fault */
#define LOAD(addr, bits, var)                                                  \
    uint64_t var;                                                              \
    do {                                                                       \
        mmu_err e_ = ld(c, (addr), (bits), &var);                              \
        if (UNLIKELY(e_))                                                      \
            return exec_fault(c, d, e_, (addr), (bits) / 8);                   \
    } while (0)

#define STORE(addr, bits, val)                                                 \
    do {                                                                       \
        mmu_err e_ = st(c, (addr), (bits), (val));                             \
        if (UNLIKELY(e_))                                                      \
            return exec_fault(c, d, e_, (addr), (bits) / 8);                   \
    } while (0)

/* ------------------------------------------------------------- lazy flags */

typedef struct lflags {
    uint64_t res, aux;
} lflags;

static inline void lf_commit(cpu_t *c, lflags f)
{
    c->lf_res = f.res;
    c->lf_aux = f.aux;
}

/* carries out of bits-1 (CF) and bits-2 (PO = CF^OF), and out of bit 3 (AF) */
static inline uint64_t pack_cv(uint64_t cv, unsigned bits)
{
    return ((cv >> (bits - 2)) << 62) | (cv & 8);
}

static inline lflags lf_add(uint64_t a, uint64_t b, uint64_t r, unsigned bits)
{
    uint64_t cv = (a & b) | ((a | b) & ~r);
    return (lflags){ SX(r, bits), pack_cv(cv, bits) };
}

static inline lflags lf_sub(uint64_t a, uint64_t b, uint64_t r, unsigned bits)
{
    uint64_t bv = (~a & b) | (~(a ^ b) & r);
    return (lflags){ SX(r, bits), pack_cv(bv, bits) };
}

static inline lflags lf_logic(uint64_t r, unsigned bits)
{
    return (lflags){ SX(r, bits), 0 };
}

/* explicit CF and OF; AF cleared */
static inline lflags lf_cf_of(uint64_t r, unsigned bits, unsigned cf, unsigned of)
{
    return (lflags){ SX(r, bits), ((uint64_t)cf << 63) | ((uint64_t)(cf ^ of) << 62) };
}

static inline unsigned get_cf(const cpu_t *c)
{
    return (unsigned)(c->lf_aux >> 63);
}

static inline unsigned get_of(const cpu_t *c)
{
    return (unsigned)((c->lf_aux >> 63) ^ (c->lf_aux >> 62)) & 1u;
}

static inline unsigned get_zf(const cpu_t *c)
{
    return c->lf_res == 0;
}

static inline unsigned get_sf(const cpu_t *c)
{
    return (unsigned)((c->lf_res >> 63) ^ (c->lf_aux >> LF_SFD)) & 1u;
}

static inline unsigned get_pf(const cpu_t *c)
{
    return (unsigned)(!__builtin_parityll(c->lf_res & 0xff) ^ ((c->lf_aux >> LF_PFD) & 1));
}

static inline unsigned get_af(const cpu_t *c)
{
    return (unsigned)(c->lf_aux >> LF_AF) & 1u;
}

/* changes CF (and PO with it, so OF stays) */
static inline void set_cf(cpu_t *c, unsigned cf)
{
    uint64_t flip = (get_cf(c) ^ cf) & 1u;
    c->lf_aux ^= (flip << 63) | (flip << 62);
}

/* changes CF and OF only (rotates) */
static inline void set_cf_of(cpu_t *c, unsigned cf, unsigned of)
{
    c->lf_aux = (c->lf_aux & ~(3ull << 62)) | ((uint64_t)cf << 63) | ((uint64_t)(cf ^ of) << 62);
}

/* Intel condition codes: O NO B AE E NE BE A S NS P NP L GE LE G */
static inline bool cond(const cpu_t *c, unsigned cc)
{
    bool r;
    switch (cc >> 1) {
    case 0: r = get_of(c); break;
    case 1: r = get_cf(c); break;
    case 2: r = get_zf(c); break;
    case 3: r = get_cf(c) | get_zf(c); break;
    case 4: r = get_sf(c); break;
    case 5: r = get_pf(c); break;
    case 6: r = get_sf(c) ^ get_of(c); break;
    default: r = get_zf(c) | (get_sf(c) ^ get_of(c)); break;
    }
    return r ^ (cc & 1);
}

/* --------------------------------------------------------- table helpers */

#define SIZES4(p, s) { p##8##s, p##16##s, p##32##s, p##64##s }
#define SIZES3(p, s) { p##16##s, p##32##s, p##64##s }

#endif
