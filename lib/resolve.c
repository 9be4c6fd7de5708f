/*
 * resolve - recipient address to transport and next hop, as Postfix's
 * trivial-rewrite resolves it (the rules are in resolve.h): transport_maps
 * first, then the address class from mydestination, virtual_alias_domains,
 * virtual_mailbox_domains and relay_domains.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dict.h"
#include "inet_net.h"
#include "mem.h"
#include "resolve.h"

#define MAX_LOCAL_ADDRS 256

/* One entry of a domain list: a table, or a plain (maybe negated) name. */
struct domain_pat {
    int negate;
    struct dict *table;         /* NULL: pattern below */
    char *pattern;              /* lower case, no trailing dot */
};

struct domain_list {
    struct domain_pat *v;
    size_t n;
    int parent_matches;         /* "example.com" also matches subdomains */
};

struct resolver {
    struct dict **transport;
    size_t ntransport;
    struct domain_list mydestination, valias, vmailbox, relay;
    char *local_transport, *virtual_transport, *relay_transport, *default_transport;
    char *relayhost, *myhostname, *delimiters;
    struct inet_addr local_addrs[MAX_LOCAL_ADDRS];
    size_t nlocal;
};

/* Is this list entry a table ("type:name") rather than a domain? */
static int is_table_spec(const char *s)
{
    const char *colon = strchr(s, ':');

    if (colon == NULL || colon == s || s[0] == '[')
        return 0;
    for (const char *p = s; p < colon; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return 0;
    return 1;
}

/* Lower-case copy without a trailing dot. */
static char *domain_norm(const char *s)
{
    char *d = xstrdup(s);
    size_t n = strlen(d);

    if (n > 1 && d[n - 1] == '.')
        d[n - 1] = 0;
    dict_fold(d);
    return d;
}

/* Open the entries of a domain list parameter. -1 with err. */
static int domain_list_open(struct domain_list *dl, const struct config *cfg,
                            const char *param, int parent_matches, struct buf *err)
{
    char *const *items = config_list(cfg, param);

    dl->parent_matches = parent_matches;
    for (size_t i = 0; items[i]; i++) {
        const char *s = items[i];
        struct domain_pat *p;

        dl->v = xreallocarray(dl->v, dl->n + 1, sizeof(*dl->v));
        p = &dl->v[dl->n];
        memset(p, 0, sizeof(*p));
        if (*s == '!') {
            p->negate = 1;
            s++;
        }
        if (is_table_spec(s)) {
            if ((p->table = dict_open(s, DICT_FLAG_FOLD, cfg, err)) == NULL) {
                buf_printf(err, " (in %s)", param);
                return -1;
            }
        } else {
            p->pattern = domain_norm(s);
        }
        dl->n++;
    }
    return 0;
}

static void domain_list_close(struct domain_list *dl)
{
    for (size_t i = 0; i < dl->n; i++) {
        if (dl->v[i].table)
            dict_close(dl->v[i].table);
        free(dl->v[i].pattern);
    }
    free(dl->v);
    dl->v = NULL;
    dl->n = 0;
}

/* Does name end with "." + suffix (name strictly longer)? */
static int is_subdomain_of(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);

    return n > k + 1 && name[n - k - 1] == '.' && strcmp(name + n - k, suffix) == 0;
}

/* Does one pattern match domain? 1, 0, or -1 (table failure, why). */
static int pat_match(const struct domain_list *dl, const struct domain_pat *p,
                     const char *domain, struct buf *why)
{
    struct buf value = BUF_INIT, key = BUF_INIT;
    int found = 0;

    if (p->table == NULL) {
        if (strcmp(domain, p->pattern) == 0)
            return 1;
        if (p->pattern[0] == '.')
            return strlen(domain) > strlen(p->pattern)
                && strcmp(domain + strlen(domain) - strlen(p->pattern), p->pattern) == 0;
        return dl->parent_matches && is_subdomain_of(domain, p->pattern);
    }
    /* A table: the domain, then its parents ("example.com" or ".example.com"). */
    for (const char *d = domain; d && *d && !found; ) {
        int rc;

        buf_reset(&key);
        if (d != domain && !dl->parent_matches)
            buf_putc(&key, '.');
        buf_puts(&key, d);
        rc = dict_lookup(p->table, buf_str(&key), &value, why);
        if (rc == DICT_TEMPFAIL) {
            found = -1;
            break;
        }
        if (rc == DICT_FOUND)
            found = 1;
        if (p->table->ops->caps & DICT_CAP_PATTERN)
            break;
        if ((d = strchr(d, '.')) != NULL)
            d++;
    }
    buf_free(&value);
    buf_free(&key);
    return found;
}

