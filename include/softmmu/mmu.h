/*
 * softmmu/mmu.h - a software MMU: two-level page table, software TLB,
 * Qiling-compatible mapping semantics.
 *
 * Conventions used by every function below:
 *  - addresses are uint64_t guest virtual addresses; range sizes are uint64_t,
 *    host buffer sizes are size_t;
 *  - every fallible call returns mmu_err; results go through out-parameters,
 *    which are left untouched when the call fails;
 *  - a call that fails changes nothing: no partial map, unmap, protect, write
 *    or label change;
 *  - pages are 4 KiB (MMU_PAGE_SIZE, also mmu_pagesize());
 *  - an mmu_t is not thread-safe: one thread at a time per handle.
 */
#ifndef SOFTMMU_MMU_H
#define SOFTMMU_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define MMU_API
#else
#define MMU_API __attribute__((visibility("default")))
#endif

#define SOFTMMU_VERSION_MAJOR 0
#define SOFTMMU_VERSION_MINOR 1
#define SOFTMMU_VERSION_PATCH 0

/* ---------------------------------------------------------------- types */

/* Opaque handle. Its first bytes are the TLB view used by the inline fast
 * paths at the end of this header; everything else is private. */
typedef struct mmu mmu_t;

/* Page protection bits, combinable with |. */
enum { MMU_PROT_NONE = 0, MMU_PROT_READ = 1, MMU_PROT_WRITE = 2, MMU_PROT_EXEC = 4, MMU_PROT_ALL = 7 };

/* Kind of a guest access. */
/* The page size: the granularity of mapping and protection. */
#define MMU_PAGE_BITS 12
#define MMU_PAGE_SIZE ((uint64_t)1 << MMU_PAGE_BITS)

typedef enum mmu_access { MMU_ACCESS_READ, MMU_ACCESS_WRITE, MMU_ACCESS_FETCH } mmu_access;

/* Error codes. Each member lists the calls that return it. */
typedef enum mmu_err {
    MMU_OK = 0,
    /* host allocation failed: mmu_open, map*, unmap (a split needs a node),
     * protect, set_label, hook_add, pattern_compile, snapshot_*, search*;
     * every writing call (write, write_ptr, write_string, store*) and fetch
     * may need a page-table leaf for a page touched for the first time (the
     * table fills on demand), and while a snapshot is attached every writing
     * call (also unmap, protect) may need a copy of a page */
    MMU_ERR_NOMEM,
    /* bad argument: NULL handle/buffer, zero size where not allowed,
     * misaligned address or size, range wrapping past 2^64, perms > 7, bad
     * pointer size, value too wide for write_ptr, bad config, bad pattern
     * syntax, buffer too small (format_mapinfo): nearly every call */
    MMU_ERR_ARG,
    /* map, map_ptr, map_mmio, map_anywhere: a page of the range is mapped */
    MMU_ERR_MAPPED,
    /* unmap, protect, set_label: a page of the range is not mapped */
    MMU_ERR_UNMAPPED,
    /* find_free_space, map_anywhere: no gap fits */
    MMU_ERR_NOSPACE,
    /* map*, unmap, protect, set_label: address outside [0, 2^addr_bits) */
    MMU_ERR_RANGE,
    /* read, read_ptr, read_string, load*, search: a byte is unmapped */
    MMU_ERR_READ_UNMAPPED,
    /* write, write_ptr, write_string, store*: a byte is unmapped */
    MMU_ERR_WRITE_UNMAPPED,
    /* fetch: a byte is unmapped */
    MMU_ERR_FETCH_UNMAPPED,
    /* load*: a page lacks MMU_PROT_READ (or MMIO without a read callback) */
    MMU_ERR_READ_PROT,
    /* store*: a page lacks MMU_PROT_WRITE (or MMIO without a write callback) */
    MMU_ERR_WRITE_PROT,
    /* fetch: a page lacks MMU_PROT_EXEC, or is MMIO */
    MMU_ERR_FETCH_PROT,
    /* lib_base: no such label; hook_del: no such hook; read_string: no NUL
     * within the bound */
    MMU_ERR_NOTFOUND,
    /* snapshot_read: the data fails its checksum or format check;
     * snapshot_write: the FILE reported a write error */
    MMU_ERR_CORRUPT,
    /* load*, store*, fetch, read, write: an access hook or MMIO callback
     * cancelled the access (mmu_cancel_access) */
    MMU_ERR_CANCELLED,
} mmu_err;

/* Returns a static description naming the enum, e.g.
 * "range already mapped (MMU_ERR_MAPPED)". Never NULL, also for values
 * outside the enum. */
MMU_API const char *mmu_strerror(mmu_err err);

/* ------------------------------------------------- lifetime, configuration */

/*
 * The TLB. With tlb_entries set, it has that many entries for the MMU's
 * life. With tlb_entries 0 (the default) it sizes itself, in the spirit of
 * QEMU's dynamic TLB: it starts at tlb_min entries and, each time it has
 * served as many misses as it has entries, doubles (up to tlb_max) when more
 * than half of those misses evicted another page (the working set does not
 * fit); a full flush that finds fewer than 1/8 of the entries in use halves
 * it (down to tlb_min). A resize empties the TLB. Small programs so keep a
 * small TLB (256 entries, 8 KiB), and a program touching 64 MiB at random
 * gets 16384 entries after a few tens of thousands of misses.
 */
