/*
 * viz_html.c - the --report FILE.html page: one self-contained file (inline
 * SVG, CSS and a little script; no network) with the address space and the
 * page table (viz_svg.c), the TLB, the timeline and the --stats figures.
 * Per-page explanations (mmu_explain for read, write and fetch) and the
 * samples travel as one JSON block the script reads; the pictures are
 * drawn here, so they show even without the script.
 */
#include "viz.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXPLAINED 2048 /* present pages explained, lowest first */
#define MAX_TLB_CELLS 2048 /* TLB grid cells: a larger TLB groups slots per cell */
#define TLB_COLS 64
#define TLB_CELL 12
#define EVENT_ROWS 300     /* rows of the event table */
#define TL_X 150           /* timeline: left edge of the plots */
#define TL_W 760

static const char *const kind_name[VIZ_KINDS] = {
    "MMU faults", "demand faults", "signals", "mmap", "munmap", "mprotect", "brk", "TLB flushes",
    "snapshot restores", "execve", "crash",
};
static const char *const kind_color[VIZ_KINDS] = {
    "#c0392b", "#e67e22", "#8e44ad", "#2e86c1", "#16a085", "#d4ac0d", "#7f8c8d", "#34495e",
    "#a04000", "#117a65", "#c0392b",
};

/* a JSON string (also safe inside <script>: no "</") */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&')
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static const char css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:12px 20px;color:#222;"
    "background:#fff}h1{font-size:21px;margin:6px 0}h2{font-size:17px;margin:22px 0 4px;border-bottom:1px solid "
    "#ddd}.sub{color:#555}.hint{color:#666;font-size:13px;margin:2px 0 6px}.panel{font:12px/1.5 monospace;"
    "background:#f6f8fa;border:1px solid #dde;border-radius:4px;padding:6px 10px;white-space:pre-wrap;min-height:"
    "1.5em}table{border-collapse:collapse;font-size:13px}td,th{padding:2px 10px;border-bottom:1px solid #eee;"
    "text-align:left}td.n{text-align:right;font-family:monospace}.legend span{display:inline-block;margin-right:"
    "14px}.sw{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin-right:4px;border-radius:"
    "2px}svg{display:block;max-width:100%;height:auto}#pt rect.cells{cursor:pointer}details{margin:8px 0}";

static void legend(FILE *f)
{
    static const unsigned perms[] = { 5, 1, 3, 7, 0 };
    static const char *const name[] = { "r-x code", "r-- read-only", "rw- data, heap, stack", "rwx", "---" };
    fputs("<p class=\"legend\">", f);
    for (int i = 0; i < 5; i++)
        fprintf(f, "<span><i class=\"sw\" style=\"background:%s\"></i>%s</span>", viz_perm_color(perms[i]), name[i]);
    fprintf(f, "<span><i class=\"sw\" style=\"background:%s;opacity:.28\"></i>pale: mapped, never touched</span></p>\n",
            viz_perm_color(3));
}

/* ------------------------------------------------------------------- TLB */

typedef struct tlb_view {
    mmu_tlb_slot *slot;
    size_t n;
    uint64_t entries, per_cell, cells, max_fills, fills;
} tlb_view;

static bool tlb_get(mmu_t *m, tlb_view *t)
{
    memset(t, 0, sizeof *t);
    size_t n = mmu_tlb_dump(m, NULL, 0, &t->entries);
    t->slot = calloc(n + 1, sizeof *t->slot);
    if (!t->slot)
        return false;
    t->n = mmu_tlb_dump(m, t->slot, n, &t->entries);
    t->n = t->n < n ? t->n : n;
    t->cells = t->entries < MAX_TLB_CELLS ? t->entries : MAX_TLB_CELLS;
    t->per_cell = t->cells ? t->entries / t->cells : 1;
    for (size_t i = 0; i < t->n; i++)
        t->fills += t->slot[i].fills;
    return true;
}

