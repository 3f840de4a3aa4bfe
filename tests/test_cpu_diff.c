/*
 * test_cpu_diff.c - differential test of the interpreter against Unicorn.
 *
 * Random programs from the supported subset (random operands, sizes,
 * flags, memory operands into a scratch area, branches, calls, string
 * instructions, SSE2 packed integer, shuffles and data movement, the
 * integer tail) run on both from the same registers and memory, XMM lanes
 * and memory biased to integer edge values; all GPRs, XMM registers, RIP, the defined RFLAGS bits, the
 * exit kind and the memory must agree. The interpreter has no XMM accessor:
 * a prologue loads its XMM registers and an epilogue stores them, run from
 * a code area of its own before and after the program.
 * The generator tracks which flags are undefined (per the SDM) and keeps
 * them out of both the comparison and of later flag readers. Where
 * Unicorn 2.0.1 differs from hardware (popcnt rejected, f3 0f bc run as
 * tzcnt, rcl/rcr OF for counts above 1, phadd/phsub with one register)
 * the generator steers clear and test_cpu_isa checks the host CPU.
 *
 * SOFTMMU_DIFF_N sets the number of programs (default 3000),
 * SOFTMMU_DIFF_SIMD_N that of the SSE-heavy ones (default 300),
 * SOFTMMU_DIFF_SEED the first seed. On a mismatch the program is printed
 * with its bytes and Capstone disassembly, and the differing registers.
 */
#include "test_util.h"

#include <softmmu/cpu.h>

#include <stdio.h>
#include <stdlib.h>

#include "fp_edge.h"

#ifdef HAVE_UNICORN
#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#define CODE_ADDR 0x10000ull
#define CODE_SIZE 0x2000ull
#define SCRATCH 0x20000ull
#define SCRATCH_SIZE 0x2000ull
#define STACK 0x30000ull
#define STACK_SIZE 0x2000ull
#define R15_VAL (SCRATCH + 0x800) /* memory base register, never written */
#define FS_VAL SCRATCH
#define GS_VAL (SCRATCH + 0x1000)
#define XMM_CODE 0x50000ull /* softmmu only: XMM prologue / epilogue and their data */
#define XMM_DATA 0x52000ull

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* flags */
#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u
#define ALLF (CF | PF | AF | ZF | SF | OF)

/* ------------------------------------------------------------ generator */

typedef struct gen {
    uint8_t  code[CODE_SIZE];
    size_t   n;
    uint64_t base;  /* guest address of code[0] */
    uint16_t uf_at[CODE_SIZE]; /* undefined flags before the byte at each offset */
    uint64_t rng;
    unsigned uf;    /* flags undefined at this point */
    int      depth; /* pushes minus pops */
    unsigned simd;  /* SSE instructions emitted */
} gen;

static uint64_t rnd(gen *g)
{
    g->rng ^= g->rng << 13, g->rng ^= g->rng >> 7, g->rng ^= g->rng << 17;
    return g->rng;
}

static unsigned rn(gen *g, unsigned n)
{
    return (unsigned)(rnd(g) % n);
}

static void b(gen *g, uint8_t v)
{
    g->uf_at[g->n] = (uint16_t)g->uf;
    g->code[g->n++] = v;
}

static void imm(gen *g, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        b(g, (uint8_t)(v >> (8 * i)));
}

/* registers the program may write: not RSP, R14 (index), R15 (base) */
static const uint8_t WRITABLE[] = { RAX, RCX, RDX, RBX, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13 };

/* 8-bit registers come in two encodings: legacy (AL..BL, AH..BH = 16..19)
 * or with REX (AL..R15B, SPL..DIL). */
static unsigned dst_reg(gen *g, unsigned size, bool legacy8)
{
    if (size == 1 && legacy8) {
        unsigned r = rn(g, 8);
        return r < 4 ? r : 16 + (r - 4);
    }
    return WRITABLE[rn(g, sizeof WRITABLE)];
}

static unsigned src_reg(gen *g, unsigned size, bool legacy8)
{
    if (size == 1 && legacy8) {
        unsigned r = rn(g, 8);
        return r < 4 ? r : 16 + (r - 4);
    }
    return rn(g, 16);
}

/* r/m operand: a register or one of several addressing forms */
enum { M_REG, M_B8, M_B32, M_BI, M_RIP, M_ABS, M_FS, M_GS, M_B0, M_A32, M_N };

typedef struct rmop {
    unsigned kind, reg;
    int32_t  disp;     /* offset in the scratch area relative to the form's base */
} rmop;

static rmop pick_mem(gen *g, unsigned size)
{
    rmop m = { 1 + rn(g, M_N - 1), 0, 0 };
    bool d8 = m.kind == M_B8 || m.kind == M_BI || m.kind == M_A32;
    int32_t off = d8 ? (int32_t)rn(g, 256) - 128 : (int32_t)rn(g, 0x200) - 0x100; /* around R15 */
    off &= ~(int32_t)(rn(g, 4) ? size - 1 : 0);                                   /* mostly aligned */
    m.disp = off;
    if (rn(g, 400) == 0) /* now and then an unmapped address: both must fault alike */
        m.kind = M_B32, m.disp = 0x40000;
    return m;
}

static rmop reg_op(unsigned r)
{
    return (rmop){ M_REG, r, 0 };
}

/* one instruction: [seg] [67] [66] [REX] opcode modrm [sib] [disp] [imm] */
typedef struct insn {
    unsigned size;           /* operand size: 66 for 2, REX.W for 8 */
    bool     no_w;           /* 64-bit by default (push, pop ...) */
    uint8_t  op[3];
    unsigned n_op;
    unsigned regf;           /* ModRM.reg: register or /digit */
    bool     regf_is_reg;
    rmop     rm;
    uint64_t immv;
    unsigned imm_size;
    uint8_t  mpfx;           /* SSE mandatory prefix (66, f3), before REX */
} insn;

static bool needs_rex8(unsigned r)
{
    return r >= 4 && r < 16;
}

static void emit_mem(gen *g, const rmop *m, unsigned regf, size_t imm_size)
{
    unsigned rf = (regf & 7) << 3;
    switch (m->kind) {
    case M_B8: b(g, 0x40 | rf | 7), b(g, (uint8_t)m->disp); break;
    case M_B32: b(g, 0x80 | rf | 7), imm(g, (uint32_t)m->disp, 4); break;
    case M_BI: b(g, 0x40 | rf | 4), b(g, (uint8_t)((rn(g, 4) << 6) | (6 << 3) | 7)), b(g, (uint8_t)m->disp); break;
    case M_RIP: {
        b(g, rf | 5);
        /* disp from the end of the instruction, known once the immediate is counted */
        uint64_t end = g->base + g->n + 4 + imm_size;
        imm(g, (uint32_t)(R15_VAL + m->disp - end), 4);
        break;
    }
    case M_ABS: b(g, rf | 4), b(g, 0x25), imm(g, (uint32_t)(R15_VAL + m->disp), 4); break;
    case M_FS: b(g, rf | 4), b(g, 0x25), imm(g, (uint32_t)(R15_VAL - FS_VAL + m->disp), 4); break;
    case M_GS: b(g, rf | 4), b(g, 0x25), imm(g, (uint32_t)(R15_VAL - GS_VAL + m->disp), 4); break;
    case M_B0: b(g, rf | 7); break;
    default: /* M_A32 */ b(g, 0x40 | rf | 7), b(g, (uint8_t)m->disp); break;
    }
}

static void emit(gen *g, const insn *ins)
{
    insn in_copy = *ins, *in = &in_copy;
    const rmop *m = &in->rm;
    if (m->kind == M_FS)
        b(g, 0x64);
    if (m->kind == M_GS)
        b(g, 0x65);
    if (m->kind == M_A32)
        b(g, 0x67);
    if (in->size == 2)
        b(g, 0x66);
    if (in->mpfx)
        b(g, in->mpfx);
    unsigned rex = 0;
    if (in->size == 8 && !in->no_w)
        rex |= 8;
    if (in->regf_is_reg && (in->regf & 15) >= 8 && in->regf < 16)
        rex |= 4;
    if (m->kind == M_REG && m->reg >= 8 && m->reg < 16)
        rex |= 1;
    if (m->kind == M_B8 || m->kind == M_B32 || m->kind == M_BI || m->kind == M_B0 || m->kind == M_A32)
        rex |= 1; /* base r15 */
    if (m->kind == M_BI)
        rex |= 2; /* index r14 */
    if (rex && in->size == 1) { /* AH..BH cannot be encoded with REX: use AL..BL */
        if (in->regf_is_reg && in->regf >= 16)
            in->regf -= 16;
        if (m->kind == M_REG && m->reg >= 16)
            in->rm.reg -= 16;
    }
    bool force = in->size == 1 && ((in->regf_is_reg && needs_rex8(in->regf)) || (m->kind == M_REG && needs_rex8(m->reg)));
    if (rex || force)
        b(g, (uint8_t)(0x40 | rex));
    for (unsigned i = 0; i < in->n_op; i++)
        b(g, in->op[i]);
    unsigned regf = in->regf >= 16 ? in->regf - 12 : in->regf;
    if (m->kind == M_REG)
        b(g, (uint8_t)(0xc0 | ((regf & 7) << 3) | ((m->reg >= 16 ? m->reg - 12 : m->reg) & 7)));
    else
        emit_mem(g, m, regf, in->imm_size);
    imm(g, in->immv, in->imm_size);
}

/* an r/m operand: register (legacy-8 compatible) or memory */
static rmop pick_rm(gen *g, unsigned size, bool legacy8, bool dst)
{
    if (rn(g, 3) == 0)
        return pick_mem(g, size);
    return reg_op(dst ? dst_reg(g, size, legacy8) : src_reg(g, size, legacy8));
}

static unsigned pick_size(gen *g)
{
    static const unsigned s[] = { 1, 2, 4, 8, 8, 4 };
    return s[rn(g, 6)];
}

/* ------------------------------------------------------------ templates */

