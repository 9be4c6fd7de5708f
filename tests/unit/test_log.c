/*
 * test_log - unit tests for lib/log: file lines have Postfix's shape
 * ("Mon DD HH:MM:SS host postern/PROG[PID]: text") that pflogsumm reads,
 * severities are labelled, a newline in logged text cannot forge a second
 * line, and syslog_name changes the prefix.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "log.h"
#include "safe_file.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/test_log.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/maillog", dir);
    log_init("smtpd");
    log_set_hostname("mx.example.test");
    log_to_stderr(0);
    return log_to_file(path);
}

static int teardown(void **state)
{
    unlink(path);
    rmdir(dir);
    return 0;
}

static char *content(void)
{
    struct buf b = BUF_INIT;

    assert_int_equal(read_file(path, 1 << 20, &b), 0);
    return buf_steal(&b);
}

static void lines_have_postfix_shape(void **state)
{
    char *text, want[320];
    regex_t rx;

    msg_info("4XyZ0a1B2c: client=host[192.0.2.1]");
    msg_warn("something odd");
    text = content();
    snprintf(want, sizeof(want),
             "^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} mx\\.example\\.test "
             "postern/smtpd\\[%ld\\]: 4XyZ0a1B2c: client=host\\[192\\.0\\.2\\.1\\]\n",
             (long)getpid());
    assert_int_equal(regcomp(&rx, want, REG_EXTENDED | REG_NEWLINE), 0);
    assert_int_equal(regexec(&rx, text, 0, NULL, 0), 0);
    regfree(&rx);
    assert_non_null(strstr(text, "]: warning: something odd\n"));
    free(text);
}

static void newlines_cannot_forge_lines(void **state)
{
    char *text;
    int lines = 0;

    msg_info("evil\nDec  1 00:00:00 host postern/qmgr[1]: forged\r");
    text = content();
    for (char *p = text; *p; p++)
        lines += (*p == '\n');
    assert_int_equal(lines, 1);
    assert_non_null(strstr(text, "evil Dec  1"));
    free(text);
}

static void syslog_name_changes_prefix(void **state)
{
    char *text;

    log_set_syslog_name("postern/submission");
    msg_info("hello");
    log_set_syslog_name("postern");
    text = content();
    assert_non_null(strstr(text, " postern/submission/smtpd["));
    free(text);
}

static void debug_lines_only_when_verbose(void **state)
{
    char *text;

    msg_debug("quiet");
    log_set_verbose(1);
    msg_debug("loud");
    log_set_verbose(0);
    text = content();
    assert_null(strstr(text, "quiet"));
    assert_non_null(strstr(text, "loud"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lines_have_postfix_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(newlines_cannot_forge_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(syslog_name_changes_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(debug_lines_only_when_verbose, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
