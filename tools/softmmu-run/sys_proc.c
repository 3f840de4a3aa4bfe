/*
 * sys_proc.c - process and identity system calls. The guest is a single-
 * threaded process that is the runner's process: it has its pid and ids,
 * fork is the host's fork (the child runner holds a faithful copy of the
 * whole guest: MMU, CPU, fd table), a signal to another process is the
 * host's kill. execve is in exec.c.
 */
#include "sig.h"

#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#define RLIM_INF UINT64_MAX

SYS_DECL(exit)
{
    r->exited = true;
    r->status = (int)(a[0] & 0xff);
    return 0;
}

static bool is_self(uint64_t pid)
{
    return (int64_t)pid == (int64_t)getpid();
}

/* to itself: delivered here, synchronously, as Linux does before the call
 * returns; to others (and groups, which may include the runner): the host */
SYS_DECL(kill)
{
    if (is_self(a[0]))
        return sig_raise(r, (int)a[1], 0, 0);
    if ((int)a[1] < 0 || (int)a[1] > 64)
        return -EINVAL;
    return kill((pid_t)a[0], (int)a[1]) == 0 ? 0 : -errno;
}

SYS_DECL(tkill)
{
    if (is_self(a[0]))
        return sig_raise(r, (int)a[1], -6, 0);
    return syscall(SYS_tkill, (pid_t)a[0], (int)a[1]) == 0 ? 0 : -errno;
}

SYS_DECL(tgkill)
{
    if (is_self(a[0]) && is_self(a[1]))
        return sig_raise(r, (int)a[2], -6, 0);
    return syscall(SYS_tgkill, (pid_t)a[0], (pid_t)a[1], (int)a[2]) == 0 ? 0 : -errno;
}

/* rt_sigqueueinfo and rt_tgsigqueueinfo carry the sender's siginfo as it
 * is given (sigqueue's SI_QUEUE and value): to itself with any si_code, to
 * others by the host's call, which refuses a forged kernel or kill()
 * origin (-EPERM). The kernel reads the siginfo first, then overwrites
 * its si_signo. */
static int64_t info_in(run_t *r, uint64_t addr, uint64_t sig, guest_siginfo *info)
{
    if (!mem_copy_in(r, addr, info, sizeof *info))
        return -EFAULT;
    info->signo = (int32_t)sig;
    return 0;
}

static int64_t queue_self(run_t *r, const guest_siginfo *info)
{
    if ((uint32_t)info->signo > 64)
        return -EINVAL;
    return info->signo == 0 ? 0 : sig_send(r, info, 0);
}

SYS_DECL(rt_sigqueueinfo)
{
    guest_siginfo info;
    int64_t e = info_in(r, a[2], a[1], &info);
    if (e < 0 || is_self(a[0]))
        return e < 0 ? e : queue_self(r, &info);
    return syscall(SYS_rt_sigqueueinfo, (pid_t)a[0], (int)a[1], &info) == 0 ? 0 : -errno;
}

SYS_DECL(rt_tgsigqueueinfo)
{
    guest_siginfo info;
    int64_t e = info_in(r, a[3], a[2], &info);
    if (e == 0 && ((int)a[0] <= 0 || (int)a[1] <= 0))
        e = -EINVAL; /* one thread, named by both ids */
    if (e < 0 || (is_self(a[0]) && is_self(a[1])))
        return e < 0 ? e : queue_self(r, &info);
    return syscall(SYS_rt_tgsigqueueinfo, (pid_t)a[0], (pid_t)a[1], (int)a[2], &info) == 0 ? 0 : -errno;
}

/* ------------------------------------------------------------ processes */

#define CLONE_VM_ 0x100ull
#define CLONE_VFORK_ 0x4000ull
#define CLONE_SETTLS_ 0x80000ull
#define CLONE_PARENT_SETTID_ 0x100000ull
#define CLONE_CHILD_SETTID_ 0x1000000ull

/* fork, vfork and clone without CLONE_VM: the host's fork; the child starts
 * at the instruction after the call with RAX = 0, on newsp if given */
