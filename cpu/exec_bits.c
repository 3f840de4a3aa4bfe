/*
 * exec_bits.c - shifts and rotates, shld/shrd, bit tests and scans, and
 * the data movers with a twist: movzx/movsx, lea, imul with 2-3 operands,
 * cmovcc, setcc, xchg, cmpxchg, xadd, bswap.
 *
 * Flags of shifts follow the SDM where defined. Where it leaves them
 * undefined we do as Unicorn (QEMU): AF = 0; OF = MSB(result) ^ MSB(value
 * shifted by count-1) for every non-zero count; CF from the same value.
 */
#include "exec.h"

/* -------------------------------------------------------- shifts, rotates */

static inline unsigned count_mask(unsigned bits)
{
    return bits == 64 ? 63 : 31;
}

/* Each computes the result and flags; false for a zero count: nothing
 * changes then, not even flags. */
static inline bool sh_shl(const cpu_t *c, uint64_t v, unsigned n, unsigned bits, uint64_t *r, lflags *f)
{
    (void)c;
    if (!n)
        return false;
    uint64_t t = v << (n - 1);
    *r = t << 1;
    *f = lf_cf_of(*r, bits, MSB(t, bits), MSB(*r ^ t, bits));
    return true;
}

static inline bool sh_shr(const cpu_t *c, uint64_t v, unsigned n, unsigned bits, uint64_t *r, lflags *f)
{
    (void)c;
    if (!n)
        return false;
    uint64_t t = v >> (n - 1);
    *r = t >> 1;
    *f = lf_cf_of(*r, bits, t & 1, MSB(*r ^ t, bits));
    return true;
}

static inline bool sh_sar(const cpu_t *c, uint64_t v, unsigned n, unsigned bits, uint64_t *r, lflags *f)
{
    (void)c;
    if (!n)
        return false;
    uint64_t t = (uint64_t)((int64_t)SX(v, bits) >> (n - 1));
    *r = (uint64_t)((int64_t)t >> 1);
    *f = lf_cf_of(*r, bits, t & 1, 0);
    return true;
}

/* rotates change only CF and OF */
static inline lflags with_cf_of(const cpu_t *c, unsigned cf, unsigned of)
{
    uint64_t aux = (c->lf_aux & ~(3ull << 62)) | ((uint64_t)cf << 63) | ((uint64_t)(cf ^ of) << 62);
    return (lflags){ c->lf_res, aux };
}

static inline bool sh_rol(const cpu_t *c, uint64_t v, unsigned n, unsigned bits, uint64_t *r, lflags *f)
{
    if (!n)
        return false;
    n %= bits;
    *r = n ? ((v << n) | (v >> (bits - n))) & MASK(bits) : v;
    unsigned cf = *r & 1;
    *f = with_cf_of(c, cf, MSB(*r, bits) ^ cf);
    return true;
}

static inline bool sh_ror(const cpu_t *c, uint64_t v, unsigned n, unsigned bits, uint64_t *r, lflags *f)
{
    if (!n)
        return false;
    n %= bits;
    *r = n ? ((v >> n) | (v << (bits - n))) & MASK(bits) : v;
    unsigned cf = MSB(*r, bits);
    *f = with_cf_of(c, cf, cf ^ (unsigned)((*r >> (bits - 2)) & 1));
    return true;
}

#define SH_REG(name, form, bits, count)                                                        \
    static dinsn *name##_##form##bits(cpu_t *c, dinsn *d)                                      \
    {                                                                                          \
        uint64_t r;                                                                            \
        lflags f;                                                                              \
        if (sh_##name(c, get_reg(c, d->reg0, d->reg0_lsb, bits), (count), bits, &r, &f)) {             \
            put_reg(c, d->reg0, d->reg0_lsb, bits, r);                                                 \
            lf_commit(c, f);                                                                   \
        } else if (bits == 32) { /* a zero count still writes: upper half cleared */           \
            put_reg(c, d->reg0, 0, 32, c->regs[d->reg0]);                                          \
        }                                                                                      \
        return d->next;                                                                        \
    }

