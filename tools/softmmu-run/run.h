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
    const char *const *envp; /* the environment the stack gets: env, or execve's */
    const char *execfn;   /* AT_EXECFN: the name the program was started by */
    const char *root;     /* --root: guest paths resolve under it */
    const char *report;   /* --report FILE.html or FILE.svg */
    const char *gdb;      /* --gdb [HOST:]PORT: serve a debugger before the first instruction */
    bool        gdb_keep; /* --gdb-keep: the guest runs on when the debugger hangs up */
} run_opts;

#define RUN_MAX_FDS 1024 /* guest descriptors, RLIMIT_NOFILE */

typedef struct run_fd {
    int  host;    /* the host descriptor, -1 when the slot is free */
    bool cloexec; /* FD_CLOEXEC: closed by execve */
} run_fd;

typedef struct run_sig {
    uint64_t handler, flags, restorer, mask; /* guest struct sigaction */
} run_sig;

/* the guest's siginfo_t (the host's has the same layout on x86-64) */
typedef struct guest_siginfo {
    int32_t  signo, err, code, pad;
    uint64_t addr; /* si_addr (faults), or si_pid and si_uid (kill, sigqueue, SIGCHLD) */
    uint8_t  rest[104]; /* si_value (sigqueue), si_status (SIGCHLD), ... */
} guest_siginfo;

/* pending signals, oldest first: at most one entry per standard signal, and
 * room kept for all of those, so only a real-time signal finds it full */
#define RUN_SIGQ 128

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
    /* signals: the guest's actions and mask, and the queue of pending ones */
    run_sig  sig[65];            /* by signal number, 1..64 */
    uint64_t sigmask;            /* blocked signals, bit n-1 for signal n */
    uint64_t sigpending;         /* bit n-1 while signal n is in sigq */
    guest_siginfo sigq[RUN_SIGQ]; /* raised while blocked, with who sent them and how */
    int      n_sigq;
    uint64_t frame_mask;         /* rt_sigsuspend: the mask a handler's frame restores */
    bool     use_frame_mask;
    uint64_t alt_sp, alt_size;   /* sigaltstack */
    uint32_t alt_flags;
    /* files: guest descriptors and the file system view */
    run_fd   fd[RUN_MAX_FDS];
    int      root_fd;            /* --root directory (O_PATH), or -1 */
    char     root[4096];         /* its canonical host path, "" without --root */
    char     exe[4096];          /* the program as /proc/self/exe names it */
    /* processes */
    bool     forked;             /* a child made by fork: dies by its signal */
    struct run *exec_next;       /* set by execve: the loaded program that replaces this one */
    char    *exec_strings;       /* argv and envp storage of an execve'd program */
    char   **exec_ptrs;
    int      load_errno;         /* why load_program failed, as an errno for execve */
    /* exit */
    bool     exited;
    int      status;             /* exit status, or 128 + signal */
    int      killed_by;          /* the signal that ended it, or 0 */
    /* --gdb: a signal about to act stops for the debugger first (sig.c holds it) */
    bool     dbg_signals;        /* hold signals for the debugger */
    bool     dbg_held;           /* one is held in dbg_info, the guest stopped before it */
    guest_siginfo dbg_info;
    /* counters for --stats */
    uint64_t insns, syscalls, demand_faults, demand_pages, signals;
    struct viz *viz;             /* --report: recording (viz.h), NULL without it; main owns it */
    char     err[512];           /* why setup failed */
} run_t;

