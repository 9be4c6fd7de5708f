/*
 * test_alias_source - the aliases(5) parser (lib/alias_source.c): names,
 * quoted names, the value kept as written with white space normalised,
 * continuation lines, comments, duplicates handed on in order, every error
 * with file and line, huge lines, binary junk, reading a file, and the
 * postalias/newaliases tool built next to this test (skipped when absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "alias_source.h"
#include "dict.h"
#include "log.h"

/* Collects "name=value@line;" for every entry. */
static int collect(const char *name, const char *value, int line, void *arg)
{
    buf_printf(arg, "%s=%s@%d;", name, value, line);
    return 0;
}

struct good_case {
    const char *text;
    const char *want;
};

static const struct good_case good[] = {
    { "postmaster: root\n", "postmaster=root@1;" },
    { "a: b, c\nd:e\n", "a=b, c@1;d=e@2;" },
    { "list: a,\n  b,\n\t\"|/usr/bin/cmd arg\",\n  /var/log/file, :include:/etc/list\n",
      "list=a, b, \"|/usr/bin/cmd arg\", /var/log/file, :include:/etc/list@1;" },
    { "x :   spaced    out   value   \n", "x=spaced out value@1;" },
    { "\"foo bar\": x\n\"a@b\": y\n\"q\\\"uote\": z\n\"c:olon\" : w\n",
      "foo bar=x@1;a@b=y@2;q\"uote=z@3;c:olon=w@4;" },
    { "# comment\n\n   # indented comment\nroot: admin # not a comment\n",
      "root=admin # not a comment@4;" },
    { "dup: one\ndup: two\nDup: three\n", "dup=one@1;dup=two@2;Dup=three@3;" },
    { "cmd: \"|exit  67\",   |\"exit 0\"\n", "cmd=\"|exit  67\", |\"exit 0\"@1;" },
    { "crlf: a\r\n  b\r\n", "crlf=a b@1;" },
    { "empty: \"\"\n", "empty=\"\"@1;" },
    { "MAILER-DAEMON: postmaster\nowner-list: me\nlist-request: me\n",
      "MAILER-DAEMON=postmaster@1;owner-list=me@2;list-request=me@3;" },
    { "utf8\xc3\xa9: \xff\xfe\n", "utf8\xc3\xa9=\xff\xfe@1;" },
    { "", "" },
};

struct bad_case {
    const char *text;
    int line;
    const char *message;
};

static const struct bad_case bad[] = {
    { "no colon here\n", 1, "need name:value pair" },
    { "ok: x\nnovalue:\n", 2, "no value for \"novalue\"" },
    { "novalue:   \n  \n", 1, "no value" },
    { ": x\n", 1, "empty alias name" },
    { "\"\": x\n", 1, "empty alias name" },
    { "user@example.com: x\n", 1, "name must be local" },
    { "user%host: x\n", 1, "name must be local" },
    { "foo bar: x\n", 1, "white space in an alias name" },
    { "foo(bar): x\n", 1, "bad character \"(\"" },
    { "\"open: x\n", 1, "unterminated quoted name" },
    { "\"a\" b: x\n", 1, "need name:value pair" },
    { "a: \"unterminated\n", 1, "unterminated quoted string" },
    { "a: b\n c\n\"d: e\n", 3, "unterminated quoted name" },
    { "  a: b\n", 1, "must not start with white space" },
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct buf got = BUF_INIT, err = BUF_INIT;
        int n = alias_source_parse("aliases", good[i].text, strlen(good[i].text), collect,
                                   &got, &err);

        if (n != 0)
            fail_msg("case %zu: %d errors: %s", i, n, buf_str(&err));
        if (strcmp(buf_str(&got), good[i].want) != 0)
            fail_msg("case %zu: got \"%s\", expected \"%s\"", i, buf_str(&got), good[i].want);
        buf_free(&got);
        buf_free(&err);
    }
}

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct buf got = BUF_INIT, err = BUF_INIT, want = BUF_INIT;
        int n = alias_source_parse("aliases", bad[i].text, strlen(bad[i].text), collect,
                                   &got, &err);

        buf_printf(&want, "aliases, line %d: ", bad[i].line);
        if (n < 1 || strstr(buf_str(&err), buf_str(&want)) == NULL
            || strstr(buf_str(&err), bad[i].message) == NULL)
            fail_msg("case %zu \"%s\": %d errors \"%s\", expected \"%s...%s\"", i,
                     bad[i].text, n, buf_str(&err), buf_str(&want), bad[i].message);
        buf_free(&got);
        buf_free(&err);
        buf_free(&want);
    }
}

/* Errors do not stop the parse: good entries around them still come. */
static void test_all_errors(void **state)
{
    const char *text = "a: 1\nbad\nb: 2\nc@d: 3\ne: \"4\n";
    struct buf got = BUF_INIT, err = BUF_INIT;

    (void)state;
    assert_int_equal(alias_source_parse("al", text, strlen(text), collect, &got, &err), 3);
    assert_string_equal(buf_str(&got), "a=1@1;b=2@3;");
    assert_non_null(strstr(buf_str(&err), "al, line 2: "));
    assert_non_null(strstr(buf_str(&err), "al, line 4: "));
    assert_non_null(strstr(buf_str(&err), "al, line 5: "));
    buf_free(&got);
    buf_free(&err);
}

