/*
 * test_gdb.c - softmmu-run --gdb against Debian's gdb in batch mode (one
 * test per behaviour, each asserting gdb's output) and against a raw socket
 * client for what gdb never sends: bad checksums, oversized and malformed
 * packets, wrapping addresses, a client that hangs up mid-packet.
 * Loopback only, port 0 (the runner prints the port it got); every wait is
 * bounded so a hang fails the test instead of CI.
 */
#include "run_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TARGET EXAMPLES "/gdb_target"

static char dir[64];
static pid_t runner = -1;
static int port;
static char gdb_out[1 << 16], run_err[1 << 16];

static void setup(void)
{
    scratch_make(dir, "softmmu-gdb-test");
}

static void teardown(void)
{
    if (runner > 0)
        kill(runner, SIGKILL), waitpid(runner, NULL, 0);
    runner = -1;
    scratch_remove(dir);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t spawn(const char *const *argv, const char *out, const char *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (strcmp(out, err) == 0)
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
    else
        posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* exit status (or -signal) of pid within secs; fails the test on a hang */
static int wait_for(pid_t pid, double secs)
{
    double end = now() + secs;
    int st;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
        if (now() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            cr_assert_fail("process %d did not end within %.0f s", (int)pid, secs);
        }
        usleep(10000);
    }
}

/* starts the runner with --gdb 127.0.0.1:0 and extra args; reads the port */
static void start_runner(const char *const *extra)
{
    const char *argv[32] = { RUNNER, "--gdb", "127.0.0.1:0" };
    int n = 3;
    for (; *extra; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    char out[128], err[128];
    snprintf(out, sizeof out, "%s/guest.out", dir);
    snprintf(err, sizeof err, "%s/runner.err", dir);
    runner = spawn(argv, out, err);
    for (double end = now() + 20; now() < end; usleep(10000)) {
        slurp(err, run_err, sizeof run_err);
        const char *p = strstr(run_err, "listening on 127.0.0.1:");
        if (p && strchr(p, '\n')) {
            port = atoi(p + strlen("listening on 127.0.0.1:"));
            cr_assert_gt(port, 0);
            return;
        }
    }
    cr_assert_fail("the runner did not print its port: %s", run_err);
}

#define START(...) start_runner((const char *const[]){ __VA_ARGS__, NULL })

/* the runner's exit status once the session ended */
static int runner_status(void)
{
    int st = wait_for(runner, 30);
    runner = -1;
    char err[128];
    snprintf(err, sizeof err, "%s/runner.err", dir);
    slurp(err, run_err, sizeof run_err);
    cr_assert_null(strstr(run_err, "Sanitizer"), "%s", run_err);
    cr_assert_null(strstr(run_err, "runtime error"), "%s", run_err);
    return st;
}

static void guest_out(char *buf, size_t cap)
{
    char out[128];
    snprintf(out, sizeof out, "%s/guest.out", dir);
    slurp(out, buf, cap);
}

/* gdb -batch against the runner, the commands given one per -ex; its
 * stdout and stderr together into gdb_out */
static void gdb_run(const char *const *cmds)
{
    char target[64], out[128];
    const char *argv[96] = { "/usr/bin/timeout", "60", GDB, "-nx", "-batch", "-ex", "set confirm off",
                             "-ex", "set pagination off", "-ex", target };
    int n = 11;
    snprintf(target, sizeof target, "target remote 127.0.0.1:%d", port);
    for (; *cmds && n < 90; cmds++) {
        argv[n++] = "-ex";
        argv[n++] = *cmds;
    }
    argv[n++] = TARGET;
    argv[n] = NULL;
    snprintf(out, sizeof out, "%s/gdb.out", dir);
    pid_t pid = spawn(argv, out, out);
    int st = wait_for(pid, 90);
    slurp(out, gdb_out, sizeof gdb_out);
    cr_assert_eq(st, 0, "gdb exited %d:\n%s", st, gdb_out);
}

#define GDB_RUN(...) gdb_run((const char *const[]){ __VA_ARGS__, NULL })
#define HAS(s) cr_assert(strstr(gdb_out, s), "gdb output lacks \"%s\":\n%s", s, gdb_out)

#ifdef GDB

TestSuite(gdb, .init = setup, .fini = teardown, .timeout = 120);

Test(gdb, break_on_a_function_continue_and_backtrace)
{
    START(TARGET);
    GDB_RUN("break bump", "continue", "bt", "kill");
    HAS("Breakpoint 1, bump (by=10)");
    HAS("#1  0x");
    HAS("in chain (depth=0)");
    HAS("in chain (depth=2)");
    HAS("in main (argc=1");
    cr_assert_eq(runner_status(), 137); /* gdb's kill */
}

Test(gdb, info_registers_rip_at_a_breakpoint)
{
    START(TARGET);
    GDB_RUN("break peek", "continue", "info registers rip", "p/x $eflags", "p $fs_base", "kill");
    HAS("rip            0x");
    HAS("<peek+4>");
    HAS("$1 = 0x");
    HAS("$2 = 0");
    runner_status();
}

Test(gdb, examine_the_stack)
{
    START(TARGET);
    GDB_RUN("break bump", "continue", "x/8gx $rsp", "p/x *(long *)($rbp + 8)", "kill");
    HAS("0x7fffffff");
    HAS("0x00000000004");
    /* the return address on the stack is the call in chain */
    HAS("$1 = 0x4");
    runner_status();
}

Test(gdb, print_a_global)
{
    START(TARGET);
    GDB_RUN("p counter", "p watched_read", "set var counter = 100", "p counter", "continue");
    HAS("$1 = 5");
    HAS("$2 = 77");
    HAS("$3 = 100");
    HAS("exited with code 0137"); /* 100 + 10 - 15 = 95, which gdb prints in octal */
    runner_status();
}

Test(gdb, watch_stops_after_the_write_with_old_and_new_values)
{
    START(TARGET);
    GDB_RUN("watch counter", "continue", "p $pc", "info symbol $pc", "kill");
    HAS("Hardware watchpoint 1: counter");
    HAS("Old value = 5");
    HAS("New value = 15");
    HAS("in section .text"); /* a pc inside bump, after the store */
    HAS("bump + ");
    runner_status();
}

Test(gdb, rwatch_stops_at_the_read)
{
    START(TARGET);
    GDB_RUN("rwatch watched_read", "continue", "info symbol $pc", "kill");
    HAS("Hardware read watchpoint 1: watched_read");
    HAS("Value = 77");
    HAS("peek + ");
    runner_status();
}

Test(gdb, stepi_matches_trace)
{
    /* the first 12 instructions as --trace prints them */
    char trace[1 << 16], line[128];
    char err[128], out[128];
    snprintf(err, sizeof err, "%s/trace.err", dir);
    snprintf(out, sizeof out, "%s/trace.out", dir);
    wait_for(spawn((const char *const[]){ RUNNER, "--trace", "--count", "12", TARGET, NULL }, out, err), 30);
    slurp(err, trace, sizeof trace);
    START(TARGET);
    GDB_RUN("stepi 11", "p/x $pc", "kill");
    /* the 12th trace line's address is where 11 steps from the entry land */
    const char *p = trace;
    for (int i = 0; i < 11 && p; i++)
        p = strchr(p, '\n'), p = p ? p + 1 : NULL;
    cr_assert_not_null(p);
    unsigned long addr = strtoul(strstr(p, "0x") ? strstr(p, "0x") : p, NULL, 16);
    cr_assert_gt(addr, 0x400000, "trace:\n%s", trace);
    snprintf(line, sizeof line, "$1 = %#lx", addr);
    HAS(line);
    runner_status();
}

Test(gdb, next_steps_lines_and_stops_at_a_breakpoint_inside)
{
    START(TARGET);
    GDB_RUN("break main", "continue", "break bump", "next", "bt 1", "kill");
    HAS("Breakpoint 1, main (argc=1");
    HAS("Breakpoint 2, bump (by=10)");
    HAS("#0  bump (by=10)");
    runner_status();
}

Test(gdb, info_proc_mappings)
{
    START(TARGET);
    GDB_RUN("info proc mappings", "kill");
    HAS("Start Addr");
    HAS("r-xp");
    HAS("examples/gdb_target");
    HAS("[stack]");
    runner_status();
}

Test(gdb, target_description_has_sse_and_x87)
{
    START(TARGET);
    GDB_RUN("p $xmm0", "p $st0", "p/x $mxcsr", "p/x $fctrl", "p $cs", "kill");
    HAS("v2_int64 = {0, 0}");
    HAS("$2 = 0");
    HAS("$3 = 0x1f80");
    HAS("$4 = 0x37f");
    HAS("$5 = 51");
    runner_status();
}

Test(gdb, monitor_help_lists_every_command)
{
    START(TARGET);
    GDB_RUN("monitor help", "monitor nosuch", "kill");
    HAS("mapinfo");
    HAS("translate ADDR [r|w|x]");
    HAS("snapshot save NAME");
    HAS("hooks");
    HAS("unknown monitor command 'nosuch'");
    runner_status();
}

Test(gdb, monitor_mapinfo)
{
    START(TARGET);
    GDB_RUN("monitor mapinfo", "kill");
    HAS("Start");
    HAS("r-x     gdb_target");
    HAS("[stack]");
    runner_status();
}

Test(gdb, monitor_translate)
{
    START(TARGET);
    GDB_RUN("eval \"monitor translate %p w\", &counter", "monitor translate 0x1234",
            "eval \"monitor translate %p x\", $pc",
            "monitor translate nonsense", "kill");
    HAS("write of 0x4");
    HAS("tlb:   slot");
    HAS("table: top slot");
    HAS("=> host 0x");
    HAS("read of 0x1234");
    HAS("=> fault: read from unmapped memory (MMU_ERR_READ_UNMAPPED)");
    HAS("fetch of 0x401");
    HAS("usage: monitor translate ADDR [r|w|x]");
    runner_status();
}

Test(gdb, monitor_tlb_and_stats)
{
    START(TARGET);
    GDB_RUN("break peek", "continue", "monitor tlb", "monitor stats", "kill");
    HAS(" entries in use (");
    HAS(" per 1000 instructions), ");
    HAS("slot ");
    HAS("cpu: ");
    HAS(" instructions, ");
    HAS("mmu: ");
    HAS(" page walks, ");
    runner_status();
}

Test(gdb, monitor_hooks_shows_watchpoints)
{
    START(TARGET);
    GDB_RUN("set breakpoint always-inserted on", "watch counter", "rwatch watched_read", "break peek",
            "monitor hooks", "kill");
    HAS("(gdb watch)");
    HAS("(gdb rwatch)");
    HAS("gdb breakpoint");
    runner_status();
}

Test(gdb, monitor_snapshot_restores_memory_and_registers)
{
    START(TARGET);
    GDB_RUN("break bump", "continue", "monitor snapshot save before", "monitor snapshot list", "finish",
            "p counter", "monitor snapshot restore before", "p counter", "p $pc == bump + 8 || $pc > bump",
            "monitor snapshot restore nope", "delete", "continue");
    HAS("snapshot 'before' saved at rip 0x");
    HAS("before               rip 0x");
    HAS("$1 = 15");
    HAS("snapshot 'before' restored");
    HAS("$2 = 5");
    HAS("no snapshot 'nope'");
    HAS("exited normally"); /* counter ends at 15 again: status 0 */
    runner_status();
}

Test(gdb, sigsegv_stops_at_the_faulting_store)
{
    START(TARGET, "crash");
    GDB_RUN("continue", "p $_siginfo.si_signo", "p $_siginfo._sifields._sigfault.si_addr", "x/i $pc", "kill");
    HAS("Program received signal SIGSEGV");
    HAS("$1 = 11");
    HAS("(void *) 0x1234");
    HAS("=> 0x4");
    HAS("mov");
    runner_status();
}

Test(gdb, sigill_stops_at_the_invalid_instruction)
{
    START(TARGET, "ill");
    GDB_RUN("continue", "x/i $pc", "p $_siginfo.si_signo", "kill");
    HAS("Program received signal SIGILL");
    HAS("ud2");
    HAS("$1 = 4");
    runner_status();
}

Test(gdb, signal_0_passes_over_a_fault)
{
    START(TARGET, "crash");
    /* x/2i leaves $_ at the instruction after the faulting store: go on there without the signal */
    GDB_RUN("continue", "x/2i $pc", "set var $pc = $_", "signal 0");
    HAS("Program received signal SIGSEGV");
    HAS("exited normally");
    cr_assert_eq(runner_status(), 0);
    char out[256];
    guest_out(out, sizeof out);
    cr_assert_str_eq(out, "counter 15 value 80 ratio 3\n");
}

Test(gdb, passing_sigsegv_kills_the_guest)
{
    START(TARGET, "crash");
    GDB_RUN("continue", "signal SIGSEGV");
    HAS("Program received signal SIGSEGV");
    HAS("Program terminated with signal SIGSEGV");
    cr_assert_eq(runner_status(), 128 + 11);
}

Test(gdb, a_guest_signal_stops_before_delivery_and_continue_passes_it)
{
    START(TARGET, "usr1");
    GDB_RUN("continue", "p $_siginfo.si_signo", "p counter", "continue");
    HAS("Program received signal SIGUSR1");
    HAS("$1 = 10");
    HAS("$2 = 15"); /* the handler has not run yet */
    HAS("exited with code 0144"); /* 115 + 100 - 15 = 100: the handler ran */
    cr_assert_eq(runner_status(), 100);
}

Test(gdb, handle_nopass_drops_a_guest_signal)
{
    START(TARGET, "usr1");
    GDB_RUN("handle SIGUSR1 nostop noprint nopass", "continue");
    HAS("exited normally"); /* the handler never ran: 15 - 15 */
    cr_assert_eq(runner_status(), 0);
}

Test(gdb, kill_ends_the_runner)
{
    START(TARGET);
    GDB_RUN("break bump", "continue", "kill");
    HAS("[Inferior 1 (process");
    HAS("killed]");
    cr_assert_eq(runner_status(), 137);
    char out[256];
    guest_out(out, sizeof out);
    cr_assert_str_eq(out, ""); /* it never got to print */
}

Test(gdb, exit_status_reaches_gdb)
{
    START(TARGET);
    GDB_RUN("set var counter = 20", "continue");
    HAS("exited with code 017"); /* 20 + 10 - 15 = 15, in octal */
    cr_assert_eq(runner_status(), 15);
}

#endif /* GDB */

/* ------------------------------------------------- a raw protocol client */

static int wire = -1;

static void wire_connect(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    wire = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(wire, 0);
    cr_assert_eq(connect(wire, (struct sockaddr *)&sa, sizeof sa), 0);
}

static void wire_send(const char *s, size_t n)
{
    cr_assert_eq(send(wire, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* sends $payload#cs (a correct checksum unless bad) */
static void wire_packet(const char *payload, bool bad)
{
    static char buf[1 << 17];
    unsigned sum = 0;
    for (const char *p = payload; *p; p++)
        sum += (unsigned char)*p;
    int n = snprintf(buf, sizeof buf, "$%s#%02x", payload, (sum + bad) & 0xff);
    wire_send(buf, (size_t)n);
}

/* the next reply: skips acks, returns the payload (NULL on '-'); bounded */
static const char *wire_reply(void)
{
    static char buf[1 << 17];
    size_t n = 0;
    bool in = false;
    double end = now() + 20;
    while (now() < end && n < sizeof buf - 1) {
        struct pollfd p = { .fd = wire, .events = POLLIN };
        if (poll(&p, 1, 100) <= 0)
            continue;
        char c;
        if (recv(wire, &c, 1, 0) != 1)
            cr_assert_fail("the stub hung up");
        if (!in && c == '-')
            return NULL;
        if (!in && c == '$')
            in = true, n = 0;
        else if (in && c == '#') {
            char cs[2];
            cr_assert_eq(recv(wire, cs, 2, MSG_WAITALL), 2);
            buf[n] = '\0';
            return buf;
        } else if (in)
            buf[n++] = c;
    }
    cr_assert_fail("no reply within 20 s");
    return NULL;
}

static const char *ask(const char *payload)
{
    wire_packet(payload, false);
    return wire_reply();
}

TestSuite(gdbwire, .init = setup, .fini = teardown, .timeout = 120);

Test(gdbwire, bad_checksum_is_nakked_and_the_stub_goes_on)
{
    START(TARGET);
    wire_connect();
    wire_packet("g", true);
    cr_assert_null(wire_reply());
    cr_assert_str_eq(ask("qAttached"), "0");
    wire_send("$g#zz", 5); /* not even hex */
    cr_assert_null(wire_reply());
    cr_assert_eq(strncmp(ask("?"), "T05thread:p", 11), 0);
    close(wire);
    cr_assert_eq(runner_status(), 137); /* hung up: the guest is killed */
}

Test(gdbwire, unknown_packets_get_the_empty_reply)
{
    START(TARGET);
    wire_connect();
    cr_assert_str_eq(ask("vMustReplyEmpty"), "");
    cr_assert_str_eq(ask("Qfrobnicate:1"), "");
    cr_assert_str_eq(ask("j"), "");
    cr_assert_str_eq(ask("Z9,0,1"), "");
    cr_assert_str_eq(ask("vFile:unlink:2f746d70"), "F-1,58");
    close(wire);
    runner_status();
}

Test(gdbwire, malformed_arguments_are_errors)
{
    START(TARGET);
    wire_connect();
    cr_assert_str_eq(ask("m"), "E01");
    cr_assert_str_eq(ask("m400000"), "E01");
    cr_assert_str_eq(ask("m400000,"), "E01");
    cr_assert_str_eq(ask("mfffffffffffffffff,1"), "E01"); /* 68 bits */
    cr_assert_str_eq(ask("m400000,100000"), "E01");       /* longer than a packet */
    cr_assert_str_eq(ask("p"), "E01");
    cr_assert_str_eq(ask("p3c"), "E01");                  /* register 60 does not exist */
    cr_assert_str_eq(ask("P0=12"), "E01");                /* too short */
    cr_assert_str_eq(ask("M400000,2:zz11"), "E01");
    cr_assert_str_eq(ask("M400000,2:11"), "E01");         /* fewer bytes than said */
    cr_assert_str_eq(ask("X400000,2:}"), "E01");          /* ends inside an escape */
    cr_assert_str_eq(ask("Z2,404000,0"), "E0c");          /* a watchpoint of length 0 */
    cr_assert_str_eq(ask("z0,404000,1"), "E02");          /* not inserted */
    cr_assert_str_eq(ask("qRcmd,6"), "E01");              /* odd hex */
    cr_assert_str_eq(ask("vCont;q"), "E01");
    cr_assert_str_eq(ask("qXfer:features:read:target.xml:zz,10"), "E01");
    close(wire);
    runner_status();
}

Test(gdbwire, addresses_that_wrap_or_are_unmapped)
{
    START(TARGET);
    wire_connect();
    cr_assert_str_eq(ask("mffffffffffffffff,2"), "E01");        /* wraps past 2^64 */
    cr_assert_str_eq(ask("mffffffffffffffff,1"), "E0e");        /* unmapped */
    cr_assert_str_eq(ask("m0,10"), "E0e");
    cr_assert_str_eq(ask("Mfffffffffffffff0,20:00"), "E01");
    cr_assert_str_eq(ask("M1000,1:00"), "E0e");
    cr_assert_str_eq(ask("Z2,fffffffffffffff8,10"), "E01");     /* a watched range that wraps */
    /* a read running off the end of the image gives the readable prefix */
    const char *r = ask("m403ffe,4");
    cr_assert_eq(strlen(r), 4, "%s", r);
    close(wire);
    runner_status();
}

Test(gdbwire, memory_reads_show_the_original_bytes_under_a_breakpoint)
{
    START(TARGET);
    wire_connect();
    char before[64];
    snprintf(before, sizeof before, "%s", ask("m401000,8"));
    cr_assert_str_eq(ask("Z0,401000,1"), "OK");
    cr_assert_str_eq(ask("m401000,8"), before);
    cr_assert_str_eq(ask("z0,401000,1"), "OK");
    close(wire);
    runner_status();
}

Test(gdbwire, memory_map_from_the_mmu_regions)
{
    START(TARGET);
    wire_connect();
    const char *r = ask("qXfer:memory-map:read::0,3fff");
    cr_assert_eq(r[0], 'l', "%s", r);
    cr_assert(strstr(r, "<memory type=\"rom\" start=\"0x401000\" length=\"0x1000\"/>"), "%s", r); /* r-x */
    cr_assert(strstr(r, "<memory type=\"ram\" start=\"0x403000\" length=\"0x1000\"/>"), "%s", r); /* rw- */
    cr_assert(strstr(r, "</memory-map>"), "%s", r);
    r = ask("qXfer:features:read:target.xml:0,3fff");
    cr_assert(strstr(r, "<architecture>i386:x86-64</architecture>"), "%s", r);
    cr_assert(strstr(r, "name=\"xmm15\""), "%s", r);
    cr_assert(strstr(r, "name=\"fs_base\""), "%s", r);
    cr_assert_str_eq(ask("qXfer:features:read:target.xml:100000,10"), "l");
    close(wire);
    runner_status();
}

/* RIP, from the p packet's little-endian hex */
static unsigned long long wire_rip(void)
{
    const char *h = ask("p10");
    unsigned long long v = 0;
    cr_assert_eq(strlen(h), 16, "%s", h);
    for (int i = 7; i >= 0; i--) {
        unsigned byte;
        cr_assert_eq(sscanf(h + 2 * i, "%2x", &byte), 1);
        v = v << 8 | byte;
    }
    return v;
}

static void wire_set_rip(unsigned long long v)
{
    char p[64] = "P10=";
    for (int i = 0; i < 8; i++)
        snprintf(p + 4 + 2 * i, 3, "%02x", (unsigned)(v >> (8 * i)) & 0xff);
    cr_assert_str_eq(ask(p), "OK");
}

Test(gdbwire, breakpoint_stop_replies_name_their_kind)
{
    START(TARGET);
    wire_connect();
    char z[64];
    unsigned long long entry = wire_rip();
    const char *r = ask("s");
    cr_assert_eq(strncmp(r, "T05", 3), 0, "%s", r);
    unsigned long long next = wire_rip();
    cr_assert_neq(next, entry);
    static const char *const kinds[] = { "swbreak:;", "hwbreak:;" };
    for (int k = 0; k < 2; k++) {
        wire_set_rip(entry);
        snprintf(z, sizeof z, "Z%d,%llx,1", k, next);
        cr_assert_str_eq(ask(z), "OK");
        r = ask("c");
        cr_assert(strstr(r, kinds[k]), "%s", r);
        cr_assert_eq(wire_rip(), next);
        z[0] = 'z';
        cr_assert_str_eq(ask(z), "OK");
    }
    /* a breakpoint where the guest stands does not stop the step off it */
    snprintf(z, sizeof z, "Z0,%llx,1", next);
    cr_assert_str_eq(ask(z), "OK");
    r = ask("s");
    cr_assert_null(strstr(r, "break"), "%s", r);
    cr_assert_neq(wire_rip(), next);
    r = ask("qXfer:exec-file:read::0,fff");
    cr_assert(strstr(r, "gdb_target"), "%s", r);
    close(wire);
    runner_status();
}

Test(gdbwire, oversized_packet_is_refused)
{
    START(TARGET);
    wire_connect();
    static char big[40000];
    memset(big, 'q', sizeof big - 1);
    wire_packet(big, false);
    cr_assert_null(wire_reply());
    cr_assert_str_eq(ask("qAttached"), "0");
    close(wire);
    runner_status();
}

Test(gdbwire, no_ack_mode)
{
    START(TARGET);
    wire_connect();
    cr_assert_str_eq(ask("QStartNoAckMode"), "OK");
    wire_send("+", 1);
    wire_packet("qAttached", true); /* bad checksum: no NAK now, no reply */
    wire_packet("qC", false);
    const char *r = wire_reply();
    cr_assert_not_null(r);
    cr_assert_eq(strncmp(r, "QCp", 3), 0, "%s", r);
    close(wire);
    runner_status();
}

Test(gdbwire, ctrl_c_interrupts_a_running_guest)
{
    START(TARGET, "spin");
    wire_connect();
    wire_packet("c", false);
    usleep(200000);
    wire_send("\x03", 1);
    const char *r = wire_reply();
    cr_assert_not_null(r);
    cr_assert_eq(strncmp(r, "T02", 3), 0, "%s", r);
    wire_packet("k", false);
    cr_assert_eq(runner_status(), 137);
}

Test(gdbwire, hang_up_mid_packet_kills_the_guest)
{
    START(TARGET);
    wire_connect();
    wire_send("$m4010", 6);
    close(wire);
    cr_assert_eq(runner_status(), 137);
    cr_assert_null(strstr(run_err, "AddressSanitizer"));
}

Test(gdbwire, hang_up_while_running_kills_the_guest)
{
    START(TARGET, "spin");
    wire_connect();
    wire_packet("c", false);
    usleep(100000);
    close(wire);
    cr_assert_eq(runner_status(), 137);
}

Test(gdbwire, gdb_keep_lets_the_guest_run_on)
{
    START("--gdb-keep", TARGET);
    wire_connect();
    cr_assert_str_eq(ask("Z0,401000,1"), "OK");
    wire_send("$m40", 4);
    close(wire);
    cr_assert_eq(runner_status(), 0);
    char out[256];
    guest_out(out, sizeof out);
    cr_assert_str_eq(out, "counter 15 value 80 ratio 3\n");
}

Test(gdbwire, detach_lets_the_guest_run_on)
{
    START(TARGET);
    wire_connect();
    cr_assert_str_eq(ask("D"), "OK");
    close(wire);
    cr_assert_eq(runner_status(), 0);
}

Test(gdbwire, exit_is_reported_with_its_status)
{
    START(TARGET);
    wire_connect();
    const char *r = ask("vCont;c");
    cr_assert_eq(strncmp(r, "W00;process:", 12), 0, "%s", r);
    cr_assert_eq(runner_status(), 0);
}

Test(gdbwire, a_forked_child_runs_on_without_the_stub)
{
    if (access("/bin/busybox", X_OK) != 0)
        cr_skip_test("no /bin/busybox");
    START("/bin/busybox", "sh", "-c", "echo forked | cat; exit 7");
    wire_connect();
    const char *r = ask("c");
    for (int i = 0; i < 10 && r[0] == 'T'; i++) { /* SIGCHLD: passed on, as gdb does */
        char pass[8];
        snprintf(pass, sizeof pass, "C%.2s", r + 1);
        r = ask(pass);
    }
    cr_assert_eq(strncmp(r, "W07;process:", 12), 0, "%s", r);
    cr_assert_eq(runner_status(), 7);
    char out[256];
    guest_out(out, sizeof out);
    cr_assert_str_eq(out, "forked\n");
}

/* --------------------------------------------------- bad --gdb arguments */

static int bad_arg(const char *spec)
{
    char out[128], err[128];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    int st = wait_for(spawn((const char *const[]){ RUNNER, "--gdb", spec, TARGET, NULL }, out, err), 30);
    slurp(err, run_err, sizeof run_err);
    return st;
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

Test(gdbwire, bad_gdb_argument_exits_2_with_one_line)
{
    const char *bad[] = { "", "x", "70000", "127.0.0.1:", "127.0.0.1:-1", "no.such.host.invalid:0", "1:2:3:x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(bad_arg(bad[i]), 2, "--gdb '%s': %s", bad[i], run_err);
        cr_assert_eq(lines(run_err), 1, "--gdb '%s': %s", bad[i], run_err);
    }
}

Test(gdbwire, port_in_use_exits_2_with_one_line)
{
    START(TARGET);
    char spec[32];
    snprintf(spec, sizeof spec, "127.0.0.1:%d", port);
    cr_assert_eq(bad_arg(spec), 2, "%s", run_err);
    cr_assert_eq(lines(run_err), 1, "%s", run_err);
    cr_assert(strstr(run_err, "cannot listen"), "%s", run_err);
}
