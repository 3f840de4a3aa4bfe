/*
 * mmu_int.h - private state of the MMU, shared by the files of mmu/.
 */
#ifndef SOFTMMU_MMU_INT_H
#define SOFTMMU_MMU_INT_H

#include <softmmu/mmu.h>

#include <stdlib.h>

#include "alloc.h"
#include "compiler.h"

#define PAGE_MASK (MMU_PAGE_SIZE - 1)
#define TLB_INVALID UINT64_MAX /* a tag no access can match */


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

/* ---------------------------------------------------------- page table */
/* Two levels: a hash table keyed by vpn >> LEAF_BITS holds leaf tables of
 * 2^LEAF_BITS entries (one 4 KiB leaf covers 2 MiB). The top level is a hash
 * so a 64-bit space costs nothing where nothing is mapped. */
#define LEAF_BITS 9
#define LEAF_ENTRIES (1u << LEAF_BITS)

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
/* Creates the leaves covering [vpn, vpn+n) so that pt_set cannot fail. */
mmu_err pt_reserve(pt *t, uint64_t vpn, uint64_t n) MUST_CHECK;
/* Frees the leaves of [vpn, vpn+n) that hold no valid entry (undoes reserve). */
void    pt_prune(pt *t, uint64_t vpn, uint64_t n);
/* Sets an entry whose leaf exists (pt_reserve); keeps the valid count. */
void    pt_set(pt *t, uint64_t vpn, uint64_t pte);
size_t  pt_meta_bytes(const pt *t);

/* --------------------------------------------------------------- labels */
struct label {
    uint32_t refs;
    uint32_t len;
    char     s[];
};

struct label *label_new(const char *s, const char *dflt); /* NULL on NOMEM */
struct label *label_ref(struct label *l);
void   label_unref(struct label *l);

/* ---------------------------------------------------------------- MMIO */
typedef struct mmio_dev {
    uint32_t          refs; /* regions pointing here */
    mmu_mmio_read_fn  rd;
    mmu_mmio_write_fn wr;
    void             *user;
    uint64_t          base; /* guest address offsets are taken from */
} mmio_dev;

/* --------------------------------------------------------- region index */
enum { RGN_RAM, RGN_PTR, RGN_MMIO };

/* One map entry. Kept in an AVL tree ordered by start, each node knowing the
 * gap between its predecessor's end and its own start, and the largest gap
 * in its subtree (for first-fit search). */
typedef struct region {
    struct region *left, *right;
    int            height;
    uint64_t       gap;     /* start - pred->last - 1, or start for the first */
    uint64_t       max_gap; /* max of gap over the subtree */
    uint64_t       start;
    uint64_t       last;    /* inclusive: a region may end at 2^64 */
    unsigned       perms;
    unsigned       kind;    /* REG_* */
    struct label        *label;
    uint8_t       *host;    /* host address of start (RAM, PTR) */
    mmio_dev      *dev;     /* RGN_MMIO */
} region;

typedef struct region_index {
    region *root;
    size_t  count;
} region_index;

/* Lowest region with last >= addr, or NULL. */
region *ri_ceil(const region_index *ri, uint64_t addr);
/* Region containing addr, or NULL. */
region *ri_find(const region_index *ri, uint64_t addr);
region *ri_first(const region_index *ri);
region *ri_next(const region_index *ri, const region *r);
void    ri_insert(region_index *ri, region *r);          /* r must not overlap */
void    ri_remove(region_index *ri, region *r);          /* does not free r */
/* Lowest aligned a in [lo, hi] (inclusive bounds, 128-bit safe) with
 * [a, a+size) free, below limit (2^addr_bits). */
bool    ri_first_fit(const region_index *ri, uint64_t size, uint64_t lo, unsigned __int128 hi_excl,
                     uint64_t align, unsigned __int128 space_end, uint64_t *out);

/* ---------------------------------------------------------------- hooks */
typedef struct hook {
    mmu_hook_id     id;
    unsigned        types;
    mmu_mem_hook_fn fn;
    void           *user;
    uint64_t        begin, end; /* inclusive; begin > end = all */
    bool            dead;
} hook;

/* ------------------------------------------------------------ statistics */
#define MMU_STATS(X) X(tlb_misses) X(tlb_flushes) X(page_walks) X(faults)

typedef struct mmu_snapstate mmu_snapstate; /* snapshot.c */

struct mmu {
    mmu_fast_ fast;       /* must be first: the public inline accessors use it */
    mmu_config cfg;
    uint64_t  space_last; /* 2^addr_bits - 1 */
    pt        pt;
    region_index    ri;
    uint64_t  pages_mapped;
    hook     *hooks;
    size_t    n_hooks, cap_hooks;
    unsigned  hook_depth;  /* > 0 while hook callbacks run */
    bool      hooks_dirty; /* dead hooks to compact */
    unsigned  n_access_hooks[3]; /* live READ/WRITE/FETCH access hooks */
    mmu_hook_id next_hook_id;
    mmu_snapstate *snap;  /* incremental snapshot state, NULL if none */
#define X(n) uint64_t n;
    MMU_STATS(X)
#undef X
};

/* ------------------------------------------------------ shared internals */
void    tlb_flush_all(mmu_t *m);
void    tlb_flush_range(mmu_t *m, uint64_t vpn, uint64_t n);
/* Validates a page-aligned range: size > 0, no wrap, inside the space. */
mmu_err range_check(const mmu_t *m, uint64_t addr, uint64_t size) MUST_CHECK;
/* Region bookkeeping used by map.c and snapshot.c. */
region *region_new(uint64_t start, uint64_t last, unsigned perms, unsigned kind, struct label *l);
void    region_destroy(mmu_t *m, region *r, bool release_host);
bool    region_split(mmu_t *m, uint64_t addr, region *node); /* node: spare for the right part */
mmu_err map_region(mmu_t *m, region *r) MUST_CHECK; /* r checked free; sets PTEs */
void    unmap_pages(mmu_t *m, uint64_t vpn, uint64_t n); /* clears PTEs, returns host pages */
void    code_changed(mmu_t *m);
/* Byte-order helpers for the configured order. */
uint64_t load_order(const mmu_t *m, const uint8_t *p, unsigned size);
void     store_order(const mmu_t *m, uint8_t *p, uint64_t v, unsigned size);

/* snapshot.c: called by the core, before any mutation, for the pages of a
 * range that carry PTE_TRACK. They may allocate (and so fail); afterwards the
 * core changes the pages, so they must leave the live state untouched. */
mmu_err snap_before_write(mmu_t *m, uint64_t vpn, uint64_t n) MUST_CHECK;
mmu_err snap_before_unmap(mmu_t *m, uint64_t vpn, uint64_t n) MUST_CHECK;
void    snap_detach_all(mmu_t *m); /* from mmu_close */

/* ram.c: guest RAM: anonymous, lazily committed host pages */
void *ram_alloc(uint64_t size);
void  ram_free(void *p, uint64_t size);

#endif
