/*
 * test_cpu_x87.c - the x87 FPU and fxsave/fxrstor: unit tests with raw
 * bytes (disassembly in comments), and a differential test against the
 * hardware this test runs on, with Unicorn as a second opinion.
 *
 * The differential test generates random x87 instruction sequences with
 * operands biased to edge cases (signed zeros, infinities, quiet and
 * signalling NaNs, the indefinite, denormals, pseudo-denormals, unnormals,
 * pseudo-NaNs, integer bounds, BCD with bad digits), random precision and
 * rounding control, random masks (so unmasked responses and #MF happen),
 * random TOP and tags (so the stack overflows and underflows). Each program
 *     fxrstor64 [r14]; insn; insn ...
 * runs three ways from the same registers and memory:
 *   - natively, from an executable buffer, between a prologue that saves
 *     the host's FP state and an epilogue that fxsave64's the result and
 *     restores it; #MF (SIGFPE) and #GP (SIGSEGV) jump to the epilogue;
 *   - on softmmu (state read back with cpu_fxsave);
 *   - on Unicorn (state read back by an fxsave64 it runs).
 * softmmu must equal the hardware exactly: FCW, FSW, tags, ST(0..7), MXCSR,
 * XMM, RAX, the arithmetic flags, memory and where it stopped. FIP, FDP and
 * FOP are left out (the host's own addresses natively; AMD saves them only
 * with an exception pending). Unicorn's differences are counted by
 * instruction and printed, not asserted: it has known x87 bugs.
 *
 * SOFTMMU_X87_N programs against the hardware (default 10000),
 * SOFTMMU_X87_UC_N of them also on Unicorn (default 1000),
 * SOFTMMU_X87_SEED the first seed.
 */
#define _GNU_SOURCE /* REG_RIP */
#define CODE 0x10000ull
#define DATA 0x20000ull /* fxrstor image at +0, operand area around +0x500 */
#define STACK 0x30000ull /* unmapped: x87 tests use no stack */
#include "cpu_test_util.h"

#include <capstone/capstone.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define DATA_SIZE 0x2000u
#define OPND 0x500u    /* r15 = DATA + OPND */

static void setup(void)
{
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, CODE, 0x1000, MMU_PROT_READ | MMU_PROT_EXEC, "code"));
    OK(mmu_map(m, DATA, DATA_SIZE, MMU_PROT_READ | MMU_PROT_WRITE, "data"));
    OK(cpu_open(m, &c));
    cpu_reg_write(c, CPU_R15, DATA + OPND);
}

static void teardown(void)
{
    cpu_close(c);
    mmu_close(m);
}

TestSuite(x87, .init = setup, .fini = teardown);

static uint16_t fsw(void)
{
    uint8_t fx[512];
    OK(cpu_fxsave(c, fx));
    return (uint16_t)(fx[2] | fx[3] << 8);
}

/* ST(i) as a host long double (same 80-bit format) */
static long double st(unsigned i)
{
    uint8_t fx[512];
    long double v = 0;
    OK(cpu_fxsave(c, fx));
    memcpy(&v, fx + 32 + 16 * i, 10);
    return v;
}

static long double mem_ld(uint64_t a)
{
    long double v = 0;
    OK(mmu_read(m, a, &v, 10));
    return v;
}

/* ----------------------------------------------------------- unit tests */

Test(x87, open_state_is_fninit_and_mxcsr_power_up)
{
    uint8_t fx[512];
    OK(cpu_fxsave(c, fx));
    cr_assert_eq(fx[0] | fx[1] << 8, 0x037f);
    cr_assert_eq(fx[2] | fx[3] << 8, 0);
    cr_assert_eq(fx[4], 0, "all registers empty");
    cr_assert_eq(fx[24] | fx[25] << 8, 0x1f80);
    ERR(cpu_fxsave(NULL, fx), MMU_ERR_ARG);
    ERR(cpu_fxsave(c, NULL), MMU_ERR_ARG);
}

Test(x87, constants_and_arithmetic_in_80_bits)
{
    /* d9 eb fldpi; d9 e8 fld1; de c1 faddp; 41 db 3f fstp tword [r15] */
    cr_assert_eq(RUN(0xd9, 0xeb, 0xd9, 0xe8, 0xde, 0xc1, 0x41, 0xdb, 0x3f), CPU_EXIT_UNTIL);
    long double want = 3.14159265358979323851L + 1.0L; /* fldpi rounds to nearest */
    cr_assert_eq(mem_ld(DATA + OPND), want);
    cr_assert_eq(fsw() & 0x3800, 0, "TOP back to 0");
}

Test(x87, precision_and_rounding_control_apply)
{
    /* 1/3: 64-bit significand ...aaab rounded to nearest, ...aaaa toward
     * zero; with 24-bit precision 0xaaaaab00... */
    static const struct { uint16_t cw; uint64_t mant; } cases[] = {
        { 0x037f, 0xaaaaaaaaaaaaaaabull }, { 0x0f7f, 0xaaaaaaaaaaaaaaaaull }, { 0x007f, 0xaaaaab0000000000ull },
    };
    for (unsigned i = 0; i < 3; i++) {
        uint16_t in[2] = { cases[i].cw, 3 };
        uint64_t mant;
        OK(mmu_write(m, DATA + OPND, in, 4));
        /* 41 d9 2f fldcw [r15]; d9 e8 fld1; 41 df 47 02 fild word [r15+2];
         * de f9 fdivp st1, st0; 41 db 7f 10 fstp tword [r15+16] */
        cr_assert_eq(RUN(0x41, 0xd9, 0x2f, 0xd9, 0xe8, 0x41, 0xdf, 0x47, 0x02, 0xde, 0xf9, 0x41, 0xdb, 0x7f, 0x10),
                     CPU_EXIT_UNTIL);
        OK(mmu_read(m, DATA + OPND + 16, &mant, 8));
        cr_assert_eq(mant, cases[i].mant, "cw %#x: %#lx", cases[i].cw, (unsigned long)mant);
        cr_assert_eq(fsw() & 0x20, 0x20, "PE");
    }
}