typedef struct mmu_config {
    unsigned addr_bits;   /* 32, 48 or 64 (0 = 64): address space is [0, 2^addr_bits) */
    unsigned ptr_size;    /* 1, 2, 4 or 8 (0 = 8): read_ptr/write_ptr size 0 and stack ops */
    bool     big_endian;  /* byte order of read_ptr/write_ptr and typed accesses */
    unsigned tlb_entries; /* fixed size, power of two, 1..65536; 0 = sized dynamically */
    unsigned tlb_min;     /* dynamic bounds, powers of two in 1..65536, min <= max; */
    unsigned tlb_max;     /* 0 = library defaults (256 and 65536); ignored when tlb_entries is set */
} mmu_config;

/* Creates an empty MMU. cfg NULL means all defaults (64-bit, 8-byte little-
 * endian pointers, default TLB). On success *out owns the MMU; free it with
 * mmu_close. Errors: MMU_ERR_ARG (out NULL, unsupported config value),
 * MMU_ERR_NOMEM. */
MMU_API mmu_err mmu_open(const mmu_config *cfg, mmu_t **out);

/* Unmaps everything, frees the MMU and all memory it owns (not memory given
 * to mmu_map_ptr). Hooks are dropped. NULL is a no-op. */
MMU_API void mmu_close(mmu_t *m);

/* The page size, 0x1000. */
MMU_API uint64_t mmu_pagesize(const mmu_t *m);

/* Copies the configuration m was opened with into *out, with every default
 * resolved (addr_bits, ptr_size, tlb_min and tlb_max never 0; tlb_entries
 * stays 0 for a dynamic TLB, see mmu_stats.tlb_entries for its size now,
 * and a fixed one has tlb_min = tlb_max = tlb_entries). Both must be
 * non-NULL (programmer error otherwise: nothing is written). */
MMU_API void mmu_get_config(const mmu_t *m, mmu_config *out);

/* The highest valid address, 2^addr_bits - 1 (Qiling's max_mem_addr). */
MMU_API uint64_t mmu_max_addr(const mmu_t *m);

/* ----------------------------------------------------------------- mapping */

/* Maps [addr, addr+size) with perms; new memory reads as zeros. Host memory
 * is reserved lazily: untouched pages cost no RAM. addr and size must be
 * page-aligned, size > 0, the range must not wrap and must lie in the
 * address space. label NULL or "" becomes "[mapped]"; it is copied. Mappings
 * are never merged: two adjacent maps are two regions.
 * Errors: MMU_ERR_ARG (m NULL, misaligned, size 0, wrap, perms > 7),
 * MMU_ERR_RANGE (beyond addr_bits), MMU_ERR_MAPPED (any page already mapped),
 * MMU_ERR_NOMEM. */
MMU_API mmu_err mmu_map(mmu_t *m, uint64_t addr, uint64_t size, unsigned perms, const char *label);

/* As mmu_map, but guest memory is the caller's buffer `host` of at least
 * `size` bytes. host must be page-aligned (4096) and stay valid until the
 * range is unmapped; the MMU never frees it. Contents are not cleared.
 * Errors: as mmu_map, plus MMU_ERR_ARG for host NULL or misaligned. */
MMU_API mmu_err mmu_map_ptr(mmu_t *m, uint64_t addr, uint64_t size, unsigned perms, void *host,
                            const char *label);

/* Unmaps [addr, addr+size): page-aligned, size > 0, every page mapped. It
 * may cover part of a region or several regions; the pieces left keep their
 * perms and label. Host memory of the unmapped pages goes back to the OS.
 * Errors: MMU_ERR_ARG (misaligned, size 0, wrap), MMU_ERR_RANGE,
 * MMU_ERR_UNMAPPED (a page is not mapped), MMU_ERR_NOMEM (a split needed a
 * node). Nothing changes on error. */
MMU_API mmu_err mmu_unmap(mmu_t *m, uint64_t addr, uint64_t size);

/* Unmaps every region. NULL is a no-op. Cannot fail: when attached
 * snapshots need the old contents and saving them runs out of memory, the
 * snapshots detach instead (as at mmu_close), keeping the host pages that
 * hold those contents; they stay exact and restorable, and their next
 * restore is a full rebuild rather than O(pages changed). */
MMU_API void mmu_unmap_all(mmu_t *m);

/* Sets perms on the pages covering [addr, addr+size) (the range is widened
 * to whole pages, as Qiling does). Every page must be mapped; every region
 * overlapped is split, the covered part gets perms and keeps its label.
 * Errors: MMU_ERR_ARG (size 0, perms > 7, wrap), MMU_ERR_RANGE,
 * MMU_ERR_UNMAPPED, MMU_ERR_NOMEM. */
MMU_API mmu_err mmu_protect(mmu_t *m, uint64_t addr, uint64_t size, unsigned perms);

/* Qiling's change_mapinfo(new_info): like mmu_protect (same widening and
 * splitting) but changes only the label. label NULL or "" = "[mapped]".
 * Errors: as mmu_protect. */
MMU_API mmu_err mmu_set_label(mmu_t *m, uint64_t addr, uint64_t size, const char *label);

/* Finds, without mapping, the lowest address a with a % align == 0,
 * min_addr <= a, a + size <= max_addr and [a, a+size) unmapped. max_addr 0
 * means the end of the address space (exclusive); align 0 means the page
 * size, otherwise a power of two. size is not rounded.
 * Errors: MMU_ERR_ARG (m/out NULL, size 0, align not a power of two,
 * max_addr - min_addr < size, max_addr beyond the address space),
 * MMU_ERR_NOSPACE (no gap fits). */
MMU_API mmu_err mmu_find_free_space(const mmu_t *m, uint64_t size, uint64_t min_addr, uint64_t max_addr,
                                    uint64_t align, uint64_t *out_addr);

