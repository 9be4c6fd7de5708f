/*
 * test_cleanup - lib/cleanup: envelope rewriting (myorigin, mydomain,
 * canonical maps, masquerading), virtual alias expansion (1:n,
 * recursion, loops, limits, duplicates, temporary failures), header
 * processing (added headers, Received: format, hop count, header size,
 * folding, address headers) and sendmail -t. Each case writes a real
 * queue file in a mkdtemp() directory and reads it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "log.h"
#include "queue_file.h"

static char tmpdir[64];

#define BASE_CF "myhostname = mx.example.com\nmydomain = example.com\n" \
    "myorigin = example.com\nmydestination = $myhostname, localhost\n"

struct result {
    struct cleanup_status st;   /* first failure, or OK */
    char qid[QUEUE_ID_SIZE];
    struct buf sender;
    struct buf rcpts;           /* "addr[|orcpt] addr ..." */
    struct buf content;
    size_t count;
};

struct msg_in {
    const char *cf;             /* extra main.cf lines */
    const char *sender;
    const char *rcpts;          /* space-separated, NULL: none */
    const char *content;        /* LF-separated lines; NULL: no content at all */
    const char *full_name;      /* NULL: "Alice Example" */
    size_t content_len;         /* 0: strlen */
    int local;                  /* local submission */
    int extract;                /* sendmail -t */
    size_t piece;               /* 0: whole lines; else feed lines in pieces this size */
};

static void result_free(struct result *r)
{
    buf_free(&r->sender);
    buf_free(&r->rcpts);
    buf_free(&r->content);
}

static void read_back(const char *path, struct result *r)
{
    struct queue_file *qf;
    int corrupt = 0;
    struct buf why = BUF_INIT;
    struct qf_rcpt rc;
    char chunk[4096];
    ssize_t n;

    if (queue_file_open(path, QF_OPEN_RDONLY, &qf, &corrupt, &why) != 0)
        fail_msg("queue file %s: %s", path, buf_str(&why));
    buf_set(&r->sender, queue_file_envelope(qf)->sender);
    queue_file_rcpt_rewind(qf);
    while (queue_file_rcpt_next(qf, &rc, &why) == 1) {
        if (r->rcpts.len)
            buf_putc(&r->rcpts, ' ');
        buf_puts(&r->rcpts, rc.address);
        if (*rc.orcpt)
            buf_printf(&r->rcpts, "|%s", rc.orcpt);
    }
    queue_file_content_rewind(qf);
    while ((n = queue_file_content_read(qf, chunk, sizeof(chunk), &why)) > 0)
        buf_append(&r->content, chunk, (size_t)n);
    assert_int_equal(queue_file_envelope(qf)->size, r->content.len);
    queue_file_close(qf);
    buf_free(&why);
}

/* Run one message through cleanup; the queue file is committed and read on success. */
static void run(const struct msg_in *in, struct result *r)
{
    struct buf cf = BUF_INIT, err = BUF_INIT, path = BUF_INIT;
    struct config *cfg;
    struct cleanup *c;
    struct cleanup_msg *m;
    struct queue_file_writer *w;
    struct cleanup_envelope env;

    memset(r, 0, sizeof(*r));
    buf_init(&r->sender, 0);
    buf_init(&r->rcpts, 0);
    buf_init(&r->content, 0);
    buf_printf(&cf, BASE_CF "queue_directory = %s\n%s", tmpdir, in->cf ? in->cf : "");
    cfg = config_parse("main.cf", cf.data, cf.len, &err);
    if (cfg == NULL)
        fail_msg("config: %s", buf_str(&err));
    c = cleanup_open(cfg, &err);
    if (c == NULL)
        fail_msg("cleanup_open: %s", buf_str(&err));
    buf_printf(&path, "%s/incoming", tmpdir);
    w = queue_file_create(buf_str(&path), &err);
    assert_non_null(w);
    snprintf(r->qid, sizeof(r->qid), "%s", queue_file_writer_id(w));

    memset(&env, 0, sizeof(env));
    env.sender = in->sender ? in->sender : "alice@example.com";
    if (in->local) {
        env.protocol = "LOCAL";
        env.login_user = "alice";
        env.full_name = in->full_name ? in->full_name : "Alice Example";
        env.local_submission = 1;
        env.extract_recipients = in->extract;
    } else {
        env.client_name = "client.example.org";
        env.client_addr = "192.0.2.1";
        env.helo = "helo.example.org";
        env.protocol = "ESMTP";
    }
    m = cleanup_begin(c, w, &env, &r->st);
    if (m == NULL)
        goto out;
    if (in->rcpts) {
        char *copy = strdup(in->rcpts), *save = NULL;

        for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
            r->st = cleanup_rcpt(m, t, NULL, 0);
            if (r->st.result != CLEANUP_OK)
                break;
        }
        free(copy);
        if (r->st.result != CLEANUP_OK)
            goto out;
    }
    if (in->content) {
        size_t len = in->content_len ? in->content_len : strlen(in->content), pos = 0;

        while (pos < len && r->st.result == CLEANUP_OK) {
            const char *nl = memchr(in->content + pos, '\n', len - pos);
            size_t n = nl ? (size_t)(nl - in->content) - pos : len - pos;

            if (in->piece) {
                size_t off = 0;

                do {
                    size_t k = n - off < in->piece ? n - off : in->piece;

                    r->st = cleanup_content(m, in->content + pos + off, k,
                                            off + k == n && nl != NULL);
                    off += k;
                } while (off < n && r->st.result == CLEANUP_OK);
            } else {
                r->st = cleanup_content(m, in->content + pos, n, nl != NULL);
            }
            pos += n + (nl != NULL);
        }
    }
    if (r->st.result == CLEANUP_OK)
        r->st = cleanup_finish(m);
    if (r->st.result == CLEANUP_OK) {
        r->count = cleanup_rcpt_count(m);
        cleanup_free(m);
        m = NULL;
        if (queue_file_commit(w, buf_str(&path), 0, &err) != 0)
            fail_msg("commit: %s", buf_str(&err));
        w = NULL;
        buf_printf(&path, "/%s", r->qid);
        read_back(buf_str(&path), r);
        unlink(buf_str(&path));
    }
