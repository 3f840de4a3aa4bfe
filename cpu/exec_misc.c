/*
 * exec_misc.c - the CPU model (cpuid), the time-stamp counter (rdtsc,
 * rdtscp) and the integer long tail: cmpxchg8b/cmpxchg16b, rcl/rcr, enter,
 * popcnt/lzcnt/tzcnt, and the hints that are no-ops in an interpreter
 * (fences, prefetches, clflush).
 */
#include "decode.h"

#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ cpuid */

/*
 * The CPU model: a fixed, made-up x86-64 that reports what this
 * interpreter implements and nothing more, so that a C library's dispatch
 * never picks code it lacks. The vendor is not Intel's or AMD's: libraries
 * then take their generic paths instead of model-specific tuning.
 *
 *   leaf        register  value        meaning
 *   0           eax       0xd          highest basic leaf
 *               ebx:edx:ecx           "SoftMMUx8664" (vendor)
 *   1           eax       0x00000601   family 6, model 0, stepping 1
 *               ebx       0x00010800   clflush line 64 bytes, 1 logical CPU, APIC id 0
 *               ecx       0x00802000   CX16 (13), POPCNT (23); SSE3 (0), SSSE3 (9) with SOFTMMU_SSSE3
 *               edx       0x07088111   FPU (0), TSC (4), CX8 (8), CMOV (15), CLFSH (19),
 *                                      FXSR (24), SSE (25), SSE2 (26)
 *   2-6, 8-0xd            0            no cache descriptors, no XSAVE state (0xd)
 *   7.0                   0            no BMI, no AVX2, no ERMS ...
 *   0x80000000  eax       0x80000008   highest extended leaf
 *   0x80000001  ecx       0x00000021   LAHF/SAHF in 64-bit mode (0), LZCNT/ABM (5)
 *               edx       0x28100800   SYSCALL (11), NX (20), RDTSCP (27), LM (29)
 *   0x80000002-4          brand        "SoftMMU x86-64 interpreter"
 *   0x80000005  ecx, edx  0x20080140   L1 data / code: 32 KiB, 8-way, 64-byte lines
 *   0x80000006  ecx       0x02006140   L2: 512 KiB, 8-way, 64-byte lines
 *               edx       0x00408140   L3: 8 MiB, 16-way, 64-byte lines
 *   0x80000007            0
 *   0x80000008  eax       0x00003030   48 physical, 48 linear address bits
 *   others                0            (as AMD parts do; Intel repeats the last leaf)
 *
 * Not reported although they are baseline x86-64: MMX (not implemented).
 * Not reported: SSE3 and later, AVX, XSAVE, OSXSAVE, BMI1 (so f3 0f bc,
 * "rep bsf", is bsf, as on a CPU without BMI1), MOVBE, RDRAND, ERMS.
 */
#define CPUID_MAX_BASIC 0xdu
#define CPUID_MAX_EXT   0x80000008u

static const char VENDOR[13] = "SoftMMUx8664";
static const char BRAND[49] = "SoftMMU x86-64 interpreter";

typedef struct cpuid_row {
    uint32_t leaf, r[4]; /* eax ebx ecx edx */
} cpuid_row;

static const cpuid_row CPUID_ROWS[] = {
    { 1, { 0x00000601, 0x00010800, 0x00802000 | (SOFTMMU_SSSE3 ? 1u << 9 | 1u : 0), 0x07088111 } },
    { 0x80000000, { CPUID_MAX_EXT, 0, 0, 0 } },
    { 0x80000001, { 0, 0, 0x00000021, 0x28100800 } },
    { 0x80000005, { 0, 0, 0x20080140, 0x20080140 } },
    { 0x80000006, { 0, 0, 0x02006140, 0x00408140 } },
    { 0x80000008, { 0x00003030, 0, 0, 0 } },
};

