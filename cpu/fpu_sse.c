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
typedef uint32_t (*host_fn)(sse_io *io, uint32_t mode, uint32_t host, uint32_t want);

/* want 1: ldmxcsr mode; INSN; stmxcsr flags; ldmxcsr host. want 0: INSN
 * alone, the host's MXCSR being the mode already (fpu_sse's fast path).
 * stmxcsr is slow on some CPUs (~20 ns on Zen: most of an operation's
 * cost) and ldmxcsr not free, so the fast path skips both. */
#define GUARD(insn)                                                                            \
    "testl %[want], %[want]\n\tjnz 1f\n\t" insn "\n\tjmp 2f\n1:\tldmxcsr %[mode]\n\t" insn            \
    "\n\tstmxcsr %[fl]\n\tldmxcsr %[host]\n2:"
#define GUARD_OUT [fl] "+m"(fl)
#define GUARD_IN [mode] "m"(mode), [host] "m"(host), [want] "r"(want)

/* x = x op y */
#define HOST_XX(name, mn)                                                                      \
    static uint32_t h_##name(sse_io *io, uint32_t mode, uint32_t host, uint32_t want)                                        \
    {                                                                                          \
        v2df a, b;                                                                             \
        uint32_t fl = 0;                                                                 \
        memcpy(&a, io->x, 16), memcpy(&b, io->y, 16);                                          \
        __asm__ volatile(GUARD(mn " %[b], %[a]") : [a] "+x"(a), GUARD_OUT : [b] "x"(b), GUARD_IN); \
        memcpy(io->x, &a, 16);                                                                 \
        return fl;                                                                             \
    }

