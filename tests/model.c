/*
 * model.c - the reference model and the differential harness (model.h).
 * Test-only: included by tests/test_model.c and the fuzz targets.
 */
#include "model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MPAGE ((uint64_t)0x1000)
#define MMASK (MPAGE - 1)
#define END64 ((u128)1 << 64)

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static void *xcalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

/* ------------------------------------------------------------ lifetime */

void model_init(model *md, unsigned addr_bits, unsigned ptr_size, bool big_endian)
{
    memset(md, 0, sizeof *md);
    if (!addr_bits)
        addr_bits = 64;
    md->space_last = addr_bits == 64 ? UINT64_MAX : ((uint64_t)1 << addr_bits) - 1;
    md->ptr_size = ptr_size ? ptr_size : 8;
    md->big_endian = big_endian;
}

static void region_release(model_region *r)
{
    free(r->label);
    free(r->data);
}

static void free_regions(model *md)
{
    for (size_t i = 0; i < md->n; i++)
        region_release(&md->r[i]);
    free(md->r);
    md->r = NULL;
    md->n = md->cap = 0;
}

void model_free(model *md)
{
    free_regions(md);
    for (size_t i = 0; i < md->n_devs; i++)
        free(md->devs[i].data);
    free(md->devs);
    free(md->code);
    memset(md, 0, sizeof *md);
}

static uint64_t region_size(const model_region *r)
{
    return r->last - r->start + 1;
}

static void copy_regions(model *dst, const model *src)
{
    dst->n = dst->cap = src->n;
    dst->r = xmalloc(src->n * sizeof *dst->r);
    for (size_t i = 0; i < src->n; i++) {
        model_region r = src->r[i];
        r.label = xstrdup(r.label);
        if (r.data)
            r.data = memcpy(xmalloc(region_size(&r)), r.data, region_size(&r));
        dst->r[i] = r;
    }
}

void model_clone(model *dst, const model *src)
{
    *dst = *src;
    copy_regions(dst, src);
    dst->devs = xmalloc(src->n_devs * sizeof *dst->devs);
    for (size_t i = 0; i < src->n_devs; i++) {
        dst->devs[i] = src->devs[i];
        dst->devs[i].data = memcpy(xmalloc(src->devs[i].size), src->devs[i].data, src->devs[i].size);
    }
    dst->code = NULL;
    dst->n_code = dst->cap_code = 0;
}

/* a restore changes code (if any was fetched) and puts layout and RAM back;
 * devices keep their live state: they are outside the MMU */
void model_restore(model *md, const model *snap)
{
    free_regions(md);
    copy_regions(md, snap);
    if (md->n_code)
        md->code_changed = true;
    md->n_code = 0;
}

/* ------------------------------------------------------------- lookups */

/* index of the first region with last >= addr (md->n if none) */
static size_t ceil_idx(const model *md, uint64_t addr)
{
    size_t i = 0;
    while (i < md->n && md->r[i].last < addr)
        i++;
    return i;
}

static model_region *find_region(const model *md, uint64_t addr)
{
    size_t i = ceil_idx(md, addr);
    return i < md->n && md->r[i].start <= addr ? &md->r[i] : NULL;
}

/* no byte of [a, last] is mapped */
static bool available_range(const model *md, uint64_t a, uint64_t last)
{
    size_t i = ceil_idx(md, a);
    return i == md->n || md->r[i].start > last;
}

/* every byte of [a, last] is mapped */
static bool mapped_range(const model *md, uint64_t a, uint64_t last)
{
    for (;;) {
        const model_region *r = find_region(md, a);
        if (!r)
            return false;
        if (r->last >= last)
            return true;
        a = r->last + 1;
    }
}

bool model_is_available(const model *md, uint64_t addr, uint64_t size)
{
    if (size == 0)
        return false;
    uint64_t last = (u128)addr + size > END64 ? UINT64_MAX : addr + (size - 1);
    return available_range(md, addr, last);
}

bool model_is_mapped(const model *md, uint64_t addr, uint64_t size)
{
    if (size == 0 || (u128)addr + size > END64)
        return false;
    return mapped_range(md, addr, addr + (size - 1));
}

/* ------------------------------------------------------------ code set */

static bool is_code(const model *md, uint64_t vpn, size_t *at)
{
    for (size_t i = 0; i < md->n_code; i++)
        if (md->code[i] == vpn) {
            if (at)
                *at = i;
            return true;
        }
    return false;
}

static void code_add(model *md, uint64_t vpn)
{
    if (is_code(md, vpn, NULL))
        return;
    if (md->n_code == md->cap_code) {
        md->cap_code = md->cap_code ? 2 * md->cap_code : 16;
        md->code = realloc(md->code, md->cap_code * sizeof *md->code);
        if (!md->code)
            abort();
    }
    md->code[md->n_code++] = vpn;
}

/* the pages of [a, last] change: fetched ones must bump the generation */
static void code_touch(model *md, uint64_t a, uint64_t last)
{
    for (size_t i = 0; i < md->n_code;) {
        uint64_t p = md->code[i] << 12;
        if (p <= last && p + MMASK >= a) {
            md->code[i] = md->code[--md->n_code];
            md->code_changed = true;
        } else {
            i++;
        }
    }
}

/* -------------------------------------------------------- region edits */

static void insert_at(model *md, size_t i, model_region r)
{
    if (md->n == md->cap) {
        md->cap = md->cap ? 2 * md->cap : 16;
        md->r = realloc(md->r, md->cap * sizeof *md->r);
        if (!md->r)
            abort();
    }
    memmove(&md->r[i + 1], &md->r[i], (md->n - i) * sizeof *md->r);
    md->r[i] = r;
    md->n++;
}

static void remove_at(model *md, size_t i)
{
    region_release(&md->r[i]);
    memmove(&md->r[i], &md->r[i + 1], (md->n - i - 1) * sizeof *md->r);
    md->n--;
}

/* makes addr a region boundary, copying the bytes of the right part */
static void split_at(model *md, uint64_t addr)
{
    model_region *l = find_region(md, addr);
    if (!l || l->start == addr)
        return;
    model_region r = *l;
    r.start = addr;
    r.label = xstrdup(l->label);
    l->last = addr - 1;
    if (l->data) {
        r.data = memcpy(xmalloc(region_size(&r)), l->data + (addr - l->start), region_size(&r));
        l->data = realloc(l->data, region_size(l));
    }
    insert_at(md, (size_t)(l - md->r) + 1, r);
}

/* splits so that [a, last] is made of whole regions */
static void carve(model *md, uint64_t a, uint64_t last)
{
    split_at(md, a);
    if (last != UINT64_MAX)
        split_at(md, last + 1);
}

/* ARG / RANGE of a page-aligned range (map, unmap) */
static unsigned aligned_range_err(const model *md, uint64_t addr, uint64_t size)
{
    unsigned e = 0;
    bool wrap = size && (u128)addr + size > END64;
    if (size == 0 || ((addr | size) & MMASK) || wrap)
        e |= EBIT(MMU_ERR_ARG);
    if (size && !wrap && addr + (size - 1) > md->space_last)
        e |= EBIT(MMU_ERR_RANGE);
    return e;
}

unsigned model_map(model *md, uint64_t addr, uint64_t size, unsigned perms, const char *label, unsigned kind,
                   const uint8_t *init, int dev)
{
    unsigned e = aligned_range_err(md, addr, size) | (perms > MMU_PROT_ALL ? EBIT(MMU_ERR_ARG) : 0);
    if (e)
        return e;
    if (!model_is_available(md, addr, size))
        return EBIT(MMU_ERR_MAPPED);
    const char *dflt = kind == MK_MMIO ? "[mmio]" : "[mapped]";
    model_region r = { addr, addr + (size - 1), perms, kind, xstrdup(label && *label ? label : dflt), NULL, dev };
    if (kind != MK_MMIO) {
        if (size > ((uint64_t)1 << 28))
            abort(); /* the generator never maps this much */
        r.data = init ? memcpy(xmalloc(size), init, size) : xcalloc(size);
    }
    insert_at(md, ceil_idx(md, addr), r);
    return EBIT(MMU_OK);
}

int model_add_dev(model *md, uint64_t base, uint64_t size, bool rd, bool wr)
{
    md->devs = realloc(md->devs, (md->n_devs + 1) * sizeof *md->devs);
    if (!md->devs)
        abort();
    md->devs[md->n_devs] = (model_dev){ base, size, xcalloc(size), rd, wr };
    return (int)md->n_devs++;
}

/* removes the whole regions inside [a, last] */
static void drop_range(model *md, uint64_t a, uint64_t last)
{
    size_t i = ceil_idx(md, a);
    while (i < md->n && md->r[i].start <= last)
        remove_at(md, i);
    code_touch(md, a, last);
}

unsigned model_unmap(model *md, uint64_t addr, uint64_t size)
{
    unsigned e = aligned_range_err(md, addr, size);
    if (e)
        return e;
    uint64_t last = addr + (size - 1);
    if (!mapped_range(md, addr, last))
        return EBIT(MMU_ERR_UNMAPPED);
    carve(md, addr, last);
    drop_range(md, addr, last);
    return EBIT(MMU_OK);
}

void model_unmap_all(model *md)
{
    if (md->n)
        drop_range(md, 0, UINT64_MAX);
}

/* protect / set_label: widen to pages, check, carve; *a and *last get the range */
static unsigned widen(model *md, uint64_t addr, uint64_t size, unsigned extra, uint64_t *a, uint64_t *last)
{
    if (size == 0 || (u128)addr + size > END64)
        return EBIT(MMU_ERR_ARG);
    *a = addr & ~MMASK;
    *last = (addr + (size - 1)) | MMASK;
    unsigned e = extra | (*last > md->space_last ? EBIT(MMU_ERR_RANGE) : 0);
    if (e)
        return e;
    if (!mapped_range(md, *a, *last))
        return EBIT(MMU_ERR_UNMAPPED);
    carve(md, *a, *last);
    return EBIT(MMU_OK);
}

