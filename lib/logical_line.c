/*
 * logical_line - Postfix-style logical lines of table source files (see
 * logical_line.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logical_line.h"

void lline_error(struct buf *err, int *errors, const char *name, int lineno,
                 const char *fmt, ...)
{
    va_list ap;

    if (*errors < LLINE_MAX_ERRORS) {
        if (err->len > 0)
            (void)buf_putc(err, '\n');
        if (lineno > 0)
            (void)buf_printf(err, "%s, line %d: ", name, lineno);
        else
            (void)buf_printf(err, "%s: ", name);
        va_start(ap, fmt);
        (void)buf_vprintf(err, fmt, ap);
        va_end(ap);
    } else if (*errors == LLINE_MAX_ERRORS) {
        (void)buf_printf(err, "\n%s: more than %d errors; the rest are not listed",
                         name, LLINE_MAX_ERRORS);
    }
    (*errors)++;
}

/* The logical line being assembled. */
struct lline_state {
    const char *name;
    struct buf cur;
    int start;                  /* line number where it starts; 0: none */
    int bad;                    /* already reported: drop it */
    size_t max_line;
};

/* Hand the finished logical line to fn; non-zero: stop. */
static int flush(struct lline_state *st, lline_fn fn, void *arg)
{
    int rc = 0;

    if (st->start > 0 && !st->bad) {
        size_t n = st->cur.len;

        while (n > 0 && LLINE_SPACE(st->cur.data[n - 1]))
            n--;
        buf_truncate(&st->cur, n);
        if (n > 0)
            rc = fn(st->cur.data, n, st->start, arg);
    }
    st->start = 0;
    st->bad = 0;
    buf_reset(&st->cur);
    return rc;
}

/* Add one physical line to the logical line. */
static void add(struct lline_state *st, const char *p, size_t n, int lineno,
                struct buf *err, int *errors)
{
    if (st->bad)
        return;
    if (memchr(p, 0, n) != NULL) {
        lline_error(err, errors, st->name, lineno, "NUL byte in line");
        st->bad = 1;
    } else if (buf_append(&st->cur, p, n) < 0) {
        lline_error(err, errors, st->name, st->start, "logical line longer than %zu bytes",
                    st->max_line);
        st->bad = 1;
    }
}

int lline_parse(const char *name, const char *text, size_t len, size_t max_line,
                lline_fn fn, void *arg, struct buf *err, int *errors)
{
    struct lline_state st;
    size_t pos = 0;
    int lineno = 0, before = *errors, stop = 0;

    st.name = name;
    st.start = 0;
    st.bad = 0;
    st.max_line = max_line;
    buf_init(&st.cur, max_line);
    while (pos < len && !stop) {
        const char *p = text + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos, i = 0;

        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        while (i < n && LLINE_SPACE(p[i]))
            i++;
        if (i == n || p[i] == '#')
            continue;                           /* blank line or comment */
        if (i > 0) {                            /* continuation */
            if (st.start == 0) {
                lline_error(err, errors, name, lineno,
                            "logical line must not start with white space");
                continue;
            }
            add(&st, p, n, lineno, err, errors);
            continue;
        }
        stop = flush(&st, fn, arg);
        if (stop)
            break;
        st.start = lineno;
        add(&st, p, n, lineno, err, errors);
    }
    if (!stop)
        (void)flush(&st, fn, arg);
    buf_free(&st.cur);
    return *errors - before;
}

int lline_read_file(const char *path, size_t limit, struct buf *out, struct buf *err)
{
    struct stat st;
    ssize_t got;
    int fd, saved;

    buf_reset(out);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
        (void)buf_printf(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        saved = errno;
        (void)close(fd);
        (void)buf_printf(err, "fstat %s: %s", path, strerror(saved));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        (void)close(fd);
        (void)buf_printf(err, "open %s: not a regular file", path);
        return -1;
    }
    if ((unsigned long long)st.st_size > limit) {
        (void)close(fd);
        (void)buf_printf(err, "open %s: file larger than %zu bytes", path, limit);
        return -1;
    }
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    for (;;) {
        char chunk[65536];

        got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (buf_append(out, chunk, (size_t)got) < 0 || out->len > limit) {
            (void)close(fd);
            (void)buf_printf(err, "read %s: file larger than %zu bytes", path, limit);
            buf_reset(out);
            return -1;
        }
    }
    saved = errno;
    (void)close(fd);
    if (got < 0) {
        (void)buf_printf(err, "read %s: %s", path, strerror(saved));
        buf_reset(out);
        return -1;
    }
    return 0;
}
