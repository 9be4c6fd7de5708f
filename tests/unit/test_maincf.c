/*
 * test_maincf - unit tests for lib/maincf.c and lib/param_table.c.
 *
 * Most cases are one table: main.cf text in, and either the expanded value
 * of one parameter or a fragment of the error text out. The rest cover
 * what a table row cannot: typed getters, overrides, config_expand,
 * config_load from a directory (missing file, master.cf references), big
 * inputs, and the shipped conf/main.cf.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "maincf.h"
#include "mem.h"
#include "param_table.h"

/* One table row: parse text; on success check name's expanded value. */
struct parse_case {
    const char *what;
    const char *text;
    size_t len;                 /* 0: strlen(text) */
    const char *name;           /* NULL: expect failure */
    const char *want;           /* expanded value, or error fragment */
};

#define OK(w, t, n, v)  { w, t, 0, n, v }
#define BAD(w, t, e)    { w, t, 0, NULL, e }

static const struct parse_case cases[] = {
    OK("empty file", "", "smtpd_timeout", "300s"),
    OK("only comments", "# a\n\n   \n  # b\n", "relayhost", ""),
    OK("spaces around =", "relayhost = [mx.example]:25\n", "relayhost", "[mx.example]:25"),
    OK("no spaces", "relayhost=[mx.example]\n", "relayhost", "[mx.example]"),
    OK("empty value", "relayhost =\n", "relayhost", ""),
    OK("trailing blanks trimmed", "relayhost = a  \t\n", "relayhost", "a"),
    OK("no final newline", "relayhost = a", "relayhost", "a"),
    OK("hash after value is text", "smtpd_banner = hi #there\n", "smtpd_banner", "hi #there"),
    OK("hash in value start", "smtpd_banner = #hi\n", "smtpd_banner", "#hi"),
    OK("indented comment line is a comment", "relayhost = a\n  # relayhost = b\n",
       "relayhost", "a"),
    OK("continuation", "mydestination = a,\n  b,\n\tc\n", "mydestination", "a,  b,\tc"),
    OK("comment inside continuation", "mydestination = a,\n# x\n  b\n",
       "mydestination", "a,  b"),
    OK("blank line inside continuation", "mydestination = a,\n\n  b\n",
       "mydestination", "a,  b"),
    OK("CRLF", "relayhost = a\r\nmydestination = b,\r\n  c\r\n", "mydestination", "b,  c"),
    OK("last wins", "relayhost = a\nrelayhost = b\n", "relayhost", "b"),
    OK("expand $name", "myhostname = mx.example\nsmtpd_banner = $myhostname hi\n",
       "smtpd_banner", "mx.example hi"),
    OK("expand ${name}", "myhostname = mx\nsmtpd_banner = ${myhostname}x\n",
       "smtpd_banner", "mxx"),
    OK("expand $(name)", "myhostname = mx\nsmtpd_banner = $(myhostname)x\n",
       "smtpd_banner", "mxx"),
    OK("$$ is a dollar", "smtpd_banner = cost $$5\n", "smtpd_banner", "cost $5"),
    OK("$$ not expanded again", "a = $$b\nsmtpd_banner = $a\n", "smtpd_banner", "$b"),
    OK("? non-empty", "relayhost = r\nsmtpd_banner = ${relayhost?via $relayhost}\n",
       "smtpd_banner", "via r"),
    OK("? empty", "smtpd_banner = x${relayhost?via $relayhost}\n", "smtpd_banner", "x"),
    OK(": empty", "smtpd_banner = ${relayhost:direct}\n", "smtpd_banner", "direct"),
    OK(": non-empty", "relayhost = r\nsmtpd_banner = ${relayhost:direct}\n",
       "smtpd_banner", ""),
    OK("braced branch", "relayhost = r\nsmtpd_banner = ${relayhost?{via ${relayhost}}}\n",
       "smtpd_banner", "via r"),
    OK("braced then/else: set", "relayhost = r\nsmtpd_banner = ${relayhost?{a} : {b}}\n",
       "smtpd_banner", "a"),
    OK("braced then/else: empty", "smtpd_banner = ${relayhost?{a}:{$$b}}\n",
       "smtpd_banner", "$b"),
    OK("braced : empty", "smtpd_banner = ${relayhost:{x y}}\n", "smtpd_banner", "x y"),
    OK("nested conditionals", "relayhost = r\nsmtpd_banner = ${relayhost?${myorigin?<$relayhost>}}\n",
       "smtpd_banner", "<r>"),
    OK("default expands", "myhostname = h.example\n", "mydestination",
       "h.example, localhost.example, localhost"),
    OK("mydomain from myhostname", "myhostname = a.b.example\n", "mydomain", "b.example"),
    OK("mydomain of a short name", "myhostname = single\n", "mydomain", "localdomain"),
    OK("user-defined parameter", "my_list = a b\nsmtpd_client_restrictions = $my_list\n",
       "smtpd_client_restrictions", "a b"),
    OK("user-defined referenced before set", "smtpd_client_restrictions = $x\nx = y\n",
       "x", "y"),
    OK("user-defined chain", "a = $b\nb = z\nsmtpd_banner = $a\n", "smtpd_banner", "z"),
    OK("restriction class name", "smtpd_restriction_classes = cls\ncls = reject\n",
       "cls", "reject"),
    OK("user-defined last wins", "x = 1\nx = 2\nsmtpd_banner = $x\n", "smtpd_banner", "2"),
    OK("bool case-insensitive", "smtpd_delay_reject = NO\n", "smtpd_delay_reject", "NO"),
    OK("size suffix", "message_size_limit = 10m\n", "message_size_limit", "10m"),
    OK("typed value via $", "a = 5\nsmtpd_recipient_limit = $a\n",
       "smtpd_recipient_limit", "5"),

    BAD("continuation at file start", "  relayhost = a\n",
        "x.cf, line 1: logical line must not start with white space"),
    BAD("continuation after comments at start", "# c\n\n\tmore\nrelayhost = a\n",
        "x.cf, line 3: logical line must not start with white space"),
    BAD("unknown parameter", "relayhost = a\nfoo = bar\n", "x.cf, line 2: unknown parameter: foo"),
    BAD("unknown only referencing itself is a loop", "foo = $foo\n", "expansion loop"),
    BAD("missing =", "relayhost a\n", "x.cf, line 1: missing '=' after parameter name"),
    BAD("missing name", "= a\n", "x.cf, line 1: missing parameter name"),
    BAD("bad name", "relay host = a\n", "x.cf, line 1: bad parameter name"),
    BAD("bad bool", "smtpd_delay_reject = maybe\n",
        "x.cf, line 1: bad boolean value for smtpd_delay_reject: maybe"),
    BAD("bad bool empty", "smtpd_delay_reject =\n", "bad boolean value for smtpd_delay_reject"),
    BAD("word not among the choices", "smtpd_forbid_bare_newline = maybe\n",
        "x.cf, line 1: bad string value for smtpd_forbid_bare_newline: maybe "
        "(use one of: yes reject normalize no)"),
    BAD("empty enum with a non-empty default", "mynetworks_style =\n",
        "bad string value for mynetworks_style"),
    BAD("list item not among the choices", "inet_protocols = ipv4, ipv5\n",
        "x.cf, line 1: bad list value for inet_protocols: ipv4, ipv5"),
    BAD("enum after expansion", "x = maybe\nsmtpd_tls_security_level = $x\n",
        "x.cf, line 2: bad string value for smtpd_tls_security_level"),
    OK("enum is case-insensitive", "smtpd_forbid_bare_newline = Normalize\n",
       "smtpd_forbid_bare_newline", "Normalize"),
    OK("enum list", "inet_protocols = ipv4 ipv6\n", "inet_protocols", "ipv4 ipv6"),
    OK("empty enum with an empty default", "smtpd_tls_security_level =\n",
       "smtpd_tls_security_level", ""),
    BAD("bad int", "smtpd_recipient_limit = ten\n",
        "x.cf, line 1: bad integer value for smtpd_recipient_limit: ten"),
    BAD("int below range", "smtpd_recipient_limit = 0\n",
        "bad integer value for smtpd_recipient_limit: 0 (must be between 1 and"),
    BAD("int overflow", "smtpd_recipient_limit = 99999999999999999999\n",
        "bad integer value for smtpd_recipient_limit"),
    BAD("int with blank inside", "smtpd_recipient_limit = 1 0\n",
        "bad integer value for smtpd_recipient_limit"),
    BAD("bad time", "smtpd_timeout = 5x\n", "x.cf, line 1: bad time value for smtpd_timeout: 5x"),
    BAD("negative time", "smtpd_timeout = -5s\n", "bad time value for smtpd_timeout"),
    BAD("bad size", "message_size_limit = 10q\n",
        "x.cf, line 1: bad size value for message_size_limit: 10q"),
    BAD("size overflow", "message_size_limit = 99999999999999999999g\n",
        "bad size value for message_size_limit"),
    BAD("typed value via bad $", "a = x\nsmtpd_recipient_limit = $a\n",
        "x.cf, line 2: bad integer value for smtpd_recipient_limit: x"),
    BAD("loop a b a", "a = $b\nb = $a\nsmtpd_banner = $a\n",
        "expansion loop: $a -> $b -> $a"),
    BAD("self loop", "smtpd_banner = x$smtpd_banner\n",
        "x.cf, line 1: smtpd_banner: expansion loop: $smtpd_banner -> $smtpd_banner"),
    BAD("loop through default", "myorigin = $x\nx = $myorigin\n", "expansion loop"),
    BAD("loop through dynamic default", "myhostname = $mydomain\n", "expansion loop"),
    BAD("undefined reference", "smtpd_banner = $nosuch\n",
        "x.cf, line 1: smtpd_banner: undefined parameter $nosuch"),
    BAD("undefined in ${?}", "smtpd_banner = ${nosuch?x}\n", "undefined parameter $nosuch"),
    BAD("truncated ${", "smtpd_banner = ${myhostname\n", "truncated macro reference"),
    BAD("truncated $(", "smtpd_banner = $(myhostname}\n", "truncated macro reference"),
    BAD("bare $", "smtpd_banner = a $ b\n", "empty macro name"),
    BAD("empty ${}", "smtpd_banner = ${}\n", "empty macro name"),
    BAD("bad operator", "smtpd_banner = ${myhostname!x}\n", "unsupported macro syntax"),
    BAD("name then blank", "smtpd_banner = ${relayhost ?x}\n", "unsupported macro syntax"),
    BAD("junk after brace", "smtpd_banner = ${relayhost?{a}b}\n", "unsupported macro syntax"),
    BAD("else after :", "smtpd_banner = ${relayhost:{a}:{b}}\n", "unsupported macro syntax"),
    BAD("unclosed branch", "smtpd_banner = ${relayhost?{a:{b}}\n", "truncated macro reference"),
    { "NUL byte", "relayhost = a\0b\nmyorigin = x\n", 24, NULL,
      "x.cf, line 1: NUL byte in text" },
    { "NUL in continuation", "relayhost = a\n  \0\n", 18, NULL,
      "x.cf, line 2: NUL byte in text" },
};

