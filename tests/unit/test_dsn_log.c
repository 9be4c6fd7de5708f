/*
 * test_dsn_log - unit tests for lib/dsn_log: append/read round trips,
 * torn tails (at every cut point, and repaired by the next append),
 * garbage, invalid entries, the size and entry limits, dsn_log_latest
 * and removal.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dsn_log.h"
#include "ipc_frame.h"
#include "mem.h"
#include "queue_id.h"

static char tmpdir[] = "/tmp/test_dsn_log.XXXXXX";
static char oldcwd[4096];

/* Make a scratch queue directory with bounce/ defer/ trace/ and enter it. */
static int setup(void **state)
{
    (void)state;
    if (getcwd(oldcwd, sizeof(oldcwd)) == NULL)
        return -1;
    strcpy(tmpdir, "/tmp/test_dsn_log.XXXXXX");
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) < 0)
        return -1;
    if (mkdir("bounce", 0700) < 0 || mkdir("defer", 0700) < 0 || mkdir("trace", 0700) < 0)
        return -1;
    return 0;
}

/* Remove the scratch directory. */
static int teardown(void **state)
{
    char cmd[256];

    (void)state;
    if (chdir(oldcwd) < 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A fresh valid queue ID. */
static void new_id(char id[QUEUE_ID_SIZE])
{
    static uint64_t n = 1;

    assert_int_equal(queue_id_new(id, n++, NULL), 0);
}

/* A sample entry (strings point at literals). */
static struct dsn_entry sample(const char *rcpt, uint64_t offset, const char *action,
                               const char *dsn, const char *text)
{
    struct dsn_entry e;

    memset(&e, 0, sizeof(e));
    e.rcpt = (char *)rcpt;
    e.orcpt = (char *)"";
    e.offset = offset;
    e.action = (char *)action;
    snprintf(e.dsn, sizeof(e.dsn), "%s", dsn);
    e.text = (char *)text;
    e.time = 1700000000;
    return e;
}

/* Encode an entry frame the way the writer does (for building images). */
static void encode_sample(struct buf *out, const char *rcpt, long offset)
{
    struct ipc_record rec;

    ipc_record_init(&rec);
    assert_int_equal(ipc_add_str(&rec, "rcpt", rcpt), 0);
    assert_int_equal(ipc_add_str(&rec, "orcpt", ""), 0);
    assert_int_equal(ipc_add_long(&rec, "notify", 0), 0);
    assert_int_equal(ipc_add_long(&rec, "offset", offset), 0);
    assert_int_equal(ipc_add_str(&rec, "action", "failed"), 0);
    assert_int_equal(ipc_add_str(&rec, "dsn", "5.1.1"), 0);
    assert_int_equal(ipc_add_str(&rec, "text", "user unknown"), 0);
    assert_int_equal(ipc_add_long(&rec, "time", 5), 0);
    assert_int_equal(ipc_encode(&rec, out), 0);
    ipc_record_free(&rec);
}

/* Append then read gives back every field, in order; mode is 0600. */
static void test_round_trip(void **state)
{
    char id[QUEUE_ID_SIZE], path[128];
    struct dsn_entry a = sample("bob@example.test", 100, "failed", "5.1.1",
                                "user unknown");
    struct dsn_entry b = sample("carol@example.org", 200, "delayed", "4.4.1",
                                "connection refused");
    struct dsn_log log;
    struct buf why = BUF_INIT;
    struct stat st;

    (void)state;
    new_id(id);
    a.orcpt = (char *)"rfc822;Bob@Example.Test";
    a.notify = 0x02 | 0x04;
    a.diag = (char *)"smtp; 550 5.1.1 <bob@example.test>: user unknown";
    a.mta = (char *)"dns; mx.example.test";
    assert_int_equal(dsn_log_append(DSN_LOG_BOUNCE, id, &a, &why), 0);
    assert_int_equal(dsn_log_append(DSN_LOG_BOUNCE, id, &b, &why), 0);
    snprintf(path, sizeof(path), "bounce/%s", id);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    assert_int_equal(dsn_log_read(DSN_LOG_BOUNCE, id, &log, &why), 0);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.truncated, 0);
    assert_string_equal(log.v[0].rcpt, "bob@example.test");
    assert_string_equal(log.v[0].orcpt, "rfc822;Bob@Example.Test");
    assert_int_equal(log.v[0].notify, 0x06);
    assert_int_equal(log.v[0].offset, 100);
    assert_string_equal(log.v[0].action, "failed");
    assert_string_equal(log.v[0].dsn, "5.1.1");
    assert_string_equal(log.v[0].text, "user unknown");
    assert_string_equal(log.v[0].diag, "smtp; 550 5.1.1 <bob@example.test>: user unknown");
    assert_string_equal(log.v[0].mta, "dns; mx.example.test");
    assert_int_equal(log.v[0].time, 1700000000);
    assert_string_equal(log.v[1].rcpt, "carol@example.org");
    assert_string_equal(log.v[1].orcpt, "");
    assert_null(log.v[1].diag);
    assert_null(log.v[1].mta);
    assert_string_equal(log.v[1].action, "delayed");
    assert_string_equal(log.v[1].dsn, "4.4.1");
    dsn_log_free(&log);

    /* Other kinds are other files. */
    assert_int_equal(dsn_log_read(DSN_LOG_DEFER, id, &log, &why), 1);
    assert_int_equal(log.n, 0);
    dsn_log_free(&log);

    assert_int_equal(dsn_log_remove(DSN_LOG_BOUNCE, id), 0);
    assert_int_equal(dsn_log_read(DSN_LOG_BOUNCE, id, &log, &why), 1);
    dsn_log_free(&log);
    assert_int_equal(dsn_log_remove(DSN_LOG_BOUNCE, id), 0);
    buf_free(&why);
}

/* Bad names and entries without recipient or action are refused. */
static void test_refusals(void **state)
{
    char id[QUEUE_ID_SIZE];
    struct dsn_entry e = sample("x@y", 1, "failed", "5.0.0", "t");
    struct dsn_log log;
    struct buf why = BUF_INIT;

    (void)state;
    new_id(id);
    assert_int_equal(dsn_log_append("active", id, &e, &why), -1);
    assert_int_equal(dsn_log_append(DSN_LOG_BOUNCE, "../etc", &e, &why), -1);
    assert_int_equal(dsn_log_read(DSN_LOG_BOUNCE, "../../x", &log, &why), -1);
    dsn_log_free(&log);
    e.action = (char *)"exploded";
    assert_int_equal(dsn_log_append(DSN_LOG_BOUNCE, id, &e, &why), -1);
    e.action = NULL;
    assert_int_equal(dsn_log_append(DSN_LOG_BOUNCE, id, &e, &why), -1);
    e.action = (char *)"failed";
    e.rcpt = NULL;
    assert_int_equal(dsn_log_append(DSN_LOG_BOUNCE, id, &e, &why), -1);
    assert_int_equal(dsn_log_read(DSN_LOG_BOUNCE, id, &log, &why), 1);
    dsn_log_free(&log);

    /* A malformed status code becomes the generic one of the action. */
    e.rcpt = (char *)"x@y";
    strcpy(e.dsn, "5.1");
    assert_int_equal(dsn_log_append(DSN_LOG_BOUNCE, id, &e, &why), 0);
    e.action = (char *)"delayed";
    strcpy(e.dsn, "3.1.1");
    assert_int_equal(dsn_log_append(DSN_LOG_BOUNCE, id, &e, &why), 0);
    e.action = (char *)"delivered";
    memset(e.dsn, '2', sizeof(e.dsn));     /* not even terminated */
    assert_int_equal(dsn_log_append(DSN_LOG_BOUNCE, id, &e, &why), 0);
    assert_int_equal(dsn_log_read(DSN_LOG_BOUNCE, id, &log, &why), 0);
    assert_int_equal(log.n, 3);
    assert_string_equal(log.v[0].dsn, "5.0.0");
    assert_string_equal(log.v[1].dsn, "4.0.0");
    assert_string_equal(log.v[2].dsn, "2.0.0");
    dsn_log_free(&log);
    buf_free(&why);
}

/* Every cut of a two-entry image yields a prefix of the entries. */
static void test_torn_tail_parse(void **state)
{
    struct buf img = BUF_INIT;
    size_t first, cut;
    struct dsn_log log;

    (void)state;
    encode_sample(&img, "one@x", 1);
    first = img.len;
    encode_sample(&img, "two@x", 2);
    for (cut = 0; cut <= img.len; cut++) {
        dsn_log_parse(img.data, cut, &log);
        if (cut < first) {
            assert_int_equal(log.n, 0);
        } else if (cut < img.len) {
            assert_int_equal(log.n, 1);
            assert_string_equal(log.v[0].rcpt, "one@x");
        } else {
            assert_int_equal(log.n, 2);
        }
        assert_int_equal(log.truncated, cut != 0 && cut != first && cut != img.len);
        dsn_log_free(&log);
    }
    buf_free(&img);
}

/* A torn tail on disk is read as a prefix and cut off by the next append. */
static void test_torn_tail_repair(void **state)
{
    char id[QUEUE_ID_SIZE], path[128];
    struct buf img = BUF_INIT, why = BUF_INIT;
    struct dsn_entry e = sample("three@x", 3, "failed", "5.0.0", "later");
    struct dsn_log log;
    size_t first;
    int fd;

    (void)state;
    new_id(id);
    encode_sample(&img, "one@x", 1);
    first = img.len;
    encode_sample(&img, "two@x", 2);
    snprintf(path, sizeof(path), "bounce/%s", id);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, img.data, first + 11), (ssize_t)(first + 11));
    close(fd);

    assert_int_equal(dsn_log_read(DSN_LOG_BOUNCE, id, &log, &why), 0);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.truncated, 1);
    dsn_log_free(&log);

    assert_int_equal(dsn_log_append(DSN_LOG_BOUNCE, id, &e, &why), 0);
    assert_int_equal(dsn_log_read(DSN_LOG_BOUNCE, id, &log, &why), 0);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.truncated, 0);
    assert_string_equal(log.v[0].rcpt, "one@x");
    assert_string_equal(log.v[1].rcpt, "three@x");
    assert_string_equal(log.v[1].text, "later");
    dsn_log_free(&log);
    buf_free(&img);
    buf_free(&why);
}

