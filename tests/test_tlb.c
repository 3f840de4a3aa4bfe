/*
 * test_tlb.c - the software TLB behind the inline typed accessors: every
 * change to the map must be seen by the next access (no stale entry),
 * page-crossing and misaligned accesses, byte order, and the counters.
 * Each test fills the TLB through the inline accessors first, then changes
 * the map, then accesses again.
 */
/* these tests count inline hits too (mmu_stats.tlb_hits) */
#define MMU_COUNT_INLINE_HITS
#include "core_util.h"

static mmu_t *m;

static void setup(void) { OK(mmu_open(NULL, &m)); }
static void teardown(void) { mmu_close(m); }

TestSuite(stale, .init = setup, .fini = teardown);
TestSuite(cross, .init = setup, .fini = teardown);
TestSuite(order);
TestSuite(counters, .init = setup, .fini = teardown);
TestSuite(code, .init = setup, .fini = teardown);

#define P 0x10000ull /* a page used by most tests */

/* loads twice so that the second load is served by the TLB */
static uint64_t warm_load(uint64_t addr)
{
    uint64_t v = 0;
    OK(mmu_load_u64(m, addr, &v));
    OK(mmu_load_u64(m, addr, &v));
    return v;
}

static bool count_fn(mmu_t *mm, const mmu_mem_event *ev, void *u)
{
    (void)mm, (void)ev;
    (*(int *)u)++;
    return false;
}

static void warm_store(uint64_t addr, uint64_t v)
{
    OK(mmu_store_u64(m, addr, v));
    OK(mmu_store_u64(m, addr, v));
}

/* ------------------------------------------------------------ stale entries */

Test(stale, load_after_unmap_faults)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_store(P + 8, 0x1111);
    cr_assert_eq(warm_load(P + 8), 0x1111);
    OK(mmu_unmap(m, P, 0x1000));
    uint64_t v = 42;
    ERR(mmu_load_u64(m, P + 8, &v), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(v, 42);
    ERR(mmu_store_u64(m, P + 8, 1), MMU_ERR_WRITE_UNMAPPED);
    uint8_t b;
    ERR(mmu_load_u8(m, P, &b), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_load(m, P + 8, &v, 8), MMU_ERR_READ_UNMAPPED);
}

Test(stale, load_after_unmap_of_a_larger_range_faults)
{
    OK(mmu_map(m, P, 0x800000, MMU_PROT_ALL, NULL)); /* more pages than the TLB holds */
    warm_store(P + 0x400008, 5);
    cr_assert_eq(warm_load(P + 0x400008), 5);
    OK(mmu_unmap(m, P, 0x800000));
    uint64_t v;
    ERR(mmu_load_u64(m, P + 0x400008, &v), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_store_u64(m, P + 0x400008, 1), MMU_ERR_WRITE_UNMAPPED);
}

Test(stale, load_after_unmap_all_faults)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_load(P);
    mmu_unmap_all(m);
    uint64_t v;
    ERR(mmu_load_u64(m, P, &v), MMU_ERR_READ_UNMAPPED);
}

Test(stale, load_after_protect_to_no_read_faults)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_store(P, 0x2222);
    cr_assert_eq(warm_load(P), 0x2222);
    OK(mmu_protect(m, P, 0x1000, MMU_PROT_WRITE | MMU_PROT_EXEC));
    uint64_t v = 42;
    ERR(mmu_load_u64(m, P, &v), MMU_ERR_READ_PROT);
    ERR(mmu_load(m, P, &v, 8), MMU_ERR_READ_PROT);
    cr_assert_eq(v, 42);
    OK(mmu_store_u64(m, P, 0x3333)); /* still writable */
    OK(mmu_protect(m, P, 0x1000, MMU_PROT_READ));
    cr_assert_eq(warm_load(P), 0x3333);
}