/* Run every row of the table. */
static void test_table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct parse_case *c = &cases[i];
        struct buf err = BUF_INIT;
        size_t len = c->len ? c->len : strlen(c->text);
        struct config *cfg = config_parse("x.cf", c->text, len, &err);

        if (c->name) {
            if (cfg == NULL)
                fail_msg("%s: unexpected errors: %s", c->what, buf_str(&err));
            if (strcmp(config_str(cfg, c->name), c->want) != 0)
                fail_msg("%s: %s = \"%s\", want \"%s\"", c->what, c->name,
                         config_str(cfg, c->name), c->want);
        } else {
            if (cfg != NULL)
                fail_msg("%s: parsed, but should not", c->what);
            if (strstr(buf_str(&err), c->want) == NULL)
                fail_msg("%s: error \"%s\" lacks \"%s\"", c->what, buf_str(&err), c->want);
        }
        config_free(cfg);
        buf_free(&err);
    }
}

/* Parse text that must be valid. */
static struct config *parse_ok(const char *text)
{
    struct buf err = BUF_INIT;
    struct config *cfg = config_parse("t.cf", text, strlen(text), &err);

    if (cfg == NULL)
        fail_msg("unexpected errors: %s", buf_str(&err));
    buf_free(&err);
    return cfg;
}

