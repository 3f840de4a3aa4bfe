/*
 * fuzz_snapshot.c - mmu_snapshot_read on arbitrary bytes: MMU_ERR_CORRUPT
 * (or NOMEM) with nothing allocated, or a snapshot that restores, writes
 * back and reads again to the same state. Never a crash or a leak.
 */
#include <softmmu/mmu.h>

#include <stdio.h>
#include <stdlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Bytes the regions of a file that read back fine span (format version 1,
 * mmu/snap_file.c: a 32-byte header, then the region records). The round
 * trip restores into a fresh MMU and digests it, which maps and hashes the
 * whole span, so a tiny crafted file with a 2^60-byte region would need a
 * page table of that size: such inputs skip the round trip. XXX: restore
 * costs time and RSS in proportion to the span (about 2 bytes of RSS per
 * byte: a 1.5 GiB region took 17 s and 3.4 GB under ASan), so the cap is
 * 256 MiB until restore costs what the file stores. */
static unsigned __int128 span;

static void measure(const uint8_t *b, size_t len)
{
    span = 0;
    size_t off = 32;
    for (uint64_t i = 0, n = len >= 32 ? le(b + 16, 8) : 0; i < n && off + 28 <= len; i++) {
        span += (unsigned __int128)(le(b + off + 8, 8) - le(b + off, 8)) + 1;
        off += 28 + le(b + off + 24, 4);
    }
}

static mmu_err read_buf(const void *data, size_t size, mmu_snapshot **out)
{
    static const char empty[1];
    measure(data, size);
    FILE *f = fmemopen(size ? (void *)(uintptr_t)data : (void *)(uintptr_t)empty, size ? size : 1, "r");
    if (!f)
        abort();
    if (!size)
        fgetc(f); /* fmemopen cannot open 0 bytes: read past the one */
    mmu_err e = mmu_snapshot_read(f, out);
    fclose(f);
    return e;
}

static uint64_t restored_digest(const mmu_snapshot *s)
{
    mmu_t *m;
    if (mmu_open(NULL, &m) != MMU_OK)
        abort();
    mmu_err e = mmu_snapshot_restore(m, s);
    if (e != MMU_OK && e != MMU_ERR_NOMEM) {
        fprintf(stderr, "restoring a snapshot that read back fine: %s\n", mmu_strerror(e));
        abort();
    }
    uint64_t d = e == MMU_OK ? mmu_digest(m) : 0;
    mmu_close(m);
    return d;
}

/* a snapshot read from a file writes and reads back to the same state */
static void round_trip(const mmu_snapshot *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mmu_err e = mmu_snapshot_write(s, f);
    fclose(f);
    mmu_snapshot *again = NULL;
    if (e == MMU_OK && (e = read_buf(buf, len, &again)) != MMU_OK) {
        fprintf(stderr, "a written snapshot does not read back: %s\n", mmu_strerror(e));
        abort();
    }
    free(buf);
    if (again && restored_digest(s) != restored_digest(again)) {
        fprintf(stderr, "write + read changed the snapshot\n");
        abort();
    }
    mmu_snapshot_free(again);
}

/* Input "F" + body: the body gets a valid length and trailer checksum, so that the
 * fields behind it (header, regions, page records) are reached too. */
static mmu_err read_input(const uint8_t *data, size_t size, mmu_snapshot **out)
{
    if (size == 0 || data[0] != 'F')
        return read_buf(data, size, out);
    uint8_t *buf = malloc(size + 7);
    if (!buf)
        abort();
    memcpy(buf, data + 1, size - 1);
    for (int i = 0; size - 1 >= 32 && i < 8; i++) /* file_len */
        buf[24 + i] = (uint8_t)((uint64_t)(size + 7) >> (8 * i));
    uint64_t sum = XXH3_64bits(buf, size - 1);
    for (int i = 0; i < 8; i++)
        buf[size - 1 + i] = (uint8_t)(sum >> (8 * i));
    mmu_err e = read_buf(buf, size + 7, out);
    free(buf);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mmu_snapshot *s = (mmu_snapshot *)&size;
    if (mmu_snapshot_read(NULL, &s) != MMU_ERR_ARG || s != (mmu_snapshot *)&size)
        abort();
    mmu_err e = read_input(data, size, &s);
    if (e != MMU_OK) {
        if ((e != MMU_ERR_CORRUPT && e != MMU_ERR_NOMEM) || s != (mmu_snapshot *)&size) {
            fprintf(stderr, "mmu_snapshot_read: %s (or wrote *out on failure)\n", mmu_strerror(e));
            abort();
        }
        return 0;
    }
    if (span <= ((unsigned __int128)256 << 20))
        round_trip(s);
    mmu_snapshot_free(s);
    return 0;
}
