/*
 * test_ldap_escape - unit tests for lib/ldap_query.c: RFC 4515 filter
 * escaping, RFC 4514 DN escaping, ldap_table(5) '%' templates with
 * Postfix's rules for keys that cannot fill them, and domain lists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ldap_query.h"

struct esc_case {
    const char *in, *want;
};

static void test_escape_filter(void **state)
{
    static const struct esc_case cases[] = {
        {"", ""},
        {"alice@example.com", "alice@example.com"},
        {"*", "\\2a"},
        {"*)(uid=*", "\\2a\\29\\28uid=\\2a"},
        {"a\\b", "a\\5cb"},
        {"(|(mail=*))", "\\28|\\28mail=\\2a\\29\\29"},
        {"\\2a", "\\5c2a"},
        {"tab\there", "tab\\09here"},
        {"del\x7f", "del\\7f"},
        {"caf\xc3\xa9", "caf\\c3\\a9"},
        {"a=b&c|d!e~f<g>h", "a=b&c|d!e~f<g>h"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;

        assert_int_equal(ldap_escape_filter(&out, cases[i].in), 0);
        assert_string_equal(buf_str(&out), cases[i].want);
        buf_free(&out);
    }
}

static void test_escape_dn(void **state)
{
    static const struct esc_case cases[] = {
        {"", ""},
        {"alice", "alice"},
        {"x,uid=bob", "x\\,uid\\=bob"},
        {"a+cn=b", "a\\+cn\\=b"},
        {"\"q\"", "\\\"q\\\""},
        {"<a>;b\\", "\\<a\\>\\;b\\\\"},
        {"#hash", "\\#hash"},
        {"mid#hash", "mid#hash"},
        {" lead", "\\ lead"},
        {"trail ", "trail\\ "},
        {" ", "\\ "},
        {"in side", "in side"},
        {"nl\n", "nl\\0a"},
        {"*()", "*()"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf out = BUF_INIT;

        assert_int_equal(ldap_escape_dn(&out, cases[i].in), 0);
        assert_string_equal(buf_str(&out), cases[i].want);
        buf_free(&out);
    }
}

static void test_escape_limit(void **state)
{
    struct buf out;

    buf_init(&out, 8);
    buf_puts(&out, "ab");
    assert_int_equal(ldap_escape_filter(&out, "****"), -1);
    assert_string_equal(buf_str(&out), "ab");   /* unchanged on failure */
    assert_int_equal(ldap_escape_dn(&out, ",,,,,,"), -1);
    assert_string_equal(buf_str(&out), "ab");
    buf_free(&out);
}

struct check_case {
    const char *tmpl;
    int query;
    int want;                       /* 1 dynamic, 0 fixed, -1 error */
    unsigned flags;
    int nparts;
};

static void test_tmpl_check(void **state)
{
    static const struct check_case cases[] = {
        {"(mail=%s)", 1, 1, 0, 0},
        {"(mail=%S)", 1, 1, 0, 0},
        {"(objectClass=*)", 1, 0, 0, 0},
        {"100%%", 1, 0, 0, 0},
        {"(uid=%u)", 1, 1, LDAP_NEED_KEY_USER, 0},
        {"(uid=%U)", 1, 1, LDAP_NEED_KEY_USER, 0},
        {"(dom=%d)", 1, 1, LDAP_NEED_KEY_DOMAIN, 0},
        {"dc=%2,dc=%1", 1, 1, LDAP_NEED_KEY_DOMAIN, 2},
        {"dc=%9", 1, 1, LDAP_NEED_KEY_DOMAIN, 9},
        {"%u", 0, 1, LDAP_NEED_VALUE_USER, 0},
        {"%d", 0, 1, LDAP_NEED_VALUE_DOMAIN, 0},
        {"%D", 0, 1, LDAP_NEED_KEY_DOMAIN, 0},
        {"%U", 0, 1, LDAP_NEED_KEY_USER, 0},
        {"%3", 0, 1, LDAP_NEED_KEY_DOMAIN, 3},
        {"(mail=%x)", 1, -1, 0, 0},
        {"(mail=%0)", 1, -1, 0, 0},
        {"trailing %", 1, -1, 0, 0},
        {"%", 0, -1, 0, 0},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ldap_tmpl_needs needs = { 0, 0 };
        struct buf err = BUF_INIT;
        int rc = ldap_tmpl_check(cases[i].tmpl, cases[i].query, &needs, &err);

        assert_int_equal(rc, cases[i].want);
        if (rc >= 0) {
            assert_int_equal(needs.flags, cases[i].flags);
            assert_int_equal(needs.nparts, cases[i].nparts);
            assert_int_equal(err.len, 0);
        } else {
            assert_non_null(strstr(buf_str(&err), cases[i].tmpl));
        }
        buf_free(&err);
    }
}

