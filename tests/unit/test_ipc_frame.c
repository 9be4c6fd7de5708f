/*
 * test_ipc_frame - unit tests for lib/ipc_frame: encode/decode round
 * trips, every limit at and just over its boundary, every prefix of a
 * valid frame, malformed frames, and the blocking socket helpers.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc_frame.h"
#include "mem.h"

/* A raw frame under construction. */
struct raw {
    unsigned char *p;
    size_t len;
};

/* Append n bytes to a raw frame. */
static void raw_put(struct raw *r, const void *data, size_t n)
{
    r->p = xrealloc(r->p, r->len + n + 1);
    if (n)
        memcpy(r->p + r->len, data, n);
    r->len += n;
}

/* Append a big-endian integer of size bytes. */
static void raw_int(struct raw *r, uint32_t v, int size)
{
    unsigned char b[4];
    int i;

    for (i = 0; i < size; i++)
        b[i] = (unsigned char)(v >> (8 * (size - 1 - i)));
    raw_put(r, b, (size_t)size);
}

/* Append a header. */
static void raw_header(struct raw *r, int version, int flags, uint32_t count,
                       uint32_t length)
{
    raw_int(r, (uint32_t)version, 1);
    raw_int(r, (uint32_t)flags, 1);
    raw_int(r, count, 2);
    raw_int(r, length, 4);
}

/* Append an attribute with explicit lengths. */
static void raw_attr(struct raw *r, const char *name, size_t namelen,
                     const void *value, uint32_t valuelen)
{
    raw_int(r, (uint32_t)namelen, 1);
    raw_put(r, name, namelen);
    raw_int(r, valuelen, 4);
    raw_put(r, value, valuelen);
}

/* Decode and expect a result; returns it for chaining. */
static enum ipc_decode_result decode(const void *p, size_t len, struct ipc_record *rec,
                                     size_t *used, const char **why)
{
    size_t dummy_used;
    const char *dummy_why;

    return ipc_decode(p, len, rec, used ? used : &dummy_used, why ? why : &dummy_why);
}

/* Encode rec into a fresh buffer (asserting success). */
static void encode_ok(const struct ipc_record *rec, struct buf *out)
{
    buf_init(out, IPC_MAX_FRAME + 16);
    assert_int_equal(ipc_encode(rec, out), 0);
}

/* Are two records attribute-for-attribute equal? */
static void assert_records_equal(const struct ipc_record *a, const struct ipc_record *b)
{
    size_t i;

    assert_int_equal(a->count, b->count);
    for (i = 0; i < a->count; i++) {
        assert_string_equal(a->attrs[i].name, b->attrs[i].name);
        assert_int_equal(a->attrs[i].len, b->attrs[i].len);
        if (a->attrs[i].len > 0)
            assert_memory_equal(a->attrs[i].value, b->attrs[i].value, a->attrs[i].len);
    }
}

static void test_round_trip_basic(void **state)
{
    struct ipc_record rec, out;
    struct buf wire;
    size_t used = 0;
    long n = 0;
    static const unsigned char bin[] = { 'a', 0, 'b', 0, 0, 0xff, '\n' };

    ipc_record_init(&rec);
    ipc_record_init(&out);
    assert_int_equal(ipc_add_str(&rec, "request", "lookup"), 0);
    assert_int_equal(ipc_add(&rec, "binary", bin, sizeof(bin)), 0);
    assert_int_equal(ipc_add_str(&rec, "empty", ""), 0);
    assert_int_equal(ipc_add_long(&rec, "size", -1234567), 0);
    assert_int_equal(ipc_add_str(&rec, "dup", "first"), 0);
    assert_int_equal(ipc_add_str(&rec, "dup", "second"), 0);
    encode_ok(&rec, &wire);
    assert_int_equal(decode(wire.data, wire.len, &out, &used, NULL), IPC_OK);
    assert_int_equal(used, wire.len);
    assert_records_equal(&rec, &out);
    assert_string_equal(ipc_get_str(&out, "request"), "lookup");
    assert_null(ipc_get_str(&out, "binary"));             /* holds NUL */
    assert_int_equal(ipc_get(&out, "binary")->len, sizeof(bin));
    assert_memory_equal(ipc_get(&out, "binary")->value, bin, sizeof(bin));
    assert_string_equal(ipc_get_str(&out, "empty"), "");
    assert_int_equal(ipc_get_long(&out, "size", &n), 0);
    assert_int_equal(n, -1234567);
    assert_string_equal(ipc_get_str(&out, "dup"), "first");
    assert_null(ipc_get(&out, "missing"));
    assert_int_equal(ipc_get_long(&out, "request", &n), -1);
    assert_int_equal(ipc_get_long(&out, "missing", &n), -1);
    buf_free(&wire);
    ipc_record_free(&rec);
    ipc_record_free(&out);
}