/* one rect per cell in use: colour by the kinds that hit, darker with more fills */
static void tlb_svg(FILE *f, tlb_view *t)
{
    uint64_t rows = (t->cells + TLB_COLS - 1) / TLB_COLS;
    unsigned *kinds = calloc(t->cells + 1, sizeof *kinds);
    uint64_t *fills = calloc(t->cells + 1, sizeof *fills);
    if (!kinds || !fills) {
        free(kinds), free(fills);
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        uint64_t c = t->slot[i].slot / t->per_cell;
        kinds[c] |= t->slot[i].kinds | 8; /* 8: in use */
        fills[c] += t->slot[i].fills;
        t->max_fills = fills[c] > t->max_fills ? fills[c] : t->max_fills;
    }
    int w = TLB_COLS * TLB_CELL, h = (int)rows * TLB_CELL;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"tlb\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "data-entries=\"%" PRIu64 "\" data-used=\"%zu\"><rect width=\"%d\" height=\"%d\" fill=\"#eef0f3\"/>",
            w + 2, h + 2, w + 2, h + 2, t->entries, t->n, w, h);
    double lmax = log2(1.0 + (double)t->max_fills);
    for (uint64_t c = 0; c < t->cells; c++) {
        if (!kinds[c])
            continue;
        double op = 0.3 + 0.7 * (lmax > 0 ? log2(1.0 + (double)fills[c]) / lmax : 1);
        fprintf(f, "<rect x=\"%" PRIu64 "\" y=\"%" PRIu64 "\" width=\"%d\" height=\"%d\" fill=\"%s\" fill-opacity=\"%.2f\" "
                   "data-c=\"%" PRIu64 "\"/>", (c % TLB_COLS) * TLB_CELL + 1, (c / TLB_COLS) * TLB_CELL + 1,
                TLB_CELL - 1, TLB_CELL - 1, viz_perm_color(kinds[c] & 7), op, c);
    }
    fputs("</svg>\n", f);
    free(kinds), free(fills);
}

/* ------------------------------------------------------------- timeline */

static double tl_x(uint64_t insn, uint64_t total)
{
    return TL_X + (total ? (double)insn * TL_W / (double)total : 0);
}

/* a line chart over the samples; value(i) chooses the series */
static void polyline(FILE *f, const viz *v, uint64_t total, double y0, double h, double max, int which,
                     const char *color, bool area)
{
    fprintf(f, "<path fill=\"%s\" fill-opacity=\"0.25\" stroke=\"%s\" stroke-width=\"1.5\" d=\"", area ? color : "none",
            color);
    uint64_t prev = 0;
    for (unsigned i = 0; i < v->n; i++) {
        const viz_sample *s = &v->s[i];
        double val = which == 0 ? (double)s->present : which == 1 ? (double)s->mapped
                   : 1000.0 * (double)s->misses / (double)(s->end > prev ? s->end - prev : 1);
        double y = y0 + h - (max > 0 ? val / max * h : 0);
        fprintf(f, "%s%.1f %.1fH%.1f", i ? "L" : "M", tl_x(prev, total), y, tl_x(s->end, total));
        prev = s->end;
    }
    if (area && v->n)
        fprintf(f, "V%.1fH%.1fz", y0 + h, tl_x(0, total));
    fputs("\"/>\n", f);
}

static void axis(FILE *f, uint64_t total, double y)
{
    char b[32];
    fprintf(f, "<path d=\"M%d %.0fH%d\" stroke=\"#888\"/>", TL_X, y, TL_X + TL_W);
    for (int i = 0; i <= 4; i++) {
        uint64_t at = total / 4 * (uint64_t)i;
        fprintf(f, "<path d=\"M%.1f %.0fv5\" stroke=\"#888\"/><text x=\"%.1f\" y=\"%.0f\" class=\"t\" "
                   "text-anchor=\"%s\">%s</text>", tl_x(at, total), y, tl_x(at, total), y + 17,
                i == 0 ? "start" : i == 4 ? "end" : "middle", rpt_commas(i == 4 ? total : at, b));
    }
    fprintf(f, "<text x=\"%d\" y=\"%.0f\" class=\"t\" text-anchor=\"middle\">instructions executed</text>",
            TL_X + TL_W / 2, y + 32);
}