/* Rounds size up to the page size, finds a free range as
 * mmu_find_free_space does, maps it with perms and label, and returns its
 * address. On an empty MMU map_anywhere(0x10, 0, 0, 0, ...) returns 0.
 * Errors: those of mmu_find_free_space and mmu_map, plus MMU_ERR_ARG for
 * align (non-zero) below the page size. */
MMU_API mmu_err mmu_map_anywhere(mmu_t *m, uint64_t size, uint64_t min_addr, uint64_t max_addr,
                                 uint64_t align, unsigned perms, const char *label, uint64_t *out_addr);

/* True iff no byte of [addr, addr+size) is mapped. False for size 0 or m
 * NULL. A range that wraps past 2^64 is clipped at 2^64. */
MMU_API bool mmu_is_available(const mmu_t *m, uint64_t addr, uint64_t size);

/* True iff every byte of [addr, addr+size) is mapped; adjacent regions count
 * as one whatever their perms. False for size 0, m NULL, or a wrapping range. */
MMU_API bool mmu_is_mapped(const mmu_t *m, uint64_t addr, uint64_t size);

/* ---------------------------------------------- host access (ignores perms) */

/* Copies size bytes at addr into dst, ignoring page protections; may cross
 * regions; MMIO ranges call the device. size 0 succeeds anywhere.
 * Errors: MMU_ERR_ARG (m NULL, dst NULL with size > 0),
 * MMU_ERR_READ_UNMAPPED (any byte unmapped; dst untouched). */
MMU_API mmu_err mmu_read(mmu_t *m, uint64_t addr, void *dst, size_t size);

/* Copies size bytes from src to addr, ignoring protections; all-or-nothing.
 * Keeps decoded-code caches coherent (see mmu_code_generation).
 * Errors: MMU_ERR_ARG, MMU_ERR_WRITE_UNMAPPED (nothing written),
 * MMU_ERR_NOMEM (a page written for the first time needs a page-table
 * leaf, or while a snapshot is attached the first write to a page copies it
 * first; nothing written). */
MMU_API mmu_err mmu_write(mmu_t *m, uint64_t addr, const void *src, size_t size);

/* Reads a size-byte integer (1, 2, 4, 8; 0 = config ptr_size) in the
 * configured byte order; is_signed sign-extends it into *out.
 * Errors: MMU_ERR_ARG (bad size, NULL), MMU_ERR_READ_UNMAPPED. */
MMU_API mmu_err mmu_read_ptr(mmu_t *m, uint64_t addr, unsigned size, bool is_signed, uint64_t *out);

/* Writes value as a size-byte integer (1, 2, 4, 8; 0 = ptr_size). Unsigned:
 * value must be < 2^(8*size). Signed: (int64_t)value must lie in the signed
 * range of the size. Otherwise MMU_ERR_ARG, as is a bad size.
 * Errors: MMU_ERR_ARG, MMU_ERR_WRITE_UNMAPPED, MMU_ERR_NOMEM (as mmu_write). */
MMU_API mmu_err mmu_write_ptr(mmu_t *m, uint64_t addr, uint64_t value, unsigned size, bool is_signed);

/* Reads the NUL-terminated string at addr into buf (capacity cap, result
 * NUL-terminated), scanning page-sized chunks. *out_len (may be NULL) gets
 * the length without the NUL. Ignores protections.
 * Errors: MMU_ERR_ARG (NULL buf, cap 0), MMU_ERR_NOTFOUND (no NUL within
 * cap-1 bytes), MMU_ERR_READ_UNMAPPED (the string runs into an unmapped
 * byte before its NUL). On error buf is untouched. */
MMU_API mmu_err mmu_read_string(mmu_t *m, uint64_t addr, char *buf, size_t cap, size_t *out_len);

/* Writes s and its NUL at addr. Errors: MMU_ERR_ARG, MMU_ERR_WRITE_UNMAPPED,
 * MMU_ERR_NOMEM (as mmu_write). */
MMU_API mmu_err mmu_write_string(mmu_t *m, uint64_t addr, const char *s);

/* ------------------------------------------------------- host pointers */

enum { MMU_HOST_WRITE = 1 }; /* mmu_host_ptr: the caller will write through the pointer */

/*
 * Host address of guest memory [addr, addr+size), for zero-copy access by
 * the host (a regex engine, a Python memoryview, a debugger). The range must
 * lie in RAM or mmu_map_ptr memory that is contiguous on the host: one
 * mapping, or pieces of one mapping split by protect/set_label/partial
 * unmap. Protections are ignored.
 *
 * The pointer stays valid until a byte of the range is unmapped (mmu_unmap,
 * mmu_unmap_all, mmu_close) or mmu_snapshot_restore rebuilds its mapping
 * (restore keeps a mapping in place unless part of it was unmapped since the
 * save). Protect, set_label, hooks and other mappings keep it valid.
 *
 * Reads through it see every later write. With MMU_HOST_WRITE the call
 * prepares the range as mmu_write does: snapshots attached now save the
 * pages first, and decoded-code caches drop them (mmu_code_generation
 * changes). Writes through the pointer after the call are therefore exact
 * for those snapshots, but not seen by a snapshot saved later nor by code
 * fetched from the range later: call again after mmu_snapshot_save, or
 * after running code there, before writing again.
 *
 * Errors: MMU_ERR_ARG (m or out NULL, size 0, range wraps, unknown flags,
 * MMIO, or not contiguous on the host), MMU_ERR_READ_UNMAPPED (a byte is
 * unmapped), MMU_ERR_NOMEM (with MMU_HOST_WRITE: a snapshot's copy of a
 * page, or a page-table entry). *out is untouched on error.
 */
