/*
 * exec_sse_int.c - the packed operations of SSE2 that work lane by lane or
 * rearrange lanes: integer add/sub (wrapping and saturating), multiplies,
 * compares, min/max, averages, psadbw, packs and unpacks, shifts, logic
 * (integer and the andps/orps/xorps... forms, which are the same bits) and
 * shuffles.
 *
 * Each is one op_NAME(a, b, imm) computing a = a OP b on xv lanes; the
 * XINT_OPS list of decode.h generates the handlers (register, aligned m128,
 * imm8 count), the table and the decoder entries. None touches RFLAGS or
 * MXCSR.
 */
#include "decode.h"
#include "exec_xmm.h"

/* lane loops: the compiler turns them into the host's own SIMD */
#define LANES(n, expr)                                                                         \
    do {                                                                                       \
        for (unsigned i = 0; i < (n); i++)                                                     \
            expr;                                                                              \
    } while (0)

static inline int sat_s8(int v)
{
    return v < -128 ? -128 : v > 127 ? 127 : v;
}

static inline int sat_s16(int v)
{
    return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}

static inline unsigned sat_u8(int v)
{
    return v < 0 ? 0 : v > 255 ? 255 : (unsigned)v;
}

static inline unsigned sat_u16(int v)
{
    return v < 0 ? 0 : v > 65535 ? 65535 : (unsigned)v;
}

/* ------------------------------------------------------------ arithmetic */

#define OP(name) static inline void op_##name(xv *a, const xv *b, unsigned imm)
#define UNUSED_IMM (void)imm

OP(paddb) { UNUSED_IMM; LANES(16, a->b[i] = (uint8_t)(a->b[i] + b->b[i])); }
OP(paddw) { UNUSED_IMM; LANES(8, a->w[i] = (uint16_t)(a->w[i] + b->w[i])); }
OP(paddd) { UNUSED_IMM; LANES(4, a->d[i] += b->d[i]); }
OP(paddq) { UNUSED_IMM; LANES(2, a->q[i] += b->q[i]); }
OP(psubb) { UNUSED_IMM; LANES(16, a->b[i] = (uint8_t)(a->b[i] - b->b[i])); }
OP(psubw) { UNUSED_IMM; LANES(8, a->w[i] = (uint16_t)(a->w[i] - b->w[i])); }
OP(psubd) { UNUSED_IMM; LANES(4, a->d[i] -= b->d[i]); }
OP(psubq) { UNUSED_IMM; LANES(2, a->q[i] -= b->q[i]); }
OP(paddsb) { UNUSED_IMM; LANES(16, a->sb[i] = (int8_t)sat_s8(a->sb[i] + b->sb[i])); }
OP(paddsw) { UNUSED_IMM; LANES(8, a->sw[i] = (int16_t)sat_s16(a->sw[i] + b->sw[i])); }
OP(paddusb) { UNUSED_IMM; LANES(16, a->b[i] = (uint8_t)sat_u8(a->b[i] + b->b[i])); }
OP(paddusw) { UNUSED_IMM; LANES(8, a->w[i] = (uint16_t)sat_u16(a->w[i] + b->w[i])); }
OP(psubsb) { UNUSED_IMM; LANES(16, a->sb[i] = (int8_t)sat_s8(a->sb[i] - b->sb[i])); }
OP(psubsw) { UNUSED_IMM; LANES(8, a->sw[i] = (int16_t)sat_s16(a->sw[i] - b->sw[i])); }
OP(psubusb) { UNUSED_IMM; LANES(16, a->b[i] = (uint8_t)sat_u8(a->b[i] - b->b[i])); }
OP(psubusw) { UNUSED_IMM; LANES(8, a->w[i] = (uint16_t)sat_u16(a->w[i] - b->w[i])); }