unsigned model_protect(model *md, uint64_t addr, uint64_t size, unsigned perms)
{
    uint64_t a, last;
    unsigned e = widen(md, addr, size, perms > MMU_PROT_ALL ? EBIT(MMU_ERR_ARG) : 0, &a, &last);
    if (e != EBIT(MMU_OK))
        return e | (perms > MMU_PROT_ALL ? EBIT(MMU_ERR_ARG) : 0);
    for (size_t i = ceil_idx(md, a); i < md->n && md->r[i].start <= last; i++)
        md->r[i].perms = perms;
    if (!(perms & MMU_PROT_EXEC))
        code_touch(md, a, last);
    return e;
}

unsigned model_set_label(model *md, uint64_t addr, uint64_t size, const char *label)
{
    uint64_t a, last;
    unsigned e = widen(md, addr, size, 0, &a, &last);
    if (e != EBIT(MMU_OK))
        return e;
    for (size_t i = ceil_idx(md, a); i < md->n && md->r[i].start <= last; i++) {
        free(md->r[i].label);
        md->r[i].label = xstrdup(label && *label ? label : "[mapped]");
    }
    return e;
}

/* ---------------------------------------------------------- free space */

static u128 align_up(u128 v, uint64_t align)
{
    return (v + align - 1) / align * align;
}

/* is a a valid first-fit answer? */
static bool fits(const model *md, u128 a, uint64_t size, u128 hi)
{
    return a + size <= hi && available_range(md, (uint64_t)a, (uint64_t)(a + size - 1));
}

unsigned model_find_free(const model *md, uint64_t size, uint64_t min, uint64_t max, uint64_t align, uint64_t *out)
{
    u128 space_end = (u128)md->space_last + 1, hi = max ? max : space_end;
    if (align == 0)
        align = MPAGE;
    if (size == 0 || (align & (align - 1)) || hi > space_end || hi <= min || hi - min < size)
        return EBIT(MMU_ERR_ARG);
    /* the answer is min rounded up, or some region end rounded up */
    u128 best = END64 * 2, c = align_up(min, align);
    if (fits(md, c, size, hi))
        best = c;
    for (size_t i = 0; i < md->n; i++) {
        u128 end = (u128)md->r[i].last + 1;
        c = align_up(end > min ? end : min, align);
        if (c < best && fits(md, c, size, hi))
            best = c;
    }
    if (best == END64 * 2)
        return EBIT(MMU_ERR_NOSPACE);
    *out = (uint64_t)best;
    return EBIT(MMU_OK);
}

unsigned model_map_anywhere(model *md, uint64_t size, uint64_t min, uint64_t max, uint64_t align, unsigned perms,
                            const char *label, uint64_t *out)
{
    if (size == 0 || size > UINT64_MAX - MMASK || perms > MMU_PROT_ALL || (align && align < MPAGE))
        return EBIT(MMU_ERR_ARG);
    size = (size + MMASK) & ~MMASK;
    uint64_t a;
    unsigned e = model_find_free(md, size, min, max, align, &a);
    if (e == EBIT(MMU_OK))
        e = model_map(md, a, size, perms, label, MK_RAM, NULL, -1);
    if (e == EBIT(MMU_OK))
        *out = a;
    return e;
}

/* ------------------------------------------------------------- access */

/* the model's bytes at addr inside region r (RAM or device storage) */
static uint8_t *bytes_at(const model *md, const model_region *r, uint64_t addr)
{
    if (r->kind != MK_MMIO)
        return r->data + (addr - r->start);
    const model_dev *d = &md->devs[r->dev];
    return d->data + (addr - d->base);
}

/* may a host access in direction write touch region r? */
static bool host_allows(const model *md, const model_region *r, bool write)
{
    if (r->kind != MK_MMIO)
        return true;
    return write ? md->devs[r->dev].wr : md->devs[r->dev].rd;
}

/* every byte of [addr, addr+size) hosted and accessible; size > 0 */
static bool host_ok(const model *md, uint64_t addr, uint64_t size, bool write)
{
    if ((u128)addr + size > END64)
        return false;
    uint64_t last = addr + (size - 1);
    for (;;) {
        const model_region *r = find_region(md, addr);
        if (!r || !host_allows(md, r, write))
            return false;
        if (r->last >= last)
            return true;
        addr = r->last + 1;
    }
}

/* copies between buf and mapped [addr, addr+size) */
static void copy(model *md, uint64_t addr, uint8_t *buf, uint64_t size, bool write)
{
    while (size) {
        const model_region *r = find_region(md, addr);
        uint64_t n = r->last - addr + 1 < size ? r->last - addr + 1 : size;
        if (write)
            memcpy(bytes_at(md, r, addr), buf, n);
        else
            memcpy(buf, bytes_at(md, r, addr), n);
        addr += n, buf += n, size -= n;
    }
}

unsigned model_read(model *md, uint64_t addr, uint8_t *dst, uint64_t size)
{
    if (size == 0)
        return EBIT(MMU_OK);
    if (!host_ok(md, addr, size, false))
        return EBIT(MMU_ERR_READ_UNMAPPED);
    copy(md, addr, dst, size, false);
    return EBIT(MMU_OK);
}

unsigned model_write(model *md, uint64_t addr, const uint8_t *src, uint64_t size)
{
    if (size == 0)
        return EBIT(MMU_OK);
    if (!host_ok(md, addr, size, true))
        return EBIT(MMU_ERR_WRITE_UNMAPPED);
    copy(md, addr, (uint8_t *)(uintptr_t)src, size, true);
    code_touch(md, addr, addr + (size - 1));
    return EBIT(MMU_OK);
}

uint64_t model_load_order(const model *md, const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v = md->big_endian ? v << 8 | p[i] : v | (uint64_t)p[i] << (8 * i);
    return v;
}

