/*
 * test_cpu_isa.c - the CPU model (cpuid), the time-stamp counter, the
 * integer long tail checked against the host CPU itself (rcl/rcr with the
 * OF the SDM leaves undefined, popcnt, lzcnt: Unicorn 2.0.1 cannot run
 * popcnt at all), alignment exceptions of the SSE forms, and SSE2 integer
 * results with known answers. Instructions are raw bytes with their
 * disassembly in comments.
 */
#include "test_util.h"

#include <softmmu/cpu.h>

#include <string.h>

#define CODE 0x1000ull
#define DATA 0x10000ull
#define STACK 0x20000ull
#define SP0 (STACK + 0x1000)
#define XDUMP (DATA + 0x1f00)

#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u

static mmu_t *m;
static cpu_t *c;

static void setup(void)
{
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, CODE, 0x2000, MMU_PROT_ALL, "code"));
    OK(mmu_map(m, DATA, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, "data"));
    OK(mmu_map(m, STACK, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, "stack"));
    OK(cpu_open(m, &c));
    cpu_reg_write(c, CPU_RSP, SP0);
}

static void teardown(void)
{
    cpu_close(c);
    mmu_close(m);
}

TestSuite(isa, .init = setup, .fini = teardown);

static cpu_exit run_n(const uint8_t *code, size_t n)
{
    cpu_exit ex;
    OK(mmu_write(m, CODE, code, n));
    OK(cpu_run(c, CODE, CODE + n, 0, &ex));
    return ex;
}

#define RUN(...)                                                                               \
    ({                                                                                         \
        static const uint8_t code_[] = { __VA_ARGS__ };                                        \
        run_n(code_, sizeof code_);                                                            \
    })
#define RUN_OK(...) cr_assert_eq(RUN(__VA_ARGS__), CPU_EXIT_UNTIL)
#define REG(r) cpu_reg_read(c, CPU_##r)
#define SET(r, v) cpu_reg_write(c, CPU_##r, (v))
#define EQ(r, v) cr_assert_eq(REG(r), (uint64_t)(v), #r " = %#lx, want %#lx", (unsigned long)REG(r), (unsigned long)(v))

/* XMM register n as two quadwords, through movdqu [XDUMP], xmmN run from
 * a second code area */
static void xmm(unsigned n, uint64_t out[2])
{
    uint8_t code[10] = { 0xf3, (uint8_t)(n >= 8 ? 0x44 : 0x40), 0x0f, 0x7f, (uint8_t)(0x04 | (n & 7) << 3), 0x25 };
    uint32_t at = (uint32_t)XDUMP;
    memcpy(code + 6, &at, 4);
    cpu_exit ex;
    OK(mmu_write(m, CODE + 0x800, code, sizeof code));
    OK(cpu_run(c, CODE + 0x800, CODE + 0x800 + sizeof code, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_UNTIL);
    OK(mmu_read(m, XDUMP, out, 16));
}

static void xmm_eq(unsigned n, uint64_t lo, uint64_t hi)
{
    uint64_t got[2];
    xmm(n, got);
    cr_assert(got[0] == lo && got[1] == hi, "xmm%u = %#lx:%#lx, want %#lx:%#lx", n, (unsigned long)got[1],
              (unsigned long)got[0], (unsigned long)hi, (unsigned long)lo);
}

/* ------------------------------------------------------------------ cpuid */

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    SET(RAX, 0xffffffff00000000ull | leaf);
    SET(RBX, ~0ull), SET(RCX, ~0ull), SET(RDX, ~0ull);
    RUN_OK(0x0f, 0xa2); /* cpuid */
    r[0] = (uint32_t)REG(RAX), r[1] = (uint32_t)REG(RBX), r[2] = (uint32_t)REG(RCX), r[3] = (uint32_t)REG(RDX);
    cr_assert(REG(RAX) >> 32 == 0 && REG(RBX) >> 32 == 0 && REG(RCX) >> 32 == 0 && REG(RDX) >> 32 == 0,
              "cpuid zero-extends its results");
}