/* eax ebx ecx edx of a leaf (the subleaf in ECX changes nothing here) */
static void cpuid_leaf(uint32_t leaf, uint32_t r[4])
{
    memset(r, 0, 4 * sizeof *r);
    if (leaf == 0) {
        r[0] = CPUID_MAX_BASIC;
        memcpy(&r[1], VENDOR, 4), memcpy(&r[3], VENDOR + 4, 4), memcpy(&r[2], VENDOR + 8, 4);
        return;
    }
    if (leaf >= 0x80000002 && leaf <= 0x80000004) {
        memcpy(r, BRAND + 16 * (leaf - 0x80000002), 16);
        return;
    }
    for (size_t i = 0; i < sizeof CPUID_ROWS / sizeof *CPUID_ROWS; i++)
        if (CPUID_ROWS[i].leaf == leaf)
            memcpy(r, CPUID_ROWS[i].r, 4 * sizeof *r);
}

/* the results zero-extend into RAX RBX RCX RDX */
static dinsn *cpuid(cpu_t *c, dinsn *d)
{
    uint32_t r[4];
    cpuid_leaf((uint32_t)c->regs[CPU_RAX], r);
    c->regs[CPU_RAX] = r[0], c->regs[CPU_RBX] = r[1], c->regs[CPU_RCX] = r[2], c->regs[CPU_RDX] = r[3];
    return d->next;
}

/* ---------------------------------------------------------- rdtsc, rdtscp */

/* host mode: nanoseconds of CLOCK_MONOTONIC since the first read (a
 * 1 GHz counter), forced to increase at every read; deterministic mode
 * (cpu_tsc_deterministic): tsc_next, then tsc_next + step ... */
static uint64_t tsc_read(cpu_t *c)
{
    if (c->tsc_step) {
        uint64_t v = c->tsc_next;
        c->tsc_next += c->tsc_step;
        return v;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    if (!c->tsc_base)
        c->tsc_base = now - 1;
    uint64_t v = now - c->tsc_base;
    v = v > c->tsc_next ? v : c->tsc_next;
    c->tsc_next = v + 1;
    return v;
}

void cpu_tsc_deterministic(cpu_t *c, uint64_t start, uint64_t step)
{
    if (!c)
        return;
    c->tsc_step = step;
    c->tsc_next = step ? start : c->tsc_next;
}

static dinsn *rdtsc(cpu_t *c, dinsn *d)
{
    uint64_t t = tsc_read(c);
    c->regs[CPU_RAX] = (uint32_t)t, c->regs[CPU_RDX] = t >> 32;
    return d->next;
}

/* also ECX = IA32_TSC_AUX, which Linux sets to the CPU number: 0 */
static dinsn *rdtscp(cpu_t *c, dinsn *d)
{
    c->regs[CPU_RCX] = 0;
    return rdtsc(c, d);
}

/* cpuid, rdtsc, rdtscp and the fences (arg MISC_*) */
exec_fn dec_misc(view *v, dinsn *d, unsigned arg)
{
    static const exec_fn MISC[] = { cpuid, rdtsc, rdtscp, exec_nop };
    (void)d;
    return v->n == 0 ? MISC[arg] : NULL;
}

/* prefetch*, clflush: a byte operand never accessed. XXX: hardware faults
 * on clflush of an unmapped address; nothing here does. */
exec_fn dec_hint(view *v, dinsn *d, unsigned arg)
{
    (void)d, (void)arg;
    return v->n == 1 && v->op[0].kind == OP_MEM ? exec_nop : NULL;
}

/* -------------------------------------------------- cmpxchg8b, cmpxchg16b */

/* changes ZF only */
static void set_zf(cpu_t *c, bool zf)
{
    flags_set(c, (flags_get(c) & ~(uint64_t)FL_ZF) | (zf ? FL_ZF : 0));
}

/* EDX:EAX against m64; equal: m64 = ECX:EBX, else EDX:EAX = m64 (zero-
 * extended). The memory is written either way, as the locked cycle does. */
static dinsn *cmpxchg8b(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d);
    uint64_t cmp = (uint32_t)c->regs[CPU_RAX] | c->regs[CPU_RDX] << 32;
    uint64_t src = (uint32_t)c->regs[CPU_RBX] | c->regs[CPU_RCX] << 32;
    LOAD(a, 64, v);
    STORE(a, 64, v == cmp ? src : v);
    if (v != cmp)
        c->regs[CPU_RAX] = (uint32_t)v, c->regs[CPU_RDX] = v >> 32;
    set_zf(c, v == cmp);
    return d->next;
}

