/*
 * region.h - map entries (regions) and the region index (region.c).
 */
#ifndef SOFTMMU_REGION_H
#define SOFTMMU_REGION_H

#include <softmmu/mmu.h>

#include "compiler.h"
#include "label.h"

/* a device behind MMIO regions (map_mmio); shared by the pieces of a split */
typedef struct mmio_dev {
    uint32_t          refs; /* regions pointing here */
    mmu_mmio_read_fn  rd;
    mmu_mmio_write_fn wr;
    void             *user;
    uint64_t          base; /* guest address offsets are taken from */
} mmio_dev;

/* a device serves reads with a read callback, writes with a write one, never fetches */
static inline bool mmio_dev_can(const mmio_dev *d, mmu_access k)
{
    return k == MMU_ACCESS_READ ? d->rd != NULL : k == MMU_ACCESS_WRITE ? d->wr != NULL : false;
}

enum { RGN_RAM, RGN_PTR, RGN_MMIO }; /* guest RAM (ram.c), a caller's buffer (map_ptr), a device */

/* One map entry: 40 bytes (a 48-byte malloc chunk). Its address is stable
 * while it lives; the index (a B+-tree) points at it. */
typedef struct region {
    uint64_t start;
    uint64_t last; /* inclusive: a region may end at 2^64 */
    union {
        uint8_t  *host; /* RGN_RAM, RGN_PTR: host address of start */
        mmio_dev *dev;  /* RGN_MMIO */
    };
    union {
        struct label  *label;
        struct region *link; /* off the index, labelless: chains spare nodes and arena lists */
    };
    uint8_t perms;
    uint8_t kind; /* RGN_* */
} region;

static inline mmio_dev *region_dev(const region *r) { return r->kind == RGN_MMIO ? r->dev : NULL; }
static inline uint8_t *region_host(const region *r) { return r->kind == RGN_MMIO ? NULL : r->host; }

typedef struct rnode rnode; /* region.c */

/* A B+-tree of regions keyed by start, 32 per node; inner nodes keep, per
 * child, the largest free gap under it and the best alignment of a free
 * address in those gaps (first fit). Splits take nodes from a pool that
 * region_reserve fills beforehand, so inserting never allocates. */
typedef struct region_index {
    rnode   *root;
    size_t   count;       /* regions */
    size_t   n_nodes;     /* tree nodes in use */
    rnode   *pool;        /* spare nodes, chained */
    size_t   n_pool;
    size_t   label_bytes; /* distinct labels of the indexed regions */
    rnode   *cur;         /* cursor: leaf and slot of the last region looked up */
    unsigned cur_i;
} region_index;

/* Lowest region with last >= addr, or NULL. */
region *region_ceil(const region_index *ri, uint64_t addr);
/* Region containing addr, or NULL. */
region *region_find(const region_index *ri, uint64_t addr);
region *region_first(const region_index *ri);
region *region_last(const region_index *ri);
/* The region after r (r in the index); O(1) when r is the last one looked
 * up, which makes iteration O(1) per step, also when the loop removes the
 * current region after fetching the next one. */
region *region_next(const region_index *ri, const region *r);
/* Makes sure the next n_inserts inserts (and any removes in between) need
 * no allocation: false (nothing changed) when out of memory. */
bool    region_reserve(region_index *ri, size_t n_inserts) MUST_CHECK;
/* Frees the spare nodes. */
void    region_trim(region_index *ri);
void    region_insert(region_index *ri, region *r);          /* r must not overlap; reserved */
void    region_remove(region_index *ri, region *r);          /* does not free r; never allocates */
/* r->last = last (r in the index, not overlapping its successor) */
void    region_resize(region_index *ri, region *r, uint64_t last);
/* replaces r's label (takes a reference to l, drops the old one) */
void    region_set_label(region_index *ri, region *r, struct label *l);
/* Lowest aligned a in [lo, hi) (128-bit safe) with [a, a+size) free,
 * below space_end (2^addr_bits). */
bool    region_first_fit(const region_index *ri, uint64_t size, uint64_t lo, unsigned __int128 hi_excl,
                     uint64_t align, unsigned __int128 space_end, uint64_t *out);
/* Host bytes of the index: regions, nodes (spares included) and the labels
 * the regions use, counted in malloc chunks. O(1). */
size_t  region_meta_bytes(const region_index *ri);
/* Frees the tree nodes (not the regions). */
void    region_index_free(region_index *ri);
/* Tests: checks every invariant of the tree; NULL, or what is wrong. */
const char *region_check(const region_index *ri);

/* Objects. region_new takes the label reference; region_destroy drops
 * it, the device reference, and (release_host) the guest RAM. */
region  *region_new(uint64_t start, uint64_t last, unsigned perms, unsigned kind, struct label *l);
void     region_destroy(region *r, bool release_host);
uint64_t region_pages(const region *r);
/* Makes addr a region boundary: a region straddling it is cut in two, the
 * right part going into node (true: node consumed). Never copies data.
 * Needs one reserved insert. */
bool     region_split(mmu_t *m, uint64_t addr, region *node);

#endif
