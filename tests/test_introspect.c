/*
 * test_introspect.c - mmu_explain, mmu_pt_walk, mmu_tlb_dump and mmu_hooks:
 * the exact steps of a translation for every outcome (unmapped, each
 * protection fault, MMIO, code, snapshot tracking, hooks), and that looking
 * changes nothing.
 */
#include "core_util.h"

static mmu_t *m;

static void setup(void) { OK(mmu_open(NULL, &m)); }
static void teardown(void) { mmu_close(m); }

TestSuite(explain, .init = setup, .fini = teardown);
TestSuite(ptwalk, .init = setup, .fini = teardown);
TestSuite(tlbdump, .init = setup, .fini = teardown);
TestSuite(hooklist, .init = setup, .fini = teardown);

#define P 0x12345000ull

static mmu_translation explain(uint64_t addr, mmu_access k)
{
    mmu_translation t;
    memset(&t, 0xa5, sizeof t);
    OK(mmu_explain(m, addr, k, &t));
    cr_assert_eq(t.addr, addr);
    cr_assert_eq(t.access, k);
    cr_assert_eq(t.pt_top, addr >> 21);
    cr_assert_eq(t.pt_index, (addr >> 12) & 511);
    cr_assert_eq(t.tlb_slot, (addr >> 12) & (t.tlb_entries - 1));
    return t;
}

static uint64_t mmio_rd(void *u, uint64_t off, unsigned size)
{
    (void)u, (void)size;
    return off;
}

static bool nop_hook(mmu_t *mm, const mmu_mem_event *ev, void *u)
{
    (void)mm, (void)ev, (void)u;
    return false;
}

Test(explain, bad_arguments)
{
    mmu_translation t;
    ERR(mmu_explain(NULL, 0, MMU_ACCESS_READ, &t), MMU_ERR_ARG);
    ERR(mmu_explain(m, 0, MMU_ACCESS_READ, NULL), MMU_ERR_ARG);
    ERR(mmu_explain(m, 0, (mmu_access)3, &t), MMU_ERR_ARG);
}

Test(explain, unmapped_each_kind)
{
    for (mmu_access k = MMU_ACCESS_READ; k <= MMU_ACCESS_FETCH; k++) {
        mmu_translation t = explain(P + 0x10, k);
        cr_assert_eq(t.err, MMU_ERR_READ_UNMAPPED + k);
        cr_assert_eq(t.page, 0);
        cr_assert_eq(t.perms, 0);
        cr_assert_not(t.pt_leaf);
        cr_assert_eq(t.tlb_page, UINT64_MAX);
        cr_assert_eq(t.tlb_kinds, 0);
        cr_assert_not(t.tlb_hit);
        cr_assert_not(t.fast_path);
        cr_assert_null(t.host);
        cr_assert_null(t.label);
        cr_assert_eq(t.region_start, 0);
        cr_assert_eq(t.region_end, 0);
    }
}