out:
    cleanup_free(m);
    if (w)
        queue_file_abort(w);
    cleanup_close(c);
    config_free(cfg);
    buf_free(&cf);
    buf_free(&err);
    buf_free(&path);
}

/* ------------------------------------------------------------ envelope */

struct env_case {
    const char *name;
    const char *cf;
    const char *sender;
    const char *rcpts;
    int code;                   /* 0: accepted */
    const char *enh;
    const char *want_sender;
    const char *want_rcpts;
};

#define VIRT(x) "virtual_alias_maps = inline:{" x "}\n"

static const struct env_case env_cases[] = {
    {"myorigin", NULL, "alice", "bob", 0, NULL, "alice@example.com",
     "bob@example.com|rfc822;bob"},
    {"null sender kept", NULL, "", "bob@example.com", 0, NULL, "", "bob@example.com"},
    {"append_at_myorigin no", "append_at_myorigin = no\n", "alice", "bob@example.com", 0, NULL,
     "alice", "bob@example.com"},
    {"myorigin differs", "myorigin = origin.example\n", "alice", "bob", 0, NULL,
     "alice@origin.example", "bob@origin.example|rfc822;bob"},
    {"append_dot_mydomain", "append_dot_mydomain = yes\n", "alice@host",
     "bob@[192.0.2.9] carol@a.b", 0, NULL, "alice@host.example.com",
     "bob@[192.0.2.9] carol@a.b"},
    {"append_dot_mydomain off", NULL, "alice@host", "bob@host", 0, NULL, "alice@host",
     "bob@host"},
    {"canonical both", "canonical_maps = inline:{alice@example.com=Alice.Smith@example.com,"
     " bob@example.com=Bob.Jones@example.com}\n", "ALICE@Example.COM", "bob@example.com", 0,
     NULL, "Alice.Smith@example.com",
     "Bob.Jones@example.com|rfc822;bob@example.com"},
    {"sender_canonical only sender",
     "sender_canonical_maps = inline:{alice@example.com=a@example.com}\n",
     "alice@example.com", "alice@example.com", 0, NULL, "a@example.com", "alice@example.com"},
    {"recipient_canonical only rcpt",
     "recipient_canonical_maps = inline:{alice@example.com=a@example.com}\n",
     "alice@example.com", "alice@example.com", 0, NULL, "alice@example.com",
     "a@example.com|rfc822;alice@example.com"},
    {"sender_canonical before canonical",
     "sender_canonical_maps = inline:{a@example.com=b@example.com}\n"
     "canonical_maps = inline:{b@example.com=c@example.com, a@example.com=x@example.com}\n",
     "a@example.com", "z@example.com", 0, NULL, "c@example.com", "z@example.com"},
    {"canonical @domain", "canonical_maps = inline:{@old.example=@new.example}\n",
     "joe@old.example", "ann@old.example", 0, NULL, "joe@new.example",
     "ann@new.example|rfc822;ann@old.example"},
    {"canonical user form local only", "canonical_maps = inline:{joe=joseph@example.com}\n",
     "joe@mx.example.com", "joe@other.example", 0, NULL, "joseph@example.com",
     "joe@other.example"},
    {"canonical extension propagated",
     "recipient_delimiter = +\ncanonical_maps = inline:{joe@example.com=joseph@example.com}\n",
     "joe+list@example.com", "joe@example.com", 0, NULL, "joseph+list@example.com",
     "joseph@example.com|rfc822;joe@example.com"},
    {"canonical chain stops at self", "canonical_maps = inline:{a@example.com=a@example.com}\n",
     "a@example.com", "b@example.com", 0, NULL, "a@example.com", "b@example.com"},
    {"masquerade sender only by default", "masquerade_domains = example.com\n",
     "alice@host.example.com", "bob@host.example.com", 0, NULL, "alice@example.com",
     "bob@host.example.com"},
    {"masquerade envelope_recipient",
     "masquerade_domains = example.com\nmasquerade_classes = envelope_recipient\n",
     "alice@host.example.com", "bob@host.example.com", 0, NULL, "alice@host.example.com",
     "bob@example.com|rfc822;bob@host.example.com"},
    {"masquerade exact domain unchanged", "masquerade_domains = example.com\n",
     "alice@example.com", "bob@example.com", 0, NULL, "alice@example.com", "bob@example.com"},
    {"masquerade not a subdomain", "masquerade_domains = example.com\n",
     "alice@badexample.com", "bob@example.com", 0, NULL, "alice@badexample.com",
     "bob@example.com"},
    {"masquerade ! exception", "masquerade_domains = !sub.example.com, example.com\n",
     "alice@x.sub.example.com", "bob@example.com", 0, NULL, "alice@x.sub.example.com",
     "bob@example.com"},
    {"masquerade ! exception other", "masquerade_domains = !sub.example.com, example.com\n",
     "alice@Other.Example.com", "bob@example.com", 0, NULL, "alice@example.com",
     "bob@example.com"},
    {"masquerade first match wins", "masquerade_domains = a.example.com, example.com\n",
     "alice@x.a.example.com", "bob@example.com", 0, NULL, "alice@a.example.com",
     "bob@example.com"},
    {"masquerade_exceptions",
     "masquerade_domains = example.com\nmasquerade_exceptions = root, mailer-daemon\n",
     "ROOT@host.example.com", "bob@example.com", 0, NULL, "ROOT@host.example.com",
     "bob@example.com"},
    {"virtual 1:1", VIRT("info@example.com=bob@example.org"), NULL, "info@example.com", 0,
     NULL, "alice@example.com", "bob@example.org|rfc822;info@example.com"},
    {"virtual 1:n", VIRT("{list@example.com = a@example.org, b@example.org}"), NULL,
     "list@example.com", 0, NULL, "alice@example.com",
     "a@example.org|rfc822;list@example.com b@example.org|rfc822;list@example.com"},
    {"virtual recursive", VIRT("a@example.com=b@example.com, b@example.com=c@example.com"),
     NULL, "a@example.com", 0, NULL, "alice@example.com",
     "c@example.com|rfc822;a@example.com"},
    {"virtual self kept", VIRT("{a@example.com = a@example.com, b@example.com}"), NULL,
     "a@example.com", 0, NULL, "alice@example.com",
     "a@example.com b@example.com|rfc822;a@example.com"},
    {"virtual unqualified result", VIRT("a@example.com=joe"), NULL, "a@example.com", 0, NULL,
     "alice@example.com", "joe@example.com|rfc822;a@example.com"},
    {"virtual @domain catch-all", VIRT("@example.net=catch@example.com"), NULL,
     "x@example.net y@example.net", 0, NULL, "alice@example.com",
     "catch@example.com|rfc822;x@example.net"},
    {"virtual extension propagated",
     "recipient_delimiter = +\n" VIRT("a@example.com=b@example.org"), NULL,
     "a+tag@example.com", 0, NULL, "alice@example.com",
     "b+tag@example.org|rfc822;a+tag@example.com"},
    {"virtual loop", "virtual_alias_recursion_limit = 20\n"
     VIRT("a@example.com=b@example.com, b@example.com=a@example.com"), NULL, "a@example.com",
     451, "4.6.0", NULL, NULL},
    {"virtual expansion limit", "virtual_alias_expansion_limit = 3\n"
     VIRT("{x@example.com = a@example.com, b@example.com, c@example.com, d@example.com}"), NULL,
     "x@example.com", 451, "4.6.0", NULL, NULL},
    {"virtual at the expansion limit", "virtual_alias_expansion_limit = 3\n"
     VIRT("{x@example.com = a@example.com, b@example.com, c@example.com}"), NULL,
     "x@example.com", 0, NULL, "alice@example.com",
     "a@example.com|rfc822;x@example.com b@example.com|rfc822;x@example.com "
     "c@example.com|rfc822;x@example.com"},
    {"duplicates removed", VIRT("{l@example.com = a@example.com, A@Example.com},"
                                " m@example.com=a@example.com"),
     NULL, "l@example.com m@example.com a@example.com", 0, NULL, "alice@example.com",
     "a@example.com|rfc822;l@example.com"},
    {"duplicate given recipients", NULL, NULL, "b@example.com B@example.com b@example.com", 0,
     NULL, "alice@example.com", "b@example.com"},
    {"canonical then masquerade then virtual",
     "canonical_maps = inline:{old@example.com=new@host.example.com}\n"
     "masquerade_domains = example.com\nmasquerade_classes = envelope_recipient\n"
     VIRT("new@example.com=final@example.org"), NULL, "old@example.com", 0, NULL,
     "alice@example.com", "final@example.org|rfc822;old@example.com"},
    {"tempfail virtual via proxy", "virtual_alias_maps = proxy:inline:{a=b}\n", NULL,
     "a@example.com", 451, "4.3.0", NULL, NULL},
    {"tempfail sender canonical via proxy", "sender_canonical_maps = proxy:inline:{a=b}\n",
     NULL, "a@example.com", 451, "4.3.0", NULL, NULL},
    {"canonical multi-valued uses the first",
     "canonical_maps = inline:{{a@example.com = b@example.com, c@example.com}}\n",
     "a@example.com", "z@example.com", 0, NULL, "b@example.com", "z@example.com"},
    {"canonical full key with extension",
     "recipient_delimiter = +\ncanonical_maps = inline:{joe+x@example.com=special@example.com,"
     " joe@example.com=joseph@example.com}\n",
     "joe+x@example.com", "z@example.com", 0, NULL, "special@example.com", "z@example.com"},
    {"virtual quoted result", VIRT("{x@example.com = \"john doe\"@example.org}"), NULL,
     "x@example.com", 0, NULL, "alice@example.com",
     "john doe@example.org|rfc822;x@example.com"},
    {"virtual wide", VIRT("{w@example.com = 1@x.example, 2@x.example, 3@x.example, "
                          "4@x.example, 5@x.example, 6@x.example}"), NULL, "w@example.com", 0,
     NULL, "alice@example.com",
     "1@x.example|rfc822;w@example.com 2@x.example|rfc822;w@example.com "
     "3@x.example|rfc822;w@example.com 4@x.example|rfc822;w@example.com "
     "5@x.example|rfc822;w@example.com 6@x.example|rfc822;w@example.com"},
    {"virtual extension on unqualified result",
     "recipient_delimiter = +\n" VIRT("a@example.com=joe"), NULL, "a+t@example.com", 0, NULL,
     "alice@example.com", "joe+t@example.com|rfc822;a+t@example.com"},
    {"no recipients", NULL, NULL, NULL, 550, "5.1.0", NULL, NULL},
    {"bad recipient", NULL, NULL, "a\r\nb@example.com", 553, "5.1.3", NULL, NULL},
};

