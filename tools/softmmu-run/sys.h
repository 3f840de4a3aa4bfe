/*
 * sys.h - the system call handlers of softmmu-run. Each takes the six
 * argument registers and returns the value for RAX: a result, or -errno.
 * Numbers are the x86-64 Linux ones (not the host's).
 */
#ifndef SOFTMMU_RUN_SYS_H
#define SOFTMMU_RUN_SYS_H

#include "run.h"

#include <errno.h>

typedef int64_t (*sys_fn)(run_t *r, const uint64_t *a);

#define SYS_DECL(name) int64_t sys_##name(run_t *r, const uint64_t *a)

/* files: sys_io.c */
SYS_DECL(read);
SYS_DECL(write);
SYS_DECL(readv);
SYS_DECL(writev);
SYS_DECL(close);
SYS_DECL(fstat);
SYS_DECL(newfstatat);
SYS_DECL(ioctl);

/* memory: sys_mm.c */
SYS_DECL(mmap);
SYS_DECL(munmap);
SYS_DECL(mprotect);
SYS_DECL(brk);
SYS_DECL(madvise);

/* process, time, signals: sys_proc.c */
SYS_DECL(exit);
SYS_DECL(kill);
SYS_DECL(tkill);
SYS_DECL(tgkill);
SYS_DECL(getpid);
SYS_DECL(getppid);
SYS_DECL(getuid);
SYS_DECL(geteuid);
SYS_DECL(getgid);
SYS_DECL(getegid);
SYS_DECL(uname);
SYS_DECL(arch_prctl);
SYS_DECL(set_tid_address);
SYS_DECL(zero);
SYS_DECL(clock_gettime);
SYS_DECL(clock_getres);
SYS_DECL(gettimeofday);
SYS_DECL(time);
SYS_DECL(nanosleep);
SYS_DECL(getrandom);
SYS_DECL(futex);
SYS_DECL(rt_sigaction);
SYS_DECL(rt_sigprocmask);
SYS_DECL(rt_sigreturn);
SYS_DECL(sigaltstack);
SYS_DECL(prlimit64);

#endif
