/*
 * smtp_cmd - parse one SMTP command line (RFC 5321 and extensions).
 *
 * The caller reads a line, removes the CRLF, enforces its line length
 * limit and passes the bytes here. smtp_cmd_parse() is total: any length,
 * any bytes (NUL, bare CR or LF, 8-bit) give either a parsed command or an
 * error with the SMTP reply to send. It checks SYNTAX only: whether a
 * command is allowed in the current state (MAIL before EHLO, nested MAIL,
 * RCPT without MAIL), size and recipient limits and all policy are the
 * caller's.
 *
 * Usage:
 *     struct smtp_cmd cmd;
 *     smtp_cmd_init(&cmd);                  (or zero-initialise it)
 *     for each line:
 *         if (smtp_cmd_parse(&cmd, line, len, flags) < 0) {
 *             reply "%d %s %s", cmd.reply_code, cmd.reply_enh, cmd.reply_text
 *             (or smtp_cmd_reply()), count an error, continue;
 *         }
 *         switch (cmd.verb) ...
 *     smtp_cmd_free(&cmd);
 * Each parse first releases what the previous one left in cmd. Memory:
 * cmd.arg and cmd.arg2 are malloc()ed and owned by cmd (freed by the next
 * parse or smtp_cmd_free()); every other string is an array inside the
 * struct. reply_enh and reply_text point to static strings.
 *
 * Line-level errors (any verb):
 *   empty line, NUL or other control character (TAB excepted)
 *                                      500 5.5.2 Error: bad syntax
 *   8-bit bytes that are not strict UTF-8 (overlong, surrogate, ...)
 *                                      500 5.5.2 Error: bad UTF-8 syntax
 *   unknown verb                       502 5.5.2 Error: command not recognized
 *   wrong number or form of arguments  501 5.5.4 Syntax: VERB ...
 * Leading white space is skipped and words may be separated by any run
 * of spaces and TABs, as Postfix's smtpd does.
 *
 * MAIL FROM:<path> [params] and RCPT TO:<path> [params]:
 *   "FROM:"/"TO:" missing              501 5.5.4 Syntax: MAIL FROM:<address>
 *   one space (or more) after the colon is accepted ("MAIL FROM: <a@b>")
 *   bad sender path, too long parts    501 5.1.7 Bad sender address syntax
 *   bad recipient path, or RCPT TO:<>  501 5.1.3 Bad recipient address syntax
 *   address without <>, and SMTP_CMD_ALLOW_BARE not given: same as bad path
 *   non-ASCII address without SMTPUTF8 553 5.6.7 (RFC 6531)
 *   parameter syntax (keyword, missing or empty value, value given to a
 *   keyword that takes none, bad value, duplicate)
 *                                      501 5.5.4 (text names the parameter)
 *   unknown parameter, parameter of the other command (NOTIFY in MAIL),
 *   or of an extension not enabled in flags
 *                                      555 5.5.4 Unsupported option
 *   SIZE= or BDAT count beyond 2^64-1  552 5.3.4 Message size exceeds file
 *                                      system imposed limit
 * The caller still compares SIZE with message_size_limit (552 5.3.4).
 */
#ifndef POSTERN_SMTP_CMD_H
#define POSTERN_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "smtp_addr.h"

struct buf;

enum smtp_verb {
    SMTP_VERB_NONE = 0,     /* no verb at all (empty or blank line) */
    SMTP_VERB_UNKNOWN,      /* see verb_text (e.g. to match smtpd_forbidden_commands) */
    SMTP_VERB_HELO,
    SMTP_VERB_EHLO,
    SMTP_VERB_MAIL,
    SMTP_VERB_RCPT,
    SMTP_VERB_DATA,
    SMTP_VERB_BDAT,
    SMTP_VERB_RSET,
    SMTP_VERB_NOOP,
    SMTP_VERB_QUIT,
    SMTP_VERB_VRFY,
    SMTP_VERB_EXPN,
    SMTP_VERB_HELP,
    SMTP_VERB_STARTTLS,
    SMTP_VERB_AUTH,
};

/* Flags for smtp_cmd_parse(): the extensions this session advertised
 * (after EHLO; pass 0 after HELO) ... */