static void test_envelope(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
        const struct env_case *t = &env_cases[i];
        struct msg_in in = {.cf = t->cf, .sender = t->sender, .rcpts = t->rcpts,
                            .content = "Subject: test\n\nbody\n"};
        struct result r;

        run(&in, &r);
        if (t->code == 0) {
            if (r.st.result != CLEANUP_OK)
                fail_msg("%s: %d %s %s", t->name, r.st.code, r.st.enh, r.st.text);
            if (strcmp(buf_str(&r.sender), t->want_sender) != 0)
                fail_msg("%s: sender <%s>, want <%s>", t->name, buf_str(&r.sender),
                         t->want_sender);
            if (strcmp(buf_str(&r.rcpts), t->want_rcpts) != 0)
                fail_msg("%s: rcpts \"%s\", want \"%s\"", t->name, buf_str(&r.rcpts),
                         t->want_rcpts);
        } else {
            if (r.st.code != t->code || strcmp(r.st.enh, t->enh) != 0)
                fail_msg("%s: got %d %s %s, want %d %s", t->name, r.st.code, r.st.enh,
                         r.st.text, t->code, t->enh);
            assert_int_equal(r.st.result, t->code >= 500 ? CLEANUP_REJECT : CLEANUP_TEMPFAIL);
        }
        result_free(&r);
    }
}

