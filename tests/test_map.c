/*
 * test_map.c - mapping semantics against the verified Qiling tables
 * (qiling-semantics.md 3.1-3.7, 3.13): map, unmap, protect, set_label,
 * map_anywhere, find_free_space, is_available/is_mapped, address-space
 * limits, scale, host memory and statistics.
 */
#include "core_util.h"
#include "alloc.h"
#include "mmu_int.h" /* host pointer identity for the no-copy checks */

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static mmu_t *m;

static void setup(void) { OK(mmu_open(NULL, &m)); }
static void teardown(void) { mmu_close(m); }

TestSuite(map, .init = setup, .fini = teardown);
TestSuite(unmap, .init = setup, .fini = teardown);
TestSuite(protect, .init = setup, .fini = teardown);
TestSuite(anywhere, .init = setup, .fini = teardown);
TestSuite(freespace, .init = setup, .fini = teardown);
TestSuite(query, .init = setup, .fini = teardown);
TestSuite(space);
TestSuite(scale, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(hostmem, .init = setup, .fini = teardown);
TestSuite(stats, .init = setup, .fini = teardown);

/* ------------------------------------------------------------------ map */

Test(map, adjacent_maps_stay_two_entries)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x2000, 0x1000, MMU_PROT_READ, "adj"));
    EXPECT_MAP(m, RG(0x1000, 0x2000, 7, "[mapped]"), RG(0x2000, 0x3000, 1, "adj"));
}

Test(map, identical_adjacent_maps_are_never_merged)
{
    OK(mmu_map(m, 0x2000, 0x1000, MMU_PROT_ALL, "same"));
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, "same"));
    OK(mmu_map(m, 0x3000, 0x1000, MMU_PROT_ALL, "same"));
    EXPECT_MAP(m, RG(0x1000, 0x2000, 7, "same"), RG(0x2000, 0x3000, 7, "same"), RG(0x3000, 0x4000, 7, "same"));
}

Test(map, misaligned_address_is_arg_and_maps_nothing)
{
    ERR_UNCHANGED(m, mmu_map(m, 0x1001, 0x1000, MMU_PROT_ALL, NULL), MMU_ERR_ARG);
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
}

Test(map, size_not_a_page_multiple_is_arg)
{
    ERR_UNCHANGED(m, mmu_map(m, 0x1000, 0x800, MMU_PROT_ALL, NULL), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_map(m, 0x1000, 0x1800, MMU_PROT_ALL, NULL), MMU_ERR_ARG);
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
}

Test(map, size_zero_is_arg)
{
    ERR_UNCHANGED(m, mmu_map(m, 0x1000, 0, MMU_PROT_ALL, NULL), MMU_ERR_ARG);
}

Test(map, perms_above_7_is_arg)
{
    ERR_UNCHANGED(m, mmu_map(m, 0x1000, 0x1000, 8, NULL), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_map(m, 0x1000, 0x1000, 0xf, NULL), MMU_ERR_ARG);
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
}

Test(map, every_perms_value_is_recorded)
{
    for (unsigned p = 0; p <= 7; p++)
        OK(mmu_map(m, 0x10000 + p * 0x1000, 0x1000, p, NULL));
    mmu_region r[8];
    cr_assert_eq(mmu_regions(m, r, 8), 8);
    for (unsigned p = 0; p <= 7; p++)
        cr_assert_eq(r[p].perms, p);
}

Test(map, same_range_twice_is_mapped_error)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    ERR_UNCHANGED(m, mmu_map(m, 0x10000, 0x2000, MMU_PROT_READ, "B"), MMU_ERR_MAPPED);
    EXPECT_MAP(m, RG(0x10000, 0x12000, 7, "A"));
}

Test(map, any_overlap_is_mapped_error)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    ERR_UNCHANGED(m, mmu_map(m, 0xf000, 0x2000, MMU_PROT_ALL, NULL), MMU_ERR_MAPPED);   /* head */
    ERR_UNCHANGED(m, mmu_map(m, 0x11000, 0x2000, MMU_PROT_ALL, NULL), MMU_ERR_MAPPED);  /* tail */
    ERR_UNCHANGED(m, mmu_map(m, 0x11000, 0x1000, MMU_PROT_ALL, NULL), MMU_ERR_MAPPED);  /* inside */
    ERR_UNCHANGED(m, mmu_map(m, 0x8000, 0x10000, MMU_PROT_ALL, NULL), MMU_ERR_MAPPED);  /* covers it */
    EXPECT_MAP(m, RG(0x10000, 0x12000, 7, "A"));
}

static uint64_t dummy_rd(void *u, uint64_t off, unsigned size) { (void)u, (void)off, (void)size; return 0; }

Test(map, overlap_with_mmio_or_host_pointer_is_mapped_error)
{
    static uint8_t buf[0x2000] __attribute__((aligned(4096)));
    OK(mmu_map_mmio(m, 0x20000, 0x1000, dummy_rd, NULL, NULL, NULL));
    OK(mmu_map_ptr(m, 0x30000, 0x2000, MMU_PROT_ALL, buf, NULL));
    ERR_UNCHANGED(m, mmu_map(m, 0x20000, 0x1000, MMU_PROT_ALL, NULL), MMU_ERR_MAPPED);
    ERR_UNCHANGED(m, mmu_map(m, 0x31000, 0x1000, MMU_PROT_ALL, NULL), MMU_ERR_MAPPED);
    ERR_UNCHANGED(m, mmu_map_ptr(m, 0x1f000, 0x2000, MMU_PROT_ALL, buf, NULL), MMU_ERR_MAPPED);
    ERR_UNCHANGED(m, mmu_map_mmio(m, 0x30000, 0x1000, dummy_rd, NULL, NULL, NULL), MMU_ERR_MAPPED);
}

Test(map, null_or_empty_label_becomes_mapped)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x3000, 0x1000, MMU_PROT_ALL, ""));
    EXPECT_MAP(m, RG(0x1000, 0x2000, 7, "[mapped]"), RG(0x3000, 0x4000, 7, "[mapped]"));
}

Test(map, label_is_copied)
{
    char text[16] = "mine";
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, text));
    strcpy(text, "changed");
    EXPECT_MAP(m, RG(0x1000, 0x2000, 7, "mine"));
}

Test(map, new_memory_reads_as_zeros)
{
    OK(mmu_map(m, 0x10000, 0x3000, MMU_PROT_NONE, NULL));
    static uint8_t buf[0x3000], zero[0x3000];
    memset(buf, 0xaa, sizeof buf);
    OK(mmu_read(m, 0x10000, buf, sizeof buf));
    cr_assert_arr_eq(buf, zero, sizeof buf);
}

Test(map, regions_are_listed_in_address_order)
{
    uint64_t at[] = { 0x50000, 0x10000, 0x90000, 0x30000, 0x70000 };
    for (size_t i = 0; i < 5; i++)
        OK(mmu_map(m, at[i], 0x1000, MMU_PROT_READ, NULL));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 1, NULL), RG(0x30000, 0x31000, 1, NULL), RG(0x50000, 0x51000, 1, NULL),
               RG(0x70000, 0x71000, 1, NULL), RG(0x90000, 0x91000, 1, NULL));
}

Test(map, regions_stores_at_most_max)
{
    for (uint64_t a = 0x1000; a < 0x6000; a += 0x2000)
        OK(mmu_map(m, a, 0x1000, MMU_PROT_READ, NULL));
    mmu_region r[2] = { 0 };
    cr_assert_eq(mmu_regions(m, r, 1), 3);
    cr_assert_eq(r[0].start, 0x1000);
    cr_assert_eq(r[1].start, 0, "wrote past max");
    cr_assert_eq(mmu_regions(m, NULL, 0), 3);
}

/* ---------------------------------------------------------------- unmap */

Test(unmap, middle_page_splits_and_keeps_perms_and_label)
{
    OK(mmu_map(m, 0x10000, 0x5000, MMU_PROT_READ | MMU_PROT_WRITE, "A"));
    OK(mmu_unmap(m, 0x11000, 0x1000));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 3, "A"), RG(0x12000, 0x15000, 3, "A"));
}

