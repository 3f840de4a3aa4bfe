/*
 * test_oom.c - allocation failure: every call that allocates is run with
 * its 1st, 2nd, 3rd... allocation failing (sm_alloc_fail_after) until it
 * succeeds; each failure must return MMU_ERR_NOMEM and change nothing (same
 * digest, same region list, out-parameters untouched). Run under ASan or
 * valgrind, this also shows that the failure paths free what they took.
 */
#include "test_util.h"

#include "alloc.h"
#include "mmu_int.h" /* region_check */
#include "model.c"

/* failure points tried by this process (one per test: Criterion forks) */
static unsigned long points;

typedef struct state {
    uint64_t   digest;
    size_t     n;
    mmu_region r[64];
    char       label[64][48];
} state;

static void take(mmu_t *m, state *s)
{
    s->digest = mmu_digest(m);
    s->n = mmu_regions(m, s->r, 64);
    for (size_t i = 0; i < s->n && i < 64; i++)
        snprintf(s->label[i], sizeof s->label[i], "%s", s->r[i].label);
}

static void same(const state *a, const state *b, const char *what, long n)
{
    cr_assert_eq(a->digest, b->digest, "%s with allocation %ld failing changed the digest", what, n);
    cr_assert_eq(a->n, b->n, "%s with allocation %ld failing changed the region count", what, n);
    for (size_t i = 0; i < a->n && i < 64; i++)
        cr_assert(a->r[i].start == b->r[i].start && a->r[i].end == b->r[i].end && a->r[i].perms == b->r[i].perms
                      && a->r[i].mmio == b->r[i].mmio && !strcmp(a->label[i], b->label[i]),
                  "%s with allocation %ld failing changed region %zu", what, n, i);
}

/* Runs call with allocation 0, 1, 2... failing until it succeeds. Each
 * failure: MMU_ERR_NOMEM, state unchanged, and `untouched` (an expression
 * about out-parameters) holds. Evaluates to the number of points tried. */