Test(x87, fild_fistp_round_trip_and_integer_indefinite)
{
    int64_t v = -1234567890123LL, out = 0;
    OK(mmu_write(m, DATA + OPND, &v, 8));
    /* 41 df 2f fild qword [r15]; 41 df 7f 08 fistp qword [r15+8] */
    cr_assert_eq(RUN(0x41, 0xdf, 0x2f, 0x41, 0xdf, 0x7f, 0x08), CPU_EXIT_UNTIL);
    OK(mmu_read(m, DATA + OPND + 8, &out, 8));
    cr_assert_eq(out, v);
    /* d9 e8 fld1; d9 ee fldz; de f9 fdivp (1/0 = inf, ZE); 41 df 5f 10 fistp word [r15+16] */
    cr_assert_eq(RUN(0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9, 0x41, 0xdf, 0x5f, 0x10), CPU_EXIT_UNTIL);
    uint16_t w = 0;
    OK(mmu_read(m, DATA + OPND + 16, &w, 2));
    cr_assert_eq(w, 0x8000, "integer indefinite");
    cr_assert_eq(fsw() & 0x3f, 0x05, "ZE from the division, IE from the store");
}

Test(x87, fcomi_sets_eflags_and_fnstsw_ax_reads_c0_c3)
{
    /* d9 e8 fld1; d9 ee fldz; db f1 fcomi st0, st1 (0 < 1: CF) */
    cpu_reg_write(c, CPU_RFLAGS, 0x2 | OF | SF | AF);
    cr_assert_eq(RUN(0xd9, 0xe8, 0xd9, 0xee, 0xdb, 0xf1), CPU_EXIT_UNTIL);
    cr_assert_eq(cpu_reg_read(c, CPU_RFLAGS) & ARITH, CF);
    /* d8 d1 fcom st1; df e0 fnstsw ax: C0 set, TOP 6 */
    cr_assert_eq(RUN(0xd8, 0xd1, 0xdf, 0xe0), CPU_EXIT_UNTIL);
    cr_assert_eq(cpu_reg_read(c, CPU_RAX) & 0xffff, 0x3100);
}

Test(x87, fcmov_reads_eflags)
{
    /* d9 e8 fld1; d9 ee fldz; da c1 fcmovb st0, st1 */
    cpu_reg_write(c, CPU_RFLAGS, 0x2 | CF);
    cr_assert_eq(RUN(0xd9, 0xe8, 0xd9, 0xee, 0xda, 0xc1), CPU_EXIT_UNTIL);
    cr_assert_eq(st(0), 1.0L);
}

Test(x87, stack_overflow_sets_c1_ie_sf_and_loads_the_indefinite)
{
    uint8_t code[18];
    for (unsigned i = 0; i < 9; i++)
        code[2 * i] = 0xd9, code[2 * i + 1] = 0xe8; /* fld1 x 9 */
    cr_assert_eq(run_n(code, sizeof code), CPU_EXIT_UNTIL);
    cr_assert_eq(fsw() & 0x0241, 0x0241, "C1, SF, IE");
    cr_assert(isnan((double)st(0)));
}

Test(x87, stack_underflow_clears_c1)
{
    /* d8 c1 fadd st0, st1 on an empty stack */
    cr_assert_eq(RUN(0xd8, 0xc1), CPU_EXIT_UNTIL);
    cr_assert_eq(fsw() & 0x0241, 0x0041, "SF, IE, C1 clear");
}

Test(x87, unmasked_exception_is_pending_until_the_next_waiting_instruction)
{
    uint16_t cw = 0x037b; /* ZE unmasked */
    OK(mmu_write(m, DATA + OPND, &cw, 2));
    /* 41 d9 2f fldcw; d9 e8 fld1; d9 ee fldz; de f9 fdivp: ZE, ES, B; destination kept */
    cr_assert_eq(RUN(0x41, 0xd9, 0x2f, 0xd9, 0xe8, 0xd9, 0xee, 0xde, 0xf9), CPU_EXIT_UNTIL);
    cr_assert_eq(fsw() & 0x8084, 0x8084);
    /* df e0 fnstsw ax does not wait; d9 e8 fld1 takes #MF at itself */
    cr_assert_eq(RUN(0xdf, 0xe0, 0xd9, 0xe8), CPU_EXIT_EXCEPTION);
    cr_assert_eq(cpu_reg_read(c, CPU_RIP), CODE + 2);
    cr_assert_eq(cpu_reg_read(c, CPU_RAX) & 0xffff, fsw());
    /* 9b wait too; db e2 fnclex clears it, then fld1 runs */
    cr_assert_eq(RUN(0x9b), CPU_EXIT_EXCEPTION);
    cr_assert_eq(RUN(0xdb, 0xe2, 0x9b, 0xd9, 0xe8), CPU_EXIT_UNTIL);
    cr_assert_eq(fsw() & 0x80ff, 0);
}