Test(unmap, spans_two_entries_keeping_outer_pieces)
{
    OK(mmu_map(m, 0x20000, 0x2000, MMU_PROT_ALL, "X"));
    OK(mmu_map(m, 0x22000, 0x2000, MMU_PROT_READ, "Y"));
    OK(mmu_unmap(m, 0x21000, 0x2000));
    EXPECT_MAP(m, RG(0x20000, 0x21000, 7, "X"), RG(0x23000, 0x24000, 1, "Y"));
}

Test(unmap, spans_several_entries_dropping_inner_ones)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_READ, "A"));
    OK(mmu_map(m, 0x12000, 0x1000, MMU_PROT_WRITE, "B"));
    OK(mmu_map(m, 0x13000, 0x1000, MMU_PROT_EXEC, "C"));
    OK(mmu_map(m, 0x14000, 0x3000, MMU_PROT_ALL, "D"));
    OK(mmu_unmap(m, 0x11000, 0x5000));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 1, "A"), RG(0x16000, 0x17000, 7, "D"));
}

Test(unmap, head_and_tail_of_an_entry)
{
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, "A"));
    OK(mmu_unmap(m, 0x10000, 0x1000));
    EXPECT_MAP(m, RG(0x11000, 0x14000, 7, "A"));
    OK(mmu_unmap(m, 0x13000, 0x1000));
    EXPECT_MAP(m, RG(0x11000, 0x13000, 7, "A"));
    OK(mmu_unmap(m, 0x11000, 0x2000));
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
}

Test(unmap, start_of_entry_that_follows_another)
{
    /* Unicorn #1495 */
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x11000, 0x3000, MMU_PROT_ALL, "B"));
    OK(mmu_unmap(m, 0x11000, 0x1000));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 7, "A"), RG(0x12000, 0x14000, 7, "B"));
}

Test(unmap, pieces_keep_their_contents)
{
    OK(mmu_map(m, 0x10000, 0x5000, MMU_PROT_ALL, "A"));
    fill_pattern(m, 0x10000, 0x5000, 7);
    OK(mmu_unmap(m, 0x12000, 0x1000));
    check_pattern(m, 0x10000, 0x2000, 7);
    uint8_t b;
    ERR(mmu_read(m, 0x12000, &b, 1), MMU_ERR_READ_UNMAPPED);
    uint8_t tail[0x2000];
    OK(mmu_read(m, 0x13000, tail, sizeof tail));
    for (size_t i = 0; i < sizeof tail; i++)
        cr_assert_eq(tail[i], (uint8_t)((0x3000 + i) * 31 + 7));
}

Test(unmap, remapped_range_reads_zeros)
{
    OK(mmu_map(m, 0x10000, 0x3000, MMU_PROT_ALL, NULL));
    fill_pattern(m, 0x10000, 0x3000, 1);
    OK(mmu_unmap(m, 0x11000, 0x1000));
    OK(mmu_map(m, 0x11000, 0x1000, MMU_PROT_ALL, "new"));
    uint8_t buf[0x1000], zero[0x1000] = { 0 };
    OK(mmu_read(m, 0x11000, buf, sizeof buf));
    cr_assert_arr_eq(buf, zero, sizeof buf);
    check_pattern(m, 0x10000, 0x1000, 1);
}

Test(unmap, partly_mapped_range_is_unmapped_error_and_changes_nothing)
{
    OK(mmu_map(m, 0x10000, 0x5000, MMU_PROT_ALL, "A"));
    fill_pattern(m, 0x10000, 0x5000, 3);
    /* Qiling trims map_info here, then Unicorn raises NOMEM */
    ERR_UNCHANGED(m, mmu_unmap(m, 0x14000, 0x2000), MMU_ERR_UNMAPPED);
    ERR_UNCHANGED(m, mmu_unmap(m, 0xf000, 0x2000), MMU_ERR_UNMAPPED);
    EXPECT_MAP(m, RG(0x10000, 0x15000, 7, "A"));
    check_pattern(m, 0x10000, 0x5000, 3);
}

Test(unmap, range_with_a_hole_is_unmapped_error)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x12000, 0x1000, MMU_PROT_ALL, "B"));
    ERR_UNCHANGED(m, mmu_unmap(m, 0x10000, 0x3000), MMU_ERR_UNMAPPED);
    EXPECT_MAP(m, RG(0x10000, 0x11000, 7, "A"), RG(0x12000, 0x13000, 7, "B"));
}

Test(unmap, unmapped_range_is_unmapped_error)
{
    ERR_UNCHANGED(m, mmu_unmap(m, 0x10000, 0x1000), MMU_ERR_UNMAPPED);
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, "A"));
    ERR_UNCHANGED(m, mmu_unmap(m, 0x20000, 0x1000), MMU_ERR_UNMAPPED);
    ERR_UNCHANGED(m, mmu_unmap(m, 0x11000, 0x1000), MMU_ERR_UNMAPPED);
}

Test(unmap, misaligned_range_is_arg_and_changes_nothing)
{
    OK(mmu_map(m, 0x12000, 0x3000, MMU_PROT_ALL, "A"));
    /* Qiling splits map_info at 0x12800 here, then Unicorn raises ARG */
    ERR_UNCHANGED(m, mmu_unmap(m, 0x12800, 0x800), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_unmap(m, 0x12000, 0x800), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_unmap(m, 0x12800, 0x1000), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_unmap(m, 0x12000, 0), MMU_ERR_ARG);
    EXPECT_MAP(m, RG(0x12000, 0x15000, 7, "A"));
}

Test(unmap, unmap_all_empties_the_map)
{
    OK(mmu_map(m, 0x10000, 0x3000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x20000, 0x1000, MMU_PROT_READ, "B"));
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_READ, "top"));
    mmu_unmap_all(m);
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
    cr_assert_eq(stats_of(m).pages_mapped, 0);
    cr_assert(mmu_is_available(m, 0, UINT64_MAX));
    mmu_unmap_all(m); /* empty: no-op */
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, "again"));
}

/* -------------------------------------------------------------- protect */

Test(protect, widens_to_the_enclosing_page_and_splits_in_three)
{
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, "A"));
    OK(mmu_protect(m, 0x11234, 0x10, MMU_PROT_READ));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 7, "A"), RG(0x11000, 0x12000, 1, "A"), RG(0x12000, 0x14000, 7, "A"));
}

Test(protect, range_crossing_a_page_boundary_covers_both_pages)
{
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, "A"));
    OK(mmu_protect(m, 0x11ff0, 0x20, MMU_PROT_READ));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 7, "A"), RG(0x11000, 0x13000, 1, "A"), RG(0x13000, 0x14000, 7, "A"));
}

Test(protect, whole_entry_does_not_split)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    OK(mmu_protect(m, 0x10000, 0x2000, MMU_PROT_NONE));
    EXPECT_MAP(m, RG(0x10000, 0x12000, 0, "A"));
}

Test(protect, head_and_tail_split_in_two)
{
    OK(mmu_map(m, 0x10000, 0x3000, MMU_PROT_ALL, "A"));
    OK(mmu_protect(m, 0x10000, 0x1000, MMU_PROT_READ));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 1, "A"), RG(0x11000, 0x13000, 7, "A"));
    OK(mmu_protect(m, 0x12fff, 1, MMU_PROT_WRITE));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 1, "A"), RG(0x11000, 0x12000, 7, "A"), RG(0x12000, 0x13000, 2, "A"));
}

Test(protect, across_several_entries_updates_all_and_keeps_labels)
{
    /* Qiling's change_mapinfo leaves the old perms here (a bug) */
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x12000, 0x2000, MMU_PROT_READ, "B"));
    OK(mmu_map(m, 0x14000, 0x2000, MMU_PROT_EXEC, "C"));
    OK(mmu_protect(m, 0x11000, 0x4000, MMU_PROT_READ | MMU_PROT_WRITE));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 7, "A"), RG(0x11000, 0x12000, 3, "A"), RG(0x12000, 0x14000, 3, "B"),
               RG(0x14000, 0x15000, 3, "C"), RG(0x15000, 0x16000, 4, "C"));
}

Test(protect, split_pieces_keep_contents)
{
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, "A"));
    fill_pattern(m, 0x10000, 0x4000, 9);
    OK(mmu_protect(m, 0x11000, 0x1000, MMU_PROT_NONE));
    OK(mmu_protect(m, 0x12000, 0x1000, MMU_PROT_READ));
    check_pattern(m, 0x10000, 0x4000, 9);
}

