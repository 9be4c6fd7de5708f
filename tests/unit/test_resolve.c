/*
 * test_resolve - unit tests for the recipient resolver: address classes,
 * transport_maps (inline: and texthash:) with their lookup order,
 * subdomain matching, error:/discard:, relayhost, [ip] literals and
 * temporary table failures.
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
#include "log.h"
#include "maincf.h"
#include "resolve.h"

struct rcase {
    const char *addr;
    int rc;                     /* 0 or -1 */
    enum resolve_class cls;
    const char *transport;
    const char *nexthop;
};

/* Resolve every case under main.cf text; each must come out as listed. */
static void run_cases(const char *maincf, const struct rcase *c, size_t n)
{
    struct buf err = BUF_INIT, why = BUF_INIT;
    struct config *cfg = config_parse("main.cf", maincf, strlen(maincf), &err);
    struct resolver *r;

    if (cfg == NULL)
        fail_msg("config: %s", buf_str(&err));
    if ((r = resolver_open(cfg, &err)) == NULL)
        fail_msg("resolver_open: %s", buf_str(&err));
    for (size_t i = 0; i < n; i++) {
        struct resolved out;
        int rc;

        buf_reset(&why);
        rc = resolve_addr(r, c[i].addr, &out, &why);
        if (rc != c[i].rc)
            fail_msg("%s: rc %d, want %d (%s)", c[i].addr, rc, c[i].rc, buf_str(&why));
        if (rc < 0) {
            assert_true(why.len > 0);
            continue;
        }
        if (out.cls != c[i].cls || strcmp(out.transport, c[i].transport) != 0
            || strcmp(out.nexthop, c[i].nexthop) != 0)
            fail_msg("%s: got class %d %s:%s, want class %d %s:%s", c[i].addr,
                     out.cls, out.transport, out.nexthop, c[i].cls, c[i].transport,
                     c[i].nexthop);
    }
    resolver_close(r);
    config_free(cfg);
    buf_free(&err);
    buf_free(&why);
}

#define BASE "myhostname = mx.example.org\nmydomain = example.org\n"

static void test_classes(void **state)
{
    static const struct rcase c[] = {
        {"bob@mx.example.org", 0, RESOLVE_LOCAL, "local", "mx.example.org"},
        {"bob@LOCALHOST.", 0, RESOLVE_LOCAL, "local", "mx.example.org"},
        {"bob", 0, RESOLVE_LOCAL, "local", "mx.example.org"},
        {"bob@va.test", 0, RESOLVE_VIRTUAL_ALIAS, "error",
         "5.1.1 User unknown in virtual alias table"},
        {"bob@Virt.Test", 0, RESOLVE_VIRTUAL, "virtual", "virt.test"},
        {"bob@sub.virt.test", 0, RESOLVE_DEFAULT, "smtp", "sub.virt.test"},
        {"bob@relay.test", 0, RESOLVE_RELAY, "relay", "relay.test"},
        /* relay_domains matches subdomains (parent_domain_matches_subdomains). */
        {"bob@a.b.relay.test", 0, RESOLVE_RELAY, "relay", "a.b.relay.test"},
        {"bob@notrelay.test", 0, RESOLVE_DEFAULT, "smtp", "notrelay.test"},
        /* ".dot.test" matches subdomains only. */
        {"bob@x.dot.test", 0, RESOLVE_VIRTUAL, "virtual", "x.dot.test"},
        {"bob@dot.test", 0, RESOLVE_DEFAULT, "smtp", "dot.test"},
        {"bob@example.com", 0, RESOLVE_DEFAULT, "smtp", "example.com"},
        {"a@b@example.com", 0, RESOLVE_DEFAULT, "smtp", "example.com"},
        {"bob@", 0, RESOLVE_LOCAL, "local", "mx.example.org"},
    };

    run_cases(BASE "virtual_alias_domains = va.test\n"
              "virtual_mailbox_domains = virt.test, .dot.test\n"
              "relay_domains = relay.test\n", c, sizeof(c) / sizeof(c[0]));
}

static void test_relayhost(void **state)
{
    static const struct rcase c[] = {
        {"bob@example.com", 0, RESOLVE_DEFAULT, "smtp", "[10.0.0.1]:2525"},
        {"bob@relay.test", 0, RESOLVE_RELAY, "relay", "[10.0.0.1]:2525"},
        {"bob@localhost", 0, RESOLVE_LOCAL, "local", "mx.example.org"},
        {"bob@virt.test", 0, RESOLVE_VIRTUAL, "virtual", "virt.test"},
    };

    run_cases(BASE "relayhost = [10.0.0.1]:2525\nrelay_domains = relay.test\n"
              "virtual_mailbox_domains = virt.test\n", c, sizeof(c) / sizeof(c[0]));
}

