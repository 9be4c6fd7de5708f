/*
 * test_mastercf - unit tests for lib/mastercf: Postfix master.cf syntax,
 * column checks, -o forms, { } grouping, limits, error messages with file
 * and line, duplicate services, and `postconf -M` formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "maincf.h"
#include "mastercf.h"
#include "mem.h"

#define MCF "/etc/postern/master.cf"

/* Shared default configuration. */
static int setup(void **state)
{
    *state = config_defaults();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    config_free(*state);
    return 0;
}

/* Parse text; NULL and err on failure. */
static struct mastercf *parse(void **state, const char *text, size_t len,
                              struct buf *err)
{
    buf_init(err, 0);
    return mastercf_parse(MCF, text, len, *state, err);
}

/* Parse text that must be accepted. */
static struct mastercf *parse_ok(void **state, const char *text)
{
    struct buf err;
    struct mastercf *mcf = parse(state, text, strlen(text), &err);

    if (mcf == NULL)
        fail_msg("unexpected error for <%s>: %s", text, buf_str(&err));
    buf_free(&err);
    return mcf;
}

/* Parse text (len bytes) that must fail with want in the message. */
static void parse_fails(void **state, const char *text, size_t len, const char *want)
{
    struct buf err;
    struct mastercf *mcf = parse(state, text, len, &err);

    if (mcf != NULL)
        fail_msg("accepted <%.*s>, expected \"%s\"", (int)len, text, want);
    if (strstr(buf_str(&err), want) == NULL)
        fail_msg("for <%.*s>: error \"%s\" lacks \"%s\"", (int)len, text,
                 buf_str(&err), want);
    buf_free(&err);
}

