/*
 * dict_cidr - cidr:/path, Postfix's cidr_table(5):
 *
 *   network/prefix   result      (IPv4 or IPv6; "[...]" around the
 *   address          result       address, or address/prefix, allowed)
 *   !network/prefix  result      the key is NOT in the network
 *   if network/prefix            the rules up to the matching endif
 *   if !network/prefix           apply only when the key is (not) in it
 *   endif
 *
 * Rules are tried in order, the first that matches answers. A rule (or
 * if) only ever matches keys of its own address family, negated or not,
 * as in Postfix: "::ffff:1.2.3.4" is an IPv6 key and matches IPv6 rules
 * only. A network with bits set beyond its prefix, a prefix that is not
 * a number up to 32 (IPv4) or 128 (IPv6), a bad address (zone ids such as
 * fe80::1%eth0 included), a missing result and unbalanced if/endif are
 * errors naming file and line; all are reported and the open fails.
 *
 * Keys are address strings as inet_pton(3) reads them; any other key is
 * DICT_NOTFOUND.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "logical_line.h"
#include "mem.h"
#include "pattern_table.h"

#define IS_ALNUM(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') \
                     || ((c) >= '0' && (c) <= '9'))

enum { OP_MATCH, OP_IF, OP_ENDIF };

struct cidr_rule {
    int op;
    int line;
    int match;                  /* 1: key in network; 0: key not in it */
    int family;                 /* AF_INET, AF_INET6 */
    unsigned char net[16], mask[16];
    size_t endif;               /* OP_IF: index of its endif */
    char *value;
};

struct cidr {
    struct dict dict;           /* must be first */
    struct cidr_rule *rules;
    size_t n, cap;
};

struct cidr_parse {
    struct cidr *t;
    const char *name;
    struct buf *err;
    int errors;
    size_t *stack;
    size_t depth, stack_cap;
};

static size_t addr_len(int family)
{
    return family == AF_INET6 ? 16 : 4;
}

/* Does addr (of family) match rule r, before negation? */
static int in_net(const struct cidr_rule *r, const unsigned char *addr)
{
    for (size_t i = 0; i < addr_len(r->family); i++)
        if ((addr[i] & r->mask[i]) != r->net[i])
            return 0;
    return 1;
}

#define PERR(ps, line, ...) lline_error((ps)->err, &(ps)->errors, (ps)->name, line, __VA_ARGS__)

/* Parse "[!...]addr[/len]" (a copy of the token) into r. */
static int parse_net(struct cidr_parse *ps, int line, const char *token, struct cidr_rule *r)
{
    char *copy = xstrdup(token), *p = copy, *addr, *slash, *close;
    size_t bits, prefix = 0, nbytes;
    int rc = -1;

    r->match = 1;
    for (; *p == '!'; p++)
        r->match = !r->match;
    if (*p == 0) {
        PERR(ps, line, "missing address pattern");
        goto out;
    }
    addr = p;
    if (*p == '[') {
        addr = ++p;
        if ((close = strchr(p, ']')) == NULL) {
            PERR(ps, line, "missing \"]\" after \"[%.60s\"", p);
            goto out;
        }
        *close = 0;
        if (close[1] != 0 && close[1] != '/') {
            PERR(ps, line, "garbage after \"[%.60s]\"", addr);
            goto out;
        }
        if (close[1] == '/') {
            /* [addr]/len: make it addr/len */
            memmove(close, close + 1, strlen(close + 1) + 1);
        }
    }
    r->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    bits = addr_len(r->family) * 8;
    nbytes = addr_len(r->family);
    if ((slash = strchr(addr, '/')) != NULL) {
        const char *m = slash + 1;

        *slash = 0;
        if (*m == 0 || strspn(m, "0123456789") != strlen(m)) {
            PERR(ps, line, "bad prefix length in \"%.60s/%.20s\"", addr, m);
            goto out;
        }
        for (; *m; m++) {
            prefix = prefix * 10 + (size_t)(*m - '0');
            if (prefix > bits)
                break;
        }
        if (prefix > bits) {
            PERR(ps, line, "prefix length in \"%.60s/%.20s\" is more than %zu", addr,
                 slash + 1, bits);
            goto out;
        }
    } else {
        prefix = bits;
    }
    if (inet_pton(r->family, addr, r->net) != 1) {
        PERR(ps, line, "bad %s address \"%.80s\"", r->family == AF_INET6 ? "IPv6" : "IPv4",
             addr);
        goto out;
    }
    memset(r->mask, 0, sizeof(r->mask));
    for (size_t i = 0; i < nbytes; i++) {
        size_t have = prefix > i * 8 ? prefix - i * 8 : 0;

        r->mask[i] = have >= 8 ? 0xff : (unsigned char)(0xff << (8 - have)) & 0xff;
        if (have == 0)
            r->mask[i] = 0;
    }
    for (size_t i = 0; i < nbytes; i++) {
        if (r->net[i] & ~r->mask[i]) {
            char fixed[INET6_ADDRSTRLEN];
            unsigned char net[16];

            for (size_t j = 0; j < nbytes; j++)
                net[j] = r->net[j] & r->mask[j];
            if (inet_ntop(r->family, net, fixed, sizeof(fixed)) == NULL)
                strcpy(fixed, "?");
            PERR(ps, line, "non-null host address bits in \"%.60s/%zu\", perhaps you should"
                 " use \"%s/%zu\" instead", addr, prefix, fixed, prefix);
            goto out;
        }
    }
    rc = 0;
out:
    free(copy);
    return rc;
}

static struct cidr_rule *new_rule(struct cidr *t)
{
    struct cidr_rule *r;

    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->rules = xreallocarray(t->rules, t->cap, sizeof(*t->rules));
    }
    r = &t->rules[t->n++];
    memset(r, 0, sizeof(*r));
    return r;
}