void model_store_order(const model *md, uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        p[md->big_endian ? size - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

static bool ptr_size(const model *md, unsigned *size)
{
    if (*size == 0)
        *size = md->ptr_size;
    return *size == 1 || *size == 2 || *size == 4 || *size == 8;
}

unsigned model_read_ptr(model *md, uint64_t addr, unsigned size, bool is_signed, uint64_t *out)
{
    if (!ptr_size(md, &size))
        return EBIT(MMU_ERR_ARG);
    uint8_t b[8];
    unsigned e = model_read(md, addr, b, size);
    if (e != EBIT(MMU_OK))
        return e;
    uint64_t v = model_load_order(md, b, size);
    if (is_signed && size < 8 && (v >> (8 * size - 1)))
        v |= UINT64_MAX << (8 * size);
    *out = v;
    return e;
}

static bool value_fits(uint64_t v, unsigned size, bool is_signed)
{
    if (size == 8)
        return true;
    int64_t lim = (int64_t)1 << (8 * size - 1);
    return is_signed ? (int64_t)v >= -lim && (int64_t)v < lim : v < (uint64_t)2 * (uint64_t)lim;
}

unsigned model_write_ptr(model *md, uint64_t addr, uint64_t value, unsigned size, bool is_signed)
{
    if (!ptr_size(md, &size) || !value_fits(value, size, is_signed))
        return EBIT(MMU_ERR_ARG);
    uint8_t b[8];
    model_store_order(md, b, value, size);
    return model_write(md, addr, b, size);
}

/* the guest-access verdict for one mapped page */
static unsigned guest_page(const model *md, mmu_access k, const model_region *r)
{
    unsigned unmapped = MMU_ERR_READ_UNMAPPED + k, prot = MMU_ERR_READ_PROT + k;
    if (!r)
        return EBIT(unmapped);
    bool ok = r->perms & (k == MMU_ACCESS_READ ? MMU_PROT_READ : k == MMU_ACCESS_WRITE ? MMU_PROT_WRITE
                                                                                      : MMU_PROT_EXEC);
    if (ok && r->kind == MK_MMIO)
        ok = k != MMU_ACCESS_FETCH && host_allows(md, r, k == MMU_ACCESS_WRITE);
    return ok ? EBIT(MMU_OK) : EBIT(prot);
}

/* The first faulting byte, in address order, decides the error; an access
 * wrapping past 2^64 whose pages below all pass faults at the nonexistent
 * byte 2^64, reported as 0. */
static unsigned guest_check(const model *md, mmu_access k, uint64_t addr, uint64_t size, uint64_t *fault)
{
    bool wrap = (u128)addr + size > END64;
    uint64_t last_page = wrap ? ~MMASK : (addr + (size - 1)) & ~MMASK;
    for (uint64_t p = addr & ~MMASK;; p += MPAGE) {
        unsigned e = guest_page(md, k, find_region(md, p));
        *fault = p < addr ? addr : p;
        if (e != EBIT(MMU_OK))
            return e;
        if (p == last_page)
            break;
    }
    *fault = 0;
    return wrap ? EBIT(MMU_ERR_READ_UNMAPPED + k) : EBIT(MMU_OK);
}

unsigned model_guest_at(model *md, mmu_access k, uint64_t addr, uint8_t *buf, uint64_t size, uint64_t *fault)
{
    if (size == 0)
        return EBIT(MMU_OK);
    unsigned e = guest_check(md, k, addr, size, fault);
    if (e != EBIT(MMU_OK))
        return e;
    copy(md, addr, buf, size, k == MMU_ACCESS_WRITE);
    uint64_t last = addr + (size - 1);
    if (k == MMU_ACCESS_WRITE)
        code_touch(md, addr, last);
    for (uint64_t p = addr >> 12; k == MMU_ACCESS_FETCH && p <= last >> 12; p++)
        code_add(md, p);
    return e;
}

unsigned model_guest(model *md, mmu_access k, uint64_t addr, uint8_t *buf, uint64_t size)
{
    uint64_t fault;
    return model_guest_at(md, k, addr, buf, size, &fault);
}

unsigned model_read_string(model *md, uint64_t addr, char *buf, size_t cap, size_t *out_len)
{
    if (cap == 0)
        return EBIT(MMU_ERR_ARG);
    for (size_t i = 0; i < cap; i++) {
        uint8_t c;
        if ((u128)addr + i >= END64 || !host_ok(md, addr + i, 1, false))
            return EBIT(MMU_ERR_READ_UNMAPPED);
        copy(md, addr + i, &c, 1, false);
        if (c == 0) {
            copy(md, addr, (uint8_t *)buf, i + 1, false);
            *out_len = i;
            return EBIT(MMU_OK);
        }
    }
    return EBIT(MMU_ERR_NOTFOUND);
}

/* ------------------------------------------------------------- search */

typedef struct search_acc {
    uint64_t *out;
    size_t    max_out, count;
} search_acc;

/* non-overlapping matches in [lo, hi), which is RAM, contiguous */
static void search_run(const model *md, u128 lo, u128 hi, const model_matcher *mt, search_acc *acc)
{
    if (hi <= lo || hi - lo < mt->len)
        return;
    size_t n = (size_t)(hi - lo);
    uint8_t *hay = xmalloc(n);
    copy((model *)md, (uint64_t)lo, hay, n, false);
    for (size_t i = 0; i + mt->len <= n;) {
        if (mt->match(mt->ctx, hay + i)) {
            if (acc->count < acc->max_out)
                acc->out[acc->count] = (uint64_t)lo + i;
            acc->count++;
            i += mt->len;
        } else {
            i++;
        }
    }
    free(hay);
}

unsigned model_search_with(const model *md, const model_matcher *mt, uint64_t begin, uint64_t end, unsigned flags,
                           uint64_t *out, size_t max_out, size_t *out_count)
{
    if ((end && begin >= end) || (!out && max_out) || (flags & ~(unsigned)MMU_SEARCH_CROSS))
        return EBIT(MMU_ERR_ARG);
    search_acc acc = { out, max_out, 0 };
    if (md->n) {
        u128 b = begin ? begin : md->r[0].start;
        u128 e = end ? end : (u128)md->r[md->n - 1].last + 1;
        for (size_t i = 0; i < md->n; i++) {
            if (md->r[i].kind == MK_MMIO)
                continue;
            size_t j = i; /* with CROSS, extend over adjacent RAM */
            while ((flags & MMU_SEARCH_CROSS) && j + 1 < md->n && md->r[j + 1].kind != MK_MMIO
                   && md->r[j + 1].start == md->r[j].last + 1)
                j++;
            u128 lo = md->r[i].start > b ? md->r[i].start : b;
            u128 hi = (u128)md->r[j].last + 1 < e ? (u128)md->r[j].last + 1 : e;
            search_run(md, lo, hi, mt, &acc);
            i = j;
        }
    }
    *out_count = acc.count;
    return EBIT(MMU_OK);
}

typedef struct literal {
    const uint8_t *s;
    size_t         len;
} literal;

static bool literal_match(const void *ctx, const uint8_t *s)
{
    const literal *l = ctx;
    return memcmp(s, l->s, l->len) == 0;
}

unsigned model_search(const model *md, const uint8_t *needle, size_t len, uint64_t begin, uint64_t end,
                      unsigned flags, uint64_t *out, size_t max_out, size_t *out_count)
{
    if (len == 0 || !needle)
        return EBIT(MMU_ERR_ARG);
    literal l = { needle, len };
    model_matcher mt = { literal_match, &l, len };
    return model_search_with(md, &mt, begin, end, flags, out, max_out, out_count);
}

/* ------------------------------------------------- reference patterns */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return c == '?' ? -1 : -2;
}

/* [~]XY with X, Y hex or '?'; "~??" matches nothing: rejected */
static const char *ref_test_parse(const char *s, ref_test *t)
{
    bool neg = *s == '~';
    s += neg;
    int hi = hexval(s[0]), lo = hi == -2 ? -2 : hexval(s[1]);
    if (hi == -2 || lo == -2 || (neg && hi < 0 && lo < 0))
        return NULL;
    t->neg = neg;
    t->mask = (uint8_t)((hi >= 0 ? 0xf0 : 0) | (lo >= 0 ? 0x0f : 0));
    t->val = (uint8_t)(((hi >= 0 ? hi : 0) << 4) | (lo >= 0 ? lo : 0));
    return s + 2;
}

static const char *ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

static ref_test *ref_new_test(ref_pattern *p)
{
    return p->used < sizeof p->store / sizeof *p->store ? &p->store[p->used++] : NULL;
}

/* ( alt | alt ... ): alternatives of one length, at least one test each */
static const char *ref_group_parse(const char *s, ref_pattern *p, ref_elem *e)
{
    e->t = &p->store[p->used];
    e->n_alts = 0;
    for (;;) {
        size_t n = 0;
        ref_test *t;
        while (*(s = ws(s)) && *s != '|' && *s != ')') {
            if (!(t = ref_new_test(p)) || !(s = ref_test_parse(s, t)))
                return NULL;
            n++;
        }
        if (!*s || n == 0 || (e->n_alts && n != e->len))
            return NULL;
        e->len = n;
        e->n_alts++;
        if (*s++ == ')')
            return s;
    }
}

bool ref_pattern_parse(const char *s, ref_pattern *p)
{
    p->n = p->len = p->used = 0;
    while (*(s = ws(s))) {
        if (p->n == sizeof p->e / sizeof *p->e)
            return false;
        ref_elem *e = &p->e[p->n++];
        if (*s == '(') {
            s = ref_group_parse(s + 1, p, e);
        } else {
            e->n_alts = 0;
            e->len = 1;
            e->t = ref_new_test(p);
            s = e->t ? ref_test_parse(s, e->t) : NULL;
        }
        if (!s)
            return false;
        p->len += e->len;
    }
    return p->len > 0;
}

static bool ref_pass(const ref_test *t, uint8_t b)
{
    return ((b & t->mask) == t->val) != t->neg;
}

static bool ref_elem_match(const ref_elem *e, const uint8_t *s)
{
    if (e->n_alts == 0)
        return ref_pass(e->t, s[0]);
    for (size_t a = 0; a < e->n_alts; a++) {
        size_t i = 0;
        while (i < e->len && ref_pass(&e->t[a * e->len + i], s[i]))
            i++;
        if (i == e->len)
            return true;
    }
    return false;
}

bool ref_pattern_match(const void *ctx, const uint8_t *s)
{
    const ref_pattern *p = ctx;
    for (size_t i = 0; i < p->n; s += p->e[i].len, i++)
        if (!ref_elem_match(&p->e[i], s))
            return false;
    return true;
}

/* ============================================================== harness */

static const char *const labels[] = { NULL, "", "A", "B", "[heap]", "[mmap] libc.so.6", "/lib/ld-linux.so.2" };
#define N_LABELS (sizeof labels / sizeof *labels)
#define N_SNAPS 2
#define MAX_PTR_BYTES (4u << 20) /* host buffers given to map_ptr, per run */
#define MAX_HOOKS 16
#define X64(v) ((unsigned long long)(v))
#define MAX_EVENTS 64

/* a memory-like device: reads and writes its storage at the offset */
typedef struct rdev {
    uint8_t *data;
    uint64_t size;
    bool    *oob; /* set when the MMU passes an offset outside the device */
} rdev;

struct harness {
    harness_cfg cfg;
    mmu_t      *m;
    model       md;
    rdev      **devs;
    size_t      n_devs;
    void      **ptrs;
    size_t      n_ptrs, ptr_bytes;
    uint64_t    code_gen;
    bool        dev_oob;
    bool        have_snap[N_SNAPS];
#if MODEL_HAVE_SNAPSHOT
    mmu_snapshot *snaps[N_SNAPS];
#endif
    model       msnaps[N_SNAPS];
    mmu_err     last_err;
    struct hk { /* hooks, in the order added */
        harness    *h;
        int         idx;
        bool        live;
        unsigned    types;
        uint64_t    begin, end;
        mmu_hook_id id;
    } hooks[MAX_HOOKS];
    int         n_hooks;
    struct hev { /* events the hooks saw during one op */
        int      idx;
        unsigned type, size;
        uint64_t addr, value;
    } log[MAX_EVENTS];
    int         n_log;
    char        msg[2048];
};

static bool fail(harness *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(harness *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->msg, sizeof h->msg, fmt, ap);
    va_end(ap);
    return false;
}

const char *harness_msg(const harness *h)
{
    return h->msg;
}

static const char *err_name(unsigned e)
{
    static const char *const names[] = { "MMU_OK", "MMU_ERR_NOMEM", "MMU_ERR_ARG", "MMU_ERR_MAPPED",
                                         "MMU_ERR_UNMAPPED", "MMU_ERR_NOSPACE", "MMU_ERR_RANGE",
                                         "MMU_ERR_READ_UNMAPPED", "MMU_ERR_WRITE_UNMAPPED",
                                         "MMU_ERR_FETCH_UNMAPPED", "MMU_ERR_READ_PROT", "MMU_ERR_WRITE_PROT",
                                         "MMU_ERR_FETCH_PROT", "MMU_ERR_NOTFOUND", "MMU_ERR_CORRUPT" };
    return e < sizeof names / sizeof *names ? names[e] : "(bad mmu_err)";
}

static void mask_text(unsigned mask, char *buf, size_t cap)
{
    buf[0] = 0;
    for (unsigned e = 0; e < 32; e++)
        if (mask & EBIT(e))
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", buf[0] ? " or " : "", err_name(e));
}

/* the result is one of the acceptable ones */
/* results seen per op kind (coverage of the generator) */
uint64_t harness_seen[OP_COUNT][16];

static bool expect(harness *h, const char *what, unsigned want, mmu_err got)
{
    h->last_err = got;
    if ((unsigned)got < 32 && (want & EBIT(got)))
        return true;
    char w[256];
    mask_text(want, w, sizeof w);
    return fail(h, "%s returned %s, the model expects %s", what, err_name(got), w);
}

static uint64_t rdev_rd(void *user, uint64_t off, unsigned size)
{
    rdev *d = user;
    uint64_t v = 0;
    if (size == 0 || size > 8 || off > d->size || size > d->size - off)
        *d->oob = true;
    else
        memcpy(&v, d->data + off, size); /* little-endian host */
    return v;
}

static void rdev_wr(void *user, uint64_t off, unsigned size, uint64_t v)
{
    rdev *d = user;
    if (size == 0 || size > 8 || off > d->size || size > d->size - off)
        *d->oob = true;
    else
        memcpy(d->data + off, &v, size);
}

/* write data: a short period so that needles drawn the same way match */
static uint8_t pat(unsigned fill, uint64_t i)
{
    return fill ? (uint8_t)(fill * 0x9d + (i % 7) * 0x25 + (i % 3)) : 0;
}

static void pat_fill(uint8_t *buf, size_t n, unsigned fill, uint64_t off)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pat(fill, off + i);
}

