/*
 * fuzz_snapshot.c - mmu_snapshot_read on arbitrary bytes: MMU_ERR_CORRUPT
 * (or NOMEM) with nothing allocated, or a snapshot that restores, writes
 * back and reads again to the same state. Never a crash or a leak.
 */
#include <softmmu/mmu.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static mmu_err read_buf(const void *data, size_t size, mmu_snapshot **out)
{
    static const char empty[1];
    FILE *f = fmemopen(size ? (void *)(uintptr_t)data : (void *)(uintptr_t)empty, size ? size : 1, "r");
    if (!f)
        abort();
    if (!size)
        fgetc(f); /* fmemopen cannot open 0 bytes: read past the one */
    mmu_err e = mmu_snapshot_read(f, out);
    fclose(f);
    return e;
}

/* digest of a fresh MMU s was restored into; false when the host could not
 * reserve its memory (a region may span tens of TiB: whether that mmap
 * succeeds depends on the address space left, so NOMEM is not compared) */
static bool restored_digest(const mmu_snapshot *s, uint64_t *d)
{
    mmu_t *m;
    if (mmu_open(NULL, &m) != MMU_OK)
        abort();
    mmu_err e = mmu_snapshot_restore(m, s);
    if (e != MMU_OK && e != MMU_ERR_NOMEM) {
        fprintf(stderr, "restoring a snapshot that read back fine: %s\n", mmu_strerror(e));
        abort();
    }
    if (e == MMU_OK)
        *d = mmu_digest(m);
    mmu_close(m);
    return e == MMU_OK;
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
    uint64_t d1, d2;
    if (again && restored_digest(s, &d1) && restored_digest(again, &d2) && d1 != d2) {
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
    round_trip(s); /* restore and digest cost the pages stored, whatever the regions span */
    mmu_snapshot_free(s);
    return 0;
}
