/*
 * signals.c - signal delivery: sigaction with and without SA_SIGINFO,
 * kill, raise, sigqueue's value, blocking with sigprocmask and pending
 * sets, SA_RESETHAND, SA_NODEFER, a handler that raises again, alarm with
 * pause, SIGCHLD from an exiting child, and faults (SIGSEGV, SIGFPE)
 * handled by a siglongjmp out of the handler, with registers and the
 * floating-point state intact across every handler.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t hits[65], last_code, last_value, same_pid, depth, max_depth;
static sigjmp_buf jump;

static void plain(int sig) { hits[sig]++; }

static void with_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    hits[sig]++;
    last_code = si->si_code;
    last_value = si->si_value.sival_int;
    same_pid = si->si_pid == getpid();
    volatile double x = 1.0; /* handlers may use the FPU: the interrupted code must not notice */
    for (int i = 0; i < 10; i++)
        x = x * 1.5 + 0.25;
    (void)x;
}

static void nested(int sig)
{
    hits[sig]++;
    if (++depth > max_depth)
        max_depth = depth;
    if (depth < 3)
        raise(sig); /* with SA_NODEFER, delivered right away */
    depth--;
}

static void fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    hits[sig]++;
    last_code = si->si_code;
    last_value = sig == SIGSEGV ? (int)(uintptr_t)si->si_addr : 0;
    siglongjmp(jump, sig);
}

static void install(int sig, void (*h)(int), void (*act)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags | (act ? SA_SIGINFO : 0);
    if (act)
        sa.sa_sigaction = act;
    else
        sa.sa_handler = h;
    if (sigaction(sig, &sa, NULL) < 0)
        printf("sigaction(%d): %s\n", sig, strerror(errno));
}

static void basics(void)
{
    double f = 3.0;
    install(SIGUSR1, plain, NULL, 0);
    install(SIGUSR2, NULL, with_info, 0);
    raise(SIGUSR1);
    kill(getpid(), SIGUSR1);
    printf("SIGUSR1 handled %d times\n", hits[SIGUSR1]);
    kill(getpid(), SIGUSR2);
    printf("SIGUSR2 by kill: code %s, pid is ours %d\n", last_code == SI_USER ? "SI_USER" : "other", same_pid);
    raise(SIGUSR2);
    printf("SIGUSR2 by raise: code %s\n", last_code == SI_TKILL ? "SI_TKILL" : last_code == SI_USER ? "SI_USER" : "other");
    sigqueue(getpid(), SIGUSR2, (union sigval){ .sival_int = 1234 });
    printf("SIGUSR2 by sigqueue: code %s, value %d\n", last_code == SI_QUEUE ? "SI_QUEUE" : "other", last_value);
    printf("float state across handlers: %g\n", f * 7.0 / 3.0);

    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    printf("sigaction query: handler is ours %d, SA_SIGINFO %d\n", old.sa_handler == plain,
           !!(old.sa_flags & SA_SIGINFO));
    int r = sigaction(0, &old, NULL);
    printf("invalid signal: %d %s", r, strerror(errno));
    r = sigaction(SIGKILL, &old, NULL);
    printf("; SIGKILL: %d %s\n", r, strerror(errno));
}

static void masks(void)
{
    sigset_t block, old, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    int before = hits[SIGUSR1];
    raise(SIGUSR1);
    raise(SIGUSR1); /* standard signals do not queue: one delivery */
    sigpending(&pending);
    printf("blocked: delivered %d, pending %d\n", hits[SIGUSR1] - before, sigismember(&pending, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: delivered %d\n", hits[SIGUSR1] - before);

    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    sigset_t wait_for;
    sigemptyset(&wait_for);
    sigaddset(&wait_for, SIGUSR1);
    int got = 0;
    sigwait(&wait_for, &got);
    printf("sigwait took signal %d, handler ran %d\n", got, hits[SIGUSR1] - before - 1);
    sigprocmask(SIG_UNBLOCK, &block, NULL);

    install(SIGRTMIN + 1, plain, NULL, 0);
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &rt, NULL);
    for (int i = 0; i < 3; i++)
        raise(SIGRTMIN + 1); /* real-time signals queue */
    sigprocmask(SIG_UNBLOCK, &rt, NULL);
    printf("real-time signal queued and delivered %d times\n", hits[SIGRTMIN + 1]);
}

static void flags(void)
{
    install(SIGUSR1, plain, NULL, SA_RESETHAND);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    printf("SA_RESETHAND: back to default %d\n", now.sa_handler == SIG_DFL);
    install(SIGUSR2, nested, NULL, SA_NODEFER);
    raise(SIGUSR2);
    printf("SA_NODEFER: nested depth %d\n", max_depth);
    signal(SIGUSR2, SIG_IGN);
    raise(SIGUSR2);
    printf("SIG_IGN: still running\n");
}

static void alarms(void)
{
    install(SIGALRM, plain, NULL, 0);
    printf("alarm(0) before: %u\n", alarm(0));
    alarm(1);
    pause();
    printf("SIGALRM after pause: %d\n", hits[SIGALRM]);
    alarm(100);
    printf("alarm cancel left > 90: %d\n", alarm(0) > 90);
}

static void children(void)
{
    install(SIGCHLD, plain, NULL, 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(5);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    printf("child exit %d, SIGCHLD seen %d\n", WEXITSTATUS(st), hits[SIGCHLD] > 0);
}

static void faults(void)
{
    install(SIGSEGV, NULL, fault, SA_NODEFER);
    install(SIGFPE, NULL, fault, SA_NODEFER);
    for (int round = 0; round < 3; round++) {
        int sig = sigsetjmp(jump, 1);
        if (sig == 0) {
            volatile uintptr_t bad = 0x1000 + (uintptr_t)round * 8;
            *(volatile int *)bad = round;
        }
        printf("SIGSEGV round %d: code %s, address %#x\n", round,
               last_code == SEGV_MAPERR ? "SEGV_MAPERR" : "other", (unsigned)last_value);
    }
    int sig = sigsetjmp(jump, 1);
    if (sig == 0) {
        volatile int zero = 0, one = 1;
        printf("%d\n", one / zero);
    }
    printf("SIGFPE: code %s, handled %d\n", last_code == FPE_INTDIV ? "FPE_INTDIV" : "other", hits[SIGFPE]);
}

int main(void)
{
    basics();
    masks();
    flags();
    alarms();
    children();
    faults();
    printf("done\n");
    return 0;
}