static void test_empty_record(void **state)
{
    struct ipc_record rec;
    struct buf wire;
    size_t used = 0;
    static const unsigned char want[] = { 1, 0, 0, 0, 0, 0, 0, 0 };

    ipc_record_init(&rec);
    encode_ok(&rec, &wire);
    assert_int_equal(wire.len, IPC_HEADER_SIZE);
    assert_memory_equal(wire.data, want, sizeof(want));
    assert_int_equal(decode(wire.data, wire.len, &rec, &used, NULL), IPC_OK);
    assert_int_equal(used, 8);
    assert_int_equal(rec.count, 0);
    buf_free(&wire);
    ipc_record_free(&rec);
}

static void test_wire_format(void **state)
{
    struct ipc_record rec;
    struct buf wire;
    static const unsigned char want[] = {
        1, 0, 0, 1, 0, 0, 0, 9,
        2, 'i', 'd', 0, 0, 0, 2, 'x', 'y',
    };

    ipc_record_init(&rec);
    assert_int_equal(ipc_add_str(&rec, "id", "xy"), 0);
    encode_ok(&rec, &wire);
    assert_int_equal(wire.len, sizeof(want));
    assert_memory_equal(wire.data, want, sizeof(want));
    /* encode appends */
    assert_int_equal(ipc_encode(&rec, &wire), 0);
    assert_int_equal(wire.len, 2 * sizeof(want));
    buf_free(&wire);
    ipc_record_free(&rec);
}

static void test_many_values_survive_growth(void **state)
{
    struct ipc_record rec, out;
    struct buf wire;
    char name[16], val[64];
    int i;

    ipc_record_init(&rec);
    ipc_record_init(&out);
    for (i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        snprintf(val, sizeof(val), "value number %d", i);
        assert_int_equal(ipc_add_str(&rec, name, val), 0);
    }
    for (i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        snprintf(val, sizeof(val), "value number %d", i);
        assert_string_equal(ipc_get_str(&rec, name), val);
    }
    encode_ok(&rec, &wire);
    assert_int_equal(decode(wire.data, wire.len, &out, NULL, NULL), IPC_OK);
    assert_records_equal(&rec, &out);
    ipc_record_reset(&out);
    assert_int_equal(out.count, 0);
    buf_free(&wire);
    ipc_record_free(&rec);
    ipc_record_free(&out);
}