MMU_API mmu_err mmu_host_ptr(mmu_t *m, uint64_t addr, uint64_t size, unsigned flags, void **out);

/* ------------------------------------------------------------------ search */

typedef struct mmu_pattern mmu_pattern;

/* Compiles a YARA hex string: bytes "4F 53", wildcard "??", nibble
 * wildcards "4?" "?F", negation "~0D", alternatives of equal-length byte
 * sequences "( 0F | 1A | 04 )"; whitespace is free. On success *out owns
 * the pattern (free with mmu_pattern_free).
 * Errors: MMU_ERR_ARG (NULL, empty, bad syntax), MMU_ERR_NOMEM. */
MMU_API mmu_err mmu_pattern_compile(const char *hex, mmu_pattern **out);

/* Frees a compiled pattern. NULL is a no-op. */
MMU_API void mmu_pattern_free(mmu_pattern *p);

enum { MMU_SEARCH_CROSS = 1 }; /* let a match span adjacent regions */

/* Finds the non-overlapping occurrences of needle[0..len) lying wholly in
 * [begin, end), in ascending order. By default each region is searched on
 * its own (Qiling): a match never spans two regions unless MMU_SEARCH_CROSS.
 * MMIO is skipped, perms are ignored. begin 0 = start of the first region,
 * end 0 = end of the last one. *out_count gets the total number of matches;
 * the first min(total, max_out) addresses go to out (NULL if max_out 0).
 * Errors: MMU_ERR_ARG (len 0, needle NULL, begin >= end with end != 0,
 * out NULL with max_out > 0, unknown flags), MMU_ERR_NOMEM. */
MMU_API mmu_err mmu_search(mmu_t *m, const void *needle, size_t len, uint64_t begin, uint64_t end,
                           unsigned flags, uint64_t *out, size_t max_out, size_t *out_count);

/* As mmu_search with a compiled pattern (its length is the needle's).
 * Errors: MMU_ERR_ARG (m or p NULL, begin >= end with end != 0, out NULL
 * with max_out > 0, unknown flags), MMU_ERR_NOMEM. */
MMU_API mmu_err mmu_search_pattern(mmu_t *m, const mmu_pattern *p, uint64_t begin, uint64_t end,
                                   unsigned flags, uint64_t *out, size_t max_out, size_t *out_count);

/* ---------------------------------------------------------------- map info */

typedef struct mmu_region {
    uint64_t    start, end; /* end exclusive */
    unsigned    perms;
    const char *label;      /* owned by the MMU; valid until the next map change */
    bool        mmio;
} mmu_region;

/* Stores the first min(count, max) regions in ascending order into out
 * (may be NULL when max is 0) and returns the number of regions. */
MMU_API size_t mmu_regions(const mmu_t *m, mmu_region *out, size_t max);

/* Writes Qiling's get_formatted_mapinfo table into buf: lines joined by
 * '\n' (no trailing newline), NUL-terminated. Nothing mapped: "". *out_len
 * (may be NULL) gets the length without the NUL.
 * Errors: MMU_ERR_ARG (m NULL, buf NULL with cap > 0, or buf too small: then
 * *out_len is set to the length needed and buf is untouched), MMU_ERR_NOMEM. */
MMU_API mmu_err mmu_format_mapinfo(const mmu_t *m, char *buf, size_t cap, size_t *out_len);

/* Start of the lowest region whose label, without a leading "[...] " box,
 * has basename == filename (exact, case-sensitive).
 * Errors: MMU_ERR_ARG (NULL), MMU_ERR_NOTFOUND. */
MMU_API mmu_err mmu_lib_base(const mmu_t *m, const char *filename, uint64_t *out_addr);

/* -------------------------------------------------------------------- MMIO */

typedef uint64_t (*mmu_mmio_read_fn)(void *user, uint64_t offset, unsigned size);
typedef void (*mmu_mmio_write_fn)(void *user, uint64_t offset, unsigned size, uint64_t value);

/* Maps a device over [addr, addr+size) (page-aligned as for mmu_map).
 * Accesses call rd/wr with the offset from the mapping start (kept across
 * partial unmaps), the access size and the value (little-endian). Accesses
 * wider than 8 bytes are split into 8-byte pieces. perms = READ if rd, WRITE
 * if wr; a missing callback makes that direction a protection fault for
 * guest accesses and an UNMAPPED error for host mmu_read/mmu_write. label
 * NULL = "[mmio]". Errors: as mmu_map. */
MMU_API mmu_err mmu_map_mmio(mmu_t *m, uint64_t addr, uint64_t size, mmu_mmio_read_fn rd,
                             mmu_mmio_write_fn wr, void *user, const char *label);

/* ----------------------------------------- guest access (permission-checked) */

/* Reads size bytes at addr; every page touched needs MMU_PROT_READ. On a
 * fault the fault hooks run (see Hooks); if none handles it, returns
 * MMU_ERR_READ_UNMAPPED or MMU_ERR_READ_PROT and dst is untouched.
 * Errors also: MMU_ERR_ARG (NULL). */
MMU_API mmu_err mmu_load(mmu_t *m, uint64_t addr, void *dst, size_t size);

/* Writes size bytes at addr; needs MMU_PROT_WRITE on every page;
 * all-or-nothing. Errors: MMU_ERR_WRITE_UNMAPPED, MMU_ERR_WRITE_PROT,
 * MMU_ERR_ARG, MMU_ERR_NOMEM (as mmu_write: nothing written). */
