/*
 * test_softmmu_run.c - runs softmmu-run as a user would: the guest examples
 * (output and exit status), the options, and bad inputs made at test time
 * (each must give exit status 2 and one line on stderr, never a crash).
 */
#include "run_util.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


typedef struct result {
    int  status; /* exit status, or -signal if the runner crashed */
    char out[1 << 16], err[1 << 16];
} result;

static char tmpdir[64];

static void setup_dir(void)
{
    scratch_make(tmpdir, "softmmu-run-test");
}

static void remove_dir(void)
{
    scratch_remove(tmpdir);
}

static const char *stdin_path = "/dev/null";

/* runs RUNNER with args (NULL-terminated), stdin from stdin_path */
static result *run(const char *const *args)
{
    static result res;
    res.status = spawn_capture(RUNNER, args, stdin_path, tmpdir, res.out, sizeof res.out, res.err, sizeof res.err);
    return &res;
}

#define RUN(...) run((const char *const[]){ __VA_ARGS__, NULL })

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ------------------------------------------------------ crafted programs */

/* a minimal ET_EXEC: one R+X PT_LOAD at 0x400000 holding headers and code */
typedef struct tiny {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[2];
    uint8_t    code[64];
} tiny;

static void make_tiny(tiny *t, const void *code, size_t n)
{
    memset(t, 0, sizeof *t);
    memcpy(t->eh.e_ident, ELFMAG, SELFMAG);
    t->eh.e_ident[EI_CLASS] = ELFCLASS64;
    t->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    t->eh.e_ident[EI_VERSION] = EV_CURRENT;
    t->eh.e_type = ET_EXEC;
    t->eh.e_machine = EM_X86_64;
    t->eh.e_version = EV_CURRENT;
    t->eh.e_entry = 0x400000 + offsetof(tiny, code);
    t->eh.e_phoff = offsetof(tiny, ph);
    t->eh.e_ehsize = sizeof t->eh;
    t->eh.e_phentsize = sizeof(Elf64_Phdr);
    t->eh.e_phnum = 1;
    t->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_vaddr = 0x400000,
                             .p_paddr = 0x400000, .p_filesz = sizeof *t, .p_memsz = sizeof *t, .p_align = 0x1000 };
    memcpy(t->code, code, n);
}

static const char *write_file(const char *name, const void *data, size_t n)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
    return path;
}

/* mov edi, 42; mov eax, 60; syscall */
static const uint8_t exit42_code[] = { 0xbf, 42, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05 };

static void expect_usage_error(const result *r, const char *what)
{
    cr_expect_eq(r->status, 2, "%s: status %d, stderr: %s", what, r->status, r->err);
    cr_expect_eq(count_lines(r->err), 1, "%s: want one line, got: %s", what, r->err);
    cr_expect_eq(strncmp(r->err, "softmmu-run: ", 13), 0, "%s: %s", what, r->err);
    cr_expect_str_empty(r->out);
}

static const char *tiny_file(const char *name, void (*patch)(tiny *))
{
    tiny t;
    make_tiny(&t, exit42_code, sizeof exit42_code);
    patch(&t);
    return write_file(name, &t, sizeof t);
}

static void wrong_machine(tiny *t) { t->eh.e_machine = EM_AARCH64; }
static void class32(tiny *t) { t->eh.e_ident[EI_CLASS] = ELFCLASS32; }
static void big_endian(tiny *t) { t->eh.e_ident[EI_DATA] = ELFDATA2MSB; }
static void relocatable(tiny *t) { t->eh.e_type = ET_REL; }
static void past_eof(tiny *t) { t->ph[0].p_filesz = t->ph[0].p_memsz = 0x100000; }
static void high_segment(tiny *t) { t->ph[0].p_vaddr = 0x7ffffffff000 + 0x800; t->ph[0].p_memsz = 0x2000; }
static void kernel_segment(tiny *t) { t->ph[0].p_vaddr = 0xffffffff80000000; }
static void on_stack(tiny *t) { t->ph[0].p_vaddr = 0x7ffffff00000; }
static void overlapping(tiny *t)
{
    t->eh.e_phnum = 2;
    t->ph[1] = t->ph[0];
    t->ph[1].p_vaddr += 0x10;
}
static void dynamic(tiny *t)
{
    t->eh.e_phnum = 2;
    t->ph[1] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_offset = 0, .p_filesz = 4 };
}
static void no_phdrs(tiny *t) { t->eh.e_phnum = 0; }
static void huge_segment(tiny *t) { t->ph[0].p_memsz = 0x3b0000000011; }

