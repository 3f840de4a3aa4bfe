/*
 * load.c - maps a static x86-64 ELF (ET_EXEC, or static-pie ET_DYN at a
 * chosen base) or a flat binary into the MMU, as the kernel's binfmt_elf
 * does: one region per PT_LOAD with the perms of its p_flags, file bytes
 * copied in, the rest (bss) zero. Every check comes before the first map,
 * so a bad file is a one-line error and never a crash.
 */
#include "run.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define MAX_FILE (1ull << 30) /* refuse to read more than 1 GiB */

typedef struct image {
    uint8_t          *data;
    size_t            size;
    const Elf64_Ehdr *eh;
    const Elf64_Phdr *ph;
} image;

/* the file is checked before it is opened: opening a FIFO would block */
static bool check_file(run_t *r)
{
    struct stat st;
    if (stat(r->o.path, &st) != 0) {
        r->load_errno = errno;
        return run_fail(r, "cannot open '%s': %s", r->o.path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        r->load_errno = EACCES; /* as execve of a directory or a device */
        return run_fail(r, "'%s' is not a regular file", r->o.path);
    }
    return true;
}

static bool read_file(run_t *r, image *im)
{
    if (!check_file(r))
        return false;
    FILE *f = fopen(r->o.path, "rb");
    if (!f) {
        r->load_errno = errno;
        return run_fail(r, "cannot open '%s': %s", r->o.path, strerror(errno));
    }
    struct stat st;
    bool ok = fstat(fileno(f), &st) == 0;
    if (ok && !S_ISREG(st.st_mode))
        ok = run_fail(r, "'%s' is not a regular file", r->o.path);
    else if (ok && (uint64_t)st.st_size > MAX_FILE)
        ok = run_fail(r, "'%s' is too large (over 1 GiB)", r->o.path);
    else if (ok) {
        im->size = (size_t)st.st_size;
        im->data = malloc(im->size ? im->size : 1);
        ok = im->data ? fread(im->data, 1, im->size, f) == im->size
                      : run_fail(r, "out of memory reading '%s'", r->o.path);
        if (!ok && im->data)
            run_fail(r, "cannot read '%s': %s", r->o.path, strerror(errno ? errno : EIO));
    } else
        run_fail(r, "cannot stat '%s': %s", r->o.path, strerror(errno));
    fclose(f);
    return ok;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static unsigned elf_perms(uint32_t flags)
{
    return (flags & PF_R ? MMU_PROT_READ : 0) | (flags & PF_W ? MMU_PROT_WRITE : 0) |
           (flags & PF_X ? MMU_PROT_EXEC : 0);
}

/* ---------------------------------------------------------- header checks */

static bool check_ident(run_t *r, const image *im)
{
    const uint8_t *e = im->data;
    if (im->size < 4 || memcmp(e, ELFMAG, SELFMAG) != 0)
        return run_fail(r, "'%s' is not an ELF file (use --raw ADDR for a flat binary)", r->o.path);
    if (im->size < EI_NIDENT)
        return run_fail(r, "'%s': truncated ELF header", r->o.path);
    if (e[EI_CLASS] == ELFCLASS32)
        return run_fail(r, "'%s' is a 32-bit ELF: only x86-64 programs run", r->o.path);
    if (e[EI_CLASS] != ELFCLASS64)
        return run_fail(r, "'%s': bad ELF class %u", r->o.path, e[EI_CLASS]);
    if (e[EI_DATA] != ELFDATA2LSB)
        return run_fail(r, "'%s' is a big-endian ELF: only x86-64 programs run", r->o.path);
    if (im->size < sizeof(Elf64_Ehdr))
        return run_fail(r, "'%s': truncated ELF header (%zu bytes)", r->o.path, im->size);
    return true;
}

static bool check_header(run_t *r, image *im)
{
    if (!check_ident(r, im))
        return false;
    const Elf64_Ehdr *eh = im->eh = (const Elf64_Ehdr *)im->data;
    if (eh->e_machine != EM_X86_64)
        return run_fail(r, "'%s' is an ELF for machine %u, not x86-64 (62)", r->o.path, eh->e_machine);
    if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
        return run_fail(r, "'%s' is not an executable (ELF type %u)", r->o.path, eh->e_type);
    if (eh->e_phnum == 0 || eh->e_phentsize != sizeof(Elf64_Phdr))
        return run_fail(r, "'%s': no usable program headers", r->o.path);
    uint64_t end = eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
    if (eh->e_phoff > im->size || end > im->size || eh->e_phoff % 8)
        return run_fail(r, "'%s': truncated program headers", r->o.path);
    im->ph = (const Elf64_Phdr *)(im->data + eh->e_phoff);
    return true;
}

/* one PT_LOAD: in the file, in user space, after the previous one */
static bool check_segment(run_t *r, const image *im, const Elf64_Phdr *p, uint64_t prev_end)
{
    unsigned n = (unsigned)(p - im->ph);
    uint64_t lo = p->p_vaddr + r->bias, hi = lo + p->p_memsz;
    if (p->p_filesz > p->p_memsz)
        return run_fail(r, "'%s': segment %u has file size above memory size", r->o.path, n);
    if (p->p_offset > im->size || p->p_filesz > im->size - p->p_offset)
        return run_fail(r, "'%s': segment %u lies past the end of the file (truncated?)", r->o.path, n);
    if (hi < lo || lo < p->p_vaddr || hi > RUN_USER_TOP || RUN_ALIGN_DOWN(lo) == 0)
        return run_fail(r, "'%s': segment %u [%#" PRIx64 ", %#" PRIx64 ") lies outside the user address space",
                        r->o.path, n, lo, hi);
    if (lo < prev_end)
        return run_fail(r, "'%s': segment %u overlaps the one before it", r->o.path, n);
    if (lo < RUN_STACK_TOP && hi > RUN_STACK_TOP - RUN_STACK_SIZE)
        return run_fail(r, "'%s': segment %u overlaps the stack", r->o.path, n);
    return true;
}

static bool check_segments(run_t *r, const image *im)
{
    uint64_t prev_end = 0, total = 0;
    unsigned loads = 0;
    for (unsigned i = 0; i < im->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &im->ph[i];
        if (p->p_type == PT_INTERP)
            return run_fail(r, "'%s' is dynamically linked: only static programs run", r->o.path);
        if (p->p_type != PT_LOAD || p->p_memsz == 0)
            continue;
        if (!check_segment(r, im, p, prev_end))
            return false;
        prev_end = p->p_vaddr + r->bias + p->p_memsz;
        total += p->p_memsz;
        if (total > RUN_MAX_MEM)
            return run_fail(r, "'%s': segment %u makes the image larger than %" PRIu64 " GiB", r->o.path, i,
                            RUN_MAX_MEM >> 30);
        loads++;
    }
    if (!loads)
        return run_fail(r, "'%s' has no loadable segment", r->o.path);
    return true;
}

/* ---------------------------------------------------------------- mapping */

/* maps one segment; a page shared with the previous segment gets the union
 * of both perms (the kernel maps such a page twice, the last map winning) */
static bool map_segment(run_t *r, const image *im, const Elf64_Phdr *p, uint64_t *mapped_end,
                        unsigned *prev_perms)
{
    uint64_t lo = p->p_vaddr + r->bias, hi = RUN_ALIGN_UP(lo + p->p_memsz);
    unsigned perms = elf_perms(p->p_flags);
    uint64_t start = RUN_ALIGN_DOWN(lo);
    mmu_err err = MMU_OK;
    if (start < *mapped_end) { /* shares its first page */
        err = mmu_protect(r->m, start, RUN_PAGE, perms | *prev_perms);
        start += RUN_PAGE;
    }
    if (err == MMU_OK && start < hi)
        err = mmu_map(r->m, start, hi - start, perms, r->label);
    if (err == MMU_OK)
        err = mmu_write(r->m, lo, im->data + p->p_offset, p->p_filesz);
    if (err != MMU_OK)
        return run_fail(r, "'%s': cannot map segment at %#" PRIx64 ": %s", r->o.path, lo, mmu_strerror(err));
    *mapped_end = hi;
    *prev_perms = perms;
    return true;
}

/* AT_PHDR: the PT_PHDR segment, else where the headers fall in a PT_LOAD */
static uint64_t find_phdr(const run_t *r, const image *im)
{
    const Elf64_Ehdr *eh = im->eh;
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (im->ph[i].p_type == PT_PHDR)
            return im->ph[i].p_vaddr + r->bias;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *p = &im->ph[i];
        if (p->p_type == PT_LOAD && eh->e_phoff >= p->p_offset && eh->e_phoff - p->p_offset < p->p_filesz)
            return p->p_vaddr + r->bias + (eh->e_phoff - p->p_offset);
    }
    return 0;
}

static bool load_elf(run_t *r, image *im)
{
    if (!check_header(r, im))
        return false;
    r->bias = im->eh->e_type == ET_DYN ? r->o.base : 0;
    if (!check_segments(r, im))
        return false;
    uint64_t mapped_end = 0;
    unsigned prev_perms = 0;
    for (unsigned i = 0; i < im->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &im->ph[i];
        if (p->p_type == PT_LOAD && p->p_memsz && !map_segment(r, im, p, &mapped_end, &prev_perms))
            return false;
    }
    r->entry = im->eh->e_entry + r->bias;
    r->phdr = find_phdr(r, im);
    r->phnum = im->eh->e_phnum;
    r->image_end = mapped_end;
    return true;
}

static bool load_raw(run_t *r, const image *im)
{
    uint64_t lo = RUN_ALIGN_DOWN(r->o.raw_addr);
    uint64_t hi = RUN_ALIGN_UP(r->o.raw_addr + (im->size ? im->size : 1));
    if (hi > RUN_STACK_TOP - RUN_STACK_SIZE || lo == 0)
        return run_fail(r, "'%s' does not fit at %#" PRIx64 " (below the stack, above page 0)", r->o.path,
                        r->o.raw_addr);
    mmu_err err = mmu_map(r->m, lo, hi - lo, MMU_PROT_ALL, r->label);
    if (err == MMU_OK)
        err = mmu_write(r->m, r->o.raw_addr, im->data, im->size);
    if (err != MMU_OK)
        return run_fail(r, "cannot map '%s': %s", r->o.path, mmu_strerror(err));
    r->entry = r->o.raw_addr;
    r->image_end = hi;
    return true;
}

bool load_program(run_t *r)
{
    image im = { 0 };
    snprintf(r->label, sizeof r->label, "%s", base_name(r->o.execfn ? r->o.execfn : r->o.path));
    bool ok = read_file(r, &im) && (r->o.raw ? load_raw(r, &im) : load_elf(r, &im));
    free(im.data);
    if (ok) /* the heap starts right after the image, as with no randomisation */
        r->brk_start = r->brk_cur = r->image_end;
    return ok;
}
