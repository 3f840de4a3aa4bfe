/*
 * test_cpu.c - the x86-64 interpreter: instruction families with raw bytes
 * (disassembly in comments), operand sizes and flags, exits, faults and
 * retries, hooks, self-modifying code, and the architectural stack ops.
 */
#include "test_util.h"

#include <softmmu/cpu.h>

#include "alloc.h"

#define CODE 0x1000ull   /* RWX: self-modifying tests write here */
#define DATA 0x10000ull  /* RW scratch, 2 pages */
#define STACK 0x20000ull /* RW, 2 pages; RSP starts in the middle */
#define SP0 (STACK + 0x1000)

/* flags */
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

static void setup(void)
{
    OK(mmu_open(NULL, &m));
    OK(mmu_map(m, CODE, 0x2000, MMU_PROT_ALL, "code"));
    OK(mmu_map(m, DATA, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, "data"));
    OK(mmu_map(m, STACK, 0x2000, MMU_PROT_READ | MMU_PROT_WRITE, "stack"));
    OK(cpu_open(m, &c));
    cpu_reg_write(c, CPU_RSP, SP0);
}

static void teardown(void)
{
    cpu_close(c);
    mmu_close(m);
}

TestSuite(cpu, .init = setup, .fini = teardown);

/* writes code at CODE and runs it to its end; returns the exit */
static cpu_exit run_n(const uint8_t *code, size_t n)
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

static uint64_t rd64(uint64_t a)
{
    uint64_t v;
    OK(mmu_read_ptr(m, a, 8, false, &v));
    return v;
}

static void wr64(uint64_t a, uint64_t v)
{
    OK(mmu_write_ptr(m, a, v, 8, false));
}

/* ------------------------------------------------------------- registers */

Test(cpu, registers_start_zero_with_rflags_bit1)
{
    cpu_t *c2;
    OK(cpu_open(m, &c2));
    for (int r = 0; r < CPU_REG_COUNT; r++)
        cr_assert_eq(cpu_reg_read(c2, (cpu_reg)r), r == CPU_RFLAGS ? 2u : 0u);
    cpu_reg_write(c2, CPU_RFLAGS, 0);
    cr_assert_eq(cpu_reg_read(c2, CPU_RFLAGS), 2);
    cpu_reg_write(c2, CPU_RFLAGS, 0xcd5);
    cr_assert_eq(cpu_reg_read(c2, CPU_RFLAGS), 0xcd7);
    cr_assert_eq(cpu_reg_read(c2, CPU_REG_COUNT), 0);
    cpu_reg_write(c2, CPU_REG_COUNT, 5); /* ignored */
    cr_assert_eq(cpu_mmu(c2), m);
    cpu_close(c2);
    cpu_close(NULL);
}

Test(cpu, open_rejects_null_and_big_endian_mmu)
{
    cpu_t *c2 = (cpu_t *)1;
    ERR(cpu_open(NULL, &c2), MMU_ERR_ARG);
    ERR(cpu_open(m, NULL), MMU_ERR_ARG);
    mmu_t *be;
    OK(mmu_open(&(mmu_config){ .big_endian = true }, &be));
    ERR(cpu_open(be, &c2), MMU_ERR_ARG);
    cr_assert_eq(c2, (cpu_t *)1);
    mmu_close(be);
}

Test(cpu, context_save_and_restore_all_registers)
{
    cpu_context a, b;
    for (int r = 0; r < CPU_REG_COUNT; r++)
        cpu_reg_write(c, (cpu_reg)r, 0x1111 * (uint64_t)(r + 1));
    cpu_reg_write(c, CPU_RFLAGS, 0x8d7);
    cpu_context_save(c, &a);
    RUN_OK(0x48, 0x31, 0xc0, /* xor rax, rax */
           0x48, 0xff, 0xc1); /* inc rcx */
    cpu_context_restore(c, &a);
    cpu_context_save(c, &b);
    cr_assert_arr_eq(a.regs, b.regs, sizeof a.regs);
    EQ(RAX, 0x1111);
    cr_assert_eq(REG(RFLAGS), 0x8d7);
}

/* ------------------------------------------------------------- arithmetic */

Test(cpu, add_flags_carry_overflow_zero_sign_parity_aux)
{
    SET(RAX, 0xffffffffffffffff), SET(RBX, 1);
    RUN_OK(0x48, 0x01, 0xd8); /* add rax, rbx */
    EQ(RAX, 0);
    FLAGS_EQ(CF | ZF | PF | AF);
    SET(RAX, 0x7fffffffffffffff), SET(RBX, 1);
    RUN_OK(0x48, 0x01, 0xd8); /* add rax, rbx */
    EQ(RAX, 0x8000000000000000);
    FLAGS_EQ(OF | SF | PF | AF);
    SET(RAX, 0x12), SET(RBX, 0x21);
    RUN_OK(0x48, 0x01, 0xd8); /* add rax, rbx: 0x33 has even parity */
    FLAGS_EQ(PF);
}

Test(cpu, operand_sizes_merge_or_zero_extend)
{
    SET(RAX, 0x1122334455667788), SET(RBX, 0x0101010101010101);
    RUN_OK(0x00, 0xd8); /* add al, bl */
    EQ(RAX, 0x1122334455667789);
    RUN_OK(0x66, 0x01, 0xd8); /* add ax, bx */
    EQ(RAX, 0x112233445566788a);
    RUN_OK(0x01, 0xd8); /* add eax, ebx: upper half cleared */
    EQ(RAX, 0x000000005667798b);
    SET(RCX, 0xffffffff00000000);
    RUN_OK(0x89, 0xc9); /* mov ecx, ecx */
    EQ(RCX, 0);
}

Test(cpu, high_byte_registers_without_rex)
{
    SET(RAX, 0x1234), SET(RBX, 0xff00), SET(RSI, 0xabcd);
    RUN_OK(0x00, 0xfc,       /* add ah, bh */
           0x88, 0xe1,       /* mov cl, ah */
           0x40, 0x88, 0xe6); /* mov sil, spl... REX: reg 4 is spl, not ah */
    EQ(RAX, 0x1134);
    EQ(RCX, 0x11);
    EQ(RSI, 0xab00 | (SP0 & 0xff));
    cr_assert(FLAGS() & CF); /* 0x12 + 0xff */
}

Test(cpu, sub_sbb_adc_cmp_neg)
{
    SET(RAX, 5), SET(RBX, 7);
    RUN_OK(0x48, 0x29, 0xd8); /* sub rax, rbx */
    EQ(RAX, (uint64_t)-2);
    FLAGS_EQ(CF | SF | AF);
    RUN_OK(0x48, 0x19, 0xd8); /* sbb rax, rbx: -2 - 7 - 1 */
    EQ(RAX, (uint64_t)-10);
    SET(RFLAGS, CF), SET(RAX, 1), SET(RBX, 1);
    RUN_OK(0x48, 0x11, 0xd8); /* adc rax, rbx */
    EQ(RAX, 3);
    SET(RAX, 0x80);
    RUN_OK(0x3c, 0x80); /* cmp al, 0x80 */
    EQ(RAX, 0x80);
    FLAGS_EQ(ZF | PF);
    SET(RAX, 0x80);
    RUN_OK(0xf6, 0xd8); /* neg al: -(-128) overflows */
    EQ(RAX, 0x80);
    FLAGS_EQ(CF | OF | SF);
}

Test(cpu, logic_ops_clear_cf_of)
{
    SET(RFLAGS, CF | OF), SET(RAX, 0xf0), SET(RBX, 0x0f);
    RUN_OK(0x48, 0x21, 0xd8); /* and rax, rbx */
    EQ(RAX, 0);
    FLAGS_EQ(ZF | PF);
    SET(RAX, 0x80000000);
    RUN_OK(0x0d, 0x01, 0x00, 0x00, 0x00); /* or eax, 1 */
    EQ(RAX, 0x80000001);
    FLAGS_EQ(SF);
    RUN_OK(0x31, 0xc0); /* xor eax, eax */
    EQ(RAX, 0);
    FLAGS_EQ(ZF | PF);
    SET(RAX, 0x8000);
    RUN_OK(0x66, 0xa9, 0x00, 0x80); /* test ax, 0x8000 */
    FLAGS_EQ(SF | PF);
}

Test(cpu, inc_dec_keep_carry)
{
    SET(RFLAGS, CF), SET(RAX, 0x7f);
    RUN_OK(0xfe, 0xc0); /* inc al */
    EQ(RAX, 0x80);
    FLAGS_EQ(CF | OF | SF | AF);
    SET(RFLAGS, 0), SET(RCX, 1);
    RUN_OK(0x48, 0xff, 0xc9); /* dec rcx */
    EQ(RCX, 0);
    FLAGS_EQ(ZF | PF);
    SET(RDX, 0xff);
    RUN_OK(0xf7, 0xd2); /* not edx */
    EQ(RDX, 0xffffff00);
}

Test(cpu, shifts_by_imm_one_and_cl)
{
    SET(RAX, 0x81);
    RUN_OK(0xd0, 0xe0); /* shl al, 1 */
    EQ(RAX, 0x02);
    FLAGS_EQ(CF | OF); /* OF = MSB(result) ^ CF */
    SET(RAX, 0x80000001);
    RUN_OK(0xd1, 0xe8); /* shr eax, 1 */
    EQ(RAX, 0x40000000);
    FLAGS_EQ(CF | OF | PF); /* OF = MSB of the original */
    SET(RAX, 0xfffffffffffffff0), SET(RCX, 0x44); /* count masked to 4 */
    RUN_OK(0x48, 0xd3, 0xf8); /* sar rax, cl */
    EQ(RAX, 0xffffffffffffffff);
    FLAGS_EQ(SF | PF);
    SET(RAX, 0x8000000000000001);
    RUN_OK(0x48, 0xc1, 0xc0, 0x04); /* rol rax, 4 */
    EQ(RAX, 0x18);
    SET(RAX, 0x1);
    RUN_OK(0xd0, 0xc8); /* ror al, 1 */
    EQ(RAX, 0x80);
    cr_assert(FLAGS() & CF);
    cr_assert(FLAGS() & OF);
}

