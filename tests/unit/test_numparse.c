/*
 * test_numparse - unit tests for lib/numparse.c: every parser accepts the
 * whole string or nothing, never overflows, and leaves *out alone on error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "numparse.h"

struct long_case {
    const char *s;
    long min, max;
    int ok;
    long want;
};

static void test_parse_long(void **state)
{
    static const struct long_case cases[] = {
        {"0", 0, 10, 1, 0},
        {"10", 0, 10, 1, 10},
        {"11", 0, 10, 0, 0},
        {"-1", 0, 10, 0, 0},
        {"-5", -10, 10, 1, -5},
        {"+5", -10, 10, 1, 5},
        {"007", 0, 10, 1, 7},
        {"9223372036854775807", LONG_MIN, LONG_MAX, 1, LONG_MAX},
        {"9223372036854775808", LONG_MIN, LONG_MAX, 0, 0},
        {"-9223372036854775808", LONG_MIN, LONG_MAX, 1, LONG_MIN},
        {"", 0, 10, 0, 0},
        {" 1", 0, 10, 0, 0},
        {"1 ", 0, 10, 0, 0},
        {"1x", 0, 10, 0, 0},
        {"0x10", 0, 100, 0, 0},
        {"-", 0, 10, 0, 0},
        {"+", 0, 10, 0, 0},
        {"--1", -10, 10, 0, 0},
        {"1.5", 0, 10, 0, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long v = 12345;
        int r = parse_long(cases[i].s, cases[i].min, cases[i].max, &v);

        if (cases[i].ok) {
            if (r != 0 || v != cases[i].want)
                fail_msg("parse_long(\"%s\") = %d, %ld", cases[i].s, r, v);
        } else if (r != -1 || v != 12345) {
            fail_msg("parse_long(\"%s\") accepted or touched *out", cases[i].s);
        }
    }
    assert_int_equal(parse_long(NULL, 0, 1, &(long){0}), -1);
}

static void test_parse_u64(void **state)
{
    uint64_t v = 7;

    assert_int_equal(parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    v = 7;
    assert_int_equal(parse_u64("18446744073709551616", UINT64_MAX, &v), -1);
    assert_int_equal(parse_u64("11", 10, &v), -1);
    assert_int_equal(parse_u64("-1", 10, &v), -1);
    assert_int_equal(parse_u64("+1", 10, &v), -1);
    assert_int_equal(parse_u64("", 10, &v), -1);
    assert_int_equal(parse_u64("1 ", 10, &v), -1);
    assert_true(v == 7);
    assert_int_equal(parse_u64("10", 10, &v), 0);
    assert_true(v == 10);
}

static void test_parse_bool(void **state)
{
    static const struct { const char *s; int r, v; } cases[] = {
        {"yes", 0, 1}, {"YES", 0, 1}, {"Yes", 0, 1}, {"no", 0, 0}, {"NO", 0, 0},
        {"y", -1, 9}, {"true", -1, 9}, {"1", -1, 9}, {"", -1, 9}, {" yes", -1, 9},
        {"yes ", -1, 9}, {"maybe", -1, 9},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int v = 9;

        if (parse_bool(cases[i].s, &v) != cases[i].r || v != cases[i].v)
            fail_msg("parse_bool(\"%s\")", cases[i].s);
    }
    assert_int_equal(parse_bool(NULL, &(int){0}), -1);
}

static void test_parse_time(void **state)
{
    static const struct { const char *s; char unit; int ok; long want; } cases[] = {
        {"0", 's', 1, 0},
        {"10", 's', 1, 10},
        {"10", 'm', 1, 600},
        {"10", 'h', 1, 36000},
        {"2", 'd', 1, 172800},
        {"1", 'w', 1, 604800},
        {"10s", 'd', 1, 10},
        {"10m", 's', 1, 600},
        {"3h", 's', 1, 10800},
        {"5d", 's', 1, 432000},
        {"1W", 's', 1, 604800},
        {"10x", 's', 0, 0},
        {"s", 's', 0, 0},
        {"", 's', 0, 0},
        {"-1s", 's', 0, 0},
        {"+1s", 's', 0, 0},
        {"1 s", 's', 0, 0},
        {" 1s", 's', 0, 0},
        {"1.5h", 's', 0, 0},
        {"10", 'x', 0, 0},
        {"99999999999999999999w", 's', 0, 0},
        {"15250284452472w", 's', 0, 0},             /* > LONG_MAX seconds */
        {"9223372036854775807", 's', 1, LONG_MAX},
        {"9223372036854775807m", 's', 0, 0},
        {"1234567890123456789012345678901234567890", 's', 0, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long v = -42;
        int r = parse_time(cases[i].s, cases[i].unit, &v);

        if (cases[i].ok ? (r != 0 || v != cases[i].want) : (r != -1 || v != -42))
            fail_msg("parse_time(\"%s\", '%c') = %d, %ld", cases[i].s, cases[i].unit, r, v);
    }
}

static void test_parse_size(void **state)
{
    static const struct { const char *s; int ok; uint64_t want; } cases[] = {
        {"0", 1, 0},
        {"10240000", 1, 10240000},
        {"1k", 1, 1024},
        {"1K", 1, 1024},
        {"10m", 1, 10485760},
        {"2g", 1, 2147483648ULL},
        {"18446744073709551615", 1, UINT64_MAX},
        {"18446744073709551616", 0, 0},
        {"17179869184g", 0, 0},                     /* 2^34 GiB overflows */
        {"k", 0, 0},
        {"", 0, 0},
        {"10t", 0, 0},
        {"10kb", 0, 0},
        {"-1", 0, 0},
        {"1 k", 0, 0},
        {" 1", 0, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 42;
        int r = parse_size(cases[i].s, &v);

        if (cases[i].ok ? (r != 0 || v != cases[i].want) : (r != -1 || v != 42))
            fail_msg("parse_size(\"%s\") = %d", cases[i].s, r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_long),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
