/*
 * test_smtpd_check - smtpd's restrictions, table-driven over main.cf
 * texts: every restriction, every access table result, restriction
 * classes, smtpd_delay_reject both ways, the open-relay tricks from
 * outside mynetworks (refused) and inside (accepted), IPv6 mynetworks,
 * table temporary failures (a proxy: table with no lookupd), and
 * configuration errors that name the parameter.
 *
 * "@DIR@" in a configuration is replaced by a temporary directory that
 * holds the cidr: files below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "maincf.h"
#include "smtpd_check.h"

static char tmpdir[] = "/tmp/test_smtpd_check.XXXXXX";

#define BASE \
    "myhostname = mx.example.test\n" \
    "mydomain = example.test\n" \
    "myorigin = $myhostname\n" \
    "mydestination = $myhostname, localhost, example.test\n" \
    "mynetworks = 127.0.0.0/8, [::1]/128, 192.0.2.0/24\n" \
    "queue_directory = @DIR@/no-queue\n" \
    "smtpd_reject_unlisted_recipient = no\n"

#define OUT "203.0.113.5"       /* outside mynetworks */
#define IN  "192.0.2.10"        /* inside */

static void write_file(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    write_file("nets.cidr", "198.51.100.0/24 OK\n[2001:db8:5::]/48 OK\n");
    write_file("client.cidr", "203.0.113.0/24 REJECT cidr says no\n");
    return 0;
}