#define SMTP_CMD_EXT_SIZE       (1u << 0)   /* SIZE=            (RFC 1870) */
#define SMTP_CMD_EXT_8BITMIME   (1u << 1)   /* BODY=7BIT|8BITMIME (RFC 6152) */
#define SMTP_CMD_EXT_BINARYMIME (1u << 2)   /* BODY=BINARYMIME  (RFC 3030) */
#define SMTP_CMD_EXT_SMTPUTF8   (1u << 3)   /* SMTPUTF8         (RFC 6531) */
#define SMTP_CMD_EXT_DSN        (1u << 4)   /* RET ENVID NOTIFY ORCPT (RFC 3461) */
#define SMTP_CMD_EXT_AUTH       (1u << 5)   /* MAIL ... AUTH=   (RFC 4954) */
#define SMTP_CMD_EXT_ALL        0x3fu
/* ... and the session state that changes the syntax: */
#define SMTP_CMD_UTF8_TXN       (1u << 8)   /* this transaction's MAIL had SMTPUTF8:
                                               UTF-8 allowed in RCPT addresses */
#define SMTP_CMD_ALLOW_BARE     (1u << 9)   /* accept MAIL FROM:a@b without <>
                                               (strict_rfc821_envelopes = no) */

enum smtp_body {
    SMTP_BODY_NONE = 0,     /* no BODY= given */
    SMTP_BODY_7BIT,
    SMTP_BODY_8BITMIME,
    SMTP_BODY_BINARYMIME,
};

enum smtp_ret {
    SMTP_RET_NONE = 0,      /* no RET= given */
    SMTP_RET_FULL,
    SMTP_RET_HDRS,
};

/* NOTIFY= (cmd.notify); 0 when not given, which RFC 3461 says to keep
 * distinct from any explicit value when relaying. */
#define SMTP_NOTIFY_NEVER   (1u << 0)
#define SMTP_NOTIFY_SUCCESS (1u << 1)
#define SMTP_NOTIFY_FAILURE (1u << 2)
#define SMTP_NOTIFY_DELAY   (1u << 3)

/* Which parameters were given (cmd.params). */
#define SMTP_PARAM_SIZE     (1u << 0)
#define SMTP_PARAM_BODY     (1u << 1)
#define SMTP_PARAM_SMTPUTF8 (1u << 2)
#define SMTP_PARAM_RET      (1u << 3)
#define SMTP_PARAM_ENVID    (1u << 4)
#define SMTP_PARAM_NOTIFY   (1u << 5)
#define SMTP_PARAM_ORCPT    (1u << 6)
#define SMTP_PARAM_AUTH     (1u << 7)

#define SMTP_ENVID_MAX      100     /* decoded ENVID, octets (RFC 3461 4.4) */
#define SMTP_ORCPT_MAX      500     /* decoded ORCPT address, octets (RFC 3461 4.2) */
#define SMTP_ORCPT_TYPE_MAX 31
#define SMTP_AUTH_PARAM_MAX 500     /* decoded MAIL AUTH= value */

struct smtp_cmd {
    enum smtp_verb verb;
    /* The verb as sent, upper-cased, at most 15 octets, non-printable
     * octets as '?'; "" for SMTP_VERB_NONE. For logging and for matching
     * smtpd_forbidden_commands (CONNECT, GET, POST, ...). */
    char verb_text[16];

    /*
     * Arguments of the other commands (NULL when absent):
     *   HELO/EHLO  arg: the rest of the line, trailing blanks removed
     *              (Postfix keeps multi-word HELO arguments whole);
     *              helo_valid: 1 when arg is a valid ASCII domain or
     *              address literal (smtp_addr_check_domain with flags 0),
     *              else 0 -- input for reject_invalid_helo_hostname
     *   VRFY/EXPN  arg: the rest of the line (required)
     *   HELP/NOOP  arg: the rest of the line, or NULL
     *   AUTH       arg: the mechanism, upper-cased; arg2: the initial
     *              response exactly as sent, or NULL
     *   BDAT       bdat_size, bdat_last. NB: after a BDAT syntax error the
     *              caller cannot know how many octets follow; Postfix
     *              replies and then treats the session as out of sync.
     */
    char *arg;
    char *arg2;
    int helo_valid;
    uint64_t bdat_size;
    int bdat_last;

