/*
 * cleanup_addr - address rewriting for cleanup, in Postfix's order:
 *
 *   1. "local" rewriting (Postfix's trivial-rewrite): user -> user@$myorigin
 *      (append_at_myorigin), user@host -> user@host.$mydomain
 *      (append_dot_mydomain);
 *   2. sender_canonical_maps (senders) or recipient_canonical_maps
 *      (recipients), then canonical_maps; each one-to-one, at most
 *      MAP11_RECURSION rounds, stopping when an address maps to itself;
 *   3. masquerade_domains for the classes in masquerade_classes;
 *   4. recipients only: virtual_alias_maps, one-to-many, breadth-first
 *      as Postfix's cleanup_map1n does.
 *
 * Lookups go through addr_lookup (user+ext@domain, user@domain, then
 * user+ext and user for our own domains only, then @domain). A result
 * "@other" keeps the local part. An extension that the matching key did
 * not include is put back on the result (propagate_unmatched_extensions).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr_lookup.h"
#include "cleanup_priv.h"
#include "log.h"
#include "mem.h"

#define MAP11_RECURSION 10

/* Is domain (length n) one of ours, for the user-only lookup forms? */
static int local_domain(const struct cleanup *c, const char *domain)
{
    for (char **d = c->local_domains; d && *d; d++)
        if (strcasecmp(*d, domain) == 0)
            return 1;
    return 0;
}

int cleanup_rewrite_local(const struct cleanup *c, struct buf *addr)
{
    const char *s = buf_str(addr);
    const char *at;

    if (*s == 0)
        return 0;
    at = strrchr(s, '@');
    if (at == NULL) {
        if (c->append_at_myorigin && *c->myorigin)
            return buf_printf(addr, "@%s", c->myorigin);
        return 0;
    }
    if (c->append_dot_mydomain && *c->mydomain && at[1] != 0 && at[1] != '['
        && strchr(at + 1, '.') == NULL)
        return buf_printf(addr, ".%s", c->mydomain);
    return 0;
}

