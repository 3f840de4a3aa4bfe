/*
 * test_mapinfo.c - mmu_format_mapinfo against Qiling's get_formatted_mapinfo
 * (expected strings produced by Qiling's own f-strings in python3),
 * mmu_lib_base against get_lib_base, and mmu_set_label against
 * change_mapinfo(new_info=...).
 */
#include "test_util.h"
#include "alloc.h"

static mmu_t *m;

static void setup(void) { OK(mmu_open(NULL, &m)); }
static void teardown(void)
{
    sm_alloc_fail_after(-1);
    mmu_close(m);
}

TestSuite(mapinfo, .init = setup, .fini = teardown);
TestSuite(lib_base, .init = setup, .fini = teardown);
TestSuite(set_label, .init = setup, .fini = teardown);

/* the verified sample of qiling-semantics.md 3.14 */
static const char sample[] =
    "Start            End              Perm    Label              Image\n"
    "00000000001000 - 00000000002000   rwx     [mapped]           \n"
    "00555555554000 - 00555555555000   r-x     /bin/x8664_hello   \n"
    "007ffffffde000 - 007ffffffff000   rw-     [stack]            ";

static void map_sample(void)
{
    OK(mmu_map(m, 0x7ffffffde000, 0x21000, MMU_PROT_READ | MMU_PROT_WRITE, "[stack]"));
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map(m, 0x555555554000, 0x1000, MMU_PROT_READ | MMU_PROT_EXEC, "/bin/x8664_hello"));
}

Test(mapinfo, reproduces_qiling_sample_byte_for_byte)
{
    map_sample();
    char buf[512];
    size_t len = 0;
    OK(mmu_format_mapinfo(m, buf, sizeof buf, &len));
    cr_assert_str_eq(buf, sample);
    cr_assert_eq(len, sizeof sample - 1);
    cr_assert_eq(len, 252); /* len() of Qiling's '\n'.join(lines) */
}

Test(mapinfo, exact_fit_buffer_succeeds_and_out_len_may_be_null)
{
    map_sample();
    char buf[sizeof sample];
    OK(mmu_format_mapinfo(m, buf, sizeof buf, NULL));
    cr_assert_str_eq(buf, sample);
}

Test(mapinfo, short_buffer_reports_needed_length_and_leaves_buf_untouched)
{
    map_sample();
    char buf[sizeof sample];
    memset(buf, 'Z', sizeof buf);
    size_t len = 0;
    /* room for the text but not the NUL */
    ERR(mmu_format_mapinfo(m, buf, sizeof sample - 1, &len), MMU_ERR_ARG);
    cr_assert_eq(len, sizeof sample - 1);
    for (size_t i = 0; i < sizeof buf; i++)
        cr_assert_eq(buf[i], 'Z', "byte %zu written", i);
}

Test(mapinfo, null_buffer_with_zero_cap_is_a_size_query)
{
    map_sample();
    size_t len = 0;
    ERR(mmu_format_mapinfo(m, NULL, 0, &len), MMU_ERR_ARG);
    cr_assert_eq(len, sizeof sample - 1);
}

Test(mapinfo, bad_arguments)
{
    char buf[8];
    size_t len = 77;
    ERR(mmu_format_mapinfo(NULL, buf, sizeof buf, &len), MMU_ERR_ARG);
    ERR(mmu_format_mapinfo(m, NULL, 8, &len), MMU_ERR_ARG);
    cr_assert_eq(len, 77);
}

Test(mapinfo, nothing_mapped_gives_empty_string)
{
    char buf[4] = "xyz";
    size_t len = 9;
    OK(mmu_format_mapinfo(m, buf, sizeof buf, &len));
    cr_assert_str_eq(buf, "");
    cr_assert_eq(len, 0);
}

Test(mapinfo, region_ending_at_2_pow_64_prints_17_digit_end_and_utf8_label_pads_by_code_points)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_READ, "h\xc3\xa9llo"));
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_NONE, "x"));
    /* python3: len_addr = len(f'{2**64:#x}') = 19; len('héllo') = 5 */
    static const char want[] = "Start                 End                   Perm    Label   Image\n"
                               "0000000000000001000 - 0000000000000002000   r--     h\xc3\xa9llo   \n"
                               "000fffffffffffff000 - 0010000000000000000   ---     x       ";
    char buf[256];
    size_t len;
    OK(mmu_format_mapinfo(m, buf, sizeof buf, &len));
    cr_assert_str_eq(buf, want);
    cr_assert_eq(len, sizeof want - 1);
}

static uint64_t dev_read(void *user, uint64_t off, unsigned size)
{
    (void)user, (void)off, (void)size;
    return 0;
}

Test(mapinfo, mmio_row_shows_its_perms_and_default_label)
{
    OK(mmu_map_mmio(m, 0x10000, 0x1000, dev_read, NULL, NULL, NULL));
    OK(mmu_map(m, 0x2000, 0x2000, MMU_PROT_WRITE, "ab"));
    /* python3: len_addr = len('0x11000') = 7 */
    static const char want[] = "Start     End       Perm    Label    Image\n"
                               "0002000 - 0004000   -w-     ab       \n"
                               "0010000 - 0011000   r--     [mmio]   ";
    char buf[256];
    OK(mmu_format_mapinfo(m, buf, sizeof buf, NULL));
    cr_assert_str_eq(buf, want);
}

