/*
 * musl_longdouble.c - long double arithmetic, printf of long doubles and
 * musl's x87 libm paths (sqrtl, atan2l: fpatan, expl/exp2l: f2xm1 and
 * fscale, logl/log2l: fyl2x, fmodl/remainderl: fprem/fprem1, rintl:
 * frndint, conversions: fild/fistp/fnstcw/fldcw). Built with musl-gcc -O2
 * -static; the test compares its output under softmmu-run with a native
 * run, byte for byte.
 */
#include <math.h>
#include <stdio.h>

int main(void)
{
    volatile long double x = 1.0L / 3.0L, y = 2.0L;
    long double s = 0;
    for (int i = 1; i <= 1000; i++)
        s += 1.0L / ((long double)i * i);
    printf("%Lf %.20Lf %Le %Lg %La\n", x, s, y * x, sqrtl(y), x);
    printf("atan2 %.18Lf exp %.18Lf log %.18Lf exp2 %.18Lf log2 %.18Lf\n", atan2l(x, y), expl(x), logl(y),
           exp2l(x), log2l(y));
    printf("fmod %.18Lf rem %.18Lf rint %.1Lf fabs %Lf\n", fmodl(10.5L, 3.0L), remainderl(10.5L, 3.0L),
           rintl(2.5L), fabsl(-x));
    long double big = 1e4000L;
    printf("%Lg %Lg %Lg %Lf\n", big, -big / big, 1 / (x - x), -0.0L);
    long long v = (long long)(s * 1e15L);
    printf("%lld %d\n", v, (int)(x * 300));
    return 0;
}