/* flags: written-and-defined set w, undefined set u */
static void flags_write(gen *g, unsigned w, unsigned u)
{
    g->uf = (g->uf & ~w) | u;
}

/* before an instruction that reads flags: make every flag defined */
static void define_flags(gen *g)
{
    if (!g->uf)
        return;
    insn in = { .size = 8, .op = { 0x39 }, .n_op = 1, .regf = rn(g, 16), .regf_is_reg = true,
                .rm = reg_op(rn(g, 16)) };
    emit(g, &in); /* cmp r64, r64 */
    g->uf = 0;
}

static void t_alu(gen *g)
{
    unsigned op = rn(g, 8), size = pick_size(g);
    bool legacy8 = rn(g, 2), to_reg = rn(g, 2), writes = op != 7;
    if (op == 2 || op == 3)
        define_flags(g); /* adc, sbb read CF */
    insn in = { .size = size, .n_op = 1, .regf_is_reg = true };
    if (rn(g, 3) == 0) { /* immediate forms 80/81/83 */
        in.rm = pick_rm(g, size, legacy8, writes);
        in.regf = op, in.regf_is_reg = false;
        bool ib = size == 1 || rn(g, 2);
        in.op[0] = size == 1 ? 0x80 : ib ? 0x83 : 0x81;
        in.immv = rnd(g), in.imm_size = ib ? 1 : size == 2 ? 2 : 4;
    } else {
        in.op[0] = (uint8_t)((op << 3) | (to_reg ? 2 : 0) | (size != 1));
        in.regf = to_reg && writes ? dst_reg(g, size, legacy8) : src_reg(g, size, legacy8);
        in.rm = to_reg ? pick_rm(g, size, legacy8, false) : pick_rm(g, size, legacy8, writes);
    }
    emit(g, &in);
    bool logic = op == 1 || op == 4 || op == 6;
    flags_write(g, logic ? ALLF & ~AF : ALLF, logic ? AF : 0);
}

static void t_test(gen *g)
{
    unsigned size = pick_size(g);
    bool legacy8 = rn(g, 2);
    insn in = { .size = size, .n_op = 1, .regf_is_reg = true };
    if (rn(g, 2)) {
        in.op[0] = size == 1 ? 0x84 : 0x85;
        in.regf = src_reg(g, size, legacy8);
        in.rm = pick_rm(g, size, legacy8, false);
    } else {
        in.op[0] = size == 1 ? 0xf6 : 0xf7, in.regf = 0, in.regf_is_reg = false;
        in.rm = pick_rm(g, size, legacy8, false);
        in.immv = rnd(g), in.imm_size = size == 1 ? 1 : size == 2 ? 2 : 4;
    }
    emit(g, &in);
    flags_write(g, ALLF & ~AF, AF);
}

static void t_mov(gen *g)
{
    unsigned size = pick_size(g), k = rn(g, 4);
    bool legacy8 = rn(g, 2);
    insn in = { .size = size, .n_op = 1, .regf_is_reg = true };
    if (k == 0) { /* b0+r / b8+r, movabs with REX.W */
        unsigned r = dst_reg(g, size, false);
        if (size == 2)
            b(g, 0x66);
        if (size == 8 || r >= 8 || (size == 1 && r >= 4))
            b(g, (uint8_t)(0x40 | (size == 8 ? 8 : 0) | (r >= 8)));
        b(g, (uint8_t)((size == 1 ? 0xb0 : 0xb8) + (r & 7)));
        imm(g, rnd(g), size);
        return;
    }
    if (k == 1) { /* c6 / c7 */
        in.op[0] = size == 1 ? 0xc6 : 0xc7, in.regf = 0, in.regf_is_reg = false;
        in.rm = pick_rm(g, size, legacy8, true);
        in.immv = rnd(g), in.imm_size = size == 1 ? 1 : size == 2 ? 2 : 4;
        emit(g, &in);
        return;
    }
    bool to_reg = k == 2;
    in.op[0] = (uint8_t)(0x88 | (to_reg ? 2 : 0) | (size != 1));
    in.regf = to_reg ? dst_reg(g, size, legacy8) : src_reg(g, size, legacy8);
    in.rm = pick_rm(g, size, legacy8, !to_reg);
    emit(g, &in);
}

/* inc dec not neg: fe/ff /0 /1, f6/f7 /2 /3 */
static void t_unary(gen *g)
{
    unsigned k = rn(g, 4), size = pick_size(g);
    insn in = { .size = size, .n_op = 1, .regf = k < 2 ? k : k, .rm = pick_rm(g, size, rn(g, 2), true) };
    in.op[0] = k < 2 ? (size == 1 ? 0xfe : 0xff) : (size == 1 ? 0xf6 : 0xf7);
    emit(g, &in);
    if (k < 2)
        g->uf &= CF; /* inc/dec keep CF as it was */
    else if (k == 3)
        flags_write(g, ALLF, 0);
}

/* a register loaded with a random non-zero value */
static void load_reg(gen *g, unsigned r, uint64_t v)
{
    b(g, (uint8_t)(0x48 | (r >= 8)));
    b(g, (uint8_t)(0xb8 + (r & 7)));
    imm(g, v, 8);
}

static void t_muldiv(gen *g)
{
    unsigned k = 4 + rn(g, 4), size = pick_size(g);
    if (k >= 6) { /* div/idiv: a small dividend high half, a non-zero divisor mostly */
        load_reg(g, RDX, rn(g, 4) == 0 ? rnd(g) : rn(g, 3));
        if (k == 7 && rn(g, 2))
            b(g, 0x48), b(g, 0x99); /* cqo */
    }
    insn in = { .size = size, .n_op = 1, .op = { size == 1 ? 0xf6 : 0xf7 }, .regf = k };
    if (rn(g, 2)) {
        unsigned r = WRITABLE[rn(g, sizeof WRITABLE)];
        if (r != RAX && r != RDX && k >= 6)
            load_reg(g, r, rnd(g) | 1);
        in.rm = reg_op(r);
    } else {
        in.rm = pick_mem(g, size);
    }
    emit(g, &in);
    flags_write(g, k >= 6 ? 0 : CF | OF, k >= 6 ? ALLF : SF | ZF | AF | PF);
}

static void t_imul(gen *g)
{
    unsigned size = 2 << rn(g, 3), k = rn(g, 3);
    insn in = { .size = size, .regf = dst_reg(g, size, false), .regf_is_reg = true,
                .rm = pick_rm(g, size, false, false) };
    if (k == 0)
        in.op[0] = 0x0f, in.op[1] = 0xaf, in.n_op = 2;
    else if (k == 1)
        in.op[0] = 0x6b, in.n_op = 1, in.immv = rnd(g), in.imm_size = 1;
    else
        in.op[0] = 0x69, in.n_op = 1, in.immv = rnd(g), in.imm_size = size == 2 ? 2 : 4;
    emit(g, &in);
    flags_write(g, CF | OF, SF | ZF | AF | PF);
}

/* rol ror shl shr sal sar with imm, 1 or CL */
static void t_shift(gen *g)
{
    static const unsigned ops[] = { 0, 1, 4, 5, 6, 7 };
    unsigned op = ops[rn(g, 6)], size = pick_size(g), form = rn(g, 3), bits = size * 8;
    unsigned cnt = form == 0 ? 1 : rn(g, 4) == 0 ? rn(g, 256) : rn(g, bits + 2);
    insn in = { .size = size, .n_op = 1, .regf = op, .rm = pick_rm(g, size, rn(g, 2), true) };
    if (form == 0)
        in.op[0] = size == 1 ? 0xd0 : 0xd1;
    else if (form == 1)
        in.op[0] = size == 1 ? 0xd2 : 0xd3;
    else
        in.op[0] = size == 1 ? 0xc0 : 0xc1, in.immv = cnt, in.imm_size = 1;
    emit(g, &in);
    bool rot = op < 2;
    if (form == 1) { /* count unknown here */
        g->uf |= OF | AF | (size < 4 ? CF : 0);
        return;
    }
    unsigned n = cnt & (size == 8 ? 63 : 31);
    if (n == 0)
        return;
    unsigned w = rot ? CF | OF : ALLF, u = rot ? 0 : AF;
    if (n > 1)
        u |= OF;
    if (!rot && n >= bits)
        u |= CF | OF;
    flags_write(g, w, u);
}

static void t_shd(gen *g)
{
    unsigned size = 2 << rn(g, 3), right = rn(g, 2), cl = rn(g, 2), bits = size * 8;
    unsigned cnt = rn(g, 4) == 0 ? rn(g, 256) : rn(g, bits);
    insn in = { .size = size, .n_op = 2, .op = { 0x0f, (uint8_t)(0xa4 + (right ? 8 : 0) + cl) },
                .regf = src_reg(g, size, false), .regf_is_reg = true, .rm = pick_rm(g, size, false, true) };
    if (!cl && in.rm.kind == M_RIP) /* Unicorn 2.0.1 forgets the imm8 in rip-relative shld/shrd */
        in.rm.kind = M_B32;
    if (!cl)
        in.immv = cnt, in.imm_size = 1;
    emit(g, &in);
    unsigned n = cnt & (size == 8 ? 63 : 31);
    if (cl) {
        g->uf |= ALLF;
        return;
    }
    if (n == 0)
        return;
    flags_write(g, ALLF, AF | (n > 1 ? OF : 0) | (n > bits ? ALLF : 0));
}

/* movzx movsx movsxd */
static void t_ext(gen *g)
{
    unsigned k = rn(g, 5), dsize = 2 << rn(g, 3), ssize = k < 4 ? 1 + (k & 1) : 4;
    if (k == 4)
        dsize = 8;
    if (ssize >= dsize)
        dsize = 8;
    bool legacy8 = rn(g, 2);
    insn in = { .size = dsize, .regf = dst_reg(g, dsize, false), .regf_is_reg = true };
    if (k == 4) {
        in.op[0] = 0x63, in.n_op = 1;
    } else {
        in.op[0] = 0x0f, in.op[1] = (uint8_t)((k < 2 ? 0xb6 : 0xbe) + (ssize == 2)), in.n_op = 2;
    }
    in.rm = rn(g, 3) ? reg_op(src_reg(g, ssize, legacy8)) : pick_mem(g, ssize);
    if (ssize == 1 && in.rm.kind == M_REG && in.rm.reg >= 16 && in.regf >= 8)
        in.rm.reg -= 16; /* AH..BH cannot go with REX */
    emit(g, &in);
}

