/*
 * cpu_int.h - private state of the interpreter.
 */
#ifndef SOFTMMU_CPU_INT_H
#define SOFTMMU_CPU_INT_H

#include <softmmu/cpu.h>

struct cpu {
    mmu_t   *mmu;
    uint64_t regs[CPU_REG_COUNT];
};

#endif