Test(cpu, shift_count_zero_keeps_flags_but_clears_upper_half)
{
    SET(RFLAGS, CF | ZF | OF), SET(RAX, 0xffffffff00000001), SET(RCX, 0x20);
    RUN_OK(0xd3, 0xe0); /* shl eax, cl: count 32 & 31 = 0 */
    EQ(RAX, 1);
    FLAGS_EQ(CF | ZF | OF);
    SET(RAX, 0x1234);
    RUN_OK(0x66, 0xc1, 0xe0, 0x00); /* shl ax, 0 */
    EQ(RAX, 0x1234);
    FLAGS_EQ(CF | ZF | OF);
}

Test(cpu, shld_shrd)
{
    SET(RAX, 0x1), SET(RDX, 0xf000000000000000);
    RUN_OK(0x48, 0x0f, 0xa4, 0xd0, 0x04); /* shld rax, rdx, 4 */
    EQ(RAX, 0x1f);
    SET(RAX, 0x10), SET(RDX, 0x3), SET(RCX, 4);
    RUN_OK(0x0f, 0xad, 0xd0); /* shrd eax, edx, cl */
    EQ(RAX, 0x30000001);
}

Test(cpu, mul_imul_forms)
{
    SET(RAX, 0xffffffffffffffff), SET(RBX, 2);
    RUN_OK(0x48, 0xf7, 0xe3); /* mul rbx */
    EQ(RAX, 0xfffffffffffffffe);
    EQ(RDX, 1);
    cr_assert_eq(FLAGS() & (CF | OF), CF | OF);
    SET(RAX, (uint64_t)-3), SET(RBX, 5);
    RUN_OK(0x48, 0xf7, 0xeb); /* imul rbx */
    EQ(RAX, (uint64_t)-15);
    EQ(RDX, (uint64_t)-1);
    cr_assert_eq(FLAGS() & (CF | OF), 0);
    SET(RAX, 0x10);
    RUN_OK(0xf6, 0xe0); /* mul al: ax = 0x100 */
    EQ(RAX, 0x100);
    SET(RCX, 7);
    RUN_OK(0x48, 0x6b, 0xc1, 0xfd); /* imul rax, rcx, -3 */
    EQ(RAX, (uint64_t)-21);
    SET(RAX, 0x40000000), SET(RCX, 4);
    RUN_OK(0x0f, 0xaf, 0xc1); /* imul eax, ecx: overflows 32 bits */
    EQ(RAX, 0);
    cr_assert_eq(FLAGS() & (CF | OF), CF | OF);
}

Test(cpu, div_idiv)
{
    SET(RDX, 1), SET(RAX, 5), SET(RCX, 2);
    RUN_OK(0x48, 0xf7, 0xf1); /* div rcx: 2^64+5 / 2 */
    EQ(RAX, 0x8000000000000002);
    EQ(RDX, 1);
    SET(RAX, (uint64_t)-7), SET(RCX, 2);
    RUN_OK(0x48, 0x99,        /* cqo */
           0x48, 0xf7, 0xf9); /* idiv rcx */
    EQ(RAX, (uint64_t)-3);
    EQ(RDX, (uint64_t)-1);
    SET(RAX, 0x107), SET(RCX, 0x10);
    RUN_OK(0xf6, 0xf1); /* div cl: ax = 0x0710 -> al 0x10 ah 7 */
    EQ(RAX, 0x0710);
}

Test(cpu, divide_error_leaves_state_at_the_instruction)
{
    static const uint8_t code[] = {
        0x48, 0xff, 0xc3, /* inc rbx */
        0x48, 0xf7, 0xf1, /* div rcx (rcx = 0) */
    };
    SET(RAX, 10), SET(RDX, 0), SET(RCX, 0), SET(RFLAGS, CF);
    cr_assert_eq(run_n(code, sizeof code), CPU_EXIT_EXCEPTION);
    EQ(RIP, CODE + 3);
    EQ(RAX, 10);
    EQ(RBX, 1);
    SET(RCX, 0x80000000), SET(RDX, 0x7fffffff), SET(RAX, 0); /* quotient too big */
    static const uint8_t code2[] = { 0xf7, 0xf9 };          /* idiv ecx */
    cr_assert_eq(run_n(code2, sizeof code2), CPU_EXIT_EXCEPTION);
    EQ(RIP, CODE);
    EQ(RDX, 0x7fffffff);
    SET(RAX, 0x8000000000000000), SET(RDX, (uint64_t)-1), SET(RCX, (uint64_t)-1);
    static const uint8_t code3[] = { 0x48, 0xf7, 0xf9 }; /* idiv rcx: INT64_MIN / -1 */
    cr_assert_eq(run_n(code3, sizeof code3), CPU_EXIT_EXCEPTION);
}

Test(cpu, movzx_movsx_movsxd_and_sign_extension)
{
    SET(RBX, 0x80f0);
    RUN_OK(0x0f, 0xb6, 0xc3,       /* movzx eax, bl */
           0x48, 0x0f, 0xbf, 0xcb, /* movsx rcx, bx */
           0x0f, 0xbe, 0xd7);      /* movsx edx, bh */
    EQ(RAX, 0xf0);
    EQ(RCX, 0xffffffffffff80f0);
    EQ(RDX, 0xffffff80);
    SET(RBX, 0x80000000);
    RUN_OK(0x48, 0x63, 0xc3); /* movsxd rax, ebx */
    EQ(RAX, 0xffffffff80000000);
    SET(RAX, 0x80);
    RUN_OK(0x66, 0x98); /* cbw */
    EQ(RAX, 0xff80);
    RUN_OK(0x98); /* cwde */
    EQ(RAX, 0xffffff80);
    RUN_OK(0x48, 0x98); /* cdqe */
    EQ(RAX, 0xffffffffffffff80);
    RUN_OK(0x48, 0x99); /* cqo */
    EQ(RDX, 0xffffffffffffffff);
    SET(RDX, 0x1234567800000000), SET(RAX, 1);
    RUN_OK(0x99); /* cdq */
    EQ(RDX, 0);
    SET(RDX, 0x1234), SET(RAX, 0x8000);
    RUN_OK(0x66, 0x99); /* cwd */
    EQ(RDX, 0xffff);
}

Test(cpu, lea_forms_and_rip_relative)
{
    SET(RBX, 0x100), SET(RSI, 0x10);
    RUN_OK(0x48, 0x8d, 0x44, 0xb3, 0x08,       /* lea rax, [rbx + rsi*4 + 8] */
           0x48, 0x8d, 0x0d, 0x10, 0x00, 0x00, 0x00, /* lea rcx, [rip + 0x10] */
           0x67, 0x8d, 0x53, 0xff,             /* lea edx, [ebx - 1] */
           0x66, 0x8d, 0x3c, 0x1e);            /* lea di, [rsi + rbx] */
    EQ(RAX, 0x148);
    EQ(RCX, CODE + 12 + 0x10);
    EQ(RDX, 0xff);
    EQ(RDI, 0x110);
}

Test(cpu, mov_forms_and_movabs)
{
    SET(RBX, DATA);
    RUN_OK(0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* movabs rax, 0x1122334455667788 */
           0x48, 0x89, 0x03,                                           /* mov [rbx], rax */
           0xc6, 0x43, 0x08, 0x99,                                     /* mov byte [rbx+8], 0x99 */
           0x48, 0xc7, 0x43, 0x10, 0xff, 0xff, 0xff, 0xff,             /* mov qword [rbx+16], -1 */
           0x8b, 0x4b, 0x04,                                           /* mov ecx, [rbx+4] */
           0x48, 0xa1, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00); /* movabs rax, [0x10000] */
    EQ(RCX, 0x11223344);
    EQ(RAX, 0x1122334455667788);
    cr_assert_eq(rd64(DATA + 8), 0x99);
    cr_assert_eq(rd64(DATA + 16), UINT64_MAX);
}

/* --------------------------------------------------------- control flow */

/* jcc rel8 over "inc rbx": RBX = 1 when the branch is not taken */
static bool taken(uint8_t cc, uint64_t flags)
{
    uint8_t code[] = { (uint8_t)(0x70 + cc), 0x03, /* jcc +3 */
                       0x48, 0xff, 0xc3 };         /* inc rbx */
    SET(RBX, 0), SET(RFLAGS, flags);
    cr_assert_eq(run_n(code, sizeof code), CPU_EXIT_UNTIL);
    return REG(RBX) == 0;
}

Test(cpu, all_conditions)
{
    struct { uint8_t cc; uint64_t yes, no; } t[] = {
        { 0x0, OF, 0 }, { 0x1, 0, OF }, { 0x2, CF, 0 }, { 0x3, 0, CF }, { 0x4, ZF, 0 }, { 0x5, 0, ZF },
        { 0x6, ZF, 0 }, { 0x7, 0, CF }, { 0x8, SF, 0 }, { 0x9, 0, SF }, { 0xa, PF, 0 }, { 0xb, 0, PF },
        { 0xc, SF, SF | OF }, { 0xd, OF | SF, OF }, { 0xe, ZF | SF | OF, 0 }, { 0xf, SF | OF, ZF },
    };
    for (unsigned i = 0; i < sizeof t / sizeof *t; i++) {
        cr_assert(taken(t[i].cc, t[i].yes), "cc %x with flags %#lx", t[i].cc, (unsigned long)t[i].yes);
        cr_assert(!taken(t[i].cc, t[i].no), "cc %x with flags %#lx", t[i].cc, (unsigned long)t[i].no);
    }
}