#define SH_MEM(name, form, bits, count)                                                        \
    static dinsn *name##_##form##bits(cpu_t *c, dinsn *d)                                      \
    {                                                                                          \
        uint64_t a = ea(c, d), r;                                                              \
        LOAD(a, bits, m);                                                                      \
        lflags f;                                                                              \
        if (sh_##name(c, m, (count), bits, &r, &f)) {                                          \
            STORE(a, bits, r);                                                                 \
            lf_commit(c, f);                                                                   \
        }                                                                                      \
        return d->next;                                                                        \
    }

#define CL(bits) ((unsigned)c->regs[CPU_RCX] & count_mask(bits))
#define SH_DEF(name, bits)                                                                     \
    SH_REG(name, ri, bits, (unsigned)d->imm)                                                   \
    SH_REG(name, rc, bits, CL(bits))                                                           \
    SH_MEM(name, mi, bits, (unsigned)d->imm)                                                   \
    SH_MEM(name, mc, bits, CL(bits))

#define SH_ALL(name) SH_DEF(name, 8) SH_DEF(name, 16) SH_DEF(name, 32) SH_DEF(name, 64)
SH_ALL(rol)
SH_ALL(ror)
SH_ALL(shl)
SH_ALL(shr)
SH_ALL(sar)

#define SH_ROW(n) { SIZES4(n##_ri, ), SIZES4(n##_rc, ), SIZES4(n##_mi, ), SIZES4(n##_mc, ) }
const exec_fn exec_shift[SH_N][SHF_N][4] = { SH_ROW(rol), SH_ROW(ror), SH_ROW(shl), SH_ROW(shr), SH_ROW(sar) };

/* ----------------------------------------------------------- shld / shrd */

/* Shifts dst by n, filling from src, on a double-width value. For 16 bits
 * the value is dst:src:dst, which gives Unicorn's result for counts above
 * 16 (undefined in the SDM). */
static inline bool shd(bool right, uint64_t dst, uint64_t src, unsigned n, unsigned bits, uint64_t *r,
                       lflags *f)
{
    if (!n)
        return false;
    unsigned __int128 w;
    unsigned wb = bits == 16 ? 48 : 2 * bits;
    if (bits == 16)
        w = ((unsigned __int128)dst << 32) | (src << 16) | dst;
    else
        w = right ? ((unsigned __int128)src << bits) | dst : ((unsigned __int128)dst << bits) | src;
    uint64_t t, tof;
    if (right) {
        *r = (uint64_t)(w >> n) & MASK(bits);
        t = (uint64_t)(w >> (n - 1)) & MASK(bits);
        tof = bits == 64 ? dst >> (n - 1) : t; /* Unicorn's OF for counts above 1 */
        *f = lf_cf_of(*r, bits, t & 1, MSB(*r ^ tof, bits));
    } else {
        *r = (uint64_t)((w << n) >> (wb - bits)) & MASK(bits);
        t = (uint64_t)((w << (n - 1)) >> (wb - bits)) & MASK(bits);
        *f = lf_cf_of(*r, bits, MSB(t, bits), MSB(*r ^ t, bits));
    }
    return true;
}

#define SHD_REG(name, right, form, bits, count)                                                \
    static dinsn *name##_##form##bits(cpu_t *c, dinsn *d)                                      \
    {                                                                                          \
        uint64_t r;                                                                            \
        lflags f;                                                                              \
        if (shd(right, get_reg(c, d->reg0, 0, bits), get_reg(c, d->reg1, 0, bits), (count), bits, &r, &f)) { \
            put_reg(c, d->reg0, 0, bits, r);                                                     \
            lf_commit(c, f);                                                                   \
        } else if (bits == 32) { /* a zero count still writes: upper half cleared */           \
            put_reg(c, d->reg0, 0, 32, c->regs[d->reg0]);                                          \
        }                                                                                      \
        return d->next;                                                                        \
    }

#define SHD_MEM(name, right, form, bits, count)                                                \
    static dinsn *name##_##form##bits(cpu_t *c, dinsn *d)                                      \
    {                                                                                          \
        uint64_t a = ea(c, d), r;                                                              \
        LOAD(a, bits, m);                                                                      \
        lflags f;                                                                              \
        if (shd(right, m, get_reg(c, d->reg0, 0, bits), (count), bits, &r, &f)) {               \
            STORE(a, bits, r);                                                                 \
            lf_commit(c, f);                                                                   \
        }                                                                                      \
        return d->next;                                                                        \
    }