#define OOM_LOOP(m, call, untouched)                                                                  \
    do {                                                                                              \
        for (long n_ = 0;; n_++) {                                                                    \
            state before_, after_;                                                                    \
            take((m), &before_);                                                                      \
            sm_alloc_fail_after(n_);                                                                 \
            mmu_err e_ = (call);                                                                      \
            sm_alloc_fail_after(-1);                                                                 \
            points++;                                                                                 \
            if (e_ == MMU_OK)                                                                         \
                break;                                                                                \
            cr_assert_eq(e_, MMU_ERR_NOMEM, "%s with allocation %ld failing: %s", #call, n_,          \
                         mmu_strerror(e_));                                                           \
            take((m), &after_);                                                                       \
            same(&before_, &after_, #call, n_);                                                       \
            cr_assert(untouched, "%s with allocation %ld failing wrote an out-parameter", #call, n_); \
            cr_assert_lt(n_, 100000, "%s never succeeds", #call);                                     \
        }                                                                                             \
    } while (0)

static mmu_t *m;

static void setup(void)
{
    OK(mmu_open(NULL, &m));
}

static void teardown(void)
{
    sm_alloc_fail_after(-1);
    mmu_close(m);
    fprintf(stderr, "oom: %lu allocation-failure points tried\n", points);
}

TestSuite(oom, .init = setup, .fini = teardown);

Test(oom, open_fails_cleanly_at_every_allocation)
{
    mmu_t *m2 = (mmu_t *)&points;
    mmu_config cfg = { .addr_bits = 32, .tlb_entries = 64 };
    for (long n = 0;; n++) {
        sm_alloc_fail_after(n);
        mmu_err e = mmu_open(&cfg, &m2);
        sm_alloc_fail_after(-1);
        points++;
        if (e == MMU_OK)
            break;
        cr_assert_eq(e, MMU_ERR_NOMEM, "mmu_open with allocation %ld failing: %s", n, mmu_strerror(e));
        cr_assert_eq(m2, (mmu_t *)&points, "mmu_open failed but wrote *out");
    }
    mmu_close(m2);
}

Test(oom, map_fails_cleanly_at_every_allocation)
{
    OOM_LOOP(m, mmu_map(m, 0x10000, 0x3000, MMU_PROT_ALL, "first"), true);
    /* a second leaf, a large mapping, one across a leaf boundary */
    OOM_LOOP(m, mmu_map(m, 0x7fff0000, 0x1000, MMU_PROT_READ, NULL), true);
    OOM_LOOP(m, mmu_map(m, 0x40000000, 0x400000, MMU_PROT_READ, "big"), true);
    OOM_LOOP(m, mmu_map(m, 0x1ff000, 0x2000, MMU_PROT_READ, "leaves"), true);
    OOM_LOOP(m, mmu_map(m, UINT64_MAX - 0xfff, 0x1000, MMU_PROT_READ, "top"), true);
}

Test(oom, page_table_growth_fails_cleanly)
{
    /* many leaves make the top-level hash grow */
    for (uint64_t i = 0; i < 40; i++)
        OOM_LOOP(m, mmu_map(m, i << 21, 0x1000, MMU_PROT_READ, NULL), true);
}

Test(oom, map_ptr_and_mmio_fail_cleanly)
{
    static uint8_t buf[0x2000] __attribute__((aligned(4096)));
    OOM_LOOP(m, mmu_map_ptr(m, 0x20000, 0x2000, MMU_PROT_READ, buf, "ptr"), true);
    OOM_LOOP(m, mmu_map_mmio(m, 0x30000, 0x2000, dummy_rd, dummy_wr, NULL, NULL), true);
    OOM_LOOP(m, mmu_unmap(m, 0x31000, 0x1000), true);
}

Test(oom, map_anywhere_fails_cleanly)
{
    uint64_t a = 0x5e5e;
    OK(mmu_map(m, 0, 0x1000, MMU_PROT_READ, NULL));
    OOM_LOOP(m, mmu_map_anywhere(m, 0x1800, 0, 0, 0, MMU_PROT_ALL, "any", &a), a == 0x5e5e);
    cr_assert_eq(a, 0x1000);
}

Test(oom, unmap_split_fails_cleanly)
{
    OK(mmu_map(m, 0x10000, 0x10000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x20000, 0x4000, MMU_PROT_READ, "B"));
    OOM_LOOP(m, mmu_unmap(m, 0x12000, 0x1000), true);  /* middle: split */
    OOM_LOOP(m, mmu_unmap(m, 0x1f000, 0x2000), true);  /* across two entries */
    OOM_LOOP(m, mmu_unmap(m, 0x10000, 0x2000), true);  /* a whole entry */
    OOM_LOOP(m, mmu_unmap(m, 0x23000, 0x1000), true);  /* a tail */
}

Test(oom, protect_and_set_label_splits_fail_cleanly)
{
    OK(mmu_map(m, 0x10000, 0x10000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x20000, 0x4000, MMU_PROT_READ, "B"));
    OOM_LOOP(m, mmu_protect(m, 0x11234, 0x10, MMU_PROT_READ), true);
    OOM_LOOP(m, mmu_protect(m, 0x1e000, 0x3000, MMU_PROT_EXEC), true);
    OOM_LOOP(m, mmu_set_label(m, 0x14000, 0x1000, "relabelled"), true);
    OOM_LOOP(m, mmu_set_label(m, 0x1f800, 0x1000, NULL), true);
    OOM_LOOP(m, mmu_protect(m, 0x10000, 0x14000, MMU_PROT_NONE), true);
}

static bool never(mmu_t *mm, const mmu_mem_event *ev, void *user)
{
    (void)mm, (void)ev, (void)user;
    return false;
}

Test(oom, hook_add_fails_cleanly)
{
    for (int i = 0; i < 20; i++) { /* crosses the growth of the hook array */
        mmu_hook_id id = 0x5e5e;
        OOM_LOOP(m, mmu_hook_add(m, MMU_HOOK_MEM_READ | MMU_HOOK_MEM_INVALID, never, NULL, 0, 0xffff, &id),
                 id == 0x5e5e);
    }
}

Test(oom, search_fails_cleanly)
{
    uint64_t out[4];
    size_t n = 0x5e5e;
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x11000, 0x1000, MMU_PROT_READ, "B"));
    OK(mmu_write(m, 0x10ffc, "abcdefgh", 8));
    OOM_LOOP(m, mmu_search(m, "abcdefgh", 8, 0, 0, MMU_SEARCH_CROSS, out, 4, &n), n == 0x5e5e);
    cr_assert_eq(n, 1);
    n = 0x5e5e;
    OOM_LOOP(m, mmu_search(m, "cdef", 4, 0, 0, 0, out, 4, &n), n == 0x5e5e);
    cr_assert_eq(n, 0);
}

Test(oom, pattern_compile_and_search_fail_cleanly)
{
    mmu_pattern *p = (mmu_pattern *)&points;
    size_t n = 0x5e5e;
    uint64_t out[4];
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    OK(mmu_write(m, 0x10ffe, "\x09\x53\x1a\x00", 4));
    OOM_LOOP(m, mmu_pattern_compile("09 53 ( 0F | 1A | 04 ) ~0D ?? 4?", &p), p == (mmu_pattern *)&points);
    OOM_LOOP(m, mmu_search_pattern(m, p, 0, 0, MMU_SEARCH_CROSS, out, 4, &n), n == 0x5e5e);
    mmu_pattern_free(p);
}

Test(oom, format_mapinfo_fails_cleanly)
{
    char buf[4096];
    size_t len = 0x5e5e;
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "[heap]"));
    OK(mmu_map(m, 0x555555554000, 0x1000, MMU_PROT_READ | MMU_PROT_EXEC, "/bin/x8664_hello"));
    OOM_LOOP(m, mmu_format_mapinfo(m, buf, sizeof buf, &len), len == 0x5e5e);
    cr_assert_gt(len, 0);
}