/* Is domain in the list? 1, 0, or -1 (why). The first matching entry decides. */
static int domain_list_match(const struct domain_list *dl, const char *domain, struct buf *why)
{
    for (size_t i = 0; i < dl->n; i++) {
        int m = pat_match(dl, &dl->v[i], domain, why);

        if (m < 0)
            return -1;
        if (m > 0)
            return !dl->v[i].negate;
    }
    return 0;
}

/* Remember one address of this host. */
static void add_local_addr(struct resolver *r, const struct inet_addr *a)
{
    if (r->nlocal < MAX_LOCAL_ADDRS)
        r->local_addrs[r->nlocal++] = *a;
}

/* The addresses [ip] literals of this host are compared with. */
static void local_addrs_open(struct resolver *r, const struct config *cfg)
{
    char *const *ifs = config_list(cfg, "inet_interfaces");
    struct inet_addr a;
    int all = 0;

    for (size_t i = 0; ifs[i]; i++) {
        if (strcasecmp(ifs[i], "all") == 0)
            all = 1;
        else if (strcasecmp(ifs[i], "loopback-only") == 0) {
            if (inet_addr_parse("127.0.0.1", &a) == 0)
                add_local_addr(r, &a);
            if (inet_addr_parse("::1", &a) == 0)
                add_local_addr(r, &a);
        } else if (inet_addr_parse(ifs[i], &a) == 0) {
            add_local_addr(r, &a);
        }
    }
    if (all) {
        struct ifaddrs *ifa = NULL;

        if (getifaddrs(&ifa) == 0) {
            for (struct ifaddrs *p = ifa; p; p = p->ifa_next) {
                if (p->ifa_addr == NULL)
                    continue;
                memset(&a, 0, sizeof(a));
                if (p->ifa_addr->sa_family == AF_INET) {
                    a.family = AF_INET;
                    memcpy(a.bytes, &((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr, 4);
                } else if (p->ifa_addr->sa_family == AF_INET6) {
                    a.family = AF_INET6;
                    memcpy(a.bytes, &((struct sockaddr_in6 *)(void *)p->ifa_addr)->sin6_addr, 16);
                } else {
                    continue;
                }
                add_local_addr(r, &a);
            }
            freeifaddrs(ifa);
        }
        /* Loopback is always ours, even in a namespace without interfaces listed. */
        if (inet_addr_parse("127.0.0.1", &a) == 0)
            add_local_addr(r, &a);
    }
}

/* Is domain an address literal "[ip]" of this host? */
static int local_literal(const struct resolver *r, const char *domain)
{
    char inner[128];
    size_t n = strlen(domain);
    struct inet_addr a;
    const char *p;

    if (n < 3 || domain[0] != '[' || domain[n - 1] != ']' || n - 2 >= sizeof(inner))
        return 0;
    memcpy(inner, domain + 1, n - 2);
    inner[n - 2] = 0;
    p = inner;
    if (strncasecmp(p, "ipv6:", 5) == 0)
        p += 5;
    if (inet_addr_parse(p, &a) < 0)
        return 0;
    for (size_t i = 0; i < r->nlocal; i++)
        if (r->local_addrs[i].family == a.family
            && memcmp(r->local_addrs[i].bytes, a.bytes,
                      a.family == AF_INET ? 4 : 16) == 0)
            return 1;
    return 0;
}

struct resolver *resolver_open(const struct config *cfg, struct buf *err)
{
    struct resolver *r = xcalloc(1, sizeof(*r));
    char *const *maps = config_list(cfg, "transport_maps");

    for (size_t i = 0; maps[i]; i++) {
        struct dict *d = dict_open(maps[i], DICT_FLAG_FOLD, cfg, err);

        if (d == NULL) {
            buf_puts(err, " (in transport_maps)");
            resolver_close(r);
            return NULL;
        }
        r->transport = xreallocarray(r->transport, r->ntransport + 1, sizeof(*r->transport));
        r->transport[r->ntransport++] = d;
    }
    if (domain_list_open(&r->mydestination, cfg, "mydestination", 0, err) < 0
        || domain_list_open(&r->valias, cfg, "virtual_alias_domains", 0, err) < 0
        || domain_list_open(&r->vmailbox, cfg, "virtual_mailbox_domains", 0, err) < 0
        /* Postfix's parent_domain_matches_subdomains default names relay_domains. */
        || domain_list_open(&r->relay, cfg, "relay_domains", 1, err) < 0) {
        resolver_close(r);
        return NULL;
    }
    r->local_transport = xstrdup(config_str(cfg, "local_transport"));
    r->virtual_transport = xstrdup(config_str(cfg, "virtual_transport"));
    r->relay_transport = xstrdup(config_str(cfg, "relay_transport"));
    r->default_transport = xstrdup(config_str(cfg, "default_transport"));
    r->relayhost = xstrdup(config_str(cfg, "relayhost"));
    r->myhostname = domain_norm(config_str(cfg, "myhostname"));
    r->delimiters = xstrdup(config_str(cfg, "recipient_delimiter"));
    local_addrs_open(r, cfg);
    return r;
}

void resolver_close(struct resolver *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->ntransport; i++)
        dict_close(r->transport[i]);
    free(r->transport);
    domain_list_close(&r->mydestination);
    domain_list_close(&r->valias);
    domain_list_close(&r->vmailbox);
    domain_list_close(&r->relay);
    free(r->local_transport);
    free(r->virtual_transport);
    free(r->relay_transport);
    free(r->default_transport);
    free(r->relayhost);
    free(r->myhostname);
    free(r->delimiters);
    free(r);
}

/* Copy at most max bytes of s[0..len) into dst. -1 if it does not fit. */
static int copy_field(char *dst, size_t max, const char *s, size_t len)
{
    if (len > max)
        return -1;
    memcpy(dst, s, len);
    dst[len] = 0;
    return 0;
}

/*
 * Split "transport:nexthop" over out: an empty part keeps what out has.
 * -1 (why) when a part is too long.
 */
static int apply_spec(struct resolved *out, const char *spec, struct buf *why)
{
    const char *colon = strchr(spec, ':');
    size_t tlen = colon ? (size_t)(colon - spec) : strlen(spec);

    if (tlen > 0 && copy_field(out->transport, RESOLVE_MAX_TRANSPORT, spec, tlen) < 0) {
        buf_printf(why, "transport name too long: %.*s", (int)(tlen > 80 ? 80 : tlen), spec);
        return -1;
    }
    /* error:, discard: and retry: carry their text, even an empty one. */
    if (colon && colon[1] == 0 && tlen > 0 && (strcmp(out->transport, "error") == 0
                                               || strcmp(out->transport, "discard") == 0
                                               || strcmp(out->transport, "retry") == 0))
        out->nexthop[0] = 0;
    if (colon && colon[1] && copy_field(out->nexthop, RESOLVE_MAX_NEXTHOP, colon + 1,
                                        strlen(colon + 1)) < 0) {
        buf_printf(why, "next hop too long in \"%.80s...\"", spec);
        return -1;
    }
    return 0;
}

/* Look key up in every transport table, in order. */
static int transport_find(struct resolver *r, const char *key, struct buf *value,
                          struct buf *why)
{
    for (size_t i = 0; i < r->ntransport; i++) {
        int rc = dict_lookup(r->transport[i], key, value, why);

        if (rc != DICT_NOTFOUND)
            return rc;
    }
    return DICT_NOTFOUND;
}

/* transport_maps in transport(5) order; DICT_FOUND with the value. */
static int transport_lookup(struct resolver *r, const char *localpart, const char *domain,
                            int has_at, struct buf *value, struct buf *why)
{
    struct buf key = BUF_INIT;
    int rc;

    /* The full address. */
    buf_printf(&key, "%s%s%s", localpart, has_at ? "@" : "", has_at ? domain : "");
    if ((rc = transport_find(r, buf_str(&key), value, why)) != DICT_NOTFOUND)
        goto out;
    /* Without its extension. */
    if (*r->delimiters) {
        size_t ext = strcspn(localpart, r->delimiters);

        if (ext > 0 && localpart[ext]) {
            buf_reset(&key);
            buf_printf(&key, "%.*s%s%s", (int)ext, localpart, has_at ? "@" : "",
                       has_at ? domain : "");
            if ((rc = transport_find(r, buf_str(&key), value, why)) != DICT_NOTFOUND)
                goto out;
        }
    }
    /* The domain, then each parent ".domain". */
    if (has_at && *domain) {
        if ((rc = transport_find(r, domain, value, why)) != DICT_NOTFOUND)
            goto out;
        for (const char *d = strchr(domain, '.'); d; d = strchr(d + 1, '.'))
            if ((rc = transport_find(r, d, value, why)) != DICT_NOTFOUND)
                goto out;
    }
    rc = transport_find(r, "*", value, why);
out:
    buf_free(&key);
    return rc;
}

/* The class default: "transport:nexthop" with nexthop defaulting to dflt. */
static int class_default(struct resolved *out, const char *spec, const char *dflt,
                         struct buf *why)
{
    out->transport[0] = 0;
    if (copy_field(out->nexthop, RESOLVE_MAX_NEXTHOP, dflt, strlen(dflt)) < 0) {
        buf_printf(why, "next hop too long: %.80s...", dflt);
        return -1;
    }
    if (apply_spec(out, spec, why) < 0)
        return -1;
    if (out->transport[0] == 0) {
        buf_printf(why, "empty transport name in \"%s\"", spec);
        return -1;
    }
    return 0;
}

int resolve_addr(struct resolver *r, const char *address, struct resolved *out,
                 struct buf *why)
{
    const char *at = strrchr(address, '@');
    char *localpart, *domain;
    struct buf value = BUF_INIT;
    int rc = -1, m;

    memset(out, 0, sizeof(*out));
    localpart = at ? xstrndup(address, (size_t)(at - address)) : xstrdup(address);
    domain = domain_norm(at ? at + 1 : "");

    /* 2. The address class (computed first: transport_maps may keep parts of it). */
    if (at == NULL || *domain == 0) {
        out->cls = RESOLVE_LOCAL;
    } else if ((m = domain_list_match(&r->mydestination, domain, why)) != 0
               || (m = local_literal(r, domain)) != 0) {
        if (m < 0)
            goto out;
        out->cls = RESOLVE_LOCAL;
    } else if ((m = domain_list_match(&r->valias, domain, why)) != 0) {
        if (m < 0)
            goto out;
        out->cls = RESOLVE_VIRTUAL_ALIAS;
    } else if ((m = domain_list_match(&r->vmailbox, domain, why)) != 0) {
        if (m < 0)
            goto out;
        out->cls = RESOLVE_VIRTUAL;
    } else if ((m = domain_list_match(&r->relay, domain, why)) != 0) {
        if (m < 0)
            goto out;
        out->cls = RESOLVE_RELAY;
    } else {
        out->cls = RESOLVE_DEFAULT;
    }
    switch (out->cls) {
    case RESOLVE_LOCAL:
        if (class_default(out, r->local_transport, *domain ? domain : r->myhostname, why) < 0)
            goto out;
        break;
    case RESOLVE_VIRTUAL_ALIAS:
        if (class_default(out, "error:5.1.1 User unknown in virtual alias table", "", why) < 0)
            goto out;
        break;
    case RESOLVE_VIRTUAL:
        if (class_default(out, r->virtual_transport, domain, why) < 0)
            goto out;
        break;
    case RESOLVE_RELAY:
        if (class_default(out, r->relay_transport, *r->relayhost ? r->relayhost : domain,
                          why) < 0)
            goto out;
        break;
    case RESOLVE_DEFAULT:
        if (class_default(out, r->default_transport, *r->relayhost ? r->relayhost : domain,
                          why) < 0)
            goto out;
        break;
    }

    /* 1. transport_maps override. */
    if (r->ntransport > 0) {
        int t = transport_lookup(r, localpart, domain, at != NULL, &value, why);

        if (t == DICT_TEMPFAIL)
            goto out;
        if (t == DICT_FOUND) {
            const char *v = buf_str(&value);

            while (isspace((unsigned char)*v))
                v++;
            if (apply_spec(out, v, why) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    if (rc < 0 && why->len == 0)
        buf_puts(why, "address resolver failure");
    buf_free(&value);
    free(localpart);
    free(domain);
    return rc;
}