Test(explain, outside_32_bit_space_is_unmapped)
{
    mmu_close(m);
    mmu_config c = { .addr_bits = 32 };
    OK(mmu_open(&c, &m));
    mmu_translation t = explain(0x100000000ull, MMU_ACCESS_WRITE);
    cr_assert_eq(t.err, MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(t.page, 0);
}

Test(explain, ram_page_before_and_after_a_load)
{
    OK(mmu_map(m, P, 0x3000, MMU_PROT_READ | MMU_PROT_WRITE, "data"));
    OK(mmu_write_ptr(m, P + 0x1008, 0x1122, 8, false));
    mmu_translation t = explain(P + 0x1008, MMU_ACCESS_READ);
    cr_assert_eq(t.err, MMU_OK);
    cr_assert(t.page & MMU_PAGE_MAPPED);
    cr_assert_eq(t.page & (MMU_PAGE_MMIO | MMU_PAGE_CODE | MMU_PAGE_TRACKED | MMU_PAGE_DIRTY | MMU_PAGE_HOOKED), 0);
    cr_assert_eq(t.perms, MMU_PROT_READ | MMU_PROT_WRITE);
    cr_assert_eq(t.region_start, P);
    cr_assert_eq(t.region_end, P + 0x3000);
    cr_assert_str_eq(t.label, "data");
    cr_assert(t.fast_path);
    cr_assert_not(t.tlb_hit);
    cr_assert_eq(*(uint64_t *)t.host, 0x1122, "host points at the guest bytes");
    cr_assert(t.page & MMU_PAGE_PRESENT, "the write filled its entry");
    t = explain(P + 0x2008, MMU_ACCESS_READ);
    cr_assert_eq(t.page, MMU_PAGE_MAPPED, "never touched: mapped, no entry");
    cr_assert_eq(t.err, MMU_OK);
    cr_assert_eq(*(uint64_t *)t.host, 0, "untouched RAM reads as zeros");
    t = explain(P + 0x1008, MMU_ACCESS_READ);

    uint64_t v;
    OK(mmu_load_u64(m, P + 0x1008, &v));
    t = explain(P + 0x1008, MMU_ACCESS_READ);
    cr_assert(t.tlb_hit);
    cr_assert_eq(t.tlb_page, P + 0x1000);
    cr_assert_eq(t.tlb_kinds, 1u << MMU_ACCESS_READ | 1u << MMU_ACCESS_WRITE);
    cr_assert(t.pt_leaf);
    cr_assert(t.page & MMU_PAGE_PRESENT);
    cr_assert(explain(P + 0x1ff8, MMU_ACCESS_WRITE).tlb_hit, "the same page for writes");
    t = explain(P + 0x1008, MMU_ACCESS_FETCH);
    cr_assert_eq(t.err, MMU_ERR_FETCH_PROT);
    cr_assert_not(t.tlb_hit);
    cr_assert_not(t.fast_path);
    cr_assert_not(explain(P + 0x2008, MMU_ACCESS_READ).tlb_hit, "the next page was never cached");
}

Test(explain, protection_faults)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ, NULL));
    cr_assert_eq(explain(P, MMU_ACCESS_READ).err, MMU_OK);
    cr_assert_eq(explain(P, MMU_ACCESS_WRITE).err, MMU_ERR_WRITE_PROT);
    cr_assert_eq(explain(P, MMU_ACCESS_FETCH).err, MMU_ERR_FETCH_PROT);
    OK(mmu_protect(m, P, 0x1000, MMU_PROT_NONE));
    mmu_translation t = explain(P, MMU_ACCESS_READ);
    cr_assert_eq(t.err, MMU_ERR_READ_PROT);
    cr_assert_eq(t.perms, 0);
    cr_assert_eq(t.page & MMU_PAGE_MAPPED, MMU_PAGE_MAPPED);
}

Test(explain, code_page)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    cr_assert_not(explain(P, MMU_ACCESS_FETCH).fast_path, "not marked as code yet");
    uint8_t b[4];
    OK(mmu_fetch(m, P + 4, b, 4));
    mmu_translation t = explain(P + 4, MMU_ACCESS_FETCH);
    cr_assert(t.page & MMU_PAGE_CODE);
    cr_assert(t.fast_path);
    cr_assert(t.tlb_hit);
    cr_assert_eq(t.tlb_kinds, 1u << MMU_ACCESS_READ | 1u << MMU_ACCESS_FETCH, "no write tag on code");
    t = explain(P + 4, MMU_ACCESS_WRITE);
    cr_assert_eq(t.err, MMU_OK);
    cr_assert_not(t.fast_path, "a write to code must bump the code generation");
    cr_assert_not(t.tlb_hit);
    OK(mmu_store_u8(m, P + 4, 0x90));
    cr_assert_eq(explain(P + 4, MMU_ACCESS_FETCH).page & MMU_PAGE_CODE, 0, "the write unmarked it");
}

Test(explain, mmio_page)
{
    OK(mmu_map_mmio(m, P, 0x2000, mmio_rd, NULL, NULL, NULL));
    mmu_translation t = explain(P + 0x1004, MMU_ACCESS_READ);
    cr_assert_eq(t.err, MMU_OK);
    cr_assert(t.page & MMU_PAGE_MMIO);
    cr_assert_str_eq(t.label, "[mmio]");
    cr_assert_null(t.host);
    cr_assert_not(t.fast_path);
    cr_assert_eq(explain(P + 0x1004, MMU_ACCESS_WRITE).err, MMU_ERR_WRITE_PROT);
    cr_assert_eq(explain(P + 0x1004, MMU_ACCESS_FETCH).err, MMU_ERR_FETCH_PROT);
    uint32_t v;
    OK(mmu_load_u32(m, P + 0x1004, &v));
    cr_assert_eq(v, 0x1004);
    cr_assert_not(explain(P + 0x1004, MMU_ACCESS_READ).tlb_hit, "devices are never cached");
}

