/*
 * table_source - the "key value" source files that postmap compiles and
 * that texthash: reads, in Postfix's format:
 *
 *   # comment
 *   key    value with  spaces
 *       continued value (a line that starts with white space)
 *
 * The key ends at the first white space (or at ':' for aliases(5), see
 * alias_source.h); the value is the rest of the logical line with leading
 * and trailing white space removed and continuation lines joined by one
 * space. Blank lines and lines whose first non-blank character is '#'
 * are skipped. A key with no value is an error. Lines are bounded by
 * TABLE_SOURCE_MAX_LINE; a NUL byte is an error. Every error names file
 * and line ("/etc/postern/virtual, line 12: ...").
 */
#ifndef POSTERN_TABLE_SOURCE_H
#define POSTERN_TABLE_SOURCE_H

#include <stddef.h>

#include "buf.h"

#define TABLE_SOURCE_MAX_LINE   (1024 * 1024)   /* one logical line */

/* Called per entry; line is where the entry starts. Non-zero stops the walk. */
typedef int (*table_source_fn)(const char *key, const char *value, int line, void *arg);

/*
 * Parse text (len bytes; name for messages). Calls fn for each entry.
 * Returns the number of errors (each a line in err); parsing goes on
 * after an error so that all are reported.
 */
int table_source_parse(const char *name, const char *text, size_t len,
                       table_source_fn fn, void *arg, struct buf *err);
/* Read and parse a file (at most limit bytes; 0 means 1 GiB). */
int table_source_read(const char *path, size_t limit, table_source_fn fn, void *arg,
                      struct buf *err);

#endif
