/*
 * test_map.c - mapping semantics against the verified Qiling tables.
 */
#include "test_util.h"

static mmu_t *m;

static void setup(void) { OK(mmu_open(NULL, &m)); }
static void teardown(void) { mmu_close(m); }

TestSuite(map, .init = setup, .fini = teardown);

Test(map, adjacent_maps_stay_two_entries)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x2000, 0x1000, MMU_PROT_READ, "adj"));
    mmu_region r[4];
    cr_assert_eq(mmu_regions(m, r, 4), 2);
    cr_assert_str_eq(r[0].label, "[mapped]");
    cr_assert_str_eq(r[1].label, "adj");
    cr_assert_eq(r[1].perms, MMU_PROT_READ);
}