Test(x87, fnstenv_and_fldenv_carry_the_instruction_pointer)
{
    /* d9 e8 fld1 at CODE; 41 d9 37 fnstenv [r15] */
    cr_assert_eq(RUN(0xd9, 0xe8, 0x41, 0xd9, 0x37), CPU_EXIT_UNTIL);
    uint8_t env[28];
    OK(mmu_read(m, DATA + OPND, env, sizeof env));
    uint32_t fip;
    memcpy(&fip, env + 12, 4);
    cr_assert_eq(env[0] | env[1] << 8, 0x037f);
    cr_assert_eq(fip, (uint32_t)CODE);
    cr_assert_eq(env[18] | env[19] << 8, 0x1e8, "FOP of fld1");
    cr_assert_eq((env[8] | env[9] << 8), 0x3fff, "R7 valid, the rest empty");
}

Test(x87, faulting_store_changes_nothing)
{
    uint8_t before[512], after[512];
    /* d9 e8 fld1 */
    cr_assert_eq(RUN(0xd9, 0xe8), CPU_EXIT_UNTIL);
    OK(cpu_fxsave(c, before));
    cpu_reg_write(c, CPU_R15, 0x900000);
    /* 41 dd 1f fstp qword [r15] (unmapped) */
    cr_assert_eq(RUN(0x41, 0xdd, 0x1f), CPU_EXIT_MEM_FAULT);
    OK(cpu_fxsave(c, after));
    cr_assert_eq(memcmp(before, after, 512), 0);
}

Test(x87, fxsave_fxrstor_round_trip_and_gp_cases)
{
    uint8_t fx[512], back[512];
    /* d9 eb fldpi; d9 ec fldlg2; 41 0f ae 07 fxsave [r15] */
    cr_assert_eq(RUN(0xd9, 0xeb, 0xd9, 0xec, 0x41, 0x0f, 0xae, 0x07), CPU_EXIT_UNTIL);
    OK(mmu_read(m, DATA + OPND, fx, 416));
    cr_assert_eq(fx[4], 0xc0, "R6 and R7 in use");
    /* db e3 fninit; 41 0f ae 0f fxrstor [r15] */
    cr_assert_eq(RUN(0xdb, 0xe3, 0x41, 0x0f, 0xae, 0x0f), CPU_EXIT_UNTIL);
    OK(cpu_fxsave(c, back));
    cr_assert_eq(memcmp(fx + 32, back + 32, 16 * 8), 0);
    cr_assert_eq(back[4], 0xc0);
    /* misaligned: #GP; 41 0f ae 47 08 fxsave [r15+8] */
    cr_assert_eq(RUN(0x41, 0x0f, 0xae, 0x47, 0x08), CPU_EXIT_EXCEPTION);
    /* reserved MXCSR bit: fxrstor #GP, cpu_fxrstor MMU_ERR_ARG, nothing changes */
    fx[26] = 1; /* MXCSR bit 16 */
    OK(mmu_write(m, DATA + OPND, fx, 416));
    cr_assert_eq(RUN(0x41, 0x0f, 0xae, 0x0f), CPU_EXIT_EXCEPTION);
    ERR(cpu_fxrstor(c, fx), MMU_ERR_ARG);
    ERR(cpu_fxrstor(NULL, fx), MMU_ERR_ARG);
    OK(cpu_fxsave(c, fx));
    cr_assert_eq(memcmp(fx, back, 512), 0);
}

Test(x87, unsupported_forms_are_invalid)
{
    /* 66 d9 37: fnstenv with the 16-bit layout */
    cr_assert_eq(RUN(0x66, 0x41, 0xd9, 0x37), CPU_EXIT_INSN_INVALID);
    /* d9 d1: no such instruction */
    cr_assert_eq(RUN(0xd9, 0xd1), CPU_EXIT_INSN_INVALID);
}

/* ------------------------------------------------- random differential */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    r->s ^= r->s << 13, r->s ^= r->s >> 7, r->s ^= r->s << 17;
    return r->s;
}

static unsigned rn(rng *r, unsigned n)
{
    return (unsigned)(rnd(r) % n);
}

/* an 80-bit value, biased to the encodings with special behaviour */
static void gen_ext(rng *r, uint8_t out[10])
{
    uint64_t mant = rnd(r) | 1ull << 63;
    unsigned sign = rn(r, 2) << 15, e = 0x3fff - 70 + rn(r, 140);
    switch (rn(r, 16)) {
    case 0: mant = 0, e = 0; break;                                      /* +-0 */
    case 1: mant = 1ull << 63, e = 0x7fff; break;                        /* +-inf */
    case 2: mant |= 3ull << 62, e = 0x7fff; break;                       /* QNaN */
    case 3: mant = (mant & ~(1ull << 62)) | 1, e = 0x7fff; break;        /* SNaN */
    case 4: mant = 3ull << 62, e = 0x7fff, sign = 0x8000; break;        /* indefinite */
    case 5: mant >>= 1 + rn(r, 63), e = 0; break;                        /* denormal */
    case 6: e = 0; break;                                                /* pseudo-denormal */
    case 7: mant >>= 1 + rn(r, 8), e = 1 + rn(r, 0x7ffe); break;         /* unnormal */
    case 8: mant &= ~(1ull << 63), e = 0x7fff; break;                    /* pseudo-NaN/inf */
    case 9: {                                                            /* small integer */
        long double v = (long double)((int)rn(r, 2001) - 1000) + (rn(r, 4) ? 0 : 0.5L);
        memcpy(out, &v, 10);
        return;
    }
    case 10: e = 0x7ffe - rn(r, 64); break;                              /* huge */
    case 11: e = 1 + rn(r, 64); break;                                   /* tiny */
    case 12: e = 0x3fff + 14 + rn(r, 51), mant &= ~0ull << rn(r, 64); break; /* near integer bounds */
    case 13: e = 0x3fff + rn(r, 3), mant = rn(r, 2) ? 0xc90fdaa22168c234ull + rn(r, 3) - 1 : mant; break; /* near pi */
    case 14: e = rn(r, 0x8000); break;
    default: break;
    }
    memcpy(out, &mant, 8);
    out[8] = (uint8_t)e, out[9] = (uint8_t)((e >> 8) | (sign >> 8));
}