/* ------------------------------------------- random states and ops */

/* the op on m alone (no model): for the calls that may allocate */
static mmu_err apply_raw(mmu_t *mm, const op *o, void *ptr, uint64_t *out)
{
    const char *l = labels[o->label];
    switch ((op_kind)o->k) {
    case OP_MAP: return mmu_map(mm, o->a, o->b, o->perms, l);
    case OP_MAP_PTR: return mmu_map_ptr(mm, o->a, o->b, o->perms, ptr, l);
    case OP_MAP_MMIO: return mmu_map_mmio(mm, o->a, o->b, dummy_rd, dummy_wr, NULL, l);
    case OP_UNMAP: return mmu_unmap(mm, o->a, o->b);
    case OP_PROTECT: return mmu_protect(mm, o->a, o->b, o->perms);
    case OP_SET_LABEL: return mmu_set_label(mm, o->a, o->b, l);
    case OP_MAP_ANYWHERE: return mmu_map_anywhere(mm, o->a, o->b, o->c, o->d, o->perms, l, out);
    case OP_HOOK_ADD: return mmu_hook_add(mm, o->perms, never, NULL, o->a, o->b, out);
    case OP_WRITE: return mmu_write(mm, o->a, "0123456789abcdef", o->b < 16 ? o->b : 16);
    case OP_SEARCH: {
        size_t n;
        return mmu_search(mm, "\0\0\0\0\0\0\0\0", o->c, o->a, o->b, o->flags, NULL, 0, &n);
    }
    case OP_SNAP_SAVE: case OP_SNAP_RESTORE: { /* save, then restore the same state */
        mmu_snapshot *s;
        mmu_err e = mmu_snapshot_save(mm, &s);
        if (e)
            return e;
        e = mmu_snapshot_restore(mm, s);
        mmu_snapshot_free(s);
        return e;
    }
    default: return MMU_OK;
    }
}

/* at each step of a random stream, the next op fails cleanly at every
 * allocation on a copy of the state, then runs on the harness */
static void oom_stream(uint64_t seed, size_t len)
{
    op_src src = { .state = seed };
    harness_cfg cfg = harness_gen_cfg(&src);
    harness *h = harness_new(&cfg);
    static uint8_t ptr[16 * 4096] __attribute__((aligned(4096)));
    for (size_t i = 0; i < len; i++) {
        op o = harness_gen(h, &src);
        if (o.k == OP_MAP_PTR && o.b > sizeof ptr)
            o.b = sizeof ptr;
        mmu_t *copy = rebuild(h);
        uint64_t out = 0x5e5e;
        OOM_LOOP(copy, apply_raw(copy, &o, ptr, &out) == MMU_ERR_NOMEM ? MMU_ERR_NOMEM : MMU_OK, out == 0x5e5e);
        mmu_close(copy);
        cr_assert(harness_step(h, &o), "%s", harness_msg(h));
    }
    harness_free(h);
}