/* products in 32 bits: the high half keeps the sign of a signed product */
OP(pmullw) { UNUSED_IMM; LANES(8, a->w[i] = (uint16_t)((uint32_t)a->w[i] * b->w[i])); }
OP(pmulhw) { UNUSED_IMM; LANES(8, a->w[i] = (uint16_t)((uint32_t)(a->sw[i] * b->sw[i]) >> 16)); }
OP(pmulhuw) { UNUSED_IMM; LANES(8, a->w[i] = (uint16_t)(((uint32_t)a->w[i] * b->w[i]) >> 16)); }

/* the even dwords, unsigned, into full quadwords */
OP(pmuludq)
{
    UNUSED_IMM;
    a->q[0] = (uint64_t)a->d[0] * b->d[0];
    a->q[1] = (uint64_t)a->d[2] * b->d[2];
}

/* pairs of signed word products summed: only -32768^2 * 2 overflows, and
 * it wraps to 0x80000000 as on hardware */
OP(pmaddwd)
{
    UNUSED_IMM;
    xv r;
    LANES(4, r.d[i] = (uint32_t)(a->sw[2 * i] * b->sw[2 * i]) + (uint32_t)(a->sw[2 * i + 1] * b->sw[2 * i + 1]));
    *a = r;
}

/* ------------------------------------------------- compares, min, max, avg */

OP(pcmpeqb) { UNUSED_IMM; LANES(16, a->b[i] = a->b[i] == b->b[i] ? 0xff : 0); }
OP(pcmpeqw) { UNUSED_IMM; LANES(8, a->w[i] = a->w[i] == b->w[i] ? 0xffff : 0); }
OP(pcmpeqd) { UNUSED_IMM; LANES(4, a->d[i] = a->d[i] == b->d[i] ? ~0u : 0); }
OP(pcmpgtb) { UNUSED_IMM; LANES(16, a->b[i] = a->sb[i] > b->sb[i] ? 0xff : 0); }
OP(pcmpgtw) { UNUSED_IMM; LANES(8, a->w[i] = a->sw[i] > b->sw[i] ? 0xffff : 0); }
OP(pcmpgtd) { UNUSED_IMM; LANES(4, a->d[i] = a->sd[i] > b->sd[i] ? ~0u : 0); }
OP(pminub) { UNUSED_IMM; LANES(16, a->b[i] = a->b[i] < b->b[i] ? a->b[i] : b->b[i]); }
OP(pmaxub) { UNUSED_IMM; LANES(16, a->b[i] = a->b[i] > b->b[i] ? a->b[i] : b->b[i]); }
OP(pminsw) { UNUSED_IMM; LANES(8, a->sw[i] = a->sw[i] < b->sw[i] ? a->sw[i] : b->sw[i]); }
OP(pmaxsw) { UNUSED_IMM; LANES(8, a->sw[i] = a->sw[i] > b->sw[i] ? a->sw[i] : b->sw[i]); }
OP(pavgb) { UNUSED_IMM; LANES(16, a->b[i] = (uint8_t)((a->b[i] + b->b[i] + 1) >> 1)); }
OP(pavgw) { UNUSED_IMM; LANES(8, a->w[i] = (uint16_t)((a->w[i] + b->w[i] + 1u) >> 1)); }

/* sum of absolute byte differences per quadword, in its low word */
OP(psadbw)
{
    UNUSED_IMM;
    unsigned s[2] = { 0, 0 };
    LANES(16, s[i / 8] += a->b[i] > b->b[i] ? a->b[i] - b->b[i] : b->b[i] - a->b[i]);
    a->q[0] = s[0], a->q[1] = s[1];
}

/* ------------------------------------------------------------ pack, unpack */

/* the destination's lanes narrowed into the low half, the source's into
 * the high half */
OP(packsswb)
{
    UNUSED_IMM;
    xv r;
    LANES(8, (r.sb[i] = (int8_t)sat_s8(a->sw[i]), r.sb[i + 8] = (int8_t)sat_s8(b->sw[i])));
    *a = r;
}

