/*
 * sys.c - the `syscall` hook: dispatch by the x86-64 Linux number, --strace
 * output, -ENOSYS for everything else.
 */
#include "sys.h"

#include <inttypes.h>
#include <stdio.h>

typedef struct sys_entry {
    const char *name;
    sys_fn      fn;
    const char *args; /* one char per argument: d int, u unsigned, x hex */
    bool        hex;  /* print the result in hex */
} sys_entry;

#define E(nr, n, f, fmt, h) [nr] = { n, sys_##f, fmt, h }
static const sys_entry table[] = {
    E(0, "read", read, "dxu", 0),           E(1, "write", write, "dxu", 0),
    E(3, "close", close, "d", 0),           E(5, "fstat", fstat, "dx", 0),
    E(9, "mmap", mmap, "xuxxdx", 1),        E(10, "mprotect", mprotect, "xux", 0),
    E(11, "munmap", munmap, "xu", 0),       E(12, "brk", brk, "x", 1),
    E(13, "rt_sigaction", rt_sigaction, "dxxu", 0),
    E(14, "rt_sigprocmask", rt_sigprocmask, "dxxu", 0),
    E(15, "rt_sigreturn", rt_sigreturn, "", 1),
    E(16, "ioctl", ioctl, "dxx", 0),        E(19, "readv", readv, "dxd", 0),
    E(20, "writev", writev, "dxd", 0),      E(24, "sched_yield", zero, "", 0),
    E(28, "madvise", madvise, "xud", 0),    E(35, "nanosleep", nanosleep, "xx", 0),
    E(39, "getpid", getpid, "", 0),         E(60, "exit", exit, "d", 0),
    E(62, "kill", kill, "dd", 0),           E(63, "uname", uname, "x", 0),
    E(96, "gettimeofday", gettimeofday, "xx", 0),
    E(102, "getuid", getuid, "", 0),        E(104, "getgid", getgid, "", 0),
    E(107, "geteuid", geteuid, "", 0),      E(108, "getegid", getegid, "", 0),
    E(110, "getppid", getppid, "", 0),      E(131, "sigaltstack", sigaltstack, "xx", 0),
    E(158, "arch_prctl", arch_prctl, "xx", 0),
    E(186, "gettid", getpid, "", 0),        E(200, "tkill", tkill, "dd", 0),
    E(201, "time", time, "x", 0),           E(202, "futex", futex, "xdxxxx", 0),
    E(218, "set_tid_address", set_tid_address, "x", 0),
    E(228, "clock_gettime", clock_gettime, "dx", 0),
    E(229, "clock_getres", clock_getres, "dx", 0),
    E(231, "exit_group", exit, "d", 0),     E(234, "tgkill", tgkill, "ddd", 0),
    E(262, "newfstatat", newfstatat, "dxxx", 0),
    E(273, "set_robust_list", zero, "xu", 0),
    E(302, "prlimit64", prlimit64, "ddxx", 0),
    E(318, "getrandom", getrandom, "xux", 0),
};
#undef E
#define N_TABLE (sizeof table / sizeof table[0])

/* names for --strace of calls that get -ENOSYS */
static const char *const unimplemented[] = {
    [2] = "open",        [4] = "stat",         [6] = "lstat",       [7] = "poll",
    [8] = "lseek",       [17] = "pread64",     [21] = "access",     [22] = "pipe",
    [25] = "mremap",     [32] = "dup",         [33] = "dup2",       [56] = "clone",
    [57] = "fork",       [59] = "execve",      [61] = "wait4",      [72] = "fcntl",
    [79] = "getcwd",     [89] = "readlink",    [97] = "getrlimit",  [98] = "getrusage",
    [99] = "sysinfo",    [100] = "times",      [204] = "sched_getaffinity",
    [217] = "getdents64", [230] = "clock_nanosleep", [257] = "openat", [293] = "pipe2",
    [332] = "statx",     [334] = "rseq",
};

/* errno names for the values the handlers return */
static const char *errno_name(int e)
{
    static const struct { int e; const char *name; } names[] = {
        { EPERM, "EPERM" },   { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },   { EINTR, "EINTR" },
        { EIO, "EIO" },       { EBADF, "EBADF" },   { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
        { EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
        { EINVAL, "EINVAL" }, { ENOTTY, "ENOTTY" }, { ESPIPE, "ESPIPE" }, { EPIPE, "EPIPE" },
        { ENOSYS, "ENOSYS" }, { EDEADLK, "EDEADLK" }, { ETIMEDOUT, "ETIMEDOUT" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].e == e)
            return names[i].name;
    return "E?";
}

static void print_arg(char kind, uint64_t v)
{
    if (kind == 'd')
        fprintf(stderr, "%d", (int)v);
    else if (kind == 'u' || (kind != 'x' && v < 0x10000))
        fprintf(stderr, "%" PRIu64, v);
    else
        fprintf(stderr, "%#" PRIx64, v);
}

/* one strace-style line: name(args) = result */
static void strace_line(run_t *r, uint64_t nr, const sys_entry *e, const uint64_t *a, int64_t ret)
{
    const char *fmt = e ? e->args : "xxxxxx";
    if (e)
        fprintf(stderr, "%s(", e->name);
    else if (nr < sizeof unimplemented / sizeof *unimplemented && unimplemented[nr])
        fprintf(stderr, "%s(", unimplemented[nr]);
    else
        fprintf(stderr, "syscall_%" PRIu64 "(", nr);
    for (size_t i = 0; fmt[i]; i++) {
        fputs(i ? ", " : "", stderr);
        print_arg(fmt[i], a[i]);
    }
    if (r->exited)
        fprintf(stderr, ") = ?\n");
    else if (ret < 0 && ret >= -4095)
        fprintf(stderr, ") = -1 %s (%s)\n", errno_name((int)-ret), strerror((int)-ret));
    else
        fprintf(stderr, e && e->hex ? ") = %#" PRIx64 "\n" : ") = %" PRId64 "\n", (uint64_t)ret);
}

static bool on_syscall(cpu_t *c, void *user)
{
    static const cpu_reg arg_regs[6] = { CPU_RDI, CPU_RSI, CPU_RDX, CPU_R10, CPU_R8, CPU_R9 };
    run_t *r = user;
    uint64_t nr = cpu_reg_read(c, CPU_RAX), a[6];
    for (int i = 0; i < 6; i++)
        a[i] = cpu_reg_read(c, arg_regs[i]);
    const sys_entry *e = nr < N_TABLE && table[nr].fn ? &table[nr] : NULL;
    int64_t ret = e ? e->fn(r, a) : -ENOSYS;
    r->syscalls++;
    if (r->o.strace)
        strace_line(r, nr, e, a, ret);
    if (r->exited)
        cpu_stop(c);
    else if (nr != 15) /* rt_sigreturn has set every register */
        cpu_reg_write(c, CPU_RAX, (uint64_t)ret);
    return true;
}

bool sys_init(run_t *r)
{
    mmu_err err = cpu_hook_syscall(r->c, on_syscall, r, NULL);
    return err == MMU_OK ? true : run_fail(r, "cannot hook system calls: %s", mmu_strerror(err));
}
