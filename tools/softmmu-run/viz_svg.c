/*
 * viz_svg.c - the two pictures both report formats share, as plain SVG
 * (fills as attributes, hover text as <title>, no script, no external
 * reference), so the .svg variant opens in any viewer:
 *  - the address space on a broken axis: high addresses at the top, runs of
 *    regions to one scale, gaps over VIZ_GAP_BREAK cut out and labelled with
 *    their size; each region pale where its pages were never touched (no
 *    page-table entry, MMU_PAGE_PRESENT clear) and full colour where they were;
 *  - the page table: the top level's slots, each pointing at its leaf drawn
 *    as a 64 x 8 grid of its 512 entries.
 */
#include "viz.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SPACE_W 900
#define BAR_X 150
#define BAR_W 190
#define MIN_H 6             /* a region smaller than this many pixels is drawn at it */
#define BREAK_H 30          /* height of a cut-out gap */
#define VIZ_GAP_BREAK (UINT64_C(256) << 10) /* gaps above 256 KiB are cut out */
#define MAX_REGIONS 300     /* regions drawn; more are counted in a note */
#define LEAF_COLS 64
#define LEAF_ROWS (MMU_PT_LEAF_ENTRIES / LEAF_COLS)
#define CELL 11
#define LABEL_H 15

void viz_esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n')
                fputc(*s, f);
        }
    }
}

/* ------------------------------------------------------------- the leaves */

typedef struct leaf_copy {
    mmu_pt_leaf *leaf;
    size_t n, max, total;
    uint64_t present;
} leaf_copy;

static bool copy_leaf(void *user, const mmu_pt_leaf *leaf)
{
    leaf_copy *c = user;
    c->total++;
    c->present += leaf->present;
    if (c->n < c->max)
        c->leaf[c->n++] = *leaf;
    return true;
}

/* the first max leaves of the table, and the present pages of all */
bool viz_leaves_get(mmu_t *m, viz_leaves *out, size_t max)
{
    leaf_copy c = { calloc(max, sizeof(mmu_pt_leaf)), 0, max, 0, 0 };
    if (!c.leaf || mmu_pt_walk(m, copy_leaf, &c) != MMU_OK)
        return free(c.leaf), false;
    *out = (viz_leaves){ c.leaf, c.n, c.total, c.present };
    return true;
}

unsigned viz_page_state(const viz_leaves *l, uint64_t page, unsigned *perms)
{
    uint64_t top = page >> MMU_PT_TOP_SHIFT;
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->leaf[mid].top < top)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == l->n || l->leaf[lo].top != top)
        return *perms = 0, 0;
    unsigned i = (unsigned)((page >> MMU_PAGE_BITS) % MMU_PT_LEAF_ENTRIES);
    *perms = l->leaf[lo].perms[i];
    return l->leaf[lo].page[i];
}

const char *viz_perm_color(unsigned perms)
{
    static const char *const color[8] = {
        "#9e9e9e", /* --- */ "#4a7fd4", /* r-- */ "#8e5bb5", /* -w- */ "#e8892c", /* rw- */
        "#8e5bb5", /* --x */ "#3a9d5d", /* r-x */ "#8e5bb5", /* -wx */ "#d64541", /* rwx */
    };
    return color[perms & 7];
}

/* ------------------------------------------------------- the address space */