OP(packssdw)
{
    UNUSED_IMM;
    xv r;
    LANES(4, (r.sw[i] = (int16_t)sat_s16(a->sd[i]), r.sw[i + 4] = (int16_t)sat_s16(b->sd[i])));
    *a = r;
}

OP(packuswb)
{
    UNUSED_IMM;
    xv r;
    LANES(8, (r.b[i] = (uint8_t)sat_u8(a->sw[i]), r.b[i + 8] = (uint8_t)sat_u8(b->sw[i])));
    *a = r;
}

/* lanes of the low (h = 0) or high half, interleaved: a0 b0 a1 b1 ... */
#define UNPACK(name, lane, n, h)                                                               \
    OP(name)                                                                                   \
    {                                                                                          \
        UNUSED_IMM;                                                                            \
        xv r;                                                                                  \
        LANES(n / 2, (r.lane[2 * i] = a->lane[i + h * n / 2], r.lane[2 * i + 1] = b->lane[i + h * n / 2])); \
        *a = r;                                                                                \
    }
UNPACK(punpcklbw, b, 16, 0)
UNPACK(punpcklwd, w, 8, 0)
UNPACK(punpckldq, d, 4, 0)
UNPACK(punpcklqdq, q, 2, 0)
UNPACK(punpckhbw, b, 16, 1)
UNPACK(punpckhwd, w, 8, 1)
UNPACK(punpckhdq, d, 4, 1)
UNPACK(punpckhqdq, q, 2, 1)

/* ------------------------------------------------------------------ logic */

OP(pand) { UNUSED_IMM; LANES(2, a->q[i] &= b->q[i]); }
OP(pandn) { UNUSED_IMM; LANES(2, a->q[i] = ~a->q[i] & b->q[i]); }
OP(por) { UNUSED_IMM; LANES(2, a->q[i] |= b->q[i]); }
OP(pxor) { UNUSED_IMM; LANES(2, a->q[i] ^= b->q[i]); }

/* --------------------------------------------------------------- shuffles */

/* the two low dwords from the destination, the two high from the source */
OP(shufps)
{
    xv r = { .d = { a->d[imm & 3], a->d[(imm >> 2) & 3], b->d[(imm >> 4) & 3], b->d[(imm >> 6) & 3] } };
    *a = r;
}

OP(shufpd)
{
    xv r = { .q = { a->q[imm & 1], b->q[(imm >> 1) & 1] } };
    *a = r;
}

OP(pshufd)
{
    xv r = { .d = { b->d[imm & 3], b->d[(imm >> 2) & 3], b->d[(imm >> 4) & 3], b->d[(imm >> 6) & 3] } };
    *a = r;
}

OP(pshuflw)
{
    xv r = *b;
    LANES(4, r.w[i] = b->w[(imm >> (2 * i)) & 3]);
    *a = r;
}

OP(pshufhw)
{
    xv r = *b;
    LANES(4, r.w[4 + i] = b->w[4 + ((imm >> (2 * i)) & 3)]);
    *a = r;
}

/* ----------------------------------------------------------------- shifts */

/* The count is the whole low quadword of the source (the high one is
 * ignored): past the lane width a logical shift gives 0 and an arithmetic
 * one the sign. */
#define SHIFT(name, lane, bits, expr)                                                          \
    OP(name)                                                                                   \
    {                                                                                          \
        UNUSED_IMM;                                                                            \
        uint64_t n = b->q[0];                                                                  \
        LANES(16 / (bits / 8), a->lane[i] = (expr));                                           \
    }
