/*
 * strings.c - every string.h / memory function on lengths 0 to 300 at all
 * 16 source alignments (the destination alignment varies with it), with the
 * byte searched for at the start, middle, end and absent; the functions that
 * cost more per byte (strspn & co, case-insensitive compares, substrings,
 * strtok, wide characters) at one alignment per length, each in turn. A result pointer
 * is printed as an offset (-1 for NULL); each function gets one checksum of
 * its results and of the bytes it wrote, including the guard bytes around
 * the destination.
 */
#include "corpus.h"

#include <stdio.h>
#pragma GCC diagnostic ignored "-Wstringop-truncation" /* truncating is the point */
#include <stdlib.h>
#include <strings.h>
#include <wchar.h>

#define MAX_LEN 300
#define BUF (MAX_LEN + 64)

enum { F_MEMCPY, F_MEMMOVE_UP, F_MEMMOVE_DOWN, F_MEMSET, F_MEMCMP, F_MEMCHR, F_MEMRCHR, F_MEMCCPY,
       F_MEMPCPY, F_STRLEN, F_STRNLEN, F_STRCPY, F_STPCPY, F_STRNCPY, F_STRCAT, F_STRNCAT, F_STRCMP,
       F_STRNCMP, F_STRCASECMP, F_STRNCASECMP, F_STRCHR, F_STRRCHR, F_STRCHRNUL, F_STRSTR, F_MEMMEM,
       F_STRSPN, F_STRCSPN, F_STRPBRK, F_STRTOK, F_STRDUP, F_WCSLEN, F_WMEMCHR, F_WCSCHR, F_WCSCMP,
       F_WMEMSET, N_F };
static const char *const names[N_F] = {
    "memcpy", "memmove(up)", "memmove(down)", "memset", "memcmp", "memchr", "memrchr", "memccpy",
    "mempcpy", "strlen", "strnlen", "strcpy", "stpcpy", "strncpy", "strcat", "strncat", "strcmp",
    "strncmp", "strcasecmp", "strncasecmp", "strchr", "strrchr", "strchrnul", "strstr", "memmem",
    "strspn", "strcspn", "strpbrk", "strtok", "strdup", "wcslen", "wmemchr", "wcschr", "wcscmp", "wmemset",
};

static sum_t sums[N_F];
static unsigned char src_buf[BUF + 32] __attribute__((aligned(64)));
static unsigned char dst_buf[BUF + 48] __attribute__((aligned(64)));
static unsigned char ref_buf[BUF + 32] __attribute__((aligned(64)));

/* a cheap checksum: 8 bytes at a time */
static void mix_mem(int f, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t acc = n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        acc = (acc ^ w) * 0x9e3779b97f4a7c15ull;
    }
    for (; i < n; i++)
        acc = (acc ^ b[i]) * 0x100000001b3ull;
    sum_u64(&sums[f], acc);
}

static void mix(int f, int64_t v) { sum_u64(&sums[f], (uint64_t)v); }
static int64_t off(const void *p, const void *base) { return p ? (const char *)p - (const char *)base : -1; }

static char letters[1024]; /* random lower-case letters and digits */

/* src: len bytes of lower-case letters and digits, NUL at len */
static unsigned char *fill_src(rng_t *r, size_t align, size_t len)
{
    unsigned char *s = src_buf + align;
    memcpy(s, letters + rng_below(r, sizeof letters - MAX_LEN), len);
    s[len] = 0;
    return s;
}

static unsigned char *fresh_dst(size_t align)
{
    memset(dst_buf, 0x5a, sizeof dst_buf);
    return dst_buf + 16 + align; /* 16 guard bytes before it */
}

static void memory_fns(unsigned char *s, unsigned char *d, size_t len, size_t da)
{
    mix(F_MEMCPY, off(memcpy(d, s, len), d));
    mix_mem(F_MEMCPY, d - 8, len + 16);
    memcpy(ref_buf, s, len + 1);
    memmove(ref_buf + 3, ref_buf, len);
    mix_mem(F_MEMMOVE_UP, ref_buf, len + 3);
    d = fresh_dst(da);
    memcpy(d, s, len);
    mix(F_MEMMOVE_DOWN, off(memmove(d, d + (len > 5 ? 5 : len), len - (len > 5 ? 5 : len)), d));
    mix_mem(F_MEMMOVE_DOWN, d - 8, len + 16);
    d = fresh_dst(da);
    mix(F_MEMSET, off(memset(d, (int)len, len), d));
    mix_mem(F_MEMSET, d - 8, len + 16);
    d = fresh_dst(da);
    memcpy(d, s, len);
    mix(F_MEMCMP, memcmp(d, s, len));
    for (size_t k = 0; k < 3 && len; k++) {
        size_t at = k == 0 ? 0 : k == 1 ? len / 2 : len - 1;
        d[at] ^= 0x21;
        mix(F_MEMCMP, memcmp(d, s, len) > 0 ? 1 : memcmp(d, s, len) < 0 ? -1 : 0);
        mix(F_MEMCMP, memcmp(s, d, at) == 0);
        d[at] ^= 0x21;
    }
    d = fresh_dst(da);
    mix(F_MEMCCPY, off(memccpy(d, s, 'q', len), d));
    mix_mem(F_MEMCCPY, d - 8, len + 16);
    d = fresh_dst(da);
    mix(F_MEMPCPY, off(mempcpy(d, s, len), d));
    mix_mem(F_MEMPCPY, d - 8, len + 16);
}