Test(stale, store_after_protect_to_read_only_faults_and_writes_nothing)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    warm_store(P + 16, 0x4444);
    OK(mmu_protect(m, P, 0x1000, MMU_PROT_READ));
    ERR(mmu_store_u64(m, P + 16, 0x5555), MMU_ERR_WRITE_PROT);
    ERR(mmu_store_u8(m, P + 16, 0x55), MMU_ERR_WRITE_PROT);
    ERR(mmu_store(m, P + 16, "\x55", 1), MMU_ERR_WRITE_PROT);
    cr_assert_eq(rd64(m, P + 16), 0x4444);
    cr_assert_eq(warm_load(P + 16), 0x4444); /* reads still fine */
    OK(mmu_protect(m, P, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE));
    warm_store(P + 16, 0x6666);
    cr_assert_eq(rd64(m, P + 16), 0x6666);
}

Test(stale, protect_of_one_page_inside_a_large_mapping)
{
    OK(mmu_map(m, P, 0x4000000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    warm_store(P + 0x123000, 7);
    warm_store(P + 0x124000, 8);
    OK(mmu_protect(m, P + 0x123000, 0x1000, MMU_PROT_NONE));
    uint64_t v;
    ERR(mmu_load_u64(m, P + 0x123000, &v), MMU_ERR_READ_PROT);
    ERR(mmu_store_u64(m, P + 0x123000, 9), MMU_ERR_WRITE_PROT);
    cr_assert_eq(warm_load(P + 0x124000), 8);
}

Test(stale, remap_with_new_memory_reads_the_new_contents)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_store(P, 0xaaaa);
    cr_assert_eq(warm_load(P), 0xaaaa);
    OK(mmu_unmap(m, P, 0x1000));
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    cr_assert_eq(warm_load(P), 0, "stale host page after remap");
    wr64(m, P, 0xbbbb);
    cr_assert_eq(warm_load(P), 0xbbbb);
}

Test(stale, remap_with_a_host_pointer_reads_and_writes_the_buffer)
{
    static uint64_t buf[512] __attribute__((aligned(4096)));
    buf[0] = 0xcccc;
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_store(P, 0xaaaa);
    OK(mmu_unmap(m, P, 0x1000));
    OK(mmu_map_ptr(m, P, 0x1000, MMU_PROT_ALL, buf, NULL));
    cr_assert_eq(warm_load(P), 0xcccc);
    warm_store(P + 8, 0xdddd);
    cr_assert_eq(buf[1], 0xdddd);
    OK(mmu_unmap(m, P, 0x1000));
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_store(P + 8, 0xeeee);
    cr_assert_eq(buf[1], 0xdddd, "store went to the old host pointer");
}

Test(stale, remap_with_different_perms)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_store(P, 1);
    OK(mmu_unmap(m, P, 0x1000));
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ, NULL));
    ERR(mmu_store_u64(m, P, 2), MMU_ERR_WRITE_PROT);
    OK(mmu_unmap(m, P, 0x1000));
    OK(mmu_map(m, P, 0x1000, MMU_PROT_WRITE, NULL));
    uint64_t v;
    ERR(mmu_load_u64(m, P, &v), MMU_ERR_READ_PROT);
}