/* Name limits for ipc_add. */
static void test_add_names(void **state)
{
    static const struct {
        const char *name;
        int want;
    } cases[] = {
        { "a", 0 },
        { "abc_123", 0 },
        { "0", 0 },
        { "_", 0 },
        { "", -1 },
        { "Upper", -1 },
        { "with-dash", -1 },
        { "with space", -1 },
        { "dot.ted", -1 },
        { "\xc3\xa9", -1 },
    };
    struct ipc_record rec;
    char longname[IPC_MAX_NAME + 2];
    size_t i;

    ipc_record_init(&rec);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(ipc_add_str(&rec, cases[i].name, "v"), cases[i].want);
    memset(longname, 'x', sizeof(longname));
    longname[IPC_MAX_NAME] = 0;
    assert_int_equal(ipc_add_str(&rec, longname, "v"), 0);
    longname[IPC_MAX_NAME] = 'x';
    longname[IPC_MAX_NAME + 1] = 0;
    assert_int_equal(ipc_add_str(&rec, longname, "v"), -1);
    assert_int_equal(ipc_add(&rec, NULL, "v", 1), -1);
    assert_int_equal(ipc_add(&rec, "a", NULL, 1), -1);
    assert_int_equal(ipc_add(&rec, "a", NULL, 0), 0);
    assert_int_equal(ipc_add_str(&rec, "a", NULL), -1);
    ipc_record_free(&rec);
}

/* Attribute count limit for ipc_add, and decode at the limit. */
static void test_add_count_limit(void **state)
{
    struct ipc_record rec, out;
    struct buf wire;
    int i;

    ipc_record_init(&rec);
    ipc_record_init(&out);
    for (i = 0; i < IPC_MAX_ATTRS; i++)
        assert_int_equal(ipc_add_str(&rec, "a", ""), 0);
    assert_int_equal(ipc_add_str(&rec, "a", ""), -1);
    assert_int_equal(rec.count, IPC_MAX_ATTRS);
    encode_ok(&rec, &wire);
    assert_int_equal(decode(wire.data, wire.len, &out, NULL, NULL), IPC_OK);
    assert_int_equal(out.count, IPC_MAX_ATTRS);
    buf_free(&wire);
    ipc_record_free(&rec);
    ipc_record_free(&out);
}

/* The largest value that fits a frame, and one byte more. */
static void test_add_size_limit(void **state)
{
    struct ipc_record rec, out;
    struct buf wire;
    size_t max = IPC_MAX_FRAME - IPC_HEADER_SIZE - 1 - 1 - 4;
    unsigned char *big = xcalloc(1, IPC_MAX_VALUE + 1);

    ipc_record_init(&rec);
    ipc_record_init(&out);
    big[0] = 'x';
    big[max - 1] = 'y';
    assert_int_equal(ipc_add(&rec, "v", big, max + 1), -1);
    assert_int_equal(ipc_add(&rec, "v", big, IPC_MAX_VALUE + 1), -1);
    assert_int_equal(ipc_add(&rec, "v", big, max), 0);
    assert_int_equal(ipc_add(&rec, "w", big, 0), -1);  /* frame is full */
    encode_ok(&rec, &wire);
    assert_int_equal(wire.len, IPC_MAX_FRAME);
    assert_int_equal(decode(wire.data, wire.len, &out, NULL, NULL), IPC_OK);
    assert_records_equal(&rec, &out);
    /* Two attributes that together pass the limit. */
    ipc_record_reset(&rec);
    assert_int_equal(ipc_add(&rec, "a", big, max / 2), 0);
    assert_int_equal(ipc_add(&rec, "b", big, max / 2), -1);
    buf_free(&wire);
    free(big);
    ipc_record_free(&rec);
    ipc_record_free(&out);
}

/* Encoding into a buffer whose limit is too small leaves it unchanged. */
static void test_encode_small_buffer(void **state)
{
    struct ipc_record rec;
    struct buf out;

    ipc_record_init(&rec);
    assert_int_equal(ipc_add_str(&rec, "name", "a fairly long value"), 0);
    buf_init(&out, 12);
    buf_puts(&out, "keep");
    assert_int_equal(ipc_encode(&rec, &out), -1);
    assert_string_equal(buf_str(&out), "keep");
    buf_free(&out);
    ipc_record_free(&rec);
}

