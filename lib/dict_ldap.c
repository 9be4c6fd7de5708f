/*
 * dict_ldap - ldap:/path/to/ldap.cf tables, as Postfix's ldap_table(5).
 *
 * The file is read by ldap_cf (settings) and the key goes through
 * ldap_query (escaping, templates). A lookup:
 *
 *   - an empty key, a key that is not UTF-8, a key outside the "domain"
 *     list, or a key that cannot fill the templates (no '@' with %d, an
 *     empty local part with %u, too few labels for %N) is NOTFOUND without
 *     a query, as in Postfix;
 *   - otherwise search_base (RFC 4514-escaped parts) and query_filter
 *     (RFC 4515-escaped parts) are expanded and searched; every value of
 *     every result attribute of every entry goes through result_format and
 *     the results are joined with "," (as Postfix's db_common_expand()
 *     joins them); special_result_attribute values (DNs or LDAP URLs) are
 *     searched in turn, up to recursion_limit deep; leaf_ and
 *     terminal_result_attribute work as in ldap_table(5);
 *   - no values is NOTFOUND; a search base that does not exist is NOTFOUND
 *     when it depends on the key and TEMPFAIL when it is fixed;
 *   - every LDAP failure (cannot connect, bind refused, timeout, size or
 *     expansion limit exceeded, any other error) is TEMPFAIL with why.
 *
 * The connection is opened at the first lookup and kept. A lookup that
 * finds it dead (LDAP_SERVER_DOWN) connects again and retries once; any
 * other failure closes it so that the next lookup starts afresh. SIGPIPE
 * is blocked around library calls (a write to a server that went away
 * must not kill the process), without touching the process's handler.
 */
#include <ldap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dict.h"
#include "ldap_cf.h"
#include "ldap_query.h"
#include "log.h"
#include "mem.h"

extern const struct dict_ops dict_ldap_ops;

struct dict_ldap {
    struct dict dict;
    struct ldap_cf cf;
    char *uri;                      /* server URLs, space-separated */
    char **attrs;                   /* terminal, leaf, result, special */
    size_t n_terminal, n_leaf, n_result, n_special;
    struct dict **domain_tables;    /* per cf.domains item; NULL for names */
    LDAP *ld;
};

enum attr_class { ATTR_NONE, ATTR_TERMINAL, ATTR_LEAF, ATTR_RESULT, ATTR_SPECIAL };

/* State of one lookup. */
struct lookup {
    struct dict_ldap *dl;
    const char *key;
    struct buf *value;
    struct buf *why;
    long expansions;
};

/* ---- SIGPIPE ---- */

struct pipe_guard {
    sigset_t old;
    int was_pending;
};

static void pipe_block(struct pipe_guard *g)
{
    sigset_t set, pending;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, &g->old);
}

static void pipe_unblock(struct pipe_guard *g)
{
    sigset_t set, pending;
    struct timespec zero = { 0, 0 };

    if (!g->was_pending) {
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE))
            (void)sigtimedwait(&set, NULL, &zero);
    }
    sigprocmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- helpers ---- */