static int64_t do_fork(run_t *r, uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid, uint64_t tls)
{
    fflush(stdout);
    fflush(stderr);
    /* Host signals wait until the child has dropped what it inherited: a
     * signal sent to the new child right after the fork (kill(child, ...))
     * must reach the child's queue, not be caught before and cleared. */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
        sig_fork_child(r);
    int fork_errno = errno;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        return -fork_errno;
    uint32_t id = (uint32_t)(pid ? pid : getpid());
    if ((flags & CLONE_PARENT_SETTID_) && !mem_copy_out(r, ptid, &id, 4) && pid)
        return pid; /* Linux fails before the fork; the child is made: report it */
    if (pid)
        return pid;
    r->forked = true;
    if (newsp)
        cpu_reg_write(r->c, CPU_RSP, newsp);
    if (flags & CLONE_SETTLS_)
        cpu_reg_write(r->c, CPU_FS_BASE, tls);
    if (flags & CLONE_CHILD_SETTID_)
        mem_copy_out(r, ctid, &id, 4);
    return 0;
}

SYS_DECL(fork)
{
    (void)a;
    return do_fork(r, 0, 0, 0, 0, 0);
}

SYS_DECL(clone)
{
    if ((a[0] & CLONE_VM_) && !(a[0] & CLONE_VFORK_)) {
        run_msg("threads are not supported: clone(flags=%#" PRIx64 ") shares memory (CLONE_VM); "
                "only fork, vfork and clone without CLONE_VM work", a[0]);
        r->exited = true;
        r->status = RUN_EXIT_GUEST_FAULT;
        return -ENOSYS;
    }
    /* CLONE_VM|CLONE_VFORK (posix_spawn): the child gets a copy, which is
     * all a vfork child may rely on until it execs */
    return do_fork(r, a[0], a[1], a[2], a[3], a[4]);
}

/* struct rusage: 144 bytes on x86-64, host and guest alike */
static int64_t put_rusage(run_t *r, uint64_t addr, const struct rusage *ru)
{
    _Static_assert(sizeof *ru == 144, "x86-64 struct rusage");
    return !addr || mem_copy_out(r, addr, ru, sizeof *ru) ? 0 : -EFAULT;
}

SYS_DECL(wait4)
{
    int st = 0;
    struct rusage ru;
    if (a[2] & ~(uint64_t)(WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD))
        return -EINVAL;
    pid_t pid = wait4((pid_t)a[0], &st, (int)a[2], &ru);
    if (pid < 0)
        return -errno;
    if (pid > 0 && a[1] && !mem_copy_out(r, a[1], &st, 4))
        return -EFAULT;
    return pid > 0 && put_rusage(r, a[3], &ru) < 0 ? -EFAULT : pid;
}

/* as Linux, infop is written even when there is nothing to report (zeros),
 * so a bad infop is -EFAULT before -ECHILD */
SYS_DECL(waitid)
{
    uint8_t info[128] = { 0 };
    struct rusage ru;
    long rc = syscall(SYS_waitid, (int)a[0], (pid_t)a[1], info, (int)a[3], &ru);
    int64_t err = rc < 0 ? -errno : 0;
    if (rc < 0)
        memset(info, 0, sizeof info);
    if (a[2] && !mem_copy_out(r, a[2], info, sizeof info))
        return -EFAULT;
    return err == 0 && put_rusage(r, a[4], &ru) < 0 ? -EFAULT : err;
}

#define ID_CALL(name, expr) \
    SYS_DECL(name)          \
    {                       \
        (void)r, (void)a;   \
        return (int64_t)(expr); \
    }