static const char *human(uint64_t bytes, char *buf, size_t cap)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 6)
        v /= 1024, u++;
    snprintf(buf, cap, u && v < 10 ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

typedef struct span_px {
    uint64_t lo, hi; /* a run of regions drawn to scale: [lo, hi) */
    double   y_hi;   /* y of hi (the top) */
    double   scale;  /* pixels per byte */
} span_px;

typedef struct layout {
    mmu_region *reg;
    size_t      n, total;
    double     *y0, *y1;   /* each region's top and bottom */
    span_px     sp[MAX_REGIONS];
    size_t      n_sp;
    double      height;
} layout;

/* runs of regions whose gaps are small, highest first */
static void make_spans(layout *L)
{
    L->n_sp = 0;
    for (size_t i = L->n; i-- > 0;) {
        if (L->n_sp && L->sp[L->n_sp - 1].lo - L->reg[i].end <= VIZ_GAP_BREAK) {
            L->sp[L->n_sp - 1].lo = L->reg[i].start;
            continue;
        }
        L->sp[L->n_sp++] = (span_px){ L->reg[i].start, L->reg[i].end, 0, 0 };
    }
}

/* one scale for every span; regions below MIN_H get MIN_H */
static void place(layout *L)
{
    uint64_t bytes = 0;
    for (size_t s = 0; s < L->n_sp; s++)
        bytes += L->sp[s].hi - L->sp[s].lo;
    double avail = 560.0 - BREAK_H * (double)(L->n_sp ? L->n_sp - 1 : 0);
    double scale = (avail < 300 ? 300 : avail) / (double)(bytes ? bytes : 1), y = 40;
    size_t i = L->n;
    for (size_t s = 0; s < L->n_sp; s++) {
        span_px *p = &L->sp[s];
        p->y_hi = y, p->scale = scale;
        uint64_t top = p->hi;
        while (i > 0 && L->reg[i - 1].start >= p->lo) {
            i--;
            y += (double)(top - L->reg[i].end) * scale; /* a small gap, to scale */
            double h = (double)(L->reg[i].end - L->reg[i].start) * scale;
            L->y0[i] = y;
            y += h < MIN_H ? MIN_H : h;
            L->y1[i] = y;
            top = L->reg[i].start;
        }
        y += BREAK_H;
    }
    L->height = y;
}

/* y of an address: in a span by its regions, in a cut-out gap at its middle */
static double addr_y(const layout *L, uint64_t a)
{
    for (size_t i = 0; i < L->n; i++)
        if (a >= L->reg[i].start && a < L->reg[i].end)
            return L->y0[i] + (L->y1[i] - L->y0[i]) * (double)(L->reg[i].end - a) /
                                  (double)(L->reg[i].end - L->reg[i].start);
    for (size_t s = 0; s < L->n_sp; s++)
        if (a >= L->sp[s].lo)
            return L->sp[s].y_hi - (a >= L->sp[s].hi ? BREAK_H / 2.0 : 0);
    return L->height - BREAK_H / 2.0;
}

/* the map-info line of each region (Qiling's table), NULL if unavailable */
static char **mapinfo_lines(run_t *r, size_t n, char **buf)
{
    size_t len = 0;
    *buf = NULL;
    mmu_err err = mmu_format_mapinfo(r->m, NULL, 0, &len);
    if ((err != MMU_OK && err != MMU_ERR_ARG) || !(*buf = malloc(len + 1)))
        return NULL;
    char **line = calloc(n + 1, sizeof *line);
    if (!line || mmu_format_mapinfo(r->m, *buf, len + 1, &len) != MMU_OK)
        return free(line), NULL;
    size_t k = 0;
    for (char *p = *buf, *save = NULL, *t; (t = strtok_r(p, "\n", &save)) && k <= n; p = NULL)
        line[k++] = t;
    if (k != n + 1)
        return free(line), NULL;
    return line;
}

/* the pale body, the touched pixel rows in full colour; returns touched pages */
static uint64_t draw_pages(FILE *f, const viz_leaves *l, const mmu_region *g, double y0, double y1)
{
    const char *col = viz_perm_color(g->perms);
    uint64_t pages = (g->end - g->start) >> MMU_PAGE_BITS, touched = 0;
    int rows = (int)(y1 - y0 + 0.5), run = -1;
    fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.28\" "
               "stroke=\"%s\" stroke-width=\"1\"/>", BAR_X, y0, BAR_W, y1 - y0, col, col);
    for (int row = 0; row <= rows; row++) {
        bool hit = false;
        if (row < rows) { /* pages in this pixel row: highest addresses at the top */
            double lo_f = (double)pages * (rows - row - 1) / rows, hi_f = (double)pages * (rows - row) / rows;
            uint64_t p_lo = (uint64_t)lo_f, p_hi = (uint64_t)hi_f + ((double)(uint64_t)hi_f < hi_f);
            for (uint64_t p = p_lo; p < p_hi && p < p_lo + 4096; p++) {
                unsigned perms;
                if (viz_page_state(l, g->start + (p << MMU_PAGE_BITS), &perms) & MMU_PAGE_PRESENT)
                    hit = true, touched++;
            }
        }
        if (hit && run < 0)
            run = row;
        if (!hit && run >= 0) {
            fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"%s\"/>", BAR_X + 1,
                    y0 + run, BAR_W - 2, row - run, col);
            run = -1;
        }
    }
    return touched;
}