harness *harness_new(const harness_cfg *cfg)
{
    harness *h = xcalloc(sizeof *h);
    h->cfg = *cfg;
    mmu_config c = { .addr_bits = cfg->addr_bits, .ptr_size = cfg->ptr_size, .big_endian = cfg->big_endian, .tlb_entries = cfg->tlb_entries };
    if (mmu_open(&c, &h->m) != MMU_OK)
        abort();
    model_init(&h->md, cfg->addr_bits, cfg->ptr_size, cfg->big_endian);
    h->code_gen = mmu_code_generation(h->m);
    return h;
}

void harness_free(harness *h)
{
    if (!h)
        return;
    for (int i = 0; i < N_SNAPS; i++) {
#if MODEL_HAVE_SNAPSHOT
        mmu_snapshot_free(h->snaps[i]);
#endif
        if (h->have_snap[i])
            model_free(&h->msnaps[i]);
    }
    mmu_close(h->m);
    model_free(&h->md);
    for (size_t i = 0; i < h->n_devs; i++) {
        free(h->devs[i]->data);
        free(h->devs[i]);
    }
    free(h->devs);
    for (size_t i = 0; i < h->n_ptrs; i++)
        free(h->ptrs[i]);
    free(h->ptrs);
    free(h);
}

/* --------------------------------------------------------- comparisons */

static bool cmp_regions(harness *h)
{
    mmu_region rs[256];
    size_t n = mmu_regions(h->m, rs, 256);
    if (n != h->md.n)
        return fail(h, "mmu_regions: %zu regions, the model has %zu", n, h->md.n);
    for (size_t i = 0; i < n && i < 256; i++) {
        const model_region *r = &h->md.r[i];
        if (rs[i].start != r->start || rs[i].end != r->last + 1 || rs[i].perms != r->perms
            || rs[i].mmio != (r->kind == MK_MMIO) || !rs[i].label || strcmp(rs[i].label, r->label))
            return fail(h,
                        "region %zu: mmu [%#llx, %#llx) perms %u mmio %d label \"%s\"; model [%#llx, %#llx) "
                        "perms %u mmio %d label \"%s\"",
                        i, (unsigned long long)rs[i].start, (unsigned long long)rs[i].end, rs[i].perms,
                        rs[i].mmio, rs[i].label ? rs[i].label : "(null)", (unsigned long long)r->start,
                        (unsigned long long)(r->last + 1), r->perms, r->kind == MK_MMIO, r->label);
    }
    return true;
}

static bool cmp_code_gen(harness *h)
{
    uint64_t g = mmu_code_generation(h->m);
    bool changed = g != h->code_gen;
    h->code_gen = g;
    if (h->md.code_changed && !changed) {
        h->md.code_changed = false;
        return fail(h, "fetched memory changed but mmu_code_generation stayed %llu", (unsigned long long)g);
    }
    h->md.code_changed = false;
    return true;
}

static bool cmp_region_bytes(harness *h, const model_region *r)
{
    uint64_t size = region_size(r);
    uint8_t *buf = xmalloc(size);
    mmu_err err = mmu_read(h->m, r->start, buf, size);
    bool ok = true;
    if (err != MMU_OK) {
        ok = fail(h, "mmu_read of region [%#llx, +%#llx) failed: %s", (unsigned long long)r->start,
                  (unsigned long long)size, err_name(err));
    } else if (memcmp(buf, r->data, size)) {
        uint64_t i = 0;
        while (buf[i] == r->data[i])
            i++;
        ok = fail(h, "contents differ at %#llx: mmu %#x, model %#x", (unsigned long long)(r->start + i), buf[i],
                  r->data[i]);
    }
    free(buf);
    return ok;
}

static bool cmp_contents(harness *h)
{
    for (size_t i = 0; i < h->md.n; i++)
        if (h->md.r[i].kind != MK_MMIO && !cmp_region_bytes(h, &h->md.r[i]))
            return false;
    for (size_t i = 0; i < h->n_devs; i++)
        if (memcmp(h->devs[i]->data, h->md.devs[i].data, h->md.devs[i].size))
            return fail(h, "device %zu storage differs from the model", i);
    return true;
}

static bool cmp_stats(harness *h)
{
    mmu_stats st;
    mmu_get_stats(h->m, &st);
    uint64_t pages = 0;
    for (size_t i = 0; i < h->md.n; i++)
        pages += region_size(&h->md.r[i]) >> 12;
    if (st.regions != h->md.n || st.pages_mapped != pages)
        return fail(h, "stats: %llu regions, %llu pages; model %zu regions, %llu pages",
                    (unsigned long long)st.regions, (unsigned long long)st.pages_mapped, h->md.n,
                    (unsigned long long)pages);
    return true;
}

static uint64_t dummy_rd(void *u, uint64_t o, unsigned s)
{
    (void)u, (void)o, (void)s;
    return 0;
}

static void dummy_wr(void *u, uint64_t o, unsigned s, uint64_t v)
{
    (void)u, (void)o, (void)s, (void)v;
}

/* a fresh MMU holding the model's state, built with plain map calls */
static mmu_t *rebuild(const harness *h)
{
    mmu_config c = { .addr_bits = h->cfg.addr_bits, .ptr_size = h->cfg.ptr_size, .big_endian = h->cfg.big_endian, .tlb_entries = h->cfg.tlb_entries };
    mmu_t *m;
    if (mmu_open(&c, &m) != MMU_OK)
        abort();
    for (size_t i = 0; i < h->md.n; i++) {
        const model_region *r = &h->md.r[i];
        uint64_t size = region_size(r);
        mmu_err e;
        if (r->kind == MK_MMIO)
            e = mmu_map_mmio(m, r->start, size, dummy_rd, dummy_wr, NULL, r->label);
        else if ((e = mmu_map(m, r->start, size, r->perms, r->label)) == MMU_OK)
            e = mmu_write(m, r->start, r->data, size);
        if (e == MMU_OK)
            e = mmu_protect(m, r->start, size, r->perms);
        if (e != MMU_OK)
            abort();
    }
    return m;
}

/* equal states give equal digests, whatever history led to them */
static bool cmp_digest(harness *h)
{
    mmu_t *m = rebuild(h);
    uint64_t want = mmu_digest(m), got = mmu_digest(h->m);
    mmu_close(m);
    if (want != got)
        return fail(h, "mmu_digest %#llx differs from that of the same state built afresh (%#llx)",
                    (unsigned long long)got, (unsigned long long)want);
    return true;
}

bool harness_check(harness *h)
{
    return cmp_regions(h) && cmp_contents(h) && cmp_stats(h) && cmp_digest(h);
}

/* ---------------------------------------------------------------- hooks */

/* records the event; never handles a fault */
static bool hk_cb(mmu_t *m, const mmu_mem_event *ev, void *user)
{
    struct hk *k = user;
    harness *h = k->h;
    (void)m;
    if (h->n_log < MAX_EVENTS)
        h->log[h->n_log] = (struct hev){ k->idx, ev->type, ev->size, ev->addr, ev->value };
    h->n_log++;
    return false;
}

static bool hk_overlaps(const struct hk *k, uint64_t a, uint64_t last)
{
    return k->begin > k->end || (k->begin <= last && a <= k->end);
}

/* the events of one guest access: the access hooks when it is performed
 * (after its translation succeeded), else the fault hooks of its kind (the
 * model's hooks never handle a fault); every hook whose range overlaps a
 * byte of the access, in the order added */
static int predict(const harness *h, mmu_access k, uint64_t addr, uint64_t size, const uint8_t *wbytes,
                   unsigned want, uint64_t fault, struct hev *out)
{
    if (size == 0)
        return 0;
    uint64_t last = (u128)addr + size > END64 ? UINT64_MAX : addr + (size - 1), value = 0;
    for (unsigned i = 0; k == MMU_ACCESS_WRITE && i < size && i < 8; i++)
        value |= (uint64_t)wbytes[i] << (8 * i);
    unsigned type = 1u << k;
    bool faulted = want != EBIT(MMU_OK);
    if (faulted) {
        bool unmapped = want == EBIT(MMU_ERR_READ_UNMAPPED + k);
        type = 1u << ((unmapped ? 3 : 6) + k);
        if (MODEL_FAULT_HOOKS_FROM_FAULT) {
            addr = fault;
            last = size - 1 > UINT64_MAX - fault ? UINT64_MAX : fault + (size - 1);
        }
    }
    int n = 0;
    for (int i = 0; i < h->n_hooks; i++) {
        const struct hk *hk = &h->hooks[i];
        if (hk->live && (hk->types & type) && hk_overlaps(hk, addr, last) && n < MAX_EVENTS)
            out[n++] = (struct hev){ i, type, (unsigned)size, faulted ? fault : addr, value };
    }
    return n;
}

static bool cmp_events(harness *h, const char *what, mmu_access k, uint64_t addr, uint64_t size,
                       const uint8_t *wbytes, unsigned want, uint64_t fault)
{
    struct hev ev[MAX_EVENTS];
    int n = predict(h, k, addr, size, wbytes, want, fault, ev);
    if (n != h->n_log)
        return fail(h, "%s: the hooks saw %d events, the model expects %d", what, h->n_log, n);
    for (int i = 0; i < n && i < MAX_EVENTS; i++) {
        const struct hev *g = &h->log[i], *w = &ev[i];
        if (g->idx != w->idx || g->type != w->type || g->addr != w->addr || g->size != w->size || g->value != w->value)
            return fail(h, "%s: event %d: hook %d type %#x addr %#llx size %u value %#llx; the model expects hook %d "
                        "type %#x addr %#llx size %u value %#llx", what, i, g->idx, g->type, X64(g->addr), g->size,
                        X64(g->value), w->idx, w->type, X64(w->addr), w->size, X64(w->value));
    }
    return true;
}

