/*
 * test_access.c - host access (qiling-semantics.md 3.9-3.11): mmu_read /
 * mmu_write ignore perms, cross entries, are all-or-nothing; read_ptr /
 * write_ptr sizes, byte order, signedness and range checks.
 */
#include "core_util.h"

static mmu_t *m;

static void setup(void) { OK(mmu_open(NULL, &m)); }
static void teardown(void) { mmu_close(m); }

TestSuite(rw, .init = setup, .fini = teardown);
TestSuite(ptr, .init = setup, .fini = teardown);
TestSuite(hostptr, .init = setup, .fini = teardown);

/* ------------------------------------------------------------ read/write */

Test(rw, write_then_read_round_trips)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write(m, 0x10010, "hello", 5));
    char buf[6] = { 0 };
    OK(mmu_read(m, 0x10010, buf, 5));
    cr_assert_str_eq(buf, "hello");
}

Test(rw, ignores_perms_none_and_read_only)
{
    /* verified: 8 bytes across a PROT_NONE and a PROT_READ page */
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_NONE, NULL));
    OK(mmu_map(m, 0x11000, 0x1000, MMU_PROT_READ, NULL));
    OK(mmu_write(m, 0x10ffc, "\x01\x02\x03\x04\x05\x06\x07\x08", 8));
    uint8_t b[8];
    OK(mmu_read(m, 0x10ffc, b, 8));
    cr_assert_arr_eq(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    EXPECT_MAP(m, RG(0x10000, 0x11000, 0, NULL), RG(0x11000, 0x12000, 1, NULL));
}

Test(rw, crosses_many_entries_of_every_kind)
{
    static uint8_t host[0x2000] __attribute__((aligned(4096)));
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_READ, "a"));
    OK(mmu_map_ptr(m, 0x12000, 0x2000, MMU_PROT_WRITE, host, "b"));
    OK(mmu_map(m, 0x14000, 0x3000, MMU_PROT_EXEC, "c"));
    OK(mmu_protect(m, 0x15000, 0x1000, MMU_PROT_NONE));
    fill_pattern(m, 0x10800, 0x6000, 11);
    check_pattern(m, 0x10800, 0x6000, 11);
    cr_assert_eq(host[0], (uint8_t)(0x1800 * 31 + 11));
}

Test(rw, partly_unmapped_write_writes_nothing)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x12000, 0x1000, MMU_PROT_ALL, NULL));
    static uint8_t big[0x3000];
    memset(big, 0xee, sizeof big);
    ERR_UNCHANGED(m, mmu_write(m, 0x10ff0, big, 0x20), MMU_ERR_WRITE_UNMAPPED);   /* tail unmapped */
    ERR_UNCHANGED(m, mmu_write(m, 0xfff0, big, 0x20), MMU_ERR_WRITE_UNMAPPED);    /* head unmapped */
    ERR_UNCHANGED(m, mmu_write(m, 0x10000, big, 0x3000), MMU_ERR_WRITE_UNMAPPED); /* hole in the middle */
    uint8_t b;
    OK(mmu_read(m, 0x10ff0, &b, 1));
    cr_assert_eq(b, 0);
}

Test(rw, partly_unmapped_read_fails_and_leaves_dst)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    uint8_t buf[0x20];
    memset(buf, 0x77, sizeof buf);
    ERR(mmu_read(m, 0x10ff0, buf, sizeof buf), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_read(m, 0xfff0, buf, sizeof buf), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_read(m, 0x50000, buf, 1), MMU_ERR_READ_UNMAPPED);
    for (size_t i = 0; i < sizeof buf; i++)
        cr_assert_eq(buf[i], 0x77);
}

Test(rw, size_zero_succeeds_anywhere)
{
    uint8_t b = 0x42;
    OK(mmu_read(m, 0x12345, &b, 0));
    OK(mmu_write(m, 0x12345, &b, 0));
    OK(mmu_read(m, 0xffffffffffffffff, NULL, 0));
    OK(mmu_write(m, 0, NULL, 0));
    cr_assert_eq(b, 0x42);
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
}

Test(rw, last_bytes_of_the_space_and_wrap)
{
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_NONE, NULL));
    OK(mmu_map(m, 0, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write(m, 0xfffffffffffffffe, "\xaa\xbb", 2));
    uint8_t b[4] = { 0 };
    OK(mmu_read(m, 0xfffffffffffffffe, b, 2));
    cr_assert_arr_eq(b, "\xaa\xbb", 2);
    /* never wraps into page 0, even though it is mapped */
    ERR_UNCHANGED(m, mmu_write(m, 0xfffffffffffffffe, "1234", 4), MMU_ERR_WRITE_UNMAPPED);
    ERR(mmu_read(m, 0xfffffffffffffffe, b, 4), MMU_ERR_READ_UNMAPPED);
}

