/*
 * tlb.h - filling and flushing the software TLB (tlb.c). The hit itself is
 * inline in the public header (mmu_load_u8 & co.).
 */
#ifndef SOFTMMU_TLB_H
#define SOFTMMU_TLB_H

#include <softmmu/mmu.h>

#include "compiler.h"

#define TLB_INVALID UINT64_MAX /* a tag no access can match */
#define TLB_BE_MARK 0x800u     /* on a big-endian MMU's read and write tags: the
                                  inline typed accessors (which do not swap) miss */
#define TLB_DEFAULT_MIN 256u
#define TLB_DEFAULT_MAX 65536u

static inline uint64_t tlb_entries(const mmu_t *m)
{
    return ((const mmu_fast_ *)m)->tlb_index / sizeof(mmu_tlb_entry_) + 1;
}

/* Caches page, whose entry is pte, for the access kinds allowed a fast path. */
void     tlb_fill(mmu_t *m, uint64_t page, uint64_t pte);
/* The host address of [addr, addr+size) when it lies in one page and hits
 * the TLB for kind k (counted as a hit), else NULL. */
uint8_t *tlb_hit(mmu_t *m, mmu_access k, uint64_t addr, size_t size);
void     tlb_flush_all(mmu_t *m);
/* Allocates an empty TLB of n entries (power of two) for m; on NOMEM m
 * keeps the one it has. */
mmu_err  tlb_alloc(mmu_t *m, uint64_t n) MUST_CHECK;
/* The tag of kind k without the big-endian mark: the page address when that
 * kind hits, else a value that is never page-aligned. */
uint64_t tlb_tag(const mmu_t *m, const mmu_tlb_entry_ *e, mmu_access k);
/* The page an entry caches (any valid tag holds it), or TLB_INVALID. */
uint64_t tlb_page_of(const mmu_t *m, const mmu_tlb_entry_ *e);
void     tlb_flush_range(mmu_t *m, uint64_t vpn, uint64_t n);

#endif