static void test_transport_params(void **state)
{
    static const struct rcase c[] = {
        {"bob@example.com", 0, RESOLVE_DEFAULT, "error", "mail for remote domains refused"},
        {"bob@localhost", 0, RESOLVE_LOCAL, "mylocal", "localhost"},
        {"bob@relay.test", 0, RESOLVE_RELAY, "smtp", "[gw.test]"},
    };

    run_cases(BASE "default_transport = error:mail for remote domains refused\n"
              "local_transport = mylocal\nrelay_transport = smtp:[gw.test]\n"
              "relay_domains = relay.test\n", c, sizeof(c) / sizeof(c[0]));
}

static void test_transport_maps_inline(void **state)
{
    static const struct rcase c[] = {
        /* full address beats domain */
        {"vip@example.com", 0, RESOLVE_DEFAULT, "relay", "[vip.test]"},
        /* without the extension */
        {"vip+tag@example.com", 0, RESOLVE_DEFAULT, "relay", "[vip.test]"},
        {"joe@example.com", 0, RESOLVE_DEFAULT, "smtp", "[mx1.test]:26"},
        /* parent domains: ".example.com" */
        {"joe@a.b.example.com", 0, RESOLVE_DEFAULT, "lmtp", "unix:/tmp/lmtp"},
        /* ".net" then "*" */
        {"joe@x.net", 0, RESOLVE_DEFAULT, "slow", "x.net"},
        {"joe@x.org", 0, RESOLVE_DEFAULT, "catchall", "x.org"},
        /* an empty transport keeps the class's transport */
        {"joe@keep.test", 0, RESOLVE_DEFAULT, "smtp", "[keep.example]"},
        /* "*" applies to local domains too; the class keeps its next hop */
        {"bob@mx.example.org", 0, RESOLVE_LOCAL, "catchall", "mx.example.org"},
        {"gone@mx.example.org", 0, RESOLVE_LOCAL, "discard", "silently"},
        {"dead@mx.example.org", 0, RESOLVE_LOCAL, "error", "5.7.1 no such person"},
        {"quiet@mx.example.org", 0, RESOLVE_LOCAL, "error", ""},
    };

    run_cases(BASE "recipient_delimiter = +\n"
              "transport_maps = inline:{ vip@example.com=relay:[vip.test], "
              "example.com=smtp:[mx1.test]:26, .example.com=lmtp:unix:/tmp/lmtp, "
              ".net=slow, *=catchall, keep.test=:[keep.example], "
              "gone@mx.example.org=discard:silently, "
              "{dead@mx.example.org=error:5.7.1 no such person}, "
              "quiet@mx.example.org=error: }\n",
              c, sizeof(c) / sizeof(c[0]));
}

static void test_transport_maps_texthash(void **state)
{
    char dir[] = "/tmp/test_resolve.XXXXXX", path[96], cf[512];
    FILE *f;
    static const struct rcase c[] = {
        {"a@one.test", 0, RESOLVE_DEFAULT, "smtp", "[one.example]"},
        {"a@two.test", 0, RESOLVE_DEFAULT, "relay", "two.test"},
        {"a@sub.two.test", 0, RESOLVE_DEFAULT, "smtp", "sub.two.test"},
        {"a@MX.example.org", 0, RESOLVE_LOCAL, "local", "mx.example.org"},
    };

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/transport", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("# comment\none.test   smtp:[one.example]\nTWO.test relay:\n", f);
    fclose(f);
    snprintf(cf, sizeof(cf), BASE "transport_maps = texthash:%s\n", path);
    run_cases(cf, c, sizeof(c) / sizeof(c[0]));
    unlink(path);
    rmdir(dir);
}