Test(protect, unmapped_or_partly_mapped_is_unmapped_error)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    ERR_UNCHANGED(m, mmu_protect(m, 0x20000, 0x1000, MMU_PROT_READ), MMU_ERR_UNMAPPED);
    ERR_UNCHANGED(m, mmu_protect(m, 0x11000, 0x2000, MMU_PROT_READ), MMU_ERR_UNMAPPED);
    ERR_UNCHANGED(m, mmu_protect(m, 0xffff, 2, MMU_PROT_READ), MMU_ERR_UNMAPPED); /* widened into a hole */
    EXPECT_MAP(m, RG(0x10000, 0x12000, 7, "A"));
}

Test(protect, size_zero_is_arg)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    ERR_UNCHANGED(m, mmu_protect(m, 0x10000, 0, MMU_PROT_READ), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_protect(m, 0x10800, 0, MMU_PROT_READ), MMU_ERR_ARG);
}

Test(protect, perms_above_7_is_arg)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    ERR_UNCHANGED(m, mmu_protect(m, 0x10000, 0x1000, 8), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_protect(m, 0x10000, 0x1000, 0xff), MMU_ERR_ARG);
    EXPECT_MAP(m, RG(0x10000, 0x12000, 7, "A"));
}

Test(protect, bad_perms_on_unmapped_range_is_arg)
{
    /* argument errors come before state errors */
    ERR_UNCHANGED(m, mmu_protect(m, 0x10000, 0x1000, 8), MMU_ERR_ARG);
}

Test(protect, range_wrapping_past_2_64_is_arg)
{
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_ALL, "top"));
    ERR_UNCHANGED(m, mmu_protect(m, 0xfffffffffffff800, 0x1000, MMU_PROT_READ), MMU_ERR_ARG);
    OK(mmu_protect(m, 0xfffffffffffff800, 0x800, MMU_PROT_READ));
    EXPECT_MAP(m, RG(0xfffffffffffff000, 0, 1, "top"));
}

Test(protect, whole_entries_need_no_allocation)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x12000, 0x1000, MMU_PROT_ALL, "B"));
    sm_alloc_fail_after(0);
    OK(mmu_protect(m, 0x10000, 0x3000, MMU_PROT_READ));
    sm_alloc_fail_after(0);
    OK(mmu_unmap(m, 0x12000, 0x1000));
    sm_alloc_fail_after(-1);
    EXPECT_MAP(m, RG(0x10000, 0x12000, 1, "A"));
}

Test(protect, set_label_splits_and_changes_only_the_label)
{
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, "A"));
    OK(mmu_set_label(m, 0x11000, 0x1000, "B"));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 7, "A"), RG(0x11000, 0x12000, 7, "B"), RG(0x12000, 0x14000, 7, "A"));
    OK(mmu_set_label(m, 0x12800, 1, NULL));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 7, "A"), RG(0x11000, 0x12000, 7, "B"), RG(0x12000, 0x13000, 7, "[mapped]"),
               RG(0x13000, 0x14000, 7, "A"));
    ERR_UNCHANGED(m, mmu_set_label(m, 0x13000, 0x2000, "C"), MMU_ERR_UNMAPPED);
    ERR_UNCHANGED(m, mmu_set_label(m, 0x13000, 0, "C"), MMU_ERR_ARG);
}

Test(protect, set_label_across_entries_keeps_their_perms)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_READ, "A"));
    OK(mmu_map(m, 0x12000, 0x2000, MMU_PROT_WRITE, "B"));
    OK(mmu_set_label(m, 0x11000, 0x2000, "Z"));
    EXPECT_MAP(m, RG(0x10000, 0x11000, 1, "A"), RG(0x11000, 0x12000, 1, "Z"), RG(0x12000, 0x13000, 2, "Z"),
               RG(0x13000, 0x14000, 2, "B"));
}

/* ---------------------------------------------------------- map_anywhere */

Test(anywhere, empty_mmu_returns_zero)
{
    uint64_t a = 1;
    OK(mmu_map_anywhere(m, 0x10, 0, 0, 0, MMU_PROT_ALL, NULL, &a));
    cr_assert_eq(a, 0);
    EXPECT_MAP(m, RG(0, 0x1000, 7, "[mapped]"));
}

Test(anywhere, verified_qiling_sequence)
{
    uint64_t a;
    OK(mmu_map_anywhere(m, 0x10, 0, 0, 0, MMU_PROT_ALL, NULL, &a));
    cr_assert_eq(a, 0);
    OK(mmu_map_anywhere(m, 0x1800, 0, 0, 0, MMU_PROT_ALL, NULL, &a));
    cr_assert_eq(a, 0x1000);
    OK(mmu_map_anywhere(m, 0x1000, 0x10000, 0, 0, MMU_PROT_ALL, NULL, &a));
    cr_assert_eq(a, 0x10000);
    OK(mmu_map_anywhere(m, 0x1000, 0x10800, 0, 0, MMU_PROT_ALL, NULL, &a));
    cr_assert_eq(a, 0x11000);
    OK(mmu_map_anywhere(m, 0x1000, 0x20000, 0, 0x10000, MMU_PROT_ALL, NULL, &a));
    cr_assert_eq(a, 0x20000);
    OK(mmu_map_anywhere(m, 0x1000, 0x20001, 0, 0x10000, MMU_PROT_ALL, NULL, &a));
    cr_assert_eq(a, 0x30000);
    EXPECT_MAP(m, RG(0, 0x1000, 7, NULL), RG(0x1000, 0x3000, 7, NULL), RG(0x10000, 0x11000, 7, NULL),
               RG(0x11000, 0x12000, 7, NULL), RG(0x20000, 0x21000, 7, NULL), RG(0x30000, 0x31000, 7, NULL));
}

Test(anywhere, records_perms_and_label)
{
    uint64_t a;
    OK(mmu_map_anywhere(m, 0x2000, 0x400000, 0, 0, MMU_PROT_READ | MMU_PROT_EXEC, "[heap]", &a));
    cr_assert_eq(a, 0x400000);
    EXPECT_MAP(m, RG(0x400000, 0x402000, 5, "[heap]"));
}

Test(anywhere, last_page_of_32_bit_space_then_nospace)
{
    mmu_t *m32 = open_bits(32);
    uint64_t a = 0;
    OK(mmu_map(m32, 0, 0xfffff000, MMU_PROT_ALL, NULL));
    OK(mmu_map_anywhere(m32, 0x1000, 0, 0, 0, MMU_PROT_ALL, NULL, &a));
    cr_assert_eq(a, 0xfffff000);
    a = 42;
    /* no digest here: it would hash 4 GiB */
    ERR(mmu_map_anywhere(m32, 0x1000, 0, 0, 0, MMU_PROT_ALL, NULL, &a), MMU_ERR_NOSPACE);
    EXPECT_MAP(m32, RG(0, 0xfffff000, 7, NULL), RG(0xfffff000, 0x100000000, 7, NULL));
    cr_assert_eq(a, 42, "out-param touched on failure");
    mmu_close(m32);
}

Test(anywhere, align_below_page_or_not_power_of_two_is_arg)
{
    uint64_t a = 42;
    /* Qiling picks 0x3010 here, then Unicorn raises ARG */
    ERR_UNCHANGED(m, mmu_map_anywhere(m, 0x10, 0x3001, 0, 0x10, MMU_PROT_ALL, NULL, &a), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_map_anywhere(m, 0x1000, 0, 0, 0x3000, MMU_PROT_ALL, NULL, &a), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_map_anywhere(m, 0, 0, 0, 0, MMU_PROT_ALL, NULL, &a), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_map_anywhere(m, 0x1000, 0, 0, 0, 8, NULL, &a), MMU_ERR_ARG);
    cr_assert_eq(a, 42);
}

Test(anywhere, respects_max_addr)
{
    uint64_t a = 42;
    OK(mmu_map(m, 0, 0x10000, MMU_PROT_ALL, NULL));
    ERR_UNCHANGED(m, mmu_map_anywhere(m, 0x1000, 0, 0x10000, 0, MMU_PROT_ALL, NULL, &a), MMU_ERR_NOSPACE);
    OK(mmu_map_anywhere(m, 0x1000, 0, 0x11000, 0, MMU_PROT_ALL, NULL, &a));
    cr_assert_eq(a, 0x10000);
}

