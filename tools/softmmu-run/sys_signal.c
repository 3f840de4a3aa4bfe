/*
 * sys_signal.c - the signal system calls: actions, the mask, the return
 * from a handler, the alternate stack, waiting for a signal (or taking
 * one with rt_sigtimedwait) and the timers that send one. Delivery itself is in sig.c.
 */
#include "sig.h"

#include <stddef.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

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
    if (a[1]) {
        r->sig[sig] = act;
        if (sig_ignores(r, sig)) /* POSIX: setting SIG_IGN discards the pending ones */
            sig_discard(r, sig);
        sig_sync(r);
    }
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
    if (a[1]) {
        r->sigmask = (a[0] == 0 ? old | set : a[0] == 1 ? old & ~set : set) & ~UNBLOCKABLE;
        sig_sync(r);
    }
    cpu_reg_write(r->c, CPU_RAX, 0); /* this call's result, saved if a handler runs */
    sig_deliver_pending(r);
    return 0;
}

/* reloads the registers and mask from the frame the handler returned on */
SYS_DECL(rt_sigreturn)
{
    (void)a;
    guest_ucontext uc;
    uint8_t fx[512];
    uint64_t frame = cpu_reg_read(r->c, CPU_RSP) - 8; /* the handler's ret popped pretcode */
    bool ok = mem_copy_in(r, frame + offsetof(sigframe, uc), &uc, sizeof uc);
    /* the FP/SSE state the handler may have changed (Linux: a bad image,
     * such as reserved MXCSR bits, is SIGSEGV) */
    if (ok && uc.fpstate)
        ok = mem_copy_in(r, uc.fpstate, fx, sizeof fx) && cpu_fxrstor(r->c, fx) == MMU_OK;
    if (!ok) {
        sig_terminate(r, SIGSEGV_); /* Linux: SIGSEGV, which cannot be handled here */
        return 0;
    }
    for (int i = 0; i < 18; i++)
        cpu_reg_write(r->c, sig_greg_map[i], uc.gregs[i]);
    r->sigmask = uc.sigmask & ~UNBLOCKABLE;
    sig_sync(r);
    sig_deliver_pending(r);
    return (int64_t)cpu_reg_read(r->c, CPU_RAX);
}

SYS_DECL(sigaltstack)
{
    uint64_t old[3] = { r->alt_sp, r->alt_flags, r->alt_size }, nu[3];
    uint64_t sp = cpu_reg_read(r->c, CPU_RSP);
    bool on = r->alt_size && sp - r->alt_sp < r->alt_size;
    old[1] = on ? SS_ONSTACK_ : r->alt_size ? r->alt_flags : SS_DISABLE_;
    if (a[0] && !mem_copy_in(r, a[0], nu, sizeof nu))
        return -EFAULT;
    if (a[0] && on)
        return -EPERM;
    if (a[0] && ((uint32_t)nu[1] & ~(uint32_t)(SS_DISABLE_ | 0x80000000u)))
        return -EINVAL;
    if (a[0] && !((uint32_t)nu[1] & SS_DISABLE_) && nu[2] < 2048)
        return -ENOMEM; /* MINSIGSTKSZ */
    if (a[1] && !mem_copy_out(r, a[1], old, sizeof old))
        return -EFAULT;
    if (a[0]) {
        bool off = (uint32_t)nu[1] & SS_DISABLE_;
        r->alt_sp = off ? 0 : nu[0];
        r->alt_size = off ? 0 : nu[2];
        r->alt_flags = off ? SS_DISABLE_ : 0;
    }
    return 0;
}

SYS_DECL(rt_sigpending)
{
    sig_collect(r);
    uint64_t set = r->sigpending & r->sigmask;
    return a[1] != 8 ? -EINVAL : mem_copy_out(r, a[0], &set, 8) ? 0 : -EFAULT;
}

/* struct __kernel_timespec: valid with 0 <= tv_nsec < 1e9 and tv_sec >= 0 */
static int64_t timeout_in(run_t *r, uint64_t addr, struct timespec *ts)
{
    int64_t v[2];
    if (!mem_copy_in(r, addr, v, sizeof v))
        return -EFAULT;
    if (v[0] < 0 || v[1] < 0 || v[1] >= 1000000000)
        return -EINVAL;
    ts->tv_sec = (time_t)v[0];
    ts->tv_nsec = (long)v[1];
    return 0;
}

/* takes a pending signal of the set (blocked ones too) without running its
 * handler; in the kernel's order: size, set, timeout, then the siginfo is
 * written (a bad pointer there loses the signal, as on Linux) */
SYS_DECL(rt_sigtimedwait)
{
    uint64_t set;
    struct timespec ts;
    guest_siginfo info;
    if (a[3] != 8)
        return -EINVAL;
    if (!mem_copy_in(r, a[0], &set, 8))
        return -EFAULT;
    int64_t e = a[2] ? timeout_in(r, a[2], &ts) : 0;
    if (e < 0)
        return e;
    int sig = sig_take(r, set & ~UNBLOCKABLE, a[2] ? &ts : NULL, &info);
    if (sig > 0 && a[1] && !mem_copy_out(r, a[1], &info, sizeof info))
        return -EFAULT;
    return sig;
}

SYS_DECL(rt_sigsuspend)
{
    uint64_t mask;
    if (a[1] != 8)
        return -EINVAL;
    if (!mem_copy_in(r, a[0], &mask, 8))
        return -EFAULT;
    r->frame_mask = r->sigmask; /* the handler's return puts it back */
    r->use_frame_mask = true;
    r->sigmask = mask & ~UNBLOCKABLE;
    return sig_wait(r);
}

SYS_DECL(pause)
{
    (void)a;
    return sig_wait(r);
}

SYS_DECL(alarm)
{
    (void)r;
    return alarm((unsigned)a[0]);
}

/* struct itimerval is four longs on x86-64, host and guest alike */
SYS_DECL(setitimer)
{
    struct itimerval nu, old;
    if (!mem_copy_in(r, a[1], &nu, sizeof nu))
        return -EFAULT;
    if (setitimer((int)a[0], &nu, &old) != 0)
        return -errno;
    return a[2] && !mem_copy_out(r, a[2], &old, sizeof old) ? -EFAULT : 0;
}

SYS_DECL(getitimer)
{
    struct itimerval cur;
    if (getitimer((int)a[0], &cur) != 0)
        return -errno;
    return mem_copy_out(r, a[1], &cur, sizeof cur) ? 0 : -EFAULT;
}