static void misses_chart(FILE *f, const viz *v, uint64_t total)
{
    double max = 0;
    uint64_t prev = 0;
    for (unsigned i = 0; i < v->n; i++) {
        double rate = 1000.0 * (double)v->s[i].misses / (double)(v->s[i].end > prev ? v->s[i].end - prev : 1);
        max = rate > max ? rate : max;
        prev = v->s[i].end;
    }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"misses\" width=\"%d\" height=\"150\" viewBox=\"0 0 %d "
               "150\" font-family=\"sans-serif\" font-size=\"11\"><style>.t{font-size:11px;fill:#555}</style>",
            TL_X + TL_W + 20, TL_X + TL_W + 20);
    fprintf(f, "<text x=\"%d\" y=\"20\" class=\"t\" text-anchor=\"end\">TLB misses</text><text x=\"%d\" y=\"34\" "
               "class=\"t\" text-anchor=\"end\">per 1,000 insns</text><text x=\"%d\" y=\"16\" class=\"t\" "
               "text-anchor=\"end\">%.2f</text><text x=\"%d\" y=\"104\" class=\"t\" text-anchor=\"end\">0</text>",
            TL_X - 40, TL_X - 40, TL_X - 4, max, TL_X - 4);
    polyline(f, v, total, 10, 90, max, 2, "#2e86c1", true);
    axis(f, total, 102);
    fputs("</svg>\n", f);
}

static void lane(FILE *f, const viz *v, uint64_t total, int k, double y)
{
    uint64_t sum = 0, prev = 0, max = 0;
    for (unsigned i = 0; i < v->n; i++)
        max = v->s[i].n[k] > max ? v->s[i].n[k] : max;
    fprintf(f, "<g class=\"lane\" data-kind=\"%s\"", kind_name[k]);
    for (unsigned i = 0; i < v->n; i++)
        sum += v->s[i].n[k];
    fprintf(f, " data-total=\"%" PRIu64 "\"><text x=\"%d\" y=\"%.0f\" class=\"t\" text-anchor=\"end\">%s (%" PRIu64
               ")</text><path d=\"M%d %.0fH%d\" stroke=\"#eee\"/>", sum, TL_X - 6, y + 13, kind_name[k], sum, TL_X,
            y + 17, TL_X + TL_W);
    double lmax = log2(1.0 + (double)max);
    for (unsigned i = 0; i < v->n; prev = v->s[i++].end) {
        if (!v->s[i].n[k])
            continue;
        double x0 = tl_x(prev, total), x1 = tl_x(v->s[i].end, total), h = 4 + 12 * log2(1.0 + v->s[i].n[k]) / lmax;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", x0, y + 17 - h,
                x1 - x0 < 1.5 ? 1.5 : x1 - x0, h, kind_color[k]);
    }
    for (unsigned i = 0; i < v->n_ev; i++) {
        const viz_event *e = &v->ev[i];
        if ((int)e->kind != k)
            continue;
        fprintf(f, "<path d=\"M%.1f %.0fv18\" stroke=\"%s\" stroke-width=\"1\" opacity=\"0.6\"><title>%s at "
                   "instruction %" PRIu64 ": 0x%" PRIx64 " len %" PRIu64 " = %" PRId64 "</title></path>",
                tl_x(e->insn, total), y, kind_color[k], kind_name[k], e->insn, e->addr, e->len, e->ret);
    }
    fputs("</g>\n", f);
}

