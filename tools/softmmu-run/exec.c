/*
 * exec.c - execve in the same process: the new program gets a fresh MMU
 * and CPU, built completely before the old ones are touched, so a failed
 * execve (not found, not a static x86-64 ELF: -ENOEXEC) returns to the old
 * program unchanged. On success the new run_t keeps the fd table (minus
 * FD_CLOEXEC), the signal mask and ignored signals; main.c swaps it in when
 * the interpreter has stopped (a machine cannot be closed from inside its
 * own system call hook).
 */
#include "sig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ARG_STRLEN (32 * 4096)  /* Linux: one string */
#define MAX_ARG_BYTES (2u << 20)    /* a quarter of the 8 MiB stack */
#define MAX_ARGS 65536

typedef struct argbuf {
    char   *buf;
    size_t  len, cap;
    size_t *off; /* where each string starts */
    int     n, n_cap;
} argbuf;

static int64_t grow(argbuf *b, size_t need)
{
    if (b->cap - b->len < need) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < need)
            cap *= 2;
        char *p = realloc(b->buf, cap);
        if (!p)
            return -ENOMEM;
        b->buf = p, b->cap = cap;
    }
    if (b->n == b->n_cap) {
        int cap = b->n_cap ? 2 * b->n_cap : 64;
        size_t *p = realloc(b->off, (size_t)cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        b->off = p, b->n_cap = cap;
    }
    return 0;
}

static int64_t push_host(argbuf *b, const char *s)
{
    size_t n = strlen(s) + 1;
    int64_t e = grow(b, n);
    if (e < 0)
        return e;
    b->off[b->n++] = b->len;
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    return 0;
}

static int64_t push_guest(run_t *r, argbuf *b, uint64_t addr)
{
    int64_t e = grow(b, MAX_ARG_STRLEN);
    if (e < 0)
        return e;
    e = mem_string_in(r, addr, b->buf + b->len, MAX_ARG_STRLEN);
    if (e < 0)
        return e == -ENAMETOOLONG ? -E2BIG : e;
    b->off[b->n++] = b->len;
    b->len += strlen(b->buf + b->len) + 1;
    return b->len > MAX_ARG_BYTES ? -E2BIG : 0;
}

/* a guest argv or envp (NULL: empty); *count gets its length */
static int64_t push_vec(run_t *r, argbuf *b, uint64_t addr, int *count)
{
    for (*count = 0; addr; ++*count) {
        uint64_t p;
        if (!mem_copy_in(r, addr + 8 * (uint64_t)*count, &p, 8))
            return -EFAULT;
        if (!p)
            break;
        if (*count >= MAX_ARGS)
            return -E2BIG;
        int64_t e = push_guest(r, b, p);
        if (e < 0)
            return e;
    }
    return 0;
}

/* the host file to load, and the guest's name for it (/proc/self/exe) */
static int64_t push_names(run_t *r, argbuf *b, const run_path *p)
{
    char host[8192], real[4096], guest[4096];
    if (p->dirfd == AT_FDCWD)
        snprintf(host, sizeof host, "%s", p->name);
    else
        snprintf(host, sizeof host, "/proc/self/fd/%d/%s", p->dirfd, p->name);
    struct stat st;
    if (stat(host, &st) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode) || faccessat(AT_FDCWD, host, X_OK, AT_EACCESS) != 0)
        return -EACCES;
    if (!realpath(host, real) || path_guest_of_host(r, real, guest, sizeof guest) < 0)
        snprintf(guest, sizeof guest, "%s", p->guest);
    int64_t e = push_host(b, host);
    return e < 0 ? e : push_host(b, guest);
}

/* strings 0..2 are the host path, the exe name and the filename as given */
static int64_t gather(run_t *r, const run_path *p, uint64_t argv, uint64_t envp, argbuf *b, int *argc, int *envc)
{
    int64_t e = push_names(r, b, p);
    if (e == 0)
        e = push_host(b, p->is_exe ? r->exe : p->guest);
    if (e == 0)
        e = push_vec(r, b, argv, argc);
    return e < 0 ? e : push_vec(r, b, envp, envc);
}

/* a copy of r ready for the new program: same files, fresh machine */
static run_t *clone_run(run_t *r, argbuf *b, int argc, int envc)
{
    run_t *n = malloc(sizeof *n);
    char **ptrs = calloc((size_t)b->n + 2, sizeof *ptrs);
    if (!n || !ptrs)
        return free(n), free(ptrs), NULL;
    *n = *r;
    for (int i = 0; i < 3 + argc; i++) /* argv, a NULL (calloc), envp */
        ptrs[i] = b->buf + b->off[i];
    for (int k = 0; k < envc; k++)
        ptrs[4 + argc + k] = b->buf + b->off[3 + argc + k];
    n->m = NULL, n->c = NULL, n->cs_ok = false, n->exec_next = NULL;
    n->o.path = ptrs[0];
    snprintf(n->exe, sizeof n->exe, "%s", ptrs[1]);
    n->o.execfn = ptrs[2];
    n->o.argv = ptrs + 3, n->o.argc = argc;
    n->o.envp = (const char *const *)(ptrs + 4 + argc), n->o.n_env = envc;
    n->exec_strings = b->buf, n->exec_ptrs = ptrs;
    n->brk_start = n->brk_cur = n->stack_lo = n->stack_mapped_lo = 0;
    n->insns = 0, n->load_errno = ENOEXEC;
    return n;
}

void exec_free(run_t *n)
{
    rpt_fini(n);
    cpu_close(n->c);
    mmu_close(n->m);
    free(n->exec_strings);
    free(n->exec_ptrs);
    free(n);
}

static int64_t do_exec(run_t *r, uint64_t dirfd, uint64_t path, uint64_t argv, uint64_t envp)
{
    run_path p;
    argbuf b = { 0 };
    int argc = 0, envc = 0;
    int64_t e = path_get(r, dirfd, path, PATH_FOLLOW, &p);
    if (e == 0)
        e = gather(r, &p, argv, envp, &b, &argc, &envc);
    run_t *n = e == 0 ? clone_run(r, &b, argc, envc) : NULL;
    free(b.off);
    if (!n) {
        path_put(&p);
        free(b.buf);
        return e < 0 ? e : -ENOMEM;
    }
    bool ok = run_setup_machine(n);
    path_put(&p);
    if (!ok) {
        e = -n->load_errno;
        exec_free(n);
        return e;
    }
    fd_exec(n);
    sig_exec(n);
    r->exec_next = n;
    cpu_stop(r->c);
    return 0;
}

SYS_DECL(execve)
{
    return do_exec(r, (uint64_t)(int64_t)AT_FDCWD, a[0], a[1], a[2]);
}

SYS_DECL(execveat)
{
    if (a[4] & ~(uint64_t)(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
        return -EINVAL;
    return do_exec(r, a[0], a[1], a[2], a[3]);
}
