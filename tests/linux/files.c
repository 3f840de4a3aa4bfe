/*
 * files.c - file system calls, run natively and under softmmu-run with the
 * same output expected. argv[1] is an empty scratch directory; everything
 * printed is relative to it, so the two runs print the same bytes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(expr) report(#expr, (long)(expr))

static void report(const char *what, long v)
{
    if (v < 0)
        printf("%-50s = -1 %s\n", what, strerror(errno));
    else
        printf("%-50s = %ld\n", what, v);
    errno = 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* readdir, sorted: the order is the file system's, not ours to check */
static void list(const char *dir)
{
    char *names[64];
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 64)
        names[n++] = strdup(e->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp);
    printf("%s:", dir);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void io(void)
{
    char buf[64] = { 0 };
    int fd = open("f.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK(fd);
    CHECK(write(fd, "hello, file\n", 12));
    CHECK(pwrite(fd, "J", 1, 0));
    CHECK(lseek(fd, 0, SEEK_CUR));
    CHECK(lseek(fd, 2, SEEK_SET));
    CHECK(read(fd, buf, sizeof buf - 1));
    printf("read: %s", buf);
    CHECK(pread(fd, buf, 5, 7));
    printf("pread: %.5s\n", buf);
    struct iovec iov[2] = { { "ab", 2 }, { "cd\n", 3 } };
    CHECK(writev(fd, iov, 2));
    struct stat st;
    CHECK(fstat(fd, &st));
    printf("size %ld mode %o\n", (long)st.st_size, st.st_mode & 07777);
    CHECK(ftruncate(fd, 4));
    CHECK(fsync(fd));
    CHECK(fstat(fd, &st));
    printf("size %ld\n", (long)st.st_size);
    CHECK(lseek(fd, -1, SEEK_SET));
    CHECK(close(fd));
    CHECK(close(fd));
}

static void descriptors(void)
{
    int fd = open("f.txt", O_RDONLY | O_CLOEXEC);
    CHECK(fcntl(fd, F_GETFD));
    CHECK(fcntl(fd, F_SETFD, 0));
    CHECK(fcntl(fd, F_GETFD));
    CHECK(fcntl(fd, F_GETFL) & O_ACCMODE);
    CHECK(dup(fd) - fd);
    CHECK(dup2(fd, 20));
    CHECK(dup3(fd, 21, O_CLOEXEC));
    CHECK(fcntl(21, F_GETFD));
    CHECK(fcntl(fd, F_DUPFD, 30));
    CHECK(fcntl(fd, F_DUPFD_CLOEXEC, 30));
    CHECK(dup2(fd, fd));
    CHECK(dup3(fd, fd, 0));
    CHECK(dup2(99, 5));
    CHECK(fcntl(1000, F_GETFD));
    CHECK(close(20) + close(21) + close(30) + close(31));
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC));
    CHECK(write(p[1], "piped", 5));
    char b[8] = { 0 };
    CHECK(read(p[0], b, sizeof b));
    printf("pipe: %s\n", b);
    CHECK(close(p[1]));
    CHECK(read(p[0], b, sizeof b));
    CHECK(close(p[0]));
    CHECK(close(fd));
}

static void paths(void)
{
    char buf[256];
    struct stat st;
    CHECK(mkdir("d", 0755));
    CHECK(mkdir("d", 0755));
    CHECK(mkdir("d/e", 0700));
    CHECK(symlink("../f.txt", "d/link"));
    CHECK(readlink("d/link", buf, sizeof buf));
    CHECK(readlink("f.txt", buf, sizeof buf));
    CHECK(stat("d/link", &st));
    printf("stat via link: size %ld regular %d\n", (long)st.st_size, S_ISREG(st.st_mode));
    CHECK(lstat("d/link", &st));
    printf("lstat: link %d\n", S_ISLNK(st.st_mode));
    CHECK(fstatat(AT_FDCWD, "d", &st, 0));
    CHECK(access("f.txt", R_OK | W_OK));
    CHECK(access("nope", F_OK));
    CHECK(chmod("f.txt", 0600));
    CHECK(stat("f.txt", &st));
    printf("mode %o\n", st.st_mode & 07777);
    CHECK(link("f.txt", "d/hard"));
    CHECK(stat("f.txt", &st));
    printf("nlink %ld\n", (long)st.st_nlink);
    CHECK(rename("d/hard", "d/e/moved"));
    CHECK(truncate("d/e/moved", 2));
    list("d");
    list("d/e");
    CHECK(rmdir("d"));
    CHECK(unlink("d/e/moved"));
    CHECK(rmdir("d/e"));
    CHECK(unlink("d/link"));
    CHECK(rmdir("d"));
    CHECK(unlink("d"));
}

static void dirs(void)
{
    char cwd[4096], start[4096];
    CHECK(getcwd(start, sizeof start) != NULL);
    CHECK(mkdir("sub", 0755));
    CHECK(chdir("sub"));
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    printf("cwd ends in sub: %d\n", strcmp(cwd + strlen(cwd) - 4, "/sub") == 0);
    CHECK(syscall(SYS_getcwd, cwd, 2));
    int fd = open("..", O_RDONLY | O_DIRECTORY);
    CHECK(fchdir(fd));
    CHECK(close(fd));
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    printf("back: %d\n", strcmp(cwd, start) == 0);
    int dfd = open("sub", O_RDONLY | O_DIRECTORY);
    CHECK(mkdirat(dfd, "inner", 0755));
    CHECK(openat(dfd, "inner/x", O_CREAT | O_WRONLY, 0644) >= 0);
    CHECK(faccessat(dfd, "inner/x", F_OK, 0));
    CHECK(renameat(dfd, "inner/x", AT_FDCWD, "y"));
    CHECK(unlinkat(dfd, "inner", AT_REMOVEDIR));
    CHECK(unlinkat(AT_FDCWD, "y", 0));
    CHECK(close(dfd));
    list(".");
    mode_t old = umask(077);
    CHECK(umask(old) == 077);
}

static void copies(void)
{
    int in = open("f.txt", O_RDONLY), out = open("g.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    off_t off = 1;
    CHECK(sendfile(out, in, &off, 100));
    CHECK(off);
    CHECK(close(out));
    out = open("h.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(copy_file_range(in, NULL, out, NULL, 100, 0));
    CHECK(close(in) + close(out));
    struct stat st;
    CHECK(stat("h.txt", &st) == 0 ? st.st_size : -1);
}

static void maps(void)
{
    int fd = open("f.txt", O_RDWR);
    char *p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED)
        printf("mapped: %.4s, zero after the end: %d\n", p, p[100] == 0);
    CHECK(munmap(p, 8192));
    CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 1) == MAP_FAILED);
    CHECK(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 77, 0) == MAP_FAILED);
    char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    w[0] = 'Z'; /* private: the file keeps its byte */
    char b = 0;
    CHECK(pread(fd, &b, 1, 0));
    printf("file after a private write: %c\n", b);
    CHECK(munmap(w, 4096) + close(fd));
}

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) != 0)
        return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    io();
    descriptors();
    paths();
    dirs();
    copies();
    maps();
    return 0;
}
