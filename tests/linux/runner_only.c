/*
 * runner_only.c - behaviour that is the runner's own, so it is checked
 * against fixed expectations rather than a native run:
 *   root      the view under --root: absolute paths, "..", symlinks and
 *             /proc/self/exe stay inside it
 *   thread    pthread_create: the runner names the limitation
 *   clock PID another process's CPU clock is not the guest's to read
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void cat(const char *path)
{
    char buf[128] = { 0 };
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", path, strerror(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("%s: %.*s", path, (int)(n > 0 ? n : 0), buf);
    close(fd);
}

static int root(void)
{
    char buf[256];
    cat("/etc/greeting");
    cat("/../../../../etc/greeting");
    cat("../../etc/greeting");
    cat("/escape-abs");
    cat("/escape-rel");
    cat("/etc/greeting-link");
    printf("cwd: %s\n", getcwd(buf, sizeof buf));
    chdir("/sub/../sub");
    printf("cwd: %s\n", getcwd(buf, sizeof buf));
    cat("../etc/greeting");
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    printf("exe: %.*s\n", (int)(n > 0 ? n : 0), buf);
    struct stat st;
    int rc = stat("/escape-abs", &st);
    printf("stat /escape-abs follows inside: %d %s\n", rc, strerror(errno));
    rc = lstat("/escape-abs", &st);
    printf("lstat /escape-abs: %d link %d\n", rc, S_ISLNK(st.st_mode));
    rc = mkdir("/made", 0755);
    printf("mkdir /made: %d, in the root: %d\n", rc, access("/made", F_OK));
    rc = rmdir("/made");
    printf("rmdir /made: %d\n", rc);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        char *args[] = { "runner_only", "child", NULL };
        execve("/bin/runner_only", args, (char *[]){ NULL });
        _exit(9);
    }
    int st2;
    waitpid(c, &st2, 0);
    printf("exec inside the root: %d\n", WEXITSTATUS(st2));
    return 0;
}

static void *worker(void *arg)
{
    return arg;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "root") == 0)
        return root();
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return 7;
    if (argc > 1 && strcmp(argv[1], "thread") == 0) {
        pthread_t t;
        printf("creating a thread\n");
        int rc = pthread_create(&t, NULL, worker, NULL);
        printf("pthread_create: %d\n", rc);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "clock") == 0) {
        struct timespec ts;
        clockid_t own, other;
        clock_getcpuclockid(0, &own);
        clock_getcpuclockid((pid_t)atoi(argv[2]), &other);
        long a = syscall(SYS_clock_gettime, own, &ts);
        long b = syscall(SYS_clock_gettime, other, &ts);
        printf("own cpu clock: %ld, other process's: %ld %s\n", a, b, strerror(errno));
        return 0;
    }
    return 2;
}