Test(cpu, jcc_near_and_jmp_forms)
{
    SET(RAX, 0);
    RUN_OK(0x48, 0x85, 0xc0,                   /* test rax, rax */
           0x0f, 0x84, 0x03, 0x00, 0x00, 0x00, /* je +3 */
           0x48, 0xff, 0xc3,                   /* inc rbx (skipped) */
           0xeb, 0x03,                         /* jmp +3 */
           0x48, 0xff, 0xc3,                   /* inc rbx (skipped) */
           0x48, 0x8d, 0x0d, 0x05, 0x00, 0x00, 0x00, /* lea rcx, [rip + 5] */
           0xff, 0xe1,                         /* jmp rcx */
           0x48, 0xff, 0xc3,                   /* inc rbx (skipped) */
           0x90);                              /* nop */
    EQ(RBX, 0);
}

Test(cpu, call_ret_and_stack)
{
    RUN_OK(0xe8, 0x05, 0x00, 0x00, 0x00,  /* call +5 */
           0x48, 0xff, 0xc3,              /* inc rbx */
           0xeb, 0x06,                    /* jmp end */
           0x48, 0x83, 0xc0, 0x07,        /* add rax, 7 */
           0xc3,                          /* ret */
           0x90,                          /* nop (never) */
           0x90);                         /* end: nop */
    EQ(RAX, 7);
    EQ(RBX, 1);
    EQ(RSP, SP0);
    cr_assert_eq(rd64(SP0 - 8), CODE + 5);
}