MMU_API mmu_err mmu_store(mmu_t *m, uint64_t addr, const void *src, size_t size);

/* Reads instruction bytes; needs MMU_PROT_EXEC on every page, and marks the
 * pages as holding code (see mmu_code_generation).
 * Errors: MMU_ERR_FETCH_UNMAPPED, MMU_ERR_FETCH_PROT, MMU_ERR_ARG,
 * MMU_ERR_NOMEM (marking a page first fetched needs a page-table leaf),
 * MMU_ERR_CANCELLED (a fetch hook cancelled it). */
MMU_API mmu_err mmu_fetch(mmu_t *m, uint64_t addr, void *dst, size_t size);

/* A counter that changes whenever memory read by mmu_fetch may have changed:
 * written (guest store or mmu_write), unmapped, or lost MMU_PROT_EXEC, or a
 * snapshot was restored. A decoded-instruction cache stays coherent by
 * dropping its contents when this value differs from the one it saw. */
MMU_API uint64_t mmu_code_generation(const mmu_t *m);

/* ------------------------------------------------------------------- hooks */

enum {
    MMU_HOOK_MEM_READ = 1 << 0,
    MMU_HOOK_MEM_WRITE = 1 << 1,
    MMU_HOOK_MEM_FETCH = 1 << 2,
    MMU_HOOK_MEM_READ_UNMAPPED = 1 << 3,
    MMU_HOOK_MEM_WRITE_UNMAPPED = 1 << 4,
    MMU_HOOK_MEM_FETCH_UNMAPPED = 1 << 5,
    MMU_HOOK_MEM_READ_PROT = 1 << 6,
    MMU_HOOK_MEM_WRITE_PROT = 1 << 7,
    MMU_HOOK_MEM_FETCH_PROT = 1 << 8,
    MMU_HOOK_MEM_UNMAPPED = 7 << 3,
    MMU_HOOK_MEM_PROT = 7 << 6,
    MMU_HOOK_MEM_INVALID = 63 << 3,
};

typedef struct mmu_mem_event {
    unsigned type;  /* exactly one MMU_HOOK_MEM_* bit */
    uint64_t addr;  /* access start; for a fault, the first faulting byte (an access
                       wrapping past 2^64 with every page below mapped: 0) */
    unsigned size;  /* size of the whole access */
    uint64_t value; /* writes: the first 8 bytes as stored in guest memory, read
                       little-endian whatever the configured order; else 0 */
} mmu_mem_event;

/* Fault hooks return true for "handled: translate again and retry"; access
 * hooks' return value is ignored. A hook may map, unmap, protect, add or
 * delete hooks (including itself). */
typedef bool (*mmu_mem_hook_fn)(mmu_t *m, const mmu_mem_event *ev, void *user);
typedef uint64_t mmu_hook_id;

/* Registers fn for the event kinds in types (MMU_HOOK_MEM_* bits) on guest
 * accesses (mmu_load/store/fetch and the inline typed accessors) touching
 * any byte of [begin, end] (inclusive; begin > end = all addresses); for
 * access and fault hooks alike, "touching" means the range overlaps any byte
 * of the access, not only its first and last bytes as in Qiling.
 *
 * Order of events for one access (as Unicorn's): the access is translated
 * first; on a fault the fault hooks of its kind run, in the order added,
 * until one returns true, and the access is translated again (at most 8
 * times in a row; then the fault's error is returned). Once translation
 * succeeds the access hooks fire, once, in the order added, before any byte
 * moves (a write hook sees the value to store while memory still holds the
 * old one; a read hook may change what the read returns); if a hook changed
 * the map, the access is translated again (with the fault hooks, not the
 * access hooks), then performed. An access that fails fires no access hook.
 * Example: a load from an unmapped page that a READ_UNMAPPED hook maps
 * gives READ_UNMAPPED, then READ.
 *
 * Pages with no hook keep the TLB fast path. *out_id (may be NULL) gets an
 * id for mmu_hook_del; ids are never reused.
 * Errors: MMU_ERR_ARG (m/fn NULL, types 0 or unknown bits), MMU_ERR_NOMEM. */
MMU_API mmu_err mmu_hook_add(mmu_t *m, unsigned types, mmu_mem_hook_fn fn, void *user, uint64_t begin,
                             uint64_t end, mmu_hook_id *out_id);

/* From inside an access hook (MMU_HOOK_MEM_READ/WRITE/FETCH) or an MMIO
 * callback: the access that runs it fails with MMU_ERR_CANCELLED instead of
 * completing. After an access hook no byte has moved; an MMIO access split
 * into 8-byte pieces keeps the pieces already done. The later hooks of that
 * access still run. Called anywhere else (no such callback running, m NULL)
 * it does nothing. Fault hooks decline a fault by returning false instead. */
MMU_API void mmu_cancel_access(mmu_t *m);

/* Removes a hook; safe inside any hook callback. Errors: MMU_ERR_ARG (m
 * NULL), MMU_ERR_NOTFOUND (unknown or already removed id). */
MMU_API mmu_err mmu_hook_del(mmu_t *m, mmu_hook_id id);

/* ----------------------------------------------------- snapshots, digests */

typedef struct mmu_snapshot mmu_snapshot;

/* Captures the map (ranges, perms, labels, MMIO devices) and every RAM byte.
 * Unchanged pages are shared copy-on-write with the live MMU, so a snapshot
 * costs memory only for pages written after it. Memory given to mmu_map_ptr
 * is copied. The snapshot stays valid after the MMU is closed.
 * Errors: MMU_ERR_ARG, MMU_ERR_NOMEM. */