static bool ex_hook(harness *h, const op *o)
{
    if (o->k == OP_HOOK_DEL) {
        int i = (int)o->c;
        bool known = i < h->n_hooks;
        mmu_hook_id id = known ? h->hooks[i].id : 0xdead0000u + (unsigned)i;
        unsigned want = known && h->hooks[i].live ? EBIT(MMU_OK) : EBIT(MMU_ERR_NOTFOUND);
        if (known && want == EBIT(MMU_OK))
            h->hooks[i].live = false;
        return expect(h, "mmu_hook_del", want, mmu_hook_del(h->m, id));
    }
    if (h->n_hooks == MAX_HOOKS)
        return true;
    struct hk *k = &h->hooks[h->n_hooks];
    *k = (struct hk){ h, h->n_hooks, true, o->perms, o->a, o->b, 0 };
    unsigned want = o->perms == 0 || (o->perms & ~0x1ffu) ? EBIT(MMU_ERR_ARG) : EBIT(MMU_OK);
    mmu_hook_id id = 0x5e5e;
    mmu_err got = mmu_hook_add(h->m, o->perms, hk_cb, k, o->a, o->b, &id);
    if (!expect(h, "mmu_hook_add", want, got))
        return false;
    if (got != MMU_OK)
        return id == 0x5e5e || fail(h, "mmu_hook_add failed but wrote its id");
    for (int i = 0; i < h->n_hooks; i++)
        if (h->hooks[i].id == id)
            return fail(h, "mmu_hook_add reused id %llu", X64(id));
    k->id = id;
    h->n_hooks++;
    return true;
}

/* ------------------------------------------------------------ exec ops */

#define MAX_IO 0x4000 /* bytes moved by one read/write op, at most */
#define SENTINEL 0xa5

static bool untouched(const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (buf[i] != SENTINEL)
            return false;
    return true;
}

static bool ex_map(harness *h, const op *o)
{
    const char *l = labels[o->label];
    unsigned want = model_map(&h->md, o->a, o->b, o->perms, l, MK_RAM, NULL, -1);
    return expect(h, "mmu_map", want, mmu_map(h->m, o->a, o->b, o->perms, l));
}

static bool ex_map_ptr(harness *h, const op *o)
{
    size_t alloc = o->b && o->b <= 16 * MPAGE ? (size_t)((o->b + MMASK) & ~MMASK) : MPAGE;
    if (h->ptr_bytes + alloc > MAX_PTR_BYTES)
        return true; /* budget spent: a no-op, the same in every replay */
    uint8_t *buf = aligned_alloc(MPAGE, alloc);
    if (!buf)
        abort();
    pat_fill(buf, alloc, o->fill, 0);
    const char *l = labels[o->label];
    unsigned want = model_map(&h->md, o->a, o->b, o->perms, l, MK_PTR, buf, -1);
    mmu_err got = mmu_map_ptr(h->m, o->a, o->b, o->perms, buf, l);
    if (got != MMU_OK) {
        free(buf);
    } else {
        h->ptrs = realloc(h->ptrs, (h->n_ptrs + 1) * sizeof *h->ptrs);
        h->ptrs[h->n_ptrs++] = buf;
        h->ptr_bytes += alloc;
    }
    return expect(h, "mmu_map_ptr", want, got);
}

static bool ex_map_mmio(harness *h, const op *o)
{
    bool rd = o->flags & 1, wr = o->flags & 2;
    rdev *d = xcalloc(sizeof *d);
    d->size = o->b && o->b <= 16 * MPAGE ? o->b : 1;
    d->data = xcalloc(d->size);
    d->oob = &h->dev_oob;
    const char *l = labels[o->label];
    unsigned perms = (rd ? MMU_PROT_READ : 0) | (wr ? MMU_PROT_WRITE : 0);
    unsigned want = model_map(&h->md, o->a, o->b, perms, l, MK_MMIO, NULL, (int)h->md.n_devs);
    mmu_err got = mmu_map_mmio(h->m, o->a, o->b, rd ? rdev_rd : NULL, wr ? rdev_wr : NULL, d, l);
    if (want == EBIT(MMU_OK))
        model_add_dev(&h->md, o->a, o->b, rd, wr);
    if (got == MMU_OK && want == EBIT(MMU_OK)) {
        h->devs = realloc(h->devs, (h->n_devs + 1) * sizeof *h->devs);
        h->devs[h->n_devs++] = d;
    } else {
        free(d->data);
        free(d);
    }
    return expect(h, "mmu_map_mmio", want, got);
}

static bool ex_unmap(harness *h, const op *o)
{
    if (o->k == OP_UNMAP_ALL) {
        model_unmap_all(&h->md);
        mmu_unmap_all(h->m);
        return true;
    }
    return expect(h, "mmu_unmap", model_unmap(&h->md, o->a, o->b), mmu_unmap(h->m, o->a, o->b));
}

static bool ex_protect(harness *h, const op *o)
{
    if (o->k == OP_SET_LABEL) {
        const char *l = labels[o->label];
        return expect(h, "mmu_set_label", model_set_label(&h->md, o->a, o->b, l), mmu_set_label(h->m, o->a, o->b, l));
    }
    return expect(h, "mmu_protect", model_protect(&h->md, o->a, o->b, o->perms),
                  mmu_protect(h->m, o->a, o->b, o->perms));
}

/* an out-parameter: equal on success, untouched on failure */
static bool cmp_out(harness *h, const char *what, mmu_err got, uint64_t g, uint64_t want_v, uint64_t sentinel)
{
    if (got == MMU_OK && g != want_v)
        return fail(h, "%s gave %#llx, the model %#llx", what, (unsigned long long)g, (unsigned long long)want_v);
    if (got != MMU_OK && g != sentinel)
        return fail(h, "%s failed but wrote its out-parameter", what);
    return true;
}

static bool ex_free_space(harness *h, const op *o)
{
    const uint64_t s = 0x5e5e5e5e5e5e5e5eull;
    uint64_t mv = s, gv = s;
    unsigned want;
    mmu_err got;
    const char *what = o->k == OP_FIND_FREE ? "mmu_find_free_space" : "mmu_map_anywhere";
    if (o->k == OP_FIND_FREE) {
        want = model_find_free(&h->md, o->a, o->b, o->c, o->d, &mv);
        got = mmu_find_free_space(h->m, o->a, o->b, o->c, o->d, &gv);
    } else {
        const char *l = labels[o->label];
        want = model_map_anywhere(&h->md, o->a, o->b, o->c, o->d, o->perms, l, &mv);
        got = mmu_map_anywhere(h->m, o->a, o->b, o->c, o->d, o->perms, l, &gv);
    }
    return expect(h, what, want, got) && cmp_out(h, what, got, gv, mv, s);
}

static bool ex_query(harness *h, const op *o)
{
    bool want, got;
    if (o->k == OP_IS_AVAILABLE) {
        want = model_is_available(&h->md, o->a, o->b);
        got = mmu_is_available(h->m, o->a, o->b);
    } else {
        want = model_is_mapped(&h->md, o->a, o->b);
        got = mmu_is_mapped(h->m, o->a, o->b);
    }
    if (want != got)
        return fail(h, "%s returned %d, the model %d", o->k == OP_IS_AVAILABLE ? "mmu_is_available" : "mmu_is_mapped",
                    got, want);
    return true;
}

/* read, load, fetch: same result, same bytes, dst untouched on failure */
static bool ex_read(harness *h, const op *o)
{
    uint8_t mb[MAX_IO], gb[MAX_IO];
    size_t n = o->b;
    memset(gb, SENTINEL, n);
    unsigned want;
    mmu_err got;
    const char *what = o->k == OP_READ ? "mmu_read" : o->k == OP_LOAD ? "mmu_load" : "mmu_fetch";
    if (o->k == OP_READ) {
        want = model_read(&h->md, o->a, mb, n);
        got = mmu_read(h->m, o->a, gb, n);
    } else {
        mmu_access k = o->k == OP_LOAD ? MMU_ACCESS_READ : MMU_ACCESS_FETCH;
        uint64_t fault = 0;
        want = model_guest_at(&h->md, k, o->a, mb, n, &fault);
        h->n_log = 0;
        got = k == MMU_ACCESS_READ ? mmu_load(h->m, o->a, gb, n) : mmu_fetch(h->m, o->a, gb, n);
        if (!cmp_events(h, what, k, o->a, n, NULL, want, fault))
            return false;
    }
    if (!expect(h, what, want, got))
        return false;
    if (got != MMU_OK && !untouched(gb, n))
        return fail(h, "%s failed but wrote its buffer", what);
    if (got == MMU_OK && memcmp(gb, mb, n))
        return fail(h, "%s returned bytes that differ from the model", what);
    return true;
}

static bool ex_write(harness *h, const op *o)
{
    uint8_t buf[MAX_IO];
    size_t n = o->b;
    pat_fill(buf, n, o->fill, o->c);
    if (o->k == OP_WRITE)
        return expect(h, "mmu_write", model_write(&h->md, o->a, buf, n), mmu_write(h->m, o->a, buf, n));
    uint64_t fault = 0;
    unsigned want = model_guest_at(&h->md, MMU_ACCESS_WRITE, o->a, buf, n, &fault);
    h->n_log = 0;
    mmu_err got = mmu_store(h->m, o->a, buf, n);
    return cmp_events(h, "mmu_store", MMU_ACCESS_WRITE, o->a, n, buf, want, fault)
           && expect(h, "mmu_store", want, got);
}

static bool ex_ptr(harness *h, const op *o)
{
    bool sg = o->flags & 1;
    if (o->k == OP_WRITE_PTR)
        return expect(h, "mmu_write_ptr", model_write_ptr(&h->md, o->a, o->c, (unsigned)o->b, sg),
                      mmu_write_ptr(h->m, o->a, o->c, (unsigned)o->b, sg));
    const uint64_t s = 0x5e5e5e5e5e5e5e5eull;
    uint64_t mv = s, gv = s;
    unsigned want = model_read_ptr(&h->md, o->a, (unsigned)o->b, sg, &mv);
    mmu_err got = mmu_read_ptr(h->m, o->a, (unsigned)o->b, sg, &gv);
    return expect(h, "mmu_read_ptr", want, got) && cmp_out(h, "mmu_read_ptr", got, gv, mv, s);
}

static mmu_err typed_load(mmu_t *m, uint64_t addr, unsigned w, uint64_t *v)
{
    uint8_t a;
    uint16_t b;
    uint32_t c;
    mmu_err e;
    switch (w) {
    case 1: e = mmu_load_u8(m, addr, &a); if (!e) *v = a; return e;
    case 2: e = mmu_load_u16(m, addr, &b); if (!e) *v = b; return e;
    case 4: e = mmu_load_u32(m, addr, &c); if (!e) *v = c; return e;
    default: return mmu_load_u64(m, addr, v);
    }
}