static void search_fns(unsigned char *s, size_t len, int all)
{
    size_t pos[4] = { 0, len / 2, len ? len - 1 : 0, len };
    for (int k = 0; k < 4; k++) {
        unsigned char save = s[pos[k]];
        if (k < 3 && len)
            s[pos[k]] = '#';
        mix(F_MEMCHR, off(memchr(s, '#', len), s));
        mix(F_MEMRCHR, off(memrchr(s, '#', len), s));
        mix(F_STRCHR, off(strchr((char *)s, '#'), s));
        mix(F_STRRCHR, off(strrchr((char *)s, '#'), s));
        mix(F_STRCHRNUL, off(strchrnul((char *)s, '#'), s));
        if (all) {
            mix(F_STRPBRK, off(strpbrk((char *)s, "#!"), s));
            mix(F_STRCSPN, (int64_t)strcspn((char *)s, "#!"));
        }
        if (len)
            s[pos[k]] = save;
    }
    mix(F_STRCHR, off(strchr((char *)s, 0), s));
    mix(F_STRRCHR, off(strrchr((char *)s, 'a'), s));
    mix(F_MEMCHR, off(memchr(s, 'z', len), s));
    mix(F_MEMRCHR, off(memrchr(s, 'z', len), s));
    mix(F_STRLEN, (int64_t)strlen((char *)s));
    mix(F_STRNLEN, (int64_t)strnlen((char *)s, len / 2));
    mix(F_STRNLEN, (int64_t)strnlen((char *)s, len + 10));
    if (!all)
        return;
    mix(F_STRSPN, (int64_t)strspn((char *)s, "abcdefghijklm0123"));
    mix(F_STRSPN, (int64_t)strspn((char *)s, "abcdefghijklmnopqrstuvwxyz0123456789"));
    mix(F_STRCSPN, (int64_t)strcspn((char *)s, "9"));
    mix(F_STRPBRK, off(strpbrk((char *)s, "xyz"), s));
}

static void copy_fns(unsigned char *s, unsigned char *d, size_t len, size_t da)
{
    mix(F_STRCPY, off(strcpy((char *)d, (char *)s), d));
    mix_mem(F_STRCPY, d - 8, len + 16);
    d = fresh_dst(da);
    mix(F_STPCPY, off(stpcpy((char *)d, (char *)s), d));
    mix_mem(F_STPCPY, d - 8, len + 16);
    d = fresh_dst(da);
    mix(F_STRNCPY, off(strncpy((char *)d, (char *)s, len / 2), d));
    mix(F_STRNCPY, off(strncpy((char *)d + 1, (char *)s, len + 20), d));
    mix_mem(F_STRNCPY, d - 8, len + 40);
    d = fresh_dst(da);
    strcpy((char *)d, "0123456789");
    mix(F_STRCAT, off(strcat((char *)d, (char *)s + len / 3), d));
    mix_mem(F_STRCAT, d - 8, len + 26);
    d = fresh_dst(da);
    strcpy((char *)d, "xyz");
    mix(F_STRNCAT, off(strncat((char *)d, (char *)s, len / 2), d));
    mix_mem(F_STRNCAT, d - 8, len / 2 + 20);
    char *dup = strdup((char *)s);
    mix(F_STRDUP, (int64_t)strlen(dup));
    mix_mem(F_STRDUP, dup, len + 1);
    free(dup);
    dup = strndup((char *)s, len / 2);
    mix(F_STRDUP, (int64_t)strlen(dup));
    free(dup);
}

static int sgn(int v) { return (v > 0) - (v < 0); }