Test(isa, cpuid_reports_the_documented_model)
{
    uint32_t r[4];
    char vendor[13] = { 0 }, brand[49] = { 0 };
    cpuid(0, r);
    cr_assert_eq(r[0], 0xd);
    memcpy(vendor, &r[1], 4), memcpy(vendor + 4, &r[3], 4), memcpy(vendor + 8, &r[2], 4);
    cr_assert_str_eq(vendor, "SoftMMUx8664");
    cpuid(1, r);
    cr_assert_eq(r[0], 0x601);
#if SOFTMMU_SSSE3
    cr_assert_eq(r[2], 1u | (1u << 9) | (1u << 13) | (1u << 23), "ecx: SSE3 SSSE3 CX16 POPCNT only");
#else
    cr_assert_eq(r[2], (1u << 13) | (1u << 23), "ecx: CX16 POPCNT only (no SSE3, no XSAVE/OSXSAVE, no AVX)");
#endif
    cr_assert_eq(r[3], 0x07088111, "edx: FPU TSC CX8 CMOV CLFSH FXSR SSE SSE2");
    cpuid(7, r);
    cr_assert(!r[0] && !r[1] && !r[2] && !r[3], "leaf 7: nothing (no BMI1, AVX2, ERMS)");
    cpuid(0xd, r);
    cr_assert(!r[0] && !r[1] && !r[2] && !r[3], "leaf 0xd: no XSAVE state");
    cpuid(0x80000000, r);
    cr_assert_eq(r[0], 0x80000008);
    cpuid(0x80000001, r);
    cr_assert_eq(r[2], 0x21, "LAHF_LM ABM");
    cr_assert_eq(r[3], 0x28100800, "SYSCALL NX RDTSCP LM");
    for (uint32_t i = 0; i < 3; i++) {
        cpuid(0x80000002 + i, r);
        memcpy(brand + 16 * i, r, 16);
    }
    cr_assert_str_eq(brand, "SoftMMU x86-64 interpreter");
    cpuid(0x40000000, r);
    cr_assert(!r[0] && !r[1] && !r[2] && !r[3], "unknown leaves read 0");
}

/* what the model reports runs; what it does not is invalid */
Test(isa, reported_features_run_and_others_are_invalid)
{
    SET(RDI, DATA);
    RUN_OK(0xf3, 0x0f, 0xb8, 0xc1,        /* popcnt eax, ecx */
           0xf3, 0x0f, 0xbd, 0xc1,        /* lzcnt eax, ecx */
           0x48, 0x0f, 0xc7, 0x0f,        /* cmpxchg16b [rdi] */
           0x0f, 0x01, 0xf9,              /* rdtscp */
           0x0f, 0xae, 0xf0,              /* mfence */
           0x0f, 0x18, 0x0f);             /* prefetcht0 [rdi] */
    static const uint8_t absent[][6] = {
#if !SOFTMMU_SSSE3
        { 0x66, 0x0f, 0x38, 0x00, 0xc1 }, /* pshufb xmm0, xmm1 (SSSE3) */
        { 0xf2, 0x0f, 0xf0, 0x07 },       /* lddqu xmm0, [rdi] (SSE3) */
#endif
        { 0x66, 0x0f, 0x38, 0x10, 0xc1 }, /* pblendvb xmm0, xmm1 (SSE4.1) */
        { 0x0f, 0x38, 0xf0, 0x07 },       /* movbe eax, [rdi] */
        { 0x0f, 0xc7, 0xf0 },             /* rdrand eax */
        { 0x0f, 0x01, 0xd0 },             /* xgetbv */
        { 0x0f, 0xfc, 0xc1 },             /* paddb mm0, mm1 (MMX) */
    };
    for (unsigned i = 0; i < sizeof absent / sizeof *absent; i++) {
        cr_assert_eq(run_n(absent[i], sizeof absent[i]), CPU_EXIT_INSN_INVALID, "case %u", i);
        EQ(RIP, CODE);
    }
}

/* -------------------------------------------------------- rdtsc / rdtscp */

