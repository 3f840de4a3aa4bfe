/*
 * strings.c - mmu_read_string / mmu_write_string. A string is found with
 * memchr over each host page in place (Qiling reads one byte per call), then
 * copied once its length is known, so buf is untouched on every error.
 */
#include "mmu_int.h"

/* bytes from addr to the end of its page, at most left */
static size_t page_chunk(uint64_t addr, size_t left)
{
    uint64_t in_page = MMU_PAGE_SIZE - (addr & PAGE_MASK);
    return left < in_page ? left : (size_t)in_page;
}

/* Device bytes: read 8 at a time (one device call each) and stop at the
 * piece holding the NUL, so the device sees no read far past the string. */
static mmu_err scan_mmio(mmu_t *m, uint64_t addr, size_t n, size_t *at)
{
    for (size_t done = 0; done < n; done += 8) {
        uint8_t piece[8];
        size_t k = n - done < 8 ? n - done : 8;
        if (mmu_read(m, addr + done, piece, k) != MMU_OK)
            return MMU_ERR_READ_UNMAPPED; /* a device without a read callback */
        const uint8_t *nul = memchr(piece, 0, k);
        if (nul) {
            *at = done + (size_t)(nul - piece);
            return MMU_OK;
        }
    }
    *at = n;
    return MMU_OK;
}

/* Offset of the first NUL in [addr, addr+n) (one page at most), or n. */
static mmu_err scan_page(mmu_t *m, uint64_t addr, size_t n, size_t *at)
{
    uint64_t pte = map_pte(m, addr >> MMU_PAGE_BITS);
    if (!(pte & PTE_VALID))
        return MMU_ERR_READ_UNMAPPED;
    if (pte & PTE_MMIO)
        return scan_mmio(m, addr, n, at);
    const uint8_t *host = PTE_HOST(pte) + (addr & PAGE_MASK);
    const uint8_t *nul = memchr(host, 0, n);
    *at = nul ? (size_t)(nul - host) : n;
    return MMU_OK;
}

/* Length of the string at addr, looking at no more than limit bytes. */
static mmu_err string_len(mmu_t *m, uint64_t addr, size_t limit, size_t *len)
{
    for (size_t done = 0; done < limit;) {
        uint64_t a = addr + done;
        if (done && a < addr) /* ran past 2^64: those bytes do not exist */
            return MMU_ERR_READ_UNMAPPED;
        size_t n = page_chunk(a, limit - done), at;
        mmu_err err = scan_page(m, a, n, &at);
        if (err)
            return err;
        if (at < n) {
            *len = done + at;
            return MMU_OK;
        }
        done += n;
    }
    return MMU_ERR_NOTFOUND;
}

/* XXX: a string lying in MMIO is read from the device twice (scan, then
 * copy): keeping buf untouched on error would otherwise need a bounce
 * buffer as large as cap. */
mmu_err mmu_read_string(mmu_t *m, uint64_t addr, char *buf, size_t cap, size_t *out_len)
{
    if (!m || !buf || cap == 0)
        return MMU_ERR_ARG;
    size_t len;
    mmu_err err = string_len(m, addr, cap, &len); /* the NUL must be at offset <= cap-1 */
    if (err)
        return err;
    if ((err = mmu_read(m, addr, buf, len)))
        return err;
    buf[len] = '\0';
    if (out_len)
        *out_len = len;
    return MMU_OK;
}

mmu_err mmu_write_string(mmu_t *m, uint64_t addr, const char *s)
{
    if (!m || !s)
        return MMU_ERR_ARG;
    return mmu_write(m, addr, s, strlen(s) + 1);
}
