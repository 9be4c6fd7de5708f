/*
 * addr_lookup - look an address up the way Postfix's aliases, virtual
 * and access maps do, with recipient_delimiter:
 *
 *   user+ext@domain, user@domain, user+ext, user, @domain
 *
 * (the user forms without domain only for local domains, when the caller
 * says so), stopping at the first table that answers. A temporary
 * failure stops the search at once: the caller must defer, never go on
 * as if the key were not there.
 */
#ifndef POSTERN_ADDR_LOOKUP_H
#define POSTERN_ADDR_LOOKUP_H

#include "buf.h"
#include "dict.h"

#define ADDR_LOOKUP_LOCALPART   0x01    /* also try "user+ext" and "user" */
#define ADDR_LOOKUP_DOMAIN      0x02    /* also try "@domain" */

/*
 * Try each key form in each of the count tables (in order: for each key
 * form, every table). delimiters is recipient_delimiter (may be "" or
 * several characters, any of which splits the extension). Returns
 * DICT_FOUND with the value, DICT_NOTFOUND, or DICT_TEMPFAIL with why.
 * If matched_key is not NULL it receives the form that matched.
 */
int addr_lookup(struct dict *const *tables, int count, const char *address,
                const char *delimiters, int flags, struct buf *value,
                struct buf *matched_key, struct buf *why);

#endif
