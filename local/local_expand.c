/*
 * local_expand - $name, ${name}, ${name?text}, ${name:text} expansion of
 * forward_path and luser_relay (see local_expand.h).
 */
#include <stddef.h>
#include <string.h>

#include "local_expand.h"

#define EXPAND_MAX_DEPTH 10

/* The value of a name: 1 and *val (NULL if undefined), 0 if unknown. */
static int lookup(const struct local_expand_vars *v, const char *name, size_t len,
                  const char **val)
{
    static const struct { const char *name; size_t off; } names[] = {
        { "user", offsetof(struct local_expand_vars, user) },
        { "home", offsetof(struct local_expand_vars, home) },
        { "shell", offsetof(struct local_expand_vars, shell) },
        { "recipient", offsetof(struct local_expand_vars, recipient) },
        { "local", offsetof(struct local_expand_vars, local) },
        { "extension", offsetof(struct local_expand_vars, extension) },
        { "domain", offsetof(struct local_expand_vars, domain) },
        { "recipient_delimiter", offsetof(struct local_expand_vars, recipient_delimiter) },
        { "mailbox", offsetof(struct local_expand_vars, mailbox) },
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i].name) == len && memcmp(names[i].name, name, len) == 0) {
            *val = *(const char *const *)((const char *)v + names[i].off);
            return 1;
        }
    return 0;
}

/* Append a value, with unsafe characters made '_'. */
static void put_filtered(struct buf *out, const char *val)
{
    for (const char *p = val; *p; p++)
        buf_putc(out, strchr(LOCAL_EXPAND_SAFE, *p) ? *p : '_');
}

static int expand(const char *p, size_t len, const struct local_expand_vars *v,
                  struct buf *out, struct buf *why, int depth);

/* One ${...} body (without the braces). */
static int expand_braced(const char *body, size_t len, const struct local_expand_vars *v,
                         struct buf *out, struct buf *why, int depth)
{
    size_t nlen = strcspn(body, "?:}");
    const char *val;

    if (nlen > len)
        nlen = len;
    if (nlen == 0) {
        buf_printf(why, "empty macro name");
        return -1;
    }
    if (!lookup(v, body, nlen, &val)) {
        buf_printf(why, "unknown macro name: %.*s", (int)nlen, body);
        return -1;
    }
    if (nlen == len) {
        if (val == NULL || *val == 0)
            return LOCAL_EXPAND_UNDEF;
        put_filtered(out, val);
        return 0;
    }
    if (body[nlen] == '?')
        return val && *val ? expand(body + nlen + 1, len - nlen - 1, v, out, why, depth + 1) : 0;
    return val && *val ? 0 : expand(body + nlen + 1, len - nlen - 1, v, out, why, depth + 1);
}

/* Expand len bytes of p into out. */
static int expand(const char *p, size_t len, const struct local_expand_vars *v,
                  struct buf *out, struct buf *why, int depth)
{
    int flags = 0, rc;

    if (depth > EXPAND_MAX_DEPTH) {
        buf_printf(why, "macros nested too deeply");
        return -1;
    }
    for (size_t i = 0; i < len; ) {
        if (out->len > LOCAL_EXPAND_MAX) {
            buf_printf(why, "expansion longer than %d bytes", LOCAL_EXPAND_MAX);
            return -1;
        }
        if (p[i] != '$') {
            buf_putc(out, p[i++]);
            continue;
        }
        i++;
        if (i < len && p[i] == '$') {
            buf_putc(out, '$');
            i++;
        } else if (i < len && (p[i] == '{' || p[i] == '(')) {
            char open = p[i], close = open == '{' ? '}' : ')';
            size_t start = ++i, level = 1;

            for (; i < len; i++) {
                if (p[i] == open)
                    level++;
                else if (p[i] == close && --level == 0)
                    break;
            }
            if (i >= len) {
                buf_printf(why, "missing '%c' in \"%.*s\"", close, (int)len, p);
                return -1;
            }
            if ((rc = expand_braced(p + start, i - start, v, out, why, depth)) < 0)
                return -1;
            flags |= rc;
            i++;
        } else {
            size_t start = i;
            const char *val;

            while (i < len && (p[i] == '_' || (p[i] >= 'a' && p[i] <= 'z')
                               || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9')))
                i++;
            if (i == start) {
                buf_printf(why, "'$' without a macro name in \"%.*s\"", (int)len, p);
                return -1;
            }
            if (!lookup(v, p + start, i - start, &val)) {
                buf_printf(why, "unknown macro name: %.*s", (int)(i - start), p + start);
                return -1;
            }
            if (val == NULL || *val == 0)
                flags |= LOCAL_EXPAND_UNDEF;
            else
                put_filtered(out, val);
        }
    }
    if (out->len > LOCAL_EXPAND_MAX) {
        buf_printf(why, "expansion longer than %d bytes", LOCAL_EXPAND_MAX);
        return -1;
    }
    return flags;
}

int local_expand(const char *pattern, const struct local_expand_vars *v,
                 struct buf *out, struct buf *why)
{
    return expand(pattern, strlen(pattern), v, out, why, 0);
}