static void test_domain_tables(void **state)
{
    static const struct rcase c[] = {
        {"a@tab.test", 0, RESOLVE_VIRTUAL, "virtual", "tab.test"},
        /* a table matches a parent only as ".parent" (not in relay_domains) */
        {"a@x.tab.test", 0, RESOLVE_DEFAULT, "smtp", "x.tab.test"},
        {"a@x.sub.test", 0, RESOLVE_VIRTUAL, "virtual", "x.sub.test"},
        /* relay_domains tables match parents as plain names */
        {"a@deep.r.test", 0, RESOLVE_RELAY, "relay", "deep.r.test"},
        /* negation */
        {"a@not.rel.test", 0, RESOLVE_DEFAULT, "smtp", "not.rel.test"},
        {"a@yes.rel.test", 0, RESOLVE_RELAY, "relay", "yes.rel.test"},
    };

    run_cases(BASE "virtual_mailbox_domains = inline:{tab.test=1, .sub.test=1}\n"
              "relay_domains = inline:{r.test=1}, !not.rel.test, rel.test\n",
              c, sizeof(c) / sizeof(c[0]));
}

static void test_literals(void **state)
{
    static const struct rcase c[] = {
        {"bob@[127.0.0.1]", 0, RESOLVE_LOCAL, "local", "mx.example.org"},
        {"bob@[192.0.2.7]", 0, RESOLVE_DEFAULT, "smtp", "[192.0.2.7]"},
        {"bob@[IPv6:2001:db8::1]", 0, RESOLVE_DEFAULT, "smtp", "[ipv6:2001:db8::1]"},
        {"bob@[not an ip]", 0, RESOLVE_DEFAULT, "smtp", "[not an ip]"},
    };

    run_cases(BASE "inet_interfaces = 127.0.0.1\n", c, sizeof(c) / sizeof(c[0]));
}

static void test_tempfail(void **state)
{
    /* A proxy: table whose lookupd socket does not exist cannot answer. */
    static const struct rcase c[] = {
        {"bob@example.com", -1, RESOLVE_DEFAULT, "", ""},
        {"bob@mx.example.org", -1, RESOLVE_LOCAL, "", ""},
    };
    char dir[] = "/tmp/test_resolve.XXXXXX", cf[512];

    assert_non_null(mkdtemp(dir));
    snprintf(cf, sizeof(cf), BASE "queue_directory = %s\n"
             "transport_maps = proxy:texthash:/nonexistent/transport\n", dir);
    run_cases(cf, c, sizeof(c) / sizeof(c[0]));
    snprintf(cf, sizeof(cf), BASE "queue_directory = %s\n"
             "relay_domains = proxy:texthash:/nonexistent/relay\n", dir);
    run_cases(cf, c, 1);
    rmdir(dir);
}

static void test_open_errors(void **state)
{
    static const char *const bad[] = {
        BASE "transport_maps = nosuchtype:/x\n",
        BASE "mydestination = nosuchtype:/x\n",
        BASE "transport_maps = texthash:/nonexistent/file\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct buf err = BUF_INIT;
        struct config *cfg = config_parse("main.cf", bad[i], strlen(bad[i]), &err);
        struct resolver *r;

        assert_non_null(cfg);
        r = resolver_open(cfg, &err);
        if (r != NULL)
            fail_msg("resolver_open succeeded for %s", bad[i]);
        assert_true(err.len > 0);
        config_free(cfg);
        buf_free(&err);
    }
}

static void test_long_values(void **state)
{
    struct buf cf = BUF_INIT, err = BUF_INIT, why = BUF_INIT;
    struct config *cfg;
    struct resolver *r;
    struct resolved out;

    buf_puts(&cf, BASE "transport_maps = inline:{long.test=");
    for (int i = 0; i < 100; i++)
        buf_puts(&cf, "x");
    buf_puts(&cf, ":h, hop.test=smtp:");
    for (int i = 0; i < 1100; i++)
        buf_puts(&cf, "h");
    buf_puts(&cf, "}\n");
    cfg = config_parse("main.cf", buf_str(&cf), cf.len, &err);
    assert_non_null(cfg);
    r = resolver_open(cfg, &err);
    assert_non_null(r);
    assert_int_equal(resolve_addr(r, "a@long.test", &out, &why), -1);
    assert_non_null(strstr(buf_str(&why), "too long"));
    buf_reset(&why);
    assert_int_equal(resolve_addr(r, "a@hop.test", &out, &why), -1);
    assert_non_null(strstr(buf_str(&why), "too long"));
    resolver_close(r);
    config_free(cfg);
    buf_free(&cf);
    buf_free(&err);
    buf_free(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_relayhost),
        cmocka_unit_test(test_transport_params),
        cmocka_unit_test(test_transport_maps_inline),
        cmocka_unit_test(test_transport_maps_texthash),
        cmocka_unit_test(test_domain_tables),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_tempfail),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_long_values),
    };

    log_init("test_resolve");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