static void timeline(FILE *f, const viz *v, uint64_t total)
{
    double max = 0;
    for (unsigned i = 0; i < v->n; i++) {
        max = (double)v->s[i].mapped > max ? (double)v->s[i].mapped : max;
        max = (double)v->s[i].present > max ? (double)v->s[i].present : max;
    }
    int lanes = VIZ_KINDS, h = 150 + lanes * 20 + 40;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
               "%d\" font-family=\"sans-serif\" font-size=\"11\" data-samples=\"%u\" data-k=\"%" PRIu64 "\">"
               "<style>.t{font-size:11px;fill:#444}</style>", TL_X + TL_W + 20, h, TL_X + TL_W + 20, h, v->n, v->k);
    fprintf(f, "<text x=\"%d\" y=\"20\" class=\"t\" text-anchor=\"end\">pages</text><text x=\"%d\" y=\"16\" class=\"t\" "
               "text-anchor=\"end\">%.0f</text><text x=\"%d\" y=\"134\" class=\"t\" text-anchor=\"end\">0</text>",
            TL_X - 40, TL_X - 4, max, TL_X - 4);
    fprintf(f, "<g class=\"t\"><rect x=\"%d\" y=\"40\" width=\"10\" height=\"3\" fill=\"#e8892c\"/><text x=\"%d\" y=\"44\">"
               "present</text><rect x=\"%d\" y=\"56\" width=\"10\" height=\"3\" fill=\"#555\"/><text x=\"%d\" y=\"60\">"
               "mapped</text></g>", 10, 24, 10, 24);
    polyline(f, v, total, 10, 120, max, 0, "#e8892c", true);
    polyline(f, v, total, 10, 120, max, 1, "#555", false);
    for (int k = 0; k < VIZ_KINDS; k++)
        lane(f, v, total, k, 140 + k * 20);
    axis(f, total, 140 + lanes * 20 + 2);
    fprintf(f, "<path id=\"cursor\" d=\"M0 0V%d\" stroke=\"#000\" stroke-dasharray=\"2 2\" visibility=\"hidden\"/>",
            140 + lanes * 20);
    fputs("</svg>\n", f);
}

/* ----------------------------------------------------------------- data */

static void explain_data(FILE *f, run_t *r, const viz_leaves *l)
{
    unsigned n = 0;
    fputs("\"pages\":{", f);
    for (size_t i = 0; i < l->n && i < VIZ_LEAVES_DRAWN && n < MAX_EXPLAINED; i++)
        for (unsigned e = 0; e < MMU_PT_LEAF_ENTRIES && n < MAX_EXPLAINED; e++) {
            if (!(l->leaf[i].page[e] & MMU_PAGE_PRESENT))
                continue;
            uint64_t page = l->leaf[i].base + ((uint64_t)e << MMU_PAGE_BITS);
            mmu_translation t[3];
            for (int k = 0; k < 3; k++)
                mmu_explain(r->m, page, (mmu_access)k, &t[k]);
            /* [tlb_page|"", tlb_kinds, hit bits, state, perms, region start, end, label, errs, fast bits, host] */
            fprintf(f, "%s\"%" PRIx64 "\":[\"%s%" PRIx64 "\",%u,%u,%u,%u,\"%" PRIx64 "\",\"%" PRIx64 "\",", n ? "," : "",
                    page, t[0].tlb_page == UINT64_MAX ? "-" : "", t[0].tlb_page == UINT64_MAX ? 0 : t[0].tlb_page,
                    t[0].tlb_kinds, t[0].tlb_hit | t[1].tlb_hit << 1 | t[2].tlb_hit << 2, t[0].page, t[0].perms,
                    t[0].region_start, t[0].region_end);
            json_str(f, t[0].label);
            fprintf(f, ",[%d,%d,%d],%u,\"%" PRIxPTR "\"]", t[0].err, t[1].err, t[2].err,
                    t[0].fast_path | t[1].fast_path << 1 | t[2].fast_path << 2, (uintptr_t)t[0].host);
            n++;
        }
    fprintf(f, "},\"explained\":%u,\"present\":%" PRIu64 ",", n, l->present);
}

