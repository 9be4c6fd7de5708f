/*
 * cleanup_header - message headers for cleanup: recognising a header
 * line (Postfix's is_header), the headers cleanup acts on (Postfix's
 * header_opts), and rewriting the addresses in address headers.
 *
 * An address header is scanned with a small RFC 5322 tokenizer (atoms,
 * quoted strings, comments, domain literals, specials); each mailbox's
 * addr-spec (inside <...> when there is one, else the mailbox without
 * its comments) is rewritten, and only when the address changed is its
 * text replaced in place. Everything else (display names, comments,
 * folding) is written as it came.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup_priv.h"
#include "log.h"
#include "mem.h"
#include "smtp_addr.h"

/* ------------------------------------------------------------ header names */

#define HDR_RECEIVED        1
#define HDR_MSGID           2
#define HDR_DATE            3
#define HDR_FROM            4
#define HDR_SENDER_CLASS    5   /* other sender-class address headers */
#define HDR_TO              6   /* To, Cc */
#define HDR_BCC             7
#define HDR_RCPT_CLASS      8   /* Apparently-To */
#define HDR_DROP            9   /* Return-Path, Content-Length */

#define OPT_RESENT  0x100

struct hdr_opt {
    const char *name;
    int type;
};

static const struct hdr_opt hdr_opts[] = {
    {"Apparently-To", HDR_RCPT_CLASS},
    {"Bcc", HDR_BCC},
    {"Cc", HDR_TO},
    {"Content-Length", HDR_DROP},
    {"Date", HDR_DATE},
    {"Disposition-Notification-To", HDR_SENDER_CLASS},
    {"Errors-To", HDR_SENDER_CLASS},
    {"From", HDR_FROM},
    {"Message-Id", HDR_MSGID},
    {"Received", HDR_RECEIVED},
    {"Reply-To", HDR_SENDER_CLASS},
    {"Resent-Bcc", HDR_BCC | OPT_RESENT},
    {"Resent-Cc", HDR_TO | OPT_RESENT},
    {"Resent-Date", HDR_DATE | OPT_RESENT},
    {"Resent-From", HDR_FROM | OPT_RESENT},
    {"Resent-Message-Id", HDR_MSGID | OPT_RESENT},
    {"Resent-Reply-To", HDR_SENDER_CLASS | OPT_RESENT},
    {"Resent-Sender", HDR_SENDER_CLASS | OPT_RESENT},
    {"Resent-To", HDR_TO | OPT_RESENT},
    {"Return-Path", HDR_DROP},
    {"Return-Receipt-To", HDR_SENDER_CLASS},
    {"Sender", HDR_SENDER_CLASS},
    {"To", HDR_TO},
    {NULL, 0},
};

static int hdr_type(const char *name, size_t len)
{
    for (const struct hdr_opt *o = hdr_opts; o->name; o++)
        if (strlen(o->name) == len && strncasecmp(o->name, name, len) == 0)
            return o->type;
    if (len > 7 && strncasecmp(name, "Resent-", 7) == 0)
        return OPT_RESENT;
    return 0;
}

static int name_char(unsigned char c)
{
    return c > 32 && c < 127 && c != ':';
}

size_t cleanup_header_name(const char *line, size_t len)
{
    size_t i = 0, n;

    while (i < len && name_char((unsigned char)line[i]))
        i++;
    n = i;
    if (n == 0)
        return 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < len && line[i] == ':' ? n : 0;
}

int cleanup_header_prefix(const char *line, size_t len)
{
    size_t i = 0, n;

    while (i < len && name_char((unsigned char)line[i]))
        i++;
    n = i;
    if (i == len)
        return 1;
    if (n == 0)
        return 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i == len || line[i] == ':';
}

/* ------------------------------------------------------------ tokenizer */

enum tok_type { T_ATOM, T_QSTRING, T_COMMENT, T_LITERAL, T_SPECIAL };

struct tok {
    enum tok_type type;
    size_t start, end;          /* span in the value */
};

static int special(unsigned char c)
{
    return c && strchr("()<>@,;:\\\".[]", c) != NULL;
}

static int white(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Tokenize s[0..len); never fails (unterminated constructs end at len). */
static struct tok *tokenize(const char *s, size_t len, size_t *ntok)
{
    struct tok *t = NULL;
    size_t n = 0, cap = 0, i = 0;

    while (i < len) {
        struct tok k;
        unsigned char c = (unsigned char)s[i];

        if (white(c)) {
            i++;
            continue;
        }
        k.start = i;
        if (c == '"') {
            k.type = T_QSTRING;
            for (i++; i < len && s[i] != '"'; i++)
                if (s[i] == '\\' && i + 1 < len)
                    i++;
            if (i < len)
                i++;
        } else if (c == '(') {
            int depth = 0;

            k.type = T_COMMENT;
            for (; i < len; i++) {
                if (s[i] == '\\' && i + 1 < len)
                    i++;
                else if (s[i] == '(')
                    depth++;
                else if (s[i] == ')' && --depth == 0) {
                    i++;
                    break;
                }
            }
        } else if (c == '[') {
            k.type = T_LITERAL;
            for (i++; i < len && s[i] != ']'; i++)
                if (s[i] == '\\' && i + 1 < len)
                    i++;
            if (i < len)
                i++;
        } else if (special(c)) {
            k.type = T_SPECIAL;
            i++;
        } else {
            k.type = T_ATOM;
            while (i < len && !white((unsigned char)s[i]) && !special((unsigned char)s[i]))
                i++;
        }
        if (i > len)
            i = len;
        k.end = i;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            t = xreallocarray(t, cap, sizeof(*t));
        }
        t[n++] = k;
    }
    *ntok = n;
    return t;
}