TestSuite(bad_input, .init = setup_dir, .fini = remove_dir, .timeout = 60);

Test(bad_input, missing_file_exits_2_with_one_line)
{
    expect_usage_error(RUN("/nonexistent/program"), "missing file");
}

Test(bad_input, directory_exits_2)
{
    expect_usage_error(RUN(tmpdir), "directory");
}

Test(bad_input, text_file_is_not_an_elf)
{
    const result *r = RUN(write_file("text", "#!/bin/sh\necho hi\n", 18));
    expect_usage_error(r, "text file");
    cr_expect(strstr(r->err, "not an ELF"), "%s", r->err);
}

Test(bad_input, empty_file_is_not_an_elf)
{
    expect_usage_error(RUN(write_file("empty", "", 0)), "empty file");
}

Test(bad_input, truncated_elf_header_exits_2)
{
    tiny t;
    make_tiny(&t, exit42_code, sizeof exit42_code);
    const result *r = RUN(write_file("trunc40", &t, 40));
    expect_usage_error(r, "truncated header");
    cr_expect(strstr(r->err, "truncated"), "%s", r->err);
}

Test(bad_input, truncated_program_headers_exit_2)
{
    tiny t;
    make_tiny(&t, exit42_code, sizeof exit42_code);
    const result *r = RUN(write_file("trunc100", &t, 100));
    expect_usage_error(r, "truncated phdrs");
    cr_expect(strstr(r->err, "truncated"), "%s", r->err);
}

Test(bad_input, wrong_machine_exits_2)
{
    const result *r = RUN(tiny_file("arm", wrong_machine));
    expect_usage_error(r, "wrong machine");
    cr_expect(strstr(r->err, "not x86-64"), "%s", r->err);
}

Test(bad_input, elf32_exits_2)
{
    const result *r = RUN(tiny_file("elf32", class32));
    expect_usage_error(r, "32-bit");
    cr_expect(strstr(r->err, "32-bit"), "%s", r->err);
}

Test(bad_input, big_endian_relocatable_and_headerless_files_exit_2)
{
    expect_usage_error(RUN(tiny_file("be", big_endian)), "big endian");
    expect_usage_error(RUN(tiny_file("rel", relocatable)), "ET_REL");
    expect_usage_error(RUN(tiny_file("nophdr", no_phdrs)), "no program headers");
}

Test(bad_input, segment_past_end_of_file_exits_2)
{
    expect_usage_error(RUN(tiny_file("eof", past_eof)), "segment past EOF");
}

Test(bad_input, segment_outside_user_space_exits_2)
{
    const result *r = RUN(tiny_file("kernel", kernel_segment));
    expect_usage_error(r, "kernel address");
    cr_expect(strstr(r->err, "outside"), "%s", r->err);
    expect_usage_error(RUN(tiny_file("high", high_segment)), "over the stack top");
    expect_usage_error(RUN(tiny_file("stack", on_stack)), "on the stack");
}

Test(bad_input, overlapping_segments_exit_2)
{
    const result *r = RUN(tiny_file("overlap", overlapping));
    expect_usage_error(r, "overlap");
    cr_expect(strstr(r->err, "overlaps"), "%s", r->err);
}

Test(bad_input, dynamically_linked_program_exits_2)
{
    const result *r = RUN(tiny_file("dyn", dynamic));
    expect_usage_error(r, "PT_INTERP");
    cr_expect(strstr(r->err, "dynamically linked"), "%s", r->err);
}

Test(bad_input, usage_errors_exit_2)
{
    expect_usage_error(RUN("--strace"), "no program");
    expect_usage_error(RUN("--frobnicate", "x"), "unknown option");
    expect_usage_error(RUN("-x", "prog"), "unknown short option");
    expect_usage_error(RUN("--count", "zero", "x"), "bad count");
    expect_usage_error(RUN("--base", "0x1234", "x"), "misaligned base");
    expect_usage_error(RUN("--env", "NOEQUALS", "x"), "bad env");
    expect_usage_error(RUN("--count"), "missing value");
}

