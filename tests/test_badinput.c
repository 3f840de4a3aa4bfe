/*
 * test_badinput.c - the bad-input catalogue of tests/BADINPUT.md: for each
 * public call of the core (lifetime, mapping, host access, guest access,
 * hooks, map info, statistics), each class of bad argument gets its
 * documented error, leaves out-parameters alone and changes no state (the
 * digest of a populated MMU is compared before and after).
 * One Test per table row; the test name is the row.
 */
#include "alloc_test.h"
#include "core_util.h"

static mmu_t *m;
static uint8_t ptrbuf[0x2000] __attribute__((aligned(4096)));

static uint64_t dev_rd(void *u, uint64_t off, unsigned size) { (void)u, (void)size; return off; }
static void dev_wr(void *u, uint64_t off, unsigned size, uint64_t v) { (void)u, (void)off, (void)size, (void)v; }
static bool hook_fn(mmu_t *mm, const mmu_mem_event *ev, void *u) { (void)mm, (void)ev, (void)u; return false; }

/* a populated MMU: RAM with contents and split entries, a host pointer
 * mapping, a device, the last page of the space, and a hook */
static void setup(void)
{
    mmu_alloc_fail_after(-1);
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, "ram"));
    fill_pattern(m, 0x10000, 0x4000, 3);
    OK(mmu_protect(m, 0x11000, 0x1000, MMU_PROT_READ));
    OK(mmu_map(m, 0x20000, 0x1000, MMU_PROT_NONE, "none"));
    OK(mmu_map_ptr(m, 0x30000, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, ptrbuf, "ptr"));
    OK(mmu_map_mmio(m, 0x40000, 0x1000, dev_rd, dev_wr, NULL, "dev"));
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_READ, "top"));
    OK(mmu_hook_add(m, MMU_HOOK_MEM_WRITE, hook_fn, NULL, 0x10000, 0x10fff, NULL));
}

static void teardown(void)
{
    mmu_alloc_fail_after(-1);
    mmu_close(m);
}

TestSuite(bad, .init = setup, .fini = teardown);

#define UNCH(call, want) ERR_UNCHANGED(m, call, want)

/* ------------------------------------------------------------ lifetime */

static void open_fails(const mmu_config *c, mmu_err want)
{
    mmu_t *out = (mmu_t *)(uintptr_t)0x1234;
    ERR(mmu_open(c, &out), want);
    cr_assert_eq(out, (mmu_t *)(uintptr_t)0x1234, "out-param touched");
}

Test(bad, open_out_null) { ERR(mmu_open(NULL, NULL), MMU_ERR_ARG); }
Test(bad, open_addr_bits_unsupported)
{
    open_fails(&(mmu_config){ .addr_bits = 16 }, MMU_ERR_ARG);
    open_fails(&(mmu_config){ .addr_bits = 39 }, MMU_ERR_ARG);
    open_fails(&(mmu_config){ .addr_bits = 65 }, MMU_ERR_ARG);
}
Test(bad, open_ptr_size_unsupported)
{
    open_fails(&(mmu_config){ .ptr_size = 3 }, MMU_ERR_ARG);
    open_fails(&(mmu_config){ .ptr_size = 16 }, MMU_ERR_ARG);
}
Test(bad, open_tlb_entries_not_power_of_two_or_too_big)
{
    open_fails(&(mmu_config){ .tlb_entries = 1000 }, MMU_ERR_ARG);
    open_fails(&(mmu_config){ .tlb_entries = 1u << 17 }, MMU_ERR_ARG);
}
Test(bad, open_allocation_fails)
{
    mmu_alloc_fail_after(0);
    open_fails(NULL, MMU_ERR_NOMEM);
}
Test(bad, close_null_is_a_no_op) { mmu_close(NULL); }
Test(bad, max_addr_and_code_generation_of_null_are_zero)
{
    cr_assert_eq(mmu_max_addr(NULL), 0);
    cr_assert_eq(mmu_code_generation(NULL), 0);
    cr_assert_eq(mmu_digest(NULL), 0);
}
Test(bad, strerror_out_of_range_is_not_null)
{
    cr_assert_not_null(mmu_strerror((mmu_err)-1));
    cr_assert_not_null(mmu_strerror((mmu_err)1000));
    cr_assert(strstr(mmu_strerror(MMU_ERR_MAPPED), "MMU_ERR_MAPPED"));
}

