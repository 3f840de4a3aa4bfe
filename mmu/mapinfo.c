/*
 * mapinfo.c - mmu_format_mapinfo (Qiling's get_formatted_mapinfo, byte for
 * byte) and mmu_lib_base (Qiling's get_lib_base).
 */
#include "mmu_int.h"

typedef unsigned __int128 u128; /* a region may end at 2^64 */

/* ------------------------------------------------------ formatted table */

/* Output sink; the table is laid out twice: once to measure (buf NULL),
 * once to write, so a short buffer is left untouched. */
typedef struct sink {
    char  *buf;
    size_t len;
} sink;

static void put(sink *k, const char *s, size_t n)
{
    if (k->buf)
        memcpy(k->buf + k->len, s, n);
    k->len += n;
}

static void put_spaces(sink *k, size_t n)
{
    if (k->buf)
        memset(k->buf + k->len, ' ', n);
    k->len += n;
}

/* Python pads str to a width in code points: count UTF-8 lead bytes */
static size_t width_of(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* f'{s:{w}s}': left-aligned, space-padded to w */
static void put_padded(sink *k, const char *s, size_t w)
{
    size_t n = width_of(s);
    put(k, s, strlen(s));
    put_spaces(k, n < w ? w - n : 0);
}

static size_t hex_digits(u128 v)
{
    size_t n = 1;
    while (v >>= 4)
        n++;
    return n;
}

/* f'{v:0{w}x}' */
static void put_hex(sink *k, u128 v, size_t w)
{
    char tmp[40];
    size_t n = hex_digits(v), width = n > w ? n : w;
    for (size_t i = 0; i < width; i++, v >>= 4)
        tmp[width - 1 - i] = "0123456789abcdef"[v & 0xf];
    put(k, tmp, width);
}

static void put_row(sink *k, const region *r, size_t len_addr, size_t len_label)
{
    char perms[3] = { r->perms & MMU_PROT_READ ? 'r' : '-', r->perms & MMU_PROT_WRITE ? 'w' : '-',
                      r->perms & MMU_PROT_EXEC ? 'x' : '-' };
    put(k, "\n", 1);
    put_hex(k, r->start, len_addr);
    put(k, " - ", 3);
    put_hex(k, (u128)r->last + 1, len_addr);
    put_spaces(k, 3);
    put(k, perms, 3);
    put_spaces(k, 2 + 3); /* perms padded to 5 */
    put_padded(k, r->label->s, len_label);
    put_spaces(k, 3); /* then the Image column: always empty here */
}

static void put_table(const mmu_t *m, sink *k)
{
    size_t len_addr = 0, len_label = 0;
    for (region *r = region_first(&m->ri); r; r = region_next(&m->ri, r)) {
        size_t a = 2 + hex_digits((u128)r->last + 1), l = width_of(r->label->s); /* f'{ub:#x}' */
        len_addr = a > len_addr ? a : len_addr;
        len_label = l > len_label ? l : len_label;
    }
    if (!region_first(&m->ri))
        return;
    put_padded(k, "Start", len_addr);
    put_spaces(k, 3);
    put_padded(k, "End", len_addr);
    put_spaces(k, 3);
    put_padded(k, "Perm", 5);
    put_spaces(k, 3);
    put_padded(k, "Label", len_label);
    put(k, "   Image", 8);
    for (region *r = region_first(&m->ri); r; r = region_next(&m->ri, r))
        put_row(k, r, len_addr, len_label);
}

mmu_err mmu_format_mapinfo(const mmu_t *m, char *buf, size_t cap, size_t *out_len)
{
    if (!m || (!buf && cap))
        return MMU_ERR_ARG;
    sink k = { NULL, 0 };
    put_table(m, &k);
    size_t need = k.len;
    if (need >= cap) {
        if (out_len)
            *out_len = need;
        return MMU_ERR_ARG;
    }
    k = (sink){ buf, 0 };
    put_table(m, &k);
    buf[need] = '\0';
    if (out_len)
        *out_len = need;
    return MMU_OK;
}

/* -------------------------------------------------------------- lib_base */

/* Bytes of the Python str.isspace() character at s (UTF-8), or 0. */
static size_t space_len(const unsigned char *s)
{
    if ((*s >= '\t' && *s <= '\r') || *s == ' ' || (*s >= 0x1c && *s <= 0x1f))
        return 1;
    if (s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
        return 2;
    bool lead3 = (s[0] == 0xe1 || s[0] == 0xe2 || s[0] == 0xe3) && s[1]; /* then s[2] is readable */
    uint32_t c = lead3 ? (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2] : 0;
    bool u2000 = c >= 0xe28080 && c <= 0xe2808a; /* U+2000..U+200A */
    bool other = c == 0xe19a80 || c == 0xe280a8 || c == 0xe280a9 || c == 0xe280af || c == 0xe2819f
              || c == 0xe38080; /* U+1680 2028 2029 202F 205F 3000 */
    return u2000 || other ? 3 : 0;
}

/* Removes Python's re.sub(r'^\[.+\]\s*', '', s): '.' stops at '\n' and
 * '.+' is greedy, so the box runs to the last ']' before any newline. */
static const char *strip_box(const char *s)
{
    if (s[0] != '[')
        return s;
    const char *close = NULL;
    for (const char *p = s + 1; *p && *p != '\n'; p++)
        if (*p == ']' && p >= s + 2)
            close = p;
    if (!close)
        return s;
    const unsigned char *t = (const unsigned char *)close + 1;
    for (size_t n; (n = space_len(t)); t += n)
        ;
    return (const char *)t;
}

/* os.path.basename */
static const char *base_name(const char *s)
{
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

mmu_err mmu_lib_base(const mmu_t *m, const char *filename, uint64_t *out_addr)
{
    if (!m || !filename || !out_addr)
        return MMU_ERR_ARG;
    for (region *r = region_first(&m->ri); r; r = region_next(&m->ri, r)) {
        if (strcmp(base_name(strip_box(r->label->s)), filename) == 0) {
            *out_addr = r->start;
            return MMU_OK;
        }
    }
    return MMU_ERR_NOTFOUND;
}