/* Table of one-line (or few-line) files that must be rejected. */
static void test_bad_entries(void **state)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        /* missing columns */
        { "smtp\n", MCF ", line 1: missing type" },
        { "smtp inet\n", MCF ", line 1: missing private" },
        { "smtp inet n\n", MCF ", line 1: missing unpriv" },
        { "smtp inet n -\n", MCF ", line 1: missing chroot" },
        { "smtp inet n - y\n", MCF ", line 1: missing wakeup" },
        { "smtp inet n - y -\n", MCF ", line 1: missing maxproc" },
        { "smtp inet n - y - -\n", MCF ", line 1: missing command" },
        { "# c\n\nsmtp inet n - y - -\n", MCF ", line 3: missing command" },
        /* booleans */
        { "smtp inet x - y - - smtpd\n", "line 1: bad private column: \"x\"" },
        { "smtp inet n yes y - - smtpd\n", "bad unpriv column: \"yes\"" },
        { "smtp inet n - Y - - smtpd\n", "bad chroot column: \"Y\"" },
        { "smtp inet n - 1 - - smtpd\n", "bad chroot column" },
        { "smtp inet y - y - - smtpd\n", "inet service cannot be private" },
        /* wakeup */
        { "p unix n - y abc 1 pickup\n", "bad wakeup column: \"abc\"" },
        { "p unix n - y 5?? 1 pickup\n", "bad wakeup column" },
        { "p unix n - y ? 1 pickup\n", "bad wakeup column" },
        { "p unix n - y -5 1 pickup\n", "bad wakeup column" },
        { "p unix n - y +5 1 pickup\n", "bad wakeup column" },
        { "p unix n - y 99999999999 1 pickup\n", "bad wakeup column" },
        { "p unix n - y -? 1 pickup\n", "bad wakeup column" },
        { "smtp inet n - y 60 - smtpd\n", "wakeup is supported for unix services only" },
        /* maxproc */
        { "p unix n - y - abc pickup\n", "bad maxproc column: \"abc\"" },
        { "p unix n - y - -1 pickup\n", "bad maxproc column: \"-1\"" },
        { "p unix n - y - +1 pickup\n", "bad maxproc column" },
        { "p unix n - y - 1x pickup\n", "bad maxproc column" },
        { "p unix n - y - 99999999999 pickup\n", "bad maxproc column" },
        /* types */
        { "p fifo n - y - 1 pickup\n", "service type fifo is not supported; use unix" },
        { "p pass n - y - 1 pickup\n", "service type pass is not supported; use unix" },
        { "p unix-dgram n - y - 1 pickup\n", "service type unix-dgram is not supported" },
        { "p tcp n - y - 1 pickup\n", "bad service type: \"tcp\"" },
        { "p INET n - y - 1 pickup\n", "bad service type" },
        /* inet names */
        { "0 inet n - y - - smtpd\n", "bad port in inet service \"0\"" },
        { "65536 inet n - y - - smtpd\n", "bad port" },
        { "-1 inet n - y - - smtpd\n", "bad port" },
        { "no_such_service_xyz inet n - y - - smtpd\n", "bad port" },
        { "host: inet n - y - - smtpd\n", "bad port" },
        { ":25 inet n - y - - smtpd\n", "bad host name" },
        { "bad/host:25 inet n - y - - smtpd\n", "bad host name" },
        { "::1:25 inet n - y - - smtpd\n", "[address]:port" },
        { "[zz]:25 inet n - y - - smtpd\n", "bad IPv6 address" },
        { "[::1]25 inet n - y - - smtpd\n", "expected [address]:port" },
        { "[::1 inet n - y - - smtpd\n", "expected [address]:port" },
        { "[::1]:0 inet n - y - - smtpd\n", "bad port" },
        /* unix names and commands */
        { "../x unix n - y - - x\n", "bad unix service name" },
        { "a/b unix n - y - - x\n", "bad unix service name" },
        { ".hidden unix n - y - - x\n", "bad unix service name" },
        { "a unix n - y - - bin/x\n", "bad command \"bin/x\"" },
        /* -o */
        { "smtp inet n - y - - smtpd -o\n", "line 1: -o without name=value" },
        { "smtp inet n - y - - smtpd -o foo\n", "bad -o argument \"foo\"" },
        { "smtp inet n - y - - smtpd -o =x\n", "bad -o argument" },
        { "smtp inet n - y - - smtpd -o\n  { = x }\n", "bad -o argument" },
        { "smtp inet n - y - - smtpd -o no_such_parameter_xyz=1\n",
          MCF ", line 1: unknown parameter" },
        { "smtp inet n - y - - smtpd -ono_such_parameter_xyz=1\n", "unknown parameter" },
        { "smtp inet n - y - - smtpd -o { no_such_parameter_xyz = 1 }\n",
          "unknown parameter" },
        { "smtp inet n - y - - smtpd -o default_process_limit=many\n",
          MCF ", line 1" },
        { "smtp inet n - y - - smtpd -o smtpd_hard_error_limit=many\n",
          MCF ", line 1" },
        /* braces */
        { "smtp inet n - y - - smtpd -o { a = b\n", "missing '}'" },
        { "smtp inet n - y - - smtpd x}\n", "unbalanced '}'" },
        { "smtp inet n - y - - smtpd }\n", "unbalanced '}'" },
        { "smtp inet n - y - - smtpd {a}b\n", "text after '}'" },
        { "smtp inet n - y - - smtpd a{b\n", "missing '}'" },
        { "smtp inet n - y - - smtpd { {a }\n", "missing '}'" },
        /* structure */
        { "  smtpd\n", "line 1: continuation line without a service" },
        { "smtp inet n - y - - smtpd\nsmtp inet n - y - - smtpd\n",
          MCF ", line 2: duplicate service smtp/inet (first defined on line 1)" },
        { "smtp inet n - y - - smtpd\n#\nx unix - - - - - x\n"
          "smtp inet n - n - 5\n  smtpd\n",
          "line 4: duplicate service smtp/inet (first defined on line 1)" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        parse_fails(state, cases[i].text, strlen(cases[i].text), cases[i].want);
}

