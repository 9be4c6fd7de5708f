/*
 * smtp_cmd - SMTP command line parser (see smtp_cmd.h).
 *
 * All scanning is over (pointer, length) pairs; the only allocations are
 * the copies of simple-command arguments (cmd->arg, cmd->arg2).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mem.h"
#include "smtp_addr.h"
#include "smtp_cmd.h"

/* ---- small helpers ---- */

static int is_blank(unsigned c)
{
    return c == ' ' || c == '\t';
}

static int is_alnum(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    return -1;
}

/* Case-insensitive compare of s[0..len) with the NUL-terminated word. */
static int word_eq(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* Copy s[0..len) into dst[size] as printable ASCII ('?' for others). */
static void sanitize(char *dst, size_t size, const char *s, size_t len)
{
    size_t i;

    if (size == 0)
        return;
    for (i = 0; i < len && i + 1 < size; i++) {
        unsigned c = (unsigned char)s[i];

        dst[i] = (c >= 32 && c <= 126) ? (char)c : '?';
    }
    dst[i] = 0;
}

static int fail(struct smtp_cmd *cmd, int code, const char *enh, const char *text,
                const char *what, size_t what_len)
{
    cmd->reply_code = code;
    cmd->reply_enh = enh;
    cmd->reply_text = text;
    if (what != NULL)
        sanitize(cmd->detail, sizeof(cmd->detail), what, what_len);
    return -1;
}

#define SYNTAX(cmd, text) fail((cmd), 501, "5.5.4", (text), NULL, 0)

/* Skip blanks from *pos. */
static void skip_blanks(const char *s, size_t len, size_t *pos)
{
    while (*pos < len && is_blank((unsigned char)s[*pos]))
        (*pos)++;
}

/* The next blank-delimited word at or after *pos; 0 when none. */
static int next_word(const char *s, size_t len, size_t *pos, const char **w, size_t *wlen)
{
    size_t start;

    skip_blanks(s, len, pos);
    if (*pos >= len)
        return 0;
    start = *pos;
    while (*pos < len && !is_blank((unsigned char)s[*pos]))
        (*pos)++;
    *w = s + start;
    *wlen = *pos - start;
    return 1;
}

/* The rest of the line from *pos, blanks trimmed at both ends. */
static void rest_of_line(const char *s, size_t len, size_t pos, const char **r, size_t *rlen)
{
    size_t end = len;

    skip_blanks(s, len, &pos);
    while (end > pos && is_blank((unsigned char)s[end - 1]))
        end--;
    *r = s + pos;
    *rlen = end - pos;
}

/* Digits only, at least one; overflow past UINT64_MAX gives -2. */
static int parse_count(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    int overflow = 0;

    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = 1;
        else
            v = v * 10 + d;
    }
    if (overflow)
        return -2;
    *out = v;
    return 0;
}

/* ---- xtext ---- */

int smtp_xtext_decode(struct buf *out, const char *s, size_t len)
{
    size_t mark = out->len;

    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i];

        if (c == '+') {
            int hi, lo;

            if (len - i < 3)
                goto fail;
            hi = hexval((unsigned char)s[i + 1]);
            lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                goto fail;
            if (buf_putc(out, hi * 16 + lo) < 0)
                goto fail;
            i += 2;
            continue;
        }
        if (c < 33 || c > 126 || c == '=')
            goto fail;
        if (buf_putc(out, (int)c) < 0)
            goto fail;
    }
    return 0;
fail:
    buf_truncate(out, mark);
    return -1;
}

int smtp_xtext_encode(struct buf *out, const char *s, size_t len)
{
    size_t mark = out->len;

    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i];
        int r;

        if (c < 33 || c > 126 || c == '+' || c == '=')
            r = buf_printf(out, "+%02X", c);
        else
            r = buf_putc(out, (int)c);
        if (r < 0) {
            buf_truncate(out, mark);
            return -1;
        }
    }
    return 0;
}

/* Append the UTF-8 encoding of code point cp. */
static int put_utf8(struct buf *out, unsigned long cp)
{
    char b[4];
    size_t n;

    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return buf_append(out, b, n);
}

