/*
 * test_ldap_cf - unit tests for lib/ldap_cf.c: every ldap_table(5) setting
 * postern reads, defaults, bad values, unknown names, and errors that name
 * the file and the line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ldap_cf.h"

static int parse(const char *text, struct ldap_cf *cf, struct buf *err)
{
    buf_reset(err);
    return ldap_cf_parse("test.cf", text, strlen(text), cf, err);
}

static void test_defaults(void **state)
{
    struct ldap_cf cf;
    struct buf err = BUF_INIT;

    assert_int_equal(parse("", &cf, &err), 0);
    assert_string_equal(cf.server_urls[0], "ldap://localhost:389");
    assert_null(cf.server_urls[1]);
    assert_int_equal(cf.server_port, 389);
    assert_string_equal(cf.search_base, "");
    assert_int_equal(cf.scope, LDAP_CF_SCOPE_SUB);
    assert_string_equal(cf.query_filter, "(mailacceptinggeneralid=%s)");
    assert_string_equal(cf.result_format, "%s");
    assert_string_equal(cf.result_attributes[0], "maildrop");
    assert_null(cf.result_attributes[1]);
    assert_null(cf.special_result_attributes[0]);
    assert_null(cf.leaf_result_attributes[0]);
    assert_null(cf.terminal_result_attributes[0]);
    assert_null(cf.domains[0]);
    assert_int_equal(cf.bind, 1);
    assert_string_equal(cf.bind_dn, "");
    assert_string_equal(cf.bind_pw, "");
    assert_int_equal(cf.start_tls, 0);
    assert_int_equal(cf.tls_require_cert, 0);
    assert_string_equal(cf.tls_ca_cert_file, "");
    assert_int_equal(cf.version, 3);
    assert_int_equal(cf.timeout, 10);
    assert_int_equal(cf.size_limit, 0);
    assert_int_equal(cf.expansion_limit, 0);
    assert_int_equal(cf.recursion_limit, 1000);
    assert_int_equal(cf.dereference, 0);
    assert_int_equal(cf.chase_referrals, 0);
    assert_int_equal(cf.needs.flags, 0);
    assert_int_equal(cf.dynamic_base, 0);
    assert_int_equal(cf.fixed_filter, 0);
    assert_string_equal(cf.file, "test.cf");
    ldap_cf_free(&cf);
    buf_free(&err);
}

static void test_every_setting(void **state)
{
    static const char text[] =
        "# a full ldap.cf\n"
        "server_host = ldap://ldap1.example.com:1389, ldaps://ldap2.example.com\n"
        "    ldapi://%2Frun%2Fslapd%2Fldapi  ldap3.example.com\n"
        "\tldap4.example.com:10389\n"
        "server_port = 3389\n"
        "search_base = ou=%1, dc=example, dc=com\n"
        "scope = ONE\n"
        "query_filter = (&(uid=%u)(associatedDomain=%d))\n"
        "result_format = smtp:[%s]\n"
        "result_attribute = mailbox, maildrop\n"
        "special_result_attribute = member\n"
        "leaf_result_attribute = mail\n"
        "terminal_result_attribute = maildrop2\n"
        "domain = example.com, !bad.example.com hash:/etc/postern/domains\n"
        "bind = yes\n"
        "bind_dn = uid=postern, dc=example, dc=com\n"
        "bind_pw = $ecret # not a comment\n"
        "start_tls = yes\n"
        "tls_ca_cert_file = /etc/ssl/ca.pem\n"
        "tls_ca_cert_dir = /etc/ssl/certs\n"
        "tls_cert = /etc/ssl/client.pem\n"
        "tls_key = /etc/ssl/client.key\n"
        "tls_cipher_suite = HIGH\n"
        "tls_random_file = /dev/urandom\n"
        "tls_require_cert = yes\n"
        "version = 3\n"
        "timeout = 1m\n"
        "expansion_limit = 5\n"
        "recursion_limit = 3\n"
        "dereference = 3\n"
        "chase_referrals = yes\n"
        "debuglevel = 0\n";
    struct ldap_cf cf;
    struct buf err = BUF_INIT;

    assert_int_equal(parse(text, &cf, &err), 0);
    assert_string_equal(buf_str(&err), "");
    assert_string_equal(cf.server_urls[0], "ldap://ldap1.example.com:1389");
    assert_string_equal(cf.server_urls[1], "ldaps://ldap2.example.com");
    assert_string_equal(cf.server_urls[2], "ldapi://%2Frun%2Fslapd%2Fldapi");
    assert_string_equal(cf.server_urls[3], "ldap://ldap3.example.com:3389");
    assert_string_equal(cf.server_urls[4], "ldap://ldap4.example.com:10389");
    assert_null(cf.server_urls[5]);
    assert_int_equal(cf.server_port, 3389);
    assert_string_equal(cf.search_base, "ou=%1, dc=example, dc=com");
    assert_int_equal(cf.dynamic_base, 1);
    assert_int_equal(cf.scope, LDAP_CF_SCOPE_ONE);
    assert_string_equal(cf.query_filter, "(&(uid=%u)(associatedDomain=%d))");
    assert_int_equal(cf.needs.flags, LDAP_NEED_KEY_USER | LDAP_NEED_KEY_DOMAIN);
    assert_int_equal(cf.needs.nparts, 1);
    assert_string_equal(cf.result_format, "smtp:[%s]");
    assert_string_equal(cf.result_attributes[0], "mailbox");
    assert_string_equal(cf.result_attributes[1], "maildrop");
    assert_null(cf.result_attributes[2]);
    assert_string_equal(cf.special_result_attributes[0], "member");
    assert_string_equal(cf.leaf_result_attributes[0], "mail");
    assert_string_equal(cf.terminal_result_attributes[0], "maildrop2");
    assert_string_equal(cf.domains[0], "example.com");
    assert_string_equal(cf.domains[1], "!bad.example.com");
    assert_string_equal(cf.domains[2], "hash:/etc/postern/domains");
    assert_null(cf.domains[3]);
    assert_int_equal(cf.bind, 1);
    assert_string_equal(cf.bind_dn, "uid=postern, dc=example, dc=com");
    assert_string_equal(cf.bind_pw, "$ecret # not a comment");     /* literal */
    assert_int_equal(cf.start_tls, 1);
    assert_string_equal(cf.tls_ca_cert_file, "/etc/ssl/ca.pem");
    assert_string_equal(cf.tls_ca_cert_dir, "/etc/ssl/certs");
    assert_string_equal(cf.tls_cert, "/etc/ssl/client.pem");
    assert_string_equal(cf.tls_key, "/etc/ssl/client.key");
    assert_string_equal(cf.tls_cipher_suite, "HIGH");
    assert_string_equal(cf.tls_random_file, "/dev/urandom");
    assert_int_equal(cf.tls_require_cert, 1);
    assert_int_equal(cf.version, 3);
    assert_int_equal(cf.timeout, 60);
    assert_int_equal(cf.expansion_limit, 5);
    assert_int_equal(cf.size_limit, 5);       /* defaults to expansion_limit */
    assert_int_equal(cf.recursion_limit, 3);
    assert_int_equal(cf.dereference, 3);
    assert_int_equal(cf.chase_referrals, 1);
    ldap_cf_free(&cf);
    buf_free(&err);
}