/* SOFTMMU_OOM_STREAMS=N: N streams of 300 ops (default 8) */
Test(oom, random_states_fail_cleanly_at_every_allocation)
{
    const char *env = getenv("SOFTMMU_OOM_STREAMS");
    uint64_t n = env && *env ? strtoull(env, NULL, 0) : 8;
    for (uint64_t seed = 1; seed <= n; seed++)
        oom_stream(seed * 0x1234567, 300);
}

/* ----------------------------------------------------------- snapshots */

static void snapshot_state(void)
{
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x14000, 0x2000, MMU_PROT_READ, "B"));
    OK(mmu_map(m, UINT64_MAX - 0x1fff, 0x2000, MMU_PROT_READ, "top"));
    OK(mmu_write(m, 0x13ff0, "across the two entries", 22));
}

Test(oom, snapshot_save_fails_cleanly)
{
    mmu_snapshot *s = NULL;
    snapshot_state();
    OOM_LOOP(m, mmu_snapshot_save(m, &s), s == NULL);
    mmu_snapshot *s2 = NULL; /* a second one, with pages written between */
    OK(mmu_write(m, 0x10000, "x", 1));
    OOM_LOOP(m, mmu_snapshot_save(m, &s2), s2 == NULL);
    mmu_snapshot_free(s);
    mmu_snapshot_free(s2);
}

Test(oom, snapshot_restore_fails_cleanly)
{
    mmu_snapshot *s;
    snapshot_state();
    OK(mmu_snapshot_save(m, &s));
    uint64_t d = mmu_digest(m);
    /* undo every kind of change: writes, new maps, unmaps, splits, labels */
    OK(mmu_write(m, 0x11000, "changed", 7));
    OK(mmu_map(m, 0x40000, 0x3000, MMU_PROT_READ, "later"));
    OK(mmu_unmap(m, 0x14000, 0x1000));
    OK(mmu_protect(m, 0x12000, 0x1000, MMU_PROT_NONE));
    OK(mmu_set_label(m, 0x10000, 0x1000, "relabelled"));
    OK(mmu_unmap(m, UINT64_MAX - 0x1fff, 0x2000));
    OOM_LOOP(m, mmu_snapshot_restore(m, s), true);
    cr_assert_eq(mmu_digest(m), d);
    mmu_snapshot_free(s);
}

Test(oom, snapshot_restore_after_unmap_all_fails_cleanly)
{
    mmu_snapshot *s;
    snapshot_state();
    OK(mmu_snapshot_save(m, &s));
    uint64_t d = mmu_digest(m);
    mmu_unmap_all(m);
    OOM_LOOP(m, mmu_snapshot_restore(m, s), true);
    cr_assert_eq(mmu_digest(m), d);
    mmu_snapshot_free(s);
}

/* Enough regions for a three-level B+-tree (height 3 needs 512), entered
 * out of order: the inserts that split leaves and inner nodes take the
 * nodes their call reserved before changing anything. */
#define SPLIT_REGIONS 701u /* prime: i * 13 % 701 visits every slot */

static void many_regions(bool oom)
{
    for (uint64_t i = 0; i < SPLIT_REGIONS; i++) {
        uint64_t a = 0x100000 + (i * 13 % SPLIT_REGIONS) * 0x3000;
        if (oom)
            OOM_LOOP(m, mmu_map(m, a, 0x2000, MMU_PROT_READ, i % 3 ? NULL : "third"), true);
        else
            OK(mmu_map(m, a, 0x2000, MMU_PROT_READ, i % 3 ? NULL : "third"));
    }
}