static uint64_t rdtsc(void)
{
    SET(RAX, ~0ull), SET(RDX, ~0ull);
    RUN_OK(0x0f, 0x31); /* rdtsc */
    cr_assert(REG(RAX) >> 32 == 0 && REG(RDX) >> 32 == 0);
    return REG(RDX) << 32 | REG(RAX);
}

Test(isa, rdtsc_increases_at_every_read)
{
    uint64_t t = rdtsc();
    for (int i = 0; i < 100; i++) {
        uint64_t u = rdtsc();
        cr_assert_gt(u, t);
        t = u;
    }
    SET(RCX, ~0ull);
    RUN_OK(0x0f, 0x01, 0xf9); /* rdtscp: ECX = TSC_AUX = 0 */
    EQ(RCX, 0);
    cr_assert_gt(REG(RDX) << 32 | REG(RAX), t);
}

Test(isa, rdtsc_is_deterministic_on_request)
{
    cpu_tsc_deterministic(c, 1ull << 40, 1000);
    cr_assert_eq(rdtsc(), 1ull << 40);
    cr_assert_eq(rdtsc(), (1ull << 40) + 1000);
    RUN_OK(0x0f, 0x01, 0xf9); /* rdtscp */
    cr_assert_eq(REG(RDX) << 32 | REG(RAX), (1ull << 40) + 2000);
    cpu_tsc_deterministic(c, 0, 0); /* back to the host clock: still increasing */
    uint64_t t = rdtsc();
    cr_assert_gt(rdtsc(), t);
    cpu_tsc_deterministic(NULL, 0, 1);
}

/* ------------------------------------------------ the tail, against the host */

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

/* an operand biased to edges: 0, all ones, the sign bit alone, random */
static uint64_t edge(void)
{
    switch (rnd() % 5) {
    case 0: return 0;
    case 1: return ~0ull;
    case 2: return 1ull << (rnd() % 64);
    default: return rnd();
    }
}

#if defined(__x86_64__)
/* rcl/rcr r/m, cl natively: result and RFLAGS from RFLAGS fl_in */
#define HOST_RC(name, suffix, reg)                                                             \
    static uint64_t host_##name##suffix(uint64_t v, unsigned n, uint64_t fl_in, uint64_t *fl)  \
    {                                                                                          \
        __asm__ volatile("push %[fi]\n\tpopfq\n\t" #name #suffix " %%cl, %" reg "[v]\n\tpushfq\n\tpop %[f]" \
                         : [v] "+r"(v), [f] "=r"(*fl)                                          \
                         : "c"(n), [fi] "r"(fl_in)                                             \
                         : "cc");                                                              \
        return v;                                                                              \
    }
HOST_RC(rcl, b, "b") HOST_RC(rcl, w, "w") HOST_RC(rcl, l, "k") HOST_RC(rcl, q, "q")
HOST_RC(rcr, b, "b") HOST_RC(rcr, w, "w") HOST_RC(rcr, l, "k") HOST_RC(rcr, q, "q")

typedef uint64_t (*host_rc_fn)(uint64_t, unsigned, uint64_t, uint64_t *);

/* rcl/rcr r, cl at every size and count 0..70 with random and edge values,
 * CF in and out, OF for every count: equal to this machine's CPU */
