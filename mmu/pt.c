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

uint64_t *pt_install(pt *t, uint64_t vpn, uint64_t pte)
{
    uint64_t key = vpn >> LEAF_BITS;
    pt_leaf *l = find_leaf(t, key);
    if (!l && add_leaf(t, key) != MMU_OK)
        return NULL;
    l = find_leaf(t, key);
    uint64_t *e = &l->pte[vpn & (LEAF_ENTRIES - 1)];
    l->n_valid += !(*e & PTE_VALID);
    *e = pte;
    return e;
}

mmu_err pt_pin(pt *t, uint64_t vpn)
{
    uint64_t key = vpn >> LEAF_BITS;
    if (!find_leaf(t, key) && add_leaf(t, key) != MMU_OK)
        return MMU_ERR_NOMEM;
    find_leaf(t, key)->n_valid++;
    return MMU_OK;
}

void pt_unpin(pt *t, uint64_t vpn)
{
    pt_leaf *l = find_leaf(t, vpn >> LEAF_BITS);
    if (--l->n_valid == 0)
        drop_leaf(t, l->key);
}

/* visits one leaf's entries in [lo, hi] (indexes); drops it when emptied */
static void visit_leaf(pt *t, pt_leaf *l, unsigned lo, unsigned hi, pt_visit_fn fn, void *ctx)
{
    for (unsigned i = lo; i <= hi; i++) {
        if (!(l->pte[i] & PTE_VALID))
            continue;
        uint64_t v = fn(ctx, (l->key << LEAF_BITS) | i, l->pte[i]);
        l->n_valid -= !(v & PTE_VALID);
        l->pte[i] = v;
    }
    if (l->n_valid == 0)
        drop_leaf(t, l->key);
}

static void visit_key(pt *t, uint64_t k, uint64_t vpn, uint64_t n, pt_visit_fn fn, void *ctx)
{
    uint64_t first = vpn >> LEAF_BITS, last = (vpn + n - 1) >> LEAF_BITS;
    pt_leaf *l = find_leaf(t, k);
    if (!l)
        return;
    unsigned lo = k == first ? (unsigned)(vpn & (LEAF_ENTRIES - 1)) : 0;
    unsigned hi = k == last ? (unsigned)((vpn + n - 1) & (LEAF_ENTRIES - 1)) : LEAF_ENTRIES - 1;
    visit_leaf(t, l, lo, hi, fn, ctx);
}

static int cmp_key(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

#define VISIT_BATCH 64

/* Up to VISIT_BATCH smallest leaf keys in [from, last], ascending, by one
 * scan of the table; returns how many. */
static size_t smallest_keys(const pt *t, uint64_t from, uint64_t last, uint64_t *keys)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slot[i] || t->slot[i]->key < from || t->slot[i]->key > last)
            continue;
        uint64_t k = t->slot[i]->key;
        if (n == VISIT_BATCH && k > keys[n - 1])
            continue;
        size_t j = n < VISIT_BATCH ? n++ : n - 1; /* insert in order, dropping the largest */
        for (; j && keys[j - 1] > k; j--)
            keys[j] = keys[j - 1];
        keys[j] = k;
    }
    return n;
}

void pt_visit(pt *t, uint64_t vpn, uint64_t n, pt_visit_fn fn, void *ctx)
{
    uint64_t first = vpn >> LEAF_BITS, last = (vpn + n - 1) >> LEAF_BITS;
    if (last - first < 2 * (uint64_t)t->cap) { /* few leaves spanned: probe each */
        for (uint64_t k = first;; k++) {
            visit_key(t, k, vpn, n, fn, ctx);
            if (k == last)
                return;
        }
    }
    /* more leaves spanned than exist: list those that do from the table */
    size_t count = 0;
    for (size_t i = 0; i < t->cap; i++)
        count += t->slot[i] && t->slot[i]->key >= first && t->slot[i]->key <= last;
    uint64_t *keys = count > VISIT_BATCH ? sm_malloc(count * sizeof *keys) : NULL;
    if (keys) {
        size_t k = 0;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slot[i] && t->slot[i]->key >= first && t->slot[i]->key <= last)
                keys[k++] = t->slot[i]->key;
        qsort(keys, count, sizeof *keys, cmp_key);
        for (k = 0; k < count; k++)
            visit_key(t, keys[k], vpn, n, fn, ctx);
        sm_free(keys);
        return;
    }
    /* small, or no memory for the list: batches of the smallest keys left */
    uint64_t batch[VISIT_BATCH];
    for (uint64_t from = first;;) {
        size_t got = smallest_keys(t, from, last, batch);
        for (size_t k = 0; k < got; k++)
            visit_key(t, batch[k], vpn, n, fn, ctx);
        if (got < VISIT_BATCH || batch[got - 1] == last)
            return;
        from = batch[got - 1] + 1;
    }
}

size_t pt_meta_bytes(const pt *t)
{
    return t->cap * sizeof *t->slot + t->n_leaves * sizeof(pt_leaf);
}
