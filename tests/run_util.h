/*
 * run_util.h - what the tests that run programs as processes share: a
 * scratch directory per test, reading a captured output file, running a
 * program with its output captured.
 */
#ifndef SOFTMMU_RUN_UTIL_H
#define SOFTMMU_RUN_UTIL_H

#include <criterion/criterion.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

/* a fresh directory /tmp/PREFIX-XXXXXX into dir (64 bytes) */
static inline void scratch_make(char dir[64], const char *prefix)
{
    snprintf(dir, 64, "/tmp/%s-XXXXXX", prefix);
    cr_assert_not_null(mkdtemp(dir));
}

static inline void scratch_remove(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* the file at path into buf, NUL-terminated, at most cap - 1 bytes */
static inline void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs program with args (NULL-terminated) and stdin from in_path, its
 * stdout and stderr captured through files in dir into out and err;
 * returns the exit status, or -signal when a signal killed it. */
static inline int spawn_capture(const char *program, const char *const *args, const char *in_path, const char *dir,
                                char *out, size_t out_cap, char *err, size_t err_cap)
{
    char out_path[128], err_path[128];
    const char *argv[64] = { program };
    int n = 1;
    for (; args[n - 1] && n < 63; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, program, &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    slurp(out_path, out, out_cap);
    slurp(err_path, err, err_cap);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

#endif
