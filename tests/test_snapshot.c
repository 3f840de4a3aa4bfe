/*
 * test_snapshot.c - snapshots: exact restore (map, perms, labels, MMIO,
 * contents, digest) under random interleavings of map/unmap/protect/
 * set_label/write/store, several snapshots at once, restore after close and
 * into another MMU, the file format and its corruption checks, allocation
 * failure at every step, and the copy-on-write and dirty tracking.
 */
/* these tests count inline hits too (mmu_stats.tlb_hits) */
#define MMU_COUNT_INLINE_HITS
#include "core_util.h"
#include "alloc.h"
#include "snap_int.h" /* copy-on-write and dirty-set checks */

#include <stdlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

TestSuite(snapshot);
TestSuite(snapfile);
TestSuite(huge);
TestSuite(snapnomem);
TestSuite(snaprandom, .timeout = 300);

/* --------------------------------------------------------------- helpers */

#define MAX_REGS 128

/* everything observable about an MMU's memory */
typedef struct state {
    uint64_t    digest;
    size_t      n;
    mmu_region  r[MAX_REGS];
    char        label[MAX_REGS][40];
    uint8_t    *bytes; /* contents of the non-MMIO regions, in order */
    size_t      n_bytes;
} state;

static void state_take(mmu_t *m, state *st)
{
    st->digest = mmu_digest(m);
    st->n = mmu_regions(m, st->r, MAX_REGS);
    cr_assert_leq(st->n, MAX_REGS);
    st->n_bytes = 0;
    for (size_t i = 0; i < st->n; i++)
        st->n_bytes += st->r[i].mmio ? 0 : st->r[i].end - st->r[i].start;
    st->bytes = malloc(st->n_bytes + 1);
    size_t at = 0;
    for (size_t i = 0; i < st->n; i++) {
        snprintf(st->label[i], sizeof st->label[i], "%s", st->r[i].label);
        st->r[i].label = NULL;
        if (st->r[i].mmio)
            continue;
        OK(mmu_read(m, st->r[i].start, st->bytes + at, st->r[i].end - st->r[i].start));
        at += st->r[i].end - st->r[i].start;
    }
}

static void state_drop(state *st)
{
    free(st->bytes);
    st->bytes = NULL;
}

/* m is exactly as when want was taken */
static void state_expect(mmu_t *m, const state *want, const char *what)
{
    state got;
    state_take(m, &got);
    cr_assert_eq(got.n, want->n, "%s: %zu regions, want %zu", what, got.n, want->n);
    for (size_t i = 0; i < got.n; i++) {
        const mmu_region *g = &got.r[i], *w = &want->r[i];
        cr_assert(g->start == w->start && g->end == w->end && g->perms == w->perms && g->mmio == w->mmio,
                  "%s: region %zu is %#llx-%#llx p%u io%d, want %#llx-%#llx p%u io%d", what, i,
                  (unsigned long long)g->start, (unsigned long long)g->end, g->perms, g->mmio,
                  (unsigned long long)w->start, (unsigned long long)w->end, w->perms, w->mmio);
        cr_assert_str_eq(got.label[i], want->label[i], "%s: region %zu label", what, i);
    }
    cr_assert_eq(got.n_bytes, want->n_bytes, "%s: byte count", what);
    cr_assert(memcmp(got.bytes, want->bytes, got.n_bytes) == 0, "%s: contents differ", what);
    cr_assert_eq(got.digest, want->digest, "%s: digest differs", what);
    state_drop(&got);
}

static void fill(mmu_t *m, uint64_t addr, size_t n, uint8_t seed)
{
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 7 + seed);
    OK(mmu_write(m, addr, b, n));
    free(b);
}

static uint64_t dev_read(void *user, uint64_t off, unsigned size)
{
    (void)size;
    return (uintptr_t)user + off;
}

static void dev_write(void *user, uint64_t off, unsigned size, uint64_t v)
{
    (void)user, (void)off, (void)size, (void)v;
}

/* a file image of s, in memory */
static uint8_t *image_of(const mmu_snapshot *s, size_t *len)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    OK(mmu_snapshot_write(s, f));
    *len = (size_t)ftell(f);
    uint8_t *buf = malloc(*len);
    rewind(f);
    cr_assert_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static mmu_err read_image(const uint8_t *buf, size_t len, mmu_snapshot **out)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(buf, 1, len, f), len);
    rewind(f);
    mmu_err err = mmu_snapshot_read(f, out);
    fclose(f);
    return err;
}

/* ------------------------------------------------------- basic behaviour */

Test(snapshot, qiling_seed_example_restores_exactly)
{
    /* Qiling's restore leaves 0x8000 mapped and 0x2000 unprotected; ours is exact */
    mmu_t *m;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x1000, 0x2000, MMU_PROT_ALL, "A"));
    OK(mmu_write(m, 0x1000, "orig", 4));
    OK(mmu_write(m, 0x2000, "orig", 4));
    OK(mmu_protect(m, 0x2000, 0x1000, MMU_PROT_READ));
    state st;
    state_take(m, &st);
    OK(mmu_snapshot_save(m, &s));
    OK(mmu_write(m, 0x1000, "new!", 4));
    OK(mmu_map(m, 0x8000, 0x1000, MMU_PROT_ALL, "later"));
    OK(mmu_unmap(m, 0x2000, 0x1000));
    OK(mmu_snapshot_restore(m, s));
    EXPECT_MAP(m, RG(0x1000, 0x2000, 7, "A"), RG(0x2000, 0x3000, 1, "A"));
    char b[5] = { 0 };
    OK(mmu_read(m, 0x1000, b, 4));
    cr_assert_str_eq(b, "orig");
    OK(mmu_read(m, 0x2000, b, 4));
    cr_assert_str_eq(b, "orig");
    state_expect(m, &st, "qiling example");
    state_drop(&st);
    mmu_snapshot_free(s);
    mmu_close(m);
}

Test(snapshot, restore_puts_back_perms_labels_and_merges_split_regions)
{
    mmu_t *m;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x10000, 0x10000, MMU_PROT_READ | MMU_PROT_WRITE, "heap"));
    fill(m, 0x10000, 0x10000, 1);
    state st;
    state_take(m, &st);
    OK(mmu_snapshot_save(m, &s));
    OK(mmu_protect(m, 0x12000, 0x3000, MMU_PROT_NONE));
    OK(mmu_set_label(m, 0x18000, 0x1000, "renamed"));
    OK(mmu_write(m, 0x1f000, "x", 1));
    cr_assert_eq(mmu_regions(m, NULL, 0), 5);
    uint64_t gen = mmu_code_generation(m);
    OK(mmu_snapshot_restore(m, s));
    state_expect(m, &st, "after split");
    cr_assert_neq(mmu_code_generation(m), gen, "restore must invalidate decoded code");
    state_drop(&st);
    mmu_snapshot_free(s);
    mmu_close(m);
}

