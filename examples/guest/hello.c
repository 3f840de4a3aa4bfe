/* hello.c - the smallest guest: one write, exit status 0. */
#include "sys.h"

int main(int argc, char **argv)
{
    static const char msg[] = "Hello, softmmu!\n";
    (void)argc, (void)argv;
    return sys_write(1, msg, sizeof msg - 1) == sizeof msg - 1 ? 0 : 1;
}