/* Every strict prefix of valid frames is NEED_MORE; the whole is OK. */
static void test_every_prefix(void **state)
{
    struct ipc_record rec, out;
    struct buf wire;
    size_t i, used;
    static const unsigned char bin[] = { 0, 1, 2, 0 };

    ipc_record_init(&rec);
    ipc_record_init(&out);
    assert_int_equal(ipc_add_str(&rec, "a", "1"), 0);
    assert_int_equal(ipc_add(&rec, "bin", bin, sizeof(bin)), 0);
    assert_int_equal(ipc_add_str(&rec, "empty", ""), 0);
    assert_int_equal(ipc_add_str(&rec, "some_longer_name_0123456789", "text value"), 0);
    encode_ok(&rec, &wire);
    for (i = 0; i < wire.len; i++) {
        unsigned char *copy = xmalloc(i + 1);   /* exact size: ASan sees over-reads */

        memcpy(copy, wire.data, i);
        assert_int_equal(decode(copy, i, &out, NULL, NULL), IPC_NEED_MORE);
        assert_int_equal(out.count, 0);
        free(copy);
    }
    assert_int_equal(decode(wire.data, wire.len, &out, &used, NULL), IPC_OK);
    assert_int_equal(used, wire.len);
    buf_free(&wire);
    ipc_record_free(&rec);
    ipc_record_free(&out);
}

/* Malformed frames: each must be IPC_ERROR with a reason. */
static void test_malformed(void **state)
{
    struct raw r;
    struct ipc_record rec;
    const char *why;
    unsigned char *exact;
    int c;
    enum { NCASES = 17 };

    ipc_record_init(&rec);
    for (c = 0; c < NCASES; c++) {
        memset(&r, 0, sizeof(r));
        switch (c) {
        case 0:                 /* bad version */
            raw_header(&r, 2, 0, 0, 0);
            break;
        case 1:                 /* version 0 */
            raw_header(&r, 0, 0, 0, 0);
            break;
        case 2:                 /* unknown flags */
            raw_header(&r, 1, 1, 0, 0);
            break;
        case 3:                 /* too many attributes */
            raw_header(&r, 1, 0, IPC_MAX_ATTRS + 1, 6 * (IPC_MAX_ATTRS + 1));
            break;
        case 4:                 /* oversized length */
            raw_header(&r, 1, 0, 1, IPC_MAX_FRAME - IPC_HEADER_SIZE + 1);
            break;
        case 5:                 /* length too small for count */
            raw_header(&r, 1, 0, 2, 11);
            break;
        case 6:                 /* count 0 but payload present: trailing garbage */
            raw_header(&r, 1, 0, 0, 3);
            raw_put(&r, "abc", 3);
            break;
        case 7:                 /* trailing garbage after the last attribute */
            raw_header(&r, 1, 0, 1, 6 + 2);
            raw_attr(&r, "a", 1, "", 0);
            raw_put(&r, "zz", 2);
            break;
        case 8:                 /* count says 2, frame holds 1 */
            raw_header(&r, 1, 0, 2, 14);
            raw_attr(&r, "a", 1, "12345678", 8);
            break;
        case 9:                 /* name length 0 */
            raw_header(&r, 1, 0, 1, 6);
            raw_attr(&r, "", 0, "", 0);
            raw_put(&r, "x", 1);
            break;
        case 10:                /* name too long */
            raw_header(&r, 1, 0, 1, 1 + IPC_MAX_NAME + 1 + 4);
            raw_attr(&r, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                     IPC_MAX_NAME + 1, "", 0);
            break;
        case 11:                /* bad name character */
            raw_header(&r, 1, 0, 1, 8);
            raw_attr(&r, "aB", 2, "x", 1);
            break;
        case 12:                /* NUL in name */
            raw_header(&r, 1, 0, 1, 7);
            raw_attr(&r, "\0", 1, "x", 1);
            break;
        case 13:                /* value overruns the frame */
            raw_header(&r, 1, 0, 1, 7);
            raw_attr(&r, "a", 1, "xy", 2);
            break;
        case 14:                /* name overruns the frame */
            raw_header(&r, 1, 0, 1, 6);
            raw_attr(&r, "abcd", 4, "", 0);
            break;
        case 15:                /* huge value length */
            raw_header(&r, 1, 0, 1, 100);
            raw_attr(&r, "a", 1, "", 0);
            r.p[IPC_HEADER_SIZE + 2] = 0xff;
            break;
        case 16:                /* a bad name is caught before the frame is complete */
            raw_header(&r, 1, 0, 1, 1000);
            raw_int(&r, 3, 1);
            raw_put(&r, "a-", 2);
            break;
        }
        exact = xmalloc(r.len ? r.len : 1);
        memcpy(exact, r.p, r.len);
        why = NULL;
        if (decode(exact, r.len, &rec, NULL, &why) != IPC_ERROR)
            fail_msg("case %d: not rejected", c);
        assert_non_null(why);
        assert_int_equal(rec.count, 0);
        free(exact);
        free(r.p);
    }
    ipc_record_free(&rec);
}