Test(stale, unmap_of_the_middle_of_an_entry)
{
    OK(mmu_map(m, P, 0x3000, MMU_PROT_ALL, NULL));
    for (int i = 0; i < 3; i++)
        warm_store(P + i * 0x1000, (uint64_t)i + 1);
    OK(mmu_unmap(m, P + 0x1000, 0x1000));
    uint64_t v;
    ERR(mmu_load_u64(m, P + 0x1000, &v), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(warm_load(P), 1);
    cr_assert_eq(warm_load(P + 0x2000), 3);
}

Test(stale, adding_a_read_hook_takes_the_page_off_the_fast_path)
{
    int calls = 0;
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_load(P);
    mmu_hook_id id;
    OK(mmu_hook_add(m, MMU_HOOK_MEM_READ, count_fn, &calls, P, P + 0xfff, &id));
    uint64_t v;
    OK(mmu_load_u64(m, P, &v));
    OK(mmu_load_u64(m, P + 8, &v));
    cr_assert_eq(calls, 2, "inline load bypassed the hook");
    OK(mmu_hook_del(m, id));
    OK(mmu_load_u64(m, P, &v));
    cr_assert_eq(calls, 2);
}

Test(stale, adding_a_write_hook_takes_the_page_off_the_fast_path)
{
    int calls = 0;
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_store(P, 1);
    mmu_hook_id id;
    OK(mmu_hook_add(m, MMU_HOOK_MEM_WRITE, count_fn, &calls, P + 7, P + 7, &id));
    OK(mmu_store_u64(m, P, 2));
    cr_assert_eq(calls, 1);
    OK(mmu_store_u32(m, P + 0x100, 2)); /* same page, outside the range */
    cr_assert_eq(calls, 1);
    OK(mmu_hook_del(m, id));
    warm_store(P, 3);
    cr_assert_eq(calls, 1);
}

Test(stale, adding_a_fetch_hook_takes_the_page_off_the_fast_path)
{
    int calls = 0;
    uint8_t insn[4];
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_fetch(m, P, insn, 4));
    OK(mmu_fetch(m, P, insn, 4));
    OK(mmu_hook_add(m, MMU_HOOK_MEM_FETCH, count_fn, &calls, 1, 0, NULL));
    OK(mmu_fetch(m, P, insn, 4));
    cr_assert_eq(calls, 1);
}

Test(stale, hook_on_another_page_keeps_this_page_fast)
{
    int calls = 0;
    OK(mmu_map(m, P, 0x2000, MMU_PROT_ALL, NULL));
    OK(mmu_hook_add(m, MMU_HOOK_MEM_READ | MMU_HOOK_MEM_WRITE, count_fn, &calls, P + 0x1000, P + 0x1fff, NULL));
    warm_load(P);
    uint64_t hits = stats_of(m).tlb_hits, v = 0;
    OK(mmu_load_u64(m, P + 8, &v));
    OK(mmu_store_u64(m, P + 8, v));
    cr_assert_eq(stats_of(m).tlb_hits, hits + 2);
    cr_assert_eq(calls, 0);
}

Test(stale, fetch_after_protect_to_no_exec_faults)
{
    uint8_t insn[4];
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_fetch(m, P, insn, 4));
    OK(mmu_fetch(m, P, insn, 4));
    OK(mmu_protect(m, P, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE));
    ERR(mmu_fetch(m, P, insn, 4), MMU_ERR_FETCH_PROT);
    OK(mmu_protect(m, P, 0x1000, MMU_PROT_EXEC));
    OK(mmu_fetch(m, P, insn, 4));
}

Test(stale, set_label_split_keeps_the_data)
{
    OK(mmu_map(m, P, 0x3000, MMU_PROT_ALL, "A"));
    warm_store(P + 0x1008, 0x77);
    OK(mmu_set_label(m, P + 0x1000, 0x1000, "B"));
    cr_assert_eq(warm_load(P + 0x1008), 0x77);
    warm_store(P + 0x1008, 0x78);
    cr_assert_eq(rd64(m, P + 0x1008), 0x78);
}

Test(stale, host_write_is_seen_by_the_next_load)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_load(P);
    wr64(m, P, 0x9999);
    cr_assert_eq(warm_load(P), 0x9999);
}