/* Code point of the valid UTF-8 sequence s[0..n). */
static unsigned long utf8_cp(const unsigned char *s, size_t n)
{
    switch (n) {
    case 1: return s[0];
    case 2: return ((unsigned long)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
    case 3: return ((unsigned long)(s[0] & 0x0f) << 12) | ((unsigned long)(s[1] & 0x3f) << 6)
                   | (s[2] & 0x3f);
    default: return ((unsigned long)(s[0] & 0x07) << 18) | ((unsigned long)(s[1] & 0x3f) << 12)
                    | ((unsigned long)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
    }
}

int smtp_utf8addr_encode(struct buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t mark = out->len, i = 0;

    while (i < len) {
        size_t n = smtp_utf8_seq_len(p + i, len - i);
        unsigned long cp;
        int r;

        if (n == 0)
            goto fail;
        cp = utf8_cp(p + i, n);
        if (cp < 33 || cp > 126 || cp == '+' || cp == '=' || cp == '\\')
            r = buf_printf(out, "\\x{%lX}", cp);
        else
            r = buf_putc(out, (int)cp);
        if (r < 0)
            goto fail;
        i += n;
    }
    return 0;
fail:
    buf_truncate(out, mark);
    return -1;
}

/*
 * RFC 6533 utf-8-addr-xtext / utf-8-addr-unitext decoding: QCHAR
 * (ASCII 33..126 except '+', '=', '\'), raw UTF-8 when utf8, and
 * \x{HEX} with 1..6 hex digits naming a Unicode scalar value (not NUL,
 * not a surrogate, at most U+10FFFF).
 */
static int utf8addr_decode(struct buf *out, const char *s, size_t len, int utf8)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned c = p[i];

        if (c == '\\') {
            unsigned long cp = 0;
            size_t digits = 0;

            if (len - i < 4 || p[i + 1] != 'x' || p[i + 2] != '{')
                return -1;
            i += 3;
            while (i < len && p[i] != '}') {
                int h = hexval(p[i]);

                if (h < 0 || ++digits > 6)
                    return -1;
                cp = cp * 16 + (unsigned long)h;
                i++;
            }
            if (i >= len || digits == 0)
                return -1;
            i++;                                /* the '}' */
            if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return -1;
            if (put_utf8(out, cp) < 0)
                return -1;
            continue;
        }
        if (c >= 0x80) {
            size_t n;

            if (!utf8 || (n = smtp_utf8_seq_len(p + i, len - i)) == 0)
                return -1;
            if (buf_append(out, p + i, n) < 0)
                return -1;
            i += n;
            continue;
        }
        if (c < 33 || c > 126 || c == '+' || c == '=')
            return -1;
        if (buf_putc(out, (int)c) < 0)
            return -1;
        i++;
    }
    return 0;
}

/* ---- the verb table ---- */

static const struct {
    const char *name;
    enum smtp_verb verb;
} verbs[] = {
    {"HELO", SMTP_VERB_HELO}, {"EHLO", SMTP_VERB_EHLO},
    {"MAIL", SMTP_VERB_MAIL}, {"RCPT", SMTP_VERB_RCPT},
    {"DATA", SMTP_VERB_DATA}, {"BDAT", SMTP_VERB_BDAT},
    {"RSET", SMTP_VERB_RSET}, {"NOOP", SMTP_VERB_NOOP},
    {"QUIT", SMTP_VERB_QUIT}, {"VRFY", SMTP_VERB_VRFY},
    {"EXPN", SMTP_VERB_EXPN}, {"HELP", SMTP_VERB_HELP},
    {"STARTTLS", SMTP_VERB_STARTTLS}, {"AUTH", SMTP_VERB_AUTH},
};

const char *smtp_verb_name(enum smtp_verb verb)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (verbs[i].verb == verb)
            return verbs[i].name;
    return "unknown";
}

/* ---- init/free/reply ---- */

void smtp_cmd_init(struct smtp_cmd *cmd)
{
    memset(cmd, 0, sizeof(*cmd));
}

