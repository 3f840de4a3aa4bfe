/*
 * bench_map.c - map changes with many regions, against the kernel doing the
 * same to host memory:
 *   map.N           map + unmap of one page in a gap among N one-page regions
 *                   (baseline: mmap + munmap of one host page)
 *   ffs.N           find_free_space of one page from a random gap among the
 *                   N regions of map.N (the next gap fits)
 *   ffs.align.N     find_free_space of one page, 1 GiB aligned, from the first
 *                   region: every gap is one page and every 1 GiB boundary
 *                   among the regions is mapped, so only the space after the
 *                   last region fits (first fit that looked at every gap
 *                   would be O(N))
 *   ffs.big.N       find_free_space of two pages: no gap fits, same answer
 *   meta.N          metadata bytes per region (mmu_stats.meta_bytes), next
 *                   to the process RSS growth per region (page table
 *                   included) while the N regions were mapped
 *   protect.split   protect a different page of a 64 MiB mapping each time:
 *                   every call splits (baseline: mprotect, same pattern)
 *   protect.toggle  protect one page read-only and back, per call
 * Unicorn aborts near 4,000 regions, so its column stops at 1k.
 */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAP_BASE 0x100000000u
#define PEER_MAX_REGIONS 1000 /* Unicorn 2.0.1 aborts around 4,000 */
#define RW (MMU_PROT_READ | MMU_PROT_WRITE)

/* random picks below n, fixed seed */
static uint32_t *picks(size_t count, uint32_t n)
{
    uint32_t *v = malloc(count * sizeof *v);
    uint64_t rng = BENCH_SEED ^ n;
    for (size_t i = 0; v && i < count; i++)
        v[i] = (uint32_t)(bench_rand(&rng) % n);
    return v;
}

/* a permutation of 0..n-1 */
static uint32_t *shuffled(uint32_t n)
{
    uint32_t *v = malloc(n * sizeof *v);
    uint64_t rng = BENCH_SEED;
    if (!v)
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        v[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(bench_rand(&rng) % (i + 1)), t = v[i];
        v[i] = v[j], v[j] = t;
    }
    return v;
}

/* ------------------------------------------------------------ map+unmap */

typedef struct map_ctx {
    mmu_t          *m;
    const uint32_t *gap; /* gap index per op: page MAP_BASE + (2 gap + 1) pages */
    size_t          n_ops, n_ops_peer;
#ifdef HAVE_UNICORN
    uc_engine *uc;
#endif
} map_ctx;

static uint64_t gap_addr(const map_ctx *c, size_t i)
{
    return MAP_BASE + (2 * (uint64_t)c->gap[i] + 1) * MMU_PAGE_SIZE;
}

static double mmu_map_unmap(void *p)
{
    const map_ctx *c = p;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_ops; i++) {
        uint64_t a = gap_addr(c, i);
        if (mmu_map(c->m, a, MMU_PAGE_SIZE, RW, NULL) || mmu_unmap(c->m, a, MMU_PAGE_SIZE))
            return NAN;
    }
    return (bench_now_ns() - t0) / 1e3 / (double)c->n_ops;
}

static double host_map_unmap(void *p)
{
    const map_ctx *c = p;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_ops; i++) {
        void *h = mmap(NULL, MMU_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (h == MAP_FAILED || munmap(h, MMU_PAGE_SIZE))
            return NAN;
    }
    return (bench_now_ns() - t0) / 1e3 / (double)c->n_ops;
}

#ifdef HAVE_UNICORN
static double uc_map_unmap(void *p)
{
    const map_ctx *c = p;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_ops_peer; i++) {
        uint64_t a = gap_addr(c, i);
        if (uc_mem_map(c->uc, a, MMU_PAGE_SIZE, UC_PROT_READ | UC_PROT_WRITE) || uc_mem_unmap(c->uc, a, MMU_PAGE_SIZE))
            return NAN;
    }
    return (bench_now_ns() - t0) / 1e3 / (double)c->n_ops_peer;
}

static bench_job uc_regions(map_ctx *c, uint32_t n)
{
    if (n > PEER_MAX_REGIONS || uc_open(UC_ARCH_X86, UC_MODE_64, &c->uc))
        return (bench_job){ NULL, c };
    for (uint32_t i = 0; i < n; i++)
        if (uc_mem_map(c->uc, MAP_BASE + 2 * (uint64_t)i * MMU_PAGE_SIZE, MMU_PAGE_SIZE, UC_PROT_READ | UC_PROT_WRITE))
            return (bench_job){ NULL, c };
    return (bench_job){ uc_map_unmap, c };
}
#endif