Test(snapshot, restore_removes_later_maps_and_rebuilds_unmapped_ones)
{
    mmu_t *m;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x1000, 0x4000, MMU_PROT_ALL, "a"));
    OK(mmu_map(m, 0x8000, 0x2000, MMU_PROT_READ, "b"));
    OK(mmu_map_mmio(m, 0x20000, 0x2000, dev_read, dev_write, (void *)0x100, "dev"));
    fill(m, 0x1000, 0x4000, 3);
    fill(m, 0x8000, 0x2000, 4);
    state st;
    state_take(m, &st);
    OK(mmu_snapshot_save(m, &s));
    mmu_unmap_all(m);
    OK(mmu_map(m, 0x1000, 0x10000, MMU_PROT_READ, "other"));
    fill(m, 0x1000, 0x10000, 9);
    OK(mmu_map(m, 0x30000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_snapshot_restore(m, s));
    state_expect(m, &st, "after unmap_all");
    uint64_t v;
    OK(mmu_load_u64(m, 0x20008, &v)); /* the device is back */
    cr_assert_eq(v, 0x108);
    state_drop(&st);
    mmu_snapshot_free(s);
    mmu_close(m);
}

Test(snapshot, restore_twice_and_keep_working_between)
{
    mmu_t *m;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x1000, 0x8000, MMU_PROT_READ | MMU_PROT_WRITE, "rw"));
    fill(m, 0x1000, 0x8000, 5);
    state st;
    state_take(m, &st);
    OK(mmu_snapshot_save(m, &s));
    for (int round = 0; round < 4; round++) {
        OK(mmu_store_u32(m, 0x1000 + 0x1000 * (unsigned)round, 0xdeadbeef));
        OK(mmu_store_u32(m, 0x3004, (uint32_t)round));
        if (round & 1)
            OK(mmu_unmap(m, 0x5000, 0x1000));
        OK(mmu_snapshot_restore(m, s));
        state_expect(m, &st, "round");
        OK(mmu_snapshot_restore(m, s)); /* nothing changed: still exact */
        state_expect(m, &st, "again");
    }
    state_drop(&st);
    mmu_snapshot_free(s);
    mmu_close(m);
}

static bool count_hook(mmu_t *m, const mmu_mem_event *ev, void *user)
{
    (void)m, (void)ev;
    ++*(int *)user;
    return false;
}

Test(snapshot, hooks_survive_restore)
{
    mmu_t *m;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_snapshot_save(m, &s));
    mmu_hook_id id;
    int calls = 0;
    OK(mmu_hook_add(m, MMU_HOOK_MEM_WRITE, count_hook, &calls, 1, 0, &id));
    OK(mmu_snapshot_restore(m, s));
    OK(mmu_store_u8(m, 0x1000, 1));
    cr_assert_eq(calls, 1, "the hook still fires");
    OK(mmu_hook_del(m, id));
    mmu_snapshot_free(s);
    mmu_close(m);
}

Test(snapshot, map_ptr_memory_is_copied_and_written_back)
{
    mmu_t *m;
    mmu_snapshot *s;
    uint8_t *buf = aligned_alloc(4096, 0x2000);
    memset(buf, 0x5a, 0x2000);
    OK(mmu_open(NULL, &m));
    OK(mmu_map_ptr(m, 0x4000, 0x2000, MMU_PROT_ALL, buf, "ptr"));
    state st;
    state_take(m, &st);
    OK(mmu_snapshot_save(m, &s));
    memset(buf + 100, 1, 10); /* behind the MMU's back */
    OK(mmu_write(m, 0x5000, "zz", 2));
    OK(mmu_snapshot_restore(m, s));
    state_expect(m, &st, "ptr");
    cr_assert_eq(buf[100], 0x5a, "the caller's buffer holds the saved bytes again");
    OK(mmu_unmap(m, 0x4000, 0x2000));
    memset(buf, 0, 0x2000); /* the buffer may be reused once unmapped */
    OK(mmu_snapshot_restore(m, s));
    state_expect(m, &st, "ptr rebuilt as RAM");
    mmu_snapshot_free(s);
    mmu_close(m);
    free(buf);
    state_drop(&st);
}

Test(snapshot, mmio_partly_unmapped_comes_back_with_its_offsets)
{
    mmu_t *m;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &m));
    OK(mmu_map_mmio(m, 0x10000, 0x3000, dev_read, NULL, (void *)0x7000, "io"));
    state st;
    state_take(m, &st);
    OK(mmu_snapshot_save(m, &s));
    OK(mmu_unmap(m, 0x11000, 0x1000));
    OK(mmu_map(m, 0x11000, 0x1000, MMU_PROT_ALL, "ram"));
    OK(mmu_snapshot_restore(m, s));
    state_expect(m, &st, "mmio");
    uint64_t v;
    OK(mmu_read_ptr(m, 0x11010, 8, false, &v));
    cr_assert_eq(v, 0x7000 + 0x1010);
    state_drop(&st);
    mmu_snapshot_free(s);
    mmu_close(m);
}

Test(snapshot, several_snapshots_restore_in_any_order)
{
    mmu_t *m;
    mmu_snapshot *s[3];
    state st[3];
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x1000, 0x4000, MMU_PROT_ALL, "a"));
    for (int i = 0; i < 3; i++) {
        fill(m, 0x1000 + 0x1000 * (unsigned)i, 0x1800, (uint8_t)(10 + i));
        OK(mmu_map(m, 0x10000 + 0x2000 * (unsigned)i, 0x1000, (unsigned)i, "later"));
        state_take(m, &st[i]);
        OK(mmu_snapshot_save(m, &s[i]));
    }
    OK(mmu_unmap(m, 0x2000, 0x2000));
    const int order[] = { 0, 2, 1, 1, 0, 2, 0 };
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
        OK(mmu_snapshot_restore(m, s[order[k]]));
        state_expect(m, &st[order[k]], "multi");
        fill(m, 0x1000, 0x3000, (uint8_t)k);
    }
    for (int i = 0; i < 3; i++) {
        mmu_snapshot_free(s[i]);
        state_drop(&st[i]);
    }
    mmu_close(m);
}

