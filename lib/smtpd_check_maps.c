/*
 * smtpd_check_maps - the tables and match lists behind smtpd_check:
 * one open table per spec (unix:passwd.byname is lib/dict_unix.c;
 * the default proxy:unix:passwd.byname goes through lookupd, which can
 * read the passwd database from outside the chroot), surrogate tables for recipient maps that cannot be opened, and
 * Postfix-style address lists (mynetworks) and domain lists
 * (mydestination, relay_domains, virtual_*_domains).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mem.h"
#include "smtpd_check_int.h"

#define SC_SEP ", \t\r\n\v\f"

/* ---- the list tokenizer ---- */

char **sc_split(const char *value)
{
    size_t n = 0, cap = 8;
    char **v = xreallocarray(NULL, cap, sizeof(*v));
    const char *p = value;

    for (;;) {
        size_t len = 0;
        int depth = 0;

        p += strspn(p, SC_SEP);
        if (*p == 0)
            break;
        for (; p[len]; len++) {
            if (p[len] == '{')
                depth++;
            else if (p[len] == '}' && depth > 0)
                depth--;
            else if (depth == 0 && strchr(SC_SEP, p[len]))
                break;
        }
        if (depth != 0) {
            v[n] = NULL;
            sc_split_free(v);
            return NULL;
        }
        if (n + 1 >= cap) {
            cap *= 2;
            v = xreallocarray(v, cap, sizeof(*v));
        }
        v[n++] = xstrndup(p, len);
        p += len;
    }
    v[n] = NULL;
    return v;
}

void sc_split_free(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* ---- tables ---- */

struct sc_fail_dict {
    struct dict d;
    char *reason;
};

static int fail_lookup(struct dict *d, const char *key, struct buf *value, struct buf *why)
{
    (void)key;
    (void)value;
    buf_printf(why, "%s", ((struct sc_fail_dict *)d)->reason);
    return DICT_TEMPFAIL;
}

static void fail_close(struct dict *d)
{
    free(((struct sc_fail_dict *)d)->reason);
    dict_free_common(d);
}

static const struct dict_ops sc_fail_ops = {
    .type = "fail", .caps = 0, .lookup = fail_lookup, .close = fail_close,
};

int sc_table_failed(const struct dict *d)
{
    return d != NULL && d->ops == &sc_fail_ops;
}

/* Length of the "type" in "type:name" (lower-case letters, digits, _), or 0. */
static size_t type_len(const char *item)
{
    size_t n = strspn(item, "abcdefghijklmnopqrstuvwxyz0123456789_");

    return n > 0 && item[n] == ':' && item[n + 1] != 0 ? n : 0;
}

int sc_is_table_spec(const char *item)
{
    size_t n = type_len(item);
    char type[64];

    if (n == 0 || n >= sizeof(type))
        return 0;
    memcpy(type, item, n);
    type[n] = 0;
    return dict_find_type(type) != NULL;
}

struct dict *sc_table_open(struct sc_tables *t, const char *spec, const char *param,
                           int hard, struct buf *err)
{
    struct buf why = BUF_INIT;
    struct dict *d;
    size_t n;

    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->v[i]->spec, spec) != 0)
            continue;
        if (hard && sc_table_failed(t->v[i])) {
            buf_printf(err, "parameter %s: %s", param,
                       ((struct sc_fail_dict *)t->v[i])->reason);
            return NULL;
        }
        return t->v[i];
    }
    {
        if ((n = type_len(spec)) > 0 && !sc_is_table_spec(spec)) {
            buf_printf(err, "parameter %s: unsupported table type \"%.*s\" in \"%s\"",
                       param, (int)n, spec, spec);
            return NULL;
        }
        if ((d = dict_open(spec, DICT_FLAG_FOLD, t->cfg, &why)) == NULL) {
            if (hard) {
                buf_printf(err, "parameter %s: %s", param, buf_str(&why));
                buf_free(&why);
                return NULL;
            }
            msg_error("parameter %s: %s (lookups in this table fail until it can be opened)",
                      param, buf_str(&why));
            struct sc_fail_dict *f = (struct sc_fail_dict *)
                dict_alloc(sizeof(*f), &sc_fail_ops, spec, 0);

            f->reason = buf_steal(&why);
            d = &f->d;
        }
        /* dict_open replaces the spec with the caller's; keep ours for the cache. */
        if (strcmp(d->spec, spec) != 0) {
            free(d->spec);
            d->spec = xstrdup(spec);
        }
    }
    buf_free(&why);
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
    }
    t->v[t->n++] = d;
    return d;
}

