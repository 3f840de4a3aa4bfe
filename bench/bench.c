/*
 * bench.c - softmmu-bench: options, machine header, medians, the table and
 * JSON printers, and main.
 *
 *   softmmu-bench [--quick] [--json] [--filter SUBSTR] [--reps N]
 */
#include "bench.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef SOFTMMU_BENCH_BUILD_TYPE
#define SOFTMMU_BENCH_BUILD_TYPE "unknown"
#endif

bench_opts bench = { .reps = 9 };
volatile uint64_t bench_sink;

static unsigned n_rows, n_met, n_missed, n_unknown;
static char missed[1024]; /* names of the rows that missed their target */

/* ------------------------------------------------------- time, numbers */

double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

uint64_t bench_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

const char *bench_size_str(uint64_t bytes, char buf[24])
{
    if (bytes >= MiB && bytes % MiB == 0)
        snprintf(buf, 24, "%" PRIu64 " MiB", bytes / MiB);
    else if (bytes >= KiB && bytes % KiB == 0)
        snprintf(buf, 24, "%" PRIu64 " KiB", bytes / KiB);
    else
        snprintf(buf, 24, "%" PRIu64 " B", bytes);
    return buf;
}

void *bench_host_alloc(uint64_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void bench_host_free(void *p, uint64_t size)
{
    if (p)
        munmap(p, size);
}

bool bench_want(const char *name)
{
    return !bench.filter || strstr(name, bench.filter);
}

/* ---------------------------------------------------------- measuring */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    for (int i = 0; i < n; i++)
        if (isnan(v[i]))
            return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_measure(const bench_job *jobs, size_t n, double *out)
{
    int reps = bench.reps;
    double *v = malloc(n * (size_t)reps * sizeof *v);
    bool *live = malloc(n * sizeof *live);
    if (!v || !live) {
        free(v), free(live);
        for (size_t j = 0; j < n; j++)
            out[j] = NAN;
        return;
    }
    for (size_t j = 0; j < n; j++) /* warm-up; a failing job is not repeated */
        live[j] = jobs[j].fn && !isnan(jobs[j].fn(jobs[j].ctx));
    for (int r = 0; r < reps; r++)
        for (size_t j = 0; j < n; j++)
            v[j * (size_t)reps + (size_t)r] = live[j] ? jobs[j].fn(jobs[j].ctx) : NAN;
    for (size_t j = 0; j < n; j++)
        out[j] = median(v + j * (size_t)reps, reps);
    free(v);
    free(live);
}

/* --------------------------------------------------------------- rows */

static const char *fmt_val(double v, const char *unit, char *buf, size_t cap)
{
    if (isnan(v))
        snprintf(buf, cap, "n/a");
    else if (fabs(v) >= 100)
        snprintf(buf, cap, "%.0f %s", v, unit);
    else if (fabs(v) >= 10)
        snprintf(buf, cap, "%.1f %s", v, unit);
    else
        snprintf(buf, cap, "%.2f %s", v, unit);
    return buf;
}

static double ratio(const bench_row *r)
{
    return isnan(r->ours) || isnan(r->base) || r->base == 0 ? NAN : r->ours / r->base;
}

/* 1 met, 0 missed, -1 unknown (no figure, or no goal) */
static int goal_met(const bench_row *r)
{
    double x = r->goal == GOAL_ABS_LE ? r->ours : ratio(r);
    if (r->goal == GOAL_NONE || isnan(x))
        return -1;
    if (r->goal == GOAL_RATIO_GE)
        return x >= r->target;
    return x <= r->target;
}

static const char *fmt_goal(const bench_row *r, char *buf, size_t cap)
{
    switch (r->goal) {
    case GOAL_RATIO_LE: snprintf(buf, cap, "<=%gx", r->target); break;
    case GOAL_RATIO_GE: snprintf(buf, cap, ">=%gx", r->target); break;
    case GOAL_ABS_LE: snprintf(buf, cap, "<=%g %s", r->target, r->unit); break;
    default: snprintf(buf, cap, "-"); break;
    }
    return buf;
}

static void count_goal(const bench_row *r)
{
    int met = goal_met(r);
    n_rows++;
    if (r->goal == GOAL_NONE)
        return;
    if (met < 0) {
        n_unknown++;
        return;
    }
    if (met) {
        n_met++;
        return;
    }
    n_missed++;
    size_t len = strlen(missed);
    snprintf(missed + len, sizeof missed - len, "%s%s", len ? ", " : "", r->name);
}

static void print_table_row(const bench_row *r)
{
    char ours[32], base[48], peer[32], goal[24], rat[16], b[32];
    static const char *status[] = { "-", "MISS", "ok" };
    fmt_val(r->ours, r->unit, ours, sizeof ours);
    fmt_val(r->peer, r->unit, peer, sizeof peer);
    if (isnan(r->base))
        snprintf(base, sizeof base, "-");
    else
        snprintf(base, sizeof base, "%s %s", fmt_val(r->base, r->unit, b, sizeof b), r->base_what);
    if (isnan(ratio(r)))
        snprintf(rat, sizeof rat, "-");
    else
        snprintf(rat, sizeof rat, ratio(r) < 0.01 ? "%.1ex" : "%.2fx", ratio(r));
    printf("%-20s %-45s %11s  %-24s %8s  %-9s %-4s %12s\n", r->name, r->desc, ours, base, rat,
           fmt_goal(r, goal, sizeof goal), status[goal_met(r) + 1], peer);
    fflush(stdout);
}

static void json_num(const char *key, double v)
{
    if (isnan(v))
        printf(", \"%s\": null", key);
    else
        printf(", \"%s\": %.6g", key, v);
}

static void print_json_row(const bench_row *r)
{
    static const char *goals[] = { "none", "ratio_le", "ratio_ge", "abs_le" };
    static const char *met[] = { "null", "false", "true" };
    printf("%s    {\"name\": \"%s\", \"desc\": \"%s\", \"unit\": \"%s\"", n_rows > 1 ? ",\n" : "", r->name,
           r->desc, r->unit);
    json_num("ours", r->ours);
    json_num("baseline", r->base);
    printf(", \"baseline_what\": \"%s\"", r->base_what ? r->base_what : "");
    json_num("ratio", ratio(r));
    json_num("unicorn", r->peer);
    printf(", \"goal\": \"%s\"", goals[r->goal]);
    json_num("target", r->goal == GOAL_NONE ? NAN : r->target);
    printf(", \"met\": %s}", met[goal_met(r) + 1]);
    fflush(stdout);
}

void bench_measure_emit(bench_row *r, const bench_job jobs[3])
{
    double out[3];
    bench_measure(jobs, 3, out);
    r->ours = out[0], r->base = out[1], r->peer = out[2];
    bench_emit(r);
}

void bench_emit(const bench_row *r)
{
    count_goal(r);
    if (bench.json)
        print_json_row(r);
    else
        print_table_row(r);
}

/* ------------------------------------------------------------ machine */

static void cpu_model(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon)
            continue;
        colon += 1 + strspn(colon + 1, " \t");
        colon[strcspn(colon, "\n")] = 0;
        snprintf(buf, cap, "%s", colon);
        break;
    }
    fclose(f);
}