/* Garbage: random bytes, a bad header, frames that are no entries. */
static void test_garbage(void **state)
{
    struct buf img = BUF_INIT;
    struct ipc_record rec;
    struct dsn_log log;
    unsigned char junk[512];
    size_t i;
    static const char *const bad_dsn[] = { "", "5", "5.", "5.1.", "6.1.1",
        "5.1234.1", "5.1.1x", "5..1", "5.1.1.1", "99999999999999999", NULL };

    (void)state;
    /* Pseudo-random junk never crashes and yields nothing. */
    srand(42);
    for (i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)rand();
    junk[0] = 7;                /* not version 1 */
    dsn_log_parse(junk, sizeof(junk), &log);
    assert_int_equal(log.n, 0);
    assert_int_equal(log.truncated, 1);
    dsn_log_free(&log);
    dsn_log_parse("", 0, &log);
    assert_int_equal(log.n, 0);
    assert_int_equal(log.truncated, 0);
    dsn_log_free(&log);

    /* Good entry, then frames that decode but are not entries, then good. */
    encode_sample(&img, "good@x", 1);
    ipc_record_init(&rec);
    ipc_add_str(&rec, "unrelated", "attr");
    ipc_encode(&rec, &img);
    for (i = 0; bad_dsn[i]; i++) {
        ipc_record_reset(&rec);
        ipc_add_str(&rec, "rcpt", "bad@x");
        ipc_add_long(&rec, "offset", 9);
        ipc_add_str(&rec, "action", "failed");
        ipc_add_str(&rec, "dsn", bad_dsn[i]);
        ipc_encode(&rec, &img);
    }
    ipc_record_reset(&rec);
    ipc_add_str(&rec, "rcpt", "bad@x");
    ipc_add_long(&rec, "offset", -1);
    ipc_add_str(&rec, "action", "failed");
    ipc_add_str(&rec, "dsn", "5.0.0");
    ipc_encode(&rec, &img);
    ipc_record_reset(&rec);
    ipc_add(&rec, "rcpt", "nul\0inside", 10);
    ipc_add_long(&rec, "offset", 1);
    ipc_add_str(&rec, "action", "failed");
    ipc_add_str(&rec, "dsn", "5.0.0");
    ipc_encode(&rec, &img);
    ipc_record_reset(&rec);
    ipc_add_str(&rec, "rcpt", "bad@x");
    ipc_add_str(&rec, "offset", "12abc");
    ipc_add_str(&rec, "action", "failed");
    ipc_add_str(&rec, "dsn", "5.0.0");
    ipc_encode(&rec, &img);
    ipc_record_free(&rec);
    encode_sample(&img, "also-good@x", 2);
    dsn_log_parse(img.data, img.len, &log);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.truncated, 1);
    assert_string_equal(log.v[0].rcpt, "good@x");
    assert_string_equal(log.v[1].rcpt, "also-good@x");
    dsn_log_free(&log);

    /* Garbage in the middle ends the log there. */
    buf_reset(&img);
    encode_sample(&img, "good@x", 1);
    buf_append(&img, "\x01\x00\x00\x01\xff\xff\xff\xff", 8);
    encode_sample(&img, "unreached@x", 2);
    dsn_log_parse(img.data, img.len, &log);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.truncated, 1);
    dsn_log_free(&log);
    buf_free(&img);
}