struct expand_case {
    const char *tmpl;
    const char *value;
    const char *key;                /* NULL: a query template */
    int quote;                      /* 0 none, 1 filter, 2 DN */
    int want;
    const char *out;
};

static void test_expand(void **state)
{
    static const struct expand_case cases[] = {
        /* Query templates. */
        {"(mail=%s)", "alice@example.com", NULL, 1, 1, "(mail=alice@example.com)"},
        {"(uid=%u)", "alice@example.com", NULL, 1, 1, "(uid=alice)"},
        {"(uid=%u)", "alice", NULL, 1, 1, "(uid=alice)"},
        {"(uid=%u)", "@example.com", NULL, 1, 0, ""},
        {"(dom=%d)", "alice@example.com", NULL, 1, 1, "(dom=example.com)"},
        {"(dom=%d)", "alice", NULL, 1, 0, ""},
        {"(dom=%d)", "alice@", NULL, 1, 0, ""},
        {"(dom=%d)", "@example.com", NULL, 1, 1, "(dom=example.com)"},
        {"(&(u=%U)(d=%D)(s=%S))", "a@b.c", NULL, 1, 1, "(&(u=a)(d=b.c)(s=a@b.c))"},
        {"%1 %2 %3", "user@mail.example.com", NULL, 0, 1, "com example mail"},
        {"%4", "user@mail.example.com", NULL, 0, 0, ""},
        {"%1", "user", NULL, 0, 0, ""},
        {"%2.%1", "user@a..com", NULL, 0, 0, ""},
        {"%1", "user@a..com", NULL, 0, 1, "com"},
        {"%1", "user@com.", NULL, 0, 0, ""},
        {"%2", "user@.com", NULL, 0, 0, ""},
        {"%1", "a@b@example.com", NULL, 0, 1, "com"},
        {"(uid=%u)", "a@b@example.com", NULL, 1, 1, "(uid=a@b)"},
        {"100%% (x=%s)", "k", NULL, 1, 1, "100% (x=k)"},
        /* Escaping of every substituted part. */
        {"(mail=%s)", "*)(uid=*", NULL, 1, 1, "(mail=\\2a\\29\\28uid=\\2a)"},
        {"(uid=%u)", "*)(uid=*@x", NULL, 1, 1, "(uid=\\2a\\29\\28uid=\\2a)"},
        {"(d=%d)", "a@*)(x=*", NULL, 1, 1, "(d=\\2a\\29\\28x=\\2a)"},
        {"(d=%1)", "a@x.*)", NULL, 1, 1, "(d=\\2a\\29)"},
        {"uid=%u,ou=people", "x,uid=bob@example.com", NULL, 2, 1,
         "uid=x\\,uid\\=bob,ou=people"},
        {"dc=%2,dc=%1", "a@ex+am.com", NULL, 2, 1, "dc=ex\\+am,dc=com"},
        /* Result templates: lower case is the value, upper case the key. */
        {"%s", "bob@mail.example.com", "bob@example.com", 0, 1, "bob@mail.example.com"},
        {"smtp:[%d]", "bob@mail.example.com", "bob@example.com", 0, 1, "smtp:[mail.example.com]"},
        {"smtp:[%d]", "bob", "bob@example.com", 0, 0, ""},
        {"%u", "bob@x", "k", 0, 1, "bob"},
        {"%u", "bob", "k", 0, 1, "bob"},
        {"%u", "@x", "k", 0, 0, ""},
        {"%u+%U@%D", "a@mail.example.com", "b@example.com", 0, 1, "a+b@example.com"},
        {"%D", "v", "nodomain", 0, 0, ""},
        {"%S|%s", "v", "k", 0, 1, "k|v"},
        {"%2", "v", "k@example.com", 0, 1, "example"},
        {"%3", "v", "k@example.com", 0, 0, ""},
        {"*)(", "v", "k", 0, 1, "*)("},            /* results are not escaped */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct expand_case *c = &cases[i];
        ldap_quote_fn q = c->quote == 1 ? ldap_escape_filter
                          : c->quote == 2 ? ldap_escape_dn : NULL;
        struct buf out = BUF_INIT;
        int rc = ldap_expand(NULL, c->tmpl, c->value, c->key, &out, q);

        if (rc != c->want || strcmp(buf_str(&out), c->out) != 0)
            fail_msg("case %zu: \"%s\" with \"%s\": got %d \"%s\", want %d \"%s\"", i,
                     c->tmpl, c->value, rc, buf_str(&out), c->want, c->out);
        buf_free(&out);
    }
}