SHIFT(psllw, w, 16, n > 15 ? 0 : (uint16_t)(a->w[i] << n))
SHIFT(pslld, d, 32, n > 31 ? 0 : a->d[i] << n)
SHIFT(psllq, q, 64, n > 63 ? 0 : a->q[i] << n)
SHIFT(psrlw, w, 16, n > 15 ? 0 : (uint16_t)(a->w[i] >> n))
SHIFT(psrld, d, 32, n > 31 ? 0 : a->d[i] >> n)
SHIFT(psrlq, q, 64, n > 63 ? 0 : a->q[i] >> n)
SHIFT(psraw, sw, 16, (int16_t)(a->sw[i] >> (n > 15 ? 15 : n)))
SHIFT(psrad, sd, 32, a->sd[i] >> (n > 31 ? 31 : n))

/* whole-register byte shifts; a count above 15 clears it */
OP(pslldq)
{
    UNUSED_IMM;
    uint64_t n = b->q[0];
    xv r = { .q = { 0, 0 } };
    for (unsigned i = 0; n < 16 && i + n < 16; i++)
        r.b[i + n] = a->b[i];
    *a = r;
}

OP(psrldq)
{
    UNUSED_IMM;
    uint64_t n = b->q[0];
    xv r = { .q = { 0, 0 } };
    for (unsigned i = 0; n < 16 && i + n < 16; i++)
        r.b[i] = a->b[i + n];
    *a = r;
}

/* ----------------------------------------------------------- SSE3, SSSE3 */

/* the odd (movshdup) or even (movsldup) dwords of the source, twice */
OP(movshdup)
{
    UNUSED_IMM;
    xv r = { .d = { b->d[1], b->d[1], b->d[3], b->d[3] } };
    *a = r;
}

OP(movsldup)
{
    UNUSED_IMM;
    xv r = { .d = { b->d[0], b->d[0], b->d[2], b->d[2] } };
    *a = r;
}

/* bytes of a picked by the low nibbles of b; a set top bit gives 0 */
OP(pshufb)
{
    UNUSED_IMM;
    xv r;
    LANES(16, r.b[i] = (b->b[i] & 0x80) ? 0 : a->b[b->b[i] & 15]);
    *a = r;
}

/* horizontal pairs x, y: the destination's into the low half, the
 * source's into the high half */
#define HORIZ(name, lane, n, expr)                                                             \
    OP(name)                                                                                   \
    {                                                                                          \
        UNUSED_IMM;                                                                            \
        xv r;                                                                                  \
        for (unsigned i = 0; i < n; i++) {                                                     \
            const xv *s = i < n / 2 ? a : b;                                                   \
            int64_t x = s->lane[2 * (i % (n / 2))], y = s->lane[2 * (i % (n / 2)) + 1];        \
            r.lane[i] = (expr);                                                                \
        }                                                                                      \
        *a = r;                                                                                \
    }
HORIZ(phaddw, sw, 8, (int16_t)(x + y))
HORIZ(phaddd, sd, 4, (int32_t)(uint32_t)(x + y))
HORIZ(phaddsw, sw, 8, (int16_t)sat_s16((int)(x + y)))
HORIZ(phsubw, sw, 8, (int16_t)(x - y))
HORIZ(phsubd, sd, 4, (int32_t)(uint32_t)(x - y))
HORIZ(phsubsw, sw, 8, (int16_t)sat_s16((int)(x - y)))

/* unsigned bytes of a times signed bytes of b, pairs summed, saturated */
OP(pmaddubsw)
{
    UNUSED_IMM;
    xv r;
    LANES(8, r.sw[i] = (int16_t)sat_s16(a->b[2 * i] * b->sb[2 * i] + a->b[2 * i + 1] * b->sb[2 * i + 1]));
    *a = r;
}

/* the product's bits 30..15, rounded */
OP(pmulhrsw) { UNUSED_IMM; LANES(8, a->sw[i] = (int16_t)((((a->sw[i] * b->sw[i]) >> 14) + 1) >> 1)); }

#define PSIGN(name, lane, n, type)                                                             \
    OP(name) { UNUSED_IMM; LANES(n, a->lane[i] = b->lane[i] < 0 ? (type)(0u - (unsigned)a->lane[i]) : b->lane[i] ? a->lane[i] : 0); }
