/*
 * test_deliver_agent - unit tests for the delivery agent skeleton
 * (lib/deliver_agent.c, lib/deliver_result.c): a queue file in a private
 * mkdtemp() queue directory, requests sent over a socketpair to
 * deliver_agent_serve_fd() with a test agent whose behaviour depends on
 * the recipient's local part, and checks of the reply attributes and the
 * Postfix-shaped log lines (sent, deferred, bounced, no result, bad and
 * repeated offsets, done recipients, missing queue file, malformed
 * requests, delay formatting, text bounds, misuse of the result API).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "deliver_agent.h"
#include "deliver_proto.h"
#include "ipc_frame.h"
#include "log.h"
#include "maincf.h"
#include "mem.h"
#include "queue_file.h"

#define NRCPT 5

struct fixture {
    char dir[64];
    char oldcwd[4096];
    char logpath[128];
    char id[QUEUE_ID_SIZE];
    uint64_t off[NRCPT];
    struct config *cfg;
};

static const char *const rcpts[NRCPT] = {
    "sent@example.test", "defer@example.test", "bounce@example.test",
    "none@example.test", "long@example.test",
};

static int agent_calls;
static size_t agent_seen;

/* The test agent: the result follows the recipient's local part. */
static void test_deliver(struct delivery_request *req, const struct config *cfg)
{
    (void)cfg;
    agent_calls++;
    agent_seen = req->nrcpt;
    assert_non_null(req->qf);
    assert_non_null(req->env);
    for (size_t i = 0; i < req->nrcpt; i++) {
        const char *a = req->rcpt[i].address;

        if (strncmp(a, "sent@", 5) == 0) {
            deliver_sent(req, i, "test", "2.0.0", "delivered to %s", "test");
            deliver_set_action(req, i, "relayed");
        } else if (strncmp(a, "defer@", 6) == 0) {
            deliver_set_diag(req, i, "dns; mx.example.test", "smtp; 451 try later");
            deliver_defer(req, i, "test", "4.4.1", "try later");
        } else if (strncmp(a, "bounce@", 7) == 0) {
            deliver_bounce(req, i, "test", "5.1.1", "unknown user: \"%s\"", a);
        } else if (strncmp(a, "long@", 5) == 0) {
            char big[3000];

            memset(big, 'x', sizeof(big) - 1);
            big[sizeof(big) - 1] = 0;
            deliver_defer(req, i, "test", "4.0.0", "%s", big);
        }
        /* none@: no result; the skeleton defers it. */
    }
}

static const struct deliver_agent test_agent = {
    .program = "testagent",
    .deliver = test_deliver,
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct queue_file_writer *w;
    struct queue_file *qf;
    struct qf_rcpt r;
    struct buf err = BUF_INIT;
    int corrupt;
    char path[128];

    strcpy(f->dir, "/tmp/test_deliver_agent.XXXXXX");
    if (mkdtemp(f->dir) == NULL || getcwd(f->oldcwd, sizeof(f->oldcwd)) == NULL
        || chdir(f->dir) < 0 || mkdir("active", 0700) < 0)
        return -1;
    snprintf(f->logpath, sizeof(f->logpath), "%s/maillog", f->dir);
    log_init("testagent");
    log_to_stderr(0);
    if (log_to_file(f->logpath) < 0)
        return -1;
    if ((w = queue_file_create("active", &err)) == NULL)
        return -1;
    snprintf(f->id, sizeof(f->id), "%s", queue_file_writer_id(w));
    queue_file_put_sender(w, "sender@example.org");
    for (int i = 0; i < NRCPT; i++)
        queue_file_put_rcpt(w, rcpts[i], i == 0 ? "rfc822;Alias+x@example.test" : NULL,
                            QF_NOTIFY_FAILURE);
    queue_file_put_content(w, "Subject: hi\n\nbody\n", 18);
    if (queue_file_commit(w, "active", 0, &err) < 0)
        return -1;
    snprintf(path, sizeof(path), "active/%s", f->id);
    if (queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &err) < 0)
        return -1;
    for (int i = 0; i < NRCPT && queue_file_rcpt_next(qf, &r, &err) == 1; i++)
        f->off[i] = r.offset;
    queue_file_close(qf);
    f->cfg = config_defaults();
    buf_free(&err);
    agent_calls = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    config_free(f->cfg);
    if (chdir(f->oldcwd) < 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* A valid request for recipients idx[0..n-1], arrival/active in usec. */
static void make_request(struct ipc_record *rec, const struct fixture *f,
                         const uint64_t *offs, size_t n, long arrival, long active)
{
    char name[32];

    ipc_record_init(rec);
    ipc_add_str(rec, "request", DELIVER_REQ_DELIVER);
    ipc_add_str(rec, "queue_id", f->id);
    ipc_add_str(rec, "queue_name", "active");
    ipc_add_str(rec, "nexthop", "example.test");
    ipc_add_str(rec, "sender", "sender@example.org");
    ipc_add_long(rec, "arrival", arrival);
    ipc_add_long(rec, "active", active);
    ipc_add_long(rec, "dispatch", active);
    ipc_add_long(rec, "rcpt_count", (long)n);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "rcpt_%zu", i);
        ipc_add_long(rec, name, (long)offs[i]);
    }
}