/* NUL bytes anywhere in a line are an error naming the line. */
static void test_nul_bytes(void **state)
{
    static const char a[] = "smtp inet n - y - - smtpd\0\n";
    static const char b[] = "# ok\nsmtp inet n - y - - smtpd\n  -o a\0b\n";
    static const char c[] = "# comment with \0 NUL\n";
    static const char d[] = "\0";

    parse_fails(state, a, sizeof(a) - 1, MCF ", line 1: NUL byte in line");
    parse_fails(state, b, sizeof(b) - 1, MCF ", line 3: NUL byte in line");
    parse_fails(state, c, sizeof(c) - 1, MCF ", line 1: NUL byte in line");
    parse_fails(state, d, sizeof(d) - 1, MCF ", line 1: NUL byte in line");
}

/* A logical line over the limit, and a file over the limit. */
static void test_huge_input(void **state)
{
    struct buf text;
    struct buf err;
    struct mastercf *mcf;
    int i;

    buf_init(&text, 0);
    buf_puts(&text, "smtp inet n - y - - smtpd\n");
    for (i = 0; i < 20000; i++)
        buf_puts(&text, "  -v\n");
    parse_fails(state, text.data, text.len, MCF ", line 1: line too long");
    buf_reset(&text);
    buf_puts(&text, "smtp inet n - y - - smtpd ");
    for (i = 0; i < 70000; i++)
        buf_putc(&text, 'x');
    parse_fails(state, text.data, text.len, MCF ", line 1: line too long");

    buf_reset(&text);
    while (text.len <= MASTERCF_MAX_FILE)
        buf_puts(&text, "# filler filler filler filler filler filler filler\n");
    parse_fails(state, text.data, text.len, MCF ": file too large");
    buf_truncate(&text, MASTERCF_MAX_FILE);      /* exactly at the limit: fine */
    mcf = parse(state, text.data, text.len, &err);
    assert_non_null(mcf);
    assert_int_equal(mcf->count, 0);
    mastercf_free(mcf);
    buf_free(&err);
    buf_free(&text);
}

/* MASTERCF_MAX_ARGS arguments pass; one more does not. */
static void test_arg_limit(void **state)
{
    struct buf text;
    struct mastercf *mcf;
    int i;

    buf_init(&text, 0);
    buf_puts(&text, "x unix - - - - - x");
    for (i = 0; i < MASTERCF_MAX_ARGS; i++)
        buf_puts(&text, " a");
    buf_putc(&text, '\n');
    mcf = parse_ok(state, buf_str(&text));
    assert_int_equal(mcf->count, 1);
    for (i = 0; mcf->services[0].args[i]; i++)
        /* count */ ;
    assert_int_equal(i, MASTERCF_MAX_ARGS);
    mastercf_free(mcf);
    buf_truncate(&text, text.len - 1);
    buf_puts(&text, " a\n");
    parse_fails(state, text.data, text.len, "line 1: too many arguments");
    buf_free(&text);
}

/* Every bad line is reported, each with its own line number. */
static void test_all_errors_reported(void **state)
{
    static const char text[] =
        "smtp inet n - y - - smtpd\n"
        "bad1 unix x - - - - x\n"           /* 2 */
        "# comment\n"
        "good unix - - - - - x\n"
        "bad2 unix - - - abc - x\n"         /* 5 */
        "bad3 unix - -\n"                   /* 6 */
        "  - - - x -o no_such_param=1\n"
        "p unix n - y 60 1 pickup\n"
        "smtp inet n - y - - smtpd\n";      /* 9: duplicate */
    struct buf err;
    struct mastercf *mcf = parse(state, text, sizeof(text) - 1, &err);

    assert_null(mcf);
    assert_non_null(strstr(buf_str(&err), MCF ", line 2: bad private column"));
    assert_non_null(strstr(buf_str(&err), MCF ", line 5: bad wakeup column"));
    assert_non_null(strstr(buf_str(&err), MCF ", line 6: unknown parameter"));
    assert_non_null(strstr(buf_str(&err), MCF ", line 9: duplicate service smtp/inet"));
    assert_null(strstr(buf_str(&err), "line 4"));
    assert_null(strstr(buf_str(&err), "line 8"));
    buf_free(&err);
}

