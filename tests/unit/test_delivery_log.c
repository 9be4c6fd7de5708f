/*
 * test_delivery_log - unit tests for the Postfix-shaped delivery log
 * line: delay rounding (two significant digits, 0.01 s resolution, whole
 * seconds from 10 s), the delays a/b/c/d split with and without an agent,
 * and orig_to from a (decoded) ORCPT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "delivery_log.h"
#include "log.h"

static void test_delay_format(void **state)
{
    static const struct { long sec, usec; const char *want; } c[] = {
        {0, 0, "0"}, {0, 4999, "0"}, {0, 5000, "0.01"}, {0, 90000, "0.09"},
        {0, 100000, "0.1"}, {0, 210000, "0.21"}, {0, 994999, "0.99"},
        {0, 995000, "1"}, {1, 0, "1"}, {1, 230000, "1.2"}, {1, 960000, "2"},
        {9, 440000, "9.4"}, {9, 960000, "10"}, {12, 400000, "12"}, {12, 500000, "13"},
        {86400, 0, "86400"}, {-5, 0, "0"},
    };
    struct timeval zero = {0, 0};

    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct buf b = BUF_INIT;
        struct timeval to = {c[i].sec, c[i].usec};

        delivery_log_delta(&b, &to, &zero);
        if (strcmp(buf_str(&b), c[i].want) != 0)
            fail_msg("%ld.%06ld: got %s, want %s", c[i].sec, c[i].usec, buf_str(&b),
                     c[i].want);
        buf_free(&b);
    }
}

static void test_line_with_agent(void **state)
{
    struct delivery_times t = {{1000, 0}, {1000, 100000}, {1000, 110000}, {1000, 200000}};
    struct timeval now = {1000, 310000};
    struct buf b = BUF_INIT;

    delivery_log_format(&b, "4XyZ0a1B2c", "bob@example.test", "rfc822;b+x@example.test",
                        "local", &t, &now, "2.0.0", "sent", "delivered to maildir");
    assert_string_equal(buf_str(&b),
                        "4XyZ0a1B2c: to=<bob@example.test>, orig_to=<b+x@example.test>, "
                        "relay=local, delay=0.31, delays=0.1/0.01/0.09/0.11, dsn=2.0.0, "
                        "status=sent (delivered to maildir)");
    buf_free(&b);
}

static void test_line_without_agent(void **state)
{
    struct delivery_times t = {{1000, 0}, {1002, 0}, {0, 0}, {0, 0}};
    struct timeval now = {1002, 500000};
    struct buf b = BUF_INIT;

    /* qmgr's own decisions; an ORCPT naming the same address is not shown. */
    delivery_log_format(&b, "ID", "a@x", "rfc822;A@X", "none", &t, &now, "4.3.0",
                        "deferred", "delivery temporarily suspended");
    assert_string_equal(buf_str(&b),
                        "ID: to=<a@x>, relay=none, delay=2.5, delays=2/0.5/0/0, dsn=4.3.0, "
                        "status=deferred (delivery temporarily suspended)");
    buf_free(&b);
}

static void test_line_agent_without_connection(void **state)
{
    struct delivery_times t = {{1000, 0}, {1000, 0}, {1001, 0}, {0, 0}};
    struct timeval now = {1003, 0};
    struct buf b = BUF_INIT;

    delivery_log_format(&b, "ID", "a@x", NULL, "virtual", &t, &now, "5.1.1", "bounced",
                        "unknown user");
    assert_string_equal(buf_str(&b),
                        "ID: to=<a@x>, relay=virtual, delay=3, delays=0/1/0/2, dsn=5.1.1, "
                        "status=bounced (unknown user)");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_format),
        cmocka_unit_test(test_line_with_agent),
        cmocka_unit_test(test_line_without_agent),
        cmocka_unit_test(test_line_agent_without_connection),
    };

    log_init("test_delivery_log");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
