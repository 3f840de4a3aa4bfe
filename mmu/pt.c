/*
 * pt.c - the two-level page table: a hash of leaf tables.
 */
#include "mmu_int.h"

static size_t hash_key(uint64_t key, size_t cap)
{
    key *= 0x9e3779b97f4a7c15ull; /* fibonacci hashing: leaves are often consecutive */
    return (size_t)(key >> 20) & (cap - 1);
}

mmu_err pt_init(pt *t)
{
    t->cap = 16;
    t->n_leaves = 0;
    t->last = NULL;
    t->slot = sm_calloc(t->cap, sizeof *t->slot);
    return t->slot ? MMU_OK : MMU_ERR_NOMEM;
}

void pt_free(pt *t)
{
    for (size_t i = 0; i < t->cap; i++)
        sm_free(t->slot[i]);
    sm_free(t->slot);
    t->slot = NULL;
    t->cap = t->n_leaves = 0;
    t->last = NULL;
}

static pt_leaf *find_leaf(pt *t, uint64_t key)
{
    if (t->last && t->last->key == key)
        return t->last;
    for (size_t i = hash_key(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
        pt_leaf *l = t->slot[i];
        if (!l)
            return NULL;
        if (l->key == key)
            return t->last = l;
    }
}

const pt_leaf *pt_leaf_peek(const pt *t, uint64_t key)
{
    for (size_t i = hash_key(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
        const pt_leaf *l = t->slot[i];
        if (!l || l->key == key)
            return l;
    }
}

uint64_t *pt_find(pt *t, uint64_t vpn)
{
    pt_leaf *l = find_leaf(t, vpn >> LEAF_BITS);
    return l ? &l->pte[vpn & (LEAF_ENTRIES - 1)] : NULL;
}

static void place(pt_leaf **slot, size_t cap, pt_leaf *l)
{
    size_t i = hash_key(l->key, cap);
    while (slot[i])
        i = (i + 1) & (cap - 1);
    slot[i] = l;
}

static mmu_err grow(pt *t)
{
    size_t cap = t->cap * 2;
    pt_leaf **slot = sm_calloc(cap, sizeof *slot);
    if (!slot)
        return MMU_ERR_NOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slot[i])
            place(slot, cap, t->slot[i]);
    sm_free(t->slot);
    t->slot = slot;
    t->cap = cap;
    return MMU_OK;
}

static mmu_err add_leaf(pt *t, uint64_t key)
{
    if ((t->n_leaves + 1) * 4 > t->cap * 3 && grow(t) != MMU_OK) /* load <= 3/4 */
        return MMU_ERR_NOMEM;
    pt_leaf *l = sm_calloc(1, sizeof *l);
    if (!l)
        return MMU_ERR_NOMEM;
    l->key = key;
    place(t->slot, t->cap, l);
    t->n_leaves++;
    return MMU_OK;
}

mmu_err pt_reserve(pt *t, uint64_t vpn, uint64_t n)
{
    uint64_t first = vpn >> LEAF_BITS, last = (vpn + n - 1) >> LEAF_BITS;
    for (uint64_t k = first;; k++) {
        if (!find_leaf(t, k) && add_leaf(t, k) != MMU_OK) {
            pt_prune(t, vpn, n);
            return MMU_ERR_NOMEM;
        }
        if (k == last)
            return MMU_OK;
    }
}

/* backward-shift deletion keeps probe chains intact without tombstones */
static void remove_slot(pt *t, size_t i)
{
    size_t mask = t->cap - 1, j = i;
    t->slot[i] = NULL;
    for (;;) {
        j = (j + 1) & mask;
        pt_leaf *l = t->slot[j];
        if (!l)
            return;
        size_t home = hash_key(l->key, t->cap);
        /* can l move to the hole at i? only if home is not in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            t->slot[i] = l;
            t->slot[j] = NULL;
            i = j;
        }
    }
}

static void drop_leaf(pt *t, uint64_t key)
{
    for (size_t i = hash_key(key, t->cap);; i = (i + 1) & (t->cap - 1)) {
        pt_leaf *l = t->slot[i];
        if (!l)
            return;
        if (l->key == key) {
            if (t->last == l)
                t->last = NULL;
            sm_free(l);
            remove_slot(t, i);
            t->n_leaves--;
            return;
        }
    }
}

void pt_prune(pt *t, uint64_t vpn, uint64_t n)
{
    uint64_t first = vpn >> LEAF_BITS, last = (vpn + n - 1) >> LEAF_BITS;
    for (uint64_t k = first;; k++) {
        pt_leaf *l = find_leaf(t, k);
        if (l && l->n_valid == 0)
            drop_leaf(t, k);
        if (k == last)
            return;
    }
}

void pt_set(pt *t, uint64_t vpn, uint64_t pte)
{
    pt_leaf *l = find_leaf(t, vpn >> LEAF_BITS);
    uint64_t *e = &l->pte[vpn & (LEAF_ENTRIES - 1)];
    l->n_valid += (unsigned)((pte & PTE_VALID) != 0) - (unsigned)((*e & PTE_VALID) != 0);
    *e = pte;
    if (l->n_valid == 0)
        drop_leaf(t, l->key);
}

size_t pt_meta_bytes(const pt *t)
{
    return t->cap * sizeof *t->slot + t->n_leaves * sizeof(pt_leaf);
}
