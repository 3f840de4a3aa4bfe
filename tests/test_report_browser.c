/*
 * test_report_browser.c - the --report page in a real browser: headless
 * Chromium renders the reports of two example programs to PNG, which this
 * test decodes (zlib) to check the size and that the picture is not blank;
 * then Chromium dumps the DOM after the page's script ran: the script marks
 * <html data-report="ok"> when it finished, and its console must be clean
 * (an error or an uncaught exception is logged as a CONSOLE line).
 */
#include "run_util.h"

#include <inttypes.h>
#include <sys/stat.h>
#include <zlib.h>

#define WIDTH 1100
#define HEIGHT 2400

static char tmpdir[64];

static void setup_dir(void)
{
    scratch_make(tmpdir, "softmmu-browser-test");
}

static void remove_dir(void)
{
    scratch_remove(tmpdir);
}

TestSuite(browser, .init = setup_dir, .fini = remove_dir, .timeout = 400);

static void sh(const char *cmd)
{
    int st = system(cmd);
    cr_assert_eq(st, 0, "failed (%d): %s", st, cmd);
}

static unsigned char *read_all(const char *path, size_t *n)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s missing", path);
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    cr_assert_not_null(buf);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    *n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    buf[*n] = 0;
    return buf;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

typedef struct picture {
    uint32_t w, h;
    unsigned channels;
    unsigned char *px; /* w * h * channels, unfiltered */
} picture;

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* an 8-bit RGB or RGBA PNG, as Chromium writes it */
static picture decode_png(const char *path)
{
    size_t n;
    unsigned char *f = read_all(path, &n);
    cr_assert(n > 33 && memcmp(f, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
    picture p = { be32(f + 16), be32(f + 20), f[25] == 6 ? 4 : 3, NULL };
    cr_assert(f[24] == 8 && (f[25] == 2 || f[25] == 6) && f[28] == 0, "8-bit RGB(A), not interlaced");
    unsigned char *idat = malloc(n);
    size_t m = 0;
    for (size_t at = 8; at + 12 <= n;) {
        uint32_t len = be32(f + at);
        if (memcmp(f + at + 4, "IDAT", 4) == 0)
            memcpy(idat + m, f + at + 8, len), m += len;
        at += 12 + (size_t)len;
    }
    size_t stride = (size_t)p.w * p.channels, raw_n = (stride + 1) * p.h;
    unsigned char *raw = malloc(raw_n);
    uLongf got = (uLongf)raw_n;
    cr_assert_eq(uncompress(raw, &got, idat, (uLong)m), Z_OK);
    cr_assert_eq(got, raw_n);
    p.px = calloc(stride * p.h, 1);
    for (uint32_t y = 0; y < p.h; y++) {
        const unsigned char *in = raw + y * (stride + 1) + 1;
        unsigned char *out = p.px + y * stride, *up = y ? out - stride : NULL;
        for (size_t x = 0; x < stride; x++) {
            int a = x >= p.channels ? out[x - p.channels] : 0, b = up ? up[x] : 0;
            int c = up && x >= p.channels ? up[x - p.channels] : 0, v = in[x];
            switch (in[-1]) {
            case 1: v += a; break;
            case 2: v += b; break;
            case 3: v += (a + b) / 2; break;
            case 4: v += paeth(a, b, c); break;
            default: break;
            }
            out[x] = (unsigned char)v;
        }
    }
    free(raw), free(idat), free(f);
    return p;
}

/* renders the report of program; checks the picture, the DOM and the console */
static void check_report(const char *name, const char *program, const char *opts)
{
    char cmd[2048], html[128], png[128], dom[128], log[128];
    snprintf(html, sizeof html, "%s/%s.html", tmpdir, name);
    snprintf(png, sizeof png, "%s/%s.png", tmpdir, name);
    snprintf(dom, sizeof dom, "%s/%s.dom", tmpdir, name);
    snprintf(log, sizeof log, "%s/%s.log", tmpdir, name);
    snprintf(cmd, sizeof cmd, "'%s' %s --report '%s' '%s' >/dev/null 2>&1", RUNNER, opts, html, program);
    sh(cmd);
    /* --no-sandbox: the test may run as root; HOME: a profile of its own */
#define CHROME "HOME='%s' timeout 120 '" CHROMIUM "' --headless --no-sandbox --disable-gpu --no-first-run " \
               "--hide-scrollbars --disable-extensions "
    snprintf(cmd, sizeof cmd, CHROME "--window-size=%d,%d --screenshot='%s' 'file://%s' >/dev/null 2>&1", tmpdir,
             WIDTH, HEIGHT, png, html);
    sh(cmd);
    picture p = decode_png(png);
    cr_expect_eq(p.w, WIDTH);
    cr_expect_eq(p.h, HEIGHT);
    size_t inked = 0, colored = 0, total = (size_t)p.w * p.h;
    for (size_t i = 0; i < total; i++) {
        const unsigned char *q = p.px + i * p.channels;
        int mx = q[0] > q[1] ? (q[0] > q[2] ? q[0] : q[2]) : (q[1] > q[2] ? q[1] : q[2]);
        int mn = q[0] < q[1] ? (q[0] < q[2] ? q[0] : q[2]) : (q[1] < q[2] ? q[1] : q[2]);
        inked += mx < 235;
        colored += mx - mn > 60; /* the coloured regions, cells and plots */
    }
    cr_expect_gt(inked, total / 50, "%s: %zu of %zu pixels not white: blank?", name, inked, total);
    /* the coloured area depends on the run (the TLB grid has the TLB's size
     * at the end, 256 cells for a small program): a blank or uncoloured page
     * has almost none */
    cr_expect_gt(colored, total / 250, "%s: %zu coloured pixels", name, colored);
    free(p.px);
    snprintf(cmd, sizeof cmd, CHROME "--enable-logging=stderr --v=0 --dump-dom 'file://%s' >'%s' 2>'%s'", tmpdir,
             html, dom, log);
    sh(cmd);
    size_t n;
    char *d = (char *)read_all(dom, &n), *l = (char *)read_all(log, &n);
    cr_expect(strstr(d, "data-report=\"ok\""), "%s: the page's script did not finish", name);
    cr_expect(strstr(d, "id=\"scriptstate\">interactive: hover and click"), "%s: the script's marker", name);
    cr_expect_null(strstr(l, ":CONSOLE"), "%s: console output: %s", name, strstr(l, ":CONSOLE"));
    free(d), free(l);
}

Test(browser, sieve_report_renders_and_its_script_runs_clean)
{
    check_report("sieve", EXAMPLES "/sieve", "--demand-paging --stats");
}

Test(browser, mmap_fault_report_renders_and_its_script_runs_clean)
{
    check_report("mmap_fault", EXAMPLES "/mmap_fault", "--stats");
}
