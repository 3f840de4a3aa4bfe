/*
 * snap_file.c - mmu_snapshot_write / mmu_snapshot_read.
 *
 * File format, version 1. All integers little-endian; no padding.
 *
 *   header     8  magic "SMMUSNAP"
 *              4  u32 version = 1
 *              4  u32 flags = 0 (reserved)
 *              8  u64 n_regions
 *              8  u64 file_len   bytes from magic to trailer, both included
 *   regions    n_regions records, ascending, non-overlapping:
 *              8  u64 start      page-aligned
 *              8  u64 last       last byte, inclusive (start | 0xfff .. 2^64-1)
 *              4  u32 perms      MMU_PROT_* bits, <= 7
 *              4  u32 kind       0 = memory (mmu_map or mmu_map_ptr: read
 *                                back as mmu_map memory); others reserved
 *              4  u32 label_len  >= 1
 *              label_len bytes   the label, no NUL
 *   pages      records up to the trailer, ascending by address, each in a
 *              region; a page of a region with no record reads as zeros:
 *              8  u64 addr       page-aligned guest address
 *           4096  the page
 *              8  u64 XXH3-64 of the page, seeded with addr
 *   trailer    8  u64 XXH3-64 (seed 0) of every byte before it
 *
 * MMIO regions cannot be saved (their callbacks are host code). file_len
 * makes a snapshot self-delimiting: it may be followed by other data in the
 * same stream. A reader takes file_len bytes into memory (growing its buffer
 * only as bytes arrive, so a damaged file_len cannot make it allocate more
 * than the stream holds) and checks the trailer, the version and every field
 * before building anything: any truncation, flipped bit or other version
 * gives MMU_ERR_CORRUPT.
 */
#include "snap_int.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define MAGIC "SMMUSNAP"
#define VERSION 1
#define HEADER_SIZE 32
#define REGION_FIXED 28 /* a region record without its label */
#define PAGE_REC (8 + MMU_PAGE_SIZE + 8)

/* ---------------------------------------------------------------- write */

typedef struct writer {
    FILE        *f;
    XXH3_state_t st;
    bool         bad; /* a write failed */
} writer;

static void put(writer *w, const void *p, size_t n)
{
    if (fwrite(p, 1, n, w->f) != n)
        w->bad = true;
    XXH3_64bits_update(&w->st, p, n);
}

static void put_u32(writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, 4);
}

static void put_u64(writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, 8);
}

static void put_region(writer *w, const snap_rec *rc)
{
    put_u64(w, rc->start);
    put_u64(w, rc->last);
    put_u32(w, rc->perms);
    put_u32(w, 0); /* kind: memory */
    put_u32(w, rc->label->len);
    put(w, rc->label->s, rc->label->len);
}

/* one page of rc: skipped when zero; counted, and written unless w is NULL */
static void visit_page(writer *w, const mmu_snapshot *s, const snap_rec *rc, uint64_t vpn, uint64_t *count)
{
    const uint8_t *src = snap_page_src(s, rc, vpn);
    if (!src || snap_page_is_zero(src))
        return;
    (*count)++;
    if (w) {
        put_u64(w, vpn << MMU_PAGE_BITS);
        put(w, src, MMU_PAGE_SIZE);
        put_u64(w, XXH3_64bits_withSeed(src, MMU_PAGE_SIZE, vpn << MMU_PAGE_BITS));
    }
}

static int vpn_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The non-zero pages of a RAM record are among the snapshot's table entries
 * and the pages listed in place at save (snap_int.h): visit those, sorted,
 * rather than every page of a range that may span 2^50 bytes. */
static void visit_ram(writer *w, const mmu_snapshot *s, const snap_rec *rc, uint64_t *v, uint64_t *count)
{
    uint64_t first = rc->start >> MMU_PAGE_BITS, last = rc->last >> MMU_PAGE_BITS;
    size_t n = 0; /* v has room for every table entry and every listed page */
    for (size_t i = 0; i < s->tab_cap; i++) {
        const snap_ent *e = &s->tab[i];
        if (e->copy && e->vpn >= first && e->vpn <= last)
            v[n++] = e->vpn;
    }
    for (size_t i = 0; rc->host && i < s->n_inplace; i++)
        if (s->inplace[i] >= first && s->inplace[i] <= last && !snap_lookup(s, s->inplace[i]))
            v[n++] = s->inplace[i];
    qsort(v, n, sizeof *v, vpn_cmp);
    for (size_t i = 0; i < n; i++)
        visit_page(w, s, rc, v[i], count);
}

/* visits the non-zero pages of rc in ascending order; scratch: see above */
static void visit_pages(writer *w, const mmu_snapshot *s, const snap_rec *rc, uint64_t *scratch, uint64_t *count)
{
    if (rc->kind == RGN_RAM) {
        visit_ram(w, s, rc, scratch, count);
        return;
    }
    for (uint64_t a = rc->start;; a += MMU_PAGE_SIZE) {
        visit_page(w, s, rc, a >> MMU_PAGE_BITS, count);
        if (a + PAGE_MASK == rc->last || (w && w->bad))
            return;
    }
}