/* Parse text that must fail; returns the error text (caller frees). */
static char *parse_bad(const char *text, size_t len)
{
    struct buf err = BUF_INIT;
    struct config *cfg = config_parse("t.cf", text, len, &err);

    assert_null(cfg);
    assert_true(err.len > 0);
    return buf_steal(&err);
}

/* Count non-overlapping occurrences of needle. */
static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void test_typed_getters(void **state)
{
    struct config *cfg = parse_ok(
        "smtpd_delay_reject = no\n"
        "smtpd_recipient_limit = 42\n"
        "smtpd_timeout = 2m\n"
        "maximal_queue_lifetime = 2\n"      /* default unit: d */
        "ipc_idle = 7\n"                    /* default unit: s */
        "delay_warning_time = 3\n"          /* default unit: h */
        "message_size_limit = 2k\n"
        "mydestination = a, b ,c\td\n"
        "  e\n");

    assert_int_equal(config_bool(cfg, "smtpd_delay_reject"), 0);
    assert_int_equal(config_bool(cfg, "biff"), 1);
    assert_int_equal(config_int(cfg, "smtpd_recipient_limit"), 42);
    assert_int_equal(config_int(cfg, "hopcount_limit"), 50);
    assert_int_equal(config_time(cfg, "smtpd_timeout"), 120);
    assert_int_equal(config_time(cfg, "maximal_queue_lifetime"), 2 * 86400);
    assert_int_equal(config_time(cfg, "ipc_idle"), 7);
    assert_int_equal(config_time(cfg, "delay_warning_time"), 3 * 3600);
    assert_int_equal(config_time(cfg, "master_stop_timeout"), 10);
    assert_int_equal(config_time(cfg, "bounce_queue_lifetime"), 5 * 86400);
    assert_true(config_size(cfg, "message_size_limit") == 2048);
    assert_true(config_size(cfg, "mailbox_size_limit") == 51200000);

    char *const *l = config_list(cfg, "mydestination");
    const char *want[] = {"a", "b", "c", "d", "e", NULL};
    for (int i = 0; want[i]; i++)
        assert_string_equal(l[i], want[i]);
    assert_null(l[5]);
    assert_null(config_list(cfg, "relayhost")[0]);
    config_free(cfg);
}