/* --------------------------------------------------------------- map */

Test(bad, map_null_handle) { ERR(mmu_map(NULL, 0x1000, 0x1000, MMU_PROT_ALL, NULL), MMU_ERR_ARG); }
Test(bad, map_misaligned_addr) { UNCH(mmu_map(m, 0x50800, 0x1000, MMU_PROT_ALL, NULL), MMU_ERR_ARG); }
Test(bad, map_misaligned_size) { UNCH(mmu_map(m, 0x50000, 0x1001, MMU_PROT_ALL, NULL), MMU_ERR_ARG); }
Test(bad, map_size_zero) { UNCH(mmu_map(m, 0x50000, 0, MMU_PROT_ALL, NULL), MMU_ERR_ARG); }
Test(bad, map_wraps_past_2_64) { UNCH(mmu_map(m, 0xffffffffffffe000, 0x3000, MMU_PROT_ALL, NULL), MMU_ERR_ARG); }
Test(bad, map_beyond_addr_bits)
{
    mmu_t *m32 = open_bits(32);
    ERR_UNCHANGED(m32, mmu_map(m32, 0x100000000, 0x1000, MMU_PROT_ALL, NULL), MMU_ERR_RANGE);
    ERR_UNCHANGED(m32, mmu_map(m32, 0xfffff000, 0x2000, MMU_PROT_ALL, NULL), MMU_ERR_RANGE);
    mmu_close(m32);
}
Test(bad, map_perms_above_7) { UNCH(mmu_map(m, 0x50000, 0x1000, 8, NULL), MMU_ERR_ARG); }
Test(bad, map_overlap) { UNCH(mmu_map(m, 0x13000, 0x2000, MMU_PROT_ALL, NULL), MMU_ERR_MAPPED); }
Test(bad, map_allocation_fails)
{
    mmu_alloc_fail_after(0);
    UNCH(mmu_map(m, 0x50000, 0x1000, MMU_PROT_ALL, NULL), MMU_ERR_NOMEM);
}

Test(bad, map_ptr_null_handle) { ERR(mmu_map_ptr(NULL, 0x50000, 0x1000, 0, ptrbuf, NULL), MMU_ERR_ARG); }
Test(bad, map_ptr_host_null) { UNCH(mmu_map_ptr(m, 0x50000, 0x1000, 0, NULL, NULL), MMU_ERR_ARG); }
Test(bad, map_ptr_host_misaligned) { UNCH(mmu_map_ptr(m, 0x50000, 0x1000, 0, ptrbuf + 1, NULL), MMU_ERR_ARG); }
Test(bad, map_ptr_misaligned_or_zero_size)
{
    UNCH(mmu_map_ptr(m, 0x50010, 0x1000, 0, ptrbuf, NULL), MMU_ERR_ARG);
    UNCH(mmu_map_ptr(m, 0x50000, 0x10, 0, ptrbuf, NULL), MMU_ERR_ARG);
    UNCH(mmu_map_ptr(m, 0x50000, 0, 0, ptrbuf, NULL), MMU_ERR_ARG);
}
Test(bad, map_ptr_perms_above_7) { UNCH(mmu_map_ptr(m, 0x50000, 0x1000, 9, ptrbuf, NULL), MMU_ERR_ARG); }
Test(bad, map_ptr_overlap) { UNCH(mmu_map_ptr(m, 0x1f000, 0x2000, 0, ptrbuf, NULL), MMU_ERR_MAPPED); }

