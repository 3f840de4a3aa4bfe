/*
 * bench_tlb.c - guest loads and stores through the inline TLB fast path,
 * against the same host loads and stores done natively:
 *   load.rand.hot    random 8-byte loads over 64 pages (TLB-resident)
 *   load.rand.wide   random 8-byte loads over 64 MiB (mostly TLB misses)
 *   seq.{load,store}.uN  sequential accesses over 16 MiB
 *   bulk.{read,write}    mmu_read/mmu_write of 16 MiB against memcpy
 *   tlb.miss, tlb.walk+fill  a load that misses against the same load hitting
 * Native loops load through volatile pointers: one host access per guest
 * access, which the compiler may neither vectorise nor drop.
 */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUEST_BASE 0x10000000u

/* random loads: the same offsets for every engine */
typedef struct rand_ctx {
    bench_loads     l; /* first: bench_loads_mmu takes the context */
    const uint8_t  *host;
    size_t          n_peer; /* Unicorn is slow: fewer loads, same per-op figure */
#ifdef HAVE_UNICORN
    uc_engine *uc;
#endif
} rand_ctx;

double bench_loads_mmu(void *p)
{
    const bench_loads *c = p;
    mmu_t *m = c->m; /* locals: the stores of the fast path may alias *c */
    const uint32_t *off = c->off;
    uint64_t base = c->base, sum = 0;
    size_t n = c->n;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        if (mmu_load_u64(m, base + off[i], &v) != MMU_OK)
            return NAN;
        sum += v;
    }
    double t = bench_now_ns() - t0;
    bench_sink += sum;
    return t / (double)n;
}

static double native_rand(void *p)
{
    const rand_ctx *c = p;
    const uint8_t *host = c->host;
    const uint32_t *off = c->l.off;
    uint64_t sum = 0;
    size_t n = c->l.n;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        sum += *(const volatile uint64_t *)(host + off[i]);
    double t = bench_now_ns() - t0;
    bench_sink += sum;
    return t / (double)n;
}

#ifdef HAVE_UNICORN
static double uc_rand(void *p)
{
    const rand_ctx *c = p;
    uint64_t sum = 0;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_peer; i++) {
        uint64_t v;
        if (uc_mem_read(c->uc, c->l.base + c->l.off[i], &v, 8) != UC_ERR_OK)
            return NAN;
        sum += v;
    }
    double t = bench_now_ns() - t0;
    bench_sink += sum;
    return t / (double)c->n_peer;
}
#endif

uint32_t *bench_rand_offsets(size_t n, uint64_t span)
{
    uint32_t *off = malloc(n * sizeof *off);
    uint64_t rng = BENCH_SEED;
    for (size_t i = 0; off && i < n; i++)
        off[i] = (uint32_t)(bench_rand(&rng) % span) & ~7u;
    return off;
}

/* peer job: Unicorn over the same memory, when built in */
static bench_job peer_job(rand_ctx *c, uint64_t span)
{
#ifdef HAVE_UNICORN
    c->uc = bench_uc_filled(c->l.base, span);
    return (bench_job){ c->uc ? uc_rand : NULL, c };
#else
    (void)c, (void)span;
    return (bench_job){ NULL, NULL };
#endif
}

static void peer_close(rand_ctx *c)
{
#ifdef HAVE_UNICORN
    if (c->uc)
        uc_close(c->uc);
#else
    (void)c;
#endif
}

