/*
 * snapshot.c - snapshots, restore and digests.
 * XXX: placeholder until the snapshot work lands; no page is ever tracked.
 */
#include "mmu_int.h"

mmu_err snap_before_write(mmu_t *m, uint64_t vpn, uint64_t n)
{
    (void)m, (void)vpn, (void)n;
    return MMU_OK;
}

mmu_err snap_before_unmap(mmu_t *m, uint64_t vpn, uint64_t n)
{
    (void)m, (void)vpn, (void)n;
    return MMU_OK;
}

void snap_detach_all(mmu_t *m)
{
    (void)m;
}
