/*
 * libm.c - the math library on a fixed spread of inputs (small, large,
 * negative, edge values): for each function a checksum of the result bits,
 * errno and a few samples in hex. Long double appears only in the exactly
 * specified operations (sqrtl, fmodl, rounding), where an x87 must equal
 * hardware bit for bit.
 */
#include "corpus.h"

#include <errno.h>
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdio.h>

#define N_IN 2000

static double in[N_IN];

typedef struct { const char *name; double (*f1)(double); double (*f2)(double, double); } fn_t;

static double do_ldexp(double x) { return ldexp(x, 17); }
static double do_frexp(double x) { int e; double m = frexp(x, &e); return m + e; }
static double do_modf(double x) { double ip; return modf(x, &ip) + ip * 3; }
static double do_lround(double x) { return fabs(x) < 1e18 ? (double)lround(x) : 0; }
static double do_lrint(double x) { return fabs(x) < 1e18 ? (double)lrint(x) : 0; }
static double do_ilogb(double x) { return ilogb(x); }

static const fn_t fns[] = {
    { "sin", sin, 0 }, { "cos", cos, 0 }, { "tan", tan, 0 }, { "asin", asin, 0 }, { "acos", acos, 0 },
    { "atan", atan, 0 }, { "sinh", sinh, 0 }, { "cosh", cosh, 0 }, { "tanh", tanh, 0 },
    { "exp", exp, 0 }, { "exp2", exp2, 0 }, { "expm1", expm1, 0 }, { "log", log, 0 },
    { "log2", log2, 0 }, { "log10", log10, 0 }, { "log1p", log1p, 0 }, { "sqrt", sqrt, 0 },
    { "cbrt", cbrt, 0 }, { "floor", floor, 0 }, { "ceil", ceil, 0 }, { "round", round, 0 },
    { "trunc", trunc, 0 }, { "rint", rint, 0 }, { "nearbyint", nearbyint, 0 }, { "fabs", fabs, 0 },
    { "erf", erf, 0 }, { "tgamma", tgamma, 0 }, { "lgamma", lgamma, 0 }, { "ldexp", do_ldexp, 0 },
    { "frexp", do_frexp, 0 }, { "modf", do_modf, 0 }, { "lround", do_lround, 0 },
    { "lrint", do_lrint, 0 }, { "ilogb", do_ilogb, 0 }, { "logb", logb, 0 },
    { "pow", 0, pow }, { "fmod", 0, fmod }, { "remainder", 0, remainder }, { "atan2", 0, atan2 },
    { "hypot", 0, hypot }, { "fmin", 0, fmin }, { "fmax", 0, fmax }, { "copysign", 0, copysign },
    { "fdim", 0, fdim }, { "nextafter", 0, nextafter },
};

static void make_inputs(void)
{
    static const double edge[] = { 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, M_PI, -M_PI_2, 1e-310, DBL_MIN,
                                   DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN, 710.0, -745.0, 1e22, 0.75 };
    rng_t r = { 2024 };
    size_t n = sizeof edge / sizeof *edge;
    memcpy(in, edge, sizeof edge);
    for (size_t i = n; i < N_IN; i++) {
        double u = (double)(rng_next(&r) >> 11) / 9007199254740992.0; /* [0, 1) */
        switch (i % 4) {
        case 0: in[i] = u * 8 - 4; break;
        case 1: in[i] = (u - 0.5) * 2000; break;
        case 2: in[i] = ldexp(u, (int)rng_below(&r, 120) - 60); break;
        default: in[i] = u; break;
        }
    }
}

static void run_fn(const fn_t *f)
{
    sum_t s = SUM_INIT;
    int errs = 0;
    for (int i = 0; i < N_IN; i++) {
        errno = 0;
        double x = opaque(in[i]), y = opaque(in[(i * 7 + 3) % N_IN]);
        double v = f->f1 ? f->f1(x) : f->f2(x, y);
        sum_double(&s, v);
        errs += errno != 0;
    }
    printf("%-10s %016llx errno-set %4d  f(0.75)=%a f(-3.5)=%a f(1e-310)=%a\n", f->name,
           (unsigned long long)s.h, errs, f->f1 ? f->f1(opaque(0.75)) : f->f2(opaque(0.75), 2.5),
           f->f1 ? f->f1(opaque(-3.5)) : f->f2(opaque(-3.5), -0.0),
           f->f1 ? f->f1(opaque(1e-310)) : f->f2(opaque(1e-310), 3.0));
}

static void floats(void)
{
    sum_t s = SUM_INIT;
    for (int i = 0; i < N_IN; i++) {
        float x = (float)opaque(in[i]);
        float r[] = { sinf(x), cosf(x), expf(x), logf(x), powf(x, 1.5f), sqrtf(x), atanf(x),
                      floorf(x), fmodf(x, 0.7f), exp2f(x), log2f(x), tanhf(x) };
        sum_bytes(&s, r, sizeof r);
    }
    printf("float functions %016llx\n", (unsigned long long)s.h);
}

static void long_doubles(void)
{
    sum_t s = SUM_INIT;
    for (int i = 0; i < N_IN; i++) {
        long double x = (long double)opaque(in[i]) * 1.0000000000000000001L;
        long double r[] = { sqrtl(fabsl(x)), fmodl(x, 0.3L), floorl(x), ceill(x), roundl(x), truncl(x),
                            rintl(x), x * x - x / 3, ldexpl(x, -20), scalbnl(x, 100) };
        for (size_t k = 0; k < sizeof r / sizeof *r; k++)
            sum_bytes(&s, &r[k], 10); /* the 80 bits, not the padding */
    }
    printf("long double exact ops %016llx sqrtl(2)=%La\n", (unsigned long long)s.h, sqrtl(opaque(2.0)));
}

static void rounding_modes(void)
{
    static const int modes[] = { FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO };
    static const char *const names[] = { "nearest", "upward", "downward", "towardzero" };
    for (int m = 0; m < 4; m++) {
        fesetround(modes[m]);
        double a = opaque(1.0) / 3, b = opaque(-2.0) / 3;
        printf("%-10s 1/3=%a -2/3=%a rint(2.5)=%g rint(-2.5)=%g sqrt(2)=%a lrint(-1.5)=%ld %.3f\n",
               names[m], a, b, rint(opaque(2.5)), rint(opaque(-2.5)), sqrt(opaque(2.0)),
               lrint(opaque(-1.5)), opaque(0.0005));
    }
    fesetround(FE_TONEAREST);
    feclearexcept(FE_ALL_EXCEPT);
    volatile double z = opaque(0.0), one = opaque(1.0), big = opaque(DBL_MAX);
    volatile double r1 = one / z;
    int e1 = fetestexcept(FE_ALL_EXCEPT);
    feclearexcept(FE_ALL_EXCEPT);
    volatile double r2 = big * 2;
    int e2 = fetestexcept(FE_ALL_EXCEPT);
    feclearexcept(FE_ALL_EXCEPT);
    volatile double r3 = z / z;
    int e3 = fetestexcept(FE_ALL_EXCEPT);
    feclearexcept(FE_ALL_EXCEPT);
    volatile double r4 = one / 3;
    int e4 = fetestexcept(FE_ALL_EXCEPT);
    printf("exceptions: 1/0 %#x (%g), overflow %#x (%g), 0/0 %#x (%g), inexact %#x (%a)\n", e1, r1, e2, r2,
           e3, r3, e4, r4);
}

int main(void)
{
    make_inputs();
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
        run_fn(&fns[i]);
    floats();
    long_doubles();
    rounding_modes();
    return 0;
}