ID_CALL(getpid, getpid())
ID_CALL(getppid, getppid())
ID_CALL(getuid, getuid())
ID_CALL(geteuid, geteuid())
ID_CALL(getgid, getgid())
ID_CALL(getegid, getegid())
ID_CALL(zero, 0)
ID_CALL(getpgrp, getpgrp())
ID_CALL(setsid, setsid() < 0 ? -errno : getpid())
ID_CALL(getpgid, getpgid((pid_t)a[0]) < 0 ? -errno : getpgid((pid_t)a[0]))
ID_CALL(getsid, getsid((pid_t)a[0]) < 0 ? -errno : getsid((pid_t)a[0]))
ID_CALL(setpgid, setpgid((pid_t)a[0], (pid_t)a[1]) < 0 ? -errno : 0)
ID_CALL(setuid, setuid((uid_t)a[0]) < 0 ? -errno : 0)
ID_CALL(setgid, setgid((gid_t)a[0]) < 0 ? -errno : 0)
ID_CALL(sched_yield, sched_yield())
ID_CALL(set_tid_address, getpid()) /* the tid; nobody waits on the address */

SYS_DECL(uname)
{
    static const char fields[6][65] = { "Linux", "softmmu", "6.1.0-softmmu", "#1 SMP softmmu-run",
                                        "x86_64", "(none)" };
    return mem_copy_out(r, a[0], fields, sizeof fields) ? 0 : -EFAULT;
}

SYS_DECL(arch_prctl)
{
    uint64_t v;
    switch (a[0]) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
        if (a[1] >= RUN_USER_TOP)
            return -EPERM;
        cpu_reg_write(r->c, a[0] == ARCH_SET_FS ? CPU_FS_BASE : CPU_GS_BASE, a[1]);
        return 0;
    case ARCH_GET_FS:
    case ARCH_GET_GS:
        v = cpu_reg_read(r->c, a[0] == ARCH_GET_FS ? CPU_FS_BASE : CPU_GS_BASE);
        return mem_copy_out(r, a[1], &v, 8) ? 0 : -EFAULT;
    default:
        return -EINVAL;
    }
}

SYS_DECL(getrandom)
{
    uint8_t buf[256];
    size_t n = a[1] < sizeof buf ? (size_t)a[1] : sizeof buf; /* short reads are allowed */
    ssize_t got = getrandom(buf, n, 0);
    if (got < 0)
        return -errno;
    return mem_copy_out(r, a[0], buf, (size_t)got) ? got : -EFAULT;
}

/* one thread: nobody to wake, and a wait on a matching value would hang */
SYS_DECL(futex)
{
    uint32_t v;
    switch (a[1] & 0x7f) {
    case 0: /* FUTEX_WAIT */
    case 9: /* FUTEX_WAIT_BITSET */
        if (!mem_copy_in(r, a[0], &v, 4))
            return -EFAULT;
        return v != (uint32_t)a[2] ? -EAGAIN : a[3] ? -ETIMEDOUT : -EDEADLK;
    case 1:  /* FUTEX_WAKE */
    case 10: /* FUTEX_WAKE_BITSET */
        return 0;
    default:
        return -ENOSYS;
    }
}

/* the raw call's 20 - nice, not glibc's nice */
SYS_DECL(getpriority)
{
    (void)r;
    long v = syscall(SYS_getpriority, (int)a[0], (id_t)a[1]);
    return v < 0 ? -errno : v;
}

/* getresuid/getresgid: three 32-bit ids */
static int64_t put_ids(run_t *r, const uint64_t *a, uint32_t x, uint32_t y, uint32_t z)
{
    const uint32_t v[3] = { x, y, z };
    for (int i = 0; i < 3; i++)
        if (!mem_copy_out(r, a[i], &v[i], 4))
            return -EFAULT;
    return 0;
}

SYS_DECL(getresuid)
{
    uid_t u[3];
    getresuid(&u[0], &u[1], &u[2]);
    return put_ids(r, a, u[0], u[1], u[2]);
}

SYS_DECL(getresgid)
{
    gid_t g[3];
    getresgid(&g[0], &g[1], &g[2]);
    return put_ids(r, a, g[0], g[1], g[2]);
}

