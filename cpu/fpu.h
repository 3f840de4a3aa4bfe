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

/*
 * An SSE float instruction runs as the same instruction on the host, under
 * the guest's MXCSR (rounding, FTZ, DAZ) with every exception masked, so
 * the host never traps and its results, NaNs and flags are the hardware's
 * by construction. The flags it raised are then checked against the
 * guest's masks: masked ones are ORed into the guest MXCSR; an unmasked
 * one is #XM - the destination is not written and MXCSR gets the flags
 * hardware sets when it raises #XM (pre-computation ones only if one of
 * them is unmasked). This needs an x86-64 host (CMake checks).
 */

#define FPU_MXCSR_INIT  0x1f80u
#define FPU_MXCSR_MASK  0xffffu /* MXCSR bits fxrstor accepts (DAZ included) */
#define MXCSR_FLAGS 0x3fu     /* IE DE ZE OE UE PE */
#define MXCSR_IE 0x01u        /* invalid operation */
#define MXCSR_DE 0x02u        /* denormal operand */
#define MXCSR_ZE 0x04u        /* divide by zero */
#define MXCSR_OE 0x08u        /* overflow */
#define MXCSR_UE 0x10u        /* underflow */
#define MXCSR_PE 0x20u        /* precision (inexact) */
#define MXCSR_DAZ 0x40u       /* denormal inputs read as zero */
#define MXCSR_MASKS_SHIFT 7   /* IM..PM are the flags shifted left by 7 */
#define MXCSR_FTZ 0x8000u     /* tiny results flush to zero (underflow masked) */

/* The operands of one operation. Forms (the kind column below):
 *   XX: x = x op y (y: second source; scalar ops keep x's upper part)
 *   XI32/64: x = op(i)  (integer source of 32 or 64 bits)
 *   IX32/64: i = op(y)  (integer result of 32 or 64 bits)
 *   FL: i = ZF|PF|CF of comparing x with y (RFLAGS bit positions) */
typedef struct sse_io {
    uint64_t x[2]; /* destination / first source XMM value, [0] low */
    uint64_t y[2]; /* second source; memory operands arrive in the low part */
    uint64_t i;    /* integer operand or result */
} sse_io;

/* every operation: X(name, host mnemonic, kind); cmp's predicate follows
 * in a list of its own so that FOP_CMPPS + predicate names each one */