/* RDX:RAX against m128 (16-byte aligned, else #GP) */
static dinsn *cmpxchg16b(cpu_t *c, dinsn *d)
{
    uint64_t a = ea(c, d), v[2], w[2];
    if (a & 15)
        return exec_exit(c, d->addr, CPU_EXIT_EXCEPTION);
    mmu_err e = mmu_load(c->mmu, a, v, 16);
    if (e)
        return exec_fault(c, d, e, a, 16);
    bool eq = v[0] == c->regs[CPU_RAX] && v[1] == c->regs[CPU_RDX];
    w[0] = eq ? c->regs[CPU_RBX] : v[0], w[1] = eq ? c->regs[CPU_RCX] : v[1];
    e = mmu_store(c->mmu, a, w, 16);
    if (e)
        return exec_fault(c, d, e, a, 16);
    if (!eq)
        c->regs[CPU_RAX] = v[0], c->regs[CPU_RDX] = v[1];
    set_zf(c, eq);
    return d->next;
}

/* cmpxchg8b m64 / cmpxchg16b m128 (REX.W) */
exec_fn dec_cmpxchg_wide(view *v, dinsn *d, unsigned arg)
{
    (void)d, (void)arg;
    if (v->n != 1 || v->op[0].kind != OP_MEM)
        return NULL;
    return v->op[0].size == 16 ? cmpxchg16b : v->op[0].size == 8 ? cmpxchg8b : NULL;
}

/* --------------------------------------------------------------- rcl, rcr */

/* Rotates the (bits+1)-bit value CF:v left (rcl) by the masked count n,
 * or right. For n != 0, CF is the bit rotated out; OF (the SDM defines it
 * for n = 1 only) is MSB(r) ^ CF for rcl and MSB(r) ^ r[bits-2] for rcr,
 * the hardware formula for every count (checked natively by test_cpu),
 * even when n is a multiple of bits+1 and nothing moves. */
static inline uint64_t rc_rot(cpu_t *c, bool right, uint64_t v, unsigned n, unsigned bits)
{
    unsigned w = bits + 1, k = n % w;
    unsigned __int128 t = (unsigned __int128)get_cf(c) << bits | v;
    if (right && k)
        k = w - k;
    if (k)
        t = ((t << k) | (t >> (w - k))) & (((unsigned __int128)1 << w) - 1);
    uint64_t r = (uint64_t)t & MASK(bits);
    unsigned cf = (unsigned)(t >> bits) & 1;
    set_cf_of(c, cf, MSB(r, bits) ^ (right ? (unsigned)(r >> (bits - 2)) & 1 : cf));
    return r;
}

#define RC_CNT_I ((unsigned)d->imm)
#define RC_CNT_C(bits) ((unsigned)c->regs[CPU_RCX] & (bits == 64 ? 63 : 31))

/* a zero masked count changes nothing (but a 32-bit register still loses
 * its upper half, as with the shifts) */
