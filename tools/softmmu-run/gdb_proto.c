/*
 * gdb_proto.c - the packet layer of the GDB stub: a byte-at-a-time parser
 * that never reads or writes past its buffer, whatever arrives.
 */
#include "gdb_proto.h"

#include <string.h>

enum { IDLE, BODY, CS1, CS2 };

void gdbp_init(gdbp *p)
{
    p->state = IDLE;
    p->overflow = false;
    p->sum = p->want = 0;
    p->len = 0;
    p->payload[0] = '\0';
}

int gdbp_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put(gdbp *p, uint8_t b)
{
    if (p->len < GDBP_MAX)
        p->payload[p->len++] = (char)b;
    else
        p->overflow = true;
}

static gdbp_event idle_byte(gdbp *p, uint8_t b)
{
    if (b == '+')
        return GDBP_ACK;
    if (b == '-')
        return GDBP_NAK;
    if (b == 0x03)
        return GDBP_INTERRUPT;
    if (b == '$') {
        gdbp_init(p);
        p->state = BODY;
    }
    return GDBP_NONE;
}

/* the second checksum digit: the packet is complete */
static gdbp_event finish(gdbp *p, int v)
{
    p->payload[p->len] = '\0';
    p->state = IDLE;
    if (v < 0 || p->overflow || (uint8_t)(p->want | v) != p->sum)
        return GDBP_BAD;
    return GDBP_PACKET;
}

gdbp_event gdbp_feed(gdbp *p, uint8_t b)
{
    int v;
    switch (p->state) {
    case IDLE:
        return idle_byte(p, b);
    case BODY: /* '#' always ends the payload: an escaped '#' is sent as '}' 0x03 */
        if (b == '$') { /* a new packet: the client gave up on the old one */
            gdbp_init(p);
            p->state = BODY;
            return GDBP_NONE;
        }
        if (b == '#') {
            p->state = CS1;
            return GDBP_NONE;
        }
        p->sum = (uint8_t)(p->sum + b);
        put(p, b);
        return GDBP_NONE;
    case CS1:
        v = gdbp_hexval(b);
        p->want = (uint8_t)((v < 0 ? 0x100 : v) << 4); /* a bad digit fails the compare */
        p->state = v < 0 ? CS2 + 1 : CS2;
        return GDBP_NONE;
    case CS2:
        return finish(p, gdbp_hexval(b));
    default: /* the first digit was bad: finish with a failure */
        p->state = IDLE;
        p->payload[p->len] = '\0';
        return GDBP_BAD;
    }
}

size_t gdbp_unescape(char *buf, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '}') {
            if (++i == len)
                return (size_t)-1;
            buf[o++] = (char)(buf[i] ^ 0x20);
        } else {
            buf[o++] = buf[i];
        }
    }
    return o;
}

size_t gdbp_frame(const char *payload, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    uint8_t sum = 0;
    if (cap < 4)
        return 0;
    out[o++] = '$';
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)payload[i];
        bool esc = c == '$' || c == '#' || c == '}' || c == '*';
        if (o + (esc ? 2 : 1) + 3 > cap)
            return 0;
        if (esc) {
            out[o++] = '}';
            sum = (uint8_t)(sum + '}');
            c ^= 0x20;
        }
        out[o++] = (char)c;
        sum = (uint8_t)(sum + c);
    }
    out[o++] = '#';
    out[o++] = hex[sum >> 4];
    out[o++] = hex[sum & 15];
    return o;
}

bool gdbp_hex_u64(const char **s, uint64_t *out)
{
    const char *q = *s;
    uint64_t v = 0;
    int n = 0, d;
    while ((d = gdbp_hexval((unsigned char)*q)) >= 0) {
        if (v >> 60)
            return false; /* more than 64 bits */
        v = v << 4 | (uint64_t)d;
        q++;
        n++;
    }
    if (n == 0)
        return false;
    *out = v;
    *s = q;
    return true;
}

bool gdbp_hex_decode(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = gdbp_hexval((unsigned char)s[2 * i]);
        int lo = hi < 0 ? -1 : gdbp_hexval((unsigned char)s[2 * i + 1]);
        if (lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void gdbp_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

bool gdbp_addr_len(const char **s, uint64_t *addr, uint64_t *len, uint64_t max)
{
    const char *q = *s;
    uint64_t a, l;
    if (!gdbp_hex_u64(&q, &a) || *q++ != ',' || !gdbp_hex_u64(&q, &l))
        return false;
    if (l > max || (l && a + (l - 1) < a))
        return false; /* too long, or wraps past 2^64 */
    *addr = a;
    *len = l;
    *s = q;
    return true;
}