/* an MMU holding n disjoint one-page regions, one free page between each */
static mmu_t *mmu_regions_open(uint32_t n)
{
    mmu_t *m;
    if (mmu_open(NULL, &m))
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        mmu_err err = mmu_map(m, MAP_BASE + 2 * (uint64_t)i * MMU_PAGE_SIZE, MMU_PAGE_SIZE, RW, NULL);
        if (err) {
            fprintf(stderr, "bench: map.%u: region %u: %s\n", n, i, mmu_strerror(err));
            mmu_close(m);
            return NULL;
        }
    }
    return m;
}

static const char *count_str(uint32_t n, char buf[16])
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(buf, 16, "%uM", n / 1000000);
    else if (n >= 1000 && n % 1000 == 0)
        snprintf(buf, 16, "%uk", n / 1000);
    else
        snprintf(buf, 16, "%u", n);
    return buf;
}

/* ------------------------------------------------------ find_free_space */

#define FFS_SCAN_OPS 300 /* few: an O(N) first fit would take 10 ms each at 1M */

typedef struct ffs_ctx {
    const map_ctx *c;
    uint64_t       size, align;
    bool           from_gap; /* start at a random gap, else at the first region */
    uint64_t       want;     /* the answer from the first region */
} ffs_ctx;

static double mmu_ffs(void *p)
{
    const ffs_ctx *f = p;
    size_t n = f->from_gap ? f->c->n_ops : FFS_SCAN_OPS;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = f->from_gap ? gap_addr(f->c, i) : MAP_BASE, a;
        if (mmu_find_free_space(f->c->m, f->size, lo, 0, f->align, &a) || a != (f->from_gap ? lo : f->want))
            return NAN;
    }
    return (bench_now_ns() - t0) / 1e3 / (double)n;
}

static void ffs_row(const map_ctx *c, const char *what, const char *cnt, uint64_t size, uint64_t align,
                    bool from_gap, uint64_t want, const char *desc)
{
    char name[32];
    snprintf(name, sizeof name, "ffs.%s%s", what, cnt);
    if (!bench_want(name))
        return;
    bench_row r = { .name = name, .unit = "us", .base = NAN, .peer = NAN, .goal = GOAL_ABS_LE, .target = 2 };
    snprintf(r.desc, sizeof r.desc, "%s among %s regions", desc, cnt);
    ffs_ctx f = { c, size, align, from_gap, want };
    bench_job jobs[3] = { { c->m ? mmu_ffs : NULL, &f }, { NULL, NULL }, { NULL, NULL } };
    bench_measure_emit(&r, jobs);
}

static uint64_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    if (f)
        fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void meta_row(const map_ctx *c, const char *cnt, uint32_t n, uint64_t meta0, uint64_t rss_growth)
{
    char name[32];
    snprintf(name, sizeof name, "meta.%s", cnt);
    if (!bench_want(name) || !c->m)
        return;
    mmu_stats s;
    mmu_get_stats(c->m, &s);
    /* the target is per region at a million; a handful of regions carry the fixed costs */
    bench_row r = { .name = name, .unit = "B", .base_what = "RSS", .peer = NAN,
                    .goal = n >= 1000000 ? GOAL_ABS_LE : GOAL_NONE, .target = 96 };
    snprintf(r.desc, sizeof r.desc, "metadata per region among %s regions", cnt);
    r.ours = (double)(s.meta_bytes - meta0) / n;
    r.base = (double)rss_growth / n;
    bench_emit(&r);
}

/* the rows that need the MMU of map.N */
static void extra_rows(const map_ctx *c, const char *cnt, uint32_t n, uint64_t meta0, uint64_t rss_growth)
{
    uint64_t after = MAP_BASE + (2 * (uint64_t)n - 1) * MMU_PAGE_SIZE, giga = 1ull << 30;
    ffs_row(c, "", cnt, MMU_PAGE_SIZE, 0, true, 0, "find_free_space 1 page from a gap");
    ffs_row(c, "align.", cnt, MMU_PAGE_SIZE, giga, false, (after + giga - 1) & ~(giga - 1),
            "find_free_space 1 page 1 GiB-aligned");
    ffs_row(c, "big.", cnt, 2 * MMU_PAGE_SIZE, 0, false, after, "find_free_space 2 pages (no gap fits)");
    meta_row(c, cnt, n, meta0, rss_growth);
}

