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
#include "cpu_int.h"

#include "exec.h"

#define PAGE 0x1000ull
#define MAX_INSN 15

/* --------------------------------------------------------------- registers */

typedef struct reginfo {
    uint8_t ok, slot, shift, a32; /* a32: a 32-bit register used as an address */
} reginfo;

#define GPR(r64, r32, r16, r8, n)                                                              \
    [X86_REG_##r64] = { 1, n, 0, 0 }, [X86_REG_##r32] = { 1, n, 0, 1 },                        \
    [X86_REG_##r16] = { 1, n, 0, 0 }, [X86_REG_##r8] = { 1, n, 0, 0 }

static const reginfo REGS[X86_REG_ENDING] = {
    GPR(RAX, EAX, AX, AL, 0), GPR(RCX, ECX, CX, CL, 1), GPR(RDX, EDX, DX, DL, 2),
    GPR(RBX, EBX, BX, BL, 3), GPR(RSP, ESP, SP, SPL, 4), GPR(RBP, EBP, BP, BPL, 5),
    GPR(RSI, ESI, SI, SIL, 6), GPR(RDI, EDI, DI, DIL, 7), GPR(R8, R8D, R8W, R8B, 8),
    GPR(R9, R9D, R9W, R9B, 9), GPR(R10, R10D, R10W, R10B, 10), GPR(R11, R11D, R11W, R11B, 11),
    GPR(R12, R12D, R12W, R12B, 12), GPR(R13, R13D, R13W, R13B, 13), GPR(R14, R14D, R14W, R14B, 14),
    GPR(R15, R15D, R15W, R15B, 15),
    [X86_REG_AH] = { 1, 0, 8, 0 }, [X86_REG_CH] = { 1, 1, 8, 0 },
    [X86_REG_DH] = { 1, 2, 8, 0 }, [X86_REG_BH] = { 1, 3, 8, 0 },
};

/* --------------------------------------------------------------- operands */

enum { OP_NONE, OP_REG, OP_IMM, OP_MEM };

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

static unsigned size_idx(unsigned size)
{
    return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

static bool size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/* memory operand -> d; false for what we do not model */
static bool set_mem(dinsn *d, const cs_x86 *x, const cs_x86_op *o)
{
    const x86_op_mem *m = &o->mem;
    d->disp = m->disp;
    d->scale = m->scale == 8 ? 3 : m->scale == 4 ? 2 : m->scale == 2 ? 1 : 0;
    d->a32 = x->addr_size == 4;
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
        if (o->type == X86_OP_REG) {
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
            d->r1 = v->op[i].slot, d->s1 = v->op[i].shift;
        else if (k == 1)
            d->r2 = v->op[i].slot, d->s2 = v->op[i].shift;
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

static uint64_t imm_of(const view *v, unsigned i, unsigned size)
{
    return v->op[i].imm & MASK(size * 8);
}

/* ---------------------------------------------------------- families */

static exec_fn dec_alu(const view *v, dinsn *d, unsigned op)
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
static exec_fn dec_unary(const view *v, dinsn *d, unsigned op)
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

static exec_fn dec_shift(const view *v, dinsn *d, unsigned op)
{
    unsigned size = v->op[0].size;
    if (v->n != 2 || !size_ok(size) || v->op[0].kind == OP_IMM)
        return NULL;
    bool mem = v->op[0].kind == OP_MEM, cl = v->op[1].kind == OP_REG;
    if (cl && v->op[1].reg != X86_REG_CL)
        return NULL;
    if (!cl && v->op[1].kind != OP_IMM)
        return NULL;
    d->imm = v->op[1].imm & count_mask_of(size);
    d->size = size;
    return exec_shift[op][mem ? (cl ? SF_MC : SF_MI) : (cl ? SF_RC : SF_RI)][size_idx(size)];
}

static exec_fn dec_shd(const view *v, dinsn *d, unsigned right)
{
    unsigned size = v->op[0].size;
    if (v->n != 3 || size < 2 || !size_ok(size) || v->op[1].kind != OP_REG)
        return NULL;
    bool mem = v->op[0].kind == OP_MEM, cl = v->op[2].kind == OP_REG;
    if ((cl && v->op[2].reg != X86_REG_CL) || (!cl && v->op[2].kind != OP_IMM))
        return NULL;
    d->imm = v->op[2].imm & count_mask_of(size);
    d->size = size;
    return exec_shd[right][mem ? (cl ? SF_MC : SF_MI) : (cl ? SF_RC : SF_RI)][size_idx(size) - 1];
}

/* movzx movsx movsxd */
static exec_fn dec_ext(const view *v, dinsn *d, unsigned sg)
{
    unsigned dst = v->op[0].size, src = v->op[1].size;
    if (v->n != 2 || v->op[0].kind != OP_REG || v->op[1].kind == OP_IMM)
        return NULL;
    if (dst < 2 || !size_ok(dst) || src > 4 || !size_ok(src) || src > dst)
        return NULL;
    d->size = dst;
    return exec_ext[sg][v->op[1].kind == OP_MEM][size_idx(src)][size_idx(dst) - 1];
}

/* reg, r/m with sizes 2/4/8: index 0 for reg source, 1 for memory */
static int reg_rm(const view *v)
{
    if (v->n != 2 || v->op[0].kind != OP_REG || v->op[1].kind == OP_IMM)
        return -1;
    unsigned size = v->op[0].size;
    if (size < 2 || !size_ok(size))
        return -1;
    return v->op[1].kind == OP_MEM;
}

static exec_fn dec_imul(const view *v, dinsn *d)
{
    if (v->n == 1)
        return dec_unary(v, d, UN_IMUL);
    unsigned size = v->op[0].size;
    if (v->n == 2) {
        int m = reg_rm(v);
        d->size = size;
        return m < 0 ? NULL : exec_imul2[m][size_idx(size) - 1];
    }
    if (v->n != 3 || v->op[0].kind != OP_REG || v->op[2].kind != OP_IMM || size < 2 || !size_ok(size))
        return NULL;
    if (v->op[1].kind == OP_IMM)
        return NULL;
    d->imm = imm_of(v, 2, size);
    d->size = size;
    return exec_imul2[v->op[1].kind == OP_MEM ? 3 : 2][size_idx(size) - 1];
}

static exec_fn dec_bt(const view *v, dinsn *d, unsigned op)
{
    unsigned size = v->op[0].size;
    if (v->n != 2 || size < 2 || !size_ok(size) || v->op[0].kind == OP_IMM || v->op[1].kind == OP_MEM)
        return NULL;
    bool mem = v->op[0].kind == OP_MEM, imm = v->op[1].kind == OP_IMM;
    d->imm = v->op[1].imm;
    d->size = size;
    return exec_bt[op][(mem ? 2 : 0) + imm][size_idx(size) - 1];
}

/* xchg cmpxchg xadd: reg, reg or mem, reg (either order for xchg) */
static exec_fn dec_xrm(const view *v, dinsn *d, const exec_fn tab[2][4])
{
    int f = form2(v);
    unsigned size = v->op[0].size;
    if (!size_ok(size))
        return NULL;
    d->size = size;
    if (f == F_RR)
        return tab[0][size_idx(size)];
    if (f == F_MR || (f == F_RM && tab == exec_xchg))
        return tab[1][size_idx(size)];
    return NULL;
}

/* ---------------------------------------------------------- control flow */

enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A, CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };

static int jcc_cc(unsigned id)
{
    switch (id) {
    case X86_INS_JO: return CC_O;
    case X86_INS_JNO: return CC_NO;
    case X86_INS_JB: return CC_B;
    case X86_INS_JAE: return CC_AE;
    case X86_INS_JE: return CC_E;
    case X86_INS_JNE: return CC_NE;
    case X86_INS_JBE: return CC_BE;
    case X86_INS_JA: return CC_A;
    case X86_INS_JS: return CC_S;
    case X86_INS_JNS: return CC_NS;
    case X86_INS_JP: return CC_P;
    case X86_INS_JNP: return CC_NP;
    case X86_INS_JL: return CC_L;
    case X86_INS_JGE: return CC_GE;
    case X86_INS_JLE: return CC_LE;
    case X86_INS_JG: return CC_G;
    default: return -1;
    }
}

static int cmov_cc(unsigned id)
{
    switch (id) {
    case X86_INS_CMOVO: return CC_O;
    case X86_INS_CMOVNO: return CC_NO;
    case X86_INS_CMOVB: return CC_B;
    case X86_INS_CMOVAE: return CC_AE;
    case X86_INS_CMOVE: return CC_E;
    case X86_INS_CMOVNE: return CC_NE;
    case X86_INS_CMOVBE: return CC_BE;
    case X86_INS_CMOVA: return CC_A;
    case X86_INS_CMOVS: return CC_S;
    case X86_INS_CMOVNS: return CC_NS;
    case X86_INS_CMOVP: return CC_P;
    case X86_INS_CMOVNP: return CC_NP;
    case X86_INS_CMOVL: return CC_L;
    case X86_INS_CMOVGE: return CC_GE;
    case X86_INS_CMOVLE: return CC_LE;
    case X86_INS_CMOVG: return CC_G;
    default: return -1;
    }
}

static int set_cc(unsigned id)
{
    switch (id) {
    case X86_INS_SETO: return CC_O;
    case X86_INS_SETNO: return CC_NO;
    case X86_INS_SETB: return CC_B;
    case X86_INS_SETAE: return CC_AE;
    case X86_INS_SETE: return CC_E;
    case X86_INS_SETNE: return CC_NE;
    case X86_INS_SETBE: return CC_BE;
    case X86_INS_SETA: return CC_A;
    case X86_INS_SETS: return CC_S;
    case X86_INS_SETNS: return CC_NS;
    case X86_INS_SETP: return CC_P;
    case X86_INS_SETNP: return CC_NP;
    case X86_INS_SETL: return CC_L;
    case X86_INS_SETGE: return CC_GE;
    case X86_INS_SETLE: return CC_LE;
    case X86_INS_SETG: return CC_G;
    default: return -1;
    }
}

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

/* jmp / call: rel, reg or mem (64-bit only) */
static exec_fn dec_jmpcall(view *v, dinsn *d, bool call)
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

static exec_fn dec_stack(const view *v, dinsn *d, bool push)
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

/* movs stos lods cmps scas, recognised by opcode (Capstone shares ids with SSE) */
static exec_fn dec_string(const view *v, dinsn *d)
{
    const cs_x86 *x = v->x;
    uint8_t opc = x->opcode[0];
    if (x->addr_size != 8)
        return NULL;
    static const uint8_t kind[] = { STR_MOVS, STR_MOVS, STR_CMPS, STR_CMPS, 0, 0,
                                    STR_STOS, STR_STOS, STR_LODS, STR_LODS, STR_SCAS, STR_SCAS };
    unsigned op = kind[opc - 0xa4], size = 0;
    d->seg = SLOT_ZERO;
    for (unsigned i = 0; i < x->op_count; i++) {
        const cs_x86_op *o = &x->operands[i];
        size = o->size > size ? o->size : size;
        if (o->type == X86_OP_MEM && o->mem.base == X86_REG_RSI)
            d->seg = o->mem.segment == X86_REG_FS ? CPU_FS_BASE : o->mem.segment == X86_REG_GS ? CPU_GS_BASE : SLOT_ZERO;
    }
    if (!size_ok(size))
        return NULL;
    unsigned rep = rep_prefix(v->ci);
    if (rep == REP_REPNE && op != STR_CMPS && op != STR_SCAS)
        rep = REP_REP; /* f2 on movs/stos/lods repeats like f3 */
    d->size = size;
    return exec_string[op][rep][size_idx(size)];
}

/* --------------------------------------------------------------- dispatch */

static exec_fn dec_misc(view *v, dinsn *d);

static exec_fn dec_main(view *v, dinsn *d)
{
    switch (v->ci->id) {
    case X86_INS_ADD: return dec_alu(v, d, ALU_ADD);
    case X86_INS_OR: return dec_alu(v, d, ALU_OR);
    case X86_INS_ADC: return dec_alu(v, d, ALU_ADC);
    case X86_INS_SBB: return dec_alu(v, d, ALU_SBB);
    case X86_INS_AND: return dec_alu(v, d, ALU_AND);
    case X86_INS_SUB: return dec_alu(v, d, ALU_SUB);
    case X86_INS_XOR: return dec_alu(v, d, ALU_XOR);
    case X86_INS_CMP: return dec_alu(v, d, ALU_CMP);
    case X86_INS_TEST: return dec_alu(v, d, ALU_TEST);
    case X86_INS_MOV:
    case X86_INS_MOVABS: return dec_alu(v, d, ALU_N);
    case X86_INS_INC: return dec_unary(v, d, UN_INC);
    case X86_INS_DEC: return dec_unary(v, d, UN_DEC);
    case X86_INS_NOT: return dec_unary(v, d, UN_NOT);
    case X86_INS_NEG: return dec_unary(v, d, UN_NEG);
    case X86_INS_MUL: return dec_unary(v, d, UN_MUL);
    case X86_INS_DIV: return dec_unary(v, d, UN_DIV);
    case X86_INS_IDIV: return dec_unary(v, d, UN_IDIV);
    case X86_INS_IMUL: return dec_imul(v, d);
    case X86_INS_ROL: return dec_shift(v, d, SH_ROL);
    case X86_INS_ROR: return dec_shift(v, d, SH_ROR);
    case X86_INS_SHL:
    case X86_INS_SAL: return dec_shift(v, d, SH_SHL);
    case X86_INS_SHR: return dec_shift(v, d, SH_SHR);
    case X86_INS_SAR: return dec_shift(v, d, SH_SAR);
    case X86_INS_SHLD: return dec_shd(v, d, 0);
    case X86_INS_SHRD: return dec_shd(v, d, 1);
    case X86_INS_MOVZX: return dec_ext(v, d, 0);
    case X86_INS_MOVSX:
    case X86_INS_MOVSXD: return dec_ext(v, d, 1);
    case X86_INS_BT: return dec_bt(v, d, BT_BT);
    case X86_INS_BTS: return dec_bt(v, d, BT_BTS);
    case X86_INS_BTR: return dec_bt(v, d, BT_BTR);
    case X86_INS_BTC: return dec_bt(v, d, BT_BTC);
    case X86_INS_XCHG: return dec_xrm(v, d, exec_xchg);
    case X86_INS_CMPXCHG: return dec_xrm(v, d, exec_cmpxchg);
    case X86_INS_XADD: return dec_xrm(v, d, exec_xadd);
    default: return dec_misc(v, d);
    }
}

static exec_fn dec_cc(view *v, dinsn *d)
{
    unsigned id = v->ci->id;
    int cc;
    if ((cc = jcc_cc(id)) >= 0)
        return direct(v, d) ? exec_jcc[cc] : NULL;
    if ((cc = cmov_cc(id)) >= 0) {
        int m = reg_rm(v);
        d->size = v->op[0].size;
        return m < 0 ? NULL : exec_cmov[cc][m][size_idx(d->size) - 1];
    }
    if ((cc = set_cc(id)) >= 0) {
        if (v->n != 1 || v->op[0].size != 1 || v->op[0].kind == OP_IMM)
            return NULL;
        return exec_setcc[cc][v->op[0].kind == OP_MEM];
    }
    return NULL;
}

/* the rest: no operand size choice, or none at all */
static exec_fn dec_misc(view *v, dinsn *d)
{
    const cs_x86 *x = v->x;
    bool o16 = x->prefix[2] == 0x66, w = (x->rex & 8) != 0;
    switch (v->ci->id) {
    case X86_INS_LEA: {
        unsigned size = v->op[0].size;
        if (v->n != 2 || v->op[0].kind != OP_REG || v->op[1].kind != OP_MEM || size < 2 || !size_ok(size))
            return NULL;
        return exec_lea[size_idx(size) - 1];
    }
    case X86_INS_PUSH: return dec_stack(v, d, true);
    case X86_INS_POP: return dec_stack(v, d, false);
    case X86_INS_JMP: return dec_jmpcall(v, d, false);
    case X86_INS_CALL: return dec_jmpcall(v, d, true);
    case X86_INS_RET:
        if (o16 || (v->n == 1 && v->op[0].kind != OP_IMM) || v->n > 1)
            return NULL;
        d->imm = v->n ? v->op[0].imm & 0xffff : 0;
        v->ends = true;
        return exec_ret;
    case X86_INS_JRCXZ:
    case X86_INS_JECXZ:
        d->x = v->ci->id == X86_INS_JECXZ;
        return direct(v, d) ? exec_jrcxz : NULL;
    case X86_INS_LOOP:
    case X86_INS_LOOPE:
    case X86_INS_LOOPNE:
        d->x = v->ci->id == X86_INS_LOOP ? 0 : v->ci->id == X86_INS_LOOPE ? 1 : 2;
        d->a32 = x->addr_size == 4;
        return direct(v, d) ? exec_loop : NULL;
    case X86_INS_LEAVE: return o16 ? NULL : exec_leave;
    case X86_INS_NOP:
    case X86_INS_PAUSE:
    case X86_INS_ENDBR64:
    case X86_INS_ENDBR32: return exec_nop;
    case X86_INS_BSWAP:
        if (v->n != 1 || v->op[0].kind != OP_REG || v->op[0].size < 4)
            return NULL;
        return exec_bswap[v->op[0].size == 8];
    case X86_INS_BSF:
    case X86_INS_BSR: {
        int m = reg_rm(v);
        return m < 0 ? NULL : exec_bsx[v->ci->id == X86_INS_BSR][m][size_idx(v->op[0].size) - 1];
    }
    case X86_INS_CBW:
    case X86_INS_CWDE:
    case X86_INS_CDQE:
        d->size = w ? 8 : o16 ? 2 : 4;
        return exec_cext;
    case X86_INS_CWD:
    case X86_INS_CDQ:
    case X86_INS_CQO:
        d->size = w ? 8 : o16 ? 2 : 4;
        return exec_cdq;
    case X86_INS_CLC: d->x = 0; return exec_flagop;
    case X86_INS_STC: d->x = 1; return exec_flagop;
    case X86_INS_CMC: d->x = 2; return exec_flagop;
    case X86_INS_CLD: d->x = 3; return exec_flagop;
    case X86_INS_STD: d->x = 4; return exec_flagop;
    case X86_INS_LAHF: return exec_lahf;
    case X86_INS_SAHF: return exec_sahf;
    case X86_INS_PUSHF:
    case X86_INS_PUSHFQ: d->size = o16 ? 2 : 8; return exec_pushf;
    case X86_INS_POPF:
    case X86_INS_POPFQ: d->size = o16 ? 2 : 8; return exec_popf;
    case X86_INS_SYSCALL: v->ends = true; return exec_syscall;
    case X86_INS_HLT: v->ends = true; return exec_hlt;
    case X86_INS_INT3: v->ends = true; return exec_int3;
    default: return dec_cc(v, d);
    }
}

/* Fills d from Capstone's instruction. false: not in the subset. */
static bool translate(const cs_insn *ci, dinsn *d, bool *ends)
{
    view v = { .ci = ci, .x = &ci->detail->x86 };
    *d = (dinsn){ .addr = ci->address, .len = (uint8_t)ci->size, .base = SLOT_ZERO,
                  .index = SLOT_ZERO, .seg = SLOT_ZERO };
    bool crosses = ((ci->address ^ (ci->address + ci->size - 1)) & ~(PAGE - 1)) != 0;
    d->page = crosses ? 1 : ci->address & ~(PAGE - 1);
    uint8_t opc = v.x->opcode[0];
    bool string = !v.x->opcode[1] && opc >= 0xa4 && opc <= 0xaf && opc != 0xa8 && opc != 0xa9;
    if (string) {
        d->fn = dec_string(&v, d);
    } else {
        if (!read_ops(&v, d))
            return false;
        set_regs(&v, d);
        d->fn = dec_main(&v, d);
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
    d->page = ((addr ^ (addr + len - 1)) & ~(PAGE - 1)) ? 1 : addr & ~(PAGE - 1);
}

/* The first instruction of a block: fetched for real. Only the bytes up to
 * the page end at first; all 15 when Capstone needs more (which may fault,
 * legitimately, on the next page). false: fetch fault, recorded. */
static bool first_insn(cpu_t *c, uint64_t addr, dinsn *d, bool *ends)
{
    uint8_t buf[MAX_INSN];
    size_t avail = PAGE - (addr & (PAGE - 1));
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
        size_t len = PAGE - (pos & (PAGE - 1));
        len = len < sizeof buf ? len : sizeof buf;
        if ((pos & (PAGE - 1)) == 0 || mmu_read(c->mmu, pos, buf, len))
            return n;
        const uint8_t *p = buf;
        size_t left = len;
        uint64_t at = pos;
        bool ends = false;
        /* keep MAX_INSN bytes in hand unless the page ends in this buffer */
        while (n < BLOCK_MAX && (left >= MAX_INSN || at + left == ((pos | (PAGE - 1)) + 1))) {
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

/* a stub standing for the not-yet-decoded successor at addr */
static void stub(dinsn *s, uint64_t addr, dinsn **link)
{
    *s = (dinsn){ .fn = exec_invalid, .addr = addr, .page = 1, .len = 0 };
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
