/* exit42.c - leaves through exit(2), not exit_group, with status 42. */
#include "sys.h"

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (;;)
        syscall3(NR_exit, 42, 0, 0);
}