Test(bad, map_mmio_null_handle) { ERR(mmu_map_mmio(NULL, 0x50000, 0x1000, dev_rd, dev_wr, NULL, NULL), MMU_ERR_ARG); }
Test(bad, map_mmio_misaligned_or_zero_size)
{
    UNCH(mmu_map_mmio(m, 0x50008, 0x1000, dev_rd, dev_wr, NULL, NULL), MMU_ERR_ARG);
    UNCH(mmu_map_mmio(m, 0x50000, 0x800, dev_rd, dev_wr, NULL, NULL), MMU_ERR_ARG);
    UNCH(mmu_map_mmio(m, 0x50000, 0, dev_rd, dev_wr, NULL, NULL), MMU_ERR_ARG);
}
Test(bad, map_mmio_wraps_past_2_64)
{
    UNCH(mmu_map_mmio(m, 0xfffffffffff00000, 0x200000, dev_rd, dev_wr, NULL, NULL), MMU_ERR_ARG);
}
Test(bad, map_mmio_beyond_addr_bits)
{
    mmu_t *m48 = open_bits(48);
    ERR_UNCHANGED(m48, mmu_map_mmio(m48, 0x1000000000000, 0x1000, dev_rd, dev_wr, NULL, NULL), MMU_ERR_RANGE);
    mmu_close(m48);
}
Test(bad, map_mmio_overlap) { UNCH(mmu_map_mmio(m, 0x30000, 0x1000, dev_rd, dev_wr, NULL, NULL), MMU_ERR_MAPPED); }
Test(bad, map_mmio_allocation_fails)
{
    mmu_alloc_fail_after(0);
    UNCH(mmu_map_mmio(m, 0x50000, 0x1000, dev_rd, dev_wr, NULL, NULL), MMU_ERR_NOMEM);
}

/* ------------------------------------------------------ unmap, protect */

Test(bad, unmap_null_handle) { ERR(mmu_unmap(NULL, 0x10000, 0x1000), MMU_ERR_ARG); }
Test(bad, unmap_misaligned)
{
    UNCH(mmu_unmap(m, 0x10800, 0x1000), MMU_ERR_ARG);
    UNCH(mmu_unmap(m, 0x10000, 0x800), MMU_ERR_ARG);
}
Test(bad, unmap_size_zero) { UNCH(mmu_unmap(m, 0x10000, 0), MMU_ERR_ARG); }
Test(bad, unmap_wraps_past_2_64) { UNCH(mmu_unmap(m, 0xfffffffffffff000, 0x2000), MMU_ERR_ARG); }
Test(bad, unmap_beyond_addr_bits)
{
    mmu_t *m32 = open_bits(32);
    OK(mmu_map(m32, 0xfffff000, 0x1000, MMU_PROT_ALL, NULL));
    ERR_UNCHANGED(m32, mmu_unmap(m32, 0xfffff000, 0x2000), MMU_ERR_RANGE);
    mmu_close(m32);
}
Test(bad, unmap_not_fully_mapped)
{
    UNCH(mmu_unmap(m, 0x50000, 0x1000), MMU_ERR_UNMAPPED);
    UNCH(mmu_unmap(m, 0x13000, 0x2000), MMU_ERR_UNMAPPED);
}
Test(bad, unmap_split_allocation_fails)
{
    mmu_alloc_fail_after(0);
    UNCH(mmu_unmap(m, 0x12000, 0x1000), MMU_ERR_NOMEM);
}
Test(bad, unmap_all_null_is_a_no_op) { mmu_unmap_all(NULL); }

