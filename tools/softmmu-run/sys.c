/*
 * sys.c - the `syscall` hook: dispatch by the x86-64 Linux number, --strace
 * output, -ENOSYS for everything else.
 */
#include "sig.h"
#include "viz.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define ERESTARTSYS_ 512 /* the kernel's internal "restart this call" */

typedef struct sys_entry {
    const char *name;
    sys_fn      fn;
    const char *args; /* one char per argument: d int, u unsigned, x hex, o octal, s string,
                       * g signal, m sigset pointer, t timespec pointer, i siginfo pointer
                       * (I: written by the call, shown when it succeeds) */
    unsigned    flags;
} sys_entry;

enum {
    HEX = 1,   /* print the result in hex */
    NORESTART = 2, /* interrupted by a handler: -EINTR even with SA_RESTART */
};

#define E(nr, f, fmt, fl) [nr] = { #f, sys_##f, fmt, fl }
#define A(nr, n, f, fmt, fl) [nr] = { n, sys_##f, fmt, fl } /* a name served by another handler */
static const sys_entry table[] = {
    E(0, read, "dxu", 0),            E(1, write, "dxu", 0),            E(2, open, "sxo", 0),
    E(3, close, "d", 0),             E(4, stat, "sx", 0),              E(5, fstat, "dx", 0),
    E(6, lstat, "sx", 0),            E(7, poll, "xud", NORESTART),     E(8, lseek, "ddd", 0),
    E(9, mmap, "xuxxdx", HEX),       E(10, mprotect, "xux", 0),        E(11, munmap, "xu", 0),
    E(12, brk, "x", HEX),            E(13, rt_sigaction, "gxxu", 0),   E(14, rt_sigprocmask, "dmmu", 0),
    E(15, rt_sigreturn, "", HEX),    E(16, ioctl, "dxx", 0),           E(17, pread64, "dxud", 0),
    E(18, pwrite64, "dxud", 0),      E(19, readv, "dxd", 0),           E(20, writev, "dxd", 0),
    E(21, access, "so", 0),          E(22, pipe, "x", 0),              E(23, select, "dxxxx", NORESTART),
    E(24, sched_yield, "", 0),       E(28, madvise, "xud", 0),         E(32, dup, "d", 0),
    E(33, dup2, "dd", 0),            E(34, pause, "", NORESTART),      E(35, nanosleep, "xx", NORESTART),
    E(36, getitimer, "dx", 0),       E(37, alarm, "u", 0),             E(38, setitimer, "dxx", 0),
    E(39, getpid, "", 0),            E(40, sendfile, "ddxu", 0),       A(56, "clone", clone, "xxxxx", 0),
    A(57, "fork", fork, "", 0),      A(58, "vfork", fork, "", 0),      E(59, execve, "sxx", 0),
    E(60, exit, "d", 0),             E(61, wait4, "dxxx", 0),          E(62, kill, "dg", 0),
    E(63, uname, "x", 0),            E(72, fcntl, "ddx", 0),           E(73, flock, "dd", 0),
    E(74, fsync, "d", 0),            E(75, fdatasync, "d", 0),         E(76, truncate, "sd", 0),
    E(77, ftruncate, "dd", 0),       E(79, getcwd, "xu", 0),           E(80, chdir, "s", 0),
    E(81, fchdir, "d", 0),           E(82, rename, "ss", 0),           E(83, mkdir, "so", 0),
    E(84, rmdir, "s", 0),            E(85, creat, "so", 0),            E(86, link, "ss", 0),
    E(87, unlink, "s", 0),           E(88, symlink, "ss", 0),          E(89, readlink, "sxu", 0),
    E(90, chmod, "so", 0),           E(91, fchmod, "do", 0),           E(92, chown, "sdd", 0),
    E(93, fchown, "ddd", 0),         E(94, lchown, "sdd", 0),          E(95, umask, "o", 0),
    E(96, gettimeofday, "xx", 0),    E(97, getrlimit, "dx", 0),        E(98, getrusage, "dx", 0),
    E(99, sysinfo, "x", 0),          E(100, times, "x", 0),            E(102, getuid, "", 0),
    E(104, getgid, "", 0),           E(105, setuid, "d", 0),           E(106, setgid, "d", 0),
    E(107, geteuid, "", 0),          E(108, getegid, "", 0),           E(109, setpgid, "dd", 0),
    E(110, getppid, "", 0),          E(111, getpgrp, "", 0),           E(112, setsid, "", 0),
    E(115, getgroups, "dx", 0),      E(118, getresuid, "xxx", 0),      E(120, getresgid, "xxx", 0),
    E(121, getpgid, "d", 0),         E(124, getsid, "d", 0),           E(127, rt_sigpending, "mu", 0),
    E(128, rt_sigtimedwait, "mItu", NORESTART), E(129, rt_sigqueueinfo, "dgi", 0),
    E(130, rt_sigsuspend, "mu", NORESTART), E(131, sigaltstack, "xx", 0), E(133, mknod, "sox", 0),
    E(137, statfs, "sx", 0),         E(138, fstatfs, "dx", 0),         E(140, getpriority, "dd", 0),
    E(157, prctl, "dxxxx", 0),       E(158, arch_prctl, "xx", 0),      E(160, setrlimit, "dx", 0),
    A(186, "gettid", getpid, "", 0), E(200, tkill, "dg", 0),           E(201, time, "x", 0),
    E(202, futex, "xdxxxx", 0),      E(204, sched_getaffinity, "dux", 0), E(217, getdents64, "dxu", 0),
    E(218, set_tid_address, "x", 0), E(221, fadvise64, "dddd", 0),     E(228, clock_gettime, "dx", 0),
    E(229, clock_getres, "dx", 0),   E(230, clock_nanosleep, "ddxx", NORESTART),
    A(231, "exit_group", exit, "d", 0), E(234, tgkill, "ddg", 0),       E(247, waitid, "ddxdx", 0),
    E(257, openat, "dsxo", 0),       E(258, mkdirat, "dso", 0),        E(259, mknodat, "dsox", 0),
    E(260, fchownat, "dsddx", 0),    E(262, newfstatat, "dsxx", 0),    E(263, unlinkat, "dsx", 0),
    E(264, renameat, "dsds", 0),     E(265, linkat, "dsdsx", 0),       E(266, symlinkat, "sds", 0),
    E(267, readlinkat, "dsxu", 0),   E(268, fchmodat, "dso", 0),       E(269, faccessat, "dso", 0),
    E(270, pselect6, "dxxxxx", NORESTART), E(271, ppoll, "xuxxu", NORESTART),
    A(273, "set_robust_list", zero, "xu", 0), E(280, utimensat, "dsxx", 0),
    E(292, dup3, "ddx", 0),          E(293, pipe2, "xx", 0),           E(297, rt_tgsigqueueinfo, "ddgi", 0),
    E(302, prlimit64, "ddxx", 0),
    E(316, renameat2, "dsdsx", 0),   E(318, getrandom, "xux", 0),      E(322, execveat, "dsxxx", 0),
    E(326, copy_file_range, "dxdxux", 0), E(332, statx, "dsxxx", 0),   E(439, faccessat2, "dsox", 0),
};
#undef E
#undef A
#define N_TABLE (sizeof table / sizeof table[0])

