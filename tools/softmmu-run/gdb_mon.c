/*
 * gdb_mon.c - what the stub shows of the machine: `monitor` commands
 * (qRcmd), the memory map gdb reads (qXfer:memory-map) and the guest's
 * /proc/PID/maps for `info proc mappings`.
 */
#include "gdb.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ text, as O packets */

typedef struct text {
    char  *buf;
    size_t len, cap;
    bool   oom;
} text;

static void tput(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tput(text *t, const char *fmt, ...)
{
    va_list ap;
    for (int pass = 0; pass < 2 && !t->oom; pass++) {
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t nc = (t->cap + (size_t)n + 1) * 2;
        char *b = realloc(t->buf, nc);
        if (!b)
            t->oom = true;
        else
            t->buf = b, t->cap = nc;
    }
}

/* the regions, one call to fn per region */
static mmu_region *regions(run_t *r, size_t *n)
{
    size_t cnt = mmu_regions(r->m, NULL, 0);
    mmu_region *v = malloc((cnt ? cnt : 1) * sizeof *v);
    *n = v ? mmu_regions(r->m, v, cnt) : 0;
    if (*n > cnt)
        *n = cnt;
    return v;
}

/* gdb reads the map once per connection and refuses addresses outside it,
 * so the gaps of user space are listed as ram too: memory the guest maps
 * later stays reachable (reads of a hole still fail, from the MMU) */
static void map_entry(text *t, const char *type, uint64_t start, uint64_t end)
{
    if (end > start)
        tput(t, "<memory type=\"%s\" start=\"%#" PRIx64 "\" length=\"%#" PRIx64 "\"/>\n", type, start,
             end - start);
}

char *gdb_memory_map(run_t *r, size_t *len)
{
    text t = { 0 };
    size_t n;
    uint64_t at = RUN_PAGE;
    mmu_region *v = regions(r, &n);
    tput(&t, "<?xml version=\"1.0\"?>\n<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" "
             "\"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n<memory-map>\n");
    for (size_t i = 0; v && i < n; i++) {
        if (v[i].start >= RUN_USER_TOP)
            break;
        map_entry(&t, "ram", at, v[i].start);
        map_entry(&t, (v[i].perms & MMU_PROT_WRITE) ? "ram" : "rom", v[i].start, v[i].end);
        at = v[i].end > at ? v[i].end : at;
    }
    map_entry(&t, "ram", at, RUN_USER_TOP);
    tput(&t, "</memory-map>\n");
    free(v);
    if (t.oom || !v)
        return free(t.buf), NULL;
    *len = t.len;
    return t.buf;
}

char *gdb_proc_maps(run_t *r, size_t *len)
{
    text t = { 0 };
    size_t n;
    mmu_region *v = regions(r, &n);
    for (size_t i = 0; v && i < n; i++) {
        const char *l = v[i].label ? v[i].label : "";
        const char *name = !strcmp(l, r->label) ? r->exe : (l[0] == '[' ? l : "");
        tput(&t, "%08" PRIx64 "-%08" PRIx64 " %c%c%cp %08" PRIx64 " 00:00 0%*s%s\n", v[i].start, v[i].end,
             (v[i].perms & MMU_PROT_READ) ? 'r' : '-', (v[i].perms & MMU_PROT_WRITE) ? 'w' : '-',
             (v[i].perms & MMU_PROT_EXEC) ? 'x' : '-', (uint64_t)0, *name ? 19 : 0, "", name);
    }
    if (!t.buf)
        tput(&t, "%s", "");
    free(v);
    if (t.oom || !v)
        return free(t.buf), NULL;
    *len = t.len;
    return t.buf;
}

/* ------------------------------------------------------------- commands */

static const char help_text[] =
    "softmmu-run monitor commands:\n"
    "  help                      this list\n"
    "  mapinfo                   the memory map (Qiling's table)\n"
    "  translate ADDR [r|w|x]    how the MMU translates ADDR for a read (default), write or fetch:\n"
    "                            TLB slot and hit, page-table slot and entry, perms and flags,\n"
    "                            host address or the fault it would raise\n"
    "  tlb                       TLB occupancy, hit rate, flushes, the entries in use\n"
    "  stats                     MMU and CPU counters\n"
    "  hooks                     the memory hooks installed (the stub's watchpoints among them)\n"
    "  snapshot save NAME        save guest memory and registers (MMU + CPU, FP state included)\n"
    "  snapshot restore NAME     put them back exactly; also the program break; NOT restored:\n"
    "                            open files and descriptors, signal state, anything outside\n"
    "  snapshot list             the snapshots saved\n";

static void mon_mapinfo(run_t *r, text *t)
{
    size_t need = 0;
    if (mmu_format_mapinfo(r->m, NULL, 0, &need) != MMU_OK && need == 0)
        return tput(t, "(nothing mapped)\n");
    char *b = malloc(need + 1);
    if (b && mmu_format_mapinfo(r->m, b, need + 1, NULL) == MMU_OK)
        tput(t, "%s\n", b);
    else
        tput(t, "out of memory\n");
    free(b);
}

static void page_flags(unsigned page, char *buf, size_t cap)
{
    static const char *const names[] = { "mapped", "present", "mmio", "code", "tracked", "dirty", "hooked" };
    buf[0] = '\0';
    for (unsigned i = 0; i < 7; i++)
        if (page & (1u << i))
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", buf[0] ? "," : "", names[i]);
    if (!buf[0])
        snprintf(buf, cap, "none");
}

static void prot_str(unsigned p, char out[4])
{
    out[0] = (p & MMU_PROT_READ) ? 'r' : '-';
    out[1] = (p & MMU_PROT_WRITE) ? 'w' : '-';
    out[2] = (p & MMU_PROT_EXEC) ? 'x' : '-';
    out[3] = '\0';
}

static void mon_translate(run_t *r, text *t, const char *args)
{
    char *end;
    uint64_t addr = strtoull(args, &end, 0);
    while (*end == ' ')
        end++;
    mmu_access acc = *end == 'w' ? MMU_ACCESS_WRITE : *end == 'x' ? MMU_ACCESS_FETCH : MMU_ACCESS_READ;
    mmu_translation x;
    if (end == args || (*end && !strchr("rwx", *end)) || (*end && end[1]) ||
        mmu_explain(r->m, addr, acc, &x) != MMU_OK)
        return tput(t, "usage: monitor translate ADDR [r|w|x]\n");
    static const char *const kinds[] = { "read", "write", "fetch" };
    char fl[96], pr[4];
    page_flags(x.page, fl, sizeof fl);
    prot_str(x.perms, pr);
    tput(t, "%s of %#" PRIx64 ":\n", kinds[acc], addr);
    if (x.tlb_page == UINT64_MAX)
        tput(t, "  tlb:   slot %" PRIu64 " of %" PRIu64 " is empty: miss\n", x.tlb_slot, x.tlb_entries);
    else
        tput(t, "  tlb:   slot %" PRIu64 " of %" PRIu64 " holds page %#" PRIx64 " for %s%s%s: %s\n", x.tlb_slot,
             x.tlb_entries, x.tlb_page, (x.tlb_kinds & 1) ? "r" : "", (x.tlb_kinds & 2) ? "w" : "",
             (x.tlb_kinds & 4) ? "x" : "", x.tlb_hit ? "hit" : "miss");
    tput(t, "  table: top slot %#" PRIx64 " %s, entry %u: %s, perms %s\n", x.pt_top,
         x.pt_leaf ? "has a leaf" : "has no leaf", x.pt_index, fl, pr);
    if (x.label)
        tput(t, "  map:   %#" PRIx64 "-%#" PRIx64 " %s\n", x.region_start, x.region_end, x.label);
    if (x.err == MMU_OK)
        tput(t, "  => host %p%s\n", x.host, x.fast_path ? " (fast path once cached)" : " (slow path)");
    else
        tput(t, "  => fault: %s\n", mmu_strerror(x.err));
}

static void mon_tlb(run_t *r, text *t)
{
    uint64_t entries = 0;
    mmu_stats st;
    size_t used = mmu_tlb_dump(r->m, NULL, 0, &entries);
    mmu_get_stats(r->m, &st);
    uint64_t insns = cpu_insn_count(r->c);
    /* the interpreter's hits are inline and uncounted (mmu.h, mmu_stats) */
    tput(t, "tlb: %zu of %" PRIu64 " entries in use (%" PRIu64 " resizes); %" PRIu64 " misses (%.3f per 1000 "
            "instructions), %" PRIu64 " flushes\n", used, entries, st.tlb_resizes, st.tlb_misses,
         insns ? 1000.0 * (double)st.tlb_misses / (double)insns : 0.0, st.tlb_flushes);
    mmu_tlb_slot s[64];
    size_t n = mmu_tlb_dump(r->m, s, 64, NULL);
    for (size_t i = 0; i < n && i < 64; i++)
        tput(t, "  slot %5" PRIu64 "  page %#014" PRIx64 "  %s%s%s  fills %" PRIu64 "\n", s[i].slot, s[i].page,
             (s[i].kinds & 1) ? "r" : "-", (s[i].kinds & 2) ? "w" : "-", (s[i].kinds & 4) ? "x" : "-", s[i].fills);
    if (used > 64)
        tput(t, "  ... %zu more\n", used - 64);
}

static void mon_stats(run_t *r, text *t)
{
    mmu_stats st;
    mmu_get_stats(r->m, &st);
    tput(t, "cpu: %" PRIu64 " instructions, %" PRIu64 " system calls, %" PRIu64 " signals delivered\n",
         cpu_insn_count(r->c), r->syscalls, r->signals);
    tput(t, "mmu: %" PRIu64 " tlb misses, %" PRIu64 " flushes, %" PRIu64 " page walks, %" PRIu64 " faults\n",
         st.tlb_misses, st.tlb_flushes, st.page_walks, st.faults);
    tput(t, "mmu: %" PRIu64 " regions, %" PRIu64 " pages mapped, %" PRIu64 " bytes of metadata\n", st.regions,
         st.pages_mapped, st.meta_bytes);
}

static void mon_hooks(gdb_t *g, text *t)
{
    run_t *r = *g->rp;
    size_t n = mmu_hooks(r->m, NULL, 0);
    mmu_hook_info *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return tput(t, "out of memory\n");
    n = mmu_hooks(r->m, v, n);
    tput(t, "%zu memory hook%s\n", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const char *who = "";
        for (size_t k = 0; k < g->n_wp; k++)
            if (g->wp[k].id == v[i].id)
                who = g->wp[k].type == 2 ? " (gdb watch)" : g->wp[k].type == 3 ? " (gdb rwatch)" : " (gdb awatch)";
        tput(t, "  id %" PRIu64 "  types %#05x%s%s%s  [%#" PRIx64 ", %#" PRIx64 "]%s\n", (uint64_t)v[i].id, v[i].types,
             (v[i].types & MMU_HOOK_MEM_READ) ? " read" : "", (v[i].types & MMU_HOOK_MEM_WRITE) ? " write" : "",
             (v[i].types & MMU_HOOK_MEM_INVALID) ? " fault" : "", v[i].begin, v[i].end, who);
    }
    tput(t, "%zu gdb breakpoint%s (CPU code hooks)\n", g->n_bp, g->n_bp == 1 ? "" : "s");
    for (size_t k = 0; k < g->n_bp; k++)
        tput(t, "  %#" PRIx64 "\n", g->bp[k].addr);
    free(v);
}

/* ------------------------------------------------------------- snapshots */

void gdb_snap_free_all(gdb_t *g)
{
    for (int i = 0; i < g->n_snap; i++)
        mmu_snapshot_free(g->snap[i].mem);
    g->n_snap = 0;
}

static gdb_snap *snap_find(gdb_t *g, const char *name)
{
    for (int i = 0; i < g->n_snap; i++)
        if (!strcmp(g->snap[i].name, name))
            return &g->snap[i];
    return NULL;
}

static void snap_save(gdb_t *g, text *t, const char *name)
{
    run_t *r = *g->rp;
    gdb_snap *s = snap_find(g, name), fresh = { 0 };
    if (!s && g->n_snap == GDB_MAX_SNAPS)
        return tput(t, "snapshot: at most %d; none saved\n", GDB_MAX_SNAPS);
    mmu_err e = mmu_snapshot_save(r->m, &fresh.mem);
    if (e != MMU_OK)
        return tput(t, "snapshot: %s\n", mmu_strerror(e));
    snprintf(fresh.name, sizeof fresh.name, "%s", name);
    cpu_context_save(r->c, &fresh.regs);
    (void)cpu_fxsave(r->c, fresh.fx);
    fresh.brk_cur = r->brk_cur;
    fresh.stack_mapped_lo = r->stack_mapped_lo;
    if (s)
        mmu_snapshot_free(s->mem);
    else
        s = &g->snap[g->n_snap++];
    *s = fresh;
    tput(t, "snapshot '%s' saved at rip %#" PRIx64 "\n", s->name, fresh.regs.regs[CPU_RIP]);
}

static void snap_restore(gdb_t *g, text *t, const char *name)
{
    run_t *r = *g->rp;
    gdb_snap *s = snap_find(g, name);
    if (!s)
        return tput(t, "snapshot: no snapshot '%s'\n", name);
    mmu_err e = mmu_snapshot_restore(r->m, s->mem);
    if (e != MMU_OK)
        return tput(t, "snapshot: %s; nothing changed\n", mmu_strerror(e));
    cpu_context_restore(r->c, &s->regs);
    (void)cpu_fxrstor(r->c, s->fx);
    r->brk_cur = s->brk_cur;
    r->stack_mapped_lo = s->stack_mapped_lo;
    g->crash_pending = false;
    tput(t, "snapshot '%s' restored: rip %#" PRIx64 " (files, descriptors and signal state are not)\n", s->name,
         s->regs.regs[CPU_RIP]);
}

static void mon_snapshot(gdb_t *g, text *t, const char *args)
{
    char verb[16] = "", name[64] = "", extra[2] = "";
    int n = sscanf(args, "%15s %63s %1s", verb, name, extra);
    if (n == 1 && !strcmp(verb, "list")) {
        if (!g->n_snap)
            tput(t, "no snapshots\n");
        for (int i = 0; i < g->n_snap; i++)
            tput(t, "%-20s rip %#" PRIx64 "  brk %#" PRIx64 "\n", g->snap[i].name, g->snap[i].regs.regs[CPU_RIP],
                 g->snap[i].brk_cur);
    } else if (n == 2 && !strcmp(verb, "save"))
        snap_save(g, t, name);
    else if (n == 2 && !strcmp(verb, "restore"))
        snap_restore(g, t, name);
    else
        tput(t, "usage: monitor snapshot save NAME | restore NAME | list\n");
}

/* ----------------------------------------------------------- dispatcher */

void gdb_monitor(gdb_t *g, const char *cmd)
{
    text t = { 0 };
    run_t *r = *g->rp;
    while (*cmd == ' ')
        cmd++;
    size_t w = strcspn(cmd, " ");
    const char *args = cmd + w + strspn(cmd + w, " ");
#define IS(s) (w == strlen(s) && !strncmp(cmd, s, w))
    if (IS("help") || w == 0)
        tput(&t, "%s", help_text);
    else if (IS("mapinfo") && !*args)
        mon_mapinfo(r, &t);
    else if (IS("translate"))
        mon_translate(r, &t, args);
    else if (IS("tlb") && !*args)
        mon_tlb(r, &t);
    else if (IS("stats") && !*args)
        mon_stats(r, &t);
    else if (IS("hooks") && !*args)
        mon_hooks(g, &t);
    else if (IS("snapshot"))
        mon_snapshot(g, &t, args);
    else
        tput(&t, "unknown monitor command '%.*s' (try 'monitor help')\n", (int)(w > 64 ? 64 : w), cmd);
#undef IS
    if (t.oom || !t.buf)
        gdb_put(g, "E0c");
    else
        gdb_output(g, t.buf, t.len);
    free(t.buf);
}
