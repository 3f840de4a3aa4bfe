/*
 * core_util.h - helpers for the MMU core tests (map, access, TLB, hooks,
 * MMIO, bad input). Not a test file: the tests glob only test_*.c.
 */
#ifndef SOFTMMU_CORE_UTIL_H
#define SOFTMMU_CORE_UTIL_H

#include "test_util.h"

#include <stdio.h>
#include <string.h>

/* an expected map entry; label NULL means "do not compare" */
#define RG(s, e, p, l) ((mmu_region){ (s), (e), (p), (l), false })
#define RGIO(s, e, p, l) ((mmu_region){ (s), (e), (p), (l), true })

/* the map is exactly want[0..n) */
#define EXPECT_MAP(m, ...)                                                                 \
    do {                                                                                   \
        const mmu_region want_[] = { __VA_ARGS__ };                                        \
        expect_map_((m), want_, sizeof want_ / sizeof *want_, __LINE__);                    \
    } while (0)

static inline void expect_map_(const mmu_t *m, const mmu_region *want, size_t n, int line)
{
    mmu_region got[64];
    size_t count = mmu_regions(m, got, 64);
    cr_assert_eq(count, n, "line %d: %zu regions, want %zu", line, count, n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(got[i].start, want[i].start, "line %d: region %zu start %#llx, want %#llx", line, i,
                     (unsigned long long)got[i].start, (unsigned long long)want[i].start);
        cr_assert_eq(got[i].end, want[i].end, "line %d: region %zu end %#llx, want %#llx", line, i,
                     (unsigned long long)got[i].end, (unsigned long long)want[i].end);
        cr_assert_eq(got[i].perms, want[i].perms, "line %d: region %zu perms %u, want %u", line, i, got[i].perms,
                     want[i].perms);
        cr_assert_eq(got[i].mmio, want[i].mmio, "line %d: region %zu mmio flag", line, i);
        if (want[i].label)
            cr_assert_str_eq(got[i].label, want[i].label, "line %d: region %zu label", line, i);
    }
}

static inline mmu_t *open_bits(unsigned bits)
{
    mmu_t *m = NULL;
    mmu_config c = { .addr_bits = bits };
    OK(mmu_open(&c, &m));
    return m;
}

static inline mmu_stats stats_of(const mmu_t *m)
{
    mmu_stats s;
    mmu_get_stats(m, &s);
    return s;
}

/* fills n bytes at addr with a pattern derived from seed, via mmu_write */
static inline void fill_pattern(mmu_t *m, uint64_t addr, size_t n, unsigned seed)
{
    uint8_t buf[4096];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < sizeof buf ? n - done : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = (uint8_t)((done + i) * 31 + seed);
        OK(mmu_write(m, addr + done, buf, k));
        done += k;
    }
}

/* the n bytes at addr hold the pattern fill_pattern wrote with seed */
static inline void check_pattern(mmu_t *m, uint64_t addr, size_t n, unsigned seed)
{
    uint8_t buf[4096];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < sizeof buf ? n - done : sizeof buf;
        OK(mmu_read(m, addr + done, buf, k));
        for (size_t i = 0; i < k; i++)
            cr_assert_eq(buf[i], (uint8_t)((done + i) * 31 + seed), "byte %#llx differs",
                         (unsigned long long)(addr + done + i));
        done += k;
    }
}

static inline uint64_t rd64(mmu_t *m, uint64_t addr)
{
    uint64_t v = 0;
    OK(mmu_read_ptr(m, addr, 8, false, &v));
    return v;
}

static inline void wr64(mmu_t *m, uint64_t addr, uint64_t v)
{
    OK(mmu_write_ptr(m, addr, v, 8, false));
}

#endif
