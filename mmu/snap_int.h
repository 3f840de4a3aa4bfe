/*
 * snap_int.h - private state of snapshots, shared by mmu/snapshot.c and
 * mmu/snap_*.c.
 *
 * Model. A snapshot records the map (one snap_rec per region) at save time
 * and the contents lazily: every RAM page gets PTE_TRACK (pages with an
 * entry at save; entries filled later while a snapshot is attached are born
 * with it, and until then hold zeros, see map_pte), so its first write
 * (or its unmap) reaches snap_before_write/unmap, which copies the old page
 * once into a refcounted page_copy shared by every attached snapshot still
 * lacking it, and marks the page dirty for each of them. A RAM page a
 * snapshot holds no copy of is "clean": it still sits, unchanged, at
 * rec->host + offset (in the live MMU, or after mmu_close in an arena that
 * keeps the closed MMU's RAM alive). Restore rewrites only the dirty pages
 * and repairs only the regions that differ.
 *
 * Invariants, for an MMU m and every snapshot s attached to it:
 *  - a RAM page of s without an entry in s->tab is clean: at rec->host + offset
 *    when listed in s->inplace, else zeros;
 *  - a page of m without PTE_TRACK is dirty for every attached snapshot that
 *    has RAM there (extra PTE_TRACK bits are harmless: cleared lazily);
 *  - entries are never removed while s lives; dirty[] lists exactly the
 *    entries with dirty set.
 */
#ifndef SOFTMMU_SNAP_INT_H
#define SOFTMMU_SNAP_INT_H

#include "mmu_int.h"

typedef struct page_copy {
    uint64_t refs;
    uint8_t  data[MMU_PAGE_SIZE];
} page_copy;

/* shared stand-in for a copy of an all-zero page: never counted or freed */
extern page_copy snap_zero;

typedef struct snap_ent {
    uint64_t   vpn;
    page_copy *copy;  /* the page at save time; NULL = free slot */
    bool       dirty; /* live page may differ; listed in dirty[] */
} snap_ent;

typedef struct snap_rec {
    uint64_t start, last; /* inclusive, as region */
    unsigned perms, kind; /* REG_*; a PTR region read from a file is RAM */
    struct label  *label;       /* a reference */
    uint8_t *host;        /* RAM: host of start while clean pages live there (NULL: zeros); PTR: caller's buffer */
    uint8_t *data;        /* PTR: contents copied at save */
    mmio_dev dev;         /* MMIO: device (refs unused) */
    bool     unmapped;    /* a page was unmapped since save/restore: the RAM
                           * over it may now be several host allocations */
} snap_rec;

/* RAM of a closed MMU, kept for the snapshots' clean pages */
typedef struct snap_arena {
    uint64_t refs;
    region  *list; /* chained by ->link, labelless */
} snap_arena;

struct mmu_snapshot {
    mmu_t      *mmu;  /* attached MMU, or NULL */
    snap_rec   *recs; /* sorted by start */
    size_t      n_recs;
    snap_ent   *tab;  /* vpn -> copy, open addressing, power-of-two cap */
    size_t      tab_cap, tab_used;
    uint64_t   *dirty; /* vpns of dirty entries */
    size_t      n_dirty, cap_dirty;
    snap_arena *arena; /* set once detached from a closed MMU */
    uint64_t   *inplace; /* sorted vpns of the RAM pages with an entry at save: the
                            only ones that may be non-zero; a clean page not
                            listed held zeros */
    size_t      n_inplace;
};

struct mmu_snapstate {
    mmu_snapshot **list; /* attached snapshots */
    size_t         n, cap;
    snap_arena    *arena; /* preallocated so that mmu_close cannot fail */
};

/* snap_track.c: page table of a snapshot and write tracking */
snap_ent       *snap_lookup(const mmu_snapshot *s, uint64_t vpn);
const snap_rec *snap_rec_at(const mmu_snapshot *s, uint64_t addr); /* record holding addr, or NULL */
size_t          snap_rec_ceil(const mmu_snapshot *s, uint64_t addr); /* first record with last >= addr */
/* room for one more entry and one more dirty vpn, so snap_put cannot fail */
mmu_err         snap_reserve(mmu_snapshot *s) MUST_CHECK;
/* adds vpn -> pc unless present (pc then unused), marks it dirty if asked */
void            snap_put(mmu_snapshot *s, uint64_t vpn, page_copy *pc, bool dirty);
void            snap_copy_unref(page_copy *pc);
page_copy      *snap_copy_of(const uint8_t *src); /* &snap_zero for zeros, NULL on NOMEM */
bool            snap_page_is_zero(const uint8_t *p);
/* source of a page of rec at save time; NULL means zeros */
bool            snap_inplace_has(const mmu_snapshot *s, uint64_t vpn);
size_t          snap_inplace_ceil(const mmu_snapshot *s, uint64_t vpn); /* first listed >= vpn */
const uint8_t  *snap_page_src(const mmu_snapshot *s, const snap_rec *rc, uint64_t vpn);
/* lets the attached snapshots but skip save the tracked pages of a live range */
mmu_err         snap_note_range(mmu_t *m, uint64_t first, uint64_t last, const mmu_snapshot *skip) MUST_CHECK;
mmu_err         snap_note_page(mmu_t *m, uint64_t vpn, const mmu_snapshot *skip) MUST_CHECK;

/* snapshot.c: attachment */
mmu_err snap_state_reserve(mmu_t *m) MUST_CHECK; /* room to attach one more */
void    snap_attach(mmu_t *m, mmu_snapshot *s);
void    snap_arena_unref(snap_arena *a);
uint64_t snap_rec_pages(const snap_rec *rc);
void    snap_free_recs(mmu_snapshot *s);

#endif