/* A table written inline keeps its commas and blanks inside its braces. */
static void test_list_keeps_braces(void **state)
{
    static const char text[] =
        "virtual_alias_maps = inline:{a=b, c=d}, hash:/x  inline:{ { k = v w } }\n"
        "mydestination = {unbalanced, x\n";
    struct buf err = BUF_INIT;
    struct config *cfg = config_parse("x.cf", text, sizeof(text) - 1, &err);
    char *const *l;

    assert_non_null(cfg);
    l = config_list(cfg, "virtual_alias_maps");
    assert_string_equal(l[0], "inline:{a=b, c=d}");
    assert_string_equal(l[1], "hash:/x");
    assert_string_equal(l[2], "inline:{ { k = v w } }");
    assert_null(l[3]);
    l = config_list(cfg, "mydestination");
    assert_string_equal(l[0], "{unbalanced, x");
    assert_null(l[1]);
    config_free(cfg);
    buf_free(&err);
}

static void test_defaults(void **state)
{
    struct config *cfg = config_defaults();

    assert_string_equal(config_str(cfg, "config_directory"), "/etc/postern");
    assert_string_equal(config_dir(cfg), "/etc/postern");
    assert_string_equal(config_file(cfg), "");
    assert_string_equal(config_raw(cfg, "myorigin"), "$myhostname");
    assert_string_equal(config_str(cfg, "myorigin"), config_str(cfg, "myhostname"));
    assert_non_null(strchr(config_str(cfg, "myhostname"), '.'));
    assert_string_equal(config_str(cfg, "mynetworks"), "127.0.0.0/8 [::1]/128");
    assert_int_equal(config_size(cfg, "message_size_limit"), 10240000);
    assert_int_equal(config_time(cfg, "smtpd_timeout"), 300);
    assert_int_equal(config_time(cfg, "maximal_queue_lifetime"), 5 * 86400);
    assert_int_equal(config_int(cfg, "smtpd_recipient_limit"), 1000);
    assert_false(config_is_set(cfg, "relayhost"));
    assert_null(config_names_set(cfg)[0]);
    assert_null(config_raw(cfg, "nosuch"));
    assert_false(config_has(cfg, "nosuch"));
    config_free(cfg);
}

static void test_dynamic_hostname(void **state)
{
    struct config *cfg = parse_ok("mydomain = corp.example\n");
    const char *host = config_str(cfg, "myhostname");
    char sys[256] = "";

    /* Fully qualified; a short system name keeps its first label. */
    assert_non_null(strchr(host, '.'));
    if (gethostname(sys, sizeof(sys) - 1) == 0 && sys[0] && !strchr(sys, '.')) {
        assert_int_equal(strncmp(host, sys, strlen(sys)), 0);
        assert_int_equal(host[strlen(sys)], '.');
    }
    assert_string_equal(config_str(cfg, "mydomain"), "corp.example");
    config_free(cfg);

    cfg = parse_ok("myhostname = mx.a.example\n");
    assert_string_equal(config_str(cfg, "mydomain"), "a.example");
    assert_string_equal(config_raw(cfg, "mydomain"), "a.example");
    config_free(cfg);
}

static void test_names_set_and_is_set(void **state)
{
    struct config *cfg = parse_ok("relayhost = a\nx = 1\nmyorigin = $x\nrelayhost = b\n");
    char *const *names = config_names_set(cfg);

    assert_string_equal(names[0], "relayhost");
    assert_string_equal(names[1], "x");
    assert_string_equal(names[2], "myorigin");
    assert_null(names[3]);
    assert_true(config_is_set(cfg, "relayhost"));
    assert_false(config_is_set(cfg, "mydestination"));
    assert_true(config_has(cfg, "x"));
    assert_string_equal(config_raw(cfg, "myorigin"), "$x");
    assert_string_equal(config_str(cfg, "myorigin"), "1");
    config_free(cfg);
}