/* a memory operand of `size` bytes for the form (esc & 7, reg) */
static void gen_mem(rng *r, unsigned esc, unsigned reg, uint8_t *p, unsigned size)
{
    static const uint32_t F32[] = { 0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00000,
                                    0x00000001, 0x007fffff, 0x00800000, 0x3f800000, 0x7f7fffff, 0x4f000000 };
    static const uint64_t F64[] = { 0, 1ull << 63, 0x7ff0000000000000, 0x7ff8000000000000, 0x7ff0000000000001,
                                    0x0000000000000001, 0x000fffffffffffff, 0x3ff0000000000000, 0x43e0000000000000,
                                    0x7fefffffffffffff, 0xfff8000000000000, 0x0010000000000000 };
    static const int64_t INT[] = { 0, 1, -1, 32767, -32768, 2147483647, -2147483647 - 1, INT64_MAX, INT64_MIN, 3 };
    uint64_t v = rnd(r);
    unsigned k = rn(r, 3);
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)rnd(r);
    bool fp = esc == 0 || esc == 4 || (esc == 1 && reg == 0) || (esc == 5 && reg == 0);
    if (size == 10 && esc == 3) { /* fld m80 */
        gen_ext(r, p);
    } else if (size == 10) {        /* fbld: packed BCD, now and then a bad digit */
        for (unsigned i = 0; i < 9; i++)
            p[i] = rn(r, 8) ? (uint8_t)(rn(r, 10) << 4 | rn(r, 10)) : (uint8_t)rnd(r);
        p[9] = rn(r, 4) ? (uint8_t)(rn(r, 2) << 7) : (uint8_t)rnd(r);
    } else if (size == 2 && esc == 1 && reg == 5) { /* fldcw: mostly masked */
        v = (rn(r, 4) ? 0x3f : rnd(r) & 0x3f) | 0x40 | (rnd(r) & 0xf00) | (rn(r, 8) ? 0 : rnd(r) & 0xf080);
        memcpy(p, &v, 2);
    } else if (fp && size == 4 && k) {
        v = F32[rn(r, sizeof F32 / 4)] ^ (k == 2 ? rnd(r) & 0x807 : 0);
        memcpy(p, &v, 4);
    } else if (fp && size == 8 && k) {
        v = F64[rn(r, sizeof F64 / 8)] ^ (k == 2 ? rnd(r) & 0x8000000000000007ull : 0);
        memcpy(p, &v, 8);
    } else if (!fp && size <= 8 && k) {
        v = (uint64_t)INT[rn(r, sizeof INT / 8)] + rn(r, 3) - 1; /* wraps: unsigned */
        memcpy(p, &v, size);
    }
}

/* the first fxrstor image: random control, status, tags and registers,
 * with no unmasked exception pending (the first instruction would #MF) */
static void gen_state(rng *r, uint8_t fx[512])
{
    memset(fx, 0, 512);
    unsigned masks = rn(r, 4) ? 0x3f : rnd(r) & 0x3f;
    uint16_t cw = (uint16_t)(masks | 0x40 | (rnd(r) & 0xf00));
    uint16_t sw = (uint16_t)((rnd(r) & 0x4700) | (rnd(r) & masks) | (rn(r, 8) << 11));
    if (sw & 1)
        sw |= (uint16_t)(rnd(r) & 0x40); /* SF only with IE */
    uint8_t tags = rn(r, 3) == 0 ? 0xff : rn(r, 2) ? (uint8_t)(0xff00 >> rn(r, 9)) : (uint8_t)rnd(r);
    unsigned top = (sw >> 11) & 7;
    /* a stack of k registers from TOP: physical TOP..TOP+k-1 */
    if (rn(r, 2))
        tags = (uint8_t)(((tags | (unsigned)tags << 8) >> (8 - top)) & 0xff);
    memcpy(fx, &cw, 2);
    memcpy(fx + 2, &sw, 2);
    fx[4] = tags;
    uint32_t mx = 0x1f80 | (rn(r, 4) ? 0 : rnd(r) & 0x7f);
    memcpy(fx + 24, &mx, 4);
    for (unsigned i = 0; i < 8; i++)
        gen_ext(r, fx + 32 + 16 * i);
    for (unsigned i = 160; i < 416; i++)
        fx[i] = (uint8_t)rnd(r);
}

/* ------------------------------------------------- instruction generator */

/* register and operand-free encodings the hardware accepts, by escape
 * (bit i of word k: ModRM 0xc0 + 16k + i) */
static const uint16_t VALID_REG[8][4] = {
    { 0xffff, 0xffff, 0xffff, 0xffff }, /* d8: all */
    { 0xffff, 0xff01, 0x7f33, 0xffff }, /* d9: fld fxch; fnop, fstp1; e0 e1 e4 e5 e8..ee; f0..ff */
    { 0xffff, 0xffff, 0x0200, 0x0000 }, /* da: fcmov; fucompp */
    { 0xffff, 0xffff, 0xff1f, 0x00ff }, /* db: fcmovn; fneni fndisi fnclex fninit fnsetpm; fucomi fcomi */
    { 0xffff, 0xffff, 0xffff, 0xffff }, /* dc: all (d0..df: fcom aliases) */
    { 0xffff, 0xffff, 0xffff, 0x0000 }, /* dd: ffree, fxch4; fst fstp; fucom fucomp */
    { 0xffff, 0x02ff, 0xffff, 0xffff }, /* de: faddp fmulp; fcomp5, fcompp; fsub(r)p fdiv(r)p */
    { 0xffff, 0xffff, 0xff01, 0x00ff }, /* df: ffreep fxch7; fstp8 fstp9; fnstsw ax; fucomip fcomip */
};

