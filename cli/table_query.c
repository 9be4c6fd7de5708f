/*
 * table_query - what postmap and postalias share: opening a table or
 * exiting with the reason, reading keys from standard input (bounded),
 * and `-q KEY` / `-q -` lookups over several tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mail_tool.h"
#include "mem.h"
#include "table_query.h"

/* Open spec or exit with the reason (every line of it). */
struct dict *table_open_or_die(const char *spec, int flags, const struct config *cfg)
{
    struct buf err = BUF_INIT;
    struct dict *d = dict_open(spec, flags, cfg, &err);

    if (d == NULL) {
        if (strchr(buf_str(&err), '\n') != NULL) {
            tool_error_lines(&err);
            msg_fatal("%s: cannot open table", spec);
        }
        msg_fatal("%s", buf_str(&err));
    }
    buf_free(&err);
    return d;
}

int table_read_key_line(struct buf *line)
{
    int c, too_long = 0;

    buf_reset(line);
    while ((c = getchar()) != EOF && c != '\n')
        if (!too_long && buf_putc(line, c) < 0)
            too_long = 1;
    if (c == EOF && line->len == 0 && !too_long)
        return 0;
    if (too_long)
        return -1;
    if (line->len > 0 && line->data[line->len - 1] == '\r')
        buf_truncate(line, line->len - 1);
    return 1;
}

/* Look key up in each table in turn and print the answer. Returns a dict status. */
static int query_one(struct dict **tables, int count, const char *key, const char *sep,
                     struct buf *value)
{
    struct buf why = BUF_INIT;
    int rc = DICT_NOTFOUND;

    for (int i = 0; i < count; i++) {
        buf_reset(&why);
        rc = dict_lookup(tables[i], key, value, &why);
        if (rc == DICT_FOUND) {
            if (sep)
                printf("%s%s%s\n", key, sep, buf_str(value));
            else
                printf("%s\n", buf_str(value));
            break;
        }
        if (rc == DICT_TEMPFAIL) {
            msg_warn("%s: lookup of \"%s\" failed: %s", tables[i]->spec, key,
                     why.len ? buf_str(&why) : "temporary failure");
            break;
        }
    }
    buf_free(&why);
    return rc;
}

int table_query(const char *key, char **specs, int count, int flags,
                const struct config *cfg, const char *sep)
{
    struct dict **tables = xcalloc((size_t)count, sizeof(*tables));
    struct buf value = BUF_INIT, line;
    int rc, found = 0, failed = 0, r;

    for (int i = 0; i < count; i++)
        tables[i] = table_open_or_die(specs[i], flags, cfg);
    if (strcmp(key, "-") != 0) {
        rc = query_one(tables, count, key, NULL, &value);
        found = rc == DICT_FOUND;
        failed = rc == DICT_TEMPFAIL;
    } else {
        buf_init(&line, TABLE_MAX_KEY_LINE);
        while ((r = table_read_key_line(&line)) != 0) {
            if (r < 0) {
                msg_warn("standard input: key longer than %d bytes; skipped",
                         TABLE_MAX_KEY_LINE);
                continue;
            }
            if (line.len == 0)
                continue;
            rc = query_one(tables, count, buf_str(&line), sep, &value);
            found |= rc == DICT_FOUND;
            failed |= rc == DICT_TEMPFAIL;
        }
        buf_free(&line);
    }
    for (int i = 0; i < count; i++)
        dict_close(tables[i]);
    free(tables);
    buf_free(&value);
    return failed ? 2 : found ? 0 : 1;
}
