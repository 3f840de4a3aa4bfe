/*
 * exec_x87.c - the x87 instructions: decoding and the handlers around the
 * host FPU (fpu_x87.c does the floating point).
 *
 * An x87 instruction is identified by its escape byte (d8..df) and ModRM,
 * not by Capstone's id: Capstone 4 names some forms oddly (fsub/fsubr of
 * dc e8+i) and the bytes are what the host runs anyway. A handler checks
 * for a pending unmasked exception first (#MF on hardware, an exception
 * exit here; the fn* forms skip the check), moves a memory operand between
 * guest memory and a host buffer, lets the host run the instruction on the
 * guest's image and records FIP, FDP and FOP as Intel CPUs did before the
 * FCS/FDS deprecation (selectors read as zero).
 *
 * As elsewhere a faulting instruction changes nothing: loads come first;
 * stores run on a copy of the state that is committed after the store.
 */
#include "decode.h"
#include "fpu.h"

#define HOST_IDX(d) ((unsigned)((d)->imm & 0xffff))

/* ---------------------------------------------------------------- helpers */

/* a waiting instruction with an unmasked exception pending takes #MF */
static bool pending(const cpu_t *c)
{
    const x87_image *x = &c->x87;
    return (x->sw & X87_SW_ES) || (x->sw & ~x->cw & X87_SW_EXC);
}

static bool must_wait(const cpu_t *c, const dinsn *d)
{
    return !(d->variant & X87_NOWAIT) && UNLIKELY(pending(c));
}

static dinsn *mf(cpu_t *c, dinsn *d)
{
    return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);
}

/* FIP, FOP and (with a memory operand at *a) FDP */
static void note(cpu_t *c, const dinsn *d, const uint64_t *a)
{
    if (d->variant & X87_INIT) {
        c->x87_fip = c->x87_fdp = 0;
        c->x87_fop = 0;
        return;
    }
    if (d->variant & X87_CTRL)
        return;
    c->x87_fip = d->addr;
    c->x87_fop = (uint16_t)(d->imm >> 16);
    if (a)
        c->x87_fdp = *a;
}

/* the pointer fields of a 32-bit environment (fnstenv / fnsave layout) */
static void env_put(const cpu_t *c, uint8_t *env)
{
    uint32_t fip = (uint32_t)c->x87_fip, fdp = (uint32_t)c->x87_fdp;
    memcpy(env + 12, &fip, 4);
    memset(env + 16, 0, 2); /* FCS */
    memcpy(env + 18, &c->x87_fop, 2);
    memcpy(env + 20, &fdp, 4);
    memset(env + 24, 0, 2); /* FDS */
}

static void env_take(cpu_t *c, const uint8_t *env)
{
    uint32_t fip, fdp;
    memcpy(&fip, env + 12, 4);
    memcpy(&c->x87_fop, env + 18, 2);
    memcpy(&fdp, env + 20, 4);
    c->x87_fip = fip, c->x87_fdp = fdp;
    c->x87_fop &= 0x7ff;
}

/* --------------------------------------------------------------- handlers */

dinsn *exec_x87_reg(cpu_t *c, dinsn *d)
{
    if (must_wait(c, d))
        return mf(c, d);
    uint8_t in = (d->variant & X87_FLAGS_IN) ? (uint8_t)flags_get(c) : 0;
    uint8_t out = fpu_x87_run(&c->x87, HOST_IDX(d), NULL, in);
    if (d->variant & X87_FLAGS_OUT)
        flags_set(c, out & (FL_ZF | FL_PF | FL_CF));
    note(c, d, NULL);
    return d->next;
}

dinsn *exec_x87_load(cpu_t *c, dinsn *d)
{
    if (must_wait(c, d))
        return mf(c, d);
    uint64_t a = ea(c, d), off = ea_noseg(c, d);
    uint8_t buf[108];
    mmu_err e = mmu_load(c->mmu, a, buf, d->size);
    if (UNLIKELY(e))
        return exec_fault(c, d, e, a, d->size);
    fpu_x87_run(&c->x87, HOST_IDX(d), buf, 0);
    if (d->variant & X87_ENV)
        env_take(c, buf);
    note(c, d, &off);
    return d->next;
}

/* An unmasked invalid, denormal, zero-divide, overflow or underflow
 * exception leaves a memory destination as it was (precision does not). */
dinsn *exec_x87_store(cpu_t *c, dinsn *d)
{
    if (must_wait(c, d))
        return mf(c, d);
    uint64_t a = ea(c, d), off = ea_noseg(c, d);
    uint8_t buf[108];
    x87_image x = c->x87;
    fpu_x87_run(&x, HOST_IDX(d), buf, 0);
    if (d->variant & X87_ENV)
        env_put(c, buf);
    bool keep = !(d->variant & X87_CTRL) && (x.sw & ~x.cw & 0x1f);
    mmu_err e = keep ? MMU_OK : mmu_store(c->mmu, a, buf, d->size);
    if (UNLIKELY(e))
        return exec_fault(c, d, e, a, d->size);
    c->x87 = x;
    note(c, d, &off);
    return d->next;
}

/* fnstsw ax: no wait. The host's fnstsw m16 (dd /7) reports the status
 * word as the hardware does (ES and B after an frstor, say). */
dinsn *exec_x87_fnstsw_ax(cpu_t *c, dinsn *d)
{
    uint16_t sw;
    fpu_x87_run(&c->x87, X87_HOST_MEM + 5 * 8 + 7, &sw, 0);
    put_reg(c, CPU_RAX, 0, 16, sw);
    return d->next;
}

dinsn *exec_x87_wait(cpu_t *c, dinsn *d)
{
    return pending(c) ? mf(c, d) : d->next;
}

