/*
 * test_buf - unit tests for lib/buf.c: growth, the hard limit (a failed
 * append changes nothing), NUL termination, and the helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void test_empty(void **state)
{
    struct buf b = BUF_INIT;
    char *s;

    assert_string_equal(buf_str(&b), "");
    assert_int_equal(b.len, 0);
    buf_reset(&b);                          /* never allocated: no crash */
    buf_truncate(&b, 5);
    s = buf_steal(&b);
    assert_string_equal(s, "");
    free(s);
    buf_free(&b);
    buf_free(&b);                           /* twice is harmless */
}

static void test_append_and_grow(void **state)
{
    struct buf b;

    buf_init(&b, 0);
    assert_int_equal(b.limit, BUF_DEFAULT_LIMIT);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_putc(&b, 'a' + i % 26), 0);
    assert_int_equal(b.len, 10000);
    assert_int_equal(strlen(buf_str(&b)), 10000);
    assert_int_equal(buf_str(&b)[26], 'a');
    assert_int_equal(buf_append(&b, "xyz", 0), 0);
    assert_int_equal(b.len, 10000);
    assert_int_equal(buf_append(&b, "a\0b", 3), 0);  /* binary content */
    assert_int_equal(b.len, 10003);
    assert_int_equal(b.data[10001], 0);
    assert_int_equal(b.data[10003], 0);
    buf_free(&b);
}

static void test_limit(void **state)
{
    struct buf b;

    buf_init(&b, 8);
    assert_int_equal(buf_puts(&b, "12345678"), 0);
    assert_int_equal(buf_putc(&b, 'x'), -1);
    assert_int_equal(buf_puts(&b, "x"), -1);
    assert_int_equal(buf_printf(&b, "%d", 1), -1);
    assert_string_equal(buf_str(&b), "12345678");
    buf_reset(&b);
    assert_int_equal(buf_puts(&b, "1234"), 0);
    assert_int_equal(buf_puts(&b, "56789"), -1);    /* all or nothing */
    assert_string_equal(buf_str(&b), "1234");
    assert_int_equal(buf_append(&b, "x", (size_t)-1), -1);   /* no overflow */
    assert_int_equal(buf_set(&b, "abcdefgh"), 0);
    assert_int_equal(buf_set(&b, "abcdefghi"), -1);
    assert_string_equal(buf_str(&b), "");           /* set = reset + puts */
    buf_free(&b);
}

static void test_printf(void **state)
{
    struct buf b = BUF_INIT;
    char big[5000];

    assert_int_equal(buf_printf(&b, "%s=%d", "a", 42), 0);
    assert_int_equal(buf_printf(&b, ",%s", ""), 0);
    assert_string_equal(buf_str(&b), "a=42,");
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(buf_printf(&b, "%s", big), 0);
    assert_int_equal(b.len, 5 + sizeof(big) - 1);
    assert_int_equal(strlen(buf_str(&b)), b.len);
    buf_free(&b);
}

static void test_truncate_set_steal(void **state)
{
    struct buf b = BUF_INIT;
    char *s;

    buf_puts(&b, "hello world");
    buf_truncate(&b, 5);
    assert_string_equal(buf_str(&b), "hello");
    buf_truncate(&b, 50);                           /* longer: no change */
    assert_string_equal(buf_str(&b), "hello");
    assert_int_equal(buf_set(&b, "bye"), 0);
    assert_string_equal(buf_str(&b), "bye");
    s = buf_steal(&b);
    assert_string_equal(s, "bye");
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_puts(&b, "again"), 0);     /* usable after steal */
    assert_string_equal(buf_str(&b), "again");
    free(s);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_append_and_grow),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_truncate_set_steal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