/* names for --strace of calls that get -ENOSYS: glibc copes with each
 * (rseq and clone3 as on an old kernel) */
static const char *const unimplemented[] = {
    [25] = "mremap",  [27] = "mincore", [41] = "socket",  [42] = "connect", [125] = "capget",
    [155] = "pivot_root", [161] = "chroot", [203] = "sched_setaffinity", [213] = "epoll_create",
    [232] = "epoll_wait", [233] = "epoll_ctl", [281] = "epoll_pwait", [290] = "eventfd2",
    [291] = "epoll_create1", [309] = "getcpu", [324] = "membarrier", [334] = "rseq", [435] = "clone3",
};

/* errno names for the values the handlers return */
static const char *errno_name(int e)
{
    static const struct { int e; const char *name; } names[] = {
        { EPERM, "EPERM" },   { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },   { EINTR, "EINTR" },
        { EIO, "EIO" },       { EBADF, "EBADF" },   { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
        { EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EEXIST, "EEXIST" }, { ENODEV, "ENODEV" },
        { EINVAL, "EINVAL" }, { ENOTTY, "ENOTTY" }, { ESPIPE, "ESPIPE" }, { EPIPE, "EPIPE" },
        { ENOSYS, "ENOSYS" }, { EDEADLK, "EDEADLK" }, { ETIMEDOUT, "ETIMEDOUT" }, { ECHILD, "ECHILD" },
        { ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" }, { EMFILE, "EMFILE" }, { ENOEXEC, "ENOEXEC" },
        { ERANGE, "ERANGE" }, { ENOTEMPTY, "ENOTEMPTY" }, { ELOOP, "ELOOP" }, { E2BIG, "E2BIG" },
        { ENAMETOOLONG, "ENAMETOOLONG" }, { EXDEV, "EXDEV" }, { ESPIPE, "ESPIPE" }, { EROFS, "EROFS" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].e == e)
            return names[i].name;
    return "E?";
}

/* a guest string as strace shows it: quoted, the first 32 bytes */
static void print_string(run_t *r, uint64_t addr)
{
    char buf[4096];
    if (mem_string_in(r, addr, buf, sizeof buf) == -EFAULT) {
        fprintf(stderr, "%#" PRIx64, addr);
        return;
    }
    fputc('"', stderr);
    for (size_t i = 0; buf[i] && i < 32; i++)
        fprintf(stderr, buf[i] == '"' || buf[i] == '\\' ? "\\%c" : (unsigned char)buf[i] < 32 ? "\\x%02x" : "%c",
                (unsigned char)buf[i]);
    fputs(strlen(buf) > 32 ? "\"..." : "\"", stderr);
}

/* a signal set as strace shows it: [USR1 RTMIN], ~[] for nearly all */
static void print_sigset(run_t *r, uint64_t addr)
{
    uint64_t set;
    char name[16];
    if (!addr || !mem_copy_in(r, addr, &set, 8)) {
        fprintf(stderr, addr ? "%#" PRIx64 : "NULL", addr);
        return;
    }
    bool inv = __builtin_popcountll(set) > 32;
    fputs(inv ? "~[" : "[", stderr);
    set = inv ? ~set : set;
    for (int sig = 1; sig <= 64; sig++)
        if (set & SIG_BIT(sig))
            fprintf(stderr, "%s%s", set & (SIG_BIT(sig) - 1) ? " " : "", sig_name(sig, name, sizeof name) + 3);
    fputc(']', stderr);
}

/* {tv_sec=1, tv_nsec=0}, or the pointer when it cannot be read */
static void print_timespec(run_t *r, uint64_t addr)
{
    int64_t ts[2];
    if (!addr || !mem_copy_in(r, addr, ts, sizeof ts))
        fprintf(stderr, addr ? "%#" PRIx64 : "NULL", addr);
    else
        fprintf(stderr, "{tv_sec=%" PRId64 ", tv_nsec=%" PRId64 "}", ts[0], ts[1]);
}

static void print_siginfo(run_t *r, uint64_t addr)
{
    guest_siginfo si;
    char buf[256];
    if (!addr || !mem_copy_in(r, addr, &si, sizeof si)) {
        fprintf(stderr, addr ? "%#" PRIx64 : "NULL", addr);
        return;
    }
    sig_format_info(&si, buf, sizeof buf);
    fputs(buf, stderr);
}

static void print_arg(run_t *r, char kind, uint64_t v, int64_t ret)
{
    char name[16];
    if (kind == 's')
        print_string(r, v);
    else if (kind == 'g')
        fputs(sig_name((int)v, name, sizeof name), stderr);
    else if (kind == 'm')
        print_sigset(r, v);
    else if (kind == 't')
        print_timespec(r, v);
    else if (kind == 'i' || (kind == 'I' && ret >= 0))
        print_siginfo(r, v);
    else if (kind == 'I') /* the call failed: nothing was written */
        fprintf(stderr, v ? "%#" PRIx64 : "NULL", v);
    else if (kind == 'o')
        fprintf(stderr, "%#" PRIo64, v);
    else if (kind == 'd')
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
        print_arg(r, fmt[i], a[i], ret);
    }
    if (r->exited)
        fprintf(stderr, ") = ?\n");
    else if (ret == -(int64_t)ERESTARTSYS_)
        fprintf(stderr, ") = ? ERESTARTSYS (To be restarted)\n");
    else if (ret < 0 && ret >= -4095)
        fprintf(stderr, ") = -1 %s (%s)\n", errno_name((int)-ret), strerror((int)-ret));
    else
        fprintf(stderr, e && (e->flags & HEX) ? ") = %#" PRIx64 "\n" : ") = %" PRId64 "\n", (uint64_t)ret);
}

/* an interrupted call starts again (RIP back on the syscall instruction,
 * RAX its number) unless a handler runs that asked for -EINTR */
static bool restart(run_t *r, uint64_t nr, const sys_entry *e, int64_t ret)
{
    if (ret != -EINTR || nr == 15 || r->exited || r->exec_next || !sig_restarts(r))
        return false;
    if ((e->flags & NORESTART) && (r->sigpending & ~r->sigmask))
        return false; /* a handler runs: poll, sleeps, pause and sigsuspend say EINTR */
    cpu_reg_write(r->c, CPU_RIP, cpu_reg_read(r->c, CPU_RIP) - 2);
    cpu_reg_write(r->c, CPU_RAX, nr);
    return true;
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
    if (r->viz && nr >= 9 && nr <= 12) /* --report: mmap, mprotect, munmap, brk */
        viz_syscall(r, nr, a, ret);
    bool again = e && restart(r, nr, e, ret);
    if (r->o.strace)
        strace_line(r, nr, e, a, again ? -(int64_t)ERESTARTSYS_ : ret);
    if (r->exited || r->exec_next) {
        cpu_stop(c);
        return true;
    }
    if (nr != 15 && !again) /* rt_sigreturn has set every register */
        cpu_reg_write(c, CPU_RAX, (uint64_t)ret);
    if (sig_poll(r) && r->exited)
        cpu_stop(c);
    return true;
}

bool sys_init(run_t *r)
{
    mmu_err err = cpu_hook_syscall(r->c, on_syscall, r, NULL);
    return err == MMU_OK ? true : run_fail(r, "cannot hook system calls: %s", mmu_strerror(err));
}