/* the size of the file, so that a reader knows where it ends */
static uint64_t file_len(const mmu_snapshot *s, uint64_t *scratch)
{
    uint64_t len = HEADER_SIZE + 8, pages = 0;
    for (size_t i = 0; i < s->n_recs; i++) {
        len += REGION_FIXED + s->recs[i].label->len;
        visit_pages(NULL, s, &s->recs[i], scratch, &pages);
    }
    return len + pages * PAGE_REC;
}

mmu_err mmu_snapshot_write(const mmu_snapshot *s, FILE *f)
{
    if (!s || !f)
        return MMU_ERR_ARG;
    for (size_t i = 0; i < s->n_recs; i++)
        if (s->recs[i].kind == RGN_MMIO)
            return MMU_ERR_ARG;
    uint64_t pages = 0, *scratch = sm_malloc((s->tab_used + s->n_inplace + 1) * sizeof *scratch);
    if (!scratch)
        return MMU_ERR_NOMEM;
    writer w = { .f = f };
    XXH3_INITSTATE(&w.st);
    XXH3_64bits_reset(&w.st);
    put(&w, MAGIC, 8);
    put_u32(&w, VERSION);
    put_u32(&w, 0);
    put_u64(&w, s->n_recs);
    put_u64(&w, file_len(s, scratch));
    for (size_t i = 0; i < s->n_recs; i++)
        put_region(&w, &s->recs[i]);
    for (size_t i = 0; i < s->n_recs && !w.bad; i++)
        visit_pages(&w, s, &s->recs[i], scratch, &pages);
    sm_free(scratch);
    put_u64(&w, XXH3_64bits_digest(&w.st));
    if (fflush(f) || ferror(f))
        w.bad = true;
    return w.bad ? MMU_ERR_CORRUPT : MMU_OK;
}

/* ----------------------------------------------------------------- read */

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static bool get(reader *r, void *dst, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    if (dst)
        memcpy(dst, r->p, n);
    r->p += n;
    return true;
}