static void draw_region(FILE *f, const layout *L, const viz_leaves *l, size_t i, const char *info, double *label_y)
{
    const mmu_region *g = &L->reg[i];
    char sz[32];
    uint64_t pages = (g->end - g->start) >> MMU_PAGE_BITS;
    /* touched pages, counted exactly (draw_pages counts at most 4096 a pixel row) */
    uint64_t touched = 0;
    for (uint64_t p = 0; p < pages; p++) {
        unsigned perms;
        touched += (viz_page_state(l, g->start + (p << MMU_PAGE_BITS), &perms) & MMU_PAGE_PRESENT) != 0;
    }
    fprintf(f, "<g class=\"region\" data-start=\"0x%" PRIx64 "\" data-end=\"0x%" PRIx64 "\" data-pages=\"%" PRIu64
               "\" data-touched=\"%" PRIu64 "\" data-info=\"", g->start, g->end, pages, touched);
    viz_esc(f, info);
    fputs("\"><title>", f);
    viz_esc(f, info);
    fputs("</title>", f);
    draw_pages(f, l, g, L->y0[i], L->y1[i]);
    double cy = (L->y0[i] + L->y1[i]) / 2, ly = cy < *label_y ? *label_y : cy;
    *label_y = ly + LABEL_H;
    fprintf(f, "<path d=\"M%d %.1fL%d %.1fL%d %.1f\" stroke=\"#999\" fill=\"none\"/>", BAR_X + BAR_W, cy,
            BAR_X + BAR_W + 14, ly, BAR_X + BAR_W + 20, ly);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"lab\"><tspan font-weight=\"bold\">%c%c%c ", BAR_X + BAR_W + 24,
            ly + 4, g->perms & 1 ? 'r' : '-', g->perms & 2 ? 'w' : '-', g->perms & 4 ? 'x' : '-');
    viz_esc(f, g->label ? g->label : "");
    fprintf(f, "</tspan> 0x%" PRIx64 "\u20130x%" PRIx64 " \u00b7 %s \u00b7 %" PRIu64 " of %" PRIu64
               " pages touched</text></g>\n", g->start, g->end, human(g->end - g->start, sz, sizeof sz), touched, pages);
}

/* the zigzag of a cut-out gap below span s, with the gap's size */
static void draw_break(FILE *f, const layout *L, size_t s, double y)
{
    char sz[32];
    uint64_t gap = L->sp[s].lo - (s + 1 < L->n_sp ? L->sp[s + 1].hi : 0);
    double m = y + BREAK_H / 2.0;
    fprintf(f, "<path d=\"M%d %.1fl10 -5l10 10l10 -10l10 10l10 -10l10 10l10 -10l10 10l10 -10l10 10l10 -10l10 10"
               "l10 -10l10 10l10 -10l10 10l10 -10l10 10l10 -5\" stroke=\"#888\" fill=\"none\" stroke-dasharray=\"3 2\"/>",
            BAR_X, m);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"gap\" text-anchor=\"end\">gap %s</text>\n", BAR_X - 8, m + 4,
            human(gap, sz, sizeof sz));
    if (y - L->sp[s].y_hi > 24) /* room for the span's lowest address under its highest */
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"addr\" text-anchor=\"end\">0x%" PRIx64 "</text>", BAR_X - 8,
                y - 3, L->sp[s].lo);
}

static void draw_crash(FILE *f, const layout *L, const viz *v)
{
    if (!v || !v->crashed)
        return;
    double y = addr_y(L, v->crash_addr);
    fprintf(f, "<g class=\"crash\"><title>the guest stopped here: 0x%" PRIx64 "</title>"
               "<path d=\"M%d %.1fl-12 -7v14z\" fill=\"#c0392b\"/><text x=\"%d\" y=\"%.1f\" class=\"crashlab\" "
               "text-anchor=\"end\">crash 0x%" PRIx64 "</text></g>\n",
            v->crash_addr, BAR_X - 2, y, BAR_X - 16, y + 4, v->crash_addr);
}

static bool layout_make(run_t *r, layout *L)
{
    memset(L, 0, sizeof *L);
    L->total = mmu_regions(r->m, NULL, 0);
    L->n = L->total < MAX_REGIONS ? L->total : MAX_REGIONS;
    L->reg = calloc(L->n + 1, sizeof *L->reg);
    L->y0 = calloc(L->n + 1, sizeof *L->y0);
    L->y1 = calloc(L->n + 1, sizeof *L->y1);
    if (!L->reg || !L->y0 || !L->y1)
        return false;
    mmu_regions(r->m, L->reg, L->n);
    make_spans(L);
    place(L);
    return true;
}

static void layout_free(layout *L)
{
    free(L->reg), free(L->y0), free(L->y1);
}

