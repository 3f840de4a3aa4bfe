/*
 * search_int.h - private interface between search.c (walking guest memory)
 * and pattern.c (compiled YARA hex patterns).
 */
#ifndef SOFTMMU_SEARCH_INT_H
#define SOFTMMU_SEARCH_INT_H

#include "mmu_int.h"

#define SRCH_NONE SIZE_MAX /* no match */

/* Bytes a match of p covers. */
size_t pattern_len(const mmu_pattern *p);

/* Offset of the leftmost match of p lying wholly in hay[from, n), or
 * SRCH_NONE. from may exceed n. */
size_t pattern_find(const mmu_pattern *p, const uint8_t *hay, size_t n, size_t from);

#endif