#define SHD_DEF(name, right, bits)                                                             \
    SHD_REG(name, right, ri, bits, (unsigned)d->imm)                                           \
    SHD_REG(name, right, rc, bits, CL(bits))                                                   \
    SHD_MEM(name, right, mi, bits, (unsigned)d->imm)                                           \
    SHD_MEM(name, right, mc, bits, CL(bits))

SHD_DEF(shld, false, 16)
SHD_DEF(shld, false, 32)
SHD_DEF(shld, false, 64)
SHD_DEF(shrd, true, 16)
SHD_DEF(shrd, true, 32)
SHD_DEF(shrd, true, 64)

#define SHD_ROW(n) { SIZES3(n##_ri, ), SIZES3(n##_rc, ), SIZES3(n##_mi, ), SIZES3(n##_mc, ) }
const exec_fn exec_dshift[2][SHF_N][3] = { SHD_ROW(shld), SHD_ROW(shrd) };

/* ----------------------------------------------------- movzx, movsx, lea */

#define EXT_DEF(sg, sb, db)                                                                    \
    static dinsn *ext##sg##_r##sb##_##db(cpu_t *c, dinsn *d)                                   \
    {                                                                                          \
        uint64_t v = get_reg(c, d->reg1, d->reg1_lsb, sb);                                             \
        put_reg(c, d->reg0, 0, db, sg ? SX(v, sb) : v);                                          \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *ext##sg##_m##sb##_##db(cpu_t *c, dinsn *d)                                   \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, sb, v);                                                                        \
        put_reg(c, d->reg0, 0, db, sg ? SX(v, sb) : v);                                          \
        return d->next;                                                                        \
    }

#define EXT_SG(sg)                                                                             \
    EXT_DEF(sg, 8, 16) EXT_DEF(sg, 8, 32) EXT_DEF(sg, 8, 64) EXT_DEF(sg, 16, 16)                \
    EXT_DEF(sg, 16, 32) EXT_DEF(sg, 16, 64) EXT_DEF(sg, 32, 32) EXT_DEF(sg, 32, 64)
EXT_SG(0)
EXT_SG(1)

