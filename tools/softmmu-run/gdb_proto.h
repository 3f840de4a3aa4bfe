/*
 * gdb_proto.h - the GDB remote serial protocol's packet layer, without
 * sockets: framing ($payload#cs), checksums, acks, the ^C interrupt byte,
 * binary escaping, hex. The fuzzer and the unit tests drive it directly;
 * gdb.c feeds it the bytes a socket gives.
 */
#ifndef SOFTMMU_RUN_GDB_PROTO_H
#define SOFTMMU_RUN_GDB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDBP_MAX 16384 /* largest packet payload we take (qSupported PacketSize) */

typedef enum gdbp_event {
    GDBP_NONE,      /* need more bytes */
    GDBP_ACK,       /* '+' */
    GDBP_NAK,       /* '-': resend the last reply */
    GDBP_INTERRUPT, /* 0x03 outside a packet */
    GDBP_PACKET,    /* a packet with a good checksum: payload/len valid */
    GDBP_BAD,       /* a packet with a bad checksum, a bad checksum digit, or too long */
} gdbp_event;

typedef struct gdbp {
    int    state;            /* 0 idle, 1 in payload, 2/3 checksum digits, 4 a bad first digit */
    bool   overflow;         /* payload longer than GDBP_MAX: reported as GDBP_BAD */
    uint8_t sum, want;       /* running and received checksum */
    size_t len;
    char   payload[GDBP_MAX + 1]; /* NUL-terminated; binary data may hold NULs */
} gdbp;

/* Resets the parser to "between packets". */
void gdbp_init(gdbp *p);

/* Feeds one byte; returns what it completed. A '$' inside a packet starts a
 * new one (the old is dropped); bytes between packets other than + - ^C
 * are ignored. Escapes ('}' x ^ 0x20) are kept as sent: gdbp_unescape
 * decodes binary data where a packet carries it (X, vFile:pwrite). */
gdbp_event gdbp_feed(gdbp *p, uint8_t byte);

/* Decodes '}'-escaped binary in place; returns the decoded length, or
 * (size_t)-1 if the data ends inside an escape. */
size_t gdbp_unescape(char *buf, size_t len);

/* Frames payload (len bytes, escaping '$' '#' '}' '*') as $...#cs into out
 * (cap bytes); returns the frame length, 0 if it does not fit. */
size_t gdbp_frame(const char *payload, size_t len, char *out, size_t cap);

/* hex digit value, -1 if not one */
int gdbp_hexval(int c);

/* Parses hex digits at *s (at least one, at most 16) into *out and advances
 * *s past them; false on none, or more than 64 bits. */
bool gdbp_hex_u64(const char **s, uint64_t *out);

/* Decodes 2*n hex digits from s into n bytes; false on a non-hex digit. */
bool gdbp_hex_decode(const char *s, uint8_t *out, size_t n);

/* Encodes n bytes as 2*n lower-case hex digits plus NUL into out. */
void gdbp_hex_encode(const uint8_t *in, size_t n, char *out);

/* Parses "ADDR,LEN" (then optionally ':' or end) as m, M, X, Z and qXfer
 * offsets use; false on syntax, a length over max, or a range that wraps
 * past 2^64. *s advances past LEN. */
bool gdbp_addr_len(const char **s, uint64_t *addr, uint64_t *len, uint64_t max);

#endif