static bool want_any(const char *cnt)
{
    static const char *const kinds[] = { "map.", "ffs.", "ffs.align.", "ffs.big.", "meta." };
    char name[32];
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        snprintf(name, sizeof name, "%s%s", kinds[i], cnt);
        if (bench_want(name))
            return true;
    }
    return false;
}

static void map_row(uint32_t n)
{
    char cnt[16], name[32];
    snprintf(name, sizeof name, "map.%s", count_str(n, cnt));
    if (!want_any(cnt))
        return;
    bench_row r = { .name = name, .unit = "us", .base_what = "mmap+munmap", .goal = GOAL_ABS_LE, .target = 2 };
    snprintf(r.desc, sizeof r.desc, "map+unmap 1 page among %s regions", cnt);
    map_ctx c = { .n_ops = BENCH_SIZE(20000, 500), .n_ops_peer = BENCH_SIZE(50, 10) };
    c.gap = picks(c.n_ops, n);
    mmu_stats s0 = { 0 };
    mmu_t *empty;
    if (mmu_open(NULL, &empty) == MMU_OK) {
        mmu_get_stats(empty, &s0);
        mmu_close(empty);
    }
    uint64_t rss0 = rss_bytes();
    c.m = mmu_regions_open(n);
    uint64_t rss1 = rss_bytes();
    extra_rows(&c, cnt, n, s0.meta_bytes, rss1 > rss0 ? rss1 - rss0 : 0);
    if (!bench_want(name)) {
        mmu_close(c.m);
        free((void *)c.gap);
        return;
    }
    bench_job jobs[3] = { { c.m && c.gap ? mmu_map_unmap : NULL, &c }, { host_map_unmap, &c }, { NULL, &c } };
#ifdef HAVE_UNICORN
    if (c.gap)
        jobs[2] = uc_regions(&c, n);
#endif
    bench_measure_emit(&r, jobs);
#ifdef HAVE_UNICORN
    if (c.uc)
        uc_close(c.uc);
#endif
    mmu_close(c.m);
    free((void *)c.gap);
}

/* -------------------------------------------------------------- protect */

typedef struct prot_ctx {
    mmu_t          *m;
    uint8_t        *host; /* the native mapping */
    uint64_t        size;
    const uint32_t *page; /* distinct pages, shuffled */
    size_t          n_ops, n_ops_peer;
#ifdef HAVE_UNICORN
    uc_engine *uc;
#endif
} prot_ctx;

/* a fresh, fully touched mapping: the previous repetition's splits are gone */
static bool mmu_fresh(prot_ctx *c)
{
    static const uint8_t ones[64 * 1024] = { 1 };
    mmu_unmap_all(c->m);
    if (mmu_map(c->m, MAP_BASE, c->size, RW, "big"))
        return false;
    for (uint64_t off = 0; off < c->size; off += sizeof ones)
        if (mmu_write(c->m, MAP_BASE + off, ones, sizeof ones))
            return false;
    return true;
}

static double mmu_split(void *p)
{
    prot_ctx *c = p;
    if (!mmu_fresh(c))
        return NAN;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_ops; i++)
        if (mmu_protect(c->m, MAP_BASE + (uint64_t)c->page[i] * MMU_PAGE_SIZE, MMU_PAGE_SIZE, MMU_PROT_READ))
            return NAN;
    return (bench_now_ns() - t0) / 1e3 / (double)c->n_ops;
}

static bool host_fresh(prot_ctx *c)
{
    bench_host_free(c->host, c->size);
    c->host = bench_host_alloc(c->size);
    for (uint64_t off = 0; c->host && off < c->size; off += MMU_PAGE_SIZE)
        c->host[off] = 1;
    return c->host != NULL;
}

static double host_split(void *p)
{
    prot_ctx *c = p;
    if (!host_fresh(c))
        return NAN;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_ops; i++)
        if (mprotect(c->host + (uint64_t)c->page[i] * MMU_PAGE_SIZE, MMU_PAGE_SIZE, PROT_READ))
            return NAN;
    return (bench_now_ns() - t0) / 1e3 / (double)c->n_ops;
}