Test(isa, rcl_rcr_match_the_host_cpu_including_undefined_of)
{
    static const host_rc_fn host[2][4] = { { host_rclb, host_rclw, host_rcll, host_rclq },
                                           { host_rcrb, host_rcrw, host_rcrl, host_rcrq } };
    /* rcl/rcr bl/bx/ebx/rbx, cl: d2/d3 /2 /3 with 66 and REX.W */
    static const uint8_t code[2][4][4] = {
        { { 0xd2, 0xd3 }, { 0x66, 0xd3, 0xd3 }, { 0xd3, 0xd3 }, { 0x48, 0xd3, 0xd3 } },
        { { 0xd2, 0xdb }, { 0x66, 0xd3, 0xdb }, { 0xd3, 0xdb }, { 0x48, 0xd3, 0xdb } },
    };
    static const unsigned len[4] = { 2, 3, 2, 3 };
    for (int i = 0; i < 20000; i++) {
        unsigned right = rnd() & 1, s = rnd() % 4, n = (unsigned)(rnd() % 71);
        uint64_t v = edge(), fl_in = 0x202 | (rnd() & (CF | PF | AF | ZF | SF | OF)), fl;
        uint64_t want = host[right][s](v, n, fl_in, &fl);
        SET(RBX, v), SET(RCX, n), SET(RFLAGS, fl_in);
        cr_assert_eq(run_n(code[right][s], len[s]), CPU_EXIT_UNTIL);
        cr_assert_eq(REG(RBX), want, "%s size %u count %u of %#lx", right ? "rcr" : "rcl", 1u << s, n,
                     (unsigned long)v);
        cr_assert_eq(REG(RFLAGS) & 0x8d5, fl & 0x8d5, "%s size %u count %u of %#lx cf %lu: flags %#lx, host %#lx",
                     right ? "rcr" : "rcl", 1u << s, n, (unsigned long)v, (unsigned long)(fl_in & 1),
                     (unsigned long)REG(RFLAGS), (unsigned long)fl);
    }
}

/* popcnt / lzcnt ebx-sized from rcx natively, with RFLAGS */
#define HOST_BC(name, suffix, dreg, sreg)                                                      \
    static uint64_t host_##name##suffix(uint64_t v, uint64_t *fl)                              \
    {                                                                                          \
        uint64_t r = 0;                                                                        \
        __asm__ volatile("xor %%eax, %%eax\n\tpush %%rax\n\tpopfq\n\t" #name " %" sreg "[v], %" dreg "[r]\n\t" \
                         "pushfq\n\tpop %[f]"                                                  \
                         : [r] "+r"(r), [f] "=r"(*fl)                                          \
                         : [v] "r"(v)                                                          \
                         : "rax", "cc");                                                       \
        return r;                                                                              \
    }
HOST_BC(popcnt, w, "w", "w") HOST_BC(popcnt, l, "k", "k") HOST_BC(popcnt, q, "q", "q")
HOST_BC(lzcnt, w, "w", "w") HOST_BC(lzcnt, l, "k", "k") HOST_BC(lzcnt, q, "q", "q")

typedef uint64_t (*host_bc_fn)(uint64_t, uint64_t *);

/* popcnt, lzcnt bx/ebx/rbx, cx/ecx/rcx (f3 [66|48] 0f b8/bd d9): result
 * and flags as the host (lzcnt: CF and ZF, the rest undefined) */
Test(isa, popcnt_lzcnt_match_the_host_cpu)
{
    static const host_bc_fn host[2][3] = { { host_popcntw, host_popcntl, host_popcntq },
                                           { host_lzcntw, host_lzcntl, host_lzcntq } };
    static const uint8_t size_pfx[3] = { 0x66, 0, 0x48 };
    for (int i = 0; i < 6000; i++) {
        unsigned lz = rnd() & 1, s = (unsigned)(rnd() % 3);
        uint64_t v = edge(), fl, want = host[lz][s](v, &fl);
        uint8_t code[5] = { 0xf3, size_pfx[s], 0x0f, lz ? 0xbd : 0xb8, 0xd9 };
        if (s == 0) /* 66 before f3 */
            code[0] = 0x66, code[1] = 0xf3;
        const uint8_t *p = s == 1 ? code + 1 : code;
        uint8_t c4[4] = { 0xf3, 0x0f, code[3], 0xd9 };
        SET(RBX, 0), SET(RCX, v), SET(RFLAGS, 0x2);
        cr_assert_eq(s == 1 ? run_n(c4, 4) : run_n(p, 5), CPU_EXIT_UNTIL);
        unsigned mask = lz ? CF | ZF : 0x8d5;
        cr_assert_eq(REG(RBX), want, "%s size %u of %#lx", lz ? "lzcnt" : "popcnt", 2u << s, (unsigned long)v);
        cr_assert_eq(REG(RFLAGS) & mask, fl & mask, "%s size %u of %#lx: flags %#lx, host %#lx",
                     lz ? "lzcnt" : "popcnt", 2u << s, (unsigned long)v, (unsigned long)REG(RFLAGS),
                     (unsigned long)fl);
    }
}
#endif

