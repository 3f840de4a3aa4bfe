/*
 * region.h - map entries (regions) and the region index (region.c).
 */
#ifndef SOFTMMU_REGION_H
#define SOFTMMU_REGION_H

#include <softmmu/mmu.h>

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
region *region_ceil(const region_index *ri, uint64_t addr);
/* Region containing addr, or NULL. */
region *region_find(const region_index *ri, uint64_t addr);
region *region_first(const region_index *ri);
region *region_next(const region_index *ri, const region *r);
void    region_insert(region_index *ri, region *r);          /* r must not overlap */
void    region_remove(region_index *ri, region *r);          /* does not free r */
/* Lowest aligned a in [lo, hi] (inclusive bounds, 128-bit safe) with
 * [a, a+size) free, below limit (2^addr_bits). */
bool    region_first_fit(const region_index *ri, uint64_t size, uint64_t lo, unsigned __int128 hi_excl,
                     uint64_t align, unsigned __int128 space_end, uint64_t *out);

/* Objects. region_new takes the label reference; region_destroy drops
 * it, the device reference, and (release_host) the guest RAM. */
region  *region_new(uint64_t start, uint64_t last, unsigned perms, unsigned kind, struct label *l);
void     region_destroy(region *r, bool release_host);
uint64_t region_pages(const region *r);
/* Makes addr a region boundary: a region straddling it is cut in two, the
 * right part going into node (true: node consumed). Never copies data. */
bool     region_split(mmu_t *m, uint64_t addr, region *node);

#endif