static void test_all_errors_reported_in_line_order(void **state)
{
    const char *text = "smtpd_timeout = 5x\nrelayhost = ok\nfoo = 1\n"
                       "smtpd_delay_reject = maybe\n  cont\nbar\n";
    char *e = parse_bad(text, strlen(text));
    const char *l1 = strstr(e, "line 1: bad time value");
    const char *l3 = strstr(e, "line 3: unknown parameter: foo");
    const char *l4 = strstr(e, "line 4: bad boolean value for smtpd_delay_reject: maybe  cont");
    const char *l6 = strstr(e, "line 6: missing '='");

    assert_non_null(l1);
    assert_non_null(l3);
    assert_non_null(l4);
    assert_non_null(l6);
    assert_true(l1 < l3 && l3 < l4 && l4 < l6);
    assert_int_equal(count_of(e, "\n"), 4);
    free(e);
}

static void test_duplicate_unknown_each_reported(void **state)
{
    const char *text = "foo = 1\nfoo = 2\n";
    char *e = parse_bad(text, strlen(text));

    assert_non_null(strstr(e, "line 1: unknown parameter: foo"));
    assert_non_null(strstr(e, "line 2: unknown parameter: foo"));
    free(e);
}

static void test_error_cap(void **state)
{
    struct buf text = BUF_INIT;
    char *e;

    for (int i = 0; i < 500; i++)
        buf_printf(&text, "bad%d = x\n", i);
    e = parse_bad(buf_str(&text), text.len);
    assert_int_equal(count_of(e, "unknown parameter"), 100);
    assert_non_null(strstr(e, "400 more errors not shown"));
    free(e);
    buf_free(&text);
}

static void test_huge_line(void **state)
{
    struct buf text;
    char *e;

    buf_init(&text, 0);
    buf_puts(&text, "smtpd_banner = ");
    for (int i = 0; i < MAINCF_MAX_VALUE + 10; i++)
        buf_putc(&text, 'x');
    buf_puts(&text, "\nrelayhost = a\nfoo = 1\n");
    e = parse_bad(buf_str(&text), text.len);
    assert_non_null(strstr(e, "t.cf, line 1: value of smtpd_banner longer than"));
    assert_non_null(strstr(e, "line 3: unknown parameter: foo"));
    free(e);

    /* Longer than a logical line may be, through continuation lines. */
    buf_reset(&text);
    buf_puts(&text, "smtpd_banner = a\n");
    for (int i = 0; i < 300; i++) {
        buf_puts(&text, " ");
        for (int j = 0; j < 1000; j++)
            buf_putc(&text, 'y');
        buf_puts(&text, "\n");
    }
    e = parse_bad(buf_str(&text), text.len);
    assert_non_null(strstr(e, "t.cf, line 1: logical line longer than"));
    assert_int_equal(count_of(e, "\n"), 1);
    free(e);
    buf_free(&text);
}

static void test_file_too_large(void **state)
{
    size_t len = MAINCF_MAX_FILE + 1;
    char *text = xmalloc(len);
    char *e;

    memset(text, '#', len);
    e = parse_bad(text, len);
    assert_non_null(strstr(e, "t.cf: file larger than"));
    free(e);
    free(text);
}

static void test_expansion_too_long(void **state)
{
    /* Each level multiplies the length by 16: 4 levels of 16 from 8 bytes. */
    const char *text =
        "a = xxxxxxxx\n"
        "b = $a$a$a$a$a$a$a$a$a$a$a$a$a$a$a$a\n"
        "c = $b$b$b$b$b$b$b$b$b$b$b$b$b$b$b$b\n"
        "d = $c$c$c$c$c$c$c$c$c$c$c$c$c$c$c$c\n"
        "e = $d$d$d$d$d$d$d$d$d$d$d$d$d$d$d$d\n"
        "smtpd_banner = $e\n";
    char *e = parse_bad(text, strlen(text));

    assert_non_null(strstr(e, "line 5: e: expanded value longer than"));
    assert_int_equal(count_of(e, "\n"), 1);
    free(e);
}

static void test_expansion_fanout_is_cheap(void **state)
{
    /* 10 levels of 64 references to empty values: 64^10 without memoising. */
    struct buf text = BUF_INIT;
    struct config *cfg;

    buf_puts(&text, "v0 =\n");
    for (int i = 1; i <= 10; i++) {
        buf_printf(&text, "v%d = ", i);
        for (int j = 0; j < 64; j++)
            buf_printf(&text, "$v%d", i - 1);
        buf_puts(&text, "\n");
    }
    buf_puts(&text, "smtpd_banner = x$v10\n");
    cfg = parse_ok(buf_str(&text));
    assert_string_equal(config_str(cfg, "smtpd_banner"), "x");
    config_free(cfg);
    buf_free(&text);
}

