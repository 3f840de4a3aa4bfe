/*
 * cpu_int.h - private state of the interpreter, shared by the files of cpu/.
 *
 * Instructions are decoded once (decode.c) into dinsn records held in blocks
 * (cache.c); the run loop (run.c) calls each record's handler (exec_*.c),
 * which returns the record to run next. Flags are kept lazily (flags below).
 */
#ifndef SOFTMMU_CPU_INT_H
#define SOFTMMU_CPU_INT_H

#include <softmmu/cpu.h>

#include <capstone/capstone.h>

#include "compiler.h"
#include "hooklist.h"

/* register slots: the cpu_reg numbering, then a slot that always reads 0
 * (absent base/index/segment of a memory operand) */
enum { SLOT_ZERO = CPU_REG_COUNT, N_SLOTS };

/* RFLAGS bits */
#define FL_CF 0x0001u
#define FL_PF 0x0004u
#define FL_AF 0x0010u
#define FL_ZF 0x0040u
#define FL_SF 0x0080u
#define FL_DF 0x0400u
#define FL_OF 0x0800u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define FL_FIXED 0x0002u /* bit 1 always reads as one */

/* ------------------------------------------------------ decoded instruction */
typedef struct dinsn dinsn;
typedef struct cpu cpu_t;
/* A handler runs one instruction and returns the record to run next, or
 * NULL to leave the loop (c->exit_req says why; RIP already set). */
typedef dinsn *(*exec_fn)(cpu_t *c, dinsn *d);

struct dinsn {
    exec_fn  fn;
    dinsn   *next;   /* fall-through successor (a stub until linked) */
    uint64_t addr;   /* guest address */
    uint64_t page;   /* fetch tag a TLB hit must show; odd = always re-fetch */
    uint64_t imm;    /* immediate masked to size; branch target; shift count */
    int64_t  disp;   /* displacement; absolute for rip-relative operands */
    union {
        dinsn  *taken; /* successor when a branch is taken (a stub until linked) */
        dinsn **link;  /* stubs: the successor pointer to patch once resolved */
    };
    uint8_t len;         /* 0 marks a stub: a not-yet-resolved successor */
    uint8_t size;        /* operand size in bytes */
    uint8_t reg0, reg0_lsb; /* first register operand (Intel order): slot, lsb (8 = AH..BH) */
    uint8_t reg1, reg1_lsb; /* second register operand */
    uint8_t base, index; /* memory operand slots (SLOT_ZERO when absent) */
    uint8_t scale;       /* index shift, 0..3 */
    uint8_t seg;         /* CPU_FS_BASE, CPU_GS_BASE or SLOT_ZERO */
    uint8_t addr32;      /* 0x67 prefix: the effective address wraps at 2^32 */
    uint8_t cc;          /* condition code 0..15 (Intel order) */
    uint8_t variant;     /* per-handler extra (loop kind, flag op ...) */
    uint8_t direct;      /* a direct branch: imm is the target, taken a successor */
};

/* --------------------------------------------------------------- decode cache */
typedef struct dc_slot {
    uint64_t addr;
    uint64_t epoch; /* slot valid only when equal to the cache's epoch */
    dinsn   *block;
} dc_slot;

typedef struct dc_chunk {
    struct dc_chunk *prev;
    size_t           used, cap; /* in dinsn records */
    dinsn            rec[];
} dc_chunk;

typedef struct dcache {
    dc_slot  *slot;
    size_t    cap, count; /* cap a power of two */
    uint64_t  epoch;      /* bumped by a flush: empties every slot at once */
    dc_chunk *chunk;      /* newest arena chunk */
    size_t    bytes;      /* arena size; a flush happens past a limit */
} dcache;

mmu_err dc_init(dcache *dc) MUST_CHECK;
void    dc_free(dcache *dc);
void    dc_flush(dcache *dc);
dinsn  *dc_find(const dcache *dc, uint64_t addr);
/* n contiguous records from the arena, or NULL (NOMEM) */
dinsn  *dc_alloc(dcache *dc, size_t n);
mmu_err dc_insert(dcache *dc, uint64_t addr, dinsn *block) MUST_CHECK;
bool    dc_too_big(const dcache *dc); /* time to flush */

