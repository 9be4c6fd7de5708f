/*
 * fuzz_smtp_cmd - libFuzzer target for lib/smtp_cmd.c.
 *
 * Input: one flag byte (extensions, UTF-8 transaction, bare addresses),
 * then the command line. A failed parse must carry a reply of the right
 * shape; a successful MAIL or RCPT is re-quoted (smtp_addr_format_path),
 * put back into a command line, parsed again and must give the same
 * address.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "smtp_addr.h"
#include "smtp_cmd.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void printable(const char *s)
{
    for (; *s; s++)
        CHECK((unsigned char)*s >= 32 && (unsigned char)*s <= 126);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct smtp_cmd cmd, again;
    static const unsigned flagmap[8] = {
        SMTP_CMD_EXT_ALL, 0, SMTP_CMD_EXT_SIZE | SMTP_CMD_EXT_8BITMIME, SMTP_CMD_EXT_DSN,
        SMTP_CMD_EXT_SMTPUTF8, SMTP_CMD_EXT_ALL & ~SMTP_CMD_EXT_SMTPUTF8,
        SMTP_CMD_EXT_BINARYMIME | SMTP_CMD_EXT_AUTH, SMTP_CMD_EXT_ALL,
    };
    const unsigned keep = SMTP_ADDR_F_NULL | SMTP_ADDR_F_TRAILING_DOT | SMTP_ADDR_F_LITERAL
                          | SMTP_ADDR_F_LITERAL_V6 | SMTP_ADDR_F_NO_DOMAIN | SMTP_ADDR_F_UTF8;
    unsigned flags;
    struct buf line = BUF_INIT;

    if (size == 0)
        return 0;
    flags = flagmap[data[0] & 7];
    if (data[0] & 8)
        flags |= SMTP_CMD_UTF8_TXN;
    if (data[0] & 16)
        flags |= SMTP_CMD_ALLOW_BARE;

    if (smtp_cmd_parse(&cmd, (const char *)data + 1, size - 1, flags) < 0) {
        CHECK(cmd.reply_code >= 500 && cmd.reply_code <= 555);
        CHECK(cmd.reply_enh != NULL && cmd.reply_text != NULL);
        CHECK(cmd.reply_enh[0] == '5' && cmd.reply_enh[1] == '.');
        printable(cmd.reply_text);
        printable(cmd.detail);
        printable(cmd.verb_text);
        CHECK(smtp_cmd_reply(&line, &cmd) == 0);
        buf_free(&line);
        return 0;
    }
    printable(cmd.verb_text);
    CHECK(cmd.verb != SMTP_VERB_NONE && cmd.verb != SMTP_VERB_UNKNOWN);
    if (cmd.verb == SMTP_VERB_MAIL || cmd.verb == SMTP_VERB_RCPT) {
        unsigned f2 = flags & ~SMTP_CMD_ALLOW_BARE;

        CHECK(strlen(cmd.path) <= SMTP_ADDR_PATH_MAX);
        CHECK(strlen(cmd.envid) <= SMTP_ENVID_MAX);
        printable(cmd.envid);
        if (cmd.params & SMTP_PARAM_NOTIFY)
            CHECK(cmd.notify != 0 && ((cmd.notify & SMTP_NOTIFY_NEVER) == 0
                                      || cmd.notify == SMTP_NOTIFY_NEVER));
        if (cmd.params & SMTP_PARAM_ORCPT)
            CHECK(cmd.orcpt_type[0] != 0 && cmd.orcpt_addr[0] != 0
                  && smtp_utf8_valid(cmd.orcpt_addr, strlen(cmd.orcpt_addr)));
        CHECK(buf_puts(&line, cmd.verb == SMTP_VERB_MAIL ? "MAIL FROM:" : "RCPT TO:") == 0);
        CHECK(smtp_addr_format_path(&line, &cmd.addr) == 0);
        if (cmd.smtputf8)
            CHECK(buf_puts(&line, " SMTPUTF8") == 0);
        if (smtp_cmd_parse(&again, line.data, line.len, f2) != 0)
            __builtin_trap();
        CHECK(again.verb == cmd.verb);
        CHECK(strcmp(again.addr.local, cmd.addr.local) == 0);
        CHECK(strcmp(again.addr.domain, cmd.addr.domain) == 0);
        CHECK((again.addr.flags & keep) == (cmd.addr.flags & keep));
    }
    buf_free(&line);
    return 0;
}