static void data_block(FILE *f, run_t *r, const viz_leaves *l, const tlb_view *t, uint64_t total)
{
    viz *v = r->viz;
    fputs("<script type=\"application/json\" id=\"data\">{\"err\":[", f);
    for (int e = 0; e <= MMU_ERR_CORRUPT; e++)
        fputs(e ? "," : "", f), json_str(f, mmu_strerror((mmu_err)e));
    fprintf(f, "],\"tlb_entries\":%" PRIu64 ",\"per_cell\":%" PRIu64 ",\"tlb\":[", t->entries, t->per_cell);
    for (size_t i = 0; i < t->n; i++)
        fprintf(f, "%s[%" PRIu64 ",\"%" PRIx64 "\",%u,%" PRIu64 "]", i ? "," : "", t->slot[i].slot, t->slot[i].page,
                t->slot[i].kinds, t->slot[i].fills);
    fprintf(f, "],\"total\":%" PRIu64 ",\"kinds\":[", total);
    for (int k = 0; k < VIZ_KINDS; k++)
        fputs(k ? "," : "", f), json_str(f, kind_name[k]);
    fputs("],\"samples\":[", f);
    for (unsigned i = 0; i < v->n; i++) {
        fprintf(f, "%s[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, i ? "," : "", v->s[i].end, v->s[i].misses,
                v->s[i].mapped, v->s[i].present);
        for (int k = 0; k < VIZ_KINDS; k++)
            fprintf(f, ",%u", v->s[i].n[k]);
        fputc(']', f);
    }
    fputs("],", f);
    explain_data(f, r, l);
    fputs("\"ok\":1}</script>\n", f);
}

/* ------------------------------------------------------------ sections */

static void stats_table(FILE *f, run_t *r, double secs)
{
    mmu_stats st;
    char a[32];
    mmu_get_stats(r->m, &st);
    const struct { const char *name; uint64_t v; const char *id; } row[] = {
        { "instructions", r->insns, "insns" },        { "system calls", r->syscalls, "syscalls" },
        { "TLB hits out of line (inline hits are not counted)", st.tlb_hits, "tlb_hits" },
        { "TLB misses", st.tlb_misses, "tlb_misses" }, { "TLB entries at the end", st.tlb_entries, "tlb_entries" },
        { "TLB resizes", st.tlb_resizes, "tlb_resizes" },
        { "TLB flushes", st.tlb_flushes, "tlb_flushes" }, { "page walks", st.page_walks, "page_walks" },
        { "faults", st.faults, "faults" },            { "paged in on demand (faults)", r->demand_faults, "demand_faults" },
        { "paged in on demand (pages)", r->demand_pages, "demand_pages" },
        { "signals delivered", r->signals, "signals" }, { "regions", st.regions, "regions" },
        { "pages mapped", st.pages_mapped, "pages_mapped" }, { "bytes of MMU metadata", st.meta_bytes, "meta_bytes" },
    };
    fputs("<table id=\"stats\"><tr><th>figure</th><th>value</th></tr>\n", f);
    for (size_t i = 0; i < sizeof row / sizeof row[0]; i++)
        fprintf(f, "<tr><td>%s</td><td class=\"n\" id=\"st-%s\" data-v=\"%" PRIu64 "\">%s</td></tr>\n", row[i].name,
                row[i].id, row[i].v, rpt_commas(row[i].v, a));
    fprintf(f, "<tr><td>TLB misses per 1,000 instructions</td><td class=\"n\">%.3f</td></tr>"
               "<tr><td>run time</td><td class=\"n\">%.3f s (%.1f M insn/s)</td></tr></table>\n",
            r->insns ? 1000.0 * (double)st.tlb_misses / (double)r->insns : 0.0, secs,
            secs > 0 ? (double)r->insns / secs / 1e6 : 0.0);
}

