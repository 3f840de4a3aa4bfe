/*
 * sig.c - signal delivery. Dispositions and the mask are the guest's;
 * host signals meant for the guest (SIGINT, SIGCHLD, SIGALRM, ...) are
 * mirrored: a signal the guest leaves at its default gets the host's
 * default (so ^C ends the runner as it would the program), one it ignores
 * is ignored, and one it handles or blocks is caught, queued and delivered
 * at the next instruction boundary (after a system call, or between slices
 * of cpu_run). A memory fault becomes a synchronous SIGSEGV
 * delivered through Linux's x86-64 rt_sigframe (pretcode, ucontext,
 * siginfo), so a handler can mprotect or map the page and return, and the
 * faulting instruction runs again; a signal a program sends itself runs its
 * handler or its default action. rt_sigreturn reloads the registers from the
 * frame, so a handler may change them.
 */
#include "sig.h"

#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

static const cpu_reg greg_map_[18] = { CPU_R8,  CPU_R9,  CPU_R10, CPU_R11, CPU_R12, CPU_R13,
                                       CPU_R14, CPU_R15, CPU_RDI, CPU_RSI, CPU_RBP, CPU_RBX,
                                       CPU_RDX, CPU_RAX, CPU_RCX, CPU_RSP, CPU_RIP, CPU_RFLAGS };
const cpu_reg *const sig_greg_map = greg_map_;

static void fill_context(run_t *r, guest_ucontext *uc)
{
    memset(uc, 0, sizeof *uc);
    for (int i = 0; i < 18; i++)
        uc->gregs[i] = cpu_reg_read(r->c, greg_map_[i]);
    uc->gregs[G_CSGSFS] = 0x33; /* user code segment */
    uc->sigmask = r->use_frame_mask ? r->frame_mask : r->sigmask; /* rt_sigsuspend restores its caller's */
    uc->gregs[G_OLDMASK] = uc->sigmask;
    r->use_frame_mask = false;
    uc->ss_sp = r->alt_sp;
    uc->ss_size = r->alt_size;
    uc->ss_flags = r->alt_flags;
}

/* the stack a handler runs on: the alternate one if asked for and not in use */
static uint64_t handler_sp(run_t *r, const run_sig *act)
{
    uint64_t sp = cpu_reg_read(r->c, CPU_RSP);
    bool on_alt = sp - r->alt_sp < r->alt_size;
    if ((act->flags & SA_ONSTACK_) && !(r->alt_flags & SS_DISABLE_) && r->alt_size && !on_alt)
        return r->alt_sp + r->alt_size;
    return sp - RED_ZONE;
}

/* the line strace shows for a delivered signal */
static void strace_signal(int sig, const guest_siginfo *si)
{
    if (sig == SIGSEGV_ && si->code > 0)
        fprintf(stderr, "--- SIGSEGV {si_code=%s, si_addr=%#" PRIx64 "} ---\n",
                si->code == 1 ? "SEGV_MAPERR" : "SEGV_ACCERR", si->addr);
    else /* si_pid is the low half of the word after the code */
        fprintf(stderr, "--- signal %d {si_code=%s, si_pid=%u} ---\n", sig,
                si->code == 0 ? "SI_USER" : si->code == -6 ? "SI_TKILL" : si->code > 0 ? "kernel" : "other",
                (unsigned)si->addr);
}

/* builds the frame below the red zone and enters the handler; false if the
 * action has no restorer or the stack cannot take the frame */
static bool deliver(run_t *r, int sig, sigframe *f)
{
    const run_sig *act = &r->sig[sig];
    if (!(act->flags & SA_RESTORER_))
        return false; /* x86-64 needs a restorer: Linux kills the process */
    uint64_t sp = handler_sp(r, act) - sizeof *f;
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

/* the siginfo of each pending signal: who sent it and how */
static guest_siginfo pending_info[65];

static void set_info(int sig, int code, uint64_t pid_uid)
{
    memset(&pending_info[sig], 0, sizeof pending_info[sig]);
    pending_info[sig].signo = sig;
    pending_info[sig].code = code;
    pending_info[sig].addr = pid_uid;
}

/* a pending signal, not blocked: handler or default */
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
    f.info = pending_info[sig];
    if (!deliver(r, sig, &f))
        terminate(r, SIGSEGV_);
}

/* delivers the lowest pending signal the mask no longer blocks */
bool sig_deliver_pending(run_t *r)
{
    uint64_t ready = r->sigpending & ~r->sigmask;
    if (!ready)
        return false;
    int sig = __builtin_ctzll(ready) + 1;
    r->sigpending &= ~SIG_BIT(sig);
    uint64_t before = r->signals;
    act_on(r, sig);
    return r->exited || r->signals != before;
}

int64_t sig_raise(run_t *r, int sig, int code, int64_t result)
{
    if (sig == 0)
        return result;
    if (sig < 1 || sig > 64)
        return -EINVAL;
    set_info(sig, code, (uint64_t)getpid() | (uint64_t)getuid() << 32);
    cpu_reg_write(r->c, CPU_RAX, (uint64_t)result); /* saved if a handler runs */
    if (r->sigmask & SIG_BIT(sig))
        r->sigpending |= SIG_BIT(sig);
    else
        act_on(r, sig);
    return result;
}