/* ------------------------------------------------------------------- hooks */
/* hook_entry.types of the CPU's hooks (common/hooklist.h) */
enum { CHOOK_CODE = 1, CHOOK_SYSCALL = 2 };

/* attention bits: anything that must leave the fast path of the run loop */
enum { ATTN_STOP = 1, ATTN_CODE_HOOKS = 2 };

/* ------------------------------------------------------------------- state */
#define BLOCK_MAX 64

/* The x87 state kept as the host's FNSAVE image (32-bit protected-mode
 * layout, 108 bytes): fpu_x87.c loads it with frstor, runs the guest's
 * instruction and stores it back with fnsave. Its pointer fields hold host
 * values; the guest's are in struct cpu (x87_fip ...). */
typedef struct x87_image {
    uint16_t cw, cw_pad;
    uint16_t sw, sw_pad; /* TOP in bits 11..13 */
    uint16_t tw, tw_pad; /* two bits per physical register R0..R7: 0 valid, 1 zero, 2 special, 3 empty */
    uint32_t fip;
    uint16_t fcs, fop;   /* fop: the low 11 bits */
    uint32_t fdp;
    uint16_t fds, fds_pad;
    uint8_t  st[8][10];  /* ST(0)..ST(7), 64-bit significand then sign and exponent */
} x87_image; /* instructions per decoded block */

struct cpu {
    uint64_t regs[N_SLOTS]; /* GPRs, RIP, RFLAGS (non-arithmetic bits), FS/GS base, zero */
    uint64_t lf_res;        /* lazy flags: the last result, sign-extended */
    uint64_t lf_aux;        /* lazy flags: CF, PO (CF^OF), AF and the SF/PF inverts */
    mmu_t   *mmu;
    unsigned attn;     /* ATTN_* */
    unsigned exit_req; /* cpu_exit + 1 when a handler ends the run, else 0 */
    uint64_t gen;      /* mmu_code_generation the cache was built at */
    cpu_fault fault;
    mmu_err  run_err;  /* MMU_ERR_NOMEM from a guest access: cpu_run's error */
    dinsn  **link;     /* successor pointer to patch after resolving RIP */
    bool     running;

    hooklist    hooks;
    unsigned    n_code_hooks;
    hook_entry  solo; /* the code hook when there is exactly one (solo.fn set) */

    /* the host's MXCSR while cpu_run runs, or FPU_HOST_UNKNOWN (fpu.h) */
    uint32_t host_mxcsr;
    /* completed instructions since cpu_open (cpu_insn_count) */
    uint64_t insns;
    /* XMM0..15, [0] the low quadword; zero at open. Not in cpu_context,
     * whose public layout predates them. */
    uint64_t xmm[16][2];
    /* time-stamp counter (exec_misc.c): the next value (or its floor on the
     * host clock), the host clock at TSC 0, the deterministic step (0: host) */
    uint64_t tsc_next, tsc_base, tsc_step;
    uint32_t mxcsr;   /* 0x1f80 at open */

    /* ---------------------------------------------------------- x87 FPU */
    x87_image x87;     /* CW (0x037f at open), SW, tag word, ST(0)..ST(7) */
    uint64_t  x87_fip; /* last non-control x87 instruction */
    uint64_t  x87_fdp; /* its memory operand (kept by register forms) */
    uint16_t  x87_fop; /* its opcode: escape byte & 7, then ModRM */

    csh      cs;
    cs_insn *ci;
    dcache   dc;
    dinsn    tmp[BLOCK_MAX]; /* a block being decoded */
};

/* ------------------------------------------------------------ lazy flags */
/*
 * Flags live in (lf_res, lf_aux):
 *   ZF = lf_res == 0             SF = bit 63 of lf_res ^ aux bit 7
 *   PF = even parity of the low byte of lf_res ^ aux bit 2
 *   CF = aux bit 63              OF = aux bit 63 ^ aux bit 62
 *   AF = aux bit 3
 * Arithmetic stores the sign-extended result and its carry vector, so no
 * flag costs anything until read.
 */