Test(bad, protect_null_handle) { ERR(mmu_protect(NULL, 0x10000, 0x1000, 0), MMU_ERR_ARG); }
Test(bad, protect_size_zero) { UNCH(mmu_protect(m, 0x10000, 0, MMU_PROT_READ), MMU_ERR_ARG); }
Test(bad, protect_wraps_past_2_64) { UNCH(mmu_protect(m, 0xfffffffffffffff0, 0x20, MMU_PROT_ALL), MMU_ERR_ARG); }
Test(bad, protect_perms_above_7)
{
    UNCH(mmu_protect(m, 0x10000, 0x1000, 8), MMU_ERR_ARG);
    UNCH(mmu_protect(m, 0x50000, 0x1000, 8), MMU_ERR_ARG); /* before the mapping check */
}
Test(bad, protect_beyond_addr_bits)
{
    mmu_t *m32 = open_bits(32);
    OK(mmu_map(m32, 0xfffff000, 0x1000, MMU_PROT_ALL, NULL));
    ERR_UNCHANGED(m32, mmu_protect(m32, 0xffffffff, 2, MMU_PROT_READ), MMU_ERR_RANGE);
    mmu_close(m32);
}
Test(bad, protect_not_fully_mapped) { UNCH(mmu_protect(m, 0x13800, 0x1000, MMU_PROT_READ), MMU_ERR_UNMAPPED); }
Test(bad, protect_split_allocation_fails)
{
    mmu_alloc_fail_after(0);
    UNCH(mmu_protect(m, 0x12000, 0x1000, MMU_PROT_READ), MMU_ERR_NOMEM);
}

Test(bad, set_label_null_handle) { ERR(mmu_set_label(NULL, 0x10000, 0x1000, "x"), MMU_ERR_ARG); }
Test(bad, set_label_size_zero_or_wrap)
{
    UNCH(mmu_set_label(m, 0x10000, 0, "x"), MMU_ERR_ARG);
    UNCH(mmu_set_label(m, 0xffffffffffffffff, 2, "x"), MMU_ERR_ARG);
}
Test(bad, set_label_not_fully_mapped) { UNCH(mmu_set_label(m, 0x13000, 0x2000, "x"), MMU_ERR_UNMAPPED); }

/* ------------------------------------------------------- free space */

static void ffs_fails(const mmu_t *mm, uint64_t size, uint64_t lo, uint64_t hi, uint64_t align, mmu_err want)
{
    uint64_t out = 42;
    ERR(mmu_find_free_space(mm, size, lo, hi, align, &out), want);
    cr_assert_eq(out, 42, "out-param touched");
}

Test(bad, find_free_space_null_handle_or_out)
{
    ffs_fails(NULL, 0x1000, 0, 0, 0, MMU_ERR_ARG);
    ERR(mmu_find_free_space(m, 0x1000, 0, 0, 0, NULL), MMU_ERR_ARG);
}
Test(bad, find_free_space_size_zero) { ffs_fails(m, 0, 0, 0, 0, MMU_ERR_ARG); }
Test(bad, find_free_space_align_not_power_of_two) { ffs_fails(m, 0x1000, 0, 0, 0x1800, MMU_ERR_ARG); }
Test(bad, find_free_space_domain_too_small)
{
    ffs_fails(m, 0x2000, 0x50000, 0x51000, 0, MMU_ERR_ARG);
    ffs_fails(m, 0x1000, 0x51000, 0x51000, 0, MMU_ERR_ARG);
    ffs_fails(m, 0x1000, 0x52000, 0x51000, 0, MMU_ERR_ARG);
}
Test(bad, find_free_space_max_beyond_addr_bits)
{
    mmu_t *m32 = open_bits(32);
    ffs_fails(m32, 0x1000, 0, 0x200000000, 0, MMU_ERR_ARG);
    mmu_close(m32);
}
Test(bad, find_free_space_no_gap) { ffs_fails(m, 0x1000, 0x10000, 0x14000, 0, MMU_ERR_NOSPACE); }

static void anywhere_fails(uint64_t size, uint64_t lo, uint64_t hi, uint64_t align, unsigned perms, mmu_err want)
{
    uint64_t out = 42;
    UNCH(mmu_map_anywhere(m, size, lo, hi, align, perms, NULL, &out), want);
    cr_assert_eq(out, 42, "out-param touched");
}

