/*
 * mmap_fault.c - maps, protects and unmaps memory, provokes faults and
 * recovers from them, the way a kernel lets a program do:
 *  - a store to a read-only page raises SIGSEGV (SEGV_ACCERR); the handler
 *    mprotects the page writable and returns; the store runs again;
 *  - a load from an unmapped page raises SIGSEGV (SEGV_MAPERR); the handler
 *    maps a fresh page there (MAP_FIXED) and returns; the load reads zero;
 *  - system calls given a bad buffer fail with -EFAULT and change nothing;
 *  - memory the program break gave back faults like any unmapped page.
 * Prints what it checked; exits 0 only if everything held.
 */
#include "sys.h"

static int failures;
static volatile int faults;
static volatile unsigned long fault_addr, fault_cr2;

#define CHECK(cond, what)                       \
    do {                                        \
        if (cond)                               \
            print("ok   %s\n", what);           \
        else {                                  \
            print("FAIL %s\n", what);           \
            failures++;                         \
        }                                       \
    } while (0)

/* fixes the page the fault names and returns to the faulting instruction */
static void on_segv(int sig, void *info, void *uc)
{
    char *page = (char *)((unsigned long)SI_ADDR(info) & ~(PAGE - 1));
    faults++;
    fault_addr = (unsigned long)SI_ADDR(info);
    fault_cr2 = UC_GREG(uc, REG_CR2);
    if (sig != SIGSEGV)
        sys_exit_group(3);
    if (SI_CODE(info) == SEGV_ACCERR)
        sys_mprotect(page, PAGE, PROT_READ | PROT_WRITE);
    else if (IS_ERR(sys_mmap(page, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)))
        sys_exit_group(4);
}

static void fill(volatile unsigned char *p, unsigned long n, unsigned char v)
{
    for (unsigned long i = 0; i < n; i++)
        p[i] = (unsigned char)(v + i);
}

static int holds(volatile unsigned char *p, unsigned long n, unsigned char v)
{
    for (unsigned long i = 0; i < n; i++)
        if (p[i] != (unsigned char)(v + i))
            return 0;
    return 1;
}

static void read_only_page(volatile unsigned char *p)
{
    volatile unsigned char *mid = p + PAGE;
    CHECK(sys_mprotect((void *)mid, PAGE, PROT_READ) == 0, "mprotect the middle page read-only");
    CHECK(sys_uname((void *)mid) == -EFAULT, "uname into the read-only page fails with EFAULT");
    CHECK(holds(mid, PAGE, 2), "the read-only page still holds its data");
    CHECK(sys_write(1, (const void *)(mid + PAGE - 1), 0) == 0, "a zero-length write from it is fine");
    mid[8] = 0x77; /* faults once: the handler makes the page writable */
    CHECK(faults == 1 && fault_addr == (unsigned long)(mid + 8), "store to it raised SIGSEGV at its address");
    CHECK(fault_cr2 == fault_addr, "the signal frame's CR2 names the same address");
    CHECK(mid[8] == 0x77 && mid[9] == (unsigned char)(2 + 9), "the store ran again after the handler");
}

static void unmapped_page(volatile unsigned char *p)
{
    volatile unsigned char *mid = p + PAGE;
    CHECK(sys_munmap((void *)mid, PAGE) == 0, "munmap the middle page");
    CHECK(sys_write(1, (const void *)mid, 16) == -EFAULT, "write(2) from the unmapped page fails with EFAULT");
    CHECK(holds(p, PAGE, 1) && holds(p + 2 * PAGE, PAGE, 3), "its neighbours are intact");
    unsigned char v = mid[100]; /* faults: the handler maps a fresh page */
    CHECK(faults == 2 && fault_addr == (unsigned long)(mid + 100), "load from it raised SIGSEGV at its address");
    CHECK(v == 0 && holds(p, PAGE, 1), "the load ran again and read the fresh page's zero");
}

static void fixed_and_remap(volatile unsigned char *p)
{
    long q = sys_mmap((void *)p, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
    CHECK(q == (long)p && p[0] == 0 && p[5] == 0, "MAP_FIXED over a used page gives a zeroed page");
    CHECK(sys_munmap((void *)p, 3 * PAGE) == 0, "munmap all three pages");
    CHECK(sys_munmap((void *)p, 3 * PAGE) == 0, "munmap of an unmapped range is not an error");
    CHECK(sys_mprotect((void *)p, PAGE, PROT_READ) == -ENOMEM, "mprotect of an unmapped range: ENOMEM");
    CHECK(sys_munmap((char *)p + 1, PAGE) == -EINVAL, "munmap of a misaligned address: EINVAL");
    CHECK(sys_mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS) == -EINVAL, "mmap of zero bytes: EINVAL");
    long r = sys_mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    CHECK(!IS_ERR(r), "mmap again after munmap");
    if (!IS_ERR(r)) {
        fill((unsigned char *)r, 2 * PAGE, 9);
        CHECK(holds((unsigned char *)r, 2 * PAGE, 9), "the new mapping is usable");
    }
}

/* the program break: grow, use, shrink; a page given back is gone */
static void brk_pages(void)
{
    char *cur = (char *)sys_brk(0);
    volatile char *top = cur + 3 * PAGE - 1;
    CHECK(sys_brk(cur + 3 * PAGE) == (long)(cur + 3 * PAGE), "brk grows the heap by three pages");
    *top = 5;
    CHECK(*top == 5 && cur[0] == 0, "the new heap is usable and starts zeroed");
    CHECK(sys_brk(cur + PAGE) == (long)(cur + PAGE), "brk shrinks it to one page");
    CHECK(sys_brk(0) == (long)(cur + PAGE), "brk(0) reports the new break");
    int before = faults;
    char v = *top; /* faults: the page went back to the kernel */
    CHECK(faults == before + 1 && v == 0, "a page given back by brk faults, the handler maps a zeroed one");
}

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    CHECK(sys_sigaction(SIGSEGV, on_segv) == 0, "install a SIGSEGV handler");
    long r = sys_mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    CHECK(!IS_ERR(r) && r % PAGE == 0, "mmap three anonymous pages");
    if (IS_ERR(r))
        return 1;
    volatile unsigned char *p = (unsigned char *)r;
    for (int i = 0; i < 3; i++)
        fill(p + i * PAGE, PAGE, (unsigned char)(i + 1));
    CHECK(holds(p, PAGE, 1) && holds(p + PAGE, PAGE, 2) && holds(p + 2 * PAGE, PAGE, 3), "they hold what was written");
    read_only_page(p);
    unmapped_page(p);
    fixed_and_remap(p);
    brk_pages();
    print("mmap_fault: %d faults recovered, %s\n", faults, failures ? "some checks FAILED" : "all checks passed");
    return failures != 0;
}