#define LF_SFD 7
#define LF_PFD 2
#define LF_AF  3

uint64_t flags_get(const cpu_t *c);           /* the arithmetic RFLAGS bits */
void     flags_set(cpu_t *c, uint64_t rflags); /* loads them from an RFLAGS value */

/* ---------------------------------------------------------------- modules */
/* decode.c: decodes the block at addr. Returns it, or NULL: a fetch fault
 * (recorded, c->exit_req set, *err MMU_OK) or MMU_ERR_NOMEM in *err. */
dinsn  *dec_block(cpu_t *c, uint64_t addr, mmu_err *err);
mmu_err dec_open(cpu_t *c) MUST_CHECK;
void    dec_close(cpu_t *c);

/* run.c */
dinsn *exec_fault(cpu_t *c, const dinsn *d, mmu_err err, uint64_t addr, unsigned size);
dinsn *exec_exit(cpu_t *c, uint64_t rip, cpu_exit why);
/* a failed instruction fetch at addr: records the fault, ends the run */
void   exec_fetch_fault(cpu_t *c, uint64_t addr, unsigned size, mmu_err err);
/* an indirect branch to target: the cached successor or a resolve request */
dinsn *exec_jump(cpu_t *c, dinsn *d, uint64_t target);

/* hook.c: code hooks (from the run loop) and syscall hooks (from syscall) */
void hook_run_code(cpu_t *c, const dinsn *d);
bool hook_run_syscall(cpu_t *c); /* true: a hook handled the syscall */

/* handler tables (exec_*.c), indexed [op][form][log2 size] and similar */
enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP, ALU_TEST, ALU_N };
enum { F_RR, F_RI, F_RM, F_MR, F_MI, F_N };
enum { SH_ROL, SH_ROR, SH_SHL, SH_SHR, SH_SAR, SH_N };
enum { SHF_RI, SHF_RC, SHF_MI, SHF_MC, SHF_N }; /* shift forms: count imm or CL */
enum { UN_INC, UN_DEC, UN_NOT, UN_NEG, UN_MUL, UN_IMUL, UN_DIV, UN_IDIV, UN_N };
enum { BT_BT, BT_BTS, BT_BTR, BT_BTC, BT_N };
enum { STR_MOVS, STR_STOS, STR_LODS, STR_CMPS, STR_SCAS, STR_N };
enum { REP_NONE, REP_REP, REP_REPNE };

extern const exec_fn exec_alu[ALU_N][F_N][4];
extern const exec_fn exec_mov[F_N][4];
extern const exec_fn exec_shift[SH_N][SHF_N][4];
extern const exec_fn exec_unary[UN_N][2][4];     /* [op][reg, mem][size] */
extern const exec_fn exec_ext[2][2][3][3];       /* [signed][reg, mem][src 1,2,4][dst 2,4,8] */
extern const exec_fn exec_lea[3];                /* dst 2,4,8 */
extern const exec_fn exec_imul2[4][3];           /* [rr, rm, rri, rmi][2,4,8] */
extern const exec_fn exec_dshift[2][SHF_N][3];       /* [shld, shrd][form][2,4,8] */
extern const exec_fn exec_bt[BT_N][4][3];        /* [op][r-r, r-i, m-r, m-i][2,4,8] */
extern const exec_fn exec_bitscan[2][2][3];          /* [bsf, bsr][reg, mem][2,4,8] */
extern const exec_fn exec_cmov[16][2][3];        /* [cc][reg, mem][2,4,8] */
extern const exec_fn exec_setcc[16][2];          /* [cc][reg, mem] */
extern const exec_fn exec_jcc[16];
extern const exec_fn exec_xchg[2][4];            /* [reg, mem][size] */
extern const exec_fn exec_cmpxchg[2][4];
extern const exec_fn exec_xadd[2][4];
extern const exec_fn exec_bswap[2];              /* 4, 8 */
extern const exec_fn exec_string[STR_N][3][4];   /* [op][rep kind][size] */

