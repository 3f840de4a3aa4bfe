/*
 * vec.c - loops gcc -O3 (and partly -O2) autovectorises into SSE2: sums of
 * bytes, shorts, ints and int64s, saxpy on ints, floats and doubles, a byte
 * histogram, saturating packs, min/max, absolute differences, shifts,
 * multiplies, conversions between int and float, compares and selects.
 * Each kernel prints a checksum; the arrays have odd lengths so every
 * vector loop also runs its scalar tail.
 */
#include "corpus.h"

#include <stdio.h>

#define N 4099

static uint8_t b8[N], c8[N];
static int16_t s16[N], t16[N];
static int32_t i32[N], j32[N], k32[N];
static int64_t i64[N];
static float f32[N], g32[N];
static double f64[N], g64[N];

static void show(const char *name, const void *p, size_t n)
{
    sum_t s = SUM_INIT;
    sum_bytes(&s, p, n);
    printf("%-12s %016llx\n", name, (unsigned long long)s.h);
}

__attribute__((noinline)) static void fill(void)
{
    rng_t r = { 5 };
    for (int i = 0; i < N; i++) {
        uint64_t v = rng_next(&r);
        b8[i] = (uint8_t)v, c8[i] = (uint8_t)(v >> 8);
        s16[i] = (int16_t)(v >> 16), t16[i] = (int16_t)(v >> 32);
        i32[i] = (int32_t)v, j32[i] = (int32_t)(v >> 24) % 100000;
        i64[i] = (int64_t)v >> 3;
        f32[i] = (float)(int32_t)(v >> 40) / 1024.0f;
        f64[i] = (double)(int64_t)v / 4294967296.0;
    }
}

__attribute__((noinline)) static void sums(void)
{
    uint32_t sb = 0;
    int32_t ss = 0, si = 0;
    int64_t sl = 0, wide = 0;
    for (int i = 0; i < N; i++) sb += b8[i];
    for (int i = 0; i < N; i++) ss += s16[i];
    for (int i = 0; i < N; i++) si += i32[i];
    for (int i = 0; i < N; i++) sl += i64[i];
    for (int i = 0; i < N; i++) wide += i32[i];
    uint64_t dot = 0;
    for (int i = 0; i < N; i++) dot += (uint64_t)(uint32_t)(s16[i] * t16[i]);
    printf("sums         %u %d %d %lld %lld %llu\n", sb, ss, si, (long long)sl, (long long)wide,
           (unsigned long long)dot);
}

__attribute__((noinline)) static void saxpy(int32_t a, float fa, double da)
{
    for (int i = 0; i < N; i++) k32[i] = a * i32[i] + j32[i];
    show("saxpy int", k32, sizeof k32);
    for (int i = 0; i < N; i++) g32[i] = fa * f32[i] + g32[i];
    show("saxpy float", g32, sizeof g32);
    for (int i = 0; i < N; i++) g64[i] = da * f64[i] + g64[i];
    show("saxpy double", g64, sizeof g64);
}

__attribute__((noinline)) static void histogram(void)
{
    uint32_t h[256] = { 0 };
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < N; i++) h[b8[i] ^ (uint8_t)round]++;
    show("histogram", h, sizeof h);
}

