/*
 * cpu.c - CPU lifetime, registers and the architectural stack ops.
 */
#include "cpu_int.h"

#include <stdlib.h>

#define RFLAGS_FIXED 0x2 /* bit 1 always reads as one */

mmu_err cpu_open(mmu_t *m, cpu_t **out)
{
    if (!m || !out)
        return MMU_ERR_ARG;
    cpu_t *c = calloc(1, sizeof *c);
    if (!c)
        return MMU_ERR_NOMEM;
    c->mmu = m;
    c->regs[CPU_RFLAGS] = RFLAGS_FIXED;
    *out = c;
    return MMU_OK;
}

void cpu_close(cpu_t *c)
{
    free(c);
}

mmu_t *cpu_mmu(cpu_t *c)
{
    return c ? c->mmu : NULL;
}

uint64_t cpu_reg_read(const cpu_t *c, cpu_reg r)
{
    return c && (unsigned)r < CPU_REG_COUNT ? c->regs[r] : 0;
}

void cpu_reg_write(cpu_t *c, cpu_reg r, uint64_t v)
{
    if (!c || (unsigned)r >= CPU_REG_COUNT)
        return;
    c->regs[r] = r == CPU_RFLAGS ? v | RFLAGS_FIXED : v;
}

void cpu_context_save(const cpu_t *c, cpu_context *out)
{
    if (c && out)
        memcpy(out->regs, c->regs, sizeof out->regs);
}

void cpu_context_restore(cpu_t *c, const cpu_context *ctx)
{
    if (c && ctx) {
        memcpy(c->regs, ctx->regs, sizeof c->regs);
        c->regs[CPU_RFLAGS] |= RFLAGS_FIXED;
    }
}

/* ------------------------------------------------------------ stack ops */

mmu_err cpu_stack_push(cpu_t *c, uint64_t value, uint64_t *out_new_sp)
{
    if (!c)
        return MMU_ERR_ARG;
    uint64_t sp = c->regs[CPU_RSP] - 8;
    mmu_err err = mmu_write_ptr(c->mmu, sp, value, 8, false);
    if (err)
        return err; /* unlike Qiling, SP moves only when the write lands */
    c->regs[CPU_RSP] = sp;
    if (out_new_sp)
        *out_new_sp = sp;
    return MMU_OK;
}

mmu_err cpu_stack_pop(cpu_t *c, uint64_t *out_value)
{
    if (!c || !out_value)
        return MMU_ERR_ARG;
    mmu_err err = mmu_read_ptr(c->mmu, c->regs[CPU_RSP], 8, false, out_value);
    if (!err)
        c->regs[CPU_RSP] += 8;
    return err;
}

mmu_err cpu_stack_read(cpu_t *c, int64_t offset, uint64_t *out_value)
{
    if (!c || !out_value)
        return MMU_ERR_ARG;
    return mmu_read_ptr(c->mmu, c->regs[CPU_RSP] + (uint64_t)offset, 8, false, out_value);
}

mmu_err cpu_stack_write(cpu_t *c, int64_t offset, uint64_t value)
{
    if (!c)
        return MMU_ERR_ARG;
    return mmu_write_ptr(c->mmu, c->regs[CPU_RSP] + (uint64_t)offset, value, 8, false);
}