Test(bad, map_anywhere_null_handle_or_out)
{
    uint64_t out;
    ERR(mmu_map_anywhere(NULL, 0x1000, 0, 0, 0, MMU_PROT_ALL, NULL, &out), MMU_ERR_ARG);
    UNCH(mmu_map_anywhere(m, 0x1000, 0, 0, 0, MMU_PROT_ALL, NULL, NULL), MMU_ERR_ARG);
}
Test(bad, map_anywhere_size_zero_or_too_big)
{
    anywhere_fails(0, 0, 0, 0, MMU_PROT_ALL, MMU_ERR_ARG);
    anywhere_fails(UINT64_MAX, 0, 0, 0, MMU_PROT_ALL, MMU_ERR_ARG);
}
Test(bad, map_anywhere_align_below_page_or_not_power_of_two)
{
    anywhere_fails(0x1000, 0, 0, 0x800, MMU_PROT_ALL, MMU_ERR_ARG);
    anywhere_fails(0x1000, 0, 0, 0x3000, MMU_PROT_ALL, MMU_ERR_ARG);
}
Test(bad, map_anywhere_perms_above_7) { anywhere_fails(0x1000, 0, 0, 0, 8, MMU_ERR_ARG); }
Test(bad, map_anywhere_domain_too_small) { anywhere_fails(0x2000, 0x50000, 0x51000, 0, MMU_PROT_ALL, MMU_ERR_ARG); }
Test(bad, map_anywhere_no_gap) { anywhere_fails(0x1000, 0x10000, 0x14000, 0, MMU_PROT_ALL, MMU_ERR_NOSPACE); }

Test(bad, is_available_and_is_mapped_null_or_size_zero)
{
    cr_assert_not(mmu_is_available(NULL, 0x50000, 0x1000));
    cr_assert_not(mmu_is_mapped(NULL, 0x10000, 0x1000));
    cr_assert_not(mmu_is_available(m, 0x50000, 0));
    cr_assert_not(mmu_is_mapped(m, 0x10000, 0));
}
Test(bad, is_mapped_wrapping_range) { cr_assert_not(mmu_is_mapped(m, 0xfffffffffffff000, 0x2000)); }

/* ------------------------------------------------------- host access */