/* fxsave / fxrstor: 16-byte aligned (else #GP); bytes 416..511 are
 * reserved or the software's, and left alone. Neither waits. */
dinsn *exec_fxsave(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    uint8_t buf[416];
    if (a & 15)
        return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);
    fpu_fxsave(c, buf, d->variant);
    mmu_err e = mmu_store(c->mmu, a, buf, sizeof buf);
    return UNLIKELY(e) ? exec_fault(c, d, e, a, sizeof buf) : d->next;
}

dinsn *exec_fxrstor(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    uint8_t buf[416];
    if (a & 15)
        return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);
    mmu_err e = mmu_load(c->mmu, a, buf, sizeof buf);
    if (UNLIKELY(e))
        return exec_fault(c, d, e, a, sizeof buf);
    if (fpu_fxrstor(c, buf, d->variant) != MMU_OK)
        return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION); /* reserved MXCSR bits: #GP */
    return d->next;
}

/* --------------------------------------------------------------- decoders */

enum { S = 64 }; /* MEMF: the form stores (becomes the store handler) */

/* memory forms by escape & 7 and ModRM.reg: operand bytes (0: no such
 * form) and X87_* bits */
static const struct { uint8_t size, variant; } MEMF[8][8] = {
    /* d8: fadd fmul fcom fcomp fsub fsubr fdiv fdivr m32fp */
    { { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 } },
    /* d9: fld m32, -, fst, fstp, fldenv, fldcw, fnstenv, fnstcw */
    { { 4, 0 }, { 0, 0 }, { 4, S }, { 4, S }, { 28, X87_ENV | X87_CTRL }, { 2, X87_CTRL },
      { 28, S | X87_ENV | X87_CTRL | X87_NOWAIT }, { 2, S | X87_CTRL | X87_NOWAIT } },
    /* da: fiadd fimul ficom ficomp fisub fisubr fidiv fidivr m32int */
    { { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 }, { 4, 0 } },
    /* db: fild m32, fisttp, fist, fistp, -, fld m80, -, fstp m80 */
    { { 4, 0 }, { 4, S }, { 4, S }, { 4, S }, { 0, 0 }, { 10, 0 }, { 0, 0 }, { 10, S } },
    /* dc: the d8 operations on m64fp */
    { { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 } },
    /* dd: fld m64, fisttp m64, fst, fstp, frstor, -, fnsave, fnstsw */
    { { 8, 0 }, { 8, S }, { 8, S }, { 8, S }, { 108, X87_ENV | X87_CTRL }, { 0, 0 },
      { 108, S | X87_ENV | X87_CTRL | X87_NOWAIT | X87_INIT }, { 2, S | X87_CTRL | X87_NOWAIT } },
    /* de: the da operations on m16int */
    { { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 } },
    /* df: fild m16, fisttp, fist, fistp, fbld, fild m64, fbstp, fistp m64 */
    { { 2, 0 }, { 2, S }, { 2, S }, { 2, S }, { 10, 0 }, { 8, 0 }, { 10, S }, { 8, S } },
};

static exec_fn dec_mem(const view *v, dinsn *d, unsigned esc, unsigned reg)
{
    unsigned size = MEMF[esc][reg].size, var = MEMF[esc][reg].variant;
    bool mem = false;
    for (unsigned i = 0; i < v->n; i++)
        mem |= v->op[i].kind == OP_MEM;
    /* 0x66 selects the 16-bit environment layouts: not modelled */
    if (!size || !mem || ((var & X87_ENV) && v->x->prefix[2] == 0x66))
        return NULL;
    d->imm |= X87_HOST_MEM + esc * 8 + reg;
    d->size = (uint8_t)size;
    d->variant = (uint8_t)(var & ~S);
    return (var & S) ? exec_x87_store : exec_x87_load;
}

static exec_fn dec_reg(dinsn *d, unsigned esc, unsigned modrm)
{
    unsigned op = esc | 0xd8;
    d->imm |= esc * 64 + (modrm & 63);
    if (op == 0xdf && modrm == 0xe0)
        return exec_x87_fnstsw_ax;
    if (op == 0xdb && modrm >= 0xe0 && modrm <= 0xe4) /* fneni fndisi fnclex fninit fnsetpm */
        d->variant = X87_CTRL | X87_NOWAIT | (modrm == 0xe3 ? X87_INIT : 0);
    else if ((op == 0xda || op == 0xdb) && modrm < 0xe0) /* fcmovcc */
        d->variant = X87_FLAGS_IN;
    else if ((op == 0xdb || op == 0xdf) && modrm >= 0xe8 && modrm < 0xf8) /* f(u)comi(p) */
        d->variant = X87_FLAGS_OUT;
    return exec_x87_reg;
}

exec_fn dec_x87(view *v, dinsn *d, unsigned arg)
{
    uint8_t op = v->x->opcode[0], modrm = v->x->modrm;
    (void)arg;
    if (op == 0x9b)
        return exec_x87_wait;
    if (op < 0xd8 || op > 0xdf)
        return NULL;
    d->imm = (uint64_t)(((op & 7u) << 8) | modrm) << 16; /* FOP */
    return (modrm >> 6) == 3 ? dec_reg(d, op & 7u, modrm) : dec_mem(v, d, op & 7u, (modrm >> 3) & 7);
}

/* fxsave (arg 0) / fxrstor (arg 1) m512; REX.W the 64-bit layout */
exec_fn dec_fxsave(view *v, dinsn *d, unsigned rstor)
{
    if (v->n != 1 || v->op[0].kind != OP_MEM)
        return NULL;
    d->variant = (v->x->rex & 8) != 0;
    return rstor ? exec_fxrstor : exec_fxsave;
}