static void unicorn_version(char *buf, size_t cap)
{
#ifdef HAVE_UNICORN
    unsigned major, minor; /* the library's; the patch level is the header's */
    uc_version(&major, &minor);
    snprintf(buf, cap, "%u.%u.%d", major, minor, UC_VERSION_PATCH);
#else
    snprintf(buf, cap, "not built in");
#endif
}

/* ns per dependent load along one random cycle through size bytes of
 * cache lines: what a walk or tree descent that misses the caches pays */
static double mem_latency_ns(uint64_t size)
{
    size_t n = size / 64, steps = BENCH_SIZE(1000000, 100000);
    uint64_t *line = bench_host_alloc(size), rng = BENCH_SEED;
    if (!line)
        return NAN;
    for (size_t i = 0; i < n; i++)
        line[i * 8] = i;
    for (size_t i = n - 1; i > 0; i--) { /* Sattolo: one cycle through all */
        size_t j = bench_rand(&rng) % i;
        uint64_t t = line[i * 8];
        line[i * 8] = line[j * 8], line[j * 8] = t;
    }
    uint64_t at = 0;
    double t0 = bench_now_ns();
    for (size_t k = 0; k < steps; k++)
        at = line[at * 8];
    double t = (bench_now_ns() - t0) / (double)steps;
    bench_sink += at;
    bench_host_free(line, size);
    return t;
}

typedef struct machine {
    char     cpu[128], uc[32], kernel[65], lat_span[24];
    long     cores;
    double   lat_ns;
} machine;

static void machine_probe(machine *mc)
{
    struct utsname u;
    cpu_model(mc->cpu, sizeof mc->cpu);
    unicorn_version(mc->uc, sizeof mc->uc);
    snprintf(mc->kernel, sizeof mc->kernel, "%s", uname(&u) == 0 ? u.release : "?");
    mc->cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t span = BENCH_SIZE(64 * MiB, 16 * MiB);
    mc->lat_ns = mem_latency_ns(span);
    bench_size_str(span, mc->lat_span);
}

