/*
 * gdb.c - softmmu-run's GDB stub: the socket, the packets, and run control.
 *
 * Breakpoints are CPU code hooks on their exact address (guest memory is
 * never patched, so reads show the original bytes and self-modifying code
 * keeps working); watchpoints are MMU access hooks on their exact range
 * whose callback records the hit and calls cpu_stop, so the stop comes after
 * the accessing instruction completes, as x86 debug registers report it.
 * The guest runs in slices between which the socket is polled for ^C;
 * without --gdb none of this exists.
 */
#include "gdb.h"
#include "sig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GDB_SLICE (UINT64_C(1) << 16) /* instructions between polls for ^C */
#define GDB_FRAME_MAX (2 * GDBP_MAX + 8)
#define SIGKILL_ 9
#define SIGINT_ 2

enum { GONE = -1 }; /* the client hung up */

/* ----------------------------------------------------------- the socket */

/* "[HOST:]PORT" into host and port; false on a bad one */
static bool split_addr(const char *spec, char *host, size_t cap, char *port)
{
    const char *colon = strrchr(spec, ':');
    const char *p = colon ? colon + 1 : spec;
    size_t hl = colon ? (size_t)(colon - spec) : 0;
    char *end;
    errno = 0;
    unsigned long v = strtoul(p, &end, 10);
    if (!*p || *end || errno || v > 65535 || hl >= cap)
        return false;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    if (!hl)
        snprintf(host, cap, "127.0.0.1");
    snprintf(port, 8, "%lu", v);
    return true;
}