PSIGN(psignb, sb, 16, int8_t)
PSIGN(psignw, sw, 8, int16_t)
PSIGN(psignd, sd, 4, int32_t)

/* the absolute value of the source; the minimum stays as it is */
OP(pabsb) { UNUSED_IMM; LANES(16, a->b[i] = (uint8_t)(b->sb[i] < 0 ? -b->sb[i] : b->sb[i])); }
OP(pabsw) { UNUSED_IMM; LANES(8, a->w[i] = (uint16_t)(b->sw[i] < 0 ? -b->sw[i] : b->sw[i])); }
OP(pabsd) { UNUSED_IMM; LANES(4, a->d[i] = b->sd[i] < 0 ? 0u - (uint32_t)b->sd[i] : (uint32_t)b->sd[i]); }

/* the 32 bytes a:b (a high) shifted right by imm bytes, the low 16 kept */
OP(palignr)
{
    uint8_t t[32];
    xv r;
    memcpy(t, b->b, 16), memcpy(t + 16, a->b, 16);
    LANES(16, r.b[i] = i + imm < 32 ? t[i + imm] : 0);
    *a = r;
}

/* --------------------------------------------------------- handler table */

/* XF_ALIAS entries reuse another entry's handlers (andps is pand) */
#define HANDLERS_BIN(name) XOP_X(name) XOP_M(name, true)
#define HANDLERS_XF_BIN(name) HANDLERS_BIN(name)
#define HANDLERS_XF_IMM(name) HANDLERS_BIN(name)
#define HANDLERS_XF_SHIFT(name) HANDLERS_BIN(name) XOP_I(name)
#define HANDLERS_XF_SHIFTI(name) XOP_I(name)

#define HANDLERS_XF_ALIAS(name)
#define GEN(id, name, form) HANDLERS_##form(name)
XINT_OPS(GEN)
#if SOFTMMU_SSSE3
XSSSE3_OPS(GEN)
#endif
#undef GEN

#define ROW_XF_BIN(name) { name##_x, name##_m, NULL }
#define ROW_XF_IMM(name) { name##_x, name##_m, NULL }
#define ROW_XF_SHIFT(name) { name##_x, name##_m, name##_i }
#define ROW_XF_SHIFTI(name) { NULL, NULL, name##_i }
#define ROW_XF_ALIAS(name) ROW_XF_BIN(name)
#define ROW(id, name, form) [XI_##id] = ROW_##form(name),
#if SOFTMMU_SSSE3
static const exec_fn XINT[XI_N][3] = { XINT_OPS(ROW) XSSSE3_OPS(ROW) };
#else
static const exec_fn XINT[XI_N][3] = { XINT_OPS(ROW) };
#endif
#undef ROW

#define FORM(id, name, form) [XI_##id] = form,
static const uint8_t XINT_FORM[XI_N] = { XINT_OPS(FORM) XSSSE3_OPS(FORM) };
#undef FORM

/* xmm, xmm/m128 [, imm8] or, for the shifts, xmm, imm8 */
exec_fn dec_xint(view *v, dinsn *d, unsigned op)
{
    unsigned form = XINT_FORM[op], n = form == XF_IMM ? 3 : 2;
    if (v->n != n || !xmm_at(v, 0))
        return NULL;
    d->reg0 = v->op[0].slot, d->reg1 = v->op[1].slot;
    if (form == XF_IMM) {
        if (v->op[2].kind != OP_IMM)
            return NULL;
        d->imm = v->op[2].imm & 0xff;
    }
    if (v->op[1].kind == OP_IMM && (form == XF_SHIFT || form == XF_SHIFTI)) {
        d->imm = v->op[1].imm & 0xff;
        return XINT[op][2];
    }
    if (xmm_at(v, 1))
        return XINT[op][0];
    return mem_at(v, 1, 16) ? XINT[op][1] : NULL;
}