/* A frame at exactly the size limit decodes; the header check catches bigger. */
static void test_decode_frame_limit(void **state)
{
    struct raw r = { 0 };
    struct ipc_record rec;
    uint32_t vlen = IPC_MAX_FRAME - IPC_HEADER_SIZE - 6;
    unsigned char *val = xcalloc(1, vlen);

    ipc_record_init(&rec);
    raw_header(&r, 1, 0, 1, IPC_MAX_FRAME - IPC_HEADER_SIZE);
    raw_attr(&r, "a", 1, val, vlen);
    assert_int_equal(r.len, IPC_MAX_FRAME);
    assert_int_equal(decode(r.p, r.len, &rec, NULL, NULL), IPC_OK);
    assert_int_equal(ipc_get(&rec, "a")->len, vlen);
    assert_int_equal(decode(r.p, IPC_HEADER_SIZE, &rec, NULL, NULL), IPC_NEED_MORE);
    free(r.p);
    free(val);
    ipc_record_free(&rec);
}

/* Unknown attributes are carried but callers just don't ask for them. */
static void test_unknown_attributes_ignored(void **state)
{
    struct raw r = { 0 };
    struct ipc_record rec;

    ipc_record_init(&rec);
    raw_header(&r, 1, 0, 3, (1 + 6 + 4 + 1) + (1 + 12 + 4) + (1 + 5 + 4 + 2));
    raw_attr(&r, "status", 6, "0", 1);
    raw_attr(&r, "future_field", 12, "", 0);
    raw_attr(&r, "reply", 5, "ok", 2);
    assert_int_equal(decode(r.p, r.len, &rec, NULL, NULL), IPC_OK);
    assert_string_equal(ipc_get_str(&rec, "status"), "0");
    assert_string_equal(ipc_get_str(&rec, "reply"), "ok");
    free(r.p);
    ipc_record_free(&rec);
}

/* Two frames back to back decode one after the other. */
static void test_two_frames(void **state)
{
    struct ipc_record a, b, out;
    struct buf wire;
    size_t used, off;

    ipc_record_init(&a);
    ipc_record_init(&b);
    ipc_record_init(&out);
    ipc_add_str(&a, "n", "first");
    ipc_add_str(&b, "n", "second");
    ipc_add_long(&b, "x", 42);
    encode_ok(&a, &wire);
    assert_int_equal(ipc_encode(&b, &wire), 0);
    assert_int_equal(decode(wire.data, wire.len, &out, &used, NULL), IPC_OK);
    assert_string_equal(ipc_get_str(&out, "n"), "first");
    off = used;
    assert_int_equal(decode(wire.data + off, wire.len - off, &out, &used, NULL), IPC_OK);
    assert_string_equal(ipc_get_str(&out, "n"), "second");
    assert_int_equal(off + used, wire.len);
    /* The second frame cut short is NEED_MORE even after a complete first. */
    assert_int_equal(decode(wire.data + off, wire.len - off - 1, &out, &used, NULL),
                     IPC_NEED_MORE);
    buf_free(&wire);
    ipc_record_free(&a);
    ipc_record_free(&b);
    ipc_record_free(&out);
}

