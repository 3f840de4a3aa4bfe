/*
 * bench_snapshot.c - incremental restore:
 *   snapshot.restore  64 MiB mapped and touched, saved once; each step
 *                     dirties 10 pages with guest stores (not timed) and
 *                     restores (timed). The baseline is the naive restore:
 *                     mmu_write of all 64 MiB from a saved host copy.
 */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define SNAP_BASE 0x10000000u
#define DIRTY_PAGES 10

/* snapshots land separately: n/a until they link */
extern __typeof__(mmu_snapshot_save) mmu_snapshot_save __attribute__((weak));
extern __typeof__(mmu_snapshot_restore) mmu_snapshot_restore __attribute__((weak));
extern __typeof__(mmu_snapshot_free) mmu_snapshot_free __attribute__((weak));

typedef struct snap_ctx {
    mmu_t              *m;
    const mmu_snapshot *s;
    const uint8_t      *copy; /* the bytes at save time, for the naive way */
    uint64_t            size, rng;
    size_t              n_ops, n_ops_naive;
} snap_ctx;

static bool dirty(snap_ctx *c)
{
    for (int i = 0; i < DIRTY_PAGES; i++) {
        uint64_t page = bench_rand(&c->rng) % (c->size / PAGE);
        if (mmu_store_u64(c->m, SNAP_BASE + page * PAGE + 8 * (uint64_t)i, c->rng) != MMU_OK)
            return false;
    }
    return true;
}

static double mmu_restore(void *p)
{
    snap_ctx *c = p;
    double t = 0;
    for (size_t i = 0; i < c->n_ops; i++) {
        if (!dirty(c))
            return NAN;
        double t0 = bench_now_ns();
        mmu_err err = mmu_snapshot_restore(c->m, c->s);
        t += bench_now_ns() - t0;
        if (err)
            return NAN;
    }
    return t / 1e3 / (double)c->n_ops;
}

static double naive_restore(void *p)
{
    snap_ctx *c = p;
    double t = 0;
    for (size_t i = 0; i < c->n_ops_naive; i++) {
        if (!dirty(c))
            return NAN;
        double t0 = bench_now_ns();
        mmu_err err = mmu_write(c->m, SNAP_BASE, c->copy, c->size);
        t += bench_now_ns() - t0;
        if (err)
            return NAN;
    }
    return t / 1e3 / (double)c->n_ops_naive;
}

/* the last restore must give back the state at save time */
static void check_exact(snap_ctx *c, uint64_t digest_at_save)
{
    if (!dirty(c) || mmu_snapshot_restore(c->m, c->s) || mmu_digest(c->m) != digest_at_save)
        fprintf(stderr, "bench: snapshot.restore: the restored state differs from the saved one\n");
}

void bench_snapshot(void)
{
    char sz[24];
    bench_row r = { .name = "snapshot.restore", .unit = "us", .base_what = "naive", .peer = NAN,
                    .goal = GOAL_ABS_LE, .target = 10 };
    if (!bench_want(r.name))
        return;
    snap_ctx c = { .size = BENCH_SIZE(64 * MiB, 4 * MiB), .rng = BENCH_SEED, .n_ops = BENCH_SIZE(2000, 200),
                   .n_ops_naive = 3 };
    snprintf(r.desc, sizeof r.desc, "restore after %d dirty pages, %s mapped", DIRTY_PAGES,
             bench_size_str(c.size, sz));
    c.m = bench_mmu_filled(SNAP_BASE, c.size, 0);
    uint8_t *copy = bench_host_alloc(c.size);
    mmu_snapshot *s = NULL;
    bool ok = c.m && copy && !mmu_read(c.m, SNAP_BASE, copy, c.size);
    if (ok && mmu_snapshot_save && mmu_snapshot_restore && mmu_snapshot_save(c.m, &s) != MMU_OK)
        s = NULL;
    c.s = s, c.copy = copy;
    uint64_t digest = s ? mmu_digest(c.m) : 0;
    bench_job jobs[2] = { { s ? mmu_restore : NULL, &c }, { ok ? naive_restore : NULL, &c } };
    double out[2];
    bench_measure(jobs, 2, out);
    r.ours = out[0], r.base = out[1];
    if (s)
        check_exact(&c, digest);
    bench_emit(&r);
    if (s)
        mmu_snapshot_free(s);
    mmu_close(c.m);
    bench_host_free(copy, c.size);
}