Test(snapshot, restore_into_another_mmu_is_a_full_copy)
{
    mmu_t *a, *b;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &a));
    OK(mmu_open(NULL, &b));
    OK(mmu_map(a, 0x1000, 0x3000, MMU_PROT_READ, "x"));
    fill(a, 0x1000, 0x3000, 1);
    OK(mmu_map(b, 0x2000, 0x1000, MMU_PROT_ALL, "in b"));
    state st;
    state_take(a, &st);
    OK(mmu_snapshot_save(a, &s));
    OK(mmu_snapshot_restore(b, s));
    state_expect(b, &st, "copy in b");
    fill(b, 0x1000, 0x100, 2); /* b is independent of a and of s */
    state_expect(a, &st, "a untouched");
    OK(mmu_snapshot_restore(a, s));
    state_expect(a, &st, "a");
    mmu_snapshot_free(s);
    mmu_close(a);
    mmu_close(b);
    state_drop(&st);
}

Test(snapshot, snapshot_outlives_its_mmu)
{
    mmu_t *m, *n;
    mmu_snapshot *s1, *s2;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x1000, 0x4000, MMU_PROT_ALL, "a"));
    fill(m, 0x1000, 0x4000, 1);
    state st1, st2;
    state_take(m, &st1);
    OK(mmu_snapshot_save(m, &s1));
    fill(m, 0x2000, 0x100, 2);
    state_take(m, &st2);
    OK(mmu_snapshot_save(m, &s2));
    fill(m, 0x1000, 0x4000, 3);
    mmu_close(m);
    OK(mmu_open(NULL, &n));
    OK(mmu_snapshot_restore(n, s2));
    state_expect(n, &st2, "s2 after close");
    mmu_snapshot_free(s2);
    OK(mmu_snapshot_restore(n, s1));
    state_expect(n, &st1, "s1 after close");
    fill(n, 0x1000, 0x4000, 4); /* s1 is attached to n now: incremental */
    OK(mmu_snapshot_restore(n, s1));
    state_expect(n, &st1, "s1 again");
    mmu_close(n);
    mmu_snapshot_free(s1);
    state_drop(&st1);
    state_drop(&st2);
}

Test(snapshot, restore_checks_arguments_and_address_space)
{
    mmu_t *m, *small;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &m));
    mmu_config c = { .addr_bits = 32 };
    OK(mmu_open(&c, &small));
    OK(mmu_map(m, 0x100000000ull, 0x1000, MMU_PROT_ALL, NULL));
    ERR(mmu_snapshot_save(NULL, &s), MMU_ERR_ARG);
    ERR(mmu_snapshot_save(m, NULL), MMU_ERR_ARG);
    OK(mmu_snapshot_save(m, &s));
    ERR(mmu_snapshot_restore(NULL, s), MMU_ERR_ARG);
    ERR(mmu_snapshot_restore(m, NULL), MMU_ERR_ARG);
    ERR_UNCHANGED(small, mmu_snapshot_restore(small, s), MMU_ERR_ARG);
    mmu_snapshot_free(NULL);
    mmu_snapshot_free(s);
    mmu_close(m);
    mmu_close(small);
}

Test(snapshot, save_copies_nothing_and_a_write_copies_one_page_once)
{
    mmu_t *m;
    mmu_snapshot *s1, *s2;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0, 64 << 20, MMU_PROT_READ | MMU_PROT_WRITE, "big"));
    fill(m, 0x5000, 0x3000, 1);
    OK(mmu_snapshot_save(m, &s1));
    OK(mmu_snapshot_save(m, &s2));
    cr_assert_eq(s1->tab_used, 0, "save copied pages");
    OK(mmu_store_u64(m, 0x5008, 1));
    OK(mmu_store_u64(m, 0x5010, 2));
    OK(mmu_store_u64(m, 0x900000, 3)); /* a zero page: no copy needed */
    cr_assert_eq(s1->tab_used, 2);
    cr_assert_eq(s1->n_dirty, 2);
    snap_ent *e1 = snap_lookup(s1, 5), *e2 = snap_lookup(s2, 5);
    cr_assert(e1 && e2 && e1->copy == e2->copy && e1->copy->refs == 2, "one copy shared by both");
    cr_assert_eq(snap_lookup(s1, 0x900)->copy, &snap_zero);
    OK(mmu_snapshot_restore(m, s1));
    cr_assert_eq(s1->n_dirty, 0);
    cr_assert_eq(s2->n_dirty, 2, "restoring s1 rewrote s2's pages too");
    mmu_snapshot_free(s1);
    mmu_snapshot_free(s2);
    mmu_close(m);
}

Test(snapshot, a_tracked_page_leaves_the_slow_path_after_its_first_write)
{
    mmu_t *m;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    OK(mmu_store_u64(m, 0x1000, 1));
    OK(mmu_snapshot_save(m, &s));
    mmu_stats a, b;
    mmu_get_stats(m, &a);
    OK(mmu_store_u64(m, 0x1000, 2)); /* slow: saves the page */
    OK(mmu_store_u64(m, 0x1008, 3)); /* fast again */
    mmu_get_stats(m, &b);
    cr_assert_eq(b.tlb_misses - a.tlb_misses, 1);
    cr_assert_eq(b.tlb_hits - a.tlb_hits, 1);
    OK(mmu_snapshot_restore(m, s));
    uint64_t v;
    OK(mmu_load_u64(m, 0x1000, &v));
    cr_assert_eq(v, 1);
    mmu_get_stats(m, &a);
    OK(mmu_store_u64(m, 0x1000, 2)); /* tracked again after the restore */
    mmu_get_stats(m, &b);
    cr_assert_eq(b.tlb_misses - a.tlb_misses, 1);
    mmu_snapshot_free(s);
    mmu_close(m);
}

Test(snapshot, freeing_every_snapshot_keeps_memory_intact)
{
    mmu_t *m;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x1000, 0x2000, MMU_PROT_ALL, NULL));
    fill(m, 0x1000, 0x2000, 8);
    OK(mmu_snapshot_save(m, &s));
    mmu_snapshot_free(s);
    OK(mmu_store_u8(m, 0x1000, 0xab));
    uint8_t b[2];
    OK(mmu_read(m, 0x1000, b, 2));
    cr_assert(b[0] == 0xab && b[1] == (uint8_t)(7 + 8));
    mmu_close(m);
}