static void t_lea(gen *g)
{
    unsigned size = 2 << rn(g, 3);
    insn in = { .size = size, .n_op = 1, .op = { 0x8d }, .regf = dst_reg(g, size, false), .regf_is_reg = true,
                .rm = pick_mem(g, size) };
    emit(g, &in);
}

static void t_push_pop(gen *g)
{
    unsigned k = rn(g, 5);
    if (g->depth > 60 || (g->depth > 0 && k >= 3)) { /* pop */
        unsigned r = WRITABLE[rn(g, sizeof WRITABLE)];
        if (rn(g, 4) == 0) {
            insn in = { .size = 8, .no_w = true, .n_op = 1, .op = { 0x8f }, .regf = 0, .rm = pick_mem(g, 8) };
            emit(g, &in);
        } else {
            if (r >= 8)
                b(g, 0x41);
            b(g, (uint8_t)(0x58 + (r & 7)));
        }
        g->depth--;
        return;
    }
    if (k == 0) {
        unsigned r = rn(g, 16);
        if (r >= 8)
            b(g, 0x41);
        b(g, (uint8_t)(0x50 + (r & 7)));
    } else if (k == 1) {
        bool ib = rn(g, 2);
        b(g, ib ? 0x6a : 0x68);
        imm(g, rnd(g), ib ? 1 : 4);
    } else {
        insn in = { .size = 8, .no_w = true, .n_op = 1, .op = { 0xff }, .regf = 6, .rm = pick_mem(g, 8) };
        emit(g, &in);
    }
    g->depth++;
}

/* xchg, cmpxchg, xadd */
static void t_xchg(gen *g)
{
    unsigned k = rn(g, 3), size = pick_size(g);
    bool legacy8 = rn(g, 2);
    insn in = { .size = size, .regf = dst_reg(g, size, legacy8), .regf_is_reg = true,
                .rm = pick_rm(g, size, legacy8, true) };
    if (k == 0) {
        in.op[0] = size == 1 ? 0x86 : 0x87, in.n_op = 1;
    } else {
        if (k == 1 && size == 4)
            b(g, 0x89), b(g, 0xc0); /* mov eax, eax: SDM and Unicorn differ on RAX[63:32] otherwise */
        in.op[0] = 0x0f, in.op[1] = (uint8_t)((k == 1 ? 0xb0 : 0xc0) + (size != 1)), in.n_op = 2;
        flags_write(g, ALLF, 0);
    }
    emit(g, &in);
}

static void t_bswap(gen *g)
{
    unsigned r = WRITABLE[rn(g, sizeof WRITABLE)];
    bool w = rn(g, 2);
    if (w || r >= 8)
        b(g, (uint8_t)(0x40 | (w ? 8 : 0) | (r >= 8)));
    b(g, 0x0f), b(g, (uint8_t)(0xc8 + (r & 7)));
}

static void t_cmov_set(gen *g)
{
    define_flags(g);
    unsigned cc = rn(g, 16);
    if (rn(g, 2)) {
        unsigned size = 2 << rn(g, 3);
        insn in = { .size = size, .n_op = 2, .op = { 0x0f, (uint8_t)(0x40 + cc) }, .regf = dst_reg(g, size, false),
                    .regf_is_reg = true, .rm = pick_rm(g, size, false, false) };
        emit(g, &in);
    } else {
        insn in = { .size = 1, .n_op = 2, .op = { 0x0f, (uint8_t)(0x90 + cc) }, .regf = 0,
                    .rm = pick_rm(g, 1, rn(g, 2), true) };
        emit(g, &in);
    }
}

static void t_bt(gen *g)
{
    unsigned size = 2 << rn(g, 3), op = rn(g, 4);
    insn in = { .size = size, .n_op = 2, .op = { 0x0f } };
    if (rn(g, 2)) { /* register bit offset: small for memory, so it stays in the scratch area */
        unsigned r = dst_reg(g, size, false);
        in.op[1] = (uint8_t)(0xa3 + 8 * op), in.regf = r, in.regf_is_reg = true;
        in.rm = pick_rm(g, size, false, true);
        if (in.rm.kind != M_REG)
            load_reg(g, r, (uint64_t)(int64_t)((int)rn(g, 512) - 256));
    } else {
        in.op[1] = 0xba, in.regf = 4 + op, in.rm = pick_rm(g, size, false, true);
        in.immv = rn(g, 256), in.imm_size = 1;
    }
    emit(g, &in);
    flags_write(g, CF, OF | SF | AF | PF);
}

static void t_bsx(gen *g)
{
    unsigned size = 2 << rn(g, 3);
    insn in = { .size = size, .n_op = 2, .op = { 0x0f, (uint8_t)(0xbc + rn(g, 2)) },
                .regf = dst_reg(g, size, false), .regf_is_reg = true, .rm = pick_rm(g, size, false, false) };
    emit(g, &in);
    flags_write(g, ZF, CF | OF | SF | AF | PF);
}

static void t_misc(gen *g)
{
    switch (rn(g, 10)) {
    case 0: /* cbw cwde cdqe */
    case 1: { /* cwd cdq cqo */
        unsigned s = rn(g, 3);
        if (s == 0)
            b(g, 0x66);
        if (s == 2)
            b(g, 0x48);
        b(g, (uint8_t)(0x98 + (rn(g, 2))));
        break;
    }
    case 2: b(g, 0xf8), flags_write(g, CF, 0); break; /* clc */
    case 3: b(g, 0xf9), flags_write(g, CF, 0); break; /* stc */
    case 4: define_flags(g), b(g, 0xf5); break;        /* cmc */
    case 5: b(g, rn(g, 2) ? 0xfc : 0xfd); break;      /* cld / std */
    case 6: define_flags(g), b(g, 0x9f); break;        /* lahf */
    case 7: b(g, 0x9e), flags_write(g, CF | PF | AF | ZF | SF, 0); break; /* sahf */
    case 8: { /* nops of every length */
        static const char *nops[] = { "\x90", "\x66\x90", "\x0f\x1f\x00", "\x0f\x1f\x40\x00", "\x0f\x1f\x44\x00\x00",
                                      "\x66\x0f\x1f\x44\x00\x00", "\x0f\x1f\x80\x00\x00\x00\x00",
                                      "\x0f\x1f\x84\x00\x00\x00\x00\x00", "\x66\x0f\x1f\x84\x00\x00\x00\x00\x00",
                                      "\x66\x2e\x0f\x1f\x84\x00\x00\x00\x00\x00", "\xf3\x0f\x1e\xfa", "\xf3\x90" };
        static const uint8_t lens[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 4, 2 };
        unsigned k = rn(g, 12);
        for (unsigned i = 0; i < lens[k]; i++)
            b(g, (uint8_t)nops[k][i]);
        break;
    }
    default: /* pushfq / popfq with arithmetic flags and DF */
        if (rn(g, 2)) {
            define_flags(g);
            b(g, 0x9c), b(g, 0x58 + (uint8_t)WRITABLE[rn(g, 7)]); /* pushfq; pop r (no REX) */
        } else {
            b(g, 0x68), imm(g, (rnd(g) & 0xcd5) | 2, 4), b(g, 0x9d); /* push imm; popfq */
            flags_write(g, ALLF, 0);
        }
        break;
    }
}

/* string instructions with RSI/RDI/RCX set up to stay in the scratch area */
static void t_string(gen *g)
{
    static const uint8_t ops[] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };
    unsigned k = rn(g, 5), size = 1u << rn(g, 4), rep = rn(g, 3), cnt = rn(g, 17);
    load_reg(g, RSI, R15_VAL - 0x100 + rn(g, 0x200));
    load_reg(g, RDI, R15_VAL - 0x100 + rn(g, 0x200));
    load_reg(g, RCX, cnt);
    if (rn(g, 4) == 0)
        b(g, rn(g, 2) ? 0xfc : 0xfd);
    if (rep)
        b(g, rep == 1 ? 0xf3 : 0xf2);
    if (size == 2)
        b(g, 0x66);
    if (size == 8)
        b(g, 0x48);
    b(g, (uint8_t)(ops[k] + (size != 1)));
    if ((k == 1 || k == 4) && (!rep || cnt)) /* none done when RCX = 0 */
        flags_write(g, ALLF, 0);
}

/* a memory operand for SSE; aligned forms (#GP otherwise, which Unicorn
 * does not model) get a 16-byte aligned one: not the r14-indexed form */
static rmop sse_mem(gen *g, bool aligned, unsigned size)
{
    rmop m = pick_mem(g, size);
    if (aligned) {
        m.kind = m.kind == M_BI ? M_B8 : m.kind;
        m.disp &= ~15;
    }
    return m;
}

