/*
 * alloc_test.h - test-only control of the allocation failure injector.
 * Tests link the static library, where this symbol is reachable.
 */
#ifndef SOFTMMU_ALLOC_TEST_H
#define SOFTMMU_ALLOC_TEST_H

/* Makes the allocation n calls from now fail (0 = the next one), and only
 * that one; n < 0 disables the injector. Also covers mmap of guest memory. */
void mmu_alloc_fail_after(long n);
/* true when the injector says this allocation fails (used by host memory) */
#endif
