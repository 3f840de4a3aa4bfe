/*
 * bigint.c - integer arithmetic of every width: factorials and Fibonacci
 * numbers in base 10^9 limbs, 128-bit multiply, divide and modulo (the
 * compiler's __int128 helpers), modular exponentiation and a Miller-Rabin
 * primality test, gcd, bit operations (popcount, clz, ctz, bswap, rotates)
 * and signed division edge cases.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LIMBS 400

static void print_big(const char *what, const uint32_t *a, int n)
{
    char buf[LIMBS * 9 + 1];
    int len = sprintf(buf, "%u", a[n - 1]);
    for (int i = n - 2; i >= 0; i--)
        len += sprintf(buf + len, "%09u", a[i]);
    printf("%s: %d digits, head %.20s tail %s\n", what, len, buf, buf + (len > 20 ? len - 20 : 0));
}

static void factorial(int k)
{
    static uint32_t a[LIMBS];
    int n = 1;
    a[0] = 1;
    for (int f = 2; f <= k; f++) {
        uint64_t carry = 0;
        for (int i = 0; i < n; i++) {
            uint64_t v = (uint64_t)a[i] * (uint64_t)f + carry;
            a[i] = (uint32_t)(v % 1000000000u);
            carry = v / 1000000000u;
        }
        while (carry)
            a[n++] = (uint32_t)(carry % 1000000000u), carry /= 1000000000u;
    }
    char what[32];
    snprintf(what, sizeof what, "%d!", k);
    print_big(what, a, n);
}

static void fibonacci(int k)
{
    static uint32_t a[LIMBS], b[LIMBS];
    int n = 1;
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    b[0] = 1;
    for (int i = 1; i < k; i++) { /* a, b = b, a + b */
        uint32_t carry = 0;
        for (int j = 0; j < n; j++) {
            uint32_t s = a[j] + b[j] + carry;
            carry = s >= 1000000000u;
            a[j] = b[j];
            b[j] = carry ? s - 1000000000u : s;
        }
        if (carry)
            a[n] = 0, b[n++] = 1;
    }
    char what[32];
    snprintf(what, sizeof what, "fib(%d)", k);
    print_big(what, b, n);
}

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) { return (uint64_t)((unsigned __int128)a * b % m); }

static uint64_t powmod(uint64_t b, uint64_t e, uint64_t m)
{
    uint64_t r = 1;
    for (b %= m; e; e >>= 1, b = mulmod(b, b, m))
        if (e & 1)
            r = mulmod(r, b, m);
    return r;
}

static int is_prime(uint64_t n)
{
    if (n < 2)
        return 0;
    static const uint64_t bases[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37 };
    for (int i = 0; i < 12; i++)
        if (n % bases[i] == 0)
            return n == bases[i];
    uint64_t d = n - 1;
    int s = __builtin_ctzll(d);
    d >>= s;
    for (int i = 0; i < 12; i++) {
        uint64_t x = powmod(bases[i], d, n);
        if (x == 1 || x == n - 1)
            continue;
        int r = 1;
        for (; r < s && (x = mulmod(x, x, n)) != n - 1; r++)
            ;
        if (r == s)
            return 0;
    }
    return 1;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b, b = t;
    }
    return a;
}

int main(void)
{
    factorial(100);
    factorial(1000);
    fibonacci(1000);
    fibonacci(5000);
    int primes = 0;
    uint64_t last = 0;
    for (uint64_t n = (1ull << 62) - 1000; n < (1ull << 62); n++)
        if (is_prime(n))
            primes++, last = n;
    printf("primes in [2^62-1000, 2^62): %d, last %llu\n", primes, (unsigned long long)last);
    printf("2^61-1 prime %d, 2^64-59 prime %d\n", is_prime((1ull << 61) - 1), is_prime(18446744073709551557ull));

    volatile unsigned __int128 x = ((unsigned __int128)0x0123456789abcdefull << 64) | 0xfedcba9876543210ull;
    volatile unsigned __int128 y = 0x1000000000000001ull;
    unsigned __int128 q = x / y, r = x % y;
    volatile __int128 sx = -(__int128)x;
    printf("128-bit: q %016llx%016llx r %016llx, signed q %lld\n", (unsigned long long)(q >> 64),
           (unsigned long long)q, (unsigned long long)r, (long long)(sx / (__int128)y));
    printf("gcd %llu %llu\n", (unsigned long long)gcd(3ull * 5 * 7 * 11 * 13 * 1000003, 7ull * 13 * 1000003 * 17),
           (unsigned long long)gcd(0xffffffffffffffffull, 0xfffffffffffffffeull));

    volatile uint64_t v = 0x00f0f0f0f0f0f0f1ull;
    volatile uint32_t w = 0x80000001u;
    printf("bits: popcount %d clz %d ctz %d bswap %016llx rotl %08x rotr %016llx parity %d\n",
           __builtin_popcountll(v), __builtin_clzll(v), __builtin_ctzll(v << 4),
           (unsigned long long)__builtin_bswap64(v), (w << 5) | (w >> 27),
           (unsigned long long)((v >> 13) | (v << 51)), __builtin_parityll(v));
    volatile int64_t a = INT64_MIN, b = -1, c = -7, d = 2;
    volatile int32_t e = -7, f = 2;
    printf("division: %lld %lld %lld %lld %d %d %llu\n", (long long)(a / 2), (long long)(c / d),
           (long long)(c % d), (long long)((uint64_t)b * (uint64_t)a), e / f, e % f, (unsigned long long)((uint64_t)c / (uint64_t)d));
    return 0;
}
