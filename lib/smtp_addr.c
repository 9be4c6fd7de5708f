/*
 * smtp_addr - RFC 5321 envelope address parsing (see smtp_addr.h).
 *
 * A single left-to-right scan over a length-delimited string; every
 * output goes to a fixed array whose bound is checked before each store.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "smtp_addr.h"

/* ---- UTF-8 ---- */

size_t smtp_utf8_seq_len(const unsigned char *s, size_t len)
{
    unsigned c;

    if (len == 0)
        return 0;
    c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        if (len < 2 || (s[1] & 0xc0) != 0x80)
            return 0;
        return 2;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (len < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)       /* overlong */
            return 0;
        if (c == 0xed && s[1] >= 0xa0)      /* surrogates U+D800..U+DFFF */
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (len < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80
            || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)       /* overlong */
            return 0;
        if (c == 0xf4 && s[1] >= 0x90)      /* above U+10FFFF */
            return 0;
        return 4;
    }
    return 0;                               /* 0x80..0xc1, 0xf5..0xff */
}

int smtp_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;

    if (s == NULL)
        return len == 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        n = smtp_utf8_seq_len(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/* ---- character classes ---- */

static int is_alpha(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

/* RFC 5321 atext (ASCII part). */
static int is_atext(unsigned c)
{
    if (is_alpha(c) || is_digit(c))
        return 1;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", (int)c) != NULL;
}

/* qtextSMTP (ASCII part): %d32-33 / %d35-91 / %d93-126 */
static int is_qtext(unsigned c)
{
    return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

/* ---- domains and literals ---- */

/* Strict dotted quad: four decimal 0..255, no leading zeros. */
static int valid_ipv4(const char *s, size_t len)
{
    size_t i = 0;
    int parts = 0;

    while (parts < 4) {
        size_t start = i;
        unsigned v = 0;

        while (i < len && is_digit((unsigned char)s[i]) && i - start < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || v > 255)
            return 0;
        if (i - start > 1 && s[start] == '0')
            return 0;
        parts++;
        if (parts < 4) {
            if (i >= len || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == len;
}

static int valid_ipv6(const char *s, size_t len)
{
    char tmp[64];
    struct in6_addr a6;

    if (len == 0 || len >= sizeof(tmp))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i];

        if (!is_digit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F')
            && c != ':' && c != '.')
            return 0;
    }
    memcpy(tmp, s, len);
    tmp[len] = 0;
    return inet_pton(AF_INET6, tmp, &a6) == 1;
}

/* "[...]" including the brackets. Sets *v6. */
static enum smtp_addr_err check_literal(const char *s, size_t len, int *v6)
{
    *v6 = 0;
    if (len < 3 || s[0] != '[' || s[len - 1] != ']')
        return SMTP_ADDR_ESYNTAX;
    s++;
    len -= 2;
    if (len > 5 && strncasecmp(s, "IPv6:", 5) == 0) {
        *v6 = 1;
        return valid_ipv6(s + 5, len - 5) ? SMTP_ADDR_OK : SMTP_ADDR_ESYNTAX;
    }
    return valid_ipv4(s, len) ? SMTP_ADDR_OK : SMTP_ADDR_ESYNTAX;
}

/*
 * A domain name without a trailing dot: LDH labels (plus UTF-8 when
 * utf8), each 1..63 octets, no hyphen at either end.
 */
static enum smtp_addr_err check_name(const unsigned char *s, size_t len, int utf8)
{
    size_t i = 0;

    if (len == 0)
        return SMTP_ADDR_ESYNTAX;
    if (len > SMTP_ADDR_DOMAIN_MAX)
        return SMTP_ADDR_EDOMAIN_LONG;
    while (i < len) {
        size_t start = i;

        while (i < len && s[i] != '.') {
            unsigned c = s[i];

            if (c >= 0x80) {
                size_t n;

                if (!utf8)
                    return SMTP_ADDR_E8BIT;
                n = smtp_utf8_seq_len(s + i, len - i);
                if (n == 0)
                    return SMTP_ADDR_EUTF8;
                i += n;
                continue;
            }
            if (!is_alpha(c) && !is_digit(c) && c != '-')
                return SMTP_ADDR_ESYNTAX;
            i++;
        }
        if (i == start)
            return SMTP_ADDR_ESYNTAX;          /* empty label */
        if (i - start > 63)
            return SMTP_ADDR_EDOMAIN_LONG;
        if (s[start] == '-' || s[i - 1] == '-')
            return SMTP_ADDR_ESYNTAX;
        if (i < len) {
            i++;                                /* the dot */
            if (i == len)
                return SMTP_ADDR_ESYNTAX;       /* trailing dot: not here */
        }
    }
    return SMTP_ADDR_OK;
}

static int all_numeric(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_digit((unsigned char)s[i]) && s[i] != '.')
            return 0;
    return len > 0;
}

enum smtp_addr_err smtp_addr_check_domain(const char *s, size_t len, unsigned flags,
                                          int *is_literal)
{
    int v6;

    if (is_literal)
        *is_literal = 0;
    if (s == NULL || len == 0)
        return SMTP_ADDR_ESYNTAX;
    if (s[0] == '[') {
        if (is_literal)
            *is_literal = 1;
        return check_literal(s, len, &v6);
    }
    return check_name((const unsigned char *)s, len, (flags & SMTP_ADDR_UTF8) != 0);
}

/* ---- paths ---- */

/* Source route "@d1,@d2" (without the ':'). */
static enum smtp_addr_err check_route(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t start;
        enum smtp_addr_err e;

        if (s[i] != '@')
            return SMTP_ADDR_ESYNTAX;
        start = ++i;
        while (i < len && s[i] != ',')
            i++;
        if ((e = check_name((const unsigned char *)s + start, i - start, 0)) != SMTP_ADDR_OK)
            return e == SMTP_ADDR_EDOMAIN_LONG ? SMTP_ADDR_EDOMAIN_LONG : SMTP_ADDR_ESYNTAX;
        if (i < len) {
            i++;                                /* the comma */
            if (i == len)
                return SMTP_ADDR_ESYNTAX;
        }
    }
    return len ? SMTP_ADDR_OK : SMTP_ADDR_ESYNTAX;
}

/*
 * Local part at s[0..len): decodes into a->local. *used is how many
 * bytes the local part took (it ends at '@' or at len).
 */
static enum smtp_addr_err parse_local(const unsigned char *s, size_t len, int utf8,
                                      struct smtp_addr *a, size_t *used)
{
    size_t i = 0, o = 0;

    if (len == 0)
        return SMTP_ADDR_ESYNTAX;
    if (s[0] == '"') {
        a->flags |= SMTP_ADDR_F_QUOTED;
        i = 1;
        for (;;) {
            unsigned c;

            if (i >= len)
                return SMTP_ADDR_ESYNTAX;       /* unbalanced quote */
            if (i >= SMTP_ADDR_LOCAL_MAX)
                return SMTP_ADDR_ELOCAL_LONG;   /* closing quote would be past 64 */
            c = s[i];
            if (c == '"') {
                i++;
                break;
            }
            if (c == '\\') {
                if (i + 1 >= len)
                    return SMTP_ADDR_ESYNTAX;
                c = s[i + 1];
                if (c < 32 || c > 126)
                    return c >= 0x80 ? (utf8 ? SMTP_ADDR_ESYNTAX : SMTP_ADDR_E8BIT)
                                     : SMTP_ADDR_ESYNTAX;
                a->local[o++] = (char)c;
                i += 2;
                continue;
            }
            if (c >= 0x80) {
                size_t n;

                if (!utf8)
                    return SMTP_ADDR_E8BIT;
                n = smtp_utf8_seq_len(s + i, len - i);
                if (n == 0)
                    return SMTP_ADDR_EUTF8;
                if (i + n >= SMTP_ADDR_LOCAL_MAX)
                    return SMTP_ADDR_ELOCAL_LONG;
                memcpy(a->local + o, s + i, n);
                o += n;
                i += n;
                continue;
            }
            if (!is_qtext(c))
                return SMTP_ADDR_ESYNTAX;
            a->local[o++] = (char)c;
            i++;
        }
        if (o == 0)
            return SMTP_ADDR_ESYNTAX;           /* ""@domain: refused, see header */
        if (i < len && s[i] != '@')
            return SMTP_ADDR_ESYNTAX;           /* "a"b@c */
    } else {
        int prev_dot = 1;                       /* no leading dot */

        while (i < len && s[i] != '@') {
            unsigned c = s[i];

            if (i >= SMTP_ADDR_LOCAL_MAX)
                return SMTP_ADDR_ELOCAL_LONG;
            if (c == '.') {
                if (prev_dot)
                    return SMTP_ADDR_ESYNTAX;
                prev_dot = 1;
                a->local[o++] = '.';
                i++;
                continue;
            }
            if (c >= 0x80) {
                size_t n;

                if (!utf8)
                    return SMTP_ADDR_E8BIT;
                n = smtp_utf8_seq_len(s + i, len - i);
                if (n == 0)
                    return SMTP_ADDR_EUTF8;
                if (i + n > SMTP_ADDR_LOCAL_MAX)
                    return SMTP_ADDR_ELOCAL_LONG;
                memcpy(a->local + o, s + i, n);
                o += n;
                i += n;
                prev_dot = 0;
                continue;
            }
            if (!is_atext(c))
                return SMTP_ADDR_ESYNTAX;
            a->local[o++] = (char)c;
            i++;
            prev_dot = 0;
        }
        if (i == 0 || prev_dot)
            return SMTP_ADDR_ESYNTAX;           /* empty, or trailing dot */
    }
    a->local[o] = 0;
    a->local_len = o;
    *used = i;
    return SMTP_ADDR_OK;
}

static enum smtp_addr_err parse_domain(const char *s, size_t len, int utf8,
                                       struct smtp_addr *a)
{
    enum smtp_addr_err e;
    int v6;

    if (len == 0)
        return SMTP_ADDR_ESYNTAX;
    if (len > SMTP_ADDR_DOMAIN_MAX)
        return SMTP_ADDR_EDOMAIN_LONG;
    if (s[0] == '[') {
        if ((e = check_literal(s, len, &v6)) != SMTP_ADDR_OK)
            return e;
        a->flags |= SMTP_ADDR_F_LITERAL | (v6 ? SMTP_ADDR_F_LITERAL_V6 : 0);
    } else {
        if (len > 1 && s[len - 1] == '.') {
            a->flags |= SMTP_ADDR_F_TRAILING_DOT;
            len--;
        }
        if ((e = check_name((const unsigned char *)s, len, utf8)) != SMTP_ADDR_OK)
            return e;
        if (all_numeric(s, len))
            a->flags |= SMTP_ADDR_F_NUMERIC;
    }
    memcpy(a->domain, s, len);
    a->domain[len] = 0;
    a->domain_len = len;
    return SMTP_ADDR_OK;
}

static enum smtp_addr_err parse_path(const char *s, size_t len, unsigned flags,
                                     struct smtp_addr *a)
{
    int utf8 = (flags & SMTP_ADDR_UTF8) != 0;
    const char *in;
    size_t inlen, i, used;
    enum smtp_addr_err e;

    if (s == NULL || len == 0)
        return SMTP_ADDR_ESYNTAX;
    if (s[0] == '<') {
        if (len < 2 || s[len - 1] != '>')
            return SMTP_ADDR_ESYNTAX;
        if (len > SMTP_ADDR_PATH_MAX)
            return SMTP_ADDR_EPATH_LONG;
        in = s + 1;
        inlen = len - 2;
    } else {
        if (!(flags & SMTP_ADDR_ALLOW_BARE))
            return SMTP_ADDR_EBARE;
        if (len > SMTP_ADDR_PATH_MAX - 2)
            return SMTP_ADDR_EPATH_LONG;
        a->flags |= SMTP_ADDR_F_BARE;
        in = s;
        inlen = len;
    }
    /* Anything not ASCII: refused early without SMTPUTF8, checked with it. */
    for (i = 0; i < inlen; i++) {
        if ((unsigned char)in[i] >= 0x80) {
            if (!utf8)
                return SMTP_ADDR_E8BIT;
            if (!smtp_utf8_valid(in, inlen))
                return SMTP_ADDR_EUTF8;
            a->flags |= SMTP_ADDR_F_UTF8;
            break;
        }
    }
    if (inlen == 0) {
        if (a->flags & SMTP_ADDR_F_BARE)
            return SMTP_ADDR_ESYNTAX;
        if (!(flags & SMTP_ADDR_ALLOW_NULL))
            return SMTP_ADDR_ENULL;
        a->flags |= SMTP_ADDR_F_NULL;
        return SMTP_ADDR_OK;
    }
    /* Source route: "@a,@b:" (a ':' cannot occur before the mailbox otherwise). */
    if (in[0] == '@') {
        const char *colon = memchr(in, ':', inlen);
        size_t rlen;

        if (colon == NULL)
            return SMTP_ADDR_ESYNTAX;
        rlen = (size_t)(colon - in);
        if ((e = check_route(in, rlen)) != SMTP_ADDR_OK)
            return e;
        memcpy(a->route, in, rlen);            /* rlen < inlen <= 256 */
        a->route[rlen] = 0;
        a->flags |= SMTP_ADDR_F_ROUTE;
        in += rlen + 1;
        inlen -= rlen + 1;
        if (inlen == 0)
            return SMTP_ADDR_ESYNTAX;
    }
    if ((e = parse_local((const unsigned char *)in, inlen, utf8, a, &used)) != SMTP_ADDR_OK)
        return e;
    if (used == inlen) {
        a->flags |= SMTP_ADDR_F_NO_DOMAIN;
        return SMTP_ADDR_OK;
    }
    /* in[used] == '@' */
    return parse_domain(in + used + 1, inlen - used - 1, utf8, a);
}

enum smtp_addr_err smtp_addr_parse(const char *s, size_t len, unsigned flags,
                                   struct smtp_addr *out)
{
    enum smtp_addr_err e;

    memset(out, 0, sizeof(*out));
    e = parse_path(s, len, flags, out);
    if (e != SMTP_ADDR_OK)
        memset(out, 0, sizeof(*out));
    return e;
}

const char *smtp_addr_strerror(enum smtp_addr_err err)
{
    switch (err) {
    case SMTP_ADDR_OK: return "ok";
    case SMTP_ADDR_ESYNTAX: return "bad address syntax";
    case SMTP_ADDR_ELOCAL_LONG: return "local part too long";
    case SMTP_ADDR_EDOMAIN_LONG: return "domain name too long";
    case SMTP_ADDR_EPATH_LONG: return "path too long";
    case SMTP_ADDR_ENULL: return "null address not allowed here";
    case SMTP_ADDR_EBARE: return "address must be enclosed in <>";
    case SMTP_ADDR_E8BIT: return "non-ASCII address without SMTPUTF8";
    case SMTP_ADDR_EUTF8: return "malformed UTF-8 in address";
    }
    return "unknown address error";
}

/* ---- relay tricks ---- */

unsigned smtp_addr_local_route_chars(const struct smtp_addr *a)
{
    unsigned m = 0;

    for (size_t i = 0; i < a->local_len && i < sizeof(a->local); i++) {
        switch (a->local[i]) {
        case '%': m |= SMTP_ADDR_TRICK_PERCENT; break;
        case '!': m |= SMTP_ADDR_TRICK_BANG; break;
        case '@': m |= SMTP_ADDR_TRICK_AT; break;
        default: break;
        }
    }
    return m;
}

unsigned smtp_addr_tricks(const struct smtp_addr *a)
{
    unsigned m = smtp_addr_local_route_chars(a);

    if (a->flags & SMTP_ADDR_F_ROUTE)
        m |= SMTP_ADDR_TRICK_ROUTE;
    if (a->flags & SMTP_ADDR_F_TRAILING_DOT)
        m |= SMTP_ADDR_TRICK_DOT;
    if (a->flags & SMTP_ADDR_F_LITERAL)
        m |= SMTP_ADDR_TRICK_LITERAL;
    if (a->flags & SMTP_ADDR_F_NUMERIC)
        m |= SMTP_ADDR_TRICK_NUMERIC;
    return m;
}

/* ---- output ---- */

static int is_dot_string(const unsigned char *s, size_t len)
{
    int prev_dot = 1;

    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (prev_dot)
                return 0;
            prev_dot = 1;
        } else if (s[i] >= 0x80 || is_atext(s[i])) {
            prev_dot = 0;
        } else {
            return 0;
        }
    }
    return !prev_dot;
}

