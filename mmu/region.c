/*
 * region.c - map entries (regions) and their index: a B+-tree keyed by
 * start. Leaves hold up to 32 (start, last, region) entries and are chained
 * both ways; inner nodes hold, per child, its lowest start, the largest free
 * gap before an entry under it and the most trailing zeros of a free address
 * in those gaps, so first fit skips every subtree that cannot hold the size
 * or has no free address of the alignment. A node is 816 bytes; every node
 * but the root is at least half full, and a full leaf first lends entries
 * to a sibling with room, so ascending inserts leave leaves nearly full.
 *
 * The gap of an entry is the free range [pred->last + 1, start) (from 0 for
 * the first region). Nodes come from a pool that region_reserve fills, so an
 * insert never allocates and removes never fail.
 */
#include "mmu_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define NB  32       /* entries (leaf) or children (inner) per node */
#define MIN (NB / 2) /* every node but the root holds at least this many */

struct rnode {
    rnode   *parent; /* NULL at the root; chains the pool */
    uint32_t n;
    uint32_t leaf;
    uint64_t key[NB]; /* leaf: region starts; inner: the lowest start under each child */
    union {
        struct {
            uint64_t last[NB];
            region  *r[NB];
            rnode   *prev, *next;
        } l;
        struct {
            rnode   *child[NB];
            uint64_t gap[NB]; /* largest gap under the child */
            uint8_t  tz[NB];  /* most trailing zeros of a free address in its gaps */
        } in;
    };
};

/* glibc's chunk for a request of n bytes: what an object really costs */
static size_t chunk(size_t n)
{
    n = (n + 8 + 15) & ~(size_t)15;
    return n < 32 ? 32 : n;
}

/* ------------------------------------------------------------ the pool */

static rnode *take(region_index *ri)
{
    rnode *x = ri->pool;
    assert(x && "region_reserve was not called");
    ri->pool = x->parent;
    ri->n_pool--;
    ri->n_nodes++;
    return x;
}

static void release(region_index *ri, rnode *x)
{
    x->parent = ri->pool;
    ri->pool = x;
    ri->n_pool++;
    ri->n_nodes--;
    ri->cur = NULL; /* it may have been the cursor's leaf */
}

/* most levels a tree of n entries can have: height h needs 2 MIN^(h-1) */
static size_t max_height(size_t n)
{
    size_t h = 1;
    for (size_t least = 2 * MIN; least <= n; least *= MIN)
        h++;
    return h;
}

/* most nodes a tree of n entries can have (all but the root half full) */
static size_t max_nodes(size_t n)
{
    size_t total = 0, level = n;
    do {
        level = level / MIN ? level / MIN : 1;
        total += level;
    } while (level > 1);
    return total;
}

/* Spare nodes that make n inserts safe, with removes in between: each
 * insert splits at most a path and adds a root; and live + spare nodes
 * (constant while no allocation happens) never need to exceed the most a
 * tree of count + n entries can have. */
static size_t spare_need(const region_index *ri, size_t n)
{
    if (!n)
        return 0;
    size_t total = ri->count + n, by_path = n * (max_height(total) + 1);
    size_t by_size = max_nodes(total) - (ri->n_nodes < max_nodes(total) ? ri->n_nodes : max_nodes(total));
    return by_path < by_size ? by_path : by_size;
}

static void pool_pop_free(region_index *ri)
{
    rnode *x = ri->pool;
    ri->pool = x->parent;
    ri->n_pool--;
    sm_free(x);
}

bool region_reserve(region_index *ri, size_t n_inserts)
{
    size_t need = spare_need(ri, n_inserts), keep = spare_need(ri, 1), had = ri->n_pool;
    while (ri->n_pool > (need > keep ? need : keep)) /* the spares of one insert stay: no churn */
        pool_pop_free(ri);
    while (ri->n_pool < need) {
        rnode *x = sm_malloc(sizeof *x);
        if (!x) {
            while (ri->n_pool > had)
                pool_pop_free(ri);
            return false;
        }
        x->parent = ri->pool;
        ri->pool = x;
        ri->n_pool++;
    }
    return true;
}

void region_trim(region_index *ri)
{
    while (ri->pool)
        pool_pop_free(ri);
}

static void free_tree(rnode *x)
{
    for (uint32_t i = 0; !x->leaf && i < x->n; i++)
        free_tree(x->in.child[i]);
    sm_free(x);
}

void region_index_free(region_index *ri)
{
    if (ri->root)
        free_tree(ri->root);
    region_trim(ri);
    *ri = (region_index){ 0 };
}

