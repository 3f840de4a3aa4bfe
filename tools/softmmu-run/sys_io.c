/*
 * sys_io.c - system calls on open descriptors: read and write in their
 * forms, lseek, dup, fcntl, terminal ioctls, pipes, poll and select,
 * sendfile. Each guest descriptor is translated by the fd table; data goes
 * through a bounce buffer copied with the MMU, so a bad guest pointer is
 * -EFAULT and never a host access outside guest memory.
 */
#include "sys.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define IO_CHUNK 0x10000 /* bytes moved per host call */
#define IOV_MAX_ 1024
#define SIGPIPE_ 13

static uint8_t bounce[IO_CHUNK];

/* the host descriptor behind guest fd g, or return -EBADF */
#define HOST_FD(h, g)          \
    int h = fd_host(r, (g));   \
    if (h < 0)                 \
        return -EBADF

/* write(2) of one guest buffer, in chunks; a buffer that runs into a page
 * the guest cannot read writes the readable prefix and comes back short,
 * as Linux does. off < 0: at the file position. */
static int64_t write_buf(run_t *r, int fd, uint64_t buf, uint64_t len, int64_t off)
{
    uint64_t done = 0;
    fflush(stderr); /* keep --strace output in order with the guest's */
    while (done < len) {
        size_t n = len - done < IO_CHUNK ? (size_t)(len - done) : IO_CHUNK;
        size_t ok = mem_copy_in(r, buf + done, bounce, n) ? n : mem_readable(r, buf + done, n);
        if (ok < n && ok && !mem_copy_in(r, buf + done, bounce, ok))
            ok = 0;
        if (ok == 0)
            return done ? (int64_t)done : -EFAULT;
        ssize_t w = off < 0 ? write(fd, bounce, ok) : pwrite(fd, bounce, ok, off + (int64_t)done);
        if (w < 0 && errno == EPIPE && !done)
            return sig_raise(r, SIGPIPE_, 0, -EPIPE); /* SIGPIPE, as the kernel sends */
        if (w < 0)
            return done ? (int64_t)done : -errno;
        done += (uint64_t)w;
        if ((size_t)w < n)
            break;
    }
    return (int64_t)done;
}

/* a read into a bad buffer: Linux copies nothing and says so only when
 * there was something to copy (at the end of a file that is 0), or at once
 * when the buffer is not in user space at all (access_ok) */
static int64_t read_fault(int fd, uint64_t buf, uint64_t len, int64_t off)
{
    if (buf + len < buf || buf + len > RUN_USER_TOP)
        return -EFAULT;
    off_t pos = off >= 0 ? (off_t)off : lseek(fd, 0, SEEK_CUR);
    return pos >= 0 && pread(fd, bounce, 1, pos) == 0 ? 0 : -EFAULT;
}

/* read(2) into one guest buffer; the buffer is checked writable first so
 * that a bad pointer does not swallow input. A short read is fine. */
static int64_t read_buf(run_t *r, int fd, uint64_t buf, uint64_t len, int64_t off)
{
    size_t n = len < IO_CHUNK ? (size_t)len : IO_CHUNK;
    if (!mem_copy_in(r, buf, bounce, n) || !mem_copy_out(r, buf, bounce, n))
        return read_fault(fd, buf, len, off);
    ssize_t got = off < 0 ? read(fd, bounce, n) : pread(fd, bounce, n, off);
    if (got < 0)
        return -errno;
    return mem_copy_out(r, buf, bounce, (size_t)got) ? got : -EFAULT;
}

SYS_DECL(read)
{
    HOST_FD(h, a[0]);
    return read_buf(r, h, a[1], a[2], -1);
}

SYS_DECL(write)
{
    HOST_FD(h, a[0]);
    return write_buf(r, h, a[1], a[2], -1);
}

SYS_DECL(pread64)
{
    HOST_FD(h, a[0]);
    return (int64_t)a[3] < 0 ? -EINVAL : read_buf(r, h, a[1], a[2], (int64_t)a[3]);
}

