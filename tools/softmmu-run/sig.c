/*
 * sig.c - signal delivery. Dispositions and the mask are the guest's;
 * host signals meant for the guest (SIGINT, SIGCHLD, SIGALRM, ...) are
 * mirrored: a signal the guest leaves at its default gets the host's
 * default (so ^C ends the runner as it would the program), one it ignores
 * is ignored, and one it handles or blocks is caught, queued and delivered
 * at the next instruction boundary (after a system call, or between slices
 * of cpu_run). Pending signals wait in a queue with their siginfo: a
 * standard signal once, a real-time one (32..64) as often as it was sent.
 * A memory fault becomes a synchronous SIGSEGV, and a guest exception the
 * signal the kernel sends for it (SIGFPE, SIGTRAP, SIGILL, SIGSEGV),
 * delivered through Linux's x86-64 rt_sigframe (pretcode, ucontext,
 * siginfo), so a handler can mprotect or map the page and return, and the
 * faulting instruction runs again; a signal a program sends itself runs its
 * handler or its default action. rt_sigreturn reloads the registers from the
 * frame, so a handler may change them.
 */
#include "sig.h"
#include "viz.h"

#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
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

const char *sig_name(int sig, char *buf, size_t cap)
{
    static const char *const names[32] = {
        [1] = "SIGHUP",   [2] = "SIGINT",     [3] = "SIGQUIT",  [4] = "SIGILL",   [5] = "SIGTRAP",
        [6] = "SIGABRT",  [7] = "SIGBUS",     [8] = "SIGFPE",   [9] = "SIGKILL",  [10] = "SIGUSR1",
        [11] = "SIGSEGV", [12] = "SIGUSR2",   [13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM",
        [16] = "SIGSTKFLT", [17] = "SIGCHLD", [18] = "SIGCONT", [19] = "SIGSTOP", [20] = "SIGTSTP",
        [21] = "SIGTTIN", [22] = "SIGTTOU",   [23] = "SIGURG",  [24] = "SIGXCPU", [25] = "SIGXFSZ",
        [26] = "SIGVTALRM", [27] = "SIGPROF", [28] = "SIGWINCH", [29] = "SIGIO", [30] = "SIGPWR",
        [31] = "SIGSYS",
    };
    if (sig >= 1 && sig < SIGRT_FIRST)
        snprintf(buf, cap, "%s", names[sig]);
    else if (sig == SIGRT_FIRST)
        snprintf(buf, cap, "SIGRTMIN");
    else if (sig > SIGRT_FIRST && sig <= 64)
        snprintf(buf, cap, "SIGRT_%d", sig - SIGRT_FIRST);
    else
        snprintf(buf, cap, "%d", sig);
    return buf;
}

/* the name of a kernel si_code (> 0), which depends on the signal */
static const char *kernel_code(int sig, int code)
{
    static const char *const segv[] = { "SEGV_MAPERR", "SEGV_ACCERR" };
    static const char *const fpe[] = { "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF",
                                       "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB" };
    static const char *const ill[] = { "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
                                       "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK" };
    static const char *const chld[] = { "CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED",
                                        "CLD_STOPPED", "CLD_CONTINUED" };
    if (code == SI_KERNEL_)
        return "SI_KERNEL";
    if (sig == SIGSEGV_ && code <= 2)
        return segv[code - 1];
    if (sig == SIGFPE_ && code <= 8)
        return fpe[code - 1];
    if (sig == SIGILL_ && code <= 8)
        return ill[code - 1];
    if (sig == SIGCHLD_ && code <= 6)
        return chld[code - 1];
    return NULL;
}

static const char *user_code(int code)
{
    switch (code) {
    case SI_USER_: return "SI_USER";
    case SI_QUEUE_: return "SI_QUEUE";
    case -2: return "SI_TIMER";
    case -3: return "SI_MESGQ";
    case -4: return "SI_ASYNCIO";
    case -5: return "SI_SIGIO";
    case SI_TKILL_: return "SI_TKILL";
    default: return NULL;
    }
}

void sig_format_info(const guest_siginfo *si, char *buf, size_t cap)
{
    char name[16], num[16];
    const char *code = si->code > 0 ? kernel_code(si->signo, si->code) : user_code(si->code);
    snprintf(num, sizeof num, "%d", si->code);
    int n = snprintf(buf, cap, "{si_signo=%s, si_code=%s", sig_name(si->signo, name, sizeof name),
                     code ? code : num);
    uint32_t pid = (uint32_t)si->addr, uid = (uint32_t)(si->addr >> 32);
    uint64_t value;
    int32_t status;
    memcpy(&value, si->rest, 8);
    memcpy(&status, si->rest, 4);
    if (si->code > 0 && si->code != SI_KERNEL_ && si->signo != SIGCHLD_) /* a fault: its address */
        snprintf(buf + n, cap - (size_t)n, ", si_addr=%#" PRIx64 "}", si->addr);
    else if (si->code == SI_QUEUE_ || si->code == -2)
        snprintf(buf + n, cap - (size_t)n, ", si_pid=%u, si_uid=%u, si_int=%d, si_ptr=%#" PRIx64 "}", pid, uid,
                 (int32_t)value, value);
    else if (si->signo == SIGCHLD_ && si->code > 0)
        snprintf(buf + n, cap - (size_t)n, ", si_pid=%u, si_uid=%u, si_status=%d}", pid, uid, status);
    else if (si->code <= 0)
        snprintf(buf + n, cap - (size_t)n, ", si_pid=%u, si_uid=%u}", pid, uid);
    else
        snprintf(buf + n, cap - (size_t)n, "}");
}

/* the line strace shows for a delivered signal */
static void strace_signal(int sig, const guest_siginfo *si)
{
    char name[16], info[256];
    sig_format_info(si, info, sizeof info);
    fprintf(stderr, "--- %s %s ---\n", sig_name(sig, name, sizeof name), info);
}

/* builds the frame below the red zone and enters the handler; false if the
 * action has no restorer or the stack cannot take the frame */
static bool deliver(run_t *r, int sig, sigframe *f)
{
    const run_sig *act = &r->sig[sig];
    if (!(act->flags & SA_RESTORER_))
        return false; /* x86-64 needs a restorer: Linux kills the process */
    /* as Linux without XSAVE: the FXSAVE image, 64-byte aligned, above the
     * frame; uc.fpstate points at it and rt_sigreturn loads it back */
    uint8_t fx[512];
    uint64_t fp = (handler_sp(r, act) - sizeof fx) & ~63ull;
    uint64_t sp = fp - sizeof *f;
    sp = (sp & ~15ull) - 8; /* as if called: (RSP + 8) % 16 == 0 */
    f->pretcode = act->restorer;
    f->info.signo = sig;
    f->uc.fpstate = fp;
    if (r->o.strace)
        strace_signal(sig, &f->info);
    if (cpu_fxsave(r->c, fx) != MMU_OK || !mem_copy_out(r, fp, fx, sizeof fx) || !mem_copy_out(r, sp, f, sizeof *f))
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
    if (r->viz)
        viz_event_add(r, VIZ_SIGNAL, act->handler, (uint64_t)sig, 0);
    return true;
}

static bool handled(const run_t *r, int sig)
{
    return r->sig[sig].handler != SIG_DFL_ && r->sig[sig].handler != SIG_IGN_;
}

/* a synchronous signal (fault, exception) runs its handler, with the trap
 * number, error code and CR2 in the frame as the kernel saves them; false
 * if it has none or blocks it: Linux then kills the process */
static bool deliver_sync(run_t *r, const guest_siginfo *info, uint64_t trapno, uint64_t err, uint64_t cr2)
{
    sigframe f;
    fill_context(r, &f.uc);
    f.uc.gregs[G_TRAPNO] = trapno;
    f.uc.gregs[G_ERR] = err;
    f.uc.gregs[G_CR2] = cr2;
    f.info = *info;
    return deliver(r, info->signo, &f);
}

static bool can_take(const run_t *r, int sig)
{
    return handled(r, sig) && !(r->sigmask & SIG_BIT(sig));
}

bool sig_deliver_fault(run_t *r, const cpu_fault *fault)
{
    if (!can_take(r, SIGSEGV_))
        return false;
    bool unmapped = fault->err == MMU_ERR_READ_UNMAPPED || fault->err == MMU_ERR_WRITE_UNMAPPED ||
                    fault->err == MMU_ERR_FETCH_UNMAPPED;
    bool write = fault->err == MMU_ERR_WRITE_UNMAPPED || fault->err == MMU_ERR_WRITE_PROT;
    bool fetch = fault->err == MMU_ERR_FETCH_UNMAPPED || fault->err == MMU_ERR_FETCH_PROT;
    guest_siginfo si = { .signo = SIGSEGV_, .code = unmapped ? 1 : 2, .addr = fault->addr }; /* SEGV_MAPERR, _ACCERR */
    cpu_reg_write(r->c, CPU_RIP, fault->rip); /* the handler returns to the faulting instruction */
    uint64_t err = (unmapped ? 0 : 1) | (write ? 2 : 0) | 4 | (fetch ? 16 : 0); /* #PF's error code */
    return deliver_sync(r, &si, 14, err, fault->addr);
}

/* What the kernel sends for the exception at rip: #DE is SIGFPE FPE_INTDIV
 * and #UD SIGILL ILL_ILLOPN, both with si_addr = rip; #BP (int3) SIGTRAP
 * and #GP (hlt and the rest) SIGSEGV, both SI_KERNEL. The frame resumes at
 * the instruction, except after int3, which is a trap. */
static uint64_t exception_info(run_t *r, int sig, uint64_t rip, guest_siginfo *si, uint64_t *resume)
{
    char line[160];
    *si = (guest_siginfo){ .signo = sig, .code = SI_KERNEL_ };
    *resume = rip;
    switch (sig) {
    case SIGFPE_:
        si->code = 1, si->addr = rip;
        return 0;
    case SIGILL_:
        si->code = 2, si->addr = rip;
        return 6;
    case SIGTRAP_: {
        int size = rpt_disasm(r, rip, line, sizeof line);
        *resume = rip + (uint64_t)(size > 0 ? size : 1);
        return 3;
    }
    default:
        return 13;
    }
}

bool sig_deliver_exception(run_t *r, cpu_exit why)
{
    int sig = rpt_crash_signal(r, why);
    if (!can_take(r, sig))
        return false; /* RIP stays where the crash report expects it */
    uint64_t exit_rip = cpu_reg_read(r->c, CPU_RIP), resume;
    uint64_t rip = why == CPU_EXIT_HLT ? exit_rip - 1 : exit_rip; /* after the hlt; #GP points at it */
    guest_siginfo si;
    uint64_t trapno = exception_info(r, sig, rip, &si, &resume);
    cpu_reg_write(r->c, CPU_RIP, resume);
    if (deliver_sync(r, &si, trapno, 0, 0))
        return true;
    cpu_reg_write(r->c, CPU_RIP, exit_rip); /* no room for the frame: the crash is reported as it was */
    return false;
}

void sig_terminate(run_t *r, int sig)
{
    r->exited = true;
    r->killed_by = sig;
    r->status = 128 + sig;
}

/* ------------------------------------------------------- the pending queue */

/* queues info; false only when a real-time signal finds the queue full */
static bool enqueue(run_t *r, const guest_siginfo *info)
{
    int sig = info->signo;
    bool rt = sig >= SIGRT_FIRST;
    if (!rt && (r->sigpending & SIG_BIT(sig)))
        return true; /* standard signals coalesce */
    if (r->n_sigq >= RUN_SIGQ - (rt ? SIGRT_FIRST - 1 : 0))
        return false; /* XXX: Linux's limit is RLIMIT_SIGPENDING, in the thousands */
    r->sigq[r->n_sigq++] = *info;
    r->sigpending |= SIG_BIT(sig);
    return true;
}

/* takes the oldest pending instance of sig (which must be pending) */
static void dequeue(run_t *r, int sig, guest_siginfo *out)
{
    int k = 0, more = 0;
    while (r->sigq[k].signo != sig)
        k++;
    *out = r->sigq[k];
    memmove(&r->sigq[k], &r->sigq[k + 1], (size_t)(r->n_sigq - k - 1) * sizeof *r->sigq);
    r->n_sigq--;
    for (int i = k; i < r->n_sigq && !more; i++)
        more = r->sigq[i].signo == sig;
    if (!more)
        r->sigpending &= ~SIG_BIT(sig);
}

void sig_discard(run_t *r, int sig)
{
    guest_siginfo dropped;
    while (r->sigpending & SIG_BIT(sig))
        dequeue(r, sig, &dropped);
}

bool sig_ignores(const run_t *r, int sig)
{
    static const uint64_t ignored = SIG_BIT(17) | SIG_BIT(18) | SIG_BIT(19) | SIG_BIT(20) | SIG_BIT(21) |
                                    SIG_BIT(22) | SIG_BIT(23) | SIG_BIT(28); /* CHLD CONT STOP.. URG WINCH */
    return r->sig[sig].handler == SIG_IGN_ || (r->sig[sig].handler == SIG_DFL_ && (ignored & SIG_BIT(sig)));
}

/* a signal the mask lets through: handler or default action */
static void act_on(run_t *r, const guest_siginfo *info)
{
    int sig = info->signo;
    if (sig_ignores(r, sig))
        return;
    if (r->dbg_signals) { /* the debugger decides: see gdb.c pass_signal */
        if (r->dbg_held)
            enqueue(r, info); /* XXX: a second one within an instruction waits its turn */
        else
            r->dbg_info = *info, r->dbg_held = true, cpu_stop(r->c);
        return;
    }
    if (!handled(r, sig)) {
        sig_terminate(r, sig);
        return;
    }
    sigframe f;
    fill_context(r, &f.uc); /* RAX holds the result of the system call */
    f.info = *info;
    if (!deliver(r, sig, &f))
        sig_terminate(r, SIGSEGV_);
}

static int lowest(uint64_t set)
{
    return __builtin_ctzll(set) + 1;
}

/* delivers the lowest pending signal the mask no longer blocks */
bool sig_deliver_pending(run_t *r)
{
    uint64_t ready = r->sigpending & ~r->sigmask;
    if (!ready)
        return false;
    guest_siginfo info;
    dequeue(r, lowest(ready), &info);
    uint64_t before = r->signals;
    act_on(r, &info);
    return r->exited || r->signals != before;
}

int64_t sig_send(run_t *r, const guest_siginfo *info, int64_t result)
{
    cpu_reg_write(r->c, CPU_RAX, (uint64_t)result); /* saved if a handler runs */
    if (r->sigmask & SIG_BIT(info->signo))
        return enqueue(r, info) ? result : -EAGAIN;
    act_on(r, info);
    return result;
}

int64_t sig_raise(run_t *r, int sig, int code, int64_t result)
{
    if (sig == 0)
        return result;
    if (sig < 1 || sig > 64)
        return -EINVAL;
    guest_siginfo si = { .signo = sig, .code = code, .addr = (uint64_t)getpid() | (uint64_t)getuid() << 32 };
    return sig_send(r, &si, result);
}

/* ------------------------------------------------- host signals, mirrored */

/* Caught host signals, in the order they came: a ring the handler fills
 * and sig_collect empties (one thread: the handler interrupts the runner,
 * never the reverse), so real-time signals from other processes queue too.
 * When it is full a signal only sets its lost flag and arrives without its
 * siginfo. */
#define HOST_RING 64
static siginfo_t host_ring[HOST_RING];
static atomic_uint ring_head, ring_tail; /* head: the handler's; tail: sig_collect's */
static volatile sig_atomic_t host_lost[65], host_any;
static signed char host_disp[65]; /* what the host has now: 0 default, 1 ignore, 2 caught */

static void on_host_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    unsigned head = atomic_load_explicit(&ring_head, memory_order_relaxed);
    if (head - atomic_load_explicit(&ring_tail, memory_order_relaxed) < HOST_RING) {
        host_ring[head % HOST_RING] = *si;
        atomic_store_explicit(&ring_head, head + 1, memory_order_release);
    } else {
        host_lost[sig] = 1;
    }
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

/* caught: the guest handles it, or blocks it (Linux keeps a blocked signal
 * pending even when it is ignored: sigwait may take it) */
static int wanted_disp(const run_t *r, int sig)
{
    uint64_t h = r->sig[sig].handler;
    if (r->sigmask & SIG_BIT(sig))
        return 2;
    return h == SIG_IGN_ ? 1 : h != SIG_DFL_ ? 2 : 0;
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
        sigfillset(&sa.sa_mask); /* handlers never nest: the ring has one writer at a time */
        if (sigaction(sig, &sa, NULL) == 0)
            host_disp[sig] = (signed char)want;
    }
}