/* two pages sharing one TLB slot evict each other and keep their data */
Test(stale, pages_sharing_a_tlb_slot)
{
    mmu_t *t;
    mmu_config c = { .tlb_entries = 16 };
    OK(mmu_open(&c, &t));
    const uint64_t a = 0x100000, b = a + 16 * 0x1000;
    OK(mmu_map(t, a, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(t, b, 0x1000, MMU_PROT_READ, NULL));
    OK(mmu_write_ptr(t, b, 0xb, 8, false));
    for (int i = 0; i < 4; i++) {
        uint64_t v;
        OK(mmu_store_u64(t, a, 0xa + i));
        OK(mmu_load_u64(t, b, &v));
        cr_assert_eq(v, 0xb);
        OK(mmu_load_u64(t, a, &v));
        cr_assert_eq(v, 0xa + (uint64_t)i);
        ERR(mmu_store_u64(t, b, 1), MMU_ERR_WRITE_PROT);
    }
    OK(mmu_unmap(t, a, 0x1000));
    uint64_t v;
    ERR(mmu_load_u64(t, a, &v), MMU_ERR_READ_UNMAPPED);
    OK(mmu_load_u64(t, b, &v));
    cr_assert_eq(v, 0xb);
    mmu_close(t);
}

/* ------------------------------------------------------- page crossings */

Test(cross, store_into_unmapped_second_page_writes_nothing)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_store(P + 0xff8, 0x1122334455667788);
    ERR(mmu_store_u64(m, P + 0xffc, 0xffffffffffffffff), MMU_ERR_WRITE_UNMAPPED);
    ERR(mmu_store_u32(m, P + 0xffe, 0xffffffff), MMU_ERR_WRITE_UNMAPPED);
    ERR(mmu_store_u16(m, P + 0xfff, 0xffff), MMU_ERR_WRITE_UNMAPPED);
    ERR(mmu_store(m, P + 0xff0, "0123456789abcdefXYZ", 19), MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(rd64(m, P + 0xff8), 0x1122334455667788);
}

Test(cross, store_into_read_only_second_page_writes_nothing)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, P + 0x1000, 0x1000, MMU_PROT_READ, NULL));
    warm_store(P + 0xff8, 0x1122334455667788);
    warm_load(P + 0x1000);
    ERR(mmu_store_u64(m, P + 0xffc, 0xffffffffffffffff), MMU_ERR_WRITE_PROT);
    ERR(mmu_store_u32(m, P + 0xffd, 0xffffffff), MMU_ERR_WRITE_PROT);
    cr_assert_eq(rd64(m, P + 0xff8), 0x1122334455667788);
    cr_assert_eq(rd64(m, P + 0x1000), 0);
}

Test(cross, store_from_read_only_first_page_writes_nothing)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ, NULL));
    OK(mmu_map(m, P + 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    warm_store(P + 0x1000, 0x55);
    ERR(mmu_store_u64(m, P + 0xffc, 0xffffffffffffffff), MMU_ERR_WRITE_PROT);
    cr_assert_eq(rd64(m, P + 0x1000), 0x55);
}

Test(cross, load_from_unmapped_or_unreadable_second_page_faults)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_load(P + 0xff8);
    uint64_t v = 42;
    ERR(mmu_load_u64(m, P + 0xffc, &v), MMU_ERR_READ_UNMAPPED);
    OK(mmu_map(m, P + 0x1000, 0x1000, MMU_PROT_WRITE, NULL));
    ERR(mmu_load_u64(m, P + 0xffc, &v), MMU_ERR_READ_PROT);
    uint32_t w = 42;
    ERR(mmu_load_u32(m, P + 0xffe, &w), MMU_ERR_READ_PROT);
    cr_assert_eq(v, 42);
    cr_assert_eq(w, 42);
}

Test(cross, loads_and_stores_across_two_entries_compose_the_bytes)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, "a"));
    OK(mmu_map(m, P + 0x1000, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, "b"));
    OK(mmu_write(m, P + 0xffc, "\x01\x02\x03\x04\x05\x06\x07\x08", 8));
    uint64_t v;
    uint32_t w;
    uint16_t h;
    OK(mmu_load_u64(m, P + 0xffc, &v));
    cr_assert_eq(v, 0x0807060504030201);
    OK(mmu_load_u32(m, P + 0xffe, &w));
    cr_assert_eq(w, 0x06050403);
    OK(mmu_load_u16(m, P + 0xfff, &h));
    cr_assert_eq(h, 0x0504);
    OK(mmu_store_u64(m, P + 0xffd, 0x1112131415161718));
    uint8_t b[8];
    OK(mmu_read(m, P + 0xffd, b, 8));
    cr_assert_arr_eq(b, "\x18\x17\x16\x15\x14\x13\x12\x11", 8);
}

