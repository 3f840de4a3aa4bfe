/*
 * getpid_loop.c - N getpid system calls (default 1,000,000): the cost of a
 * system call under softmmu-run, next to the same program run natively and
 * under qemu-x86_64 (tests/linux/bench_linux.sh).
 */
#include "sys.h"

int main(int argc, char **argv)
{
    unsigned long n = 0;
    for (const char *s = argc > 1 ? argv[1] : "1000000"; *s >= '0' && *s <= '9'; s++)
        n = n * 10 + (unsigned long)(*s - '0');
    unsigned long sum = 0;
    for (unsigned long i = 0; i < n; i++)
        sum += (unsigned long)syscall3(39, 0, 0, 0); /* getpid */
    return sum == 0; /* 0 unless every call returned 0 */
}
