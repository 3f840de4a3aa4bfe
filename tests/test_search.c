/*
 * test_search.c - mmu_search and mmu_search_pattern: Qiling's per-entry
 * semantics, MMU_SEARCH_CROSS, page and entry boundaries, pages whose host
 * memory is not contiguous, the end of the address space, the YARA hex
 * syntax, and a differential check against a naive search.
 */
#include "test_util.h"
#include "alloc.h"
#include "mmu_int.h" /* to move a page's host memory, as a snapshot may */

#include <stdlib.h>

static mmu_t *m;
static void *moved[16];
static size_t n_moved;

static void setup(void) { OK(mmu_open(NULL, &m)); }
static void teardown(void)
{
    sm_alloc_fail_after(-1);
    mmu_close(m);
    while (n_moved)
        free(moved[--n_moved]);
}

TestSuite(search, .init = setup, .fini = teardown);
TestSuite(pattern, .init = setup, .fini = teardown);

#define SEARCH_MAX 64

/* runs mmu_search, asserts success, returns the total count */
static size_t search(const char *needle, size_t len, uint64_t begin, uint64_t end, unsigned flags, uint64_t *out)
{
    size_t count = 12345;
    OK(mmu_search(m, needle, len, begin, end, flags, out, out ? SEARCH_MAX : 0, &count));
    return count;
}

static size_t search_pat(const char *hex, uint64_t begin, uint64_t end, unsigned flags, uint64_t *out)
{
    mmu_pattern *p;
    size_t count = 12345;
    OK(mmu_pattern_compile(hex, &p));
    OK(mmu_search_pattern(m, p, begin, end, flags, out, out ? SEARCH_MAX : 0, &count));
    mmu_pattern_free(p);
    return count;
}

static void put(uint64_t addr, const char *s)
{
    OK(mmu_write(m, addr, s, strlen(s)));
}

static void fill(uint64_t addr, uint64_t size, uint8_t byte)
{
    static uint8_t page[4096];
    memset(page, byte, sizeof page);
    for (uint64_t done = 0; done < size; done += sizeof page)
        OK(mmu_write(m, addr + done, page, size - done < sizeof page ? size - done : sizeof page));
}

/* gives the page at addr fresh host memory with the same contents, as a
 * snapshot restore may: the region is no longer host-contiguous there */
static void move_page(uint64_t addr)
{
    void *p = aligned_alloc(MMU_PAGE_SIZE, MMU_PAGE_SIZE);
    cr_assert_not_null(p);
    uint64_t *pte = map_fill_page(m, addr >> MMU_PAGE_BITS);
    memcpy(p, PTE_HOST(*pte), MMU_PAGE_SIZE);
    *pte = (uint64_t)(uintptr_t)p | (*pte & PAGE_MASK);
    tlb_flush_all(m);
    moved[n_moved++] = p;
}

/* ------------------------------------------------------------- literal */

Test(search, finds_every_occurrence_in_ascending_order)
{
    OK(mmu_map(m, 0x10000, 0x3000, MMU_PROT_ALL, NULL));
    put(0x12500, "needle");
    put(0x10010, "needle");
    put(0x11000, "needle");
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search("needle", 6, 0, 0, 0, out), 3);
    cr_assert_eq(out[0], 0x10010);
    cr_assert_eq(out[1], 0x11000);
    cr_assert_eq(out[2], 0x12500);
}

Test(search, match_straddling_a_page_boundary_inside_one_region)
{
    OK(mmu_map(m, 0x10000, 0x3000, MMU_PROT_ALL, NULL));
    put(0x10ffd, "abcdef");
    put(0x11fff, "XY");
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search("abcdef", 6, 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0x10ffd);
    cr_assert_eq(search("XY", 2, 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0x11fff);
}

Test(search, needle_tearing_two_maps_is_found_only_with_cross)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, "left"));
    OK(mmu_map(m, 0x11000, 0x1000, MMU_PROT_ALL, "right"));
    put(0x10ffe, "tear");
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search("tear", 4, 0, 0, 0, out), 0);
    cr_assert_eq(search("tear", 4, 0, 0, MMU_SEARCH_CROSS, out), 1);
    cr_assert_eq(out[0], 0x10ffe);
}

