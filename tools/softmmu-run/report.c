/*
 * report.c - what softmmu-run prints about the guest: --trace lines, the
 * reason it stopped (fault, bad instruction), --mapinfo and --stats.
 * Everything goes to stderr; stdout belongs to the guest.
 */
#include "sig.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_INSN 15

/* reads up to MAX_INSN code bytes, page by page (host access: no perms) */
static size_t read_code(run_t *r, uint64_t addr, uint8_t *buf)
{
    size_t n = 0;
    while (n < MAX_INSN) {
        size_t chunk = (size_t)(RUN_PAGE - ((addr + n) & (RUN_PAGE - 1)));
        if (chunk > MAX_INSN - n)
            chunk = MAX_INSN - n;
        if (mmu_read(r->m, addr + n, buf + n, chunk) != MMU_OK)
            break;
        n += chunk;
    }
    return n;
}

/* "bytes  mnemonic operands" for the instruction at addr; its size, or 0 */
int rpt_disasm(run_t *r, uint64_t addr, char *buf, size_t cap)
{
    uint8_t code[MAX_INSN];
    size_t n = read_code(r, addr, code);
    cs_insn *insn = NULL;
    size_t got = r->cs_ok && n ? cs_disasm(r->cs, code, n, addr, 1, &insn) : 0;
    size_t size = got ? insn->size : (n < 8 ? n : 8);
    char hex[3 * MAX_INSN + 1] = "";
    for (size_t i = 0; i < size; i++)
        snprintf(hex + 3 * i, sizeof hex - 3 * i, i + 1 < size ? "%02x " : "%02x", code[i]);
    if (!n)
        snprintf(buf, cap, "(not mapped)");
    else if (got)
        snprintf(buf, cap, "%-23s %s%s%s", hex, insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str);
    else
        snprintf(buf, cap, "%-23s (undecodable)", hex);
    if (got)
        cs_free(insn, got);
    return got ? (int)size : 0;
}

static void on_code(cpu_t *c, uint64_t addr, unsigned size, void *user)
{
    run_t *r = user;
    char line[160];
    (void)c, (void)size;
    rpt_disasm(r, addr, line, sizeof line);
    fprintf(stderr, "0x%016" PRIx64 ": %s\n", addr, line);
}

bool rpt_init(run_t *r)
{
    r->cs_ok = cs_open(CS_ARCH_X86, CS_MODE_64, &r->cs) == CS_ERR_OK;
    if (!r->o.trace)
        return true; /* no hook: --stats and --count use cpu_insn_count, at full speed */
    setvbuf(stderr, NULL, _IOFBF, 1 << 16); /* flushed before each guest write */
    mmu_err err = cpu_hook_code(r->c, on_code, r, 1, 0, NULL);
    return err == MMU_OK ? true : run_fail(r, "cannot add the code hook: %s", mmu_strerror(err));
}

void rpt_fini(run_t *r)
{
    if (r->cs_ok)
        cs_close(&r->cs);
    fflush(stderr);
}

void rpt_mapinfo(run_t *r, const char *title)
{
    size_t len = 0;
    char *buf = NULL;
    mmu_err err = mmu_format_mapinfo(r->m, NULL, 0, &len);
    if (err == MMU_OK || err == MMU_ERR_ARG) {
        buf = malloc(len + 1);
        err = buf ? mmu_format_mapinfo(r->m, buf, len + 1, &len) : MMU_ERR_NOMEM;
    }
    if (err == MMU_OK)
        run_msg("%s\n%s", title, buf);
    else
        run_msg("%s unavailable: %s", title, mmu_strerror(err));
    free(buf);
}

const char *rpt_commas(uint64_t v, char buf[32])
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), j = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = tmp[i];
    }
    buf[j] = '\0';
    return buf;
}

void rpt_stats(run_t *r, double secs)
{
    mmu_stats st;
    char a[32], b[32], c[32], d[32], e[32];
    mmu_get_stats(r->m, &st);
    run_msg("instructions %s in %.3f s (%.1f M insn/s), %s system calls", rpt_commas(r->insns, a), secs,
            secs > 0 ? (double)r->insns / secs / 1e6 : 0.0, rpt_commas(r->syscalls, b));
    /* the interpreter's TLB hits are inline and uncounted: misses per 1000
     * instructions say how well the TLB serves the program */
    run_msg("tlb          %s misses (%.3f per 1000 instructions), %s flushes, %s page walks, %s entries "
            "(%s resizes)",
            rpt_commas(st.tlb_misses, a), r->insns ? 1000.0 * (double)st.tlb_misses / (double)r->insns : 0.0,
            rpt_commas(st.tlb_flushes, b), rpt_commas(st.page_walks, c), rpt_commas(st.tlb_entries, d),
            rpt_commas(st.tlb_resizes, e));
    run_msg("faults       %s: %s paged in on demand (%s pages), %s signals delivered", rpt_commas(st.faults, a),
            rpt_commas(r->demand_faults, b), rpt_commas(r->demand_pages, c), rpt_commas(r->signals, d));
    run_msg("memory       %s regions, %s pages mapped, %s bytes of MMU metadata", rpt_commas(st.regions, a),
            rpt_commas(st.pages_mapped, b), rpt_commas(st.meta_bytes, c));
}

