/*
 * signals.c - signals as a program sees them: handlers for signals it
 * sends itself, for signals another process sends (delivered between
 * instructions or into a blocking call), SA_RESTART and EINTR, the mask,
 * pending signals, sigsuspend, the alternate stack, SIGCHLD, default
 * actions; sigqueue's values, real-time signals that queue (from itself and
 * from another process), sigtimedwait with its timeouts; exceptions (int3,
 * ud2, hlt, a division by zero) caught by handlers that read the frame and
 * step over the instruction. Run natively and under softmmu-run; the
 * output must match.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/ucontext.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t hits[65];
static volatile int on_alt;
static char alt[65536];

static void handler(int sig)
{
    char local;
    hits[sig]++;
    on_alt = &local >= alt && &local < alt + sizeof alt;
}

static void info_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    hits[sig]++;
    printf("info: signo %d code %d from self %d\n", si->si_signo, si->si_code, si->si_pid == getpid());
}

static void on(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static void self_sent(void)
{
    on(SIGUSR1, 0);
    raise(SIGUSR1);
    printf("raise: %d\n", hits[SIGUSR1]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = info_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    kill(getpid(), SIGUSR2);
    signal(SIGWINCH, SIG_IGN);
    raise(SIGWINCH);
    printf("ignored: %d\n", hits[SIGWINCH]);
}

static void masking(void)
{
    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    sigpending(&pend);
    printf("blocked: ran %d, pending %d\n", hits[SIGUSR1], sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: ran %d\n", hits[SIGUSR1]);
}

/* a signal from another process, into a loop that makes no system call */
static void from_child(void)
{
    on(SIGUSR1, 0);
    int before = hits[SIGUSR1];
    pid_t parent = getpid(), c = fork();
    if (c == 0) {
        kill(parent, SIGUSR1);
        _exit(0);
    }
    for (volatile unsigned long i = 0; hits[SIGUSR1] == before && i < 4000000000ul; i++)
        ;
    printf("from child, while computing: %d\n", hits[SIGUSR1] - before);
    waitpid(c, NULL, 0);
}