SYS_DECL(pwrite64)
{
    HOST_FD(h, a[0]);
    return (int64_t)a[3] < 0 ? -EINVAL : write_buf(r, h, a[1], a[2], (int64_t)a[3]);
}

/* readv/writev: the iovec array, then each buffer until one comes up short */
static int64_t vector_io(run_t *r, const uint64_t *a, bool is_write)
{
    HOST_FD(h, a[0]);
    if (a[2] > IOV_MAX_)
        return -EINVAL;
    uint64_t *iov = malloc(a[2] * 16 + 1);
    if (!iov)
        return -ENOMEM;
    int64_t total = mem_copy_in(r, a[1], iov, a[2] * 16) ? 0 : -EFAULT;
    for (uint64_t i = 0; total >= 0 && i < a[2]; i++) {
        uint64_t base = iov[2 * i], len = iov[2 * i + 1];
        int64_t n = is_write ? write_buf(r, h, base, len, -1) : read_buf(r, h, base, len, -1);
        if (n < 0) {
            total = total ? total : n;
            break;
        }
        total += n;
        if ((uint64_t)n < len)
            break;
    }
    free(iov);
    return total;
}

SYS_DECL(readv)
{
    return vector_io(r, a, false);
}

SYS_DECL(writev)
{
    return vector_io(r, a, true);
}

SYS_DECL(lseek)
{
    HOST_FD(h, a[0]);
    off_t o = lseek(h, (off_t)a[1], (int)a[2]);
    return o < 0 ? -errno : (int64_t)o;
}

SYS_DECL(close)
{
    return fd_close(r, a[0]);
}

/* ------------------------------------------------------------ descriptors */

SYS_DECL(dup)
{
    HOST_FD(h, a[0]);
    int copy = fcntl(h, F_DUPFD_CLOEXEC, 3);
    return copy < 0 ? -errno : fd_install(r, copy, false, 0);
}

SYS_DECL(dup2)
{
    HOST_FD(h, a[0]);
    (void)h;
    return a[0] == a[1] ? (int64_t)a[1] : fd_dup_to(r, a[0], a[1], false);
}

SYS_DECL(dup3)
{
    if (a[2] & ~(uint64_t)O_CLOEXEC)
        return -EINVAL;
    return a[0] == a[1] ? -EINVAL : fd_dup_to(r, a[0], a[1], a[2] != 0);
}

/* F_GETLK/F_SETLK/F_SETLKW and the OFD ones: struct flock is the same on
 * an x86-64 host */
static int64_t fcntl_lock(run_t *r, int h, int cmd, uint64_t addr)
{
    struct flock fl;
    _Static_assert(sizeof fl == 32, "x86-64 struct flock");
    if (!mem_copy_in(r, addr, &fl, sizeof fl))
        return -EFAULT;
    if (fcntl(h, cmd, &fl) < 0)
        return -errno;
    return mem_copy_out(r, addr, &fl, sizeof fl) ? 0 : -EFAULT;
}

SYS_DECL(fcntl)
{
    HOST_FD(h, a[0]);
    int cmd = (int)a[1], v;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if (a[2] >= RUN_MAX_FDS)
            return -EINVAL;
        v = fcntl(h, F_DUPFD_CLOEXEC, 3);
        return v < 0 ? -errno : fd_install(r, v, cmd == F_DUPFD_CLOEXEC, (int)a[2]);
    case F_GETFD:
        return r->fd[a[0]].cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        r->fd[a[0]].cloexec = a[2] & FD_CLOEXEC;
        return 0;
    case F_GETLK: case F_SETLK: case F_SETLKW: case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
        return fcntl_lock(r, h, cmd, a[2]);
    case F_GETFL: case F_SETFL: case F_GETOWN: case F_SETOWN: case F_GETPIPE_SZ: case F_SETPIPE_SZ:
        v = fcntl(h, cmd, (int)a[2]); /* integer argument or none */
        return v < 0 ? -errno : v;
    default:
        return -EINVAL;
    }
}

/* terminal ioctls: number, bytes copied in or out (0: the argument is a
 * value); the kernel's struct termios is 36 bytes */