static int teardown(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* BASE + extra, with @DIR@ replaced. */
static struct config *load(const char *extra, struct buf *err)
{
    struct buf text = BUF_INIT, out = BUF_INIT;
    struct config *cfg;
    const char *p, *q;

    buf_printf(&text, "%s%s", BASE, extra ? extra : "");
    for (p = buf_str(&text); (q = strstr(p, "@DIR@")) != NULL; p = q + 5) {
        buf_append(&out, p, (size_t)(q - p));
        buf_puts(&out, tmpdir);
    }
    buf_puts(&out, p);
    cfg = config_parse("main.cf", buf_str(&out), out.len, err);
    buf_free(&text);
    buf_free(&out);
    return cfg;
}

enum stage { RCPT, CLIENT, HELO, SENDER };

struct tcase {
    const char *name;
    const char *conf;
    const char *client;         /* address; NULL: OUT */
    const char *client_name;    /* NULL: "unknown" */
    const char *helo;
    const char *sender;
    const char *rcpt;
    enum stage stage;
    enum smtpd_check_result want;
    const char *want_reply;     /* "554 5.7.1 text", or NULL */
    const char *want_log;       /* substring of reply.log, or NULL */
    int want_hold, want_discard;
};

static const char *result_name(enum smtpd_check_result r)
{
    switch (r) {
    case SMTPD_CHECK_DUNNO: return "DUNNO";
    case SMTPD_CHECK_OK: return "OK";
    case SMTPD_CHECK_REJECT: return "REJECT";
    case SMTPD_CHECK_DEFER: return "DEFER";
    }
    return "?";
}

static int run_one(const struct tcase *t)
{
    struct buf err = BUF_INIT;
    struct config *cfg = load(t->conf, &err);
    struct smtpd_check *chk;
    struct smtpd_check_state st;
    struct smtpd_check_reply reply;
    enum smtpd_check_result r;
    char got[600];
    int bad = 0;

    if (cfg == NULL) {
        print_error("%s: config: %s\n", t->name, buf_str(&err));
        buf_free(&err);
        return 1;
    }
    if ((chk = smtpd_check_open(cfg, &err)) == NULL) {
        print_error("%s: open: %s\n", t->name, buf_str(&err));
        config_free(cfg);
        buf_free(&err);
        return 1;
    }
    memset(&st, 0, sizeof(st));
    st.client_addr = t->client ? t->client : OUT;
    st.client_name = t->client_name ? t->client_name : "unknown";
    st.helo = t->helo;
    st.sender = t->sender;
    st.recipient = t->rcpt;
    switch (t->stage) {
    case CLIENT: r = smtpd_check_client(chk, &st, &reply); break;
    case HELO: r = smtpd_check_helo(chk, &st, &reply); break;
    case SENDER: r = smtpd_check_sender(chk, &st, &reply); break;
    default: r = smtpd_check_rcpt(chk, &st, &reply); break;
    }
    snprintf(got, sizeof(got), "%d %s %s", reply.code, reply.enh, reply.text);
    if (r != t->want || reply.result != r) {
        print_error("%s: result %s, want %s (%s)\n", t->name, result_name(r),
                    result_name(t->want), got);
        bad = 1;
    }
    if (t->want_reply && strcmp(got, t->want_reply) != 0) {
        print_error("%s: reply\n  got  \"%s\"\n  want \"%s\"\n", t->name, got, t->want_reply);
        bad = 1;
    }
    if (t->want_log && strstr(reply.log, t->want_log) == NULL) {
        print_error("%s: log\n  got  \"%s\"\n  want \"%s\"\n", t->name, reply.log, t->want_log);
        bad = 1;
    }
    if (st.hold != t->want_hold || st.discard != t->want_discard) {
        print_error("%s: hold %d discard %d, want %d %d\n", t->name, st.hold, st.discard,
                    t->want_hold, t->want_discard);
        bad = 1;
    }
    smtpd_check_state_free(&st);
    smtpd_check_close(chk);
    config_free(cfg);
    buf_free(&err);
    return bad;
}

static void run_table(const struct tcase *cases, size_t n)
{
    int bad = 0;

    for (size_t i = 0; i < n; i++)
        bad += run_one(&cases[i]);
    assert_int_equal(bad, 0);
}

#define RUN(cases) run_table(cases, sizeof(cases) / sizeof(cases[0]))

/* ---- relay control: the open-relay list ---- */

#define RELAY_DENIED(addr) "554 5.7.1 <" addr ">: Relay access denied"

static const struct tcase relay_cases[] = {
    {"remote from outside", NULL, OUT, NULL, "h.example", "<s@x.example>",
     "<user@other.example>", RCPT, SMTPD_CHECK_REJECT, RELAY_DENIED("user@other.example"),
     "reject: RCPT from unknown[203.0.113.5]: 554 5.7.1 <user@other.example>: Relay access"
     " denied; from=<s@x.example> to=<user@other.example> helo=<h.example>", 0, 0},
    {"remote from inside", NULL, IN, NULL, NULL, NULL, "<user@other.example>", RCPT,
     SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"local from outside", NULL, OUT, NULL, NULL, NULL, "<user@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"local case-insensitive", NULL, OUT, NULL, NULL, NULL, "<user@EXAMPLE.Test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"myhostname", NULL, OUT, NULL, NULL, NULL, "<user@mx.example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"no domain is $myorigin", NULL, OUT, NULL, NULL, NULL, "<postmaster>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"bare local address", NULL, OUT, NULL, NULL, NULL, "user@example.test", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"bare remote address", NULL, OUT, NULL, NULL, NULL, "user@other.example", RCPT,
     SMTPD_CHECK_REJECT, RELAY_DENIED("user@other.example"), NULL, 0, 0},
    {"percent hack", NULL, OUT, NULL, NULL, NULL, "<user%other.example@example.test>", RCPT,
     SMTPD_CHECK_REJECT, RELAY_DENIED("user%other.example@example.test"), NULL, 0, 0},
    {"percent hack without domain", NULL, OUT, NULL, NULL, NULL, "<user%other.example>",
     RCPT, SMTPD_CHECK_REJECT, RELAY_DENIED("user%other.example"), NULL, 0, 0},
    {"bang path", NULL, OUT, NULL, NULL, NULL, "<other.example!user@example.test>", RCPT,
     SMTPD_CHECK_REJECT, RELAY_DENIED("other.example!user@example.test"), NULL, 0, 0},
    {"bang path without domain", NULL, OUT, NULL, NULL, NULL, "<other.example!user>", RCPT,
     SMTPD_CHECK_REJECT, RELAY_DENIED("other.example!user"), NULL, 0, 0},
    {"source route to remote", NULL, OUT, NULL, NULL, NULL,
     "<@example.test:user@other.example>", RCPT, SMTPD_CHECK_REJECT,
     RELAY_DENIED("user@other.example"), NULL, 0, 0},
    {"source route to local", NULL, OUT, NULL, NULL, NULL,
     "<@other.example:user@example.test>", RCPT, SMTPD_CHECK_REJECT,
     RELAY_DENIED("user@example.test"), NULL, 0, 0},
    {"quoted local part hiding @", NULL, OUT, NULL, NULL, NULL,
     "<\"user@other.example\"@example.test>", RCPT, SMTPD_CHECK_REJECT,
     RELAY_DENIED("\"user@other.example\"@example.test"), NULL, 0, 0},
    {"quoted percent", NULL, OUT, NULL, NULL, NULL, "<\"user%other\"@example.test>", RCPT,
     SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"trailing dot remote", NULL, OUT, NULL, NULL, NULL, "<user@other.example.>", RCPT,
     SMTPD_CHECK_REJECT, RELAY_DENIED("user@other.example."), NULL, 0, 0},
    {"trailing dot local", NULL, OUT, NULL, NULL, NULL, "<user@example.test.>", RCPT,
     SMTPD_CHECK_REJECT, RELAY_DENIED("user@example.test."), NULL, 0, 0},
    {"IPv4 literal", NULL, OUT, NULL, NULL, NULL, "<user@[192.0.2.99]>", RCPT,
     SMTPD_CHECK_REJECT, RELAY_DENIED("user@[192.0.2.99]"), NULL, 0, 0},
    {"IPv6 literal", NULL, OUT, NULL, NULL, NULL, "<user@[IPv6:2001:db8::1]>", RCPT,
     SMTPD_CHECK_REJECT, RELAY_DENIED("user@[IPv6:2001:db8::1]"), NULL, 0, 0},
    {"numeric domain", NULL, OUT, NULL, NULL, NULL, "<user@192.0.2.99>", RCPT,
     SMTPD_CHECK_REJECT, RELAY_DENIED("user@192.0.2.99"), NULL, 0, 0},
    {"percent and bang and route", NULL, OUT, NULL, NULL, NULL,
     "<@a.example,@b.example:x!y%z@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL,
     0, 0},
    {"unparsable recipient", NULL, OUT, NULL, NULL, NULL, "<a b@example.test>", RCPT,
     SMTPD_CHECK_REJECT, RELAY_DENIED("a b@example.test"), NULL, 0, 0},
    {"null recipient", NULL, OUT, NULL, NULL, NULL, "<>", RCPT, SMTPD_CHECK_REJECT,
     RELAY_DENIED(""), NULL, 0, 0},
    {"literal listed in mydestination", "mydestination = example.test, [192.0.2.99]\n", OUT,
     NULL, NULL, NULL, "<user@[192.0.2.99]>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"IPv6 literal listed", "mydestination = [IPv6:2001:db8::1]\n", OUT, NULL, NULL, NULL,
     "<user@[ipv6:2001:DB8::1]>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},

    /* the same tricks from inside mynetworks: accepted */
    {"inside: percent hack", NULL, IN, NULL, NULL, NULL, "<user%other.example@example.test>",
     RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"inside: bang path", NULL, IN, NULL, NULL, NULL, "<other.example!user@example.test>",
     RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"inside: source route", NULL, IN, NULL, NULL, NULL, "<@example.test:user@other.example>",
     RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"inside: quoted @", NULL, IN, NULL, NULL, NULL, "<\"user@other.example\"@example.test>",
     RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"inside: trailing dot", NULL, IN, NULL, NULL, NULL, "<user@other.example.>", RCPT,
     SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"inside: IP literal", NULL, IN, NULL, NULL, NULL, "<user@[192.0.2.99]>", RCPT,
     SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"inside: loopback", NULL, "127.0.0.1", "localhost", NULL, NULL, "<user@other.example>",
     RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},

    /* relay_domains, virtual domains */
    {"relay_domains exact", "relay_domains = relay.example, .sub.example\n", OUT, NULL, NULL,
     NULL, "<u@relay.example>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"relay_domains subdomain pattern", "relay_domains = relay.example, .sub.example\n", OUT,
     NULL, NULL, NULL, "<u@a.b.sub.example>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"relay_domains .sub does not match sub", "relay_domains = .sub.example\n", OUT, NULL,
     NULL, NULL, "<u@sub.example>", RCPT, SMTPD_CHECK_REJECT, RELAY_DENIED("u@sub.example"),
     NULL, 0, 0},
    {"relay_domains no parent match", "relay_domains = relay.example\n", OUT, NULL, NULL,
     NULL, "<u@x.relay.example>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"relay_domains negation", "relay_domains = !no.sub.example, .sub.example\n", OUT, NULL,
     NULL, NULL, "<u@no.sub.example>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"relay_domains table", "relay_domains = inline:{relay.example=x}\n", OUT, NULL, NULL,
     NULL, "<u@relay.example>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"relay_domains table .parent", "relay_domains = inline:{.relay.example=x}\n", OUT, NULL,
     NULL, NULL, "<u@a.relay.example>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"virtual_mailbox_domains", "virtual_mailbox_domains = v.example\n", OUT, NULL, NULL,
     NULL, "<u@v.example>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"virtual_alias_domains from the map",
     "virtual_alias_maps = inline:{a.example=x, u@a.example=v@b.example}\n", OUT, NULL, NULL,
     NULL, "<u@a.example>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"defer_unauth_destination", "smtpd_relay_restrictions = permit_mynetworks,"
     " defer_unauth_destination\n", OUT, NULL, NULL, NULL, "<u@other.example>", RCPT,
     SMTPD_CHECK_DEFER, "450 4.7.1 <u@other.example>: Relay access denied", NULL, 0, 0},
    {"relay guard in recipient restrictions", "smtpd_relay_restrictions =\n"
     "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n", OUT,
     NULL, NULL, NULL, "<u@other.example>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"client host name in log", NULL, OUT, "host.example", NULL, NULL, "<u@other.example>",
     RCPT, SMTPD_CHECK_REJECT, NULL, "reject: RCPT from host.example[203.0.113.5]: ", 0, 0},
};

static void test_relay(void **state)
{
    (void)state;
    RUN(relay_cases);
}

/* ---- mynetworks ---- */

static const struct tcase mynetworks_cases[] = {
    {"IPv6 loopback [::1]/128", NULL, "::1", NULL, NULL, NULL, "<u@other.example>", RCPT,
     SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"IPv6 unbracketed", "mynetworks = ::1/128, 2001:db8:1::/48\n", "2001:db8:1:2::5", NULL,
     NULL, NULL, "<u@other.example>", RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"IPv6 outside", "mynetworks = [2001:db8:1::]/48\n", "2001:db8:2::5", NULL, NULL, NULL,
     "<u@other.example>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"IPv6 bare address", "mynetworks = 2001:db8::7\n", "2001:DB8::7", NULL, NULL, NULL,
     "<u@other.example>", RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"IPv4-mapped client", NULL, "::ffff:192.0.2.10", NULL, NULL, NULL, "<u@other.example>",
     RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"IPv4 bare and bracketed", "mynetworks = 10.1.2.3, [10.9.9.9]\n", "10.9.9.9", NULL,
     NULL, NULL, "<u@other.example>", RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"IPv4 /0", "mynetworks = 0.0.0.0/0\n", "198.18.0.1", NULL, NULL, NULL,
     "<u@other.example>", RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"negated network", "mynetworks = !192.0.2.66, 192.0.2.0/24\n", "192.0.2.66", NULL,
     NULL, NULL, "<u@other.example>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"cidr table", "mynetworks = 127.0.0.0/8 cidr:@DIR@/nets.cidr\n", "198.51.100.9", NULL,
     NULL, NULL, "<u@other.example>", RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"cidr table IPv6", "mynetworks = cidr:@DIR@/nets.cidr\n", "2001:db8:5::1", NULL, NULL,
     NULL, "<u@other.example>", RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"cidr table miss", "mynetworks = cidr:@DIR@/nets.cidr\n", "198.51.101.9", NULL, NULL,
     NULL, "<u@other.example>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"mynetworks table tempfail", "mynetworks = proxy:cidr:@DIR@/nets.cidr\n", OUT, NULL,
     NULL, NULL, "<u@other.example>", RCPT, SMTPD_CHECK_DEFER,
     "451 4.3.0 <unknown[203.0.113.5]>: Temporary lookup failure", NULL, 0, 0},
};

static void test_mynetworks(void **state)
{
    struct buf err = BUF_INIT;
    struct config *cfg;
    struct smtpd_check *chk;

    (void)state;
    RUN(mynetworks_cases);
    cfg = load("mynetworks = 10.0.0.0/8 [2001:db8::]/32 ::1/128\n", &err);
    assert_non_null(cfg);
    chk = smtpd_check_open(cfg, &err);
    assert_non_null(chk);
    assert_int_equal(smtpd_check_mynetworks(chk, "10.200.1.1"), 1);
    assert_int_equal(smtpd_check_mynetworks(chk, "11.0.0.1"), 0);
    assert_int_equal(smtpd_check_mynetworks(chk, "2001:db8:ffff::1"), 1);
    assert_int_equal(smtpd_check_mynetworks(chk, "2001:db9::1"), 0);
    assert_int_equal(smtpd_check_mynetworks(chk, "::1"), 1);
    assert_int_equal(smtpd_check_mynetworks(chk, "::ffff:10.0.0.1"), 1);
    assert_int_equal(smtpd_check_mynetworks(chk, "not-an-address"), 0);
    assert_int_equal(smtpd_check_mynetworks(chk, ""), 0);
    smtpd_check_close(chk);
    config_free(cfg);
    buf_free(&err);
}

/* ---- reject_unlisted_recipient ---- */

#define UNLISTED "smtpd_recipient_restrictions = reject_unlisted_recipient\n"
#define IMPLICIT "smtpd_reject_unlisted_recipient = yes\n" \
    "local_recipient_maps = inline:{root=1, postmaster=1}\n"
#define VMBOX UNLISTED "virtual_mailbox_domains = v.example\n" \
    "virtual_mailbox_maps = inline:{alice@v.example=alice/, @catch.example=c/}\n"

static const struct tcase unlisted_cases[] = {
    {"virtual mailbox known", VMBOX, OUT, NULL, NULL, NULL, "<alice@v.example>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"virtual mailbox known, case folded", VMBOX, OUT, NULL, NULL, NULL, "<Alice@V.Example>",
     RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"virtual mailbox unknown", VMBOX, OUT, NULL, NULL, NULL, "<bob@v.example>", RCPT,
     SMTPD_CHECK_REJECT, "550 5.1.1 <bob@v.example>: Recipient address rejected: User unknown"
     " in virtual mailbox table", NULL, 0, 0},
    {"virtual mailbox catch-all", VMBOX "virtual_mailbox_domains = v.example catch.example\n",
     OUT, NULL, NULL, NULL, "<anyone@catch.example>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0,
     0},
    {"virtual mailbox via alias", VMBOX "virtual_alias_maps = inline:{bob@v.example=alice@v.example}\n"
     "virtual_alias_domains =\n", OUT, NULL, NULL, NULL, "<bob@v.example>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"virtual alias unknown", UNLISTED "virtual_alias_domains = a.example\n"
     "virtual_alias_maps = inline:{x@a.example=alice@v.example}\n", OUT, NULL, NULL, NULL,
     "<y@a.example>", RCPT, SMTPD_CHECK_REJECT, "550 5.1.1 <y@a.example>: Recipient address"
     " rejected: User unknown in virtual alias table", NULL, 0, 0},
    {"virtual alias known", UNLISTED "virtual_alias_domains = a.example\n"
     "virtual_alias_maps = inline:{x@a.example=alice@v.example}\n", OUT, NULL, NULL, NULL,
     "<x@a.example>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"local unknown", UNLISTED "local_recipient_maps = inline:{root=1, postmaster=1}\n", OUT,
     NULL, NULL, NULL, "<nobody@example.test>", RCPT, SMTPD_CHECK_REJECT,
     "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in local"
     " recipient table", NULL, 0, 0},
    {"local known", UNLISTED "local_recipient_maps = inline:{root=1, postmaster=1}\n", OUT,
     NULL, NULL, NULL, "<Root@Example.Test>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"local no domain", UNLISTED "local_recipient_maps = inline:{root=1, postmaster=1}\n", OUT,
     NULL, NULL, NULL, "<postmaster>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"local with extension", UNLISTED "local_recipient_maps = inline:{root=1}\n"
     "recipient_delimiter = +\n", OUT, NULL, NULL, NULL, "<root+box@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"local empty maps accept", UNLISTED "local_recipient_maps =\n", OUT, NULL, NULL, NULL,
     "<anyone@example.test>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"local passwd known", UNLISTED "local_recipient_maps = unix:passwd.byname\n", OUT, NULL,
     NULL, NULL, "<root@example.test>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"local passwd unknown", UNLISTED "local_recipient_maps = unix:passwd.byname\n",
     OUT, NULL, NULL, NULL, "<no-such-user-xyzzy@example.test>", RCPT, SMTPD_CHECK_REJECT,
     NULL, NULL, 0, 0},
    {"local proxy passwd without lookupd: tempfail, never unknown",
     UNLISTED "local_recipient_maps = proxy:unix:passwd.byname\n",
     OUT, NULL, NULL, NULL, "<no-such-user-xyzzy@example.test>", RCPT, SMTPD_CHECK_DEFER,
     NULL, NULL, 0, 0},
    {"local tempfail (proxy, no lookupd)", UNLISTED "local_recipient_maps = proxy:inline:{root=1}\n",
     OUT, NULL, NULL, NULL, "<root@example.test>", RCPT, SMTPD_CHECK_DEFER,
     "451 4.3.0 <root@example.test>: Temporary lookup failure", NULL, 0, 0},
    {"local table missing: tempfail", UNLISTED "local_recipient_maps = hash:@DIR@/missing\n",
     OUT, NULL, NULL, NULL, "<root@example.test>", RCPT, SMTPD_CHECK_DEFER,
     "451 4.3.0 <root@example.test>: Temporary lookup failure", NULL, 0, 0},
    {"remote not checked", UNLISTED "local_recipient_maps = inline:{root=1}\n", IN, NULL, NULL,
     NULL, "<x@other.example>", RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"relay domain not checked", UNLISTED "relay_domains = r.example\n", OUT, NULL, NULL, NULL,
     "<x@r.example>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    /* smtpd_reject_unlisted_recipient = yes: the check without naming it. */
    {"implicit: local unknown", IMPLICIT, OUT, NULL, NULL, NULL, "<nobody@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "550 5.1.1 <nobody@example.test>: Recipient address rejected: User"
     " unknown in local recipient table", NULL, 0, 0},
    {"implicit: local known", IMPLICIT, OUT, NULL, NULL, NULL, "<root@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"implicit: after permit_mynetworks too", IMPLICIT, IN, NULL, NULL, NULL,
     "<nobody@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"implicit: relay refusal comes first", IMPLICIT, OUT, NULL, NULL, NULL,
     "<x@other.example>", RCPT, SMTPD_CHECK_REJECT, "554 5.7.1 <x@other.example>: Relay"
     " access denied", NULL, 0, 0},
    {"implicit: remote from mynetworks not checked", IMPLICIT, IN, NULL, NULL, NULL,
     "<x@other.example>", RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
};

static void test_unlisted(void **state)
{
    (void)state;
    RUN(unlisted_cases);
}

/* ---- reject_non_fqdn_*, reject_invalid_helo_hostname ---- */

#define NFS "smtpd_sender_restrictions = reject_non_fqdn_sender\n"
#define NFR "smtpd_recipient_restrictions = reject_non_fqdn_recipient\n"
#define NFH "smtpd_helo_restrictions = reject_non_fqdn_helo_hostname\n"
#define IVH "smtpd_helo_restrictions = reject_invalid_helo_hostname\n"

static const struct tcase fqdn_cases[] = {
    {"sender without domain", NFS, IN, NULL, NULL, "<user>", "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "504 5.5.2 <user>: Sender address rejected: need fully-qualified"
     " address", NULL, 0, 0},
    {"sender single label", NFS, IN, NULL, NULL, "<user@host>", "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "504 5.5.2 <user@host>: Sender address rejected: need"
     " fully-qualified address", NULL, 0, 0},
    {"sender fqdn", NFS, IN, NULL, NULL, "<user@host.example>", "<u@example.test>", RCPT,
     SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"sender null", NFS, OUT, NULL, NULL, "", "<u@example.test>", RCPT, SMTPD_CHECK_DUNNO,
     NULL, NULL, 0, 0},
    {"sender literal", NFS, OUT, NULL, NULL, "<u@[192.0.2.1]>", "<u@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"recipient single label", NFR, IN, NULL, NULL, NULL, "<u@localhost>", RCPT,
     SMTPD_CHECK_REJECT, "504 5.5.2 <u@localhost>: Recipient address rejected: need"
     " fully-qualified address", NULL, 0, 0},
    {"recipient fqdn", NFR, OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"helo single label", NFH, OUT, NULL, "localhost", NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified"
     " hostname", NULL, 0, 0},
    {"helo fqdn", NFH, OUT, NULL, "mail.example.org", NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"helo fqdn with dot", NFH, OUT, NULL, "mail.example.org.", NULL, "<u@example.test>",
     RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"helo literal is qualified", NFH, OUT, NULL, "[192.0.2.1]", NULL, "<u@example.test>",
     RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"helo invalid", IVH, OUT, NULL, "bad_name!", NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "501 5.5.2 <bad_name!>: Helo command rejected: Invalid name", NULL,
     0, 0},
    {"helo invalid literal", IVH, OUT, NULL, "[999.1.1.1]", NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "501 5.5.2 <[999.1.1.1]>: Helo command rejected: Invalid name",
     NULL, 0, 0},
    {"helo empty", IVH, OUT, NULL, "", NULL, "<u@example.test>", RCPT, SMTPD_CHECK_REJECT,
     "501 5.5.2 <>: Helo command rejected: Invalid name", NULL, 0, 0},
    {"helo valid single label", IVH, OUT, NULL, "localhost", NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"helo valid literal", IVH, OUT, NULL, "[IPv6:2001:db8::1]", NULL, "<u@example.test>",
     RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"no helo: helo restrictions skipped", "smtpd_helo_restrictions = reject\n", OUT, NULL,
     NULL, NULL, "<u@example.test>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
};

static void test_fqdn(void **state)
{
    (void)state;
    RUN(fqdn_cases);
}

/* ---- access tables ---- */

#define CCA(v) "smtpd_client_restrictions = check_client_access inline:{203.0.113.5=" v "}\n"
#define CCA_B(v) "smtpd_client_restrictions = check_client_access inline:{{203.0.113.5=" v "}}\n"
#define CLIENT_REJ "<unknown[203.0.113.5]>: Client host rejected: "

static const struct tcase access_cases[] = {
    {"REJECT", CCA("REJECT"), OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "554 5.7.1 " CLIENT_REJ "Access denied", NULL, 0, 0},
    {"REJECT text", CCA_B("REJECT go away"), OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "554 5.7.1 " CLIENT_REJ "go away", NULL, 0, 0},
    {"REJECT enhanced code", CCA_B("REJECT 5.7.2 go away"), OUT, NULL, NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, "554 5.7.2 " CLIENT_REJ "go away", NULL, 0,
     0},
    {"reject lower case", CCA("reject"), OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"DEFER", CCA("DEFER"), OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_DEFER, "450 4.7.1 " CLIENT_REJ "Access denied", NULL, 0, 0},
    {"DEFER text", CCA_B("DEFER come back later"), OUT, NULL, NULL, NULL, "<u@example.test>",
     RCPT, SMTPD_CHECK_DEFER, "450 4.7.1 " CLIENT_REJ "come back later", NULL, 0, 0},
    {"5xx text", CCA_B("550 not here"), OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "550 5.7.1 " CLIENT_REJ "not here", NULL, 0, 0},
    {"5xx enhanced", CCA_B("551 5.1.6 moved"), OUT, NULL, NULL, NULL, "<u@example.test>",
     RCPT, SMTPD_CHECK_REJECT, "551 5.1.6 " CLIENT_REJ "moved", NULL, 0, 0},
    {"4xx", CCA_B("421 busy"), OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_DEFER, "421 4.7.1 " CLIENT_REJ "busy", NULL, 0, 0},
    {"4xx with wrong enhanced class", CCA_B("450 5.7.1 soon"), OUT, NULL, NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_DEFER, "450 4.7.1 " CLIENT_REJ "soon", NULL, 0, 0},
    {"5xx without text", CCA("554"), OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "554 5.7.1 " CLIENT_REJ "Access denied", NULL, 0, 0},
    {"OK ends the client list only", CCA("OK") "smtpd_client_restrictions ="
     " check_client_access inline:{203.0.113.5=OK}, reject\n", OUT, NULL, NULL, NULL,
     "<u@other.example>", RCPT, SMTPD_CHECK_REJECT, RELAY_DENIED("u@other.example"), NULL, 0,
     0},
    {"OK then local", "smtpd_client_restrictions = check_client_access"
     " inline:{203.0.113.5=OK}, reject\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"no OK: reject", "smtpd_client_restrictions = check_client_access"
     " inline:{203.0.113.6=OK}, reject\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "554 5.7.1 " CLIENT_REJ "Access denied", NULL, 0, 0},
    {"RELAY is OK", "smtpd_recipient_restrictions = check_client_access"
     " inline:{203.0.113.5=RELAY}\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"all-numeric is OK", "smtpd_recipient_restrictions = check_client_access"
     " inline:{203.0.113.5=12345}\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"DUNNO goes on", "smtpd_client_restrictions = check_client_access"
     " inline:{203.0.113.5=DUNNO}, reject\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"HOLD", CCA("HOLD"), OUT, NULL, NULL, "<s@x.example>", "<u@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, "hold: RCPT from unknown[203.0.113.5]: <unknown[203.0.113.5]>:"
     " Client host triggers HOLD action; from=<s@x.example> to=<u@example.test>", 1, 0},
    {"HOLD text then reject", "smtpd_client_restrictions = check_client_access"
     " inline:{{203.0.113.5=HOLD look at it}}, reject\n", OUT, NULL, NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 1, 0},
    {"DISCARD", CCA("DISCARD"), OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, "discard: RCPT from unknown[203.0.113.5]: <unknown[203.0.113.5]>:"
     " Client host triggers DISCARD action", 0, 1},
    {"DISCARD in recipient list is OK", "smtpd_recipient_restrictions = check_recipient_access"
     " inline:{{u@example.test=DISCARD spam trap}}\n", OUT, NULL, NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_OK, NULL,
     "<u@example.test>: Recipient address spam trap", 0, 1},
    {"result: restriction class", CCA("strict") "smtpd_restriction_classes = strict\n"
     "strict = reject_unauth_destination, reject\n", OUT, NULL, NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, "554 5.7.1 " CLIENT_REJ "Access denied",
     NULL, 0, 0},
    {"result: restriction list", CCA_B("permit_mynetworks, reject"), OUT, NULL, NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, "554 5.7.1 " CLIENT_REJ "Access denied",
     NULL, 0, 0},
    {"result: restriction list permits", "smtpd_client_restrictions = check_client_access"
     " inline:{{192.0.2.10=permit_mynetworks, reject}}\n", IN, NULL, NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"result: table inside is a server error", CCA_B("check_client_access inline:{a=b}"),
     OUT, NULL, NULL, NULL, "<u@example.test>", RCPT, SMTPD_CHECK_DEFER,
     "451 4.3.5 Server configuration error", NULL, 0, 0},
    {"result: unknown word is a server error", CCA("bogus_thing"), OUT, NULL, NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_DEFER, "451 4.3.5 Server configuration error",
     NULL, 0, 0},
    {"result: looping class", CCA("loop") "smtpd_restriction_classes = loop\nloop = loop\n",
     OUT, NULL, NULL, NULL, "<u@example.test>", RCPT, SMTPD_CHECK_DEFER,
     "451 4.3.5 Server configuration error", NULL, 0, 0},
    {"client partial address", "smtpd_client_restrictions = check_client_access"
     " inline:{203.0.113=REJECT}\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"client IPv6 partial address", "smtpd_client_restrictions = check_client_access"
     " inline:{2001:db8:7=REJECT}\n", "2001:db8:7::1", NULL, NULL, NULL, "<u@example.test>",
     RCPT, SMTPD_CHECK_REJECT, "554 5.7.1 <unknown[2001:db8:7::1]>: Client host rejected:"
     " Access denied", NULL, 0, 0},
    {"client host name", "smtpd_client_restrictions = check_client_access"
     " inline:{mail.bad.example=REJECT}\n", OUT, "mail.bad.example", NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, "554 5.7.1 <mail.bad.example[203.0.113.5]>:"
     " Client host rejected: Access denied", NULL, 0, 0},
    {"client parent .domain", "smtpd_client_restrictions = check_client_access"
     " inline:{.bad.example=REJECT}\n", OUT, "mail.bad.example", NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"client parent without dot: no match", "smtpd_client_restrictions = check_client_access"
     " inline:{bad.example=REJECT}\n", OUT, "mail.bad.example", NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"client cidr table", "smtpd_client_restrictions = check_client_access"
     " cidr:@DIR@/client.cidr\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "554 5.7.1 " CLIENT_REJ "cidr says no", NULL, 0, 0},
    {"client table tempfail", "smtpd_client_restrictions = check_client_access"
     " proxy:inline:{a=b}\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_DEFER, "451 4.3.0 <unknown[203.0.113.5]>: Temporary lookup failure", NULL,
     0, 0},
    {"helo access", "smtpd_helo_restrictions = check_helo_access inline:{bad.example=REJECT}\n",
     OUT, NULL, "Bad.Example", NULL, "<u@example.test>", RCPT, SMTPD_CHECK_REJECT,
     "554 5.7.1 <Bad.Example>: Helo command rejected: Access denied", NULL, 0, 0},
    {"helo access parent", "smtpd_helo_restrictions = check_helo_access"
     " inline:{.bad.example=REJECT}\n", OUT, NULL, "x.bad.example.", NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"sender access full", "smtpd_sender_restrictions = check_sender_access"
     " inline:{spammer@evil.example=REJECT}\n", OUT, NULL, NULL, "<Spammer@Evil.Example>",
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, "554 5.7.1 <Spammer@Evil.Example>: Sender"
     " address rejected: Access denied", NULL, 0, 0},
    {"sender access extension stripped", "smtpd_sender_restrictions = check_sender_access"
     " inline:{spammer@evil.example=REJECT}\nrecipient_delimiter = +\n", OUT, NULL, NULL,
     "<spammer+tag@evil.example>", "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL,
     0, 0},
    {"sender access domain", "smtpd_sender_restrictions = check_sender_access"
     " inline:{evil.example=REJECT}\n", OUT, NULL, NULL, "<a@evil.example>",
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"sender access domain not parent", "smtpd_sender_restrictions = check_sender_access"
     " inline:{evil.example=REJECT}\n", OUT, NULL, NULL, "<a@sub.evil.example>",
     "<u@example.test>", RCPT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"sender access .parent", "smtpd_sender_restrictions = check_sender_access"
     " inline:{.evil.example=REJECT}\n", OUT, NULL, NULL, "<a@sub.evil.example>",
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"sender access user@", "smtpd_sender_restrictions = check_sender_access"
     " inline:{baduser@=REJECT}\n", OUT, NULL, NULL, "<baduser@any.example>",
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"sender access null sender", "smtpd_sender_restrictions = check_sender_access"
     " inline:{<>=REJECT}\n", OUT, NULL, NULL, "", "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "554 5.7.1 <>: Sender address rejected: Access denied", NULL, 0, 0},
    {"sender access miss", "smtpd_sender_restrictions = check_sender_access"
     " inline:{<>=REJECT}\n", OUT, NULL, NULL, "<a@b.example>", "<u@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"recipient access", "smtpd_recipient_restrictions = check_recipient_access"
     " inline:{u@example.test=REJECT}\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "554 5.7.1 <u@example.test>: Recipient address rejected: Access"
     " denied", NULL, 0, 0},
    {"recipient access OK", "smtpd_recipient_restrictions = check_recipient_access"
     " inline:{u@example.test=OK}, reject\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"recipient access cannot override relay", "smtpd_recipient_restrictions ="
     " check_recipient_access inline:{u@other.example=OK}\n", OUT, NULL, NULL, NULL,
     "<u@other.example>", RCPT, SMTPD_CHECK_REJECT, RELAY_DENIED("u@other.example"), NULL, 0,
     0},
    {"recipient tempfail", "smtpd_recipient_restrictions = check_recipient_access"
     " proxy:inline:{a=b}\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_DEFER, "451 4.3.0 <u@example.test>: Temporary lookup failure", NULL, 0, 0},
};

static void test_access(void **state)
{
    (void)state;
    RUN(access_cases);
}

/* ---- generic restrictions, classes, stages ---- */

static const struct tcase generic_cases[] = {
    {"reject in client list", "smtpd_client_restrictions = reject\n", IN, NULL, NULL, NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT,
     "554 5.7.1 <unknown[192.0.2.10]>: Client host rejected: Access denied", NULL, 0, 0},
    {"defer in sender list", "smtpd_sender_restrictions = defer\n", IN, NULL, NULL,
     "<s@x.example>", "<u@example.test>", RCPT, SMTPD_CHECK_DEFER,
     "450 4.3.2 <s@x.example>: Sender address rejected: Try again later", NULL, 0, 0},
    {"reject in helo list", "smtpd_helo_restrictions = reject\n", IN, NULL, "h.example", NULL,
     "<u@example.test>", RCPT, SMTPD_CHECK_REJECT,
     "554 5.7.1 <h.example>: Helo command rejected: Access denied", NULL, 0, 0},
    {"reject in recipient list", "smtpd_recipient_restrictions = reject\n", IN, NULL, NULL,
     NULL, "<u@example.test>", RCPT, SMTPD_CHECK_REJECT,
     "554 5.7.1 <u@example.test>: Recipient address rejected: Access denied", NULL, 0, 0},
    {"permit then reject", "smtpd_recipient_restrictions = permit, reject\n", OUT, NULL, NULL,
     NULL, "<u@example.test>", RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"restriction names are case-insensitive", "smtpd_recipient_restrictions = REJECT\n", IN,
     NULL, NULL, NULL, "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"permit_mynetworks in client list", "smtpd_client_restrictions = permit_mynetworks,"
     " reject\n", IN, NULL, NULL, NULL, "<u@example.test>", RCPT, SMTPD_CHECK_OK, NULL, NULL,
     0, 0},
    {"permit_sasl_authenticated never matches", "smtpd_recipient_restrictions ="
     " permit_sasl_authenticated, reject\n", IN, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, NULL, NULL, 0, 0},
    {"class in a list", "smtpd_restriction_classes = local_only, other\n"
     "local_only = check_recipient_access inline:{u@example.test=OK}, other\n"
     "other = reject\n"
     "smtpd_recipient_restrictions = local_only\n", OUT, NULL, NULL, NULL, "<v@example.test>",
     RCPT, SMTPD_CHECK_REJECT,
     "554 5.7.1 <v@example.test>: Recipient address rejected: Access denied", NULL, 0, 0},
    {"class in a list permits", "smtpd_restriction_classes = local_only\n"
     "local_only = check_recipient_access inline:{u@example.test=OK}, reject\n"
     "smtpd_recipient_restrictions = local_only\n", OUT, NULL, NULL, NULL, "<u@example.test>",
     RCPT, SMTPD_CHECK_OK, NULL, NULL, 0, 0},
    {"class from sender table", "smtpd_restriction_classes = from_friends\n"
     "from_friends = check_client_access inline:{203.0.113.5=OK}, reject\n"
     "smtpd_sender_restrictions = check_sender_access inline:{boss@x.example=from_friends}\n",
     "203.0.113.6", NULL, NULL, "<boss@x.example>", "<u@example.test>", RCPT,
     SMTPD_CHECK_REJECT, "554 5.7.1 <boss@x.example>: Sender address rejected: Access denied",
     NULL, 0, 0},
    {"delay_reject=no: client stage", "smtpd_delay_reject = no\n"
     "smtpd_client_restrictions = reject\n", OUT, NULL, NULL, NULL, NULL, CLIENT,
     SMTPD_CHECK_REJECT, NULL, "reject: CONNECT from unknown[203.0.113.5]: 554 5.7.1", 0, 0},
    {"delay_reject=no: rcpt does not redo client", "smtpd_delay_reject = no\n"
     "smtpd_client_restrictions = reject\n", OUT, NULL, NULL, NULL, "<u@example.test>", RCPT,
     SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"delay_reject=no: helo stage", "smtpd_delay_reject = no\n"
     "smtpd_helo_restrictions = reject_invalid_helo_hostname\n", OUT, NULL, "a..b", NULL,
     NULL, HELO, SMTPD_CHECK_REJECT, "501 5.5.2 <a..b>: Helo command rejected: Invalid name",
     "reject: EHLO from unknown[203.0.113.5]: 501 5.5.2", 0, 0},
    {"delay_reject=no: sender stage", "smtpd_delay_reject = no\n"
     "smtpd_sender_restrictions = reject_non_fqdn_sender\n", OUT, NULL, "h.example", "<a@b>",
     NULL, SENDER, SMTPD_CHECK_REJECT, NULL,
     "reject: MAIL from unknown[203.0.113.5]: 504 5.5.2 <a@b>: Sender address rejected: need"
     " fully-qualified address; from=<a@b> helo=<h.example>", 0, 0},
    {"delay_reject=yes: client stage waits", "smtpd_client_restrictions = reject\n", OUT,
     NULL, NULL, NULL, NULL, CLIENT, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"delay_reject=yes: sender stage waits", "smtpd_sender_restrictions = reject\n", OUT,
     NULL, NULL, "<a@b.example>", NULL, SENDER, SMTPD_CHECK_DUNNO, NULL, NULL, 0, 0},
    {"delay_reject=yes: at RCPT", "smtpd_client_restrictions = reject\n", OUT, NULL,
     "h.example", "<s@x.example>", "<u@example.test>", RCPT, SMTPD_CHECK_REJECT, NULL,
     "reject: RCPT from unknown[203.0.113.5]: 554 5.7.1 <unknown[203.0.113.5]>: Client host"
     " rejected: Access denied; from=<s@x.example> to=<u@example.test> helo=<h.example>", 0,
     0},
};

static void test_generic(void **state)
{
    (void)state;
    RUN(generic_cases);
}

/* smtpd_delay_reject=yes: early decisions are remembered, per transaction for the sender. */
static void test_delay_memory(void **state)
{
    struct buf err = BUF_INIT;
    struct config *cfg;
    struct smtpd_check *chk;
    struct smtpd_check_state st;
    struct smtpd_check_reply reply;

    (void)state;
    cfg = load("smtpd_sender_restrictions = check_sender_access inline:{bad@x.example=REJECT}\n"
               "smtpd_client_restrictions = check_client_access inline:{{203.0.113.9=REJECT"
               " go away}}\n", &err);
    assert_non_null(cfg);
    chk = smtpd_check_open(cfg, &err);
    assert_non_null(chk);

    memset(&st, 0, sizeof(st));
    st.client_addr = OUT;
    st.client_name = "unknown";
    st.helo = "h.example";
    st.sender = "<bad@x.example>";
    st.recipient = "<a@example.test>";
    assert_int_equal(smtpd_check_rcpt(chk, &st, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.text, "<bad@x.example>: Sender address rejected: Access denied");
    assert_non_null(st.early);
    /* the next recipient gets the same answer, logged for itself */
    st.recipient = "<b@example.test>";
    assert_int_equal(smtpd_check_rcpt(chk, &st, &reply), SMTPD_CHECK_REJECT);
    assert_int_equal(reply.code, 554);
    assert_string_equal(reply.text, "<bad@x.example>: Sender address rejected: Access denied");
    assert_non_null(strstr(reply.log, "to=<b@example.test>"));
    /* a new transaction with a good sender */
    smtpd_check_new_transaction(&st);
    assert_null(st.early);
    st.sender = "<good@x.example>";
    assert_int_equal(smtpd_check_rcpt(chk, &st, &reply), SMTPD_CHECK_DUNNO);
    assert_int_equal(reply.code, 0);
    smtpd_check_state_free(&st);

    /* a client reject survives new transactions */
    memset(&st, 0, sizeof(st));
    st.client_addr = "203.0.113.9";
    st.client_name = "unknown";
    st.sender = "<good@x.example>";
    st.recipient = "<a@example.test>";
    assert_int_equal(smtpd_check_rcpt(chk, &st, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.text, "<unknown[203.0.113.9]>: Client host rejected: go away");
    smtpd_check_new_transaction(&st);
    assert_non_null(st.early);
    assert_int_equal(smtpd_check_rcpt(chk, &st, &reply), SMTPD_CHECK_REJECT);
    assert_string_equal(reply.text, "<unknown[203.0.113.9]>: Client host rejected: go away");
    smtpd_check_state_free(&st);
    assert_null(st.early);

    smtpd_check_close(chk);
    config_free(cfg);
    buf_free(&err);
}

/* ---- configuration errors ---- */

struct bad_case {
    const char *conf;
    const char *want;           /* substring of the error */
};

static const struct bad_case bad_cases[] = {
    {"smtpd_recipient_restrictions = reject_bogus\n",
     "main.cf: parameter smtpd_recipient_restrictions: unknown restriction \"reject_bogus\""},
    {"smtpd_client_restrictions = permit_mynetworks check_client_access\n",
     "parameter smtpd_client_restrictions: check_client_access needs a table argument"},
    {"smtpd_helo_restrictions = check_helo_access nosuch:table\n",
     "parameter smtpd_helo_restrictions: unsupported table type \"nosuch\""},
    {"smtpd_sender_restrictions = check_sender_access cidr:@DIR@/missing.cidr\n",
     "parameter smtpd_sender_restrictions: "},
    {"smtpd_client_restrictions = inline:{a=b}\n",
     "parameter smtpd_client_restrictions: \"inline:{a=b}\": a table must follow"},
    {"smtpd_client_restrictions = check_client_access inline:{a=b\n",
     "parameter smtpd_client_restrictions: missing '}'"},
    {"mynetworks = 10.0.0.1/8\n", "parameter mynetworks: non-null host address bits"},
    {"mynetworks = 10.0.0.0/33\n", "parameter mynetworks: bad prefix length"},
    {"mynetworks = [::1]/129\n", "parameter mynetworks: bad prefix length"},
    {"mynetworks = host.example\n", "parameter mynetworks: bad address"},
    {"mynetworks = fe80::1%eth0\n", "parameter mynetworks: bad address"},
    {"mynetworks = /etc/postern/networks\n", "parameter mynetworks: \"/etc/postern/networks\""},
    {"mynetworks = cidr:@DIR@/missing.cidr\n", "parameter mynetworks: "},
    {"relay_domains = nosuch:x\n", "parameter relay_domains: unsupported table type"},
    {"smtpd_restriction_classes = undefined_class\n",
     "parameter smtpd_restriction_classes: class \"undefined_class\" is not defined"},
    {"smtpd_restriction_classes = reject\n",
     "parameter smtpd_restriction_classes: \"reject\" is the name of a built-in restriction"},
    {"smtpd_restriction_classes = c1\nc1 = permit, bogus\n",
     "parameter c1: unknown restriction \"bogus\""},
    {"smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks\n",
     "specify at least one working instance of: reject_unauth_destination"},
    {"smtpd_recipient_restrictions = reject_unlisted_recipient\n"
     "local_recipient_maps = nosuch:x\n", "parameter local_recipient_maps: unsupported table"},
};

static void test_config_errors(void **state)
{
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct buf err = BUF_INIT;
        struct config *cfg = load(bad_cases[i].conf, &err);
        struct smtpd_check *chk;
        char want[512];
        const char *at = strstr(bad_cases[i].want, "@DIR@");

        if (at)
            snprintf(want, sizeof(want), "%.*s%s%s", (int)(at - bad_cases[i].want),
                     bad_cases[i].want, tmpdir, at + 5);
        else
            snprintf(want, sizeof(want), "%s", bad_cases[i].want);
        if (cfg == NULL) {
            print_error("case %zu: config: %s\n", i, buf_str(&err));
            bad++;
            buf_free(&err);
            continue;
        }
        chk = smtpd_check_open(cfg, &err);
        if (chk != NULL) {
            print_error("case %zu (%s): opened\n", i, bad_cases[i].conf);
            smtpd_check_close(chk);
            bad++;
        } else if (strstr(buf_str(&err), want) == NULL) {
            print_error("case %zu: error\n  got  \"%s\"\n  want \"%s\"\n", i, buf_str(&err),
                        want);
            bad++;
        }
        config_free(cfg);
        buf_free(&err);
    }
    assert_int_equal(bad, 0);
}

/* The defaults open and relay only for mynetworks. */
static void test_defaults(void **state)
{
    struct config *cfg = config_defaults();
    struct buf err = BUF_INIT;
    struct smtpd_check *chk;
    struct smtpd_check_state st;
    struct smtpd_check_reply reply;

    (void)state;
    chk = smtpd_check_open(cfg, &err);
    if (chk == NULL)
        print_error("%s\n", buf_str(&err));
    assert_non_null(chk);
    memset(&st, 0, sizeof(st));
    st.client_addr = "198.18.0.1";
    st.client_name = "unknown";
    st.recipient = "<x@example.org>";
    assert_int_equal(smtpd_check_rcpt(chk, &st, &reply), SMTPD_CHECK_REJECT);
    assert_int_equal(reply.code, 554);
    st.client_addr = "127.0.0.1";
    assert_int_equal(smtpd_check_rcpt(chk, &st, &reply), SMTPD_CHECK_OK);
    st.client_addr = "::1";
    assert_int_equal(smtpd_check_rcpt(chk, &st, &reply), SMTPD_CHECK_OK);
    smtpd_check_state_free(&st);
    smtpd_check_close(chk);
    config_free(cfg);
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relay),
        cmocka_unit_test(test_mynetworks),
        cmocka_unit_test(test_unlisted),
        cmocka_unit_test(test_fqdn),
        cmocka_unit_test(test_access),
        cmocka_unit_test(test_generic),
        cmocka_unit_test(test_delay_memory),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_defaults),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