Test(snapshot, regions_at_both_ends_of_the_space)
{
    mmu_t *m, *n;
    mmu_snapshot *s, *r;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0, 0x2000, MMU_PROT_ALL, "bottom"));
    OK(mmu_map(m, 0ull - 0x3000, 0x3000, MMU_PROT_READ | MMU_PROT_WRITE, "top"));
    fill(m, 0ull - 0x2000, 0x2000, 1);
    fill(m, 0, 0x10, 2);
    state st;
    state_take(m, &st);
    OK(mmu_snapshot_save(m, &s));
    OK(mmu_protect(m, 0ull - 0x1000, 0x1000, MMU_PROT_NONE));
    fill(m, 0ull - 0x3000, 0x3000, 3);
    OK(mmu_snapshot_restore(m, s));
    state_expect(m, &st, "ends");
    size_t len;
    uint8_t *img = image_of(s, &len);
    OK(read_image(img, len, &r));
    OK(mmu_open(NULL, &n));
    OK(mmu_snapshot_restore(n, r));
    state_expect(n, &st, "ends from file");
    free(img);
    mmu_snapshot_free(r);
    mmu_snapshot_free(s);
    mmu_close(m);
    mmu_close(n);
    state_drop(&st);
}

/* ------------------------------------------------------------------ files */

/* a small snapshot with RAM, map_ptr memory, zero and non-zero pages */
static mmu_t *file_fixture(mmu_snapshot **s, state *st, uint8_t **ptrbuf)
{
    mmu_t *m;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x1000, 0x3000, MMU_PROT_READ | MMU_PROT_EXEC, "/lib/ld.so"));
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, "[heap]"));
    *ptrbuf = aligned_alloc(4096, 0x1000);
    memset(*ptrbuf, 0x42, 0x1000);
    OK(mmu_map_ptr(m, 0x20000, 0x1000, MMU_PROT_READ, *ptrbuf, "ptr"));
    fill(m, 0x1000, 0x1800, 1);
    fill(m, 0x11000, 0x20, 2);
    state_take(m, st);
    OK(mmu_snapshot_save(m, s));
    return m;
}

Test(snapfile, round_trip_restores_exactly_in_a_new_mmu)
{
    mmu_snapshot *s, *r;
    state st;
    uint8_t *pb;
    mmu_t *m = file_fixture(&s, &st, &pb), *n;
    fill(m, 0x1000, 0x3000, 7); /* the file holds the saved state, not the live one */
    size_t len;
    uint8_t *img = image_of(s, &len);
    cr_assert_eq(len, 32 + 3 * 28 + 10 + 6 + 3 + 4 * (8 + 4096 + 8) + 8, "zero pages are left out");
    OK(read_image(img, len, &r));
    OK(mmu_open(NULL, &n));
    OK(mmu_snapshot_restore(n, r));
    state_expect(n, &st, "from file");
    size_t len2;
    uint8_t *img2 = image_of(r, &len2); /* writing it again gives the same bytes */
    cr_assert(len2 == len && memcmp(img, img2, len) == 0);
    OK(mmu_snapshot_restore(m, r));
    state_expect(m, &st, "into the first mmu");
    free(img);
    free(img2);
    mmu_snapshot_free(r);
    mmu_snapshot_free(s);
    mmu_close(m);
    mmu_close(n);
    free(pb);
    state_drop(&st);
}

Test(snapfile, every_truncation_is_corrupt)
{
    mmu_snapshot *s, *r = (mmu_snapshot *)0x1;
    state st;
    uint8_t *pb;
    mmu_t *m = file_fixture(&s, &st, &pb);
    size_t len;
    uint8_t *img = image_of(s, &len);
    for (size_t cut = 0; cut < len; cut++)
        ERR(read_image(img, cut, &r), MMU_ERR_CORRUPT);
    cr_assert_eq(r, (mmu_snapshot *)0x1, "out untouched");
    free(img);
    mmu_snapshot_free(s);
    mmu_close(m);
    free(pb);
    state_drop(&st);
}

Test(snapfile, a_flipped_bit_anywhere_is_corrupt)
{
    mmu_snapshot *s, *r;
    state st;
    uint8_t *pb;
    mmu_t *m = file_fixture(&s, &st, &pb);
    size_t len;
    uint8_t *img = image_of(s, &len);
    for (size_t i = 0; i < len; i++) {
        img[i] ^= (uint8_t)(1u << (i % 8));
        ERR(read_image(img, len, &r), MMU_ERR_CORRUPT);
        img[i] ^= (uint8_t)(1u << (i % 8));
    }
    OK(read_image(img, len, &r));
    mmu_snapshot_free(r);
    free(img);
    mmu_snapshot_free(s);
    mmu_close(m);
    free(pb);
    state_drop(&st);
}

/* changes img at off and fixes the file checksum, so only the field check can object */
static void patch(uint8_t *img, size_t len, size_t off, const void *bytes, size_t n)
{
    memcpy(img + off, bytes, n);
    uint64_t sum = XXH3_64bits(img, len - 8);
    for (int i = 0; i < 8; i++)
        img[len - 8 + (size_t)i] = (uint8_t)(sum >> (8 * i));
}

Test(snapfile, bad_fields_under_a_valid_checksum_are_corrupt)
{
    mmu_snapshot *s, *r;
    state st;
    uint8_t *pb;
    mmu_t *m = file_fixture(&s, &st, &pb);
    size_t len;
    uint8_t *img = image_of(s, &len), *copy = malloc(len);
    const size_t region0 = 32, pages = 32 + 3 * 28 + 10 + 6 + 3;
    struct {
        size_t  off;
        uint8_t v, flip; /* set the byte to v, or xor it with flip */
    } bad[] = {
        { 8, 2, 0 },               /* version 2 */
        { 12, 1, 0 },              /* reserved flags */
        { 16, 9, 0 },              /* region count */
        { region0, 0x10, 0 },      /* start not page-aligned */
        { region0 + 9, 0x0f, 0 },  /* last below start */
        { region0 + 16, 9, 0 },    /* perms > 7 */
        { region0 + 20, 1, 0 },    /* unknown kind */
        { region0 + 24, 0, 0 },    /* empty label */
        { region0 + 28, 0, 0 },    /* NUL in label */
        { 72, 0, 0 },              /* second region starts below the first's end */
        { 24, 0, 0x01 },           /* file length one off */
        { 25, 0, 0x10 },           /* file length 4 KiB off */
        { pages + 1, 0x01, 0 },    /* page address not aligned */
        { pages + 1, 0x90, 0 },    /* page outside every region */
        { pages + 8 + 5, 0, 0x77 },/* page data vs its checksum */
        { pages + 4104, 0, 0xff }, /* page checksum */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memcpy(copy, img, len);
        uint8_t v = bad[i].flip ? img[bad[i].off] ^ bad[i].flip : bad[i].v;
        patch(copy, len, bad[i].off, &v, 1);
        cr_assert_neq(memcmp(copy, img, len - 8), 0, "case %zu changes nothing", i);
        ERR(read_image(copy, len, &r), MMU_ERR_CORRUPT);
    }
    free(copy);
    free(img);
    mmu_snapshot_free(s);
    mmu_close(m);
    free(pb);
    state_drop(&st);
}