/* ------------------------------------------------------------ stop reasons */

static const char *fault_kind(mmu_err e, const char **why)
{
    *why = "unmapped";
    switch (e) {
    case MMU_ERR_READ_PROT:
        *why = "not readable"; /* fall through */
    case MMU_ERR_READ_UNMAPPED:
        return "read";
    case MMU_ERR_WRITE_PROT:
        *why = "not writable"; /* fall through */
    case MMU_ERR_WRITE_UNMAPPED:
        return "write";
    case MMU_ERR_FETCH_PROT:
        *why = "not executable"; /* fall through */
    case MMU_ERR_FETCH_UNMAPPED:
        return "fetch";
    default:
        *why = mmu_strerror(e);
        return "access";
    }
}

static void report_fault(run_t *r)
{
    cpu_fault f;
    char line[160];
    const char *why;
    cpu_last_fault(r->c, &f);
    const char *kind = fault_kind(f.err, &why);
    run_msg("segmentation fault: %s of %u bytes at 0x%016" PRIx64 " (%s)", kind, f.size, f.addr, why);
    rpt_disasm(r, f.rip, line, sizeof line);
    run_msg("  rip 0x%016" PRIx64 ": %s", f.rip, line);
}

/* The signal Linux sends for the exception at RIP, judged by the
 * instruction (cpu_run reports an exception without its vector): #DE is
 * SIGFPE, #BP SIGTRAP, anything else SIGSEGV (#GP; XXX: x87 #MF and SSE
 * #XM are SIGFPE on Linux, but need the vector to be told from #GP). */
static int exception_signal(const char *line)
{
    if (strstr(line, " div ") || strstr(line, " idiv "))
        return 8;
    if (strstr(line, " int3"))
        return 5;
    return 11;
}

static void report_insn(run_t *r, const char *what)
{
    char line[160];
    uint64_t rip = cpu_reg_read(r->c, CPU_RIP);
    rpt_disasm(r, rip, line, sizeof line);
    if (!what) { /* a guest exception: name it after the instruction */
        int sig = exception_signal(line);
        what = sig == 8 ? "divide error (SIGFPE)" : sig == 5 ? "breakpoint (SIGTRAP)" : "guest exception (SIGSEGV)";
    }
    run_msg("%s at 0x%016" PRIx64 ": %s", what, rip, line);
}

int rpt_crash_signal(run_t *r, cpu_exit why)
{
    if (why == CPU_EXIT_INSN_INVALID)
        return 4; /* SIGILL */
    if (why != CPU_EXIT_EXCEPTION)
        return 11; /* memory fault, hlt (#GP): SIGSEGV */
    char line[160];
    rpt_disasm(r, cpu_reg_read(r->c, CPU_RIP), line, sizeof line);
    return exception_signal(line);
}

/* prints why the guest stopped; returns the runner's exit status */
int rpt_exit(run_t *r, cpu_exit why)
{
    int status = RUN_EXIT_GUEST_FAULT;
    bool failed = !r->exited && why != CPU_EXIT_COUNT;
    fflush(stderr);
    if (r->exited) {
        status = r->status;
        char name[16];
        if (r->killed_by)
            run_msg("program killed by signal %d (%s)", r->killed_by, sig_name(r->killed_by, name, sizeof name));
    } else if (why == CPU_EXIT_COUNT) {
        status = RUN_EXIT_COUNT;
        run_msg("stopped after %" PRIu64 " instructions (--count)", r->o.count);
    } else if (why == CPU_EXIT_MEM_FAULT) {
        report_fault(r);
    } else if (why == CPU_EXIT_INSN_INVALID) {
        report_insn(r, "invalid or unsupported instruction");
    } else if (why == CPU_EXIT_HLT) {
        cpu_reg_write(r->c, CPU_RIP, cpu_reg_read(r->c, CPU_RIP) - 1); /* back onto the hlt */
        report_insn(r, "privileged instruction");
    } else {
        report_insn(r, NULL);
    }
    if (r->o.mapinfo || failed)
        rpt_mapinfo(r, failed ? "map info when it stopped:" : "map info at exit:");
    return status;
}
