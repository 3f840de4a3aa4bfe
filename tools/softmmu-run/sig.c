/*
 * sig.c - signals, as far as one thread needs them: sigaction and the
 * signal mask are recorded; a memory fault becomes a synchronous SIGSEGV
 * delivered through Linux's x86-64 rt_sigframe (pretcode, ucontext,
 * siginfo), so a handler can mprotect or map the page and return, and the
 * faulting instruction runs again; a signal a program sends itself runs its
 * handler or its default action. rt_sigreturn reloads the registers from the
 * frame, so a handler may change them.
 */
#include "sys.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#define SIG_DFL_ 0
#define SIG_IGN_ 1
#define SA_RESTORER_ 0x04000000ull
#define SA_NODEFER_ 0x40000000ull
#define SA_RESETHAND_ 0x80000000ull
#define SIGSEGV_ 11
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

typedef struct guest_siginfo {
    int32_t  signo, err, code, pad;
    uint64_t addr; /* si_addr (faults), or si_pid and si_uid (kill) */
    uint8_t  rest[104];
} guest_siginfo;

typedef struct sigframe {
    uint64_t       pretcode; /* sa_restorer: the handler returns into it */
    guest_ucontext uc;
    guest_siginfo  info;
} sigframe;

_Static_assert(sizeof(guest_ucontext) == 304, "kernel struct ucontext");
_Static_assert(sizeof(guest_siginfo) == 128, "siginfo_t");

enum { G_RSP = 15, G_RIP = 16, G_EFL = 17, G_CSGSFS = 18, G_ERR = 19, G_TRAPNO = 20, G_OLDMASK = 21, G_CR2 = 22 };

/* gregs[0..17] in mcontext order */
static const cpu_reg greg_map[18] = { CPU_R8,  CPU_R9,  CPU_R10, CPU_R11, CPU_R12, CPU_R13,
                                      CPU_R14, CPU_R15, CPU_RDI, CPU_RSI, CPU_RBP, CPU_RBX,
                                      CPU_RDX, CPU_RAX, CPU_RCX, CPU_RSP, CPU_RIP, CPU_RFLAGS };

static void fill_context(run_t *r, guest_ucontext *uc)
{
    memset(uc, 0, sizeof *uc);
    for (int i = 0; i < 18; i++)
        uc->gregs[i] = cpu_reg_read(r->c, greg_map[i]);
    uc->gregs[G_CSGSFS] = 0x33; /* user code segment */
    uc->gregs[G_OLDMASK] = r->sigmask;
    uc->sigmask = r->sigmask;
}

/* the line strace shows for a delivered signal */
static void strace_signal(int sig, const guest_siginfo *si)
{
    if (sig == SIGSEGV_)
        fprintf(stderr, "--- SIGSEGV {si_code=%s, si_addr=%#" PRIx64 "} ---\n",
                si->code == 1 ? "SEGV_MAPERR" : "SEGV_ACCERR", si->addr);
    else
        fprintf(stderr, "--- signal %d {si_code=SI_TKILL} ---\n", sig);
}

/* builds the frame below the red zone and enters the handler; false if the
 * action has no restorer or the stack cannot take the frame */
static bool deliver(run_t *r, int sig, sigframe *f)
{
    const run_sig *act = &r->sig[sig];
    if (!(act->flags & SA_RESTORER_))
        return false; /* x86-64 needs a restorer: Linux kills the process */
    uint64_t sp = cpu_reg_read(r->c, CPU_RSP) - RED_ZONE - sizeof *f;
    sp = (sp & ~15ull) - 8; /* as if called: (RSP + 8) % 16 == 0 */
    f->pretcode = act->restorer;
    f->info.signo = sig;
    if (r->o.strace)
        strace_signal(sig, &f->info);
    if (!mem_copy_out(r, sp, f, sizeof *f))
        return false;
    cpu_reg_write(r->c, CPU_RSP, sp);
    cpu_reg_write(r->c, CPU_RIP, act->handler);
    cpu_reg_write(r->c, CPU_RDI, (uint64_t)sig);
    cpu_reg_write(r->c, CPU_RSI, sp + offsetof(sigframe, info));
    cpu_reg_write(r->c, CPU_RDX, sp + offsetof(sigframe, uc));
    cpu_reg_write(r->c, CPU_RAX, 0);
    cpu_reg_write(r->c, CPU_RFLAGS, cpu_reg_read(r->c, CPU_RFLAGS) & ~(uint64_t)(RFLAGS_TF | RFLAGS_DF));
    r->sigmask |= (act->mask | (act->flags & SA_NODEFER_ ? 0 : SIG_BIT(sig))) & ~UNBLOCKABLE;
    if (act->flags & SA_RESETHAND_)
        r->sig[sig].handler = SIG_DFL_;
    r->signals++;
    return true;
}

static bool handled(const run_t *r, int sig)
{
    return r->sig[sig].handler != SIG_DFL_ && r->sig[sig].handler != SIG_IGN_;
}