Test(snapfile, snapshots_delimit_themselves_in_one_stream)
{
    mmu_snapshot *s, *r1, *r2;
    state st;
    uint8_t *pb;
    mmu_t *m = file_fixture(&s, &st, &pb);
    FILE *f = tmpfile();
    OK(mmu_snapshot_write(s, f));
    fputs("between", f);
    OK(mmu_snapshot_write(s, f));
    rewind(f);
    OK(mmu_snapshot_read(f, &r1));
    char between[8] = { 0 };
    cr_assert_eq(fread(between, 1, 7, f), 7);
    cr_assert_str_eq(between, "between");
    OK(mmu_snapshot_read(f, &r2));
    cr_assert_eq(fgetc(f), EOF);
    ERR(mmu_snapshot_read(f, &r1), MMU_ERR_CORRUPT); /* nothing left */
    OK(mmu_snapshot_restore(m, r2));
    state_expect(m, &st, "second copy");
    fclose(f);
    mmu_snapshot_free(r1);
    mmu_snapshot_free(r2);
    mmu_snapshot_free(s);
    mmu_close(m);
    free(pb);
    state_drop(&st);
}

Test(snapfile, mmio_cannot_be_written)
{
    mmu_t *m;
    mmu_snapshot *s;
    OK(mmu_open(NULL, &m));
    OK(mmu_map_mmio(m, 0x1000, 0x1000, dev_read, NULL, NULL, NULL));
    OK(mmu_snapshot_save(m, &s));
    FILE *f = tmpfile();
    ERR(mmu_snapshot_write(s, f), MMU_ERR_ARG);
    cr_assert_eq(ftell(f), 0, "nothing written");
    ERR(mmu_snapshot_write(NULL, f), MMU_ERR_ARG);
    ERR(mmu_snapshot_write(s, NULL), MMU_ERR_ARG);
    ERR(mmu_snapshot_read(NULL, &s), MMU_ERR_ARG);
    ERR(mmu_snapshot_read(f, NULL), MMU_ERR_ARG);
    fclose(f);
    mmu_snapshot_free(s);
    mmu_close(m);
}

Test(snapfile, empty_mmu_round_trips)
{
    mmu_t *m;
    mmu_snapshot *s, *r;
    OK(mmu_open(NULL, &m));
    OK(mmu_snapshot_save(m, &s));
    size_t len;
    uint8_t *img = image_of(s, &len);
    cr_assert_eq(len, 40);
    OK(read_image(img, len, &r));
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_snapshot_restore(m, r));
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
    free(img);
    mmu_snapshot_free(r);
    mmu_snapshot_free(s);
    mmu_close(m);
}

/* ----------------------------------------------------- allocation failure */

/* runs op with the Nth allocation failing, N = 0, 1, ... until it succeeds;
 * each failure must be NOMEM and leave m as it was */
#define NOMEM_LOOP(m, op)                                                                         \
    do {                                                                                         \
        for (long n_ = 0;; n_++) {                                                               \
            uint64_t d_ = mmu_digest(m);                                                         \
            sm_alloc_fail_after(n_);                                                            \
            mmu_err e_ = (op);                                                                   \
            sm_alloc_fail_after(-1);                                                            \
            if (e_ == MMU_OK)                                                                    \
                break;                                                                           \
            cr_assert_eq(e_, MMU_ERR_NOMEM, "%s at %ld: %s", #op, n_, mmu_strerror(e_));          \
            cr_assert_eq(mmu_digest(m), d_, "%s at %ld changed the MMU", #op, n_);               \
            cr_assert_lt(n_, 100000);                                                            \
        }                                                                                        \
    } while (0)

/* a state with every kind of region, several snapshots and changes since */
static mmu_t *busy_mmu(mmu_snapshot **s1, mmu_snapshot **s2, state *st)
{
    mmu_t *m;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, 0x1000, 0x8000, MMU_PROT_ALL, "a"));
    OK(mmu_map(m, 0x400000, 0x200000, MMU_PROT_READ | MMU_PROT_WRITE, "big"));
    OK(mmu_map_mmio(m, 0x20000, 0x1000, dev_read, dev_write, NULL, "io"));
    fill(m, 0x1000, 0x8000, 1);
    fill(m, 0x400000, 0x3000, 2);
    OK(mmu_protect(m, 0x3000, 0x1000, MMU_PROT_READ));
    state_take(m, st);
    OK(mmu_snapshot_save(m, s1));
    fill(m, 0x2000, 0x2000, 3);
    OK(mmu_snapshot_save(m, s2));
    OK(mmu_unmap(m, 0x4000, 0x2000));
    OK(mmu_map(m, 0x4000, 0x1000, MMU_PROT_READ, "new"));
    OK(mmu_set_label(m, 0x1000, 0x1000, "relabelled"));
    OK(mmu_protect(m, 0x400000, 0x1000, MMU_PROT_NONE));
    fill(m, 0x401000, 0x1000, 4);
    OK(mmu_unmap(m, 0x20000, 0x1000));
    return m;
}

Test(snapnomem, restore_fails_cleanly_at_every_allocation)
{
    mmu_snapshot *s1, *s2;
    state st;
    mmu_t *m = busy_mmu(&s1, &s2, &st);
    NOMEM_LOOP(m, mmu_snapshot_restore(m, s1));
    state_expect(m, &st, "after the loop");
    state_drop(&st);
    mmu_snapshot_free(s1);
    mmu_snapshot_free(s2);
    mmu_close(m);
}