static int keyword(const char *p, const char *kw)
{
    size_t n = strlen(kw);

    return strncasecmp(p, kw, n) == 0 && !IS_ALNUM(p[n]);
}

static char *skip_space(char *p)
{
    while (LLINE_SPACE(*p))
        p++;
    return p;
}

static int cidr_line(char *line, size_t len, int lineno, void *arg)
{
    struct cidr_parse *ps = arg;
    struct cidr_rule tmp, *r;
    char *p = line, *tok;

    (void)len;
    memset(&tmp, 0, sizeof(tmp));
    if (keyword(p, "endif")) {
        p = skip_space(p + 5);
        if (*p)
            PERR(ps, lineno, "text after \"endif\"");
        else if (ps->depth == 0)
            PERR(ps, lineno, "endif without a matching if");
        else {
            r = new_rule(ps->t);
            r->op = OP_ENDIF;
            r->line = lineno;
            ps->t->rules[ps->stack[--ps->depth]].endif = ps->t->n - 1;
        }
        return 0;
    }
    if (keyword(p, "if")) {
        int ok;

        tok = p = skip_space(p + 2);
        while (*p && !LLINE_SPACE(*p))
            p++;
        if (*p)
            *p++ = 0;
        p = skip_space(p);
        /* A bad if still opens a block, so that its endif is no further error. */
        ok = parse_net(ps, lineno, tok, &tmp) == 0;
        if (ok && *p)
            PERR(ps, lineno, "text after the network of \"if\" (lines between if and endif"
                 " must not start with white space)");
        r = new_rule(ps->t);
        *r = tmp;
        r->op = OP_IF;
        r->line = lineno;
        if (ps->depth == ps->stack_cap) {
            ps->stack_cap = ps->stack_cap ? ps->stack_cap * 2 : 8;
            ps->stack = xreallocarray(ps->stack, ps->stack_cap, sizeof(*ps->stack));
        }
        ps->stack[ps->depth++] = ps->t->n - 1;
        return 0;
    }
    tok = p;
    while (*p && !LLINE_SPACE(*p))
        p++;
    if (*p)
        *p++ = 0;
    p = skip_space(p);
    if (parse_net(ps, lineno, tok, &tmp) < 0)
        return 0;
    if (*p == 0) {
        PERR(ps, lineno, "no lookup result after \"%.80s\"", tok);
        return 0;
    }
    r = new_rule(ps->t);
    *r = tmp;
    r->op = OP_MATCH;
    r->line = lineno;
    r->value = xstrdup(p);
    return 0;
}

static void cidr_close(struct dict *d)
{
    struct cidr *t = (struct cidr *)d;

    for (size_t i = 0; i < t->n; i++)
        free(t->rules[i].value);
    free(t->rules);
    dict_free_common(d);
}

static int cidr_lookup(struct dict *d, const char *key, struct buf *value, struct buf *why)
{
    struct cidr *t = (struct cidr *)d;
    unsigned char addr[16];
    int family = strchr(key, ':') ? AF_INET6 : AF_INET;

    if (inet_pton(family, key, addr) != 1)
        return DICT_NOTFOUND;
    for (size_t i = 0; i < t->n; i++) {
        const struct cidr_rule *r = &t->rules[i];

        switch (r->op) {
        case OP_MATCH:
            if (r->family == family && in_net(r, addr) == r->match) {
                if (buf_puts(value, r->value) < 0) {
                    (void)buf_printf(why, "%s, line %d: result too long", d->spec, r->line);
                    return DICT_TEMPFAIL;
                }
                return DICT_FOUND;
            }
            break;
        case OP_IF:
            if (!(r->family == family && in_net(r, addr) == r->match))
                i = r->endif;
            break;
        default:
            break;
        }
    }
    return DICT_NOTFOUND;
}

static struct dict *cidr_open(const char *name, int flags, const struct config *cfg,
                              struct buf *err);

const struct dict_ops dict_cidr_ops = {
    .type = "cidr",
    .caps = DICT_CAP_PATTERN,
    .open = cidr_open,
    .lookup = cidr_lookup,
    .close = cidr_close,
};

struct dict *dict_cidr_open_text(const char *name, const char *text, size_t len,
                                 struct buf *err)
{
    struct buf spec = BUF_INIT;
    struct cidr_parse ps;
    struct cidr *t;

    (void)buf_printf(&spec, "cidr:%s", name);
    t = (struct cidr *)dict_alloc(sizeof(*t), &dict_cidr_ops, buf_str(&spec), 0);
    buf_free(&spec);
    memset(&ps, 0, sizeof(ps));
    ps.t = t;
    ps.name = name;
    ps.err = err;
    (void)lline_parse(name, text, len, PTAB_MAX_LINE, cidr_line, &ps, err, &ps.errors);
    while (ps.depth > 0)
        PERR(&ps, t->rules[ps.stack[--ps.depth]].line, "if without a matching endif");
    free(ps.stack);
    if (ps.errors > 0) {
        cidr_close(&t->dict);
        return NULL;
    }
    return &t->dict;
}

static struct dict *cidr_open(const char *name, int flags, const struct config *cfg,
                              struct buf *err)
{
    struct buf text = BUF_INIT;
    struct dict *d;

    (void)flags;
    (void)cfg;
    buf_init(&text, PTAB_MAX_FILE + 1);
    if (lline_read_file(name, PTAB_MAX_FILE, &text, err) < 0) {
        buf_free(&text);
        return NULL;
    }
    d = dict_cidr_open_text(name, buf_str(&text), text.len, err);
    buf_free(&text);
    return d;
}
