/*
 * exec_alu.c - handlers of the two-operand integer instructions: the eight
 * ALU ops and test, mov, and the unary group (inc dec not neg mul imul div
 * idiv). One handler per (operation, operand form, size), generated below.
 *
 * Memory forms load, compute, store, and only then commit flags and
 * registers, so a faulting instruction changes nothing.
 */
#include "exec.h"

/* ----------------------------------------------------------- ALU operations */

#define ALU_OP(name, expr, flagfn)                                                            \
    static inline uint64_t op_##name(const cpu_t *c, uint64_t a, uint64_t b, unsigned bits,    \
                                     lflags *f)                                               \
    {                                                                                         \
        (void)c;                                                                              \
        uint64_t r = (expr);                                                                  \
        *f = flagfn;                                                                          \
        return r;                                                                             \
    }

ALU_OP(add, a + b, lf_add(a, b, r, bits))
ALU_OP(or, a | b, lf_logic(r, bits))
ALU_OP(adc, a + b + get_cf(c), lf_add(a, b, r, bits))
ALU_OP(sbb, a - b - get_cf(c), lf_sub(a, b, r, bits))
ALU_OP(and, a & b, lf_logic(r, bits))
ALU_OP(sub, a - b, lf_sub(a, b, r, bits))
ALU_OP(xor, a ^ b, lf_logic(r, bits))
ALU_OP(cmp, a - b, lf_sub(a, b, r, bits))
ALU_OP(test, a & b, lf_logic(r, bits))

/* r1 = dst register (or the source register of MR), r2 = source register */
#define ALU_DEF(name, wr, bits)                                                                \
    static dinsn *name##_rr##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        lflags f;                                                                              \
        uint64_t r = op_##name(c, get_reg(c, d->reg0, d->reg0_lsb, bits), get_reg(c, d->reg1, d->reg1_lsb, bits), \
                               bits, &f);                                                      \
        if (wr)                                                                                \
            put_reg(c, d->reg0, d->reg0_lsb, bits, r);                                                 \
        lf_commit(c, f);                                                                       \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_ri##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        lflags f;                                                                              \
        uint64_t r = op_##name(c, get_reg(c, d->reg0, d->reg0_lsb, bits), d->imm, bits, &f);           \
        if (wr)                                                                                \
            put_reg(c, d->reg0, d->reg0_lsb, bits, r);                                                 \
        lf_commit(c, f);                                                                       \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_rm##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, m);                                                                      \
        lflags f;                                                                              \
        uint64_t r = op_##name(c, get_reg(c, d->reg0, d->reg0_lsb, bits), m, bits, &f);                \
        if (wr)                                                                                \
            put_reg(c, d->reg0, d->reg0_lsb, bits, r);                                                 \
        lf_commit(c, f);                                                                       \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_mr##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, m);                                                                      \
        lflags f;                                                                              \
        uint64_t r = op_##name(c, m, get_reg(c, d->reg0, d->reg0_lsb, bits), bits, &f);                \
        if (wr)                                                                                \
            STORE(a, bits, r);                                                                 \
        lf_commit(c, f);                                                                       \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_mi##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, m);                                                                      \
        lflags f;                                                                              \
        uint64_t r = op_##name(c, m, d->imm, bits, &f);                                        \
        if (wr)                                                                                \
            STORE(a, bits, r);                                                                 \
        lf_commit(c, f);                                                                       \
        return d->next;                                                                        \
    }

#define ALU_ALL(name, wr) ALU_DEF(name, wr, 8) ALU_DEF(name, wr, 16) ALU_DEF(name, wr, 32) ALU_DEF(name, wr, 64)

ALU_ALL(add, 1)
ALU_ALL(or, 1)
ALU_ALL(adc, 1)
ALU_ALL(sbb, 1)
ALU_ALL(and, 1)
ALU_ALL(sub, 1)
ALU_ALL(xor, 1)
ALU_ALL(cmp, 0)
ALU_ALL(test, 0)

#define ALU_ROW(n) { SIZES4(n##_rr, ), SIZES4(n##_ri, ), SIZES4(n##_rm, ), SIZES4(n##_mr, ), SIZES4(n##_mi, ) }

const exec_fn exec_alu[ALU_N][F_N][4] = {
    ALU_ROW(add), ALU_ROW(or), ALU_ROW(adc), ALU_ROW(sbb), ALU_ROW(and),
    ALU_ROW(sub), ALU_ROW(xor), ALU_ROW(cmp), ALU_ROW(test),
};