Test(rw, large_copy_over_many_pages)
{
    const size_t size = 3 << 20;
    OK(mmu_map(m, 0x400000, 0x100000, MMU_PROT_ALL, "a"));
    OK(mmu_map(m, 0x500000, 0x200000, MMU_PROT_READ, "b"));
    OK(mmu_protect(m, 0x480000, 0x100000, MMU_PROT_NONE));
    uint8_t *src = malloc(size), *dst = malloc(size);
    for (size_t i = 0; i < size; i++)
        src[i] = (uint8_t)(i * 7 + (i >> 12));
    OK(mmu_write(m, 0x400000, src, size));
    OK(mmu_read(m, 0x400000, dst, size));
    cr_assert_arr_eq(src, dst, size);
    OK(mmu_read(m, 0x4ffff0, dst, 0x20));
    cr_assert_arr_eq(dst, src + 0xffff0, 0x20);
    free(src), free(dst);
}

Test(rw, write_after_split_lands_in_the_right_piece)
{
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, NULL));
    OK(mmu_protect(m, 0x11000, 0x2000, MMU_PROT_READ));
    OK(mmu_write(m, 0x11ffe, "\x01\x02\x03\x04", 4));
    uint8_t b[4];
    OK(mmu_read(m, 0x11ffe, b, 4));
    cr_assert_arr_eq(b, "\x01\x02\x03\x04", 4);
    OK(mmu_unmap(m, 0x10000, 0x1000));
    OK(mmu_read(m, 0x11ffe, b, 4));
    cr_assert_arr_eq(b, "\x01\x02\x03\x04", 4);
}

/* ------------------------------------------------------------- pointers */

Test(ptr, every_size_little_endian)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_NONE, NULL));
    OK(mmu_write(m, 0x10000, "\x11\x22\x33\x44\x55\x66\x77\x88", 8));
    uint64_t v;
    OK(mmu_read_ptr(m, 0x10000, 1, false, &v));
    cr_assert_eq(v, 0x11);
    OK(mmu_read_ptr(m, 0x10000, 2, false, &v));
    cr_assert_eq(v, 0x2211);
    OK(mmu_read_ptr(m, 0x10000, 4, false, &v));
    cr_assert_eq(v, 0x44332211);
    OK(mmu_read_ptr(m, 0x10000, 8, false, &v));
    cr_assert_eq(v, 0x8877665544332211);
    OK(mmu_read_ptr(m, 0x10000, 0, false, &v)); /* 0 = ptr_size, 8 by default */
    cr_assert_eq(v, 0x8877665544332211);
}

Test(ptr, write_every_size_little_endian)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_READ, NULL));
    uint8_t b[8];
    OK(mmu_write_ptr(m, 0x10000, 0x8877665544332211, 8, false));
    OK(mmu_read(m, 0x10000, b, 8));
    cr_assert_arr_eq(b, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    OK(mmu_write_ptr(m, 0x10000, 0xaabbccdd, 4, false));
    OK(mmu_write_ptr(m, 0x10004, 0xeeff, 2, false));
    OK(mmu_write_ptr(m, 0x10006, 0x99, 1, false));
    OK(mmu_read(m, 0x10000, b, 8));
    cr_assert_arr_eq(b, "\xdd\xcc\xbb\xaa\xff\xee\x99\x88", 8);
}