Test(cross, misaligned_accesses_within_a_page)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    for (unsigned i = 0; i < 16; i++)
        OK(mmu_store_u8(m, P + i, (uint8_t)(0xa0 + i)));
    for (unsigned off = 1; off < 8; off++) {
        uint64_t v = 0, want = 0;
        uint32_t w = 0;
        uint16_t h = 0;
        for (unsigned k = 0; k < 8; k++)
            want |= (uint64_t)(0xa0 + off + k) << (8 * k);
        OK(mmu_load_u64(m, P + off, &v));
        cr_assert_eq(v, want, "u64 at +%u", off);
        OK(mmu_load_u32(m, P + off, &w));
        cr_assert_eq(w, (uint32_t)want);
        OK(mmu_load_u16(m, P + off, &h));
        cr_assert_eq(h, (uint16_t)want);
    }
    OK(mmu_store_u32(m, P + 0x101, 0xdeadbeef));
    OK(mmu_store_u16(m, P + 0x107, 0xcafe));
    uint8_t b[8];
    OK(mmu_read(m, P + 0x101, b, 8));
    cr_assert_arr_eq(b, "\xef\xbe\xad\xde\x00\x00\xfe\xca", 8);
}

Test(cross, last_bytes_of_the_address_space)
{
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    warm_store(0xfffffffffffffff8, 0x0102030405060708);
    cr_assert_eq(warm_load(0xfffffffffffffff8), 0x0102030405060708);
    uint8_t b;
    OK(mmu_load_u8(m, 0xffffffffffffffff, &b));
    cr_assert_eq(b, 0x01);
    uint64_t v;
    OK(mmu_map(m, 0, 0x1000, MMU_PROT_ALL, NULL)); /* a wrapping access must not reach it */
    ERR(mmu_load_u64(m, 0xfffffffffffffffc, &v), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_store_u16(m, 0xffffffffffffffff, 1), MMU_ERR_WRITE_UNMAPPED);
    OK(mmu_load_u8(m, 0xffffffffffffffff, &b));
    cr_assert_eq(b, 0x01);
    cr_assert_eq(rd64(m, 0), 0);
}

/* ------------------------------------------------------------ byte order */