/* Does any character make this unusable as a queue-file address? */
static int bad_addr(const char *s)
{
    size_t n = 0;

    for (; *s; s++, n++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return n > CLEANUP_MAX_ADDR;
}

/*
 * Post-process one table result for address: "@domain" keeps the local
 * part; an unmatched extension is propagated. The result goes to out.
 */
static void finish_result(const struct cleanup *c, const char *address, const char *matched,
                          const char *item, size_t item_len, int propagate, struct buf *out)
{
    const char *at = strrchr(address, '@');
    size_t local_len = at ? (size_t)(at - address) : strlen(address);
    size_t cut = local_len;

    buf_reset(out);
    if (item_len > 0 && item[0] == '@') {
        buf_append(out, address, local_len);
        buf_append(out, item, item_len);
        return;
    }
    if (*c->delimiters && local_len > 1) {
        cut = 1 + strcspn(address + 1, c->delimiters);
        if (cut > local_len)
            cut = local_len;
    }
    /* The matching key held the extension when it starts with the full local part. */
    if (propagate && cut < local_len
        && !(strncasecmp(matched, address, local_len) == 0
             && (matched[local_len] == 0 || matched[local_len] == '@'))) {
        const char *iat = memchr(item, '@', item_len);
        const char *ext = address + cut;
        size_t ext_len = local_len - cut;

        /* The last '@' of the item splits it. */
        for (const char *p = item; p < item + item_len; p++)
            if (*p == '@')
                iat = p;
        if (iat) {
            buf_append(out, item, (size_t)(iat - item));
            buf_append(out, ext, ext_len);
            buf_append(out, iat, item_len - (size_t)(iat - item));
        } else {
            buf_append(out, item, item_len);
            buf_append(out, ext, ext_len);
        }
        return;
    }
    buf_append(out, item, item_len);
}

/* addr_lookup with the forms Postfix uses for canonical and virtual. */
static int lookup(struct cleanup_msg *m, const struct cleanup_maps *maps, const char *address,
                  struct buf *value, struct buf *matched)
{
    struct buf why = BUF_INIT;
    const char *at = strrchr(address, '@');
    int flags = ADDR_LOOKUP_DOMAIN, rc;

    if (at == NULL || local_domain(m->c, at + 1))
        flags |= ADDR_LOOKUP_LOCALPART;
    if (strlen(address) >= DICT_MAX_KEY)
        return DICT_NOTFOUND;
    rc = addr_lookup(maps->v, maps->n, address, m->c->delimiters, flags, value, matched, &why);
    if (rc == DICT_TEMPFAIL) {
        msg_warn("%s: %s lookup problem for %s: %s -- message not accepted, try again later",
                 m->queue_id, maps->param, address, buf_str(&why));
        cleanup_failed(m, CLEANUP_TEMPFAIL, 451, "4.3.0", "Temporary lookup failure");
    }
    buf_free(&why);
    return rc;
}

/* Split a table value into items (commas and white space, quotes kept). */
static const char *next_item(const char *p, size_t *len)
{
    const char *start;
    int quoted = 0;

    while (*p == ',' || isspace((unsigned char)*p))
        p++;
    if (*p == 0)
        return NULL;
    start = p;
    for (; *p; p++) {
        if (*p == '\\' && quoted && p[1]) {
            p++;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (!quoted && (*p == ',' || isspace((unsigned char)*p)))
            break;
    }
    *len = (size_t)(p - start);
    return start;
}

/* Remove quoting from an address item: "a b"@x -> a b@x. */
static void unquote(struct buf *out, const char *s, size_t len)
{
    int quoted = 0;

    buf_reset(out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            quoted = !quoted;
            continue;
        }
        if (s[i] == '\\' && quoted && i + 1 < len)
            i++;
        buf_putc(out, s[i]);
    }
}

/* One-to-one mapping through one list of tables. */
static int map11(struct cleanup_msg *m, const struct cleanup_maps *maps, struct buf *addr)
{
    struct buf value = BUF_INIT, matched = BUF_INIT, item = BUF_INIT, res = BUF_INIT;
    int rc = 0;

    if (maps->n == 0)
        return 0;
    for (int count = 0; count < MAP11_RECURSION; count++) {
        const char *it;
        size_t len;
        int r = lookup(m, maps, buf_str(addr), &value, &matched);

        if (r == DICT_TEMPFAIL) {
            rc = -1;
            break;
        }
        if (r != DICT_FOUND)
            break;
        if ((it = next_item(buf_str(&value), &len)) == NULL)
            break;
        if (next_item(it + len, &len) != NULL)
            msg_warn("%s: %s map entry for %s has multiple addresses: using the first",
                     m->queue_id, maps->param, buf_str(addr));
        it = next_item(buf_str(&value), &len);
        unquote(&item, it, len);
        finish_result(m->c, buf_str(addr), buf_str(&matched), buf_str(&item), item.len,
                      (m->c->propagate & CLEANUP_PROP_CANONICAL) != 0, &res);
        if (bad_addr(buf_str(&res))) {
            msg_warn("%s: %s: bad result for %s: ignored", m->queue_id, maps->param,
                     buf_str(addr));
            break;
        }
        if (strcasecmp(buf_str(&res), buf_str(addr)) == 0)
            break;
        buf_set(addr, buf_str(&res));
    }
    buf_free(&value);
    buf_free(&matched);
    buf_free(&item);
    buf_free(&res);
    return rc;
}

/* masquerade_domains: host.example.com -> example.com. */
static void masquerade(const struct cleanup *c, struct buf *addr)
{
    const char *s = buf_str(addr);
    const char *at = strrchr(s, '@');
    size_t local_len, domain_len;
    char *domain;

    if (at == NULL || c->masq_domains == NULL || c->masq_domains[0] == NULL)
        return;
    local_len = (size_t)(at - s);
    for (char **e = c->masq_exceptions; e && *e; e++)
        if (strlen(*e) == local_len && strncasecmp(*e, s, local_len) == 0)
            return;
    domain = xstrdup(at + 1);
    domain_len = strlen(domain);
    dict_fold(domain);
    for (char **mp = c->masq_domains; *mp; mp++) {
        const char *masq = *mp;
        int excl = (*masq == '!');
        size_t masq_len;

        if (excl)
            masq++;
        masq_len = strlen(masq);
        if (masq_len == 0)
            continue;
        if (masq_len == domain_len) {
            if (strcasecmp(masq, domain) == 0)
                break;
        } else if (masq_len < domain_len) {
            const char *parent = domain + domain_len - masq_len;

            if (parent[-1] == '.' && strcasecmp(masq, parent) == 0) {
                if (!excl) {
                    buf_truncate(addr, local_len + 1);
                    buf_puts(addr, masq);
                }
                break;
            }
        }
    }
    free(domain);
}

int cleanup_rewrite_addr(struct cleanup_msg *m, enum cleanup_class cls, struct buf *addr,
                         int append)
{
    const struct cleanup *c = m->c;
    static const unsigned masq_bit[] = {
        CLEANUP_MASQ_ENV_FROM, CLEANUP_MASQ_ENV_RCPT, CLEANUP_MASQ_HDR_FROM,
        CLEANUP_MASQ_HDR_RCPT,
    };
    int sender = (cls == CLEANUP_ENV_FROM || cls == CLEANUP_HDR_FROM);

    if (addr->len == 0)
        return 0;
    if (append)
        cleanup_rewrite_local(c, addr);
    if (map11(m, sender ? &c->send_canon : &c->rcpt_canon, addr) < 0)
        return -1;
    if (map11(m, &c->canon, addr) < 0)
        return -1;
    if (c->masq_classes & masq_bit[cls])
        masquerade(c, addr);
    return 0;
}

/* Keep one expanded recipient, unless it is a duplicate. */
static int add_rcpt(struct cleanup_msg *m, const char *addr, const char *orig,
                    const char *orcpt, unsigned notify)
{
    struct cleanup_rcpt *r;

    for (size_t i = 0; i < m->nrcpt; i++)
        if (strcasecmp(m->rcpt[i].addr, addr) == 0)
            return 0;
    if (m->nrcpt >= QF_MAX_RCPT)
        return cleanup_failed(m, CLEANUP_TEMPFAIL, 452, "4.5.3", "Error: too many recipients");
    if (m->nrcpt == m->rcpt_cap) {
        m->rcpt_cap = m->rcpt_cap ? 2 * m->rcpt_cap : 8;
        m->rcpt = xreallocarray(m->rcpt, m->rcpt_cap, sizeof(*m->rcpt));
    }
    r = &m->rcpt[m->nrcpt++];
    r->addr = xstrdup(addr);
    r->notify = notify;
    r->orcpt = NULL;
    if (orcpt && *orcpt)
        r->orcpt = xstrdup(orcpt);
    else if (orig && *orig && strcmp(orig, addr) != 0 && !bad_addr(orig)) {
        r->orcpt = xmalloc(strlen(orig) + 8);
        strcpy(r->orcpt, "rfc822;");
        strcat(r->orcpt, orig);
    }
    return 0;
}

struct been_here {
    char **v;
    size_t n, cap;
};

static int been_here_check(const struct been_here *b, const char *s)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcasecmp(b->v[i], s) == 0)
            return 1;
    return 0;
}