MMU_API mmu_err mmu_snapshot_save(mmu_t *m, mmu_snapshot **out);

/* Makes the MMU exactly as at save time: regions made later are removed,
 * perms, labels and MMIO put back, contents restored; mmu_digest equals the
 * one at save time. Hooks are kept. Costs O(pages changed) when s is the
 * latest snapshot of m. Errors: MMU_ERR_ARG (NULL, or a saved region lies
 * outside m's address space), MMU_ERR_NOMEM; the MMU is unchanged on error. */
MMU_API mmu_err mmu_snapshot_restore(mmu_t *m, const mmu_snapshot *s);

/* Frees a snapshot. NULL is a no-op. */
MMU_API void mmu_snapshot_free(mmu_snapshot *s);

typedef struct mmu_snapshot_summary {
    uint64_t regions;        /* map entries saved */
    uint64_t span;           /* bytes of address space they cover (saturates at UINT64_MAX) */
    uint64_t pages_copied;   /* non-zero pages the snapshot holds copies of (written since
                                the save, map_ptr memory, or read from a file) */
    uint64_t pages_in_place; /* pages it still reads from the MMU's memory (unchanged since
                                the save; kept alive after mmu_close) */
    uint64_t bytes;          /* host memory the snapshot holds: records, tables, copies
                                (a copy may be shared with other snapshots of one MMU) */
} mmu_snapshot_summary;

/* Describes s without changing it. Restoring s costs O(regions +
 * pages_copied + pages_in_place), never O(span): a snapshot file declaring
 * a huge region with no pages restores in time proportional to its size.
 * Errors: MMU_ERR_ARG (s or out NULL). */
MMU_API mmu_err mmu_snapshot_info(const mmu_snapshot *s, mmu_snapshot_summary *out);

/* Serialises s to f in the versioned format described in README.md
 * (MMIO devices are not saved: a snapshot with MMIO gives MMU_ERR_ARG).
 * Errors: MMU_ERR_ARG, MMU_ERR_NOMEM, MMU_ERR_CORRUPT (write error). */
MMU_API mmu_err mmu_snapshot_write(const mmu_snapshot *s, FILE *f);

/* Reads a snapshot written by mmu_snapshot_write. Any truncation, bit flip
 * or wrong version gives MMU_ERR_CORRUPT and allocates nothing.
 * Errors: MMU_ERR_ARG, MMU_ERR_NOMEM, MMU_ERR_CORRUPT. */
MMU_API mmu_err mmu_snapshot_read(FILE *f, mmu_snapshot **out);

/* XXH3-64 over the map (ranges, perms, labels, MMIO flags) and every mapped
 * RAM page holding a non-zero byte, with its address. Equal states give
 * equal digests; the cost is that of the pages ever touched (and of
 * mmu_map_ptr memory), not of the address space mapped. 0 for m NULL. */
MMU_API uint64_t mmu_digest(mmu_t *m);

/* -------------------------------------------------------------- statistics */

typedef struct mmu_stats {
    uint64_t tlb_hits, tlb_misses, tlb_flushes, page_walks, faults, regions, pages_mapped, meta_bytes;
    uint64_t tlb_entries, tlb_resizes;
} mmu_stats;

/* Fills *out. regions and pages_mapped describe the current map;
 * meta_bytes is the host memory the MMU uses for metadata (page tables,
 * region index, TLB, labels), not guest memory. tlb_entries is the TLB's
 * size now and tlb_resizes how often a dynamic TLB changed size.
 *
 * tlb_hits counts the TLB hits of mmu_load, mmu_store and mmu_fetch, and of
 * the inline typed accessors only where they were compiled with
 * MMU_COUNT_INLINE_HITS defined before including this header: by default an
 * inline hit is a compare, an add and the access, nothing else. tlb_misses
 * counts every access that missed (all out-of-line paths), so a caller that
 * counts its own accesses gets its hits as accesses - tlb_misses. */
MMU_API void mmu_get_stats(const mmu_t *m, mmu_stats *out);

/* ----------------------------------------------------------- introspection */

/*
 * Read-only views of the translation structures, for debuggers, reports and
 * teaching: any emulator built on the MMU can show what a translation does.
 * None of these calls has side effects: statistics, the TLB, the page table
 * and the hooks stay exactly as they were. Callbacks must not change the MMU.
 */

/* The page table's shape: a top level indexed by addr >> MMU_PT_TOP_SHIFT
 * whose slots hold leaves of MMU_PT_LEAF_ENTRIES entries, one per page. */
#define MMU_PT_LEAF_BITS 9
#define MMU_PT_LEAF_ENTRIES (1u << MMU_PT_LEAF_BITS)
#define MMU_PT_TOP_SHIFT (MMU_PAGE_BITS + MMU_PT_LEAF_BITS)

/* State of one page, as introspection reports it (combinable). */
enum {
    MMU_PAGE_MAPPED = 1 << 0,  /* a region covers the page */
    MMU_PAGE_PRESENT = 1 << 1, /* the page table holds an entry for it */
    MMU_PAGE_MMIO = 1 << 2,    /* a device page (mmu_map_mmio) */
    MMU_PAGE_CODE = 1 << 3,    /* read by mmu_fetch since last written: a write
                                  takes the slow path and bumps the code generation */
    MMU_PAGE_TRACKED = 1 << 4, /* an attached snapshot waits for its first write */
    MMU_PAGE_DIRTY = 1 << 5,   /* a snapshot is attached and the page may have
                                  been written since it was saved */
    MMU_PAGE_HOOKED = 1 << 6,  /* an access hook covers part of the page */
};