Test(search, split_by_protect_also_tears)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, NULL));
    OK(mmu_protect(m, 0x11000, 0x1000, MMU_PROT_READ));
    put(0x10ffe, "tear");
    cr_assert_eq(search("tear", 4, 0, 0, 0, NULL), 0);
    cr_assert_eq(search("tear", 4, 0, 0, MMU_SEARCH_CROSS, NULL), 1);
}

Test(search, cross_match_spanning_three_regions_with_a_long_needle)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, "a"));
    OK(mmu_map(m, 0x11000, 0x1000, MMU_PROT_NONE, "b"));
    OK(mmu_map(m, 0x12000, 0x1000, MMU_PROT_READ, "c"));
    static char needle[5000];
    for (size_t i = 0; i < sizeof needle; i++)
        needle[i] = (char)(1 + i % 251);
    OK(mmu_write(m, 0x10f00, needle, sizeof needle)); /* ends at 0x12287 */
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search(needle, sizeof needle, 0, 0, 0, out), 0);
    cr_assert_eq(search(needle, sizeof needle, 0, 0, MMU_SEARCH_CROSS, out), 1);
    cr_assert_eq(out[0], 0x10f00);
    /* cut one byte short by end: no match */
    cr_assert_eq(search(needle, sizeof needle, 0, 0x10f00 + sizeof needle - 1, MMU_SEARCH_CROSS, out), 0);
    cr_assert_eq(search(needle, sizeof needle, 0, 0x10f00 + sizeof needle, MMU_SEARCH_CROSS, out), 1);
}

static uint64_t dev_reads;
static uint64_t dev_read(void *user, uint64_t off, unsigned size)
{
    (void)user, (void)off, (void)size;
    dev_reads++;
    return 0x6161616161616161; /* "aaaaaaaa" */
}

Test(search, cross_stops_at_gaps_and_at_mmio)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x12000, 0x1000, MMU_PROT_ALL, NULL)); /* gap before */
    OK(mmu_map_mmio(m, 0x13000, 0x1000, dev_read, NULL, NULL, NULL));
    OK(mmu_map(m, 0x14000, 0x1000, MMU_PROT_ALL, NULL));
    put(0x10ffe, "ga");
    put(0x12000, "p!");
    put(0x12ffe, "mm");
    put(0x14000, "io");
    cr_assert_eq(search("gap!", 4, 0, 0, MMU_SEARCH_CROSS, NULL), 0);
    cr_assert_eq(search("mmio", 4, 0, 0, MMU_SEARCH_CROSS, NULL), 0);
    cr_assert_eq(search("mmaa", 4, 0, 0, MMU_SEARCH_CROSS, NULL), 0);
}

Test(search, mmio_is_skipped_and_its_device_never_called)
{
    OK(mmu_map_mmio(m, 0x13000, 0x1000, dev_read, NULL, NULL, NULL));
    OK(mmu_map(m, 0x20000, 0x1000, MMU_PROT_ALL, NULL));
    dev_reads = 0;
    cr_assert_eq(search("aaaa", 4, 0, 0, 0, NULL), 0);
    cr_assert_eq(search("aaaa", 4, 0, 0, MMU_SEARCH_CROSS, NULL), 0);
    cr_assert_eq(dev_reads, 0);
}

Test(search, prot_none_memory_is_searched)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_NONE, NULL));
    put(0x10800, "hidden");
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search("hidden", 6, 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0x10800);
}

Test(search, zero_pairs_do_not_overlap)
{
    /* Qiling verified: b'\x00\x00' in 4 zero bytes gives 2 hits, not 3 */
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    fill(0x10000, 0x1000, 0xff);
    OK(mmu_write(m, 0x10100, "\0\0\0\0", 4));
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search("\0\0", 2, 0, 0, 0, out), 2);
    cr_assert_eq(out[0], 0x10100);
    cr_assert_eq(out[1], 0x10102);
}