/* ------------------------------------------------------------- entries */

/* moves k entries (or children) from s[si] to d[di]; s may be d */
static void ents_move(rnode *d, unsigned di, rnode *s, unsigned si, unsigned k)
{
    memmove(d->key + di, s->key + si, k * sizeof *d->key);
    if (d->leaf) {
        memmove(d->l.last + di, s->l.last + si, k * sizeof *d->l.last);
        memmove(d->l.r + di, s->l.r + si, k * sizeof *d->l.r);
        return;
    }
    memmove(d->in.child + di, s->in.child + si, k * sizeof *d->in.child);
    memmove(d->in.gap + di, s->in.gap + si, k * sizeof *d->in.gap);
    memmove(d->in.tz + di, s->in.tz + si, k * sizeof *d->in.tz);
    for (unsigned j = 0; j < k; j++)
        d->in.child[di + j]->parent = d;
}

/* k entries from the front of x to the end of its left sibling w */
static void move_left(rnode *w, rnode *x, unsigned k)
{
    ents_move(w, w->n, x, 0, k);
    w->n += k;
    ents_move(x, 0, x, k, x->n - k);
    x->n -= k;
}

/* k entries from the end of x to the front of its right sibling y */
static void move_right(rnode *x, rnode *y, unsigned k)
{
    ents_move(y, k, y, 0, y->n);
    ents_move(y, 0, x, x->n - k, k);
    y->n += k;
    x->n -= k;
}

/* entries with key <= k (branch-free: the four lines load in parallel) */
static unsigned count_le(const rnode *x, uint64_t k)
{
    unsigned c = 0;
    for (unsigned i = 0; i < x->n; i++)
        c += x->key[i] <= k;
    return c;
}

static unsigned slot(const rnode *p, const rnode *c)
{
    unsigned i = 0;
    while (p->in.child[i] != c)
        i++;
    return i;
}

/* the leaf whose key range holds k: the cursor's (lookups cluster), else a descent */
static rnode *leaf_for(const region_index *ri, uint64_t k)
{
    rnode *x = ri->cur;
    if (x && (k >= x->key[0] || !x->l.prev) && (!x->l.next || k < x->l.next->key[0]))
        return x;
    x = ri->root;
    while (x && !x->leaf) {
        unsigned c = count_le(x, k);
        x = x->in.child[c ? c - 1 : 0];
    }
    return x;
}

/* ------------------------------------------------------- augmentation */

static uint64_t gap_start(const rnode *x, unsigned j)
{
    if (j)
        return x->l.last[j - 1] + 1;
    const rnode *p = x->l.prev;
    return p ? p->l.last[p->n - 1] + 1 : 0;
}

/* most trailing zeros of an address in [s, e), e > s */
static uint8_t gap_tz(uint64_t s, uint64_t e)
{
    return s == 0 ? 64 : (uint8_t)(63 - __builtin_clzll((s - 1) ^ (e - 1)));
}

static void summary(const rnode *x, uint64_t *gap, uint8_t *tz)
{
    uint64_t g = 0;
    uint8_t  t = 0;
    for (unsigned j = 0; j < x->n; j++) {
        uint64_t jg;
        uint8_t  jt;
        if (x->leaf) {
            uint64_t s = gap_start(x, j), e = x->key[j];
            jg = e - s;
            jt = e > s ? gap_tz(s, e) : 0;
        } else {
            jg = x->in.gap[j];
            jt = x->in.tz[j];
        }
        g = jg > g ? jg : g;
        t = jt > t ? jt : t;
    }
    *gap = g;
    *tz = t;
}

/* x's content changed: recompute the summaries on its path to the root */
static void fix_up(rnode *x)
{
    for (rnode *p = x->parent; p; x = p, p = p->parent) {
        unsigned i = slot(p, x);
        summary(x, &p->in.gap[i], &p->in.tz[i]);
    }
}

/* the same when x is the only node changed since the tree was exact: stops
 * where a summary comes out as it was */
static void fix_up_only(rnode *x)
{
    for (rnode *p = x->parent; p; x = p, p = p->parent) {
        unsigned i = slot(p, x);
        uint64_t g;
        uint8_t  t;
        summary(x, &g, &t);
        if (g == p->in.gap[i] && t == p->in.tz[i])
            return;
        p->in.gap[i] = g;
        p->in.tz[i] = t;
    }
}