/* ------------------------------------------------- host signals, mirrored */

static volatile sig_atomic_t host_caught[65], host_any;
static siginfo_t host_info[65]; /* the same layout as the guest's on x86-64 */
static signed char host_disp[65]; /* what the host has now: 0 default, 1 ignore, 2 caught */

static void on_host_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    host_info[sig] = *si;
    host_caught[sig] = 1;
    host_any = 1;
}

/* the runner keeps these: faults and aborts are its own, SIGPIPE is raised
 * by write(), 32 and 33 belong to the host's C library */
static bool mirrored(int sig)
{
    static const uint64_t kept = SIG_BIT(4) | SIG_BIT(5) | SIG_BIT(6) | SIG_BIT(7) | SIG_BIT(8) | SIG_BIT(9) |
                                 SIG_BIT(11) | SIG_BIT(13) | SIG_BIT(19) | SIG_BIT(31) | SIG_BIT(32) | SIG_BIT(33);
    return sig >= 1 && sig <= 64 && !(kept & SIG_BIT(sig));
}

/* caught: the guest handles it, or blocks it (Linux keeps it pending) */
static int wanted_disp(const run_t *r, int sig)
{
    uint64_t h = r->sig[sig].handler;
    if (h == SIG_IGN_)
        return 1;
    return h != SIG_DFL_ || (r->sigmask & SIG_BIT(sig)) ? 2 : 0;
}

void sig_sync(run_t *r)
{
    for (int sig = 1; sig <= 64; sig++) {
        int want = mirrored(sig) ? wanted_disp(r, sig) : 0;
        if (!mirrored(sig) || want == host_disp[sig])
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        if (want == 2) {
            sa.sa_sigaction = on_host_signal;
            sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: a blocking host call returns EINTR */
        } else {
            sa.sa_handler = want == 0 ? SIG_DFL : SIG_IGN;
        }
        sigfillset(&sa.sa_mask); /* host_info[sig] is written by one handler at a time */
        if (sigaction(sig, &sa, NULL) == 0)
            host_disp[sig] = (signed char)want;
    }
}

void sig_collect(run_t *r)
{
    if (!host_any)
        return;
    host_any = 0;
    for (int sig = 1; sig <= 64; sig++)
        if (host_caught[sig]) {
            host_caught[sig] = 0;
            memcpy(&pending_info[sig], &host_info[sig], sizeof pending_info[sig]);
            r->sigpending |= SIG_BIT(sig);
        }
}

bool sig_poll(run_t *r)
{
    sig_collect(r);
    return r->sigpending & ~r->sigmask ? sig_deliver_pending(r) : false;
}

/* after -EINTR: restart unless a handler without SA_RESTART is about to run */
bool sig_restarts(run_t *r)
{
    sig_collect(r);
    uint64_t ready = r->sigpending & ~r->sigmask;
    if (!ready)
        return true;
    int sig = __builtin_ctzll(ready) + 1;
    return !handled(r, sig) || (r->sig[sig].flags & SA_RESTART_);
}

int64_t sig_wait(run_t *r)
{
    sigset_t all, old;
    sigfillset(&all);
    sig_sync(r);
    sigprocmask(SIG_BLOCK, &all, &old); /* no signal slips in between the test and the sleep */
    for (;;) {
        sig_collect(r);
        if (r->sigpending & ~r->sigmask)
            break;
        sigsuspend(&old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return -EINTR;
}

/* execve: handled signals go back to default, ignored ones stay ignored */
void sig_exec(run_t *r)
{
    for (int sig = 1; sig <= 64; sig++)
        if (handled(r, sig))
            r->sig[sig] = (run_sig){ 0 };
    r->alt_sp = r->alt_size = 0;
    r->alt_flags = SS_DISABLE_;
    sig_sync(r);
}

/* a forked child killed by a signal ends by it, so that its parent's wait
 * sees WIFSIGNALED; no core file. (The runner itself exits 128 + n.) */
void sig_die(run_t *r)
{
    struct rlimit none = { 0, 0 };
    if (!r->forked || !r->killed_by || r->killed_by == 19)
        return;
    setrlimit(RLIMIT_CORE, &none);
    signal(r->killed_by, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, r->killed_by);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(r->killed_by);
}

void sig_init(run_t *r)
{
    sigset_t mask;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    for (int sig = 1; sig <= 64; sig++) {
        struct sigaction sa;
        if (!mirrored(sig) || sigaction(sig, NULL, &sa) != 0)
            continue;
        if (sa.sa_handler == SIG_IGN) {
            r->sig[sig].handler = SIG_IGN_;
            host_disp[sig] = 1;
        }
        if (sigismember(&mask, sig) == 1)
            r->sigmask |= SIG_BIT(sig);
    }
    sigprocmask(SIG_UNBLOCK, &mask, NULL); /* the host keeps nothing blocked: blocking is the guest's */
    sig_sync(r);
}