static const struct {
    uint32_t req;
    uint8_t  in, out;
} tty_ioctls[] = {
    { TCGETS, 0, 36 }, { TCSETS, 36, 0 },      { TCSETSW, 36, 0 },   { TCSETSF, 36, 0 },
    { TIOCGWINSZ, 0, 8 }, { TIOCSWINSZ, 8, 0 }, { TIOCGPGRP, 0, 4 }, { TIOCSPGRP, 4, 0 },
    { TIOCGSID, 0, 4 },  { FIONREAD, 0, 4 },   { TCFLSH, 0, 0 },     { TCXONC, 0, 0 },
    { TIOCSCTTY, 0, 0 }, { TCSBRK, 0, 0 },     { FIONBIO, 4, 0 },
};

SYS_DECL(ioctl)
{
    HOST_FD(h, a[0]);
    uint8_t buf[64] = { 0 };
    if (a[1] == FIOCLEX || a[1] == FIONCLEX) {
        r->fd[a[0]].cloexec = a[1] == FIOCLEX;
        return 0;
    }
    for (size_t i = 0; i < sizeof tty_ioctls / sizeof tty_ioctls[0]; i++) {
        if (tty_ioctls[i].req != (uint32_t)a[1])
            continue;
        bool value = !tty_ioctls[i].in && !tty_ioctls[i].out;
        if (tty_ioctls[i].in && !mem_copy_in(r, a[2], buf, tty_ioctls[i].in))
            return -EFAULT;
        long rc = syscall(SYS_ioctl, h, (unsigned long)a[1], value ? (unsigned long)a[2] : (unsigned long)buf);
        if (rc < 0)
            return -errno;
        return mem_copy_out(r, a[2], buf, tty_ioctls[i].out) ? rc : -EFAULT;
    }
    return -ENOTTY;
}

SYS_DECL(pipe2)
{
    int host[2];
    if (a[1] & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
        return -EINVAL;
    if (pipe2(host, (int)(a[1] & ~(uint64_t)O_CLOEXEC) | O_CLOEXEC) != 0)
        return -errno;
    int64_t g0 = fd_install(r, host[0], a[1] & O_CLOEXEC, 0);
    if (g0 < 0)
        return close(host[1]), g0;
    int64_t g1 = fd_install(r, host[1], a[1] & O_CLOEXEC, 0);
    int32_t fds[2] = { (int32_t)g0, (int32_t)g1 };
    if (g1 >= 0 && mem_copy_out(r, a[0], fds, sizeof fds))
        return 0;
    fd_close(r, (uint64_t)g0);
    if (g1 >= 0)
        fd_close(r, (uint64_t)g1);
    return g1 < 0 ? g1 : -EFAULT;
}

SYS_DECL(pipe)
{
    uint64_t b[6] = { a[0], 0 };
    return sys_pipe2(r, b);
}

/* --------------------------------------------------------- waiting on fds */

/* polls n guest pollfds (already copied in) on the host; invalid guest
 * descriptors get POLLNVAL as Linux gives them */
static int64_t poll_host(run_t *r, struct pollfd *pf, size_t n, const struct timespec *ts)
{
    struct pollfd *hp = malloc((n ? n : 1) * sizeof *hp);
    int bad = 0;
    if (!hp)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        hp[i] = pf[i];
        hp[i].fd = pf[i].fd < 0 ? -1 : fd_host(r, (uint64_t)pf[i].fd);
        bad += pf[i].fd >= 0 && hp[i].fd < 0;
    }
    struct timespec zero = { 0, 0 };
    int got = ppoll(hp, n, bad ? &zero : ts, NULL);
    for (size_t i = 0; got >= 0 && i < n; i++)
        pf[i].revents = pf[i].fd >= 0 && hp[i].fd < 0 ? POLLNVAL : hp[i].revents;
    int64_t ret = got < 0 ? -errno : got + bad;
    free(hp);
    return ret;
}