#define RC_DEF(name, right, bits)                                                              \
    static dinsn *name##_r##bits(cpu_t *c, dinsn *d, unsigned n)                               \
    {                                                                                          \
        uint64_t v = get_reg(c, d->reg0, d->reg0_lsb, bits);                                   \
        put_reg(c, d->reg0, d->reg0_lsb, bits, n ? rc_rot(c, right, v, n, bits) : v);          \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_m##bits(cpu_t *c, dinsn *d, unsigned n)                               \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, v);                                                                      \
        if (!n)                                                                                \
            return d->next;                                                                    \
        lflags keep = { c->lf_res, c->lf_aux };                                                \
        uint64_t r = rc_rot(c, right, v, n, bits);                                             \
        mmu_err e = st(c, a, bits, r);                                                         \
        if (UNLIKELY(e)) {                                                                     \
            lf_commit(c, keep);                                                                \
            return exec_fault(c, d, e, a, bits / 8);                                           \
        }                                                                                      \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_ri##bits(cpu_t *c, dinsn *d) { return name##_r##bits(c, d, RC_CNT_I); } \
    static dinsn *name##_rc##bits(cpu_t *c, dinsn *d) { return name##_r##bits(c, d, RC_CNT_C(bits)); } \
    static dinsn *name##_mi##bits(cpu_t *c, dinsn *d) { return name##_m##bits(c, d, RC_CNT_I); } \
    static dinsn *name##_mc##bits(cpu_t *c, dinsn *d) { return name##_m##bits(c, d, RC_CNT_C(bits)); }

#define RC_ALL(name, right) RC_DEF(name, right, 8) RC_DEF(name, right, 16) RC_DEF(name, right, 32) RC_DEF(name, right, 64)
RC_ALL(rcl, false)
RC_ALL(rcr, true)

#define RC_ROW(n) { SIZES4(n##_ri, ), SIZES4(n##_rc, ), SIZES4(n##_mi, ), SIZES4(n##_mc, ) }
static const exec_fn RCX[2][SHF_N][4] = { RC_ROW(rcl), RC_ROW(rcr) };

/* r/m, imm8 / 1 / CL */
exec_fn dec_rcx(view *v, dinsn *d, unsigned right)
{
    unsigned size = v->op[0].size;
    if (v->n != 2 || !size_ok(size) || v->op[0].kind == OP_IMM)
        return NULL;
    bool mem = v->op[0].kind == OP_MEM, cl = v->op[1].kind == OP_REG;
    if ((cl && v->op[1].reg != X86_REG_CL) || (!cl && v->op[1].kind != OP_IMM))
        return NULL;
    d->imm = v->op[1].imm & (size == 8 ? 63 : 31);
    d->size = size;
    return RCX[right][mem ? (cl ? SHF_MC : SHF_MI) : (cl ? SHF_RC : SHF_RI)][size_idx(size)];
}

/* ------------------------------------------------------------------ enter */

#define ENTER_MAX 33 /* pushes: rbp, 30 copied frame pointers, the new one */

/* the 8 bytes loaded from a as the pushes so far left them: those below
 * top that enter has pushed (from lo up) come from its buffer */
static uint64_t pushed_overlay(uint64_t v, uint64_t a, const uint8_t *buf, uint64_t lo, uint64_t top)
{
    for (unsigned i = 0; i < 8; i++) {
        uint64_t at = a + i;
        if (at - lo < top - lo)
            v = (v & ~(0xffull << 8 * i)) | (uint64_t)buf[at - (top - ENTER_MAX * 8)] << 8 * i;
    }
    return v;
}

/* enter size, level (64-bit operand size): push rbp, push level-1 frame
 * pointers read from the old frame (reads that hit what enter pushed see
 * it, as with sequential pushes), push the new frame pointer. The pushes
 * go to a buffer first and to memory last, lowest address first, so a
 * fault (the stack grows down into unmapped pages) changes nothing. */
static dinsn *enter(cpu_t *c, dinsn *d)
{
    uint64_t rbp = c->regs[CPU_RBP], rsp = c->regs[CPU_RSP], frame = rsp - 8;
    uint8_t buf[ENTER_MAX * 8]; /* the bytes of [rsp - 8 * ENTER_MAX, rsp) */
    unsigned level = d->variant & 31, n = 0;
    memcpy(buf + (ENTER_MAX - ++n) * 8, &rbp, 8);
    for (unsigned i = 1; i < level; i++) {
        LOAD(rbp - 8 * i, 64, fp);
        fp = pushed_overlay(fp, rbp - 8 * i, buf, rsp - 8 * n, rsp);
        memcpy(buf + (ENTER_MAX - ++n) * 8, &fp, 8);
    }
    if (level)
        memcpy(buf + (ENTER_MAX - ++n) * 8, &frame, 8);
    for (unsigned k = n; k-- > 0;) {
        uint64_t v;
        memcpy(&v, buf + (ENTER_MAX - 1 - k) * 8, 8);
        STORE(rsp - 8 * (k + 1), 64, v);
    }
    c->regs[CPU_RBP] = frame;
    c->regs[CPU_RSP] = rsp - 8 * n - d->imm;
    return d->next;
}

exec_fn dec_enter(view *v, dinsn *d, unsigned arg)
{
    (void)arg;
    if (v->n != 2 || v->op[0].kind != OP_IMM || v->op[1].kind != OP_IMM || v->x->prefix[2] == 0x66)
        return NULL;
    d->imm = v->op[0].imm & 0xffff;
    d->variant = (uint8_t)(v->op[1].imm & 31);
    return enter;
}

/* ------------------------------------------------------ popcnt lzcnt tzcnt */

/* popcnt: ZF = (source == 0), CF OF SF AF PF cleared */
static inline void bc_popcnt(cpu_t *c, const dinsn *d, uint64_t v, unsigned bits)
{
    put_reg(c, d->reg0, 0, bits, (uint64_t)__builtin_popcountll(v));
    c->lf_res = v != 0;
    c->lf_aux = v ? 0 : 1u << LF_PFD; /* a zero result would read PF = 1 */
}

/* lzcnt: the operand width for 0; CF = (source == 0), ZF = (result == 0);
 * OF SF AF PF are undefined (left as a logic op would) */
static inline void bc_lzcnt(cpu_t *c, const dinsn *d, uint64_t v, unsigned bits)
{
    uint64_t r = v ? (uint64_t)__builtin_clzll(v) - (64 - bits) : bits;
    put_reg(c, d->reg0, 0, bits, r);
    lf_commit(c, lf_cf_of(r, bits, v == 0, 0));
}

#define BC_DEF(name, bits)                                                                     \
    static dinsn *name##_r##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        bc_##name(c, d, get_reg(c, d->reg1, 0, bits), bits);                                   \
        return d->next;                                                                        \
    }                                                                                          \
    static dinsn *name##_m##bits(cpu_t *c, dinsn *d)                                           \
    {                                                                                          \
        uint64_t a = ea(c, d);                                                                 \
        LOAD(a, bits, v);                                                                      \
        bc_##name(c, d, v, bits);                                                              \
        return d->next;                                                                        \
    }
BC_DEF(popcnt, 16)
BC_DEF(popcnt, 32)
BC_DEF(popcnt, 64)
BC_DEF(lzcnt, 16)
BC_DEF(lzcnt, 32)
BC_DEF(lzcnt, 64)
static const exec_fn BITCOUNT[2][2][3] = { { SIZES3(popcnt_r, ), SIZES3(popcnt_m, ) },
                                           { SIZES3(lzcnt_r, ), SIZES3(lzcnt_m, ) } };

/* reg, r/m of 2, 4 or 8 bytes. tzcnt is bsf: the model has no BMI1, and a
 * CPU without it runs f3 0f bc as bsf (compilers emit it as "rep bsf"). */
exec_fn dec_bitcount(view *v, dinsn *d, unsigned op)
{
    unsigned size = v->op[0].size;
    if (v->n != 2 || v->op[0].kind != OP_REG || v->op[1].kind == OP_IMM || size < 2 || !size_ok(size))
        return NULL;
    bool mem = v->op[1].kind == OP_MEM;
    d->size = size;
    if (op == BC_TZCNT)
        return exec_bitscan[0][mem][size_idx(size) - 1];
    return BITCOUNT[op][mem][size_idx(size) - 1];
}