static void space_body(FILE *f, run_t *r, const viz_leaves *l, layout *L, char **info)
{
    double label_y = 0;
    size_t i = L->n;
    for (size_t s = 0; s < L->n_sp; s++) {
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"addr\" text-anchor=\"end\">0x%" PRIx64 "</text>", BAR_X - 8,
                L->sp[s].y_hi + 4, L->sp[s].hi);
        while (i > 0 && L->reg[i - 1].start >= L->sp[s].lo) {
            i--;
            char own[200];
            if (!info)
                snprintf(own, sizeof own, "0x%" PRIx64 " - 0x%" PRIx64 " perms %u %s", L->reg[i].start,
                         L->reg[i].end, L->reg[i].perms, L->reg[i].label ? L->reg[i].label : "");
            draw_region(f, L, l, i, info ? info[i + 1] : own, &label_y);
        }
        double bottom = i < L->n ? L->y1[i] : L->sp[s].y_hi;
        draw_break(f, L, s, bottom);
    }
    draw_crash(f, L, r->viz);
    if (L->total > L->n)
        fprintf(f, "<text x=\"10\" y=\"%.0f\" class=\"note\">%zu more regions not drawn</text>", L->height + 10,
                L->total - L->n);
    if (label_y > L->height)
        L->height = label_y;
}

int viz_svg_space(FILE *f, run_t *r, const viz_leaves *l, int y)
{
    layout L;
    char *buf = NULL, **info = NULL;
    if (!layout_make(r, &L)) {
        layout_free(&L);
        return 0;
    }
    if (L.n == L.total) /* else the lines past the cap would not match: each region gets its own */
        info = mapinfo_lines(r, L.n, &buf);
    FILE *body = NULL;
    char *text = NULL;
    size_t len = 0;
    if (!(body = open_memstream(&text, &len))) {
        free(info), free(buf), layout_free(&L);
        return 0;
    }
    space_body(body, r, l, &L, info);
    fclose(body);
    int h = (int)L.height + 24;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"space\" y=\"%d\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\" data-regions=\"%zu\">\n",
            y, SPACE_W, h, SPACE_W, h, L.total);
    fputs("<style>.lab{font-size:12px;fill:#222}.addr{font:11px monospace;fill:#555}.gap{font-size:11px;"
          "fill:#777;font-style:italic}.note{font-size:11px;fill:#777}.crashlab{font:bold 11px monospace;"
          "fill:#c0392b}.region:hover rect{stroke:#000;stroke-width:2}</style>\n", f);
    fprintf(f, "<text x=\"10\" y=\"18\" font-size=\"15\" font-weight=\"bold\">Address space</text>"
               "<text x=\"%d\" y=\"18\" class=\"note\">high addresses on top \u00b7 runs of regions to scale "
               "(at least %d px each) \u00b7 gaps over %s cut out \u00b7 pale = never touched</text>\n",
            150, MIN_H, "256 KiB");
    fwrite(text, 1, len, f);
    fputs("</svg>\n", f);
    free(text), free(info), free(buf), layout_free(&L);
    return h;
}

/* ------------------------------------------------------------ page table */

/* the colour class of one entry: 0 no entry and unmapped, else by state */
static const char *cell_fill(unsigned st, unsigned perms, double *op)
{
    *op = 1;
    if (st & MMU_PAGE_MMIO)
        return "#795548";
    if (st & MMU_PAGE_PRESENT)
        return viz_perm_color(perms);
    if (st & MMU_PAGE_MAPPED)
        return *op = 0.28, viz_perm_color(perms);
    return NULL;
}