/* pxor por pand; movaps movapd movdqa; movups movupd movdqu; movd / movq */
static void t_sse(gen *g)
{
    static const uint8_t logic[] = { 0xef, 0xeb, 0xdb }, pfx[] = { 0, 0x66, 0xf3 };
    static const uint8_t aload[] = { 0x28, 0x28, 0x6f }, astore[] = { 0x29, 0x29, 0x7f };
    static const uint8_t uload[] = { 0x10, 0x10, 0x6f }, ustore[] = { 0x11, 0x11, 0x7f };
    unsigned k = rn(g, 5), v = rn(g, 3);
    bool mem = rn(g, 2), st = rn(g, 2);
    insn in = { .size = 16, .n_op = 2, .op = { 0x0f }, .regf = rn(g, 16), .regf_is_reg = true };
    in.rm = reg_op(rn(g, 16));
    if (k == 0) { /* 66 0f ef/eb/db: xmm, xmm/m128 */
        in.mpfx = 0x66, in.op[1] = logic[v];
        in.rm = mem ? sse_mem(g, true, 16) : in.rm;
    } else if (k == 1) { /* 0f 28/29, 66 0f 28/29, 66 0f 6f/7f */
        in.mpfx = v ? 0x66 : 0, in.op[1] = st ? astore[v] : aload[v];
        in.rm = mem ? sse_mem(g, true, 16) : in.rm;
    } else if (k == 2) { /* 0f 10/11, 66 0f 10/11, f3 0f 6f/7f */
        in.mpfx = pfx[v], in.op[1] = st ? ustore[v] : uload[v];
        in.rm = mem ? sse_mem(g, false, 16) : in.rm;
    } else if (k == 3) { /* 66 [REX.W] 0f 6e/7e: movd/movq xmm <-> r/m32/64 */
        in.mpfx = 0x66, in.size = rn(g, 2) ? 8 : 4, in.op[1] = st ? 0x7e : 0x6e;
        in.rm = mem ? sse_mem(g, false, in.size) : reg_op(st ? WRITABLE[rn(g, sizeof WRITABLE)] : rn(g, 16));
    } else { /* f3 0f 7e: movq xmm, xmm/m64; 66 0f d6: movq xmm/m64, xmm */
        in.mpfx = st ? 0x66 : 0xf3, in.op[1] = st ? 0xd6 : 0x7e;
        in.rm = mem ? sse_mem(g, false, 8) : in.rm;
    }
    emit(g, &in);
}


/* ------------------------------------------- SSE2 packed integer and moves */

/* xmm, xmm/m128 operations: mandatory prefix, opcode after 0f, form */
enum { XB, XI, XS }; /* plain, with imm8, shift with the count in xmm/m128 */
typedef struct xop {
    uint8_t pfx, opc, form;
} xop;

static const xop XOPS[] = {
    { 0x66, 0xfc, XB }, { 0x66, 0xfd, XB }, { 0x66, 0xfe, XB }, { 0x66, 0xd4, XB }, /* padd b w d q */
    { 0x66, 0xf8, XB }, { 0x66, 0xf9, XB }, { 0x66, 0xfa, XB }, { 0x66, 0xfb, XB }, /* psub b w d q */
    { 0x66, 0xec, XB }, { 0x66, 0xed, XB }, { 0x66, 0xdc, XB }, { 0x66, 0xdd, XB }, /* padds b w, paddus b w */
    { 0x66, 0xe8, XB }, { 0x66, 0xe9, XB }, { 0x66, 0xd8, XB }, { 0x66, 0xd9, XB }, /* psubs b w, psubus b w */
    { 0x66, 0xd5, XB }, { 0x66, 0xe5, XB }, { 0x66, 0xe4, XB }, /* pmullw pmulhw pmulhuw */
    { 0x66, 0xf4, XB }, { 0x66, 0xf5, XB },                     /* pmuludq pmaddwd */
    { 0x66, 0x74, XB }, { 0x66, 0x75, XB }, { 0x66, 0x76, XB }, /* pcmpeq b w d */
    { 0x66, 0x64, XB }, { 0x66, 0x65, XB }, { 0x66, 0x66, XB }, /* pcmpgt b w d */
    { 0x66, 0xda, XB }, { 0x66, 0xde, XB }, { 0x66, 0xea, XB }, { 0x66, 0xee, XB }, /* pminub pmaxub pminsw pmaxsw */
    { 0x66, 0xe0, XB }, { 0x66, 0xe3, XB }, { 0x66, 0xf6, XB }, /* pavgb pavgw psadbw */
    { 0x66, 0x63, XB }, { 0x66, 0x6b, XB }, { 0x66, 0x67, XB }, /* packsswb packssdw packuswb */
    { 0x66, 0x60, XB }, { 0x66, 0x61, XB }, { 0x66, 0x62, XB }, { 0x66, 0x6c, XB }, /* punpckl bw wd dq qdq */
    { 0x66, 0x68, XB }, { 0x66, 0x69, XB }, { 0x66, 0x6a, XB }, { 0x66, 0x6d, XB }, /* punpckh bw wd dq qdq */
    { 0x66, 0xdb, XB }, { 0x66, 0xdf, XB }, { 0x66, 0xeb, XB }, { 0x66, 0xef, XB }, /* pand pandn por pxor */
    { 0, 0x54, XB }, { 0x66, 0x54, XB }, { 0, 0x55, XB }, { 0x66, 0x55, XB },       /* andps/pd andnps/pd */
    { 0, 0x56, XB }, { 0x66, 0x56, XB }, { 0, 0x57, XB }, { 0x66, 0x57, XB },       /* orps/pd xorps/pd */
    { 0, 0x14, XB }, { 0, 0x15, XB }, { 0x66, 0x14, XB }, { 0x66, 0x15, XB },       /* unpckl/hps, unpckl/hpd */
    { 0, 0xc6, XI }, { 0x66, 0xc6, XI }, { 0x66, 0x70, XI }, { 0xf3, 0x70, XI }, { 0xf2, 0x70, XI },
    /* shufps shufpd pshufd pshufhw pshuflw */
    { 0x66, 0xf1, XS }, { 0x66, 0xf2, XS }, { 0x66, 0xf3, XS }, /* psll w d q */
    { 0x66, 0xd1, XS }, { 0x66, 0xd2, XS }, { 0x66, 0xd3, XS }, /* psrl w d q */
    { 0x66, 0xe1, XS }, { 0x66, 0xe2, XS },                     /* psra w d */
};

/* a shift count: mostly inside the lane width, sometimes past it */
static uint64_t shift_count(gen *g)
{
    unsigned k = rn(g, 8);
    return k == 0 ? rnd(g) : k == 1 ? 60 + rn(g, 10) : rn(g, 34);
}

/* movq xmm, r64 (66 REX.W 0f 6e) from a GPR loaded with v */
static void load_xmm(gen *g, unsigned x, unsigned r, uint64_t v)
{
    load_reg(g, r, v);
    insn in = { .size = 8, .n_op = 2, .op = { 0x0f, 0x6e }, .mpfx = 0x66, .regf = x, .regf_is_reg = true,
                .rm = reg_op(r) };
    emit(g, &in);
}

static void t_xint(gen *g)
{
    const xop *o = &XOPS[rn(g, sizeof XOPS / sizeof *XOPS)];
    insn in = { .size = 16, .n_op = 2, .op = { 0x0f, o->opc }, .mpfx = o->pfx, .regf = rn(g, 16),
                .regf_is_reg = true, .rm = reg_op(rn(g, 16)) };
    if (o->form == XS && rn(g, 2)) { /* a count register with a sensible count */
        unsigned x = rn(g, 16);
        load_xmm(g, x, WRITABLE[rn(g, sizeof WRITABLE)], shift_count(g));
        in.rm = reg_op(x);
    }
    if (rn(g, 3) == 0)
        in.rm = sse_mem(g, true, 16);
    if (o->form == XI)
        in.immv = rnd(g) & 0xff, in.imm_size = 1;
    emit(g, &in);
    g->simd++;
}

/* psrlw/psraw/psllw 71 /2 /4 /6, the same for d (72) and q (73 /2 /6),
 * psrldq 73 /3, pslldq 73 /7: xmm, imm8 */
static void t_xshift_imm(gen *g)
{
    static const uint8_t opc[] = { 0x71, 0x71, 0x71, 0x72, 0x72, 0x72, 0x73, 0x73, 0x73, 0x73 };
    static const uint8_t dig[] = { 2, 4, 6, 2, 4, 6, 2, 6, 3, 7 };
    unsigned k = rn(g, sizeof opc);
    insn in = { .size = 16, .n_op = 2, .op = { 0x0f, opc[k] }, .mpfx = 0x66, .regf = dig[k],
                .rm = reg_op(rn(g, 16)), .imm_size = 1 };
    in.immv = rn(g, 4) ? rn(g, 20) : rn(g, 4) ? rn(g, 70) : rn(g, 256);
    emit(g, &in);
    g->simd++;
}

/* movss movsd, movlps movhps movlpd movhpd, movhlps movlhps */
static void t_xmov_part(gen *g)
{
    unsigned k = rn(g, 4), x = rn(g, 16);
    bool st = rn(g, 2), mem = rn(g, 2);
    insn in = { .size = 16, .n_op = 2, .op = { 0x0f }, .regf = x, .regf_is_reg = true, .rm = reg_op(rn(g, 16)) };
    if (k < 2) { /* f3 / f2 0f 10 (load, merge) / 11 (store) */
        in.mpfx = k ? 0xf2 : 0xf3, in.op[1] = st && mem ? 0x11 : 0x10;
        in.rm = mem ? sse_mem(g, false, k ? 8 : 4) : in.rm;
    } else if (k == 2 && mem) { /* [66] 0f 12/13 low, 16/17 high */
        in.mpfx = rn(g, 2) ? 0x66 : 0, in.op[1] = (uint8_t)((rn(g, 2) ? 0x16 : 0x12) + st);
        in.rm = sse_mem(g, false, 8);
    } else { /* 0f 12: movhlps, 0f 16: movlhps */
        in.op[1] = rn(g, 2) ? 0x16 : 0x12;
    }
    emit(g, &in);
    g->simd++;
}

/* movmskps movmskpd pmovmskb pextrw: r32/r64 from xmm; pinsrw */
static void t_xgpr(gen *g)
{
    static const uint8_t pfx[] = { 0, 0x66, 0x66, 0x66, 0x66 }, opc[] = { 0x50, 0x50, 0xd7, 0xc5, 0xc4 };
    unsigned k = rn(g, 5);
    unsigned r = WRITABLE[rn(g, sizeof WRITABLE)], x = rn(g, 16);
    insn in = { .size = rn(g, 2) ? 8 : 4, .n_op = 2, .op = { 0x0f, opc[k] }, .mpfx = pfx[k], .regf = r,
                .regf_is_reg = true, .rm = reg_op(x) };
    if (k == 4) { /* pinsrw xmm, r32/m16, imm8 */
        in.size = 4, in.regf = x, in.rm = rn(g, 3) ? reg_op(rn(g, 16)) : sse_mem(g, false, 2);
    }
    if (k >= 3)
        in.immv = rn(g, 256), in.imm_size = 1;
    if (in.size == 8)
        in.no_w = rn(g, 2); /* REX.W or not: the same result */
    emit(g, &in);
    g->simd++;
}