Test(ptr, size_zero_follows_ptr_size)
{
    mmu_t *m4;
    mmu_config c = { .ptr_size = 4 };
    OK(mmu_open(&c, &m4));
    OK(mmu_map(m4, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write(m4, 0x10000, "\x11\x22\x33\x44\x55\x66\x77\x88", 8));
    uint64_t v;
    OK(mmu_read_ptr(m4, 0x10000, 0, false, &v));
    cr_assert_eq(v, 0x44332211);
    ERR_UNCHANGED(m4, mmu_write_ptr(m4, 0x10000, 0x100000000, 0, false), MMU_ERR_ARG);
    OK(mmu_write_ptr(m4, 0x10000, 0xffffffff, 0, false));
    OK(mmu_read_ptr(m4, 0x10000, 8, false, &v));
    cr_assert_eq(v, 0x88776655ffffffff);
    mmu_close(m4);
}

Test(ptr, big_endian_config)
{
    mmu_t *be;
    mmu_config c = { .big_endian = true, .ptr_size = 4 };
    OK(mmu_open(&c, &be));
    OK(mmu_map(be, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write(be, 0x10000, "\x11\x22\x33\x44", 4));
    uint64_t v;
    OK(mmu_read_ptr(be, 0x10000, 4, false, &v));
    cr_assert_eq(v, 0x11223344); /* verified */
    OK(mmu_read_ptr(be, 0x10000, 2, false, &v));
    cr_assert_eq(v, 0x1122);
    OK(mmu_write_ptr(be, 0x10010, 0x0102030405060708, 8, false));
    uint8_t b[8];
    OK(mmu_read(be, 0x10010, b, 8));
    cr_assert_arr_eq(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    OK(mmu_write_ptr(be, 0x10020, (uint64_t)-2, 2, true));
    OK(mmu_read(be, 0x10020, b, 2));
    cr_assert_arr_eq(b, "\xff\xfe", 2);
    OK(mmu_read_ptr(be, 0x10020, 2, true, &v));
    cr_assert_eq((int64_t)v, -2);
    mmu_close(be);
}

Test(ptr, signed_minus_one_size_2)
{
    /* verified: write_ptr(a, -1, 2, signed=True) writes ff ff; it reads
     * back as -1 signed and 65535 unsigned */
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write_ptr(m, 0x10000, (uint64_t)-1, 2, true));
    uint8_t b[3];
    OK(mmu_read(m, 0x10000, b, 3));
    cr_assert_arr_eq(b, "\xff\xff\x00", 3);
    uint64_t v;
    OK(mmu_read_ptr(m, 0x10000, 2, true, &v));
    cr_assert_eq((int64_t)v, -1);
    OK(mmu_read_ptr(m, 0x10000, 2, false, &v));
    cr_assert_eq(v, 65535);
}

Test(ptr, sign_extension_for_each_size)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write(m, 0x10000, "\x80\x00\x00\x80\x00\x00\x00\x80", 8));
    uint64_t v;
    OK(mmu_read_ptr(m, 0x10000, 1, true, &v));
    cr_assert_eq((int64_t)v, -128);
    OK(mmu_read_ptr(m, 0x10003, 1, true, &v));
    cr_assert_eq((int64_t)v, -128);
    OK(mmu_read_ptr(m, 0x10002, 2, true, &v));
    cr_assert_eq((int64_t)v, -32768);
    OK(mmu_read_ptr(m, 0x10000, 4, true, &v));
    cr_assert_eq((int64_t)v, (int32_t)0x80000080);
    OK(mmu_read_ptr(m, 0x10000, 8, true, &v));
    cr_assert_eq(v, 0x8000000080000080);
    OK(mmu_read_ptr(m, 0x10001, 2, true, &v)); /* positive: no extension */
    cr_assert_eq(v, 0);
}

Test(ptr, bad_sizes_are_arg)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    static const unsigned bad[] = { 3, 5, 6, 7, 9, 16, 32, 0x80000000u };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint64_t v = 42;
        ERR(mmu_read_ptr(m, 0x10000, bad[i], false, &v), MMU_ERR_ARG);
        cr_assert_eq(v, 42);
        ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, 1, bad[i], false), MMU_ERR_ARG);
    }
}

Test(ptr, value_too_wide_is_arg)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, 0x100000000, 4, false), MMU_ERR_ARG); /* verified 2^32 */
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, (uint64_t)-1, 4, false), MMU_ERR_ARG); /* negative unsigned */
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, (uint64_t)-1, 1, false), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, 0x100, 1, false), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, 0x10000, 2, false), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, 0x80, 1, true), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, (uint64_t)-129, 1, true), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, 0x8000, 2, true), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, 0xffff, 2, true), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, (uint64_t)-32769, 2, true), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, 0x80000000, 4, true), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10000, (uint64_t)INT32_MIN - 1, 4, true), MMU_ERR_ARG);
}

Test(ptr, values_at_the_edges_fit)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    uint64_t v;
    OK(mmu_write_ptr(m, 0x10000, 0xff, 1, false));
    OK(mmu_write_ptr(m, 0x10000, (uint64_t)-128, 1, true));
    OK(mmu_read_ptr(m, 0x10000, 1, false, &v));
    cr_assert_eq(v, 0x80);
    OK(mmu_write_ptr(m, 0x10000, 0x7f, 1, true));
    OK(mmu_write_ptr(m, 0x10000, 0xffff, 2, false));
    OK(mmu_write_ptr(m, 0x10000, 0x7fff, 2, true));
    OK(mmu_write_ptr(m, 0x10000, (uint64_t)-32768, 2, true));
    OK(mmu_write_ptr(m, 0x10000, 0xffffffff, 4, false));
    OK(mmu_write_ptr(m, 0x10000, (uint64_t)INT32_MIN, 4, true));
    OK(mmu_read_ptr(m, 0x10000, 4, true, &v));
    cr_assert_eq((int64_t)v, INT32_MIN);
    OK(mmu_write_ptr(m, 0x10000, UINT64_MAX, 8, false));
    OK(mmu_write_ptr(m, 0x10000, (uint64_t)INT64_MIN, 8, true));
    OK(mmu_read_ptr(m, 0x10000, 8, true, &v));
    cr_assert_eq(v, (uint64_t)INT64_MIN);
}