static int listen_on(const char *spec, char *shown, size_t cap)
{
    char host[256], port[8];
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
    if (!split_addr(spec, host, sizeof host, port))
        return run_msg("bad --gdb '%s': want [HOST:]PORT", spec), -1;
    int e = getaddrinfo(host, port, &hints, &ai);
    if (e)
        return run_msg("--gdb %s: %s", spec, gai_strerror(e)), -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0) {
        run_msg("--gdb %s: cannot listen: %s", spec, strerror(errno));
        freeaddrinfo(ai);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char h[INET6_ADDRSTRLEN] = "?", p[8] = "?";
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    getnameinfo((struct sockaddr *)&ss, sl, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(shown, cap, "%s:%s", h, p);
    return fd;
}

gdb_t *gdb_open(run_t *r)
{
    char shown[300];
    int fd = listen_on(r->o.gdb, shown, sizeof shown);
    if (fd < 0)
        return NULL;
    gdb_t *g = calloc(1, sizeof *g);
    if (g)
        g->reply = malloc(GDBP_MAX + 1), g->frame = malloc(GDB_FRAME_MAX);
    if (!g || !g->reply || !g->frame) {
        run_msg("out of memory");
        close(fd);
        if (g)
            free(g->reply), free(g->frame), free(g);
        return NULL;
    }
    g->lfd = fd;
    g->fd = -1;
    g->vf_host = -1;
    g->keep = r->o.gdb_keep;
    gdbp_init(&g->in);
    run_msg("gdb: listening on %s", shown);
    return g;
}

static bool send_all(gdb_t *g, const char *buf, size_t n)
{
    while (n && g->fd >= 0) {
        ssize_t k = send(g->fd, buf, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        buf += k;
        n -= (size_t)k;
    }
    return g->fd >= 0;
}

/* sends the reply built with gdb_put; false if the client is gone */
static bool flush_reply(gdb_t *g)
{
    g->flen = gdbp_frame(g->reply, g->rlen, g->frame, GDB_FRAME_MAX);
    g->rlen = 0;
    return send_all(g, g->frame, g->flen);
}

void gdb_put_bin(gdb_t *g, const void *data, size_t n)
{
    if (n > GDBP_MAX - g->rlen)
        n = GDBP_MAX - g->rlen; /* callers size their replies; never past the buffer */
    memcpy(g->reply + g->rlen, data, n);
    g->rlen += n;
}

void gdb_put(gdb_t *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g->reply + g->rlen, GDBP_MAX + 1 - g->rlen, fmt, ap);
    va_end(ap);
    if (n > 0)
        g->rlen += (size_t)n < GDBP_MAX - g->rlen ? (size_t)n : GDBP_MAX - g->rlen;
}

/* one byte from the client: the byte, GONE, or -2 when nothing arrived
 * within timeout_ms (-1: wait) */
static int read_byte(gdb_t *g, int timeout_ms)
{
    static uint8_t buf[4096];
    static size_t pos, len;
    if (pos < len)
        return buf[pos++];
    struct pollfd p = { .fd = g->fd, .events = POLLIN };
    int k = poll(&p, 1, timeout_ms);
    if (k == 0 || (k < 0 && errno == EINTR))
        return -2;
    ssize_t n = k < 0 ? -1 : recv(g->fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR)
        return -2;
    if (n <= 0)
        return GONE;
    pos = 1;
    len = (size_t)n;
    return buf[0];
}

/* the next packet into g->in (true), or false when the client is gone.
 * *intr is set for a ^C seen on the way. */
static bool next_packet(gdb_t *g, bool *intr)
{
    for (;;) {
        int b = read_byte(g, -1);
        if (b == GONE)
            return false;
        if (b < 0)
            continue;
        switch (gdbp_feed(&g->in, (uint8_t)b)) {
        case GDBP_PACKET:
            if (!g->noack && !send_all(g, "+", 1))
                return false;
            return true;
        case GDBP_BAD:
            if (!g->noack && !send_all(g, "-", 1))
                return false;
            break;
        case GDBP_NAK:
            if (g->flen && !send_all(g, g->frame, g->flen))
                return false;
            break;
        case GDBP_INTERRUPT:
            *intr = true;
            break;
        default:
            break;
        }
    }
}

/* ------------------------------------------------ breakpoints, watchpoints */

static void on_bp(cpu_t *c, uint64_t addr, unsigned size, void *user)
{
    gdb_t *g = user;
    (void)addr, (void)size;
    if (g->stepping_over) /* the one instruction being stepped off a breakpoint */
        return;
    g->hit_bp = true;
    cpu_stop(c);
}

static const unsigned wp_types[5] = { 0, 0, MMU_HOOK_MEM_WRITE, MMU_HOOK_MEM_READ,
                                      MMU_HOOK_MEM_READ | MMU_HOOK_MEM_WRITE };

/* an access touched a watched range: note which, stop after the instruction */
static bool on_wp(mmu_t *m, const mmu_mem_event *ev, void *user)
{
    gdb_t *g = user;
    (void)m;
    uint64_t last = ev->addr + (ev->size ? ev->size - 1 : 0);
    for (size_t i = 0; i < g->n_wp && g->hit_wp < 0; i++) {
        gdb_wp *w = &g->wp[i];
        if (!(wp_types[w->type] & ev->type) || last < w->addr || ev->addr > w->addr + w->len - 1)
            continue;
        g->hit_wp = (int)i;
        g->hit_addr = ev->addr > w->addr ? ev->addr : w->addr;
        cpu_stop((*g->rp)->c);
    }
    return false;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? 2 * *cap : 16;
    void *p = realloc(*arr, nc * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = nc;
    return true;
}

/* Z0/Z1 ADDR: a code hook on exactly that address */
static bool bp_insert(gdb_t *g, int kind, uint64_t addr)
{
    run_t *r = *g->rp;
    for (size_t i = 0; i < g->n_bp; i++)
        if (g->bp[i].addr == addr && g->bp[i].kind == kind)
            return true; /* gdb may insert twice */
    if (!grow((void **)&g->bp, &g->cap_bp, g->n_bp, sizeof *g->bp))
        return false;
    gdb_bp *b = &g->bp[g->n_bp];
    b->addr = addr;
    b->kind = kind;
    if (cpu_hook_code(r->c, on_bp, g, addr, addr, &b->id) != MMU_OK)
        return false;
    g->n_bp++;
    return true;
}

static bool bp_remove(gdb_t *g, int kind, uint64_t addr)
{
    for (size_t i = 0; i < g->n_bp; i++)
        if (g->bp[i].addr == addr && g->bp[i].kind == kind) {
            cpu_hook_del((*g->rp)->c, g->bp[i].id);
            g->bp[i] = g->bp[--g->n_bp];
            return true;
        }
    return false;
}

static bool wp_insert(gdb_t *g, int type, uint64_t addr, uint64_t len)
{
    run_t *r = *g->rp;
    if (!grow((void **)&g->wp, &g->cap_wp, g->n_wp, sizeof *g->wp))
        return false;
    gdb_wp *w = &g->wp[g->n_wp];
    *w = (gdb_wp){ .addr = addr, .len = len, .type = type };
    if (mmu_hook_add(r->m, wp_types[type], on_wp, g, addr, addr + len - 1, &w->id) != MMU_OK)
        return false;
    g->n_wp++;
    return true;
}

static bool wp_remove(gdb_t *g, int type, uint64_t addr, uint64_t len)
{
    for (size_t i = 0; i < g->n_wp; i++)
        if (g->wp[i].addr == addr && g->wp[i].len == len && g->wp[i].type == type) {
            mmu_hook_del((*g->rp)->m, g->wp[i].id);
            g->wp[i] = g->wp[--g->n_wp];
            return true;
        }
    return false;
}

/* execve gave the guest a new machine: put the hooks on it */
static void rehook(gdb_t *g)
{
    run_t *r = *g->rp;
    r->dbg_signals = true;
    for (size_t i = 0; i < g->n_bp; i++)
        if (cpu_hook_code(r->c, on_bp, g, g->bp[i].addr, g->bp[i].addr, &g->bp[i].id) != MMU_OK)
            run_msg("gdb: breakpoint at %#" PRIx64 " lost across execve", g->bp[i].addr);
    for (size_t i = 0; i < g->n_wp; i++)
        if (mmu_hook_add(r->m, wp_types[g->wp[i].type], on_wp, g, g->wp[i].addr,
                         g->wp[i].addr + g->wp[i].len - 1, &g->wp[i].id) != MMU_OK)
            run_msg("gdb: watchpoint at %#" PRIx64 " lost across execve", g->wp[i].addr);
    gdb_snap_free_all(g); /* snapshots of the old program mean nothing now */
}

static void unhook_all(gdb_t *g)
{
    run_t *r = *g->rp;
    for (size_t i = 0; i < g->n_bp; i++)
        cpu_hook_del(r->c, g->bp[i].id);
    for (size_t i = 0; i < g->n_wp; i++)
        mmu_hook_del(r->m, g->wp[i].id);
    g->n_bp = g->n_wp = 0;
}

/* --------------------------------------------------------- stop replies */

/* the kind of the breakpoint at addr: 0 (Z0), 1 (Z1 only), -1 none */
static int bp_kind_at(const gdb_t *g, uint64_t addr)
{
    int kind = -1;
    for (size_t i = 0; i < g->n_bp; i++)
        if (g->bp[i].addr == addr && (kind < 0 || g->bp[i].kind == 0))
            kind = g->bp[i].kind;
    return kind;
}

/* Linux signal numbers in gdb's own numbering (gdb/signals.def), which
 * the protocol uses: they agree only in places */
static const uint8_t to_gdb[65] = {
    0,  1,  2,  3,  4,  5,  6,  10, 8,  9,  30, 11, 31, 13, 14, 15, 143, 20, 19, 17, 18, 21, 22,
    16, 24, 25, 26, 27, 28, 23, 32, 12, 77, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57,
    58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 78,
};

static int sig_to_gdb(int sig)
{
    return sig > 0 && sig <= 64 ? to_gdb[sig] : 143; /* GDB_SIGNAL_UNKNOWN */
}

/* gdb's number back to Linux's; 0 for none or one Linux lacks */
static int sig_from_gdb(uint64_t n)
{
    for (int sig = 1; sig <= 64; sig++)
        if (n && to_gdb[sig] == n && n != 143)
            return sig;
    return 0;
}

static int pid(void)
{
    return (int)getpid();
}

/* the stop reply for the last stop (or the exit) */
static void put_stop(gdb_t *g)
{
    run_t *r = *g->rp;
    static const char *const wnames[5] = { "", "", "watch", "rwatch", "awatch" };
    if (r->exited) {
        if (r->killed_by)
            gdb_put(g, "X%02x;process:%x", sig_to_gdb(r->killed_by), pid());
        else
            gdb_put(g, "W%02x;process:%x", r->status & 0xff, pid());
        return;
    }
    gdb_put(g, "T%02xthread:p%x.%x;", sig_to_gdb(g->stop_sig), pid(), pid());
    if (g->hit_wp >= 0)
        gdb_put(g, "%s:%" PRIx64 ";", wnames[g->wp[g->hit_wp].type], g->hit_addr);
    else if (g->hit_bp)
        gdb_put(g, "%s:;", bp_kind_at(g, cpu_reg_read(r->c, CPU_RIP)) == 1 ? "hwbreak" : "swbreak");
}

/* ------------------------------------------------------------ run control */

/* the guest stopped by a fault or exception: gdb sees its signal */
static void stop_crash(gdb_t *g, cpu_exit why)
{
    run_t *r = *g->rp;
    cpu_fault f;
    g->crash = why;
    g->crash_pending = true;
    g->stop_sig = rpt_crash_signal(r, why);
    memset(&g->siginfo, 0, sizeof g->siginfo);
    g->siginfo.signo = g->stop_sig;
    g->siginfo.code = SI_KERNEL_;
    if (why == CPU_EXIT_MEM_FAULT) {
        cpu_last_fault(r->c, &f);
        bool unmapped = f.err == MMU_ERR_READ_UNMAPPED || f.err == MMU_ERR_WRITE_UNMAPPED ||
                        f.err == MMU_ERR_FETCH_UNMAPPED;
        g->siginfo.code = unmapped ? 1 : 2; /* SEGV_MAPERR, SEGV_ACCERR */
        g->siginfo.addr = f.addr;
    } else if (why == CPU_EXIT_INSN_INVALID) {
        g->siginfo.code = 2; /* ILL_ILLOPN */
        g->siginfo.addr = cpu_reg_read(r->c, CPU_RIP);
    }
}

/* resuming with a signal: a pending crash goes to the guest (its handler,
 * or its death); any other signal is sent to it */
static void pass_signal(gdb_t *g, int sig)
{
    run_t *r = *g->rp;
    guest_siginfo si = { .signo = sig, .code = SI_USER_ };
    if (r->dbg_held && sig == r->dbg_info.signo)
        si = r->dbg_info; /* passed on as it came */
    r->dbg_held = false;
    if (g->crash_pending && sig) {
        if (!run_deliver_crash(r, g->crash) && !r->exited)
            sig_terminate(r, sig);
    } else if (sig > 0 && sig <= 64) {
        r->dbg_signals = false; /* this one acts now */
        sig_send(r, &si, (int64_t)cpu_reg_read(r->c, CPU_RAX));
        r->dbg_signals = true;
    }
    g->crash_pending = false;
}

/* a signal sig.c held for us: the guest stops before it acts */
static bool stop_held(gdb_t *g)
{
    run_t *r = *g->rp;
    if (!r->dbg_held)
        return false;
    g->stop_sig = r->dbg_info.signo;
    g->siginfo = r->dbg_info;
    return true;
}

/* a ^C or a hang-up while the guest runs: 1 ^C, GONE, 0 nothing */
static int poll_client(gdb_t *g)
{
    for (;;) {
        int b = read_byte(g, 0);
        if (b == GONE)
            return GONE;
        if (b < 0)
            return 0;
        if (gdbp_feed(&g->in, (uint8_t)b) == GDBP_INTERRUPT)
            return 1;
    }
}

/* runs up to n instructions; true when the guest stopped for gdb (a hit,
 * a crash, its end), false when the budget ran out */
static bool run_some(gdb_t *g, uint64_t n)
{
    cpu_exit why = CPU_EXIT_STOPPED;
    run_t *old = *g->rp;
    g->hit_bp = false;
    g->hit_wp = -1;
    bool more = run_step(g->rp, n, &why);
    run_t *r = *g->rp;
    if (r != old)
        rehook(g);
    if (!more || r->exited || r->forked)
        return true;
    if (why == CPU_EXIT_STOPPED && (g->hit_bp || g->hit_wp >= 0))
        return g->stop_sig = SIGTRAP_, true;
    if (stop_held(g))
        return true;
    if (why != CPU_EXIT_COUNT && why != CPU_EXIT_STOPPED)
        return stop_crash(g, why), true;
    sig_poll(r); /* host signals meant for the guest */
    return r->exited || stop_held(g);
}

static bool at_breakpoint(gdb_t *g)
{
    return bp_kind_at(g, cpu_reg_read((*g->rp)->c, CPU_RIP)) >= 0;
}

/* one instruction, stepping off a breakpoint at RIP */
static bool step_one(gdb_t *g)
{
    g->stepping_over = true;
    bool stopped = run_some(g, 1);
    g->stepping_over = false;
    if (!stopped && !(*g->rp)->exited)
        g->stop_sig = SIGTRAP_;
    return true;
}

/* c, s, vCont: runs until a stop; false when the client hung up */
static bool resume(gdb_t *g, char action, int sig, uint64_t lo, uint64_t hi)
{
    pass_signal(g, sig);
    g->stop_sig = 0;
    if ((*g->rp)->exited)
        return true;
    if (action == 's')
        return step_one(g);
    if (action == 'r') { /* range stepping: while RIP stays in [lo, hi), no breakpoint there */
        do
            step_one(g);
        while (g->stop_sig == SIGTRAP_ && g->hit_wp < 0 && !(*g->rp)->exited &&
               cpu_reg_read((*g->rp)->c, CPU_RIP) - lo < hi - lo && !(g->hit_bp = at_breakpoint(g)));
        return true;
    }
    if (at_breakpoint(g)) {
        step_one(g);
        if (g->hit_wp >= 0 || g->stop_sig != SIGTRAP_ || (*g->rp)->exited)
            return true;
        g->stop_sig = 0;
    }
    while (!run_some(g, GDB_SLICE)) {
        int c = poll_client(g);
        if (c == GONE)
            return false;
        if (c == 1)
            return g->stop_sig = SIGINT_, true;
    }
    return true;
}

/* ---------------------------------------------------------------- packets */

enum { REPLY, RESUMED, KILL, DETACH, SENT }; /* what a packet asks of the session */

static void put_error(gdb_t *g, int e)
{
    g->rlen = 0;
    gdb_put(g, "E%02x", e & 0xff);
}

/* m ADDR,LEN: host reads (no perms, no hooks); a hole ends the reply */
static void cmd_read_mem(gdb_t *g, const char *a)
{
    uint64_t addr, len;
    uint8_t buf[256];
    char hex[2 * sizeof buf + 1];
    if (!gdbp_addr_len(&a, &addr, &len, (GDBP_MAX - 8) / 2) || *a)
        return put_error(g, 1);
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof buf ? len - done : sizeof buf;
        if (mmu_read((*g->rp)->m, addr + done, buf, n) != MMU_OK) {
            for (n = 0; n < len - done && n < sizeof buf; n++) /* the readable prefix */
                if (mmu_read((*g->rp)->m, addr + done + n, buf + n, 1) != MMU_OK)
                    break;
            gdbp_hex_encode(buf, n, hex);
            gdb_put(g, "%s", hex);
            done += n;
            break;
        }
        gdbp_hex_encode(buf, n, hex);
        gdb_put(g, "%s", hex);
        done += n;
    }
    if (done == 0)
        put_error(g, 14); /* EFAULT */
}

/* M ADDR,LEN:HEX and X ADDR,LEN:BIN: host writes (code caches follow) */
static void cmd_write_mem(gdb_t *g, char *a, size_t plen, bool binary)
{
    const char *p = a + 1, *start = g->in.payload;
    uint64_t addr, len;
    if (!gdbp_addr_len(&p, &addr, &len, GDBP_MAX) || *p != ':')
        return put_error(g, 1);
    p++;
    size_t avail = plen - (size_t)(p - start);
    uint8_t *data = (uint8_t *)(uintptr_t)p; /* decoded in place: never longer than the text */
    if (binary)
        avail = gdbp_unescape((char *)data, avail);
    else if (avail != 2 * len || !gdbp_hex_decode(p, data, len))
        return put_error(g, 1);
    if (binary && avail != len)
        return put_error(g, 1);
    if (len && mmu_write((*g->rp)->m, addr, data, len) != MMU_OK)
        return put_error(g, 14);
    gdb_put(g, "OK");
}

static void cmd_read_regs(gdb_t *g)
{
    uint8_t v[16];
    char hex[33];
    for (int n = 0; n < GDB_NREGS; n++) {
        gdb_reg_get(*g->rp, n, v);
        gdbp_hex_encode(v, (size_t)gdb_reg_size(n), hex);
        gdb_put(g, "%s", hex);
    }
}

static void cmd_write_regs(gdb_t *g, const char *a)
{
    uint8_t v[16];
    size_t have = strlen(a), off = 0;
    for (int n = 0; n < GDB_NREGS && off + 2 * (size_t)gdb_reg_size(n) <= have; n++) {
        size_t sz = (size_t)gdb_reg_size(n);
        if (!gdbp_hex_decode(a + off, v, sz))
            return put_error(g, 1);
        gdb_reg_set(*g->rp, n, v);
        off += 2 * sz;
    }
    gdb_put(g, "OK");
}

/* p N / P N=V */
static void cmd_reg(gdb_t *g, const char *a, bool write)
{
    uint64_t n;
    uint8_t v[16];
    char hex[33];
    if (!gdbp_hex_u64(&a, &n) || n >= GDB_NREGS)
        return put_error(g, 1);
    size_t sz = (size_t)gdb_reg_size((int)n);
    if (!write) {
        if (*a)
            return put_error(g, 1);
        gdb_reg_get(*g->rp, (int)n, v);
        gdbp_hex_encode(v, sz, hex);
        return gdb_put(g, "%s", hex);
    }
    if (*a != '=' || strlen(a + 1) != 2 * sz || !gdbp_hex_decode(a + 1, v, sz))
        return put_error(g, 1);
    gdb_reg_set(*g->rp, (int)n, v);
    gdb_put(g, "OK");
}

/* Z/z TYPE,ADDR,KIND */
static void cmd_point(gdb_t *g, const char *a, bool insert)
{
    uint64_t addr, len;
    int type = a[0] - '0';
    if (type < 0 || type > 4 || a[1] != ',')
        return; /* unsupported: empty reply */
    a += 2;
    if (!gdbp_addr_len(&a, &addr, &len, UINT64_MAX) || (*a && *a != ';'))
        return put_error(g, 1);
    bool ok;
    if (type < 2)
        ok = insert ? bp_insert(g, type, addr) : bp_remove(g, type, addr);
    else if (len == 0)
        ok = false;
    else
        ok = insert ? wp_insert(g, type, addr, len) : wp_remove(g, type, addr, len);
    if (!ok)
        return put_error(g, insert ? 12 : 2);
    gdb_put(g, "OK");
}

/* qXfer:OBJECT:read:ANNEX:OFF,LEN over a buffer */
static void xfer_reply(gdb_t *g, const char *data, size_t size, const char *range)
{
    uint64_t off, len;
    if (!gdbp_addr_len(&range, &off, &len, UINT64_MAX) || *range)
        return put_error(g, 1);
    if (len > GDBP_MAX / 2 - 1)
        len = GDBP_MAX / 2 - 1; /* escaping may double it */
    if (off >= size)
        return gdb_put(g, "l");
    size_t n = size - off < len ? size - off : len;
    gdb_put(g, "%c", off + n < size ? 'm' : 'l');
    gdb_put_bin(g, data + off, n);
}

static void cmd_xfer(gdb_t *g, const char *a)
{
    run_t *r = *g->rp;
    const char *range = strrchr(a, ':');
    if (!range)
        return put_error(g, 1);
    range++;
    if (!strncmp(a, "features:read:target.xml:", 25))
        return xfer_reply(g, gdb_target_xml(), strlen(gdb_target_xml()), range);
    if (!strncmp(a, "exec-file:read:", 15))
        return xfer_reply(g, r->exe, strlen(r->exe), range);
    if (!strncmp(a, "siginfo:read::", 14))
        return xfer_reply(g, (const char *)&g->siginfo, sizeof g->siginfo, range);
    if (!strncmp(a, "memory-map:read::", 17)) {
        size_t n;
        char *map = gdb_memory_map(r, &n);
        if (!map)
            return put_error(g, 12);
        xfer_reply(g, map, n, range);
        return free(map);
    }
    if (!strncmp(a, "features:read:", 14))
        return put_error(g, 0); /* an annex we do not have */
}

/* ------------------------------------------------------------------ vFile */

static void vf_close(gdb_t *g)
{
    if (g->vf_host >= 0)
        close(g->vf_host);
    free(g->vf_buf);
    g->vf_buf = NULL;
    g->vf_host = -1;
    g->vf_open = false;
}

/* is path /proc/PID/maps (PID ours) or /proc/self/maps? */
static bool is_maps(const char *path)
{
    char mine[64];
    snprintf(mine, sizeof mine, "/proc/%d/maps", pid());
    return !strcmp(path, mine) || !strcmp(path, "/proc/self/maps");
}

/* vFile:open:HEXPATH,FLAGS,MODE: the guest's maps rendered, other files
 * read-only from the host; one file at a time */
static void vf_open(gdb_t *g, const char *a)
{
    char path[4096];
    const char *comma = strchr(a, ',');
    size_t hl = comma ? (size_t)(comma - a) : 0;
    if (!comma || hl % 2 || hl / 2 >= sizeof path || !gdbp_hex_decode(a, (uint8_t *)path, hl / 2))
        return gdb_put(g, "F-1,16"); /* EINVAL (gdb's numbering: 22 is 0x16) */
    path[hl / 2] = '\0';
    vf_close(g);
    if (is_maps(path)) {
        g->vf_buf = gdb_proc_maps(*g->rp, &g->vf_len);
        if (!g->vf_buf)
            return gdb_put(g, "F-1,c");
    } else if ((g->vf_host = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        return gdb_put(g, "F-1,%x", errno == ENOENT ? 2 : errno == EACCES ? 13 : 5);
    }
    g->vf_open = true;
    gdb_put(g, "F0");
}

static void vf_pread(gdb_t *g, const char *a)
{
    uint64_t fd, len, off;
    char buf[4096];
    if (!gdbp_hex_u64(&a, &fd) || *a++ != ',' || !gdbp_hex_u64(&a, &len) || *a++ != ',' ||
        !gdbp_hex_u64(&a, &off) || fd != 0 || !g->vf_open)
        return gdb_put(g, "F-1,9"); /* EBADF */
    if (len > sizeof buf)
        len = sizeof buf;
    ssize_t n;
    if (g->vf_buf) {
        n = off >= g->vf_len ? 0 : (ssize_t)(g->vf_len - off < len ? g->vf_len - off : len);
        if (n)
            memcpy(buf, g->vf_buf + off, (size_t)n);
    } else if ((n = pread(g->vf_host, buf, len, (off_t)off)) < 0) {
        return gdb_put(g, "F-1,5");
    }
    gdb_put(g, "F%zx;", (size_t)n);
    gdb_put_bin(g, buf, (size_t)n);
}

static void cmd_vfile(gdb_t *g, const char *a)
{
    if (!strncmp(a, "setfs:", 6))
        return gdb_put(g, "F0");
    if (!strncmp(a, "open:", 5))
        return vf_open(g, a + 5);
    if (!strncmp(a, "pread:", 6))
        return vf_pread(g, a + 6);
    if (!strncmp(a, "close:", 6)) {
        bool was = g->vf_open;
        vf_close(g);
        return gdb_put(g, was ? "F0" : "F-1,9");
    }
    gdb_put(g, "F-1,58"); /* ENOSYS (88): fstat, unlink, readlink... */
}

/* ------------------------------------------------------- the dispatcher */

/* vCont;ACTION[:TID][;ACTION...]: one thread, so the first action counts */
static int cmd_vcont(gdb_t *g, const char *a)
{
    if (!strcmp(a, "?"))
        return gdb_put(g, "vCont;c;C;s;S;r"), REPLY;
    if (*a++ != ';')
        return put_error(g, 1), REPLY;
    char act = *a++;
    uint64_t sig = 0, lo = 0, hi = 0;
    if ((act == 'C' || act == 'S') && !gdbp_hex_u64(&a, &sig))
        return put_error(g, 1), REPLY;
    if (act == 'r' && (!gdbp_hex_u64(&a, &lo) || *a++ != ',' || !gdbp_hex_u64(&a, &hi)))
        return put_error(g, 1), REPLY;
    if (act == 't')
        return gdb_put(g, "OK"), REPLY; /* stop a thread that is stopped */
    if (!strchr("cCsSr", act) || !act)
        return put_error(g, 1), REPLY;
    char base = act == 'C' ? 'c' : act == 'S' ? 's' : act;
    return resume(g, base, sig_from_gdb(sig), lo, hi) ? RESUMED : KILL;
}

static void cmd_supported(gdb_t *g)
{
    gdb_put(g, "PacketSize=%x;QStartNoAckMode+;qXfer:features:read+;qXfer:memory-map:read+;"
               "qXfer:exec-file:read+;qXfer:siginfo:read+;swbreak+;hwbreak+;vContSupported+;"
               "multiprocess+",
            GDBP_MAX);
}

static void cmd_rcmd(gdb_t *g, const char *hex)
{
    size_t n = strlen(hex) / 2;
    char *cmd = malloc(n + 1);
    if (!cmd || strlen(hex) % 2 || !gdbp_hex_decode(hex, (uint8_t *)cmd, n)) {
        free(cmd);
        return put_error(g, 1);
    }
    cmd[n] = '\0';
    gdb_monitor(g, cmd);
    free(cmd);
}

static int cmd_query(gdb_t *g, const char *a)
{
    run_t *r = *g->rp;
    if (!strncmp(a, "qSupported", 10))
        cmd_supported(g);
    else if (!strcmp(a, "qAttached") || !strncmp(a, "qAttached:", 10))
        gdb_put(g, "0"); /* the runner made the process: gdb's quit kills it */
    else if (!strcmp(a, "qC"))
        gdb_put(g, "QCp%x.%x", pid(), pid());
    else if (!strcmp(a, "qfThreadInfo"))
        gdb_put(g, "mp%x.%x", pid(), pid());
    else if (!strcmp(a, "qsThreadInfo"))
        gdb_put(g, "l");
    else if (!strncmp(a, "qThreadExtraInfo,", 17))
        gdb_put(g, "%s", "736f66746d6d75"); /* "softmmu" */
    else if (!strcmp(a, "qOffsets"))
        gdb_put(g, "Text=%" PRIx64 ";Data=%" PRIx64 ";Bss=%" PRIx64, r->bias, r->bias, r->bias);
    else if (!strncmp(a, "qXfer:", 6))
        cmd_xfer(g, a + 6);
    else if (!strncmp(a, "qRcmd,", 6))
        cmd_rcmd(g, a + 6);
    else if (!strcmp(a, "QStartNoAckMode")) {
        gdb_put(g, "OK");
        return flush_reply(g), g->noack = true, SENT; /* the OK is still acked */
    }
    return REPLY;
}

/* one packet; the reply is left in g->reply unless RESUMED sent it */
static int dispatch(gdb_t *g)
{
    char *a = g->in.payload;
    uint64_t sig;
    const char *s;
    switch (a[0]) {
    case '?': put_stop(g); return REPLY;
    case 'g': cmd_read_regs(g); return REPLY;
    case 'G': cmd_write_regs(g, a + 1); return REPLY;
    case 'p': cmd_reg(g, a + 1, false); return REPLY;
    case 'P': cmd_reg(g, a + 1, true); return REPLY;
    case 'm': cmd_read_mem(g, a + 1); return REPLY;
    case 'M': cmd_write_mem(g, a, g->in.len, false); return REPLY;
    case 'X': cmd_write_mem(g, a, g->in.len, true); return REPLY;
    case 'Z': cmd_point(g, a + 1, true); return REPLY;
    case 'z': cmd_point(g, a + 1, false); return REPLY;
    case 'H': case 'T': gdb_put(g, "OK"); return REPLY;
    case 'c': case 's':
        return resume(g, a[0], 0, 0, 0) ? RESUMED : KILL; /* (an address argument is ignored) */
    case 'C': case 'S':
        s = a + 1;
        sig = 0;
        (void)gdbp_hex_u64(&s, &sig);
        return resume(g, a[0] == 'C' ? 'c' : 's', sig_from_gdb(sig), 0, 0) ? RESUMED : KILL;
    case 'k': return KILL;
    case 'D': gdb_put(g, "OK"); return DETACH;
    case 'q': case 'Q': return cmd_query(g, a);
    case 'v':
        if (!strncmp(a, "vCont", 5))
            return cmd_vcont(g, a + 5);
        if (!strncmp(a, "vKill", 5))
            return gdb_put(g, "OK"), KILL;
        if (!strncmp(a, "vFile:", 6))
            cmd_vfile(g, a + 6);
        return REPLY; /* vMustReplyEmpty and the rest: empty */
    default: return REPLY; /* unknown: the empty reply */
    }
}

/* ---------------------------------------------------------------- session */

static bool wait_client(gdb_t *g)
{
    int one = 1;
    do
        g->fd = accept4(g->lfd, NULL, NULL, SOCK_CLOEXEC);
    while (g->fd < 0 && errno == EINTR);
    if (g->fd < 0)
        return run_msg("gdb: accept: %s", strerror(errno)), false;
    setsockopt(g->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
}

static void hang_up(gdb_t *g)
{
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
}

/* the guest runs on without the debugger: no hooks, signals act again (one
 * held goes to the guest, as gdb's detach passes it) */
static void gdb_release(gdb_t *g)
{
    run_t *r = *g->rp;
    unhook_all(g);
    hang_up(g);
    r->dbg_signals = false;
    if (r->dbg_held) {
        r->dbg_held = false;
        sig_send(r, &r->dbg_info, (int64_t)cpu_reg_read(r->c, CPU_RAX));
    }
}

/* the guest ends now, as killed by SIGKILL */
static bool killed(gdb_t *g, int *status)
{
    run_t *r = *g->rp;
    if (!r->exited)
        sig_terminate(r, SIGKILL_);
    *status = r->status;
    return true;
}

bool gdb_serve(gdb_t *g, run_t **rp, int *status)
{
    g->rp = rp;
    g->hit_wp = -1;
    (*rp)->dbg_signals = true;
    g->stop_sig = SIGTRAP_;
    if (!wait_client(g))
        return killed(g, status);
    for (;;) {
        bool intr = false;
        if (!next_packet(g, &intr))
            break; /* hung up */
        int what = dispatch(g);
        if ((*rp)->forked)
            return gdb_release(g), false; /* a forked child runs on without the stub */
        if (what == SENT)
            continue;
        if (what == RESUMED)
            put_stop(g);
        if (what == KILL) {
            if (g->rlen)
                flush_reply(g); /* vKill's OK; k has no reply */
            break;
        }
        if (!flush_reply(g) && g->fd < 0)
            break;
        if (what == DETACH)
            return gdb_release(g), false;
        if ((*rp)->exited && what == RESUMED)
            break; /* W or X sent: the session is over */
    }
    hang_up(g);
    if (g->keep && !(*rp)->exited)
        return gdb_release(g), false; /* --gdb-keep: the guest runs on */
    return killed(g, status);
}

void gdb_close(gdb_t *g)
{
    if (!g)
        return;
    if (g->rp)
        unhook_all(g), (*g->rp)->dbg_signals = (*g->rp)->dbg_held = false;
    hang_up(g);
    if (g->lfd >= 0)
        close(g->lfd);
    vf_close(g);
    gdb_snap_free_all(g);
    free(g->bp);
    free(g->wp);
    free(g->reply);
    free(g->frame);
    free(g);
}

void gdb_output(gdb_t *g, const char *s, size_t n)
{
    char hex[2 * 2048 + 1];
    while (n) {
        size_t k = n < 2048 ? n : 2048;
        g->rlen = 0;
        gdb_put(g, "O");
        gdbp_hex_encode((const uint8_t *)s, k, hex);
        gdb_put(g, "%s", hex);
        if (!flush_reply(g))
            break;
        s += k;
        n -= k;
    }
    g->rlen = 0;
    gdb_put(g, "OK");
}
