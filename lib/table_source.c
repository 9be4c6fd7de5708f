/*
 * table_source - parse Postfix-style "key value" source files (see
 * table_source.h).
 *
 * Both entry points feed physical lines to one small state machine that
 * assembles logical lines: a line that starts with white space continues
 * the entry before it, comment and blank lines are skipped (also inside a
 * continued entry, as Postfix's readlline() does). table_source_read()
 * streams the file through a fixed-size read buffer, so memory stays
 * bounded by TABLE_SOURCE_MAX_LINE whatever the size of the file.
 *
 * Errors (each "NAME, line N: problem") are collected in err and counted;
 * the entry in error is skipped and parsing goes on, so that one run
 * reports every problem. After TS_MAX_MESSAGES messages further errors
 * are only counted, and one closing line says how many were left out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "table_source.h"

#define TS_BLANKS        " \t\r\v\f"
#define TS_MAX_MESSAGES  100            /* error lines kept in err */
#define TS_DEFAULT_LIMIT (1024UL * 1024UL * 1024UL)
#define TS_READ_CHUNK    (256 * 1024)

/* The logical-line assembler. */
struct ts_state {
    const char *name;
    table_source_fn fn;
    void *arg;
    struct buf *err;
    int errors;
    int stopped;                /* the callback asked to stop */
    struct buf entry;           /* current logical line */
    int entry_line;             /* where it starts; 0: no entry */
    int entry_bad;              /* skip the rest of this entry */
    int orphan;                 /* continuation lines with no entry: skip */
};

static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Record one error for line (bounded number of messages). */
static void ts_error(struct ts_state *st, int line, const char *what)
{
    st->errors++;
    if (st->errors <= TS_MAX_MESSAGES) {
        (void)buf_printf(st->err, "%s, line %d: %s", st->name, line, what);
        if (strstr(what, "longer than") != NULL)
            (void)buf_printf(st->err, " %d bytes", TABLE_SOURCE_MAX_LINE);
        (void)buf_putc(st->err, '\n');
    }
}

#define TS_TOO_LONG "longer than the limit of"

/* Hand the current entry, if any, to the callback. */
static void ts_flush(struct ts_state *st)
{
    char *text, *key_end, *value;
    size_t n;

    if (st->entry_line == 0)
        return;
    if (!st->entry_bad && !st->stopped) {
        text = st->entry.data;
        n = strcspn(text, TS_BLANKS);
        key_end = text + n;
        value = key_end + strspn(key_end, TS_BLANKS);
        if (*value == 0) {
            ts_error(st, st->entry_line, "expected format: key whitespace value");
        } else {
            *key_end = 0;
            if (st->fn(text, value, st->entry_line, st->arg) != 0)
                st->stopped = 1;
        }
    }
    st->entry_line = 0;
    st->entry_bad = 0;
    buf_reset(&st->entry);
}

/*
 * One physical line (without its newline), len bytes, number lineno.
 * too_long says the line was cut because it passed the limit.
 */
static void ts_line(struct ts_state *st, const char *p, size_t len, int lineno, int too_long)
{
    size_t lead = 0, end = len;

    if (st->stopped)
        return;
    while (lead < len && is_blank((unsigned char)p[lead]))
        lead++;
    /* A comment or blank line changes nothing, even inside an entry. */
    if (!too_long && (lead == len || p[lead] == '#'))
        return;
    if (lead == 0) {
        ts_flush(st);
        st->orphan = 0;
        st->entry_line = lineno;
    } else if (st->entry_line == 0) {
        if (!st->orphan)
            ts_error(st, lineno, "continuation line (starting with white space) "
                     "without an entry before it");
        st->orphan = 1;
        return;
    } else if (st->entry_bad) {
        return;
    }
    if (too_long) {
        ts_error(st, lineno, "line " TS_TOO_LONG);
        st->entry_bad = 1;
        return;
    }
    if (memchr(p, 0, len) != NULL) {
        ts_error(st, lineno, "NUL byte in line");
        st->entry_bad = 1;
        return;
    }
    while (end > lead && is_blank((unsigned char)p[end - 1]))
        end--;
    if (st->entry.len > 0 && buf_putc(&st->entry, ' ') < 0) {
        ts_error(st, st->entry_line, "entry " TS_TOO_LONG);
        st->entry_bad = 1;
        return;
    }
    if (st->entry.len + (end - lead) > TABLE_SOURCE_MAX_LINE
        || buf_append(&st->entry, p + lead, end - lead) < 0) {
        ts_error(st, st->entry_line, "entry " TS_TOO_LONG);
        st->entry_bad = 1;
    }
}

