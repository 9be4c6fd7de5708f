/*
 * test_smtp_nexthop - unit tests for lib/smtp_nexthop.c: the SMTP and
 * LMTP next-hop forms, ports, brackets that turn MX lookup off, and bad
 * syntax that must never reach a lookup.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "smtp_nexthop.h"

struct hop_case {
    const char *text;
    int lmtp;
    int ok;
    const char *host;
    unsigned port;
    int use_mx;
    int is_unix;
};

static void test_cases(void **state)
{
    static const struct hop_case cases[] = {
        {"example.org", 0, 1, "example.org", 25, 1, 0},
        {"example.org:2525", 0, 1, "example.org", 2525, 1, 0},
        {"[mail.example.org]", 0, 1, "mail.example.org", 25, 0, 0},
        {"[192.0.2.1]:587", 0, 1, "192.0.2.1", 587, 0, 0},
        {"[ipv6:2001:db8::1]:26", 0, 1, "2001:db8::1", 26, 0, 0},
        {"[2001:db8::1]", 0, 1, "2001:db8::1", 25, 0, 0},
        {"example.org:smtp", 0, 1, "example.org", 25, 1, 0},
        {"inet:example.org", 0, 1, "example.org", 25, 1, 0},
        {"under_score.example", 0, 1, "under_score.example", 25, 1, 0},
        /* LMTP */
        {"unix:/var/run/dovecot/lmtp", 1, 1, "/var/run/dovecot/lmtp", 0, 0, 1},
        {"unix:private/lmtp", 1, 1, "private/lmtp", 0, 0, 1},
        {"inet:127.0.0.1", 1, 1, "127.0.0.1", 24, 0, 0},
        {"inet:lmtp.example:2003", 1, 1, "lmtp.example", 2003, 0, 0},
        {"lmtp.example", 1, 1, "lmtp.example", 24, 0, 0},
        {"[127.0.0.1]:lmtp", 1, 1, "127.0.0.1", 24, 0, 0},
        /* bad */
        {"", 0, 0, NULL, 0, 0, 0},
        {"[]", 0, 0, NULL, 0, 0, 0},
        {"[example.org", 0, 0, NULL, 0, 0, 0},
        {"[example.org]x", 0, 0, NULL, 0, 0, 0},
        {"[example.org]:", 0, 0, NULL, 0, 0, 0},
        {"example.org:0", 0, 0, NULL, 0, 0, 0},
        {"example.org:65536", 0, 0, NULL, 0, 0, 0},
        {"example.org:99999999999999999999", 0, 0, NULL, 0, 0, 0},
        {"example.org:-1", 0, 0, NULL, 0, 0, 0},
        {"example.org:25x", 0, 0, NULL, 0, 0, 0},
        {"example.org:pop3", 0, 0, NULL, 0, 0, 0},
        {"exa mple.org", 0, 0, NULL, 0, 0, 0},
        {"example.org/x", 0, 0, NULL, 0, 0, 0},
        {"2001:db8::1", 0, 0, NULL, 0, 0, 0},       /* IPv6 needs brackets */
        {"ex\xc3\xa4mple.org", 0, 0, NULL, 0, 0, 0},
        {"unix:/path", 0, 0, NULL, 0, 0, 0},        /* not for SMTP */
        {"unix:", 1, 0, NULL, 0, 0, 0},
        {"inet:", 1, 0, NULL, 0, 0, 0},
    };
    struct smtp_nexthop hop;
    struct buf why = BUF_INIT;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct hop_case *c = &cases[i];
        int rc = smtp_nexthop_parse(c->text, c->lmtp, &hop, &why);

        if (!c->ok) {
            if (rc != -1)
                fail_msg("accepted: \"%s\"", c->text);
            assert_true(why.len > 0);
            continue;
        }
        if (rc != 0)
            fail_msg("refused: \"%s\": %s", c->text, buf_str(&why));
        assert_string_equal(c->is_unix ? hop.path : hop.host, c->host);
        assert_int_equal(hop.is_unix, c->is_unix);
        if (!c->is_unix)
            assert_int_equal(hop.port, c->port);
        assert_int_equal(hop.use_mx, c->use_mx);
    }
    buf_free(&why);
}

static void test_too_long(void **state)
{
    static char big[3000];
    struct smtp_nexthop hop;
    struct buf why = BUF_INIT;

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    assert_int_equal(smtp_nexthop_parse(big, 0, &hop, &why), -1);
    memcpy(big, "unix:/", 6);
    assert_int_equal(smtp_nexthop_parse(big, 1, &hop, &why), -1);
    memset(big, 'a', 1026);
    big[1026] = 0;
    assert_int_equal(smtp_nexthop_parse(big, 0, &hop, &why), -1);
    big[1025] = 0;
    assert_int_equal(smtp_nexthop_parse(big, 0, &hop, &why), 0);
    buf_free(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_too_long),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