/* one random-load row over span bytes; tlb 0 = the library's default TLB */
static void rand_row(const char *name, uint64_t span, unsigned tlb, double target)
{
    char sz[24];
    bench_row r = { .name = name, .unit = "ns", .base_what = "native", .goal = target ? GOAL_RATIO_LE : GOAL_NONE,
                    .target = target };
    int len = snprintf(r.desc, sizeof r.desc, "8-byte loads, random, %s", bench_size_str(span, sz));
    if (tlb)
        snprintf(r.desc + len, sizeof r.desc - (size_t)len, ", %u-entry TLB", tlb);
    rand_ctx c = { .l = { .base = GUEST_BASE, .n = BENCH_SIZE(1u << 22, 1u << 16) } };
    c.n_peer = c.l.n < (1u << 18) ? c.l.n : (1u << 18);
    c.l.off = bench_rand_offsets(c.l.n, span);
    c.l.m = bench_mmu_filled(GUEST_BASE, span, tlb);
    uint8_t *host = bench_host_alloc(span);
    if (host && c.l.m)
        mmu_read(c.l.m, GUEST_BASE, host, span); /* the same bytes, every page touched */
    c.host = host;
    bool ok = c.l.off && c.l.m && host;
    bench_job jobs[3] = { { ok ? bench_loads_mmu : NULL, &c }, { ok ? native_rand : NULL, &c },
                          peer_job(&c, span) };
    bench_measure_emit(&r, jobs);
    peer_close(&c);
    mmu_close(c.l.m);
    bench_host_free(host, span);
    free((void *)c.l.off);
}

/* ------------------------------------------------------ sequential */

typedef struct seq_ctx {
    mmu_t   *m;
    uint8_t *host;
    uint64_t base, size, size_peer;
#ifdef HAVE_UNICORN
    uc_engine *uc;
#endif
} seq_ctx;