static void event_table(FILE *f, const viz *v)
{
    char a[32];
    unsigned n = v->n_ev < EVENT_ROWS ? v->n_ev : EVENT_ROWS;
    fprintf(f, "<details><summary>The first %u events, one by one</summary><table><tr><th>instruction</th><th>event"
               "</th><th>address</th><th>length</th><th>result</th></tr>\n", n);
    for (unsigned i = 0; i < n; i++) {
        const viz_event *e = &v->ev[i];
        fprintf(f, "<tr><td class=\"n\">%s</td><td>%s</td><td class=\"n\">0x%" PRIx64 "</td><td class=\"n\">%" PRIu64
                   "</td><td class=\"n\">%" PRId64 "</td></tr>\n", rpt_commas(e->insn, a), kind_name[e->kind], e->addr,
                e->len, e->ret);
    }
    fputs("</table></details>\n", f);
}

static const char script[] =
    "(function(){\n"
    "var D=JSON.parse(document.getElementById('data').textContent);\n"
    "function hx(b){return '0x'+b.toString(16);}\n"
    "function kinds(k){return ['read','write','fetch'].filter(function(_,i){return k>>i&1;}).join(', ')||'none';}\n"
    "function perm(p){return (p&1?'r':'-')+(p&2?'w':'-')+(p&4?'x':'-');}\n"
    "var ST=['mapped','present','MMIO','code','tracked by a snapshot','dirty','hooked'];\n"
    "function states(s){return ST.filter(function(_,i){return s>>i&1;}).join(', ')||'no entry';}\n"
    "var hv=document.getElementById('hover');\n"
    "document.querySelectorAll('#space .region').forEach(function(g){g.addEventListener('mouseenter',function(){"
    "hv.textContent=g.getAttribute('data-info')+'   ('+g.getAttribute('data-touched')+' of '+"
    "g.getAttribute('data-pages')+' pages touched)';});});\n"
    "var ex=document.getElementById('explain');\n"
    "function explain(page){var key=page.toString(16),p=D.pages[key],E=D.tlb_entries;\n"
    " var vpn=page>>12n,slot=vpn%BigInt(E),top=page>>21n,idx=vpn%512n,L=[];\n"
    " L.push('Page '+hx(page)+' \\u2014 what a guest access to it does now (at the end of the run)');\n"
    " if(!p){L.push('','No page-table entry here (never touched, or not mapped), or beyond the '+D.explained+"
    "' pages recorded:','an access would miss the TLB, find no entry in leaf '+hx(top)+' slot '+idx+"
    "' and fault (or be paged in on demand).');ex.textContent=L.join('\\n');return;}\n"
    " L.push('','1. TLB: slot = (address >> 12) mod '+E+' = '+slot+'.');\n"
    " L.push(p[0]==='-'||!p[1]?'   The slot is empty: every access misses and walks the page table.':"
    "'   The slot caches page 0x'+p[0]+' for '+kinds(p[1])+(p[0]===key?'':' (another page: this one misses)')+'.');\n"
    " L.push('   Would hit now: '+(kinds(p[2])==='none'?'nothing':kinds(p[2]))+'.');\n"
    " L.push('2. Page table: top-level slot = address >> 21 = '+hx(top)+' \\u2192 its leaf; entry = (address >> 12) "
    "mod 512 = '+idx+'.');\n"
    " L.push('   Entry: '+states(p[3])+'; permissions '+perm(p[4])+'.');\n"
    " L.push('3. Map entry (region): 0x'+p[5]+' \\u2013 0x'+p[6]+'  '+p[7]+'.');\n"
    " L.push('4. Outcome:');\n"
    " ['read','write','fetch'].forEach(function(k,i){L.push('   '+k+': '+(p[8][i]?D.err[p[8][i]]:'allowed')+"
    "(p[8][i]?'':(p[9]>>i&1?' \\u2014 fast path: once cached, it hits the TLB':' \\u2014 slow path every time')));});\n"
    " if(p[10]!=='0')L.push('   host address: 0x'+p[10]+' (guest address + the TLB addend)');\n"
    " ex.textContent=L.join('\\n');}\n"
    "document.querySelectorAll('#pt rect.cells').forEach(function(r){r.addEventListener('click',function(ev){"
    "var b=r.getBoundingClientRect(),c=Math.floor((ev.clientX-b.left)/b.width*64),w=Math.floor((ev.clientY-b.top)/"
    "b.height*8);c=Math.min(63,Math.max(0,c));w=Math.min(7,Math.max(0,w));"
    "explain(BigInt(r.getAttribute('data-base'))+BigInt(w*64+c)*4096n);mark(r,c,w);});});\n"
    "var sel=null;function mark(r,c,w){var ns='http://www.w3.org/2000/svg',cw=r.width.baseVal.value/64,"
    "ch=r.height.baseVal.value/8;if(!sel){sel=document.createElementNS(ns,'rect');sel.setAttribute('fill','none');"
    "sel.setAttribute('stroke','#000');sel.setAttribute('stroke-width','2');sel.setAttribute('pointer-events','none');}"
    "sel.setAttribute('x',r.x.baseVal.value+c*cw);sel.setAttribute('y',r.y.baseVal.value+w*ch);"
    "sel.setAttribute('width',cw);sel.setAttribute('height',ch);r.parentNode.appendChild(sel);}\n"
    "var first=Object.keys(D.pages)[0];if(first)explain(BigInt('0x'+first));\n"
    "var th=document.getElementById('tlbhover'),cells={};D.tlb.forEach(function(s){var c=Math.floor(s[0]/D.per_cell);"
    "(cells[c]=cells[c]||[]).push(s);});\n"
    "document.querySelectorAll('#tlb rect[data-c]').forEach(function(r){r.addEventListener('mouseenter',function(){"
    "var c=cells[r.getAttribute('data-c')]||[];th.textContent=c.map(function(s){return 'slot '+s[0]+': page 0x'+s[1]+"
    "', hits for '+kinds(s[2])+', filled '+s[3]+' times';}).join('\\n');});});\n"
    "var tl=document.getElementById('timeline'),cur=document.getElementById('cursor'),tv=document.getElementById("
    "'tlhover');\n"
    "tl.addEventListener('mousemove',function(ev){var b=tl.getBoundingClientRect(),sx=tl.viewBox.baseVal.width/b.width,"
    "x=(ev.clientX-b.left)*sx,at=(x-" "150" ")/" "760" "*D.total;if(at<0||at>D.total)return;var i=0,S=D.samples;"
    "while(i<S.length-1&&S[i][0]<at)i++;var s=S[i],from=i?S[i-1][0]:0,t=[];"
    "D.kinds.forEach(function(k,j){if(s[4+j])t.push(s[4+j]+' '+k);});cur.setAttribute('transform','translate('+x+',0)');"
    "cur.setAttribute('visibility','visible');tv.textContent='instructions '+from.toLocaleString()+'\\u2013'+"
    "s[0].toLocaleString()+': '+s[3]+' pages present, '+s[2]+' mapped, '+s[1]+' TLB misses'+(t.length?'; '+"
    "t.join(', '):'');});\n"
    "document.documentElement.setAttribute('data-report','ok');\n"
    "document.getElementById('scriptstate').textContent='interactive: hover and click the pictures';\n"
    "})();\n";