Test(anywhere, size_is_rounded_up_to_pages)
{
    uint64_t a;
    OK(mmu_map_anywhere(m, 0x1001, 0x10000, 0, 0, MMU_PROT_ALL, NULL, &a));
    cr_assert_eq(a, 0x10000);
    EXPECT_MAP(m, RG(0x10000, 0x12000, 7, NULL));
}

/* ------------------------------------------------------- find_free_space */

Test(freespace, does_not_map)
{
    uint64_t a = 42;
    OK(mmu_find_free_space(m, 0x1000, 0, 0, 0, &a));
    cr_assert_eq(a, 0);
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
    cr_assert(mmu_is_available(m, 0, 0x1000));
}

Test(freespace, verified_row_only_last_page_mapped)
{
    uint64_t a = 0;
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_find_free_space(m, 0x1000, 0xffffffffffffe000, 0, 0, &a));
    cr_assert_eq(a, 0xffffffffffffe000);
}

Test(freespace, tail_gap_up_to_2_64)
{
    uint64_t a = 0;
    OK(mmu_map(m, 0xfffffffffff00000, 0xfe000, MMU_PROT_NONE, NULL));
    OK(mmu_find_free_space(m, 0x2000, 0xfffffffffff00000, 0, 0, &a));
    cr_assert_eq(a, 0xffffffffffffe000);
    OK(mmu_find_free_space(m, 0x2000, 0xfffffffffff00000, 0, 1, &a));
    cr_assert_eq(a, 0xffffffffffffe000);
    ERR(mmu_find_free_space(m, 0x2001, 0xfffffffffff00000, 0, 1, &a), MMU_ERR_NOSPACE);
}

Test(freespace, first_fit_from_the_lowest_address)
{
    uint64_t a;
    OK(mmu_map(m, 0, 0x10000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x12000, 0x1000, MMU_PROT_ALL, NULL));  /* gap [0x10000,0x12000) */
    OK(mmu_map(m, 0x20000, 0x1000, MMU_PROT_ALL, NULL));  /* gap [0x13000,0x20000) */
    OK(mmu_find_free_space(m, 0x2000, 0, 0, 0, &a));
    cr_assert_eq(a, 0x10000);
    OK(mmu_find_free_space(m, 0x3000, 0, 0, 0, &a));
    cr_assert_eq(a, 0x13000);
    OK(mmu_find_free_space(m, 0xd000, 0, 0, 0, &a));
    cr_assert_eq(a, 0x13000);
    OK(mmu_find_free_space(m, 0xe000, 0, 0, 0, &a));
    cr_assert_eq(a, 0x21000);
}

Test(freespace, size_is_not_rounded)
{
    uint64_t a;
    OK(mmu_map(m, 0, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x3000, 0x1000, MMU_PROT_ALL, NULL)); /* gap [0x1000,0x3000) */
    /* 0x1800 at 0x1800 fits exactly; rounded to 0x2000 it would not */
    OK(mmu_find_free_space(m, 0x1800, 0x1800, 0, 0x800, &a));
    cr_assert_eq(a, 0x1800);
    OK(mmu_find_free_space(m, 0x1801, 0x1800, 0, 0x800, &a));
    cr_assert_eq(a, 0x4000);
}

Test(freespace, small_alignment_and_min_addr)
{
    uint64_t a;
    OK(mmu_find_free_space(m, 0x10, 0x3001, 0, 0x10, &a));
    cr_assert_eq(a, 0x3010);
    OK(mmu_find_free_space(m, 0x10, 0x3001, 0, 1, &a));
    cr_assert_eq(a, 0x3001);
    OK(mmu_find_free_space(m, 0x1000, 0x20001, 0, 0x10000, &a));
    cr_assert_eq(a, 0x30000);
}

Test(freespace, adjacent_entries_leave_no_gap_and_mmio_counts)
{
    uint64_t a;
    OK(mmu_map(m, 0, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_READ, NULL));
    OK(mmu_map_mmio(m, 0x2000, 0x1000, dummy_rd, NULL, NULL, NULL));
    OK(mmu_find_free_space(m, 1, 0, 0, 1, &a));
    cr_assert_eq(a, 0x3000);
}

Test(freespace, max_addr_is_exclusive)
{
    uint64_t a;
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_find_free_space(m, 0x1000, 0, 0x1000, 0, &a));
    cr_assert_eq(a, 0);
    OK(mmu_find_free_space(m, 0x1000, 0x1000, 0x3000, 0, &a));
    cr_assert_eq(a, 0x2000);
    ERR(mmu_find_free_space(m, 0x1000, 0x1000, 0x2fff, 0, &a), MMU_ERR_NOSPACE);
}

Test(freespace, search_domain_too_small_is_arg)
{
    uint64_t a = 42;
    ERR(mmu_find_free_space(m, 0x2000, 0x1000, 0x2000, 0, &a), MMU_ERR_ARG);
    ERR(mmu_find_free_space(m, 0x1000, 0x2000, 0x2000, 0, &a), MMU_ERR_ARG); /* min == max */
    ERR(mmu_find_free_space(m, 0x1000, 0x3000, 0x2000, 0, &a), MMU_ERR_ARG); /* min > max */
    ERR(mmu_find_free_space(m, 0x1000, 0xfffffffffffff001, 0, 0, &a), MMU_ERR_ARG);
    cr_assert_eq(a, 42);
}

Test(freespace, size_zero_and_bad_align_are_arg)
{
    uint64_t a = 42;
    ERR(mmu_find_free_space(m, 0, 0, 0, 0, &a), MMU_ERR_ARG);
    ERR(mmu_find_free_space(m, 0x1000, 0, 0, 0x3000, &a), MMU_ERR_ARG);
    ERR(mmu_find_free_space(m, 0x1000, 0, 0, 3, &a), MMU_ERR_ARG);
    cr_assert_eq(a, 42);
}

Test(freespace, no_gap_is_nospace)
{
    uint64_t a = 42;
    OK(mmu_map(m, 0, 0x10000, MMU_PROT_ALL, NULL));
    ERR(mmu_find_free_space(m, 0x1000, 0, 0x10000, 0, &a), MMU_ERR_NOSPACE);
    ERR(mmu_find_free_space(m, 0x1000, 0x800, 0x10800, 0, &a), MMU_ERR_NOSPACE);
    cr_assert_eq(a, 42);
}

Test(freespace, alignment_beyond_the_space_is_nospace)
{
    uint64_t a = 42;
    OK(mmu_map(m, 0, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x8000000000000000, 0x1000, MMU_PROT_ALL, NULL));
    /* the aligned candidates above 0 are 2^63 (mapped) and 2^64 (outside) */
    ERR(mmu_find_free_space(m, 0x1000, 1, 0, 0x8000000000000000, &a), MMU_ERR_NOSPACE);
    cr_assert_eq(a, 42);
    OK(mmu_find_free_space(m, 0x1000, 1, 0, 0x4000000000000000, &a));
    cr_assert_eq(a, 0x4000000000000000);
}

Test(freespace, max_addr_beyond_a_32_bit_space_is_arg)
{
    mmu_t *m32 = open_bits(32);
    uint64_t a;
    OK(mmu_find_free_space(m32, 0x1000, 0, 0x100000000, 0, &a));
    ERR(mmu_find_free_space(m32, 0x1000, 0, 0x100001000, 0, &a), MMU_ERR_ARG);
    ERR(mmu_find_free_space(m32, 0x1000, 0x100000000, 0, 0, &a), MMU_ERR_ARG);
    mmu_close(m32);
}

/* ------------------------------------------------- is_available, is_mapped */

/* qiling-semantics.md 3.13: [0x10000,0x12000) and [0x12000,0x14000) mapped,
 * the second with perms 1 and label "other" */
Test(query, verified_truth_table)
{
    static const struct { uint64_t lo, hi; bool avail, mapped; } rows[] = {
        { 0x10000, 0x14000, false, true },  { 0x11000, 0x13000, false, true }, { 0xf000, 0x11000, false, false },
        { 0x13000, 0x15000, false, false }, { 0x14000, 0x15000, true, false }, { 0xf000, 0x10000, true, false },
        { 0x13fff, 0x14000, false, true },  { 0xe000, 0x16000, false, false },
    };
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x12000, 0x2000, MMU_PROT_READ, "other"));
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        cr_assert_eq(mmu_is_available(m, rows[i].lo, rows[i].hi - rows[i].lo), rows[i].avail, "row %zu", i);
        cr_assert_eq(mmu_is_mapped(m, rows[i].lo, rows[i].hi - rows[i].lo), rows[i].mapped, "row %zu", i);
    }
}

