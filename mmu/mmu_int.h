/*
 * mmu_int.h - the MMU handle (struct mmu) and the calls between the files of
 * mmu/. Each module has its own header: pt.h (page table), region.h (map
 * entries and their index), label.h, tlb.h (fill and flush).
 */
#ifndef SOFTMMU_MMU_INT_H
#define SOFTMMU_MMU_INT_H

#include <softmmu/mmu.h>

#include <stdlib.h>

#include "alloc.h"
#include "compiler.h"
#include "hooklist.h"
#include "pt.h"
#include "region.h"
#include "tlb.h"

/* ------------------------------------------------------------ statistics */
#define MMU_STATS(X) X(tlb_misses) X(tlb_flushes) X(page_walks) X(faults) X(tlb_resizes)

typedef struct mmu_snapstate mmu_snapstate; /* snapshot.c */

struct mmu {
    mmu_fast_ fast;       /* must be first: the public inline accessors use it */
    mmu_config cfg;
    uint64_t  space_last; /* 2^addr_bits - 1 */
    pt        pt;
    region_index    ri;
    struct label   *last_label; /* the label mmu_map made last: the next with its text shares it */
    uint64_t  pages_mapped;
    uint32_t *tlb_fills; /* per TLB slot: fills since created or resized (introspection) */
    bool      tlb_dynamic;
    uint64_t  tlb_window, tlb_evictions; /* fills, and fills evicting a page, since the last decision */
    hooklist  hooks;
    unsigned  n_access_hooks[3]; /* live READ/WRITE/FETCH access hooks */
    mmu_snapstate *snap;  /* incremental snapshot state, NULL if none */
    unsigned  in_callback; /* access hooks or MMIO callbacks running */
    bool      cancel;      /* the innermost of them called mmu_cancel_access */
#define X(n) uint64_t n;
    MMU_STATS(X)
#undef X
};

/* ---------------------------------------------------------------- hooks.c */
/* Runs the live hooks for ev->type whose range overlaps [lo, hi]. With
 * stop_on_true, stops at the first that returns true (then true). */
bool hooks_run(mmu_t *m, const mmu_mem_event *ev, uint64_t lo, uint64_t hi, bool stop_on_true);
/* Does a live access hook of kind k cover any byte of page? */
bool hooks_cover_page(const mmu_t *m, mmu_access k, uint64_t page);

/* ------------------------------------------------------------------ map.c */
/* Validates a page-aligned range: size > 0, no wrap, inside the space. */
mmu_err map_range_check(const mmu_t *m, uint64_t addr, uint64_t size) MUST_CHECK;
/* Enters r (checked free) into the index; its page-table entries fill on
 * demand. */
mmu_err map_insert(mmu_t *m, region *r) MUST_CHECK;
/* Clears the entries of [vpn, vpn+n) (the host pages stay with the region). */
void    map_clear_pages(mmu_t *m, uint64_t vpn, uint64_t n);
/* Sets r's perms and those of its present entries. */
void    map_set_perms(mmu_t *m, region *r, unsigned perms);
/*
 * The page table fills on demand, so a mapped page may have no entry yet.
 * Invariant: a RAM page without an entry holds zeros (every write to guest
 * RAM makes the entry first: map_fill). map_pte gives a page's entry as it
 * is or as a fill would make it (0: unmapped), changing nothing;
 * map_fill_page makes it present (NULL: unmapped, or no memory for a leaf);
 * map_fill does so for a mapped range (MMU_ERR_NOMEM).
 */
uint64_t  map_pte(mmu_t *m, uint64_t vpn);
uint64_t *map_fill_page(mmu_t *m, uint64_t vpn);
mmu_err   map_fill(mmu_t *m, uint64_t vpn, uint64_t n) MUST_CHECK;

/* --------------------------------------------------------------- access.c */
/* Memory read by mmu_fetch may have changed: decoded-code caches must drop it. */
void access_code_changed(mmu_t *m);

/* snapshot.c: called by the core, before any mutation, for the pages of a
 * range that carry PTE_TRACK. They may allocate (and so fail); afterwards the
 * core changes the pages, so they must leave the live state untouched. */
mmu_err snap_before_write(mmu_t *m, uint64_t vpn, uint64_t n) MUST_CHECK;
mmu_err snap_before_unmap(mmu_t *m, uint64_t vpn, uint64_t n) MUST_CHECK;
void    snap_detach_all(mmu_t *m); /* from mmu_close */
bool    snap_attached(const mmu_t *m); /* is any snapshot attached? */

/* ram.c: guest RAM: anonymous, lazily committed host pages */
void *ram_alloc(uint64_t size);
void  ram_free(void *p, uint64_t size);

#endif
