/*
 * test_mmio.c - device mappings: callbacks with (offset from the mapping
 * start, size, value), 8-byte pieces, missing directions, partial unmap,
 * the map info view, and no caching in the TLB.
 */
#include "core_util.h"

static mmu_t *m;

static void setup(void) { OK(mmu_open(NULL, &m)); }
static void teardown(void) { mmu_close(m); }

TestSuite(mmio, .init = setup, .fini = teardown);

#define DEV 0x40000000ull

typedef struct call {
    char     dir;
    uint64_t offset;
    unsigned size;
    uint64_t value;
} call;

typedef struct dev {
    int   n;
    call  log[32];
    mmu_t *unmap_on_read; /* if set, the read callback unmaps [DEV, DEV+0x2000) */
} dev;

static dev d;

/* reads return a value made from the offset, so pieces can be told apart */
static uint64_t dev_value(uint64_t offset) { return 0xa0a0a0a000000000ull | offset; }

static uint64_t dev_rd(void *user, uint64_t offset, unsigned size)
{
    dev *x = user;
    if (x->n < 32)
        x->log[x->n] = (call){ 'r', offset, size, 0 };
    x->n++;
    if (x->unmap_on_read)
        mmu_unmap(x->unmap_on_read, DEV, 0x2000);
    uint64_t v = dev_value(offset);
    return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static void dev_wr(void *user, uint64_t offset, unsigned size, uint64_t value)
{
    dev *x = user;
    if (x->n < 32)
        x->log[x->n] = (call){ 'w', offset, size, value };
    x->n++;
}

static void expect_call(int i, char dir, uint64_t offset, unsigned size, uint64_t value)
{
    cr_assert_gt(d.n, i, "device called %d times", d.n);
    cr_assert_eq(d.log[i].dir, dir, "call %d dir %c", i, d.log[i].dir);
    cr_assert_eq(d.log[i].offset, offset, "call %d offset %#llx, want %#llx", i,
                 (unsigned long long)d.log[i].offset, (unsigned long long)offset);
    cr_assert_eq(d.log[i].size, size, "call %d size %u, want %u", i, d.log[i].size, size);
    if (dir == 'w')
        cr_assert_eq(d.log[i].value, value, "call %d value %#llx, want %#llx", i,
                     (unsigned long long)d.log[i].value, (unsigned long long)value);
}

Test(mmio, guest_load_calls_read_with_offset_and_size)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL));
    uint32_t w;
    OK(mmu_load_u32(m, DEV + 4, &w));
    cr_assert_eq(w, (uint32_t)dev_value(4));
    expect_call(0, 'r', 4, 4, 0);
    uint8_t b;
    OK(mmu_load_u8(m, DEV + 0xfff, &b));
    expect_call(1, 'r', 0xfff, 1, 0);
    cr_assert_eq(b, 0xff);
}

Test(mmio, guest_store_calls_write_with_the_value)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL));
    OK(mmu_store_u16(m, DEV + 6, 0xbeef));
    expect_call(0, 'w', 6, 2, 0xbeef);
    OK(mmu_store_u64(m, DEV + 0x10, 0x1122334455667788));
    expect_call(1, 'w', 0x10, 8, 0x1122334455667788);
}

Test(mmio, host_read_and_write_reach_the_device)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL));
    uint64_t v;
    OK(mmu_read_ptr(m, DEV + 4, 4, false, &v)); /* verified: ('r', 4, 4) */
    expect_call(0, 'r', 4, 4, 0);
    cr_assert_eq(v, (uint32_t)dev_value(4));
    OK(mmu_write(m, DEV + 8, "\x01\x02\x03\x04", 4)); /* verified: ('w', 8, 4, 0x04030201) */
    expect_call(1, 'w', 8, 4, 0x04030201);
}

Test(mmio, wide_accesses_are_split_into_8_byte_pieces)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL));
    uint8_t buf[20];
    OK(mmu_read(m, DEV + 0x10, buf, sizeof buf));
    cr_assert_eq(d.n, 3);
    expect_call(0, 'r', 0x10, 8, 0);
    expect_call(1, 'r', 0x18, 8, 0);
    expect_call(2, 'r', 0x20, 4, 0);
    uint64_t lo, hi;
    uint32_t tail;
    memcpy(&lo, buf, 8), memcpy(&hi, buf + 8, 8), memcpy(&tail, buf + 16, 4);
    cr_assert_eq(lo, dev_value(0x10));
    cr_assert_eq(hi, dev_value(0x18));
    cr_assert_eq(tail, (uint32_t)dev_value(0x20));
    OK(mmu_store(m, DEV + 0x40, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
    expect_call(3, 'w', 0x40, 8, 0x0807060504030201);
    expect_call(4, 'w', 0x48, 8, 0x100f0e0d0c0b0a09);
    cr_assert_eq(d.n, 5);
}

Test(mmio, every_access_reaches_the_device_never_the_tlb)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL));
    uint64_t v;
    for (int i = 0; i < 5; i++)
        OK(mmu_load_u64(m, DEV, &v));
    for (int i = 0; i < 5; i++)
        OK(mmu_store_u64(m, DEV, 1));
    cr_assert_eq(d.n, 10);
}