Test(query, size_zero_is_false_for_both)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, NULL));
    cr_assert_not(mmu_is_available(m, 0x20000, 0));
    cr_assert_not(mmu_is_mapped(m, 0x10000, 0));
}

Test(query, mmio_and_host_pointer_count_as_mapped)
{
    static uint8_t buf[0x1000] __attribute__((aligned(4096)));
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map_mmio(m, 0x11000, 0x1000, dummy_rd, NULL, NULL, NULL));
    OK(mmu_map_ptr(m, 0x12000, 0x1000, MMU_PROT_NONE, buf, NULL));
    cr_assert(mmu_is_mapped(m, 0x10000, 0x3000));
    cr_assert_not(mmu_is_available(m, 0x11800, 1));
}

Test(query, single_bytes_at_entry_edges)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    cr_assert(mmu_is_mapped(m, 0x10fff, 1));
    cr_assert(mmu_is_available(m, 0x11000, 1));
    cr_assert(mmu_is_available(m, 0xffff, 1));
    cr_assert_not(mmu_is_mapped(m, 0x10fff, 2));
    cr_assert_not(mmu_is_available(m, 0xffff, 2));
}

Test(query, ranges_at_the_top_of_the_space)
{
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_ALL, NULL));
    cr_assert(mmu_is_mapped(m, 0xfffffffffffff000, 0x1000));
    cr_assert(mmu_is_mapped(m, 0xffffffffffffffff, 1));
    cr_assert_not(mmu_is_mapped(m, 0xffffffffffffffff, 2)); /* wraps */
    cr_assert_not(mmu_is_available(m, 0xfffffffffffff000, 0x2000));
    cr_assert(mmu_is_available(m, 0, 0x1000));
}

/* --------------------------------------------------------- address space */

Test(space, defaults_and_limits_per_addr_bits)
{
    mmu_t *m32 = open_bits(32), *m48 = open_bits(48), *m64 = open_bits(64), *mdef;
    OK(mmu_open(NULL, &mdef));
    cr_assert_eq(mmu_max_addr(m32), 0xffffffff);
    cr_assert_eq(mmu_max_addr(m48), 0xffffffffffff);
    cr_assert_eq(mmu_max_addr(m64), UINT64_MAX);
    cr_assert_eq(mmu_max_addr(mdef), UINT64_MAX);
    cr_assert_eq(mmu_pagesize(m32), 0x1000);
    mmu_close(m32), mmu_close(m48), mmu_close(m64), mmu_close(mdef);
}

static void check_top(unsigned bits, uint64_t top_page)
{
    mmu_t *mm = open_bits(bits);
    uint64_t beyond = top_page + 0x1000;
    OK(mmu_map(mm, top_page, 0x1000, MMU_PROT_ALL, "top"));
    wr64(mm, top_page + 0xff8, 0x1122334455667788);
    cr_assert_eq(rd64(mm, top_page + 0xff8), 0x1122334455667788);
    ERR_UNCHANGED(mm, mmu_map(mm, top_page, 0x2000, MMU_PROT_ALL, NULL), MMU_ERR_RANGE);
    ERR_UNCHANGED(mm, mmu_map(mm, beyond, 0x1000, MMU_PROT_ALL, NULL), MMU_ERR_RANGE);
    ERR_UNCHANGED(mm, mmu_unmap(mm, beyond, 0x1000), MMU_ERR_RANGE);
    ERR_UNCHANGED(mm, mmu_unmap(mm, top_page, 0x2000), MMU_ERR_RANGE);
    ERR_UNCHANGED(mm, mmu_protect(mm, beyond, 0x1000, MMU_PROT_READ), MMU_ERR_RANGE);
    ERR_UNCHANGED(mm, mmu_protect(mm, top_page + 0xfff, 2, MMU_PROT_READ), MMU_ERR_RANGE);
    ERR_UNCHANGED(mm, mmu_set_label(mm, beyond, 1, "x"), MMU_ERR_RANGE);
    uint8_t b;
    ERR(mmu_read(mm, beyond, &b, 1), MMU_ERR_READ_UNMAPPED);
    ERR_UNCHANGED(mm, mmu_write(mm, top_page + 0xfff, "ab", 2), MMU_ERR_WRITE_UNMAPPED);
    OK(mmu_unmap(mm, top_page, 0x1000));
    cr_assert_eq(mmu_regions(mm, NULL, 0), 0);
    mmu_close(mm);
}

Test(space, last_page_of_32_bit_space) { check_top(32, 0xfffff000); }
Test(space, last_page_of_48_bit_space) { check_top(48, 0xfffffffff000); }

Test(space, last_page_of_64_bit_space)
{
    mmu_t *mm = open_bits(64);
    OK(mmu_map(mm, 0xfffffffffffff000, 0x1000, MMU_PROT_ALL, "top"));
    EXPECT_MAP(mm, RG(0xfffffffffffff000, 0, 7, "top")); /* end 2^64 wraps to 0 */
    wr64(mm, 0xfffffffffffffff8, 0xdeadbeefcafef00d);
    cr_assert_eq(rd64(mm, 0xfffffffffffffff8), 0xdeadbeefcafef00d);
    ERR_UNCHANGED(mm, mmu_map(mm, 0xfffffffffffff000, 0x2000, MMU_PROT_ALL, NULL), MMU_ERR_ARG); /* wraps */
    ERR_UNCHANGED(mm, mmu_map(mm, 0xffffffffffffe000, 0x3000, MMU_PROT_ALL, NULL), MMU_ERR_ARG);
    ERR_UNCHANGED(mm, mmu_unmap(mm, 0xfffffffffffff000, 0x2000), MMU_ERR_ARG);
    OK(mmu_map(mm, 0xffffffffffffe000, 0x1000, MMU_PROT_READ, "below"));
    OK(mmu_protect(mm, 0xffffffffffffe000, 0x2000, MMU_PROT_READ));
    OK(mmu_unmap(mm, 0xffffffffffffe000, 0x2000));
    cr_assert_eq(stats_of(mm).pages_mapped, 0);
    mmu_close(mm);
}

Test(space, whole_32_bit_space_in_one_map)
{
    mmu_t *mm = open_bits(32);
    OK(mmu_map(mm, 0, 0x100000000, MMU_PROT_NONE, NULL));
    cr_assert(mmu_is_mapped(mm, 0, 0x100000000));
    uint64_t a;
    ERR(mmu_find_free_space(mm, 1, 0, 0, 1, &a), MMU_ERR_NOSPACE);
    OK(mmu_unmap(mm, 0x1000, 0xffffe000));
    EXPECT_MAP(mm, RG(0, 0x1000, 0, NULL), RG(0xfffff000, 0x100000000, 0, NULL));
    mmu_close(mm);
}