/* movntdq movntps movntpd m128, xmm (aligned); movnti m32/m64, r;
 * maskmovdqu xmm, xmm to [rdi] */
static void t_xstore(gen *g)
{
    static const uint8_t pfx[] = { 0x66, 0, 0x66 }, opc[] = { 0xe7, 0x2b, 0x2b };
    unsigned k = rn(g, 5);
    insn in = { .size = 16, .n_op = 2, .op = { 0x0f }, .regf = rn(g, 16), .regf_is_reg = true };
    if (k < 3) {
        in.mpfx = pfx[k], in.op[1] = opc[k], in.rm = sse_mem(g, true, 16);
    } else if (k == 3) {
        in.size = rn(g, 2) ? 8 : 4, in.op[1] = 0xc3, in.rm = sse_mem(g, false, in.size);
    } else {
        load_reg(g, RDI, R15_VAL - 0x100 + rn(g, 0x200));
        in.mpfx = 0x66, in.op[1] = 0xf7, in.rm = reg_op(rn(g, 16));
    }
    emit(g, &in);
    g->simd++;
}

#if SOFTMMU_SSSE3
/* SSSE3: 66 0f 38 xx xmm, xmm/m128, and palignr 66 0f 3a 0f ib */
static void t_ssse3(gen *g)
{
    static const uint8_t opc[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                   0x09, 0x0a, 0x0b, 0x1c, 0x1d, 0x1e, 0x0f };
    unsigned k = rn(g, sizeof opc);
    bool align = k == sizeof opc - 1;
    insn in = { .size = 16, .n_op = 3, .op = { 0x0f, align ? 0x3a : 0x38, opc[k] }, .mpfx = 0x66,
                .regf = rn(g, 16), .regf_is_reg = true, .rm = reg_op(rn(g, 16)) };
    if (rn(g, 3) == 0)
        in.rm = sse_mem(g, true, 16);
    /* Unicorn 2.0.1 gets phadd and phsub wrong with the same register as
     * both operands (it reads the destination after writing part of it);
     * test_cpu_isa checks that case against the host CPU */
    bool horizontal = (opc[k] >= 1 && opc[k] <= 3) || (opc[k] >= 5 && opc[k] <= 7);
    if (horizontal && in.rm.kind == M_REG && in.rm.reg == in.regf)
        in.rm.reg = (in.regf + 1) & 15;
    if (align)
        in.immv = rn(g, 4) ? rn(g, 34) : rn(g, 256), in.imm_size = 1;
    emit(g, &in);
    g->simd++;
}

/* SSE3's moves: movddup (f2 0f 12, m64), movshdup / movsldup (f3 0f 16 /
 * 12, aligned m128), lddqu (f2 0f f0, any m128) */
static void t_sse3_mov(gen *g)
{
    static const uint8_t pfx[] = { 0xf2, 0xf3, 0xf3, 0xf2 }, opc[] = { 0x12, 0x16, 0x12, 0xf0 };
    unsigned k = rn(g, 4);
    insn in = { .size = 16, .n_op = 2, .op = { 0x0f, opc[k] }, .mpfx = pfx[k], .regf = rn(g, 16),
                .regf_is_reg = true, .rm = reg_op(rn(g, 16)) };
    if (k == 3 || rn(g, 3) == 0)
        in.rm = k == 0 ? sse_mem(g, false, 8) : sse_mem(g, k != 3, 16);
    emit(g, &in);
    g->simd++;
}
#else
static void t_ssse3(gen *g)
{
    t_xint(g);
}

static void t_sse3_mov(gen *g)
{
    t_xint(g);
}
#endif

static void t_simd(gen *g)
{
    switch (rn(g, 15)) {
    case 12: case 13: t_ssse3(g); break;
    case 14: t_sse3_mov(g); break;
    case 0: t_xshift_imm(g); break;
    case 1: case 2: t_xmov_part(g); break;
    case 3: t_xgpr(g); break;
    case 4: t_xstore(g); break;
    default: t_xint(g); break;
    }
}

/* ------------------------------------------------------ the integer tail */

/* rcl/rcr r/m with 1, imm8 or CL (d0-d3 /2 /3, c0-c1 /2 /3) */
static void t_rcx(gen *g)
{
    unsigned size = pick_size(g), form = rn(g, 3), op = 2 + rn(g, 2), bits = size * 8;
    unsigned cnt = form == 0 ? 1 : rn(g, 4) == 0 ? rn(g, 256) : rn(g, bits + 3);
    define_flags(g); /* reads CF */
    insn in = { .size = size, .n_op = 1, .regf = op, .rm = pick_rm(g, size, rn(g, 2), true) };
    if (form == 0)
        in.op[0] = size == 1 ? 0xd0 : 0xd1;
    else if (form == 1)
        in.op[0] = size == 1 ? 0xd2 : 0xd3, load_reg(g, RCX, cnt);
    else
        in.op[0] = size == 1 ? 0xc0 : 0xc1, in.immv = cnt, in.imm_size = 1;
    if (form == 1 && in.rm.kind == M_REG && in.rm.reg == RCX)
        in.rm = reg_op(RAX);
    emit(g, &in);
    /* OF for counts above 1 is undefined in the SDM: test_cpu_isa checks it
     * against the host CPU; Unicorn computes it otherwise */
    unsigned n = cnt & (size == 8 ? 63 : 31);
    if (n > 1)
        g->uf |= OF;
    else if (n == 1)
        g->uf &= ~(unsigned)OF;
}

/* lzcnt tzcnt (f3 0f bd / bc). Unicorn 2.0.1 rejects popcnt whatever its
 * CPU model (test_cpu_isa checks popcnt against the host instead), and runs
 * f3 0f bc as tzcnt, which differs from bsf (ours: no BMI1 in the model)
 * only for a zero source: tzcnt gets non-zero ones. */
static void t_bitcount(gen *g)
{
    unsigned size = 2 << rn(g, 3), k = 1 + rn(g, 2);
    static const uint8_t opc[] = { 0xb8, 0xbd, 0xbc };
    insn in = { .size = size, .n_op = 2, .op = { 0x0f, opc[k] }, .mpfx = 0xf3, .regf = dst_reg(g, size, false),
                .regf_is_reg = true, .rm = pick_rm(g, size, false, false) };
    if ((in.rm.kind == M_REG && rn(g, 4) == 0) || k == 2) { /* a source of 0, one bit, random */
        in.rm = reg_op(WRITABLE[rn(g, sizeof WRITABLE)]);
        load_reg(g, in.rm.reg, (k == 1 && rn(g, 2) ? 0 : 1ull << rn(g, 8 * size)) | (rn(g, 2) ? rnd(g) : 0));
    }
    if (k == 2 && in.rm.reg == in.regf) /* the load above must stay the source */
        in.regf = in.regf == RAX ? RDX : RAX;
    emit(g, &in);
    if (k == 0)
        flags_write(g, ALLF, 0);
    else if (k == 1)
        flags_write(g, CF | ZF, OF | SF | AF | PF);
    else /* bsf in the model (no BMI1), tzcnt in Unicorn: ZF differs when bit 0 is set */
        flags_write(g, 0, ALLF);
}

/* cmpxchg8b m64 / cmpxchg16b m128 (aligned), twice on the same address:
 * the first mostly fails and loads the accumulator, the second succeeds */
static void t_cmpxchg_wide(gen *g)
{
    bool wide = rn(g, 2);
    insn in = { .size = wide ? 8 : 4, .n_op = 2, .op = { 0x0f, 0xc7 }, .regf = 1,
                .rm = wide ? sse_mem(g, true, 16) : pick_mem(g, 8) };
    if (rn(g, 4) == 0)
        b(g, 0xf0); /* lock */
    emit(g, &in);
    if (rn(g, 2))
        emit(g, &in);
    flags_write(g, ZF, 0);
}

/* mov rbp, rsp; enter size, level; leave: reads old frame pointers from
 * the stack for level > 1 */
static void t_enter(gen *g)
{
    b(g, 0x48), b(g, 0x89), b(g, 0xe5);
    b(g, 0xc8), imm(g, 8 * rn(g, 8), 2), b(g, (uint8_t)(rn(g, 4) ? rn(g, 5) : rn(g, 256)));
    b(g, 0xc9);
}

static void t_tail(gen *g)
{
    switch (rn(g, 6)) {
    case 0: case 1: t_rcx(g); break;
    case 2: case 3: t_bitcount(g); break;
    case 4: t_cmpxchg_wide(g); break;
    default: t_enter(g); break;
    }
}

/* SSE floating point: every arithmetic, compare and conversion form, with
 * ldmxcsr of a masked MXCSR (rounding modes, DAZ) now and then. Left to
 * test_sse_fp (the host CPU as oracle), because Unicorn 2.0.1 (QEMU 5.0)
 * differs from hardware there: rcpps/rcpss/rsqrtps/rsqrtss (exact results
 * instead of the 12-bit approximation), FTZ (ignored), DAZ (minps & co
 * return the denormal source unflushed), MXCSR exception
 * flags (never set), unmasked exceptions (no #XM), stmxcsr (its flags).
 * Where both operands are NaNs Unicorn returns the one with the larger
 * significand, hardware the first source's: compare() accepts two NaNs in
 * a lane, and fp_operand() makes every initial NaN the same one. A NaN
 * made later can still meet another: seed 3230 of 6000 adds, in a lane,
 * the QNaN 0x7fc00000 (first) and 0xfffffae4 (cvttps2dq's -1308, a NaN as a
 * float); hardware (run natively) keeps 0x7fc00000, Unicorn 0xfffffae4, and
 * a later cmpunordpd sees the difference. Such a mismatch is Unicorn's. */
