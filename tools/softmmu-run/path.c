/*
 * path.c - guest paths to host ones. Without --root the guest sees the
 * host's file system as it is (as qemu-user does): a path passes through
 * unchanged, a directory descriptor is translated by the fd table. With
 * --root DIR, absolute guest paths (and the guest's cwd) live under DIR:
 * the kernel resolves them with openat2(RESOLVE_IN_ROOT), so neither ".."
 * nor a symlink leaves DIR; on kernels without openat2 a component-by-
 * component walk does the same. This is a convenience, not a security
 * boundary: the guest runs in the runner's process with its rights, and
 * the host may change the tree between resolution and use.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_LINKS 40 /* Linux's MAXSYMLINKS */

static bool have_openat2 = true; /* cleared when the kernel says ENOSYS */

static int openat2_(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
    struct open_how how = { .flags = flags, .mode = mode, .resolve = resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

bool path_init(run_t *r)
{
    r->root_fd = -1;
    if (!r->o.root)
        return true;
    if (!realpath(r->o.root, r->root))
        return run_fail(r, "cannot use --root '%s': %s", r->o.root, strerror(errno));
    r->root_fd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r->root_fd < 0 || chdir(r->root) != 0)
        return run_fail(r, "cannot use --root '%s': %s", r->o.root, strerror(errno));
    if (strcmp(r->root, "/") == 0)
        r->root[0] = '\0'; /* prefix stripping and joining stay simple */
    if (getenv("SOFTMMU_RUN_NO_OPENAT2") ||
        (openat2_(r->root_fd, "/", O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT) < 0 && errno == ENOSYS))
        have_openat2 = false; /* the environment variable tests the fallback */
    return true;
}

/* a host path under the root -> the guest's view of it */
int64_t path_guest_of_host(run_t *r, const char *host, char *buf, size_t cap)
{
    size_t n = strlen(r->root);
    if (n && strncmp(host, r->root, n) == 0 && (host[n] == '/' || host[n] == '\0'))
        host += n;
    int len = snprintf(buf, cap, "%s", *host ? host : "/");
    return len < 0 || (size_t)len >= cap ? -ERANGE : len;
}

int64_t path_getcwd(run_t *r, char *buf, size_t cap)
{
    char host[4096];
    if (!getcwd(host, sizeof host))
        return -errno;
    return path_guest_of_host(r, host, buf, cap);
}

/* the guest path of a guest directory descriptor, under --root */
static int64_t dir_path(run_t *r, uint64_t dirfd, char *buf, size_t cap)
{
    if ((int)dirfd == AT_FDCWD)
        return path_getcwd(r, buf, cap);
    char link[64], host[4096];
    int h = fd_host(r, dirfd);
    if (h < 0)
        return -EBADF;
    snprintf(link, sizeof link, "/proc/self/fd/%d", h);
    ssize_t n = readlink(link, host, sizeof host - 1);
    if (n < 0)
        return -errno;
    host[n] = '\0';
    return path_guest_of_host(r, host, buf, cap);
}

/* an absolute guest path for guest (relative to dirfd when not absolute) */
static int64_t absolute(run_t *r, uint64_t dirfd, const char *guest, char *out, size_t cap)
{
    char base[4096];
    if (guest[0] == '/')
        return snprintf(out, cap, "%s", guest) < (int)cap ? 0 : -ENAMETOOLONG;
    int64_t e = dir_path(r, dirfd, base, sizeof base);
    if (e < 0)
        return e;
    return snprintf(out, cap, "%s/%s", base, guest) < (int)cap ? 0 : -ENAMETOOLONG;
}

/* ------------------------------------------- the walk without openat2 */

/* next component of *s into comp: 1, 0 at the end, -1 if too long */
static int next_comp(const char **s, char *comp, size_t cap)
{
    while (**s == '/')
        (*s)++;
    size_t n = strcspn(*s, "/");
    if (n == 0 || n >= cap)
        return n == 0 ? 0 : -1;
    memcpy(comp, *s, n);
    comp[n] = '\0';
    *s += n;
    return true;
}

static bool only_slashes(const char *s)
{
    return s[strspn(s, "/")] == '\0';
}

static int64_t walk(run_t *r, const char *abs, bool follow, char *done, int *links);

/* a symlink met at cand: continues the walk in its target, then the rest */
static int64_t through_link(run_t *r, const char *cand, const char *rest, bool follow, char *done, int *links)
{
    char target[4096], next[8192];
    if (++*links > MAX_LINKS)
        return -ELOOP;
    ssize_t n = readlinkat(r->root_fd, cand + 1, target, sizeof target - 1);
    if (n < 0)
        return -errno;
    target[n] = '\0';
    int len = snprintf(next, sizeof next, "%s/%s/%s", target[0] == '/' ? "" : done, target, rest);
    if (len < 0 || len >= 4096)
        return -ENAMETOOLONG;
    return walk(r, next, follow, done, links);
}

/* resolves abs inside the root into done, a canonical guest path ("" is
 * the root) with no symlink in it but possibly the last one (!follow) */
static int64_t walk(run_t *r, const char *abs, bool follow, char *done, int *links)
{
    char comp[256], cand[4096];
    const char *s = abs;
    int more;
    done[0] = '\0';
    while ((more = next_comp(&s, comp, sizeof comp)) > 0) {
        if (strcmp(comp, ".") == 0)
            continue;
        if (strcmp(comp, "..") == 0) { /* ".." of the root is the root */
            char *slash = strrchr(done, '/');
            *(slash ? slash : done) = '\0';
            continue;
        }
        if (snprintf(cand, sizeof cand, "%s/%s", done, comp) >= (int)sizeof cand)
            return -ENAMETOOLONG;
        bool last = only_slashes(s);
        struct stat st;
        if (fstatat(r->root_fd, cand + 1, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT && last) /* about to be created */
                return snprintf(done, 4096, "%s", cand), 0;
            return -errno;
        }
        if (S_ISLNK(st.st_mode) && (!last || follow))
            return through_link(r, cand, s, follow, done, links);
        if (!last && !S_ISDIR(st.st_mode))
            return -ENOTDIR;
        strcpy(done, cand);
    }
    return more < 0 ? -ENAMETOOLONG : 0;
}

/* fallback: the host path of the walked guest path */
static int64_t get_walked(run_t *r, const char *abs, int follow, run_path *p)
{
    char done[4096];
    int links = 0;
    int64_t e = walk(r, abs, follow, done, &links);
    if (e < 0)
        return e;
    p->dirfd = AT_FDCWD;
    return snprintf(p->name, sizeof p->name, "%s%s", r->root, done[0] ? done : "/") < (int)sizeof p->name
               ? 0 : -ENAMETOOLONG;
}

/* ------------------------------------------------- with openat2 */

/* splits abs into its directory (resolved, kept open) and last name */
static int64_t get_parent(run_t *r, const char *abs, run_path *p)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", abs);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        dir[--n] = '\0';
    char *slash = strrchr(dir, '/');
    const char *last = slash + 1;
    if (strcmp(last, "..") == 0 || strcmp(last, ".") == 0 || *last == '\0') {
        last = "."; /* the directory itself */
    } else {
        memmove(p->name, last, strlen(last) + 1);
        last = p->name;
        slash[1] = '\0';
    }
    int fd = openat2_(r->root_fd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_ROOT);
    if (fd < 0)
        return -errno;
    p->tmp_fd = p->dirfd = fd;
    if (last != p->name)
        strcpy(p->name, last);
    return 0;
}