Test(space, bad_configs_are_arg)
{
    static const mmu_config bad[] = {
        { .addr_bits = 16 }, { .addr_bits = 20 }, { .addr_bits = 39 }, { .addr_bits = 65 }, { .addr_bits = 128 },
        { .ptr_size = 3 },   { .ptr_size = 16 },  { .tlb_entries = 3 }, { .tlb_entries = 1u << 17 },
        { .tlb_entries = 1000 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mmu_t *mm = (mmu_t *)(uintptr_t)0x1234;
        ERR(mmu_open(&bad[i], &mm), MMU_ERR_ARG);
        cr_assert_eq(mm, (mmu_t *)(uintptr_t)0x1234, "config %zu touched the out-param", i);
    }
    ERR(mmu_open(NULL, NULL), MMU_ERR_ARG);
}

/* ----------------------------------------------------------------- scale */

#define N_SCALE 1000000u

Test(scale, million_disjoint_pages)
{
    /* every other page: no two entries touch */
    for (uint64_t i = 0; i < N_SCALE; i++)
        OK(mmu_map(m, i * 0x2000, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, "p"));
    cr_assert_eq(mmu_regions(m, NULL, 0), N_SCALE);
    mmu_stats s = stats_of(m);
    cr_assert_eq(s.regions, N_SCALE);
    cr_assert_eq(s.pages_mapped, N_SCALE);
    cr_assert(mmu_is_mapped(m, 0x2000ull * 123456, 0x1000));
    cr_assert_not(mmu_is_mapped(m, 0x2000ull * 123456, 0x2000));
    cr_assert(mmu_is_available(m, 0x2000ull * 777777 + 0x1000, 0x1000));
    uint64_t last = (uint64_t)(N_SCALE - 1) * 0x2000;
    wr64(m, 0x2000ull * 500000 + 8, 0x5555);
    wr64(m, last + 0xff8, 0x7777);
    cr_assert_eq(rd64(m, 0x2000ull * 500000 + 8), 0x5555);
    cr_assert_eq(rd64(m, last + 0xff8), 0x7777);
    uint64_t a;
    OK(mmu_find_free_space(m, 0x1000, 0x2000ull * 600000, 0, 0, &a));
    cr_assert_eq(a, 0x2000ull * 600000 + 0x1000);
    OK(mmu_find_free_space(m, 0x2000, 0, 0, 0, &a)); /* no hole is two pages wide */
    cr_assert_eq(a, last + 0x1000);
    mmu_region r;
    cr_assert_eq(mmu_regions(m, &r, 1), N_SCALE);
    cr_assert_eq(r.start, 0);
    for (uint64_t i = 0; i < N_SCALE; i++)
        OK(mmu_unmap(m, i * 0x2000, 0x1000));
    s = stats_of(m);
    cr_assert_eq(s.regions, 0);
    cr_assert_eq(s.pages_mapped, 0);
}

Test(scale, map_64_gib_lazily_and_unmap_it)
{
    const uint64_t big = 64ull << 30;
    OK(mmu_map(m, 0x100000000, big, MMU_PROT_READ | MMU_PROT_WRITE, "big"));
    cr_assert_eq(stats_of(m).pages_mapped, big >> 12);
    wr64(m, 0x100000000, 1);
    wr64(m, 0x100000000 + big - 8, 2);
    cr_assert_eq(rd64(m, 0x100000000), 1);
    cr_assert_eq(rd64(m, 0x100000000 + big - 8), 2);
    cr_assert_eq(rd64(m, 0x100000000 + big / 2), 0);
    OK(mmu_protect(m, 0x100000000 + big / 2, 0x1000, MMU_PROT_READ));
    OK(mmu_unmap(m, 0x100000000, big));
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
    cr_assert_eq(stats_of(m).pages_mapped, 0);
}

/* ------------------------------------------------------------ host memory */

static long resident_pages(void)
{
    long size, res;
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "%ld %ld", &size, &res), 2);
    fclose(f);
    return res;
}

Test(hostmem, partial_unmap_returns_host_memory)
{
    const uint64_t size = 64ull << 20;
    long page = sysconf(_SC_PAGESIZE);
    OK(mmu_map(m, 0x10000000, size, MMU_PROT_ALL, NULL));
    long before = resident_pages();
    static uint8_t ones[1 << 16];
    memset(ones, 1, sizeof ones);
    for (uint64_t off = 0; off < size; off += sizeof ones)
        OK(mmu_write(m, 0x10000000 + off, ones, sizeof ones));
    long touched = resident_pages();
    cr_assert_geq((touched - before) * page, (long)(size * 9 / 10), "writing did not commit memory");
    OK(mmu_unmap(m, 0x10000000 + size / 4, size / 2)); /* the middle half */
    long after = resident_pages();
    cr_assert_geq((touched - after) * page, (long)(size / 2 * 9 / 10), "partial unmap kept host memory");
    uint8_t b;
    OK(mmu_read(m, 0x10000000 + size - 1, &b, 1));
    cr_assert_eq(b, 1);
}

Test(hostmem, untouched_mapping_costs_no_ram)
{
    long page = sysconf(_SC_PAGESIZE);
    long before = resident_pages();
    OK(mmu_map(m, 0x10000000, 1ull << 30, MMU_PROT_ALL, NULL));
    long after = resident_pages();
    /* leaves of the page table (about 2 MiB per GiB), not the GiB */
    cr_assert_lt((after - before) * page, 16l << 20);
}

Test(hostmem, unmapping_every_other_page_returns_all_their_memory, .timeout = 120)
{
    /* 200,000 one-page entries, then a hole punched at every other one:
     * with one host mapping per entry this split host mappings past
     * vm.max_map_count (65530), munmap failed and a third of the pages
     * leaked (the margin allows for ASan keeping freed metadata) */
    const uint64_t n = 200000, base = 0x100000000;
    long page = sysconf(_SC_PAGESIZE);
    for (uint64_t i = 0; i < n; i++) {
        OK(mmu_map(m, base + i * 0x1000, 0x1000, MMU_PROT_ALL, NULL));
        OK(mmu_write(m, base + i * 0x1000, "x", 1));
    }
    long touched = resident_pages();
    for (uint64_t i = 0; i < n; i += 2)
        OK(mmu_unmap(m, base + i * 0x1000, 0x1000));
    long after = resident_pages();
    cr_assert_geq((touched - after) * page, (long)(n / 2 * 0x1000 * 9 / 10), "freed %ld KiB of %llu KiB",
                  (touched - after) * page / 1024, (unsigned long long)(n / 2 * 4));
    uint8_t b = 0;
    OK(mmu_read(m, base + 0x1000, &b, 1));
    cr_assert_eq(b, 'x');
}

/* guest RAM comes from slabs shared by all MMUs of the process */
static void *churn(void *arg)
{
    mmu_t *mm;
    unsigned seed = (unsigned)(uintptr_t)arg;
    if (mmu_open(NULL, &mm) != MMU_OK)
        return "open";
    for (int round = 0; round < 1000; round++) {
        for (uint64_t i = 0; i < 16; i++) {
            uint8_t b = (uint8_t)(seed + i);
            if (mmu_map(mm, 0x100000 + i * 0x3000, 0x2000, MMU_PROT_ALL, NULL) != MMU_OK ||
                mmu_write(mm, 0x100000 + i * 0x3000 + 0x1fff, &b, 1) != MMU_OK)
                return "map";
        }
        for (uint64_t i = 0; i < 16; i++) {
            uint8_t b = 0;
            if (mmu_read(mm, 0x100000 + i * 0x3000 + 0x1fff, &b, 1) != MMU_OK || b != (uint8_t)(seed + i))
                return "contents";
            if (mmu_unmap(mm, 0x100000 + i * 0x3000, 0x2000) != MMU_OK)
                return "unmap";
        }
    }
    mmu_close(mm);
    return NULL;
}

Test(hostmem, mmus_in_several_threads_do_not_share_pages)
{
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, churn, (void *)(i * 50)), 0);
    for (int i = 0; i < 4; i++) {
        void *res;
        pthread_join(t[i], &res);
        cr_assert_null(res, "thread %d failed at %s", i, (const char *)res);
    }
}

static uint8_t *host_of(uint64_t addr)
{
    uint64_t *pte = pt_find(&m->pt, addr >> MMU_PAGE_BITS);
    cr_assert_not_null(pte);
    return PTE_HOST(*pte);
}

Test(hostmem, splitting_never_copies)
{
    OK(mmu_map(m, 0x10000, 0x8000, MMU_PROT_ALL, "A"));
    fill_pattern(m, 0x10000, 0x8000, 5);
    uint8_t *before[8];
    for (int i = 0; i < 8; i++)
        before[i] = host_of(0x10000 + i * 0x1000);
    OK(mmu_protect(m, 0x11000, 0x1000, MMU_PROT_READ));
    OK(mmu_set_label(m, 0x13000, 0x2000, "B"));
    OK(mmu_unmap(m, 0x16000, 0x1000));
    for (int i = 0; i < 8; i++)
        if (i != 6)
            cr_assert_eq(host_of(0x10000 + i * 0x1000), before[i], "page %d moved", i);
    check_pattern(m, 0x10000, 0x6000, 5);
    uint8_t last[0x1000];
    OK(mmu_read(m, 0x17000, last, sizeof last));
    for (size_t i = 0; i < sizeof last; i++)
        cr_assert_eq(last[i], (uint8_t)((0x7000 + i) * 31 + 5));
}