static void t_sse_fp(gen *g)
{
    static const struct { uint8_t pfx, op, msize, kind; } E[] = {
#define A4(op) { 0, op, 16, 0 }, { 0x66, op, 16, 0 }, { 0xf3, op, 4, 0 }, { 0xf2, op, 8, 0 }
        A4(0x58), A4(0x59), A4(0x5c), A4(0x5d), A4(0x5e), A4(0x5f), A4(0x51), A4(0xc2),
#undef A4
        { 0, 0x5a, 8, 0 }, { 0x66, 0x5a, 16, 0 }, { 0xf3, 0x5a, 4, 0 }, { 0xf2, 0x5a, 8, 0 },
        { 0, 0x5b, 16, 0 }, { 0x66, 0x5b, 16, 0 }, { 0xf3, 0x5b, 16, 0 }, { 0x66, 0xe6, 16, 0 },
        { 0xf2, 0xe6, 16, 0 }, { 0xf3, 0xe6, 8, 0 }, { 0, 0x2e, 4, 3 }, { 0x66, 0x2e, 8, 3 },
        { 0, 0x2f, 4, 3 }, { 0x66, 0x2f, 8, 3 },
        { 0xf3, 0x2a, 4, 1 }, { 0xf2, 0x2a, 4, 1 },                                   /* cvtsi2ss/sd */
        { 0xf3, 0x2c, 4, 2 }, { 0xf3, 0x2d, 4, 2 }, { 0xf2, 0x2c, 8, 2 }, { 0xf2, 0x2d, 8, 2 }, /* ->si */
        { 0, 0xae, 4, 4 },                                                            /* ldmxcsr */
    };
    unsigned k = rn(g, sizeof E / sizeof *E), kind = E[k].kind, msize = E[k].msize;
    bool mem = rn(g, 3) == 0;
    insn in = { .size = 16, .mpfx = E[k].pfx, .n_op = 2, .op = { 0x0f, E[k].op }, .regf = rn(g, 16),
                .regf_is_reg = true, .rm = reg_op(rn(g, 16)) };
    if (E[k].op == 0xc2)
        in.immv = rn(g, 8), in.imm_size = 1; /* Unicorn: #UD for 8..255, hardware ignores bits 7:3 */
    if (kind == 1 || kind == 2) { /* a GPR operand: REX.W picks 64 bits */
        in.size = rn(g, 2) ? 8 : 4;
        if (kind == 1)
            in.rm = mem ? sse_mem(g, false, in.size) : reg_op(rn(g, 16));
        else
            in.regf = WRITABLE[rn(g, sizeof WRITABLE)];
        msize = kind == 1 ? in.size : msize;
    }
    if (kind == 4) { /* mov dword [m], masked mxcsr; ldmxcsr [m] */
        rmop m = sse_mem(g, true, 4); /* not r14-indexed: emit picks its scale afresh */
        insn st = { .size = 4, .n_op = 1, .op = { 0xc7 }, .rm = m, .immv = (rn(g, 4) << 13) | 0x1f80 | rn(g, 64),
                    .imm_size = 4 };
        emit(g, &st);
        in.regf = 2, in.regf_is_reg = false, in.rm = m;
    } else if (mem && kind != 1) {
        in.rm = sse_mem(g, msize == 16, msize);
    }
    emit(g, &in);
    if (kind == 3)
        flags_write(g, ALLF, 0);
}

static void t_simple(gen *g); /* an instruction that is safe to skip or repeat */

/* an instruction generated into tmp, to be placed at guest address at */
static void side_insn(gen *g, gen *tmp, uint64_t at)
{
    tmp->rng = g->rng, tmp->uf = g->uf, tmp->depth = g->depth, tmp->n = 0, tmp->base = at;
    t_simple(tmp);
    g->rng = tmp->rng;
}

static void append(gen *g, const gen *tmp)
{
    memcpy(g->code + g->n, tmp->code, tmp->n);
    memcpy(g->uf_at + g->n, tmp->uf_at, tmp->n * sizeof *tmp->uf_at);
    g->n += tmp->n;
}

/* jcc over one instruction */
static void t_jcc(gen *g)
{
    static gen tmp;
    define_flags(g);
    bool near = rn(g, 2);
    side_insn(g, &tmp, g->base + g->n + (near ? 6 : 2));
    if (near)
        b(g, 0x0f), b(g, (uint8_t)(0x80 + rn(g, 16))), imm(g, tmp.n, 4);
    else
        b(g, (uint8_t)(0x70 + rn(g, 16))), b(g, (uint8_t)tmp.n);
    append(g, &tmp);
    g->uf |= tmp.uf;
}

/* [push imm] call target; jmp over; target: insn; ret [8] */
static void t_call(gen *g)
{
    static gen tmp;
    bool retimm = rn(g, 3) == 0;
    side_insn(g, &tmp, g->base + g->n + (retimm ? 2 : 0) + 7);
    if (retimm)
        b(g, 0x6a), b(g, 0x11); /* push 0x11: dropped by ret 8 */
    b(g, 0xe8), imm(g, 2, 4);                                 /* call +2 */
    b(g, 0xeb), b(g, (uint8_t)(tmp.n + (retimm ? 3 : 1)));   /* jmp over */
    append(g, &tmp);
    if (retimm)
        b(g, 0xc2), imm(g, 8, 2);
    else
        b(g, 0xc3);
    g->uf |= tmp.uf;
}

/* lea r, [rip + target]; then jmp r / call r / jmp [mem] */
static void t_indirect(gen *g)
{
    unsigned r = WRITABLE[rn(g, sizeof WRITABLE)], k = rn(g, 4);
    size_t lea_at = g->n;
    b(g, (uint8_t)(0x48 | (r >= 8 ? 4 : 0))), b(g, 0x8d), b(g, (uint8_t)(0x05 | ((r & 7) << 3))), imm(g, 0, 4);
    size_t after_lea = g->n, target;
    if (k == 0) { /* jmp r; int3 (skipped) */
        if (r >= 8)
            b(g, 0x41);
        b(g, 0xff), b(g, (uint8_t)(0xe0 | (r & 7))), b(g, 0xcc);
        target = g->n;
    } else if (k == 1) { /* call r; jmp +1; target: ret */
        if (r >= 8)
            b(g, 0x41);
        b(g, 0xff), b(g, (uint8_t)(0xd0 | (r & 7))), b(g, 0xeb), b(g, 1);
        target = g->n;
        b(g, 0xc3);
    } else if (k == 2) { /* mov [r15+8], r; jmp [r15+8]; int3 (skipped) */
        b(g, (uint8_t)(0x49 | (r >= 8 ? 4 : 0))), b(g, 0x89), b(g, (uint8_t)(0x47 | ((r & 7) << 3))), b(g, 8);
        b(g, 0x41), b(g, 0xff), b(g, 0x67), b(g, 8), b(g, 0xcc);
        target = g->n;
    } else { /* mov [r15+8], r; call [r15+8]; jmp +1; target: ret */
        b(g, (uint8_t)(0x49 | (r >= 8 ? 4 : 0))), b(g, 0x89), b(g, (uint8_t)(0x47 | ((r & 7) << 3))), b(g, 8);
        b(g, 0x41), b(g, 0xff), b(g, 0x57), b(g, 8), b(g, 0xeb), b(g, 1);
        target = g->n;
        b(g, 0xc3);
    }
    uint32_t disp = (uint32_t)(target - after_lea);
    memcpy(g->code + lea_at + 3, &disp, 4);
}

/* mov ecx, n; body; loop/dec-jnz */
static void t_loop(gen *g)
{
    b(g, 0xb9), imm(g, 1 + rn(g, 4), 4);
    size_t top = g->n;
    /* body: ALU reg, reg on registers other than RCX */
    unsigned dst, src;
    do
        dst = WRITABLE[rn(g, sizeof WRITABLE)];
    while (dst == RCX);
    src = rn(g, 16);
    b(g, (uint8_t)(0x48 | (src >= 8 ? 4 : 0) | (dst >= 8))), b(g, 0x01), b(g, (uint8_t)(0xc0 | ((src & 7) << 3) | (dst & 7)));
    if (rn(g, 2)) { /* loop, loope, loopne: the add above defines ZF */
        b(g, (uint8_t)(0xe0 + rn(g, 3))), b(g, (uint8_t)(top - (g->n + 1)));
    } else {
        b(g, 0xff), b(g, 0xc9);                       /* dec ecx */
        b(g, 0x75), b(g, (uint8_t)(top - (g->n + 1))); /* jnz */
    }
    g->uf = 0;
}

/* mov ecx, 0 or 1; jrcxz over one instruction */
static void t_jrcxz(gen *g)
{
    static gen tmp;
    b(g, 0xb9), imm(g, rn(g, 2), 4);
    side_insn(g, &tmp, g->base + g->n + 2);
    b(g, 0xe3), b(g, (uint8_t)tmp.n);
    append(g, &tmp);
    g->uf |= tmp.uf;
}

static void t_leave(gen *g)
{
    b(g, 0x55), b(g, 0x48), b(g, 0x89), b(g, 0xe5); /* push rbp; mov rbp, rsp */
    b(g, 0x48), b(g, 0x83), b(g, 0xec), b(g, (uint8_t)(8 * rn(g, 4))); /* sub rsp, n */
    b(g, 0xc9);                                     /* leave */
    g->uf = 0;
}

static void t_simple(gen *g)
{
    if (rn(g, 2))
        t_alu(g);
    else
        t_mov(g);
}

static void (*const TEMPLATES[])(gen *) = {
    t_alu, t_alu, t_alu, t_alu, t_test, t_mov, t_mov, t_mov, t_unary, t_unary, t_muldiv, t_imul,
    t_shift, t_shift, t_shift, t_shd, t_ext, t_lea, t_push_pop, t_push_pop, t_xchg, t_bswap,
    t_cmov_set, t_cmov_set, t_bt, t_bsx, t_misc, t_string, t_jcc, t_jcc, t_call, t_indirect, t_loop,
    t_leave, t_jrcxz, t_sse, t_sse, t_sse, t_tail, t_tail, t_sse_fp, t_sse_fp, t_sse_fp, t_sse_fp,
};

