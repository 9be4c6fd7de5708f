/*
 * test_local_alias - unit tests for local(8)'s parser of alias values and
 * .forward files: lists, quoting, commands, files, :include:, \user,
 * comments, angle brackets, and the nasty cases (unterminated quotes,
 * too many items, NUL bytes, empty targets).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../local/local_alias.c"

/* Parse text and compare with "type=value|type=value|..." */
static void check(const char *text, const char *want)
{
    struct local_dest_list l = { 0 };
    struct buf why = BUF_INIT, got = BUF_INIT;

    if (local_alias_parse(text, &l, &why) < 0)
        fail_msg("parse \"%s\": %s", text, buf_str(&why));
    for (size_t i = 0; i < l.n; i++)
        buf_printf(&got, "%s%s=%s", i ? "|" : "", local_dest_type_name(l.v[i].type),
                   l.v[i].value);
    if (strcmp(buf_str(&got), want) != 0)
        fail_msg("parse \"%s\": got \"%s\", want \"%s\"", text, buf_str(&got), want);
    local_dest_list_free(&l);
    buf_free(&why);
    buf_free(&got);
}

/* Parsing must fail with an error containing want. */
static void check_fails(const char *text, const char *want)
{
    struct local_dest_list l = { 0 };
    struct buf why = BUF_INIT;

    if (local_alias_parse(text, &l, &why) == 0)
        fail_msg("parse \"%s\" succeeded", text);
    if (strstr(buf_str(&why), want) == NULL)
        fail_msg("parse \"%s\": \"%s\" lacks \"%s\"", text, buf_str(&why), want);
    local_dest_list_free(&l);
    buf_free(&why);
}

static void test_lists(void **state)
{
    (void)state;
    check("bob", "address=bob");
    check("bob, alice@example.org ,carol", "address=bob|address=alice@example.org|address=carol");
    check(" , bob,,", "address=bob");
    check("", "");
    check("Bob Smith <bob@x.org>, <carol>", "address=bob@x.org|address=carol");
    check("bob (the boss), x", "address=bob|address=x");
    check("\"Smith, Bob\" <bob@x.org>", "address=bob@x.org");
    check("\"odd user\"@x.org", "address=\"odd user\"@x.org");
}

static void test_special(void **state)
{
    (void)state;
    check("|/usr/bin/vacation bob", "command=/usr/bin/vacation bob");
    check("\"|/bin/cat > /tmp/x, y\"", "command=/bin/cat > /tmp/x, y");
    check("\"| /bin/echo \\\"hi\\\"\"", "command=/bin/echo \"hi\"");
    check("/var/log/mail.copy", "file=/var/log/mail.copy");
    check("/home/bob/Maildir/", "file=/home/bob/Maildir/");
    check(":include:/etc/postern/staff", "include=/etc/postern/staff");
    check(":INCLUDE: /etc/list", "include=/etc/list");
    check("\\bob, |cmd, /f, a", "mailbox=bob|command=cmd|file=/f|address=a");
}

static void test_bad(void **state)
{
    struct buf big = BUF_INIT;

    (void)state;
    check_fails("\"|cmd", "unterminated quoted");
    check_fails("a, <b", "unterminated <...>");
    check_fails("a (b", "unterminated (...)");
    check_fails("|", "empty command");
    check_fails("\"|  \"", "empty command");
    check_fails(":include:", "absolute path");
    check_fails(":include:relative", "absolute path");
    check_fails("\\", "empty user");
    for (int i = 0; i <= LOCAL_ALIAS_MAX_ITEMS; i++)
        buf_printf(&big, "u%d,", i);
    check_fails(buf_str(&big), "more than");
    buf_free(&big);
}

static void test_file(void **state)
{
    static const char text[] = "# forward\n\\bob\n  # indented comment\n"
        "alice@x.org, \"|/usr/bin/procmail\"\n\n/tmp/copy";
    static const char nul[] = "bob\0alice";
    struct local_dest_list l = { 0 };
    struct buf why = BUF_INIT;

    (void)state;
    assert_int_equal(local_alias_parse_file(text, strlen(text), &l, &why), 0);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.v[0].type, LOCAL_DEST_MAILBOX);
    assert_string_equal(l.v[0].value, "bob");
    assert_string_equal(l.v[1].value, "alice@x.org");
    assert_int_equal(l.v[2].type, LOCAL_DEST_COMMAND);
    assert_string_equal(l.v[2].value, "/usr/bin/procmail");
    assert_int_equal(l.v[3].type, LOCAL_DEST_FILE);
    local_dest_list_free(&l);
    assert_int_equal(local_alias_parse_file(nul, sizeof(nul) - 1, &l, &why), -1);
    assert_non_null(strstr(buf_str(&why), "NUL"));
    assert_int_equal(l.n, 0);
    buf_free(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_special),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
