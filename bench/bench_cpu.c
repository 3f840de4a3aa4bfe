/*
 * bench_cpu.c - the interpreter in M instructions per second, against
 * Unicorn's JIT on the same machine code:
 *   cpu.loadstore       a load/store loop
 *   cpu.loadstore.hook  the same with a code hook on every instruction
 *   cpu.sieve           a branchy integer loop (sieve of Eratosthenes)
 *   cpu.double          scalar double arithmetic (SSE2), also run natively
 *   cpu.vec             a vectorised integer kernel (SSE2 packed), also run natively
 */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CODE_ADDR 0x400000u
#define DATA_ADDR 0x100000u /* load/store data: 64 KiB, wrapped by the mask */
#define SIEVE_ADDR 0x1000000u

/* rsi = DATA_ADDR, rcx = iterations; 7 instructions per iteration. Loads
 * read the even quadwords, stores write the odd ones: every run sees the
 * same memory and ends with rcx 0. */
static const uint8_t loadstore_code[] = {
    0x48, 0x8b, 0x16,                         /* 00: mov rdx, [rsi]        */
    0x48, 0x01, 0xd0,                         /* 03: add rax, rdx          */
    0x48, 0x89, 0x46, 0x08,                   /* 06: mov [rsi+8], rax      */
    0x48, 0x83, 0xc6, 0x10,                   /* 0a: add rsi, 16           */
    0x48, 0x81, 0xe6, 0xf0, 0xff, 0x10, 0x00, /* 0e: and rsi, 0x10fff0     */
    0x48, 0xff, 0xc9,                         /* 15: dec rcx               */
    0x75, 0xe6,                               /* 18: jnz 00                */
    0xf4,                                     /* 1a: hlt (the until address) */
};
#define LOADSTORE_END 0x1a

/* rdi = flags (rcx bytes), rcx = n; rax = primes below n */
static const uint8_t sieve_code[] = {
    0x31, 0xc0,                   /* 00: xor eax, eax                 */
    0x31, 0xd2,                   /* 02: xor edx, edx                 */
    0xc6, 0x04, 0x17, 0x00,       /* 04: mov byte [rdi+rdx], 0  clear */
    0x48, 0xff, 0xc2,             /* 08: inc rdx                      */
    0x48, 0x39, 0xca,             /* 0b: cmp rdx, rcx                 */
    0x72, 0xf4,                   /* 0e: jb 04                        */
    0xba, 0x02, 0x00, 0x00, 0x00, /* 10: mov edx, 2                   */
    0x80, 0x3c, 0x17, 0x00,       /* 15: cmp byte [rdi+rdx], 0  outer */
    0x75, 0x1c,                   /* 19: jne 37                       */
    0x48, 0xff, 0xc0,             /* 1b: inc rax                      */
    0x49, 0x89, 0xd0,             /* 1e: mov r8, rdx                  */
    0x4c, 0x0f, 0xaf, 0xc2,       /* 21: imul r8, rdx                 */
    0x49, 0x39, 0xc8,             /* 25: cmp r8, rcx                  */
    0x73, 0x0d,                   /* 28: jae 37                       */
    0x42, 0xc6, 0x04, 0x07, 0x01, /* 2a: mov byte [rdi+r8], 1  inner  */
    0x49, 0x01, 0xd0,             /* 2f: add r8, rdx                  */
    0x49, 0x39, 0xc8,             /* 32: cmp r8, rcx                  */
    0x72, 0xf3,                   /* 35: jb 2a                        */
    0x48, 0xff, 0xc2,             /* 37: inc rdx                next  */
    0x48, 0x39, 0xca,             /* 3a: cmp rdx, rcx                 */
    0x72, 0xd6,                   /* 3d: jb 15                        */
    0xf4,                         /* 3f: hlt (the until address)      */
};
#define SIEVE_END 0x3f

#define DOUBLE_ADDR 0x2000000u

/* rdi = {h, 0, 1.0, 0}, rcx = n; rax = the bits of sum 1 / (1 + (i h)^2)
 * over i = n..1 (pi / 4 / h for h = 1/n); 9 instructions per iteration */