Test(search, non_overlap_holds_across_a_cross_boundary)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x11000, 0x1000, MMU_PROT_ALL, NULL));
    put(0x10ffd, "aaaaa"); /* 0x10ffd..0x11001 */
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search("aa", 2, 0, 0, MMU_SEARCH_CROSS, out), 2);
    cr_assert_eq(out[0], 0x10ffd);
    cr_assert_eq(out[1], 0x10fff); /* spans the boundary */
    cr_assert_eq(search("aa", 2, 0, 0, 0, out), 2);
    cr_assert_eq(out[0], 0x10ffd);
    cr_assert_eq(out[1], 0x11000);
}

Test(search, out_is_truncated_but_count_is_total)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    for (int i = 0; i < 5; i++)
        put(0x10000 + 0x100 * (uint64_t)i, "xyz");
    uint64_t out[3] = { 0, 0, 0xdead };
    size_t count = 0;
    OK(mmu_search(m, "xyz", 3, 0, 0, 0, out, 2, &count));
    cr_assert_eq(count, 5);
    cr_assert_eq(out[0], 0x10000);
    cr_assert_eq(out[1], 0x10100);
    cr_assert_eq(out[2], 0xdead);
    OK(mmu_search(m, "xyz", 3, 0, 0, 0, NULL, 0, &count));
    cr_assert_eq(count, 5);
}

Test(search, match_must_lie_wholly_inside_begin_end)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, NULL));
    put(0x10800, "wxyz");
    cr_assert_eq(search("wxyz", 4, 0x10000, 0x10803, 0, NULL), 0);
    cr_assert_eq(search("wxyz", 4, 0x10000, 0x10804, 0, NULL), 1);
    cr_assert_eq(search("wxyz", 4, 0x10801, 0x12000, 0, NULL), 0);
    cr_assert_eq(search("wxyz", 4, 0x10800, 0x10804, 0, NULL), 1);
    /* a window strictly inside one region (Qiling #904) */
    cr_assert_eq(search("wxyz", 4, 0x10400, 0x10c00, 0, NULL), 1);
    cr_assert_eq(search("wxyz", 4, 0x10400, 0x10c00, MMU_SEARCH_CROSS, NULL), 1);
}

Test(search, default_bounds_cover_first_to_last_mapping)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x7000000, 0x1000, MMU_PROT_ALL, NULL));
    put(0x10000, "edge");
    put(0x7000ffc, "edge");
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search("edge", 4, 0, 0, 0, out), 2);
    cr_assert_eq(out[0], 0x10000);
    cr_assert_eq(out[1], 0x7000ffc);
    cr_assert_eq(search("edge", 4, 0x10001, 0, 0, out), 1);
    cr_assert_eq(search("edge", 4, 0x8000000, 0, 0, out), 0); /* begin past everything */
}

