/*
 * stack.c - the initial process stack, laid out as Linux's create_elf_tables
 * does. From the top down: an 8-byte end marker, the file name (AT_EXECFN),
 * the environment strings, the argument strings, the platform string and
 * the 16 AT_RANDOM bytes; then, 16-byte aligned, argc, argv[], NULL,
 * envp[], NULL and the auxiliary vector, RSP pointing at argc.
 */
#include "run.h"

#include <elf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#define MAX_ARGS_BYTES (RUN_STACK_SIZE / 4) /* Linux's limit: a quarter of the stack */
#define N_AUXV 20

typedef struct strings {
    uint64_t sp;                       /* next free byte is below sp */
    uint64_t execfn, platform, random; /* guest addresses */
} strings;

static const char platform[] = "x86_64";

static uint64_t args_bytes(const run_t *r)
{
    uint64_t n = 8 + strlen(r->o.execfn) + 1 + sizeof platform + 16;
    for (int i = 0; i < r->o.argc; i++)
        n += strlen(r->o.argv[i]) + 1;
    for (int i = 0; i < r->o.n_env; i++)
        n += strlen(r->o.envp[i]) + 1;
    uint64_t words = 1 + (uint64_t)r->o.argc + 1 + (uint64_t)r->o.n_env + 1 + 2 * N_AUXV;
    return n + 16 + 8 * words;
}

/* eager: the whole reservation; demand paging: the pages the tables need */
static bool map_stack(run_t *r)
{
    uint64_t need = args_bytes(r);
    if (need > MAX_ARGS_BYTES)
        return run_fail(r, "argument list too long (%" PRIu64 " bytes)", need);
    r->stack_lo = RUN_STACK_TOP - RUN_STACK_SIZE;
    if (!mmu_is_available(r->m, r->stack_lo, RUN_STACK_SIZE))
        return run_fail(r, "the stack [%#" PRIx64 ", %#" PRIx64 ") overlaps the program", r->stack_lo,
                        RUN_STACK_TOP);
    r->stack_mapped_lo = r->o.demand ? RUN_ALIGN_DOWN(RUN_STACK_TOP - need) : r->stack_lo;
    mmu_err err = mmu_map(r->m, r->stack_mapped_lo, RUN_STACK_TOP - r->stack_mapped_lo,
                          MMU_PROT_READ | MMU_PROT_WRITE, "[stack]");
    return err == MMU_OK ? true : run_fail(r, "cannot map the stack: %s", mmu_strerror(err));
}

static uint64_t put_bytes(run_t *r, strings *s, const void *p, size_t n)
{
    s->sp -= n;
    mmu_err err = mmu_write(r->m, s->sp, p, n);
    return err == MMU_OK ? s->sp : 0;
}

static uint64_t put_string(run_t *r, strings *s, const char *str)
{
    return put_bytes(r, s, str, strlen(str) + 1);
}

/* the strings, top down; fills ptrs with argv then envp addresses */
static bool put_strings(run_t *r, strings *s, uint64_t *ptrs)
{
    uint8_t rnd[16] = { 0 };
    s->sp = RUN_STACK_TOP - 8; /* end marker: 8 zero bytes */
    s->execfn = put_string(r, s, r->o.execfn);
    for (int i = r->o.n_env - 1; i >= 0; i--)
        ptrs[r->o.argc + i] = put_string(r, s, r->o.envp[i]);
    for (int i = r->o.argc - 1; i >= 0; i--)
        ptrs[i] = put_string(r, s, r->o.argv[i]);
    s->platform = put_string(r, s, platform);
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        memset(rnd, 0x5a, sizeof rnd); /* no entropy: still 16 readable bytes */
    s->random = put_bytes(r, s, rnd, sizeof rnd);
    return s->execfn && s->platform && s->random;
}

static size_t fill_auxv(const run_t *r, const strings *s, uint64_t *av)
{
    const uint64_t v[][2] = {
        { AT_HWCAP, 0 },          { AT_PAGESZ, RUN_PAGE },      { AT_CLKTCK, 100 },
        { AT_PHDR, r->phdr },     { AT_PHENT, sizeof(Elf64_Phdr) }, { AT_PHNUM, r->phnum },
        { AT_BASE, 0 },           { AT_FLAGS, 0 },              { AT_ENTRY, r->entry },
        { AT_UID, getuid() },     { AT_EUID, geteuid() },       { AT_GID, getgid() },
        { AT_EGID, getegid() },   { AT_SECURE, 0 },             { AT_RANDOM, s->random },
        { AT_HWCAP2, 0 },         { AT_EXECFN, s->execfn },     { AT_PLATFORM, s->platform },
        { AT_NULL, 0 },
    };
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++) {
        av[2 * i] = v[i][0];
        av[2 * i + 1] = v[i][1];
    }
    return 2 * n;
}

/* pushes the words top down so that argc ends at a 16-byte aligned RSP */
static bool push_tables(run_t *r, const strings *s, const uint64_t *ptrs)
{
    uint64_t av[2 * N_AUXV];
    size_t n_av = fill_auxv(r, s, av);
    int argc = r->o.argc, envc = r->o.n_env;
    size_t words = 1 + (size_t)argc + 1 + (size_t)envc + 1 + n_av;
    uint64_t sp = s->sp & ~15ull;
    cpu_reg_write(r->c, CPU_RSP, words % 2 ? sp - 8 : sp);
    bool ok = true;
    for (size_t i = n_av; i-- > 0;)
        ok = ok && cpu_stack_push(r->c, av[i], NULL) == MMU_OK;
    ok = ok && cpu_stack_push(r->c, 0, NULL) == MMU_OK;
    for (int i = envc - 1; i >= 0; i--)
        ok = ok && cpu_stack_push(r->c, ptrs[argc + i], NULL) == MMU_OK;
    ok = ok && cpu_stack_push(r->c, 0, NULL) == MMU_OK;
    for (int i = argc - 1; i >= 0; i--)
        ok = ok && cpu_stack_push(r->c, ptrs[i], NULL) == MMU_OK;
    return ok && cpu_stack_push(r->c, (uint64_t)argc, NULL) == MMU_OK;
}

bool stk_setup(run_t *r)
{
    if (!map_stack(r))
        return false;
    strings s;
    uint64_t *ptrs = calloc((size_t)r->o.argc + (size_t)r->o.n_env + 1, sizeof *ptrs);
    bool ok = ptrs && put_strings(r, &s, ptrs) && push_tables(r, &s, ptrs);
    free(ptrs);
    if (!ok)
        return run_fail(r, "cannot build the initial stack");
    cpu_reg_write(r->c, CPU_RIP, r->entry);
    return true;
}
