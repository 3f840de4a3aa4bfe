/*
 * fmt_float.c - printf and scanf of float, double and long double: every
 * conversion (%f %F %e %E %g %G %a %A), widths, precisions and flags, on edge
 * values (0, -0, inf, nan, denormals, the extremes) and on a fixed stream of
 * pseudo-random values; then scanf of the same forms from stdin.
 */
#include "corpus.h"

#include <float.h>
#include <math.h>
#include <stdio.h>

static const char *const dfmts[] = {
    "%f", "%F", "%e", "%E", "%g", "%G", "%a", "%A", "%.0f", "%.1f", "%.17g", "%.20e", "%#.0f",
    "%#g", "%+.3e", "% .5g", "%-12.4f|", "%012.3f", "%30.25f", "%.40g", "%.0e", "%.13a", "%.3a",
};
static const char *const lfmts[] = {
    "%Lf", "%Le", "%Lg", "%La", "%.21Lg", "%.30Le", "%+20.10Lf", "%.0Lf", "%#.3Lg", "%.5La",
};

static void print_double(double d)
{
    char buf[2048];
    for (size_t i = 0; i < sizeof dfmts / sizeof *dfmts; i++) {
        snprintf(buf, sizeof buf, dfmts[i], d);
        printf(" [%s]", buf);
    }
    printf("\n");
}

static void print_long_double(long double d)
{
    for (size_t i = 0; i < sizeof lfmts / sizeof *lfmts; i++) {
        if (fabsl(d) > 1e300L && strchr(lfmts[i], 'f'))
            continue; /* thousands of digits: slow, and %Lf is covered elsewhere */
        char buf[8192];
        snprintf(buf, sizeof buf, lfmts[i], d);
        printf(" <%s>", buf);
    }
    printf("\n");
}

static void edge_values(void)
{
    const double d[] = {
        0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 1.0 / 3, 2.0 / 3, 123456789.125, 1e15, 1e16, 1e22, 1e23,
        9007199254740993.0, 0.000123456, 5e-324, -5e-324, 2.2250738585072009e-308, DBL_MIN,
        DBL_MAX, -DBL_MAX, DBL_EPSILON, INFINITY, -INFINITY, NAN, 0.5e-5, 999999.5, 0.95, 0.05,
        2.5, 3.5, -2.5, 1e-7, 1e300, 4.35, 1.005,
    };
    for (size_t i = 0; i < sizeof d / sizeof *d; i++) {
        printf("d%zu:", i);
        print_double(opaque(d[i]));
    }
    const float f[] = { 0.0f, -0.0f, 0.1f, 1e-45f, FLT_MIN, FLT_MAX, 16777217.0f, 3.14159265f, INFINITY };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        float v = (float)opaque(f[i]);
        printf("f%zu: [%f] [%e] [%g] [%a] [%.9g]\n", i, v, v, v, v, v);
    }
    const long double l[] = {
        0.0L, -0.0L, 1.0L / 3, 0.1L, LDBL_MIN, LDBL_MAX, LDBL_EPSILON, 3.36210314311209350626e-4932L,
        12345678901234567890.0L, 1e4000L, -1e-4000L, (long double)INFINITY, (long double)NAN,
    };
    for (size_t i = 0; i < sizeof l / sizeof *l; i++) {
        long double v = l[i];
        __asm__ volatile("" : "+m"(v));
        printf("l%zu:", i);
        print_long_double(v);
    }
}

static void random_values(void)
{
    rng_t r = { 42 };
    sum_t s = SUM_INIT;
    char buf[512];
    for (int i = 0; i < 1000; i++) {
        uint64_t bits = rng_next(&r);
        double d;
        if (i % 3 == 0) /* a value of ordinary size */
            bits = (bits & 0x800fffffffffffffull) | ((uint64_t)(1023 - 40 + i % 80) << 52);
        memcpy(&d, &bits, sizeof d);
        int n = snprintf(buf, sizeof buf, dfmts[i % 23], d);
        sum_bytes(&s, buf, (size_t)n);
        if (i % 100 == 0)
            printf("r%d: %s\n", i, buf);
        long double l = (long double)d * 1.000000000000000000001L;
        n = snprintf(buf, sizeof buf, lfmts[i % 10], l);
        sum_bytes(&s, buf, (size_t)n);
    }
    printf("random formatting checksum %016llx\n", (unsigned long long)s.h);
}

static void scan_stdin(void)
{
    double d;
    float f;
    long double l;
    char word[64];
    int n, line = 0;
    while ((n = scanf("%lf %f %Lf %63s", &d, &f, &l, word)) == 4)
        printf("scan%d: %.17g %.9g %.21Lg %a %s\n", line++, d, (double)f, l, d, word);
    printf("scanf stopped with %d after %d lines\n", n, line);
    float hf;
    double hd;
    if (sscanf("0x1.8p3 -0x1p-1074 nan -inf 1e400", "%f %lf", &hf, &hd) == 2)
        printf("sscanf hex: %g %a\n", (double)hf, hd);
    double a, b, c;
    printf("sscanf specials: %d", sscanf("nan -inf 1e400", "%lf %lf %lf", &a, &b, &c));
    printf(" %f %f %f\n", a, b, c);
}

int main(void)
{
    edge_values();
    random_values();
    scan_stdin();
    return 0;
}