Test(search, match_at_the_very_last_byte_of_the_address_space)
{
    OK(mmu_map(m, 0xffffffffffffe000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_NONE, NULL));
    OK(mmu_write(m, 0xffffffffffffffff, "\x7f", 1));
    put(0xfffffffffffffffd, "Zq");
    put(0xffffffffffffeffe, "Q");
    put(0xfffffffffffff000, "R");
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search("\x7f", 1, 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0xffffffffffffffff);
    cr_assert_eq(search("Zq\x7f", 3, 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0xfffffffffffffffd);
    cr_assert_eq(search("Zq\x7f", 3, 0xfffffffffffffffd, 0, MMU_SEARCH_CROSS, out), 1);
    cr_assert_eq(search("QR", 2, 0, 0, 0, out), 0);
    cr_assert_eq(search("QR", 2, 0, 0, MMU_SEARCH_CROSS, out), 0); /* 0xffffffffffffeffe + "Q?" */
    put(0xffffffffffffefff, "Q");
    cr_assert_eq(search("QR", 2, 0, 0, MMU_SEARCH_CROSS, out), 1);
    cr_assert_eq(out[0], 0xffffffffffffefff);
    /* the last byte can be left out only through end */
    cr_assert_eq(search("\x7f", 1, 0, 0xffffffffffffffff, 0, out), 0);
}

Test(search, nothing_mapped_is_ok_with_no_match)
{
    size_t count = 7;
    OK(mmu_search(m, "x", 1, 0, 0, 0, NULL, 0, &count));
    cr_assert_eq(count, 0);
    OK(mmu_search(m, "x", 1, 0x1000, 0x2000, MMU_SEARCH_CROSS, NULL, 0, &count));
    cr_assert_eq(count, 0);
}

Test(search, bad_arguments_leave_outputs_alone)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    uint64_t out[2] = { 1, 2 };
    size_t count = 99;
    ERR(mmu_search(NULL, "x", 1, 0, 0, 0, out, 2, &count), MMU_ERR_ARG);
    ERR(mmu_search(m, NULL, 1, 0, 0, 0, out, 2, &count), MMU_ERR_ARG);
    ERR(mmu_search(m, "x", 0, 0, 0, 0, out, 2, &count), MMU_ERR_ARG);
    ERR(mmu_search(m, "x", 1, 0x2000, 0x2000, 0, out, 2, &count), MMU_ERR_ARG);
    ERR(mmu_search(m, "x", 1, 0x3000, 0x2000, 0, out, 2, &count), MMU_ERR_ARG);
    ERR(mmu_search(m, "x", 1, 0, 0, 0, NULL, 2, &count), MMU_ERR_ARG);
    ERR(mmu_search(m, "x", 1, 0, 0, 2, out, 2, &count), MMU_ERR_ARG);
    ERR(mmu_search(m, "x", 1, 0, 0, 0, out, 2, NULL), MMU_ERR_ARG);
    ERR(mmu_search_pattern(m, NULL, 0, 0, 0, out, 2, &count), MMU_ERR_ARG);
    cr_assert_eq(out[0], 1);
    cr_assert_eq(out[1], 2);
    cr_assert_eq(count, 99);
}

Test(search, long_needle_without_memory_is_nomem_and_outputs_untouched)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, NULL));
    static char needle[1000]; /* past the on-stack stitch buffer */
    uint64_t out[1] = { 5 };
    size_t count = 6;
    sm_alloc_fail_after(0);
    ERR(mmu_search(m, needle, sizeof needle, 0, 0, 0, out, 1, &count), MMU_ERR_NOMEM);
    sm_alloc_fail_after(-1);
    cr_assert_eq(out[0], 5);
    cr_assert_eq(count, 6);
    OK(mmu_search(m, needle, sizeof needle, 0, 0, 0, out, 1, &count));
    cr_assert_eq(count, 8); /* 0x2000 zero bytes hold 8 disjoint copies */
    cr_assert_eq(out[0], 0x10000);
}

