/*
 * fpu_sse.c - SSE/SSE2 floating-point semantics: every operation runs as
 * the same instruction on the host (see fpu.h for why and what follows).
 *
 * Each host stub is one asm block that saves the host MXCSR, loads the
 * guest's control bits with every exception masked and no flags, runs the
 * instruction, reads the flags it raised and puts the host MXCSR back. One
 * block, so the compiler can neither move the operation out from under the
 * guest's rounding mode nor fold it at compile time.
 */
#include "fpu.h"

#include <string.h>

#include "compiler.h"

#if !defined(__x86_64__)
#error "SSE floating point runs on the host's SSE unit: an x86-64 host is needed"
#endif

typedef double v2df __attribute__((vector_size(16)));
typedef uint32_t (*host_fn)(sse_io *io, uint32_t mode);

/* stmxcsr host; ldmxcsr mode; INSN; stmxcsr flags; ldmxcsr host */
#define GUARD(insn) "stmxcsr %[host]\n\tldmxcsr %[mode]\n\t" insn "\n\tstmxcsr %[fl]\n\tldmxcsr %[host]"
#define GUARD_OUT [host] "+m"(host), [fl] "=m"(fl)

/* x = x op y */
#define HOST_XX(name, mn)                                                                      \
    static uint32_t h_##name(sse_io *io, uint32_t mode)                                        \
    {                                                                                          \
        v2df a, b;                                                                             \
        uint32_t host = 0, fl;                                                                 \
        memcpy(&a, io->x, 16), memcpy(&b, io->y, 16);                                          \
        __asm__ volatile(GUARD(mn " %[b], %[a]") : [a] "+x"(a), GUARD_OUT : [b] "x"(b), [mode] "m"(mode)); \
        memcpy(io->x, &a, 16);                                                                 \
        return fl;                                                                             \
    }

