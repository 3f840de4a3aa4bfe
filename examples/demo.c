/*
 * demo.c - maps, writes, protects and prints the regions of a small layout.
 */
#include <softmmu/mmu.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                                 \
    do {                                                                            \
        mmu_err err_ = (call);                                                      \
        if (err_ != MMU_OK) {                                                       \
            fprintf(stderr, "%s: %s\n", #call, mmu_strerror(err_));                 \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

static void print_regions(const mmu_t *m)
{
    mmu_region r[16];
    size_t n = mmu_regions(m, r, 16);
    for (size_t i = 0; i < n && i < 16; i++)
        printf("  %016" PRIx64 "-%016" PRIx64 " %c%c%c %s\n", r[i].start, r[i].end,
               r[i].perms & MMU_PROT_READ ? 'r' : '-', r[i].perms & MMU_PROT_WRITE ? 'w' : '-',
               r[i].perms & MMU_PROT_EXEC ? 'x' : '-', r[i].label);
}

int main(void)
{
    mmu_t *m;
    CHECK(mmu_open(NULL, &m));
    CHECK(mmu_map(m, 0x400000, 0x4000, MMU_PROT_READ | MMU_PROT_EXEC, "/bin/demo"));
    CHECK(mmu_map(m, 0x7ffffffde000, 0x21000, MMU_PROT_READ | MMU_PROT_WRITE, "[stack]"));
    uint64_t heap;
    CHECK(mmu_map_anywhere(m, 0x3000, 0x10000000, 0, 0, MMU_PROT_READ | MMU_PROT_WRITE, "[heap]", &heap));
    CHECK(mmu_write(m, heap, "hello, softmmu", 15));
    CHECK(mmu_protect(m, 0x401234, 0x10, MMU_PROT_READ));
    char buf[16];
    CHECK(mmu_read(m, heap, buf, sizeof buf - 1));
    printf("heap at %#" PRIx64 " reads \"%s\"\n", heap, buf);
    mmu_err err = mmu_map(m, 0x402000, 0x1000, MMU_PROT_ALL, "overlap");
    printf("mapping over the code fails: %s\n", mmu_strerror(err));
    printf("regions:\n");
    print_regions(m);
    mmu_stats st;
    mmu_get_stats(m, &st);
    printf("%" PRIu64 " regions, %" PRIu64 " pages, %" PRIu64 " bytes of metadata\n", st.regions,
           st.pages_mapped, st.meta_bytes);
    mmu_close(m);
    return 0;
}
