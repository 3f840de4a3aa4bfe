/*
 * mem.c - the kernel's side of guest memory: the program break, partial
 * unmaps across holes (munmap, MAP_FIXED), demand paging of the stack and
 * the heap through an MMU fault hook, and copies to and from guest buffers
 * that respect page protections (a bad buffer is -EFAULT, as in Linux).
 */
#include "viz.h"

#include <stdlib.h>
#include <errno.h>
#include <string.h>

typedef struct span {
    uint64_t lo, hi;
} span;

/* unmaps the mapped parts of [addr, addr+size); holes are fine, as for
 * munmap. false only if the MMU refused (out of memory). */
bool mem_unmap_range(run_t *r, uint64_t addr, uint64_t size)
{
    size_t n = mmu_regions(r->m, NULL, 0);
    mmu_region *reg = malloc((n ? n : 1) * sizeof *reg);
    span *cut = malloc((n ? n : 1) * sizeof *cut);
    bool ok = reg && cut;
    size_t k = 0;
    if (ok)
        n = mmu_regions(r->m, reg, n);
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t lo = reg[i].start > addr ? reg[i].start : addr;
        uint64_t hi = reg[i].end < addr + size ? reg[i].end : addr + size;
        if (lo < hi)
            cut[k++] = (span){ lo, hi };
    }
    for (size_t i = 0; ok && i < k; i++) /* collected first: unmapping changes reg */
        ok = mmu_unmap(r->m, cut[i].lo, cut[i].hi - cut[i].lo) == MMU_OK;
    free(reg);
    free(cut);
    return ok;
}

/* true if size more bytes of mappings stay within RUN_MAX_MEM */
bool mem_room(run_t *r, uint64_t size)
{
    mmu_stats st;
    mmu_get_stats(r->m, &st);
    uint64_t used = st.pages_mapped * RUN_PAGE;
    return size <= RUN_MAX_MEM && used <= RUN_MAX_MEM - size;
}

/* Linux brk(2): returns the new break, or the old one if it cannot move */
uint64_t mem_brk(run_t *r, uint64_t want)
{
    if (want < r->brk_start || want >= r->stack_lo)
        return r->brk_cur;
    uint64_t old_end = RUN_ALIGN_UP(r->brk_cur), new_end = RUN_ALIGN_UP(want);
    if (new_end > old_end) {
        if (!mmu_is_available(r->m, old_end, new_end - old_end) || !mem_room(r, new_end - old_end))
            return r->brk_cur; /* would run into another mapping, or over the limit */
        if (!r->o.demand && mmu_map(r->m, old_end, new_end - old_end, MMU_PROT_READ | MMU_PROT_WRITE,
                                    "[brk]") != MMU_OK)
            return r->brk_cur;
    } else if (new_end < old_end && !mem_unmap_range(r, new_end, old_end - new_end)) {
        return r->brk_cur;
    }
    r->brk_cur = want;
    return want;
}

/* ------------------------------------------------------------ demand paging */

/* the stack grows down to the 64 KiB boundary below the fault */
static bool grow_stack(run_t *r, uint64_t page)
{
    uint64_t lo = page & ~(RUN_DEMAND_CHUNK - 1);
    if (lo < r->stack_lo)
        lo = r->stack_lo;
    uint64_t size = r->stack_mapped_lo - lo;
    if (mmu_map(r->m, lo, size, MMU_PROT_READ | MMU_PROT_WRITE, "[stack]") != MMU_OK)
        return false;
    r->stack_mapped_lo = lo;
    r->demand_pages += size / RUN_PAGE;
    return true;
}

/* the heap gets the faulting page and the free pages after it, up to the
 * next 64 KiB boundary or the break */
static bool fill_heap(run_t *r, uint64_t page)
{
    uint64_t end = (page | (RUN_DEMAND_CHUNK - 1)) + 1, brk_end = RUN_ALIGN_UP(r->brk_cur);
    uint64_t hi = page + RUN_PAGE;
    if (end > brk_end)
        end = brk_end;
    while (hi < end && mmu_is_available(r->m, hi, RUN_PAGE))
        hi += RUN_PAGE;
    if (mmu_map(r->m, page, hi - page, MMU_PROT_READ | MMU_PROT_WRITE, "[brk]") != MMU_OK)
        return false;
    r->demand_pages += (hi - page) / RUN_PAGE;
    return true;
}