Test(mapinfo, split_entries_are_listed_separately)
{
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, "A"));
    OK(mmu_protect(m, 0x11234, 0x10, MMU_PROT_READ));
    /* python3: "A" is shorter than "Label", which is not cut */
    static const char want[] = "Start     End       Perm    Label   Image\n"
                               "0010000 - 0011000   rwx     A   \n"
                               "0011000 - 0012000   r--     A   \n"
                               "0012000 - 0014000   rwx     A   ";
    char buf[256];
    OK(mmu_format_mapinfo(m, buf, sizeof buf, NULL));
    cr_assert_str_eq(buf, want);
}

/* ---------------------------------------------------------------- lib_base */

static uint64_t base_of(const char *name)
{
    uint64_t a = 0xdead;
    OK(mmu_lib_base(m, name, &a));
    return a;
}

Test(lib_base, qiling_verified_table)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, "[mmap] libc.so.6"));
    OK(mmu_map(m, 0x3000, 0x1000, MMU_PROT_ALL, "/lib/x86_64-linux-gnu/libc.so.6"));
    cr_assert_eq(base_of("libc.so.6"), 0x1000);
    uint64_t a = 0xdead;
    ERR(mmu_lib_base(m, "libc", &a), MMU_ERR_NOTFOUND);
    ERR(mmu_lib_base(m, "LIBC.so.6", &a), MMU_ERR_NOTFOUND);
    cr_assert_eq(a, 0xdead);
}

Test(lib_base, lowest_address_wins_whatever_the_map_order)
{
    OK(mmu_map(m, 0x9000, 0x1000, MMU_PROT_ALL, "/usr/lib/libz.so"));
    OK(mmu_map(m, 0x5000, 0x1000, MMU_PROT_ALL, "libz.so"));
    cr_assert_eq(base_of("libz.so"), 0x5000);
}

/* each label's re.sub(r'^\[.+\]\s*', '', label), checked in python3 */
Test(lib_base, boxed_prefix_is_stripped_as_python_re_does)
{
    static const struct {
        const char *label, *name;
    } rows[] = {
        { "[a] [b] x", "x" },            /* greedy: the box runs to the last ']' */
        { "[a] b]  c", "c" },
        { "[a]t", "t" },                 /* \s* may be empty */
        { "[]] y", "y" },                /* '.+' may be a ']' */
        { "[] x", "[] x" },              /* '.+' needs one char: no box */
        { "[a]\n[b] x", "[b] x" },       /* '.' stops at a newline */
        { "[a\n] q", "[a\n] q" },
        { "[x]\xc2\xa0u", "u" },         /* U+00A0 is \s for a str pattern */
        { "[x]\x1f\x0bz", "z" },
        { "[mmap] /opt/lib/libfoo.so", "libfoo.so" },
        { "dir/[k] w", "[k] w" },        /* only a leading box */
    };
    size_t n = sizeof rows / sizeof *rows;
    for (size_t i = 0; i < n; i++)
        OK(mmu_map(m, 0x1000 * (i + 1), 0x1000, MMU_PROT_ALL, rows[i].label));
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(base_of(rows[i].name), 0x1000 * (i + 1), "row %zu", i);
}

Test(lib_base, bare_box_label_leaves_empty_basename)
{
    OK(mmu_map(m, 0x4000, 0x1000, MMU_PROT_ALL, NULL)); /* "[mapped]" -> "" */
    cr_assert_eq(base_of(""), 0x4000);
}

Test(lib_base, bad_arguments_and_empty_map)
{
    uint64_t a = 1;
    ERR(mmu_lib_base(m, "x", &a), MMU_ERR_NOTFOUND);
    ERR(mmu_lib_base(NULL, "x", &a), MMU_ERR_ARG);
    ERR(mmu_lib_base(m, NULL, &a), MMU_ERR_ARG);
    ERR(mmu_lib_base(m, "x", NULL), MMU_ERR_ARG);
    cr_assert_eq(a, 1);
}

/* --------------------------------------------------------------- set_label */

typedef struct want_region {
    uint64_t start, end;
    unsigned perms;
    const char *label;
} want_region;

static void assert_map(const want_region *w, size_t n)
{
    mmu_region r[16];
    size_t got = mmu_regions(m, r, 16);
    cr_assert_eq(got, n, "%zu regions, want %zu", got, n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(r[i].start, w[i].start, "region %zu start %#lx", i, (unsigned long)r[i].start);
        cr_assert_eq(r[i].end, w[i].end, "region %zu end %#lx", i, (unsigned long)r[i].end);
        cr_assert_eq(r[i].perms, w[i].perms, "region %zu perms", i);
        cr_assert_str_eq(r[i].label, w[i].label, "region %zu", i);
    }
}

