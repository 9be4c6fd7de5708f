/*
 * pattern_table - what the pattern tables regexp:, pcre: (and, for the
 * in-memory openers below, cidr:) share: the rule syntax of Postfix's
 * regexp_table(5) and pcre_table(5), if/endif blocks, and $number
 * substitution into results. The backends (dict_regexp.c, dict_pcre.c)
 * supply only a regular-expression engine.
 *
 * Syntax, one rule per logical line (see logical_line.h):
 *
 *   /pattern/flags result        pattern matches: result
 *   !/pattern/flags result       pattern does not match: result (no $n)
 *   /pat1/!/pat2/ result         regexp: only: pat1 matches and pat2 not
 *   if /pattern/flags            the rules up to the matching endif apply
 *   if !/pattern/flags           only when the pattern (does not) match;
 *   endif                        blocks nest
 *
 * Any non-alphanumeric character other than '\' and white space may
 * delimit a pattern instead of '/'; a backslash escapes the delimiter
 * (and stays in the pattern). Flags are letters that toggle engine
 * options; an unknown one is an error. In the result, $1..$99, ${n} and
 * $(n) insert what the nth group matched (nothing for an unset group) and
 * $$ is a '$'; a reference to a group the pattern does not have, $0, a
 * non-numeric name, a lone '$', or any $n after a negated pattern is an
 * error. Matched text is inserted once, never re-expanded. A result whose
 * worst-case expansion (literal text plus DICT_MAX_KEY bytes per
 * reference) exceeds DICT_MAX_VALUE is refused when the table is opened.
 *
 * Unlike Postfix, which warns and skips a bad rule, every problem here
 * (missing result, bad flag, bad pattern, unbalanced if/endif, text after
 * if/endif, line too long, NUL byte) is an error naming file and line,
 * all are reported, and the open fails: a half-loaded access table would
 * silently let mail through.
 *
 * Rules are tried in order; the first that matches answers. An engine
 * error while matching (PCRE's match limit, regexec out of memory) is
 * DICT_TEMPFAIL with the reason, never "not found". A table is not safe
 * for concurrent lookups from several threads.
 */
#ifndef POSTERN_PATTERN_TABLE_H
#define POSTERN_PATTERN_TABLE_H

#include <stddef.h>

#include "buf.h"
#include "dict.h"

/* Largest table file read at open, and largest logical line. */
#define PTAB_MAX_FILE   (64 * 1024 * 1024)
#define PTAB_MAX_LINE   (1024 * 1024)
/* Highest $number accepted. */
#define PTAB_MAX_SUB    99

/* An unset group in an offset vector. */
#define PTAB_UNSET      ((size_t)-1)

struct ptab_engine {
    const char *type;           /* "regexp", for messages */
    int second_pattern;         /* accept /pat1/!/pat2/ */
    /*
     * Compile pattern re with the flag letters in flags (an unknown letter
     * is an error). want_sub: $n will be used. Sets *nsub to the number of
     * capture groups. Returns NULL with a message (no file/line) in err.
     */
    void *(*compile)(const char *re, const char *flags, int want_sub, size_t *nsub,
                     struct buf *err);
    /* Per-table matching state for offset vectors of up to nvec pairs. */
    void *(*state_new)(size_t nvec);
    void (*state_free)(void *state);
    /*
     * Match subject (len bytes, NUL-terminated). On a match, fills ovec
     * with nvec (start, end) pairs, PTAB_UNSET for unset groups (nvec may
     * be 0). Returns 1 (match), 0 (no match) or -1 with a reason in why.
     */
    int (*match)(void *re, void *state, const char *subject, size_t len,
                 size_t *ovec, size_t nvec, struct buf *why);
    void (*free)(void *re);
};

/* For backends: open the file name, or parse text, as a pattern table. */
struct dict *ptab_open(const struct dict_ops *ops, const struct ptab_engine *eng,
                       const char *name, struct buf *err);
struct dict *ptab_open_text(const struct dict_ops *ops, const struct ptab_engine *eng,
                            const char *name, const char *text, size_t len,
                            struct buf *err);
int ptab_lookup(struct dict *d, const char *key, struct buf *value, struct buf *why);
void ptab_close(struct dict *d);

/*
 * Open a table from text in memory (tests, fuzz targets); name is used in
 * messages and as the name in the table's spec ("regexp:NAME"). Errors
 * as for dict_open(). Close with dict_close().
 */
struct dict *dict_regexp_open_text(const char *name, const char *text, size_t len,
                                   struct buf *err);
struct dict *dict_pcre_open_text(const char *name, const char *text, size_t len,
                                 struct buf *err);
struct dict *dict_cidr_open_text(const char *name, const char *text, size_t len,
                                 struct buf *err);

#endif