static int stop_at_second(const char *name, const char *value, int line, void *arg)
{
    (void)name;
    (void)value;
    (void)line;
    return ++*(int *)arg == 2;
}

static void test_stop(void **state)
{
    const char *text = "a: 1\nb: 2\nc: 3\n";
    struct buf err = BUF_INIT;
    int count = 0;

    (void)state;
    assert_int_equal(alias_source_parse("al", text, strlen(text), stop_at_second, &count,
                                        &err), 0);
    assert_int_equal(count, 2);
    buf_free(&err);
}

static void test_huge_and_binary(void **state)
{
    static const char nul[] = "a: b\0c\nd: e\n";
    struct buf text = BUF_INIT, got = BUF_INIT, err = BUF_INIT;
    unsigned seed = 4242;

    (void)state;
    buf_puts(&text, "big: ");
    for (size_t i = 0; i < ALIAS_SOURCE_MAX_LINE; i++)
        buf_putc(&text, 'x');
    buf_puts(&text, "\nsmall: y\n");
    assert_int_equal(alias_source_parse("al", buf_str(&text), text.len, collect, &got, &err),
                     1);
    assert_non_null(strstr(buf_str(&err), "al, line 1: logical line longer than"));
    assert_string_equal(buf_str(&got), "small=y@2;");

    buf_reset(&got);
    buf_reset(&err);
    assert_int_equal(alias_source_parse("al", nul, sizeof(nul) - 1, collect, &got, &err), 1);
    assert_non_null(strstr(buf_str(&err), "al, line 1: NUL byte"));
    assert_string_equal(buf_str(&got), "d=e@2;");

    for (int round = 0; round < 300; round++) {
        buf_reset(&text);
        buf_reset(&got);
        buf_reset(&err);
        for (int i = 0; i < 300; i++) {
            seed = seed * 1103515245u + 12345u;
            buf_putc(&text, "ab:\"\\ ,\n\t#@%|/\x80\xff"[(seed >> 16) % 16]);
        }
        (void)alias_source_parse("junk", text.data, text.len, collect, &got, &err);
    }
    buf_free(&text);
    buf_free(&got);
    buf_free(&err);
}

