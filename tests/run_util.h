/*
 * run_util.h - what the tests that run programs as processes share: a
 * scratch directory per test and reading a captured output file.
 */
#ifndef SOFTMMU_RUN_UTIL_H
#define SOFTMMU_RUN_UTIL_H

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a fresh directory /tmp/PREFIX-XXXXXX into dir (64 bytes) */
static inline void scratch_make(char dir[64], const char *prefix)
{
    snprintf(dir, 64, "/tmp/%s-XXXXXX", prefix);
    cr_assert_not_null(mkdtemp(dir));
}

static inline void scratch_remove(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* the file at path into buf, NUL-terminated, at most cap - 1 bytes */
static inline void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

#endif