#define SEQ_FNS(bits)                                                                  \
    static double mmu_load##bits(void *p)                                              \
    {                                                                                  \
        const seq_ctx *c = p;                                                          \
        mmu_t *m = c->m;                                                               \
        uint64_t base = c->base, n = c->size / (bits / 8), sum = 0;                    \
        double t0 = bench_now_ns();                                                    \
        for (uint64_t i = 0; i < n; i++) {                                             \
            uint##bits##_t v;                                                          \
            if (mmu_load_u##bits(m, base + i * (bits / 8), &v) != MMU_OK)              \
                return NAN;                                                            \
            sum += v;                                                                  \
        }                                                                              \
        double t = bench_now_ns() - t0;                                                \
        bench_sink += sum;                                                             \
        return t / (double)n;                                                          \
    }                                                                                  \
    static double native_load##bits(void *p)                                           \
    {                                                                                  \
        const seq_ctx *c = p;                                                          \
        const volatile uint##bits##_t *h = (const volatile uint##bits##_t *)c->host;   \
        uint64_t n = c->size / (bits / 8), sum = 0;                                    \
        double t0 = bench_now_ns();                                                    \
        for (uint64_t i = 0; i < n; i++)                                               \
            sum += h[i];                                                               \
        double t = bench_now_ns() - t0;                                                \
        bench_sink += sum;                                                             \
        return t / (double)n;                                                          \
    }                                                                                  \
    static double mmu_store##bits(void *p)                                             \
    {                                                                                  \
        const seq_ctx *c = p;                                                          \
        mmu_t *m = c->m;                                                               \
        uint64_t base = c->base, n = c->size / (bits / 8);                             \
        double t0 = bench_now_ns();                                                    \
        for (uint64_t i = 0; i < n; i++)                                               \
            if (mmu_store_u##bits(m, base + i * (bits / 8), (uint##bits##_t)i) != MMU_OK) \
                return NAN;                                                            \
        return (bench_now_ns() - t0) / (double)n;                                      \
    }                                                                                  \
    static double native_store##bits(void *p)                                          \
    {                                                                                  \
        const seq_ctx *c = p;                                                          \
        volatile uint##bits##_t *h = (volatile uint##bits##_t *)c->host;               \
        uint64_t n = c->size / (bits / 8);                                             \
        double t0 = bench_now_ns();                                                    \
        for (uint64_t i = 0; i < n; i++)                                               \
            h[i] = (uint##bits##_t)i;                                                  \
        return (bench_now_ns() - t0) / (double)n;                                      \
    }                                                                                  \
    SEQ_UC_FNS(bits)

#ifdef HAVE_UNICORN
#define SEQ_UC_FNS(bits)                                                               \
    static double uc_load##bits(void *p)                                               \
    {                                                                                  \
        const seq_ctx *c = p;                                                          \
        uint64_t n = c->size_peer / (bits / 8), sum = 0;                               \
        double t0 = bench_now_ns();                                                    \
        for (uint64_t i = 0; i < n; i++) {                                             \
            uint##bits##_t v;                                                          \
            if (uc_mem_read(c->uc, c->base + i * (bits / 8), &v, sizeof v))            \
                return NAN;                                                            \
            sum += v;                                                                  \
        }                                                                              \
        double t = bench_now_ns() - t0;                                                \
        bench_sink += sum;                                                             \
        return t / (double)n;                                                          \
    }                                                                                  \
    static double uc_store##bits(void *p)                                              \
    {                                                                                  \
        const seq_ctx *c = p;                                                          \
        uint64_t n = c->size_peer / (bits / 8);                                        \
        double t0 = bench_now_ns();                                                    \
        for (uint64_t i = 0; i < n; i++) {                                             \
            uint##bits##_t v = (uint##bits##_t)i;                                      \
            if (uc_mem_write(c->uc, c->base + i * (bits / 8), &v, sizeof v))           \
                return NAN;                                                            \
        }                                                                              \
        return (bench_now_ns() - t0) / (double)n;                                      \
    }
#define UC_SEQ(kind, bits) kind##bits
#else
#define SEQ_UC_FNS(bits)
#define UC_SEQ(kind, bits) NULL
#endif

SEQ_FNS(8)
SEQ_FNS(16)
SEQ_FNS(32)
SEQ_FNS(64)

typedef struct seq_kind {
    const char *name;
    unsigned    bytes;
    bool        store;
    bench_fn    ours, native, peer;
} seq_kind;

static const seq_kind seq_kinds[] = {
    { "seq.load.u8", 1, false, mmu_load8, native_load8, UC_SEQ(uc_load, 8) },
    { "seq.load.u16", 2, false, mmu_load16, native_load16, UC_SEQ(uc_load, 16) },
    { "seq.load.u32", 4, false, mmu_load32, native_load32, UC_SEQ(uc_load, 32) },
    { "seq.load.u64", 8, false, mmu_load64, native_load64, UC_SEQ(uc_load, 64) },
    { "seq.store.u8", 1, true, mmu_store8, native_store8, UC_SEQ(uc_store, 8) },
    { "seq.store.u16", 2, true, mmu_store16, native_store16, UC_SEQ(uc_store, 16) },
    { "seq.store.u32", 4, true, mmu_store32, native_store32, UC_SEQ(uc_store, 32) },
    { "seq.store.u64", 8, true, mmu_store64, native_store64, UC_SEQ(uc_store, 64) },
};
#define N_SEQ (sizeof seq_kinds / sizeof seq_kinds[0])

static bool any_wanted(const seq_kind *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bench_want(k[i].name))
            return true;
    return false;
}

static void seq_row(seq_ctx *c, const seq_kind *k)
{
    char sz[24];
    bench_row r = { .name = k->name, .unit = "ns", .base_what = "native", .goal = GOAL_RATIO_LE, .target = 1.5 };
    snprintf(r.desc, sizeof r.desc, "%u-byte %s, sequential, %s", k->bytes, k->store ? "stores" : "loads",
             bench_size_str(c->size, sz));
    bool peer = false;
#ifdef HAVE_UNICORN
    peer = c->uc != NULL;
#endif
    bench_job jobs[3] = { { c->m ? k->ours : NULL, c }, { c->host ? k->native : NULL, c },
                          { peer ? k->peer : NULL, c } };
    bench_measure_emit(&r, jobs);
}

static void seq_rows(void)
{
    if (!any_wanted(seq_kinds, N_SEQ))
        return;
    seq_ctx c = { .base = GUEST_BASE, .size = BENCH_SIZE(16 * MiB, 1 * MiB) };
    c.size_peer = c.size < MiB ? c.size : MiB;
    c.m = bench_mmu_filled(c.base, c.size, 0);
    c.host = bench_host_alloc(c.size);
    if (c.host && c.m)
        mmu_read(c.m, c.base, c.host, c.size);
#ifdef HAVE_UNICORN
    c.uc = bench_uc_filled(c.base, c.size_peer);
#endif
    for (size_t i = 0; i < N_SEQ; i++)
        if (bench_want(seq_kinds[i].name))
            seq_row(&c, &seq_kinds[i]);
#ifdef HAVE_UNICORN
    if (c.uc)
        uc_close(c.uc);
#endif
    mmu_close(c.m);
    bench_host_free(c.host, c.size);
}

/* ------------------------------------------------------------ bulk */

typedef struct bulk_ctx {
    mmu_t   *m;
    uint8_t *host, *buf;
    uint64_t base, size;
#ifdef HAVE_UNICORN
    uc_engine *uc;
#endif
} bulk_ctx;

/* GB/s = bytes per ns */
static double gbs(const bulk_ctx *c, double t0)
{
    bench_sink += c->buf[c->size / 2];
    return (double)c->size / (bench_now_ns() - t0);
}

static double mmu_bulk_read(void *p)
{
    bulk_ctx *c = p;
    double t0 = bench_now_ns();
    return mmu_read(c->m, c->base, c->buf, c->size) ? NAN : gbs(c, t0);
}

static double mmu_bulk_write(void *p)
{
    bulk_ctx *c = p;
    double t0 = bench_now_ns();
    return mmu_write(c->m, c->base, c->buf, c->size) ? NAN : gbs(c, t0);
}

static double memcpy_read(void *p)
{
    bulk_ctx *c = p;
    double t0 = bench_now_ns();
    memcpy(c->buf, c->host, c->size);
    return gbs(c, t0);
}

static double memcpy_write(void *p)
{
    bulk_ctx *c = p;
    double t0 = bench_now_ns();
    memcpy(c->host, c->buf, c->size);
    return gbs(c, t0);
}

#ifdef HAVE_UNICORN
static double uc_bulk_read(void *p)
{
    bulk_ctx *c = p;
    double t0 = bench_now_ns();
    return uc_mem_read(c->uc, c->base, c->buf, c->size) ? NAN : gbs(c, t0);
}

static double uc_bulk_write(void *p)
{
    bulk_ctx *c = p;
    double t0 = bench_now_ns();
    return uc_mem_write(c->uc, c->base, c->buf, c->size) ? NAN : gbs(c, t0);
}
#endif

static void bulk_row(bulk_ctx *c, bool write)
{
    char sz[24];
    bench_row r = { .name = write ? "bulk.write" : "bulk.read", .unit = "GB/s", .base_what = "memcpy",
                    .goal = GOAL_RATIO_GE, .target = 0.9 };
    if (!bench_want(r.name))
        return;
    snprintf(r.desc, sizeof r.desc, "%s of %s in one call", write ? "mmu_write" : "mmu_read",
             bench_size_str(c->size, sz));
    bench_job jobs[3] = { { write ? mmu_bulk_write : mmu_bulk_read, c }, { write ? memcpy_write : memcpy_read, c },
                          { NULL, c } };
#ifdef HAVE_UNICORN
    if (c->uc)
        jobs[2].fn = write ? uc_bulk_write : uc_bulk_read;
#endif
    bench_measure_emit(&r, jobs);
}

static void bulk_rows(void)
{
    if (!bench_want("bulk.read") && !bench_want("bulk.write"))
        return;
    bulk_ctx c = { .base = GUEST_BASE, .size = BENCH_SIZE(16 * MiB, 1 * MiB) };
    c.m = bench_mmu_filled(c.base, c.size, 0);
    c.host = bench_host_alloc(c.size);
    c.buf = bench_host_alloc(c.size);
    if (c.m && c.host && c.buf) {
        mmu_read(c.m, c.base, c.host, c.size);
        memcpy(c.buf, c.host, c.size);
#ifdef HAVE_UNICORN
        c.uc = bench_uc_filled(c.base, c.size);
#endif
        bulk_row(&c, false);
        bulk_row(&c, true);
    }
#ifdef HAVE_UNICORN
    if (c.uc)
        uc_close(c.uc);
#endif
    mmu_close(c.m);
    bench_host_free(c.host, c.size);
    bench_host_free(c.buf, c.size);
}

/* ------------------------------------------------------- TLB misses */

/* Loads visiting pages in one fixed shuffled cycle: between two visits of a
 * page every other page is loaded, so with 4x more pages than TLB entries
 * each load evicts and misses. The baseline is the same loads, same host
 * memory, through an MMU whose TLB holds every page. */
static uint32_t *miss_offsets(size_t n, uint32_t pages)
{
    uint32_t *perm = malloc(pages * sizeof *perm), *off = malloc(n * sizeof *off);
    uint64_t rng = BENCH_SEED;
    if (!perm || !off) {
        free(perm), free(off);
        return NULL;
    }
    for (uint32_t i = 0; i < pages; i++)
        perm[i] = i;
    for (uint32_t i = pages - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(bench_rand(&rng) % (i + 1)), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        off[i] = perm[i % pages] * MMU_PAGE_SIZE + ((uint32_t)bench_rand(&rng) & 0xff8);
    free(perm);
    return off;
}

static void miss_emit(const char *names[2], double miss, double hit, unsigned tlb, uint32_t pages)
{
    bench_row r = { .name = names[0], .unit = "ns", .base_what = "all hits", .ours = miss, .base = hit,
                    .peer = NAN };
    snprintf(r.desc, sizeof r.desc, "8-byte load, %u-entry TLB, %u pages", tlb, pages);
    if (bench_want(r.name))
        bench_emit(&r);
    bench_row d = { .name = names[1], .unit = "ns", .ours = miss - hit, .base = NAN, .peer = NAN };
    snprintf(d.desc, sizeof d.desc, "miss cost: %s minus all hits", names[0]);
    if (bench_want(d.name))
        bench_emit(&d);
}

static uint64_t tlb_misses(const mmu_t *m)
{
    mmu_stats st;
    mmu_get_stats(m, &st);
    return st.tlb_misses;
}

/* the row means nothing unless (nearly) every load missed */
static void check_all_missed(const char *name, uint64_t misses, uint64_t loads)
{
    if (misses < loads * 99 / 100)
        fprintf(stderr, "bench: %s: only %" PRIu64 " of %" PRIu64 " loads missed\n", name, misses, loads);
}

static void miss_rows(unsigned tlb, const char *miss_name, const char *cost_name)
{
    const char *names[2] = { miss_name, cost_name };
    if (!bench_want(miss_name) && !bench_want(cost_name))
        return;
    uint32_t pages = 4 * tlb;
    bench_loads miss = { .base = GUEST_BASE, .n = BENCH_SIZE(1u << 20, 1u << 13) };
    miss.off = miss_offsets(miss.n, pages);
    miss.m = bench_mmu_filled(GUEST_BASE, (uint64_t)pages * MMU_PAGE_SIZE, tlb);
    bench_loads hit = miss;
    hit.m = bench_mmu_filled(GUEST_BASE, (uint64_t)pages * MMU_PAGE_SIZE, pages);
    bool ok = miss.off && miss.m && hit.m;
    bench_job jobs[2] = { { ok ? bench_loads_mmu : NULL, &miss }, { ok ? bench_loads_mmu : NULL, &hit } };
    double out[2];
    uint64_t misses = ok ? tlb_misses(miss.m) : 0;
    bench_measure(jobs, 2, out);
    if (ok)
        check_all_missed(miss_name, tlb_misses(miss.m) - misses, (uint64_t)miss.n * (uint64_t)(bench.reps + 1));
    miss_emit(names, out[0], out[1], tlb, pages);
    mmu_close(miss.m);
    mmu_close(hit.m);
    free((void *)miss.off);
}

/* --------------------------------------------------------------- group */

void bench_tlb(void)
{
    uint64_t wide = BENCH_SIZE(64 * MiB, 4 * MiB);
    if (bench_want("load.rand.hot"))
        rand_row("load.rand.hot", 64 * MMU_PAGE_SIZE, 0, 1.3);
    if (bench_want("load.rand.wide"))
        rand_row("load.rand.wide", wide, 0, 2.0);
    /* what a TLB covering every page would give (the largest allowed) */
    if (bench_want("load.rand.bigtlb"))
        rand_row("load.rand.bigtlb", wide, (unsigned)(wide / MMU_PAGE_SIZE < 65536 ? wide / MMU_PAGE_SIZE : 65536), 0);
    seq_rows();
    bulk_rows();
    miss_rows(BENCH_SIZE(1024, 64), "tlb.miss", "tlb.walk+fill");
    miss_rows(BENCH_SIZE(64, 16), "tlb.miss.cached", "tlb.walk+fill.cached");
}
