/*
 * local_alias - parse alias values and .forward files into destinations
 * (see local_alias.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "local_alias.h"
#include "mem.h"

#define INCLUDE_PREFIX ":include:"

/* Add one destination. */
static int add(struct local_dest_list *out, enum local_dest_type type, const char *v,
               size_t len, struct buf *why)
{
    if (out->n >= LOCAL_ALIAS_MAX_ITEMS) {
        buf_printf(why, "more than %d destinations", LOCAL_ALIAS_MAX_ITEMS);
        return -1;
    }
    out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
    out->v[out->n].type = type;
    out->v[out->n].value = xstrndup(v, len);
    out->n++;
    return 0;
}

/* Trim white space from both ends of [*s, *s+*len). */
static void trim(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

/*
 * Reduce an address item: drop (comments) outside quotes, and take what
 * is inside <...> when present. Quoted text is kept as written.
 */
static void reduce_address(const char *s, size_t len, struct buf *out)
{
    struct buf plain = BUF_INIT;
    const char *lt = NULL;
    int quoted = 0, depth = 0;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (quoted) {
            buf_putc(&plain, c);
            if (c == '\\' && i + 1 < len)
                buf_putc(&plain, s[++i]);
            else if (c == '"')
                quoted = 0;
        } else if (depth) {
            if (c == '(')
                depth++;
            else if (c == ')')
                depth--;
        } else if (c == '(') {
            depth = 1;
        } else {
            if (c == '"')
                quoted = 1;
            buf_putc(&plain, c);
        }
    }
    /* Name <addr>: keep addr. */
    {
        const char *p = buf_str(&plain), *gt;
        size_t plen = plain.len;

        quoted = 0;
        for (size_t i = 0; i < plen; i++) {
            if (p[i] == '"')
                quoted = !quoted;
            else if (p[i] == '\\' && quoted)
                i++;
            else if (p[i] == '<' && !quoted) {
                lt = p + i;
                break;
            }
        }
        if (lt && (gt = strchr(lt, '>')) != NULL) {
            p = lt + 1;
            plen = (size_t)(gt - p);
        }
        trim(&p, &plen);
        buf_append(out, p, plen);
    }
    buf_free(&plain);
}

/* Classify and add one item [s, s+len). */
static int add_item(const char *s, size_t len, struct local_dest_list *out, struct buf *why)
{
    struct buf item = BUF_INIT;
    int rc;

    trim(&s, &len);
    if (len == 0)
        return 0;
    /* A whole item in quotes: unquote it. */
    if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
        size_t i;

        for (i = 1; i < len - 1; i++) {
            if (s[i] == '\\' && i + 1 < len - 1)
                i++;
            else if (s[i] == '"')
                break;
        }
        if (i == len - 1) {
            for (i = 1; i < len - 1; i++) {
                if (s[i] == '\\' && i + 1 < len - 1)
                    i++;
                buf_putc(&item, s[i]);
            }
            s = buf_str(&item);
            len = item.len;
            trim(&s, &len);
        }
    }
    if (len && s[0] == '|') {
        s++, len--;
        trim(&s, &len);
        rc = len ? add(out, LOCAL_DEST_COMMAND, s, len, why)
            : (buf_printf(why, "empty command after '|'"), -1);
    } else if (len > strlen(INCLUDE_PREFIX)
               && strncasecmp(s, INCLUDE_PREFIX, strlen(INCLUDE_PREFIX)) == 0) {
        s += strlen(INCLUDE_PREFIX), len -= strlen(INCLUDE_PREFIX);
        trim(&s, &len);
        if (len == 0 || s[0] != '/')
            rc = (buf_printf(why, ":include: needs an absolute path"), -1);
        else
            rc = add(out, LOCAL_DEST_INCLUDE, s, len, why);
    } else if (len >= strlen(INCLUDE_PREFIX)
               && strncasecmp(s, INCLUDE_PREFIX, strlen(INCLUDE_PREFIX)) == 0) {
        rc = (buf_printf(why, ":include: needs an absolute path"), -1);
    } else if (len && s[0] == '/') {
        rc = add(out, LOCAL_DEST_FILE, s, len, why);
    } else if (len && s[0] == '\\') {
        s++, len--;
        trim(&s, &len);
        rc = len ? add(out, LOCAL_DEST_MAILBOX, s, len, why)
            : (buf_printf(why, "empty user name after '\\'"), -1);
    } else {
        struct buf addr = BUF_INIT;

        reduce_address(s, len, &addr);
        rc = addr.len ? add(out, LOCAL_DEST_ADDRESS, buf_str(&addr), addr.len, why) : 0;
        buf_free(&addr);
    }
    buf_free(&item);
    return rc;
}

int local_alias_parse(const char *text, struct local_dest_list *out, struct buf *why)
{
    size_t len = strlen(text), start = 0;
    int quoted = 0, angle = 0, paren = 0;

    if (len > LOCAL_ALIAS_MAX_TEXT) {
        buf_printf(why, "alias value longer than %d bytes", LOCAL_ALIAS_MAX_TEXT);
        return -1;
    }
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? text[i] : ',';

        if (quoted) {
            if (c == '\\' && i + 1 < len)
                i++;
            else if (c == '"')
                quoted = 0;
            else if (i == len) {
                buf_printf(why, "unterminated quoted string");
                return -1;
            }
            continue;
        }
        if (c == '"')
            quoted = 1;
        else if (c == '<')
            angle++;
        else if (c == '>' && angle)
            angle--;
        else if (c == '(')
            paren++;
        else if (c == ')' && paren)
            paren--;
        else if (c == ',' && ((angle == 0 && paren == 0) || i == len)) {
            if (i == len && (angle || paren)) {
                buf_printf(why, "unterminated %s", angle ? "<...>" : "(...)");
                return -1;
            }
            if (add_item(text + start, i - start, out, why) < 0)
                return -1;
            start = i + 1;
        }
    }
    return 0;
}

int local_alias_parse_file(const char *text, size_t len, struct local_dest_list *out,
                           struct buf *why)
{
    struct buf joined = BUF_INIT;
    int rc;

    if (len > LOCAL_ALIAS_MAX_TEXT) {
        buf_printf(why, "file longer than %d bytes", LOCAL_ALIAS_MAX_TEXT);
        return -1;
    }
    if (memchr(text, 0, len)) {
        buf_printf(why, "file holds a NUL byte");
        return -1;
    }
    for (size_t i = 0; i < len; ) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len, s = i;

        while (s < end && isspace((unsigned char)text[s]))
            s++;
        if (s < end && text[s] != '#') {
            if (joined.len)
                buf_putc(&joined, ',');
            buf_append(&joined, text + i, end - i);
        }
        i = end + 1;
    }
    rc = local_alias_parse(buf_str(&joined), out, why);
    buf_free(&joined);
    return rc;
}

void local_dest_list_free(struct local_dest_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].value);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

const char *local_dest_type_name(enum local_dest_type t)
{
    switch (t) {
    case LOCAL_DEST_COMMAND: return "command";
    case LOCAL_DEST_FILE: return "file";
    case LOCAL_DEST_INCLUDE: return "include";
    case LOCAL_DEST_MAILBOX: return "mailbox";
    default: return "address";
    }
}