/* The SIMD-heavy mix of simd_programs_match_unicorn: packed integer work
 * on edge-valued lanes. It is kept apart from the float mix above: integer
 * lanes such as all-ones are NaNs to float arithmetic, and where two NaNs
 * meet Unicorn picks a different one than hardware (see t_sse_fp). */
static void (*const SIMD_TEMPLATES[])(gen *) = {
    t_simd, t_simd, t_simd, t_simd, t_simd, t_simd, t_simd, t_simd, t_sse, t_sse, t_alu, t_mov, t_tail,
};

static void gen_program(gen *g, uint64_t seed, unsigned n_insns, bool simd)
{
    memset(g, 0, sizeof *g);
    g->rng = seed * 0x9e3779b97f4a7c15ull + 1;
    g->base = CODE_ADDR;
    for (unsigned i = 0; i < n_insns && g->n < CODE_SIZE - 256; i++) {
        if (simd)
            SIMD_TEMPLATES[rn(g, sizeof SIMD_TEMPLATES / sizeof *SIMD_TEMPLATES)](g);
        else
            TEMPLATES[rn(g, sizeof TEMPLATES / sizeof *TEMPLATES)](g);
    }
}

/* ---------------------------------------------------------- two machines */

typedef struct state {
    uint64_t regs[18]; /* 16 GPRs, RIP, RFLAGS */
    uint64_t xmm[16][2]; /* [0] the low quadword */
    uint32_t mxcsr;      /* exception flags are not compared: Unicorn never sets them */
    uint8_t  scratch[SCRATCH_SIZE], stack[STACK_SIZE];
    int      exit;     /* 0 end reached, 1 exception, 2 fault, 3 other, 4 invalid */
} state;

static const int UC_REGS[18] = {
    UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX, UC_X86_REG_RSP, UC_X86_REG_RBP,
    UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15, UC_X86_REG_RIP, UC_X86_REG_RFLAGS,
};

/* 16 bytes of lanes of one width (1, 2, 4 or 8 bytes), each an edge value
 * of integer arithmetic (0, 1, -1, the signed and unsigned bounds and
 * their neighbours, powers of two) or random */
static void edge_fill(gen *r, uint8_t *p)
{
    unsigned w = 1u << rn(r, 4), bits = 8 * w;
    for (unsigned i = 0; i < 16; i += w) {
        uint64_t top = 1ull << (bits - 1), v;
        switch (rn(r, 9)) {
        case 0: v = 0; break;
        case 1: v = 1; break;
        case 2: v = ~0ull; break;
        case 3: v = top; break;          /* signed minimum */
        case 4: v = top - 1; break;      /* signed maximum */
        case 5: v = top + 1; break;
        case 6: v = 1ull << rn(r, bits); break;
        case 7: v = rn(r, 2) ? rn(r, 300) : -(uint64_t)rn(r, 300); break;
        default: v = rnd(r); break;
        }
        memcpy(p + i, &v, w); /* the low bytes: little-endian host */
    }
}

/* An edge-biased XMM value whose NaNs are all the positive default QNaN
 * (of either width): where two NaNs meet, Unicorn picks by significand and
 * sign, hardware the first operand's, so they agree only when the NaNs are
 * equal (test_sse_fp checks NaN propagation against the host). */
static void fp_operand(uint64_t *r, uint64_t x[2])
{
    fe_xmm(r, x);
    for (int h = 0; h < 2; h++) {
        if ((x[h] & ~(1ull << 63)) > 0x7ff0000000000000ull) {
            x[h] = 0x7ff8000000000000ull;
            continue;
        }
        for (int s = 0; s < 64; s += 32)
            if (((x[h] >> s) & 0x7fffffff) > 0x7f800000)
                x[h] = (x[h] & ~(0xffffffffull << s)) | 0x7fc00000ull << s;
    }
}

static void init_state(state *s, uint64_t seed, bool simd)
{
    gen r = { .rng = seed * 0x2545f4914f6cdd1dull + 7 };
    for (int i = 0; i < 16; i++)
        s->regs[i] = rn(&r, 4) == 0 ? rn(&r, 256) : rnd(&r);
    s->regs[RSP] = STACK + STACK_SIZE / 2;
    s->regs[R14] = rn(&r, 0x40);
    s->regs[R15] = R15_VAL;
    s->regs[16] = CODE_ADDR;
    s->regs[17] = 0x2 | (rnd(&r) & 0xcd5);
    for (size_t i = 0; i < SCRATCH_SIZE; i++)
        s->scratch[i] = (uint8_t)rnd(&r);
    for (size_t i = 0; simd && i < SCRATCH_SIZE; i += 16)
        if (rn(&r, 2))
            edge_fill(&r, s->scratch + i);
    for (size_t i = 0; i < STACK_SIZE; i++)
        s->stack[i] = (uint8_t)rnd(&r);
    for (int i = 0; i < 16; i++) {
        s->xmm[i][0] = rnd(&r), s->xmm[i][1] = rn(&r, 4) ? rnd(&r) : 0;
        if (simd && rn(&r, 3))
            edge_fill(&r, (uint8_t *)s->xmm[i]);
        else if (!simd && rn(&r, 2))
            fp_operand(&r.rng, s->xmm[i]);
    }
    /* float programs: float operands in memory too, every rounding mode;
     * all exceptions masked, FTZ and DAZ off (see t_sse_fp). The SIMD mix
     * has integer edge lanes instead, and no float arithmetic. */
    for (size_t i = 0; !simd && i < SCRATCH_SIZE; i += 16)
        if (rn(&r, 2)) {
            uint64_t v[2]; /* scratch is not 8-byte aligned in state */
            fp_operand(&r.rng, v);
            memcpy(s->scratch + i, v, 16);
        }
    s->mxcsr = simd ? 0x1f80 : (rn(&r, 4) << 13) | 0x1f80 | rn(&r, 64);
}

static void run_unicorn(const gen *g, const state *in, state *out)
{
    uc_engine *uc;
    cr_assert_eq(uc_open(UC_ARCH_X86, UC_MODE_64, &uc), UC_ERR_OK);
    uc_mem_map(uc, CODE_ADDR, CODE_SIZE, UC_PROT_READ | UC_PROT_EXEC);
    uc_mem_map(uc, SCRATCH, SCRATCH_SIZE, UC_PROT_READ | UC_PROT_WRITE);
    uc_mem_map(uc, STACK, STACK_SIZE, UC_PROT_READ | UC_PROT_WRITE);
    uc_mem_write(uc, CODE_ADDR, g->code, g->n);
    uc_mem_write(uc, SCRATCH, in->scratch, SCRATCH_SIZE);
    uc_mem_write(uc, STACK, in->stack, STACK_SIZE);
    for (int i = 0; i < 18; i++)
        uc_reg_write(uc, UC_REGS[i], &in->regs[i]);
    uint64_t fs = FS_VAL, gs = GS_VAL;
    uc_reg_write(uc, UC_X86_REG_FS_BASE, &fs);
    uc_reg_write(uc, UC_X86_REG_GS_BASE, &gs);
    for (int i = 0; i < 16; i++)
        uc_reg_write(uc, UC_X86_REG_XMM0 + i, in->xmm[i]);
    uint64_t mx = in->mxcsr;
    uc_reg_write(uc, UC_X86_REG_MXCSR, &mx);
    uc_err err = uc_emu_start(uc, CODE_ADDR, CODE_ADDR + g->n, 0, 100000);
    for (int i = 0; i < 18; i++)
        uc_reg_read(uc, UC_REGS[i], &out->regs[i]);
    for (int i = 0; i < 16; i++)
        uc_reg_read(uc, UC_X86_REG_XMM0 + i, out->xmm[i]);
    mx = 0;
    uc_reg_read(uc, UC_X86_REG_MXCSR, &mx);
    out->mxcsr = (uint32_t)mx;
    uc_mem_read(uc, SCRATCH, out->scratch, SCRATCH_SIZE);
    uc_mem_read(uc, STACK, out->stack, STACK_SIZE);
    bool fault = err == UC_ERR_READ_UNMAPPED || err == UC_ERR_WRITE_UNMAPPED || err == UC_ERR_FETCH_UNMAPPED
                 || err == UC_ERR_READ_PROT || err == UC_ERR_WRITE_PROT || err == UC_ERR_FETCH_PROT;
    out->exit = err == UC_ERR_OK ? 0 : err == UC_ERR_EXCEPTION ? 1 : fault ? 2 : err == UC_ERR_INSN_INVALID ? 4 : 3;
    uc_close(uc);
}

/* movdqu between each XMM register and XMM_DATA + 16 * n: f3 [44] 0f 6f/7f
 * modrm(reg n, sib) 25 disp32; then ldmxcsr/stmxcsr [XMM_DATA + 256] */
static size_t xmm_code(uint8_t *p, bool store)
{
    uint32_t mx_at = (uint32_t)(XMM_DATA + 256);
    size_t n = 0;
    p[n++] = 0x0f, p[n++] = 0xae, p[n++] = store ? 0x1c : 0x14, p[n++] = 0x25;
    memcpy(p + n, &mx_at, 4);
    n += 4;
    for (unsigned r = 0; r < 16; r++) {
        uint32_t at = (uint32_t)(XMM_DATA + 16 * r);
        p[n++] = 0xf3;
        if (r >= 8)
            p[n++] = 0x44;
        p[n++] = 0x0f, p[n++] = store ? 0x7f : 0x6f, p[n++] = (uint8_t)(0x04 | (r & 7) << 3), p[n++] = 0x25;
        memcpy(p + n, &at, 4);
        n += 4;
    }
    return n;
}