Test(hostmem, map_ptr_uses_the_callers_buffer_and_never_frees_it)
{
    uint8_t *buf = aligned_alloc(4096, 0x3000);
    memset(buf, 0x5a, 0x3000);
    OK(mmu_map_ptr(m, 0x20000, 0x3000, MMU_PROT_ALL, buf, "ptr"));
    uint8_t b;
    OK(mmu_read(m, 0x21000, &b, 1));
    cr_assert_eq(b, 0x5a, "map_ptr must not clear the buffer");
    OK(mmu_write(m, 0x22fff, "\x77", 1));
    cr_assert_eq(buf[0x2fff], 0x77);
    OK(mmu_protect(m, 0x21000, 0x1000, MMU_PROT_READ)); /* split a host-pointer entry */
    OK(mmu_unmap(m, 0x20000, 0x1000));
    buf[0x2000] = 0x66;
    OK(mmu_read(m, 0x22000, &b, 1));
    cr_assert_eq(b, 0x66);
    OK(mmu_unmap(m, 0x21000, 0x2000));
    buf[0] = 1; /* still ours: ASan would catch a free */
    free(buf);
}

Test(hostmem, map_ptr_rejects_null_or_misaligned_host)
{
    static uint8_t buf[0x2000] __attribute__((aligned(4096)));
    ERR_UNCHANGED(m, mmu_map_ptr(m, 0x20000, 0x1000, MMU_PROT_ALL, NULL, NULL), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_map_ptr(m, 0x20000, 0x1000, MMU_PROT_ALL, buf + 8, NULL), MMU_ERR_ARG);
}

/* ---------------------------------------------------------------- stats */

Test(stats, regions_and_pages_follow_the_map)
{
    mmu_stats s0 = stats_of(m);
    cr_assert_eq(s0.regions, 0);
    cr_assert_eq(s0.pages_mapped, 0);
    cr_assert_gt(s0.meta_bytes, 0);
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x7fff00000000, 0x1000, MMU_PROT_ALL, "B"));
    mmu_stats s1 = stats_of(m);
    cr_assert_eq(s1.regions, 2);
    cr_assert_eq(s1.pages_mapped, 5);
    cr_assert_gt(s1.meta_bytes, s0.meta_bytes);
    OK(mmu_protect(m, 0x11000, 0x1000, MMU_PROT_READ));
    cr_assert_eq(stats_of(m).regions, 4);
    cr_assert_eq(stats_of(m).pages_mapped, 5);
    OK(mmu_unmap(m, 0x10000, 0x2000));
    mmu_stats s2 = stats_of(m);
    cr_assert_eq(s2.regions, 2);
    cr_assert_eq(s2.pages_mapped, 3);
    mmu_unmap_all(m);
    mmu_stats s3 = stats_of(m);
    cr_assert_eq(s3.regions, 0);
    cr_assert_eq(s3.pages_mapped, 0);
    cr_assert_lt(s3.meta_bytes, s1.meta_bytes, "leaves and regions not freed");
}

Test(stats, sparse_layout_costs_little_metadata)
{
    mmu_stats s0 = stats_of(m);
    OK(mmu_map(m, 0x400000, 0x10000, MMU_PROT_READ | MMU_PROT_EXEC, "code"));
    OK(mmu_map(m, 0x600000, 0x100000, MMU_PROT_READ | MMU_PROT_WRITE, "[heap]"));
    OK(mmu_map(m, 0x7ffff7a00000, 0x200000, MMU_PROT_READ, "lib"));
    OK(mmu_map(m, 0x7fffffffe000, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, "[stack]"));
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_READ, "top"));
    mmu_stats s1 = stats_of(m);
    /* a handful of 4 KiB leaves and five regions */
    cr_assert_lt(s1.meta_bytes - s0.meta_bytes, 64 * 1024, "meta grew by %llu",
                 (unsigned long long)(s1.meta_bytes - s0.meta_bytes));
}

Test(stats, metadata_is_not_leaked_by_split_and_unmap_cycles)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, "keep"));
    mmu_stats s0 = stats_of(m);
    for (int i = 0; i < 100; i++) {
        OK(mmu_map(m, 0x100000, 0x10000, MMU_PROT_ALL, "tmp"));
        OK(mmu_protect(m, 0x104000, 0x1000, MMU_PROT_READ));
        OK(mmu_unmap(m, 0x100000, 0x10000));
    }
    mmu_stats s1 = stats_of(m);
    cr_assert_eq(s1.regions, 1);
    cr_assert_eq(s1.meta_bytes, s0.meta_bytes);
}

/* ------------------------------------------- region index invariants */

TestSuite(index, .init = setup, .fini = teardown, .timeout = 120);

#define IDX_PAGES 2048 /* the churn stays in [0, 8 MiB) */

/* checks the B+-tree's shape, order, keys and gap augmentation */
static void check_index(void)
{
    const char *why = region_check(&m->ri);
    cr_assert_null(why, "index: %s", why ? why : "");
}

