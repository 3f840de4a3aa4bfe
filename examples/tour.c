/*
 * tour.c - the README's API tour, compiled and checked: each call's
 * documented outcome is asserted, so the README cannot drift from the code.
 */
#include <softmmu/mmu.h>

#include <stdio.h>
#include <stdlib.h>

#define EXPECT(cond)                                                     \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fprintf(stderr, "tour.c:%d: %s is false\n", __LINE__, #cond); \
            exit(1);                                                     \
        }                                                                \
    } while (0)

/* ql.hook_mem_unmapped(memory_fix): map the missing page, write, retry */
static bool memory_fix(mmu_t *m, const mmu_mem_event *ev, void *user)
{
    (void)user;
    mmu_map(m, ev->addr & ~0xfffull, 0x1000, MMU_PROT_ALL, NULL);
    return mmu_write_ptr(m, ev->addr, 0x42, 4, false) == MMU_OK; /* true: handled, retry */
}

int main(void)
{
    mmu_t *m;
    EXPECT(mmu_open(NULL, &m) == MMU_OK);
    EXPECT(mmu_map(m, 0x400000, 0x4000, MMU_PROT_READ | MMU_PROT_EXEC, "/bin/x") == MMU_OK);
    EXPECT(mmu_map(m, 0x400000, 0x1000, MMU_PROT_ALL, NULL) == MMU_ERR_MAPPED);
    EXPECT(mmu_protect(m, 0x401234, 0x10, MMU_PROT_READ) == MMU_OK);
    EXPECT(mmu_unmap(m, 0x402000, 0x1000) == MMU_OK);
    EXPECT(mmu_regions(m, NULL, 0) == 3); /* r-x, r--, (hole), r-x */

    uint64_t heap;
    EXPECT(mmu_map_anywhere(m, 0x10, 0x10000000, 0, 0, MMU_PROT_READ | MMU_PROT_WRITE, "[heap]", &heap) == MMU_OK);
    EXPECT(heap == 0x10000000);
    uint64_t where;
    EXPECT(mmu_find_free_space(m, 0x2000, 0x500000, 0, 0x10000, &where) == MMU_OK && where == 0x500000);
    EXPECT(mmu_is_available(m, 0x500000, 0x1000));
    EXPECT(!mmu_is_mapped(m, 0x401000, 0x2000) && !mmu_is_available(m, 0x401000, 0x2000));

    char buf[6];
    EXPECT(mmu_write(m, heap, "hello", 6) == MMU_OK);
    EXPECT(mmu_read(m, heap, buf, sizeof buf) == MMU_OK && buf[4] == 'o');
    uint64_t v;
    EXPECT(mmu_write_ptr(m, heap, (uint64_t)-1, 2, true) == MMU_OK);
    EXPECT(mmu_read_ptr(m, heap, 2, true, &v) == MMU_OK && v == (uint64_t)-1);
    size_t len;
    EXPECT(mmu_write_string(m, heap, "a string") == MMU_OK);
    EXPECT(mmu_read_string(m, heap, buf, sizeof buf, &len) == MMU_ERR_NOTFOUND);

    uint64_t hits[16];
    size_t n;
    EXPECT(mmu_write(m, heap + 0x100, "\xFF\xFE\xFD", 3) == MMU_OK);
    EXPECT(mmu_search(m, "\xFF\xFE\xFD", 3, 0, 0, 0, hits, 16, &n) == MMU_OK);
    EXPECT(n == 1 && hits[0] == heap + 0x100);

    EXPECT(mmu_hook_add(m, MMU_HOOK_MEM_UNMAPPED, memory_fix, NULL, 1, 0, NULL) == MMU_OK);
    uint32_t x;
    EXPECT(mmu_load_u32(m, 0x900000, &x) == MMU_OK && x == 0x42);
    mmu_close(m);
    puts("tour ok");
    return 0;
}