void smtp_cmd_free(struct smtp_cmd *cmd)
{
    free(cmd->arg);
    free(cmd->arg2);
    memset(cmd, 0, sizeof(*cmd));
}

int smtp_cmd_reply(struct buf *out, const struct smtp_cmd *cmd)
{
    return buf_printf(out, "%d %s %s", cmd->reply_code,
                      cmd->reply_enh ? cmd->reply_enh : "5.5.0",
                      cmd->reply_text ? cmd->reply_text : "Error");
}

/* ---- MAIL / RCPT ---- */

enum param_kw {
    KW_SIZE, KW_BODY, KW_SMTPUTF8, KW_RET, KW_ENVID, KW_NOTIFY, KW_ORCPT, KW_AUTH,
    KW_UNKNOWN,
};

static const struct {
    const char *name;
    unsigned param;             /* SMTP_PARAM_* */
    unsigned ext;               /* SMTP_CMD_EXT_* that enables it */
    int for_mail;               /* 1: MAIL, 0: RCPT */
    int has_value;
    const char *bad_text;
} kwtab[] = {
    [KW_SIZE] = {"SIZE", SMTP_PARAM_SIZE, SMTP_CMD_EXT_SIZE, 1, 1, "Bad message size syntax"},
    [KW_BODY] = {"BODY", SMTP_PARAM_BODY, SMTP_CMD_EXT_8BITMIME | SMTP_CMD_EXT_BINARYMIME, 1, 1,
                 "Bad BODY parameter syntax"},
    [KW_SMTPUTF8] = {"SMTPUTF8", SMTP_PARAM_SMTPUTF8, SMTP_CMD_EXT_SMTPUTF8, 1, 0,
                     "Bad SMTPUTF8 parameter syntax"},
    [KW_RET] = {"RET", SMTP_PARAM_RET, SMTP_CMD_EXT_DSN, 1, 1, "Bad RET parameter syntax"},
    [KW_ENVID] = {"ENVID", SMTP_PARAM_ENVID, SMTP_CMD_EXT_DSN, 1, 1, "Bad ENVID parameter syntax"},
    [KW_NOTIFY] = {"NOTIFY", SMTP_PARAM_NOTIFY, SMTP_CMD_EXT_DSN, 0, 1,
                   "Error: Bad NOTIFY parameter syntax"},
    [KW_ORCPT] = {"ORCPT", SMTP_PARAM_ORCPT, SMTP_CMD_EXT_DSN, 0, 1,
                  "Error: Bad ORCPT parameter syntax"},
    [KW_AUTH] = {"AUTH", SMTP_PARAM_AUTH, SMTP_CMD_EXT_AUTH, 1, 1, "Bad AUTH parameter syntax"},
};

static enum param_kw keyword(const char *s, size_t len)
{
    for (int k = 0; k < KW_UNKNOWN; k++)
        if (word_eq(s, len, kwtab[k].name))
            return (enum param_kw)k;
    return KW_UNKNOWN;
}

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static int valid_keyword(const char *s, size_t len)
{
    if (len == 0 || !is_alnum((unsigned char)s[0]))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!is_alnum((unsigned char)s[i]) && s[i] != '-')
            return 0;
    return 1;
}

/* esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 with SMTPUTF8 (RFC 6531). */
static int valid_value(const char *s, size_t len, int utf8)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i];

        if (c >= 0x80) {
            if (!utf8)
                return 0;
            continue;                           /* the line is valid UTF-8 */
        }
        if (c < 33 || c > 126 || c == '=')
            return 0;
    }
    return 1;
}

/* Decoded text: octets 32..126 only. */
static int all_print(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 32 || (unsigned char)s[i] > 126)
            return 0;
    return 1;
}

/* Decode xtext into dst[max + 1]; must be 1..max printable octets. */
static int xtext_field(char *dst, size_t max, const char *v, size_t vlen)
{
    struct buf b;
    int ok;

    buf_init(&b, max);
    ok = smtp_xtext_decode(&b, v, vlen) == 0 && b.len > 0 && all_print(b.data, b.len);
    if (ok) {
        memcpy(dst, b.data, b.len);
        dst[b.len] = 0;
    }
    buf_free(&b);
    return ok;
}