Test(explain, snapshot_tracking_and_dirty)
{
    OK(mmu_map(m, P, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    OK(mmu_store_u64(m, P, 1));
    OK(mmu_store_u64(m, P + 0x1000, 1));
    mmu_snapshot *s;
    OK(mmu_snapshot_save(m, &s));
    mmu_translation t = explain(P, MMU_ACCESS_WRITE);
    cr_assert(t.page & MMU_PAGE_TRACKED);
    cr_assert_eq(t.page & MMU_PAGE_DIRTY, 0);
    cr_assert_not(t.fast_path, "the first write must reach the snapshot");
    OK(mmu_store_u64(m, P, 2));
    t = explain(P, MMU_ACCESS_WRITE);
    cr_assert_eq(t.page & MMU_PAGE_TRACKED, 0);
    cr_assert(t.page & MMU_PAGE_DIRTY);
    cr_assert(t.fast_path);
    cr_assert(explain(P + 0x1000, MMU_ACCESS_WRITE).page & MMU_PAGE_TRACKED, "the other page is still clean");
    mmu_snapshot_free(s);
    cr_assert_eq(explain(P, MMU_ACCESS_WRITE).page & MMU_PAGE_DIRTY, 0, "no snapshot, no dirty state");
}

Test(explain, hooked_page_leaves_the_fast_path)
{
    OK(mmu_map(m, P, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    OK(mmu_hook_add(m, MMU_HOOK_MEM_WRITE, nop_hook, NULL, P + 0x1010, P + 0x1010, NULL));
    mmu_translation t = explain(P + 0x1ff0, MMU_ACCESS_WRITE);
    cr_assert(t.page & MMU_PAGE_HOOKED);
    cr_assert_not(t.fast_path);
    cr_assert(explain(P + 0x1ff0, MMU_ACCESS_READ).fast_path, "reads are not hooked");
    cr_assert_eq(explain(P, MMU_ACCESS_WRITE).page & MMU_PAGE_HOOKED, 0);
}

Test(explain, changes_nothing)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    uint64_t v;
    OK(mmu_load_u64(m, P, &v));
    mmu_stats a, b;
    mmu_get_stats(m, &a);
    uint64_t gen = mmu_code_generation(m), d = mmu_digest(m);
    for (mmu_access k = MMU_ACCESS_READ; k <= MMU_ACCESS_FETCH; k++)
        for (uint64_t addr = P - 0x1000; addr < P + 0x2000; addr += 0x800)
            explain(addr, k);
    mmu_get_stats(m, &b);
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "stats unchanged");
    cr_assert_eq(mmu_code_generation(m), gen);
    cr_assert_eq(mmu_digest(m), d);
    cr_assert_eq(explain(P, MMU_ACCESS_FETCH).page & MMU_PAGE_CODE, 0, "explaining a fetch marks nothing");
}

/* ----------------------------------------------------------- page table */

typedef struct walk_log {
    uint64_t base[8];
    unsigned present[8], n, stop_after;
    uint8_t  page_0x1ff[8], perms_0x1ff[8];
} walk_log;

static bool log_leaf(void *u, const mmu_pt_leaf *l)
{
    walk_log *w = u;
    cr_assert_eq(l->base, l->top << MMU_PT_TOP_SHIFT);
    w->base[w->n] = l->base;
    w->present[w->n] = l->present;
    w->page_0x1ff[w->n] = l->page[0x1ff];
    w->perms_0x1ff[w->n] = l->perms[0x1ff];
    return ++w->n != w->stop_after;
}

Test(ptwalk, leaves_in_address_order)
{
    OK(mmu_map(m, 0x7f0000000000, 0x1000, MMU_PROT_READ, NULL));
    OK(mmu_map(m, 0x3ff000, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, NULL)); /* spans two leaves */
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_READ, NULL));
    const uint64_t touch[] = { 0x7f0000000000, 0x3ff000, 0x400000, 0x1000 };
    for (size_t i = 0; i < 4; i++) {
        uint8_t b;
        OK(mmu_load_u8(m, touch[i], &b));
    }
    walk_log w = { .stop_after = 99 };
    OK(mmu_pt_walk(m, log_leaf, &w));
    cr_assert_eq(w.n, 4);
    const uint64_t want[] = { 0, 0x200000, 0x400000, 0x7f0000000000 };
    for (unsigned i = 0; i < 4; i++) {
        cr_assert_eq(w.base[i], want[i], "leaf %u at %#llx", i, (unsigned long long)w.base[i]);
        cr_assert_eq(w.present[i], 1);
    }
    cr_assert_eq(w.page_0x1ff[1] & (MMU_PAGE_MAPPED | MMU_PAGE_PRESENT), MMU_PAGE_MAPPED | MMU_PAGE_PRESENT);
    cr_assert_eq(w.perms_0x1ff[1], MMU_PROT_READ | MMU_PROT_WRITE);
    cr_assert_eq(w.page_0x1ff[0], 0, "0x1ff000 is not mapped");

    walk_log stop = { .stop_after = 2 };
    OK(mmu_pt_walk(m, log_leaf, &stop));
    cr_assert_eq(stop.n, 2, "false stops the walk");
    ERR(mmu_pt_walk(m, NULL, NULL), MMU_ERR_ARG);
    ERR(mmu_pt_walk(NULL, log_leaf, &w), MMU_ERR_ARG);
}

