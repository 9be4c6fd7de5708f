/*
 * logical_line - Postfix's "logical line" reading for the source files of
 * pattern tables (regexp, pcre, cidr) and aliases(5):
 *
 *   - a line whose first non-blank character is '#' is a comment;
 *     blank lines are skipped (neither ends a logical line);
 *   - a line that starts with white space continues the logical line
 *     before it; the continuation is appended as it is, leading white
 *     space included (as Postfix's readlline does);
 *   - a trailing '\r' of each physical line is dropped, and trailing
 *     white space of the logical line is trimmed;
 *   - a logical line longer than the limit, a NUL byte, and a first
 *     line that starts with white space are errors.
 *
 * Every error is one line "NAME, line N: text" in err (lines separated by
 * '\n'), and parsing goes on after it so that every error is reported.
 */
#ifndef POSTERN_LOGICAL_LINE_H
#define POSTERN_LOGICAL_LINE_H

#include <stddef.h>

#include "buf.h"

/* At most this many errors are listed; then one "too many errors" line. */
#define LLINE_MAX_ERRORS    100

/* ASCII white space, never locale-dependent. */
#define LLINE_SPACE(c)  ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n' \
                         || (c) == '\v' || (c) == '\f')

/*
 * Called for each logical line (NUL-terminated, trimmed, modifiable by the
 * callee; len is its length). lineno is where it starts. A non-zero return
 * stops the walk.
 */
typedef int (*lline_fn)(char *line, size_t len, int lineno, void *arg);

/*
 * Split text (len bytes) into logical lines of at most max_line bytes and
 * call fn for each. Returns the number of errors added to err (*errors is
 * the running count that the callee also bumps through lline_error()).
 */
int lline_parse(const char *name, const char *text, size_t len, size_t max_line,
                lline_fn fn, void *arg, struct buf *err, int *errors);

/*
 * Add "NAME, line N: text" to err (on its own line) and count it in
 * *errors; after LLINE_MAX_ERRORS only a final "too many errors" note is
 * added.
 */
void lline_error(struct buf *err, int *errors, const char *name, int lineno,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Read a whole regular file of at most limit bytes (symlinks are followed,
 * as Postfix does for its table files). 0, or -1 with "open PATH: reason"
 * in err.
 */
int lline_read_file(const char *path, size_t limit, struct buf *out, struct buf *err);

#endif
