/*
 * strtod_rt.c - strtod/strtof/strtold round trips: random bit patterns
 * printed with %.17g, %.9g, %.21Lg and %a must read back to the same bits;
 * then hard decimal inputs (halfway cases, long mantissas, the extremes,
 * underflow and overflow with errno) whose results are printed in hex.
 */
#include "corpus.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void round_trips(void)
{
    rng_t r = { 7 };
    sum_t s = SUM_INIT;
    char buf[128];
    int bad = 0, nans = 0;
    for (int i = 0; i < 1500; i++) {
        uint64_t bits = rng_next(&r);
        if (i % 4 != 3) /* mostly ordinary sizes: huge exponents cost musl a lot */
            bits = (bits & 0x800fffffffffffffull) | ((uint64_t)(1023 - 60 + i % 120) << 52);
        double d, back;
        memcpy(&d, &bits, sizeof d);
        if (isnan(d)) {
            nans++;
            continue;
        }
        snprintf(buf, sizeof buf, i & 1 ? "%.17g" : "%a", d);
        back = strtod(buf, NULL);
        bad += memcmp(&d, &back, sizeof d) != 0;
        sum_bytes(&s, buf, strlen(buf));

        float f;
        uint32_t fb = (uint32_t)bits, fback_bits;
        memcpy(&f, &fb, sizeof f);
        if (!isnan(f)) {
            snprintf(buf, sizeof buf, "%.9g", (double)f);
            float fback = strtof(buf, NULL);
            memcpy(&fback_bits, &fback, sizeof fback);
            bad += fb != fback_bits;
        }

        long double l = (long double)d / 3.0L, lback;
        snprintf(buf, sizeof buf, i & 2 ? "%.21Lg" : "%La", l);
        lback = strtold(buf, NULL);
        bad += !(l == lback || (isnan(l) && isnan(lback)));
        sum_bytes(&s, buf, strlen(buf));
    }
    printf("round trips: %d mismatches, %d nans skipped, checksum %016llx\n", bad, nans,
           (unsigned long long)s.h);
}

static void hard_inputs(void)
{
    static const char *const in[] = {
        "0", "-0", "1", "0.1", "0.3", "2.2250738585072011e-308", "2.2250738585072012e-308",
        "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
        "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e309",
        "1e-400", "9007199254740993", "9007199254740993.0000000001", "9007199254740992.9999999999",
        "123456789012345678901234567890e-10", "0x1.fffffffffffff8p1023", "0x1p-1075", "0x1.8p-1074",
        "inf", "-Infinity", "nan", "nan(123)", "  +42.5xyz", ".5e", "1e", "-.e1", "0x", "1_000",
        "3.14159265358979323846264338327950288419716939937510582097494459230781640628620899",
        "0.000000000000000000000000000000000000000000000000000000000000000000000000000001e78",
        "7.038531e-26", "5e-324", "1.00000000000000011102230246251565404236316680908203125",
        "1.000000000000000111022302462515654042363166809082031250000000000000000000000001",
    };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        char *end;
        errno = 0;
        double d = strtod(in[i], &end);
        int e1 = errno;
        errno = 0;
        float f = strtof(in[i], NULL);
        int e2 = errno;
        errno = 0;
        long double l = strtold(in[i], NULL);
        int e3 = errno;
        printf("%-40.40s -> %a (%.17g) end+%d errno %d | f %a errno %d | l %La errno %d\n", in[i], d, d,
               (int)(end - in[i]), e1 == ERANGE, (double)f, e2 == ERANGE, l, e3 == ERANGE);
    }
    printf("atof %.17g atoi %d strtol %ld strtoull %llu\n", atof("6.02214076e23"), atoi("-2147483648"),
           strtol("0x7fffffffffffffff", NULL, 0), strtoull("18446744073709551615", NULL, 10));
}

int main(void)
{
    round_trips();
    hard_inputs();
    return 0;
}