void sc_tables_free(struct sc_tables *t)
{
    for (size_t i = 0; i < t->n; i++)
        dict_close(t->v[i]);
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

/* ---- match lists ---- */

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

int sc_list_build(struct sc_list *l, struct sc_tables *t, const struct config *cfg,
                  const char *param, int addr_list, struct buf *err)
{
    char **items = sc_split(config_str(cfg, param));
    struct buf why = BUF_INIT;
    int rc = -1;
    size_t count = 0;

    memset(l, 0, sizeof(*l));
    if (items == NULL) {
        buf_printf(err, "parameter %s: missing '}'", param);
        return -1;
    }
    for (char **p = items; *p; p++)
        count++;
    l->v = xcalloc(count ? count : 1, sizeof(*l->v));
    for (char **p = items; *p; p++) {
        struct sc_item *it = &l->v[l->n];
        const char *s = *p;

        for (; *s == '!'; s++)
            it->negate = !it->negate;
        if (*s == 0) {
            buf_printf(err, "parameter %s: empty pattern after \"!\"", param);
            goto out;
        }
        if (*s == '/') {
            buf_printf(err, "parameter %s: \"%s\": /file/name patterns are not supported;"
                       " use a table such as cidr:%s", param, s, s);
            goto out;
        }
        if (addr_list) {
            buf_reset(&why);
            if (inet_net_parse(s, &it->net, &why) == 0) {
                it->kind = SC_ITEM_NET;
            } else if (*s != '[' && sc_is_table_spec(s)) {
                it->kind = SC_ITEM_TABLE;
                if ((it->table = sc_table_open(t, s, param, 1, err)) == NULL)
                    goto out;
            } else {
                buf_printf(err, "parameter %s: %s", param, buf_str(&why));
                goto out;
            }
        } else if (*s != '[' && strchr(s, ':')) {
            /* Not a domain name: a table (an unknown type is an error). */
            it->kind = SC_ITEM_TABLE;
            if ((it->table = sc_table_open(t, s, param, 1, err)) == NULL)
                goto out;
        } else {
            it->kind = SC_ITEM_DOMAIN;
            it->pattern = xstrdup(s);
            lower(it->pattern);
            /* "example.com." is example.com */
            size_t len = strlen(it->pattern);

            if (len > 1 && it->pattern[len - 1] == '.' && it->pattern[0] != '[')
                it->pattern[len - 1] = 0;
        }
        l->n++;
    }
    rc = 0;
out:
    buf_free(&why);
    sc_split_free(items);
    if (rc < 0)
        sc_list_free(l);
    return rc;
}

void sc_list_free(struct sc_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].pattern);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Table lookup: 1 found, 0 not, -1 tempfail. */
static int table_has(struct dict *d, const char *key, struct buf *why)
{
    struct buf value = BUF_INIT;
    int rc = dict_lookup(d, key, &value, why);

    buf_free(&value);
    return rc == DICT_FOUND ? 1 : rc == DICT_NOTFOUND ? 0 : -1;
}

int sc_list_match_addr(const struct sc_list *l, const char *addr, struct buf *why)
{
    struct inet_addr a;
    char norm[64];
    int valid = inet_addr_parse(addr, &a) == 0;

    (void)inet_addr_normalize(addr, norm, sizeof(norm));
    for (size_t i = 0; i < l->n; i++) {
        const struct sc_item *it = &l->v[i];
        int hit = 0;

        if (it->kind == SC_ITEM_NET) {
            hit = valid && inet_net_match(&it->net, &a);
        } else if (it->kind == SC_ITEM_TABLE) {
            if (!valid)
                continue;
            if ((hit = table_has(it->table, norm, why)) < 0)
                return -1;
        }
        if (hit)
            return !it->negate;
    }
    return 0;
}

/* Does name match a domain pattern (exact, or ".parent" for subdomains)? */
static int domain_pattern(const char *pat, const char *name)
{
    size_t pl, nl;

    if (strcasecmp(pat, name) == 0)
        return 1;
    if (pat[0] != '.')
        return 0;
    pl = strlen(pat);
    nl = strlen(name);
    return nl > pl && strcasecmp(name + nl - pl, pat) == 0;
}

int sc_list_match_domain(const struct sc_list *l, const char *domain, struct buf *why)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct sc_item *it = &l->v[i];
        int hit = 0;

        if (*domain == 0)
            return 0;
        if (it->kind == SC_ITEM_DOMAIN) {
            hit = domain_pattern(it->pattern, domain);
        } else if (it->kind == SC_ITEM_TABLE) {
            /* The name, then ".parent" for each parent domain (not for literals). */
            if ((hit = table_has(it->table, domain, why)) < 0)
                return -1;
            for (const char *p = domain; !hit && *domain != '[' && (p = strchr(p + 1, '.'));)
                if ((hit = table_has(it->table, p, why)) < 0)
                    return -1;
        }
        if (hit)
            return !it->negate;
    }
    return 0;
}
