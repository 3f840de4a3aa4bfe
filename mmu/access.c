/*
 * access.c - host access (mmu_read/mmu_write, ignoring perms) and guest
 * access (mmu_load/store/fetch, permission-checked, with hooks and faults):
 * the out-of-line slow paths behind the inline TLB fast path of mmu.h.
 */
#include "mmu_int.h"

enum dir { DIR_READ, DIR_WRITE };

/* ------------------------------------------------------------ byte order */

static uint64_t load_order(const mmu_t *m, const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned shift = m->cfg.big_endian ? 8 * (size - 1 - i) : 8 * i;
        v |= (uint64_t)p[i] << shift;
    }
    return v;
}

static void store_order(const mmu_t *m, uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        unsigned shift = m->cfg.big_endian ? 8 * (size - 1 - i) : 8 * i;
        p[i] = (uint8_t)(v >> shift);
    }
}

/* ------------------------------------------------------------ page walks */

/* a page's entry, filled on first use (without memory for a leaf, the
 * entry a fill would make: enough to read) */
static uint64_t walk(mmu_t *m, uint64_t vpn)
{
    m->page_walks++;
    uint64_t *pte = map_fill_page(m, vpn);
    return pte ? *pte : map_pte(m, vpn);
}

/* pages about to be written or marked as code need entries of their own */
static mmu_err fill_range(mmu_t *m, uint64_t addr, uint64_t size)
{
    uint64_t vpn = addr >> MMU_PAGE_BITS;
    return map_fill(m, vpn, ((addr + (size - 1)) >> MMU_PAGE_BITS) - vpn + 1);
}

static uint64_t page_end_len(uint64_t addr, uint64_t left)
{
    uint64_t in_page = MMU_PAGE_SIZE - (addr & PAGE_MASK);
    return left < in_page ? left : in_page;
}

static mmio_dev *dev_at(mmu_t *m, uint64_t addr)
{
    return region_dev(region_find(&m->ri, addr));
}

/* Callbacks that may cancel the access running them (mmu_cancel_access):
 * each level has its own flag, so a nested access cannot take the outer's. */
static bool callback_enter(mmu_t *m)
{
    bool outer = m->cancel;
    m->cancel = false;
    m->in_callback++;
    return outer;
}

/* true when the callback cancelled */
static bool callback_leave(mmu_t *m, bool outer)
{
    bool cancelled = m->cancel;
    m->cancel = outer;
    m->in_callback--;
    return cancelled;
}

void mmu_cancel_access(mmu_t *m)
{
    if (m && m->in_callback)
        m->cancel = true;
}

/* Device access, split into pieces of at most 8 bytes. A callback may
 * change the map: each piece looks its device up again, and a piece whose
 * device is gone ends the access (MMU_ERR_READ_UNMAPPED), as does a
 * callback cancelling it (MMU_ERR_CANCELLED). */
static mmu_err mmio_io(mmu_t *m, uint64_t addr, uint8_t *buf, uint64_t len, enum dir d)
{
    while (len) {
        region *r = region_find(&m->ri, addr);
        mmio_dev *dev = r ? region_dev(r) : NULL;
        if (!dev || (d == DIR_READ ? !dev->rd : !dev->wr))
            return MMU_ERR_READ_UNMAPPED;
        unsigned k = len > 8 ? 8 : (unsigned)len;
        uint64_t v = 0;
        bool outer = callback_enter(m);
        if (d == DIR_READ) {
            v = dev->rd(dev->user, addr - dev->base, k);
            memcpy(buf, &v, k);
        } else {
            memcpy(&v, buf, k);
            dev->wr(dev->user, addr - dev->base, k, v);
        }
        if (callback_leave(m, outer))
            return MMU_ERR_CANCELLED;
        addr += k;
        buf += k;
        len -= k;
    }
    return MMU_OK;
}

void access_code_changed(mmu_t *m)
{
    m->fast.code_gen++;
}

/* Before writing a page: drop decoded code, let a snapshot see it. */
static void page_written(mmu_t *m, uint64_t vpn)
{
    uint64_t *pte = pt_find(&m->pt, vpn); /* present: writes fill first */
    if (*pte & PTE_CODE) {
        *pte &= ~(uint64_t)PTE_CODE;
        access_code_changed(m);
        tlb_flush_range(m, vpn, 1); /* the next fetch must take the slow path to mark it again */
    }
}

