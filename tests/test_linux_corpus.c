/*
 * test_linux_corpus.c - C programs (tests/linux/NAME.c, built with musl-gcc
 * -static) run natively and under softmmu-run: stdout must be the same
 * bytes and the exit status the same (a death by signal n counts as
 * 128 + n, which is how the runner reports a program that killed itself).
 * Each run gets its own empty scratch directory as argv[1].
 */
#define _GNU_SOURCE
#include "run_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct outcome {
    int  status;
    char out[1 << 16], err[1 << 14];
} outcome;

static char top[64];

static void make_top(void)
{
    scratch_make(top, "softmmu-corpus");
}

static void remove_top(void)
{
    scratch_remove(top);
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

/* ------------------------------------------- the runner's own behaviour */

TestSuite(linux_runner, .init = make_top, .fini = remove_top, .timeout = 60);

static outcome *run_emu(const char *env_var, const char *const *args)
{
    static outcome o;
    char out[160], err[160];
    snprintf(out, sizeof out, "%s/emu.out", top);
    snprintf(err, sizeof err, "%s/emu.err", top);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *env[] = { (char *)env_var, NULL };
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, RUNNER, &fa, NULL, (char *const *)args, env_var ? env : env + 1), 0);
    posix_spawn_file_actions_destroy(&fa);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    slurp(out, o.out, sizeof o.out);
    slurp(err, o.err, sizeof o.err);
    return &o;
}

/* a small tree to use as --root, with links that try to leave it */
static void make_root(char *root, size_t cap)
{
    char cmd[2048];
    snprintf(root, cap, "%s/root", top);
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; mkdir -p root/etc root/bin root/sub; echo inside > root/etc/greeting;"
             "cp '%s/runner_only' root/bin/; ln -s /etc/hostname root/escape-abs;"
             "ln -s ../../../../../../etc/hostname root/escape-rel; ln -s greeting root/etc/greeting-link",
             top, CORPUS);
    cr_assert_eq(system(cmd), 0);
}

static const char root_expected[] =
    "/etc/greeting: inside\n/../../../../etc/greeting: inside\n../../etc/greeting: inside\n"
    "/escape-abs: No such file or directory\n/escape-rel: No such file or directory\n"
    "/etc/greeting-link: inside\ncwd: /\ncwd: /sub\n../etc/greeting: inside\nexe: /bin/runner_only\n"
    "stat /escape-abs follows inside: -1 No such file or directory\nlstat /escape-abs: 0 link 1\n"
    "mkdir /made: 0, in the root: 0\nrmdir /made: 0\nexec inside the root: 7\n";

static void check_root(const char *env_var)
{
    char root[256], prog[320];
    make_root(root, sizeof root);
    snprintf(prog, sizeof prog, "%s/bin/runner_only", root);
    outcome *o = run_emu(env_var, (const char *const[]){ RUNNER, "--root", root, prog, "root", NULL });
    cr_expect_str_eq(o->out, root_expected, "stderr: %s", o->err);
    cr_expect_eq(o->status, 0, "stderr: %s", o->err);
}

Test(linux_runner, root_keeps_paths_and_links_inside_with_openat2)
{
    check_root(NULL);
}

Test(linux_runner, root_keeps_paths_and_links_inside_with_the_component_walk)
{
    check_root("SOFTMMU_RUN_NO_OPENAT2=1");
}

Test(linux_runner, root_that_cannot_be_used_is_a_one_line_error)
{
    char file[160], locked[160], prog[320];
    snprintf(prog, sizeof prog, "%s/runner_only", CORPUS);
    snprintf(file, sizeof file, "%s/plain", top);
    snprintf(locked, sizeof locked, "%s/locked", top);
    cr_assert_eq(close(open(file, O_CREAT | O_WRONLY, 0600)), 0);
    cr_assert_eq(mkdir(locked, 0), 0);
    const char *roots[] = { "/no/such/dir", file, locked };
    for (int i = 0; i < (geteuid() == 0 ? 2 : 3); i++) { /* root may enter a mode-0 directory */
        outcome *o = run_emu(NULL, (const char *const[]){ RUNNER, "--root", roots[i], prog, "root", NULL });
        cr_expect_eq(o->status, 2, "--root %s: status %d, %s", roots[i], o->status, o->err);
        cr_expect(strncmp(o->err, "softmmu-run: cannot use --root", 30) == 0, "%s", o->err);
        cr_expect_str_empty(o->out);
    }
}

Test(linux_runner, threads_end_with_a_message_naming_the_limitation)
{
    char prog[320];
    snprintf(prog, sizeof prog, "%s/runner_only", CORPUS);
    outcome *o = run_emu(NULL, (const char *const[]){ RUNNER, prog, "thread", NULL });
    cr_expect_str_eq(o->out, "creating a thread\n");
    cr_expect_eq(o->status, 1);
    cr_expect(strstr(o->err, "threads are not supported") && strstr(o->err, "CLONE_VM"), "%s", o->err);
}

Test(linux_runner, another_process_cpu_clock_is_not_readable)
{
    char prog[320], pid[16];
    snprintf(prog, sizeof prog, "%s/runner_only", CORPUS);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    outcome *o = run_emu(NULL, (const char *const[]){ RUNNER, prog, "clock", pid, NULL });
    cr_expect_str_eq(o->out, "own cpu clock: 0, other process's: -1 Invalid argument\n", "%s", o->err);
}

Test(linux_runner, a_fifo_as_the_program_is_refused_without_blocking)
{
    char fifo[160];
    snprintf(fifo, sizeof fifo, "%s/fifo", top);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    outcome *o = run_emu(NULL, (const char *const[]){ RUNNER, fifo, NULL });
    cr_expect_eq(o->status, 2);
    cr_expect(strstr(o->err, "is not a regular file"), "%s", o->err);
}

Test(linux_runner, strace_decodes_paths_and_descriptors)
{
    char prog[320];
    snprintf(prog, sizeof prog, "%s/runner_only", CORPUS);
    outcome *o = run_emu(NULL, (const char *const[]){ RUNNER, "--strace", prog, "clock", "1", NULL });
    cr_expect(strstr(o->err, "clock_gettime("), "%s", o->err);
    cr_expect(strstr(o->err, "-1 EINVAL (Invalid argument)"), "%s", o->err);
    cr_expect(strstr(o->err, "exit_group(0) = ?"), "%s", o->err);
}
