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

enum { OP_NONE, OP_REG, OP_IMM, OP_MEM, OP_XMM }; /* OP_XMM: slot is the XMM number */

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

#endif
