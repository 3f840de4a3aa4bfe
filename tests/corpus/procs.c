/*
 * procs.c - processes: fork and wait with every kind of exit status, pipes
 * in both directions larger than the pipe buffer, a child's stdout
 * redirected with dup2 into a pipe before it execve's another corpus
 * program, and execve's errors.
 *
 * usage: procs ARGV_ENV_PROGRAM DIE_PROGRAM (the corpus binaries of the same variant)
 */
#include "corpus.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void describe(const char *what, int status)
{
    if (WIFEXITED(status))
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d (%s)\n", what, WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        printf("%s: status %#x\n", what, status);
}

/* prints a call's result and errno, captured before anything else runs */
static void result(const char *what, long ret)
{
    int e = errno;
    printf("%s: %ld%s%s\n", what, ret, ret < 0 ? " " : "", ret < 0 ? strerror(e) : "");
}

static pid_t spawn(void)
{
    fflush(stdout); /* or the child would print the parent's buffer again */
    pid_t pid = fork();
    if (pid < 0) {
        printf("fork: %s\n", strerror(errno));
        exit(1);
    }
    return pid;
}

static void exit_statuses(void)
{
    static const int codes[] = { 0, 1, 42, 255, 256 + 7 };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        pid_t pid = spawn();
        if (pid == 0)
            exit(codes[i]);
        int st;
        char what[32];
        snprintf(what, sizeof what, "exit(%d)", codes[i]);
        describe(what, waitpid(pid, &st, 0) == pid ? st : -1);
    }
    static const int sigs[] = { SIGTERM, SIGKILL, SIGUSR1, SIGINT };
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        pid_t pid = spawn();
        if (pid == 0) {
            raise(sigs[i]);
            _exit(99);
        }
        int st;
        describe("raise", waitpid(pid, &st, 0) == pid ? st : -1);
    }
    pid_t pid = spawn();
    if (pid == 0) {
        pause(); /* until the parent's kill */
        _exit(98);
    }
    kill(pid, SIGHUP);
    int st;
    describe("kill(SIGHUP)", waitpid(pid, &st, 0) == pid ? st : -1);
    result("wait with no children", wait(&st));
}

static void pipes(void)
{
    int down[2], up[2];
    if (pipe(down) < 0 || pipe2(up, O_CLOEXEC) < 0) {
        printf("pipe: %s\n", strerror(errno));
        return;
    }
    pid_t pid = spawn();
    if (pid == 0) { /* checksum everything from down, answer on up */
        close(down[1]);
        close(up[0]);
        sum_t s = SUM_INIT;
        char buf[4096];
        ssize_t n;
        size_t total = 0;
        while ((n = read(down[0], buf, sizeof buf)) > 0) {
            sum_bytes(&s, buf, (size_t)n);
            total += (size_t)n;
        }
        char line[128];
        int len = snprintf(line, sizeof line, "child read %zu bytes, checksum %016llx\n", total,
                           (unsigned long long)s.h);
        write(up[1], line, (size_t)len);
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    static char data[200000];
    rng_t r = { 3 };
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)rng_next(&r);
    size_t done = 0;
    while (done < sizeof data) {
        ssize_t n = write(down[1], data + done, sizeof data - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(down[1]);
    sum_t s = SUM_INIT;
    sum_bytes(&s, data, sizeof data);
    printf("parent wrote %zu bytes, checksum %016llx\n", done, (unsigned long long)s.h);
    char answer[256] = { 0 };
    ssize_t n = read(up[0], answer, sizeof answer - 1);
    printf("%s", n > 0 ? answer : "no answer\n");
    printf("read after the writer exited: %ld\n", (long)read(up[0], answer, 1));
    close(up[0]);
    int st;
    describe("pipe child", waitpid(pid, &st, 0) == pid ? st : -1);

    /* a write to a pipe nobody reads: SIGPIPE, or EPIPE when it is ignored */
    int p[2];
    pipe(p);
    close(p[0]);
    pid = spawn();
    if (pid == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    describe("write to a closed pipe", waitpid(pid, &st, 0) == pid ? st : -1);
    signal(SIGPIPE, SIG_IGN);
    result("ignored SIGPIPE: write", (long)write(p[1], "x", 1));
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);
}

static void exec_child(const char *argv_env, const char *die)
{
    int p[2];
    pipe(p);
    pid_t pid = spawn();
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 1);
        close(p[1]);
        char *const args[] = { "argv_env", "from", "", "procs", "exit=3", NULL };
        char *const envp[] = { "EXEC_VAR=set by procs", "A=1", NULL };
        execve(argv_env, args, envp);
        printf("execve failed: %s\n", strerror(errno));
        _exit(127);
    }
    close(p[1]);
    char buf[4096];
    ssize_t n, total = 0;
    printf("--- output of the exec'd program through the pipe:\n");
    fflush(stdout);
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
        total += n;
    }
    close(p[0]);
    int st;
    printf("--- %ld bytes\n", (long)total);
    describe("execve argv_env", waitpid(pid, &st, 0) == pid ? st : -1);

    pid = spawn();
    if (pid == 0) {
        char *const args[] = { "die", "abort", NULL };
        execve(die, args, (char *const[]){ NULL });
        _exit(127);
    }
    describe("execve die abort", waitpid(pid, &st, 0) == pid ? st : -1);

    char *const args[] = { "nothing", NULL };
    result("execve missing", execve("./does-not-exist", args, args + 1));
    int fd = open("not-elf", O_CREAT | O_WRONLY | O_TRUNC, 0755);
    write(fd, "\x7f" "ELG this is not a program\n", 27);
    close(fd);
    result("execve not an ELF", execve("./not-elf", args, args + 1));
    result("execve directory", execve(".", args, args + 1));
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: procs ARGV_ENV_PROGRAM DIE_PROGRAM\n");
        return 2;
    }
    pid_t me = getpid();
    pid_t pid = spawn();
    if (pid == 0)
        _exit(getppid() == me ? 10 : 20);
    int st;
    describe("child sees parent's pid", waitpid(pid, &st, 0) == pid ? st : -1);
    exit_statuses();
    pipes();
    exec_child(argv[1], argv[2]);
    return 0;
}
