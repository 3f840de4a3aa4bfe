/*
 * decode.h - what instruction decoders see: an instruction's operands read
 * from Capstone (a view), and the helpers decoders of every family share.
 *
 * A decoder (decode.c's table maps a Capstone instruction id to one) checks
 * the operand forms, fills the dinsn and returns its handler, or NULL when
 * the form is not in the supported set (the instruction then exits as
 * CPU_EXIT_INSN_INVALID). Family files (exec_*.c) may hold their own
 * decoders next to their handlers and declare them here.
 */
#ifndef SOFTMMU_DECODE_H
#define SOFTMMU_DECODE_H

#include "exec.h" /* MASK */

enum { OP_NONE, OP_REG, OP_IMM, OP_MEM, OP_XMM, OP_ST }; /* OP_XMM: slot is the XMM number; OP_ST: i of ST(i) */

typedef struct opnd {
    uint8_t  kind, size, slot, shift;
    x86_reg  reg;
    uint64_t imm;
} opnd;

/* the instruction seen through its operands */
typedef struct view {
    const cs_insn *ci;
    const cs_x86  *x;
    unsigned       n;      /* operand count */
    opnd           op[4];
    bool           ends;   /* the block ends after this instruction */
} view;

/* A decoder checks the operand forms and picks the handler; NULL = not in
 * the subset. arg tells variants apart (ALU op, condition code ...). */
typedef exec_fn (*dec_fn)(view *v, dinsn *d, unsigned arg);

