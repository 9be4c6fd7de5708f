/*
 * ldap_query - escaping and '%' templates for ldap: tables (see ldap_query.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ldap_query.h"
#include "mem.h"

static const char hexdigits[] = "0123456789abcdef";

static int put_hex(struct buf *out, unsigned char c)
{
    char esc[3] = { '\\', hexdigits[c >> 4], hexdigits[c & 15] };

    return buf_append(out, esc, sizeof(esc));
}

int ldap_escape_filter(struct buf *out, const char *s)
{
    size_t start = out->len;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int rc;

        if (*p == '*' || *p == '(' || *p == ')' || *p == '\\' || *p < 0x20 || *p >= 0x7f)
            rc = put_hex(out, *p);
        else
            rc = buf_putc(out, *p);
        if (rc < 0) {
            buf_truncate(out, start);
            return -1;
        }
    }
    return 0;
}

int ldap_escape_dn(struct buf *out, const char *s)
{
    size_t start = out->len, n = strlen(s);

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;

        if (c < 0x20 || c == 0x7f)
            rc = put_hex(out, c);
        else if (strchr(",+\"\\<>;=", c) != NULL
                 || (i == 0 && (c == ' ' || c == '#'))
                 || (i == n - 1 && c == ' '))
            rc = (buf_putc(out, '\\') < 0 || buf_putc(out, c) < 0) ? -1 : 0;
        else
            rc = buf_putc(out, c);
        if (rc < 0) {
            buf_truncate(out, start);
            return -1;
        }
    }
    return 0;
}

int ldap_tmpl_check(const char *tmpl, int query, struct ldap_tmpl_needs *needs,
                    struct buf *err)
{
    int dynamic = 0;

    for (const char *p = tmpl; *p; p++) {
        if (*p != '%')
            continue;
        switch (*++p) {
        case '%':
            break;
        case 's':
        case 'S':
            dynamic = 1;
            break;
        case 'u':
            needs->flags |= query ? LDAP_NEED_KEY_USER : LDAP_NEED_VALUE_USER;
            dynamic = 1;
            break;
        case 'd':
            needs->flags |= query ? LDAP_NEED_KEY_DOMAIN : LDAP_NEED_VALUE_DOMAIN;
            dynamic = 1;
            break;
        case 'U':
            needs->flags |= LDAP_NEED_KEY_USER;
            dynamic = 1;
            break;
        case 'D':
            needs->flags |= LDAP_NEED_KEY_DOMAIN;
            dynamic = 1;
            break;
        case '1': case '2': case '3': case '4': case '5':
        case '6': case '7': case '8': case '9':
            needs->flags |= LDAP_NEED_KEY_DOMAIN;
            if (needs->nparts < *p - '0')
                needs->nparts = *p - '0';
            dynamic = 1;
            break;
        case 0:
            buf_printf(err, "'%%' at the end of template \"%s\"", tmpl);
            return -1;
        default:
            buf_printf(err, "unknown expansion \"%%%c\" in template \"%s\"", *p, tmpl);
            return -1;
        }
    }
    return dynamic;
}

/* The part after the last '@', or NULL. */
static const char *domain_of(const char *s)
{
    const char *at = strrchr(s, '@');

    return at ? at + 1 : NULL;
}

/* Does s have what flags ask for (user/domain bits given separately)? */
static int has_parts(const char *s, int need_user, int need_domain)
{
    const char *dom = domain_of(s);

    if (need_domain && (dom == NULL || *dom == 0))
        return 0;
    if (need_user && dom == s + 1)
        return 0;
    return 1;
}

/* Label n (1 = rightmost) of domain, as [*start, *start + *len). 0 if absent/empty. */
static int domain_label(const char *domain, int n, const char **start, size_t *len)
{
    const char *end = domain + strlen(domain);

    for (;;) {
        const char *p = end;

        while (p > domain && p[-1] != '.')
            p--;
        if (--n == 0) {
            *start = p;
            *len = (size_t)(end - p);
            return *len > 0;
        }
        if (p == domain)
            return 0;
        end = p - 1;
    }
}