#define FPU_SSE_ARITH(X, s)                                                                    \
    X(ADD##s, "add" #s, XX) X(SUB##s, "sub" #s, XX) X(MUL##s, "mul" #s, XX)                    \
    X(DIV##s, "div" #s, XX) X(MIN##s, "min" #s, XX) X(MAX##s, "max" #s, XX)                    \
    X(SQRT##s, "sqrt" #s, XX)

#define FPU_SSE_OPS(X)                                                                         \
    FPU_SSE_ARITH(X, PS) FPU_SSE_ARITH(X, PD) FPU_SSE_ARITH(X, SS) FPU_SSE_ARITH(X, SD)        \
    X(RCPPS, "rcpps", XX) X(RCPSS, "rcpss", XX) X(RSQRTPS, "rsqrtps", XX)                      \
    X(RSQRTSS, "rsqrtss", XX)                                                                  \
    X(CVTSS2SD, "cvtss2sd", XX) X(CVTSD2SS, "cvtsd2ss", XX) X(CVTPS2PD, "cvtps2pd", XX)        \
    X(CVTPD2PS, "cvtpd2ps", XX) X(CVTDQ2PS, "cvtdq2ps", XX) X(CVTPS2DQ, "cvtps2dq", XX)        \
    X(CVTTPS2DQ, "cvttps2dq", XX) X(CVTDQ2PD, "cvtdq2pd", XX) X(CVTPD2DQ, "cvtpd2dq", XX)      \
    X(CVTTPD2DQ, "cvttpd2dq", XX)                                                              \
    X(CVTSI2SS32, "cvtsi2ssl", XI32) X(CVTSI2SS64, "cvtsi2ssq", XI64)                          \
    X(CVTSI2SD32, "cvtsi2sdl", XI32) X(CVTSI2SD64, "cvtsi2sdq", XI64)                          \
    X(CVTSS2SI32, "cvtss2si", IX32) X(CVTSS2SI64, "cvtss2si", IX64)                            \
    X(CVTSD2SI32, "cvtsd2si", IX32) X(CVTSD2SI64, "cvtsd2si", IX64)                            \
    X(CVTTSS2SI32, "cvttss2si", IX32) X(CVTTSS2SI64, "cvttss2si", IX64)                        \
    X(CVTTSD2SI32, "cvttsd2si", IX32) X(CVTTSD2SI64, "cvttsd2si", IX64)                        \
    X(COMISS, "comiss", FL) X(COMISD, "comisd", FL) X(UCOMISS, "ucomiss", FL)                  \
    X(UCOMISD, "ucomisd", FL)

/* cmpps/cmppd/cmpss/cmpsd, predicates 0..7: eq lt le unord neq nlt nle ord */
#define FPU_SSE_CMP(X, s, mn)                                                                  \
    X(CMP##s, mn, 0) X(CMP##s##1, mn, 1) X(CMP##s##2, mn, 2) X(CMP##s##3, mn, 3)               \
    X(CMP##s##4, mn, 4) X(CMP##s##5, mn, 5) X(CMP##s##6, mn, 6) X(CMP##s##7, mn, 7)
#define FPU_SSE_CMPS(X)                                                                        \
    FPU_SSE_CMP(X, PS, "cmpps") FPU_SSE_CMP(X, PD, "cmppd") FPU_SSE_CMP(X, SS, "cmpss")        \
    FPU_SSE_CMP(X, SD, "cmpsd")

#define FPU_SSE_ENUM(name, mn, kind) FOP_##name,
#define FPU_SSE_CMP_ENUM(name, mn, pred) FOP_##name,
enum { FPU_SSE_OPS(FPU_SSE_ENUM) FPU_SSE_CMPS(FPU_SSE_CMP_ENUM) FOP_N };
#undef FPU_SSE_ENUM
#undef FPU_SSE_CMP_ENUM

/* The host's own MXCSR, cached by the caller (struct cpu's host_mxcsr):
 * FPU_HOST_UNKNOWN makes fpu_sse read it. An operation runs under the
 * guest's mode and puts the host's MXCSR back - except on the fast path,
 * when the host's control bits are the guest's already: the operation
 * then runs bare and may leave exception flags in the host's MXCSR
 * (FPU_HOST_DIRTY), until fpu_host_release puts it back. cpu_run releases
 * before it returns and before its code and syscall hooks. XXX: an MMU
 * hook (called from a guest memory access) may see those flags set. */
#define FPU_HOST_UNKNOWN 0xffffffffu /* no MXCSR has bits 16-31 set */
#define FPU_HOST_DIRTY 0x40000000u   /* the host's MXCSR may hold guest flags */
uint32_t fpu_host_mxcsr(void);
void     fpu_host_restore(uint32_t *host); /* the slow half of fpu_host_release */

/* inline: the run loop calls it before every hooked instruction */
static inline void fpu_host_release(uint32_t *host)
{
    if (*host != FPU_HOST_UNKNOWN)
        fpu_host_restore(host);
}

/* Runs operation op (FOP_*) on io under *mxcsr, restoring *host after. true:
 * done, io holds the result and the raised flags are in *mxcsr. false: #XM
 * - io's results are to be dropped (the destination keeps its value) and
 * *mxcsr holds the flags hardware reports with the exception. */
bool fpu_sse(unsigned op, uint32_t *mxcsr, uint32_t *host, sse_io *io);

/* ldmxcsr's check: false (#GP) when a reserved bit is set */
static inline bool fpu_mxcsr_ok(uint32_t v)
{
    return (v & ~FPU_MXCSR_MASK) == 0;
}

/* ------------------------------------------------------------------ x87 */
/* fpu_x87.c */

#define X87_CW_INIT     0x037fu /* fninit: every exception masked, 64-bit precision, round to nearest */
#define X87_SW_ES       0x0080u /* an unmasked exception is pending */
#define X87_SW_EXC      0x003fu /* IE DE ZE OE UE PE */

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