/* A chain smtpd_banner -> $c1 -> ... -> $cN = end. */
static char *chain(int n)
{
    struct buf text = BUF_INIT;

    buf_puts(&text, "smtpd_banner = $c1\n");
    for (int i = 1; i < n; i++)
        buf_printf(&text, "c%d = $c%d\n", i, i + 1);
    buf_printf(&text, "c%d = end\n", n);
    return buf_steal(&text);
}

static void test_deep_nesting(void **state)
{
    char *text = chain(MAINCF_MAX_DEPTH);
    struct config *cfg = parse_ok(text);
    char *e;

    assert_string_equal(config_str(cfg, "smtpd_banner"), "end");
    config_free(cfg);
    free(text);

    text = chain(MAINCF_MAX_DEPTH + 1);
    e = parse_bad(text, strlen(text));
    assert_non_null(strstr(e, "nested more than 50 levels deep"));
    free(e);
    free(text);

    /* Very deep: must not blow the C stack. */
    text = chain(100000);
    e = parse_bad(text, strlen(text));
    assert_non_null(strstr(e, "nested more than 50 levels deep"));
    free(e);
    free(text);
}

static void test_deep_braces(void **state)
{
    struct buf text = BUF_INIT;
    char *e;

    buf_puts(&text, "relayhost = r\nsmtpd_banner = ");
    for (int i = 0; i < 10000; i++)
        buf_puts(&text, "${relayhost?");
    for (int i = 0; i < 10000; i++)
        buf_puts(&text, "}");
    buf_puts(&text, "\n");
    e = parse_bad(buf_str(&text), text.len);
    assert_non_null(strstr(e, "nested more than 50 levels deep"));
    free(e);
    buf_free(&text);
}

static void test_override(void **state)
{
    struct config *cfg = parse_ok("myhostname = a.example\nx = 1\nsmtpd_banner = $x\n");
    struct buf err = BUF_INIT;

    assert_int_equal(config_override(cfg, "myhostname", "b.example", "m.cf, line 3", &err), 0);
    assert_string_equal(config_str(cfg, "myorigin"), "b.example");     /* dependents follow */
    assert_string_equal(config_str(cfg, "mydomain"), "example");
    assert_int_equal(config_override(cfg, "smtpd_delay_reject", "no", "m.cf, line 4", &err), 0);
    assert_int_equal(config_bool(cfg, "smtpd_delay_reject"), 0);
    assert_true(config_is_set(cfg, "smtpd_delay_reject"));
    assert_int_equal(config_override(cfg, "x", "2", "m.cf, line 4", &err), 0);
    assert_string_equal(config_str(cfg, "smtpd_banner"), "2");

    assert_int_equal(config_override(cfg, "smtpd_delay_reject", "maybe", "m.cf, line 5", &err), -1);
    assert_non_null(strstr(buf_str(&err),
                           "m.cf, line 5: bad boolean value for smtpd_delay_reject: maybe"));
    assert_int_equal(config_bool(cfg, "smtpd_delay_reject"), 0);     /* unchanged */

    buf_reset(&err);
    assert_int_equal(config_override(cfg, "nosuch", "1", "m.cf, line 6", &err), -1);
    assert_string_equal(buf_str(&err), "m.cf, line 6: unknown parameter: nosuch\n");

    buf_reset(&err);
    assert_int_equal(config_override(cfg, "smtpd_banner", "$smtpd_banner x", "m.cf, line 7",
                                     &err), -1);
    assert_non_null(strstr(buf_str(&err), "expansion loop"));
    assert_string_equal(config_str(cfg, "smtpd_banner"), "2");
    config_free(cfg);
    buf_free(&err);
}

static void test_check_value(void **state)
{
    struct config *cfg = parse_ok("relayhost = a\n");
    struct buf err = BUF_INIT;

    assert_int_equal(config_check_value(cfg, "relayhost", "$myhostname", "o", &err), 0);
    assert_int_equal(config_check_value(cfg, "smtpd_timeout", "10x", "o", &err), -1);
    assert_non_null(strstr(buf_str(&err), "o: bad time value for smtpd_timeout: 10x"));
    assert_int_equal(config_check_value(cfg, "foo", "1", "o", &err), -1);
    assert_string_equal(config_str(cfg, "relayhost"), "a");
    assert_false(config_is_set(cfg, "smtpd_timeout"));
    config_free(cfg);
    buf_free(&err);
}