static int labels_ok(const char *domain, int nparts)
{
    const char *s;
    size_t len;

    for (int i = 1; i <= nparts; i++)
        if (!domain_label(domain, i, &s, &len))
            return 0;
    return 1;
}

int ldap_key_usable(const struct ldap_tmpl_needs *needs, const char *key)
{
    if (!has_parts(key, needs->flags & LDAP_NEED_KEY_USER, needs->flags & LDAP_NEED_KEY_DOMAIN))
        return 0;
    if (needs->nparts > 0 && !labels_ok(domain_of(key), needs->nparts))
        return 0;
    return 1;
}

static int put_part(struct buf *out, const char *s, size_t len, ldap_quote_fn quote)
{
    char *copy;
    int rc;

    if (quote == NULL)
        return buf_append(out, s, len);
    copy = xstrndup(s, len);
    rc = quote(out, copy);
    free(copy);
    return rc;
}

int ldap_expand(const struct ldap_tmpl_needs *needs, const char *tmpl,
                const char *value, const char *key, struct buf *out,
                ldap_quote_fn quote)
{
    struct ldap_tmpl_needs own = { 0, 0 };
    struct buf ignore = BUF_INIT;
    const char *k = key ? key : value;
    const char *vdom, *kdom;
    size_t start = out->len;
    int rc = 0;

    /* What this template needs, together with the table's other templates. */
    if (ldap_tmpl_check(tmpl, key == NULL, &own, &ignore) < 0) {
        buf_free(&ignore);
        return 0;
    }
    buf_free(&ignore);
    if (needs) {
        own.flags |= needs->flags;
        if (needs->nparts > own.nparts)
            own.nparts = needs->nparts;
    }
    if (key != NULL && !has_parts(value, own.flags & LDAP_NEED_VALUE_USER,
                                  own.flags & LDAP_NEED_VALUE_DOMAIN))
        return 0;
    if (!ldap_key_usable(&own, k))
        return 0;
    vdom = domain_of(value);
    kdom = domain_of(k);

    for (const char *p = tmpl; *p && rc == 0; p++) {
        const char *part = NULL, *s;
        size_t len = 0;

        if (*p != '%') {
            rc = buf_putc(out, *p);
            continue;
        }
        switch (*++p) {
        case '%':
            rc = buf_putc(out, '%');
            continue;
        case 's':
            part = value, len = strlen(value);
            break;
        case 'S':
            part = k, len = strlen(k);
            break;
        case 'u':
            part = value, len = vdom ? (size_t)(vdom - 1 - value) : strlen(value);
            break;
        case 'U':
            part = k, len = kdom ? (size_t)(kdom - 1 - k) : strlen(k);
            break;
        case 'd':
            if (vdom == NULL)   /* checked above; keep the compiler sure */
                return 0;
            part = vdom, len = strlen(vdom);
            break;
        case 'D':
            if (kdom == NULL)
                return 0;
            part = kdom, len = strlen(kdom);
            break;
        default:            /* '1'..'9', checked by ldap_key_usable() */
            if (kdom == NULL || !domain_label(kdom, *p - '0', &s, &len)) {
                buf_truncate(out, start);
                return 0;
            }
            part = s;
            break;
        }
        rc = put_part(out, part, len, quote);
    }
    if (rc < 0) {
        buf_truncate(out, start);
        return -1;
    }
    return 1;
}

int ldap_domain_match(char *const *items, const char *key,
                      ldap_domain_table_fn table, void *arg)
{
    const char *dom = domain_of(key);

    if (dom == NULL || *dom == 0 || dom == key + 1)
        return 0;
    for (size_t i = 0; items && items[i]; i++) {
        const char *item = items[i];
        int negate = 0, hit;

        while (*item == '!') {
            negate = !negate;
            item++;
        }
        if (strchr(item, ':') != NULL) {
            if (table == NULL)
                return -1;
            if ((hit = table(arg, i, dom)) < 0)
                return -1;
        } else {
            hit = strcasecmp(item, dom) == 0;
        }
        if (hit)
            return !negate;
    }
    return 0;
}
