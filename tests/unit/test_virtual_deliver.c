/*
 * test_virtual_deliver - the virtual agent end to end without master:
 * a queue file in a private queue directory, a request over a
 * socketpair to deliver_agent_serve_fd() with the virtual agent's
 * deliver function, and checks of the replies, the mailboxes (Maildir
 * and mbox, with headers and owner), unknown users and domains, the
 * @domain catch-all, the Delivered-To: loop, bad uids and paths, the
 * size limit; and the mailbox path logic on its own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../virtual/virtual_deliver.c"
#include "../../virtual/virtual_lookup.c"
#include "deliver_proto.h"
#include "ipc_frame.h"
#include "queue_file.h"
#include "safe_file.h"

struct fixture {
    char dir[64];
    char oldcwd[4096];
    uid_t uid;
    gid_t gid;
};

static struct virtual_ctx *test_ctx;

/* The agent's deliver(), over the context the test opened. */
static void test_deliver(struct delivery_request *req, const struct config *cfg)
{
    (void)cfg;
    virtual_deliver_request(test_ctx, req);
}

static const struct deliver_agent virtual_agent = {
    .program = "virtual",
    .deliver = test_deliver,
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    strcpy(f->dir, "/tmp/test_virtual.XXXXXX");
    if (mkdtemp(f->dir) == NULL || getcwd(f->oldcwd, sizeof(f->oldcwd)) == NULL
        || chdir(f->dir) < 0 || mkdir("active", 0700) < 0 || mkdir("mail", 0700) < 0)
        return -1;
    log_init("virtual");
    log_to_stderr(getenv("TEST_VERBOSE") ? 1 : 0);
    /* Root delivers as another uid; a normal user only as itself. */
    f->uid = geteuid() == 0 ? 4242 : geteuid();
    f->gid = geteuid() == 0 ? 4343 : getegid();
    if (geteuid() == 0 && (chmod(f->dir, 0711) < 0 || chown("mail", f->uid, f->gid) < 0))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    if (chdir(f->oldcwd) < 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* main.cf for the test; extra lines are appended (later ones win). */
static struct config *make_config(const struct fixture *f, const char *extra)
{
    struct buf text = BUF_INIT, err = BUF_INIT;
    struct config *cfg;

    buf_printf(&text,
               "myhostname = mx.example.org\n"
               "recipient_delimiter = +\n"
               "virtual_mailbox_domains = example.test, catch.test\n"
               "virtual_mailbox_base = %s/mail/\n"
               "virtual_mailbox_maps = inline:{bob@example.test=example.test/bob/, "
               "carol@example.test=example.test/carol, @catch.test=catch/, "
               "evil@example.test=../../etc/}\n"
               "virtual_uid_maps = static:%ld\n"
               "virtual_gid_maps = static:%ld\n"
               "virtual_minimum_uid = %ld\n%s",
               f->dir, (long)f->uid, (long)f->gid, (long)(f->uid > 100 ? 100 : f->uid),
               extra ? extra : "");
    cfg = config_parse("test main.cf", text.data, text.len, &err);
    if (cfg == NULL)
        fail_msg("%s", buf_str(&err));
    buf_free(&text);
    buf_free(&err);
    return cfg;
}

/* Commit a queue file for these recipients; their offsets go to offs. */
static void make_queue_file(char id[QUEUE_ID_SIZE], const char *header,
                            const char *const *rcpts, size_t n, uint64_t *offs)
{
    struct queue_file_writer *w;
    struct queue_file *qf;
    struct qf_rcpt r;
    struct buf err = BUF_INIT;
    char path[128];
    int corrupt;

    w = queue_file_create("active", &err);
    assert_non_null(w);
    snprintf(id, QUEUE_ID_SIZE, "%s", queue_file_writer_id(w));
    queue_file_put_sender(w, "alice@example.org");
    for (size_t i = 0; i < n; i++)
        queue_file_put_rcpt(w, rcpts[i], strncmp(rcpts[i], "anyone@", 7) == 0
                            ? "rfc822;Original+x@catch.test" : NULL, 0);
    queue_file_put_content(w, header, strlen(header));
    queue_file_put_content(w, "Subject: test\n\nFrom the body\n", 29);
    assert_int_equal(queue_file_commit(w, "active", 0, &err), 0);
    snprintf(path, sizeof(path), "active/%s", id);
    assert_int_equal(queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &err), 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(queue_file_rcpt_next(qf, &r, &err), 1);
        offs[i] = r.offset;
    }
    queue_file_close(qf);
    buf_free(&err);
}

/* Deliver all recipients of a new queue file with cfg; the reply. */
static void run(const struct config *cfg, const char *header, const char *const *rcpts,
                size_t n, struct ipc_record *reply)
{
    struct ipc_record rec;
    struct buf err = BUF_INIT;
    char id[QUEUE_ID_SIZE], name[32];
    uint64_t offs[16];
    int sv[2];

    make_queue_file(id, header, rcpts, n, offs);
    test_ctx = virtual_open(cfg, &err);
    if (test_ctx == NULL)
        fail_msg("%s", buf_str(&err));
    ipc_record_init(&rec);
    ipc_add_str(&rec, "request", DELIVER_REQ_DELIVER);
    ipc_add_str(&rec, "queue_id", id);
    ipc_add_str(&rec, "queue_name", "active");
    ipc_add_str(&rec, "nexthop", "example.test");
    ipc_add_str(&rec, "sender", "alice@example.org");
    ipc_add_long(&rec, "arrival", 1000000);
    ipc_add_long(&rec, "active", 2000000);
    ipc_add_long(&rec, "dispatch", 2000000);
    ipc_add_long(&rec, "rcpt_count", (long)n);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "rcpt_%zu", i);
        ipc_add_long(&rec, name, (long)offs[i]);
    }
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(ipc_write_frame(sv[0], &rec, 5), 0);
    assert_int_equal(deliver_agent_serve_fd(sv[1], cfg, &virtual_agent), 0);
    ipc_record_init(reply);
    assert_int_equal(ipc_read_frame(sv[0], reply, 5), 0);
    assert_string_equal(ipc_get_str(reply, "status"), "ok");
    close(sv[0]);
    close(sv[1]);
    ipc_record_free(&rec);
    virtual_close(test_ctx);
    test_ctx = NULL;
    buf_free(&err);
}