#define EXT_FORM(sg, f)                                                                        \
    {                                                                                          \
        { ext##sg##_##f##8_16, ext##sg##_##f##8_32, ext##sg##_##f##8_64 },                     \
        { ext##sg##_##f##16_16, ext##sg##_##f##16_32, ext##sg##_##f##16_64 },                  \
        { NULL, ext##sg##_##f##32_32, ext##sg##_##f##32_64 },                                  \
    }
const exec_fn exec_ext[2][2][3][3] = { { EXT_FORM(0, r), EXT_FORM(0, m) }, { EXT_FORM(1, r), EXT_FORM(1, m) } };

#define LEA_DEF(bits)                                                                          \
    static dinsn *lea##bits(cpu_t *c, dinsn *d)                                                \
    {                                                                                          \
        put_reg(c, d->reg0, 0, bits, ea_noseg(c, d));                                            \
        return d->next;                                                                        \
    }
LEA_DEF(16)
LEA_DEF(32)
LEA_DEF(64)
const exec_fn exec_lea[3] = { lea16, lea32, lea64 };

/* ---------------------------------------------------- imul, 2 and 3 operands */

static inline uint64_t imul_n(uint64_t a, uint64_t b, unsigned bits, lflags *f)
{
    int64_t x = (int64_t)SX(a, bits), y = (int64_t)SX(b, bits);
    uint64_t lo;
    bool over;
    if (bits == 64) {
        __int128 p = (__int128)x * y;
        lo = (uint64_t)p;
        over = p != (__int128)(int64_t)lo;
    } else {
        int64_t p = x * y;
        lo = (uint64_t)p & MASK(bits);
        over = p != (int64_t)SX(lo, bits);
    }
    *f = lf_cf_of(lo, bits, over, over);
    return lo;
}

#define IMUL_DEF(bits)                                                                         \
    static dinsn *imul_rr##bits(cpu_t *c, dinsn *d)                                            \
    {                                                                                          \
        lflags f;                                                                              \
        uint64_t r = imul_n(get_reg(c, d->reg0, 0, bits), get_reg(c, d->reg1, 0, bits), bits, &f); \
        put_reg(c, d->reg0, 0, bits, r);                                                         \
        lf_commit(c, f);                                                                       \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *imul_rm##bits(cpu_t *c, dinsn *d)                                            \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, m);                                                                      \
        lflags f;                                                                              \
        uint64_t r = imul_n(get_reg(c, d->reg0, 0, bits), m, bits, &f);                          \
        put_reg(c, d->reg0, 0, bits, r);                                                         \
        lf_commit(c, f);                                                                       \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *imul_rri##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        lflags f;                                                                              \
        uint64_t r = imul_n(get_reg(c, d->reg1, 0, bits), d->imm, bits, &f);                     \
        put_reg(c, d->reg0, 0, bits, r);                                                         \
        lf_commit(c, f);                                                                       \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *imul_rmi##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, m);                                                                      \
        lflags f;                                                                              \
        uint64_t r = imul_n(m, d->imm, bits, &f);                                              \
        put_reg(c, d->reg0, 0, bits, r);                                                         \
        lf_commit(c, f);                                                                       \
        return d->next;                                                                        \
    }
IMUL_DEF(16)
IMUL_DEF(32)
IMUL_DEF(64)
const exec_fn exec_imul2[4][3] = { SIZES3(imul_rr, ), SIZES3(imul_rm, ), SIZES3(imul_rri, ), SIZES3(imul_rmi, ) };

/* ------------------------------------------------------- bt bts btr btc */

static inline uint64_t bt_apply(unsigned op, uint64_t v, unsigned bit)
{
    uint64_t m = 1ull << bit;
    return op == BT_BTS ? v | m : op == BT_BTR ? v & ~m : op == BT_BTC ? v ^ m : v;
}

static inline unsigned log2_bits(unsigned bits)
{
    return bits == 16 ? 4 : bits == 32 ? 5 : 6;
}

#define BT_DEF(name, op, bits)                                                                 \
    static dinsn *name##_rr##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        uint64_t v = get_reg(c, d->reg0, 0, bits);                                               \
        unsigned bit = (unsigned)c->regs[d->reg1] & (bits - 1);                                  \
        if (op != BT_BT)                                                                       \
            put_reg(c, d->reg0, 0, bits, bt_apply(op, v, bit));                                  \
        set_cf(c, (v >> bit) & 1);                                                             \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_ri##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        uint64_t v = get_reg(c, d->reg0, 0, bits);                                               \
        unsigned bit = (unsigned)d->imm & (bits - 1);                                          \
        if (op != BT_BT)                                                                       \
            put_reg(c, d->reg0, 0, bits, bt_apply(op, v, bit));                                  \
        set_cf(c, (v >> bit) & 1);                                                             \
        return d->next;                                                                        \
    }                                                                                          \
    /* a register bit offset is signed and may leave the addressed word */                    \
    static dinsn *name##_mr##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        int64_t off = (int64_t)SX(c->regs[d->reg0], bits);                                       \
        uint64_t a = ea(c, d) + (uint64_t)((off >> log2_bits(bits)) * (bits / 8));             \
        unsigned bit = (unsigned)off & (bits - 1);                                             \
        LOAD(a, bits, v);                                                                      \
        if (op != BT_BT)                                                                       \
            STORE(a, bits, bt_apply(op, v, bit));                                              \
        set_cf(c, (v >> bit) & 1);                                                             \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_mi##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        unsigned bit = (unsigned)d->imm & (bits - 1);                                          \
        LOAD(a, bits, v);                                                                      \
        if (op != BT_BT)                                                                       \
            STORE(a, bits, bt_apply(op, v, bit));                                              \
        set_cf(c, (v >> bit) & 1);                                                             \
        return d->next;                                                                        \
    }

#define BT_ALL(name, op) BT_DEF(name, op, 16) BT_DEF(name, op, 32) BT_DEF(name, op, 64)
BT_ALL(bt, BT_BT)
BT_ALL(bts, BT_BTS)
BT_ALL(btr, BT_BTR)
BT_ALL(btc, BT_BTC)

#define BT_ROW(n) { SIZES3(n##_rr, ), SIZES3(n##_ri, ), SIZES3(n##_mr, ), SIZES3(n##_mi, ) }
const exec_fn exec_bt[BT_N][4][3] = { BT_ROW(bt), BT_ROW(bts), BT_ROW(btr), BT_ROW(btc) };

/* --------------------------------------------------------------- bsf bsr */

/* A zero source sets ZF and keeps the destination (a 32-bit destination
 * still loses its upper half, as on Unicorn); other flags as a logic op. */
static inline void bs_apply(cpu_t *c, const dinsn *d, uint64_t v, unsigned bits, bool rev)
{
    uint64_t r = get_reg(c, d->reg0, 0, bits);
    if (v)
        r = rev ? 63u - (unsigned)__builtin_clzll(v) : (unsigned)__builtin_ctzll(v);
    put_reg(c, d->reg0, 0, bits, r);
    lf_commit(c, lf_logic(v, bits));
}

#define BS_DEF(name, rev, bits)                                                                \
    static dinsn *name##_r##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        bs_apply(c, d, get_reg(c, d->reg1, 0, bits), bits, rev);                                 \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_m##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, v);                                                                      \
        bs_apply(c, d, v, bits, rev);                                                          \
        return d->next;                                                                        \
    }