/* x's lowest key changed: the keys above it follow */
static void fix_keys(rnode *x)
{
    for (rnode *p = x->parent; p; x = p, p = p->parent) {
        unsigned i = slot(p, x);
        p->key[i] = x->key[0];
        if (i)
            return;
    }
}

/* ------------------------------------------------------------- lookups */

static region *at(const region_index *ri, rnode *x, unsigned i)
{
    region_index *w = (region_index *)(uintptr_t)ri; /* the cursor is a cache */
    w->cur = x;
    w->cur_i = i;
    return x->l.r[i];
}

region *region_ceil(const region_index *ri, uint64_t addr)
{
    rnode *x = leaf_for(ri, addr);
    if (!x)
        return NULL;
    unsigned i = count_le(x, addr);
    if (i && x->l.last[i - 1] >= addr)
        return at(ri, x, i - 1);
    if (i < x->n)
        return at(ri, x, i);
    return x->l.next ? at(ri, x->l.next, 0) : NULL;
}

region *region_find(const region_index *ri, uint64_t addr)
{
    region *r = region_ceil(ri, addr);
    return r && r->start <= addr ? r : NULL;
}

region *region_first(const region_index *ri)
{
    rnode *x = ri->root;
    while (x && !x->leaf)
        x = x->in.child[0];
    return x ? at(ri, x, 0) : NULL;
}

region *region_last(const region_index *ri)
{
    rnode *x = ri->root;
    while (x && !x->leaf)
        x = x->in.child[x->n - 1];
    return x ? at(ri, x, x->n - 1) : NULL;
}

/* leaf and slot of r: next to the cursor (iteration), else a descent */
static void locate(const region_index *ri, const region *r, rnode **leaf, unsigned *slot_out)
{
    rnode *x = ri->cur;
    unsigned i = ri->cur_i;
    if (x && i < x->n) {
        if (x->l.r[i] == r)
            goto found;
        if (i + 1 < x->n && x->l.r[i + 1] == r) {
            i++;
            goto found;
        }
        if (i > 0 && x->l.r[i - 1] == r) {
            i--;
            goto found;
        }
        if (i == 0 && x->l.prev && x->l.prev->l.r[x->l.prev->n - 1] == r) {
            x = x->l.prev;
            i = x->n - 1;
            goto found;
        }
    }
    x = leaf_for(ri, r->start);
    i = count_le(x, r->start) - 1;
found:
    assert(x->l.r[i] == r);
    *leaf = x;
    *slot_out = i;
}

region *region_next(const region_index *ri, const region *r)
{
    rnode *x;
    unsigned i;
    locate(ri, r, &x, &i);
    if (++i < x->n)
        return at(ri, x, i);
    return x->l.next ? at(ri, x->l.next, 0) : NULL;
}

/* ------------------------------------------------------------ labels */

static size_t label_chunk(const struct label *l)
{
    return chunk(sizeof *l + l->len + 1);
}

static void label_use(region_index *ri, struct label *l)
{
    if (l->users++ == 0)
        ri->label_bytes += label_chunk(l);
}

static void label_drop(region_index *ri, struct label *l)
{
    if (--l->users == 0)
        ri->label_bytes -= label_chunk(l);
}

void region_set_label(region_index *ri, region *r, struct label *l)
{
    label_use(ri, label_ref(l));
    label_drop(ri, r->label);
    label_unref(r->label);
    r->label = l;
}

size_t region_meta_bytes(const region_index *ri)
{
    return ri->count * chunk(sizeof(region)) + (ri->n_nodes + ri->n_pool) * chunk(sizeof(rnode)) + ri->label_bytes;
}

/* -------------------------------------------------------------- insert */

static void new_root(region_index *ri, rnode *a, rnode *b)
{
    rnode *p = take(ri);
    p->parent = NULL;
    p->leaf = 0;
    p->n = 2;
    p->key[0] = a->key[0];
    p->key[1] = b->key[0];
    p->in.child[0] = a;
    p->in.child[1] = b;
    a->parent = b->parent = p;
    ri->root = p;
}

static void split_inner(region_index *ri, rnode *p);

/* puts the new node b right after a in a's parent */
static void add_child(region_index *ri, rnode *a, rnode *b)
{
    if (!a->parent) {
        new_root(ri, a, b);
        return;
    }
    if (a->parent->n == NB)
        split_inner(ri, a->parent);
    rnode *p = a->parent;
    unsigned i = slot(p, a) + 1;
    ents_move(p, i + 1, p, i, p->n - i);
    p->key[i] = b->key[0];
    p->in.child[i] = b;
    p->in.gap[i] = 0;
    p->in.tz[i] = 0;
    p->n++;
    b->parent = p;
}

