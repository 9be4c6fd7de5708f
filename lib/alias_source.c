/*
 * alias_source - aliases(5) source files (see alias_source.h).
 */
#include <string.h>

#include "alias_source.h"
#include "logical_line.h"

#define ALIAS_MAX_FILE  ((size_t)1 << 30)

struct alias_parse {
    const char *name;
    alias_source_fn fn;
    void *arg;
    struct buf *err;
    int errors;
    struct buf key, value;
};

#define AERR(ap, line, ...) lline_error((ap)->err, &(ap)->errors, (ap)->name, line, __VA_ARGS__)

/* Take the name from *pp into ap->key; the colon is consumed. */
static int get_name(struct alias_parse *ap, int line, const char **pp)
{
    const char *p = *pp;

    buf_reset(&ap->key);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            (void)buf_putc(&ap->key, *p);
        }
        if (*p != '"') {
            AERR(ap, line, "unterminated quoted name");
            return -1;
        }
        p++;
    } else {
        for (; *p && *p != ':' && !LLINE_SPACE(*p); p++) {
            if (*p == '@' || *p == '%') {
                AERR(ap, line, "name must be local: \"%c\" in an alias name (quote the"
                     " name if it must be there)", *p);
                return -1;
            }
            if (strchr("()<>,;[]\"\\", *p)) {
                AERR(ap, line, "bad character \"%c\" in an alias name (quote the name)", *p);
                return -1;
            }
            (void)buf_putc(&ap->key, *p);
        }
    }
    while (LLINE_SPACE(*p))
        p++;
    if (*p != ':') {
        if (*p && ap->key.len > 0 && (*pp)[0] != '"' && strchr(p, ':'))
            AERR(ap, line, "white space in an alias name (quote the name)");
        else
            AERR(ap, line, "need name:value pair");
        return -1;
    }
    if (ap->key.len == 0) {
        AERR(ap, line, "empty alias name");
        return -1;
    }
    *pp = p + 1;
    return 0;
}

/* The value with white space outside quotes made single spaces. */
static int get_value(struct alias_parse *ap, int line, const char *p)
{
    int quoted = 0, space = 0;

    buf_reset(&ap->value);
    while (LLINE_SPACE(*p))
        p++;
    for (; *p; p++) {
        if (!quoted && LLINE_SPACE(*p)) {
            space = 1;
            continue;
        }
        if (space) {
            (void)buf_putc(&ap->value, ' ');
            space = 0;
        }
        if (*p == '"') {
            quoted = !quoted;
        } else if (quoted && *p == '\\' && p[1]) {
            (void)buf_putc(&ap->value, *p++);
        }
        (void)buf_putc(&ap->value, *p);
    }
    if (quoted) {
        AERR(ap, line, "unterminated quoted string in the value of \"%.100s\"",
             buf_str(&ap->key));
        return -1;
    }
    if (ap->value.len == 0) {
        AERR(ap, line, "need name:value pair: no value for \"%.100s\"", buf_str(&ap->key));
        return -1;
    }
    return 0;
}

static int alias_line(char *line, size_t len, int lineno, void *arg)
{
    struct alias_parse *ap = arg;
    const char *p = line;

    (void)len;
    if (get_name(ap, lineno, &p) < 0 || get_value(ap, lineno, p) < 0)
        return 0;
    return ap->fn(buf_str(&ap->key), buf_str(&ap->value), lineno, ap->arg);
}

int alias_source_parse(const char *name, const char *text, size_t len,
                       alias_source_fn fn, void *arg, struct buf *err)
{
    struct alias_parse ap;

    memset(&ap, 0, sizeof(ap));
    ap.name = name;
    ap.fn = fn;
    ap.arg = arg;
    ap.err = err;
    buf_init(&ap.key, ALIAS_SOURCE_MAX_LINE + 1);
    buf_init(&ap.value, ALIAS_SOURCE_MAX_LINE + 1);
    (void)lline_parse(name, text, len, ALIAS_SOURCE_MAX_LINE, alias_line, &ap, err,
                      &ap.errors);
    buf_free(&ap.key);
    buf_free(&ap.value);
    return ap.errors;
}

int alias_source_read(const char *path, size_t limit, alias_source_fn fn, void *arg,
                      struct buf *err)
{
    struct buf text = BUF_INIT;
    int errors;

    if (limit == 0)
        limit = ALIAS_MAX_FILE;
    buf_init(&text, limit + 1);
    if (lline_read_file(path, limit, &text, err) < 0) {
        buf_free(&text);
        return 1;
    }
    errors = alias_source_parse(path, buf_str(&text), text.len, fn, arg, err);
    buf_free(&text);
    return errors;
}