static void test_small_things(void **state)
{
    struct ldap_cf cf;
    struct buf err = BUF_INIT;

    /* Last setting wins; blank and comment lines inside a continuation. */
    assert_int_equal(parse("scope = base\nscope = sub\n", &cf, &err), 0);
    assert_int_equal(cf.scope, LDAP_CF_SCOPE_SUB);
    ldap_cf_free(&cf);
    assert_int_equal(parse("result_attribute = a,\n\n# c\n  b\r\n", &cf, &err), 0);
    assert_string_equal(cf.result_attributes[0], "a");
    assert_string_equal(cf.result_attributes[1], "b");
    ldap_cf_free(&cf);
    /* result_filter is the old name of result_format... */
    assert_int_equal(parse("result_filter = x%s\n", &cf, &err), 0);
    assert_string_equal(cf.result_format, "x%s");
    ldap_cf_free(&cf);
    /* ...which wins when both are set. */
    assert_int_equal(parse("result_format = y%s\nresult_filter = x%s\n", &cf, &err), 0);
    assert_string_equal(cf.result_format, "y%s");
    ldap_cf_free(&cf);
    /* size_limit set explicitly; bind spelled the other ways. */
    assert_int_equal(parse("expansion_limit = 5\nsize_limit = 0\nbind = none\n", &cf, &err), 0);
    assert_int_equal(cf.size_limit, 0);
    assert_int_equal(cf.bind, 0);
    ldap_cf_free(&cf);
    assert_int_equal(parse("bind = no\nscope = base\ntimeout = 7\n", &cf, &err), 0);
    assert_int_equal(cf.bind, 0);
    assert_int_equal(cf.scope, LDAP_CF_SCOPE_BASE);
    assert_int_equal(cf.timeout, 7);
    ldap_cf_free(&cf);
    assert_int_equal(parse("bind = simple\nversion = 2\n", &cf, &err), 0);
    assert_int_equal(cf.bind, 1);
    assert_int_equal(cf.version, 2);
    ldap_cf_free(&cf);
    /* A query_filter that does not use the key is allowed (warned at open). */
    assert_int_equal(parse("query_filter = (objectClass=*)\n", &cf, &err), 0);
    assert_int_equal(cf.fixed_filter, 1);
    ldap_cf_free(&cf);
    /* Only special attributes: allowed. */
    assert_int_equal(parse("result_attribute =\nspecial_result_attribute = member\n",
                           &cf, &err), 0);
    assert_null(cf.result_attributes[0]);
    ldap_cf_free(&cf);
    /* A URL with a DN (ignored, with a warning, as the library ignores it). */
    assert_int_equal(parse("server_host = ldap://h:1/dc=x\n", &cf, &err), 0);
    assert_string_equal(cf.server_urls[0], "ldap://h:1/dc=x");
    ldap_cf_free(&cf);
    /* Ignored cache settings. */
    assert_int_equal(parse("cache = no\ncache_expiry = 30\ncache_size = 1000\n", &cf, &err), 0);
    ldap_cf_free(&cf);
    buf_free(&err);
}

