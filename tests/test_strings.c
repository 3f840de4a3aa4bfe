/*
 * test_strings.c - mmu_read_string / mmu_write_string: page crossings,
 * the cap bound, unmapped tails, the end of the address space, MMIO.
 */
#include "test_util.h"

static mmu_t *m;

static void setup(void) { OK(mmu_open(NULL, &m)); }
static void teardown(void) { mmu_close(m); }

TestSuite(strings, .init = setup, .fini = teardown);

/* fills [addr, addr+n) with a repeating non-NUL byte sequence */
static void fill(uint64_t addr, size_t n)
{
    char chunk[256];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)('a' + i % 26);
    for (size_t done = 0; done < n;) {
        size_t k = n - done < sizeof chunk ? n - done : sizeof chunk;
        OK(mmu_write(m, addr + done, chunk, k));
        done += k;
    }
}

static void assert_untouched(const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(buf[i], '#', "buf[%zu] written", i);
}

Test(strings, reads_a_string_within_one_page)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write_string(m, 0x1100, "hello"));
    char buf[16];
    size_t len = 0;
    OK(mmu_read_string(m, 0x1100, buf, sizeof buf, &len));
    cr_assert_str_eq(buf, "hello");
    cr_assert_eq(len, 5);
}

Test(strings, empty_string_and_null_out_len)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    char buf[4] = "xyz";
    OK(mmu_read_string(m, 0x1000, buf, sizeof buf, NULL));
    cr_assert_str_eq(buf, "");
}

Test(strings, string_spanning_three_page_boundaries)
{
    OK(mmu_map(m, 0x10000, 0x5000, MMU_PROT_ALL, NULL));
    uint64_t a = 0x10ff0;
    size_t n = 0x3020; /* 0x10ff0 .. 0x1400f: four pages touched */
    fill(a, n);
    static char buf[0x4000], want[0x4000];
    OK(mmu_read(m, a, want, n));
    size_t len;
    OK(mmu_read_string(m, a, buf, sizeof buf, &len));
    cr_assert_eq(len, n);
    cr_assert_eq(memcmp(buf, want, n), 0);
    cr_assert_eq(buf[n], '\0');
}

Test(strings, string_crossing_adjacent_regions_and_prot_none)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_NONE, "a"));
    OK(mmu_map(m, 0x2000, 0x1000, MMU_PROT_NONE, "b"));
    OK(mmu_write(m, 0x1ffd, "abcdef", 7));
    char buf[8];
    size_t len;
    OK(mmu_read_string(m, 0x1ffd, buf, sizeof buf, &len));
    cr_assert_str_eq(buf, "abcdef");
    cr_assert_eq(len, 6);
}

Test(strings, string_running_into_unmapped_page_fails_and_leaves_buf)
{
    OK(mmu_map(m, 0x1000, 0x2000, MMU_PROT_ALL, NULL));
    fill(0x1800, 0x1800); /* no NUL up to the end of the mapping */
    char buf[0x4000];
    memset(buf, '#', sizeof buf);
    size_t len = 99;
    ERR(mmu_read_string(m, 0x1800, buf, sizeof buf, &len), MMU_ERR_READ_UNMAPPED);
    assert_untouched(buf, sizeof buf);
    cr_assert_eq(len, 99);
}

Test(strings, unmapped_start_is_read_unmapped)
{
    char buf[8];
    memset(buf, '#', sizeof buf);
    ERR(mmu_read_string(m, 0x5000, buf, sizeof buf, NULL), MMU_ERR_READ_UNMAPPED);
    assert_untouched(buf, sizeof buf);
}

Test(strings, cap_bounds_the_length)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_write_string(m, 0x1000, "hello"));
    char buf[8];
    memset(buf, '#', sizeof buf);
    size_t len = 99;
    /* "hello" needs 6 bytes with its NUL */
    ERR(mmu_read_string(m, 0x1000, buf, 5, &len), MMU_ERR_NOTFOUND);
    assert_untouched(buf, sizeof buf);
    cr_assert_eq(len, 99);
    OK(mmu_read_string(m, 0x1000, buf, 6, &len));
    cr_assert_str_eq(buf, "hello");
    cr_assert_eq(len, 5);
    cr_assert_eq(buf[6], '#');
}

Test(strings, bound_reached_before_unmapped_byte_is_notfound)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    fill(0x1000, 0x1000);
    char buf[0x1000];
    ERR(mmu_read_string(m, 0x1000, buf, 0x1000, NULL), MMU_ERR_NOTFOUND);   /* all 4096 bytes mapped */
    ERR(mmu_read_string(m, 0x1000, buf, 0x1001, NULL), MMU_ERR_READ_UNMAPPED); /* byte 4096 is not */
}