static int64_t poll_guest(run_t *r, uint64_t addr, uint64_t n, const struct timespec *ts)
{
    if (n > RUN_MAX_FDS)
        return -EINVAL;
    struct pollfd *pf = malloc((n ? n : 1) * sizeof *pf);
    if (!pf)
        return -ENOMEM;
    int64_t ret = mem_copy_in(r, addr, pf, n * sizeof *pf) ? poll_host(r, pf, n, ts) : -EFAULT;
    if (ret >= 0 && !mem_copy_out(r, addr, pf, n * sizeof *pf))
        ret = -EFAULT;
    free(pf);
    return ret;
}

SYS_DECL(poll)
{
    struct timespec ts = { (time_t)((int)a[2] / 1000), (long)((int)a[2] % 1000) * 1000000 };
    return poll_guest(r, a[0], a[1], (int)a[2] < 0 ? NULL : &ts);
}

/* a guest timespec, checked as the kernel does; NULL when addr is 0 */
static int64_t get_timespec(run_t *r, uint64_t addr, struct timespec *ts, struct timespec **out)
{
    int64_t v[2];
    *out = NULL;
    if (!addr)
        return 0;
    if (!mem_copy_in(r, addr, v, sizeof v))
        return -EFAULT;
    if (v[0] < 0 || v[1] < 0 || v[1] >= 1000000000)
        return -EINVAL;
    *ts = (struct timespec){ (time_t)v[0], (long)v[1] };
    *out = ts;
    return 0;
}

SYS_DECL(ppoll)
{
    struct timespec ts, *tp;
    int64_t e = get_timespec(r, a[2], &ts, &tp);
    return e < 0 ? e : poll_guest(r, a[0], a[1], tp); /* XXX: the temporary signal mask is not applied */
}

/* select's three sets as pollfds; the sets are cleared to what is ready */
static int64_t select_sets(run_t *r, uint64_t nfds, uint64_t set[3][16], const struct timespec *ts)
{
    static const short ev[3] = { POLLIN, POLLOUT, POLLPRI };
    struct pollfd pf[RUN_MAX_FDS];
    size_t n = 0;
    for (uint64_t fd = 0; fd < nfds; fd++) {
        short want = 0;
        for (int k = 0; k < 3; k++)
            want |= set[k][fd / 64] >> (fd % 64) & 1 ? ev[k] : 0;
        if (want && fd_host(r, fd) < 0)
            return -EBADF;
        if (want)
            pf[n++] = (struct pollfd){ (int)fd, want, 0 };
    }
    int64_t got = poll_host(r, pf, n, ts), ready = 0;
    memset(set, 0, sizeof(uint64_t) * 3 * 16);
    for (size_t i = 0; got > 0 && i < n; i++)
        for (int k = 0; k < 3; k++) {
            short hit = pf[i].revents & (k == 0 ? POLLIN | POLLHUP | POLLERR : k == 1 ? POLLOUT | POLLERR : POLLPRI);
            if (hit && (pf[i].events & ev[k])) {
                set[k][pf[i].fd / 64] |= 1ull << (pf[i].fd % 64);
                ready++;
            }
        }
    return got < 0 ? got : ready;
}

static int64_t select_guest(run_t *r, const uint64_t *a, const struct timespec *ts)
{
    uint64_t set[3][16] = { { 0 } };
    if ((int64_t)a[0] < 0 || a[0] > RUN_MAX_FDS)
        return -EINVAL;
    size_t bytes = (size_t)(a[0] + 63) / 64 * 8;
    for (int k = 0; k < 3; k++)
        if (a[1 + k] && !mem_copy_in(r, a[1 + k], set[k], bytes))
            return -EFAULT;
    int64_t got = select_sets(r, a[0], set, ts);
    for (int k = 0; got >= 0 && k < 3; k++)
        if (a[1 + k] && !mem_copy_out(r, a[1 + k], set[k], bytes))
            return -EFAULT;
    return got;
}

SYS_DECL(select)
{
    int64_t tv[2];
    if (a[4] && !mem_copy_in(r, a[4], tv, sizeof tv))
        return -EFAULT;
    if (a[4] && (tv[0] < 0 || tv[1] < 0 || tv[1] >= 1000000))
        return -EINVAL;
    struct timespec ts = { a[4] ? (time_t)tv[0] : 0, a[4] ? (long)tv[1] * 1000 : 0 };
    return select_guest(r, a, a[4] ? &ts : NULL); /* XXX: the timeout is not updated */
}