/* The needs of all templates apply together, as in Postfix. */
static void test_needs_combined(void **state)
{
    struct ldap_tmpl_needs needs = { 0, 0 };
    struct buf err = BUF_INIT, out = BUF_INIT;

    assert_int_equal(ldap_tmpl_check("dc=%2,dc=%1", 1, &needs, &err), 1);
    assert_int_equal(ldap_tmpl_check("(uid=%u)", 1, &needs, &err), 1);
    assert_int_equal(ldap_key_usable(&needs, "a@example.com"), 1);
    assert_int_equal(ldap_key_usable(&needs, "a@com"), 0);
    assert_int_equal(ldap_key_usable(&needs, "a"), 0);
    assert_int_equal(ldap_key_usable(&needs, "@example.com"), 0);
    /* The filter alone would take "a@com", the table does not. */
    assert_int_equal(ldap_expand(&needs, "(uid=%u)", "a@com", NULL, &out, ldap_escape_filter), 0);
    assert_int_equal(out.len, 0);

    struct ldap_tmpl_needs none = { 0, 0 };
    assert_int_equal(ldap_key_usable(&none, ""), 1);
    assert_int_equal(ldap_key_usable(&none, "anything"), 1);
    buf_free(&err);
    buf_free(&out);
}

static void test_expand_appends(void **state)
{
    struct buf out = BUF_INIT;

    buf_puts(&out, "x,");
    assert_int_equal(ldap_expand(NULL, "%s", "v", "k", &out, NULL), 1);
    assert_string_equal(buf_str(&out), "x,v");
    assert_int_equal(ldap_expand(NULL, "%d", "v", "k", &out, NULL), 0);
    assert_string_equal(buf_str(&out), "x,v");
    buf_free(&out);

    buf_init(&out, 10);
    assert_int_equal(ldap_expand(NULL, "(mail=%s)", "********", NULL, &out,
                                 ldap_escape_filter), -1);
    assert_int_equal(out.len, 0);
    buf_free(&out);
}

static int fake_table(void *arg, size_t index, const char *domain)
{
    int *calls = arg;

    (*calls)++;
    if (strcmp(domain, "fail.example") == 0)
        return -1;
    return strcmp(domain, "table.example") == 0;
}

static void test_domain_match(void **state)
{
    char *list[] = { "example.org", "!bad.example.com", "Example.COM", "hash:/x",
                     "!!twice.example", NULL };
    int calls = 0;

    assert_int_equal(ldap_domain_match(list, "u@example.org", fake_table, &calls), 1);
    assert_int_equal(ldap_domain_match(list, "u@EXAMPLE.org", fake_table, &calls), 1);
    assert_int_equal(ldap_domain_match(list, "u@example.com", fake_table, &calls), 1);
    assert_int_equal(calls, 0);
    assert_int_equal(ldap_domain_match(list, "u@bad.example.com", fake_table, &calls), 0);
    assert_int_equal(ldap_domain_match(list, "u@sub.example.org", fake_table, &calls), 0);
    assert_int_equal(ldap_domain_match(list, "u@table.example", fake_table, &calls), 1);
    assert_int_equal(ldap_domain_match(list, "u@fail.example", fake_table, &calls), -1);
    assert_int_equal(ldap_domain_match(list, "u@twice.example", fake_table, &calls), 1);
    /* Only user@domain with a local part qualifies. */
    assert_int_equal(ldap_domain_match(list, "example.org", fake_table, &calls), 0);
    assert_int_equal(ldap_domain_match(list, "@example.org", fake_table, &calls), 0);
    assert_int_equal(ldap_domain_match(list, "u@", fake_table, &calls), 0);
    assert_int_equal(ldap_domain_match(list, "", fake_table, &calls), 0);
    /* A table item with nobody to ask: cannot tell. */
    assert_int_equal(ldap_domain_match(list, "u@other.example", NULL, NULL), -1);
    char *empty[] = { NULL };
    assert_int_equal(ldap_domain_match(empty, "u@example.org", NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_filter),
        cmocka_unit_test(test_escape_dn),
        cmocka_unit_test(test_escape_limit),
        cmocka_unit_test(test_tmpl_check),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_needs_combined),
        cmocka_unit_test(test_expand_appends),
        cmocka_unit_test(test_domain_match),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