void sig_collect(run_t *r)
{
    if (!host_any)
        return;
    host_any = 0;
    unsigned head = atomic_load_explicit(&ring_head, memory_order_acquire);
    for (unsigned t = atomic_load_explicit(&ring_tail, memory_order_relaxed); t != head; t++) {
        guest_siginfo si;
        memcpy(&si, &host_ring[t % HOST_RING], sizeof si);
        enqueue(r, &si); /* XXX: a real-time signal past a full queue is lost */
    }
    atomic_store_explicit(&ring_tail, head, memory_order_release);
    for (int sig = 1; sig <= 64; sig++)
        if (host_lost[sig]) {
            host_lost[sig] = 0;
            enqueue(r, &(guest_siginfo){ .signo = sig, .code = SI_USER_ });
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

/* the time left until end, false if none */
static bool time_left(const struct timespec *end, struct timespec *left)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    left->tv_sec = end->tv_sec - now.tv_sec;
    left->tv_nsec = end->tv_nsec - now.tv_nsec;
    if (left->tv_nsec < 0)
        left->tv_sec--, left->tv_nsec += 1000000000;
    return left->tv_sec >= 0;
}

/* sleeps until a signal in wake is pending or timeout (NULL: none) passes */
static void sleep_for(run_t *r, uint64_t wake, const struct timespec *timeout)
{
    sigset_t all, old;
    struct timespec end, left;
    if (timeout) {
        clock_gettime(CLOCK_MONOTONIC, &end);
        end.tv_sec += timeout->tv_sec + (end.tv_nsec + timeout->tv_nsec) / 1000000000;
        end.tv_nsec = (end.tv_nsec + timeout->tv_nsec) % 1000000000;
    }
    sigfillset(&all);
    sig_sync(r);
    sigprocmask(SIG_BLOCK, &all, &old); /* no signal slips in between the test and the sleep */
    for (;;) {
        sig_collect(r);
        if ((r->sigpending & wake) || (timeout && !time_left(&end, &left)))
            break;
        ppoll(NULL, 0, timeout ? &left : NULL, &old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

int64_t sig_wait(run_t *r)
{
    sleep_for(r, ~r->sigmask, NULL);
    return -EINTR;
}

int sig_take(run_t *r, uint64_t set, const struct timespec *timeout, guest_siginfo *out)
{
    sig_collect(r);
    bool zero = timeout && timeout->tv_sec == 0 && timeout->tv_nsec == 0;
    if (!(r->sigpending & set) && !zero)
        sleep_for(r, set | ~r->sigmask, timeout); /* a handler to run ends the wait too */
    uint64_t got = r->sigpending & set;
    if (!got)
        return r->sigpending & ~r->sigmask ? -EINTR : -EAGAIN;
    int sig = lowest(got);
    dequeue(r, sig, out);
    return sig;
}

/* a forked child starts with no pending signals, the parent's uncollected
 * host ones included */
void sig_fork_child(run_t *r)
{
    r->n_sigq = 0;
    r->sigpending = 0;
    atomic_store(&ring_tail, atomic_load(&ring_head));
    for (int sig = 1; sig <= 64; sig++)
        host_lost[sig] = 0;
    host_any = 0;
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
