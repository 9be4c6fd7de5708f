/*
 * test_smtp_addr - unit tests for lib/smtp_addr.c: RFC 5321 paths, quoted
 * local parts, address literals, SMTPUTF8, length limits and the relay
 * tricks of issue 4 (percent hack, bang paths, source routes, quoted '@',
 * trailing dots, IP literals).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "smtp_addr.h"

#define U  SMTP_ADDR_UTF8
#define N  SMTP_ADDR_ALLOW_NULL
#define B  SMTP_ADDR_ALLOW_BARE

struct addr_case {
    const char *in;
    size_t len;                 /* 0: strlen(in) */
    unsigned flags;
    enum smtp_addr_err err;
    const char *local;          /* expected when OK (NULL: don't check) */
    const char *domain;
    unsigned want_flags;        /* must all be set */
    unsigned tricks;            /* exact smtp_addr_tricks() when OK */
};

static const struct addr_case cases[] = {
    /* plain */
    {"<user@example.org>", 0, 0, SMTP_ADDR_OK, "user", "example.org", 0, 0},
    {"<User.Name+tag@Example.ORG>", 0, 0, SMTP_ADDR_OK, "User.Name+tag", "Example.ORG", 0, 0},
    {"<a!#$&'*+-/=?^_`{|}~z@x.example>", 0, 0, SMTP_ADDR_OK, "a!#$&'*+-/=?^_`{|}~z", "x.example", 0,
     SMTP_ADDR_TRICK_BANG},
    {"<postmaster>", 0, 0, SMTP_ADDR_OK, "postmaster", "", SMTP_ADDR_F_NO_DOMAIN, 0},
    {"<a@b>", 0, 0, SMTP_ADDR_OK, "a", "b", 0, 0},
    {"<a@x-y.example>", 0, 0, SMTP_ADDR_OK, "a", "x-y.example", 0, 0},
    {"<a@123abc.example>", 0, 0, SMTP_ADDR_OK, "a", "123abc.example", 0, 0},
    /* null sender */
    {"<>", 0, N, SMTP_ADDR_OK, "", "", SMTP_ADDR_F_NULL, 0},
    {"<>", 0, 0, SMTP_ADDR_ENULL, NULL, NULL, 0, 0},
    {"<>", 0, B, SMTP_ADDR_ENULL, NULL, NULL, 0, 0},
    {"", 0, N | B, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    /* bare addresses */
    {"user@example.org", 0, 0, SMTP_ADDR_EBARE, NULL, NULL, 0, 0},
    {"user@example.org", 0, B, SMTP_ADDR_OK, "user", "example.org", SMTP_ADDR_F_BARE, 0},
    {"\"a b\"@example.org", 0, B, SMTP_ADDR_OK, "a b", "example.org", SMTP_ADDR_F_BARE, 0},
    {"user@x>", 0, B, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@x", 0, B, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<", 0, N, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {">", 0, B, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<<a@b>>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    /* source routes: accepted, stripped, reported */
    {"<@a.example,@b.example:user@c.example>", 0, 0, SMTP_ADDR_OK, "user", "c.example",
     SMTP_ADDR_F_ROUTE, SMTP_ADDR_TRICK_ROUTE},
    {"<@mydomain.example:user@other.example>", 0, 0, SMTP_ADDR_OK, "user", "other.example",
     SMTP_ADDR_F_ROUTE, SMTP_ADDR_TRICK_ROUTE},
    {"@mydomain.example:user@other.example", 0, B, SMTP_ADDR_OK, "user", "other.example",
     SMTP_ADDR_F_ROUTE | SMTP_ADDR_F_BARE, SMTP_ADDR_TRICK_ROUTE},
    {"<@:user@c>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<@a.example,:user@c>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<@a.example,b.example:user@c>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<@a.example>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<@a.example:>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<@a.example:@b.example:u@c>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<@[192.0.2.1]:u@c>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    /* percent hack, bang path, quoted '@' */
    {"<user%other.example@mydomain.example>", 0, 0, SMTP_ADDR_OK, "user%other.example",
     "mydomain.example", 0, SMTP_ADDR_TRICK_PERCENT},
    {"<other.example!user@mydomain.example>", 0, 0, SMTP_ADDR_OK, "other.example!user",
     "mydomain.example", 0, SMTP_ADDR_TRICK_BANG},
    {"<\"user@other.example\"@mydomain.example>", 0, 0, SMTP_ADDR_OK, "user@other.example",
     "mydomain.example", SMTP_ADDR_F_QUOTED, SMTP_ADDR_TRICK_AT},
    {"<\"user%other\"@mydomain.example>", 0, 0, SMTP_ADDR_OK, "user%other", "mydomain.example",
     SMTP_ADDR_F_QUOTED, SMTP_ADDR_TRICK_PERCENT},
    {"<\"user\\@other.example\"@mydomain.example>", 0, 0, SMTP_ADDR_OK, "user@other.example",
     "mydomain.example", SMTP_ADDR_F_QUOTED, SMTP_ADDR_TRICK_AT},
    {"<\"user@other.example\">", 0, 0, SMTP_ADDR_OK, "user@other.example", "",
     SMTP_ADDR_F_QUOTED | SMTP_ADDR_F_NO_DOMAIN, SMTP_ADDR_TRICK_AT},
    {"<\"a!b%c@d\"@mydomain.example.>", 0, 0, SMTP_ADDR_OK, "a!b%c@d", "mydomain.example",
     SMTP_ADDR_F_TRAILING_DOT,
     SMTP_ADDR_TRICK_AT | SMTP_ADDR_TRICK_BANG | SMTP_ADDR_TRICK_PERCENT | SMTP_ADDR_TRICK_DOT},
    {"<user@other.example@mydomain.example>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    /* quoted strings */
    {"<\"a b\"@x.example>", 0, 0, SMTP_ADDR_OK, "a b", "x.example", SMTP_ADDR_F_QUOTED, 0},
    {"<\"a\\\"b\"@x>", 0, 0, SMTP_ADDR_OK, "a\"b", "x", SMTP_ADDR_F_QUOTED, 0},
    {"<\"a\\\\b\"@x>", 0, 0, SMTP_ADDR_OK, "a\\b", "x", SMTP_ADDR_F_QUOTED, 0},
    {"<\"\\a\"@x>", 0, 0, SMTP_ADDR_OK, "a", "x", SMTP_ADDR_F_QUOTED, 0},
    {"<\"a>b\"@x>", 0, 0, SMTP_ADDR_OK, "a>b", "x", SMTP_ADDR_F_QUOTED, 0},
    {"<\"user\"@x>", 0, 0, SMTP_ADDR_OK, "user", "x", SMTP_ADDR_F_QUOTED, 0},
    {"<\"a\\\"@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},      /* escaped closing quote */
    {"<\"abc@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},        /* unbalanced */
    {"<abc\"@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<\"\"@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},         /* empty: refused */
    {"<\"a\"b@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<\"a\".b@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<a.\"b\"@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<\"a\\\x01\"@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},  /* quoted-pair of a CTL */
    {"<\"a\tb\"@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},     /* TAB is not qtextSMTP */
    {"<\"a\\", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    /* dot-string syntax */
    {"<.user@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user.@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<us..er@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<a b@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<a(b)@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<a,b@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<a:b@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<a\\b@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<@>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<@example.org>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<us\0er@x>", 9, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},     /* NUL */
    {"<user@x\0>", 9, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@x>\0", 9, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user\r@x>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    /* domains */
    {"<user@mydomain.example.>", 0, 0, SMTP_ADDR_OK, "user", "mydomain.example",
     SMTP_ADDR_F_TRAILING_DOT, SMTP_ADDR_TRICK_DOT},
    {"<user@mydomain.example..>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@.>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@.example>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@ex..ample>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@-ex.ample>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@ex-.ample>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@ex_ample.org>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@ex ample.org>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@192.0.2.1>", 0, 0, SMTP_ADDR_OK, "user", "192.0.2.1", SMTP_ADDR_F_NUMERIC,
     SMTP_ADDR_TRICK_NUMERIC},
    /* address literals */
    {"<user@[192.0.2.1]>", 0, 0, SMTP_ADDR_OK, "user", "[192.0.2.1]", SMTP_ADDR_F_LITERAL,
     SMTP_ADDR_TRICK_LITERAL},
    {"<user@[0.0.0.0]>", 0, 0, SMTP_ADDR_OK, "user", "[0.0.0.0]", SMTP_ADDR_F_LITERAL,
     SMTP_ADDR_TRICK_LITERAL},
    {"<user@[255.255.255.255]>", 0, 0, SMTP_ADDR_OK, "user", "[255.255.255.255]",
     SMTP_ADDR_F_LITERAL, SMTP_ADDR_TRICK_LITERAL},
    {"<user@[IPv6:2001:db8::1]>", 0, 0, SMTP_ADDR_OK, "user", "[IPv6:2001:db8::1]",
     SMTP_ADDR_F_LITERAL | SMTP_ADDR_F_LITERAL_V6, SMTP_ADDR_TRICK_LITERAL},
    {"<user@[ipv6:::1]>", 0, 0, SMTP_ADDR_OK, "user", "[ipv6:::1]",
     SMTP_ADDR_F_LITERAL_V6, SMTP_ADDR_TRICK_LITERAL},
    {"<user@[IPv6:::ffff:192.0.2.1]>", 0, 0, SMTP_ADDR_OK, "user", "[IPv6:::ffff:192.0.2.1]",
     SMTP_ADDR_F_LITERAL_V6, SMTP_ADDR_TRICK_LITERAL},
    {"<user@[IPv6:2001:db8:0:0:0:0:0:1]>", 0, 0, SMTP_ADDR_OK, NULL, NULL,
     SMTP_ADDR_F_LITERAL_V6, SMTP_ADDR_TRICK_LITERAL},
    {"<user@[192.0.2.256]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[192.0.2]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[192.0.2.1.5]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[010.0.0.1]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[1234.0.0.1]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[192.0.2.1.]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[ 192.0.2.1]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[IPv6:1.2.3.4]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[IPv6:2001:db8::1%eth0]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[IPv6:2001:db8:::1]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[IPv6:]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[2001:db8::1]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[x400:foo]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[192.0.2.1>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@192.0.2.1]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[192.0.2.1].>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    {"<user@[[192.0.2.1]]>", 0, 0, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},
    /* 8-bit and UTF-8 */
    {"<j\xc3\xb6rg@x.example>", 0, 0, SMTP_ADDR_E8BIT, NULL, NULL, 0, 0},
    {"<j\xc3\xb6rg@x.example>", 0, U, SMTP_ADDR_OK, "j\xc3\xb6rg", "x.example",
     SMTP_ADDR_F_UTF8, 0},
    {"<a@b\xc3\xbc" "cher.example>", 0, 0, SMTP_ADDR_E8BIT, NULL, NULL, 0, 0},
    {"<a@b\xc3\xbc" "cher.example>", 0, U, SMTP_ADDR_OK, "a", "b\xc3\xbc" "cher.example",
     SMTP_ADDR_F_UTF8, 0},
    {"<\"j\xc3\xb6 rg\"@x>", 0, U, SMTP_ADDR_OK, "j\xc3\xb6 rg", "x", SMTP_ADDR_F_QUOTED, 0},
    {"<\"j\xc3\xb6 rg\"@x>", 0, 0, SMTP_ADDR_E8BIT, NULL, NULL, 0, 0},
    {"<\xe4\xbd\xa0\xe5\xa5\xbd@\xe4\xbe\x8b\xe5\xad\x90.example>", 0, U, SMTP_ADDR_OK, NULL,
     NULL, SMTP_ADDR_F_UTF8, 0},
    {"<\xf0\x9f\x98\x80@x>", 0, U, SMTP_ADDR_OK, "\xf0\x9f\x98\x80", "x", SMTP_ADDR_F_UTF8, 0},
    {"<\xc0\xaf@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},           /* overlong '/' */
    {"<\xc1\xbf@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},
    {"<\xe0\x80\xaf@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},       /* overlong 3 */
    {"<\xf0\x80\x80\xaf@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},   /* overlong 4 */
    {"<\xed\xa0\x80@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},       /* U+D800 */
    {"<\xed\xbf\xbf@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},       /* U+DFFF */
    {"<\xf4\x90\x80\x80@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},   /* > U+10FFFF */
    {"<\xf5\x80\x80\x80@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},
    {"<\xc3@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},               /* truncated */
    {"<\x80@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},               /* lone continuation */
    {"<\xff@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},
    {"<a@\xed\xa0\x80.example>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},
    {"<\"\xed\xa0\x80\"@x>", 0, U, SMTP_ADDR_EUTF8, NULL, NULL, 0, 0},
    {"<\"\\\xc3\xb6\"@x>", 0, U, SMTP_ADDR_ESYNTAX, NULL, NULL, 0, 0},   /* quoted-pair is ASCII */
    {"<\xed\x9f\xbf@x>", 0, U, SMTP_ADDR_OK, "\xed\x9f\xbf", "x", SMTP_ADDR_F_UTF8, 0}, /* U+D7FF */
    {"<\xf4\x8f\xbf\xbf@x>", 0, U, SMTP_ADDR_OK, NULL, NULL, SMTP_ADDR_F_UTF8, 0},     /* U+10FFFF */
};

static void check_case(const struct addr_case *c, size_t idx)
{
    struct smtp_addr a;
    size_t len = c->len ? c->len : strlen(c->in);
    enum smtp_addr_err e = smtp_addr_parse(c->in, len, c->flags, &a);

    if (e != c->err)
        fail_msg("case %zu \"%s\": got %d (%s), want %d", idx, c->in, e, smtp_addr_strerror(e),
                 c->err);
    if (e != SMTP_ADDR_OK) {
        if (a.local[0] || a.domain[0] || a.flags || a.local_len)
            fail_msg("case %zu: *out not cleared on error", idx);
        return;
    }
    if (c->local && strcmp(a.local, c->local) != 0)
        fail_msg("case %zu \"%s\": local \"%s\", want \"%s\"", idx, c->in, a.local, c->local);
    if (c->domain && strcmp(a.domain, c->domain) != 0)
        fail_msg("case %zu \"%s\": domain \"%s\", want \"%s\"", idx, c->in, a.domain, c->domain);
    if (strlen(a.local) != a.local_len || strlen(a.domain) != a.domain_len)
        fail_msg("case %zu: lengths", idx);
    if ((a.flags & c->want_flags) != c->want_flags)
        fail_msg("case %zu \"%s\": flags %#x, want %#x", idx, c->in, a.flags, c->want_flags);
    if (smtp_addr_tricks(&a) != c->tricks)
        fail_msg("case %zu \"%s\": tricks %#x, want %#x", idx, c->in, smtp_addr_tricks(&a),
                 c->tricks);
}

static void test_table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i], i);
}

static void test_route_reported(void **state)
{
    struct smtp_addr a;
    const char *p = "<@a.example,@b.example:user@c.example>";

    assert_int_equal(smtp_addr_parse(p, strlen(p), 0, &a), SMTP_ADDR_OK);
    assert_string_equal(a.route, "@a.example,@b.example");
    assert_int_equal(smtp_addr_local_route_chars(&a), 0);
}

/* Fill dst with n copies of c. */
static char *rep(char *dst, char c, size_t n)
{
    memset(dst, c, n);
    return dst + n;
}

static void test_limits(void **state)
{
    char s[600], *p;
    struct smtp_addr a;
    int lit;

    /* local part: 64 ok, 65 too long */
    p = s;
    *p++ = '<';
    p = rep(p, 'a', 64);
    p += sprintf(p, "@x>");
    assert_int_equal(smtp_addr_parse(s, (size_t)(p - s), 0, &a), SMTP_ADDR_OK);
    assert_int_equal(a.local_len, 64);
    p = s;
    *p++ = '<';
    p = rep(p, 'a', 65);
    p += sprintf(p, "@x>");
    assert_int_equal(smtp_addr_parse(s, (size_t)(p - s), 0, &a), SMTP_ADDR_ELOCAL_LONG);
    /* 65 with no domain */
    assert_int_equal(smtp_addr_parse(s, 66, 0, &a), SMTP_ADDR_ESYNTAX);
    memcpy(s + 66, ">", 1);
    assert_int_equal(smtp_addr_parse(s, 67, 0, &a), SMTP_ADDR_ELOCAL_LONG);

    /* quoted local part: the quotes count. 62 + 2 = 64 ok, 63 + 2 too long */
    p = s;
    *p++ = '<';
    *p++ = '"';
    p = rep(p, 'b', 62);
    p += sprintf(p, "\"@x>");
    assert_int_equal(smtp_addr_parse(s, (size_t)(p - s), 0, &a), SMTP_ADDR_OK);
    assert_int_equal(a.local_len, 62);
    p = s;
    *p++ = '<';
    *p++ = '"';
    p = rep(p, 'b', 63);
    p += sprintf(p, "\"@x>");
    assert_int_equal(smtp_addr_parse(s, (size_t)(p - s), 0, &a), SMTP_ADDR_ELOCAL_LONG);
    /* backslashes count too: 31 pairs = 62 + quotes = 64 ok; 32 pairs too long */
    p = s;
    *p++ = '<';
    *p++ = '"';
    for (int i = 0; i < 31; i++)
        p += sprintf(p, "\\\\");
    p += sprintf(p, "\"@x>");
    assert_int_equal(smtp_addr_parse(s, (size_t)(p - s), 0, &a), SMTP_ADDR_OK);
    assert_int_equal(a.local_len, 31);
    p = s;
    *p++ = '<';
    *p++ = '"';
    for (int i = 0; i < 32; i++)
        p += sprintf(p, "\\\\");
    p += sprintf(p, "\"@x>");
    assert_int_equal(smtp_addr_parse(s, (size_t)(p - s), 0, &a), SMTP_ADDR_ELOCAL_LONG);
    /* UTF-8: octets count. 32 x 2-octet = 64 ok; plus one more too long */
    p = s;
    *p++ = '<';
    for (int i = 0; i < 32; i++)
        p += sprintf(p, "\xc3\xa9");
    p += sprintf(p, "@x>");
    assert_int_equal(smtp_addr_parse(s, (size_t)(p - s), U, &a), SMTP_ADDR_OK);
    p = s;
    *p++ = '<';
    *p++ = 'a';
    for (int i = 0; i < 32; i++)
        p += sprintf(p, "\xc3\xa9");
    p += sprintf(p, "@x>");
    assert_int_equal(smtp_addr_parse(s, (size_t)(p - s), U, &a), SMTP_ADDR_ELOCAL_LONG);

    /* path: 256 ok, 257 too long. "<" + 64 + "@" + domain + ">" */
    p = s;
    *p++ = '<';
    p = rep(p, 'a', 64);
    *p++ = '@';
    for (int i = 0; i < 3; i++) {
        p = rep(p, 'd', 62);
        *p++ = '.';
    }
    p = rep(p, 'e', 256 - 2 - 65 - 189);
    *p++ = '>';
    assert_int_equal((size_t)(p - s), 256);
    assert_int_equal(smtp_addr_parse(s, 256, 0, &a), SMTP_ADDR_OK);
    p[-1] = 'e';
    *p++ = '>';
    assert_int_equal(smtp_addr_parse(s, 257, 0, &a), SMTP_ADDR_EPATH_LONG);
    /* bare: counted as if bracketed, so 254 ok, 255 too long */
    assert_int_equal(smtp_addr_parse(s + 1, 254, B, &a), SMTP_ADDR_OK);
    assert_int_equal(smtp_addr_parse(s + 1, 255, B, &a), SMTP_ADDR_EPATH_LONG);
    /* huge input: bounded answer */
    {
        static char big[100000];

        memset(big, 'a', sizeof(big));
        big[0] = '<';
        big[sizeof(big) - 1] = '>';
        assert_int_equal(smtp_addr_parse(big, sizeof(big), 0, &a), SMTP_ADDR_EPATH_LONG);
        assert_int_equal(smtp_addr_parse(big + 1, sizeof(big) - 2, B, &a), SMTP_ADDR_EPATH_LONG);
        assert_int_equal(smtp_addr_check_domain(big + 1, sizeof(big) - 2, 0, &lit),
                         SMTP_ADDR_EDOMAIN_LONG);
    }

    /* domain on its own: 255 ok, 256 too long; label 63 ok, 64 too long */
    p = s;
    for (int i = 0; i < 4; i++) {
        p = rep(p, 'd', 63);
        if (i < 3)
            *p++ = '.';
    }
    assert_int_equal((size_t)(p - s), 255);
    assert_int_equal(smtp_addr_check_domain(s, 255, 0, &lit), SMTP_ADDR_OK);
    assert_int_equal(lit, 0);
    *p++ = 'd';
    assert_int_equal(smtp_addr_check_domain(s, 256, 0, &lit), SMTP_ADDR_EDOMAIN_LONG);
    rep(s, 'l', 64);
    assert_int_equal(smtp_addr_check_domain(s, 64, 0, NULL), SMTP_ADDR_EDOMAIN_LONG);
    assert_int_equal(smtp_addr_check_domain(s, 63, 0, NULL), SMTP_ADDR_OK);
    /* label > 63 inside a path */
    p = s;
    p += sprintf(p, "<a@");
    p = rep(p, 'l', 64);
    p += sprintf(p, ".example>");
    assert_int_equal(smtp_addr_parse(s, (size_t)(p - s), 0, &a), SMTP_ADDR_EDOMAIN_LONG);
}

static void test_check_domain(void **state)
{
    int lit = -1;

    assert_int_equal(smtp_addr_check_domain("mail.example.org", 16, 0, &lit), SMTP_ADDR_OK);
    assert_int_equal(lit, 0);
    assert_int_equal(smtp_addr_check_domain("[192.0.2.1]", 11, 0, &lit), SMTP_ADDR_OK);
    assert_int_equal(lit, 1);
    assert_int_equal(smtp_addr_check_domain("[IPv6:::1]", 10, 0, &lit), SMTP_ADDR_OK);
    assert_int_equal(smtp_addr_check_domain("example.org.", 12, 0, NULL), SMTP_ADDR_ESYNTAX);
    assert_int_equal(smtp_addr_check_domain("", 0, 0, NULL), SMTP_ADDR_ESYNTAX);
    assert_int_equal(smtp_addr_check_domain(NULL, 5, 0, NULL), SMTP_ADDR_ESYNTAX);
    assert_int_equal(smtp_addr_check_domain("a b", 3, 0, NULL), SMTP_ADDR_ESYNTAX);
    assert_int_equal(smtp_addr_check_domain("b\xc3\xbc" "cher.de", 10, 0, NULL), SMTP_ADDR_E8BIT);
    assert_int_equal(smtp_addr_check_domain("b\xc3\xbc" "cher.de", 10, U, NULL), SMTP_ADDR_OK);
    assert_int_equal(smtp_addr_check_domain("b\xc3" "cher.de", 9, U, NULL), SMTP_ADDR_EUTF8);
}

struct utf8_case {
    const char *s;
    int ok;
};

static void test_utf8(void **state)
{
    static const struct utf8_case u[] = {
        {"", 1}, {"plain", 1}, {"\xc2\x80", 1}, {"\xdf\xbf", 1}, {"\xe0\xa0\x80", 1},
        {"\xef\xbf\xbf", 1}, {"\xf0\x90\x80\x80", 1}, {"\xf4\x8f\xbf\xbf", 1},
        {"\xc0\x80", 0}, {"\xc1\xbf", 0}, {"\xe0\x9f\xbf", 0}, {"\xf0\x8f\xbf\xbf", 0},
        {"\xed\xa0\x80", 0}, {"\xed\xaf\xbf", 0}, {"\xed\xb0\x80", 0}, {"\xed\xbf\xbf", 0},
        {"\xf4\x90\x80\x80", 0}, {"\xf8\x88\x80\x80\x80", 0}, {"\xfe", 0}, {"\xff", 0},
        {"\x80", 0}, {"\xbf", 0}, {"\xc2", 0}, {"\xe0\xa0", 0}, {"\xf0\x90\x80", 0},
        {"\xc2\x41", 0}, {"a\xe2\x82\xac" "b", 1}, {"\xe2\x82", 0},
    };

    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
        if (smtp_utf8_valid(u[i].s, strlen(u[i].s)) != u[i].ok)
            fail_msg("utf8 case %zu", i);
    assert_int_equal(smtp_utf8_valid("a\0b", 3), 1);
    assert_int_equal(smtp_utf8_valid(NULL, 0), 1);
}

struct quote_case {
    const char *local;
    const char *want;
};

static void test_quote_local(void **state)
{
    static const struct quote_case q[] = {
        {"user", "user"},
        {"first.last", "first.last"},
        {"a+b=c", "a+b=c"},
        {"a b", "\"a b\""},
        {"a\"b", "\"a\\\"b\""},
        {"a\\b", "\"a\\\\b\""},
        {"a..b", "\"a..b\""},
        {".a", "\".a\""},
        {"a.", "\"a.\""},
        {"", "\"\""},
        {"user@other", "\"user@other\""},
        {"a(b)", "\"a(b)\""},
        {"j\xc3\xb6rg", "j\xc3\xb6rg"},
        {"a\x01" "b", "\"a\\\x01" "b\""},
    };
    struct buf b = BUF_INIT;

    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        buf_reset(&b);
        assert_int_equal(smtp_addr_quote_local(&b, q[i].local, strlen(q[i].local)), 0);
        if (strcmp(buf_str(&b), q[i].want) != 0)
            fail_msg("quote \"%s\": got %s want %s", q[i].local, buf_str(&b), q[i].want);
    }
    /* at the limit: fails and leaves the buffer as it was */
    buf_free(&b);
    buf_init(&b, 5);
    buf_puts(&b, "xy");
    assert_int_equal(smtp_addr_quote_local(&b, "a b c", 5), -1);
    assert_string_equal(buf_str(&b), "xy");
    buf_free(&b);
}

static void test_format_roundtrip(void **state)
{
    static const struct {
        const char *in;
        unsigned flags;
        const char *ext;        /* smtp_addr_format() */
        const char *internal;   /* smtp_addr_internal() */
    } r[] = {
        {"<user@example.org>", 0, "user@example.org", "user@example.org"},
        {"<>", N, "", ""},
        {"<\"a b\"@x>", 0, "\"a b\"@x", "a b@x"},
        {"<\"user\"@x>", 0, "user@x", "user@x"},
        {"<\"\\u\\s\\e\\r\"@x>", 0, "user@x", "user@x"},
        {"<\"a@b\"@c>", 0, "\"a@b\"@c", "a@b@c"},
        {"<\"a\\\"b\"@c>", 0, "\"a\\\"b\"@c", "a\"b@c"},
        {"<@r.example:u@x.example.>", 0, "u@x.example.", "u@x.example"},
        {"<u@[IPv6:2001:db8::1]>", 0, "u@[IPv6:2001:db8::1]", "u@[IPv6:2001:db8::1]"},
        {"<postmaster>", 0, "postmaster", "postmaster"},
        {"<\"a..b\">", 0, "\"a..b\"", "a..b"},
        {"<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", U, "j\xc3\xb6rg@b\xc3\xbc" "cher.example",
         "j\xc3\xb6rg@b\xc3\xbc" "cher.example"},
    };
    struct buf b = BUF_INIT, p = BUF_INIT;

    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        struct smtp_addr a, a2;
        const unsigned keep = SMTP_ADDR_F_NULL | SMTP_ADDR_F_TRAILING_DOT | SMTP_ADDR_F_LITERAL
                              | SMTP_ADDR_F_LITERAL_V6 | SMTP_ADDR_F_NO_DOMAIN | SMTP_ADDR_F_UTF8;

        assert_int_equal(smtp_addr_parse(r[i].in, strlen(r[i].in), r[i].flags, &a), SMTP_ADDR_OK);
        buf_reset(&b);
        assert_int_equal(smtp_addr_format(&b, &a), 0);
        if (strcmp(buf_str(&b), r[i].ext) != 0)
            fail_msg("format %s: got %s want %s", r[i].in, buf_str(&b), r[i].ext);
        buf_reset(&b);
        assert_int_equal(smtp_addr_internal(&b, &a), 0);
        if (strcmp(buf_str(&b), r[i].internal) != 0)
            fail_msg("internal %s: got %s want %s", r[i].in, buf_str(&b), r[i].internal);
        buf_reset(&p);
        assert_int_equal(smtp_addr_format_path(&p, &a), 0);
        assert_int_equal(smtp_addr_parse(p.data, p.len, r[i].flags, &a2), SMTP_ADDR_OK);
        assert_string_equal(a.local, a2.local);
        assert_string_equal(a.domain, a2.domain);
        assert_int_equal(a.flags & keep, a2.flags & keep);
    }
    buf_free(&b);
    buf_free(&p);
}

static void test_canonicalise(void **state)
{
    struct smtp_addr a;
    const char *s1 = "<User@EXAMPLE.Org.>";
    const char *s2 = "<u@[IPv6:2001:DB8::1]>";

    assert_int_equal(smtp_addr_parse(s1, strlen(s1), 0, &a), SMTP_ADDR_OK);
    smtp_addr_canonicalise(&a);
    assert_string_equal(a.local, "User");
    assert_string_equal(a.domain, "example.org");
    assert_int_equal(a.flags & SMTP_ADDR_F_TRAILING_DOT, 0);
    assert_int_equal(smtp_addr_tricks(&a), 0);
    assert_int_equal(smtp_addr_parse(s2, strlen(s2), 0, &a), SMTP_ADDR_OK);
    smtp_addr_canonicalise(&a);
    assert_string_equal(a.domain, "[ipv6:2001:db8::1]");
}

static void test_strerror(void **state)
{
    for (int e = SMTP_ADDR_OK; e <= SMTP_ADDR_EUTF8; e++)
        assert_non_null(smtp_addr_strerror((enum smtp_addr_err)e));
    assert_string_equal(smtp_addr_strerror((enum smtp_addr_err)99), "unknown address error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_route_reported),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_check_domain),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_quote_local),
        cmocka_unit_test(test_format_roundtrip),
        cmocka_unit_test(test_canonicalise),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