/* read-only and back: a split the first time, then a perms change */
static double mmu_toggle(void *p)
{
    prot_ctx *c = p;
    uint64_t a = MAP_BASE + (uint64_t)c->page[0] * MMU_PAGE_SIZE;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_ops; i++)
        if (mmu_protect(c->m, a, MMU_PAGE_SIZE, i % 2 ? RW : MMU_PROT_READ))
            return NAN;
    return (bench_now_ns() - t0) / 1e3 / (double)c->n_ops;
}

static double host_toggle(void *p)
{
    prot_ctx *c = p;
    uint8_t *a = c->host + (uint64_t)c->page[0] * MMU_PAGE_SIZE;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_ops; i++)
        if (mprotect(a, MMU_PAGE_SIZE, i % 2 ? PROT_READ | PROT_WRITE : PROT_READ))
            return NAN;
    return (bench_now_ns() - t0) / 1e3 / (double)c->n_ops;
}

#ifdef HAVE_UNICORN
static bool uc_fresh(prot_ctx *c)
{
    if (c->uc)
        uc_close(c->uc);
    c->uc = bench_uc_filled(MAP_BASE, c->size);
    return c->uc != NULL;
}

static double uc_split(void *p)
{
    prot_ctx *c = p;
    if (!uc_fresh(c))
        return NAN;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_ops_peer; i++)
        if (uc_mem_protect(c->uc, MAP_BASE + (uint64_t)c->page[i] * MMU_PAGE_SIZE, MMU_PAGE_SIZE, UC_PROT_READ))
            return NAN;
    return (bench_now_ns() - t0) / 1e3 / (double)c->n_ops_peer;
}

static double uc_toggle(void *p)
{
    prot_ctx *c = p;
    uint64_t a = MAP_BASE + (uint64_t)c->page[0] * MMU_PAGE_SIZE;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n_ops_peer; i++)
        if (uc_mem_protect(c->uc, a, MMU_PAGE_SIZE, i % 2 ? UC_PROT_READ | UC_PROT_WRITE : UC_PROT_READ))
            return NAN;
    return (bench_now_ns() - t0) / 1e3 / (double)c->n_ops_peer;
}
#endif

static void prot_row(prot_ctx *c, bool split)
{
    char sz[24];
    bench_row r = { .name = split ? "protect.split" : "protect.toggle", .unit = "us", .base_what = "mprotect",
                    .goal = GOAL_ABS_LE, .target = 2 };
    if (!bench_want(r.name))
        return;
    snprintf(r.desc, sizeof r.desc, split ? "protect a new page of %s: splits" : "protect 1 page of %s r, rw, ...",
             bench_size_str(c->size, sz));
    bench_job jobs[3] = { { split ? mmu_split : mmu_toggle, c }, { split ? host_split : host_toggle, c },
                          { NULL, c } };
#ifdef HAVE_UNICORN
    jobs[2].fn = split ? uc_split : uc_toggle;
#endif
    bench_measure_emit(&r, jobs);
}

static void prot_rows(void)
{
    if (!bench_want("protect.split") && !bench_want("protect.toggle"))
        return;
    prot_ctx c = { .size = BENCH_SIZE(64 * MiB, 4 * MiB), .n_ops = BENCH_SIZE(2000, 200), .n_ops_peer = 3 };
    c.page = shuffled((uint32_t)(c.size / MMU_PAGE_SIZE));
    if (!c.page || mmu_open(NULL, &c.m)) {
        free((void *)c.page);
        return;
    }
    prot_row(&c, true);
    c.n_ops = BENCH_SIZE(20000, 1000), c.n_ops_peer = BENCH_SIZE(50, 10);
    bool fresh = mmu_fresh(&c) && host_fresh(&c);
#ifdef HAVE_UNICORN
    fresh = fresh && uc_fresh(&c);
#endif
    if (fresh)
        prot_row(&c, false);
#ifdef HAVE_UNICORN
    if (c.uc)
        uc_close(c.uc);
#endif
    mmu_close(c.m);
    bench_host_free(c.host, c.size);
    free((void *)c.page);
}

/* ------------------------------------------------------- huge ranges */

#define HUGE_BASE ((uint64_t)1 << 40)

typedef struct huge_ctx {
    uint64_t size;    /* the huge range */
    unsigned touched; /* pages written before the unmap */
    int      n_ops;
} huge_ctx;