/* Copies between buf and [addr, addr+size) which is known to be mapped and
 * allowed; memcpy runs over host-contiguous pages. Only a device callback
 * can change the map meanwhile: a page found unmapped then ends the copy
 * (MMU_ERR_READ_UNMAPPED); a callback may also cancel it. */
static mmu_err copy_pages(mmu_t *m, uint64_t addr, uint8_t *buf, uint64_t size, enum dir d)
{
    while (size) {
        uint64_t pte = walk(m, addr >> MMU_PAGE_BITS), n = page_end_len(addr, size);
        if (!(pte & PTE_VALID))
            return MMU_ERR_READ_UNMAPPED;
        if (pte & PTE_MMIO) {
            mmu_err err = mmio_io(m, addr, buf, n, d);
            if (err)
                return err;
            addr += n, buf += n, size -= n;
            continue;
        }
        uint8_t *host = PTE_HOST(pte) + (addr & PAGE_MASK);
        if (d == DIR_WRITE)
            page_written(m, addr >> MMU_PAGE_BITS);
        /* extend the run while the next page follows in host memory */
        while (n < size) {
            uint64_t next = walk(m, (addr + n) >> MMU_PAGE_BITS);
            if (!(next & PTE_VALID) || (next & PTE_MMIO) || PTE_HOST(next) != host + n)
                break;
            if (d == DIR_WRITE)
                page_written(m, (addr + n) >> MMU_PAGE_BITS);
            n += page_end_len(addr + n, size - n);
        }
        if (d == DIR_READ)
            memcpy(buf, host, n);
        else
            memcpy(host, buf, n);
        addr += n, buf += n, size -= n;
    }
    return MMU_OK;
}

/* tracked pages of a write range: give the snapshot its chance first */
static mmu_err prepare_write(mmu_t *m, uint64_t addr, uint64_t size)
{
    if (!m->snap)
        return MMU_OK;
    uint64_t vpn = addr >> MMU_PAGE_BITS, n = ((addr + (size - 1)) >> MMU_PAGE_BITS) - vpn + 1;
    return snap_before_write(m, vpn, n);
}

/* -------------------------------------------------------- host accesses */

/* every byte mapped (and the device can do it, for MMIO)? */
static bool host_ok(mmu_t *m, uint64_t addr, uint64_t size, enum dir d)
{
    if (size - 1 > UINT64_MAX - addr)
        return false;
    for (uint64_t a = addr & ~PAGE_MASK;; a += MMU_PAGE_SIZE) {
        uint64_t pte = walk(m, a >> MMU_PAGE_BITS);
        if (!(pte & PTE_VALID))
            return false;
        if (pte & PTE_MMIO) {
            mmio_dev *dev = dev_at(m, a);
            if (d == DIR_READ ? !dev->rd : !dev->wr)
                return false;
        }
        if (a >= ((addr + (size - 1)) & ~PAGE_MASK))
            return true;
    }
}

mmu_err mmu_read(mmu_t *m, uint64_t addr, void *dst, size_t size)
{
    if (!m || (!dst && size))
        return MMU_ERR_ARG;
    if (size == 0)
        return MMU_OK;
    if (!host_ok(m, addr, size, DIR_READ))
        return MMU_ERR_READ_UNMAPPED;
    return copy_pages(m, addr, dst, size, DIR_READ); /* READ_UNMAPPED or CANCELLED */
}

mmu_err mmu_write(mmu_t *m, uint64_t addr, const void *src, size_t size)
{
    if (!m || (!src && size))
        return MMU_ERR_ARG;
    if (size == 0)
        return MMU_OK;
    if (!host_ok(m, addr, size, DIR_WRITE))
        return MMU_ERR_WRITE_UNMAPPED;
    mmu_err err = fill_range(m, addr, size);
    if (!err)
        err = prepare_write(m, addr, size);
    if (err)
        return err;
    err = copy_pages(m, addr, (uint8_t *)(uintptr_t)src, size, DIR_WRITE);
    return err == MMU_ERR_READ_UNMAPPED ? MMU_ERR_WRITE_UNMAPPED : err;
}