static void compare_fns(unsigned char *s, unsigned char *d, size_t len, int all)
{
    strcpy((char *)d, (char *)s);
    mix(F_STRCMP, sgn(strcmp((char *)d, (char *)s)));
    mix(F_STRNCMP, sgn(strncmp((char *)d, (char *)s, len + 5)));
    if (all)
        mix(F_STRCASECMP, sgn(strcasecmp((char *)d, (char *)s)));
    for (size_t i = 0; i < len; i += all ? 1 + len / 7 : 1 + len / 2) {
        unsigned char save = d[i];
        d[i] = (unsigned char)(save ^ 0x20); /* case flips letters, changes digits */
        mix(F_STRCMP, sgn(strcmp((char *)d, (char *)s)));
        mix(F_STRNCMP, sgn(strncmp((char *)d, (char *)s, i)));
        mix(F_STRNCMP, sgn(strncmp((char *)d, (char *)s, i + 1)));
        if (all) {
            mix(F_STRCASECMP, sgn(strcasecmp((char *)d, (char *)s)));
            mix(F_STRNCASECMP, sgn(strncasecmp((char *)d, (char *)s, len - i)));
        }
        d[i] = 0;
        mix(F_STRCMP, sgn(strcmp((char *)d, (char *)s)));
        d[i] = save;
    }
}

static void substring_fns(unsigned char *s, size_t len, rng_t *r)
{
    for (int k = 0; k < 3; k++) {
        size_t nl = k == 0 ? 1 : k == 1 ? 3 : 17;
        if (nl > len) {
            mix(F_STRSTR, off(strstr((char *)s, "ab"), s));
            continue;
        }
        size_t at = rng_below(r, len - nl + 1);
        char needle[32];
        memcpy(needle, s + at, nl);
        needle[nl] = 0;
        mix(F_STRSTR, off(strstr((char *)s, needle), s));
        mix(F_MEMMEM, off(memmem(s, len, needle, nl), s));
        needle[nl - 1] = '#';
        mix(F_STRSTR, off(strstr((char *)s, needle), s));
        mix(F_MEMMEM, off(memmem(s, len, needle, nl), s));
    }
    mix(F_STRSTR, off(strstr((char *)s, ""), s));
}

static void strtok_fn(unsigned char *s, size_t len)
{
    char *copy = malloc(len + 1), *save, *t;
    memcpy(copy, s, len + 1);
    for (t = strtok(copy, "aeiou5"); t; t = strtok(NULL, "aeiou5"))
        mix(F_STRTOK, off(t, copy) << 16 | (int64_t)strlen(t));
    memcpy(copy, s, len + 1);
    for (t = strtok_r(copy, "xyz", &save); t; t = strtok_r(NULL, "0123456789", &save))
        mix(F_STRTOK, off(t, copy));
    free(copy);
}

static void wide_fns(rng_t *r, size_t len, size_t align)
{
    static wchar_t w[MAX_LEN / 4 + 24], w2[MAX_LEN / 4 + 24];
    size_t n = len / 4, a = align % 4;
    uint64_t seed = rng_next(r);
    for (size_t i = 0; i < n; i++)
        w[a + i] = (wchar_t)(0x41 + (seed >> (i % 48) & 0x3fff));
    w[a + n] = 0;
    mix(F_WCSLEN, (int64_t)wcslen(w + a));
    mix(F_WMEMCHR, off(wmemchr(w + a, w[a + n / 2], n), w + a));
    mix(F_WMEMCHR, off(wmemchr(w + a, 0x7000, n), w + a));
    mix(F_WCSCHR, off(wcschr(w + a, n ? w[a + n - 1] : 1), w + a));
    wmemcpy(w2, w + a, n + 1);
    mix(F_WCSCMP, sgn(wcscmp(w2, w + a)));
    if (n) {
        w2[n / 3] += 1;
        mix(F_WCSCMP, sgn(wcscmp(w2, w + a)));
    }
    mix(F_WMEMSET, off(wmemset(w2 + a, (wchar_t)len, n), w2 + a));
    mix_mem(F_WMEMSET, w2, sizeof w2);
}

int main(void)
{
    rng_t r = { 300 };
    for (size_t i = 0; i < sizeof src_buf; i++)
        src_buf[i] = (unsigned char)(0x80 | rng_next(&r)); /* high bytes around the strings */
    for (size_t i = 0; i < sizeof letters; i++)
        letters[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rng_below(&r, 36)];
    for (int f = 0; f < N_F; f++)
        sums[f] = (sum_t)SUM_INIT;
    for (size_t len = 0; len <= MAX_LEN; len++) {
        for (size_t align = 0; align < 16; align++) {
            size_t da = (align * 7 + 3) % 16;
            unsigned char *s = fill_src(&r, align, len);
            memory_fns(s, fresh_dst(da), len, da);
            /* the slower functions at one alignment per length, in turn */
            int all = align == len % 16;
            search_fns(s, len, all);
            copy_fns(s, fresh_dst(da), len, da);
            compare_fns(s, fresh_dst(da), len, all);
            if (all) {
                substring_fns(s, len, &r);
                strtok_fn(s, len);
                wide_fns(&r, len, align);
            }
        }
    }
    for (int f = 0; f < N_F; f++)
        printf("%-14s %016llx\n", names[f], (unsigned long long)sums[f].h);
    return 0;
}