/* us per map+unmap of size bytes, with `touched` pages written between */
static double huge_map_unmap(void *ctx)
{
    huge_ctx *c = ctx;
    mmu_t *m;
    if (mmu_open(NULL, &m))
        return NAN;
    double t0 = bench_now_ns();
    for (int i = 0; i < c->n_ops; i++) {
        if (mmu_map(m, HUGE_BASE, c->size, MMU_PROT_READ | MMU_PROT_WRITE, NULL))
            return mmu_close(m), NAN;
        for (unsigned k = 0; k < c->touched; k++)
            if (mmu_store_u64(m, HUGE_BASE + (c->size / c->touched) * k, k))
                return mmu_close(m), NAN;
        if (mmu_unmap(m, HUGE_BASE, c->size))
            return mmu_close(m), NAN;
    }
    double dt = (bench_now_ns() - t0) / c->n_ops / 1e3;
    mmu_close(m);
    return dt;
}

/* us per protect of one page inside a mapped huge range, toggling */
static double huge_protect(void *ctx)
{
    huge_ctx *c = ctx;
    mmu_t *m;
    if (mmu_open(NULL, &m))
        return NAN;
    if (mmu_map(m, HUGE_BASE, c->size, MMU_PROT_READ | MMU_PROT_WRITE, NULL))
        return mmu_close(m), NAN;
    double t0 = bench_now_ns();
    for (int i = 0; i < c->n_ops; i++)
        if (mmu_protect(m, HUGE_BASE + c->size / 2, MMU_PAGE_SIZE, i & 1 ? MMU_PROT_ALL : MMU_PROT_READ))
            return mmu_close(m), NAN;
    double dt = (bench_now_ns() - t0) / c->n_ops / 1e3;
    mmu_close(m);
    return dt;
}

static void huge_rows(void)
{
    uint64_t tib = (uint64_t)1 << 40;
    huge_ctx one = { MMU_PAGE_SIZE, 0, 2000 }, big = { tib, 0, 2000 }, touched = { tib, 16, 200 },
             prot = { tib, 0, 2000 };
    if (bench_want("map.huge")) {
        bench_row r = { .name = "map.huge", .unit = "us", .base_what = "1 page", .goal = GOAL_RATIO_LE, .target = 10 };
        snprintf(r.desc, sizeof r.desc, "map+unmap 1 TiB vs one page");
        bench_job jobs[3] = { { huge_map_unmap, &big }, { huge_map_unmap, &one }, { NULL, NULL } };
        bench_measure_emit(&r, jobs);
    }
    if (bench_want("map.huge.rss")) {
        /* resident growth while 1 TiB is mapped and nothing is touched */
        mmu_t *m = NULL;
        double before = (double)rss_bytes(), after = NAN;
        if (!mmu_open(NULL, &m) && !mmu_map(m, HUGE_BASE, tib, MMU_PROT_READ, NULL))
            after = (double)rss_bytes();
        mmu_close(m);
        bench_row r = { .name = "map.huge.rss", .unit = "KiB", .ours = (after - before) / 1024, .base = NAN,
                        .peer = NAN, .goal = GOAL_ABS_LE, .target = 1024 };
        snprintf(r.desc, sizeof r.desc, "RSS growth mapping 1 TiB, untouched");
        bench_emit(&r);
    }
    if (bench_want("unmap.huge")) {
        bench_row r = { .name = "unmap.huge", .unit = "us", .base = NAN, .peer = NAN, .goal = GOAL_ABS_LE,
                        .target = 10000 };
        snprintf(r.desc, sizeof r.desc, "map+unmap 1 TiB, 16 pages touched");
        bench_job jobs[3] = { { huge_map_unmap, &touched }, { NULL, NULL }, { NULL, NULL } };
        bench_measure_emit(&r, jobs);
    }
    if (bench_want("protect.huge")) {
        bench_row r = { .name = "protect.huge", .unit = "us", .base = NAN, .peer = NAN, .goal = GOAL_ABS_LE,
                        .target = 1000 };
        snprintf(r.desc, sizeof r.desc, "protect 1 page inside 1 TiB");
        bench_job jobs[3] = { { huge_protect, &prot }, { NULL, NULL }, { NULL, NULL } };
        bench_measure_emit(&r, jobs);
    }
}

/* --------------------------------------------------------------- group */

void bench_map(void)
{
    static const uint32_t full[] = { 10, 1000, 10000, 1000000 }, quick[] = { 10, 1000, 10000 };
    const uint32_t *n = bench.quick ? quick : full;
    for (size_t i = 0; i < (bench.quick ? 3u : 4u); i++)
        map_row(n[i]);
    huge_rows();
    prot_rows();
}