static uint64_t le(const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static bool get_u32(reader *r, uint32_t *v)
{
    uint8_t b[4];
    if (!get(r, b, 4))
        return false;
    *v = (uint32_t)le(b, 4);
    return true;
}

static bool get_u64(reader *r, uint64_t *v)
{
    uint8_t b[8];
    if (!get(r, b, 8))
        return false;
    *v = le(b, 8);
    return true;
}

/* one region record, checked; label points into the buffer */
typedef struct frec {
    uint64_t    start, last;
    uint32_t    perms, kind, len;
    const char *label;
} frec;

static bool get_region(reader *r, frec *fr, const frec *prev)
{
    if (!get_u64(r, &fr->start) || !get_u64(r, &fr->last) || !get_u32(r, &fr->perms) || !get_u32(r, &fr->kind)
        || !get_u32(r, &fr->len))
        return false;
    fr->label = (const char *)r->p;
    if (!get(r, NULL, fr->len) || fr->len == 0 || memchr(fr->label, 0, fr->len))
        return false;
    if ((fr->start & PAGE_MASK) || (fr->last & PAGE_MASK) != PAGE_MASK || fr->last < fr->start)
        return false;
    if (prev && (prev->last == UINT64_MAX || fr->start <= prev->last))
        return false;
    return fr->perms <= MMU_PROT_ALL && fr->kind == 0;
}

/* the page records that follow the regions: ascending, each in a region,
 * checksums right. regs walks the (checked) region records again. */
static bool check_pages(reader *r, reader regs, uint64_t n_regions)
{
    frec fr = { 0 };
    uint64_t left = n_regions, next = 0; /* next: lowest address allowed */
    bool have = false;
    while (r->p < r->end) {
        uint64_t a, sum;
        const uint8_t *data = r->p + 8;
        if (!get_u64(r, &a) || !get(r, NULL, MMU_PAGE_SIZE) || !get_u64(r, &sum))
            return false;
        if ((a & PAGE_MASK) || a < next || sum != XXH3_64bits_withSeed(data, MMU_PAGE_SIZE, a))
            return false;
        for (; !have || fr.last < a; have = true) /* the region that may hold a */
            if (!left-- || !get_region(&regs, &fr, NULL))
                return false;
        if (fr.start > a)
            return false;
        if (a == UINT64_MAX - PAGE_MASK)
            return r->p == r->end; /* the top page: nothing may follow */
        next = a + MMU_PAGE_SIZE;
    }
    return true;
}

static mmu_err check_file(const uint8_t *buf, size_t len, uint64_t *n_regions)
{
    if (len < HEADER_SIZE + 8 || memcmp(buf, MAGIC, 8) || le(buf + 8, 4) != VERSION || le(buf + 12, 4))
        return MMU_ERR_CORRUPT;
    if (XXH3_64bits(buf, len - 8) != le(buf + len - 8, 8))
        return MMU_ERR_CORRUPT;
    reader r = { buf + HEADER_SIZE, buf + len - 8 }, regs;
    uint64_t n = le(buf + 16, 8);
    if (n > (len - HEADER_SIZE) / (REGION_FIXED + 1) || le(buf + 24, 8) != len)
        return MMU_ERR_CORRUPT;
    frec fr, prev;
    regs = r;
    for (uint64_t i = 0; i < n; i++) {
        if (!get_region(&r, &fr, i ? &prev : NULL))
            return MMU_ERR_CORRUPT;
        prev = fr;
    }
    if ((size_t)(r.end - r.p) % PAGE_REC || !check_pages(&r, regs, n))
        return MMU_ERR_CORRUPT;
    *n_regions = n;
    return MMU_OK;
}

/* reads exactly want bytes into *buf (capacity *cap, grown as bytes come) */
static mmu_err read_more(FILE *f, uint8_t **buf, size_t *len, size_t *cap, uint64_t want)
{
    while (*len < want) {
        if (*len == *cap) {
            size_t c = *cap * 2 < want ? *cap * 2 : (size_t)want;
            uint8_t *b = sm_realloc(*buf, c);
            if (!b)
                return MMU_ERR_NOMEM;
            *buf = b;
            *cap = c;
        }
        size_t got = fread(*buf + *len, 1, *cap - *len, f);
        if (got == 0)
            return MMU_ERR_CORRUPT; /* truncated, or a read error */
        *len += got;
    }
    return MMU_OK;
}

/* the whole snapshot, header first, into one buffer */
static mmu_err slurp(FILE *f, uint8_t **out, size_t *out_len)
{
    size_t len = 0, cap = HEADER_SIZE;
    uint8_t *buf = sm_malloc(cap);
    mmu_err err = buf ? read_more(f, &buf, &len, &cap, HEADER_SIZE) : MMU_ERR_NOMEM;
    uint64_t total = err ? 0 : le(buf + 24, 8);
    if (!err && (memcmp(buf, MAGIC, 8) || le(buf + 8, 4) != VERSION || total < HEADER_SIZE + 8 || total > SIZE_MAX))
        err = MMU_ERR_CORRUPT; /* checked early: a wrong length must not make us wait for data */
    if (!err)
        err = read_more(f, &buf, &len, &cap, total);
    if (err) {
        sm_free(buf);
        return err;
    }
    *out = buf;
    *out_len = len;
    return MMU_OK;
}

/* ---------------------------------------------------------------- build */

static struct label *label_of(const frec *fr)
{
    return label_new_n((const char *)fr->label, fr->len);
}

static mmu_err build_regions(mmu_snapshot *s, reader *r, uint64_t n)
{
    if (!(s->recs = sm_calloc(n ? n : 1, sizeof *s->recs)))
        return MMU_ERR_NOMEM;
    for (uint64_t i = 0; i < n; i++) {
        frec fr;
        (void)get_region(r, &fr, NULL); /* checked already */
        struct label *l = label_of(&fr);
        if (!l)
            return MMU_ERR_NOMEM;
        s->recs[i] = (snap_rec){ .start = fr.start, .last = fr.last, .perms = fr.perms, .kind = RGN_RAM, .label = l };
        s->n_recs++;
    }
    return MMU_OK;
}

static mmu_err build_pages(mmu_snapshot *s, reader *r)
{
    while (r->p < r->end) {
        uint64_t a = le(r->p, 8); /* checked already */
        r->p += 8;
        page_copy *pc = snap_reserve(s) ? NULL : snap_copy_of(r->p);
        if (!pc)
            return MMU_ERR_NOMEM;
        snap_put(s, a >> MMU_PAGE_BITS, pc, false);
        r->p += MMU_PAGE_SIZE + 8;
    }
    return MMU_OK;
}

mmu_err mmu_snapshot_read(FILE *f, mmu_snapshot **out)
{
    if (!f || !out)
        return MMU_ERR_ARG;
    uint8_t *buf;
    size_t len;
    uint64_t n;
    mmu_err err = slurp(f, &buf, &len);
    if (err)
        return err;
    mmu_snapshot *s = NULL;
    if (!(err = check_file(buf, len, &n)) && !(s = sm_calloc(1, sizeof *s)))
        err = MMU_ERR_NOMEM;
    reader r = { buf + HEADER_SIZE, buf + len - 8 };
    if (!err)
        err = build_regions(s, &r, n);
    if (!err)
        err = build_pages(s, &r);
    sm_free(buf);
    if (err) {
        mmu_snapshot_free(s);
        return err;
    }
    *out = s;
    return MMU_OK;
}