bool sig_deliver_fault(run_t *r, const cpu_fault *fault)
{
    if (!handled(r, SIGSEGV_) || (r->sigmask & SIG_BIT(SIGSEGV_)))
        return false; /* default action, or blocked: the process dies */
    bool unmapped = fault->err == MMU_ERR_READ_UNMAPPED || fault->err == MMU_ERR_WRITE_UNMAPPED ||
                    fault->err == MMU_ERR_FETCH_UNMAPPED;
    bool write = fault->err == MMU_ERR_WRITE_UNMAPPED || fault->err == MMU_ERR_WRITE_PROT;
    bool fetch = fault->err == MMU_ERR_FETCH_UNMAPPED || fault->err == MMU_ERR_FETCH_PROT;
    sigframe f;
    cpu_reg_write(r->c, CPU_RIP, fault->rip); /* the handler returns to the faulting instruction */
    fill_context(r, &f.uc);
    f.uc.gregs[G_TRAPNO] = 14; /* #PF, with its error code */
    f.uc.gregs[G_ERR] = (unmapped ? 0 : 1) | (write ? 2 : 0) | 4 | (fetch ? 16 : 0);
    f.uc.gregs[G_CR2] = fault->addr;
    memset(&f.info, 0, sizeof f.info);
    f.info.code = unmapped ? 1 : 2; /* SEGV_MAPERR, SEGV_ACCERR */
    f.info.addr = fault->addr;
    return deliver(r, SIGSEGV_, &f);
}

static void terminate(run_t *r, int sig)
{
    r->exited = true;
    r->killed_by = sig;
    r->status = 128 + sig;
}

/* a signal the program sent itself, not blocked: handler or default */
static void act_on(run_t *r, int sig)
{
    static const uint64_t ignored = SIG_BIT(17) | SIG_BIT(18) | SIG_BIT(19) | SIG_BIT(20) | SIG_BIT(21) |
                                    SIG_BIT(22) | SIG_BIT(23) | SIG_BIT(28); /* CHLD CONT STOP.. URG WINCH */
    if (r->sig[sig].handler == SIG_IGN_ || (r->sig[sig].handler == SIG_DFL_ && (ignored & SIG_BIT(sig))))
        return;
    if (!handled(r, sig)) {
        terminate(r, sig);
        return;
    }
    sigframe f;
    fill_context(r, &f.uc); /* RAX holds the result of the system call */
    memset(&f.info, 0, sizeof f.info);
    f.info.code = -6; /* SI_TKILL */
    f.info.addr = (uint64_t)getpid() | (uint64_t)getuid() << 32;
    if (!deliver(r, sig, &f))
        terminate(r, SIGSEGV_);
}

/* delivers the lowest pending signal the mask no longer blocks */
static void deliver_pending(run_t *r)
{
    uint64_t ready = r->sigpending & ~r->sigmask;
    if (!ready)
        return;
    int sig = __builtin_ctzll(ready) + 1;
    r->sigpending &= ~SIG_BIT(sig);
    act_on(r, sig);
}

int64_t sig_raise(run_t *r, int sig, int64_t result)
{
    if (sig == 0)
        return result;
    if (sig < 1 || sig > 64)
        return -EINVAL;
    cpu_reg_write(r->c, CPU_RAX, (uint64_t)result); /* saved if a handler runs */
    if (r->sigmask & SIG_BIT(sig))
        r->sigpending |= SIG_BIT(sig);
    else
        act_on(r, sig);
    return result;
}

/* ------------------------------------------------------- system calls */

SYS_DECL(rt_sigaction)
{
    int sig = (int)a[0];
    run_sig act;
    if (sig < 1 || sig > 64 || a[3] != 8 || (a[1] && (sig == 9 || sig == 19)))
        return -EINVAL;
    if (a[1] && !mem_copy_in(r, a[1], &act, sizeof act))
        return -EFAULT;
    if (a[2] && !mem_copy_out(r, a[2], &r->sig[sig], sizeof act))
        return -EFAULT;
    if (a[1])
        r->sig[sig] = act;
    return 0;
}

SYS_DECL(rt_sigprocmask)
{
    uint64_t set = 0, old = r->sigmask;
    if (a[3] != 8)
        return -EINVAL;
    if (a[1] && !mem_copy_in(r, a[1], &set, 8))
        return -EFAULT;
    if (a[1] && a[0] > 2)
        return -EINVAL;
    if (a[2] && !mem_copy_out(r, a[2], &old, 8))
        return -EFAULT;
    if (a[1])
        r->sigmask = (a[0] == 0 ? old | set : a[0] == 1 ? old & ~set : set) & ~UNBLOCKABLE;
    cpu_reg_write(r->c, CPU_RAX, 0); /* this call's result, saved if a handler runs */
    deliver_pending(r);
    return 0;
}

/* reloads the registers and mask from the frame the handler returned on */
SYS_DECL(rt_sigreturn)
{
    (void)a;
    guest_ucontext uc;
    uint64_t frame = cpu_reg_read(r->c, CPU_RSP) - 8; /* the handler's ret popped pretcode */
    if (!mem_copy_in(r, frame + offsetof(sigframe, uc), &uc, sizeof uc)) {
        terminate(r, SIGSEGV_);
        return 0;
    }
    for (int i = 0; i < 18; i++)
        cpu_reg_write(r->c, greg_map[i], uc.gregs[i]);
    r->sigmask = uc.sigmask & ~UNBLOCKABLE;
    deliver_pending(r);
    return (int64_t)cpu_reg_read(r->c, CPU_RAX);
}

SYS_DECL(sigaltstack)
{
    uint64_t old[3] = { 0, 2, 0 }; /* SS_DISABLE: handlers run on the current stack */
    (void)a[0]; /* XXX: an alternate stack is accepted but not used */
    return a[1] && !mem_copy_out(r, a[1], old, sizeof old) ? -EFAULT : 0;
}