static bool ptr_size_ok(const mmu_t *m, unsigned *size)
{
    if (*size == 0)
        *size = m->cfg.ptr_size;
    return *size == 1 || *size == 2 || *size == 4 || *size == 8;
}

mmu_err mmu_read_ptr(mmu_t *m, uint64_t addr, unsigned size, bool is_signed, uint64_t *out)
{
    if (!m || !out || !ptr_size_ok(m, &size))
        return MMU_ERR_ARG;
    uint8_t b[8];
    mmu_err err = mmu_read(m, addr, b, size);
    if (err)
        return err;
    uint64_t v = load_order(m, b, size);
    if (is_signed && size < 8 && (v >> (8 * size - 1)) & 1)
        v |= ~(uint64_t)0 << (8 * size);
    *out = v;
    return MMU_OK;
}

mmu_err mmu_write_ptr(mmu_t *m, uint64_t addr, uint64_t value, unsigned size, bool is_signed)
{
    if (!m || !ptr_size_ok(m, &size))
        return MMU_ERR_ARG;
    if (size < 8) {
        unsigned bits = 8 * size;
        int64_t s = (int64_t)value;
        if (is_signed ? (s < -((int64_t)1 << (bits - 1)) || s >= ((int64_t)1 << (bits - 1)))
                      : value >> bits)
            return MMU_ERR_ARG;
    }
    uint8_t b[8];
    store_order(m, b, value, size);
    return mmu_write(m, addr, b, size);
}


/* ------------------------------------------------------- host pointers */

mmu_err mmu_host_ptr(mmu_t *m, uint64_t addr, uint64_t size, unsigned flags, void **out)
{
    if (!m || !out || size == 0 || size - 1 > UINT64_MAX - addr || (flags & ~(unsigned)MMU_HOST_WRITE))
        return MMU_ERR_ARG;
    uint64_t last = addr + (size - 1);
    const region *r = region_find(&m->ri, addr);
    if (!r)
        return MMU_ERR_READ_UNMAPPED;
    if (r->kind == RGN_MMIO)
        return MMU_ERR_ARG;
    uint8_t *host = r->host + (addr - r->start);
    for (;;) { /* every piece is RAM or map_ptr memory, following on the host */
        if (r->kind == RGN_MMIO || (uint64_t)((uintptr_t)r->host - (uintptr_t)host) != r->start - addr)
            return MMU_ERR_ARG;
        if (r->last >= last)
            break;
        const region *next = region_next(&m->ri, r);
        if (!next || next->start != r->last + 1)
            return MMU_ERR_READ_UNMAPPED;
        r = next;
    }
    if (flags & MMU_HOST_WRITE) {
        mmu_err err = fill_range(m, addr, size);
        if (!err)
            err = prepare_write(m, addr, size);
        if (err)
            return err;
        for (uint64_t vpn = addr >> MMU_PAGE_BITS; vpn <= last >> MMU_PAGE_BITS; vpn++)
            page_written(m, vpn);
    }
    *out = host;
    return MMU_OK;
}

/* ------------------------------------------------------- guest accesses */


/* access kind k needs the page permission bit 1 << k */
_Static_assert(MMU_PROT_READ == 1 << MMU_ACCESS_READ && MMU_PROT_WRITE == 1 << MMU_ACCESS_WRITE
                   && MMU_PROT_EXEC == 1 << MMU_ACCESS_FETCH,
               "access kinds and protection bits must line up");
#define PROT_OF(k) (1u << (k))

/* a guest access moves data from the host page for reads and fetches, to it for writes */
static void copy_kind(mmu_access k, uint8_t *host, uint8_t *buf, size_t n)
{
    if (k == MMU_ACCESS_WRITE)
        memcpy(host, buf, n);
    else
        memcpy(buf, host, n);
}

static bool page_allows(mmu_t *m, mmu_access k, uint64_t page, uint64_t pte)
{
    bool ok = pte & PROT_OF(k);
    if (ok && (pte & PTE_MMIO))
        ok = mmio_dev_can(dev_at(m, page), k);
    return ok;
}