Test(cpu, indirect_call_through_memory_and_ret_imm)
{
    wr64(DATA, CODE + 0x20);
    static const uint8_t code[0x30] = {
        0x6a, 0x11,                         /* push 0x11 */
        0xff, 0x14, 0x25, 0x00, 0x00, 0x01, 0x00, /* call [0x10000] */
        0x48, 0xff, 0xc3,                   /* inc rbx */
        0xf4,                               /* hlt */
        [0x20] = 0x48, 0xff, 0xc0,          /* inc rax */
        0xc2, 0x08, 0x00,                   /* ret 8 */
    };
    cpu_exit ex;
    OK(mmu_write(m, CODE, code, sizeof code));
    OK(cpu_run(c, CODE, 0, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_HLT);
    EQ(RIP, CODE + 13); /* after hlt */
    EQ(RAX, 1);
    EQ(RBX, 1);
    EQ(RSP, SP0);
}

Test(cpu, push_pop_forms_and_leave)
{
    SET(RBX, DATA), SET(RCX, 0x1234);
    wr64(DATA, 0xabcd);
    RUN_OK(0x51,                    /* push rcx */
           0xff, 0x33,              /* push qword [rbx] */
           0x66, 0x6a, 0xff,        /* push word -1 */
           0x66, 0x58,              /* pop ax */
           0x8f, 0x43, 0x08,        /* pop qword [rbx+8] */
           0x5a,                    /* pop rdx */
           0x55,                    /* push rbp */
           0x48, 0x89, 0xe5,        /* mov rbp, rsp */
           0x48, 0x83, 0xec, 0x40,  /* sub rsp, 0x40 */
           0xc9);                   /* leave */
    EQ(RAX, 0xffff);
    EQ(RDX, 0x1234);
    cr_assert_eq(rd64(DATA + 8), 0xabcd);
    EQ(RSP, SP0 - 8 + 8);
    SET(RSP, SP0);
    RUN_OK(0x54,  /* push rsp: the old value */
           0x5c); /* pop rsp */
    EQ(RSP, SP0);
}

Test(cpu, loop_jrcxz)
{
    SET(RCX, 5), SET(RAX, 0);
    RUN_OK(0x48, 0xff, 0xc0, /* top: inc rax */
           0xe2, 0xfb,       /* loop top */
           0xe3, 0x03,       /* jrcxz +3 */
           0x48, 0xff, 0xc3);/* inc rbx (skipped) */
    EQ(RAX, 5);
    EQ(RCX, 0);
    EQ(RBX, 0);
}

Test(cpu, cmov_setcc)
{
    SET(RAX, 0xffffffff00000001), SET(RBX, 2), SET(RFLAGS, 0);
    RUN_OK(0x0f, 0x44, 0xc3); /* cmove eax, ebx: not taken, still zero-extends */
    EQ(RAX, 1);
    SET(RFLAGS, ZF);
    RUN_OK(0x48, 0x0f, 0x44, 0xc3, /* cmove rax, rbx */
           0x0f, 0x94, 0xc4,       /* sete ah */
           0x0f, 0x95, 0xc1);      /* setne cl */
    EQ(RAX, 0x102);
    cr_assert_eq(REG(RCX) & 0xff, 0);
}

Test(cpu, xchg_cmpxchg_xadd_bswap)
{
    SET(RAX, 1), SET(RBX, 2);
    RUN_OK(0x48, 0x93); /* xchg rbx, rax */
    EQ(RAX, 2);
    EQ(RBX, 1);
    SET(RSI, DATA);
    wr64(DATA, 2);
    RUN_OK(0xf0, 0x48, 0x0f, 0xb1, 0x1e); /* lock cmpxchg [rsi], rbx: equal */
    cr_assert_eq(rd64(DATA), 1);
    cr_assert(FLAGS() & ZF);
    RUN_OK(0x48, 0x0f, 0xb1, 0x1e); /* cmpxchg [rsi], rbx: differs, rax loaded */
    EQ(RAX, 1);
    cr_assert(!(FLAGS() & ZF));
    SET(RCX, 10);
    RUN_OK(0x48, 0x0f, 0xc1, 0x0e); /* xadd [rsi], rcx */
    EQ(RCX, 1);
    cr_assert_eq(rd64(DATA), 11);
    SET(RDX, 0x1122334455667788);
    RUN_OK(0x48, 0x0f, 0xca, /* bswap rdx */
           0x0f, 0xc9);      /* bswap ecx */
    EQ(RDX, 0x8877665544332211);
    EQ(RCX, 0x01000000);
}

Test(cpu, bit_test_family_with_register_offsets)
{
    SET(RAX, 0x10), SET(RCX, 4);
    RUN_OK(0x48, 0x0f, 0xa3, 0xc8); /* bt rax, rcx */
    cr_assert(FLAGS() & CF);
    RUN_OK(0x48, 0x0f, 0xbb, 0xc8, /* btc rax, rcx */
           0x0f, 0xba, 0xe8, 0x21); /* bts eax, 0x21 (33 & 31 = 1) */
    EQ(RAX, 2);
    /* memory operand with a register offset addresses other words */
    SET(RSI, DATA + 0x100), SET(RCX, (uint64_t)-1);
    RUN_OK(0x48, 0x0f, 0xab, 0x0e); /* bts [rsi], rcx: bit 63 of [rsi-8] */
    cr_assert_eq(rd64(DATA + 0xf8), 0x8000000000000000);
    SET(RCX, 130);
    RUN_OK(0x0f, 0xab, 0x0e); /* bts [rsi], ecx: bit 2 of the dword at rsi+16 */
    cr_assert_eq(rd64(DATA + 0x110), 4);
    RUN_OK(0x0f, 0xb3, 0x0e); /* btr [rsi], ecx */
    cr_assert(FLAGS() & CF);
    cr_assert_eq(rd64(DATA + 0x110), 0);
}

Test(cpu, bsf_bsr)
{
    SET(RBX, 0x0100f000);
    RUN_OK(0x0f, 0xbc, 0xc3, /* bsf eax, ebx */
           0x0f, 0xbd, 0xcb); /* bsr ecx, ebx */
    EQ(RAX, 12);
    EQ(RCX, 24);
    SET(RBX, 0), SET(RAX, 77);
    RUN_OK(0x48, 0x0f, 0xbc, 0xc3); /* bsf rax, rbx: zero source */
    cr_assert(FLAGS() & ZF);
    EQ(RAX, 77);
}

/* ------------------------------------------------------- string, flags, nops */

Test(cpu, rep_string_instructions)
{
    OK(mmu_write(m, DATA, "hello, world", 12));
    SET(RSI, DATA), SET(RDI, DATA + 0x100), SET(RCX, 12);
    RUN_OK(0xf3, 0xa4); /* rep movsb */
    char buf[13] = { 0 };
    OK(mmu_read(m, DATA + 0x100, buf, 12));
    cr_assert_str_eq(buf, "hello, world");
    EQ(RCX, 0);
    EQ(RSI, DATA + 12);
    SET(RDI, DATA + 0x200), SET(RCX, 3), SET(RAX, 0x0102030405060708);
    RUN_OK(0xf3, 0x48, 0xab); /* rep stosq */
    cr_assert_eq(rd64(DATA + 0x210), 0x0102030405060708);
    EQ(RDI, DATA + 0x218);
    SET(RSI, DATA), SET(RDI, DATA + 0x100), SET(RCX, 20);
    OK(mmu_write(m, DATA + 0x105, "X", 1));
    RUN_OK(0xf3, 0xa6); /* repe cmpsb: stops after the mismatch */
    EQ(RCX, 14);
    cr_assert(!(FLAGS() & ZF));
    SET(RDI, DATA), SET(RCX, 100), SET(RAX, ',');
    RUN_OK(0xf2, 0xae); /* repne scasb */
    EQ(RDI, DATA + 6);
    SET(RSI, DATA + 4), SET(RAX, 0);
    RUN_OK(0xfd,  /* std */
           0xac,  /* lodsb */
           0xfc); /* cld */
    EQ(RAX, 'o');
    EQ(RSI, DATA + 3);
}

Test(cpu, rep_movs_fault_keeps_completed_iterations)
{
    SET(RSI, DATA), SET(RDI, DATA + 0x2000 - 8), SET(RCX, 4); /* the second qword leaves the mapping */
    wr64(DATA, 1), wr64(DATA + 8, 2);
    static const uint8_t code[] = { 0xf3, 0x48, 0xa5 }; /* rep movsq */
    cr_assert_eq(run_n(code, sizeof code), CPU_EXIT_MEM_FAULT);
    EQ(RCX, 3);
    EQ(RDI, DATA + 0x2000);
    EQ(RIP, CODE);
    cr_assert_eq(rd64(DATA + 0x2000 - 8), 1);
    cpu_fault f;
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(f.addr, DATA + 0x2000);
}

Test(cpu, flag_instructions_lahf_sahf_pushf_popf)
{
    SET(RFLAGS, 0);
    RUN_OK(0xf9, /* stc */
           0xf5, /* cmc */
           0xf5, /* cmc */
           0xfd, /* std */
           0x9f); /* lahf */
    cr_assert_eq((REG(RAX) >> 8) & 0xff, 0x03);
    cr_assert_eq(REG(RFLAGS) & (CF | DF), CF | DF);
    SET(RAX, (uint64_t)(SF | ZF) << 8);
    RUN_OK(0x9e,  /* sahf */
           0xfc,  /* cld */
           0xf8); /* clc */
    FLAGS_EQ(SF | ZF);
    cr_assert_eq(REG(RFLAGS) & DF, 0);
    RUN_OK(0x9c,                     /* pushfq */
           0x48, 0x83, 0x34, 0x24, 0x01, /* xor qword [rsp], 1 */
           0x9d);                    /* popfq */
    FLAGS_EQ(SF | ZF | CF);
}

Test(cpu, nops_of_every_length_and_endbr64)
{
    RUN_OK(0x90,                                                 /* nop */
           0x66, 0x90,                                           /* xchg ax, ax */
           0x0f, 0x1f, 0x00,                                     /* nop dword [rax] */
           0x0f, 0x1f, 0x40, 0x00,                               /* nop dword [rax+0] */
           0x0f, 0x1f, 0x44, 0x00, 0x00,                         /* nop dword [rax+rax+0] */
           0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00,                   /* nop word [rax+rax+0] */
           0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00,             /* nop dword [rax+0] */
           0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,       /* nop dword [rax+rax+0] */
           0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, /* nop word cs:[rax+rax+0] */
           0xf3, 0x0f, 0x1e, 0xfa,                               /* endbr64 */
           0xf3, 0x90);                                          /* pause */
    EQ(RIP, CODE + 52);
}

Test(cpu, string_source_takes_the_segment_override)
{
    SET(FS_BASE, DATA + 0x100), SET(RSI, 0x10), SET(RDI, DATA), SET(RCX, 2);
    OK(mmu_write(m, DATA + 0x110, "ab", 2));
    RUN_OK(0xf3, 0x64, 0xa4); /* rep movsb byte [rdi], byte fs:[rsi] */
    char buf[3] = { 0 };
    OK(mmu_read(m, DATA, buf, 2));
    cr_assert_str_eq(buf, "ab");
    EQ(RSI, 0x12);
}

Test(cpu, jecxz_tests_the_low_half)
{
    SET(RCX, 0x100000000), SET(RBX, 0);
    RUN_OK(0x67, 0xe3, 0x03, /* jecxz +3 */
           0x48, 0xff, 0xc3); /* inc rbx (skipped) */
    EQ(RBX, 0);
}

Test(cpu, fs_gs_segment_bases)
{
    SET(FS_BASE, DATA), SET(GS_BASE, DATA + 0x100);
    wr64(DATA + 0x28, 0xfeed);
    RUN_OK(0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00, /* mov rax, fs:[0x28] */
           0x65, 0x48, 0x89, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00, /* mov gs:[8], rax */
           0x64, 0x48, 0x8d, 0x0c, 0x25, 0x10, 0x00, 0x00, 0x00); /* lea rcx, fs:[0x10]: no base */
    EQ(RAX, 0xfeed);
    cr_assert_eq(rd64(DATA + 0x108), 0xfeed);
    EQ(RCX, 0x10);
}

/* ------------------------------------------------------------------ exits */

Test(cpu, invalid_instructions_exit_at_rip_unchanged)
{
    static const uint8_t cases[][4] = {
        { 0x0f, 0x0b },       /* ud2 */
        { 0xc5, 0xf9, 0xef, 0xc1 }, /* vpxor xmm0, xmm0, xmm1: AVX is not in the model */
        { 0x06 },             /* push es: not in 64-bit mode */
        { 0x0f, 0x77 },       /* emms: MMX is not in the model */
        { 0x66, 0xc3 },       /* ret with 16-bit operand */
        { 0xf0, 0x01, 0xc3 }, /* lock add ebx, eax: lock needs memory */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        SET(RAX, 42);
        uint8_t code[8] = { 0x48, 0xff, 0xc0 }; /* inc rax */
        memcpy(code + 3, cases[i], 4);
        cpu_exit ex;
        OK(mmu_write(m, CODE, code, sizeof code));
        OK(cpu_run(c, CODE, 0, 0, &ex));
        cr_assert_eq(ex, CPU_EXIT_INSN_INVALID, "case %u", i);
        EQ(RIP, CODE + 3);
        EQ(RAX, 43);
    }
}

Test(cpu, hlt_int3_until_and_count)
{
    cr_assert_eq(RUN(0x90, 0xf4, 0x90), CPU_EXIT_HLT);
    EQ(RIP, CODE + 2);
    cr_assert_eq(RUN(0x90, 0xcc, 0x90), CPU_EXIT_EXCEPTION);
    EQ(RIP, CODE + 1);
    static const uint8_t loop[] = { 0x48, 0xff, 0xc0, /* top: inc rax */
                                    0xeb, 0xfb };     /* jmp top */
    OK(mmu_write(m, CODE, loop, sizeof loop));
    cpu_exit ex;
    SET(RAX, 0);
    OK(cpu_run(c, CODE, UINT64_MAX, 7, &ex));
    cr_assert_eq(ex, CPU_EXIT_COUNT);
    EQ(RAX, 4);
    EQ(RIP, CODE + 3);
    OK(cpu_run(c, CODE, CODE + 3, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_UNTIL);
    EQ(RAX, 5);
    OK(cpu_run(c, CODE, CODE, 0, &ex)); /* begin == until: nothing runs */
    cr_assert_eq(ex, CPU_EXIT_UNTIL);
    EQ(RAX, 5);
    ERR(cpu_run(NULL, CODE, 0, 0, &ex), MMU_ERR_ARG);
}

Test(cpu, until_may_be_unmapped)
{
    cpu_exit ex;
    static const uint8_t code[] = { 0x68, 0x00, 0x00, 0x00, 0x70, /* push 0x70000000 */
                                    0xc3 };                       /* ret */
    OK(mmu_write(m, CODE, code, sizeof code));
    OK(cpu_run(c, CODE, 0x70000000, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_UNTIL);
    EQ(RIP, 0x70000000);
}

/* ----------------------------------------------------------------- faults */

Test(cpu, load_fault_reports_and_changes_nothing)
{
    static const uint8_t code[] = { 0x48, 0xff, 0xc3,       /* inc rbx */
                                    0x48, 0x8b, 0x06 };     /* mov rax, [rsi] */
    SET(RSI, 0x50000), SET(RAX, 9);
    cr_assert_eq(run_n(code, sizeof code), CPU_EXIT_MEM_FAULT);
    cpu_fault f;
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(f.addr, 0x50000);
    cr_assert_eq(f.size, 8);
    cr_assert_eq(f.rip, CODE + 3);
    EQ(RIP, CODE + 3);
    EQ(RAX, 9);
    EQ(RBX, 1);
}

Test(cpu, store_fault_leaves_registers_flags_and_memory)
{
    OK(mmu_write(m, CODE, (uint8_t[]){ 0x48, 0x01, 0x46, 0xfc }, 4)); /* add [rsi-4], rax */
    SET(RSI, DATA + 0x2000), SET(RAX, 1), SET(RFLAGS, ZF);       /* crosses into unmapped */
    cpu_context before, after;
    cpu_context_save(c, &before);
    uint64_t d = mmu_digest(m);
    cpu_exit ex;
    OK(cpu_run(c, CODE, CODE + 4, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_MEM_FAULT);
    cr_assert_eq(mmu_digest(m), d, "memory changed");
    cpu_context_save(c, &after);
    cr_assert_arr_eq(before.regs + 0, after.regs + 0, sizeof before.regs - 8 * 4 /* RIP onwards */);
    cr_assert_eq(cpu_reg_read(c, CPU_RFLAGS), before.regs[CPU_RFLAGS]);
    cpu_fault f;
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_READ_UNMAPPED); /* the load comes first */
    cr_assert_eq(f.addr, DATA + 0x2000);
}

Test(cpu, write_to_readonly_page_is_a_prot_fault)
{
    OK(mmu_protect(m, DATA, 0x1000, MMU_PROT_READ));
    SET(RDI, DATA + 0x10);
    cr_assert_eq(RUN(0x48, 0x89, 0x07), CPU_EXIT_MEM_FAULT); /* mov [rdi], rax */
    cpu_fault f;
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_WRITE_PROT);
    cr_assert_eq(f.addr, DATA + 0x10);
}

Test(cpu, fetch_faults_unmapped_and_not_executable)
{
    cpu_exit ex;
    OK(cpu_run(c, 0x60000, 0, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_MEM_FAULT);
    cpu_fault f;
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_FETCH_UNMAPPED);
    cr_assert_eq(f.addr, 0x60000);
    cr_assert_eq(f.rip, 0x60000);
    OK(cpu_run(c, DATA, 0, 0, &ex)); /* RW, not X */
    cr_assert_eq(ex, CPU_EXIT_MEM_FAULT);
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_FETCH_PROT);
    OK(mmu_write(m, CODE, "\x90", 1));
    OK(cpu_run(c, CODE, CODE + 1, 0, &ex)); /* a clean run clears it */
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_OK);
}