/* x = cmp(x, y) with predicate p */
#define HOST_CMP(name, mn, p)                                                                  \
    static uint32_t h_##name(sse_io *io, uint32_t mode)                                        \
    {                                                                                          \
        v2df a, b;                                                                             \
        uint32_t host = 0, fl;                                                                 \
        memcpy(&a, io->x, 16), memcpy(&b, io->y, 16);                                          \
        __asm__ volatile(GUARD(mn " $" #p ", %[b], %[a]")                                      \
                         : [a] "+x"(a), GUARD_OUT : [b] "x"(b), [mode] "m"(mode));             \
        memcpy(io->x, &a, 16);                                                                 \
        return fl;                                                                             \
    }

/* x = op(i): the register-name modifier k/q picks the integer width */
#define HOST_XI(name, mn, w)                                                                   \
    static uint32_t h_##name(sse_io *io, uint32_t mode)                                        \
    {                                                                                          \
        v2df a;                                                                                \
        uint32_t host = 0, fl;                                                                 \
        memcpy(&a, io->x, 16);                                                                 \
        __asm__ volatile(GUARD(mn " %" w "[i], %[a]") : [a] "+x"(a), GUARD_OUT : [i] "r"(io->i), [mode] "m"(mode)); \
        memcpy(io->x, &a, 16);                                                                 \
        return fl;                                                                             \
    }

/* i = op(y); a 32-bit result zero-extends in its 64-bit register */
#define HOST_IX(name, mn, w)                                                                   \
    static uint32_t h_##name(sse_io *io, uint32_t mode)                                        \
    {                                                                                          \
        v2df b;                                                                                \
        uint64_t r;                                                                            \
        uint32_t host = 0, fl;                                                                 \
        memcpy(&b, io->y, 16);                                                                 \
        __asm__ volatile(GUARD(mn " %[b], %" w "[r]") : [r] "=r"(r), GUARD_OUT : [b] "x"(b), [mode] "m"(mode)); \
        io->i = r;                                                                             \
        return fl;                                                                             \
    }

/* i = ZF|PF|CF of comparing x with y */
#define HOST_FL(name, mn)                                                                      \
    static uint32_t h_##name(sse_io *io, uint32_t mode)                                        \
    {                                                                                          \
        v2df a, b;                                                                             \
        bool zf, pf, cf;                                                                       \
        uint32_t host = 0, fl;                                                                 \
        memcpy(&a, io->x, 16), memcpy(&b, io->y, 16);                                          \
        __asm__ volatile(GUARD(mn " %[b], %[a]")                                               \
                         : "=@ccz"(zf), "=@ccp"(pf), "=@ccc"(cf), GUARD_OUT                    \
                         : [a] "x"(a), [b] "x"(b), [mode] "m"(mode));                          \
        io->i = (uint64_t)zf << 6 | (uint64_t)pf << 2 | (uint64_t)cf;                          \
        return fl;                                                                             \
    }

#define HOST_XI32(name, mn) HOST_XI(name, mn, "k")
#define HOST_XI64(name, mn) HOST_XI(name, mn, "q")
#define HOST_IX32(name, mn) HOST_IX(name, mn, "k")
#define HOST_IX64(name, mn) HOST_IX(name, mn, "q")
#define HOST_DEF(name, mn, kind) HOST_##kind(name, mn)
FPU_SSE_OPS(HOST_DEF)
FPU_SSE_CMPS(HOST_CMP)

#define HOST_ENTRY(name, ...) [FOP_##name] = h_##name,
static const host_fn HOST[FOP_N] = { FPU_SSE_OPS(HOST_ENTRY) FPU_SSE_CMPS(HOST_ENTRY) };

/* the MXCSR the host runs under: the guest's rounding, FTZ and DAZ, every
 * exception masked, no flags */
static inline uint32_t host_mode(uint32_t guest)
{
    return (guest & ~MXCSR_FLAGS) | (MXCSR_FLAGS << MXCSR_MASKS_SHIFT);
}

/*
 * An exception is unmasked, or may be (unmasked underflow). The SDM's
 * order: invalid, denormal and divide-by-zero are found before computing;
 * if one of them is unmasked only those are reported. Otherwise overflow,
 * underflow and precision are checked too and all flags reported. With
 * underflow unmasked a tiny result underflows even when exact, which the
 * masked run does not flag: a second run with FTZ on, which flags every
 * tiny result, tells.
 * XXX: with an unmasked overflow or underflow hardware reports PE only if
 * the result, rounded with an unbounded exponent, is inexact; the masked
 * run always reports it for such a lane (rounding to infinity, the largest
 * finite or a denormal is inexact), so PE can differ from hardware's then.
 */
static NOINLINE bool unmasked(unsigned op, uint32_t *mxcsr, sse_io *io, const sse_io *out, uint32_t raised)
{
    uint32_t g = *mxcsr, masks = (g >> MXCSR_MASKS_SHIFT) & MXCSR_FLAGS;
    const uint32_t pre = MXCSR_IE | MXCSR_DE | MXCSR_ZE;
    if (!(masks & MXCSR_UE) && !(raised & MXCSR_UE)) {
        sse_io t = *io;
        raised |= HOST[op](&t, host_mode(g) | MXCSR_FTZ) & MXCSR_UE;
    }
    if (raised & pre & ~masks) {
        *mxcsr = g | (raised & pre);
        return false;
    }
    *mxcsr = g | raised;
    if (raised & ~masks)
        return false;
    *io = *out;
    return true;
}

bool fpu_sse(unsigned op, uint32_t *mxcsr, sse_io *io)
{
    uint32_t g = *mxcsr;
    sse_io out = *io;
    uint32_t raised = HOST[op](&out, host_mode(g)) & MXCSR_FLAGS;
    uint32_t masks = g >> MXCSR_MASKS_SHIFT;
    if (LIKELY(!(raised & ~masks) && (masks & MXCSR_UE))) { /* every exception raised is masked */
        *mxcsr = g | raised;
        *io = out;
        return true;
    }
    return unmasked(op, mxcsr, io, &out, raised);
}