Test(mmio, missing_read_is_a_guest_prot_fault_and_a_host_unmapped_error)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x1000, NULL, dev_wr, &d, NULL));
    uint64_t v = 42;
    ERR(mmu_load_u64(m, DEV, &v), MMU_ERR_READ_PROT);
    uint8_t b;
    ERR(mmu_read(m, DEV, &b, 1), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_read_ptr(m, DEV, 8, false, &v), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(v, 42);
    cr_assert_eq(d.n, 0);
    OK(mmu_store_u8(m, DEV, 1));
    cr_assert_eq(d.n, 1);
}

Test(mmio, missing_write_is_a_guest_prot_fault_and_a_host_unmapped_error)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, NULL, &d, NULL));
    ERR(mmu_store_u32(m, DEV, 1), MMU_ERR_WRITE_PROT);
    ERR(mmu_write(m, DEV, "x", 1), MMU_ERR_WRITE_UNMAPPED);
    ERR(mmu_write_ptr(m, DEV, 1, 4, false), MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(d.n, 0);
}

Test(mmio, fetch_from_a_device_is_a_prot_fault)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL));
    uint8_t b;
    ERR(mmu_fetch(m, DEV, &b, 1), MMU_ERR_FETCH_PROT);
    OK(mmu_protect(m, DEV, 0x1000, MMU_PROT_ALL)); /* exec bit or not */
    ERR(mmu_fetch(m, DEV, &b, 1), MMU_ERR_FETCH_PROT);
    cr_assert_eq(d.n, 0);
}

static bool record_fault(mmu_t *mm, const mmu_mem_event *ev, void *user)
{
    (void)mm;
    *(mmu_mem_event *)user = *ev;
    return false;
}

Test(mmio, prot_fault_hooks_see_device_faults)
{
    memset(&d, 0, sizeof d);
    mmu_mem_event ev = { 0 };
    OK(mmu_map_mmio(m, DEV, 0x1000, NULL, dev_wr, &d, NULL));
    OK(mmu_hook_add(m, MMU_HOOK_MEM_PROT, record_fault, &ev, 1, 0, NULL));
    uint32_t w;
    ERR(mmu_load_u32(m, DEV + 0x20, &w), MMU_ERR_READ_PROT);
    cr_assert_eq(ev.type, MMU_HOOK_MEM_READ_PROT);
    cr_assert_eq(ev.addr, DEV + 0x20);
    cr_assert_eq(ev.size, 4);
}

Test(mmio, access_hooks_fire_for_device_accesses)
{
    memset(&d, 0, sizeof d);
    mmu_mem_event ev = { 0 };
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL));
    OK(mmu_hook_add(m, MMU_HOOK_MEM_WRITE, record_fault, &ev, DEV, DEV + 0xfff, NULL));
    OK(mmu_store_u32(m, DEV + 0x30, 0x12345678));
    cr_assert_eq(ev.type, MMU_HOOK_MEM_WRITE);
    cr_assert_eq(ev.value, 0x12345678);
    expect_call(0, 'w', 0x30, 4, 0x12345678);
}

Test(mmio, partial_unmap_keeps_offsets_from_the_original_start)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x4000, dev_rd, dev_wr, &d, "dev"));
    OK(mmu_unmap(m, DEV, 0x1000));
    OK(mmu_unmap(m, DEV + 0x2000, 0x1000));
    EXPECT_MAP(m, RGIO(DEV + 0x1000, DEV + 0x2000, 3, "dev"), RGIO(DEV + 0x3000, DEV + 0x4000, 3, "dev"));
    uint32_t w;
    OK(mmu_load_u32(m, DEV + 0x1008, &w));
    expect_call(0, 'r', 0x1008, 4, 0);
    OK(mmu_store_u32(m, DEV + 0x3ffc, 5));
    expect_call(1, 'w', 0x3ffc, 4, 5);
    ERR(mmu_load_u32(m, DEV + 0x2000, &w), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_load_u32(m, DEV, &w), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(d.n, 2);
}

Test(mmio, protect_split_keeps_offsets_and_the_device)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x3000, dev_rd, dev_wr, &d, NULL));
    OK(mmu_protect(m, DEV + 0x1000, 0x1000, MMU_PROT_READ));
    EXPECT_MAP(m, RGIO(DEV, DEV + 0x1000, 3, "[mmio]"), RGIO(DEV + 0x1000, DEV + 0x2000, 1, "[mmio]"),
               RGIO(DEV + 0x2000, DEV + 0x3000, 3, "[mmio]"));
    ERR(mmu_store_u8(m, DEV + 0x1000, 1), MMU_ERR_WRITE_PROT);
    OK(mmu_store_u8(m, DEV + 0x2001, 1));
    expect_call(0, 'w', 0x2001, 1, 1);
    OK(mmu_unmap(m, DEV, 0x3000));
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
}

