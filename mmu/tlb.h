/*
 * tlb.h - filling and flushing the software TLB (tlb.c). The hit itself is
 * inline in the public header (mmu_load_u8 & co.).
 */
#ifndef SOFTMMU_TLB_H
#define SOFTMMU_TLB_H

#include <softmmu/mmu.h>

#define TLB_INVALID UINT64_MAX /* a tag no access can match */

/* Caches page, whose entry is pte, for the access kinds allowed a fast path. */
void     tlb_fill(mmu_t *m, uint64_t page, uint64_t pte);
/* The host address of [addr, addr+size) when it lies in one page and hits
 * the TLB for kind k (counted as a hit), else NULL. */
uint8_t *tlb_hit(mmu_t *m, mmu_access k, uint64_t addr, size_t size);
void     tlb_flush_all(mmu_t *m);
void     tlb_flush_range(mmu_t *m, uint64_t vpn, uint64_t n);

#endif
