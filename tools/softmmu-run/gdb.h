/*
 * gdb.h - softmmu-run's GDB stub (--gdb): what gdb.c (session, run
 * control, packets), gdb_regs.c (registers and the target description) and
 * gdb_mon.c (monitor commands, memory map, /proc/PID/maps) share.
 */
#ifndef SOFTMMU_RUN_GDB_H
#define SOFTMMU_RUN_GDB_H

#include "gdb_proto.h"
#include "run.h"

typedef struct gdb_bp {
    uint64_t    addr;
    int         kind; /* 0 Z0, 1 Z1 */
    mmu_hook_id id;
} gdb_bp;

typedef struct gdb_wp {
    uint64_t    addr, len;
    int         type; /* 2 write, 3 read, 4 access */
    mmu_hook_id id;
} gdb_wp;

typedef struct gdb_snap {
    char          name[64];
    mmu_snapshot *mem;
    cpu_context   regs;
    uint8_t       fx[512];
    uint64_t      brk_cur, stack_mapped_lo;
} gdb_snap;

#define GDB_MAX_SNAPS 16

typedef struct gdb {
    run_t  **rp;
    int      lfd, fd;          /* listening and client sockets */
    bool     noack, keep;
    gdbp     in;
    char    *reply;            /* the payload being built (GDBP_MAX + 1) */
    size_t   rlen;
    char    *frame;            /* the last framed reply, for a NAK */
    size_t   flen;
    /* breakpoints and watchpoints, kept in the interpreter and the MMU */
    gdb_bp  *bp;
    size_t   n_bp, cap_bp;
    gdb_wp  *wp;
    size_t   n_wp, cap_wp;
    bool     stepping_over;    /* the breakpoint at RIP does not stop this step */
    /* why the guest last stopped */
    bool     hit_bp;
    int      hit_wp;           /* index of the watchpoint that fired, or -1 */
    uint64_t hit_addr;
    int      stop_sig;         /* 0: not stopped (running, or gone) */
    cpu_exit crash;            /* a fault or exception gdb may pass to the guest */
    bool     crash_pending;
    guest_siginfo siginfo;     /* qXfer:siginfo:read */
    /* vFile: one open file, a host descriptor or the rendered maps */
    int      vf_host;
    char    *vf_buf;
    size_t   vf_len;
    bool     vf_open;
    gdb_snap snap[GDB_MAX_SNAPS];
    int      n_snap;
} gdb_t;

/* gdb.c: the stub's lifetime, called by main.c */
gdb_t *gdb_open(run_t *r);  /* listens on r->o.gdb; NULL with a message on failure */
/* serves the debugger until the guest ends (true: *status is final) or the
 * debugger detaches (false: the guest runs on without the stub) */
bool gdb_serve(gdb_t *g, run_t **rp, int *status);
void gdb_close(gdb_t *g);
/* appends to the reply being built */
void gdb_put(gdb_t *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gdb_put_bin(gdb_t *g, const void *data, size_t n);
/* qRcmd output: sent as O packets; leaves "OK" as the reply */
void gdb_output(gdb_t *g, const char *s, size_t n);

/* gdb_regs.c: the target description and the register file */
#define GDB_NREGS 60
const char *gdb_target_xml(void);
int  gdb_reg_size(int n);  /* bytes; 0: no such register */
void gdb_reg_get(run_t *r, int n, uint8_t *out);
void gdb_reg_set(run_t *r, int n, const uint8_t *in);

/* gdb_mon.c: qRcmd, the memory map, /proc/PID/maps */
void gdb_monitor(gdb_t *g, const char *cmd);
char *gdb_memory_map(run_t *r, size_t *len); /* malloc'd; NULL: out of memory */
char *gdb_proc_maps(run_t *r, size_t *len);
void gdb_snap_free_all(gdb_t *g);

#endif