static bool map_code_on_fault(mmu_t *mm, const mmu_mem_event *ev, void *user)
{
    (void)user;
    uint64_t page = ev->addr & ~0xfffull;
    return mmu_map(mm, page, 0x1000, MMU_PROT_ALL, "jit") == MMU_OK && mmu_write(mm, page, "\xf4", 1) == MMU_OK;
}

Test(cpu, fetch_fault_handled_by_a_hook_continues)
{
    OK(mmu_hook_add(m, MMU_HOOK_MEM_FETCH_UNMAPPED, map_code_on_fault, NULL, 1, 0, NULL));
    cpu_exit ex;
    OK(cpu_run(c, 0x80000, 0, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_HLT);
    EQ(RIP, 0x80001);
}

Test(cpu, instruction_across_a_page_boundary)
{
    /* mov rax, imm64 starting 3 bytes before the end of the code pages */
    uint8_t code[] = { 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8 };
    uint64_t at = CODE + 0x2000 - 3;
    OK(mmu_map(m, CODE + 0x2000, 0x1000, MMU_PROT_READ | MMU_PROT_EXEC, NULL));
    OK(mmu_write(m, at, code, sizeof code));
    cpu_exit ex;
    OK(cpu_run(c, at, at + sizeof code, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_UNTIL);
    EQ(RAX, 0x0807060504030201);
    OK(mmu_unmap(m, CODE + 0x2000, 0x1000));
    OK(cpu_run(c, at, at + sizeof code, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_MEM_FAULT);
    cpu_fault f;
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_FETCH_UNMAPPED);
    cr_assert_eq(f.addr, CODE + 0x2000);
    cr_assert_eq(f.rip, at);
}

static int maps;

static bool map_on_fault(mmu_t *mm, const mmu_mem_event *ev, void *user)
{
    (void)user;
    maps++;
    return mmu_map(mm, ev->addr & ~0xfffull, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE, "grown") == MMU_OK;
}

Test(cpu, push_to_unmapped_stack_page_mapped_by_hook_pushes_once)
{
    maps = 0;
    OK(mmu_hook_add(m, MMU_HOOK_MEM_WRITE_UNMAPPED, map_on_fault, NULL, 1, 0, NULL));
    SET(RSP, STACK), SET(RAX, 0x77); /* the page below is unmapped */
    RUN_OK(0x50,  /* push rax */
           0x5b); /* pop rbx */
    cr_assert_eq(maps, 1);
    EQ(RBX, 0x77);
    EQ(RSP, STACK);
    cr_assert_eq(rd64(STACK - 8), 0x77);
}

Test(cpu, load_fault_hook_retries_the_instruction)
{
    maps = 0;
    OK(mmu_hook_add(m, MMU_HOOK_MEM_READ_UNMAPPED, map_on_fault, NULL, 1, 0, NULL));
    SET(RSI, 0x70000), SET(RAX, 5);
    RUN_OK(0x48, 0x03, 0x06); /* add rax, [rsi] */
    EQ(RAX, 5);
    cr_assert_eq(maps, 1);
}

/* ------------------------------------------------------------------ hooks */

typedef struct trace {
    uint64_t addr[32];
    unsigned size[32];
    unsigned n;
    mmu_hook_id self;
    int stop_at, del_at;
} trace;

static void on_code(cpu_t *cc, uint64_t addr, unsigned size, void *user)
{
    trace *t = user;
    if (t->n < 32)
        t->addr[t->n] = addr, t->size[t->n] = size;
    t->n++;
    if ((int)t->n == t->stop_at)
        cpu_stop(cc);
    if ((int)t->n == t->del_at)
        OK(cpu_hook_del(cc, t->self));
}

static const uint8_t THREE[] = { 0x48, 0xff, 0xc0, /* inc rax */
                                 0x90,             /* nop */
                                 0x48, 0xff, 0xc0, /* inc rax */
                                 0x90 };           /* nop */

Test(cpu, code_hooks_fire_before_each_instruction_in_range)
{
    trace all = { 0 }, part = { 0 };
    OK(cpu_hook_code(c, on_code, &all, 1, 0, NULL));
    OK(cpu_hook_code(c, on_code, &part, CODE + 3, CODE + 4, NULL));
    cr_assert_eq(run_n(THREE, sizeof THREE), CPU_EXIT_UNTIL);
    cr_assert_eq(all.n, 4);
    cr_assert_eq(all.addr[2], CODE + 4);
    cr_assert_eq(all.size[0], 3);
    cr_assert_eq(part.n, 2);
    cr_assert_eq(part.addr[0], CODE + 3);
    cr_assert_eq(part.addr[1], CODE + 4);
}

Test(cpu, cpu_stop_from_a_code_hook_stops_before_that_instruction)
{
    trace t = { .stop_at = 3 };
    OK(cpu_hook_code(c, on_code, &t, 1, 0, NULL));
    SET(RAX, 0);
    cr_assert_eq(run_n(THREE, sizeof THREE), CPU_EXIT_STOPPED);
    EQ(RIP, CODE + 4);
    EQ(RAX, 1);
    cr_assert_eq(RUN(0x90), CPU_EXIT_UNTIL); /* the request does not linger */
}

Test(cpu, code_hook_deletes_itself)
{
    trace t = { .del_at = 2 };
    OK(cpu_hook_code(c, on_code, &t, 1, 0, &t.self));
    cr_assert_eq(run_n(THREE, sizeof THREE), CPU_EXIT_UNTIL);
    cr_assert_eq(t.n, 2);
    ERR(cpu_hook_del(c, t.self), MMU_ERR_NOTFOUND);
    ERR(cpu_hook_del(NULL, t.self), MMU_ERR_ARG);
    ERR(cpu_hook_code(c, NULL, NULL, 1, 0, NULL), MMU_ERR_ARG);
}

static void skip_to_end(cpu_t *cc, uint64_t addr, unsigned size, void *user)
{
    (void)size, (void)user;
    if (addr == CODE)
        cpu_reg_write(cc, CPU_RIP, CODE + 4); /* skip inc rax, nop */
}

Test(cpu, code_hook_may_redirect_rip)
{
    OK(cpu_hook_code(c, skip_to_end, NULL, 1, 0, NULL));
    SET(RAX, 0);
    cr_assert_eq(run_n(THREE, sizeof THREE), CPU_EXIT_UNTIL);
    EQ(RAX, 1);
}

static bool stop_on_write(mmu_t *mm, const mmu_mem_event *ev, void *user)
{
    (void)mm, (void)ev;
    cpu_stop(user);
    return false;
}

Test(cpu, cpu_stop_from_a_memory_hook_ends_after_the_instruction)
{
    OK(mmu_hook_add(m, MMU_HOOK_MEM_WRITE, stop_on_write, c, 1, 0, NULL));
    SET(RDI, DATA), SET(RAX, 3);
    cr_assert_eq(RUN(0x48, 0x89, 0x07, /* mov [rdi], rax */
                     0x48, 0xff, 0xc0), /* inc rax */
                 CPU_EXIT_STOPPED);
    EQ(RIP, CODE + 3);
    EQ(RAX, 3);
    cr_assert_eq(rd64(DATA), 3);
}

static unsigned fetches;

static bool count_fetch(mmu_t *mm, const mmu_mem_event *ev, void *user)
{
    (void)mm, (void)user;
    cr_assert_eq(ev->type, MMU_HOOK_MEM_FETCH);
    fetches++;
    return false;
}

Test(cpu, fetch_hooks_fire_for_every_execution_of_cached_code)
{
    static const uint8_t loop[] = { 0x48, 0xff, 0xc9, /* top: dec rcx */
                                    0x75, 0xfb };     /* jnz top */
    OK(mmu_write(m, CODE, loop, sizeof loop));
    OK(mmu_hook_add(m, MMU_HOOK_MEM_FETCH, count_fetch, NULL, CODE, CODE + 0xfff, NULL));
    SET(RCX, 10);
    cpu_exit ex;
    OK(cpu_run(c, CODE, CODE + sizeof loop, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_UNTIL);
    cr_assert_eq(fetches, 20);
}

typedef struct sys {
    unsigned calls;
    bool handle;
    uint64_t rcx, r11;
} sys;

static bool on_syscall(cpu_t *cc, void *user)
{
    sys *s = user;
    s->calls++;
    s->rcx = cpu_reg_read(cc, CPU_RCX);
    s->r11 = cpu_reg_read(cc, CPU_R11);
    cpu_reg_write(cc, CPU_RAX, 0x3c);
    return s->handle;
}

Test(cpu, syscall_hooks_run_in_order_until_handled)
{
    sys a = { .handle = false }, b = { .handle = true }, z = { .handle = true };
    OK(cpu_hook_syscall(c, on_syscall, &a, NULL));
    OK(cpu_hook_syscall(c, on_syscall, &b, NULL));
    OK(cpu_hook_syscall(c, on_syscall, &z, NULL));
    SET(RFLAGS, CF | ZF);
    RUN_OK(0x0f, 0x05, /* syscall */
           0x90);
    cr_assert_eq(a.calls, 1);
    cr_assert_eq(b.calls, 1);
    cr_assert_eq(z.calls, 0);
    cr_assert_eq(a.rcx, CODE + 2);
    cr_assert_eq(a.r11 & (CF | ZF | 2), CF | ZF | 2);
    EQ(RAX, 0x3c);
}

Test(cpu, unhandled_syscall_is_an_exception_at_the_syscall)
{
    SET(RCX, 5), SET(R11, 6);
    cr_assert_eq(RUN(0x90, 0x0f, 0x05), CPU_EXIT_EXCEPTION);
    EQ(RIP, CODE + 1);
    EQ(RCX, 5);
    EQ(R11, 6);
    sys a = { .handle = false };
    mmu_hook_id id;
    OK(cpu_hook_syscall(c, on_syscall, &a, &id));
    cr_assert_eq(RUN(0x0f, 0x05), CPU_EXIT_EXCEPTION);
    EQ(RIP, CODE);
    cr_assert_eq(a.calls, 1);
    OK(cpu_hook_del(c, id));
    ERR(cpu_hook_syscall(c, NULL, NULL, NULL), MMU_ERR_ARG);
}

static bool stop_in_syscall(cpu_t *cc, void *user)
{
    (void)user;
    cpu_stop(cc);
    return true;
}

Test(cpu, cpu_stop_from_a_syscall_hook)
{
    OK(cpu_hook_syscall(c, stop_in_syscall, NULL, NULL));
    cr_assert_eq(RUN(0x0f, 0x05, 0x90), CPU_EXIT_STOPPED);
    EQ(RIP, CODE + 2);
}

/* ------------------------------------------------------ self-modifying code */

Test(cpu, store_rewrites_the_instruction_it_runs_next)
{
    SET(RAX, 0), SET(RBX, 0);
    RUN_OK(0xc6, 0x05, 0x02, 0x00, 0x00, 0x00, 0xc0, /* mov byte [rip + 2], 0xc0 */
           0x48, 0xff, 0xc3);                        /* inc rbx, becomes inc rax */
    EQ(RAX, 1);
    EQ(RBX, 0);
}

Test(cpu, loop_body_rewritten_between_iterations)
{
    /* rcx = 3; each round adds to rax with "add rax, imm8", then bumps the imm8 */
    static const uint8_t code[] = {
        0x48, 0x83, 0xc0, 0x01,             /* top: add rax, 1   (imm at +3) */
        0xfe, 0x05, 0xf9, 0xff, 0xff, 0xff, /* inc byte [rip - 7]: the imm8 */
        0x48, 0xff, 0xc9,                   /* dec rcx */
        0x75, 0xf1,                         /* jnz top */
    };
    SET(RAX, 0), SET(RCX, 3);
    cr_assert_eq(run_n(code, sizeof code), CPU_EXIT_UNTIL);
    EQ(RAX, 1 + 2 + 3);
}

Test(cpu, host_write_to_code_between_runs_takes_effect)
{
    SET(RAX, 0);
    RUN_OK(0x48, 0xff, 0xc0); /* inc rax */
    EQ(RAX, 1);
    RUN_OK(0x48, 0xff, 0xc8); /* dec rax: same address, new bytes */
    EQ(RAX, 0);
}

Test(cpu, guest_store_to_code_after_a_host_write_is_seen)
{
    static const uint8_t code[] = { 0xc6, 0x05, 0x02, 0x00, 0x00, 0x00, 0xc0, /* mov byte [rip + 2], 0xc0 */
                                    0x48, 0xff, 0xc3 };                       /* inc rbx -> inc rax */
    SET(RAX, 0), SET(RBX, 0);
    cr_assert_eq(run_n(code, sizeof code), CPU_EXIT_UNTIL); /* caches the code, patches it */
    cr_assert_eq(run_n(code, sizeof code), CPU_EXIT_UNTIL); /* host write restores, guest patches again */
    EQ(RAX, 2);
    EQ(RBX, 0);
}

Test(cpu, removing_exec_from_cached_code_faults)
{
    RUN_OK(0x90, 0x90);
    OK(mmu_protect(m, CODE, 0x1000, MMU_PROT_READ | MMU_PROT_WRITE));
    cpu_exit ex;
    OK(cpu_run(c, CODE, CODE + 2, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_MEM_FAULT);
    cpu_fault f;
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_FETCH_PROT);
}

/* -------------------------------------------------------------------- SSE */

#define XDUMP (DATA + 0x1f00) /* where xmm() stores a register */

/* the 16 bytes of XMM register n, stored by movdqu [XDUMP], xmmN (run from
 * a second code area, so the test's code stays in place) */
static void xmm(unsigned n, uint8_t out[16])
{
    uint8_t code[10] = { 0xf3, 0x44, 0x0f, 0x7f, (uint8_t)(0x04 | (n & 7) << 3), 0x25 };
    uint32_t at = (uint32_t)XDUMP;
    memcpy(code + 6, &at, 4);
    if (n < 8) /* no REX.R: drop the 0x44 */
        memmove(code + 1, code + 2, 8);
    size_t len = n < 8 ? 9 : 10;
    cpu_exit ex;
    OK(mmu_write(m, CODE + 0x800, code, len));
    OK(cpu_run(c, CODE + 0x800, CODE + 0x800 + len, 0, &ex));
    cr_assert_eq(ex, CPU_EXIT_UNTIL);
    OK(mmu_read(m, XDUMP, out, 16));
}

static void xmm_eq(unsigned n, uint64_t lo, uint64_t hi)
{
    uint8_t got[16];
    xmm(n, got);
    uint64_t glo, ghi;
    memcpy(&glo, got, 8), memcpy(&ghi, got + 8, 8);
    cr_assert(glo == lo && ghi == hi, "xmm%u = %#lx:%#lx, want %#lx:%#lx", n, (unsigned long)ghi,
              (unsigned long)glo, (unsigned long)hi, (unsigned long)lo);
}

static const uint8_t BYTES16[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

Test(cpu, xmm_registers_start_zero)
{
    OK(mmu_write(m, XDUMP, BYTES16, 16));
    for (unsigned n = 0; n < 16; n++)
        xmm_eq(n, 0, 0);
}

Test(cpu, movdqu_movups_load_and_store_little_endian_at_any_alignment)
{
    OK(mmu_write(m, DATA + 1, BYTES16, 16));
    SET(RDI, DATA);
    RUN_OK(0xf3, 0x0f, 0x6f, 0x5f, 0x01,        /* movdqu xmm3, [rdi+1] */
           0x66, 0x48, 0x0f, 0x7e, 0xd8,        /* movq rax, xmm3 */
           0x0f, 0x10, 0x67, 0x01,              /* movups xmm4, [rdi+1] */
           0xf3, 0x0f, 0x7f, 0x67, 0x23,        /* movdqu [rdi+0x23], xmm4 */
           0x0f, 0x11, 0x5f, 0x47,              /* movups [rdi+0x47], xmm3 */
           0x66, 0x0f, 0x10, 0x6f, 0x01,        /* movupd xmm5, [rdi+1] */
           0xf3, 0x44, 0x0f, 0x6f, 0x47, 0x01); /* movdqu xmm8, [rdi+1] */
    EQ(RAX, 0x7766554433221100);
    uint8_t got[16];
    OK(mmu_read(m, DATA + 0x23, got, 16));
    cr_assert_arr_eq(got, BYTES16, 16);
    OK(mmu_read(m, DATA + 0x47, got, 16));
    cr_assert_arr_eq(got, BYTES16, 16);
    xmm_eq(5, 0x7766554433221100, 0xffeeddccbbaa9988);
    xmm_eq(8, 0x7766554433221100, 0xffeeddccbbaa9988);
}

Test(cpu, movaps_movdqa_register_and_aligned_memory_forms)
{
    OK(mmu_write(m, DATA + 0x10, BYTES16, 16));
    SET(RDI, DATA);
    RUN_OK(0x66, 0x0f, 0x6f, 0x77, 0x10,  /* movdqa xmm6, [rdi+0x10] */
           0x0f, 0x28, 0xee,              /* movaps xmm5, xmm6 */
           0x0f, 0x29, 0x6f, 0x30,        /* movaps [rdi+0x30], xmm5 */
           0x0f, 0x28, 0x67, 0x30,        /* movaps xmm4, [rdi+0x30] */
           0x66, 0x45, 0x0f, 0x7f, 0xc7,  /* movdqa xmm15, xmm8 (zero) */
           0x66, 0x44, 0x0f, 0x7f, 0x67, 0x50, /* movdqa [rdi+0x50], xmm12 (zero) */
           0x66, 0x0f, 0x29, 0x77, 0x60); /* movapd [rdi+0x60], xmm6 */
    uint8_t got[16], zero[16] = { 0 };
    OK(mmu_read(m, DATA + 0x30, got, 16));
    cr_assert_arr_eq(got, BYTES16, 16);
    OK(mmu_read(m, DATA + 0x50, got, 16));
    cr_assert_arr_eq(got, zero, 16);
    OK(mmu_read(m, DATA + 0x60, got, 16));
    cr_assert_arr_eq(got, BYTES16, 16);
    xmm_eq(4, 0x7766554433221100, 0xffeeddccbbaa9988);
    xmm_eq(15, 0, 0);
}

Test(cpu, pxor_por_pand_register_and_memory)
{
    static const uint64_t a[2] = { 0xff00ff00f0f0f0f0, 0x0123456789abcdef };
    static const uint64_t b[2] = { 0x0ff00ff000ff00ff, 0xfedcba9876543210 };
    OK(mmu_write(m, DATA, a, 16));
    OK(mmu_write(m, DATA + 0x10, b, 16));
    SET(RDI, DATA);
    RUN_OK(0xf3, 0x0f, 0x6f, 0x07,       /* movdqu xmm0, [rdi] */
           0x0f, 0x28, 0xc8,             /* movaps xmm1, xmm0 */
           0x0f, 0x28, 0xd0,             /* movaps xmm2, xmm0 */
           0x66, 0x0f, 0xef, 0x47, 0x10, /* pxor xmm0, [rdi+0x10] */
           0x66, 0x0f, 0xeb, 0x4f, 0x10, /* por xmm1, [rdi+0x10] */
           0x66, 0x0f, 0xdb, 0x57, 0x10, /* pand xmm2, [rdi+0x10] */
           0xf3, 0x0f, 0x6f, 0x5f, 0x10, /* movdqu xmm3, [rdi+0x10] */
           0x66, 0x0f, 0x6f, 0xe3,       /* movdqa xmm4, xmm3 */
           0x0f, 0x28, 0xeb,             /* movaps xmm5, xmm3 */
           0x66, 0x0f, 0xef, 0xdf,       /* pxor xmm3, xmm7 (zero) */
           0x66, 0x0f, 0xeb, 0xe7,       /* por xmm4, xmm7 */
           0x66, 0x0f, 0xdb, 0xef,       /* pand xmm5, xmm7 */
           0x66, 0x45, 0x0f, 0xef, 0xc9); /* pxor xmm9, xmm9 */
    xmm_eq(0, a[0] ^ b[0], a[1] ^ b[1]);
    xmm_eq(1, a[0] | b[0], a[1] | b[1]);
    xmm_eq(2, a[0] & b[0], a[1] & b[1]);
    xmm_eq(3, b[0], b[1]);
    xmm_eq(4, b[0], b[1]);
    xmm_eq(5, 0, 0);
    xmm_eq(9, 0, 0);
    RUN_OK(0x66, 0x0f, 0xef, 0xc0); /* pxor xmm0, xmm0 */
    xmm_eq(0, 0, 0);
}

Test(cpu, movq_movd_with_gprs_zero_extend)
{
    OK(mmu_write(m, DATA, BYTES16, 16));
    SET(RAX, 0x1122334455667788), SET(RDX, ~0ull), SET(R13, ~0ull), SET(R10, 0xabcdef);
    SET(RDI, DATA);
    RUN_OK(0xf3, 0x0f, 0x6f, 0x07,       /* movdqu xmm0, [rdi] (high half set) */
           0x66, 0x48, 0x0f, 0x6e, 0xc0, /* movq xmm0, rax */
           0x66, 0x48, 0x0f, 0x7e, 0xc3, /* movq rbx, xmm0 */
           0xf3, 0x0f, 0x6f, 0x0f,       /* movdqu xmm1, [rdi] */
           0x66, 0x0f, 0x6e, 0xc8,       /* movd xmm1, eax */
           0x66, 0x48, 0x0f, 0x7e, 0xc9, /* movq rcx, xmm1 */
           0x66, 0x0f, 0x7e, 0xc2,       /* movd edx, xmm0 */
           0x66, 0x41, 0x0f, 0x7e, 0xc5, /* movd r13d, xmm0 */
           0x66, 0x4d, 0x0f, 0x6e, 0xfa); /* movq xmm15, r10 */
    EQ(RBX, 0x1122334455667788);
    EQ(RCX, 0x55667788);
    EQ(RDX, 0x55667788);
    EQ(R13, 0x55667788);
    xmm_eq(0, 0x1122334455667788, 0);
    xmm_eq(1, 0x55667788, 0);
    xmm_eq(15, 0xabcdef, 0);
}

Test(cpu, movq_movd_memory_and_xmm_forms)
{
    OK(mmu_write(m, DATA, BYTES16, 16));
    wr64(DATA + 0x20, ~0ull), wr64(DATA + 0x28, ~0ull);
    SET(RDI, DATA);
    RUN_OK(0xf3, 0x0f, 0x6f, 0x07,             /* movdqu xmm0, [rdi] */
           0xf3, 0x0f, 0x6f, 0x0f,             /* movdqu xmm1, [rdi] */
           0xf3, 0x0f, 0x7e, 0x4f, 0x08,       /* movq xmm1, [rdi+8] */
           0xf3, 0x0f, 0x6f, 0x17,             /* movdqu xmm2, [rdi] */
           0x66, 0x0f, 0x6e, 0x57, 0x04,       /* movd xmm2, [rdi+4] */
           0xf3, 0x0f, 0x6f, 0x1f,             /* movdqu xmm3, [rdi] */
           0xf3, 0x0f, 0x7e, 0xd8,             /* movq xmm3, xmm0 */
           0xf3, 0x0f, 0x6f, 0x27,             /* movdqu xmm4, [rdi] */
           0x66, 0x0f, 0xd6, 0xc4,             /* movq xmm4, xmm0 (66 0f d6) */
           0x66, 0x0f, 0xd6, 0x4f, 0x20,       /* movq [rdi+0x20], xmm1 */
           0x66, 0x0f, 0x7e, 0x57, 0x28,       /* movd [rdi+0x28], xmm2 */
           0x66, 0x48, 0x0f, 0x7e, 0x47, 0x30, /* movq [rdi+0x30], xmm0 */
           0x66, 0x48, 0x0f, 0x6e, 0x6f, 0x08); /* movq xmm5, [rdi+8] */
    xmm_eq(1, 0xffeeddccbbaa9988, 0);
    xmm_eq(2, 0x77665544, 0);
    xmm_eq(3, 0x7766554433221100, 0);
    xmm_eq(4, 0x7766554433221100, 0);
    xmm_eq(5, 0xffeeddccbbaa9988, 0);
    cr_assert_eq(rd64(DATA + 0x20), 0xffeeddccbbaa9988);
    cr_assert_eq(rd64(DATA + 0x28), 0xffffffff77665544); /* movd stores 4 bytes only */
    cr_assert_eq(rd64(DATA + 0x30), 0x7766554433221100);
}

/* writes code at CODE, then runs it with a memory digest taken in between:
 * the exit, and whether memory stayed the same */
static cpu_exit run_digest(const uint8_t *code, size_t n, bool *same)
{
    cpu_exit ex;
    OK(mmu_write(m, CODE, code, n));
    uint64_t dg = mmu_digest(m);
    OK(cpu_run(c, CODE, CODE + n, 0, &ex));
    *same = mmu_digest(m) == dg;
    return ex;
}

/* #GP on hardware: an exception at the instruction, nothing changed */
Test(cpu, aligned_forms_with_a_misaligned_operand_raise_an_exception)
{
    static const uint8_t cases[][5] = {
        { 0x0f, 0x28, 0x07 },       /* movaps xmm0, [rdi] */
        { 0x0f, 0x29, 0x07 },       /* movaps [rdi], xmm0 */
        { 0x66, 0x0f, 0x6f, 0x07 }, /* movdqa xmm0, [rdi] */
        { 0x66, 0x0f, 0x7f, 0x07 }, /* movdqa [rdi], xmm0 */
        { 0x66, 0x0f, 0xef, 0x07 }, /* pxor xmm0, [rdi] */
        { 0x66, 0x0f, 0xeb, 0x07 }, /* por xmm0, [rdi] */
        { 0x66, 0x0f, 0xdb, 0x07 }, /* pand xmm0, [rdi] */
    };
    OK(mmu_write(m, DATA, BYTES16, 16));
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        static const uint64_t ones[2] = { ~0ull, ~0ull };
        OK(mmu_write(m, DATA + 0x40, ones, 16));
        SET(RDI, DATA + 0x40);
        RUN_OK(0xf3, 0x0f, 0x6f, 0x07); /* movdqu xmm0, [rdi]: all ones */
        SET(RAX, 42), SET(RDI, DATA + 8);
        uint8_t code[8] = { 0x48, 0xff, 0xc0 }; /* inc rax */
        memcpy(code + 3, cases[i], 5);
        bool same;
        cr_assert_eq(run_digest(code, sizeof code, &same), CPU_EXIT_EXCEPTION, "case %u", i);
        cr_assert(same, "case %u: memory changed", i);
        EQ(RIP, CODE + 3);
        EQ(RAX, 43);
        xmm_eq(0, ~0ull, ~0ull);
    }
}

Test(cpu, sse_faults_change_nothing)
{
    static const uint64_t ones[2] = { ~0ull, ~0ull };
    OK(mmu_write(m, DATA, ones, 16));
    SET(RDI, DATA);
    RUN_OK(0xf3, 0x0f, 0x6f, 0x07); /* movdqu xmm0, [rdi] */
    SET(RSI, DATA + 0x2000 - 8);    /* the last 8 bytes of DATA, then unmapped */
    bool same;
    cr_assert_eq(run_digest((const uint8_t[]){ 0xf3, 0x0f, 0x6f, 0x06 }, 4, &same), /* movdqu xmm0, [rsi] */
                 CPU_EXIT_MEM_FAULT);
    cpu_fault f;
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(f.addr, DATA + 0x2000);
    cr_assert_eq(f.size, 16);
    cr_assert_eq(f.rip, CODE);
    xmm_eq(0, ~0ull, ~0ull);
    cr_assert_eq(run_digest((const uint8_t[]){ 0x0f, 0x11, 0x06 }, 3, &same), /* movups [rsi], xmm0 */
                 CPU_EXIT_MEM_FAULT);
    cr_assert(same, "a partial store landed");
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_WRITE_UNMAPPED);
    cr_assert_eq(f.addr, DATA + 0x2000);
    cr_assert_eq(f.size, 16);
    OK(mmu_protect(m, DATA, 0x1000, MMU_PROT_READ));
    cr_assert_eq(run_digest((const uint8_t[]){ 0x66, 0x0f, 0xd6, 0x07 }, 4, &same), /* movq [rdi], xmm0 */
                 CPU_EXIT_MEM_FAULT);
    cr_assert(same);
    cpu_last_fault(c, &f);
    cr_assert_eq(f.err, MMU_ERR_WRITE_PROT);
    cr_assert_eq(f.size, 8);
}

static unsigned n_events;
static mmu_mem_event last_event;

static bool record_event(mmu_t *mm, const mmu_mem_event *ev, void *user)
{
    (void)mm, (void)user;
    n_events++;
    last_event = *ev;
    return false;
}

Test(cpu, sse_accesses_are_guest_accesses_seen_by_hooks)
{
    OK(mmu_write(m, DATA + 0x100, BYTES16, 16));
    OK(mmu_hook_add(m, MMU_HOOK_MEM_READ | MMU_HOOK_MEM_WRITE, record_event, NULL, DATA + 0x100, DATA + 0x1ff,
                    NULL));
    SET(RDI, DATA + 0x100);
    n_events = 0;
    RUN_OK(0x0f, 0x28, 0x07); /* movaps xmm0, [rdi] */
    cr_assert_eq(n_events, 1);
    cr_assert_eq(last_event.type, MMU_HOOK_MEM_READ);
    cr_assert_eq(last_event.addr, DATA + 0x100);
    cr_assert_eq(last_event.size, 16);
    RUN_OK(0x0f, 0x29, 0x47, 0x10); /* movaps [rdi+0x10], xmm0 */
    cr_assert_eq(n_events, 2);
    cr_assert_eq(last_event.type, MMU_HOOK_MEM_WRITE);
    cr_assert_eq(last_event.size, 16);
    cr_assert_eq(last_event.value, 0x7766554433221100);
}

Test(cpu, unsupported_sse_forms_are_invalid)
{
    static const uint8_t cases[][5] = {
        { 0x0f, 0xef, 0xc1 },       /* pxor mm0, mm1 (MMX) */
        { 0x0f, 0x6e, 0xc0 },       /* movd mm0, eax (MMX) */
        { 0xf2, 0x0f, 0xf0, 0x07 }, /* lddqu xmm0, [rdi]: SSE3 is not in the model */
        { 0xf0, 0x66, 0x0f, 0xef, 0x07 }, /* lock pxor */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t code[8];
        memcpy(code, cases[i], 5);
        cpu_exit ex;
        OK(mmu_write(m, CODE, code, sizeof code));
        SET(RDI, DATA);
        OK(cpu_run(c, CODE, 0, 0, &ex));
        cr_assert_eq(ex, CPU_EXIT_INSN_INVALID, "case %u", i);
        EQ(RIP, CODE);
    }
}

/* ------------------------------------------------------ instruction count */

static bool handle_syscall(cpu_t *cc, void *user)
{
    (void)cc, (void)user;
    return true;
}

Test(cpu, insn_count_counts_completed_instructions_only)
{
    cpu_t *c2;
    OK(cpu_open(m, &c2));
    cr_assert_eq(cpu_insn_count(c2), 0);
    cr_assert_eq(cpu_insn_count(NULL), 0);
    cpu_close(c2);
    cr_assert_eq(cpu_insn_count(c), 0);
    RUN_OK(0x90, 0x48, 0xff, 0xc0, 0x90); /* nop; inc rax; nop */
    cr_assert_eq(cpu_insn_count(c), 3);
    cr_assert_eq(RUN(0x90, 0xf4), CPU_EXIT_HLT); /* nop; hlt: both complete */
    cr_assert_eq(cpu_insn_count(c), 5);
    cr_assert_eq(RUN(0x90, 0xcc), CPU_EXIT_EXCEPTION); /* nop; int3 */
    cr_assert_eq(cpu_insn_count(c), 6);
    SET(RSI, 0x50000);
    cr_assert_eq(RUN(0x90, 0x48, 0x8b, 0x06), CPU_EXIT_MEM_FAULT); /* nop; mov rax, [rsi] */
    cr_assert_eq(cpu_insn_count(c), 7);
    cr_assert_eq(RUN(0x90, 0x0f, 0x0b), CPU_EXIT_INSN_INVALID); /* nop; ud2 */
    cr_assert_eq(cpu_insn_count(c), 8);
    SET(RCX, 0);
    cr_assert_eq(RUN(0x90, 0x48, 0xf7, 0xf1), CPU_EXIT_EXCEPTION); /* nop; div rcx: #DE */
    cr_assert_eq(cpu_insn_count(c), 9);
    SET(RDI, DATA + 8);
    cr_assert_eq(RUN(0x90, 0x0f, 0x28, 0x07), CPU_EXIT_EXCEPTION); /* nop; movaps xmm0, [rdi]: #GP */
    cr_assert_eq(cpu_insn_count(c), 10);
    cr_assert_eq(RUN(0x90, 0x0f, 0x05), CPU_EXIT_EXCEPTION); /* nop; syscall (unhandled) */
    cr_assert_eq(cpu_insn_count(c), 11);
    OK(cpu_hook_syscall(c, handle_syscall, NULL, NULL));
    RUN_OK(0x90, 0x0f, 0x05); /* nop; syscall (handled) */
    cr_assert_eq(cpu_insn_count(c), 13);
    /* a count-limited run counts what it ran */
    static const uint8_t loop[] = { 0x48, 0xff, 0xc0, /* top: inc rax */
                                    0xeb, 0xfb };     /* jmp top */
    OK(mmu_write(m, CODE, loop, sizeof loop));
    cpu_exit ex;
    OK(cpu_run(c, CODE, UINT64_MAX, 1000, &ex));
    cr_assert_eq(ex, CPU_EXIT_COUNT);
    cr_assert_eq(cpu_insn_count(c), 1013);
}

/* -------------------------------------------------------------- stack ops */

Test(cpu, stack_ops_push_pop_read_write)
{
    uint64_t sp, v;
    OK(cpu_stack_push(c, 0x1122, &sp));
    cr_assert_eq(sp, SP0 - 8);
    OK(cpu_stack_push(c, 0x3344, NULL));
    OK(cpu_stack_read(c, 8, &v));
    cr_assert_eq(v, 0x1122);
    OK(cpu_stack_write(c, 0, 0x5566));
    OK(cpu_stack_pop(c, &v));
    cr_assert_eq(v, 0x5566);
    OK(cpu_stack_pop(c, &v));
    cr_assert_eq(v, 0x1122);
    EQ(RSP, SP0);
    OK(cpu_stack_read(c, -16, &v));
    cr_assert_eq(v, 0x5566);
    ERR(cpu_stack_pop(c, NULL), MMU_ERR_ARG);
    ERR(cpu_stack_push(NULL, 1, NULL), MMU_ERR_ARG);
}

Test(cpu, stack_push_failure_leaves_sp_unchanged)
{
    SET(RSP, STACK); /* below is unmapped */
    uint64_t sp = 7, d = mmu_digest(m);
    ERR(cpu_stack_push(c, 1, &sp), MMU_ERR_WRITE_UNMAPPED);
    EQ(RSP, STACK);
    cr_assert_eq(sp, 7);
    cr_assert_eq(mmu_digest(m), d);
    SET(RSP, STACK + 0x2000);
    uint64_t v = 9;
    ERR(cpu_stack_pop(c, &v), MMU_ERR_READ_UNMAPPED);
    cr_assert_eq(v, 9);
    EQ(RSP, STACK + 0x2000);
}

Test(cpu, stack_ops_ignore_protections_like_qiling)
{
    OK(mmu_protect(m, STACK, 0x2000, MMU_PROT_READ));
    OK(cpu_stack_push(c, 5, NULL));
    uint64_t v;
    OK(cpu_stack_pop(c, &v));
    cr_assert_eq(v, 5);
}

/* -------------------------------------------------------- out of memory */

Test(cpu, allocation_failures_fail_cleanly)
{
    for (long n = 0; n < 8; n++) {
        cpu_t *c2 = NULL;
        sm_alloc_fail_after(n);
        mmu_err err = cpu_open(m, &c2);
        sm_alloc_fail_after(-1);
        if (err) {
            cr_assert_eq(err, MMU_ERR_NOMEM);
            cr_assert_null(c2);
            continue;
        }
        cpu_close(c2);
    }
    /* decoding a new block can fail too: the run reports it */
    static const uint8_t code[] = { 0x48, 0xff, 0xc0, 0xeb, 0x00, 0x90 }; /* inc rax; jmp +0; nop */
    OK(mmu_write(m, CODE, code, sizeof code));
    bool saw = false;
    for (long n = 0; n < 8 && !saw; n++) {
        cpu_t *c2;
        OK(cpu_open(m, &c2));
        cpu_exit ex;
        sm_alloc_fail_after(n);
        mmu_err err = cpu_run(c2, CODE, CODE + sizeof code, 0, &ex);
        sm_alloc_fail_after(-1);
        saw = err == MMU_ERR_NOMEM;
        cr_assert(err == MMU_OK || err == MMU_ERR_NOMEM);
        OK(cpu_run(c2, CODE, CODE + sizeof code, 0, &ex)); /* and it recovers */
        cr_assert_eq(ex, CPU_EXIT_UNTIL);
        cpu_close(c2);
    }
    cr_assert(saw);
}