int smtp_addr_quote_local(struct buf *out, const char *local, size_t len)
{
    size_t mark = out->len;

    if (is_dot_string((const unsigned char *)local, len))
        return buf_append(out, local, len);
    if (buf_putc(out, '"') < 0)
        goto fail;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)local[i];

        if ((c == '"' || c == '\\' || c < 32 || c == 127) && buf_putc(out, '\\') < 0)
            goto fail;
        if (buf_putc(out, (int)c) < 0)
            goto fail;
    }
    if (buf_putc(out, '"') < 0)
        goto fail;
    return 0;
fail:
    buf_truncate(out, mark);
    return -1;
}

int smtp_addr_format(struct buf *out, const struct smtp_addr *a)
{
    size_t mark = out->len;

    if (a->flags & SMTP_ADDR_F_NULL)
        return 0;
    if (smtp_addr_quote_local(out, a->local, a->local_len) < 0)
        goto fail;
    if (!(a->flags & SMTP_ADDR_F_NO_DOMAIN)) {
        if (buf_putc(out, '@') < 0 || buf_append(out, a->domain, a->domain_len) < 0)
            goto fail;
        if ((a->flags & SMTP_ADDR_F_TRAILING_DOT) && buf_putc(out, '.') < 0)
            goto fail;
    }
    return 0;
fail:
    buf_truncate(out, mark);
    return -1;
}