/* One translation, step by step (mmu_explain). */
typedef struct mmu_translation {
    uint64_t    addr;
    mmu_access  access;
    /* 1. the TLB */
    uint64_t    tlb_entries; /* the TLB's size now */
    uint64_t    tlb_slot;    /* entry addr maps to: (addr >> MMU_PAGE_BITS) % tlb_entries */
    uint64_t    tlb_page;    /* page address the entry caches, UINT64_MAX when empty */
    unsigned    tlb_kinds;   /* bit (1 << k) for each access kind k the entry lets hit */
    bool        tlb_hit;     /* an aligned access of this kind would hit now */
    /* 2. the page table */
    uint64_t    pt_top;      /* top-level slot: addr >> MMU_PT_TOP_SHIFT */
    unsigned    pt_index;    /* entry in the leaf: (addr >> MMU_PAGE_BITS) % MMU_PT_LEAF_ENTRIES */
    bool        pt_leaf;     /* the leaf for pt_top exists */
    unsigned    page;        /* MMU_PAGE_* state of the page */
    unsigned    perms;       /* MMU_PROT_* of the page, 0 when unmapped */
    /* 3. the map entry */
    uint64_t    region_start, region_end; /* end exclusive (0 = 2^64); both 0 when unmapped */
    const char *label;       /* owned by the MMU, valid until the next map change; NULL when unmapped */
    /* 4. the outcome */
    mmu_err     err;         /* MMU_OK, or the error this access gets before any fault hook runs */
    bool        fast_path;   /* once cached, accesses of this kind hit the TLB: RAM, allowed, no
                                access hook, and for writes not CODE nor TRACKED, for fetches CODE */
    void       *host;        /* host address of addr for RAM and map_ptr pages, else NULL */
} mmu_translation;

/* Explains what an access of kind `access` to the byte at addr would do now,
 * without doing it: TLB slot and hit, page-table slot and entry, region,
 * outcome. Any addr is allowed (outside the address space it is unmapped).
 * Errors: MMU_ERR_ARG (m or out NULL, access not an mmu_access). */
MMU_API mmu_err mmu_explain(const mmu_t *m, uint64_t addr, mmu_access access, mmu_translation *out);

/* One leaf of the page table (mmu_pt_walk). */
typedef struct mmu_pt_leaf {
    uint64_t top;      /* top-level slot */
    uint64_t base;     /* address of its first page: top << MMU_PT_TOP_SHIFT */
    unsigned present;  /* entries with MMU_PAGE_PRESENT */
    uint8_t  page[MMU_PT_LEAF_ENTRIES];  /* MMU_PAGE_* of each page */
    uint8_t  perms[MMU_PT_LEAF_ENTRIES]; /* MMU_PROT_* of each page */
} mmu_pt_leaf;

typedef bool (*mmu_pt_leaf_fn)(void *user, const mmu_pt_leaf *leaf);

/* Calls fn for every leaf of the page table, in ascending address order,
 * until fn returns false. The leaf is valid during the call only.
 * Errors: MMU_ERR_ARG (m or fn NULL), MMU_ERR_NOMEM (ordering the leaves
 * needs a temporary array; fn not called). */
MMU_API mmu_err mmu_pt_walk(const mmu_t *m, mmu_pt_leaf_fn fn, void *user);

/* One TLB entry in use (mmu_tlb_dump). */
typedef struct mmu_tlb_slot {
    uint64_t slot;  /* index in the TLB */
    uint64_t page;  /* page address cached */
    unsigned kinds; /* bit (1 << k) for each access kind k that hits */
    uint64_t fills; /* times this slot was filled (TLB misses it served) since
                       the TLB was created or resized */
} mmu_tlb_slot;

/* Stores the first min(n, max) entries in use, in slot order, into out (may
 * be NULL when max is 0) and returns n, the number in use. *out_entries
 * (may be NULL) gets the TLB's size. 0 for m NULL. */
MMU_API size_t mmu_tlb_dump(const mmu_t *m, mmu_tlb_slot *out, size_t max, uint64_t *out_entries);

/* One memory hook (mmu_hooks). */
typedef struct mmu_hook_info {
    mmu_hook_id id;
    unsigned    types;      /* MMU_HOOK_MEM_* bits */
    uint64_t    begin, end; /* as given to mmu_hook_add */
    mmu_mem_hook_fn fn;
    void       *user;
} mmu_hook_info;

/* Stores the first min(n, max) live hooks, in the order added (the order
 * they run), into out (may be NULL when max is 0) and returns n. 0 for m
 * NULL. */
MMU_API size_t mmu_hooks(const mmu_t *m, mmu_hook_info *out, size_t max);

/* ------------------------------------------------ inline typed fast paths */

/*
 * Private: the first member of every mmu_t. Layout may change between
 * releases; use only through the functions below.
 *
 * TLB entry: for each access kind the tag is the page address when the
 * access is allowed and takes the fast path, or an impossible value (low
 * bits set) otherwise. The compare keeps the access's alignment bits, so a
 * misaligned access misses and takes the slow path (which handles it).
 */
typedef struct mmu_tlb_entry_ {
    uint64_t  tag_read, tag_write, tag_fetch;
    uintptr_t addend; /* host address = guest address + addend */
} mmu_tlb_entry_;
_Static_assert(sizeof(mmu_tlb_entry_) == 32, "MMU_TLB_ENTRY_ indexes 32-byte entries");

