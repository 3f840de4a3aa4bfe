/*
 * hostile.c - bad arguments to the system calls softmmu-run implements:
 * unmapped, kernel-half and NULL pointers, strings running into a hole,
 * absurd lengths, descriptor exhaustion. Every call is made raw (no libc
 * checks in between) and must give the same error natively and under
 * softmmu-run, which must survive all of them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const long bad[] = { 1, 0x500000000, (long)0xffff800000000000ul };
static char *hole_end; /* the last bytes before an unmapped page */

#define TRY(...) show(#__VA_ARGS__, syscall(__VA_ARGS__, 0L, 0L, 0L, 0L, 0L))

static void show(const char *what, long rc)
{
    printf("%-64s -> %ld %s\n", what, rc, rc < 0 ? strerror(errno) : "");
}

/* the call with bad[i] in argument slot; the others as given, the rest 0 */
static void each_bad(const char *name, long nr, int slot, long a0, long a1, long a2, long a3)
{
    for (int i = 0; i < 3; i++) {
        long a[5] = { a0, a1, a2, a3, 0 };
        a[slot] = bad[i];
        long rc = syscall(nr, a[0], a[1], a[2], a[3], a[4], 0L);
        printf("%-20s arg %d = %#18lx -> %ld %s\n", name, slot, bad[i], rc, rc < 0 ? strerror(errno) : "");
    }
}