Test(oom, index_node_splits_fail_cleanly)
{
    many_regions(true);
    cr_assert_null(region_check(&m->ri));
    /* splits inside full leaves: protect and unmap a page in the middle */
    for (uint64_t i = 0; i < 64; i++) {
        uint64_t a = 0x100000 + (i * 37 % SPLIT_REGIONS) * 0x3000;
        OOM_LOOP(m, mmu_protect(m, a + 0x1000, 0x1000, MMU_PROT_NONE), true);
        OOM_LOOP(m, mmu_unmap(m, a + 0x1000, 0x1000), true);
    }
    cr_assert_null(region_check(&m->ri));
}

Test(oom, snapshot_restore_of_many_regions_fails_cleanly)
{
    mmu_snapshot *s;
    many_regions(false);
    OK(mmu_snapshot_save(m, &s));
    uint64_t d = mmu_digest(m);
    for (uint64_t i = 0; i < SPLIT_REGIONS; i += 2) /* half gone, the rest split */
        OK(mmu_unmap(m, 0x100000 + i * 0x3000, 0x2000));
    for (uint64_t i = 1; i < SPLIT_REGIONS; i += 2)
        OK(mmu_protect(m, 0x100000 + i * 0x3000 + 0x1000, 0x1000, MMU_PROT_NONE));
    OOM_LOOP(m, mmu_snapshot_restore(m, s), true);
    cr_assert_eq(mmu_digest(m), d);
    cr_assert_null(region_check(&m->ri));
    mmu_unmap_all(m);
    OOM_LOOP(m, mmu_snapshot_restore(m, s), true); /* a rebuild from nothing */
    cr_assert_eq(mmu_digest(m), d);
    cr_assert_null(region_check(&m->ri));
    mmu_snapshot_free(s);
}

/* unmap_all cannot fail: with the Nth allocation failing it still unmaps
 * everything, and the snapshots (detached when saving their pages ran out)
 * still restore exactly; a second snapshot, saved later, too */
Test(oom, unmap_all_with_snapshots_cannot_fail)
{
    for (long n = 0;; n++) {
        mmu_snapshot *s, *s2;
        mmu_close(m);
        OK(mmu_open(NULL, &m));
        snapshot_state();
        OK(mmu_snapshot_save(m, &s));
        uint64_t d = mmu_digest(m);
        OK(mmu_write(m, 0x11000, "changed", 7)); /* one page saved already, the rest clean */
        OK(mmu_snapshot_save(m, &s2));
        uint64_t d2 = mmu_digest(m);
        sm_alloc_fail_after(n);
        mmu_unmap_all(m);
        sm_alloc_fail_after(-1);
        points++;
        cr_assert_eq(mmu_regions(m, NULL, 0), 0, "unmap_all with allocation %ld failing left regions", n);
        OK(mmu_snapshot_restore(m, s));
        cr_assert_eq(mmu_digest(m), d, "snapshot 1 after unmap_all with allocation %ld failing", n);
        OK(mmu_snapshot_restore(m, s2));
        cr_assert_eq(mmu_digest(m), d2, "snapshot 2 after unmap_all with allocation %ld failing", n);
        mmu_snapshot_free(s);
        mmu_snapshot_free(s2);
        if (n >= 64)
            break; /* saving the pages of snapshot_state takes fewer allocations */
    }
}

Test(oom, snapshot_write_and_read_fail_cleanly)
{
    mmu_snapshot *s, *back = NULL;
    snapshot_state();
    OK(mmu_snapshot_save(m, &s));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    OOM_LOOP(m, (rewind(f), mmu_snapshot_write(s, f)), true);
    fclose(f);
    f = fmemopen(buf, len, "r");
    OOM_LOOP(m, (rewind(f), mmu_snapshot_read(f, &back)), back == NULL);
    fclose(f);
    free(buf);
    mmu_t *m2;
    OK(mmu_open(NULL, &m2));
    OOM_LOOP(m2, mmu_snapshot_restore(m2, back), true); /* into another MMU */
    cr_assert_eq(mmu_digest(m2), mmu_digest(m));
    mmu_close(m2);
    mmu_snapshot_free(s);
    mmu_snapshot_free(back);
}

/* ----------------------------------------------------------------- CPU */

#include <softmmu/cpu.h>

static void count_insn(cpu_t *c, uint64_t addr, unsigned size, void *user)
{
    (void)c, (void)addr, (void)size;
    ++*(int *)user;
}

