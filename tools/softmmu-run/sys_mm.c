/*
 * sys_mm.c - memory system calls, each a few MMU calls: mmap is a free-space
 * search plus mmu_map (MAP_FIXED first unmaps what it covers), munmap a
 * partial unmap across holes, mprotect an mmu_protect.
 */
#include "sys.h"

#define PROT_MASK 7u
#define PROT_GROWS 0x03000000u /* PROT_GROWSDOWN | PROT_GROWSUP: accepted, ignored */
#define MAP_FIXED_ 0x10u
#define MAP_ANON_ 0x20u
#define MAP_FIXED_NOREPLACE_ 0x100000u
#define MMAP_MIN 0x10000ull /* vm.mmap_min_addr */

/* the address for a mapping without MAP_FIXED: the hint if it is free,
 * else the first gap above RUN_MMAP_BASE, then above MMAP_MIN */
static mmu_err pick_addr(run_t *r, uint64_t hint, uint64_t size, uint64_t *out)
{
    hint = RUN_ALIGN_DOWN(hint);
    if (hint >= MMAP_MIN && hint + size > hint && hint + size <= r->stack_lo &&
        mmu_is_available(r->m, hint, size)) {
        *out = hint;
        return MMU_OK;
    }
    if (size <= r->stack_lo - RUN_MMAP_BASE &&
        mmu_find_free_space(r->m, size, RUN_MMAP_BASE, r->stack_lo, 0, out) == MMU_OK)
        return MMU_OK;
    return mmu_find_free_space(r->m, size, MMAP_MIN, r->stack_lo, 0, out);
}

/* MAP_FIXED: validates the range and clears it */
static int64_t fixed_addr(run_t *r, uint64_t addr, uint64_t size, uint64_t flags)
{
    if (addr % RUN_PAGE)
        return -EINVAL;
    if (addr + size < addr || addr + size > RUN_USER_TOP || addr < MMAP_MIN)
        return addr < MMAP_MIN ? -EPERM : -ENOMEM;
    if (flags & MAP_FIXED_NOREPLACE_)
        return mmu_is_available(r->m, addr, size) ? 0 : -EEXIST;
    return mem_unmap_range(r, addr, size) ? 0 : -ENOMEM;
}

SYS_DECL(mmap)
{
    uint64_t len = a[1], prot = a[2], flags = a[3];
    if (len == 0 || (prot & ~(uint64_t)(PROT_MASK | PROT_GROWS)))
        return -EINVAL;
    if (!(flags & MAP_ANON_))
        return -ENODEV; /* no files to map */
    if (len > RUN_USER_TOP || !mem_room(r, RUN_ALIGN_UP(len)))
        return -ENOMEM;
    uint64_t size = RUN_ALIGN_UP(len), addr = a[0];
    if (flags & (MAP_FIXED_ | MAP_FIXED_NOREPLACE_)) {
        int64_t err = fixed_addr(r, addr, size, flags);
        if (err)
            return err;
    } else if (pick_addr(r, addr, size, &addr) != MMU_OK) {
        return -ENOMEM;
    }
    if (mmu_map(r->m, addr, size, (unsigned)(prot & PROT_MASK), "[mmap anonymous]") != MMU_OK)
        return -ENOMEM;
    return (int64_t)addr;
}

SYS_DECL(munmap)
{
    uint64_t addr = a[0], size = RUN_ALIGN_UP(a[1]);
    if (addr % RUN_PAGE || a[1] == 0 || size == 0 || addr + size < addr || addr + size > RUN_USER_TOP)
        return -EINVAL;
    return mem_unmap_range(r, addr, size) ? 0 : -ENOMEM;
}

SYS_DECL(mprotect)
{
    uint64_t addr = a[0], size = RUN_ALIGN_UP(a[1]);
    if (addr % RUN_PAGE || (a[2] & ~(uint64_t)(PROT_MASK | PROT_GROWS)) || addr + size < addr)
        return -EINVAL;
    if (a[1] == 0)
        return 0;
    mem_demand_fill(r, addr, size);
    if (!mmu_is_mapped(r->m, addr, size))
        return -ENOMEM;
    return mmu_protect(r->m, addr, size, (unsigned)(a[2] & PROT_MASK)) == MMU_OK ? 0 : -ENOMEM;
}

SYS_DECL(brk)
{
    return (int64_t)mem_brk(r, a[0]);
}

SYS_DECL(madvise)
{
    (void)r;
    return a[0] % RUN_PAGE ? -EINVAL : 0; /* advice only */
}