static int parse_notify(const char *v, size_t vlen, unsigned *out)
{
    unsigned m = 0;
    size_t i = 0;

    while (i <= vlen) {
        size_t start = i;

        while (i < vlen && v[i] != ',')
            i++;
        if (i == start)
            return -1;                          /* empty element */
        if (word_eq(v + start, i - start, "NEVER"))
            m |= SMTP_NOTIFY_NEVER;
        else if (word_eq(v + start, i - start, "SUCCESS"))
            m |= SMTP_NOTIFY_SUCCESS;
        else if (word_eq(v + start, i - start, "FAILURE"))
            m |= SMTP_NOTIFY_FAILURE;
        else if (word_eq(v + start, i - start, "DELAY"))
            m |= SMTP_NOTIFY_DELAY;
        else
            return -1;
        if (i == vlen)
            break;
        i++;                                    /* the comma */
        if (i == vlen)
            return -1;                          /* trailing comma */
    }
    if ((m & SMTP_NOTIFY_NEVER) && m != SMTP_NOTIFY_NEVER)
        return -1;                              /* NEVER must be alone */
    *out = m;
    return 0;
}

static int parse_orcpt(struct smtp_cmd *cmd, const char *v, size_t vlen, int utf8)
{
    const char *semi = memchr(v, ';', vlen);
    size_t tlen;
    struct buf b;
    int ok;

    if (semi == NULL)
        return -1;
    tlen = (size_t)(semi - v);
    if (tlen == 0 || tlen > SMTP_ORCPT_TYPE_MAX)
        return -1;
    for (size_t i = 0; i < tlen; i++) {
        unsigned c = (unsigned char)v[i];

        /* addr-type = atom (RFC 3461), in practice alnum and '-' */
        if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
            return -1;
        cmd->orcpt_type[i] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    cmd->orcpt_type[tlen] = 0;
    v = semi + 1;
    vlen -= tlen + 1;
    buf_init(&b, SMTP_ORCPT_MAX);
    if (strcmp(cmd->orcpt_type, "utf-8") == 0) {
        ok = utf8addr_decode(&b, v, vlen, utf8) == 0 && b.len > 0
             && smtp_utf8_valid(b.data, b.len);
        for (size_t i = 0; ok && i < b.len; i++)
            if ((unsigned char)b.data[i] < 32 || b.data[i] == 127)
                ok = 0;
    } else {
        ok = smtp_xtext_decode(&b, v, vlen) == 0 && b.len > 0 && all_print(b.data, b.len);
    }
    if (ok) {
        memcpy(cmd->orcpt_addr, b.data, b.len);
        cmd->orcpt_addr[b.len] = 0;
    }
    buf_free(&b);
    return ok ? 0 : -1;
}

/* One esmtp-param word. */
static int do_param(struct smtp_cmd *cmd, const char *w, size_t wlen, int is_mail,
                    unsigned flags, int utf8)
{
    const char *eq = memchr(w, '=', wlen);
    size_t klen = eq ? (size_t)(eq - w) : wlen;
    const char *v = eq ? eq + 1 : NULL;
    size_t vlen = eq ? wlen - klen - 1 : 0;
    enum param_kw k;
    int r;

    if (!valid_keyword(w, klen))
        return fail(cmd, 501, "5.5.4", "Error: bad parameter syntax", w, wlen);
    k = keyword(w, klen);
    if (k == KW_UNKNOWN || kwtab[k].for_mail != is_mail || !(kwtab[k].ext & flags))
        return fail(cmd, 555, "5.5.4", "Unsupported option", w, wlen);
    if (cmd->params & kwtab[k].param)
        return fail(cmd, 501, "5.5.4", "Error: duplicate parameter", w, wlen);
    if (kwtab[k].has_value ? (eq == NULL || !valid_value(v, vlen, utf8)) : eq != NULL)
        return fail(cmd, 501, "5.5.4", kwtab[k].bad_text, w, wlen);
    cmd->params |= kwtab[k].param;

    switch (k) {
    case KW_SIZE:
        r = parse_count(v, vlen, &cmd->size);
        if (r == -2)
            return fail(cmd, 552, "5.3.4", "Message size exceeds file system imposed limit",
                        w, wlen);
        if (r < 0)
            break;
        return 0;
    case KW_BODY:
        if (word_eq(v, vlen, "7BIT") && (flags & SMTP_CMD_EXT_8BITMIME))
            cmd->body = SMTP_BODY_7BIT;
        else if (word_eq(v, vlen, "8BITMIME") && (flags & SMTP_CMD_EXT_8BITMIME))
            cmd->body = SMTP_BODY_8BITMIME;
        else if (word_eq(v, vlen, "BINARYMIME") && (flags & SMTP_CMD_EXT_BINARYMIME))
            cmd->body = SMTP_BODY_BINARYMIME;
        else if (word_eq(v, vlen, "7BIT") || word_eq(v, vlen, "8BITMIME")
                 || word_eq(v, vlen, "BINARYMIME"))
            return fail(cmd, 555, "5.5.4", "Unsupported option", w, wlen);
        else
            break;
        return 0;
    case KW_SMTPUTF8:
        cmd->smtputf8 = 1;
        return 0;
    case KW_RET:
        if (word_eq(v, vlen, "FULL"))
            cmd->ret = SMTP_RET_FULL;
        else if (word_eq(v, vlen, "HDRS"))
            cmd->ret = SMTP_RET_HDRS;
        else
            break;
        return 0;
    case KW_ENVID:
        if (!xtext_field(cmd->envid, SMTP_ENVID_MAX, v, vlen))
            break;
        return 0;
    case KW_AUTH:
        if (!xtext_field(cmd->auth, SMTP_AUTH_PARAM_MAX, v, vlen))
            break;
        return 0;
    case KW_NOTIFY:
        if (parse_notify(v, vlen, &cmd->notify) < 0)
            break;
        return 0;
    case KW_ORCPT:
        if (parse_orcpt(cmd, v, vlen, utf8) < 0)
            break;
        return 0;
    case KW_UNKNOWN:
        break;
    }
    return fail(cmd, 501, "5.5.4", kwtab[k].bad_text, w, wlen);
}

/*
 * Find the end of the path that starts at s[pos]: for "<...>" the first
 * '>' outside a quoted string (backslash escapes honoured); for a bare
 * address the first blank outside a quoted string. *end is one past the
 * path. -1 when a '<' path never closes or is followed by a non-blank.
 */
static int path_extent(const char *s, size_t len, size_t pos, size_t *end)
{
    int quoted = 0;
    size_t i = pos;

    if (s[pos] == '<') {
        for (i = pos + 1; i < len; i++) {
            if (quoted && s[i] == '\\') {
                i++;
                continue;
            }
            if (s[i] == '"')
                quoted = !quoted;
            else if (!quoted && s[i] == '>')
                break;
        }
        if (i >= len)
            return -1;
        i++;
        *end = i;
        return (i == len || is_blank((unsigned char)s[i])) ? 0 : -1;
    }
    for (; i < len; i++) {
        if (quoted && s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] == '"')
            quoted = !quoted;
        else if (!quoted && is_blank((unsigned char)s[i]))
            break;
    }
    *end = i < len ? i : len;
    return quoted ? -1 : 0;
}

