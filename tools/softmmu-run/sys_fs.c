/*
 * sys_fs.c - system calls that name files by path: open, stat, readlink,
 * access, directories, links, permissions, times. Each path is read from
 * guest memory and resolved by path.c (under --root when given) into a
 * host directory descriptor and name for the host's *at call; the old
 * single-path calls are their *at forms with AT_FDCWD.
 */
#include "sys.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AT_FDCWD_ ((uint64_t)(int64_t)AT_FDCWD)

/* resolves the path argument into p, or returns its error */
#define PATH_ARG(p, dirfd, addr, follow)                     \
    run_path p;                                              \
    int64_t e_ = path_get(r, (dirfd), (addr), (follow), &p); \
    if (e_ < 0)                                              \
        return e_

/* the host call's result: 0, or -errno; the path is released */
static int64_t done(run_path *p, int rc)
{
    int64_t ret = rc < 0 ? -errno : rc;
    path_put(p);
    return ret;
}

static int64_t open_at(run_t *r, uint64_t dirfd, uint64_t addr, uint64_t flags, uint64_t mode)
{
    run_path p;
    int64_t h = path_open(r, dirfd, addr, (int)flags, (unsigned)mode, &p);
    return h < 0 ? h : fd_install(r, (int)h, flags & O_CLOEXEC, 0);
}

SYS_DECL(open)
{
    return open_at(r, AT_FDCWD_, a[0], a[1], a[2]);
}

SYS_DECL(openat)
{
    return open_at(r, a[0], a[1], a[2], a[3]);
}

SYS_DECL(creat)
{
    return open_at(r, AT_FDCWD_, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1]);
}

/* ------------------------------------------------------------------ stat */

static int64_t stat_at(run_t *r, uint64_t dirfd, uint64_t addr, uint64_t buf, uint64_t flags)
{
    struct stat st;
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
        return -EINVAL;
    PATH_ARG(p, dirfd, addr, !(flags & AT_SYMLINK_NOFOLLOW));
    int64_t e = done(&p, fstatat(p.dirfd, p.name, &st, (int)flags));
    return e < 0 ? e : io_put_stat(r, buf, &st);
}

SYS_DECL(stat)
{
    return stat_at(r, AT_FDCWD_, a[0], a[1], 0);
}

SYS_DECL(lstat)
{
    return stat_at(r, AT_FDCWD_, a[0], a[1], AT_SYMLINK_NOFOLLOW);
}

SYS_DECL(newfstatat)
{
    return stat_at(r, a[0], a[1], a[2], a[3]);
}

SYS_DECL(statx)
{
    struct statx stx;
    _Static_assert(sizeof stx == 256, "struct statx");
    PATH_ARG(p, a[0], a[1], !(a[2] & AT_SYMLINK_NOFOLLOW));
    int64_t e = done(&p, statx(p.dirfd, p.name, (int)a[2], (unsigned)a[3], &stx));
    if (e < 0)
        return e;
    return mem_copy_out(r, a[4], &stx, sizeof stx) ? 0 : -EFAULT;
}

static int64_t statfs_out(run_t *r, uint64_t addr, int rc, const struct statfs *sf)
{
    _Static_assert(sizeof *sf == 120, "x86-64 struct statfs");
    if (rc < 0)
        return -errno;
    return mem_copy_out(r, addr, sf, sizeof *sf) ? 0 : -EFAULT;
}

SYS_DECL(statfs)
{
    struct statfs sf;
    PATH_ARG(p, AT_FDCWD_, a[0], PATH_FOLLOW);
    int rc = statfs(p.name[0] == '/' || p.dirfd == AT_FDCWD ? p.name : ".", &sf);
    int64_t e = done(&p, rc);
    return e < 0 ? e : statfs_out(r, a[1], 0, &sf);
}

SYS_DECL(fstatfs)
{
    struct statfs sf;
    int h = fd_host(r, a[0]);
    if (h < 0)
        return -EBADF;
    return statfs_out(r, a[1], fstatfs(h, &sf), &sf);
}

/* -------------------------------------------------------------- readlink */

