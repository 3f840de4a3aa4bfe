/*
 * viz.h - --report FILE.html / FILE.svg: what softmmu-run records while the
 * guest runs (samples every k instructions, events) and the picture it
 * draws at the end. Nothing here runs unless --report was given.
 *
 * Bounded: at most VIZ_SAMPLES samples (when the buffer fills, pairs merge
 * and k doubles) and the first VIZ_EVENTS events individually (every event
 * is also counted in its sample); the drawing caps regions, leaves, pages
 * explained and TLB cells, so the file stays well under 2 MB.
 */
#ifndef SOFTMMU_RUN_VIZ_H
#define SOFTMMU_RUN_VIZ_H

#include "run.h"

#include <stdio.h>

#define VIZ_SAMPLES 512       /* samples kept; a power of two */
#define VIZ_K0 UINT64_C(1024) /* instructions per sample at the start */
#define VIZ_EVENTS 1000       /* events kept one by one */
#define VIZ_LEAVES_DRAWN 16   /* page-table leaves drawn (and whose pages are explained) */

/* event kinds: a timeline lane each */
typedef enum viz_kind {
    VIZ_FAULT,    /* any MMU fault (the MMU's fault counter) */
    VIZ_DEMAND,   /* a fault the demand-paging hook served */
    VIZ_SIGNAL,   /* a signal delivered to a guest handler */
    VIZ_MMAP, VIZ_MUNMAP, VIZ_MPROTECT, VIZ_BRK,
    VIZ_FLUSH,    /* a TLB flush (the MMU's flush counter) */
    VIZ_RESTORE,  /* a snapshot restore (softmmu-run makes none) */
    VIZ_EXEC,     /* execve replaced the program (and its MMU) */
    VIZ_CRASH,    /* the guest stopped on an unhandled fault or exception */
    VIZ_KINDS
} viz_kind;

typedef struct viz_sample {
    uint64_t end;               /* instructions at the end of the sample (cumulative) */
    uint64_t misses;            /* TLB misses in the sample */
    uint32_t n[VIZ_KINDS];      /* events of each kind in the sample */
    uint64_t mapped, present;   /* pages mapped, pages with a page-table entry, at its end */
} viz_sample;

typedef struct viz_event {
    uint64_t insn;              /* instructions before it (to within one slice) */
    uint64_t addr, len;
    int64_t  ret;
    viz_kind kind;
} viz_event;

typedef struct viz {
    FILE      *f;
    const char *path;
    bool       svg;             /* FILE.svg: address space and page table only */
    uint64_t   k;               /* instructions per sample */
    uint64_t   base;            /* instructions of the programs execve replaced */
    uint64_t   next;            /* cumulative count that closes the open sample */
    mmu_t     *m;               /* the MMU the stats baseline belongs to */
    mmu_stats  last;            /* its stats when the last sample closed */
    viz_sample s[VIZ_SAMPLES];
    unsigned   n;               /* closed samples */
    viz_sample cur;             /* the open one */
    viz_event  ev[VIZ_EVENTS];
    unsigned   n_ev;
    uint64_t   total[VIZ_KINDS]; /* every event, kept or not */
    uint64_t   crash_addr;      /* the fault address of a crash, if any */
    bool       crashed;
} viz;

/* viz.c: recording */
bool viz_open(run_t *r, const char *path); /* false: message printed, exit 2 */
uint64_t viz_slice(run_t *r, uint64_t slice); /* a slice ends at the next sample */
void viz_tick(run_t *r);                      /* after each slice */
void viz_event_add(run_t *r, viz_kind kind, uint64_t addr, uint64_t len, int64_t ret);
void viz_syscall(run_t *r, uint64_t nr, const uint64_t *a, int64_t ret);
void viz_exec(run_t *old, run_t *n);          /* execve: n replaces old */
void viz_crash(run_t *r, cpu_exit why);       /* the guest stopped on a fault or exception */
void viz_finish(run_t *r, cpu_exit why, double secs); /* writes the file (not in a forked child) */
void viz_close(run_t *r);

/* viz_svg.c: the address space and the page table, shared by both outputs */
typedef struct viz_leaves {
    mmu_pt_leaf *leaf;
    size_t       n, total;      /* copied, in the table */
    uint64_t     present;       /* present pages over all leaves */
} viz_leaves;
bool viz_leaves_get(mmu_t *m, viz_leaves *out, size_t max);
unsigned viz_page_state(const viz_leaves *l, uint64_t page, unsigned *perms); /* MMU_PAGE_*, 0 if unknown */
const char *viz_perm_color(unsigned perms);
/* each writes one <svg> element and returns its height */
int viz_svg_space(FILE *f, run_t *r, const viz_leaves *l, int y);
int viz_svg_pt(FILE *f, const viz_leaves *l, int y);
void viz_svg_file(FILE *f, run_t *r, const viz_leaves *l); /* the .svg variant */
void viz_esc(FILE *f, const char *s); /* text for HTML and SVG */

/* viz_html.c: the HTML page */
void viz_html(FILE *f, run_t *r, const viz_leaves *l, cpu_exit why, double secs);

#endif