static int mail_rcpt(struct smtp_cmd *cmd, const char *s, size_t len, size_t pos,
                     unsigned flags)
{
    int is_mail = cmd->verb == SMTP_VERB_MAIL;
    const char *tag = is_mail ? "FROM:" : "TO:";
    size_t taglen = strlen(tag), end, p;
    const char *syntax = is_mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>";
    int bad_code = 501;
    const char *bad_enh = is_mail ? "5.1.7" : "5.1.3";
    const char *bad_text = is_mail ? "Bad sender address syntax" : "Bad recipient address syntax";
    unsigned aflags = 0;
    int utf8;
    enum smtp_addr_err e;
    const char *w;
    size_t wlen;

    skip_blanks(s, len, &pos);
    if (len - pos < taglen || strncasecmp(s + pos, tag, taglen) != 0)
        return SYNTAX(cmd, syntax);
    pos += taglen;
    skip_blanks(s, len, &pos);                  /* Postfix: "MAIL FROM: <a@b>" */
    if (pos >= len)
        return SYNTAX(cmd, syntax);
    if (path_extent(s, len, pos, &end) < 0)
        return fail(cmd, bad_code, bad_enh, bad_text, s + pos, len - pos);
    sanitize(cmd->path, sizeof(cmd->path), s + pos, end - pos);
    if (end - pos <= SMTP_ADDR_PATH_MAX)
        memcpy(cmd->path, s + pos, end - pos);  /* exact (the line is already checked) */

    /* SMTPUTF8 comes after the path but decides how the path is parsed. */
    utf8 = 0;
    if (is_mail) {
        p = end;
        while (next_word(s, len, &p, &w, &wlen))
            if (word_eq(w, wlen, "SMTPUTF8") && (flags & SMTP_CMD_EXT_SMTPUTF8))
                utf8 = 1;
    } else {
        utf8 = (flags & SMTP_CMD_UTF8_TXN) != 0;
    }
    if (utf8)
        aflags |= SMTP_ADDR_UTF8;
    if (is_mail)
        aflags |= SMTP_ADDR_ALLOW_NULL;
    if (flags & SMTP_CMD_ALLOW_BARE)
        aflags |= SMTP_ADDR_ALLOW_BARE;
    e = smtp_addr_parse(s + pos, end - pos, aflags, &cmd->addr);
    switch (e) {
    case SMTP_ADDR_OK:
        break;
    case SMTP_ADDR_E8BIT:
        return fail(cmd, 553, "5.6.7", is_mail
                    ? "Non-ASCII sender address needs SMTPUTF8"
                    : "Non-ASCII recipient address needs SMTPUTF8", s + pos, end - pos);
    case SMTP_ADDR_EUTF8:
        return fail(cmd, 501, "5.5.2", "Error: bad UTF-8 syntax", s + pos, end - pos);
    default:
        return fail(cmd, bad_code, bad_enh, bad_text, s + pos, end - pos);
    }

    p = end;
    while (next_word(s, len, &p, &w, &wlen))
        if (do_param(cmd, w, wlen, is_mail, flags, utf8) < 0)
            return -1;
    return 0;
}

