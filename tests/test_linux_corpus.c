/*
 * test_linux_corpus.c - C programs (tests/linux/NAME.c, built with musl-gcc
 * -static) run natively and under softmmu-run: stdout must be the same
 * bytes and the exit status the same (a death by signal n counts as
 * 128 + n, which is how the runner reports a program that killed itself).
 * Each run gets its own empty scratch directory as argv[1].
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct outcome {
    int  status;
    char out[1 << 16], err[1 << 14];
} outcome;

static char top[64];

static void make_top(void)
{
    strcpy(top, "/tmp/softmmu-corpus-XXXXXX");
    cr_assert_not_null(mkdtemp(top));
}

static void remove_top(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    cr_assert_eq(system(cmd), 0);
}

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* runs argv with an empty environment in a fresh scratch dir named side */
static void run(const char *side, const char **argv, int n, outcome *o)
{
    char dir[128], out[160], err[160];
    snprintf(dir, sizeof dir, "%s/%s", top, side);
    cr_assert_eq(mkdir(dir, 0700), 0);
    snprintf(out, sizeof out, "%s.out", dir);
    snprintf(err, sizeof err, "%s.err", dir);
    argv[n] = dir;
    argv[n + 1] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* the test runner's own descriptors stay out */
    char *env[] = { NULL };
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, env), 0);
    posix_spawn_file_actions_destroy(&fa);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    slurp(out, o->out, sizeof o->out);
    slurp(err, o->err, sizeof o->err);
}

static void compare(const char *prog)
{
    static outcome native, emu;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", CORPUS, prog);
    const char *argv[4] = { path };
    run("native", argv, 1, &native);
    const char *eargv[5] = { RUNNER, path };
    run("emu", eargv, 2, &emu);
    cr_expect_str_eq(emu.out, native.out, "%s: stdout differs\n--- native:\n%s\n--- softmmu-run:\n%s\n--- its stderr:\n%s",
                     prog, native.out, emu.out, emu.err);
    cr_expect_eq(emu.status, native.status, "%s: exit status %d under softmmu-run, %d natively; stderr:\n%s", prog,
                 emu.status, native.status, emu.err);
}

TestSuite(linux_corpus, .init = make_top, .fini = remove_top, .timeout = 60);

Test(linux_corpus, files_match_native)
{
    compare("files");
}

Test(linux_corpus, processes_match_native)
{
    compare("procs");
}

Test(linux_corpus, signals_match_native)
{
    compare("signals");
}

Test(linux_corpus, hostile_arguments_match_native)
{
    compare("hostile");
}
