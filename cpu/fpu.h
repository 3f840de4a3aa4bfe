/*
 * fpu.h - floating-point semantics in one place. Each family runs the
 * guest's operation on the host FPU under the guest's control state
 * (rounding, precision, masks), so results, flags and special cases are the
 * hardware's by construction; handlers only move operands and state. This
 * needs an x86-64 host (CMakeLists.txt checks).
 */
#ifndef SOFTMMU_FPU_H
#define SOFTMMU_FPU_H

#include "cpu_int.h"

/* ------------------------------------------------------------------ SSE */
/* fpu_sse.c: the SSE section (MXCSR, scalar and packed arithmetic). */

/* ------------------------------------------------------------------ x87 */
/* fpu_x87.c */

#define X87_CW_INIT     0x037fu /* fninit: every exception masked, 64-bit precision, round to nearest */
#define X87_SW_ES       0x0080u /* an unmasked exception is pending */
#define X87_SW_EXC      0x003fu /* IE DE ZE OE UE PE */
#define FPU_MXCSR_INIT  0x1f80u
#define FPU_MXCSR_MASK  0xffffu /* MXCSR bits fxrstor accepts (DAZ included) */

/* Host routines, one per instruction form: a register or operand-free form
 * at (escape byte & 7) * 64 + (ModRM & 63), a memory form at
 * X87_HOST_MEM + (escape byte & 7) * 8 + ModRM.reg. */
#define X87_HOST_MEM 512u
#define X87_HOST_N   576u

/* Runs host routine idx on img: frstor img, the instruction itself (its
 * memory operand at mem), fnsave img; the host's own control word is kept.
 * flags: the guest's SF ZF AF PF CF (fcmov reads them); returns the host's
 * after the instruction (fcomi sets them). The caller makes sure no
 * unmasked exception is pending in img before a waiting instruction: the
 * host would raise #MF. */
uint8_t fpu_x87_run(x87_image *img, unsigned idx, void *mem, uint8_t flags);

/* The FXSAVE image of c (the 64-bit layout when wide; else FIP and FDP are
 * 32 bits, followed by zero selectors) into out[0..415]. */
void fpu_fxsave(const cpu_t *c, uint8_t out[416], bool wide);

/* Loads c from an FXSAVE image. MMU_ERR_ARG when MXCSR has bits outside
 * FPU_MXCSR_MASK (#GP on hardware); c unchanged then. */
mmu_err fpu_fxrstor(cpu_t *c, const uint8_t in[416], bool wide) MUST_CHECK;

/* Resets the x87 state as fninit does, and MXCSR to its power-up value. */
void fpu_init(cpu_t *c);

#endif
