/*
 * sys_mm.c - memory system calls, each a few MMU calls: mmap is a free-space
 * search plus mmu_map (MAP_FIXED first unmaps what it covers; a file's
 * bytes are copied in), munmap a
 * partial unmap across holes, mprotect an mmu_protect.
 */
#include "sys.h"

#include <unistd.h>

#define PROT_MASK 7u
#define PROT_GROWS 0x03000000u /* PROT_GROWSDOWN | PROT_GROWSUP: accepted, ignored */
#define MAP_SHARED_ 0x01u
#define MAP_TYPE_ 0x0fu
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

/* a file mapping is a copy of the file: right for MAP_PRIVATE, and for a
 * read-only MAP_SHARED as long as nobody writes the file meanwhile */
static int64_t check_file_map(run_t *r, const uint64_t *a)
{
    if (a[5] % RUN_PAGE)
        return -EINVAL;
    int h = fd_host(r, a[4]);
    if (h < 0)
        return -EBADF;
    if ((a[3] & MAP_TYPE_) == MAP_SHARED_ && (a[2] & 2))
        return -ENODEV; /* XXX: writes would not reach the file */
    return h;
}

/* the file's bytes from offset into the new mapping (host access: the
 * mapping may be read-only); past the end of the file it stays zero */
static int64_t fill_from_file(run_t *r, int h, uint64_t addr, uint64_t len, uint64_t off)
{
    static uint8_t buf[0x10000];
    for (uint64_t done = 0; done < len;) {
        size_t n = len - done < sizeof buf ? (size_t)(len - done) : sizeof buf;
        ssize_t got = pread(h, buf, n, (off_t)(off + done));
        if (got < 0)
            return -errno;
        if (got == 0 || mmu_write(r->m, addr + done, buf, (size_t)got) != MMU_OK)
            break;
        done += (uint64_t)got;
    }
    return 0;
}

SYS_DECL(mmap)
{
    uint64_t len = a[1], prot = a[2], flags = a[3];
    int64_t h = -1;
    if (len == 0 || (prot & ~(uint64_t)(PROT_MASK | PROT_GROWS)))
        return -EINVAL;
    if (!(flags & MAP_ANON_) && (h = check_file_map(r, a)) < 0)
        return h;
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
    if (mmu_map(r->m, addr, size, (unsigned)(prot & PROT_MASK), h < 0 ? "[mmap anonymous]" : "[mmap file]") != MMU_OK)
        return -ENOMEM;
    int64_t e = h < 0 ? 0 : fill_from_file(r, (int)h, addr, len, a[5]);
    if (e < 0)
        mem_unmap_range(r, addr, size);
    return e < 0 ? e : (int64_t)addr;
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
