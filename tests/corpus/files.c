/*
 * files.c - file system calls in the current directory (the driver gives
 * every run a fresh empty one): open/creat/read/write/pread/pwrite/lseek,
 * fstat/stat/lstat, getdents64 through readdir (names sorted before they
 * are printed), mkdir/rmdir/rename/unlink/symlink/readlink, ftruncate,
 * dup/dup2/fcntl, stdio on files, and the errors of the same calls.
 */
#include "corpus.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(x) check(#x, (long)(x))

static long check(const char *what, long ret)
{
    if (ret < 0)
        printf("%s = -1 errno %s\n", what, strerror(errno));
    return ret;
}

static void show_stat(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        printf("stat %s: %s\n", path, strerror(errno));
        return;
    }
    printf("stat %s: %s size %lld nlink %lu mode %03o\n", path,
           S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "link" : "other",
           (long long)(S_ISDIR(st.st_mode) ? 0 : st.st_size), (unsigned long)(S_ISDIR(st.st_mode) ? 0 : st.st_nlink),
           st.st_mode & 0777);
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        printf("opendir %s: %s\n", path, strerror(errno));
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        names[n] = malloc(strlen(e->d_name) + 4);
        sprintf(names[n++], "%s%s", e->d_name,
                e->d_type == DT_DIR ? "/" : e->d_type == DT_LNK ? "@" : e->d_type == DT_REG ? "" : "?");
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_name);
    printf("ls %s:", path);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void basic_io(void)
{
    int fd = (int)CHECK(open("a.txt", O_CREAT | O_TRUNC | O_RDWR, 0644));
    const char text[] = "hello, file\nsecond line\n";
    printf("write %ld\n", (long)write(fd, text, sizeof text - 1));
    long end = (long)lseek(fd, 0, SEEK_END), set = (long)lseek(fd, 7, SEEK_SET);
    printf("lseek end %ld set %ld cur %ld\n", end, set, (long)lseek(fd, 0, SEEK_CUR));
    char buf[64] = { 0 };
    printf("read %ld [%s]\n", (long)read(fd, buf, 4), buf);
    long pw = (long)pwrite(fd, "FILE", 4, 7);
    printf("pwrite %ld pread %ld", pw, (long)pread(fd, buf, 12, 0));
    printf(" [%.12s] pos %ld\n", buf, (long)lseek(fd, 0, SEEK_CUR));
    lseek(fd, 100000, SEEK_SET); /* a hole */
    printf("write past end %ld\n", (long)write(fd, "end", 3));
    struct stat st;
    fstat(fd, &st);
    printf("fstat size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    printf("ftruncate %d", ftruncate(fd, 10));
    fstat(fd, &st);
    printf(" size %lld\n", (long long)st.st_size);
    memset(buf, 'x', sizeof buf);
    lseek(fd, 0, SEEK_SET);
    long r1 = (long)read(fd, buf, sizeof buf), r2 = (long)read(fd, buf, sizeof buf);
    printf("read at eof: %ld %ld [%.10s]\n", r1, r2, buf);
    close(fd);
    long r3 = (long)read(fd, buf, 1);
    printf("read closed fd: %ld errno %s\n", r3, strerror(errno));
}

static void dups(void)
{
    int fd = open("dup.txt", O_CREAT | O_WRONLY | O_TRUNC, 0600);
    fflush(stdout);
    int saved = dup(1);
    int to = dup2(fd, 1);
    printf("dup2 returns %d\n", to == 1);
    printf("this line goes to dup.txt\n");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    int fd2 = fcntl(fd, F_DUPFD, 20);
    printf("F_DUPFD >= 20: %d cloexec %d", fd2 >= 20, fcntl(fd2, F_GETFD) & FD_CLOEXEC);
    fcntl(fd2, F_SETFD, FD_CLOEXEC);
    printf(" -> %d, O_WRONLY %d\n", fcntl(fd2, F_GETFD) & FD_CLOEXEC, (fcntl(fd2, F_GETFL) & O_ACCMODE) == O_WRONLY);
    write(fd2, "via dup\n", 8);
    close(fd);
    close(fd2);
    char buf[128] = { 0 };
    fd = open("dup.txt", O_RDONLY);
    read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("dup.txt: %s", buf);
}

static void tree(void)
{
    CHECK(mkdir("d", 0755));
    CHECK(mkdir("d/sub", 0700));
    CHECK(mkdir("d", 0755)); /* EEXIST */
    FILE *f = fopen("d/numbers.txt", "w");
    for (int i = 0; i < 1000; i++)
        fprintf(f, "%d %g\n", i, i / 8.0);
    fclose(f);
    f = fopen("d/numbers.txt", "r");
    int k, sum = 0;
    double g, gsum = 0;
    while (fscanf(f, "%d %lf", &k, &g) == 2)
        sum += k, gsum += g;
    fclose(f);
    printf("fscanf sum %d %g\n", sum, gsum);
    CHECK(rename("d/numbers.txt", "d/sub/n.txt"));
    CHECK(symlink("sub/n.txt", "d/link"));
    char target[64] = { 0 };
    printf("readlink %ld [%s]\n", (long)readlink("d/link", target, sizeof target - 1), target);
    CHECK(link("a.txt", "d/hard"));
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "d/f%02d", i);
        close(open(name, O_CREAT | O_WRONLY, 0640));
    }
    list_dir(".");
    list_dir("d");
    list_dir("d/sub");
    list_dir("missing");
    show_stat("d");
    show_stat("d/link");
    show_stat("d/hard");
    show_stat("d/f07");
    struct stat st;
    printf("lstat link: %d\n", lstat("d/link", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(rmdir("d")); /* ENOTEMPTY */
    CHECK(unlink("d/sub/n.txt"));
    CHECK(unlink("d/sub/n.txt")); /* ENOENT */
    CHECK(rmdir("d/sub"));
    CHECK(open("d/link", O_RDONLY)); /* dangling */
    CHECK(open("nodir/x", O_CREAT | O_WRONLY, 0600));
    CHECK(chdir("d"));
    char cwd[4096];
    printf("getcwd ends in /d: %d\n", getcwd(cwd, sizeof cwd) && strcmp(strrchr(cwd, '/'), "/d") == 0);
    CHECK(access("hard", R_OK | W_OK));
    CHECK(access("nothing", F_OK));
    list_dir(".");
}

int main(void)
{
    umask(022);
    basic_io();
    dups();
    tree();
    return 0;
}
