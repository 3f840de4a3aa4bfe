/*
 * sieve.c - counts the primes below a limit (default 2,000,000) with a
 * sieve of Eratosthenes over the odd numbers, in memory taken from the
 * program break. Exits 0 when the default limit gives the known count.
 */
#include "sys.h"

#define LIMIT 2000000ul
#define PRIMES_BELOW_LIMIT 148933ul

static unsigned long parse(const char *s)
{
    unsigned long v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned long)(*s++ - '0');
    return v;
}

/* sbrk: fresh break memory reads as zeros, as the kernel guarantees */
static unsigned char *grow_heap(unsigned long n)
{
    long cur = sys_brk(0);
    return sys_brk((char *)cur + n) == cur + (long)n ? (unsigned char *)cur : 0;
}

/* composite[i] stands for 2i+1 */
static unsigned long count_primes(unsigned long limit, unsigned char *composite)
{
    unsigned long n = limit / 2, count = limit > 2;
    for (unsigned long i = 1; i < n; i++) {
        if (composite[i])
            continue;
        count++;
        unsigned long p = 2 * i + 1;
        for (unsigned long j = p * p / 2; j < n; j += p)
            composite[j] = 1;
    }
    return count;
}

int main(int argc, char **argv)
{
    unsigned long limit = argc > 1 ? parse(argv[1]) : LIMIT;
    unsigned char *composite = grow_heap(limit / 2 + 1);
    if (!composite) {
        print("sieve: brk failed\n");
        return 2;
    }
    unsigned long count = count_primes(limit, composite);
    print("primes below %lu: %lu\n", limit, count);
    return limit == LIMIT && count != PRIMES_BELOW_LIMIT;
}
