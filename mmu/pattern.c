/*
 * pattern.c - YARA hex strings: "4F 53", "??", "4?", "?F", "~0D", "~?F",
 * "( 0F | 1A 2? | 04 )". Compiled into one allocation holding a test per
 * position, the alternative groups, and the longest run of exact bytes,
 * which memchr/memmem look for before the rest is checked.
 */
#define _GNU_SOURCE /* memmem */
#include "search_int.h"

#include <ctype.h>

/* byte b passes iff ((b & mask) == val) != neg */
typedef struct ptest {
    uint8_t val, mask, neg;
} ptest;

/* alternatives of one length at offset off: n_alts rows of len tests */
typedef struct pgroup {
    size_t off, len, n_alts;
    const ptest *alts;
} pgroup;

struct mmu_pattern {
    size_t         len;      /* bytes a match covers */
    const ptest   *pos;      /* len tests; positions inside a group always pass */
    size_t         n_groups;
    const pgroup  *groups;
    size_t         anchor_off, anchor_len; /* longest exact run; 0 = none */
    const uint8_t *anchor;
};

/* The parser runs twice: counting (p NULL), then filling the allocation. */
typedef struct parser {
    const char *s;
    size_t      len, n_groups, n_alt_tests;
    ptest      *pos, *alt_tests; /* NULL while counting */
    pgroup     *groups;
} parser;

static bool nibble(char c, uint8_t *val, uint8_t *mask)
{
    if (c == '?') {
        *val = *mask = 0;
        return true;
    }
    if (!isxdigit((unsigned char)c))
        return false;
    *val = (uint8_t)(isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10);
    *mask = 0xf;
    return true;
}

/* [~]XY, X and Y hex digits or '?'; "~??" can never match: rejected */
static bool parse_test(parser *ps, ptest *t)
{
    const char *s = ps->s;
    bool neg = *s == '~';
    s += neg;
    uint8_t hv, hm, lv, lm;
    if (!nibble(s[0], &hv, &hm) || !nibble(s[1], &lv, &lm))
        return false;
    uint8_t mask = (uint8_t)(hm << 4 | lm);
    if (neg && mask == 0)
        return false;
    *t = (ptest){ (uint8_t)(hv << 4 | lv), mask, neg };
    ps->s = s + 2;
    return true;
}