static void ts_init(struct ts_state *st, const char *name, table_source_fn fn, void *arg,
                    struct buf *err)
{
    memset(st, 0, sizeof(*st));
    st->name = name;
    st->fn = fn;
    st->arg = arg;
    st->err = err;
    buf_init(&st->entry, TABLE_SOURCE_MAX_LINE + 2);
}

/* End of input: the last entry, the summary line, cleanup. */
static int ts_finish(struct ts_state *st)
{
    ts_flush(st);
    if (st->errors > TS_MAX_MESSAGES)
        (void)buf_printf(st->err, "%s: %d more errors not shown\n", st->name,
                         st->errors - TS_MAX_MESSAGES);
    buf_free(&st->entry);
    return st->errors;
}

int table_source_parse(const char *name, const char *text, size_t len,
                       table_source_fn fn, void *arg, struct buf *err)
{
    struct ts_state st;
    size_t pos = 0, n;
    const char *nl;
    int lineno = 0;

    ts_init(&st, name, fn, arg, err);
    while (pos < len && !st.stopped) {
        nl = memchr(text + pos, '\n', len - pos);
        n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (lineno == INT32_MAX)
            break;
        lineno++;
        if (n > TABLE_SOURCE_MAX_LINE)
            ts_line(&st, text + pos, 0, lineno, 1);
        else
            ts_line(&st, text + pos, n, lineno, 0);
        pos += n + (nl != NULL);
    }
    return ts_finish(&st);
}

/* One complete physical line: partial (if any) + seg; may be too long. */
static void ts_complete(struct ts_state *st, struct buf *partial, const char *seg,
                        size_t n, int *lineno, int *skipping)
{
    if (*lineno < INT32_MAX)
        (*lineno)++;
    if (*skipping || partial->len + n > TABLE_SOURCE_MAX_LINE) {
        ts_line(st, seg, 0, *lineno, 1);
    } else if (partial->len > 0) {
        (void)buf_append(partial, seg, n);
        ts_line(st, partial->data, partial->len, *lineno, 0);
    } else {
        ts_line(st, seg, n, *lineno, 0);
    }
    buf_reset(partial);
    *skipping = 0;
}

int table_source_read(const char *path, size_t limit, table_source_fn fn, void *arg,
                      struct buf *err)
{
    struct ts_state st;
    struct buf partial;
    struct stat sb;
    char *chunk;
    const char *p, *nl, *end;
    size_t total = 0;
    ssize_t got;
    int fd, lineno = 0, skipping = 0;

    if (limit == 0)
        limit = TS_DEFAULT_LIMIT;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        (void)buf_printf(err, "open %s: %s\n", path, strerror(errno));
        return 1;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        (void)buf_printf(err, "open %s: %s\n", path,
                         S_ISDIR(sb.st_mode) ? strerror(EISDIR) : "not a regular file");
        close(fd);
        return 1;
    }
    ts_init(&st, path, fn, arg, err);
    buf_init(&partial, TABLE_SOURCE_MAX_LINE + 1);
    chunk = xmalloc(TS_READ_CHUNK);
    while (!st.stopped) {
        got = read(fd, chunk, TS_READ_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            st.errors++;
            (void)buf_printf(err, "read %s: %s\n", path, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        if ((size_t)got > limit - total) {
            st.errors++;
            (void)buf_printf(err, "%s: file larger than %zu bytes\n", path, limit);
            break;
        }
        total += (size_t)got;
        for (p = chunk, end = chunk + got; p < end && !st.stopped; p = nl + 1) {
            if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
                /* A line that goes on in the next chunk. */
                if (skipping || partial.len + (size_t)(end - p) > TABLE_SOURCE_MAX_LINE) {
                    skipping = 1;
                    buf_reset(&partial);
                } else {
                    (void)buf_append(&partial, p, (size_t)(end - p));
                }
                break;
            }
            ts_complete(&st, &partial, p, (size_t)(nl - p), &lineno, &skipping);
        }
    }
    if (!st.stopped && (skipping || partial.len > 0))
        ts_complete(&st, &partial, "", 0, &lineno, &skipping);
    free(chunk);
    buf_free(&partial);
    close(fd);
    return ts_finish(&st);
}
