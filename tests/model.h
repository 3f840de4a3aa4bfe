/*
 * model.h - a deliberately simple reference model of the mapping semantics
 * (shared/API.md, include/softmmu/mmu.h), used only by tests and fuzzers,
 * plus a differential harness that runs one operation stream on the model
 * and on the real MMU and compares everything after each step.
 *
 * The model is a sorted array of regions, each owning a plain byte array;
 * every query is a linear scan. Nothing in it is clever on purpose.
 *
 * Test files and fuzz targets #include "model.c" (tests/CMakeLists.txt
 * builds each test_*.c alone).
 */
#ifndef SOFTMMU_TEST_MODEL_H
#define SOFTMMU_TEST_MODEL_H

#include <softmmu/mmu.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Features that landed after the core: flipped on when they exist. */
#ifndef MODEL_HAVE_SEARCH
#define MODEL_HAVE_SEARCH 1
#endif
#ifndef MODEL_HAVE_STRINGS
#define MODEL_HAVE_STRINGS 1
#endif
#ifndef MODEL_HAVE_SNAPSHOT
#define MODEL_HAVE_SNAPSHOT 1
#endif

/* Fault hooks fire when their range overlaps any byte of the access
 * (API.md, mmu.h). 1 matches them against [first faulting byte, + size)
 * instead, as the MMU did before b07294b. */
#ifndef MODEL_FAULT_HOOKS_FROM_FAULT
#define MODEL_FAULT_HOOKS_FROM_FAULT 0
#endif

typedef unsigned __int128 u128;

/* a set of acceptable results: bit e for mmu_err e (the order in which a
 * call checks several bad arguments is not part of the contract) */
#define EBIT(e) (1u << (e))

/* ------------------------------------------------------------- model */

enum { MK_RAM, MK_PTR, MK_MMIO };

typedef struct model_dev {
    uint64_t base, size; /* offsets are taken from base */
    uint8_t *data;       /* the model's copy of the device's storage */
    bool     rd, wr;
} model_dev;

typedef struct model_region {
    uint64_t start, last; /* last inclusive */
    unsigned perms, kind;
    char    *label;
    uint8_t *data; /* RAM/PTR: last - start + 1 bytes */
    int      dev;  /* MMIO: index into devs */
} model_region;

typedef struct model {
    uint64_t      space_last;
    unsigned      ptr_size;
    bool          big_endian;
    model_region *r;
    size_t        n, cap;
    model_dev    *devs;
    size_t        n_devs;
    uint64_t     *code; /* pages read by fetch since their last change */
    size_t        n_code, cap_code;
    bool          code_changed; /* fetched memory changed since last cleared */
} model;

void     model_init(model *md, unsigned addr_bits, unsigned ptr_size, bool big_endian);
void     model_free(model *md);
void     model_clone(model *dst, const model *src); /* deep copy (snapshots) */
/* restore a snapshot: layout and RAM from snap, devices' storage stays live */
void     model_restore(model *md, const model *snap);

unsigned model_map(model *md, uint64_t addr, uint64_t size, unsigned perms, const char *label, unsigned kind,
                   const uint8_t *init, int dev);
int      model_add_dev(model *md, uint64_t base, uint64_t size, bool rd, bool wr);
unsigned model_unmap(model *md, uint64_t addr, uint64_t size);
void     model_unmap_all(model *md);
unsigned model_protect(model *md, uint64_t addr, uint64_t size, unsigned perms);
unsigned model_set_label(model *md, uint64_t addr, uint64_t size, const char *label);
unsigned model_find_free(const model *md, uint64_t size, uint64_t min, uint64_t max, uint64_t align,
                         uint64_t *out);
unsigned model_map_anywhere(model *md, uint64_t size, uint64_t min, uint64_t max, uint64_t align,
                            unsigned perms, const char *label, uint64_t *out);
bool     model_is_available(const model *md, uint64_t addr, uint64_t size);
bool     model_is_mapped(const model *md, uint64_t addr, uint64_t size);
unsigned model_read(model *md, uint64_t addr, uint8_t *dst, uint64_t size);
unsigned model_write(model *md, uint64_t addr, const uint8_t *src, uint64_t size);
unsigned model_read_ptr(model *md, uint64_t addr, unsigned size, bool is_signed, uint64_t *out);
unsigned model_write_ptr(model *md, uint64_t addr, uint64_t value, unsigned size, bool is_signed);
/* guest access: k is mmu_access; dst for read/fetch, src for write */
unsigned model_guest(model *md, mmu_access k, uint64_t addr, uint8_t *buf, uint64_t size);
/* the same, with the first faulting byte in *fault when it fails */
unsigned model_guest_at(model *md, mmu_access k, uint64_t addr, uint8_t *buf, uint64_t size, uint64_t *fault);
unsigned model_read_string(model *md, uint64_t addr, char *buf, size_t cap, size_t *out_len);
/* a fixed-length matcher for search: true if s[0..len) matches */
typedef struct model_matcher {
    bool      (*match)(const void *ctx, const uint8_t *s);
    const void *ctx;
    size_t      len;
} model_matcher;
unsigned model_search_with(const model *md, const model_matcher *mt, uint64_t begin, uint64_t end,
                           unsigned flags, uint64_t *out, size_t max_out, size_t *out_count);