/* Internal form of tokens [a, b): quoted strings unquoted, comments skipped. */
static void internalize(const char *s, const struct tok *t, size_t a, size_t b, struct buf *out)
{
    buf_reset(out);
    for (size_t i = a; i < b; i++) {
        if (t[i].type == T_COMMENT)
            continue;
        if (t[i].type == T_QSTRING) {
            size_t e = t[i].end;

            if (e > t[i].start + 1 && s[e - 1] == '"')
                e--;
            for (size_t j = t[i].start + 1; j < e; j++) {
                if (s[j] == '\\' && j + 1 < e)
                    j++;
                buf_putc(out, s[j]);
            }
        } else {
            buf_append(out, s + t[i].start, t[i].end - t[i].start);
        }
    }
}

static int is_tok(const char *s, const struct tok *t, char c)
{
    return t->type == T_SPECIAL && s[t->start] == c;
}

int cleanup_scan_addresses(const char *s, size_t len, struct buf *out, cleanup_addr_fn fn,
                           void *ctx)
{
    size_t ntok, copied = 0, unit = 0;
    struct tok *t = tokenize(s, len, &ntok);
    struct buf internal = BUF_INIT;
    int replaced = 0;

    buf_init(&internal, 64 * 1024);
    while (unit <= ntok) {
        size_t end = unit, lt = ntok, gt = ntok, a, b;
        int in_angle = 0;

        /* A unit ends at a ',' or ';' outside <>; a ':' outside <> starts a group. */
        for (; end < ntok; end++) {
            if (is_tok(s, &t[end], '<') && !in_angle) {
                in_angle = 1;
                lt = end;
            } else if (is_tok(s, &t[end], '>') && in_angle) {
                in_angle = 0;
                gt = end;
            } else if (!in_angle && is_tok(s, &t[end], ':')) {
                unit = end + 1;     /* group display name: not an address */
                lt = gt = ntok;
            } else if (!in_angle && (is_tok(s, &t[end], ',') || is_tok(s, &t[end], ';'))) {
                break;
            }
        }
        if (lt < ntok) {
            a = lt + 1;
            b = gt < ntok && gt > lt ? gt : end;
            /* Drop a source route: <@a,@b:user@domain>. */
            for (size_t i = a; i < b; i++)
                if (is_tok(s, &t[i], ':'))
                    a = i + 1;
        } else {
            a = unit;
            b = end;
        }
        /* Trim comments at both ends, so the span is the addr-spec. */
        while (a < b && t[a].type == T_COMMENT)
            a++;
        while (b > a && t[b - 1].type == T_COMMENT)
            b--;
        if (a < b) {
            internalize(s, t, a, b, &internal);
            if (internal.len > 0 && memchr(internal.data, 0, internal.len) == NULL) {
                char *repl = fn(buf_str(&internal), ctx);

                if (repl) {
                    buf_append(out, s + copied, t[a].start - copied);
                    buf_puts(out, repl);
                    copied = t[b - 1].end;
                    replaced++;
                    free(repl);
                }
            }
        }
        unit = end + 1;
    }
    if (replaced)
        buf_append(out, s + copied, len - copied);
    free(t);
    buf_free(&internal);
    return replaced;
}

void cleanup_externalize(struct buf *out, const char *internal)
{
    const char *at = strrchr(internal, '@');

    if (at == NULL) {
        smtp_addr_quote_local(out, internal, strlen(internal));
        return;
    }
    smtp_addr_quote_local(out, internal, (size_t)(at - internal));
    buf_puts(out, at);
}

/* ------------------------------------------------------------ one header */

struct rewrite_ctx {
    struct cleanup_msg *m;
    enum cleanup_class cls;
    int extract;                /* 0, 1: normal list, 2: Resent- list */
};

static void push(char ***v, size_t *n, size_t *cap, const char *s)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        *v = xreallocarray(*v, *cap, sizeof(**v));
    }
    (*v)[(*n)++] = xstrdup(s);
}

static int local_client(const struct cleanup_msg *m)
{
    const char *a = m->env->client_addr;

    return m->env->local_submission || m->env->client_name == NULL
        || (a && (strcmp(a, "127.0.0.1") == 0 || strcmp(a, "::1") == 0));
}