/* runs the XMM prologue (load) or epilogue (store) */
static void xmm_transfer(cpu_t *c, mmu_t *m, bool store)
{
    uint8_t code[16 * 10 + 8];
    size_t n = xmm_code(code, store);
    cpu_exit ex;
    OK(mmu_write(m, XMM_CODE, code, n));
    OK(cpu_run(c, XMM_CODE, XMM_CODE + n, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_UNTIL);
}

static void run_softmmu(const gen *g, const state *in, state *out)
{
    mmu_t *m;
    cpu_t *c;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, CODE_ADDR, CODE_SIZE, MMU_PROT_READ | MMU_PROT_EXEC, "code"));
    OK(mmu_map(m, SCRATCH, SCRATCH_SIZE, MMU_PROT_READ | MMU_PROT_WRITE, "scratch"));
    OK(mmu_map(m, STACK, STACK_SIZE, MMU_PROT_READ | MMU_PROT_WRITE, "stack"));
    OK(mmu_write(m, CODE_ADDR, g->code, g->n));
    OK(mmu_write(m, SCRATCH, in->scratch, SCRATCH_SIZE));
    OK(mmu_write(m, STACK, in->stack, STACK_SIZE));
    OK(mmu_map(m, XMM_CODE, 0x1000, MMU_PROT_READ | MMU_PROT_EXEC, "xmm code"));
    OK(mmu_map(m, XMM_DATA, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, "xmm data"));
    OK(mmu_write(m, XMM_DATA, in->xmm, sizeof in->xmm)); /* little-endian host */
    OK(mmu_write(m, XMM_DATA + 256, &in->mxcsr, 4));
    OK(cpu_open(m, &c));
    xmm_transfer(c, m, false);
    for (int i = 0; i < 18; i++)
        cpu_reg_write(c, (cpu_reg)i, in->regs[i]);
    cpu_reg_write(c, CPU_FS_BASE, FS_VAL);
    cpu_reg_write(c, CPU_GS_BASE, GS_VAL);
    cpu_exit ex;
    OK(cpu_run(c, CODE_ADDR, CODE_ADDR + g->n, 100000, &ex));
    for (int i = 0; i < 18; i++)
        out->regs[i] = cpu_reg_read(c, (cpu_reg)i);
    xmm_transfer(c, m, true);
    OK(mmu_read(m, XMM_DATA, out->xmm, sizeof out->xmm));
    OK(mmu_read(m, XMM_DATA + 256, &out->mxcsr, 4));
    OK(mmu_read(m, SCRATCH, out->scratch, SCRATCH_SIZE));
    OK(mmu_read(m, STACK, out->stack, STACK_SIZE));
    out->exit = ex == CPU_EXIT_UNTIL ? 0 : ex == CPU_EXIT_EXCEPTION ? 1 : ex == CPU_EXIT_MEM_FAULT ? 2
              : ex == CPU_EXIT_INSN_INVALID ? 4 : 3;
    cpu_close(c);
    mmu_close(m);
}

/* ------------------------------------------------------------- reporting */

static const char *const NAMES[18] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9",
                                       "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags" };

static void print_program(const gen *g)
{
    csh h;
    cs_insn *ci;
    cs_open(CS_ARCH_X86, CS_MODE_64, &h);
    size_t n = cs_disasm(h, g->code, g->n, CODE_ADDR, 0, &ci);
    for (size_t i = 0; i < n; i++) {
        char hex[64] = "";
        for (unsigned k = 0; k < ci[i].size && k < 15; k++)
            sprintf(hex + 3 * k, "%02x ", ci[i].bytes[k]);
        fprintf(stderr, "  %#7lx  %-45s %s %s\n", (unsigned long)ci[i].address, hex, ci[i].mnemonic, ci[i].op_str);
    }
    size_t done = n ? ci[n - 1].address + ci[n - 1].size - CODE_ADDR : 0;
    if (done < g->n) {
        fprintf(stderr, "  %#7lx  undecodable:", (unsigned long)(CODE_ADDR + done));
        for (size_t i = done; i < g->n && i < done + 16; i++)
            fprintf(stderr, " %02x", g->code[i]);
        fprintf(stderr, "\n");
    }
    cs_free(ci, n);
    cs_close(&h);
}

static bool f32_nan(uint32_t v)
{
    return (v & 0x7fffffff) > 0x7f800000;
}

static bool f64_nan(uint64_t v)
{
    return (v & ~(1ull << 63)) > 0x7ff0000000000000ull;
}

/* equal, but for NaNs in the same lanes (see t_sse_fp) */
static bool xmm_same(const uint64_t *a, const uint64_t *u)
{
    for (int h = 0; h < 2; h++) {
        if (a[h] == u[h] || (f64_nan(a[h]) && f64_nan(u[h])))
            continue;
        for (int s = 0; s < 64; s += 32) {
            uint32_t x = (uint32_t)(a[h] >> s), y = (uint32_t)(u[h] >> s);
            if (x != y && !(f32_nan(x) && f32_nan(y)))
                return false;
        }
    }
    return true;
}

static bool compare(uint64_t seed, const gen *g, const state *a, const state *u)
{
    bool bad = a->exit != u->exit;
    uint64_t off = a->regs[16] - CODE_ADDR; /* an early exit: the flags defined there */
    unsigned uf = off < g->n ? g->uf_at[off] : g->uf;
    unsigned flag_mask = ~uf & (ALLF | 0x400);
    if (a->exit == 2 && u->exit == 2)
        flag_mask = 0; /* Unicorn's lazy flags at a memory fault can be those of an earlier instruction */
    for (int i = 0; i < 18; i++) {
        uint64_t x = a->regs[i], y = u->regs[i];
        if (i == 17)
            x &= flag_mask, y &= flag_mask;
        bad |= x != y;
    }
    for (int i = 0; i < 16; i++)
        bad |= !xmm_same(a->xmm[i], u->xmm[i]);
    bad |= (a->mxcsr ^ u->mxcsr) & ~0x3fu; /* the flags: see t_sse_fp */
    bad |= memcmp(a->scratch, u->scratch, SCRATCH_SIZE) != 0 || memcmp(a->stack, u->stack, STACK_SIZE) != 0;
    if (!bad)
        return true;
    fprintf(stderr, "MISMATCH seed %lu: exit softmmu %d unicorn %d, undefined flags %#x, mxcsr softmmu %#x unicorn %#x\n",
            (unsigned long)seed, a->exit, u->exit, uf, a->mxcsr, u->mxcsr);
    print_program(g);
    for (int i = 0; i < 18; i++)
        if (a->regs[i] != u->regs[i])
            fprintf(stderr, "  %-6s softmmu %#18lx unicorn %#18lx\n", NAMES[i], (unsigned long)a->regs[i],
                    (unsigned long)u->regs[i]);
    for (int i = 0; i < 16; i++)
        if (!xmm_same(a->xmm[i], u->xmm[i]))
            fprintf(stderr, "  xmm%-3d softmmu %016lx:%016lx unicorn %016lx:%016lx\n", i, (unsigned long)a->xmm[i][1],
                    (unsigned long)a->xmm[i][0], (unsigned long)u->xmm[i][1], (unsigned long)u->xmm[i][0]);
    for (size_t i = 0; i < SCRATCH_SIZE; i++)
        if (a->scratch[i] != u->scratch[i]) {
            fprintf(stderr, "  memory %#lx: softmmu %02x unicorn %02x\n", (unsigned long)(SCRATCH + i), a->scratch[i],
                    u->scratch[i]);
            break;
        }
    for (size_t i = 0; i < STACK_SIZE; i++)
        if (a->stack[i] != u->stack[i]) {
            fprintf(stderr, "  stack %#lx: softmmu %02x unicorn %02x\n", (unsigned long)(STACK + i), a->stack[i],
                    u->stack[i]);
            break;
        }
    return false;
}

static unsigned long env_num(const char *name, unsigned long dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtoul(s, NULL, 0) : dflt;
}

/* Runs n programs of up to max_len instructions from seed0; SSE
 * instructions of the programs that ran to their end on both count as
 * executed. Returns the number of mismatches. */
static unsigned long diff_run(const char *what, unsigned long n, unsigned long seed0, unsigned max_len, bool simd)
{
    static gen g;
    static state in, a, u;
    unsigned long exits[5] = { 0 }, bad = 0, simd_done = 0;
    for (unsigned long i = 0; i < n; i++) {
        uint64_t seed = seed0 + i;
        gen_program(&g, seed, 1 + (unsigned)(seed % max_len), simd);
        init_state(&in, seed, simd);
        run_softmmu(&g, &in, &a);
        run_unicorn(&g, &in, &u);
        exits[a.exit]++;
        simd_done += a.exit == 0 && u.exit == 0 ? g.simd : 0;
        if (!compare(seed, &g, &a, &u) && ++bad >= 10)
            break;
    }
    fprintf(stderr, "cpu_diff %s: %lu programs from seed %lu, %lu mismatches (ran to the end %lu, exception %lu, "
            "fault %lu, invalid %lu, other %lu); %lu SSE instructions executed\n", what, n, seed0, bad, exits[0],
            exits[1], exits[2], exits[4], exits[3], simd_done);
    return bad;
}

Test(cpu_diff, random_programs_match_unicorn, .timeout = 600)
{
    unsigned long n = env_num("SOFTMMU_DIFF_N", 3000), seed0 = env_num("SOFTMMU_DIFF_SEED", 1);
    unsigned long bad = diff_run("mixed", n, seed0, 40, false);
    cr_assert_eq(bad, 0, "%lu of the random programs differ from Unicorn", bad);
}

/* mostly SSE: SOFTMMU_DIFF_SIMD_N programs (default 300) of up to 300
 * instructions; 4000 of them run over a million SSE instructions */
Test(cpu_diff, simd_programs_match_unicorn, .timeout = 3600)
{
    unsigned long n = env_num("SOFTMMU_DIFF_SIMD_N", 300), seed0 = env_num("SOFTMMU_DIFF_SEED", 1);
    unsigned long bad = diff_run("simd", n, seed0, 300, true);
    cr_assert_eq(bad, 0, "%lu of the random SSE programs differ from Unicorn", bad);
}

#else

Test(cpu_diff, random_programs_match_unicorn)
{
    cr_skip_test("Unicorn (libunicorn-dev) not found: differential test skipped");
}

#endif