/* Finds the first byte the access may not touch. Returns MMU_OK, or the
 * fault's error with *fault_addr set. An access never wraps past 2^64:
 * the pages below are checked first, so a fault there is reported there. */
static mmu_err guest_check(mmu_t *m, mmu_access k, uint64_t addr, uint64_t size, uint64_t *fault_addr)
{
    bool wraps = size - 1 > UINT64_MAX - addr;
    uint64_t last_page = (wraps ? UINT64_MAX : addr + (size - 1)) & ~PAGE_MASK;
    for (uint64_t a = addr & ~PAGE_MASK;; a += MMU_PAGE_SIZE) {
        uint64_t pte = walk(m, a >> MMU_PAGE_BITS);
        *fault_addr = a < addr ? addr : a;
        if (!(pte & PTE_VALID))
            return MMU_ERR_READ_UNMAPPED + k;
        if (!page_allows(m, k, a, pte))
            return MMU_ERR_READ_PROT + k;
        if (a == last_page)
            break;
    }
    if (!wraps)
        return MMU_OK;
    *fault_addr = 0; /* the first byte past 2^64: it does not exist */
    return MMU_ERR_READ_UNMAPPED + k;
}

#define MAX_FAULT_RETRIES 8

/* fetched pages hold code: from now on a write to them takes the slow path
 * (tlb_fill leaves no write tag) and bumps code_gen */
static void mark_code(mmu_t *m, uint64_t addr, uint64_t size)
{
    uint64_t first = addr >> MMU_PAGE_BITS, last = (addr + (size - 1)) >> MMU_PAGE_BITS;
    for (uint64_t vpn = first;; vpn++) {
        uint64_t *pte = pt_find(&m->pt, vpn);
        if (!(*pte & PTE_CODE)) {
            *pte |= PTE_CODE;
            tlb_flush_range(m, vpn, 1); /* drop a write tag the page may have */
        }
        if (vpn == last)
            return;
    }
}

/* Checks the access; on a fault runs the fault hooks and retries while one
 * reports it handled, at most MAX_FAULT_RETRIES times in a row. As access
 * hooks, fault hooks fire when their range overlaps any byte of the access
 * (API.md), [addr, last]; the event carries the first faulting byte. */
static mmu_err check_or_fault(mmu_t *m, mmu_access k, uint64_t addr, uint64_t size, uint64_t last, uint64_t value)
{
    uint64_t fault_addr;
    for (unsigned tries = 0;; tries++) {
        mmu_err err = guest_check(m, k, addr, size, &fault_addr);
        if (!err)
            return MMU_OK;
        m->faults++;
        bool unmapped = err == MMU_ERR_READ_UNMAPPED + k;
        mmu_mem_event ev = { 1u << ((unmapped ? 3 : 6) + k), fault_addr, (unsigned)size, value };
        if (tries >= MAX_FAULT_RETRIES || !hooks_run(m, &ev, addr, last, true))
            return err;
    }
}

/* The common miss: a plain RAM page, no hooks, within one page, allowed.
 * One walk, a fill, a copy; everything else takes the general path below. */
static bool quick_miss(mmu_t *m, mmu_access k, uint64_t addr, uint8_t *buf, uint64_t size)
{
    if (k == MMU_ACCESS_FETCH || m->n_access_hooks[k] || size > MMU_PAGE_SIZE - (addr & PAGE_MASK))
        return false;
    uint64_t *filled = map_fill_page(m, addr >> MMU_PAGE_BITS);
    m->page_walks++;
    if (!filled)
        return false; /* unmapped, or a write needing a leaf: the general path says which */
    uint64_t pte = *filled;
    uint64_t bad = PTE_MMIO | (k == MMU_ACCESS_WRITE ? PTE_CODE | PTE_TRACK : 0);
    if (!(pte & PTE_VALID) || !(pte & PROT_OF(k)) || (pte & bad))
        return false;
    copy_kind(k, PTE_HOST(pte) + (addr & PAGE_MASK), buf, size);
    tlb_fill(m, addr & ~PAGE_MASK, pte);
    return true;
}