/* Columns and defaults of good entries. */
static void test_columns(void **state)
{
    static const char text[] =
        "# Postfix-style master.cf\n"
        "#\n"
        "smtp      inet  n       -       y       -       -       smtpd\n"
        "pickup    unix  n       -       y       60      1       pickup\n"
        "qmgr      unix  n       -       n       300?    1       qmgr\n"
        "local     unix  -       n       n       -       -       local\n"
        "127.0.0.1:10025 inet n - n - 0 smtpd\n"
        "[::1]:smtp inet - - - - - smtpd\n"
        "submission inet n - - - 7 /usr/lib/postern/smtpd\n"
        "smtp      unix  -       -       y       -       -       smtp\n";
    struct mastercf *mcf = parse_ok(state, text);
    const struct service_def *s;
    struct buf key;

    buf_init(&key, 0);
    assert_string_equal(mcf->path, MCF);
    assert_int_equal(mcf->count, 8);
    s = mcf->services;
    assert_string_equal(s->name, "smtp");
    assert_int_equal(s->type, SERVICE_INET);
    assert_int_equal(s->private_, 0);
    assert_int_equal(s->unpriv, 1);
    assert_int_equal(s->chroot, 1);
    assert_int_equal(s->wakeup, 0);
    assert_int_equal(s->maxproc, 100);
    assert_string_equal(s->command, "smtpd");
    assert_null(s->args[0]);
    assert_null(s->override_names[0]);
    assert_int_equal(s->line, 3);
    assert_string_equal(service_def_key(s, &key), "smtp/inet");
    s = mcf->services + 1;
    assert_int_equal(s->type, SERVICE_UNIX);
    assert_int_equal(s->private_, 0);
    assert_int_equal(s->wakeup, 60);
    assert_int_equal(s->wakeup_if_running, 0);
    assert_int_equal(s->maxproc, 1);
    s = mcf->services + 2;
    assert_int_equal(s->chroot, 0);
    assert_int_equal(s->wakeup, 300);
    assert_int_equal(s->wakeup_if_running, 1);
    s = mcf->services + 3;
    assert_int_equal(s->private_, 1);
    assert_int_equal(s->unpriv, 0);
    s = mcf->services + 4;
    assert_string_equal(s->name, "127.0.0.1:10025");
    assert_int_equal(s->maxproc, 0);
    s = mcf->services + 5;
    assert_int_equal(s->private_, 0);   /* '-' for inet is n */
    assert_int_equal(s->chroot, 0);
    s = mcf->services + 6;
    assert_string_equal(s->command, "/usr/lib/postern/smtpd");
    assert_int_equal(s->maxproc, 7);
    assert_string_equal(service_def_key(mcf->services + 7, &key), "smtp/unix");
    buf_free(&key);
    mastercf_free(mcf);
}

/* maxproc '-' follows default_process_limit from main.cf. */
static void test_default_process_limit(void **state)
{
    static const char maincf[] = "default_process_limit = 7\n";
    struct buf err;
    struct config *cfg;
    struct mastercf *mcf;

    buf_init(&err, 0);
    cfg = config_parse("main.cf", maincf, sizeof(maincf) - 1, &err);
    assert_non_null(cfg);
    mcf = mastercf_parse(MCF, "x unix - - - - - x\n", 19, cfg, &err);
    assert_non_null(mcf);
    assert_int_equal(mcf->services[0].maxproc, 7);
    mastercf_free(mcf);
    config_free(cfg);
    buf_free(&err);
}