Test(search, matches_across_pages_whose_host_memory_moved)
{
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, NULL));
    put(0x10ffc, "12345678");       /* page 0 -> moved page 1 */
    put(0x11ffe, "abcd");           /* moved page 1 -> page 2 */
    put(0x11800, "inside");         /* wholly in the moved page */
    put(0x12ffe, "wx");             /* page 2 -> moved page 3 */
    move_page(0x11000);
    move_page(0x13000);
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search("12345678", 8, 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0x10ffc);
    cr_assert_eq(search("abcd", 4, 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0x11ffe);
    cr_assert_eq(search("inside", 6, 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0x11800);
    cr_assert_eq(search("wx", 2, 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0x12ffe);
}

Test(search, large_region_match_in_its_last_bytes)
{
    OK(mmu_map(m, 0x40000000, 64 << 20, MMU_PROT_ALL, NULL));
    put(0x40000000 + (64 << 20) - 5, "tail!");
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search("tail!", 5, 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0x40000000 + (64 << 20) - 5);
}

/* --------------------------------------------- differential, randomised */

/* greedy leftmost non-overlapping matches of needle in hay, like finditer */
static size_t naive(const uint8_t *hay, size_t n, uint64_t base, const uint8_t *nd, size_t len, uint64_t *out,
                    size_t count)
{
    for (size_t i = 0; i + len <= n;) {
        if (memcmp(hay + i, nd, len) == 0) {
            if (count < 4096)
                out[count] = base + i;
            count++;
            i += len;
        } else {
            i++;
        }
    }
    return count;
}

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng = rng * 1103515245 + 12345;
    return rng >> 8;
}

/* regions: [0x10000,+3p) [0x13000,+1p) [0x14000,+5p) gap [0x1a000,+2p) */
static const struct {
    uint64_t start, size;
} layout[] = { { 0x10000, 0x3000 }, { 0x13000, 0x1000 }, { 0x14000, 0x5000 }, { 0x1a000, 0x2000 } };
static uint8_t image[0xc000]; /* bytes of [0x10000, 0x1c000) */

static void random_memory(void)
{
    for (size_t i = 0; i < sizeof layout / sizeof *layout; i++)
        OK(mmu_map(m, layout[i].start, layout[i].size, MMU_PROT_ALL, NULL));
    for (size_t i = 0; i < sizeof image; i++)
        image[i] = (uint8_t)("ab"[rnd() % 2]); /* two letters: many matches */
    for (size_t i = 0; i < sizeof layout / sizeof *layout; i++)
        OK(mmu_write(m, layout[i].start, image + (layout[i].start - 0x10000), layout[i].size));
    move_page(0x11000);
    move_page(0x15000);
    move_page(0x16000);
}

/* expected matches of needle in [lo, hi): each region is a haystack, or
 * with MMU_SEARCH_CROSS each run of touching regions */
static size_t expect(const uint8_t *nd, size_t len, uint64_t lo, uint64_t hi, bool cross, uint64_t *out)
{
    static const uint64_t alone[][2] = { { 0x10000, 0x13000 }, { 0x13000, 0x14000 }, { 0x14000, 0x19000 },
                                         { 0x1a000, 0x1c000 } };
    static const uint64_t runs[][2] = { { 0x10000, 0x19000 }, { 0x1a000, 0x1c000 } };
    const uint64_t(*hs)[2] = cross ? runs : alone;
    size_t n = cross ? 2 : 4, count = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = hs[i][0] > lo ? hs[i][0] : lo, z = hs[i][1] < hi ? hs[i][1] : hi;
        if (z > a)
            count = naive(image + (a - 0x10000), z - a, a, nd, len, out, count);
    }
    return count;
}

Test(search, random_literal_searches_agree_with_a_naive_search)
{
    random_memory();
    static uint64_t got[4096], want[4096];
    for (int round = 0; round < 300; round++) {
        size_t len = round % 10 == 9 ? 1 + rnd() % 6000 : 1 + rnd() % 12;
        uint64_t from = 0x10000 + rnd() % sizeof image;
        uint8_t nd[6000];
        for (size_t i = 0; i < len; i++) /* mostly a real substring, so it occurs */
            nd[i] = from - 0x10000 + len <= sizeof image && round % 3 ? image[from - 0x10000 + i] : "ab"[rnd() % 2];
        uint64_t lo = round % 4 ? 0x10000 + rnd() % sizeof image : 0;
        uint64_t hi = round % 5 ? lo + 1 + rnd() % (0x1c000 - (lo ? lo : 0x10000)) : 0;
        bool cross = round % 2;
        size_t count;
        OK(mmu_search(m, nd, len, lo, hi, cross ? MMU_SEARCH_CROSS : 0, got, 4096, &count));
        size_t w = expect(nd, len, lo ? lo : 0x10000, hi ? hi : 0x1c000, cross, want);
        cr_assert_eq(count, w, "round %d: len %zu [%#lx,%#lx) cross %d: %zu, want %zu", round, len,
                     (unsigned long)lo, (unsigned long)hi, cross, count, w);
        for (size_t i = 0; i < w && i < 4096; i++)
            cr_assert_eq(got[i], want[i], "round %d match %zu", round, i);
    }
}

/* ------------------------------------------------------------- patterns */