static const uint8_t double_code[] = {
    0xf3, 0x0f, 0x6f, 0x17,             /* 00: movdqu xmm2, [rdi]     h      */
    0xf3, 0x0f, 0x6f, 0x5f, 0x10,       /* 04: movdqu xmm3, [rdi+16]  1.0    */
    0x66, 0x0f, 0xef, 0xc0,             /* 09: pxor xmm0, xmm0        sum    */
    0xf2, 0x48, 0x0f, 0x2a, 0xc9,       /* 0d: cvtsi2sd xmm1, rcx     loop   */
    0xf2, 0x0f, 0x59, 0xca,             /* 12: mulsd xmm1, xmm2              */
    0xf2, 0x0f, 0x59, 0xc9,             /* 16: mulsd xmm1, xmm1              */
    0xf2, 0x0f, 0x58, 0xcb,             /* 1a: addsd xmm1, xmm3              */
    0x66, 0x0f, 0x28, 0xe3,             /* 1e: movapd xmm4, xmm3             */
    0xf2, 0x0f, 0x5e, 0xe1,             /* 22: divsd xmm4, xmm1              */
    0xf2, 0x0f, 0x58, 0xc4,             /* 26: addsd xmm0, xmm4              */
    0x48, 0xff, 0xc9,                   /* 2a: dec rcx                       */
    0x75, 0xde,                         /* 2d: jnz 0d                        */
    0x66, 0x48, 0x0f, 0x7e, 0xc0,       /* 2f: movq rax, xmm0                */
    0xf4,                               /* 34: hlt (the until address)       */
};
#define DOUBLE_END 0x34

#define VEC_ADDR 0x3000000u

/* rdi = 64 KiB of dwords (16-byte aligned), rcx = n; eax = the sum of the
 * four lanes of x, where per 16 bytes v: x += v; x ^= v << 1 (what gcc -O3
 * makes of a checksum loop); 8 instructions per iteration */
static const uint8_t vec_code[] = {
    0x66, 0x0f, 0xef, 0xc0,             /* 00: pxor xmm0, xmm0               */
    0x31, 0xf6,                         /* 04: xor esi, esi                  */
    0x66, 0x0f, 0x6f, 0x0c, 0x37,       /* 06: movdqa xmm1, [rdi+rsi]  loop  */
    0x66, 0x0f, 0xfe, 0xc1,             /* 0b: paddd xmm0, xmm1              */
    0x66, 0x0f, 0x72, 0xf1, 0x01,       /* 0f: pslld xmm1, 1                 */
    0x66, 0x0f, 0xef, 0xc1,             /* 14: pxor xmm0, xmm1               */
    0x48, 0x83, 0xc6, 0x10,             /* 18: add rsi, 16                   */
    0x81, 0xe6, 0xf0, 0xff, 0x00, 0x00, /* 1c: and esi, 0xfff0               */
    0x48, 0xff, 0xc9,                   /* 22: dec rcx                       */
    0x75, 0xdf,                         /* 25: jnz 06                        */
    0x66, 0x0f, 0x70, 0xc8, 0x4e,       /* 27: pshufd xmm1, xmm0, 0x4e       */
    0x66, 0x0f, 0xfe, 0xc1,             /* 2c: paddd xmm0, xmm1              */
    0x66, 0x0f, 0x70, 0xc8, 0xb1,       /* 30: pshufd xmm1, xmm0, 0xb1       */
    0x66, 0x0f, 0xfe, 0xc1,             /* 35: paddd xmm0, xmm1              */
    0x66, 0x0f, 0x7e, 0xc0,             /* 39: movd eax, xmm0                */
    0xf4,                               /* 3d: hlt (the until address)       */
};
#define VEC_END 0x3d
#define VEC_DWORDS (64 * KiB / 4)

/* The vector kernel in C, lane by lane. */
static uint64_t vec_model(const uint32_t *data, uint64_t n)
{
    uint32_t x[4] = { 0 };
    for (uint64_t i = 0, off = 0; i < n; i++, off = (off + 4) % VEC_DWORDS)
        for (int k = 0; k < 4; k++)
            x[k] = (x[k] + data[off + k]) ^ (data[off + k] << 1);
    return (uint32_t)(x[0] + x[1] + x[2] + x[3]);
}

/* The kernel in C: the same operations in the same order. */
static uint64_t double_model(uint64_t n)
{
    double h = 1.0 / (double)n, sum = 0;
    for (uint64_t i = n; i; i--) {
        double x = (double)(int64_t)i * h;
        sum += 1.0 / (x * x + 1.0);
    }
    uint64_t bits;
    memcpy(&bits, &sum, 8);
    return bits;
}

/* What the sieve does, in C: its prime count and instruction count. */
static uint64_t sieve_model(uint64_t n, uint64_t *insns)
{
    uint8_t *flag = calloc(n, 1);
    uint64_t primes = 0, k = 2 + 4 * n + 1; /* xor, xor, clear loop, mov */
    for (uint64_t i = 2; flag && i < n; i++) {
        k += 2 + 3; /* cmp, jne ... inc, cmp, jb */
        if (flag[i])
            continue;
        primes++;
        k += 5; /* inc, mov, imul, cmp, jae */
        for (uint64_t j = i * i; j < n; j += i)
            flag[j] = 1, k += 4;
    }
    free(flag);
    *insns = k;
    return primes;
}

