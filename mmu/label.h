/*
 * label.h - region labels (label.c).
 */
#ifndef SOFTMMU_LABEL_H
#define SOFTMMU_LABEL_H

#include <stddef.h>
#include <stdint.h>

/* immutable once made; shared by the regions a split makes */
struct label {
    uint32_t refs;
    uint32_t len;
    uint32_t users; /* regions in the index using it (meta_bytes counts it once) */
    char     s[];
};

struct label *label_new(const char *s, const char *dflt); /* NULL on NOMEM */
struct label *label_new_n(const char *s, size_t len);     /* s need not end in a NUL */
struct label *label_ref(struct label *l);
void   label_unref(struct label *l);

#endif
