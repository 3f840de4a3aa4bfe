/*
 * signals.c - signals as a program sees them: handlers for signals it
 * sends itself, for signals another process sends (delivered between
 * instructions or into a blocking call), SA_RESTART and EINTR, the mask,
 * pending signals, sigsuspend, the alternate stack, SIGCHLD, default
 * actions. Run natively and under softmmu-run; the output must match.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
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
    signal(SIGALRM, SIG_DFL);
    alarm(1);
    pause();
    return 0; /* not reached: SIGALRM's default ends the process */
}
