/*
 * sys_io.c - file system calls. The guest has exactly the three standard
 * descriptors, passed through to the runner's own; there is no file system.
 */
#include "sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define IO_CHUNK 0x10000 /* bytes moved per host call */
#define IOV_MAX_ 1024

static bool std_fd(uint64_t fd)
{
    return fd <= 2;
}

/* write(2) of one guest buffer, in chunks; short on a bad page or error */
static int64_t write_buf(run_t *r, int fd, uint64_t buf, uint64_t len)
{
    static uint8_t tmp[IO_CHUNK];
    uint64_t done = 0;
    fflush(stderr); /* keep trace output in order with the guest's */
    while (done < len) {
        size_t n = len - done < IO_CHUNK ? (size_t)(len - done) : IO_CHUNK;
        if (!mem_copy_in(r, buf + done, tmp, n))
            return done ? (int64_t)done : -EFAULT;
        ssize_t w = write(fd, tmp, n);
        if (w < 0 && errno == EPIPE && !done)
            return sig_raise(r, 13, -EPIPE); /* SIGPIPE, as the kernel sends */
        if (w < 0)
            return done ? (int64_t)done : -errno;
        done += (uint64_t)w;
        if ((size_t)w < n)
            break;
    }
    return (int64_t)done;
}

/* read(2) into one guest buffer; the buffer is checked writable first so
 * that a bad pointer does not swallow input */
static int64_t read_buf(run_t *r, int fd, uint64_t buf, uint64_t len)
{
    static uint8_t tmp[IO_CHUNK];
    size_t n = len < IO_CHUNK ? (size_t)len : IO_CHUNK; /* a short read is fine */
    if (!mem_copy_in(r, buf, tmp, n) || !mem_copy_out(r, buf, tmp, n))
        return -EFAULT;
    ssize_t got = read(fd, tmp, n);
    if (got < 0)
        return -errno;
    return mem_copy_out(r, buf, tmp, (size_t)got) ? got : -EFAULT;
}

SYS_DECL(read)
{
    return std_fd(a[0]) ? read_buf(r, (int)a[0], a[1], a[2]) : -EBADF;
}

SYS_DECL(write)
{
    return std_fd(a[0]) ? write_buf(r, (int)a[0], a[1], a[2]) : -EBADF;
}

/* readv/writev: the iovec array, then each buffer until one comes up short */
static int64_t vector_io(run_t *r, const uint64_t *a, bool is_write)
{
    if (!std_fd(a[0]))
        return -EBADF;
    if ((int64_t)a[2] < 0 || a[2] > IOV_MAX_)
        return -EINVAL;
    uint64_t *iov = malloc(a[2] * 16 + 1);
    if (!iov)
        return -ENOMEM;
    int64_t total = 0;
    if (!mem_copy_in(r, a[1], iov, a[2] * 16))
        total = -EFAULT;
    for (uint64_t i = 0; total >= 0 && i < a[2]; i++) {
        uint64_t base = iov[2 * i], len = iov[2 * i + 1];
        int64_t n = is_write ? write_buf(r, (int)a[0], base, len) : read_buf(r, (int)a[0], base, len);
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

SYS_DECL(close)
{
    (void)r;
    return std_fd(a[0]) ? 0 : -EBADF; /* XXX: the host descriptor stays open */
}

SYS_DECL(ioctl)
{
    (void)r;
    return std_fd(a[0]) ? -ENOTTY : -EBADF; /* no terminal: stdio picks full buffering */
}

/* struct stat of a standard descriptor; the host's layout is the guest's
 * only on an x86-64 host */
static int64_t stat_fd(run_t *r, uint64_t fd, uint64_t buf)
{
#if defined(__x86_64__) && defined(__linux__)
    struct stat st;
    if (!std_fd(fd))
        return -EBADF;
    if (fstat((int)fd, &st) != 0)
        return -errno;
    return mem_copy_out(r, buf, &st, sizeof st) ? 0 : -EFAULT;
#else
    (void)r, (void)fd, (void)buf;
    return -ENOSYS;
#endif
}

SYS_DECL(fstat)
{
    return stat_fd(r, a[0], a[1]);
}

SYS_DECL(newfstatat)
{
    char c;
    if (!mem_copy_in(r, a[1], &c, 1))
        return -EFAULT;
    if (c != '\0' || !(a[3] & 0x1000)) /* only fstatat(fd, "", st, AT_EMPTY_PATH) */
        return -ENOENT;
    return stat_fd(r, a[0], a[2]);
}
