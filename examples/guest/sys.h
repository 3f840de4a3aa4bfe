/*
 * sys.h - a tiny freestanding runtime for the guest examples run by
 * softmmu-run: _start, x86-64 Linux system call wrappers, a small printf,
 * and the string functions the compiler may call. Each example is a single
 * file that includes this header; nothing else is linked (-nostdlib).
 */
#ifndef GUEST_SYS_H
#define GUEST_SYS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ system calls */

enum {
    NR_read = 0, NR_write = 1, NR_mmap = 9, NR_mprotect = 10, NR_munmap = 11, NR_brk = 12,
    NR_rt_sigaction = 13, NR_rt_sigreturn = 15, NR_getpid = 39, NR_exit = 60, NR_uname = 63,
    NR_arch_prctl = 158, NR_clock_gettime = 228, NR_exit_group = 231,
};

static inline long syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define syscall3(n, a, b, c) syscall6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static inline long sys_write(int fd, const void *buf, size_t n) { return syscall3(NR_write, fd, buf, n); }
static inline long sys_read(int fd, void *buf, size_t n) { return syscall3(NR_read, fd, buf, n); }
static inline long sys_brk(void *addr) { return syscall3(NR_brk, addr, 0, 0); }
static inline long sys_munmap(void *addr, size_t n) { return syscall3(NR_munmap, addr, n, 0); }
static inline long sys_mprotect(void *addr, size_t n, int prot) { return syscall3(NR_mprotect, addr, n, prot); }
static inline long sys_uname(void *buf) { return syscall3(NR_uname, buf, 0, 0); }

static inline long sys_mmap(void *addr, size_t n, int prot, int flags)
{
    return syscall6(NR_mmap, (long)addr, (long)n, prot, flags, -1, 0);
}

__attribute__((noreturn)) static inline void sys_exit_group(int status)
{
    for (;;)
        syscall3(NR_exit_group, status, 0, 0);
}

enum { PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4 };
enum { MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20 };
enum { EFAULT = 14, EINVAL = 22, ENOMEM = 12 };
#define PAGE 4096ul
#define IS_ERR(v) ((unsigned long)(v) > -4096ul)

/* -------------------------------------------------------------- signals */

/* the kernel's struct sigaction */
struct ksigaction {
    void (*handler)(int, void *, void *);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

enum { SIGSEGV = 11, SA_SIGINFO = 4, SA_RESTORER = 0x04000000, SEGV_MAPERR = 1, SEGV_ACCERR = 2 };
enum { REG_RIP = 16, REG_CR2 = 22 }; /* mcontext gregs indexes */

/* where the handler returns: rt_sigreturn */
void guest_restorer(void);
__asm__(".text\n.globl guest_restorer\n.type guest_restorer,@function\n"
        "guest_restorer:\n\tmov $15, %eax\n\tsyscall\n\thlt\n");

static inline long sys_sigaction(int sig, void (*fn)(int, void *, void *))
{
    struct ksigaction a = { fn, SA_SIGINFO | SA_RESTORER, guest_restorer, 0 };
    return syscall6(NR_rt_sigaction, sig, (long)&a, 0, 8, 0, 0);
}

/* siginfo_t: si_code at 8, si_addr at 16 */
#define SI_CODE(info) (((int *)(info))[2])
#define SI_ADDR(info) (((void **)(info))[2])
/* ucontext_t: mcontext gregs start at byte 40 */
#define UC_GREG(uc, i) (((unsigned long *)((char *)(uc) + 40))[i])

/* ---------------------------------------------------------- string functions */

/* the empty asm keeps the compiler from turning these loops into calls to
 * themselves */
void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--) {
        *p++ = (unsigned char)c;
        __asm__("" : "+r"(p));
    }
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--) {
        *p++ = *q++;
        __asm__("" : "+r"(p));
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

/* ---------------------------------------------------------------- printf */

static inline char *fmt_u64(char *end, unsigned long v, unsigned base)
{
    *--end = '\0';
    do {
        *--end = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    return end;
}

/* %s %c %d %u %x %p, with an optional l (all integers are 64-bit) */
static inline int print(const char *fmt, ...)
{
    char out[512], num[24];
    size_t n = 0;
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt && n < sizeof out - 24; fmt++) {
        if (*fmt != '%') {
            out[n++] = *fmt;
            continue;
        }
        if (*++fmt == 'l')
            fmt++;
        const char *s = num;
        long v;
        switch (*fmt) {
        case 's': s = va_arg(ap, const char *); break;
        case 'c': num[0] = (char)va_arg(ap, int), num[1] = 0; break;
        case 'd': v = va_arg(ap, long);
                  s = fmt_u64(num + sizeof num, v < 0 ? -(unsigned long)v : (unsigned long)v, 10);
                  if (v < 0) *(char *)--s = '-';
                  break;
        case 'u': s = fmt_u64(num + sizeof num, va_arg(ap, unsigned long), 10); break;
        case 'p': out[n++] = '0', out[n++] = 'x'; /* fall through */
        case 'x': s = fmt_u64(num + sizeof num, va_arg(ap, unsigned long), 16); break;
        default: num[0] = *fmt, num[1] = 0;
        }
        while (*s && n < sizeof out - 1)
            out[n++] = *s++;
    }
    va_end(ap);
    return (int)sys_write(1, out, n);
}

/* ------------------------------------------------------------------ _start */

static char **guest_envp;
static unsigned long *guest_auxv;
static unsigned long guest_entry_sp; /* RSP at _start */

int main(int argc, char **argv);

__attribute__((used, noreturn)) void guest_start(long *sp)
{
    int argc = (int)sp[0];
    char **argv = (char **)(sp + 1);
    char **e = argv + argc + 1;
    guest_entry_sp = (unsigned long)sp;
    guest_envp = e;
    while (*e)
        e++;
    guest_auxv = (unsigned long *)(e + 1);
    sys_exit_group(main(argc, argv));
}

__asm__(".text\n.globl _start\n.type _start,@function\n"
        "_start:\n\txor %ebp, %ebp\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall guest_start\n\thlt\n");

/* the value of auxiliary vector entry `type`, or 0 */
static inline unsigned long getauxval(unsigned long type)
{
    for (unsigned long *a = guest_auxv; a[0]; a += 2)
        if (a[0] == type)
            return a[1];
    return 0;
}

#endif
