/* an outside program using the installed softmmu */
#include <softmmu/cpu.h>

#include <stdio.h>

int main(void)
{
    mmu_t *m;
    cpu_t *c;
    uint64_t v = 0;
    if (mmu_open(NULL, &m) || mmu_map(m, 0x10000, 0x1000, MMU_PROT_ALL, "x") || cpu_open(m, &c))
        return 1;
    cpu_reg_write(c, CPU_RSP, 0x11000);
    if (cpu_stack_push(c, 0x1234, NULL) || cpu_stack_pop(c, &v) || v != 0x1234)
        return 1;
    cpu_close(c);
    mmu_close(m);
    puts("consumer ok");
    return 0;
}
