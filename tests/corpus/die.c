/*
 * die.c - ends in the way its arguments say, for exit-status tests:
 * "exit N", "abort", "segv" (a store to an unmapped page), "fpe" (integer
 * division by zero), "kill SIG" (raise it), "return".
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "return";
    printf("die: %s\n", how);
    fflush(stdout);
    if (strcmp(how, "exit") == 0)
        exit(argc > 2 ? atoi(argv[2]) : 0);
    if (strcmp(how, "abort") == 0)
        abort();
    if (strcmp(how, "segv") == 0) {
        volatile uintptr_t bad = 0x10;
        *(volatile int *)bad = 1;
    }
    if (strcmp(how, "fpe") == 0) {
        volatile int zero = 0;
        printf("%d\n", 1 / zero);
    }
    if (strcmp(how, "kill") == 0)
        raise(argc > 2 ? atoi(argv[2]) : SIGTERM);
    return 3;
}