typedef struct prog {
    const char    *name;
    const uint8_t *code;
    size_t         len, end; /* bytes, offset of the until address */
    uint64_t       data, data_size;
    uint64_t       regs[3][2]; /* {CPU_*, value} set before each run */
    uint64_t       insns;      /* per run */
    uint64_t       check_reg, check_value; /* what a correct run leaves */
    bool           hook;       /* code hook on every instruction */
    const void    *init;       /* initial data contents (init_len bytes), or NULL */
    size_t         init_len;
} prog;

/* -------------------------------------------------------- softmmu side */

typedef struct cpu_ctx {
    const prog *p;
    cpu_t      *c;
    mmu_t      *m;
    uint64_t    hook_calls;
} cpu_ctx;

static void count_insn(cpu_t *c, uint64_t addr, unsigned size, void *user)
{
    (void)c, (void)addr, (void)size;
    ++*(uint64_t *)user;
}

static double cpu_once(void *p)
{
    cpu_ctx *x = p;
    const prog *g = x->p;
    cpu_exit why;
    for (size_t i = 0; i < 3; i++)
        cpu_reg_write(x->c, (cpu_reg)g->regs[i][0], g->regs[i][1]);
    x->hook_calls = 0;
    double t0 = bench_now_ns();
    mmu_err err = cpu_run(x->c, CODE_ADDR, CODE_ADDR + g->end, 0, &why);
    double t = bench_now_ns() - t0;
    if (err || why != CPU_EXIT_UNTIL || cpu_reg_read(x->c, (cpu_reg)g->check_reg) != g->check_value
        || (g->hook && x->hook_calls != g->insns)) {
        fprintf(stderr, "bench: %s: cpu_run -> %s, exit %d, check reg %#" PRIx64 "\n", g->name, mmu_strerror(err),
                (int)why, cpu_reg_read(x->c, (cpu_reg)g->check_reg));
        return NAN;
    }
    return (double)g->insns / (t / 1e3); /* M insn/s */
}

static bool cpu_setup(cpu_ctx *x)
{
    const prog *g = x->p;
    if (mmu_open(NULL, &x->m) || cpu_open(x->m, &x->c))
        return false;
    return !mmu_map(x->m, CODE_ADDR, MMU_PAGE_SIZE, MMU_PROT_READ | MMU_PROT_EXEC, "code")
           && !mmu_write(x->m, CODE_ADDR, g->code, g->len)
           && !mmu_map(x->m, g->data, g->data_size, MMU_PROT_READ | MMU_PROT_WRITE, "data")
           && (!g->init || !mmu_write(x->m, g->data, g->init, g->init_len))
           && (!g->hook || !cpu_hook_code(x->c, count_insn, &x->hook_calls, 1, 0, NULL));
}

static void cpu_teardown(cpu_ctx *x)
{
    cpu_close(x->c);
    mmu_close(x->m);
}

/* One untimed run with a counting hook, on a CPU of its own so the timed
 * one never had hooks: proves the instruction count the figure divides by
 * (the hooked rows check it on every run). */
static bool cpu_counted(const prog *p)
{
    prog g = *p;
    g.hook = true;
    cpu_ctx t = { .p = &g };
    bool ok = cpu_setup(&t) && !isnan(cpu_once(&t));
    cpu_teardown(&t);
    return ok;
}

/* --------------------------------------------------------- Unicorn side */

#ifdef HAVE_UNICORN
typedef struct uc_ctx {
    const prog *p;
    uc_engine  *uc;
    uint64_t    hook_calls;
} uc_ctx;

/* CPU_* numbers to Unicorn's */
static int uc_reg(uint64_t r)
{
    static const int map[] = { [CPU_RAX] = UC_X86_REG_RAX, [CPU_RCX] = UC_X86_REG_RCX, [CPU_RDX] = UC_X86_REG_RDX,
                               [CPU_RSI] = UC_X86_REG_RSI, [CPU_RDI] = UC_X86_REG_RDI };
    return map[r];
}

static void uc_count_insn(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
    (void)uc, (void)addr, (void)size;
    ++*(uint64_t *)user;
}