Test(bad_input, help_exits_0_on_stdout)
{
    const result *r = RUN("--help");
    cr_expect_eq(r->status, 0);
    cr_expect(strstr(r->out, "usage: softmmu-run"), "%s", r->out);
}

/* ---------------------------------------------- crafted programs that run */

TestSuite(crafted, .init = setup_dir, .fini = remove_dir, .timeout = 60);

Test(crafted, tiny_elf_exits_with_its_status)
{
    tiny t;
    make_tiny(&t, exit42_code, sizeof exit42_code);
    const result *r = RUN(write_file("tiny", &t, sizeof t));
    cr_expect_eq(r->status, 42, "status %d: %s", r->status, r->err);
    cr_expect_str_empty(r->err);
}

Test(crafted, raw_binary_runs_at_the_given_address)
{
    /* mov edi, 7; mov eax, 60; syscall */
    static const uint8_t code[] = { 0xbf, 7, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05 };
    const result *r = RUN("--raw", "0x10000", write_file("raw", code, sizeof code));
    cr_expect_eq(r->status, 7, "status %d: %s", r->status, r->err);
}

Test(crafted, store_to_address_zero_reports_the_fault_and_exits_128_plus_sigsegv)
{
    /* mov qword ptr [0], 1 */
    static const uint8_t code[] = { 0x48, 0xc7, 0x04, 0x25, 0, 0, 0, 0, 1, 0, 0, 0 };
    const result *r = RUN("--raw", "0x10000", write_file("null", code, sizeof code));
    cr_expect_eq(r->status, 128 + SIGSEGV, "status %d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "segmentation fault: write of 8 bytes at 0x0000000000000000 (unmapped)"), "%s", r->err);
    cr_expect(strstr(r->err, "rip 0x0000000000010000"), "%s", r->err);
    cr_expect(strstr(r->err, "mov qword ptr [0], 1"), "%s", r->err);
    cr_expect(strstr(r->err, "[stack]"), "the map info is printed: %s", r->err);
}

Test(crafted, store_to_code_reports_a_protection_fault)
{
    /* lea rax, [rip]; mov byte ptr [rax], 0 */
    static const uint8_t code[] = { 0x48, 0x8d, 0x05, 0, 0, 0, 0, 0xc6, 0x00, 0x00 };
    tiny t;
    make_tiny(&t, code, sizeof code);
    const result *r = RUN(write_file("wcode", &t, sizeof t));
    cr_expect_eq(r->status, 128 + SIGSEGV, "status %d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "write of 1 bytes at 0x00000000004000b7 (not writable)"), "%s", r->err);
}

Test(crafted, undecodable_instruction_exits_128_plus_sigill)
{
    static const uint8_t code[] = { 0x06 }; /* push es: invalid in 64-bit mode */
    const result *r = RUN("--raw", "0x10000", write_file("bad", code, sizeof code));
    cr_expect_eq(r->status, 128 + SIGILL, "status %d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "invalid or unsupported instruction at 0x0000000000010000"), "%s", r->err);
}

Test(crafted, unknown_syscall_returns_enosys_and_shows_in_strace)
{
    /* mov eax, 500; syscall; mov edi, eax; neg edi; mov eax, 60; syscall */
    static const uint8_t code[] = { 0xb8, 0xf4, 1, 0, 0, 0x0f, 0x05, 0x89, 0xc7, 0xf7, 0xdf,
                                    0xb8, 60, 0, 0, 0, 0x0f, 0x05 };
    const result *r = RUN("--strace", "--raw", "0x10000", write_file("nosys", code, sizeof code));
    cr_expect_eq(r->status, 38, "status %d: %s", r->status, r->err); /* ENOSYS */
    cr_expect(strstr(r->err, "syscall_500("), "%s", r->err);
    cr_expect(strstr(r->err, "= -1 ENOSYS (Function not implemented)"), "%s", r->err);
    cr_expect(strstr(r->err, "exit(38) = ?"), "%s", r->err);
}

Test(crafted, abort_by_signal_exits_128_plus_signal)
{
    /* getpid; kill(pid, SIGABRT); hlt */
    static const uint8_t code[] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x89, 0xc7, 0xbe, 6, 0, 0, 0,
                                    0xb8, 62, 0, 0, 0, 0x0f, 0x05, 0xf4 };
    const result *r = RUN("--raw", "0x10000", write_file("abort", code, sizeof code));
    cr_expect_eq(r->status, 134, "status %d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "killed by signal 6 (SIGABRT)"), "%s", r->err);
}

Test(crafted, huge_mmap_fails_with_enomem_instead_of_exhausting_the_host)
{
    /* mmap(0, 1 TiB, RW, PRIVATE|ANON, -1, 0); exit(-rax) */
    static const uint8_t code[] = { 0x31, 0xff, 0x48, 0xbe, 0, 0, 0, 0, 0, 1, 0, 0, 0xba, 3, 0, 0, 0,
                                    0x41, 0xba, 0x22, 0, 0, 0, 0x49, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff,
                                    0x45, 0x31, 0xc9, 0xb8, 9, 0, 0, 0, 0x0f, 0x05, 0x89, 0xc7, 0xf7, 0xdf,
                                    0xb8, 60, 0, 0, 0, 0x0f, 0x05 };
    const result *r = RUN("--raw", "0x10000", write_file("bigmap", code, sizeof code));
    cr_expect_eq(r->status, 12, "status %d: %s", r->status, r->err); /* ENOMEM */
}

Test(bad_input, huge_segment_exits_2)
{
    const result *r = RUN(tiny_file("huge", huge_segment));
    expect_usage_error(r, "huge segment");
    cr_expect(strstr(r->err, "larger than 16 GiB"), "%s", r->err);
}

Test(crafted, divide_by_zero_and_int3_are_named_and_exit_128_plus_their_signal)
{
    /* xor ecx, ecx; div ecx */
    static const uint8_t div0[] = { 0x31, 0xc9, 0xf7, 0xf1 };
    const result *r = RUN("--raw", "0x10000", write_file("div0", div0, sizeof div0));
    cr_expect_eq(r->status, 128 + SIGFPE, "status %d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "divide error (SIGFPE) at 0x0000000000010002"), "%s", r->err);
    static const uint8_t int3[] = { 0x90, 0xcc };
    r = RUN("--raw", "0x10000", write_file("int3", int3, sizeof int3));
    cr_expect_eq(r->status, 128 + SIGTRAP, "status %d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "breakpoint (SIGTRAP) at 0x0000000000010001"), "%s", r->err);
}

/* The FP/SSE state goes into the signal frame and comes back with
 * rt_sigreturn: the handler's change to xmm0 does not leak into the code it
 * interrupted (exit status: the low byte of xmm0, 0x11; 0x22 if it leaked) */
Test(crafted, a_signal_handler_changing_xmm0_does_not_leak_past_sigreturn)
{
    static const uint8_t code[] = {
        0x48, 0x8d, 0x05, 0x68, 0, 0, 0,             /* lea rax, [rip + handler] */
        0x48, 0x8d, 0x0d, 0x6c, 0, 0, 0,             /* lea rcx, [rip + restorer] */
        0x48, 0x83, 0xec, 0x40,                      /* sub rsp, 64 */
        0x48, 0x89, 0x04, 0x24,                      /* mov [rsp], rax: sa_handler */
        0x48, 0xc7, 0x44, 0x24, 0x08, 0, 0, 0, 4,    /* mov qword [rsp+8], SA_RESTORER */
        0x48, 0x89, 0x4c, 0x24, 0x10,                /* mov [rsp+16], rcx: sa_restorer */
        0x48, 0xc7, 0x44, 0x24, 0x18, 0, 0, 0, 0,    /* mov qword [rsp+24], 0: sa_mask */
        0xbf, 10, 0, 0, 0,                           /* mov edi, SIGUSR1 */
        0x48, 0x89, 0xe6,                            /* mov rsi, rsp */
        0x31, 0xd2,                                  /* xor edx, edx */
        0x41, 0xba, 8, 0, 0, 0,                      /* mov r10d, 8 */
        0xb8, 13, 0, 0, 0,                           /* mov eax, rt_sigaction */
        0x0f, 0x05,                                  /* syscall */
        0xb8, 0x11, 0x11, 0, 0,                      /* mov eax, 0x1111 */
        0x66, 0x48, 0x0f, 0x6e, 0xc0,                /* movq xmm0, rax */
        0xb8, 39, 0, 0, 0,                           /* mov eax, getpid */
        0x0f, 0x05,                                  /* syscall */
        0x89, 0xc7,                                  /* mov edi, eax */
        0xbe, 10, 0, 0, 0,                           /* mov esi, SIGUSR1 */
        0xb8, 62, 0, 0, 0,                           /* mov eax, kill */
        0x0f, 0x05,                                  /* syscall: the handler runs on its way out */
        0x66, 0x48, 0x0f, 0x7e, 0xc7,                /* movq rdi, xmm0 */
        0xb8, 60, 0, 0, 0,                           /* mov eax, exit */
        0x0f, 0x05,                                  /* syscall */
        0xb8, 0x22, 0x22, 0, 0,                      /* handler: mov eax, 0x2222 */
        0x66, 0x48, 0x0f, 0x6e, 0xc0,                /* movq xmm0, rax */
        0xc3,                                        /* ret */
        0xb8, 15, 0, 0, 0,                           /* restorer: mov eax, rt_sigreturn */
        0x0f, 0x05,                                  /* syscall */
    };
    const result *r = RUN("--raw", "0x10000", write_file("fpframe", code, sizeof code));
    cr_expect_eq(r->status, 0x11, "status %d: %s", r->status, r->err);
}

Test(crafted, divide_error_reaches_a_sigfpe_handler_with_fpe_intdiv_and_the_faulting_rip)
{
    static const uint8_t code[] = {
        0x48, 0x8d, 0x05, 0x3b, 0, 0, 0,                   /* lea rax, [rip + handler] */
        0x48, 0x83, 0xec, 0x40,                            /* sub rsp, 64 */
        0x48, 0x89, 0x04, 0x24,                            /* mov [rsp], rax: sa_handler */
        0x48, 0xc7, 0x44, 0x24, 0x08, 4, 0, 0, 4,          /* mov qword [rsp+8], SA_RESTORER|SA_SIGINFO */
        0x48, 0x89, 0x44, 0x24, 0x10,                      /* mov [rsp+16], rax: sa_restorer */
        0x48, 0xc7, 0x44, 0x24, 0x18, 0, 0, 0, 0,          /* mov qword [rsp+24], 0: sa_mask */
        0xbf, 8, 0, 0, 0,                                  /* mov edi, SIGFPE */
        0x48, 0x89, 0xe6,                                  /* mov rsi, rsp */
        0x31, 0xd2,                                        /* xor edx, edx */
        0x41, 0xba, 8, 0, 0, 0,                            /* mov r10d, 8 */
        0xb8, 13, 0, 0, 0,                                 /* mov eax, rt_sigaction */
        0x0f, 0x05,                                        /* syscall */
        0x31, 0xc9,                                        /* xor ecx, ecx */
        0xf7, 0xf1,                                        /* 0x3f: div ecx */
        0xf4,                                              /* hlt: not reached */
        0x8b, 0x7e, 0x08,                                  /* handler: mov edi, [rsi+8]: si_code */
        0x6b, 0xff, 0x64,                                  /* imul edi, edi, 100 */
        0x48, 0x8b, 0x82, 0xa8, 0, 0, 0,                   /* mov rax, [rdx+168]: uc gregs[REG_RIP] */
        0x2d, 0, 0, 1, 0,                                  /* sub eax, 0x10000 */
        0x01, 0xc7,                                        /* add edi, eax */
        0xb8, 60, 0, 0, 0,                                 /* mov eax, exit */
        0x0f, 0x05,                                        /* syscall */
    };
    const result *r = RUN("--strace", "--raw", "0x10000", write_file("fpe", code, sizeof code));
    cr_expect_eq(r->status, 100 * 1 + 0x3f, "status %d: %s", r->status, r->err); /* FPE_INTDIV, at the div */
    cr_expect(strstr(r->err, "rt_sigaction(SIGFPE, 0x"), "%s", r->err);
    cr_expect(strstr(r->err, "--- SIGFPE {si_signo=SIGFPE, si_code=FPE_INTDIV, si_addr=0x1003f} ---"), "%s", r->err);
}

Test(crafted, sigqueue_value_is_taken_by_rt_sigtimedwait_and_strace_decodes_both)
{
    static const uint8_t code[] = {
        0xb8, 39, 0, 0, 0, 0x0f, 0x05,                     /* mov eax, getpid; syscall */
        0x49, 0x89, 0xc4,                                  /* mov r12, rax */
        0x48, 0x81, 0xec, 0, 1, 0, 0,                      /* sub rsp, 256 */
        0x48, 0xc7, 0x04, 0x24, 0, 2, 0, 0,                /* mov qword [rsp], 1 << (SIGUSR1 - 1) */
        0x31, 0xff, 0x48, 0x89, 0xe6, 0x31, 0xd2,          /* xor edi, edi; mov rsi, rsp; xor edx, edx */
        0x41, 0xba, 8, 0, 0, 0,                            /* mov r10d, 8 */
        0xb8, 14, 0, 0, 0, 0x0f, 0x05,                     /* rt_sigprocmask(SIG_BLOCK, rsp, NULL, 8) */
        0x48, 0x8d, 0x54, 0x24, 0x10,                      /* lea rdx, [rsp+16]: the siginfo */
        0xc7, 0x42, 0x08, 0xff, 0xff, 0xff, 0xff,          /* mov dword [rdx+8], SI_QUEUE */
        0x44, 0x89, 0x62, 0x10,                            /* mov [rdx+16], r12d: si_pid */
        0x48, 0xc7, 0x42, 0x18, 42, 0, 0, 0,               /* mov qword [rdx+24], 42: si_value */
        0x4c, 0x89, 0xe7, 0xbe, 10, 0, 0, 0,               /* mov rdi, r12; mov esi, SIGUSR1 */
        0xb8, 0x81, 0, 0, 0, 0x0f, 0x05,                   /* rt_sigqueueinfo(pid, SIGUSR1, rdx) */
        0x48, 0xc7, 0x84, 0x24, 0xa0, 0, 0, 0, 0, 0, 0, 0, /* mov qword [rsp+160], 0: tv_sec */
        0x48, 0xc7, 0x84, 0x24, 0xa8, 0, 0, 0, 0, 0, 0, 0, /* mov qword [rsp+168], 0: tv_nsec */
        0x48, 0x89, 0xe7, 0x48, 0x8d, 0x74, 0x24, 0x10,    /* mov rdi, rsp; lea rsi, [rsp+16] */
        0x48, 0x8d, 0x94, 0x24, 0xa0, 0, 0, 0,             /* lea rdx, [rsp+160] */
        0x41, 0xba, 8, 0, 0, 0,                            /* mov r10d, 8 */
        0xb8, 0x80, 0, 0, 0, 0x0f, 0x05,                   /* rt_sigtimedwait(rsp, rsp+16, rsp+160, 8) */
        0x03, 0x44, 0x24, 0x28,                            /* add eax, [rsp+40]: the value taken */
        0x89, 0xc7, 0xb8, 60, 0, 0, 0, 0x0f, 0x05,         /* exit(SIGUSR1 + 42) */
    };
    const result *r = RUN("--strace", "--raw", "0x10000", write_file("sigq", code, sizeof code));
    cr_expect_eq(r->status, 10 + 42, "status %d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "rt_sigprocmask(0, [USR1], NULL, 8) = 0\n"), "%s", r->err);
    cr_expect(strstr(r->err, ", SIGUSR1, {si_signo=0, si_code=SI_QUEUE, si_pid="), "%s", r->err);
    cr_expect(strstr(r->err, "rt_sigtimedwait([USR1], {si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid="), "%s", r->err);
    cr_expect(strstr(r->err, "si_int=42, si_ptr=0x2a}, {tv_sec=0, tv_nsec=0}, 8) = 10\n"), "%s", r->err);
}

Test(crafted, count_stops_the_program_with_status_124)
{
    /* jmp $ */
    static const uint8_t code[] = { 0xeb, 0xfe };
    const result *r = RUN("--count", "1000", "--stats", "--raw", "0x10000", write_file("loop", code, sizeof code));
    cr_expect_eq(r->status, 124, "status %d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "stopped after 1000 instructions"), "%s", r->err);
    cr_expect(strstr(r->err, "instructions 1,000 in"), "%s", r->err);
}

Test(crafted, stats_counts_completed_instructions_without_a_hook)
{
    tiny t;
    make_tiny(&t, exit42_code, sizeof exit42_code);
    const result *r = RUN("--stats", write_file("tiny", &t, sizeof t));
    cr_expect_eq(r->status, 42, "status %d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "softmmu-run: instructions 3 in "), "%s", r->err); /* mov, mov, syscall */
}

Test(crafted, trace_prints_one_line_per_instruction)
{
    tiny t;
    make_tiny(&t, exit42_code, sizeof exit42_code);
    const result *r = RUN("--trace", write_file("tiny", &t, sizeof t));
    cr_expect_eq(r->status, 42, "status %d: %s", r->status, r->err);
    cr_expect(strstr(r->err, "0x00000000004000b0: bf 2a 00 00 00"), "%s", r->err);
    cr_expect(strstr(r->err, "mov edi, 0x2a\n"), "%s", r->err);
    cr_expect(strstr(r->err, "0x00000000004000ba: 0f 05"), "%s", r->err);
    cr_expect_eq(count_lines(r->err), 3, "%s", r->err);
}

/* ------------------------------------------------------ the guest examples */

#ifdef HAVE_GUESTS
#define EX(name) EXAMPLES "/" name

TestSuite(examples, .init = setup_dir, .fini = remove_dir, .timeout = 120);

Test(examples, hello_prints_its_greeting_and_exits_0)
{
    const result *r = RUN(EX("hello"));
    cr_expect_str_eq(r->out, "Hello, softmmu!\n");
    cr_expect_str_empty(r->err);
    cr_expect_eq(r->status, 0);
}

Test(examples, hello_runs_with_demand_paging)
{
    const result *r = RUN("--demand-paging", EX("hello"));
    cr_expect_str_eq(r->out, "Hello, softmmu!\n", "stderr: %s", r->err);
    cr_expect_eq(r->status, 0);
}

Test(examples, static_pie_runs_at_the_default_and_a_chosen_base)
{
    const result *r = RUN("--mapinfo", EX("hello-pie"));
    cr_expect_str_eq(r->out, "Hello, softmmu!\n", "stderr: %s", r->err);
    cr_expect_eq(r->status, 0);
    cr_expect(strstr(r->err, "555555554000"), "%s", r->err);
    r = RUN("--mapinfo", "--base", "0x20000000", EX("hello-pie"));
    cr_expect_str_eq(r->out, "Hello, softmmu!\n", "stderr: %s", r->err);
    cr_expect(strstr(r->err, "20000000 - ") && strstr(r->err, "hello-pie"), "%s", r->err);
}

Test(examples, exit42_exits_42)
{
    const result *r = RUN(EX("exit42"));
    cr_expect_eq(r->status, 42, "stderr: %s", r->err);
    cr_expect_str_empty(r->out);
}

Test(examples, sieve_counts_the_primes_below_two_million)
{
    const result *r = RUN(EX("sieve"));
    cr_expect_str_eq(r->out, "primes below 2000000: 148933\n", "stderr: %s", r->err);
    cr_expect_eq(r->status, 0);
}

Test(examples, sieve_with_demand_paging_maps_its_heap_on_demand)
{
    const result *r = RUN("--demand-paging", "--stats", "--mapinfo", EX("sieve"), "100000");
    cr_expect_str_eq(r->out, "primes below 100000: 9592\n", "stderr: %s", r->err);
    cr_expect_eq(r->status, 0);
    cr_expect(strstr(r->err, "[brk]"), "%s", r->err);
    cr_expect(strstr(r->err, ": 0 paged in on demand") == NULL, "%s", r->err);
}

Test(examples, mmap_fault_recovers_from_the_faults_it_provokes)
{
    const result *r = RUN(EX("mmap_fault"));
    cr_expect(strstr(r->out, "mmap_fault: 3 faults recovered, all checks passed\n"), "%s\nstderr: %s", r->out,
              r->err);
    cr_expect(strstr(r->out, "FAIL") == NULL, "%s", r->out);
    cr_expect_eq(r->status, 0);
    r = RUN("--demand-paging", EX("mmap_fault"));
    cr_expect(strstr(r->out, "all checks passed"), "%s\nstderr: %s", r->out, r->err);
    cr_expect_eq(r->status, 0);
}

Test(examples, args_sees_argv_env_and_a_valid_auxv)
{
    const result *r = RUN("--env", "FOO=bar", "--env", "X=1", EX("args"), "a", "b c");
    cr_expect_str_eq(r->out, "argc=3\nargv[0]=" EX("args") "\nargv[1]=a\nargv[2]=b c\nenv[0]=FOO=bar\n"
                             "env[1]=X=1\nauxv ok\n", "stderr: %s", r->err);
    cr_expect_eq(r->status, 0);
}

Test(examples, args_stack_is_valid_with_demand_paging)
{
    const result *r = RUN("--demand-paging", EX("args"));
    cr_expect(strstr(r->out, "auxv ok\n"), "%s\nstderr: %s", r->out, r->err);
    cr_expect_eq(r->status, 0);
}

#ifdef HAVE_MUSL
/* musl's stdio and malloc move 16 bytes at a time through XMM registers
 * (pxor, movaps, movups, movdqu, movdqa) */
Test(examples, musl_program_runs_unmodified)
{
    const result *r = RUN(EX("musl-hello"), "x");
    cr_expect_str_eq(r->out, "Hello from musl, argc=2, argv[0]=" EX("musl-hello") "\n"
                             "qsort ok, strlen 1048575, strdup softmmu\n", "stderr: %s", r->err);
    cr_expect_eq(r->status, 0);
}

/* long double printf and musl's x87 libm: the same bytes as natively */
Test(examples, musl_long_double_matches_native)
{
    char native[4096] = "";
    FILE *f = popen(EX("musl-longdouble"), "r");
    cr_assert(f);
    size_t n = fread(native, 1, sizeof native - 1, f);
    native[n] = 0;
    cr_assert_eq(pclose(f), 0);
    const result *r = RUN(EX("musl-longdouble"));
    cr_expect_str_eq(r->out, native, "stderr: %s", r->err);
    cr_expect_eq(r->status, 0);
}
#endif

Test(examples, upcase_reads_stdin_to_eof)
{
    char text[10000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = i % 61 == 60 ? '\n' : (char)('a' + i % 26);
    stdin_path = write_file("in.txt", text, sizeof text);
    const result *r = RUN("--demand-paging", EX("upcase"));
    cr_expect_eq(r->status, 0, "stderr: %s", r->err);
    cr_expect_eq(strlen(r->out), sizeof text);
    for (size_t i = 0; i < sizeof text && r->out[i]; i++)
        cr_assert_eq(r->out[i], text[i] == '\n' ? '\n' : text[i] - 'a' + 'A', "byte %zu", i);
}

Test(examples, strace_shows_each_system_call)
{
    const result *r = RUN("--strace", EX("hello"));
    cr_expect_str_eq(r->out, "Hello, softmmu!\n");
    cr_expect(strstr(r->err, "write(1, 0x") && strstr(r->err, ", 16) = 16\n"), "%s", r->err);
    cr_expect(strstr(r->err, "exit_group(0) = ?\n"), "%s", r->err);
}

Test(examples, stats_and_mapinfo_go_to_stderr)
{
    const result *r = RUN("--stats", "--mapinfo", EX("hello"));
    cr_expect_str_eq(r->out, "Hello, softmmu!\n");
    cr_expect(strstr(r->err, "softmmu-run: instructions "), "%s", r->err);
    cr_expect(strstr(r->err, "softmmu-run: tlb "), "%s", r->err);
    cr_expect(strstr(r->err, "[stack]") && strstr(r->err, "r-x") && strstr(r->err, "hello"), "%s", r->err);
}
#endif
