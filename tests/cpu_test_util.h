/*
 * cpu_test_util.h - what the interpreter's unit tests share: one MMU and
 * CPU per test, code written at CODE and run to its end, register and
 * flag assertions. Tests written as raw bytes with their disassembly in a
 * comment: RUN_OK(0x48, 0xff, 0xc0); -- inc rax.
 */
#ifndef SOFTMMU_CPU_TEST_UTIL_H
#define SOFTMMU_CPU_TEST_UTIL_H

#include "test_util.h"

#include <softmmu/cpu.h>

/* the standard layout; a test file may define its own before including */
#ifndef CODE
#define CODE 0x1000ull   /* RWX, 2 pages: self-modifying tests write here */
#define DATA 0x10000ull  /* RW scratch, 2 pages */
#define STACK 0x20000ull /* RW, 2 pages; RSP starts in the middle */
#endif
#define SP0 (STACK + 0x1000)

/* RFLAGS bits */
#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define DF 0x400u
#define OF 0x800u
#define ARITH (CF | PF | AF | ZF | SF | OF)

static mmu_t *m;
static cpu_t *c;

/* the standard fixture: code, data and stack mapped, RSP at SP0 */
static inline void cpu_fixture_setup(void)
{
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, CODE, 0x2000, MMU_PROT_ALL, "code"));
    OK(mmu_map(m, DATA, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, "data"));
    OK(mmu_map(m, STACK, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, "stack"));
    OK(cpu_open(m, &c));
    cpu_reg_write(c, CPU_RSP, SP0);
}

static inline void cpu_fixture_teardown(void)
{
    cpu_close(c);
    mmu_close(m);
}

/* writes code at CODE and runs it to its end; returns the exit */
static inline cpu_exit run_n(const uint8_t *code, size_t n)
{
    cpu_exit ex;
    OK(mmu_write(m, CODE, code, n));
    OK(cpu_run(c, CODE, CODE + n, 0, &ex));
    return ex;
}

#define RUN(...)                                                                           \
    ({                                                                                     \
        static const uint8_t code_[] = { __VA_ARGS__ };                                    \
        run_n(code_, sizeof code_);                                                        \
    })

#define RUN_OK(...) cr_assert_eq(RUN(__VA_ARGS__), CPU_EXIT_UNTIL)

#define REG(r) cpu_reg_read(c, CPU_##r)
#define SET(r, v) cpu_reg_write(c, CPU_##r, (v))
#define FLAGS() (cpu_reg_read(c, CPU_RFLAGS) & ARITH)
#define EQ(r, v) cr_assert_eq(REG(r), (uint64_t)(v), #r " = %#lx, want %#lx", (unsigned long)REG(r), (unsigned long)(v))
#define FLAGS_EQ(v) cr_assert_eq(FLAGS(), (uint64_t)(v), "flags %#lx, want %#lx", (unsigned long)FLAGS(), (unsigned long)(v))

#endif