static double uc_once(void *p)
{
    uc_ctx *x = p;
    const prog *g = x->p;
    for (size_t i = 0; i < 3; i++)
        uc_reg_write(x->uc, uc_reg(g->regs[i][0]), &g->regs[i][1]);
    x->hook_calls = 0;
    double t0 = bench_now_ns();
    uc_err err = uc_emu_start(x->uc, CODE_ADDR, CODE_ADDR + g->end, 0, 0);
    double t = bench_now_ns() - t0;
    uint64_t check = 0;
    uc_reg_read(x->uc, uc_reg(g->check_reg), &check);
    if (err || check != g->check_value || (g->hook && x->hook_calls != g->insns)) {
        fprintf(stderr, "bench: %s: unicorn: %s, check reg %#" PRIx64 "\n", g->name, uc_strerror(err), check);
        return NAN;
    }
    return (double)g->insns / (t / 1e3);
}

static bool uc_setup(uc_ctx *x)
{
    const prog *g = x->p;
    uc_hook h;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &x->uc))
        return false;
    return !uc_mem_map(x->uc, CODE_ADDR, MMU_PAGE_SIZE, UC_PROT_READ | UC_PROT_EXEC)
           && !uc_mem_write(x->uc, CODE_ADDR, g->code, g->len)
           && !uc_mem_map(x->uc, g->data, g->data_size, UC_PROT_READ | UC_PROT_WRITE)
           && (!g->init || !uc_mem_write(x->uc, g->data, g->init, g->init_len))
           && (!g->hook || !uc_hook_add(x->uc, &h, UC_HOOK_CODE, (void *)uc_count_insn, &x->hook_calls, 1, 0));
}

static bool uc_counted(const prog *p)
{
    prog g = *p;
    g.hook = true;
    uc_ctx t = { .p = &g };
    bool ok = uc_setup(&t) && !isnan(uc_once(&t));
    if (t.uc)
        uc_close(t.uc);
    return ok;
}
#endif

/* ------------------------------------------------------------------ rows */

static void cpu_row(const prog *g, const char *desc, bench_goal goal, double target)
{
    bench_row r = { .name = g->name, .unit = "Minsn/s", .base_what = "unicorn", .goal = goal, .target = target };
    snprintf(r.desc, sizeof r.desc, "%s", desc);
    cpu_ctx x = { .p = g };
    bench_job jobs[2] = { { cpu_counted(g) && cpu_setup(&x) ? cpu_once : NULL, &x }, { NULL, NULL } };
#ifdef HAVE_UNICORN
    uc_ctx u = { .p = g };
    jobs[1] = (bench_job){ uc_counted(g) && uc_setup(&u) ? uc_once : NULL, &u };
#endif
    double out[2];
    bench_measure(jobs, 2, out);
    r.ours = out[0], r.base = r.peer = out[1];
    bench_emit(&r);
    cpu_teardown(&x);
#ifdef HAVE_UNICORN
    if (u.uc)
        uc_close(u.uc);
#endif
}

/* What the load/store loop does, in C: the data it starts from (even
 * quadwords a pattern, odd ones zero) and the RAX it ends with. */
#define LOADSTORE_WORDS (64 * KiB / 8)
static uint64_t loadstore_model(uint64_t *data, uint64_t n, uint64_t rax)
{
    for (uint64_t i = 0; i < LOADSTORE_WORDS; i++)
        data[i] = i & 1 ? 0 : (i + 1) * 0x9e3779b97f4a7c15ull;
    uint64_t q[LOADSTORE_WORDS / 2];
    for (uint64_t i = 0; i < LOADSTORE_WORDS / 2; i++)
        q[i] = data[2 * i];
    for (uint64_t i = 0; i < n; i++)
        rax += q[i % (LOADSTORE_WORDS / 2)]; /* rsi wraps at 64 KiB; stores hit odd words only */
    return rax;
}

static void loadstore_rows(void)
{
    static uint64_t data[LOADSTORE_WORDS];
    uint64_t n = BENCH_SIZE(2000000, 20000);
    prog g = { "cpu.loadstore", loadstore_code, sizeof loadstore_code, LOADSTORE_END, DATA_ADDR, 64 * KiB,
               { { CPU_RSI, DATA_ADDR }, { CPU_RCX, n }, { CPU_RAX, 0x1234 } }, 7 * n, CPU_RAX,
               loadstore_model(data, n, 0x1234), false, data, sizeof data };
    if (bench_want(g.name))
        cpu_row(&g, "mov/add/mov/add/and/dec/jnz loop", GOAL_RATIO_GE, 1);
    g.name = "cpu.loadstore.hook";
    g.hook = true;
    g.regs[1][1] = n /= 4, g.insns = 7 * n;
    g.check_value = loadstore_model(data, n, 0x1234);
    if (bench_want(g.name))
        cpu_row(&g, "the same, code hook on every instruction", GOAL_RATIO_GE, 2);
}

