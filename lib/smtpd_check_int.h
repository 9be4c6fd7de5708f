/*
 * smtpd_check_int - private to smtpd_check*.c: the table cache, address
 * and domain match lists (mynetworks, mydestination, relay_domains,
 * virtual_*_domains) and the list tokenizer.
 */
#ifndef POSTERN_SMTPD_CHECK_INT_H
#define POSTERN_SMTPD_CHECK_INT_H

#include <stddef.h>

#include "buf.h"
#include "dict.h"
#include "inet_net.h"
#include "maincf.h"

/* Every table smtpd_check opened, once per spec. */
struct sc_tables {
    const struct config *cfg;
    struct dict **v;
    size_t n, cap;
};

/*
 * Open spec (or find it open). "unix:passwd.byname" (also behind
 * "proxy:") is getpwnam(3). With hard set, a table that cannot be opened
 * is an error (err, naming param); otherwise it becomes a table whose
 * every lookup is a temporary failure with the reason (Postfix's
 * surrogate table), and a warning is logged. An unknown table type is
 * always an error. NULL on error.
 */
struct dict *sc_table_open(struct sc_tables *t, const char *spec, const char *param,
                           int hard, struct buf *err);
void sc_tables_free(struct sc_tables *t);
/* Is d a surrogate for a table that could not be opened? */
int sc_table_failed(const struct dict *d);

/* Does item look like a "type:name" table (type a known table type)? */
int sc_is_table_spec(const char *item);

/*
 * Split a list value on commas and white space, keeping "{...}" groups
 * together ("inline:{a=b, c=d}" is one item). NULL-terminated, malloc'ed;
 * free with sc_split_free. A '{' without its '}' gives NULL.
 */
char **sc_split(const char *value);
void sc_split_free(char **v);

enum sc_item_kind { SC_ITEM_NET, SC_ITEM_DOMAIN, SC_ITEM_TABLE };

struct sc_item {
    int negate;                     /* "!pattern" */
    enum sc_item_kind kind;
    struct inet_net net;            /* SC_ITEM_NET */
    char *pattern;                  /* SC_ITEM_DOMAIN, lower case */
    struct dict *table;             /* SC_ITEM_TABLE (owned by sc_tables) */
};

struct sc_list {
    struct sc_item *v;
    size_t n;
};

/*
 * Build the list of parameter param: an address list (networks and
 * tables) or a domain list (names, ".subdomain" patterns, tables).
 * 0, or -1 with err naming the parameter.
 */
int sc_list_build(struct sc_list *l, struct sc_tables *t, const struct config *cfg,
                  const char *param, int addr_list, struct buf *err);
void sc_list_free(struct sc_list *l);
/* 1 (listed), 0 (not), -1 (table temporary failure, why set). */
int sc_list_match_addr(const struct sc_list *l, const char *addr, struct buf *why);
int sc_list_match_domain(const struct sc_list *l, const char *domain, struct buf *why);

#endif