/* ---------------------------------------------------------------------- mov */

#define MOV_DEF(bits)                                                                          \
    static dinsn *mov_rr##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        put_reg(c, d->reg0, d->reg0_lsb, bits, get_reg(c, d->reg1, d->reg1_lsb, bits));                        \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *mov_ri##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        put_reg(c, d->reg0, d->reg0_lsb, bits, d->imm);                                                \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *mov_rm##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, m);                                                                      \
        put_reg(c, d->reg0, d->reg0_lsb, bits, m);                                                     \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *mov_mr##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        STORE(a, bits, get_reg(c, d->reg0, d->reg0_lsb, bits));                                        \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *mov_mi##bits(cpu_t *c, dinsn *d)                                             \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        STORE(a, bits, d->imm);                                                                \
        return d->next;                                                                        \
    }

MOV_DEF(8)
MOV_DEF(16)
MOV_DEF(32)
MOV_DEF(64)

const exec_fn exec_mov[F_N][4] = {
    SIZES4(mov_rr, ), SIZES4(mov_ri, ), SIZES4(mov_rm, ), SIZES4(mov_mr, ), SIZES4(mov_mi, ),
};

/* ------------------------------------------------------------ unary group */

/* inc/dec keep CF */
static inline lflags lf_incdec(const cpu_t *c, lflags f)
{
    uint64_t of = ((f.aux >> 63) ^ (f.aux >> 62)) & 1, cf = c->lf_aux >> 63;
    f.aux = (cf << 63) | ((cf ^ of) << 62) | (f.aux & 8);
    return f;
}

/* Computes op(v) into *r and *f; returns false when flags stay (not). */
static inline bool un_inc(const cpu_t *c, uint64_t v, unsigned bits, uint64_t *r, lflags *f)
{
    *r = v + 1;
    *f = lf_incdec(c, lf_add(v, 1, *r, bits));
    return true;
}

static inline bool un_dec(const cpu_t *c, uint64_t v, unsigned bits, uint64_t *r, lflags *f)
{
    *r = v - 1;
    *f = lf_incdec(c, lf_sub(v, 1, *r, bits));
    return true;
}

static inline bool un_not(const cpu_t *c, uint64_t v, unsigned bits, uint64_t *r, lflags *f)
{
    (void)c, (void)bits, (void)f;
    *r = ~v;
    return false;
}

static inline bool un_neg(const cpu_t *c, uint64_t v, unsigned bits, uint64_t *r, lflags *f)
{
    (void)c;
    *r = 0 - v;
    *f = lf_sub(0, v, *r, bits);
    return true;
}

#define UN_DEF(name, bits)                                                                     \
    static dinsn *name##_r##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        uint64_t r;                                                                            \
        lflags f;                                                                              \
        bool fl = un_##name(c, get_reg(c, d->reg0, d->reg0_lsb, bits), bits, &r, &f);                  \
        put_reg(c, d->reg0, d->reg0_lsb, bits, r);                                                     \
        if (fl)                                                                                \
            lf_commit(c, f);                                                                   \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_m##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        uint64_t a = ea(c, d), r;                                                              \
        LOAD(a, bits, m);                                                                      \
        lflags f;                                                                              \
        bool fl = un_##name(c, m, bits, &r, &f);                                               \
        STORE(a, bits, r);                                                                     \
        if (fl)                                                                                \
            lf_commit(c, f);                                                                   \
        return d->next;                                                                        \
    }

#define UN_ALL(name) UN_DEF(name, 8) UN_DEF(name, 16) UN_DEF(name, 32) UN_DEF(name, 64)
UN_ALL(inc)
UN_ALL(dec)
UN_ALL(not)
UN_ALL(neg)

/* ------------------------------------------------------ mul/imul/div/idiv */

/* the accumulator pair: AX (8-bit: AL:AH in one register), DX:AX, EDX:EAX, RDX:RAX */
static inline void put_pair(cpu_t *c, unsigned bits, uint64_t lo, uint64_t hi)
{
    if (bits == 8) {
        put_reg(c, CPU_RAX, 0, 16, (lo & 0xff) | ((hi & 0xff) << 8));
        return;
    }
    put_reg(c, CPU_RAX, 0, bits, lo);
    put_reg(c, CPU_RDX, 0, bits, hi);
}

/* CF = OF = the high half matters; SF ZF PF from the low half, AF 0 (as Unicorn) */
static inline void mul_flags(cpu_t *c, uint64_t lo, unsigned bits, bool over)
{
    lf_commit(c, lf_cf_of(lo, bits, over, over));
}