/* Continuation lines, comments inside them, blank lines and CRLF. */
static void test_continuation_crlf(void **state)
{
    static const char text[] =
        "\r\n"
        "submission inet n - y - - smtpd\r\n"
        "  -o syslog_name=postern/submission\r\n"
        "# a comment inside the entry\r\n"
        "   # an indented comment\r\n"
        "\r\n"
        "\t-o smtpd_tls_security_level=encrypt\r\n"
        "  -o { smtpd_client_restrictions = permit_mynetworks, reject }\r\n"
        "pickup unix n - y 60 1 pickup\r\n"
        "  \r\n";
    struct mastercf *mcf = parse_ok(state, text);
    const struct service_def *s = mcf->services;

    assert_int_equal(mcf->count, 2);
    assert_int_equal(s->line, 2);
    assert_string_equal(s->override_names[0], "syslog_name");
    assert_string_equal(s->override_values[0], "postern/submission");
    assert_string_equal(s->override_names[1], "smtpd_tls_security_level");
    assert_string_equal(s->override_values[1], "encrypt");
    assert_string_equal(s->override_names[2], "smtpd_client_restrictions");
    assert_string_equal(s->override_values[2], "permit_mynetworks, reject");
    assert_null(s->override_names[3]);
    assert_string_equal(s->args[0], "-o");
    assert_string_equal(s->args[1], "syslog_name=postern/submission");
    assert_string_equal(s->args[5], "smtpd_client_restrictions=permit_mynetworks, reject");
    assert_null(s->args[6]);
    assert_string_equal(mcf->services[1].command, "pickup");
    assert_int_equal(mcf->services[1].line, 9);
    mastercf_free(mcf);
}

/* The three -o forms, other options, and { } grouped arguments. */
static void test_override_forms(void **state)
{
    static const char text[] =
        "smtp inet n - y - - smtpd -v -o syslog_name=a -osmtpd_banner=b\n"
        "  -o { smtpd_timeout = 30s } -o{ignored} -D\n"
        "  { two words } {   } x=${name} -o mail_name=$myhostname\n";
    struct mastercf *mcf;
    const struct service_def *s;
    static const char *const want[] = {
        "-v", "-o", "syslog_name=a", "-o", "smtpd_banner=b", "-o",
        "smtpd_timeout=30s", "-o{ignored}", "-D", "two words", "", "x=${name}",
        "-o", "mail_name=$myhostname", NULL,
    };
    int i;

    /* "-o{ignored}" is a plain word that starts with -o: it must be name=value */
    parse_fails(state, text, sizeof(text) - 1, "bad -o argument \"{ignored}\"");
    mcf = parse_ok(state,
        "smtp inet n - y - - smtpd -v -o syslog_name=a -osmtpd_banner=b\n"
        "  -o { smtpd_timeout = 30s } {-o{ignored}} -D\n"
        "  { two words } {   } x=${name} -o mail_name=$myhostname\n");
    s = mcf->services;
    for (i = 0; want[i]; i++) {
        assert_non_null(s->args[i]);
        assert_string_equal(s->args[i], want[i]);
    }
    assert_null(s->args[i]);
    assert_string_equal(s->override_names[2], "smtpd_timeout");
    assert_string_equal(s->override_values[2], "30s");
    assert_string_equal(s->override_values[3], "$myhostname");     /* unexpanded */
    assert_null(s->override_names[4]);
    mastercf_free(mcf);
}

/* `postconf -M` style lines. */
static void test_format(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "smtp inet n - y - - smtpd\n",
          "smtp       inet  n       -       y       -       -       smtpd" },
        { "pickup    unix  n       -       y       60      1       pickup\n",
          "pickup     unix  n       -       y       60      1       pickup" },
        { "qmgr unix n - n 300? 1 qmgr\n",
          "qmgr       unix  n       -       -       300?    1       qmgr" },
        { "local unix y n n 0 100 local\n",
          "local      unix  -       n       -       -       100     local" },
        { "submission inet n - y - - smtpd -o syslog_name=postern/submission"
          " -o { smtpd_client_restrictions = permit_mynetworks, reject }"
          " { a b } -v\n",
          "submission inet  n       -       y       -       -       smtpd"
          " -o syslog_name=postern/submission"
          " -o { smtpd_client_restrictions = permit_mynetworks, reject }"
          " { a b } -v" },
        { "verylongservicename unix - - - - - x {}\n",
          "verylongservicename unix  -       -       -       -       -       x {  }" },
    };
    struct buf out;
    struct mastercf *mcf, *again;
    size_t i;

    buf_init(&out, 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mcf = parse_ok(state, cases[i].in);
        buf_reset(&out);
        service_def_format(mcf->services, &out);
        assert_string_equal(buf_str(&out), cases[i].out);
        buf_putc(&out, '\n');
        again = parse_ok(state, buf_str(&out));
        assert_true(service_def_equal(mcf->services, again->services));
        mastercf_free(again);
        mastercf_free(mcf);
    }
    buf_free(&out);
}

