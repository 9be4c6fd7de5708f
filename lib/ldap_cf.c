/*
 * ldap_cf - read ldap.cf files (see ldap_cf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldap_cf.h"
#include "log.h"
#include "mem.h"
#include "numparse.h"

/* Every setting ldap_table(5) documents that postern reads. */
static const char *const known[] = {
    "server_host", "server_port", "search_base", "scope", "query_filter",
    "result_format", "result_filter", "result_attribute",
    "special_result_attribute", "leaf_result_attribute",
    "terminal_result_attribute", "domain", "bind", "bind_dn", "bind_pw",
    "start_tls", "tls_ca_cert_file", "tls_ca_cert_dir", "tls_cert", "tls_key",
    "tls_cipher_suite", "tls_random_file", "tls_require_cert", "version",
    "timeout", "size_limit", "expansion_limit", "recursion_limit",
    "dereference", "chase_referrals", "debuglevel", "cache", "cache_expiry",
    "cache_size",
    NULL,
};
#define NKNOWN (sizeof(known) / sizeof(known[0]) - 1)

/* Documented by Postfix, refused here. */
static const char *const unsupported[] = {
    "sasl_mechs", "sasl_realm", "sasl_authz_id", "sasl_minssf", NULL,
};

struct setting {
    char *value;                    /* NULL: not set */
    int line;
};

struct error {
    int line;
    char *text;
};

struct reader {
    const char *file;
    struct buf *err;
    int errors;
    struct error *errv;             /* sorted by line at the end */
    struct setting set[NKNOWN];
};

static void error_at(struct reader *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_at(struct reader *r, int line, const char *fmt, ...)
{
    struct buf text = BUF_INIT;
    va_list ap;

    if (line > 0)
        buf_printf(&text, "%s, line %d: ", r->file, line);
    else
        buf_printf(&text, "%s: ", r->file);
    va_start(ap, fmt);
    buf_vprintf(&text, fmt, ap);
    va_end(ap);
    r->errv = xreallocarray(r->errv, (size_t)r->errors + 1, sizeof(*r->errv));
    r->errv[r->errors].line = line;
    r->errv[r->errors].text = buf_steal(&text);
    r->errors++;
}

static int cmp_error(const void *a, const void *b)
{
    const struct error *x = a, *y = b;

    return (x->line > y->line) - (x->line < y->line);
}

/* Errors into err, by line (a stable order: insertion order breaks ties). */
static void flush_errors(struct reader *r)
{
    for (int i = 1; i < r->errors; i++) {       /* insertion sort: stable */
        struct error e = r->errv[i];
        int j = i;

        for (; j > 0 && cmp_error(&r->errv[j - 1], &e) > 0; j--)
            r->errv[j] = r->errv[j - 1];
        r->errv[j] = e;
    }
    for (int i = 0; i < r->errors; i++) {
        if (r->err->len)
            buf_putc(r->err, '\n');
        buf_puts(r->err, r->errv[i].text);
        free(r->errv[i].text);
    }
    free(r->errv);
}

static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int find_known(const char *name)
{
    for (size_t i = 0; i < NKNOWN; i++)
        if (strcmp(known[i], name) == 0)
            return (int)i;
    return -1;
}

/* One logical line "name = value" that started on line. */
static void take_line(struct reader *r, char *text, int line)
{
    char *eq = strchr(text, '='), *name = text, *value, *end;
    int idx;

    if (eq == NULL) {
        error_at(r, line, "missing '=' after \"%.100s\"", text);
        return;
    }
    for (end = eq; end > name && is_blank(end[-1]); end--)
        /* void */ ;
    *end = 0;
    for (value = eq + 1; is_blank(*value); value++)
        /* void */ ;
    for (end = value + strlen(value); end > value && is_blank(end[-1]); end--)
        /* void */ ;
    *end = 0;
    if (*name == 0) {
        error_at(r, line, "missing setting name before '='");
        return;
    }
    if ((idx = find_known(name)) < 0) {
        for (const char *const *u = unsupported; *u; u++)
            if (strcmp(*u, name) == 0) {
                error_at(r, line, "setting \"%s\" is not supported (no SASL binds)", name);
                return;
            }
        error_at(r, line, "unknown setting \"%.100s\"", name);
        return;
    }
    free(r->set[idx].value);
    r->set[idx].value = xstrdup(value);
    r->set[idx].line = line;
}

/* Split text into logical lines the way main.cf is read. */
static void read_lines(struct reader *r, const char *text, size_t len)
{
    struct buf logical = BUF_INIT;
    int logical_line = 0, lineno = 0;
    size_t pos = 0;

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - text) - pos : len - pos, k;
        const char *p = text + pos;

        lineno++;
        pos += n + (nl != NULL);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (memchr(p, 0, n) != NULL) {
            error_at(r, lineno, "NUL byte in line");
            continue;
        }
        for (k = 0; k < n && is_blank(p[k]); k++)
            /* void */ ;
        if (k == n || p[k] == '#')
            continue;
        if (k > 0 && logical_line > 0) {
            buf_append(&logical, p, n);
            continue;
        }
        if (k > 0) {
            error_at(r, lineno, "continuation line without a setting before it");
            continue;
        }
        if (logical_line > 0)
            take_line(r, logical.data, logical_line);
        buf_reset(&logical);
        buf_append(&logical, p, n);
        logical_line = lineno;
    }
    if (logical_line > 0)
        take_line(r, logical.data, logical_line);
    buf_free(&logical);
}