Test(order, big_endian_typed_loads_and_stores)
{
    mmu_t *be;
    mmu_config c = { .big_endian = true };
    OK(mmu_open(&c, &be));
    OK(mmu_map(be, P, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    OK(mmu_write(be, P, "\x11\x22\x33\x44\x55\x66\x77\x88", 8));
    uint64_t v;
    uint32_t w;
    uint16_t h;
    uint8_t b;
    for (int pass = 0; pass < 2; pass++) { /* miss, then hit */
        OK(mmu_load_u64(be, P, &v));
        cr_assert_eq(v, 0x1122334455667788);
        OK(mmu_load_u32(be, P, &w));
        cr_assert_eq(w, 0x11223344);
        OK(mmu_load_u16(be, P, &h));
        cr_assert_eq(h, 0x1122);
        OK(mmu_load_u8(be, P + 1, &b));
        cr_assert_eq(b, 0x22);
    }
    uint8_t out[8];
    for (int pass = 0; pass < 2; pass++) {
        OK(mmu_store_u32(be, P + 0x10, 0x11223344));
        OK(mmu_read(be, P + 0x10, out, 4));
        cr_assert_arr_eq(out, "\x11\x22\x33\x44", 4);
        OK(mmu_store_u64(be, P + 0x18, 0x0102030405060708));
        OK(mmu_read(be, P + 0x18, out, 8));
        cr_assert_arr_eq(out, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
        OK(mmu_store_u16(be, P + 0x20, 0xabcd));
        OK(mmu_read(be, P + 0x20, out, 2));
        cr_assert_arr_eq(out, "\xab\xcd", 2);
    }
    /* misaligned and page-crossing */
    OK(mmu_store_u64(be, P + 0xffd, 0xa1a2a3a4a5a6a7a8));
    OK(mmu_read(be, P + 0xffd, out, 8));
    cr_assert_arr_eq(out, "\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8", 8);
    OK(mmu_load_u32(be, P + 0xffe, &w));
    cr_assert_eq(w, 0xa2a3a4a5);
    mmu_close(be);
}

Test(order, little_endian_typed_stores_lay_out_bytes)
{
    mmu_t *le;
    OK(mmu_open(NULL, &le));
    OK(mmu_map(le, P, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, NULL));
    uint8_t out[8];
    for (int pass = 0; pass < 2; pass++) {
        OK(mmu_store_u32(le, P, 0x11223344));
        OK(mmu_read(le, P, out, 4));
        cr_assert_arr_eq(out, "\x44\x33\x22\x11", 4);
        OK(mmu_store_u16(le, P + 8, 0xabcd));
        OK(mmu_read(le, P + 8, out, 2));
        cr_assert_arr_eq(out, "\xcd\xab", 2);
    }
    mmu_close(le);
}

/* -------------------------------------------------------------- counters */

Test(counters, second_load_of_a_page_hits)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ, NULL));
    mmu_stats s0 = stats_of(m);
    uint64_t v;
    OK(mmu_load_u64(m, P, &v));
    mmu_stats s1 = stats_of(m);
    cr_assert_eq(s1.tlb_misses, s0.tlb_misses + 1);
    cr_assert_gt(s1.page_walks, s0.page_walks);
    OK(mmu_load_u64(m, P + 8, &v));
    OK(mmu_load_u32(m, P + 16, (uint32_t *)&v));
    mmu_stats s2 = stats_of(m);
    cr_assert_eq(s2.tlb_hits, s1.tlb_hits + 2);
    cr_assert_eq(s2.tlb_misses, s1.tlb_misses);
    cr_assert_eq(s2.page_walks, s1.page_walks, "a hit walked the page table");
}

Test(counters, faults_are_counted)
{
    uint64_t v;
    mmu_stats s0 = stats_of(m);
    ERR(mmu_load_u64(m, P, &v), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(stats_of(m).faults, s0.faults + 1);
}

Test(counters, fresh_map_flushes_nothing)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ, NULL));
    warm_load(P);
    mmu_stats s0 = stats_of(m);
    OK(mmu_map(m, P + 0x1000, 0x1000, MMU_PROT_READ, NULL));
    OK(mmu_map(m, 0x40000000, 0x10000000, MMU_PROT_READ, NULL));
    cr_assert_eq(stats_of(m).tlb_flushes, s0.tlb_flushes);
    uint64_t v;
    OK(mmu_load_u64(m, P, &v));
    cr_assert_eq(stats_of(m).tlb_hits, s0.tlb_hits + 1, "the cached page was dropped");
}

Test(counters, unmap_or_protect_of_one_page_does_not_flush_everything)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ, NULL));
    OK(mmu_map(m, P + 0x10000, 0x2000, MMU_PROT_READ, NULL));
    warm_load(P);
    mmu_stats s0 = stats_of(m);
    OK(mmu_unmap(m, P + 0x10000, 0x1000));
    OK(mmu_protect(m, P + 0x11000, 0x1000, MMU_PROT_NONE));
    cr_assert_eq(stats_of(m).tlb_flushes, s0.tlb_flushes);
    uint64_t v;
    OK(mmu_load_u64(m, P, &v));
    cr_assert_eq(stats_of(m).tlb_hits, s0.tlb_hits + 1, "an unrelated page was dropped");
}

Test(counters, fault_hook_add_flushes_nothing)
{
    OK(mmu_map(m, P, 0x1000, MMU_PROT_READ, NULL));
    warm_load(P);
    mmu_stats s0 = stats_of(m);
    int calls = 0;
    OK(mmu_hook_add(m, MMU_HOOK_MEM_INVALID, count_fn, &calls, 1, 0, NULL));
    cr_assert_eq(stats_of(m).tlb_flushes, s0.tlb_flushes);
}