struct bad_case {
    const char *text;
    const char *want;               /* substring of the error */
};

static void test_errors(void **state)
{
    static const struct bad_case cases[] = {
        {"query_fliter = (mail=%s)\n", "test.cf, line 1: unknown setting \"query_fliter\""},
        {"# c\n\nfoo = 1\n", "test.cf, line 3: unknown setting \"foo\""},
        {"server_host = x\n  y\nbogus = 1\n", "test.cf, line 3: unknown setting \"bogus\""},
        {"no equals sign\n", "test.cf, line 1: missing '='"},
        {"= value\n", "test.cf, line 1: missing setting name"},
        {"  indented = 1\n", "test.cf, line 1: continuation line without a setting"},
        {"scope = subtree\n", "test.cf, line 1: scope: bad value \"subtree\""},
        {"server_port = 0\n", "line 1: server_port: bad value"},
        {"server_port = 65536\n", "line 1: server_port: bad value"},
        {"server_port = http\n", "line 1: server_port: bad value"},
        {"version = 4\n", "line 1: version: bad value \"4\""},
        {"version = 1\n", "line 1: version: bad value"},
        {"timeout = 0\n", "line 1: timeout: bad value"},
        {"timeout = soon\n", "line 1: timeout: bad value"},
        {"timeout = -1\n", "line 1: timeout: bad value"},
        {"size_limit = -1\n", "line 1: size_limit: bad value"},
        {"expansion_limit = x\n", "line 1: expansion_limit: bad value"},
        {"recursion_limit = 0\n", "line 1: recursion_limit: bad value"},
        {"dereference = 4\n", "line 1: dereference: bad value"},
        {"debuglevel = -1\n", "line 1: debuglevel: bad value"},
        {"bind = maybe\n", "line 1: bind: bad value \"maybe\""},
        {"bind = sasl\n", "line 1: bind: SASL binds are not supported"},
        {"sasl_mechs = GSSAPI\n", "line 1: setting \"sasl_mechs\" is not supported"},
        {"start_tls = perhaps\n", "line 1: start_tls: bad value"},
        {"tls_require_cert = 2\n", "line 1: tls_require_cert: bad value"},
        {"chase_referrals = x\n", "line 1: chase_referrals: bad value"},
        {"query_filter = (mail=%x)\n", "line 1: query_filter: unknown expansion \"%x\""},
        {"query_filter =\n", "line 1: query_filter: empty"},
        {"search_base = ou=%q\n", "line 1: search_base: unknown expansion"},
        {"result_format = %s%\n", "line 1: result_format: '%' at the end"},
        {"result_filter = %z\n", "line 1: result_format: unknown expansion"},
        {"result_attribute =\n", "line 1: result_attribute: no result attributes"},
        {"server_host =\n", "line 1: server_host: no server given"},
        {"server_host = ldap://[::1\n", "line 1: server_host: bad LDAP URL"},
        {"server_host = /tmp/sock\n", "line 1: server_host: bad host name"},
        {"version = 2\nstart_tls = yes\n", "line 1: version: start_tls needs version 3"},
        {"version = 2\nserver_host = ldaps://h\n", "line 1: version: ldaps://h needs version 3"},
        {"scope = one\nscope = all\n", "line 2: scope: bad value \"all\""},
        {"scope = all\nscope = one\n", NULL},       /* last wins */
    };
    struct buf err = BUF_INIT;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ldap_cf cf;
        int rc = parse(cases[i].text, &cf, &err);

        if (cases[i].want == NULL) {
            assert_int_equal(rc, 0);
            ldap_cf_free(&cf);
            continue;
        }
        if (rc != -1 || strstr(buf_str(&err), cases[i].want) == NULL)
            fail_msg("case %zu: %s: got %d \"%s\", want \"%s\"", i, cases[i].text, rc,
                     buf_str(&err), cases[i].want);
        assert_null(cf.server_urls);        /* nothing left on failure */
    }
    buf_free(&err);
}