/* ipc_get_long is strict. */
static void test_get_long(void **state)
{
    static const struct {
        const char *text;
        int ok;
        long want;
    } cases[] = {
        { "0", 0, 0 }, { "-5", 0, -5 }, { "9223372036854775807", 0, 9223372036854775807L },
        { "9223372036854775808", -1, 0 }, { "", -1, 0 }, { " 1", -1, 0 },
        { "1 ", -1, 0 }, { "0x10", -1, 0 }, { "1k", -1, 0 },
    };
    struct ipc_record rec;
    size_t i;
    long v;

    ipc_record_init(&rec);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ipc_record_reset(&rec);
        ipc_add_str(&rec, "v", cases[i].text);
        v = 0;
        assert_int_equal(ipc_get_long(&rec, "v", &v), cases[i].ok);
        if (cases[i].ok == 0)
            assert_int_equal(v, cases[i].want);
    }
    ipc_record_reset(&rec);
    ipc_add(&rec, "v", "1\0", 2);
    assert_int_equal(ipc_get_long(&rec, "v", &v), -1);
    ipc_record_free(&rec);
}

/* A frame written on one end of a socketpair is read on the other. */
static void test_socket_round_trip(void **state)
{
    struct ipc_record rec, out;
    int sv[2];

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ipc_record_init(&rec);
    ipc_record_init(&out);
    ipc_add_str(&rec, "request", "ping");
    ipc_add(&rec, "bin", "\0\1", 2);
    assert_int_equal(ipc_write_frame(sv[0], &rec, 5), 0);
    assert_int_equal(ipc_write_frame(sv[0], &rec, 5), 0);
    assert_int_equal(ipc_read_frame(sv[1], &out, 5), 0);
    assert_records_equal(&rec, &out);
    assert_int_equal(ipc_read_frame(sv[1], &out, 5), 0);       /* second frame intact */
    assert_records_equal(&rec, &out);
    close(sv[0]);
    errno = 0;
    assert_int_equal(ipc_read_frame(sv[1], &out, 5), -1);     /* EOF */
    assert_int_equal(errno, ECONNRESET);
    close(sv[1]);
    ipc_record_free(&rec);
    ipc_record_free(&out);
}

/* A maximum-size frame needs many writes; a child writes, we read. */
static void test_socket_big_frame(void **state)
{
    struct ipc_record rec, out;
    size_t max = IPC_MAX_FRAME - IPC_HEADER_SIZE - 6;
    unsigned char *big = xmalloc(max);
    int sv[2], status;
    pid_t pid;
    size_t i;

    for (i = 0; i < max; i++)
        big[i] = (unsigned char)(i * 7);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ipc_record_init(&rec);
    ipc_record_init(&out);
    assert_int_equal(ipc_add(&rec, "v", big, max), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sv[1]);
        _exit(ipc_write_frame(sv[0], &rec, 10) == 0 ? 0 : 1);
    }
    close(sv[0]);
    assert_int_equal(ipc_read_frame(sv[1], &out, 10), 0);
    assert_int_equal(ipc_get(&out, "v")->len, max);
    assert_memory_equal(ipc_get(&out, "v")->value, big, max);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(sv[1]);
    free(big);
    ipc_record_free(&rec);
    ipc_record_free(&out);
}

/* Reading with nothing to read times out; a partial frame too. */
static void test_socket_timeout(void **state)
{
    struct ipc_record out;
    struct timespec t0, t1;
    int sv[2];
    double secs;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ipc_record_init(&out);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errno = 0;
    assert_int_equal(ipc_read_frame(sv[1], &out, 1), -1);
    assert_int_equal(errno, ETIMEDOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs >= 0.9 && secs < 5);
    /* half a header, then silence */
    assert_int_equal(write(sv[0], "\1\0\0", 3), 3);
    errno = 0;
    assert_int_equal(ipc_read_frame(sv[1], &out, 1), -1);
    assert_int_equal(errno, ETIMEDOUT);
    close(sv[0]);
    close(sv[1]);
    ipc_record_free(&out);
}

