/*
 * dict_static - "static:value": every lookup finds value. A value with
 * white space is written in braces, "static:{value with spaces}" (white
 * space just inside the braces is dropped), as in Postfix.
 */
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "mem.h"

#define STATIC_BLANKS " \t\r\n\v\f"

struct dict_static {
    struct dict dict;
    char *value;
};

extern const struct dict_ops dict_static_ops;

static struct dict *static_open(const char *name, int flags, const struct config *cfg,
                                struct buf *err)
{
    struct dict_static *d;
    struct buf spec = BUF_INIT;
    size_t len = strlen(name), start, end;
    int depth = 0;

    if (name[0] == '{') {
        for (size_t i = 0; i < len; i++) {
            depth += name[i] == '{';
            depth -= name[i] == '}';
            if (depth == 0 && i != len - 1) {
                buf_printf(err, "static:%s: syntax error: text after the closing '}'", name);
                return NULL;
            }
        }
        if (depth != 0) {
            buf_printf(err, "static:%s: syntax error: missing '}'", name);
            return NULL;
        }
        start = 1 + strspn(name + 1, STATIC_BLANKS);
        end = len - 1;
        while (end > start && strchr(STATIC_BLANKS, name[end - 1]))
            end--;
    } else {
        start = 0;
        end = len;
    }
    buf_printf(&spec, "static:%s", name);
    d = (struct dict_static *)dict_alloc(sizeof(*d), &dict_static_ops, buf_str(&spec), flags);
    buf_free(&spec);
    d->value = xstrndup(name + start, end - start);
    return &d->dict;
}

static int static_lookup(struct dict *dict, const char *key, struct buf *value,
                         struct buf *why)
{
    (void)buf_puts(value, ((struct dict_static *)dict)->value);
    return DICT_FOUND;
}

static void static_close(struct dict *dict)
{
    free(((struct dict_static *)dict)->value);
    dict_free_common(dict);
}

const struct dict_ops dict_static_ops = {
    .type = "static",
    .caps = 0,
    .open = static_open,
    .lookup = static_lookup,
    .close = static_close,
};