static void split_inner(region_index *ri, rnode *p)
{
    rnode *z = take(ri);
    z->leaf = 0;
    z->n = 0;
    move_right(p, z, NB - MIN);
    add_child(ri, p, z);
    fix_up(p);
    fix_up(z);
}

/* full leaf x gets room for an entry at *pos: lends to a sibling or splits;
 * *x and *pos then say where the entry goes */
static void make_room(region_index *ri, rnode **xp, unsigned *pos)
{
    rnode *x = *xp, *p = x->parent;
    unsigned i = p ? slot(p, x) : 0;
    rnode *w = p && i > 0 ? p->in.child[i - 1] : NULL, *y = p && i + 1 < p->n ? p->in.child[i + 1] : NULL;
    if (w && w->n < NB - 1) {
        unsigned k = (NB - w->n) / 2;
        move_left(w, x, k);
        fix_keys(x);
        fix_up(w);
        fix_up(x);
        if (*pos < k)
            *xp = w, *pos += w->n - k;
        else
            *pos -= k;
        return;
    }
    if (!y || y->n >= NB - 1) {
        y = take(ri);
        y->leaf = 1;
        y->n = 0;
        y->l.prev = x;
        y->l.next = x->l.next;
        if (x->l.next)
            x->l.next->l.prev = y;
        x->l.next = y;
        move_right(x, y, NB - MIN);
        add_child(ri, x, y);
    } else {
        move_right(x, y, (NB - y->n) / 2);
        fix_keys(y);
    }
    fix_up(x);
    fix_up(y);
    if (*pos > x->n)
        *xp = y, *pos -= x->n;
}

void region_insert(region_index *ri, region *r)
{
    if (!ri->root) {
        rnode *x = take(ri);
        *x = (rnode){ .leaf = 1 };
        ri->root = x;
    }
    rnode *x = leaf_for(ri, r->start);
    unsigned pos = count_le(x, r->start);
    bool moved = x->n == NB;
    if (moved)
        make_room(ri, &x, &pos);
    ents_move(x, pos + 1, x, pos, x->n - pos);
    x->key[pos] = r->start;
    x->l.last[pos] = r->last;
    x->l.r[pos] = r;
    x->n++;
    if (pos == 0)
        fix_keys(x);
    ri->count++;
    label_use(ri, r->label);
    (moved ? fix_up : fix_up_only)(x);
    if (pos == x->n - 1 && x->l.next)
        fix_up_only(x->l.next); /* its first gap ends here now */
    at(ri, x, pos);
}

/* -------------------------------------------------------------- remove */

static void rebalance(region_index *ri, rnode *x);

/* c leaves its parent p (and is freed) */
static void remove_child(region_index *ri, rnode *p, rnode *c)
{
    unsigned i = slot(p, c);
    ents_move(p, i, p, i + 1, p->n - i - 1);
    p->n--;
    release(ri, c);
    if (i == 0)
        fix_keys(p);
    if (p == ri->root) {
        if (p->n == 1) {
            ri->root = p->in.child[0];
            ri->root->parent = NULL;
            release(ri, p);
        }
        return;
    }
    if (p->n < MIN)
        rebalance(ri, p);
}

/* b, the right sibling of a, moves into a */
static void merge(region_index *ri, rnode *a, rnode *b)
{
    ents_move(a, a->n, b, 0, b->n);
    a->n += b->n;
    if (a->leaf) {
        a->l.next = b->l.next;
        if (a->l.next)
            a->l.next->l.prev = a;
    }
    remove_child(ri, a->parent, b);
    fix_up(a);
}

/* x (not the root) is below half full: borrow from a sibling or merge */
static void rebalance(region_index *ri, rnode *x)
{
    rnode *p = x->parent;
    unsigned i = slot(p, x);
    if (i > 0) {
        rnode *w = p->in.child[i - 1];
        if (w->n <= MIN) {
            merge(ri, w, x);
            return;
        }
        move_right(w, x, (w->n - x->n) / 2);
        fix_keys(x);
        fix_up(w);
        fix_up(x);
        return;
    }
    rnode *y = p->in.child[1];
    if (y->n <= MIN) {
        merge(ri, x, y);
        return;
    }
    move_left(x, y, (y->n - x->n) / 2);
    fix_keys(y);
    fix_up(x);
    fix_up(y);
}

