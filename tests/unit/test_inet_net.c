/*
 * test_inet_net - network parsing (brackets, prefixes, host bits, bad
 * input) and address matching, IPv4-mapped IPv6 included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "inet_net.h"

struct net_case {
    const char *net;
    const char *addr;
    int want;                   /* 1 match, 0 no match */
};

static const struct net_case match_cases[] = {
    {"127.0.0.0/8", "127.1.2.3", 1},
    {"127.0.0.0/8", "128.0.0.1", 0},
    {"[::1]/128", "::1", 1},
    {"::1/128", "::1", 1},
    {"[::1]", "::2", 0},
    {"[::1/128]", "::1", 1},
    {"192.0.2.1", "192.0.2.1", 1},
    {"[192.0.2.1]", "192.0.2.2", 0},
    {"0.0.0.0/0", "203.0.113.1", 1},
    {"0.0.0.0/0", "2001:db8::1", 0},
    {"::/0", "2001:db8::1", 1},
    {"::/0", "192.0.2.1", 0},
    {"2001:db8::/32", "2001:DB8:ffff::1", 1},
    {"2001:db8::/32", "2001:db9::1", 0},
    {"192.0.2.0/24", "::ffff:192.0.2.77", 1},
    {"192.0.2.0/24", "[192.0.2.77]", 1},
    {"2001:db8::/32", "[IPv6:2001:db8::1]", 1},
    {"10.0.0.0/31", "10.0.0.1", 1},
    {"10.0.0.0/31", "10.0.0.2", 0},
    {"2001:db8::/127", "2001:db8::1", 1},
};

static void test_match(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        struct inet_net net;
        struct inet_addr addr;
        struct buf err = BUF_INIT;

        if (inet_net_parse(match_cases[i].net, &net, &err) != 0)
            fail_msg("%s: %s", match_cases[i].net, buf_str(&err));
        assert_int_equal(inet_addr_parse(match_cases[i].addr, &addr), 0);
        if (inet_net_match(&net, &addr) != match_cases[i].want)
            fail_msg("%s vs %s: want %d", match_cases[i].net, match_cases[i].addr,
                     match_cases[i].want);
        buf_free(&err);
    }
}

static void test_bad(void **state)
{
    static const char *const bad[] = {
        "", "10.0.0.1/8", "10.0.0.0/33", "[::1]/129", "::1/", "10.0.0.0/-1", "10.0.0.0/ 8",
        "10.0.0.0/0008", "host.example", "fe80::1%eth0", "[::1", "[::1]x", "1.2.3",
        "256.1.1.1", "[]", "10.0.0.0/8/8",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct inet_net net;
        struct buf err = BUF_INIT;

        if (inet_net_parse(bad[i], &net, &err) == 0)
            fail_msg("\"%s\" parsed", bad[i]);
        assert_true(err.len > 0);
        buf_free(&err);
    }
}

static void test_host_bits_message(void **state)
{
    struct inet_net net;
    struct buf err = BUF_INIT;

    (void)state;
    assert_int_equal(inet_net_parse("10.1.2.3/8", &net, &err), -1);
    assert_non_null(strstr(buf_str(&err), "\"10.0.0.0/8\""));
    buf_free(&err);
}

static void test_addr(void **state)
{
    struct inet_addr a;
    char out[64];

    (void)state;
    assert_int_equal(inet_addr_parse("::ffff:1.2.3.4", &a), 0);
    assert_int_equal(a.family, AF_INET);
    assert_int_equal(inet_addr_parse("unknown", &a), -1);
    assert_int_equal(inet_addr_parse("", &a), -1);
    assert_int_equal(inet_addr_parse("[", &a), -1);
    assert_int_equal(inet_addr_normalize("::FFFF:1.2.3.4", out, sizeof(out)), 0);
    assert_string_equal(out, "1.2.3.4");
    assert_int_equal(inet_addr_normalize("2001:DB8:0:0::1", out, sizeof(out)), 0);
    assert_string_equal(out, "2001:db8::1");
    assert_int_equal(inet_addr_normalize("junk", out, sizeof(out)), -1);
    assert_string_equal(out, "junk");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_host_bits_message),
        cmocka_unit_test(test_addr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