BS_DEF(bsf, false, 16)
BS_DEF(bsf, false, 32)
BS_DEF(bsf, false, 64)
BS_DEF(bsr, true, 16)
BS_DEF(bsr, true, 32)
BS_DEF(bsr, true, 64)
const exec_fn exec_bitscan[2][2][3] = { { SIZES3(bsf_r, ), SIZES3(bsf_m, ) }, { SIZES3(bsr_r, ), SIZES3(bsr_m, ) } };

/* ----------------------------------------------------------- cmovcc setcc */

/* the source is read whatever the condition; a 32-bit destination is
 * zero-extended even when nothing moves */
#define CMOV_DEF(cc, bits)                                                                     \
    static dinsn *cmov##cc##_r##bits(cpu_t *c, dinsn *d)                                       \
    {                                                                                          \
        uint64_t v = cond(c, cc) ? get_reg(c, d->reg1, 0, bits) : get_reg(c, d->reg0, 0, bits);    \
        put_reg(c, d->reg0, 0, bits, v);                                                         \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *cmov##cc##_m##bits(cpu_t *c, dinsn *d)                                       \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, m);                                                                      \
        put_reg(c, d->reg0, 0, bits, cond(c, cc) ? m : get_reg(c, d->reg0, 0, bits));              \
        return d->next;                                                                        \
    }                                                                                          \

#define SET_DEF(cc)                                                                            \
    static dinsn *set##cc##_r(cpu_t *c, dinsn *d)                                              \
    {                                                                                          \
        put_reg(c, d->reg0, d->reg0_lsb, 8, cond(c, cc));                                              \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *set##cc##_m(cpu_t *c, dinsn *d)                                              \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        STORE(a, 8, cond(c, cc));                                                              \
        return d->next;                                                                        \
    }

#define CC_DEF(cc) CMOV_DEF(cc, 16) CMOV_DEF(cc, 32) CMOV_DEF(cc, 64) SET_DEF(cc)
CC_DEF(0) CC_DEF(1) CC_DEF(2) CC_DEF(3) CC_DEF(4) CC_DEF(5) CC_DEF(6) CC_DEF(7)
CC_DEF(8) CC_DEF(9) CC_DEF(10) CC_DEF(11) CC_DEF(12) CC_DEF(13) CC_DEF(14) CC_DEF(15)

#define CMOV_ROW(cc) { SIZES3(cmov##cc##_r, ), SIZES3(cmov##cc##_m, ) }
const exec_fn exec_cmov[16][2][3] = {
    CMOV_ROW(0), CMOV_ROW(1), CMOV_ROW(2), CMOV_ROW(3), CMOV_ROW(4), CMOV_ROW(5), CMOV_ROW(6), CMOV_ROW(7),
    CMOV_ROW(8), CMOV_ROW(9), CMOV_ROW(10), CMOV_ROW(11), CMOV_ROW(12), CMOV_ROW(13), CMOV_ROW(14), CMOV_ROW(15),
};

#define SET_ROW(cc) { set##cc##_r, set##cc##_m }
const exec_fn exec_setcc[16][2] = {
    SET_ROW(0), SET_ROW(1), SET_ROW(2), SET_ROW(3), SET_ROW(4), SET_ROW(5), SET_ROW(6), SET_ROW(7),
    SET_ROW(8), SET_ROW(9), SET_ROW(10), SET_ROW(11), SET_ROW(12), SET_ROW(13), SET_ROW(14), SET_ROW(15),
};