static mmu_err typed_store(mmu_t *m, uint64_t addr, unsigned w, uint64_t v)
{
    switch (w) {
    case 1: return mmu_store_u8(m, addr, (uint8_t)v);
    case 2: return mmu_store_u16(m, addr, (uint16_t)v);
    case 4: return mmu_store_u32(m, addr, (uint32_t)v);
    default: return mmu_store_u64(m, addr, v);
    }
}

/* the inline TLB fast paths */
static bool ex_typed(harness *h, const op *o)
{
    unsigned w = (unsigned)o->b;
    uint8_t b[8];
    uint64_t fault = 0;
    h->n_log = 0;
    if (o->k == OP_STORE_T) {
        model_store_order(&h->md, b, o->c, w);
        unsigned want = model_guest_at(&h->md, MMU_ACCESS_WRITE, o->a, b, w, &fault);
        mmu_err got = typed_store(h->m, o->a, w, o->c);
        return cmp_events(h, "mmu_store_uN", MMU_ACCESS_WRITE, o->a, w, b, want, fault)
               && expect(h, "mmu_store_uN", want, got);
    }
    const uint64_t s = 0x5e5e5e5e5e5e5e5eull;
    uint64_t mv = s, gv = s;
    unsigned want = model_guest_at(&h->md, MMU_ACCESS_READ, o->a, b, w, &fault);
    if (want == EBIT(MMU_OK))
        mv = model_load_order(&h->md, b, w);
    mmu_err got = typed_load(h->m, o->a, w, &gv);
    return cmp_events(h, "mmu_load_uN", MMU_ACCESS_READ, o->a, w, NULL, want, fault)
           && expect(h, "mmu_load_uN", want, got) && cmp_out(h, "mmu_load_uN", got, gv, mv, s);
}

#if MODEL_HAVE_STRINGS
static bool ex_string(harness *h, const op *o)
{
    char mb[MAX_IO], gb[MAX_IO];
    size_t n = o->b;
    if (o->k == OP_WRITE_STRING) {
        for (size_t i = 0; i < n; i++)
            mb[i] = (char)('a' + (o->fill + i) % 26);
        mb[n] = 0;
        unsigned want = model_write(&h->md, o->a, (const uint8_t *)mb, n + 1);
        return expect(h, "mmu_write_string", want, mmu_write_string(h->m, o->a, mb));
    }
    size_t ml = 0x5e5e, gl = 0x5e5e;
    memset(gb, SENTINEL, n);
    unsigned want = model_read_string(&h->md, o->a, mb, n, &ml);
    mmu_err got = mmu_read_string(h->m, o->a, gb, n, &gl);
    if (!expect(h, "mmu_read_string", want, got))
        return false;
    if (got != MMU_OK && (gl != 0x5e5e || !untouched((uint8_t *)gb, n)))
        return fail(h, "mmu_read_string failed but wrote its buffer or length");
    if (got == MMU_OK && (gl != ml || memcmp(gb, mb, ml + 1)))
        return fail(h, "mmu_read_string gave length %zu, the model %zu (or other bytes)", gl, ml);
    return true;
}
#endif

#if MODEL_HAVE_SEARCH
static bool cmp_matches(harness *h, mmu_err got, size_t gc, size_t mc, const uint64_t *go, const uint64_t *mo,
                        size_t max_out)
{
    const uint64_t s = 0x5e5e5e5e5e5e5e5eull;
    if (got != MMU_OK)
        return gc == 0x5e5e || fail(h, "mmu_search failed but wrote its count");
    if (gc != mc)
        return fail(h, "mmu_search found %zu matches, the model %zu", gc, mc);
    for (size_t i = 0; i < 8; i++) {
        uint64_t want = i < mc && i < max_out ? mo[i] : s;
        if (go[i] != want)
            return fail(h, "mmu_search out[%zu] = %#llx, the model %#llx", i, (unsigned long long)go[i],
                        (unsigned long long)want);
    }
    return true;
}

uint64_t harness_matches; /* search hits seen (coverage) */

static bool ex_search(harness *h, const op *o)
{
    uint8_t needle[16];
    size_t len = (size_t)o->c, max_out = o->perms, mc = 0x5e5e, gc = 0x5e5e;
    uint64_t mo[8], go[8];
    memset(mo, 0x5e, sizeof mo);
    memset(go, 0x5e, sizeof go);
    pat_fill(needle, len, o->fill, o->d);
    unsigned want = model_search(&h->md, needle, len, o->a, o->b, o->flags, mo, max_out, &mc);
    harness_matches += want == EBIT(MMU_OK) ? mc : 0;
    mmu_err got = mmu_search(h->m, needle, len, o->a, o->b, o->flags, max_out ? go : NULL, max_out, &gc);
    return expect(h, "mmu_search", want, got) && cmp_matches(h, got, gc, mc, go, mo, max_out);
}
#endif

#if MODEL_HAVE_SNAPSHOT
static bool model_has_mmio(const model *md)
{
    for (size_t i = 0; i < md->n; i++)
        if (md->r[i].kind == MK_MMIO)
            return true;
    return false;
}

/* write s to memory and read it back: the copy must restore the same */
static mmu_err round_trip(mmu_snapshot **s)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    mmu_err e = mmu_snapshot_write(*s, f);
    fclose(f);
    mmu_snapshot *copy = NULL;
    if (e == MMU_OK) {
        f = fmemopen(buf, size, "r");
        e = mmu_snapshot_read(f, &copy);
        fclose(f);
    }
    free(buf);
    if (e == MMU_OK) {
        mmu_snapshot_free(*s);
        *s = copy;
    }
    return e;
}

static bool ex_snap(harness *h, const op *o)
{
    int i = (int)(o->a % N_SNAPS);
    if (o->k == OP_SNAP_RESTORE) {
        if (!h->have_snap[i])
            return true;
        if (!expect(h, "mmu_snapshot_restore", EBIT(MMU_OK), mmu_snapshot_restore(h->m, h->snaps[i])))
            return false;
        model_restore(&h->md, &h->msnaps[i]);
        return harness_check(h);
    }
    mmu_snapshot *s = NULL;
    if (!expect(h, "mmu_snapshot_save", EBIT(MMU_OK), mmu_snapshot_save(h->m, &s)))
        return false;
    if ((o->flags & 1) && !model_has_mmio(&h->md)
        && !expect(h, "mmu_snapshot_write/read", EBIT(MMU_OK), round_trip(&s))) {
        mmu_snapshot_free(s);
        return false;
    }
    mmu_snapshot_free(h->snaps[i]);
    h->snaps[i] = s;
    if (h->have_snap[i])
        model_free(&h->msnaps[i]);
    model_clone(&h->msnaps[i], &h->md);
    h->have_snap[i] = true;
    return true;
}
#endif

bool harness_step(harness *h, const op *o)
{
    bool ok = true;
    h->last_err = MMU_OK;
    switch ((op_kind)o->k) {
    case OP_MAP: ok = ex_map(h, o); break;
    case OP_MAP_PTR: ok = ex_map_ptr(h, o); break;
    case OP_MAP_MMIO: ok = ex_map_mmio(h, o); break;
    case OP_UNMAP: case OP_UNMAP_ALL: ok = ex_unmap(h, o); break;
    case OP_PROTECT: case OP_SET_LABEL: ok = ex_protect(h, o); break;
    case OP_FIND_FREE: case OP_MAP_ANYWHERE: ok = ex_free_space(h, o); break;
    case OP_IS_AVAILABLE: case OP_IS_MAPPED: ok = ex_query(h, o); break;
    case OP_READ: case OP_LOAD: case OP_FETCH: ok = ex_read(h, o); break;
    case OP_WRITE: case OP_STORE: ok = ex_write(h, o); break;
    case OP_READ_PTR: case OP_WRITE_PTR: ok = ex_ptr(h, o); break;
    case OP_LOAD_T: case OP_STORE_T: ok = ex_typed(h, o); break;
#if MODEL_HAVE_STRINGS
    case OP_READ_STRING: case OP_WRITE_STRING: ok = ex_string(h, o); break;
#endif
#if MODEL_HAVE_SEARCH
    case OP_SEARCH: ok = ex_search(h, o); break;
#endif
#if MODEL_HAVE_SNAPSHOT
    case OP_SNAP_SAVE: case OP_SNAP_RESTORE: ok = ex_snap(h, o); break;
#endif
    case OP_HOOK_ADD: case OP_HOOK_DEL: ok = ex_hook(h, o); break;
    case OP_CHECK: ok = harness_check(h); break;
    default: break;
    }
    harness_seen[o->k][h->last_err < 15 ? h->last_err : 15]++;
    if (ok && h->dev_oob)
        ok = fail(h, "a device callback got an offset outside its device");
    return ok && cmp_regions(h) && cmp_code_gen(h);
}

/* ------------------------------------------------------------ generator */

