/*
 * test_util.h - helpers shared by the Criterion tests.
 */
#ifndef SOFTMMU_TEST_UTIL_H
#define SOFTMMU_TEST_UTIL_H

#include <criterion/criterion.h>
#include <softmmu/mmu.h>

/* evaluates once; on failure names the error */
#define OK(call)                                                                          \
    do {                                                                                  \
        mmu_err ok_err_ = (call);                                                         \
        cr_assert_eq(ok_err_, MMU_OK, "%s -> %s", #call, mmu_strerror(ok_err_));          \
    } while (0)

#define ERR(call, want)                                                                   \
    do {                                                                                  \
        mmu_err err_got_ = (call);                                                        \
        cr_assert_eq(err_got_, (want), "%s -> %s, want %s", #call, mmu_strerror(err_got_), \
                     mmu_strerror(want));                                                 \
    } while (0)

/* the call fails with want and leaves the digest as it was */
#define ERR_UNCHANGED(m, call, want)                                                      \
    do {                                                                                  \
        uint64_t d_before_ = mmu_digest(m);                                               \
        ERR(call, want);                                                                  \
        cr_assert_eq(mmu_digest(m), d_before_, "%s changed the state", #call);            \
    } while (0)

#endif
