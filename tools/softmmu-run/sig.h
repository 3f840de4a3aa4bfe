/*
 * sig.h - what sig.c (delivery) and sys_signal.c (the system calls) share:
 * the kernel's x86-64 signal frame and the disposition constants.
 */
#ifndef SOFTMMU_RUN_SIG_H
#define SOFTMMU_RUN_SIG_H

#include "sys.h"

#define SIG_DFL_ 0
#define SIG_IGN_ 1
#define SA_RESTART_ 0x10000000ull
#define SA_ONSTACK_ 0x08000000ull
#define SA_RESTORER_ 0x04000000ull
#define SA_NODEFER_ 0x40000000ull
#define SA_RESETHAND_ 0x80000000ull
#define SS_ONSTACK_ 1
#define SS_DISABLE_ 2
#define SIGILL_ 4
#define SIGTRAP_ 5
#define SIGFPE_ 8
#define SIGSEGV_ 11
#define SIGCHLD_ 17
#define SIGRT_FIRST 32 /* the kernel's SIGRTMIN: from here on signals queue */
#define SI_USER_ 0
#define SI_KERNEL_ 0x80
#define SI_QUEUE_ (-1)
#define SI_TKILL_ (-6)
#define UNBLOCKABLE ((1ull << (9 - 1)) | (1ull << (19 - 1))) /* SIGKILL, SIGSTOP */
#define SIG_BIT(s) (1ull << ((s)-1))
#define RED_ZONE 128
#define RFLAGS_TF 0x100
#define RFLAGS_DF 0x400

typedef struct guest_ucontext {
    uint64_t flags, link;
    uint64_t ss_sp;
    uint32_t ss_flags, ss_pad;
    uint64_t ss_size;
    uint64_t gregs[23]; /* REG_R8 .. REG_CR2 */
    uint64_t fpstate;   /* 0: no FPU state is saved */
    uint64_t reserved[8];
    uint64_t sigmask;
} guest_ucontext;

typedef struct sigframe {
    uint64_t       pretcode; /* sa_restorer: the handler returns into it */
    guest_ucontext uc;
    guest_siginfo  info;
} sigframe;

_Static_assert(sizeof(guest_ucontext) == 304, "kernel struct ucontext");
_Static_assert(sizeof(guest_siginfo) == 128, "siginfo_t");

enum { G_RSP = 15, G_RIP = 16, G_EFL = 17, G_CSGSFS = 18, G_ERR = 19, G_TRAPNO = 20, G_OLDMASK = 21, G_CR2 = 22 };

/* gregs[0..17] in mcontext order */
extern const cpu_reg *const sig_greg_map;

bool sig_deliver_pending(run_t *r);
/* the guest ends as killed by sig (a default action): exit status 128 + sig */
void sig_terminate(run_t *r, int sig);
void sig_collect(run_t *r);    /* host signals caught since the last call -> pending */
void sig_sync(run_t *r);       /* host dispositions follow the guest's actions and mask */
int64_t sig_wait(run_t *r);    /* sleeps until a signal the mask lets through is pending: -EINTR */
/* a signal the guest sends itself, with its siginfo (signo set): acted on
 * now, or queued while blocked; result, or -EAGAIN if the queue is full */
int64_t sig_send(run_t *r, const guest_siginfo *info, int64_t result);
/* rt_sigtimedwait: takes the oldest pending signal in set, waiting up to
 * timeout (NULL: for ever) for one; its number, -EAGAIN, or -EINTR when a
 * signal outside set is to be handled first */
struct timespec;
int sig_take(run_t *r, uint64_t set, const struct timespec *timeout, guest_siginfo *out);
void sig_discard(run_t *r, int sig); /* drops the pending instances (the action became ignore) */
bool sig_ignores(const run_t *r, int sig); /* SIG_IGN, or SIG_DFL of a signal whose default is ignore */
/* "SIGUSR1", "SIGRT_3", "63" */
const char *sig_name(int sig, char *buf, size_t cap);
/* a siginfo as strace shows it: {si_signo=SIGUSR2, si_code=SI_QUEUE, ...} */
void sig_format_info(const guest_siginfo *si, char *buf, size_t cap);

#endif