static void been_here_add(struct been_here *b, const char *s)
{
    if (been_here_check(b, s))
        return;
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 4;
        b->v = xreallocarray(b->v, b->cap, sizeof(*b->v));
    }
    b->v[b->n++] = xstrdup(s);
}

static void argv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int cleanup_expand_rcpt(struct cleanup_msg *m, const char *addr, const char *orig,
                        const char *orcpt, unsigned notify)
{
    const struct cleanup *c = m->c;
    struct been_here been = {0};
    struct buf value = BUF_INIT, matched = BUF_INIT, item = BUF_INIT, res = BUF_INIT;
    char **argv;
    size_t argc = 1, cap = 4;
    int rc = 0;

    if (c->virtual.n == 0)
        return add_rcpt(m, addr, orig, orcpt, notify);
    argv = xreallocarray(NULL, cap, sizeof(*argv));
    argv[0] = xstrdup(addr);
    for (size_t arg = 0; arg < argc && rc == 0; arg++) {
        if ((long)argc > c->virt_expan_limit) {
            msg_warn("%s: unreasonable virtual_alias_maps map expansion size for %s -- "
                     "message not accepted, try again later", m->queue_id, addr);
            rc = cleanup_failed(m, CLEANUP_TEMPFAIL, 451, "4.6.0", "Alias expansion error");
            break;
        }
        for (long count = 0;; count++) {
            const char *it, *p;
            size_t len;
            int r;
            char *saved;

            if (been_here_check(&been, argv[arg]))
                break;
            if (count >= c->virt_recur_limit) {
                msg_warn("%s: unreasonable virtual_alias_maps map nesting for %s -- "
                         "message not accepted, try again later", m->queue_id, addr);
                rc = cleanup_failed(m, CLEANUP_TEMPFAIL, 451, "4.6.0", "Alias expansion error");
                break;
            }
            r = lookup(m, &c->virtual, argv[arg], &value, &matched);
            if (r == DICT_TEMPFAIL) {
                rc = -1;
                break;
            }
            if (r != DICT_FOUND)
                break;
            saved = xstrdup(argv[arg]);
            p = buf_str(&value);
            for (int i = 0; (it = next_item(p, &len)) != NULL; i++) {
                p = it + len;
                unquote(&item, it, len);
                finish_result(c, saved, buf_str(&matched), buf_str(&item), item.len,
                              (c->propagate & CLEANUP_PROP_VIRTUAL) != 0, &res);
                cleanup_rewrite_local(c, &res);
                if (res.len == 0 || bad_addr(buf_str(&res))) {
                    msg_warn("%s: unreasonable virtual_alias_maps result for %s -- "
                             "message not accepted, try again later", m->queue_id, saved);
                    rc = cleanup_failed(m, CLEANUP_TEMPFAIL, 451, "4.6.0",
                                        "Alias expansion error");
                    break;
                }
                if (i == 0) {
                    free(argv[arg]);
                    argv[arg] = xstrdup(buf_str(&res));
                } else {
                    if (argc == cap) {
                        cap *= 2;
                        argv = xreallocarray(argv, cap, sizeof(*argv));
                    }
                    argv[argc++] = xstrdup(buf_str(&res));
                }
                /* Allow an address to expand into itself once. */
                if (strcasecmp(saved, buf_str(&res)) == 0)
                    been_here_add(&been, saved);
                if ((long)argc > c->virt_expan_limit)
                    break;          /* caught at the top of the outer loop */
            }
            free(saved);
            if (rc == 0 && (long)argc > c->virt_expan_limit) {
                msg_warn("%s: unreasonable virtual_alias_maps map expansion size for %s -- "
                         "message not accepted, try again later", m->queue_id, addr);
                rc = cleanup_failed(m, CLEANUP_TEMPFAIL, 451, "4.6.0", "Alias expansion error");
            }
            if (rc != 0)
                break;
        }
    }
    for (size_t i = 0; rc == 0 && i < argc; i++)
        rc = add_rcpt(m, argv[i], orig, orcpt, notify);
    argv_free(argv, argc);
    argv_free(been.v, been.n);
    buf_free(&value);
    buf_free(&matched);
    buf_free(&item);
    buf_free(&res);
    return rc;
}
