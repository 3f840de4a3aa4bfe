/*
 * fuzz_gdb_proto.c - the GDB stub's packet layer (tools/softmmu-run/
 * gdb_proto.c) on arbitrary bytes from a client: every packet it accepts is
 * parsed as the stub's commands parse their arguments, then framed again
 * and re-parsed, which must give the same bytes back (framing and escaping
 * round-trip). ASan sees every read and write of the parser's buffer.
 */
#include "gdb_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gdbp in, again;
static char copy[GDBP_MAX + 1], frame[2 * GDBP_MAX + 8];

/* the argument parsers the commands use, on the payload after its letter */
static void parse_args(const char *payload, size_t len)
{
    uint64_t a, l, v;
    const char *s = payload + (len > 0);
    (void)gdbp_addr_len(&s, &a, &l, UINT64_MAX);
    if (len && gdbp_addr_len(&s, &a, &l, GDBP_MAX) && l && a + (l - 1) < a)
        abort(); /* a range that wraps was accepted */
    s = payload;
    while (*s && !gdbp_hex_u64(&s, &v))
        s++;
    uint8_t bytes[64];
    size_t n = strlen(payload) / 2;
    (void)gdbp_hex_decode(payload, bytes, n < sizeof bytes ? n : sizeof bytes);
}

static void round_trip(void)
{
    memcpy(copy, in.payload, in.len);
    size_t n = gdbp_unescape(copy, in.len);
    if (n == (size_t)-1)
        return;
    if (n > in.len)
        abort();
    size_t f = gdbp_frame(copy, n, frame, sizeof frame);
    if (f == 0)
        abort(); /* twice the payload plus 4 always fits */
    gdbp_init(&again);
    gdbp_event last = GDBP_NONE;
    for (size_t i = 0; i < f; i++)
        last = gdbp_feed(&again, (uint8_t)frame[i]);
    if (last != GDBP_PACKET)
        abort();
    size_t m = gdbp_unescape(again.payload, again.len);
    if (m != n || memcmp(again.payload, copy, n) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gdbp_init(&in);
    for (size_t i = 0; i < size; i++) {
        gdbp_event e = gdbp_feed(&in, data[i]);
        if (in.len > GDBP_MAX)
            abort();
        if (e != GDBP_PACKET)
            continue;
        if (in.payload[in.len] != '\0')
            abort();
        parse_args(in.payload, in.len);
        round_trip();
    }
    return 0;
}