/* Some bound on how many -t recipients one message may carry. */
#define MAX_EXTRACT 10000

static char *rewrite_one(const char *internal, void *arg)
{
    struct rewrite_ctx *x = arg;
    struct cleanup_msg *m = x->m;
    struct buf b = BUF_INIT;
    char *repl = NULL;

    if (m->err.result != CLEANUP_OK || strlen(internal) > CLEANUP_MAX_ADDR)
        return NULL;
    for (const char *p = internal; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return NULL;
    buf_set(&b, internal);
    if (cleanup_rewrite_addr(m, x->cls, &b, local_client(m)) < 0) {
        buf_free(&b);
        return NULL;
    }
    if (x->extract == 1 && m->nx < MAX_EXTRACT)
        push(&m->xrcpt, &m->nx, &m->capx, buf_str(&b));
    else if (x->extract == 2 && m->nxr < MAX_EXTRACT)
        push(&m->xrcpt_resent, &m->nxr, &m->capxr, buf_str(&b));
    if (strcmp(buf_str(&b), internal) != 0) {
        struct buf e = BUF_INIT;

        cleanup_externalize(&e, buf_str(&b));
        repl = buf_steal(&e);
        buf_free(&e);
    }
    buf_free(&b);
    return repl;
}

/* Printable copy of a header value for logging. */
static void log_value(struct buf *out, const char *v, size_t len)
{
    while (len > 0 && white((unsigned char)*v))
        v++, len--;
    while (len > 0 && white((unsigned char)v[len - 1]))
        len--;
    for (size_t i = 0; i < len && out->len < 200; i++) {
        unsigned char c = (unsigned char)v[i];

        buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : c);
    }
}

static int out_header(struct cleanup_msg *m, const char *h, size_t len)
{
    if (buf_append(&m->hout, h, len) < 0 || buf_putc(&m->hout, '\n') < 0)
        return cleanup_failed(m, CLEANUP_REJECT, 552, "5.3.4",
                              "Error: message header size exceeds limit");
    return 0;
}

int cleanup_header(struct cleanup_msg *m, const char *hdr, size_t len)
{
    size_t nlen = cleanup_header_name(hdr, len);
    const char *colon = memchr(hdr, ':', len);
    const char *value = colon + 1;
    size_t vlen = len - (size_t)(value - hdr);
    int type = hdr_type(hdr, nlen), resent = (type & OPT_RESENT) != 0;
    struct rewrite_ctx x = {m, CLEANUP_HDR_FROM, 0};
    struct buf out = BUF_INIT;
    int rc;

    type &= ~OPT_RESENT;
    if (resent)
        m->seen |= CLEANUP_SEEN_RESENT;
    switch (type) {
    case HDR_RECEIVED:
        if (++m->hops >= m->c->hopcount_limit) {
            msg_info("%s: reject: too many hops (%ld Received: headers)", m->queue_id, m->hops);
            return cleanup_failed(m, CLEANUP_REJECT, 554, "5.4.6", "Error: too many hops");
        }
        break;
    case HDR_MSGID: {
        struct buf v = BUF_INIT;

        m->seen |= resent ? CLEANUP_SEEN_RESENT_MSGID : CLEANUP_SEEN_MSGID;
        log_value(&v, value, vlen);
        msg_info("%s: %smessage-id=%s", m->queue_id, resent ? "resent-" : "", buf_str(&v));
        buf_free(&v);
        break;
    }
    case HDR_DATE:
        m->seen |= resent ? CLEANUP_SEEN_RESENT_DATE : CLEANUP_SEEN_DATE;
        break;
    case HDR_FROM:
        m->seen |= resent ? CLEANUP_SEEN_RESENT_FROM : CLEANUP_SEEN_FROM;
        break;
    case HDR_DROP:
        return 0;
    default:
        break;
    }
    if (type == HDR_FROM || type == HDR_SENDER_CLASS)
        x.cls = CLEANUP_HDR_FROM;
    else if (type == HDR_TO || type == HDR_BCC || type == HDR_RCPT_CLASS)
        x.cls = CLEANUP_HDR_RCPT;
    else
        return out_header(m, hdr, len);
    if (m->env->extract_recipients && (type == HDR_TO || type == HDR_BCC))
        x.extract = resent ? 2 : 1;
    buf_init(&out, 4 * m->c->header_limit + 65536);
    buf_append(&out, hdr, (size_t)(value - hdr));
    rc = cleanup_scan_addresses(value, vlen, &out, rewrite_one, &x);
    if (m->err.result != CLEANUP_OK) {
        buf_free(&out);
        return -1;
    }
    if (type == HDR_BCC && m->env->local_submission)
        rc = 0;                 /* removed */
    else if (rc > 0)
        rc = out_header(m, out.data, out.len);
    else
        rc = out_header(m, hdr, len);
    buf_free(&out);
    return rc;
}
