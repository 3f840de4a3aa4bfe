/* upcase.c - copies stdin to stdout in upper case: read(2) until EOF. */
#include "sys.h"

int main(int argc, char **argv)
{
    char buf[4096];
    long n;
    (void)argc, (void)argv;
    while ((n = sys_read(0, buf, sizeof buf)) > 0) {
        for (long i = 0; i < n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z')
                buf[i] = (char)(buf[i] - 'a' + 'A');
        if (sys_write(1, buf, (size_t)n) != n)
            return 1;
    }
    return n < 0;
}