static void test_read_file(void **state)
{
    char dir[] = "/tmp/test_alias_source.XXXXXX";
    struct buf path = BUF_INIT, got = BUF_INIT, err = BUF_INIT;
    FILE *fp;

    (void)state;
    assert_non_null(mkdtemp(dir));
    buf_printf(&path, "%s/aliases", dir);
    fp = fopen(buf_str(&path), "w");
    assert_non_null(fp);
    fputs("postmaster: root\nroot: admin\n", fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(alias_source_read(buf_str(&path), 0, collect, &got, &err), 0);
    assert_string_equal(buf_str(&got), "postmaster=root@1;root=admin@2;");
    assert_int_equal(alias_source_read(buf_str(&path), 10, collect, &got, &err), 1);
    assert_non_null(strstr(buf_str(&err), "larger than 10 bytes"));
    assert_int_equal(unlink(buf_str(&path)), 0);
    buf_reset(&err);
    assert_int_equal(alias_source_read(buf_str(&path), 0, collect, &got, &err), 1);
    assert_non_null(strstr(buf_str(&err), "No such file"));
    assert_int_equal(rmdir(dir), 0);
    buf_free(&path);
    buf_free(&got);
    buf_free(&err);
}

/* ------------------------------------------------- postalias, the tool */

/* The built postalias next to this test (BUILD/tests -> BUILD/bin), or "". */
static const char *tool_dir(void)
{
    static char dir[4096];
    ssize_t n;
    char *slash;

    if (dir[0])
        return dir;
    n = readlink("/proc/self/exe", dir, sizeof(dir) - 32);
    if (n <= 0)
        return "";
    dir[n] = 0;
    if ((slash = strrchr(dir, '/')) != NULL)
        *slash = 0;
    if ((slash = strrchr(dir, '/')) != NULL)
        strcpy(slash, "/bin");
    return dir;
}

/* Run a shell command; its stdout (and stderr with 2>&1) into out; exit status. */
static int run(struct buf *out, const char *fmt, ...)
{
    struct buf cmd = BUF_INIT;
    char chunk[4096];
    va_list ap;
    size_t n;
    FILE *fp;
    int status;

    va_start(ap, fmt);
    buf_vprintf(&cmd, fmt, ap);
    va_end(ap);
    buf_reset(out);
    fp = popen(buf_str(&cmd), "r");
    assert_non_null(fp);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(out, chunk, n);
    status = pclose(fp);
    buf_free(&cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_text(const char *dir, const char *name, const char *text)
{
    struct buf path = BUF_INIT;
    FILE *fp;

    buf_printf(&path, "%s/%s", dir, name);
    fp = fopen(buf_str(&path), "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    buf_free(&path);
}

static void test_postalias_tool(void **state)
{
    char dir[] = "/tmp/test_postalias.XXXXXX";
    struct buf out = BUF_INIT, path = BUF_INIT;
    const char *bin = tool_dir();

    (void)state;
    buf_printf(&path, "%s/postalias", bin);
    if (access(buf_str(&path), X_OK) < 0 || dict_find_type("lmdb") == NULL)
        skip();
    assert_non_null(mkdtemp(dir));
    write_text(dir, "aliases", "# system aliases\nPostmaster: root\nroot: admin,\n"
               "    \"|/usr/bin/procmail -a x\",  /var/mail/log\n\"Foo Bar\": x\n"
               "dup: first\ndup: second\n");

    /* Build; a duplicate is a warning, the first value stays. */
    assert_int_equal(run(&out, "%s/postalias -c %s %s/aliases 2>&1", bin, dir, dir), 0);
    assert_non_null(strstr(buf_str(&out), "aliases, line 7: duplicate entry: \"dup\""));
    assert_int_equal(run(&out, "%s/postalias -c %s -q postmaster %s/aliases", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "root\n");
    assert_int_equal(run(&out, "%s/postalias -c %s -q ROOT hash:%s/aliases", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "admin, \"|/usr/bin/procmail -a x\", /var/mail/log\n");
    assert_int_equal(run(&out, "%s/postalias -c %s -q 'foo bar' lmdb:%s/aliases", bin, dir,
                         dir), 0);
    assert_string_equal(buf_str(&out), "x\n");
    assert_int_equal(run(&out, "%s/postalias -c %s -q dup %s/aliases", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "first\n");
    assert_int_equal(run(&out, "%s/postalias -c %s -q nobody %s/aliases", bin, dir, dir), 1);
    assert_string_equal(buf_str(&out), "");
    /* The sendmail sentinel is there, but -s does not show it. */
    assert_int_equal(run(&out, "%s/postalias -c %s -q @ %s/aliases", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "@\n");
    assert_int_equal(run(&out, "%s/postalias -c %s -s %s/aliases", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "dup:\tfirst\nfoo bar:\tx\npostmaster:\troot\n"
                        "root:\tadmin, \"|/usr/bin/procmail -a x\", /var/mail/log\n");
    assert_int_equal(run(&out, "printf 'root\\nnone\\nPOSTMASTER\\n' | %s/postalias -c %s -q - "
                         "%s/aliases", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "root:\tadmin, \"|/usr/bin/procmail -a x\", /var/mail/log\n"
                        "POSTMASTER:\troot\n");

    /* -r keeps the last duplicate; -f keeps the case of names. */
    assert_int_equal(run(&out, "%s/postalias -c %s -r -f %s/aliases 2>&1", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "");
    assert_int_equal(run(&out, "%s/postalias -c %s -f -q dup %s/aliases", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "second\n");
    assert_int_equal(run(&out, "%s/postalias -c %s -f -q Postmaster %s/aliases", bin, dir, dir),
                     0);
    assert_int_equal(run(&out, "%s/postalias -c %s -f -q postmaster %s/aliases", bin, dir, dir),
                     1);

    /* Errors: every line named, exit 1, the old table kept. */
    write_text(dir, "aliases", "bad line\nroot: other\nx@y: z\n");
    assert_int_equal(run(&out, "%s/postalias -c %s %s/aliases 2>&1", bin, dir, dir), 1);
    assert_non_null(strstr(buf_str(&out), "aliases, line 1: need name:value pair"));
    assert_non_null(strstr(buf_str(&out), "aliases, line 3: name must be local"));
    assert_int_equal(run(&out, "%s/postalias -c %s -q dup %s/aliases", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "second\n");

    /* Query errors exit 2. */
    assert_int_equal(run(&out, "%s/postalias -c %s -q x %s/missing 2>/dev/null", bin, dir, dir),
                     2);

    /* newaliases: every table in alias_database. */
    write_text(dir, "aliases", "a: b\n");
    write_text(dir, "more", "c: d\n");
    buf_reset(&path);
    buf_printf(&path, "alias_database = hash:%s/aliases, lmdb:%s/more\n", dir, dir);
    write_text(dir, "main.cf", buf_str(&path));
    assert_int_equal(run(&out, "%s/newaliases -c %s 2>&1", bin, dir), 0);
    assert_string_equal(buf_str(&out), "");
    assert_int_equal(run(&out, "%s/postalias -c %s -q a %s/aliases", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "b\n");
    assert_int_equal(run(&out, "%s/postalias -c %s -q c %s/more", bin, dir, dir), 0);
    assert_string_equal(buf_str(&out), "d\n");
    assert_int_equal(run(&out, "%s/newaliases -c %s -q x 2>&1", bin, dir), 1);
    assert_non_null(strstr(buf_str(&out), "usage: newaliases"));

    assert_int_equal(run(&out, "rm -rf %s", dir), 0);
    buf_free(&out);
    buf_free(&path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_all_errors),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_huge_and_binary),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_postalias_tool),
    };

    log_init("test_alias_source");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
