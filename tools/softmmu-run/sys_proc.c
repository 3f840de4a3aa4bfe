/*
 * sys_proc.c - process, identity and time system calls. The guest is one
 * single-threaded process that shares the runner's pid, ids and clocks.
 */
#include "sys.h"

#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
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

SYS_DECL(kill)
{
    return a[0] == 0 || is_self(a[0]) ? sig_raise(r, (int)a[1], 0) : -ESRCH;
}

SYS_DECL(tkill)
{
    return is_self(a[0]) ? sig_raise(r, (int)a[1], 0) : -ESRCH;
}

SYS_DECL(tgkill)
{
    return is_self(a[0]) && is_self(a[1]) ? sig_raise(r, (int)a[2], 0) : -ESRCH;
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

/* ------------------------------------------------------------------ time */

static int64_t put_timespec(run_t *r, uint64_t addr, const struct timespec *ts)
{
    int64_t v[2] = { (int64_t)ts->tv_sec, (int64_t)ts->tv_nsec };
    return mem_copy_out(r, addr, v, sizeof v) ? 0 : -EFAULT;
}

SYS_DECL(clock_gettime)
{
    struct timespec ts;
    if (clock_gettime((clockid_t)a[0], &ts) != 0)
        return -EINVAL;
    return put_timespec(r, a[1], &ts);
}

SYS_DECL(clock_getres)
{
    struct timespec ts;
    if (clock_getres((clockid_t)a[0], &ts) != 0)
        return -EINVAL;
    return a[1] ? put_timespec(r, a[1], &ts) : 0;
}

SYS_DECL(gettimeofday)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t tv[2] = { (int64_t)ts.tv_sec, (int64_t)ts.tv_nsec / 1000 }, tz[1] = { 0 };
    if (a[0] && !mem_copy_out(r, a[0], tv, sizeof tv))
        return -EFAULT;
    return a[1] && !mem_copy_out(r, a[1], tz, sizeof tz) ? -EFAULT : 0;
}

SYS_DECL(time)
{
    int64_t t = (int64_t)time(NULL);
    return a[0] && !mem_copy_out(r, a[0], &t, 8) ? -EFAULT : t;
}

SYS_DECL(nanosleep)
{
    int64_t v[2];
    if (!mem_copy_in(r, a[0], v, sizeof v))
        return -EFAULT;
    if (v[0] < 0 || v[1] < 0 || v[1] >= 1000000000)
        return -EINVAL;
    struct timespec ts = { (time_t)v[0], (long)v[1] };
    return nanosleep(&ts, NULL) == 0 ? 0 : -EINTR;
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
    return a[3] && !mem_copy_out(r, a[3], lim, sizeof lim) ? -EFAULT : 0; /* new limits: ignored */
}
