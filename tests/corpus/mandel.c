/*
 * mandel.c - the Mandelbrot set as ASCII art in float, double and long
 * double (x87), plus a numeric integration and a small n-body step: a
 * floating-point workload as ordinary programs have it. Every printed
 * number is exact for the operations used, so the three precisions each
 * print their own, deterministic, picture.
 */
#include <stdio.h>

#define W 72
#define H 28
#define MAX_IT 200

#define MANDEL(T, name)                                                               \
    static unsigned long name(void)                                                   \
    {                                                                                 \
        unsigned long total = 0;                                                      \
        for (int y = 0; y < H; y++) {                                                 \
            char line[W + 1];                                                         \
            for (int x = 0; x < W; x++) {                                             \
                T cr = (T)-2.2 + (T)3.0 * x / W, ci = (T)-1.2 + (T)2.4 * y / H;       \
                T zr = 0, zi = 0;                                                     \
                int it = 0;                                                           \
                while (it < MAX_IT && zr * zr + zi * zi <= 4) {                       \
                    T t = zr * zr - zi * zi + cr;                                     \
                    zi = 2 * zr * zi + ci;                                            \
                    zr = t;                                                           \
                    it++;                                                             \
                }                                                                     \
                total += (unsigned long)it;                                           \
                line[x] = " .:-=+*#%@"[it == MAX_IT ? 9 : it % 9];                    \
            }                                                                         \
            line[W] = 0;                                                              \
            if (y % 2 == 0)                                                           \
                puts(line);                                                           \
        }                                                                             \
        return total;                                                                 \
    }

MANDEL(float, mandel_float)
MANDEL(double, mandel_double)
MANDEL(long double, mandel_long_double)

static void integrate(void)
{
    double sum = 0, h = 1.0 / 100000;
    for (int i = 0; i < 100000; i++) {
        double x = (i + 0.5) * h;
        sum += 4.0 / (1.0 + x * x);
    }
    long double lsum = 0, lh = 1.0L / 100000;
    for (int i = 0; i < 100000; i++) {
        long double x = (i + 0.5L) * lh;
        lsum += 4.0L / (1.0L + x * x);
    }
    printf("pi by midpoint rule: %.17g (double) %.21Lg (long double)\n", sum * h, lsum * lh);
}

static void nbody(void)
{
    double p[3][2] = { { 0, 0 }, { 1, 0 }, { 0, 2 } }, v[3][2] = { { 0, 0 }, { 0, 1 }, { -0.7, 0 } };
    double m[3] = { 10, 0.1, 0.2 }, dt = 0.001;
    for (int step = 0; step < 5000; step++) {
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                if (i == j)
                    continue;
                double dx = p[j][0] - p[i][0], dy = p[j][1] - p[i][1];
                double d2 = dx * dx + dy * dy + 1e-9, inv = m[j] / (d2 * __builtin_sqrt(d2));
                v[i][0] += dx * inv * dt;
                v[i][1] += dy * inv * dt;
            }
        for (int i = 0; i < 3; i++)
            p[i][0] += v[i][0] * dt, p[i][1] += v[i][1] * dt;
    }
    for (int i = 0; i < 3; i++)
        printf("body %d: %a %a\n", i, p[i][0], p[i][1]);
}

int main(void)
{
    printf("float: %lu iterations\n", mandel_float());
    printf("double: %lu iterations\n", mandel_double());
    printf("long double: %lu iterations\n", mandel_long_double());
    integrate();
    nbody();
    return 0;
}
