/*
 * cpu.c - CPU lifetime, registers (with the lazy flags) and the architectural
 * stack ops.
 */
#include "cpu_int.h"
#include "alloc.h"
#include "fpu.h"

#include <string.h>

mmu_err cpu_open(mmu_t *m, cpu_t **out)
{
    mmu_config cfg = { 0 };
    if (m)
        mmu_get_config(m, &cfg);
    if (!m || !out || cfg.big_endian) /* x86 is little-endian */
        return MMU_ERR_ARG;
    cpu_t *c = sm_calloc(1, sizeof *c);
    if (!c)
        return MMU_ERR_NOMEM;
    mmu_err err = dc_init(&c->dc);
    if (!err)
        err = dec_open(c);
    if (err) {
        dc_free(&c->dc);
        sm_free(c);
        return err;
    }
    c->mmu = m;
    c->gen = mmu_code_generation(m);
    c->regs[CPU_RFLAGS] = FL_FIXED;
    flags_set(c, 0);
    fpu_init(c); /* x87 as fninit leaves it, MXCSR 0x1f80 */
    *out = c;
    return MMU_OK;
}

void cpu_close(cpu_t *c)
{
    if (!c)
        return;
    dec_close(c);
    dc_free(&c->dc);
    hooklist_free(&c->hooks);
    sm_free(c);
}

mmu_t *cpu_mmu(cpu_t *c)
{
    return c ? c->mmu : NULL;
}

/* RFLAGS: the arithmetic bits live in the lazy flags, the rest in regs */
uint64_t cpu_reg_read(const cpu_t *c, cpu_reg r)
{
    if (!c || (unsigned)r >= CPU_REG_COUNT)
        return 0;
    if (r == CPU_RFLAGS)
        return (c->regs[r] & ~(uint64_t)FL_ARITH) | flags_get(c) | FL_FIXED;
    return c->regs[r];
}

void cpu_reg_write(cpu_t *c, cpu_reg r, uint64_t v)
{
    if (!c || (unsigned)r >= CPU_REG_COUNT)
        return;
    if (r == CPU_RFLAGS) {
        c->regs[r] = (v & ~(uint64_t)FL_ARITH) | FL_FIXED;
        flags_set(c, v);
        return;
    }
    c->regs[r] = v;
}

void cpu_context_save(const cpu_t *c, cpu_context *out)
{
    if (!c || !out)
        return;
    for (unsigned r = 0; r < CPU_REG_COUNT; r++)
        out->regs[r] = cpu_reg_read(c, (cpu_reg)r);
}

void cpu_context_restore(cpu_t *c, const cpu_context *ctx)
{
    if (!c || !ctx)
        return;
    for (unsigned r = 0; r < CPU_REG_COUNT; r++)
        cpu_reg_write(c, (cpu_reg)r, ctx->regs[r]);
}

/* ---------------------------------------------------- floating-point state */

mmu_err cpu_fxsave(const cpu_t *c, uint8_t out[512])
{
    if (!c || !out)
        return MMU_ERR_ARG;
    fpu_fxsave(c, out, true);
    memset(out + 416, 0, 512 - 416);
    return MMU_OK;
}

mmu_err cpu_fxrstor(cpu_t *c, const uint8_t in[512])
{
    if (!c || !in)
        return MMU_ERR_ARG;
    return fpu_fxrstor(c, in, true);
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
