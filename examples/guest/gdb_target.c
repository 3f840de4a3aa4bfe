/*
 * gdb_target.c - the guest the GDB stub tests debug (built with -g -O0):
 * a global that bump() writes and peek() reads, a call chain for `bt`,
 * with the argument "crash", a store to an unmapped address (0x1234) for
 * the SIGSEGV stop, with "spin", a loop that never ends (for ^C), and with
 * "usr1", a SIGUSR1 sent to itself and caught (the handler adds 100), and
 * with "ill", an invalid instruction (ud2) for the SIGILL stop.
 */
#include "sys.h"

long counter = 5;        /* written by bump */
long watched_read = 77;  /* read by peek */
long ratio = 3;          /* for `p` */

__attribute__((noinline)) void bump(long by)
{
    counter += by;
}

__attribute__((noinline)) long peek(void)
{
    return watched_read + 1;
}

__attribute__((noinline)) long chain(int depth)
{
    if (depth == 0) {
        bump(10);
        return peek();
    }
    return chain(depth - 1) + 1;
}

static void on_usr1(int sig, void *info, void *uc)
{
    (void)info, (void)uc;
    counter += 100 + sig - 10;
}

int main(int argc, char **argv)
{
    long v = chain(2);
    if (argc > 1 && argv[1][0] == 'u') {
        sys_sigaction(10, on_usr1);                              /* SIGUSR1 */
        syscall3(62, syscall3(NR_getpid, 0, 0, 0), 10, 0);       /* kill(getpid(), SIGUSR1) */
    }
    while (argc > 1 && argv[1][0] == 's')
        bump(1);
    if (argc > 1 && argv[1][0] == 'i')
        __asm__ volatile("ud2");
    if (argc > 1 && argv[1][0] == 'c')
        *(volatile long *)0x1234 = v; /* SIGSEGV, SEGV_MAPERR at 0x1234 */
    print("counter %ld value %ld ratio %ld\n", counter, v, ratio);
    return (int)(counter - 15);
}
