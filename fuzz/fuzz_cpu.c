/*
 * fuzz_cpu.c - arbitrary bytes as x86-64 code in an RWX page, with a stack
 * and a data page; cpu_run with an instruction limit must return MMU_OK
 * (or NOMEM) and a documented cpu_exit, never crash or hang. A memory fault
 * must be reported as one of the six fault errors. The same code run again
 * one instruction per cpu_run call must end in the same exit, registers and
 * memory (decoded-block caches and lazy flags must not show).
 */
#include <softmmu/cpu.h>

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CODE 0x400000u
#define STACK 0x7ff000u
#define DATA 0x600000u

static bool is_fault(mmu_err e)
{
    return e >= MMU_ERR_READ_UNMAPPED && e <= MMU_ERR_FETCH_PROT;
}

static void setup(mmu_t *m, cpu_t *c, const uint8_t *data, size_t size)
{
    if (mmu_map(m, CODE, 0x2000, MMU_PROT_ALL, "code") || mmu_map(m, STACK, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, "[stack]")
        || mmu_map(m, DATA, 0x1000, MMU_PROT_READ, "ro") || mmu_write(m, CODE, data, size))
        abort();
    cpu_reg_write(c, CPU_RSP, STACK + 0x800);
    cpu_reg_write(c, CPU_RBX, DATA);
    cpu_reg_write(c, CPU_RSI, CODE);
    cpu_reg_write(c, CPU_RDI, STACK);
    cpu_reg_write(c, CPU_RCX, 0x10);
    cpu_tsc_deterministic(c, 1000, 7); /* rdtsc: the same values in one run as in single steps */
}

static void check_run(cpu_t *c, mmu_err e, cpu_exit ex)
{
    if (e != MMU_OK && e != MMU_ERR_NOMEM) {
        fprintf(stderr, "cpu_run returned %s\n", mmu_strerror(e));
        abort();
    }
    if (e == MMU_OK && (unsigned)ex > CPU_EXIT_EXCEPTION) {
        fprintf(stderr, "cpu_run gave an undocumented exit %d\n", (int)ex);
        abort();
    }
    cpu_fault f;
    cpu_last_fault(c, &f);
    if (e == MMU_OK && ex == CPU_EXIT_MEM_FAULT && !is_fault(f.err)) {
        fprintf(stderr, "CPU_EXIT_MEM_FAULT with fault error %s\n", mmu_strerror(f.err));
        abort();
    }
}

#define STEPS 500

/* the same code single-stepped: count = 1 per call */
static cpu_exit step_all(cpu_t *c, uint64_t *steps)
{
    cpu_exit ex = CPU_EXIT_COUNT;
    uint64_t rip = CODE;
    for (*steps = 0; *steps < STEPS && ex == CPU_EXIT_COUNT; ++*steps) {
        mmu_err e = cpu_run(c, rip, CODE + 0x2000, 1, &ex);
        check_run(c, e, ex);
        if (e != MMU_OK)
            return (cpu_exit)-1;
        rip = cpu_reg_read(c, CPU_RIP);
    }
    return ex;
}

/* one run of STEPS instructions and STEPS runs of one must agree: exit,
 * every register, every byte */
static void compare(cpu_t *a, cpu_exit ea, cpu_t *b, cpu_exit eb)
{
    if (ea != eb) {
        fprintf(stderr, "one run exits %d, single steps exit %d\n", (int)ea, (int)eb);
        abort();
    }
    for (int r = 0; r < CPU_REG_COUNT; r++)
        if (cpu_reg_read(a, (cpu_reg)r) != cpu_reg_read(b, (cpu_reg)r)) {
            fprintf(stderr, "register %d: one run %#llx, single steps %#llx\n", r,
                    (unsigned long long)cpu_reg_read(a, (cpu_reg)r), (unsigned long long)cpu_reg_read(b, (cpu_reg)r));
            abort();
        }
    if (mmu_digest(cpu_mmu(a)) != mmu_digest(cpu_mmu(b))) {
        fprintf(stderr, "memory differs between one run and single steps\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0x2000)
        return 0;
    mmu_t *m[2];
    cpu_t *c[2];
    for (int i = 0; i < 2; i++) {
        if (mmu_open(NULL, &m[i]) || cpu_open(m[i], &c[i]))
            abort();
        setup(m[i], c[i], data, size);
    }
    cpu_exit ex = (cpu_exit)-1;
    mmu_err e = cpu_run(c[0], CODE, CODE + 0x2000, STEPS, &ex);
    check_run(c[0], e, ex);
    uint64_t steps;
    cpu_exit ex1 = step_all(c[1], &steps);
    if (e == MMU_OK && ex1 != (cpu_exit)-1)
        compare(c[0], ex, c[1], ex1);
    for (int i = 0; i < 2; i++) {
        cpu_close(c[i]);
        mmu_close(m[i]);
    }
    return 0;
}