/* first fit over a page bitmap, byte-granular like find_free_space */
static bool naive_fit(const bool *used, uint64_t size, uint64_t lo, uint64_t hi, uint64_t align, uint64_t *out)
{
    for (uint64_t a = (lo + align - 1) & ~(align - 1); a >= lo && a + size <= hi && a + size > a; a += align) {
        bool ok = true;
        for (uint64_t p = a >> 12; p <= (a + size - 1) >> 12 && ok; p++)
            ok = p >= IDX_PAGES || !used[p];
        if (ok) {
            *out = a;
            return true;
        }
    }
    return false;
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

Test(index, btree_and_gap_invariants_hold_under_random_churn)
{
    static bool used[IDX_PAGES];
    uint64_t s = 0x9e3779b97f4a7c15;
    for (int step = 0; step < 20000; step++) {
        uint64_t p = rnd(&s) % IDX_PAGES, n = 1 + rnd(&s) % 16;
        if (p + n > IDX_PAGES)
            n = IDX_PAGES - p;
        bool any = false, all = true;
        for (uint64_t i = p; i < p + n; i++)
            any |= used[i], all &= used[i];
        switch (rnd(&s) % 3) {
        case 0:
            cr_assert_eq(mmu_map(m, p << 12, n << 12, MMU_PROT_READ, NULL), any ? MMU_ERR_MAPPED : MMU_OK);
            if (!any)
                memset(used + p, 1, n);
            break;
        case 1:
            cr_assert_eq(mmu_unmap(m, p << 12, n << 12), all ? MMU_OK : MMU_ERR_UNMAPPED);
            if (all)
                memset(used + p, 0, n);
            break;
        default:
            cr_assert_eq(mmu_protect(m, p << 12, n << 12, (unsigned)(rnd(&s) % 8)), all ? MMU_OK : MMU_ERR_UNMAPPED);
        }
        if (step % 64 == 0)
            check_index();
        uint64_t size = 1 + rnd(&s) % 0x6000, lo = rnd(&s) % (IDX_PAGES << 12), align = 1ull << (rnd(&s) % 15);
        uint64_t hi = lo + size + rnd(&s) % 0x40000, got = 0, want = 0;
        bool fits = naive_fit(used, size, lo, hi, align, &want);
        cr_assert_eq(mmu_find_free_space(m, size, lo, hi, align, &got), fits ? MMU_OK : MMU_ERR_NOSPACE,
                     "step %d: size %#llx in [%#llx, %#llx) align %#llx", step, (unsigned long long)size,
                     (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)align);
        if (fits)
            cr_assert_eq(got, want, "step %d: found %#llx, want %#llx", step, (unsigned long long)got,
                         (unsigned long long)want);
    }
    check_index();
}

/* 100k regions in slots of 4 pages (1 to 4 pages each, so some touch
 * their neighbour), mapped in random order, then unmapped in another; on
 * the way the tree is checked whole, and lookups and first fit are checked
 * against brute force on samples. Splits and merges happen at every level. */
#define BIG_SLOTS 100000u
#define BIG_BASE  0x100000000ull
#define BIG_PAGES (4 * BIG_SLOTS)

typedef struct big_state {
    uint8_t  len[BIG_SLOTS];     /* pages of slot i's region, 0 if unmapped */
    uint32_t run[BIG_PAGES + 1]; /* free pages from page p on (BIG_PAGES: unbounded) */
    size_t   n;
} big_state;

static bool big_used(const big_state *b, uint64_t page)
{
    return page < BIG_PAGES && (page & 3) < b->len[page >> 2];
}

static void big_runs(big_state *b)
{
    b->run[BIG_PAGES] = UINT32_MAX;
    for (uint64_t p = BIG_PAGES; p-- > 0;)
        b->run[p] = big_used(b, p) ? 0 : b->run[p + 1] == UINT32_MAX ? UINT32_MAX : b->run[p + 1] + 1;
}

/* lowest aligned address >= lo with size bytes free: brute force over pages */
static uint64_t big_fit(const big_state *b, uint64_t size_pages, uint64_t lo, uint64_t align)
{
    uint64_t a = (lo + align - 1) & ~(align - 1);
    for (;; a += align) {
        if (a < BIG_BASE)
            return a; /* everything below the slots is free */
        uint64_t p = (a - BIG_BASE) >> 12;
        if (p >= BIG_PAGES || b->run[p] >= size_pages)
            return a;
    }
}

static void big_check(big_state *b, uint64_t *s)
{
    const char *why = region_check(&m->ri);
    cr_assert_null(why, "index: %s", why ? why : "");
    cr_assert_eq(m->ri.count, b->n);
    big_runs(b);
    for (int k = 0; k < 200; k++) {
        uint64_t page = rnd(s) % BIG_PAGES, addr = BIG_BASE + (page << 12) + rnd(s) % 4096;
        region *r = region_ceil(&m->ri, addr), *f = region_find(&m->ri, addr);
        uint64_t q = page;
        while (q < BIG_PAGES && !big_used(b, q))
            q++;
        if (q == BIG_PAGES) {
            cr_assert_null(r, "ceil of %#llx", (unsigned long long)addr);
        } else {
            uint64_t start = BIG_BASE + ((q & ~3ull) << 12), last = start + ((uint64_t)b->len[q >> 2] << 12) - 1;
            cr_assert(r && r->start == start && r->last == last, "ceil of %#llx", (unsigned long long)addr);
        }
        cr_assert_eq(f != NULL, big_used(b, page), "find of %#llx", (unsigned long long)addr);
        uint64_t size = (1 + rnd(s) % 6) << 12, align = 1ull << (12 + rnd(s) % 19), lo = BIG_BASE + rnd(s) % (BIG_PAGES << 12);
        uint64_t got = 0, want = big_fit(b, size >> 12, lo, align);
        OK(mmu_find_free_space(m, size, lo, 0, align, &got));
        cr_assert_eq(got, want, "fit of %#llx from %#llx align %#llx: %#llx, want %#llx", (unsigned long long)size,
                     (unsigned long long)lo, (unsigned long long)align, (unsigned long long)got,
                     (unsigned long long)want);
    }
    size_t i = 0; /* in order, no overlap, as many as there should be */
    uint64_t prev_last = 0;
    for (region *r = region_first(&m->ri); r; r = region_next(&m->ri, r), i++) {
        cr_assert(i == 0 || r->start > prev_last, "order at %#llx", (unsigned long long)r->start);
        prev_last = r->last;
    }
    cr_assert_eq(i, b->n);
}

static uint32_t *big_order(uint64_t *s)
{
    uint32_t *v = malloc(BIG_SLOTS * sizeof *v);
    cr_assert_not_null(v);
    for (uint32_t i = 0; i < BIG_SLOTS; i++)
        v[i] = i;
    for (uint32_t i = BIG_SLOTS - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(rnd(s) % (i + 1)), t = v[i];
        v[i] = v[j], v[j] = t;
    }
    return v;
}

Test(index, hundred_thousand_regions_in_random_order_keep_the_tree_exact, .timeout = 600)
{
    big_state *b = calloc(1, sizeof *b);
    uint64_t s = 0x243f6a8885a308d3;
    uint32_t *in = big_order(&s), *out = big_order(&s);
    for (uint32_t k = 0; k < BIG_SLOTS; k++) {
        uint32_t i = in[k];
        b->len[i] = (uint8_t)(1 + rnd(&s) % 4);
        OK(mmu_map(m, BIG_BASE + ((uint64_t)i << 14), (uint64_t)b->len[i] << 12, MMU_PROT_READ, NULL));
        b->n++;
        if (k % 20000 == 19999)
            big_check(b, &s);
    }
    for (uint32_t k = 0; k < BIG_SLOTS; k++) {
        uint32_t i = out[k];
        if (k % 3 == 0 && b->len[i] > 1) { /* some go in two steps: a split first */
            OK(mmu_unmap(m, BIG_BASE + ((uint64_t)i << 14), 0x1000));
            OK(mmu_unmap(m, BIG_BASE + ((uint64_t)i << 14) + 0x1000, (uint64_t)(b->len[i] - 1) << 12));
        } else {
            OK(mmu_unmap(m, BIG_BASE + ((uint64_t)i << 14), (uint64_t)b->len[i] << 12));
        }
        b->len[i] = 0;
        b->n--;
        if (k % 20000 == 19999 || k == BIG_SLOTS - 10)
            big_check(b, &s);
    }
    cr_assert_eq(m->ri.count, 0);
    cr_assert_eq(m->ri.n_nodes, 0);
    free(in);
    free(out);
    free(b);
}

/* every gap is one page and every 1 MiB boundary among the regions is
 * mapped: an aligned search must skip the whole range (and not look at
 * each gap), and the answer is the first boundary after the last region */
Test(index, aligned_first_fit_skips_gaps_without_an_aligned_address)
{
    for (uint64_t i = 0; i < 20000; i++)
        OK(mmu_map(m, BIG_BASE + i * 0x2000, 0x1000, MMU_PROT_READ, NULL));
    uint64_t a = 0, end = BIG_BASE + 20000 * 0x2000 - 0x1000;
    OK(mmu_find_free_space(m, 0x1000, BIG_BASE, 0, 1 << 20, &a));
    cr_assert_eq(a, (end + (1 << 20) - 1) & ~((uint64_t)(1 << 20) - 1));
    OK(mmu_find_free_space(m, 0x1000, BIG_BASE, 0, 0x1000, &a));
    cr_assert_eq(a, BIG_BASE + 0x1000);
    OK(mmu_find_free_space(m, 0x2000, BIG_BASE, 0, 0x1000, &a));
    cr_assert_eq(a, end);
    cr_assert_eq(mmu_find_free_space(m, 0x1000, BIG_BASE, end, 1 << 20, &a), MMU_ERR_NOSPACE);
    OK(mmu_unmap(m, BIG_BASE + 1000 * 0x2000, 0x1000)); /* a free aligned page appears */
    OK(mmu_find_free_space(m, 0x1000, BIG_BASE, 0, 0x2000, &a));
    cr_assert_eq(a, BIG_BASE + 1000 * 0x2000);
}

/* ------------------------------------------------- page-table hashing */

/* leaves whose keys differ only in high bits share hash slots: probe
 * chains and backward-shift deletion get exercised */
Test(index, colliding_leaves_survive_random_insert_and_delete)
{
    enum { N = 256 };
    static bool live[N];
    uint64_t s = 12345;
    size_t n_live = 0;
    for (int step = 0; step < 20000; step++) {
        uint64_t j = rnd(&s) % N, addr = (j << 45) | ((j & 7) << 21);
        if (live[j]) {
            OK(mmu_unmap(m, addr, 0x1000));
            n_live--;
        } else {
            OK(mmu_map(m, addr, 0x1000, MMU_PROT_READ, NULL));
            wr64(m, addr, j + 1);
            n_live++;
        }
        live[j] = !live[j];
        cr_assert_eq(m->pt.n_leaves, n_live, "step %d: %zu leaves for %zu pages", step, m->pt.n_leaves, n_live);
        if (step % 97 == 0) {
            for (uint64_t k = 0; k < N; k++) {
                uint64_t at = (k << 45) | ((k & 7) << 21), v = 0;
                if (live[k]) {
                    cr_assert_eq(rd64(m, at), k + 1, "step %d: page %llu lost", step, (unsigned long long)k);
                } else {
                    ERR(mmu_read_ptr(m, at, 8, false, &v), MMU_ERR_READ_UNMAPPED);
                    cr_assert_null(pt_find(&m->pt, at >> 12), "step %d: leaf of page %llu kept", step,
                                   (unsigned long long)k);
                }
            }
        }
    }
}