/* main.c */
bool run_setup_machine(run_t *r); /* MMU, CPU, program, stack, hooks */
bool run_fail(run_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void run_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* runs at most max instructions (within --count); false when the guest is
 * done or --count ran out (*why says how); an execve swaps *rp */
bool run_step(run_t **rp, uint64_t max, cpu_exit *why);
/* a fault or exception the guest handles goes to its handler (true) */
bool run_deliver_crash(run_t *r, cpu_exit why);

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

/* mem.c: guest strings (a path, an argv element); 0 or -EFAULT/-ENAMETOOLONG */
int64_t mem_string_in(run_t *r, uint64_t addr, char *buf, size_t cap);
/* how many bytes of [addr, addr+size) the guest can read, from addr on */
size_t mem_readable(run_t *r, uint64_t addr, size_t size);

/* fdtab.c: guest descriptors mapped to host ones */
bool fd_init(run_t *r);
void fd_fini(run_t *r);
int  fd_host(const run_t *r, uint64_t gfd);                 /* -1: not open */
int64_t fd_install(run_t *r, int host, bool cloexec, int min); /* guest fd or -EMFILE (closes host) */
int64_t fd_close(run_t *r, uint64_t gfd);
int64_t fd_dup_to(run_t *r, uint64_t old, uint64_t new_fd, bool cloexec);
void fd_exec(run_t *r);                                    /* closes FD_CLOEXEC descriptors */

/* path.c: guest path -> (host dirfd, name) for the host's *at calls */
typedef struct run_path {
    int  dirfd;        /* host directory fd or AT_FDCWD */
    int  tmp_fd;       /* resolved under --root, closed by path_put */
    char name[4096];   /* the name relative to dirfd */
    char guest[4096];  /* the path as the guest wrote it */
    bool is_exe;       /* it was "/proc/self/exe", now the program's path */
} run_path;
enum { PATH_FOLLOW = 1, PATH_NOFOLLOW = 0 };
bool    path_init(run_t *r);
int64_t path_get(run_t *r, uint64_t dirfd, uint64_t addr, int follow, run_path *p);
void    path_put(run_path *p);
int64_t path_open(run_t *r, uint64_t dirfd, uint64_t addr, int flags, unsigned mode, run_path *p);
int64_t path_getcwd(run_t *r, char *buf, size_t cap);
int64_t path_guest_of_host(run_t *r, const char *host, char *buf, size_t cap);

/* sys.c: the system call hook */
bool sys_init(run_t *r);

/* sig.c: signal delivery; SIGSEGV for guest memory faults, SIGFPE, SIGTRAP,
 * SIGILL and SIGSEGV for the exceptions (false: not handled, the guest dies) */
bool sig_deliver_fault(run_t *r, const cpu_fault *f);
bool sig_deliver_exception(run_t *r, cpu_exit why);
/* raises sig from a system call that returns result; returns result */
int64_t sig_raise(run_t *r, int sig, int code, int64_t result); /* code: SI_USER 0, SI_TKILL -6 */
/* host signals meant for the guest: mirror its dispositions, deliver queued ones */
void sig_init(run_t *r);          /* ignored and blocked signals are inherited, as by execve */
bool sig_poll(run_t *r);          /* delivers a queued signal; true if one ran or ended the guest */
bool sig_restarts(run_t *r);      /* an interrupted call restarts (SA_RESTART or nothing to run) */
void sig_exec(run_t *r);          /* execve: handlers back to default, ignored stay ignored */
void sig_fork_child(run_t *r);    /* fork: the child has nothing pending */
void sig_die(run_t *r);           /* a forked child ends by its signal, as the kernel would */

/* exec.c: frees a run_t made by execve (its machine and strings) */
void exec_free(run_t *n);

/* report.c: disassembly, tracing, fault reports, stats */
bool rpt_init(run_t *r);
void rpt_fini(run_t *r);
int  rpt_disasm(run_t *r, uint64_t addr, char *buf, size_t cap);
void rpt_mapinfo(run_t *r, const char *title);
void rpt_stats(run_t *r, double seconds);
/* 12345678 -> "12,345,678" in buf, which it returns */
const char *rpt_commas(uint64_t v, char buf[32]);
int  rpt_exit(run_t *r, cpu_exit why);
/* the signal a guest crash (an exit other than exit(2) or --count) means */
int  rpt_crash_signal(run_t *r, cpu_exit why);

#endif
