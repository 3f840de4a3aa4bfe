/*
 * corpus.h - helpers shared by the corpus programs: a fixed pseudo-random
 * generator (the same numbers on every run and every libc) and an FNV-1a
 * checksum, so a program can print one line for a large amount of work.
 * Nothing printed may depend on addresses, times or pids.
 */
#ifndef CORPUS_H
#define CORPUS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct { uint64_t s; } rng_t;

/* splitmix64 */
static inline uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rng_below(rng_t *r, uint64_t n) { return rng_next(r) % n; }

typedef struct { uint64_t h; } sum_t;

#define SUM_INIT { 0xcbf29ce484222325ull }

static inline void sum_bytes(sum_t *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        s->h = (s->h ^ b[i]) * 0x100000001b3ull;
}

static inline void sum_u64(sum_t *s, uint64_t v)
{
    s->h = (s->h ^ v) * 0x100000001b3ull;
    s->h ^= s->h >> 29;
}

static inline void sum_double(sum_t *s, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    sum_u64(s, u);
}

/* an opaque value: the compiler cannot fold what it computes */
static inline double opaque(double d)
{
    __asm__ volatile("" : "+m"(d));
    return d;
}

#endif
