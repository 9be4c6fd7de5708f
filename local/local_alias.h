/*
 * local_alias - the destinations of an aliases(5) value or a .forward
 * file, as Postfix's local(8) reads them:
 *
 *   addr, addr        comma-separated (commas inside "..." or <...> or
 *                     (...) do not separate); white space around items
 *                     is dropped
 *   "|command args"   pipe to a command (quotes needed when it holds
 *                     commas); also unquoted |command
 *   /path/file        append to a file; /path/dir/ (trailing '/') is a
 *                     Maildir
 *   :include:/path    read more destinations from a file
 *   \user             deliver to user's mailbox, no further expansion
 *   Name <addr>       the address inside the angle brackets
 *   addr (comment)    comments are dropped
 *
 * A whole item in double quotes loses them (a backslash escapes the next
 * character inside). A .forward file is the same list, one or more items
 * per line; lines that start with '#' are comments.
 *
 * Bounds: at most LOCAL_ALIAS_MAX_ITEMS items and LOCAL_ALIAS_MAX_TEXT
 * bytes of input; more is an error (why), as is an unterminated quote or
 * bracket, or an empty :include: / | / \ target.
 */
#ifndef POSTERN_LOCAL_ALIAS_H
#define POSTERN_LOCAL_ALIAS_H

#include <stddef.h>

#include "buf.h"

#define LOCAL_ALIAS_MAX_ITEMS   1000
#define LOCAL_ALIAS_MAX_TEXT    (1024 * 1024)

enum local_dest_type {
    LOCAL_DEST_ADDRESS,         /* re-queue to this address */
    LOCAL_DEST_COMMAND,         /* value: the command line */
    LOCAL_DEST_FILE,            /* value: absolute path */
    LOCAL_DEST_INCLUDE,         /* value: absolute path */
    LOCAL_DEST_MAILBOX,         /* \user: value is the user */
};

struct local_dest {
    enum local_dest_type type;
    char *value;
};

struct local_dest_list {
    struct local_dest *v;
    size_t n;
};

/* Append the destinations of one alias value; 0, or -1 with why. */
int local_alias_parse(const char *text, struct local_dest_list *out, struct buf *why);
/* The same for the text of a .forward or :include: file (comment lines). */
int local_alias_parse_file(const char *text, size_t len, struct local_dest_list *out,
                           struct buf *why);
void local_dest_list_free(struct local_dest_list *l);
/* "command", "file", "include", "mailbox" or "address". */
const char *local_dest_type_name(enum local_dest_type t);

#endif