SYS_DECL(pselect6)
{
    struct timespec ts, *tp;
    int64_t e = get_timespec(r, a[4], &ts, &tp);
    return e < 0 ? e : select_guest(r, a, tp);
}

/* ------------------------------------------------------ file to file */

/* an optional guest loff_t: in and out around a host call */
static bool get_off(run_t *r, uint64_t addr, off_t *off)
{
    int64_t v = 0;
    if (addr && !mem_copy_in(r, addr, &v, 8))
        return false;
    *off = (off_t)v;
    return true;
}

SYS_DECL(sendfile)
{
    HOST_FD(out, a[0]);
    HOST_FD(in, a[1]);
    off_t off;
    if (!get_off(r, a[2], &off))
        return -EFAULT;
    ssize_t n = sendfile(out, in, a[2] ? &off : NULL, a[3] > IO_CHUNK * 16 ? IO_CHUNK * 16 : (size_t)a[3]);
    if (n < 0)
        return errno == EPIPE ? sig_raise(r, SIGPIPE_, 0, -EPIPE) : -errno;
    int64_t v = (int64_t)off;
    return a[2] && !mem_copy_out(r, a[2], &v, 8) ? -EFAULT : n;
}

SYS_DECL(copy_file_range)
{
    HOST_FD(in, a[0]);
    HOST_FD(out, a[2]);
    off_t oi, oo;
    if (!get_off(r, a[1], &oi) || !get_off(r, a[3], &oo))
        return -EFAULT;
    ssize_t n = copy_file_range(in, a[1] ? &oi : NULL, out, a[3] ? &oo : NULL, (size_t)a[4], (unsigned)a[5]);
    if (n < 0)
        return -errno;
    int64_t vi = (int64_t)oi, vo = (int64_t)oo;
    if ((a[1] && !mem_copy_out(r, a[1], &vi, 8)) || (a[3] && !mem_copy_out(r, a[3], &vo, 8)))
        return -EFAULT;
    return n;
}

/* --------------------------------------------------- per-descriptor file */

/* struct stat: the host's layout is the guest's on an x86-64 Linux host */
_Static_assert(sizeof(struct stat) == 144, "x86-64 struct stat");

int64_t io_put_stat(run_t *r, uint64_t addr, const struct stat *st)
{
    return mem_copy_out(r, addr, st, sizeof *st) ? 0 : -EFAULT;
}

SYS_DECL(fstat)
{
    HOST_FD(h, a[0]);
    struct stat st;
    return fstat(h, &st) != 0 ? -errno : io_put_stat(r, a[1], &st);
}

SYS_DECL(getdents64)
{
    HOST_FD(h, a[0]);
    size_t n = a[2] < IO_CHUNK ? (size_t)a[2] : IO_CHUNK;
    if (!mem_copy_in(r, a[1], bounce, n) || !mem_copy_out(r, a[1], bounce, n))
        return -EFAULT;
    long got = syscall(SYS_getdents64, h, bounce, n); /* linux_dirent64 is the same everywhere */
    if (got < 0)
        return -errno;
    return mem_copy_out(r, a[1], bounce, (size_t)got) ? got : -EFAULT;
}

/* calls whose only arguments are the descriptor and integers */
#define FD_CALL(name, expr)      \
    SYS_DECL(name)               \
    {                            \
        HOST_FD(h, a[0]);        \
        return (expr) < 0 ? -errno : 0; \
    }
FD_CALL(fsync, fsync(h))
FD_CALL(fdatasync, fdatasync(h))
FD_CALL(ftruncate, ftruncate(h, (off_t)a[1]))
FD_CALL(fchmod, fchmod(h, (mode_t)a[1]))
FD_CALL(fchown, fchown(h, (uid_t)a[1], (gid_t)a[2]))
FD_CALL(flock, flock(h, (int)a[1]))
FD_CALL(fchdir, fchdir(h))
FD_CALL(fadvise64, (errno = posix_fadvise(h, (off_t)a[1], (off_t)a[2], (int)a[3])) ? -1 : 0)
