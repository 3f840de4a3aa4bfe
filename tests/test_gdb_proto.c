/*
 * test_gdb_proto.c - the GDB stub's packet layer without sockets: framing,
 * checksums, acks and ^C, escapes, oversized packets, hex and address
 * parsing (overflow and wrap-around).
 */
#include "gdb_proto.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* feeds s; returns the last event other than GDBP_NONE */
static gdbp_event feed(gdbp *p, const char *s, size_t n)
{
    gdbp_event last = GDBP_NONE;
    for (size_t i = 0; i < n; i++) {
        gdbp_event e = gdbp_feed(p, (uint8_t)s[i]);
        if (e != GDBP_NONE)
            last = e;
    }
    return last;
}

#define FEED(p, lit) feed(p, lit, sizeof(lit) - 1)

static gdbp P;

Test(gdb_proto, a_good_packet)
{
    gdbp_init(&P);
    cr_assert_eq(FEED(&P, "$qSupported#37"), GDBP_PACKET);
    cr_assert_str_eq(P.payload, "qSupported");
    cr_assert_eq(P.len, 10);
    cr_assert_eq(FEED(&P, "$g#67"), GDBP_PACKET);
    cr_assert_str_eq(P.payload, "g");
    cr_assert_eq(FEED(&P, "$#00"), GDBP_PACKET); /* empty payload */
    cr_assert_eq(P.len, 0);
    cr_assert_eq(FEED(&P, "$g#6"), GDBP_NONE);   /* incomplete */
}

Test(gdb_proto, checksum_digits_in_either_case)
{
    gdbp_init(&P);
    cr_assert_eq(FEED(&P, "$qC#b4"), GDBP_PACKET);
    cr_assert_eq(FEED(&P, "$qC#B4"), GDBP_PACKET);
}

Test(gdb_proto, bad_checksums)
{
    gdbp_init(&P);
    cr_assert_eq(FEED(&P, "$g#68"), GDBP_BAD);
    cr_assert_eq(FEED(&P, "$g#x7"), GDBP_BAD);
    cr_assert_eq(FEED(&P, "$g#6x"), GDBP_BAD);
    cr_assert_eq(FEED(&P, "$g#67"), GDBP_PACKET); /* and the parser recovers */
}

Test(gdb_proto, acks_naks_and_interrupt_between_packets)
{
    gdbp_init(&P);
    cr_assert_eq(FEED(&P, "+"), GDBP_ACK);
    cr_assert_eq(FEED(&P, "-"), GDBP_NAK);
    cr_assert_eq(FEED(&P, "\x03"), GDBP_INTERRUPT);
    cr_assert_eq(FEED(&P, "garbage"), GDBP_NONE);
    /* inside a packet 0x03 and + are data */
    cr_assert_eq(FEED(&P, "$a+\x03#8f"), GDBP_PACKET);
    cr_assert_eq(P.len, 3);
}

Test(gdb_proto, a_dollar_restarts_the_packet)
{
    gdbp_init(&P);
    cr_assert_eq(FEED(&P, "$m12$g#67"), GDBP_PACKET);
    cr_assert_str_eq(P.payload, "g");
}

Test(gdb_proto, oversized_packets_are_bad_and_bounded)
{
    static char big[GDBP_MAX * 3];
    gdbp_init(&P);
    big[0] = '$';
    memset(big + 1, 'a', sizeof big - 4);
    unsigned sum = 'a' * (unsigned)(sizeof big - 4);
    snprintf(big + sizeof big - 3, 3, "%02x", sum & 0xff);
    big[sizeof big - 4] = '#'; /* the checksum of the text before the # */
    cr_assert_eq(feed(&P, big, sizeof big - 1), GDBP_BAD);
    cr_assert_eq(P.len, GDBP_MAX);
    cr_assert_eq(FEED(&P, "$g#67"), GDBP_PACKET);
}

Test(gdb_proto, escapes_and_framing_round_trip)
{
    const char data[] = { 'a', '$', '#', '}', '*', 0, 'z' };
    char frame[64];
    size_t n = gdbp_frame(data, sizeof data, frame, sizeof frame);
    cr_assert_gt(n, 0);
    gdbp_init(&P);
    cr_assert_eq(feed(&P, frame, n), GDBP_PACKET);
    size_t len = gdbp_unescape(P.payload, P.len);
    cr_assert_eq(len, sizeof data);
    cr_assert_eq(memcmp(P.payload, data, len), 0);
    cr_assert_eq(gdbp_frame(data, sizeof data, frame, 8), 0); /* does not fit */
    char bad[] = "ab}";
    cr_assert_eq(gdbp_unescape(bad, 3), (size_t)-1);
}

Test(gdb_proto, hex_numbers)
{
    const char *s = "ffffffffffffffff,";
    uint64_t v;
    cr_assert(gdbp_hex_u64(&s, &v));
    cr_assert_eq(v, UINT64_MAX);
    cr_assert_eq(*s, ',');
    s = "1ffffffffffffffff";
    cr_assert_not(gdbp_hex_u64(&s, &v)); /* 65 bits */
    s = "0000000000000000001";               /* leading zeros are fine */
    cr_assert(gdbp_hex_u64(&s, &v));
    cr_assert_eq(v, 1);
    s = ",1";
    cr_assert_not(gdbp_hex_u64(&s, &v));
    uint8_t b[2];
    cr_assert(gdbp_hex_decode("aB0f", b, 2));
    cr_assert_eq(b[0], 0xab);
    cr_assert_not(gdbp_hex_decode("a", b, 1));
    char out[5];
    gdbp_hex_encode((const uint8_t[]){ 0xde, 0xad }, 2, out);
    cr_assert_str_eq(out, "dead");
}

Test(gdb_proto, address_and_length)
{
    uint64_t a, l;
    const char *s = "401000,10:";
    cr_assert(gdbp_addr_len(&s, &a, &l, 100));
    cr_assert_eq(a, 0x401000);
    cr_assert_eq(l, 0x10);
    cr_assert_eq(*s, ':');
    s = "ffffffffffffffff,1";
    cr_assert(gdbp_addr_len(&s, &a, &l, 100)); /* the last byte: no wrap */
    s = "ffffffffffffffff,2";
    cr_assert_not(gdbp_addr_len(&s, &a, &l, 100));
    s = "0,65";
    cr_assert_not(gdbp_addr_len(&s, &a, &l, 100)); /* over max */
    s = "0,0";
    cr_assert(gdbp_addr_len(&s, &a, &l, 100));
    s = "10";
    cr_assert_not(gdbp_addr_len(&s, &a, &l, 100));
}
