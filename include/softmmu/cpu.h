/*
 * softmmu/cpu.h - a small x86-64 interpreter running guest code against an
 * mmu_t. Instructions are decoded with Capstone once and cached by guest
 * address; the cache follows mmu_code_generation(), so self-modifying code
 * and host writes to code take effect at the next execution.
 *
 * Every guest memory access goes through the MMU's guest path (fetch needs
 * EXEC, loads READ, stores WRITE), so MMU hooks and MMIO see guest code. A
 * faulting instruction leaves registers and memory as they were before it;
 * if a fault hook handled the fault, the instruction re-executes from its
 * start.
 */
#ifndef SOFTMMU_CPU_H
#define SOFTMMU_CPU_H

#include <softmmu/mmu.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cpu cpu_t;

typedef enum cpu_reg {
    CPU_RAX, CPU_RCX, CPU_RDX, CPU_RBX, CPU_RSP, CPU_RBP, CPU_RSI, CPU_RDI,
    CPU_R8, CPU_R9, CPU_R10, CPU_R11, CPU_R12, CPU_R13, CPU_R14, CPU_R15,
    CPU_RIP, CPU_RFLAGS, CPU_FS_BASE, CPU_GS_BASE, CPU_REG_COUNT
} cpu_reg;

/* Creates an x86-64 long-mode CPU on m (which it does not own: close the CPU
 * before the MMU). Registers start at 0, RFLAGS at 0x2.
 * Errors: MMU_ERR_ARG (NULL, or an MMU configured big-endian: x86 is
 * little-endian), MMU_ERR_NOMEM (also if Capstone fails). */
MMU_API mmu_err cpu_open(mmu_t *m, cpu_t **out);

/* Frees the CPU and its hooks and caches. NULL is a no-op. */
MMU_API void cpu_close(cpu_t *c);

/* The MMU the CPU runs on. */
MMU_API mmu_t *cpu_mmu(cpu_t *c);

/* Reads a register; r >= CPU_REG_COUNT reads 0. */
MMU_API uint64_t cpu_reg_read(const cpu_t *c, cpu_reg r);

/* Writes a register; r >= CPU_REG_COUNT is ignored. RFLAGS keeps bit 1 set. */
MMU_API void cpu_reg_write(cpu_t *c, cpu_reg r, uint64_t v);

/* Architectural stack ops (Qiling ql.arch.stack_*), word = 8 bytes, memory
 * accessed with mmu_write_ptr/mmu_read_ptr (host access: ignores perms).
 * push: SP -= 8, then write; if the write fails SP is unchanged. *out_new_sp
 * may be NULL. pop: read at SP, then SP += 8. read/write: at SP + offset
 * bytes (offset may be negative), SP unchanged.
 * Errors: MMU_ERR_ARG (NULL c or out pointer where required),
 * MMU_ERR_READ_UNMAPPED, MMU_ERR_WRITE_UNMAPPED, MMU_ERR_NOMEM (push/write:
 * the first write to a page while a snapshot is attached copies it). */
MMU_API mmu_err cpu_stack_push(cpu_t *c, uint64_t value, uint64_t *out_new_sp);
MMU_API mmu_err cpu_stack_pop(cpu_t *c, uint64_t *out_value);
MMU_API mmu_err cpu_stack_read(cpu_t *c, int64_t offset, uint64_t *out_value);
MMU_API mmu_err cpu_stack_write(cpu_t *c, int64_t offset, uint64_t value);

typedef enum cpu_exit {
    CPU_EXIT_UNTIL,        /* reached `until` */
    CPU_EXIT_COUNT,        /* executed `count` instructions */
    CPU_EXIT_STOPPED,      /* cpu_stop() from a hook */
    CPU_EXIT_HLT,          /* hlt; RIP after it */
    CPU_EXIT_MEM_FAULT,    /* unhandled memory fault: cpu_last_fault() tells which */
    CPU_EXIT_INSN_INVALID, /* undecodable or unsupported instruction at RIP */
    CPU_EXIT_EXCEPTION,    /* guest exception (#DE, int3, unhandled syscall); RIP at the instruction */
} cpu_exit;

typedef struct cpu_fault {
    mmu_err  err;  /* MMU_ERR_{READ,WRITE,FETCH}_{UNMAPPED,PROT} */
    uint64_t addr; /* first faulting byte */
    unsigned size; /* size of the access */
    uint64_t rip;  /* the faulting instruction */
} cpu_fault;

/* Runs from RIP = begin until RIP == until, count instructions have run
 * (0 = no limit), cpu_stop() is called, or an exit condition; the reason
 * goes to *out_exit (may be NULL). Like uc_emu_start, a fault or invalid
 * instruction is an exit reason, not an error.
 * Errors: MMU_ERR_ARG (c NULL, or called from inside a hook of a running
 * cpu_run), MMU_ERR_NOMEM (decoding ran out of memory, or a guest store or
 * fetch did: a page touched for the first time needs a page-table leaf, and
 * the first write to a page while a snapshot is attached copies the page;
 * RIP is left at the instruction, which did not complete, so running again
 * retries it). *out_exit is untouched on error. */