Test(ptr, unmapped_is_an_error_and_leaves_out)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    uint64_t v = 42;
    ERR(mmu_read_ptr(m, 0x20000, 8, false, &v), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_read_ptr(m, 0x10ffc, 8, false, &v), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(v, 42);
    ERR_UNCHANGED(m, mmu_write_ptr(m, 0x10ffc, 1, 8, false), MMU_ERR_WRITE_UNMAPPED);
}

Test(ptr, crosses_entries_and_ignores_perms)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_NONE, NULL));
    OK(mmu_map(m, 0x11000, 0x1000, MMU_PROT_EXEC, NULL));
    OK(mmu_write_ptr(m, 0x10ffd, 0x0102030405060708, 8, false));
    uint64_t v;
    OK(mmu_read_ptr(m, 0x10ffd, 8, false, &v));
    cr_assert_eq(v, 0x0102030405060708);
}

/* ------------------------------------------------------- host pointers */

Test(hostptr, reads_and_writes_the_guest_bytes)
{
    OK(mmu_map(m, 0x10000, 0x3000, MMU_PROT_READ, "ram"));
    OK(mmu_write(m, 0x10ff8, "abcdefghij", 10));
    uint8_t *p = NULL;
    OK(mmu_host_ptr(m, 0x10ff8, 10, 0, (void **)&p));
    cr_assert_arr_eq(p, "abcdefghij", 10, "reads see the bytes");
    OK(mmu_write(m, 0x10ff8, "X", 1));
    cr_assert_eq(p[0], 'X', "and later writes");
    OK(mmu_protect(m, 0x11000, 0x1000, MMU_PROT_NONE)); /* split: still one host range */
    uint8_t *q = NULL;
    OK(mmu_host_ptr(m, 0x10000, 0x3000, MMU_HOST_WRITE, (void **)&q));
    cr_assert_eq(q + 0xff8, p, "pieces of one mapping stay contiguous");
    q[0x2000] = 7;
    uint8_t b;
    OK(mmu_read(m, 0x12000, &b, 1));
    cr_assert_eq(b, 7, "writes through it are guest memory");
}

Test(hostptr, errors_leave_out_untouched)
{
    OK(mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x11000, 0x1000, MMU_PROT_ALL, NULL)); /* adjacent, another mapping */
    OK(mmu_map_mmio(m, 0x20000, 0x1000, NULL, NULL, NULL, NULL));
    void *p = (void *)0x1234;
    ERR(mmu_host_ptr(NULL, 0x10000, 1, 0, &p), MMU_ERR_ARG);
    ERR(mmu_host_ptr(m, 0x10000, 1, 0, NULL), MMU_ERR_ARG);
    ERR(mmu_host_ptr(m, 0x10000, 0, 0, &p), MMU_ERR_ARG);
    ERR(mmu_host_ptr(m, 0x10000, 1, 2, &p), MMU_ERR_ARG);
    ERR(mmu_host_ptr(m, UINT64_MAX, 2, 0, &p), MMU_ERR_ARG);
    ERR(mmu_host_ptr(m, 0x20000, 1, 0, &p), MMU_ERR_ARG);
    ERR(mmu_host_ptr(m, 0x30000, 1, 0, &p), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_host_ptr(m, 0x11800, 0x1000, 0, &p), MMU_ERR_READ_UNMAPPED);
    mmu_err e = mmu_host_ptr(m, 0x10800, 0x1000, 0, &p); /* two mappings: contiguous only by chance */
    cr_assert(e == MMU_OK || e == MMU_ERR_ARG);
    if (e)
        cr_assert_eq(p, (void *)0x1234, "out-param touched");
}

Test(hostptr, writable_pointer_is_exact_for_snapshots_and_code)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, NULL));
    OK(mmu_write(m, 0x10000, "\x90\x90", 2));
    uint8_t code[2];
    OK(mmu_fetch(m, 0x10000, code, 2));
    uint64_t before = mmu_digest(m);
    mmu_snapshot *s;
    OK(mmu_snapshot_save(m, &s));
    uint64_t gen = mmu_code_generation(m);
    uint8_t *p;
    OK(mmu_host_ptr(m, 0x10000, 0x2000, MMU_HOST_WRITE, (void **)&p));
    cr_assert_neq(mmu_code_generation(m), gen, "decoded code over the range is dropped");
    p[0] = 0xcc;
    p[0x1800] = 0x55; /* a page never touched before */
    cr_assert_neq(mmu_digest(m), before);
    OK(mmu_snapshot_restore(m, s));
    cr_assert_eq(mmu_digest(m), before, "the snapshot saved the pages before the writes");
    cr_assert_eq(p[0], 0x90);
    cr_assert_eq(p[0x1800], 0);
    mmu_snapshot_free(s);
}