/* memory operand bytes by escape & 7 and ModRM.reg; 0: not a memory form */
static const uint8_t MEM_SIZE[8][8] = {
    { 4, 4, 4, 4, 4, 4, 4, 4 }, { 4, 0, 4, 4, 28, 2, 28, 2 }, { 4, 4, 4, 4, 4, 4, 4, 4 },
    { 4, 4, 4, 4, 0, 10, 0, 10 }, { 8, 8, 8, 8, 8, 8, 8, 8 }, { 8, 8, 8, 8, 108, 0, 108, 2 },
    { 2, 2, 2, 2, 2, 2, 2, 2 }, { 2, 2, 2, 2, 10, 8, 10, 8 },
};

typedef struct prog {
    uint8_t  code[256];
    size_t   n;
    size_t   at[8];        /* offset of each x87 instruction */
    unsigned n_insn;
    uint8_t  data[DATA_SIZE];
    uint64_t rax, rflags;
    struct { size_t off, size; } mask[8]; /* memory the hardware fills with host values */
    unsigned n_mask;
    size_t   fx_at[8];     /* fxrstor images: a later operand must not make MXCSR invalid */
    unsigned n_fx;
} prog;

static void mask_add(prog *p, size_t off, size_t size)
{
    p->mask[p->n_mask].off = off, p->mask[p->n_mask].size = size;
    p->n_mask++;
}

/* a memory form [r15 + disp8] (REX.B); its operand generated */
static void gen_mem_insn(rng *r, prog *p, unsigned esc, unsigned reg)
{
    unsigned size = MEM_SIZE[esc][reg];
    int disp = (int)rn(r, 0x100) - 0x80;
    if (size >= 28)
        disp = -(int)rn(r, 0x60); /* environments stay inside the operand area */
    size_t off = (size_t)(OPND + disp);
    p->code[p->n++] = 0x41, p->code[p->n++] = (uint8_t)(0xd8 + esc);
    p->code[p->n++] = (uint8_t)(0x47 | reg << 3), p->code[p->n++] = (uint8_t)disp;
    gen_mem(r, esc, reg, p->data + off, size);
    if ((esc == 1 && reg == 6) || (esc == 5 && reg == 6))
        mask_add(p, off + 12, 14); /* fnstenv / fnsave: FIP FCS FOP FDP FDS */
}

/* fxsave64 / fxrstor64 [r15 + 16k]; fxrstor gets a valid image */
static void gen_fx_insn(rng *r, prog *p)
{
    bool rstor = rn(r, 2);
    int disp = 16 * ((int)rn(r, 8) - 4);
    size_t off = (size_t)(OPND + disp);
    p->code[p->n++] = 0x49, p->code[p->n++] = 0x0f, p->code[p->n++] = 0xae;
    p->code[p->n++] = (uint8_t)(0x47 | rstor << 3), p->code[p->n++] = (uint8_t)disp;
    if (rstor)
        gen_state(r, p->data + off), p->fx_at[p->n_fx++] = off;
    else
        mask_add(p, off + 6, 18), mask_add(p, off + 28, 4); /* pointers, MXCSR_MASK */
}

static void gen_insn(rng *r, prog *p)
{
    p->at[p->n_insn++] = p->n;
    unsigned k = rn(r, 64);
    if (k == 0) {
        p->code[p->n++] = 0x9b; /* wait */
        return;
    }
    if (k == 1) {
        gen_fx_insn(r, p);
        return;
    }
    unsigned esc = rn(r, 8);
    if (k < 28) {
        unsigned reg;
        do
            reg = rn(r, 8);
        while (!MEM_SIZE[esc][reg]);
        gen_mem_insn(r, p, esc, reg);
        return;
    }
    unsigned modrm;
    do
        esc = rn(r, 8), modrm = rn(r, 64);
    while (!(VALID_REG[esc][modrm >> 4] >> (modrm & 15) & 1));
    p->code[p->n++] = (uint8_t)(0xd8 + esc), p->code[p->n++] = (uint8_t)(0xc0 + modrm);
}

/* fxrstor64 [r14]; 1..4 instructions */
static void gen_prog(uint64_t seed, prog *p)
{
    rng r = { seed * 0x9e3779b97f4a7c15ull + 11 };
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < DATA_SIZE; i++)
        p->data[i] = (uint8_t)rnd(&r);
    gen_state(&r, p->data);
    static const uint8_t fxrstor_r14[] = { 0x49, 0x0f, 0xae, 0x0e };
    memcpy(p->code, fxrstor_r14, 4);
    p->n = 4;
    unsigned n = 1 + (rn(&r, 3) ? 0 : rn(&r, 4));
    for (unsigned i = 0; i < n && !p->n_mask; i++) /* nothing reads host pointers: they come last */
        gen_insn(&r, p);
    for (unsigned i = 0; i < p->n_fx; i++)
        p->data[p->fx_at[i] + 26] = p->data[p->fx_at[i] + 27] = 0; /* MXCSR bits 16..31 */
    p->rax = rnd(&r);
    p->rflags = 0x2 | (rnd(&r) & ARITH);
}

/* --------------------------------------------------------------- results */

