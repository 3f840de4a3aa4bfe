/*
 * sort_search.c - qsort and bsearch on ints, doubles, strings and structs,
 * of sizes 0 to 5000 including sorted, reversed and all-equal inputs;
 * checks order and prints a checksum of every sorted array.
 */
#include "corpus.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct { int key; unsigned seq; char pad[9]; } rec_t; /* odd size: the generic swap */

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int cmp_rec(const void *a, const void *b)
{
    const rec_t *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int sorted_ok(const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    const char *p = base;
    for (size_t i = 1; i < n; i++)
        if (cmp(p + (i - 1) * size, p + i * size) > 0)
            return 0;
    return 1;
}

static void ints(rng_t *r, size_t n, int shape)
{
    int *a = malloc((n + 1) * sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = shape == 0 ? (int)rng_next(r) : shape == 1 ? (int)i : shape == 2 ? (int)(n - i) : 7;
    qsort(a, n, sizeof *a, cmp_int);
    int found = 0;
    for (size_t i = 0; i < n; i += 3) {
        int key = a[i];
        found += bsearch(&key, a, n, sizeof *a, cmp_int) != NULL;
        key = a[i] + 1;
        found += bsearch(&key, a, n, sizeof *a, cmp_int) != NULL;
    }
    sum_t s = SUM_INIT;
    sum_bytes(&s, a, n * sizeof *a);
    printf("ints n=%zu shape=%d sorted=%d found=%d sum=%016llx\n", n, shape, sorted_ok(a, n, sizeof *a, cmp_int),
           found, (unsigned long long)s.h);
    free(a);
}

static void others(rng_t *r, size_t n)
{
    double *d = malloc((n + 1) * sizeof *d);
    char **s = malloc((n + 1) * sizeof *s);
    rec_t *rec = malloc((n + 1) * sizeof *rec);
    for (size_t i = 0; i < n; i++) {
        d[i] = (double)(int64_t)rng_next(r) / 7.0;
        s[i] = malloc(16);
        snprintf(s[i], 16, "k%llx", (unsigned long long)(rng_next(r) % 100000));
        rec[i] = (rec_t){ (int)rng_below(r, 50), (unsigned)i, "abcdefgh" };
    }
    qsort(d, n, sizeof *d, cmp_double);
    qsort(s, n, sizeof *s, cmp_str);
    qsort(rec, n, sizeof *rec, cmp_rec);
    sum_t h = SUM_INIT;
    sum_bytes(&h, d, n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        sum_bytes(&h, s[i], strlen(s[i]));
    for (size_t i = 0; i < n; i++)
        sum_u64(&h, (uint64_t)rec[i].key << 32 | rec[i].seq);
    const char *probe = "k1a";
    printf("mixed n=%zu sorted=%d%d%d probe=%d sum=%016llx\n", n, sorted_ok(d, n, sizeof *d, cmp_double),
           sorted_ok(s, n, sizeof *s, cmp_str), sorted_ok(rec, n, sizeof *rec, cmp_rec),
           bsearch(&probe, s, n, sizeof *s, cmp_str) != NULL, (unsigned long long)h.h);
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(d);
    free(s);
    free(rec);
}

int main(void)
{
    rng_t r = { 99 };
    static const size_t sizes[] = { 0, 1, 2, 3, 7, 16, 100, 1000, 5000 };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        for (int shape = 0; shape < 4; shape++)
            ints(&r, sizes[i], shape);
        others(&r, sizes[i]);
    }
    return 0;
}