__attribute__((noinline)) static void packs(void)
{
    static uint8_t u[N];
    static int8_t s[N];
    static int16_t w[N];
    for (int i = 0; i < N; i++) { int v = i32[i] >> 22; u[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }
    show("pack u8", u, sizeof u);
    for (int i = 0; i < N; i++) { int v = s16[i] >> 6; s[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }
    show("pack s8", s, sizeof s);
    for (int i = 0; i < N; i++) { int v = i32[i] >> 12; w[i] = (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v); }
    show("pack s16", w, sizeof w);
    for (int i = 0; i < N; i++) { unsigned v = b8[i] + c8[i]; u[i] = (uint8_t)(v > 255 ? 255 : v); }
    show("addsat u8", u, sizeof u);
    for (int i = 0; i < N; i++) u[i] = (uint8_t)((b8[i] + c8[i] + 1) >> 1);
    show("avg u8", u, sizeof u);
    for (int i = 0; i < N; i++) w[i] = (int16_t)(b8[i] | c8[i] << 8);
    show("widen u8", w, sizeof w);
}

__attribute__((noinline)) static void minmax_abs(void)
{
    int32_t mn = INT32_MAX, mx = INT32_MIN;
    uint8_t umx = 0;
    int16_t smn = INT16_MAX;
    uint32_t sad = 0;
    for (int i = 0; i < N; i++) { mn = i32[i] < mn ? i32[i] : mn; mx = i32[i] > mx ? i32[i] : mx; }
    for (int i = 0; i < N; i++) umx = b8[i] > umx ? b8[i] : umx;
    for (int i = 0; i < N; i++) smn = s16[i] < smn ? s16[i] : smn;
    for (int i = 0; i < N; i++) sad += (uint32_t)(b8[i] > c8[i] ? b8[i] - c8[i] : c8[i] - b8[i]);
    for (int i = 0; i < N; i++) k32[i] = i32[i] < 0 ? -i32[i] : i32[i];
    printf("minmax       %d %d %u %d sad %u\n", mn, mx, umx, smn, sad);
    show("abs int", k32, sizeof k32);
}

__attribute__((noinline)) static void shifts_muls(int sh)
{
    for (int i = 0; i < N; i++) k32[i] = (i32[i] << 3) ^ ((uint32_t)i32[i] >> sh) ^ (i32[i] >> (sh + 1));
    show("shift int", k32, sizeof k32);
    static int16_t w[N];
    for (int i = 0; i < N; i++) w[i] = (int16_t)((s16[i] * t16[i]) >> 16);
    show("mulhi s16", w, sizeof w);
    for (int i = 0; i < N; i++) w[i] = (int16_t)(s16[i] * t16[i]);
    show("mullo s16", w, sizeof w);
    for (int i = 0; i < N; i++) k32[i] = i32[i] * j32[i];
    show("mul int", k32, sizeof k32);
    static uint64_t q[N];
    for (int i = 0; i < N; i++) q[i] = (uint64_t)(uint32_t)i32[i] * (uint32_t)j32[i];
    show("mul u32x64", q, sizeof q);
    for (int i = 0; i < N; i++) q[i] = (uint64_t)i64[i] >> 7 ^ (uint64_t)i64[i] << 9;
    show("shift i64", q, sizeof q);
}

__attribute__((noinline)) static void conversions(void)
{
    for (int i = 0; i < N; i++) g32[i] = (float)i32[i];
    show("i32->f32", g32, sizeof g32);
    for (int i = 0; i < N; i++) k32[i] = (int32_t)f32[i];
    show("f32->i32", k32, sizeof k32);
    for (int i = 0; i < N; i++) g64[i] = (double)i32[i] * 0.5;
    show("i32->f64", g64, sizeof g64);
    for (int i = 0; i < N; i++) k32[i] = (int32_t)(f64[i] * 1000.0);
    show("f64->i32", k32, sizeof k32);
    for (int i = 0; i < N; i++) g32[i] = (float)f64[i];
    show("f64->f32", g32, sizeof g32);
    for (int i = 0; i < N; i++) g64[i] = f32[i] * 2.0;
    show("f32->f64", g64, sizeof g64);
    for (int i = 0; i < N; i++) g64[i] = (double)i64[i];
    show("i64->f64", g64, sizeof g64);
}

__attribute__((noinline)) static void selects(void)
{
    for (int i = 0; i < N; i++) k32[i] = i32[i] > j32[i] ? i32[i] - j32[i] : j32[i];
    show("select int", k32, sizeof k32);
    for (int i = 0; i < N; i++) g32[i] = f32[i] > 0 ? f32[i] : -f32[i] * 0.25f;
    show("select f32", g32, sizeof g32);
    for (int i = 0; i < N; i++) g64[i] = f64[i] < g64[i] ? f64[i] : g64[i];
    show("min f64", g64, sizeof g64);
    int eq = 0;
    for (int i = 0; i < N; i++) eq += b8[i] == c8[i];
    double fs = 0;
    for (int i = 0; i < N; i++) fs += f64[i] * f64[i];
    float ff = 0;
    for (int i = 0; i < N; i++) ff += f32[i];
    printf("reduce       eq %d sumsq %a sumf %a\n", eq, fs, (double)ff);
}

int main(void)
{
    fill();
    sums();
    saxpy(3, 1.5f, -0.75);
    saxpy(-7, 0.1f, 1e-3);
    histogram();
    packs();
    minmax_abs();
    shifts_muls(5);
    conversions();
    selects();
    return 0;
}
