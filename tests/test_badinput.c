/*
 * test_badinput.c - the bad-input catalogue of tests/BADINPUT.md: for each
 * public call (MMU lifetime, mapping, host access, strings, search, guest
 * access, hooks, map info, snapshots, statistics, and the CPU), each class
 * of bad argument gets its
 * documented error, leaves out-parameters alone and changes no state (the
 * digest of a populated MMU is compared before and after).
 * One Test per table row; the test name is the row.
 */
#include "alloc.h"
#include "core_util.h"

#include <softmmu/cpu.h>

static mmu_t *m;
static cpu_t *cpu; /* opened by the CPU tests, closed before the MMU */
static uint8_t ptrbuf[0x2000] __attribute__((aligned(4096)));

static uint64_t dev_rd(void *u, uint64_t off, unsigned size) { (void)u, (void)size; return off; }
static void dev_wr(void *u, uint64_t off, unsigned size, uint64_t v) { (void)u, (void)off, (void)size, (void)v; }
static bool hook_fn(mmu_t *mm, const mmu_mem_event *ev, void *u) { (void)mm, (void)ev, (void)u; return false; }

/* a populated MMU: RAM with contents and split entries, a host pointer
 * mapping, a device, the last page of the space, and a hook */
static void setup(void)
{
    sm_alloc_fail_after(-1);
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
    sm_alloc_fail_after(-1);
    cpu_close(cpu);
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
Test(bad, open_tlb_bounds_bad)
{
    open_fails(&(mmu_config){ .tlb_min = 3 }, MMU_ERR_ARG);
    open_fails(&(mmu_config){ .tlb_max = 1u << 17 }, MMU_ERR_ARG);
    open_fails(&(mmu_config){ .tlb_min = 1024, .tlb_max = 512 }, MMU_ERR_ARG);
}
Test(bad, open_allocation_fails)
{
    sm_alloc_fail_after(0);
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
    sm_alloc_fail_after(0);
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
    sm_alloc_fail_after(0);
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
    sm_alloc_fail_after(0);
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
    sm_alloc_fail_after(0);
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

/* While a snapshot is attached the first write to a page copies it first;
 * with that allocation failing every writing call is MMU_ERR_NOMEM and
 * writes nothing (the hooked page 0x10000 is avoided: hooks fire only for
 * accesses that happen). */
#define NOMEM_UNCH(call) UNCH((sm_alloc_fail_after(0), call), MMU_ERR_NOMEM)

Test(bad, writes_under_a_snapshot_allocation_fails)
{
    mmu_snapshot *s;
    OK(mmu_snapshot_save(m, &s));
    NOMEM_UNCH(mmu_write(m, 0x12ffe, "abcd", 4)); /* two pages */
    NOMEM_UNCH(mmu_write_ptr(m, 0x12000, 0x1234, 2, false));
    NOMEM_UNCH(mmu_write_string(m, 0x13000, "str"));
    NOMEM_UNCH(mmu_store(m, 0x12000, "abcd", 4));
    NOMEM_UNCH(mmu_store_u64(m, 0x13008, 7));
    sm_alloc_fail_after(-1);
    mmu_snapshot_free(s);
}

Test(bad, get_config_null_writes_nothing)
{
    mmu_config c = { .addr_bits = 99 };
    mmu_get_config(NULL, &c);
    cr_assert_eq(c.addr_bits, 99, "out-param touched");
    mmu_get_config(m, NULL);
    mmu_get_config(m, &c);
    cr_assert(c.addr_bits == 64 && c.ptr_size == 8 && !c.big_endian);
    bool hard_tlb_build = c.tlb_entries == 1 && c.tlb_min == 1 && c.tlb_max == 1;
    cr_assert(hard_tlb_build || (c.tlb_entries == 0 && c.tlb_min == 256 && c.tlb_max == 65536),
              "dynamic TLB, defaults resolved");
}

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
    sm_alloc_fail_after(0);
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

/* -------------------------------------------------------- host pointers */

Test(bad, host_ptr_bad_arguments)
{
    void *p = (void *)0x1234;
    ERR(mmu_host_ptr(NULL, 0x10000, 1, 0, &p), MMU_ERR_ARG);
    UNCH(mmu_host_ptr(m, 0x10000, 1, 0, NULL), MMU_ERR_ARG);
    UNCH(mmu_host_ptr(m, 0x10000, 0, 0, &p), MMU_ERR_ARG);
    UNCH(mmu_host_ptr(m, 0x10000, 1, 4, &p), MMU_ERR_ARG);
    UNCH(mmu_host_ptr(m, 0xfffffffffffff000, 0x2000, 0, &p), MMU_ERR_ARG);
    UNCH(mmu_host_ptr(m, 0x40000, 8, MMU_HOST_WRITE, &p), MMU_ERR_ARG);
    UNCH(mmu_host_ptr(m, 0x13000, 0x2000, MMU_HOST_WRITE, &p), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(p, (void *)0x1234, "out-param touched");
}
Test(bad, host_ptr_allocation_fails)
{
    void *p = (void *)0x1234;
    mmu_snapshot *s;
    OK(mmu_snapshot_save(m, &s));
    sm_alloc_fail_after(0);
    UNCH(mmu_host_ptr(m, 0x10000, 0x4000, MMU_HOST_WRITE, &p), MMU_ERR_NOMEM);
    sm_alloc_fail_after(-1);
    cr_assert_eq(p, (void *)0x1234, "out-param touched");
    mmu_snapshot_free(s);
}

/* -------------------------------------------------------- introspection */

static bool leaf_fn(void *u, const mmu_pt_leaf *l) { (void)l; return ++*(int *)u < 0; }

Test(bad, cancel_outside_a_callback_is_a_no_op)
{
    mmu_cancel_access(NULL);
    uint64_t d = mmu_digest(m);
    mmu_cancel_access(m);
    OK(mmu_store(m, 0x12000, "x", 1)); /* not cancelled later either */
    cr_assert_neq(mmu_digest(m), d);
}

Test(bad, explain_null_or_bad_kind)
{
    mmu_translation t;
    memset(&t, 0x5a, sizeof t);
    mmu_translation before = t;
    ERR(mmu_explain(NULL, 0x10000, MMU_ACCESS_READ, &t), MMU_ERR_ARG);
    UNCH(mmu_explain(m, 0x10000, MMU_ACCESS_READ, NULL), MMU_ERR_ARG);
    UNCH(mmu_explain(m, 0x10000, (mmu_access)7, &t), MMU_ERR_ARG);
    cr_assert_eq(memcmp(&t, &before, sizeof t), 0, "out-param touched");
}
Test(bad, pt_walk_null)
{
    int calls = 0;
    ERR(mmu_pt_walk(NULL, leaf_fn, &calls), MMU_ERR_ARG);
    UNCH(mmu_pt_walk(m, NULL, &calls), MMU_ERR_ARG);
    cr_assert_eq(calls, 0);
}
Test(bad, pt_walk_allocation_fails)
{
    int calls = 0;
    sm_alloc_fail_after(0);
    UNCH(mmu_pt_walk(m, leaf_fn, &calls), MMU_ERR_NOMEM);
    sm_alloc_fail_after(-1);
    cr_assert_eq(calls, 0, "no leaf reported on failure");
}
Test(bad, tlb_dump_and_hooks_null)
{
    mmu_tlb_slot slot = { .slot = 42 };
    mmu_hook_info h = { .id = 42 };
    uint64_t n = 42;
    cr_assert_eq(mmu_tlb_dump(NULL, &slot, 1, &n), 0);
    cr_assert_eq(mmu_hooks(NULL, &h, 1), 0);
    cr_assert(slot.slot == 42 && n == 42 && h.id == 42, "out-params touched");
    cr_assert_eq(mmu_hooks(m, NULL, 0), 1, "NULL out with max 0 only counts");
}
Test(bad, snapshot_info_null)
{
    mmu_snapshot_summary i = { .regions = 42 };
    ERR(mmu_snapshot_info(NULL, &i), MMU_ERR_ARG);
    cr_assert_eq(i.regions, 42, "out-param touched");
    mmu_snapshot *s;
    OK(mmu_snapshot_save(m, &s));
    ERR(mmu_snapshot_info(s, NULL), MMU_ERR_ARG);
    mmu_snapshot_free(s);
}

/* ------------------------------------------------------------- strings */

/* the pattern RAM at 0x10000 holds its first NUL at offset 99 and none in
 * [0x13ff0, 0x14000), so a string there runs into the unmapped 0x14000 */
static void read_string_fails(mmu_t *mm, uint64_t addr, char *buf, size_t cap, mmu_err want)
{
    char copy[128];
    size_t len = 42;
    if (buf)
        memcpy(copy, buf, cap);
    ERR(mmu_read_string(mm, addr, buf, cap, &len), want);
    cr_assert_eq(len, 42, "out_len touched");
    if (buf)
        cr_assert_arr_eq(buf, copy, cap, "buf touched");
}

Test(bad, read_string_null_handle_buffer_or_cap_zero)
{
    char buf[16];
    memset(buf, 0x5a, sizeof buf);
    read_string_fails(NULL, 0x10000, buf, sizeof buf, MMU_ERR_ARG);
    read_string_fails(m, 0x10000, NULL, 16, MMU_ERR_ARG);
    read_string_fails(m, 0x10000, buf, 0, MMU_ERR_ARG);
}
Test(bad, read_string_no_nul_within_cap)
{
    char buf[100];
    memset(buf, 0x5a, sizeof buf);
    read_string_fails(m, 0x10000, buf, 99, MMU_ERR_NOTFOUND); /* 99 bytes, no room for the NUL */
    read_string_fails(m, 0x10000, buf, 1, MMU_ERR_NOTFOUND);
    size_t len = 0;
    OK(mmu_read_string(m, 0x10000, buf, 100, &len)); /* one more byte fits it */
    cr_assert_eq(len, 99);
}
Test(bad, read_string_runs_into_unmapped)
{
    char buf[100];
    memset(buf, 0x5a, sizeof buf);
    read_string_fails(m, 0x13ff0, buf, sizeof buf, MMU_ERR_READ_UNMAPPED);
    read_string_fails(m, 0x50000, buf, sizeof buf, MMU_ERR_READ_UNMAPPED);
}
Test(bad, write_string_null_handle_or_string)
{
    ERR(mmu_write_string(NULL, 0x10000, "x"), MMU_ERR_ARG);
    UNCH(mmu_write_string(m, 0x10000, NULL), MMU_ERR_ARG);
}
Test(bad, write_string_unmapped)
{
    UNCH(mmu_write_string(m, 0x13ffc, "abcd"), MMU_ERR_WRITE_UNMAPPED); /* the NUL lands on 0x14000 */
    UNCH(mmu_write_string(m, 0x50000, ""), MMU_ERR_WRITE_UNMAPPED);
}

/* -------------------------------------------------------------- search */

static void compile_fails(const char *hex, mmu_err want)
{
    mmu_pattern *p = (mmu_pattern *)(uintptr_t)0x1234;
    ERR(mmu_pattern_compile(hex, &p), want);
    cr_assert_eq(p, (mmu_pattern *)(uintptr_t)0x1234, "out-param touched for \"%s\"", hex ? hex : "(null)");
}

Test(bad, pattern_compile_null_hex_or_out)
{
    compile_fails(NULL, MMU_ERR_ARG);
    ERR(mmu_pattern_compile("4F 53", NULL), MMU_ERR_ARG);
}
Test(bad, pattern_compile_empty)
{
    compile_fails("", MMU_ERR_ARG);
    compile_fails("   ", MMU_ERR_ARG);
}
Test(bad, pattern_compile_bad_syntax)
{
    compile_fails("4F 5", MMU_ERR_ARG);           /* odd nibble count */
    compile_fails("4F5", MMU_ERR_ARG);
    compile_fails("( 0F | 1A", MMU_ERR_ARG);      /* unclosed group */
    compile_fails("( 0F | 1A 2B )", MMU_ERR_ARG); /* unequal-length alternatives */
    compile_fails("4G", MMU_ERR_ARG);             /* bad char */
    compile_fails("4F ~", MMU_ERR_ARG);           /* lone ~ */
    compile_fails("~", MMU_ERR_ARG);
}
Test(bad, pattern_compile_allocation_fails)
{
    sm_alloc_fail_after(0);
    compile_fails("4F ?? ( 0F | 1A )", MMU_ERR_NOMEM);
}
Test(bad, pattern_free_null_is_a_no_op) { mmu_pattern_free(NULL); }

/* out[] and *out_count keep their sentinels */
#define SEARCH_FAILS(call, want)                                                          \
    do {                                                                                  \
        UNCH(call, want);                                                                 \
        cr_assert_eq(cnt, 42, "out_count touched");                                       \
        cr_assert_eq(hits[0], 42, "out touched");                                         \
    } while (0)

Test(bad, search_null_handle_or_needle)
{
    uint64_t hits[4] = { 42 };
    size_t cnt = 42;
    ERR(mmu_search(NULL, "\x03", 1, 0, 0, 0, hits, 4, &cnt), MMU_ERR_ARG);
    SEARCH_FAILS(mmu_search(m, NULL, 1, 0, 0, 0, hits, 4, &cnt), MMU_ERR_ARG);
    cr_assert_eq(cnt, 42);
}
Test(bad, search_len_zero) { uint64_t hits[4] = { 42 }; size_t cnt = 42;
    SEARCH_FAILS(mmu_search(m, "\x03", 0, 0, 0, 0, hits, 4, &cnt), MMU_ERR_ARG); }
Test(bad, search_begin_not_below_end)
{
    uint64_t hits[4] = { 42 };
    size_t cnt = 42;
    SEARCH_FAILS(mmu_search(m, "\x03", 1, 0x12000, 0x12000, 0, hits, 4, &cnt), MMU_ERR_ARG);
    SEARCH_FAILS(mmu_search(m, "\x03", 1, 0x13000, 0x12000, 0, hits, 4, &cnt), MMU_ERR_ARG);
}
Test(bad, search_out_null_with_max_out)
{
    uint64_t hits[4] = { 42 };
    size_t cnt = 42;
    SEARCH_FAILS(mmu_search(m, "\x03", 1, 0, 0, 0, NULL, 4, &cnt), MMU_ERR_ARG);
}
Test(bad, search_unknown_flags)
{
    uint64_t hits[4] = { 42 };
    size_t cnt = 42;
    SEARCH_FAILS(mmu_search(m, "\x03", 1, 0, 0, 2, hits, 4, &cnt), MMU_ERR_ARG);
    SEARCH_FAILS(mmu_search(m, "\x03", 1, 0, 0, MMU_SEARCH_CROSS | (1u << 31), hits, 4, &cnt), MMU_ERR_ARG);
}

Test(bad, search_pattern_bad_arguments)
{
    uint64_t hits[4] = { 42 };
    size_t cnt = 42;
    mmu_pattern *p;
    OK(mmu_pattern_compile("03 ?2", &p));
    ERR(mmu_search_pattern(NULL, p, 0, 0, 0, hits, 4, &cnt), MMU_ERR_ARG);
    SEARCH_FAILS(mmu_search_pattern(m, NULL, 0, 0, 0, hits, 4, &cnt), MMU_ERR_ARG);
    SEARCH_FAILS(mmu_search_pattern(m, p, 0x12000, 0x12000, 0, hits, 4, &cnt), MMU_ERR_ARG);
    SEARCH_FAILS(mmu_search_pattern(m, p, 0x13000, 0x12000, 0, hits, 4, &cnt), MMU_ERR_ARG);
    SEARCH_FAILS(mmu_search_pattern(m, p, 0, 0, 0, NULL, 4, &cnt), MMU_ERR_ARG);
    SEARCH_FAILS(mmu_search_pattern(m, p, 0, 0, 4, hits, 4, &cnt), MMU_ERR_ARG);
    cr_assert_eq(cnt, 42);
    mmu_pattern_free(p);
}

/* ------------------------------------------------------------ map info */

Test(bad, format_mapinfo_null_handle_or_buffer)
{
    char buf[16];
    size_t len = 42;
    memset(buf, 0x5a, sizeof buf);
    ERR(mmu_format_mapinfo(NULL, buf, sizeof buf, &len), MMU_ERR_ARG);
    ERR(mmu_format_mapinfo(m, NULL, 16, &len), MMU_ERR_ARG);
    cr_assert_eq(len, 42, "out_len touched");
    cr_assert_eq(buf[0], 0x5a, "buf touched");
}
Test(bad, format_mapinfo_buffer_too_small)
{
    static char big[8192], buf[8192];
    size_t need = 0, len = 42;
    OK(mmu_format_mapinfo(m, big, sizeof big, &need));
    cr_assert_gt(need, 0);
    memset(buf, 0x5a, sizeof buf);
    size_t caps[] = { 1, need / 2, need }; /* need: no room for the NUL */
    for (size_t i = 0; i < sizeof caps / sizeof *caps; i++) {
        len = 42;
        ERR(mmu_format_mapinfo(m, buf, caps[i], &len), MMU_ERR_ARG);
        cr_assert_eq(len, need, "cap %zu: out_len %zu, want the length needed %zu", caps[i], len, need);
        for (size_t k = 0; k < sizeof buf; k++)
            cr_assert_eq(buf[k], 0x5a, "cap %zu: buf[%zu] touched", caps[i], k);
    }
    len = 42;
    ERR(mmu_format_mapinfo(m, NULL, 0, &len), MMU_ERR_ARG); /* a size query */
    cr_assert_eq(len, need);
    ERR(mmu_format_mapinfo(m, buf, 1, NULL), MMU_ERR_ARG);
    cr_assert_eq(buf[0], 0x5a);
}

static void lib_base_fails(const mmu_t *mm, const char *name, mmu_err want)
{
    uint64_t out = 42;
    ERR(mmu_lib_base(mm, name, &out), want);
    cr_assert_eq(out, 42, "out-param touched");
}

Test(bad, lib_base_null_arguments)
{
    lib_base_fails(NULL, "ram", MMU_ERR_ARG);
    lib_base_fails(m, NULL, MMU_ERR_ARG);
    ERR(mmu_lib_base(m, "ram", NULL), MMU_ERR_ARG);
}
Test(bad, lib_base_not_found)
{
    lib_base_fails(m, "libc.so.6", MMU_ERR_NOTFOUND);
    lib_base_fails(m, "ra", MMU_ERR_NOTFOUND);  /* not a prefix match */
    lib_base_fails(m, "RAM", MMU_ERR_NOTFOUND); /* case-sensitive */
    lib_base_fails(m, "", MMU_ERR_NOTFOUND);
}

/* ----------------------------------------------------------- snapshots */

Test(bad, snapshot_save_null_handle_or_out)
{
    mmu_snapshot *s = (mmu_snapshot *)(uintptr_t)0x1234;
    ERR(mmu_snapshot_save(NULL, &s), MMU_ERR_ARG);
    UNCH(mmu_snapshot_save(m, NULL), MMU_ERR_ARG);
    cr_assert_eq(s, (mmu_snapshot *)(uintptr_t)0x1234, "out-param touched");
}
Test(bad, snapshot_save_allocation_fails)
{
    mmu_snapshot *s = (mmu_snapshot *)(uintptr_t)0x1234;
    sm_alloc_fail_after(0);
    UNCH(mmu_snapshot_save(m, &s), MMU_ERR_NOMEM);
    cr_assert_eq(s, (mmu_snapshot *)(uintptr_t)0x1234, "out-param touched");
}
Test(bad, snapshot_restore_null_handle_or_snapshot)
{
    mmu_snapshot *s;
    OK(mmu_snapshot_save(m, &s));
    OK(mmu_write(m, 0x10000, "changed", 7)); /* so a restore would show */
    ERR(mmu_snapshot_restore(NULL, s), MMU_ERR_ARG);
    UNCH(mmu_snapshot_restore(m, NULL), MMU_ERR_ARG);
    mmu_snapshot_free(s);
}
Test(bad, snapshot_restore_beyond_a_smaller_address_space)
{
    mmu_snapshot *s;
    OK(mmu_snapshot_save(m, &s)); /* holds the last page of the 64-bit space */
    mmu_t *m32 = open_bits(32);
    OK(mmu_map(m32, 0x10000, 0x1000, MMU_PROT_ALL, "small"));
    fill_pattern(m32, 0x10000, 0x1000, 5);
    ERR_UNCHANGED(m32, mmu_snapshot_restore(m32, s), MMU_ERR_ARG);
    EXPECT_MAP(m32, RG(0x10000, 0x11000, MMU_PROT_ALL, "small"));
    mmu_close(m32);
    mmu_snapshot_free(s);
}
Test(bad, snapshot_free_null_is_a_no_op) { mmu_snapshot_free(NULL); }

/* the populated MMU without its device, whose snapshots can be written */
static mmu_snapshot *save_without_mmio(void)
{
    mmu_snapshot *s;
    OK(mmu_unmap(m, 0x40000, 0x1000));
    OK(mmu_snapshot_save(m, &s));
    return s;
}

Test(bad, snapshot_write_null_arguments)
{
    mmu_snapshot *s = save_without_mmio();
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    ERR(mmu_snapshot_write(NULL, f), MMU_ERR_ARG);
    ERR(mmu_snapshot_write(s, NULL), MMU_ERR_ARG);
    cr_assert_eq(ftell(f), 0, "bytes written");
    fclose(f);
    mmu_snapshot_free(s);
}
Test(bad, snapshot_write_with_mmio)
{
    mmu_snapshot *s;
    OK(mmu_snapshot_save(m, &s));
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    ERR(mmu_snapshot_write(s, f), MMU_ERR_ARG);
    fflush(f);
    fseek(f, 0, SEEK_END);
    cr_assert_eq(ftell(f), 0, "bytes written");
    fclose(f);
    mmu_snapshot_free(s);
}
Test(bad, snapshot_write_error)
{
    mmu_snapshot *s = save_without_mmio();
    FILE *f = fopen("/dev/full", "wb");
    if (!f)
        cr_skip_test("no /dev/full");
    ERR(mmu_snapshot_write(s, f), MMU_ERR_CORRUPT);
    fclose(f);
    mmu_snapshot_free(s);
}

static void snapshot_read_fails(FILE *f, mmu_err want)
{
    mmu_snapshot *s = (mmu_snapshot *)(uintptr_t)0x1234;
    ERR(mmu_snapshot_read(f, &s), want);
    cr_assert_eq(s, (mmu_snapshot *)(uintptr_t)0x1234, "out-param touched");
}

/* a tmpfile holding n bytes of data, rewound */
static FILE *file_of(const void *data, size_t n)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    rewind(f);
    return f;
}

Test(bad, snapshot_read_null_arguments)
{
    FILE *f = file_of("x", 1);
    snapshot_read_fails(NULL, MMU_ERR_ARG);
    ERR(mmu_snapshot_read(f, NULL), MMU_ERR_ARG);
    fclose(f);
}
Test(bad, snapshot_read_garbage_or_truncated)
{
    static char junk[5000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 7 + 1);
    FILE *f = file_of(junk, sizeof junk);
    snapshot_read_fails(f, MMU_ERR_CORRUPT);
    fclose(f);
    f = file_of("", 0);
    snapshot_read_fails(f, MMU_ERR_CORRUPT);
    fclose(f);
    f = file_of("SMMUSNAP\x01\0\0\0", 12); /* a header cut short */
    snapshot_read_fails(f, MMU_ERR_CORRUPT);
    fclose(f);
}
Test(bad, snapshot_read_bit_flip)
{
    mmu_snapshot *s = save_without_mmio();
    char *data = NULL;
    size_t n = 0;
    FILE *mf = open_memstream(&data, &n);
    OK(mmu_snapshot_write(s, mf));
    fclose(mf);
    mmu_snapshot_free(s);
    cr_assert_gt(n, 64);
    size_t at[] = { 3, 9, 12, 40, n / 2, n - 1 }; /* magic, version, flags, region, page, trailer */
    for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
        data[at[i]] ^= 0x10;
        FILE *f = file_of(data, n);
        snapshot_read_fails(f, MMU_ERR_CORRUPT);
        fclose(f);
        data[at[i]] ^= 0x10;
    }
    free(data);
}

/* ------------------------------------------------------------------ CPU */

/* the call fails with want and changes neither the MMU nor a register */
#define CPU_UNCH(call, want)                                                              \
    do {                                                                                  \
        cpu_context rb_, ra_;                                                             \
        cpu_context_save(cpu, &rb_);                                                      \
        UNCH(call, want);                                                                 \
        cpu_context_save(cpu, &ra_);                                                      \
        cr_assert(memcmp(&rb_, &ra_, sizeof rb_) == 0, "%s changed the registers", #call); \
    } while (0)

/* a CPU on the populated MMU, every register set to a distinct value and
 * the stack pointer at sp */
static void open_cpu(uint64_t sp)
{
    OK(cpu_open(m, &cpu));
    for (unsigned r = 0; r < CPU_REG_COUNT; r++)
        cpu_reg_write(cpu, (cpu_reg)r, UINT64_C(0x1111111111111111) * (r % 15 + 1));
    cpu_reg_write(cpu, CPU_RSP, sp);
}

static void cpu_open_fails(mmu_t *mm, mmu_err want)
{
    cpu_t *out = (cpu_t *)(uintptr_t)0x1234;
    ERR(cpu_open(mm, &out), want);
    cr_assert_eq(out, (cpu_t *)(uintptr_t)0x1234, "out-param touched");
}

Test(bad, cpu_open_null_handle_or_out)
{
    cpu_open_fails(NULL, MMU_ERR_ARG);
    UNCH(cpu_open(m, NULL), MMU_ERR_ARG);
}
Test(bad, cpu_open_big_endian_mmu)
{
    mmu_t *be = NULL;
    OK(mmu_open(&(mmu_config){ .big_endian = true }, &be));
    OK(mmu_map(be, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    uint64_t d = mmu_digest(be);
    cpu_open_fails(be, MMU_ERR_ARG);
    cr_assert_eq(mmu_digest(be), d);
    mmu_close(be);
}
Test(bad, cpu_open_allocation_fails)
{
    sm_alloc_fail_after(0);
    uint64_t d = mmu_digest(m);
    cpu_open_fails(m, MMU_ERR_NOMEM);
    cr_assert_eq(mmu_digest(m), d);
}
Test(bad, cpu_close_null_is_a_no_op)
{
    cpu_close(NULL);
    cr_assert_eq(cpu_insn_count(NULL), 0);
    cpu_tsc_deterministic(NULL, 1, 1);
}

Test(bad, stack_ops_null_cpu_or_out)
{
    uint64_t v = 42;
    open_cpu(0x12800);
    ERR(cpu_stack_push(NULL, 1, &v), MMU_ERR_ARG);
    ERR(cpu_stack_pop(NULL, &v), MMU_ERR_ARG);
    ERR(cpu_stack_read(NULL, 0, &v), MMU_ERR_ARG);
    ERR(cpu_stack_write(NULL, 0, 1), MMU_ERR_ARG);
    CPU_UNCH(cpu_stack_pop(cpu, NULL), MMU_ERR_ARG);
    CPU_UNCH(cpu_stack_read(cpu, 0, NULL), MMU_ERR_ARG);
    cr_assert_eq(v, 42, "out-param touched");
}
Test(bad, stack_push_unmapped)
{
    uint64_t sp = 42;
    open_cpu(0x10000); /* the slot below is unmapped */
    CPU_UNCH(cpu_stack_push(cpu, 1, &sp), MMU_ERR_WRITE_UNMAPPED);
    CPU_UNCH(cpu_stack_push(cpu, 1, NULL), MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(sp, 42, "out_new_sp touched");
    cpu_reg_write(cpu, CPU_RSP, 0x50008);
    CPU_UNCH(cpu_stack_push(cpu, 1, &sp), MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(sp, 42, "out_new_sp touched");
}
Test(bad, stack_pop_unmapped)
{
    uint64_t v = 42;
    open_cpu(0x13ffc); /* the word runs into the unmapped 0x14000 */
    CPU_UNCH(cpu_stack_pop(cpu, &v), MMU_ERR_READ_UNMAPPED);
    cpu_reg_write(cpu, CPU_RSP, 0x50000);
    CPU_UNCH(cpu_stack_pop(cpu, &v), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(v, 42, "out-param touched");
}
Test(bad, stack_read_and_write_unmapped)
{
    uint64_t v = 42;
    open_cpu(0x13000);
    CPU_UNCH(cpu_stack_read(cpu, 0x1000, &v), MMU_ERR_READ_UNMAPPED);
    CPU_UNCH(cpu_stack_read(cpu, -0x3008, &v), MMU_ERR_READ_UNMAPPED);
    CPU_UNCH(cpu_stack_write(cpu, 0xffc, 1), MMU_ERR_WRITE_UNMAPPED);
    CPU_UNCH(cpu_stack_write(cpu, -0x3008, 1), MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(v, 42, "out-param touched");
}

Test(bad, stack_push_and_write_under_a_snapshot_allocation_fails)
{
    mmu_snapshot *s;
    uint64_t sp = 42;
    open_cpu(0x12800);
    OK(mmu_snapshot_save(m, &s));
    sm_alloc_fail_after(0);
    CPU_UNCH(cpu_stack_push(cpu, 1, &sp), MMU_ERR_NOMEM);
    cr_assert_eq(sp, 42, "out_new_sp touched");
    sm_alloc_fail_after(0);
    CPU_UNCH(cpu_stack_write(cpu, 8, 1), MMU_ERR_NOMEM);
    sm_alloc_fail_after(-1);
    mmu_snapshot_free(s);
}

/* nop; hlt at 0x12000 (RAM, rwx) */
static void put_nop_hlt(void) { OK(mmu_write(m, 0x12000, "\x90\xf4", 2)); }

Test(bad, run_null_cpu)
{
    cpu_exit ex = (cpu_exit)42;
    ERR(cpu_run(NULL, 0x12000, 0, 0, &ex), MMU_ERR_ARG);
    cr_assert_eq(ex, (cpu_exit)42, "out_exit touched");
}

static struct {
    int      calls;
    mmu_err  err;
    cpu_exit ex;
    bool     regs_same, mem_same;
} nested;

static void nested_run_hook(cpu_t *c, uint64_t addr, unsigned size, void *u)
{
    (void)addr, (void)size, (void)u;
    cpu_context before, after;
    cpu_context_save(c, &before);
    uint64_t d = mmu_digest(cpu_mmu(c));
    nested.ex = (cpu_exit)42;
    nested.err = cpu_run(c, 0x12000, 0, 1, &nested.ex);
    cpu_context_save(c, &after);
    nested.regs_same = !memcmp(&before, &after, sizeof before);
    nested.mem_same = mmu_digest(cpu_mmu(c)) == d;
    nested.calls++;
}

Test(bad, run_nested_from_a_hook)
{
    cpu_exit ex;
    put_nop_hlt();
    open_cpu(0x12800);
    OK(cpu_hook_code(cpu, nested_run_hook, NULL, 0x12000, 0x12000, NULL));
    OK(cpu_run(cpu, 0x12000, 0, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_HLT, "the outer run went on");
    cr_assert_eq(cpu_reg_read(cpu, CPU_RIP), 0x12002);
    cr_assert_eq(nested.calls, 1);
    ERR(nested.err, MMU_ERR_ARG);
    cr_assert_eq(nested.ex, (cpu_exit)42, "out_exit touched");
    cr_assert(nested.regs_same, "the nested call changed the registers");
    cr_assert(nested.mem_same, "the nested call changed the MMU");
}

static void code_hook(cpu_t *c, uint64_t a, unsigned s, void *u) { (void)c, (void)a, (void)s, (void)u; }
static bool sys_hook(cpu_t *c, void *u) { (void)c, (void)u; return false; }

Test(bad, hook_code_and_syscall_null_cpu_or_fn)
{
    mmu_hook_id id = 42;
    open_cpu(0x12800);
    ERR(cpu_hook_code(NULL, code_hook, NULL, 1, 0, &id), MMU_ERR_ARG);
    ERR(cpu_hook_syscall(NULL, sys_hook, NULL, &id), MMU_ERR_ARG);
    CPU_UNCH(cpu_hook_code(cpu, NULL, NULL, 1, 0, &id), MMU_ERR_ARG);
    CPU_UNCH(cpu_hook_syscall(cpu, NULL, NULL, &id), MMU_ERR_ARG);
    cr_assert_eq(id, 42, "out_id touched");
}
Test(bad, cpu_hook_del_null_cpu) { ERR(cpu_hook_del(NULL, 1), MMU_ERR_ARG); }
Test(bad, cpu_hook_del_unknown_or_deleted_id)
{
    mmu_hook_id mid, cid, sid;
    open_cpu(0x12800);
    CPU_UNCH(cpu_hook_del(cpu, 0), MMU_ERR_NOTFOUND);
    CPU_UNCH(cpu_hook_del(cpu, 0xffffffffffffffff), MMU_ERR_NOTFOUND);
    OK(cpu_hook_code(cpu, code_hook, NULL, 1, 0, &cid));
    OK(cpu_hook_syscall(cpu, sys_hook, NULL, &sid));
    OK(cpu_hook_del(cpu, cid));
    OK(cpu_hook_del(cpu, sid));
    CPU_UNCH(cpu_hook_del(cpu, cid), MMU_ERR_NOTFOUND);
    CPU_UNCH(cpu_hook_del(cpu, sid), MMU_ERR_NOTFOUND);
    /* an MMU hook is not a CPU hook: it stays */
    OK(mmu_hook_add(m, MMU_HOOK_MEM_READ, hook_fn, NULL, 1, 0, &mid));
    CPU_UNCH(cpu_hook_del(cpu, mid), MMU_ERR_NOTFOUND);
    OK(mmu_hook_del(m, mid));
}

Test(bad, reg_read_and_write_out_of_range)
{
    cpu_context before, after;
    open_cpu(0x12800);
    cpu_context_save(cpu, &before);
    uint64_t d = mmu_digest(m);
    cpu_reg bad[] = { CPU_REG_COUNT, (cpu_reg)(CPU_REG_COUNT + 1), (cpu_reg)1000, (cpu_reg)-1 };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(cpu_reg_read(cpu, bad[i]), 0, "register %d read non-zero", (int)bad[i]);
        cpu_reg_write(cpu, bad[i], 0xdeadbeef);
    }
    cpu_context_save(cpu, &after);
    cr_assert(memcmp(&before, &after, sizeof before) == 0, "an out-of-range write changed a register");
    cr_assert_eq(mmu_digest(m), d);
}