/* result_I, dsn_I and text_I of a reply, checked. */
static void check(const struct ipc_record *reply, size_t i, const char *result,
                  const char *dsn, const char *text_part)
{
    char key[32];
    const char *v;

    snprintf(key, sizeof(key), "result_%zu", i);
    assert_string_equal(ipc_get_str(reply, key), result);
    snprintf(key, sizeof(key), "dsn_%zu", i);
    assert_string_equal(ipc_get_str(reply, key), dsn);
    snprintf(key, sizeof(key), "text_%zu", i);
    v = ipc_get_str(reply, key);
    if (strstr(v, text_part) == NULL)
        fail_msg("recipient %zu: text \"%s\" lacks \"%s\"", i, v, text_part);
}

/* The one file in dir, read whole; its owner in *st. */
static char *only_file(const char *dir, struct stat *st)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct buf b = BUF_INIT;
    char path[512];
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    }
    closedir(d);
    assert_int_equal(n, 1);
    assert_int_equal(lstat(path, st), 0);
    assert_int_equal(read_file(path, 1 << 20, &b), 0);
    return buf_steal(&b);
}

static void test_deliveries(void **state)
{
    struct fixture *f = *state;
    struct config *cfg = make_config(f, NULL);
    static const char *const rcpts[] = {
        "bob@example.test", "carol@example.test", "Bob+ext@Example.Test",
        "anyone@catch.test", "nobody@example.test", "x@other.test", "nodomain",
        "evil@example.test",
    };
    struct ipc_record reply;
    struct stat st;
    char *text;

    run(cfg, "", rcpts, 8, &reply);
    check(&reply, 0, "sent", "2.0.0", "delivered to maildir");
    check(&reply, 1, "sent", "2.0.0", "delivered to mailbox");
    check(&reply, 2, "sent", "2.0.0", "delivered to maildir");
    check(&reply, 3, "sent", "2.0.0", "delivered to maildir");
    check(&reply, 4, "bounced", "5.1.1", "unknown user: \"nobody@example.test\"");
    check(&reply, 5, "bounced", "5.1.1", "unknown user: \"x@other.test\"");
    check(&reply, 6, "bounced", "5.1.1", "unknown user: \"nodomain\"");
    check(&reply, 7, "deferred", "4.3.5", "mail system configuration error");
    ipc_record_free(&reply);

    /* The catch-all Maildir: made on the way, owned by the table's uid. */
    text = only_file("mail/catch/new", &st);
    assert_int_equal(st.st_uid, f->uid);
    assert_int_equal(st.st_gid, f->gid);
    assert_non_null(strstr(text, "Return-Path: <alice@example.org>\n"
                                 "Delivered-To: anyone@catch.test\n"
                                 "X-Original-To: Original+x@catch.test\n"
                                 "Subject: test\n"));
    free(text);

    /* The mbox: From_ line, quoting, owner. */
    {
        struct buf b = BUF_INIT;

        assert_int_equal(read_file("mail/example.test/carol", 1 << 20, &b), 0);
        assert_memory_equal(b.data, "From alice@example.org ", 23);
        assert_non_null(strstr(buf_str(&b), "Delivered-To: carol@example.test\n"));
        assert_non_null(strstr(buf_str(&b), "\n\n>From the body\n\n"));
        buf_free(&b);
        assert_int_equal(lstat("mail/example.test/carol", &st), 0);
        assert_int_equal(st.st_uid, f->uid);
    }
    assert_int_equal(access("../etc", F_OK), -1);
    config_free(cfg);
}