Test(bad, read_null_handle_or_buffer)
{
    uint8_t b;
    ERR(mmu_read(NULL, 0x10000, &b, 1), MMU_ERR_ARG);
    ERR(mmu_read(m, 0x10000, NULL, 1), MMU_ERR_ARG);
}
Test(bad, read_unmapped_wrapping_or_beyond_addr_bits)
{
    uint8_t b[4] = { 1, 2, 3, 4 };
    ERR(mmu_read(m, 0x50000, b, 1), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_read(m, 0xfffffffffffffffe, b, 4), MMU_ERR_READ_UNMAPPED);
    cr_assert_arr_eq(b, "\x01\x02\x03\x04", 4);
    mmu_t *m32 = open_bits(32);
    ERR(mmu_read(m32, 0x100000000, b, 1), MMU_ERR_READ_UNMAPPED);
    mmu_close(m32);
}
Test(bad, write_null_handle_or_buffer)
{
    ERR(mmu_write(NULL, 0x10000, "x", 1), MMU_ERR_ARG);
    UNCH(mmu_write(m, 0x10000, NULL, 1), MMU_ERR_ARG);
}
Test(bad, write_unmapped_or_wrapping)
{
    UNCH(mmu_write(m, 0x13ffe, "abcd", 4), MMU_ERR_WRITE_UNMAPPED);
    UNCH(mmu_write(m, 0xfffffffffffffffe, "abcd", 4), MMU_ERR_WRITE_UNMAPPED);
}
Test(bad, read_ptr_null_handle_or_out)
{
    uint64_t v = 42;
    ERR(mmu_read_ptr(NULL, 0x10000, 8, false, &v), MMU_ERR_ARG);
    ERR(mmu_read_ptr(m, 0x10000, 8, false, NULL), MMU_ERR_ARG);
    cr_assert_eq(v, 42);
}
Test(bad, read_ptr_bad_size)
{
    uint64_t v = 42;
    ERR(mmu_read_ptr(m, 0x10000, 3, false, &v), MMU_ERR_ARG);
    ERR(mmu_read_ptr(m, 0x10000, 16, true, &v), MMU_ERR_ARG);
    cr_assert_eq(v, 42);
}
Test(bad, read_ptr_unmapped)
{
    uint64_t v = 42;
    ERR(mmu_read_ptr(m, 0x13ffc, 8, false, &v), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(v, 42);
}
Test(bad, write_ptr_null_handle) { ERR(mmu_write_ptr(NULL, 0x10000, 1, 8, false), MMU_ERR_ARG); }
Test(bad, write_ptr_bad_size) { UNCH(mmu_write_ptr(m, 0x10000, 1, 5, false), MMU_ERR_ARG); }
Test(bad, write_ptr_value_too_wide)
{
    UNCH(mmu_write_ptr(m, 0x10000, 0x100000000, 4, false), MMU_ERR_ARG);
    UNCH(mmu_write_ptr(m, 0x10000, (uint64_t)-1, 2, false), MMU_ERR_ARG);
    UNCH(mmu_write_ptr(m, 0x10000, 0x80, 1, true), MMU_ERR_ARG);
    UNCH(mmu_write_ptr(m, 0x10000, (uint64_t)-0x81, 1, true), MMU_ERR_ARG);
}
Test(bad, write_ptr_unmapped) { UNCH(mmu_write_ptr(m, 0x13ffc, 1, 8, false), MMU_ERR_WRITE_UNMAPPED); }

/* ------------------------------------------------------ guest access */

Test(bad, load_store_fetch_null_handle_or_buffer)
{
    uint8_t b;
    ERR(mmu_load(NULL, 0x10000, &b, 1), MMU_ERR_ARG);
    ERR(mmu_store(NULL, 0x10000, &b, 1), MMU_ERR_ARG);
    ERR(mmu_fetch(NULL, 0x10000, &b, 1), MMU_ERR_ARG);
    ERR(mmu_load(m, 0x10000, NULL, 1), MMU_ERR_ARG);
    UNCH(mmu_store(m, 0x10000, NULL, 1), MMU_ERR_ARG);
    ERR(mmu_fetch(m, 0x10000, NULL, 1), MMU_ERR_ARG);
}
Test(bad, load_store_fetch_unmapped)
{
    uint8_t b[8] = { 9 };
    ERR(mmu_load(m, 0x50000, b, 8), MMU_ERR_READ_UNMAPPED);
    UNCH(mmu_store(m, 0x13ffc, b, 8), MMU_ERR_WRITE_UNMAPPED);
    ERR(mmu_fetch(m, 0x50000, b, 8), MMU_ERR_FETCH_UNMAPPED);
    cr_assert_eq(b[0], 9);
}
Test(bad, load_store_fetch_without_permission)
{
    uint8_t b[8] = { 9 };
    ERR(mmu_load(m, 0x20000, b, 8), MMU_ERR_READ_PROT);
    UNCH(mmu_store(m, 0x11000, b, 8), MMU_ERR_WRITE_PROT);
    ERR(mmu_fetch(m, 0x30000, b, 8), MMU_ERR_FETCH_PROT);
    cr_assert_eq(b[0], 9);
}
Test(bad, load_store_wrapping_past_2_64)
{
    uint64_t v = 42;
    ERR(mmu_load_u64(m, 0xfffffffffffffffc, &v), MMU_ERR_READ_UNMAPPED);
    /* the top page is read-only: the store's first faulting byte is below 2^64 */
    UNCH(mmu_store_u32(m, 0xfffffffffffffffe, 1), MMU_ERR_WRITE_PROT);
    cr_assert_eq(v, 42);
}
Test(bad, load_store_fetch_size_wrapping_past_2_64)
{
    /* (addr & 0xfff) + size overflows to a small number here: with the
     * page in the TLB that once looked like a one-page hit */
    uint8_t b[16] = { 9 };
    size_t huge = SIZE_MAX - 0xf;
    OK(mmu_load(m, 0x12010, b, 1));
    OK(mmu_store(m, 0x12010, b, 1));
    OK(mmu_fetch(m, 0x12010, b, 1));
    b[0] = 9;
    ERR(mmu_load(m, 0x12010, b, huge), MMU_ERR_READ_UNMAPPED);
    UNCH(mmu_store(m, 0x12010, b, huge), MMU_ERR_WRITE_UNMAPPED);
    ERR(mmu_fetch(m, 0x12010, b, huge), MMU_ERR_FETCH_UNMAPPED);
    ERR(mmu_read(m, 0x12010, b, huge), MMU_ERR_READ_UNMAPPED);
    UNCH(mmu_write(m, 0x12010, b, huge), MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(b[0], 9);
}

Test(bad, typed_load_and_store_beyond_addr_bits)
{
    mmu_t *m32 = open_bits(32);
    uint32_t w = 42;
    ERR(mmu_load_u32(m32, 0x100000000, &w), MMU_ERR_READ_UNMAPPED);
    ERR_UNCHANGED(m32, mmu_store_u32(m32, 0x100000000, 1), MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(w, 42);
    mmu_close(m32);
}

/* --------------------------------------------------------------- hooks */

Test(bad, hook_add_null_handle_or_fn)
{
    mmu_hook_id id = 42;
    ERR(mmu_hook_add(NULL, MMU_HOOK_MEM_READ, hook_fn, NULL, 1, 0, &id), MMU_ERR_ARG);
    UNCH(mmu_hook_add(m, MMU_HOOK_MEM_READ, NULL, NULL, 1, 0, &id), MMU_ERR_ARG);
    cr_assert_eq(id, 42);
}
Test(bad, hook_add_bad_types)
{
    mmu_hook_id id = 42;
    UNCH(mmu_hook_add(m, 0, hook_fn, NULL, 1, 0, &id), MMU_ERR_ARG);
    UNCH(mmu_hook_add(m, 1u << 9, hook_fn, NULL, 1, 0, &id), MMU_ERR_ARG);
    UNCH(mmu_hook_add(m, MMU_HOOK_MEM_READ | (1u << 31), hook_fn, NULL, 1, 0, &id), MMU_ERR_ARG);
    cr_assert_eq(id, 42);
}
Test(bad, hook_add_allocation_fails)
{
    mmu_hook_id id = 42;
    for (int i = 0; i < 7; i++) /* fill the hook array to its capacity */
        OK(mmu_hook_add(m, MMU_HOOK_MEM_READ_UNMAPPED, hook_fn, NULL, 1, 0, NULL));
    mmu_alloc_fail_after(0);
    UNCH(mmu_hook_add(m, MMU_HOOK_MEM_READ, hook_fn, NULL, 1, 0, &id), MMU_ERR_NOMEM);
    cr_assert_eq(id, 42);
}
Test(bad, hook_del_null_handle) { ERR(mmu_hook_del(NULL, 1), MMU_ERR_ARG); }
Test(bad, hook_del_unknown_or_deleted_id)
{
    mmu_hook_id id;
    UNCH(mmu_hook_del(m, 0), MMU_ERR_NOTFOUND);
    UNCH(mmu_hook_del(m, 0xffffffffffffffff), MMU_ERR_NOTFOUND);
    OK(mmu_hook_add(m, MMU_HOOK_MEM_READ, hook_fn, NULL, 1, 0, &id));
    OK(mmu_hook_del(m, id));
    UNCH(mmu_hook_del(m, id), MMU_ERR_NOTFOUND);
}

/* ------------------------------------------------ map info, statistics */

Test(bad, regions_null_handle_is_zero) { cr_assert_eq(mmu_regions(NULL, NULL, 0), 0); }
Test(bad, regions_null_out_stores_nothing)
{
    cr_assert_eq(mmu_regions(m, NULL, 0), 7);
    cr_assert_eq(mmu_regions(m, NULL, 5), 7);
}
Test(bad, get_stats_null_handle_or_out)
{
    mmu_stats s;
    memset(&s, 0x5a, sizeof s);
    mmu_get_stats(NULL, &s);
    cr_assert_eq(s.regions, 0x5a5a5a5a5a5a5a5a, "stats written for a NULL handle");
    mmu_get_stats(m, NULL);
}