Test(snapnomem, restore_into_another_mmu_fails_cleanly)
{
    mmu_snapshot *s1, *s2, *t;
    state st;
    mmu_t *m = busy_mmu(&s1, &s2, &st), *n;
    OK(mmu_open(NULL, &n));
    OK(mmu_map(n, 0x2000, 0x3000, MMU_PROT_ALL, "n"));
    fill(n, 0x2000, 0x3000, 6);
    OK(mmu_snapshot_save(n, &t)); /* n's own snapshot must be told */
    NOMEM_LOOP(n, mmu_snapshot_restore(n, s1));
    state_expect(n, &st, "n");
    mmu_snapshot_free(s1);
    mmu_snapshot_free(s2);
    mmu_close(m);
    OK(mmu_snapshot_restore(n, t));
    mmu_snapshot_free(t);
    mmu_close(n);
    state_drop(&st);
}

Test(snapnomem, save_and_tracked_writes_fail_cleanly)
{
    mmu_snapshot *s1, *s2, *s3;
    state st;
    mmu_t *m = busy_mmu(&s1, &s2, &st);
    uint8_t *pb = aligned_alloc(4096, 0x1000);
    memset(pb, 3, 0x1000);
    OK(mmu_map_ptr(m, 0x30000, 0x1000, MMU_PROT_ALL, pb, "p"));
    NOMEM_LOOP(m, mmu_snapshot_save(m, &s3));
    uint8_t big[2 * 4096];
    memset(big, 0xee, sizeof big);
    NOMEM_LOOP(m, mmu_write(m, 0x6800, big, sizeof big));
    NOMEM_LOOP(m, mmu_store(m, 0x402ffc, big, 8));
    NOMEM_LOOP(m, mmu_unmap(m, 0x7000, 0x2000));
    OK(mmu_snapshot_restore(m, s1));
    state_expect(m, &st, "s1");
    mmu_snapshot_free(s1);
    mmu_snapshot_free(s2);
    mmu_snapshot_free(s3);
    mmu_close(m);
    free(pb);
    state_drop(&st);
}

Test(snapnomem, read_fails_cleanly_and_leaks_nothing)
{
    mmu_snapshot *s, *r;
    state st;
    uint8_t *pb;
    mmu_t *m = file_fixture(&s, &st, &pb);
    size_t len;
    uint8_t *img = image_of(s, &len);
    for (long n = 0;; n++) {
        sm_alloc_fail_after(n);
        mmu_err e = read_image(img, len, &r);
        sm_alloc_fail_after(-1);
        if (e == MMU_OK)
            break;
        ERR(e, MMU_ERR_NOMEM);
    }
    mmu_t *n;
    OK(mmu_open(NULL, &n));
    NOMEM_LOOP(n, mmu_snapshot_restore(n, r));
    state_expect(n, &st, "read");
    mmu_snapshot_free(r);
    mmu_snapshot_free(s);
    mmu_close(m);
    mmu_close(n);
    free(img);
    free(pb);
    state_drop(&st);
}