static void test_loop_and_limits(void **state)
{
    struct fixture *f = *state;
    struct config *cfg = make_config(f, NULL);
    static const char *const bob[] = {"bob@example.test"};
    struct ipc_record reply;

    /* Delivered-To: us already: a loop. */
    run(cfg, "Delivered-To: BOB@example.test\n", bob, 1, &reply);
    check(&reply, 0, "bounced", "5.4.6", "mail forwarding loop for bob@example.test");
    ipc_record_free(&reply);
    config_free(cfg);

    /* Over virtual_mailbox_limit: mailbox full. */
    cfg = make_config(f, "virtual_mailbox_limit = 20\n");
    run(cfg, "", bob, 1, &reply);
    check(&reply, 0, "bounced", "5.2.2", "size limit");
    ipc_record_free(&reply);
    config_free(cfg);

    /* A uid below virtual_minimum_uid: deferred as a configuration error. */
    cfg = make_config(f, "virtual_uid_maps = static:5\nvirtual_minimum_uid = 100\n");
    run(cfg, "", bob, 1, &reply);
    check(&reply, 0, "deferred", "4.3.5", "mail system configuration error");
    ipc_record_free(&reply);
    config_free(cfg);

    /* No uid for the user at all. */
    cfg = make_config(f, "virtual_uid_maps = inline:{other@example.test=1000}\n");
    run(cfg, "", bob, 1, &reply);
    check(&reply, 0, "deferred", "4.3.5", "mail system configuration error");
    ipc_record_free(&reply);
    config_free(cfg);
}

static void test_mailbox_path(void **state)
{
    struct buf out = BUF_INIT, why = BUF_INIT;
    int maildir = -1;

    (void)state;
    assert_int_equal(virtual_mailbox_path("/var/vmail", "example.test/bob/", &out,
                                          &maildir, &why), 0);
    assert_string_equal(buf_str(&out), "/var/vmail/example.test/bob/");
    assert_int_equal(maildir, 1);
    assert_int_equal(virtual_mailbox_path("/var/vmail//", "/example.test/bob", &out,
                                          &maildir, &why), 0);
    assert_string_equal(buf_str(&out), "/var/vmail/example.test/bob");
    assert_int_equal(maildir, 0);
    assert_int_equal(virtual_mailbox_path("", "/srv/mail/bob/", &out, &maildir, &why), 0);
    assert_string_equal(buf_str(&out), "/srv/mail/bob/");
    assert_int_equal(maildir, 1);
    assert_int_equal(virtual_mailbox_path("/", "bob", &out, &maildir, &why), 0);
    assert_string_equal(buf_str(&out), "/bob");
    assert_int_equal(virtual_mailbox_path("/v", "a/../../etc/", &out, &maildir, &why), -1);
    assert_non_null(strstr(buf_str(&why), ".."));
    assert_int_equal(virtual_mailbox_path("/v", "..", &out, &maildir, &why), -1);
    assert_int_equal(virtual_mailbox_path("/v", "", &out, &maildir, &why), -1);
    /* Dots that are not a ".." component are fine. */
    assert_int_equal(virtual_mailbox_path("/v", "a..b/.x/...", &out, &maildir, &why), 0);
    buf_free(&out);
    buf_free(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deliveries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_and_limits, setup, teardown),
        cmocka_unit_test(test_mailbox_path),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