SYS_DECL(getgroups)
{
    gid_t g[256];
    if ((int)a[0] < 0)
        return -EINVAL;
    int n = getgroups(256, g);
    if (n < 0)
        return -errno;
    if (a[0] == 0)
        return n;
    if ((int)a[0] < n)
        return -EINVAL;
    return mem_copy_out(r, a[1], g, (size_t)n * sizeof *g) ? n : -EFAULT;
}

/* struct sysinfo: 112 bytes on x86-64 */
SYS_DECL(sysinfo)
{
    struct sysinfo si;
    _Static_assert(sizeof si == 112, "x86-64 struct sysinfo");
    if (sysinfo(&si) != 0)
        return -errno;
    return mem_copy_out(r, a[0], &si, sizeof si) ? 0 : -EFAULT;
}

SYS_DECL(sched_getaffinity)
{
    uint8_t mask[128];
    if (a[0] && !is_self(a[0]))
        return -ESRCH;
    long n = syscall(SYS_sched_getaffinity, 0, a[1] < sizeof mask ? (size_t)a[1] : sizeof mask, mask);
    if (n < 0)
        return -errno;
    return mem_copy_out(r, a[2], mask, (size_t)n) ? n : -EFAULT;
}

/* struct rusage of the process (RUSAGE_SELF) or its children */
SYS_DECL(getrusage)
{
    struct rusage ru;
    if (getrusage((int)a[0], &ru) != 0)
        return -errno;
    return a[1] ? put_rusage(r, a[1], &ru) : -EFAULT;
}

#define PR_SET_PDEATHSIG_ 1
#define PR_GET_DUMPABLE_ 3
#define PR_SET_NAME_ 15
#define PR_GET_NAME_ 16

/* the prctl options glibc and busybox use; others -EINVAL as for an
 * option an old kernel does not know */
SYS_DECL(prctl)
{
    static char name[16]; /* the task's comm: the program's basename until set */
    static bool named;
    char tmp[16] = { 0 };
    if (!named) /* comm is at most 15 bytes */
        memcpy(name, r->label, strnlen(r->label, sizeof name - 1));
    switch (a[0]) {
    case PR_SET_NAME_: /* up to 15 bytes, truncated as the kernel does */
        if (mem_string_in(r, a[1], tmp, sizeof tmp) == -EFAULT)
            return -EFAULT;
        memcpy(name, tmp, 15);
        named = true;
        return 0;
    case PR_GET_NAME_:
        return mem_copy_out(r, a[1], name, 16) ? 0 : -EFAULT;
    case PR_GET_DUMPABLE_:
        return 1;
    case PR_SET_PDEATHSIG_:
        return a[1] > 64 ? -EINVAL : 0;
    default:
        return -EINVAL;
    }
}

SYS_DECL(getrlimit)
{
    uint64_t b[6] = { 0, a[0], 0, a[1] };
    return sys_prlimit64(r, b);
}

SYS_DECL(setrlimit)
{
    uint64_t lim[2];
    if (a[0] >= 16)
        return -EINVAL;
    return mem_copy_in(r, a[1], lim, sizeof lim) ? (lim[0] > lim[1] ? -EINVAL : 0) : -EFAULT; /* accepted, not enforced */
}

SYS_DECL(prlimit64)
{
    uint64_t lim[2] = { RLIM_INF, RLIM_INF };
    if (a[0] != 0 && !is_self(a[0]))
        return -ESRCH;
    if (a[1] >= 16)
        return -EINVAL;
    if (a[1] == 3) /* RLIMIT_STACK */
        lim[0] = RUN_STACK_SIZE;
    if (a[1] == 7) /* RLIMIT_NOFILE */
        lim[0] = lim[1] = 1024;
    uint64_t nu[2];
    if (a[2] && !mem_copy_in(r, a[2], nu, sizeof nu)) /* a new limit is accepted, not enforced */
        return -EFAULT;
    if (a[2] && nu[0] > nu[1])
        return -EINVAL;
    return a[3] && !mem_copy_out(r, a[3], lim, sizeof lim) ? -EFAULT : 0;
}
