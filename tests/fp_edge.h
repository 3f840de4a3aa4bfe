/*
 * fp_edge.h - random floating-point operands biased to the edge cases:
 * signed zeros, infinities, quiet and signalling NaNs, denormals, min/max
 * finite, values at and beyond the integer conversion limits, rounding
 * ties, exponents at the float32/float64 range ends. Shared by
 * test_sse_fp.c (the host CPU as oracle) and test_cpu_diff.c (Unicorn).
 * The generator state is a xorshift64 word.
 */
#ifndef SOFTMMU_FP_EDGE_H
#define SOFTMMU_FP_EDGE_H

#include <stdint.h>

static inline uint64_t fe_rnd(uint64_t *r)
{
    *r ^= *r << 13, *r ^= *r >> 7, *r ^= *r << 17;
    return *r;
}

static inline unsigned fe_rn(uint64_t *r, unsigned n)
{
    return (unsigned)(fe_rnd(r) % n);
}

static inline uint32_t fe_f32(uint64_t *r)
{
    static const uint32_t k[] = { 0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001,
                                  0x7fbfffff, 0x00000001, 0x007fffff, 0x80400000, 0x00800000, 0x7f7fffff,
                                  0xff7fffff, 0x3f800000, 0xbf800000, 0x4f000000, 0xcf000000, 0x4effffff,
                                  0x5f000000, 0xdf000000, 0x5effffff, 0x3f000000, 0x3fc00000, 0x40200000,
                                  0xbfc00000, 0x00800001, 0x0c000000, 0x72000000, 0x33800000 };
    uint32_t v = k[fe_rn(r, sizeof k / sizeof *k)];
    switch (fe_rn(r, 4)) {
    case 0: return v;
    case 1: return v ^ (uint32_t)fe_rn(r, 4); /* an ulp or two around */
    case 2: return (uint32_t)fe_rnd(r);       /* anything */
    default: {                                /* tiny or huge */
        uint32_t ex = fe_rn(r, 2) ? fe_rn(r, 48) : 230 + fe_rn(r, 25);
        return fe_rn(r, 2) << 31 | ex << 23 | (uint32_t)(fe_rnd(r) & 0x7fffff);
    }
    }
}

static inline uint64_t fe_f64(uint64_t *r)
{
    static const uint64_t k[] = { 0, 1ull << 63, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000,
                                  0xfff8000000000000, 0x7ff0000000000001, 0x7ff7ffffffffffff, 1,
                                  0x000fffffffffffff, 0x0010000000000000, 0x7fefffffffffffff,
                                  0x3ff0000000000000, 0xbff0000000000000, 0x41e0000000000000,
                                  0xc1e0000000000000, 0x41dfffffffc00000, 0x41dfffffffe00000, 0x43e0000000000000,
                                  0xc3e0000000000000, 0x43dfffffffffffff, 0x3fe0000000000000, 0x3ff8000000000000,
                                  0x47efffffe0000000, 0x36a0000000000000, 0x3810000000000000, 0x380fffffffffffff,
                                  0x4340000000000001 };
    uint64_t v = k[fe_rn(r, sizeof k / sizeof *k)];
    switch (fe_rn(r, 4)) {
    case 0: return v;
    case 1: return v ^ fe_rn(r, 4);
    case 2: return fe_rnd(r);
    default: { /* near the float32 range ends and the float64 ones */
        static const unsigned e[] = { 0x36a, 0x380, 0x381, 0x47e, 0x47f, 0x001, 0x7fe, 0x3ff, 0x41e, 0x43e };
        uint64_t ex = e[fe_rn(r, 10)] + fe_rn(r, 3) - 1;
        return (uint64_t)fe_rn(r, 2) << 63 | ex << 52 | (fe_rnd(r) & 0xfffffffffffff);
    }
    }
}

static inline uint64_t fe_int(uint64_t *r)
{
    static const uint64_t k[] = { 0, 1, ~0ull, 0x80000000, 0x7fffffff, 0x8000000000000000, 0x7fffffffffffffff,
                                  0x1000001, 0x20000000000001, 0xffffffff, 0x7fffffc0, 0x7fffffffffffff80 };
    return fe_rn(r, 2) ? k[fe_rn(r, sizeof k / sizeof *k)] ^ fe_rn(r, 2) : fe_rnd(r) >> fe_rn(r, 64);
}

/* an XMM value: float lanes, double lanes or integer lanes */
static inline void fe_xmm(uint64_t *r, uint64_t x[2])
{
    for (int h = 0; h < 2; h++) {
        unsigned k = fe_rn(r, 3);
        if (k == 0)
            x[h] = fe_f32(r) | (uint64_t)fe_f32(r) << 32;
        else if (k == 1)
            x[h] = fe_f64(r);
        else
            x[h] = (uint32_t)fe_int(r) | fe_int(r) << 32;
    }
}

/* mostly all exceptions masked; otherwise a random subset unmasked */
static inline uint32_t fe_mxcsr(uint64_t *r)
{
    uint32_t m = (uint32_t)fe_rn(r, 4) << 13 | (fe_rn(r, 3) ? 0 : 0x8000) | (fe_rn(r, 3) ? 0 : 0x40) | (fe_rn(r, 4) ? 0 : fe_rn(r, 64));
    return m | (fe_rn(r, 5) ? 0x1f80 : (uint32_t)fe_rn(r, 64) << 7);
}

#endif