Test(snapnomem, restore_after_close_fails_cleanly)
{
    mmu_snapshot *s1, *s2;
    state st;
    mmu_t *m = busy_mmu(&s1, &s2, &st), *n;
    mmu_close(m);
    OK(mmu_open(NULL, &n));
    OK(mmu_map(n, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    NOMEM_LOOP(n, mmu_snapshot_restore(n, s1));
    state_expect(n, &st, "after close");
    mmu_snapshot_free(s1);
    mmu_snapshot_free(s2);
    mmu_close(n);
    state_drop(&st);
}

/* ------------------------------------------------- random interleavings */

#define WIN 0x100000ull /* ops land in [WIN, WIN + 64 pages) */
#define WIN_PAGES 64
#define N_SLOTS 3
#define N_PTR 16

typedef struct world {
    uint64_t      rng;
    mmu_t        *m;
    mmu_snapshot *snap[N_SLOTS];
    state         st[N_SLOTS];
    uint8_t      *ptr[N_PTR]; /* each buffer is mapped at most once */
    size_t        ptr_used;
    bool          nomem_ok; /* the allocation injector is armed */
    bool          nomem;    /* the last op failed with NOMEM */
} world;

/* an op's result: e or one of the two allowed, or NOMEM under the injector */
static void op_result(world *w, mmu_err e, mmu_err ok2, const char *what)
{
    w->nomem = e == MMU_ERR_NOMEM;
    cr_assert(e == MMU_OK || e == ok2 || (w->nomem && w->nomem_ok), "%s: %s", what, mmu_strerror(e));
}

static uint64_t rnd(world *w, uint64_t n)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng % n;
}

/* a random page range inside the window */
static void pick(world *w, uint64_t *a, uint64_t *size)
{
    uint64_t first = rnd(w, WIN_PAGES), n = 1 + rnd(w, 6);
    if (first + n > WIN_PAGES)
        n = WIN_PAGES - first;
    *a = WIN + first * 0x1000;
    *size = n * 0x1000;
}

static const char *const labels[] = { NULL, "a", "[heap]", "/lib/libc.so.6", "b" };

static void op_write(world *w, bool guest)
{
    uint8_t buf[3 * 4096];
    uint64_t a = WIN + rnd(w, WIN_PAGES * 0x1000), n = 1 + rnd(w, sizeof buf);
    memset(buf, (int)rnd(w, 256), n);
    mmu_err e = guest ? mmu_store(w->m, a, buf, n) : mmu_write(w->m, a, buf, n);
    op_result(w, e == MMU_ERR_NOMEM ? e : MMU_OK, MMU_OK, "write");
}

static void op_map(world *w, unsigned kind)
{
    uint64_t a, size;
    pick(w, &a, &size);
    unsigned perms = (unsigned)rnd(w, 8);
    const char *l = labels[rnd(w, 5)];
    mmu_err e = MMU_OK;
    if (kind == 0)
        e = mmu_map(w->m, a, size, perms, l);
    else if (kind == 1)
        e = mmu_map_mmio(w->m, a, size, dev_read, rnd(w, 2) ? dev_write : NULL, (void *)a, l);
    else if (w->ptr_used < N_PTR && mmu_is_available(w->m, a, size))
        e = mmu_map_ptr(w->m, a, size, perms, w->ptr[w->ptr_used++], l);
    op_result(w, e, MMU_ERR_MAPPED, "map");
}

static void op_change(world *w, unsigned what)
{
    uint64_t a, size;
    pick(w, &a, &size);
    mmu_err e;
    if (what == 0)
        e = mmu_unmap(w->m, a, size);
    else if (what == 1)
        e = mmu_protect(w->m, a, size, (unsigned)rnd(w, 8));
    else
        e = mmu_set_label(w->m, a, size, labels[rnd(w, 5)]);
    op_result(w, e, MMU_ERR_UNMAPPED, "change");
}

static void op_fetch(world *w)
{
    uint8_t b[16];
    (void)mmu_fetch(w->m, WIN + rnd(w, WIN_PAGES * 0x1000), b, 1 + rnd(w, 16));
}

static void random_op(world *w)
{
    w->nomem = false;
    switch (rnd(w, 20)) {
    case 0: case 1: case 2: op_map(w, 0); break;
    case 3: op_map(w, 1); break;
    case 4: op_map(w, 2); break;
    case 5: case 6: op_change(w, 0); break;
    case 7: case 8: op_change(w, 1); break;
    case 9: op_change(w, 2); break;
    case 10: op_fetch(w); break;
    case 11: if (!rnd(w, 8)) mmu_unmap_all(w->m); break;
    case 12: case 13: case 14: case 15: op_write(w, false); break;
    default: op_write(w, true); break;
    }
}

static void slot_save(world *w, size_t k)
{
    if (w->snap[k]) {
        mmu_snapshot_free(w->snap[k]);
        state_drop(&w->st[k]);
    }
    state_take(w->m, &w->st[k]);
    OK(mmu_snapshot_save(w->m, &w->snap[k]));
}

/* a snapshot restored elsewhere, or through a file, gives the same state */
static void slot_check_copy(world *w, size_t k)
{
    mmu_t *other;
    OK(mmu_open(NULL, &other));
    bool io = false;
    for (size_t i = 0; i < w->st[k].n; i++)
        io |= w->st[k].r[i].mmio;
    mmu_snapshot *r = NULL;
    if (!io) {
        size_t len;
        uint8_t *img = image_of(w->snap[k], &len);
        OK(read_image(img, len, &r));
        free(img);
    }
    OK(mmu_snapshot_restore(other, r ? r : w->snap[k]));
    state_expect(other, &w->st[k], "copy");
    mmu_snapshot_free(r);
    mmu_close(other);
}

/* a restore or an op whose Nth allocation fails changes nothing, and the
 * notes it left in other snapshots do not spoil their later restores */
static void failing_step(world *w, size_t k)
{
    state before;
    state_take(w->m, &before);
    bool restore = w->snap[k] && rnd(w, 2);
    w->nomem_ok = true;
    sm_alloc_fail_after((long)rnd(w, 30));
    mmu_err e = restore ? mmu_snapshot_restore(w->m, w->snap[k]) : MMU_OK;
    if (!restore)
        random_op(w);
    sm_alloc_fail_after(-1);
    w->nomem_ok = false;
    if (restore && e == MMU_OK)
        state_expect(w->m, &w->st[k], "restore under the injector");
    else if (restore || w->nomem)
        state_expect(w->m, &before, "failed call");
    cr_assert(!restore || e == MMU_OK || e == MMU_ERR_NOMEM);
    state_drop(&before);
}

static void world_step(world *w)
{
    uint64_t r = rnd(w, 100);
    size_t k = (size_t)rnd(w, N_SLOTS);
    if (r < 5) {
        failing_step(w, k);
    } else if (r < 80) {
        random_op(w);
    } else if (r < 88) {
        slot_save(w, k);
    } else if (r < 98 && w->snap[k]) {
        OK(mmu_snapshot_restore(w->m, w->snap[k]));
        state_expect(w->m, &w->st[k], "restore");
    } else if (w->snap[k]) {
        slot_check_copy(w, k);
    }
}

static void world_init(world *w, uint64_t seed)
{
    *w = (world){ .rng = seed * 0x9e3779b97f4a7c15ull | 1 };
    for (size_t i = 0; i < N_PTR; i++) /* defined bytes: valgrind checks what the MMU copies */
        w->ptr[i] = memset(aligned_alloc(4096, 6 * 4096), 0, 6 * 4096);
    OK(mmu_open(NULL, &w->m));
}

static void world_free_ptr(world *w)
{
    for (size_t i = 0; i < N_PTR; i++)
        free(w->ptr[i]);
}

static void world_run(uint64_t seed, int steps)
{
    world w;
    world_init(&w, seed);
    for (int i = 0; i < steps; i++)
        world_step(&w);
    mmu_close(w.m); /* snapshots outlive it */
    OK(mmu_open(NULL, &w.m));
    for (size_t k = 0; k < N_SLOTS; k++) {
        if (!w.snap[k])
            continue;
        OK(mmu_snapshot_restore(w.m, w.snap[k]));
        state_expect(w.m, &w.st[k], "after close");
        mmu_snapshot_free(w.snap[k]);
        state_drop(&w.st[k]);
    }
    mmu_close(w.m);
    world_free_ptr(&w);
}

Test(snaprandom, exact_restore_under_random_interleavings)
{
    for (uint64_t seed = 1; seed <= 300; seed++)
        world_run(seed, 400);
}

Test(snaprandom, save_restore_loop_single_snapshot)
{
    /* the common fuzzing loop: save once, then change and restore many times */
    for (uint64_t seed = 1000; seed < 1050; seed++) {
        world w;
        world_init(&w, seed);
        for (int i = 0; i < 60; i++)
            random_op(&w);
        slot_save(&w, 0);
        for (int round = 0; round < 30; round++) {
            for (int i = (int)rnd(&w, 12); i > 0; i--)
                random_op(&w);
            OK(mmu_snapshot_restore(w.m, w.snap[0]));
            state_expect(w.m, &w.st[0], "loop");
        }
        mmu_snapshot_free(w.snap[0]);
        state_drop(&w.st[0]);
        mmu_close(w.m);
        world_free_ptr(&w);
    }
}

static void le(uint8_t **p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}

/* a file of one region of 2^50 bytes holding one page: writing it back
 * must cost the pages stored, not the range (it used to walk 2^38 pages) */
Test(snapfile, huge_sparse_region_writes_back_in_time_of_its_pages, .timeout = 20)
{
    const uint64_t start = 0x1000000000, last = start + (1ull << 50) - 1, page = start + 0x123456000;
    size_t len = 32 + 28 + 1 + 8 + 4096 + 8 + 8;
    uint8_t *img = calloc(1, len), *p = img, data[4096];
    memset(data, 0x5a, sizeof data);
    memcpy(p, "SMMUSNAP", 8), p += 8;
    le(&p, 1, 4), le(&p, 0, 4), le(&p, 1, 8), le(&p, len, 8);
    le(&p, start, 8), le(&p, last, 8), le(&p, 3, 4), le(&p, 0, 4), le(&p, 1, 4);
    *p++ = 'H';
    le(&p, page, 8);
    memcpy(p, data, sizeof data), p += sizeof data;
    le(&p, XXH3_64bits_withSeed(data, sizeof data, page), 8);
    le(&p, XXH3_64bits(img, (size_t)(p - img)), 8);
    cr_assert_eq((size_t)(p - img), len);

    FILE *in = tmpfile(), *out = tmpfile();
    cr_assert_eq(fwrite(img, 1, len, in), len);
    rewind(in);
    mmu_snapshot *s;
    OK(mmu_snapshot_read(in, &s));
    OK(mmu_snapshot_write(s, out));
    cr_assert_eq(ftell(out), (long)len, "the same file again");
    uint8_t *back = malloc(len);
    rewind(out);
    cr_assert_eq(fread(back, 1, len, out), len);
    cr_assert_arr_eq(back, img, len);
    free(back);
    fclose(in);
    fclose(out);
    mmu_snapshot_free(s);
    free(img);
}

/* Suite huge maps 1 TiB (valgrind, which caps the address space, skips it).
 * The 69-byte file of one 1 TiB region without pages: reading, restoring
 * (twice, into two MMUs) and digesting cost about the file's size */
Test(huge, region_without_pages_restores_in_time_of_its_size, .timeout = 20)
{
    const uint64_t start = 1ull << 40, last = start + (1ull << 40) - 1;
    uint8_t img[69], *p = img;
    memcpy(p, "SMMUSNAP", 8), p += 8;
    le(&p, 1, 4), le(&p, 0, 4), le(&p, 1, 8), le(&p, sizeof img, 8);
    le(&p, start, 8), le(&p, last, 8), le(&p, 3, 4), le(&p, 0, 4), le(&p, 1, 4);
    *p++ = 'H';
    le(&p, XXH3_64bits(img, (size_t)(p - img)), 8);
    cr_assert_eq((size_t)(p - img), sizeof img);
    FILE *in = tmpfile();
    cr_assert_eq(fwrite(img, 1, sizeof img, in), sizeof img);
    rewind(in);
    mmu_snapshot *s;
    OK(mmu_snapshot_read(in, &s));
    fclose(in);
    mmu_snapshot_summary info;
    OK(mmu_snapshot_info(s, &info));
    cr_assert_eq(info.regions, 1);
    cr_assert_eq(info.span, 1ull << 40);
    cr_assert_eq(info.pages_copied, 0);
    cr_assert_eq(info.pages_in_place, 0);
    ERR(mmu_snapshot_info(NULL, &info), MMU_ERR_ARG);
    ERR(mmu_snapshot_info(s, NULL), MMU_ERR_ARG);

    mmu_t *want, *a, *b;
    OK(mmu_open(NULL, &want));
    OK(mmu_map(want, start, 1ull << 40, MMU_PROT_READ | MMU_PROT_WRITE, "H"));
    OK(mmu_open(NULL, &a));
    OK(mmu_open(NULL, &b));
    OK(mmu_snapshot_restore(a, s));
    OK(mmu_snapshot_restore(b, s));
    cr_assert_eq(mmu_digest(a), mmu_digest(want));
    cr_assert_eq(mmu_digest(b), mmu_digest(want));
    mmu_stats st;
    mmu_get_stats(a, &st);
    cr_assert_eq(st.pages_mapped, 1ull << 28);
    cr_assert_lt(st.meta_bytes, 1 << 20, "no page table for untouched pages");
    mmu_close(want);
    mmu_close(a);
    mmu_close(b);
    mmu_snapshot_free(s);
}

/* a 1 TiB region with three pages written: save, change, restore and
 * digest cost those pages (state_take would read the whole TiB: the digest,
 * the map and the written words are compared instead) */
static void expect_huge(mmu_t *m, uint64_t digest, const uint64_t *pages, const char *what)
{
    cr_assert_eq(mmu_digest(m), digest, "%s: digest", what);
    mmu_region r[2];
    cr_assert_eq(mmu_regions(m, r, 2), 1, "%s: one region", what);
    cr_assert_eq(r[0].start, 1ull << 40);
    cr_assert_eq(r[0].end, 2ull << 40);
    cr_assert_str_eq(r[0].label, "huge");
    for (int i = 0; i < 3; i++) {
        uint64_t v;
        OK(mmu_read_ptr(m, pages[i] + 8, 8, false, &v));
        cr_assert_eq(v, 0x1111ull * (i + 1), "%s: page %d", what, i);
    }
    uint64_t v;
    OK(mmu_read_ptr(m, (1ull << 40) + 0x5000, 8, false, &v));
    cr_assert_eq(v, 0, "%s: the page written after the save is zeros again", what);
}

Test(huge, region_costs_its_touched_pages, .timeout = 20)
{
    const uint64_t start = 1ull << 40, size = 1ull << 40;
    const uint64_t pages[3] = { start, start + size / 2, start + size - MMU_PAGE_SIZE };
    mmu_t *m;
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, start, size, MMU_PROT_READ | MMU_PROT_WRITE, "huge"));
    for (int i = 0; i < 3; i++)
        OK(mmu_write_ptr(m, pages[i] + 8, 0x1111ull * (i + 1), 8, false));
    uint64_t digest = mmu_digest(m);
    mmu_snapshot *s;
    OK(mmu_snapshot_save(m, &s));
    mmu_snapshot_summary info;
    OK(mmu_snapshot_info(s, &info));
    cr_assert_eq(info.pages_in_place, 3);
    cr_assert_eq(info.pages_copied, 0);
    OK(mmu_write_ptr(m, pages[1] + 8, 7, 8, false));
    OK(mmu_write_ptr(m, start + 0x5000, 9, 8, false)); /* a page untouched at save */
    OK(mmu_snapshot_info(s, &info));
    cr_assert_eq(info.pages_in_place, 2);
    cr_assert_eq(info.pages_copied, 1, "the zero page needs no copy");
    cr_assert_neq(mmu_digest(m), digest);
    OK(mmu_snapshot_restore(m, s));
    expect_huge(m, digest, pages, "incremental");
    OK(mmu_unmap(m, start, size));
    OK(mmu_snapshot_restore(m, s));
    expect_huge(m, digest, pages, "rebuilt after an unmap");
    mmu_t *other;
    OK(mmu_open(NULL, &other));
    OK(mmu_snapshot_restore(other, s));
    expect_huge(other, digest, pages, "another MMU");
    mmu_close(other);
    mmu_snapshot_free(s);
    mmu_close(m);
}