static void test_expand(void **state)
{
    struct config *cfg = parse_ok("myhostname = mx.example\nx = y\nsmtpd_banner = $x\n");
    struct buf out = BUF_INIT, err = BUF_INIT;

    assert_int_equal(config_expand(cfg, "$myhostname/${x}/$$/${relayhost:none}", &out, &err), 0);
    assert_string_equal(buf_str(&out), "mx.example/y/$/none");
    assert_int_equal(config_expand(cfg, "plain", &out, &err), 0);
    assert_string_equal(buf_str(&out), "plain");
    assert_int_equal(config_expand(cfg, "a $nosuch", &out, &err), -1);
    assert_non_null(strstr(buf_str(&err), "undefined parameter $nosuch"));
    buf_reset(&err);
    assert_int_equal(config_expand(cfg, "${x", &out, &err), -1);
    assert_non_null(strstr(buf_str(&err), "truncated macro reference"));
    config_free(cfg);
    buf_free(&out);
    buf_free(&err);
}

/* Write text to dir/name. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_non_null(fp = fopen(path, "w"));
    fputs(text, fp);
    fclose(fp);
}

static void test_load(void **state)
{
    char dir[] = "/tmp/test_maincf.XXXXXX";
    struct buf err = BUF_INIT;
    struct config *cfg;

    assert_non_null(mkdtemp(dir));
    assert_null(config_load(dir, &err));
    assert_non_null(strstr(buf_str(&err), "main.cf: No such file or directory"));

    /* A parameter used only from master.cf is user-defined too. */
    write_file(dir, "main.cf", "mua_restrictions = permit\nrelayhost = r\n");
    buf_reset(&err);
    assert_null(config_load(dir, &err));
    assert_non_null(strstr(buf_str(&err), "line 1: unknown parameter: mua_restrictions"));
    write_file(dir, "master.cf",
               "# submission inet n - n - - smtpd -o x=$commented_out\n"
               "submission inet n - n - - smtpd\n"
               "  -o smtpd_client_restrictions=$mua_restrictions\n");
    buf_reset(&err);
    cfg = config_load(dir, &err);
    if (cfg == NULL)
        fail_msg("config_load: %s", buf_str(&err));
    assert_string_equal(config_str(cfg, "mua_restrictions"), "permit");
    assert_string_equal(config_dir(cfg), dir);
    assert_string_equal(config_str(cfg, "config_directory"), dir);
    assert_non_null(strstr(config_file(cfg), "/main.cf"));
    config_free(cfg);

    char path[512];
    snprintf(path, sizeof(path), "%s/main.cf", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/master.cf", dir);
    unlink(path);
    rmdir(dir);
    buf_free(&err);
}

static void test_shipped_main_cf(void **state)
{
    char path[1024];
    FILE *fp;
    struct buf text = BUF_INIT, err = BUF_INIT;
    char chunk[4096];
    size_t n;
    struct config *cfg;

    /* TEST_DATA_DIR is SOURCE/tests/data, which need not exist. */
    snprintf(path, sizeof(path), "%s", TEST_DATA_DIR);
    assert_non_null(strstr(path, "/tests/data"));
    snprintf(strstr(path, "/tests/data"), 64, "/conf/main.cf");
    assert_non_null(fp = fopen(path, "r"));
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(&text, chunk, n);
    fclose(fp);
    cfg = config_parse(path, buf_str(&text), text.len, &err);
    if (cfg == NULL)
        fail_msg("%s", buf_str(&err));
    /* Everything in it is commented out: it means the defaults. */
    assert_null(config_names_set(cfg)[0]);

    /* Uncommenting every "#name = value" line must still parse. */
    struct buf on = BUF_INIT;
    const char *p = buf_str(&text);
    int count = 0;
    while (*p) {
        size_t len = strcspn(p, "\n");
        size_t name = 1;
        while (name < len && (p[name] == '_' || (p[name] >= 'a' && p[name] <= 'z')))
            name++;
        if (name > 1 && len >= name + 2 && strncmp(p + name, " =", 2) == 0) {
            buf_append(&on, p + 1, len - 1);
            buf_putc(&on, '\n');
            count++;
        }
        p += len + (p[len] == '\n');
    }
    config_free(cfg);
    buf_reset(&err);
    cfg = config_parse(path, buf_str(&on), on.len, &err);
    if (cfg == NULL)
        fail_msg("uncommented conf/main.cf: %s", buf_str(&err));
    assert_true(count > 50);
    config_free(cfg);
    buf_free(&on);
    buf_free(&text);
    buf_free(&err);
}

