/*
 * ldap_query - the string side of ldap: tables: RFC 4515 / RFC 4514
 * escaping and the '%' templates of ldap_table(5) (search_base,
 * query_filter, result_format), with Postfix's rules for keys that cannot
 * fill a template.
 *
 * Templates. In search_base and query_filter (a "query" template):
 *   %%   a literal '%'
 *   %s   the whole key                        (%S: the same)
 *   %u   the local part of user@domain, else the whole key (%U: the same);
 *        a key with an empty local part ("@domain") is not looked up
 *   %d   the domain of user@domain (%D: the same); a key without '@'
 *        or with an empty domain is not looked up
 *   %1..%9  labels of the key's domain counted from the right: for
 *        user@mail.example.com %1 is "com", %2 "example", %3 "mail"; a
 *        key with too few labels (or an empty one among those used) is
 *        not looked up
 * In result_format (a "result" template) %s, %u and %d are the parts of
 * each result value (a value without the part is skipped) and %S, %U, %D,
 * %1..%9 are the parts of the lookup key, as above. Any other character
 * after '%' is an error.
 *
 * Every substituted part goes through the caller's quoting function:
 * ldap_escape_filter() for query_filter, ldap_escape_dn() for search_base,
 * none for result_format.
 */
#ifndef POSTERN_LDAP_QUERY_H
#define POSTERN_LDAP_QUERY_H

#include "buf.h"

/* RFC 4515 assertion value: \2a \28 \29 \5c \00, and every byte that is
 * not printable ASCII, as \XX. Returns 0, or -1 if out is full. */
int ldap_escape_filter(struct buf *out, const char *s);
/* RFC 4514 attribute value: , + " \ < > ; = with a backslash, a leading
 * '#' or space and a trailing space likewise, control bytes as \XX. */
int ldap_escape_dn(struct buf *out, const char *s);

typedef int (*ldap_quote_fn)(struct buf *out, const char *s);

/* What the templates of one table need from a key (and from values). */
#define LDAP_NEED_KEY_USER      0x01    /* non-empty local part */
#define LDAP_NEED_KEY_DOMAIN    0x02    /* user@domain form */
#define LDAP_NEED_VALUE_USER    0x04
#define LDAP_NEED_VALUE_DOMAIN  0x08

struct ldap_tmpl_needs {
    unsigned flags;
    int nparts;                         /* highest %1..%9 used */
};

/*
 * Check a template and add what it needs to *needs. query: 1 for
 * search_base/query_filter, 0 for result_format. Returns 1 if the template
 * has key- or value-dependent parts, 0 if it is fixed, -1 (with err) if it
 * has an unknown '%' sequence.
 */
int ldap_tmpl_check(const char *tmpl, int query, struct ldap_tmpl_needs *needs,
                    struct buf *err);

/* Can key fill every template (Postfix's rules above)? 1 yes, 0 no. */
int ldap_key_usable(const struct ldap_tmpl_needs *needs, const char *key);

/*
 * Expand tmpl. For a query template value is the key and key is NULL; for
 * a result template value is one result value and key the lookup key.
 * Appends to out. Returns 1, 0 if the key/value lacks a needed part (out
 * unchanged), -1 if out is full.
 */
int ldap_expand(const struct ldap_tmpl_needs *needs, const char *tmpl,
                const char *value, const char *key, struct buf *out,
                ldap_quote_fn quote);

/*
 * Is key's domain in the domain list? Only user@domain keys with a
 * non-empty local part qualify. Plain items compare case-insensitively;
 * an item with ':' is a table "type:name", asked through table(arg, i,
 * domain), which answers 1 (listed), 0 (not) or -1 (could not tell); a
 * leading '!' negates an item; the first item that matches decides, as in
 * Postfix's match lists. Returns 1 listed, 0 not, -1 a table failed.
 */
typedef int (*ldap_domain_table_fn)(void *arg, size_t index, const char *domain);
int ldap_domain_match(char *const *items, const char *key,
                      ldap_domain_table_fn table, void *arg);

#endif