/* A writer whose peer never reads times out instead of blocking. */
static void test_socket_write_timeout(void **state)
{
    struct ipc_record rec;
    size_t max = IPC_MAX_FRAME - IPC_HEADER_SIZE - 6;
    unsigned char *big = xcalloc(1, max);
    int sv[2], ok = 0, i;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ipc_record_init(&rec);
    assert_int_equal(ipc_add(&rec, "v", big, max), 0);
    for (i = 0; i < 8 && !ok; i++) {     /* fill the socket buffers */
        errno = 0;
        if (ipc_write_frame(sv[0], &rec, 1) < 0) {
            assert_int_equal(errno, ETIMEDOUT);
            ok = 1;
        }
    }
    assert_true(ok);
    close(sv[0]);
    close(sv[1]);
    free(big);
    ipc_record_free(&rec);
}

/* A malformed header on the wire is EPROTO; a peer gone is no SIGPIPE. */
static void test_socket_malformed(void **state)
{
    struct ipc_record out;
    int sv[2];
    static const unsigned char bad[] = { 9, 0, 0, 0, 0, 0, 0, 0 };
    static const unsigned char badname[] = { 1, 0, 0, 1, 0, 0, 0, 6, 1, 'A', 0, 0, 0, 0 };

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ipc_record_init(&out);
    assert_int_equal(write(sv[0], bad, sizeof(bad)), (ssize_t)sizeof(bad));
    errno = 0;
    assert_int_equal(ipc_read_frame(sv[1], &out, 2), -1);
    assert_int_equal(errno, EPROTO);
    assert_int_equal(write(sv[0], badname, sizeof(badname)), (ssize_t)sizeof(badname));
    errno = 0;
    assert_int_equal(ipc_read_frame(sv[1], &out, 2), -1);
    assert_int_equal(errno, EPROTO);
    close(sv[1]);
    ipc_add_str(&out, "a", "b");
    assert_int_equal(ipc_write_frame(sv[0], &out, 2), -1);
    assert_int_equal(errno, EPIPE);
    close(sv[0]);
    ipc_record_free(&out);
}

/* Pipes (not sockets) work too. */
static void test_pipe_round_trip(void **state)
{
    struct ipc_record rec, out;
    int pv[2];

    assert_int_equal(pipe(pv), 0);
    ipc_record_init(&rec);
    ipc_record_init(&out);
    ipc_add_str(&rec, "k", "v");
    assert_int_equal(ipc_write_frame(pv[1], &rec, 2), 0);
    assert_int_equal(ipc_read_frame(pv[0], &out, 2), 0);
    assert_string_equal(ipc_get_str(&out, "k"), "v");
    close(pv[0]);
    close(pv[1]);
    ipc_record_free(&rec);
    ipc_record_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_basic),
        cmocka_unit_test(test_empty_record),
        cmocka_unit_test(test_wire_format),
        cmocka_unit_test(test_many_values_survive_growth),
        cmocka_unit_test(test_add_names),
        cmocka_unit_test(test_add_count_limit),
        cmocka_unit_test(test_add_size_limit),
        cmocka_unit_test(test_encode_small_buffer),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_decode_frame_limit),
        cmocka_unit_test(test_unknown_attributes_ignored),
        cmocka_unit_test(test_two_frames),
        cmocka_unit_test(test_get_long),
        cmocka_unit_test(test_socket_round_trip),
        cmocka_unit_test(test_socket_big_frame),
        cmocka_unit_test(test_socket_timeout),
        cmocka_unit_test(test_socket_write_timeout),
        cmocka_unit_test(test_socket_malformed),
        cmocka_unit_test(test_pipe_round_trip),
    };

    /* SIGPIPE stays at its default: the library must not raise it. */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