static void print_header(void)
{
    machine mc;
    machine_probe(&mc);
    if (bench.json) {
        printf("{\n  \"machine\": {\"cpu\": \"%s\", \"cores\": %ld, \"kernel\": \"%s\", \"compiler\": \"%s\", "
               "\"build\": \"%s\", \"unicorn\": \"%s\", \"reps\": %d, \"quick\": %s, "
               "\"mem_latency_ns\": %.1f, \"mem_latency_span\": \"%s\"},\n  \"rows\": [\n",
               mc.cpu, mc.cores, mc.kernel, __VERSION__, SOFTMMU_BENCH_BUILD_TYPE, mc.uc, bench.reps,
               bench.quick ? "true" : "false", mc.lat_ns, mc.lat_span);
        return;
    }
    printf("softmmu-bench %d.%d.%d  machine: %s, %ld cores, Linux %s\n", SOFTMMU_VERSION_MAJOR,
           SOFTMMU_VERSION_MINOR, SOFTMMU_VERSION_PATCH, mc.cpu, mc.cores, mc.kernel);
    printf("memory latency: %.0f ns per dependent load over %s\n", mc.lat_ns, mc.lat_span);
    printf("build: %s, cc %s; unicorn: %s; median of %d reps after a warm-up%s\n", SOFTMMU_BENCH_BUILD_TYPE,
           __VERSION__, mc.uc, bench.reps, bench.quick ? "; --quick (tiny sizes)" : "");
    printf("ratio = ours / baseline; time units: lower is better, GB/s and Minsn/s: higher is better\n\n");
    printf("%-20s %-45s %11s  %-24s %8s  %-9s %-4s %12s\n", "row", "workload", "ours", "baseline", "ratio",
           "target", "", "unicorn");
}

static void print_footer(void)
{
    if (bench.json) {
        printf("\n  ],\n  \"targets\": {\"met\": %u, \"missed\": %u, \"unknown\": %u}\n}\n", n_met, n_missed,
               n_unknown);
        return;
    }
    printf("\n%u rows; targets: %u met, %u missed%s%s%s, %u n/a\n", n_rows, n_met, n_missed,
           n_missed ? " (" : "", missed, n_missed ? ")" : "", n_unknown);
}

/* --------------------------------------------------------------- main */

static void usage(FILE *f)
{
    fprintf(f, "usage: softmmu-bench [--quick] [--json] [--filter SUBSTR] [--reps N]\n"
               "  --quick     tiny sizes (a smoke run of a few seconds)\n"
               "  --json      print JSON instead of the table\n"
               "  --filter S  run only rows whose name contains S\n"
               "  --reps N    timed repetitions per figure, median reported (default 9, 5 with --quick)\n");
}

static bool parse_args(int argc, char **argv)
{
    bool reps_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--quick"))
            bench.quick = true;
        else if (!strcmp(a, "--json"))
            bench.json = true;
        else if (!strcmp(a, "--filter") && i + 1 < argc)
            bench.filter = argv[++i];
        else if (!strcmp(a, "--reps") && i + 1 < argc && (bench.reps = atoi(argv[++i])) > 0)
            reps_given = true;
        else
            return false;
    }
    if (!reps_given && bench.quick)
        bench.reps = 5;
    return true;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    if (!parse_args(argc, argv)) {
        usage(stderr);
        return 2;
    }
    print_header();
    bench_tlb();
    bench_hooks();
    bench_map();
    bench_search();
    bench_snapshot();
    bench_cpu();
    bench_programs();
    print_footer();
    return 0;
}

/* ------------------------------------------------------------ helpers */

/* the same pseudo-random bytes for every filled memory */
static void fill_chunk(uint8_t *buf, size_t n, uint64_t *rng)
{
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t v = bench_rand(rng);
        memcpy(buf + i, &v, 8);
    }
}

mmu_t *bench_mmu_filled(uint64_t base, uint64_t size, unsigned tlb_entries)
{
    mmu_config cfg = { .tlb_entries = tlb_entries };
    mmu_t *m;
    static uint8_t chunk[64 * 1024];
    uint64_t rng = BENCH_SEED;
    if (mmu_open(&cfg, &m) != MMU_OK)
        return NULL;
    mmu_err err = mmu_map(m, base, size, MMU_PROT_READ | MMU_PROT_WRITE, "bench");
    for (uint64_t off = 0; !err && off < size; off += sizeof chunk) {
        fill_chunk(chunk, sizeof chunk, &rng);
        err = mmu_write(m, base + off, chunk, size - off < sizeof chunk ? size - off : sizeof chunk);
    }
    if (err) {
        fprintf(stderr, "bench: mapping %#" PRIx64 "+%#" PRIx64 ": %s\n", base, size, mmu_strerror(err));
        mmu_close(m);
        return NULL;
    }
    return m;
}

#ifdef HAVE_UNICORN
uc_engine *bench_uc_filled(uint64_t base, uint64_t size)
{
    uc_engine *uc;
    static uint8_t chunk[64 * 1024];
    uint64_t rng = BENCH_SEED;
    if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK)
        return NULL;
    uc_err err = uc_mem_map(uc, base, size, UC_PROT_ALL);
    for (uint64_t off = 0; !err && off < size; off += sizeof chunk) {
        fill_chunk(chunk, sizeof chunk, &rng);
        err = uc_mem_write(uc, base + off, chunk, size - off < sizeof chunk ? size - off : sizeof chunk);
    }
    if (err) {
        fprintf(stderr, "bench: unicorn mapping %#" PRIx64 "+%#" PRIx64 ": %s\n", base, size, uc_strerror(err));
        uc_close(uc);
        return NULL;
    }
    return uc;
}
#endif