typedef struct result {
    uint8_t  fx[512];  /* the state after, FXSAVE64 layout */
    uint8_t  data[DATA_SIZE];
    uint64_t rax, rflags;
    int      exit;     /* 0 ran to the end, 1 exception (#MF, #GP), 2 other */
    size_t   stop;     /* code offset it stopped at */
} result;

static void run_softmmu(const prog *p, result *out)
{
    cpu_exit ex;
    OK(mmu_write(m, CODE, p->code, p->n));
    OK(mmu_write(m, DATA, p->data, DATA_SIZE));
    cpu_reg_write(c, CPU_RAX, p->rax);
    cpu_reg_write(c, CPU_RFLAGS, p->rflags);
    cpu_reg_write(c, CPU_R14, DATA);
    cpu_reg_write(c, CPU_R15, DATA + OPND);
    OK(cpu_run(c, CODE, CODE + p->n, 64, &ex));
    OK(cpu_fxsave(c, out->fx));
    OK(mmu_read(m, DATA, out->data, DATA_SIZE));
    out->rax = cpu_reg_read(c, CPU_RAX);
    out->rflags = cpu_reg_read(c, CPU_RFLAGS);
    out->exit = ex == CPU_EXIT_UNTIL ? 0 : ex == CPU_EXIT_EXCEPTION ? 1 : 2;
    out->stop = cpu_reg_read(c, CPU_RIP) - CODE;
}

/* --- natively */

typedef struct nctx {
    uint64_t r14, r15, rax, rflags; /* in; rax and rflags also out */
    uint64_t pad[4];
    uint8_t  host[512];             /* the host's FP state meanwhile */
    uint8_t  out[512];              /* the state after */
} nctx;

static uint8_t *native_code;
static size_t native_epilogue;      /* offset of the epilogue in native_code */
static volatile size_t native_trap; /* code offset of a #MF, or SIZE_MAX */
static _Alignas(64) nctx ctx;
static _Alignas(64) uint8_t native_data[DATA_SIZE];

/* #MF (SIGFPE) or #GP (SIGSEGV: fxrstor of a reserved MXCSR bit) in the
 * program: note where, continue at the epilogue (its fxsave64 does not
 * wait). Anywhere else: a real crash, let it happen. */
static void on_trap(int sig, siginfo_t *si, void *uc_)
{
    ucontext_t *uc = uc_;
    uint8_t *rip = (uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
    (void)si;
    if (rip < native_code || rip >= native_code + native_epilogue) {
        signal(sig, SIG_DFL);
        return;
    }
    native_trap = (size_t)(rip - native_code);
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(native_code + native_epilogue);
}

static const uint8_t PROLOGUE[] = {
    0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57, /* push rbx rbp r12..r15 */
    0x48, 0x89, 0xfb,                                           /* mov rbx, rdi */
    0x48, 0x0f, 0xae, 0x43, 0x40,                               /* fxsave64 [rbx+64] */
    0x4c, 0x8b, 0x33,                                           /* mov r14, [rbx] */
    0x4c, 0x8b, 0x7b, 0x08,                                     /* mov r15, [rbx+8] */
    0x48, 0x8b, 0x43, 0x10,                                     /* mov rax, [rbx+16] */
    0xff, 0x73, 0x18, 0x9d,                                     /* push [rbx+24]; popfq */
};

static const uint8_t EPILOGUE[] = {
    0x9c, 0x8f, 0x43, 0x18,                         /* pushfq; pop [rbx+24] */
    0x48, 0x89, 0x43, 0x10,                         /* mov [rbx+16], rax */
    0x48, 0x0f, 0xae, 0x83, 0x40, 0x02, 0, 0,       /* fxsave64 [rbx+576] */
    0x48, 0x0f, 0xae, 0x4b, 0x40,                   /* fxrstor64 [rbx+64] */
    0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3,
};

static bool native_init(void)
{
    if (native_code)
        return true;
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    native_code = p;
    struct sigaction sa = { .sa_sigaction = on_trap, .sa_flags = SA_SIGINFO };
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    return true;
}

static void run_native(const prog *p, result *out)
{
    size_t n = sizeof PROLOGUE;
    memcpy(native_code, PROLOGUE, n);
    memcpy(native_code + n, p->code, p->n);
    native_epilogue = n + p->n;
    memcpy(native_code + native_epilogue, EPILOGUE, sizeof EPILOGUE);
    memcpy(native_data, p->data, DATA_SIZE);
    ctx.r14 = (uint64_t)native_data, ctx.r15 = (uint64_t)(native_data + OPND);
    ctx.rax = p->rax, ctx.rflags = p->rflags;
    native_trap = SIZE_MAX;
    ((void (*)(nctx *))(void *)native_code)(&ctx);
    memcpy(out->fx, ctx.out, 512);
    memcpy(out->data, native_data, DATA_SIZE);
    out->rax = ctx.rax, out->rflags = ctx.rflags;
    out->exit = native_trap != SIZE_MAX;
    out->stop = out->exit ? native_trap - sizeof PROLOGUE : p->n;
}

/* --- on Unicorn */

#ifdef HAVE_UNICORN
#include <unicorn/unicorn.h>

static uc_engine *uc;

/* the program, then fxsave64 [r14+0x2000] (past the compared data) for the state */
static void run_unicorn(const prog *p, result *out)
{
    static const uint8_t save[] = { 0x49, 0x0f, 0xae, 0x86, 0x00, 0x20, 0, 0 };
    uint8_t code[512];
    if (!uc) {
        cr_assert_eq(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), UC_ERR_OK);
        uc_mem_map(uc, CODE, 0x1000, UC_PROT_READ | UC_PROT_EXEC);
        uc_mem_map(uc, DATA, DATA_SIZE + 0x1000, UC_PROT_READ | UC_PROT_WRITE);
    }
    memcpy(code, p->code, p->n);
    memcpy(code + p->n, save, sizeof save);
    uc_mem_write(uc, CODE, code, p->n + sizeof save);
    uc_mem_write(uc, DATA, p->data, DATA_SIZE);
    uint64_t r14 = DATA, r15 = DATA + OPND;
    uc_reg_write(uc, UC_X86_REG_R14, &r14);
    uc_reg_write(uc, UC_X86_REG_R15, &r15);
    uc_reg_write(uc, UC_X86_REG_RAX, &p->rax);
    uc_reg_write(uc, UC_X86_REG_RFLAGS, &p->rflags);
    uc_err err = uc_emu_start(uc, CODE, CODE + p->n + sizeof save, 0, 64);
    uint64_t rip;
    uc_reg_read(uc, UC_X86_REG_RIP, &rip);
    uc_reg_read(uc, UC_X86_REG_RAX, &out->rax);
    uc_reg_read(uc, UC_X86_REG_RFLAGS, &out->rflags);
    uc_mem_read(uc, DATA, out->data, DATA_SIZE);
    uc_mem_read(uc, DATA + DATA_SIZE, out->fx, 512);
    out->exit = err == UC_ERR_OK ? 0 : err == UC_ERR_EXCEPTION ? 1 : 2;
    out->stop = err == UC_ERR_OK ? p->n : rip - CODE;
}
#endif