/* service_def_equal notices every difference but the line number. */
static void test_equal(void **state)
{
    static const char *const variants[] = {
        "a unix - - - - - x\n",
        "a unix n - - - - x\n",
        "a unix - n - - - x\n",
        "a unix - - y - - x\n",
        "a unix - - - 5 - x\n",
        "a unix - - - 5? - x\n",
        "a unix - - - - 3 x\n",
        "a unix - - - - - y\n",
        "a unix - - - - - x -v\n",
        "a unix - - - - - x -o syslog_name=q\n",
        "smtp inet n - - - - x\n",
    };
    struct mastercf *m[sizeof(variants) / sizeof(variants[0])], *moved;
    size_t i, j, n = sizeof(variants) / sizeof(variants[0]);

    for (i = 0; i < n; i++)
        m[i] = parse_ok(state, variants[i]);
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            assert_int_equal(service_def_equal(m[i]->services, m[j]->services), i == j);
    moved = parse_ok(state, "# moved down\n\na unix - - - - - x\n");
    assert_int_equal(moved->services[0].line, 3);
    assert_true(service_def_equal(m[0]->services, moved->services));
    mastercf_free(moved);
    for (i = 0; i < n; i++)
        mastercf_free(m[i]);
}

/* Same name with another type is not a duplicate; empty file is fine. */
static void test_not_duplicates(void **state)
{
    struct mastercf *mcf;

    mcf = parse_ok(state, "smtp inet n - y - - smtpd\nsmtp unix - - y - - smtp\n");
    assert_int_equal(mcf->count, 2);
    mastercf_free(mcf);
    mcf = parse_ok(state, "");
    assert_int_equal(mcf->count, 0);
    mastercf_free(mcf);
    mcf = parse_ok(state, "# only comments\n\n   \n\t# x\n");
    assert_int_equal(mcf->count, 0);
    mastercf_free(mcf);
    mcf = parse_ok(state, "x unix - - - - - x");     /* no final newline */
    assert_int_equal(mcf->count, 1);
    mastercf_free(mcf);
}

/* mastercf_load reads a file; a missing file is an error naming it. */
static void test_load(void **state)
{
    char dir[] = "/tmp/test_mastercf.XXXXXX";
    struct buf path, err;
    struct mastercf *mcf;
    FILE *fp;

    assert_non_null(mkdtemp(dir));
    buf_init(&path, 0);
    buf_init(&err, 0);
    buf_printf(&path, "%s/master.cf", dir);
    assert_null(mastercf_load(buf_str(&path), *state, &err));
    assert_non_null(strstr(buf_str(&err), buf_str(&path)));
    fp = fopen(buf_str(&path), "w");
    assert_non_null(fp);
    fputs("smtp inet n - y - - smtpd\nbad unix\n", fp);
    fclose(fp);
    buf_reset(&err);
    assert_null(mastercf_load(buf_str(&path), *state, &err));
    assert_non_null(strstr(buf_str(&err), "master.cf, line 2: missing private"));
    fp = fopen(buf_str(&path), "w");
    fputs("smtp inet n - y - - smtpd\n", fp);
    fclose(fp);
    mcf = mastercf_load(buf_str(&path), *state, &err);
    assert_non_null(mcf);
    assert_string_equal(mcf->path, buf_str(&path));
    mastercf_free(mcf);
    unlink(buf_str(&path));
    rmdir(dir);
    buf_free(&path);
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_huge_input),
        cmocka_unit_test(test_arg_limit),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_default_process_limit),
        cmocka_unit_test(test_continuation_crlf),
        cmocka_unit_test(test_override_forms),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_not_duplicates),
        cmocka_unit_test(test_load),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