Test(counters, unmap_larger_than_the_tlb_flushes_it_all)
{
    mmu_t *t;
    mmu_config c = { .tlb_entries = 16 };
    OK(mmu_open(&c, &t));
    OK(mmu_map(t, P, 0x40000, MMU_PROT_READ, NULL)); /* 64 pages */
    uint64_t v;
    OK(mmu_load_u64(t, P, &v));
    mmu_stats s0 = stats_of(t);
    OK(mmu_unmap(t, P, 0x40000));
    cr_assert_eq(stats_of(t).tlb_flushes, s0.tlb_flushes + 1);
    ERR(mmu_load_u64(t, P, &v), MMU_ERR_READ_UNMAPPED);
    mmu_close(t);
}

/* ------------------------------------------------------- code coherence */

Test(code, guest_store_to_fetched_page_changes_the_generation)
{
    uint8_t insn[4];
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    warm_store(P + 0x100, 1); /* a write tag before the page holds code */
    OK(mmu_fetch(m, P, insn, 4));
    uint64_t g = mmu_code_generation(m);
    OK(mmu_store_u8(m, P + 0x100, 2));
    cr_assert_neq(mmu_code_generation(m), g);
}

Test(code, fetch_crossing_into_a_page_marks_it_as_code)
{
    uint8_t insn[8];
    OK(mmu_map(m, P, 0x2000, MMU_PROT_ALL, NULL));
    warm_store(P + 0x1100, 1); /* the second page has a write tag */
    OK(mmu_fetch(m, P + 0xffc, insn, 8));
    uint64_t g = mmu_code_generation(m);
    OK(mmu_store_u8(m, P + 0x1100, 2));
    cr_assert_neq(mmu_code_generation(m), g, "store to the second fetched page went unseen");
}

Test(code, fetch_after_a_host_write_marks_the_page_again)
{
    uint8_t insn[4];
    OK(mmu_map(m, P, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_fetch(m, P, insn, 4));
    OK(mmu_fetch(m, P, insn, 4)); /* fetch tag in the TLB */
    uint64_t g0 = mmu_code_generation(m);
    OK(mmu_write(m, P + 0x10, "\x90", 1));
    cr_assert_neq(mmu_code_generation(m), g0);
    OK(mmu_fetch(m, P, insn, 4)); /* the code is decoded again */
    uint64_t g1 = mmu_code_generation(m);
    OK(mmu_store_u8(m, P + 0x10, 0xcc));
    cr_assert_neq(mmu_code_generation(m), g1, "guest store to re-fetched code went unseen");
}

Test(code, unmap_or_removing_exec_changes_the_generation)
{
    uint8_t insn[4];
    OK(mmu_map(m, P, 0x2000, MMU_PROT_ALL, NULL));
    OK(mmu_fetch(m, P, insn, 4));
    uint64_t g = mmu_code_generation(m);
    OK(mmu_protect(m, P, 0x1000, MMU_PROT_READ));
    cr_assert_neq(mmu_code_generation(m), g);
    OK(mmu_fetch(m, P + 0x1000, insn, 4));
    g = mmu_code_generation(m);
    OK(mmu_unmap(m, P + 0x1000, 0x1000));
    cr_assert_neq(mmu_code_generation(m), g);
}

Test(code, data_pages_never_change_the_generation)
{
    OK(mmu_map(m, P, 0x2000, MMU_PROT_ALL, NULL));
    uint64_t g = mmu_code_generation(m);
    warm_store(P, 1);
    OK(mmu_write(m, P + 0x1000, "x", 1));
    OK(mmu_protect(m, P, 0x2000, MMU_PROT_READ));
    OK(mmu_unmap(m, P, 0x2000));
    cr_assert_eq(mmu_code_generation(m), g);
}