static void pointers(int file, int dir)
{
    char buf[256];
    int p[2];
    pipe(p);
    write(p[1], "data", 4);
    each_bad("read(pipe)", SYS_read, 1, p[0], 0, 4, 0);
    each_bad("read(file)", SYS_read, 1, file, 0, 4, 0);
    each_bad("write", SYS_write, 1, file, 0, 4, 0);
    each_bad("pread64", SYS_pread64, 1, file, 0, 4, 0);
    each_bad("writev", SYS_writev, 1, file, 0, 1, 0);
    each_bad("readv", SYS_readv, 1, file, 0, 1, 0);
    each_bad("open", SYS_open, 0, 0, O_RDONLY, 0, 0);
    each_bad("openat", SYS_openat, 1, AT_FDCWD, 0, O_RDONLY, 0);
    each_bad("stat(path)", SYS_stat, 0, 0, (long)buf, 0, 0);
    each_bad("stat(buf)", SYS_stat, 1, (long)".", 0, 0, 0);
    each_bad("fstat", SYS_fstat, 1, file, 0, 0, 0);
    each_bad("newfstatat", SYS_newfstatat, 2, AT_FDCWD, (long)".", 0, 0);
    each_bad("statx", SYS_statx, 4, AT_FDCWD, (long)".", 0, 0x7ff);
    each_bad("getdents64", SYS_getdents64, 1, dir, 0, 4096, 0);
    each_bad("readlink", SYS_readlink, 1, (long)"link", 0, 16, 0);
    each_bad("getcwd", SYS_getcwd, 0, 0, 256, 0, 0);
    each_bad("pipe", SYS_pipe, 0, 0, 0, 0, 0);
    each_bad("poll", SYS_poll, 0, 0, 1, 0, 0);
    each_bad("select", SYS_select, 1, 4, 0, 0, 0);
    each_bad("rename", SYS_rename, 1, (long)"nothing", 0, 0, 0);
    each_bad("symlink", SYS_symlink, 0, 0, (long)"newlink", 0, 0);
    each_bad("execve(path)", SYS_execve, 0, 0, 0, 0, 0);
    each_bad("execve(argv)", SYS_execve, 1, (long)"/proc/self/exe", 0, 0, 0);
    each_bad("wait4", SYS_wait4, 1, -1, 0, 0, 0);
    each_bad("rt_sigaction", SYS_rt_sigaction, 1, SIGUSR1, 0, 0, 8);
    each_bad("rt_sigprocmask", SYS_rt_sigprocmask, 1, SIG_BLOCK, 0, 0, 8);
    each_bad("clock_gettime", SYS_clock_gettime, 1, CLOCK_MONOTONIC, 0, 0, 0);
    each_bad("nanosleep", SYS_nanosleep, 0, 0, 0, 0, 0);
    each_bad("uname", SYS_uname, 0, 0, 0, 0, 0);
    each_bad("getrandom", SYS_getrandom, 0, 0, 16, 0, 0);
    each_bad("sysinfo", SYS_sysinfo, 0, 0, 0, 0, 0);
    each_bad("sendfile(offset)", SYS_sendfile, 2, file, file, 0, 4);
    each_bad("prlimit64", SYS_prlimit64, 3, 0, RLIMIT_NOFILE, 0, 0);
    each_bad("prlimit64(new)", SYS_prlimit64, 2, 0, RLIMIT_CORE, 0, 0);
    /* every other call that takes a path */
    each_bad("access", SYS_access, 0, 0, F_OK, 0, 0);
    each_bad("faccessat", SYS_faccessat, 1, AT_FDCWD, 0, F_OK, 0);
    each_bad("readlinkat", SYS_readlinkat, 1, AT_FDCWD, 0, (long)buf, 16);
    each_bad("chdir", SYS_chdir, 0, 0, 0, 0, 0);
    each_bad("mkdir", SYS_mkdir, 0, 0, 0755, 0, 0);
    each_bad("mkdirat", SYS_mkdirat, 1, AT_FDCWD, 0, 0755, 0);
    each_bad("rmdir", SYS_rmdir, 0, 0, 0, 0, 0);
    each_bad("unlink", SYS_unlink, 0, 0, 0, 0, 0);
    each_bad("unlinkat", SYS_unlinkat, 1, AT_FDCWD, 0, 0, 0);
    each_bad("link(old)", SYS_link, 0, 0, (long)"l2", 0, 0);
    each_bad("link(new)", SYS_link, 1, (long)"hostile.data", 0, 0, 0);
    each_bad("renameat2", SYS_renameat2, 3, AT_FDCWD, (long)"hostile.data", AT_FDCWD, 0);
    each_bad("symlink(new)", SYS_symlink, 1, (long)"target", 0, 0, 0);
    each_bad("chmod", SYS_chmod, 0, 0, 0644, 0, 0);
    each_bad("fchmodat", SYS_fchmodat, 1, AT_FDCWD, 0, 0644, 0);
    each_bad("chown", SYS_chown, 0, 0, -1, -1, 0);
    each_bad("lchown", SYS_lchown, 0, 0, -1, -1, 0);
    each_bad("truncate", SYS_truncate, 0, 0, 0, 0, 0);
    each_bad("utimensat(path)", SYS_utimensat, 1, AT_FDCWD, 0, 0, 0);
    each_bad("utimensat(times)", SYS_utimensat, 2, AT_FDCWD, (long)"hostile.data", 0, 0);
    each_bad("statfs(path)", SYS_statfs, 0, 0, (long)buf, 0, 0);
    each_bad("statfs(buf)", SYS_statfs, 1, (long)".", 0, 0, 0);
    each_bad("fstatfs", SYS_fstatfs, 1, file, 0, 0, 0);
    each_bad("creat", SYS_creat, 0, 0, 0644, 0, 0);
    each_bad("mknod", SYS_mknod, 0, 0, 0600 | 0010000, 0, 0);
    /* the other out-pointers */
    each_bad("pipe2", SYS_pipe2, 0, 0, 0, 0, 0);
    each_bad("ppoll", SYS_ppoll, 0, 0, 1, 0, 0);
    each_bad("pselect6(set)", SYS_pselect6, 1, 4, 0, 0, 0);
    each_bad("copy_file_range", SYS_copy_file_range, 1, file, 0, file, 0);
    each_bad("waitid", SYS_waitid, 2, P_ALL, 0, 0, WEXITED | WNOHANG);
    each_bad("getresuid", SYS_getresuid, 1, (long)buf, 0, (long)buf, 0);
    each_bad("getgroups", SYS_getgroups, 1, 64, 0, 0, 0);
    each_bad("sched_getaffinity", SYS_sched_getaffinity, 2, 0, 128, 0, 0);
    each_bad("setitimer", SYS_setitimer, 1, ITIMER_REAL, 0, 0, 0);
    each_bad("getitimer", SYS_getitimer, 1, ITIMER_REAL, 0, 0, 0);
    each_bad("sigaltstack", SYS_sigaltstack, 0, 0, 0, 0, 0);
    each_bad("rt_sigpending", SYS_rt_sigpending, 0, 0, 8, 0, 0);
    each_bad("rt_sigsuspend", SYS_rt_sigsuspend, 0, 0, 8, 0, 0);
    each_bad("times", SYS_times, 0, 0, 0, 0, 0);
    each_bad("getrusage", SYS_getrusage, 1, RUSAGE_SELF, 0, 0, 0);
    each_bad("gettimeofday", SYS_gettimeofday, 0, 0, 0, 0, 0);
    each_bad("clock_nanosleep", SYS_clock_nanosleep, 2, CLOCK_MONOTONIC, 0, 0, 0);
    each_bad("clock_getres", SYS_clock_getres, 1, CLOCK_MONOTONIC, 0, 0, 0);
    each_bad("fcntl(F_GETLK)", SYS_fcntl, 2, file, F_GETLK, 0, 0);
    each_bad("prctl(PR_SET_NAME)", SYS_prctl, 1, 15, 0, 0, 0);
    each_bad("prctl(PR_GET_NAME)", SYS_prctl, 1, 16, 0, 0, 0);
    each_bad("rt_sigqueueinfo", SYS_rt_sigqueueinfo, 2, getpid(), SIGUSR1, 0, 0);
    each_bad("rt_tgsigqueueinfo", SYS_rt_tgsigqueueinfo, 3, getpid(), getpid(), SIGUSR1, 0);
    each_bad("rt_sigtimedwait(set)", SYS_rt_sigtimedwait, 0, 0, 0, (long)&(struct timespec){ 0, 0 }, 8);
    each_bad("rt_sigtimedwait(ts)", SYS_rt_sigtimedwait, 2, (long)buf, 0, 0, 8);
    close(p[0]);
    close(p[1]);
}