typedef struct mmu_fast_ {
    mmu_tlb_entry_ *tlb;
    uint64_t        tlb_index; /* (n_entries - 1) * sizeof(mmu_tlb_entry_): masks a byte offset */
    uint64_t        tlb_hits; /* inline hits: only with MMU_COUNT_INLINE_HITS */
    uint64_t        code_gen;
    bool            big_endian;
} mmu_fast_;

/* the result of a guest access says whether it happened: ignoring it is a bug */
#if defined(__GNUC__) || defined(__clang__)
#define MMU_MUST_CHECK_ __attribute__((warn_unused_result))
#else
#define MMU_MUST_CHECK_
#endif

MMU_API mmu_err mmu_load_slow_(mmu_t *m, uint64_t addr, void *dst, unsigned size) MMU_MUST_CHECK_;
MMU_API mmu_err mmu_store_slow_(mmu_t *m, uint64_t addr, const void *src, unsigned size) MMU_MUST_CHECK_;

/*
 * mmu_load_u8/u16/u32/u64(m, addr, &out) and mmu_store_u8/u16/u32/u64(m,
 * addr, value): typed guest accesses in the configured byte order, with the
 * semantics of mmu_load / mmu_store (permission checks, hooks, faults). A TLB
 * hit on an aligned access of a little-endian MMU is inline and costs no
 * call; everything else (miss, misaligned or page-crossing access, hooks,
 * MMIO, any access of a big-endian MMU) goes to the slow path. Errors: those of mmu_load / mmu_store (a store may return
 * MMU_ERR_NOMEM while a snapshot is attached); *out untouched on error.
 */
/* the slot's byte offset straight from the address: a shift and a mask */
#define MMU_TLB_ENTRY_SHIFT_ 5
#define MMU_TLB_ENTRY_(f, addr)                                                                        \
    ((mmu_tlb_entry_ *)((char *)(f)->tlb + (((addr) >> (MMU_PAGE_BITS - MMU_TLB_ENTRY_SHIFT_)) & (f)->tlb_index)))
#define MMU_TAG_(addr, size) ((addr) & ~(uint64_t)((MMU_PAGE_SIZE - 1) & ~((size)-1)))

#ifdef MMU_COUNT_INLINE_HITS
#define MMU_COUNT_HIT_(f) ((f)->tlb_hits++)
#else
#define MMU_COUNT_HIT_(f) ((void)0)
#endif

/* A big-endian MMU never fills read or write tags these compares can match
 * (bit 11 set): its typed accesses all take the slow path, which swaps. */
#define MMU_DEFINE_TYPED_(bits)                                                                       \
    MMU_MUST_CHECK_ static inline mmu_err mmu_load_u##bits(mmu_t *m, uint64_t addr, uint##bits##_t *out) \
    {                                                                                                 \
        mmu_fast_ *f = (mmu_fast_ *)m;                                                                \
        mmu_tlb_entry_ *e = MMU_TLB_ENTRY_(f, addr);                                                  \
        if (__builtin_expect(e->tag_read == MMU_TAG_(addr, bits / 8), 1)) {                           \
            MMU_COUNT_HIT_(f);                                                                        \
            memcpy(out, (const void *)(uintptr_t)(addr + e->addend), sizeof *out);                    \
            return MMU_OK;                                                                            \
        }                                                                                             \
        return mmu_load_slow_(m, addr, out, sizeof *out);                                             \
    }                                                                                                 \
    MMU_MUST_CHECK_ static inline mmu_err mmu_store_u##bits(mmu_t *m, uint64_t addr,                  \
                                                            uint##bits##_t value)                     \
    {                                                                                                 \
        mmu_fast_ *f = (mmu_fast_ *)m;                                                                \
        mmu_tlb_entry_ *e = MMU_TLB_ENTRY_(f, addr);                                                  \
        if (__builtin_expect(e->tag_write == MMU_TAG_(addr, bits / 8), 1)) {                          \
            MMU_COUNT_HIT_(f);                                                                        \
            memcpy((void *)(uintptr_t)(addr + e->addend), &value, sizeof value);                      \
            return MMU_OK;                                                                            \
        }                                                                                             \
        return mmu_store_slow_(m, addr, &value, sizeof value);                                        \
    }

MMU_DEFINE_TYPED_(8)
MMU_DEFINE_TYPED_(16)
MMU_DEFINE_TYPED_(32)
MMU_DEFINE_TYPED_(64)

/* ---------------------------------------- inline helpers for interpreters */

/*
 * mmu_fetch_tag(m, addr): the TLB's instruction-fetch tag for the slot of
 * addr. It equals addr's page address (addr & ~(MMU_PAGE_SIZE - 1)) exactly
 * when a fetch from that page would take the fast path now: the page is
 * mapped executable, cached in the TLB, and has no fetch hook; any other
 * value is never page-aligned. An interpreter that caches decoded code keeps
 * the page address with each instruction and re-checks it with one compare
 * before running it, instead of calling mmu_fetch. No side effects.
 */
static inline uint64_t mmu_fetch_tag(const mmu_t *m, uint64_t addr)
{
    const mmu_fast_ *f = (const mmu_fast_ *)m;
    return MMU_TLB_ENTRY_(f, addr)->tag_fetch;
}

/* mmu_code_generation, inline: cheap enough to test before every
 * instruction. */
static inline uint64_t mmu_code_generation_fast(const mmu_t *m)
{
    return ((const mmu_fast_ *)m)->code_gen;
}

#ifdef __cplusplus
}
#endif
#endif /* SOFTMMU_MMU_H */