unsigned model_search(const model *md, const uint8_t *needle, size_t len, uint64_t begin, uint64_t end,
                      unsigned flags, uint64_t *out, size_t max_out, size_t *out_count);
/* A reference YARA hex-string matcher (API.md syntax), written apart from
 * mmu/pattern.c: tests [~]XY (nibble wildcards), groups ( a | b ) of
 * equal-length alternatives. */
typedef struct ref_test {
    uint8_t val, mask;
    bool    neg;
} ref_test;
typedef struct ref_elem {
    size_t    n_alts, len; /* n_alts 0: one test */
    ref_test *t;           /* n_alts * len tests */
} ref_elem;
typedef struct ref_pattern {
    size_t   n, len, used;
    ref_elem e[512];
    ref_test store[4096];
} ref_pattern;
bool     ref_pattern_parse(const char *s, ref_pattern *p);
bool     ref_pattern_match(const void *ctx, const uint8_t *s);

/* the model's byte order helpers */
uint64_t model_load_order(const model *md, const uint8_t *p, unsigned size);
void     model_store_order(const model *md, uint8_t *p, uint64_t v, unsigned size);

/* ----------------------------------------------------------- harness */

typedef enum op_kind {
    OP_MAP, OP_MAP_PTR, OP_MAP_MMIO, OP_UNMAP, OP_UNMAP_ALL, OP_PROTECT, OP_SET_LABEL, OP_FIND_FREE,
    OP_MAP_ANYWHERE, OP_IS_AVAILABLE, OP_IS_MAPPED, OP_READ, OP_WRITE, OP_READ_PTR, OP_WRITE_PTR, OP_LOAD,
    OP_STORE, OP_FETCH, OP_LOAD_T, OP_STORE_T, OP_READ_STRING, OP_WRITE_STRING, OP_SEARCH, OP_SNAP_SAVE,
    OP_SNAP_RESTORE, OP_HOOK_ADD, OP_HOOK_DEL, OP_CHECK, OP_COUNT
} op_kind;

/* One operation; its meaning per kind is in model.c (op_print). */
typedef struct op {
    uint8_t  k;
    uint8_t  label;  /* index into the label table */
    uint8_t  flags;  /* signed, rd/wr, search flags ... */
    uint8_t  fill;   /* data pattern seed */
    unsigned perms;
    uint64_t a, b, c, d; /* addr, size, and per-kind extras */
} op;

typedef struct harness_cfg {
    unsigned addr_bits, ptr_size, tlb_entries;
    bool     big_endian;
} harness_cfg;

/* a source of randomness: a PRNG, or a fuzzer's bytes */
typedef struct op_src {
    uint64_t       state;
    const uint8_t *data;
    size_t         size, pos;
    bool           fuzz;
} op_src;

typedef struct harness harness;

harness *harness_new(const harness_cfg *cfg);
void     harness_free(harness *h);
/* runs one op on both sides; false on a divergence (harness_msg says what) */
bool     harness_step(harness *h, const op *o);
/* full comparison of contents and digests */
bool     harness_check(harness *h);
const char *harness_msg(const harness *h);
/* draws the next op, biased by the model's current state */
op       harness_gen(harness *h, op_src *src);
uint64_t src_next(op_src *s);
harness_cfg harness_gen_cfg(op_src *src);

/* Replays ops from scratch (checking after every step); returns the index
 * of the first divergence, or -1. */
long     harness_replay(const harness_cfg *cfg, const op *ops, size_t n);
/* delta debugging: shrinks a diverging op list in place; returns its size */
size_t   harness_shrink(const harness_cfg *cfg, op *ops, size_t n);
/* prints the ops as a C reproducer */
void     harness_print(FILE *f, const harness_cfg *cfg, const op *ops, size_t n);

typedef struct run_stats {
    uint64_t ops, runs, divergences;
} run_stats;
/* random runs of run_len ops (each with its own config) until total ops
 * ran; on the first divergence prints a shrunk reproducer to out and
 * returns false */
bool     harness_random(uint64_t seed, uint64_t total, size_t run_len, run_stats *st, FILE *out);

#endif
