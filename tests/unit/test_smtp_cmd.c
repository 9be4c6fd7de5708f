/*
 * test_smtp_cmd - unit tests for lib/smtp_cmd.c: verbs and arity, MAIL and
 * RCPT paths and ESMTP parameters (SIZE, BODY, SMTPUTF8, RET, ENVID,
 * NOTIFY, ORCPT, AUTH), xtext, and the reply code for every failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "smtp_cmd.h"

#define E    SMTP_CMD_EXT_ALL
#define UT   SMTP_CMD_UTF8_TXN
#define BARE SMTP_CMD_ALLOW_BARE

struct cmd_case {
    const char *line;
    size_t len;                 /* 0: strlen(line) */
    unsigned flags;
    enum smtp_verb verb;
    int code;                   /* 0: parse succeeds */
    const char *enh;
};

static const struct cmd_case cases[] = {
    /* line-level */
    {"", 0, E, SMTP_VERB_NONE, 500, "5.5.2"},
    {"   ", 0, E, SMTP_VERB_NONE, 500, "5.5.2"},
    {"\t", 0, E, SMTP_VERB_NONE, 500, "5.5.2"},
    {"FOO bar", 0, E, SMTP_VERB_UNKNOWN, 502, "5.5.2"},
    {"GET / HTTP/1.0", 0, E, SMTP_VERB_UNKNOWN, 502, "5.5.2"},
    {"MAILX FROM:<a@b>", 0, E, SMTP_VERB_UNKNOWN, 502, "5.5.2"},
    {"NOOP\0x", 6, E, SMTP_VERB_UNKNOWN, 500, "5.5.2"},
    {"NOOP x\0", 7, E, SMTP_VERB_NOOP, 500, "5.5.2"},
    {"\0", 1, E, SMTP_VERB_UNKNOWN, 500, "5.5.2"},
    {"NOOP a\rb", 0, E, SMTP_VERB_NOOP, 500, "5.5.2"},
    {"NOOP a\nb", 0, E, SMTP_VERB_NOOP, 500, "5.5.2"},
    {"NOOP a\x7f", 0, E, SMTP_VERB_NOOP, 500, "5.5.2"},
    {"NOOP \xc0\xaf", 0, E, SMTP_VERB_NOOP, 500, "5.5.2"},            /* overlong */
    {"NOOP \xed\xa0\x80", 0, E, SMTP_VERB_NOOP, 500, "5.5.2"},        /* surrogate */
    {"NOOP \xff", 0, E, SMTP_VERB_NOOP, 500, "5.5.2"},
    {"NOOP \xc3\xa9", 0, E, SMTP_VERB_NOOP, 0, NULL},                 /* valid UTF-8 */
    /* simple commands and arity */
    {"QUIT", 0, E, SMTP_VERB_QUIT, 0, NULL},
    {"quit", 0, E, SMTP_VERB_QUIT, 0, NULL},
    {"  QuIt  ", 0, E, SMTP_VERB_QUIT, 0, NULL},
    {"QUIT now", 0, E, SMTP_VERB_QUIT, 0, NULL},
    {"RSET", 0, E, SMTP_VERB_RSET, 0, NULL},
    {"RSET x", 0, E, SMTP_VERB_RSET, 501, "5.5.4"},
    {"DATA", 0, E, SMTP_VERB_DATA, 0, NULL},
    {"DATA ", 0, E, SMTP_VERB_DATA, 0, NULL},
    {"DATA x", 0, E, SMTP_VERB_DATA, 501, "5.5.4"},
    {"STARTTLS", 0, E, SMTP_VERB_STARTTLS, 0, NULL},
    {"STARTTLS x", 0, E, SMTP_VERB_STARTTLS, 501, "5.5.4"},
    {"NOOP", 0, E, SMTP_VERB_NOOP, 0, NULL},
    {"NOOP anything \"at all\"", 0, E, SMTP_VERB_NOOP, 0, NULL},
    {"HELP", 0, E, SMTP_VERB_HELP, 0, NULL},
    {"HELP MAIL", 0, E, SMTP_VERB_HELP, 0, NULL},
    {"VRFY", 0, E, SMTP_VERB_VRFY, 501, "5.5.4"},
    {"VRFY postmaster", 0, E, SMTP_VERB_VRFY, 0, NULL},
    {"EXPN list", 0, E, SMTP_VERB_EXPN, 0, NULL},
    {"EXPN", 0, E, SMTP_VERB_EXPN, 501, "5.5.4"},
    {"EHLO", 0, E, SMTP_VERB_EHLO, 501, "5.5.4"},
    {"EHLO   ", 0, E, SMTP_VERB_EHLO, 501, "5.5.4"},
    {"HELO", 0, E, SMTP_VERB_HELO, 501, "5.5.4"},
    {"EHLO mail.example.org", 0, E, SMTP_VERB_EHLO, 0, NULL},
    {"ehlo [192.0.2.1]", 0, E, SMTP_VERB_EHLO, 0, NULL},
    {"HELO not a hostname", 0, E, SMTP_VERB_HELO, 0, NULL},
    {"BDAT 100", 0, E, SMTP_VERB_BDAT, 0, NULL},
    {"BDAT 0 LAST", 0, E, SMTP_VERB_BDAT, 0, NULL},
    {"bdat 5 last", 0, E, SMTP_VERB_BDAT, 0, NULL},
    {"BDAT", 0, E, SMTP_VERB_BDAT, 501, "5.5.4"},
    {"BDAT x", 0, E, SMTP_VERB_BDAT, 501, "5.5.4"},
    {"BDAT -1", 0, E, SMTP_VERB_BDAT, 501, "5.5.4"},
    {"BDAT +1", 0, E, SMTP_VERB_BDAT, 501, "5.5.4"},
    {"BDAT 1 FIRST", 0, E, SMTP_VERB_BDAT, 501, "5.5.4"},
    {"BDAT 1 LAST x", 0, E, SMTP_VERB_BDAT, 501, "5.5.4"},
    {"BDAT 99999999999999999999", 0, E, SMTP_VERB_BDAT, 552, "5.3.4"},
    {"BDAT 18446744073709551615", 0, E, SMTP_VERB_BDAT, 0, NULL},
    {"BDAT 18446744073709551616", 0, E, SMTP_VERB_BDAT, 552, "5.3.4"},
    {"AUTH PLAIN", 0, E, SMTP_VERB_AUTH, 0, NULL},
    {"AUTH PLAIN AGFsaWNlAHNlY3JldA==", 0, E, SMTP_VERB_AUTH, 0, NULL},
    {"AUTH", 0, E, SMTP_VERB_AUTH, 501, "5.5.4"},
    {"AUTH PLAIN a b", 0, E, SMTP_VERB_AUTH, 501, "5.5.4"},
    {"AUTH PL@IN", 0, E, SMTP_VERB_AUTH, 501, "5.5.4"},
    {"AUTH ABCDEFGHIJKLMNOPQRSTU", 0, E, SMTP_VERB_AUTH, 501, "5.5.4"},
    /* MAIL: the command form */
    {"MAIL FROM:<a@b>", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"mail from:<a@b>", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM: <a@b>", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL  FROM:<a@b>", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<>", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> ", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM: ", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM <a@b>", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM :<a@b>", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL TO:<a@b>", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:a@b", 0, E, SMTP_VERB_MAIL, 501, "5.1.7"},
    {"MAIL FROM:a@b", 0, E | BARE, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:a@b SIZE=10", 0, E | BARE, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b>SIZE=10", 0, E, SMTP_VERB_MAIL, 501, "5.1.7"},
    {"MAIL FROM:<a@b", 0, E, SMTP_VERB_MAIL, 501, "5.1.7"},
    {"MAIL FROM:<<a@b>>", 0, E, SMTP_VERB_MAIL, 501, "5.1.7"},
    {"MAIL FROM:<\"a>b\"@c>", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<\"a b\"@c> SIZE=1", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<\"a@c>", 0, E, SMTP_VERB_MAIL, 501, "5.1.7"},
    {"MAIL FROM:<a@b]>", 0, E, SMTP_VERB_MAIL, 501, "5.1.7"},
    {"MAIL FROM:<a@[192.0.2.1>", 0, E, SMTP_VERB_MAIL, 501, "5.1.7"},
    {"MAIL FROM:<@x:a@b>", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a\0@b>", 16, E, SMTP_VERB_MAIL, 500, "5.5.2"},
    /* RCPT: the command form */
    {"RCPT TO:<a@b>", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO: <a@b>", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<postmaster>", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<>", 0, E, SMTP_VERB_RCPT, 501, "5.1.3"},
    {"RCPT TO:a@b", 0, E, SMTP_VERB_RCPT, 501, "5.1.3"},
    {"RCPT TO:a@b", 0, E | BARE, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT FROM:<a@b>", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a b@c>", 0, E, SMTP_VERB_RCPT, 501, "5.1.3"},
    {"RCPT TO:<user%other@mydomain>", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<other!user@mydomain>", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<@mydomain:user@other>", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<\"user@other\"@mydomain>", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<user@mydomain.>", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<user@[192.0.2.1]>", 0, E, SMTP_VERB_RCPT, 0, NULL},
    /* 8-bit and SMTPUTF8 */
    {"MAIL FROM:<j\xc3\xb6rg@x>", 0, E, SMTP_VERB_MAIL, 553, "5.6.7"},
    {"MAIL FROM:<j\xc3\xb6rg@x> SMTPUTF8", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<j\xc3\xb6rg@x> smtputf8", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<j\xc3\xb6rg@x> SMTPUTF8", 0, E & ~SMTP_CMD_EXT_SMTPUTF8, SMTP_VERB_MAIL, 553,
     "5.6.7"},
    {"MAIL FROM:<a@b> SMTPUTF8", 0, E & ~SMTP_CMD_EXT_SMTPUTF8, SMTP_VERB_MAIL, 555, "5.5.4"},
    {"MAIL FROM:<a@b> SMTPUTF8=yes", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SMTPUTF8 SMTPUTF8", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<j\xc0\xafrg@x> SMTPUTF8", 0, E, SMTP_VERB_MAIL, 500, "5.5.2"},
    {"MAIL FROM:<j\xf6rg@x>", 0, E, SMTP_VERB_MAIL, 500, "5.5.2"},     /* Latin-1 */
    {"RCPT TO:<j\xc3\xb6rg@x>", 0, E, SMTP_VERB_RCPT, 553, "5.6.7"},
    {"RCPT TO:<j\xc3\xb6rg@x>", 0, E | UT, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<a@b> SMTPUTF8", 0, E | UT, SMTP_VERB_RCPT, 555, "5.5.4"},
    /* SIZE */
    {"MAIL FROM:<a@b> SIZE=1000", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> size=0", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> SIZE", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=-1", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=+1", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=1k", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=0x10", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=1=2", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=99999999999999999999", 0, E, SMTP_VERB_MAIL, 552, "5.3.4"},
    {"MAIL FROM:<a@b> SIZE=1 SIZE=2", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=1", 0, E & ~SMTP_CMD_EXT_SIZE, SMTP_VERB_MAIL, 555, "5.5.4"},
    {"RCPT TO:<a@b> SIZE=1", 0, E, SMTP_VERB_RCPT, 555, "5.5.4"},
    /* BODY */
    {"MAIL FROM:<a@b> BODY=7BIT", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> BODY=8bitmime", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> BODY=BINARYMIME", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> BODY=BINARYMIME", 0, SMTP_CMD_EXT_8BITMIME, SMTP_VERB_MAIL, 555, "5.5.4"},
    {"MAIL FROM:<a@b> BODY=8BITMIME", 0, 0, SMTP_VERB_MAIL, 555, "5.5.4"},
    {"MAIL FROM:<a@b> BODY=9BIT", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> BODY=", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> BODY", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> BODY=7BIT BODY=8BITMIME", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    /* RET, ENVID */
    {"MAIL FROM:<a@b> RET=FULL", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> ret=hdrs", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> RET=ALL", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> RET=", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> RET=FULL RET=HDRS", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> RET=FULL", 0, E & ~SMTP_CMD_EXT_DSN, SMTP_VERB_MAIL, 555, "5.5.4"},
    {"MAIL FROM:<a@b> ENVID=QQ314159", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> ENVID=a+2Bb", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> ENVID=", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> ENVID", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> ENVID=a+2", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> ENVID=a+", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> ENVID=a+GG", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> ENVID=a+0D+0Ab", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},  /* CR LF decoded */
    {"MAIL FROM:<a@b> ENVID=a+00b", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},     /* NUL decoded */
    {"MAIL FROM:<a@b> ENVID=a+C3+A9", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},   /* not ASCII */
    {"MAIL FROM:<a@b> ENVID=x ENVID=y", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"RCPT TO:<a@b> ENVID=x", 0, E, SMTP_VERB_RCPT, 555, "5.5.4"},
    /* NOTIFY */
    {"RCPT TO:<a@b> NOTIFY=NEVER", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE,DELAY", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<a@b> notify=failure,delay", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=FAILURE,NEVER", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=SUCCESS,", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=,SUCCESS", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=SUCCESS,,DELAY", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=SOMETIMES", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"MAIL FROM:<a@b> NOTIFY=NEVER", 0, E, SMTP_VERB_MAIL, 555, "5.5.4"},
    /* ORCPT */
    {"RCPT TO:<a@b> ORCPT=rfc822;a@b", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<a@b> ORCPT=RFC822;a+2Bx@b", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\\x{F6}rg@b", 0, E, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\xc3\xb6rg@b", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\xc3\xb6rg@b", 0, E | UT, SMTP_VERB_RCPT, 0, NULL},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\\x{D800}rg@b", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\\x{110000}@b", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\\x{0}@b", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\\x{}@b", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\\x{1234567}@b", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\\x{F6@b", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\\y{F6}@b", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=utf-8;j\\x{1}@b", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},  /* control */
    {"RCPT TO:<a@b> ORCPT=rfc822", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=rfc822;", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=;a@b", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=rfc822;a+4", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=rfc822;a+0Ab", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"RCPT TO:<a@b> ORCPT=rfc822;a@b ORCPT=rfc822;c@d", 0, E, SMTP_VERB_RCPT, 501, "5.5.4"},
    {"MAIL FROM:<a@b> ORCPT=rfc822;a@b", 0, E, SMTP_VERB_MAIL, 555, "5.5.4"},
    /* AUTH= */
    {"MAIL FROM:<a@b> AUTH=<>", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> AUTH=e+3Dmc2@example.com", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> AUTH=<>", 0, E & ~SMTP_CMD_EXT_AUTH, SMTP_VERB_MAIL, 555, "5.5.4"},
    /* parameter syntax in general */
    {"MAIL FROM:<a@b> X-FOO=bar", 0, E, SMTP_VERB_MAIL, 555, "5.5.4"},
    {"MAIL FROM:<a@b> XVERP", 0, E, SMTP_VERB_MAIL, 555, "5.5.4"},
    {"MAIL FROM:<a@b> =x", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> -X=1", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SI_ZE=1", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=1 =", 0, E, SMTP_VERB_MAIL, 501, "5.5.4"},
    {"MAIL FROM:<a@b> SIZE=1\tBODY=8BITMIME", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b>  SIZE=1   BODY=8BITMIME  ", 0, E, SMTP_VERB_MAIL, 0, NULL},
    {"MAIL FROM:<a@b> BODY=8BITMIME SIZE=12 RET=HDRS ENVID=abc SMTPUTF8 AUTH=<>", 0, E,
     SMTP_VERB_MAIL, 0, NULL},
};

static void test_table(void **state)
{
    struct smtp_cmd cmd;

    smtp_cmd_init(&cmd);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct cmd_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->line);
        int rc = smtp_cmd_parse(&cmd, c->line, len, c->flags);

        if (cmd.verb != c->verb)
            fail_msg("case %zu \"%s\": verb %d want %d", i, c->line, cmd.verb, c->verb);
        if (c->code == 0) {
            if (rc != 0)
                fail_msg("case %zu \"%s\": failed %d %s %s", i, c->line, cmd.reply_code,
                         cmd.reply_enh, cmd.reply_text);
        } else {
            if (rc != -1 || cmd.reply_code != c->code || strcmp(cmd.reply_enh, c->enh) != 0)
                fail_msg("case %zu \"%s\": rc %d reply %d %s (%s), want %d %s", i, c->line, rc,
                         cmd.reply_code, cmd.reply_enh ? cmd.reply_enh : "-",
                         cmd.reply_text ? cmd.reply_text : "-", c->code, c->enh);
            for (const char *p = cmd.reply_text; *p; p++)
                assert_true(*p >= 32 && *p <= 126);
            for (const char *p = cmd.detail; *p; p++)
                assert_true(*p >= 32 && *p <= 126);
        }
    }
    smtp_cmd_free(&cmd);
}

static void parse_ok(struct smtp_cmd *cmd, const char *line, unsigned flags)
{
    if (smtp_cmd_parse(cmd, line, strlen(line), flags) != 0)
        fail_msg("\"%s\": %d %s %s", line, cmd->reply_code, cmd->reply_enh, cmd->reply_text);
}

static void test_mail_fields(void **state)
{
    struct smtp_cmd cmd;

    smtp_cmd_init(&cmd);
    parse_ok(&cmd, "MAIL FROM:<Sender@Example.ORG> BODY=8BITMIME SIZE=12345 RET=HDRS "
             "ENVID=QQ+2B314159 AUTH=e+3Dmc2@example.com", E);
    assert_int_equal(cmd.verb, SMTP_VERB_MAIL);
    assert_string_equal(cmd.verb_text, "MAIL");
    assert_string_equal(cmd.path, "<Sender@Example.ORG>");
    assert_string_equal(cmd.addr.local, "Sender");
    assert_string_equal(cmd.addr.domain, "Example.ORG");
    assert_int_equal(cmd.body, SMTP_BODY_8BITMIME);
    assert_int_equal(cmd.size, 12345);
    assert_int_equal(cmd.ret, SMTP_RET_HDRS);
    assert_string_equal(cmd.envid, "QQ+314159");
    assert_string_equal(cmd.auth, "e=mc2@example.com");
    assert_int_equal(cmd.smtputf8, 0);
    assert_int_equal(cmd.params, SMTP_PARAM_BODY | SMTP_PARAM_SIZE | SMTP_PARAM_RET
                                 | SMTP_PARAM_ENVID | SMTP_PARAM_AUTH);

    /* the next parse forgets everything */
    parse_ok(&cmd, "MAIL FROM:<>", E);
    assert_int_equal(cmd.params, 0);
    assert_int_equal(cmd.size, 0);
    assert_int_equal(cmd.body, SMTP_BODY_NONE);
    assert_true(cmd.addr.flags & SMTP_ADDR_F_NULL);
    assert_string_equal(cmd.path, "<>");

    parse_ok(&cmd, "MAIL FROM: <j\xc3\xb6rg@b\xc3\xbc" "cher.example> SMTPUTF8", E);
    assert_int_equal(cmd.smtputf8, 1);
    assert_true(cmd.addr.flags & SMTP_ADDR_F_UTF8);
    assert_string_equal(cmd.addr.local, "j\xc3\xb6rg");

    parse_ok(&cmd, "MAIL FROM:bare@example.org SIZE=0", E | BARE);
    assert_true(cmd.addr.flags & SMTP_ADDR_F_BARE);
    assert_string_equal(cmd.path, "bare@example.org");
    assert_int_equal(cmd.params, SMTP_PARAM_SIZE);

    parse_ok(&cmd, "MAIL FROM:<a@b> SIZE=18446744073709551615", E);
    assert_true(cmd.size == UINT64_MAX);

    /* ENVID: 100 decoded octets ok, 101 not; encoded length does not matter */
    {
        char line[512], *p = line;

        p += sprintf(p, "MAIL FROM:<a@b> ENVID=");
        for (int i = 0; i < 100; i++)
            p += sprintf(p, "+41");
        parse_ok(&cmd, line, E);
        assert_int_equal(strlen(cmd.envid), 100);
        assert_int_equal(cmd.envid[99], 'A');
        sprintf(p, "x");
        assert_int_equal(smtp_cmd_parse(&cmd, line, strlen(line), E), -1);
        assert_int_equal(cmd.reply_code, 501);
    }
    smtp_cmd_free(&cmd);
}

static void test_rcpt_fields(void **state)
{
    struct smtp_cmd cmd;

    smtp_cmd_init(&cmd);
    parse_ok(&cmd, "RCPT TO:<\"user@other\"@mydomain.example> NOTIFY=SUCCESS,DELAY "
             "ORCPT=rfc822;user+40other@mydomain.example", E);
    assert_int_equal(cmd.verb, SMTP_VERB_RCPT);
    assert_string_equal(cmd.addr.local, "user@other");
    assert_int_equal(smtp_addr_local_route_chars(&cmd.addr), SMTP_ADDR_TRICK_AT);
    assert_int_equal(cmd.notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_DELAY);
    assert_string_equal(cmd.orcpt_type, "rfc822");
    assert_string_equal(cmd.orcpt_addr, "user@other@mydomain.example");

    parse_ok(&cmd, "RCPT TO:<a@b> NOTIFY=never ORCPT=UTF-8;j\\x{F6}rg\\x{2B}x@b", E);
    assert_int_equal(cmd.notify, SMTP_NOTIFY_NEVER);
    assert_string_equal(cmd.orcpt_type, "utf-8");
    assert_string_equal(cmd.orcpt_addr, "j\xc3\xb6rg+x@b");

    parse_ok(&cmd, "RCPT TO:<a@b> ORCPT=x400;c+3Dus", E);
    assert_string_equal(cmd.orcpt_type, "x400");
    assert_string_equal(cmd.orcpt_addr, "c=us");

    parse_ok(&cmd, "RCPT TO:<@hop1,@hop2:user@other.example>", E);
    assert_string_equal(cmd.addr.route, "@hop1,@hop2");
    assert_true(smtp_addr_tricks(&cmd.addr) & SMTP_ADDR_TRICK_ROUTE);
    assert_int_equal(cmd.notify, 0);
    smtp_cmd_free(&cmd);
}

static void test_simple_fields(void **state)
{
    struct smtp_cmd cmd;

    smtp_cmd_init(&cmd);
    parse_ok(&cmd, "EHLO mail.example.org", E);
    assert_string_equal(cmd.arg, "mail.example.org");
    assert_int_equal(cmd.helo_valid, 1);
    parse_ok(&cmd, "HELO  some host  ", E);
    assert_string_equal(cmd.arg, "some host");
    assert_int_equal(cmd.helo_valid, 0);
    parse_ok(&cmd, "EHLO [IPv6:2001:db8::1]", E);
    assert_int_equal(cmd.helo_valid, 1);
    parse_ok(&cmd, "EHLO [192.0.2.300]", E);
    assert_int_equal(cmd.helo_valid, 0);
    parse_ok(&cmd, "BDAT 4096", E);
    assert_true(cmd.bdat_size == 4096);
    assert_int_equal(cmd.bdat_last, 0);
    parse_ok(&cmd, "BDAT 0 LAST", E);
    assert_true(cmd.bdat_size == 0);
    assert_int_equal(cmd.bdat_last, 1);
    parse_ok(&cmd, "AUTH plain dGVzdAB0ZXN0AHRlc3Q=", E);
    assert_string_equal(cmd.arg, "PLAIN");
    assert_string_equal(cmd.arg2, "dGVzdAB0ZXN0AHRlc3Q=");
    parse_ok(&cmd, "AUTH LOGIN", E);
    assert_null(cmd.arg2);
    parse_ok(&cmd, "NOOP", E);
    assert_null(cmd.arg);
    parse_ok(&cmd, "VRFY  \"John Doe\" ", E);
    assert_string_equal(cmd.arg, "\"John Doe\"");
    assert_int_equal(smtp_cmd_parse(&cmd, "connect host:25", 15, E), -1);
    assert_int_equal(cmd.verb, SMTP_VERB_UNKNOWN);
    assert_string_equal(cmd.verb_text, "CONNECT");
    assert_int_equal(smtp_cmd_parse(&cmd, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26, E), -1);
    assert_string_equal(cmd.verb_text, "ABCDEFGHIJKLMNO");
    assert_string_equal(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
    assert_string_equal(smtp_verb_name(SMTP_VERB_UNKNOWN), "unknown");
    assert_int_equal(smtp_cmd_parse(&cmd, NULL, 10, E), -1);
    assert_int_equal(cmd.reply_code, 500);
    smtp_cmd_free(&cmd);
    smtp_cmd_free(&cmd);            /* twice is fine */
}

static void test_reply_and_detail(void **state)
{
    struct smtp_cmd cmd;
    struct buf b = BUF_INIT;
    const char *l = "MAIL FROM:<a@b> SIZE=12 X-\xc3\xa9=1";

    smtp_cmd_init(&cmd);
    assert_int_equal(smtp_cmd_parse(&cmd, l, strlen(l), E), -1);
    assert_int_equal(cmd.reply_code, 501);
    assert_string_equal(cmd.detail, "X-?\?=1");
    assert_int_equal(smtp_cmd_reply(&b, &cmd), 0);
    assert_string_equal(buf_str(&b), "501 5.5.4 Error: bad parameter syntax");
    buf_reset(&b);
    assert_int_equal(smtp_cmd_parse(&cmd, "MAIL FROM:<a@b> FOO=1", 21, E), -1);
    smtp_cmd_reply(&b, &cmd);
    assert_string_equal(buf_str(&b), "555 5.5.4 Unsupported option");
    assert_string_equal(cmd.detail, "FOO=1");
    buf_reset(&b);
    assert_int_equal(smtp_cmd_parse(&cmd, "RCPT TO:<a b>", 13, E), -1);
    smtp_cmd_reply(&b, &cmd);
    assert_string_equal(buf_str(&b), "501 5.1.3 Bad recipient address syntax");
    buf_free(&b);
    smtp_cmd_free(&cmd);
}

static void test_long_lines(void **state)
{
    static char line[200000];
    struct smtp_cmd cmd;
    size_t n;

    smtp_cmd_init(&cmd);
    /* a very long path */
    n = (size_t)sprintf(line, "RCPT TO:<");
    memset(line + n, 'a', 100000);
    n += 100000;
    n += (size_t)sprintf(line + n, "@x>");
    assert_int_equal(smtp_cmd_parse(&cmd, line, n, E), -1);
    assert_int_equal(cmd.reply_code, 501);
    assert_string_equal(cmd.reply_enh, "5.1.3");
    assert_int_equal(strlen(cmd.path), SMTP_ADDR_PATH_MAX);
    /* very many parameters */
    n = (size_t)sprintf(line, "MAIL FROM:<a@b>");
    while (n < sizeof(line) - 16)
        n += (size_t)sprintf(line + n, " FOO%zu=1", n % 10);
    assert_int_equal(smtp_cmd_parse(&cmd, line, n, E), -1);
    assert_int_equal(cmd.reply_code, 555);
    /* a long NOOP is copied whole */
    memset(line, 'x', sizeof(line));
    memcpy(line, "NOOP ", 5);
    assert_int_equal(smtp_cmd_parse(&cmd, line, sizeof(line), E), 0);
    assert_int_equal(strlen(cmd.arg), sizeof(line) - 5);
    smtp_cmd_free(&cmd);
}

static void test_path_limit_in_command(void **state)
{
    char line[600];
    struct smtp_cmd cmd;
    int n;

    smtp_cmd_init(&cmd);
    /* path of exactly 256 octets: accepted and copied whole */
    n = sprintf(line, "RCPT TO:<%.64s@", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    for (int i = 0; i < 2; i++)
        n += sprintf(line + n, "%.62s.", "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    n += sprintf(line + n, "%.63s>", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
    assert_int_equal(n - 8, 256);
    parse_ok(&cmd, line, E);
    assert_int_equal(strlen(cmd.path), 256);
    /* 257: too long */
    sprintf(line + n - 2, "e.e>");
    assert_int_equal(smtp_cmd_parse(&cmd, line, strlen(line), E), -1);
    assert_int_equal(cmd.reply_code, 501);
    smtp_cmd_free(&cmd);
}

struct xt_case {
    const char *in;
    int ok;
    const char *out;
};

static void test_xtext(void **state)
{
    static const struct xt_case x[] = {
        {"abc", 1, "abc"}, {"a+2Bb", 1, "a+b"}, {"a+2bb", 1, "a+b"}, {"+3D", 1, "="},
        {"", 1, ""}, {"+", 0, NULL}, {"+4", 0, NULL}, {"+G1", 0, NULL}, {"a b", 0, NULL},
        {"a=b", 0, NULL}, {"a\x7f", 0, NULL}, {"\xc3\xa9", 0, NULL}, {"+20+7E", 1, " ~"},
    };
    struct buf b = BUF_INIT;

    for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
        buf_reset(&b);
        buf_puts(&b, "keep");
        int r = smtp_xtext_decode(&b, x[i].in, strlen(x[i].in));

        if (x[i].ok) {
            assert_int_equal(r, 0);
            assert_string_equal(buf_str(&b) + 4, x[i].out);
        } else {
            assert_int_equal(r, -1);
            assert_string_equal(buf_str(&b), "keep");
        }
    }
    buf_reset(&b);
    assert_int_equal(smtp_xtext_encode(&b, "a+b=c d\x01\xc3\xa9", 10), 0);
    assert_string_equal(buf_str(&b), "a+2Bb+3Dc+20d+01+C3+A9");
    /* round trip of every octet */
    {
        char all[256];
        struct buf d = BUF_INIT;

        for (int i = 0; i < 256; i++)
            all[i] = (char)i;
        buf_reset(&b);
        assert_int_equal(smtp_xtext_encode(&b, all, 256), 0);
        assert_int_equal(smtp_xtext_decode(&d, b.data, b.len), 0);
        assert_int_equal(d.len, 256);
        assert_memory_equal(d.data, all, 256);
        buf_free(&d);
    }
    buf_reset(&b);
    assert_int_equal(smtp_utf8addr_encode(&b, "j\xc3\xb6rg+x\\y=z@b", strlen("j\xc3\xb6rg+x\\y=z@b")), 0);
    assert_string_equal(buf_str(&b), "j\\x{F6}rg\\x{2B}x\\x{5C}y\\x{3D}z@b");
    buf_reset(&b);
    assert_int_equal(smtp_utf8addr_encode(&b, "\xc0\xaf", 2), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

/* What utf8addr_encode writes, ORCPT=utf-8; reads back. */
static void test_orcpt_utf8_roundtrip(void **state)
{
    static const char *const addrs[] = {
        "j\xc3\xb6rg@b\xc3\xbc" "cher.example", "\xf0\x9f\x98\x80+tag=x\\y@x", "plain@x",
    };
    struct buf b = BUF_INIT;
    struct smtp_cmd cmd;

    smtp_cmd_init(&cmd);
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        buf_reset(&b);
        buf_puts(&b, "RCPT TO:<a@b> ORCPT=utf-8;");
        assert_int_equal(smtp_utf8addr_encode(&b, addrs[i], strlen(addrs[i])), 0);
        parse_ok(&cmd, buf_str(&b), E);
        assert_string_equal(cmd.orcpt_addr, addrs[i]);
    }
    buf_free(&b);
    smtp_cmd_free(&cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_mail_fields),
        cmocka_unit_test(test_rcpt_fields),
        cmocka_unit_test(test_simple_fields),
        cmocka_unit_test(test_reply_and_detail),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_path_limit_in_command),
        cmocka_unit_test(test_xtext),
        cmocka_unit_test(test_orcpt_utf8_roundtrip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