static void header(FILE *f, run_t *r, cpu_exit why, uint64_t total)
{
    char a[32];
    fputs("<!DOCTYPE html>\n<html lang=\"en\" data-report=\"pending\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width\"><title>softmmu-run report: ", f);
    viz_esc(f, r->o.path);
    fprintf(f, "</title><style>%s</style></head><body>\n<script>window.onerror=function(m){document.documentElement."
               "setAttribute('data-report','error: '+m);};</script>\n<h1>softmmu-run: ", css);
    for (int i = 0; i < r->o.argc && i < 16; i++)
        fputs(i ? " " : "", f), viz_esc(f, r->o.argv[i]);
    fputs("</h1>\n<p class=\"sub\">", f);
    if (r->viz->crashed)
        fprintf(f, "<b>crashed</b>: %s at 0x%" PRIx64 " (exit status %d)",
                why == CPU_EXIT_MEM_FAULT ? "unhandled memory fault" : "unhandled exception", r->viz->crash_addr,
                r->status);
    else if (r->exited && !r->killed_by)
        fprintf(f, "exited with status %d", r->status);
    else if (r->exited)
        fprintf(f, "killed by signal %d (exit status %d)", r->killed_by, r->status);
    else
        fputs("stopped by --count", f);
    fprintf(f, " after %s instructions \u00b7 state at the end of the run \u00b7 <span id=\"scriptstate\">"
               "static (the script did not run)</span></p>\n", rpt_commas(total, a));
}

