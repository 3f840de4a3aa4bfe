/*
 * region.c - map entries (regions) and their index: an AVL tree ordered by
 * start, augmented with the largest free gap of each subtree so that
 * first-fit search, lookup and overlap checks are O(log n).
 */
#include "mmu_int.h"

static int height(const region *n) { return n ? n->height : 0; }
static uint64_t max_gap(const region *n) { return n ? n->max_gap : 0; }
static uint64_t max3(uint64_t a, uint64_t b, uint64_t c) { return a > b ? (a > c ? a : c) : (b > c ? b : c); }

static void update(region *n)
{
    int hl = height(n->left), hr = height(n->right);
    n->height = 1 + (hl > hr ? hl : hr);
    n->max_gap = max3(n->gap, max_gap(n->left), max_gap(n->right));
}

static region *rotate_right(region *n)
{
    region *l = n->left;
    n->left = l->right;
    l->right = n;
    update(n);
    update(l);
    return l;
}

static region *rotate_left(region *n)
{
    region *r = n->right;
    n->right = r->left;
    r->left = n;
    update(n);
    update(r);
    return r;
}

static region *balance(region *n)
{
    update(n);
    int bf = height(n->left) - height(n->right);
    if (bf > 1) {
        if (height(n->left->left) < height(n->left->right))
            n->left = rotate_left(n->left);
        return rotate_right(n);
    }
    if (bf < -1) {
        if (height(n->right->right) < height(n->right->left))
            n->right = rotate_right(n->right);
        return rotate_left(n);
    }
    return n;
}

static region *insert(region *n, region *r)
{
    if (!n)
        return r;
    if (r->start < n->start)
        n->left = insert(n->left, r);
    else
        n->right = insert(n->right, r);
    return balance(n);
}

static region *remove_min(region *n, region **min)
{
    if (!n->left) {
        *min = n;
        return n->right;
    }
    n->left = remove_min(n->left, min);
    return balance(n);
}

static region *tree_remove(region *n, const region *r)
{
    if (r->start < n->start) {
        n->left = tree_remove(n->left, r);
    } else if (r->start > n->start) {
        n->right = tree_remove(n->right, r);
    } else {
        region *l = n->left, *rt = n->right, *min;
        if (!rt)
            return l;
        rt = remove_min(rt, &min);
        min->left = l;
        min->right = rt;
        return balance(min);
    }
    return balance(n);
}

/* recompute the augmentation along the path to key after a gap change */
static void refresh(region *n, uint64_t key)
{
    if (!n)
        return;
    if (key < n->start)
        refresh(n->left, key);
    else if (key > n->start)
        refresh(n->right, key);
    update(n);
}

region *region_ceil(const region_index *ri, uint64_t addr)
{
    region *best = NULL;
    for (region *n = ri->root; n;) {
        if (n->last >= addr) {
            best = n;
            n = n->left;
        } else {
            n = n->right;
        }
    }
    return best;
}

region *region_find(const region_index *ri, uint64_t addr)
{
    region *r = region_ceil(ri, addr);
    return r && r->start <= addr ? r : NULL;
}

region *region_first(const region_index *ri)
{
    region *n = ri->root;
    while (n && n->left)
        n = n->left;
    return n;
}

region *region_next(const region_index *ri, const region *r)
{
    return r->last == UINT64_MAX ? NULL : region_ceil(ri, r->last + 1);
}

/* The regions just before and just after start, in one walk (start may be
 * a region in the tree, or the start of one about to be inserted). */
static void neighbours(const region_index *ri, uint64_t start, region **pred, region **succ)
{
    *pred = *succ = NULL;
    for (region *n = ri->root; n;) {
        if (n->start < start) {
            *pred = n;
            n = n->right;
        } else if (n->start > start) {
            *succ = n;
            n = n->left;
        } else { /* start itself: its neighbours lie in its subtrees, if any */
            for (region *l = n->left; l; l = l->right)
                *pred = l;
            for (region *r = n->right; r; r = r->left)
                *succ = r;
            return;
        }
    }
}

static void set_gap(region *r, const region *pred)
{
    r->gap = pred ? r->start - pred->last - 1 : r->start;
}

void region_insert(region_index *ri, region *r)
{
    region *pred, *succ;
    neighbours(ri, r->start, &pred, &succ);
    r->left = r->right = NULL;
    r->height = 1;
    set_gap(r, pred);
    r->max_gap = r->gap;
    ri->root = insert(ri->root, r);
    ri->count++;
    if (succ) {
        set_gap(succ, r);
        refresh(ri->root, succ->start);
    }
}

void region_remove(region_index *ri, region *r)
{
    region *pred, *succ;
    neighbours(ri, r->start, &pred, &succ);
    ri->root = tree_remove(ri->root, r);
    ri->count--;
    if (succ) {
        set_gap(succ, pred);
        refresh(ri->root, succ->start);
    }
}

typedef struct fit_ctx {
    uint64_t size, lo, align;
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
static int first_fit(fit_ctx *c, const region *n)
{
    if (!n || n->max_gap < c->size)
        return 0;
    if (n->start <= c->lo) /* every gap here ends at or before lo */
        return first_fit(c, n->right);
    int r = first_fit(c, n->left);
    if (r)
        return r;
    uint64_t glo = n->start - n->gap;
    if (glo >= c->hi)
        return -1;
    if (n->gap >= c->size && fit(c, glo, n->start))
        return 1;
    return first_fit(c, n->right);
}

bool region_first_fit(const region_index *ri, uint64_t size, uint64_t lo, unsigned __int128 hi_excl, uint64_t align,
                  unsigned __int128 space_end, uint64_t *out)
{
    fit_ctx c = { size, lo, align, hi_excl, 0 };
    int r = first_fit(&c, ri->root);
    if (r == 0) {
        region *last = ri->root;
        while (last && last->right)
            last = last->right;
        unsigned __int128 glo = last ? (unsigned __int128)last->last + 1 : 0;
        r = glo < c.hi && fit(&c, glo, space_end) ? 1 : -1;
    }
    if (r != 1)
        return false;
    *out = c.found;
    return true;
}

/* ------------------------------------------------------------- objects */

region *region_new(uint64_t start, uint64_t last, unsigned perms, unsigned kind, struct label *l)
{
    region *r = sm_calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->start = start;
    r->last = last;
    r->perms = perms;
    r->kind = kind;
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
    if (r->dev && --r->dev->refs == 0)
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
                      .label = label_ref(r->label), .dev = r->dev };
    if (r->host)
        node->host = r->host + (addr - r->start);
    if (r->dev)
        r->dev->refs++;
    r->last = addr - 1;
    region_insert(&m->ri, node);
    return true;
}