static mmu_err guest_access(mmu_t *m, mmu_access k, uint64_t addr, uint8_t *buf, uint64_t size)
{
    m->tlb_misses++;
    if (quick_miss(m, k, addr, buf, size))
        return MMU_OK;
    uint64_t value = 0, last = size - 1 > UINT64_MAX - addr ? UINT64_MAX : addr + (size - 1);
    if (k == MMU_ACCESS_WRITE)
        memcpy(&value, buf, size < 8 ? size : 8);
    mmu_err err = check_or_fault(m, k, addr, size, last, value);
    if (!err && m->n_access_hooks[k]) {
        /* the access will happen: its hooks fire once, before data moves
         * (a write hook sees the value, the memory still holds the old
         * one); a callback may change the map, so translate again */
        mmu_mem_event ev = { 1u << k, addr, (unsigned)size, value };
        bool outer = callback_enter(m);
        hooks_run(m, &ev, addr, last, false);
        if (callback_leave(m, outer))
            return MMU_ERR_CANCELLED;
        err = check_or_fault(m, k, addr, size, last, value);
    }
    if (!err && k != MMU_ACCESS_READ)
        err = fill_range(m, addr, size);
    if (!err && k == MMU_ACCESS_WRITE)
        err = prepare_write(m, addr, size);
    if (err)
        return err;
    err = copy_pages(m, addr, buf, size, k == MMU_ACCESS_WRITE ? DIR_WRITE : DIR_READ);
    if (err)
        return err == MMU_ERR_CANCELLED ? err : MMU_ERR_READ_UNMAPPED + k; /* or a device unmapped part of it */
    uint64_t page = addr & ~PAGE_MASK;
    if (k == MMU_ACCESS_FETCH)
        mark_code(m, addr, size); /* never MMIO: no callback ran */
    uint64_t *pte = pt_find(&m->pt, page >> MMU_PAGE_BITS);
    if (pte && (*pte & PTE_VALID))
        tlb_fill(m, page, *pte);
    return MMU_OK;
}


/* mmu_load/store/fetch: a one-page TLB hit copies here, the rest is guest_access */
static mmu_err bulk_access(mmu_t *m, mmu_access k, uint64_t addr, uint8_t *buf, size_t size)
{
    if (!m || (!buf && size))
        return MMU_ERR_ARG;
    uint8_t *host = tlb_hit(m, k, addr, size);
    if (host) {
        copy_kind(k, host, buf, size);
        return MMU_OK;
    }
    return size ? guest_access(m, k, addr, buf, size) : MMU_OK;
}

mmu_err mmu_load(mmu_t *m, uint64_t addr, void *dst, size_t size)
{
    return bulk_access(m, MMU_ACCESS_READ, addr, dst, size);
}

mmu_err mmu_store(mmu_t *m, uint64_t addr, const void *src, size_t size)
{
    return bulk_access(m, MMU_ACCESS_WRITE, addr, (uint8_t *)(uintptr_t)src, size);
}

mmu_err mmu_fetch(mmu_t *m, uint64_t addr, void *dst, size_t size)
{
    return bulk_access(m, MMU_ACCESS_FETCH, addr, dst, size);
}

/* the typed accessors' values are in the configured byte order */
static void to_order(const mmu_t *m, uint8_t *v, unsigned size)
{
    for (unsigned i = 0; m->cfg.big_endian && i < size / 2; i++) {
        uint8_t t = v[i];
        v[i] = v[size - 1 - i];
        v[size - 1 - i] = t;
    }
}

mmu_err mmu_load_slow_(mmu_t *m, uint64_t addr, void *dst, unsigned size)
{
    uint8_t v[8];
    mmu_err err = guest_access(m, MMU_ACCESS_READ, addr, v, size);
    if (err)
        return err; /* *dst untouched */
    to_order(m, v, size);
    memcpy(dst, v, size);
    return MMU_OK;
}

mmu_err mmu_store_slow_(mmu_t *m, uint64_t addr, const void *src, unsigned size)
{
    uint8_t v[8];
    memcpy(v, src, size);
    to_order(m, v, size);
    return guest_access(m, MMU_ACCESS_WRITE, addr, v, size);
}
