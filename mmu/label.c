/*
 * label.c - region labels: immutable, reference-counted strings, so that
 * splitting a region shares its label instead of copying it.
 */
#include "mmu_int.h"

struct label *label_new(const char *s, const char *dflt)
{
    if (!s || !*s)
        s = dflt;
    return label_new_n(s, strlen(s));
}

struct label *label_new_n(const char *s, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    struct label *l = sm_malloc(sizeof *l + len + 1);
    if (!l)
        return NULL;
    l->refs = 1;
    l->users = 0;
    l->len = (uint32_t)len;
    memcpy(l->s, s, len);
    l->s[len] = '\0';
    return l;
}

struct label *label_ref(struct label *l)
{
    l->refs++;
    return l;
}

void label_unref(struct label *l)
{
    if (l && --l->refs == 0)
        sm_free(l);
}
