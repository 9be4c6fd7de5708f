/*
 * table_query - pieces postmap and postalias share (see table_query.c).
 */
#ifndef POSTERN_TABLE_QUERY_H
#define POSTERN_TABLE_QUERY_H

#include "buf.h"
#include "dict.h"
#include "maincf.h"

#define TABLE_MAX_KEY_LINE  (1024 * 1024)   /* one key read from stdin */

/* dict_open(spec) or exit with every line of the reason. */
struct dict *table_open_or_die(const char *spec, int flags, const struct config *cfg);
/* One line of stdin (no LF, no trailing CR): 1 a line, 0 end, -1 too long (skipped). */
int table_read_key_line(struct buf *line);
/*
 * -q KEY: print the value of KEY from the first table that has it.
 * -q - (key "-"): read keys from stdin, print "KEY<sep>VALUE" lines.
 * Returns the exit status: 0 found, 1 not found, 2 a table failed.
 */
int table_query(const char *key, char **specs, int count, int flags,
                const struct config *cfg, const char *sep);

#endif