/* Microseconds since the epoch, now. */
static long now_usec(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long)tv.tv_sec * 1000000L + tv.tv_usec;
}

/* Send raw bytes, serve, and read the reply; returns serve's result. */
static int serve_raw(const struct fixture *f, const void *data, size_t len,
                     struct ipc_record *reply)
{
    int sv[2], rc;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[0], data, len), (ssize_t)len);
    shutdown(sv[0], SHUT_WR);
    rc = deliver_agent_serve_fd(sv[1], f->cfg, &test_agent);
    close(sv[1]);
    ipc_record_init(reply);
    if (rc == 0)
        assert_int_equal(ipc_read_frame(sv[0], reply, 5), 0);
    close(sv[0]);
    return rc;
}

/* Encode rec, serve it, and read the reply. */
static int serve(const struct fixture *f, struct ipc_record *rec, struct ipc_record *reply)
{
    struct buf wire = BUF_INIT;
    int rc;

    assert_int_equal(ipc_encode(rec, &wire), 0);
    rc = serve_raw(f, wire.data, wire.len, reply);
    buf_free(&wire);
    ipc_record_free(rec);
    return rc;
}

/* The reply attribute name_I as a string ("" when absent). */
static const char *attr_i(const struct ipc_record *rec, const char *name, size_t i)
{
    char key[64];
    const char *v;

    snprintf(key, sizeof(key), "%s_%zu", name, i);
    v = ipc_get_str(rec, key);
    return v ? v : "";
}

/* The whole maillog so far. */
static char *read_log(const struct fixture *f)
{
    FILE *fp = fopen(f->logpath, "r");
    char *text = xcalloc(1, 1 << 20);

    assert_non_null(fp);
    (void)!fread(text, 1, (1 << 20) - 1, fp);
    fclose(fp);
    return text;
}

static void test_results(void **state)
{
    struct fixture *f = *state;
    struct ipc_record rec, reply;
    long now = now_usec();
    char *log, expect[512];

    make_request(&rec, f, f->off, NRCPT, now - 623000, now - 500000);
    assert_int_equal(serve(f, &rec, &reply), 0);
    assert_int_equal(agent_calls, 1);
    assert_int_equal(agent_seen, NRCPT);
    assert_string_equal(ipc_get_str(&reply, "status"), "ok");
    assert_null(ipc_get_str(&reply, "dest_failed"));

    assert_string_equal(attr_i(&reply, "result", 0), "sent");
    assert_string_equal(attr_i(&reply, "dsn", 0), "2.0.0");
    assert_string_equal(attr_i(&reply, "text", 0), "delivered to test");
    assert_string_equal(attr_i(&reply, "action", 0), "relayed");

    assert_string_equal(attr_i(&reply, "result", 1), "deferred");
    assert_string_equal(attr_i(&reply, "dsn", 1), "4.4.1");
    assert_string_equal(attr_i(&reply, "diag", 1), "smtp; 451 try later");
    assert_string_equal(attr_i(&reply, "mta", 1), "dns; mx.example.test");
    assert_string_equal(attr_i(&reply, "action", 1), "");

    assert_string_equal(attr_i(&reply, "result", 2), "bounced");
    assert_string_equal(attr_i(&reply, "dsn", 2), "5.1.1");
    assert_string_equal(attr_i(&reply, "text", 2), "unknown user: \"bounce@example.test\"");

    assert_string_equal(attr_i(&reply, "result", 3), "deferred");
    assert_string_equal(attr_i(&reply, "dsn", 3), "4.3.0");
    assert_string_equal(attr_i(&reply, "text", 3), "delivery agent gave no result");

    assert_string_equal(attr_i(&reply, "result", 4), "deferred");
    assert_int_equal(strlen(attr_i(&reply, "text", 4)), DELIVER_MAX_TEXT);
    ipc_record_free(&reply);

    log = read_log(f);
    snprintf(expect, sizeof(expect), "%s: to=<sent@example.test>, "
             "orig_to=<Alias+x@example.test>, relay=test, delay=0.6", f->id);
    assert_non_null(strstr(log, expect));
    assert_non_null(strstr(log, ", delays=0.12/0.5"));
    assert_non_null(strstr(log, ", dsn=2.0.0, status=sent (delivered to test)"));
    snprintf(expect, sizeof(expect), "%s: to=<defer@example.test>, relay=test, delay=", f->id);
    assert_non_null(strstr(log, expect));
    assert_non_null(strstr(log, ", dsn=4.4.1, status=deferred (try later)"));
    assert_non_null(strstr(log, ", dsn=5.1.1, status=bounced (unknown user: "
                                "\"bounce@example.test\")"));
    snprintf(expect, sizeof(expect), "%s: to=<none@example.test>, relay=none, delay=", f->id);
    assert_non_null(strstr(log, expect));
    assert_non_null(strstr(log, "dsn=4.3.0, status=deferred (delivery agent gave no result)"));
    free(log);
}

