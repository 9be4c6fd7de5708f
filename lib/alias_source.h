/*
 * alias_source - the aliases(5) source format that postalias and
 * newaliases compile:
 *
 *   # comment
 *   name: value1, value2, "|command", /file, :include:/path
 *   "name with spaces": value
 *   list: a,
 *       b               (a line that starts with white space continues)
 *
 * The name ends at the first ':' outside double quotes. A quoted name
 * loses its quotes (a backslash in it escapes the next character); an
 * unquoted name must not contain white space, '@' or '%' (the name is a
 * local address; quote it when it must), or any of ()<>,;[]"\ . The value
 * is stored as written, with leading and trailing white space removed and
 * every run of white space outside double quotes (continuation lines
 * included) made one space; quoted text is kept byte for byte. Names are
 * not folded here: dict_update() folds them unless postalias -f.
 *
 * Errors, each "FILE, line N: ...": no ':' (need name:value pair), an
 * empty name or value, a bad or unquoted special character in the name,
 * an unterminated quoted string, a logical line longer than
 * ALIAS_SOURCE_MAX_LINE, a NUL byte. Parsing goes on after an error so
 * that all are reported (see logical_line.h for the line rules).
 */
#ifndef POSTERN_ALIAS_SOURCE_H
#define POSTERN_ALIAS_SOURCE_H

#include <stddef.h>

#include "buf.h"

#define ALIAS_SOURCE_MAX_LINE   (1024 * 1024)

/* Called per alias; line is where it starts. Non-zero stops the walk. */
typedef int (*alias_source_fn)(const char *name, const char *value, int line, void *arg);

/* Parse text (len bytes; name for messages). Returns the number of errors. */
int alias_source_parse(const char *name, const char *text, size_t len,
                       alias_source_fn fn, void *arg, struct buf *err);
/*
 * Read and parse a file of at most limit bytes (0: 1 GiB). A file that
 * cannot be read counts as one error.
 */
int alias_source_read(const char *path, size_t limit, alias_source_fn fn, void *arg,
                      struct buf *err);

#endif