#if SOFTMMU_SSSE3
/* phadd/phsub xmm0, xmm0 natively (Unicorn 2.0.1 is wrong here) */
#define HOST_H(name)                                                                           \
    static void host_##name(uint64_t x[2])                                                     \
    {                                                                                          \
        __asm__ volatile("movdqu %0, %%xmm0\n\t" #name " %%xmm0, %%xmm0\n\tmovdqu %%xmm0, %0" \
                         : "+m"(*(uint64_t(*)[2])x) : : "xmm0");                               \
    }
HOST_H(phaddw) HOST_H(phaddd) HOST_H(phaddsw) HOST_H(phsubw) HOST_H(phsubd) HOST_H(phsubsw)

Test(isa, horizontal_ssse3_with_one_register_match_the_host_cpu)
{
    static void (*const host[6])(uint64_t *) = { host_phaddw, host_phaddd, host_phaddsw,
                                                 host_phsubw, host_phsubd, host_phsubsw };
    static const uint8_t opc[6] = { 0x01, 0x02, 0x03, 0x05, 0x06, 0x07 };
    if (!__builtin_cpu_supports("ssse3"))
        cr_skip_test("the host has no SSSE3");
    for (int i = 0; i < 3000; i++) {
        unsigned k = (unsigned)(rnd() % 6);
        uint64_t v[2] = { edge(), edge() }, want[2] = { v[0], v[1] };
        host[k](want);
        OK(mmu_write(m, DATA, v, 16));
        uint8_t code[] = { 0xf3, 0x0f, 0x6f, 0x04, 0x25, 0, 0, 1, 0,  /* movdqu xmm0, [DATA] */
                           0x66, 0x0f, 0x38, opc[k], 0xc0 };         /* phxxx xmm0, xmm0 */
        cr_assert_eq(run_n(code, sizeof code), CPU_EXIT_UNTIL);
        xmm_eq(0, want[0], want[1]);
    }
}
#endif

/* no BMI1 in the model: f3 0f bc is bsf, a zero source keeps the
 * destination and sets ZF */
Test(isa, rep_bsf_is_bsf)
{
    SET(RAX, 77), SET(RCX, 0);
    RUN_OK(0xf3, 0x0f, 0xbc, 0xc1); /* rep bsf eax, ecx */
    EQ(RAX, 77);
    cr_assert(REG(RFLAGS) & ZF);
    SET(RCX, 0x100);
    RUN_OK(0xf3, 0x48, 0x0f, 0xbc, 0xc1); /* rep bsf rax, rcx */
    EQ(RAX, 8);
}

Test(isa, cmpxchg16b_compares_and_swaps_and_needs_alignment)
{
    uint64_t mem[2] = { 1, 2 };
    OK(mmu_write(m, DATA, mem, 16));
    SET(RDI, DATA), SET(RAX, 1), SET(RDX, 2), SET(RBX, 3), SET(RCX, 4);
    RUN_OK(0xf0, 0x48, 0x0f, 0xc7, 0x0f); /* lock cmpxchg16b [rdi] */
    cr_assert(REG(RFLAGS) & ZF);
    OK(mmu_read(m, DATA, mem, 16));
    cr_assert(mem[0] == 3 && mem[1] == 4);
    RUN_OK(0x48, 0x0f, 0xc7, 0x0f); /* again: now unequal, RDX:RAX loaded */
    cr_assert(!(REG(RFLAGS) & ZF));
    EQ(RAX, 3);
    EQ(RDX, 4);
    SET(RDI, DATA + 8);
    cr_assert_eq(RUN(0x48, 0x0f, 0xc7, 0x0f), CPU_EXIT_EXCEPTION); /* #GP: misaligned */
    EQ(RIP, CODE);
}

/* enter 16, 3 with rbp = rsp (after mov rbp, rsp): the frame pointers it
 * copies from [rbp - 8] and [rbp - 16] are the slots it has just pushed,
 * as sequential pushes would read them */
