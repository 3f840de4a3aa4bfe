/*
 * exec_str.c - string instructions movs stos lods cmps scas, with rep,
 * repe and repne. Each iteration commits RSI/RDI/RCX, so a fault in the
 * middle of a rep leaves the completed iterations done, as hardware does.
 */
#include "exec.h"

static inline uint64_t step(const cpu_t *c, unsigned bits)
{
    return (c->regs[CPU_RFLAGS] & FL_DF) ? (uint64_t)-(int64_t)(bits / 8) : bits / 8;
}

/* one iteration; the source [rsi] takes the segment override */
static inline dinsn *str_once(cpu_t *c, dinsn *d, unsigned op, unsigned bits, uint64_t delta)
{
    uint64_t si = c->regs[CPU_RSI], di = c->regs[CPU_RDI], src = si + c->regs[d->seg];
    switch (op) {
    case STR_MOVS: {
        LOAD(src, bits, v);
        STORE(di, bits, v);
        c->regs[CPU_RSI] = si + delta, c->regs[CPU_RDI] = di + delta;
        break;
    }
    case STR_STOS:
        STORE(di, bits, c->regs[CPU_RAX]);
        c->regs[CPU_RDI] = di + delta;
        break;
    case STR_LODS: {
        LOAD(src, bits, v);
        put_reg(c, CPU_RAX, 0, bits, v);
        c->regs[CPU_RSI] = si + delta;
        break;
    }
    case STR_CMPS: {
        LOAD(src, bits, x);
        LOAD(di, bits, y);
        lf_commit(c, lf_sub(x, y, x - y, bits));
        c->regs[CPU_RSI] = si + delta, c->regs[CPU_RDI] = di + delta;
        break;
    }
    default: {
        LOAD(di, bits, y);
        uint64_t x = get_reg(c, CPU_RAX, 0, bits);
        lf_commit(c, lf_sub(x, y, x - y, bits));
        c->regs[CPU_RDI] = di + delta;
        break;
    }
    }
    return d->next;
}

static inline dinsn *str_run(cpu_t *c, dinsn *d, unsigned op, unsigned rep, unsigned bits)
{
    uint64_t delta = step(c, bits);
    if (rep == REP_NONE)
        return str_once(c, d, op, bits, delta);
    bool cmp = op == STR_CMPS || op == STR_SCAS;
    while (c->regs[CPU_RCX]) {
        if (UNLIKELY(!str_once(c, d, op, bits, delta)))
            return NULL;
        c->regs[CPU_RCX]--;
        if (cmp && (rep == REP_REP ? !get_zf(c) : get_zf(c)))
            break;
    }
    return d->next;
}

#define STR_DEF(name, op, bits)                                                                \
    static dinsn *name##_n##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        return str_run(c, d, op, REP_NONE, bits);                                              \
    }                                                                                          \
    static dinsn *name##_r##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        return str_run(c, d, op, REP_REP, bits);                                               \
    }                                                                                          \
    static dinsn *name##_rn##bits(cpu_t *c, dinsn *d)                                          \
    {                                                                                          \
        return str_run(c, d, op, REP_REPNE, bits);                                             \
    }

#define STR_ALL(name, op) STR_DEF(name, op, 8) STR_DEF(name, op, 16) STR_DEF(name, op, 32) STR_DEF(name, op, 64)
STR_ALL(movs, STR_MOVS)
STR_ALL(stos, STR_STOS)
STR_ALL(lods, STR_LODS)
STR_ALL(cmps, STR_CMPS)
STR_ALL(scas, STR_SCAS)

#define STR_ROW(n) { SIZES4(n##_n, ), SIZES4(n##_r, ), SIZES4(n##_rn, ) }
const exec_fn exec_string[STR_N][3][4] = { STR_ROW(movs), STR_ROW(stos), STR_ROW(lods), STR_ROW(cmps), STR_ROW(scas) };