static void holes(int file)
{
    /* a buffer running into a hole: the readable prefix is written */
    show("write(file, 3 bytes before a hole, 10)", syscall(SYS_write, file, hole_end - 3, 10));
    struct { void *base; long len; } iov[2] = { { "ab", 2 }, { hole_end - 2, 8 } };
    show("writev(file, [ok, into a hole])", syscall(SYS_writev, file, iov, 2));
    memcpy(hole_end - 4, "abcd", 4); /* no NUL before the hole */
    show("open(path running into a hole)", syscall(SYS_open, hole_end - 4, O_RDONLY));
    char *longpath = malloc(8192);
    memset(longpath, 'x', 8191);
    longpath[8191] = '\0';
    show("open(8191-byte path)", syscall(SYS_open, longpath, O_RDONLY));
    free(longpath);
}

/* bad signal numbers and ids for the calls that carry a siginfo */
static void sigqueues(void)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_code = SI_QUEUE;
    TRY(SYS_rt_sigqueueinfo, getpid(), 65, &si);
    TRY(SYS_rt_sigqueueinfo, getpid(), -1, &si);
    TRY(SYS_rt_sigqueueinfo, getpid(), 0, &si);
    TRY(SYS_rt_sigqueueinfo, 0x7ffffff0, SIGUSR1, &si);
    TRY(SYS_rt_tgsigqueueinfo, 0, getpid(), SIGUSR1, &si);
    TRY(SYS_rt_tgsigqueueinfo, getpid(), -5, SIGUSR1, &si);
    TRY(SYS_rt_tgsigqueueinfo, getpid(), getpid(), 99, &si);
    si.si_code = SI_USER; /* a forged kill() to another process (signal 0: nothing is sent) */
    TRY(SYS_rt_sigqueueinfo, 1, 0, &si);
}