Test(pattern, qiling_regex_example)
{
    /* Qiling: re.compile(rb'\x09\x53(\x0f|\x1a|\x04)[^\x0d]') */
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write(m, 0x10010, "\x09\x53\x0f\x00", 4));  /* yes */
    OK(mmu_write(m, 0x10020, "\x09\x53\x1a\x0d", 4));  /* no: ~0D */
    OK(mmu_write(m, 0x10030, "\x09\x53\x04\xff", 4));  /* yes */
    OK(mmu_write(m, 0x10040, "\x09\x53\x05\x00", 4));  /* no: not an alternative */
    OK(mmu_write(m, 0x10050, "\x09\x53\x1a\x0e", 4));  /* yes */
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search_pat("09 53 ( 0F | 1A | 04 ) ~0D", 0, 0, 0, out), 3);
    cr_assert_eq(out[0], 0x10010);
    cr_assert_eq(out[1], 0x10030);
    cr_assert_eq(out[2], 0x10050);
    /* whitespace is free, case is free */
    cr_assert_eq(search_pat("0953(0f|1a|04)~0d", 0, 0, 0, NULL), 3);
    cr_assert_eq(search_pat(" \t09\n53 (0F|1A |  04)  ~0D ", 0, 0, 0, NULL), 3);
}

Test(pattern, wildcards_and_nibble_wildcards)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    fill(0x10000, 0x1000, 0xee);
    OK(mmu_write(m, 0x10100, "\x4f\x12\x53", 3));
    OK(mmu_write(m, 0x10200, "\x4f\xff\x53", 3));
    OK(mmu_write(m, 0x10300, "\x4a\x00\x53", 3));
    OK(mmu_write(m, 0x10400, "\x1f\x00\x53", 3));
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search_pat("4F ?? 53", 0, 0, 0, out), 2);
    cr_assert_eq(out[0], 0x10100);
    cr_assert_eq(out[1], 0x10200);
    cr_assert_eq(search_pat("4? ?? 53", 0, 0, 0, out), 3);
    cr_assert_eq(out[2], 0x10300);
    cr_assert_eq(search_pat("?F ?? 53", 0, 0, 0, out), 3);
    cr_assert_eq(out[2], 0x10400);
    cr_assert_eq(search_pat("4F 1? 53", 0, 0, 0, out), 1);
    cr_assert_eq(search_pat("4F ?2 53", 0, 0, 0, out), 1);
}

Test(pattern, negation_of_bytes_and_of_nibbles)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write(m, 0x10100, "\xaa\x0d", 2));
    OK(mmu_write(m, 0x10200, "\xaa\x1d", 2));
    OK(mmu_write(m, 0x10300, "\xaa\x0f", 2));
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search_pat("AA ~0D", 0, 0, 0, out), 2);
    cr_assert_eq(out[0], 0x10200);
    cr_assert_eq(out[1], 0x10300);
    cr_assert_eq(search_pat("AA ~?D", 0, 0, 0, out), 1); /* low nibble is not D */
    cr_assert_eq(out[0], 0x10300);
    cr_assert_eq(search_pat("AA ~0?", 0, 0, 0, out), 1); /* high nibble is not 0 */
    cr_assert_eq(out[0], 0x10200);
}

Test(pattern, alternatives_with_multibyte_sequences_and_wildcards)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    fill(0x10000, 0x1000, 0xee);
    OK(mmu_write(m, 0x10100, "\x01\x62\xb4\x02", 4));
    OK(mmu_write(m, 0x10200, "\x01\x56\x99\x02", 4));
    OK(mmu_write(m, 0x10300, "\x01\x47\x4f\x02", 4));
    OK(mmu_write(m, 0x10400, "\x01\x62\xb5\x02", 4));
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search_pat("01 ( 62 B4 | 56 ?? | ?7 4F ) 02", 0, 0, 0, out), 3);
    cr_assert_eq(out[0], 0x10100);
    cr_assert_eq(out[1], 0x10200);
    cr_assert_eq(out[2], 0x10300);
    /* two groups, and a group first: no anchor before it */
    cr_assert_eq(search_pat("(01|02) (62|47) (B4|4F|B5)", 0, 0, 0, out), 3);
    cr_assert_eq(search_pat("( 01 62 B4 ) 02", 0, 0, 0, out), 1); /* one alternative */
}