Test(isa, enter_with_nesting_reads_its_own_pushes)
{
    SET(RBP, SP0);
    RUN_OK(0xc8, 0x10, 0x00, 0x03); /* enter 0x10, 3 */
    EQ(RBP, SP0 - 8);
    EQ(RSP, SP0 - 32 - 16);
    uint64_t got[4];
    OK(mmu_read(m, SP0 - 32, got, 32));
    cr_assert(got[3] == SP0 && got[2] == SP0 && got[1] == SP0, "pushed rbp, then two copies of it");
    cr_assert_eq(got[0], SP0 - 8, "the new frame pointer");
}

/* ------------------------------------------------------------------- SSE */

/* #GP on hardware: an exception at the instruction, nothing changed */
Test(isa, packed_integer_memory_operands_must_be_aligned)
{
    static const uint8_t cases[][5] = {
        { 0x66, 0x0f, 0xfc, 0x07 }, /* paddb xmm0, [rdi] */
        { 0x66, 0x0f, 0x74, 0x07 }, /* pcmpeqb xmm0, [rdi] */
        { 0x66, 0x0f, 0x70, 0x07, 0x1b }, /* pshufd xmm0, [rdi], 0x1b */
        { 0x66, 0x0f, 0xf1, 0x07 }, /* psllw xmm0, [rdi] */
        { 0x0f, 0x57, 0x07 },       /* xorps xmm0, [rdi] */
        { 0x66, 0x0f, 0xe7, 0x07 }, /* movntdq [rdi], xmm0 */
    };
    SET(RDI, DATA + 8);
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        cr_assert_eq(run_n(cases[i], sizeof cases[i]), CPU_EXIT_EXCEPTION, "case %u", i);
        EQ(RIP, CODE);
    }
    /* the scalar and half moves take any alignment */
    RUN_OK(0xf2, 0x0f, 0x10, 0x07, /* movsd xmm0, [rdi] */
           0x0f, 0x16, 0x47, 0x01, /* movhps xmm0, [rdi+1] */
           0x66, 0x0f, 0xc4, 0x47, 0x03, 0x05); /* pinsrw xmm0, [rdi+3], 5 */
}

/* the strlen idiom: pcmpeqb against zero, pmovmskb, bsf */
Test(isa, pcmpeqb_pmovmskb_find_a_zero_byte)
{
    static const char s[16] = "hello, world";
    OK(mmu_write(m, DATA, s, 16));
    SET(RDI, DATA);
    RUN_OK(0x66, 0x0f, 0xef, 0xc0, /* pxor xmm0, xmm0 */
           0x66, 0x0f, 0x74, 0x07, /* pcmpeqb xmm0, [rdi] */
           0x66, 0x0f, 0xd7, 0xc0, /* pmovmskb eax, xmm0 */
           0x0f, 0xbc, 0xc8);      /* bsf ecx, eax */
    EQ(RAX, 0xf000);
    EQ(RCX, 12);
}