uint64_t src_next(op_src *s)
{
    if (s->fuzz) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = v << 8 | (s->pos < s->size ? s->data[s->pos++] : 0);
        return v;
    }
    uint64_t z = (s->state += 0x9e3779b97f4a7c15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform-ish in [0, n); a fuzzer pays only the bytes n needs */
static uint64_t below(op_src *s, uint64_t n)
{
    if (n <= 1)
        return 0;
    if (!s->fuzz)
        return src_next(s) % n;
    uint64_t v = 0;
    for (uint64_t lim = n - 1; lim; lim >>= 8)
        v = v << 8 | (s->pos < s->size ? s->data[s->pos++] : 0);
    return v % n;
}

static const uint16_t weights[OP_COUNT] = {
    [OP_MAP] = 40,          [OP_MAP_PTR] = 6,      [OP_MAP_MMIO] = 6,     [OP_UNMAP] = 28,
    [OP_UNMAP_ALL] = 1,     [OP_PROTECT] = 28,     [OP_SET_LABEL] = 14,   [OP_FIND_FREE] = 16,
    [OP_MAP_ANYWHERE] = 16, [OP_IS_AVAILABLE] = 10, [OP_IS_MAPPED] = 10,  [OP_READ] = 26,
    [OP_WRITE] = 26,        [OP_READ_PTR] = 12,    [OP_WRITE_PTR] = 12,   [OP_LOAD] = 20,
    [OP_STORE] = 20,        [OP_FETCH] = 16,       [OP_LOAD_T] = 24,      [OP_STORE_T] = 24,
    [OP_READ_STRING] = 8 * MODEL_HAVE_STRINGS,     [OP_WRITE_STRING] = 8 * MODEL_HAVE_STRINGS,
    [OP_SEARCH] = 12 * MODEL_HAVE_SEARCH,          [OP_SNAP_SAVE] = 4 * MODEL_HAVE_SNAPSHOT,
    [OP_SNAP_RESTORE] = 5 * MODEL_HAVE_SNAPSHOT,   [OP_HOOK_ADD] = 4,      [OP_HOOK_DEL] = 2,
    [OP_CHECK] = 3,
};

static uint8_t pick_kind(op_src *s)
{
    unsigned total = 0;
    for (int k = 0; k < OP_COUNT; k++)
        total += weights[k];
    unsigned r = (unsigned)below(s, total);
    int k = 0;
    while (r >= weights[k])
        r -= weights[k++];
    return (uint8_t)k;
}

static uint64_t gen_base(harness *h, op_src *s)
{
    u128 end = (u128)h->md.space_last + 1;
    switch (below(s, 6)) {
    case 0: return 0;
    case 1: return 0x400000;
    case 2: return (uint64_t)(end - 48 * MPAGE); /* top of the space */
    case 3: return (uint64_t)0 - 48 * MPAGE;     /* top of 2^64 */
    case 4: return 0xffff0000ull;                /* across 4 GiB */
    default: return 0x7ffff7ff0000ull;
    }
}

static uint64_t gen_addr(harness *h, op_src *s)
{
    uint64_t a;
    if (h->md.n && below(s, 8) < 5) { /* in or next to a region */
        const model_region *r = &h->md.r[below(s, h->md.n)];
        a = r->start + below(s, (region_size(r) >> 12) + 2) * MPAGE - MPAGE;
    } else {
        a = gen_base(h, s) + (below(s, 80) - 8) * MPAGE;
    }
    if (below(s, 8) == 0)
        a += below(s, MPAGE);
    return a;
}

static uint64_t gen_size(harness *h, op_src *s, uint64_t addr, bool big)
{
    switch (below(s, 16)) {
    case 0: return 0;
    case 1: return 1 + below(s, 3 * MPAGE);
    case 2: return (uint64_t)0 - addr + MPAGE; /* wraps past 2^64 */
    case 3: {
        u128 d = (u128)h->md.space_last + 1 - addr; /* up to the end of the space */
        return addr <= h->md.space_last && d <= 128 * MPAGE ? (uint64_t)d : MPAGE;
    }
    case 4: return big ? (uint64_t)1 << (16 + below(s, 48)) : (1 + below(s, 64)) * MPAGE;
    default: return (1 + below(s, 8)) * MPAGE;
    }
}

static uint64_t gen_align(op_src *s)
{
    static const uint64_t a[] = { 0, 0, 0x1000, 1, 0x10, 0x2000, 0x10000, 0x3000, (uint64_t)1 << 32, (uint64_t)1 << 63 };
    return a[below(s, sizeof a / sizeof *a)];
}

static uint64_t gen_max(harness *h, op_src *s)
{
    switch (below(s, 5)) {
    case 0: case 1: return 0;
    case 2: return h->md.space_last + 1; /* 0 in a 64-bit space */
    case 3: return h->md.space_last + 1 + MPAGE;
    default: return gen_addr(h, s);
    }
}

/* map_anywhere never gets a size it could map and the model not hold */
static uint64_t gen_big(harness *h, op_src *s, bool mapping)
{
    if (!mapping)
        return below(s, 2) ? (uint64_t)1 << (16 + below(s, 48)) : UINT64_MAX - below(s, 2 * MPAGE);
    return below(s, 2) ? UINT64_MAX - below(s, MMASK) : h->md.space_last + 1 + MPAGE; /* ARG either way */
}

static void gen_free_space(harness *h, op_src *s, op *o)
{
    switch (below(s, 6)) {
    case 0: o->a = below(s, 4) ? 1 + below(s, 3 * MPAGE) : 0; break;
    case 1: o->a = gen_big(h, s, o->k == OP_MAP_ANYWHERE); break;
    default: o->a = (1 + below(s, 16)) * MPAGE; break;
    }
    o->b = below(s, 3) == 0 ? 0 : gen_addr(h, s);
    o->c = gen_max(h, s);
    o->d = gen_align(s);
}

static uint64_t gen_value(op_src *s)
{
    static const uint64_t v[] = { 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000ull,
                                  0xffffffffull, 0x100000000ull, UINT64_MAX, UINT64_MAX - 0x7f, (uint64_t)INT64_MIN };
    if (below(s, 2))
        return src_next(s) >> (8 * below(s, 8));
    uint64_t x = v[below(s, sizeof v / sizeof *v)];
    return below(s, 2) ? x : (uint64_t)0 - x;
}

static uint64_t gen_io(op_src *s)
{
    return below(s, 4) == 0 ? below(s, MAX_IO + 1) : below(s, 17);
}

/* typed accesses: mostly aligned, sometimes across a page end */
static void gen_typed(harness *h, op_src *s, op *o)
{
    unsigned w = 1u << below(s, 4);
    o->b = w;
    o->a = gen_addr(h, s);
    if (below(s, 4) == 0)
        o->a = (o->a | MMASK) - below(s, w);
    else
        o->a &= ~(uint64_t)(w - 1);
    o->c = src_next(s);
}

static void gen_search(harness *h, op_src *s, op *o)
{
    o->a = below(s, 2) ? 0 : gen_addr(h, s);
    o->b = below(s, 2) ? 0 : below(s, 2) ? gen_addr(h, s) : o->a + below(s, 0x3000);
    o->c = below(s, 16) ? 1 + below(s, 8) : 0;
    o->d = below(s, 21);
    o->perms = (unsigned)below(s, 5);
    o->flags = below(s, 16) ? (uint8_t)below(s, 2) : 2;
}

static void gen_args(harness *h, op_src *s, op *o)
{
    switch ((op_kind)o->k) {
    case OP_MAP: o->a = gen_addr(h, s); o->b = gen_size(h, s, o->a, false); break;
    case OP_MAP_PTR:
        o->a = gen_addr(h, s);
        o->b = below(s, 8) ? (1 + below(s, 16)) * MPAGE : below(s, 2) ? 0 : 1 + below(s, MPAGE);
        break;
    case OP_MAP_MMIO:
        o->a = gen_addr(h, s);
        o->b = below(s, 16) ? (1 + below(s, 8)) * MPAGE : 0;
        o->flags = (uint8_t)below(s, 4);
        o->label = o->label == 1 ? 0 : o->label; /* "" for MMIO: unspecified */
        break;
    case OP_FIND_FREE: case OP_MAP_ANYWHERE: gen_free_space(h, s, o); break;
    case OP_READ: case OP_LOAD: case OP_FETCH: case OP_WRITE: case OP_STORE:
        o->a = gen_addr(h, s); o->b = gen_io(s); o->c = below(s, 64); break;
    case OP_READ_PTR: case OP_WRITE_PTR: {
        static const uint64_t sz[] = { 0, 1, 2, 3, 4, 8, 16 };
        o->a = gen_addr(h, s); o->b = sz[below(s, 7)]; o->c = gen_value(s); o->flags = (uint8_t)below(s, 2);
        break;
    }
    case OP_LOAD_T: case OP_STORE_T: gen_typed(h, s, o); break;
    case OP_READ_STRING: o->a = gen_addr(h, s); o->b = below(s, 4) ? below(s, 64) : below(s, MAX_IO); break;
    case OP_WRITE_STRING: o->a = gen_addr(h, s); o->b = below(s, 4) ? below(s, 40) : below(s, 600); break;
    case OP_SEARCH: gen_search(h, s, o); break;
    case OP_SNAP_SAVE: case OP_SNAP_RESTORE: o->a = below(s, N_SNAPS); o->flags = below(s, 4) == 0; break;
    case OP_HOOK_ADD:
        o->perms = below(s, 16) ? 1 + (unsigned)below(s, 0x1ff) : below(s, 2) ? 0 : 0x201;
        o->a = gen_addr(h, s);
        o->b = below(s, 4) ? o->a + below(s, 4 * MPAGE) : o->a - 1 - below(s, 2); /* begin > end: all */
        break;
    case OP_HOOK_DEL: o->c = below(s, MAX_HOOKS + 2); break;
    default: o->a = gen_addr(h, s); o->b = gen_size(h, s, o->a, true); break;
    }
}

op harness_gen(harness *h, op_src *s)
{
    op o = { 0 };
    o.k = pick_kind(s);
    if (o.k == OP_UNMAP_ALL && below(s, 4)) /* rarer still: let maps pile up */
        o.k = pick_kind(s);
    o.label = (uint8_t)below(s, N_LABELS);
    o.fill = (uint8_t)below(s, 4);
    o.perms = (unsigned)below(s, 9);
    gen_args(h, s, &o);
    return o;
}

harness_cfg harness_gen_cfg(op_src *s)
{
    static const unsigned bits[] = { 32, 48, 64, 64 }, ptr[] = { 0, 1, 2, 4, 8 }, tlb[] = { 0, 1, 2, 16 };
    harness_cfg c = { bits[below(s, 4)], ptr[below(s, 5)], tlb[below(s, 4)], below(s, 2) };
    return c;
}

/* ------------------------------------------------ replay, shrink, print */

static char replay_msg[2048];

long harness_replay(const harness_cfg *cfg, const op *ops, size_t n)
{
    harness *h = harness_new(cfg);
    long bad = -1;
    for (size_t i = 0; i < n && bad < 0; i++) {
        bool ok = harness_step(h, &ops[i]);
        if (ok && (n <= 300 || i % 16 == 15 || i + 1 == n))
            ok = harness_check(h);
        if (!ok) {
            bad = (long)i;
            snprintf(replay_msg, sizeof replay_msg, "%s", h->msg);
        }
    }
    harness_free(h);
    return bad;
}

/* ddmin over the op list: drop chunks while the divergence stays */
size_t harness_shrink(const harness_cfg *cfg, op *ops, size_t n)
{
    long r = harness_replay(cfg, ops, n);
    if (r < 0)
        return n;
    n = (size_t)r + 1;
    op *tmp = xmalloc(n * sizeof *tmp);
    size_t chunk = n > 1 ? n / 2 : 1;
    for (unsigned budget = 20000; budget && n > 1;) {
        bool progress = false;
        for (size_t i = 0; i < n && budget; budget--) {
            size_t len = chunk < n - i ? chunk : n - i;
            memcpy(tmp, ops, i * sizeof *ops);
            memcpy(tmp + i, ops + i + len, (n - i - len) * sizeof *ops);
            r = len < n ? harness_replay(cfg, tmp, n - len) : -1;
            if (r >= 0) {
                n = (size_t)r + 1;
                memcpy(ops, tmp, n * sizeof *ops);
                progress = true;
            } else {
                i += len;
            }
        }
        if (!progress && chunk == 1)
            break;
        if (!progress)
            chunk /= 2;
    }
    free(tmp);
    harness_replay(cfg, ops, n); /* leaves the final message in replay_msg */
    return n;
}

static void print_label(FILE *f, unsigned i)
{
    if (labels[i])
        fprintf(f, "\"%s\"", labels[i]);
    else
        fprintf(f, "NULL");
}


static void print_map_like(FILE *f, const op *o, int *n_dev)
{
    switch ((op_kind)o->k) {
    case OP_MAP: fprintf(f, "mmu_map(m, %#llx, %#llx, %u, ", X64(o->a), X64(o->b), o->perms); break;
    case OP_MAP_PTR:
        fprintf(f, "p = aligned_alloc(4096, 0x10000); fill(p, 0x10000, %u, 0);\n    ", o->fill);
        fprintf(f, "mmu_map_ptr(m, %#llx, %#llx, %u, p, ", X64(o->a), X64(o->b), o->perms);
        break;
    case OP_MAP_MMIO:
        fprintf(f, "mmu_map_mmio(m, %#llx, %#llx, %s, %s, &dev[%d], ", X64(o->a), X64(o->b),
                o->flags & 1 ? "dev_rd" : "NULL", o->flags & 2 ? "dev_wr" : "NULL", (*n_dev)++);
        break;
    case OP_SET_LABEL: fprintf(f, "mmu_set_label(m, %#llx, %#llx, ", X64(o->a), X64(o->b)); break;
    default: fprintf(f, "mmu_map_anywhere(m, %#llx, %#llx, %#llx, %#llx, %u, ", X64(o->a), X64(o->b), X64(o->c),
                     X64(o->d), o->perms);
    }
    print_label(f, o->label);
    fprintf(f, o->k == OP_MAP_ANYWHERE ? ", &v);\n" : ");\n");
}

static void print_op(FILE *f, const op *o, int *n_dev)
{
    unsigned long long a = o->a, b = o->b, c = o->c, d = o->d;
    fprintf(f, "    ");
    switch ((op_kind)o->k) {
    case OP_MAP: case OP_MAP_PTR: case OP_MAP_MMIO: case OP_SET_LABEL: case OP_MAP_ANYWHERE:
        print_map_like(f, o, n_dev);
        return;
    case OP_UNMAP: fprintf(f, "mmu_unmap(m, %#llx, %#llx);\n", a, b); return;
    case OP_UNMAP_ALL: fprintf(f, "mmu_unmap_all(m);\n"); return;
    case OP_PROTECT: fprintf(f, "mmu_protect(m, %#llx, %#llx, %u);\n", a, b, o->perms); return;
    case OP_FIND_FREE: fprintf(f, "mmu_find_free_space(m, %#llx, %#llx, %#llx, %#llx, &v);\n", a, b, c, d); return;
    case OP_IS_AVAILABLE: fprintf(f, "mmu_is_available(m, %#llx, %#llx);\n", a, b); return;
    case OP_IS_MAPPED: fprintf(f, "mmu_is_mapped(m, %#llx, %#llx);\n", a, b); return;
    case OP_READ: fprintf(f, "mmu_read(m, %#llx, buf, %#llx);\n", a, b); return;
    case OP_LOAD: fprintf(f, "mmu_load(m, %#llx, buf, %#llx);\n", a, b); return;
    case OP_FETCH: fprintf(f, "mmu_fetch(m, %#llx, buf, %#llx);\n", a, b); return;
    case OP_WRITE: case OP_STORE:
        fprintf(f, "fill(buf, %#llx, %u, %llu); mmu_%s(m, %#llx, buf, %#llx);\n", b, o->fill, c,
                o->k == OP_WRITE ? "write" : "store", a, b);
        return;
    case OP_READ_PTR: fprintf(f, "mmu_read_ptr(m, %#llx, %llu, %d, &v);\n", a, b, o->flags & 1); return;
    case OP_WRITE_PTR: fprintf(f, "mmu_write_ptr(m, %#llx, %#llx, %llu, %d);\n", a, c, b, o->flags & 1); return;
    case OP_LOAD_T: fprintf(f, "mmu_load_u%llu(m, %#llx, &v%llu);\n", 8 * b, a, 8 * b); return;
    case OP_STORE_T: fprintf(f, "mmu_store_u%llu(m, %#llx, (uint%llu_t)%#llx);\n", 8 * b, a, 8 * b, c); return;
    case OP_READ_STRING: fprintf(f, "mmu_read_string(m, %#llx, (char *)buf, %llu, &len);\n", a, b); return;
    case OP_WRITE_STRING:
        fprintf(f, "letters((char *)buf, %llu, %u); mmu_write_string(m, %#llx, (char *)buf);\n", b, o->fill, a);
        return;
    case OP_SEARCH:
        fprintf(f, "fill(buf, %llu, %u, %llu); mmu_search(m, buf, %llu, %#llx, %#llx, %u, out, %u, &len);\n", c,
                o->fill, d, c, a, b, o->flags, o->perms);
        return;
    case OP_SNAP_SAVE: fprintf(f, "mmu_snapshot_save(m, &snap[%llu]);%s\n", a, o->flags & 1 ? " /* + write/read */" : ""); return;
    case OP_SNAP_RESTORE: fprintf(f, "mmu_snapshot_restore(m, snap[%llu]);\n", a); return;
    case OP_HOOK_ADD:
        fprintf(f, "mmu_hook_add(m, %#x, record_event, NULL, %#llx, %#llx, &id[n_id++]); /* returns false */\n",
                o->perms, a, b);
        return;
    case OP_HOOK_DEL: fprintf(f, "mmu_hook_del(m, id[%llu]); /* a bogus id past n_id */\n", c); return;
    default: fprintf(f, "/* compare all contents, stats and the digest */\n"); return;
    }
}

void harness_print(FILE *f, const harness_cfg *cfg, const op *ops, size_t n)
{
    int n_dev = 0;
    fprintf(f, "/* reproducer, %zu calls. fill(buf, n, k, off): buf[i] = k ? k*0x9d + ((off+i)%%7)*0x25 + "
               "(off+i)%%3 : 0;\n   letters(s, n, k): s[i] = 'a' + (k+i)%%26, NUL-terminated; dev_rd/dev_wr: a "
               "device that reads and writes a byte array at the offset */\n", n);
    fprintf(f, "    mmu_config cfg = { .addr_bits = %u, .ptr_size = %u, .big_endian = %d, .tlb_entries = %u };\n",
            cfg->addr_bits, cfg->ptr_size, cfg->big_endian, cfg->tlb_entries);
    fprintf(f, "    mmu_open(&cfg, &m);\n");
    for (size_t i = 0; i < n; i++)
        print_op(f, &ops[i], &n_dev);
    fprintf(f, "    /* divergence at the last call: %s */\n", replay_msg);
}

/* ---------------------------------------------------- random streams */

/* snapshots stay valid after their MMU is closed: restore each into a new
 * MMU and compare it with the model's copy */
static bool snapshots_outlive_their_mmu(harness *h)
{
#if MODEL_HAVE_SNAPSHOT
    mmu_config c = { .addr_bits = h->cfg.addr_bits, .ptr_size = h->cfg.ptr_size, .big_endian = h->cfg.big_endian, .tlb_entries = h->cfg.tlb_entries };
    for (int i = 0; i < N_SNAPS; i++) {
        if (!h->have_snap[i])
            continue;
        mmu_close(h->m);
        if (mmu_open(&c, &h->m) != MMU_OK)
            abort();
        if (!expect(h, "mmu_snapshot_restore into a new MMU", EBIT(MMU_OK), mmu_snapshot_restore(h->m, h->snaps[i])))
            return false;
        model_restore(&h->md, &h->msnaps[i]);
        h->md.code_changed = false;
        h->code_gen = mmu_code_generation(h->m);
        if (!harness_check(h))
            return false;
    }
#else
    (void)h;
#endif
    return true;
}

/* one run of len ops from its own seed; on divergence prints a shrunk
 * reproducer to out and returns false */
static bool run_one(uint64_t seed, size_t len, run_stats *st, FILE *out)
{
    op_src src = { .state = seed };
    harness_cfg cfg = harness_gen_cfg(&src);
    harness *h = harness_new(&cfg);
    op *ops = xmalloc(len * sizeof *ops);
    size_t i = 0;
    bool ok = true;
    for (; i < len && ok; i++) {
        ops[i] = harness_gen(h, &src);
        ok = harness_step(h, &ops[i]);
        if (ok && (i % 64 == 63 || i + 1 == len))
            ok = harness_check(h);
    }
    st->ops += i;
    st->runs++;
    if (ok && !snapshots_outlive_their_mmu(h)) { /* printed in full: not a replayable op */
        st->divergences++;
        fprintf(out, "model divergence (seed %#llx) after the run: %s\n", X64(seed), h->msg);
        snprintf(replay_msg, sizeof replay_msg, "then each snapshot restored into a new MMU: %.1900s", h->msg);
        harness_print(out, &cfg, ops, i);
        ok = false;
    } else if (!ok) {
        st->divergences++;
        fprintf(out, "model divergence (seed %#llx, op %zu): %s\n", X64(seed), i - 1, h->msg);
        size_t n = harness_shrink(&cfg, ops, i);
        harness_print(out, &cfg, ops, n);
    }
    harness_free(h);
    free(ops);
    return ok;
}

/* runs of run_len ops until total ops ran; stops at the first divergence */
bool harness_random(uint64_t seed, uint64_t total, size_t run_len, run_stats *st, FILE *out)
{
    for (uint64_t r = 0; st->ops < total; r++) {
        uint64_t left = total - st->ops;
        if (!run_one(seed + r * 0x9e3779b97f4a7c15ull, left < run_len ? (size_t)left : run_len, st, out))
            return false;
    }
    return true;
}
