/*
 * run.h - private state of softmmu-run: a static x86-64 Linux program
 * loaded into an mmu_t and run on the interpreter, with a small system call
 * layer that drives the MMU the way a kernel drives page tables.
 */
#ifndef SOFTMMU_RUN_H
#define SOFTMMU_RUN_H

#include <softmmu/cpu.h>

#include <capstone/capstone.h>
#include <stdarg.h>

#define RUN_PAGE UINT64_C(0x1000)
#define RUN_ALIGN_DOWN(x) ((x) & ~(RUN_PAGE - 1))
#define RUN_ALIGN_UP(x) (((x) + RUN_PAGE - 1) & ~(RUN_PAGE - 1))

/* address space layout, close to Linux's for a 47-bit user space */
#define RUN_USER_TOP UINT64_C(0x800000000000)    /* end of user space */
#define RUN_STACK_TOP UINT64_C(0x7ffffffff000)   /* first byte above the stack */
#define RUN_STACK_SIZE (UINT64_C(8) << 20)       /* the stack reservation (RLIMIT_STACK) */
#define RUN_MMAP_BASE UINT64_C(0x7fff00000000)   /* lowest address of non-fixed mmaps */
#define RUN_PIE_BASE UINT64_C(0x555555554000)    /* default load address of static-pie */
#define RUN_DEMAND_CHUNK UINT64_C(0x10000)       /* a demand fault maps up to 64 KiB */
#define RUN_MAX_MEM (UINT64_C(16) << 30)         /* guest memory limit, as ulimit -v: page tables stay small */

/* exit statuses of the runner itself */
enum { RUN_EXIT_GUEST_FAULT = 1, RUN_EXIT_USAGE = 2, RUN_EXIT_COUNT = 124 };

typedef struct run_opts {
    bool        strace, trace, mapinfo, stats, demand;
    uint64_t    count;    /* --count: instruction limit, 0 = none */
    uint64_t    base;     /* --base: load address of a static-pie program */
    bool        raw;      /* --raw: flat binary at raw_addr */
    uint64_t    raw_addr;
    const char *path;     /* the program file */
    int         argc;     /* guest argv, argv[0] = path as given */
    char      **argv;
    const char *env[64];  /* --env K=V */
    int         n_env;
} run_opts;

typedef struct run_sig {
    uint64_t handler, flags, restorer, mask; /* guest struct sigaction */
} run_sig;

typedef struct run {
    run_opts o;
    mmu_t   *m;
    cpu_t   *c;
    csh      cs;                 /* Capstone, for --trace and fault reports */
    bool     cs_ok;
    char     label[256];         /* label of the image's regions: its basename */
    /* image */
    uint64_t entry, phdr, phnum, bias, image_end;
    /* heap: [brk_start, brk_cur) is the program break */
    uint64_t brk_start, brk_cur;
    /* stack: reservation [stack_lo, RUN_STACK_TOP), mapped from stack_mapped_lo up */
    uint64_t stack_lo, stack_mapped_lo;
    /* signals: actions are recorded; only memory faults are delivered (SIGSEGV) */
    run_sig  sig[65];            /* by signal number, 1..64 */
    uint64_t sigmask;            /* blocked signals, bit n-1 for signal n */
    uint64_t sigpending;         /* raised while blocked */
    /* exit */
    bool     exited;
    int      status;             /* exit status, or 128 + signal */
    int      killed_by;          /* the signal that ended it, or 0 */
    /* counters for --stats */
    uint64_t insns, syscalls, demand_faults, demand_pages, signals;
    char     err[512];           /* why setup failed */
} run_t;

/* main.c */
bool run_fail(run_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void run_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* load.c: maps the program, sets entry, phdr, brk_start */
bool load_program(run_t *r);

/* stack.c: maps the stack and builds argc, argv, envp and auxv; sets RSP */
bool stk_setup(run_t *r);

/* mem.c: kernel-side memory management */
bool mem_unmap_range(run_t *r, uint64_t addr, uint64_t size);
bool mem_room(run_t *r, uint64_t size);
uint64_t mem_brk(run_t *r, uint64_t want);
bool mem_demand_init(run_t *r);
void mem_demand_fill(run_t *r, uint64_t addr, uint64_t size);
bool mem_copy_in(run_t *r, uint64_t addr, void *dst, size_t size);
bool mem_copy_out(run_t *r, uint64_t addr, const void *src, size_t size);

/* sys.c: the system call hook */
bool sys_init(run_t *r);

/* sig.c: signal delivery; SIGSEGV for guest memory faults */
bool sig_deliver_fault(run_t *r, const cpu_fault *f);
/* raises sig from a system call that returns result; returns result */
int64_t sig_raise(run_t *r, int sig, int64_t result);

/* report.c: disassembly, tracing, fault reports, stats */
bool rpt_init(run_t *r);
void rpt_fini(run_t *r);
int  rpt_disasm(run_t *r, uint64_t addr, char *buf, size_t cap);
void rpt_mapinfo(run_t *r, const char *title);
void rpt_stats(run_t *r, double seconds);
int  rpt_exit(run_t *r, cpu_exit why);

#endif
