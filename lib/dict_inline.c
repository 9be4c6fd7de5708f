/*
 * dict_inline - "inline:{key=value, key2=value2}", a table written in the
 * table name, with Postfix's syntax: the outer braces are required;
 * entries are separated by commas or white space; an entry whose value
 * holds white space or commas is written in braces,
 * "{ key = value with spaces }" (white space around key and value is
 * dropped). A table must have at least one entry. Keys are folded when
 * the table is opened with DICT_FLAG_FOLD; a duplicate key keeps the
 * first value, with a warning. Errors name the table.
 */
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "log.h"
#include "mem.h"

#define INLINE_SEP      ", \t\r\n\v\f"
#define INLINE_BLANKS   " \t\r\n\v\f"

struct inline_entry {
    char *key;
    char *value;
};

struct dict_inline {
    struct dict dict;
    struct inline_entry *v;
    size_t count;
};

extern const struct dict_ops dict_inline_ops;

/* Copy of p[0..n) without the white space at either end. */
static char *trimmed(const char *p, size_t n)
{
    while (n > 0 && strchr(INLINE_BLANKS, *p)) {
        p++;
        n--;
    }
    while (n > 0 && strchr(INLINE_BLANKS, p[n - 1]))
        n--;
    return xstrndup(p, n);
}

/* Length of the braced text at p ('{' ... matching '}'), or 0 if unbalanced. */
static size_t braced_len(const char *p, size_t n)
{
    int depth = 0;

    for (size_t i = 0; i < n; i++) {
        depth += p[i] == '{';
        depth -= p[i] == '}';
        if (depth == 0)
            return i + 1;
    }
    return 0;
}

static void inline_close(struct dict *dict)
{
    struct dict_inline *d = (struct dict_inline *)dict;

    for (size_t i = 0; i < d->count; i++) {
        free(d->v[i].key);
        free(d->v[i].value);
    }
    free(d->v);
    dict_free_common(dict);
}

/* Add one "key=value" entry (text p, n bytes); 0 or -1 with err. */
static int add_entry(struct dict_inline *d, const char *name, const char *p, size_t n,
                     struct buf *err)
{
    const char *eq = memchr(p, '=', n);
    char *key;

    if (eq == NULL) {
        buf_printf(err, "inline:%s: syntax error: expected \"key=value\", got \"%.*s\"",
                   name, (int)n, p);
        return -1;
    }
    key = trimmed(p, (size_t)(eq - p));
    if (*key == 0) {
        buf_printf(err, "inline:%s: syntax error: missing key in \"%.*s\"", name, (int)n, p);
        free(key);
        return -1;
    }
    if (d->dict.flags & DICT_FLAG_FOLD)
        dict_fold(key);
    for (size_t i = 0; i < d->count; i++) {
        if (strcmp(d->v[i].key, key) == 0) {
            if (!(d->dict.flags & DICT_FLAG_DUP_IGNORE))
                msg_warn("inline:%s: duplicate entry: \"%s\"", name, key);
            free(key);
            return 0;
        }
    }
    d->v = xreallocarray(d->v, d->count + 1, sizeof(*d->v));
    d->v[d->count].key = key;
    d->v[d->count].value = trimmed(eq + 1, n - (size_t)(eq + 1 - p));
    d->count++;
    return 0;
}

static struct dict *inline_open(const char *name, int flags, const struct config *cfg,
                                struct buf *err)
{
    size_t len = strlen(name), pos, n, end;
    struct buf spec = BUF_INIT;
    struct dict_inline *d;
    const char *body;

    if (name[0] != '{' || braced_len(name, len) != len) {
        buf_printf(err, "inline:%s: syntax error: need \"inline:{key=value, ...}\"", name);
        return NULL;
    }
    buf_printf(&spec, "inline:%s", name);
    d = (struct dict_inline *)dict_alloc(sizeof(*d), &dict_inline_ops, buf_str(&spec), flags);
    buf_free(&spec);
    body = name + 1;
    end = len - 2;
    for (pos = 0; pos < end; pos += n) {
        pos += strspn(body + pos, INLINE_SEP);
        if (pos >= end)
            break;
        if (body[pos] == '{') {
            if ((n = braced_len(body + pos, end - pos)) == 0) {
                buf_printf(err, "inline:%s: syntax error: missing '}'", name);
                goto fail;
            }
            if (add_entry(d, name, body + pos + 1, n - 2, err) < 0)
                goto fail;
            if (pos + n < end && !strchr(INLINE_SEP, body[pos + n])) {
                buf_printf(err, "inline:%s: syntax error: text after '}'", name);
                goto fail;
            }
            continue;
        }
        /* A plain entry ends at a separator outside braces. */
        for (n = 0; pos + n < end && !strchr(INLINE_SEP, body[pos + n]); n++) {
            if (body[pos + n] == '}') {
                buf_printf(err, "inline:%s: syntax error: unexpected '}'", name);
                goto fail;
            }
            if (body[pos + n] == '{') {
                size_t b = braced_len(body + pos + n, end - pos - n);

                if (b == 0) {
                    buf_printf(err, "inline:%s: syntax error: missing '}'", name);
                    goto fail;
                }
                n += b - 1;
            }
        }
        if (add_entry(d, name, body + pos, n, err) < 0)
            goto fail;
    }
    if (d->count == 0) {
        buf_printf(err, "inline:%s: syntax error: no entries; need \"inline:{key=value, ...}\"",
                   name);
        goto fail;
    }
    return &d->dict;

fail:
    inline_close(&d->dict);
    return NULL;
}

static int inline_lookup(struct dict *dict, const char *key, struct buf *value,
                         struct buf *why)
{
    struct dict_inline *d = (struct dict_inline *)dict;

    for (size_t i = 0; i < d->count; i++) {
        if (strcmp(d->v[i].key, key) == 0) {
            (void)buf_puts(value, d->v[i].value);
            return DICT_FOUND;
        }
    }
    return DICT_NOTFOUND;
}

static int inline_iterate(struct dict *dict, dict_walk_fn fn, void *arg, struct buf *why)
{
    struct dict_inline *d = (struct dict_inline *)dict;

    for (size_t i = 0; i < d->count && fn(d->v[i].key, d->v[i].value, arg) == 0; i++)
        /* void */ ;
    return 0;
}

const struct dict_ops dict_inline_ops = {
    .type = "inline",
    .caps = DICT_CAP_ITERATE,
    .open = inline_open,
    .lookup = inline_lookup,
    .iterate = inline_iterate,
    .close = inline_close,
};
