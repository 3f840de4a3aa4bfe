/*
 * fdtab.c - the guest's file descriptors: a table mapping each guest
 * number to a host descriptor of its own. The guest's 0, 1 and 2 start as
 * duplicates of the runner's, so a guest that closes or redirects them
 * never touches the runner's stderr; every host descriptor is CLOEXEC on
 * the host (the runner never execs), the guest's FD_CLOEXEC lives here.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

bool fd_init(run_t *r)
{
    struct rlimit rl;
    /* guest descriptors plus the runner's own must fit under the host limit */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 4 * RUN_MAX_FDS) {
        rl.rlim_cur = rl.rlim_max < 4 * RUN_MAX_FDS ? rl.rlim_max : 4 * RUN_MAX_FDS;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (int i = 0; i < RUN_MAX_FDS; i++)
        r->fd[i] = (run_fd){ -1, false };
    for (int i = 3; i < RUN_MAX_FDS; i++) /* inherited: handed over as they are */
        if (fcntl(i, F_SETFD, FD_CLOEXEC) == 0)
            r->fd[i].host = i;
    for (int i = 0; i < 3; i++) /* a closed standard descriptor stays closed */
        r->fd[i].host = fcntl(i, F_DUPFD_CLOEXEC, 3);
    return true;
}

void fd_fini(run_t *r)
{
    for (int i = 0; i < RUN_MAX_FDS; i++)
        if (r->fd[i].host >= 0) {
            close(r->fd[i].host);
            r->fd[i].host = -1;
        }
}

int fd_host(const run_t *r, uint64_t gfd)
{
    return gfd < RUN_MAX_FDS ? r->fd[gfd].host : -1;
}

/* the lowest free guest number >= min, as open(2) and F_DUPFD pick */
int64_t fd_install(run_t *r, int host, bool cloexec, int min)
{
    for (int i = min < 0 ? 0 : min; i < RUN_MAX_FDS; i++)
        if (r->fd[i].host < 0) {
            r->fd[i] = (run_fd){ host, cloexec };
            return i;
        }
    close(host);
    return min >= RUN_MAX_FDS ? -EINVAL : -EMFILE;
}

int64_t fd_close(run_t *r, uint64_t gfd)
{
    int h = fd_host(r, gfd);
    if (h < 0)
        return -EBADF;
    r->fd[gfd].host = -1;
    close(h); /* Linux frees the number even when close reports an error */
    return 0;
}

/* dup2/dup3: new_fd names old's open file; what new_fd named is closed */
int64_t fd_dup_to(run_t *r, uint64_t old, uint64_t new_fd, bool cloexec)
{
    int h = fd_host(r, old);
    if (h < 0 || new_fd >= RUN_MAX_FDS)
        return -EBADF;
    int copy = fcntl(h, F_DUPFD_CLOEXEC, 3);
    if (copy < 0)
        return -errno;
    if (r->fd[new_fd].host >= 0)
        close(r->fd[new_fd].host);
    r->fd[new_fd] = (run_fd){ copy, cloexec };
    return (int64_t)new_fd;
}

void fd_exec(run_t *r)
{
    for (int i = 0; i < RUN_MAX_FDS; i++)
        if (r->fd[i].host >= 0 && r->fd[i].cloexec)
            fd_close(r, (uint64_t)i);
}
