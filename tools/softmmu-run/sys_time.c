/*
 * sys_time.c - clocks and sleeps. The guest reads the host's clocks, but
 * only its own: a dynamic CPU-clock id naming another process is -EINVAL.
 */
#include "sys.h"

#include <sys/times.h>
#include <time.h>
#include <unistd.h>

static int64_t put_timespec(run_t *r, uint64_t addr, const struct timespec *ts)
{
    int64_t v[2] = { (int64_t)ts->tv_sec, (int64_t)ts->tv_nsec };
    return mem_copy_out(r, addr, v, sizeof v) ? 0 : -EFAULT;
}

/* the guest's own clocks: the static ids, and dynamic CPU clocks
 * (~pid << 3 | kind) of itself; never another process's or an fd clock */
static bool own_clock(uint64_t id)
{
    int32_t c = (int32_t)id; /* clockid_t is an int: the kernel ignores the upper half */
    if (c >= 0)
        return c <= 11 && c != 10; /* REALTIME .. TAI; 10 is unused */
    int32_t pid = ~(c >> 3);
    return (c & 3) != 3 && (pid == 0 || pid == (int32_t)getpid());
}

SYS_DECL(clock_gettime)
{
    struct timespec ts;
    if (!own_clock(a[0]) || clock_gettime((clockid_t)a[0], &ts) != 0)
        return -EINVAL;
    return put_timespec(r, a[1], &ts);
}

SYS_DECL(clock_getres)
{
    struct timespec ts;
    if (!own_clock(a[0]) || clock_getres((clockid_t)a[0], &ts) != 0)
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

/* a sleep: the request, and on EINTR the time left into rem (if given) */
static int64_t sleep_on(run_t *r, uint64_t clock, uint64_t flags, uint64_t req, uint64_t rem)
{
    int64_t v[2];
    if (!mem_copy_in(r, req, v, sizeof v))
        return -EFAULT;
    if (v[0] < 0 || v[1] < 0 || v[1] >= 1000000000)
        return -EINVAL;
    if (!own_clock(clock))
        return -EINVAL;
    struct timespec ts = { (time_t)v[0], (long)v[1] }, left = { 0, 0 };
    int e = clock_nanosleep((clockid_t)clock, (int)flags, &ts, &left);
    if (e == EINTR && rem && !(flags & TIMER_ABSTIME) && put_timespec(r, rem, &left) < 0)
        return -EFAULT;
    return -e;
}

SYS_DECL(nanosleep)
{
    return sleep_on(r, CLOCK_REALTIME, 0, a[0], a[1]);
}

SYS_DECL(clock_nanosleep)
{
    return a[1] & ~(uint64_t)TIMER_ABSTIME ? -EINVAL : sleep_on(r, a[0], a[1], a[2], a[3]);
}

/* struct tms: four clock_t, the same on an x86-64 host */
SYS_DECL(times)
{
    struct tms t;
    clock_t now = times(&t);
    return a[0] && !mem_copy_out(r, a[0], &t, sizeof t) ? -EFAULT : (int64_t)now;
}