Test(ptwalk, unmap_drops_the_leaf)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ, NULL));
    uint8_t b;
    OK(mmu_load_u8(m, P, &b));
    OK(mmu_unmap(m, P, 0x1000));
    walk_log w = { .stop_after = 99 };
    OK(mmu_pt_walk(m, log_leaf, &w));
    cr_assert_eq(w.n, 0);
}

/* ------------------------------------------------------------------ TLB */

Test(tlbdump, entries_in_use)
{
    uint64_t size = 0;
    cr_assert_eq(mmu_tlb_dump(m, NULL, 0, &size), 0, "empty after open");
    cr_assert_geq(size, 1);
    OK(mmu_map(m, P, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    uint8_t b;
    OK(mmu_load_u8(m, P, &b));
    OK(mmu_load_u8(m, P + 0x1000, &b));
    mmu_tlb_slot s[4];
    size_t n = mmu_tlb_dump(m, s, 4, &size);
    size_t want = size >= 2 ? 2 : 1; /* the one-entry build keeps the last */
    cr_assert_eq(n, want);
    cr_assert_eq(s[n - 1].page, P + 0x1000);
    cr_assert_eq(s[n - 1].slot, ((P + 0x1000) >> 12) & (size - 1));
    cr_assert_eq(s[n - 1].kinds, 1u << MMU_ACCESS_READ | 1u << MMU_ACCESS_WRITE);
    cr_assert_geq(s[n - 1].fills, 1);
    if (n == 2)
        cr_assert_lt(s[0].slot, s[1].slot, "slot order");
    mmu_tlb_slot one;
    cr_assert_eq(mmu_tlb_dump(m, &one, 1, NULL), n, "returns the count even when out is short");
    cr_assert_eq(mmu_tlb_dump(NULL, s, 4, &size), 0);
    OK(mmu_unmap(m, P, 0x2000));
    cr_assert_eq(mmu_tlb_dump(m, NULL, 0, NULL), 0, "unmap flushed them");
}

/* ---------------------------------------------------------------- hooks */

Test(hooklist, live_hooks_in_order)
{
    mmu_hook_id a, b, c;
    OK(mmu_hook_add(m, MMU_HOOK_MEM_READ, nop_hook, &a, 1, 0, &a));
    OK(mmu_hook_add(m, MMU_HOOK_MEM_UNMAPPED, nop_hook, &b, 0x1000, 0x1fff, &b));
    OK(mmu_hook_add(m, MMU_HOOK_MEM_WRITE | MMU_HOOK_MEM_FETCH, nop_hook, &c, 5, 9, &c));
    OK(mmu_hook_del(m, b));
    mmu_hook_info h[4];
    cr_assert_eq(mmu_hooks(m, h, 4), 2);
    cr_assert_eq(h[0].id, a);
    cr_assert_eq(h[0].types, MMU_HOOK_MEM_READ);
    cr_assert_eq(h[0].begin, 1);
    cr_assert_eq(h[0].end, 0);
    cr_assert_eq(h[0].user, &a);
    cr_assert_eq(h[0].fn, nop_hook);
    cr_assert_eq(h[1].id, c);
    cr_assert_eq(h[1].types, MMU_HOOK_MEM_WRITE | MMU_HOOK_MEM_FETCH);
    cr_assert_eq(h[1].begin, 5);
    cr_assert_eq(h[1].end, 9);
    cr_assert_eq(mmu_hooks(m, NULL, 0), 2);
    cr_assert_eq(mmu_hooks(NULL, h, 4), 0);
}

/* ------------------------------------------------- counting and sizing */

TestSuite(tlbsize);

Test(tlbdump, inline_hits_are_not_counted_by_default)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    uint64_t v;
    OK(mmu_load_u64(m, P, &v)); /* the miss fills the entry */
    mmu_stats a, b;
    mmu_get_stats(m, &a);
    for (int i = 0; i < 10; i++)
        OK(mmu_load_u64(m, P + 8 * i, &v));
    mmu_get_stats(m, &b);
    cr_assert_eq(b.tlb_hits, a.tlb_hits, "the inline hit counts nothing");
    cr_assert_eq(b.tlb_misses, a.tlb_misses);
    OK(mmu_load(m, P, &v, 8));
    mmu_get_stats(m, &b);
    cr_assert_eq(b.tlb_hits, a.tlb_hits + 1, "mmu_load's hit is counted");
}

static mmu_t *open_tlb(unsigned entries, unsigned lo, unsigned hi)
{
    mmu_t *mm;
    mmu_config c = { .tlb_entries = entries, .tlb_min = lo, .tlb_max = hi };
    OK(mmu_open(&c, &mm));
    return mm;
}

static uint64_t tlb_size(const mmu_t *mm)
{
    mmu_stats s;
    mmu_get_stats(mm, &s);
    return s.tlb_entries;
}

/* loads from n distinct pages, rounds times */
static void sweep(mmu_t *mm, uint64_t base, uint64_t pages, int rounds)
{
    for (int r = 0; r < rounds; r++)
        for (uint64_t i = 0; i < pages; i++) {
            uint8_t b;
            OK(mmu_load_u8(mm, base + i * MMU_PAGE_SIZE, &b));
        }
}

Test(tlbsize, grows_while_thrashing_up_to_max_then_shrinks_when_idle)
{
    mmu_t *mm = open_tlb(0, 16, 1024);
    mmu_config c;
    mmu_get_config(mm, &c);
    if (c.tlb_max == 1) { /* the one-entry stress build fixes the size */
        mmu_close(mm);
        return;
    }
    cr_assert_eq(tlb_size(mm), 16);
    OK(mmu_map(mm, P, 4096 * MMU_PAGE_SIZE, MMU_PROT_READ, NULL));
    sweep(mm, P, 8, 50);
    cr_assert_eq(tlb_size(mm), 16, "a working set that fits does not grow it");
    sweep(mm, P, 512, 8);
    cr_assert_eq(tlb_size(mm), 512, "grown until 512 pages fit, no further");
    mmu_stats s;
    mmu_get_stats(mm, &s);
    cr_assert_eq(s.tlb_resizes, 5);
    uint64_t misses = s.tlb_misses;
    sweep(mm, P, 512, 4);
    mmu_get_stats(mm, &s);
    cr_assert_eq(s.tlb_misses, misses, "once grown the sweep hits");
    sweep(mm, P, 4096, 4);
    cr_assert_eq(tlb_size(mm), 1024, "capped at tlb_max");
    /* few entries in use at a full flush (adding an access hook flushes): halves */
    OK(mmu_hook_add(mm, MMU_HOOK_MEM_WRITE, nop_hook, NULL, 1, 1, NULL));
    cr_assert_eq(tlb_size(mm), 1024, "a flush of a full TLB keeps its size");
    sweep(mm, P, 4, 1);
    OK(mmu_hook_add(mm, MMU_HOOK_MEM_WRITE, nop_hook, NULL, 1, 1, NULL));
    cr_assert_eq(tlb_size(mm), 512);
    for (int i = 0; i < 10; i++)
        OK(mmu_hook_add(mm, MMU_HOOK_MEM_WRITE, nop_hook, NULL, 1, 1, NULL));
    cr_assert_eq(tlb_size(mm), 16, "down to tlb_min, no further");
    mmu_close(mm);
}

Test(tlbsize, fixed_size_never_changes)
{
    mmu_t *mm = open_tlb(64, 0, 0);
    OK(mmu_map(mm, P, 1024 * MMU_PAGE_SIZE, MMU_PROT_READ, NULL));
    sweep(mm, P, 1024, 4);
    mmu_config c;
    mmu_get_config(mm, &c);
    if (c.tlb_max != 1) {
        cr_assert_eq(tlb_size(mm), 64);
        cr_assert_eq(c.tlb_entries, 64);
        cr_assert_eq(c.tlb_min, 64);
        cr_assert_eq(c.tlb_max, 64);
    }
    mmu_stats s;
    mmu_get_stats(mm, &s);
    cr_assert_eq(s.tlb_resizes, 0);
    mmu_close(mm);
}