/* More than DSN_LOG_MAX_ENTRIES entries: the rest is ignored and reported. */
static void test_entry_limit(void **state)
{
    struct buf img, one = BUF_INIT;
    struct dsn_log log;
    size_t i;

    (void)state;
    buf_init(&img, DSN_LOG_MAX_BYTES);
    encode_sample(&one, "r@x", 1);
    for (i = 0; i < DSN_LOG_MAX_ENTRIES; i++)
        assert_int_equal(buf_append(&img, one.data, one.len), 0);
    dsn_log_parse(img.data, img.len, &log);
    assert_int_equal(log.n, DSN_LOG_MAX_ENTRIES);
    assert_int_equal(log.truncated, 0);
    dsn_log_free(&log);
    assert_int_equal(buf_append(&img, one.data, one.len), 0);
    dsn_log_parse(img.data, img.len, &log);
    assert_int_equal(log.n, DSN_LOG_MAX_ENTRIES);
    assert_int_equal(log.truncated, 1);
    dsn_log_free(&log);
    buf_free(&img);
    buf_free(&one);
}

/* Bytes past DSN_LOG_MAX_BYTES are ignored and reported. */
static void test_byte_limit(void **state)
{
    struct buf one = BUF_INIT;
    struct dsn_entry e;
    struct ipc_record rec;
    unsigned char *big;
    char *text;
    size_t k, i, textlen = 1000000;
    struct dsn_log log;

    (void)state;
    text = xmalloc(textlen + 1);
    memset(text, 'x', textlen);
    text[textlen] = 0;
    e = sample("big@x", 1, "failed", "5.0.0", text);
    ipc_record_init(&rec);
    ipc_add_str(&rec, "rcpt", e.rcpt);
    ipc_add_long(&rec, "offset", 1);
    ipc_add_str(&rec, "action", "failed");
    ipc_add_str(&rec, "dsn", "5.0.0");
    ipc_add_str(&rec, "text", text);
    assert_int_equal(ipc_encode(&rec, &one), 0);
    ipc_record_free(&rec);
    k = DSN_LOG_MAX_BYTES / one.len;
    /* k whole frames fit; frame k+1 straddles the limit. */
    big = xmalloc((k + 1) * one.len);
    for (i = 0; i <= k; i++)
        memcpy(big + i * one.len, one.data, one.len);
    dsn_log_parse(big, k * one.len, &log);
    assert_int_equal(log.n, k);
    assert_int_equal(log.truncated, 0);
    assert_int_equal(strlen(log.v[0].text), textlen);
    dsn_log_free(&log);
    dsn_log_parse(big, (k + 1) * one.len, &log);
    assert_int_equal(log.n, k);
    assert_int_equal(log.truncated, 1);
    dsn_log_free(&log);
    free(big);
    free(text);
    buf_free(&one);
}