/* maps the page at addr if it lies in the stack or heap reservation */
static bool demand_page(run_t *r, uint64_t addr)
{
    uint64_t page = RUN_ALIGN_DOWN(addr);
    if (page >= r->stack_lo && page < r->stack_mapped_lo)
        return grow_stack(r, page);
    if (page >= r->brk_start && page < RUN_ALIGN_UP(r->brk_cur))
        return fill_heap(r, page);
    return false;
}

/* the fault hook: true = mapped, retry the access */
static bool demand_fault(mmu_t *m, const mmu_mem_event *ev, void *user)
{
    run_t *r = user;
    bool ok = demand_page(r, ev->addr);
    (void)m;
    r->demand_faults += ok;
    if (ok && r->viz)
        viz_event_add(r, VIZ_DEMAND, ev->addr, ev->size, 0);
    return ok;
}

static void fill_span(run_t *r, uint64_t lo, uint64_t hi, uint64_t addr, uint64_t end)
{
    lo = lo > addr ? lo : addr;
    hi = hi < end ? hi : end;
    for (uint64_t p = RUN_ALIGN_DOWN(lo); p < hi; p += RUN_PAGE)
        if (mmu_is_available(r->m, p, RUN_PAGE))
            demand_page(r, p);
}

/* pages of [addr, addr+size) that a touch would page in are mapped now, so
 * that mprotect sees the heap and stack as Linux does */
void mem_demand_fill(run_t *r, uint64_t addr, uint64_t size)
{
    if (!r->o.demand)
        return;
    fill_span(r, r->stack_lo, r->stack_mapped_lo, addr, addr + size);
    fill_span(r, r->brk_start, RUN_ALIGN_UP(r->brk_cur), addr, addr + size);
}

bool mem_demand_init(run_t *r)
{
    if (!r->o.demand)
        return true;
    mmu_err err = mmu_hook_add(r->m, MMU_HOOK_MEM_READ_UNMAPPED | MMU_HOOK_MEM_WRITE_UNMAPPED, demand_fault, r, 1,
                               0, NULL);
    return err == MMU_OK ? true : run_fail(r, "cannot add the demand-paging hook: %s", mmu_strerror(err));
}

/* ------------------------------------------------------ guest buffers */

/* a read by the kernel: needs READ on every page, may page in on demand */
bool mem_copy_in(run_t *r, uint64_t addr, void *dst, size_t size)
{
    return size == 0 || mmu_load(r->m, addr, dst, size) == MMU_OK;
}

/* a write by the kernel: needs WRITE on every page; all or nothing */
bool mem_copy_out(run_t *r, uint64_t addr, const void *src, size_t size)
{
    return size == 0 || mmu_store(r->m, addr, src, size) == MMU_OK;
}

/* how far from addr the guest may read, stopping at the first page it
 * cannot: the prefix a short write(2) sends */
size_t mem_readable(run_t *r, uint64_t addr, size_t size)
{
    uint8_t probe;
    size_t n = 0;
    while (n < size) {
        size_t chunk = (size_t)(RUN_PAGE - ((addr + n) & (RUN_PAGE - 1)));
        if (chunk > size - n)
            chunk = size - n;
        if (mmu_load(r->m, addr + n, &probe, 1) != MMU_OK)
            break;
        n += chunk;
    }
    return n;
}

/* a NUL-terminated guest string, read page by page so that a string ending
 * just before a hole is fine */
int64_t mem_string_in(run_t *r, uint64_t addr, char *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        size_t chunk = (size_t)(RUN_PAGE - ((addr + n) & (RUN_PAGE - 1)));
        if (chunk > cap - n)
            chunk = cap - n;
        if (addr + n < addr || !mem_copy_in(r, addr + n, buf + n, chunk))
            return -EFAULT;
        char *nul = memchr(buf + n, '\0', chunk);
        if (nul)
            return 0;
        n += chunk;
    }
    return -ENAMETOOLONG;
}
