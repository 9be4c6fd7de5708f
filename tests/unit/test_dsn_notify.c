/*
 * test_dsn_notify - unit tests for lib/dsn_notify: build notifications
 * from sample queue files and check their structure (header fields,
 * boundaries, the three parts, the status fields), RET=HDRS, a message
 * over bounce_size_limit, a postmaster copy, delay and success reports,
 * 8-bit original headers and folding of long diagnostics.
 */
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
#include "dsn_notify.h"
#include "mem.h"
#include "queue_file.h"

static char tmpdir[] = "/tmp/test_dsn_notify.XXXXXX";
static char oldcwd[4096];

/* A scratch queue directory with incoming/, entered. */
static int setup(void **state)
{
    (void)state;
    if (getcwd(oldcwd, sizeof(oldcwd)) == NULL)
        return -1;
    if (mkdtemp(tmpdir) == NULL || chdir(tmpdir) < 0 || mkdir("incoming", 0700) < 0)
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

/* Queue a message with this sender, RET and content; returns it open. */
static struct queue_file *make_original(const char *sender, enum qf_ret ret,
                                        const char *content, size_t len)
{
    struct buf err = BUF_INIT, path = BUF_INIT;
    struct queue_file_writer *w = queue_file_create("incoming", &err);
    struct queue_file *qf = NULL;
    char id[QUEUE_ID_SIZE];
    int corrupt = 0;

    assert_non_null(w);
    snprintf(id, sizeof(id), "%s", queue_file_writer_id(w));
    assert_int_equal(queue_file_put_sender(w, sender), 0);
    if (ret != QF_RET_NONE)
        assert_int_equal(queue_file_put_ret(w, ret), 0);
    assert_int_equal(queue_file_put_envid(w, "ENV123"), 0);
    assert_int_equal(queue_file_put_rcpt(w, "bob@example.test", "rfc822;Bob@example.test",
                                         QF_NOTIFY_FAILURE), 0);
    assert_int_equal(queue_file_put_rcpt(w, "carol@example.org", NULL, 0), 0);
    assert_int_equal(queue_file_put_content(w, content, len), 0);
    assert_int_equal(queue_file_commit(w, "incoming", 0, &err), 0);
    buf_printf(&path, "incoming/%s", id);
    assert_int_equal(queue_file_open(buf_str(&path), QF_OPEN_RDONLY, &qf, &corrupt, &err), 0);
    buf_free(&err);
    buf_free(&path);
    return qf;
}

/* Build a notification about orig and return its content as a string. */
static char *notify(struct queue_file *orig, const struct dsn_entry *v, size_t n,
                    struct dsn_notify_opts *opts)
{
    struct buf err = BUF_INIT, path = BUF_INIT, content = BUF_INIT;
    struct queue_file_writer *w = queue_file_create("incoming", &err);
    struct queue_file *qf = NULL;
    char id[QUEUE_ID_SIZE], chunk[4096];
    int corrupt = 0;
    ssize_t got;

    assert_non_null(w);
    snprintf(id, sizeof(id), "%s", queue_file_writer_id(w));
    opts->new_queue_id = id;
    assert_int_equal(queue_file_put_sender(w, ""), 0);
    assert_int_equal(queue_file_put_rcpt(w, opts->to, NULL, 0), 0);
    assert_int_equal(dsn_notify_write(orig, v, n, opts, w, &err), 0);
    assert_int_equal(queue_file_commit(w, "incoming", 0, &err), 0);
    buf_printf(&path, "incoming/%s", id);
    assert_int_equal(queue_file_open(buf_str(&path), QF_OPEN_RDONLY, &qf, &corrupt, &err), 0);
    queue_file_content_rewind(qf);
    while ((got = queue_file_content_read(qf, chunk, sizeof(chunk), &err)) > 0)
        buf_append(&content, chunk, (size_t)got);
    assert_int_equal(got, 0);
    assert_int_equal(queue_file_envelope(qf)->size, content.len);
    queue_file_close(qf);
    buf_free(&err);
    buf_free(&path);
    return buf_steal(&content);
}

/* Default options for a failure report. */
static struct dsn_notify_opts default_opts(void)
{
    struct dsn_notify_opts o;

    memset(&o, 0, sizeof(o));
    o.kind = DSN_NOTIFY_FAILURE;
    o.myhostname = "mail.example.test";
    o.to = "alice@example.net";
    o.now = 1790000000;
    o.size_limit = 50000;
    o.warn_after = 4 * 3600;
    o.queue_lifetime = 5 * 86400;
    return o;
}

/* Two failed recipients. */
static void two_entries(struct dsn_entry v[2])
{
    memset(v, 0, 2 * sizeof(*v));
    v[0].rcpt = (char *)"bob@example.test";
    v[0].orcpt = (char *)"rfc822;Bob@example.test";
    v[0].action = (char *)"failed";
    strcpy(v[0].dsn, "5.1.1");
    v[0].text = (char *)"unknown user: \"bob\"";
    v[1].rcpt = (char *)"carol@example.org";
    v[1].orcpt = (char *)"";
    v[1].action = (char *)"failed";
    strcpy(v[1].dsn, "5.0.0");
    v[1].text = (char *)"host mx.example.org said: 550 no";
    v[1].diag = (char *)"smtp; 550 no such user";
    v[1].mta = (char *)"dns; mx.example.org";
}

/* Number of times needle occurs in hay. */
static int count(const char *hay, const char *needle)
{
    int n = 0;

    for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
        n++;
    return n;
}

/* The boundary from the top-level Content-Type. */
static char *boundary_of(const char *msg)
{
    const char *p = strstr(msg, "boundary=\"");
    const char *e;

    assert_non_null(p);
    p += 10;
    e = strchr(p, '"');
    assert_non_null(e);
    return xstrndup(p, (size_t)(e - p));
}

/* The text after the header block of part k (1-based), up to the next boundary. */
static char *part(const char *msg, const char *boundary, int k)
{
    char delim[256];
    const char *p = msg, *body, *end;
    int i;

    snprintf(delim, sizeof(delim), "\n--%s\n", boundary);
    for (i = 0; i < k; i++) {
        p = strstr(p, delim);
        assert_non_null(p);
        p += strlen(delim);
    }
    end = strstr(p, "\n--");
    while (end && strncmp(end + 3, boundary, strlen(boundary)) != 0)
        end = strstr(end + 1, "\n--");
    assert_non_null(end);
    body = p;
    return xstrndup(body, (size_t)(end - body + 1));
}

static const char sample_msg[] =
    "Received: from client by mail.example.test\n"
    "From: Alice <alice@example.net>\n"
    "To: bob@example.test\n"
    "Subject: hello\n"
    "\n"
    "Body line one.\n"
    "Body line two.\n";

/* A failure report has the Postfix header, three parts and the fields. */
static void test_failure_structure(void **state)
{
    struct queue_file *orig = make_original("alice@example.net", QF_RET_NONE, sample_msg,
                                            sizeof(sample_msg) - 1);
    struct dsn_notify_opts o = default_opts();
    struct dsn_entry v[2];
    char *msg, *b, *p1, *p2, *p3;
    char want[512];

    (void)state;
    two_entries(v);
    msg = notify(orig, v, 2, &o);
    if (getenv("DSN_NOTIFY_DUMP"))     /* to look at a sample by eye */
        fputs(msg, stderr);
    assert_non_null(strstr(msg, "From: MAILER-DAEMON@mail.example.test (Mail Delivery System)\n"));
    assert_true(strncmp(msg, "From: ", 6) == 0);
    assert_non_null(strstr(msg, "\nSubject: Undelivered Mail Returned to Sender\n"));
    assert_non_null(strstr(msg, "\nTo: alice@example.net\n"));
    assert_non_null(strstr(msg, "\nAuto-Submitted: auto-replied\n"));
    assert_non_null(strstr(msg, "\nMIME-Version: 1.0\n"));
    assert_non_null(strstr(msg, "\nContent-Type: multipart/report; report-type=delivery-status;\n"));
    assert_non_null(strstr(msg, "\nMessage-Id: <"));
    assert_non_null(strstr(msg, "@mail.example.test>\n"));
    assert_non_null(strstr(msg, "\nDate: "));
    assert_null(strchr(msg, '\r'));
    assert_non_null(strstr(msg, "\nContent-Transfer-Encoding: 7bit\nMessage-Id: <"));

    b = boundary_of(msg);
    snprintf(want, sizeof(want), "\n--%s\n", b);
    assert_int_equal(count(msg, want), 3);
    snprintf(want, sizeof(want), "\n--%s--\n", b);
    assert_int_equal(count(msg, want), 1);
    assert_true(strlen(msg) >= strlen(want));
    assert_string_equal(msg + strlen(msg) - strlen(want), want);

    p1 = part(msg, b, 1);
    assert_true(strncmp(p1, "Content-Description: Notification\n"
                            "Content-Type: text/plain; charset=us-ascii\n\n", 77) == 0);
    assert_non_null(strstr(p1, "This is the mail system at host mail.example.test.\n"));
    assert_non_null(strstr(p1, "could not\nbe delivered to one or more recipients"));
    assert_non_null(strstr(p1, "<bob@example.test>: unknown user: \"bob\"\n"));
    assert_non_null(strstr(p1, "<carol@example.org>: host mx.example.org said: 550 no\n"));

    p2 = part(msg, b, 2);
    assert_true(strncmp(p2, "Content-Description: Delivery report\n"
                            "Content-Type: message/delivery-status\n\n", 76) == 0);
    assert_non_null(strstr(p2, "\nReporting-MTA: dns; mail.example.test\n"));
    snprintf(want, sizeof(want), "\nX-Postern-Queue-ID: %s\n",
             queue_file_envelope(orig)->queue_id);
    assert_non_null(strstr(p2, want));
    assert_non_null(strstr(p2, "\nX-Postern-Sender: rfc822; alice@example.net\n"));
    assert_non_null(strstr(p2, "\nArrival-Date: "));
    assert_non_null(strstr(p2, "\nOriginal-Envelope-Id: ENV123\n"));
    assert_non_null(strstr(p2, "\n\nFinal-Recipient: rfc822; bob@example.test\n"
                               "Original-Recipient: rfc822;Bob@example.test\n"
                               "Action: failed\n"
                               "Status: 5.1.1\n"
                               "Diagnostic-Code: X-Postern; unknown user: \"bob\"\n"));
    assert_non_null(strstr(p2, "\n\nFinal-Recipient: rfc822; carol@example.org\n"
                               "Action: failed\n"
                               "Status: 5.0.0\n"
                               "Remote-MTA: dns; mx.example.org\n"
                               "Diagnostic-Code: smtp; 550 no such user\n"));
    assert_null(strstr(p2, "Will-Retry-Until"));

    p3 = part(msg, b, 3);
    assert_true(strncmp(p3, "Content-Description: Undelivered Message\n"
                            "Content-Type: message/rfc822\n"
                            "Content-Transfer-Encoding: 7bit\n\n", 102) == 0);
    assert_non_null(strstr(p3, sample_msg));
    free(p1);
    free(p2);
    free(p3);
    free(b);
    free(msg);
    queue_file_close(orig);
}

/* RET=HDRS returns only the header as text/rfc822-headers. */
static void test_ret_hdrs(void **state)
{
    struct queue_file *orig = make_original("alice@example.net", QF_RET_HDRS, sample_msg,
                                            sizeof(sample_msg) - 1);
    struct dsn_notify_opts o = default_opts();
    struct dsn_entry v[2];
    char *msg, *b, *p3;

    (void)state;
    two_entries(v);
    msg = notify(orig, v, 2, &o);
    b = boundary_of(msg);
    p3 = part(msg, b, 3);
    assert_non_null(strstr(p3, "Content-Description: Undelivered Message Headers\n"
                               "Content-Type: text/rfc822-headers\n"));
    assert_non_null(strstr(p3, "Subject: hello\n"));
    assert_null(strstr(msg, "Body line"));
    assert_null(strstr(msg, "message/rfc822"));
    free(p3);
    free(b);
    free(msg);
    queue_file_close(orig);
}

/* A message over bounce_size_limit: headers only, the body never copied. */
static void test_big_message(void **state)
{
    size_t body = 300000, hlen = strlen("Subject: big\nFrom: a@b\n\n"), i;
    char *content = xmalloc(hlen + body);
    struct queue_file *orig;
    struct dsn_notify_opts o = default_opts();
    struct dsn_entry v[2];
    char *msg;

    (void)state;
    memcpy(content, "Subject: big\nFrom: a@b\n\n", hlen);
    for (i = 0; i < body; i++)
        content[hlen + i] = (i % 64 == 63) ? '\n' : 'B';
    orig = make_original("alice@example.net", QF_RET_FULL, content, hlen + body);
    two_entries(v);
    msg = notify(orig, v, 2, &o);
    assert_non_null(strstr(msg, "Content-Type: text/rfc822-headers\n"));
    assert_non_null(strstr(msg, "\n\nSubject: big\nFrom: a@b\n\n--"));
    assert_null(strstr(msg, "BBBB"));
    assert_true(strlen(msg) < 10000);
    free(msg);

    /* With a higher limit the whole message comes back. */
    o.size_limit = hlen + body;
    msg = notify(orig, v, 2, &o);
    assert_non_null(strstr(msg, "Content-Type: message/rfc822\n"));
    assert_int_equal(count(msg, "\nBBBB"), (int)(body / 64) + 1);
    assert_true(strlen(msg) > hlen + body);
    free(msg);
    free(content);
    queue_file_close(orig);
}

/* 8-bit bytes in the original header: 8bit encoding, bytes kept as they are. */
static void test_8bit_headers(void **state)
{
    static const char msg8[] = "Subject: Gr\xc3\xbc\xc3\x9f" "e\nFrom: J\xc3\xb6rg <j@x>\n\nhi\n";
    struct queue_file *orig = make_original("j@x", QF_RET_HDRS, msg8, sizeof(msg8) - 1);
    struct dsn_notify_opts o = default_opts();
    struct dsn_entry v[2];
    char *msg;

    (void)state;
    two_entries(v);
    v[0].text = (char *)"bad \xff byte\r\ninjected: header";
    msg = notify(orig, v, 2, &o);
    assert_non_null(strstr(msg, "Content-Type: text/rfc822-headers\n"
                                "Content-Transfer-Encoding: 8bit\n\n"
                                "Subject: Gr\xc3\xbc\xc3\x9f" "e\n"));
    assert_null(strstr(msg, "\nhi\n"));
    assert_non_null(strstr(msg, "\nContent-Transfer-Encoding: 8bit\nMessage-Id: <"));
    /* Log texts are cleaned to one printable line. */
    assert_non_null(strstr(msg, "<bob@example.test>: bad ? byte  injected: header\n"));
    assert_null(strstr(msg, "\ninjected"));
    free(msg);
    queue_file_close(orig);
}

/* A delay warning: subject, banner, Will-Retry-Until; postmaster copy. */
static void test_delay(void **state)
{
    struct queue_file *orig = make_original("alice@example.net", QF_RET_NONE, sample_msg,
                                            sizeof(sample_msg) - 1);
    struct dsn_notify_opts o = default_opts();
    struct dsn_entry v[2];
    char *msg;

    (void)state;
    two_entries(v);
    v[0].action = v[1].action = (char *)"delayed";
    strcpy(v[0].dsn, "4.4.1");
    strcpy(v[1].dsn, "4.4.2");
    o.kind = DSN_NOTIFY_DELAY;
    msg = notify(orig, v, 2, &o);
    assert_non_null(strstr(msg, "\nSubject: Delayed Mail (still being retried)\n"));
    assert_non_null(strstr(msg, "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #"));
    assert_non_null(strstr(msg, "delivered for more than 4 hour(s)"));
    assert_non_null(strstr(msg, "until it is 5 day(s) old"));
    assert_int_equal(count(msg, "\nWill-Retry-Until: "), 2);
    assert_int_equal(count(msg, "\nAction: delayed\n"), 2);
    assert_non_null(strstr(msg, "Content-Description: Delayed Message\n"));
    free(msg);

    o.postmaster_copy = 1;
    o.headers_only = 1;
    o.to = "postmaster";
    msg = notify(orig, v, 2, &o);
    assert_non_null(strstr(msg, "\nSubject: Postmaster Warning: Delayed Mail\n"));
    assert_non_null(strstr(msg, "\nTo: postmaster\n"));
    assert_non_null(strstr(msg, "Content-Type: text/rfc822-headers\n"));
    assert_null(strstr(msg, "Body line"));
    free(msg);
    queue_file_close(orig);
}

/* A success report and a postmaster copy of a failure. */
static void test_success_and_copy(void **state)
{
    struct queue_file *orig = make_original("alice@example.net", QF_RET_NONE, sample_msg,
                                            sizeof(sample_msg) - 1);
    struct dsn_notify_opts o = default_opts();
    struct dsn_entry v[2];
    char *msg;

    (void)state;
    two_entries(v);
    v[0].action = (char *)"delivered";
    strcpy(v[0].dsn, "2.0.0");
    v[0].text = (char *)"delivered to maildir";
    o.kind = DSN_NOTIFY_SUCCESS;
    msg = notify(orig, v, 1, &o);
    assert_non_null(strstr(msg, "\nSubject: Successful Mail Delivery Report\n"));
    assert_non_null(strstr(msg, "successfully delivered to the destination(s)"));
    assert_non_null(strstr(msg, "\nAction: delivered\nStatus: 2.0.0\n"));
    assert_null(strstr(msg, "carol@"));
    assert_non_null(strstr(msg, "Content-Description: Delivered Message\n"));
    free(msg);

    two_entries(v);
    o = default_opts();
    o.postmaster_copy = 1;
    o.headers_only = 1;
    o.to = "postmaster";
    msg = notify(orig, v, 2, &o);
    assert_non_null(strstr(msg, "\nSubject: Postmaster Copy: Undelivered Mail\n"));
    assert_non_null(strstr(msg, "Content-Type: text/rfc822-headers\n"));
    free(msg);
    queue_file_close(orig);
}

/* Long diagnostics are folded; no line is longer than the fold width unless unbreakable. */
static void test_folding(void **state)
{
    struct queue_file *orig = make_original("alice@example.net", QF_RET_NONE,
                                            "no header no newline", 20);
    struct dsn_notify_opts o = default_opts();
    struct dsn_entry v[2];
    char *msg, *line, *save = NULL;
    struct buf diag = BUF_INIT;
    int i;

    (void)state;
    two_entries(v);
    buf_puts(&diag, "smtp; 550-5.1.1");
    for (i = 0; i < 60; i++)
        buf_puts(&diag, " word");
    v[1].diag = diag.data;
    msg = notify(orig, v, 2, &o);
    assert_non_null(strstr(msg, "\nDiagnostic-Code: smtp; 550-5.1.1 word"));
    assert_non_null(strstr(msg, "\n    word word"));
    /* The original without a final newline still ends its part cleanly. */
    assert_non_null(strstr(msg, "no header no newline\n\n--"));
    for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        assert_true(strlen(line) <= 78);
    free(msg);
    buf_free(&diag);
    queue_file_close(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failure_structure),
        cmocka_unit_test(test_ret_hdrs),
        cmocka_unit_test(test_big_message),
        cmocka_unit_test(test_8bit_headers),
        cmocka_unit_test(test_delay),
        cmocka_unit_test(test_success_and_copy),
        cmocka_unit_test(test_folding),
    };

    setenv("TZ", "UTC", 1);
    return cmocka_run_group_tests(tests, setup, teardown);
}
