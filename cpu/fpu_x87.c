/*
 * fpu_x87.c - x87 semantics: the host FPU runs the guest's instruction.
 *
 * The guest's x87 state is an FNSAVE image (x87_image). To run an
 * instruction, a host routine does frstor of the image, executes the very
 * same instruction (its two opcode bytes; a memory operand is rewritten to
 * [rdi], a host buffer holding the guest's bytes) and fnsave's the image
 * back. Everything the instruction does - results under the guest's
 * rounding and precision control, C0..C3, C1 on round-up and on stack
 * faults, the exception flags, TOP and the tag word, NaN and denormal
 * handling, the masked and unmasked responses - is then exactly what the
 * hardware does, transcendentals (fsin, fpatan, f2xm1 ...) included: they
 * are the host CPU's own results (identical to hardware of the same vendor;
 * Intel and AMD may differ in the last bit of those).
 *
 * The host never traps: fnsave does not wait and leaves the FPU
 * initialised, and the caller checks that no unmasked exception is pending
 * before any waiting instruction (the guest takes #MF there instead). The
 * host's control word is saved and put back around each routine; the x87
 * stack is empty again afterwards, as the ABI wants it.
 */
#include "fpu.h"

#include <string.h>

#if !defined(__x86_64__)
#error "the x87 and SSE semantics run on the host FPU: softmmu's cpu needs an x86-64 host"
#endif

/* ------------------------------------------------------- host routines */

/* sahf/lahf carry the guest's flags in and the host's out (fcmov, fcomi) */
#define X87_ASM(bytes)                                                                         \
    __asm__ volatile("fnstcw %[hcw]\n\t"                                                       \
                     "sahf\n\t"                                                                \
                     "frstor %[img]\n\t"                                                       \
                     ".byte " bytes "\n\t"                                                     \
                     "fnsave %[img]\n\t"                                                       \
                     "lahf\n\t"                                                                \
                     "fldcw %[hcw]"                                                            \
                     : [img] "+m"(*img), [hcw] "=m"(hcw), "+a"(ax)                             \
                     : "D"(mem)                                                                \
                     : "cc", "memory")

typedef uint16_t (*host_fn)(x87_image *img, void *mem, uint16_t ax);