static void test_all_errors_by_line(void **state)
{
    static const char text[] =
        "foo = 1\n"
        "scope = x\n"
        "bar = 2\n"
        "version = 9\n";
    struct ldap_cf cf;
    struct buf err = BUF_INIT;

    assert_int_equal(parse(text, &cf, &err), -1);
    assert_string_equal(buf_str(&err),
                        "test.cf, line 1: unknown setting \"foo\"\n"
                        "test.cf, line 2: scope: bad value \"x\" (sub, one or base)\n"
                        "test.cf, line 3: unknown setting \"bar\"\n"
                        "test.cf, line 4: version: bad value \"9\" (a number from 2 to 3)");
    buf_free(&err);
}

static void test_binary_junk(void **state)
{
    static const char text[] = "scope = sub\nfoo\0bar = 1\n";
    struct ldap_cf cf;
    struct buf err = BUF_INIT;

    assert_int_equal(ldap_cf_parse("j.cf", text, sizeof(text) - 1, &cf, &err), -1);
    assert_non_null(strstr(buf_str(&err), "j.cf, line 2: NUL byte"));
    buf_free(&err);
}

static void test_load(void **state)
{
    char path[] = "/tmp/test_ldap_cf.XXXXXX";
    int fd = mkstemp(path);
    struct ldap_cf cf;
    struct buf err = BUF_INIT;
    static const char text[] = "server_host = ldap.example.com\nsearch_base = dc=example\n";

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    assert_int_equal(ldap_cf_load(path, &cf, &err), 0);
    assert_string_equal(cf.server_urls[0], "ldap://ldap.example.com:389");
    assert_string_equal(cf.file, path);
    ldap_cf_free(&cf);

    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "oops = 1\n", 9), 9);
    close(fd);
    assert_int_equal(ldap_cf_load(path, &cf, &err), -1);
    {
        char want[128];

        snprintf(want, sizeof(want), "%s, line 3: unknown setting \"oops\"", path);
        assert_string_equal(buf_str(&err), want);
    }
    unlink(path);
    buf_reset(&err);
    assert_int_equal(ldap_cf_load(path, &cf, &err), -1);
    assert_non_null(strstr(buf_str(&err), "No such file"));
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_setting),
        cmocka_unit_test(test_small_things),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_all_errors_by_line),
        cmocka_unit_test(test_binary_junk),
        cmocka_unit_test(test_load),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
