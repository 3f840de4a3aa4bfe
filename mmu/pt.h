/*
 * pt.h - the page table: the translation structure behind the TLB.
 */
#ifndef SOFTMMU_PT_H
#define SOFTMMU_PT_H

#include <softmmu/mmu.h>

#include "compiler.h"

#define PAGE_MASK (MMU_PAGE_SIZE - 1)

/*
 * Page-table entry: host address of the page (page-aligned) | flags.
 * The low three bits are the guest perms, as MMU_PROT_*.
 */
#define PTE_PROT  0x007u
#define PTE_VALID 0x008u /* page mapped */
#define PTE_MMIO  0x010u /* device page: host part is 0 */
#define PTE_CODE  0x020u /* read by mmu_fetch: a write bumps code_gen */
#define PTE_TRACK 0x040u /* a snapshot wants to see the first write */
#define PTE_HOST(p) ((uint8_t *)(uintptr_t)((p) & ~PAGE_MASK))

/* Two levels: a hash table keyed by vpn >> LEAF_BITS holds leaf tables of
 * 2^LEAF_BITS entries (one 4 KiB leaf covers 2 MiB). The top level is a hash
 * so a 64-bit space costs nothing where nothing is mapped. The table fills
 * on demand: an entry exists once its page has been translated (map.c
 * map_fill); mapping, unmapping and protecting cost the entries present, not
 * the pages of the range. */
#define LEAF_BITS MMU_PT_LEAF_BITS
#define LEAF_ENTRIES MMU_PT_LEAF_ENTRIES

typedef struct pt_leaf {
    uint64_t key;     /* vpn >> LEAF_BITS */
    uint32_t n_valid; /* entries with PTE_VALID, plus pins; the leaf is freed at 0 */
    uint64_t pte[LEAF_ENTRIES];
} pt_leaf;

typedef struct pt {
    pt_leaf **slot; /* open addressing, linear probing, NULL = empty */
    size_t    cap;  /* power of two */
    size_t    n_leaves;
    pt_leaf  *last; /* one-entry walk cache */
} pt;

mmu_err pt_init(pt *t) MUST_CHECK;
void    pt_free(pt *t);
/* The entry for vpn, or NULL when its leaf does not exist. */
uint64_t *pt_find(pt *t, uint64_t vpn);
/* The leaf for key (vpn >> LEAF_BITS), or NULL; leaves the walk cache alone. */
const pt_leaf *pt_leaf_peek(const pt *t, uint64_t key);
/* Sets the entry of vpn (PTE_VALID) to pte, creating its leaf if needed;
 * returns the entry, or NULL when that leaf cannot be allocated. */
uint64_t *pt_install(pt *t, uint64_t vpn, uint64_t pte);
/* Calls fn for every present entry in [vpn, vpn+n), in ascending order; the
 * entry becomes what fn returns (0 clears it; leaves left empty are freed).
 * Costs O(min(leaves spanned, leaves that exist) + entries visited): never
 * O(n). fn must not change the page table otherwise. */
/* Keeps the leaf of vpn alive (created if needed) until pt_unpin, so that
 * pt_install there cannot fail. */
mmu_err pt_pin(pt *t, uint64_t vpn) MUST_CHECK;
void    pt_unpin(pt *t, uint64_t vpn);
typedef uint64_t (*pt_visit_fn)(void *ctx, uint64_t vpn, uint64_t pte);
void    pt_visit(pt *t, uint64_t vpn, uint64_t n, pt_visit_fn fn, void *ctx);
size_t  pt_meta_bytes(const pt *t);

#endif
