/*
 * bench_snapshot.c - incremental restore:
 *   snapshot.restore  64 MiB mapped and touched, saved once; each step
 *                     dirties 10 pages with guest stores (not timed) and
 *                     restores (timed). The baseline is the naive restore:
 *                     mmu_write of all 64 MiB from a saved host copy.
 *   snapshot.restore.hot  the same with the same 10 pages every time (a
 *                     fuzzing loop dirtying one stack and a few globals):
 *                     the saved copies stay in the cache
 *   snapshot.cow      the other half of the loop: the first guest store to
 *                     a page after a restore (copy-on-write, tracking),
 *                     against the same stores into an MMU with no snapshot
 */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define SNAP_BASE 0x10000000u
#define DIRTY_PAGES 10

typedef struct snap_ctx {
    mmu_t              *m;
    const mmu_snapshot *s;
    const uint8_t      *copy; /* the bytes at save time, for the naive way */
    uint64_t            size, rng;
    size_t              n_ops, n_ops_naive;
    bool                same; /* dirty the same pages every time */
} snap_ctx;

/* guest stores to DIRTY_PAGES random pages (or the same ones each time) */
static bool dirty(snap_ctx *c)
{
    uint64_t same_rng = BENCH_SEED;
    for (int i = 0; i < DIRTY_PAGES; i++) {
        uint64_t page = bench_rand(c->same ? &same_rng : &c->rng) % (c->size / MMU_PAGE_SIZE);
        if (mmu_store_u64(c->m, SNAP_BASE + page * MMU_PAGE_SIZE + 8 * (uint64_t)i, c->rng) != MMU_OK)
            return false;
    }
    return true;
}

static double mmu_restore(void *p)
{
    snap_ctx *c = p;
    double t = 0;
    if (mmu_snapshot_restore(c->m, c->s)) /* not timed: undo the naive job's writes */
        return NAN;
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

/* us per page dirtied by dirty(), right after a restore */
static double mmu_cow(void *p)
{
    snap_ctx *c = p;
    double t = 0;
    for (size_t i = 0; i < c->n_ops; i++) {
        if (mmu_snapshot_restore(c->m, c->s))
            return NAN;
        double t0 = bench_now_ns();
        if (!dirty(c))
            return NAN;
        t += bench_now_ns() - t0;
    }
    return t / 1e3 / (double)(c->n_ops * DIRTY_PAGES);
}

/* the same stores into an MMU without a snapshot (c->m is that MMU) */
static double plain_stores(void *p)
{
    snap_ctx *c = p;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_ops; i++)
        if (!dirty(c))
            return NAN;
    return (bench_now_ns() - t0) / 1e3 / (double)(c->n_ops * DIRTY_PAGES);
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

static void restore_row(snap_ctx *c, bool same)
{
    char sz[24];
    bench_row r = { .name = same ? "snapshot.restore.hot" : "snapshot.restore", .unit = "us",
                    .base_what = "naive", .peer = NAN, .goal = GOAL_ABS_LE, .target = 10 };
    if (!bench_want(r.name))
        return;
    snprintf(r.desc, sizeof r.desc, "restore after %d %s dirty pages, %s", DIRTY_PAGES, same ? "hot" : "random",
             bench_size_str(c->size, sz));
    c->same = same;
    bench_job jobs[2] = { { c->s ? mmu_restore : NULL, c }, { c->copy ? naive_restore : NULL, c } };
    double out[2];
    bench_measure(jobs, 2, out);
    r.ours = out[0], r.base = out[1];
    bench_emit(&r);
    c->same = false;
}

static void cow_row(snap_ctx *c)
{
    bench_row r = { .name = "snapshot.cow", .unit = "us", .base_what = "no snapshot", .peer = NAN };
    if (!bench_want(r.name))
        return;
    snprintf(r.desc, sizeof r.desc, "first 8-byte store to a page after restore");
    snap_ctx plain = *c;
    plain.m = bench_mmu_filled(SNAP_BASE, c->size, 0);
    bench_job jobs[2] = { { c->s ? mmu_cow : NULL, c }, { plain.m ? plain_stores : NULL, &plain } };
    double out[2];
    bench_measure(jobs, 2, out);
    r.ours = out[0], r.base = out[1];
    bench_emit(&r);
    mmu_close(plain.m);
}

void bench_snapshot(void)
{
    if (!bench_want("snapshot.restore") && !bench_want("snapshot.restore.hot") && !bench_want("snapshot.cow"))
        return;
    snap_ctx c = { .size = BENCH_SIZE(64 * MiB, 4 * MiB), .rng = BENCH_SEED, .n_ops = BENCH_SIZE(2000, 200),
                   .n_ops_naive = 3 };
    c.m = bench_mmu_filled(SNAP_BASE, c.size, 0);
    uint8_t *copy = bench_host_alloc(c.size);
    mmu_snapshot *s = NULL;
    bool ok = c.m && copy && !mmu_read(c.m, SNAP_BASE, copy, c.size);
    if (ok && mmu_snapshot_save(c.m, &s) != MMU_OK)
        s = NULL;
    c.s = s, c.copy = ok ? copy : NULL;
    uint64_t digest = s ? mmu_digest(c.m) : 0;
    restore_row(&c, false);
    restore_row(&c, true);
    cow_row(&c);
    if (s)
        check_exact(&c, digest);
    mmu_snapshot_free(s);
    mmu_close(c.m);
    bench_host_free(copy, c.size);
}