/* bad sizes and timeouts; a bad siginfo pointer loses the signal taken */
static void sigtimedwaits(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    struct timespec zero = { 0, 0 }, bad_ns = { 0, 1000000000 }, negative = { -1, 0 };
    TRY(SYS_rt_sigtimedwait, &set, 0, &zero, 4);
    TRY(SYS_rt_sigtimedwait, &set, 0, &bad_ns, 8);
    TRY(SYS_rt_sigtimedwait, &set, 0, &negative, 8);
    TRY(SYS_rt_sigtimedwait, &set, 0, &zero, 8);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGUSR2);
    TRY(SYS_rt_sigtimedwait, &set, 0x500000000, &zero, 8);
    TRY(SYS_rt_sigtimedwait, &set, 0, &zero, 8);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void lengths(int file)
{
    char buf[64];
    struct timespec ts = { 0, 2000000000 };
    TRY(SYS_readlink, "link", buf, 0);
    TRY(SYS_getcwd, buf, 0);
    TRY(SYS_getcwd, buf, 1);
    TRY(SYS_pipe2, buf, 0x7fff);
    TRY(SYS_poll, buf, 0x7fffffff, 0);
    TRY(SYS_select, -1, 0, 0, 0, 0);
    TRY(SYS_writev, file, buf, -1);
    TRY(SYS_writev, file, buf, 100000);
    TRY(SYS_lseek, file, 0, 99);
    TRY(SYS_dup2, file, 100000);
    TRY(SYS_dup3, file, file, 0);
    TRY(SYS_dup3, file, 9, 0x1234);
    TRY(SYS_fcntl, file, F_DUPFD, 100000);
    TRY(SYS_fcntl, file, 0x7777, 0);
    TRY(SYS_close, 100000);
    TRY(SYS_close, -1);
    TRY(SYS_read, 555, buf, 1);
    TRY(SYS_ioctl, file, 0x5401, buf);
    TRY(SYS_ioctl, file, 0x5413, 1);
    TRY(SYS_nanosleep, &ts, 0);
    TRY(SYS_clock_gettime, 999, buf);
    TRY(SYS_rt_sigaction, SIGUSR1, 0, 0, 4);
    TRY(SYS_rt_sigaction, SIGKILL, buf, 0, 8);
    TRY(SYS_rt_sigaction, 65, 0, 0, 8);
    TRY(SYS_rt_sigprocmask, 7, buf, 0, 8);
    TRY(SYS_kill, getpid(), 65);
    sigqueues();
    sigtimedwaits();
    TRY(SYS_wait4, -1, 0, 0x40000000, 0);
    TRY(SYS_unlinkat, AT_FDCWD, "x", 0x999);
    TRY(SYS_newfstatat, AT_FDCWD, ".", buf, 0x10000000);
    TRY(SYS_openat, 555, "relative", O_RDONLY);
    TRY(SYS_execve, "hostile.data", 0, 0);
}

/* descriptors until EMFILE: the limit holds, and nothing breaks after */
static void exhaustion(void)
{
    int n = 0, fd, first = -1;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0) {
        first = first < 0 ? fd : first;
        n++;
    }
    printf("opened until: %s (more than 1000: %d)\n", strerror(errno), n > 1000);
    show("pipe when full", syscall(SYS_pipe, (int[2]){ 0 }));
    show("dup when full", syscall(SYS_dup, 0));
    for (int i = first; i < first + n; i++)
        close(i);
    fd = open("/dev/null", O_RDONLY);
    printf("after closing: the lowest is reused: %d\n", fd == first);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) != 0)
        return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    struct rlimit rl = { 1024, 1024 };
    setrlimit(RLIMIT_NOFILE, &rl); /* the runner's guest limit, natively too */
    char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(two + 4096, 4096);
    hole_end = two + 4096;
    int file = open("hostile.data", O_CREAT | O_RDWR | O_TRUNC, 0644);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    symlink("target", "link");
    pointers(file, dir);
    holes(file);
    lengths(file);
    exhaustion();
    printf("file size: %ld\n", (long)lseek(file, 0, SEEK_END));
    return 0;
}