/* x = cmp(x, y) with predicate p */
#define HOST_CMP(name, mn, p)                                                                  \
    static uint32_t h_##name(sse_io *io, uint32_t mode, uint32_t host, uint32_t want)                                        \
    {                                                                                          \
        v2df a, b;                                                                             \
        uint32_t fl = 0;                                                                 \
        memcpy(&a, io->x, 16), memcpy(&b, io->y, 16);                                          \
        __asm__ volatile(GUARD(mn " $" #p ", %[b], %[a]")                                      \
                         : [a] "+x"(a), GUARD_OUT : [b] "x"(b), GUARD_IN);             \
        memcpy(io->x, &a, 16);                                                                 \
        return fl;                                                                             \
    }

/* x = op(i): the register-name modifier k/q picks the integer width */
#define HOST_XI(name, mn, w)                                                                   \
    static uint32_t h_##name(sse_io *io, uint32_t mode, uint32_t host, uint32_t want)                                        \
    {                                                                                          \
        v2df a;                                                                                \
        uint32_t fl = 0;                                                                 \
        memcpy(&a, io->x, 16);                                                                 \
        __asm__ volatile(GUARD(mn " %" w "[i], %[a]") : [a] "+x"(a), GUARD_OUT : [i] "r"(io->i), GUARD_IN); \
        memcpy(io->x, &a, 16);                                                                 \
        return fl;                                                                             \
    }

/* i = op(y); a 32-bit result zero-extends in its 64-bit register */
#define HOST_IX(name, mn, w)                                                                   \
    static uint32_t h_##name(sse_io *io, uint32_t mode, uint32_t host, uint32_t want)                                        \
    {                                                                                          \
        v2df b;                                                                                \
        uint64_t r;                                                                            \
        uint32_t fl = 0;                                                                 \
        memcpy(&b, io->y, 16);                                                                 \
        __asm__ volatile(GUARD(mn " %[b], %" w "[r]") : [r] "=&r"(r), GUARD_OUT : [b] "x"(b), GUARD_IN); \
        io->i = r;                                                                             \
        return fl;                                                                             \
    }

/* i = ZF|PF|CF of comparing x with y */
#define HOST_FL(name, mn)                                                                      \
    static uint32_t h_##name(sse_io *io, uint32_t mode, uint32_t host, uint32_t want)                                        \
    {                                                                                          \
        v2df a, b;                                                                             \
        bool zf, pf, cf;                                                                       \
        uint32_t fl = 0;                                                                 \
        memcpy(&a, io->x, 16), memcpy(&b, io->y, 16);                                          \
        (void)want; /* always: a test would clobber the EFLAGS result */                      \
        __asm__ volatile("ldmxcsr %[mode]\n\t" mn " %[b], %[a]\n\tstmxcsr %[fl]\n\tldmxcsr %[host]"   \
                         : "=@ccz"(zf), "=@ccp"(pf), "=@ccc"(cf), GUARD_OUT                    \
                         : [a] "x"(a), [b] "x"(b), GUARD_IN);                                  \
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
static NOINLINE bool unmasked(unsigned op, uint32_t *mxcsr, uint32_t host, sse_io *io, const sse_io *out,
                              uint32_t raised)
{
    uint32_t g = *mxcsr, masks = (g >> MXCSR_MASKS_SHIFT) & MXCSR_FLAGS;
    const uint32_t pre = MXCSR_IE | MXCSR_DE | MXCSR_ZE;
    if (!(masks & MXCSR_UE) && !(raised & MXCSR_UE)) {
        sse_io t = *io;
        raised |= HOST[op](&t, host_mode(g) | MXCSR_FTZ, host, 1) & MXCSR_UE;
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

/*
 * The fast path. Once the guest's PE flag is set and every exception is
 * masked, an operation whose float inputs and outputs are all normal
 * numbers away from the range ends can raise nothing but PE (no NaN,
 * infinity or denormal in: no IE, DE, ZE; none out: no OE, UE), so its
 * flags need not be read. FAST says where each operation's float lanes
 * are: in_w 0 = never (an integer result may be the indefinite), 1 =
 * integer inputs (not checked); out_n 0 = no float output (compares).
 */
typedef struct fast_info {
    uint8_t in_w, in_n, in_x; /* input lane bytes, lanes, x is an input too */
    uint8_t out_w, out_n;     /* output lanes of x */
} fast_info;

#define FAST_ARITH(s, w, n)                                                                    \
    [FOP_ADD##s] = { w, n, 1, w, n }, [FOP_SUB##s] = { w, n, 1, w, n }, [FOP_MUL##s] = { w, n, 1, w, n }, \
    [FOP_DIV##s] = { w, n, 1, w, n }, [FOP_MIN##s] = { w, n, 1, w, n }, [FOP_MAX##s] = { w, n, 1, w, n }, \
    [FOP_SQRT##s] = { w, n, 0, w, n }, [FOP_CMP##s] = { w, n, 1, 0, 0 }, [FOP_CMP##s##1] = { w, n, 1, 0, 0 }, \
    [FOP_CMP##s##2] = { w, n, 1, 0, 0 }, [FOP_CMP##s##3] = { w, n, 1, 0, 0 }, [FOP_CMP##s##4] = { w, n, 1, 0, 0 }, \
    [FOP_CMP##s##5] = { w, n, 1, 0, 0 }, [FOP_CMP##s##6] = { w, n, 1, 0, 0 }, [FOP_CMP##s##7] = { w, n, 1, 0, 0 }

static const fast_info FAST[FOP_N] = {
    FAST_ARITH(PS, 4, 4), FAST_ARITH(PD, 8, 2), FAST_ARITH(SS, 4, 1), FAST_ARITH(SD, 8, 1),
    [FOP_CVTSS2SD] = { 4, 1, 0, 8, 1 }, [FOP_CVTSD2SS] = { 8, 1, 0, 4, 1 },
    [FOP_CVTPS2PD] = { 4, 2, 0, 8, 2 }, [FOP_CVTPD2PS] = { 8, 2, 0, 4, 2 },
    [FOP_CVTDQ2PS] = { 1, 0, 0, 4, 4 }, [FOP_CVTDQ2PD] = { 1, 0, 0, 8, 2 },
    [FOP_CVTSI2SS32] = { 1, 0, 0, 4, 1 }, [FOP_CVTSI2SS64] = { 1, 0, 0, 4, 1 },
    [FOP_CVTSI2SD32] = { 1, 0, 0, 8, 1 }, [FOP_CVTSI2SD64] = { 1, 0, 0, 8, 1 },
};

/* n lanes of w bytes with a biased exponent in [2, max-2]: normal, and
 * neither the smallest (tininess) nor the largest (overflow) binade */
static bool lanes_mid(const uint64_t v[2], unsigned w, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned e = w == 4 ? (unsigned)(v[i >> 1] >> (32 * (i & 1)) >> 23) & 0xff : (unsigned)(v[i] >> 52) & 0x7ff;
        unsigned top = w == 4 ? 0xff : 0x7ff;
        if (e < 2 || e > top - 2)
            return false;
    }
    return true;
}

static inline bool fast_in(unsigned op, uint32_t g, const sse_io *io)
{
    const fast_info *f = &FAST[op];
    const uint32_t all = MXCSR_PE | MXCSR_FLAGS << MXCSR_MASKS_SHIFT;
    if ((g & all) != all || !f->in_w)
        return false;
    return f->in_w == 1 || (lanes_mid(io->y, f->in_w, f->in_n) && (!f->in_x || lanes_mid(io->x, f->in_w, f->in_n)));
}

uint32_t fpu_host_mxcsr(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

void fpu_host_restore(uint32_t *host)
{
    if (*host & FPU_HOST_DIRTY) {
        uint32_t v = *host & ~FPU_HOST_DIRTY;
        __asm__ volatile("ldmxcsr %0" : : "m"(v));
    }
    *host = FPU_HOST_UNKNOWN;
}

/* runs op bare on the host MXCSR when it has the guest's mode already;
 * false: not eligible or an output is not in the middle range */
static inline bool fast(unsigned op, uint32_t g, uint32_t *host, sse_io *io)
{
    uint32_t mode = host_mode(g);
    if ((*host & ~(FPU_HOST_DIRTY | MXCSR_FLAGS)) != mode || !fast_in(op, g, io))
        return false;
    sse_io out = *io;
    HOST[op](&out, mode, *host, 0);
    *host |= FPU_HOST_DIRTY; /* its flags: restored by fpu_host_release */
    if (FAST[op].out_n && !lanes_mid(out.x, FAST[op].out_w, FAST[op].out_n))
        return false;
    *io = out; /* raised nothing but PE, which is set */
    return true;
}

bool fpu_sse(unsigned op, uint32_t *mxcsr, uint32_t *host, sse_io *io)
{
    uint32_t g = *mxcsr;
    if (UNLIKELY(*host == FPU_HOST_UNKNOWN))
        *host = fpu_host_mxcsr();
    if (fast(op, g, host, io))
        return true;
    sse_io out = *io;
    uint32_t raised = HOST[op](&out, host_mode(g), *host & ~FPU_HOST_DIRTY, 1) & MXCSR_FLAGS;
    *host &= ~FPU_HOST_DIRTY; /* the host's MXCSR was put back whole */
    uint32_t masks = g >> MXCSR_MASKS_SHIFT;
    if (LIKELY(!(raised & ~masks) && (masks & MXCSR_UE))) { /* every exception raised is masked */
        *mxcsr = g | raised;
        *io = out;
        return true;
    }
    return unmasked(op, mxcsr, *host, io, &out, raised);
}