Test(oom, cpu_open_run_and_hooks_fail_cleanly)
{
    /* mov eax, 5; l: add rbx, rax; dec eax; jnz l; hlt  -> rbx = 15 */
    static const uint8_t code[] = { 0xb8, 0x05, 0x00, 0x00, 0x00, 0x48, 0x01, 0xc3, 0xff, 0xc8, 0x75, 0xf9, 0xf4 };
    OK(mmu_map(m, 0x400000, 0x1000, MMU_PROT_READ | MMU_PROT_EXEC, "code"));
    OK(mmu_write(m, 0x400000, code, sizeof code));
    cpu_t *c = (cpu_t *)&points;
    OOM_LOOP(m, cpu_open(m, &c), c == (cpu_t *)&points);
    int n_insn = 0;
    mmu_hook_id id = 0x5e5e;
    OOM_LOOP(m, cpu_hook_code(c, count_insn, &n_insn, 1, 0, &id), id == 0x5e5e);
    cpu_exit ex = CPU_EXIT_COUNT;
    OOM_LOOP(m, (cpu_reg_write(c, CPU_RBX, 0), n_insn = 0, cpu_run(c, 0x400000, 0, 100, &ex)), true);
    cr_assert_eq(ex, CPU_EXIT_HLT);
    cr_assert_eq(cpu_reg_read(c, CPU_RBX), 15);
    cr_assert_eq(n_insn, 1 + 3 * 5 + 1);
    cpu_close(c);
}

/* a guest store that needs a snapshot's copy of its page when none can be
 * made: cpu_run returns MMU_ERR_NOMEM (not a memory fault), RIP stays at the
 * store, memory is unchanged, and running again completes it */
Test(oom, guest_store_under_a_snapshot_is_cpu_run_nomem)
{
    static const uint8_t code[] = { 0x48, 0x89, 0x1f, 0xf4 }; /* mov [rdi], rbx; hlt */
    OK(mmu_map(m, 0x400000, 0x1000, MMU_PROT_READ | MMU_PROT_EXEC, "code"));
    OK(mmu_map(m, 0x500000, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, "tracked"));
    OK(mmu_write(m, 0x400000, code, sizeof code));
    OK(mmu_write(m, 0x500000, "beforeXX", 8));
    mmu_snapshot *s;
    OK(mmu_snapshot_save(m, &s));
    OK(mmu_map(m, 0x501000, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, "untracked")); /* mapped after the save */
    cpu_t *c;
    OK(cpu_open(m, &c));
    cpu_exit ex;
    cpu_reg_write(c, CPU_RBX, 0x1122334455667788ull);
    cpu_reg_write(c, CPU_RDI, 0x501000);
    OK(cpu_run(c, 0x400000, 0, 0, &ex)); /* decodes the block; its store needs no copy */
    cr_assert_eq(ex, CPU_EXIT_HLT);
    cpu_reg_write(c, CPU_RDI, 0x500000);
    uint64_t before = mmu_digest(m);
    sm_alloc_fail_after(0);
    ex = CPU_EXIT_COUNT;
    mmu_err e = cpu_run(c, 0x400000, 0, 0, &ex);
    sm_alloc_fail_after(-1);
    cr_assert_eq(e, MMU_ERR_NOMEM, "cpu_run: %s", mmu_strerror(e));
    cr_assert_eq(ex, CPU_EXIT_COUNT, "*out_exit written on error");
    cr_assert_eq(cpu_reg_read(c, CPU_RIP), 0x400000);
    cr_assert_eq(mmu_digest(m), before, "the failed store changed memory");
    cpu_fault f;
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_OK, "NOMEM is not a guest memory fault");
    OK(cpu_run(c, 0x400000, 0, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_HLT);
    uint64_t v;
    OK(mmu_read_ptr(m, 0x500000, 8, false, &v));
    cr_assert_eq(v, 0x1122334455667788ull);
    OK(mmu_snapshot_restore(m, s));
    OK(mmu_read_ptr(m, 0x500000, 8, false, &v));
    cr_assert_eq(v, 0x585865726f666562ull, "the snapshot kept the page as it was"); /* "beforeXX" */
    cpu_close(c);
    mmu_snapshot_free(s);
}