Test(mmio, regions_report_mmio_perms_and_labels)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, NULL, &d, NULL));
    OK(mmu_map_mmio(m, DEV + 0x1000, 0x1000, NULL, dev_wr, &d, ""));
    OK(mmu_map_mmio(m, DEV + 0x2000, 0x2000, dev_rd, dev_wr, &d, "uart"));
    OK(mmu_map(m, DEV + 0x4000, 0x1000, MMU_PROT_ALL, "ram"));
    EXPECT_MAP(m, RGIO(DEV, DEV + 0x1000, 1, "[mmio]"), RGIO(DEV + 0x1000, DEV + 0x2000, 2, "[mmio]"),
               RGIO(DEV + 0x2000, DEV + 0x4000, 3, "uart"), RG(DEV + 0x4000, DEV + 0x5000, 7, "ram"));
}

Test(mmio, host_access_crossing_ram_and_device)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map(m, DEV - 0x1000, 0x1000, MMU_PROT_NONE, NULL));
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL));
    OK(mmu_write(m, DEV - 4, "\x01\x02\x03\x04\x05\x06\x07\x08", 8));
    expect_call(0, 'w', 0, 4, 0x08070605);
    uint8_t b[8];
    OK(mmu_read(m, DEV - 4, b, 8));
    cr_assert_arr_eq(b, "\x01\x02\x03\x04", 4);
    uint32_t w;
    memcpy(&w, b + 4, 4);
    cr_assert_eq(w, (uint32_t)dev_value(0));
}

Test(mmio, failed_store_across_ram_and_device_writes_nothing)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map(m, DEV - 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, NULL, &d, NULL));
    ERR_UNCHANGED(m, mmu_store_u64(m, DEV - 4, 0xffffffffffffffff), MMU_ERR_WRITE_PROT);
    ERR_UNCHANGED(m, mmu_write(m, DEV - 4, "\xff\xff\xff\xff\xff\xff\xff\xff", 8), MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(rd64(m, DEV - 8), 0);
    cr_assert_eq(d.n, 0);
}

Test(mmio, unmapped_device_is_never_called_again)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL));
    uint64_t v;
    OK(mmu_load_u64(m, DEV, &v));
    OK(mmu_unmap(m, DEV, 0x1000));
    ERR(mmu_load_u64(m, DEV, &v), MMU_ERR_READ_UNMAPPED);
    ERR(mmu_store_u64(m, DEV, 1), MMU_ERR_WRITE_UNMAPPED);
    uint8_t b;
    ERR(mmu_read(m, DEV, &b, 1), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(d.n, 1);
    OK(mmu_map(m, DEV, 0x1000, MMU_PROT_ALL, NULL)); /* RAM where the device was */
    OK(mmu_store_u64(m, DEV, 7));
    OK(mmu_load_u64(m, DEV, &v));
    cr_assert_eq(v, 7);
    cr_assert_eq(d.n, 1);
}

Test(mmio, overlaps_are_mapped_errors)
{
    memset(&d, 0, sizeof d);
    OK(mmu_map(m, DEV, 0x1000, MMU_PROT_ALL, NULL));
    OK(mmu_map_mmio(m, DEV + 0x2000, 0x1000, dev_rd, dev_wr, &d, NULL));
    ERR_UNCHANGED(m, mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL), MMU_ERR_MAPPED);
    ERR_UNCHANGED(m, mmu_map_mmio(m, DEV + 0x1000, 0x2000, dev_rd, dev_wr, &d, NULL), MMU_ERR_MAPPED);
    ERR_UNCHANGED(m, mmu_map(m, DEV + 0x2000, 0x1000, MMU_PROT_ALL, NULL), MMU_ERR_MAPPED);
}

Test(mmio, device_that_unmaps_itself_during_a_guest_load)
{
    memset(&d, 0, sizeof d);
    d.unmap_on_read = m;
    OK(mmu_map_mmio(m, DEV, 0x2000, dev_rd, dev_wr, &d, NULL));
    uint32_t w = 0;
    OK(mmu_load_u32(m, DEV + 0x10, &w)); /* the device answered before it went */
    cr_assert_eq(w, (uint32_t)dev_value(0x10));
    ERR(mmu_load_u32(m, DEV + 0x10, &w), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(d.n, 1);
}

Test(mmio, device_that_unmaps_the_rest_of_a_host_read)
{
    memset(&d, 0, sizeof d);
    d.unmap_on_read = m;
    OK(mmu_map_mmio(m, DEV, 0x1000, dev_rd, dev_wr, &d, NULL));
    OK(mmu_map(m, DEV + 0x1000, 0x1000, MMU_PROT_ALL, NULL));
    uint8_t buf[16];
    /* the second page disappears under the copy: an error, not a crash */
    ERR(mmu_read(m, DEV + 0xff8, buf, sizeof buf), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(mmu_regions(m, NULL, 0), 0);
}

Test(mmio, device_that_unmaps_itself_between_two_pieces)
{
    memset(&d, 0, sizeof d);
    d.unmap_on_read = m;
    OK(mmu_map_mmio(m, DEV, 0x2000, dev_rd, dev_wr, &d, NULL));
    uint8_t buf[16];
    /* the second 8-byte piece must not call the freed device */
    ERR(mmu_read(m, DEV + 0x10, buf, sizeof buf), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(d.n, 1);
}