Test(isa, saturation_packs_and_sums_of_differences)
{
    static const uint64_t a[2] = { 0x7fff8000ff000100ull, 0x00017ffe8001fffeull };
    static const uint64_t b[2] = { 0x0101010101010101ull, 0xffffffffffffffffull };
    OK(mmu_write(m, DATA, a, 16));
    OK(mmu_write(m, DATA + 16, b, 16));
    SET(RDI, DATA);
    RUN_OK(0x66, 0x0f, 0x6f, 0x07,       /* movdqa xmm0, [rdi] */
           0x66, 0x0f, 0x6f, 0xc8,       /* movdqa xmm1, xmm0 */
           0x66, 0x0f, 0x6f, 0xd0,       /* movdqa xmm2, xmm0 */
           0x66, 0x0f, 0x6f, 0xd8,       /* movdqa xmm3, xmm0 */
           0x66, 0x0f, 0x67, 0xc0,       /* packuswb xmm0, xmm0 */
           0x66, 0x0f, 0x63, 0xc9,       /* packsswb xmm1, xmm1 */
           0x66, 0x0f, 0xdd, 0x57, 0x10, /* paddusw xmm2, [rdi+16] */
           0x66, 0x0f, 0xf6, 0x5f, 0x10); /* psadbw xmm3, [rdi+16] */
    /* words of a, low first: 0100 ff00 8000 7fff | fffe 8001 7ffe 0001 */
    xmm_eq(0, 0x01ff0000ff0000ffull, 0x01ff0000ff0000ffull);
    xmm_eq(1, 0x017f80fe7f80807full, 0x017f80fe7f80807full);
    xmm_eq(2, 0x81008101ffff0201ull, 0xffffffffffffffffull);
    /* psadbw: the sum of |a - b| over each half's bytes */
    uint64_t got[2];
    xmm(3, got);
    uint64_t want0 = 0, want1 = 0;
    for (int i = 0; i < 8; i++) {
        int x = (int)(a[0] >> 8 * i & 0xff), y = 1;
        want0 += (uint64_t)(x > y ? x - y : y - x);
        x = (int)(a[1] >> 8 * i & 0xff), y = 0xff;
        want1 += (uint64_t)(x > y ? x - y : y - x);
    }
    cr_assert(got[0] == want0 && got[1] == want1, "psadbw %#lx:%#lx", (unsigned long)got[1], (unsigned long)got[0]);
}

/* movss/movsd: register forms merge the low lane, loads zero the rest */
Test(isa, movss_movsd_zeroing_rules)
{
    static const uint64_t v[2] = { 0x1111111122222222ull, 0x3333333344444444ull };
    OK(mmu_write(m, DATA, v, 16));
    SET(RDI, DATA);
    RUN_OK(0x66, 0x0f, 0x76, 0xc0, /* pcmpeqd xmm0, xmm0: all ones */
           0x66, 0x0f, 0x76, 0xc9, /* pcmpeqd xmm1, xmm1 */
           0x66, 0x0f, 0x76, 0xd2, /* pcmpeqd xmm2, xmm2 */
           0x66, 0x0f, 0x6f, 0x1f, /* movdqa xmm3, [rdi] */
           0xf3, 0x0f, 0x10, 0xc3, /* movss xmm0, xmm3 */
           0xf2, 0x0f, 0x10, 0xcb, /* movsd xmm1, xmm3 */
           0xf3, 0x0f, 0x10, 0x17, /* movss xmm2, [rdi] */
           0xf2, 0x0f, 0x10, 0x67, 0x08); /* movsd xmm4, [rdi+8] */
    xmm_eq(0, 0xffffffff22222222ull, ~0ull);
    xmm_eq(1, 0x1111111122222222ull, ~0ull);
    xmm_eq(2, 0x22222222ull, 0);
    xmm_eq(4, 0x3333333344444444ull, 0);
}

/* maskmovdqu stores only the bytes whose mask byte has its top bit set */
Test(isa, maskmovdqu_writes_selected_bytes_only)
{
    static const uint64_t val[2] = { 0x0807060504030201ull, 0x100f0e0d0c0b0a09ull };
    static const uint64_t mask[2] = { 0x00000000ff008000ull, 0x8000000000000000ull };
    static const uint8_t fill[16] = { 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee,
                                      0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
    OK(mmu_write(m, DATA, val, 16));
    OK(mmu_write(m, DATA + 16, mask, 16));
    OK(mmu_write(m, DATA + 0x101, fill, 16));
    SET(RSI, DATA), SET(RDI, DATA + 0x101);
    RUN_OK(0x66, 0x0f, 0x6f, 0x06,        /* movdqa xmm0, [rsi] */
           0x66, 0x0f, 0x6f, 0x4e, 0x10,  /* movdqa xmm1, [rsi+16] */
           0x66, 0x0f, 0xf7, 0xc1);       /* maskmovdqu xmm0, xmm1 */
    uint8_t got[16];
    OK(mmu_read(m, DATA + 0x101, got, 16));
    static const uint8_t want[16] = { 0xee, 0x02, 0xee, 0x04, 0xee, 0xee, 0xee, 0xee,
                                      0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0x10 };
    cr_assert_arr_eq(got, want, 16);
}