/* register forms: escape X, ModRM M (parameter names must not be hex digits) */
#define R1(X, M)                                                                               \
    static uint16_t r_##X##M(x87_image *img, void *mem, uint16_t ax)                           \
    {                                                                                          \
        uint16_t hcw;                                                                          \
        X87_ASM("0x" #X ", 0x" #M);                                                            \
        return ax;                                                                             \
    }
#define R16(X, H)                                                                              \
    R1(X, H##0) R1(X, H##1) R1(X, H##2) R1(X, H##3) R1(X, H##4) R1(X, H##5) R1(X, H##6) R1(X, H##7) \
    R1(X, H##8) R1(X, H##9) R1(X, H##a) R1(X, H##b) R1(X, H##c) R1(X, H##d) R1(X, H##e) R1(X, H##f)
#define R64(X) R16(X, c) R16(X, d) R16(X, e) R16(X, f)

/* memory forms: ModRM mod 00, rm 111 = [rdi] */
#define M1(X, M)                                                                               \
    static uint16_t m_##X##_##M(x87_image *img, void *mem, uint16_t ax)                        \
    {                                                                                          \
        uint16_t hcw;                                                                          \
        X87_ASM("0x" #X ", 0x" #M);                                                            \
        return ax;                                                                             \
    }
#define M8(X) M1(X, 07) M1(X, 0f) M1(X, 17) M1(X, 1f) M1(X, 27) M1(X, 2f) M1(X, 37) M1(X, 3f)

#define ESCAPES(X) X(d8) X(d9) X(da) X(db) X(dc) X(dd) X(de) X(df)
ESCAPES(R64)
ESCAPES(M8)

#define T16(X, H)                                                                              \
    r_##X##H##0, r_##X##H##1, r_##X##H##2, r_##X##H##3, r_##X##H##4, r_##X##H##5, r_##X##H##6,   \
    r_##X##H##7, r_##X##H##8, r_##X##H##9, r_##X##H##a, r_##X##H##b, r_##X##H##c, r_##X##H##d,   \
    r_##X##H##e, r_##X##H##f,
#define T64(X) T16(X, c) T16(X, d) T16(X, e) T16(X, f)
#define TM8(X) m_##X##_07, m_##X##_0f, m_##X##_17, m_##X##_1f, m_##X##_27, m_##X##_2f, m_##X##_37, m_##X##_3f,

static const host_fn HOST[X87_HOST_N] = { ESCAPES(T64) ESCAPES(TM8) };

uint8_t fpu_x87_run(x87_image *img, unsigned idx, void *mem, uint8_t flags)
{
    return (uint8_t)(HOST[idx](img, mem, (uint16_t)(flags << 8)) >> 8);
}

/* --------------------------------------------------------------- state */

void fpu_init(cpu_t *c)
{
    c->x87 = (x87_image){ .cw = X87_CW_INIT, .tw = 0xffff };
    c->x87_fip = c->x87_fdp = 0;
    c->x87_fop = 0;
    c->mxcsr = FPU_MXCSR_INIT;
}

/* FXSAVE and FXRSTOR run on the host too, so that what they make of the
 * image (the abridged tags, CW's reserved bits, ES and B) is the
 * hardware's; the fields the host fills with its own values (pointers,
 * MXCSR, XMM) are then put right. */

/* the pointers, MXCSR and XMM of c into an FXSAVE image */
static void fx_put(const cpu_t *c, uint8_t *fx, bool wide)
{
    uint32_t mask = FPU_MXCSR_MASK;
    memcpy(fx + 6, &c->x87_fop, 2);
    memset(fx + 8, 0, 16);
    memcpy(fx + 8, &c->x87_fip, wide ? 8 : 4); /* the 32-bit form: zero selectors follow */
    memcpy(fx + 16, &c->x87_fdp, wide ? 8 : 4);
    memcpy(fx + 24, &c->mxcsr, 4);
    memcpy(fx + 28, &mask, 4);
    for (unsigned i = 0; i < 8; i++)
        memset(fx + 32 + 16 * i + 10, 0, 6);
    memcpy(fx + 160, c->xmm, 256); /* little-endian host: [0] is the low quadword */
}

void fpu_fxsave(const cpu_t *c, uint8_t out[416], bool wide)
{
    _Alignas(16) uint8_t fx[512];
    uint16_t hcw;
    __asm__ volatile("fnstcw %[hcw]\n\t"
                     "frstor %[img]\n\t"
                     "fxsave64 %[fx]\n\t"
                     "fninit\n\t"
                     "fldcw %[hcw]"
                     : [fx] "=m"(fx), [hcw] "=m"(hcw)
                     : [img] "m"(c->x87));
    fx_put(c, fx, wide);
    memcpy(out, fx, 416);
}

mmu_err fpu_fxrstor(cpu_t *c, const uint8_t in[416], bool wide)
{
    _Alignas(16) uint8_t fx[512];
    uint32_t mx, host_mx;
    uint16_t hcw;
    memcpy(&mx, in + 24, 4);
    if (mx & ~FPU_MXCSR_MASK)
        return MMU_ERR_ARG;
    memcpy(fx, in, 416);
    __asm__ volatile("stmxcsr %0" : "=m"(host_mx));
    memcpy(fx + 24, &host_mx, 4); /* the host's MXCSR stays */
    __asm__ volatile("fnstcw %[hcw]\n\t"
                     "fxrstor64 %[fx]\n\t"
                     "fnsave %[img]\n\t"
                     "fldcw %[hcw]"
                     : [img] "=m"(c->x87), [hcw] "=m"(hcw)
                     : [fx] "m"(fx)
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                       "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    memcpy(&c->x87_fop, in + 6, 2);
    c->x87_fop &= 0x7ff;
    c->x87_fip = c->x87_fdp = 0;
    memcpy(&c->x87_fip, in + 8, wide ? 8 : 4);
    memcpy(&c->x87_fdp, in + 16, wide ? 8 : 4);
    c->mxcsr = mx;
    memcpy(c->xmm, in + 160, 256);
    return MMU_OK;
}