void viz_html(FILE *f, run_t *r, const viz_leaves *l, cpu_exit why, double secs)
{
    viz *v = r->viz;
    uint64_t total = v->base + r->insns;
    char a[32], b[32];
    tlb_view t;
    if (!tlb_get(r->m, &t))
        t = (tlb_view){ 0 };
    header(f, r, why, total);
    fputs("<h2>1. Address space</h2><p class=\"hint\">Every region of the map, coloured by its permissions. Hover one "
          "for its map-info line.</p>\n", f);
    legend(f);
    viz_svg_space(f, r, l, 0);
    fputs("<div class=\"panel\" id=\"hover\">hover a region</div>\n", f);
    fputs("<h2>2. Page table</h2><p class=\"hint\">Each top-level slot and its leaf; one cell per page. Full colour: "
          "the page has an entry (it was translated); pale: mapped, no entry yet; grey: nothing. Click a cell to "
          "see its translation step by step.</p>\n", f);
    viz_svg_pt(f, l, 0);
    fputs("<div class=\"panel\" id=\"explain\">click a cell</div>\n", f);
    fprintf(f, "<h2>3. TLB</h2><p class=\"hint\">%s entries (its size at the end), %zu in use, one cell %s; colour: the "
               "access kinds that hit (blue read, orange read+write, green fetch), darker: filled more often (%s "
               "fills). Hover a cell.</p>\n", rpt_commas(t.entries, a), t.n,
            t.per_cell > 1 ? "per group of slots" : "per slot", rpt_commas(t.fills, b));
    tlb_svg(f, &t);
    fputs("<div class=\"panel\" id=\"tlbhover\">hover a cell</div>\n<p class=\"hint\">TLB misses per 1,000 "
          "instructions over the run: misses rather than a hit rate, because every miss is counted but the inline TLB hit need not count itself.</p>\n", f);
    misses_chart(f, v, total);
    fputs("<h2>4. Timeline</h2><p class=\"hint\">Pages over the run, and one lane per kind of event: a bar's height "
          "grows with the events in that sample; thin ticks are the events kept one by one. Hover for a sample's "
          "figures.</p>\n", f);
    timeline(f, v, total);
    fputs("<div class=\"panel\" id=\"tlhover\">hover the timeline</div>\n", f);
    event_table(f, v);
    fputs("<h2>5. Figures (--stats)</h2>\n", f);
    stats_table(f, r, secs);
    fprintf(f, "<p class=\"hint\">How this file stays small: a sample every %s instructions (it started at %s and "
               "doubles, merging neighbours, whenever %d samples are full: %u now); the first %d events are kept one by "
               "one (%u here), all of them are counted per sample; at most %d explained pages, %d TLB cells.</p>\n",
            rpt_commas(v->k, a), rpt_commas(VIZ_K0, b), VIZ_SAMPLES, v->n, VIZ_EVENTS, v->n_ev, MAX_EXPLAINED, MAX_TLB_CELLS);
    data_block(f, r, l, &t, total);
    fprintf(f, "<script>%s</script>\n</body></html>\n", script);
    free(t.slot);
}
