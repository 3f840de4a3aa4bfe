/*
 * hash.c - integer kernels: SHA-256 (FIPS 180-4 test vectors and a 1 MiB
 * message), CRC-32 (table and bitwise, must agree), Adler-32, and an LZ77
 * compressor with a hash chain whose output must decompress to its input.
 */
#include "corpus.h"

#include <stdio.h>
#include <stdlib.h>

/* --- SHA-256 ----------------------------------------------------------- */
typedef struct { uint32_t h[8]; uint64_t len; unsigned char buf[64]; size_t n; } sha256_t;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n) { return x >> n | x << (32 - n); }

static void sha_block(sha256_t *s, const unsigned char *p)
{
    uint32_t w[64], a[8];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++)
        w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3) + w[i - 7] +
               (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10);
    memcpy(a, s->h, sizeof a);
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = a[7] + (ror(a[4], 6) ^ ror(a[4], 11) ^ ror(a[4], 25)) + ((a[4] & a[5]) ^ (~a[4] & a[6])) + K[i] + w[i];
        uint32_t t2 = (ror(a[0], 2) ^ ror(a[0], 13) ^ ror(a[0], 22)) + ((a[0] & a[1]) ^ (a[0] & a[2]) ^ (a[1] & a[2]));
        memmove(a + 1, a, 7 * sizeof *a);
        a[4] += t1;
        a[0] = t1 + t2;
    }
    for (int i = 0; i < 8; i++)
        s->h[i] += a[i];
}

static void sha_init(sha256_t *s)
{
    static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memcpy(s->h, h0, sizeof h0);
    s->len = 0;
    s->n = 0;
}

static void sha_update(sha256_t *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->len += n;
    while (n) {
        size_t k = 64 - s->n < n ? 64 - s->n : n;
        memcpy(s->buf + s->n, p, k);
        s->n += k, p += k, n -= k;
        if (s->n == 64) {
            sha_block(s, s->buf);
            s->n = 0;
        }
    }
}

static void sha_final(sha256_t *s, char hex[65])
{
    uint64_t bits = s->len * 8;
    unsigned char pad = 0x80, zero = 0, len[8];
    sha_update(s, &pad, 1);
    while (s->n != 56)
        sha_update(s, &zero, 1);
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha_update(s, len, 8);
    for (int i = 0; i < 8; i++)
        sprintf(hex + 8 * i, "%08x", s->h[i]);
}

static void sha256_hex(const void *p, size_t n, char hex[65])
{
    sha256_t s;
    sha_init(&s);
    sha_update(&s, p, n);
    sha_final(&s, hex);
}

/* --- CRC-32, Adler-32 -------------------------------------------------- */
static uint32_t crc_table[256];

static uint32_t crc32_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffff;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c >> 1 ^ (0xedb88320 & -(c & 1));
    }
    return ~c;
}

static uint32_t crc32_table(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffff;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ c >> 8;
    return ~c;
}

static uint32_t adler32(const unsigned char *p, size_t n)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

/* --- LZ77: literal runs and (distance, length) matches ------------------ */
#define WIN 32768
#define MIN_MATCH 4
#define HASH_BITS 14