Test(set_label, splits_one_entry_like_change_mapinfo)
{
    /* verified: change_mapinfo(0x11000, 0x12000, new_info='B') on 'A' gives A|B|A */
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_ALL, "A"));
    OK(mmu_set_label(m, 0x11000, 0x1000, "B"));
    want_region w[] = { { 0x10000, 0x11000, 7, "A" }, { 0x11000, 0x12000, 7, "B" }, { 0x12000, 0x14000, 7, "A" } };
    assert_map(w, 3);
}

Test(set_label, widens_to_pages_and_keeps_perms)
{
    OK(mmu_map(m, 0x10000, 0x4000, MMU_PROT_READ, "A"));
    OK(mmu_set_label(m, 0x11ff0, 0x20, "B")); /* touches 0x11000 and 0x12000 */
    want_region w[] = { { 0x10000, 0x11000, 1, "A" }, { 0x11000, 0x13000, 1, "B" }, { 0x13000, 0x14000, 1, "A" } };
    assert_map(w, 3);
}

Test(set_label, spans_several_entries_and_splits_both_ends)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_READ, "A"));
    OK(mmu_map(m, 0x12000, 0x1000, MMU_PROT_WRITE, "M"));
    OK(mmu_map(m, 0x13000, 0x2000, MMU_PROT_EXEC, "C"));
    OK(mmu_set_label(m, 0x11000, 0x3000, "new"));
    want_region w[] = { { 0x10000, 0x11000, 1, "A" }, { 0x11000, 0x12000, 1, "new" }, { 0x12000, 0x13000, 2, "new" },
                        { 0x13000, 0x14000, 4, "new" }, { 0x14000, 0x15000, 4, "C" } };
    assert_map(w, 5);
}

Test(set_label, whole_entry_is_relabelled_without_split_and_empty_means_mapped)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    OK(mmu_set_label(m, 0x10000, 0x2000, ""));
    want_region w[] = { { 0x10000, 0x12000, 7, "[mapped]" } };
    assert_map(w, 1);
    OK(mmu_set_label(m, 0x10000, 0x2000, "Z"));
    OK(mmu_set_label(m, 0x10000, 0x2000, NULL));
    assert_map(w, 1);
}

Test(set_label, relabelled_entry_is_found_by_lib_base)
{
    OK(mmu_map(m, 0x10000, 0x3000, MMU_PROT_ALL, "anon"));
    OK(mmu_set_label(m, 0x11000, 0x1000, "[mmap] libq.so"));
    cr_assert_eq(base_of("libq.so"), 0x11000);
}

Test(set_label, errors_change_nothing)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_ALL, "A"));
    OK(mmu_map(m, 0x13000, 0x1000, MMU_PROT_ALL, "B")); /* hole at 0x12000 */
    ERR_UNCHANGED(m, mmu_set_label(m, 0x11000, 0x3000, "X"), MMU_ERR_UNMAPPED);
    ERR_UNCHANGED(m, mmu_set_label(m, 0x20000, 0x1000, "X"), MMU_ERR_UNMAPPED);
    ERR_UNCHANGED(m, mmu_set_label(m, 0x10000, 0, "X"), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_set_label(m, 0xfffffffffffff000, 0x2000, "X"), MMU_ERR_ARG); /* wraps */
    ERR(mmu_set_label(NULL, 0x10000, 0x1000, "X"), MMU_ERR_ARG);
    want_region w[] = { { 0x10000, 0x12000, 7, "A" }, { 0x13000, 0x14000, 7, "B" } };
    assert_map(w, 2);
}

Test(set_label, beyond_a_32_bit_space_is_a_range_error)
{
    mmu_t *m32;
    mmu_config c = { .addr_bits = 32 };
    OK(mmu_open(&c, &m32));
    ERR(mmu_set_label(m32, 0x100000000, 0x1000, "X"), MMU_ERR_RANGE);
    mmu_close(m32);
}

Test(set_label, out_of_memory_at_each_allocation_changes_nothing)
{
    OK(mmu_map(m, 0x10000, 0x2000, MMU_PROT_READ, "A"));
    OK(mmu_map(m, 0x12000, 0x2000, MMU_PROT_WRITE, "B"));
    uint64_t before = mmu_digest(m);
    mmu_err err = MMU_ERR_NOMEM;
    long i;
    for (i = 0; err == MMU_ERR_NOMEM && i < 50; i++) {
        sm_alloc_fail_after(i);
        err = mmu_set_label(m, 0x11000, 0x2000, "X");
        sm_alloc_fail_after(-1);
        if (err == MMU_ERR_NOMEM)
            cr_assert_eq(mmu_digest(m), before, "failure %ld changed the state", i);
    }
    OK(err);
    cr_assert_gt(i, 1, "no allocation was failed");
    want_region w[] = { { 0x10000, 0x11000, 1, "A" }, { 0x11000, 0x12000, 1, "X" }, { 0x12000, 0x13000, 2, "X" },
                        { 0x13000, 0x14000, 2, "B" } };
    assert_map(w, 4);
}
