/*
 * bench_search.c - searching guest memory in place, against glibc memmem
 * over a host copy of the same bytes:
 *   search.literal  a 16-byte literal that does not occur, over 64 MiB
 *   search.pattern  the same needle as a YARA hex pattern with a wildcard
 */
#define _GNU_SOURCE /* memmem */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define SEARCH_BASE 0x10000000u

static const char needle[] = "softmmu-needle!?"; /* 16 bytes, absent from the random fill */
#define NEEDLE_HEX "73 6f 66 74 6d 6d 75 2d 6e 65 65 64 ?? 65 21 3f"

typedef struct search_ctx {
    mmu_t             *m;
    const uint8_t     *host;
    uint64_t           size;
    const mmu_pattern *pat;
} search_ctx;

static double run_literal(void *p)
{
    const search_ctx *c = p;
    size_t count = 1;
    double t0 = bench_now_ns();
    mmu_err err = mmu_search(c->m, needle, sizeof needle - 1, 0, 0, 0, NULL, 0, &count);
    double t = bench_now_ns() - t0;
    if (err || count) {
        fprintf(stderr, "bench: mmu_search: %s, %zu matches\n", mmu_strerror(err), count);
        return NAN;
    }
    return (double)c->size / t;
}

static double run_pattern(void *p)
{
    const search_ctx *c = p;
    size_t count = 1;
    double t0 = bench_now_ns();
    mmu_err err = mmu_search_pattern(c->m, c->pat, 0, 0, 0, NULL, 0, &count);
    double t = bench_now_ns() - t0;
    if (err || count) {
        fprintf(stderr, "bench: mmu_search_pattern: %s, %zu matches\n", mmu_strerror(err), count);
        return NAN;
    }
    return (double)c->size / t;
}

static double host_memmem(void *p)
{
    const search_ctx *c = p;
    double t0 = bench_now_ns();
    const void *hit = memmem(c->host, c->size, needle, sizeof needle - 1);
    double t = bench_now_ns() - t0;
    bench_sink += (uintptr_t)hit;
    return hit ? NAN : (double)c->size / t;
}

static void search_row(search_ctx *c, bool pattern)
{
    char sz[24];
    bench_row r = { .name = pattern ? "search.pattern" : "search.literal", .unit = "GB/s", .base_what = "memmem",
                    .peer = NAN, .goal = pattern ? GOAL_NONE : GOAL_RATIO_GE, .target = 0.8 };
    if (!bench_want(r.name))
        return;
    snprintf(r.desc, sizeof r.desc, "%s, no match, %s", pattern ? "hex pattern with ??" : "16-byte literal",
             bench_size_str(c->size, sz));
    bool have = !pattern || c->pat;
    bench_job jobs[2] = { { have ? (pattern ? run_pattern : run_literal) : NULL, c }, { host_memmem, c } };
    double out[2];
    bench_measure(jobs, 2, out);
    r.ours = out[0], r.base = out[1];
    bench_emit(&r);
}

void bench_search(void)
{
    if (!bench_want("search.literal") && !bench_want("search.pattern"))
        return;
    search_ctx c = { .size = BENCH_SIZE(64 * MiB, 4 * MiB) };
    c.m = bench_mmu_filled(SEARCH_BASE, c.size, 0);
    uint8_t *host = bench_host_alloc(c.size);
    mmu_pattern *pat = NULL;
    if (c.m && host && !mmu_read(c.m, SEARCH_BASE, host, c.size)) {
        c.host = host;
        if (mmu_pattern_compile(NEEDLE_HEX, &pat) == MMU_OK)
            c.pat = pat;
        search_row(&c, false);
        search_row(&c, true);
    }
    mmu_pattern_free(pat);
    mmu_close(c.m);
    bench_host_free(host, c.size);
}