/* SSE moves and packed integer, cpuid, the integer tail: exec_sse_int.c,
 * exec_sse_mov.c, exec_misc.c hold their handlers and decoders (decode.h) */

/* ------------------------------------------------------------------ x87 */
/* exec_x87.c: every x87 instruction runs on the host FPU (fpu_x87.c).
 * Decoders are in decode.h; the handlers read d->imm (host routine in the
 * low 16 bits, the 11-bit FOP above), d->size (memory operand bytes) and
 * d->variant (X87_* below). */
enum {
    X87_CTRL = 1,      /* control instruction: FIP, FDP, FOP stay */
    X87_NOWAIT = 2,    /* no pending-exception check (the fn* forms) */
    X87_FLAGS_IN = 4,  /* reads RFLAGS (fcmov) */
    X87_FLAGS_OUT = 8, /* sets ZF PF CF, clears OF SF AF (fcomi) */
    X87_ENV = 16,      /* its memory operand is an environment: the pointers pass through it */
    X87_INIT = 32,     /* leaves FIP, FDP, FOP zero (fninit, fnsave) */
};
dinsn *exec_x87_reg(cpu_t *c, dinsn *d);   /* register and operand-free forms */
dinsn *exec_x87_load(cpu_t *c, dinsn *d);  /* memory operand read */
dinsn *exec_x87_store(cpu_t *c, dinsn *d); /* memory operand written */
dinsn *exec_x87_fnstsw_ax(cpu_t *c, dinsn *d);
dinsn *exec_x87_wait(cpu_t *c, dinsn *d);
dinsn *exec_fxsave(cpu_t *c, dinsn *d);    /* variant 1: the 64-bit form (REX.W) */
dinsn *exec_fxrstor(cpu_t *c, dinsn *d);

/* single handlers */
dinsn *exec_stub(cpu_t *c, dinsn *d);
dinsn *exec_nop(cpu_t *c, dinsn *d);
dinsn *exec_invalid(cpu_t *c, dinsn *d);
dinsn *exec_jmp(cpu_t *c, dinsn *d);
dinsn *exec_jmp_r(cpu_t *c, dinsn *d);
dinsn *exec_jmp_m(cpu_t *c, dinsn *d);
dinsn *exec_call(cpu_t *c, dinsn *d);
dinsn *exec_call_r(cpu_t *c, dinsn *d);
dinsn *exec_call_m(cpu_t *c, dinsn *d);
dinsn *exec_ret(cpu_t *c, dinsn *d);
dinsn *exec_jrcxz(cpu_t *c, dinsn *d);
dinsn *exec_loop(cpu_t *c, dinsn *d);   /* variant: 0 loop, 1 loope, 2 loopne */
dinsn *exec_leave(cpu_t *c, dinsn *d);
dinsn *exec_push_r(cpu_t *c, dinsn *d); /* size 2 or 8 */
dinsn *exec_push_i(cpu_t *c, dinsn *d);
dinsn *exec_push_m(cpu_t *c, dinsn *d);
dinsn *exec_pop_r(cpu_t *c, dinsn *d);
dinsn *exec_pop_m(cpu_t *c, dinsn *d);
dinsn *exec_pushf(cpu_t *c, dinsn *d);
dinsn *exec_popf(cpu_t *c, dinsn *d);
dinsn *exec_acc_sext(cpu_t *c, dinsn *d);   /* cbw/cwde/cdqe by size */
dinsn *exec_cdq(cpu_t *c, dinsn *d);    /* cwd/cdq/cqo by size */
dinsn *exec_flagop(cpu_t *c, dinsn *d); /* variant: clc stc cmc cld std */
dinsn *exec_lahf(cpu_t *c, dinsn *d);
dinsn *exec_sahf(cpu_t *c, dinsn *d);
dinsn *exec_syscall(cpu_t *c, dinsn *d);
dinsn *exec_hlt(cpu_t *c, dinsn *d);
dinsn *exec_int3(cpu_t *c, dinsn *d);

#endif