/* ---- the other commands ---- */

static char *dup_range(const char *s, size_t len)
{
    return xstrndup(s, len);
}

static int simple_cmd(struct smtp_cmd *cmd, const char *s, size_t len, size_t pos)
{
    const char *w, *w2, *r;
    size_t wlen, w2len, rlen;
    uint64_t n;
    int rc;

    rest_of_line(s, len, pos, &r, &rlen);
    switch (cmd->verb) {
    case SMTP_VERB_HELO:
    case SMTP_VERB_EHLO:
        if (rlen == 0)
            return SYNTAX(cmd, cmd->verb == SMTP_VERB_HELO ? "Syntax: HELO hostname"
                                                           : "Syntax: EHLO hostname");
        cmd->arg = dup_range(r, rlen);
        cmd->helo_valid = smtp_addr_check_domain(r, rlen, 0, NULL) == SMTP_ADDR_OK;
        return 0;
    case SMTP_VERB_VRFY:
    case SMTP_VERB_EXPN:
        if (rlen == 0)
            return SYNTAX(cmd, cmd->verb == SMTP_VERB_VRFY ? "Syntax: VRFY address"
                                                           : "Syntax: EXPN address");
        cmd->arg = dup_range(r, rlen);
        return 0;
    case SMTP_VERB_HELP:
    case SMTP_VERB_NOOP:
        if (rlen)
            cmd->arg = dup_range(r, rlen);
        return 0;
    case SMTP_VERB_QUIT:
        return 0;                               /* arguments ignored, as Postfix does */
    case SMTP_VERB_RSET:
    case SMTP_VERB_DATA:
    case SMTP_VERB_STARTTLS:
        if (rlen)
            return SYNTAX(cmd, cmd->verb == SMTP_VERB_RSET ? "Syntax: RSET"
                               : cmd->verb == SMTP_VERB_DATA ? "Syntax: DATA"
                                                              : "Syntax: STARTTLS");
        return 0;
    case SMTP_VERB_BDAT:
        if (!next_word(s, len, &pos, &w, &wlen))
            return SYNTAX(cmd, "Syntax: BDAT count [LAST]");
        rc = parse_count(w, wlen, &n);
        if (rc == -1)
            return fail(cmd, 501, "5.5.4", "Syntax: BDAT count [LAST]", w, wlen);
        if (rc == -2)
            return fail(cmd, 552, "5.3.4", "Message size exceeds file system imposed limit",
                        w, wlen);
        cmd->bdat_size = n;
        if (next_word(s, len, &pos, &w2, &w2len)) {
            if (!word_eq(w2, w2len, "LAST"))
                return fail(cmd, 501, "5.5.4", "Syntax: BDAT count [LAST]", w2, w2len);
            cmd->bdat_last = 1;
        }
        if (next_word(s, len, &pos, &w2, &w2len))
            return fail(cmd, 501, "5.5.4", "Syntax: BDAT count [LAST]", w2, w2len);
        return 0;
    case SMTP_VERB_AUTH:
        if (!next_word(s, len, &pos, &w, &wlen) || wlen > 20)
            return SYNTAX(cmd, "Syntax: AUTH mechanism");
        for (size_t i = 0; i < wlen; i++)
            if (!is_alnum((unsigned char)w[i]) && w[i] != '-' && w[i] != '_')
                return fail(cmd, 501, "5.5.4", "Syntax: AUTH mechanism", w, wlen);
        cmd->arg = dup_range(w, wlen);
        for (char *c = cmd->arg; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        if (next_word(s, len, &pos, &w2, &w2len)) {
            cmd->arg2 = dup_range(w2, w2len);
            if (next_word(s, len, &pos, &w, &wlen))
                return SYNTAX(cmd, "Syntax: AUTH mechanism [initial-response]");
        }
        return 0;
    default:
        return fail(cmd, 502, "5.5.2", "Error: command not recognized", NULL, 0);
    }
}

/* ---- entry point ---- */

int smtp_cmd_parse(struct smtp_cmd *cmd, const char *line, size_t len, unsigned flags)
{
    size_t pos = 0;
    const char *vw;
    size_t vlen;
    int eightbit = 0;

    smtp_cmd_free(cmd);
    if (line == NULL)
        len = 0;

    /* The verb: first word, for the log even when the line is bad. */
    if (!next_word(line, len, &pos, &vw, &vlen))
        return fail(cmd, 500, "5.5.2", "Error: bad syntax", NULL, 0);  /* blank line */
    sanitize(cmd->verb_text, sizeof(cmd->verb_text), vw, vlen);
    for (char *c = cmd->verb_text; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    cmd->verb = SMTP_VERB_UNKNOWN;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (word_eq(vw, vlen, verbs[i].name))
            cmd->verb = verbs[i].verb;

    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)line[i];

        if ((c < 32 && c != '\t') || c == 127)
            return fail(cmd, 500, "5.5.2", "Error: bad syntax", NULL, 0);
        if (c >= 0x80)
            eightbit = 1;
    }
    if (eightbit && !smtp_utf8_valid(line, len))
        return fail(cmd, 500, "5.5.2", "Error: bad UTF-8 syntax", NULL, 0);

    switch (cmd->verb) {
    case SMTP_VERB_NONE:
        return fail(cmd, 500, "5.5.2", "Error: bad syntax", NULL, 0);
    case SMTP_VERB_UNKNOWN:
        return fail(cmd, 502, "5.5.2", "Error: command not recognized", vw, vlen);
    case SMTP_VERB_MAIL:
    case SMTP_VERB_RCPT:
        return mail_rcpt(cmd, line, len, pos, flags);
    default:
        return simple_cmd(cmd, line, len, pos);
    }
}