static inline unsigned size_idx(unsigned size)
{
    return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

static inline bool size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static inline uint64_t imm_of(const view *v, unsigned i, unsigned size)
{
    return v->op[i].imm & MASK(size * 8);
}

/* the XMM operand i, or false */
static inline bool xmm_at(const view *v, unsigned i)
{
    return v->op[i].kind == OP_XMM;
}

static inline bool mem_at(const view *v, unsigned i, unsigned size)
{
    return v->op[i].kind == OP_MEM && v->op[i].size == size;
}

/* --------------------------------- SSE integer, moves, misc (exec_sse_int.c,
 * exec_sse_mov.c, exec_misc.c) */

/* Packed operations of the form xmm, xmm/m128 (16-byte aligned) with an
 * optional imm8: X(Capstone id, handler name, form). Forms: XF_BIN (no
 * immediate), XF_IMM (imm8 operand), XF_SHIFT (count in xmm/m128 or imm8),
 * XF_SHIFTI (imm8 only), XF_ALIAS (XF_BIN with the handlers of
 * an earlier entry of the same name: andps is pand). One list gives the enum, the handler table and
 * the decoder table entries. */
enum { XF_BIN, XF_IMM, XF_SHIFT, XF_SHIFTI, XF_ALIAS };
#define XINT_OPS(X)                                                                            \
    X(PADDB, paddb, XF_BIN) X(PADDW, paddw, XF_BIN) X(PADDD, paddd, XF_BIN)                    \
    X(PADDQ, paddq, XF_BIN) X(PSUBB, psubb, XF_BIN) X(PSUBW, psubw, XF_BIN)                    \
    X(PSUBD, psubd, XF_BIN) X(PSUBQ, psubq, XF_BIN) X(PADDSB, paddsb, XF_BIN)                  \
    X(PADDSW, paddsw, XF_BIN) X(PADDUSB, paddusb, XF_BIN) X(PADDUSW, paddusw, XF_BIN)          \
    X(PSUBSB, psubsb, XF_BIN) X(PSUBSW, psubsw, XF_BIN) X(PSUBUSB, psubusb, XF_BIN)            \
    X(PSUBUSW, psubusw, XF_BIN) X(PMULLW, pmullw, XF_BIN) X(PMULHW, pmulhw, XF_BIN)            \
    X(PMULHUW, pmulhuw, XF_BIN) X(PMULUDQ, pmuludq, XF_BIN) X(PMADDWD, pmaddwd, XF_BIN)        \
    X(PCMPEQB, pcmpeqb, XF_BIN) X(PCMPEQW, pcmpeqw, XF_BIN) X(PCMPEQD, pcmpeqd, XF_BIN)        \
    X(PCMPGTB, pcmpgtb, XF_BIN) X(PCMPGTW, pcmpgtw, XF_BIN) X(PCMPGTD, pcmpgtd, XF_BIN)        \
    X(PMINUB, pminub, XF_BIN) X(PMAXUB, pmaxub, XF_BIN) X(PMINSW, pminsw, XF_BIN)              \
    X(PMAXSW, pmaxsw, XF_BIN) X(PAVGB, pavgb, XF_BIN) X(PAVGW, pavgw, XF_BIN)                  \
    X(PSADBW, psadbw, XF_BIN) X(PACKSSWB, packsswb, XF_BIN) X(PACKSSDW, packssdw, XF_BIN)      \
    X(PACKUSWB, packuswb, XF_BIN) X(PUNPCKLBW, punpcklbw, XF_BIN)                              \
    X(PUNPCKLWD, punpcklwd, XF_BIN) X(PUNPCKLDQ, punpckldq, XF_BIN)                            \
    X(PUNPCKLQDQ, punpcklqdq, XF_BIN) X(PUNPCKHBW, punpckhbw, XF_BIN)                          \
    X(PUNPCKHWD, punpckhwd, XF_BIN) X(PUNPCKHDQ, punpckhdq, XF_BIN)                            \
    X(PUNPCKHQDQ, punpckhqdq, XF_BIN) X(PAND, pand, XF_BIN) X(PANDN, pandn, XF_BIN)            \
    X(POR, por, XF_BIN) X(PXOR, pxor, XF_BIN) X(ANDPS, pand, XF_ALIAS) X(ANDPD, pand, XF_ALIAS)    \
    X(ANDNPS, pandn, XF_ALIAS) X(ANDNPD, pandn, XF_ALIAS) X(ORPS, por, XF_ALIAS)                     \
    X(ORPD, por, XF_ALIAS) X(XORPS, pxor, XF_ALIAS) X(XORPD, pxor, XF_ALIAS)                         \
    X(UNPCKLPS, punpckldq, XF_ALIAS) X(UNPCKHPS, punpckhdq, XF_ALIAS)                              \
    X(UNPCKLPD, punpcklqdq, XF_ALIAS) X(UNPCKHPD, punpckhqdq, XF_ALIAS)                            \
    X(SHUFPS, shufps, XF_IMM) X(SHUFPD, shufpd, XF_IMM) X(PSHUFD, pshufd, XF_IMM)              \
    X(PSHUFHW, pshufhw, XF_IMM) X(PSHUFLW, pshuflw, XF_IMM) X(PSLLW, psllw, XF_SHIFT)          \
    X(PSLLD, pslld, XF_SHIFT) X(PSLLQ, psllq, XF_SHIFT) X(PSRLW, psrlw, XF_SHIFT)              \
    X(PSRLD, psrld, XF_SHIFT) X(PSRLQ, psrlq, XF_SHIFT) X(PSRAW, psraw, XF_SHIFT)              \
    X(PSRAD, psrad, XF_SHIFT) X(PSLLDQ, pslldq, XF_SHIFTI) X(PSRLDQ, psrldq, XF_SHIFTI)

/* SSSE3 (66 0f 38 / 3a) and the moves of SSE3: executed and reported by
 * cpuid only with SOFTMMU_SSSE3 (CMake option), since the model must not
 * report SSSE3 before SSE3 is complete (haddps/hsubps/addsubps and
 * fisttp live in the float and x87 files) */
#define XSSSE3_OPS(X)                                                                          \
    X(MOVSHDUP, movshdup, XF_BIN) X(MOVSLDUP, movsldup, XF_BIN)                                \
    X(PSHUFB, pshufb, XF_BIN) X(PHADDW, phaddw, XF_BIN) X(PHADDD, phaddd, XF_BIN)              \
    X(PHADDSW, phaddsw, XF_BIN) X(PMADDUBSW, pmaddubsw, XF_BIN) X(PHSUBW, phsubw, XF_BIN)      \
    X(PHSUBD, phsubd, XF_BIN) X(PHSUBSW, phsubsw, XF_BIN) X(PSIGNB, psignb, XF_BIN)            \
    X(PSIGNW, psignw, XF_BIN) X(PSIGND, psignd, XF_BIN) X(PMULHRSW, pmulhrsw, XF_BIN)          \
    X(PABSB, pabsb, XF_BIN) X(PABSW, pabsw, XF_BIN) X(PABSD, pabsd, XF_BIN)                    \
    X(PALIGNR, palignr, XF_IMM)

#ifndef SOFTMMU_SSSE3
#define SOFTMMU_SSSE3 0
#endif

#define XINT_ENUM(id, name, form) XI_##id,
enum { XINT_OPS(XINT_ENUM) XSSSE3_OPS(XINT_ENUM) XI_N };
#undef XINT_ENUM

exec_fn dec_xint(view *v, dinsn *d, unsigned op);      /* arg XI_* */
/* moves (exec_sse_mov.c) */
exec_fn dec_xmov(view *v, dinsn *d, unsigned aligned); /* 128-bit moves */
exec_fn dec_xmovq(view *v, dinsn *d, unsigned size);   /* movd 4 / movq 8 */
exec_fn dec_movs(view *v, dinsn *d, unsigned size);    /* movss 4 / movsd 8 */
exec_fn dec_movhl(view *v, dinsn *d, unsigned high);   /* movlps/movlpd 0, movhps/movhpd 1 */
exec_fn dec_movhlps(view *v, dinsn *d, unsigned high); /* movhlps 0, movlhps 1 */
exec_fn dec_movmsk(view *v, dinsn *d, unsigned lanes); /* movmskpd 2, movmskps 4, pmovmskb 16 */
exec_fn dec_movnt(view *v, dinsn *d, unsigned arg);    /* movntdq/ps/pd, movnti */
exec_fn dec_maskmov(view *v, dinsn *d, unsigned arg);  /* maskmovdqu */
exec_fn dec_pinsrw(view *v, dinsn *d, unsigned arg);
exec_fn dec_pextrw(view *v, dinsn *d, unsigned arg);
exec_fn dec_movddup(view *v, dinsn *d, unsigned arg);  /* SSE3, with SOFTMMU_SSSE3 */
/* the integer tail (exec_misc.c) */
enum { MISC_CPUID, MISC_RDTSC, MISC_RDTSCP, MISC_NOP };
exec_fn dec_misc(view *v, dinsn *d, unsigned arg);     /* operand-free; arg MISC_* */
exec_fn dec_hint(view *v, dinsn *d, unsigned arg);     /* prefetch*, clflush: no-ops with an m8 */
exec_fn dec_cmpxchg_wide(view *v, dinsn *d, unsigned arg); /* cmpxchg8b / cmpxchg16b */
exec_fn dec_rcx(view *v, dinsn *d, unsigned right);    /* rcl 0 / rcr 1 */
exec_fn dec_enter(view *v, dinsn *d, unsigned arg);
enum { BC_POPCNT, BC_LZCNT, BC_TZCNT, BC_N };
exec_fn dec_bitcount(view *v, dinsn *d, unsigned op);  /* arg BC_* */
/* ------------------------------------------- SSE floating point (exec_sse_fp.c) */
/* arg: SSE_ARG(FOP_* operation, memory operand size) - see exec_sse_fp.c */
exec_fn dec_sse_fp(view *v, dinsn *d, unsigned arg);     /* xmm, xmm/mem (and cmp imm8) */
exec_fn dec_sse_cvtsi(view *v, dinsn *d, unsigned arg);  /* cvtsi2ss/sd xmm, r/m32/64 */
exec_fn dec_sse_cvt2si(view *v, dinsn *d, unsigned arg); /* cvt(t)s?2si r32/64, xmm/mem */
exec_fn dec_sse_comis(view *v, dinsn *d, unsigned arg);  /* (u)comiss/sd xmm, xmm/mem */
exec_fn dec_sse_mxcsr(view *v, dinsn *d, unsigned store); /* ldmxcsr / stmxcsr m32 */
#define SSE_ARG(op, msize) ((op) | (msize) << 8)
/* ------------------------------------------------------------------ x87 */
/* exec_x87.c: every x87 escape (d8..df) by its opcode and ModRM bytes;
 * fxsave / fxrstor (arg 0 / 1) */
exec_fn dec_x87(view *v, dinsn *d, unsigned arg);
exec_fn dec_fxsave(view *v, dinsn *d, unsigned arg);

#endif