void region_remove(region_index *ri, region *r)
{
    rnode *x;
    unsigned i;
    locate(ri, r, &x, &i);
    region *succ = i + 1 < x->n ? x->l.r[i + 1] : x->l.next ? x->l.next->l.r[0] : NULL;
    ents_move(x, i, x, i + 1, x->n - i - 1);
    x->n--;
    ri->count--;
    label_drop(ri, r->label);
    if (x->n == 0 && x == ri->root) {
        release(ri, x);
        ri->root = NULL;
        return;
    }
    if (i == 0 && x->n)
        fix_keys(x);
    if (x == ri->root || x->n >= MIN) {
        fix_up_only(x);
        if (i == x->n && x->l.next)
            fix_up_only(x->l.next);
        if (succ)
            at(ri, i < x->n ? x : x->l.next, i < x->n ? i : 0);
        return;
    }
    rebalance(ri, x);
    if (succ) { /* its gap grew; it may have moved */
        rnode *s;
        unsigned j;
        locate(ri, succ, &s, &j);
        fix_up(s);
        at(ri, s, j);
    }
}

void region_resize(region_index *ri, region *r, uint64_t last)
{
    rnode *x;
    unsigned i;
    locate(ri, r, &x, &i);
    r->last = x->l.last[i] = last;
    fix_up_only(x);
    if (i == x->n - 1 && x->l.next)
        fix_up_only(x->l.next);
}

/* ----------------------------------------------------------- first fit */

typedef struct fit_ctx {
    uint64_t size, lo, align;
    unsigned k; /* log2 align */
    unsigned __int128 hi; /* exclusive */
    uint64_t found;
} fit_ctx;

/* does [glo, ghi) hold an aligned block of size inside [lo, hi)? */
static bool fit(fit_ctx *c, unsigned __int128 glo, unsigned __int128 ghi)
{
    unsigned __int128 a = glo > c->lo ? glo : c->lo;
    a = (a + c->align - 1) & ~(unsigned __int128)(c->align - 1);
    unsigned __int128 lim = ghi < c->hi ? ghi : c->hi;
    if (a + c->size > lim)
        return false;
    c->found = (uint64_t)a;
    return true;
}

/* 1 found, -1 past hi (stop), 0 not in this subtree */
static int fit_leaf(fit_ctx *c, const rnode *x)
{
    for (unsigned j = 0; j < x->n; j++) {
        uint64_t e = x->key[j];
        if (e <= c->lo)
            continue;
        uint64_t s = gap_start(x, j);
        if (s >= c->hi)
            return -1;
        if (e - s >= c->size && fit(c, s, e))
            return 1;
    }
    return 0;
}

/* Descends only where a gap can hold size and holds an address of the
 * alignment, so a search whose alignment no gap offers (ffs.align.1M) is
 * O(log n). XXX: gaps that each hold an aligned address but too little
 * room after it (2-page gaps straddling every 8 KiB boundary, size 2 pages)
 * still pass both tests and are visited one by one: O(n) then. */
static int fit_node(fit_ctx *c, const rnode *x)
{
    if (x->leaf)
        return fit_leaf(c, x);
    for (unsigned i = 0; i < x->n; i++) {
        if (i + 1 < x->n && x->key[i + 1] <= c->lo)
            continue; /* every gap under it ends at or before lo */
        if (x->in.gap[i] >= c->size && x->in.tz[i] >= c->k) {
            int r = fit_node(c, x->in.child[i]);
            if (r)
                return r;
        }
        if (x->key[i] >= c->hi)
            return -1; /* later gaps start past the entries of this child */
    }
    return 0;
}

bool region_first_fit(const region_index *ri, uint64_t size, uint64_t lo, unsigned __int128 hi_excl, uint64_t align,
                      unsigned __int128 space_end, uint64_t *out)
{
    fit_ctx c = { size, lo, align, (unsigned)__builtin_ctzll(align), hi_excl, 0 };
    int r = ri->root ? fit_node(&c, ri->root) : 0;
    if (r == 0) {
        const region *last = region_last(ri);
        unsigned __int128 glo = last ? (unsigned __int128)last->last + 1 : 0;
        r = glo < c.hi && fit(&c, glo, space_end) ? 1 : -1;
    }
    if (r != 1)
        return false;
    *out = c.found;
    return true;
}

/* --------------------------------------------------------------- check */

typedef struct check_ctx {
    char          msg[160];
    const rnode  *prev_leaf;
    const region *pred;
    size_t        count, nodes;
    int           depth; /* of the leaves */
} check_ctx;

