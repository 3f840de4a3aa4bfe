/*
 * viz.c - recording for --report: the run loop ends each slice at the next
 * sample boundary (every k instructions); a sample keeps the deltas of the
 * MMU's counters (faults, TLB misses, flushes), the events counted in it
 * and the page counts at its end. When VIZ_SAMPLES are full, pairs merge
 * and k doubles, so memory stays constant whatever the run length. Events
 * come from the hooks that already see them (system calls, the demand
 * fault hook, signal delivery); the first VIZ_EVENTS are kept one by one.
 * Without --report r->viz is NULL and none of this runs.
 */
#include "viz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

bool viz_open(run_t *r, const char *path)
{
    viz *v = calloc(1, sizeof *v);
    if (!v)
        return run_msg("out of memory"), false;
    size_t n = strlen(path);
    v->svg = n > 4 && strcmp(path + n - 4, ".svg") == 0;
    v->f = fopen(path, "we"); /* now, so an unwritable path fails before the guest runs */
    if (!v->f) {
        run_msg("cannot write the report '%s': %s", path, strerror(errno));
        free(v);
        return false;
    }
    v->path = path;
    v->k = VIZ_K0;
    v->next = VIZ_K0;
    r->viz = v;
    return true;
}

uint64_t viz_slice(run_t *r, uint64_t slice)
{
    viz *v = r->viz;
    uint64_t now = v->base + r->insns, left = v->next > now ? v->next - now : 1;
    return left < slice ? left : slice;
}

static bool count_present(void *user, const mmu_pt_leaf *leaf)
{
    *(uint64_t *)user += leaf->present;
    return true;
}

/* adds the MMU's counters since the last call to the open sample */
static void take_stats(viz *v, mmu_t *m)
{
    mmu_stats st;
    mmu_get_stats(m, &st);
    if (m != v->m) { /* a new program's MMU: its counters start at zero */
        memset(&v->last, 0, sizeof v->last);
        v->m = m;
    }
    v->cur.misses += st.tlb_misses - v->last.tlb_misses;
    v->cur.n[VIZ_FAULT] += (uint32_t)(st.faults - v->last.faults);
    v->cur.n[VIZ_FLUSH] += (uint32_t)(st.tlb_flushes - v->last.tlb_flushes);
    v->total[VIZ_FAULT] += st.faults - v->last.faults;
    v->total[VIZ_FLUSH] += st.tlb_flushes - v->last.tlb_flushes;
    v->cur.mapped = st.pages_mapped;
    if (st.page_walks != v->last.page_walks || st.pages_mapped != v->last.pages_mapped || !v->n) {
        uint64_t present = 0; /* only when something may have changed: the walk copies every leaf */
        if (mmu_pt_walk(m, count_present, &present) == MMU_OK)
            v->cur.present = present;
    }
    v->last = st;
}

static void merge(viz_sample *a, const viz_sample *b)
{
    a->end = b->end;
    a->misses += b->misses;
    for (int k = 0; k < VIZ_KINDS; k++)
        a->n[k] += b->n[k];
    a->mapped = b->mapped;
    a->present = b->present;
}

/* closes the open sample at instruction count end */
static void close_sample(viz *v, uint64_t end)
{
    v->cur.end = end;
    v->s[v->n++] = v->cur;
    viz_sample keep = v->cur;
    memset(&v->cur, 0, sizeof v->cur);
    v->cur.mapped = keep.mapped, v->cur.present = keep.present;
    if (v->n == VIZ_SAMPLES) { /* full: pairs merge, samples get twice as long */
        for (unsigned i = 0; i < VIZ_SAMPLES / 2; i++) {
            v->s[i] = v->s[2 * i];
            merge(&v->s[i], &v->s[2 * i + 1]);
        }
        v->n = VIZ_SAMPLES / 2;
        v->k *= 2;
    }
    v->next = (uint64_t)(v->n + 1) * v->k;
}

void viz_tick(run_t *r)
{
    viz *v = r->viz;
    uint64_t now = v->base + r->insns;
    if (now < v->next)
        return;
    take_stats(v, r->m);
    close_sample(v, now);
}

void viz_event_add(run_t *r, viz_kind kind, uint64_t addr, uint64_t len, int64_t ret)
{
    viz *v = r->viz;
    v->cur.n[kind]++;
    v->total[kind]++;
    if (v->n_ev < VIZ_EVENTS)
        v->ev[v->n_ev++] = (viz_event){ v->base + r->insns, addr, len, ret, kind };
}

void viz_syscall(run_t *r, uint64_t nr, const uint64_t *a, int64_t ret)
{
    switch (nr) {
    case 9: viz_event_add(r, VIZ_MMAP, ret >= 0 ? (uint64_t)ret : a[0], a[1], ret); break;
    case 10: viz_event_add(r, VIZ_MPROTECT, a[0], a[1], ret); break;
    case 11: viz_event_add(r, VIZ_MUNMAP, a[0], a[1], ret); break;
    case 12: viz_event_add(r, VIZ_BRK, a[0], 0, ret); break;
    default: break;
    }
}

/* the old program's last counters go into the open sample before its MMU goes */
void viz_exec(run_t *old, run_t *n)
{
    viz *v = old->viz;
    take_stats(v, old->m);
    v->base += old->insns;
    n->viz = v;
    viz_event_add(n, VIZ_EXEC, n->entry, 0, 0);
}

void viz_crash(run_t *r, cpu_exit why)
{
    viz *v = r->viz;
    cpu_fault f;
    cpu_last_fault(r->c, &f);
    v->crashed = true;
    v->crash_addr = why == CPU_EXIT_MEM_FAULT ? f.addr : cpu_reg_read(r->c, CPU_RIP);
    viz_event_add(r, VIZ_CRASH, v->crash_addr, 0, 0);
}

void viz_finish(run_t *r, cpu_exit why, double secs)
{
    viz *v = r->viz;
    if (r->forked) /* only the process that was started writes the report */
        return;
    take_stats(v, r->m);
    uint64_t now = v->base + r->insns, closed = v->n ? v->s[v->n - 1].end : 0;
    bool pending = v->cur.misses != 0;
    for (int k = 0; k < VIZ_KINDS; k++)
        pending |= v->cur.n[k] != 0;
    if (now > closed || pending || v->n == 0)
        close_sample(v, now); /* the last, partial sample */
    viz_leaves l;
    if (!viz_leaves_get(r->m, &l, 256)) {
        run_msg("cannot write the report '%s': out of memory", v->path);
        return;
    }
    if (v->svg)
        viz_svg_file(v->f, r, &l);
    else
        viz_html(v->f, r, &l, why, secs);
    free(l.leaf);
    if (fflush(v->f) != 0 || ferror(v->f))
        run_msg("cannot write the report '%s': %s", v->path, strerror(errno));
}

void viz_close(run_t *r)
{
    if (!r->viz)
        return;
    fclose(r->viz->f);
    free(r->viz);
    r->viz = NULL;
}