Test(strings, does_not_wrap_past_the_end_of_the_address_space)
{
    OK(mmu_map(m, 0, 0x1000, MMU_PROT_ALL, NULL)); /* reads as zeros: a NUL at 0 */
    OK(mmu_map(m, 0xfffffffffffff000, 0x1000, MMU_PROT_ALL, NULL));
    fill(0xfffffffffffff000, 0x1000);
    char buf[0x2000];
    ERR(mmu_read_string(m, 0xffffffffffffff00, buf, sizeof buf, NULL), MMU_ERR_READ_UNMAPPED);
    OK(mmu_write(m, 0xffffffffffffffff, "", 1));
    size_t len;
    OK(mmu_read_string(m, 0xffffffffffffff00, buf, sizeof buf, &len));
    cr_assert_eq(len, 0xff);
}

Test(strings, bad_arguments)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    char buf[4];
    ERR(mmu_read_string(NULL, 0x1000, buf, sizeof buf, NULL), MMU_ERR_ARG);
    ERR(mmu_read_string(m, 0x1000, NULL, 4, NULL), MMU_ERR_ARG);
    ERR(mmu_read_string(m, 0x1000, buf, 0, NULL), MMU_ERR_ARG);
    ERR(mmu_write_string(NULL, 0x1000, "x"), MMU_ERR_ARG);
    ERR_UNCHANGED(m, mmu_write_string(m, 0x1000, NULL), MMU_ERR_ARG);
}

Test(strings, write_string_writes_the_nul)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_READ, NULL)); /* host access ignores perms */
    fill(0x1000, 0x10);
    OK(mmu_write_string(m, 0x1000, "hi"));
    uint8_t b[4];
    OK(mmu_read(m, 0x1000, b, 4));
    cr_assert_eq(memcmp(b, "hi\0d", 4), 0);
}

Test(strings, write_string_into_unmapped_tail_writes_nothing)
{
    OK(mmu_map(m, 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    ERR_UNCHANGED(m, mmu_write_string(m, 0x1ffe, "ab"), MMU_ERR_WRITE_UNMAPPED); /* the NUL lands at 0x2000 */
    ERR_UNCHANGED(m, mmu_write_string(m, 0x9000, ""), MMU_ERR_WRITE_UNMAPPED);
    OK(mmu_write_string(m, 0x1ffe, "a"));
}

/* ------------------------------------------------------------------- MMIO */

typedef struct dev {
    char     text[0x2000];
    unsigned calls, byte_calls;
} dev;

static uint64_t dev_read(void *user, uint64_t off, unsigned size)
{
    dev *d = user;
    uint64_t v = 0;
    d->calls++;
    d->byte_calls += size == 1;
    memcpy(&v, d->text + off, size);
    return v;
}

Test(strings, string_in_mmio_is_read_from_the_device_in_wide_pieces)
{
    static dev d;
    memset(&d, 0, sizeof d);
    strcpy(d.text + 0x10, "device string!!");
    OK(mmu_map_mmio(m, 0x8000, 0x2000, dev_read, NULL, &d, NULL));
    char buf[64];
    size_t len;
    OK(mmu_read_string(m, 0x8010, buf, sizeof buf, &len));
    cr_assert_str_eq(buf, "device string!!");
    cr_assert_eq(len, 15);
    cr_assert_eq(d.byte_calls, 0);
    cr_assert_leq(d.calls, 4); /* 2 pieces to find the NUL, 2 to copy */
}

Test(strings, string_from_ram_into_mmio_and_across_device_pages)
{
    static dev d;
    memset(&d, 0, sizeof d);
    memset(d.text, 'x', 0x1800);
    OK(mmu_map(m, 0x7000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map_mmio(m, 0x8000, 0x2000, dev_read, NULL, &d, NULL));
    fill(0x7f00, 0x100);
    static char buf[0x2000];
    size_t len;
    OK(mmu_read_string(m, 0x7f00, buf, sizeof buf, &len));
    cr_assert_eq(len, 0x1900);
    cr_assert_eq(buf[0xff], 'a' + 0xff % 26);
    cr_assert_eq(buf[0x100], 'x');
    cr_assert_eq(buf[0x18ff], 'x');
}

Test(strings, mmio_without_read_callback_is_unmapped_for_strings)
{
    static dev d;
    OK(mmu_map(m, 0x7000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map_mmio(m, 0x8000, 0x1000, NULL, NULL, &d, NULL));
    fill(0x7ff0, 0x10);
    char buf[64];
    memset(buf, '#', sizeof buf);
    ERR(mmu_read_string(m, 0x7ff0, buf, sizeof buf, NULL), MMU_ERR_READ_UNMAPPED);
    assert_untouched(buf, sizeof buf);
}