/* ------------------------------------------------ xchg cmpxchg xadd bswap */

#define XCHG_DEF(bits)                                                                         \
    static dinsn *xchg_r##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        uint64_t a = get_reg(c, d->reg0, d->reg0_lsb, bits), b = get_reg(c, d->reg1, d->reg1_lsb, bits);       \
        put_reg(c, d->reg0, d->reg0_lsb, bits, b);                                                     \
        put_reg(c, d->reg1, d->reg1_lsb, bits, a);                                                     \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *xchg_m##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, m);                                                                      \
        STORE(a, bits, get_reg(c, d->reg0, d->reg0_lsb, bits));                                        \
        put_reg(c, d->reg0, d->reg0_lsb, bits, m);                                                     \
        return d->next;                                                                        \
    }

/* SDM: equal -> dst = src; else acc = dst and dst written back unchanged */
#define CMPXCHG_DEF(bits)                                                                      \
    static dinsn *cmpxchg_r##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        uint64_t acc = get_reg(c, CPU_RAX, 0, bits), v = get_reg(c, d->reg0, d->reg0_lsb, bits);       \
        lflags f = lf_sub(acc, v, acc - v, bits);                                              \
        if (acc == v) {                                                                        \
            put_reg(c, d->reg0, d->reg0_lsb, bits, get_reg(c, d->reg1, d->reg1_lsb, bits));                    \
        } else {                                                                               \
            put_reg(c, CPU_RAX, 0, bits, v);                                                   \
            put_reg(c, d->reg0, d->reg0_lsb, bits, v);                                                 \
        }                                                                                      \
        lf_commit(c, f);                                                                       \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *cmpxchg_m##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        uint64_t a = ea(c, d), acc = get_reg(c, CPU_RAX, 0, bits);                             \
        LOAD(a, bits, v);                                                                      \
        STORE(a, bits, acc == v ? get_reg(c, d->reg0, d->reg0_lsb, bits) : v);                         \
        if (acc != v)                                                                          \
            put_reg(c, CPU_RAX, 0, bits, v);                                                   \
        lf_commit(c, lf_sub(acc, v, acc - v, bits));                                           \
        return d->next;                                                                        \
    }

#define XADD_DEF(bits)                                                                         \
    static dinsn *xadd_r##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        uint64_t x = get_reg(c, d->reg0, d->reg0_lsb, bits), y = get_reg(c, d->reg1, d->reg1_lsb, bits);       \
        put_reg(c, d->reg1, d->reg1_lsb, bits, x);                                                     \
        put_reg(c, d->reg0, d->reg0_lsb, bits, x + y);                                                 \
        lf_commit(c, lf_add(x, y, x + y, bits));                                               \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *xadd_m##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        uint64_t a = ea(c, d), y = get_reg(c, d->reg0, d->reg0_lsb, bits);                             \
        LOAD(a, bits, x);                                                                      \
        STORE(a, bits, x + y);                                                                 \
        put_reg(c, d->reg0, d->reg0_lsb, bits, x);                                                     \
        lf_commit(c, lf_add(x, y, x + y, bits));                                               \
        return d->next;                                                                        \
    }

#define XC_ALL(bits) XCHG_DEF(bits) CMPXCHG_DEF(bits) XADD_DEF(bits)
XC_ALL(8)
XC_ALL(16)
XC_ALL(32)
XC_ALL(64)
const exec_fn exec_xchg[2][4] = { SIZES4(xchg_r, ), SIZES4(xchg_m, ) };
const exec_fn exec_cmpxchg[2][4] = { SIZES4(cmpxchg_r, ), SIZES4(cmpxchg_m, ) };
const exec_fn exec_xadd[2][4] = { SIZES4(xadd_r, ), SIZES4(xadd_m, ) };

static dinsn *bswap32(cpu_t *c, dinsn *d)
{
    c->regs[d->reg0] = __builtin_bswap32((uint32_t)c->regs[d->reg0]);
    return d->next;
}

static dinsn *bswap64(cpu_t *c, dinsn *d)
{
    c->regs[d->reg0] = __builtin_bswap64(c->regs[d->reg0]);
    return d->next;
}
const exec_fn exec_bswap[2] = { bswap32, bswap64 };