/* Split a list on commas and white space. */
static char **split_list(const char *value)
{
    size_t n = 0;
    char **v = xcalloc(1, sizeof(*v));

    while (*value) {
        size_t len;

        while (*value && (is_blank(*value) || *value == ','))
            value++;
        len = strcspn(value, ", \t\r\n\v\f");
        if (len == 0)
            break;
        v = xreallocarray(v, n + 2, sizeof(*v));
        v[n++] = xstrndup(value, len);
        v[n] = NULL;
        value += len;
    }
    return v;
}

static void free_list(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static struct setting *get(struct reader *r, const char *name)
{
    int i = find_known(name);

    return r->set[i].value ? &r->set[i] : NULL;
}

static int line_of(struct reader *r, const char *name)
{
    struct setting *s = get(r, name);

    return s ? s->line : 0;
}

static char *get_str(struct reader *r, const char *name, const char *def)
{
    struct setting *s = get(r, name);

    return xstrdup(s ? s->value : def);
}

static long get_long(struct reader *r, const char *name, long def, long min, long max)
{
    struct setting *s = get(r, name);
    long v = def;

    if (s && parse_long(s->value, min, max, &v) < 0)
        error_at(r, s->line, "%s: bad value \"%.100s\" (a number from %ld to %ld)",
                 name, s->value, min, max);
    return v;
}

static int get_bool(struct reader *r, const char *name, int def)
{
    struct setting *s = get(r, name);
    int v = def;

    if (s && parse_bool(s->value, &v) < 0)
        error_at(r, s->line, "%s: bad value \"%.100s\" (yes or no)", name, s->value);
    return v;
}

/* Turn one server_host item into an LDAP URL. */
static char *server_url(struct reader *r, const char *item, int port, int line)
{
    struct buf url = BUF_INIT;
    LDAPURLDesc *desc = NULL;
    int rc;

    if (ldap_is_ldap_url(item) || strncasecmp(item, "ldapi://", 8) == 0
        || strncasecmp(item, "ldaps://", 8) == 0) {
        if ((rc = ldap_url_parse(item, &desc)) != LDAP_URL_SUCCESS) {
            error_at(r, line, "server_host: bad LDAP URL \"%.200s\" (error %d)", item, rc);
            return NULL;
        }
        if (desc->lud_dn && *desc->lud_dn)
            msg_warn("%s, line %d: server_host: the DN in \"%.200s\" is ignored; "
                     "use search_base", r->file, line, item);
        ldap_free_urldesc(desc);
        return xstrdup(item);
    }
    if (strchr(item, '/') != NULL || *item == ':') {
        error_at(r, line, "server_host: bad host name \"%.200s\"", item);
        return NULL;
    }
    if (strchr(item, ':') != NULL)
        buf_printf(&url, "ldap://%s", item);
    else
        buf_printf(&url, "ldap://%s:%d", item, port);
    if (ldap_url_parse(buf_str(&url), &desc) != LDAP_URL_SUCCESS) {
        error_at(r, line, "server_host: bad host name \"%.200s\"", item);
        buf_free(&url);
        return NULL;
    }
    ldap_free_urldesc(desc);
    return buf_steal(&url);
}

static void interpret(struct reader *r, struct ldap_cf *cf)
{
    struct setting *s;
    struct buf why = BUF_INIT;
    char **hosts;
    size_t n = 0;
    int rc;

    cf->server_port = (int)get_long(r, "server_port", LDAP_PORT, 1, 65535);
    cf->version = (int)get_long(r, "version", 3, 2, 3);

    /* server_host: a list of URLs and host[:port] names. */
    s = get(r, "server_host");
    hosts = split_list(s ? s->value : "localhost");
    cf->server_urls = xcalloc(1, sizeof(char *));
    for (char **h = hosts; *h; h++) {
        char *url = server_url(r, *h, cf->server_port, s ? s->line : 0);

        if (url == NULL)
            continue;
        cf->server_urls = xreallocarray(cf->server_urls, n + 2, sizeof(char *));
        cf->server_urls[n++] = url;
        cf->server_urls[n] = NULL;
    }
    if (hosts[0] == NULL)
        error_at(r, s ? s->line : 0, "server_host: no server given");
    free_list(hosts);

    /* Templates. */
    cf->search_base = get_str(r, "search_base", "");
    cf->query_filter = get_str(r, "query_filter", "(mailacceptinggeneralid=%s)");
    if ((s = get(r, "result_format")) == NULL)
        s = get(r, "result_filter");
    cf->result_format = xstrdup(s ? s->value : "%s");

    s = get(r, "search_base");
    if ((rc = ldap_tmpl_check(cf->search_base, 1, &cf->needs, &why)) < 0)
        error_at(r, s ? s->line : 0, "search_base: %s", buf_str(&why));
    cf->dynamic_base = rc > 0;
    buf_reset(&why);
    s = get(r, "query_filter");
    if ((rc = ldap_tmpl_check(cf->query_filter, 1, &cf->needs, &why)) < 0)
        error_at(r, s ? s->line : 0, "query_filter: %s", buf_str(&why));
    cf->fixed_filter = rc == 0;
    if (*cf->query_filter == 0)
        error_at(r, s ? s->line : 0, "query_filter: empty");
    buf_reset(&why);
    if ((s = get(r, "result_format")) == NULL)
        s = get(r, "result_filter");
    if (ldap_tmpl_check(cf->result_format, 0, &cf->needs, &why) < 0)
        error_at(r, s ? s->line : 0, "result_format: %s", buf_str(&why));
    buf_free(&why);

    /* scope */
    if ((s = get(r, "scope")) == NULL || strcasecmp(s->value, "sub") == 0)
        cf->scope = LDAP_CF_SCOPE_SUB;
    else if (strcasecmp(s->value, "one") == 0)
        cf->scope = LDAP_CF_SCOPE_ONE;
    else if (strcasecmp(s->value, "base") == 0)
        cf->scope = LDAP_CF_SCOPE_BASE;
    else
        error_at(r, s->line, "scope: bad value \"%.100s\" (sub, one or base)", s->value);

    /* Attributes and domains. */
    s = get(r, "result_attribute");
    cf->result_attributes = split_list(s ? s->value : "maildrop");
    s = get(r, "special_result_attribute");
    cf->special_result_attributes = split_list(s ? s->value : "");
    s = get(r, "leaf_result_attribute");
    cf->leaf_result_attributes = split_list(s ? s->value : "");
    s = get(r, "terminal_result_attribute");
    cf->terminal_result_attributes = split_list(s ? s->value : "");
    if (!cf->result_attributes[0] && !cf->special_result_attributes[0]
        && !cf->leaf_result_attributes[0] && !cf->terminal_result_attributes[0])
        error_at(r, (s = get(r, "result_attribute")) ? s->line : 0,
                 "result_attribute: no result attributes");
    s = get(r, "domain");
    cf->domains = split_list(s ? s->value : "");

    /* bind */
    if ((s = get(r, "bind")) == NULL)
        cf->bind = 1;
    else if (strcasecmp(s->value, "sasl") == 0)
        error_at(r, s->line, "bind: SASL binds are not supported");
    else if (strcasecmp(s->value, "simple") == 0)
        cf->bind = 1;
    else if (strcasecmp(s->value, "none") == 0)
        cf->bind = 0;
    else if (parse_bool(s->value, &cf->bind) < 0)
        error_at(r, s->line, "bind: bad value \"%.100s\" (yes or no)", s->value);
    cf->bind_dn = get_str(r, "bind_dn", "");
    cf->bind_pw = get_str(r, "bind_pw", "");

    /* TLS */
    cf->start_tls = get_bool(r, "start_tls", 0);
    cf->tls_require_cert = get_bool(r, "tls_require_cert", 0);
    cf->tls_ca_cert_file = get_str(r, "tls_ca_cert_file", "");
    cf->tls_ca_cert_dir = get_str(r, "tls_ca_cert_dir", "");
    cf->tls_cert = get_str(r, "tls_cert", "");
    cf->tls_key = get_str(r, "tls_key", "");
    cf->tls_cipher_suite = get_str(r, "tls_cipher_suite", "");
    cf->tls_random_file = get_str(r, "tls_random_file", "");
    if (cf->start_tls && cf->version < 3)
        error_at(r, line_of(r, "version"), "version: start_tls needs version 3");
    for (char **u = cf->server_urls; *u; u++)
        if (strncasecmp(*u, "ldap://", 7) != 0 && cf->version < 3)
            error_at(r, line_of(r, "version"), "version: %.200s needs version 3", *u);

    /* Limits and the rest. */
    if ((s = get(r, "timeout")) == NULL)
        cf->timeout = 10;
    else if (parse_time(s->value, 's', &cf->timeout) < 0 || cf->timeout < 1
             || cf->timeout > 86400)
        error_at(r, s->line, "timeout: bad value \"%.100s\" (a time from 1s to 1d)",
                 s->value);
    cf->expansion_limit = get_long(r, "expansion_limit", 0, 0, 1000000000L);
    cf->size_limit = get_long(r, "size_limit", cf->expansion_limit, 0, 1000000000L);
    cf->recursion_limit = get_long(r, "recursion_limit", 1000, 1, 1000000L);
    cf->dereference = (int)get_long(r, "dereference", 0, 0, 3);
    cf->chase_referrals = get_bool(r, "chase_referrals", 0);
    cf->debuglevel = (int)get_long(r, "debuglevel", 0, 0, 0x7fffffffL);
    if (get_bool(r, "cache", 0))
        msg_warn("%s: cache is not supported, ignored", r->file);
    if (get(r, "cache_expiry"))
        msg_warn("%s: cache_expiry is not supported, ignored", r->file);
    if (get(r, "cache_size"))
        msg_warn("%s: cache_size is not supported, ignored", r->file);
}

int ldap_cf_parse(const char *name, const char *text, size_t len, struct ldap_cf *cf,
                  struct buf *err)
{
    struct reader r;

    memset(&r, 0, sizeof(r));
    memset(cf, 0, sizeof(*cf));
    r.file = name;
    r.err = err;
    read_lines(&r, text, len);
    cf->file = xstrdup(name);
    interpret(&r, cf);
    for (size_t i = 0; i < NKNOWN; i++)
        free(r.set[i].value);
    flush_errors(&r);
    if (r.errors) {
        ldap_cf_free(cf);
        return -1;
    }
    return 0;
}

int ldap_cf_load(const char *path, struct ldap_cf *cf, struct buf *err)
{
    struct buf text = BUF_INIT;
    char chunk[8192];
    ssize_t n;
    int fd, rc;

    memset(cf, 0, sizeof(*cf));
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        buf_printf(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    buf_init(&text, LDAP_CF_MAX_FILE);
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            buf_printf(err, "read %s: %s", path, strerror(errno));
            break;
        }
        if (buf_append(&text, chunk, (size_t)n) < 0) {
            buf_printf(err, "%s: file larger than %d bytes", path, LDAP_CF_MAX_FILE);
            n = -1;
            break;
        }
    }
    close(fd);
    rc = n < 0 ? -1 : ldap_cf_parse(path, text.data ? text.data : "", text.len, cf, err);
    buf_free(&text);
    return rc;
}

void ldap_cf_free(struct ldap_cf *cf)
{
    free(cf->file);
    free_list(cf->server_urls);
    free(cf->search_base);
    free(cf->query_filter);
    free(cf->result_format);
    free_list(cf->result_attributes);
    free_list(cf->special_result_attributes);
    free_list(cf->leaf_result_attributes);
    free_list(cf->terminal_result_attributes);
    free_list(cf->domains);
    free(cf->bind_dn);
    if (cf->bind_pw)
        memset(cf->bind_pw, 0, strlen(cf->bind_pw));
    free(cf->bind_pw);
    free(cf->tls_ca_cert_file);
    free(cf->tls_ca_cert_dir);
    free(cf->tls_cert);
    free(cf->tls_key);
    free(cf->tls_cipher_suite);
    free(cf->tls_random_file);
    memset(cf, 0, sizeof(*cf));
}
