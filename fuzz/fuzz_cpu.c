/*
 * fuzz_cpu.c - arbitrary bytes as x86-64 code in an RWX page, with a stack
 * and a data page; cpu_run with an instruction limit must return MMU_OK
 * (or NOMEM) and a documented cpu_exit, never crash or hang. A memory fault
 * must be reported as one of the six fault errors.
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0x2000)
        return 0;
    mmu_t *m;
    cpu_t *c;
    if (mmu_open(NULL, &m) || cpu_open(m, &c))
        abort();
    setup(m, c, data, size);
    cpu_exit ex = (cpu_exit)-1;
    mmu_err e = cpu_run(c, CODE, CODE + 0x2000, 2000, &ex);
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
    cpu_close(c);
    mmu_close(m);
    return 0;
}