static void sieve_row(void)
{
    uint64_t n = BENCH_SIZE(256 * KiB, 16 * KiB), insns;
    uint64_t primes = sieve_model(n, &insns);
    prog g = { "cpu.sieve", sieve_code, sizeof sieve_code, SIEVE_END, SIEVE_ADDR, n,
               { { CPU_RDI, SIEVE_ADDR }, { CPU_RCX, n }, { CPU_RAX, 0 } }, insns, CPU_RAX, primes, false, NULL, 0 };
    char desc[64];
    snprintf(desc, sizeof desc, "sieve of Eratosthenes below %" PRIu64, n);
    if (bench_want(g.name))
        cpu_row(&g, desc, GOAL_NONE, 0);
}

/* ------------------------------------------------------------ native */

typedef struct native_ctx {
    const prog *p;
    uint8_t    *code; /* mov rcx, rsi; the program with ret for its hlt */
} native_ctx;

static double native_once(void *p)
{
    native_ctx *x = p;
    const prog *g = x->p;
    uint64_t (*fn)(const void *, uint64_t) = (uint64_t (*)(const void *, uint64_t))(void *)x->code;
    double t0 = bench_now_ns();
    uint64_t r = fn(g->init, g->regs[1][1]);
    double t = bench_now_ns() - t0;
    return r == g->check_value ? (double)g->insns / (t / 1e3) : NAN;
}

static bool native_setup(native_ctx *x)
{
    const prog *g = x->p;
    x->code = mmap(NULL, MMU_PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (x->code == MAP_FAILED)
        return x->code = NULL, false;
    memcpy(x->code, "\x48\x89\xf1", 3); /* rdi = data, rsi = n */
    memcpy(x->code + 3, g->code, g->len);
    x->code[3 + g->end] = 0xc3;
    return true;
}

/* the program natively (baseline), on the interpreter, on Unicorn */
static void cpu_native_row(const prog *g, const char *desc)
{
    bench_row r = { .name = g->name, .unit = "Minsn/s", .base_what = "native", .goal = GOAL_NONE };
    snprintf(r.desc, sizeof r.desc, "%s", desc);
    cpu_ctx x = { .p = g };
    native_ctx nat = { .p = g };
    bench_job jobs[3] = { { cpu_counted(g) && cpu_setup(&x) ? cpu_once : NULL, &x },
                          { native_setup(&nat) ? native_once : NULL, &nat }, { NULL, NULL } };
#ifdef HAVE_UNICORN
    uc_ctx u = { .p = g };
    jobs[2] = (bench_job){ uc_counted(g) && uc_setup(&u) ? uc_once : NULL, &u };
#endif
    bench_measure_emit(&r, jobs);
    cpu_teardown(&x);
    if (nat.code)
        munmap(nat.code, MMU_PAGE_SIZE);
#ifdef HAVE_UNICORN
    if (u.uc)
        uc_close(u.uc);
#endif
}

static void double_row(void)
{
    uint64_t n = BENCH_SIZE(1000000, 10000);
    static double data[4];
    data[0] = 1.0 / (double)n, data[2] = 1.0;
    prog g = { "cpu.double", double_code, sizeof double_code, DOUBLE_END, DOUBLE_ADDR, MMU_PAGE_SIZE,
               { { CPU_RDI, DOUBLE_ADDR }, { CPU_RCX, n }, { CPU_RAX, 0 } }, 9 * n + 4, CPU_RAX, double_model(n),
               false, data, sizeof data };
    if (bench_want(g.name))
        cpu_native_row(&g, "scalar double loop: cvtsi2sd mulsd addsd divsd");
}

static void vec_row(void)
{
    uint64_t n = BENCH_SIZE(1000000, 10000), rng = BENCH_SEED;
    static uint32_t data[VEC_DWORDS] __attribute__((aligned(16)));
    for (size_t i = 0; i < VEC_DWORDS; i++)
        data[i] = (uint32_t)bench_rand(&rng);
    prog g = { "cpu.vec", vec_code, sizeof vec_code, VEC_END, VEC_ADDR, 64 * KiB,
               { { CPU_RDI, VEC_ADDR }, { CPU_RCX, n }, { CPU_RAX, 0 } }, 8 * n + 7, CPU_RAX, vec_model(data, n),
               false, data, sizeof data };
    if (bench_want(g.name))
        cpu_native_row(&g, "vectorised checksum loop: movdqa paddd pslld pxor");
}

void bench_cpu(void)
{
    loadstore_rows();
    sieve_row();
    double_row();
    vec_row();
}
