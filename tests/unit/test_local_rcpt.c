/*
 * test_local_rcpt - unit tests for local(8)'s recipient splitting: case
 * folding, extensions with one or several delimiters, addresses without
 * a domain, postmaster, owner-/-request with '-' and odd inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../local/local_rcpt.c"

/* Split and compare "local|user|ext|domain|delim" (ext "-" for none). */
static void check(const char *addr, const char *delims, int ors, const char *want)
{
    struct local_rcpt r;
    char got[512];

    local_rcpt_split(addr, delims, ors, &r);
    snprintf(got, sizeof(got), "%s|%s|%s|%s|%s", r.local, r.user,
             r.extension ? r.extension : "-", r.domain, r.delim);
    if (strcmp(got, want) != 0)
        fail_msg("split \"%s\" [%s]: got \"%s\", want \"%s\"", addr, delims, got, want);
    assert_string_equal(r.address, addr);
    local_rcpt_free(&r);
}

static void test_split(void **state)
{
    (void)state;
    check("Bob@Example.Test", "", 1, "bob|bob|-|Example.Test|");
    check("Bob+Lists@x", "+", 1, "bob+lists|bob|Lists|x|+");
    check("bob+a+b@x", "+", 1, "bob+a+b|bob|a+b|x|+");
    check("bob-x@x", "+-", 1, "bob-x|bob|x|x|-");
    check("bob+@x", "+", 1, "bob+|bob||x|+");
    check("+bob@x", "+", 1, "+bob|+bob|-|x|");
    check("bob", "+", 1, "bob|bob|-||");
    check("", "+", 1, "||-||");
    check("@x", "+", 1, "||-|x|");
    check("a@b@c", "+", 1, "a@b|a@b|-|c|");
    check("bob+x@y", NULL, 1, "bob+x|bob+x|-|y|");
}

static void test_special(void **state)
{
    (void)state;
    check("Postmaster@x", "+-", 1, "postmaster|postmaster|-|x|");
    check("MAILER-DAEMON@x", "-", 1, "mailer-daemon|mailer-daemon|-|x|");
    check("owner-staff@x", "-", 1, "owner-staff|owner-staff|-|x|");
    check("staff-request@x", "-", 1, "staff-request|staff-request|-|x|");
    check("owner-staff@x", "-", 0, "owner-staff|owner|staff|x|-");
    check("owner+x@x", "+", 1, "owner+x|owner|x|x|+");
}

/* An extension with '/' is dropped; the user stays without it (Postfix). */
static void test_illegal_extension(void **state)
{
    (void)state;
    check("bob+a/b@x", "+", 1, "bob+a/b|bob|-|x|");
    check("bob+../../etc@x", "+", 1, "bob+../../etc|bob|-|x|");
    check("bob+/@x", "+-", 1, "bob+/|bob|-|x|");
    check("bob+ok@x", "+", 1, "bob+ok|bob|ok|x|+");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_illegal_extension),
        cmocka_unit_test(test_special),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
