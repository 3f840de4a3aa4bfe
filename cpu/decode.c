/*
 * decode.c - Capstone instruction -> dinsn, and whole blocks.
 *
 * Capstone's detail is read here only: a dinsn holds everything a handler
 * needs (register slots, sizes, immediate, memory operand parts), and the
 * handler is picked from the tables of exec_*.c. Whatever is not in the
 * supported subset becomes exec_invalid, so it exits with
 * CPU_EXIT_INSN_INVALID when (and only when) it is reached.
 *
 * A block starts with an instruction fetched through mmu_fetch (EXEC
 * check, fetch hooks, faults) and continues with instructions of the same
 * page, read ahead with mmu_read: the run loop re-checks the fetch of each
 * of them against the TLB before running it.
 */
#include "decode.h"
#include "fpu.h"

#define MAX_INSN 15

/* --------------------------------------------------------------- registers */

typedef struct reginfo {
    uint8_t ok, slot, shift; /* shift: the register's lsb in its slot (8 = AH..BH) */
} reginfo;

#define GPR(r64, r32, r16, r8, n)                                                              \
    [X86_REG_##r64] = { 1, n, 0 }, [X86_REG_##r32] = { 1, n, 0 },                              \
    [X86_REG_##r16] = { 1, n, 0 }, [X86_REG_##r8] = { 1, n, 0 }

static const reginfo REGS[X86_REG_ENDING] = {
    GPR(RAX, EAX, AX, AL, 0), GPR(RCX, ECX, CX, CL, 1), GPR(RDX, EDX, DX, DL, 2),
    GPR(RBX, EBX, BX, BL, 3), GPR(RSP, ESP, SP, SPL, 4), GPR(RBP, EBP, BP, BPL, 5),
    GPR(RSI, ESI, SI, SIL, 6), GPR(RDI, EDI, DI, DIL, 7), GPR(R8, R8D, R8W, R8B, 8),
    GPR(R9, R9D, R9W, R9B, 9), GPR(R10, R10D, R10W, R10B, 10), GPR(R11, R11D, R11W, R11B, 11),
    GPR(R12, R12D, R12W, R12B, 12), GPR(R13, R13D, R13W, R13B, 13), GPR(R14, R14D, R14W, R14B, 14),
    GPR(R15, R15D, R15W, R15B, 15),
    [X86_REG_AH] = { 1, 0, 8 }, [X86_REG_CH] = { 1, 1, 8 },
    [X86_REG_DH] = { 1, 2, 8 }, [X86_REG_BH] = { 1, 3, 8 },
};

/* --------------------------------------------------------------- operands */



/* memory operand -> d; false for what we do not model */
static bool set_mem(dinsn *d, const cs_x86 *x, const cs_x86_op *o)
{
    const x86_op_mem *m = &o->mem;
    d->disp = m->disp;
    d->scale = m->scale == 8 ? 3 : m->scale == 4 ? 2 : m->scale == 2 ? 1 : 0;
    d->addr32 = x->addr_size == 4;
    if (x->addr_size != 8 && x->addr_size != 4)
        return false;
    if (m->base == X86_REG_RIP || m->base == X86_REG_EIP) {
        d->disp += (int64_t)(d->addr + d->len); /* rip-relative: absolute now */
    } else if (m->base != X86_REG_INVALID) {
        if ((unsigned)m->base >= X86_REG_ENDING || !REGS[m->base].ok || REGS[m->base].shift)
            return false;
        d->base = REGS[m->base].slot;
    }
    if (m->index != X86_REG_INVALID) {
        if ((unsigned)m->index >= X86_REG_ENDING || !REGS[m->index].ok || REGS[m->index].shift)
            return false;
        d->index = REGS[m->index].slot;
    }
    d->seg = m->segment == X86_REG_FS ? CPU_FS_BASE : m->segment == X86_REG_GS ? CPU_GS_BASE : SLOT_ZERO;
    return true;
}

/* Reads the operands into v; at most one memory operand (into d). */
static bool read_ops(view *v, dinsn *d)
{
    const cs_x86 *x = v->x;
    bool mem = false;
    v->n = x->op_count;
    if (v->n > 4)
        return false;
    for (unsigned i = 0; i < v->n; i++) {
        const cs_x86_op *o = &x->operands[i];
        opnd *p = &v->op[i];
        *p = (opnd){ .size = o->size };
        if (o->type == X86_OP_REG && o->reg >= X86_REG_XMM0 && o->reg <= X86_REG_XMM15) {
            *p = (opnd){ OP_XMM, o->size, (uint8_t)(o->reg - X86_REG_XMM0), 0, o->reg, 0 };
        } else if (o->type == X86_OP_REG && o->reg >= X86_REG_ST0 && o->reg <= X86_REG_ST7) {
            *p = (opnd){ OP_ST, o->size, (uint8_t)(o->reg - X86_REG_ST0), 0, o->reg, 0 };
        } else if (o->type == X86_OP_REG) {
            if ((unsigned)o->reg >= X86_REG_ENDING || !REGS[o->reg].ok)
                return false;
            *p = (opnd){ OP_REG, o->size, REGS[o->reg].slot, REGS[o->reg].shift, o->reg, 0 };
        } else if (o->type == X86_OP_IMM) {
            p->kind = OP_IMM;
            p->imm = (uint64_t)o->imm;
        } else if (o->type == X86_OP_MEM && !mem) {
            p->kind = OP_MEM;
            mem = true;
            if (!set_mem(d, x, o))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

/* the register operands, in order, into r1/s1 and r2/s2 */
static void set_regs(const view *v, dinsn *d)
{
    unsigned k = 0;
    for (unsigned i = 0; i < v->n; i++) {
        if (v->op[i].kind != OP_REG)
            continue;
        if (k == 0)
            d->reg0 = v->op[i].slot, d->reg0_lsb = v->op[i].shift;
        else if (k == 1)
            d->reg1 = v->op[i].slot, d->reg1_lsb = v->op[i].shift;
        k++;
    }
}

/* two-operand form, or -1 */
static int form2(const view *v)
{
    if (v->n != 2)
        return -1;
    unsigned a = v->op[0].kind, b = v->op[1].kind;
    if (a == OP_REG)
        return b == OP_REG ? F_RR : b == OP_IMM ? F_RI : b == OP_MEM ? F_RM : -1;
    if (a == OP_MEM)
        return b == OP_REG ? F_MR : b == OP_IMM ? F_MI : -1;
    return -1;
}


/* ---------------------------------------------------------- families */


/* arg: ALU_* or ALU_N for mov */
static exec_fn dec_alu(view *v, dinsn *d, unsigned op)
{
    int f = form2(v);
    unsigned size = v->op[0].size;
    if (f < 0 || !size_ok(size))
        return NULL;
    if (f == F_RI || f == F_MI)
        d->imm = imm_of(v, 1, size);
    d->size = size;
    return op == ALU_N ? exec_mov[f][size_idx(size)] : exec_alu[op][f][size_idx(size)];
}

/* inc dec not neg mul imul div idiv with one operand */
static exec_fn dec_unary(view *v, dinsn *d, unsigned op)
{
    if (v->n != 1 || !size_ok(v->op[0].size) || v->op[0].kind == OP_IMM)
        return NULL;
    d->size = v->op[0].size;
    return exec_unary[op][v->op[0].kind == OP_MEM][size_idx(d->size)];
}

static unsigned count_mask_of(unsigned size)
{
    return size == 8 ? 63 : 31;
}

/* the shift count operand i: an immediate or CL; -1 otherwise */
static int count_form(const view *v, unsigned i, bool mem)
{
    bool cl = v->op[i].kind == OP_REG;
    if ((cl && v->op[i].reg != X86_REG_CL) || (!cl && v->op[i].kind != OP_IMM))
        return -1;
    return mem ? (cl ? SHF_MC : SHF_MI) : (cl ? SHF_RC : SHF_RI);
}

static exec_fn dec_shift(view *v, dinsn *d, unsigned op)
{
    unsigned size = v->op[0].size;
    if (v->n != 2 || !size_ok(size) || v->op[0].kind == OP_IMM)
        return NULL;
    int f = count_form(v, 1, v->op[0].kind == OP_MEM);
    d->imm = v->op[1].imm & count_mask_of(size);
    d->size = size;
    return f < 0 ? NULL : exec_shift[op][f][size_idx(size)];
}

/* arg: 0 shld, 1 shrd */
static exec_fn dec_dshift(view *v, dinsn *d, unsigned right)
{
    unsigned size = v->op[0].size;
    if (v->n != 3 || size < 2 || !size_ok(size) || v->op[0].kind == OP_IMM || v->op[1].kind != OP_REG)
        return NULL;
    int f = count_form(v, 2, v->op[0].kind == OP_MEM);
    d->imm = v->op[2].imm & count_mask_of(size);
    d->size = size;
    return f < 0 ? NULL : exec_dshift[right][f][size_idx(size) - 1];
}

/* movzx (arg 0), movsx and movsxd (arg 1) */
static exec_fn dec_ext(view *v, dinsn *d, unsigned sg)
{
    unsigned dst = v->op[0].size, src = v->op[1].size;
    if (v->n != 2 || v->op[0].kind != OP_REG || v->op[1].kind == OP_IMM)
        return NULL;
    if (dst < 2 || !size_ok(dst) || src > 4 || !size_ok(src) || src > dst)
        return NULL;
    d->size = dst;
    return exec_ext[sg][v->op[1].kind == OP_MEM][size_idx(src)][size_idx(dst) - 1];
}

/* reg, r/m with sizes 2/4/8: 0 for a register source, 1 for memory, -1 */
static int reg_rm(const view *v)
{
    if (v->n != 2 || v->op[0].kind != OP_REG || v->op[1].kind == OP_IMM)
        return -1;
    unsigned size = v->op[0].size;
    if (size < 2 || !size_ok(size))
        return -1;
    return v->op[1].kind == OP_MEM;
}

static exec_fn dec_imul(view *v, dinsn *d, unsigned arg)
{
    (void)arg;
    if (v->n == 1)
        return dec_unary(v, d, UN_IMUL);
    unsigned size = v->op[0].size;
    d->size = size;
    if (v->n == 2) {
        int m = reg_rm(v);
        return m < 0 ? NULL : exec_imul2[m][size_idx(size) - 1];
    }
    if (v->n != 3 || v->op[0].kind != OP_REG || v->op[1].kind == OP_IMM || v->op[2].kind != OP_IMM || size < 2
        || !size_ok(size))
        return NULL;
    d->imm = imm_of(v, 2, size);
    return exec_imul2[v->op[1].kind == OP_MEM ? 3 : 2][size_idx(size) - 1];
}

static exec_fn dec_bt(view *v, dinsn *d, unsigned op)
{
    unsigned size = v->op[0].size;
    if (v->n != 2 || size < 2 || !size_ok(size) || v->op[0].kind == OP_IMM || v->op[1].kind == OP_MEM)
        return NULL;
    bool mem = v->op[0].kind == OP_MEM, imm = v->op[1].kind == OP_IMM;
    d->imm = v->op[1].imm;
    d->size = size;
    return exec_bt[op][(mem ? 2 : 0) + imm][size_idx(size) - 1];
}

/* xchg (arg 0), cmpxchg (1), xadd (2): reg, reg or mem, reg (either order
 * for xchg) */
static exec_fn dec_xchg_rmw(view *v, dinsn *d, unsigned which)
{
    static const exec_fn (*const tabs[])[4] = { exec_xchg, exec_cmpxchg, exec_xadd };
    int f = form2(v);
    unsigned size = v->op[0].size;
    if (!size_ok(size))
        return NULL;
    d->size = size;
    if (f == F_RR)
        return tabs[which][0][size_idx(size)];
    if (f == F_MR || (f == F_RM && which == 0))
        return tabs[which][1][size_idx(size)];
    return NULL;
}

/* arg: 0 bsf, 1 bsr */
static exec_fn dec_bitscan(view *v, dinsn *d, unsigned rev)
{
    int m = reg_rm(v);
    d->size = v->op[0].size;
    return m < 0 ? NULL : exec_bitscan[rev][m][size_idx(d->size) - 1];
}

static exec_fn dec_cmov(view *v, dinsn *d, unsigned cc)
{
    int m = reg_rm(v);
    d->size = v->op[0].size;
    return m < 0 ? NULL : exec_cmov[cc][m][size_idx(d->size) - 1];
}

static exec_fn dec_setcc(view *v, dinsn *d, unsigned cc)
{
    (void)d;
    if (v->n != 1 || v->op[0].size != 1 || v->op[0].kind == OP_IMM)
        return NULL;
    return exec_setcc[cc][v->op[0].kind == OP_MEM];
}

static exec_fn dec_lea(view *v, dinsn *d, unsigned arg)
{
    (void)arg;
    unsigned size = v->op[0].size;
    if (v->n != 2 || v->op[0].kind != OP_REG || v->op[1].kind != OP_MEM || size < 2 || !size_ok(size))
        return NULL;
    d->size = size;
    return exec_lea[size_idx(size) - 1];
}

static exec_fn dec_bswap(view *v, dinsn *d, unsigned arg)
{
    (void)d, (void)arg;
    if (v->n != 1 || v->op[0].kind != OP_REG || v->op[0].size < 4)
        return NULL; /* 16-bit bswap is undefined */
    return exec_bswap[v->op[0].size == 8];
}

/* arg: push 1, pop 0 */
static exec_fn dec_stack(view *v, dinsn *d, unsigned push)
{
    if (v->n != 1)
        return NULL;
    const opnd *o = &v->op[0];
    /* Capstone says 8 for every immediate: the 0x66 prefix tells */
    d->size = o->kind == OP_IMM ? (v->x->prefix[2] == 0x66 ? 2 : 8) : o->size;
    if (d->size != 8 && d->size != 2)
        return NULL;
    if (o->kind == OP_REG)
        return push ? exec_push_r : exec_pop_r;
    if (o->kind == OP_MEM)
        return push ? exec_push_m : exec_pop_m;
    if (o->kind == OP_IMM && push) {
        d->imm = imm_of(v, 0, d->size);
        return exec_push_i;
    }
    return NULL;
}

/* operand size from the prefixes: 2 (0x66), 8 (REX.W) or 4 */
static unsigned prefix_size(const view *v)
{
    return (v->x->rex & 8) ? 8 : v->x->prefix[2] == 0x66 ? 2 : 4;
}

/* cbw/cwde/cdqe (arg 0), cwd/cdq/cqo (arg 1) */
static exec_fn dec_acc_sext(view *v, dinsn *d, unsigned arg)
{
    d->size = prefix_size(v);
    return arg ? exec_cdq : exec_acc_sext;
}

/* pushf (arg 1), popf (arg 0) */
static exec_fn dec_pushf(view *v, dinsn *d, unsigned push)
{
    d->size = prefix_size(v) == 2 ? 2 : 8;
    return push ? exec_pushf : exec_popf;
}

/* clc stc cmc cld std: arg is exec_flagop's selector */
static exec_fn dec_flagop(view *v, dinsn *d, unsigned arg)
{
    (void)v;
    d->variant = (uint8_t)arg;
    return exec_flagop;
}

/* operand-free instructions; arg indexes SIMPLE */
enum { S_NOP, S_LAHF, S_SAHF, S_LEAVE, S_SYSCALL, S_HLT, S_INT3 };

static exec_fn dec_simple(view *v, dinsn *d, unsigned arg)
{
    static const exec_fn SIMPLE[] = { exec_nop, exec_lahf, exec_sahf, exec_leave, exec_syscall, exec_hlt, exec_int3 };
    (void)d;
    if (arg == S_LEAVE && v->x->prefix[2] == 0x66)
        return NULL; /* 16-bit leave */
    v->ends = arg >= S_SYSCALL;
    return SIMPLE[arg];
}

/* ---------------------------------------------------------- control flow */

/* a direct branch: the target in imm; 16-bit operand size is not modelled */
static bool direct(view *v, dinsn *d)
{
    if (v->n != 1 || v->op[0].kind != OP_IMM || v->x->prefix[2] == 0x66)
        return false;
    d->imm = v->op[0].imm;
    d->direct = 1;
    v->ends = true;
    return true;
}

static exec_fn dec_jcc(view *v, dinsn *d, unsigned cc)
{
    return direct(v, d) ? exec_jcc[cc] : NULL;
}

/* jmp (arg 0) / call (arg 1): rel, reg or mem (64-bit only) */
static exec_fn dec_jmpcall(view *v, dinsn *d, unsigned call)
{
    if (v->n != 1 || v->x->prefix[2] == 0x66)
        return NULL;
    if (v->op[0].kind == OP_IMM)
        return direct(v, d) ? (call ? exec_call : exec_jmp) : NULL;
    v->ends = true;
    if (v->op[0].kind == OP_REG && v->op[0].size == 8)
        return call ? exec_call_r : exec_jmp_r;
    if (v->op[0].kind == OP_MEM && v->op[0].size == 8)
        return call ? exec_call_m : exec_jmp_m;
    return NULL;
}

static exec_fn dec_ret(view *v, dinsn *d, unsigned arg)
{
    (void)arg;
    if (v->x->prefix[2] == 0x66 || v->n > 1 || (v->n == 1 && v->op[0].kind != OP_IMM))
        return NULL;
    d->imm = v->n ? v->op[0].imm & 0xffff : 0;
    v->ends = true;
    return exec_ret;
}

/* jrcxz (arg 0), jecxz (arg 1) */
static exec_fn dec_jrcxz(view *v, dinsn *d, unsigned ecx)
{
    d->variant = (uint8_t)ecx;
    return direct(v, d) ? exec_jrcxz : NULL;
}

/* loop (arg 0), loope (1), loopne (2); 0x67 counts in ECX */
static exec_fn dec_loop(view *v, dinsn *d, unsigned kind)
{
    d->variant = (uint8_t)kind;
    d->addr32 = v->x->addr_size == 4;
    return direct(v, d) ? exec_loop : NULL;
}

/* the last f2/f3 among the legacy prefixes (Capstone 4 drops f2 before a5) */
static unsigned rep_prefix(const cs_insn *ci)
{
    unsigned rep = REP_NONE;
    for (unsigned i = 0; i < ci->size; i++) {
        uint8_t p = ci->bytes[i];
        if (p == 0xf3 || p == 0xf2)
            rep = p == 0xf3 ? REP_REP : REP_REPNE;
        else if (p != 0xf0 && p != 0x66 && p != 0x67 && p != 0x2e && p != 0x36 && p != 0x3e && p != 0x26
                 && p != 0x64 && p != 0x65)
            break;
    }
    return rep;
}

static bool is_string(const cs_x86 *x)
{
    uint8_t opc = x->opcode[0];
    return !x->opcode[1] && opc >= 0xa4 && opc <= 0xaf && opc != 0xa8 && opc != 0xa9;
}

/* movs stos lods cmps scas, recognised by opcode (Capstone shares ids with
 * SSE); their memory operands are implicit, so they skip read_ops */
static exec_fn dec_string(const view *v, dinsn *d)
{
    static const uint8_t kind[] = { STR_MOVS, STR_MOVS, STR_CMPS, STR_CMPS, 0, 0,
                                    STR_STOS, STR_STOS, STR_LODS, STR_LODS, STR_SCAS, STR_SCAS };
    const cs_x86 *x = v->x;
    unsigned op = kind[x->opcode[0] - 0xa4], size = 0;
    if (x->addr_size != 8)
        return NULL;
    d->seg = SLOT_ZERO;
    for (unsigned i = 0; i < x->op_count; i++) {
        const cs_x86_op *o = &x->operands[i];
        size = o->size > size ? o->size : size;
        if (o->type == X86_OP_MEM && o->mem.base == X86_REG_RSI)
            d->seg = o->mem.segment == X86_REG_FS ? CPU_FS_BASE : o->mem.segment == X86_REG_GS ? CPU_GS_BASE : SLOT_ZERO;
    }
    unsigned rep = rep_prefix(v->ci);
    if (rep == REP_REPNE && op != STR_CMPS && op != STR_SCAS)
        rep = REP_REP; /* f2 on movs/stos/lods repeats like f3 */
    d->size = size;
    return size_ok(size) ? exec_string[op][rep][size_idx(size)] : NULL;
}

/* --------------------------------------------------------------- dispatch */

typedef struct decoder {
    dec_fn   fn;
    unsigned arg;
} decoder;

#define CC16(pre, fn)                                                                          \
    [X86_INS_##pre##O] = { fn, 0 }, [X86_INS_##pre##NO] = { fn, 1 }, [X86_INS_##pre##B] = { fn, 2 },       \
    [X86_INS_##pre##AE] = { fn, 3 }, [X86_INS_##pre##E] = { fn, 4 }, [X86_INS_##pre##NE] = { fn, 5 },      \
    [X86_INS_##pre##BE] = { fn, 6 }, [X86_INS_##pre##A] = { fn, 7 }, [X86_INS_##pre##S] = { fn, 8 },       \
    [X86_INS_##pre##NS] = { fn, 9 }, [X86_INS_##pre##P] = { fn, 10 }, [X86_INS_##pre##NP] = { fn, 11 },    \
    [X86_INS_##pre##L] = { fn, 12 }, [X86_INS_##pre##GE] = { fn, 13 }, [X86_INS_##pre##LE] = { fn, 14 },   \
    [X86_INS_##pre##G] = { fn, 15 }

/* Capstone instruction id -> decoder; ids absent here are not in the subset */
static const decoder DECODERS[X86_INS_ENDING] = {
    [X86_INS_ADD] = { dec_alu, ALU_ADD }, [X86_INS_OR] = { dec_alu, ALU_OR }, [X86_INS_ADC] = { dec_alu, ALU_ADC },
    [X86_INS_SBB] = { dec_alu, ALU_SBB }, [X86_INS_AND] = { dec_alu, ALU_AND }, [X86_INS_SUB] = { dec_alu, ALU_SUB },
    [X86_INS_XOR] = { dec_alu, ALU_XOR }, [X86_INS_CMP] = { dec_alu, ALU_CMP }, [X86_INS_TEST] = { dec_alu, ALU_TEST },
    [X86_INS_MOV] = { dec_alu, ALU_N }, [X86_INS_MOVABS] = { dec_alu, ALU_N },
    [X86_INS_INC] = { dec_unary, UN_INC }, [X86_INS_DEC] = { dec_unary, UN_DEC },
    [X86_INS_NOT] = { dec_unary, UN_NOT }, [X86_INS_NEG] = { dec_unary, UN_NEG },
    [X86_INS_MUL] = { dec_unary, UN_MUL }, [X86_INS_DIV] = { dec_unary, UN_DIV },
    [X86_INS_IDIV] = { dec_unary, UN_IDIV }, [X86_INS_IMUL] = { dec_imul, 0 },
    [X86_INS_ROL] = { dec_shift, SH_ROL }, [X86_INS_ROR] = { dec_shift, SH_ROR },
    [X86_INS_SHL] = { dec_shift, SH_SHL }, [X86_INS_SAL] = { dec_shift, SH_SHL },
    [X86_INS_SHR] = { dec_shift, SH_SHR }, [X86_INS_SAR] = { dec_shift, SH_SAR },
    [X86_INS_SHLD] = { dec_dshift, 0 }, [X86_INS_SHRD] = { dec_dshift, 1 },
    [X86_INS_MOVZX] = { dec_ext, 0 }, [X86_INS_MOVSX] = { dec_ext, 1 }, [X86_INS_MOVSXD] = { dec_ext, 1 },
    [X86_INS_BT] = { dec_bt, BT_BT }, [X86_INS_BTS] = { dec_bt, BT_BTS },
    [X86_INS_BTR] = { dec_bt, BT_BTR }, [X86_INS_BTC] = { dec_bt, BT_BTC },
    [X86_INS_XCHG] = { dec_xchg_rmw, 0 }, [X86_INS_CMPXCHG] = { dec_xchg_rmw, 1 }, [X86_INS_XADD] = { dec_xchg_rmw, 2 },
    [X86_INS_BSF] = { dec_bitscan, 0 }, [X86_INS_BSR] = { dec_bitscan, 1 }, [X86_INS_BSWAP] = { dec_bswap, 0 },
    [X86_INS_LEA] = { dec_lea, 0 }, [X86_INS_PUSH] = { dec_stack, 1 }, [X86_INS_POP] = { dec_stack, 0 },
    [X86_INS_CBW] = { dec_acc_sext, 0 }, [X86_INS_CWDE] = { dec_acc_sext, 0 }, [X86_INS_CDQE] = { dec_acc_sext, 0 },
    [X86_INS_CWD] = { dec_acc_sext, 1 }, [X86_INS_CDQ] = { dec_acc_sext, 1 }, [X86_INS_CQO] = { dec_acc_sext, 1 },
    [X86_INS_PUSHF] = { dec_pushf, 1 }, [X86_INS_PUSHFQ] = { dec_pushf, 1 },
    [X86_INS_POPF] = { dec_pushf, 0 }, [X86_INS_POPFQ] = { dec_pushf, 0 },
    [X86_INS_CLC] = { dec_flagop, 0 }, [X86_INS_STC] = { dec_flagop, 1 }, [X86_INS_CMC] = { dec_flagop, 2 },
    [X86_INS_CLD] = { dec_flagop, 3 }, [X86_INS_STD] = { dec_flagop, 4 },
    [X86_INS_NOP] = { dec_simple, S_NOP }, [X86_INS_PAUSE] = { dec_simple, S_NOP },
    [X86_INS_ENDBR64] = { dec_simple, S_NOP }, [X86_INS_ENDBR32] = { dec_simple, S_NOP },
    [X86_INS_LAHF] = { dec_simple, S_LAHF }, [X86_INS_SAHF] = { dec_simple, S_SAHF },
    [X86_INS_LEAVE] = { dec_simple, S_LEAVE }, [X86_INS_SYSCALL] = { dec_simple, S_SYSCALL },
    [X86_INS_HLT] = { dec_simple, S_HLT }, [X86_INS_INT3] = { dec_simple, S_INT3 },
    [X86_INS_JMP] = { dec_jmpcall, 0 }, [X86_INS_CALL] = { dec_jmpcall, 1 }, [X86_INS_RET] = { dec_ret, 0 },
    [X86_INS_JRCXZ] = { dec_jrcxz, 0 }, [X86_INS_JECXZ] = { dec_jrcxz, 1 },
    [X86_INS_LOOP] = { dec_loop, 0 }, [X86_INS_LOOPE] = { dec_loop, 1 }, [X86_INS_LOOPNE] = { dec_loop, 2 },
    CC16(J, dec_jcc), CC16(CMOV, dec_cmov), CC16(SET, dec_setcc),
    /* --- SSE/SSE2 moves and packed integer, cpuid/rdtsc, the integer tail
     * (exec_sse_int.c, exec_sse_mov.c, exec_misc.c) */
#define XINT_DEC(id, name, form) [X86_INS_##id] = { dec_xint, XI_##id },
    XINT_OPS(XINT_DEC)
#if SOFTMMU_SSSE3
    XSSSE3_OPS(XINT_DEC)
    [X86_INS_MOVDDUP] = { dec_movddup, 0 }, [X86_INS_LDDQU] = { dec_xmov, 0 },
#endif
#undef XINT_DEC
    [X86_INS_MOVAPS] = { dec_xmov, 1 }, [X86_INS_MOVAPD] = { dec_xmov, 1 }, [X86_INS_MOVDQA] = { dec_xmov, 1 },
    [X86_INS_MOVUPS] = { dec_xmov, 0 }, [X86_INS_MOVUPD] = { dec_xmov, 0 }, [X86_INS_MOVDQU] = { dec_xmov, 0 },
    [X86_INS_MOVD] = { dec_xmovq, 4 }, [X86_INS_MOVQ] = { dec_xmovq, 8 },
    [X86_INS_MOVSS] = { dec_movs, 4 }, [X86_INS_MOVSD] = { dec_movs, 8 },
    [X86_INS_MOVLPS] = { dec_movhl, 0 }, [X86_INS_MOVLPD] = { dec_movhl, 0 },
    [X86_INS_MOVHPS] = { dec_movhl, 1 }, [X86_INS_MOVHPD] = { dec_movhl, 1 },
    [X86_INS_MOVHLPS] = { dec_movhlps, 0 }, [X86_INS_MOVLHPS] = { dec_movhlps, 1 },
    [X86_INS_MOVMSKPD] = { dec_movmsk, 2 }, [X86_INS_MOVMSKPS] = { dec_movmsk, 4 },
    [X86_INS_PMOVMSKB] = { dec_movmsk, 16 },
    [X86_INS_PINSRW] = { dec_pinsrw, 0 }, [X86_INS_PEXTRW] = { dec_pextrw, 0 },
    [X86_INS_MOVNTDQ] = { dec_movnt, 0 }, [X86_INS_MOVNTPS] = { dec_movnt, 0 },
    [X86_INS_MOVNTPD] = { dec_movnt, 0 }, [X86_INS_MOVNTI] = { dec_movnt, 1 },
    [X86_INS_MASKMOVDQU] = { dec_maskmov, 0 },
    [X86_INS_CPUID] = { dec_misc, MISC_CPUID }, [X86_INS_RDTSC] = { dec_misc, MISC_RDTSC },
    [X86_INS_RDTSCP] = { dec_misc, MISC_RDTSCP }, [X86_INS_LFENCE] = { dec_misc, MISC_NOP },
    [X86_INS_MFENCE] = { dec_misc, MISC_NOP }, [X86_INS_SFENCE] = { dec_misc, MISC_NOP },
    [X86_INS_PREFETCHNTA] = { dec_hint, 0 }, [X86_INS_PREFETCHT0] = { dec_hint, 0 },
    [X86_INS_PREFETCHT1] = { dec_hint, 0 }, [X86_INS_PREFETCHT2] = { dec_hint, 0 },
    [X86_INS_PREFETCHW] = { dec_hint, 0 }, [X86_INS_CLFLUSH] = { dec_hint, 0 },
    [X86_INS_CMPXCHG8B] = { dec_cmpxchg_wide, 0 }, [X86_INS_CMPXCHG16B] = { dec_cmpxchg_wide, 0 },
    [X86_INS_RCL] = { dec_rcx, 0 }, [X86_INS_RCR] = { dec_rcx, 1 }, [X86_INS_ENTER] = { dec_enter, 0 },
    [X86_INS_POPCNT] = { dec_bitcount, BC_POPCNT }, [X86_INS_LZCNT] = { dec_bitcount, BC_LZCNT },
    [X86_INS_TZCNT] = { dec_bitcount, BC_TZCNT },

    /* ---- SSE floating point (exec_sse_fp.c): arg = SSE_ARG(operation, memory operand size) */
#define SSE_ARITH(NAME, sfx, msize) [X86_INS_##NAME##sfx] = { dec_sse_fp, SSE_ARG(FOP_##NAME##sfx, msize) }
#define SSE_ARITH4(NAME) SSE_ARITH(NAME, PS, 16), SSE_ARITH(NAME, PD, 16), SSE_ARITH(NAME, SS, 4), SSE_ARITH(NAME, SD, 8)
#define SSE_CMP(sfx, msize)                                                                    \
    [X86_INS_CMP##sfx] = { dec_sse_fp, SSE_ARG(FOP_CMP##sfx, msize) },                         \
    [X86_INS_CMPEQ##sfx] = { dec_sse_fp, SSE_ARG(FOP_CMP##sfx, msize) },                       \
    [X86_INS_CMPLT##sfx] = { dec_sse_fp, SSE_ARG(FOP_CMP##sfx##1, msize) },                    \
    [X86_INS_CMPLE##sfx] = { dec_sse_fp, SSE_ARG(FOP_CMP##sfx##2, msize) },                    \
    [X86_INS_CMPUNORD##sfx] = { dec_sse_fp, SSE_ARG(FOP_CMP##sfx##3, msize) },                 \
    [X86_INS_CMPNEQ##sfx] = { dec_sse_fp, SSE_ARG(FOP_CMP##sfx##4, msize) },                   \
    [X86_INS_CMPNLT##sfx] = { dec_sse_fp, SSE_ARG(FOP_CMP##sfx##5, msize) },                   \
    [X86_INS_CMPNLE##sfx] = { dec_sse_fp, SSE_ARG(FOP_CMP##sfx##6, msize) },                   \
    [X86_INS_CMPORD##sfx] = { dec_sse_fp, SSE_ARG(FOP_CMP##sfx##7, msize) }
    SSE_ARITH4(ADD), SSE_ARITH4(SUB), SSE_ARITH4(MUL), SSE_ARITH4(DIV), SSE_ARITH4(MIN), SSE_ARITH4(MAX),
    SSE_ARITH4(SQRT), SSE_CMP(PS, 16), SSE_CMP(PD, 16), SSE_CMP(SS, 4), SSE_CMP(SD, 8),
    SSE_ARITH(RCP, PS, 16), SSE_ARITH(RCP, SS, 4), SSE_ARITH(RSQRT, PS, 16), SSE_ARITH(RSQRT, SS, 4),
    [X86_INS_CVTSS2SD] = { dec_sse_fp, SSE_ARG(FOP_CVTSS2SD, 4) },
    [X86_INS_CVTSD2SS] = { dec_sse_fp, SSE_ARG(FOP_CVTSD2SS, 8) },
    [X86_INS_CVTPS2PD] = { dec_sse_fp, SSE_ARG(FOP_CVTPS2PD, 8) },
    [X86_INS_CVTPD2PS] = { dec_sse_fp, SSE_ARG(FOP_CVTPD2PS, 16) },
    [X86_INS_CVTDQ2PS] = { dec_sse_fp, SSE_ARG(FOP_CVTDQ2PS, 16) },
    [X86_INS_CVTPS2DQ] = { dec_sse_fp, SSE_ARG(FOP_CVTPS2DQ, 16) },
    [X86_INS_CVTTPS2DQ] = { dec_sse_fp, SSE_ARG(FOP_CVTTPS2DQ, 16) },
    [X86_INS_CVTDQ2PD] = { dec_sse_fp, SSE_ARG(FOP_CVTDQ2PD, 8) },
    [X86_INS_CVTPD2DQ] = { dec_sse_fp, SSE_ARG(FOP_CVTPD2DQ, 16) },
    [X86_INS_CVTTPD2DQ] = { dec_sse_fp, SSE_ARG(FOP_CVTTPD2DQ, 16) },
    [X86_INS_CVTSI2SS] = { dec_sse_cvtsi, FOP_CVTSI2SS32 }, [X86_INS_CVTSI2SD] = { dec_sse_cvtsi, FOP_CVTSI2SD32 },
    [X86_INS_CVTSS2SI] = { dec_sse_cvt2si, SSE_ARG(FOP_CVTSS2SI32, 4) },
    [X86_INS_CVTSD2SI] = { dec_sse_cvt2si, SSE_ARG(FOP_CVTSD2SI32, 8) },
    [X86_INS_CVTTSS2SI] = { dec_sse_cvt2si, SSE_ARG(FOP_CVTTSS2SI32, 4) },
    [X86_INS_CVTTSD2SI] = { dec_sse_cvt2si, SSE_ARG(FOP_CVTTSD2SI32, 8) },
    [X86_INS_COMISS] = { dec_sse_comis, SSE_ARG(FOP_COMISS, 4) }, [X86_INS_COMISD] = { dec_sse_comis, SSE_ARG(FOP_COMISD, 8) },
    [X86_INS_UCOMISS] = { dec_sse_comis, SSE_ARG(FOP_UCOMISS, 4) },
    [X86_INS_UCOMISD] = { dec_sse_comis, SSE_ARG(FOP_UCOMISD, 8) },
    [X86_INS_LDMXCSR] = { dec_sse_mxcsr, 0 }, [X86_INS_STMXCSR] = { dec_sse_mxcsr, 1 },
#undef SSE_ARITH
#undef SSE_ARITH4
#undef SSE_CMP
    /* x87: decoded by their escape and ModRM bytes (exec_x87.c) */
    [X86_INS_F2XM1] = { dec_x87, 0 }, [X86_INS_FABS] = { dec_x87, 0 }, [X86_INS_FADD] = { dec_x87, 0 },
    [X86_INS_FADDP] = { dec_x87, 0 }, [X86_INS_FBLD] = { dec_x87, 0 }, [X86_INS_FBSTP] = { dec_x87, 0 },
    [X86_INS_FCHS] = { dec_x87, 0 }, [X86_INS_FCMOVB] = { dec_x87, 0 }, [X86_INS_FCMOVBE] = { dec_x87, 0 },
    [X86_INS_FCMOVE] = { dec_x87, 0 }, [X86_INS_FCMOVNB] = { dec_x87, 0 }, [X86_INS_FCMOVNBE] = { dec_x87, 0 },
    [X86_INS_FCMOVNE] = { dec_x87, 0 }, [X86_INS_FCMOVNU] = { dec_x87, 0 }, [X86_INS_FCMOVU] = { dec_x87, 0 },
    [X86_INS_FCOM] = { dec_x87, 0 }, [X86_INS_FCOMI] = { dec_x87, 0 }, [X86_INS_FCOMIP] = { dec_x87, 0 },
    [X86_INS_FCOMP] = { dec_x87, 0 }, [X86_INS_FCOMPP] = { dec_x87, 0 }, [X86_INS_FCOS] = { dec_x87, 0 },
    [X86_INS_FDECSTP] = { dec_x87, 0 }, [X86_INS_FDIV] = { dec_x87, 0 }, [X86_INS_FDIVP] = { dec_x87, 0 },
    [X86_INS_FDIVR] = { dec_x87, 0 }, [X86_INS_FDIVRP] = { dec_x87, 0 }, [X86_INS_FFREE] = { dec_x87, 0 },
    [X86_INS_FFREEP] = { dec_x87, 0 }, [X86_INS_FIADD] = { dec_x87, 0 }, [X86_INS_FICOM] = { dec_x87, 0 },
    [X86_INS_FICOMP] = { dec_x87, 0 }, [X86_INS_FIDIV] = { dec_x87, 0 }, [X86_INS_FIDIVR] = { dec_x87, 0 },
    [X86_INS_FILD] = { dec_x87, 0 }, [X86_INS_FIMUL] = { dec_x87, 0 }, [X86_INS_FINCSTP] = { dec_x87, 0 },
    [X86_INS_FIST] = { dec_x87, 0 }, [X86_INS_FISTP] = { dec_x87, 0 }, [X86_INS_FISTTP] = { dec_x87, 0 },
    [X86_INS_FISUB] = { dec_x87, 0 }, [X86_INS_FISUBR] = { dec_x87, 0 }, [X86_INS_FLD] = { dec_x87, 0 },
    [X86_INS_FLD1] = { dec_x87, 0 }, [X86_INS_FLDCW] = { dec_x87, 0 }, [X86_INS_FLDENV] = { dec_x87, 0 },
    [X86_INS_FLDL2E] = { dec_x87, 0 }, [X86_INS_FLDL2T] = { dec_x87, 0 }, [X86_INS_FLDLG2] = { dec_x87, 0 },
    [X86_INS_FLDLN2] = { dec_x87, 0 }, [X86_INS_FLDPI] = { dec_x87, 0 }, [X86_INS_FLDZ] = { dec_x87, 0 },
    [X86_INS_FMUL] = { dec_x87, 0 }, [X86_INS_FMULP] = { dec_x87, 0 }, [X86_INS_FNCLEX] = { dec_x87, 0 },
    [X86_INS_FNINIT] = { dec_x87, 0 }, [X86_INS_FNOP] = { dec_x87, 0 }, [X86_INS_FNSAVE] = { dec_x87, 0 },
    [X86_INS_FNSTCW] = { dec_x87, 0 }, [X86_INS_FNSTENV] = { dec_x87, 0 }, [X86_INS_FNSTSW] = { dec_x87, 0 },
    [X86_INS_FPATAN] = { dec_x87, 0 }, [X86_INS_FPREM] = { dec_x87, 0 }, [X86_INS_FPREM1] = { dec_x87, 0 },
    [X86_INS_FPTAN] = { dec_x87, 0 }, [X86_INS_FRNDINT] = { dec_x87, 0 }, [X86_INS_FRSTOR] = { dec_x87, 0 },
    [X86_INS_FSCALE] = { dec_x87, 0 }, [X86_INS_FSIN] = { dec_x87, 0 }, [X86_INS_FSINCOS] = { dec_x87, 0 },
    [X86_INS_FSQRT] = { dec_x87, 0 }, [X86_INS_FST] = { dec_x87, 0 }, [X86_INS_FSTP] = { dec_x87, 0 },
    [X86_INS_FSUB] = { dec_x87, 0 }, [X86_INS_FSUBP] = { dec_x87, 0 }, [X86_INS_FSUBR] = { dec_x87, 0 },
    [X86_INS_FSUBRP] = { dec_x87, 0 }, [X86_INS_FTST] = { dec_x87, 0 }, [X86_INS_FUCOM] = { dec_x87, 0 },
    [X86_INS_FUCOMI] = { dec_x87, 0 }, [X86_INS_FUCOMIP] = { dec_x87, 0 }, [X86_INS_FUCOMP] = { dec_x87, 0 },
    [X86_INS_FUCOMPP] = { dec_x87, 0 }, [X86_INS_FXAM] = { dec_x87, 0 }, [X86_INS_FXCH] = { dec_x87, 0 },
    [X86_INS_FXTRACT] = { dec_x87, 0 }, [X86_INS_FYL2X] = { dec_x87, 0 }, [X86_INS_FYL2XP1] = { dec_x87, 0 },
    [X86_INS_WAIT] = { dec_x87, 0 }, [X86_INS_FXSAVE] = { dec_fxsave, 0 }, [X86_INS_FXSAVE64] = { dec_fxsave, 0 },
    [X86_INS_FXRSTOR] = { dec_fxsave, 1 }, [X86_INS_FXRSTOR64] = { dec_fxsave, 1 },
    /* reserved aliases and 8087/287 leftovers the hardware still runs (fstp1, fneni, fndisi, fnsetpm) */
    [X86_INS_FSTPNCE] = { dec_x87, 0 }, [X86_INS_FENI8087_NOP] = { dec_x87, 0 },
    [X86_INS_FDISI8087_NOP] = { dec_x87, 0 }, [X86_INS_FSETPM] = { dec_x87, 0 },
};

/* lock is only valid on these, with a memory destination (else #UD) */
static bool lock_ok(const view *v)
{
    switch (v->ci->id) {
    case X86_INS_ADD: case X86_INS_ADC: case X86_INS_AND: case X86_INS_BTC: case X86_INS_BTR:
    case X86_INS_BTS: case X86_INS_CMPXCHG: case X86_INS_CMPXCHG8B: case X86_INS_CMPXCHG16B: case X86_INS_DEC: case X86_INS_INC: case X86_INS_NEG:
    case X86_INS_NOT: case X86_INS_OR: case X86_INS_SBB: case X86_INS_SUB: case X86_INS_XADD:
    case X86_INS_XCHG: case X86_INS_XOR:
        return v->n >= 1 && v->op[0].kind == OP_MEM;
    default:
        return false;
    }
}

/* Fills d from Capstone's instruction. false: not in the subset. */
static bool translate(const cs_insn *ci, dinsn *d, bool *ends)
{
    view v = { .ci = ci, .x = &ci->detail->x86 };
    *d = (dinsn){ .addr = ci->address, .len = (uint8_t)ci->size, .base = SLOT_ZERO,
                  .index = SLOT_ZERO, .seg = SLOT_ZERO };
    bool crosses = ((ci->address ^ (ci->address + ci->size - 1)) & ~(MMU_PAGE_SIZE - 1)) != 0;
    d->page = crosses ? 1 : ci->address & ~(MMU_PAGE_SIZE - 1);
    if (is_string(v.x)) {
        d->fn = dec_string(&v, d);
    } else {
        const decoder *dc = ci->id < X86_INS_ENDING ? &DECODERS[ci->id] : NULL;
        if (!dc || !dc->fn || !read_ops(&v, d))
            return false;
        if (v.x->prefix[0] == 0xf0 && !lock_ok(&v))
            return false;
        set_regs(&v, d);
        d->fn = dc->fn(&v, d, dc->arg);
    }
    *ends = v.ends || crosses;
    return d->fn != NULL;
}

/* ---------------------------------------------------------------- blocks */

mmu_err dec_open(cpu_t *c)
{
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &c->cs) != CS_ERR_OK)
        return MMU_ERR_NOMEM;
    cs_option(c->cs, CS_OPT_DETAIL, CS_OPT_ON);
    c->ci = cs_malloc(c->cs);
    if (!c->ci) {
        cs_close(&c->cs);
        return MMU_ERR_NOMEM;
    }
    return MMU_OK;
}

void dec_close(cpu_t *c)
{
    if (c->ci)
        cs_free(c->ci, 1);
    if (c->cs)
        cs_close(&c->cs);
}

static bool disasm(cpu_t *c, const uint8_t *buf, size_t n, uint64_t addr)
{
    const uint8_t *p = buf;
    return cs_disasm_iter(c->cs, &p, &n, &addr, c->ci);
}

/* An instruction that exits with CPU_EXIT_INSN_INVALID when reached. */
static void invalid_at(dinsn *d, uint64_t addr, unsigned len)
{
    *d = (dinsn){ .fn = exec_invalid, .addr = addr, .len = (uint8_t)len, .base = SLOT_ZERO,
                  .index = SLOT_ZERO, .seg = SLOT_ZERO };
    d->page = ((addr ^ (addr + len - 1)) & ~(MMU_PAGE_SIZE - 1)) ? 1 : addr & ~(MMU_PAGE_SIZE - 1);
}

/* The first instruction of a block: fetched for real. Only the bytes up to
 * the page end at first; all 15 when Capstone needs more (which may fault,
 * legitimately, on the next page). false: fetch fault, recorded. */
static bool first_insn(cpu_t *c, uint64_t addr, dinsn *d, bool *ends)
{
    uint8_t buf[MAX_INSN];
    size_t avail = MMU_PAGE_SIZE - (addr & (MMU_PAGE_SIZE - 1));
    avail = avail < MAX_INSN ? avail : MAX_INSN;
    mmu_err err = mmu_fetch(c->mmu, addr, buf, avail);
    if (err)
        return exec_fetch_fault(c, addr, (unsigned)avail, err), false;
    bool ok = disasm(c, buf, avail, addr);
    if (!ok && avail < MAX_INSN) {
        err = mmu_fetch(c->mmu, addr, buf, MAX_INSN);
        if (err)
            return exec_fetch_fault(c, addr, MAX_INSN, err), false;
        ok = disasm(c, buf, MAX_INSN, addr);
    }
    *ends = true;
    if (!ok)
        invalid_at(d, addr, 1);
    else if (!translate(c->ci, d, ends))
        invalid_at(d, addr, c->ci->size);
    if (d->fn == exec_invalid)
        *ends = true;
    return true;
}

/* Decodes on from pos, up to the page end, into c->tmp[n..]; stops before
 * anything undecodable or unsupported (it starts a block of its own then). */
static unsigned read_ahead(cpu_t *c, uint64_t pos, unsigned n)
{
    uint8_t buf[BLOCK_MAX * 4];
    while (n < BLOCK_MAX) {
        size_t len = MMU_PAGE_SIZE - (pos & (MMU_PAGE_SIZE - 1));
        len = len < sizeof buf ? len : sizeof buf;
        if ((pos & (MMU_PAGE_SIZE - 1)) == 0 || mmu_read(c->mmu, pos, buf, len))
            return n;
        const uint8_t *p = buf;
        size_t left = len;
        uint64_t at = pos;
        bool ends = false;
        /* keep MAX_INSN bytes in hand unless the page ends in this buffer */
        while (n < BLOCK_MAX && (left >= MAX_INSN || at + left == ((pos | (MMU_PAGE_SIZE - 1)) + 1))) {
            if (!cs_disasm_iter(c->cs, &p, &left, &at, c->ci) || !translate(c->ci, &c->tmp[n], &ends))
                return n;
            n++;
            if (ends)
                return n;
        }
        if (at == pos)
            return n;
        pos = at;
    }
    return n;
}

/* a stub standing for the not-yet-decoded successor at addr; its odd page
 * makes the run loop resolve it before anything else */
static void stub(dinsn *s, uint64_t addr, dinsn **link)
{
    *s = (dinsn){ .fn = exec_stub, .addr = addr, .page = 1, .len = 0 };
    s->link = link;
    *link = s;
}

dinsn *dec_block(cpu_t *c, uint64_t addr, mmu_err *err)
{
    bool ends;
    *err = MMU_OK;
    if (!first_insn(c, addr, &c->tmp[0], &ends))
        return NULL;
    unsigned n = ends ? 1 : read_ahead(c, addr + c->tmp[0].len, 1);
    dinsn *b = dc_alloc(&c->dc, n + 2);
    if (!b) {
        *err = MMU_ERR_NOMEM;
        return NULL;
    }
    memcpy(b, c->tmp, n * sizeof *b);
    for (unsigned i = 0; i + 1 < n; i++)
        b[i].next = &b[i + 1];
    dinsn *last = &b[n - 1];
    stub(&b[n], last->addr + last->len, &last->next);
    if (last->direct) /* the branch target is a stub too */
        stub(&b[n + 1], last->imm, &last->taken);
    *err = dc_insert(&c->dc, addr, b);
    return *err ? NULL : b;
}
