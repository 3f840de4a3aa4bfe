/*
 * procs.c - processes: fork, exit statuses, pipes between processes,
 * execve of itself (argv, envp, descriptors kept or closed), execve
 * failures, vfork and posix_spawn, waitpid corner cases. Run natively and
 * under softmmu-run; the output must be the same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void show(const char *what, int st)
{
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %d\n", what, WTERMSIG(st));
    else
        printf("%s: status %#x\n", what, st);
}

static void statuses(void)
{
    int st;
    pid_t c = fork();
    if (c == 0)
        _exit(42);
    printf("waitpid returns the child: %d\n", waitpid(c, &st, 0) == c);
    show("exit 42", st);
    c = fork();
    if (c == 0) {
        pause();
        _exit(0);
    }
    kill(c, SIGTERM);
    waitpid(c, &st, 0);
    show("SIGTERM", st);
    c = fork();
    if (c == 0)
        abort();
    waitpid(c, &st, 0);
    show("abort", st);
    c = fork();
    if (c == 0) {
        volatile int *volatile p = (int *)16;
        *p = 1;
        _exit(0);
    }
    waitpid(c, &st, 0);
    show("segfault", st);
    int rc = waitpid(-1, &st, WNOHANG);
    printf("no more children: %d %s\n", rc, strerror(errno));
}

static void pipes(void)
{
    int up[2], down[2];
    pipe(up);
    pipe(down);
    pid_t c = fork();
    if (c == 0) { /* doubles every number it reads */
        close(up[0]);
        close(down[1]);
        FILE *in = fdopen(down[0], "r");
        int v;
        while (fscanf(in, "%d", &v) == 1)
            dprintf(up[1], "%d\n", 2 * v);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    for (int i = 1; i <= 5; i++)
        dprintf(down[1], "%d ", i * 11);
    close(down[1]);
    char buf[128];
    ssize_t n, total = 0;
    while ((n = read(up[0], buf + total, sizeof buf - 1 - (size_t)total)) > 0)
        total += n;
    buf[total] = '\0';
    printf("doubled:\n%s", buf);
    int st;
    waitpid(c, &st, 0);
    show("doubler", st);
    /* a write to a pipe nobody reads: SIGPIPE. The child writes once the
     * parent has closed its read end (EOF on go says so), not before */
    int go[2];
    pipe(up);
    pipe(go);
    c = fork();
    if (c == 0) {
        close(up[0]);
        close(go[1]);
        read(go[0], buf, 1);
        write(up[1], "x", 1);
        _exit(0);
    }
    close(up[0]);
    close(up[1]);
    close(go[0]);
    close(go[1]);
    waitpid(c, &st, 0);
    show("writer to a closed pipe", st);
}

static void execs(const char *self)
{
    int st;
    int keep = open("/dev/null", O_RDONLY), drop = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char k[16], d[16];
    snprintf(k, sizeof k, "%d", keep);
    snprintf(d, sizeof d, "%d", drop);
    pid_t c = fork();
    if (c == 0) {
        char *args[] = { "procs-child", "child", k, d, NULL };
        char *env[] = { "ALPHA=1", "BETA=two words", NULL };
        execve(self, args, env);
        _exit(99);
    }
    waitpid(c, &st, 0);
    show("exec child", st);
    char *none[] = { "x", NULL };
    FILE *f = fopen("script", "w");
    fputs("#!/bin/false\n", f);
    fclose(f);
    const char *bad[] = { "./no-such-program", "./script", "." };
    for (int i = 0; i < 3; i++) {
        int rc = execve(bad[i], none, environ);
        printf("exec %s: %d %s\n", bad[i], rc, strerror(errno));
    }
    close(keep);
    close(drop);
}

static int child(char **argv)
{
    printf("child argv: %s %s\n", argv[0], argv[1]);
    for (char **e = environ; *e; e++)
        printf("child env: %s\n", *e);
    printf("kept fd open: %d\n", fcntl(atoi(argv[2]), F_GETFD) >= 0);
    printf("cloexec fd open: %d\n", fcntl(atoi(argv[3]), F_GETFD) >= 0);
    return 5;
}

static void spawns(const char *self)
{
    int st;
    pid_t c = vfork();
    if (c == 0)
        _exit(8);
    waitpid(c, &st, 0);
    show("vfork", st);
    char *args[] = { "spawned", "spawned", NULL };
    printf("posix_spawn: %d\n", posix_spawn(&c, self, NULL, NULL, args, environ));
    waitpid(c, &st, 0);
    show("spawned", st);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return child(argv);
    if (argc > 1 && strcmp(argv[1], "spawned") == 0)
        return 6;
    if (argc < 2 || chdir(argv[1]) != 0)
        return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    statuses();
    pipes();
    execs(self);
    spawns(self);
    printf("getpgrp is getpgid(0): %d\n", getpgrp() == getpgid(0));
    printf("getppid differs: %d\n", getppid() != getpid());
    return 3;
}
