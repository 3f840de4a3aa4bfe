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

struct stat;
/* copies a host struct stat out (the guest's layout on an x86-64 host) */
int64_t io_put_stat(run_t *r, uint64_t addr, const struct stat *st);

/* descriptors: sys_io.c */
SYS_DECL(read);
SYS_DECL(write);
SYS_DECL(pread64);
SYS_DECL(pwrite64);
SYS_DECL(readv);
SYS_DECL(writev);
SYS_DECL(lseek);
SYS_DECL(close);
SYS_DECL(dup);
SYS_DECL(dup2);
SYS_DECL(dup3);
SYS_DECL(fcntl);
SYS_DECL(ioctl);
SYS_DECL(pipe);
SYS_DECL(pipe2);
SYS_DECL(poll);
SYS_DECL(ppoll);
SYS_DECL(select);
SYS_DECL(pselect6);
SYS_DECL(sendfile);
SYS_DECL(copy_file_range);
SYS_DECL(fstat);
SYS_DECL(getdents64);
SYS_DECL(fsync);
SYS_DECL(fdatasync);
SYS_DECL(ftruncate);
SYS_DECL(fchmod);
SYS_DECL(fchown);
SYS_DECL(flock);
SYS_DECL(fchdir);
SYS_DECL(fadvise64);

/* paths: sys_fs.c */
SYS_DECL(open);
SYS_DECL(openat);
SYS_DECL(creat);
SYS_DECL(stat);
SYS_DECL(lstat);
SYS_DECL(newfstatat);
SYS_DECL(statx);
SYS_DECL(statfs);
SYS_DECL(fstatfs);
SYS_DECL(readlink);
SYS_DECL(readlinkat);
SYS_DECL(access);
SYS_DECL(faccessat);
SYS_DECL(faccessat2);
SYS_DECL(getcwd);
SYS_DECL(chdir);
SYS_DECL(mkdir);
SYS_DECL(mkdirat);
SYS_DECL(mknod);
SYS_DECL(mknodat);
SYS_DECL(unlink);
SYS_DECL(unlinkat);
SYS_DECL(rmdir);
SYS_DECL(rename);
SYS_DECL(renameat);
SYS_DECL(renameat2);
SYS_DECL(link);
SYS_DECL(linkat);
SYS_DECL(symlink);
SYS_DECL(symlinkat);
SYS_DECL(chmod);
SYS_DECL(fchmodat);
SYS_DECL(chown);
SYS_DECL(lchown);
SYS_DECL(fchownat);
SYS_DECL(truncate);
SYS_DECL(utimensat);
SYS_DECL(umask);

/* memory: sys_mm.c */
SYS_DECL(mmap);
SYS_DECL(munmap);
SYS_DECL(mprotect);
SYS_DECL(brk);
SYS_DECL(madvise);

/* processes and identity: sys_proc.c, exec.c */
SYS_DECL(exit);
SYS_DECL(fork);
SYS_DECL(clone);
SYS_DECL(execve);
SYS_DECL(execveat);
SYS_DECL(wait4);
SYS_DECL(waitid);
SYS_DECL(kill);
SYS_DECL(tkill);
SYS_DECL(tgkill);
SYS_DECL(rt_sigqueueinfo);
SYS_DECL(rt_tgsigqueueinfo);
SYS_DECL(getpid);
SYS_DECL(getppid);
SYS_DECL(getuid);
SYS_DECL(geteuid);
SYS_DECL(getgid);
SYS_DECL(getegid);
SYS_DECL(getresuid);
SYS_DECL(getresgid);
SYS_DECL(getgroups);
SYS_DECL(setuid);
SYS_DECL(setgid);
SYS_DECL(getpgrp);
SYS_DECL(getpgid);
SYS_DECL(setpgid);
SYS_DECL(setsid);
SYS_DECL(getsid);
SYS_DECL(getpriority);
SYS_DECL(sched_yield);
SYS_DECL(sched_getaffinity);
SYS_DECL(uname);
SYS_DECL(sysinfo);
SYS_DECL(getrusage);
SYS_DECL(prctl);
SYS_DECL(arch_prctl);
SYS_DECL(set_tid_address);
SYS_DECL(zero);
SYS_DECL(getrandom);
SYS_DECL(futex);
SYS_DECL(getrlimit);
SYS_DECL(setrlimit);
SYS_DECL(prlimit64);

/* time: sys_time.c */
SYS_DECL(clock_gettime);
SYS_DECL(clock_getres);
SYS_DECL(gettimeofday);
SYS_DECL(time);
SYS_DECL(nanosleep);
SYS_DECL(clock_nanosleep);
SYS_DECL(times);

/* signals: sys_signal.c */
SYS_DECL(rt_sigaction);
SYS_DECL(rt_sigprocmask);
SYS_DECL(rt_sigreturn);
SYS_DECL(rt_sigpending);
SYS_DECL(rt_sigsuspend);
SYS_DECL(rt_sigtimedwait);
SYS_DECL(sigaltstack);
SYS_DECL(pause);
SYS_DECL(alarm);
SYS_DECL(setitimer);
SYS_DECL(getitimer);

#endif