static void test_bad_config(void **state)
{
    struct buf err = BUF_INIT;
    struct config *cfg;
    static const char *const bad[] = {
        BASE_CF "masquerade_classes = envelope_sender, bogus\n",
        BASE_CF "canonical_maps = nosuchtype:/x\n",
        BASE_CF "virtual_alias_maps = inline:{}\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        buf_reset(&err);
        cfg = config_parse("main.cf", bad[i], strlen(bad[i]), &err);
        assert_non_null(cfg);
        assert_null(cleanup_open(cfg, &err));
        assert_true(err.len > 0);
        config_free(cfg);
    }
    buf_free(&err);
}

/* ------------------------------------------------------------ headers */

/* Does the content have this line (whole line, LF-terminated)? */
static int has_line(const struct result *r, const char *line)
{
    size_t n = strlen(line);
    const char *p = r->content.data, *end = p + r->content.len;

    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

        if (len == n && memcmp(p, line, n) == 0)
            return 1;
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int has_prefix_line(const struct result *r, const char *prefix)
{
    size_t n = strlen(prefix);
    const char *p = r->content.data, *end = p + r->content.len;

    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        if ((size_t)(end - p) >= n && strncasecmp(p, prefix, n) == 0)
            return 1;
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* The content after the Received: header (its first three lines or two). */
static const char *after_received(const struct result *r)
{
    const char *p = buf_str(&r->content);

    assert_true(strncmp(p, "Received: ", 10) == 0);
    p = strchr(p, '\n') + 1;
    while (*p == '\t')
        p = strchr(p, '\n') + 1;
    return p;
}

static void run_ok(const struct msg_in *in, struct result *r)
{
    run(in, r);
    if (r->st.result != CLEANUP_OK)
        fail_msg("rejected: %d %s %s", r->st.code, r->st.enh, r->st.text);
}

static void test_added_headers(void **state)
{
    struct result r;
    struct buf want = BUF_INIT;
    struct msg_in in = {.rcpts = "bob@example.com", .content = "Subject: hi\n\nbody\n"};

    (void)state;
    /* From the network: Message-Id and Date added, From not. */
    run_ok(&in, &r);
    assert_true(has_line(&r, "Subject: hi"));
    assert_true(has_prefix_line(&r, "Message-Id: <"));
    assert_true(has_prefix_line(&r, "Date: "));
    assert_false(has_prefix_line(&r, "From:"));
    buf_printf(&want, "Message-Id: <");
    assert_non_null(strstr(buf_str(&r.content), r.qid));
    assert_non_null(strstr(buf_str(&r.content), "@mx.example.com>\n"));
    /* The added headers come after the message's own, before the body. */
    assert_true(strstr(buf_str(&r.content), "Subject: hi\nMessage-Id: <") != NULL);
    assert_non_null(strstr(buf_str(&r.content), "\n\nbody\n"));
    assert_int_equal(r.content.data[r.content.len - 1], '\n');
    result_free(&r);

    /* Local submission: From: "Full Name <sender>". */
    in.local = 1;
    run_ok(&in, &r);
    assert_true(has_line(&r, "From: Alice Example <alice@example.com>"));
    assert_true(strncmp(buf_str(&r.content), "Received: by mx.example.com (postern, from "
                        "userid alice)\n\tid ", 56) == 0);
    result_free(&r);

    /* Local, unqualified sender: From: gets @myorigin too. */
    in.sender = "alice";
    run_ok(&in, &r);
    assert_true(has_line(&r, "From: Alice Example <alice@example.com>"));
    result_free(&r);
    in.sender = NULL;

    /* Present headers are not added again (and not doubled). */
    in.content = "From: Someone <s@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
        "Message-ID: <abc@example.org>\n\nbody\n";
    run_ok(&in, &r);
    assert_false(has_prefix_line(&r, "Message-Id: <2"));
    assert_true(has_line(&r, "Message-ID: <abc@example.org>"));
    assert_false(has_prefix_line(&r, "From: Alice"));
    assert_true(strcmp(after_received(&r), "From: Someone <s@example.org>\n"
                       "Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
                       "Message-ID: <abc@example.org>\n\nbody\n") == 0);
    result_free(&r);

    /* Resent- headers: the missing Resent- ones are added instead. */
    in.content = "From: s@example.org\nDate: x\nMessage-Id: <m@x>\n"
        "Resent-To: bob@example.com\n\nbody\n";
    run_ok(&in, &r);
    assert_true(has_prefix_line(&r, "Resent-Message-Id: <"));
    assert_true(has_prefix_line(&r, "Resent-Date: "));
    assert_true(has_line(&r, "Resent-From: Alice Example <alice@example.com>"));
    result_free(&r);

    /* Full name that needs quoting; null sender. */
    in.content = "Subject: x\n\nbody\n";
    in.full_name = "A. \"Q\" User\\";
    run_ok(&in, &r);
    assert_true(has_line(&r, "From: \"A. \\\"Q\\\" User\\\\\" <alice@example.com>"));
    result_free(&r);
    in.full_name = NULL;
    in.sender = "";
    run_ok(&in, &r);
    assert_true(has_line(&r, "From: MAILER-DAEMON"));
    result_free(&r);
    buf_free(&want);
}

static void test_received_format(void **state)
{
    struct result r;
    struct buf want = BUF_INIT;
    struct msg_in in = {.rcpts = "bob", .content = "Subject: hi\n\nbody\n"};

    (void)state;
    run_ok(&in, &r);
    buf_printf(&want, "Received: from helo.example.org (client.example.org [192.0.2.1])\n"
               "\tby mx.example.com (postern) with ESMTP id %s\n\tfor <bob>; ", r.qid);
    if (strncmp(buf_str(&r.content), buf_str(&want), want.len) != 0)
        fail_msg("got:\n%s\nwant prefix:\n%s", buf_str(&r.content), buf_str(&want));
    /* The date ends the line: "Day, dd Mon yyyy hh:mm:ss +zzzz". */
    {
        const char *d = buf_str(&r.content) + want.len;
        const char *nl = strchr(d, '\n');

        assert_non_null(nl);
        assert_true(nl - d >= 31);
        assert_true(d[3] == ',' && (d[26] == '+' || d[26] == '-'));
        assert_true(strncmp(nl + 1, "Subject: hi\n", 12) == 0);
    }
    result_free(&r);

    /* Two recipients: no "for". */
    in.rcpts = "bob@example.com carol@example.com";
    run_ok(&in, &r);
    buf_reset(&want);
    buf_printf(&want, "Received: from helo.example.org (client.example.org [192.0.2.1])\n"
               "\tby mx.example.com (postern) with ESMTP id %s;\n\t", r.qid);
    if (strncmp(buf_str(&r.content), buf_str(&want), want.len) != 0)
        fail_msg("got:\n%s\nwant prefix:\n%s", buf_str(&r.content), buf_str(&want));
    result_free(&r);
    buf_free(&want);
}

static void test_hops(void **state)
{
    struct buf msg = BUF_INIT;
    struct result r;
    struct msg_in in = {.rcpts = "bob@example.com", .cf = "hopcount_limit = 5\n"};

    (void)state;
    for (int i = 0; i < 4; i++)
        buf_printf(&msg, "Received: from a by b;\n\tMon, 1 Jan 2024 00:00:00 +0000\n");
    buf_puts(&msg, "Subject: x\n\nbody\n");
    in.content = buf_str(&msg);
    run_ok(&in, &r);
    result_free(&r);

    buf_reset(&msg);
    for (int i = 0; i < 5; i++)
        buf_printf(&msg, "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\n");
    buf_puts(&msg, "Subject: x\n\nbody\n");
    in.content = buf_str(&msg);
    run(&in, &r);
    assert_int_equal(r.st.result, CLEANUP_REJECT);
    assert_int_equal(r.st.code, 554);
    assert_string_equal(r.st.enh, "5.4.6");
    result_free(&r);

    /* Received: lines in the body do not count. */
    buf_set(&msg, "Subject: x\n\n");
    for (int i = 0; i < 10; i++)
        buf_printf(&msg, "Received: from a by b\n");
    in.content = buf_str(&msg);
    run_ok(&in, &r);
    result_free(&r);
    buf_free(&msg);
}

static void test_header_size(void **state)
{
    struct buf msg = BUF_INIT;
    struct result r;
    struct msg_in in = {.rcpts = "bob@example.com", .cf = "header_size_limit = 1000\n"};

    (void)state;
    /* One long header. */
    buf_puts(&msg, "Subject: ");
    for (int i = 0; i < 1200; i++)
        buf_putc(&msg, 'x');
    buf_puts(&msg, "\n\nbody\n");
    for (size_t piece = 0; piece <= 100; piece += 100) {
        in.content = buf_str(&msg);
        in.piece = piece;
        run(&in, &r);
        assert_int_equal(r.st.code, 552);
        assert_string_equal(r.st.enh, "5.3.4");
        result_free(&r);
    }
    /* Many short headers, folded. */
    buf_set(&msg, "X-Long: a\n");
    for (int i = 0; i < 200; i++)
        buf_puts(&msg, "\tcontinued\n");
    buf_puts(&msg, "\nbody\n");
    in.content = buf_str(&msg);
    in.piece = 0;
    run(&in, &r);
    assert_int_equal(r.st.code, 552);
    result_free(&r);
    /* A long body line is fine; so is a long first line that is no header. */
    buf_set(&msg, "Subject: x\n\n");
    for (int i = 0; i < 5000; i++)
        buf_putc(&msg, 'y');
    buf_puts(&msg, "\n");
    in.content = buf_str(&msg);
    for (size_t piece = 0; piece <= 300; piece += 300) {
        in.piece = piece;
        run_ok(&in, &r);
        assert_int_equal(r.content.data[r.content.len - 2], 'y');
        result_free(&r);
    }
    buf_set(&msg, "Subject: x\nnot a header ");
    for (int i = 0; i < 5000; i++)
        buf_putc(&msg, 'z');
    buf_puts(&msg, "\nmore\n");
    in.content = buf_str(&msg);
    for (size_t piece = 0; piece <= 300; piece += 300) {
        in.piece = piece;
        run_ok(&in, &r);
        assert_non_null(strstr(buf_str(&r.content), "\nnot a header zzz"));
        assert_non_null(strstr(buf_str(&r.content), "zzz\nmore\n"));
        result_free(&r);
    }
    buf_free(&msg);
}

static void test_folded_and_address_headers(void **state)
{
    struct result r;
    struct msg_in in = {
        .rcpts = "bob@example.com",
        .cf = "masquerade_domains = example.com\n"
              "masquerade_classes = header_sender, header_recipient\n"
              "canonical_maps = inline:{old@example.com=new@example.com}\n",
        .content = "From: Alice <alice@host.example.com> (the boss)\n"
                   "To: a@host.example.com,\n\t\"B. Person\" <old@example.com>,\n"
                   "  c@example.org\n"
                   "Cc: undisclosed:;\n"
                   "Reply-To: x@example.net (Comment <x@host.example.com>)\n"
                   "Subject: a@host.example.com is not rewritten\n"
                   "X-Folded: one\n two\n\n"
                   "To: body@host.example.com\n",
    };

    (void)state;
    for (size_t piece = 0; piece <= 7; piece += 7) {
        in.piece = piece;
        run_ok(&in, &r);
        {
            static const char want[] =
                "From: Alice <alice@example.com> (the boss)\n"
                "To: a@example.com,\n\t\"B. Person\" <new@example.com>,\n"
                "  c@example.org\n"
                "Cc: undisclosed:;\n"
                "Reply-To: x@example.net (Comment <x@host.example.com>)\n"
                "Subject: a@host.example.com is not rewritten\n"
                "X-Folded: one\n two\n"
                "Message-Id: <";

            assert_true(strncmp(after_received(&r), want, sizeof(want) - 1) == 0);
        }
        assert_true(has_line(&r, "From: Alice <alice@example.com> (the boss)"));
        assert_true(has_line(&r, "To: a@example.com,"));
        assert_true(has_line(&r, "\t\"B. Person\" <new@example.com>,"));
        assert_true(has_line(&r, "Reply-To: x@example.net (Comment <x@host.example.com>)"));
        assert_true(has_line(&r, "Subject: a@host.example.com is not rewritten"));
        assert_true(has_line(&r, "X-Folded: one"));
        assert_true(has_line(&r, " two"));
        assert_true(has_line(&r, "To: body@host.example.com"));
        result_free(&r);
    }
    /* Quoted local parts stay quoted; source routes dropped from the match only. */
    in.content = "To: \"john doe\"@host.example.com, <@relay:x@host.example.com>\n\nb\n";
    in.piece = 0;
    run_ok(&in, &r);
    assert_true(has_line(&r, "To: \"john doe\"@example.com, <@relay:x@example.com>"));
    result_free(&r);
    /* Domain literals, Resent- headers of other kinds, unknown Resent-*. */
    in.content = "To: a@[192.0.2.1], b@host.example.com\nResent-Reply-To: r@host.example.com\n"
                 "Resent-X: y\n\nb\n";
    run_ok(&in, &r);
    assert_true(has_line(&r, "To: a@[192.0.2.1], b@example.com"));
    assert_true(has_line(&r, "Resent-Reply-To: r@example.com"));
    assert_true(has_prefix_line(&r, "Resent-Message-Id: <"));
    result_free(&r);
    /* Remote mail: no @myorigin in headers; local mail: yes. */
    in.cf = NULL;
    in.content = "To: joe\n\nb\n";
    run_ok(&in, &r);
    assert_true(has_line(&r, "To: joe"));
    result_free(&r);
    in.local = 1;
    run_ok(&in, &r);
    assert_true(has_line(&r, "To: joe@example.com"));
    result_free(&r);
}

static void test_extract(void **state)
{
    struct result r;
    struct msg_in in = {
        .local = 1, .extract = 1,
        .content = "To: a@example.com, Bee <b@example.com>\n"
                   "Cc: c@example.com\n"
                   "Bcc: d@example.com,\n\te\n"
                   "Subject: x\n\nbody\nBcc: body@example.com\n",
    };

    (void)state;
    run_ok(&in, &r);
    assert_string_equal(buf_str(&r.rcpts), "a@example.com b@example.com c@example.com "
                        "d@example.com e@example.com");
    assert_null(strstr(buf_str(&r.content), "Bcc: d@example.com"));
    assert_false(has_line(&r, "\te"));
    assert_true(has_line(&r, "To: a@example.com, Bee <b@example.com>"));
    assert_true(has_line(&r, "Cc: c@example.com"));
    assert_non_null(strstr(buf_str(&r.content), "\n\nbody\nBcc: body@example.com\n"));
    result_free(&r);

    /* With command-line recipients too, duplicates once. */
    in.rcpts = "a@example.com z@example.com";
    run_ok(&in, &r);
    assert_string_equal(buf_str(&r.rcpts), "a@example.com z@example.com b@example.com "
                        "c@example.com d@example.com e@example.com");
    result_free(&r);
    in.rcpts = NULL;

    /* Resent- headers present: only the Resent- recipients. */
    in.content = "To: a@example.com\nResent-To: r@example.com\nResent-Bcc: s@example.com\n"
                 "\nbody\n";
    run_ok(&in, &r);
    assert_string_equal(buf_str(&r.rcpts), "r@example.com s@example.com");
    assert_false(has_prefix_line(&r, "Resent-Bcc:"));
    result_free(&r);

    /* -t goes through virtual aliases. */
    in.cf = VIRT("a@example.com=x@example.org");
    in.content = "To: a@example.com\n\nbody\n";
    run_ok(&in, &r);
    assert_string_equal(buf_str(&r.rcpts), "x@example.org|rfc822;a@example.com");
    result_free(&r);

    /* No recipient anywhere. */
    in.cf = NULL;
    in.content = "Subject: x\n\nbody\n";
    run(&in, &r);
    assert_int_equal(r.st.code, 550);
    result_free(&r);

    /* Bcc kept for mail from the network (not extracted). */
    in.local = 0;
    in.extract = 0;
    in.rcpts = "bob@example.com";
    in.content = "Bcc: d@example.com\n\nbody\n";
    run_ok(&in, &r);
    assert_true(has_line(&r, "Bcc: d@example.com"));
    assert_string_equal(buf_str(&r.rcpts), "bob@example.com");
    result_free(&r);
}

static void test_shapes(void **state)
{
    struct result r;
    struct msg_in in = {.rcpts = "bob@example.com"};
    static const char junk[] = "X-Junk: \x01\x02\xff\xfe\0zero\x7f\n"
        "\x80\x81: not a header\nSubject: after\n";

    (void)state;
    /* No content at all. */
    in.content = NULL;
    run_ok(&in, &r);
    assert_true(has_prefix_line(&r, "Message-Id:"));
    assert_true(has_prefix_line(&r, "Date:"));
    result_free(&r);

    /* Headers only, the last line without an end. */
    in.content = "Subject: x\nX-Other: y";
    run_ok(&in, &r);
    assert_true(has_line(&r, "Subject: x"));
    assert_true(has_line(&r, "X-Other: y"));
    assert_int_equal(r.content.data[r.content.len - 1], '\n');
    result_free(&r);

    /* Body without a final line end. */
    in.content = "Subject: x\n\nno end";
    run_ok(&in, &r);
    assert_non_null(strstr(buf_str(&r.content), "\n\nno end\n"));
    result_free(&r);

    /* No blank line: a non-header line starts the body, nothing inserted. */
    in.content = "Subject: x\nthis is body\nSubject: not a header\n";
    run_ok(&in, &r);
    assert_non_null(strstr(buf_str(&r.content), "Subject: x\nMessage-Id: <"));
    {
        const char *b = strstr(buf_str(&r.content), "\nthis is body\n");

        assert_non_null(b);
        assert_string_equal(b, "\nthis is body\nSubject: not a header\n");
        assert_null(strstr(buf_str(&r.content), "\n\n"));
    }
    result_free(&r);

    /* A first line that is a continuation is body. */
    in.content = " indented\nSubject: x\n";
    run_ok(&in, &r);
    assert_non_null(strstr(buf_str(&r.content), "\n indented\nSubject: x\n"));
    result_free(&r);

    /* Binary junk in a header passes unchanged; a junk name starts the body. */
    in.content = junk;
    in.content_len = sizeof(junk) - 1;
    run_ok(&in, &r);
    {
        static const char want[] = "X-Junk: \x01\x02\xff\xfe\0zero\x7f\n";

        assert_non_null(memmem(r.content.data, r.content.len, want, sizeof(want) - 1));
    }
    {
        static const char want[] = "\n\x80\x81: not a header\nSubject: after\n";

        assert_non_null(memmem(r.content.data, r.content.len, want, sizeof(want) - 1));
    }
    result_free(&r);
    in.content_len = 0;

    /* Return-Path: and Content-Length: are removed, as Postfix does. */
    in.content = "Return-Path: <x@y>\nContent-Length: 5\nSubject: s\n\nbody\n";
    run_ok(&in, &r);
    assert_false(has_prefix_line(&r, "Return-Path:"));
    assert_false(has_prefix_line(&r, "Content-Length:"));
    result_free(&r);

    /* "Name :" is a header (Postfix's is_header), and so is a header split in pieces. */
    in.content = "Subject : spaced\nDate : x\n\nbody\n";
    in.piece = 3;
    run_ok(&in, &r);
    assert_true(has_line(&r, "Date : x"));
    assert_false(has_prefix_line(&r, "Date: "));
    result_free(&r);
}

static void test_misuse(void **state)
{
    struct buf cf = BUF_INIT, err = BUF_INIT, path = BUF_INIT;
    struct config *cfg;
    struct cleanup *c;
    struct cleanup_msg *m;
    struct queue_file_writer *w;
    struct cleanup_envelope env = {.sender = "a@example.com", .local_submission = 1};
    struct cleanup_status st;

    (void)state;
    buf_printf(&cf, BASE_CF "queue_directory = %s\n", tmpdir);
    cfg = config_parse("main.cf", cf.data, cf.len, &err);
    c = cleanup_open(cfg, &err);
    buf_printf(&path, "%s/incoming", tmpdir);
    w = queue_file_create(buf_str(&path), &err);
    m = cleanup_begin(c, w, &env, &st);
    assert_non_null(m);
    st = cleanup_rcpt(m, "b@example.com", "rfc822;B@example.com", QF_NOTIFY_FAILURE);
    assert_int_equal(st.result, CLEANUP_OK);
    st = cleanup_content(m, "Subject: x", 10, 1);
    assert_int_equal(st.result, CLEANUP_OK);
    /* A recipient after content is a caller bug: refused, and sticky. */
    st = cleanup_rcpt(m, "c@example.com", NULL, 0);
    assert_int_equal(st.result, CLEANUP_TEMPFAIL);
    st = cleanup_finish(m);
    assert_int_equal(st.result, CLEANUP_TEMPFAIL);
    cleanup_free(m);
    queue_file_abort(w);

    /* A sender with a line break is refused at begin. */
    env.sender = "a\nb@example.com";
    w = queue_file_create(buf_str(&path), &err);
    assert_null(cleanup_begin(c, w, &env, &st));
    assert_int_equal(st.result, CLEANUP_REJECT);
    queue_file_abort(w);
    cleanup_close(c);
    config_free(cfg);
    buf_free(&cf);
    buf_free(&err);
    buf_free(&path);
}

static void test_orcpt_notify(void **state)
{
    struct buf cf = BUF_INIT, err = BUF_INIT, path = BUF_INIT;
    struct config *cfg;
    struct cleanup *c;
    struct cleanup_msg *m;
    struct queue_file_writer *w;
    struct cleanup_envelope env = {.sender = "a@example.com", .client_name = "localhost",
                                   .client_addr = "::1", .protocol = "SMTP",
                                   .helo = "bad helo",
                                   .envid = "ENV1", .ret = QF_RET_HDRS};
    struct cleanup_status st;
    struct queue_file *qf;
    struct qf_rcpt rc;
    int corrupt;
    char qid[QUEUE_ID_SIZE];

    (void)state;
    buf_printf(&cf, BASE_CF "queue_directory = %s\n", tmpdir);
    cfg = config_parse("main.cf", cf.data, cf.len, &err);
    c = cleanup_open(cfg, &err);
    buf_printf(&path, "%s/incoming", tmpdir);
    w = queue_file_create(buf_str(&path), &err);
    snprintf(qid, sizeof(qid), "%s", queue_file_writer_id(w));
    m = cleanup_begin(c, w, &env, &st);
    assert_non_null(m);
    st = cleanup_rcpt(m, "b", "rfc822;b@orig.example", QF_NOTIFY_FAILURE | QF_NOTIFY_DELAY);
    assert_int_equal(st.result, CLEANUP_OK);
    st = cleanup_finish(m);
    assert_int_equal(st.result, CLEANUP_OK);
    assert_int_equal(cleanup_rcpt_count(m), 1);
    cleanup_free(m);
    assert_int_equal(queue_file_commit(w, buf_str(&path), 0, &err), 0);
    buf_printf(&path, "/%s", qid);
    assert_int_equal(queue_file_open(buf_str(&path), QF_OPEN_RDONLY, &qf, &corrupt, &err), 0);
    assert_string_equal(queue_file_envelope(qf)->envid, "ENV1");
    assert_int_equal(queue_file_envelope(qf)->ret, QF_RET_HDRS);
    assert_string_equal(queue_file_envelope(qf)->client_addr, "::1");
    queue_file_rcpt_rewind(qf);
    assert_int_equal(queue_file_rcpt_next(qf, &rc, &err), 1);
    assert_string_equal(rc.address, "b@example.com");
    assert_string_equal(rc.orcpt, "rfc822;b@orig.example");
    assert_int_equal(rc.notify, QF_NOTIFY_FAILURE | QF_NOTIFY_DELAY);
    {
        char chunk[256];
        ssize_t n;

        queue_file_content_rewind(qf);
        n = queue_file_content_read(qf, chunk, sizeof(chunk) - 1, &err);
        assert_true(n > 0);
        chunk[n] = 0;
        assert_true(strncmp(chunk, "Received: from bad?helo (localhost [IPv6:::1])\n\tby "
                            "mx.example.com (postern) with SMTP id ", 89) == 0);
    }
    queue_file_close(qf);
    unlink(buf_str(&path));
    cleanup_close(c);
    config_free(cfg);
    buf_free(&cf);
    buf_free(&err);
    buf_free(&path);
}

static int setup(void **state)
{
    char sub[128];

    (void)state;
    log_init("test_cleanup");
    log_to_stderr(getenv("TEST_CLEANUP_LOG") ? 1 : 0);
    strcpy(tmpdir, "/tmp/test_cleanup.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(sub, sizeof(sub), "%s/incoming", tmpdir);
    return mkdir(sub, 0700);
}

static int teardown(void **state)
{
    char cmd[160];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_added_headers),
        cmocka_unit_test(test_received_format),
        cmocka_unit_test(test_hops),
        cmocka_unit_test(test_header_size),
        cmocka_unit_test(test_folded_and_address_headers),
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_orcpt_notify),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
