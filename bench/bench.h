/*
 * bench.h - shared pieces of softmmu-bench: options, timer, medians, the row
 * printer, and the groups of rows (one file each).
 *
 * Every row puts our figure next to a baseline measured in the same run
 * (native host code, memcpy, memmem, the kernel, ...) and, when Unicorn is
 * installed, Unicorn's figure for the same workload as a peer column.
 */
#ifndef SOFTMMU_BENCH_H
#define SOFTMMU_BENCH_H

#include <softmmu/cpu.h>
#include <softmmu/mmu.h>

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef HAVE_UNICORN
#include <unicorn/unicorn.h>
#endif

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)

/* ------------------------------------------------------------- options */

typedef struct bench_opts {
    bool        quick;  /* tiny sizes: a smoke run of a few seconds */
    bool        json;   /* JSON instead of the table */
    const char *filter; /* run only rows whose name contains it */
    int         reps;   /* timed repetitions per figure (median reported) */
} bench_opts;

extern bench_opts bench;

/* full-size value, or the quick one under --quick */
#define BENCH_SIZE(full_, quick_) (bench.quick ? (quick_) : (full_))

/* --filter selects the row called name? */
bool bench_want(const char *name);

/* ------------------------------------------------------- time, numbers */

double bench_now_ns(void);

/* Results go here so the compiler cannot drop the loops computing them. */
extern volatile uint64_t bench_sink;

/* splitmix64: the fixed-seed generator of every random pattern */
uint64_t bench_rand(uint64_t *state);
#define BENCH_SEED 0x5eed50f7u

/* "64 MiB", "256 KiB", "12 B" */
const char *bench_size_str(uint64_t bytes, char buf[24]);

/* page-aligned zeroed host memory (mmap), and its release */
void *bench_host_alloc(uint64_t size);
void  bench_host_free(void *p, uint64_t size);

/* ---------------------------------------------------------- measuring */

/* One timed repetition: returns the figure (e.g. ns per op), NAN when the
 * workload failed. */
typedef double (*bench_fn)(void *ctx);

typedef struct bench_job {
    bench_fn fn; /* NULL: nothing to measure, the figure is NAN */
    void    *ctx;
} bench_job;

/* Runs each job once to warm up, then bench.reps times, interleaved job by
 * job so slow drift hits them alike, and stores each median in out[i]
 * (NAN if any repetition failed). */
void bench_measure(const bench_job *jobs, size_t n, double *out);

/* --------------------------------------------------------------- rows */

typedef enum bench_goal {
    GOAL_NONE,     /* informational row */
    GOAL_RATIO_LE, /* ours / base <= target (times) */
    GOAL_RATIO_GE, /* ours / base >= target (throughputs) */
    GOAL_ABS_LE,   /* ours <= target, in the row's unit */
} bench_goal;

typedef struct bench_row {
    const char *name;      /* stable id, matched by --filter */
    char        desc[64];  /* what is measured, with the sizes */
    const char *unit;      /* "ns", "us", "GB/s", "Minsn/s" */
    double      ours;      /* NAN = n/a */
    double      base;      /* NAN = no baseline */
    const char *base_what; /* "native", "memcpy", ... */
    double      peer;      /* Unicorn's figure, NAN = n/a */
    bench_goal  goal;
    double      target;
} bench_row;

/* Prints a finished row (table line or JSON object). */
void bench_emit(const bench_row *r);

/* Measures jobs[0..2] (ours, baseline, peer) into r's figures, then prints r. */
void bench_measure_emit(bench_row *r, const bench_job jobs[3]);

/* -------------------------------------------------------------- groups */

void bench_tlb(void);      /* guest loads/stores, bulk copies, TLB misses */
void bench_map(void);      /* map/unmap with many regions, protect */
void bench_hooks(void);    /* hooks elsewhere, demand paging */
void bench_search(void);   /* literal search vs memmem */
void bench_snapshot(void); /* incremental restore vs copying back */
void bench_cpu(void);      /* interpreter M insn/s */
void bench_programs(void); /* real programs under softmmu-run vs qemu-x86_64 and native */

/* ------------------------------------------------------------ helpers */

/* 8-byte guest loads at base + off[i], i < n (bench_tlb.c) */
typedef struct bench_loads {
    mmu_t          *m;
    uint64_t        base;
    const uint32_t *off; /* byte offsets from base, 8-aligned */
    size_t          n;
} bench_loads;

/* bench_fn over a bench_loads: ns per load, NAN if one fails */
double bench_loads_mmu(void *loads);

/* n random 8-aligned offsets below span (fixed seed); NULL on NOMEM */
uint32_t *bench_rand_offsets(size_t n, uint64_t span);

/* An MMU with [base, base+size) mapped read/write and every page touched
 * (filled with pseudo-random bytes); NULL on failure. tlb_entries 0 is the
 * library default. */
mmu_t *bench_mmu_filled(uint64_t base, uint64_t size, unsigned tlb_entries);

#ifdef HAVE_UNICORN
/* A 64-bit x86 Unicorn with [base, base+size) mapped and filled; NULL on
 * failure (reported on stderr). */
uc_engine *bench_uc_filled(uint64_t base, uint64_t size);
#endif

#endif