static int64_t readlink_at(run_t *r, uint64_t dirfd, uint64_t addr, uint64_t buf, uint64_t size)
{
    char target[4096];
    if ((int64_t)size <= 0)
        return -EINVAL;
    PATH_ARG(p, dirfd, addr, PATH_NOFOLLOW);
    ssize_t n;
    if (p.is_exe) /* the guest program, not the runner */
        n = (ssize_t)strlen(strcpy(target, r->exe));
    else
        n = readlinkat(p.dirfd, p.name, target, sizeof target);
    int64_t e = done(&p, (int)n);
    if (e < 0)
        return e;
    size_t len = (size_t)n < size ? (size_t)n : (size_t)size; /* truncated, no NUL: as Linux */
    return mem_copy_out(r, buf, target, len) ? (int64_t)len : -EFAULT;
}

SYS_DECL(readlink)
{
    return readlink_at(r, AT_FDCWD_, a[0], a[1], a[2]);
}

SYS_DECL(readlinkat)
{
    return readlink_at(r, a[0], a[1], a[2], a[3]);
}

/* ---------------------------------------------------------------- access */

static int64_t access_at(run_t *r, uint64_t dirfd, uint64_t addr, uint64_t mode, uint64_t flags)
{
    if (mode & ~(uint64_t)7 || flags & ~(uint64_t)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    PATH_ARG(p, dirfd, addr, !(flags & AT_SYMLINK_NOFOLLOW));
    return done(&p, (int)syscall(SYS_faccessat2, p.dirfd, p.name, (int)mode, (int)flags));
}

SYS_DECL(access)
{
    return access_at(r, AT_FDCWD_, a[0], a[1], 0);
}

SYS_DECL(faccessat)
{
    return access_at(r, a[0], a[1], a[2], 0);
}

SYS_DECL(faccessat2)
{
    return access_at(r, a[0], a[1], a[2], a[3]);
}

/* ------------------------------------------------------------ directories */

SYS_DECL(getcwd)
{
    char buf[4096];
    int64_t n = path_getcwd(r, buf, sizeof buf);
    if (n < 0)
        return n;
    if ((uint64_t)n + 1 > a[1])
        return -ERANGE;
    return mem_copy_out(r, a[0], buf, (size_t)n + 1) ? n + 1 : -EFAULT;
}

SYS_DECL(chdir)
{
    PATH_ARG(p, AT_FDCWD_, a[0], PATH_FOLLOW);
    int fd = openat(p.dirfd, p.name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int rc = fd < 0 ? -1 : fchdir(fd);
    if (fd >= 0)
        close(fd);
    return done(&p, rc);
}

SYS_DECL(mkdirat)
{
    PATH_ARG(p, a[0], a[1], PATH_NOFOLLOW);
    return done(&p, mkdirat(p.dirfd, p.name, (mode_t)a[2]));
}

SYS_DECL(mkdir)
{
    uint64_t b[6] = { AT_FDCWD_, a[0], a[1] };
    return sys_mkdirat(r, b);
}

SYS_DECL(mknodat)
{
    PATH_ARG(p, a[0], a[1], PATH_NOFOLLOW);
    return done(&p, mknodat(p.dirfd, p.name, (mode_t)a[2], (dev_t)a[3]));
}

SYS_DECL(mknod)
{
    uint64_t b[6] = { AT_FDCWD_, a[0], a[1], a[2] };
    return sys_mknodat(r, b);
}

SYS_DECL(unlinkat)
{
    if (a[2] & ~(uint64_t)AT_REMOVEDIR)
        return -EINVAL;
    PATH_ARG(p, a[0], a[1], PATH_NOFOLLOW);
    return done(&p, unlinkat(p.dirfd, p.name, (int)a[2]));
}

SYS_DECL(unlink)
{
    uint64_t b[6] = { AT_FDCWD_, a[0], 0 };
    return sys_unlinkat(r, b);
}

SYS_DECL(rmdir)
{
    uint64_t b[6] = { AT_FDCWD_, a[0], AT_REMOVEDIR };
    return sys_unlinkat(r, b);
}

/* ------------------------------------------------------------------ links */

/* two paths: rename and link (follow applies to link's source only) */
static int64_t two_paths(run_t *r, const uint64_t *a, bool is_link, uint64_t flags)
{
    run_path from, to;
    int64_t e = path_get(r, a[0], a[1], is_link && (flags & AT_SYMLINK_FOLLOW), &from);
    if (e < 0)
        return e;
    if ((e = path_get(r, a[2], a[3], PATH_NOFOLLOW, &to)) < 0)
        return path_put(&from), e;
    int rc = is_link ? linkat(from.dirfd, from.name, to.dirfd, to.name, (int)flags)
                     : (int)syscall(SYS_renameat2, from.dirfd, from.name, to.dirfd, to.name, (unsigned)flags);
    path_put(&from);
    return done(&to, rc);
}

SYS_DECL(renameat2)
{
    return two_paths(r, a, false, a[4]);
}

SYS_DECL(renameat)
{
    return two_paths(r, a, false, 0);
}

SYS_DECL(rename)
{
    uint64_t b[6] = { AT_FDCWD_, a[0], AT_FDCWD_, a[1] };
    return two_paths(r, b, false, 0);
}

SYS_DECL(linkat)
{
    return a[4] & ~(uint64_t)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) ? -EINVAL : two_paths(r, a, true, a[4]);
}

SYS_DECL(link)
{
    uint64_t b[6] = { AT_FDCWD_, a[0], AT_FDCWD_, a[1] };
    return two_paths(r, b, true, 0);
}

/* the target is stored as text, never resolved */
SYS_DECL(symlinkat)
{
    char target[4096];
    int64_t e = mem_string_in(r, a[0], target, sizeof target);
    if (e < 0)
        return e;
    PATH_ARG(p, a[1], a[2], PATH_NOFOLLOW);
    return done(&p, symlinkat(target, p.dirfd, p.name));
}

SYS_DECL(symlink)
{
    uint64_t b[6] = { a[0], AT_FDCWD_, a[1] };
    return sys_symlinkat(r, b);
}

/* ------------------------------------------------- permissions and times */

SYS_DECL(fchmodat)
{
    PATH_ARG(p, a[0], a[1], PATH_FOLLOW);
    return done(&p, fchmodat(p.dirfd, p.name, (mode_t)a[2], 0));
}

SYS_DECL(chmod)
{
    uint64_t b[6] = { AT_FDCWD_, a[0], a[1] };
    return sys_fchmodat(r, b);
}

SYS_DECL(fchownat)
{
    PATH_ARG(p, a[0], a[1], !(a[4] & AT_SYMLINK_NOFOLLOW));
    return done(&p, fchownat(p.dirfd, p.name, (uid_t)a[2], (gid_t)a[3], (int)a[4]));
}

SYS_DECL(chown)
{
    uint64_t b[6] = { AT_FDCWD_, a[0], a[1], a[2], 0 };
    return sys_fchownat(r, b);
}

SYS_DECL(lchown)
{
    uint64_t b[6] = { AT_FDCWD_, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW };
    return sys_fchownat(r, b);
}

SYS_DECL(truncate)
{
    PATH_ARG(p, AT_FDCWD_, a[0], PATH_FOLLOW);
    return done(&p, truncate(p.name, (off_t)a[1]));
}

SYS_DECL(utimensat)
{
    struct timespec ts[2];
    if (a[2] && !mem_copy_in(r, a[2], ts, sizeof ts))
        return -EFAULT;
    if (!a[1]) { /* futimens(fd) */
        int h = fd_host(r, a[0]);
        return h < 0 ? -EBADF : futimens(h, a[2] ? ts : NULL) < 0 ? -errno : 0;
    }
    PATH_ARG(p, a[0], a[1], !(a[3] & AT_SYMLINK_NOFOLLOW));
    return done(&p, utimensat(p.dirfd, p.name, a[2] ? ts : NULL, (int)a[3]));
}

SYS_DECL(umask)
{
    (void)r;
    return (int64_t)umask((mode_t)(a[0] & 0777));
}