static const char *skip_ws(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

static void emit_pos(parser *ps, ptest t)
{
    if (ps->pos)
        ps->pos[ps->len] = t;
    ps->len++;
}

/* one alternative: tests up to '|' or ')'; *n gets its length */
static bool parse_alt(parser *ps, size_t *n)
{
    *n = 0;
    for (;;) {
        ps->s = skip_ws(ps->s);
        if (*ps->s == '|' || *ps->s == ')')
            return *n > 0;
        ptest t;
        if (!parse_test(ps, &t))
            return false;
        if (ps->alt_tests)
            ps->alt_tests[ps->n_alt_tests] = t;
        ps->n_alt_tests++;
        (*n)++;
    }
}

/* '(' alt ('|' alt)* ')' with alternatives of equal length */
static bool parse_group(parser *ps)
{
    size_t first = ps->n_alt_tests, len = 0, n_alts = 0, n;
    ps->s++; /* '(' */
    do {
        if (!parse_alt(ps, &n) || (n_alts && n != len))
            return false;
        len = n;
        n_alts++;
    } while (*ps->s++ == '|');
    if (ps->groups)
        ps->groups[ps->n_groups] = (pgroup){ ps->len, len, n_alts, ps->alt_tests + first };
    ps->n_groups++;
    for (size_t i = 0; i < len; i++)
        emit_pos(ps, (ptest){ 0, 0, 0 });
    return true;
}

static bool parse(parser *ps)
{
    for (;;) {
        ps->s = skip_ws(ps->s);
        if (!*ps->s)
            return ps->len > 0;
        ptest t;
        if (*ps->s == '(') {
            if (!parse_group(ps))
                return false;
        } else if (parse_test(ps, &t)) {
            emit_pos(ps, t);
        } else {
            return false;
        }
    }
}

static bool exact(const ptest *t)
{
    return t->mask == 0xff && !t->neg;
}

/* picks the longest run of exact bytes and copies it to anchor */
static void choose_anchor(mmu_pattern *p, uint8_t *anchor)
{
    for (size_t i = 0, run = 0; i < p->len; i++) {
        run = exact(&p->pos[i]) ? run + 1 : 0;
        if (run > p->anchor_len) {
            p->anchor_len = run;
            p->anchor_off = i + 1 - run;
        }
    }
    for (size_t i = 0; i < p->anchor_len; i++)
        anchor[i] = p->pos[p->anchor_off + i].val;
    p->anchor = anchor;
}

mmu_err mmu_pattern_compile(const char *hex, mmu_pattern **out)
{
    if (!hex || !out)
        return MMU_ERR_ARG;
    parser c = { .s = hex };
    if (!parse(&c))
        return MMU_ERR_ARG;
    /* one block: struct | groups | position tests | alternative tests | anchor */
    size_t size = sizeof(mmu_pattern) + c.n_groups * sizeof(pgroup)
                + (c.len + c.n_alt_tests) * sizeof(ptest) + c.len;
    mmu_pattern *p = sm_calloc(1, size);
    if (!p)
        return MMU_ERR_NOMEM;
    parser f = { .s = hex, .groups = (pgroup *)(p + 1) };
    f.pos = (ptest *)(f.groups + c.n_groups);
    f.alt_tests = f.pos + c.len;
    parse(&f); /* cannot fail: the same text parsed above */
    *p = (mmu_pattern){ .len = f.len, .pos = f.pos, .n_groups = f.n_groups, .groups = f.groups };
    choose_anchor(p, (uint8_t *)(f.alt_tests + c.n_alt_tests));
    *out = p;
    return MMU_OK;
}

void mmu_pattern_free(mmu_pattern *p)
{
    sm_free(p);
}

size_t pattern_len(const mmu_pattern *p)
{
    return p->len;
}

/* ------------------------------------------------------------- matching */

static bool pass(const ptest *t, uint8_t b)
{
    return ((b & t->mask) == t->val) != t->neg;
}

static bool tests_pass(const ptest *t, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!pass(&t[i], s[i]))
            return false;
    return true;
}

static bool group_pass(const pgroup *g, const uint8_t *s)
{
    for (size_t a = 0; a < g->n_alts; a++)
        if (tests_pass(g->alts + a * g->len, s + g->off, g->len))
            return true;
    return false;
}

static bool match_at(const mmu_pattern *p, const uint8_t *s)
{
    if (!tests_pass(p->pos, s, p->len))
        return false;
    for (size_t i = 0; i < p->n_groups; i++)
        if (!group_pass(&p->groups[i], s))
            return false;
    return true;
}

/* next place at or after a where the anchor occurs, within span bytes */
static const uint8_t *next_anchor(const mmu_pattern *p, const uint8_t *a, size_t span)
{
    if (p->anchor_len == 1)
        return memchr(a, p->anchor[0], span);
    return memmem(a, span, p->anchor, p->anchor_len);
}

size_t pattern_find(const mmu_pattern *p, const uint8_t *hay, size_t n, size_t from)
{
    if (from > n || n - from < p->len)
        return SRCH_NONE;
    size_t last = n - p->len; /* last possible start */
    for (size_t s = from; s <= last; s++) {
        if (p->anchor_len) {
            /* the filter: only starts whose anchor bytes match are checked */
            const uint8_t *f = next_anchor(p, hay + s + p->anchor_off, last - s + p->anchor_len);
            if (!f)
                return SRCH_NONE;
            s = (size_t)(f - hay) - p->anchor_off;
        }
        if (match_at(p, hay + s))
            return s;
    }
    return SRCH_NONE;
}