/* a read on an empty pipe, interrupted by SIGALRM */
static void interrupted(int flags)
{
    int p[2];
    char b;
    pipe(p);
    on(SIGALRM, flags);
    struct itimerval it = { { 0, 0 }, { 0, 50000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    if (flags & SA_RESTART) { /* restarted: a child writes later */
        if (fork() == 0) {
            usleep(200000);
            write(p[1], "z", 1);
            _exit(0);
        }
    }
    ssize_t n = read(p[0], &b, 1);
    printf("read with%s SA_RESTART: %zd %s, alarm ran %d\n", flags & SA_RESTART ? "" : "out", n,
           n < 0 ? strerror(errno) : "ok", hits[SIGALRM] > 0);
    hits[SIGALRM] = 0;
    wait(NULL);
    close(p[0]);
    close(p[1]);
}

static void suspend(void)
{
    sigset_t set, old, wait_mask;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    on(SIGUSR2, 0);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t parent = getpid();
    if (fork() == 0) {
        kill(parent, SIGUSR2);
        _exit(0);
    }
    sigemptyset(&wait_mask);
    int rc = sigsuspend(&wait_mask);
    printf("sigsuspend: %d %s, handler %d\n", rc, strerror(errno), hits[SIGUSR2]);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("mask restored: %d\n", sigismember(&now, SIGUSR2));
    sigprocmask(SIG_SETMASK, &old, NULL);
    wait(NULL);
}

static void altstack(void)
{
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 }, cur;
    printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
    on(SIGUSR1, SA_ONSTACK);
    raise(SIGUSR1);
    printf("handler on the alternate stack: %d\n", on_alt);
    on(SIGUSR1, 0);
    raise(SIGUSR1);
    printf("without SA_ONSTACK: %d\n", on_alt);
    sigaltstack(NULL, &cur);
    printf("disabled: %d\n", (cur.ss_flags & SS_DISABLE) != 0);
}

static void children(void)
{
    on(SIGCHLD, SA_RESTART);
    pid_t c = fork();
    if (c == 0)
        _exit(1);
    int st;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR)
        ;
    usleep(20000);
    printf("SIGCHLD handled: %d\n", hits[SIGCHLD] > 0);
    signal(SIGCHLD, SIG_DFL);
    c = fork();
    if (c == 0) { /* default actions in a child */
        signal(SIGUSR1, SIG_DFL);
        raise(SIGUSR1);
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("default SIGUSR1: killed %d by %d\n", WIFSIGNALED(st), WTERMSIG(st));
}

static volatile int order[8], n_order;

static void record(int sig)
{
    if (n_order < 8)
        order[n_order++] = sig;
}

static void on_info(int sig, void (*fn)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

static sigset_t just(int sig)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    return set;
}

/* real-time signals queue, each with its value; unblocked together, the
 * lowest is set up first, so the handlers of the others run on top of it */
static void queued(void)
{
    sigset_t set = just(SIGRTMIN + 1);
    sigaddset(&set, SIGRTMIN + 2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (int v = 1; v <= 3; v++)
        sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = v * 10 });
    siginfo_t si;
    for (int k = 0; k < 3; k++) {
        int sig = sigwaitinfo(&set, &si);
        printf("sigwaitinfo: RTMIN+%d code %s value %d from self %d\n", sig - SIGRTMIN,
               si.si_code == SI_QUEUE ? "SI_QUEUE" : "other", si.si_value.sival_int, si.si_pid == getpid());
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = record;
    sigaction(SIGRTMIN + 1, &sa, NULL);
    sigaction(SIGRTMIN + 2, &sa, NULL);
    raise(SIGRTMIN + 2);
    raise(SIGRTMIN + 1);
    raise(SIGRTMIN + 2);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("delivery order:");
    for (int k = 0; k < n_order; k++)
        printf(" RTMIN+%d", order[k] - SIGRTMIN);
    printf("\n");
}

/* from another process: each real-time instance arrives, a standard signal
 * sent three times is pending once */
static void queued_from_child(void)
{
    sigset_t set = just(SIGRTMIN + 3);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pid_t parent = getpid(), c = fork();
    if (c == 0) {
        for (int v = 1; v <= 3; v++) {
            sigqueue(parent, SIGRTMIN + 3, (union sigval){ .sival_int = v });
            kill(parent, SIGUSR1);
        }
        _exit(0);
    }
    waitpid(c, NULL, 0);
    c = fork();
    if (c == 0) { /* a child starts with nothing pending */
        sigset_t pend;
        sigpending(&pend);
        _exit(sigismember(&pend, SIGUSR1) * 10 + sigismember(&pend, SIGRTMIN + 3));
    }
    int st;
    waitpid(c, &st, 0);
    printf("pending in a forked child: %d\n", WEXITSTATUS(st));
    struct timespec zero = { 0, 0 };
    siginfo_t si;
    int sig, usr1 = 0, rt = 0, sum = 0;
    while ((sig = sigtimedwait(&set, &si, &zero)) > 0) {
        usr1 += sig == SIGUSR1;
        rt += sig == SIGRTMIN + 3;
        sum = sum * 10 + (sig == SIGUSR1 ? 0 : si.si_value.sival_int);
    }
    printf("from a child: SIGUSR1 %d, RTMIN+3 %d, values %d, then %s\n", usr1, rt, sum, strerror(errno));
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void on_alarm_info(int sig, siginfo_t *si, void *uc)
{
    (void)si, (void)uc;
    hits[sig]++;
}

/* timeouts: none pending, a short wait, and a handler that interrupts */
static void timed(void)
{
    sigset_t set = just(SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct timespec zero = { 0, 0 }, short_wait = { 0, 30000000 }, longer = { 10, 0 };
    int rc = sigtimedwait(&set, NULL, &zero);
    printf("sigtimedwait, nothing pending: %d %s\n", rc, strerror(errno));
    rc = sigtimedwait(&set, NULL, &short_wait);
    printf("sigtimedwait 30 ms: %d %s\n", rc, strerror(errno));
    on_info(SIGALRM, on_alarm_info);
    hits[SIGALRM] = 0;
    struct itimerval it = { { 0, 0 }, { 0, 100000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    rc = (int)syscall(SYS_rt_sigtimedwait, &set, NULL, &longer, 8); /* musl's wrapper retries on EINTR */
    printf("sigtimedwait, SIGALRM handled: %d %s, alarm ran %d\n", rc, strerror(errno), hits[SIGALRM]);
    raise(SIGUSR2);
    siginfo_t si;
    rc = sigtimedwait(&set, &si, &longer);
    printf("sigtimedwait, pending: %d is SIGUSR2 %d, code SI_TKILL %d\n", rc, rc == SIGUSR2, si.si_code == SI_TKILL);
    pid_t parent = getpid(), c = fork();
    if (c == 0) { /* sent while the parent sleeps in the wait */
        usleep(50000);
        sigqueue(parent, SIGUSR2, (union sigval){ .sival_int = 5 });
        _exit(0);
    }
    rc = sigtimedwait(&set, &si, &longer);
    printf("sigtimedwait, woken by a child: %d is SIGUSR2 %d, value %d\n", rc, rc == SIGUSR2, si.si_value.sival_int);
    waitpid(c, NULL, 0);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* ------------------------------------------------------------ exceptions */

static volatile long trap_code, trap_no, trap_err, rip_ok, addr_ok, rbx_seen;
static volatile unsigned long expect_rip, expect_addr;

/* records the frame, and steps over the instruction (ud2 2 bytes, hlt 1,
 * div ecx 2; int3 has already been stepped over) */
static void on_exception(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    greg_t *g = uc->uc_mcontext.gregs;
    hits[sig]++;
    trap_code = si->si_code;
    trap_no = g[REG_TRAPNO];
    trap_err = g[REG_ERR];
    rbx_seen = g[REG_RBX];
    rip_ok = (unsigned long)g[REG_RIP] == expect_rip;
    addr_ok = (unsigned long)si->si_addr == expect_addr;
    if (sig == SIGILL || sig == SIGFPE)
        g[REG_RIP] += 2;
    if (sig == SIGSEGV)
        g[REG_RIP] += 1;
}

static void show_exception(const char *what, int sig, long rbx_after)
{
    printf("%s: handled %d, si_code %#lx, trapno %ld, err %ld, rip ok %ld, si_addr ok %ld, rbx %#lx, after %#lx\n",
           what, hits[sig], trap_code, trap_no, trap_err, rip_ok, addr_ok, rbx_seen, rbx_after);
}

static void exceptions(void)
{
    unsigned long at, after, rbx;
    on_info(SIGTRAP, on_exception);
    on_info(SIGILL, on_exception);
    on_info(SIGSEGV, on_exception);
    on_info(SIGFPE, on_exception);
    /* the label addresses are what the frame must hold */
    /* int3 is a trap: the frame resumes after it */
    __asm__ volatile("lea 1f(%%rip), %0; lea 2f(%%rip), %1; mov %1, expect_rip(%%rip); movq $0, expect_addr(%%rip)\n"
                     "mov $0x1111, %%ebx; 1: int3; 2: add $1, %%rbx; mov %%rbx, %2"
                     : "=&r"(at), "=&r"(after), "=r"(rbx) : : "rbx", "memory");
    show_exception("int3", SIGTRAP, rbx);
    __asm__ volatile("lea 1f(%%rip), %0; lea 2f(%%rip), %1; mov %1, expect_rip(%%rip); mov %1, expect_addr(%%rip)\n"
                     "mov $0x2222, %%ebx; jmp 2f; 1: nop; 2: ud2; add $1, %%rbx; mov %%rbx, %2"
                     : "=&r"(at), "=&r"(after), "=r"(rbx) : : "rbx", "memory");
    show_exception("ud2", SIGILL, rbx);
    __asm__ volatile("lea 1f(%%rip), %0; mov %0, expect_rip(%%rip); movq $0, expect_addr(%%rip)\n"
                     "mov $0x3333, %%ebx; 1: hlt; add $1, %%rbx; mov %%rbx, %1"
                     : "=&r"(at), "=r"(rbx) : : "rbx", "memory");
    show_exception("hlt", SIGSEGV, rbx);
    __asm__ volatile("lea 1f(%%rip), %0; mov %0, expect_rip(%%rip); mov %0, expect_addr(%%rip)\n"
                     "mov $0x4444, %%ebx; xor %%ecx, %%ecx; mov $7, %%eax; xor %%edx, %%edx; 1: div %%ecx;"
                     "add $1, %%rbx; mov %%rbx, %1"
                     : "=&r"(at), "=r"(rbx) : : "rax", "rbx", "rcx", "rdx", "memory");
    show_exception("div by zero", SIGFPE, rbx);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    self_sent();
    masking();
    from_child();
    interrupted(0);
    interrupted(SA_RESTART);
    suspend();
    altstack();
    children();
    queued();
    queued_from_child();
    timed();
    exceptions();
    signal(SIGALRM, SIG_DFL);
    alarm(1);
    pause();
    return 0; /* not reached: SIGALRM's default ends the process */
}