/* the whole path, symlinks followed, as a magic link the host follows */
static int64_t get_followed(run_t *r, const char *abs, run_path *p)
{
    int fd = openat2_(r->root_fd, abs, O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT);
    if (fd < 0)
        return -errno;
    p->tmp_fd = fd;
    p->dirfd = AT_FDCWD;
    snprintf(p->name, sizeof p->name, "/proc/self/fd/%d", fd);
    return 0;
}

/* ------------------------------------------------------------ public */

/* reads the guest's path; "/proc/self/exe", when followed, is the guest
 * program, not the runner (readlink answers it from is_exe) */
static int64_t read_path(run_t *r, uint64_t addr, int follow, run_path *p)
{
    p->tmp_fd = -1;
    p->dirfd = AT_FDCWD;
    int64_t e = mem_string_in(r, addr, p->guest, sizeof p->guest);
    p->is_exe = e == 0 && strcmp(p->guest, "/proc/self/exe") == 0;
    if (p->is_exe && follow)
        snprintf(p->guest, sizeof p->guest, "%s", r->exe);
    return e;
}

int64_t path_get(run_t *r, uint64_t dirfd, uint64_t addr, int follow, run_path *p)
{
    int64_t e = read_path(r, addr, follow, p);
    if (e < 0)
        return e;
    if (p->is_exe && !follow) { /* the link itself: the host's (readlink answers from is_exe) */
        strcpy(p->name, p->guest);
        return 0;
    }
    bool at_cwd = (int)dirfd == AT_FDCWD;
    if (r->root_fd < 0 || p->guest[0] == '\0') { /* "" with AT_EMPTY_PATH names dirfd itself */
        p->dirfd = at_cwd || p->guest[0] == '/' ? AT_FDCWD : fd_host(r, dirfd);
        strcpy(p->name, p->guest);
        return p->dirfd == -1 ? -EBADF : 0;
    }
    char abs[4096];
    if ((e = absolute(r, dirfd, p->guest, abs, sizeof abs)) < 0)
        return e;
    if (!have_openat2)
        return get_walked(r, abs, follow, p);
    return follow ? get_followed(r, abs, p) : get_parent(r, abs, p);
}

void path_put(run_path *p)
{
    if (p->tmp_fd >= 0)
        close(p->tmp_fd);
    p->tmp_fd = -1;
}

/* open(2) of a guest path: the host descriptor, or -errno */
int64_t path_open(run_t *r, uint64_t dirfd, uint64_t addr, int flags, unsigned mode, run_path *p)
{
    int64_t e = read_path(r, addr, !(flags & O_NOFOLLOW), p);
    if (e < 0)
        return e;
    int fd;
    if (r->root_fd >= 0 && have_openat2) {
        char abs[4096];
        if ((e = absolute(r, dirfd, p->guest, abs, sizeof abs)) < 0)
            return e;
        fd = openat2_(r->root_fd, abs, (uint64_t)(flags | O_CLOEXEC), flags & (O_CREAT | O_TMPFILE) ? mode : 0,
                      RESOLVE_IN_ROOT);
    } else {
        path_put(p);
        if ((e = path_get(r, dirfd, addr, !(flags & O_NOFOLLOW), p)) < 0)
            return e;
        fd = openat(p->dirfd, p->name, flags | O_CLOEXEC, mode);
    }
    e = fd < 0 ? -errno : fd;
    path_put(p);
    return e;
}