MMU_API mmu_err cpu_run(cpu_t *c, uint64_t begin, uint64_t until, uint64_t count, cpu_exit *out_exit);

/* Asks cpu_run to return CPU_EXIT_STOPPED after the current instruction
 * (before the next one when called from a code hook). */
MMU_API void cpu_stop(cpu_t *c);

/* The last memory fault that ended cpu_run with CPU_EXIT_MEM_FAULT; zeros if
 * none. */
MMU_API void cpu_last_fault(const cpu_t *c, cpu_fault *out);

typedef void (*cpu_code_hook_fn)(cpu_t *c, uint64_t addr, unsigned size, void *user);
typedef bool (*cpu_syscall_hook_fn)(cpu_t *c, void *user); /* true = handled */

/* Calls fn before each instruction whose address lies in [begin, end]
 * (inclusive; begin > end = all). Errors: MMU_ERR_ARG, MMU_ERR_NOMEM. */
MMU_API mmu_err cpu_hook_code(cpu_t *c, cpu_code_hook_fn fn, void *user, uint64_t begin, uint64_t end,
                              mmu_hook_id *out_id);

/* Calls fn at each `syscall` instruction, with RIP already past it and RCX/
 * R11 set as the hardware does. Hooks run in order until one returns true;
 * if none does, cpu_run exits with CPU_EXIT_EXCEPTION at the instruction.
 * Errors: MMU_ERR_ARG, MMU_ERR_NOMEM. */
MMU_API mmu_err cpu_hook_syscall(cpu_t *c, cpu_syscall_hook_fn fn, void *user, mmu_hook_id *out_id);

/* Removes a code or syscall hook; safe inside a callback.
 * Errors: MMU_ERR_ARG, MMU_ERR_NOTFOUND. */
MMU_API mmu_err cpu_hook_del(cpu_t *c, mmu_hook_id id);

/* Register context, for "restore, run, restore" loops with mmu snapshots.
 * It holds the registers of cpu_reg only: the x87, MXCSR and XMM state is
 * not part of it (nor of save/restore), so that the layout stays as it
 * was; cpu_fxsave / cpu_fxrstor below carry that state. */
typedef struct cpu_context {
    uint64_t regs[CPU_REG_COUNT];
} cpu_context;

/* Copies all registers into *out. */
MMU_API void cpu_context_save(const cpu_t *c, cpu_context *out);

/* Loads all registers from *ctx. */
MMU_API void cpu_context_restore(cpu_t *c, const cpu_context *ctx);

/* Floating-point state: the x87 FPU, MXCSR and XMM0..15, in the 512-byte
 * FXSAVE64 layout (what `rex.w fxsave` stores; little-endian):
 *   0 FCW, 2 FSW (TOP in bits 11..13), 4 abridged tag byte (bit i set:
 *   physical register i not empty), 6 FOP (11 bits), 8 FIP (64 bits),
 *   16 FDP (64 bits), 24 MXCSR, 28 MXCSR_MASK (0xffff: DAZ supported),
 *   32 + 16*i ST(i) (80 bits, then 6 zero bytes), 160 + 16*i XMMi,
 *   416..511 reserved (zero).
 * At cpu_open: FCW 0x037f, all registers empty, MXCSR 0x1f80 (fninit and
 * power-up values). The Linux layer uses these for signal frames; a
 * debugger stub for its FP registers.
 *
 * cpu_fxsave fills all 512 bytes of out (caller-owned, no alignment
 * needed). Errors: MMU_ERR_ARG (NULL c or out); out untouched then. */
MMU_API mmu_err cpu_fxsave(const cpu_t *c, uint8_t out[512]);

/* Loads the state cpu_fxsave describes from in (caller-owned), as fxrstor64
 * does: the full tag word is recomputed from the abridged one and the
 * register contents; FOP keeps its low 11 bits; bytes 416..511 are ignored.
 * Errors: MMU_ERR_ARG (NULL c or in, or MXCSR with bits outside
 * MXCSR_MASK 0xffff: #GP on hardware); c unchanged then. Both may be
 * called from hooks: they run between instructions. */
MMU_API mmu_err cpu_fxrstor(cpu_t *c, const uint8_t in[512]);

/* Instructions completed since cpu_open, over all cpu_run calls. An
 * instruction that faults, is invalid or raises an exception (the exit
 * leaves RIP at it) does not count; hlt and handled syscalls do. Updated
 * when cpu_run returns: a hook inside a run sees the count at its start.
 * NULL reads 0. */
MMU_API uint64_t cpu_insn_count(const cpu_t *c);

/* The time-stamp counter that rdtsc/rdtscp read. By default it counts
 * nanoseconds of the host's CLOCK_MONOTONIC from the first read (a 1 GHz
 * TSC starting near 0), and every read returns more than the one before.
 * With step > 0 it becomes deterministic: the next read returns start, each
 * one after it `step` more, whatever the time (for reproducible runs).
 * step 0 goes back to the host clock. NULL is a no-op. */
MMU_API void cpu_tsc_deterministic(cpu_t *c, uint64_t start, uint64_t step);

#ifdef __cplusplus
}
#endif
#endif /* SOFTMMU_CPU_H */