/* ------------------------------------------------------------ comparing */

/* the fields both must agree on: not FOP/FIP/FDP (6..23), MXCSR_MASK,
 * the padding after each ST(i), bytes 416.. */
static void normalize(result *x, const prog *p)
{
    memset(x->fx + 6, 0, 18);
    memset(x->fx + 28, 0, 4);
    for (unsigned i = 0; i < 8; i++)
        memset(x->fx + 32 + 16 * i + 10, 0, 6);
    memset(x->fx + 416, 0, 96);
    for (unsigned i = 0; i < p->n_mask; i++)
        memset(x->data + p->mask[i].off, 0, p->mask[i].size);
    x->rflags &= ARITH;
}

/* what differs, as a short word; NULL when nothing does */
static const char *differs(const result *a, const result *b)
{
    if (a->exit != b->exit || a->stop != b->stop)
        return "exit";
    if (memcmp(a->fx + 32, b->fx + 32, 128))
        return "st";
    if (memcmp(a->fx + 2, b->fx + 2, 2))
        return "fsw";
    if (memcmp(a->fx, b->fx, 2))
        return "fcw";
    if (a->fx[4] != b->fx[4])
        return "tags";
    if (a->rflags != b->rflags)
        return "rflags";
    if (a->rax != b->rax)
        return "rax";
    if (memcmp(a->data, b->data, DATA_SIZE))
        return "memory";
    if (memcmp(a->fx + 24, b->fx + 24, 4) || memcmp(a->fx + 160, b->fx + 160, 256))
        return "mxcsr/xmm";
    return NULL;
}

static csh cs;

static void print_prog(const prog *p)
{
    cs_insn *ci;
    size_t n = cs_disasm(cs, p->code, p->n, CODE, 0, &ci);
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, "   ");
        for (unsigned k = 0; k < ci[i].size; k++)
            fprintf(stderr, " %02x", ci[i].bytes[k]);
        fprintf(stderr, "%*s%s %s\n", (int)(3 * (8 - ci[i].size)), "", ci[i].mnemonic, ci[i].op_str);
    }
    if (n)
        cs_free(ci, n);
}

static void print_diff(const char *who, const result *a, const result *b)
{
    fprintf(stderr, "  exit softmmu %d@%zu %s %d@%zu; fsw %04x/%04x fcw %04x/%04x tags %02x/%02x rflags %lx/%lx\n",
            a->exit, a->stop, who, b->exit, b->stop, a->fx[2] | a->fx[3] << 8, b->fx[2] | b->fx[3] << 8,
            a->fx[0] | a->fx[1] << 8, b->fx[0] | b->fx[1] << 8, a->fx[4], b->fx[4], (unsigned long)a->rflags,
            (unsigned long)b->rflags);
    for (unsigned i = 0; i < 8; i++) {
        const uint8_t *x = a->fx + 32 + 16 * i, *y = b->fx + 32 + 16 * i;
        if (memcmp(x, y, 10))
            fprintf(stderr, "  st%u softmmu %02x%02x:%016lx %s %02x%02x:%016lx\n", i, x[9], x[8],
                    *(const unsigned long *)x, who, y[9], y[8], *(const unsigned long *)y);
    }
}

static unsigned long env_num(const char *name, unsigned long dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtoul(s, NULL, 0) : dflt;
}

#ifdef HAVE_UNICORN
/* the mnemonic of the instruction at code offset off */
static void mnemonic(const prog *p, size_t off, char *out, size_t size)
{
    cs_insn *ci;
    size_t n = cs_disasm(cs, p->code + off, p->n - off, CODE + off, 1, &ci);
    snprintf(out, size, "%s", n ? ci->mnemonic : "?");
    if (n)
        cs_free(ci, n);
}

/* Unicorn's differences, by mnemonic and field */
typedef struct tally {
    char     key[64];
    unsigned n;
} tally;

static void count(tally *t, size_t cap, const char *key)
{
    for (size_t i = 0; i < cap; i++) {
        if (!t[i].n)
            snprintf(t[i].key, sizeof t[i].key, "%s", key);
        if (!strcmp(t[i].key, key)) {
            t[i].n++;
            return;
        }
    }
}