static inline void do_mul(cpu_t *c, uint64_t v, unsigned bits)
{
    uint64_t a = get_reg(c, CPU_RAX, 0, bits), lo, hi;
    if (bits == 64) {
        unsigned __int128 p = (unsigned __int128)a * v;
        lo = (uint64_t)p, hi = (uint64_t)(p >> 64);
    } else {
        uint64_t p = a * v;
        lo = p & MASK(bits), hi = p >> bits;
    }
    put_pair(c, bits, lo, hi);
    mul_flags(c, lo, bits, hi != 0);
}

static inline void do_imul(cpu_t *c, uint64_t v, unsigned bits)
{
    int64_t a = (int64_t)SX(get_reg(c, CPU_RAX, 0, bits), bits), b = (int64_t)SX(v, bits);
    uint64_t lo, hi;
    bool over;
    if (bits == 64) {
        __int128 p = (__int128)a * b;
        lo = (uint64_t)p, hi = (uint64_t)((unsigned __int128)p >> 64);
        over = p != (__int128)(int64_t)lo;
    } else {
        int64_t p = a * b;
        lo = (uint64_t)p & MASK(bits), hi = ((uint64_t)p >> bits) & MASK(bits);
        over = p != (int64_t)SX(lo, bits);
    }
    put_pair(c, bits, lo, hi);
    mul_flags(c, lo, bits, over);
}

/* the dividend pair as an unsigned 128-bit value */
static inline unsigned __int128 dividend(const cpu_t *c, unsigned bits)
{
    if (bits == 8)
        return get_reg(c, CPU_RAX, 0, 16);
    return ((unsigned __int128)get_reg(c, CPU_RDX, 0, bits) << bits) | get_reg(c, CPU_RAX, 0, bits);
}

/* false = #DE (divide by zero or quotient too big); nothing changed then */
static inline bool do_div(cpu_t *c, uint64_t v, unsigned bits)
{
    if (v == 0)
        return false;
    unsigned __int128 n = dividend(c, bits), q = n / v;
    if (q > MASK(bits))
        return false;
    put_pair(c, bits, (uint64_t)q, (uint64_t)(n % v));
    return true;
}

static inline bool do_idiv(cpu_t *c, uint64_t v, unsigned bits)
{
    __int128 den = (int64_t)SX(v, bits);
    if (den == 0)
        return false;
    /* sign-extend the 2*bits-wide dividend */
    unsigned __int128 un = dividend(c, bits);
    unsigned wide = 2 * bits;
    __int128 n = wide == 128 ? (__int128)un : (__int128)(un << (128 - wide)) >> (128 - wide);
    if (den == -1 && wide == 128 && un == (unsigned __int128)1 << 127)
        return false; /* INT128_MIN / -1 overflows the division itself */
    __int128 q = n / den, r = n % den;
    __int128 lim = (__int128)1 << (bits - 1);
    if (q >= lim || q < -lim)
        return false;
    put_pair(c, bits, (uint64_t)q & MASK(bits), (uint64_t)r & MASK(bits));
    return true;
}

#define MULDIV_DEF(name, bits)                                                                 \
    static dinsn *name##_r##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        if (!do_##name(c, get_reg(c, d->reg0, d->reg0_lsb, bits), bits))                               \
            return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);                                  \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_m##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, m);                                                                      \
        if (!do_##name(c, m, bits))                                                            \
            return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);                                  \
        return d->next;                                                                        \
    }

static inline bool do_mul_ok(cpu_t *c, uint64_t v, unsigned bits)
{
    do_mul(c, v, bits);
    return true;
}

static inline bool do_imul_ok(cpu_t *c, uint64_t v, unsigned bits)
{
    do_imul(c, v, bits);
    return true;
}

#define MULDIV_ALL(name) MULDIV_DEF(name, 8) MULDIV_DEF(name, 16) MULDIV_DEF(name, 32) MULDIV_DEF(name, 64)
MULDIV_ALL(mul_ok)
MULDIV_ALL(imul_ok)
MULDIV_ALL(div)
MULDIV_ALL(idiv)

#define UN_ROW(n) { SIZES4(n##_r, ), SIZES4(n##_m, ) }

const exec_fn exec_unary[UN_N][2][4] = {
    UN_ROW(inc), UN_ROW(dec), UN_ROW(not), UN_ROW(neg),
    UN_ROW(mul_ok), UN_ROW(imul_ok), UN_ROW(div), UN_ROW(idiv),
};