#define FAIL(...) return snprintf(c->msg, sizeof c->msg, __VA_ARGS__), false

static bool check_leaf(check_ctx *c, const rnode *x)
{
    if (x->l.prev != c->prev_leaf || (c->prev_leaf && c->prev_leaf->l.next != x))
        FAIL("leaf chain broken at %#llx", (unsigned long long)x->key[0]);
    c->prev_leaf = x;
    for (unsigned j = 0; j < x->n; j++) {
        const region *r = x->l.r[j];
        if (r->start != x->key[j] || r->last != x->l.last[j] || r->last < r->start)
            FAIL("entry %u of leaf %#llx disagrees with its region", j, (unsigned long long)x->key[0]);
        if (c->pred && c->pred->last >= r->start)
            FAIL("regions overlap or are out of order at %#llx", (unsigned long long)r->start);
        c->pred = r;
        c->count++;
    }
    return true;
}

static bool check_node(check_ctx *c, const rnode *x, int depth, bool root)
{
    c->nodes++;
    if (x->n > NB || x->n < (root ? (x->leaf ? 1u : 2u) : (unsigned)MIN))
        FAIL("node %#llx holds %u", (unsigned long long)x->key[0], x->n);
    for (unsigned j = 1; j < x->n; j++)
        if (x->key[j - 1] >= x->key[j])
            FAIL("keys out of order at %#llx", (unsigned long long)x->key[j]);
    if (x->leaf) {
        if (c->depth >= 0 && c->depth != depth)
            FAIL("leaves at depths %d and %d", c->depth, depth);
        c->depth = depth;
        return check_leaf(c, x);
    }
    for (unsigned j = 0; j < x->n; j++) {
        const rnode *ch = x->in.child[j];
        uint64_t g;
        uint8_t  t;
        if (ch->parent != x || x->key[j] != ch->key[0])
            FAIL("child %u of %#llx: wrong parent or key", j, (unsigned long long)x->key[0]);
        if (!check_node(c, ch, depth + 1, false))
            return false;
        summary(ch, &g, &t);
        if (g != x->in.gap[j] || t != x->in.tz[j])
            FAIL("summary of child %u of %#llx is stale", j, (unsigned long long)x->key[0]);
    }
    return true;
}

const char *region_check(const region_index *ri)
{
    static check_ctx c;
    c = (check_ctx){ .depth = -1 };
    if (ri->root && (ri->root->parent || !check_node(&c, ri->root, 0, true)))
        return c.msg[0] ? c.msg : "root has a parent";
    if (c.prev_leaf && c.prev_leaf->l.next)
        return "last leaf has a next";
    if (c.count != ri->count || c.nodes != ri->n_nodes)
        return "counts disagree with the tree";
    return NULL;
}

/* ------------------------------------------------------------- objects */

region *region_new(uint64_t start, uint64_t last, unsigned perms, unsigned kind, struct label *l)
{
    region *r = sm_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->start = start;
    r->last = last;
    r->perms = (uint8_t)perms;
    r->kind = (uint8_t)kind;
    r->label = l;
    return r;
}

uint64_t region_pages(const region *r)
{
    return ((r->last - r->start) >> MMU_PAGE_BITS) + 1;
}

void region_destroy(region *r, bool release_host)
{
    if (release_host && r->kind == RGN_RAM)
        ram_free(r->host, region_pages(r) << MMU_PAGE_BITS);
    if (r->kind == RGN_MMIO && r->dev && --r->dev->refs == 0)
        sm_free(r->dev);
    label_unref(r->label);
    sm_free(r);
}

/* Makes addr a region boundary: if a region straddles it, cuts it in two,
 * the right part going into node, and returns true (node consumed). Never
 * copies data. */
bool region_split(mmu_t *m, uint64_t addr, region *node)
{
    region *r = region_find(&m->ri, addr);
    if (!r || r->start == addr)
        return false;
    *node = (region){ .start = addr, .last = r->last, .perms = r->perms, .kind = r->kind,
                      .label = label_ref(r->label) };
    if (r->kind == RGN_MMIO) {
        node->dev = r->dev;
        r->dev->refs++;
    } else {
        node->host = r->host ? r->host + (addr - r->start) : NULL;
    }
    rnode *x;
    unsigned i;
    locate(&m->ri, r, &x, &i);
    r->last = x->l.last[i] = addr - 1; /* the insert refreshes this leaf */
    region_insert(&m->ri, node);
    return true;
}
