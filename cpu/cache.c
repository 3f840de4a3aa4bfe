/*
 * cache.c - the decoded-instruction cache: an arena of dinsn records and a
 * hash table from guest address to the block decoded there.
 *
 * Blocks are never freed one by one: a flush (code changed, or the arena
 * grew too big) drops everything at once. Table slots carry the epoch they
 * were written in, so a flush is O(arena chunks), not O(table).
 */
#include "cpu_int.h"
#include "alloc.h"

#define DC_INIT_CAP 1024u
#define DC_CHUNK_RECS 1024u          /* records per arena chunk */
#define DC_MAX_BYTES (64u << 20)     /* flush beyond this much decoded code */

static size_t hash_addr(uint64_t addr, size_t cap)
{
    return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

mmu_err dc_init(dcache *dc)
{
    dc->slot = sm_calloc(DC_INIT_CAP, sizeof *dc->slot);
    if (!dc->slot)
        return MMU_ERR_NOMEM;
    dc->cap = DC_INIT_CAP;
    dc->count = 0;
    dc->epoch = 1; /* calloc'ed slots (epoch 0) read as empty */
    dc->chunk = NULL;
    dc->bytes = 0;
    return MMU_OK;
}

static void free_chunks(dc_chunk *ch)
{
    while (ch) {
        dc_chunk *prev = ch->prev;
        sm_free(ch);
        ch = prev;
    }
}

void dc_free(dcache *dc)
{
    free_chunks(dc->chunk);
    sm_free(dc->slot);
    dc->slot = NULL;
    dc->chunk = NULL;
}

/* keeps the newest chunk for reuse, frees the others */
void dc_flush(dcache *dc)
{
    dc->epoch++;
    dc->count = 0;
    if (!dc->chunk)
        return;
    free_chunks(dc->chunk->prev);
    dc->chunk->prev = NULL;
    dc->chunk->used = 0;
    dc->bytes = sizeof *dc->chunk + dc->chunk->cap * sizeof(dinsn);
}

dinsn *dc_find(const dcache *dc, uint64_t addr)
{
    for (size_t i = hash_addr(addr, dc->cap);; i = (i + 1) & (dc->cap - 1)) {
        const dc_slot *s = &dc->slot[i];
        if (s->epoch != dc->epoch)
            return NULL;
        if (s->addr == addr)
            return s->block;
    }
}

dinsn *dc_alloc(dcache *dc, size_t n)
{
    dc_chunk *ch = dc->chunk;
    if (!ch || ch->cap - ch->used < n) {
        size_t cap = n > DC_CHUNK_RECS ? n : DC_CHUNK_RECS;
        dc_chunk *nc = sm_malloc(sizeof *nc + cap * sizeof(dinsn));
        if (!nc)
            return NULL;
        nc->prev = ch;
        nc->used = 0;
        nc->cap = cap;
        dc->chunk = ch = nc;
        dc->bytes += sizeof *nc + cap * sizeof(dinsn);
    }
    dinsn *d = &ch->rec[ch->used];
    ch->used += n;
    return d;
}

static void put(dc_slot *slot, size_t cap, uint64_t epoch, uint64_t addr, dinsn *block)
{
    size_t i = hash_addr(addr, cap);
    while (slot[i].epoch == epoch && slot[i].addr != addr)
        i = (i + 1) & (cap - 1);
    slot[i] = (dc_slot){ addr, epoch, block };
}

/* doubles the table; the live slots move, stale ones are dropped */
static mmu_err grow(dcache *dc)
{
    size_t cap = dc->cap * 2;
    dc_slot *ns = sm_calloc(cap, sizeof *ns);
    if (!ns)
        return MMU_ERR_NOMEM;
    for (size_t i = 0; i < dc->cap; i++)
        if (dc->slot[i].epoch == dc->epoch)
            put(ns, cap, 1, dc->slot[i].addr, dc->slot[i].block);
    sm_free(dc->slot);
    dc->slot = ns;
    dc->cap = cap;
    dc->epoch = 1;
    return MMU_OK;
}

mmu_err dc_insert(dcache *dc, uint64_t addr, dinsn *block)
{
    if ((dc->count + 1) * 2 > dc->cap) {
        mmu_err err = grow(dc);
        if (err)
            return err;
    }
    put(dc->slot, dc->cap, dc->epoch, addr, block);
    dc->count++;
    return MMU_OK;
}

bool dc_too_big(const dcache *dc)
{
    return dc->bytes > DC_MAX_BYTES;
}