static void draw_leaf(FILE *f, const mmu_pt_leaf *lf, double y)
{
    int gx = 170;
    uint64_t mapped = 0;
    for (unsigned i = 0; i < MMU_PT_LEAF_ENTRIES; i++)
        mapped += (lf->page[i] & MMU_PAGE_MAPPED) != 0;
    fprintf(f, "<g class=\"leaf\" data-top=\"0x%" PRIx64 "\" data-base=\"0x%" PRIx64 "\" data-present=\"%u\">",
            lf->top, lf->base, lf->present);
    fprintf(f, "<rect x=\"20\" y=\"%.0f\" width=\"110\" height=\"22\" rx=\"3\" fill=\"#fff\" stroke=\"#555\"/>"
               "<text x=\"75\" y=\"%.0f\" text-anchor=\"middle\" class=\"mono\">slot 0x%" PRIx64 "</text>",
            y + 30, y + 45, lf->top);
    fprintf(f, "<path d=\"M130 %.0fH%d\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>", y + 41, gx - 4);
    fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"lab\">leaf 0x%" PRIx64 "\u20130x%" PRIx64 " \u00b7 %u present, %"
               PRIu64 " mapped of 512</text>", gx, y + 12, lf->base,
            lf->base + ((uint64_t)MMU_PT_LEAF_ENTRIES << MMU_PAGE_BITS) - 1, lf->present, mapped);
    fprintf(f, "<rect x=\"%d\" y=\"%.0f\" width=\"%d\" height=\"%d\" fill=\"#f3f3f3\"/>", gx, y + 18,
            LEAF_COLS * CELL, LEAF_ROWS * CELL);
    for (int row = 0; row < (int)LEAF_ROWS; row++)
        for (int c = 0; c < LEAF_COLS;) {
            unsigned i = (unsigned)(row * LEAF_COLS + c);
            double op;
            const char *fill = cell_fill(lf->page[i], lf->perms[i], &op);
            int e = c + 1;
            while (e < LEAF_COLS && lf->page[i + (unsigned)(e - c)] == lf->page[i] &&
                   lf->perms[i + (unsigned)(e - c)] == lf->perms[i])
                e++;
            if (fill)
                fprintf(f, "<rect x=\"%d\" y=\"%.0f\" width=\"%d\" height=\"%d\" fill=\"%s\"%s/>", gx + c * CELL,
                        y + 18 + row * CELL, (e - c) * CELL, CELL, fill, op < 1 ? " fill-opacity=\"0.28\"" : "");
            c = e;
        }
    fprintf(f, "<rect class=\"cells\" x=\"%d\" y=\"%.0f\" width=\"%d\" height=\"%d\" fill=\"url(#cellgrid)\" "
               "data-base=\"0x%" PRIx64 "\"/></g>\n", gx, y + 18, LEAF_COLS * CELL, LEAF_ROWS * CELL, lf->base);
}

int viz_svg_pt(FILE *f, const viz_leaves *l, int y)
{
    size_t n = l->n < VIZ_LEAVES_DRAWN ? l->n : VIZ_LEAVES_DRAWN;
    int row_h = LEAF_ROWS * CELL + 3 * CELL, /* a multiple of CELL: the grid pattern lines up with every leaf */ h = 70 + (int)n * row_h + (l->total > n ? 20 : 0);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"pt\" y=\"%d\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\" data-leaves=\"%zu\" "
               "data-present=\"%" PRIu64 "\">\n", y, SPACE_W, h, SPACE_W, h, l->total, l->present);
    fprintf(f, "<defs><pattern id=\"cellgrid\" x=\"170\" y=\"68\" width=\"%d\" height=\"%d\" "
               "patternUnits=\"userSpaceOnUse\">"
               "<path d=\"M%d 0V%dH0\" fill=\"none\" stroke=\"#fff\" stroke-width=\"1\"/></pattern>"
               "<marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" "
               "orient=\"auto\"><path d=\"M0 0L8 4L0 8z\" fill=\"#555\"/></marker></defs>\n",
            CELL, CELL, CELL, CELL);
    fputs("<style>.lab{font-size:12px;fill:#222}.mono{font:11px monospace}.note{font-size:11px;fill:#777}</style>\n", f);
    fprintf(f, "<text x=\"10\" y=\"18\" font-size=\"15\" font-weight=\"bold\">Page table</text>"
               "<text x=\"110\" y=\"18\" class=\"note\">top level: a hash table of slots (address &gt;&gt; 21), "
               "each pointing at a leaf of 512 entries (one per 4 KiB page, 64 per row)</text>"
               "<text x=\"20\" y=\"52\" class=\"note\">top level (%zu slots)</text>\n", l->total);
    if (n)
        fprintf(f, "<rect x=\"12\" y=\"60\" width=\"126\" height=\"%d\" fill=\"#f7f7f7\" stroke=\"#bbb\"/>",
                (int)n * row_h);
    for (size_t i = 0; i < n; i++)
        draw_leaf(f, &l->leaf[i], 50 + (double)i * row_h);
    if (l->total > n)
        fprintf(f, "<text x=\"20\" y=\"%d\" class=\"note\">%zu more leaves not drawn</text>", h - 8, l->total - n);
    fputs("</svg>\n", f);
    return h;
}

/* the .svg variant: both pictures, one above the other */
void viz_svg_file(FILE *f, run_t *r, const viz_leaves *l)
{
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    FILE *fa = open_memstream(&a, &na), *fb = open_memstream(&b, &nb);
    int h1 = fa ? viz_svg_space(fa, r, l, 0) : 0;
    int h2 = fb ? viz_svg_pt(fb, l, h1) : 0;
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
            SPACE_W, h1 + h2, SPACE_W, h1 + h2);
    if (a)
        fwrite(a, 1, na, f);
    if (b)
        fwrite(b, 1, nb, f);
    fputs("</svg>\n", f);
    free(a), free(b);
}