static void test_param_table(void **state)
{
    static const char *required[] = {
        "config_directory", "queue_directory", "daemon_directory", "command_directory",
        "data_directory", "mail_owner", "setgid_group", "syslog_name", "syslog_facility",
        "maillog_file", "myhostname", "mydomain", "myorigin", "mydestination",
        "mynetworks", "mynetworks_style", "inet_interfaces", "inet_protocols",
        "relayhost", "relay_domains", "default_process_limit", "service_throttle_time",
        "max_idle", "max_use", "ipc_timeout", "ipc_idle", "daemon_timeout",
        "master_stop_timeout", "import_environment", "export_environment", "alias_maps",
        "alias_database", "virtual_alias_maps", "virtual_alias_domains",
        "virtual_mailbox_domains", "virtual_mailbox_maps", "virtual_mailbox_base",
        "virtual_uid_maps", "virtual_gid_maps", "virtual_minimum_uid",
        "virtual_mailbox_limit", "transport_maps", "canonical_maps",
        "sender_canonical_maps", "recipient_canonical_maps", "masquerade_domains",
        "masquerade_exceptions", "masquerade_classes", "append_dot_mydomain",
        "recipient_delimiter", "home_mailbox", "mail_spool_directory", "mailbox_command",
        "mailbox_size_limit", "message_size_limit", "allow_mail_to_commands",
        "allow_mail_to_files", "luser_relay", "proxy_read_maps", "smtpd_banner",
        "smtpd_relay_restrictions", "smtpd_recipient_restrictions",
        "smtpd_client_restrictions", "smtpd_helo_restrictions",
        "smtpd_sender_restrictions", "smtpd_delay_reject", "smtpd_recipient_limit",
        "smtpd_timeout", "smtpd_hard_error_limit", "smtpd_soft_error_limit",
        "smtpd_forbid_bare_newline", "smtpd_client_connection_count_limit",
        "line_length_limit", "header_size_limit", "hopcount_limit",
        "disable_vrfy_command", "smtp_helo_name", "minimal_backoff_time",
        "maximal_backoff_time", "queue_run_delay", "maximal_queue_lifetime",
        "bounce_queue_lifetime", "delay_warning_time", "qmgr_message_active_limit",
        "default_destination_concurrency_limit", "default_destination_recipient_limit",
        "notify_classes", "biff", "smtpd_tls_cert_file", "smtpd_tls_key_file",
        "smtpd_tls_security_level", NULL,
    };

    for (size_t i = 1; i < param_count; i++)
        if (strcmp(param_table[i - 1].name, param_table[i].name) >= 0)
            fail_msg("param_table not sorted at %s", param_table[i].name);
    for (size_t i = 0; i < param_count; i++) {
        const struct param_def *d = &param_table[i];

        assert_ptr_equal(param_find(d->name), d);
        assert_true(d->desc && *d->desc);
        if (d->type == PT_TIME) {
            size_t n = strlen(d->defval);
            if (n == 0 || !strchr("smhdw", d->defval[n - 1]))
                fail_msg("%s: time default without unit", d->name);
        }
        if (d->type == PT_INT && !(d->min <= d->max))
            fail_msg("%s: bad range", d->name);
    }
    for (int i = 0; required[i]; i++)
        if (param_find(required[i]) == NULL)
            fail_msg("missing parameter %s", required[i]);
    assert_null(param_find("nosuch"));
    assert_null(param_find(""));
    assert_int_equal(param_find("myhostname")->flags & PARAM_DYNAMIC, PARAM_DYNAMIC);
    assert_string_equal(param_find("message_size_limit")->defval, "10240000");
    assert_string_equal(param_find("smtpd_recipient_limit")->defval, "1000");
    assert_string_equal(param_find("maximal_queue_lifetime")->defval, "5d");
    assert_string_equal(param_find("smtpd_timeout")->defval, "300s");
    assert_string_equal(param_type_name(PT_BOOL), "boolean");
    assert_string_equal(param_type_name(PT_TIME), "time");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_typed_getters),
        cmocka_unit_test(test_list_keeps_braces),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_dynamic_hostname),
        cmocka_unit_test(test_names_set_and_is_set),
        cmocka_unit_test(test_all_errors_reported_in_line_order),
        cmocka_unit_test(test_duplicate_unknown_each_reported),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_huge_line),
        cmocka_unit_test(test_file_too_large),
        cmocka_unit_test(test_expansion_too_long),
        cmocka_unit_test(test_expansion_fanout_is_cheap),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_deep_braces),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_shipped_main_cf),
        cmocka_unit_test(test_param_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
