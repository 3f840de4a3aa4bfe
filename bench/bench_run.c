/*
 * bench_run.c - real programs under softmmu-run, next to the same programs
 * under qemu-x86_64 (Debian's qemu-user, a JIT) and natively, in one run:
 *
 *   run.<prog>          a corpus program (gcc -O2 -static, glibc) vs qemu
 *   run.<prog>.native   the same vs native
 *   run.busybox.gzip    busybox gzip -c of a generated text file vs qemu
 *   run.busybox.sh      busybox sh running a 1000-step loop vs qemu
 *
 * Paths come from the build (softmmu-run, the corpus binaries, qemu-x86_64
 * where installed, /bin/busybox); a missing one makes its row n/a. Each
 * repetition is one process, wall clock, its output thrown away; a run
 * whose exit status is not 0 makes the figure NAN.
 */
#include "bench.h"

#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef SOFTMMU_RUN_PATH
#define SOFTMMU_RUN_PATH ""
#endif
#ifndef SOFTMMU_CORPUS_BIN
#define SOFTMMU_CORPUS_BIN ""
#endif
#ifndef SOFTMMU_QEMU
#define SOFTMMU_QEMU ""
#endif
#define BUSYBOX "/bin/busybox"

/* argv of one command: a runner (or none: native) and the program's argv */
typedef struct cmd {
    const char *argv[12];
} cmd;

static bool usable(const char *path)
{
    return path[0] && access(path, X_OK) == 0;
}

/* seconds of one run of c, stdout and stderr to /dev/null; NAN unless it
 * exits 0 */
static double run_once(void *ctx)
{
    const cmd *c = ctx;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    double t0 = bench_now_ns();
    pid_t pid;
    int st = -1;
    int err = posix_spawn(&pid, c->argv[0], &fa, NULL, (char *const *)c->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err || waitpid(pid, &st, 0) != pid)
        return NAN;
    double t = (bench_now_ns() - t0) / 1e9;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? t : NAN;
}

/* c with runner (NULL: native) in front of prog's argv */
static cmd with_runner(const char *runner, const char *const *prog)
{
    cmd c = { { 0 } };
    size_t k = 0;
    if (runner)
        c.argv[k++] = runner;
    for (size_t i = 0; prog[i] && k < 11; i++)
        c.argv[k++] = prog[i];
    return c;
}

/* rows run.NAME (vs qemu, target ratio <= 3) and run.NAME.native */
static void program_rows(const char *name, const char *desc, const char *const *prog)
{
    char id[64], id_native[72];
    snprintf(id, sizeof id, "run.%s", name);
    snprintf(id_native, sizeof id_native, "run.%s.native", name);
    if (!bench_want(id) && !bench_want(id_native))
        return;
    bool ok = usable(SOFTMMU_RUN_PATH) && usable(prog[0]);
    cmd ours = with_runner(SOFTMMU_RUN_PATH, prog), qemu = with_runner(SOFTMMU_QEMU, prog);
    cmd native = with_runner(NULL, prog);
    bench_job jobs[3] = { { ok ? run_once : NULL, &ours },
                          { ok && usable(SOFTMMU_QEMU) ? run_once : NULL, &qemu },
                          { ok ? run_once : NULL, &native } };
    double out[3];
    bench_measure(jobs, 3, out);
    bench_row r = { .name = id, .unit = "s", .base_what = "qemu-x86_64", .peer = NAN, .goal = GOAL_RATIO_LE,
                    .target = 3, .ours = out[0], .base = out[1] };
    snprintf(r.desc, sizeof r.desc, "%s", desc);
    if (bench_want(id))
        bench_emit(&r);
    r.name = id_native, r.base = out[2], r.base_what = "native", r.goal = GOAL_NONE;
    if (bench_want(id_native))
        bench_emit(&r);
}

/* a compressible text file of n bytes for gzip; NULL on failure */
static const char *text_file(uint64_t n, char path[64])
{
    snprintf(path, 64, "/tmp/softmmu-bench-%d.txt", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    static const char *words[] = { "page ", "table ", "entry ", "guest ", "host ", "fault ", "map\n", "tlb " };
    uint64_t rng = BENCH_SEED;
    for (uint64_t i = 0; i < n;) {
        const char *w = words[bench_rand(&rng) & 7];
        fputs(w, f);
        i += strlen(w);
    }
    return fclose(f) == 0 ? path : NULL;
}

void bench_programs(void)
{
    char path[sizeof SOFTMMU_CORPUS_BIN + 32], file[64];
    static const char *const progs[][2] = { { "hash", "sha256, crc32, adler32, LZ77 round trip" },
                                            { "strings", "string.h on lengths 0-300, all alignments" } };
    for (size_t i = 0; !bench.quick && i < sizeof progs / sizeof *progs; i++) {
        snprintf(path, sizeof path, "%s/%s-gcc-O2", SOFTMMU_CORPUS_BIN, progs[i][0]);
        const char *argv[] = { path, NULL };
        program_rows(progs[i][0], progs[i][1], argv);
    }
    uint64_t n = BENCH_SIZE(4 * MiB, 64 * KiB);
    const char *txt = text_file(n, file);
    char desc[64];
    snprintf(desc, sizeof desc, "busybox gzip -c of %" PRIu64 " KiB of text", n / KiB);
    const char *gz[] = { BUSYBOX, "gzip", "-c", txt ? txt : "/nonexistent", NULL };
    program_rows("busybox.gzip", desc, gz);
    const char *sh[] = { BUSYBOX, "sh", "-c", bench.quick ? "i=0; while [ $i -lt 50 ]; do i=$((i+1)); done"
                                                          : "i=0; while [ $i -lt 1000 ]; do i=$((i+1)); done",
                         NULL };
    program_rows("busybox.sh", bench.quick ? "busybox sh, a 50-step loop" : "busybox sh, a 1000-step loop", sh);
    if (txt)
        unlink(txt);
}