Test(pattern, patterns_without_exact_bytes_fall_back_to_a_scan)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search_pat("?? ??", 0x10000, 0x10007, 0, out), 3); /* non-overlapping */
    cr_assert_eq(out[2], 0x10004);
    OK(mmu_write(m, 0x10800, "\x31\x32", 2));
    cr_assert_eq(search_pat("3? ~32", 0, 0, 0, out), 1); /* 31 32 fails; 32 00 matches */
    cr_assert_eq(out[0], 0x10801);
    cr_assert_eq(search_pat("3? ~00", 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0x10800);
}

Test(pattern, pattern_match_across_pages_and_entries)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x12000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write(m, 0x10ffe, "\xde\xad\xbe\xef", 4));
    OK(mmu_write(m, 0x11ffe, "\xde\xad\xbe\xef", 4));
    move_page(0x11000);
    uint64_t out[SEARCH_MAX];
    cr_assert_eq(search_pat("DE ?? (BE|00) EF", 0, 0, 0, out), 1);
    cr_assert_eq(out[0], 0x10ffe);
    cr_assert_eq(search_pat("DE ?? (BE|00) EF", 0, 0, MMU_SEARCH_CROSS, out), 2);
    cr_assert_eq(out[1], 0x11ffe);
}

Test(pattern, exact_pattern_agrees_with_literal_search)
{
    random_memory();
    static uint64_t a[4096], b[4096];
    for (int round = 0; round < 40; round++) {
        size_t len = 1 + rnd() % 9, off = rnd() % (sizeof image - len);
        char hex[64] = "";
        for (size_t i = 0; i < len; i++)
            sprintf(hex + 3 * i, "%02x ", image[off + i]);
        size_t na, nb;
        unsigned flags = round % 2 ? MMU_SEARCH_CROSS : 0;
        mmu_pattern *p;
        OK(mmu_pattern_compile(hex, &p));
        OK(mmu_search_pattern(m, p, 0, 0, flags, a, 4096, &na));
        mmu_pattern_free(p);
        OK(mmu_search(m, image + off, len, 0, 0, flags, b, 4096, &nb));
        cr_assert_eq(na, nb, "round %d '%s'", round, hex);
        cr_assert_gt(na, 0);
        cr_assert_eq(memcmp(a, b, (na < 4096 ? na : 4096) * sizeof *a), 0);
    }
}

Test(pattern, bad_syntax_is_arg_and_allocates_nothing)
{
    static const char *bad[] = {
        "", "   ", "4", "4G", "G4", "4F 5", "~??", "~ 0D", "~", "( 0F | 1A 2B )", "()", "( )", "(0F|)", "(|0F)",
        "(0F", "0F)", "((0F))", "(0F|(1A))", "0F | 1A", "0F [2-4] 1A", "{ 0F }", "0F ~", "0x0F", "0F,1A",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mmu_pattern *p = (mmu_pattern *)&p;
        sm_alloc_fail_after(0); /* any allocation would fail: none may happen */
        ERR(mmu_pattern_compile(bad[i], &p), MMU_ERR_ARG);
        sm_alloc_fail_after(-1);
        cr_assert_eq(p, (mmu_pattern *)&p, "'%s' touched out", bad[i]);
    }
    mmu_pattern *p;
    ERR(mmu_pattern_compile(NULL, &p), MMU_ERR_ARG);
    ERR(mmu_pattern_compile("0F", NULL), MMU_ERR_ARG);
    mmu_pattern_free(NULL);
}

Test(pattern, compile_out_of_memory_is_nomem)
{
    mmu_pattern *p = NULL;
    sm_alloc_fail_after(0);
    ERR(mmu_pattern_compile("09 53 ( 0F | 1A | 04 ) ~0D", &p), MMU_ERR_NOMEM);
    sm_alloc_fail_after(-1);
    cr_assert_null(p);
    OK(mmu_pattern_compile("09 53 ( 0F | 1A | 04 ) ~0D", &p));
    mmu_pattern_free(p);
}
