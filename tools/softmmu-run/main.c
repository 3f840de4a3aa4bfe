/*
 * main.c - softmmu-run: runs a static x86-64 Linux program on softmmu.
 *
 * The runner's own messages go to stderr, prefixed "softmmu-run: "; the
 * guest's stdout and stderr pass through unchanged. The exit status is the
 * guest's, 1 for a guest fault or bad instruction, 2 for a usage or loading
 * error, 124 when --count stopped the program.
 */
#include "gdb.h"
#include "run.h"
#include "sig.h"
#include "viz.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: softmmu-run [options] PROGRAM [ARGS...]\n"
    "Runs a static x86-64 Linux program (ELF executable or static-pie) on softmmu.\n"
    "\n"
    "  --strace          print each system call to stderr\n"
    "  --trace           print each instruction (address and disassembly) to stderr\n"
    "  --mapinfo         print the memory map (Qiling's layout) to stderr at exit\n"
    "  --stats           print instruction, TLB and fault counts to stderr at exit\n"
    "  --demand-paging   map stack and heap pages only when the program touches them\n"
    "  --count N         stop after N instructions (exit status 124)\n"
    "  --base ADDR       load address of a static-pie program (default 0x555555554000)\n"
    "  --raw ADDR        PROGRAM is a flat binary: map it RWX at ADDR and start there\n"
    "  --env K=V         add K=V to the program's environment (repeatable; default empty)\n"
    "  --root DIR        absolute paths of the program resolve under DIR (a convenience,\n"
    "                    not a security boundary)\n"
    "  --report FILE     after the run, write a picture of the address space, page table,\n"
    "                    TLB and timeline: FILE.html (interactive) or FILE.svg (two pictures)\n"
    "  --gdb [HOST:]PORT serve the GDB remote protocol on HOST (default 127.0.0.1) and\n"
    "                    PORT (0: any free one; printed), stopped before the first\n"
    "                    instruction; when the debugger kills or leaves the program\n"
    "                    the status is 137 (as SIGKILL)\n"
    "  --gdb-keep        with --gdb: when the debugger hangs up, the program runs on\n"
    "  --help            show this help\n"
    "\n"
    "Exit status: the program's own; 1 if it faulted or hit an unsupported instruction;\n"
    "2 for a usage or loading error.\n";

bool run_fail(run_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    return false;
}

void run_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fputs("softmmu-run: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-')
        return false;
    *out = v;
    return true;
}