/* Delays as Postfix prints them: two significant digits, at most 2 decimals. */
static void test_delay_format(void **state)
{
    struct fixture *f = *state;
    static const struct {
        long a_usec;
        const char *shown;
    } cases[] = {
        {0, "delays=0/"}, {4000, "delays=0/"}, {5000, "delays=0.01/"},
        {123000, "delays=0.12/"}, {1260000, "delays=1.3/"},
        {9960000, "delays=10/"}, {12345000, "delays=12/"},
        {150000000, "delays=150/"}, {100000, "delays=0.1/"},
    };

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct ipc_record rec, reply;
        long active = now_usec();
        char *log, expect[128];
        int fd;

        fd = open(f->logpath, O_WRONLY | O_TRUNC);
        assert_true(fd >= 0);
        close(fd);
        make_request(&rec, f, &f->off[2], 1, active - cases[c].a_usec, active);
        assert_int_equal(serve(f, &rec, &reply), 0);
        ipc_record_free(&reply);
        log = read_log(f);
        snprintf(expect, sizeof(expect), "to=<bounce@example.test>, relay=test, delay=");
        assert_non_null(strstr(log, expect));
        if (strstr(log, cases[c].shown) == NULL)
            fail_msg("a=%ld usec: want %s in %s", cases[c].a_usec, cases[c].shown, log);
        free(log);
    }
}

static void test_bad_offsets(void **state)
{
    struct fixture *f = *state;
    struct ipc_record rec, reply;
    uint64_t offs[4] = {f->off[2], 1, f->off[2], 999999};

    make_request(&rec, f, offs, 4, now_usec(), now_usec());
    assert_int_equal(serve(f, &rec, &reply), 0);
    assert_int_equal(agent_seen, 1);
    assert_string_equal(ipc_get_str(&reply, "status"), "ok");
    assert_string_equal(attr_i(&reply, "result", 0), "bounced");
    for (size_t i = 1; i < 4; i++) {
        assert_string_equal(attr_i(&reply, "result", i), "deferred");
        assert_string_equal(attr_i(&reply, "dsn", i), "4.3.0");
        assert_string_equal(attr_i(&reply, "text", i), "bad recipient offset");
    }
    ipc_record_free(&reply);

    /* Only bad offsets: the agent is not called at all. */
    agent_calls = 0;
    offs[0] = 7;
    make_request(&rec, f, offs, 1, now_usec(), now_usec());
    assert_int_equal(serve(f, &rec, &reply), 0);
    assert_int_equal(agent_calls, 0);
    assert_string_equal(attr_i(&reply, "text", 0), "bad recipient offset");
    ipc_record_free(&reply);
}

static void test_done_recipient(void **state)
{
    struct fixture *f = *state;
    struct ipc_record rec, reply;
    struct queue_file *qf;
    struct qf_rcpt r;
    struct buf err = BUF_INIT;
    char path[128];
    int corrupt;

    snprintf(path, sizeof(path), "active/%s", f->id);
    assert_int_equal(queue_file_open(path, QF_OPEN_RDWR, &qf, &corrupt, &err), 0);
    assert_int_equal(queue_file_rcpt_next(qf, &r, &err), 1);
    assert_int_equal(queue_file_mark_done(qf, &r, &err), 0);
    queue_file_close(qf);
    buf_free(&err);

    make_request(&rec, f, f->off, 2, now_usec(), now_usec());
    assert_int_equal(serve(f, &rec, &reply), 0);
    assert_string_equal(attr_i(&reply, "text", 0), "bad recipient offset");
    assert_string_equal(attr_i(&reply, "result", 1), "deferred");
    assert_string_equal(attr_i(&reply, "dsn", 1), "4.4.1");
    ipc_record_free(&reply);
}

