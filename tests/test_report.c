/*
 * test_report.c - softmmu-run --report: the structure of the HTML and SVG
 * it writes, checked against the figures --stats prints in the same run
 * (one SVG element per region, page counts, the timeline's fault counts),
 * the size bound, a crash, fork, and a report path that cannot be written.
 */
#include "run_util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


static char tmpdir[64];
static char err_buf[1 << 16], out_buf[1 << 16];
static char *html; /* the report just read */

static void setup_dir(void)
{
    scratch_make(tmpdir, "softmmu-report-test");
}

static void remove_dir(void)
{
    free(html);
    html = NULL;
    scratch_remove(tmpdir);
}

TestSuite(report, .init = setup_dir, .fini = remove_dir, .timeout = 300);

/* runs RUNNER with args; returns the exit status (-signal if it crashed) */
static int run(const char *const *args)
{
    return spawn_capture(RUNNER, args, "/dev/null", tmpdir, out_buf, sizeof out_buf, err_buf, sizeof err_buf);
}

#define RUN(...) run((const char *const[]){ __VA_ARGS__, NULL })

static const char *path_of(const char *name)
{
    static char path[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    return path[k];
}

static const char *write_file(const char *name, const void *data, size_t n)
{
    const char *path = path_of(name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
    return path;
}

/* the whole report into html; returns its size */
static size_t read_report(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "no report at %s", path);
    free(html);
    html = malloc((size_t)st.st_size + 1);
    cr_assert_not_null(html);
    slurp(path, html, (size_t)st.st_size + 1);
    return (size_t)st.st_size;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* the sum of attr="N" over every element carrying marker (e.g. class="region") */
static uint64_t sum_attr(const char *marker, const char *attr)
{
    uint64_t sum = 0;
    char key[64];
    snprintf(key, sizeof key, " %s=\"", attr);
    for (const char *p = html; (p = strstr(p, marker)); p += strlen(marker)) {
        const char *end = strchr(p, '>'), *a = strstr(p, key);
        cr_assert(a && a < end, "%s without %s", marker, attr);
        sum += strtoull(a + strlen(key), NULL, 10);
    }
    return sum;
}

/* the number with thousands commas at p ("12,345" -> 12345) */
static uint64_t number_at(const char *p)
{
    char digits[32];
    int n = 0;
    for (; (*p >= '0' && *p <= '9') || *p == ','; p++)
        if (*p != ',' && n < 31)
            digits[n++] = *p;
    digits[n] = '\0';
    return strtoull(digits, NULL, 10);
}

/* the number --stats printed after label, e.g. stat_after("faults ") */
static uint64_t stat_after(const char *label)
{
    const char *p = strstr(err_buf, label);
    cr_assert_not_null(p, "no '%s' in: %s", label, err_buf);
    p += strlen(label);
    while (*p == ' ')
        p++;
    return number_at(p);
}

/* the number just before label in --stats output ("20 regions") */
static uint64_t stat_before(const char *label)
{
    const char *p = strstr(err_buf, label);
    cr_assert_not_null(p, "no '%s' in: %s", label, err_buf);
    while (p > err_buf && (p[-1] == ' ' || p[-1] == ','))
        p--;
    while (p > err_buf && ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == ','))
        p--;
    return number_at(p);
}

/* the data-total of the timeline lane named kind */
static uint64_t lane_total(const char *kind)
{
    char key[96];
    snprintf(key, sizeof key, "<g class=\"lane\" data-kind=\"%s\" data-total=\"", kind);
    const char *p = strstr(html, key);
    cr_assert_not_null(p, "no lane %s", kind);
    return strtoull(p + strlen(key), NULL, 10);
}

#define MAX_REPORT (2u << 20)

#ifdef HAVE_GUESTS
Test(report, sieve_report_matches_the_stats_of_the_same_run)
{
    const char *out = path_of("sieve.html");
    int st = RUN("--demand-paging", "--stats", "--mapinfo", "--report", out, EXAMPLES "/sieve");
    cr_assert_eq(st, 0, "status %d: %s", st, err_buf);
    cr_expect(strstr(out_buf, "primes below 2000000: 148933"), "the guest's output is untouched: %s", out_buf);
    size_t size = read_report(out);
    cr_expect_lt(size, MAX_REPORT);
    cr_expect(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    cr_expect(strstr(html, "</html>\n"), "the file is complete");
    cr_expect_eq(count(html, "http://"), count(html, "http://www.w3.org/2000/svg"), "no network reference");
    /* one SVG element per region, and the pages they count are the MMU's */
    uint64_t regions = stat_before(" regions,"), pages = stat_before(" pages mapped");
    cr_expect_eq(count(html, "<g class=\"region\""), regions, "%zu region elements, --stats %" PRIu64,
                 count(html, "<g class=\"region\""), regions);
    cr_expect_eq(sum_attr("<g class=\"region\"", "data-pages"), pages);
    cr_expect_eq(sum_attr("<g class=\"leaf\"", "data-present"), sum_attr("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"pt\"", "data-present"));
    cr_expect_leq(sum_attr("<g class=\"region\"", "data-touched"), pages);
    cr_expect_gt(sum_attr("<g class=\"region\"", "data-touched"), 200, "the sieve touches its heap");
    /* the timeline counts what --stats counts */
    cr_expect_eq(lane_total("MMU faults"), stat_after("faults "));
    cr_expect_eq(lane_total("demand faults"), stat_before(" paged in on demand"));
    cr_expect_eq(lane_total("brk"), 2, "the sieve calls brk twice");
    cr_expect_eq(lane_total("crash"), 0);
    /* the figures table is --stats */
    char key[64];
    snprintf(key, sizeof key, "id=\"st-faults\" data-v=\"%" PRIu64 "\"", stat_after("faults "));
    cr_expect(strstr(html, key), "%s", key);
    snprintf(key, sizeof key, "id=\"st-insns\" data-v=\"%" PRIu64 "\"", stat_after("instructions "));
    cr_expect(strstr(html, key), "%s", key);
}

Test(report, samples_stay_bounded_as_the_run_grows)
{
    const char *out = path_of("sieve.html");
    cr_assert_eq(RUN("--report", out, EXAMPLES "/sieve"), 0, "%s", err_buf);
    read_report(out);
    const char *p = strstr(html, "id=\"timeline\"");
    cr_assert_not_null(p);
    unsigned samples = (unsigned)strtoul(strstr(p, "data-samples=\"") + 14, NULL, 10);
    uint64_t k = strtoull(strstr(p, "data-k=\"") + 8, NULL, 10);
    cr_expect_leq(samples, 512);
    cr_expect_gt(samples, 200);
    cr_expect_geq(k, 16384, "13.6 M instructions: the interval doubled (k %" PRIu64 ")", k);
    cr_expect_eq(k & (k - 1), 0, "k doubles from 1024");
}

Test(report, signals_and_memory_calls_reach_the_timeline)
{
    const char *out = path_of("mm.html");
    int st = RUN("--stats", "--report", out, EXAMPLES "/mmap_fault");
    cr_assert_eq(st, 0, "status %d: %s", st, err_buf);
    cr_expect_lt(read_report(out), MAX_REPORT);
    cr_expect_eq(lane_total("signals"), stat_before(" signals delivered"));
    cr_expect_gt(lane_total("signals"), 0);
    cr_expect_gt(lane_total("mmap"), 0);
    cr_expect_gt(lane_total("mprotect"), 0);
    cr_expect_eq(lane_total("MMU faults"), stat_after("faults "));
    cr_expect_eq(count(html, "<g class=\"region\""), stat_before(" regions,"));
}

Test(report, svg_variant_has_the_address_space_and_page_table_only)
{
    const char *out = path_of("sieve.svg");
    cr_assert_eq(RUN("--demand-paging", "--stats", "--report", out, EXAMPLES "/sieve"), 0, "%s", err_buf);
    cr_expect_lt(read_report(out), MAX_REPORT);
    cr_expect(strncmp(html, "<?xml", 5) == 0);
    cr_expect(strstr(html, "id=\"space\""));
    cr_expect(strstr(html, "id=\"pt\""));
    cr_expect_null(strstr(html, "<script"));
    cr_expect_null(strstr(html, "id=\"timeline\""));
    cr_expect_eq(count(html, "<g class=\"region\""), stat_before(" regions,"));
    cr_expect_eq(sum_attr("<g class=\"region\"", "data-pages"), stat_before(" pages mapped"));
    cr_expect(strstr(html, "</svg>\n"), "complete");
}
#endif

/* mov qword ptr [0], 1 */
static const uint8_t null_store[] = { 0x48, 0xc7, 0x04, 0x25, 0, 0, 0, 0, 1, 0, 0, 0 };

Test(report, a_crash_still_writes_the_report_with_the_fault_marked)
{
    const char *out = path_of("crash.html");
    int st = RUN("--stats", "--report", out, "--raw", "0x10000", write_file("null", null_store, sizeof null_store));
    cr_assert_eq(st, 128 + SIGSEGV, "status %d: %s", st, err_buf);
    read_report(out);
    cr_expect(strstr(html, "class=\"crash\""), "the fault address is marked");
    cr_expect(strstr(html, "crash 0x0"));
    cr_expect_eq(lane_total("crash"), 1);
    cr_expect_eq(lane_total("MMU faults"), stat_after("faults "));
    cr_expect(strstr(html, "</html>\n"));
}

Test(report, only_the_process_that_was_started_writes_it)
{
    /* fork; the parent waits for the child; both exit(0) */
    static const uint8_t code[] = {
        0xb8, 57, 0, 0, 0, 0x0f, 0x05,                 /* mov eax, 57 (fork); syscall */
        0x85, 0xc0, 0x74, 0x10,                        /* test eax, eax; jz exit */
        0x89, 0xc7, 0xb8, 61, 0, 0, 0, 0x31, 0xf6,     /* mov edi, eax; mov eax, 61 (wait4); xor esi, esi */
        0x31, 0xd2, 0x4d, 0x31, 0xd2, 0x0f, 0x05,      /* xor edx, edx; xor r10, r10; syscall */
        0x31, 0xff, 0xb8, 60, 0, 0, 0, 0x0f, 0x05,     /* exit: xor edi, edi; mov eax, 60; syscall */
    };
    const char *out = path_of("fork.html");
    int st = RUN("--report", out, "--raw", "0x10000", write_file("fork", code, sizeof code));
    cr_assert_eq(st, 0, "status %d: %s", st, err_buf);
    read_report(out);
    cr_expect_eq(count(html, "<!DOCTYPE html>"), 1, "one document, from the parent");
    cr_expect_eq(count(html, "</html>"), 1);
}

Test(report, a_busy_run_stays_under_2_mb)
{
    /* 5000 times: p = mmap(NULL, 4096, RW, PRIVATE|ANON); *p = 1; then exit(0):
     * 5000 regions, 5000 events, ten leaves, every page touched */
    static const uint8_t code[] = {
        0xbb, 0x88, 0x13, 0, 0,                         /* mov ebx, 5000 */
        0xb8, 9, 0, 0, 0, 0x31, 0xff,                   /* loop: mov eax, 9; xor edi, edi */
        0xbe, 0, 0x10, 0, 0, 0xba, 3, 0, 0, 0,          /* mov esi, 4096; mov edx, 3 */
        0x41, 0xba, 0x22, 0, 0, 0,                      /* mov r10d, 0x22 */
        0x49, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff,       /* mov r8, -1 */
        0x45, 0x31, 0xc9, 0x0f, 0x05,                   /* xor r9d, r9d; syscall */
        0xc6, 0x00, 0x01, 0xff, 0xcb, 0x75, 0xd6,       /* mov byte ptr [rax], 1; dec ebx; jnz loop */
        0x31, 0xff, 0xb8, 60, 0, 0, 0, 0x0f, 0x05,      /* xor edi, edi; mov eax, 60; syscall */
    };
    const char *out = path_of("busy.html");
    int st = RUN("--stats", "--report", out, "--raw", "0x10000", write_file("busy", code, sizeof code));
    cr_assert_eq(st, 0, "status %d: %s", st, err_buf);
    size_t size = read_report(out);
    cr_expect_lt(size, MAX_REPORT, "%zu bytes", size);
    cr_expect_geq(stat_before(" regions,"), 5000);
    cr_expect(strstr(html, "more regions not drawn"), "regions over the cap are counted, not drawn");
    cr_expect_eq(lane_total("mmap"), 5000, "every event is counted");
    cr_expect_eq(lane_total("MMU faults"), stat_after("faults "));
    cr_expect(strstr(html, "</html>\n"));
}

Test(report, alternating_permissions_the_worst_case_for_the_drawing_stay_under_2_mb)
{
    /* p = mmap(NULL, 32 MiB, RW, PRIVATE|ANON); then for 4096 pages, every
     * other one: touch it, mprotect it read-only; exit(0): 16 full leaves
     * whose cells alternate, 8000+ regions, 4096 events */
    static const uint8_t code[] = {
        0xb8, 9, 0, 0, 0, 0x31, 0xff, 0xbe, 0, 0, 0, 2,  /* mov eax, 9; xor edi, edi; mov esi, 0x2000000 */
        0xba, 3, 0, 0, 0, 0x41, 0xba, 0x22, 0, 0, 0,     /* mov edx, 3; mov r10d, 0x22 */
        0x49, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff,        /* mov r8, -1 */
        0x45, 0x31, 0xc9, 0x0f, 0x05,                    /* xor r9d, r9d; syscall */
        0x48, 0x89, 0xc3, 0xbd, 0, 0x10, 0, 0,           /* mov rbx, rax; mov ebp, 4096 */
        0xc6, 0x03, 0x01, 0xb8, 10, 0, 0, 0,             /* loop: mov byte ptr [rbx], 1; mov eax, 10 */
        0x48, 0x89, 0xdf, 0xbe, 0, 0x10, 0, 0,           /* mov rdi, rbx; mov esi, 4096 */
        0xba, 1, 0, 0, 0, 0x0f, 0x05,                    /* mov edx, 1; syscall */
        0x48, 0x81, 0xc3, 0, 0x20, 0, 0,                 /* add rbx, 0x2000 */
        0xff, 0xcd, 0x75, 0xde,                          /* dec ebp; jnz loop */
        0x31, 0xff, 0xb8, 60, 0, 0, 0, 0x0f, 0x05,       /* xor edi, edi; mov eax, 60; syscall */
    };
    const char *out = path_of("stripes.html");
    int st = RUN("--stats", "--report", out, "--raw", "0x10000", write_file("stripes", code, sizeof code));
    cr_assert_eq(st, 0, "status %d: %s", st, err_buf);
    size_t size = read_report(out);
    cr_expect_lt(size, MAX_REPORT, "%zu bytes", size);
    cr_expect_eq(lane_total("mprotect"), 4096);
    cr_expect_geq(count(html, "<g class=\"leaf\""), 16);
    cr_expect(strstr(html, "</html>\n"));
}

Test(report, an_unwritable_report_path_fails_before_the_guest_runs)
{
    /* mov edi, 42; mov eax, 60; syscall */
    static const uint8_t exit42[] = { 0xbf, 42, 0, 0, 0, 0xb8, 60, 0, 0, 0, 0x0f, 0x05 };
    const char *prog = write_file("exit42", exit42, sizeof exit42);
    int st = RUN("--report", "/nonexistent-dir/r.html", "--raw", "0x10000", prog);
    cr_expect_eq(st, 2, "status %d (42 would mean the guest ran)", st);
    cr_expect_eq(count(err_buf, "\n"), 1, "one line: %s", err_buf);
    cr_expect(strstr(err_buf, "softmmu-run: cannot write the report '/nonexistent-dir/r.html'"), "%s", err_buf);
    st = RUN("--report", tmpdir, "--raw", "0x10000", prog); /* a directory */
    cr_expect_eq(st, 2, "status %d", st);
    cr_expect_eq(count(err_buf, "\n"), 1, "one line: %s", err_buf);
    st = RUN("--raw", "0x10000", "--report");
    cr_expect_eq(st, 2, "a missing value is a usage error");
    struct stat sb;
    st = RUN("--report", path_of("none.html"), path_of("no-such-program"));
    cr_expect_eq(st, 2, "a program that cannot be loaded");
    cr_expect_neq(stat(path_of("none.html"), &sb), 0, "and no report is left behind");
}