    /*
     * MAIL and RCPT. path: the path exactly as sent ("<a@b>", or the bare
     * address); Postfix uses it, minus the brackets, as the default ORCPT.
     * (After a failed parse it may be cut to SMTP_ADDR_PATH_MAX octets
     * with non-printable octets as '?'.) addr: the parsed address; decide
     * on relaying with smtp_addr_tricks(&cmd.addr) (see smtp_addr.h).
     * Parameters: see params; fields of absent parameters are 0/"".
     */
    char path[SMTP_ADDR_PATH_MAX + 1];
    struct smtp_addr addr;
    unsigned params;                    /* SMTP_PARAM_* given */
    uint64_t size;                      /* MAIL SIZE= */
    enum smtp_body body;                /* MAIL BODY= */
    int smtputf8;                       /* MAIL SMTPUTF8 */
    enum smtp_ret ret;                  /* MAIL RET= */
    char envid[SMTP_ENVID_MAX + 1];     /* MAIL ENVID=, xtext-decoded; printable ASCII */
    unsigned notify;                    /* RCPT NOTIFY=, SMTP_NOTIFY_* */
    /* RCPT ORCPT=type;value: type lower-cased ("rfc822", "utf-8", other
     * atoms kept); addr decoded: xtext for every type, and for "utf-8"
     * the RFC 6533 form (\x{HEX} escapes, raw UTF-8 only with SMTPUTF8).
     * rfc822 and other types: printable ASCII; utf-8: valid UTF-8 with no
     * control characters. */
    char orcpt_type[SMTP_ORCPT_TYPE_MAX + 1];
    char orcpt_addr[SMTP_ORCPT_MAX + 1];
    char auth[SMTP_AUTH_PARAM_MAX + 1]; /* MAIL AUTH=, xtext-decoded ("<>" kept) */

    /*
     * After a failed parse: the reply. reply_text has no code in it and
     * no client data; detail holds the offending word (printable ASCII,
     * other octets as '?', at most 63 octets) or "", for the log line.
     */
    int reply_code;
    const char *reply_enh;
    const char *reply_text;
    char detail[64];
};

void smtp_cmd_init(struct smtp_cmd *cmd);
void smtp_cmd_free(struct smtp_cmd *cmd);

/*
 * Parse line[0..len) (no CRLF; need not be NUL-terminated). Returns 0 and
 * fills cmd, or -1 with cmd->verb (when one was recognised), reply_code,
 * reply_enh, reply_text and detail set. flags: SMTP_CMD_EXT_*,
 * SMTP_CMD_UTF8_TXN, SMTP_CMD_ALLOW_BARE.
 */
int smtp_cmd_parse(struct smtp_cmd *cmd, const char *line, size_t len, unsigned flags);

/* Append "CODE ENH TEXT" of a failed parse to out (no CRLF). 0 or -1. */
int smtp_cmd_reply(struct buf *out, const struct smtp_cmd *cmd);

/* "MAIL", "RCPT", ... for a verb; "unknown" for SMTP_VERB_UNKNOWN/NONE. */
const char *smtp_verb_name(enum smtp_verb verb);

/*
 * xtext (RFC 3461 section 4): '+' followed by two hex digits encodes one
 * octet; other octets 33..126 except '+' and '=' stand for themselves.
 * decode: appends the decoded octets to out; -1 on malformed input (bad
 * or truncated +XX, a byte outside 33..126, '=') or when out's limit is
 * reached; hex digits may be upper or lower case. encode: appends the
 * xtext form of s (every octet outside 33..126, '+' and '=' as +XX,
 * upper case). Both return 0 on success.
 */
int smtp_xtext_decode(struct buf *out, const char *s, size_t len);
int smtp_xtext_encode(struct buf *out, const char *s, size_t len);

/*
 * RFC 6533 utf-8-addr-xtext, for ORCPT=utf-8;... when relaying to a
 * server without SMTPUTF8: ASCII 33..126 except '+', '=' and '\' as
 * themselves, everything else (non-ASCII code points, '+', '=', '\',
 * space, controls) as \x{HEX}. s must be valid UTF-8; -1 otherwise or at
 * out's limit.
 */
int smtp_utf8addr_encode(struct buf *out, const char *s, size_t len);

#endif
