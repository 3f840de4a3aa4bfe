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
 * so a 64-bit space costs nothing where nothing is mapped. */
#define LEAF_BITS MMU_PT_LEAF_BITS
#define LEAF_ENTRIES MMU_PT_LEAF_ENTRIES

typedef struct pt_leaf {
    uint64_t key;     /* vpn >> LEAF_BITS */
    uint32_t n_valid; /* entries with PTE_VALID; the leaf is freed at 0 */
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
/* Creates the leaves covering [vpn, vpn+n) so that pt_set cannot fail. */
mmu_err pt_reserve(pt *t, uint64_t vpn, uint64_t n) MUST_CHECK;
/* Frees the leaves of [vpn, vpn+n) that hold no valid entry (undoes reserve). */
void    pt_prune(pt *t, uint64_t vpn, uint64_t n);
/* Sets an entry whose leaf exists (pt_reserve); keeps the valid count. */
void    pt_set(pt *t, uint64_t vpn, uint64_t pte);
size_t  pt_meta_bytes(const pt *t);

#endif