/* dsn_log_latest keeps the last entry per offset in first-seen order. */
static void test_latest(void **state)
{
    char id[QUEUE_ID_SIZE];
    struct buf why = BUF_INIT;
    struct dsn_log log;
    static const struct { uint64_t off; const char *text; } in[] = {
        { 300, "c1" }, { 100, "a1" }, { 300, "c2" }, { 200, "b1" },
        { 100, "a2" }, { 300, "c3" }, { 400, "d1" },
    };
    size_t i;

    (void)state;
    new_id(id);
    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        struct dsn_entry e = sample("r@x", in[i].off, "delayed", "4.0.0", in[i].text);

        assert_int_equal(dsn_log_append(DSN_LOG_DEFER, id, &e, &why), 0);
    }
    assert_int_equal(dsn_log_read(DSN_LOG_DEFER, id, &log, &why), 0);
    assert_int_equal(log.n, 7);
    dsn_log_latest(&log);
    assert_int_equal(log.n, 4);
    assert_int_equal(log.v[0].offset, 300);
    assert_string_equal(log.v[0].text, "c3");
    assert_int_equal(log.v[1].offset, 100);
    assert_string_equal(log.v[1].text, "a2");
    assert_int_equal(log.v[2].offset, 200);
    assert_string_equal(log.v[2].text, "b1");
    assert_int_equal(log.v[3].offset, 400);
    assert_string_equal(log.v[3].text, "d1");
    dsn_log_latest(&log);       /* idempotent */
    assert_int_equal(log.n, 4);
    dsn_log_free(&log);

    /* Empty and single logs are left alone. */
    dsn_log_parse("", 0, &log);
    dsn_log_latest(&log);
    assert_int_equal(log.n, 0);
    dsn_log_free(&log);
    buf_free(&why);
}

/* A symlink in place of a log is never followed. */
static void test_symlink(void **state)
{
    char id[QUEUE_ID_SIZE], path[128];
    struct buf why = BUF_INIT;
    struct dsn_entry e = sample("r@x", 1, "failed", "5.0.0", "t");
    struct dsn_log log;

    (void)state;
    new_id(id);
    snprintf(path, sizeof(path), "trace/%s", id);
    assert_int_equal(symlink("/tmp/nowhere-dsn-log-target", path), 0);
    assert_int_equal(dsn_log_append(DSN_LOG_TRACE, id, &e, &why), -1);
    assert_int_equal(dsn_log_read(DSN_LOG_TRACE, id, &log, &why), -1);
    dsn_log_free(&log);
    assert_int_equal(access("/tmp/nowhere-dsn-log-target", F_OK), -1);
    buf_free(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_torn_tail_parse),
        cmocka_unit_test(test_torn_tail_repair),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_entry_limit),
        cmocka_unit_test(test_byte_limit),
        cmocka_unit_test(test_latest),
        cmocka_unit_test(test_symlink),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