static tally uc_tally[256];

static int by_count(const void *x, const void *y)
{
    return (int)((const tally *)y)->n - (int)((const tally *)x)->n;
}

/* Unicorn runs the first instruction alone, so that a difference is that
 * instruction's: keyed by mnemonic and what differs (FSW: which bits) */
static void uc_key(const prog *p, const result *h, const result *u, const char *what, char *key, size_t size)
{
    char mn[32];
    unsigned sw0 = p->data[2], sw = h->fx[2];
    /* the hardware took a stack fault (SF newly set) */
    const char *sf = (sw & 0x40) && !(sw0 & 0x40) ? " stack-fault" : "";
    mnemonic(p, p->at[0], mn, sizeof mn);
    if (!strcmp(what, "fsw"))
        snprintf(key, size, "%s fsw^%04x%s", mn, (h->fx[2] | h->fx[3] << 8) ^ (u->fx[2] | u->fx[3] << 8), sf);
    else
        snprintf(key, size, "%s %s%s", mn, what, sf);
}

/* the most frequent differences first, then totals by what differs */
static void uc_report(void)
{
    static tally by_what[64];
    qsort(uc_tally, 256, sizeof *uc_tally, by_count);
    for (unsigned i = 0; i < 256 && uc_tally[i].n; i++) {
        const char *what = strchr(uc_tally[i].key, ' ');
        for (unsigned k = 0; k < uc_tally[i].n; k++)
            count(by_what, 64, what ? what + 1 : "?");
        if (i < 40)
            fprintf(stderr, "  unicorn %-36s %u\n", uc_tally[i].key, uc_tally[i].n);
    }
    qsort(by_what, 64, sizeof *by_what, by_count);
    for (unsigned i = 0; i < 64 && by_what[i].n; i++)
        fprintf(stderr, "  unicorn, all instructions: %-26s %u\n", by_what[i].key, by_what[i].n);
}
#endif

Test(x87_diff, random_x87_matches_the_hardware, .timeout = 3000)
{
    unsigned long n = env_num("SOFTMMU_X87_N", 10000), n_uc = env_num("SOFTMMU_X87_UC_N", 1000);
    unsigned long trace = env_num("SOFTMMU_X87_TRACE", 0), trace_uc = env_num("SOFTMMU_X87_UC_SHOW", 0);
    unsigned long seed0 = env_num("SOFTMMU_X87_SEED", 1), bad = 0, insns = 0, mf = 0;
    unsigned long uc_bad = 0, uc_ran = 0, uc_sse = 0;
    static prog p;
    static result a, h, u;
    if (!native_init())
        cr_skip_test("no executable memory for the native oracle");
    cs_open(CS_ARCH_X86, CS_MODE_64, &cs);
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, CODE, 0x1000, MMU_PROT_READ | MMU_PROT_EXEC, "code"));
    OK(mmu_map(m, DATA, DATA_SIZE, MMU_PROT_READ | MMU_PROT_WRITE, "data"));
    OK(cpu_open(m, &c));
    for (unsigned long i = 0; i < n; i++) {
        gen_prog(seed0 + i, &p);
        if (trace) /* SOFTMMU_X87_TRACE=1: which program, should one crash */
            fprintf(stderr, "seed %lu\n", seed0 + i), print_prog(&p);
        run_softmmu(&p, &a);
        run_native(&p, &h);
        normalize(&a, &p), normalize(&h, &p);
        insns += p.n_insn, mf += h.exit;
        const char *what = differs(&a, &h);
        if (what) {
            fprintf(stderr, "MISMATCH with the hardware, seed %lu (%s):\n", seed0 + i, what);
            print_prog(&p);
            print_diff("hardware", &a, &h);
            if (++bad >= 10)
                break;
        }
#ifdef HAVE_UNICORN
        if (i < n_uc) {
            char key[64];
            p.n = p.n_insn > 1 ? p.at[1] : p.n, p.n_insn = 1;
            run_native(&p, &h);
            normalize(&h, &p);
            run_unicorn(&p, &u);
            normalize(&u, &p);
            uc_ran++;
            /* Unicorn 2.0.1's fxsave64/fxrstor64 leave MXCSR and XMM out (our
             * way in and out of it): counted apart, then ignored */
            if (memcmp(h.fx + 24, u.fx + 24, 4) || memcmp(h.fx + 160, u.fx + 160, 256))
                uc_sse++;
            memcpy(u.fx + 24, h.fx + 24, 4), memcpy(u.fx + 160, h.fx + 160, 256);
            what = differs(&h, &u);
            if (what) {
                uc_key(&p, &h, &u, what, key, sizeof key);
                count(uc_tally, 256, key);
                if (uc_bad++ < trace_uc) /* SOFTMMU_X87_UC_SHOW=n: print the first n */
                    print_prog(&p), print_diff("unicorn", &h, &u);
            }
        }
#endif
    }
    fprintf(stderr, "x87_diff: %lu programs (%lu x87 instructions, %lu ending in #MF or #GP) from seed %lu: %lu differ from the "
            "hardware; Unicorn differs from the hardware on %lu of %lu single instructions (and its fxsave64/"
            "fxrstor64 drop MXCSR/XMM in %lu)\n", n, insns, mf, seed0, bad, uc_bad, uc_ran, uc_sse);
#ifdef HAVE_UNICORN
    uc_report();
#endif
    (void)u, (void)n_uc, (void)trace_uc;
    cs_close(&cs);
    cpu_close(c);
    mmu_close(m);
    cr_assert_eq(bad, 0, "%lu of the random x87 programs differ from the hardware", bad);
}