/* an option taking a value: "--opt V" or "--opt=V"; NULL if not this option */
static const char *opt_value(const char *name, int argc, char **argv, int *i, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

static bool parse_flag(run_opts *o, const char *a)
{
    static const struct { const char *name; size_t off; } flags[] = {
        { "--strace", offsetof(run_opts, strace) },   { "--trace", offsetof(run_opts, trace) },
        { "--mapinfo", offsetof(run_opts, mapinfo) }, { "--stats", offsetof(run_opts, stats) },
        { "--demand-paging", offsetof(run_opts, demand) }, { "--gdb-keep", offsetof(run_opts, gdb_keep) },
    };
    for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
        if (strcmp(a, flags[k].name) == 0) {
            *(bool *)((char *)o + flags[k].off) = true;
            return true;
        }
    return false;
}

/* the options that take a value; false with a message on a bad one */
static bool parse_valued(run_opts *o, int argc, char **argv, int *i, bool *matched)
{
    bool miss = false;
    const char *v;
    *matched = true;
    if ((v = opt_value("--count", argc, argv, i, &miss)))
        return parse_u64(v, &o->count) && o->count > 0 ? true : (run_msg("bad --count '%s'", v), false);
    if ((v = opt_value("--base", argc, argv, i, &miss)))
        return parse_u64(v, &o->base) && o->base % RUN_PAGE == 0 && o->base < RUN_USER_TOP
                   ? true : (run_msg("bad --base '%s': want a page-aligned user address", v), false);
    if ((v = opt_value("--raw", argc, argv, i, &miss)))
        return (o->raw = parse_u64(v, &o->raw_addr) && o->raw_addr < RUN_USER_TOP)
                   ? true : (run_msg("bad --raw address '%s'", v), false);
    if ((v = opt_value("--root", argc, argv, i, &miss)))
        return (o->root = v), true;
    if ((v = opt_value("--report", argc, argv, i, &miss)))
        return (o->report = v), true;
    if ((v = opt_value("--gdb", argc, argv, i, &miss)))
        return (o->gdb = v), true; /* checked when the stub listens, before the guest runs */
    if ((v = opt_value("--env", argc, argv, i, &miss))) {
        if (!strchr(v, '=') || o->n_env == (int)(sizeof o->env / sizeof o->env[0]))
            return run_msg("bad --env '%s': want K=V (at most 64)", v), false;
        o->env[o->n_env++] = v;
        return true;
    }
    if (miss)
        return run_msg("option %s needs a value", argv[*i]), false;
    *matched = false;
    return true;
}

/* 0: run; 1: --help printed; -1: usage error (message printed) */
static int parse_args(run_opts *o, int argc, char **argv)
{
    o->base = RUN_PIE_BASE;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        bool matched;
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return fputs(usage_text, stdout), 1;
        if (parse_flag(o, argv[i]))
            continue;
        if (!parse_valued(o, argc, argv, &i, &matched))
            return -1;
        if (!matched)
            return run_msg("unknown option '%s' (try --help)", argv[i]), -1;
    }
    if (i >= argc)
        return run_msg("no program given (try --help)"), -1;
    o->path = o->execfn = argv[i];
    o->argc = argc - i;
    o->argv = argv + i;
    o->envp = o->env;
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool run_setup_machine(run_t *r)
{
    mmu_err err = mmu_open(NULL, &r->m);
    if (err == MMU_OK)
        err = cpu_open(r->m, &r->c);
    if (err != MMU_OK)
        return run_fail(r, "cannot create the machine: %s", mmu_strerror(err));
    return rpt_init(r) && load_program(r) && stk_setup(r) && sys_init(r) && mem_demand_init(r);
}

/* /proc/self/exe: the program's canonical path (as the guest sees it) */
static void set_exe(run_t *r)
{
    char real[4096];
    if (realpath(r->o.path, real))
        snprintf(r->exe, sizeof r->exe, "%s", real);
    else
        snprintf(r->exe, sizeof r->exe, "%s", r->o.path);
}

/* the program is loaded from the host's view; then --root takes effect */
static bool setup(run_t *r)
{
    r->root_fd = -1;
    set_exe(r);
    sig_init(r);
    if (!fd_init(r) || !run_setup_machine(r) || !path_init(r))
        return false;
    char guest[4096];
    if (path_guest_of_host(r, r->exe, guest, sizeof guest) >= 0)
        snprintf(r->exe, sizeof r->exe, "%s", guest);
    return true;
}

#define SLICE (UINT64_C(1) << 18) /* instructions between checks for host signals */

/* execve succeeded: the new program replaces the old one */
static run_t *swap_in(run_t *old)
{
    run_t *n = old->exec_next;
    old->exec_next = NULL;
    n->syscalls = old->syscalls;
    if (old->viz)
        viz_exec(old, n);
    exec_free(old);
    return n;
}

bool run_step(run_t **rp, uint64_t slice, cpu_exit *why)
{
    run_t *r = *rp;
    if (r->o.count && r->insns >= r->o.count)
        return *why = CPU_EXIT_COUNT, false;
    if (r->o.count && r->o.count - r->insns < slice)
        slice = r->o.count - r->insns;
    if (r->viz) /* --report: a slice ends where a sample does */
        slice = viz_slice(r, slice);
    mmu_err err = cpu_run(r->c, cpu_reg_read(r->c, CPU_RIP), 0, slice, why);
    r->insns = cpu_insn_count(r->c); /* completed ones: a faulting instruction is not */
    if (r->viz)
        viz_tick(r);
    if (err != MMU_OK) {
        run_msg("the interpreter failed: %s", mmu_strerror(err));
        return *why = CPU_EXIT_EXCEPTION, false;
    }
    if (r->exec_next) {
        *rp = swap_in(r);
        return true;
    }
    return !r->exited;
}

bool run_deliver_crash(run_t *r, cpu_exit why)
{
    cpu_fault f;
    switch (why) {
    case CPU_EXIT_MEM_FAULT:
        cpu_last_fault(r->c, &f);
        return sig_deliver_fault(r, &f);
    case CPU_EXIT_EXCEPTION:
    case CPU_EXIT_INSN_INVALID:
    case CPU_EXIT_HLT:
        return sig_deliver_exception(r, why);
    default:
        return false;
    }
}

/* runs until the program exits or something stops it; delivers faults,
 * exceptions and host signals meant for the guest */
static cpu_exit run_guest(run_t **rp)
{
    for (;;) {
        cpu_exit why = CPU_EXIT_STOPPED;
        if (!run_step(rp, SLICE, &why))
            return why;
        run_t *r = *rp;
        if (why == CPU_EXIT_COUNT || why == CPU_EXIT_STOPPED) {
            sig_poll(r);
            if (r->exited)
                return CPU_EXIT_STOPPED;
            continue;
        }
        if (!run_deliver_crash(r, why))
            return why;
    }
}

int main(int argc, char **argv)
{
    run_t *r = calloc(1, sizeof *r);
    if (!r)
        return run_msg("out of memory"), RUN_EXIT_USAGE;
    int rc = parse_args(&r->o, argc, argv);
    if (rc != 0) {
        free(r);
        return rc > 0 ? 0 : RUN_EXIT_USAGE;
    }
    int status = RUN_EXIT_USAGE;
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is -EPIPE and SIGPIPE for the guest */
    if (r->o.report && !viz_open(r, r->o.report)) {
        free(r);
        return RUN_EXIT_USAGE;
    }
    gdb_t *g = NULL;
    if (setup(r) && (!r->o.gdb || (g = gdb_open(r)))) {
        double t0 = now_seconds();
        cpu_exit why = CPU_EXIT_STOPPED; /* the debugger's session: it reported the stops */
        if (!g || !gdb_serve(g, &r, &status)) {
            why = run_guest(&r);
            status = rpt_exit(r, why);
            if (!r->exited && why != CPU_EXIT_COUNT) { /* a crash: killed by its signal, as Linux would */
                if (r->viz)
                    viz_crash(r, why);
                sig_terminate(r, rpt_crash_signal(r, why));
                status = r->status;
            }
        }
        double secs = now_seconds() - t0;
        if (r->o.stats)
            rpt_stats(r, secs);
        if (r->viz)
            viz_finish(r, why, secs);
    } else {
        if (!r->o.gdb || r->err[0]) /* gdb_open said why itself */
            run_msg("%s", r->err);
        if (r->viz) /* nothing ran: no report, not an empty file */
            unlink(r->o.report);
    }
    gdb_close(g);
    fflush(stdout);
    fd_fini(r);
    if (r->root_fd >= 0)
        close(r->root_fd);
    viz_close(r);
    sig_die(r);
    exec_free(r);
    return status;
}