static size_t lz_compress(const unsigned char *in, size_t n, unsigned char *out)
{
    static int32_t head[1 << HASH_BITS], prev[WIN];
    size_t o = 0, lit_start = 0, i = 0;
    for (size_t k = 0; k < (1u << HASH_BITS); k++)
        head[k] = -1;
    while (i < n) {
        size_t best = 0, best_d = 0;
        if (i + MIN_MATCH <= n) {
            uint32_t h = ((uint32_t)in[i] << 16 ^ (uint32_t)in[i + 1] << 8 ^ in[i + 2] ^ (uint32_t)in[i + 3] << 4) * 2654435761u >> (32 - HASH_BITS);
            int32_t cand = head[h];
            for (int chain = 0; cand >= 0 && i - (size_t)cand < WIN && chain < 16; chain++) {
                size_t l = 0;
                while (i + l < n && l < 258 && in[cand + l] == in[i + l])
                    l++;
                if (l > best)
                    best = l, best_d = i - (size_t)cand;
                cand = prev[cand % WIN];
            }
            prev[i % WIN] = head[h];
            head[h] = (int32_t)i;
        }
        if (best >= MIN_MATCH || i + 1 == n || i - lit_start == 127) {
            size_t lits = i - lit_start + (best < MIN_MATCH);
            if (lits) { /* a literal run: count, bytes */
                out[o++] = (unsigned char)lits;
                memcpy(out + o, in + lit_start, lits);
                o += lits;
            }
            if (best >= MIN_MATCH) { /* a match: 0x80|len-4 (7 bits), distance (2 bytes) */
                out[o++] = (unsigned char)(0x80 | (best - MIN_MATCH > 127 ? 127 : best - MIN_MATCH));
                if (best - MIN_MATCH > 127)
                    best = 127 + MIN_MATCH;
                out[o++] = (unsigned char)best_d, out[o++] = (unsigned char)(best_d >> 8);
                i += best;
            } else {
                i++;
            }
            lit_start = i;
        } else {
            i++;
        }
    }
    return o;
}

static size_t lz_decompress(const unsigned char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = in[i++];
        if (c & 0x80) {
            size_t len = (c & 0x7f) + MIN_MATCH, d = in[i] | (size_t)in[i + 1] << 8;
            i += 2;
            for (size_t k = 0; k < len; k++, o++) /* may overlap: byte by byte */
                out[o] = out[o - d];
        } else {
            memcpy(out + o, in + i, c);
            o += c, i += c;
        }
    }
    return o;
}

int main(void)
{
    static const char *const vectors[] = { "", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" };
    char hex[65];
    for (int i = 0; i < 3; i++) {
        sha256_hex(vectors[i], strlen(vectors[i]), hex);
        printf("sha256(\"%s\") = %s\n", vectors[i], hex);
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c >> 1 ^ (0xedb88320 & -(c & 1));
        crc_table[i] = c;
    }
    printf("crc32(\"123456789\") = %08x adler32 = %08x\n", crc32_table((const unsigned char *)"123456789", 9),
           adler32((const unsigned char *)"123456789", 9));

    /* 256 KiB of text-like data: words from a small vocabulary, some noise */
    size_t n = 1 << 18;
    unsigned char *data = malloc(n), *packed = malloc(n + n / 64 + 16), *back = malloc(n);
    static const char *const words[] = { "the ", "softmmu ", "page ", "table ", "walks ", "a ", "TLB ", "miss, ",
                                         "then ", "hits. ", "\n", "x86-64 ", "interpreter ", "runs ", "glibc " };
    rng_t r = { 1 };
    for (size_t i = 0; i < n;) {
        uint64_t v = rng_next(&r);
        const char *w = words[v % 15];
        size_t l = strlen(w);
        if (v >> 60 == 0) /* noise */
            w = (const char *)&v, l = 8;
        for (size_t k = 0; k < l && i < n; k++)
            data[i++] = (unsigned char)w[k];
    }
    sha256_hex(data, n, hex);
    printf("256 KiB: sha256 %s crc32 %08x adler32 %08x\n", hex, crc32_table(data, n), adler32(data, n));
    printf("crc32 bitwise agrees on 64 KiB: %d\n", crc32_bitwise(data, 65536) == crc32_table(data, 65536));
    size_t pn = lz_compress(data, n, packed);
    size_t bn = lz_decompress(packed, pn, back);
    sha256_hex(packed, pn, hex);
    printf("lz77: %zu -> %zu bytes, sha256 %s, round trip %s\n", n, pn, hex,
           bn == n && memcmp(back, data, n) == 0 ? "ok" : "BROKEN");
    free(data);
    free(packed);
    free(back);
    return 0;
}