int smtp_addr_format_path(struct buf *out, const struct smtp_addr *a)
{
    size_t mark = out->len;

    if (buf_putc(out, '<') < 0 || smtp_addr_format(out, a) < 0 || buf_putc(out, '>') < 0) {
        buf_truncate(out, mark);
        return -1;
    }
    return 0;
}

int smtp_addr_internal(struct buf *out, const struct smtp_addr *a)
{
    size_t mark = out->len;

    if (a->flags & SMTP_ADDR_F_NULL)
        return 0;
    if (buf_append(out, a->local, a->local_len) < 0)
        goto fail;
    if (!(a->flags & SMTP_ADDR_F_NO_DOMAIN)
        && (buf_putc(out, '@') < 0 || buf_append(out, a->domain, a->domain_len) < 0))
        goto fail;
    return 0;
fail:
    buf_truncate(out, mark);
    return -1;
}

void smtp_addr_canonicalise(struct smtp_addr *a)
{
    for (size_t i = 0; i < a->domain_len && i < sizeof(a->domain); i++) {
        char c = a->domain[i];

        if (c >= 'A' && c <= 'Z')
            a->domain[i] = (char)(c - 'A' + 'a');
    }
    a->flags &= ~SMTP_ADDR_F_TRAILING_DOT;
}
