/*
 * bench_hooks.c - what hooks cost:
 *   hook.other.page  random 8-byte loads over 64 pages while a read hook
 *                    watches some other page, against no hooks at all
 *   fault.demand     demand paging: each load hits a fresh unmapped page and
 *                    a fault hook maps it; against the kernel demand-paging
 *                    fresh host pages. Unicorn's peer runs a guest loop of
 *                    loads (its fault hooks fire only for guest code).
 */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HOOK_BASE 0x10000000u
#define FAULT_BASE 0x200000000u

/* ------------------------------------------------------ hook elsewhere */

static bool count_read(mmu_t *m, const mmu_mem_event *ev, void *user)
{
    (void)m, (void)ev;
    ++*(uint64_t *)user;
    return false;
}

static void hook_row(void)
{
    bench_row r = { .name = "hook.other.page", .unit = "ns", .base_what = "no hooks", .peer = NAN,
                    .goal = GOAL_RATIO_LE, .target = 1.10 };
    if (!bench_want(r.name))
        return;
    snprintf(r.desc, sizeof r.desc, "8-byte loads, 64 pages, read hook elsewhere");
    uint64_t calls = 0, far_page = HOOK_BASE + 1024 * MMU_PAGE_SIZE;
    bench_loads plain = { .base = HOOK_BASE, .n = BENCH_SIZE(1u << 22, 1u << 16) };
    plain.off = bench_rand_offsets(plain.n, 64 * MMU_PAGE_SIZE);
    plain.m = bench_mmu_filled(HOOK_BASE, 64 * MMU_PAGE_SIZE, 0);
    bench_loads hooked = plain;
    hooked.m = bench_mmu_filled(HOOK_BASE, 64 * MMU_PAGE_SIZE, 0);
    bool ok = plain.off && plain.m && hooked.m
              && !mmu_hook_add(hooked.m, MMU_HOOK_MEM_READ, count_read, &calls, far_page, far_page + MMU_PAGE_SIZE - 1, NULL);
    bench_job jobs[2] = { { ok ? bench_loads_mmu : NULL, &hooked }, { ok ? bench_loads_mmu : NULL, &plain } };
    double out[2];
    bench_measure(jobs, 2, out);
    r.ours = out[0], r.base = out[1];
    if (calls)
        fprintf(stderr, "bench: hook.other.page: the hook fired %" PRIu64 " times\n", calls);
    bench_emit(&r);
    mmu_close(plain.m);
    mmu_close(hooked.m);
    free((void *)plain.off);
}

/* --------------------------------------------------------- demand paging */

typedef struct fault_ctx {
    size_t n, n_peer; /* pages touched per repetition */
} fault_ctx;

static bool map_on_fault(mmu_t *m, const mmu_mem_event *ev, void *user)
{
    (void)user;
    return mmu_map(m, ev->addr & ~(uint64_t)(MMU_PAGE_SIZE - 1), MMU_PAGE_SIZE, MMU_PROT_READ | MMU_PROT_WRITE, NULL) == MMU_OK;
}

/* touches n fresh pages of a new MMU; us per fault */
static double mmu_demand(void *p)
{
    const fault_ctx *c = p;
    mmu_t *m;
    if (mmu_open(NULL, &m))
        return NAN;
    double t = NAN;
    if (!mmu_hook_add(m, MMU_HOOK_MEM_UNMAPPED, map_on_fault, NULL, 1, 0, NULL)) {
        uint64_t sum = 0, v = 0;
        double t0 = bench_now_ns();
        size_t i = 0;
        while (i < c->n && !mmu_load_u64(m, FAULT_BASE + i * MMU_PAGE_SIZE, &v))
            sum += v, i++;
        t = i == c->n ? (bench_now_ns() - t0) / 1e3 / (double)c->n : NAN;
        bench_sink += sum;
    }
    mmu_close(m);
    return t;
}

/* the kernel's demand paging of n fresh host pages, read once each */
static double host_demand(void *p)
{
    const fault_ctx *c = p;
    uint64_t size = (uint64_t)c->n * MMU_PAGE_SIZE, sum = 0;
    uint8_t *h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (h == MAP_FAILED)
        return NAN;
    double t0 = bench_now_ns();
    for (size_t i = 0; i < c->n; i++)
        sum += *(const volatile uint64_t *)(h + i * MMU_PAGE_SIZE);
    double t = (bench_now_ns() - t0) / 1e3 / (double)c->n;
    bench_sink += sum;
    munmap(h, size);
    return t;
}

#ifdef HAVE_UNICORN
/* guest loop: one load per page, rcx pages from rsi */
static const uint8_t touch_code[] = {
    0x48, 0x8b, 0x06,                         /* 0: mov rax, [rsi]      */
    0x48, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, /* 3: add rsi, 0x1000     */
    0x48, 0xff, 0xc9,                         /* a: dec rcx             */
    0x75, 0xf1,                               /* d: jnz 0               */
};
#define CODE_ADDR 0x1000u

static bool uc_map_on_fault(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *user)
{
    (void)type, (void)size, (void)value, (void)user;
    return uc_mem_map(uc, addr & ~(uint64_t)(MMU_PAGE_SIZE - 1), MMU_PAGE_SIZE, UC_PROT_READ | UC_PROT_WRITE) == UC_ERR_OK;
}

static uc_engine *uc_touch_open(const fault_ctx *c)
{
    uc_engine *uc;
    uc_hook h;
    uint64_t rsi = FAULT_BASE, rcx = c->n_peer;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc))
        return NULL;
    if (uc_mem_map(uc, CODE_ADDR, MMU_PAGE_SIZE, UC_PROT_ALL) || uc_mem_write(uc, CODE_ADDR, touch_code, sizeof touch_code)
        || uc_hook_add(uc, &h, UC_HOOK_MEM_READ_UNMAPPED, (void *)uc_map_on_fault, NULL, 1, 0)
        || uc_reg_write(uc, UC_X86_REG_RSI, &rsi) || uc_reg_write(uc, UC_X86_REG_RCX, &rcx)) {
        uc_close(uc);
        return NULL;
    }
    return uc;
}

static double uc_demand(void *p)
{
    const fault_ctx *c = p;
    uc_engine *uc = uc_touch_open(c);
    if (!uc)
        return NAN;
    double t0 = bench_now_ns();
    uc_err err = uc_emu_start(uc, CODE_ADDR, CODE_ADDR + sizeof touch_code, 0, 0);
    double t = (bench_now_ns() - t0) / 1e3 / (double)c->n_peer;
    uint64_t rcx = 1;
    uc_reg_read(uc, UC_X86_REG_RCX, &rcx);
    uc_close(uc);
    return err || rcx ? NAN : t;
}
#endif

static void fault_row(void)
{
    bench_row r = { .name = "fault.demand", .unit = "us", .base_what = "kernel", .goal = GOAL_ABS_LE, .target = 2 };
    if (!bench_want(r.name))
        return;
    fault_ctx c = { .n = BENCH_SIZE(100000, 2000), .n_peer = BENCH_SIZE(50, 10) };
    snprintf(r.desc, sizeof r.desc, "fault hook maps each of %zu fresh pages", c.n);
    bench_job jobs[3] = { { mmu_demand, &c }, { host_demand, &c }, { NULL, &c } };
#ifdef HAVE_UNICORN
    jobs[2].fn = uc_demand;
#endif
    bench_measure_emit(&r, jobs);
}

/* --------------------------------------------------------------- group */

void bench_hooks(void)
{
    hook_row();
    fault_row();
}