static void test_missing_queue_file(void **state)
{
    struct fixture *f = *state;
    struct ipc_record rec, reply;
    char path[128];

    snprintf(path, sizeof(path), "active/%s", f->id);
    assert_int_equal(unlink(path), 0);
    make_request(&rec, f, f->off, 1, now_usec(), now_usec());
    assert_int_equal(serve(f, &rec, &reply), 0);
    assert_int_equal(agent_calls, 0);
    assert_string_equal(ipc_get_str(&reply, "status"), "fail");
    assert_non_null(strstr(ipc_get_str(&reply, "reason"), "queue file"));
    assert_null(ipc_get_str(&reply, "result_0"));
    ipc_record_free(&reply);
}

/* A request with one attribute replaced (value NULL: left out). */
static void check_malformed(const struct fixture *f, const char *name, const char *value,
                            const char *want)
{
    struct ipc_record good, rec, reply;

    make_request(&good, f, f->off, 1, now_usec(), now_usec());
    ipc_record_init(&rec);
    for (size_t i = 0; i < good.count; i++)
        if (strcmp(good.attrs[i].name, name) != 0)
            ipc_add(&rec, good.attrs[i].name, good.attrs[i].value, good.attrs[i].len);
    if (value)
        ipc_add_str(&rec, name, value);
    ipc_record_free(&good);
    assert_int_equal(serve(f, &rec, &reply), 0);
    assert_string_equal(ipc_get_str(&reply, "status"), "fail");
    if (strstr(ipc_get_str(&reply, "reason"), want) == NULL)
        fail_msg("%s=%s: reason %s", name, value ? value : "(none)",
                 ipc_get_str(&reply, "reason"));
    ipc_record_free(&reply);
}

static void test_malformed(void **state)
{
    struct fixture *f = *state;
    struct ipc_record reply;
    static const unsigned char junk[] = {9, 9, 0, 1, 0, 0, 0, 3, 'a', 'b', 'c'};

    check_malformed(f, "request", NULL, "unknown request");
    check_malformed(f, "request", "flush", "unknown request");
    check_malformed(f, "queue_id", "../../etc/passwd", "bad queue_id");
    check_malformed(f, "queue_name", "../active", "bad queue_name");
    check_malformed(f, "queue_name", "", "bad queue_name");
    check_malformed(f, "sender", NULL, "bad sender");
    check_malformed(f, "nexthop", NULL, "bad nexthop");
    check_malformed(f, "arrival", "-5", "bad time stamp");
    check_malformed(f, "active", "x", "bad time stamp");
    check_malformed(f, "rcpt_count", "0", "bad rcpt_count");
    check_malformed(f, "rcpt_count", "151", "bad rcpt_count");
    check_malformed(f, "rcpt_count", "2", "recipient offset");
    check_malformed(f, "rcpt_0", "-1", "recipient offset");
    assert_int_equal(agent_calls, 0);

    /* A frame that does not decode gets a fail reply too. */
    assert_int_equal(serve_raw(f, junk, sizeof(junk), &reply), 0);
    assert_string_equal(ipc_get_str(&reply, "status"), "fail");
    ipc_record_free(&reply);

    /* A peer that closes without a request gets nothing. */
    assert_int_equal(serve_raw(f, "", 0, &reply), -1);
    ipc_record_free(&reply);
}

/* Run fn in a child; did it panic (abort)? */
static int panics(void (*fn)(struct delivery_request *))
{
    struct delivery_rcpt rcpt = {.address = "a@b", .orcpt = ""};
    struct delivery_request req = {.queue_id = "TEST", .rcpt = &rcpt, .nrcpt = 1};
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        fn(&req);
        _exit(0);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void twice(struct delivery_request *req)
{
    deliver_sent(req, 0, "x", "2.0.0", "one");
    deliver_defer(req, 0, "x", "4.0.0", "two");
}

static void wrong_class(struct delivery_request *req)
{
    deliver_bounce(req, 0, "x", "4.1.1", "not a 5");
}

static void bad_dsn(struct delivery_request *req)
{
    deliver_sent(req, 0, "x", "2.0", "short");
}

static void out_of_range(struct delivery_request *req)
{
    deliver_sent(req, 1, "x", "2.0.0", "no such recipient");
}

static void action_before_sent(struct delivery_request *req)
{
    deliver_set_action(req, 0, "relayed");
}

static void fine(struct delivery_request *req)
{
    deliver_sent(req, 0, "x", "2.1.5", "ok");
    deliver_set_action(req, 0, "expanded");
    deliver_defer_rest(req, "x", "4.3.0", "nothing left");
    free(req->rcpt[0].text);
}

/* Misuse of the result API is a bug: it panics rather than reply wrongly. */
static void test_result_misuse(void **state)
{
    (void)state;
    assert_true(panics(twice));
    assert_true(panics(wrong_class));
    assert_true(panics(bad_dsn));
    assert_true(panics(out_of_range));
    assert_true(panics(action_before_sent));
    assert_false(panics(fine));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_done_recipient, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_queue_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_misuse, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