static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int n;
        unsigned cp;

        if (*p < 0x80) {
            p++;
            continue;
        } else if ((*p & 0xe0) == 0xc0) {
            n = 1, cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            n = 2, cp = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
            n = 3, cp = *p & 0x07;
        } else {
            return 0;
        }
        p++;
        for (int i = 0; i < n; i++, p++) {
            if ((*p & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (*p & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
            || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
    }
    return 1;
}

/* The server's words for the last error on ld, if any. */
static const char *diag(LDAP *ld)
{
    static char text[512];
    char *msg = NULL;

    text[0] = 0;
    if (ld && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS
        && msg) {
        if (*msg)
            snprintf(text, sizeof(text), " (%s)", msg);
        ldap_memfree(msg);
    }
    return text;
}

static void disconnect(struct dict_ldap *dl)
{
    struct pipe_guard g;

    if (dl->ld == NULL)
        return;
    pipe_block(&g);
    ldap_unbind_ext_s(dl->ld, NULL, NULL);
    pipe_unblock(&g);
    dl->ld = NULL;
}

static int set_opt(LDAP *ld, int opt, const void *val, const char *what, struct buf *why)
{
    if (ldap_set_option(ld, opt, val) != LDAP_OPT_SUCCESS) {
        buf_printf(why, "cannot set LDAP option %s", what);
        return -1;
    }
    return 0;
}

/* Simple bind, waiting at most cf.timeout. LDAP result code. */
static int simple_bind(struct dict_ldap *dl, struct buf *why)
{
    struct berval cred;
    struct timeval tv = { dl->cf.timeout, 0 };
    LDAPMessage *res = NULL;
    int msgid, rc, err = LDAP_OTHER;
    char *errmsg = NULL;

    cred.bv_val = dl->cf.bind_pw;
    cred.bv_len = strlen(dl->cf.bind_pw);
    rc = ldap_sasl_bind(dl->ld, *dl->cf.bind_dn ? dl->cf.bind_dn : NULL, LDAP_SASL_SIMPLE,
                        &cred, NULL, NULL, &msgid);
    if (rc != LDAP_SUCCESS) {
        buf_printf(why, "bind as \"%s\": %s%s", dl->cf.bind_dn, ldap_err2string(rc),
                   diag(dl->ld));
        return rc;
    }
    rc = ldap_result(dl->ld, msgid, LDAP_MSG_ALL, &tv, &res);
    if (rc == 0) {
        ldap_abandon_ext(dl->ld, msgid, NULL, NULL);
        buf_printf(why, "bind as \"%s\": timed out after %lds", dl->cf.bind_dn,
                   dl->cf.timeout);
        return LDAP_TIMEOUT;
    }
    if (rc < 0) {
        ldap_get_option(dl->ld, LDAP_OPT_RESULT_CODE, &err);
        buf_printf(why, "bind as \"%s\": %s%s", dl->cf.bind_dn, ldap_err2string(err),
                   diag(dl->ld));
        return err == LDAP_SUCCESS ? LDAP_OTHER : err;
    }
    rc = ldap_parse_result(dl->ld, res, &err, NULL, &errmsg, NULL, NULL, 1);
    if (rc == LDAP_SUCCESS)
        rc = err;
    if (rc != LDAP_SUCCESS)
        buf_printf(why, "bind as \"%s\": %s%s%s%s", dl->cf.bind_dn, ldap_err2string(rc),
                   errmsg && *errmsg ? " (" : "", errmsg && *errmsg ? errmsg : "",
                   errmsg && *errmsg ? ")" : "");
    if (errmsg)
        ldap_memfree(errmsg);
    return rc;
}

/* Open, configure, STARTTLS and bind. 0 or -1 with why. */
static int connect_server(struct dict_ldap *dl, struct buf *why)
{
    const struct ldap_cf *cf = &dl->cf;
    struct timeval tv = { cf->timeout, 0 };
    int rc, ival, tls = cf->start_tls;

    if ((rc = ldap_initialize(&dl->ld, dl->uri)) != LDAP_SUCCESS) {
        buf_printf(why, "%s: %s", dl->uri, ldap_err2string(rc));
        dl->ld = NULL;
        return -1;
    }
    for (char **u = cf->server_urls; *u; u++)
        if (strncasecmp(*u, "ldaps:", 6) == 0)
            tls = 1;
    ival = cf->version == 2 ? LDAP_VERSION2 : LDAP_VERSION3;
    if (set_opt(dl->ld, LDAP_OPT_PROTOCOL_VERSION, &ival, "version", why) < 0
        || set_opt(dl->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv, "network timeout", why) < 0
        || set_opt(dl->ld, LDAP_OPT_TIMEOUT, &tv, "timeout", why) < 0
        || set_opt(dl->ld, LDAP_OPT_DEREF, &cf->dereference, "dereference", why) < 0
        || set_opt(dl->ld, LDAP_OPT_REFERRALS,
                   cf->chase_referrals ? LDAP_OPT_ON : LDAP_OPT_OFF, "referrals", why) < 0)
        goto fail;
    ival = (int)cf->size_limit;
    if (set_opt(dl->ld, LDAP_OPT_SIZELIMIT, &ival, "size_limit", why) < 0)
        goto fail;
    if (cf->debuglevel && set_opt(dl->ld, LDAP_OPT_DEBUG_LEVEL, &cf->debuglevel,
                                  "debuglevel", why) < 0)
        goto fail;
    if (tls) {
        ival = cf->tls_require_cert ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_NEVER;
        if (set_opt(dl->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &ival, "tls_require_cert", why) < 0
            || (*cf->tls_ca_cert_file && set_opt(dl->ld, LDAP_OPT_X_TLS_CACERTFILE,
                                    cf->tls_ca_cert_file, "tls_ca_cert_file", why) < 0)
            || (*cf->tls_ca_cert_dir && set_opt(dl->ld, LDAP_OPT_X_TLS_CACERTDIR,
                                    cf->tls_ca_cert_dir, "tls_ca_cert_dir", why) < 0)
            || (*cf->tls_cert && set_opt(dl->ld, LDAP_OPT_X_TLS_CERTFILE,
                                    cf->tls_cert, "tls_cert", why) < 0)
            || (*cf->tls_key && set_opt(dl->ld, LDAP_OPT_X_TLS_KEYFILE,
                                    cf->tls_key, "tls_key", why) < 0)
            || (*cf->tls_cipher_suite && set_opt(dl->ld, LDAP_OPT_X_TLS_CIPHER_SUITE,
                                    cf->tls_cipher_suite, "tls_cipher_suite", why) < 0)
            || (*cf->tls_random_file && set_opt(dl->ld, LDAP_OPT_X_TLS_RANDOM_FILE,
                                    cf->tls_random_file, "tls_random_file", why) < 0))
            goto fail;
        ival = 0;
        if ((rc = ldap_set_option(dl->ld, LDAP_OPT_X_TLS_NEWCTX, &ival)) != LDAP_OPT_SUCCESS) {
            buf_printf(why, "TLS set-up: %s%s", ldap_err2string(rc), diag(dl->ld));
            goto fail;
        }
    }
    if (cf->start_tls && (rc = ldap_start_tls_s(dl->ld, NULL, NULL)) != LDAP_SUCCESS) {
        buf_printf(why, "%s: STARTTLS: %s%s", dl->uri, ldap_err2string(rc), diag(dl->ld));
        goto fail;
    }
    if (cf->bind) {
        struct buf bwhy = BUF_INIT;

        if (simple_bind(dl, &bwhy) != LDAP_SUCCESS) {
            buf_printf(why, "%s: %s", dl->uri, buf_str(&bwhy));
            buf_free(&bwhy);
            goto fail;
        }
        buf_free(&bwhy);
    }
    return 0;

fail:
    disconnect(dl);
    return -1;
}

static enum attr_class classify(const struct dict_ldap *dl, const char *attr)
{
    size_t alen = strcspn(attr, ";");

    for (size_t i = 0; dl->attrs[i]; i++) {
        const char *want = dl->attrs[i];
        size_t wlen = strcspn(want, ";");

        /* Same attribute type; the server may return subtypes (options). */
        if (wlen == alen && strncasecmp(want, attr, alen) == 0) {
            if (i < dl->n_terminal)
                return ATTR_TERMINAL;
            if (i < dl->n_terminal + dl->n_leaf)
                return ATTR_LEAF;
            if (i < dl->n_terminal + dl->n_leaf + dl->n_result)
                return ATTR_RESULT;
            return ATTR_SPECIAL;
        }
    }
    return ATTR_NONE;
}

/* Does entry have a value in any of attrs[from, from + n)? */
static int has_any(const struct dict_ldap *dl, LDAPMessage *entry, size_t from, size_t n)
{
    for (size_t i = from; i < from + n; i++) {
        struct berval **vals = ldap_get_values_len(dl->ld, entry, dl->attrs[i]);
        int count = vals ? ldap_count_values_len(vals) : 0;

        if (vals)
            ldap_value_free_len(vals);
        if (count > 0)
            return 1;
    }
    return 0;
}

/* One result value through result_format into the answer. 0 or -1 (why). */
static int add_value(struct lookup *lk, const struct berval *bv)
{
    struct dict_ldap *dl = lk->dl;
    struct buf one = BUF_INIT;
    char *val;
    int rc;

    if (bv->bv_len == 0 || memchr(bv->bv_val, 0, bv->bv_len) != NULL) {
        msg_warn("%s: %s value for \"%s\" ignored", dl->dict.spec,
                 bv->bv_len ? "binary" : "empty", lk->key);
        return 0;
    }
    val = xstrndup(bv->bv_val, bv->bv_len);
    buf_init(&one, DICT_MAX_VALUE + 1);
    rc = ldap_expand(&dl->cf.needs, dl->cf.result_format, val, lk->key, &one, NULL);
    free(val);
    if (rc > 0 && dl->cf.expansion_limit > 0 && ++lk->expansions > dl->cf.expansion_limit) {
        buf_printf(lk->why, "%s: more than expansion_limit=%ld results for \"%s\"",
                   dl->dict.spec, dl->cf.expansion_limit, lk->key);
        buf_free(&one);
        return -1;
    }
    if (rc > 0 && ((lk->value->len && buf_putc(lk->value, ',') < 0)
                   || buf_append(lk->value, one.data, one.len) < 0
                   || lk->value->len > DICT_MAX_VALUE))
        rc = -1;
    buf_free(&one);
    if (rc < 0) {
        buf_printf(lk->why, "%s: result for \"%s\" longer than %d bytes", dl->dict.spec,
                   lk->key, DICT_MAX_VALUE);
        return -1;
    }
    return 0;
}

static int collect(struct lookup *lk, LDAPMessage *res, int depth);

/* Search and collect (special attributes). LDAP result code; why on failure. */
static int search_collect(struct lookup *lk, const char *base, int scope, const char *filter,
                          char **attrs, int depth)
{
    struct dict_ldap *dl = lk->dl;
    struct timeval tv = { dl->cf.timeout, 0 };
    LDAPMessage *res = NULL;
    int rc;

    rc = ldap_search_ext_s(dl->ld, base, scope, filter, attrs, 0, NULL, NULL, &tv,
                           (int)dl->cf.size_limit, &res);
    if (rc == LDAP_SUCCESS) {
        if (collect(lk, res, depth) < 0)
            rc = LDAP_OTHER;
    } else if (rc == LDAP_NO_SUCH_OBJECT) {
        msg_warn("%s: \"%s\" not found, skipped", dl->dict.spec, base);
        rc = LDAP_SUCCESS;
    } else {
        buf_printf(lk->why, "%s: search of \"%s\": %s%s", dl->dict.spec, base,
                   ldap_err2string(rc), diag(dl->ld));
    }
    if (res)
        ldap_msgfree(res);
    return rc;
}

/* Follow one special attribute value: a DN or an LDAP URL. */
static int follow(struct lookup *lk, const struct berval *bv, int depth)
{
    struct dict_ldap *dl = lk->dl;
    char *val = xstrndup(bv->bv_val, bv->bv_len);
    LDAPURLDesc *url = NULL;
    int rc;

    if (depth >= dl->cf.recursion_limit) {
        buf_printf(lk->why, "%s: recursion_limit=%ld exceeded at \"%s\"", dl->dict.spec,
                   dl->cf.recursion_limit, val);
        free(val);
        return -1;
    }
    if (ldap_is_ldap_url(val)) {
        char **want = NULL;
        size_t n = 0;

        if (ldap_url_parse(val, &url) != LDAP_URL_SUCCESS) {
            buf_printf(lk->why, "%s: malformed LDAP URL \"%s\"", dl->dict.spec, val);
            free(val);
            return -1;
        }
        if (url->lud_attrs && url->lud_attrs[0]) {
            /* Only attributes both the URL and the table ask for. */
            want = xcalloc(1, sizeof(*want));
            for (char **a = url->lud_attrs; *a; a++)
                if (classify(dl, *a) != ATTR_NONE) {
                    want = xreallocarray(want, n + 2, sizeof(*want));
                    want[n++] = *a;
                    want[n] = NULL;
                }
        }
        if (want && n == 0)
            rc = LDAP_SUCCESS;      /* nothing of interest */
        else
            rc = search_collect(lk, url->lud_dn ? url->lud_dn : "", url->lud_scope,
                                url->lud_filter ? url->lud_filter : "(objectClass=*)",
                                want ? want : dl->attrs, depth + 1);
        free(want);
        ldap_free_urldesc(url);
    } else {
        rc = search_collect(lk, val, LDAP_SCOPE_BASE, "(objectClass=*)", dl->attrs,
                            depth + 1);
    }
    free(val);
    return rc == LDAP_SUCCESS ? 0 : -1;
}

/* Every value of interest in res. 0, or -1 with why. */
static int collect(struct lookup *lk, LDAPMessage *res, int depth)
{
    struct dict_ldap *dl = lk->dl;
    long entries = 0;

    for (LDAPMessage *e = ldap_first_entry(dl->ld, res); e; e = ldap_next_entry(dl->ld, e)) {
        BerElement *ber = NULL;
        int terminal, leaf, rc = 0;

        if (dl->cf.size_limit > 0 && ++entries > dl->cf.size_limit) {
            buf_printf(lk->why, "%s: more than size_limit=%ld entries for \"%s\"",
                       dl->dict.spec, dl->cf.size_limit, lk->key);
            return -1;
        }
        /* Terminal values preclude everything else; special ones preclude leaf ones. */
        terminal = dl->n_terminal && has_any(dl, e, 0, dl->n_terminal);
        leaf = !terminal && !(dl->n_leaf && dl->n_special
                              && has_any(dl, e, dl->n_terminal + dl->n_leaf + dl->n_result,
                                         dl->n_special));
        for (char *a = ldap_first_attribute(dl->ld, e, &ber); a && rc == 0;
             ldap_memfree(a), a = ldap_next_attribute(dl->ld, e, ber)) {
            enum attr_class cls = classify(dl, a);
            struct berval **vals;

            if (cls == ATTR_NONE || (terminal && cls != ATTR_TERMINAL)
                || (cls == ATTR_LEAF && !leaf))
                continue;
            if ((vals = ldap_get_values_len(dl->ld, e, a)) == NULL)
                continue;
            for (int i = 0; vals[i] && rc == 0; i++)
                rc = cls == ATTR_SPECIAL ? follow(lk, vals[i], depth) : add_value(lk, vals[i]);
            ldap_value_free_len(vals);
            if (rc != 0) {
                ldap_memfree(a);
                break;
            }
        }
        if (ber)
            ber_free(ber, 0);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---- the dict interface ---- */

static int domain_table(void *arg, size_t index, const char *domain)
{
    struct dict_ldap *dl = arg;
    struct buf value = BUF_INIT, why = BUF_INIT;
    int rc;

    rc = dict_lookup(dl->domain_tables[index], domain, &value, &why);
    if (rc == DICT_TEMPFAIL)
        msg_warn("%s: domain table: %s", dl->dict.spec, buf_str(&why));
    buf_free(&value);
    buf_free(&why);
    return rc == DICT_FOUND ? 1 : rc == DICT_NOTFOUND ? 0 : -1;
}

static int search_once(struct dict_ldap *dl, const char *base, const char *filter,
                       LDAPMessage **res)
{
    struct timeval tv = { dl->cf.timeout, 0 };

    *res = NULL;
    return ldap_search_ext_s(dl->ld, base, dl->cf.scope, filter, dl->attrs, 0, NULL, NULL,
                             &tv, (int)dl->cf.size_limit, res);
}

static int dl_lookup(struct dict *d, const char *key, struct buf *value, struct buf *why)
{
    struct dict_ldap *dl = (struct dict_ldap *)d;
    struct buf base = BUF_INIT, filter = BUF_INIT, cwhy = BUF_INIT;
    struct lookup lk = { dl, key, value, why, 0 };
    struct pipe_guard g;
    LDAPMessage *res = NULL;
    int rc, status;

    if (*key == 0 || !valid_utf8(key))
        return DICT_NOTFOUND;
    if (dl->cf.domains[0]) {
        if ((rc = ldap_domain_match(dl->cf.domains, key, domain_table, dl)) < 0) {
            buf_printf(why, "%s: domain table lookup failed for \"%s\"", d->spec, key);
            return DICT_TEMPFAIL;
        }
        if (rc == 0)
            return DICT_NOTFOUND;
    }
    if (!ldap_key_usable(&dl->cf.needs, key)
        || ldap_expand(&dl->cf.needs, dl->cf.search_base, key, NULL, &base,
                       ldap_escape_dn) <= 0
        || ldap_expand(&dl->cf.needs, dl->cf.query_filter, key, NULL, &filter,
                       ldap_escape_filter) <= 0) {
        buf_free(&base);
        buf_free(&filter);
        return DICT_NOTFOUND;
    }

    pipe_block(&g);
    if (dl->ld == NULL && connect_server(dl, &cwhy) < 0) {
        rc = LDAP_SERVER_DOWN;
    } else {
        rc = search_once(dl, buf_str(&base), buf_str(&filter), &res);
        if (rc == LDAP_SERVER_DOWN) {
            /* The kept connection died (server restarted?): once more, afresh. */
            if (res)
                ldap_msgfree(res);
            res = NULL;
            disconnect(dl);
            if (connect_server(dl, &cwhy) == 0)
                rc = search_once(dl, buf_str(&base), buf_str(&filter), &res);
        }
    }
    if (cwhy.len) {
        buf_printf(why, "%s: cannot use LDAP server: %s", d->spec, buf_str(&cwhy));
        status = DICT_TEMPFAIL;
    } else if (rc == LDAP_SUCCESS) {
        status = collect(&lk, res, 0) < 0 ? DICT_TEMPFAIL
                 : value->len ? DICT_FOUND : DICT_NOTFOUND;
    } else if (rc == LDAP_NO_SUCH_OBJECT && dl->cf.dynamic_base) {
        status = DICT_NOTFOUND;
    } else if (rc == LDAP_NO_SUCH_OBJECT) {
        buf_printf(why, "%s: search base \"%s\" does not exist", d->spec, buf_str(&base));
        status = DICT_TEMPFAIL;
    } else {
        buf_printf(why, "%s: search for %s under \"%s\" at %s: %s%s", d->spec,
                   buf_str(&filter), buf_str(&base), dl->uri, ldap_err2string(rc),
                   diag(dl->ld));
        status = DICT_TEMPFAIL;
    }
    if (res)
        ldap_msgfree(res);
    if (status == DICT_TEMPFAIL) {
        buf_reset(value);
        if (rc != LDAP_SUCCESS || dl->ld == NULL)
            disconnect(dl);     /* start afresh next time */
    }
    pipe_unblock(&g);
    buf_free(&base);
    buf_free(&filter);
    buf_free(&cwhy);
    return status;
}

static void dl_close(struct dict *d)
{
    struct dict_ldap *dl = (struct dict_ldap *)d;

    disconnect(dl);
    if (dl->domain_tables) {
        for (size_t i = 0; dl->cf.domains[i]; i++)
            dict_close(dl->domain_tables[i]);
        free(dl->domain_tables);
    }
    ldap_cf_free(&dl->cf);
    free(dl->uri);
    free(dl->attrs);
    dict_free_common(d);
}

static size_t count(char **v)
{
    size_t n = 0;

    while (v[n])
        n++;
    return n;
}

static struct dict *dl_open(const char *name, int flags, const struct config *cfg,
                              struct buf *err)
{
    struct dict_ldap *dl;
    struct buf uri = BUF_INIT;
    struct ldap_cf cf;
    size_t n = 0;

    if (ldap_cf_load(name, &cf, err) < 0)
        return NULL;
    /* dict_open() replaces the name with "ldap:NAME". */
    dl = (struct dict_ldap *)dict_alloc(sizeof(*dl), &dict_ldap_ops, name, flags);
    dl->cf = cf;

    for (char **u = cf.server_urls; *u; u++)
        buf_printf(&uri, "%s%s", uri.len ? " " : "", *u);
    dl->uri = buf_steal(&uri);

    dl->n_terminal = count(cf.terminal_result_attributes);
    dl->n_leaf = count(cf.leaf_result_attributes);
    dl->n_result = count(cf.result_attributes);
    dl->n_special = count(cf.special_result_attributes);
    dl->attrs = xcalloc(dl->n_terminal + dl->n_leaf + dl->n_result + dl->n_special + 1,
                        sizeof(char *));
    for (char **a = cf.terminal_result_attributes; *a; a++)
        dl->attrs[n++] = *a;
    for (char **a = cf.leaf_result_attributes; *a; a++)
        dl->attrs[n++] = *a;
    for (char **a = cf.result_attributes; *a; a++)
        dl->attrs[n++] = *a;
    for (char **a = cf.special_result_attributes; *a; a++)
        dl->attrs[n++] = *a;

    /* domain items that are tables ("hash:/etc/postern/ldap-domains"). */
    dl->domain_tables = xcalloc(count(cf.domains) + 1, sizeof(struct dict *));
    for (size_t i = 0; cf.domains[i]; i++) {
        const char *item = cf.domains[i] + strspn(cf.domains[i], "!");

        if (strchr(item, ':') == NULL)
            continue;
        if ((dl->domain_tables[i] = dict_open(item, DICT_FLAG_FOLD, cfg, err)) == NULL) {
            buf_printf(err, " (in domain of %s)", name);
            dl_close(&dl->dict);
            return NULL;
        }
    }
    if (cf.fixed_filter)
        msg_warn("%s: query_filter \"%s\" does not use the key; probably useless",
                 name, cf.query_filter);
    return &dl->dict;
}

const struct dict_ops dict_ldap_ops = {
    .type = "ldap",
    .caps = 0,
    .open = dl_open,
    .lookup = dl_lookup,
    .close = dl_close,
};
