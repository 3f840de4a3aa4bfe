/*
 * args.c - prints its arguments and environment and checks the initial
 * stack the loader built: RSP 16-byte aligned at _start, and the auxiliary
 * vector entries a C library reads (AT_PAGESZ, AT_RANDOM, AT_PHDR, AT_ENTRY).
 */
#include "sys.h"

enum { AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_ENTRY = 9, AT_RANDOM = 25, AT_EXECFN = 31 };

void _start(void);

static int check_auxv(void)
{
    int bad = 0;
    const unsigned *phdr = (const unsigned *)getauxval(AT_PHDR);
    const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
    unsigned any = 0;
    bad |= guest_entry_sp % 16 != 0;
    bad |= (getauxval(AT_PAGESZ) != 4096) << 1;
    bad |= (getauxval(AT_ENTRY) != (unsigned long)_start) << 2;
    bad |= (getauxval(AT_PHENT) != 56 || getauxval(AT_PHNUM) == 0) << 3;
    bad |= (!phdr || (phdr[0] != 6 && phdr[0] != 1)) << 4; /* PT_PHDR or PT_LOAD first */
    for (int i = 0; rnd && i < 16; i++)
        any |= rnd[i];
    bad |= (!rnd || !any) << 5;
    bad |= (!getauxval(AT_EXECFN)) << 6;
    return bad;
}

int main(int argc, char **argv)
{
    print("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        print("argv[%d]=%s\n", i, argv[i]);
    for (int i = 0; guest_envp[i]; i++)
        print("env[%d]=%s\n", i, guest_envp[i]);
    int bad = check_auxv();
    if (bad)
        print("auxv/stack check failed: %x\n", bad);
    else
        print("auxv ok\n");
    return bad != 0;
}
