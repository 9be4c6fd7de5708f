/*
 * test_local_expand - unit tests for local(8)'s forward_path and
 * luser_relay expansion: plain and braced names,
 * ${name?text} and ${name:text}, undefined attributes, filtering of
 * unsafe characters, and syntax errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../local/local_expand.c"

static const struct local_expand_vars with_ext = {
    .user = "bob", .home = "/home/bob", .shell = "/bin/sh",
    .recipient = "bob+lists@example.test", .local = "bob+lists",
    .extension = "lists", .domain = "example.test", .recipient_delimiter = "+",
};
static const struct local_expand_vars no_ext = {
    .user = "bob", .home = "/home/bob", .recipient = "bob@example.test",
    .local = "bob", .domain = "example.test",
};

/* Expand and compare result and flags. */
static void check(const char *pat, const struct local_expand_vars *v, const char *want,
                  int want_rc)
{
    struct buf out = BUF_INIT, why = BUF_INIT;
    int rc = local_expand(pat, v, &out, &why);

    if (rc != want_rc || strcmp(buf_str(&out), want) != 0)
        fail_msg("expand \"%s\": rc %d \"%s\" (%s), want rc %d \"%s\"", pat, rc,
                 buf_str(&out), buf_str(&why), want_rc, want);
    buf_free(&out);
    buf_free(&why);
}

/* Expansion must fail with an error containing want. */
static void check_fails(const char *pat, const char *want)
{
    struct buf out = BUF_INIT, why = BUF_INIT;

    if (local_expand(pat, &with_ext, &out, &why) != -1)
        fail_msg("expand \"%s\" succeeded: \"%s\"", pat, buf_str(&out));
    if (strstr(buf_str(&why), want) == NULL)
        fail_msg("expand \"%s\": \"%s\" lacks \"%s\"", pat, buf_str(&why), want);
    buf_free(&out);
    buf_free(&why);
}

static void test_forward_path(void **state)
{
    const char *fp1 = "$home/.forward${recipient_delimiter}${extension}";

    (void)state;
    check(fp1, &with_ext, "/home/bob/.forward+lists", 0);
    /* no extension: the element is undefined and forward_path skips it */
    check(fp1, &no_ext, "/home/bob/.forward", LOCAL_EXPAND_UNDEF);
    check("$home/.forward", &no_ext, "/home/bob/.forward", 0);
    check("$(home)/x $$5", &no_ext, "/home/bob/x $5", 0);
}

static void test_conditional(void **state)
{
    (void)state;
    check("${extension?+}${extension}", &with_ext, "+lists", 0);
    check("${extension?+}${extension:none}", &no_ext, "none", 0);
    check("${extension?+$extension}", &no_ext, "", 0);
    check("a${extension:${user}-x}b", &no_ext, "abob-xb", 0);
    check("${domain?{$user}}", &with_ext, "{bob}", 0);
    check("$user@${domain}", &with_ext, "bob@example.test", 0);
    check("luser+$local", &with_ext, "luser+bob+lists", 0);
}

static void test_filter(void **state)
{
    const struct local_expand_vars evil = {
        .user = "bob", .home = "/home/bob", .extension = "x;rm -rf `~`$(id)|y",
        .recipient_delimiter = "+",
    };

    (void)state;
    check("$home/.forward+$extension", &evil, "/home/bob/.forward+x_rm_-rf______id__y", 0);
}

static void test_errors(void **state)
{
    struct buf big = BUF_INIT;

    (void)state;
    check_fails("$nosuch", "unknown macro name: nosuch");
    check_fails("${nosuch}", "unknown macro name");
    check_fails("${home", "missing '}'");
    check_fails("$", "without a macro name");
    check_fails("$/x", "without a macro name");
    check_fails("${}", "empty macro name");
    check_fails("${?x}", "empty macro name");
    check_fails("${user?${user?${user?${user?${user?${user?${user?${user?${user?${user?"
                "${user?${user?x}}}}}}}}}}}}", "nested too deeply");
    for (int i = 0; i < 600; i++)
        buf_puts(&big, "$home");
    check_fails(buf_str(&big), "longer than");
    buf_free(&big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_path),
        cmocka_unit_test(test_conditional),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
