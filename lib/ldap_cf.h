/*
 * ldap_cf - read a Postfix ldap_table(5) configuration file (ldap.cf).
 *
 * The file has main.cf's shape: "name = value" lines, '#' comment lines,
 * a line starting with white space continues the previous one, the last
 * setting of a name wins. Values are taken literally ($ is not expanded,
 * so bind_pw may hold any character). Every setting must be one that
 * ldap_table(5) documents; an unknown or badly valued one is an error
 * "FILE, line N: ...". All errors are collected, one per line, in err.
 *
 * Settings and defaults (as Postfix, except version, which is 3 here):
 *   server_host (localhost) list of LDAP URLs (ldap://, ldaps://, ldapi://)
 *       or host[:port] names, made into ldap://host:port URLs;
 *   server_port (389); search_base (""); scope (sub | one | base);
 *   query_filter ((mailacceptinggeneralid=%s)); result_format (%s; the old
 *   name result_filter is read when result_format is not set);
 *   result_attribute (maildrop), special_result_attribute,
 *   leaf_result_attribute, terminal_result_attribute (lists); domain (list
 *   of names, !names and type:table names); bind (yes | no); bind_dn;
 *   bind_pw; start_tls (no); tls_ca_cert_file; tls_ca_cert_dir; tls_cert;
 *   tls_key; tls_cipher_suite; tls_random_file; tls_require_cert (no);
 *   version (3; 2 or 3); timeout (10s; a time, 1s or more);
 *   expansion_limit (0 = none); size_limit ($expansion_limit);
 *   recursion_limit (1000); dereference (0..3); chase_referrals (no);
 *   debuglevel (0). cache, cache_expiry and cache_size are accepted and
 *   ignored with a warning, as in Postfix. bind = sasl and the sasl_*
 *   settings are errors (not supported).
 */
#ifndef POSTERN_LDAP_CF_H
#define POSTERN_LDAP_CF_H

#include "buf.h"
#include "ldap_query.h"

#define LDAP_CF_MAX_FILE    (1024 * 1024)

enum ldap_cf_scope { LDAP_CF_SCOPE_BASE = 0, LDAP_CF_SCOPE_ONE = 1, LDAP_CF_SCOPE_SUB = 2 };

struct ldap_cf {
    char *file;                     /* for messages */
    char **server_urls;             /* NULL-terminated, never empty */
    int server_port;
    char *search_base;
    int scope;                      /* LDAP_CF_SCOPE_*, = LDAP_SCOPE_* values */
    char *query_filter;
    char *result_format;
    char **result_attributes;       /* NULL-terminated lists, maybe empty */
    char **special_result_attributes;
    char **leaf_result_attributes;
    char **terminal_result_attributes;
    char **domains;
    int bind;                       /* bind (simple) at all */
    char *bind_dn;
    char *bind_pw;
    int start_tls;
    char *tls_ca_cert_file;
    char *tls_ca_cert_dir;
    char *tls_cert;
    char *tls_key;
    char *tls_cipher_suite;
    char *tls_random_file;
    int tls_require_cert;
    int version;
    long timeout;                   /* seconds */
    long size_limit;
    long expansion_limit;
    long recursion_limit;
    int dereference;                /* LDAP_DEREF_* values */
    int chase_referrals;
    int debuglevel;
    /* From the templates. */
    struct ldap_tmpl_needs needs;
    int dynamic_base;               /* search_base depends on the key */
    int fixed_filter;               /* query_filter does not (probably useless) */
};

/* Read path into *cf (zeroed first). 0, or -1 with errors in err and *cf empty. */
int ldap_cf_load(const char *path, struct ldap_cf *cf, struct buf *err);
/* The same from memory; name is used in messages. */
int ldap_cf_parse(const char *name, const char *text, size_t len, struct ldap_cf *cf,
                  struct buf *err);
void ldap_cf_free(struct ldap_cf *cf);

#endif
